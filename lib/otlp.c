/*
 * otlp.c - `skm export --format otlp-json`: invocations as OpenTelemetry
 * spans, in OTLP/JSON (the protobuf JSON mapping of
 * ExportTraceServiceRequest, with trace and span ids in hex as OTLP
 * requires).
 *
 * One line per trace, each a complete request (resourceSpans →
 * scopeSpans → spans), as the OpenTelemetry Collector's file exporter
 * writes and its otlpjsonfile receiver reads; a single line can be
 * POSTed to a collector's /v1/traces as it is.  A trace is a root
 * invocation and every invocation under it (parent_id): its traceId is
 * the root's UUID without dashes, its spans' spanIds a 64-bit hash of
 * their invocation ids, so exporting twice gives the same ids and a
 * child exported on its own still joins its parent's trace.
 *
 * The document is made by SQLite's JSON functions: json_object() for
 * every object, json_group_array() for the spans of a trace, and
 * json_patch('{}', ...) to leave out what is NULL (a merge patch drops
 * null members).  Three small SQL functions defined here compute the ids
 * and the nanosecond times, in C, from the stored text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "skm-int.h"
#include "timeparse.h"

/* 64-bit FNV-1a of s, after the seed byte: two seeds make 128 bits. */
static uint64_t
hash64(const unsigned char *s, int n, unsigned char seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	h ^= seed;
	h *= 0x100000001b3ULL;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;	/* an all-zero id is invalid */
}

/* The 32 hex digits of a UUID (any case, with its dashes) in out, or 0
 * when s is not one, or is the nil UUID. */
static int
uuid_hex(const unsigned char *s, int n, char out[33])
{
	int i, j = 0, nonzero = 0;

	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
			continue;
		}
		if (!isxdigit(s[i]))
			return 0;
		out[j] = (char)tolower(s[i]);
		nonzero |= out[j++] != '0';
	}
	out[32] = '\0';
	return nonzero;
}

/*
 * skm_otlp_id(id, bytes): the trace id (bytes 16) or span id (bytes 8)
 * of an invocation id, in lower-case hex.  A trace id is the UUID
 * itself; anything else (imported ids) is hashed.
 */
static void
id_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	char out[33];

	(void)argc;
	if (s == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (sqlite3_value_int(argv[1]) == 16) {
		if (!uuid_hex(s, n, out))
			snprintf(out, sizeof(out), "%016llx%016llx",
			    (unsigned long long)hash64(s, n, 't'),
			    (unsigned long long)hash64(s, n, 'u'));
	} else
		snprintf(out, sizeof(out), "%016llx",
		    (unsigned long long)hash64(s, n, 's'));
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/*
 * skm_otlp_ns(invoked_at, duration_seconds, ended_at): nanoseconds
 * since the epoch as decimal text (OTLP's fixed64 in JSON): the start
 * when duration and ended_at are NULL, else the end: the start plus the
 * recorded (monotonic) duration, or ended_at when there is none.
 */
static void
ns_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *at = (const char *)sqlite3_value_text(argv[0]);
	const char *end = (const char *)sqlite3_value_text(argv[2]);
	long long ms, ns, ems;
	char out[32];

	(void)argc;
	if (at == NULL || skm__tp_parse_iso(at, &ms, NULL, 0) != 0 || ms < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	ns = ms * 1000000;
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
		double d = sqlite3_value_double(argv[1]);

		if (d > 0 && d < 1e11)
			ns += (long long)(d * 1e9 + 0.5);
	} else if (end != NULL && skm__tp_parse_iso(end, &ems, NULL, 0) == 0 &&
	    ems >= ms)
		ns = ems * 1000000;
	snprintf(out, sizeof(out), "%lld", ns);
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* An OTLP attribute {key, value: {TYPE: v}}; its value is NULL when v
 * is, so that the filter below drops it. */
#define ATTR(key, type, v) \
	"json_object('key', '" key "', 'value', CASE WHEN " v " IS NOT NULL " \
	"THEN json_object('" type "', " v ") END)"
/* (v.: json_each has columns named id, key, value... of its own) */
#define ATTR_INT(key, v) ATTR(key, "intValue", "CAST(" v " AS TEXT)")

/*
 * One row per trace: its request document.  ?1 skill, ?2 since, ?3 the
 * version.  root: the topmost id up the parent_id chain (an ancestor
 * that was never recorded counts: its descendants share its trace),
 * bounded at 64 levels against a cycle.  Spans in start order, traces
 * by their first span.
 */
static const char otlp_sql[] =
    "WITH s AS (SELECT skm_uuid(i.id) AS id, i.skill_name AS skill_name, "
    "  skm_iso(i.invoked_at) AS invoked_at, skm_iso(i.ended_at) AS ended_at, "
    "  i.workflow_path AS workflow_path, "
    "  skm_uuid(i.session_id) AS session_id, "
    "  i.project_path AS project_path, skm_uuid(i.parent_id) AS parent_id, "
    "  i.completed AS completed, i.duration_seconds AS duration_seconds, "
    "  i.error_type AS error_type, i.exit_code AS exit_code, "
    "  i.signal AS signal, i.follow_up_actions AS follow_up_actions, "
    "  i.command AS command, i.host AS host, i.pid AS pid, "
    "  i.user_cpu_seconds AS user_cpu_seconds, "
    "  i.sys_cpu_seconds AS sys_cpu_seconds, i.max_rss_kb AS max_rss_kb, "
    "  i.source AS source, skm_uuid((WITH RECURSIVE u(a, n) AS ("
    "  SELECT i.parent_id, 1 UNION ALL SELECT p.parent_id, u.n + 1 "
    "  FROM u JOIN invocation p ON p.id = u.a "
    "  WHERE p.parent_id IS NOT NULL AND u.n < 64) "
    "  SELECT coalesce((SELECT a FROM u ORDER BY n DESC LIMIT 1), i.id))) "
    "  AS root FROM invocation i WHERE i.ended_at IS NOT NULL "
    "  AND (?1 IS NULL OR i.skill_name = ?1) "
    "  AND (?2 IS NULL OR i.invoked_at >= skm_ms(?2))), "
    "spans AS (SELECT root, invoked_at, id, json_patch('{}', json_object("
    "  'traceId', skm_otlp_id(root, 16), "
    "  'spanId', skm_otlp_id(id, 8), "
    "  'parentSpanId', skm_otlp_id(parent_id, 8), "
    "  'name', skill_name, "
    "  'kind', 1, "
    "  'startTimeUnixNano', skm_otlp_ns(invoked_at, NULL, NULL), "
    "  'endTimeUnixNano', skm_otlp_ns(invoked_at, duration_seconds, "
    "    ended_at), "
    "  'attributes', (SELECT json_group_array(json(e.value)) FROM "
    "    json_each(json_array("
    ATTR("skm.invocation_id", "stringValue", "v.id") ", "
    ATTR("skm.workflow_path", "stringValue", "v.workflow_path") ", "
    ATTR("error.type", "stringValue", "v.error_type") ", "
    ATTR_INT("process.exit.code", "v.exit_code") ", "
    ATTR_INT("skm.signal", "v.signal") ", "
    ATTR("host.name", "stringValue", "v.host") ", "
    ATTR("process.command_line", "stringValue", "v.command") ", "
    ATTR_INT("process.pid", "v.pid") ", "
    ATTR("skm.session_id", "stringValue", "v.session_id") ", "
    ATTR("skm.project_path", "stringValue", "v.project_path") ", "
    ATTR("skm.source", "stringValue", "v.source") ", "
    ATTR("skm.completed", "boolValue",
	"json(CASE v.completed WHEN 1 THEN 'true' ELSE 'false' END)") ", "
    ATTR("skm.user_cpu_seconds", "doubleValue", "v.user_cpu_seconds") ", "
    ATTR("skm.sys_cpu_seconds", "doubleValue", "v.sys_cpu_seconds") ", "
    ATTR_INT("skm.max_rss_kb", "v.max_rss_kb") ", "
    "    json_object('key', 'skm.follow_up_actions', 'value', "
    "    CASE WHEN json_array_length(v.follow_up_actions) > 0 THEN "
    "    json_object('arrayValue', json_object('values', (SELECT "
    "    json_group_array(json_object('stringValue', f.value)) "
    "    FROM json_each(v.follow_up_actions) f))) END))) e "
    "    WHERE json_extract(e.value, '$.value') IS NOT NULL), "
    "  'status', CASE WHEN completed = 0 THEN json_object('code', 2, "
    "    'message', coalesce(error_type, 'not completed')) END)) AS span "
    "  FROM s AS v ORDER BY root, invoked_at, id) "
    "SELECT json_object('resourceSpans', json_array(json_object("
    "  'resource', json_object('attributes', json_array(json_object("
    "    'key', 'service.name', 'value', json_object('stringValue', "
    "    'skm')))), "
    "  'scopeSpans', json_array(json_object("
    "    'scope', json_object('name', 'skm', 'version', ?3), "
    "    'spans', json_group_array(json(span))))))), count(*) "
    "FROM spans GROUP BY root ORDER BY min(invoked_at), root";

int
skm__export_otlp(struct skm_db *db, const struct skm_export_args *args,
    FILE *out, long long *nrows)
{
	char since[TP_ISO_LEN], err[160];
	sqlite3_stmt *st = NULL;
	long long ms, n = 0;
	int src;

	if (args->since != NULL && skm__tp_parse_since(args->since, skm__tp_now_ms(),
	    &ms, since, err, sizeof(err)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "since %s", err);
	/* SQLITE_BUSY: defined by an earlier export while a statement of
	 * the caller's runs, so not redefined: the same functions. */
	src = sqlite3_create_function(db->conn, "skm_otlp_id", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    id_fn, NULL, NULL);
	if (src == SQLITE_OK || src == SQLITE_BUSY)
		src = sqlite3_create_function(db->conn, "skm_otlp_ns", 3,
		    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
		    NULL, ns_fn, NULL, NULL);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		return skm__store_sqlfail(db, src, "export");
	src = sqlite3_prepare_v2(db->conn, otlp_sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "export");
	if (args->skill != NULL)
		sqlite3_bind_text(st, 1, args->skill, -1, SQLITE_STATIC);
	if (args->since != NULL)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, SKM_VERSION, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		fwrite(sqlite3_column_text(st, 0), 1,
		    (size_t)sqlite3_column_bytes(st, 0), out);
		putc('\n', out);
		n += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "export");
	if (fflush(out) == EOF || ferror(out))
		return skm__store_fail(db, SKM_IOERR, "export: write error: %s",
		    strerror(errno));
	if (nrows != NULL)
		*nrows = n;
	return SKM_OK;
}
