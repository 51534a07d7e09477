#!/usr/bin/env bats
# lib's shape, read from its objects as a maintainer would with nm.

load helpers

@test "lib's files call each other in one direction only" {
	run python3 "$TOP/tests/layers.py" cycles "$TOP/libskm.a"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "layers, bottom first:"* ]]
}

@test "the drawing of the layers in ARCHITECTURE.md has every file of lib, calls only downward" {
	run python3 "$TOP/tests/layers.py" picture "$TOP/libskm.a" "$TOP/docs/ARCHITECTURE.md"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "every global name of libskm.a is public API or starts with skm__" {
	run python3 "$TOP/tests/layers.py" names "$TOP/libskm.a" "$TOP/lib/skm.h"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the recorders' objects (what skm-run and the shim link) never use SQLite" {
	# event.o, journal.o and record.o are what skm-run and the shim link:
	# no sqlite3_ name may be undefined in them
	for o in event journal record; do
		! nm -u "$TOP/lib/$o.o" | grep -q sqlite3_
	done
}
