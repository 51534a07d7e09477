#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages skm needs to
# build and test: the compiler, pkg-config, SQLite, libbsd, bats and the
# sqlite3 shell the tests use to look into the store.
missing=""
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists sqlite3 || missing="$missing libsqlite3-dev"
	pkg-config --exists libbsd-overlay || missing="$missing libbsd-dev"
else
	missing="$missing libsqlite3-dev libbsd-dev"
fi
command -v bats >/dev/null 2>&1 || missing="$missing bats"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v git >/dev/null 2>&1 || missing="$missing git"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "skm: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
		echo "skm: apt-get install failed for:$missing" >&2; exit 1; }
	exit 0
fi
echo "skm: missing packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
