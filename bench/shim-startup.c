/*
 * shim-startup.c - how much start-up time libskm-preload.so adds to a
 * process it does not record.
 *
 *	shim-startup SHIM ROUNDS N PROGRAM [ARG]...
 *
 * Starts PROGRAM N times in a row with posix_spawn() and waits for each,
 * once without the shim in the environment and once with
 * LD_PRELOAD=SHIM, alternating the two for ROUNDS rounds so that both see
 * the same machine.  Prints the median per-process time of each and their
 * difference, in microseconds.  The environment it is given decides what
 * the shim finds (SKM_RULES...).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Mean microseconds per start of argv under env, over n starts. */
static double
batch(char **argv, char **env, int n)
{
	posix_spawn_file_actions_t fa;
	double t0;
	pid_t pid;
	int i, st;

	/* The program's output goes to /dev/null, not into the table. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, env) != 0) {
			perror(argv[0]);
			exit(1);
		}
		waitpid(pid, &st, 0);
	}
	t0 = (now_us() - t0) / n;
	posix_spawn_file_actions_destroy(&fa);
	return t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	char **with, pre[4096];
	double *a, *b, ma, mb;
	int rounds, n, i, nenv = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: shim-startup SHIM ROUNDS N PROGRAM [ARG]...\n");
		return 2;
	}
	rounds = atoi(argv[2]);
	n = atoi(argv[3]);
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", argv[1]);
	while (environ[nenv] != NULL)
		nenv++;
	with = calloc((size_t)nenv + 2, sizeof(*with));
	a = calloc((size_t)rounds, sizeof(*a));
	b = calloc((size_t)rounds, sizeof(*b));
	if (with == NULL || a == NULL || b == NULL)
		return 1;
	memcpy(with, environ, (size_t)nenv * sizeof(*with));
	with[nenv] = pre;
	batch(argv + 4, environ, n);   /* warm the caches */
	batch(argv + 4, with, n);
	for (i = 0; i < rounds; i++) {
		a[i] = batch(argv + 4, environ, n);
		b[i] = batch(argv + 4, with, n);
	}
	qsort(a, (size_t)rounds, sizeof(*a), cmp);
	qsort(b, (size_t)rounds, sizeof(*b), cmp);
	ma = a[rounds / 2];
	mb = b[rounds / 2];
	printf("%-34s %8.1f us %8.1f us %+8.1f us\n", getenv("BENCH_LABEL") ?
	    getenv("BENCH_LABEL") : "", ma, mb, mb - ma);
	return 0;
}
