#!/usr/bin/env bats
# The fleet: skm sync into a real PostgreSQL server (started for this
# file by pg.bash, stopped at its end), the query commands on the server
# (--server) with the same JSON as on a store, --host on both, and the
# faults: unreachable, authentication, a connection killed mid-sync, two
# syncs at once, permission denied, the server's disk full, a newer server
# schema, a wrong clock;
# and four machines synced concurrently.

load helpers
load pg

bats_require_minimum_version 1.5.0

setup_file() {
	pg_start
}

teardown_file() {
	pg_stop
}

# gen HOST N SEED: N ended invocations of HOST as JSON Lines, over five
# skills every host shares, in November 2026.
gen() {
	awk -v h="$1" -v n="$2" -v s="$3" 'BEGIN { srand(s);
	for (i = 0; i < n; i++) {
		k = int(rand() * 5); ok = rand() < 0.8; d = rand() * 10;
		e = ok ? "" : sprintf(",\"error_type\":\"exit:%d\"", 1 + int(rand() * 3));
		printf "{\"id\":\"%s-%d\",\"skill_name\":\"skill%d\",", h, i, k;
		printf "\"invoked_at\":\"2026-11-%02dT%02d:%02d:%02d.%03dZ\",", 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000);
		printf "\"workflow_path\":\"ci/wf%d\",\"completed\":%s,", int(rand() * 3), ok ? "true" : "false";
		printf "\"duration_seconds\":%.9f,\"follow_up_actions\":[\"a%d\"],", d, int(rand() * 2);
		printf "\"host\":\"%s\",\"session_id\":\"s%d\"%s}\n", h, int(rand() * 4), e;
	} }'
}

# same_json A B: two JSON documents hold the same keys and values
# (numbers equal to 1e-9, relative; map keys in any order).
same_json() {
	printf '%s' "$1" >"$BATS_TEST_TMPDIR/ja"
	printf '%s' "$2" >"$BATS_TEST_TMPDIR/jb"
	n=$(sqlite3 :memory: "
	WITH a AS (SELECT fullkey AS k, type AS t, atom AS v FROM
	    json_tree(readfile('$BATS_TEST_TMPDIR/ja'))
	    WHERE type NOT IN ('object', 'array')),
	b AS (SELECT fullkey AS k, type AS t, atom AS v FROM
	    json_tree(readfile('$BATS_TEST_TMPDIR/jb'))
	    WHERE type NOT IN ('object', 'array'))
	SELECT count(*) FROM a FULL JOIN b ON a.k = b.k
	WHERE a.k IS NULL OR b.k IS NULL
	OR (a.t IN ('real', 'integer') AND b.t IN ('real', 'integer')
	    AND abs(a.v - b.v) > 1e-9 * (1 + abs(a.v)))
	OR (NOT (a.t IN ('real', 'integer') AND b.t IN ('real', 'integer'))
	    AND a.v IS NOT b.v)")
	if [ "$n" != 0 ]; then
		echo "differ in $n values:"; echo "$1"; echo "$2"
		return 1
	fi
}

@test "sync without a server says how to give one" {
	skm_has_pg || skip "skm was built without libpq"
	new_store
	SKM_SERVER= run -2 skm sync
	[[ "$output" == *"--to URL or set SKM_SERVER"* ]]
}

@test "a password in the connection string is refused, and kept nowhere" {
	skm_has_pg || skip "skm was built without libpq"
	new_store
	run -2 skm sync --to "postgresql://skm:s3cr3t-pw@localhost/skm"
	[[ "$output" == *"~/.pgpass"* && "$output" == *PGSERVICE* ]]
	[[ "$output" != *s3cr3t-pw* ]]
	run -2 skm --server "host=localhost password=s3cr3t-pw" stats
	[[ "$output" != *s3cr3t-pw* ]]
	! grep -r s3cr3t-pw "$BATS_TEST_TMPDIR"
}

@test "--host narrows the queries of a store to machines" {
	gen h1 40 1 >"$BATS_TEST_TMPDIR/h1.jsonl"
	gen h2 40 2 >"$BATS_TEST_TMPDIR/h2.jsonl"
	skm import "$BATS_TEST_TMPDIR/h1.jsonl" >/dev/null
	skm import "$BATS_TEST_TMPDIR/h2.jsonl" >/dev/null
	skm --db "$BATS_TEST_TMPDIR/one.db" import "$BATS_TEST_TMPDIR/h1.jsonl" >/dev/null
	for q in "stats" "show skill1" "summary" "errors" "session s1" \
	    "recent --limit 100" "search skill2" \
	    "timeline skill3 --since 2026-11-01T00:00:00Z --until 2026-11-30T00:00:00Z"; do
		a=$(skm --host h1 $q --json)
		b=$(skm --db "$BATS_TEST_TMPDIR/one.db" $q --json)
		same_json "$a" "$b"
	done
	# two hosts are the whole store
	same_json "$(skm --host h1 --host h2 stats --json)" "$(skm stats --json)"
	[ "$(skm --host nosuch stats --json)" = "[]" ]
	run -2 skm --host h1 export
}

@test "sync pushes every ended invocation once; a second sync sends nothing" {
	pg_need; pg_newdb
	gen h1 300 3 >"$BATS_TEST_TMPDIR/a.jsonl"
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	id=$(skm begin --skill running)
	run -0 skm sync --batch 100
	[[ "$output" == "synced 300 invocations (300 new on the server, 0 already there) in 3 batches, "* ]]
	[ "$(pg_sql "SELECT count(*), count(DISTINCT id) FROM skill_invocation")" = "300|300" ]
	run -0 skm sync --json
	[[ "$output" == '{"sent":0,"inserted":0,"already_present":0,"batches":0,'* ]]
	# the running one goes once it ends
	skm end "$id" --exit 3
	run -0 skm sync
	[[ "$output" == "synced 1 invocation (1 new on the server, 0 already there)"* ]]
	[ "$(pg_sql "SELECT completed, error_type FROM skill_invocation WHERE id = '$id'")" = "f|exit:3" ]
	# machine-local columns stay home
	[ "$(pg_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'skill_invocation' AND column_name IN ('mono_start', 'boot_id', 'pid_start')")" = 0 ]
	# the sync left the stored percentiles current
	[ "$(pg_sql "SELECT count(*) FROM skill_metrics WHERE pct_count <> duration_count")" = 0 ]
	run -0 skm --server check
	[ "$output" = ok ]
	# and check sees rollups that disagree with the invocations
	pg_sql "UPDATE skill_metrics SET total_invocations = total_invocations + 1, pct = ARRAY[1, 2, 3] WHERE skill_name = 'skill2'"
	run -1 skm --server check
	[[ "$output" == *"skill 'skill2': total_invocations differs from a recompute"* ]]
	[[ "$output" == *"skill 'skill2': stored percentiles differ from a recompute"* ]]
	# and the pair and hourly rollups of search and timeline
	pg_sql "UPDATE skill_workflow SET completed_count = completed_count + 1 WHERE skill_name = 'skill1' AND workflow_path = 'ci/wf0';
	    UPDATE skill_timeline SET invocation_count = invocation_count + 1 WHERE hour = (SELECT min(hour) FROM skill_timeline)"
	run -1 skm --server check
	[[ "$output" == *"1 (skill, workflow path) pairs differ from a recompute"* ]]
	[[ "$output" == *"hourly rows (skill_timeline) differ from a recompute"* ]]
}

@test "server queries print the same JSON as the store, and --host narrows them" {
	pg_need; pg_newdb
	gen h1 150 4 >"$BATS_TEST_TMPDIR/a.jsonl"
	gen h2 150 5 >"$BATS_TEST_TMPDIR/b.jsonl"
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	skm import "$BATS_TEST_TMPDIR/b.jsonl" >/dev/null
	skm sync >/dev/null
	for h in "" "--host h1"; do
		for q in "stats" "show skill0" "summary" "errors --skill skill2" \
		    "session s2" "recent --failed --skill skill1" \
		    "timeline skill3 --since 2026-10-01T00:00:00Z --until 2026-12-01T00:00:00Z --bucket week" \
		    "timeline skill3 --since 2026-11-03T00:00:00Z --until 2026-11-05T00:00:00Z --bucket hour" \
		    "timeline skill3 --since 2026-11-04T00:00:00Z --until 2026-11-04T12:00:00Z --bucket minute"; do
			same_json "$(skm $h $q --json)" "$(skm --server "$SKM_SERVER" $h $q --json)"
		done
		# search ranks differently (bm25, ts_rank): the same rows
		a=$(skm $h search '"ci/wf1"' --json)
		b=$(skm --server $h search '"ci/wf1"' --json)
		[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each('$a')")" -gt 0 ]
		same_json "$(sqlite3 :memory: "SELECT json_group_array(json(value)) FROM (SELECT value FROM json_each('$a') ORDER BY value)")" \
		    "$(sqlite3 :memory: "SELECT json_group_array(json(value)) FROM (SELECT value FROM json_each('$b') ORDER BY value)")"
	done
	# the percentiles as stored, and the skill names for completion
	same_json "$(skm show skill1 --persisted --json)" "$(skm --server show skill1 --persisted --json)"
	pg_sql "UPDATE skill_metrics SET pct = ARRAY[1, 2, 3], pct_count = 0 WHERE skill_name = 'skill1'"
	j=$(skm --server show skill1 --persisted --json)
	[ "$(sqlite3 :memory: "SELECT json_extract('$j', '\$.p95_duration_seconds')")" = 2.0 ]
	same_json "$(skm show skill1 --json)" "$(skm --server show skill1 --json)"
	[ "$(skm __complete skills skill)" = "$(skm --server __complete skills skill)" ]
	[ "$(skm --server __complete skills skill | wc -l)" = 5 ]
	[ "$(skm --server __complete skills nosuch)" = "" ]
	# tables too
	[ "$(skm stats)" = "$(skm --server stats)" ]
	[ "$(skm show skill1)" = "$(skm --server show skill1)" ]
	run -1 skm --server show nosuch
	[[ "$output" == *"no such skill: nosuch"* ]]
	run -1 skm --server timeline nosuch
	run -2 skm --server reap
}

@test "text with tabs, newlines, backslashes and any unicode arrives as it was" {
	pg_need; pg_newdb
	printf '%s\n' \
	    '{"id":"t-1","skill_name":"sk\\ill \u00fc","invoked_at":"2026-11-02T10:00:00.000Z","completed":true,"duration_seconds":0.1,"command":"a\tb\nc\\d\re \\N \\\\.","workflow_path":"ci\\wf\t2","host":"h\u00e9 \u200f"}' \
	    '{"id":"t-2","skill_name":"sk\\ill \u00fc","invoked_at":"2026-11-02T11:00:00.000Z","completed":false,"duration_seconds":0.30000000000000004,"command":"\\.","error_type":"exit:1","follow_up_actions":["a\tb","\\N"],"host":"h\u00e9 \u200f"}' |
	    skm import - >/dev/null
	run -0 skm sync
	same_json "$(skm recent --json)" "$(skm --server recent --json)"
	same_json "$(skm stats --json)" "$(skm --server stats --json)"
	same_json "$(skm errors --json)" "$(skm --server errors --json)"
	# the exact text on the server: standard SQL strings, JSON escapes
	cat >"$BATS_TEST_TMPDIR/q.sql" <<-'EOF'
	SELECT count(*) FROM skill_invocation WHERE
	  (id = 't-1' AND command = '"a\tb\nc\\d\re \\N \\\\."'::jsonb #>> '{}'
	   AND workflow_path = '"ci\\wf\t2"'::jsonb #>> '{}')
	  OR (id = 't-2' AND command = '\.'
	   AND follow_up_actions = '["a\tb", "\\N"]'::jsonb
	   AND duration_seconds = 0.30000000000000004::float8)
	EOF
	[ "$(pg_sql "$(cat "$BATS_TEST_TMPDIR/q.sql")")" = 2 ]
	run -0 skm --server --host "$(printf 'h\303\251 \342\200\217')" recent --json
	[ "$(sqlite3 :memory: "SELECT json_array_length('$output')")" = 2 ]
}

@test "an unreachable server: exit 1, libpq's message, nothing marked pushed" {
	pg_need; pg_newdb
	gen h1 10 6 | skm import - >/dev/null
	run -1 skm sync --to "host=$BATS_TEST_TMPDIR port=1 dbname=x"
	[[ "$output" == *"connection to server on socket"*"failed"* ]]
	[ "$(sql "SELECT count(*) FROM sync_state")" = 0 ]
	run -1 skm --server "host=$BATS_TEST_TMPDIR port=1" stats
}

@test "authentication goes through ~/.pgpass / PGPASSFILE; a wrong password fails cleanly" {
	pg_need; pg_newdb
	pg_sql "CREATE ROLE pwuser LOGIN PASSWORD 'right-pw' SUPERUSER"
	gen h1 10 7 | skm import - >/dev/null
	url="host=127.0.0.1 port=$PG_PORT user=pwuser dbname=$PGDB"
	printf '127.0.0.1:%s:*:pwuser:wrong-pw\n' "$PG_PORT" >"$BATS_TEST_TMPDIR/pgpass"
	chmod 600 "$BATS_TEST_TMPDIR/pgpass"
	PGPASSFILE="$BATS_TEST_TMPDIR/pgpass" run -1 skm sync --to "$url"
	[[ "$output" == *"password authentication failed"* ]]
	[ "$(sql "SELECT count(*) FROM sync_state")" = 0 ]
	printf '127.0.0.1:%s:*:pwuser:right-pw\n' "$PG_PORT" >"$BATS_TEST_TMPDIR/pgpass"
	PGPASSFILE="$BATS_TEST_TMPDIR/pgpass" run -0 skm sync --to "$url"
	[[ "$output" == "synced 10 invocations"* ]]
	pg_sql "DROP ROLE pwuser" postgres || true
}

@test "a connection killed mid-sync: the rerun pushes the rest, nothing doubled" {
	pg_need; pg_newdb
	gen h1 6000 8 | skm import - >/dev/null
	skm sync --batch 100 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		n=$(pg_sql "SELECT count(*) FROM skill_invocation" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.05
	done
	pg_sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'skm' AND datname = current_database()" >/dev/null
	st=0
	wait $pid || st=$?
	[ "$st" -eq 1 ]
	[[ "$(cat "$BATS_TEST_TMPDIR/out")" == *"a rerun goes on from there"* ]]
	before=$(pg_sql "SELECT count(*) FROM skill_invocation")
	[ "$before" -lt 6000 ]
	run -0 skm sync
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 6000 ]
	[ "$(pg_sql "SELECT sum(total_invocations) FROM skill_metrics")" = 6000 ]
	run -0 skm --server check
	same_json "$(skm stats --json)" "$(skm --server stats --json)"
}

@test "two syncs of one store at once: one waits, nothing doubled" {
	pg_need; pg_newdb
	gen h1 3000 9 | skm import - >/dev/null
	skm server init >/dev/null
	skm sync --batch 200 >"$BATS_TEST_TMPDIR/o1" &
	p1=$!
	skm sync --batch 200 >"$BATS_TEST_TMPDIR/o2" &
	p2=$!
	wait $p1
	wait $p2
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 3000 ]
	[ "$(pg_sql "SELECT sum(total_invocations) FROM skill_metrics")" = 3000 ]
	cat "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2" | grep -q "nothing to sync"
	run -0 skm --server check
}

@test "a role without INSERT: permission denied, exit 1, nothing marked pushed; the documented GRANTs suffice" {
	pg_need; pg_newdb
	gen h1 50 10 | skm import - >/dev/null
	skm server init >/dev/null
	# roles are the cluster's: made once for the file
	pg_sql "SELECT 1 FROM pg_roles WHERE rolname = 'skm_ro'" | grep -q 1 ||
	    pg_sql "CREATE ROLE skm_ro LOGIN"
	pg_sql "GRANT SELECT ON ALL TABLES IN SCHEMA public TO skm_ro"
	run -1 skm sync --to "$SKM_SERVER user=skm_ro"
	[[ "$output" == *"permission denied for table"* ]]
	[ "$(sql "SELECT scan_rowid, pushed FROM sync_state")" = "0|0" ]
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 0 ]
	# the GRANTs of README "Teams and CI"
	pg_sql "SELECT 1 FROM pg_roles WHERE rolname = 'skm_sync'" | grep -q 1 ||
	    pg_sql "CREATE ROLE skm_sync LOGIN"
	pg_sql "GRANT SELECT ON schema_migrations, skm_server TO skm_sync;
	    GRANT SELECT, INSERT ON skill_invocation TO skm_sync;
	    GRANT SELECT, INSERT, UPDATE ON skill_metrics, skill_workflow,
	      skill_timeline TO skm_sync"
	run -0 skm sync --to "$SKM_SERVER user=skm_sync"
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 50 ]
	run -0 skm --server "$SKM_SERVER user=skm_ro" stats
}

@test "the server's disk full mid-sync: exit 1 with its message, the batches before kept, a rerun pushes the rest" {
	pg_need; pg_newdb
	gen h1 1000 13 | skm import - >/dev/null
	skm server init >/dev/null
	# the third batch meets what a full disk says (SQLSTATE 53100)
	pg_sql "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS \$\$
	    BEGIN
	      IF (SELECT count(*) FROM skill_invocation) >= 200 THEN
	        RAISE EXCEPTION 'could not extend file: No space left on device'
	            USING ERRCODE = 'disk_full';
	      END IF;
	      RETURN NULL;
	    END \$\$;
	    CREATE TRIGGER full_disk BEFORE INSERT ON skill_invocation
	        FOR EACH STATEMENT EXECUTE FUNCTION full_disk()"
	run -1 skm sync --batch 100
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" == *"200 invocations pushed before the failure"* ]]
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 200 ]
	[ "$(pg_sql "SELECT sum(total_invocations) FROM skill_metrics")" = 200 ]
	run -0 skm --server check
	# room again: the rest, once
	pg_sql "DROP TRIGGER full_disk ON skill_invocation"
	run -0 skm sync --batch 100
	[[ "$output" == "synced 800 invocations (800 new on the server, 0 already there)"* ]]
	[ "$(pg_sql "SELECT count(*), count(DISTINCT id) FROM skill_invocation")" = "1000|1000" ]
	run -0 skm --server check
	same_json "$(skm stats --json)" "$(skm --server stats --json)"
}

@test "a server of a newer schema is refused and never written" {
	pg_need; pg_newdb
	gen h1 20 11 | skm import - >/dev/null
	skm server init >/dev/null
	pg_sql "INSERT INTO schema_migrations (version, description, checksum, migration_time_ms) VALUES (99, 'from the future', '0', 0)"
	run -1 skm sync
	[[ "$output" == *"server's schema (99) is newer than this skm's"* ]]
	[ "$(pg_sql "SELECT count(*) FROM skill_invocation")" = 0 ]
	run -1 skm --server stats
	[[ "$output" == *"newer"* ]]
}

@test "a host with a wrong clock keeps its own times, and --host finds its runs" {
	pg_need; pg_newdb
	gen h1 20 12 | skm import - >/dev/null
	printf '{"id":"skew-%d","skill_name":"skill1","invoked_at":"2031-02-0%dT10:00:00.000Z","completed":true,"duration_seconds":%d,"host":"skewed"}\n' \
	    1 1 2 2 2 4 3 3 6 | skm import - >/dev/null
	skm sync >/dev/null
	run -0 skm --server --host skewed recent --json
	[[ "$output" == *'"invoked_at":"2031-02-03T10:00:00.000Z"'* ]]
	[ "$(sqlite3 :memory: "SELECT json_array_length('$output')")" = 3 ]
	same_json "$(skm --host skewed show skill1 --json)" "$(skm --server --host skewed show skill1 --json)"
	j=$(skm --server --host skewed show skill1 --json)
	[ "$(sqlite3 :memory: "SELECT json_extract('$j', '\$.p50_duration_seconds')")" = 4.0 ]
}

@test "a fleet of four machines synced concurrently, then twice more, equals their union" {
	pg_need; pg_newdb
	for h in 1 2 3 4; do
		gen "host$h" 400 $((20 + h)) >"$BATS_TEST_TMPDIR/h$h.jsonl"
		skm --db "$BATS_TEST_TMPDIR/s$h.db" import "$BATS_TEST_TMPDIR/h$h.jsonl" >/dev/null
		skm --db "$BATS_TEST_TMPDIR/u.db" import "$BATS_TEST_TMPDIR/h$h.jsonl" >/dev/null
	done
	for round in 1 2 3; do
		pids=""
		for h in 1 2 3 4; do
			skm --db "$BATS_TEST_TMPDIR/s$h.db" sync --batch 150 >/dev/null &
			pids="$pids $!"
		done
		for p in $pids; do wait $p; done
	done
	[ "$(pg_sql "SELECT count(*), count(DISTINCT id), count(DISTINCT host) FROM skill_invocation")" = "1600|1600|4" ]
	export SKM_DB="$BATS_TEST_TMPDIR/u.db"
	for q in stats summary errors "show skill0" "show skill4" "session s3"; do
		same_json "$(skm $q --json)" "$(skm --server $q --json)"
	done
	same_json "$(skm --host host2 --host host3 stats --json)" \
	    "$(skm --server --host host2 --host host3 stats --json)"
	run -0 skm --server check
	[ "$output" = ok ]
}

@test "a sync of several batches shows its progress on a terminal, and only there" {
	pg_need; pg_newdb
	gen h1 300 7 >"$BATS_TEST_TMPDIR/a.jsonl"
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	run -0 script -qec "skm sync --batch 100" /dev/null
	[[ "$output" == *"skm sync: 100/300 invocations (33%)"* ]]
	[[ "$output" == *"skm sync: 300/300 invocations (100%)"* ]]
	[[ "$output" == *"synced 300 invocations (300 new on the server"* ]]
	# not on a pipe, nor with --json
	rm -f "$SKM_DB"*
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	pg_newdb
	run -0 skm sync --batch 100
	[[ "$output" != *"skm sync:"* ]]
	[[ "$output" == "synced 300 invocations"* ]]
	rm -f "$SKM_DB"*
	skm import "$BATS_TEST_TMPDIR/a.jsonl" >/dev/null
	pg_newdb
	run -0 script -qec "skm sync --batch 100 --json" /dev/null
	[[ "$output" != *"skm sync:"* ]]
	[[ "$output" == '{"sent":300,'* ]]
}

@test "shell completion with --server offers the server's skill names" {
	pg_need; pg_newdb
	gen h1 50 5 >"$BATS_TEST_TMPDIR/far.jsonl"
	skm --db "$BATS_TEST_TMPDIR/far.db" import "$BATS_TEST_TMPDIR/far.jsonl" >/dev/null
	skm --db "$BATS_TEST_TMPDIR/far.db" sync >/dev/null
	skm-run -s localonly -- true
	bcomp() {
		bash -c 'source "$1"; shift
		    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		    _skm; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
		    bash "$TOP/share/bash-completion/completions/skm" "$@"
	}
	[ "$(bcomp skm --server "$SKM_SERVER" show '')" = "skill0 skill1 skill2 skill3 skill4" ]
	[ "$(bcomp skm --server="$SKM_SERVER" timeline sk)" = "skill0 skill1 skill2 skill3 skill4" ]
	[ "$(bcomp skm --server show sk)" = "skill0 skill1 skill2 skill3 skill4" ]
	[ "$(bcomp skm --host h1 show '')" = "localonly" ]
	command -v zsh >/dev/null || skip "no zsh"
	zsh -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh without zsh/zpty"
	run timeout 120 "$TOP/tests/helpers/zsh-complete" "$TOP/share/zsh/site-functions" <<-EOF
	skm --server '$SKM_SERVER' show sk
	skm --server show sk
	skm show lo
	EOF
	printf '%s\n' "${lines[@]}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "skill0 skill1 skill2 skill3 skill4" ]
	[ "${lines[1]}" = "skill0 skill1 skill2 skill3 skill4" ]
	[ "${lines[2]}" = "localonly" ]
}
