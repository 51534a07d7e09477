#!/bin/sh
# Runs the unit test programs given as arguments and every bats file, all
# speaking TAP, and ends with one line: "N passed, M failed".
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
one=$(mktemp)
for t in "$@"; do
	echo "# unit: $t"
	"$t" >"$one" 2>&1
	rc=$?
	cat "$one"; cat "$one" >>"$out"
	# A unit program that dies or fails without saying which test failed
	# still counts as one failure.
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$one"; then
		echo "not ok - $t exited with status $rc" | tee -a "$out"
	fi
done
rm -f "$one"
if ls "$top"/tests/bats/*.bats >/dev/null 2>&1; then
	bats --tap "$top"/tests/bats 2>&1 | tee -a "$out"
fi
pass=$(grep -c '^ok ' "$out")
fail=$(grep -c '^not ok ' "$out")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
