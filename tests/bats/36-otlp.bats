#!/usr/bin/env bats
# skm export --format otlp-json: invocations as OpenTelemetry spans,
# checked with OpenTelemetry's own protobuf code (tests/otlp/validate.js).

load helpers

setup() {
	command -v node >/dev/null &&
	    [ -d "$TOP/tests/otlp/node_modules/@opentelemetry/otlp-transformer" ] ||
	    skip "no node or no tests/otlp packages (make deps as root installs them)"
}

# otlp [EXPORT OPTIONS]: export, validate; $output holds one line per
# span "traceId spanId parentSpanId|- name code".
otlp() {
	skm export --format otlp-json "$@" >"$BATS_TEST_TMPDIR/otlp.jsonl"
	run node "$TOP/tests/otlp/validate.js" <"$BATS_TEST_TMPDIR/otlp.jsonl"
	echo "$output"
	[ "$status" -eq 0 ]
}

# span ID: the validator's line of the span whose name is ID.
span() {
	grep " $1 [02]\$" <<<"$output"
}

@test "a tree of runs is one trace: trace id from the root, parents from parent_id, errors as status 2" {
	skm-run -s outer -- sh -c 'skm-run -s a -- true; skm-run -s b -- sh -c "skm-run -s c -- false; true"'
	skm-run -s alone -- true
	otlp
	[ "${#lines[@]}" -eq 5 ]
	root=$(sql "SELECT replace(id, '-', '') FROM skill_invocation WHERE skill_name = 'outer'")
	# Every span of the tree is in the root's trace, on one line.
	[ "$(grep -c "^$root " <<<"$output")" -eq 4 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/otlp.jsonl")" -eq 2 ]
	set -- $(span outer); outer=$2; [ "$3" = - ]
	set -- $(span a); [ "$3" = "$outer" ]; [ "$5" = 0 ]
	set -- $(span b); b=$2; [ "$3" = "$outer" ]
	set -- $(span c); [ "$3" = "$b" ]; [ "$5" = 2 ]
	alone=$(sql "SELECT replace(id, '-', '') FROM skill_invocation WHERE skill_name = 'alone'")
	set -- $(span alone); [ "$1" = "$alone" ]; [ "$3" = - ]
}

@test "spans carry times in nanoseconds and the invocation's attributes" {
	skm-run -s lint -w ci/full -- sh -c 'exit 3' || true
	otlp
	f="$BATS_TEST_TMPDIR/otlp.jsonl"
	q() { sqlite3 -batch -noheader :memory: "SELECT $1 FROM json_each(json(readfile('$f')), '\$.resourceSpans[0].scopeSpans[0].spans') s"; }
	attr() { q "(SELECT json_extract(a.value, '\$.value') FROM json_each(s.value, '\$.attributes') a WHERE json_extract(a.value, '\$.key') = '$1')"; }
	start=$(sql "SELECT CAST(round((julianday(invoked_at) - 2440587.5) * 86400000) AS INTEGER) || '000000' FROM skill_invocation")
	[ "$(q "json_extract(s.value, '\$.startTimeUnixNano')")" = "$start" ]
	dur=$(q "CAST(json_extract(s.value, '\$.endTimeUnixNano') AS INTEGER) - CAST(json_extract(s.value, '\$.startTimeUnixNano') AS INTEGER)")
	[ "$dur" -eq "$(sql "SELECT CAST(round(duration_seconds * 1e9) AS INTEGER) FROM skill_invocation")" ]
	[ "$(q "json_extract(s.value, '\$.status.message')")" = "exit:3" ]
	[ "$(q "json_extract(s.value, '\$.name')")" = "lint" ]
	[ "$(attr skm.workflow_path)" = '{"stringValue":"ci/full"}' ]
	[ "$(attr error.type)" = '{"stringValue":"exit:3"}' ]
	[ "$(attr process.exit.code)" = '{"intValue":"3"}' ]
	[ "$(attr host.name)" = "{\"stringValue\":\"$(sql 'SELECT host FROM skill_invocation')\"}" ]
	[ "$(attr process.command_line)" = '{"stringValue":"sh -c '"'"'exit 3'"'"'"}' ]
	[ "$(attr skm.completed)" = '{"boolValue":false}' ]
	[ "$(q "json_extract(s.value, '\$.kind')")" = 1 ]
}

@test "a child exported alone keeps its root's trace; ids are the same at every export" {
	skm-run -s outer -- sh -c 'skm-run -s inner -- true'
	otlp
	all=$output
	otlp --skill inner
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "$(grep ' inner 0$' <<<"$all")" ]
	skm export --format otlp-json >"$BATS_TEST_TMPDIR/1"
	skm export --format otlp-json >"$BATS_TEST_TMPDIR/2"
	cmp "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2"
}

@test "imported ids that are not UUIDs get hashed ids; odd text stays valid" {
	printf '%s\n' \
	    '{"id":"r-1","skill_name":"q\"uote\\\\ ü 日本","invoked_at":"2026-01-05T10:00:00Z","completed":true,"duration_seconds":2,"command":"a\u0001b\u001b[31m","follow_up_actions":["x","y\"z"]}' \
	    '{"id":"k-1","parent_id":"r-1","skill_name":"kid","invoked_at":"2026-01-05T10:00:01Z","completed":false,"duration_seconds":0.5}' \
	    '{"id":"o-1","parent_id":"never-recorded","skill_name":"orphan","invoked_at":"2026-01-05T10:00:03Z","completed":true,"duration_seconds":1}' |
	    skm import - >/dev/null
	otlp
	[ "${#lines[@]}" -eq 3 ]
	set -- $(grep ' kid 2$' <<<"$output"); kid_trace=$1 kid_parent=$3
	set -- $(grep '^[0-9a-f]* [0-9a-f]* - ' <<<"$output")
	[ "$1" = "$kid_trace" ]; [ "$2" = "$kid_parent" ]
	set -- $(grep ' orphan 0$' <<<"$output")
	[ "$1" != "$kid_trace" ]; [ "$3" != - ]
	# The actions are an array attribute.
	grep -q '"key":"skm.follow_up_actions","value":{"arrayValue":{"values":\[{"stringValue":"x"},{"stringValue":"y\\"z"}\]}}' "$BATS_TEST_TMPDIR/otlp.jsonl"
}

@test "the validator rejects what is not OTLP (a misspelt field, a short id)" {
	skm-run -s one -- true
	skm export --format otlp-json | sed 's/startTimeUnixNano/startTimeUnixnano/' >"$BATS_TEST_TMPDIR/bad"
	run node "$TOP/tests/otlp/validate.js" <"$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"round trip"* ]]
	skm export --format otlp-json | sed 's/"spanId":"[0-9a-f]\{2\}/"spanId":"/' >"$BATS_TEST_TMPDIR/bad"
	run node "$TOP/tests/otlp/validate.js" <"$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"spanId"*"16 lower-case hex"* ]]
}

@test "export --format names otlp-json among the formats" {
	run skm export --format xml
	[ "$status" -eq 2 ]
	[[ "$output" == *"otlp-json"* ]]
}
