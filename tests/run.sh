#!/bin/sh
# Runs the unit test programs given as arguments and every bats file, all
# speaking TAP, and ends with one line: "N passed, M failed".
#
# A suite that breaks without saying which test failed still counts: a
# unit program that exits non-zero (or dies) without a "not ok" line, bats
# missing, bats exiting non-zero without a "not ok" line, or bats running
# fewer tests than its plan ("1..N") announced, each count as one failure.
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
one=$(mktemp)
rcf=$(mktemp)
trap 'rm -f "$out" "$one" "$rcf"' EXIT

# fail MESSAGE: one failure that no test reported.
fail() {
	echo "not ok - $*" | tee -a "$out"
}

for t in "$@"; do
	echo "# unit: $t"
	"$t" >"$one" 2>&1
	rc=$?
	cat "$one"; cat "$one" >>"$out"
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$one"; then
		fail "$t exited with status $rc"
	fi
done

if ls "$top"/tests/bats/*.bats >/dev/null 2>&1; then
	if ! command -v bats >/dev/null 2>&1; then
		fail "bats is not installed (make deps)"
	else
		# Shown as it runs; its status kept through the pipe.
		{ bats --tap "$top"/tests/bats 2>&1; echo $? >"$rcf"; } |
		    tee "$one"
		rc=$(cat "$rcf")
		cat "$one" >>"$out"
		plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$one" | head -1)
		ran=$(grep -c -E '^(not )?ok ' "$one")
		if [ -z "$plan" ] || [ "$ran" -eq 0 ]; then
			fail "bats ran no test (status $rc)"
		elif [ "$ran" -ne "$plan" ]; then
			fail "bats planned $plan tests but reported $ran (status $rc)"
		elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$one"; then
			fail "bats exited with status $rc"
		fi
	fi
fi
pass=$(grep -c '^ok ' "$out")
nfail=$(grep -c '^not ok ' "$out")
echo "$pass passed, $nfail failed"
[ "$nfail" -eq 0 ]
