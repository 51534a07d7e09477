#!/usr/bin/env bats
# The journal: recorders append, the fold applies exactly once, bad
# records are quarantined, and an unsafe journal is never used.

load helpers
bats_require_minimum_version 1.5.0

SEEDS="$TOP/tests/fuzz/journal-seeds.py"

# journal: the live journal file of the test's store
journal() { printf '%s\n' "$SKM_DB.journal/journal"; }

@test "skm-run never loads SQLite (nor libbsd: libc is all it needs)" {
	run -0 env LD_DEBUG=files skm-run -s t -- true
	[[ "$output" != *libsqlite3* ]]
	[[ "$output" != *libbsd* ]]
	[ "$(sql "SELECT count(*) FROM skill_invocation")" = 1 ]
	# Linked statically (no NEEDED entry at all), or with libc alone;
	# a sanitized build (make check-asan) also needs the sanitizers'
	# runtimes, and cannot be static.
	needed=$(readelf -d "$(command -v skm-run)" |
	    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	    grep -Ev '^lib(asan|ubsan)\.so' | tr '\n' ' ')
	[ -z "$needed" ] || [ "$needed" = "libc.so.6 " ]
}

@test "the shim records a matching process without loading SQLite into it" {
	[ -z "${SKM_SANITIZED:-}" ] || skip "the shim is tested in the plain build (ASan must load first)"
	printf 'tru  /bin/true*\n' >"$BATS_TEST_TMPDIR/rules"
	run -0 env LD_DEBUG=files SKM_RULES="$BATS_TEST_TMPDIR/rules" \
	    LD_PRELOAD="$TOP/shim/libskm-preload.so" /bin/true
	[[ "$output" != *libsqlite3* ]]
	[ "$(sql "SELECT skill_name || ' ' || completed FROM skill_invocation")" = "tru 1" ]
}

@test "the sqlite3 CLI under a matching rule prints exactly what it prints without the shim" {
	[ -z "${SKM_SANITIZED:-}" ] || skip "the shim is tested in the plain build (ASan must load first)"
	printf 'sq  *sqlite3*\n' >"$BATS_TEST_TMPDIR/rules"
	plain=$(sqlite3 :memory: 'select 1' 2>&1)
	shimmed=$(SKM_RULES="$BATS_TEST_TMPDIR/rules" LD_PRELOAD="$TOP/shim/libskm-preload.so" sqlite3 :memory: 'select 1' 2>&1)
	[ "$plain" = "$shimmed" ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'sq'")" = 1 ]
}

@test "runs wait in the journal until a query folds them, once" {
	skm-run -s a -- true
	skm-run -s a -- false || true
	[ -s "$(journal)" ]
	[ ! -e "$SKM_DB" ]
	run -0 skm show a --json
	[[ "$output" == *'"total_invocations":2'*'"completed_invocations":1'* ]]
	run -0 skm show a --json
	[[ "$output" == *'"total_invocations":2'* ]]
	run -0 skm drain
	[ "$output" = "0 events applied from the journal" ]
}

@test "torn records, garbage, bad values, duplicates and out-of-order events: valid ones applied once, the rest quarantined" {
	skm-run -s first -- true
	for s in ok dup out-of-order torn garbage bad-values wrong-types version; do
		python3 "$SEEDS" --seed $s >>"$(journal)"
	done
	run -0 skm check
	[[ "$output" == *"note: "*" journal records quarantined in $SKM_DB.journal/quarantine.jsonl"* ]]
	# ok: 2 runs, dup: 1, out-of-order: 1, torn: run 6 whole, garbage: 7,
	# bad-values: run 10's begin (its end is before its begin: refused)
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'lint' AND ended_at IS NOT NULL")" = 6 ]
	[ "$(sql "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'lint'")" = 6 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'lint' AND ended_at IS NULL")" = 1 ]
	q=$(wc -l <"$SKM_DB.journal/quarantine.jsonl")
	[ "$q" -ge 8 ]
	[ "$(sql "SELECT sum(quarantined) FROM journal_fold")" = "$q" ]
	# every line says where it came from and why, and holds the bytes
	run -0 sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$SKM_DB.journal/quarantine.jsonl')) LIMIT 0"
	grep -q '"reason":"ended before it began"' "$SKM_DB.journal/quarantine.jsonl"
	grep -q '"reason":"skill name must be 1-256 bytes' "$SKM_DB.journal/quarantine.jsonl"
	grep -q '"reason":"not a record' "$SKM_DB.journal/quarantine.jsonl"
	# skm check --json lists each one (without its bytes) and the count
	skm check --json >"$BATS_TEST_TMPDIR/check.json"
	cj() { sqlite3 :memory: "SELECT $1 FROM (SELECT readfile('$BATS_TEST_TMPDIR/check.json') AS j)"; }
	[ "$(cj "j ->> 'ok'")" = 1 ]
	[ "$(cj "j ->> '\$.journal.quarantined'")" = "$q" ]
	[ "$(cj "json_array_length(j, '\$.journal.quarantine')")" = "$q" ]
	[ "$(cj "j ->> '\$.journal.quarantine_file'")" = "$SKM_DB.journal/quarantine.jsonl" ]
	[ "$(cj "(SELECT count(*) FROM json_each(j, '\$.journal.quarantine') WHERE value ->> 'reason' = 'ended before it began')")" = 1 ]
	[ "$(cj "(SELECT count(*) FROM json_each(j, '\$.journal.quarantine') WHERE value ->> 'record' IS NOT NULL OR value ->> 'offset' IS NULL)")" = 0 ]
	# a second fold changes nothing
	skm drain
	[ "$(wc -l <"$SKM_DB.journal/quarantine.jsonl")" = "$q" ]
	[ "$(sql "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'lint'")" = 6 ]
}

@test "what the fold applies export writes and import reads back; a duration over a century is quarantined" {
	skm-run -s first -- true
	python3 "$SEEDS" --durations 0.25 3155000000 3156000000 1e13 >>"$(journal)"
	run -0 skm check
	[[ "$output" == *"note: 2 journal records quarantined"* ]]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'long' AND ended_at IS NOT NULL")" = 2 ]
	skm export >"$BATS_TEST_TMPDIR/all.jsonl"
	run -0 env SKM_DB="$BATS_TEST_TMPDIR/again.db" skm import "$BATS_TEST_TMPDIR/all.jsonl"
	run -0 env SKM_DB="$BATS_TEST_TMPDIR/again.db" skm export
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/all.jsonl")" ]
}

@test "an end that comes before its begin waits for it" {
	skm-run -s first -- true
	python3 "$SEEDS" --seed out-of-order >"$BATS_TEST_TMPDIR/ooo"
	skm drain
	# the end alone: it waits
	python3 - "$BATS_TEST_TMPDIR/ooo" "$(journal)" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# the first record is the end; split at the second magic
i = data.index(b"\xf0SKJ", 4)
open(sys.argv[2], "ab").write(data[:i])
open(sys.argv[1] + ".begin", "wb").write(data[i:])
PY
	run -0 skm check
	[[ "$output" == *"note: 1 end waits for the begin of its invocation"* ]]
	cat "$BATS_TEST_TMPDIR/ooo.begin" >>"$(journal)"
	run -0 skm check
	[ "$output" = ok ]
	[ "$(sql "SELECT exit_code || ' ' || error_type FROM skill_invocation WHERE skill_name = 'lint'")" = "1 exit:1" ]
}

@test "a journal directory open to others is refused with one warning, nothing is read from it, and the run is recorded in the user's own place" {
	mkdir -p "$SKM_DB.journal"
	chmod 0777 "$SKM_DB.journal"
	run --separate-stderr skm-run -s t -- sh -c 'exit 4'
	[ "$status" -eq 4 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"$SKM_DB.journal: refused"*"; recorded in $XDG_STATE_HOME/skm/journals/"* ]]
	[ -z "$(ls "$SKM_DB.journal")" ]
	# the second place is the user's, closed to others
	[ "$(stat -c %a "$XDG_STATE_HOME/skm/journals")" = 700 ]
	[ "$(stat -c %a "$XDG_STATE_HOME/skm/journals/"*)" = 700 ]
	# queries fold it: the run is there; check still names the refusal
	[ "$(skm recent --json | jq -r '.[0].error_type')" = exit:4 ]
	run skm check
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SKM_DB.journal: refused"* ]]
	[[ "$output" == *"$XDG_STATE_HOME/skm/journals/"*" is in use: the journal's second place"* ]]
	# more runs, a begin and an end apart, the in-process library too
	skm-run -s t -- true 2>/dev/null
	id=$(skm begin --skill lib 2>/dev/null)
	skm end "$id" 2>/dev/null
	rm -rf "$SKM_DB.journal"
	run -0 skm check
	[ "$(skm stats --json | jq -r 'map(.skill_name + ":" + (.total_invocations | tostring)) | sort | join(" ")')" = "lib:1 t:2" ]
	# without a place of its own (no absolute HOME or XDG_STATE_HOME) the
	# run is lost, with the one warning
	mkdir -m 0777 "$SKM_DB.journal"
	run --separate-stderr env -u XDG_STATE_HOME HOME=relative skm-run -s t -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"not recorded: $SKM_DB.journal: refused"* ]]
}

@test "a journal directory that is a symlink is refused and never followed" {
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	chmod 0700 "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$SKM_DB.journal"
	run --separate-stderr skm-run -s t -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused"* ]]
	[ -z "$(ls "$BATS_TEST_TMPDIR/elsewhere")" ]
}

@test "a FIFO, a group-readable file or a symlink as the journal blocks nothing and is refused" {
	mkdir -m 0700 "$SKM_DB.journal"
	mkfifo "$SKM_DB.journal/journal"
	run --separate-stderr timeout 5 skm-run -s t -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"journal/journal: refused"* ]]
	run timeout 5 skm drain
	[ "$status" -ne 124 ]
	rm "$SKM_DB.journal/journal"
	: >"$BATS_TEST_TMPDIR/other"
	ln -s "$BATS_TEST_TMPDIR/other" "$SKM_DB.journal/journal"
	run --separate-stderr timeout 5 skm-run -s t -- true
	[[ "$stderr" == *"refused: a symlink"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/other" ]
	rm "$SKM_DB.journal/journal"
	install -m 0640 /dev/null "$SKM_DB.journal/journal"
	run --separate-stderr timeout 5 skm-run -s t -- true
	[[ "$stderr" == *"refused: not a regular file of this user closed to group and others"* ]]
	[ ! -s "$SKM_DB.journal/journal" ]
}

@test "another user's journal directory, files and -wal in a shared directory are refused" {
	[ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 || skip "needs root and the user nobody"
	shared=$(mktemp -d /tmp/skm-shared.XXXXXX)
	chmod 1777 "$shared"
	# nobody plants a journal full of runs for the owner's store
	runuser -u nobody -- sh -c "mkdir -m 0700 '$shared/m.db.journal' && SKM_DB='$shared/m.db' skm-run -s injected -- true" 2>/dev/null || true
	run --separate-stderr env SKM_DB="$shared/m.db" skm-run -s mine -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"$shared/m.db.journal: refused"* ]]
	run env SKM_DB="$shared/m.db" skm stats --json
	[[ "$output" != *injected* ]]
	# a -wal the owner's store would replay
	rm -rf "$shared/m.db.journal"
	env SKM_DB="$shared/m.db" skm drain >/dev/null 2>&1 || true
	rm -f "$shared/m.db" "$shared/m.db-wal" "$shared/m.db-shm"
	: >"$shared/m.db"
	chmod 0600 "$shared/m.db"
	runuser -u nobody -- sh -c "printf x >'$shared/m.db-wal'"
	run env SKM_DB="$shared/m.db" skm stats
	[ "$status" -eq 1 ]
	[[ "$output" == *"m.db-wal: refused"* ]]
	rm -rf "$shared"
}

# Two unprivileged users (uids of their own: no account needed) in a
# sticky shared directory, each case in a directory of its own; the
# programs copied where both can run them.  as UID CMD...: CMD as UID
# with the case's store.
as() {
	local u=$1
	shift
	timeout 20 setpriv --reuid="$u" --regid="$u" --clear-groups \
	    env -i PATH="$shared/bin:/usr/bin:/bin" HOME=/nonexistent \
	    SKM_DB="$dir/m.db" "$@"
}
fresh() { dir=$(mktemp -d "$shared/case.XXXXXX"); chmod 1777 "$dir"; }

@test "two unprivileged users in a sticky directory: every planted file is refused with one warning, nothing injected, nothing read, nothing blocks" {
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null || skip "needs root and setpriv"
	own=65534 evil=65533
	shared=$(mktemp -d /tmp/skm-shared.XXXXXX)
	chmod 0755 "$shared"
	mkdir "$shared/bin"
	cp "$TOP/skm" "$TOP/skm-run" "$shared/bin/"
	chmod 0755 "$shared/bin" "$shared/bin/"*

	# 1. another user's journal directory, made first, with their runs
	fresh
	as $evil sh -c 'mkdir -m 0700 "$SKM_DB.journal" && skm-run -s injected -- true'
	[ -s "$dir/m.db.journal/journal" ]
	run --separate-stderr as $own skm-run -s mine -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"$dir/m.db.journal: refused"* ]]
	run --separate-stderr as $own skm drain
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"$dir/m.db.journal: refused"* ]]
	run as $own skm check
	[ "$status" -eq 1 ]
	[[ "$output" == *"m.db.journal: refused"* ]]
	run -0 as $own skm stats --json
	[[ "$output" != *injected* ]]
	! grep -q mine "$dir/m.db.journal/journal"
	# ... and with a place of the owner's own (XDG_STATE_HOME), the run
	# is recorded there: the owner's queries see it, the other's
	# directory never gets it
	run --separate-stderr as $own env XDG_STATE_HOME="$dir/own-state" skm-run -s mine -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"$dir/m.db.journal: refused"*"; recorded in $dir/own-state/skm/journals/"* ]]
	[ "$(stat -c '%u %a' "$dir/own-state")" = "$own 700" ]
	run -0 as $own env XDG_STATE_HOME="$dir/own-state" skm stats --json
	[[ "$output" == *'"skill_name":"mine"'* && "$output" != *injected* ]]
	! grep -q mine "$dir/m.db.journal/journal"
	! as $evil ls "$dir/own-state/skm"

	# 2. a symlink to a directory of theirs
	fresh
	as $evil sh -c 'mkdir -m 0777 "$SKM_DB.theirs" && ln -s "$SKM_DB.theirs" "$SKM_DB.journal"'
	run --separate-stderr as $own skm-run -s mine -- true
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"m.db.journal: refused"* ]]
	[ -z "$(ls -A "$dir/m.db.theirs")" ]

	# 3. FIFOs as the journal directory, the store, its -wal: nothing blocks
	for f in m.db.journal m.db m.db-wal; do
		fresh
		as $evil mkfifo -m 0666 "$dir/$f"
		for cmd in "skm-run -s mine -- true" "skm drain" "skm stats" "skm check"; do
			run as $own $cmd
			[ "$status" -ne 124 ] || { echo "$cmd blocked on a FIFO $f"; false; }
		done
	done

	# 4. the owner's own journal file opened to the group
	fresh
	as $own skm-run -s mine -- true
	chmod 0660 "$dir/m.db.journal/journal"
	run --separate-stderr as $own skm-run -s mine -- true
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"m.db.journal/journal: refused"* ]]

	# 5. another user's -wal, -shm or rollback -journal beside the
	# owner's store (SQLite would replay a hot journal at open)
	for f in m.db-wal m.db-shm m.db-journal; do
		fresh
		as $own skm-run -s mine -- true
		as $own skm drain >/dev/null
		rm -f "$dir/m.db-wal" "$dir/m.db-shm"
		as $evil sh -c "printf x >'$dir/$f'; chmod 0666 '$dir/$f'"
		run --separate-stderr as $own skm stats
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"$f: refused"* ]]
		[ "$(cat "$dir/$f")" = x ]
	done

	# 6. another user's store, made first, open to all, with their runs
	fresh
	as $evil sh -c 'skm-run -s injected -- true && skm drain >/dev/null && rm -rf "$SKM_DB.journal" && chmod 0666 "$SKM_DB"'
	cp "$dir/m.db" "$BATS_TEST_TMPDIR/theirs.db"
	run as $own skm-run -s mine -- sh -c 'exit 4'
	[ "$status" -eq 4 ]
	run --separate-stderr as $own skm stats --json
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"m.db: refused"* ]]
	[[ "$output" != *injected* ]]
	cmp "$dir/m.db" "$BATS_TEST_TMPDIR/theirs.db"
	! grep -q mine "$dir/m.db"

	# 7. what the owner makes, with a umask of 0, others cannot read
	fresh
	as $own sh -c 'umask 0; skm-run -s mine -- true; printf "\360SKJgarbage" >>"$SKM_DB.journal/journal"; skm-run -s mine -- true; skm drain >/dev/null; skm check >/dev/null'
	[ -s "$dir/m.db.journal/quarantine.jsonl" ]
	[ -z "$(find "$dir" -mindepth 1 -user $own -perm /077)" ]
	rm -rf "$shared"
}

@test "a fold killed by SIGKILL at any moment loses and double-counts nothing" {
	python3 "$SEEDS" --runs 3000 >"$BATS_TEST_TMPDIR/runs"
	skm-run -s first -- true
	cat "$BATS_TEST_TMPDIR/runs" >>"$(journal)"
	for _ in $(seq 8); do
		skm drain >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	skm drain >/dev/null
	[ "$(sql "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'bulk'")" = 3000 ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'bulk'")" = 3000 ]
	run -0 skm check
	[ "$output" = ok ]
}

@test "in-process appenders racing folds that seal their file lose and double-count nothing" {
	skm-run -s first -- true
	# Rounds of 3 threads x 15000 pairs, folds sealing under them, until
	# the live file was sealed under the appenders a few times (a loaded
	# machine folds more slowly, so it takes more rounds).
	rounds=0
	while [ "$rounds" -lt 4 ]; do
		"$TOP/tests/helpers/skm-load" 3 15000 racer 100 >"$BATS_TEST_TMPDIR/load" 2>&1 &
		load=$!
		while kill -0 "$load" 2>/dev/null; do
			skm drain >/dev/null 2>&1 || true
		done
		wait "$load"
		[ "$(cat "$BATS_TEST_TMPDIR/load")" = 0 ]
		rounds=$((rounds + 1))
		[ "$(sql "SELECT count(*) FROM journal_fold")" -gt 2 ] && break
	done
	skm drain >/dev/null
	[ "$(sql "SELECT count(*) FROM journal_fold")" -gt 2 ]
	[ "$(sql "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'racer'")" = $((rounds * 45000)) ]
	[ "$(sql "SELECT count(*) FROM skill_invocation WHERE skill_name = 'racer' AND ended_at IS NOT NULL")" = $((rounds * 45000)) ]
	run -0 skm check
	[ "$output" = ok ]
}

@test "a query's fold is bounded; what it left is folded in the background" {
	skm-run -s first -- true
	skm drain >/dev/null
	python3 "$SEEDS" --runs 60000 >>"$(journal)"
	run -0 skm stats
	n=$(sqlite3 "$SKM_DB" "SELECT count(*) FROM skill_invocation WHERE skill_name = 'bulk' AND ended_at IS NOT NULL")
	[ "$n" -lt 60000 ] || skip "the fold at open took all of it in its half second"
	# nothing else reads or records: the rest comes in the background
	for _ in $(seq 600); do
		n=$(sqlite3 "$SKM_DB" "SELECT count(*) FROM skill_invocation WHERE skill_name = 'bulk' AND ended_at IS NOT NULL")
		[ "$n" -eq 60000 ] && break
		sleep 0.1
	done
	[ "$n" -eq 60000 ]
	run -0 skm check
	[ "$output" = ok ]
}

@test "the journal's CRC-32 tables are what tools/gen-crc32.py makes" {
	python3 "$TOP/tools/gen-crc32.py" | cmp - "$TOP/lib/crc32-tables.h"
}

@test "a recorder that takes the journal past its threshold starts a fold in the background" {
	skm-run -s first -- true
	# just under 1 MiB of runs waiting
	python3 "$SEEDS" --runs 3900 >>"$(journal)"
	[ "$(stat -c %s "$(journal)")" -lt 1048576 ]
	for i in $(seq 400); do
		skm-run -s crosser -- true
		[ "$(stat -c %s "$(journal)")" -lt 1000000 ] && break
	done
	# the live journal was sealed, folded and replaced by a new one
	for _ in $(seq 100); do
		[ -z "$(ls "$SKM_DB.journal" | grep sealed-)" ] && break
		sleep 0.1
	done
	[ "$(stat -c %s "$(journal)")" -lt 1000000 ]
	[ "$(sqlite3 "$SKM_DB" "SELECT total_invocations FROM skill_metrics WHERE skill_name = 'bulk'")" = 3900 ]
	[ -z "$(ls "$SKM_DB.journal" | grep sealed-)" ]
}

@test "a read-only store leaves the journal alone; the runs count once it is writable" {
	skm-run -s a -- true
	skm drain >/dev/null
	# Read-only for real: root writes through a mode of 0400, so as root
	# the store is a read-only bind mount in a namespace of its own.
	if [ "$(id -u)" -eq 0 ]; then
		unshare -m true 2>/dev/null || skip "needs unshare -m as root"
		ro() { unshare -m sh -c 'mount --bind -o ro "$SKM_DB" "$SKM_DB" && "$@"' sh "$@"; }
	else
		chmod 0400 "$SKM_DB"
		ro() { "$@"; }
	fi
	run ro skm-run -s a -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run ro skm drain
	[ "$status" -eq 1 ]
	[[ "$output" == *"readonly"* ]]
	run -0 ro skm show a --json
	[[ "$output" == *'"total_invocations":1'* ]]
	[ -s "$(journal)" ]
	chmod 0600 "$SKM_DB"
	run -0 skm show a --json
	[[ "$output" == *'"total_invocations":2'*'"exit:3":1'* ]]
	skm drain
	run -0 skm show a --json
	[[ "$output" == *'"total_invocations":2'* ]]
	run -0 skm check
}

# old_store: a copy of the store skm 0.1.0 made (tests/fixtures), with the
# modes its programs gave it (git keeps none of them), as $SKM_DB.
old_store() {
	cp -R "$TOP/tests/fixtures/release-0.1.0/." "$BATS_TEST_TMPDIR/"
	rm -f "$BATS_TEST_TMPDIR/README"
	mv "$BATS_TEST_TMPDIR/store.db" "$SKM_DB"
	mv "$BATS_TEST_TMPDIR/store.db.spool" "$SKM_DB.spool"
	chmod 0600 "$SKM_DB" "$SKM_DB.spool/events.jsonl"
	chmod 0700 "$SKM_DB.spool"
}

@test "a store made by skm 0.1.0 is migrated, and the runs waiting in its spool count once" {
	old_store
	[ "$(sqlite3 "$SKM_DB" "SELECT max(version) FROM schema_migrations")" = 3 ]
	run -0 skm stats --json
	[[ "$output" == *'"skill_name":"build","total_invocations":3,"completed_invocations":2'* ]]
	[[ "$output" == *'"skill_name":"deploy","total_invocations":2,"completed_invocations":1'* ]]
	[[ "$output" == *'"skill_name":"lint","total_invocations":2,"completed_invocations":1'* ]]
	[[ "$output" == *'"skill_name":"test","total_invocations":1,"completed_invocations":1'* ]]
	[ ! -e "$SKM_DB.spool" ]
	[ "$(sqlite3 "$SKM_DB" "SELECT max(version) FROM schema_migrations")" = "$(skm version | sed 's/.*schema \([0-9]*\).*/\1/')" ]
	# the run begun in the store got its end from the spool
	[ "$(sqlite3 "$SKM_DB" "SELECT count(*) FROM skill_invocation WHERE ended_at IS NULL")" = 0 ]
	[ "$(sqlite3 "$SKM_DB" "SELECT printf('%.3f', duration_seconds) FROM skill_invocation WHERE skill_name = 'test'")" = 1.537 ]
	[ "$(sqlite3 "$SKM_DB" "SELECT error_type FROM skill_invocation WHERE skill_name = 'deploy' AND completed = 0")" = exit:3 ]
	run -0 skm check
	[ "$output" = ok ]
	run -0 skm drain
	[ "$output" = "0 events applied from the journal" ]
	run -0 skm show deploy --json
	[[ "$output" == *'"total_invocations":2'* ]]
}

@test "a spool line of skm 0.1.0 that is no event is kept and named, the rest applied" {
	old_store
	printf '{"ev":"begin","id":"x"}\nnot json at all\n' >>"$SKM_DB.spool/events.jsonl"
	printf '%s\n' '{"ev":"end","id":"01a24158-3000-7000-8000-000000000001","skill_name":"review","invoked_at":"2026-12-04T13:58:00.000Z","ended_at":"2026-12-04T13:58:02.500Z","completed":1,"duration_seconds":2.5,"follow_up_actions":["fix","push"],"error_type":null}' >>"$SKM_DB.spool/events.jsonl"
	run -0 skm check
	[[ "$output" == *"note: 2 lines of an earlier skm's spool could not be read as events; kept in $SKM_DB.journal/legacy.jsonl"* ]]
	[ "$(sed -n 2p "$SKM_DB.journal/legacy.jsonl")" = "not json at all" ]
	[ "$(sqlite3 "$SKM_DB" "SELECT sum(total_invocations) FROM skill_metrics")" = 9 ]
	[ "$(sqlite3 "$SKM_DB" "SELECT follow_up_actions || ' ' || duration_seconds FROM skill_invocation WHERE skill_name = 'review'")" = '["fix","push"] 2.5' ]
}

@test "a spool of skm 0.1.0 that is a symlink or open to others is never read" {
	old_store
	mv "$SKM_DB.spool" "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$SKM_DB.spool"
	run -0 skm check
	[[ "$output" == *"note: $SKM_DB.spool: the spool of an earlier skm is still there"* ]]
	[ "$(sqlite3 "$SKM_DB" "SELECT sum(total_invocations) FROM skill_metrics")" = 5 ]
	[ -s "$BATS_TEST_TMPDIR/elsewhere/events.jsonl" ]
	rm "$SKM_DB.spool"
	mv "$BATS_TEST_TMPDIR/elsewhere" "$SKM_DB.spool"
	chmod 0777 "$SKM_DB.spool"
	run -0 skm show build --json
	[ "$(sqlite3 "$SKM_DB" "SELECT sum(total_invocations) FROM skill_metrics")" = 5 ]
	chmod 0700 "$SKM_DB.spool"
	run -0 skm show build --json
	[ "$(sqlite3 "$SKM_DB" "SELECT sum(total_invocations) FROM skill_metrics")" = 8 ]
}
