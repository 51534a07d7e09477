/*
 * unit.h - a minimal TAP test harness for the C unit tests of libskm.
 * Each TEST is a function; RUN prints "ok N - name" or "not ok N - name"
 * with the failed checks as "# " diagnostics before it.
 */
#ifndef SKM_UNIT_H
#define SKM_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "skm.h"

static int unit_n, unit_nfailed, unit_cur;
static char unit_dir[256];

#define CHECK(c) do { if (!(c)) { printf("# %s:%d: CHECK(%s) failed\n", \
	__FILE__, __LINE__, #c); unit_cur = 1; } } while (0)
#define CHECK_INT(a, b) do { long long _a = (a), _b = (b); if (_a != _b) { \
	printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
	#a, _a, _b); unit_cur = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) { \
	printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
	__LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
	unit_cur = 1; } } while (0)
#define CHECK_NEAR(a, b) do { double _a = (a), _b = (b); \
	if (!(_a - _b < 1e-9 && _b - _a < 1e-9)) { \
	printf("# %s:%d: %s == %.12g, expected %.12g\n", __FILE__, __LINE__, \
	#a, _a, _b); unit_cur = 1; } } while (0)

#define RUN(fn) unit_run(#fn, fn)
#define UNIT_HELPER static __attribute__((unused))

static void
unit_run(const char *name, void (*fn)(void))
{
	char cmd[300];

	snprintf(unit_dir, sizeof(unit_dir), "/tmp/skm-unit-XXXXXX");
	if (mkdtemp(unit_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	unit_cur = 0;
	fn();
	unit_n++;
	if (unit_cur)
		unit_nfailed++;
	printf("%sok %d - %s\n", unit_cur ? "not " : "", unit_n, name);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", unit_dir);
}

/* A path inside the current test's own directory. */
UNIT_HELPER const char *
unit_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", unit_dir, name);
	return p;
}

/* Run a query yielding one value as text (malloc'd) with the sqlite3 API
 * directly, to look at the store behind the library's back. */
UNIT_HELPER char *
unit_sql(const char *db, const char *sql)
{
	sqlite3 *c;
	sqlite3_stmt *st;
	char *r = NULL;

	if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			r = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	} else {
		printf("# sql error: %s\n", sqlite3_errmsg(c));
	}
	sqlite3_close(c);
	return r;
}

/* Open (creating) the store NAME in the test's directory, writing
 * begins and ends at once (SKM_OPEN_DIRECT), so that a test reads back
 * what it wrote without a fold in between. */
UNIT_HELPER struct skm_db *
unit_open(const char *name)
{
	struct skm_db *db = NULL;
	int rc = skm_open(unit_path(name), SKM_OPEN_DIRECT, &db);

	if (rc != SKM_OK)
		printf("# open: %s\n", skm_errmsg(db));
	return db;
}

UNIT_HELPER long long
unit_sql_int(const char *db, const char *sql)
{
	char *s = unit_sql(db, sql);
	long long v = s ? atoll(s) : -1;

	free(s);
	return v;
}

UNIT_HELPER double
unit_sql_real(const char *db, const char *sql)
{
	char *s = unit_sql(db, sql);
	double v = s ? atof(s) : -1;

	free(s);
	return v;
}

static int
unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_nfailed ? 1 : 0;
}

#endif
