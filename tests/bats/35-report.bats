#!/usr/bin/env bats
# skm report: one self-contained HTML page, rendered by headless Chromium
# (once for the whole file: it is slow to start) and held to the numbers
# of `skm show --json`.

load helpers

# A store of a few skills over the last days, one with a hostile name,
# one that never completed; its report; the DOM Chromium built from it
# and a screenshot.
setup_file() {
	command -v chromium >/dev/null || skip "no chromium (make deps as root installs it)"
	export R="$BATS_FILE_TMPDIR"
	export SKM_DB="$R/metrics.db"
	BAD='<img src=x onerror=alert(1)>&"'\''x'
	{
		for i in $(seq 1 40); do
			at=$(date -u -d "-$((i * 3)) hours" +%Y-%m-%dT%H:%M:%SZ)
			ok=true err=null
			[ $((i % 7)) -eq 0 ] && { ok=false; err='"exit:1"'; }
			[ $((i % 11)) -eq 0 ] && { ok=false; err='"signal:SIGKILL"'; }
			echo "{\"id\":\"a$i\",\"skill_name\":\"alpha\",\"invoked_at\":\"$at\",\"completed\":$ok,\"duration_seconds\":$((i % 9 + 1)).$((i % 10))5,\"error_type\":$err,\"workflow_path\":\"ci/full\",\"command\":\"make test N=$i\"}"
		done
		for i in $(seq 1 12); do
			at=$(date -u -d "-$((i * 17)) hours" +%Y-%m-%dT%H:%M:%SZ)
			echo "{\"id\":\"b$i\",\"skill_name\":\"beta\",\"invoked_at\":\"$at\",\"completed\":true,\"duration_seconds\":0.0$i}"
		done
		at=$(date -u -d "-5 hours" +%Y-%m-%dT%H:%M:%SZ)
		echo "{\"id\":\"h1\",\"skill_name\":\"<img src=x onerror=alert(1)>&\\\"'x\",\"invoked_at\":\"$at\",\"completed\":true,\"duration_seconds\":2,\"command\":\"</td><script>alert(2)</script>\"}"
		echo "{\"id\":\"n1\",\"skill_name\":\"never\",\"invoked_at\":\"$at\",\"completed\":false,\"error_type\":\"exec:ENOENT\"}"
	} >"$R/in.jsonl"
	skm import "$R/in.jsonl" >/dev/null
	skm report -o "$R/report.html"
	# One run for both: Chromium is slow to start.  As root it needs
	# --no-sandbox; a profile of its own.
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --hide-scrollbars --user-data-dir="$R/profile" \
	    --window-size=1500,1400 --screenshot="$R/shot.png" --dump-dom \
	    "file://$R/report.html" 2>/dev/null >"$R/dom.html"
	# Kept for a look: make check leaves it in build/ (not a test result).
	mkdir -p "$BATS_TEST_DIRNAME/../../build" &&
	    cp "$R/shot.png" "$BATS_TEST_DIRNAME/../../build/report.png" || true
}

# helpers.bash gives each test a store of its own: these share one.
setup() {
	export SKM_DB="$R/metrics.db"
}

# The section of skill $1 in the DOM, on one line.
section() {
	tr '\n' ' ' <"$R/dom.html" | sed 's/<section/\n<section/g' |
	    grep -F "class=\"card skill\"" | grep -F "data-skill=\"$1\""
}

# The value and the text of the element marked data-key=$2 in $1's section.
shown_value() {
	section "$1" | grep -o "data-key=\"$2\" data-value=\"[^\"]*\">[^<]*<" |
	    head -1 | sed 's/.*data-value="\([^"]*\)">\([^<]*\)</\1|\2/'
}

# show SKILL KEY: KEY of skm show --json SKILL (asked once per skill).
show() {
	[ -s "$R/show-$1.json" ] || skm show --json "$1" >"$R/show-$1.json"
	sqlite3 -batch -noheader :memory: "SELECT json_extract(json(readfile('$R/show-$1.json')), '\$.$2')"
}

# same A B: two numbers equal to 1e-9 (relative), or both empty.
same() {
	[ "$1" = "$2" ] && return 0
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d;
	    m = a < 0 ? -a : a; exit !(a != "" && b != "" && d <= 1e-9 * (m > 1 ? m : 1)) }'
}

@test "the report is one self-contained page: no script, nothing fetched" {
	f="$R/report.html"
	[ -s "$f" ]
	! grep -qi '<script' "$f"
	! grep -qiE '<(link|img|iframe|object|embed|base)[ >]' "$f"
	! grep -qiE '(src|href)="?(https?:|//)' "$f"
	! grep -qiE 'url\(|@import|@font-face' "$f"
	grep -q '<svg class="timeline"' "$f"
	grep -q '<svg class="histogram"' "$f"
	# Chromium built a page with every skill's section.
	[ "$(grep -o 'class="card skill"' "$R/dom.html" | wc -l)" -eq 4 ]
}

@test "the numbers on the page are those of skm show --json" {
	for s in alpha beta never; do
		for k in total_invocations completed_invocations completion_rate \
		    avg_duration_seconds p50_duration_seconds p95_duration_seconds \
		    p99_duration_seconds; do
			got=$(shown_value "$s" "$k")
			want=$(show "$s" "$k")
			echo "$s $k: page [$got] show [$want]"
			same "${got%%|*}" "$want"
		done
		# Counts and rates as read on the page.
		[ "$(shown_value "$s" total_invocations | cut -d'|' -f2)" = "$(show "$s" total_invocations)" ]
		[ "$(shown_value "$s" completion_rate | cut -d'|' -f2)" = "$(printf '%.1f%%' "$(show "$s" completion_rate)")" ]
	done
	# alpha: 40 runs, 8 failed (every 7th and 11th of 1..40).
	[ "$(shown_value alpha total_invocations)" = "40|40" ]
	[ "$(shown_value alpha completed_invocations)" = "32|32" ]
	# A skill that never completed has no percentiles: shown as a dash.
	[ "$(shown_value never p50_duration_seconds)" = "|–" ]
}

@test "the charts count every run: timeline, failures, histogram, error mix" {
	tl=$(section alpha | grep -o '<svg class="timeline"[^>]*>')
	[[ "$tl" == *'data-runs="40" data-failed="8"'* ]]
	[ "$(section alpha | grep -o '<g class="b"[^>]*data-runs="[0-9]*"' | sed 's/.*data-runs="//; s/"//' | awk '{ n += $1 } END { print n }')" -eq 40 ]
	hist=$(section alpha | grep -o '<svg class="histogram"[^>]*>')
	[[ "$hist" == *'data-runs="32"'* ]]
	[ "$(section alpha | grep -o 'data-count="[0-9]*"' | sed 's/[^0-9]//g' | awk '{ n += $1 } END { print n }')" -eq 32 ]
	errs=$(section alpha | grep -o 'data-key="count" data-value="[0-9]*"' | sed 's/.*="//; s/"//' | tr '\n' ' ')
	[ "$errs" = "5 3 " ]
	# The slowest recent run first.
	[[ "$(section alpha | grep -o 'class="slow".*' | grep -o '<td data-value="[^"]*"' | head -1)" == *'"9.'* ]]
}

@test "text from the store is escaped: a hostile skill name or command stays text" {
	! grep -q '<img' "$R/dom.html"
	! grep -q '<script' "$R/dom.html"
	grep -qF '&lt;img src=x onerror=alert(1)&gt;&amp;' "$R/dom.html"
	grep -qF '&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;' "$R/dom.html"
}

@test "Chromium renders the page (a screenshot of it)" {
	[ -s "$R/shot.png" ]
	# PNG signature, then the IHDR width: 1500.
	[ "$(od -An -tx1 -N8 "$R/shot.png" | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(od -An -tu1 -j16 -N4 "$R/shot.png" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')" -eq 1500 ]
	[ "$(stat -c %s "$R/shot.png")" -gt 50000 ]
}

@test "report writes to stdout without -o, and a bad bucket is a usage error" {
	run skm report --bucket fortnight -o "$R/bad.html"
	[ "$status" -eq 2 ]
	[ ! -e "$R/bad.html" ]
	run skm report
	[ "$status" -eq 0 ]
	[[ "$output" == "<!DOCTYPE html>"* ]]
	[[ "$output" == *"</html>" ]]
}
