#!/usr/bin/env bats
# What skm prints as JSON or CSV cannot drive a terminal or a spreadsheet
# (runner/safeout.c): hostile data in the store comes out escaped, and a
# file keeps the data exact.

load helpers
bats_require_minimum_version 1.5.0

# A workflow with ESC (a CSI and an OSC 52 that would write the
# clipboard), DEL, C1 CSI (U+009B), a bidi override (U+202E), an isolate
# (U+2066); and one with a raw 0x9b byte, which is not UTF-8.
HOSTILE=$(printf 'a\033[2Jb\033]52;c;aGk=\007c\177d\302\233e\342\200\256f\342\201\246g')
RAW=$(printf 'x\233y')

setup() {
	cd "$BATS_TEST_TMPDIR"
	skm-run -s evil -w "$HOSTILE" -- true
	skm-run -s evil -w "$RAW" -- true
	skm-run -s evil -w '=HYPERLINK("http://x","y")' -- true
	skm-run -s evil -w '-2+3' -- true
}

# on_tty CMD...: CMD's output as a terminal gets it (script(1) gives it a
# pty), carriage returns of the pty's newlines removed.
on_tty() {
	script -qec "$(printf '%q ' "$@")" /dev/null | tr -d '\r'
}

# no_controls FILE: no C0 but newline and tab, no DEL, no C1, no bidi
# control, nothing that is not UTF-8.
no_controls() {
	! LC_ALL=C grep -q $'[\001-\010\013-\037\177]' "$1"
	! grep -qaP '\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null
}

@test "--json escapes C1 controls, DEL and bidi controls, in every query" {
	local cmd
	for cmd in "show evil" "recent" "summary" "errors" "search evil" "stats"; do
		echo "skm $cmd --json"
		skm $cmd --json >out
		grep -aq 'a\\u001b\[2Jb' out || [ "$cmd" = errors ] || [ "$cmd" = stats ] || [ "$cmd" = "show evil" ]
		! grep -aq $'\033' out
		! grep -aq $'\177' out
		! grep -aqP '\xc2\x9b|\xe2\x80\xae|\xe2\x81\xa6' out
	done
	skm recent --json >out
	grep -aq 'c\\u007fd\\u009be\\u202ef\\u2066g' out
}

@test "--json means the same text: a JSON parser reads the data back exactly" {
	skm recent --json >out
	python3 - "$HOSTILE" <<'PY'
import json, sys
rows = json.load(open("out", encoding="utf-8", errors="surrogateescape"))
assert any(r["workflow_path"] == sys.argv[1] for r in rows), rows
PY
}

@test "--json is UTF-8 even to a pipe: a byte that is not becomes U+FFFD; export keeps it for import" {
	local cmd
	for cmd in "recent" "show evil" "summary" "search evil" "trace"; do
		echo "skm $cmd --json"
		skm $cmd --json >out
		iconv -f UTF-8 -t UTF-8 out >/dev/null
		! grep -aq $'\233' out
	done
	skm recent --json >out
	# a strict parser reads it
	python3 -c 'import json; rows = json.load(open("out", encoding="utf-8"))
assert any(r["workflow_path"] == "x\ufffdy" for r in rows), rows'
	skm export >runs.jsonl
	grep -aq $'x\233y' runs.jsonl
	skm export --format otlp-json >otlp.json
	iconv -f UTF-8 -t UTF-8 otlp.json >/dev/null
}

@test "check --json escapes what it names, as every query does" {
	skm-run -s "$(printf 'bidi\342\200\256x')" -- true
	skm stats >/dev/null
	sqlite3 "$SKM_DB" "UPDATE skill_metrics SET total_invocations = 9"
	run -1 skm check --json
	[[ "$output" == *'bidi\u202ex'* ]]
	! grep -aqP '\xe2\x80\xae' <<<"$output"
}

@test "--json to a terminal carries no control and no invalid byte" {
	on_tty skm recent --json >out
	grep -q '\\u009b' out
	grep -q '\\ufffd' out
	no_controls out
}

@test "export as JSON Lines to a file keeps the data exact, and import reads it back" {
	skm export >runs.jsonl
	grep -aq $'x\233y' runs.jsonl
	! grep -aq $'\033' runs.jsonl
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" skm import runs.jsonl
	[ "$(sqlite3 copy.db "SELECT hex(workflow_path) FROM skill_invocation ORDER BY invoked_at LIMIT 1")" = \
	    "$(sql "SELECT hex(workflow_path) FROM skill_invocation ORDER BY invoked_at LIMIT 1")" ]
}

@test "export --format csv to a terminal carries no ESC, OSC 52 or other control" {
	on_tty skm export --format csv >out
	no_controls out
	grep -q 'a\\x1b\[2Jb\\x1b\]52;c;aGk=\\x07c' out
}

@test "export --format csv to a file keeps the data exact" {
	skm export --format csv >runs.csv
	grep -aqF "$HOSTILE" runs.csv
	grep -aq $'x\233y' runs.csv
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" skm import runs.csv
	[ "$(sqlite3 copy.db "SELECT count(*) FROM skill_invocation")" = 4 ]
}

@test "--spreadsheet-safe guards fields a spreadsheet would run, and only with it" {
	skm export --format csv >plain.csv
	grep -q '"=HYPERLINK(""http://x"",""y"")"' plain.csv
	skm export --format csv --spreadsheet-safe >safe.csv
	grep -q "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" safe.csv
	grep -q "\"'-2+3\"" safe.csv
	# numbers are not text: left alone
	[ "$(wc -l <safe.csv)" = "$(wc -l <plain.csv)" ]
	grep -q '"evil"' safe.csv
}
