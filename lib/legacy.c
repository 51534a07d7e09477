/*
 * legacy.c - the spool of skm 0.1, carried into the journal.
 *
 * Before the journal, events the store could not take went to DB.spool/:
 * events.jsonl, one JSON object per line ("ev": "begin" or "end", the
 * invocation's fields by their column names), appended under a shared
 * flock; a drainer renamed it to draining-ID.jsonl and took the lock
 * exclusively before reading.  A store made by that release may still
 * have such events waiting when a newer skm first opens it, and an old
 * recorder still running may add some.  The fold carries them over:
 * each line becomes a journal record (an end, which repeats its begin's
 * fields, a RUN), appended to the live journal, which the same fold then
 * validates and applies; the spool file is removed only once its records
 * are on disk in the journal.  A fold killed in between carries the file
 * again: a record applied twice changes nothing (ids are the key).
 * Lines that are no event are kept, whole, in DB.journal/legacy.jsonl
 * and named by `skm check`.  The spool directory is held to the journal's
 * rules: a symlink, another user's directory, or one open to others is
 * never read.
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
#include "timeparse.h"

#define SPOOL_LIVE "events.jsonl"
#define SPOOL_DRAINING "draining-"
#define LEGACY_REJECTS "legacy.jsonl"
#define SPOOL_MAX (256L * 1024 * 1024)  /* bytes of one spool file read */

/* The spool directory beside the journal directory jdir (DB.journal). */
static int
spool_dir(const char *jdir, char *out, size_t size)
{
	size_t n = strlen(jdir), k = strlen(".journal");

	if (n < k || strcmp(jdir + n - k, ".journal") != 0 ||
	    n - k + sizeof(".spool") > size)
		return -1;
	memcpy(out, jdir, n - k);
	memcpy(out + n - k, ".spool", sizeof(".spool"));
	return 0;
}

int
skm__legacy_present(const char *jdir)
{
	char dir[PATH_MAX];
	struct stat sb;

	return spool_dir(jdir, dir, sizeof(dir)) == 0 &&
	    lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * line_sql - the statement that reads one spool line: its "ev", then
 * every field of the event that has a column, by the column's name (the
 * spool's keys were the columns' names), in the field list's order.
 */
static char *
line_sql(void)
{
	char *sql = sqlite3_mprintf("SELECT json_extract(?1, '$.ev')"), *t;
	int f;

	for (f = 0; f < SKM__F_COUNT && sql != NULL; f++) {
		if (skm__ev_fields[f].column == NULL)
			continue;
		t = sqlite3_mprintf("%s, json_extract(?1, '$.%s')", sql,
		    skm__ev_fields[f].column);
		sqlite3_free(sql);
		sql = t;
	}
	t = sql == NULL ? NULL : sqlite3_mprintf("%s WHERE json_valid(?1) "
	    "AND json_type(?1) = 'object'", sql);
	sqlite3_free(sql);
	return t;
}

static const char follow_sql[] =
    "SELECT value FROM json_each(?1, '$.follow_up_actions') "
    "WHERE type = 'text' AND json_type(?1, '$.follow_up_actions') = 'array'";

/*
 * put - column c of the line statement to field f, when its type fits
 * (anything else, JSON null included, leaves the field absent).  -1: a
 * time that is not one.
 */
static int
put(struct skm__event *ev, sqlite3_stmt *st, int c, enum skm__ev_field f)
{
	const struct skm__ev_desc *d = &skm__ev_fields[f];
	int t = sqlite3_column_type(st, c);
	char err[128];
	long long ms;

	switch (d->type) {
	case SKM__T_STR:
		if (t == SQLITE_TEXT) {
			struct skm__str *s = (struct skm__str *)(void *)
			    ((char *)ev + d->offset);

			s->p = (const char *)sqlite3_column_text(st, c);
			s->n = (size_t)sqlite3_column_bytes(st, c);
			ev->has |= 1u << f;
		}
		break;
	case SKM__T_INT:
		if (t == SQLITE_INTEGER)
			skm__ev_int(ev, f, sqlite3_column_int64(st, c));
		break;
	case SKM__T_REAL:
		if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
			skm__ev_real(ev, f, sqlite3_column_double(st, c));
		break;
	case SKM__T_TIME:
		if (t == SQLITE_NULL)
			break;
		if (t != SQLITE_TEXT || skm__tp_parse_iso((const char *)
		    sqlite3_column_text(st, c), &ms, err, sizeof(err)) != 0)
			return -1;
		skm__ev_int(ev, f, (int64_t)ms * 1000);
		break;
	}
	return 0;
}

struct carry {
	struct skm__jnl *j;      /* the journal the records go to */
	sqlite3_stmt *line, *follow;
	struct skm__event ev;
	char *fbuf;              /* the follow-up actions' text */
	size_t fcap;
	unsigned char *rec;
	size_t rcap;
	long carried, rejected;
};

/* The follow-up actions of the line json, copied (they outlive the
 * statement's row). */
static int
follow_ups(struct carry *cr, const char *json, size_t len)
{
	size_t used = 0, n, i;
	size_t off[SKM__EV_FOLLOW_MAX], sz[SKM__EV_FOLLOW_MAX];
	int k = 0;

	sqlite3_bind_text(cr->follow, 1, json, (int)len, SQLITE_STATIC);
	while (sqlite3_step(cr->follow) == SQLITE_ROW &&
	    k < SKM__EV_FOLLOW_MAX) {
		n = (size_t)sqlite3_column_bytes(cr->follow, 0);
		if (used + n + 1 > cr->fcap) {
			size_t cap = (used + n + 1) * 2;
			char *p = realloc(cr->fbuf, cap);

			if (p == NULL) {
				sqlite3_reset(cr->follow);
				return -1;
			}
			cr->fbuf = p;
			cr->fcap = cap;
		}
		memcpy(cr->fbuf + used, sqlite3_column_text(cr->follow, 0), n);
		off[k] = used;
		sz[k++] = n;
		used += n + 1;
	}
	sqlite3_reset(cr->follow);
	for (i = 0; i < (size_t)k; i++) {
		cr->ev.follow[i].p = cr->fbuf + off[i];
		cr->ev.follow[i].n = sz[i];
	}
	cr->ev.nfollow = k;
	return 0;
}

/* One spool line as a journal record, appended.  0: carried; 1: no
 * event (the caller keeps it); -1: the journal could not take it. */
static int
carry_line(struct carry *cr, const char *p, size_t len)
{
	struct skm__event *ev = &cr->ev;
	const char *kind;
	size_t need, n;
	int rc = 1, f, c;

	memset(ev, 0, sizeof(*ev));
	sqlite3_bind_text(cr->line, 1, p, (int)len, SQLITE_STATIC);
	if (sqlite3_step(cr->line) != SQLITE_ROW)
		goto out;
	kind = (const char *)sqlite3_column_text(cr->line, 0);
	if (kind == NULL || (strcmp(kind, "begin") != 0 &&
	    strcmp(kind, "end") != 0))
		goto out;
	ev->kind = strcmp(kind, "end") == 0 ? SKM__EV_RUN : SKM__EV_BEGIN;
	/* A begin line carries the end's keys too, all null. */
	for (f = 0, c = 1; f < SKM__F_COUNT; f++)
		if (skm__ev_fields[f].column != NULL &&
		    put(ev, cr->line, c++, (enum skm__ev_field)f) != 0)
			goto out;
	if (!SKM__HAS(ev, ID) || !SKM__HAS(ev, SKILL) ||
	    !SKM__HAS(ev, INVOKED) ||
	    (ev->kind == SKM__EV_RUN && !SKM__HAS(ev, ENDED)))
		goto out;
	if (ev->kind == SKM__EV_RUN && follow_ups(cr, p, len) != 0) {
		rc = -1;
		goto out;
	}
	/* A command past the limit: just past it, on a character boundary
	 * (the fold cuts and marks it), so the record stays small. */
	if (SKM__HAS(ev, COMMAND) && ev->command.n > SKM_COMMAND_MAX) {
		n = SKM_COMMAND_MAX + 1;
		while (n < ev->command.n &&
		    ((unsigned char)ev->command.p[n] & 0xc0) == 0x80)
			n++;
		ev->command.n = n;
	}
	need = skm__ev_size(ev);
	if (need > SKM__REC_HDR + SKM__REC_MAX)
		goto out;       /* no reader would take it: kept as a line */
	if (need > cr->rcap) {
		unsigned char *b = realloc(cr->rec, need);

		if (b == NULL) {
			rc = -1;
			goto out;
		}
		cr->rec = b;
		cr->rcap = need;
	}
	if (skm__ev_encode(ev, cr->rec, need) == 0)
		goto out;
	rc = skm__jnl_append(cr->j, cr->rec, need, NULL) == 0 ? 0 : -1;
out:
	sqlite3_reset(cr->line);
	return rc;
}

/* Append the line that is no event to DB.journal/legacy.jsonl. */
static int
keep_line(struct carry *cr, int jfd, const char *p, size_t len)
{
	int fd, ok;

	fd = openat(jfd, LEGACY_REJECTS, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -1;
	ok = write(fd, p, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	close(fd);
	if (ok)
		cr->rejected++;
	return ok ? 0 : -1;
}

/* Read all of fd (a regular file of at most SPOOL_MAX bytes). */
static char *
slurp_spool(int fd, size_t *len)
{
	struct stat sb;
	char *buf;
	size_t n = 0;
	ssize_t r;

	if (fstat(fd, &sb) != 0 || sb.st_size > SPOOL_MAX)
		return NULL;
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		return NULL;
	while (n < (size_t)sb.st_size &&
	    ((r = read(fd, buf + n, (size_t)sb.st_size - n)) > 0 ||
	    (r == -1 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	*len = n;
	return buf;
}

/* Carry the spool file name (in dfd, the spool directory) over; remove
 * it when every line is in the journal or kept.  -1: leave it be. */
static int
carry_file(struct carry *cr, struct skm__jnl *sp, int dfd, int jfd,
    const char *name)
{
	char *buf, *p, *end, *nl;
	size_t len = 0;
	int fd, i, rc = 0;

	if ((fd = skm__jnl_openat(sp, dfd, name, 0)) == -1)
		return -1;
	/* Old recorders append under a shared lock: wait for the last. */
	for (i = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (i >= 500) {
			close(fd);
			return -1;
		}
		skm__util_sleep_ms(2);
	}
	if ((buf = slurp_spool(fd, &len)) == NULL) {
		close(fd);
		return -1;
	}
	for (p = buf, end = buf + len; p < end && rc == 0; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		if ((rc = carry_line(cr, p, (size_t)(nl - p))) == 0)
			cr->carried++;
		else if (rc == 1)
			rc = keep_line(cr, jfd, p, (size_t)(nl - p));
	}
	free(buf);
	/* On disk in the journal before the spool's copy goes. */
	if (rc == 0 && fsync(jfd) == 0) {
		int lfd = openat(jfd, SKM__JNL_LIVE, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);

		if (lfd != -1) {
			rc = fsync(lfd);
			close(lfd);
		}
		if (rc == 0)
			rc = unlinkat(dfd, name, 0);
	}
	close(fd);
	return rc;
}

/* The spool's files to carry: draining-* (oldest name first), after
 * events.jsonl has been taken out of use as one of them. */
static int
spool_files(int dfd, char ***names)
{
	char tmp[96], id[SKM_ID_LEN + 1];

	skm__util_uuid7(id);
	snprintf(tmp, sizeof(tmp), "%s%s.jsonl", SPOOL_DRAINING, id);
	(void)renameat(dfd, SPOOL_LIVE, dfd, tmp);
	return skm__jnl_list(dfd, SPOOL_DRAINING, names);
}

int
skm__legacy_carry(struct skm_db *db, struct skm__jnl *j, long *carried)
{
	struct skm__jnl sp;
	struct carry cr;
	char **names = NULL, dir[PATH_MAX], *sql = NULL;
	int dfd, jfd, n, i, rc = SKM_OK;

	*carried = 0;
	if (spool_dir(j->dir, dir, sizeof(dir)) != 0)
		return SKM_OK;
	memset(&sp, 0, sizeof(sp));
	memcpy(sp.dir, dir, strlen(dir) + 1);
	/* Held to the journal's rules: refused, it is never read. */
	if ((dfd = skm__jnl_dirfd(&sp, 0)) == -1)
		return SKM_OK;
	if ((jfd = skm__jnl_dirfd(j, 1)) == -1) {
		close(dfd);
		return SKM_OK;
	}
	memset(&cr, 0, sizeof(cr));
	cr.j = j;
	sql = line_sql();
	if (sql == NULL || sqlite3_prepare_v2(db->conn, sql, -1, &cr.line,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db->conn, follow_sql, -1,
	    &cr.follow, NULL) != SQLITE_OK) {
		rc = skm__store_sqlfail(db, sqlite3_errcode(db->conn),
		    "legacy spool");
		goto out;
	}
	n = spool_files(dfd, &names);
	for (i = 0; i < n; i++)
		(void)carry_file(&cr, &sp, dfd, jfd, names[i]);
	if (n > 0)
		skm__jnl_list_free(names, n);
	*carried = cr.carried;
out:
	sqlite3_free(sql);
	sqlite3_finalize(cr.line);
	sqlite3_finalize(cr.follow);
	free(cr.fbuf);
	free(cr.rec);
	close(jfd);
	close(dfd);
	/* Empty now: gone, so that queries stop looking for it. */
	(void)rmdir(dir);
	return rc;
}

void
skm__legacy_note(const char *jdir, void (*cb)(void *, const char *),
    void *arg)
{
	char path[PATH_MAX + 32], msg[PATH_MAX + 256], buf[8192];
	struct stat sb;
	long lines = 0;
	ssize_t r;
	int fd;

	if (cb == NULL)
		return;
	if (spool_dir(jdir, path, sizeof(path)) == 0 &&
	    lstat(path, &sb) == 0) {
		snprintf(msg, sizeof(msg), "note: %s: the spool of an earlier "
		    "skm is still there (refused if it is not a directory of "
		    "this user closed to others; otherwise carried into the "
		    "journal by the next fold: skm drain)", path);
		cb(arg, msg);
	}
	snprintf(path, sizeof(path), "%s/%s", jdir, LEGACY_REJECTS);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
	close(fd);
	if (lines > 0) {
		snprintf(msg, sizeof(msg), "note: %ld line%s of an earlier "
		    "skm's spool could not be read as events; kept in %s",
		    lines, lines == 1 ? "" : "s", path);
		cb(arg, msg);
	}
}
