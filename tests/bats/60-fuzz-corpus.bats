#!/usr/bin/env bats
# The fuzz targets' seed and regression corpora replayed with the ordinary
# build: every input that once mattered keeps passing.

load helpers

replay() {
	local name=$1 files
	# (regress/NAME may not exist yet: git keeps no empty directories)
	files=$(find "$TOP/tests/fuzz/corpus/$name" "$TOP/tests/fuzz/regress/$name" -type f 2>/dev/null || true)
	[ -n "$files" ]
	run "$TOP/tests/fuzz/replay-$name" $files
	[ "$status" -eq 0 ]
	[[ "$output" == "replayed "*" inputs" ]]
}

@test "the rules-file parser replays its fuzz corpus" { replay rules; }
@test "the journal reader and the fold replay their fuzz corpus" { replay journal; }
@test "redaction replays its fuzz corpus" { replay redact; }
@test "import replays its fuzz corpus" { replay import; }
@test "the time and --since parsers replay their fuzz corpus" { replay since; }
