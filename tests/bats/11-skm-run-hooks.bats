#!/usr/bin/env bats
# skm-run where it is meant to live: in git hooks and Makefile recipes.

load helpers

# git_repo DIR: a fresh repository with an identity, so commits work.
git_repo() {
	git init -q "$1"
	git -C "$1" config user.name "skm test"
	git -C "$1" config user.email "skm@example.invalid"
	git -C "$1" config commit.gpgsign false
}

# pre_commit_hook DIR COMMAND: install a pre-commit hook running COMMAND.
pre_commit_hook() {
	printf '#!/bin/sh\n%s\n' "$2" >"$1/.git/hooks/pre-commit"
	chmod 755 "$1/.git/hooks/pre-commit"
}

@test "skm-run in a git pre-commit hook records the hook's run" {
	repo="$BATS_TEST_TMPDIR/repo"
	git_repo "$repo"
	pre_commit_hook "$repo" 'exec skm-run --skill pre-commit -- true'
	git -C "$repo" commit -q --allow-empty -m first
	[ "$(git -C "$repo" rev-list --count HEAD)" = 1 ]
	top=$(cd "$repo" && pwd -P)
	[ "$(sql "SELECT skill_name, completed, project_path FROM skill_invocation")" = "pre-commit|1|$top" ]
}

@test "a failing command in a pre-commit hook stops the commit and is recorded" {
	repo="$BATS_TEST_TMPDIR/repo"
	git_repo "$repo"
	pre_commit_hook "$repo" 'exec skm-run --skill pre-commit -- sh -c "exit 3"'
	run git -C "$repo" commit -q --allow-empty -m first
	[ "$status" -ne 0 ]
	run git -C "$repo" rev-parse -q --verify HEAD
	[ "$status" -ne 0 ]
	[ "$(sql "SELECT completed, error_type FROM skill_invocation")" = "0|exit:3" ]
}

@test "skm-run in a Makefile recipe records the recipe's run" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	printf 'all:\n\tskm-run --skill build -- true\n' >"$BATS_TEST_TMPDIR/proj/Makefile"
	run make -s -C "$BATS_TEST_TMPDIR/proj"
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT skill_name, completed, exit_code FROM skill_invocation")" = "build|1|0" ]
}

@test "a failing command in a Makefile recipe makes make fail and is recorded" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	printf 'all:\n\tskm-run --skill build -- false\n\ttouch after\n' \
	    >"$BATS_TEST_TMPDIR/proj/Makefile"
	run make -s -C "$BATS_TEST_TMPDIR/proj"
	[ "$status" -ne 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/proj/after" ]
	[ "$(sql "SELECT skill_name, completed, error_type FROM skill_invocation")" = "build|0|exit:1" ]
}

@test "parallel recipes under make -j2 are each recorded" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	printf 'all: a b\na:\n\tskm-run -s step-a -- true\nb:\n\tskm-run -s step-b -- true\n' \
	    >"$BATS_TEST_TMPDIR/proj/Makefile"
	run make -s -j2 -C "$BATS_TEST_TMPDIR/proj"
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT group_concat(skill_name, ',') FROM
	    (SELECT skill_name FROM skill_invocation ORDER BY skill_name)")" = "step-a,step-b" ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE parent_id IS NOT NULL")" = 0 ]
}

@test "skm-run around make records the recipes' runs as its children" {
	mkdir "$BATS_TEST_TMPDIR/proj"
	printf 'all:\n\tskm-run -s compile -- true\n' >"$BATS_TEST_TMPDIR/proj/Makefile"
	skm-run -s build -- make -s -C "$BATS_TEST_TMPDIR/proj"
	outer=$(sql "SELECT id FROM skill_invocation WHERE skill_name = 'build'")
	[ "$(sql "SELECT parent_id FROM skill_invocation WHERE skill_name = 'compile'")" = "$outer" ]
}
