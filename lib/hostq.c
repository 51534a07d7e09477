/*
 * hostq.c - the query commands narrowed to some machines (`--host H`,
 * repeatable) on a local store.
 *
 * skill_metrics and session_skill hold every host's runs together, so a
 * query narrowed to hosts recomputes what it needs from the invocations
 * of those hosts (SKM_Q_* of query.c, the same columns in the same order,
 * the same JSON made the same way); exact percentiles come from
 * skm_pct_agg(), an aggregate defined here with skm_pct()'s linear
 * interpolation (query.c).  The hosts are bound as one JSON array and read back with
 * json_each: nothing the user typed becomes SQL.
 *
 * What the three query paths share lives here too (query.c and pg.c
 * call it; this file calls neither): the timeline's bucket grid
 * (skm__timeline_grid), the hosts as one JSON array (skm__hosts_json) and
 * the JSON document made of a query's rows (skm__json_sql).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "skm-int.h"
#include "timeparse.h"

/* skm_pct_agg(x, p): the p-quantile of the non-NULL x. */
struct pct_acc {
	double *v;
	size_t n, cap;
	double p;
	int oom;
};

static void
pct_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pct_acc *a = sqlite3_aggregate_context(ctx, sizeof(*a));
	double *nv;

	(void)argc;
	if (a == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	a->p = sqlite3_value_double(argv[1]);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || a->oom)
		return;
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		if ((nv = sqlite3_realloc64(a->v, a->cap * sizeof(*nv))) ==
		    NULL) {
			a->oom = 1;
			return;
		}
		a->v = nv;
	}
	a->v[a->n++] = sqlite3_value_double(argv[0]);
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static void
pct_final(sqlite3_context *ctx)
{
	struct pct_acc *a = sqlite3_aggregate_context(ctx, 0);
	double k;
	size_t f, c;

	if (a == NULL || a->n == 0) {
		sqlite3_result_null(ctx);
	} else if (a->oom) {
		sqlite3_result_error_nomem(ctx);
	} else if (a->p < 0 || a->p > 1 || isnan(a->p)) {
		sqlite3_result_error(ctx, "skm_pct_agg: p must be in 0..1", -1);
	} else {
		qsort(a->v, a->n, sizeof(*a->v), cmp_double);
		k = (double)(a->n - 1) * a->p;
		f = (size_t)floor(k);
		c = f + 1 < a->n ? f + 1 : a->n - 1;
		sqlite3_result_double(ctx, a->v[f] + (k - (double)f) *
		    (a->v[c] - a->v[f]));
	}
	if (a != NULL)
		sqlite3_free(a->v);
}

/* Define skm_pct_agg() on the connection, once. */
static int
register_pct(struct skm_db *db)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db->conn, "SELECT skm_pct_agg(1, 0.5)", -1,
	    &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return SKM_OK;
	}
	if (sqlite3_create_function(db->conn, "skm_pct_agg", 2,
	    SQLITE_UTF8 | SQLITE_INNOCUOUS, NULL, NULL, pct_step, pct_final) !=
	    SQLITE_OK)
		return skm__store_sqlfail(db, SQLITE_ERROR, "skm_pct_agg");
	return SKM_OK;
}

#define HQ_HOST "host IN (SELECT value FROM json_each(:hosts))"
/* The ended invocations of the hosts (of :skill when it is given). */
#define HQ_I "i AS MATERIALIZED (SELECT * FROM invocation " \
	"WHERE ended_at IS NOT NULL AND " HQ_HOST " " \
	"AND (:skill IS NULL OR skill_name = :skill))"
#define HQ_MAP(col) \
	"(SELECT coalesce(json_group_object(k, n), '{}') FROM (SELECT " \
	col " AS k, count(*) AS n FROM i AS j WHERE j.skill_name = " \
	"i.skill_name AND " col " IS NOT NULL GROUP BY 1 ORDER BY 1))"
#define HQ_CPL "CASE WHEN completed THEN duration_seconds END"
/* skill_metrics's columns (and the percentiles) for those invocations. */
#define HQ_M "m AS MATERIALIZED (SELECT skill_name, " \
	"count(*) AS total_invocations, " \
	"sum(completed) AS completed_invocations, " \
	"sum(1 - completed) AS abandoned_invocations, " \
	"total(" HQ_CPL ") AS total_duration_seconds, " \
	"min(" HQ_CPL ") AS min_duration_seconds, " \
	"max(" HQ_CPL ") AS max_duration_seconds, " \
	HQ_MAP("workflow_path") " AS workflow_paths, " \
	HQ_MAP("error_type") " AS common_errors, " \
	"(SELECT coalesce(json_group_object(k, n), '{}') FROM (SELECT " \
	"CAST(a.value AS TEXT) AS k, count(*) AS n FROM i AS j, " \
	"json_each(j.follow_up_actions) a WHERE j.skill_name = i.skill_name " \
	"GROUP BY 1 ORDER BY 1)) AS follow_up_actions, " \
	"skm_iso(min(invoked_at)) AS first_invoked, " \
	"skm_iso(max(invoked_at)) AS last_invoked, " \
	"100.0 * sum(completed) / count(*) AS completion_rate, " \
	"CASE WHEN sum(completed) > 0 THEN total(" HQ_CPL ") / " \
	"sum(completed) ELSE 0.0 END AS avg_duration_seconds, " \
	"skm_pct_agg(" HQ_CPL ", 0.5) AS p50_duration_seconds, " \
	"skm_pct_agg(" HQ_CPL ", 0.95) AS p95_duration_seconds, " \
	"skm_pct_agg(" HQ_CPL ", 0.99) AS p99_duration_seconds " \
	"FROM i GROUP BY skill_name)"
#define HQ_TOP(map) \
	"(SELECT coalesce(json_group_object(k, n), '{}') FROM (" \
	"SELECT e.key AS k, sum(e.value) AS n FROM m, json_each(m." map ") e " \
	"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5))"
#define HQ_MAP_COUNTS(map, col, rate) \
	"WITH " HQ_I ", " HQ_M " " \
	"SELECT e.key AS " col ", sum(e.value) AS count, " \
	"100.0 * sum(e.value) / (SELECT sum(total_invocations) FROM m) " \
	"AS " rate " FROM m, json_each(m." map ") e " \
	"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT :limit"

static const struct {
	enum skm_query q;
	int object;
	const char *sql;
	long deflimit;
} hq[] = {
	{ SKM_Q_STATS, 0, "WITH " HQ_I ", " HQ_M " "
	  "SELECT skill_name, total_invocations, completed_invocations, "
	  "completion_rate, avg_duration_seconds, p50_duration_seconds, "
	  "p95_duration_seconds, p99_duration_seconds, last_invoked FROM m "
	  "ORDER BY total_invocations DESC, skill_name", 0 },
	{ SKM_Q_SHOW, 1, "WITH " HQ_I ", " HQ_M " "
	  "SELECT skill_name, total_invocations, completed_invocations, "
	  "abandoned_invocations, total_duration_seconds, workflow_paths, "
	  "common_errors, follow_up_actions, first_invoked, last_invoked, "
	  "completion_rate, avg_duration_seconds, min_duration_seconds, "
	  "max_duration_seconds, p50_duration_seconds, p95_duration_seconds, "
	  "p99_duration_seconds FROM m WHERE skill_name = :skill", 0 },
	{ SKM_Q_SUMMARY, 1, "WITH " HQ_I ", " HQ_M " "
	  "SELECT count(*) AS total_skills, "
	  "coalesce(sum(total_invocations), 0) AS total_invocations, "
	  "CASE WHEN sum(total_invocations) > 0 THEN 100.0 * "
	  "sum(completed_invocations) / sum(total_invocations) ELSE 0.0 END "
	  "AS overall_completion_rate, "
	  "(SELECT skill_name FROM m ORDER BY total_invocations DESC, "
	  "skill_name LIMIT 1) AS most_used_skill, "
	  "coalesce((SELECT total_invocations FROM m ORDER BY "
	  "total_invocations DESC, skill_name LIMIT 1), 0) AS most_used_count, "
	  "CASE WHEN sum(completed_invocations) > 0 THEN "
	  "sum(total_duration_seconds) / sum(completed_invocations) "
	  "ELSE 0.0 END AS avg_duration_seconds, "
	  HQ_TOP("common_errors") " AS top_error_types, "
	  HQ_TOP("workflow_paths") " AS top_workflow_paths FROM m", 0 },
	{ SKM_Q_RECENT, 0,
	  "SELECT skm_uuid(id) AS id, skill_name, skm_iso(invoked_at) AS "
	  "invoked_at, skm_iso(ended_at) AS ended_at, "
	  "CASE WHEN ended_at IS NULL THEN 'running' WHEN completed "
	  "THEN 'completed' ELSE 'failed' END AS status, "
	  "duration_seconds, error_type, exit_code, workflow_path, command "
	  "FROM invocation WHERE (:skill IS NULL OR skill_name = :skill) "
	  "AND (:failed = 0 OR (ended_at IS NOT NULL AND completed = 0)) "
	  "AND " HQ_HOST " ORDER BY invoked_at DESC, skm_uuid(id) DESC "
	  "LIMIT :limit",
	  20 },
	{ SKM_Q_SESSION, 0, "WITH " HQ_I " "
	  "SELECT skill_name, count(*) AS invocation_count, "
	  "skm_iso(min(invoked_at)) AS first_invoked, "
	  "skm_iso(max(invoked_at)) AS last_invoked, "
	  "total(" HQ_CPL ") AS total_duration_seconds FROM i "
	  "WHERE session_id = skm_key(:session) GROUP BY skill_name "
	  "ORDER BY 2 DESC, 1", 0 },
	{ SKM_Q_SHOW_COUNTS, 0, "WITH " HQ_I ", " HQ_M " "
	  "SELECT map, key, count FROM ("
	  "SELECT 'workflow_paths' AS map, e.key AS key, e.value AS count "
	  "FROM m, json_each(m.workflow_paths) e UNION ALL "
	  "SELECT 'common_errors', e.key, e.value "
	  "FROM m, json_each(m.common_errors) e UNION ALL "
	  "SELECT 'follow_up_actions', e.key, e.value "
	  "FROM m, json_each(m.follow_up_actions) e) "
	  "ORDER BY map, count DESC, key", 0 },
	{ SKM_Q_TIMELINE, 0, SKM__SQL_TL_RAW(" AND " HQ_HOST), 0 },
	{ SKM_Q_SEARCH, 0,
	  "WITH f AS MATERIALIZED (SELECT rowid AS r, "
	  "  bm25(skill_invocation_fts) AS score FROM skill_invocation_fts "
	  "  WHERE skill_invocation_fts MATCH :text), "
	  "m AS MATERIALIZED (SELECT w.skill_name AS s, w.workflow_path AS p, "
	  "  f.score AS score FROM f JOIN skill_workflow w ON w.id = f.r), "
	  "k AS MATERIALIZED (SELECT DISTINCT s FROM m), "
	  "g AS (SELECT i.skill_name AS s, i.workflow_path AS p, "
	  "  count(*) AS n, avg(CASE WHEN i.completed THEN i.duration_seconds "
	  "  END) AS a FROM k CROSS JOIN invocation i "
	  "  WHERE i.skill_name = k.s AND i.ended_at IS NOT NULL "
	  "  AND i." HQ_HOST " GROUP BY 1, 2) "
	  "SELECT g.s AS skill_name, g.p AS workflow_path, "
	  "g.n AS invocation_count, coalesce(g.a, 0.0) AS avg_duration_seconds "
	  "FROM g JOIN m ON m.s = g.s AND m.p IS g.p "
	  "ORDER BY m.score, g.n DESC, g.s, g.p LIMIT :limit", 100 },
	{ SKM_Q_ERRORS, 0,
	  HQ_MAP_COUNTS("common_errors", "error_type", "error_rate"), -1 },
	{ SKM_Q_WORKFLOWS, 0,
	  HQ_MAP_COUNTS("workflow_paths", "workflow_path", "share_rate"), -1 },
};

#define MAX_BUCKETS 100000
#define WEEK_OFFSET (4 * 86400LL)	/* 1970-01-05, the first Monday */

/* floor(a / b) for b > 0. */
static long long
floor_div(long long a, long long b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/*
 * parse_until - what --since takes, except that a timestamp after now
 * means now (a duration is always in the past).
 */
static int
parse_until(const char *s, long long now, long long *ms, char *err,
    size_t errlen)
{
	if (strlen(s) > 4 && s[4] == '-') {
		if (skm__tp_parse_iso(s, ms, err, errlen) != 0)
			return -1;
		if (*ms > now)
			*ms = now;
		return 0;
	}
	return skm__tp_parse_since(s, now, ms, NULL, err, errlen);
}

/*
 * skm__timeline_grid - since, until and bucket as the timeline's bucket
 * grid: the first and last bucket starts (epoch seconds), the bucket
 * width and offset, and the invoked_at range [lo, hi) as ISO text.
 */
int
skm__timeline_grid(struct skm_db *db, const struct skm_query_args *a,
    long long g[4], char *lo, char *hi)
{
	static const struct { const char *name; long long width; } buckets[] = {
		{ "minute", 60 }, { "hour", 3600 }, { "day", 86400 },
		{ "week", 7 * 86400 },
	};
	const char *bucket = a->bucket != NULL ? a->bucket : "day";
	long long now = skm__tp_now_ms(), since, until = now, width = 0, off;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		if (strcmp(bucket, buckets[i].name) == 0)
			width = buckets[i].width;
	if (width == 0)
		return skm__store_fail(db, SKM_MISUSE, "--bucket '%.40s': bad "
		    "bucket, use minute, hour, day or week", bucket);
	if (skm__tp_parse_since(a->since != NULL ? a->since : "7d", now, &since,
	    NULL, err, sizeof(err)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "--since %s", err);
	if (a->until != NULL && parse_until(a->until, now, &until, err,
	    sizeof(err)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "--until %s", err);
	if (since < 2 * WEEK_OFFSET * 1000)
		return skm__store_fail(db, SKM_MISUSE, "--since: before 1970-01-09");
	if (since > until)
		return skm__store_fail(db, SKM_MISUSE, "--since is after --until");
	off = width == 7 * 86400 ? WEEK_OFFSET : 0;
	g[0] = floor_div(floor_div(since, 1000) - off, width) * width + off;
	g[1] = floor_div(floor_div(until, 1000) - off, width) * width + off;
	g[2] = width;
	g[3] = off;
	if ((g[1] - g[0]) / width + 1 > MAX_BUCKETS)
		return skm__store_fail(db, SKM_MISUSE, "%lld buckets are too many "
		    "(at most %d): use a larger --bucket or a later --since",
		    (g[1] - g[0]) / width + 1, MAX_BUCKETS);
	if (skm__tp_format_iso(g[0] * 1000, lo) != 0 ||
	    skm__tp_format_iso((g[1] + width) * 1000, hi) != 0)
		return skm__store_fail(db, SKM_MISUSE, "--since or --until out "
		    "of range");
	return SKM_OK;
}

static void
bind_named_int(sqlite3_stmt *st, const char *name, long long v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

static void
bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0 && v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* skm__hosts_json - the hosts as one JSON array made by SQLite (*out
 * NULL when there are none; else sqlite3_free it). */
int
skm__hosts_json(struct skm_db *db, const struct skm_query_args *a, char **out)
{
	sqlite3_str *s;
	sqlite3_stmt *st;
	char *sql;
	int i, src;

	*out = NULL;
	if (a->nhosts <= 0)
		return SKM_OK;
	s = sqlite3_str_new(db->conn);
	sqlite3_str_appendall(s, "SELECT json_array(");
	for (i = 0; i < a->nhosts; i++)
		sqlite3_str_appendall(s, i ? ", ?" : "?");
	sqlite3_str_appendall(s, ")");
	if ((sql = sqlite3_str_finish(s)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "hosts");
	for (i = 0; i < a->nhosts; i++)
		sqlite3_bind_text(st, i + 1, a->hosts[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return *out != NULL ? SKM_OK : skm__store_fail(db, SKM_NOMEM,
	    "out of memory");
}

/* Columns that hold JSON text, embedded as JSON and not as strings. */
static int
json_col(const char *name)
{
	static const char *const cols[] = { "workflow_paths", "common_errors",
	    "follow_up_actions", "top_error_types", "top_workflow_paths" };
	size_t i;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(name, cols[i]) == 0)
			return 1;
	return 0;
}

/*
 * skm__json_sql - the statement that makes the JSON document of the rows
 * of sql (st, prepared from it, gives the column names: constants of
 * lib, never user text): one object, or an array of them.  The same
 * wrapping for a store, a store narrowed to hosts and a server's result,
 * so that their documents cannot differ.  NULL when out of memory;
 * sqlite3_free it.
 */
char *
skm__json_sql(sqlite3_stmt *st, const char *sql, int object)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i, n = sqlite3_column_count(st);

	sqlite3_str_appendall(s, !object ?
	    "SELECT coalesce(json_group_array(json(o)), '[]') FROM "
	    "(SELECT json_object(" : "SELECT json_object(");
	for (i = 0; i < n; i++) {
		const char *c = sqlite3_column_name(st, i);
		sqlite3_str_appendf(s, "%s'%q', %s\"%w\"%s", i ? ", " : "",
		    c, json_col(c) ? "json(" : "", c, json_col(c) ? ")" : "");
	}
	sqlite3_str_appendf(s, ")%s FROM (%s)%s", !object ? " AS o" : "",
	    sql, !object ? ")" : "");
	return sqlite3_str_finish(s);
}

/* SKM_NOTFOUND unless some invocation of skill was recorded (any host). */
static int
skill_known(struct skm_db *db, const char *skill)
{
	sqlite3_stmt *st;
	int src;

	if (sqlite3_prepare_v2(db->conn, "SELECT 1 FROM invocation "
	    "WHERE skill_name = ? LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return skm__store_sqlfail(db, SQLITE_ERROR, "query");
	sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src == SQLITE_DONE)
		return skm__store_fail(db, SKM_NOTFOUND, "no such skill: %s", skill);
	return src == SQLITE_ROW ? SKM_OK : skm__store_sqlfail(db, src, "query");
}

int
skm__hostq_prepare(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *a, int json, sqlite3_stmt **out)
{
	sqlite3_stmt *st = NULL;
	char *sql, *hosts = NULL, lo[TP_ISO_LEN], hi[TP_ISO_LEN];
	long long g[4];
	size_t k;
	int rc, src, idx = -1;

	*out = NULL;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	for (k = 0; k < sizeof(hq) / sizeof(hq[0]); k++)
		if (hq[k].q == q)
			idx = (int)k;
	if (idx < 0)
		return skm__store_fail(db, SKM_MISUSE, "unknown query %d", (int)q);
	if ((q == SKM_Q_SHOW || q == SKM_Q_SHOW_COUNTS ||
	    q == SKM_Q_TIMELINE) && a->skill == NULL)
		return skm__store_fail(db, SKM_MISUSE, "no skill given");
	if (q == SKM_Q_SESSION && a->session == NULL)
		return skm__store_fail(db, SKM_MISUSE, "no session given");
	if (q == SKM_Q_SEARCH && (a->text == NULL ||
	    a->text[strspn(a->text, " \t\n")] == '\0'))
		return skm__store_fail(db, SKM_MISUSE, "empty search query");
	if (a->limit < 0)
		return skm__store_fail(db, SKM_MISUSE, "bad limit %ld", a->limit);
	if ((q == SKM_Q_TIMELINE || (q == SKM_Q_ERRORS && a->skill != NULL)) &&
	    (rc = skill_known(db, a->skill)) != SKM_OK)
		return rc;
	if (q == SKM_Q_TIMELINE &&
	    (rc = skm__timeline_grid(db, a, g, lo, hi)) != SKM_OK)
		return rc;
	if ((rc = register_pct(db)) != SKM_OK ||
	    (rc = skm__hosts_json(db, a, &hosts)) != SKM_OK)
		return rc;
	src = sqlite3_prepare_v2(db->conn, hq[idx].sql, -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = skm__store_sqlfail(db, src, "query");
		goto out;
	}
	if (json) {
		sql = skm__json_sql(st, hq[idx].sql, hq[idx].object);
		sqlite3_finalize(st);
		st = NULL;
		if (sql == NULL) {
			rc = skm__store_fail(db, SKM_NOMEM, "out of memory");
			goto out;
		}
		src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
		sqlite3_free(sql);
		if (src != SQLITE_OK) {
			rc = skm__store_sqlfail(db, src, "query");
			goto out;
		}
	}
	bind_named_text(st, ":hosts", hosts);
	bind_named_text(st, ":skill", a->skill);
	bind_named_text(st, ":session", a->session);
	bind_named_text(st, ":text", a->text);
	bind_named_int(st, ":failed", a->failed ? 1 : 0);
	bind_named_int(st, ":limit", a->limit > 0 ? a->limit :
	    hq[idx].deflimit);
	if (q == SKM_Q_TIMELINE) {
		bind_named_int(st, ":from", g[0]);
		bind_named_int(st, ":to", g[1]);
		bind_named_int(st, ":width", g[2]);
		bind_named_int(st, ":off", g[3]);
		bind_named_text(st, ":lo", lo);
		bind_named_text(st, ":hi", hi);
	}
	/* FTS5 parses the query when the statement first runs. */
	if (q == SKM_Q_SEARCH) {
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src != SQLITE_ROW && src != SQLITE_DONE) {
			rc = skm__store_fail(db, SKM_MISUSE, "bad search query "
			    "'%.60s': %s (quote words with special characters: "
			    "'\"ci/full\"')", a->text, sqlite3_errmsg(db->conn));
			goto out;
		}
	}
	*out = st;
	st = NULL;
	rc = SKM_OK;
out:
	sqlite3_finalize(st);
	sqlite3_free(hosts);
	return rc;
}
