#!/usr/bin/env bats
# skm, the query CLI: usage errors, begin/end, and the stats, show, summary
# and recent queries in their human and --json forms, including names that
# try to smuggle escape sequences onto the terminal.

load helpers

bats_require_minimum_version 1.5.0

ESC=$'\e'

# record SKILL [END-OPTIONS...]: begin and end one invocation of SKILL.
record() {
	local skill=$1 id
	shift
	id=$(skm begin --skill "$skill") || return 1
	skm end "$id" "$@"
}

# jget FILE PATH: the value at the JSON path PATH in FILE, by SQLite.
jget() {
	sqlite3 -batch :memory: "SELECT json_extract(readfile('$1'), '$2')"
}

# jkeys FILE [PATH]: the sorted keys of the object at PATH (default $).
jkeys() {
	sqlite3 -batch :memory: "SELECT group_concat(key, ' ') FROM
	    (SELECT key FROM json_each(readfile('$1'), '${2:-\$}') ORDER BY key)"
}

# --- usage -----------------------------------------------------------------

@test "skm without a command prints the usage on stderr and exits 2" {
	run -2 --separate-stderr skm
	[ -z "$output" ]
	[[ "$stderr" == "usage: skm [--db FILE] COMMAND [ARGS]"* ]]
}

@test "skm help says what each command is for, on stdout, and exits 0" {
	run -0 --separate-stderr skm help
	[[ "$output" == "usage: skm [--db FILE] COMMAND [ARGS]"* ]]
	[[ "$output" == *"  end-session  store exact min/max/p50/p95/p99 for every skill of a session"* ]]
	[[ "$output" == *'$SKM_DB'* ]]
	[[ "$output" == *'--server URL (alone: $SKM_SERVER)'* ]]
	[[ "$output" == *'--host H (repeatable)'* ]]
	[ -z "$stderr" ]
	run -0 skm help recent
	[[ "${lines[0]}" == "usage: skm recent [--skill S] [--limit N] [--failed] [--json]" ]]
	run -2 skm help nosuch
	run -0 skm --help
	[[ "$output" == "usage: skm"* ]]
	[[ "$output" == *"skm recent [--skill S] [--limit N] [--failed] [--json]"* ]]
}

@test "skm --version and skm-run --version print the version" {
	run -0 skm --version
	[[ "$output" == "skm "[0-9]*.[0-9]*.[0-9]*" (libskm "* ]]
	run -0 skm-run --version
	[[ "$output" == "skm-run "[0-9]*.[0-9]*.[0-9]*" (libskm "* ]]
}

@test "an unknown command is named in the error and exits 2" {
	run -2 --separate-stderr skm frobnicate
	[ -z "$output" ]
	[[ "$stderr" == *"unknown command: frobnicate"* ]]
	[[ "$stderr" == *"usage: skm"* ]]
}

@test "an unknown option of a command is named in the error and exits 2" {
	run -2 --separate-stderr skm stats --bogus
	[[ "${stderr_lines[0]}" == *"unknown option: --bogus"* ]]
	[ "${stderr_lines[1]}" = "usage: skm stats [--json]" ]
}

@test "an unknown global option is named in the error and exits 2" {
	run -2 --separate-stderr skm --bogus stats
	[[ "$stderr" == *"unknown option: --bogus"* ]]
}

@test "a --limit that is not a number is named in the error and exits 2" {
	run -2 --separate-stderr skm recent --limit abc
	[[ "$stderr" == *"--limit abc: invalid"* ]]
	[[ "$stderr" == *"usage: skm recent"* ]]
	[ ! -e "$SKM_DB" ]
}

@test "a --limit of zero is too small and exits 2" {
	run -2 --separate-stderr skm recent --limit 0
	[[ "$stderr" == *"--limit 0: too small"* ]]
}

@test "an option missing its argument is a usage error naming it" {
	run -2 --separate-stderr skm recent --skill
	[[ "$stderr" == *"option --skill needs an argument"* ]]
}

@test "show without a skill name is a usage error" {
	run -2 --separate-stderr skm show
	[[ "$stderr" == *"show: missing SKILL"* ]]
	[[ "$stderr" == *"usage: skm show SKILL [--persisted] [--json]"* ]]
}

@test "show with two skill names is a usage error naming the extra one" {
	run -2 --separate-stderr skm show a b
	[[ "$stderr" == *"unexpected argument: b"* ]]
}

@test "begin without --skill is a usage error" {
	run -2 --separate-stderr skm begin --workflow quick
	[[ "$stderr" == *"--skill is required"* ]]
	[ ! -e "$SKM_DB" ]
}

@test "end without an invocation id is a usage error" {
	run -2 --separate-stderr skm end --failed
	[[ "$stderr" == *"end: missing ID"* ]]
}

@test "end with both --exit and --failed is a usage error" {
	run -2 --separate-stderr skm end some-id --exit 0 --failed
	[[ "$stderr" == *"exclude each other"* ]]
}

@test "end with an --exit above 255 is a usage error" {
	run -2 --separate-stderr skm end some-id --exit 256
	[[ "$stderr" == *"--exit 256: too large"* ]]
}

@test "a command's --help prints its synopsis and options and exits 0" {
	run -0 --separate-stderr skm recent --help
	[ "${lines[0]}" = "usage: skm recent [--skill S] [--limit N] [--failed] [--json]" ]
	[[ "$output" == *"-n, --limit N "*"at most N invocations (default 20)"* ]]
	[[ "$output" == *"-j, --json "* ]]
	[ -z "$stderr" ]
	# skm help COMMAND prints the same.
	want=$output
	run -0 skm help recent
	[ "$output" = "$want" ]
}

@test "every command listed by skm help takes --help, prints its usage and exits 0" {
	export SKM_DB="$BATS_TEST_TMPDIR/nowhere/metrics.db"
	cmds=$(skm help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
	[ "$(echo "$cmds" | wc -l)" -ge 19 ]
	for c in $cmds; do
		run -0 --separate-stderr skm "$c" --help
		[ "${lines[0]}" = "usage: $(skm --help | sed -n "s/^ *\(skm $c\( .*\)\{0,1\}\)\$/\1/p")" ] ||
		    { echo "$c: ${lines[0]}"; false; }
		[ -z "$stderr" ]
		run -0 skm "$c" -h
	done
	# Asking for help never creates a store.
	[ ! -e "$BATS_TEST_TMPDIR/nowhere" ]
}

@test "no handler ends the program: exit, err and errx are called by main alone" {
	# A handler returns its status; main closes the store and checks
	# stdout (docs/ARCHITECTURE.md, "The skm CLI").
	run grep -nE '(^|[^_a-z])(exit|_exit|err|errx|verr|verrx)[[:space:]]*\(' \
	    "$TOP"/runner/cmd-*.c "$TOP"/runner/cmds.c "$TOP"/runner/fmt.c \
	    "$TOP"/runner/safeout.c
	[ "$status" -eq 1 ] || { echo "$output"; false; }
	# in cli.c, only inside main()
	run awk '/^main\(/ { m = 1 } m && /^}/ { m = 0 }
	    !m && /(^|[^_a-z])(exit|_exit|err|errx)[[:space:]]*\(/ { print FILENAME ":" FNR ": " $0 }' \
	    "$TOP/runner/cli.c"
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "--help after other options and operands still wins, an error before it does not" {
	run -0 skm end some-id --failed --help
	[[ "${lines[0]}" == "usage: skm end ID "* ]]
	run -2 --separate-stderr skm end --bogus --help
	[[ "$stderr" == *"unknown option: --bogus"* ]]
}

@test "a mistyped command gets a did-you-mean from the command table" {
	run -2 --separate-stderr skm stat
	[[ "${stderr_lines[0]}" == "skm: unknown command: stat (did you mean stats?)" ]]
	run -2 --separate-stderr skm recnet
	[[ "${stderr_lines[0]}" == *"(did you mean recent?)" ]]
	run -2 --separate-stderr skm end-sesion x
	[[ "${stderr_lines[0]}" == *"(did you mean end-session?)" ]]
	# Nothing near: no suggestion.
	run -2 --separate-stderr skm frobnicate
	[ "${stderr_lines[0]}" = "skm: unknown command: frobnicate" ]
	run -2 --separate-stderr skm help stast
	[[ "${stderr_lines[0]}" == *"unknown command: stast (did you mean stats?)" ]]
}

@test "a mistyped option gets a did-you-mean from the command's row" {
	run -2 --separate-stderr skm recent --limt 3
	[ "${stderr_lines[0]}" = "skm: unknown option: --limt (did you mean --limit?)" ]
	[ "${stderr_lines[1]}" = "usage: skm recent [--skill S] [--limit N] [--failed] [--json]" ]
	run -2 --separate-stderr skm show x --jsno
	[[ "${stderr_lines[0]}" == *"unknown option: --jsno (did you mean --json?)" ]]
	run -2 --separate-stderr skm end x --error-typ t --follwo-up a
	[[ "${stderr_lines[0]}" == *"unknown option: --follwo-up (did you mean --follow-up?)" ]]
	# An option of another command is not suggested.
	run -2 --separate-stderr skm stats --failed
	[ "${stderr_lines[0]}" = "skm: unknown option: --failed" ]
	# A global option too.
	run -2 --separate-stderr skm --dbb x stats
	[[ "${stderr_lines[0]}" == *"unknown option: --dbb (did you mean --db?)" ]]
}

@test "options parse as with getopt_long: =, prefixes, short clusters and --" {
	record build
	record lint --exit 2
	run -0 skm recent --limit=1
	[ "${#lines[@]}" -eq 2 ]
	run -0 skm recent --lim 1 --fail
	[[ "${lines[1]}" == *lint* ]]
	run -0 skm recent -n1 -s build
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *build* ]]
	skm recent -jn 1 >"$BATS_TEST_TMPDIR/r.json"
	[ "$(jget "$BATS_TEST_TMPDIR/r.json" '$[0].skill_name')" = lint ]
	run -2 --separate-stderr skm recent --json=yes
	[[ "$stderr" == *"option --json takes no argument"* ]]
	run -2 --separate-stderr skm recent -x
	[[ "$stderr" == *"unknown option: -x"* ]]
	run -2 --separate-stderr skm recent -n
	[[ "$stderr" == *"option -n needs an argument"* ]]
	run -2 --separate-stderr skm end x --e
	[[ "$stderr" == *"option --e is ambiguous (did you mean --exit or --error-type?)"* ]]
	# After --, a dash is an operand.
	run -1 --separate-stderr skm show -- --json
	[ "$stderr" = "skm: no such skill: --json" ]
}

# --- version ---------------------------------------------------------------

@test "version prints skm, libskm and schema versions without touching a store" {
	export SKM_DB="$BATS_TEST_TMPDIR/nowhere/metrics.db"
	run -0 skm version
	[[ "$output" =~ ^skm\ [0-9]+\.[0-9]+\.[0-9]+\ \(libskm\ [0-9]+\.[0-9]+\.[0-9]+,\ schema\ [1-9][0-9]*\)$ ]]
	[ ! -e "$BATS_TEST_TMPDIR/nowhere" ]
}

# --- begin / end -----------------------------------------------------------

@test "begin prints the id of a new running invocation" {
	run -0 --separate-stderr skm begin --skill build
	[[ "$output" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	[ "$(sql "SELECT skill_name, quote(ended_at), source FROM skill_invocation
	    WHERE id = '$output'")" = "build|NULL|lib" ]
}

@test "begin --json prints the new id as a JSON object" {
	skm begin --skill build --json >"$BATS_TEST_TMPDIR/b.json"
	id=$(jget "$BATS_TEST_TMPDIR/b.json" '$.id')
	[[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	[ "$(jkeys "$BATS_TEST_TMPDIR/b.json")" = id ]
	[ "$(sql "SELECT skill_name FROM skill_invocation WHERE id = '$id'")" = build ]
}

@test "begin records the workflow, session and project given" {
	id=$(skm begin --skill build --workflow ci/full --session s1 --project /src/p)
	[ "$(sql "SELECT workflow_path, session_id, project_path
	    FROM skill_invocation WHERE id = '$id'")" = "ci/full|s1|/src/p" ]
}

@test "a running invocation does not count in skill_metrics" {
	skm begin --skill build
	[ "$(sql "SELECT count(*) FROM skill_metrics")" = 0 ]
}

@test "end without options records a completed invocation" {
	id=$(skm begin --skill build)
	run -0 skm end "$id"
	[ -z "$output" ]
	[ "$(sql "SELECT completed, ended_at IS NOT NULL, duration_seconds >= 0
	    FROM skill_invocation WHERE id = '$id'")" = "1|1|1" ]
	[ "$(sql "SELECT total_invocations, completed_invocations
	    FROM skill_metrics WHERE skill_name = 'build'")" = "1|1" ]
}

@test "end --exit 3 records a failure with exit code 3 and error exit:3" {
	id=$(skm begin --skill build)
	skm end "$id" --exit 3
	[ "$(sql "SELECT completed, exit_code, error_type FROM skill_invocation
	    WHERE id = '$id'")" = "0|3|exit:3" ]
	[ "$(sql "SELECT total_invocations, abandoned_invocations
	    FROM skill_metrics")" = "1|1" ]
}

@test "end --exit 0 records a completion with exit code 0" {
	id=$(skm begin --skill build)
	skm end "$id" --exit 0
	[ "$(sql "SELECT completed, exit_code, quote(error_type)
	    FROM skill_invocation WHERE id = '$id'")" = "1|0|NULL" ]
}

@test "end --failed --error-type counts the error type" {
	record build --failed --error-type timeout
	record build --failed --error-type timeout
	skm show build --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.common_errors.timeout')" = 2 ]
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.completed_invocations')" = 0 ]
}

@test "end counts every --follow-up action, not only the first" {
	record build --follow-up lint --follow-up test --follow-up lint
	skm show build --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.follow_up_actions.lint')" = 2 ]
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.follow_up_actions.test')" = 1 ]
}

@test "ending an invocation twice fails with exit 1 and counts it once" {
	id=$(skm begin --skill build)
	skm end "$id"
	run -1 --separate-stderr skm end "$id" --failed
	[ "$stderr" = "skm: invocation $id already ended" ]
	[ "$(sql "SELECT total_invocations, completed_invocations
	    FROM skill_metrics")" = "1|1" ]
}

@test "ending an unknown invocation fails with exit 1" {
	run -1 --separate-stderr skm end 00000000-0000-7000-8000-000000000000
	[ "$stderr" = "skm: no such invocation: 00000000-0000-7000-8000-000000000000" ]
}

@test "--db before or after the command selects the store" {
	other="$BATS_TEST_TMPDIR/other.db"
	id=$(skm --db "$other" begin --skill build)
	skm end "$id" --db "$other"
	[ "$(sqlite3 "$other" "SELECT total_invocations FROM skill_metrics")" = 1 ]
	[ ! -e "$SKM_DB" ]
}

@test "runs recorded by skm-run show up in skm's queries" {
	skm-run --skill wrapped -- true
	run -1 skm-run --skill wrapped -- false
	f="$BATS_TEST_TMPDIR/s.json"
	skm show wrapped --json >"$f"
	[ "$(jget "$f" '$.total_invocations')" = 2 ]
	[ "$(jget "$f" '$.completed_invocations')" = 1 ]
	[ "$(jget "$f" '$.common_errors."exit:1"')" = 1 ]
}

# --- stats -----------------------------------------------------------------

@test "stats on a new store says no skills are recorded yet and exits 0" {
	new_store
	run -0 skm stats
	[ "$output" = "no skills recorded yet" ]
}

@test "stats --json on a new store is an empty JSON array" {
	new_store
	skm stats --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(sqlite3 :memory: "SELECT json_array_length(readfile('$BATS_TEST_TMPDIR/s.json'))")" = 0 ]
}

@test "stats shows one row per skill under short headers" {
	record build
	record build --exit 1
	record lint
	run -0 skm stats
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^skill\ +runs\ +done\ +rate\ +avg\ +p50\ +p95\ +p99\ +last$ ]]
	[[ "$output" =~ build\ +2\ +1\ +50\.0%\ + ]]
	[[ "$output" =~ lint\ +1\ +1\ +100\.0%\ + ]]
}

@test "stats pads the skill column to the longest name and right-aligns numbers" {
	record a
	record longer-name
	run -0 skm stats
	[[ "${lines[0]}" == "skill        runs  done"* ]]
	[[ "$output" == *"a               1     1"* ]]
	[[ "$output" == *"longer-name     1     1"* ]]
}

@test "stats shows durations in human units and last as stored" {
	record build
	run -0 skm stats
	last=$(sql "SELECT last_invoked FROM skill_metrics")
	[[ "${lines[1]}" =~ \ ([0-9]+ms|[0-9]+\.[0-9]s)\ +([0-9]+ms|[0-9]+\.[0-9]s)\ +([0-9]+ms|[0-9]+\.[0-9]s)\ +([0-9]+ms|[0-9]+\.[0-9]s)\ +$last$ ]]
}

@test "stats --json has one object per skill with the documented keys" {
	record build
	record lint
	skm stats --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(sqlite3 :memory: "SELECT json_array_length(readfile('$BATS_TEST_TMPDIR/s.json'))")" = 2 ]
	[ "$(jkeys "$BATS_TEST_TMPDIR/s.json" '$[0]')" = "avg_duration_seconds completed_invocations completion_rate last_invoked p50_duration_seconds p95_duration_seconds p99_duration_seconds skill_name total_invocations" ]
}

# --- show ------------------------------------------------------------------

@test "show prints a key: value block and then the count maps" {
	record build --follow-up deploy
	id=$(skm begin --skill build --workflow quick)
	skm end "$id" --exit 2
	id=$(skm begin --skill build --workflow quick)
	skm end "$id"
	run -0 skm show build
	[[ "$output" =~ (^|$'\n')skill_name:\ +build$'\n' ]]
	[[ "$output" =~ $'\n'total_invocations:\ +3$'\n' ]]
	[[ "$output" =~ $'\n'completion_rate:\ +66\.7%$'\n' ]]
	[[ "$output" =~ $'\n'workflow_paths\ +quick\ +2($'\n'|$) ]]
	[[ "$output" =~ $'\n'common_errors\ +exit:2\ +1($'\n'|$) ]]
	[[ "$output" =~ $'\n'follow_up_actions\ +deploy\ +1($'\n'|$) ]]
	# The maps are rows, not JSON text.
	[[ "$output" != *"{"* ]]
}

@test "show --json has exactly the documented keys" {
	record build
	skm show build --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jkeys "$BATS_TEST_TMPDIR/s.json")" = "abandoned_invocations avg_duration_seconds common_errors completed_invocations completion_rate first_invoked follow_up_actions last_invoked max_duration_seconds min_duration_seconds p50_duration_seconds p95_duration_seconds p99_duration_seconds skill_name total_duration_seconds total_invocations workflow_paths" ]
}

@test "show --json keeps a workflow path with a dot as one key" {
	id=$(skm begin --skill build --workflow ci.full)
	skm end "$id"
	skm show build --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.workflow_paths."ci.full"')" = 1 ]
}

@test "show of an unknown skill exits 1 naming the skill" {
	new_store
	run -1 --separate-stderr skm show nosuch
	[ "$stderr" = "skm: no such skill: nosuch" ]
	[ -z "$output" ]
	run -1 --separate-stderr skm show nosuch --json
	[ "$stderr" = "skm: no such skill: nosuch" ]
	[ -z "$output" ]
}

@test "percentiles follow linear interpolation over the recorded durations" {
	for s in 0.05 0.15 0.3 0.02; do
		id=$(skm begin --skill p)
		sleep "$s"
		skm end "$id"
	done
	f="$BATS_TEST_TMPDIR/s.json"
	skm show p --json >"$f"
	# n = 4: p50 at k = 1.5, p95 at k = 2.85, p99 at k = 2.97.
	want() {
		sql "WITH v AS (SELECT duration_seconds AS d, row_number() OVER
		    (ORDER BY duration_seconds) - 1 AS i FROM skill_invocation)
		  SELECT abs((SELECT d FROM v WHERE i = $1) + $2 *
		    ((SELECT d FROM v WHERE i = $1 + 1) - (SELECT d FROM v WHERE i = $1))
		    - $3) < 1e-9"
	}
	[ "$(want 1 0.5 "$(jget "$f" '$.p50_duration_seconds')")" = 1 ]
	[ "$(want 2 0.85 "$(jget "$f" '$.p95_duration_seconds')")" = 1 ]
	[ "$(want 2 0.97 "$(jget "$f" '$.p99_duration_seconds')")" = 1 ]
	[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$f'), '\$.min_duration_seconds')
	    <= json_extract(readfile('$f'), '\$.p50_duration_seconds')
	    AND json_extract(readfile('$f'), '\$.p99_duration_seconds')
	    <= json_extract(readfile('$f'), '\$.max_duration_seconds')
	    AND json_extract(readfile('$f'), '\$.min_duration_seconds') >= 0.02
	    AND json_extract(readfile('$f'), '\$.max_duration_seconds') >= 0.3")" = 1 ]
}

# --- summary ---------------------------------------------------------------

@test "summary --json has exactly the documented keys and the totals" {
	record build
	record build --exit 1
	record lint
	id=$(skm begin --skill lint --workflow quick)
	skm end "$id" --failed --error-type timeout
	f="$BATS_TEST_TMPDIR/s.json"
	skm summary --json >"$f"
	[ "$(jkeys "$f")" = "avg_duration_seconds most_used_count most_used_skill overall_completion_rate top_error_types top_workflow_paths total_invocations total_skills" ]
	[ "$(jget "$f" '$.total_skills')" = 2 ]
	[ "$(jget "$f" '$.total_invocations')" = 4 ]
	[ "$(jget "$f" '$.overall_completion_rate')" = 50.0 ]
	[ "$(jget "$f" '$.most_used_skill')" = build ]
	[ "$(jget "$f" '$.most_used_count')" = 2 ]
	[ "$(jget "$f" '$.top_error_types.timeout')" = 1 ]
	[ "$(jget "$f" '$.top_workflow_paths.quick')" = 1 ]
}

@test "summary breaks a tie for the most used skill by name" {
	record zeta
	record alpha
	skm summary --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.most_used_skill')" = alpha ]
}

@test "summary prints its totals as a key: value block" {
	record build
	record build --exit 1
	run -0 skm summary
	[[ "$output" =~ (^|$'\n')total_skills:\ +1$'\n' ]]
	[[ "$output" =~ $'\n'total_invocations:\ +2$'\n' ]]
	[[ "$output" =~ $'\n'overall_completion_rate:\ +50\.0%$'\n' ]]
	[[ "$output" =~ $'\n'most_used_skill:\ +build$'\n' ]]
}

@test "summary of a new store reports zero skills" {
	new_store
	run -0 skm summary
	[[ "$output" =~ (^|$'\n')total_skills:\ +0$'\n' ]]
	skm summary --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.total_invocations')" = 0 ]
}

@test "summary --top N keeps the N most common error types and paths, 5 by default" {
	for e in a b c d e f g; do
		id=$(skm begin --skill build --workflow "w$e")
		skm end "$id" --failed --error-type "err-$e"
	done
	f="$BATS_TEST_TMPDIR/s.json"
	skm summary --json >"$f"
	[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$f'), '\$.top_error_types')")" = 5 ]
	[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$f'), '\$.top_workflow_paths')")" = 5 ]
	skm summary --json --top 2 >"$f"
	[ "$(sqlite3 :memory: "SELECT group_concat(key) FROM json_each(readfile('$f'), '\$.top_error_types')")" = "err-a,err-b" ]
	[ "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$f'), '\$.top_workflow_paths')")" = 2 ]
	run -0 skm summary --top 3
	[ "$(echo "$output" | grep -c '^err-')" = 3 ]
	[ "$(echo "$output" | grep -c '^w[a-g] ')" = 3 ]
	run -0 skm summary
	[ "$(echo "$output" | grep -c '^err-')" = 5 ]
	run -2 --separate-stderr skm summary --top 0
	[[ "$stderr" == *"--top 0: too small"* ]]
	run -0 skm summary --help
	[[ "$output" == *"--top N"*"(default 5)"* ]]
}

# --- recent ----------------------------------------------------------------

@test "recent on a new store prints only the header" {
	new_store
	run -0 skm recent
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ ^id\ +skill\ +started\ +ended\ +status\ + ]]
}

@test "recent lists invocations newest first with their status" {
	record first
	sleep 0.01
	record second --exit 1
	sleep 0.01
	skm begin --skill third >/dev/null
	run -0 skm recent
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[1]}" =~ \ third\ .*\ running\  ]]
	[[ "${lines[2]}" =~ \ second\ .*\ failed\  ]]
	[[ "${lines[3]}" =~ \ first\ .*\ completed\  ]]
}

@test "recent --failed lists only failed invocations" {
	record build
	record build --exit 4
	run -0 skm recent --failed
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *"exit:4"* ]]
}

@test "recent --skill keeps one skill and --limit caps the rows" {
	record build
	record lint
	record build
	record build
	run -0 skm recent --skill build --limit 2
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" != *lint* ]]
	run -0 skm recent --skill lint
	[ "${#lines[@]}" -eq 2 ]
}

@test "recent --json gives each invocation's id, status and fields" {
	id=$(skm begin --skill build --workflow quick)
	f="$BATS_TEST_TMPDIR/r.json"
	skm recent --json >"$f"
	[ "$(jkeys "$f" '$[0]')" = "command duration_seconds ended_at error_type exit_code id invoked_at skill_name status workflow_path" ]
	[ "$(jget "$f" '$[0].id')" = "$id" ]
	[ "$(jget "$f" '$[0].status')" = running ]
	skm end "$id" --exit 0
	skm recent --json >"$f"
	[ "$(jget "$f" '$[0].status')" = completed ]
	[ "$(jget "$f" '$[0].workflow_path')" = quick ]
}

# --- names that are not plain ASCII ----------------------------------------

@test "a skill name with quotes and unicode is shown verbatim" {
	name="it's \"ünïcödé\" ✓ 日本"
	record "$name"
	run -0 skm stats
	[[ "$output" == *"$name"* ]]
	run -0 skm show "$name"
	[[ "$output" == *"skill_name:"*"$name"* ]]
	skm stats --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$[0].skill_name')" = "$name" ]
}

@test "a skill name with an ESC or invalid UTF-8 is refused with exit 2" {
	run -2 --separate-stderr skm begin --skill "evil${ESC}[2J"
	[[ "$stderr" == *"skill name is not UTF-8 text without control characters"* ]]
	[[ "$stderr" != *"$ESC"* ]]
	run -2 --separate-stderr skm begin --skill "$(printf 'bad\377name')"
	[[ "$stderr" == *"not UTF-8"* ]]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" -eq 0 ]
}

@test "an ESC in a workflow path or error type never reaches the terminal raw" {
	name="evil${ESC}[2J${ESC}]0;pwned${ESC}\\x"
	id=$(skm begin --skill esc --workflow "$name")
	skm end "$id" --failed --error-type "$name"
	run -0 skm show esc
	[[ "$output" != *"$ESC"* ]]
	[[ "$output" == *'evil?[2J?]0;pwned?\x'* ]]
	run -0 skm summary
	[[ "$output" != *"$ESC"* ]]
	run -0 skm recent
	[[ "$output" != *"$ESC"* ]]
	[[ "$output" == *'evil?[2J?]0;pwned?\x'* ]]
}

@test "an ESC character in --json output is escaped by SQLite" {
	id=$(skm begin --skill esc --workflow "a${ESC}b")
	skm end "$id"
	run -0 skm show esc --json
	[[ "$output" != *"$ESC"* ]]
	[[ "$output" == *'a\u001bb'* ]]
}

@test "an error message naming a skill with an ESC does not print it raw" {
	new_store
	run -1 --separate-stderr skm show "x${ESC}[31my"
	[[ "$stderr" != *"$ESC"* ]]
	[ "$stderr" = "skm: no such skill: x?[31my" ]
}

@test "an empty workflow path or error type shows as \"\" in tables" {
	printf '{"id":"e1","skill_name":"build","invoked_at":"2026-01-05T10:00:00Z","workflow_path":"","completed":false,"duration_seconds":1,"error_type":""}\n' |
	    skm import - >/dev/null
	run -0 skm show build
	[[ "$output" =~ $'\n'common_errors\ +\"\"\ +1($'\n'|$) ]]
	[[ "$output" =~ $'\n'workflow_paths\ +\"\"\ +1($'\n'|$) ]]
	run -0 skm errors
	[[ "${lines[1]}" =~ ^\"\"\ +1\  ]]
	# JSON keeps the empty string as it is.
	skm show build --json >"$BATS_TEST_TMPDIR/s.json"
	[ "$(jget "$BATS_TEST_TMPDIR/s.json" '$.common_errors.""')" = 1 ]
}

@test "a very long workflow path is cut short in the recent table" {
	long=$(printf 'w%.0s' {1..200})
	id=$(skm begin --skill build --workflow "$long")
	skm end "$id"
	run -0 skm recent
	[[ "$output" != *"$long"* ]]
	[[ "$output" == *"$(printf 'w%.0s' {1..59})…"* ]]
	skm recent --json >"$BATS_TEST_TMPDIR/r.json"
	[ "$(jget "$BATS_TEST_TMPDIR/r.json" '$[0].workflow_path')" = "$long" ]
}
