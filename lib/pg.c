/*
 * pg.c - the second backend: a PostgreSQL server that many machines sync
 * into (sync.c pushes, this file connects, migrates, inserts batches and
 * answers queries).
 *
 * A server handle is a struct skm_db whose `pg` is set.  The entry points
 * of query.c (skm_query_json, skm_query_open), aggregate.c (skm_check) and
 * store.c (skm_close) hand such a handle here, so that `skm --server URL
 * stats` is the same program path as `skm stats`.  Every answer is
 * computed by the server in one SQL statement (aggregates, exact
 * percentiles with percentile_cont, count maps with jsonb, time buckets
 * with generate_series); the rows it returns -- a handful, already
 * aggregated -- are copied into a table of an in-memory SQLite database
 * that the handle keeps, and the caller reads them through an ordinary
 * SQLite statement: cursors and JSON (json_object over the same columns,
 * as query.c makes it) come out exactly as for a local store.
 *
 * The server keeps the invocations (skill_invocation, the local columns
 * except those that only mean something on their machine), per-skill
 * rollups (skill_metrics, updated in the transaction that inserts a
 * batch: counts, sums, min/max and count maps -- never order statistics,
 * which are computed when asked) and the distinct (skill, workflow path)
 * pairs with a tsvector for full-text search (skill_workflow).  Its
 * schema is migrated like the store's: numbered migrations, each one
 * transaction with its row in schema_migrations; a server with a newer
 * schema is refused, never written.
 *
 * Credentials: only libpq's own means.  A connection string holding a
 * password is refused before connecting, and no connection string is
 * ever copied into a message, the store or a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skm-int.h"
#include "schema.h"
#include "timeparse.h"

#ifdef SKM_HAVE_PG
#include <libpq-fe.h>

struct skm__pg {
	PGconn *conn;
	char server_id[64];
	int version;		/* the server's schema version */
	int ntab;		/* result tables made so far (r1, r2, ...) */
	int push_ready;		/* skm_batch and skm_push exist (pg_push_ready) */
};

/*
 * The server schema.  Migrations are append-only, as the store's.
 */
#define PG_TS(x) "to_char((" x ") AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char pg_m1[] =
"CREATE TABLE schema_migrations (\n"
"  version integer PRIMARY KEY,\n"
"  applied_at timestamptz NOT NULL DEFAULT now(),\n"
"  description text NOT NULL,\n"
"  checksum text NOT NULL,\n"
"  migration_time_ms double precision NOT NULL\n"
");\n"
/* Who the server is: a sync remembers how far it got per server. */
"CREATE TABLE skm_server (\n"
"  id text PRIMARY KEY,\n"
"  created_at timestamptz NOT NULL DEFAULT now()\n"
");\n"
"INSERT INTO skm_server (id) VALUES (gen_random_uuid()::text);\n"
/* Ended invocations only; ids are the stores' (UUIDv7, or an imported
 * id, hence text). */
"CREATE TABLE skill_invocation (\n"
"  id text PRIMARY KEY,\n"
"  skill_name text NOT NULL,\n"
"  invoked_at timestamptz NOT NULL,\n"
"  ended_at timestamptz NOT NULL,\n"
"  workflow_path text,\n"
"  session_id text,\n"
"  project_path text,\n"
"  parent_id text,\n"
"  completed boolean NOT NULL,\n"
"  duration_seconds double precision,\n"
"  error_type text,\n"
"  exit_code integer,\n"
"  signal integer,\n"
"  follow_up_actions jsonb NOT NULL DEFAULT '[]',\n"
"  command text,\n"
"  host text,\n"
"  pid bigint,\n"
"  user_cpu_seconds double precision,\n"
"  sys_cpu_seconds double precision,\n"
"  max_rss_kb bigint,\n"
"  source text NOT NULL,\n"
"  synced_at timestamptz NOT NULL DEFAULT now()\n"
");\n"
/* Percentiles read one skill's completed durations in order. */
"CREATE INDEX skill_invocation_duration\n"
"  ON skill_invocation (skill_name, completed, duration_seconds);\n"
/* Timelines: one skill's time range, without visiting the table. */
"CREATE INDEX skill_invocation_skill_time\n"
"  ON skill_invocation (skill_name, invoked_at)\n"
"  INCLUDE (completed, duration_seconds, host);\n"
"CREATE INDEX skill_invocation_time ON skill_invocation (invoked_at);\n"
"CREATE INDEX skill_invocation_session\n"
"  ON skill_invocation (session_id) WHERE session_id IS NOT NULL;\n"
"CREATE TABLE skill_metrics (\n"
"  skill_name text PRIMARY KEY,\n"
"  total_invocations bigint NOT NULL,\n"
"  completed_invocations bigint NOT NULL,\n"
"  abandoned_invocations bigint NOT NULL,\n"
"  total_duration_seconds double precision NOT NULL,\n"
"  min_duration_seconds double precision,\n"
"  max_duration_seconds double precision,\n"
"  duration_count bigint NOT NULL,\n"
"  workflow_paths jsonb NOT NULL DEFAULT '{}',\n"
"  common_errors jsonb NOT NULL DEFAULT '{}',\n"
"  follow_up_actions jsonb NOT NULL DEFAULT '{}',\n"
"  first_invoked timestamptz,\n"
"  last_invoked timestamptz,\n"
"  last_aggregated_at timestamptz,\n"
/* p50, p95, p99 as they were when duration_count was pct_count: valid
 * while the two agree (invocations are only ever added). */
"  pct double precision[],\n"
"  pct_count bigint NOT NULL DEFAULT -1\n"
");\n"
/* Full-text search over the distinct (skill, workflow path) pairs.  The
 * document is split on anything not a letter or digit, as FTS5's
 * unicode61 tokenizer splits it. */
"CREATE TABLE skill_workflow (\n"
"  skill_name text NOT NULL,\n"
"  workflow_path text,\n"
"  tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple',\n"
"    regexp_replace(skill_name || ' ' || coalesce(workflow_path, ''),\n"
"    '[^[:alnum:]]+', ' ', 'g'))) STORED,\n"
"  UNIQUE NULLS NOT DISTINCT (skill_name, workflow_path)\n"
");\n"
"CREATE INDEX skill_workflow_tsv ON skill_workflow USING gin (tsv);\n"
/* a + b for two count maps. */
"CREATE FUNCTION skm_add_counts(a jsonb, b jsonb) RETURNS jsonb\n"
"LANGUAGE sql IMMUTABLE AS $$\n"
"  SELECT coalesce(jsonb_object_agg(key, n), '{}') FROM (\n"
"    SELECT key, sum(value::bigint) AS n FROM (\n"
"      SELECT * FROM jsonb_each_text(a) UNION ALL\n"
"      SELECT * FROM jsonb_each_text(b)) t GROUP BY key) s\n"
"$$;\n"
"CREATE FUNCTION skm_hosts(h jsonb) RETURNS text[]\n"
"LANGUAGE sql IMMUTABLE AS $$\n"
"  SELECT ARRAY(SELECT jsonb_array_elements_text(h))\n"
"$$;\n"
/* skill_metrics recomputed from the invocations of the hosts (a JSON
 * array; NULL: all) and of skill (NULL: all). */
"CREATE FUNCTION skm_recompute(hosts jsonb, skill text)\n"
"RETURNS TABLE (skill_name text, total_invocations bigint,\n"
"  completed_invocations bigint, abandoned_invocations bigint,\n"
"  total_duration_seconds double precision,\n"
"  min_duration_seconds double precision,\n"
"  max_duration_seconds double precision, duration_count bigint,\n"
"  workflow_paths jsonb, common_errors jsonb, follow_up_actions jsonb,\n"
"  first_invoked timestamptz, last_invoked timestamptz)\n"
"LANGUAGE sql STABLE AS $$\n"
"  WITH i AS MATERIALIZED (SELECT * FROM skill_invocation v\n"
"    WHERE (hosts IS NULL OR v.host = ANY (skm_hosts(hosts)))\n"
"    AND (skill IS NULL OR v.skill_name = skill)),\n"
"  b AS (SELECT i.skill_name, count(*) AS n,\n"
"    count(*) FILTER (WHERE completed) AS c,\n"
"    count(*) FILTER (WHERE NOT completed) AS a,\n"
"    coalesce(sum(duration_seconds) FILTER (WHERE completed), 0) AS d,\n"
"    min(duration_seconds) FILTER (WHERE completed) AS mn,\n"
"    max(duration_seconds) FILTER (WHERE completed) AS mx,\n"
"    count(duration_seconds) FILTER (WHERE completed) AS nd,\n"
"    min(invoked_at) AS fi, max(invoked_at) AS la FROM i GROUP BY 1),\n"
"  wp AS (SELECT s, jsonb_object_agg(k, n) AS m FROM (\n"
"    SELECT i.skill_name AS s, workflow_path AS k, count(*) AS n FROM i\n"
"    WHERE workflow_path IS NOT NULL GROUP BY 1, 2) x GROUP BY 1),\n"
"  er AS (SELECT s, jsonb_object_agg(k, n) AS m FROM (\n"
"    SELECT i.skill_name AS s, error_type AS k, count(*) AS n FROM i\n"
"    WHERE error_type IS NOT NULL GROUP BY 1, 2) x GROUP BY 1),\n"
"  fu AS (SELECT s, jsonb_object_agg(k, n) AS m FROM (\n"
"    SELECT i.skill_name AS s, a AS k, count(*) AS n FROM i,\n"
"    jsonb_array_elements_text(i.follow_up_actions) a GROUP BY 1, 2) x\n"
"    GROUP BY 1)\n"
"  SELECT b.skill_name, b.n, b.c, b.a, b.d, b.mn, b.mx, b.nd,\n"
"    coalesce(wp.m, '{}'), coalesce(er.m, '{}'), coalesce(fu.m, '{}'),\n"
"    b.fi, b.la\n"
"  FROM b LEFT JOIN wp ON wp.s = b.skill_name\n"
"  LEFT JOIN er ON er.s = b.skill_name LEFT JOIN fu ON fu.s = b.skill_name\n"
"$$;\n"
/* Exact p50, p95, p99 of a skill's completed durations (of hosts). */
"CREATE FUNCTION skm_pct(skill text, hosts jsonb)\n"
"RETURNS double precision[] LANGUAGE sql STABLE AS $$\n"
"  SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[])\n"
"    WITHIN GROUP (ORDER BY duration_seconds)\n"
"  FROM skill_invocation WHERE skill_name = skill AND completed\n"
"  AND duration_seconds IS NOT NULL\n"
"  AND (hosts IS NULL OR host = ANY (skm_hosts(hosts)))\n"
"$$;\n"
/* Bring the stored percentiles of the skills whose durations changed up
 * to date (skills: NULL for all). */
"CREATE FUNCTION skm_refresh_pct(skills text[]) RETURNS bigint\n"
"LANGUAGE sql AS $$\n"
"  WITH u AS (UPDATE skill_metrics m\n"
"    SET pct = skm_pct(m.skill_name, NULL), pct_count = m.duration_count\n"
"    WHERE (skills IS NULL OR m.skill_name = ANY (skills))\n"
"    AND m.pct_count <> m.duration_count RETURNING 1)\n"
"  SELECT count(*) FROM u\n"
"$$;\n";

/*
 * Migration 2: what a query reads grows with its answer, as on a store.
 * Each (skill, workflow path) pair counts its invocations, completed ones
 * and their duration total (search reads its matched pairs), and
 * skill_timeline does the same per skill and hour (a timeline of hours,
 * days or weeks adds up hourly rows); both are kept by the batch
 * statement, in the batch's transaction.  An index on (host, skill,
 * time) serves --host; the covering (skill, time) index of migration 1,
 * which the timeline no longer needs, goes (a minute timeline reads the
 * time index).  skm_recompute_pairs, skm_recompute_hours: the rollups
 * from the invocations (the migration's fill, skm check, skm_rebuild).
 */
#define PG_HOUR(t) "(floor(extract(epoch FROM " t ") / 3600)::bigint * 3600)"
/* p50, p95, p99 of skill's completed durations (and of filter). */
#define PG_PCT_OF(skill, filter) \
	"(SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) " \
	"WITHIN GROUP (ORDER BY d.duration_seconds) FROM skill_invocation d " \
	"WHERE d.skill_name = " skill " AND d.completed " \
	"AND d.duration_seconds IS NOT NULL" filter ")"
static const char pg_m2[] =
"ALTER TABLE skill_workflow\n"
"  ADD COLUMN invocation_count bigint NOT NULL DEFAULT 0,\n"
"  ADD COLUMN completed_count bigint NOT NULL DEFAULT 0,\n"
"  ADD COLUMN total_duration_seconds double precision NOT NULL DEFAULT 0;\n"
"CREATE TABLE skill_timeline (\n"
"  skill_name text NOT NULL,\n"
"  hour bigint NOT NULL,\n"
"  invocation_count bigint NOT NULL,\n"
"  completed_count bigint NOT NULL,\n"
"  total_duration_seconds double precision NOT NULL,\n"
"  PRIMARY KEY (skill_name, hour)\n"
");\n"
"CREATE FUNCTION skm_recompute_pairs()\n"
"RETURNS TABLE (skill_name text, workflow_path text,\n"
"  invocation_count bigint, completed_count bigint,\n"
"  total_duration_seconds double precision)\n"
"LANGUAGE sql STABLE AS $$\n"
"  SELECT skill_name, workflow_path, count(*),\n"
"    count(*) FILTER (WHERE completed),\n"
"    coalesce(sum(duration_seconds) FILTER (WHERE completed), 0)\n"
"  FROM skill_invocation GROUP BY 1, 2\n"
"$$;\n"
"CREATE FUNCTION skm_recompute_hours()\n"
"RETURNS TABLE (skill_name text, hour bigint,\n"
"  invocation_count bigint, completed_count bigint,\n"
"  total_duration_seconds double precision)\n"
"LANGUAGE sql STABLE AS $$\n"
"  SELECT skill_name, " PG_HOUR("invoked_at") ", count(*),\n"
"    count(*) FILTER (WHERE completed),\n"
"    coalesce(sum(duration_seconds) FILTER (WHERE completed), 0)\n"
"  FROM skill_invocation GROUP BY 1, 2\n"
"$$;\n"
/* Every rollup made again from the invocations (for a server whose rows
 * were loaded by other means). */
"CREATE FUNCTION skm_rebuild() RETURNS void LANGUAGE sql AS $$\n"
"  DELETE FROM skill_metrics;\n"
"  INSERT INTO skill_metrics (skill_name, total_invocations,\n"
"    completed_invocations, abandoned_invocations,\n"
"    total_duration_seconds, min_duration_seconds,\n"
"    max_duration_seconds, duration_count, workflow_paths,\n"
"    common_errors, follow_up_actions, first_invoked, last_invoked,\n"
"    last_aggregated_at)\n"
"  SELECT *, now() FROM skm_recompute(NULL, NULL);\n"
"  DELETE FROM skill_workflow;\n"
"  INSERT INTO skill_workflow (skill_name, workflow_path,\n"
"    invocation_count, completed_count, total_duration_seconds)\n"
"  SELECT * FROM skm_recompute_pairs();\n"
"  DELETE FROM skill_timeline;\n"
"  INSERT INTO skill_timeline SELECT * FROM skm_recompute_hours();\n"
"  SELECT skm_refresh_pct(NULL);\n"
"$$;\n"
"UPDATE skill_workflow w SET invocation_count = r.invocation_count,\n"
"  completed_count = r.completed_count,\n"
"  total_duration_seconds = r.total_duration_seconds\n"
"  FROM skm_recompute_pairs() r WHERE r.skill_name = w.skill_name\n"
"  AND r.workflow_path IS NOT DISTINCT FROM w.workflow_path;\n"
"INSERT INTO skill_timeline SELECT * FROM skm_recompute_hours();\n"
/* Percentiles refreshed through the (skill, completed, duration) index:
 * skm_pct's host filter kept its generic plan from reading it alone. */
"CREATE OR REPLACE FUNCTION skm_refresh_pct(skills text[]) RETURNS bigint\n"
"LANGUAGE sql AS $$\n"
"  WITH u AS (UPDATE skill_metrics m\n"
"    SET pct = " PG_PCT_OF("m.skill_name", "") ",\n"
"    pct_count = m.duration_count\n"
"    WHERE (skills IS NULL OR m.skill_name = ANY (skills))\n"
"    AND m.pct_count <> m.duration_count RETURNING 1)\n"
"  SELECT count(*) FROM u\n"
"$$;\n"
"DROP INDEX skill_invocation_skill_time;\n"
"CREATE INDEX skill_invocation_host\n"
"  ON skill_invocation (host, skill_name, invoked_at);\n";

/* Migration 3: the rollup rows are updated in place by every batch; room
 * on their pages keeps those updates HOT (no new index entry). */
static const char pg_m3[] =
"ALTER TABLE skill_metrics SET (fillfactor = 50);\n"
"ALTER TABLE skill_workflow SET (fillfactor = 70);\n"
"ALTER TABLE skill_timeline SET (fillfactor = 70);\n";

static const struct skm_migration pg_migrations[] = {
	{ 1, "skill_invocation, skill_metrics rollups, skill_workflow "
	    "search, functions", pg_m1, NULL, 0 },
	{ 2, "pair and hourly rollups, an index for --host", pg_m2, NULL, 0 },
	{ 3, "room on the rollups' pages", pg_m3, NULL, 0 },
};
#define PG_NMIGRATIONS \
	((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))
#define PG_LATEST (pg_migrations[PG_NMIGRATIONS - 1].version)

/* What every connection sets first. */
#define PG_SETTINGS "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; " \
	"SET extra_float_digits = 3"

int
skm_server_support(void)
{
	return 1;
}

/* libpq's messages end in a newline and may hold more lines: one line
 * of it, in the handle. */
static int
pg_fail(struct skm_db *db, int rc, const char *what, const char *msg)
{
	char one[400];
	size_t i, n = 0;
	int space = 0;

	for (i = 0; msg != NULL && msg[i] != '\0' && n < sizeof(one) - 1; i++) {
		if (msg[i] == '\n' || msg[i] == '\t' || msg[i] == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n < sizeof(one) - 2)
			one[n++] = ' ';
		space = 0;
		one[n++] = msg[i];
	}
	one[n] = '\0';
	return skm__store_fail(db, rc, "%s%s%s", what, *what ? ": " : "", one);
}

/* A failed result: its message (the connection's if it has none). */
static int
pg_resfail(struct skm_db *db, PGresult *res, const char *what)
{
	/* The primary message alone: the rest (the statement's text, the
	 * position) is for those who wrote the SQL. */
	const char *msg = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int rc = SKM_ERROR;

	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(db->pg->conn);
	/* Class 53: insufficient resources (disk full, out of memory). */
	if (state != NULL && strncmp(state, "53", 2) == 0)
		rc = SKM_FULL;
	if (PQstatus(db->pg->conn) != CONNECTION_OK)
		rc = SKM_IOERR;
	pg_fail(db, rc, what, msg);
	PQclear(res);
	return rc;
}

/* Run sql (no parameters, possibly several statements); SKM_OK when it
 * succeeded. */
static int
pg_exec(struct skm_db *db, const char *sql, const char *what)
{
	PGresult *res = PQexec(db->pg->conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_resfail(db, res, what);
	PQclear(res);
	return SKM_OK;
}

/* One integer from sql ($1 = p1 if not NULL); -1 for SQL NULL. */
static int
pg_int(struct skm_db *db, const char *sql, const char *p1, long long *out)
{
	PGresult *res = PQexecParams(db->pg->conn, sql, p1 != NULL, NULL,
	    &p1, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_resfail(db, res, "server");
	*out = PQntuples(res) == 0 || PQgetisnull(res, 0, 0) ? -1 :
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return SKM_OK;
}

/* The server's schema version: 0 without the schema. */
static int
pg_version(struct skm_db *db, int *v)
{
	long long n;
	int rc;

	/* pg_tables, not to_regclass(): a lookup through the catalog
	 * caches could still miss a table another session just made. */
	if ((rc = pg_int(db, "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM "
	    "pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
	    "tablename = 'schema_migrations') THEN 0 END", NULL, &n)) !=
	    SKM_OK)
		return rc;
	if (n == 0) {
		*v = 0;
		return SKM_OK;
	}
	if ((rc = pg_int(db, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations", NULL, &n)) != SKM_OK)
		return rc;
	*v = (int)n;
	return SKM_OK;
}

/*
 * pg_migrate - bring the server's schema to PG_LATEST, one transaction
 * per migration, under an advisory lock so that two machines migrating
 * one server at once take turns (the second finds the work done).
 */
static int
pg_migrate(struct skm_db *db)
{
	const struct skm_migration *m;
	char sum[17], ver[16], ms[32];
	const char *params[4];
	PGresult *res;
	double t0;
	int i, rc, v;

	for (i = 0; i < PG_NMIGRATIONS; i++) {
		m = &pg_migrations[i];
		if ((rc = pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock("
		    "hashtext('skm server migration'))", "server")) != SKM_OK)
			return rc;
		if ((rc = pg_version(db, &v)) != SKM_OK)
			goto fail;
		if (v > PG_LATEST) {
			rc = skm__store_fail(db, SKM_NEWER, "the server's schema "
			    "(%d) is newer than this skm's (%d): upgrade skm",
			    v, PG_LATEST);
			goto fail;
		}
		if (v >= m->version) {
			pg_exec(db, "ROLLBACK", "server");
			continue;
		}
		t0 = skm__util_mono();
		if ((rc = pg_exec(db, m->sql, "server migration")) != SKM_OK)
			goto fail;
		skm__schema_checksum(m, sum);
		snprintf(ver, sizeof(ver), "%d", m->version);
		snprintf(ms, sizeof(ms), "%.3f", (skm__util_mono() - t0) * 1e3);
		params[0] = ver;
		params[1] = m->description;
		params[2] = sum;
		params[3] = ms;
		res = PQexecParams(db->pg->conn, "INSERT INTO schema_migrations "
		    "(version, description, checksum, migration_time_ms) "
		    "VALUES ($1, $2, $3, $4)", 4, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_resfail(db, res, "server migration");
			goto fail;
		}
		PQclear(res);
		if ((rc = pg_exec(db, "COMMIT", "server migration")) != SKM_OK)
			return rc;
	}
	return SKM_OK;
fail:
	PQclear(PQexec(db->pg->conn, "ROLLBACK"));
	return rc;
}

/*
 * pg_refuse_password - SKM_MISUSE when conninfo carries a password (or
 * does not parse): a password belongs where libpq looks for it, not on a
 * command line or in a variable that ends up in logs.
 */
static int
pg_refuse_password(struct skm_db *db, const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int bad = 0;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		/* libpq's message names the part that is wrong; a quoted
		 * password would be in it, so it is not repeated. */
		PQfreemem(err);
		return skm__store_fail(db, SKM_MISUSE, "malformed server connection "
		    "string (a libpq keyword=value string or a postgresql:// "
		    "URI)");
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    *o->val != '\0')
			bad = 1;
	PQconninfoFree(opts);
	if (bad)
		return skm__store_fail(db, SKM_MISUSE, "the server connection string "
		    "holds a password: skm refuses it (it would be seen in the "
		    "process list and in logs).  Put it in ~/.pgpass (or the "
		    "file PGPASSFILE names) or in a service of pg_service.conf "
		    "(PGSERVICE), or use a client certificate");
	return SKM_OK;
}

int
skm_server_open(const char *conninfo, int flags, struct skm_db **out)
{
	static const char *const keys[] = { "fallback_application_name",
	    "connect_timeout", "dbname", NULL };
	const char *vals[4] = { "skm", "10", NULL, NULL };
	struct skm_db *db;
	const char *state;
	PGresult *res;
	int rc, v;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return SKM_NOMEM;
	*out = db;
	if ((db->pg = calloc(1, sizeof(*db->pg))) == NULL ||
	    (db->path = strdup("server")) == NULL)
		return db->status = SKM_NOMEM;
	/* What the query, check and close of the layers below run for a
	 * server handle: passed in here, never called up into. */
	db->server_prepare = skm__pg_prepare;
	db->server_check = skm__pg_check;
	db->server_close = skm__pg_close;
	if (conninfo == NULL)
		conninfo = getenv("SKM_SERVER");
	if (conninfo == NULL || *conninfo == '\0')
		return db->status = skm__store_fail(db, SKM_MISUSE, "no server: give "
		    "a connection string or set SKM_SERVER");
	if ((rc = pg_refuse_password(db, conninfo)) != SKM_OK)
		return db->status = rc;
	/* Only the in-memory database that holds query results. */
	if (sqlite3_open_v2(":memory:", &db->conn, SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK)
		return db->status = skm__store_fail(db, SKM_NOMEM, "out of memory");
	vals[2] = conninfo;
	db->pg->conn = PQconnectdbParams(keys, vals, 1);
	if (db->pg->conn == NULL)
		return db->status = skm__store_fail(db, SKM_NOMEM, "out of memory");
	if (PQstatus(db->pg->conn) != CONNECTION_OK)
		return db->status = pg_fail(db, SKM_CANTOPEN, "server",
		    PQerrorMessage(db->pg->conn));
	/* Timestamps are read and written in UTC whatever the role's
	 * default, text in UTF-8.  One round trip in the usual case: the
	 * settings, the schema's version and the server's id.  Without the
	 * schema the SELECT fails (undefined table) and takes the SETs of
	 * its implicit transaction with it: they are made again alone. */
	res = PQexec(db->pg->conn, PG_SETTINGS "; SELECT (SELECT "
	    "max(version) FROM schema_migrations), (SELECT id FROM skm_server "
	    "LIMIT 1)");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		v = PQgetisnull(res, 0, 0) ? 0 :
		    atoi(PQgetvalue(res, 0, 0));
		if (!PQgetisnull(res, 0, 1))
			snprintf(db->pg->server_id, sizeof(db->pg->server_id),
			    "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
	} else {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || strcmp(state, "42P01") != 0)
			return db->status = pg_resfail(db, res, "server");
		PQclear(res);
		if ((rc = pg_exec(db, PG_SETTINGS, "server")) != SKM_OK)
			return db->status = rc;
		v = 0;
	}
	if (v > PG_LATEST)
		return db->status = skm__store_fail(db, SKM_NEWER, "the server's "
		    "schema (%d) is newer than this skm's (%d): upgrade skm",
		    v, PG_LATEST);
	if (v < PG_LATEST) {
		if (!(flags & SKM_SERVER_INIT))
			return db->status = skm__store_fail(db, SKM_NOTFOUND,
			    v == 0 ? "the server has no skm schema yet: run "
			    "`skm server init` or `skm sync`" : "the server's "
			    "schema is older than this skm's: run `skm server "
			    "init` or `skm sync`");
		if ((rc = pg_migrate(db)) != SKM_OK)
			return db->status = rc;
		res = PQexec(db->pg->conn, "SELECT id FROM skm_server LIMIT 1");
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return db->status = pg_resfail(db, res, "server");
		if (PQntuples(res) == 1)
			snprintf(db->pg->server_id, sizeof(db->pg->server_id),
			    "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	db->pg->version = PG_LATEST;
	if (db->pg->server_id[0] == '\0')
		return db->status = skm__store_fail(db, SKM_CORRUPT, "the server's "
		    "skm_server table is empty");
	return SKM_OK;
}

int
skm_server_schema(struct skm_db *srv, int *latest)
{
	int v;

	if (latest != NULL)
		*latest = PG_LATEST;
	if (srv == NULL || srv->pg == NULL || srv->status != SKM_OK ||
	    pg_version(srv, &v) != SKM_OK)
		return -1;
	return v;
}

const char *
skm__pg_server_id(const struct skm_db *srv)
{
	return srv != NULL && srv->pg != NULL ? srv->pg->server_id : "";
}

void
skm__pg_close(struct skm_db *db)
{
	if (db == NULL || db->pg == NULL)
		return;
	if (db->pg->conn != NULL)
		PQfinish(db->pg->conn);
	free(db->pg);
	db->pg = NULL;
}

/*
 * The queries.  $1 is the hosts filter (a JSON array, or NULL for all),
 * $2 skill, $3 session, $4 search text, $5 failed, $6 limit, and for the
 * timeline $7..$12 the bucket grid.  "@M" stands for the per-skill
 * metrics: the rollup table, or a recompute from the invocations of the
 * hosts when some are given; "@P" for p50, p95 and p99 of skill
 * m.skill_name: those the rollup stores while they are current (else
 * computed now), or those of the hosts' invocations.
 */
#define PG_HOSTS "($1::jsonb IS NULL OR host = ANY (skm_hosts($1::jsonb)))"
#define PG_RATE "(CASE WHEN m.total_invocations > 0 THEN 100.0::float8 * " \
	"m.completed_invocations / m.total_invocations ELSE 0.0 END)::float8"
#define PG_AVG "(CASE WHEN m.completed_invocations > 0 THEN " \
	"m.total_duration_seconds / m.completed_invocations ELSE 0.0 END)" \
	"::float8"
#define PG_PCT "x.p[1] AS p50_duration_seconds, " \
	"x.p[2] AS p95_duration_seconds, x.p[3] AS p99_duration_seconds"
#define PG_PCT_JOIN "LEFT JOIN LATERAL (SELECT @P AS p) x ON true"
#define PG_TOP(map) \
	"(SELECT coalesce(json_object_agg(k, n), '{}') FROM (" \
	"SELECT e.key AS k, sum(e.value::bigint)::bigint AS n FROM m, " \
	"jsonb_each_text(m." map ") e GROUP BY 1 " \
	"ORDER BY 2 DESC, e.key COLLATE \"C\" LIMIT 5) t)"
#define PG_MAP_COUNTS(map, col, rate) \
	"SELECT e.key AS " col ", sum(e.value::bigint)::bigint AS count, " \
	"100.0::float8 * sum(e.value::bigint)::float8 / (SELECT " \
	"sum(total_invocations)::float8 FROM @M m2 WHERE $2::text IS NULL " \
	"OR m2.skill_name = $2) AS " rate " " \
	"FROM @M m, jsonb_each_text(m." map ") e " \
	"WHERE $2::text IS NULL OR m.skill_name = $2 " \
	"GROUP BY 1 ORDER BY 2 DESC, e.key COLLATE \"C\" LIMIT $6::bigint"

#define PG_TIMELINE_HEAD \
	"WITH b AS (SELECT generate_series($7::bigint, $8::bigint, " \
	"$9::bigint) AS t), "
#define PG_TIMELINE_TAIL \
	"SELECT to_char(to_timestamp(b.t) AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS bucket, " \
	"coalesce(i.n, 0)::bigint AS invocations, " \
	"coalesce(i.c, 0)::bigint AS completed, " \
	"coalesce(i.a, 0.0)::float8 AS avg_duration_seconds " \
	"FROM b LEFT JOIN i ON i.t = b.t ORDER BY b.t"
/* FTS5's query words, phrases and NOT map onto websearch_to_tsquery:
 * AND is implicit there, NOT x is -x, and punctuation inside a word
 * splits it as FTS5's tokenizer does. */
#define PG_SEARCH_Q \
	"WITH q AS (SELECT websearch_to_tsquery('simple', " \
	"regexp_replace(regexp_replace(regexp_replace($4, " \
	"'\\mAND\\M', ' ', 'g'), '\\mNOT\\s+', '-', 'g'), " \
	"'([[:alnum:]])[^[:alnum:][:space:]\"]+(?=[[:alnum:]])', '\\1 ', " \
	"'g')) AS q) "

/* One skill's row, its percentiles from pct. */
#define PG_SHOW(pct) \
	"SELECT m.skill_name, m.total_invocations, m.completed_invocations, " \
	"m.abandoned_invocations, m.total_duration_seconds, " \
	"m.workflow_paths, m.common_errors, m.follow_up_actions, " \
	PG_TS("m.first_invoked") " AS first_invoked, " \
	PG_TS("m.last_invoked") " AS last_invoked, " \
	PG_RATE " AS completion_rate, " PG_AVG " AS avg_duration_seconds, " \
	"m.min_duration_seconds, m.max_duration_seconds, " PG_PCT " " \
	"FROM @M m LEFT JOIN LATERAL (SELECT " pct " AS p) x ON true " \
	"WHERE m.skill_name = $2"

static const struct pg_query {
	enum skm_query q;
	int object;		/* one row: a JSON object */
	const char *sql;
	const char *raw;	/* with hosts (a timeline: or minutes), if
				   it differs: from the invocations */
} pg_queries[] = {
	{ SKM_Q_STATS, 0,
	  "SELECT m.skill_name, m.total_invocations, m.completed_invocations, "
	  PG_RATE " AS completion_rate, " PG_AVG " AS avg_duration_seconds, "
	  PG_PCT ", " PG_TS("m.last_invoked") " AS last_invoked "
	  "FROM @M m " PG_PCT_JOIN " "
	  "ORDER BY m.total_invocations DESC, m.skill_name COLLATE \"C\"", NULL },
	{ SKM_Q_SHOW, 1, PG_SHOW("@P"), NULL },
	/* SHOW with p50/p95/p99 as last stored (NULL if never), current or
	 * not; narrowed to hosts nothing is stored: computed, as SHOW. */
	{ SKM_Q_SHOW_PERSISTED, 1, PG_SHOW("@S"), PG_SHOW("@P") },
	{ SKM_Q_SKILLS, 0,
	  "SELECT m.skill_name, m.total_invocations, "
	  PG_TS("m.last_invoked") " AS last_invoked FROM @M m "
	  "WHERE $4::text IS NULL OR left(m.skill_name, length($4)) = $4 "
	  "ORDER BY m.skill_name COLLATE \"C\" LIMIT $6::bigint", NULL },
	{ SKM_Q_SUMMARY, 1,
	  "WITH m AS MATERIALIZED (SELECT * FROM @M m) "
	  "SELECT count(*)::bigint AS total_skills, "
	  "coalesce(sum(total_invocations), 0)::bigint AS total_invocations, "
	  "(CASE WHEN sum(total_invocations) > 0 THEN 100.0::float8 * "
	  "sum(completed_invocations)::float8 / "
	  "sum(total_invocations)::float8 ELSE 0.0 END)::float8 "
	  "AS overall_completion_rate, "
	  "(SELECT skill_name FROM m ORDER BY total_invocations DESC, "
	  "skill_name COLLATE \"C\" LIMIT 1) AS most_used_skill, "
	  "coalesce((SELECT total_invocations FROM m ORDER BY "
	  "total_invocations DESC, skill_name COLLATE \"C\" LIMIT 1), 0)"
	  "::bigint AS most_used_count, "
	  "(CASE WHEN sum(completed_invocations) > 0 THEN "
	  "sum(total_duration_seconds) / sum(completed_invocations)::float8 "
	  "ELSE 0.0 END)::float8 AS avg_duration_seconds, "
	  PG_TOP("common_errors") " AS top_error_types, "
	  PG_TOP("workflow_paths") " AS top_workflow_paths FROM m", NULL },
	{ SKM_Q_RECENT, 0,
	  "SELECT id, skill_name, " PG_TS("invoked_at") " AS invoked_at, "
	  PG_TS("ended_at") " AS ended_at, CASE WHEN completed THEN "
	  "'completed' ELSE 'failed' END AS status, duration_seconds, "
	  "error_type, exit_code, workflow_path, command "
	  "FROM skill_invocation i WHERE ($2::text IS NULL OR skill_name = $2) "
	  "AND ($5::int = 0 OR NOT completed) AND " PG_HOSTS " "
	  /* i.invoked_at: the column (its index), not the text above */
	  "ORDER BY i.invoked_at DESC, i.id COLLATE \"C\" DESC "
	  "LIMIT $6::bigint", NULL },
	{ SKM_Q_SESSION, 0,
	  "SELECT skill_name, count(*) AS invocation_count, "
	  PG_TS("min(invoked_at)") " AS first_invoked, "
	  PG_TS("max(invoked_at)") " AS last_invoked, "
	  "coalesce(sum(duration_seconds) FILTER (WHERE completed), 0)"
	  "::float8 AS total_duration_seconds FROM skill_invocation "
	  "WHERE session_id = $3 AND " PG_HOSTS " GROUP BY skill_name "
	  "ORDER BY 2 DESC, skill_name COLLATE \"C\"", NULL },
	{ SKM_Q_SHOW_COUNTS, 0,
	  "SELECT map, key, count FROM ("
	  "SELECT 'workflow_paths' AS map, e.key AS key, "
	  "e.value::bigint AS count FROM @M m, "
	  "jsonb_each_text(m.workflow_paths) e WHERE m.skill_name = $2 "
	  "UNION ALL SELECT 'common_errors', e.key, e.value::bigint "
	  "FROM @M m, jsonb_each_text(m.common_errors) e "
	  "WHERE m.skill_name = $2 UNION ALL "
	  "SELECT 'follow_up_actions', e.key, e.value::bigint "
	  "FROM @M m, jsonb_each_text(m.follow_up_actions) e "
	  "WHERE m.skill_name = $2) t "
	  "ORDER BY map COLLATE \"C\", count DESC, key COLLATE \"C\"", NULL },
	{ SKM_Q_TIMELINE, 0,
	  PG_TIMELINE_HEAD
	  "i AS (SELECT (hour - $10::bigint) / $9::bigint * $9::bigint "
	  "+ $10::bigint AS t, sum(invocation_count) AS n, "
	  "sum(completed_count) AS c, CASE WHEN sum(completed_count) > 0 "
	  "THEN sum(total_duration_seconds) / sum(completed_count) END AS a "
	  "FROM skill_timeline WHERE skill_name = $2 "
	  "AND hour >= $7::bigint AND hour < $8::bigint + $9::bigint "
	  "GROUP BY 1) " PG_TIMELINE_TAIL,
	  PG_TIMELINE_HEAD
	  "i AS (SELECT floor((extract(epoch FROM invoked_at) - $10::bigint) "
	  "/ $9::bigint)::bigint * $9::bigint + $10::bigint AS t, "
	  "count(*) AS n, count(*) FILTER (WHERE completed) AS c, "
	  "avg(duration_seconds) FILTER (WHERE completed) AS a "
	  "FROM skill_invocation WHERE skill_name = $2 "
	  "AND invoked_at >= $11::timestamptz "
	  "AND invoked_at < $12::timestamptz AND " PG_HOSTS " GROUP BY 1) "
	  PG_TIMELINE_TAIL },
	/* The matched pairs' counts; with hosts, the hosts' invocations of
	 * the matched pairs only. */
	{ SKM_Q_SEARCH, 0,
	  PG_SEARCH_Q
	  "SELECT w.skill_name, w.workflow_path, w.invocation_count, "
	  "(CASE WHEN w.completed_count > 0 THEN w.total_duration_seconds / "
	  "w.completed_count ELSE 0.0 END)::float8 AS avg_duration_seconds "
	  "FROM skill_workflow w, q WHERE w.tsv @@ q.q "
	  "AND w.invocation_count > 0 "
	  "ORDER BY ts_rank(w.tsv, q.q) DESC, w.invocation_count DESC, "
	  "w.skill_name COLLATE \"C\", w.workflow_path COLLATE \"C\" "
	  "LIMIT $6::bigint",
	  PG_SEARCH_Q
	  ", m AS MATERIALIZED (SELECT w.skill_name AS s, w.workflow_path AS p, "
	  "ts_rank(w.tsv, q.q) AS score FROM skill_workflow w, q "
	  "WHERE w.tsv @@ q.q), "
	  "g AS (SELECT i.skill_name AS s, i.workflow_path AS p, "
	  "count(*) AS n, avg(i.duration_seconds) FILTER (WHERE i.completed) "
	  "AS a, min(m.score) AS score FROM m JOIN skill_invocation i "
	  "ON i.skill_name = m.s AND i.workflow_path IS NOT DISTINCT FROM m.p "
	  "WHERE " PG_HOSTS " GROUP BY 1, 2) "
	  "SELECT g.s AS skill_name, g.p AS workflow_path, "
	  "g.n AS invocation_count, coalesce(g.a, 0.0)::float8 "
	  "AS avg_duration_seconds FROM g "
	  "ORDER BY g.score DESC, g.n DESC, g.s COLLATE \"C\", "
	  "g.p COLLATE \"C\" LIMIT $6::bigint" },
	{ SKM_Q_ERRORS, 0,
	  PG_MAP_COUNTS("common_errors", "error_type", "error_rate"), NULL },
	{ SKM_Q_WORKFLOWS, 0,
	  PG_MAP_COUNTS("workflow_paths", "workflow_path", "share_rate"), NULL },
};

/* The default limits of query.c: recent 20, search 100, else all. */
static long
pg_deflimit(enum skm_query q)
{
	return q == SKM_Q_RECENT ? 20 : q == SKM_Q_SEARCH ? 100 : -1;
}

/* The timeline's bucket grid (hostq.c), as params 7..12. */
static int
pg_grid(struct skm_db *db, const struct skm_query_args *a,
    char p[6][32])
{
	long long g[4];
	char lo[TP_ISO_LEN], hi[TP_ISO_LEN];
	int rc, i;

	if ((rc = skm__timeline_grid(db, a, g, lo, hi)) != SKM_OK)
		return rc;
	for (i = 0; i < 4; i++)
		snprintf(p[i], 32, "%lld", g[i]);
	snprintf(p[4], 32, "%s", lo);
	snprintf(p[5], 32, "%s", hi);
	return SKM_OK;
}

/* sql with every "@M" replaced by m, "@P" by pct and "@S" by the stored
 * percentiles (constants of this file). */
static char *
pg_subst(const char *sql, const char *m, const char *pct)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	const char *p;

	while ((p = strchr(sql, '@')) != NULL) {
		sqlite3_str_append(s, sql, (int)(p - sql));
		if (p[1] == 'M' || p[1] == 'P') {
			sqlite3_str_appendall(s, p[1] == 'M' ? m : pct);
			sql = p + 2;
		} else if (p[1] == 'S') {
			sqlite3_str_appendall(s, "m.pct");
			sql = p + 2;
		} else {
			sqlite3_str_appendchar(s, 1, '@');	/* @@ */
			sql = p + 1;
		}
	}
	sqlite3_str_appendall(s, sql);
	return sqlite3_str_finish(s);
}

/*
 * pg_run - run a query's SQL with its twelve parameters (all passed as
 * text; the SQL casts them).  On success *res is the tuples.
 */
static int
pg_run(struct skm_db *db, const char *sql, const char *const p[12],
    PGresult **res)
{
	static const Oid types[12] = { 25, 25, 25, 25, 25, 25, 25, 25, 25,
	    25, 25, 25 };

	*res = PQexecParams(db->pg->conn, sql, 12, types, p, NULL, NULL, 0);
	if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
		int rc = pg_resfail(db, *res, "server query");
		*res = NULL;
		return rc;
	}
	return SKM_OK;
}

/*
 * pg_table - copy res into a new table of the handle's in-memory
 * database, one column per result column with the value's type (integers,
 * reals, text, NULL), and prepare the statement that reads it back: its
 * rows in order, or (json) the JSON document query.c would make.
 */
static int
pg_table(struct skm_db *db, PGresult *res, int object, int json,
    sqlite3_stmt **out)
{
	int nf = PQnfields(res), nr = PQntuples(res), r, i, src;
	sqlite3_stmt *ins = NULL;
	sqlite3_str *s;
	char *sql, tab[32];
	Oid t;

	snprintf(tab, sizeof(tab), "r%d", ++db->pg->ntab);
	s = sqlite3_str_new(db->conn);
	sqlite3_str_appendf(s, "CREATE TABLE %s (", tab);
	for (i = 0; i < nf; i++)
		sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "",
		    PQfname(res, i));
	sqlite3_str_appendf(s, "); INSERT INTO %s VALUES (", tab);
	for (i = 0; i < nf; i++)
		sqlite3_str_appendall(s, i ? ", ?" : "?");
	sqlite3_str_appendall(s, ")");
	if ((sql = sqlite3_str_finish(s)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	{
		const char *tail = NULL;
		src = sqlite3_exec(db->conn, "BEGIN", NULL, NULL, NULL);
		if (src == SQLITE_OK)
			src = sqlite3_prepare_v2(db->conn, sql, -1, &ins,
			    &tail);
		/* the CREATE */
		if (src == SQLITE_OK && (src = sqlite3_step(ins)) ==
		    SQLITE_DONE) {
			sqlite3_finalize(ins);
			ins = NULL;
			src = sqlite3_prepare_v2(db->conn, tail, -1, &ins,
			    NULL);
		}
	}
	sqlite3_free(sql);
	if (src != SQLITE_OK)
		goto fail;
	for (r = 0; r < nr; r++) {
		for (i = 0; i < nf; i++) {
			const char *v = PQgetvalue(res, r, i);
			if (PQgetisnull(res, r, i))
				continue;
			switch ((t = PQftype(res, i))) {
			case 20: case 21: case 23:	/* int8, int2, int4 */
				sqlite3_bind_int64(ins, i + 1,
				    strtoll(v, NULL, 10));
				break;
			case 16:			/* bool */
				sqlite3_bind_int(ins, i + 1, *v == 't');
				break;
			case 700: case 701: case 1700:	/* float, numeric */
				sqlite3_bind_double(ins, i + 1,
				    strtod(v, NULL));
				break;
			default:
				sqlite3_bind_text(ins, i + 1, v, -1,
				    SQLITE_STATIC);
			}
		}
		if ((src = sqlite3_step(ins)) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
	}
	sqlite3_finalize(ins);
	ins = NULL;
	if ((src = sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		goto fail;

	/* Its rows in order; for JSON, wrapped as query.c wraps a query. */
	if ((sql = sqlite3_mprintf("SELECT * FROM %s ORDER BY rowid", tab)) ==
	    NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	src = sqlite3_prepare_v2(db->conn, sql, -1, out, NULL);
	if (src == SQLITE_OK && json) {
		char *wrapped = skm__json_sql(*out, sql, object);
		sqlite3_finalize(*out);
		*out = NULL;
		src = wrapped == NULL ? SQLITE_NOMEM :
		    sqlite3_prepare_v2(db->conn, wrapped, -1, out, NULL);
		sqlite3_free(wrapped);
	}
	sqlite3_free(sql);
	return src == SQLITE_OK ? SKM_OK : skm__store_sqlfail(db, src, "result");
fail:
	sqlite3_finalize(ins);
	skm__store_sqlfail(db, src, "result");
	sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
	return SKM_ERROR;
}

/* SKM_NOTFOUND unless the server has invocations of skill. */
static int
pg_skill_exists(struct skm_db *db, const char *skill)
{
	long long n;
	int rc;

	if ((rc = pg_int(db, "SELECT 1 FROM skill_metrics "
	    "WHERE skill_name = $1", skill, &n)) != SKM_OK)
		return rc;
	return n == 1 ? SKM_OK : skm__store_fail(db, SKM_NOTFOUND,
	    "no such skill: %s", skill);
}

int
skm__pg_prepare(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, int json, sqlite3_stmt **out)
{
	static const struct skm_query_args none;
	const struct pg_query *def = NULL;
	const char *p[12] = { NULL };
	char grid[6][32], failed[4], limit[32], *hosts = NULL, *sql = NULL;
	PGresult *res = NULL;
	size_t i;
	long lim;
	int rc, raw;

	*out = NULL;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (args == NULL)
		args = &none;
	for (i = 0; i < sizeof(pg_queries) / sizeof(pg_queries[0]); i++)
		if (pg_queries[i].q == q)
			def = &pg_queries[i];
	if (def == NULL)
		return skm__store_fail(db, SKM_MISUSE, "unknown query %d", (int)q);
	if ((q == SKM_Q_SHOW || q == SKM_Q_SHOW_PERSISTED ||
	    q == SKM_Q_SHOW_COUNTS || q == SKM_Q_TIMELINE) &&
	    args->skill == NULL)
		return skm__store_fail(db, SKM_MISUSE, "no skill given");
	if (q == SKM_Q_SESSION && args->session == NULL)
		return skm__store_fail(db, SKM_MISUSE, "no session given");
	if (q == SKM_Q_SEARCH && (args->text == NULL ||
	    args->text[strspn(args->text, " \t\n")] == '\0'))
		return skm__store_fail(db, SKM_MISUSE, "empty search query");
	if (args->limit < 0)
		return skm__store_fail(db, SKM_MISUSE, "bad limit %ld", args->limit);
	if ((q == SKM_Q_TIMELINE || (q == SKM_Q_ERRORS &&
	    args->skill != NULL)) &&
	    (rc = pg_skill_exists(db, args->skill)) != SKM_OK)
		return rc;
	if (q == SKM_Q_TIMELINE && (rc = pg_grid(db, args, grid)) != SKM_OK)
		return rc;
	if ((rc = skm__hosts_json(db, args, &hosts)) != SKM_OK)
		return rc;
	p[0] = hosts;
	p[1] = args->skill;
	p[2] = args->session;
	p[3] = args->text;
	snprintf(failed, sizeof(failed), "%d", args->failed ? 1 : 0);
	p[4] = failed;
	lim = args->limit > 0 ? args->limit : pg_deflimit(q);
	snprintf(limit, sizeof(limit), "%ld", lim);
	p[5] = lim > 0 ? limit : NULL;
	if (q == SKM_Q_TIMELINE)
		for (i = 0; i < 6; i++)
			p[6 + i] = grid[i];
	/* The rollups serve every skill of every host; narrowed to hosts,
	 * the metrics are recomputed from those hosts' invocations (of the
	 * one skill asked, when there is one), and so are a search's pairs
	 * and a timeline (of minutes, too: the rollup is by the hour). */
	raw = def->raw != NULL && (hosts != NULL || (q == SKM_Q_TIMELINE &&
	    args->bucket != NULL && strcmp(args->bucket, "minute") == 0));
	sql = pg_subst(raw ? def->raw : def->sql, hosts == NULL ?
	    "skill_metrics" : "skm_recompute($1::jsonb, $2::text)",
	    hosts == NULL ? "CASE WHEN m.pct_count = m.duration_count THEN "
	    "m.pct ELSE " PG_PCT_OF("m.skill_name", "") " END" :
	    PG_PCT_OF("m.skill_name", " AND d.host = ANY "
	    "(skm_hosts($1::jsonb))"));
	if (sql == NULL) {
		rc = skm__store_fail(db, SKM_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = pg_run(db, sql, p, &res)) != SKM_OK)
		goto out;
	rc = pg_table(db, res, def->object, json, out);
out:
	PQclear(res);
	sqlite3_free(sql);
	sqlite3_free(hosts);
	return rc;
}

/*
 * skm__pg_check - the server's rollups against a recompute from its
 * invocations (the same comparisons as skm_check on a store), the search
 * pairs against the invocations, and the migrations' checksums.
 */
int
skm__pg_check(struct skm_db *db, void (*cb)(void *, const char *),
    void *arg)
{
	static const char cmp[] =
	    "SELECT coalesce(m.skill_name, r.skill_name), "
	    "m.skill_name IS NULL, r.skill_name IS NULL, "
	    "m.total_invocations IS DISTINCT FROM r.total_invocations, "
	    "m.completed_invocations IS DISTINCT FROM r.completed_invocations, "
	    "m.abandoned_invocations IS DISTINCT FROM r.abandoned_invocations, "
	    "abs(m.total_duration_seconds - r.total_duration_seconds) > "
	    "  1e-6 * (1 + abs(r.total_duration_seconds)), "
	    "m.min_duration_seconds IS DISTINCT FROM r.min_duration_seconds, "
	    "m.max_duration_seconds IS DISTINCT FROM r.max_duration_seconds, "
	    "m.workflow_paths IS DISTINCT FROM r.workflow_paths, "
	    "m.common_errors IS DISTINCT FROM r.common_errors, "
	    "m.follow_up_actions IS DISTINCT FROM r.follow_up_actions, "
	    "m.first_invoked IS DISTINCT FROM r.first_invoked, "
	    "m.last_invoked IS DISTINCT FROM r.last_invoked, "
	    "m.duration_count IS DISTINCT FROM r.duration_count "
	    "FROM skill_metrics m FULL JOIN skm_recompute(NULL, NULL) r "
	    "ON m.skill_name = r.skill_name";
	static const char pct[] =
	    "SELECT skill_name FROM skill_metrics m WHERE pct_count = "
	    "duration_count AND pct IS DISTINCT FROM "
	    PG_PCT_OF("m.skill_name", "");
#define PG_DIFFERS(tab, fn, key) \
	"SELECT count(*) FROM " tab " w FULL JOIN " fn " r " \
	"ON r.skill_name = w.skill_name AND r." key " IS NOT DISTINCT FROM " \
	"w." key " WHERE r.skill_name IS NULL AND w.invocation_count > 0 " \
	"OR w.skill_name IS NULL " \
	"OR r.invocation_count <> w.invocation_count " \
	"OR r.completed_count <> w.completed_count " \
	"OR abs(r.total_duration_seconds - w.total_duration_seconds) > " \
	"1e-6 * (1 + abs(r.total_duration_seconds))"
	static const char pairs[] = PG_DIFFERS("skill_workflow",
	    "skm_recompute_pairs()", "workflow_path");
	static const char hours[] = PG_DIFFERS("skill_timeline",
	    "skm_recompute_hours()", "hour");
	static const char *const what[] = {
		"total_invocations", "completed_invocations",
		"abandoned_invocations", "total_duration_seconds",
		"min_duration_seconds", "max_duration_seconds",
		"workflow_paths", "common_errors", "follow_up_actions",
		"first_invoked", "last_invoked", "duration_count",
	};
	char msg[1024], sum[17];
	const char *name;
	PGresult *res;
	int r, i, bad = 0, rc, nt;
	long long n;

	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	res = PQexec(db->pg->conn, cmp);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_resfail(db, res, "server check");
	nt = PQntuples(res);
	for (r = 0; r < nt; r++) {
		name = PQgetvalue(res, r, 0);
		if (*PQgetvalue(res, r, 1) == 't') {
			snprintf(msg, sizeof(msg), "server: skill '%s': has "
			    "invocations but no skill_metrics row", name);
			bad = 1;
			if (cb != NULL)
				cb(arg, msg);
			continue;
		}
		if (*PQgetvalue(res, r, 2) == 't') {
			snprintf(msg, sizeof(msg), "server: skill '%s': "
			    "skill_metrics row without any invocation", name);
			bad = 1;
			if (cb != NULL)
				cb(arg, msg);
			continue;
		}
		for (i = 0; i < (int)(sizeof(what) / sizeof(what[0])); i++) {
			if (*PQgetvalue(res, r, 3 + i) != 't')
				continue;
			snprintf(msg, sizeof(msg), "server: skill '%s': %s "
			    "differs from a recompute", name, what[i]);
			bad = 1;
			if (cb != NULL)
				cb(arg, msg);
		}
	}
	PQclear(res);
	res = PQexec(db->pg->conn, pct);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_resfail(db, res, "server check");
	for (r = 0; r < PQntuples(res); r++) {
		snprintf(msg, sizeof(msg), "server: skill '%s': stored "
		    "percentiles differ from a recompute", PQgetvalue(res, r, 0));
		bad = 1;
		if (cb != NULL)
			cb(arg, msg);
	}
	PQclear(res);
	if ((rc = pg_int(db, pairs, NULL, &n)) != SKM_OK)
		return rc;
	if (n > 0) {
		snprintf(msg, sizeof(msg), "server: %lld (skill, workflow "
		    "path) pairs differ from a recompute", n);
		bad = 1;
		if (cb != NULL)
			cb(arg, msg);
	}
	if ((rc = pg_int(db, hours, NULL, &n)) != SKM_OK)
		return rc;
	if (n > 0) {
		snprintf(msg, sizeof(msg), "server: %lld hourly rows "
		    "(skill_timeline) differ from a recompute", n);
		bad = 1;
		if (cb != NULL)
			cb(arg, msg);
	}
	res = PQexec(db->pg->conn, "SELECT version, checksum "
	    "FROM schema_migrations ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_resfail(db, res, "server check");
	for (r = 0; r < PQntuples(res); r++) {
		int v = atoi(PQgetvalue(res, r, 0));
		if (v < 1 || v > PG_NMIGRATIONS)
			continue;
		skm__schema_checksum(&pg_migrations[v - 1], sum);
		if (strcmp(sum, PQgetvalue(res, r, 1)) != 0) {
			snprintf(msg, sizeof(msg), "server: migration %d: "
			    "checksum differs from this skm's", v);
			bad = 1;
			if (cb != NULL)
				cb(arg, msg);
		}
	}
	PQclear(res);
	return bad ? skm__store_fail(db, SKM_CHECK, "check found problems") :
	    SKM_OK;
}

/*
 * A batch is copied (COPY, the rows in its text format) into a temporary
 * table of the connection that empties at each commit, made once per
 * connection with the statement below, which is prepared once too: the
 * staged invocations are inserted, an id the server has is skipped, and
 * what was inserted -- only that, RETURNING says which -- is added to the
 * per-skill rollups and the search pairs, all in the batch's transaction.
 */
static const char pg_stage_sql[] =
    "CREATE TEMPORARY TABLE skm_batch (id text, skill_name text, "
    "invoked_at timestamptz, ended_at timestamptz, workflow_path text, "
    "session_id text, project_path text, parent_id text, "
    "completed integer, duration_seconds float8, error_type text, "
    "exit_code integer, signal integer, follow_up_actions jsonb, "
    "command text, host text, pid bigint, user_cpu_seconds float8, "
    "sys_cpu_seconds float8, max_rss_kb bigint, source text) "
    "ON COMMIT DELETE ROWS";
/* A count map of the skills the batch adds to (its counts, batch: rows
 * of s, k, n), merged with the map the rollup holds: set-wise, in one
 * pass for all the skills (no function called per skill and map).  The
 * rollup rows read here are those the statement then updates: batches
 * take turns (skm__pg_push's lock), so nothing changes them in between. */
#define PG_MERGE_MAP(name, map, batch) \
	name " AS (SELECT s, jsonb_object_agg(k, n) AS m FROM (" \
	"SELECT s, k, sum(n) AS n FROM (" batch " UNION ALL " \
	"SELECT o.skill_name, e.key, e.value::bigint FROM skill_metrics o, " \
	"jsonb_each_text(o." map ") e WHERE o.skill_name IN " \
	"(SELECT s FROM (" batch ") b)) u GROUP BY 1, 2) x GROUP BY 1)"
/* The batch's counts per skill and key, and their addition to a rollup
 * row. */
#define PG_COUNTS(key) \
	"SELECT skill_name, " key ", count(*), " \
	"count(*) FILTER (WHERE completed), " \
	"coalesce(sum(duration_seconds) FILTER (WHERE completed), 0) " \
	"FROM ins GROUP BY 1, 2"
#define PG_COUNTS_ADD \
	"invocation_count = t.invocation_count + excluded.invocation_count, " \
	"completed_count = t.completed_count + excluded.completed_count, " \
	"total_duration_seconds = t.total_duration_seconds + " \
	"excluded.total_duration_seconds"
static const char pg_push_sql[] =
    "WITH ins AS (INSERT INTO skill_invocation (id, skill_name, invoked_at, "
    "ended_at, workflow_path, session_id, project_path, parent_id, "
    "completed, duration_seconds, error_type, exit_code, signal, "
    "follow_up_actions, command, host, pid, user_cpu_seconds, "
    "sys_cpu_seconds, max_rss_kb, source) "
    "SELECT id, skill_name, invoked_at, ended_at, workflow_path, "
    "session_id, project_path, parent_id, completed <> 0, "
    "duration_seconds, error_type, exit_code, signal, "
    "coalesce(follow_up_actions, '[]'), command, host, pid, "
    "user_cpu_seconds, sys_cpu_seconds, max_rss_kb, "
    "coalesce(source, 'import') FROM skm_batch ORDER BY id COLLATE \"C\" "
    "ON CONFLICT (id) DO NOTHING "
    "RETURNING skill_name, completed, duration_seconds, workflow_path, "
    "error_type, follow_up_actions, invoked_at), "
    "agg AS (SELECT skill_name, count(*) AS n, "
    "count(*) FILTER (WHERE completed) AS c, "
    "count(*) FILTER (WHERE NOT completed) AS a, "
    "coalesce(sum(duration_seconds) FILTER (WHERE completed), 0) AS d, "
    "min(duration_seconds) FILTER (WHERE completed) AS mn, "
    "max(duration_seconds) FILTER (WHERE completed) AS mx, "
    "count(duration_seconds) FILTER (WHERE completed) AS nd, "
    "min(invoked_at) AS fi, max(invoked_at) AS la FROM ins GROUP BY 1), "
    PG_MERGE_MAP("wp", "workflow_paths", "SELECT skill_name AS s, "
    "workflow_path AS k, count(*) AS n FROM ins "
    "WHERE workflow_path IS NOT NULL GROUP BY 1, 2") ", "
    PG_MERGE_MAP("er", "common_errors", "SELECT skill_name AS s, "
    "error_type AS k, count(*) AS n FROM ins "
    "WHERE error_type IS NOT NULL GROUP BY 1, 2") ", "
    PG_MERGE_MAP("fu", "follow_up_actions", "SELECT skill_name AS s, "
    "a AS k, count(*) AS n FROM ins, "
    "jsonb_array_elements_text(ins.follow_up_actions) a GROUP BY 1, 2") ", "
    "pairs AS (INSERT INTO skill_workflow AS t (skill_name, "
    "workflow_path, invocation_count, completed_count, "
    "total_duration_seconds) " PG_COUNTS("workflow_path") " "
    "ON CONFLICT (skill_name, workflow_path) DO UPDATE SET "
    PG_COUNTS_ADD "), "
    "hours AS (INSERT INTO skill_timeline AS t (skill_name, hour, "
    "invocation_count, completed_count, total_duration_seconds) "
    PG_COUNTS(PG_HOUR("invoked_at")) " "
    "ON CONFLICT (skill_name, hour) DO UPDATE SET " PG_COUNTS_ADD "), "
    "up AS (INSERT INTO skill_metrics AS t (skill_name, total_invocations, "
    "completed_invocations, abandoned_invocations, "
    "total_duration_seconds, min_duration_seconds, max_duration_seconds, "
    "duration_count, workflow_paths, common_errors, follow_up_actions, "
    "first_invoked, last_invoked, last_aggregated_at) "
    "SELECT agg.skill_name, n, c, a, d, mn, mx, nd, "
    "coalesce(wp.m, '{}'), coalesce(er.m, '{}'), coalesce(fu.m, '{}'), "
    "fi, la, now() FROM agg LEFT JOIN wp ON wp.s = agg.skill_name "
    "LEFT JOIN er ON er.s = agg.skill_name "
    "LEFT JOIN fu ON fu.s = agg.skill_name "
    "ON CONFLICT (skill_name) DO UPDATE SET "
    "total_invocations = t.total_invocations + excluded.total_invocations, "
    "completed_invocations = t.completed_invocations + "
    "  excluded.completed_invocations, "
    "abandoned_invocations = t.abandoned_invocations + "
    "  excluded.abandoned_invocations, "
    "total_duration_seconds = t.total_duration_seconds + "
    "  excluded.total_duration_seconds, "
    "min_duration_seconds = least(t.min_duration_seconds, "
    "  excluded.min_duration_seconds), "
    "max_duration_seconds = greatest(t.max_duration_seconds, "
    "  excluded.max_duration_seconds), "
    "duration_count = t.duration_count + excluded.duration_count, "
    "workflow_paths = CASE WHEN excluded.workflow_paths = '{}' "
    "  THEN t.workflow_paths ELSE excluded.workflow_paths END, "
    "common_errors = CASE WHEN excluded.common_errors = '{}' "
    "  THEN t.common_errors ELSE excluded.common_errors END, "
    "follow_up_actions = CASE WHEN excluded.follow_up_actions = '{}' "
    "  THEN t.follow_up_actions ELSE excluded.follow_up_actions END, "
    "first_invoked = least(t.first_invoked, excluded.first_invoked), "
    "last_invoked = greatest(t.last_invoked, excluded.last_invoked), "
    "last_aggregated_at = excluded.last_aggregated_at) "
    "SELECT count(*) FROM ins";

/* The staging table and the prepared batch statement, once per
 * connection. */
static int
pg_push_ready(struct skm_db *srv)
{
	PGresult *res;
	int rc;

	if (srv->pg->push_ready)
		return SKM_OK;
	if ((rc = pg_exec(srv, pg_stage_sql, "server")) != SKM_OK)
		return rc;
	res = PQprepare(srv->pg->conn, "skm_push", pg_push_sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_resfail(srv, res, "server");
	PQclear(res);
	srv->pg->push_ready = 1;
	return SKM_OK;
}

/* COPY len bytes of rows into the staging table. */
static int
pg_copy(struct skm_db *srv, const char *rows, size_t len)
{
	PGresult *res;
	size_t off, n;
	int rc = SKM_OK;

	res = PQexec(srv->pg->conn, "COPY skm_batch (" SKM__SYNC_COLS ") "
	    "FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pg_resfail(srv, res, "server");
	PQclear(res);
	/* In pieces of at most 1 MiB: PQputCopyData takes an int. */
	for (off = 0; off < len; off += n) {
		n = len - off < (1 << 20) ? len - off : (1 << 20);
		if (PQputCopyData(srv->pg->conn, rows + off, (int)n) != 1)
			break;
	}
	if (PQputCopyEnd(srv->pg->conn, off < len ? "sync aborted" : NULL) !=
	    1)
		rc = pg_fail(srv, SKM_IOERR, "server",
		    PQerrorMessage(srv->pg->conn));
	/* The COPY's outcome, then nothing more. */
	while ((res = PQgetResult(srv->pg->conn)) != NULL) {
		if (rc == SKM_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_resfail(srv, res, "server");
			continue;
		}
		PQclear(res);
	}
	if (rc == SKM_OK && off < len)
		rc = pg_fail(srv, SKM_IOERR, "server",
		    PQerrorMessage(srv->pg->conn));
	return rc;
}

/*
 * skm__pg_push - one batch, one server transaction.  Batches of all the
 * machines of a fleet take turns (a transaction-level advisory lock):
 * their rollup updates touch the same skills' rows, and taking turns
 * means they can never deadlock on them.  SKM_OK only once the server
 * has committed.
 */
int
skm__pg_push(struct skm_db *srv, const char *rows, size_t len,
    long long *inserted)
{
	PGresult *res;
	int rc;

	*inserted = 0;
	if ((rc = skm__store_usable(srv)) != SKM_OK)
		return rc;
	if (srv->pg == NULL)
		return skm__store_fail(srv, SKM_MISUSE, "not a server handle");
	if ((rc = pg_push_ready(srv)) != SKM_OK)
		return rc;
	if ((rc = pg_exec(srv, "BEGIN; SELECT pg_advisory_xact_lock("
	    "hashtext('skm sync'))", "server")) != SKM_OK)
		goto fail;
	if ((rc = pg_copy(srv, rows, len)) != SKM_OK)
		goto fail;
	res = PQexecPrepared(srv->pg->conn, "skm_push", 0, NULL, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_resfail(srv, res, "server");
		goto fail;
	}
	*inserted = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	res = PQexec(srv->pg->conn, "COMMIT");
	/* A COMMIT that fails has rolled back (or its outcome is unknown
	 * after a dropped connection: then the rerun finds the rows there
	 * and skips them). */
	if (PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			*inserted = 0;
			return skm__store_fail(srv, SKM_ERROR, "server: the "
			    "transaction was rolled back");
		}
		*inserted = 0;
		return pg_resfail(srv, res, "server commit");
	}
	PQclear(res);
	return SKM_OK;
fail:
	*inserted = 0;
	if (PQstatus(srv->pg->conn) == CONNECTION_OK)
		PQclear(PQexec(srv->pg->conn, "ROLLBACK"));
	return rc;
}

/*
 * skm__pg_refresh - after a sync: store the percentiles of the skills
 * whose durations changed, so that stats and show read them instead of
 * sorting each skill's durations.  Under the batches' lock: a batch
 * committing in between would make the stored count disagree with the
 * values.
 */
int
skm__pg_refresh(struct skm_db *srv)
{
	int rc;

	if ((rc = pg_exec(srv, "BEGIN; SELECT pg_advisory_xact_lock("
	    "hashtext('skm sync')); SELECT skm_refresh_pct(NULL); COMMIT",
	    "server")) != SKM_OK && PQstatus(srv->pg->conn) == CONNECTION_OK)
		PQclear(PQexec(srv->pg->conn, "ROLLBACK"));
	return rc;
}

#else /* !SKM_HAVE_PG */

#define NO_PG "this build of skm has no PostgreSQL support (libpq was " \
	"not found when it was built: install libpq-dev and rebuild)"

int
skm_server_support(void)
{
	return 0;
}

int
skm_server_open(const char *conninfo, int flags, struct skm_db **out)
{
	struct skm_db *db;

	(void)conninfo;
	(void)flags;
	if (out == NULL)
		return SKM_MISUSE;
	if ((*out = db = calloc(1, sizeof(*db))) == NULL)
		return SKM_NOMEM;
	return db->status = skm__store_fail(db, SKM_ERROR, "%s", NO_PG);
}

int
skm_server_schema(struct skm_db *srv, int *latest)
{
	(void)srv;
	if (latest != NULL)
		*latest = 0;
	return -1;
}

const char *
skm__pg_server_id(const struct skm_db *srv)
{
	(void)srv;
	return "";
}

void
skm__pg_close(struct skm_db *db)
{
	(void)db;
}

int
skm__pg_prepare(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *args, int json, sqlite3_stmt **out)
{
	(void)q;
	(void)args;
	(void)json;
	*out = NULL;
	return skm__store_fail(db, SKM_ERROR, "%s", NO_PG);
}

int
skm__pg_check(struct skm_db *db, void (*cb)(void *, const char *),
    void *arg)
{
	(void)cb;
	(void)arg;
	return skm__store_fail(db, SKM_ERROR, "%s", NO_PG);
}

int
skm__pg_refresh(struct skm_db *srv)
{
	return skm__store_fail(srv, SKM_ERROR, "%s", NO_PG);
}

int
skm__pg_push(struct skm_db *srv, const char *rows, size_t len,
    long long *inserted)
{
	(void)rows;
	(void)len;
	*inserted = 0;
	return skm__store_fail(srv, SKM_ERROR, "%s", NO_PG);
}

#endif /* SKM_HAVE_PG */
