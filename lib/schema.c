/*
 * schema.c - the store's schema as an ordered list of migrations.
 *
 * Each migration runs in one BEGIN IMMEDIATE transaction together with its
 * row in schema_migrations and the new PRAGMA user_version, so a store is
 * always at exactly one version.  Migrations are append-only: a released
 * one is never edited, a change is a new migration.  Each one's checksum
 * (FNV-1a of its SQL) is recorded in schema_migrations; `skm check` of a
 * PostgreSQL server compares the server's with this skm's (pg.c), a
 * store's are not compared.  Table and column names are those of
 * the reference design so its users' SQL keeps working.
 */
#include <stdio.h>
#include <string.h>

#include "skm-int.h"
#include "schema.h"

static const char m1_sql[] =
"CREATE TABLE schema_migrations (\n"
"  version INTEGER PRIMARY KEY,\n"
"  applied_at TEXT NOT NULL,\n"
"  description TEXT NOT NULL,\n"
"  checksum TEXT NOT NULL,\n"
"  migration_time_ms REAL NOT NULL\n"
");\n"
"CREATE TABLE skill_invocation (\n"
"  id TEXT PRIMARY KEY NOT NULL,\n"
"  skill_name TEXT NOT NULL,\n"
"  invoked_at TEXT NOT NULL,\n"
"  ended_at TEXT,\n"
"  workflow_path TEXT,\n"
"  session_id,\n"
"  project_path TEXT,\n"
"  parent_id TEXT,\n"
"  completed INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),\n"
"  duration_seconds REAL,\n"
"  error_type TEXT,\n"
"  exit_code INTEGER,\n"
"  signal INTEGER,\n"
"  follow_up_actions TEXT NOT NULL DEFAULT '[]',\n"
"  command TEXT,\n"
"  host TEXT,\n"
"  pid INTEGER,\n"
"  user_cpu_seconds REAL,\n"
"  sys_cpu_seconds REAL,\n"
"  max_rss_kb INTEGER,\n"
"  source TEXT NOT NULL DEFAULT 'lib',\n"
"  mono_start REAL,\n"
"  boot_id TEXT\n"
");\n"
/* Percentiles walk this index in order; so do per-skill min/max/count. */
"CREATE INDEX skill_invocation_duration\n"
"  ON skill_invocation (skill_name, completed, duration_seconds);\n"
/* Timelines and recent lists: by skill and time, and by time alone. */
"CREATE INDEX skill_invocation_skill_time\n"
"  ON skill_invocation (skill_name, invoked_at);\n"
"CREATE INDEX skill_invocation_time ON skill_invocation (invoked_at);\n"
"CREATE INDEX skill_invocation_session\n"
"  ON skill_invocation (session_id) WHERE session_id IS NOT NULL;\n"
/* Only running invocations: small, what `skm reap` looks at. */
"CREATE INDEX skill_invocation_running\n"
"  ON skill_invocation (host) WHERE ended_at IS NULL;\n"
"CREATE TABLE skill_metrics (\n"
"  skill_name TEXT PRIMARY KEY NOT NULL,\n"
"  total_invocations INTEGER NOT NULL DEFAULT 0,\n"
"  completed_invocations INTEGER NOT NULL DEFAULT 0,\n"
"  abandoned_invocations INTEGER NOT NULL DEFAULT 0,\n"
"  total_duration_seconds REAL NOT NULL DEFAULT 0,\n"
"  min_duration_seconds REAL,\n"
"  max_duration_seconds REAL,\n"
"  p50_duration_seconds REAL,\n"
"  p95_duration_seconds REAL,\n"
"  p99_duration_seconds REAL,\n"
"  workflow_paths TEXT NOT NULL DEFAULT '{}',\n"
"  common_errors TEXT NOT NULL DEFAULT '{}',\n"
"  follow_up_actions TEXT NOT NULL DEFAULT '{}',\n"
"  first_invoked TEXT,\n"
"  last_invoked TEXT,\n"
/* Derived columns cannot go stale (the reference's trigger did). */
"  completion_rate REAL GENERATED ALWAYS AS (CASE WHEN total_invocations > 0\n"
"    THEN 100.0 * completed_invocations / total_invocations ELSE 0.0 END)\n"
"    VIRTUAL,\n"
"  avg_duration_seconds REAL GENERATED ALWAYS AS (\n"
"    CASE WHEN completed_invocations > 0\n"
"    THEN total_duration_seconds / completed_invocations ELSE 0.0 END)\n"
"    VIRTUAL,\n"
"  schema_version INTEGER NOT NULL DEFAULT 1,\n"
"  last_aggregated_at TEXT\n"
");\n"
"CREATE TABLE session_skill (\n"
"  session_id TEXT NOT NULL,\n"
"  skill_name TEXT NOT NULL,\n"
"  invocation_count INTEGER NOT NULL DEFAULT 0,\n"
"  first_invoked TEXT,\n"
"  last_invoked TEXT,\n"
"  total_duration_seconds REAL NOT NULL DEFAULT 0,\n"
"  PRIMARY KEY (session_id, skill_name)\n"
") WITHOUT ROWID;\n"
"CREATE VIRTUAL TABLE skill_invocation_fts USING fts5 (\n"
"  skill_name, workflow_path,\n"
"  content = 'skill_invocation', content_rowid = 'rowid'\n"
");\n"
"CREATE TRIGGER skill_invocation_fts_ai AFTER INSERT ON skill_invocation\n"
"BEGIN\n"
"  INSERT INTO skill_invocation_fts (rowid, skill_name, workflow_path)\n"
"  VALUES (new.rowid, new.skill_name, new.workflow_path);\n"
"END;\n"
"CREATE TRIGGER skill_invocation_fts_ad AFTER DELETE ON skill_invocation\n"
"BEGIN\n"
"  INSERT INTO skill_invocation_fts\n"
"    (skill_invocation_fts, rowid, skill_name, workflow_path)\n"
"  VALUES ('delete', old.rowid, old.skill_name, old.workflow_path);\n"
"END;\n"
"CREATE TRIGGER skill_invocation_fts_au\n"
"AFTER UPDATE OF skill_name, workflow_path ON skill_invocation\n"
"BEGIN\n"
"  INSERT INTO skill_invocation_fts\n"
"    (skill_invocation_fts, rowid, skill_name, workflow_path)\n"
"  VALUES ('delete', old.rowid, old.skill_name, old.workflow_path);\n"
"  INSERT INTO skill_invocation_fts (rowid, skill_name, workflow_path)\n"
"  VALUES (new.rowid, new.skill_name, new.workflow_path);\n"
"END;\n"
/* SQLite has no materialized views; skill_metrics is one row per skill,
 * so this view over it is instant. */
"CREATE VIEW skill_metrics_summary AS\n"
"SELECT count(*) AS total_skills,\n"
"  coalesce(sum(total_invocations), 0) AS total_invocations,\n"
"  CASE WHEN sum(total_invocations) > 0\n"
"    THEN 100.0 * sum(completed_invocations) / sum(total_invocations)\n"
"    ELSE 0.0 END AS overall_completion_rate,\n"
"  (SELECT skill_name FROM skill_metrics\n"
"    ORDER BY total_invocations DESC, skill_name LIMIT 1) AS most_used_skill,\n"
"  coalesce((SELECT total_invocations FROM skill_metrics\n"
"    ORDER BY total_invocations DESC, skill_name LIMIT 1), 0)\n"
"    AS most_used_count,\n"
"  CASE WHEN sum(completed_invocations) > 0\n"
"    THEN sum(total_duration_seconds) / sum(completed_invocations)\n"
"    ELSE 0.0 END AS avg_duration_seconds,\n"
"  strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS refresh_time\n"
"FROM skill_metrics;\n";

/*
 * Migration 2: the start time of the recorded process (field 22 of
 * /proc/PID/stat, clock ticks since boot), so that `skm reap` can tell a
 * process that is gone from a new one that got the same pid.  Rows made
 * before it have NULL: their pid alone decides.
 */
static const char m2_sql[] =
"ALTER TABLE skill_invocation ADD COLUMN pid_start INTEGER;\n";

/*
 * Migration 3: the search index over distinct (skill, workflow path)
 * pairs instead of one FTS5 row per invocation.  Search groups its
 * matches by that pair anyway; an FTS5 row per invocation cost 26 bytes
 * per invocation and a new FTS5 segment (several pages) in every begin
 * transaction.  skill_workflow holds each pair once, added by a trigger
 * when an invocation brings a new one (a lookup in its small unique
 * index otherwise); skill_invocation_fts, same name and columns as
 * before, indexes it.  Pairs are never removed: a pair without ended
 * invocations simply finds nothing when search joins back.
 */
static const char m3_sql[] =
"DROP TRIGGER skill_invocation_fts_ai;\n"
"DROP TRIGGER skill_invocation_fts_ad;\n"
"DROP TRIGGER skill_invocation_fts_au;\n"
"DROP TABLE skill_invocation_fts;\n"
"CREATE TABLE skill_workflow (\n"
"  id INTEGER PRIMARY KEY,\n"
"  skill_name TEXT NOT NULL,\n"
"  workflow_path TEXT,\n"
"  UNIQUE (skill_name, workflow_path)\n"
");\n"
"CREATE VIRTUAL TABLE skill_invocation_fts USING fts5 (\n"
"  skill_name, workflow_path,\n"
"  content = 'skill_workflow', content_rowid = 'id'\n"
");\n"
"CREATE TRIGGER skill_workflow_fts_ai AFTER INSERT ON skill_workflow\n"
"BEGIN\n"
"  INSERT INTO skill_invocation_fts (rowid, skill_name, workflow_path)\n"
"  VALUES (new.id, new.skill_name, new.workflow_path);\n"
"END;\n"
"CREATE TRIGGER skill_workflow_fts_ad AFTER DELETE ON skill_workflow\n"
"BEGIN\n"
"  INSERT INTO skill_invocation_fts\n"
"    (skill_invocation_fts, rowid, skill_name, workflow_path)\n"
"  VALUES ('delete', old.id, old.skill_name, old.workflow_path);\n"
"END;\n"
/* UNIQUE lets two NULL paths in: the WHEN compares with IS. */
"CREATE TRIGGER skill_invocation_pair_ai AFTER INSERT ON skill_invocation\n"
"WHEN NOT EXISTS (SELECT 1 FROM skill_workflow\n"
"  WHERE skill_name = new.skill_name\n"
"  AND workflow_path IS new.workflow_path)\n"
"BEGIN\n"
"  INSERT INTO skill_workflow (skill_name, workflow_path)\n"
"  VALUES (new.skill_name, new.workflow_path);\n"
"END;\n"
"CREATE TRIGGER skill_invocation_pair_au\n"
"AFTER UPDATE OF skill_name, workflow_path ON skill_invocation\n"
"WHEN NOT EXISTS (SELECT 1 FROM skill_workflow\n"
"  WHERE skill_name = new.skill_name\n"
"  AND workflow_path IS new.workflow_path)\n"
"BEGIN\n"
"  INSERT INTO skill_workflow (skill_name, workflow_path)\n"
"  VALUES (new.skill_name, new.workflow_path);\n"
"END;\n"
"INSERT INTO skill_workflow (skill_name, workflow_path)\n"
"  SELECT DISTINCT skill_name, workflow_path FROM skill_invocation\n"
"  ORDER BY 1, 2;\n";

/*
 * Migration 4: where the fold stands in each journal file.  Recorders
 * append events to files in DB.journal/ (journal.c); the fold (fold.c)
 * applies them in batches, and each batch's transaction also moves its
 * file's row here, so a fold killed at any instant resumes exactly where
 * its last commit left off: nothing applied twice, nothing skipped.
 * A file's row stays after the file is gone (done = 1): file ids are
 * never reused, and the counts are what `skm check` reports.
 * journal_pending_end keeps an end that arrived before its begin (a
 * journal copied from elsewhere, events out of order) until the begin
 * comes: then both apply, as if in order.
 */
static const char m4_sql[] =
"CREATE TABLE journal_fold (\n"
"  file_id TEXT PRIMARY KEY NOT NULL,\n"
"  offset INTEGER NOT NULL DEFAULT 0,\n"
"  applied INTEGER NOT NULL DEFAULT 0,\n"
"  quarantined INTEGER NOT NULL DEFAULT 0,\n"
"  done INTEGER NOT NULL DEFAULT 0,\n"
"  updated_at TEXT NOT NULL\n"
") WITHOUT ROWID;\n"
"CREATE TABLE journal_pending_end (\n"
"  id TEXT PRIMARY KEY NOT NULL,\n"
"  record BLOB NOT NULL\n"
") WITHOUT ROWID;\n";

/*
 * Migration 5: what the queries read grows with the answer, not with the
 * table (issue 9).
 *
 * - skill_workflow counts the ended invocations of each (skill, workflow
 *   path) pair, with their completed count and duration total: search
 *   reads its matched pairs and nothing else.  The pairs are now kept by
 *   the end of an invocation (the fold's aggregates) instead of a trigger at its begin:
 *   a pair with no ended invocation has nothing to show, and an
 *   INSERT that fires a trigger keeps a statement journal (an import
 *   spent a third of its time writing it).
 * - skill_timeline holds per skill and hour (epoch seconds, a multiple
 *   of 3600) the ended invocations begun in that hour: timelines by hour,
 *   day and week add these up.
 * - skill_metrics.percentiles_valid says whether its p50/p95/p99 are
 *   exact for the current data: an end clears it, a query that computes
 *   them stores them and sets it.
 * - The index on session_id goes: no query reads it (sessions are
 *   answered from session_skill).
 *
 * `skm check` compares all of these with a recompute; `skm recompute`
 * rebuilds them.
 */
#define M5_HOUR(t) "((" t ") - (((" t ") % 3600) + 3600) % 3600)"
static const char m5_sql[] =
"DROP TRIGGER skill_invocation_pair_ai;\n"
"DROP TRIGGER skill_invocation_pair_au;\n"
"DROP INDEX skill_invocation_session;\n"
"ALTER TABLE skill_workflow\n"
"  ADD COLUMN invocation_count INTEGER NOT NULL DEFAULT 0;\n"
"ALTER TABLE skill_workflow\n"
"  ADD COLUMN completed_count INTEGER NOT NULL DEFAULT 0;\n"
"ALTER TABLE skill_workflow\n"
"  ADD COLUMN total_duration_seconds REAL NOT NULL DEFAULT 0;\n"
"CREATE TABLE skill_timeline (\n"
"  skill_name TEXT NOT NULL,\n"
"  hour INTEGER NOT NULL,\n"
"  invocation_count INTEGER NOT NULL DEFAULT 0,\n"
"  completed_count INTEGER NOT NULL DEFAULT 0,\n"
"  total_duration_seconds REAL NOT NULL DEFAULT 0,\n"
"  PRIMARY KEY (skill_name, hour)\n"
") WITHOUT ROWID;\n"
"ALTER TABLE skill_metrics\n"
"  ADD COLUMN percentiles_valid INTEGER NOT NULL DEFAULT 0;\n"
"DELETE FROM skill_workflow;\n"
"INSERT INTO skill_workflow (skill_name, workflow_path, invocation_count,\n"
"  completed_count, total_duration_seconds)\n"
"  SELECT skill_name, workflow_path, count(*), sum(completed),\n"
"  total(CASE WHEN completed THEN duration_seconds END)\n"
"  FROM skill_invocation WHERE ended_at IS NOT NULL\n"
"  GROUP BY 1, 2 ORDER BY 1, 2;\n"
"INSERT INTO skill_timeline\n"
"  SELECT skill_name, " M5_HOUR("unixepoch(invoked_at)") ", count(*),\n"
"  sum(completed), total(CASE WHEN completed THEN duration_seconds END)\n"
"  FROM skill_invocation WHERE ended_at IS NOT NULL GROUP BY 1, 2;\n";

/*
 * Migration 6: how far this store has been pushed to each PostgreSQL
 * server (sync.c).  A server's first sync scans the invocations by rowid
 * up to scan_end, the last rowid when it began; from that moment on every
 * invocation that ends (or is inserted already ended, as an import is)
 * gets a row in sync_log, and a sync pushes the log past log_seq.  The
 * triggers that fill sync_log are made by the first sync (sync.c), not
 * here: a store that is never synced pays nothing for them.
 */
static const char m6_sql[] =
"CREATE TABLE sync_state (\n"
"  server_id TEXT PRIMARY KEY NOT NULL,\n"
"  scan_rowid INTEGER NOT NULL,\n"
"  scan_end INTEGER NOT NULL,\n"
"  log_seq INTEGER NOT NULL,\n"
"  pushed INTEGER NOT NULL DEFAULT 0,\n"
"  last_sync_at TEXT\n"
");\n"
"CREATE TABLE sync_log (\n"
"  seq INTEGER PRIMARY KEY,\n"
"  id TEXT NOT NULL\n"
");\n";

/*
 * Migration 7: the invocations in about two thirds of the bytes (issue 9:
 * at most 300 a run at 1M).  The rows move to `invocation`, which keeps
 * times as integer milliseconds since the epoch (UTC) and ids, parent,
 * session and boot ids that are lowercase UUIDs as their 16 bytes (any
 * other id stays the text it is); rowids are kept (sync's watermarks are rowids).
 * skill_invocation becomes a view over it with the same columns in the
 * same order, ISO-8601 times and UUID text, in plain SQL so that any
 * SQLite reads it.  The index on invoked_at alone goes (recent lists
 * merge the per-skill one); parent_id gets a partial index for trace.
 * skm_key() and skm_ms() are skm's own functions (store.c).  Sync's
 * triggers (sync.c) went with the old table; a synced store gets them
 * back on the new one (if_synced).
 */
static const char m7_sql[] =
"CREATE TABLE invocation (\n"
"  id PRIMARY KEY NOT NULL,\n"
"  skill_name TEXT NOT NULL,\n"
"  invoked_at INTEGER NOT NULL,\n"
"  ended_at INTEGER,\n"
"  workflow_path TEXT,\n"
"  session_id,\n"
"  project_path TEXT,\n"
"  parent_id,\n"
"  completed INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),\n"
"  duration_seconds REAL,\n"
"  error_type TEXT,\n"
"  exit_code INTEGER,\n"
"  signal INTEGER,\n"
"  follow_up_actions TEXT NOT NULL DEFAULT '[]',\n"
"  command TEXT,\n"
"  host TEXT,\n"
"  pid INTEGER,\n"
"  user_cpu_seconds REAL,\n"
"  sys_cpu_seconds REAL,\n"
"  max_rss_kb INTEGER,\n"
"  source TEXT NOT NULL DEFAULT 'lib',\n"
"  mono_start REAL,\n"
"  boot_id,\n"
"  pid_start INTEGER\n"
");\n"
"INSERT INTO invocation (rowid, id, skill_name, invoked_at, ended_at,\n"
"  workflow_path, session_id, project_path, parent_id, completed,\n"
"  duration_seconds, error_type, exit_code, signal, follow_up_actions,\n"
"  command, host, pid, user_cpu_seconds, sys_cpu_seconds, max_rss_kb,\n"
"  source, mono_start, boot_id, pid_start)\n"
"  SELECT rowid, skm_key(id), skill_name, skm_ms(invoked_at),\n"
"  skm_ms(ended_at), workflow_path, skm_key(session_id), project_path,\n"
"  skm_key(parent_id), completed, duration_seconds, error_type, exit_code,\n"
"  signal, follow_up_actions, command, host, pid, user_cpu_seconds,\n"
"  sys_cpu_seconds, max_rss_kb, source, mono_start, skm_key(boot_id),\n"
"  pid_start FROM skill_invocation ORDER BY rowid;\n"
"DROP TABLE skill_invocation;\n"
"CREATE INDEX invocation_duration\n"
"  ON invocation (skill_name, completed, duration_seconds);\n"
"CREATE INDEX invocation_skill_time ON invocation (skill_name, invoked_at);\n"
"CREATE INDEX invocation_running\n"
"  ON invocation (host) WHERE ended_at IS NULL;\n"
"CREATE INDEX invocation_parent\n"
"  ON invocation (parent_id) WHERE parent_id IS NOT NULL;\n"
"UPDATE sync_log SET id = skm_key(id);\n"
"CREATE VIEW skill_invocation AS SELECT\n"
"  " SKM__SQL_UUID("id") " AS id,\n"
"  skill_name,\n"
"  " SKM__SQL_ISO("invoked_at") " AS invoked_at,\n"
"  " SKM__SQL_ISO("ended_at") " AS ended_at,\n"
"  workflow_path,\n"
"  " SKM__SQL_UUID("session_id") " AS session_id,\n"
"  project_path,\n"
"  " SKM__SQL_UUID("parent_id") " AS parent_id,\n"
"  completed, duration_seconds, error_type, exit_code, signal,\n"
"  follow_up_actions, command, host, pid, user_cpu_seconds,\n"
"  sys_cpu_seconds, max_rss_kb, source, mono_start,\n"
"  " SKM__SQL_UUID("boot_id") " AS boot_id,\n"
"  pid_start\n"
"FROM invocation;\n";

/*
 * From a store's first sync on, every invocation that ends, or is
 * inserted ended (an import, a fold of begin and end together), is
 * logged for the next sync (sync.c).  Made by the first sync rather than
 * by a migration so that a store never synced has no trigger on its
 * inserts.
 */
const char skm__sync_triggers_sql[] =
    "CREATE TRIGGER IF NOT EXISTS sync_log_end "
    "AFTER UPDATE OF ended_at ON invocation "
    "WHEN old.ended_at IS NULL AND new.ended_at IS NOT NULL "
    "BEGIN INSERT INTO sync_log (id) VALUES (new.id); END; "
    "CREATE TRIGGER IF NOT EXISTS sync_log_insert "
    "AFTER INSERT ON invocation WHEN new.ended_at IS NOT NULL "
    "BEGIN INSERT INTO sync_log (id) VALUES (new.id); END";

const struct skm_migration skm__migrations[] = {
	{ 1, "skill_invocation, skill_metrics, session_skill, search index, "
	    "summary view", m1_sql, NULL, 0 },
	{ 2, "skill_invocation.pid_start for skm reap", m2_sql, NULL, 0 },
	{ 3, "search index over (skill, workflow path) pairs", m3_sql, NULL, 0 },
	{ 4, "journal_fold: the fold's place in each journal file", m4_sql, NULL, 0 },
	{ 5, "per-pair counts, hourly timeline rollups, cached percentiles",
	  m5_sql, NULL, 0 },
	{ 6, "sync_state and sync_log for skm sync", m6_sql, NULL, 0 },
	{ 7, "invocation: integer times, UUIDs as 16 bytes; skill_invocation "
	    "a view over it", m7_sql, skm__sync_triggers_sql, 1 },
};
const int skm__nmigrations =
    (int)(sizeof(skm__migrations) / sizeof(skm__migrations[0]));

int
skm_schema_latest(void)
{
	return skm__migrations[skm__nmigrations - 1].version;
}

/* The checksum recorded for a migration: FNV-1a 64 of its SQL, in hex. */
void
skm__schema_checksum(const struct skm_migration *m, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)skm__util_fnv1a(m->sql));
}
