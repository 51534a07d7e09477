/*
 * fold.c - applying events to the store: the fold of the journal, and
 * the one place where an event becomes rows.
 *
 * skm__apply_event() turns one validated event into SQL: a begin is an
 * INSERT ... ON CONFLICT (id) DO NOTHING, an end updates the row only
 * while it is still running and then counts it into the aggregates
 * (skm__agg_add), so applying an event twice changes nothing.  The statements
 * are generated from the event's field list (event.h).  In-process
 * handles opened with SKM_OPEN_DIRECT apply their events through it
 * straight away; everything else reaches it through the fold.
 *
 * skm__fold() reads the journal's files (journal.c) and applies their
 * records in batches, each one BEGIN IMMEDIATE transaction that also
 * moves the file's row in journal_fold to the end of the batch.  A fold
 * killed at any moment therefore resumes exactly after its last commit.
 * A record that fails to decode or validate, and bytes that are no record
 * (a torn write), go whole to quarantine.jsonl beside the journal and are
 * counted; a record at the end of the live file that is not whole yet
 * (an append still in flight) waits for the next fold.  When the store
 * cannot be written (read-only, full, newer, damaged) nothing is taken
 * from the journal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm-int.h"
#include "event.h"
#include "journal.h"

#define FOLD_BATCH 2048          /* records per transaction */
#define FOLD_CHUNK (4 << 20)     /* bytes read from a file at a time */

/* Bind a TIME (microseconds) as the store's ISO-8601 text. */
static void
bind_time(sqlite3_stmt *st, int i, int64_t us)
{
	struct timespec ts;
	char iso[32];
	int64_t s = us / 1000000, r = us % 1000000;

	if (r < 0) {
		r += 1000000;
		s--;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)r * 1000;
	skm__util_iso_from_ts(&ts, iso);
	sqlite3_bind_text(st, i, iso, -1, SQLITE_TRANSIENT);
}

/* Bind field f of ev to parameter i (NULL when absent). */
static void
bind_field(sqlite3_stmt *st, int i, const struct skm__event *ev, int f)
{
	const struct skm__ev_desc *d = &skm__ev_fields[f];
	const char *m = (const char *)ev + d->offset;
	const struct skm__str *s;
	int64_t v;
	double r;
	size_t n;

	if (!((ev->has >> f) & 1u))
		return;
	switch (d->type) {
	case SKM__T_STR:
		s = (const struct skm__str *)(const void *)m;
		n = s->n;
		if (f == SKM__F_COMMAND && n > SKM_COMMAND_MAX) {
			/* Cut on a character boundary, marked. */
			n = SKM_COMMAND_MAX - 3;
			while (n > 0 && ((unsigned char)s->p[n] & 0xc0) == 0x80)
				n--;
			char *c = sqlite3_mprintf("%.*s...", (int)n, s->p);

			sqlite3_bind_text(st, i, c, -1, sqlite3_free);
			return;
		}
		sqlite3_bind_text(st, i, s->p, (int)n, SQLITE_STATIC);
		break;
	case SKM__T_REAL:
		memcpy(&r, m, 8);
		sqlite3_bind_double(st, i, r);
		break;
	case SKM__T_TIME:
		memcpy(&v, m, 8);
		bind_time(st, i, v);
		break;
	case SKM__T_INT:
		memcpy(&v, m, 8);
		sqlite3_bind_int64(st, i, v);
		break;
	}
}

/* The begin fields: those a BEGIN event carries (all up to ENDED). */
static int
is_begin_field(int f)
{
	return f < SKM__F_ENDED && skm__ev_fields[f].column != NULL;
}

/*
 * insert_sql - "INSERT INTO skill_invocation (id, skill_name, ...) VALUES
 * (?1, ?2, ...) ON CONFLICT (id) DO NOTHING" over the begin fields, made
 * once from the field list; parameter i+1 is field i.
 */
static const char *
insert_sql(void)
{
	static char sql[1024];
	size_t n;
	int f;

	if (sql[0] != '\0')
		return sql;
	n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO skill_invocation (");
	for (f = 0; f < SKM__F_COUNT; f++)
		if (is_begin_field(f))
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s",
			    f ? ", " : "", skm__ev_fields[f].column);
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, ") VALUES (");
	for (f = 0; f < SKM__F_COUNT; f++)
		if (is_begin_field(f))
			n += (size_t)snprintf(sql + n, sizeof(sql) - n,
			    "%s?%d", f ? ", " : "", f + 1);
	snprintf(sql + n, sizeof(sql) - n, ") ON CONFLICT (id) DO NOTHING");
	return sql;
}

static int
apply_begin(struct skm_db *db, const struct skm__event *ev)
{
	sqlite3_stmt *st;
	int f, src, rc;

	if ((rc = skm__store_prepare(db, insert_sql(), &st)) != SKM_OK)
		return rc;
	for (f = 0; f < SKM__F_COUNT; f++)
		if (is_begin_field(f))
			bind_field(st, f + 1, ev, f);
	if (!SKM__HAS(ev, SOURCE))
		sqlite3_bind_text(st, SKM__F_SOURCE + 1, "lib", -1,
		    SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "begin");
	return SKM_OK;
}

/* The follow-up actions of ev as a JSON array (sqlite3 heap), built by
 * SQLite's json_array so that nothing is escaped by hand. */
static char *
follow_json(struct skm_db *db, const struct skm__event *ev)
{
	static const char add[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3_stmt *st;
	char *fu = sqlite3_mprintf("[]"), *next;
	int i;

	if (fu == NULL || ev->nfollow == 0 ||
	    skm__store_prepare(db, add, &st) != SKM_OK)
		return fu;
	for (i = 0; i < ev->nfollow && fu != NULL; i++) {
		sqlite3_bind_text(st, 1, fu, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ev->follow[i].p, (int)ev->follow[i].n,
		    SQLITE_STATIC);
		next = sqlite3_step(st) == SQLITE_ROW ?
		    sqlite3_mprintf("%s", sqlite3_column_text(st, 0)) : NULL;
		sqlite3_reset(st);
		sqlite3_free(fu);
		fu = next;
	}
	return fu;
}

/* The run's length: given; else on the monotonic clock of the boot it
 * began in; else from the wall clock.  row: mono_start, boot_id,
 * invoked_at in seconds (as columns 1-3). */
static double
end_duration(const struct skm__event *ev, sqlite3_stmt *row)
{
	const char *boot = (const char *)sqlite3_column_text(row, 2);
	double d;

	if (SKM__HAS(ev, DURATION))
		return ev->duration;
	if (SKM__HAS(ev, MONO1) && SKM__HAS(ev, BOOT) && boot != NULL &&
	    sqlite3_column_type(row, 1) != SQLITE_NULL &&
	    strlen(boot) == ev->boot.n && memcmp(boot, ev->boot.p,
	    ev->boot.n) == 0)
		d = ev->mono_end - sqlite3_column_double(row, 1);
	else
		d = (double)ev->ended_us / 1e6 - sqlite3_column_double(row, 3);
	return d < 0 ? 0 : d;
}

static int
apply_end(struct skm_db *db, const struct skm__event *ev)
{
	static const char get[] =
	    "SELECT ended_at IS NOT NULL, mono_start, boot_id, "
	    "(julianday(invoked_at) - 2440587.5) * 86400.0 "
	    "FROM skill_invocation WHERE id = ?";
	static const char upd[] =
	    "UPDATE skill_invocation SET ended_at = ?1, completed = ?2, "
	    "duration_seconds = ?3, error_type = ?4, exit_code = ?5, "
	    "signal = ?6, follow_up_actions = ?7, user_cpu_seconds = ?8, "
	    "sys_cpu_seconds = ?9, max_rss_kb = ?10, "
	    /* Only a running invocation needs its monotonic start. */
	    "mono_start = NULL, boot_id = NULL "
	    "WHERE id = ?11 AND ended_at IS NULL";
	sqlite3_stmt *st;
	char et[64], *fu;
	double d;
	int src, rc, done, bad;

	if ((rc = skm__store_prepare(db, get, &st)) != SKM_OK)
		return rc;
	bind_field(st, 1, ev, SKM__F_ID);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (src == SQLITE_DONE)
			return skm__store_fail(db, SKM_NOTFOUND, "no such "
			    "invocation: %.*s", (int)ev->id.n, ev->id.p);
		return skm__store_sqlfail(db, src, "end");
	}
	done = sqlite3_column_int(st, 0);
	d = end_duration(ev, st);
	/* An end before its begin (to the millisecond the row keeps). */
	bad = !done && (double)ev->ended_us / 1e6 <
	    sqlite3_column_double(st, 3) - 0.001;
	sqlite3_reset(st);
	if (bad)
		return skm__store_fail(db, SKM_FORMAT, "ended before it began");
	if (done)
		return skm__store_fail(db, SKM_ENDED, "invocation %.*s already "
		    "ended", (int)ev->id.n, ev->id.p);

	if ((rc = skm__store_prepare(db, upd, &st)) != SKM_OK)
		return rc;
	if ((fu = follow_json(db, ev)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	bind_field(st, 1, ev, SKM__F_ENDED);
	sqlite3_bind_int(st, 2, SKM__HAS(ev, COMPLETED) ? (int)ev->completed :
	    (!SKM__HAS(ev, EXIT) || ev->exit_code == 0) &&
	    (!SKM__HAS(ev, SIGNAL) || ev->signal == 0));
	sqlite3_bind_double(st, 3, d);
	if (SKM__HAS(ev, ERROR))
		bind_field(st, 4, ev, SKM__F_ERROR);
	else if (SKM__HAS(ev, SIGNAL) && ev->signal > 0) {
		snprintf(et, sizeof(et), "signal:%s",
		    skm__util_signame((int)ev->signal));
		sqlite3_bind_text(st, 4, et, -1, SQLITE_TRANSIENT);
	} else if (SKM__HAS(ev, EXIT) && ev->exit_code > 0) {
		snprintf(et, sizeof(et), "exit:%d", (int)ev->exit_code);
		sqlite3_bind_text(st, 4, et, -1, SQLITE_TRANSIENT);
	}
	if (SKM__HAS(ev, EXIT) && ev->exit_code >= 0)
		bind_field(st, 5, ev, SKM__F_EXIT);
	if (SKM__HAS(ev, SIGNAL) && ev->signal > 0)
		bind_field(st, 6, ev, SKM__F_SIGNAL);
	sqlite3_bind_text(st, 7, fu, -1, sqlite3_free);
	bind_field(st, 8, ev, SKM__F_UCPU);
	bind_field(st, 9, ev, SKM__F_SCPU);
	bind_field(st, 10, ev, SKM__F_RSS);
	bind_field(st, 11, ev, SKM__F_ID);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "end");
	if (sqlite3_changes(db->conn) != 1)
		return skm__store_fail(db, SKM_ENDED, "invocation %.*s already "
		    "ended", (int)ev->id.n, ev->id.p);
	{
		char id[72];

		snprintf(id, sizeof(id), "%.*s", (int)ev->id.n, ev->id.p);
		return skm__agg_add(db, id);
	}
}

/*
 * skm__apply_event - make the store say what ev says, inside the caller's
 * write transaction.  An end whose invocation has no row is given one
 * first when the end carries its begin (a RUN, or an END with the begin's
 * fields); else SKM_NOTFOUND.  An end of an ended invocation is
 * SKM_ENDED and changes nothing.
 */
/*
 * apply_pending_end - the row of ev's invocation was just made: apply the
 * end that came before it, if one waits in journal_pending_end.
 */
static int
apply_pending_end(struct skm_db *db, const struct skm__event *ev)
{
	static const char get[] =
	    "SELECT record FROM journal_pending_end WHERE id = ?";
	static const char del[] = "DELETE FROM journal_pending_end WHERE id = ?";
	static __thread struct skm__event end;
	sqlite3_stmt *st;
	unsigned char *rec = NULL;
	char why[64];
	int n = 0, rc = SKM_OK;

	if ((rc = skm__store_prepare(db, get, &st)) != SKM_OK)
		return rc;
	bind_field(st, 1, ev, SKM__F_ID);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (n = sqlite3_column_bytes(st, 0)) > 0 &&
	    (rec = malloc((size_t)n)) != NULL)
		memcpy(rec, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_reset(st);
	if (rec == NULL)
		return SKM_OK;
	if (skm__ev_decode(rec, (size_t)n, &end, why, sizeof(why)) == 0 &&
	    end.kind == SKM__EV_END)
		rc = apply_end(db, &end);
	/* Already ended, or ending before its begin: dropped. */
	if (rc == SKM_ENDED || rc == SKM_FORMAT)
		rc = SKM_OK;
	if (rc == SKM_OK && (rc = skm__store_prepare(db, del, &st)) == SKM_OK) {
		bind_field(st, 1, ev, SKM__F_ID);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = skm__store_sqlfail(db, sqlite3_errcode(db->conn),
			    "fold");
		sqlite3_reset(st);
	}
	free(rec);
	return rc;
}

int
skm__apply_event(struct skm_db *db, const struct skm__event *ev)
{
	int rc;

	if (ev->kind != SKM__EV_END ||
	    (SKM__HAS(ev, SKILL) && SKM__HAS(ev, INVOKED))) {
		if ((rc = apply_begin(db, ev)) != SKM_OK)
			return rc;
		if (sqlite3_changes(db->conn) == 1 && ev->kind == SKM__EV_BEGIN)
			return apply_pending_end(db, ev);
	}
	if (ev->kind == SKM__EV_BEGIN)
		return SKM_OK;
	return apply_end(db, ev);
}

/* Keep an end whose begin has not come (payload p, n bytes). */
static int
keep_pending_end(struct skm_db *db, const struct skm__event *ev,
    const unsigned char *p, size_t n)
{
	static const char sql[] = "INSERT INTO journal_pending_end (id, record) "
	    "VALUES (?, ?) ON CONFLICT (id) DO NOTHING";
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	bind_field(st, 1, ev, SKM__F_ID);
	sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "fold");
}

/* ---- the fold ---- */

struct fold {
	struct skm_db *db;
	struct skm__jnl j;
	int dfd;
	double deadline;         /* skm__util_mono() to stop at; 0: none */
	long applied, quarantined;
	int more;                /* stopped with work left */
	char *qbuf;              /* quarantine lines of the open batch */
	size_t qlen, qcap;
};

/* Queue one quarantine line: the record's bytes, where they were, why. */
static int
quarantine(struct fold *fo, const char *file, long long off,
    const unsigned char *p, size_t n, const char *why)
{
	static const char sql[] =
	    "SELECT json_object('file', ?1, 'offset', ?2, 'reason', ?3, "
	    "'quarantined_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
	    "'bytes', ?4, 'record', hex(?5))";
	sqlite3_stmt *st;
	const char *line;
	size_t len, keep = n > 65536 ? 65536 : n;
	int rc;

	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, off);
	sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
	sqlite3_bind_blob(st, 5, p, (int)keep, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return skm__store_fail(fo->db, SKM_NOMEM, "quarantine: %s",
		    sqlite3_errmsg(fo->db->conn));
	}
	line = (const char *)sqlite3_column_text(st, 0);
	len = strlen(line);
	if (fo->qlen + len + 1 > fo->qcap) {
		size_t cap = (fo->qlen + len + 1) * 2;
		char *q = realloc(fo->qbuf, cap);

		if (q == NULL) {
			sqlite3_reset(st);
			return skm__store_fail(fo->db, SKM_NOMEM, "out of memory");
		}
		fo->qbuf = q;
		fo->qcap = cap;
	}
	memcpy(fo->qbuf + fo->qlen, line, len);
	fo->qbuf[fo->qlen + len] = '\n';
	fo->qlen += len + 1;
	sqlite3_reset(st);
	fo->quarantined++;
	return SKM_OK;
}

/* Append the batch's quarantine lines to quarantine.jsonl (before the
 * batch commits: a fold killed in between quarantines a record twice,
 * which `skm check` counts once, by file and offset). */
static int
flush_quarantine(struct fold *fo)
{
	int fd;
	size_t off = 0;
	ssize_t w;

	if (fo->qlen == 0)
		return SKM_OK;
	fd = openat(fo->dfd, SKM__JNL_QUARANTINE, O_WRONLY | O_APPEND |
	    O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd != -1) {
		struct stat sb;

		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
			close(fd);
			fd = -1;
			errno = EPERM;
		}
	}
	if (fd == -1)
		return skm__store_fail(fo->db, SKM_IOERR, "%s/%s: %s", fo->j.dir,
		    SKM__JNL_QUARANTINE, strerror(errno));
	while (off < fo->qlen) {
		w = write(fd, fo->qbuf + off, fo->qlen - off);
		if (w <= 0 && errno != EINTR) {
			close(fd);
			return skm__store_fail(fo->db, errno == ENOSPC ? SKM_FULL :
			    SKM_IOERR, "%s/%s: %s", fo->j.dir,
			    SKM__JNL_QUARANTINE, strerror(errno));
		}
		if (w > 0)
			off += (size_t)w;
	}
	close(fd);
	fo->qlen = 0;
	return SKM_OK;
}

/* Where the fold stands in file id: its row of journal_fold. */
static int
file_state(struct fold *fo, const char *id, long long *off, int *done)
{
	static const char sql[] =
	    "SELECT offset, done FROM journal_fold WHERE file_id = ?";
	sqlite3_stmt *st;
	int src, rc;

	*off = 0;
	*done = 0;
	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*off = sqlite3_column_int64(st, 0);
		*done = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return skm__store_sqlfail(fo->db, src, "fold");
	return SKM_OK;
}

static int
save_state(struct fold *fo, const char *id, long long off, long applied,
    long quarantined, int done)
{
	static const char sql[] =
	    "INSERT INTO journal_fold (file_id, offset, applied, quarantined, "
	    "done, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
	    "ON CONFLICT (file_id) DO UPDATE SET offset = excluded.offset, "
	    "applied = applied + excluded.applied, "
	    "quarantined = quarantined + excluded.quarantined, "
	    "done = excluded.done, updated_at = excluded.updated_at";
	sqlite3_stmt *st;
	int src, rc;

	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, off);
	sqlite3_bind_int64(st, 3, applied);
	sqlite3_bind_int64(st, 4, quarantined);
	sqlite3_bind_int(st, 5, done);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(fo->db, src, "fold");
}

/* Apply one record (its payload p, n bytes) found at off; a record that
 * does not decode or validate goes to quarantine. */
static int
fold_record(struct fold *fo, const char *id, long long off,
    const unsigned char *rec, size_t len, const unsigned char *p, size_t n)
{
	struct skm__event *ev;
	char why[160];
	int rc;

	/* The event struct is large (its follow-up array): keep it off a
	 * small stack. */
	static __thread struct skm__event evbuf;

	ev = &evbuf;
	if (skm__ev_decode(p, n, ev, why, sizeof(why)) != 0)
		return quarantine(fo, id, off, rec, len, why);
	if (ev->kind == SKM__EV_HEADER)
		return SKM_OK;
	if (skm__ev_validate(ev, why, sizeof(why)) != 0)
		return quarantine(fo, id, off, rec, len, why);
	rc = skm__apply_event(fo->db, ev);
	if (rc == SKM_ENDED)
		return SKM_OK;          /* a duplicate end: already counted */
	if (rc == SKM_NOTFOUND)
		/* Its begin may come later (events out of order). */
		return keep_pending_end(fo->db, ev, p, n);
	if (rc == SKM_FORMAT)
		return quarantine(fo, id, off, rec, len, fo->db->errmsg);
	if (rc == SKM_OK)
		fo->applied++;
	return rc;
}

/*
 * fold_file - apply the records of the open journal file fd (id) from
 * where the fold stood.  sealed: nobody appends any more, so a record
 * cut off at its end is garbage, and a file done is removed.  Returns a
 * status; sets fo->more when the deadline stopped it.
 */
static int
fold_file(struct fold *fo, int fd, const char *id, const char *name,
    int sealed)
{
	unsigned char *buf = NULL;
	const unsigned char *pl;
	long long off, base;
	size_t have = 0, pos, len, plen;
	long nrec, a0, q0;
	int done, rc, eof = 0;
	ssize_t r;

	if ((rc = file_state(fo, id, &off, &done)) != SKM_OK)
		return rc;
	if (done) {
		if (sealed)
			(void)unlinkat(fo->dfd, name, 0);
		return SKM_OK;
	}
	if ((buf = malloc(FOLD_CHUNK)) == NULL)
		return skm__store_fail(fo->db, SKM_NOMEM, "out of memory");
	base = off;
	rc = SKM_OK;
	while (rc == SKM_OK) {
		/* Fill the buffer after what is left of the last chunk. */
		if (!eof && have < FOLD_CHUNK) {
			r = pread(fd, buf + have, FOLD_CHUNK - have,
			    (off_t)(base + (long long)have));
			if (r < 0) {
				rc = skm__store_fail(fo->db, SKM_IOERR, "%s/%s: %s",
				    fo->j.dir, name, strerror(errno));
				break;
			}
			if (r == 0)
				eof = 1;
			have += (size_t)r;
		}
		if (have == 0)
			break;
		/* One batch: up to FOLD_BATCH records, one transaction. */
		if ((rc = skm__store_begin_write(fo->db)) != SKM_OK)
			break;
		a0 = fo->applied;
		q0 = fo->quarantined;
		pos = 0;
		for (nrec = 0; nrec < FOLD_BATCH && pos < have && rc == SKM_OK;
		    nrec++) {
			switch (skm__rec_scan(buf + pos, have - pos, &len, &pl,
			    &plen)) {
			case SKM__SCAN_RECORD:
				rc = fold_record(fo, id, base + (long long)pos,
				    buf + pos, len, pl, plen);
				break;
			case SKM__SCAN_GARBAGE:
				rc = quarantine(fo, id, base + (long long)pos,
				    buf + pos, len, "not a record (a torn "
				    "write, or bytes that are no journal)");
				break;
			case SKM__SCAN_PARTIAL:
				if (!eof && have == FOLD_CHUNK && pos == 0) {
					/* A record larger than the chunk
					 * cannot be: SKM__REC_MAX is less. */
					len = have;
					rc = quarantine(fo, id, base, buf, len,
					    "record too large");
					break;
				}
				if (!eof || !sealed) {
					len = 0;
					nrec = FOLD_BATCH;  /* read more */
					break;
				}
				len = have - pos;
				rc = quarantine(fo, id, base + (long long)pos,
				    buf + pos, len, "a record cut off at the "
				    "end of its file");
				break;
			}
			pos += len;
		}
		if (rc == SKM_OK)
			rc = flush_quarantine(fo);
		if (rc == SKM_OK)
			rc = save_state(fo, id, base + (long long)pos,
			    fo->applied - a0, fo->quarantined - q0,
			    sealed && eof && pos == have);
		if (rc == SKM_OK && (rc = skm__store_commit(fo->db)) == SKM_OK) {
			base += (long long)pos;
			memmove(buf, buf + pos, have - pos);
			have -= pos;
		} else {
			skm__store_rollback(fo->db);
			fo->applied = a0;
			fo->quarantined = q0;
			fo->qlen = 0;
			break;
		}
		if (eof && (pos == 0 || have == 0))
			break;
		if (fo->deadline > 0 && skm__util_mono() > fo->deadline) {
			fo->more = 1;
			break;
		}
	}
	free(buf);
	if (rc == SKM_OK && sealed && eof && have == 0)
		(void)unlinkat(fo->dfd, name, 0);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fold every sealed file, oldest first (ids are time-ordered). */
static int
fold_sealed(struct fold *fo)
{
	char **names = NULL, id[65];
	struct dirent *de;
	size_t n = 0, cap = 0, i;
	DIR *d;
	int fd, rc = SKM_OK, dfd2;

	if ((dfd2 = dup(fo->dfd)) == -1 || (d = fdopendir(dfd2)) == NULL) {
		if (dfd2 != -1)
			close(dfd2);
		return skm__store_fail(fo->db, SKM_IOERR, "%s: %s", fo->j.dir,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, SKM__JNL_SEALED,
		    strlen(SKM__JNL_SEALED)) != 0)
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap * 2 + 8) *
			    sizeof(*p));

			if (p == NULL)
				break;
			names = p;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == SKM_OK && !fo->more; i++) {
		if ((fd = skm__jnl_openat(&fo->j, fo->dfd, names[i], 0)) == -1)
			continue;       /* refused: never read */
		skm__jnl_settle(fd);
		if (skm__jnl_file_id(fd, id) > 0)
			rc = fold_file(fo, fd, id, names[i], 1);
		close(fd);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Fold the live file; seal it when it has grown large and is folded. */
static int
fold_live(struct fold *fo)
{
	struct stat sb;
	char id[65], name[96];
	int fd, rc;

	if ((fd = skm__jnl_openat(&fo->j, fo->dfd, SKM__JNL_LIVE, 0)) == -1)
		return errno == ENOENT ? SKM_OK : SKM_OK;
	if (skm__jnl_file_id(fd, id) <= 0) {
		close(fd);
		return SKM_OK;
	}
	rc = fold_file(fo, fd, id, SKM__JNL_LIVE, 0);
	if (rc == SKM_OK && !fo->more && fstat(fd, &sb) == 0 &&
	    sb.st_size >= SKM__JNL_FOLD_BYTES &&
	    skm__jnl_seal(&fo->j, fo->dfd, id) == 0) {
		snprintf(name, sizeof(name), "%s%s", SKM__JNL_SEALED, id);
		rc = fold_file(fo, fd, id, name, 1);
	}
	close(fd);
	return rc;
}

/* Take the fold lock, waiting up to wait_ms (< 0: as long as it takes). */
static int
lock_fold(struct fold *fo, int wait_ms)
{
	double until = skm__util_mono() + wait_ms / 1000.0;
	int fd;

	fd = openat(fo->dfd, SKM__JNL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (wait_ms >= 0 && skm__util_mono() >= until)
			break;
		skm__util_sleep_ms(2);
	}
	close(fd);
	return -1;
}

int
skm__fold(struct skm_db *db, int budget_ms, int wait_ms,
    struct skm__fold_result *res)
{
	struct fold fo;
	int rc, lk;

	memset(res, 0, sizeof(*res));
	if (db == NULL)
		return SKM_MISUSE;
	if (db->status != SKM_OK)
		return db->status;
	if (db->flags & SKM_OPEN_READONLY)
		return SKM_OK;
	memset(&fo, 0, sizeof(fo));
	fo.db = db;
	if (skm__jnl_init(&fo.j, db->path) != 0)
		return skm__store_fail(db, SKM_CANTOPEN, "%s", fo.j.why);
	if ((fo.dfd = skm__jnl_dirfd(&fo.j, 0)) == -1) {
		if (fo.j.state < 0) {
			snprintf(res->refused, sizeof(res->refused), "%s",
			    fo.j.why);
			return SKM_OK;
		}
		return SKM_OK;          /* no journal yet */
	}
	if ((lk = lock_fold(&fo, wait_ms)) == -1) {
		close(fo.dfd);
		res->busy = 1;
		return SKM_OK;
	}
	if (budget_ms > 0)
		fo.deadline = skm__util_mono() + budget_ms / 1000.0;
	rc = fold_sealed(&fo);
	if (rc == SKM_OK && !fo.more)
		rc = fold_live(&fo);
	res->applied = fo.applied;
	res->quarantined = fo.quarantined;
	res->more = fo.more;
	free(fo.qbuf);
	close(lk);
	close(fo.dfd);
	return rc;
}

int
skm__journal_moved(struct skm_db *db)
{
	char live[sizeof(db->jnl.dir) + 16];
	struct stat sb;
	int moved;

	if (snprintf(live, sizeof(live), "%s/%s", db->jnl.dir,
	    SKM__JNL_LIVE) >= (int)sizeof(live))
		return 0;
	if (lstat(live, &sb) != 0)
		sb.st_ino = 0, sb.st_size = 0;
	moved = sb.st_ino != db->jnl_ino || sb.st_size != db->jnl_size;
	db->jnl_ino = sb.st_ino;
	db->jnl_size = sb.st_size;
	return moved;
}

void
skm__fold_moved(struct skm_db *db)
{
	struct skm__fold_result fr;

	if (db == NULL || db->status != SKM_OK || db->folding ||
	    (db->flags & SKM_OPEN_READONLY) || !skm__journal_moved(db))
		return;
	db->folding = 1;
	(void)skm__fold(db, 500, 1000, &fr);
	db->folding = 0;
	(void)skm__journal_moved(db);	/* what this fold saw */
}
