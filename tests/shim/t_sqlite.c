/*
 * t_sqlite.c - a host that uses SQLite itself, for the shim's tests.
 *
 *	t_sqlite DB N        write a row into its own database DB, exit(N)
 *	t_sqlite hold DB N   open DB (the skm store), take its write lock
 *	                     and exit(N) with the transaction still open
 *	t_sqlite lock DB S   take DB's write lock, print "locked", sleep S
 *	                     seconds (another process holding the store)
 *
 * The first checks that the shim's SQLite and the host's live side by side;
 * the second that the shim, ending its invocation inside exit(), sees the
 * host's lock instead of writing under it (one SQLite in the process, so
 * its locks know about each other).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	sqlite3 *db;
	int lock = argc > 1 && strcmp(argv[1], "lock") == 0;
	int hold = lock || (argc > 1 && strcmp(argv[1], "hold") == 0);
	const char *path = argc > 1 + hold ? argv[1 + hold] : "own.db";
	int status = argc > 2 + hold ? atoi(argv[2 + hold]) : 0;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return 100;
	if (hold) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO "
		    "schema_migrations (version, applied_at, description, "
		    "checksum, migration_time_ms) VALUES (999, 'x', 'x', 'x', 0)",
		    NULL, NULL, NULL) != SQLITE_OK)
			return 101;
		if (lock) {
			printf("locked\n");
			fflush(stdout);
			sleep((unsigned)status);
			return 0;
		}
		printf("holding\n");
		exit(status);
	}
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t (x); "
	    "INSERT INTO t VALUES (42)", NULL, NULL, NULL) != SQLITE_OK)
		return 102;
	sqlite3_close(db);
	printf("wrote\n");
	exit(status);
}
