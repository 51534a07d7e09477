#!/usr/bin/env bats
# skm backup (a consistent copy while others write) and skm reap (ending
# the invocations whose process is gone, counted once).

load helpers

bats_require_minimum_version 1.5.0

# A background writer left behind by a failed test must not outlive it.
teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	if [ -n "${loop:-}" ]; then
		kill "$loop" 2>/dev/null || true
		wait "$loop" 2>/dev/null || true
	fi
}

# sqlw QUERY: sql, waiting for a lock as a reader among writers must (the
# last writer to close a store checkpoints it under an exclusive lock).
sqlw() {
	sqlite3 -batch -noheader -cmd ".timeout 5000" "$SKM_DB" "$1"
}

# running SKILL: the number of running invocations of SKILL.
running() {
	skm drain >/dev/null 2>&1 || true
	sqlw "SELECT count(*) FROM skill_invocation WHERE skill_name = '$1' AND ended_at IS NULL"
}

# --- backup ----------------------------------------------------------------

@test "backup makes a copy that passes check and has the same data" {
	skm-run -s lint -w quick -- true
	skm-run -s lint -- false || true
	run -0 skm backup "$BATS_TEST_TMPDIR/copy.db"
	[ -z "$output" ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/copy.db")" = 600 ]
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" run -0 skm check
	[ "$output" = ok ]
	[ "$(SKM_DB="$BATS_TEST_TMPDIR/copy.db" skm export)" = "$(skm export)" ]
}

@test "backup refuses to overwrite a file unless --force" {
	skm-run -s lint -- true
	echo precious >"$BATS_TEST_TMPDIR/copy.db"
	run -1 --separate-stderr skm backup "$BATS_TEST_TMPDIR/copy.db"
	[[ "$stderr" == *"exists (use --force to replace it)"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/copy.db")" = precious ]
	run -0 skm backup --force "$BATS_TEST_TMPDIR/copy.db"
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" run -0 skm check
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep tmp-)" ]
	run -2 --separate-stderr skm backup
	[[ "$stderr" == *"missing FILE"* ]]
}

@test "backup while skm-run keeps writing gives a consistent copy" {
	sh "$TOP/bench/gen-jsonl.sh" 20000 >"$BATS_TEST_TMPDIR/bulk.jsonl"
	skm import "$BATS_TEST_TMPDIR/bulk.jsonl" >/dev/null
	(
		for _ in $(seq 2000); do
			[ -e "$BATS_TEST_TMPDIR/stop" ] && break
			skm-run -q -s bg -w loop -- true
		done
	) >/dev/null 2>&1 3>&- &
	loop=$!
	# let the writers get going
	for _ in $(seq 100); do
		skm drain >/dev/null 2>&1
		[ "$(sqlw "SELECT count(*) FROM skill_invocation WHERE skill_name = 'bg'")" -ge 3 ] && break
		sleep 0.05
	done
	run -0 --separate-stderr skm backup "$BATS_TEST_TMPDIR/copy.db"
	n1=$(sqlw "SELECT count(*) FROM skill_invocation WHERE skill_name = 'bg'")
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$loop"
	[ "$n1" -ge 3 ]
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" run -0 skm check
	[ "$output" = ok ]
	[ "$(SKM_DB="$BATS_TEST_TMPDIR/copy.db" sqlw "SELECT count(*) FROM skill_invocation WHERE skill_name <> 'bg'")" = 20000 ]
	run -0 skm check
}

# --- reap ------------------------------------------------------------------

@test "reap ends a kill -9'd skm-run as abandoned once its command is gone, counted once" {
	skm-run -s job -w w -- sleep 300 3>&- &
	wrapper=$!
	for _ in $(seq 200); do
		[ "$(running job)" = 1 ] && break
		sleep 0.05
	done
	[ "$(running job)" = 1 ]
	child=$(ps -o pid= --ppid "$wrapper" | tr -d ' ')
	[ -n "$child" ]
	kill -9 "$wrapper"
	wait "$wrapper" || true
	# the command still runs: the run is not abandoned yet
	run -0 skm reap
	[ "$output" = "0 invocations reaped" ]
	[ "$(running job)" = 1 ]
	kill "$child"
	for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
	run -0 skm reap
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "abandoned "*" job" ]]
	[ "${lines[1]}" = "1 invocation reaped" ]
	[ "$(running job)" = 0 ]
	[ "$(sqlw "SELECT completed || ' ' || error_type || ' ' || (ended_at IS NOT NULL) FROM skill_invocation WHERE skill_name = 'job'")" = "0 abandoned 1" ]
	[ "$(sqlw "SELECT total_invocations || ' ' || abandoned_invocations || ' ' || common_errors FROM skill_metrics WHERE skill_name = 'job'")" = '1 1 {"abandoned":1}' ]
	run -0 skm reap
	[ "$output" = "0 invocations reaped" ]
	[ "$(sqlw "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'job'")" = 1 ]
	run -0 skm check
}

@test "reap leaves running invocations whose process lives alone" {
	skm-run -s live -- sleep 300 3>&- &
	wrapper=$!
	for _ in $(seq 200); do
		[ "$(running live)" = 1 ] && break
		sleep 0.05
	done
	skm begin --skill manual >/dev/null	# watched: this shell
	run -0 skm reap
	[ "$output" = "0 invocations reaped" ]
	[ "$(running live)" = 1 ]
	[ "$(running manual)" = 1 ]
	kill -TERM "$wrapper"
	wait "$wrapper" || true
	[ "$(running live)" = 0 ]
	[ "$(sqlw "SELECT error_type FROM skill_invocation WHERE skill_name = 'live'")" = signal:SIGTERM ]
}

@test "reap treats a reused pid as gone by its start time" {
	id=$(skm begin --skill reused)
	# as if this shell's pid had belonged to a process started earlier
	sqlw "UPDATE invocation SET pid_start = pid_start - 1 WHERE lower(hex(id)) = replace('$id', '-', '')"
	run -0 skm reap
	[ "${lines[0]}" = "abandoned $id reused" ]
}

@test "reap --older-than also takes old invocations of other hosts" {
	skm begin --skill far >/dev/null
	skm begin --skill far >/dev/null
	sqlw "UPDATE invocation SET host = 'elsewhere'"
	sqlw "UPDATE invocation SET invoked_at = 1577836800000 WHERE rowid = 1"	# 2020-01-01
	run -0 skm reap
	[ "$output" = "0 invocations reaped" ]
	run -0 skm reap --older-than 24h
	[ "${lines[1]}" = "1 invocation reaped" ]
	[ "$(running far)" = 1 ]
	run -2 --separate-stderr skm reap --older-than soon
	[[ "$stderr" == *"older-than 'soon'"* ]]
}
