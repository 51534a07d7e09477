/*
 * store.c - opening the SQLite store, its pragmas and migrations, errors,
 * and write transactions with bounded retry.
 *
 * Every write is BEGIN IMMEDIATE ... COMMIT: the write lock is taken up
 * front, so a transaction never starts as a reader and fails to upgrade.
 * Waiting for the lock is bounded: a busy handler sleeps with exponential
 * backoff and jitter until SKM_BUSY_TIMEOUT_MS (default 2000 ms) has
 * passed, and a transaction that still meets SQLITE_BUSY is retried as a
 * whole within the same bound.  Nothing here prints or exits: failures are
 * a status code plus a message in the handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm-int.h"
#include "schema.h"
#include "record.h"
#include "timeparse.h"

#define DEFAULT_BUSY_MS 2000

int
skm_libversion_number(void)
{
	return SKM_VERSION_NUMBER;
}

const char *
skm_libversion(void)
{
	return SKM_VERSION;
}

const char *
skm_errstr(int rc)
{
	switch (rc) {
	case SKM_OK: return "ok";
	case SKM_ERROR: return "error";
	case SKM_MISUSE: return "bad argument";
	case SKM_NOMEM: return "out of memory";
	case SKM_BUSY: return "store is locked";
	case SKM_READONLY: return "store is read-only";
	case SKM_CORRUPT: return "store is damaged or not an skm database";
	case SKM_NEWER: return "store was written by a newer skm";
	case SKM_NOTFOUND: return "not found";
	case SKM_ENDED: return "invocation already ended";
	case SKM_CANTOPEN: return "cannot open store";
	case SKM_FULL: return "disk full";
	case SKM_IOERR: return "I/O error";
	case SKM_CHECK: return "check found problems";
	case SKM_FORMAT: return "malformed input";
	}
	return "unknown status";
}

/* Record a failure in the handle; returns rc so callers can return it. */
int
skm__store_fail(struct skm_db *db, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

void
skm__store_clear(struct skm_db *db)
{
	db->errmsg[0] = '\0';
}

static int
map_sqlite(int src)
{
	switch (src & 0xff) {
	case SQLITE_OK: return SKM_OK;
	case SQLITE_BUSY: case SQLITE_LOCKED: return SKM_BUSY;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH:
		return SKM_READONLY;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return SKM_CORRUPT;
	case SQLITE_FULL: return SKM_FULL;
	case SQLITE_IOERR: return SKM_IOERR;
	case SQLITE_CANTOPEN: return SKM_CANTOPEN;
	case SQLITE_NOMEM: return SKM_NOMEM;
	case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_RANGE:
		return SKM_MISUSE;
	}
	return SKM_ERROR;
}

/* Turn an SQLite result into a status and message naming what failed. */
int
skm__store_sqlfail(struct skm_db *db, int src, const char *what)
{
	int rc = map_sqlite(src), eno = 0;

	/* Name the operating system's reason where SQLite only says "disk
	 * I/O error": a full disk, a file size limit, a read-only mount. */
	if (db->conn != NULL && (rc == SKM_IOERR || rc == SKM_FULL ||
	    rc == SKM_CANTOPEN || rc == SKM_READONLY))
		eno = sqlite3_system_errno(db->conn);
	if (eno == ENOSPC || eno == EFBIG || eno == EDQUOT)
		rc = SKM_FULL;
	else if (eno == EROFS || eno == EACCES || eno == EPERM)
		rc = SKM_READONLY;
	if (eno != 0)
		return skm__store_fail(db, rc, "%s: %s (%s)", what,
		    sqlite3_errmsg(db->conn), strerror(eno));

	if (rc == SKM_BUSY)
		return skm__store_fail(db, rc, "%s: store is locked by another "
		    "process (waited %d ms)", what, db->busy_ms);
	if (rc == SKM_CORRUPT)
		return skm__store_fail(db, rc, "%s: not an skm database or damaged "
		    "(%s)", what, db->conn ? sqlite3_errmsg(db->conn) :
		    sqlite3_errstr(src));
	return skm__store_fail(db, rc, "%s: %s", what,
	    db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(src));
}

/* A handle whose open failed keeps failing with the same status. */
int
skm__store_usable(struct skm_db *db)
{
	if (db == NULL)
		return SKM_MISUSE;
	if (db->status != SKM_OK)
		return db->status;
	skm__store_clear(db);
	return SKM_OK;
}

/*
 * busy_wait - SQLite's busy handler: sleep with exponential backoff and
 * jitter until the handle's bound has passed since the first retry, then
 * give up (return 0).  skm's write transactions hold the lock for well
 * under a millisecond, so the waits start short (100 us) and stop growing
 * at 2 ms: a waiter notices a released lock within about a millisecond
 * instead of sleeping through dozens of other writers' turns, and the
 * jitter keeps waiters from waking in lock step.
 */
static int
busy_wait(void *arg, int n)
{
	static __thread double first;
	struct skm_db *db = arg;
	double now = skm__util_mono();
	long left, us;
	struct timespec ts;

	if (n == 0)
		first = now;
	left = db->busy_ms * 1000L - (long)((now - first) * 1e6);
	if (left <= 0)
		return 0;
	us = 100L << (n < 5 ? n : 5);
	if (us > 2000)
		us = 2000;
	us += (long)arc4random_uniform((uint32_t)us + 1);
	if (us > left)
		us = left;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

int
skm__store_exec(struct skm_db *db, const char *sql)
{
	int src = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? SKM_OK : skm__store_sqlfail(db, src, "store");
}

/*
 * skm__store_prepare - a prepared statement for sql, kept for the life of the
 * handle.  sql must be a string constant: its address is the cache key.
 * The statement comes back reset with its bindings cleared.  Only these
 * statements are ours to reset and finalize: SQLite's FTS5 keeps
 * statements of its own on the same connection.
 */
int
skm__store_prepare(struct skm_db *db, const char *sql, sqlite3_stmt **st)
{
	int i, src;

	for (i = 0; i < db->ncache; i++) {
		if (db->cache[i].sql == sql) {
			sqlite3_reset(db->cache[i].st);
			sqlite3_clear_bindings(db->cache[i].st);
			*st = db->cache[i].st;
			return SKM_OK;
		}
	}
	src = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "prepare");
	/* Never evict: finalizing a statement to make room freed one that a
	 * caller (an import holding its INSERT) could still be using. */
	if (db->ncache == db->capcache) {
		int cap = db->capcache ? 2 * db->capcache : SKM_CACHE_SLOTS;
		struct skm__cached *c = reallocarray(db->cache, (size_t)cap,
		    sizeof(*c));

		if (c == NULL) {
			sqlite3_finalize(*st);
			*st = NULL;
			return skm__store_fail(db, SKM_NOMEM, "out of memory");
		}
		db->cache = c;
		db->capcache = cap;
	}
	db->cache[db->ncache].sql = sql;
	db->cache[db->ncache].st = *st;
	db->ncache++;
	return SKM_OK;
}

static void
reset_all(struct skm_db *db)
{
	int i;

	for (i = 0; i < db->ncache; i++)
		sqlite3_reset(db->cache[i].st);
}

/* Take the write lock now (BEGIN IMMEDIATE), waiting within the bound. */
int
skm__store_begin_write(struct skm_db *db)
{
	int src = sqlite3_exec(db->conn, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	return src == SQLITE_OK ? SKM_OK : skm__store_sqlfail(db, src, "begin");
}

int
skm__store_commit(struct skm_db *db)
{
	int src;

	reset_all(db);
	db->pct.valid = 0;
	src = sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		return SKM_OK;
	return skm__store_sqlfail(db, src, "commit");
}

void
skm__store_rollback(struct skm_db *db)
{
	reset_all(db);
	db->pct.valid = 0;
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * skm__store_bulk - before an operation that reads or writes much of the store
 * (import, recompute, check, export): a 64 MiB page cache and reads
 * through mmap instead of one pread() per page.  A one-shot run never
 * pays for either.  Errors are ignored: these only change speed.
 */
void
skm__store_bulk(struct skm_db *db)
{
	if (db->bulk || db->conn == NULL)
		return;
	db->bulk = 1;
	sqlite3_exec(db->conn, "PRAGMA cache_size = -65536; "
	    "PRAGMA mmap_size = 4294967296", NULL, NULL, NULL);
}

/*
 * wrote - count a committed write.  A handle that keeps writing (a
 * long-lived in-process user, an import) is not the one-shot process the
 * small WAL bound of keep_wal() is for: after WAL_BUSY_WRITES writes it
 * lets the WAL grow to SQLite's usual 1000 pages between checkpoints, and
 * checkpoints it when it closes (skm_close) so the next process does not
 * have a long WAL to read.
 */
#define WAL_BUSY_WRITES 32
static void
wrote(struct skm_db *db)
{
	if (++db->nwrites == WAL_BUSY_WRITES)
		sqlite3_wal_autocheckpoint(db->conn, 1000);
}

/*
 * skm__store_write - run fn(db, arg) inside BEGIN IMMEDIATE ... COMMIT.  A
 * transaction that fails with SKM_BUSY is rolled back and tried again,
 * with backoff, while the busy bound lasts; any other failure rolls back
 * and is returned as it is.
 */
int
skm__store_write(struct skm_db *db, int (*fn)(struct skm_db *, void *), void *arg)
{
	double start = skm__util_mono();
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if ((rc = skm__store_begin_write(db)) == SKM_OK &&
		    (rc = fn(db, arg)) == SKM_OK &&
		    (rc = skm__store_commit(db)) == SKM_OK) {
			wrote(db);
			return SKM_OK;
		}
		skm__store_rollback(db);
		if (rc != SKM_BUSY)
			return rc;
		if ((skm__util_mono() - start) * 1000.0 >= db->busy_ms)
			return rc;
		skm__util_sleep_ms(1 + (int)arc4random_uniform(
		    (uint32_t)(4 << (attempt < 5 ? attempt : 5))));
	}
}

int
skm_default_path(char *buf, size_t size)
{
	if (buf == NULL || size == 0)
		return SKM_MISUSE;
	return skm__rec_path(buf, size, NULL) == 0 ? SKM_OK : SKM_CANTOPEN;
}

/* mkdir -p of path's parent directories, each new one 0700. */
static int
make_parents(struct skm_db *db, const char *path)
{
	char dir[PATH_MAX];
	char *p;
	struct stat sb;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: path too long", path);
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (stat(dir, &sb) == 0) {
			if (!S_ISDIR(sb.st_mode))
				return skm__store_fail(db, SKM_CANTOPEN,
				    "%s: %s is not a directory", path, dir);
		} else if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			return skm__store_fail(db, errno == EACCES || errno == EROFS ?
			    SKM_READONLY : SKM_CANTOPEN,
			    "%s: cannot create directory %s: %s", path, dir,
			    strerror(errno));
		}
		*p = '/';
	}
	return SKM_OK;
}

/*
 * own_store - an existing store file must be a regular file of this user
 * (through a symlink of this user's only): in a shared directory another
 * user's file, planted before the store was made, would feed its runs to
 * this user's queries and read this user's runs (SQLite gives the -wal
 * the database file's mode).  A FIFO would block.  Returns SKM_OK,
 * SKM_NOTFOUND when there is no file, or fails naming the path.
 */
static int
own_store(struct skm_db *db, const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return SKM_NOTFOUND;
	if (S_ISLNK(sb.st_mode) && sb.st_uid != geteuid())
		return skm__store_fail(db, SKM_CANTOPEN, "%s: refused: a "
		    "symlink of another user", path);
	if (stat(path, &sb) != 0)
		return SKM_NOTFOUND;
	if (S_ISDIR(sb.st_mode))
		return skm__store_fail(db, SKM_CANTOPEN,
		    "%s: is a directory, not a database", path);
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid())
		return skm__store_fail(db, SKM_CANTOPEN, "%s: refused: not a "
		    "regular file of this user", path);
	return SKM_OK;
}

/*
 * prepare_file - make sure path can hold a store: parents exist (0700 when
 * made), and a missing database file is created 0600 whatever the umask
 * (SQLite gives its -wal and -shm files the database file's mode).  A
 * file that is there, or that another process made first, must be this
 * user's (own_store).
 */
static int
prepare_file(struct skm_db *db, const char *path)
{
	struct stat sb;
	int fd, rc;

	if ((rc = own_store(db, path)) != SKM_NOTFOUND)
		return rc;
	/* A journal without its store: recorders wrote it, and the store
	 * is made now for the fold (but never by a read-only handle). */
	if ((db->flags & SKM_OPEN_READONLY) || ((db->flags &
	    SKM_OPEN_NOCREATE) && (stat(db->jnl.dir, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode))))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: no such store", path);
	if ((rc = make_parents(db, path)) != SKM_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno != EEXIST)
		return skm__store_fail(db, errno == EACCES || errno == EROFS ?
		    SKM_READONLY : SKM_CANTOPEN, "%s: cannot create: %s", path,
		    strerror(errno));
	if (fd != -1) {
		(void)fchmod(fd, 0600);
		close(fd);
		return SKM_OK;
	}
	/* Someone made it between the look and the create. */
	rc = own_store(db, path);
	return rc == SKM_NOTFOUND ? skm__store_fail(db, SKM_CANTOPEN,
	    "%s: cannot create: it came and went", path) : rc;
}

/*
 * skm_busy_timeout_ms - the bound on waiting for the write lock:
 * $SKM_BUSY_TIMEOUT_MS, 0..SKM_BUSY_MAX_MS; anything else there (not a
 * number, negative, too large) gives the default, and *bad (if not NULL)
 * says so, for the caller to warn about.
 */
int
skm_busy_timeout_ms(int *bad)
{
	const char *env = getenv("SKM_BUSY_TIMEOUT_MS"), *e = NULL;
	long long v;

	if (bad != NULL)
		*bad = 0;
	if (env == NULL || *env == '\0')
		return DEFAULT_BUSY_MS;
	v = strtonum(env, 0, SKM_BUSY_MAX_MS, &e);
	if (e != NULL) {
		if (bad != NULL)
			*bad = 1;
		return DEFAULT_BUSY_MS;
	}
	return (int)v;
}

static int
read_int(struct skm_db *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int src;

	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, db->path);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, db->path);
	return SKM_OK;
}

/*
 * The stored forms of invocation's ids and times (migration 7) and back,
 * as SQL functions on every connection: skm_key(x) and skm_ms(x) make
 * what the table keeps from UUID text and ISO-8601 text; skm_uuid(x) and
 * skm_iso(x) give the text back (what the view skill_invocation shows,
 * there in plain SQL: schema.h).  A value of another form goes through
 * unchanged: an id that is not a lowercase UUID stays text, as does a
 * time that does not parse.
 */
static void
key_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char b[16];

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_TEXT &&
	    skm__util_uuid_bytes((const char *)sqlite3_value_text(argv[0]),
	    (size_t)sqlite3_value_bytes(argv[0]), b))
		sqlite3_result_blob(ctx, b, 16, SQLITE_TRANSIENT);
	else
		sqlite3_result_value(ctx, argv[0]);
}

static void
uuid_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char t[37];

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_BLOB &&
	    sqlite3_value_bytes(argv[0]) == 16) {
		skm__util_uuid_text(sqlite3_value_blob(argv[0]), t);
		sqlite3_result_text(ctx, t, 36, SQLITE_TRANSIENT);
	} else
		sqlite3_result_value(ctx, argv[0]);
}

static void
ms_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	long long ms;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_TEXT &&
	    skm__tp_parse_iso((const char *)sqlite3_value_text(argv[0]), &ms,
	    NULL, 0) == 0)
		sqlite3_result_int64(ctx, ms);
	else
		sqlite3_result_value(ctx, argv[0]);
}

static void
iso_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char t[TP_ISO_LEN];

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER &&
	    skm__tp_format_iso(sqlite3_value_int64(argv[0]), t) == 0)
		sqlite3_result_text(ctx, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_value(ctx, argv[0]);
}

static int
add_functions(sqlite3 *conn)
{
	static const struct {
		const char *name;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} f[] = {
		{ "skm_key", key_fn }, { "skm_uuid", uuid_fn },
		{ "skm_ms", ms_fn }, { "skm_iso", iso_fn },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (sqlite3_create_function(conn, f[i].name, 1, SQLITE_UTF8 |
		    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, f[i].fn,
		    NULL, NULL) != SQLITE_OK)
			return -1;
	return 0;
}

/*
 * skm__store_bind_key - bind the id p (n bytes) to parameter i in the
 * form invocation keeps it: 16 bytes for a lowercase UUID, else text.
 * Copied: p need not outlive the call.
 */
void
skm__store_bind_key(sqlite3_stmt *st, int i, const char *p, size_t n)
{
	unsigned char b[16];

	if (p == NULL)
		sqlite3_bind_null(st, i);
	else if (skm__util_uuid_bytes(p, n, b))
		sqlite3_bind_blob(st, i, b, 16, SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(st, i, p, (int)n, SQLITE_TRANSIENT);
}

/* Apply migration m inside the caller's write transaction. */
static int
apply_one(struct skm_db *db, const struct skm_migration *m)
{
	char sum[17], now[32], pragma[64];
	double t0 = skm__util_mono();
	sqlite3_stmt *st;
	int src, rc;

	if ((rc = skm__store_exec(db, m->sql)) != SKM_OK)
		return rc;
	if (m->if_synced != NULL) {
		int synced = 0;

		if ((rc = read_int(db, "SELECT EXISTS (SELECT 1 FROM "
		    "sync_state)", &synced)) != SKM_OK || (synced &&
		    (rc = skm__store_exec(db, m->if_synced)) != SKM_OK))
			return rc;
	}
	skm__schema_checksum(m, sum);
	skm__util_now_iso(now);
	src = sqlite3_prepare_v2(db->conn, "INSERT INTO schema_migrations "
	    "(version, applied_at, description, checksum, migration_time_ms) "
	    "VALUES (?, ?, ?, ?, ?)", -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "migration");
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sum, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, (skm__util_mono() - t0) * 1000.0);
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "migration");
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    m->version);
	return skm__store_exec(db, pragma);
}

/*
 * reclaim - after a migration that moved every invocation to a new table,
 * give the old table's pages back to the file system when they are a
 * quarter of the file or more (a store of a million runs: 120 MB).
 * VACUUM rewrites the store in one transaction; if it cannot now (a
 * reader, no room for the copy), the free pages are simply reused by
 * the runs to come.
 */
static void
reclaim(struct skm_db *db)
{
	int free_pages = 0, pages = 0;

	if (read_int(db, "PRAGMA freelist_count", &free_pages) != SKM_OK ||
	    read_int(db, "PRAGMA page_count", &pages) != SKM_OK)
		return;
	if (free_pages > 0 && free_pages >= pages / 4)
		sqlite3_exec(db->conn, "VACUUM", NULL, NULL, NULL);
}

/*
 * migrate - bring the store to the latest schema, one transaction per
 * migration.  The version is read again under the write lock, so two
 * processes creating the same store at once apply each migration once.
 */
static int
migrate(struct skm_db *db)
{
	int i, v, ntables, rc, moved = 0;

	for (i = 0; i < skm__nmigrations; i++) {
		if ((rc = skm__store_begin_write(db)) != SKM_OK)
			return rc;
		if ((rc = read_int(db, "PRAGMA user_version", &v)) != SKM_OK)
			goto fail;
		if (v >= skm__migrations[i].version) {
			skm__store_rollback(db);
			continue;
		}
		if (v == 0 && (rc = read_int(db, "SELECT count(*) FROM "
		    "sqlite_master", &ntables)) == SKM_OK && ntables > 0) {
			rc = skm__store_fail(db, SKM_CORRUPT, "%s: not an skm "
			    "database (it has tables but no skm schema)",
			    db->path);
			goto fail;
		}
		if (rc != SKM_OK || (rc = apply_one(db, &skm__migrations[i]))
		    != SKM_OK || (rc = skm__store_commit(db)) != SKM_OK)
			goto fail;
		/* The WAL holds what the migration wrote: skm_close folds
		 * it in and truncates it. */
		db->bulk = 1;
		moved |= skm__migrations[i].moves_rows;
	}
	if (moved)
		reclaim(db);
	return SKM_OK;
fail:
	skm__store_rollback(db);
	return rc;
}

/*
 * keep_wal - leave the WAL in place when the connection closes.  By
 * default the last connection to close checkpoints the WAL into the
 * database (two fdatasync()s) and deletes the -wal and -shm files, and the
 * next process recreates them: every skm command, one short process
 * each, would pay all of that.  Without the checkpoint at close, the
 * WAL stays, and its size is bounded by the checkpoint SQLite runs after
 * a commit once the WAL holds SKM_WAL_PAGES pages.  The bound is kept
 * small because the first process to open the store after all others
 * closed rebuilds the WAL index by reading the whole WAL (about 4 KiB a
 * page), and a checkpoint then comes every few commits, not at every
 * one.  A crash loses nothing: the WAL is part of the database, and the
 * next open replays it.
 *
 * The price: a long-lived writer also checkpoints every few
 * transactions.  Bounding the WAL at close instead (truncating it in
 * skm_close) would hold the write lock while the truncation waits, which
 * the other writers see as latency.  A fold of much (bulk mode, fold.c)
 * sets a larger bound of its own.  What these cost is measured by `make
 * bench` and kept in the README's Performance section, not here.
 */
#define SKM_WAL_PAGES 64
static void
keep_wal(struct skm_db *db)
{
	sqlite3_db_config(db->conn, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_autocheckpoint(db->conn, SKM_WAL_PAGES);
}

/*
 * set_wal - WAL is a property of the file, set once when it is made.  Two
 * processes creating the same store race here, and SQLite answers BUSY to
 * this pragma without calling the busy handler, so back off and retry
 * within the busy bound ourselves.
 */
static int
set_wal(struct skm_db *db)
{
	double start = skm__util_mono();
	int src, attempt;

	for (attempt = 0;; attempt++) {
		src = sqlite3_exec(db->conn, "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
		if (src == SQLITE_OK)
			return SKM_OK;
		if ((src & 0xff) != SQLITE_BUSY && (src & 0xff) != SQLITE_LOCKED)
			return skm__store_sqlfail(db, src, db->path);
		if ((skm__util_mono() - start) * 1000.0 >= db->busy_ms)
			return skm__store_sqlfail(db, src, db->path);
		skm__util_sleep_ms(1 + (int)arc4random_uniform(
		    (uint32_t)(2 << (attempt < 5 ? attempt : 5))));
	}
}

/*
 * skm__store_leave_wal - for a load that writes nearly all of its pages
 * new (an import into an empty store): write it with a rollback journal
 * instead of the WAL.  In WAL mode each page is written twice, into the
 * WAL at the commit and into the database at the checkpoint; with a
 * rollback journal the new pages go into the file once, and the journal
 * keeps the old content of the few pages the load changes, so the load
 * is still one transaction that a crash at any instant rolls back (the
 * next open plays the journal back).  synchronous = FULL syncs the journal
 * before the file is written, which NORMAL does not always do in this
 * mode.
 *
 * SQLite leaves WAL only for the store's one connection: any other (a
 * query, a long-lived library user) holds a lock that makes the pragma
 * fail at once, without waiting, and the load stays in the WAL.  Returns
 * 1 when the store left WAL: the caller calls skm__store_back_to_wal()
 * after its transaction, and a store left in rollback mode by a crash in
 * between is put back in WAL by the next open (restore_wal).
 */
int
skm__store_leave_wal(struct skm_db *db)
{
	sqlite3_stmt *st;
	int left;

	if (sqlite3_prepare_v2(db->conn, "PRAGMA main.journal_mode = DELETE",
	    -1, &st, NULL) != SQLITE_OK)
		return 0;
	left = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "delete") == 0;
	sqlite3_finalize(st);
	if (left)
		sqlite3_exec(db->conn, "PRAGMA main.synchronous = FULL", NULL,
		    NULL, NULL);
	return left;
}

/*
 * skm__store_back_to_wal - WAL again after skm__store_leave_wal(), waiting
 * for readers as a write does.  Quiet: the handle's message stays the
 * load's.  If it fails, the next open does it (restore_wal).
 */
void
skm__store_back_to_wal(struct skm_db *db)
{
	sqlite3_exec(db->conn, "PRAGMA main.synchronous = NORMAL; "
	    "PRAGMA main.journal_mode = WAL", NULL, NULL, NULL);
}

/*
 * restore_wal - a store found in rollback mode (a bulk load was killed
 * before it put WAL back, or another connection kept it from doing so)
 * is put back in WAL mode.  Never waits: a store busy now is put back by
 * a later open, or by the load itself when it ends.
 */
static void
restore_wal(struct skm_db *db)
{
	sqlite3_stmt *st;
	int wal;

	if (sqlite3_prepare_v2(db->conn, "PRAGMA main.journal_mode", -1, &st,
	    NULL) != SQLITE_OK)
		return;
	wal = sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (wal)
		return;
	sqlite3_busy_handler(db->conn, NULL, NULL);
	sqlite3_exec(db->conn, "PRAGMA main.journal_mode = WAL", NULL, NULL,
	    NULL);
	sqlite3_busy_handler(db->conn, busy_wait, db);
}

/*
 * open_conn - open the connection, set the per-connection pragmas and
 * check or migrate the schema.  user_version is the first read: it is one
 * page, and a garbage file fails here without being written.
 */
static int
open_conn(struct skm_db *db)
{
	int oflags, src, v = 0, rc;
	oflags = (db->flags & SKM_OPEN_READONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE;
	src = sqlite3_open_v2(db->path, &db->conn,
	    oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, db->path);
	sqlite3_extended_result_codes(db->conn, 1);
	keep_wal(db);
	db->busy_ms = skm_busy_timeout_ms(NULL);
	sqlite3_busy_handler(db->conn, busy_wait, db);
	if (add_functions(db->conn) != 0)
		return skm__store_fail(db, SKM_NOMEM, "%s: cannot register "
		    "functions", db->path);
	if (db->setup != NULL && (rc = db->setup(db)) != SKM_OK)
		return skm__store_fail(db, rc, "%s: cannot register functions",
		    db->path);
	if ((rc = read_int(db, "PRAGMA user_version", &v)) != SKM_OK)
		return rc;
	if (v > skm_schema_latest())
		return skm__store_fail(db, SKM_NEWER, "%s: written by a newer skm "
		    "(schema %d, this skm knows up to %d); not touching it",
		    db->path, v, skm_schema_latest());
	if ((rc = skm__store_exec(db, "PRAGMA synchronous = NORMAL; "
	    "PRAGMA foreign_keys = ON")) != SKM_OK)
		return rc;
	if (v > 0 && !(db->flags & SKM_OPEN_READONLY))
		restore_wal(db);
	if (v == skm_schema_latest())
		return SKM_OK;
	if (db->flags & SKM_OPEN_READONLY)
		return skm__store_fail(db, SKM_READONLY, "%s: store needs an "
		    "upgrade (schema %d) but was opened read-only", db->path, v);
	if (v == 0 && (rc = set_wal(db)) != SKM_OK)
		return rc;
	return migrate(db);
}

static int check_side_files(struct skm_db *);

/*
 * skm__store_open - the store at path (NULL: skm_default_path) as flags
 * say, with setup run on the new connection before anything is read (the
 * SQL functions of the layers above: passed in, not called up into).
 * *out is set as skm_open() documents.
 */
int
skm__store_open(const char *path, int flags, int (*setup)(struct skm_db *),
    struct skm_db **out)
{
	struct skm_db *db;
	char buf[PATH_MAX];
	int rc;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return SKM_NOMEM;
	db->flags = flags;
	db->busy_ms = DEFAULT_BUSY_MS;
	db->setup = setup;
	*out = db;
	if (path == NULL || *path == '\0') {
		if (skm_default_path(buf, sizeof(buf)) != SKM_OK) {
			db->path = strdup("");
			return db->status = skm__store_fail(db, SKM_CANTOPEN,
			    "no store path: set SKM_DB or HOME");
		}
		path = buf;
	}
	if ((db->path = strdup(path)) == NULL)
		return db->status = skm__store_fail(db, SKM_NOMEM, "out of memory");
	/* The journal first: events still reach it when the store fails. */
	(void)skm__jnl_init(&db->jnl, db->path);
	if ((rc = prepare_file(db, db->path)) != SKM_OK ||
	    (rc = check_side_files(db)) != SKM_OK ||
	    (rc = open_conn(db)) != SKM_OK) {
		db->status = rc;
		if (db->conn != NULL) {
			sqlite3_close_v2(db->conn);
			db->conn = NULL;
		}
		return rc;
	}
	return SKM_OK;
}

/*
 * check_side_files - SQLite's -wal, -shm and -journal files of the store,
 * if they exist, must be this user's and closed to others: a -wal or a
 * hot -journal planted by another user would be replayed into the store
 * (SQLite looks for a hot journal at every open, WAL mode or not), and
 * one others can read shows them the store's recent writes.
 */
static int
check_side_files(struct skm_db *db)
{
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	char side[PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (snprintf(side, sizeof(side), "%s%s", db->path, sfx[i]) >=
		    (int)sizeof(side))
			return skm__store_fail(db, SKM_CANTOPEN, "%s: path too long",
			    db->path);
		if (lstat(side, &sb) != 0)
			continue;
		if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		    (sb.st_mode & 077) != 0)
			return skm__store_fail(db, SKM_CANTOPEN, "%s: refused: not a "
			    "regular file of this user closed to group and "
			    "others", side);
	}
	return SKM_OK;
}

void
skm__store_close(struct skm_db *db)
{
	int i;

	if (db == NULL)
		return;
	if (db->server_close != NULL)
		db->server_close(db);	/* a server handle's connection */
	for (i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	free(db->cache);
	db->cache = NULL;
	db->ncache = db->capcache = 0;
	/* A busy writer leaves the WAL folded in (without waiting for
	 * anyone: PASSIVE never blocks readers or writers).  After a bulk
	 * operation the WAL may hold hundreds of MB (an import is one
	 * transaction): fold it in and truncate the file, or the next
	 * process to open the store would read all of it to rebuild the WAL
	 * index, and the disk would keep it. */
	if (db->conn != NULL && db->bulk)
		sqlite3_wal_checkpoint_v2(db->conn, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	else if (db->conn != NULL && db->nwrites >= WAL_BUSY_WRITES)
		sqlite3_wal_checkpoint_v2(db->conn, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (db->conn != NULL)
		sqlite3_close_v2(db->conn);
	free(db->path);
	free(db);
}

const char *
skm_errmsg(const struct skm_db *db)
{
	if (db == NULL)
		return "no store handle";
	return db->errmsg;
}

const char *
skm_path(const struct skm_db *db)
{
	return db != NULL && db->path != NULL ? db->path : "";
}

int
skm_schema_version(struct skm_db *db)
{
	int v = -1;

	if (skm__store_usable(db) != SKM_OK)
		return -1;
	read_int(db, "PRAGMA user_version", &v);
	return v;
}

void
skm_free(void *p)
{
	sqlite3_free(p);
}
