#!/usr/bin/env bats
# skm's analytic queries: timeline, search, errors, recent --failed,
# summary's top lists and session, on imported data with fixed times and
# on real runs; and arguments that try SQL injection.

load helpers

bats_require_minimum_version 1.5.0

EVIL="'; DROP TABLE skill_metrics; --"

# inv ID SKILL AT WORKFLOW COMPLETED DURATION [ERROR]: one JSON line.
inv() {
	local err=null
	[ -n "${7:-}" ] && err="\"$7\""
	printf '{"id":"%s","skill_name":"%s","invoked_at":"%s","workflow_path":"%s","completed":%s,"duration_seconds":%s,"error_type":%s,"session_id":"s1"}\n' \
	    "$1" "$2" "$3" "$4" "$5" "$6" "$err"
}

# A day of lint and test runs on 2026-01-05, in UTC.
load_fixture() {
	{
		inv 1 lint 2026-01-05T09:59:59.999Z ci/quick true 1
		inv 2 lint 2026-01-05T10:00:00.000Z ci/quick true 2
		inv 3 lint 2026-01-05T10:59:59.999Z ci/full false 9 exit:1
		inv 4 lint 2026-01-05T13:30:00+02:00 ci/quick true 4
		inv 5 lint 2026-01-05T13:00:00 ci/quick true 6
		inv 6 test 2026-01-05T10:30:00Z nightly false 3 exit:2
		inv 7 test 2026-01-05T10:31:00Z nightly false 3 exit:1
	} >"$BATS_TEST_TMPDIR/fixture.jsonl"
	skm import "$BATS_TEST_TMPDIR/fixture.jsonl" >/dev/null
}

# --- timeline --------------------------------------------------------------

@test "timeline shows hour buckets oldest first, empty ones as zero, and a sparkline" {
	load_fixture
	run -0 skm timeline lint --since 2026-01-05T10:00Z \
	    --until 2026-01-05T13:10Z --bucket hour
	[ "${lines[0]}" = "bucket                invocations  completed   avg" ]
	[ "${lines[1]}" = "2026-01-05T10:00:00Z            2          1  2.0s" ]
	[ "${lines[2]}" = "2026-01-05T11:00:00Z            1          1  4.0s" ]
	[ "${lines[3]}" = "2026-01-05T12:00:00Z            0          0   0ms" ]
	[ "${lines[4]}" = "2026-01-05T13:00:00Z            1          1  6.0s" ]
	[ "${lines[5]}" = "█▅▁▅" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "a bucket boundary belongs to the later bucket" {
	load_fixture
	run -0 skm timeline lint --since 2026-01-05T09:59Z \
	    --until 2026-01-05T10:00:30Z --bucket minute --json
	[ "$output" = '[{"bucket":"2026-01-05T09:59:00Z","invocations":1,"completed":1,"avg_duration_seconds":1.0},{"bucket":"2026-01-05T10:00:00Z","invocations":1,"completed":1,"avg_duration_seconds":2.0}]' ]
}

@test "timeline weeks start on Monday" {
	load_fixture
	run -0 skm timeline lint --since 2026-01-04 --until 2026-01-12 \
	    --bucket week --json
	[ "$output" = '[{"bucket":"2025-12-29T00:00:00Z","invocations":0,"completed":0,"avg_duration_seconds":0.0},{"bucket":"2026-01-05T00:00:00Z","invocations":5,"completed":4,"avg_duration_seconds":3.25},{"bucket":"2026-01-12T00:00:00Z","invocations":0,"completed":0,"avg_duration_seconds":0.0}]' ]
}

@test "timeline defaults to the last 7 days by day, ending today" {
	skm-run -s lint -- true
	run -0 skm timeline lint
	[ "${#lines[@]}" -eq 10 ]	# header, 8 days, sparkline
	[[ "${lines[8]}" == "$(date -u +%Y-%m-%d)T00:00:00Z "*" 1 "* ]]
	[ "${lines[9]}" = "▁▁▁▁▁▁▁█" ]
}

@test "timeline refuses a bad --since, --until or --bucket with exit 2" {
	load_fixture
	run -2 --separate-stderr skm timeline lint --since 7days
	[[ "$stderr" == *"since '7days'"* ]]
	run -2 --separate-stderr skm timeline lint --since 2026-02-30
	[[ "$stderr" == *"no such date"* ]]
	run -2 --separate-stderr skm timeline lint --until tomorrow
	run -2 --separate-stderr skm timeline lint --bucket fortnight
	[[ "$stderr" == *"bad bucket"* ]]
	run -2 --separate-stderr skm timeline lint --since 2001-01-01 --bucket minute
	[[ "$stderr" == *"too many"* ]]
	run -2 --separate-stderr skm timeline
	[[ "$stderr" == *"missing SKILL"* ]]
}

@test "timeline messages name the options with their dashes" {
	load_fixture
	run -2 --separate-stderr skm timeline lint --since 7days
	[[ "$stderr" == "skm: --since '7days'"* ]]
	run -2 --separate-stderr skm timeline lint --until soon
	[[ "$stderr" == "skm: --until 'soon'"* ]]
	run -2 --separate-stderr skm timeline lint --bucket fortnight
	[[ "$stderr" == "skm: --bucket 'fortnight'"* ]]
	run -2 --separate-stderr skm timeline lint --since 2026-01-06 --until 2026-01-05
	[ "$stderr" = "skm: --since is after --until" ]
	run -2 --separate-stderr skm export --since never
	[[ "$stderr" == "skm: --since 'never'"* ]]
	run -2 --separate-stderr skm reap --older-than soon
	[[ "$stderr" == "skm: --older-than 'soon'"* ]]
}

@test "an --until in the future means now: no empty future buckets" {
	skm-run -s lint -- true
	want=$(skm timeline lint --json)
	run -0 skm timeline lint --until 2999-01-01 --json
	[ "$output" = "$want" ]
	run -0 skm timeline lint --until 2999-01-01
	[ "${#lines[@]}" -eq 10 ]	# header, 8 days, sparkline
	[[ "${lines[8]}" == "$(date -u +%Y-%m-%d)T00:00:00Z "* ]]
}

@test "timeline --help says both ends are widened to whole buckets" {
	run -0 skm timeline --help
	[[ "$output" == *"widened"*"to whole buckets"* ]]
	[[ "$output" == *"An --until after now means now."* ]]
}

@test "timeline of an unknown skill exits 1" {
	load_fixture
	run -1 --separate-stderr skm timeline nosuch
	[[ "$stderr" == *"no such skill: nosuch"* ]]
}

# --- search ----------------------------------------------------------------

@test "search groups by skill and workflow path, best match first" {
	load_fixture
	run -0 skm search quick OR nightly
	[ "${lines[0]}" = "skill  workflow  runs   avg" ]
	[ "${lines[1]}" = "test   nightly      2   0ms" ]
	[ "${lines[2]}" = "lint   ci/quick     4  3.2s" ]
	[ "${#lines[@]}" -eq 3 ]
	run -0 skm search --json '"ci/full"'
	[ "$output" = '[{"skill_name":"lint","workflow_path":"ci/full","invocation_count":1,"avg_duration_seconds":0.0}]' ]
	run -0 skm search zebra
	[ "$output" = "no matches" ]
}

@test "a malformed FTS5 query is a usage error, exit 2" {
	load_fixture
	run -2 --separate-stderr skm search 'ci/full'
	[[ "$stderr" == *"bad search query"*"syntax error"* ]]
	run -2 --separate-stderr skm search '"unclosed'
	run -2 --separate-stderr skm search 'nosuchcol:x'
	run -2 --separate-stderr skm search --json 'AND'
	[ -z "$output" ]
	run -2 --separate-stderr skm search ''
	[[ "$stderr" == *"empty search query"* ]]
}

# --- errors, recent --failed, summary, session -----------------------------

@test "errors lists error types with counts and share of runs" {
	load_fixture
	run -0 skm errors
	[ "${lines[0]}" = "error   count  share" ]
	[ "${lines[1]}" = "exit:1      2  28.6%" ]
	[ "${lines[2]}" = "exit:2      1  14.3%" ]
	run -0 skm errors --skill lint --json
	[ "$output" = '[{"error_type":"exit:1","count":1,"error_rate":20.0}]' ]
	run -1 --separate-stderr skm errors --skill nosuch
	[ "$stderr" = "skm: no such skill: nosuch" ]
}

@test "recent --failed shows the failures with their command and error type" {
	skm-run -s lint -- true
	run -4 skm-run -s lint -- sh -c 'exit 4'
	run -1 skm-run -s build -- false
	run -0 skm recent --failed
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == *error*command* ]]
	[[ "${lines[1]}" == *build*exit:1*false ]]
	[[ "${lines[2]}" == *lint*exit:4*"sh -c 'exit 4'" ]]
}

@test "summary prints the top error types and workflow paths" {
	load_fixture
	run -0 skm summary
	[[ "$output" == *"total_invocations:       7"* ]]
	[[ "$output" == *"top error types:"*"exit:1      2  28.6%"* ]]
	[[ "$output" == *"top workflow paths:"*"ci/quick      4  57.1%"* ]]
	[[ "$output" != *"{"* ]]
	run -0 skm summary --json
	[[ "$output" == *'"top_error_types":{"exit:1":2,"exit:2":1}'* ]]
}

@test "session lists the skills a session used; an unknown one exits 1" {
	load_fixture
	run -0 skm session s1
	[ "${lines[0]}" = "skill  runs  first                     last                      total" ]
	[ "${lines[1]}" = "lint      5  2026-01-05T09:59:59.999Z  2026-01-05T13:00:00.000Z  13.0s" ]
	[ "${lines[2]}" = "test      2  2026-01-05T10:30:00.000Z  2026-01-05T10:31:00.000Z    0ms" ]
	run -0 skm session s1 --json
	[[ "$output" == '[{"skill_name":"lint","invocation_count":5,'* ]]
	run -1 --separate-stderr skm session nosuch
	[[ "$stderr" == *"no such session: nosuch"* ]]
}

# --- injection -------------------------------------------------------------

@test "SQL in every argument of every command leaves the store intact" {
	load_fixture
	# Each is refused (2: a bad argument) or finds nothing (1, or 0 and
	# no rows), and none crashes: run -N fails on any other status.
	run -1 skm timeline "$EVIL"
	run -2 skm timeline lint --since "$EVIL"
	run -2 skm timeline lint --until "$EVIL"
	run -2 skm timeline lint --bucket "$EVIL"
	run -2 skm search "$EVIL"
	run -1 skm errors --skill "$EVIL"
	run -0 skm recent --skill "$EVIL"
	[ "${#lines[@]}" -eq 1 ]	# the header only
	run -1 skm show "$EVIL"
	run -1 skm session "$EVIL"
	run -1 skm end-session "$EVIL"
	run -1 skm recompute "$EVIL"
	run -1 skm end "$EVIL"
	run -0 skm export --skill "$EVIL"
	[ -z "$output" ]
	run -2 skm export --since "$EVIL"
	run -2 skm reap --older-than "$EVIL"
	run -1 skm import "$EVIL"
	skm begin --skill "$EVIL" --workflow "$EVIL" --session "$EVIL" >/dev/null
	[ "$(sql "SELECT count(*) FROM sqlite_master WHERE name = 'skill_metrics'")" = 1 ]
	[ "$(sql "SELECT sum(total_invocations) FROM skill_metrics")" = 7 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = '''; DROP TABLE skill_metrics; --'")" = 1 ]
	run -0 skm check
}

@test "help lists the analytic and data commands" {
	run -0 skm --help
	for c in "timeline SKILL" "search QUERY" "errors" "session ID" \
	    "import [FILE | -]" "export" "backup FILE" "reap"; do
		[[ "$output" == *"skm $c"* ]]
	done
}

@test "errors of a skill never recorded exits 1 naming it" {
	run -1 skm-run -s real -- false
	run -1 --separate-stderr skm errors --skill nosuch
	[ "$stderr" = "skm: no such skill: nosuch" ]
	run -1 --separate-stderr skm errors --skill nosuch --json
	run -0 skm errors --skill real
	[[ "$output" == *"exit:1"* ]]
}
