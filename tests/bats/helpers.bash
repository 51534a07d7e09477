# Shared set-up for the bats tests: the freshly built programs first on
# PATH, and a store of each test's own.
TOP="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
export PATH="$TOP:$PATH"
export SKM_DB="$BATS_TEST_TMPDIR/metrics.db"
# Where a refused journal's runs go (skm__jnl_alt): the test's, not $HOME.
export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
unset SKM_SKILL SKM_WORKFLOW SKM_SESSION SKM_PROJECT SKM_INVOCATION_ID SKM_DISABLE

# sql QUERY: run a read-only query against the test's store, after
# folding what recorders appended to its journal (as every skm query
# does first).
sql() {
	skm --db "$SKM_DB" drain >/dev/null 2>&1 || true
	sqlite3 -batch -noheader "$SKM_DB" "$1"
}

# new_store: an empty store, as the first write makes it (queries never
# create one).
new_store() {
	skm drain >/dev/null
}
