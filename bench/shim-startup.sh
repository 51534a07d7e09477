#!/bin/sh
# The shim's start-up cost for processes it does not record: median time
# per process start of a tiny C program (tests/shim/t_host ret 0) without
# and with LD_PRELOAD=shim/libskm-preload.so.  Prints a table; never fails
# the build.
top=$(cd "$(dirname "$0")/.." && pwd)
shim="$top/shim/libskm-preload.so"
prog="$top/tests/shim/t_host"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A rules file of 20 rules, none of which matches the program.
i=0
while [ $i -lt 20 ]; do
	echo "skill$i  never-matches-$i *"
	i=$((i + 1))
done >"$tmp/rules"
rounds=${ROUNDS:-15}
n=${N:-200}
echo "shim start-up overhead, $rounds rounds of $n starts, median per start:"
printf '%-34s %11s %11s %11s\n' "case" "without" "with shim" "overhead"
export SKM_DB="$tmp/metrics.db"
unset SKM_SKILL SKM_SHIM_HANDOFF
BENCH_LABEL="no rules file" SKM_RULES="$tmp/none" \
    "$top/bench/shim-startup" "$shim" "$rounds" "$n" "$prog" ret 0
BENCH_LABEL="20 rules, none matches" SKM_RULES="$tmp/rules" \
    "$top/bench/shim-startup" "$shim" "$rounds" "$n" "$prog" ret 0
echo "skill  *t_host ret*" >"$tmp/match"
BENCH_LABEL="a rule matches (recorded)" SKM_RULES="$tmp/match" \
    "$top/bench/shim-startup" "$shim" 5 50 "$prog" ret 0
[ -f "$SKM_DB" ] && echo "recorded: $(sqlite3 "$SKM_DB" 'SELECT count(*) FROM skill_invocation' 2>/dev/null) invocations"
exit 0
