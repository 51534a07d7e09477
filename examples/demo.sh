#!/bin/sh
# make demo: record a few real commands with skm-run in the default store
# ($SKM_DB, else $XDG_DATA_HOME/skm/metrics.db, else
# ~/.local/share/skm/metrics.db), then show what skm knows about them.
set -u
cd "$(dirname "$0")/.." || exit 1
PATH="$PWD:$PATH"
export PATH
echo "== store: ${SKM_DB:-${XDG_DATA_HOME:-$HOME/.local/share}/skm/metrics.db}"
run() { echo "\$ skm-run $*"; skm-run "$@"; echo "  -> exit $?"; }
run --skill demo-list -w quick -- ls -1 lib
run --skill demo-list -w quick -- ls -1 runner
run --skill demo-grep -w search -- grep -c skm_ lib/skm.h
run --skill demo-grep -w search -- grep -q no-such-text-here Makefile
run --skill demo-sleep -w wait -f review -- sleep 0.2
run --skill demo-sleep -w wait -- sleep 0.1
run --skill demo-missing -- ./no-such-command
echo
echo "\$ skm stats"
skm stats
echo
echo "\$ skm show demo-sleep"
skm show demo-sleep
echo
echo "\$ skm errors"
skm errors
echo
echo "\$ skm timeline demo-sleep --since 1h --bucket minute"
skm timeline demo-sleep --since 1h --bucket minute | tail -4
