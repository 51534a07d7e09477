#!/usr/bin/env bats
# skm-run against env(1), which only execs: the same command started the
# same way by a caller (tests/helpers/caller.pl) must end the same, print
# the same and see the same world (tests/helpers/probe), whatever the
# caller's signal state, and get every signal sent to the wrapper's pid or
# to its process group exactly once.  The cases without a terminal start
# each command in a session of its own (caller.pl's default), so skm-run
# runs the command in a process group of its own; the terminal cases run
# under tmux (docs/ARCHITECTURE.md, "skm-run and signals").

load helpers

bats_require_minimum_version 1.5.0

H="$TOP/tests/helpers"
# Terminating signals, standard and real-time, as Perl names them.
TERMSIGS="HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM TERM
    STKFLT XCPU XFSZ VTALRM PROF IO PWR SYS RTMIN NUM40 RTMAX"

setup() {
	cd "$BATS_TEST_TMPDIR"
	ulimit -c 0
	R="$BATS_TEST_TMPDIR/ready"
}

# twice CALLER-OPTS... -- CMD...: run CMD once as `env CMD` and once as
# `skm-run -s t -- CMD`, started by caller.pl with CALLER-OPTS; the
# reports (stdout, then stderr with the final status) land in env.out,
# env.err, run.out, run.err.  The ready file is removed before each;
# stdin is the file $IN (default /dev/null).
twice() {
	local opts=() w
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	for w in env run; do
		rm -f "$R"
		if [ $w = env ]; then
			"$H/caller.pl" "${opts[@]}" -- env "$@" \
			    <"${IN:-/dev/null}" >$w.out 2>$w.err
		else
			"$H/caller.pl" "${opts[@]}" -- skm-run -s t -- "$@" \
			    <"${IN:-/dev/null}" >$w.out 2>$w.err
		fi
	done
}

# same: the two runs printed the same and ended the same.  The numbers
# of the process group and session differ from run to run; how they
# relate to the command is in the report (pgrp-leader, session-leader).
same() {
	local f
	for f in out err; do
		grep -aEv '^(pgrp|sid): ' env.$f >env.$f.cmp || true
		grep -aEv '^(pgrp|sid): ' run.$f >run.$f.cmp || true
		diff -u env.$f.cmp run.$f.cmp
	done
}

# --- ends, output, what the child sees ------------------------------------

@test "exit statuses and deaths by signal are env's" {
	local c
	for c in 'exit 0' 'exit 1' 'exit 7' 'exit 255' 'kill -TERM $$' \
	    'kill -SEGV $$' 'kill -ABRT $$' 'kill -KILL $$' 'kill -USR2 $$' \
	    'kill -PIPE $$'; do
		twice -- sh -c "$c"
		echo "case: $c"
		same
	done
	twice -- "$BATS_TEST_TMPDIR/no-such-command"
	[ "$(tail -1 env.err)" = "status: exit 127" ]
	[ "$(tail -1 run.err)" = "status: exit 127" ]
	touch notexec
	twice -- ./notexec
	[ "$(tail -1 env.err)" = "status: exit 126" ]
	[ "$(tail -1 run.err)" = "status: exit 126" ]
}

@test "stdin, stdout and stderr are the command's own, as with env" {
	printf 'one\0two\nthree' >in
	IN=in twice -- sh -c 'cat; echo to-stderr >&2; exit 3'
	same
	cmp in run.out
}

@test "the command sees what env's sees: argv, descriptors, signal state, environment, cwd, umask, limits" {
	mkdir -p sub
	cd sub
	umask 027
	ulimit -n 512
	exec 5<"$BATS_TEST_TMPDIR/sub" 7>>"$BATS_TEST_TMPDIR/log"
	twice -- "$H/probe" '' 'two words' "$(printf 'tab\there')" -x --y=z
	exec 5<&- 7>&-
	same
	grep -q '^argv\[2\]: two words$' run.out
	grep -q '^fd 7: .* append 1 ' run.out
	grep -q '^umask: 027$' run.out
	grep -q '^rlimit nofile: 512 ' run.out
	grep -q "^cwd: $BATS_TEST_TMPDIR/sub\$" run.out
	# No SKM_INVOCATION_ID in the report: it is the only addition.
	! grep -q SKM_INVOCATION_ID run.out
}

@test "without a terminal the command leads a process group, in the caller's session, as a job would" {
	twice -- "$H/probe"
	same
	grep -q '^pgrp-leader: yes$' run.out
	grep -q '^session-leader: no$' run.out
	grep -q '^ctty: 0$' run.out
}

@test "a caller ignoring INT, QUIT, TERM, CHLD, PIPE, HUP or USR1: the command starts with the same state and status" {
	local s
	for s in INT QUIT TERM CHLD PIPE HUP USR1; do
		echo "ignored: $s"
		twice -i $s -- "$H/probe" -- sh -c 'exit 7'
		same
		grep -q 'status: exit 7' run.err
	done
}

@test "a caller blocking INT, QUIT, TERM, CHLD, PIPE, HUP or USR1: the command starts with the same mask and status" {
	local s
	for s in INT QUIT TERM CHLD PIPE HUP USR1; do
		echo "blocked: $s"
		twice -b $s -- "$H/probe" -- sh -c 'exit 7'
		same
		grep -q 'status: exit 7' run.err
	done
}

@test "a caller ignoring SIGCHLD still gets the command's status, recorded" {
	run perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' skm-run -s t -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	[ "$(sql "SELECT error_type FROM skill_invocation")" = "exit:7" ]
}

@test "a caller ignoring SIGCHLD gets the status of a command that exits at once, every time" {
	# The command may exit before the wrapper is back from the fork: it
	# must not be reaped by the kernel in the meantime.
	local i
	for i in $(seq 50); do
		perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' skm-run -s t -- true ||
		    { echo "run $i: status $?"; false; }
	done
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE error_type IS NULL AND ended_at IS NOT NULL")" = 50 ]
}

# --- signals sent to the wrapper -----------------------------------------

@test "every terminating signal sent to the wrapper's pid reaches the command once, caught" {
	local opts=() s
	for s in $TERMSIGS; do opts+=(-s "$s:pid"); done
	twice -r "$R" "${opts[@]}" -- "$H/sigcount" "$R" $TERMSIGS
	same
	[ "$(grep -c ': 1$' run.out)" -eq "$(echo $TERMSIGS | wc -w)" ]
}

@test "every terminating signal sent to the process group reaches the command once, caught" {
	local opts=() s
	for s in $TERMSIGS; do opts+=(-s "$s:group"); done
	twice -r "$R" "${opts[@]}" -- "$H/sigcount" "$R" $TERMSIGS
	same
	[ "$(grep -c ': 1$' run.out)" -eq "$(echo $TERMSIGS | wc -w)" ]
}

@test "every terminating signal, uncaught, kills the command and the wrapper dies of it, sent to pid or group" {
	local s to num
	declare -A nums
	# Their numbers, as Perl (and so caller.pl) names them: one perl.
	eval "$(perl -MConfig -e 'my @n = split " ", $Config{sig_name};
	    print "nums[$n[$_]]=$_\n" for 0 .. $#n')"
	# env's command simply dies of the signal: only skm-run is run here,
	# against that, to keep the suite quick.
	for to in pid group; do
		for s in $TERMSIGS; do
			num=${nums[$s]}
			rm -f "$R"
			"$H/caller.pl" -r "$R" -s "$s:$to" -- skm-run -s t -- \
			    "$H/sigcount" "$R" >run.out 2>run.err
			echo "signal $s ($num) to $to: $(cat run.err)"
			[ "$(cat run.err)" = "status: signal $num" ]
			[ ! -s run.out ]
		done
	done
}

@test "a signal the command catches is recorded as its exit, one it dies of as signal:NAME" {
	"$H/caller.pl" -r "$R" -s TERM:pid -- skm-run -s t -- "$H/sigcount" "$R" TERM 2>/dev/null
	"$H/caller.pl" -r "$R.2" -s TERM:group -- skm-run -s t -- "$H/sigcount" "$R.2" 2>/dev/null
	[ "$(sql "SELECT group_concat(coalesce(error_type, 'ok'), ' ') FROM
	    (SELECT error_type FROM skill_invocation ORDER BY invoked_at)")" = "ok signal:SIGTERM" ]
}

@test "an alarm the caller set reaches the command, as it would after exec" {
	local w
	for w in env "skm-run -s t --"; do
		run perl -MTime::HiRes=ualarm -e 'ualarm(200_000); exec @ARGV' \
		    $w sleep 5
		[ "$status" -eq 142 ]
	done
}

# --- stops ---------------------------------------------------------------

@test "a stop sent to the wrapper's pid or the group stops the wrapper with the command, and continue continues both" {
	local to
	for to in pid group; do
		echo "to $to"
		twice -S -r "$R" -s TSTP:$to -s USR1:$to -- "$H/sigcount" "$R" USR1
		same
		grep -q '^stopped: ' run.err
		grep -q '^USR1: 1$' run.out
	done
}

@test "a command that stops itself stops the wrapper; continuing the wrapper continues it" {
	twice -S -- sh -c 'echo before; kill -STOP $$; echo resumed'
	same
	[ "$(cat run.out)" = "$(printf 'before\nresumed')" ]
	grep -q '^stopped: 19$' run.err
}

@test "the command's children get a signal sent to the group, as with env" {
	twice -r "$R" -s TERM:group -- sh -c "trap '' TERM; $H/sigcount $R TERM & wait"
	same
	grep -q '^TERM: 1$' run.out
}

# --- usage -----------------------------------------------------------------

@test "a follow-up action over 4096 bytes is refused with 125 before the command runs" {
	run -125 skm-run -s t -f "$(head -c 5000 /dev/zero | tr '\0' a)" -- touch ran
	[ ! -e ran ]
	[[ "$output" == *"follow-up action longer than 4096 bytes"* ]]
}
