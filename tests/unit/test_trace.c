/*
 * test_trace.c - skm_trace and skm_trace_json: a tree imported with
 * known times comes back depth first with the right offsets and critical
 * path, the JSON nests the same tree, a running run ends with the trace,
 * ids are found by prefix, and a cycle of parent ids ends.
 */
#include "unit.h"

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

/*
 * R (0-10s) started A (1-4) and B (2-9) side by side, then E (9.5-9.7);
 * B started C (3-5) then D (6-8.5).  R waited for E, before it for B;
 * B for D, before it for C.  A ran alongside B: not critical.
 */
static const char tree[] =
    "{\"id\":\"r\",\"skill_name\":\"root\",\"invoked_at\":\"2026-01-05T10:00:00Z\",\"completed\":true,\"duration_seconds\":10}\n"
    "{\"id\":\"a\",\"parent_id\":\"r\",\"skill_name\":\"ka\",\"invoked_at\":\"2026-01-05T10:00:01Z\",\"completed\":true,\"duration_seconds\":3}\n"
    "{\"id\":\"b\",\"parent_id\":\"r\",\"skill_name\":\"kb\",\"invoked_at\":\"2026-01-05T10:00:02Z\",\"completed\":false,\"error_type\":\"exit:2\",\"exit_code\":2,\"duration_seconds\":7}\n"
    "{\"id\":\"c\",\"parent_id\":\"b\",\"skill_name\":\"kc\",\"invoked_at\":\"2026-01-05T10:00:03Z\",\"completed\":true,\"duration_seconds\":2}\n"
    "{\"id\":\"d\",\"parent_id\":\"b\",\"skill_name\":\"kd\",\"invoked_at\":\"2026-01-05T10:00:06Z\",\"completed\":true,\"duration_seconds\":2.5}\n"
    "{\"id\":\"e\",\"parent_id\":\"r\",\"skill_name\":\"ke\",\"invoked_at\":\"2026-01-05T10:00:09.500Z\",\"completed\":true,\"duration_seconds\":0.2}\n"
    "{\"id\":\"x\",\"skill_name\":\"other\",\"invoked_at\":\"2026-01-05T10:00:04Z\",\"completed\":true,\"duration_seconds\":1}\n";

struct seen {
	int n;
	char order[32], critical[32], depth[32], last[32];
	double start[16], end[16], dur[16], span;
	char status[16][16];
	const char *stop_after;
};

static int
see(void *arg, const struct skm_trace_run *r)
{
	struct seen *s = arg;
	char c[2] = { r->skill[1], '\0' };

	if (s->n >= 16)
		return 1;
	strlcat(s->order, c, sizeof(s->order));
	strlcat(s->critical, r->critical ? c : "", sizeof(s->critical));
	strlcat(s->depth, (const char[]){ (char)('0' + r->depth), 0 },
	    sizeof(s->depth));
	strlcat(s->last, r->last ? c : "", sizeof(s->last));
	s->start[s->n] = r->start;
	s->end[s->n] = r->end;
	s->dur[s->n] = r->duration;
	strlcpy(s->status[s->n], r->status, sizeof(s->status[0]));
	s->span = r->span;
	s->n++;
	return s->stop_after != NULL && strcmp(r->skill, s->stop_after) == 0;
}

static void
tree_depth_first_with_offsets_and_critical_path(void)
{
	struct skm_db *db = unit_open("t.db");
	struct seen s = { 0 };

	CHECK_INT(load(db, tree), SKM_OK);
	CHECK_INT(skm_trace(db, "r", see, &s), SKM_OK);
	CHECK_INT(s.n, 6);
	CHECK_STR(s.order, "oabcde");	/* "root" gives 'o' */
	CHECK_STR(s.depth, "011221");
	CHECK_STR(s.critical, "obcde");
	CHECK_STR(s.last, "ode");
	CHECK_NEAR(s.start[0], 0);
	CHECK_NEAR(s.start[2], 2);
	CHECK_NEAR(s.start[4], 6);
	CHECK_NEAR(s.start[5], 9.5);
	CHECK_NEAR(s.end[4], 8.5);
	CHECK_NEAR(s.span, 10);
	CHECK_STR(s.status[2], "failed");
	CHECK_NEAR(s.dur[3], 2);
	/* A subtree: B is a root of its own, offsets from B. */
	memset(&s, 0, sizeof(s));
	CHECK_INT(skm_trace(db, "b", see, &s), SKM_OK);
	CHECK_STR(s.order, "bcd");
	CHECK_STR(s.critical, "bcd");
	CHECK_NEAR(s.start[1], 1);
	CHECK_NEAR(s.span, 7);
	/* The callback stops the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_after = "kb";
	CHECK_INT(skm_trace(db, "r", see, &s), SKM_OK);
	CHECK_STR(s.order, "oab");
	skm_close(db);
}

/* One value of a JSON document, by path, through SQLite. */
static char *
jget(const char *doc, const char *path)
{
	sqlite3 *c;
	sqlite3_stmt *st;
	char *r = NULL;

	sqlite3_open(":memory:", &c);
	if (sqlite3_prepare_v2(c, "SELECT CASE WHEN json_valid(?1) THEN "
	    "json_extract(?1, ?2) ELSE 'invalid' END", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			r = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(c);
	return r != NULL ? r : strdup("(null)");
}

#define CHECK_JSON(doc, path, want) do { char *_v = jget(doc, path); \
	CHECK_STR(_v, want); free(_v); } while (0)

static void
json_nests_the_same_tree(void)
{
	struct skm_db *db = unit_open("t.db");
	char *doc = NULL;

	CHECK_INT(load(db, tree), SKM_OK);
	CHECK_INT(skm_trace_json(db, "r", &doc), SKM_OK);
	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	CHECK_JSON(doc, "$.skill_name", "root");
	CHECK_JSON(doc, "$.critical", "1");
	CHECK_JSON(doc, "$.children[0].skill_name", "ka");
	CHECK_JSON(doc, "$.children[0].critical", "0");
	CHECK_JSON(doc, "$.children[1].status", "failed");
	CHECK_JSON(doc, "$.children[1].error_type", "exit:2");
	CHECK_JSON(doc, "$.children[1].parent_id", "r");
	CHECK_JSON(doc, "$.children[1].children[1].skill_name", "kd");
	CHECK_JSON(doc, "$.children[1].children[1].start_offset_seconds",
	    "6.0");
	CHECK_JSON(doc, "$.children[1].children[1].children", "[]");
	CHECK_JSON(doc, "$.children[2].skill_name", "ke");
	CHECK_JSON(doc, "$.children[3]", "(null)");
	CHECK_JSON(doc, "$.children[2].follow_up_actions", "[]");
	skm_free(doc);
	/* The other root is not part of it; unknown ids are not found. */
	CHECK_INT(skm_trace_json(db, "nope", &doc), SKM_NOTFOUND);
	CHECK(doc == NULL);
	skm_close(db);
}

static void
ids_by_prefix_and_the_latest_root(void)
{
	struct skm_db *db = unit_open("t.db");
	struct seen s = { 0 };
	char *doc = NULL;

	CHECK_INT(load(db, "{\"id\":\"0190aa-1\",\"skill_name\":\"p1\","
	    "\"invoked_at\":\"2026-01-05T10:00:00Z\",\"completed\":true,\"duration_seconds\":1}\n"
	    "{\"id\":\"0190ab-2\",\"skill_name\":\"p2\","
	    "\"invoked_at\":\"2026-01-05T11:00:00Z\",\"completed\":true,\"duration_seconds\":1}\n"
	    "{\"id\":\"0190ab-3\",\"parent_id\":\"0190ab-2\",\"skill_name\":"
	    "\"p3\",\"invoked_at\":\"2026-01-05T12:00:00Z\",\"completed\":"
	    "true,\"duration_seconds\":1}\n"), SKM_OK);
	CHECK_INT(skm_trace(db, "0190aa", see, &s), SKM_OK);
	CHECK_STR(s.order, "1");
	CHECK_INT(skm_trace(db, "0190a", see, &s), SKM_MISUSE);
	CHECK(strstr(skm_errmsg(db), "ambiguous") != NULL);
	CHECK_INT(skm_trace(db, "0190ac", see, &s), SKM_NOTFOUND);
	CHECK_INT(skm_trace(db, "", see, &s), SKM_NOTFOUND);
	/* NULL: the latest run nothing started (p2, not its child p3). */
	CHECK_INT(skm_trace_json(db, NULL, &doc), SKM_OK);
	CHECK_JSON(doc, "$.skill_name", "p2");
	CHECK_JSON(doc, "$.children[0].skill_name", "p3");
	skm_free(doc);
	skm_close(db);
}

static void
a_running_run_ends_with_the_trace(void)
{
	struct skm_db *db = unit_open("t.db");
	struct skm_begin_info bi = { .skill = "rroot" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *root, *kid, *run;
	struct seen s = { 0 };
	char rootid[SKM_ID_LEN + 1];

	unsetenv("SKM_INVOCATION_ID");
	CHECK_INT(skm_begin(db, &bi, &root), SKM_OK);
	strlcpy(rootid, skm_inv_id(root), sizeof(rootid));
	bi.parent_id = rootid;
	bi.skill = "rkid";
	usleep(3000);	/* ordered by start: a millisecond apart at least */
	CHECK_INT(skm_begin(db, &bi, &kid), SKM_OK);
	usleep(3000);
	bi.skill = "rrun";
	CHECK_INT(skm_begin(db, &bi, &run), SKM_OK);
	usleep(20000);
	ei.completed = 1;
	CHECK_INT(skm_end(kid, &ei), SKM_OK);
	/* The root runs: the trace ends now, and so does a running run. */
	CHECK_INT(skm_trace(db, rootid, see, &s), SKM_OK);
	CHECK_STR(s.order, "rkr");
	CHECK_STR(s.status[0], "running");
	CHECK_STR(s.status[1], "completed");
	CHECK_STR(s.status[2], "running");
	CHECK(s.dur[0] < 0 && s.dur[2] < 0);
	CHECK(s.span >= 0.02);
	CHECK_NEAR(s.end[2], s.span);
	/* The root ended: the running run ends where the root did. */
	CHECK_INT(skm_end(root, &ei), SKM_OK);
	memset(&s, 0, sizeof(s));
	CHECK_INT(skm_trace(db, rootid, see, &s), SKM_OK);
	CHECK_STR(s.status[0], "completed");
	CHECK_STR(s.status[2], "running");
	CHECK_NEAR(s.end[2], s.span);
	CHECK_NEAR(s.end[0], s.span);
	skm_inv_free(run);
	skm_close(db);
}

static void
a_cycle_of_parent_ids_ends(void)
{
	struct skm_db *db = unit_open("t.db");
	struct seen s = { 0 };

	CHECK_INT(load(db, "{\"id\":\"c1\",\"parent_id\":\"c2\","
	    "\"skill_name\":\"y1\",\"invoked_at\":\"2026-01-05T10:00:00Z\","
	    "\"completed\":true,\"duration_seconds\":1}\n"
	    "{\"id\":\"c2\",\"parent_id\":\"c1\",\"skill_name\":\"y2\","
	    "\"invoked_at\":\"2026-01-05T10:00:01Z\",\"completed\":true,\"duration_seconds\":1}\n"),
	    SKM_OK);
	CHECK_INT(skm_trace(db, "c1", see, &s), SKM_OK);
	CHECK_STR(s.order, "12");
	skm_close(db);
}

int
main(void)
{
	RUN(tree_depth_first_with_offsets_and_critical_path);
	RUN(json_nests_the_same_tree);
	RUN(ids_by_prefix_and_the_latest_root);
	RUN(a_running_run_ends_with_the_trace);
	RUN(a_cycle_of_parent_ids_ends);
	return unit_done();
}
