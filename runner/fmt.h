/*
 * fmt.h - human output of the skm CLI: aligned tables and "key: value"
 * blocks over a libskm query cursor, with every cell made safe to print.
 */
#ifndef SKM_FMT_H
#define SKM_FMT_H

#include <stddef.h>
#include <stdio.h>

struct skm_cursor;

/* Widest cell of a table, in terminal columns; longer cells are cut. */
#define FMT_CELL_MAX 60

/*
 * fmt_safe - a printable copy of s for the terminal: control characters,
 * C1 controls, bidirectional overrides and invalid UTF-8 become '?', so no
 * escape sequence gets through.  If maxw > 0 and s is wider than maxw
 * columns, it is cut to maxw columns ending in an ellipsis.  *width (if
 * not NULL) gets the display width of the result.  Returns a malloc'd
 * string, or NULL when out of memory.
 */
char *fmt_safe(const char *s, int maxw, int *width);

/* A duration in seconds as "350ms", "1.2s", "2m03s" or "1h02m". */
void fmt_duration(double secs, char *buf, size_t size);

/* The short table header of a column name ("total_invocations": "runs"),
 * or the name itself. */
const char *fmt_header(const char *name);

/*
 * fmt_cell - column col of the cursor's current row formatted by its name:
 * *_seconds as durations, *rate* as percentages, NULL as "-", an empty
 * text as "" (two quotes), text made safe and cut to maxw columns (0:
 * never cut).  Returns a malloc'd string
 * or NULL when out of memory.
 */
char *fmt_cell(const struct skm_cursor *c, int col, int maxw);

/*
 * fmt_table - step through every row of c and print them on fp as an
 * aligned table under a header row; numbers are right-aligned.  When there
 * are no rows, prints empty (if not NULL) instead of the header.  Returns
 * the number of rows, or -1 when the cursor failed (see skm_errmsg) or
 * memory ran out (errno set).
 */
long fmt_table(FILE *fp, struct skm_cursor *c, const char *empty);

/*
 * fmt_record - print the current row of c (already stepped) on fp as
 * "name: value" lines with the values aligned, leaving out the columns
 * named in skip (a NULL-terminated list, or NULL).  Returns 0, or -1 when
 * memory ran out.
 */
int fmt_record(FILE *fp, const struct skm_cursor *c, const char *const *skip);

/*
 * fmt_sparkline - print the n counts v on fp as one line of block
 * characters (U+2581..U+2588), the largest as a full block; zero is the
 * lowest block and any non-zero count at least the second.
 */
void fmt_sparkline(FILE *fp, const long long *v, size_t n);

#endif /* SKM_FMT_H */
