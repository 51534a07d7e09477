/*
 * fuzz_journal - libFuzzer target for the journal's reader and the fold:
 * whatever bytes follow a journal file's header (torn records, hostile
 * lengths, wrong field types, out-of-range values, duplicates, ends
 * before begins), skm_drain() must apply the valid events once,
 * quarantine the rest, never crash, and leave a store that equals a
 * recompute.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm.h"
#include "event.h"

static struct skm_db *db;
static char jdir[512];
static unsigned long runs;

static void
problem(void *arg, const char *msg)
{
	(void)arg;
	if (strncmp(msg, "note:", 5) == 0)
		return;
	fprintf(stderr, "fuzz_journal: check: %s\n", msg);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char hdr[256];
	struct skm__event ev;
	char path[600], id[37];
	size_t hlen;
	int fd, n;

	if (db == NULL) {
		char dir[] = "/tmp/skm-fuzz-journal-XXXXXX", p[300];
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(p, sizeof(p), "%s/m.db", dir);
		snprintf(jdir, sizeof(jdir), "%s.journal", p);
		if (skm_open(p, 0, &db) != SKM_OK)
			abort();
		mkdir(jdir, 0700);
	}
	/* A new file id each time: the fold's place in it starts at 0. */
	memset(&ev, 0, offsetof(struct skm__event, follow));
	ev.nfollow = 0;
	ev.kind = SKM__EV_HEADER;
	skm__uuid7(id);
	skm__ev_str(&ev, SKM__F_ID, id);
	if ((hlen = skm__ev_encode(&ev, hdr, sizeof(hdr))) == 0)
		abort();
	snprintf(path, sizeof(path), "%s/journal", jdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (write(fd, hdr, hlen) != (ssize_t)hlen ||
	    write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (skm_drain(db, &n) != SKM_OK)
		abort();
#ifdef SKM_REPLAY
	runs = 511;
#endif
	if (++runs % 512 == 0 && skm_check(db, problem, NULL) != SKM_OK)
		abort();
	return 0;
}
