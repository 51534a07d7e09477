#!/bin/sh
# make check-valgrind: skm-run and skm under valgrind memcheck on a real
# store: every run must report zero errors and no definitely lost bytes.
# Prints one TAP line per run and "N passed, M failed".
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SKM_DB="$tmp/m.db"
pass=0 fail=0 n=0
vg() {
	n=$((n + 1))
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --trace-children=no "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 99 ] || grep -q '^==[0-9]*==' "$tmp/err"; then
		fail=$((fail + 1))
		echo "not ok $n - valgrind $*"
		sed 's/^/# /' "$tmp/err" | head -40
	else
		pass=$((pass + 1))
		echo "ok $n - valgrind $* (exit $rc)"
	fi
}
# skm-run as linked for memcheck (dynamically: see check-valgrind)
R="${SKM_RUN_VG:+$top/$SKM_RUN_VG}"
R="${R:-$top/skm-run}"
S="$top/skm"
vg "$R" -s vg -w quick -f push -- true
vg "$R" -s vg -w quick -- sh -c 'exit 3'
vg "$R" -s vg -- sh -c 'kill -TERM $$'
vg "$R" -s vg -- ./no-such-command
vg "$R" -s vg --no-command -- true --password=x
vg "$R" -s vg -- true --token abc https://u:p@h/ 'Authorization: x'
printf 'garbage garbage garbage garbage garbage garbage' >"$tmp/bad.db"
SKM_DB="$tmp/bad.db" vg "$R" -s vg -- true
vg "$S" stats
vg "$S" stats --json
vg "$S" show vg
vg "$S" show vg --json
vg "$S" summary
vg "$S" summary --json
vg "$S" recent --limit 5
vg "$S" recent --failed --json
id=$("$S" begin --skill vg2 --session s1)
vg "$S" end "$id" --exit 1 --follow-up a --follow-up b
vg "$S" end "$id"
vg "$S" end-session s1
vg "$S" check
vg "$S" recompute
vg "$S" drain
vg "$S" show no-such-skill
vg "$S" bogus-command
SKM_DB="$tmp/bad.db" vg "$S" drain
for extra in "$@"; do vg $extra; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
