/*
 * skm-int.h - what the files of libskm share with each other and nobody
 * else.  Everything here is hidden from the shared library: lib is built
 * with -fvisibility=hidden and only the declarations of skm.h, included
 * below with default visibility, leave it (lib/libskm.map agrees).
 */
#ifndef SKM_INT_H
#define SKM_INT_H

#pragma GCC visibility push(default)
#include "skm.h"
#pragma GCC visibility pop

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The statement cache's first size: more than the SQL constants of lib
 * that go through skm__store_prepare() (about 50).  It grows beyond and
 * never evicts: a caller may hold any of its statements. */
#define SKM_CACHE_SLOTS 96

#include "event.h"
#include "journal.h"

/* The store behind a handle.  One connection; not shared between threads. */
struct skm_db {
	sqlite3 *conn;
	char *path;
	int flags;
	int status;          /* non-OK when skm_open failed: sticks */
	int busy_ms;         /* bound on waiting for the write lock */
	char errmsg[512];
	struct skm__jnl jnl; /* the journal beside the store */
	int njournaled;      /* events this handle appended to it */
	int folding;         /* a fold is running on this handle */
	ino_t jnl_ino;       /* the live journal as last seen: file... */
	off_t jnl_size;      /* ...and size */
	ino_t alt_ino;       /* the same of its second place */
	off_t alt_size;
	int fold_more;       /* the fold at open left work: 1 out of
	                        time, 2 another fold was running */
	long open_applied;   /* events the fold at open applied */
	int (*setup)(struct skm_db *); /* run on a new connection */
	int nwrites;         /* write transactions committed */
	int bulk;            /* skm__store_bulk() was called */
	/* A server handle (pg.c; NULL for a store): its state, and what the
	 * layers below call instead of reading a store (passed in by
	 * skm_server_open, never called up into). */
	struct skm__pg *pg;
	int (*server_prepare)(struct skm_db *, enum skm_query,
	    const struct skm_query_args *, int, sqlite3_stmt **);
	int (*server_check)(struct skm_db *, void (*)(void *, const char *),
	    void *);
	void (*server_close)(struct skm_db *);
	/* Prepared statements by their SQL constant's address: grown, never
	 * evicted (a caller may hold any of them; the keys are the
	 * program's string constants, so the array stays small). */
	int ncache, capcache;
	struct skm__cached { const char *sql; sqlite3_stmt *st; } *cache;
	struct {             /* skm_pct()'s last count (query.c) */
		int valid, len, dv;
		sqlite3_int64 n, changes;
		char skill[SKM_NAME_MAX];
	} pct;
};

struct skm_inv {
	struct skm_db *db;   /* set by skm_inv_start */
	int started;         /* the begin is in the journal or the store */
	char id[SKM_ID_LEN + 1];
	int64_t invoked_us;  /* wall clock at create */
	double mono_start;   /* CLOCK_MONOTONIC seconds at create */
	long long pid;
	char *skill, *workflow, *session, *project, *parent_id, *command;
	char *source;
};

/* fold.c */
struct skm__fold_result {
	long applied;        /* events that changed the store */
	long quarantined;    /* records moved to quarantine.jsonl */
	int more;            /* the budget ran out with records left */
	int busy;            /* another fold held the lock */
	char refused[PATH_MAX + 96]; /* the journal directory was refused */
};
int skm__apply_event(struct skm_db *db, const struct skm__event *ev);
/* 1 when the live journal changed since the handle last looked. */
int skm__journal_moved(struct skm_db *db);
/* Fold (bounded) when the journal changed since the handle last looked:
 * what the program's own handles and others appended is read back. */
void skm__fold_moved(struct skm_db *db);
int skm__fold(struct skm_db *db, int budget_ms, int wait_ms,
    struct skm__fold_result *res);

/* legacy.c: the spool of skm 0.1 (DB.spool/), carried into the journal
 * j by the fold before it reads the journal. */
struct skm__jnl;
int skm__legacy_present(const char *jdir);
int skm__legacy_carry(struct skm_db *db, struct skm__jnl *j, long *carried);
void skm__legacy_note(const char *jdir, void (*cb)(void *, const char *),
    void *arg);

/* util.c */
int skm__util_uuid7(char out[SKM_ID_LEN + 1]);
void skm__util_now_iso(char out[32]);
void skm__util_iso_from_ts(const struct timespec *ts, char out[32]);
double skm__util_mono(void);
const char *skm__util_boot_id(void);
const char *skm__util_hostname(void);
const char *skm__util_signame(int sig);
uint64_t skm__util_fnv1a(const char *s);
int skm__util_clean_utf8(const char *s);
void skm__util_sleep_ms(int ms);
int skm__util_uuid_nibbles(const char *p, size_t n, unsigned char out[16]);
int skm__util_uuid_bytes(const char *p, size_t n, unsigned char out[16]);
void skm__util_uuid_text(const unsigned char b[16], char out[37]);

/* aggregate.c: the services behind skm_recompute, skm_end_session and
 * skm_check (handle.c folds the journal first). */
int skm__recompute(struct skm_db *db, const char *skill);
int skm__end_session(struct skm_db *db, const char *session, int *nskills);
int skm__check(struct skm_db *db, void (*cb)(void *, const char *),
    void *arg);

/* store.c: the store below the public handle (handle.c) */
int skm__store_open(const char *path, int flags,
    int (*setup)(struct skm_db *), struct skm_db **out);
void skm__store_close(struct skm_db *db);
int skm__store_fail(struct skm_db *db, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int skm__store_sqlfail(struct skm_db *db, int src, const char *what);
int skm__store_usable(struct skm_db *db);
int skm__store_begin_write(struct skm_db *db);
int skm__store_write(struct skm_db *db, int (*fn)(struct skm_db *, void *),
    void *arg);
int skm__store_commit(struct skm_db *db);
void skm__store_rollback(struct skm_db *db);
int skm__store_exec(struct skm_db *db, const char *sql);
int skm__store_prepare(struct skm_db *db, const char *sql, sqlite3_stmt **st);
void skm__store_clear(struct skm_db *db);
void skm__store_bulk(struct skm_db *db);
void skm__store_bind_key(sqlite3_stmt *st, int i, const char *p, size_t n);
int skm__store_leave_wal(struct skm_db *db);
void skm__store_back_to_wal(struct skm_db *db);

/* aggregate.c: the aggregates of ended runs, counted in memory and
 * written once per batch (skm__agg_flush) in the caller's transaction. */
struct skm__agg;
struct skm__agg_run {            /* one ended run, as counted */
	struct skm__str skill;
	struct skm__str workflow, session, error;   /* p NULL: none */
	const char *invoked;     /* invoked_at as stored (text) */
	int64_t invoked_s;       /* its epoch second, floor */
	int completed;
	double duration;         /* counted when completed */
	const struct skm__str *follow;
	int nfollow;
};
struct skm__agg *skm__agg_new(void);
int skm__agg_count(struct skm__agg *ag, const struct skm__agg_run *r);
int skm__agg_flush(struct skm_db *db, struct skm__agg *ag, int sorted);
int skm__agg_nskills(const struct skm__agg *ag);
void skm__agg_clear(struct skm__agg *ag);
void skm__agg_free(struct skm__agg *ag);
int skm__agg_recompute(struct skm_db *db, const char *skill, int percentiles);
int skm__agg_percentiles(struct skm_db *db, const char *skill);
int skm__agg_percentiles_stale(struct skm_db *db, const char *skill);

/* query.c: register skm_pct() and friends on the handle's connection. */
int skm__query_register(struct skm_db *db);
/* The statements behind skm_pct(), for the test of their query plan. */
extern const char skm__query_pct_count_sql[], skm__query_pct_nth_sql[],
    skm__query_pct_nth_desc_sql[];

/* pg.c: the server behind a handle made by skm_server_open(); the
 * entry points of query.c, aggregate.c and store.c hand a server handle
 * to these. */
int skm__pg_prepare(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, int json, sqlite3_stmt **out);
int skm__pg_check(struct skm_db *db, void (*cb)(void *, const char *),
    void *arg);
void skm__pg_close(struct skm_db *db);
/* The columns a sync sends, in this order (sync.c reads them, pg.c's
 * staging table holds them). */
#define SKM__SYNC_COLS "id, skill_name, invoked_at, ended_at, " \
	"workflow_path, session_id, project_path, parent_id, completed, " \
	"duration_seconds, error_type, exit_code, signal, " \
	"follow_up_actions, command, host, pid, user_cpu_seconds, " \
	"sys_cpu_seconds, max_rss_kb, source"
/* Insert one batch (len bytes of rows of SKM__SYNC_COLS in COPY's text
 * format) in one server transaction; *inserted gets the rows that were
 * new. */
int skm__pg_push(struct skm_db *srv, const char *rows, size_t len,
    long long *inserted);
/* Store the percentiles of the skills whose durations changed. */
int skm__pg_refresh(struct skm_db *srv);
/* The server's identity (a UUID made by its first migration). */
const char *skm__pg_server_id(const struct skm_db *srv);
/* hostq.c: the queries narrowed to hosts, on a local store; and the
 * timeline's bucket grid of since/until/bucket for a server: g = first
 * and last bucket start, width, offset (epoch seconds); lo and hi the
 * invoked_at range as ISO text (TP_ISO_LEN bytes each). */
int skm__hostq_prepare(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, int json, sqlite3_stmt **out);
int skm__timeline_grid(struct skm_db *db, const struct skm_query_args *a,
    long long g[4], char *lo, char *hi);
/* hostq.c, for query.c and pg.c too: the hosts as one JSON array (*out
 * NULL without hosts); the statement making the JSON document of a
 * query's rows (st prepared from sql), an object or an array. */
int skm__hosts_json(struct skm_db *db, const struct skm_query_args *a,
    char **out);
char *skm__json_sql(sqlite3_stmt *st, const char *sql, int object);

/* otlp.c: skm_export() of SKM_EXPORT_OTLP_JSON. */
int skm__export_otlp(struct skm_db *db, const struct skm_export_args *args,
    FILE *out, long long *nrows);


#endif /* SKM_INT_H */
