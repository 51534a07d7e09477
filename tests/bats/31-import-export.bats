#!/usr/bin/env bats
# skm import and skm export: JSON Lines and CSV, unicode and quotes, ids
# already present, a bad line rejecting everything, and the round trip
# export -> import into an empty store -> export giving the same bytes.

load helpers

bats_require_minimum_version 1.5.0

@test "import reads the reference bulk-import keys from a file and from stdin" {
	cat >"$BATS_TEST_TMPDIR/a.jsonl" <<-'EOF'
	{"id":"r1","skill_name":"lint","invoked_at":"2026-01-05T10:00:00Z","workflow_path":"quick","completed":true,"duration_seconds":1.5,"follow_up_actions":["fix"]}
	{"id":"r2","skill_name":"lint","invoked_at":"2026-01-05T11:00:00+01:00","workflow_path":"quick","completed":false,"duration_seconds":2,"follow_up_actions":[],"error_type":"exit:1","exit_code":1,"session_id":"s","project_path":"/p"}
	EOF
	run -0 skm import "$BATS_TEST_TMPDIR/a.jsonl"
	[ "$output" = "2 records: 2 imported, 0 already present; 1 skill recomputed" ]
	[ "$(sql "SELECT total_invocations || ' ' || completed_invocations || ' ' || workflow_paths FROM skill_metrics")" = '2 1 {"quick":2}' ]
	[ "$(sql "SELECT invoked_at || ' ' || ended_at || ' ' || source FROM skill_invocation WHERE id = 'r2'")" = \
	    "2026-01-05T10:00:00.000Z 2026-01-05T10:00:02.000Z import" ]
	echo '{"id":"r3","skill_name":"lint","invoked_at":"2026-01-05T12:00Z","ended_at":"2026-01-05T12:00:04Z","completed":1}' |
	    skm import - >/dev/null
	[ "$(sql "SELECT total_invocations FROM skill_metrics")" = 3 ]
	# no duration: the two times give it
	[ "$(sql "SELECT duration_seconds FROM skill_invocation WHERE id = 'r3'")" = 4.0 ]
	run -0 skm check
}

@test "importing the same file twice changes nothing" {
	printf '{"id":"x%d","skill_name":"s","invoked_at":"2026-01-05T10:00:00Z","completed":true,"duration_seconds":%d}\n' \
	    1 1 2 2 3 3 >"$BATS_TEST_TMPDIR/a.jsonl"
	skm import "$BATS_TEST_TMPDIR/a.jsonl"
	before=$(skm show s --json)
	run -0 skm import "$BATS_TEST_TMPDIR/a.jsonl"
	[ "$output" = "3 records: 0 imported, 3 already present; 0 skills recomputed" ]
	[ "$(skm show s --json)" = "$before" ]
}

@test "import keeps unicode and quotes in names, paths and map keys" {
	cat >"$BATS_TEST_TMPDIR/u.jsonl" <<-'EOF'
	{"id":"u1","skill_name":"tëst \"q\" 'x' ☕","invoked_at":"2026-01-05T10:00:00Z","workflow_path":"a.b\\c \"d\"","completed":true,"duration_seconds":1,"follow_up_actions":["caf\u00e9","it's"]}
	EOF
	skm import "$BATS_TEST_TMPDIR/u.jsonl" >/dev/null
	run -0 skm show "tëst \"q\" 'x' ☕" --json
	[[ "$output" == *'"workflow_paths":{"a.b\\c \"d\"":1}'* ]]
	[[ "$output" == *'"follow_up_actions":{"café":1,"it'"'"'s":1}'* ]]
	run -0 skm check
}

@test "a partially bad import names the line, exits 1 and leaves nothing behind" {
	skm-run -s kept -- true
	before=$(sql "SELECT count(*) FROM skill_invocation")
	{
		for i in 1 2 3; do
			echo "{\"id\":\"g$i\",\"skill_name\":\"new\",\"invoked_at\":\"2026-01-05T10:00:00Z\",\"completed\":true,\"duration_seconds\":1}"
		done
		echo '{"id":"g4","skill_name":"new","invoked_at":"yesterday","completed":true,"duration_seconds":1}'
		echo "{\"id\":\"g5\",\"skill_name\":\"new\",\"invoked_at\":\"2026-01-05T10:00:00Z\",\"completed\":true,\"duration_seconds\":1}"
	} >"$BATS_TEST_TMPDIR/bad.jsonl"
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/bad.jsonl"
	[[ "$stderr" == *"bad.jsonl: line 4: invoked_at: 'yesterday': not a timestamp"* ]]
	[ -z "$output" ]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = "$before" ]
	[ "$(sql "SELECT count(*) FROM skill_metrics WHERE skill_name = 'new'")" = 0 ]
	run -0 skm check
}

@test "a line that is not JSON, or a missing key, is rejected with its line number" {
	printf '{"id":"a","skill_name":"s","invoked_at":"2026-01-05T10:00:00Z","completed":true,"duration_seconds":1}\nnot json\n' |
	    { run -1 --separate-stderr skm import; [[ "$stderr" == *"stdin: line 2:"* ]]; }
	echo '{"id":"a","skill_name":"s","completed":true}' >"$BATS_TEST_TMPDIR/m.jsonl"
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/m.jsonl"
	[[ "$stderr" == *"line 1: invoked_at: is required"* ]]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = 0 ]
}

@test "import reads CSV with a header, quotes, doubled quotes and newlines" {
	printf '%s\r\n' 'id,skill_name,invoked_at,completed,workflow_path,follow_up_actions,command,duration_seconds' \
	    'c1,lint,2026-01-05T10:00:00Z,true,"a,b","[""x""]","say ""hi""",1.5' \
	    'c2,lint,2026-01-05T10:00:00Z,0,,,"two' 'lines",' >"$BATS_TEST_TMPDIR/a.csv"
	run -0 skm import "$BATS_TEST_TMPDIR/a.csv"
	[ "$output" = "2 records: 2 imported, 0 already present; 1 skill recomputed" ]
	[ "$(sql "SELECT workflow_path || '|' || follow_up_actions || '|' || command FROM skill_invocation WHERE id = 'c1'")" = 'a,b|["x"]|say "hi"' ]
	[ "$(sql "SELECT quote(workflow_path) || '|' || command FROM skill_invocation WHERE id = 'c2'")" = "NULL|two"$'\r\n'"lines" ]
}

@test "import of a missing file exits 1; a second operand exits 2" {
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/nosuch"
	[[ "$stderr" == *"nosuch"* ]]
	run -2 --separate-stderr skm import a b
}

# Real runs of every kind, to export.
record_runs() {
	skm-run -s lint -w "ci/quick" --session s1 -f fix -f "café \"x\"" -- true
	skm-run -s lint -w 'a,b "c"' -- sh -c 'exit 3' || true
	skm-run -s "tëst" -- sh -c 'kill -TERM $$' || true
	id=$(skm begin --skill manual --workflow w)
	skm end "$id" --failed --error-type 'it''s "odd"'
	skm begin --skill running >/dev/null
}

@test "export, import into an empty store, export again: the same bytes" {
	record_runs
	skm export >"$BATS_TEST_TMPDIR/1.jsonl"
	skm export --format csv >"$BATS_TEST_TMPDIR/1.csv"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/1.jsonl")" -eq 4 ]	# not the running one
	[ "$(wc -l <"$BATS_TEST_TMPDIR/1.csv")" -eq 5 ]
	SKM_DB="$BATS_TEST_TMPDIR/2.db" skm import "$BATS_TEST_TMPDIR/1.jsonl"
	SKM_DB="$BATS_TEST_TMPDIR/2.db" skm export >"$BATS_TEST_TMPDIR/2.jsonl"
	cmp "$BATS_TEST_TMPDIR/1.jsonl" "$BATS_TEST_TMPDIR/2.jsonl"
	SKM_DB="$BATS_TEST_TMPDIR/3.db" skm import "$BATS_TEST_TMPDIR/1.csv"
	SKM_DB="$BATS_TEST_TMPDIR/3.db" skm export --format csv >"$BATS_TEST_TMPDIR/3.csv"
	cmp "$BATS_TEST_TMPDIR/1.csv" "$BATS_TEST_TMPDIR/3.csv"
	SKM_DB="$BATS_TEST_TMPDIR/3.db" skm export >"$BATS_TEST_TMPDIR/3.jsonl"
	cmp "$BATS_TEST_TMPDIR/1.jsonl" "$BATS_TEST_TMPDIR/3.jsonl"
	SKM_DB="$BATS_TEST_TMPDIR/2.db" run -0 skm check
	[ "$(SKM_DB="$BATS_TEST_TMPDIR/2.db" skm stats --json)" = "$(skm stats --json | sed 's/,{"skill_name":"running"[^}]*}//')" ]
}

@test "export --skill and --since filter, oldest first" {
	printf '{"id":"%s","skill_name":"%s","invoked_at":"%s","completed":1,"duration_seconds":1}\n' \
	    b new 2026-01-05T00:00:00Z a old 2020-01-01T00:00:00Z c new 2020-06-01T00:00:00Z |
	    skm import - >/dev/null
	run -0 skm export
	[[ "${lines[0]}" == '{"id":"a",'* && "${lines[1]}" == '{"id":"c",'* && "${lines[2]}" == '{"id":"b",'* ]]
	run -0 skm export --skill new
	[ "${#lines[@]}" -eq 2 ]
	run -0 skm export --since 2025-01-01
	[ "${#lines[@]}" -eq 1 ]
	run -0 skm export --since 2025-01-01 --format csv
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == id,skill_name,invoked_at,ended_at,* ]]
	run -2 --separate-stderr skm export --format xml
	run -2 --separate-stderr skm export --since 3 days
	run -2 --separate-stderr skm export --since "'; DROP TABLE skill_metrics; --"
	[ "$(sql "SELECT count(*) FROM skill_metrics")" = 2 ]
}

@test "an import with a duration over 100 years is refused naming the line" {
	printf '{"id":"h1","skill_name":"x","invoked_at":"2026-01-01T00:00:00Z","completed":true,"duration_seconds":1e300}\n' >"$BATS_TEST_TMPDIR/h.jsonl"
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/h.jsonl"
	[[ "$stderr" == *"line 1: duration_seconds: longer than 100 years" ]]
}

@test "import refuses Inf, a clamped integer, an escaped NUL, hex and a run without a duration" {
	head='{"id":"i1","skill_name":"x","invoked_at":"2026-01-01T00:00:00Z"'
	for rest in ',"completed":true,"duration_seconds":1e999}' \
	    ',"completed":false,"max_rss_kb":100000000000000000000}' \
	    ',"completed":false,"command":"a\u0000b"}' \
	    ',"completed":true}'; do
		printf '{"id":"i0","skill_name":"x","invoked_at":"2026-01-01T00:00:00Z","completed":false}\n%s%s\n' "$head" "$rest" >"$BATS_TEST_TMPDIR/i.jsonl"
		run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/i.jsonl"
		[[ "$stderr" == *"i.jsonl: line 2: "* ]]
	done
	printf 'id,skill_name,invoked_at,completed,duration_seconds\ni2,x,2026-01-01T00:00:00Z,1,0x10\n' >"$BATS_TEST_TMPDIR/i.csv"
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/i.csv"
	[[ "$stderr" == *"line 2: duration_seconds: not a number"* ]]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = 0 ]
}

@test "export writes reals that read back exactly" {
	printf '{"id":"e1","skill_name":"x","invoked_at":"2026-01-01T00:00:00Z","completed":true,"duration_seconds":0.43333333333333335,"user_cpu_seconds":0.1,"sys_cpu_seconds":5e-324}\n' >"$BATS_TEST_TMPDIR/e.jsonl"
	skm import "$BATS_TEST_TMPDIR/e.jsonl" >/dev/null
	run -0 skm export
	[[ "$output" == *'"duration_seconds":0.43333333333333335,'* ]]
	[[ "$output" == *'"user_cpu_seconds":0.1,'* ]]
	[[ "$output" == *'"sys_cpu_seconds":5e-324,'* ]]
	run -0 skm export --format csv
	[[ "${lines[1]}" == *',0.43333333333333335,'* ]]
}

@test "an imported command line has its secrets hidden as skm-run hides them, JSON Lines and CSV alike" {
	cat >"$BATS_TEST_TMPDIR/s.jsonl" <<-'EOF'
	{"id":"s1","skill_name":"x","invoked_at":"2026-01-01T00:00:00Z","completed":true,"duration_seconds":1,"command":"mysql '--password=hunter2' -phunter2 https://bob:pw@h/ ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
	EOF
	printf 'id,skill_name,invoked_at,completed,duration_seconds,command\ns2,x,2026-01-01T00:00:01Z,1,1,"curl -H ""Authorization:Bearer abc"" -u alice:pw https://h/"\n' >"$BATS_TEST_TMPDIR/s.csv"
	skm import "$BATS_TEST_TMPDIR/s.jsonl" >/dev/null
	skm import "$BATS_TEST_TMPDIR/s.csv" >/dev/null
	[ "$(sql "SELECT command FROM skill_invocation WHERE id = 's1'")" = \
	    "mysql '--password=***' -p*** https://bob:***@h/ ***" ]
	[ "$(sql "SELECT command FROM skill_invocation WHERE id = 's2'")" = \
	    "curl -H \"Authorization:***\" -u alice:*** https://h/" ]
	! sql "SELECT command FROM skill_invocation" | grep -qE 'hunter2|pw@|ghp_|abc'
	# what is hidden stays hidden: the round trip gives the same bytes
	skm export >"$BATS_TEST_TMPDIR/a.jsonl"
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	SKM_DB="$BATS_TEST_TMPDIR/copy.db" skm export | cmp - "$BATS_TEST_TMPDIR/a.jsonl"
	# the importing user's SKM_REDACT patterns apply too
	printf '{"id":"s4","skill_name":"x","invoked_at":"2026-01-01T00:00:03Z","completed":true,"duration_seconds":1,"command":"login --pin 1234 --otp=9999 --user bob"}\n' |
	    SKM_REDACT='*pin*,otp' skm import - >/dev/null
	[ "$(sql "SELECT command FROM skill_invocation WHERE id = 's4'")" = \
	    "login --pin *** --otp=*** --user bob" ]
	# a NUL in a command line is refused, as in a skill name
	printf 'id,skill_name,invoked_at,completed,duration_seconds,command\ns3,x,2026-01-01T00:00:02Z,1,1,"a\0b"\n' >"$BATS_TEST_TMPDIR/n.csv"
	run -1 --separate-stderr skm import "$BATS_TEST_TMPDIR/n.csv"
	[[ "$stderr" == *"command: holds a NUL character"* ]]
}

@test "an import into an empty store killed at any instant leaves nothing behind, and the store in WAL mode" {
	sh "$TOP/bench/gen-jsonl.sh" 100000 >"$BATS_TEST_TMPDIR/big.jsonl"
	inside=0
	for delay in 0 0.05 0.2 0.4 0.8; do
		rm -rf "$SKM_DB" "$SKM_DB"-* "$SKM_DB.journal"
		new_store
		skm import "$BATS_TEST_TMPDIR/big.jsonl" >/dev/null &
		pid=$!
		# the load writes through a rollback journal (no other
		# connection): kill it while that is there, or after
		for _ in $(seq 500); do
			[ -e "$SKM_DB-journal" ] || ! kill -0 $pid 2>/dev/null && break
			sleep 0.01
		done
		sleep $delay
		[ -e "$SKM_DB-journal" ] && inside=$((inside + 1))
		kill -9 $pid 2>/dev/null || true
		wait $pid || true
		# the next command rolls the journal back and puts WAL back
		n=$(sql "SELECT count(*) FROM skill_invocation")
		[ "$n" -eq 0 ] || [ "$n" -eq 100000 ]
		[ ! -e "$SKM_DB-journal" ]
		[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode")" = wal ]
		[ "$(sqlite3 "$SKM_DB" "PRAGMA integrity_check")" = ok ]
		run -0 skm check
	done
	# at least one kill came while the load was being written
	[ "$inside" -ge 1 ]
}

@test "a store left in rollback mode is put back in WAL mode by the next command that writes" {
	new_store
	[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode = DELETE")" = delete ]
	run -0 skm drain
	[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode")" = wal ]
	# a recorder never opens the store
	[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode = DELETE")" = delete ]
	skm-run -s t -- true
	[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode")" = delete ]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = 1 ]
	[ "$(sqlite3 "$SKM_DB" "PRAGMA journal_mode")" = wal ]
}
