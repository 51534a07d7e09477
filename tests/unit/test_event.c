/*
 * test_event.c - the journal record's checksum and what an in-process
 * recorder asks the kernel for less often (ids from a pool, the pid
 * cached), across fork(2).
 */
#include <sys/wait.h>
#include "unit.h"
#include "event.h"

/* The checksum byte by byte, as the CRC-32 is defined. */
static uint32_t
crc_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffU;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320U : c >> 1;
	}
	return c ^ 0xffffffffU;
}

static void
crc32_matches_the_definition(void)
{
	unsigned char buf[1100];
	size_t off, n;
	unsigned i;

	CHECK_INT(skm__crc32((const unsigned char *)"123456789", 9),
	    0xcbf43926U);
	CHECK_INT(skm__crc32(buf, 0), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 2654435761U >> 13);
	/* Every length around the 8-byte steps, from every alignment. */
	for (off = 0; off < 8; off++)
		for (n = 0; n + off <= sizeof(buf); n += n < 40 ? 1 : 97)
			if (skm__crc32(buf + off, n) !=
			    crc_bitwise(buf + off, n)) {
				CHECK(!"crc32 differs");
				return;
			}
}

/* An id begun in a forked child never repeats one of the parent's, and
 * the child's run carries the child's pid. */
static void
forked_child_has_its_own_ids_and_pid(void)
{
	struct skm_begin_info bi = { .skill = "fork" };
	struct skm_inv *inv;
	struct skm_db *db;
	char *v, child_id[37], q[160];
	int fds[2], st, i;
	pid_t pid;

	CHECK_INT(skm_open(unit_path("s.db"), 0, &db), SKM_OK);
	/* Take ids from the pool, so that it is half used at the fork. */
	for (i = 0; i < 5; i++) {
		CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
		CHECK_INT(skm_end(inv, NULL), SKM_OK);
	}
	CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		if (skm_begin(db, &bi, &inv) != SKM_OK)
			_exit(1);
		if (write(fds[1], skm_inv_id(inv), 36) != 36)
			_exit(1);
		_exit(skm_end(inv, NULL) == SKM_OK ? 0 : 1);
	}
	close(fds[1]);
	CHECK(read(fds[0], child_id, 36) == 36);
	child_id[36] = '\0';
	close(fds[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	/* Past the 48 bits of milliseconds, "xxxxxxxx-xxxx-": the
	 * random part, which a shared pool would repeat. */
	CHECK(strcmp(skm_inv_id(inv) + 14, child_id + 14) != 0);
	CHECK_INT(skm_end(inv, NULL), SKM_OK);
	CHECK_INT(skm_drain(db, NULL), SKM_OK);
	skm_close(db);
	v = unit_sql(unit_path("s.db"),
	    "SELECT count(*) FROM skill_invocation WHERE ended_at IS NOT NULL");
	CHECK_STR(v, "7");
	free(v);
	snprintf(q, sizeof(q), "SELECT pid FROM skill_invocation WHERE id = "
	    "'%s'", child_id);
	v = unit_sql(unit_path("s.db"), q);
	CHECK(v != NULL && atoll(v) == (long long)pid);
	free(v);
}

int
main(void)
{
	RUN(crc32_matches_the_definition);
	RUN(forked_child_has_its_own_ids_and_pid);
	return unit_done();
}
