#!/usr/bin/env bats
# skm's maintenance commands: check, recompute and end-session, and what
# skm says when the store itself cannot be used.

load helpers

bats_require_minimum_version 1.5.0

# record SKILL [END-OPTIONS...]: begin and end one invocation of SKILL.
record() {
	local skill=$1 id
	shift
	id=$(skm begin --skill "$skill") || return 1
	skm end "$id" "$@"
}

# corrupt SKILL: make the aggregates of SKILL disagree with its invocations.
corrupt() {
	sqlite3 -batch "$SKM_DB" \
	    "UPDATE skill_metrics SET total_invocations = 99 WHERE skill_name = '$1'"
}

# --- check -----------------------------------------------------------------

@test "check on a new store prints ok and exits 0" {
	new_store
	run -0 skm check
	[ "$output" = ok ]
}

@test "check on a store of consistent invocations prints ok and exits 0" {
	record alpha
	record alpha --exit 1
	record beta --follow-up lint
	run -0 skm check
	[ "$output" = ok ]
}

@test "check after corrupting an aggregate exits 1 naming the skill" {
	record alpha
	record beta
	corrupt alpha
	run -1 --separate-stderr skm check
	[[ "$output" == *alpha* ]]
	[[ "$output" != *beta* ]]
	[[ "$output" != ok ]]
	[[ "$stderr" == *"problem"* ]]
}

@test "check notices a count map that disagrees with the invocations" {
	id=$(skm begin --skill alpha --workflow quick)
	skm end "$id"
	sqlite3 "$SKM_DB" "UPDATE skill_metrics SET workflow_paths = '{\"quick\":5}'"
	run -1 skm check
	[[ "$output" == *alpha* ]]
}

@test "check with an argument is a usage error" {
	run -2 --separate-stderr skm check alpha
	[[ "$stderr" == *"unexpected argument: alpha"* ]]
}

# --- recompute -------------------------------------------------------------

@test "recompute repairs a corrupted aggregate so check passes again" {
	record alpha
	record alpha
	corrupt alpha
	run -0 skm recompute
	[ -z "$output" ]
	[ "$(sql "SELECT total_invocations FROM skill_metrics
	    WHERE skill_name = 'alpha'")" = 2 ]
	run -0 skm check
	[ "$output" = ok ]
}

@test "recompute SKILL repairs only that skill" {
	record alpha
	record beta
	corrupt alpha
	corrupt beta
	run -0 skm recompute alpha
	[ "$(sql "SELECT skill_name, total_invocations FROM skill_metrics
	    ORDER BY skill_name")" = "alpha|1
beta|99" ]
	run -1 skm check
	[[ "$output" == *beta* ]]
	[[ "$output" != *alpha* ]]
}

@test "recompute persists exact percentiles into skill_metrics" {
	record alpha
	record alpha
	record alpha
	[ "$(sql "SELECT quote(p50_duration_seconds) FROM skill_metrics")" = NULL ]
	skm recompute
	[ "$(sql "SELECT p50_duration_seconds = (SELECT duration_seconds
	    FROM skill_invocation ORDER BY duration_seconds LIMIT 1 OFFSET 1)
	    FROM skill_metrics")" = 1 ]
}

@test "recompute with two skills is a usage error" {
	run -2 --separate-stderr skm recompute alpha beta
	[[ "$stderr" == *"unexpected argument: beta"* ]]
}

# --- end-session -----------------------------------------------------------

@test "end-session persists percentiles of the session's skills only" {
	for skill in alpha beta; do
		id=$(skm begin --skill "$skill" --session s1)
		skm end "$id"
	done
	record gamma
	run -0 skm end-session s1
	[ "$output" = "2 skills updated" ]
	[ "$(sql "SELECT skill_name, p50_duration_seconds IS NOT NULL,
	    p99_duration_seconds IS NOT NULL FROM skill_metrics
	    ORDER BY skill_name")" = "alpha|1|1
beta|1|1
gamma|0|0" ]
}

@test "show --persisted prints the percentiles end-session stored, not today's" {
	# Import gives fixed durations: 1, 2 and 3 s in session s1.
	for i in 1 2 3; do
		printf '{"id":"i%s","skill_name":"alpha","invoked_at":"2026-01-05T10:00:0%sZ","completed":true,"duration_seconds":%s,"session_id":"s1"}\n' "$i" "$i" "$i"
	done >"$BATS_TEST_TMPDIR/a.jsonl"
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	skm end-session s1 >/dev/null
	f="$BATS_TEST_TMPDIR/p.json"
	skm show alpha --persisted --json >"$f"
	[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$f'), '\$.p50_duration_seconds')")" = 2.0 ]
	# A shorter run moves the computed p50 (to 1.5 s or just under), not
	# the stored one.
	record alpha
	skm show alpha --persisted --json >"$f"
	[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$f'), '\$.p50_duration_seconds')")" = 2.0 ]
	skm show alpha --json >"$f"
	[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$f'), '\$.p50_duration_seconds') BETWEEN 1.4 AND 1.5")" = 1 ]
	# Same keys as show --json; the table shows them too.
	run -0 skm show alpha --persisted
	[[ "$output" =~ $'\n'p50_duration_seconds:\ +2\.0s$'\n' ]]
	run -1 --separate-stderr skm show nosuch --persisted
	[ "$stderr" = "skm: no such skill: nosuch" ]
}

@test "show --persisted of a skill never persisted shows - for its percentiles" {
	record alpha
	sqlite3 "$SKM_DB" "UPDATE skill_metrics SET p50_duration_seconds = NULL,
	    p95_duration_seconds = NULL, p99_duration_seconds = NULL"
	run -0 skm show alpha --persisted
	[[ "$output" =~ $'\n'p50_duration_seconds:\ +-$'\n' ]]
	[[ "$output" =~ $'\n'p99_duration_seconds:\ +-$'\n' ]]
	run -0 skm show alpha
	[[ ! "$output" =~ $'\n'p50_duration_seconds:\ +-$'\n' ]]
}

@test "end-session counts a skill used twice in the session once" {
	for i in 1 2; do
		id=$(skm begin --skill alpha --session s1)
		skm end "$id"
	done
	run -0 skm end-session s1
	[ "$output" = "1 skill updated" ]
}

@test "end-session of an unknown session exits 1 naming it" {
	run -1 --separate-stderr skm end-session nosuch
	[ "$stderr" = "skm: no such session: nosuch" ]
}

@test "end-session without a session id is a usage error" {
	run -2 --separate-stderr skm end-session
	[[ "$stderr" == *"end-session: missing session ID"* ]]
	[[ "$stderr" == *"usage: skm end-session ID"* ]]
}

# --- the store -------------------------------------------------------------

@test "a query of a missing store exits 1, names it and creates nothing" {
	for cmd in stats "show x" summary recent check "errors" "export"; do
		run -1 --separate-stderr skm --db "$BATS_TEST_TMPDIR/typo.db" $cmd
		[ "$stderr" = "skm: $BATS_TEST_TMPDIR/typo.db: no store here yet: nothing has been recorded (skm-run creates it)" ]
	done
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep typo)" ]
}

@test "the first write creates the store with private permissions" {
	run -0 skm drain
	[ -f "$SKM_DB" ]
	[ "$(stat -c %a "$SKM_DB")" = 600 ]
}

@test "a store path that is a directory is named in the error and exits 1" {
	run -1 --separate-stderr skm --db "$BATS_TEST_TMPDIR" stats
	[ -z "$output" ]
	[[ "$stderr" == "skm: $BATS_TEST_TMPDIR: "?* ]]
	[[ "$stderr" != *"$BATS_TEST_TMPDIR: $BATS_TEST_TMPDIR"* ]]
}

@test "a file that is not an skm store is refused with exit 1 and left alone" {
	printf 'not a database\n' >"$BATS_TEST_TMPDIR/junk"
	run -1 --separate-stderr skm --db "$BATS_TEST_TMPDIR/junk" summary
	[[ "$stderr" == "skm: $BATS_TEST_TMPDIR/junk: "?* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/junk")" = "not a database" ]
}

@test "a store from a newer skm is refused with exit 1" {
	new_store
	sqlite3 "$SKM_DB" "PRAGMA user_version = 9999"
	run -1 --separate-stderr skm stats
	[[ "$stderr" == "skm: $SKM_DB: "?* ]]
}

@test "recompute of a skill that was never recorded exits 1 and names it" {
	run -1 --separate-stderr skm recompute never-seen
	[ "$stderr" = "skm: no such skill: never-seen" ]
}
