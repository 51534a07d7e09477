#!/usr/bin/env bats
# The man pages (man/): they format without a single groff warning, and
# they stay true to the programs: every function of skm.h in libskm(3),
# every command of `skm help` in skm(1), every option of skm-run in
# skm-run(1).

load helpers

PAGES="skm.1 skm-run.1 libskm.3 skm-preload.7"

@test "groff -mandoc -ww prints no warning for any man page" {
	for p in $PAGES; do
		run groff -mandoc -ww -z "$TOP/man/$p"
		echo "$p: $output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
	# and a broken page would be caught
	printf '.Dd x\n.Dt X 1\n.Os\n.Sh NAME\n.Xx nope\n' >"$BATS_TEST_TMPDIR/bad.1"
	run groff -mandoc -ww -z "$BATS_TEST_TMPDIR/bad.1"
	[ -n "$output" ]
}

@test "libskm(3) names and describes every function skm.h declares" {
	for f in $(grep -o '\bskm_[a-z_]*(' "$TOP/lib/skm.h" | tr -d '(' | sort -u); do
		grep -qx "\.Nm $f\( ,\)\{0,1\}" "$TOP/man/libskm.3" || { echo "NAME lacks $f"; false; }
		grep -q "^\.Fn $f \"" "$TOP/man/libskm.3" ||
		    grep -qx "\.Fn $f void" "$TOP/man/libskm.3" || { echo "SYNOPSIS lacks $f"; false; }
		[ "$(grep -c "^\.Fn $f\( ,\)\{0,1\}$" "$TOP/man/libskm.3")" -ge 1 ] || { echo "DESCRIPTION lacks $f"; false; }
	done
}

@test "skm(1) has an entry for every command skm help lists" {
	cmds=$(skm help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	[ "$(echo "$cmds" | wc -l)" -ge 15 ]
	for c in $cmds; do
		grep -q "^\.It Ic $c\b" "$TOP/man/skm.1" || { echo "skm.1 lacks $c"; false; }
	done
}

@test "skm(1) documents every option skm help COMMAND shows, in that command's entry" {
	cmds=$(skm help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	# the options every command shares, in SYNOPSIS and DESCRIPTION
	for o in db server host json help; do
		grep -qF -- "Fl \\-$o" "$TOP/man/skm.1" || { echo "skm.1 lacks --$o"; false; }
	done
	for c in $cmds; do
		entry=$(awk -v c="$c" '$0 ~ "^\\.It Ic " c "( |$)" { p = 1; print; next }
		    p && /^\.(It Ic|El)/ { p = 0 } p' "$TOP/man/skm.1")
		[ -n "$entry" ] || { echo "skm.1 has no entry for $c"; false; }
		for o in $(skm help "$c" | sed -n '/^options:/,$p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			case $o in --db | --server | --host | --json | --help) continue ;; esac
			grep -qF -- "Fl \\-${o#--}" <<<"$entry" ||
			    { echo "skm.1's entry for $c lacks $o"; false; }
		done
	done
}

@test "skm-run(1) documents every option skm-run --help shows" {
	opts=$(skm-run --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ]
	for o in $opts; do
		grep -qF -- "Fl \\-${o#--}" "$TOP/man/skm-run.1" || { echo "skm-run.1 lacks $o"; false; }
	done
}

@test "skm-preload(7) lists every variable the shim reads, by the name it reads" {
	# what the shim and the recorder objects it links read (the handoff
	# between two images of one process is the shim's own business)
	vars=$(cat "$TOP"/shim/*.c "$TOP"/lib/recopt.c "$TOP"/lib/record.c \
	    "$TOP"/lib/journal.c | grep -oE '"SKM_[A-Z_]+' | tr -d '"' |
	    grep -v '^SKM_SHIM_HANDOFF$' | sort -u)
	[ "$(echo "$vars" | wc -l)" -ge 8 ]
	env=$(sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' "$TOP/man/skm-preload.7")
	for v in $vars; do
		grep -qE "^\.It Ev (.* )?$v( ,|\$| )" <<<"$env" || { echo "skm-preload.7 lacks $v"; false; }
	done
	# and names no variable the shim does not read
	for v in $(grep -oE '^\.It Ev .*' <<<"$env" | grep -oE 'SKM_[A-Z_]+'); do
		grep -qx "$v" <<<"$vars" || { echo "skm-preload.7 lists $v"; false; }
	done
}

@test "the README links every man page" {
	for p in $PAGES; do
		grep -q "(man/$p)" "$TOP/README.md" || { echo "README lacks $p"; false; }
	done
}
