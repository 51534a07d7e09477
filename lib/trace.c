/*
 * trace.c - one invocation and every invocation it started, as a tree:
 * `skm trace ID` in the terminal (skm_trace, row by row) and as nested
 * JSON (skm_trace_json).
 *
 * The tree is found by a recursive CTE down parent_id, from the root
 * (depth-first, siblings by start time), and copied into a TEMP table of
 * the connection, skm_trace_run, so that every later step reads the same
 * runs: the whole thing is one read transaction and nothing is written to
 * the store.  What SQL cannot say well is done in C over that small
 * table: each run's start as an offset from the root's, its end (a
 * running run ends at the end of the trace), the pre-order with the
 * "last child" flags the terminal's tree lines need, and the critical
 * path (see mark_critical).  The JSON is then made by SQLite, level by
 * level from the deepest: each run's document is json_object() of its
 * columns with its children's documents in a json_group_array(), so
 * nothing is escaped by hand.
 *
 * There is no index on parent_id: the descent is bounded below by the
 * time index (a run starts after the run that started it; a minute of
 * slack for a clock stepped back), so a recent trace reads only the
 * recent part of the table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skm-int.h"
#include "timeparse.h"

#define TRACE_DEPTH_MAX 64	/* levels below the root that are followed */
#define TRACE_SLACK_MS 60000	/* a child may seem to start before its parent */
#define STR_(x) #x
#define STR(x) STR_(x)

struct run {
	long long start_ms;	/* invoked_at */
	double start, end;	/* seconds after the root's start */
	int running;
	int parent;		/* index, -1 for the root */
	int nkids, *kids;	/* in start order */
	int critical, last, ord, depth;
};

struct tree {
	struct run *r;
	int n;
	double span;		/* seconds from the root's start to the end */
};

/*
 * uuid_prefix - the range of 16-byte ids whose UUID text starts with p:
 * [lo, hi), both nb bytes (hi 17 bytes of 0xff, hi[16] set, when p is
 * all f's: every id above lo).  Returns nb, or 0 when p is no prefix of
 * a lowercase UUID.
 */
static size_t
uuid_prefix(const char *p, unsigned char lo[17], unsigned char hi[17])
{
	size_t nb;
	int k, v, b;

	memset(lo, 0, 17);
	if ((k = skm__util_uuid_nibbles(p, strlen(p), lo)) <= 0)
		return 0;
	nb = (size_t)(k + 1) / 2;
	memcpy(hi, lo, 17);
	/* Add one at the last digit given, carrying to the left. */
	b = (int)nb - 1;
	v = hi[b] + (k % 2 ? 0x10 : 1);
	hi[b] = (unsigned char)v;
	while (v > 0xff && --b >= 0) {
		v = hi[b] + 1;
		hi[b] = (unsigned char)v;
	}
	if (b < 0) {
		memset(hi, 0xff, 17);
		hi[16] = 1;
	}
	return nb;
}

/*
 * find_root - the id of the trace's root: id itself, the one invocation
 * whose id starts with id (a prefix), or with id NULL the latest
 * invocation that no other started.  Copies it into root.
 */
static int
find_root(struct skm_db *db, const char *id, char root[SKM_ID_LEN + 1])
{
	static const char exact_sql[] =
	    "SELECT skm_uuid(id) FROM invocation WHERE id = skm_key(?1)";
	/* Ids kept as text in [?1, ?2), and those kept as 16 bytes in
	 * [?3, ?4) (migration 7). */
	static const char prefix_sql[] =
	    "SELECT skm_uuid(id) FROM invocation WHERE id >= ?1 AND id < ?2 "
	    "UNION ALL SELECT skm_uuid(id) FROM invocation "
	    "WHERE id >= ?3 AND id < ?4 LIMIT 2";
	/* The latest of each skill's, found by skipping through the index
	 * on (skill_name, invoked_at): there is none on the time alone. */
	static const char latest_sql[] =
	    "WITH RECURSIVE s(name) AS (SELECT min(skill_name) FROM invocation "
	    "  UNION ALL SELECT (SELECT min(skill_name) FROM invocation "
	    "  WHERE skill_name > s.name) FROM s WHERE s.name IS NOT NULL) "
	    "SELECT skm_uuid(i.id) FROM s, invocation i "
	    "WHERE s.name IS NOT NULL AND i.rowid = (SELECT rowid "
	    "  FROM invocation WHERE skill_name = s.name AND parent_id IS NULL "
	    "  ORDER BY invoked_at DESC LIMIT 1) "
	    "ORDER BY i.invoked_at DESC, skm_uuid(i.id) DESC LIMIT 1";
	char hi[SKM_ID_LEN + 1];
	unsigned char blo[17], bhi[17];
	sqlite3_stmt *st;
	size_t len, nb;
	int src, n = 0, rc;

	if (id == NULL) {
		if ((rc = skm__store_prepare(db, latest_sql, &st)) != SKM_OK)
			return rc;
	} else {
		if ((rc = skm__store_prepare(db, exact_sql, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			goto found;
		sqlite3_reset(st);
		if (src != SQLITE_DONE)
			return skm__store_sqlfail(db, src, "trace");
		/* A prefix: [id, id with its last byte incremented). */
		len = strlen(id);
		if (len == 0 || len >= sizeof(hi) ||
		    (unsigned char)id[len - 1] >= 0x7f)
			return skm__store_fail(db, SKM_NOTFOUND,
			    "no such invocation: %.80s", id);
		memcpy(hi, id, len + 1);
		hi[len - 1]++;
		if ((rc = skm__store_prepare(db, prefix_sql, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		if ((nb = uuid_prefix(id, blo, bhi)) > 0) {
			sqlite3_bind_blob(st, 3, blo, (int)nb, SQLITE_TRANSIENT);
			sqlite3_bind_blob(st, 4, bhi, bhi[16] ? 17 : (int)nb,
			    SQLITE_TRANSIENT);
		}
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0)
			strlcpy(root, (const char *)sqlite3_column_text(st, 0),
			    SKM_ID_LEN + 1);
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "trace");
	if (n == 0)
		return id == NULL ? skm__store_fail(db, SKM_NOTFOUND,
		    "no invocation recorded yet") : skm__store_fail(db,
		    SKM_NOTFOUND, "no such invocation: %.80s", id);
	if (n > 1)
		return skm__store_fail(db, SKM_MISUSE, "invocation id prefix "
		    "'%.40s' is ambiguous: give more of it", id);
	return SKM_OK;
found:
	strlcpy(root, (const char *)sqlite3_column_text(st, 0),
	    SKM_ID_LEN + 1);
	sqlite3_reset(st);
	return SKM_OK;
}

/* Run sql with a single text parameter (or none when p is NULL). */
static int
exec1(struct skm_db *db, const char *sql, const char *p, long long lo)
{
	sqlite3_stmt *st;
	int src;

	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "trace");
	if (p != NULL)
		sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, lo);	/* ms, as invoked_at is */
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE || src == SQLITE_ROW ? SKM_OK :
	    skm__store_sqlfail(db, src, "trace");
}

/*
 * The runs of the trace: the root (?1) and, level by level, every
 * invocation whose parent is one of them, started no earlier than ?2.
 * The root is never its own descendant (a cycle of parent_ids made up
 * by an import stops there), and the depth is bounded.
 */
static const char collect_sql[] =
    "INSERT INTO temp.skm_trace_run (id, parent, depth) "
    "WITH RECURSIVE t(id, parent, depth) AS ("
    "  SELECT id, NULL, 0 FROM invocation WHERE id = skm_key(?1) "
    "  UNION ALL "
    "  SELECT c.id, t.id, t.depth + 1 FROM t "
    "  JOIN invocation c ON c.parent_id = t.id "
    "  WHERE c.invoked_at >= ?2 AND c.id <> skm_key(?1) "
    "  AND t.depth < " STR(TRACE_DEPTH_MAX) ") "
    "SELECT id, parent, depth FROM t";

static void
tree_free(struct tree *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		free(t->r[i].kids);
	free(t->r);
	t->r = NULL;
	t->n = 0;
}

/* Add child k to run p's children (they arrive in start order). */
static int
add_kid(struct run *p, int k)
{
	int *v = reallocarray(p->kids, (size_t)p->nkids + 1, sizeof(int));

	if (v == NULL)
		return -1;
	p->kids = v;
	p->kids[p->nkids++] = k;
	return 0;
}

/*
 * load - read the runs of the TEMP table into t: rows by depth then
 * start, so a parent always comes before its children and children in
 * start order.  n is the table's rowid (1..N, filled by one INSERT).
 */
static int
load(struct skm_db *db, struct tree *t)
{
	static const char sql[] =
	    "SELECT t.n, p.n, skm_iso(i.invoked_at), skm_iso(i.ended_at), "
	    "i.duration_seconds FROM temp.skm_trace_run t "
	    "JOIN invocation i ON i.id = t.id "
	    "LEFT JOIN temp.skm_trace_run p ON p.id = t.parent "
	    "ORDER BY t.depth, i.invoked_at, skm_uuid(i.id)";
	sqlite3_stmt *st;
	long long n, cap, ms;
	int src, rc = SKM_OK;

	cap = 0;
	src = sqlite3_prepare_v2(db->conn,
	    "SELECT count(*) FROM temp.skm_trace_run", -1, &st, NULL);
	if (src == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		cap = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (cap <= 0 || cap > 10000000)
		return skm__store_fail(db, SKM_ERROR, "trace: %lld runs", cap);
	if ((t->r = calloc((size_t)cap, sizeof(*t->r))) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	t->n = (int)cap;
	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "trace");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct run *r;
		const char *at = (const char *)sqlite3_column_text(st, 2);
		const char *end = (const char *)sqlite3_column_text(st, 3);

		n = sqlite3_column_int64(st, 0);
		if (n < 1 || n > cap) {
			rc = skm__store_fail(db, SKM_ERROR, "trace: bad row %lld", n);
			break;
		}
		r = &t->r[n - 1];
		r->parent = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    (int)sqlite3_column_int64(st, 1) - 1;
		if (at == NULL || skm__tp_parse_iso(at, &r->start_ms, NULL, 0) != 0)
			r->start_ms = 0;
		r->running = end == NULL;
		/* The end, relative to the start for now: the recorded
		 * (monotonic) duration, else the wall-clock difference. */
		if (r->running)
			r->end = -1;
		else if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			r->end = sqlite3_column_double(st, 4);
		else if (skm__tp_parse_iso(end, &ms, NULL, 0) == 0)
			r->end = (double)(ms - r->start_ms) / 1000;
		else
			r->end = 0;
		if (r->end < -1 || isnan(r->end))
			r->end = 0;
		if (r->parent >= 0 && (r->parent >= t->n ||
		    add_kid(&t->r[r->parent], (int)(n - 1)) != 0)) {
			rc = skm__store_fail(db, SKM_NOMEM, "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc == SKM_OK && src != SQLITE_DONE)
		rc = skm__store_sqlfail(db, src, "trace");
	return rc;
}

/*
 * mark_critical - the critical path below run i, whose part up to the
 * time `until` matters: the child that ended last before `until` is
 * what i was waiting for, so it is critical; before that child began,
 * the child that ended last before its start, and so on.  Children that
 * ran alongside a critical one are not.  (Jaeger's critical
 * path, for nested runs.)  The result is the longest chain of runs back
 * to back under the root: make's slowest compile, the steps of a script
 * one after the other.
 */
static void
mark_critical(struct tree *t, int i, double until)
{
	struct run *r = &t->r[i];
	double cursor = r->end < until ? r->end : until;
	int k, best, first = 1;

	r->critical = 1;
	for (;; first = 0) {
		best = -1;
		for (k = 0; k < r->nkids; k++) {
			struct run *c = &t->r[r->kids[k]];

			/* The first may outlast its parent (a clock, a
			 * run left behind); the ones before it must have
			 * ended before the one after them began. */
			if (c->critical || c->start >= cursor ||
			    (!first && c->end > cursor + 0.001))
				continue;
			if (best < 0 || c->end > t->r[best].end ||
			    (c->end == t->r[best].end &&
			    c->start < t->r[best].start))
				best = r->kids[k];
		}
		if (best < 0)
			return;
		mark_critical(t, best, cursor);
		cursor = t->r[best].start;
	}
}

/* Pre-order numbers and "last child" flags, from run i at depth d. */
static int
number(struct tree *t, int i, int d, int ord)
{
	struct run *r = &t->r[i];
	int k;

	r->ord = ord++;
	r->depth = d;
	for (k = 0; k < r->nkids; k++) {
		t->r[r->kids[k]].last = k == r->nkids - 1;
		ord = number(t, r->kids[k], d + 1, ord);
	}
	return ord;
}

/*
 * layout - starts as offsets from the root's, ends, the span, the
 * order and the critical path.  A running run ends when the trace does:
 * now while the root runs, else when the last ended run ended.
 */
static void
layout(struct tree *t)
{
	struct run *root = &t->r[0];
	double span = 0;
	int i;

	for (i = 0; i < t->n; i++) {
		struct run *r = &t->r[i];

		r->start = (double)(r->start_ms - root->start_ms) / 1000;
		if (!r->running) {
			r->end += r->start;
			if (r->end > span)
				span = r->end;
		}
	}
	if (root->running)
		span = (double)(skm__tp_now_ms() - root->start_ms) / 1000;
	for (i = 0; i < t->n; i++) {
		struct run *r = &t->r[i];

		if (r->start > span)
			span = r->start;
	}
	for (i = 0; i < t->n; i++)
		if (t->r[i].running)
			t->r[i].end = span;
	t->span = span;
	number(t, 0, 0, 0);
	t->r[0].last = 1;
	mark_critical(t, 0, span);
}

/* Write what layout() found back into the TEMP table. */
static int
store_layout(struct skm_db *db, const struct tree *t)
{
	static const char sql[] =
	    "UPDATE temp.skm_trace_run SET ord = ?2, start = ?3, critical = ?4, "
	    "last = ?5, depth = ?6 WHERE n = ?1";
	sqlite3_stmt *st;
	int i, src;

	if ((src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL)) !=
	    SQLITE_OK)
		return skm__store_sqlfail(db, src, "trace");
	src = SQLITE_DONE;
	for (i = 0; i < t->n && src == SQLITE_DONE; i++) {
		const struct run *r = &t->r[i];

		sqlite3_bind_int(st, 1, i + 1);
		sqlite3_bind_int(st, 2, r->ord);
		/* milliseconds are what the store keeps */
		sqlite3_bind_double(st, 3, round(r->start * 1000) / 1000);
		sqlite3_bind_int(st, 4, r->critical);
		sqlite3_bind_int(st, 5, r->last);
		sqlite3_bind_int(st, 6, r->depth);
		src = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "trace");
}

/*
 * trace_open - begin a read transaction and fill the TEMP table with the
 * trace of id, laid out.  On SKM_OK the caller reads it and calls
 * trace_close(); on failure everything is already undone.
 */
static int
trace_open(struct skm_db *db, const char *id, struct tree *t)
{
	char root[SKM_ID_LEN + 1];
	long long start_ms = 0;
	sqlite3_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if ((rc = skm__store_exec(db, "BEGIN")) != SKM_OK)
		return rc;
	if ((rc = find_root(db, id, root)) != SKM_OK)
		goto fail;
	if ((rc = skm__store_exec(db, "DROP TABLE IF EXISTS temp.skm_trace_run; "
	    "CREATE TEMP TABLE skm_trace_run (n INTEGER PRIMARY KEY, "
	    "id UNIQUE NOT NULL, parent, depth INTEGER, "
	    "ord INTEGER, start REAL, critical INTEGER, last INTEGER, "
	    "doc TEXT); CREATE INDEX temp.skm_trace_run_parent "
	    "ON skm_trace_run (parent, ord)")) != SKM_OK)
		goto fail;
	if (sqlite3_prepare_v2(db->conn, "SELECT invoked_at FROM "
	    "invocation WHERE id = skm_key(?1)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) == SQLITE_INTEGER)
			start_ms = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if ((rc = exec1(db, collect_sql, root, start_ms - TRACE_SLACK_MS)) !=
	    SKM_OK)
		goto fail;
	if ((rc = load(db, t)) != SKM_OK)
		goto fail;
	layout(t);
	if ((rc = store_layout(db, t)) != SKM_OK)
		goto fail;
	return SKM_OK;
fail:
	tree_free(t);
	sqlite3_exec(db->conn, "DROP TABLE IF EXISTS temp.skm_trace_run",
	    NULL, NULL, NULL);
	sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void
trace_close(struct skm_db *db, struct tree *t)
{
	tree_free(t);
	sqlite3_exec(db->conn, "DROP TABLE IF EXISTS temp.skm_trace_run",
	    NULL, NULL, NULL);
	sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
}

int
skm_trace(struct skm_db *db, const char *id,
    int (*cb)(void *arg, const struct skm_trace_run *run), void *arg)
{
	static const char sql[] =
	    "SELECT skm_uuid(i.id), skm_uuid(i.parent_id), i.skill_name, "
	    "CASE WHEN i.ended_at IS NULL THEN 'running' WHEN i.completed "
	    "THEN 'completed' ELSE 'failed' END, skm_iso(i.invoked_at), "
	    "skm_iso(i.ended_at), "
	    "i.error_type, i.workflow_path, i.host, i.command, "
	    "coalesce(i.exit_code, -1), coalesce(i.signal, 0), t.depth, "
	    "t.last, t.critical, t.start, i.duration_seconds, t.n "
	    "FROM temp.skm_trace_run t JOIN invocation i ON i.id = t.id "
	    "ORDER BY t.ord";
	struct skm_trace_run tr;
	struct tree t;
	sqlite3_stmt *st;
	int rc, src, n;

	if (cb == NULL)
		return skm__store_fail(db, SKM_MISUSE, "trace: no callback");
	if ((rc = trace_open(db, id, &t)) != SKM_OK)
		return rc;
	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = skm__store_sqlfail(db, src, "trace");
		goto done;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&tr, 0, sizeof(tr));
#define TXT(i) ((const char *)sqlite3_column_text(st, (i)))
		tr.id = TXT(0);
		tr.parent_id = TXT(1);
		tr.skill = TXT(2);
		tr.status = TXT(3);
		tr.invoked_at = TXT(4);
		tr.ended_at = TXT(5);
		tr.error_type = TXT(6);
		tr.workflow = TXT(7);
		tr.host = TXT(8);
		tr.command = TXT(9);
#undef TXT
		tr.exit_code = sqlite3_column_int(st, 10);
		tr.signal = sqlite3_column_int(st, 11);
		tr.depth = sqlite3_column_int(st, 12);
		tr.last = sqlite3_column_int(st, 13);
		tr.critical = sqlite3_column_int(st, 14);
		tr.start = sqlite3_column_double(st, 15);
		n = sqlite3_column_int(st, 17) - 1;
		tr.duration = t.r[n].running ? -1 :
		    sqlite3_column_type(st, 16) != SQLITE_NULL ?
		    sqlite3_column_double(st, 16) : t.r[n].end - t.r[n].start;
		tr.end = t.r[n].end;
		tr.span = t.span;
		if (cb(arg, &tr) != 0) {
			src = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		rc = skm__store_sqlfail(db, src, "trace");
done:
	trace_close(db, &t);
	return rc;
}

/*
 * The JSON of one level of the tree, from the deepest up: each run of
 * depth ?1 gets its document, with the documents of its children (made
 * by the previous pass) in order.  The keys are the columns of
 * skill_invocation plus status, start_offset_seconds and critical.
 */
static const char doc_sql[] =
    "UPDATE temp.skm_trace_run AS t SET doc = ("
    "SELECT json_object('id', skm_uuid(i.id), "
    "'parent_id', skm_uuid(i.parent_id), "
    "'skill_name', i.skill_name, 'status', CASE WHEN i.ended_at IS NULL "
    "THEN 'running' WHEN i.completed THEN 'completed' ELSE 'failed' END, "
    "'invoked_at', skm_iso(i.invoked_at), 'ended_at', skm_iso(i.ended_at), "
    "'start_offset_seconds', t.start, "
    "'duration_seconds', i.duration_seconds, "
    "'completed', i.completed, 'error_type', i.error_type, "
    "'exit_code', i.exit_code, 'signal', i.signal, "
    "'workflow_path', i.workflow_path, "
    "'session_id', skm_uuid(i.session_id), "
    "'project_path', i.project_path, "
    "'follow_up_actions', json(i.follow_up_actions), "
    "'host', i.host, 'pid', i.pid, 'command', i.command, "
    "'user_cpu_seconds', i.user_cpu_seconds, "
    "'sys_cpu_seconds', i.sys_cpu_seconds, 'max_rss_kb', i.max_rss_kb, "
    "'source', i.source, "
    "'critical', json(CASE WHEN t.critical THEN 'true' ELSE 'false' END), "
    "'children', (SELECT json_group_array(json(c.doc)) FROM "
    "  (SELECT doc FROM temp.skm_trace_run WHERE parent = t.id "
    "  ORDER BY ord) AS c)) "
    "FROM invocation i WHERE i.id = t.id) WHERE t.depth = ?1";

int
skm_trace_json(struct skm_db *db, const char *id, char **out)
{
	struct tree t;
	sqlite3_stmt *st;
	int rc, src, d, maxd = 0, i;

	if (out == NULL)
		return skm__store_fail(db, SKM_MISUSE, "trace: no output");
	*out = NULL;
	if ((rc = trace_open(db, id, &t)) != SKM_OK)
		return rc;
	for (i = 0; i < t.n; i++)
		if (t.r[i].depth > maxd)
			maxd = t.r[i].depth;
	src = sqlite3_prepare_v2(db->conn, doc_sql, -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = skm__store_sqlfail(db, src, "trace");
		goto done;
	}
	for (d = maxd; d >= 0 && src == SQLITE_OK; d--) {
		sqlite3_bind_int(st, 1, d);
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src == SQLITE_DONE)
			src = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (src != SQLITE_OK) {
		rc = skm__store_sqlfail(db, src, "trace");
		goto done;
	}
	src = sqlite3_prepare_v2(db->conn, "SELECT doc FROM "
	    "temp.skm_trace_run WHERE depth = 0", -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = skm__store_sqlfail(db, src, "trace");
		goto done;
	}
	if ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		if ((*out = sqlite3_mprintf("%s", sqlite3_column_text(st, 0)))
		    == NULL)
			rc = skm__store_fail(db, SKM_NOMEM, "out of memory");
	} else
		rc = skm__store_sqlfail(db, src == SQLITE_ROW ? SQLITE_ERROR : src,
		    "trace");
	sqlite3_finalize(st);
done:
	trace_close(db, &t);
	return rc;
}
