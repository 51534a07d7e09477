#!/usr/bin/env bats
# Shell completions (share/bash-completion/completions, share/zsh/
# site-functions): bash's are sourced into bash and driven through
# COMP_WORDS/COMP_CWORD; zsh's are driven through zsh's own completion
# system in a pseudo-terminal (tests/helpers/zsh-complete).  Both take
# commands and options from `skm __complete` and skill names from the
# store.

load helpers

BASHCOMP="$TOP/share/bash-completion/completions"
ZSHCOMP="$TOP/share/zsh/site-functions"

setup() {
	skm-run -s lint -- true
	skm-run -s link -w quick -- true
	skm-run -s 'build' -- true
	skm --db "$BATS_TEST_TMPDIR/other.db" begin --skill elsewhere >/dev/null
	skm --db "$BATS_TEST_TMPDIR/other.db" end "$(skm --db "$BATS_TEST_TMPDIR/other.db" recent --json | sed 's/.*"id":"\([^"]*\)".*/\1/')" >/dev/null
}

# comp FUNCTION SCRIPT WORD...: what bash's completion FUNCTION (from
# SCRIPT) puts in COMPREPLY for the command line WORD... (the last word
# being completed), sorted, one line.
comp() {
	local fn=$1 script=$2
	shift 2
	bash -c '
		source "$1"; fn=$2; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		$fn "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " " | sed "s/ $//"
	' bash "$BASHCOMP/$script" "$fn" "$@"
}

@test "bash: skm completes its commands (as skm help lists them, no hidden one) and global options" {
	want=$(skm help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$(comp _skm skm skm '')" = "$want" ]
	[[ "$want" == *hooks* ]]
	[[ "$want" != *complete* ]]
	[ "$(comp _skm skm skm s)" = "search server session show stats summary sync" ]
	[ "$(comp _skm skm skm --d)" = "--db" ]
	[ "$(comp _skm skm skm -)" = "--db --help --host --server --version" ]
}

@test "bash: skm completes skill names from the store, of --db when given" {
	[ "$(comp _skm skm skm show '')" = "build link lint" ]
	[ "$(comp _skm skm skm show lin)" = "link lint" ]
	[ "$(comp _skm skm skm timeline l)" = "link lint" ]
	[ "$(comp _skm skm skm recent --skill b)" = "build" ]
	[ "$(comp _skm skm skm --db "$BATS_TEST_TMPDIR/other.db" show '')" = "elsewhere" ]
	[ "$(comp _skm skm skm show --db "$BATS_TEST_TMPDIR/other.db" '')" = "elsewhere" ]
	# no store: nothing, and nothing printed
	[ "$(SKM_DB="$BATS_TEST_TMPDIR/none.db" comp _skm skm skm show '' 2>&1)" = "" ]
	[ ! -e "$BATS_TEST_TMPDIR/none.db" ]
}

@test "bash: skm completes each command's options and their values" {
	[ "$(comp _skm skm skm timeline lint --)" = "--bucket --db --help --host --json --server --since --until" ]
	[ "$(comp _skm skm skm timeline lint --bucket '')" = "day hour minute week" ]
	[ "$(comp _skm skm skm export --format '')" = "csv jsonl otlp-json" ]
	[ "$(comp _skm skm skm end ID --e)" = "--error-type --exit" ]
	# every option skm help shows for a command is offered
	for c in recent timeline export end reap backup; do
		want=$(skm help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ' | sed 's/ $//')
		got=$(comp _skm skm skm "$c" --)
		for o in $want; do [[ " $got " == *" $o "* ]] || { echo "$c: $o not offered: $got"; false; }; done
	done
	# an option's free-form value is not completed with anything
	[ "$(comp _skm skm skm recent --limit '')" = "" ]
}

@test "bash: skm completes hooks install|uninstall and git hook names, and help's commands" {
	[ "$(comp _skm skm skm hooks '')" = "install uninstall" ]
	[ "$(comp _skm skm skm hooks install pre-c)" = "pre-commit" ]
	[ "$(comp _skm skm skm hooks uninstall commit)" = "commit-msg" ]
	[ "$(comp _skm skm skm help ti)" = "timeline" ]
}

@test "bash: --server and --host before the command are read as skm reads them" {
	[[ " $(comp _skm skm skm --) " == *" --server "* ]]
	[[ " $(comp _skm skm skm --) " == *" --host "* ]]
	# a --host's value is not the command
	[ "$(comp _skm skm skm --host h1 show l)" = "link lint" ]
	[ "$(comp _skm skm skm --host h1 --host h2 stat)" = "stats" ]
	[ "$(comp _skm skm skm --host '')" = "" ]
	# --server URL: the URL is not the command either
	[ "$(comp _skm skm skm --server 'dbname=x' stat)" = "stats" ]
	[ "$(comp _skm skm skm --server=dbname=x stat)" = "stats" ]
	# --server alone before a command means $SKM_SERVER
	[[ " $(comp _skm skm skm --server show --) " == *" --persisted "* ]]
}

@test "bash: skm-run completes its options, skill names, then the command" {
	want=$(skm-run --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	got=$(comp _skm_run skm-run skm-run --)
	for o in $want; do [[ " $got " == *" $o "* ]] || { echo "$o not offered: $got"; false; }; done
	[ "$(comp _skm_run skm-run skm-run --sk)" = "--skill" ]
	[ "$(comp _skm_run skm-run skm-run -s l)" = "link lint" ]
	[ "$(comp _skm_run skm-run skm-run -q --skill '')" = "build link lint" ]
	[ "$(comp _skm_run skm-run skm-run --db "$BATS_TEST_TMPDIR/other.db" -s '')" = "elsewhere" ]
	[ "$(comp _skm_run skm-run skm-run -w '')" = "" ]
	# the command: a command name, after -- or the options
	[[ " $(comp _skm_run skm-run skm-run -s lint -- printen) " == *" printenv "* ]]
	[[ " $(comp _skm_run skm-run skm-run -s lint printen) " == *" printenv "* ]]
	# after -- nothing is an option of skm-run's
	[[ "$(comp _skm_run skm-run skm-run -s lint -- --sk)" != *--skill* ]]
}

@test "skm __complete is hidden and quick" {
	run skm help
	[[ "$output" != *__complete* ]]
	run skm __complete nonsense
	[ "$status" -eq 2 ]
	run skm __complete options no-such-command
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	# 200 skills: listing them stays quick
	for i in $(seq 200); do echo "{\"id\":\"c$i\",\"skill_name\":\"skill-$i\",\"invoked_at\":\"2026-01-01T00:00:00Z\",\"completed\":true,\"duration_seconds\":1}"; done |
	    skm import - >/dev/null
	start=$(date +%s%N)
	[ "$(skm __complete skills skill- | wc -l)" = 200 ]
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "skills in ${ms} ms"
	[ "$ms" -lt 2000 ]
}

@test "zsh: the completion functions parse" {
	command -v zsh >/dev/null
	for f in "$ZSHCOMP/_skm" "$ZSHCOMP/_skm-run"; do
		zsh -n "$f"
		head -1 "$f" | grep -q '^#compdef '
	done
}

@test "zsh: real completion of commands, skills, options, values, hooks, skm-run, --server and --host" {
	command -v zsh >/dev/null
	zsh -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh without zsh/zpty"
	run timeout 120 "$TOP/tests/helpers/zsh-complete" "$ZSHCOMP" <<EOF
skm sh
skm su
skm show 
skm show li
skm --db $BATS_TEST_TMPDIR/other.db show 
skm timeline lint --
skm timeline lint --bucket 
skm export --format 
skm hooks 
skm hooks install pre-c
skm --
skm-run --sk
skm-run -s 
skm-run -s lint -- printen
skm --host h1 show l
skm --server 'dbname=x' stat
skm --server show --pers
EOF
	printf '%s\n' "${lines[@]}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "show" ]
	[ "${lines[1]}" = "summary" ]
	[ "${lines[2]}" = "build link lint" ]
	[ "${lines[3]}" = "link lint" ]
	[ "${lines[4]}" = "elsewhere" ]
	[ "${lines[5]}" = "--bucket --db --help --host --json --server --since --until" ]
	[ "${lines[6]}" = "day hour minute week" ]
	[ "${lines[7]}" = "csv jsonl otlp-json" ]
	[ "${lines[8]}" = "install uninstall" ]
	[ "${lines[9]}" = "pre-commit" ]
	[ "${lines[10]}" = "--db --help --host --server --version" ]
	[ "${lines[11]}" = "--skill" ]
	[ "${lines[12]}" = "build link lint" ]
	[[ " ${lines[13]} " == *" printenv "* ]]
	[ "${lines[14]}" = "link lint" ]
	[ "${lines[15]}" = "stats" ]
	[ "${lines[16]}" = "--persisted" ]
}
