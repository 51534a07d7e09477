/*
 * sync.c - push a store's ended invocations to a PostgreSQL server
 * (skm_sync; the server side is pg.c).
 *
 * What has been pushed is kept per server in sync_state (migration 6):
 * the first sync to a server scans the invocations by rowid up to the
 * last rowid it saw then (scan_rowid .. scan_end); everything that ends
 * after that is appended to sync_log by a trigger, and later syncs push
 * the log from log_seq on.  Each batch is read row by row into the text
 * format of PostgreSQL's COPY (copy_value: a NULL is \N; in text, only
 * backslash, tab, newline and carriage return are escaped), streamed to
 * the server by COPY and inserted in one transaction, and only after the
 * server's COMMIT does the store's watermark advance, in a transaction of
 * its own.  A sync that dies
 * between the two pushes that batch again next time, and the server skips
 * the ids it has: nothing is lost and nothing is counted twice.
 *
 * Reals travel with 17 significant digits, so that the server holds the
 * very doubles the store holds.
 * Two syncs of one store take turns on a lock file beside it.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm-int.h"
#include "schema.h"

#define SYNC_BATCH 20000	/* 15% faster than 5000 at 1M (make bench-fleet) */

/* Each row read: what orders the batch (rowid or log seq), whether it is
 * one to send (ended, still in the store), then the columns sent
 * (SKM__SYNC_COLS, in the order of the server's staging table). */
#define SYNC_NCOLS 21

/* The next batch of the first scan: rows after ?1 up to ?2 in rowid
 * order, ?3 of them; the running ones are stepped over (they will be in
 * the log when they end). */
#define SYNC_SELECT "skm_uuid(id), skill_name, skm_iso(invoked_at), " \
	"skm_iso(ended_at), workflow_path, skm_uuid(session_id), project_path, " \
	"skm_uuid(parent_id), completed, duration_seconds, error_type, " \
	"exit_code, signal, follow_up_actions, command, host, pid, " \
	"user_cpu_seconds, sys_cpu_seconds, max_rss_kb, source"
static const char scan_sql[] =
    "SELECT rowid, ended_at IS NOT NULL, " SYNC_SELECT " "
    "FROM invocation WHERE rowid > ?1 AND rowid <= ?2 "
    "ORDER BY rowid LIMIT ?3";
/* The next batch of the log after ?1 (an invocation deleted since it
 * was logged is stepped over). */
static const char log_sql[] =
    "SELECT l.seq, id IS NOT NULL, " SYNC_SELECT " "
    "FROM (SELECT seq, id AS logged FROM sync_log WHERE seq > ?1 "
    "ORDER BY seq LIMIT ?2) l "
    "LEFT JOIN invocation i ON i.id = l.logged";
static const char state_sql[] =
    "SELECT scan_rowid, scan_end, log_seq FROM sync_state "
    "WHERE server_id = ?1";
static const char pending_sql[] =
    "SELECT (SELECT count(*) FROM invocation WHERE rowid > ?1 "
    "AND rowid <= ?2 AND ended_at IS NOT NULL) + "
    "(SELECT count(*) FROM sync_log WHERE seq > ?3)";

struct sync_state {
	const char *server;
	long long scan_rowid, scan_end, log_seq;
	long long inserted;	/* of the batch being recorded */
	int scan;		/* advance scan_rowid (else log_seq) to */
	long long upto;
};

/* Make this server's row (a first sync starts its scan here). */
static int
state_create(struct skm_db *db, void *arg)
{
	static const char sql[] =
	    "INSERT OR IGNORE INTO sync_state (server_id, scan_rowid, "
	    "scan_end, log_seq) VALUES (?1, 0, "
	    "(SELECT coalesce(max(rowid), 0) FROM invocation), "
	    "(SELECT coalesce(max(seq), 0) FROM sync_log))";
	struct sync_state *s = arg;
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_exec(db, skm__sync_triggers_sql)) != SKM_OK ||
	    (rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, s->server, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "sync");
}

static int
state_read(struct skm_db *db, struct sync_state *s)
{
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_prepare(db, state_sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, s->server, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		s->scan_rowid = sqlite3_column_int64(st, 0);
		s->scan_end = sqlite3_column_int64(st, 1);
		s->log_seq = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return skm__store_fail(db, SKM_ERROR, "sync: no state for server");
	return src == SQLITE_ROW ? SKM_OK : skm__store_sqlfail(db, src, "sync");
}

/*
 * state_advance - after the server committed a batch: move the watermark
 * (never backwards: a sync that waited its turn may have pushed less),
 * and forget the log rows every server has taken.
 */
static int
state_advance(struct skm_db *db, void *arg)
{
	static const char scan[] =
	    "UPDATE sync_state SET scan_rowid = max(scan_rowid, ?2), "
	    "pushed = pushed + ?3, "
	    "last_sync_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	    "WHERE server_id = ?1";
	static const char log[] =
	    "UPDATE sync_state SET log_seq = max(log_seq, ?2), "
	    "pushed = pushed + ?3, "
	    "last_sync_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	    "WHERE server_id = ?1";
	static const char prune[] =
	    "DELETE FROM sync_log WHERE seq <= "
	    "(SELECT min(log_seq) FROM sync_state)";
	struct sync_state *s = arg;
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_prepare(db, s->scan ? scan : log, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, s->server, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, s->upto);
	sqlite3_bind_int64(st, 3, s->inserted);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "sync");
	if (s->scan)
		return SKM_OK;
	if ((rc = skm__store_prepare(db, prune, &st)) != SKM_OK)
		return rc;
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "sync");
}

/* The rows still to push (for progress). */
static long long
pending(struct skm_db *db, const struct sync_state *s)
{
	sqlite3_stmt *st;
	long long n = 0;

	if (skm__store_prepare(db, pending_sql, &st) != SKM_OK)
		return 0;
	sqlite3_bind_int64(st, 1, s->scan_rowid);
	sqlite3_bind_int64(st, 2, s->scan_end);
	sqlite3_bind_int64(st, 3, s->log_seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/*
 * copy_value - column i of st in COPY's text format: \N for NULL, an
 * integer as is, a real with 17 significant digits (the same double on
 * the server), text with backslash, tab, newline and carriage return
 * escaped.  A NUL byte cannot be held by PostgreSQL's text: SKM_ERROR.
 */
static int
copy_value(sqlite3_str *s, sqlite3_stmt *st, int i)
{
	const unsigned char *v, *p, *end;
	const char *esc;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		sqlite3_str_append(s, "\\N", 2);
		return SKM_OK;
	case SQLITE_INTEGER:
		sqlite3_str_appendf(s, "%lld",
		    (long long)sqlite3_column_int64(st, i));
		return SKM_OK;
	case SQLITE_FLOAT:
		sqlite3_str_appendf(s, "%!.17g", sqlite3_column_double(st, i));
		return SKM_OK;
	}
	v = sqlite3_column_text(st, i);
	end = v + sqlite3_column_bytes(st, i);
	for (p = v; p < end; p++) {
		switch (*p) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\0': return SKM_ERROR;
		default: continue;
		}
		sqlite3_str_append(s, (const char *)v, (int)(p - v));
		sqlite3_str_append(s, esc, 2);
		v = p + 1;
	}
	sqlite3_str_append(s, (const char *)v, (int)(end - v));
	return SKM_OK;
}

/*
 * sync_batch - read the next batch (of the scan, else of the log), push
 * it, record it.  *done is set when there is nothing left.
 */
static int
sync_batch(struct skm_db *db, struct skm_db *srv, struct sync_state *s,
    int batch, struct skm_sync_result *res, int *done)
{
	sqlite3_stmt *st;
	sqlite3_str *rows;
	char *copy;
	long long n = 0, upto = -1, seq, inserted = 0;
	int rc, src, i, len;

	*done = 0;
	s->scan = s->scan_rowid < s->scan_end;
	if ((rc = skm__store_prepare(db, s->scan ? scan_sql : log_sql, &st)) !=
	    SKM_OK)
		return rc;
	if (s->scan) {
		sqlite3_bind_int64(st, 1, s->scan_rowid);
		sqlite3_bind_int64(st, 2, s->scan_end);
		sqlite3_bind_int(st, 3, batch);
	} else {
		sqlite3_bind_int64(st, 1, s->log_seq);
		sqlite3_bind_int(st, 2, batch);
	}
	rows = sqlite3_str_new(NULL);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		upto = seq > upto ? seq : upto;
		if (!sqlite3_column_int(st, 1))
			continue;
		for (i = 0; i < SYNC_NCOLS; i++) {
			if (i > 0)
				sqlite3_str_appendchar(rows, 1, '\t');
			if (copy_value(rows, st, 2 + i) != SKM_OK) {
				rc = skm__store_fail(db, SKM_ERROR, "sync: "
				    "invocation %.64s: a NUL byte in %s (the "
				    "server's text cannot hold it)",
				    sqlite3_column_text(st, 2),
				    sqlite3_column_name(st, 2 + i));
				sqlite3_reset(st);
				sqlite3_free(sqlite3_str_finish(rows));
				return rc;
			}
		}
		sqlite3_str_appendchar(rows, 1, '\n');
		n++;
	}
	sqlite3_reset(st);
	len = sqlite3_str_length(rows);
	if (sqlite3_str_errcode(rows) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(rows));
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	}
	copy = sqlite3_str_finish(rows);
	if (src != SQLITE_DONE) {
		sqlite3_free(copy);
		return skm__store_sqlfail(db, src, "sync");
	}
	if (upto < 0) {
		sqlite3_free(copy);
		if (s->scan) {
			/* rows up to scan_end were deleted: the scan is over */
			s->upto = s->scan_end;
			s->inserted = 0;
			s->scan_rowid = s->scan_end;
			return skm__store_write(db, state_advance, s);
		}
		*done = 1;
		return SKM_OK;
	}
	if (n > 0) {
		rc = skm__pg_push(srv, copy, (size_t)len, &inserted);
		sqlite3_free(copy);
		if (rc != SKM_OK)
			return skm__store_fail(db, rc, "%s", skm_errmsg(srv));
		res->batches++;
	} else
		sqlite3_free(copy);
	res->sent += n;
	res->inserted += inserted;
	s->upto = upto;
	s->inserted = inserted;
	if ((rc = skm__store_write(db, state_advance, s)) != SKM_OK)
		return rc;
	if (s->scan)
		s->scan_rowid = upto > s->scan_rowid ? upto : s->scan_rowid;
	else
		s->log_seq = upto > s->log_seq ? upto : s->log_seq;
	return SKM_OK;
}

/* The lock two syncs of one store take turns on: DB.sync-lock. */
static int
sync_lock(struct skm_db *db, int *fd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s.sync-lock", db->path) >=
	    (int)sizeof(path))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: path too long",
		    db->path);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return skm__store_fail(db, SKM_CANTOPEN, "%s: %s", path,
		    strerror(errno));
	while (flock(*fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(*fd);
			*fd = -1;
			return skm__store_fail(db, SKM_IOERR, "%s: %s", path,
			    strerror(errno));
		}
	return SKM_OK;
}

int
skm_sync(struct skm_db *db, struct skm_db *srv,
    const struct skm_sync_args *args, struct skm_sync_result *res)
{
	static const struct skm_sync_args none;
	struct skm_sync_result r = { 0, 0, 0 };
	struct sync_state s = { 0 };
	long long total;
	int rc, fd = -1, done = 0, batch;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (args == NULL)
		args = &none;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (db->pg != NULL || srv == NULL)
		return skm__store_fail(db, SKM_MISUSE, "skm_sync: needs a store "
		    "and a server");
	if (srv->pg == NULL) {
		if (srv->status != SKM_OK)
			return skm__store_fail(db, srv->status, "%s",
			    skm_errmsg(srv));
		return skm__store_fail(db, SKM_MISUSE, "skm_sync: not a server");
	}
	if ((rc = skm__store_usable(srv)) != SKM_OK)
		return skm__store_fail(db, rc, "%s", skm_errmsg(srv));
	batch = args->batch > 0 ? args->batch : SYNC_BATCH;
	s.server = skm__pg_server_id(srv);
	if ((rc = sync_lock(db, &fd)) != SKM_OK)
		return rc;
	if ((rc = skm__store_write(db, state_create, &s)) != SKM_OK ||
	    (rc = state_read(db, &s)) != SKM_OK)
		goto out;
	total = pending(db, &s);
	while (!done) {
		if ((rc = sync_batch(db, srv, &s, batch, &r, &done)) != SKM_OK)
			break;
		if (args->progress != NULL && !done)
			args->progress(args->arg, r.sent, total);
	}
	/* Everything is pushed: a failure here loses nothing (queries
	 * compute percentiles that are not current). */
	if (rc == SKM_OK && r.inserted > 0 &&
	    (rc = skm__pg_refresh(srv)) != SKM_OK)
		rc = skm__store_fail(db, rc, "%s", skm_errmsg(srv));
out:
	close(fd);
	if (res != NULL)
		*res = r;
	return rc;
}
