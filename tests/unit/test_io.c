/*
 * test_io.c - import and export: JSON Lines and CSV with unicode, quotes
 * and embedded newlines, timestamps normalised, ids already present
 * skipped, a bad record rejecting the whole import, export -> import ->
 * export byte-identical, every column exported; then backup and reap,
 * the other ways data leaves or settles in the store.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "unit.h"

static int
import_text(struct skm_db *db, const char *text,
    struct skm_import_result *res)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc = skm_import(db, f, res);

	fclose(f);
	return rc;
}

/* Export db in format fmt into a malloc'd string. */
static char *
export_text(struct skm_db *db, int fmt)
{
	struct skm_export_args ea = { .format = fmt };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(skm_export(db, &ea, f, NULL), SKM_OK);
	fclose(f);
	return buf;
}

static char *
sql1(const char *sql)
{
	return unit_sql(unit_path("m.db"), sql);
}

static const char jsonl[] =
    "{\"id\":\"a1\",\"skill_name\":\"lint\",\"invoked_at\":"
    "\"2026-01-05T10:00:00Z\",\"workflow_path\":\"ci/quick\","
    "\"completed\":true,\"duration_seconds\":1.5,\"follow_up_actions\":"
    "[\"fix \\\"it\\\"\",\"caf\\u00e9 \xe2\x98\x95\"]}\n"
    "\n"
    "{\"id\":\"a2\",\"skill_name\":\"l\xc3\xafnt \\\"q\\\" 'x'\","
    "\"invoked_at\":\"2026-01-05T12:00:00.250+02:00\",\"completed\":0,"
    "\"duration_seconds\":2,\"session_id\":\"s1\",\"project_path\":"
    "\"/src/\xe6\x97\xa5\",\"error_type\":\"exit:1\",\"exit_code\":1,"
    "\"extra\":{\"ignored\":[1,2]}}\n"
    "{\"id\":\"a3\",\"skill_name\":\"lint\",\"invoked_at\":"
    "\"2026-01-05 11:00:00\",\"completed\":1,\"duration_seconds\":3,"
    "\"workflow_path\":\"a.b\\\\c\",\"source\":\"run\",\"ended_at\":"
    "\"2026-01-05T11:00:03.000Z\"}\n";

static void
jsonl_import_keeps_unicode_quotes_and_normalises_times(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_import_result res;
	char *s;

	CHECK_INT(import_text(db, jsonl, &res), SKM_OK);
	CHECK_INT(res.records, 3);
	CHECK_INT(res.inserted, 3);
	CHECK_INT(res.skipped, 0);
	CHECK_INT(res.skills, 2);
	s = sql1("SELECT invoked_at || ' ' || ended_at || ' ' || source "
	    "FROM skill_invocation WHERE id = 'a2'");
	CHECK_STR(s, "2026-01-05T10:00:00.250Z 2026-01-05T10:00:02.250Z "
	    "import");
	free(s);
	s = sql1("SELECT invoked_at || ' ' || ended_at || ' ' || source "
	    "FROM skill_invocation WHERE id = 'a3'");
	CHECK_STR(s, "2026-01-05T11:00:00.000Z 2026-01-05T11:00:03.000Z run");
	free(s);
	s = sql1("SELECT skill_name || '|' || project_path FROM "
	    "skill_invocation WHERE id = 'a2'");
	CHECK_STR(s, "l\xc3\xafnt \"q\" 'x'|/src/\xe6\x97\xa5");
	free(s);
	s = sql1("SELECT follow_up_actions FROM skill_metrics "
	    "WHERE skill_name = 'lint'");
	CHECK_STR(s, "{\"caf\xc3\xa9 \xe2\x98\x95\":1,\"fix \\\"it\\\"\":1}");
	free(s);
	s = sql1("SELECT workflow_paths FROM skill_metrics "
	    "WHERE skill_name = 'lint'");
	CHECK_STR(s, "{\"a.b\\\\c\":1,\"ci/quick\":1}");
	free(s);
	/* aggregates recomputed, percentiles persisted */
	s = sql1("SELECT total_invocations || ' ' || completed_invocations || "
	    "' ' || p50_duration_seconds FROM skill_metrics "
	    "WHERE skill_name = 'lint'");
	CHECK_STR(s, "2 2 2.25");
	free(s);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT invocation_count "
	    "FROM session_skill WHERE session_id = 's1'"), 1);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);

	/* the same file again changes nothing */
	CHECK_INT(import_text(db, jsonl, &res), SKM_OK);
	CHECK_INT(res.inserted, 0);
	CHECK_INT(res.skipped, 3);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT sum(total_invocations) FROM skill_metrics"), 3);
	skm_close(db);
}

/* Each bad input, its line and what is said about it. */
static void
a_bad_record_rejects_the_whole_import(void)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":false}\n"
		  "{\"id\":\"y\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-02-30T10:00Z\",\"completed\":true}\n",
		  "line 2: invoked_at: '2026-02-30T10:00Z': no such date" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":false}\n\n"
		  "{\"id\":\"y\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":true\n",
		  "line 3: not a valid JSON object" },
		{ "{\"id\":\"x\",\"invoked_at\":\"2026-01-05T10:00Z\","
		  "\"completed\":true}\n", "line 1: skill_name: is required" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":\"yes\"}\n",
		  "line 1: completed: not true/false or 1/0" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":1,"
		  "\"duration_seconds\":-1}\n",
		  "line 1: duration_seconds: negative" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":1,"
		  "\"follow_up_actions\":[1]}\n",
		  "line 1: follow_up_actions: not an array of strings" },
		{ "{\"id\":\"x\",\"id\":\"y\",\"skill_name\":\"s\","
		  "\"invoked_at\":\"2026-01-05T10:00Z\",\"completed\":1}\n",
		  "line 1: id: given twice" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0}\n[1]\n",
		  "line 2: not a JSON object" },
		{ "id,skill_name,invoked_at,completed\n"
		  "x,s,2026-01-05T10:00Z,0\n"
		  "y,s,2026-01-05T10:00Z\n",
		  "line 3: 3 fields, the header has 4" },
		{ "id,skill_name,invoked_at,completed\n"
		  "x,s,2026-01-05T10:00Z,0\n"
		  "\"y,s,2026-01-05T10:00Z,1\n",
		  "line 3: a quoted field is not closed" },
		{ "id,skill_name,completed\nx,s,1\n",
		  "line 1: the header has no column" },
		{ "id,skill_name,invoked_at,completed,exit_code\n"
		  "x,s,2026-01-05T10:00Z,0,12a\n",
		  "line 2: exit_code: not an integer" },
		/* Inf would be stored, exported as Inf and refused back */
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0}\n"
		  "{\"id\":\"y\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":1,"
		  "\"duration_seconds\":1e999}\n",
		  "line 2: duration_seconds: a number too large" },
		/* not clamped to the largest 64-bit integer */
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0,"
		  "\"max_rss_kb\":100000000000000000000}\n",
		  "line 1: max_rss_kb: out of range" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0,"
		  "\"max_rss_kb\":-1}\n",
		  "line 1: max_rss_kb: negative" },
		/* not cut at the NUL */
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0,"
		  "\"command\":\"rm -rf /tmp/x\\u0000 /\"}\n",
		  "line 1: command: a NUL character" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":0,"
		  "\"junk\":[\"\\u0000\"]}\n",
		  "line 1: not a valid JSON object: a NUL character" },
		/* not read as 16 */
		{ "id,skill_name,invoked_at,completed,duration_seconds\n"
		  "x,s,2026-01-05T10:00Z,1,0x10\n",
		  "line 2: duration_seconds: not a number" },
		{ "id,skill_name,invoked_at,completed,exit_code\n"
		  "x,s,2026-01-05T10:00Z,0, 7\n",
		  "line 2: exit_code: not an integer" },
		{ "id,skill_name,invoked_at,completed,duration_seconds\n"
		  "x,s,2026-01-05T10:00Z,1,inf\n",
		  "line 2: duration_seconds: not a number" },
		/* a completed run without a duration would count as 0 s */
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":true}\n",
		  "line 1: duration_seconds: is required for a completed run" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"ended_at\":\"2026-01-05T09:59Z\","
		  "\"completed\":false}\n",
		  "line 1: ended_at: before invoked_at" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":false} x\n",
		  "line 1: not a valid JSON object: text after the object" },
		{ "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
		  "\"2026-01-05T10:00Z\",\"completed\":false,\"pid\":01}\n",
		  "line 1: pid: a bad number" },
	};
	struct skm_db *db = unit_open("m.db");
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(import_text(db, bad[i].text, NULL), SKM_FORMAT);
		if (strstr(skm_errmsg(db), bad[i].msg) == NULL) {
			printf("# %zu: '%s', expected '%s'\n", i,
			    skm_errmsg(db), bad[i].msg);
			CHECK(0);
		}
	}
	skm_close(db);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT count(*) FROM skill_invocation"), 0);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT count(*) FROM skill_metrics"), 0);
}

/* A completed run given ended_at but no duration: the two times say it. */
static void
a_missing_duration_comes_from_ended_at(void)
{
	static const char line[] =
	    "{\"id\":\"d1\",\"skill_name\":\"s\",\"invoked_at\":"
	    "\"2026-01-05T10:00:00Z\",\"ended_at\":\"2026-01-05T10:00:02.5Z\","
	    "\"completed\":true,\"follow_up_actions\":[ \"a\" , \"b\\/c\" ],"
	    "\"extra\":{\"k\":[1,{\"x\":null},-2.5e3,\"\\ud83d\\ude00\"]}}\n";
	struct skm_db *db = unit_open("m.db");
	char *s;

	CHECK_INT(import_text(db, line, NULL), SKM_OK);
	s = sql1("SELECT duration_seconds || ' ' || follow_up_actions FROM "
	    "skill_invocation WHERE id = 'd1'");
	CHECK_STR(s, "2.5 [\"a\",\"b\\/c\"]");
	free(s);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT "
	    "avg_duration_seconds * 10 FROM skill_metrics"), 25);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

/* An import into an empty store sets the indexes aside and makes them
 * again: the schema is the same after it, and after a failed one. */
static void
indexes_come_back_after_an_import_into_an_empty_store(void)
{
	static const char ok[] =
	    "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
	    "\"2026-01-05T10:00Z\",\"completed\":false}\n";
	static const char bad[] =
	    "{\"id\":\"x\",\"skill_name\":\"s\",\"invoked_at\":"
	    "\"2026-01-05T10:00Z\",\"completed\":false}\n{\n";
	static const char schema[] =
	    "SELECT group_concat(type || name || sql, ';') FROM (SELECT * "
	    "FROM sqlite_schema ORDER BY name)";
	struct skm_db *db = unit_open("m.db");
	char *before, *after;

	before = sql1(schema);
	CHECK(before != NULL && strstr(before, "invocation_skill_time") !=
	    NULL);
	CHECK_INT(import_text(db, bad, NULL), SKM_FORMAT);
	after = sql1(schema);
	CHECK_STR(after, before);
	free(after);
	CHECK_INT(import_text(db, ok, NULL), SKM_OK);
	after = sql1(schema);
	CHECK_STR(after, before);
	free(after);
	free(before);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT count(*) FROM "
	    "invocation INDEXED BY invocation_skill_time WHERE "
	    "skill_name = 's' AND invoked_at > 0"), 1);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

/* The size of the store's file with suffix sfx, -1 when there is none. */
static long long
side_size(const char *name, const char *sfx)
{
	char p[600];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", unit_path(name), sfx);
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

/*
 * An import into an empty store is written through a rollback journal
 * when the importing handle is the store's only connection (nothing goes
 * into the WAL), through the WAL when another connection has the store
 * open; either way the store is in WAL mode afterwards and no rollback
 * journal is left.
 */
static void
an_import_into_an_empty_store_leaves_it_in_wal_mode(void)
{
	static const char bad[] =
	    "{\"id\":\"y\",\"skill_name\":\"s\",\"invoked_at\":"
	    "\"2026-01-05T10:00Z\",\"completed\":false}\n{\n";
	struct skm_db *db = unit_open("m.db"), *other;
	char *s;

	CHECK_INT(import_text(db, bad, NULL), SKM_FORMAT);
	CHECK_STR(skm_errmsg(db), "line 2: not a valid JSON object");
	CHECK_INT(import_text(db, jsonl, NULL), SKM_OK);
	CHECK(side_size("m.db", "-wal") <= 0);
	CHECK(side_size("m.db", "-journal") < 0);
	s = sql1("PRAGMA journal_mode");
	CHECK_STR(s, "wal");
	free(s);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT count(*) FROM "
	    "skill_invocation"), 3);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);

	/* another handle has the store open: the WAL, as for any write */
	db = unit_open("n.db");
	other = unit_open("n.db");
	CHECK_INT(import_text(db, jsonl, NULL), SKM_OK);
	CHECK(side_size("n.db", "-wal") > 0);
	CHECK(side_size("n.db", "-journal") < 0);
	s = unit_sql(unit_path("n.db"), "PRAGMA journal_mode");
	CHECK_STR(s, "wal");
	free(s);
	CHECK_INT(skm_check(other, NULL, NULL), SKM_OK);
	skm_close(other);
	skm_close(db);
}

static void
csv_import_reads_quotes_newlines_and_nulls(void)
{
	static const char csv[] =
	    "skill_name,id,invoked_at,completed,workflow_path,command,"
	    "follow_up_actions,error_type,duration_seconds,unknown\r\n"
	    "lint,c1,2026-01-05T10:00:00Z,true,\"a,b\",\"say \"\"hi\"\"\","
	    "\"[\"\"x\"\",\"\"y\"\"]\",,1.25,zzz\r\n"
	    "\"t\xc3\xa9st\",c2,2026-01-05T10:00:00-01:00,0,\"\","
	    "\"two\nlines\",,exit:2,,\r\n"
	    "\n";
	struct skm_db *db = unit_open("m.db");
	struct skm_import_result res;
	char *s;

	CHECK_INT(import_text(db, csv, &res), SKM_OK);
	CHECK_INT(res.inserted, 2);
	s = sql1("SELECT workflow_path || '|' || command || '|' || "
	    "follow_up_actions || '|' || (error_type IS NULL) || '|' || "
	    "duration_seconds FROM skill_invocation WHERE id = 'c1'");
	CHECK_STR(s, "a,b|say \"hi\"|[\"x\",\"y\"]|1|1.25");
	free(s);
	/* "" is an empty string, an empty field NULL */
	s = sql1("SELECT skill_name || '|' || quote(workflow_path) || '|' || "
	    "command || '|' || error_type || '|' || "
	    "(duration_seconds IS NULL) || '|' || invoked_at "
	    "FROM skill_invocation WHERE id = 'c2'");
	CHECK_STR(s, "t\xc3\xa9st|''|two\nlines|exit:2|1|"
	    "2026-01-05T11:00:00.000Z");
	free(s);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

/* Some invocations through the hooks, with every kind of value. */
static void
record_some(struct skm_db *db)
{
	struct skm_begin_info bi = { .skill = "lint", .workflow = "a,\"b\"",
	    .session = "s\n1", .command = "echo 'x'\ty" };
	const char *fu[] = { "fix", "caf\xc3\xa9, \"now\"" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	struct rusage ru;
	int i;

	getrusage(RUSAGE_SELF, &ru);
	for (i = 0; i < 4; i++) {
		bi.skill = i % 2 ? "lint" : "t\xc3\xa9st \"q\"";
		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		ei.completed = i != 2;
		ei.exit_code = i == 2 ? 3 : 0;
		ei.follow_ups = fu;
		ei.n_follow_ups = i % 3;
		ei.rusage = i == 1 ? &ru : NULL;
		ei.duration_seconds = i == 3 ? -1 : 0.1 * i + 1.0 / 3;
		CHECK_INT(skm_end(inv, &ei), SKM_OK);
	}
}

/* The number of keys of the JSON object on the first line of text. */
static long long
count_keys(const char *text)
{
	sqlite3 *c;
	sqlite3_stmt *st;
	long long n = -1;

	sqlite3_open(":memory:", &c);
	if (sqlite3_prepare_v2(c, "SELECT count(*) FROM json_each(?)", -1,
	    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, text, (int)strcspn(text, "\n"),
		    SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(c);
	return n;
}

static void
export_import_export_is_byte_identical(void)
{
	struct skm_db *db = unit_open("m.db"), *db2, *db3;
	char *j1, *j2, *c1, *c2, *c3;
	long long ncols, nkeys;

	record_some(db);
	j1 = export_text(db, SKM_EXPORT_JSONL);
	c1 = export_text(db, SKM_EXPORT_CSV);
	CHECK(j1 != NULL && strlen(j1) > 100);
	/* every column of skill_invocation is exported */
	ncols = unit_sql_int(unit_path("m.db"),
	    "SELECT count(*) FROM pragma_table_info('skill_invocation')");
	nkeys = count_keys(j1);
	CHECK(ncols > 20);
	CHECK_INT(nkeys, ncols);

	db2 = unit_open("n.db");
	CHECK_INT(import_text(db2, j1, NULL), SKM_OK);
	j2 = export_text(db2, SKM_EXPORT_JSONL);
	CHECK_STR(j2, j1);
	/* the reals read back exactly: 1/3 + 0.1 i needs 17 digits */
	CHECK_INT(unit_sql_int(unit_path("n.db"), "SELECT count(*) FROM "
	    "skill_invocation WHERE duration_seconds IN (1.0 / 3, "
	    "0.1 + 1.0 / 3, 0.2 + 1.0 / 3)"), 3);
	c2 = export_text(db2, SKM_EXPORT_CSV);
	CHECK_STR(c2, c1);
	CHECK_INT(skm_check(db2, NULL, NULL), SKM_OK);

	db3 = unit_open("o.db");
	CHECK_INT(import_text(db3, c1, NULL), SKM_OK);
	c3 = export_text(db3, SKM_EXPORT_CSV);
	CHECK_STR(c3, c1);
	free(j2);
	j2 = export_text(db3, SKM_EXPORT_JSONL);
	CHECK_STR(j2, j1);
	free(j1);
	free(j2);
	free(c1);
	free(c2);
	free(c3);
	skm_close(db);
	skm_close(db2);
	skm_close(db3);
}

static void
export_filters_by_skill_and_since_and_skips_running(void)
{
	static const char two[] =
	    "{\"id\":\"old\",\"skill_name\":\"a\",\"invoked_at\":"
	    "\"2020-01-01T00:00:00Z\",\"completed\":1,"
	    "\"duration_seconds\":1}\n"
	    "{\"id\":\"new\",\"skill_name\":\"b\",\"invoked_at\":"
	    "\"2026-01-05T00:00:00Z\",\"completed\":1,"
	    "\"duration_seconds\":2}\n";
	struct skm_db *db = unit_open("m.db");
	struct skm_export_args ea = { 0 };
	struct skm_begin_info bi = { .skill = "a" };
	struct skm_inv *inv;
	char *buf = NULL;
	size_t len = 0;
	long long n;
	FILE *f;

	CHECK_INT(import_text(db, two, NULL), SKM_OK);
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);	/* running */
	skm_inv_free(inv);
	f = open_memstream(&buf, &len);
	ea.since = "2025-01-01";
	CHECK_INT(skm_export(db, &ea, f, &n), SKM_OK);
	CHECK_INT(n, 1);
	ea.since = NULL;
	ea.skill = "a";
	CHECK_INT(skm_export(db, &ea, f, &n), SKM_OK);
	CHECK_INT(n, 1);
	ea.skill = NULL;
	CHECK_INT(skm_export(db, &ea, f, &n), SKM_OK);
	CHECK_INT(n, 2);
	ea.since = "soon";
	CHECK_INT(skm_export(db, &ea, f, &n), SKM_MISUSE);
	fclose(f);
	CHECK(strstr(buf, "\"id\":\"new\"") < strstr(buf, "\"id\":\"old\""));
	free(buf);
	skm_close(db);
}

static void
backup_makes_a_checked_copy_and_will_not_overwrite(void)
{
	struct skm_db *db = unit_open("m.db"), *copy;
	char dest[512];

	record_some(db);
	snprintf(dest, sizeof(dest), "%s", unit_path("copy.db"));
	CHECK_INT(skm_backup(db, dest, 0), SKM_OK);
	CHECK_INT(unit_sql_int(dest, "SELECT count(*) FROM skill_invocation"),
	    4);
	CHECK_INT(skm_backup(db, dest, 0), SKM_CANTOPEN);
	CHECK(strstr(skm_errmsg(db), "--force") != NULL);
	record_some(db);
	CHECK_INT(skm_backup(db, dest, SKM_BACKUP_FORCE), SKM_OK);
	CHECK_INT(skm_open(dest, SKM_OPEN_NOCREATE, &copy), SKM_OK);
	CHECK_INT(skm_check(copy, NULL, NULL), SKM_OK);
	skm_close(copy);
	CHECK_INT(unit_sql_int(dest, "SELECT count(*) FROM skill_invocation"),
	    8);
	skm_close(db);
}

/* A pid that is certainly gone: a child that exited and was waited. */
static long long
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void
reap_ends_gone_and_reused_pids_once(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "job" };
	struct skm_inv *alive, *gone, *reused;
	const char *p = unit_path("m.db");
	char sql[200];
	int n;

	bi.pid = dead_pid();
	CHECK_INT(skm_begin(db, &bi, &gone), SKM_OK);
	bi.pid = 0;			/* this process: alive */
	CHECK_INT(skm_begin(db, &bi, &alive), SKM_OK);
	CHECK_INT(skm_begin(db, &bi, &reused), SKM_OK);
	/* as if our pid had been someone else's, started at another time */
	snprintf(sql, sizeof(sql), "UPDATE invocation SET pid_start = "
	    "pid_start - 1 WHERE lower(hex(id)) = replace('%s', '-', '')",
	    skm_inv_id(reused));
	free(unit_sql(p, sql));
	CHECK(unit_sql_int(p, "SELECT count(*) FROM skill_invocation "
	    "WHERE pid_start IS NOT NULL") >= 2);

	CHECK_INT(skm_reap(db, NULL, NULL, NULL, &n), SKM_OK);
	CHECK_INT(n, 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM skill_invocation "
	    "WHERE error_type = 'abandoned' AND completed = 0 AND id IN "
	    "('%s', '%s')", skm_inv_id(gone), skm_inv_id(reused));
	CHECK_INT(unit_sql_int(p, sql), 2);
	CHECK_INT(unit_sql_int(p, "SELECT abandoned_invocations FROM "
	    "skill_metrics"), 2);
	CHECK_INT(unit_sql_int(p, "SELECT json_extract(common_errors, "
	    "'$.abandoned') FROM skill_metrics"), 2);
	/* again: nothing more, counted once */
	CHECK_INT(skm_reap(db, NULL, NULL, NULL, &n), SKM_OK);
	CHECK_INT(n, 0);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics"), 2);
	/* the live one ends normally */
	CHECK_INT(skm_end(alive, NULL), SKM_OK);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_inv_free(gone);
	skm_inv_free(reused);
	skm_close(db);
}

static void
reap_older_than_takes_other_hosts(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "job" };
	struct skm_inv *inv;
	const char *p = unit_path("m.db");
	int n;

	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	skm_inv_free(inv);
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	skm_inv_free(inv);
	free(unit_sql(p, "UPDATE invocation SET host = 'elsewhere', "
	    "invoked_at = 1577836800000 WHERE rowid = 1"));	/* 2020 */
	free(unit_sql(p, "UPDATE invocation SET host = 'elsewhere' "
	    "WHERE rowid = 2"));
	CHECK_INT(skm_reap(db, NULL, NULL, NULL, &n), SKM_OK);
	CHECK_INT(n, 0);
	CHECK_INT(skm_reap(db, "24h", NULL, NULL, &n), SKM_OK);
	CHECK_INT(n, 1);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM invocation "
	    "WHERE ended_at IS NULL AND rowid = 2"), 1);
	CHECK_INT(skm_reap(db, "24x", NULL, NULL, &n), SKM_MISUSE);
	skm_close(db);
}

int
main(void)
{
	RUN(jsonl_import_keeps_unicode_quotes_and_normalises_times);
	RUN(a_bad_record_rejects_the_whole_import);
	RUN(a_missing_duration_comes_from_ended_at);
	RUN(indexes_come_back_after_an_import_into_an_empty_store);
	RUN(an_import_into_an_empty_store_leaves_it_in_wal_mode);
	RUN(csv_import_reads_quotes_newlines_and_nulls);
	RUN(export_import_export_is_byte_identical);
	RUN(export_filters_by_skill_and_since_and_skips_running);
	RUN(backup_makes_a_checked_copy_and_will_not_overwrite);
	RUN(reap_ends_gone_and_reused_pids_once);
	RUN(reap_older_than_takes_other_hosts);
	return unit_done();
}
