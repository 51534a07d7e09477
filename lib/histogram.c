/*
 * histogram.c - how one skill's completed durations spread, in bins:
 * the duration histogram of `skm report`.
 *
 * Durations span orders of magnitude (a cached 80 ms run, a cold 40 s
 * one), so the bins are equal on a log scale between the shortest and
 * the longest duration.  The bounds come from the ends of the
 * (skill_name, completed, duration_seconds) index; the counting is one
 * GROUP BY over the same index, the bin of each duration computed by a
 * small SQL function defined here from bound parameters.
 */
#include <math.h>
#include <string.h>

#include "skm-int.h"

#define LOG_FLOOR 0.001		/* durations below 1 ms share the first bin */

/* skm_hist_bin(d, lo, hi, n): the bin (0..n-1) of d on a log scale
 * from lo to hi. */
static void
bin_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	double d = sqlite3_value_double(argv[0]);
	double lo = sqlite3_value_double(argv[1]);
	double hi = sqlite3_value_double(argv[2]);
	int n = sqlite3_value_int(argv[3]), b;

	(void)argc;
	if (d < LOG_FLOOR)
		d = LOG_FLOOR;
	if (n <= 1 || hi <= lo || d <= lo)
		b = 0;
	else
		b = (int)floor((log(d) - log(lo)) / (log(hi) - log(lo)) * n);
	sqlite3_result_int(ctx, b < 0 ? 0 : b >= n ? n - 1 : b);
}

int
skm_histogram(struct skm_db *db, const char *skill, int nbins,
    double *edges, long long *counts)
{
	static const char range_sql[] =
	    "SELECT min(duration_seconds), max(duration_seconds) "
	    "FROM invocation WHERE skill_name = ?1 AND completed = 1 "
	    "AND duration_seconds IS NOT NULL";
	static const char count_sql[] =
	    "SELECT skm_hist_bin(duration_seconds, ?2, ?3, ?4), count(*) "
	    "FROM invocation WHERE skill_name = ?1 AND completed = 1 "
	    "AND duration_seconds IS NOT NULL GROUP BY 1";
	sqlite3_stmt *st;
	double lo, hi;
	int rc, src, i, b;

	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (skill == NULL || nbins < 1 || nbins > 1000 || edges == NULL ||
	    counts == NULL)
		return skm__store_fail(db, SKM_MISUSE, "histogram: bad arguments");
	memset(counts, 0, (size_t)nbins * sizeof(*counts));
	for (i = 0; i <= nbins; i++)
		edges[i] = 0;
	if ((rc = skm__store_prepare(db, range_sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		sqlite3_reset(st);
		return skm__store_sqlfail(db, src, "histogram");
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return SKM_OK;		/* nothing completed: all zero */
	}
	lo = sqlite3_column_double(st, 0);
	hi = sqlite3_column_double(st, 1);
	sqlite3_reset(st);
	if (lo < LOG_FLOOR)
		lo = LOG_FLOOR;
	if (hi < lo)
		hi = lo;
	for (i = 0; i <= nbins; i++)
		edges[i] = hi > lo ? exp(log(lo) + (log(hi) - log(lo)) * i /
		    nbins) : lo;
	edges[nbins] = hi;
	/* SQLITE_BUSY: it is defined already and a statement (a caller's
	 * open cursor) is running, so it cannot be redefined: fine. */
	src = sqlite3_create_function(db->conn, "skm_hist_bin", 4,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    bin_fn, NULL, NULL);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		return skm__store_sqlfail(db, src, "histogram");
	if ((src = sqlite3_prepare_v2(db->conn, count_sql, -1, &st, NULL)) !=
	    SQLITE_OK)
		return skm__store_sqlfail(db, src, "histogram");
	sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, lo);
	sqlite3_bind_double(st, 3, hi);
	sqlite3_bind_int(st, 4, nbins);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		b = sqlite3_column_int(st, 0);
		if (b >= 0 && b < nbins)
			counts[b] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src,
	    "histogram");
}
