#!/usr/bin/env bats
# The build as a packager or a library user meets it: the shared
# library's name and exports, the version in one place, make install and
# uninstall under DESTDIR and PREFIX, and a program built against the
# installed library with pkg-config.

load helpers

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
