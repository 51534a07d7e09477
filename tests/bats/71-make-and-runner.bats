#!/usr/bin/env bats
# The build's own plumbing: the Makefile (header dependencies, targets
# defined once, libraries that cannot be left out) and tests/run.sh (a
# broken suite is never reported as passing).

load helpers

bats_require_minimum_version 1.5.0

@test "a missing pkg-config module stops the build with one line naming the -dev packages" {
	run -2 --separate-stderr make -C "$TOP" -n PKG_CONFIG=false all
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"missing development packages: libsqlite3-dev libbsd-dev; run \`make deps\`"* ]]
	run -2 --separate-stderr make -C "$TOP" -n PKG_CONFIG=/nonexistent/pkg-config skm
	[[ "$stderr" == *"missing development packages: pkg-config libsqlite3-dev libbsd-dev;"* ]]
	# make deps itself is not stopped: it is what installs them.
	run make -C "$TOP" -n PKG_CONFIG=false deps
	[[ "$output" != *"missing development packages"* ]]
}

@test "objects depend on the headers they include, and only on those" {
	grep -q 'runner/cmd\.h' "$TOP/runner/cli.d"
	run -0 make -C "$TOP" -n -W runner/cmd.h skm
	[[ "$output" == *"runner/cli.c"* ]]
	[[ "$output" != *"lib/store.c"* ]]
	[[ "$output" != *"runner/fmt.c"* ]]
	run -0 make -C "$TOP" -n -W lib/skm.h libskm.a
	[[ "$output" == *"lib/query.c"* ]]
}

@test "no target of the Makefile is defined twice" {
	run -0 sh -c "grep -E '^[A-Za-z0-9_./%\$()-][^=:]*:([^=]|\$)' '$TOP/Makefile' |
	    sed 's/:.*//' | tr ' ' '\n' | grep -v '^\$' | sort | uniq -d"
	[ -z "$output" ]
}

@test "the shared objects are linked with --no-undefined and carry their libraries" {
	readelf -d "$TOP"/libskm.so.*.*.* | grep -q 'NEEDED.*libsqlite3'
	readelf -d "$TOP"/libskm.so.*.*.* | grep -q 'NEEDED.*libbsd'
	run -0 make -C "$TOP" -n -B libskm.so.0.1.0 shim/libskm-preload.so
	[ "$(echo "$output" | grep -c -- '-shared -Wl,--no-undefined')" -eq 2 ]
}

@test "the compiler probes live in config.mk and do not run again on each make" {
	grep -q '^SHIM_LDLIBS =' "$TOP/config.mk"
	run -0 make -C "$TOP" -n skm
	[[ "$output" != *"dlfcn.h"* ]]
}

# fake_bats SCRIPT: a bats that runs SCRIPT instead, first on PATH.
fake_bats() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\n%s\n' "$1" >"$BATS_TEST_TMPDIR/bin/bats"
	chmod +x "$BATS_TEST_TMPDIR/bin/bats"
}

@test "run.sh fails when bats fails without a test result" {
	fake_bats 'echo "bats: broken" >&2; exit 1'
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -1 sh "$TOP/tests/run.sh"
	[[ "$output" == *"not ok - bats ran no test (status 1)"* ]]
	[ "${lines[-1]}" = "0 passed, 1 failed" ]
}

@test "run.sh fails when bats prints nothing, even with status 0" {
	fake_bats 'exit 0'
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -1 sh "$TOP/tests/run.sh"
	[ "${lines[-1]}" = "0 passed, 1 failed" ]
}

@test "run.sh fails when bats stops before the end of its plan" {
	fake_bats 'printf "1..3\nok 1 one\nok 2 two\n"; kill -SEGV $$'
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -1 sh "$TOP/tests/run.sh"
	[[ "$output" == *"not ok - bats planned 3 tests but reported 2"* ]]
	[ "${lines[-1]}" = "2 passed, 1 failed" ]
}

@test "run.sh fails when bats exits non-zero after all tests passed" {
	fake_bats 'printf "1..1\nok 1 one\n"; exit 3'
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -1 sh "$TOP/tests/run.sh"
	[[ "$output" == *"not ok - bats exited with status 3"* ]]
	[ "${lines[-1]}" = "1 passed, 1 failed" ]
}

@test "run.sh passes a whole plan, and counts a unit program that crashes" {
	fake_bats 'printf "1..2\nok 1 one\nok 2 two\n"'
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -0 sh "$TOP/tests/run.sh"
	[ "${lines[-1]}" = "2 passed, 0 failed" ]
	printf '#!/bin/sh\necho "ok 1 fine"\nkill -SEGV $$\n' >"$BATS_TEST_TMPDIR/unit"
	chmod +x "$BATS_TEST_TMPDIR/unit"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -1 sh "$TOP/tests/run.sh" "$BATS_TEST_TMPDIR/unit"
	[[ "$output" == *"not ok - $BATS_TEST_TMPDIR/unit exited with status 139"* ]]
	[ "${lines[-1]}" = "3 passed, 1 failed" ]
}
