#!/bin/sh
# Runs skm's benchmark suite (bench/bench.c) in a scratch directory on disk
# and leaves the table on stdout and bench/results.json.
#
#	sh bench/run.sh [-q]	-q: small sizes, seconds (what CI runs)
#
# The scratch directory is $BENCH_DIR if set, else a new one under
# $TMPDIR or /var/tmp (not /tmp, which may be a tmpfs: the store's cost
# is measured on a real file system).  It is removed afterwards.
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${BENCH_DIR:-}" ]; then
	dir=$BENCH_DIR
	mkdir -p "$dir" || exit 1
else
	dir=$(mktemp -d "${TMPDIR:-/var/tmp}/skm-bench.XXXXXX") || exit 1
	trap 'rm -rf "$dir"' EXIT INT TERM
fi
echo "skm bench: $(uname -sr), $(nproc) cores, sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), scratch $dir" >&2
"$top/bench/bench" "$@" -t "$top" -d "$dir" -o "$top/bench/results.json"
