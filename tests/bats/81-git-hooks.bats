#!/usr/bin/env bats
# skm hooks install|uninstall: git hooks recorded as the skill named after
# the hook, in real repositories made in $BATS_TEST_TMPDIR.

load helpers

setup() {
	export HOME="$BATS_TEST_TMPDIR/home" XDG_CONFIG_HOME= GIT_CONFIG_NOSYSTEM=1
	mkdir -p "$HOME"
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com \
	    GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
	R="$BATS_TEST_TMPDIR/repo"
	git init -q "$R"
	cd "$R"
}

# q QUERY: sql once every recorded run is in the store.
q() {
	skm drain >/dev/null
	sql "$1"
}

# hook NAME BODY [MODE]: a hook script.
hook() {
	mkdir -p "${HOOKS:-.git/hooks}"
	printf '#!/bin/sh\n%s\n' "$2" >"${HOOKS:-.git/hooks}/$1"
	chmod "${3:-755}" "${HOOKS:-.git/hooks}/$1"
}

# snap DIR: every entry of DIR with its type, mode, inode and checksum.
snap() {
	(cd "$1" && for f in $(ls -A | sort); do
		printf '%s %s ' "$f" "$(stat -c '%F %a %i' "$f")"
		if [ -L "$f" ]; then readlink "$f"; else sha256sum <"$f"; fi
	done)
}

@test "an installed hook still runs with its arguments, input and exit status, and each run is recorded" {
	hook commit-msg 'cp "$1" "$HOME/msg"; grep -q ok "$1"'
	git init -q --bare "$BATS_TEST_TMPDIR/remote.git"
	git remote add origin "$BATS_TEST_TMPDIR/remote.git"
	hook pre-push 'echo "$1 $2" >"$HOME/push-args"; cat >"$HOME/push-in"'
	run skm hooks install
	[ "$status" -eq 0 ]
	[[ "$output" == *"commit-msg: recorded; the hook kept as commit-msg.skm-orig"* ]]
	[[ "$output" == *"pre-push: recorded"* ]]
	# a message the hook refuses: the commit fails as without skm
	run git commit -q --allow-empty -m "no good"
	[ "$status" -ne 0 ]
	[ "$(cat "$HOME/msg")" = "no good" ]
	git commit -q --allow-empty -m "ok then"
	[ "$(git log --format=%s)" = "ok then" ]
	git push -q origin HEAD:refs/heads/main 2>/dev/null
	[ "$(cat "$HOME/push-args")" = "origin $BATS_TEST_TMPDIR/remote.git" ]
	[ "$(cat "$HOME/push-in")" = "refs/heads/master $(git rev-parse HEAD) refs/heads/main $(printf '0%.0s' $(seq 40))" ] ||
	[ "$(cat "$HOME/push-in")" = "HEAD $(git rev-parse HEAD) refs/heads/main $(printf '0%.0s' $(seq 40))" ]
	[ "$(q "SELECT group_concat(skill_name || ':' || coalesce(error_type, 'ok'), ' ') FROM (SELECT * FROM skill_invocation ORDER BY invoked_at)")" = \
	    "commit-msg:exit:1 commit-msg:ok pre-push:ok" ]
	[ "$(q "SELECT DISTINCT project_path FROM skill_invocation")" = "$R" ]
	skm check
}

@test "installing twice changes nothing; uninstall restores every hook byte for byte, mode included" {
	hook pre-commit 'exit 0' 750
	printf '#!/bin/sh\n# no newline at the end, odd bytes: \001\377' >.git/hooks/post-commit
	chmod 700 .git/hooks/post-commit
	mkdir -p "$BATS_TEST_TMPDIR/shared"
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/shared/pre-push"
	chmod 755 "$BATS_TEST_TMPDIR/shared/pre-push"
	ln -s "$BATS_TEST_TMPDIR/shared/pre-push" .git/hooks/pre-push
	hook commit-msg 'exit 1' 644		# not executable: git ignores it
	before=$(snap .git/hooks)
	skm hooks install
	once=$(snap .git/hooks)
	[ "$once" != "$before" ]
	run skm hooks install
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c 'already recorded')" = 3 ]
	[ "$(snap .git/hooks)" = "$once" ]
	# the disabled commit-msg was not wrapped: it was no hook
	[ ! -e .git/hooks/commit-msg.skm-orig ]
	git commit -q --allow-empty -m one
	[ "$(q "SELECT group_concat(skill_name, ' ') FROM (SELECT skill_name FROM skill_invocation ORDER BY invoked_at)")" = "pre-commit post-commit" ]
	run skm hooks uninstall
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c restored)" = 3 ]
	[ "$(snap .git/hooks)" = "$before" ]
	[ "$(readlink .git/hooks/pre-push)" = "$BATS_TEST_TMPDIR/shared/pre-push" ]
	# and uninstalling again finds nothing to do
	run skm hooks uninstall
	[ "$status" -eq 0 ]
	[ "$(snap .git/hooks)" = "$before" ]
}

@test "a named hook that did not exist is created, recorded, and removed again" {
	before=$(snap .git/hooks)
	run skm hooks install pre-commit post-commit
	[ "$status" -eq 0 ]
	[[ "$output" == *"pre-commit: recorded (there was no hook)"* ]]
	git commit -q --allow-empty -m one
	[ "$(q "SELECT count(*) || ' ' || sum(completed) FROM skill_invocation")" = "2 2" ]
	skm hooks uninstall pre-commit
	[ ! -e .git/hooks/pre-commit ]
	skm hooks uninstall
	[ "$(snap .git/hooks)" = "$before" ]
}

@test "core.hooksPath is where hooks are installed, relative to the repository" {
	git config core.hooksPath .githooks
	HOOKS=.githooks hook pre-commit 'echo "in $(pwd)" >"$HOME/where"'
	mkdir -p sub && cd sub
	run skm hooks install
	[ "$status" -eq 0 ]
	[ -e "$R/.githooks/pre-commit.skm-orig" ]
	[ ! -e "$R/.git/hooks/pre-commit" ]
	git commit -q --allow-empty -m one
	[ "$(cat "$HOME/where")" = "in $R" ]
	[ "$(q "SELECT skill_name FROM skill_invocation")" = pre-commit ]
	# a hooksPath that does not exist yet is made
	git config core.hooksPath "$BATS_TEST_TMPDIR/newhooks"
	skm hooks install pre-commit
	[ -x "$BATS_TEST_TMPDIR/newhooks/pre-commit" ]
}

@test "--db goes into the wrapper; without skm-run the hook still runs, unrecorded" {
	hook pre-commit 'echo ran >>"$HOME/ran"'
	skm --db "$BATS_TEST_TMPDIR/other.db" hooks install
	unset SKM_DB
	git commit -q --allow-empty -m one
	[ "$(sqlite3 "$BATS_TEST_TMPDIR/other.db" 'SELECT count(*) FROM skill_invocation')" = 1 ] ||
	    { skm --db "$BATS_TEST_TMPDIR/other.db" drain >/dev/null;
	      [ "$(sqlite3 "$BATS_TEST_TMPDIR/other.db" 'SELECT count(*) FROM skill_invocation')" = 1 ]; }
	# a copy of skm with no skm-run beside it, and none on PATH
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$TOP/skm" "$BATS_TEST_TMPDIR/bin/"
	"$BATS_TEST_TMPDIR/bin/skm" hooks uninstall
	"$BATS_TEST_TMPDIR/bin/skm" hooks install
	grep -qx "r=skm-run" .git/hooks/pre-commit
	PATH=/usr/bin:/bin git commit -q --allow-empty -m two
	[ "$(wc -l <"$HOME/ran")" = 2 ]
}

@test "hooks refuses what is not a git hook, and works only in a repository" {
	run skm hooks install pre-comit
	[ "$status" -eq 2 ]
	[[ "$output" == *"pre-comit is not a git hook"* ]]
	run skm hooks reinstall
	[ "$status" -eq 2 ]
	run skm hooks
	[ "$status" -eq 2 ]
	cd "$BATS_TEST_TMPDIR"
	run skm hooks install pre-commit
	[ "$status" -eq 1 ]
	[[ "$output" == *"not in a git repository"* ]]
}

@test "a hook replaced behind skm's back is not overwritten" {
	hook pre-commit 'exit 0'
	skm hooks install
	hook pre-commit 'echo mine'
	run skm hooks install
	[ "$status" -eq 1 ]
	[[ "$output" == *"pre-commit.skm-orig exists but pre-commit is not skm's wrapper"* ]]
	[ "$(tail -1 .git/hooks/pre-commit)" = "echo mine" ]
}

# The hook `pre-commit install` writes (pre-commit 3.x's hook-tmpl), with
# a stand-in for the framework that shows what it was called with.
precommit_shaped_hook() {
	mkdir -p "$BATS_TEST_TMPDIR/fw"
	cat >"$BATS_TEST_TMPDIR/fw/python" <<'PY'
#!/bin/sh
# stand-in for "python -mpre_commit hook-impl ...": run the legacy hook
# as the framework does, then "the hooks"
printf '%s\n' "$@" >"$HOME/fw-args"
shift 4; dir=$1
[ -x "$dir/pre-commit.legacy" ] && { PRE_COMMIT_RUNNING_LEGACY=1 "$dir/pre-commit.legacy" || exit; }
grep -q FORBIDDEN "$(git rev-parse --show-toplevel)"/*.txt 2>/dev/null && exit 1
exit 0
PY
	chmod 755 "$BATS_TEST_TMPDIR/fw/python"
	cat >.git/hooks/pre-commit <<HOOK
#!/usr/bin/env bash
# File generated by pre-commit: https://pre-commit.com
# ID: 138fd403232d2ddd5efb44317e38bf03

# start templated
INSTALL_PYTHON=$BATS_TEST_TMPDIR/fw/python
ARGS=(hook-impl --config=.pre-commit-config.yaml --hook-type=pre-commit)
# end templated

HERE="\$(cd "\$(dirname "\$0")" && pwd)"
ARGS+=(--hook-dir "\$HERE" -- "\$@")

if [ -x "\$INSTALL_PYTHON" ]; then
    exec "\$INSTALL_PYTHON" -mpre_commit "\${ARGS[@]}"
elif command -v pre-commit > /dev/null; then
    exec pre-commit "\${ARGS[@]}"
else
    echo '\`pre-commit\` not found.  Did you forget to activate your virtualenv?' 1>&2
    exit 1
fi
HOOK
	chmod 755 .git/hooks/pre-commit
}

@test "a hook generated by the pre-commit framework keeps working, and keeps its ID" {
	precommit_shaped_hook
	before=$(snap .git/hooks)
	skm hooks install
	# the framework still knows the file as its own
	grep -q '^# ID: 138fd403232d2ddd5efb44317e38bf03' .git/hooks/pre-commit
	echo fine >a.txt && git add a.txt
	git commit -q -m one
	[ "$(sed -n 1,6p "$HOME/fw-args" | tr '\n' ' ')" = \
	    "-mpre_commit hook-impl --config=.pre-commit-config.yaml --hook-type=pre-commit --hook-dir $R/.git/hooks " ]
	echo FORBIDDEN >b.txt && git add b.txt
	run git commit -q -m two
	[ "$status" -ne 0 ]
	[ "$(q "SELECT group_concat(coalesce(error_type, 'ok'), ' ') FROM (SELECT error_type FROM skill_invocation WHERE skill_name = 'pre-commit' ORDER BY invoked_at)")" = "ok exit:1" ]
	skm hooks uninstall
	[ "$(snap .git/hooks)" = "$before" ]
}

@test "the real pre-commit framework: its hooks run recorded; pre-commit install and uninstall still work" {
	command -v pre-commit >/dev/null || skip "pre-commit (Debian package) not installed"
	export PRE_COMMIT_HOME="$BATS_TEST_TMPDIR/pre-commit-cache"
	cat >.pre-commit-config.yaml <<'YAML'
repos:
- repo: local
  hooks:
  - id: no-forbidden
    name: no FORBIDDEN
    entry: sh -c '! grep -l FORBIDDEN "$@"' --
    language: system
    files: \.txt$
YAML
	git add .pre-commit-config.yaml
	pre-commit install >/dev/null
	framework=$(sha256sum <.git/hooks/pre-commit)
	skm hooks install
	echo fine >a.txt && git add a.txt
	git commit -q -m one
	echo FORBIDDEN >b.txt && git add b.txt
	run git commit -q -m two
	[ "$status" -ne 0 ]
	[[ "$output" == *"no FORBIDDEN"*Failed* ]]
	[ "$(q "SELECT group_concat(coalesce(error_type, 'ok'), ' ') FROM (SELECT error_type FROM skill_invocation WHERE skill_name = 'pre-commit' ORDER BY invoked_at)")" = "ok exit:1" ]
	# skm's uninstall gives the framework its file back, byte for byte
	skm hooks uninstall
	[ "$(sha256sum <.git/hooks/pre-commit)" = "$framework" ]
	# installed again, then the framework re-installs over it (as setup
	# scripts do): commits keep working, no "migration mode" legacy loop
	skm hooks install
	run pre-commit install
	[ "$status" -eq 0 ]
	[[ "$output" != *migration* ]]
	git rm -q --cached b.txt && rm b.txt
	git commit -q --allow-empty -m three
	# and skm takes it over again, dropping its stale copy
	run skm hooks install
	[ "$status" -eq 0 ]
	git commit -q --allow-empty -m four
	[ "$(q "SELECT count(*) FROM skill_invocation WHERE skill_name = 'pre-commit'")" = 3 ]
	# pre-commit uninstall removes what it knows as its hook
	pre-commit uninstall >/dev/null
	[ ! -e .git/hooks/pre-commit ]
	git commit -q --allow-empty -m five
}
