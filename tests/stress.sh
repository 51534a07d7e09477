#!/bin/bash
# tests/stress.sh [SECONDS] - exactly once under everything at once: 16
# recorder loops (6 skm-run, 5 shimmed processes, 5 in-process threads in
# a loop of skm-load runs) for SECONDS (default 10), while queries fold,
# `skm drain` folds, and further drains are killed with SIGKILL at random
# moments.  Then every run is in the store exactly once, none is left
# running, and `skm check` is clean.  `make check-stress` runs it for 60 s.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
dir=$(mktemp -d "${TMPDIR:-/tmp}/skm-stress.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export PATH="$top:$PATH" SKM_DB="$dir/s.db" SKM_RULES="$dir/rules"
export SKM_BUSY_TIMEOUT_MS=15000
unset SKM_SKILL SKM_SHIM_SKILL SKM_WORKFLOW SKM_SESSION SKM_PROJECT \
    SKM_INVOCATION_ID SKM_DISABLE SKM_DEBUG SKM_SHIM_HANDOFF
printf 'shimmed  */stress-true\n' >"$SKM_RULES"
# The shimmed program: a copy of true under a name only the rule matches.
cp /bin/true "$dir/stress-true" || exit 1
shim=
if [ -z "${SKM_SANITIZED:-}" ] && [ -e "$top/shim/libskm-preload.so" ]; then
	shim="$top/shim/libskm-preload.so"
fi
skm drain >/dev/null || exit 1
end=$((SECONDS + secs))

wrapped() {     # skm-run loop $1
	local n=0
	while [ $SECONDS -lt $end ]; do
		skm-run -s wrapped -- true && n=$((n + 1))
	done
	echo $n >"$dir/wrapped.$1"
}
shimmed() {     # shim loop $1
	local n=0
	while [ $SECONDS -lt $end ]; do
		LD_PRELOAD="$shim" "$dir/stress-true" && n=$((n + 1))
	done
	echo $n >"$dir/shimmed.$1"
}
inproc() {      # 5 threads, 200 pairs each, again and again
	local n=0 failed
	while [ $SECONDS -lt $end ]; do
		failed=$("$top/tests/helpers/skm-load" 5 200 inproc) || true
		n=$((n + 1000 - ${failed:-1000}))
	done
	echo $n >"$dir/inproc"
}
folders() {     # queries and drains fold; some drains die by SIGKILL
	local pid
	while [ $SECONDS -lt $end ]; do
		skm stats >/dev/null 2>&1
		skm drain >/dev/null 2>&1
		skm drain >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

{
	for i in 1 2 3 4 5 6; do wrapped $i & done
	if [ -n "$shim" ]; then
		for i in 1 2 3 4 5; do shimmed $i & done
	fi
	inproc &
	folders &
	folders &
	wait
} 2>"$dir/stderr"
if [ -s "$dir/stderr" ]; then
	echo "stress: the loops said:"
	head -20 "$dir/stderr"
fi
skm drain >/dev/null || { echo "stress: the last drain failed"; exit 1; }

sum() { cat "$dir"/$1* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
q() { sqlite3 -batch -noheader "$SKM_DB" "$1"; }
fail=0
for skill in wrapped shimmed inproc; do
	want=$(sum $skill)
	rows=$(q "SELECT count(*) FROM skill_invocation WHERE skill_name = '$skill' AND ended_at IS NOT NULL")
	total=$(q "SELECT coalesce(sum(total_invocations), 0) FROM skill_metrics WHERE skill_name = '$skill'")
	printf 'stress: %-8s %6d runs, %6d rows, %6d counted\n' "$skill" "$want" "$rows" "$total"
	[ "$rows" = "$want" ] && [ "$total" = "$want" ] || fail=1
done
running=$(q "SELECT count(*) FROM skill_invocation WHERE ended_at IS NULL")
[ "$running" = 0 ] || { echo "stress: $running runs left running"; fail=1; }
out=$(skm check 2>&1)
[ "$out" = ok ] || { echo "stress: skm check: $out"; fail=1; }
[ -z "$shim" ] && echo "stress: no shim loops (sanitized build or no shim)"
[ $fail = 0 ] && echo "stress: exact and clean after ${secs}s"
exit $fail
