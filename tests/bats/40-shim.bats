#!/usr/bin/env bats
# The LD_PRELOAD shim: processes recorded without changing their command
# line, and hosts that must not notice it.

load helpers

SHIM="$TOP/shim/libskm-preload.so"
H="$TOP/tests/shim/t_host"
HS="$TOP/tests/shim/t_host_static"
Q="$TOP/tests/shim/t_sqlite"
HM="$TOP/tests/shim/t_malloc"

setup() {
	# Under `make check-asan` every program and libskm.so carry the ASan
	# runtime, which must be the first library of a process; a preloaded
	# shim (or libskm.so dlopen()ed into an uninstrumented host) breaks
	# that rule, so the shim is tested in the plain build only.
	[ -z "${SKM_SANITIZED:-}" ] || skip "shim tests run in the plain build (ASan must load first)"
	export SKM_RULES="$BATS_TEST_TMPDIR/rules"
	printf 'host  *t_host *\n' >"$SKM_RULES"
	unset SKM_DEBUG SKM_SHIM_HANDOFF SKM_BUSY_TIMEOUT_MS
}

# shim CMD...: run CMD with the shim preloaded (bats' run: $status, $output).
shim() {
	run env LD_PRELOAD="$SHIM" "$@"
}

# same_as_plain CMD...: CMD under the shim exits and prints exactly as
# without it.
same_as_plain() {
	run "$@"
	local st=$status out=$output
	shim "$@"
	[ "$status" -eq "$st" ] || { echo "status $status, plain $st"; return 1; }
	[ "$output" = "$out" ] || { echo "output [$output], plain [$out]"; return 1; }
}

# recorded: skill|completed|exit_code|error_type|source|ended of every
# invocation, oldest first.
recorded() {
	sql "SELECT skill_name, completed, ifnull(exit_code, '-'), ifnull(error_type, '-'), source, ended_at IS NOT NULL FROM invocation ORDER BY invoked_at, rowid"
}

# (new_store, from helpers.bash, creates the store first, so that what a
# test times or locks is the shim's work, not the creation of the store.)

# ends_as MODE N EXPECTED: t_host MODE N exits with N, prints as without
# the shim, and is recorded once as EXPECTED (completed|exit|error_type).
ends_as() {
	same_as_plain "$H" "$1" "$2"
	[ "$status" -eq "$2" ]
	[ "$(recorded)" = "host|$3|shim|1" ]
}

@test "the shim exports only the functions it interposes" {
	want=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' "$TOP/shim/preload.map" | sort)
	have=$(nm -D --defined-only "$SHIM" | awk '{ print $3 }' | sort)
	[ -n "$want" ]
	[ "$have" = "$want" ]
}

@test "the shim itself needs nothing but libc: SQLite is loaded only to record" {
	run sh -c "readelf -d '$SHIM' | grep NEEDED"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libc.so"* ]]
	[[ "$output" != *sqlite* ]]
	[[ "$output" != *libskm* ]]
	[[ "$output" != *libbsd* ]]
}

@test "return 0 from main is recorded as completed" {
	ends_as ret 0 "1|0|-"
}

@test "return 3 from main is recorded with exit:3" {
	ends_as ret 3 "0|3|exit:3"
}

@test "exit(4) is recorded with exit:4" {
	ends_as exit 4 "0|4|exit:4"
}

@test "_exit(5) is recorded with exit:5" {
	ends_as _exit 5 "0|5|exit:5"
}

@test "_Exit(6) is recorded with exit:6" {
	ends_as _Exit 6 "0|6|exit:6"
}

@test "an atexit handler that calls _exit(2) after exit(0) is recorded with exit:2" {
	ends_as atexit 2 "0|2|exit:2"
}

@test "exit(7) from a second thread is recorded with exit:7" {
	ends_as thread 7 "0|7|exit:7"
}

@test "a process killed by abort() leaves one running invocation" {
	same_as_plain "$H" abort
	[ "$status" -eq 134 ]
	[ "$(recorded)" = "host|0|-|-|shim|0" ]
	[ "$(sql "SELECT pid IS NOT NULL AND host IS NOT NULL FROM skill_invocation")" = 1 ]
}

@test "fork without exec: only the process that began ends it" {
	same_as_plain "$H" fork 3
	[ "$status" -eq 3 ]
	[ "$output" = "child 9" ]
	[ "$(recorded)" = "host|0|3|exit:3|shim|1" ]
}

@test "a recorded process that execs hands its invocation to the new image" {
	printf 'outer  *t_host exec*\n' >"$SKM_RULES"
	same_as_plain "$H" exec "$H" _exit 5
	[ "$status" -eq 5 ]
	[ "$(recorded)" = "outer|0|5|exit:5|shim|1" ]
}

@test "an exec whose new image also matches a rule is still one invocation" {
	printf 'outer  *t_host exec*\ninner  *t_host*\n' >"$SKM_RULES"
	same_as_plain "$H" exec "$H" exit 0
	[ "$status" -eq 0 ]
	[ "$(recorded)" = "outer|1|0|-|shim|1" ]
}

@test "execl hands over the invocation as execvp does" {
	printf 'outer  *t_host execl*\n' >"$SKM_RULES"
	same_as_plain "$H" execl "$H" exit 6
	[ "$status" -eq 6 ]
	[ "$(recorded)" = "outer|0|6|exit:6|shim|1" ]
}

@test "a failed exec keeps errno and the invocation" {
	same_as_plain "$H" exec "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 100 ]
	[ "$output" = "exec: No such file or directory" ]
	[ "$(recorded)" = "host|0|100|exit:100|shim|1" ]
}

@test "errno at the start of main is what it is without the shim" {
	same_as_plain "$H" errno
	[ "$output" = "errno 0" ]
}

@test "sh -c 'exec PROG' is one invocation, ended with PROG's status" {
	printf 'wrapped  sh -c*\n' >"$SKM_RULES"
	shim sh -c "exec '$H' exit 3"
	[ "$status" -eq 3 ]
	[ "$(recorded)" = "wrapped|0|3|exit:3|shim|1" ]
}

@test "SKM_SHIM_SKILL records the first process only and is not inherited" {
	: >"$SKM_RULES"
	SKM_SHIM_SKILL=outer shim sh -c "'$H' env; '$H' env"
	[ "$status" -eq 0 ]
	[ "$(recorded)" = "outer|1|0|-|shim|1" ]
	id=$(sql "SELECT id FROM skill_invocation")
	[ "${lines[0]}" = "SKM_SHIM_SKILL=(unset) envp:(unset)" ]
	[ "${lines[1]}" = "SKM_INVOCATION_ID=$id envp:$id" ]
	[ "${lines[2]}" = "${lines[0]}" ]
}

@test "SKM_SHIM_SKILL is gone from the first process's own environ and envp" {
	: >"$SKM_RULES"
	SKM_SHIM_SKILL=solo shim "$H" env
	[ "$status" -eq 0 ]
	id=$(sql "SELECT id FROM skill_invocation WHERE skill_name = 'solo'")
	[ -n "$id" ]
	[ "${lines[0]}" = "SKM_SHIM_SKILL=(unset) envp:(unset)" ]
	[ "${lines[1]}" = "SKM_INVOCATION_ID=$id envp:$id" ]
}

@test "a recorded child records its recorded parent" {
	printf 'outer  sh -c*\nhost  *t_host *\n' >"$SKM_RULES"
	shim sh -c "'$H' ret 0; true"
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = 2 ]
	[ "$(sql "SELECT c.parent_id = p.id FROM skill_invocation c, skill_invocation p WHERE c.skill_name = 'host' AND p.skill_name = 'outer'")" = 1 ]
}

@test "a shimmed process inside skm-run records skm-run's invocation as parent" {
	new_store
	run skm-run -s outer -- env LD_PRELOAD="$SHIM" "$H" ret 0
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT c.parent_id = p.id, c.source, p.source FROM skill_invocation c, skill_invocation p WHERE c.skill_name = 'host' AND p.skill_name = 'outer'")" = "1|shim|run" ]
}

@test "workflow, session, project and command come as for skm-run" {
	SKM_WORKFLOW=ci/full SKM_SESSION=s1 SKM_PROJECT=/p shim "$H" ret 0 "it's"
	[ "$(sql "SELECT workflow_path, session_id, project_path, command FROM skill_invocation")" = "ci/full|s1|/p|$H ret 0 'it'\\''s'" ]
}

@test "a process no rule matches does not even open the store" {
	printf 'other  never-matches*\n' >"$SKM_RULES"
	same_as_plain "$H" exit 4
	[ "$status" -eq 4 ]
	[ ! -e "$SKM_DB" ]
}

@test "malformed rules are skipped line by line, named only with SKM_DEBUG=1" {
	printf '# a comment\n\nlonely\n%s  x\nhost  *t_host *\n' "$(head -c 300 /dev/zero | tr '\0' s)" >"$SKM_RULES"
	run env LD_PRELOAD="$SHIM" "$H" exit 0 2>&1
	[ "$status" -eq 0 ]
	[ "$output" = "exit 0" ]
	[ "$(recorded)" = "host|1|0|-|shim|1" ]
	SKM_DEBUG=1 shim "$H" exit 0
	[[ "$output" == *"rules:3: rule ignored: no pattern after the skill name"* ]]
	[[ "$output" == *"rules:4: rule ignored: skill name too long"* ]]
}

@test "a missing rules file is named only with SKM_DEBUG=1, and nothing is recorded" {
	export SKM_RULES="$BATS_TEST_TMPDIR/no-such-rules"
	shim "$H" exit 0
	[ "$output" = "exit 0" ]
	SKM_DEBUG=1 shim "$H" exit 0
	[[ "$output" == *"no-such-rules: cannot read it"*"no rules apply"* ]]
	[ ! -e "$SKM_DB" ]
}

@test "the first matching rule wins" {
	printf 'first  *t_host ret*\nsecond  *t_host*\n' >"$SKM_RULES"
	shim "$H" ret 0
	shim "$H" exit 0
	[ "$(sql "SELECT group_concat(skill_name, ' ') FROM (SELECT skill_name FROM invocation ORDER BY invoked_at, rowid)")" = "first second" ]
}

@test "SKM_DISABLE=1 records nothing" {
	SKM_DISABLE=1 same_as_plain "$H" exit 3
	[ ! -e "$SKM_DB" ]
}

@test "make -j4 under the shim records exactly the matching recipe commands" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj"
	cat >Makefile <<-EOF
	all: a b c d e f g
	a: ; $H ret 0
	b: ; -$H ret 3
	c: ; $H exit 0
	d: ; -$H exit 4
	e: ; echo plain
	f: ; true
	g: ; sh -c '$H ret 0 && exit 0'
	EOF
	# Anchored at the program's path: the sh -c of recipe g does not
	# match, the t_host it starts does.
	printf 'unit  %s ret *\nlint  %s exit *\n' "$H" "$H" >"$SKM_RULES"
	new_store
	shim make -s -j4
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT skill_name || ':' || exit_code FROM skill_invocation ORDER BY 1" | tr '\n' ' ')" = "lint:0 lint:4 unit:0 unit:0 unit:3 " ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE ended_at IS NULL OR source <> 'shim'")" = 0 ]
	run skm check
	[ "$status" -eq 0 ]
}

@test "SKM_SHIM_SKILL on make records make once and each matching recipe as its child" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj"
	printf 'all: a b\na: ; %s ret 0\nb: ; %s ret 2\n' "$H" "$H" >Makefile
	new_store
	SKM_SHIM_SKILL=build shim make -s -j2 -k
	[ "$status" -eq 2 ]
	[ "$(sql "SELECT skill_name, exit_code FROM skill_invocation WHERE skill_name = 'build'")" = "build|2" ]
	[ "$(sql "SELECT count(*) FROM skill_invocation c, skill_invocation p WHERE c.skill_name = 'host' AND p.skill_name = 'build' AND c.parent_id = p.id")" = 2 ]
}

@test "a host using SQLite on its own database keeps it and its exit status" {
	cd "$BATS_TEST_TMPDIR"
	same_as_plain "$Q" "$BATS_TEST_TMPDIR/own.db" 3
	[ "$status" -eq 3 ]
	printf 'own  *t_sqlite*\n' >"$SKM_RULES"
	rm -f own.db
	shim "$Q" "$BATS_TEST_TMPDIR/own.db" 3
	[ "$status" -eq 3 ]
	[ "$output" = "wrote" ]
	[ "$(sqlite3 own.db 'SELECT x FROM t')" = 42 ]
	[ "$(recorded)" = "own|0|3|exit:3|shim|1" ]
}

@test "a host holding the store's write lock at exit is recorded all the same" {
	new_store
	printf 'holder  *t_sqlite hold*\n' >"$SKM_RULES"
	t0=$(date +%s%N)
	SKM_BUSY_TIMEOUT_MS=8000 shim "$Q" hold "$SKM_DB" 7
	t1=$(date +%s%N)
	[ "$status" -eq 7 ]
	[ "$output" = "holding" ]
	# The shim never touches the store (its events go to the journal):
	# no wait for the host's lock (that would take the 8 s bound),
	# nothing written under it, and the host's open transaction was
	# never committed.
	[ $(( (t1 - t0) / 1000000 )) -lt 5000 ]
	[ "$(recorded)" = "holder|0|7|exit:7|shim|1" ]
	[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 999")" = 0 ]
	[ "$(sql "PRAGMA integrity_check")" = ok ]
	run skm check
	[ "$status" -eq 0 ]
}

@test "skm itself under the shim records and leaves a consistent store" {
	printf 'query  *skm stats*\n' >"$SKM_RULES"
	shim "$H" ret 0
	shim skm stats
	[ "$status" -eq 0 ]
	shim skm stats --json
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'query' AND completed = 1")" = 2 ]
	run skm check
	[ "$status" -eq 0 ]
}

@test "a store locked by another process leaves the host running with its own status" {
	new_store
	"$Q" lock "$SKM_DB" 10 >"$BATS_TEST_TMPDIR/lock.out" &
	locker=$!
	for _ in $(seq 50); do
		grep -q locked "$BATS_TEST_TMPDIR/lock.out" && break
		sleep 0.1
	done
	same_as_plain "$H" exit 4
	[ "$(sqlite3 "$SKM_DB" "SELECT count(*) FROM skill_invocation")" = 0 ]
	kill "$locker"
	wait "$locker" || true
	[ "$status" -eq 4 ]
	[ "$output" = "exit 4" ]
	# Its begin and end wait in the journal; once the store is free
	# they count, once.
	run skm drain
	[ "$status" -eq 0 ]
	[ "$(recorded)" = "host|0|4|exit:4|shim|1" ]
}

@test "an unusable store leaves the host running with its own status, silently" {
	SKM_DB=/dev/null/metrics.db same_as_plain "$H" exit 4
	[ "$status" -eq 4 ]
	[ "$output" = "exit 4" ]
	printf 'not a database, not at all; just text\n' >"$BATS_TEST_TMPDIR/junk.db"
	sum=$(cksum <"$BATS_TEST_TMPDIR/junk.db")
	SKM_DB="$BATS_TEST_TMPDIR/junk.db" same_as_plain "$H" ret 3
	[ "$status" -eq 3 ]
	[ "$(cksum <"$BATS_TEST_TMPDIR/junk.db")" = "$sum" ]
}

@test "a static binary ignores the shim and runs with its own status" {
	[ -x "$HS" ] || skip "no static libc to build tests/shim/t_host_static"
	printf 'host  *t_host_static *\n' >"$SKM_RULES"
	same_as_plain "$HS" exit 4
	[ "$status" -eq 4 ]
	[ ! -e "$SKM_DB" ]
}

# --- the shim's own transparency (issue 11) --------------------------------

@test "a host whose SIGTERM handler calls _exit while it exits, 1,000 times: no deadlock, each run recorded once" {
	# The handler may run inside the shim's own exit path: that path takes
	# no lock and allocates nothing, so the _exit it calls goes through.
	for i in $(seq 1000); do
		rc=0
		timeout -s KILL 10 env LD_PRELOAD="$SHIM" "$H" term-exit 3 || rc=$?
		case $rc in
		0|3) ;;
		*) echo "run $i: status $rc (137: hung, killed)"; false ;;
		esac
	done
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'host' AND ended_at IS NOT NULL")" = 1000 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE ended_at IS NULL")" = 0 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE error_type IS NOT NULL AND error_type <> 'exit:3'")" = 0 ]
}

@test "a recorded host sees no heap call of the shim's before its main or on its way out" {
	printf 'm  *t_malloc *\n' >"$SKM_RULES"
	for how in exit _exit; do
		run "$HM" $how
		[ "$status" -eq 0 ]
		plain=$output
		[[ "$plain" == "before main: "* ]]
		shim "$HM" $how
		[ "$status" -eq 0 ]
		[ "$output" = "$plain" ] || { echo "shim [$output], plain [$plain]"; false; }
	done
	[ "$(recorded)" = "$(printf 'm|1|0|-|shim|1\nm|1|0|-|shim|1')" ]
}

@test "the shim hides secrets in the command lines it stores" {
	printf 'leak  /bin/echo*\n' >"$SKM_RULES"
	shim /bin/echo --password=hunter2 --token abc https://bob:pw@host/ \
	    ghp_abcdefghijklmnopqrstuvwxyz0123456789
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT command FROM skill_invocation")" = "/bin/echo '--password=***' --token '***' 'https://bob:***@host/' '***'" ]
	# nowhere in the row but the ids (a UUID may hold "abc" by chance)
	! sql "SELECT skill_name, workflow_path, session_id, project_path, command, error_type, follow_up_actions, host, source FROM skill_invocation" |
	    grep -Eq 'hunter2|abc|pw@|ghp_'
}

@test "a relative SKM_DB or HOME is resolved once: a process that changes directory keeps one store" {
	: >"$SKM_RULES"
	mkdir "$BATS_TEST_TMPDIR/w" "$BATS_TEST_TMPDIR/w/h"
	cd "$BATS_TEST_TMPDIR/w"
	SKM_DB=rel.db SKM_SHIM_SKILL=r shim sh -c 'cd /; exit 3'
	[ "$status" -eq 3 ]
	[ ! -e /rel.db ] && [ ! -e /rel.db.journal ]
	run skm --db "$BATS_TEST_TMPDIR/w/rel.db" recent --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"skill_name":"r"'*'"exit_code":3'* ]]
	# A relative HOME: the default path under it, made absolute.
	unset SKM_DB XDG_DATA_HOME
	HOME=h SKM_SHIM_SKILL=r2 shim sh -c 'cd /; exit 4'
	[ "$status" -eq 4 ]
	HOME=h run skm-run -s r3 -- sh -c 'cd /; exit 5'
	[ "$status" -eq 5 ]
	HOME=h run skm recent --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"skill_name":"r3"'*'"exit_code":5'* ]]
	[[ "$output" == *'"skill_name":"r2"'*'"exit_code":4'* ]]
	[ -f "$BATS_TEST_TMPDIR/w/h/.local/share/skm/metrics.db" ]
}

@test "SKM_SKILL=rel skm-run -- true under the shim runs and records through skm-run" {
	: >"$SKM_RULES"
	new_store
	SKM_SKILL=rel shim skm-run -- true
	[ "$status" -eq 0 ]
	[ "$(recorded)" = "rel|1|0|-|run|1" ]
}

@test "SKM_SKILL meant for skm-run reaches it through a shimmed shell" {
	: >"$SKM_RULES"
	SKM_SKILL=rel shim sh -c 'skm-run -- sh -c "exit 3"'
	[ "$status" -eq 3 ]
	[ "$(recorded)" = "rel|0|3|exit:3|run|1" ]
}

@test "env -i under the shim keeps exactly the empty environment, and the run ends once" {
	: >"$SKM_RULES"
	run env -i env
	[ -z "$output" ]
	SKM_SHIM_SKILL=x shim env -i env
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(recorded)" = "x|1|0|-|shim|1" ]
}

@test "an execve with an environment of the program's own keeps exactly it" {
	: >"$SKM_RULES"
	SKM_SHIM_SKILL=x shim env -i A=1 B=2 env
	[ "$output" = "$(printf 'A=1\nB=2')" ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE ended_at IS NOT NULL")" = 1 ]
}

@test "a rules file that is a FIFO does not block a preloaded process" {
	rm -f "$SKM_RULES"
	mkfifo "$SKM_RULES"
	run timeout 5 env LD_PRELOAD="$SHIM" "$H" ret 3
	[ "$status" -eq 3 ]
}

@test "an exec from a thread with a small stack and a large environment works" {
	local i
	for i in $(seq 6000); do export "SKM_T_VAR_$i=$i"; done
	printf 'host  *t_host thread-exec*\n' >"$SKM_RULES"
	shim "$H" thread-exec sh -c 'echo "$SKM_T_VAR_5999"; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = 5999 ]
	[ "$(recorded)" = "host|0|4|exit:4|shim|1" ]
}

@test "a recorded process sees what it sees without the shim, less LD_PRELOAD and SKM_INVOCATION_ID" {
	local p="$TOP/tests/helpers/probe" plain
	printf 'host  *probe*\n' >"$SKM_RULES"
	run env "$p" a 'b c'
	plain=$(printf '%s\n' "$output" | grep -v '^env: LD_PRELOAD=')
	shim "$p" a 'b c'
	diff <(printf '%s\n' "$plain") \
	    <(printf '%s\n' "$output" | grep -v '^env: LD_PRELOAD=')
	[ "$(recorded)" = "host|1|0|-|shim|1" ]
}
