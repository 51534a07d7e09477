/*
 * test_hooks.c - begin/end semantics of libskm: what a run leaves in
 * skill_invocation and skill_metrics, exactly-once ends, parent ids from
 * the environment, JSON map keys kept verbatim, and the incremental
 * aggregates equal to a recompute after a random mix of invocations.
 */
#include <math.h>
#include <pthread.h>
#include "unit.h"
#include "skm-int.h"
#include "record.h"

static void
begin_end_counts_one_invocation(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "lint", .workflow = "quick" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	const char *p = unit_path("m.db");
	char *s;

	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	CHECK_INT(strlen(skm_inv_id(inv)), SKM_ID_LEN);
	CHECK(skm_inv_id(inv)[14] == '7');
	/* running: counted nowhere yet */
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation "
	    "WHERE ended_at IS NULL"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_metrics"), 0);
	ei.completed = 1;
	ei.exit_code = 0;
	CHECK_INT(skm_end(inv, &ei), SKM_OK);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics WHERE skill_name = 'lint'"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT completed_invocations FROM "
	    "skill_metrics"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT completion_rate FROM "
	    "skill_metrics"), 100);
	s = unit_sql(p, "SELECT workflow_paths FROM skill_metrics");
	CHECK_STR(s, "{\"quick\":1}");
	free(s);
	s = unit_sql(p, "SELECT source || ' ' || (error_type IS NULL) || ' ' "
	    "|| (duration_seconds >= 0) FROM skill_invocation");
	CHECK_STR(s, "lib 1 1");
	free(s);
	skm_close(db);
}

static void
failed_end_derives_error_type(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "test" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	const char *p = unit_path("m.db");
	char *s;

	skm_begin(db, &bi, &inv);
	ei.exit_code = 3;
	CHECK_INT(skm_end(inv, &ei), SKM_OK);
	skm_begin(db, &bi, &inv);
	ei.exit_code = -1;
	ei.signal = 11;
	CHECK_INT(skm_end(inv, &ei), SKM_OK);
	s = unit_sql(p, "SELECT common_errors FROM skill_metrics");
	CHECK_STR(s, "{\"exit:3\":1,\"signal:SIGSEGV\":1}");
	free(s);
	CHECK_INT(unit_sql_int(p, "SELECT abandoned_invocations FROM "
	    "skill_metrics"), 2);
	CHECK_INT(unit_sql_int(p, "SELECT total_duration_seconds FROM "
	    "skill_metrics"), 0);
	CHECK_INT(unit_sql_int(p, "SELECT avg_duration_seconds FROM "
	    "skill_metrics"), 0);
	skm_close(db);
}

static void
second_end_is_rejected_and_changes_nothing(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "x" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	char id[SKM_ID_LEN + 1];
	const char *p = unit_path("m.db");

	skm_begin(db, &bi, &inv);
	strcpy(id, skm_inv_id(inv));
	ei.completed = 1;
	CHECK_INT(skm_end(inv, &ei), SKM_OK);
	ei.completed = 0;
	CHECK_INT(skm_end_id(db, id, &ei), SKM_ENDED);
	CHECK(strstr(skm_errmsg(db), "already ended") != NULL);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT completed FROM skill_invocation"),
	    1);
	CHECK_INT(skm_end_id(db, "no-such-id", &ei), SKM_NOTFOUND);
	skm_close(db);
}

static void
end_without_start_writes_both(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "late" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;

	CHECK_INT(skm_inv_create(&bi, &inv), SKM_OK);
	ei.completed = 1;
	CHECK_INT(skm_end_in(db, inv, &ei), SKM_OK);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT total_invocations "
	    "FROM skill_metrics WHERE skill_name = 'late'"), 1);
	skm_close(db);
}

static void
parent_id_comes_from_the_environment(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "child" };
	struct skm_inv *inv;
	char *s;

	setenv("SKM_INVOCATION_ID", "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000", 1);
	skm_begin(db, &bi, &inv);
	unsetenv("SKM_INVOCATION_ID");
	skm_end(inv, NULL);
	s = unit_sql(unit_path("m.db"), "SELECT parent_id FROM "
	    "skill_invocation");
	CHECK_STR(s, "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000");
	free(s);
	skm_close(db);
}

static void
map_keys_with_dots_quotes_and_unicode_stay_verbatim(void)
{
	static const char *const keys[] = { "a.b.c", "say \"hi\"", "back\\slash",
	    "ünï ☃", "$.x", "[0]", "" };
	struct skm_db *db = unit_open("m.db");
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	char sql[256], *s;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct skm_begin_info bi = { .skill = "k", .workflow = keys[i] };
		skm_begin(db, &bi, &inv);
		ei.completed = 0;
		ei.error_type = keys[i];
		ei.follow_ups = keys;
		ei.n_follow_ups = sizeof(keys) / sizeof(keys[0]);
		CHECK_INT(skm_end(inv, &ei), SKM_OK);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		sqlite3_snprintf(sizeof(sql), sql, "SELECT count(*) FROM "
		    "skill_metrics, json_each(workflow_paths) e WHERE e.key = "
		    "%Q AND e.value = 1", keys[i]);
		CHECK_INT(unit_sql_int(unit_path("m.db"), sql), 1);
		sqlite3_snprintf(sizeof(sql), sql, "SELECT e.value FROM "
		    "skill_metrics, json_each(follow_up_actions) e WHERE e.key "
		    "= %Q", keys[i]);
		CHECK_INT(unit_sql_int(unit_path("m.db"), sql), 7);
	}
	s = unit_sql(unit_path("m.db"), "SELECT json_valid(common_errors) "
	    "AND json_valid(workflow_paths) FROM skill_metrics");
	CHECK_STR(s, "1");
	free(s);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

static void
duplicate_follow_ups_count_each(void)
{
	static const char *const fu[] = { "git commit", "git commit", "push" };
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "f" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	char *s;

	skm_begin(db, &bi, &inv);
	ei.completed = 1;
	ei.follow_ups = fu;
	ei.n_follow_ups = 3;
	skm_end(inv, &ei);
	skm_begin(db, &bi, &inv);
	ei.n_follow_ups = 1;
	skm_end(inv, &ei);
	s = unit_sql(unit_path("m.db"), "SELECT follow_up_actions FROM "
	    "skill_metrics");
	CHECK_STR(s, "{\"git commit\":3,\"push\":1}");
	free(s);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

/* The reference formula, on a sorted array. */
static double
pct(const double *v, int n, double p)
{
	double k = (n - 1) * p;
	int f = (int)floor(k), c = f + 1 < n ? f + 1 : n - 1;

	return v[f] + (k - f) * (v[c] - v[f]);
}

static void
percentiles_match_hand_computed_values(void)
{
	/* 1..10 seconds: p50 = 5.5, p95 = 9.55, p99 = 9.91 */
	static const double d[] = { 7, 3, 10, 1, 5, 9, 2, 8, 6, 4 };
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "p" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	struct skm_cursor *c;
	struct skm_query_args qa = { .skill = "p" };
	int i;

	for (i = 0; i < 10; i++) {
		skm_begin(db, &bi, &inv);
		ei.completed = 1;
		ei.duration_seconds = d[i];
		skm_end(inv, &ei);
	}
	/* a failed run's duration does not count */
	skm_begin(db, &bi, &inv);
	ei.completed = 0;
	ei.duration_seconds = 1000;
	skm_end(inv, &ei);
	CHECK_INT(skm_query_open(db, SKM_Q_SHOW, &qa, &c), SKM_OK);
	CHECK_INT(skm_cursor_step(c), 1);
	for (i = 0; i < skm_cursor_columns(c); i++) {
		const char *n = skm_cursor_name(c, i);
		double v = skm_cursor_real(c, i);
		if (strcmp(n, "p50_duration_seconds") == 0)
			CHECK_NEAR(v, 5.5);
		else if (strcmp(n, "p95_duration_seconds") == 0)
			CHECK_NEAR(v, 9.55);
		else if (strcmp(n, "p99_duration_seconds") == 0)
			CHECK_NEAR(v, 9.91);
		else if (strcmp(n, "min_duration_seconds") == 0)
			CHECK_NEAR(v, 1);
		else if (strcmp(n, "max_duration_seconds") == 0)
			CHECK_NEAR(v, 10);
		else if (strcmp(n, "avg_duration_seconds") == 0)
			CHECK_NEAR(v, 5.5);
	}
	skm_cursor_close(c);
	/* one value: every percentile is that value */
	bi.skill = "one";
	skm_begin(db, &bi, &inv);
	ei.completed = 1;
	ei.duration_seconds = 0.25;
	skm_end(inv, &ei);
	CHECK_INT(skm_recompute(db, NULL), SKM_OK);
	CHECK_NEAR(unit_sql_real(unit_path("m.db"), "SELECT "
	    "p99_duration_seconds FROM skill_metrics WHERE skill_name='one'"),
	    0.25);
	CHECK_NEAR(unit_sql_real(unit_path("m.db"), "SELECT "
	    "p95_duration_seconds FROM skill_metrics WHERE skill_name='p'"),
	    9.55);
	skm_close(db);
}

static void
random_mix_equals_recompute(void)
{
	static const char *const skills[] = { "a", "b.c", "d\"e", "ü" };
	static const char *const wfs[] = { NULL, "quick", "full.x", "q\"" };
	static const char *const errs[] = { NULL, "exit:1", "E.x", "\\" };
	static const char *const fus[] = { "commit", "push", "a.b" };
	struct skm_db *db = unit_open("m.db");
	struct skm_inv *open[50] = { 0 };
	double durs[4][1000];
	int ndur[4] = { 0 };
	struct skm_cursor *c;
	int i, j, k, total = 0;
	char *before, *after;

	srand(42);
	for (i = 0; i < 1000; i++) {
		j = rand() % 50;
		if (open[j] == NULL) {
			struct skm_begin_info bi = {
				.skill = skills[rand() % 4],
				.workflow = wfs[rand() % 4],
				.session = rand() % 2 ? "s1" : NULL };
			CHECK_INT(skm_begin(db, &bi, &open[j]), SKM_OK);
		} else {
			struct skm_end_info ei = SKM_END_INFO_INIT;
			ei.completed = rand() % 3 != 0;
			ei.error_type = ei.completed ? NULL : errs[rand() % 4];
			ei.duration_seconds = (rand() % 100000) / 1000.0;
			ei.follow_ups = fus;
			ei.n_follow_ups = (size_t)(rand() % 4);
			CHECK_INT(skm_end(open[j], &ei), SKM_OK);
			open[j] = NULL;
			total++;
		}
	}
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT "
	    "sum(total_invocations) FROM skill_metrics"), total);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	before = unit_sql(unit_path("m.db"), "SELECT group_concat(skill_name "
	    "|| total_invocations || completed_invocations || "
	    "round(total_duration_seconds, 6) || min_duration_seconds || "
	    "max_duration_seconds || first_invoked || last_invoked, '|') "
	    "FROM (SELECT * FROM skill_metrics ORDER BY skill_name)");
	CHECK_INT(skm_recompute(db, NULL), SKM_OK);
	after = unit_sql(unit_path("m.db"), "SELECT group_concat(skill_name "
	    "|| total_invocations || completed_invocations || "
	    "round(total_duration_seconds, 6) || min_duration_seconds || "
	    "max_duration_seconds || first_invoked || last_invoked, '|') "
	    "FROM (SELECT * FROM skill_metrics ORDER BY skill_name)");
	CHECK_STR(before, after);
	free(before);
	free(after);
	/* the live percentiles equal the formula on the sorted durations */
	for (k = 0; k < 4; k++) {
		char sql[200];
		struct skm_query_args qa = { .skill = skills[k] };
		sqlite3_snprintf(sizeof(sql), sql, "SELECT group_concat(d) FROM "
		    "(SELECT duration_seconds d FROM skill_invocation WHERE "
		    "skill_name = %Q AND completed = 1 ORDER BY d)", skills[k]);
		char *list = unit_sql(unit_path("m.db"), sql), *tok, *save;
		for (tok = list ? strtok_r(list, ",", &save) : NULL; tok;
		    tok = strtok_r(NULL, ",", &save))
			durs[k][ndur[k]++] = atof(tok);
		free(list);
		if (ndur[k] == 0 ||
		    skm_query_open(db, SKM_Q_SHOW, &qa, &c) != SKM_OK)
			continue;
		skm_cursor_step(c);
		for (i = 0; i < skm_cursor_columns(c); i++) {
			const char *n = skm_cursor_name(c, i);
			if (strcmp(n, "p95_duration_seconds") == 0)
				CHECK(fabs(skm_cursor_real(c, i) -
				    pct(durs[k], ndur[k], 0.95)) < 1e-9);
			if (strcmp(n, "p50_duration_seconds") == 0)
				CHECK(fabs(skm_cursor_real(c, i) -
				    pct(durs[k], ndur[k], 0.5)) < 1e-9);
		}
		skm_cursor_close(c);
	}
	for (j = 0; j < 50; j++)
		skm_inv_free(open[j]);
	skm_close(db);
}

static void
check_finds_a_tampered_aggregate(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "t" };
	struct skm_inv *inv;
	char *s;

	skm_begin(db, &bi, &inv);
	skm_end(inv, NULL);
	s = unit_sql(unit_path("m.db"), "UPDATE skill_metrics SET "
	    "total_invocations = 99 RETURNING 1");
	free(s);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_CHECK);
	CHECK_INT(skm_recompute(db, "t"), SKM_OK);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

static void
end_session_persists_percentiles(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "s", .session = "sess-1" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	int i, n = 0;

	for (i = 1; i <= 3; i++) {
		skm_begin(db, &bi, &inv);
		ei.completed = 1;
		ei.duration_seconds = i;
		skm_end(inv, &ei);
	}
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT "
	    "p50_duration_seconds IS NULL FROM skill_metrics"), 1);
	CHECK_INT(skm_end_session(db, "sess-1", &n), SKM_OK);
	CHECK_INT(n, 1);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT "
	    "p50_duration_seconds FROM skill_metrics"), 2);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT invocation_count "
	    "FROM session_skill WHERE session_id = 'sess-1'"), 3);
	CHECK_INT(skm_end_session(db, "nope", &n), SKM_NOTFOUND);
	skm_close(db);
}

static void
bad_skill_names_are_refused(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "" };
	struct skm_inv *inv;
	char big[SKM_NAME_MAX + 2];

	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	CHECK(inv == NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bi.skill = big;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = NULL;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = "a\x1b[2Jb";
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = "a\xff";
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = "\xc0\xaf";      /* overlong '/' */
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = "\xed\xa0\x80"; /* a surrogate */
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.skill = "ünï ☃ 😀";
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	skm_inv_free(inv);
	skm_close(db);
}

/* An end the fold would quarantine (a duration of 1e308, an exit code
 * of 300) is refused to the caller on either kind of handle: a direct one
 * used to store it (a total of Inf after two), a journaling one to leave
 * the run running with its end in quarantine. */
static void
out_of_range_ends_are_refused_on_both_paths(void)
{
	static const char *const names[] = { "e1.db", "e2.db" };
	struct skm_begin_info bi = { .skill = "big" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_db *db;
	struct skm_inv *inv;
	int k;

	for (k = 0; k < 2; k++) {
		CHECK_INT(skm_open(unit_path(names[k]), k ? SKM_OPEN_DIRECT : 0,
		    &db), SKM_OK);
		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		ei.completed = 1;
		ei.exit_code = 0;
		ei.duration_seconds = 1e308;
		CHECK_INT(skm_end(inv, &ei), SKM_MISUSE);
		CHECK(strstr(skm_errmsg(db), "100 years") != NULL);
		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		ei.duration_seconds = -1;
		ei.exit_code = 300;
		CHECK_INT(skm_end(inv, &ei), SKM_MISUSE);
		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		ei.exit_code = 0;
		ei.duration_seconds = 2.5;
		CHECK_INT(skm_end(inv, &ei), SKM_OK);
		CHECK_INT(skm_drain(db, NULL), SKM_OK);
		skm_close(db);
		CHECK_INT(unit_sql_int(unit_path(names[k]), "SELECT count(*) "
		    "FROM skill_invocation WHERE duration_seconds > 3"), 0);
		CHECK_INT(unit_sql_int(unit_path(names[k]), "SELECT "
		    "total_invocations FROM skill_metrics"), 1);
	}
}

static void
one_mib_fields_are_refused_and_store_unchanged(void)
{
	struct skm_db *db = unit_open("m.db");
	struct skm_begin_info bi = { .skill = "big" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	const char *fu[1];
	char *big = malloc(1 << 20);

	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	bi.workflow = big;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "workflow longer than 4096") != NULL);
	bi.workflow = NULL;
	bi.session = big;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_MISUSE);
	bi.session = NULL;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	ei.error_type = big;
	CHECK_INT(skm_end(inv, &ei), SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "error type longer") != NULL);
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	ei.error_type = NULL;
	fu[0] = big;
	ei.follow_ups = fu;
	ei.n_follow_ups = 1;
	CHECK_INT(skm_end(inv, &ei), SKM_MISUSE);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT count(*) FROM "
	    "skill_metrics"), 0);
	/* a 1 MiB command line is kept cut to SKM_COMMAND_MAX */
	bi.command = big;
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	CHECK_INT(skm_end(inv, NULL), SKM_OK);
	CHECK_INT(unit_sql_int(unit_path("m.db"), "SELECT max(length(command)) "
	    "FROM skill_invocation"), SKM_COMMAND_MAX);
	free(big);
	skm_close(db);
}

/* 8 threads asking at once for the boot id and the host name each get
 * the whole value (the caches used to be filled unsynchronised, the
 * boot id's flag set before its read).  Copied in the thread: the
 * recorders' caches are the thread's own. */
static char ids[8][4][256];
static pthread_barrier_t ids_go;

static void *
ask_ids(void *arg)
{
	char (*out)[256] = arg;

	pthread_barrier_wait(&ids_go);
	snprintf(out[0], 256, "%s", skm__util_boot_id());
	snprintf(out[1], 256, "%s", skm__util_hostname());
	snprintf(out[2], 256, "%s", skm__boot_id());
	snprintf(out[3], 256, "%s", skm__host());
	return NULL;
}

static void
boot_id_and_host_are_whole_from_threads_at_once(void)
{
	char boot[64] = "", host[256];
	pthread_t t[8];
	FILE *f;
	int i, k;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		boot[strcspn(boot, "\n")] = '\0';
		fclose(f);
	}
	CHECK(gethostname(host, sizeof(host)) == 0);
	pthread_barrier_init(&ids_go, NULL, 8);
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, ask_ids, ids[i]);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&ids_go);
	for (i = 0; i < 8; i++)
		for (k = 0; k < 4; k++)
			CHECK_STR(ids[i][k], k % 2 == 0 ? boot : host);
}

int
main(void)
{
	RUN(begin_end_counts_one_invocation);
	RUN(failed_end_derives_error_type);
	RUN(second_end_is_rejected_and_changes_nothing);
	RUN(end_without_start_writes_both);
	RUN(parent_id_comes_from_the_environment);
	RUN(map_keys_with_dots_quotes_and_unicode_stay_verbatim);
	RUN(duplicate_follow_ups_count_each);
	RUN(percentiles_match_hand_computed_values);
	RUN(random_mix_equals_recompute);
	RUN(check_finds_a_tampered_aggregate);
	RUN(end_session_persists_percentiles);
	RUN(bad_skill_names_are_refused);
	RUN(one_mib_fields_are_refused_and_store_unchanged);
	RUN(boot_id_and_host_are_whole_from_threads_at_once);
	RUN(out_of_range_ends_are_refused_on_both_paths);
	return unit_done();
}
