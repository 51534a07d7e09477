/*
 * query.c - the read side: every question `skm` asks is one SQL statement
 * here, read row by row through a cursor or turned into JSON by SQLite's
 * JSON functions (json_object / json_group_array over the same statement,
 * so the two forms can never disagree and nothing is escaped by hand).
 *
 * Exact percentiles come from skm_pct(skill, p), an SQL function defined
 * here: it counts the skill's completed durations and reads the one or two
 * values it needs by OFFSET, both through the (skill_name, completed,
 * duration_seconds) index, interpolated linearly: of the n sorted values
 * v, with k = (n-1)p and f = floor(k), v[f] + (k-f)(v[f+1]-v[f]) (v[f]
 * when f is the last) -- what PostgreSQL's percentile_cont gives.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "skm-int.h"
#include "timeparse.h"

struct skm_cursor {
	struct skm_db *db;
	sqlite3_stmt *st;
};

/*
 * The reads of skm_pct(); all must be answered from the index
 * invocation_duration alone (tests/unit/test_query.c asks SQLite's
 * query planner).  An order statistic above the median is read from the
 * top of the index (DESC), so p95 and p99 step over 5% and 1% of the
 * entries instead of 95% and 99%.
 */
const char skm__query_pct_count_sql[] =
    "SELECT count(*) FROM invocation WHERE skill_name = ?1 "
    "AND completed = 1 AND duration_seconds IS NOT NULL";
const char skm__query_pct_nth_sql[] =
    "SELECT duration_seconds FROM invocation "
    "WHERE skill_name = ?1 AND completed = 1 "
    "AND duration_seconds IS NOT NULL "
    "ORDER BY duration_seconds LIMIT 2 OFFSET ?2";
const char skm__query_pct_nth_desc_sql[] =
    "SELECT duration_seconds FROM invocation "
    "WHERE skill_name = ?1 AND completed = 1 "
    "AND duration_seconds IS NOT NULL "
    "ORDER BY duration_seconds DESC LIMIT 2 OFFSET ?2";

/*
 * pct_count - n, the number of the skill's completed durations.  `skm
 * stats` asks for p50, p95 and p99 of one skill in a row, so the last
 * count is kept with what identifies the data it was counted on: this
 * connection's change counter, the pager's data version (which moves
 * when any connection commits) and the transaction (a rollback or
 * commit forgets it, see store.c).
 */
static int
pct_count(struct skm_db *db, sqlite3_value *skill, sqlite3_int64 *n)
{
	sqlite3_int64 changes = sqlite3_total_changes64(db->conn);
	const void *name = sqlite3_value_blob(skill);
	int len = sqlite3_value_bytes(skill), dv = 0;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_file_control(db->conn, "main", SQLITE_FCNTL_DATA_VERSION,
	    &dv) != SQLITE_OK)
		db->pct.valid = 0;
	if (db->pct.valid && db->pct.changes == changes && db->pct.dv == dv &&
	    db->pct.len == len && sqlite3_value_type(skill) == SQLITE_TEXT &&
	    (len == 0 || memcmp(db->pct.skill, name, (size_t)len) == 0)) {
		*n = db->pct.n;
		return SKM_OK;
	}
	if ((rc = skm__store_prepare(db, skm__query_pct_count_sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_value(st, 1, skill);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return SKM_ERROR;
	}
	*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	db->pct.valid = 0;
	if (sqlite3_value_type(skill) == SQLITE_TEXT &&
	    (size_t)len <= sizeof(db->pct.skill)) {
		memcpy(db->pct.skill, name, (size_t)len);
		db->pct.len = len;
		db->pct.n = *n;
		db->pct.changes = changes;
		db->pct.dv = dv;
		db->pct.valid = 1;
	}
	return SKM_OK;
}

/*
 * pct_fn - skm_pct(skill, p): the p-quantile (0..1) of the skill's
 * completed durations: k = (n-1)p, f = floor(k), c = min(f+1, n-1),
 * v[f] + (k-f)(v[c]-v[f]).  NULL when the skill has none.  Its
 * statements are the handle's cached ones (the function's user data is
 * the skm_db).
 */
static void
pct_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct skm_db *db = sqlite3_user_data(ctx);
	sqlite3_stmt *st;
	double p, k, v[2], row[2];
	sqlite3_int64 n, f, c;
	int i, desc;

	(void)argc;
	p = sqlite3_value_double(argv[1]);
	if (p < 0 || p > 1 || isnan(p)) {
		sqlite3_result_error(ctx, "skm_pct: p must be in 0..1", -1);
		return;
	}
	if (pct_count(db, argv[0], &n) != SKM_OK)
		goto fail;
	if (n == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	k = (double)(n - 1) * p;
	f = (sqlite3_int64)floor(k);
	c = f + 1 < n ? f + 1 : n - 1;
	/* Ascending, rows are v[f], v[f+1]; descending from offset n-1-c,
	 * they are v[c], v[c-1]. */
	desc = f > (n - 1) / 2;
	if (skm__store_prepare(db, desc ? skm__query_pct_nth_desc_sql :
	    skm__query_pct_nth_sql, &st) != SKM_OK)
		goto fail;
	sqlite3_bind_value(st, 1, argv[0]);
	sqlite3_bind_int64(st, 2, desc ? n - 1 - c : f);
	for (i = 0; i < 2 && sqlite3_step(st) == SQLITE_ROW; i++)
		row[i] = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	if (i == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	if (!desc) {
		v[0] = row[0];
		v[1] = i == 2 && c > f ? row[1] : row[0];
	} else {
		v[1] = row[0];
		v[0] = i == 2 && c > f ? row[1] : row[0];
	}
	sqlite3_result_double(ctx, v[0] + (k - (double)f) * (v[1] - v[0]));
	return;
fail:
	sqlite3_result_error(ctx, sqlite3_errmsg(db->conn), -1);
}

int
skm__query_register(struct skm_db *db)
{
	int src = sqlite3_create_function(db->conn, "skm_pct", 2,
	    SQLITE_UTF8 | SQLITE_INNOCUOUS, db, pct_fn, NULL, NULL);

	return src == SQLITE_OK ? SKM_OK : SKM_ERROR;
}

/* The stored percentiles when they are valid (refresh_percentiles()
 * makes them so before the query), computed here when they are not (a
 * store that could not be written). */
#define PCT_COL(p, col) \
	"CASE WHEN percentiles_valid THEN " col " " \
	"ELSE skm_pct(skill_name, " p ") END AS " col
#define PCT_COLS \
	PCT_COL("0.5", "p50_duration_seconds") ", " \
	PCT_COL("0.95", "p95_duration_seconds") ", " \
	PCT_COL("0.99", "p99_duration_seconds")

/* One skill's row; pct: its percentile columns. */
#define SHOW_SQL(pct) \
	"SELECT skill_name, total_invocations, completed_invocations, " \
	"abandoned_invocations, total_duration_seconds, workflow_paths, " \
	"common_errors, follow_up_actions, first_invoked, last_invoked, " \
	"completion_rate, avg_duration_seconds, min_duration_seconds, " \
	"max_duration_seconds, " pct " " \
	"FROM skill_metrics WHERE skill_name = :skill"

/* How a query's rows become JSON: one object, or an array of them. */
enum shape { ARRAY, OBJECT };

struct query_def {
	enum skm_query q;
	enum shape shape;
	const char *sql;
	long deflimit;		/* :limit when none is given; -1: all */
};

/*
 * The timeline's buckets are whole multiples of :width seconds from :off
 * (a Monday for weeks), made by a recursive CTE from :from to :to, so
 * that empty buckets appear as zeros; the invocations in [:lo, :hi) are
 * counted into them.  All of these are computed and checked in C
 * (bind_timeline) and bound: nothing the user typed is part of the SQL.
 *
 * Buckets of an hour or more add up the hourly rollups of
 * skill_timeline (migration 5): a week by hour reads 168 rows whatever
 * the number of invocations.  Minute buckets count the invocations
 * themselves (SKM__SQL_TL_RAW, schema.h).
 */
#define TIMELINE_SQL SKM__SQL_TL_HEAD \
	"i AS (SELECT ((hour - :off) / :width) * :width + :off AS t, " \
	"  sum(invocation_count) AS n, sum(completed_count) AS c, " \
	"  CASE WHEN sum(completed_count) > 0 THEN " \
	"  sum(total_duration_seconds) / sum(completed_count) END AS a " \
	"  FROM skill_timeline WHERE skill_name = :skill " \
	"  AND hour >= :from AND hour < :to + :width GROUP BY 1) " \
	SKM__SQL_TL_TAIL
static const char timeline_raw_sql[] = SKM__SQL_TL_RAW("");

/*
 * Search: FTS5 indexes each distinct (skill, workflow path) pair once
 * (skill_workflow, migration 3), and skill_workflow counts the pair's
 * ended invocations (migration 5): a search reads its matches and
 * nothing else.  bm25() is more negative for a better match.
 * MATERIALIZED: bm25() only works in the query that does the MATCH, so
 * SQLite must not fold that query into the join.
 */
#define SEARCH_SQL \
	"WITH f AS MATERIALIZED (SELECT rowid AS r, " \
	"  bm25(skill_invocation_fts) AS score FROM skill_invocation_fts " \
	"  WHERE skill_invocation_fts MATCH :text) " \
	"SELECT w.skill_name AS skill_name, w.workflow_path AS workflow_path, " \
	"w.invocation_count AS invocation_count, " \
	"CASE WHEN w.completed_count > 0 THEN " \
	"w.total_duration_seconds / w.completed_count ELSE 0.0 END " \
	"AS avg_duration_seconds " \
	"FROM f JOIN skill_workflow w ON w.id = f.r " \
	"WHERE w.invocation_count > 0 ORDER BY f.score, w.invocation_count " \
	"DESC, w.skill_name, w.workflow_path LIMIT :limit"

/*
 * Recent: the latest :limit of each skill (or of :skill), from the index
 * on (skill_name, invoked_at), then the latest :limit of those.  The
 * skills are found by skipping through that index, one seek per skill
 * (RECENT_SKILLS): there is no index on the time alone (migration 7), so
 * the cost follows the number of skills, not of invocations.
 */
#define RECENT_SKILLS \
	"WITH RECURSIVE s(name) AS (" \
	"  SELECT CASE WHEN :skill IS NULL THEN " \
	"  (SELECT min(skill_name) FROM invocation) ELSE :skill END " \
	"  UNION ALL SELECT (SELECT min(skill_name) FROM invocation " \
	"  WHERE skill_name > s.name) FROM s " \
	"  WHERE :skill IS NULL AND s.name IS NOT NULL) "
#define RECENT_SQL RECENT_SKILLS \
	"SELECT skm_uuid(i.id) AS id, i.skill_name AS skill_name, " \
	"skm_iso(i.invoked_at) AS invoked_at, skm_iso(i.ended_at) AS ended_at, " \
	"CASE WHEN i.ended_at IS NULL THEN 'running' WHEN i.completed " \
	"THEN 'completed' ELSE 'failed' END AS status, " \
	"i.duration_seconds AS duration_seconds, i.error_type AS error_type, " \
	"i.exit_code AS exit_code, i.workflow_path AS workflow_path, " \
	"i.command AS command FROM s, invocation i " \
	"WHERE s.name IS NOT NULL AND i.rowid IN (SELECT rowid FROM invocation " \
	"  WHERE skill_name = s.name AND (:failed = 0 OR " \
	"  (ended_at IS NOT NULL AND completed = 0)) " \
	"  ORDER BY invoked_at DESC LIMIT :limit) " \
	"ORDER BY i.invoked_at DESC, skm_uuid(i.id) DESC LIMIT :limit"

/* Error types and workflow paths come from the count maps of
 * skill_metrics: one row per skill, so these never scan invocations. */
#define MAP_COUNTS_SQL(map, col, rate) \
	"SELECT e.key AS " col ", sum(e.value) AS count, " \
	"100.0 * sum(e.value) / (SELECT sum(total_invocations) " \
	"  FROM skill_metrics WHERE :skill IS NULL OR skill_name = :skill) " \
	"  AS " rate " " \
	"FROM skill_metrics m, json_each(m." map ") e " \
	"WHERE :skill IS NULL OR m.skill_name = :skill " \
	"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT :limit"

static const struct query_def queries[] = {
	{ SKM_Q_STATS, ARRAY,
	  "SELECT skill_name, total_invocations, completed_invocations, "
	  "completion_rate, avg_duration_seconds, " PCT_COLS ", last_invoked "
	  "FROM skill_metrics ORDER BY total_invocations DESC, skill_name", 0 },
	{ SKM_Q_SHOW, OBJECT, SHOW_SQL(PCT_COLS), 0 },
	{ SKM_Q_SHOW_PERSISTED, OBJECT, SHOW_SQL("p50_duration_seconds, "
	  "p95_duration_seconds, p99_duration_seconds"), 0 },
	{ SKM_Q_SUMMARY, OBJECT,
	  "SELECT total_skills, total_invocations, overall_completion_rate, "
	  "most_used_skill, most_used_count, avg_duration_seconds, "
	  "(SELECT coalesce(json_group_object(k, n), '{}') FROM ("
	  "  SELECT e.key AS k, sum(e.value) AS n FROM skill_metrics m, "
	  "  json_each(m.common_errors) e GROUP BY 1 ORDER BY 2 DESC, 1 "
	  "  LIMIT :limit)) AS top_error_types, "
	  "(SELECT coalesce(json_group_object(k, n), '{}') FROM ("
	  "  SELECT e.key AS k, sum(e.value) AS n FROM skill_metrics m, "
	  "  json_each(m.workflow_paths) e GROUP BY 1 ORDER BY 2 DESC, 1 "
	  "  LIMIT :limit)) AS top_workflow_paths "
	  "FROM skill_metrics_summary", 5 },
	{ SKM_Q_RECENT, ARRAY,
	  RECENT_SQL, 20 },
	{ SKM_Q_SESSION, ARRAY,
	  "SELECT skill_name, invocation_count, first_invoked, last_invoked, "
	  "total_duration_seconds FROM session_skill "
	  "WHERE session_id = :session "
	  "ORDER BY invocation_count DESC, skill_name", 0 },
	{ SKM_Q_SHOW_COUNTS, ARRAY,
	  "SELECT map, key, count FROM ("
	  "SELECT 'workflow_paths' AS map, e.key AS key, e.value AS count "
	  "FROM skill_metrics m, json_each(m.workflow_paths) e "
	  "WHERE m.skill_name = :skill UNION ALL "
	  "SELECT 'common_errors', e.key, e.value "
	  "FROM skill_metrics m, json_each(m.common_errors) e "
	  "WHERE m.skill_name = :skill UNION ALL "
	  "SELECT 'follow_up_actions', e.key, e.value "
	  "FROM skill_metrics m, json_each(m.follow_up_actions) e "
	  "WHERE m.skill_name = :skill) ORDER BY map, count DESC, key", 0 },
	{ SKM_Q_TIMELINE, ARRAY, TIMELINE_SQL, 0 },
	{ SKM_Q_SEARCH, ARRAY, SEARCH_SQL, 100 },
	{ SKM_Q_ERRORS, ARRAY,
	  MAP_COUNTS_SQL("common_errors", "error_type", "error_rate"), -1 },
	{ SKM_Q_WORKFLOWS, ARRAY,
	  MAP_COUNTS_SQL("workflow_paths", "workflow_path", "share_rate"), -1 },
	{ SKM_Q_SKILLS, ARRAY,
	  "SELECT skill_name, total_invocations, last_invoked "
	  "FROM skill_metrics WHERE :text IS NULL "
	  "OR substr(skill_name, 1, length(:text)) = :text "
	  "ORDER BY skill_name LIMIT :limit", -1 },
};

static const struct query_def *
find_query(enum skm_query q)
{
	size_t i;

	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (queries[i].q == q)
			return &queries[i];
	return NULL;
}

static void
bind_int(sqlite3_stmt *st, const char *name, long long v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

/*
 * bind_timeline - since, until and bucket as the bucket grid of the
 * timeline query (skm__timeline_grid: the first and last bucket starts,
 * the bucket width and offset, the invoked_at range as text), bound.
 */
static int
bind_timeline(struct skm_db *db, sqlite3_stmt *st,
    const struct skm_query_args *a)
{
	char lo[TP_ISO_LEN], hi[TP_ISO_LEN];
	long long g[4];
	int rc, i;

	if ((rc = skm__timeline_grid(db, a, g, lo, hi)) != SKM_OK)
		return rc;
	bind_int(st, ":from", g[0]);
	bind_int(st, ":to", g[1]);
	bind_int(st, ":width", g[2]);
	bind_int(st, ":off", g[3]);
	if ((i = sqlite3_bind_parameter_index(st, ":lo")) > 0)
		sqlite3_bind_text(st, i, lo, -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(st, ":hi")) > 0)
		sqlite3_bind_text(st, i, hi, -1, SQLITE_TRANSIENT);
	return SKM_OK;
}

/* Bind the named parameters a statement has from args. */
static int
bind_args(struct skm_db *db, sqlite3_stmt *st, const struct skm_query_args *a,
    long deflimit)
{
	static const struct skm_query_args none;
	int i, rc;

	if (a == NULL)
		a = &none;
	if (sqlite3_bind_parameter_index(st, ":width") > 0 &&
	    (rc = bind_timeline(db, st, a)) != SKM_OK)
		return rc;
	if ((i = sqlite3_bind_parameter_index(st, ":skill")) > 0 &&
	    a->skill != NULL)
		sqlite3_bind_text(st, i, a->skill, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, ":session")) > 0) {
		if (a->session == NULL)
			return skm__store_fail(db, SKM_MISUSE, "no session given");
		sqlite3_bind_text(st, i, a->session, -1, SQLITE_STATIC);
	}
	if ((i = sqlite3_bind_parameter_index(st, ":text")) > 0 &&
	    a->text != NULL)
		sqlite3_bind_text(st, i, a->text, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, ":failed")) > 0)
		sqlite3_bind_int(st, i, a->failed ? 1 : 0);
	if ((i = sqlite3_bind_parameter_index(st, ":limit")) > 0) {
		if (a->limit < 0)
			return skm__store_fail(db, SKM_MISUSE, "bad limit %ld",
			    a->limit);
		sqlite3_bind_int64(st, i, a->limit > 0 ? a->limit : deflimit);
	}
	return SKM_OK;
}

/*
 * refresh_percentiles - store the exact percentiles of the skills whose
 * stored ones an end made stale (skill, or all when NULL), so that this
 * query and the next ones read them instead of walking the index.  Only
 * skills with PCT_STORE_MIN completed runs or more: below, computing
 * them in the query costs less than a write.  Only if the write lock is
 * free this instant: a query never waits for writers.  Failing changes
 * nothing: the query computes what is stale.
 */
#define PCT_STORE_MIN "1000"
static void
refresh_percentiles(struct skm_db *db, const char *skill)
{
	static const char stale[] =
	    "SELECT EXISTS (SELECT 1 FROM skill_metrics WHERE "
	    "NOT percentiles_valid AND (?1 IS NULL OR skill_name = ?1) "
	    "AND completed_invocations >= " PCT_STORE_MIN ")";
	sqlite3_stmt *st;
	int any, busy_ms = db->busy_ms;

	if (skm__store_prepare(db, stale, &st) != SKM_OK)
		return;
	if (skill != NULL)
		sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	any = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!any)
		return;
	db->busy_ms = 0;
	if (skm__store_begin_write(db) == SKM_OK &&
	    skm__agg_percentiles_stale(db, skill) == SKM_OK)
		skm__store_commit(db);
	else
		skm__store_rollback(db);
	db->busy_ms = busy_ms;
	skm__store_clear(db);
}

/* SKM_NOTFOUND unless some invocation of skill was recorded. */
static int
skill_exists(struct skm_db *db, const char *skill)
{
	static const char sql[] =
	    "SELECT 1 FROM invocation WHERE skill_name = ? LIMIT 1";
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return skm__store_fail(db, SKM_NOTFOUND, "no such skill: %s", skill);
	return src == SQLITE_ROW ? SKM_OK : skm__store_sqlfail(db, src, "query");
}

/*
 * check_search - run the search once so that FTS5 parses the query now:
 * a syntax error is the user's (SKM_MISUSE), not a failure of the store.
 */
static int
check_search(struct skm_db *db, sqlite3_stmt *st,
    const struct skm_query_args *args)
{
	int src = sqlite3_step(st);

	sqlite3_reset(st);
	if (src == SQLITE_ROW || src == SQLITE_DONE)
		return SKM_OK;
	if ((src & 0xff) == SQLITE_ERROR)
		return skm__store_fail(db, SKM_MISUSE, "bad search query '%.60s': "
		    "%s (quote words with special characters: '\"ci/full\"')",
		    args->text, sqlite3_errmsg(db->conn));
	return skm__store_sqlfail(db, src, "search");
}

/*
 * prepare_query - the statement for q with its arguments bound.  When
 * json is set, the query is wrapped: its column names (constants of this
 * file, never user text) become the keys of json_object().
 */
static int
prepare_query(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, int json, sqlite3_stmt **out)
{
	const struct query_def *def;
	const char *text;
	sqlite3_stmt *st;
	char *sql;
	int rc, src;

	*out = NULL;
	/* A server (pg.c), or a store narrowed to hosts (hostq.c): the
	 * handle's own query function, passed in when it was made. */
	if (db != NULL && db->server_prepare != NULL)
		return db->server_prepare(db, q, args, json, out);
	if (args != NULL && args->nhosts > 0)
		return skm__hostq_prepare(db, q, args, json, out);
	/* Read what was appended to the journal since this handle last
	 * looked (this program's own runs included). */
	skm__fold_moved(db);
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if ((def = find_query(q)) == NULL)
		return skm__store_fail(db, SKM_MISUSE, "unknown query %d", (int)q);
	if (q == SKM_Q_SHOW || q == SKM_Q_SHOW_PERSISTED ||
	    q == SKM_Q_SHOW_COUNTS || q == SKM_Q_TIMELINE) {
		if (args == NULL || args->skill == NULL)
			return skm__store_fail(db, SKM_MISUSE, "no skill given");
	}
	if (q == SKM_Q_TIMELINE && (rc = skill_exists(db, args->skill)) != SKM_OK)
		return rc;
	/* errors of one skill: a mistyped name is an error, not "none" */
	if (q == SKM_Q_ERRORS && args != NULL && args->skill != NULL &&
	    (rc = skill_exists(db, args->skill)) != SKM_OK)
		return rc;
	if (q == SKM_Q_SEARCH && (args == NULL || args->text == NULL ||
	    args->text[strspn(args->text, " \t\n")] == '\0'))
		return skm__store_fail(db, SKM_MISUSE, "empty search query");
	if ((q == SKM_Q_STATS || q == SKM_Q_SHOW) && !(db->flags &
	    SKM_OPEN_READONLY))
		refresh_percentiles(db, q == SKM_Q_SHOW ? args->skill : NULL);
	text = def->sql;
	if (q == SKM_Q_TIMELINE && args->bucket != NULL &&
	    strcmp(args->bucket, "minute") == 0)
		text = timeline_raw_sql;
	src = sqlite3_prepare_v2(db->conn, text, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "query");
	if (json) {
		sql = skm__json_sql(st, text, def->shape == OBJECT);
		sqlite3_finalize(st);
		if (sql == NULL)
			return skm__store_fail(db, SKM_NOMEM, "out of memory");
		src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
		sqlite3_free(sql);
		if (src != SQLITE_OK)
			return skm__store_sqlfail(db, src, "query");
	}
	if ((rc = bind_args(db, st, args, def->deflimit)) != SKM_OK) {
		sqlite3_finalize(st);
		return rc;
	}
	if (q == SKM_Q_SEARCH && (rc = check_search(db, st, args)) != SKM_OK) {
		sqlite3_finalize(st);
		return rc;
	}
	*out = st;
	return SKM_OK;
}

int
skm_query_json(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, char **out)
{
	const struct query_def *def;
	sqlite3_stmt *st;
	int rc, src;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((rc = prepare_query(db, q, args, 1, &st)) != SKM_OK)
		return rc;
	def = find_query(q);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		rc = *out != NULL ? SKM_OK : skm__store_fail(db, SKM_NOMEM,
		    "out of memory");
	} else if (src == SQLITE_DONE || src == SQLITE_ROW) {
		rc = def->shape == OBJECT ? skm__store_fail(db, SKM_NOTFOUND,
		    "not found%s%s", args && args->skill ? ": " : "",
		    args && args->skill ? args->skill : "") :
		    skm__store_fail(db, SKM_ERROR, "query gave no result");
	} else {
		rc = skm__store_sqlfail(db, src, "query");
	}
	sqlite3_finalize(st);
	return rc;
}

int
skm_query_open(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, struct skm_cursor **out)
{
	struct skm_cursor *c;
	sqlite3_stmt *st;
	int rc, src;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((rc = prepare_query(db, q, args, 0, &st)) != SKM_OK)
		return rc;
	/* One thing asked for by name must exist. */
	if (q == SKM_Q_SHOW || q == SKM_Q_SHOW_PERSISTED) {
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src == SQLITE_DONE) {
			sqlite3_finalize(st);
			return skm__store_fail(db, SKM_NOTFOUND, "not found: %s",
			    args->skill);
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sqlite3_finalize(st);
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	}
	c->db = db;
	c->st = st;
	*out = c;
	return SKM_OK;
}

int
skm_cursor_step(struct skm_cursor *c)
{
	int src;

	if (c == NULL)
		return -1;
	src = sqlite3_step(c->st);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	skm__store_sqlfail(c->db, src, "query");
	return -1;
}

int
skm_cursor_columns(const struct skm_cursor *c)
{
	return c != NULL ? sqlite3_column_count(c->st) : 0;
}

const char *
skm_cursor_name(const struct skm_cursor *c, int col)
{
	return c != NULL ? sqlite3_column_name(c->st, col) : NULL;
}

int
skm_cursor_type(const struct skm_cursor *c, int col)
{
	if (c == NULL)
		return SKM_T_NULL;
	switch (sqlite3_column_type(c->st, col)) {
	case SQLITE_INTEGER: return SKM_T_INT;
	case SQLITE_FLOAT: return SKM_T_REAL;
	case SQLITE_NULL: return SKM_T_NULL;
	}
	return SKM_T_TEXT;
}

long long
skm_cursor_int(const struct skm_cursor *c, int col)
{
	return c != NULL ? sqlite3_column_int64(c->st, col) : 0;
}

double
skm_cursor_real(const struct skm_cursor *c, int col)
{
	return c != NULL ? sqlite3_column_double(c->st, col) : 0;
}

const char *
skm_cursor_text(const struct skm_cursor *c, int col)
{
	return c != NULL ? (const char *)sqlite3_column_text(c->st, col) : NULL;
}

void
skm_cursor_close(struct skm_cursor *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->st);
	free(c);
}
