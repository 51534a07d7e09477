/* schema.h - the list of migrations (schema.c), and SQL over the stored
 * forms that several of lib's files share. */
#ifndef SKM_SCHEMA_H
#define SKM_SCHEMA_H

struct skm_migration {
	int version;
	const char *description;
	const char *sql;
	/* Run after sql when the store has been synced (a sync_state row):
	 * what sync made on a table the migration replaced.  May be NULL. */
	const char *if_synced;
	/* 1: it moves every invocation to a new table, so the old one's
	 * pages are free afterwards: the store is vacuumed (store.c). */
	int moves_rows;
};

extern const struct skm_migration skm__migrations[];
extern const int skm__nmigrations;
void skm__schema_checksum(const struct skm_migration *m, char out[17]);

/* sync.c's triggers on invocation, made by a store's first sync. */
extern const char skm__sync_triggers_sql[];

/*
 * The stored forms of invocation's columns as the view skill_invocation
 * shows them, in plain SQL (any SQLite, the sqlite3 shell, reads the
 * view).  c: an SQL expression of the stored value, used more than once.
 *
 * SKM__SQL_ISO - integer milliseconds since the epoch as ISO-8601 UTC with
 * milliseconds ("2026-01-05T10:00:00.000Z"); NULL and anything not an
 * integer as it is.
 * SKM__SQL_UUID - a 16-byte id as lowercase UUID text; text as it is.
 * skm's own SQL uses the C functions skm_iso() and skm_uuid() (store.c),
 * which give the same text (tests/unit/test_store.c compares them).
 */
#define SKM__SQL_MSFRAC(c) "(((" c ") % 1000 + 1000) % 1000)"
/* SKM__SQL_SEC - integer milliseconds to the second they are in, rounded
 * down (also before 1970, where SQL's / rounds toward zero). */
#define SKM__SQL_SEC(c) "(((" c ") - " SKM__SQL_MSFRAC(c) ") / 1000)"
#define SKM__SQL_ISO(c)							\
	"CASE WHEN typeof(" c ") = 'integer' THEN "			\
	"strftime('%Y-%m-%dT%H:%M:%S', " SKM__SQL_SEC(c)		\
	", 'unixepoch') || printf('.%03dZ', " SKM__SQL_MSFRAC(c)	\
	") ELSE " c " END"
#define SKM__SQL_UUID(c)						\
	"CASE WHEN typeof(" c ") = 'blob' THEN lower("			\
	"substr(hex(" c "), 1, 8) || '-' || substr(hex(" c "), 9, 4) || '-' || " \
	"substr(hex(" c "), 13, 4) || '-' || substr(hex(" c "), 17, 4) || "	\
	"'-' || substr(hex(" c "), 21)) ELSE " c " END"

/*
 * A timeline counted from the invocations themselves (query.c's minute
 * buckets, hostq.c's --host): buckets of :width seconds from :from to
 * :to, aligned on :off, of one skill's ended runs in [:lo, :hi); cond
 * narrows the runs further ("" or " AND ...").  One row per bucket:
 * bucket, invocations, completed, avg_duration_seconds.  SKM__SQL_TL_HEAD
 * and SKM__SQL_TL_TAIL frame the buckets for other sources of counts (a
 * CTE i(t, n, c, a) between them).
 */
#define SKM__SQL_TL_HEAD						\
	"WITH RECURSIVE b(t) AS (SELECT :from UNION ALL "		\
	"  SELECT t + :width FROM b WHERE t + :width <= :to), "
#define SKM__SQL_TL_TAIL						\
	"SELECT strftime('%Y-%m-%dT%H:%M:%SZ', b.t, 'unixepoch') AS bucket, " \
	"coalesce(i.n, 0) AS invocations, coalesce(i.c, 0) AS completed, " \
	"coalesce(i.a, 0.0) AS avg_duration_seconds "			\
	"FROM b LEFT JOIN i ON i.t = b.t ORDER BY b.t"
#define SKM__SQL_TL_RAW(cond)						\
	SKM__SQL_TL_HEAD						\
	"i AS (SELECT ((" SKM__SQL_SEC("invoked_at") " - :off) / :width) " \
	"  * :width + :off AS t, count(*) AS n, sum(completed) AS c, "	\
	"  avg(CASE WHEN completed THEN duration_seconds END) AS a "	\
	"  FROM invocation WHERE skill_name = :skill "			\
	"  AND invoked_at >= skm_ms(:lo) AND invoked_at < skm_ms(:hi) "	\
	"  AND ended_at IS NOT NULL" cond " GROUP BY 1) "		\
	SKM__SQL_TL_TAIL

#endif
