#!/usr/bin/env bats
# The Python binding (python/skm.py) from the build tree: its unittest
# suite, the reference design's four tests among them.

load helpers

setup() {
	# python3 is no sanitized program: a libskm.so built with ASan cannot
	# be loaded into it (the ASan runtime must come first)
	[ -z "${SKM_SANITIZED:-}" ] || skip "the binding is tested in the plain build"
}

@test "the Python binding's unit tests pass (python3 -m unittest)" {
	command -v python3 >/dev/null
	cd "$TOP/python"
	run env PYTHONPATH="$TOP/python" SKM_BIN="$TOP/skm" \
	    python3 -m unittest -v test_skm
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"test_concurrent_invocations"*ok* ]]
	[[ "$output" == *"test_bulk_import_invocations"*ok* ]]
	[[ "$output" =~ Ran\ ([0-9]+)\ tests ]]
	[ "${BASH_REMATCH[1]}" -ge 21 ]
	[[ "$output" != *skipped* ]]
}

@test "python3 -c 'import skm' records a run that skm show reads back" {
	run env PYTHONPATH="$TOP/python" python3 -c '
import skm
s = skm.SkillMetricsStore()
s.track_invocation("py-skill", "quick").completer(
    completed=True, follow_up_actions=["commit"])
print(s.path)'
	[ "$status" -eq 0 ]
	[ "$output" = "$SKM_DB" ]
	run skm show py-skill --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"workflow_paths":{"quick":1}'*'"follow_up_actions":{"commit":1}'* ]]
}
