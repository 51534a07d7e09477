/*
 * fuzz_import - libFuzzer target for skm import (JSON Lines and CSV,
 * told apart by the first character).  Whatever the input, skm_import()
 * must not crash; a rejected import must leave the store exactly as it
 * was; an accepted one must leave aggregates equal to a recompute, and
 * importing the same input again must insert nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skm.h"

static struct skm_db *db;
static unsigned long runs;

static void
problem(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fuzz_import: check: %s\n", msg);
	abort();
}

/* Total of invocations, a cheap fingerprint of the store. */
static long long
total(void)
{
	struct skm_cursor *c;
	long long n = -1;

	if (skm_query_open(db, SKM_Q_SUMMARY, NULL, &c) != SKM_OK)
		abort();
	if (skm_cursor_step(c) == 1)
		n = skm_cursor_int(c, 1);
	skm_cursor_close(c);
	return n;
}

static int
import(const uint8_t *data, size_t size, struct skm_import_result *res)
{
	FILE *in = fmemopen((void *)data, size, "r");
	int rc;

	if (in == NULL)
		return SKM_NOMEM;
	rc = skm_import(db, in, res);
	fclose(in);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skm_import_result res;
	long long before, after;
	int rc, check = 0;

	if (size == 0)
		return 0;
	if (db == NULL) {
		char dir[] = "/tmp/skm-fuzz-import-XXXXXX", p[300];
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(p, sizeof(p), "%s/m.db", dir);
		if (skm_open(p, 0, &db) != SKM_OK)
			abort();
	}
	before = total();
	rc = import(data, size, &res);
	after = total();
	if (rc != SKM_OK && after != before)
		abort();                /* a rejected import changed the store */
	if (rc == SKM_OK) {
		if (after != before + res.inserted)
			abort();
		/* the same input again: every id is already there */
		if (import(data, size, &res) != SKM_OK || res.inserted != 0)
			abort();
		check = 1;
	}
#ifdef SKM_REPLAY
	runs = 255;
#endif
	if (check && ++runs % 256 == 0 && skm_check(db, problem, NULL) != SKM_OK)
		abort();
	return 0;
}
