/*
 * record.h - recording a run into the journal: what skm-run, the shim and
 * the in-process hooks share.  No SQLite, no libbsd, no heap: the shim
 * links these objects directly and calls them from its constructor and
 * its exit paths (signal handlers included).
 */
#ifndef SKM_RECORD_H
#define SKM_RECORD_H

#include <limits.h>
#include <stdint.h>

#include "event.h"
#include "journal.h"

struct skm_begin_info;
struct skm_end_info;

/* One run being recorded. */
struct skm__rec {
	char id[37];            /* the invocation's id */
	int64_t invoked_us;
	double mono_start;
	int crossed;            /* an append took the journal past the
	                           fold threshold */
	/* Last: its buffers (see journal.h).  The store's absolute path
	 * waits in j.dir from skm__rec_start to skm__rec_open, which makes
	 * it the journal's; skm__jnl_store() gives it back.  Not a buffer
	 * of its own: a run's small fields, the journal's and its directory
	 * then lie on one page, not two 4 KiB apart (each a page fault). */
	struct skm__jnl j;
};

/*
 * skm__rec_path - the store's path: dbpath if given, else $SKM_DB, else
 * $XDG_DATA_HOME/skm/metrics.db, else ~/.local/share/skm/metrics.db; made
 * absolute against the working directory.  Returns 0 or -1.
 */
int skm__rec_path(char *buf, size_t size, const char *dbpath);

/* Start recording a run now into the store at dbpath (NULL: the default,
 * as skm__rec_path): its id, wall-clock and monotonic start.  Returns 0
 * or -1 (no path; r->j.why says why).  skm__rec_start and skm__rec_open
 * are its two halves: skm-run starts before its fork, and finds the
 * journal (a readlink, maybe a getcwd) while the command execs. */
int skm__rec_init(struct skm__rec *r, const char *dbpath);
int skm__rec_start(struct skm__rec *r, const char *dbpath);
int skm__rec_open(struct skm__rec *r);

/* Fill ev as the BEGIN of r's run, described by bi (whose strings ev
 * then points to).  The command is cut, on a character boundary, just
 * past SKM_COMMAND_MAX bytes (the fold marks it cut). */
void skm__rec_begin_event(const struct skm__rec *r, struct skm__event *ev,
    const struct skm_begin_info *bi);

/* Fill ev as the END of the run with id (now), as ei says.  Follow-ups
 * past SKM__EV_FOLLOW_MAX are dropped. */
void skm__rec_end_event(const char *id, struct skm__event *ev,
    const struct skm_end_info *ei);

/* Append ev to r's journal through buf (cap bytes).  Returns 0 or -1
 * (r->j.why says why). */
int skm__rec_append(struct skm__rec *r, const struct skm__event *ev,
    unsigned char *buf, size_t cap);

/* NULL when bi describes a run that can be recorded, else why not: a
 * skill name must be 1..SKM_NAME_MAX bytes of UTF-8 without control
 * characters; workflow, session and project at most SKM_FIELD_MAX. */
const char *skm__begin_info_error(const struct skm_begin_info *bi);

/* This host's name and boot id, read once ("" when unknown). */
const char *skm__host(void);
const char *skm__boot_id(void);

/* The start time of process pid (clock ticks after boot, field 22 of
 * /proc/PID/stat) and, if state is not NULL, its state letter; -1 when
 * there is no such process. */
long long skm__pid_start(long long pid, char *state);

#endif /* SKM_RECORD_H */
