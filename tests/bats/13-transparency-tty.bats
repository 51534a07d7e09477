#!/usr/bin/env bats
# skm-run on a terminal, driven through tmux as a person would: Ctrl-C,
# Ctrl-Z and fg, a command that stops itself, a full-screen program.  On
# a terminal the command stays in the shell's foreground process group
# (docs/ARCHITECTURE.md, "skm-run and signals"); each case is run with env
# first and must end the same way.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	cd "$BATS_TEST_TMPDIR"
	SOCK="$BATS_TEST_TMPDIR/tmux.sock"
	# A plain interactive bash, its prompt "$ ", the built programs first.
	printf 'set -b; PS1="$ "; PATH=%q:$PATH; export SKM_DB=%q; cd %q\n' \
	    "$TOP" "$SKM_DB" "$BATS_TEST_TMPDIR" >rc
	tmux -S "$SOCK" -f /dev/null new-session -d -x 120 -y 30 \
	    "bash --noprofile --rcfile $BATS_TEST_TMPDIR/rc -i"
	wait_for '^\$ ?$'
}

teardown() {
	[ -n "${SOCK:-}" ] && tmux -S "$SOCK" kill-server 2>/dev/null || true
}

# keys KEYS...: type into the terminal (tmux send-keys syntax).
keys() {
	tmux -S "$SOCK" send-keys "$@"
}

# screen: what the terminal shows now.
screen() {
	tmux -S "$SOCK" capture-pane -p
}

# wait_for REGEX: until the screen matches (5 s at most).
wait_for() {
	local i
	for i in $(seq 100); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	echo "never appeared: $1"
	screen
	return 1
}

# clear_screen: a fresh screen with a prompt, before the next case.
clear_screen() {
	keys 'clear' Enter
	wait_for '^\$ ?$'
}

@test "Ctrl-C stops a while loop under skm-run as under env, and the shell sees SIGINT" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w sh -c 'while :; do sleep 0.05; done'" Enter
		sleep 0.3
		keys C-c
		wait_for '^\$ ?$'
		keys 'echo rc=$?' Enter
		wait_for '^rc=130$'
	done
	[ "$(sql "SELECT error_type FROM skill_invocation")" = signal:SIGINT ]
}

@test "Ctrl-Z stops the job, fg continues it, and it reads the terminal again" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w sh -c 'read x; echo got \$x'" Enter
		sleep 0.3
		keys C-z
		wait_for 'Stopped'
		keys 'fg' Enter
		sleep 0.2
		keys 'hello' Enter
		wait_for '^got hello$'
		keys 'echo rc=$?' Enter
		wait_for '^rc=0$'
	done
	[ "$(sql "SELECT completed FROM skill_invocation")" = 1 ]
}

@test "a command that stops itself stops the job; fg continues it" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w sh -c 'kill -STOP \$\$; echo resumed'" Enter
		wait_for 'Stopped'
		keys 'fg' Enter
		wait_for '^resumed$'
		keys 'echo rc=$?' Enter
		wait_for '^rc=0$'
	done
}

@test "less gets the terminal, and q returns to the shell" {
	local w
	seq 1 200 >numbers
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w less numbers; echo rc=\$?" Enter
		wait_for '^29$'
		keys q
		wait_for '^rc=0$'
	done
}

@test "on a terminal the command is in the foreground group with the terminal" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w $TOP/tests/helpers/probe | grep -E '^(foreground|ctty):' | tr '\\n' ' '; echo" Enter
		wait_for '^ctty: [1-9][0-9]* foreground: yes ?$'
	done
}

@test "a background job that reads the terminal stops, and fg gives it the terminal" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w sh -c 'read x; echo got \$x' &" Enter
		wait_for 'Stopped'
		keys 'fg' Enter
		sleep 0.3
		keys 'hello' Enter
		wait_for '^got hello$'
		keys 'echo rc=$?' Enter
		wait_for '^rc=0$'
	done
}

@test "a background job brought to the foreground while it runs gets the terminal" {
	local w
	for w in env "skm-run -s t --"; do
		clear_screen
		keys "$w sh -c 'sleep 1; read x; echo got \$x' &" Enter
		sleep 0.4
		keys 'fg' Enter
		sleep 1
		keys 'hello' Enter
		wait_for '^got hello$'
		keys 'echo rc=$?' Enter
		wait_for '^rc=0$'
	done
}
