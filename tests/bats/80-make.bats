#!/usr/bin/env bats
# share/skm/skm.mk: a Makefile that includes it records every recipe as the
# skill named after its target, and behaves exactly as without it.  The
# differential tests run the same Makefile in two directories, one with the
# include (at the end, so line numbers in make's messages agree), and
# compare stdout, stderr and exit status.

load helpers

MK="$TOP/share/skm/skm.mk"

# q QUERY: sql once every recorded run is in the store.
q() {
	skm drain >/dev/null
	sql "$1"
}

# pair NAME: directories $A (plain) and $B (with skm.mk) holding the
# Makefile read from stdin.
pair() {
	A="$BATS_TEST_TMPDIR/plain" B="$BATS_TEST_TMPDIR/skm"
	mkdir -p "$A" "$B"
	cat >"$A/Makefile"
	cp "$A/Makefile" "$B/Makefile"
	printf 'include %s\n' "$MK" >>"$B/Makefile"
}

# both ARGS...: run make ARGS in $A then $B; each one's stdout, stderr and
# status land in $BATS_TEST_TMPDIR/{plain,skm}.{out,err,rc}.  A file
# named by D= is a fresh directory per run.
both() {
	local d
	for d in plain skm; do
		rm -rf "$BATS_TEST_TMPDIR/bar-$d" && mkdir "$BATS_TEST_TMPDIR/bar-$d"
		rc=0
		(cd "$BATS_TEST_TMPDIR/$d" && make "$@" D="$BATS_TEST_TMPDIR/bar-$d" \
		    >"../$d.out" 2>"../$d.err") || rc=$?
		echo $rc >"$BATS_TEST_TMPDIR/$d.rc"
	done
}

# same [sorted]: the two runs printed and exited alike (sorted: as sets
# of lines, for make -j).
same() {
	local f
	for f in out err rc; do
		if [ "${1:-}" = sorted ]; then
			diff <(sort "$BATS_TEST_TMPDIR/plain.$f") <(sort "$BATS_TEST_TMPDIR/skm.$f")
		else
			diff "$BATS_TEST_TMPDIR/plain.$f" "$BATS_TEST_TMPDIR/skm.$f"
		fi
	done
}

basic_makefile() {
	pair <<'MAKEFILE'
X := $(shell echo at-parse-time)
all: ok multi ign
ok:
	echo ok $@ $(X)
	@printf 'to stderr\n' >&2
multi:
	@echo one; echo two | tr a-z A-Z
	@test -n "$(shell echo in-recipe)" && echo "$(shell echo in-recipe)"
ign:
	-@exit 4
	@echo after the ignored error
fail: ok
	@echo failing; exit 3
never: fail
	@echo not reached
sig:
	@echo dying; kill -TERM $$$$
MAKEFILE
}

@test "make with skm.mk prints and exits exactly as without it" {
	basic_makefile
	both
	same
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 0 ]
	grep -q 'after the ignored error' "$BATS_TEST_TMPDIR/skm.out"
	grep -q 'Error 4 (ignored)' "$BATS_TEST_TMPDIR/skm.err"
}

@test "a failing recipe fails make the same way, with and without -k" {
	basic_makefile
	both never
	same
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 2 ]
	grep -q 'fail. Error 3' "$BATS_TEST_TMPDIR/skm.err"
	both -k never all
	same
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 2 ]
	grep -q 'after the ignored error' "$BATS_TEST_TMPDIR/skm.out"
}

@test "a recipe killed by a signal is reported by make as without skm.mk" {
	basic_makefile
	both sig
	same
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 2 ]
	grep -q 'sig. Terminated' "$BATS_TEST_TMPDIR/skm.err"
}

@test "every recipe line is recorded as its target's skill, with its exit status; \$(shell) is not" {
	basic_makefile
	(cd "$BATS_TEST_TMPDIR/skm" && make -k all never sig >/dev/null 2>&1) || true
	[ "$(q "SELECT skill_name || ':' || count(*) FROM skill_invocation GROUP BY skill_name ORDER BY 1" | tr '\n' ' ')" = \
	    "fail:1 ign:2 multi:2 ok:2 sig:1 " ]
	[ "$(q "SELECT error_type FROM skill_invocation WHERE skill_name = 'fail'")" = "exit:3" ]
	[ "$(q "SELECT error_type FROM skill_invocation WHERE skill_name = 'sig'")" = "signal:SIGTERM" ]
	[ "$(q "SELECT group_concat(coalesce(error_type, '-'), ' ') FROM (SELECT error_type FROM skill_invocation WHERE skill_name = 'ign' ORDER BY invoked_at)")" = "exit:4 -" ]
	[ "$(q "SELECT command FROM skill_invocation WHERE skill_name = 'ok' ORDER BY invoked_at LIMIT 1")" = \
	    "/bin/sh -c 'echo ok ok at-parse-time'" ]
	skm check
}

parallel_makefile() {
	pair <<'MAKEFILE'
# Each of p1..p4 waits until all four have started: only a make that
# really runs four recipes at once gets past it (else exit 9 after 10 s).
P = p1 p2 p3 p4
par: $(P)
$(P):
	@touch $(D)/$@; i=0; \
	while [ $$(ls $(D) | wc -l) -lt 4 ]; do \
		i=$$((i + 1)); [ $$i -lt 200 ] || exit 9; sleep 0.05; \
	done; echo $@ met the others
# A sub-make shares the jobserver: its four recipes run at once only if
# the jobserver reached it through skm-run.
sub:
	@$(MAKE) --no-print-directory par D=$(D)
MAKEFILE
}

@test "make -j4 with skm.mk runs four recipes at once, through a sub-make's jobserver too" {
	parallel_makefile
	both -j4 par
	same sorted
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 0 ]
	[ "$(grep -c 'met the others' "$BATS_TEST_TMPDIR/skm.out")" = 4 ]
	both -j4 sub
	same sorted
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 0 ]
	[ "$(grep -c 'met the others' "$BATS_TEST_TMPDIR/skm.out")" = 4 ]
	[ ! -s "$BATS_TEST_TMPDIR/skm.err" ]
	# the sub-make's recipes are recorded under the recipe that ran it
	[ "$(q "SELECT count(*) FROM skill_invocation c JOIN skill_invocation p ON c.parent_id = p.id WHERE p.skill_name = 'sub' AND c.skill_name LIKE 'p_'")" = 4 ]
}

@test "make -j4 with failing recipes: same output and status, with and without -k" {
	# make starts all four at once; the first failure comes only after
	# that even on a loaded machine, and the other failure after it, so
	# that both runs report both (the order is the same too).
	pair <<'MAKEFILE'
mixed: good1 good2 bad1 bad2
good1 good2:
	@sleep 0.9; echo $@ done
bad1:
	@sleep 0.3; echo $@ failing >&2; exit 5
bad2:
	@sleep 0.6; exit 6
MAKEFILE
	both -j4 -k mixed
	same sorted
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 2 ]
	[ "$(grep -c ' done' "$BATS_TEST_TMPDIR/skm.out")" = 2 ]
	grep -q 'bad1. Error 5' "$BATS_TEST_TMPDIR/skm.err"
	grep -q 'bad2. Error 6' "$BATS_TEST_TMPDIR/skm.err"
	both -j4 mixed
	same sorted
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 2 ]
	grep -q 'Waiting for unfinished jobs' "$BATS_TEST_TMPDIR/skm.err"
}

@test ".ONESHELL recipes keep make's prefix handling and are one run each" {
	pair <<'MAKEFILE'
.ONESHELL:
one:
	@echo first
	-@echo second; false
	echo third $@
MAKEFILE
	both one
	same
	[ "$(cat "$BATS_TEST_TMPDIR/skm.rc")" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/skm.out")" = $'first\nsecond\nthird one' ]
	[ "$(q "SELECT count(*) FROM skill_invocation WHERE skill_name = 'one'")" = 1 ]
}

@test "SKM_MK_SKILL names or skips the skill per target; SKM_DISABLE=1 records nothing" {
	cd "$BATS_TEST_TMPDIR"
	cat >Makefile <<MAKEFILE
.PHONY: all clean
all: a.o b.o clean
%.o:
	@echo compiling \$@
clean:
	@echo cleaning
%.o: SKM_MK_SKILL = compile
clean: SKM_MK_SKILL =
include $MK
MAKEFILE
	run make -s
	[ "$status" -eq 0 ]
	[ "$output" = $'compiling a.o\ncompiling b.o\ncleaning' ]
	[ "$(q "SELECT skill_name || ':' || count(*) FROM skill_invocation GROUP BY skill_name")" = "compile:2" ]
	SKM_DISABLE=1 make -s >/dev/null
	[ "$(q "SELECT count(*) FROM skill_invocation")" = 2 ]
}

@test "a SHELL and .SHELLFLAGS set before the include are the ones recipes run under" {
	command -v bash >/dev/null
	cd "$BATS_TEST_TMPDIR"
	cat >Makefile <<MAKEFILE
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
t:
	@echo \$\${BASH_VERSION:+bash}; false | true; echo unreachable
include $MK
MAKEFILE
	run make -s t
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = bash ]
	[[ "$output" != *unreachable* ]]
	[ "$(q "SELECT error_type FROM skill_invocation WHERE skill_name = 't'")" = "exit:1" ]
}

@test "a target name skm refuses as a skill runs its recipe unrecorded" {
	cd "$BATS_TEST_TMPDIR"
	long=$(printf 'part/%.0s' $(seq 60))long
	printf '.PHONY: %s\n%s:\n\t@echo built\ninclude %s\n' "$long" "$long" "$MK" >Makefile
	run make -s "$long"
	[ "$status" -eq 0 ]
	[ "$output" = built ]
	[ "$(q "SELECT count(*) FROM skill_invocation" 2>/dev/null || echo 0)" = 0 ]
}
