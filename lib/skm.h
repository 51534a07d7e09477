/*
 * skm.h - the public C API of libskm.
 *
 * libskm records runs ("invocations") of named skills in one SQLite store
 * and answers questions about them.  This header is the whole contract:
 *
 *   struct skm_db   an open store (opaque).  One per thread; a handle is not
 *                   safe to share between threads without a lock of your own.
 *   struct skm_inv  one invocation between its begin and its end (opaque).
 *
 * Every function returns an int status, SKM_OK (0) on success, unless its
 * comment says otherwise.  On failure, skm_errmsg() on the store handle
 * gives a human readable message owned by the library, valid until the next
 * call on that handle.  The library never prints and never exits.
 *
 * A typical in-process use (see examples/inprocess.c):
 *
 *	struct skm_db *db;
 *	struct skm_inv *inv;
 *	struct skm_begin_info bi = { .skill = "crackerjack-run" };
 *	struct skm_end_info ei = SKM_END_INFO_INIT;
 *
 *	if (skm_open(NULL, 0, &db) != SKM_OK) { ...skm_errmsg(db)...; }
 *	skm_begin(db, &bi, &inv);
 *	... the skill's work ...
 *	ei.completed = 1;
 *	skm_end(inv, &ei);
 *	skm_close(db);
 */
#ifndef SKM_H
#define SKM_H

#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header; skm_libversion_number() gives the library's. */
#define SKM_VERSION_MAJOR 0
#define SKM_VERSION_MINOR 1
#define SKM_VERSION_PATCH 0
#define SKM_VERSION "0.1.0"
#define SKM_VERSION_NUMBER \
	(SKM_VERSION_MAJOR * 1000000 + SKM_VERSION_MINOR * 1000 + SKM_VERSION_PATCH)

/* Status codes. */
#define SKM_OK        0   /* success */
#define SKM_ERROR     1   /* generic failure; see skm_errmsg() */
#define SKM_MISUSE    2   /* bad argument (NULL, empty skill, bad option) */
#define SKM_NOMEM     3   /* out of memory */
#define SKM_BUSY      4   /* store locked by others beyond the busy timeout */
#define SKM_READONLY  5   /* store or its directory cannot be written */
#define SKM_CORRUPT   6   /* not an skm database, or damaged */
#define SKM_NEWER     7   /* written by a newer skm; never written to */
#define SKM_NOTFOUND  8   /* no such invocation / skill / session */
#define SKM_ENDED     9   /* the invocation was already ended */
#define SKM_CANTOPEN 10   /* path unusable (a directory, missing parent...) */
#define SKM_FULL     11   /* disk or quota full */
#define SKM_IOERR    12   /* I/O error */
#define SKM_CHECK    13   /* skm_check() found problems */
#define SKM_FORMAT   14   /* input data is malformed (skm_import) */

/* Flags for skm_open(). */
#define SKM_OPEN_READONLY 0x01  /* never create, migrate or write */
#define SKM_OPEN_NOCREATE 0x02  /* fail with SKM_CANTOPEN if it does not exist */
#define SKM_OPEN_DIRECT   0x04  /* begin/end write the store at once (one
                                   transaction each) instead of appending
                                   to the journal */
#define SKM_OPEN_NOFOLD   0x08  /* do not fold the journal at open */

struct skm_db;
struct skm_inv;
struct skm_cursor;

/* Version of the library at run time: SKM_VERSION_NUMBER / SKM_VERSION
 * as they were when the library was built. */
int skm_libversion_number(void);
const char *skm_libversion(void);

/* A short static description of a status code ("store is locked", ...). */
const char *skm_errstr(int rc);

/*
 * skm_default_path - the store path used when skm_open() gets NULL:
 * $SKM_DB if set and not empty, else $XDG_DATA_HOME/skm/metrics.db, else
 * $HOME/.local/share/skm/metrics.db.  Writes it into buf (NUL-terminated,
 * truncated to size).  Returns SKM_OK, or SKM_CANTOPEN when no path can be
 * made (no HOME) or it does not fit.
 */
int skm_default_path(char *buf, size_t size);

/*
 * skm_open - open (and unless SKM_OPEN_READONLY, create and migrate) the
 * store at path, or at skm_default_path() when path is NULL.  Missing
 * directories are created 0700 and a new database file 0600.
 *
 * *out is always set, except on SKM_NOMEM or a NULL out: even on failure
 * it is a handle whose skm_errmsg() says what went wrong, and that must be
 * passed to skm_close().  Every other call on a failed handle fails with
 * the same status.  Returns SKM_OK, SKM_CANTOPEN, SKM_READONLY,
 * SKM_CORRUPT, SKM_NEWER, SKM_BUSY, SKM_NOMEM...
 */
int skm_open(const char *path, int flags, struct skm_db **out);

/* Close a store; NULL is a no-op.  Invocations still open on it must have
 * been ended or freed first. */
void skm_close(struct skm_db *db);

/* The message of the last failure on db (owned by the library, valid until
 * the next call on db); "" after success; a static text for NULL. */
const char *skm_errmsg(const struct skm_db *db);

/* The path of the store (owned by the library). */
const char *skm_path(const struct skm_db *db);

/* The store's schema version (user_version) and the one this library
 * writes. */
int skm_schema_version(struct skm_db *db);
int skm_schema_latest(void);

/*
 * Where an invocation comes from.  Strings are copied; NULL means absent.
 */
struct skm_begin_info {
	const char *skill;     /* required, 1..SKM_NAME_MAX bytes */
	const char *workflow;  /* workflow path ("quick", "ci/full") */
	const char *session;   /* session id */
	const char *project;   /* project directory */
	const char *parent_id; /* NULL: taken from $SKM_INVOCATION_ID */
	const char *command;   /* command line, already quoted and redacted */
	const char *source;    /* "run", "lib", "shim", "import"; NULL: "lib" */
	long long pid;         /* 0: getpid() */
};

#define SKM_NAME_MAX 256      /* bytes in a skill name */
#define SKM_FIELD_MAX 4096    /* bytes in a workflow, session, project,
                                 error type or follow-up action */
#define SKM_COMMAND_MAX 65536 /* bytes of a command line kept; longer ones
                                 are cut and end in "..." */
#define SKM_ID_LEN 36         /* bytes in an invocation id, without NUL */

/*
 * skm_begin_info_error - NULL when bi is acceptable, else a static message
 * naming what is wrong: a skill name must be 1..SKM_NAME_MAX bytes of
 * valid UTF-8 without control characters; workflow, session and project
 * at most SKM_FIELD_MAX bytes each (any bytes: stored verbatim).
 */
const char *skm_begin_info_error(const struct skm_begin_info *bi);

/*
 * skm_inv_create - make an invocation in memory: a new UUIDv7 id, the wall
 * clock start time and the CLOCK_MONOTONIC start.  Nothing is written;
 * no store is needed, so a wrapper can create it before fork() and pass
 * its id to the child.  Returns SKM_OK, SKM_MISUSE (see
 * skm_begin_info_error) or SKM_NOMEM.  On success *out must eventually go to
 * skm_end() or skm_inv_free().
 */
int skm_inv_create(const struct skm_begin_info *bi, struct skm_inv **out);

/*
 * skm_inv_start - record the begin of inv in db (one transaction): the
 * invocation becomes "running".  inv remembers db for skm_end().  On
 * failure inv stays usable: skm_end() then writes begin and end at once.
 */
int skm_inv_start(struct skm_db *db, struct skm_inv *inv);

/* skm_begin - skm_inv_create() + skm_inv_start().  On SKM_OK *out is the
 * running invocation; on failure *out is NULL and nothing was written. */
int skm_begin(struct skm_db *db, const struct skm_begin_info *bi,
    struct skm_inv **out);

/* The invocation's id: SKM_ID_LEN characters, owned by inv. */
const char *skm_inv_id(const struct skm_inv *inv);

/*
 * skm_inv_set_pid - the process whose life the invocation follows, when
 * it is known only after skm_inv_create() (a wrapper's child, forked after
 * its id went into the child's environment).  Call it before
 * skm_inv_start(): the begin records pid and the start time of that
 * process, by which `skm reap` tells a run whose process is gone.
 */
void skm_inv_set_pid(struct skm_inv *inv, long long pid);

/* Forget inv without ending it (e.g. in a forked child).  NULL is fine. */
void skm_inv_free(struct skm_inv *inv);

/*
 * How an invocation ended.  Initialise with SKM_END_INFO_INIT.
 */
struct skm_end_info {
	int completed;            /* 1: the skill completed; 0: it did not */
	int exit_code;            /* -1: none */
	int signal;               /* 0: none; else the signal that killed it */
	const char *error_type;   /* NULL: derived: exit:N, signal:SIGNAME */
	const char *const *follow_ups; /* n_follow_ups action strings */
	                          /* (each, and error_type, up to
	                             SKM_FIELD_MAX bytes; else SKM_MISUSE) */
	size_t n_follow_ups;
	const struct rusage *rusage;   /* NULL: no CPU/RSS figures */
	double duration_seconds;  /* < 0: measured by CLOCK_MONOTONIC;
	                             at most 100 years, exit_code -1..255
	                             and signal 0..128, else SKM_MISUSE */
};
#define SKM_END_INFO_INIT { 0, -1, 0, NULL, NULL, 0, NULL, -1.0 }

/*
 * skm_end - end inv and update the skill's aggregates in one transaction,
 * then free inv (always, whatever the result).  It writes into the store
 * inv was started on; if that start failed, begin and end are written
 * together now.  Returns SKM_OK, SKM_ENDED if the invocation had already
 * been ended (nothing changes), SKM_BUSY, SKM_READONLY...  On failure the
 * store handle's skm_errmsg() says why.  If inv was never started, returns
 * SKM_MISUSE (use skm_end_in()).
 */
int skm_end(struct skm_inv *inv, const struct skm_end_info *ei);

/* skm_end_in - like skm_end() but into db: for an inv never started (or
 * started on another handle, e.g. one since closed). */
int skm_end_in(struct skm_db *db, struct skm_inv *inv,
    const struct skm_end_info *ei);

/*
 * The journal.  skm_inv_start() and skm_end() append their event to the
 * journal beside the store (DB.journal/): one write(2), no lock, no
 * SQLite work in the recording process.  The fold applies journal
 * events to the store in batched transactions, exactly once: at every
 * skm_open() that may write (bounded to half a second; skm_fold_pending()
 * then says work is left), in skm_drain(), and in the background fold
 * that recorders start when the journal grows.  A handle opened with
 * SKM_OPEN_DIRECT applies its events at once instead, and appends them
 * to the journal only when the store cannot take them (locked beyond
 * SKM_BUSY_TIMEOUT_MS, read-only, full, damaged, newer).
 *
 * skm_spooled - how many events this handle appended to the journal; *why
 * (if not NULL; owned by the library) is the journal's directory.
 */
int skm_spooled(const struct skm_db *db, const char **why);

/* skm_drain - fold the whole journal into the store now, waiting for a
 * fold already running.  *n (if not NULL) gets the number of events that
 * changed the store. */
int skm_drain(struct skm_db *db, int *n);

/* skm_fold_pending - 1 when the fold at skm_open() ran out of time with
 * journal events left (a program may start `skm drain --background` for
 * the rest, as skm's queries do); 2 when another fold was running, which
 * may have left some; 0 when the journal was folded to its end. */
int skm_fold_pending(const struct skm_db *db);

/*
 * skm_busy_timeout_ms - the bound on waiting for the store's write lock,
 * from $SKM_BUSY_TIMEOUT_MS (milliseconds, 0..SKM_BUSY_MAX_MS; default
 * 2000).  A value that is not such a number gives the default and sets
 * *bad (if not NULL), for the program to warn about.
 */
#define SKM_BUSY_MAX_MS 600000
int skm_busy_timeout_ms(int *bad);

/*
 * skm_end_id - end the running invocation with this id (as `skm end ID`
 * does).  Its duration is measured on the monotonic clock when it began on
 * this host since the last boot, else from the wall clock.  The journal
 * is folded first.  SKM_NOTFOUND if there is no such invocation,
 * SKM_ENDED if it already ended.  When the store cannot take the write,
 * the end goes to the journal.
 */
int skm_end_id(struct skm_db *db, const char *id,
    const struct skm_end_info *ei);

/*
 * Queries.  Each query is a read-only SQL statement inside the library;
 * its result can be read row by row through a cursor (column names are
 * the JSON keys) or as one JSON document made by SQLite's JSON functions.
 */
enum skm_query {
	SKM_Q_STATS = 1,   /* one row per skill */
	SKM_Q_SHOW,        /* one skill: args.skill */
	SKM_Q_SUMMARY,     /* one row */
	SKM_Q_RECENT,      /* latest invocations: skill, limit, failed */
	SKM_Q_TIMELINE,    /* skill, since, bucket */
	SKM_Q_SEARCH,      /* text: an FTS5 query */
	SKM_Q_ERRORS,      /* skill (optional) */
	SKM_Q_SESSION,     /* the skills a session used: session */
	SKM_Q_SHOW_COUNTS, /* one skill's count maps as rows: map, key, count */
	SKM_Q_WORKFLOWS,   /* workflow paths with counts: skill (optional) */
	SKM_Q_SKILLS,      /* skill names: text (optional) a prefix */
	SKM_Q_SHOW_PERSISTED /* SHOW with the percentiles last persisted */
};

struct skm_query_args {
	const char *skill;
	const char *session;
	const char *text;
	const char *since;   /* "30m", "12h", "7d", "4w" or an ISO timestamp */
	const char *bucket;  /* "minute", "hour", "day", "week" */
	long limit;          /* 0: the query's default */
	int failed;          /* recent: only failed invocations */
	const char *until;   /* timeline: last bucket holds this time (ISO);
	                        NULL: now */
	const char *const *hosts; /* nhosts host names: only invocations
	                        recorded on these machines count; 0: all */
	int nhosts;
};

/*
 * The queries in detail (column names are the JSON keys):
 *
 * SKM_Q_SHOW_PERSISTED  the columns of SHOW, but p50/p95/p99 as last
 *     stored (by skm_end_session(), skm_recompute(), an import or a query
 *     that refreshed them; NULL if never), even if runs ended since,
 *     where SHOW gives them exact for the current data.
 * SKM_Q_SUMMARY   the top_error_types and top_workflow_paths objects hold
 *     the `limit` (default 5) most common.
 * SKM_Q_TIMELINE  bucket (ISO start, UTC), invocations, completed,
 *     avg_duration_seconds (0 when none completed) of one skill's ended
 *     invocations, one row per bucket from the bucket holding `since`
 *     (default 7d) to the one holding `until` (default now; a time after
 *     now is now), oldest first, empty buckets included as zeros: both
 *     ends are widened to whole buckets.  bucket: minute, hour, day
 *     (default) or week (weeks start on Monday).  SKM_NOTFOUND for a skill
 *     never recorded; SKM_MISUSE for a bad since/until/bucket or more than
 *     100000 buckets.
 * SKM_Q_SEARCH    skill_name, workflow_path, invocation_count,
 *     avg_duration_seconds of the invocations whose skill name or workflow
 *     path match the FTS5 query `text`, grouped by (skill, workflow path),
 *     best bm25 match first.  SKM_MISUSE for an empty or malformed query.
 * SKM_Q_ERRORS    error_type, count, error_rate (% of the runs counted,
 *     of skill or of all skills), most common first.
 * SKM_Q_WORKFLOWS workflow_path, count, share_rate, most common first;
 *     `limit` (default all) rows.
 * SKM_Q_SESSION   skill_name, invocation_count, first_invoked,
 *     last_invoked, total_duration_seconds of the session's skills.
 * SKM_Q_SKILLS    skill_name, total_invocations, last_invoked of every
 *     skill with an ended invocation whose name starts with `text` (all
 *     when NULL), by name; `limit` (default all) rows.  It reads one row
 *     per skill and computes nothing: fast enough for shell completion.
 */

/*
 * skm_query_json - run query q and return its result as a NUL-terminated
 * JSON text in *out (free with skm_free()).  Queries of one thing (SHOW,
 * SUMMARY) give an object, the others an array of objects.  SHOW of an
 * unknown skill returns SKM_NOTFOUND.  A bad argument (since, bucket, an
 * FTS5 syntax error) returns SKM_MISUSE with a message.
 */
int skm_query_json(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, char **out);

/* skm_query_open - the same query, read row by row. */
int skm_query_open(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, struct skm_cursor **out);

/* Next row: 1 a row is ready, 0 no more rows, -1 error (skm_errmsg). */
int skm_cursor_step(struct skm_cursor *c);
int skm_cursor_columns(const struct skm_cursor *c);
const char *skm_cursor_name(const struct skm_cursor *c, int col);
/* SKM_T_NULL, SKM_T_INT, SKM_T_REAL, SKM_T_TEXT */
int skm_cursor_type(const struct skm_cursor *c, int col);
long long skm_cursor_int(const struct skm_cursor *c, int col);
double skm_cursor_real(const struct skm_cursor *c, int col);
const char *skm_cursor_text(const struct skm_cursor *c, int col); /* or NULL */
void skm_cursor_close(struct skm_cursor *c);  /* NULL is fine */
#define SKM_T_INT  1
#define SKM_T_REAL 2
#define SKM_T_TEXT 3
#define SKM_T_NULL 5

/* Free memory the library returned (skm_query_json...). */
void skm_free(void *p);

/*
 * Maintenance.
 *
 * skm_check - run SQLite's integrity check and compare every skill's
 * aggregates with a recompute from the invocations.  Each problem found is
 * passed to cb (if not NULL) as one line of text; so are, as lines
 * starting "note: ", the journal's records the fold quarantined and the
 * ends still waiting for their begin (which are no problem of the store).  Returns SKM_OK when clean, SKM_CHECK when problems were
 * found, or another error.
 */
int skm_check(struct skm_db *db, void (*cb)(void *arg, const char *problem),
    void *arg);

/*
 * skm_check_json - the same check as one JSON object in *out (free with
 * skm_free()): "ok" (a boolean), "problems" and "notes" (arrays of the
 * lines skm_check passes to cb, notes without their "note: "), and, for
 * a local store, "journal": its "dir", "quarantine_file", the counts
 * "quarantined" and "pending_ends", and "quarantine", an array of the
 * records the fold set aside, one object per record (file, offset,
 * reason, quarantined_at, bytes; the record's hex only in the file).
 * Returns what skm_check returns; *out is set for SKM_OK and SKM_CHECK.
 */
int skm_check_json(struct skm_db *db, char **out);

/* skm_recompute - rebuild skill_metrics (of one skill, or all when skill is
 * NULL) and session_skill from the invocations, exact percentiles
 * included, in one transaction.  SKM_NOTFOUND for a skill with neither
 * invocations nor metrics. */
int skm_recompute(struct skm_db *db, const char *skill);

/* skm_end_session - persist exact min/max/p50/p95/p99 for every skill the
 * session used, in one transaction.  SKM_NOTFOUND for an unknown session.
 * *nskills (if not NULL) gets the number of skills updated. */
int skm_end_session(struct skm_db *db, const char *session, int *nskills);

/*
 * skm_reap - end as not completed, error_type "abandoned", every running
 * invocation of this host whose process is gone: its pid no longer
 * exists, is a zombie, or belongs to a process started at another time
 * than the recorded one, or it began before the last boot.  With
 * older_than (a duration: "30m", "24h", "7d"; NULL: none), also those
 * older than that whose process cannot be looked at (other hosts, no
 * pid); SKM_MISUSE if it is not a duration.  Each goes through the same
 * end transaction as skm_end_id(), so it is counted once.  cb (if not
 * NULL) is called for each one ended; *nreaped (if not NULL) gets how
 * many were.
 */
int skm_reap(struct skm_db *db, const char *older_than,
    void (*cb)(void *arg, const char *id, const char *skill), void *arg,
    int *nreaped);

/*
 * skm_backup - copy the store to a new file dest with SQLite's online
 * backup API, as one consistent snapshot, while other processes go on
 * writing.  dest must not exist unless SKM_BACKUP_FORCE is given (then it
 * is replaced, atomically, by rename).  The copy is made 0600.
 */
#define SKM_BACKUP_FORCE 0x01
int skm_backup(struct skm_db *db, const char *dest, int flags);

/*
 * Import and export (io.c).
 *
 * skm_import - read invocations from in: JSON Lines (one object per line)
 * or CSV with a header row, told apart by the first non-blank character
 * ('{': JSON Lines).  Keys / columns are those of skm_export (the
 * reference bulk-import keys id, skill_name, invoked_at, completed,
 * workflow_path, duration_seconds, follow_up_actions and every other
 * invocation column); id, skill_name, invoked_at and completed are
 * required, unknown keys are ignored.  In CSV an empty field is NULL, a
 * quoted empty field "" is an empty string, and follow_up_actions is a
 * JSON array.  Timestamps with 'Z', an offset or none (UTC) are
 * normalised; a missing ended_at is invoked_at + duration_seconds; a
 * missing source is "import".
 *
 * Everything goes in one transaction: an id already in the store is
 * skipped (so importing a file twice changes nothing), and the aggregates
 * of the skills that got new invocations are recomputed, exact
 * percentiles included.  Any malformed record rejects the whole import,
 * the store untouched, with SKM_FORMAT and a message "line N: what".
 * res (if not NULL) gets the counts.
 */
struct skm_import_result {
	long long records;    /* records read */
	long long inserted;   /* new invocations */
	long long skipped;    /* ids already present */
	long long skills;     /* skills recomputed */
};
int skm_import(struct skm_db *db, FILE *in, struct skm_import_result *res);

#define SKM_EXPORT_JSONL     0
#define SKM_EXPORT_CSV       1
#define SKM_EXPORT_OTLP_JSON 2  /* OpenTelemetry spans (otlp.c), see below */
struct skm_export_args {
	const char *since;   /* as for queries: "7d" or a timestamp; NULL: all */
	const char *skill;   /* NULL: all skills */
	int format;          /* SKM_EXPORT_JSONL, _CSV or _OTLP_JSON */
};

/*
 * skm_export - write every ended invocation (of skill, invoked at or
 * after since) to out, ordered by invoked_at then id, with every column:
 * one JSON object per line made by json_object(), or CSV (a header row,
 * text always quoted, NULL as an empty field).  skm_import() of the
 * output into an empty store and a second export give the same bytes.
 * Running invocations are not exported.  *nrows (if not NULL) gets the
 * number of invocations written.  SKM_MISUSE for a bad since or format,
 * SKM_IOERR when writing fails.
 *
 * SKM_EXPORT_OTLP_JSON writes the same invocations as OpenTelemetry spans
 * in OTLP/JSON: one line per trace, each a whole ExportTraceServiceRequest
 * (resourceSpans, resource attribute service.name "skm", scopeSpans of
 * scope "skm", spans).  A trace is a root invocation and every one under
 * it: traceId is the root's id without dashes (a hash for an id that is
 * not a UUID), spanId and parentSpanId 16 hex digits hashed from the
 * invocation ids (the same at every export), name the skill, kind
 * INTERNAL, start and end in nanoseconds as decimal strings (the end is
 * the start plus the monotonic duration), status code 2 (ERROR) with the
 * error type as message for a run that did not complete (unset
 * otherwise), and attributes error.type, process.exit.code,
 * process.command_line, process.pid, host.name, skm.workflow_path,
 * skm.signal, skm.invocation_id, skm.session_id, skm.project_path,
 * skm.source, skm.completed, skm.follow_up_actions and CPU/RSS figures,
 * each only when recorded.  *nrows counts spans.
 */
int skm_export(struct skm_db *db, const struct skm_export_args *args,
    FILE *out, long long *nrows);

/*
 * The fleet: a PostgreSQL server (pg.c, sync.c).
 *
 * Many machines push their ended invocations to one server with
 * skm_sync(); a server handle answers the same queries as a store, with
 * the same columns and JSON keys, computed by the server in SQL.
 * Connection strings are libpq's: "host=db.example dbname=skm" or
 * "postgresql://db.example/skm".  A password inside one is refused
 * (SKM_MISUSE): it belongs in ~/.pgpass, the file $PGPASSFILE names, or a
 * service of pg_service.conf ($PGSERVICE), where libpq finds it.
 *
 * skm_server_support - 1 when this library was built with libpq, else 0
 * (then skm_server_open() and skm_sync() fail with SKM_ERROR saying so).
 */
int skm_server_support(void);

/*
 * skm_server_open - connect to the server conninfo names (NULL: the
 * environment variable SKM_SERVER).  With SKM_SERVER_INIT the server's
 * schema is created or migrated first (each migration one transaction,
 * recorded in its schema_migrations); without it a server lacking the
 * schema is SKM_NOTFOUND.  A server whose schema is newer than this
 * library's is SKM_NEWER and is never written.  Unreachable or refused:
 * SKM_CANTOPEN with libpq's message.  As with skm_open(), *out is always
 * set (except on SKM_NOMEM) and must go to skm_close().  The handle
 * answers skm_query_json(), skm_query_open() and skm_check() (the
 * server's per-skill rollups against a recompute); it records nothing.
 */
#define SKM_SERVER_INIT 0x01
int skm_server_open(const char *conninfo, int flags, struct skm_db **out);

/* skm_server_schema - the server's schema version and the one this
 * library writes (*latest, if not NULL); -1 on failure. */
int skm_server_schema(struct skm_db *srv, int *latest);

/*
 * skm_sync - push every ended invocation of db that srv does not have
 * yet.  Rows go in batches of args->batch (0: 5000), each one server
 * transaction that inserts them (an id the server has is skipped) and
 * updates the server's per-skill rollups; the store's watermark for this
 * server advances only after the server has committed, so an interrupted
 * sync loses nothing and a rerun doubles nothing.  Two syncs of one store
 * take turns (a lock file beside the store).  progress (if not NULL) is
 * called after each batch with the rows sent so far and the total
 * expected.  Running invocations are not sent; they go once ended.
 * Machine-local columns (mono_start, boot_id, pid_start) never leave the
 * store.  res (if not NULL) gets the counts.
 */
struct skm_sync_args {
	int batch;
	void (*progress)(void *arg, long long done, long long total);
	void *arg;
};
struct skm_sync_result {
	long long sent;      /* invocations sent */
	long long inserted;  /* of those, new on the server */
	long long batches;   /* server transactions committed */
};
int skm_sync(struct skm_db *db, struct skm_db *srv,
    const struct skm_sync_args *args, struct skm_sync_result *res);

/*
 * skm_histogram - how the skill's completed durations spread (the
 * report's histogram): nbins (1..1000) bins equal on a log scale from
 * its shortest duration (at least 1 ms; shorter ones count in the first
 * bin) to its longest.  edges gets the nbins + 1 bounds in seconds,
 * counts the nbins counts (a duration on a bound counts in the bin
 * above it, the longest in the last).  A skill with no completed
 * duration gets zeros everywhere and SKM_OK.
 */
int skm_histogram(struct skm_db *db, const char *skill, int nbins,
    double *edges, long long *counts);

/*
 * Traces (trace.c): one invocation and every invocation it started,
 * directly or further down (through parent_id: skm-run, the shim and the
 * hooks record the invocation they run under), as a tree.
 *
 * id is an invocation id, or a prefix of exactly one; NULL means the
 * latest invocation that nothing else started.  SKM_NOTFOUND when there
 * is none, SKM_MISUSE for a prefix of several.  Runs are followed down
 * 64 levels.  Times are seconds after the root began.  A run still
 * running ends, for the layout, when the trace does: now while the root
 * runs, else when the last ended run ended.
 *
 * The critical path is the chain of runs the root waited for: below
 * each critical run, the child that ended last, then the child that
 * ended last before that one started, and so on (runs
 * alongside a critical one are not on it).
 */
struct skm_trace_run {
	const char *id;
	const char *parent_id;  /* as recorded: the root's may be set too */
	const char *skill;
	const char *status;     /* "completed", "failed" or "running" */
	const char *invoked_at;
	const char *ended_at;   /* NULL while running */
	const char *error_type; /* NULL when none */
	const char *workflow;   /* NULL when none */
	const char *host;
	const char *command;
	int exit_code;          /* -1: none */
	int signal;             /* 0: none */
	int depth;              /* 0 for the root */
	int last;               /* the last of its parent's children */
	int critical;           /* on the critical path */
	double start;           /* when it began */
	double end;             /* when it ended (see above for running) */
	double duration;        /* as recorded; < 0 while running */
	double span;            /* the whole trace: the same in every run */
};

/*
 * skm_trace - call cb once per run of the trace of id, depth first,
 * children in the order they began.  The strings live until cb returns.
 * cb returns 0 to go on, anything else to stop (skm_trace then returns
 * SKM_OK).  The runs are read in one transaction; nothing is written.
 */
int skm_trace(struct skm_db *db, const char *id,
    int (*cb)(void *arg, const struct skm_trace_run *run), void *arg);

/*
 * skm_trace_json - the same tree as one JSON object in *out (free with
 * skm_free()): the root run with the columns of its invocation
 * (skm_export's keys), status, start_offset_seconds, critical (a boolean)
 * and children, an array of objects of the same shape.
 */
int skm_trace_json(struct skm_db *db, const char *id, char **out);

#ifdef __cplusplus
}
#endif
#endif /* SKM_H */
