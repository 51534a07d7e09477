/*
 * test_query.c - the analytic queries: the percentile reads answered from
 * their index (asked of SQLite's query planner), timeline buckets at their
 * boundaries with empty ones as zeros, the parsing of --since, search with
 * FTS5 (and its syntax errors as SKM_MISUSE), error shares, and arguments
 * that try SQL injection.
 */
#include "unit.h"
#include "skm-int.h"
#include "timeparse.h"

/* Import JSON Lines text into db. */
static int
load(struct skm_db *db, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc = skm_import(db, f, NULL);

	if (rc != SKM_OK)
		printf("# import: %s\n", skm_errmsg(db));
	fclose(f);
	return rc;
}

/* One invocation as a JSON line. */
static char *
inv(char *buf, size_t size, int n, const char *skill, const char *at,
    const char *wf, int completed, double d, const char *err)
{
	snprintf(buf, size, "{\"id\":\"i%d\",\"skill_name\":\"%s\","
	    "\"invoked_at\":\"%s\",\"workflow_path\":\"%s\",\"completed\":%s,"
	    "\"duration_seconds\":%g,\"error_type\":%s%s%s}\n", n, skill, at,
	    wf, completed ? "true" : "false", d, err ? "\"" : "",
	    err ? err : "null", err ? "\"" : "");
	return buf;
}

/* The query plan of sql, one detail per line. */
static void
plan(const char *db, const char *sql, char *out, size_t size)
{
	sqlite3 *c;
	sqlite3_stmt *st;
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);

	out[0] = '\0';
	sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL);
	if (sqlite3_prepare_v2(c, q, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			strlcat(out, (const char *)sqlite3_column_text(st, 3),
			    size);
			strlcat(out, "\n", size);
		}
		sqlite3_finalize(st);
	} else
		printf("# plan: %s\n", sqlite3_errmsg(c));
	sqlite3_free(q);
	sqlite3_close(c);
}

static void
percentile_reads_use_the_duration_index(void)
{
	struct skm_db *db = unit_open("m.db");
	const char *p = unit_path("m.db");
	char buf[300], pl[1024];
	int i;

	/* Enough rows of several skills that a scan would be tempting. */
	for (i = 0; i < 200; i++)
		CHECK_INT(load(db, inv(buf, sizeof(buf), i, i % 3 ? "a" : "b",
		    "2026-01-05T10:00:00Z", "w", i % 5 != 0, i * 0.5, NULL)),
		    SKM_OK);
	skm_close(db);
	free(unit_sql(p, "ANALYZE"));
	plan(p, skm__query_pct_count_sql, pl, sizeof(pl));
	printf("# count: %s", pl);
	CHECK(strstr(pl, "USING COVERING INDEX invocation_duration") !=
	    NULL);
	CHECK(strstr(pl, "SCAN") == NULL);
	plan(p, skm__query_pct_nth_sql, pl, sizeof(pl));
	printf("# nth: %s", pl);
	CHECK(strstr(pl, "USING COVERING INDEX invocation_duration") !=
	    NULL);
	/* Walked in index order: no sort of the durations. */
	CHECK(strstr(pl, "TEMP B-TREE") == NULL);
	CHECK(strstr(pl, "SCAN") == NULL);
	plan(p, skm__query_pct_nth_desc_sql, pl, sizeof(pl));
	printf("# nth from the top: %s", pl);
	CHECK(strstr(pl, "USING COVERING INDEX invocation_duration") !=
	    NULL);
	CHECK(strstr(pl, "TEMP B-TREE") == NULL);
	CHECK(strstr(pl, "SCAN") == NULL);
}

/* The timeline of skill as "bucket n c avg;" items. */
static char *
timeline(struct skm_db *db, const char *skill, const char *since,
    const char *until, const char *bucket, int *rc)
{
	struct skm_query_args qa = { .skill = skill, .since = since,
	    .until = until, .bucket = bucket };
	struct skm_cursor *c;
	char *out = calloc(1, 8192), line[128];

	if ((*rc = skm_query_open(db, SKM_Q_TIMELINE, &qa, &c)) != SKM_OK)
		return out;
	while (skm_cursor_step(c) == 1) {
		snprintf(line, sizeof(line), "%s %lld %lld %g;",
		    skm_cursor_text(c, 0), skm_cursor_int(c, 1),
		    skm_cursor_int(c, 2), skm_cursor_real(c, 3));
		strlcat(out, line, 8192);
	}
	skm_cursor_close(c);
	return out;
}

static void
timeline_buckets_have_exact_boundaries_and_zeros(void)
{
	struct skm_db *db = unit_open("m.db");
	char b[4096] = "", buf[300];
	char *t;
	int rc;

	strlcat(b, inv(buf, sizeof(buf), 1, "lint", "2026-01-05T09:59:59.999Z",
	    "w", 1, 1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 2, "lint", "2026-01-05T10:00:00.000Z",
	    "w", 1, 2, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 3, "lint", "2026-01-05T10:59:59.999Z",
	    "w", 0, 9, "exit:1"), sizeof(b));
	/* an offset: 13:30 at +02:00 is 11:30 UTC */
	strlcat(b, inv(buf, sizeof(buf), 4, "lint", "2026-01-05T13:30:00+02:00",
	    "w", 1, 4, NULL), sizeof(b));
	/* no zone: UTC */
	strlcat(b, inv(buf, sizeof(buf), 5, "lint", "2026-01-05T13:00:00",
	    "w", 1, 6, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 6, "other", "2026-01-05T10:30:00Z",
	    "w", 1, 6, NULL), sizeof(b));
	CHECK_INT(load(db, b), SKM_OK);

	t = timeline(db, "lint", "2026-01-05T10:00:00Z",
	    "2026-01-05T13:59:00Z", "hour", &rc);
	CHECK_INT(rc, SKM_OK);
	CHECK_STR(t, "2026-01-05T10:00:00Z 2 1 2;"
	    "2026-01-05T11:00:00Z 1 1 4;"
	    "2026-01-05T12:00:00Z 0 0 0;"
	    "2026-01-05T13:00:00Z 1 1 6;");
	free(t);
	/* since inside a bucket: the whole bucket is shown */
	t = timeline(db, "lint", "2026-01-05T10:20:00Z",
	    "2026-01-05T10:30:00Z", "hour", &rc);
	CHECK_STR(t, "2026-01-05T10:00:00Z 2 1 2;");
	free(t);
	t = timeline(db, "lint", "2026-01-05T09:59:00Z",
	    "2026-01-05T10:00:30Z", "minute", &rc);
	CHECK_STR(t, "2026-01-05T09:59:00Z 1 1 1;2026-01-05T10:00:00Z 1 1 2;");
	free(t);
	t = timeline(db, "lint", "2026-01-04", "2026-01-06", "day", &rc);
	CHECK_STR(t, "2026-01-04T00:00:00Z 0 0 0;2026-01-05T00:00:00Z 5 4 3.25;"
	    "2026-01-06T00:00:00Z 0 0 0;");
	free(t);
	/* weeks start on Monday: 2026-01-05 is one, 2026-01-04 a Sunday */
	t = timeline(db, "lint", "2026-01-04", "2026-01-12", "week", &rc);
	CHECK_STR(t, "2025-12-29T00:00:00Z 0 0 0;2026-01-05T00:00:00Z 5 4 3.25;"
	    "2026-01-12T00:00:00Z 0 0 0;");
	free(t);
	skm_close(db);
}

static void
timeline_defaults_to_seven_days_by_day_ending_now(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_inv *v;
	struct skm_begin_info bi = { .skill = "lint" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	char *t;
	int rc, n = 0;
	const char *p;

	CHECK_INT(skm_begin(db, &bi, &v), SKM_OK);
	ei.completed = 1;
	CHECK_INT(skm_end(v, &ei), SKM_OK);
	t = timeline(db, "lint", NULL, NULL, NULL, &rc);
	CHECK_INT(rc, SKM_OK);
	for (p = t; (p = strchr(p, ';')) != NULL; p++)
		n++;
	CHECK_INT(n, 8);	/* the day of 7 days ago through today */
	CHECK(strstr(t, " 1 1 ") != NULL);
	/* the first bucket, 7 days ago, is empty */
	CHECK(strstr(t, " 0 0 0;") != NULL &&
	    strstr(t, " 0 0 0;") + 6 == strchr(t, ';'));
	free(t);
	skm_close(db);
}

static void
timeline_rejects_bad_arguments(void)
{
	struct skm_db *db = unit_open("m.db");
	char buf[300];
	char *t;
	int rc;

	CHECK_INT(load(db, inv(buf, sizeof(buf), 1, "lint",
	    "2026-01-05T10:00:00Z", "w", 1, 1, NULL)), SKM_OK);
	t = timeline(db, "lint", "7x", NULL, NULL, &rc);
	CHECK_INT(rc, SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "unknown unit") != NULL);
	free(t);
	t = timeline(db, "lint", "7d", NULL, "fortnight", &rc);
	CHECK_INT(rc, SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "bad bucket") != NULL);
	free(t);
	t = timeline(db, "lint", "2000-01-01", NULL, "minute", &rc);
	CHECK_INT(rc, SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "too many") != NULL);
	free(t);
	t = timeline(db, "lint", "2026-01-05", "2026-01-04", NULL, &rc);
	CHECK_INT(rc, SKM_MISUSE);
	free(t);
	t = timeline(db, "lint", "9999-01-01", NULL, NULL, &rc);
	CHECK_INT(rc, SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "future") != NULL);
	free(t);
	t = timeline(db, "nosuch", NULL, NULL, NULL, &rc);
	CHECK_INT(rc, SKM_NOTFOUND);
	free(t);
	skm_close(db);
}

static void
since_parser_accepts_durations_and_timestamps(void)
{
	long long now = 1767607200000LL;	/* 2026-01-05T10:00:00Z */
	char iso[TP_ISO_LEN], err[160];
	long long ms, s;

	CHECK_INT(skm__tp_parse_since("30m", now, &ms, iso, err, sizeof(err)), 0);
	CHECK_STR(iso, "2026-01-05T09:30:00.000Z");
	CHECK_INT(skm__tp_parse_since("12h", now, &ms, iso, err, sizeof(err)), 0);
	CHECK_STR(iso, "2026-01-04T22:00:00.000Z");
	CHECK_INT(skm__tp_parse_since("7d", now, &ms, iso, err, sizeof(err)), 0);
	CHECK_STR(iso, "2025-12-29T10:00:00.000Z");
	CHECK_INT(skm__tp_parse_since("4w", now, &ms, iso, err, sizeof(err)), 0);
	CHECK_STR(iso, "2025-12-08T10:00:00.000Z");
	CHECK_INT(skm__tp_parse_since("2026-01-05T08:00:00Z", now, &ms, iso, err,
	    sizeof(err)), 0);
	CHECK_STR(iso, "2026-01-05T08:00:00.000Z");
	CHECK_INT(skm__tp_parse_since("2026-01-05T08:00:00.123456+05:30", now, &ms,
	    iso, err, sizeof(err)), 0);
	CHECK_STR(iso, "2026-01-05T02:30:00.123Z");
	CHECK_INT(skm__tp_parse_since("2026-01-05 08:00-0100", now, &ms, iso, err,
	    sizeof(err)), 0);
	CHECK_STR(iso, "2026-01-05T09:00:00.000Z");
	CHECK_INT(skm__tp_parse_since("2024-02-29", now, &ms, iso, err,
	    sizeof(err)), 0);
	CHECK_STR(iso, "2024-02-29T00:00:00.000Z");
	CHECK_INT(skm__tp_parse_iso("0001-01-01T00:00:00Z", &ms, err, sizeof(err)),
	    0);
	CHECK_INT(skm__tp_format_iso(ms, iso), 0);
	CHECK_STR(iso, "0001-01-01T00:00:00.000Z");

	/* what is refused, never reaching SQL */
	CHECK_INT(skm__tp_parse_since("", now, &ms, iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("7", now, &ms, iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("d", now, &ms, iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("0d", now, &ms, iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("-7d", now, &ms, iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("7 days", now, &ms, iso, err, sizeof(err)),
	    -1);
	CHECK_INT(skm__tp_parse_since("99999999999999999999d", now, &ms, iso, err,
	    sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2023-02-29", now, &ms, iso, err,
	    sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2026-13-01", now, &ms, iso, err,
	    sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2026-01-05T24:00", now, &ms, iso, err,
	    sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2026-01-05T10:00:00Q", now, &ms, iso, err,
	    sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2026-01-05T10:00:00+25:00", now, &ms, iso,
	    err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_since("2026-01-05'; DROP TABLE skill_metrics; --",
	    now, &ms, iso, err, sizeof(err)), -1);
	CHECK(strstr(err, "bad time zone") != NULL);
	CHECK_INT(skm__tp_parse_since("'; DROP TABLE skill_metrics; --", now, &ms,
	    iso, err, sizeof(err)), -1);
	CHECK_INT(skm__tp_parse_duration("24h", &s, err, sizeof(err)), 0);
	CHECK_INT(s, 86400);
}

static void
search_groups_matches_and_rejects_bad_syntax(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_query_args qa = { 0 };
	char b[4096] = "", buf[300], *out;
	int i;

	for (i = 0; i < 3; i++)
		strlcat(b, inv(buf, sizeof(buf), i, "lint", "2026-01-05T10:00Z",
		    "ci/quick", 1, 2, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 10, "lint", "2026-01-05T10:00Z",
	    "ci/full", 1, 8, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 11, "test", "2026-01-05T10:00Z",
	    "nightly", 0, 1, "exit:2"), sizeof(b));
	/* The index holds each (skill, workflow path) pair once, so a
	 * term's rarity is counted in pairs: "quick" is in two of them. */
	strlcat(b, inv(buf, sizeof(buf), 12, "build", "2026-01-05T10:00Z",
	    "ci/quick", 1, 5, NULL), sizeof(b));
	CHECK_INT(load(db, b), SKM_OK);

	qa.text = "ci";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK(strstr(out, "\"workflow_path\":\"ci/quick\","
	    "\"invocation_count\":3,\"avg_duration_seconds\":2.0") != NULL);
	CHECK(strstr(out, "\"workflow_path\":\"ci/full\","
	    "\"invocation_count\":1,\"avg_duration_seconds\":8.0") != NULL);
	CHECK(strstr(out, "nightly") == NULL);
	skm_free(out);
	/* the rarer term ranks first */
	qa.text = "quick OR full";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK(out != NULL && strstr(out, "ci/full") < strstr(out, "ci/quick"));
	skm_free(out);
	qa.text = "test";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"test\",\"workflow_path\":"
	    "\"nightly\",\"invocation_count\":1,\"avg_duration_seconds\":0.0}]");
	skm_free(out);
	qa.text = "nomatch";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_OK);
	CHECK_STR(out, "[]");
	skm_free(out);

	qa.text = "ci/full";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "syntax error") != NULL);
	qa.text = "\"unterminated";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_MISUSE);
	qa.text = "'; DROP TABLE skill_metrics; --";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_MISUSE);
	qa.text = "  ";
	CHECK_INT(skm_query_json(db, SKM_Q_SEARCH, &qa, &out), SKM_MISUSE);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT count(*) FROM skill_metrics"), 3);
	skm_close(db);
}

static void
errors_have_counts_and_shares_of_runs(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_query_args qa = { 0 };
	char b[4096] = "", buf[300], *out;

	strlcat(b, inv(buf, sizeof(buf), 1, "a", "2026-01-05T10:00Z", "w", 0,
	    1, "exit:1"), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 2, "a", "2026-01-05T10:00Z", "w", 0,
	    1, "exit:1"), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 3, "a", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 4, "a", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 5, "b", "2026-01-05T10:00Z", "w", 0,
	    1, "signal:SIGKILL"), sizeof(b));
	CHECK_INT(load(db, b), SKM_OK);
	CHECK_INT(skm_query_json(db, SKM_Q_ERRORS, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"error_type\":\"exit:1\",\"count\":2,"
	    "\"error_rate\":40.0},{\"error_type\":\"signal:SIGKILL\","
	    "\"count\":1,\"error_rate\":20.0}]");
	skm_free(out);
	qa.skill = "a";
	CHECK_INT(skm_query_json(db, SKM_Q_ERRORS, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"error_type\":\"exit:1\",\"count\":2,"
	    "\"error_rate\":50.0}]");
	skm_free(out);
	qa.skill = "'; DROP TABLE skill_metrics; --";
	CHECK_INT(skm_query_json(db, SKM_Q_ERRORS, &qa, &out), SKM_NOTFOUND);
	CHECK(out == NULL);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT count(*) FROM "
	    "skill_metrics"), 2);
	CHECK_INT(skm_query_json(db, SKM_Q_WORKFLOWS, NULL, &out), SKM_OK);
	CHECK_STR(out, "[{\"workflow_path\":\"w\",\"count\":5,"
	    "\"share_rate\":100.0}]");
	skm_free(out);
	skm_close(db);
}

static void
skills_lists_names_by_prefix(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_query_args qa = { 0 };
	char buf[300], b[2000] = "";
	char *out;

	CHECK_INT(skm_query_json(db, SKM_Q_SKILLS, NULL, &out), SKM_OK);
	CHECK_STR(out, "[]");
	skm_free(out);
	strlcat(b, inv(buf, sizeof(buf), 1, "lint", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 2, "lint", "2026-01-05T11:00Z", "w", 0,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 3, "link", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 4, "build", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	strlcat(b, inv(buf, sizeof(buf), 5, "l%_", "2026-01-05T10:00Z", "w", 1,
	    1, NULL), sizeof(b));
	CHECK_INT(load(db, b), SKM_OK);
	CHECK_INT(skm_query_json(db, SKM_Q_SKILLS, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"build\",\"total_invocations\":1,"
	    "\"last_invoked\":\"2026-01-05T10:00:00.000Z\"},"
	    "{\"skill_name\":\"l%_\",\"total_invocations\":1,"
	    "\"last_invoked\":\"2026-01-05T10:00:00.000Z\"},"
	    "{\"skill_name\":\"link\",\"total_invocations\":1,"
	    "\"last_invoked\":\"2026-01-05T10:00:00.000Z\"},"
	    "{\"skill_name\":\"lint\",\"total_invocations\":2,"
	    "\"last_invoked\":\"2026-01-05T11:00:00.000Z\"}]");
	skm_free(out);
	/* a prefix is matched as text, not as a LIKE pattern */
	qa.text = "lin";
	CHECK_INT(skm_query_json(db, SKM_Q_SKILLS, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"link\",\"total_invocations\":1,"
	    "\"last_invoked\":\"2026-01-05T10:00:00.000Z\"},"
	    "{\"skill_name\":\"lint\",\"total_invocations\":2,"
	    "\"last_invoked\":\"2026-01-05T11:00:00.000Z\"}]");
	skm_free(out);
	qa.text = "l%";
	qa.limit = 1;
	CHECK_INT(skm_query_json(db, SKM_Q_SKILLS, &qa, &out), SKM_OK);
	CHECK_STR(out, "[{\"skill_name\":\"l%_\",\"total_invocations\":1,"
	    "\"last_invoked\":\"2026-01-05T10:00:00.000Z\"}]");
	skm_free(out);
	skm_close(db);
}

static void
injection_in_every_argument_leaves_the_store_intact(void)
{
	static const char evil[] = "'; DROP TABLE skill_metrics; --";
	struct skm_db *db = unit_open("m.db");
	struct skm_query_args qa = { .skill = evil, .session = evil,
	    .text = evil, .since = evil, .until = evil, .bucket = evil };
	enum skm_query qs[] = { SKM_Q_STATS, SKM_Q_SHOW, SKM_Q_SUMMARY,
	    SKM_Q_RECENT, SKM_Q_TIMELINE, SKM_Q_SEARCH, SKM_Q_ERRORS,
	    SKM_Q_SESSION, SKM_Q_SHOW_COUNTS, SKM_Q_WORKFLOWS, SKM_Q_SKILLS };
	struct skm_export_args ea = { .since = evil, .skill = evil };
	char buf[300], *out;
	size_t i;
	FILE *f;

	CHECK_INT(load(db, inv(buf, sizeof(buf), 1, "lint",
	    "2026-01-05T10:00:00Z", "w", 1, 1, NULL)), SKM_OK);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		out = NULL;
		skm_query_json(db, qs[i], &qa, &out);
		skm_free(out);
	}
	f = fopen("/dev/null", "w");
	CHECK_INT(skm_export(db, &ea, f, NULL), SKM_MISUSE);
	ea.since = NULL;
	CHECK_INT(skm_export(db, &ea, f, NULL), SKM_OK);
	fclose(f);
	CHECK_INT(skm_reap(db, evil, NULL, NULL, NULL), SKM_MISUSE);
	CHECK_INT(skm_recompute(db, evil), SKM_NOTFOUND);
	CHECK_INT(skm_end_session(db, evil, NULL), SKM_NOTFOUND);
	skm_close(db);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT total_invocations FROM skill_metrics"), 1);
	CHECK_INT(unit_sql_int(unit_path("m.db"),
	    "SELECT count(*) FROM skill_invocation"), 1);
}

static void
problem_count(void *arg, const char *msg)
{
	(void)msg;
	++*(int *)arg;
}

/*
 * The rollups behind search, timeline and the percentiles follow every
 * end; skm_check finds each of them changed behind its back, and
 * skm_recompute puts them right.  A stale percentile is computed, then
 * stored by the next query.
 */
static void
rollups_follow_ends_and_check_finds_them_changed(void)
{
	static const char *const tamper[] = {
		"UPDATE skill_workflow SET invocation_count = 7 "
		"WHERE workflow_path = 'w'",
		"UPDATE skill_timeline SET total_duration_seconds = 1 "
		"WHERE skill_name = 'lint'",
		"DELETE FROM skill_timeline WHERE skill_name = 'b'",
		"UPDATE skill_metrics SET p95_duration_seconds = 0 "
		"WHERE skill_name = 'lint'",
	};
	struct skm_db *db = unit_open("m.db");
	struct skm_query_args qa = { .skill = "lint" };
	struct skm_begin_info bi = { .skill = "lint", .workflow = "w" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *run;
	const char *p = unit_path("m.db");
	char buf[300], *out, *all;
	size_t k;
	int i, n, w = 0;

	/* lint has over 1000 completed runs: its percentiles are worth
	 * storing (refresh_percentiles) */
	all = calloc(1600, 300);
	for (i = 0; i < 1600; i++) {
		strlcat(all, inv(buf, sizeof(buf), i, i % 4 ? "lint" : "b",
		    i % 2 ? "2026-01-05T10:00:00Z" : "2026-01-05T12:30:00Z",
		    i % 3 ? "w" : "v", i % 10 != 0, i % 97, NULL),
		    1600 * 300);
		w += i % 4 && i % 3;
	}
	CHECK_INT(load(db, all), SKM_OK);
	free(all);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	CHECK_INT(unit_sql_int(p, "SELECT sum(invocation_count) FROM "
	    "skill_timeline"), 1600);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_timeline"), 3);
	CHECK_INT(unit_sql_int(p, "SELECT sum(percentiles_valid) FROM "
	    "skill_metrics"), 2);
	/* an end makes its skill's percentiles stale ... */
	ei.completed = 1;
	ei.duration_seconds = 1000;
	CHECK_INT(skm_begin(db, &bi, &run), SKM_OK);
	CHECK_INT(skm_end(run, &ei), SKM_OK);
	CHECK_INT(unit_sql_int(p, "SELECT percentiles_valid FROM "
	    "skill_metrics WHERE skill_name = 'lint'"), 0);
	CHECK_INT(unit_sql_int(p, "SELECT invocation_count FROM "
	    "skill_workflow WHERE skill_name = 'lint' AND workflow_path = "
	    "'w'"), w + 1);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	/* ... the next query computes and stores them */
	CHECK_INT(skm_query_json(db, SKM_Q_SHOW, &qa, &out), SKM_OK);
	CHECK(out != NULL && strstr(out, "\"p99_duration_seconds\":"
	    "1000.0") == NULL && strstr(out, "\"max_duration_seconds\":"
	    "1000.0") != NULL);
	skm_free(out);
	CHECK_INT(unit_sql_int(p, "SELECT percentiles_valid FROM "
	    "skill_metrics WHERE skill_name = 'lint'"), 1);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	for (k = 0; k < sizeof(tamper) / sizeof(tamper[0]); k++) {
		free(unit_sql(p, tamper[k]));
		n = 0;
		CHECK_INT(skm_check(db, problem_count, &n), SKM_CHECK);
		CHECK(n >= 1);
		CHECK_INT(skm_recompute(db, NULL), SKM_OK);
		CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	}
	skm_close(db);
}

int
main(void)
{
	RUN(percentile_reads_use_the_duration_index);
	RUN(timeline_buckets_have_exact_boundaries_and_zeros);
	RUN(timeline_defaults_to_seven_days_by_day_ending_now);
	RUN(timeline_rejects_bad_arguments);
	RUN(since_parser_accepts_durations_and_timestamps);
	RUN(search_groups_matches_and_rejects_bad_syntax);
	RUN(errors_have_counts_and_shares_of_runs);
	RUN(skills_lists_names_by_prefix);
	RUN(injection_in_every_argument_leaves_the_store_intact);
	RUN(rollups_follow_ends_and_check_finds_them_changed);
	return unit_done();
}
