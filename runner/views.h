/*
 * views.h - the skm CLI's larger views, each in its own file: the trace
 * tree (cmd-trace.c) and the HTML report (cmd-report.c).  Each returns a
 * libskm status; on failure skm_errmsg(db) says why.
 */
#ifndef SKM_VIEWS_H
#define SKM_VIEWS_H

#include <stdio.h>

#include "skm.h"

/*
 * trace_print - the trace of id (an id, a unique prefix of one, or NULL
 * for the latest run that nothing else started) as an indented tree on
 * fp, with bars fitted to a line of width columns.
 */
int trace_print(FILE *fp, struct skm_db *db, const char *id, int width);

/* What a report covers. */
struct report_opts {
	const char *since;	/* the timelines' start: "30d", a timestamp */
	const char *bucket;	/* their bucket: minute, hour, day, week */
	const char *why;	/* out: why a SKM_MISUSE, when not skm_errmsg */
};

/*
 * report_write - the whole HTML page (see cmd-report.c) on fp, from the
 * store's queries.  SKM_MISUSE for a bad since or bucket, or too many
 * buckets for a chart (then o->why says so).
 */
int report_write(FILE *fp, struct skm_db *db, struct report_opts *o);

#endif /* SKM_VIEWS_H */
