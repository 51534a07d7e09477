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
#include <time.h>

/* More than the SQL constants of lib that go through store_prepare()
 * (about 50): a full cache recycles its last slot, which a caller may
 * still hold. */
#define SKM_CACHE_SLOTS 96

/* The store behind a handle.  One connection; not shared between threads. */
struct skm_db {
	sqlite3 *conn;
	char *path;
	int flags;
	int status;          /* non-OK when skm_open failed: sticks */
	int busy_ms;         /* bound on waiting for the write lock */
	char errmsg[512];
	int degraded;        /* the store timed out once: spool the rest */
	int nspooled;        /* events this handle wrote to the spool */
	char spool_why[512];
	char **drained;      /* spool files applied in the open transaction */
	int ndrained;
	int last_drained;    /* events the last write applied from it */
	int nwrites;         /* write transactions committed */
	int bulk;            /* store_bulk() was called */
	int ncache;
	struct { const char *sql; sqlite3_stmt *st; } cache[SKM_CACHE_SLOTS];
	struct {             /* skm_pct()'s last count (query.c) */
		int valid, len, dv;
		sqlite3_int64 n, changes;
		char skill[SKM_NAME_MAX];
	} pct;
};

struct skm_inv {
	struct skm_db *db;   /* set by skm_inv_start */
	int started;         /* the begin row is in the store */
	int spooled;         /* the begin event is in the spool */
	char id[SKM_ID_LEN + 1];
	char invoked_at[32];
	double mono_start;   /* CLOCK_MONOTONIC seconds at create */
	long long pid;
	char *skill, *workflow, *session, *project, *parent_id, *command;
	char *source;
};

/* The parts of an end that do not depend on the store (hooks.c). */
struct end_rec {
	char ended[32];
	char etbuf[64];
	const char *et;      /* error type, or NULL */
	double d;            /* duration; < 0: from the row */
	char *fu;            /* follow-up actions, a JSON array (sqlite3 heap) */
};
int end_rec_make(sqlite3 *c, const struct skm_inv *inv,
    const struct skm_end_info *ei, struct end_rec *r);
void end_bind_outcome(sqlite3_stmt *st, int first,
    const struct skm_end_info *ei, const char *fu);

/* spool.c */
int spool_wanted(int rc);
int spool_begin(struct skm_db *db, const struct skm_inv *inv);
int spool_end(struct skm_db *db, const struct skm_inv *inv,
    const struct skm_end_info *ei, const struct end_rec *r);
int spool_drain(struct skm_db *db, int *napplied);
void spool_drained(struct skm_db *db, int committed);
long spool_pending(const struct skm_db *db);

/* util.c */
int util_uuid7(char out[SKM_ID_LEN + 1]);
void util_now_iso(char out[32]);
void util_iso_from_ts(const struct timespec *ts, char out[32]);
double util_mono(void);
const char *util_boot_id(void);
const char *util_hostname(void);
const char *util_signame(int sig);
uint64_t util_fnv1a(const char *s);
int util_clean_utf8(const char *s);
void util_sleep_ms(int ms);

/* store.c */
int store_fail(struct skm_db *db, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int store_sqlfail(struct skm_db *db, int src, const char *what);
int store_usable(struct skm_db *db);
int store_begin_write(struct skm_db *db);
int store_write(struct skm_db *db, int (*fn)(struct skm_db *, void *),
    void *arg);
int store_commit(struct skm_db *db);
void store_rollback(struct skm_db *db);
int store_exec(struct skm_db *db, const char *sql);
int store_prepare(struct skm_db *db, const char *sql, sqlite3_stmt **st);
void store_clear(struct skm_db *db);
void store_bulk(struct skm_db *db);

/* aggregate.c */
int agg_add(struct skm_db *db, const char *id);
int agg_recompute(struct skm_db *db, const char *skill, int percentiles);
int agg_percentiles(struct skm_db *db, const char *skill);
int agg_percentiles_stale(struct skm_db *db, const char *skill);

/* query.c: register skm_pct() and friends on the handle's connection. */
int query_register(struct skm_db *db);
/* The statements behind skm_pct(), for the test of their query plan. */
extern const char query_pct_count_sql[], query_pct_nth_sql[],
    query_pct_nth_desc_sql[];

/* otlp.c: skm_export() of SKM_EXPORT_OTLP_JSON. */
int skm__export_otlp(struct skm_db *db, const struct skm_export_args *args,
    FILE *out, long long *nrows);

/* reap.c: the start time of process pid (clock ticks after boot, field
 * 22 of /proc/PID/stat) and, if state is not NULL, its state letter; -1
 * when there is no such process. */
long long reap_pid_start(long long pid, char *state);

#endif /* SKM_INT_H */
