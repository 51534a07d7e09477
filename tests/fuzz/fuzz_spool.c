/*
 * fuzz_spool - libFuzzer target for draining the spool: whatever bytes
 * stand in DB.spool/events.jsonl (torn lines, hostile JSON, wrong types),
 * skm_drain() must apply the valid events and skip the rest without a
 * crash, and never leave the store damaged.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm.h"

static struct skm_db *db;
static char spool[512];
static unsigned long runs;

static void
problem(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fuzz_spool: check: %s\n", msg);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[600];
	int fd, n;

	if (db == NULL) {
		char dir[] = "/tmp/skm-fuzz-spool-XXXXXX", p[300];
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(p, sizeof(p), "%s/m.db", dir);
		snprintf(spool, sizeof(spool), "%s.spool", p);
		if (skm_open(p, 0, &db) != SKM_OK)
			abort();
		mkdir(spool, 0700);
	}
	snprintf(path, sizeof(path), "%s/events.jsonl", spool);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (skm_drain(db, &n) != SKM_OK)
		abort();
	/* every so often (when replaying: always), the store must still
	 * equal a recompute */
#ifdef SKM_REPLAY
	runs = 511;
#endif
	if (++runs % 512 == 0 && skm_check(db, problem, NULL) != SKM_OK)
		abort();
	return 0;
}
