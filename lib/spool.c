/*
 * spool.c - never lose a run: when the store cannot take a write (locked
 * beyond the busy bound, read-only, full, damaged, from a newer skm), the
 * begin or end event goes to an append-only spool beside the database,
 * and the next write that gets the store drains it.
 *
 * Layout: DB.spool/ (0700) holds events.jsonl (0600).  Each event is one
 * self-contained JSON object (made by SQLite's json_object on a private
 * in-memory connection) written as "\n{...}\n" with a single O_APPEND
 * write(), so events of many processes interleave whole, and a line torn
 * by a full disk is cut off by the next writer's leading newline and
 * skipped, never glued to a good event.
 *
 * Draining: the drainer renames events.jsonl to draining-ID.jsonl and
 * takes flock(LOCK_EX) on it.  Writers append under flock(LOCK_SH) and,
 * once they hold it, check that the file they opened is still the one at
 * events.jsonl; if it was renamed meanwhile they reopen.  So when the
 * drainer holds LOCK_EX the renamed file is complete and no writer will
 * touch it again.  Its events are applied inside the caller's write
 * transaction and the file is removed only after COMMIT.  Applying is
 * idempotent (a begin is INSERT ... ON CONFLICT DO NOTHING, an end updates
 * only a row not yet ended), so a crash between COMMIT and unlink, or two
 * drainers reading one leftover file, never counts an event twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm-int.h"

#define SPOOL_FILE "events.jsonl"
#define DRAIN_PREFIX "draining-"

/* buf = a/b c; -1 if it does not fit. */
static int
join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, size, "%s/%s%s", a, b, c);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Statuses that mean "the store cannot take this write now". */
int
spool_wanted(int rc)
{
	switch (rc) {
	case SKM_BUSY: case SKM_READONLY: case SKM_CORRUPT: case SKM_NEWER:
	case SKM_CANTOPEN: case SKM_FULL: case SKM_IOERR:
		return 1;
	}
	return 0;
}

static int
spool_dir(const struct skm_db *db, char *buf, size_t size)
{
	int n;

	if (db->path == NULL || db->path[0] == '\0')
		return -1;
	n = snprintf(buf, size, "%s.spool", db->path);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * event_json - one event as JSON text (sqlite3_malloc'd), made on a
 * private in-memory connection: the store itself may be unusable.
 */
static char *
event_json(const struct skm_inv *inv, const struct skm_end_info *ei,
    const struct end_rec *r)
{
	static const char sql[] =
	    "SELECT json_object('ev', ?1, 'id', ?2, 'skill_name', ?3, "
	    "'invoked_at', ?4, 'workflow_path', ?5, 'session_id', ?6, "
	    "'project_path', ?7, 'parent_id', ?8, 'command', ?9, 'host', ?10, "
	    "'pid', ?11, 'source', ?12, 'mono_start', ?13, 'boot_id', ?14, "
	    "'ended_at', ?15, 'completed', ?16, 'duration_seconds', ?17, "
	    "'error_type', ?18, 'exit_code', ?19, 'signal', ?20, "
	    "'follow_up_actions', json(?21), 'user_cpu_seconds', ?22, "
	    "'sys_cpu_seconds', ?23, 'max_rss_kb', ?24, 'pid_start', ?25)";
	sqlite3 *m = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	long long pstart;

	if (sqlite3_open_v2(":memory:", &m, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, r != NULL ? "end" : "begin", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inv->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, inv->skill, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, inv->invoked_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, inv->workflow, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, inv->session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, inv->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, inv->parent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, inv->command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, util_hostname(), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, inv->pid);
	sqlite3_bind_text(st, 12, inv->source, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 13, inv->mono_start);
	sqlite3_bind_text(st, 14, util_boot_id(), -1, SQLITE_STATIC);
	if ((pstart = reap_pid_start(inv->pid, NULL)) >= 0)
		sqlite3_bind_int64(st, 25, pstart);
	if (r != NULL) {
		sqlite3_bind_text(st, 15, r->ended, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 16, ei->completed ? 1 : 0);
		sqlite3_bind_double(st, 17, r->d);
		sqlite3_bind_text(st, 18, r->et, -1, SQLITE_STATIC);
		end_bind_outcome(st, 19, ei, r->fu);
	} else {
		sqlite3_bind_text(st, 21, "[]", -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		out = sqlite3_mprintf("\n%s\n", sqlite3_column_text(st, 0));
out:
	sqlite3_finalize(st);
	sqlite3_close(m);
	return out;
}

/*
 * append - write buf to DIR/events.jsonl in one O_APPEND write under a
 * shared flock, reopening if a drainer renamed the file meanwhile.
 */
static int
append(const char *dir, const char *buf, size_t len)
{
	char path[PATH_MAX];
	struct stat a, b;
	ssize_t n;
	int fd, tries;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &a) != 0 || !S_ISDIR(a.st_mode))
		return -1;
	if (join(path, sizeof(path), dir, SPOOL_FILE, "") != 0)
		return -1;
	for (tries = 0; tries < 20; tries++) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return -1;
		if (flock(fd, LOCK_SH) != 0 || fstat(fd, &a) != 0) {
			close(fd);
			return -1;
		}
		if (stat(path, &b) != 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev) {
			close(fd);      /* renamed by a drainer: reopen */
			continue;
		}
		n = write(fd, buf, len);
		close(fd);
		return n == (ssize_t)len ? 0 : -1;
	}
	return -1;
}

/* Spool one event; remembers why (the store's message) in the handle. */
static int
spool_event(struct skm_db *db, const struct skm_inv *inv,
    const struct skm_end_info *ei, const struct end_rec *r)
{
	char dir[PATH_MAX], *json;
	int rc;

	if (spool_dir(db, dir, sizeof(dir)) != 0)
		return SKM_CANTOPEN;
	if ((json = event_json(inv, ei, r)) == NULL)
		return SKM_NOMEM;
	rc = append(dir, json, strlen(json)) == 0 ? SKM_OK : SKM_IOERR;
	sqlite3_free(json);
	if (rc != SKM_OK)
		return rc;
	if (db->nspooled++ == 0)
		snprintf(db->spool_why, sizeof(db->spool_why), "%s",
		    db->errmsg[0] != '\0' ? db->errmsg : "store unavailable");
	return SKM_OK;
}

int
spool_begin(struct skm_db *db, const struct skm_inv *inv)
{
	return spool_event(db, inv, NULL, NULL);
}

int
spool_end(struct skm_db *db, const struct skm_inv *inv,
    const struct skm_end_info *ei, const struct end_rec *r)
{
	return spool_event(db, inv, ei, r);
}

int
skm_spooled(const struct skm_db *db, const char **why)
{
	if (why != NULL)
		*why = db != NULL && db->nspooled > 0 ? db->spool_why : "";
	return db != NULL ? db->nspooled : 0;
}

/* Read a whole file (sqlite3_malloc'd, NUL-terminated) from fd. */
static char *
slurp(int fd, size_t *len)
{
	struct stat sb;
	char *buf;
	size_t off = 0;
	ssize_t n;

	if (fstat(fd, &sb) != 0)
		return NULL;
	if ((buf = sqlite3_malloc64((sqlite3_uint64)sb.st_size + 1)) == NULL)
		return NULL;
	while (off < (size_t)sb.st_size &&
	    (n = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* Store errors stop a drain; anything else about a line skips that line,
 * so one bad event can never block every later write. */
static int
line_error(struct skm_db *db, int src)
{
	switch (src & 0xff) {
	case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR:
	case SQLITE_FULL: case SQLITE_NOMEM: case SQLITE_READONLY:
	case SQLITE_CORRUPT: case SQLITE_NOTADB:
		store_sqlfail(db, src, "spool");
		return -1;
	}
	return 0;
}

/*
 * apply_line - one spooled event into the store, inside the caller's
 * transaction.  Returns 1 if it changed the store, 0 if it was already
 * there (or is not a valid event), -1 on a store error.
 */
static int apply_one(struct skm_db *db, const char *line, size_t len);

/* Each line in a savepoint of its own: a line that fails half-way (its
 * row ended, its aggregates not) is undone whole and skipped. */
static int
apply_line(struct skm_db *db, const char *line, size_t len)
{
	int r;

	if (sqlite3_exec(db->conn, "SAVEPOINT spool_line", 0, 0, 0) != SQLITE_OK)
		return -1;
	r = apply_one(db, line, len);
	if (r <= 0)
		sqlite3_exec(db->conn, "ROLLBACK TO spool_line", 0, 0, 0);
	sqlite3_exec(db->conn, "RELEASE spool_line", 0, 0, 0);
	return r;
}

static int
apply_one(struct skm_db *db, const char *line, size_t len)
{
	static const char ins[] =
	    "INSERT INTO skill_invocation (id, skill_name, invoked_at, "
	    "workflow_path, session_id, project_path, parent_id, command, "
	    "host, pid, source, mono_start, boot_id, pid_start) "
	    "SELECT json_extract(j, '$.id'), json_extract(j, '$.skill_name'), "
	    "json_extract(j, '$.invoked_at'), "
	    "json_extract(j, '$.workflow_path'), "
	    "json_extract(j, '$.session_id'), "
	    "json_extract(j, '$.project_path'), "
	    "json_extract(j, '$.parent_id'), json_extract(j, '$.command'), "
	    "json_extract(j, '$.host'), "
	    "CASE json_type(j, '$.pid') WHEN 'integer' THEN "
	    "json_extract(j, '$.pid') END, "
	    "CASE json_type(j, '$.source') WHEN 'text' THEN "
	    "json_extract(j, '$.source') ELSE 'lib' END, "
	    "CASE json_type(j, '$.mono_start') WHEN 'real' THEN "
	    "json_extract(j, '$.mono_start') END, "
	    "CASE json_type(j, '$.boot_id') WHEN 'text' THEN "
	    "json_extract(j, '$.boot_id') END, "
	    "CASE json_type(j, '$.pid_start') WHEN 'integer' THEN "
	    "json_extract(j, '$.pid_start') END "
	    "FROM (SELECT ?1 AS j) WHERE CASE WHEN json_valid(j) THEN "
	    "json_type(j, '$.id') = 'text' "
	    "AND json_type(j, '$.skill_name') = 'text' "
	    "AND json_type(j, '$.invoked_at') = 'text' "
	    "AND julianday(json_extract(j, '$.invoked_at')) IS NOT NULL "
	    "ELSE 0 END "
	    "ON CONFLICT (id) DO NOTHING";
	/* Only well-typed values reach the row, so that the incremental
	 * aggregates and a recompute read them alike. */
	static const char upd[] =
	    "UPDATE skill_invocation SET "
	    "ended_at = json_extract(?1, '$.ended_at'), "
	    "completed = CASE WHEN json_extract(?1, '$.completed') IN (1, 1.0) "
	    "  THEN 1 ELSE 0 END, "
	    "duration_seconds = CASE WHEN json_type(?1, '$.duration_seconds') "
	    "  IN ('integer', 'real') AND json_extract(?1, "
	    "  '$.duration_seconds') >= 0 THEN json_extract(?1, "
	    "  '$.duration_seconds') END, "
	    "error_type = CASE json_type(?1, '$.error_type') WHEN 'text' "
	    "  THEN json_extract(?1, '$.error_type') END, "
	    "exit_code = CASE json_type(?1, '$.exit_code') WHEN 'integer' "
	    "  THEN json_extract(?1, '$.exit_code') END, "
	    "signal = CASE json_type(?1, '$.signal') WHEN 'integer' "
	    "  THEN json_extract(?1, '$.signal') END, "
	    "follow_up_actions = coalesce((SELECT json_group_array(value) "
	    "  FROM json_each(?1, '$.follow_up_actions') WHERE type = 'text' "
	    "  AND json_type(?1, '$.follow_up_actions') = 'array'), '[]'), "
	    "user_cpu_seconds = CASE WHEN json_type(?1, '$.user_cpu_seconds') "
	    "  IN ('integer', 'real') THEN json_extract(?1, "
	    "  '$.user_cpu_seconds') END, "
	    "sys_cpu_seconds = CASE WHEN json_type(?1, '$.sys_cpu_seconds') "
	    "  IN ('integer', 'real') THEN json_extract(?1, "
	    "  '$.sys_cpu_seconds') END, "
	    "max_rss_kb = CASE json_type(?1, '$.max_rss_kb') WHEN 'integer' "
	    "  THEN json_extract(?1, '$.max_rss_kb') END, "
	    "mono_start = NULL, boot_id = NULL "
	    "WHERE id = json_extract(?1, '$.id') AND ended_at IS NULL "
	    "AND json_extract(?1, '$.ev') = 'end' "
	    "AND json_type(?1, '$.ended_at') = 'text' "
	    "AND julianday(json_extract(?1, '$.ended_at')) IS NOT NULL "
	    "RETURNING id";
	sqlite3_stmt *st;
	char *id = NULL;
	int src, changed;

	if (store_prepare(db, ins, &st) != SKM_OK)
		return -1;
	sqlite3_bind_text(st, 1, line, (int)len, SQLITE_STATIC);
	src = sqlite3_step(st);
	changed = sqlite3_changes(db->conn) > 0 && src == SQLITE_DONE;
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return line_error(db, src);
	if (store_prepare(db, upd, &st) != SKM_OK)
		return -1;
	sqlite3_bind_text(st, 1, line, (int)len, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		id = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
	while (src == SQLITE_ROW)
		src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE) {
		sqlite3_free(id);
		return line_error(db, src);
	}
	if (id != NULL) {
		src = agg_add(db, id);
		sqlite3_free(id);
		if (src == SKM_BUSY || src == SKM_IOERR || src == SKM_FULL ||
		    src == SKM_NOMEM || src == SKM_READONLY || src == SKM_CORRUPT)
			return -1;
		return src == SKM_OK ? 1 : 0;
	}
	return changed;
}

static int
add_drained(struct skm_db *db, const char *path)
{
	char **p;

	p = reallocarray(db->drained, (size_t)db->ndrained + 1, sizeof(*p));
	if (p == NULL)
		return -1;
	db->drained = p;
	if ((p[db->ndrained] = strdup(path)) == NULL)
		return -1;
	db->ndrained++;
	return 0;
}

/* Apply every event of one claimed file. */
static int
drain_file(struct skm_db *db, const char *path, int *napplied)
{
	char *buf, *line, *nl;
	size_t len;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? SKM_OK : SKM_IOERR;
	/* Wait until writers that opened it before the rename are done. */
	if (flock(fd, LOCK_EX) != 0 || (buf = slurp(fd, &len)) == NULL) {
		close(fd);
		return SKM_IOERR;
	}
	close(fd);
	for (line = buf; line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) ==
		    NULL)
			nl = buf + len;
		if (nl == line)
			continue;
		if ((r = apply_line(db, line, (size_t)(nl - line))) < 0) {
			sqlite3_free(buf);
			return db->errmsg[0] ? SKM_ERROR : SKM_IOERR;
		}
		*napplied += r;
	}
	sqlite3_free(buf);
	return add_drained(db, path) == 0 ? SKM_OK : SKM_NOMEM;
}

/*
 * spool_drain - inside a write transaction: claim the spool file and any
 * file a crashed drainer left, and apply their events.  The files are
 * removed by spool_drained() once the transaction has committed.  Cheap
 * when there is no spool: one failed stat().
 */
int
spool_drain(struct skm_db *db, int *napplied)
{
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX], id[SKM_ID_LEN + 1];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = SKM_OK;

	if (spool_dir(db, dir, sizeof(dir)) != 0 || stat(dir, &sb) != 0)
		return SKM_OK;
	util_uuid7(id);
	if (join(from, sizeof(from), dir, SPOOL_FILE, "") != 0 ||
	    join(to, sizeof(to), dir, DRAIN_PREFIX, id) != 0)
		return SKM_OK;
	if (rename(from, to) != 0 && errno != ENOENT)
		return SKM_OK;    /* not ours to drain (read-only dir...) */
	if ((d = opendir(dir)) == NULL)
		return SKM_OK;
	while (rc == SKM_OK && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, DRAIN_PREFIX,
		    sizeof(DRAIN_PREFIX) - 1) != 0)
			continue;
		if (join(from, sizeof(from), dir, de->d_name, "") == 0)
			rc = drain_file(db, from, napplied);
	}
	closedir(d);
	return rc;
}

/* After the drain's transaction: remove the drained files if it
 * committed, else leave them for the next drain. */
void
spool_drained(struct skm_db *db, int committed)
{
	int i;

	for (i = 0; i < db->ndrained; i++) {
		if (committed)
			(void)unlink(db->drained[i]);
		free(db->drained[i]);
	}
	free(db->drained);
	db->drained = NULL;
	db->ndrained = 0;
}

/* Count the events waiting in the spool: non-empty lines of its files. */
long
spool_pending(const struct skm_db *db)
{
	char dir[PATH_MAX], path[PATH_MAX], *buf, *p;
	struct dirent *de;
	size_t len;
	long n = 0;
	DIR *d;
	int fd;

	if (spool_dir(db, dir, sizeof(dir)) != 0 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (join(path, sizeof(path), dir, de->d_name, "") != 0)
			continue;
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if ((buf = slurp(fd, &len)) != NULL) {
			for (p = buf; p < buf + len; p++)
				if (*p == '{' && (p == buf || p[-1] == '\n'))
					n++;
			sqlite3_free(buf);
		}
		close(fd);
	}
	closedir(d);
	return n;
}

static int
no_more(struct skm_db *db, void *arg)
{
	(void)db;
	(void)arg;
	return SKM_OK;
}

int
skm_drain(struct skm_db *db, int *n)
{
	int rc;

	if (n != NULL)
		*n = 0;
	if ((rc = store_usable(db)) != SKM_OK)
		return rc;
	if ((rc = store_write(db, no_more, NULL)) == SKM_OK && n != NULL)
		*n = db->last_drained;
	return rc;
}
