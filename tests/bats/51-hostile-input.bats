#!/usr/bin/env bats
# Hostile and bad input: every odd string is either stored verbatim and
# shown safely, or refused with a message naming the limit; nothing is
# ever spliced into SQL; secrets never reach the store.

load helpers
bats_require_minimum_version 1.5.0

DROP="'; DROP TABLE skill_metrics; --"

tables_intact() {
	[ "$(sql "SELECT count(*) FROM sqlite_master WHERE name IN ('skill_invocation', 'skill_metrics', 'session_skill', 'skill_invocation_fts')")" -eq 4 ]
	[ "$(sql "PRAGMA integrity_check")" = ok ]
	skm check
}

@test "SQL in every field is stored verbatim and harms nothing" {
	run -2 skm-run -s "$DROP" -w "$DROP" --session "$DROP" --project "$DROP" -f "$DROP" -- sh -c 'exit 2'
	id=$(skm begin --skill "$DROP" --workflow "$DROP" --session "$DROP")
	skm end "$id" --failed --error-type "$DROP" --follow-up "$DROP"
	tables_intact
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = '''; DROP TABLE skill_metrics; --' AND workflow_path = skill_name AND session_id = skill_name")" -eq 2 ]
	[ "$(sql "SELECT total_invocations FROM skill_metrics")" -eq 2 ]
	run -0 skm show "$DROP"
	[[ "$output" == *"$DROP"* ]]
	run -0 skm recent --skill "$DROP"
	run -0 skm end-session "$DROP"
	run -0 skm recompute "$DROP"
	tables_intact
}

@test "FTS5 and JSON path syntax in names is stored verbatim" {
	for name in 'NEAR("a" b)' 'x* OR y' '$.a[0]' 'a"b' 'c\d' '{"k":1}'; do
		skm-run -s "$name" -w "$name" -- true
	done
	[ "$(sql "SELECT count(DISTINCT skill_name) FROM skill_invocation")" -eq 6 ]
	[ "$(sql "SELECT workflow_paths FROM skill_metrics WHERE skill_name = '\$.a[0]'")" = '{"$.a[0]":1}' ]
	tables_intact
}

@test "an empty skill name is refused by both programs" {
	run -125 skm-run -s "" -- true
	run -2 --separate-stderr skm begin --skill ""
	[[ "$stderr" == *"no skill"* ]]
}

@test "a skill name over 256 bytes is refused with the limit named" {
	long=$(head -c 257 /dev/zero | tr '\0' s)
	run -125 --separate-stderr skm-run -s "$long" -- true
	[[ "$stderr" == *"longer than 256 bytes"* ]]
	ok=$(head -c 256 /dev/zero | tr '\0' s)
	skm-run -s "$ok" -- true
	[ "$(sql "SELECT length(skill_name) FROM skill_invocation")" -eq 256 ]
}

@test "a 100 KiB workflow, error type or follow-up is refused with the limit named" {
	# (one argument cannot exceed 128 KiB on Linux; 1 MiB through the
	# library is a unit test)
	big=$(head -c 100000 /dev/zero | tr '\0' w)
	run -2 --separate-stderr skm begin --skill s --workflow "$big"
	[[ "$stderr" == *"workflow longer than 4096 bytes"* ]]
	id=$(skm begin --skill s)
	run -2 --separate-stderr skm end "$id" --error-type "$big"
	[[ "$stderr" == *"error type longer than 4096 bytes"* ]]
	run -2 --separate-stderr skm end "$id" --follow-up "$big"
	[[ "$stderr" == *"follow-up action longer than 4096 bytes"* ]]
	run -125 --separate-stderr skm-run -s s -w "$big" -- true
	[[ "$stderr" == *"workflow longer than 4096 bytes"* ]]
	# the invocation is still open, and can end properly
	skm end "$id"
	[ "$(sql "SELECT total_invocations FROM skill_metrics")" -eq 1 ]
}

@test "skm-run -f of more than 4096 bytes exits 125 before the command runs, and records nothing" {
	big=$(head -c 5000 /dev/zero | tr '\0' f)
	run -125 --separate-stderr skm-run -s s -f "$big" -- touch "$BATS_TEST_TMPDIR/ran"
	[[ "$stderr" == *"follow-up action longer than 4096 bytes"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ ! -e "$SKM_DB.journal" ] || [ "$(sql "SELECT count(*) FROM skill_invocation")" -eq 0 ]
}

@test "control characters and invalid UTF-8 in a workflow are stored verbatim and shown safely" {
	w=$(printf 'a\001b\tc\033[31md\377e')
	skm-run -s ctl -w "$w" -- true
	[ "$(sql "SELECT hex(workflow_path) FROM skill_invocation")" = "$(printf '%s' "$w" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" ]
	for cmd in "show ctl" "recent" "summary" "stats"; do
		run -0 skm $cmd
		[[ "$output" != *$'\033'* ]]
		[[ "$output" != *$'\001'* ]]
		[[ "$output" != *$'\377'* ]]
	done
}

@test "a very long command line is kept up to 64 KiB and marked as cut" {
	skm-run -s long -- true "$(head -c 100000 /dev/zero | tr '\0' a)"
	[ "$(sql "SELECT length(command) <= 65536 AND command LIKE '%...' FROM skill_invocation")" -eq 1 ]
}

@test "passwords, tokens, secrets and keys in options are redacted" {
	skm-run -s r -- true --password=hunter2 --token abc123 --client-secret s3cr3t --api-key=k3y PASSWD=p4 AWS_SECRET_ACCESS_KEY=xyz
	cmd=$(sql "SELECT command FROM skill_invocation")
	for secret in hunter2 abc123 s3cr3t k3y p4 xyz; do
		[[ "$cmd" != *"$secret"* ]]
	done
	[ "$cmd" = "true '--password=***' --token '***' --client-secret '***' '--api-key=***' 'PASSWD=***' 'AWS_SECRET_ACCESS_KEY=***'" ]
}

@test "Authorization headers and user:pass@ in URLs are redacted" {
	skm-run -s r -- true -H 'Authorization: Bearer eyJhbGciOi' https://alice:pa55@example.com/repo.git https://example.com/?q=1
	cmd=$(sql "SELECT command FROM skill_invocation")
	[[ "$cmd" != *eyJhbGciOi* ]]
	[[ "$cmd" != *pa55* ]]
	[ "$cmd" = "true -H 'Authorization: ***' 'https://alice:***@example.com/repo.git' 'https://example.com/?q=1'" ]
}

@test "SKM_REDACT adds option-name patterns" {
	SKM_REDACT='*pin*,otp' skm-run -s r -- true --pin 1234 --otp=9999 --user bob
	[ "$(sql "SELECT command FROM skill_invocation")" = "true --pin '***' '--otp=***' --user bob" ]
}

@test "--no-command records no command line at all" {
	skm-run --no-command -s r -- true --password=hunter2
	[ "$(sql "SELECT command IS NULL FROM skill_invocation")" -eq 1 ]
}
