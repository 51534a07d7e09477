/*
 * cmds.c - the table of skm's commands, in the order `skm help` lists
 * them.
 *
 * A row is everything the CLI knows about a command: its synopsis and
 * --help are made from it, cli.c parses its command line against it, and
 * "did you mean" suggests from it.  Every command also takes --help (-h)
 * and the global options (--db) without listing them; CMD_JSON adds
 * --json (-j).  Adding a command: a row here, its handler's prototype in
 * cmd.h, the handler in a runner/cmd-*.c file (see "Adding a command" in
 * docs/ARCHITECTURE.md).
 */
#include <stddef.h>

#include "cmd.h"

const struct cmd cmd_table[] = {
	{ .name = "stats", .run = cmd_stats, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "one row per skill: runs, completion, average and "
	    "p50/p95/p99" },
	{ .name = "show", .run = cmd_show, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "one skill in detail, with its workflow, error and "
	    "follow-up counts",
	  .operands = "SKILL", .min_operands = 1, .max_operands = 1,
	  .opts = CMD_OPTS(
	    OPT("persisted", 0, NULL, "p50/p95/p99 as last stored, not "
		"brought up to date")),
	  .more = "--persisted prints the percentiles the store holds, as "
	    "end-session, recompute,\nan import or a query last stored "
	    "them, even if runs ended since." },
	{ .name = "summary", .run = cmd_summary, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "all skills at a glance, top error types and workflow "
	    "paths",
	  .opts = CMD_OPTS(
	    OPT("top", 'n', "N", "the N most common error types and "
		"workflow paths (default 5)")) },
	{ .name = "recent", .run = cmd_recent, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "the latest invocations (20 unless --limit), or "
	    "failures only",
	  .opts = CMD_OPTS(
	    OPT("skill", 's', "S", "only the invocations of skill S"),
	    OPT("limit", 'n', "N", "at most N invocations (default 20)"),
	    OPT("failed", 0, NULL,
		"only the invocations that did not complete")) },
	{ .name = "timeline", .run = cmd_timeline,
	  .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "runs, completions and average duration per time "
	    "bucket",
	  .operands = "SKILL", .min_operands = 1, .max_operands = 1,
	  .opts = CMD_OPTS(
	    OPT("since", 0, "T", "from time T (ISO 8601, or a duration "
		"ago: 7d)"),
	    OPT("until", 0, "T", "up to time T (default now)"),
	    OPT("bucket", 0, "minute|hour|day|week",
		"the bucket size (default day)")),
	  .more = "The first bucket is the one holding --since (default 7d "
	    "ago), the last the one\nholding --until: both ends are widened "
	    "to whole buckets (days and weeks in\nUTC, weeks from Monday).  "
	    "An --until after now means now." },
	{ .name = "search", .run = cmd_search, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "full-text (FTS5) search over skill names and workflow "
	    "paths",
	  .operands = "QUERY", .min_operands = 1, .max_operands = -1,
	  .opts = CMD_OPTS(
	    OPT("limit", 'n', "N", "at most N matches (default 100)")) },
	{ .name = "errors", .run = cmd_errors, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "error types by count and share of runs",
	  .opts = CMD_OPTS(
	    OPT("skill", 's', "S", "only the errors of skill S"),
	    OPT("limit", 'n', "N", "at most N error types (default all)")) },
	{ .name = "session", .run = cmd_session, .flags = CMD_READ | CMD_JSON | CMD_SERVER,
	  .summary = "the skills a session used",
	  .operands = "ID", .min_operands = 1, .max_operands = 1,
	  .missing = "session ID" },
	{ .name = "trace", .run = cmd_trace, .flags = CMD_READ | CMD_JSON,
	  .summary = "an invocation and every run it started, as a tree with "
	    "the critical path",
	  .operands = "[ID]", .min_operands = 0, .max_operands = 1,
	  .more = "ID may be a unique prefix; without it, the latest run "
	    "that nothing else\nstarted.  '*' marks the critical path: the "
	    "runs the root waited for." },
	{ .name = "report", .run = cmd_report, .flags = CMD_READ,
	  .summary = "one self-contained HTML page of every skill, with "
	    "charts",
	  .opts = CMD_OPTS(
	    OPT("output", 'o', "FILE", "write the page to FILE (default: "
		"stdout)"),
	    OPT("since", 0, "T", "the charts' start (default 30d)"),
	    OPT("bucket", 0, "minute|hour|day|week",
		"the charts' bucket (default: day)")) },
	{ .name = "begin", .run = cmd_begin, .flags = CMD_WRITE | CMD_JSON,
	  .summary = "start an invocation by hand; prints its id",
	  .more = "With --json it prints {\"id\":\"ID\"}." ,
	  .opts = CMD_OPTS(
	    OPT_F("skill", 's', "S", "the skill run", CMD_OPT_REQUIRED),
	    OPT("workflow", 'w', "W", "the workflow path it runs in"),
	    OPT("session", 0, "ID", "the session it belongs to"),
	    OPT("project", 0, "P", "the project directory")) },
	{ .name = "end", .run = cmd_end, .flags = CMD_WRITE,
	  .summary = "end an invocation (--completed unless told otherwise)",
	  .operands = "ID", .min_operands = 1, .max_operands = 1,
	  .opts = CMD_OPTS(
	    OPT("exit", 0, "N", "its exit status: 0 completed, else failed"),
	    OPT("completed", 0, NULL, "it completed (the default)"),
	    OPT("failed", 0, NULL, "it did not complete"),
	    OPT("error-type", 0, "T", "what kind of failure it was"),
	    OPT_F("follow-up", 0, "A", "an action taken after it "
		"(repeatable)", CMD_OPT_MULTI)),
	  .more = "--exit, --completed and --failed exclude each other." },
	{ .name = "end-session", .run = cmd_end_session, .flags = CMD_WRITE,
	  .summary = "store exact min/max/p50/p95/p99 for every skill of a "
	    "session",
	  .operands = "ID", .min_operands = 1, .max_operands = 1,
	  .missing = "session ID" },
	{ .name = "import", .run = cmd_import, .flags = CMD_WRITE,
	  .summary = "add invocations from JSON Lines or CSV (all or "
	    "nothing)",
	  .operands = "[FILE | -]", .min_operands = 0, .max_operands = 1 },
	{ .name = "export", .run = cmd_export, .flags = CMD_READ,
	  .summary = "write ended invocations as JSON Lines, CSV or OTLP/JSON",
	  .opts = CMD_OPTS(
	    OPT("since", 0, "T", "only invocations started from time T"),
	    OPT("skill", 's', "S", "only the invocations of skill S"),
	    OPT("format", 0, "jsonl|csv|otlp-json", "the output format "
		"(default jsonl)"),
	    OPT("spreadsheet-safe", 0, NULL, "CSV: a text field starting "
		"with = + - @ TAB or CR gets a leading ' (not a formula)")),
	  .more = "otlp-json: OpenTelemetry spans, one OTLP/JSON request "
	    "per trace (a root\ninvocation and every run under it)." },
	{ .name = "check", .run = cmd_check,
	  .flags = CMD_READ | CMD_SERVER | CMD_JSON,
	  .summary = "integrity check; aggregates must equal a recompute",
	  .more = "--json: ok, problems, notes and the journal's quarantined "
	    "records, listed." },
	{ .name = "recompute", .run = cmd_recompute, .flags = CMD_WRITE,
	  .summary = "rebuild aggregates (and stored percentiles) from the "
	    "invocations",
	  .operands = "[SKILL]", .min_operands = 0, .max_operands = 1 },
	{ .name = "drain", .run = cmd_drain, .flags = CMD_WRITE,
	  .summary = "fold the runs waiting in the journal into the store now",
	  .opts = CMD_OPTS(
	    OPT("background", 0, NULL, "print nothing (how a recorder or a "
		"query starts a fold in the background)")) },
	{ .name = "reap", .run = cmd_reap, .flags = CMD_WRITE,
	  .summary = "end as 'abandoned' the running invocations whose "
	    "process is gone",
	  .opts = CMD_OPTS(
	    OPT("older-than", 0, "DUR", "also those of other hosts running "
		"longer than DUR (e.g. 24h)")) },
	{ .name = "backup", .run = cmd_backup, .flags = CMD_READ,
	  .summary = "a consistent copy of the store, taken online",
	  .operands = "FILE", .min_operands = 1, .max_operands = 1,
	  .opts = CMD_OPTS(
	    OPT("force", 0, NULL, "replace FILE if it exists")) },
	{ .name = "hooks", .run = cmd_hooks,
	  .summary = "record every run of this git repository's hooks",
	  .operands = "install|uninstall [HOOK]...", .min_operands = 1,
	  .max_operands = -1, .missing = "install or uninstall",
	  .more = "install wraps each HOOK (default: every hook the "
	    "repository has) so that\nits runs are recorded as the skill "
	    "named after it; the hook it replaces\nis kept beside it and "
	    "still runs.  uninstall puts every hook back as it\nwas.  "
	    "Honours core.hooksPath." },
	{ .name = "sync", .run = cmd_sync, .flags = CMD_READ | CMD_JSON,
	  .summary = "push the ended invocations a PostgreSQL server lacks",
	  .opts = CMD_OPTS(
	    OPT("to", 0, "URL", "the server: a libpq connection string or "
		"postgresql:// URI (default --server, else $SKM_SERVER)"),
	    OPT("batch", 0, "N", "invocations per server transaction "
		"(default 20000)")),
	  .more = "Passwords go in ~/.pgpass, PGPASSFILE or a PGSERVICE "
	    "service, never in URL." },
	{ .name = "server", .run = cmd_server,
	  .summary = "create or migrate a PostgreSQL server's skm schema",
	  .operands = "init [URL]", .min_operands = 1, .max_operands = 2,
	  .missing = "action (init)" },
	{ .name = "version", .run = cmd_version,
	  .summary = "print the versions" },
	{ .name = "help", .run = cmd_help, .summary = "this help",
	  .operands = "[COMMAND]", .min_operands = 0, .max_operands = 1 },
	/* For the shell completions (share/): see cmd-complete.c. */
	{ .name = "__complete", .run = cmd_complete,
	  .flags = CMD_HIDDEN | CMD_READ | CMD_SERVER,
	  .summary = "words for shell completion",
	  .operands = "commands | options CMD | operands CMD | skills "
	    "[PREFIX] | hooks", .min_operands = 1, .max_operands = 2 },
};

const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);
