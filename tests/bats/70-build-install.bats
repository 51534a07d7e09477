#!/usr/bin/env bats
# The build as a packager or a library user meets it: the shared
# library's name and exports, the version in one place, make install and
# uninstall under DESTDIR and PREFIX, and a program built against the
# installed library with pkg-config.

load helpers

bats_require_minimum_version 1.5.0

@test "libskm.so has soname libskm.so.MAJOR and exports only skm_ names" {
	so=$(ls "$TOP"/libskm.so.*.*.*)
	major=$(sed -n 's/^#define SKM_VERSION_MAJOR \([0-9]*\)/\1/p' "$TOP/lib/skm.h")
	readelf -d "$so" | grep -q "SONAME.*\[libskm.so.$major\]"
	run sh -c "nm -D --defined-only '$so' | awk '{print \$3}' | grep -v '^skm_'"
	[ -z "$output" ]
	# and every function skm.h declares is exported
	for f in $(grep -o '\bskm_[a-z_]*(' "$TOP/lib/skm.h" | tr -d '(' | sort -u); do
		nm -D --defined-only "$so" | grep -q " $f\$"
	done
}

@test "without root, a machine lacking libpq-dev or PostgreSQL still checks: one line says the PostgreSQL tests are skipped" {
	# deps.sh as a user (id -u is not 0) on a machine whose pkg-config
	# knows no libpq; npm is never asked
	fb="$BATS_TEST_TMPDIR/bin"
	mkdir "$fb"
	printf '#!/bin/sh\ncase "$*" in *libpq*) exit 1 ;; esac\nexec %s "$@"\n' \
	    "$(command -v pkg-config)" >"$fb/pkg-config"
	printf '#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec %s "$@"\n' \
	    "$(command -v id)" >"$fb/id"
	printf '#!/bin/sh\nexit 0\n' >"$fb/npm"
	chmod +x "$fb"/*
	PATH="$fb:$PATH" run -0 --separate-stderr sh "$TOP/tests/deps.sh"
	[ "$stderr" = "skm: without libpq-dev the PostgreSQL tests are skipped (as root: apt-get install -y libpq-dev)" ]
	# and the PostgreSQL tests say why they skip
	run -0 bash -c '. "$1/tests/bats/pg.bash"; skm_has_pg() { false; }; pg_start; echo "$PG_SKIP"' bash "$TOP"
	[ "$output" = "skm was built without libpq (install libpq-dev and rebuild)" ]
}

@test "the version in the Makefile and in skm.h agree" {
	v=$(sed -n 's/^#define SKM_VERSION "\(.*\)"/\1/p' "$TOP/lib/skm.h")
	mk=$(make -s -C "$TOP" --no-print-directory -f Makefile -f - print-version <<<'print-version: ; @echo $(VERSION)')
	[ "$v" = "$mk" ]
	[[ "$(skm version)" == "skm $v (libskm $v, schema "[0-9]*")" ]]
}

@test "make install and uninstall honour DESTDIR and PREFIX, and pkg-config finds the library" {
	# a sanitized libskm.so needs its runtime in every program linked to it
	[ -z "${SKM_SANITIZED:-}" ] || skip "packaging is tested in the plain build"
	d="$BATS_TEST_TMPDIR/root"
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/skm >/dev/null
	for f in bin/skm-run bin/skm lib/libskm.a lib/libskm.so lib/pkgconfig/skm.pc include/skm.h; do
		[ -e "$d/opt/skm/$f" ]
	done
	ls "$d"/opt/skm/lib/libskm.so.*.*.* >/dev/null
	[ -L "$d/opt/skm/lib/libskm.so" ]
	grep -q '^prefix=/opt/skm' "$d/opt/skm/lib/pkgconfig/skm.pc"
	# a program built against the installed copy, with pkg-config
	flags=$(PKG_CONFIG_PATH="$d/opt/skm/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d" pkg-config --cflags --libs skm)
	cc -o "$BATS_TEST_TMPDIR/inprocess" "$TOP/examples/inprocess.c" $flags
	run env LD_LIBRARY_PATH="$d/opt/skm/lib" "$BATS_TEST_TMPDIR/inprocess" /etc/hostname
	[ "$status" -eq 0 ]
	[[ "$output" == *'"skill_name":"example-count-lines"'* ]]
	ldd "$BATS_TEST_TMPDIR/inprocess" | grep -q libskm.so
	make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/opt/skm >/dev/null
	[ -z "$(find "$d" -type f -o -type l)" ]
}

@test "the in-process example records its run" {
	run "$TOP/examples/inprocess" /etc/hostname /no/such/file
	[ "$status" -eq 1 ]
	[ "$(sql "SELECT completed || ' ' || error_type || ' ' || workflow_path FROM skill_invocation")" = "0 unreadable-file many-files" ]
	[ "$(sql "SELECT follow_up_actions FROM skill_metrics")" = '{"print-metrics":1}' ]
}

@test "make install puts the man pages, completions, skm.mk and the Python module in place, and they work from DESTDIR" {
	[ -z "${SKM_SANITIZED:-}" ] || skip "packaging is tested in the plain build"
	d="$BATS_TEST_TMPDIR/root"
	p="$d/opt/skm"
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/skm >/dev/null
	for f in share/man/man1/skm.1 share/man/man1/skm-run.1 share/man/man3/libskm.3 \
	    share/man/man7/skm-preload.7 share/bash-completion/completions/skm \
	    share/bash-completion/completions/skm-run share/zsh/site-functions/_skm \
	    share/zsh/site-functions/_skm-run share/skm/skm.mk; do
		[ "$(stat -c %a "$p/$f")" = 644 ]
	done
	[ "$(stat -c %a "$p/share/skm/sh")" = 755 ]
	[ -z "$(groff -mandoc -ww -z "$p/share/man/man1/skm.1" 2>&1)" ]
	# skm.mk names the installed skm-run; with it (under DESTDIR), a
	# recipe is recorded
	grep -qx 'SKM_RUN ?= /opt/skm/bin/skm-run' "$p/share/skm/skm.mk"
	printf 'all:\n\t@echo built\ninclude %s\n' "$p/share/skm/skm.mk" >"$BATS_TEST_TMPDIR/Makefile"
	run env PATH=/usr/bin:/bin make -s -C "$BATS_TEST_TMPDIR" SKM_RUN="$p/bin/skm-run"
	[ "$output" = built ]
	[ "$(skm show all --json | grep -o '"total_invocations":[0-9]*')" = '"total_invocations":1' ]
	# the Python module, found through PYTHONPATH, loads the installed
	# libskm (not the build tree's) and records
	py=$(find "$p/lib" -name skm.py)
	[ "$(dirname "$py")" = "$(make -s -C "$TOP" --no-print-directory -f Makefile -f - PREFIX=/opt/skm pd <<<'pd: ; @echo $(PYTHONDIR)' | sed "s|^|$d|")" ]
	grep -qx '_LIBDIR = "/opt/skm/lib"' "$py"
	run env PYTHONPATH="$(dirname "$py")" LD_LIBRARY_PATH="$p/lib" python3 -c '
import skm, sys
assert skm.__file__.startswith(sys.argv[1]), skm.__file__
maps = open("/proc/self/maps").read()
assert sys.argv[1] + "/opt/skm/lib/libskm.so" in maps, "libskm not from DESTDIR"
s = skm.SkillMetricsStore()
s.track_invocation("from-python").completer(completed=True)
print(s.get_skill_metrics("from-python")["total_invocations"])' "$d"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	# the installed bash completion, with the installed skm
	run env PATH="$p/bin:/usr/bin:/bin" bash -c 'source "$1"; COMP_WORDS=(skm show from-); COMP_CWORD=2; _skm; echo "${COMPREPLY[*]}"' bash "$p/share/bash-completion/completions/skm"
	[ "$output" = from-python ]
	make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/opt/skm >/dev/null
	[ -z "$(find "$d" -type f -o -type l)" ]
}
