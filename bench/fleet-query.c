/*
 * fleet-query - the wall time of one query on an open server handle, as
 * bench.c times the store's queries: skm_server_open() once, one call to
 * warm the connection, then REPS calls of skm_query_json(); prints the
 * median in milliseconds (bench/fleet.sh makes the rows).
 *
 *	fleet-query URL REPS stats|show|timeline|summary|recent|search|errors
 *	    [SKILL-OR-TEXT [HOST]]
 *	fleet-query URL REPS open
 *
 * `open` times skm_server_open() and skm_close() instead: a connection,
 * the server's first round trip, its end.
 * A timeline is the last 7 days by the hour, as bench.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skm.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; enum skm_query q; } qs[] = {
		{ "stats", SKM_Q_STATS }, { "show", SKM_Q_SHOW },
		{ "timeline", SKM_Q_TIMELINE }, { "summary", SKM_Q_SUMMARY },
		{ "recent", SKM_Q_RECENT }, { "search", SKM_Q_SEARCH },
		{ "errors", SKM_Q_ERRORS },
	};
	struct skm_query_args qa = { 0 };
	const char *hosts[1];
	struct skm_db *db = NULL;
	double *t, t0;
	char *out = NULL;
	int reps, i, q = -1;

	if (argc < 4 || (reps = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: fleet-query URL REPS QUERY "
		    "[SKILL-OR-TEXT [HOST]]\n");
		return 2;
	}
	for (i = 0; i < (int)(sizeof(qs) / sizeof(qs[0])); i++)
		if (strcmp(argv[3], qs[i].name) == 0)
			q = i;
	if ((t = calloc((size_t)reps, sizeof(*t))) == NULL)
		return 1;
	if (q < 0 && strcmp(argv[3], "open") == 0) {
		for (i = 0; i < reps; i++) {
			t0 = now();
			if (skm_server_open(argv[1], 0, &db) != SKM_OK) {
				fprintf(stderr, "fleet-query: %s\n",
				    skm_errmsg(db));
				return 1;
			}
			skm_close(db);
			t[i] = now() - t0;
		}
		goto done;
	}
	if (q < 0) {
		fprintf(stderr, "fleet-query: unknown query %s\n", argv[3]);
		return 2;
	}
	if (argc > 4) {
		if (qs[q].q == SKM_Q_SEARCH)
			qa.text = argv[4];
		else
			qa.skill = argv[4];
	}
	if (argc > 5) {
		hosts[0] = argv[5];
		qa.hosts = hosts;
		qa.nhosts = 1;
	}
	if (qs[q].q == SKM_Q_TIMELINE) {
		qa.since = "7d";
		qa.bucket = "hour";
	}
	if (skm_server_open(argv[1], 0, &db) != SKM_OK ||
	    skm_query_json(db, qs[q].q, &qa, &out) != SKM_OK) {
		fprintf(stderr, "fleet-query: %s\n", skm_errmsg(db));
		skm_close(db);
		return 1;
	}
	skm_free(out);
	for (i = 0; i < reps; i++) {
		t0 = now();
		if (skm_query_json(db, qs[q].q, &qa, &out) != SKM_OK) {
			fprintf(stderr, "fleet-query: %s\n", skm_errmsg(db));
			return 1;
		}
		t[i] = now() - t0;
		skm_free(out);
	}
	skm_close(db);
done:
	qsort(t, (size_t)reps, sizeof(*t), cmp);
	printf("%.1f\n", t[reps / 2] * 1e3);
	free(t);
	return 0;
}
