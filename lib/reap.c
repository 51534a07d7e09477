/*
 * reap.c - `skm reap`: end the invocations whose process is gone.
 *
 * A process killed with SIGKILL (or a machine that lost power) never ends
 * its invocation, which then stays "running" and is counted nowhere.  An
 * invocation of this host is abandoned when its boot is over, when its pid
 * is gone (or a zombie), or when the pid now belongs to a process started
 * at another time than the one recorded at begin (/proc/PID/stat field 22,
 * clock ticks after boot: pids are reused, start times within a boot are
 * not).  Invocations of other hosts cannot be looked at; `older_than`
 * reaps those (and ones of this host with no pid) once they are that old.
 *
 * Each is ended through skm_end_id(), the same transaction as any other
 * end, as not completed with error_type "abandoned": an invocation that
 * ends normally at the same moment is ended once, by whoever comes first.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skm-int.h"
#include "record.h"
#include "timeparse.h"

/* A running invocation as read before deciding its fate. */
struct cand {
	char *id, *skill;
};

/*
 * is_gone - 1 when the invocation's process is certainly gone, 0 when it
 * runs, -1 when this host cannot tell (another host, no pid).
 */
static int
is_gone(sqlite3_stmt *st)
{
	const char *host = (const char *)sqlite3_column_text(st, 2);
	const char *boot = (const char *)sqlite3_column_text(st, 5);
	long long start;
	char state = '?';

	if (host == NULL || strcmp(host, skm__util_hostname()) != 0)
		return -1;
	if (boot != NULL && *boot != '\0' && *skm__util_boot_id() != '\0' &&
	    strcmp(boot, skm__util_boot_id()) != 0)
		return 1;	/* begun before the last boot */
	if (sqlite3_column_type(st, 3) == SQLITE_NULL)
		return -1;
	start = skm__pid_start(sqlite3_column_int64(st, 3), &state);
	if (start < 0 || state == 'Z' || state == 'X')
		return 1;
	if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
	    sqlite3_column_int64(st, 4) != start)
		return 1;	/* the pid was reused */
	return 0;
}

static void
free_cands(struct cand *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].id);
		free(c[i].skill);
	}
	free(c);
}

/* Read the running invocations and decide which to reap. */
static int
candidates(struct skm_db *db, long long older_than, struct cand **out,
    size_t *nout)
{
	static const char sql[] =
	    "SELECT skm_uuid(id), skill_name, host, pid, pid_start, "
	    "skm_uuid(boot_id), ((julianday('now') - 2440587.5) * 86400000.0 "
	    "- invoked_at) / 1000.0 FROM invocation WHERE ended_at IS NULL "
	    "ORDER BY invoked_at";
	struct cand *c = NULL, *nc;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, src, g;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		g = is_gone(st);
		if (g == 0 || (g < 0 && (older_than <= 0 ||
		    sqlite3_column_double(st, 6) < (double)older_than)))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nc = reallocarray(c, cap, sizeof(*c))) == NULL)
				goto nomem;
			c = nc;
		}
		c[n].id = strdup((const char *)sqlite3_column_text(st, 0));
		c[n].skill = strdup((const char *)sqlite3_column_text(st, 1));
		n++;
		if (c[n - 1].id == NULL || c[n - 1].skill == NULL)
			goto nomem;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE) {
		free_cands(c, n);
		return skm__store_sqlfail(db, src, "reap");
	}
	*out = c;
	*nout = n;
	return SKM_OK;
nomem:
	sqlite3_reset(st);
	free_cands(c, n);
	return skm__store_fail(db, SKM_NOMEM, "reap: out of memory");
}

int
skm_reap(struct skm_db *db, const char *older_than,
    void (*cb)(void *arg, const char *id, const char *skill), void *arg,
    int *nreaped)
{
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct cand *c = NULL;
	size_t n = 0, i;
	long long secs = 0;
	char err[160];
	int rc, done = 0;

	skm__fold_moved(db);
	if (nreaped != NULL)
		*nreaped = 0;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (older_than != NULL && skm__tp_parse_duration(older_than, &secs, err,
	    sizeof(err)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "--older-than %s", err);
	if ((rc = candidates(db, secs, &c, &n)) != SKM_OK)
		return rc;
	ei.completed = 0;
	ei.error_type = "abandoned";
	for (i = 0; i < n; i++) {
		rc = skm_end_id(db, c[i].id, &ei);
		if (rc == SKM_ENDED || rc == SKM_NOTFOUND) {
			/* It ended (or went) on its own meanwhile. */
			rc = SKM_OK;
			continue;
		}
		if (rc != SKM_OK)
			break;
		done++;
		if (cb != NULL)
			cb(arg, c[i].id, c[i].skill);
	}
	free_cands(c, n);
	if (nreaped != NULL)
		*nreaped = done;
	if (rc == SKM_OK)
		skm__store_clear(db);
	return rc;
}
