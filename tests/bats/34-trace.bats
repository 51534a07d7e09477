#!/usr/bin/env bats
# skm trace: an invocation and everything it started, as a tree.

load helpers

# tree: "depth skill critical" of every run of the trace of $1, in order.
tree() {
	skm trace --json $1 >"$BATS_TEST_TMPDIR/trace.json" || return 1
	sqlite3 -batch -noheader :memory: "
	    WITH RECURSIVE t(doc, depth, path) AS (
	      SELECT json(readfile('$BATS_TEST_TMPDIR/trace.json')), 0, ''
	      UNION ALL
	      SELECT e.value, t.depth + 1, t.path || printf('%04d', e.key)
	      FROM t, json_each(t.doc, '\$.children') e)
	    SELECT depth || ' ' || json_extract(doc, '\$.skill_name') || ' ' ||
	      json_extract(doc, '\$.critical') FROM t ORDER BY path"
}

@test "nested skm-run calls make a tree: each run under the one that started it" {
	skm-run -s outer -- sh -c 'skm-run -s a -- sleep 0.2; skm-run -s b -- sh -c "skm-run -s c -- true; skm-run -s d -- false; true"; skm-run -s e -- sleep 0.6 & sleep 0.05; skm-run -s f -- true; wait'
	[ "$(tree)" = "0 outer 1
1 a 1
1 b 1
2 c 1
2 d 1
1 e 1
1 f 0" ]
	run skm trace
	[ "$status" -eq 0 ]
	echo "$output"
	# One line per run and a header and a footer; indented; d failed.
	[ "${#lines[@]}" -eq 9 ]
	[[ "${lines[1]}" == "* outer "*completed* ]]
	[[ "${lines[5]}" == "* │  └─ d "*exit:1*false ]]
	[[ "${lines[7]}" == "  └─ f "*completed* ]]
	[[ "${lines[8]}" == "7 runs; * critical path (6 runs): outer → a → b → c → d → e"* ]]
}

@test "trace takes an id or a unique prefix of one, and the id of a run inside a trace" {
	skm-run -s outer -- sh -c 'skm-run -s inner -- true'
	root=$(sql "SELECT id FROM skill_invocation WHERE skill_name = 'outer'")
	inner=$(sql "SELECT id FROM skill_invocation WHERE skill_name = 'inner'")
	[ "$(tree "$root")" = "$(tree "${root:0:30}")" ]
	[ "$(tree "$inner")" = "0 inner 1" ]
	run skm trace 0000
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such invocation: 0000"* ]]
	run skm trace "$root" "$inner"
	[ "$status" -eq 2 ]
}

@test "a run still going is shown as running, its bar to the end of the trace" {
	skm-run -s outer -- sh -c 'skm begin --skill stuck >/dev/null; true'
	run skm trace
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[2]}" == *"└─ stuck "*"running "*"running"*"░" ]]
	skm trace --json >"$BATS_TEST_TMPDIR/t.json"
	[ "$(sqlite3 -batch :memory: "SELECT json_extract(json(readfile('$BATS_TEST_TMPDIR/t.json')), '\$.children[0].status')")" = running ]
}

@test "through the shim, make -j shows each compiler call under make" {
	[ -z "${SKM_SANITIZED:-}" ] || skip "shim tests run in the plain build (ASan must load first)"
	command -v cc >/dev/null || skip "no cc"
	mkdir "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj"
	for f in a b c d; do echo "int $f(void) { return 1; }" >$f.c; done
	printf 'lib.a: a.o b.o c.o d.o\n\tar rcs $@ $^\n%%.o: %%.c\n\tcc -c -o $@ $<\n' >Makefile
	export SKM_RULES="$BATS_TEST_TMPDIR/rules"
	printf 'make  make *\ncompile  cc -c *\narchive  ar rcs *\n' >"$SKM_RULES"
	new_store
	run env LD_PRELOAD="$TOP/shim/libskm-preload.so" make -s -j4
	[ "$status" -eq 0 ]
	[ -f lib.a ]
	[ "$(tree | cut -d' ' -f1,2)" = "0 make
1 compile
1 compile
1 compile
1 compile
1 archive" ]
	run skm trace
	echo "$output"
	for f in a b c d; do [[ "$output" == *"─ compile "*"cc -c -o $f.o $f.c"* ]]; done
	# The archive waited for the compiles: it is on the critical path.
	[[ "$output" == *"* └─ archive "* ]]
}

@test "trace of an empty store says there is nothing to trace" {
	new_store
	run skm trace
	[ "$status" -eq 1 ]
	[[ "$output" == *"no invocation recorded yet"* ]]
}
