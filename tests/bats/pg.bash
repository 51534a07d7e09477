# A real PostgreSQL server for the fleet tests: initdb into a temporary
# directory as an unprivileged user (root hands it to `nobody`), pg_ctl
# start on a private socket directory and a free port, stopped by
# pg_stop.  pg_start sets PG_SKIP (one line saying why) when it cannot.
#
#   setup_file()    { pg_start; }
#   teardown_file() { pg_stop; }
#   setup()         { pg_need; pg_newdb; }   # a database of the test's own

pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
	    { dirname "$(command -v initdb)"; return 0; }
	return 1
}

# pg_as CMD...: run as the server's owner (nobody when we are root).
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local bin port try
	export PG_SKIP=""
	if ! skm_has_pg; then
		export PG_SKIP="skm was built without libpq (install libpq-dev and rebuild)"
		return 0
	fi
	if ! bin=$(pg_bindir); then
		export PG_SKIP="no PostgreSQL server binaries (install postgresql)"
		return 0
	fi
	if [ "$(id -u)" = 0 ] && ! command -v runuser >/dev/null 2>&1; then
		export PG_SKIP="running as root without runuser to drop privileges"
		return 0
	fi
	export PG_BIN="$bin"
	PG_DIR=$(mktemp -d /tmp/skm-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	mkdir "$PG_DIR/data" "$PG_DIR/sock"
	[ "$(id -u)" = 0 ] && chown nobody "$PG_DIR/data" "$PG_DIR/sock"
	chmod 700 "$PG_DIR/data"
	chmod 755 "$PG_DIR/sock"
	export PG_DIR
	if ! pg_as "$bin/initdb" -D "$PG_DIR/data" -U skm --auth=trust \
	    --no-sync --no-instructions -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		export PG_SKIP="initdb failed: $(tail -1 "$PG_DIR/initdb.log")"
		return 0
	fi
	# TCP on 127.0.0.1 with a password for one role (the authentication
	# tests); trust on the private socket for everything else.
	cat >"$PG_DIR/hba" <<-EOF
	local all all trust
	host all pwuser 127.0.0.1/32 scram-sha-256
	host all all 127.0.0.1/32 trust
	EOF
	pg_as cp "$PG_DIR/hba" "$PG_DIR/data/pg_hba.conf"
	for try in 1 2 3 4 5 6 7 8; do
		port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		if pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/data/log" -w \
		    -t 30 -o "-k $PG_DIR/sock -p $port -c listen_addresses=127.0.0.1 \
		    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		    -c max_connections=40" start >/dev/null 2>&1; then
			export PG_PORT=$port
			export PG_URL="host=$PG_DIR/sock port=$port user=skm dbname=postgres"
			return 0
		fi
	done
	export PG_SKIP="pg_ctl start failed: $(tail -1 "$PG_DIR/data/log" 2>/dev/null)"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	if [ -z "${PG_SKIP:-}" ] && [ -n "${PG_BIN:-}" ]; then
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
		    >/dev/null 2>&1
	fi
	rm -rf "$PG_DIR"
}

# skm was built with PostgreSQL support.
skm_has_pg() {
	! SKM_DB=/nonexistent/skm.db skm sync --to "dbname=x" 2>&1 |
	    grep -q "no PostgreSQL support"
}

pg_need() {
	[ -z "${PG_SKIP:-}" ] || skip "$PG_SKIP"
}

# psql as the superuser on database $1 (default: the test's).
pg_sql() {
	local db=${2:-$PGDB}
	psql -X -q -t -A -v ON_ERROR_STOP=1 \
	    "host=$PG_DIR/sock port=$PG_PORT user=skm dbname=$db" -c "$1"
}

# pg_newdb: a fresh database for this test; SKM_SERVER names it.
pg_newdb() {
	PGDB="t$(date +%s%N | tail -c 10)$RANDOM"
	pg_sql "CREATE DATABASE $PGDB" postgres
	export PGDB
	export SKM_SERVER="host=$PG_DIR/sock port=$PG_PORT user=skm dbname=$PGDB"
}
