#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages skm needs to
# build and test: the compiler, pkg-config, SQLite, libbsd, bats, the
# sqlite3 shell the tests use to look into the store, and groff, zsh and
# python3 for the man page, completion and Python binding tests (and, as
# root, node and chromium for the OTLP and HTML report checks).
missing=""
# What only the PostgreSQL backend and its tests need: libpq-dev to build
# lib/pg.c, a server's binaries for tests/bats/pg.bash.  Root installs
# them with the rest; anyone else builds and tests without them, the
# PostgreSQL tests skipped, each saying why.
optional=""
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists sqlite3 || missing="$missing libsqlite3-dev"
	pkg-config --exists libbsd-overlay || missing="$missing libbsd-dev"
	# the PostgreSQL backend (skm sync, --server); optional to build
	pkg-config --exists libpq || optional="$optional libpq-dev"
else
	missing="$missing libsqlite3-dev libbsd-dev"
	optional="$optional libpq-dev"
fi
# a real server for the fleet tests (tests/bats/pg.bash finds it so too)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
    { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 ||
    optional="$optional postgresql"
command -v bats >/dev/null 2>&1 || missing="$missing bats"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v git >/dev/null 2>&1 || missing="$missing git"
# tmux drives the terminal cases of skm-run (13-transparency-tty.bats);
# perl runs their callers; script(1) (bsdutils) gives a command a pty.
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v perl >/dev/null 2>&1 || missing="$missing perl"
# the man page, completion and Python binding tests
command -v groff >/dev/null 2>&1 || missing="$missing groff-base"
command -v zsh >/dev/null 2>&1 || missing="$missing zsh"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
# the git hooks test drives the real pre-commit framework
command -v pre-commit >/dev/null 2>&1 || missing="$missing pre-commit"
# What some targets need besides: `deps.sh valgrind`, `deps.sh fuzz`.
for extra in "$@"; do
	case $extra in
	valgrind)
		command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind" ;;
	fuzz)
		command -v clang >/dev/null 2>&1 || missing="$missing clang"
		# libFuzzer's runtime comes with clang's compiler-rt
		tmp=$(mktemp -d)
		printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)'\
'{(void)d;(void)n;return 0;}\n' >"$tmp/f.c"
		clang -fsanitize=fuzzer "$tmp/f.c" -o "$tmp/f" >/dev/null 2>&1 ||
		    missing="$missing libclang-rt-14-dev"
		rm -rf "$tmp" ;;
	esac
done
# What the OTLP export and HTML report tests check with when they can:
# node with OpenTelemetry's packages (tests/otlp) and chromium.  Root
# installs them; anyone else gets those tests skipped, saying why.
if [ "$(id -u)" = 0 ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
fi
if [ -n "$optional" ]; then
	if [ "$(id -u)" = 0 ]; then
		missing="$missing$optional"
	else
		echo "skm: without$optional the PostgreSQL tests are skipped (as root: apt-get install -y$optional)" >&2
	fi
fi
# The node packages pinned by tests/otlp/package-lock.json, once.
otlp_modules() {
	top=$(cd "$(dirname "$0")/.." && pwd)
	[ -d "$top/tests/otlp/node_modules/@opentelemetry/otlp-transformer" ] &&
	    return 0
	command -v npm >/dev/null 2>&1 || return 0
	(cd "$top/tests/otlp" && npm ci --no-audit --no-fund --loglevel=error \
	    >/dev/null 2>&1) ||
	    echo "skm: npm ci in tests/otlp failed: the OTLP check will be skipped" >&2
	return 0
}
[ -z "$missing" ] && { otlp_modules; exit 0; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "skm: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
		echo "skm: apt-get install failed for:$missing" >&2; exit 1; }
	otlp_modules
	exit 0
fi
echo "skm: missing packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
