#!/bin/sh
# gen-jsonl.sh [N] [DAYS] - print N invocations (default 100000) as JSON
# Lines in the reference bulk-import format, spread over the last DAYS
# days (default 30), for `skm import`.  Deterministic: the same N and DAYS
# on the same day give the same ids and values.
#
#	sh bench/gen-jsonl.sh 100000 > /tmp/inv.jsonl
#	time skm --db /tmp/bench.db import /tmp/inv.jsonl
n=${1:-100000}
days=${2:-30}
now=$(date -u +%s)
awk -v n="$n" -v days="$days" -v now="$now" 'BEGIN {
	split("lint test build release deploy docs bench fmt", skills, " ")
	split("quick ci/full ci/quick nightly local", paths, " ")
	split("exit:1 exit:2 signal:SIGTERM exec:ENOENT", errs, " ")
	srand(42)
	span = days * 86400
	for (i = 0; i < n; i++) {
		t = now - span + int(i * span / n)
		s = skills[1 + int(rand() * 8)]
		p = paths[1 + int(rand() * 5)]
		ok = rand() < 0.85
		d = sprintf("%.3f", 0.05 + rand() * rand() * 120)
		e = ok ? "null" : "\"" errs[1 + int(rand() * 4)] "\""
		f = rand() < 0.2 ? "[\"retry\",\"notify\"]" : "[]"
		printf "{\"id\":\"gen-%08d-%04x\",\"skill_name\":\"%s\",", i, \
		    int(rand() * 65536), s
		printf "\"invoked_at\":\"%s\",", strftime("%Y-%m-%dT%H:%M:%SZ", t, 1)
		printf "\"workflow_path\":\"%s\",\"completed\":%s,", p, \
		    ok ? "true" : "false"
		printf "\"duration_seconds\":%s,\"follow_up_actions\":%s,", d, f
		printf "\"session_id\":\"s%d\",\"error_type\":%s}\n", \
		    int(i / 50), e
	}
}'
