/*
 * sigcount READY SIG... - count the named signals (caught), create the
 * file READY once the handlers are in place, and print each count, in
 * the order given, once no signal has come for 0.2 s (at most 5 s after
 * start).  Signals not named keep the disposition the process was started
 * with.  Names as Perl and kill(1) spell them without "SIG": HUP, RTMIN,
 * RTMAX, NUM40 (signal 40).  A helper of tests/bats/12-transparency.bats.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count[NSIG];
static volatile sig_atomic_t seen;

static void
on_signal(int sig)
{
	count[sig]++;
	seen = 1;
}

static int
signum(const char *name)
{
	int i;

	if (strcmp(name, "RTMIN") == 0)
		return SIGRTMIN;
	if (strcmp(name, "RTMAX") == 0)
		return SIGRTMAX;
	if (strncmp(name, "NUM", 3) == 0)
		return atoi(name + 3);
	if (strcmp(name, "IO") == 0)	/* glibc says POLL */
		return SIGIO;
	for (i = 1; i < SIGRTMIN; i++)
		if (sigabbrev_np(i) != NULL && strcmp(sigabbrev_np(i), name) == 0)
			return i;
	return -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct sigaction sa;
	double start, last = 0;
	int i, fd, sig;

	if (argc < 2) {
		fprintf(stderr, "usage: sigcount READY [SIG]...\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 2; i < argc; i++) {
		if ((sig = signum(argv[i])) <= 0 || sig >= NSIG ||
		    sigaction(sig, &sa, NULL) != 0) {
			fprintf(stderr, "sigcount: %s: no such signal\n", argv[i]);
			return 2;
		}
	}
	if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(argv[1]);
		return 2;
	}
	close(fd);
	start = now();
	while (now() - start < 5) {
		if (seen) {
			seen = 0;
			last = now();
		}
		if (last > 0 && now() - last > 0.2)
			break;
		nanosleep(&tick, NULL);
	}
	for (i = 2; i < argc; i++)
		printf("%s: %d\n", argv[i], (int)count[signum(argv[i])]);
	return 0;
}
