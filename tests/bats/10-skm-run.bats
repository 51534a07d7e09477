#!/usr/bin/env bats
# skm-run: exit status, signals, pass-through of the command's I/O, what
# is recorded, and that a broken store never gets in the command's way.

load helpers

bats_require_minimum_version 1.5.0

# inv COLUMNS: those columns of the one invocation in the store.
inv() {
	sql "SELECT $1 FROM skill_invocation"
}

# --- exit status -----------------------------------------------------------

@test "exit status 0 is passed through and recorded as completed" {
	run skm-run --skill t -- true
	[ "$status" -eq 0 ]
	[ "$(inv "completed, exit_code, quote(error_type)")" = "1|0|NULL" ]
}

@test "exit status 1 is passed through and recorded as exit:1" {
	run skm-run --skill t -- false
	[ "$status" -eq 1 ]
	[ "$(inv "completed, exit_code, error_type")" = "0|1|exit:1" ]
}

@test "exit status 3 is passed through and recorded as exit:3" {
	run skm-run -s t -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	[ "$(inv "completed, exit_code, error_type")" = "0|3|exit:3" ]
}

@test "exit status 255 is passed through and recorded as exit:255" {
	run skm-run -s t -- sh -c 'exit 255'
	[ "$status" -eq 255 ]
	[ "$(inv "completed, exit_code, error_type")" = "0|255|exit:255" ]
}

@test "skill_metrics counts every run and the completed ones" {
	skm-run -s t -- true
	run skm-run -s t -- false
	skm-run -s t -- true
	[ "$(sql "SELECT total_invocations, completed_invocations,
	    abandoned_invocations FROM skill_metrics WHERE skill_name = 't'")" = "3|2|1" ]
}

# --- signals ---------------------------------------------------------------

@test "a command killed by SIGTERM makes skm-run exit 143 and records signal:SIGTERM" {
	run skm-run -s t -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	[ "$(inv "completed, signal, error_type")" = "0|15|signal:SIGTERM" ]
}

@test "a real-time signal is recorded by the name kill -l gives it" {
	local lo=$(kill -l RTMIN) hi=$(kill -l RTMAX)
	run skm-run -s t -- sh -c "kill -$((lo + 3)) \$\$"
	[ "$status" -eq $((128 + lo + 3)) ]
	run skm-run -s t -- sh -c "kill -$((hi - 2)) \$\$"
	[ "$status" -eq $((128 + hi - 2)) ]
	run skm-run -s t -- sh -c "kill -$lo \$\$"
	[ "$(sql "SELECT group_concat(error_type, ' ') FROM (SELECT error_type FROM invocation ORDER BY rowid)")" = \
	    "signal:SIG$(kill -l $((lo + 3))) signal:SIG$(kill -l $((hi - 2))) signal:SIGRTMIN" ]
}

@test "a command killed by SIGSEGV makes skm-run exit 139 and records signal:SIGSEGV" {
	cd "$BATS_TEST_TMPDIR"
	run sh -c 'ulimit -c 0; exec skm-run -s t -- sh -c "kill -SEGV \$\$"'
	[ "$status" -eq 139 ]
	[ "$(inv "completed, signal, error_type")" = "0|11|signal:SIGSEGV" ]
}

@test "skm-run dies of the command's signal itself, without a core dump" {
	cd "$BATS_TEST_TMPDIR"
	# bash reports a child killed by SIGSEGV, and whether it dumped core;
	# an skm-run that merely exited 139 would draw no report.
	run bash -c 'ulimit -c unlimited 2>/dev/null
	    skm-run -s t -- sh -c "ulimit -c 0; kill -SEGV \$\$"; echo "status $?"'
	[[ "$output" == *"Segmentation fault"* ]]
	[[ "$output" != *"core dumped"* ]]
	[[ "$output" == *"status 139" ]]
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep '^core')" ]
}

@test "a missing command exits 127 and is recorded as exec:ENOENT" {
	run -127 --separate-stderr skm-run -s t -- "$BATS_TEST_TMPDIR/no-such-command"
	[[ "$stderr" == *no-such-command* ]]
	[ "$(inv "completed, exit_code, error_type")" = "0|127|exec:ENOENT" ]
}

@test "a command not found on PATH exits 127" {
	run -127 skm-run -s t -- skm-no-such-command-anywhere
	[ "$(inv "error_type")" = "exec:ENOENT" ]
}

@test "a file that is not executable exits 126 and is recorded as exec:EACCES" {
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/script"
	chmod 644 "$BATS_TEST_TMPDIR/script"
	run -126 skm-run -s t -- "$BATS_TEST_TMPDIR/script"
	[ "$(inv "completed, exit_code, error_type")" = "0|126|exec:EACCES" ]
}

@test "SIGTERM sent to skm-run reaches the command" {
	cd "$BATS_TEST_TMPDIR"
	skm-run -s t -- sh -c 'trap "echo got-term >caught; exit 7" TERM
	    touch ready; while :; do sleep 0.05; done' &
	pid=$!
	for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
	[ -e ready ]
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 7 ]
	[ "$(cat caught)" = got-term ]
	[ "$(inv "exit_code, error_type")" = "7|exit:7" ]
}

@test "SIGUSR1 sent to skm-run reaches the command" {
	cd "$BATS_TEST_TMPDIR"
	skm-run -s t -- sh -c 'trap "exit 9" USR1
	    touch ready; while :; do sleep 0.05; done' &
	pid=$!
	for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
	kill -USR1 "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 9 ]
}

@test "SIGINT sent to skm-run alone reaches the command, which dies of it" {
	cd "$BATS_TEST_TMPDIR"
	# A background job of a script starts with SIGINT ignored; undo that,
	# or this test could not fail.
	env --default-signal=INT skm-run -s t -- sh -c 'touch ready
	    while [ ! -e go ]; do sleep 0.05; done' &
	pid=$!
	for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
	[ -e ready ]
	kill -INT "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	[ "$(inv error_type)" = "signal:SIGINT" ]
}

@test "the command gets SIGINT's default action even though skm-run ignores it" {
	run env --default-signal=INT skm-run -s t -- sh -c 'kill -INT $$; exit 0'
	[ "$status" -eq 130 ]
	[ "$(inv error_type)" = "signal:SIGINT" ]
}

@test "the command starts with the signal dispositions and mask skm-run got" {
	want=$(grep -E '^Sig(Ign|Blk)' /proc/self/status)
	got=$(skm-run -s t -- grep -E '^Sig(Ign|Blk)' /proc/self/status)
	[ "$got" = "$want" ]
}

# --- input and output --------------------------------------------------------

@test "stdin and stdout pass through byte for byte" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	skm-run -s t -- cat <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "stderr passes through byte for byte" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	skm-run -s t -- sh -c 'cat >&2' <"$BATS_TEST_TMPDIR/in" \
	    2>"$BATS_TEST_TMPDIR/err" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "the command inherits no file descriptor of skm-run's" {
	want=$(ls /proc/self/fd)
	got=$(skm-run -s t -- ls /proc/self/fd)
	[ "$got" = "$want" ]
}

@test "skm-run adds nothing to the output when recording works" {
	run --separate-stderr skm-run -s t -- echo hello
	[ "$output" = hello ]
	[ -z "$stderr" ]
}

# --- what is recorded ----------------------------------------------------------

@test "the invocation is recorded with source run" {
	skm-run -s mine -- true
	[ "$(inv "skill_name, source")" = "mine|run" ]
}

@test "the command sees its invocation id in SKM_INVOCATION_ID" {
	id=$(skm-run -s t -- sh -c 'echo "$SKM_INVOCATION_ID"')
	[ ${#id} -eq 36 ]
	[ "$(inv id)" = "$id" ]
}

@test "the begin is recorded while the command runs" {
	run skm-run -s t -- sh -c '
	    for _ in $(seq 100); do
	        skm drain >/dev/null 2>&1
	        n=$(sqlite3 "$SKM_DB" "SELECT count(*) FROM skill_invocation
	            WHERE id = '\''$SKM_INVOCATION_ID'\'' AND ended_at IS NULL" 2>/dev/null)
	        [ "$n" = 1 ] && exit 0
	        sleep 0.05
	    done
	    exit 1'
	[ "$status" -eq 0 ]
	[ "$(inv "quote(ended_at) != 'NULL'")" = 1 ]
}

@test "a nested skm-run records the outer invocation as its parent" {
	skm-run -s outer -- skm-run -s inner -- true
	outer=$(sql "SELECT id FROM skill_invocation WHERE skill_name = 'outer'")
	[ -n "$outer" ]
	[ "$(sql "SELECT parent_id FROM skill_invocation WHERE skill_name = 'inner'")" = "$outer" ]
	[ "$(sql "SELECT quote(parent_id) FROM skill_invocation WHERE skill_name = 'outer'")" = NULL ]
}

@test "an SKM_INVOCATION_ID from the environment is recorded as the parent" {
	SKM_INVOCATION_ID=01234567-89ab-7def-8123-456789abcdef skm-run -s t -- true
	[ "$(inv parent_id)" = 01234567-89ab-7def-8123-456789abcdef ]
}

@test "the command line is stored shell-quoted" {
	skm-run -s t -- printf '%s\n' 'a b' "it's" plain-1.2/x@y:z '' >/dev/null
	[ "$(inv command)" = "printf '%s\n' 'a b' 'it'\\''s' plain-1.2/x@y:z ''" ]
}

@test "--no-command stores no command line" {
	skm-run -s t --no-command -- echo secret >/dev/null
	[ "$(inv "quote(command)")" = NULL ]
}

@test "the command's CPU time and peak RSS are recorded" {
	skm-run -s t -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	[ "$(inv "user_cpu_seconds IS NOT NULL AND sys_cpu_seconds IS NOT NULL")" = 1 ]
	[ "$(inv "max_rss_kb > 0")" = 1 ]
}

@test "the duration covers the command's run" {
	skm-run -s t -- sleep 0.3
	[ "$(inv "duration_seconds >= 0.3 AND duration_seconds < 10")" = 1 ]
}

@test "the host and the command's own pid are recorded" {
	pid=$(skm-run -s t -- sh -c 'echo $$')
	[ "$(inv host)" = "$(uname -n)" ]
	[ "$(inv pid)" = "$pid" ]
}

@test "workflow, session, project and follow-ups are recorded" {
	skm-run -s t -w ci/full --session s-1 --project /some/where \
	    -f push --follow-up 'open pr' -f push -- true
	[ "$(inv "workflow_path, session_id, project_path")" = "ci/full|s-1|/some/where" ]
	[ "$(inv "json(follow_up_actions)")" = '["push","open pr","push"]' ]
}

@test "options default to SKM_SKILL, SKM_WORKFLOW, SKM_SESSION and SKM_PROJECT" {
	SKM_SKILL=envskill SKM_WORKFLOW=quick SKM_SESSION=sess SKM_PROJECT=/p \
	    skm-run -- true
	[ "$(inv "skill_name, workflow_path, session_id, project_path")" = "envskill|quick|sess|/p" ]
}

@test "command-line options override the environment" {
	SKM_SKILL=envskill SKM_WORKFLOW=quick skm-run -s optskill -w full -- true
	[ "$(inv "skill_name, workflow_path")" = "optskill|full" ]
}

@test "--db chooses the store over SKM_DB" {
	skm-run -s t --db "$BATS_TEST_TMPDIR/other.db" -- true
	[ ! -e "$SKM_DB" ]
	[ "$(SKM_DB="$BATS_TEST_TMPDIR/other.db" sql "SELECT skill_name FROM skill_invocation")" = t ]
}

@test "the project defaults to the nearest directory upward holding .git" {
	mkdir -p "$BATS_TEST_TMPDIR/repo/.git" "$BATS_TEST_TMPDIR/repo/a/b"
	top=$(cd "$BATS_TEST_TMPDIR/repo" && pwd -P)
	cd "$BATS_TEST_TMPDIR/repo/a/b"
	skm-run -s t -- true
	[ "$(inv project_path)" = "$top" ]
}

@test "a .git file (worktree) also marks the project" {
	mkdir -p "$BATS_TEST_TMPDIR/wt/sub"
	echo "gitdir: /elsewhere" >"$BATS_TEST_TMPDIR/wt/.git"
	top=$(cd "$BATS_TEST_TMPDIR/wt" && pwd -P)
	cd "$BATS_TEST_TMPDIR/wt/sub"
	skm-run -s t -- true
	[ "$(inv project_path)" = "$top" ]
}

@test "without a .git upward the project is the working directory" {
	mkdir -p "$BATS_TEST_TMPDIR/plain/dir"
	cd "$BATS_TEST_TMPDIR/plain/dir"
	here=$(pwd -P)
	d=$here
	while :; do
		[ -e "$d/.git" ] && skip "a .git above $BATS_TEST_TMPDIR"
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
	skm-run -s t -- true
	[ "$(inv project_path)" = "$here" ]
}

@test "options after the command belong to the command" {
	run skm-run -s t echo -s x --quiet
	[ "$status" -eq 0 ]
	[ "$output" = "-s x --quiet" ]
}

@test "SKM_DISABLE=1 runs the command and records nothing" {
	run env SKM_DISABLE=1 skm-run -s t -- sh -c 'echo ran; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = ran ]
	[ ! -e "$SKM_DB" ]
}

@test "SKM_DISABLE=1 still exits 127 for a missing command" {
	run -127 env SKM_DISABLE=1 skm-run -s t -- "$BATS_TEST_TMPDIR/missing"
}

# --- usage -------------------------------------------------------------------

@test "no skill is a usage error with status 125" {
	run skm-run -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *usage:* ]]
	[ ! -e "$SKM_DB" ]
}

@test "no command is a usage error with status 125" {
	run skm-run -s t
	[ "$status" -eq 125 ]
	[[ "$output" == *usage:* ]]
}

@test "an unknown option is a usage error with status 125" {
	run skm-run --bogus -s t -- true
	[ "$status" -eq 125 ]
}

@test "an option without its argument is a usage error with status 125" {
	run skm-run -s
	[ "$status" -eq 125 ]
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr skm-run --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ skm-run* ]]
	[ -z "$stderr" ]
}

# --- a broken store never hurts the command ------------------------------------

@test "an unusable store directory still runs the command, with one warning" {
	: >"$BATS_TEST_TMPDIR/file"
	SKM_DB="$BATS_TEST_TMPDIR/file/metrics.db"
	run --separate-stderr skm-run -s t -- sh -c 'echo out; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = out ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == "skm-run: warning: not recorded: "?* ]]
}

@test "a corrupt store still runs the command, silently, and is left untouched" {
	head -c 8192 /dev/urandom >"$SKM_DB"
	cp "$SKM_DB" "$BATS_TEST_TMPDIR/copy"
	run --separate-stderr skm-run -s t -- sh -c 'echo out; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = out ]
	# skm-run never opens the store: the run is in the journal
	[ -z "$stderr" ]
	cmp "$SKM_DB" "$BATS_TEST_TMPDIR/copy"
	[ -s "$SKM_DB.journal/journal" ]
	# the fold refuses the store, takes nothing from the journal...
	run skm drain
	[ "$status" -eq 1 ]
	[[ "$output" == *"not an skm database"* ]]
	cmp "$SKM_DB" "$BATS_TEST_TMPDIR/copy"
	# ...and applies the run once a good store is there
	mv "$SKM_DB" "$BATS_TEST_TMPDIR/bad.db"
	skm drain
	[ "$(inv "exit_code")" = 5 ]
	[ "$(inv "count(*)")" = 1 ]
}

@test "a store from a newer skm is not written and the command still runs" {
	skm-run -s t -- true
	skm drain
	sqlite3 "$SKM_DB" "PRAGMA user_version = 9999"
	cp "$SKM_DB" "$BATS_TEST_TMPDIR/copy"
	run --separate-stderr skm-run -s t -- true
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run skm drain
	[ "$status" -eq 1 ]
	[[ "$output" == *"newer skm"* ]]
	cmp "$SKM_DB" "$BATS_TEST_TMPDIR/copy"
	# back to a version this skm knows: the waiting run is applied once
	sqlite3 "$SKM_DB" "PRAGMA user_version = $(sqlite3 "$SKM_DB" 'SELECT max(version) FROM schema_migrations')"
	skm drain
	skm drain
	[ "$(inv "count(*)")" = 2 ]
}

@test "a failed store does not change a signal death" {
	head -c 8192 /dev/urandom >"$SKM_DB"
	run --separate-stderr skm-run -s t -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "--quiet prints nothing when the store fails" {
	: >"$BATS_TEST_TMPDIR/file"
	SKM_DB="$BATS_TEST_TMPDIR/file/metrics.db"
	run --separate-stderr skm-run -q -s t -- sh -c 'exit 2'
	[ "$status" -eq 2 ]
	[ -z "$stderr" ]
	[ -z "$output" ]
}
