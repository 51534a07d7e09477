/*
 * test_store.c - opening the store: creation with safe modes, migrations
 * on an empty and on an existing database, refusal of a newer schema and
 * of files that are not skm stores (which are never written), the default
 * path, and the library's version.
 */
#include <limits.h>
#include <sys/stat.h>
#include "unit.h"
#include "schema.h"
#include "skm-int.h"

static void
new_store_is_created_0600_in_0700_dirs(void)
{
	struct skm_db *db;
	struct stat sb;
	char p[512];

	umask(022);
	snprintf(p, sizeof(p), "%s/a/b/m.db", unit_dir);
	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	snprintf(p, sizeof(p), "%s/a/b", unit_dir);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	snprintf(p, sizeof(p), "%s/a", unit_dir);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	skm_close(db);
}

static void
migrations_are_recorded_once(void)
{
	struct skm_db *db;
	const char *p = unit_path("m.db");
	char *s;

	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	CHECK_INT(skm_schema_version(db), skm_schema_latest());
	skm_close(db);
	/* reopening an existing store applies nothing again */
	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	skm_close(db);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM schema_migrations"),
	    skm_schema_latest());
	CHECK_INT(unit_sql_int(p, "PRAGMA user_version"), skm_schema_latest());
	s = unit_sql(p, "SELECT length(checksum) || ' ' || "
	    "(migration_time_ms >= 0) || ' ' || (applied_at LIKE '____-__-__T"
	    "__:__:__.___Z') FROM schema_migrations WHERE version = 1");
	CHECK_STR(s, "16 1 1");
	free(s);
	s = unit_sql(p, "PRAGMA journal_mode");
	CHECK_STR(s, "wal");
	free(s);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('skill_invocation', 'skill_metrics', 'session_skill', "
	    "'skill_invocation_fts', 'skill_metrics_summary', "
	    "'schema_migrations')"), 6);
}

static void
existing_unmigrated_skm_file_is_migrated(void)
{
	struct skm_db *db;
	const char *p = unit_path("m.db");
	sqlite3 *c;

	/* an empty SQLite file, as another tool might have left it */
	sqlite3_open(p, &c);
	sqlite3_exec(c, "PRAGMA user_version = 0; VACUUM", 0, 0, 0);
	sqlite3_close(c);
	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	CHECK_INT(skm_schema_version(db), skm_schema_latest());
	skm_close(db);
}

/*
 * A store made at schema 2 (one FTS5 row per invocation) is migrated to
 * the search index over (skill, workflow path) pairs and, by migration 5,
 * to pair counts and hourly rollups: search and timeline answer from
 * them at once, new runs are counted as they end, and the check is
 * clean.
 */
static void
schema_2_store_is_migrated_with_its_search_index(void)
{
	struct skm_db *db;
	struct skm_query_args qa = { 0 };
	const char *p = unit_path("m.db");
	sqlite3 *c;
	char *out;
	int i;

	sqlite3_open(p, &c);
	sqlite3_exec(c, "PRAGMA journal_mode = WAL", 0, 0, 0);
	for (i = 0; i < skm__nmigrations && skm__migrations[i].version <= 2; i++)
		CHECK_INT(sqlite3_exec(c, skm__migrations[i].sql, 0, 0, 0),
		    SQLITE_OK);
	CHECK_INT(sqlite3_exec(c, "PRAGMA user_version = 2; "
	    "INSERT INTO skill_invocation (id, skill_name, invoked_at, "
	    "ended_at, workflow_path, completed, duration_seconds) VALUES "
	    "('a', 'lint', '2026-01-05T10:00:00.000Z', "
	    "'2026-01-05T10:00:01.000Z', 'ci/quick', 1, 1), "
	    "('b', 'lint', '2026-01-05T10:01:00.000Z', "
	    "'2026-01-05T10:01:03.000Z', 'ci/quick', 1, 3), "
	    "('c', 'lint', '2026-01-05T10:02:00.000Z', "
	    "'2026-01-05T10:02:01.000Z', NULL, 0, 1), "
	    "('d', 'test', '2026-01-05T10:03:00.000Z', NULL, 'nightly', 0, "
	    "NULL)", 0, 0, 0), SQLITE_OK);
	sqlite3_close(c);

	CHECK_INT(skm_open(p, SKM_OPEN_DIRECT, &db), SKM_OK);
	CHECK_INT(skm_schema_version(db), skm_schema_latest());
	/* the migration filled the rollups (nothing recomputed yet) */
	qa.skill = "lint";
	qa.since = "2026-01-05";
	qa.bucket = "day";
	CHECK_INT(skm_query_json(db, SKM_Q_TIMELINE, &qa, &out), SKM_OK);
	CHECK(out != NULL && strncmp(out, "[{\"bucket\":\"2026-01-05T00:00:00Z\","
	    "\"invocations\":3,\"completed\":2,\"avg_duration_seconds\":2.0},"
	    "{\"bucket\":\"2026-01-06T00:00:00Z\",\"invocations\":0,", 128) == 0);
	skm_free(out);
	memset(&qa, 0, sizeof(qa));
	qa.text = "quick";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"lint\",\"workflow_path\":"
	    "\"ci/quick\",\"invocation_count\":2,"
	    "\"avg_duration_seconds\":2.0}]");
	skm_free(out);
	CHECK_INT(skm_recompute(db, NULL), SKM_OK);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	qa.text = "quick";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"lint\",\"workflow_path\":"
	    "\"ci/quick\",\"invocation_count\":2,"
	    "\"avg_duration_seconds\":2.0}]");
	skm_free(out);
	/* a skill name finds its runs without a path too; a running one
	 * (test) is not counted */
	qa.text = "lint OR test";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK(out != NULL && strstr(out, "\"workflow_path\":null,"
	    "\"invocation_count\":1") != NULL && strstr(out, "test") == NULL);
	skm_free(out);
	/* pairs with ended runs only: the running one (nightly) is not */
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_workflow"), 2);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation_fts "
	    "WHERE skill_invocation_fts MATCH 'nightly'"), 0);
	/* a new pair is indexed as its first run ends, an old one is not
	 * repeated */
	for (i = 0; i < 2; i++) {
		struct skm_begin_info bi = { .skill = "lint",
		    .workflow = i ? NULL : "ci/full" };
		struct skm_end_info ei = SKM_END_INFO_INIT;
		struct skm_inv *inv;

		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM "
		    "skill_invocation_fts WHERE skill_invocation_fts "
		    "MATCH 'full'"), i);
		ei.completed = 1;
		CHECK_INT(skm_end(inv, &ei), SKM_OK);
	}
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_workflow"), 3);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation_fts "
	    "WHERE skill_invocation_fts MATCH 'full'"), 1);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

/*
 * Migration 7: a schema 6 store that was synced, with a running and an
 * ended invocation.  After it, the view shows every value as before
 * (lowercase UUIDs, other ids, times at the edges of the range), the
 * table keeps them compact, and sync's triggers are on the new table:
 * the running invocation's end is logged for the next sync.
 */
static void
schema_6_store_is_migrated_to_compact_rows(void)
{
	static const char rows[] =
	    "INSERT INTO skill_invocation (id, skill_name, invoked_at, "
	    "ended_at, session_id, parent_id, completed, duration_seconds, "
	    "boot_id, mono_start) VALUES "
	    "('01a24158-271d-7d67-a992-4591788b9040', 'lint', "
	    "'0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', "
	    "'5e550000-0000-4000-8000-000000000001', 'Not-A-UUID', 1, 2.5, "
	    "NULL, NULL), "
	    "('01A24158-271D-7D67-A992-4591788B9041', 'lint', "
	    "'1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.001Z', 's1', "
	    "'01a24158-271d-7d67-a992-4591788b9040', 0, 0.002, NULL, NULL), "
	    "('r', 'test', '2026-01-05T10:03:00.123Z', NULL, NULL, NULL, 0, "
	    "NULL, '0b00b5e1-0000-4000-8000-00000000b007', 12.5); "
	    "INSERT INTO sync_state (server_id, scan_rowid, scan_end, log_seq) "
	    "VALUES ('srv', 3, 3, 0);"
	    /* enough rows that the old table's pages are worth giving back */
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 3000) INSERT INTO skill_invocation (id, skill_name, "
	    "invoked_at, ended_at, completed, duration_seconds, command) "
	    "SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'bulk', "
	    "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 1, 1, "
	    "printf('%.200c', 'x') FROM n;"
	    "CREATE TRIGGER sync_log_end AFTER UPDATE OF ended_at ON "
	    "skill_invocation WHEN old.ended_at IS NULL AND new.ended_at IS NOT "
	    "NULL BEGIN INSERT INTO sync_log (id) VALUES (new.id); END;";
	static const char view[] =
	    "SELECT group_concat(id || '|' || invoked_at || '|' || "
	    "coalesce(ended_at, '-') || '|' || coalesce(session_id, '-') || '|' "
	    "|| coalesce(parent_id, '-') || '|' || coalesce(boot_id, '-'), ' ') "
	    "FROM (SELECT * FROM skill_invocation WHERE skill_name != 'bulk' "
	    "ORDER BY skill_name, invoked_at)";
	struct skm_db *db;
	struct skm_end_info ei = SKM_END_INFO_INIT;
	const char *p = unit_path("m.db");
	char *before, *after, *out = NULL;
	size_t len = 0;
	sqlite3 *c;
	FILE *f;
	int i;

	sqlite3_open(p, &c);
	sqlite3_exec(c, "PRAGMA journal_mode = WAL", 0, 0, 0);
	for (i = 0; i < skm__nmigrations && skm__migrations[i].version <= 6; i++)
		CHECK_INT(sqlite3_exec(c, skm__migrations[i].sql, 0, 0, 0),
		    SQLITE_OK);
	CHECK_INT(sqlite3_exec(c, "PRAGMA user_version = 6", 0, 0, 0),
	    SQLITE_OK);
	CHECK_INT(sqlite3_exec(c, rows, 0, 0, 0), SQLITE_OK);
	sqlite3_close(c);
	before = unit_sql(p, view);

	CHECK_INT(skm_open(p, SKM_OPEN_DIRECT, &db), SKM_OK);
	CHECK_INT(skm_schema_version(db), skm_schema_latest());
	/* the old table's pages went back to the file system */
	CHECK_INT(unit_sql_int(p, "PRAGMA freelist_count"), 0);
	after = unit_sql(p, view);
	CHECK_STR(after, before);
	free(after);
	free(before);
	/* lowercase UUIDs as 16 bytes, the rest as it was; times as
	 * milliseconds */
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM invocation WHERE "
	    "typeof(id) = 'blob'"), 3001);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM invocation WHERE "
	    "typeof(session_id) = 'blob' OR typeof(parent_id) = 'blob' OR "
	    "typeof(boot_id) = 'blob'"), 3);
	CHECK_INT(unit_sql_int(p, "SELECT invoked_at = -62135596800000 FROM "
	    "invocation WHERE rowid = 1"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT invoked_at FROM invocation "
	    "WHERE rowid = 2"), -1);
	/* the view's plain SQL and skm's C functions write the same text */
	after = unit_sql(p, "SELECT group_concat(x, ' ') FROM (SELECT "
	    "invoked_at AS x FROM skill_invocation WHERE skill_name != 'bulk' "
	    "ORDER BY rowid)");
	CHECK_STR(after, "0001-01-01T00:00:00.000Z 1969-12-31T23:59:59.999Z "
	    "2026-01-05T10:03:00.123Z");
	free(after);
	/* sync's trigger is on the new table: the end is logged */
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'trigger' AND tbl_name = 'invocation'"), 2);
	CHECK_INT(skm_end_id(db, "r", &ei), SKM_OK);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM sync_log WHERE "
	    "id = 'r'"), 1);
	/* export (skm's C functions) writes what the view shows */
	CHECK((f = open_memstream(&out, &len)) != NULL);
	CHECK_INT(skm_export(db, NULL, f, NULL), SKM_OK);
	fclose(f);
	CHECK(out != NULL && strstr(out, "\"id\":\"01a24158-271d-7d67-a992-"
	    "4591788b9040\",\"skill_name\":\"lint\",\"invoked_at\":"
	    "\"0001-01-01T00:00:00.000Z\",\"ended_at\":"
	    "\"9999-12-31T23:59:59.999Z\"") != NULL);
	CHECK(out != NULL && strstr(out, "\"invoked_at\":"
	    "\"1969-12-31T23:59:59.999Z\",\"ended_at\":"
	    "\"1970-01-01T00:00:00.001Z\"") != NULL);
	CHECK(out != NULL && strstr(out, "\"parent_id\":\"01a24158-271d-7d67-"
	    "a992-4591788b9040\"") != NULL);
	free(out);
	CHECK_INT(skm_recompute(db, NULL), SKM_OK);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

static void
newer_schema_is_refused_and_untouched(void)
{
	struct skm_db *db;
	const char *p = unit_path("m.db");
	struct skm_begin_info bi = { .skill = "x" };
	struct skm_inv *inv;
	char sql[64];

	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	skm_close(db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    skm_schema_latest() + 1);
	free(unit_sql(p, sql));
	CHECK_INT(skm_open(p, 0, &db), SKM_NEWER);
	CHECK(strstr(skm_errmsg(db), "newer skm") != NULL);
	/* a failed handle keeps every event in the spool instead */
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	CHECK_INT(skm_end(inv, NULL), SKM_OK);
	CHECK_INT(skm_spooled(db, NULL), 2);
	CHECK_INT(skm_drain(db, NULL), SKM_NEWER);
	skm_close(db);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation"), 0);
	CHECK_INT(unit_sql_int(p, "PRAGMA user_version"),
	    skm_schema_latest() + 1);
}

static void
garbage_file_is_refused_and_never_written(void)
{
	struct skm_db *db;
	const char *p = unit_path("m.db");
	char buf[5000], back[5000];
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	f = fopen(p, "w");
	fwrite(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_INT(skm_open(p, 0, &db), SKM_CORRUPT);
	CHECK(strstr(skm_errmsg(db), "not an skm database") != NULL);
	skm_close(db);
	f = fopen(p, "r");
	CHECK(fread(back, 1, sizeof(back), f) == sizeof(buf));
	fclose(f);
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
}

static void
foreign_sqlite_database_is_refused(void)
{
	struct skm_db *db;
	const char *p = unit_path("other.db");
	sqlite3 *c;

	sqlite3_open(p, &c);
	sqlite3_exec(c, "CREATE TABLE notes (x)", 0, 0, 0);
	sqlite3_close(c);
	CHECK_INT(skm_open(p, 0, &db), SKM_CORRUPT);
	skm_close(db);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM sqlite_master"), 1);
}

static void
directory_path_is_refused(void)
{
	struct skm_db *db;

	CHECK_INT(skm_open(unit_dir, 0, &db), SKM_CANTOPEN);
	CHECK(strstr(skm_errmsg(db), "is a directory") != NULL);
	skm_close(db);
}

static void
readonly_open_of_missing_store_fails(void)
{
	struct skm_db *db;
	struct stat sb;

	CHECK_INT(skm_open(unit_path("none.db"), SKM_OPEN_READONLY, &db),
	    SKM_CANTOPEN);
	skm_close(db);
	CHECK(stat(unit_path("none.db"), &sb) == -1);
}

static void
default_path_follows_skm_db_then_xdg(void)
{
	char buf[512];

	setenv("SKM_DB", "/x/y.db", 1);
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, "/x/y.db");
	unsetenv("SKM_DB");
	setenv("XDG_DATA_HOME", "/data", 1);
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, "/data/skm/metrics.db");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, "/home/u/.local/share/skm/metrics.db");
	CHECK_INT(skm_default_path(buf, 5), SKM_CANTOPEN);
}

/* A relative HOME is made absolute against the working directory, once,
 * with the rest of the default path kept (it was joined over itself). */
static void
relative_home_is_made_absolute(void)
{
	char buf[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 64];

	unsetenv("SKM_DB");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "h", 1);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s%sh/.local/share/skm/metrics.db",
	    cwd, strcmp(cwd, "/") == 0 ? "" : "/");
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, want);
	setenv("HOME", "./h", 1);
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, want);
	setenv("SKM_DB", "rel.db", 1);
	snprintf(want, sizeof(want), "%s%srel.db", cwd,
	    strcmp(cwd, "/") == 0 ? "" : "/");
	CHECK_INT(skm_default_path(buf, sizeof(buf)), SKM_OK);
	CHECK_STR(buf, want);
	unsetenv("SKM_DB");
}

/* More statements than the cache's first size: each one prepared is
 * kept and still runs (the last slot used to be finalized to make room,
 * under a caller that held it). */
static void
statement_cache_grows_and_never_frees_a_held_statement(void)
{
	static char sql[SKM_CACHE_SLOTS + 8][32];
	sqlite3_stmt *st[SKM_CACHE_SLOTS + 8];
	struct skm_db *db = unit_open("cache.db");
	int i, n = SKM_CACHE_SLOTS + 8;

	for (i = 0; i < n; i++) {
		snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
		CHECK_INT(skm__store_prepare(db, sql[i], &st[i]), SKM_OK);
	}
	for (i = 0; i < n; i++) {
		CHECK_INT(sqlite3_step(st[i]), SQLITE_ROW);
		CHECK_INT(sqlite3_column_int(st[i], 0), i);
		sqlite3_reset(st[i]);
	}
	/* and a second prepare of one finds it */
	CHECK_INT(skm__store_prepare(db, sql[3], &st[0]), SKM_OK);
	CHECK(st[0] == st[3]);
	skm_close(db);
}

static void
version_macros_match_the_library(void)
{
	CHECK_INT(skm_libversion_number(), SKM_VERSION_NUMBER);
	CHECK_STR(skm_libversion(), SKM_VERSION);
	CHECK_STR(skm_errstr(SKM_BUSY), "store is locked");
	CHECK_STR(skm_errmsg(NULL), "no store handle");
}

int
main(void)
{
	RUN(new_store_is_created_0600_in_0700_dirs);
	RUN(migrations_are_recorded_once);
	RUN(existing_unmigrated_skm_file_is_migrated);
	RUN(schema_2_store_is_migrated_with_its_search_index);
	RUN(schema_6_store_is_migrated_to_compact_rows);
	RUN(newer_schema_is_refused_and_untouched);
	RUN(garbage_file_is_refused_and_never_written);
	RUN(foreign_sqlite_database_is_refused);
	RUN(directory_path_is_refused);
	RUN(readonly_open_of_missing_store_fails);
	RUN(default_path_follows_skm_db_then_xdg);
	RUN(relative_home_is_made_absolute);
	RUN(statement_cache_grows_and_never_frees_a_held_statement);
	RUN(version_macros_match_the_library);
	return unit_done();
}
