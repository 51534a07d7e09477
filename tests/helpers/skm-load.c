/*
 * skm-load - in-process load for the concurrency tests: THREADS threads,
 * each with its own store handle, each recording N begin/end pairs of
 * SKILL through libskm.  Prints the number of failed calls and exits 1 if
 * there was any.  PAUSE_US: a pause after each pair, so that folds keep
 * up with the appenders and seal the journal under them.
 *
 *	skm-load THREADS N [SKILL [PAUSE_US]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "skm.h"

static int n_per;
static long pause_us;
static const char *skill = "load";

static void *
worker(void *arg)
{
	struct skm_begin_info bi = { .skill = skill, .workflow = "threads" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	struct skm_db *db;
	long failed = 0;
	int i;

	(void)arg;
	if (skm_open(NULL, 0, &db) != SKM_OK) {
		fprintf(stderr, "skm-load: %s\n", skm_errmsg(db));
		skm_close(db);
		return (void *)(long)n_per;
	}
	for (i = 0; i < n_per; i++) {
		if (skm_begin(db, &bi, &inv) != SKM_OK) {
			fprintf(stderr, "skm-load: begin: %s\n", skm_errmsg(db));
			failed++;
			continue;
		}
		ei.completed = i % 10 != 0;
		ei.exit_code = ei.completed ? 0 : 1;
		if (skm_end(inv, &ei) != SKM_OK) {
			fprintf(stderr, "skm-load: end: %s\n", skm_errmsg(db));
			failed++;
		}
		if (pause_us > 0) {
			struct timespec ts = { 0, pause_us * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	skm_close(db);
	return (void *)failed;
}

int
main(int argc, char *argv[])
{
	pthread_t t[64];
	long failed = 0;
	void *r;
	int i, n;

	if (argc < 3 || (n = atoi(argv[1])) < 1 || n > 64 ||
	    (n_per = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: skm-load THREADS N [SKILL [PAUSE_US]]\n");
		return 2;
	}
	if (argc > 3)
		skill = argv[3];
	if (argc > 4 && ((pause_us = atol(argv[4])) < 0 || pause_us > 999999)) {
		fprintf(stderr, "skm-load: PAUSE_US: 0 to 999999\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < n; i++) {
		pthread_join(t[i], &r);
		failed += (long)r;
	}
	printf("%ld\n", failed);
	return failed != 0;
}
