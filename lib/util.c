/*
 * util.c - small pieces libskm needs everywhere: UUIDv7 ids, UTC
 * timestamps with milliseconds, the monotonic clock, this host's name and
 * boot id, signal names and a checksum for migrations.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skm-int.h"

/*
 * skm__util_uuid7 - a time-ordered UUID (RFC 9562 version 7): 48 bits of Unix
 * milliseconds, then version, 74 random bits and the variant.  Ids made
 * later sort later, so the primary key index stays append-mostly.
 */
int
skm__util_uuid7(char out[SKM_ID_LEN + 1])
{
	struct timespec ts;
	unsigned char b[16];
	uint64_t ms;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	arc4random_buf(b + 6, sizeof(b) - 6);
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	snprintf(out, SKM_ID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
	return SKM_OK;
}

void
skm__util_iso_from_ts(const struct timespec *ts, char out[32])
{
	struct tm tm;
	time_t t = ts->tv_sec;

	gmtime_r(&t, &tm);
	/* strftime's %Y is bounded by the time_t range; the milliseconds
	 * are appended (three digits and 'Z'). */
	size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts->tv_nsec / 1000000));
}

/* Now, as UTC ISO-8601 with milliseconds: 2026-12-01T05:32:24.123Z. */
void
skm__util_now_iso(char out[32])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	skm__util_iso_from_ts(&ts, out);
}

double
skm__util_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * skm__util_boot_id - the kernel's id of this boot, so that a monotonic start
 * stored by one process can be trusted by another only within one boot.
 * "" when unknown.  Filled once (pthread_once): a thread never sees the
 * cache half written (the flag used to be set before the read).
 */
static char boot_id[40];
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;

static void
read_boot_id(void)
{
	FILE *f;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return;
	if (fgets(boot_id, sizeof(boot_id), f) == NULL)
		boot_id[0] = '\0';
	boot_id[strcspn(boot_id, "\n")] = '\0';
	fclose(f);
}

const char *
skm__util_boot_id(void)
{
	pthread_once(&boot_once, read_boot_id);
	return boot_id;
}

/* The host name, filled once as the boot id is. */
static char hostname[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void
read_hostname(void)
{
	if (gethostname(hostname, sizeof(hostname) - 1) != 0)
		strlcpy(hostname, "unknown", sizeof(hostname));
	hostname[sizeof(hostname) - 1] = '\0';
}

const char *
skm__util_hostname(void)
{
	pthread_once(&host_once, read_hostname);
	return hostname;
}

/* "SIGSEGV" for SIGSEGV, "SIGRTMIN+3", "SIGRTMAX-2"; "SIG<n>" for a
 * number without a name. */
const char *
skm__util_signame(int sig)
{
	static const struct { int sig; const char *name; } names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" },
		{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
		{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" },
		{ SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
		{ SIGTERM, "SIGTERM" }, { SIGCHLD, "SIGCHLD" },
		{ SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
		{ SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" },
		{ SIGTTOU, "SIGTTOU" }, { SIGURG, "SIGURG" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
		{ SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
		{ SIGWINCH, "SIGWINCH" }, { SIGIO, "SIGIO" },
		{ SIGPWR, "SIGPWR" }, { SIGSYS, "SIGSYS" },
	};
	static __thread char buf[16];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	/* Real-time signals as kill -l and bash name them: the lower half
	 * from SIGRTMIN up, the upper half from SIGRTMAX down. */
	if (sig == SIGRTMIN)
		return "SIGRTMIN";
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	if (sig > SIGRTMIN && sig < SIGRTMAX) {
		if (sig - SIGRTMIN <= (SIGRTMAX - SIGRTMIN) / 2)
			snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		else
			snprintf(buf, sizeof(buf), "SIGRTMAX-%d", SIGRTMAX - sig);
		return buf;
	}
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

uint64_t
skm__util_fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
skm__util_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* 1 if s is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF) without C0/C1 control characters or DEL. */
int
skm__util_clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int c;
	int n, i;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
			c = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			c = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			c = *p & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    (c >= 0x80 && c < 0xa0))
			return 0;
		p += n + 1;
	}
	return 1;
}

/*
 * skm__util_uuid_nibbles - p (n bytes) read as the start of a UUID in the
 * canonical lowercase form (8-4-4-4-12 hex digits): its digits into out,
 * two a byte, an odd last one in the high half, the rest zero.  Returns
 * the number of digits, or -1 when p is no such start.
 */
int
skm__util_uuid_nibbles(const char *p, size_t n, unsigned char out[16])
{
	size_t i;
	int k = 0, v;

	if (n > 36)
		return -1;
	memset(out, 0, 16);
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return -1;
			continue;
		}
		if (p[i] >= '0' && p[i] <= '9')
			v = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v = p[i] - 'a' + 10;
		else
			return -1;
		out[k / 2] |= (unsigned char)(k % 2 ? v : v << 4);
		k++;
	}
	return k;
}

/*
 * skm__util_uuid_bytes - the 16 bytes of p (n bytes) when it is a UUID
 * in the canonical lowercase form, which is how the store keeps such an
 * id (migration 7).  Returns 1, or 0 for any other text (an uppercase
 * UUID included: it stays text, so that it reads back as it was
 * written).
 */
int
skm__util_uuid_bytes(const char *p, size_t n, unsigned char out[16])
{
	return n == 36 && skm__util_uuid_nibbles(p, n, out) == 32;
}

/* skm__util_uuid_text - 16 bytes as a lowercase UUID and a NUL. */
void
skm__util_uuid_text(const unsigned char b[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int i, k = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[b[i] >> 4];
		out[k++] = hex[b[i] & 15];
	}
	out[k] = '\0';
}
