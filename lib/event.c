/*
 * event.c - encoding, decoding and validating invocation events (see
 * event.h for the record layout).
 *
 * The encoder runs in recorders (skm-run, the shim, in-process hooks),
 * the shim's possibly inside a signal handler: it only copies bytes into
 * the caller's buffer.  The decoder and validator run in the fold and in
 * tests, on bytes that may be anything (a torn write, a hostile file):
 * every length is checked against what is left before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "skm.h"

const struct skm__ev_desc skm__ev_fields[SKM__F_COUNT] = {
#define X(N, tag, T, m, col) \
	{ #N, tag, SKM__T_##T, col, offsetof(struct skm__event, m) },
	SKM__EV_FIELDS(X)
#undef X
};

#include "crc32-tables.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_CLMUL 1

/*
 * crc_clmul - the CRC state c over p (n bytes: at least 64, a multiple
 * of 16) by carry-less multiplication, folding 64 bytes a step: "Fast
 * CRC Computation for Generic Polynomials Using PCLMULQDQ" (Intel, 2009),
 * with the bit-reflected constants for this CRC's polynomial (the one of
 * zlib and gzip) given there, as Chromium's zlib and Linux use them.  No
 * table: the table loop's 8 KiB are cache lines a recorder would pull in
 * at every record, between two system calls that evict them.
 */
__attribute__((target("pclmul,sse4.1"))) static uint32_t
crc_clmul(const unsigned char *p, size_t n, uint32_t c)
{
	__m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;

	x1 = _mm_loadu_si128((const __m128i *)(p + 0x00));
	x2 = _mm_loadu_si128((const __m128i *)(p + 0x10));
	x3 = _mm_loadu_si128((const __m128i *)(p + 0x20));
	x4 = _mm_loadu_si128((const __m128i *)(p + 0x30));
	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
	x0 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);	/* k1, k2 */
	for (p += 64, n -= 64; n >= 64; p += 64, n -= 64) {
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
		x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
		x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
		x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
		x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, x5),
		    _mm_loadu_si128((const __m128i *)(p + 0x00)));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, x6),
		    _mm_loadu_si128((const __m128i *)(p + 0x10)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, x7),
		    _mm_loadu_si128((const __m128i *)(p + 0x20)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, x8),
		    _mm_loadu_si128((const __m128i *)(p + 0x30)));
	}
	/* Four lanes into one. */
	x0 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);	/* k3, k4 */
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
	for (; n >= 16; p += 16, n -= 16) {
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1,
		    _mm_loadu_si128((const __m128i *)p)), x5);
	}
	/* 128 bits to 64, then Barrett's reduction to 32. */
	x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
	x3 = _mm_setr_epi32(~0, 0, ~0, 0);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
	x0 = _mm_set_epi64x(0, 0x0163cd6124);			/* k5 */
	x2 = _mm_srli_si128(x1, 4);
	x1 = _mm_and_si128(x1, x3);
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x00), x2);
	x0 = _mm_set_epi64x(0x01f7011641, 0x01db710641);	/* P', u' */
	x2 = _mm_and_si128(x1, x3);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
	x2 = _mm_and_si128(x2, x3);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
	x1 = _mm_xor_si128(x1, x2);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

/* 1 when the CPU has PCLMULQDQ and SSE4.1 (cpuid: async-signal-safe;
 * two threads asking at once store the same answer). */
static int
have_clmul(void)
{
	static int known = -1;
	unsigned a, b, c, d;

	if (known < 0)
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_PCLMUL) &&
		    (c & bit_SSE4_1);
	return known;
}
#endif

uint32_t
skm__crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffU, lo, hi;
	size_t k;

#ifdef HAVE_CLMUL
	if (n >= 64 && have_clmul()) {
		k = n & ~(size_t)15;
		c = crc_clmul(p, k, c);
		p += k;
		n -= k;
	}
#else
	(void)k;
#endif

	/* Eight bytes a step (slicing by 8), read as little-endian words
	 * byte by byte, so alignment and the host's byte order don't
	 * matter; then byte by byte. */
	for (; n >= 8; n -= 8, p += 8) {
		lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = crc_tables[7][lo & 0xff] ^ crc_tables[6][(lo >> 8) & 0xff] ^
		    crc_tables[5][(lo >> 16) & 0xff] ^ crc_tables[4][lo >> 24] ^
		    crc_tables[3][hi & 0xff] ^ crc_tables[2][(hi >> 8) & 0xff] ^
		    crc_tables[1][(hi >> 16) & 0xff] ^ crc_tables[0][hi >> 24];
	}
	while (n-- > 0)
		c = crc_tables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffU;
}

void
skm__ev_str(struct skm__event *ev, enum skm__ev_field f, const char *s)
{
	struct skm__str *v;

	if (s == NULL || skm__ev_fields[f].type != SKM__T_STR)
		return;
	v = (struct skm__str *)((char *)ev + skm__ev_fields[f].offset);
	v->p = s;
	v->n = strlen(s);
	ev->has |= 1u << f;
}

void
skm__ev_int(struct skm__event *ev, enum skm__ev_field f, int64_t v)
{
	if (skm__ev_fields[f].type != SKM__T_INT &&
	    skm__ev_fields[f].type != SKM__T_TIME)
		return;
	*(int64_t *)((char *)ev + skm__ev_fields[f].offset) = v;
	ev->has |= 1u << f;
}

void
skm__ev_real(struct skm__event *ev, enum skm__ev_field f, double v)
{
	if (skm__ev_fields[f].type != SKM__T_REAL)
		return;
	*(double *)((char *)ev + skm__ev_fields[f].offset) = v;
	ev->has |= 1u << f;
}

int
skm__ev_follow(struct skm__event *ev, const char *s)
{
	if (s == NULL || ev->nfollow >= SKM__EV_FOLLOW_MAX)
		return -1;
	ev->follow[ev->nfollow].p = s;
	ev->follow[ev->nfollow].n = strlen(s);
	ev->nfollow++;
	return 0;
}

void
skm__ev_add_end(struct skm__event *ev, const struct skm__event *end)
{
	size_t o;
	int f;

	ev->kind = SKM__EV_RUN;
	for (f = SKM__F_ENDED; f < SKM__F_COUNT; f++) {
		if (!((end->has >> f) & 1u))
			continue;
		o = skm__ev_fields[f].offset;
		memcpy((char *)ev + o, (const char *)end + o,
		    skm__ev_fields[f].type == SKM__T_STR ?
		    sizeof(struct skm__str) : 8);
		ev->has |= 1u << f;
	}
	memcpy(ev->follow, end->follow,
	    (size_t)end->nfollow * sizeof(end->follow[0]));
	ev->nfollow = end->nfollow;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The bytes field f of ev takes in a record (0: absent). */
static size_t
field_size(const struct skm__event *ev, int f)
{
	const struct skm__str *s;

	if (!((ev->has >> f) & 1u))
		return 0;
	if (skm__ev_fields[f].type != SKM__T_STR)
		return 5 + 8;
	s = (const struct skm__str *)((const char *)ev +
	    skm__ev_fields[f].offset);
	return 5 + s->n;
}

size_t
skm__ev_size(const struct skm__event *ev)
{
	size_t n = SKM__REC_HDR + 2;
	int f;

	for (f = 0; f < SKM__F_COUNT; f++)
		n += field_size(ev, f);
	for (f = 0; f < ev->nfollow; f++)
		n += 5 + ev->follow[f].n;
	return n;
}

static unsigned char *
put_field(unsigned char *q, int tag, const void *v, size_t n)
{
	*q++ = (unsigned char)tag;
	put32(q, (uint32_t)n);
	memcpy(q + 4, v, n);
	return q + 4 + n;
}

size_t
skm__ev_encode(const struct skm__event *ev, unsigned char *buf, size_t cap)
{
	return skm__ev_encode_len(ev, skm__ev_size(ev), buf, cap);
}

size_t
skm__ev_encode_len(const struct skm__event *ev, size_t len,
    unsigned char *buf, size_t cap)
{
	const struct skm__ev_desc *d;
	const struct skm__str *s;
	unsigned char *q, num[8];
	uint64_t u;
	double r;
	int f;

	if (len > cap || len - SKM__REC_HDR > SKM__REC_MAX)
		return 0;
	q = buf + SKM__REC_HDR;
	*q++ = SKM__REC_VERSION;
	*q++ = (unsigned char)ev->kind;
	for (f = 0; f < SKM__F_COUNT; f++) {
		if (!((ev->has >> f) & 1u))
			continue;
		d = &skm__ev_fields[f];
		switch (d->type) {
		case SKM__T_STR:
			s = (const void *)((const char *)ev + d->offset);
			q = put_field(q, d->tag, s->p, s->n);
			continue;
		case SKM__T_REAL:
			memcpy(&r, (const char *)ev + d->offset, 8);
			memcpy(&u, &r, 8);
			break;
		default:
			memcpy(&u, (const char *)ev + d->offset, 8);
			break;
		}
		put64(num, u);
		q = put_field(q, d->tag, num, 8);
	}
	for (f = 0; f < ev->nfollow; f++)
		q = put_field(q, SKM__EV_TAG_FOLLOW, ev->follow[f].p,
		    ev->follow[f].n);
	memcpy(buf, SKM__REC_MAGIC, 4);
	put32(buf + 4, (uint32_t)(len - SKM__REC_HDR));
	put32(buf + 8, skm__crc32(buf + SKM__REC_HDR, len - SKM__REC_HDR));
	return len;
}

/* Copy a reason into why; -1 for the caller to return. */
static int
fail(char *why, size_t whysize, const char *msg)
{
	size_t n = strlen(msg);

	if (whysize > 0) {
		if (n >= whysize)
			n = whysize - 1;
		memcpy(why, msg, n);
		why[n] = '\0';
	}
	return -1;
}

int
skm__ev_decode(const unsigned char *p, size_t n, struct skm__event *ev,
    char *why, size_t whysize)
{
	const struct skm__ev_desc *d;
	const unsigned char *end = p + n;
	struct skm__str *s;
	uint64_t u;
	size_t len;
	int tag, f;

	memset(ev, 0, offsetof(struct skm__event, follow));
	ev->nfollow = 0;
	if (n < 2)
		return fail(why, whysize, "record too short");
	if (p[0] != SKM__REC_VERSION)
		return fail(why, whysize, "unknown record format version");
	ev->kind = p[1];
	for (p += 2; p < end; p += len) {
		if ((size_t)(end - p) < 5)
			return fail(why, whysize, "truncated field");
		tag = p[0];
		len = get32(p + 1);
		p += 5;
		if (len > (size_t)(end - p))
			return fail(why, whysize, "field longer than its record");
		if (tag == SKM__EV_TAG_FOLLOW) {
			if (ev->nfollow >= SKM__EV_FOLLOW_MAX)
				return fail(why, whysize,
				    "too many follow-up actions");
			ev->follow[ev->nfollow].p = (const char *)p;
			ev->follow[ev->nfollow].n = len;
			ev->nfollow++;
			continue;
		}
		for (f = 0; f < SKM__F_COUNT; f++)
			if (skm__ev_fields[f].tag == tag)
				break;
		if (f == SKM__F_COUNT)
			continue;       /* a field of a newer skm */
		d = &skm__ev_fields[f];
		if ((ev->has >> f) & 1u)
			return fail(why, whysize, "field given twice");
		if (d->type == SKM__T_STR) {
			s = (struct skm__str *)((char *)ev + d->offset);
			s->p = (const char *)p;
			s->n = len;
		} else {
			if (len != 8)
				return fail(why, whysize,
				    "number field of the wrong size");
			u = get64(p);
			memcpy((char *)ev + d->offset, &u, 8);
		}
		ev->has |= 1u << f;
	}
	return 0;
}

enum skm__scan
skm__rec_scan(const unsigned char *buf, size_t n, size_t *len,
    const unsigned char **payload, size_t *plen)
{
	const unsigned char *m;
	size_t pl, off;

	if (n >= 4 && memcmp(buf, SKM__REC_MAGIC, 4) == 0) {
		if (n < SKM__REC_HDR)
			return SKM__SCAN_PARTIAL;
		pl = get32(buf + 4);
		if (pl >= 2 && pl <= SKM__REC_MAX) {
			if (n - SKM__REC_HDR < pl)
				return SKM__SCAN_PARTIAL;
			if (skm__crc32(buf + SKM__REC_HDR, pl) ==
			    get32(buf + 8)) {
				*len = SKM__REC_HDR + pl;
				*payload = buf + SKM__REC_HDR;
				*plen = pl;
				return SKM__SCAN_RECORD;
			}
		}
	} else if (n < 4 && memcmp(buf, SKM__REC_MAGIC, n) == 0) {
		return SKM__SCAN_PARTIAL;
	}
	/* Not a good record here: skip to the next magic (or a prefix of
	 * one at the very end), which the next call examines. */
	for (off = 1; off < n; off++) {
		m = memchr(buf + off, SKM__REC_MAGIC[0], n - off);
		if (m == NULL) {
			off = n;
			break;
		}
		off = (size_t)(m - buf);
		if (n - off < 4 ? memcmp(m, SKM__REC_MAGIC, n - off) == 0 :
		    memcmp(m, SKM__REC_MAGIC, 4) == 0)
			break;
	}
	*len = off;
	return SKM__SCAN_GARBAGE;
}

/* 1: s is n bytes of UTF-8 with no NUL (and, when name, no control
 * character at all). */
static int
good_text(const struct skm__str *s, int name)
{
	const unsigned char *p = (const unsigned char *)s->p;
	const unsigned char *end = p + s->n;
	unsigned int c;
	uint64_t x;
	int k, i;

	/* Eight bytes a step while they are all plain ASCII without NUL
	 * (and, for a name, without C0 or DEL): a word with a byte
	 * outside, or a false alarm, goes on byte by byte.  Exact tests for
	 * "some byte is zero" and "some byte is below 0x20" (Bit Twiddling
	 * Hacks: haszero, hasless), on words whose bytes are all < 0x80. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
	while (end - p >= 8) {
		memcpy(&x, p, 8);
		if ((x & HIGHS) != 0 || ((x - ONES) & ~x & HIGHS) != 0)
			break;
		if (name && (((x - ONES * 0x20) & ~x & HIGHS) != 0 ||
		    (((x ^ ONES * 0x7f) - ONES) & ~(x ^ ONES * 0x7f) &
		    HIGHS) != 0))
			break;
		p += 8;
	}
#undef ONES
#undef HIGHS
	while (p < end) {
		if (*p == 0 || (name && (*p < 0x20 || *p == 0x7f)))
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			k = 1, c = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			k = 2, c = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			k = 3, c = *p & 0x07;
		else
			return 0;
		if (end - p <= k)
			return 0;
		for (i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((k == 2 && c < 0x800) || (k == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		/* C1 controls in a name */
		if (name && c >= 0x80 && c <= 0x9f)
			return 0;
		p += k + 1;
	}
	return 1;
}

int
skm__text_ok(const char *p, size_t n, int name)
{
	struct skm__str s = { p, n };

	return good_text(&s, name);
}

static int
good_real(double v)
{
	return isfinite(v) && v >= 0 && v < 1e15;
}

int
skm__ev_validate(const struct skm__event *ev, char *why, size_t whysize)
{
	const struct skm__ev_desc *d;
	const struct skm__str *s;
	int f, begin, end;

	if (ev->kind != SKM__EV_BEGIN && ev->kind != SKM__EV_END &&
	    ev->kind != SKM__EV_RUN)
		return fail(why, whysize, "unknown event kind");
	begin = ev->kind != SKM__EV_END;
	end = ev->kind != SKM__EV_BEGIN;
	if (!SKM__HAS(ev, ID) || ev->id.n == 0 || ev->id.n > 64)
		return fail(why, whysize, "no invocation id, or one longer "
		    "than 64 bytes");
	if (begin && (!SKM__HAS(ev, SKILL) || !SKM__HAS(ev, INVOKED)))
		return fail(why, whysize, "a begin without skill name or "
		    "start time");
	if (SKM__HAS(ev, SKILL) && (ev->skill.n == 0 ||
	    ev->skill.n > SKM_NAME_MAX || !good_text(&ev->skill, 1)))
		return fail(why, whysize, "skill name must be 1-256 bytes of "
		    "UTF-8 without control characters");
	if (!good_text(&ev->id, 1))
		return fail(why, whysize, "invocation id is not plain text");
	for (f = 0; f < SKM__F_COUNT; f++) {
		d = &skm__ev_fields[f];
		if (d->type != SKM__T_STR || !((ev->has >> f) & 1u))
			continue;
		s = (const void *)((const char *)ev + d->offset);
		if (f != SKM__F_COMMAND && s->n > SKM_FIELD_MAX)
			return fail(why, whysize, "a field longer than 4096 "
			    "bytes");
		if (memchr(s->p, '\0', s->n) != NULL)
			return fail(why, whysize, "a field that holds a NUL");
	}
	for (f = 0; f < ev->nfollow; f++)
		if (ev->follow[f].n > SKM_FIELD_MAX ||
		    memchr(ev->follow[f].p, '\0', ev->follow[f].n) != NULL)
			return fail(why, whysize, "a follow-up action longer "
			    "than 4096 bytes or holding a NUL");
	if (SKM__HAS(ev, INVOKED) && (ev->invoked_us < SKM__TIME_MIN ||
	    ev->invoked_us > SKM__TIME_MAX))
		return fail(why, whysize, "start time outside years 1-9999");
	if (SKM__HAS(ev, ENDED) && (ev->ended_us < SKM__TIME_MIN ||
	    ev->ended_us > SKM__TIME_MAX))
		return fail(why, whysize, "end time outside years 1-9999");
	if (SKM__HAS(ev, INVOKED) && SKM__HAS(ev, ENDED) &&
	    ev->ended_us < ev->invoked_us)
		return fail(why, whysize, "ended before it began");
	if (end && !SKM__HAS(ev, ENDED))
		return fail(why, whysize, "an end without an end time");
	if ((SKM__HAS(ev, DURATION) && (!good_real(ev->duration) ||
	    ev->duration > SKM__DURATION_MAX)) ||
	    (SKM__HAS(ev, UCPU) && !good_real(ev->ucpu)) ||
	    (SKM__HAS(ev, SCPU) && !good_real(ev->scpu)))
		return fail(why, whysize, "a duration or CPU time that is "
		    "negative, not finite or absurdly large");
	if ((SKM__HAS(ev, MONO0) && !isfinite(ev->mono_start)) ||
	    (SKM__HAS(ev, MONO1) && !isfinite(ev->mono_end)))
		return fail(why, whysize, "a clock reading that is not finite");
	if (SKM__HAS(ev, COMPLETED) && ev->completed != 0 &&
	    ev->completed != 1)
		return fail(why, whysize, "completed must be 0 or 1");
	if ((SKM__HAS(ev, EXIT) && (ev->exit_code < -1 ||
	    ev->exit_code > 255)) || (SKM__HAS(ev, SIGNAL) &&
	    (ev->signal < 0 || ev->signal > 128)) || (SKM__HAS(ev, RSS) &&
	    (ev->rss < 0 || ev->rss > ((int64_t)1 << 50))) ||
	    (SKM__HAS(ev, PID) && ev->pid < 0))
		return fail(why, whysize, "a number out of its range");
	return 0;
}

/* In .data: on the shim's first page of it, which ld.so has written
 * already (a .bss page of its own would be a page fault). */
int skm__clock_syscall __attribute__((section(".data"))) = 0;

static void
clock_read(clockid_t c, struct timespec *ts)
{
	if (!skm__clock_syscall || syscall(SYS_clock_gettime, c, ts) != 0)
		clock_gettime(c, ts);
}

int64_t
skm__now_us(void)
{
	struct timespec ts;

	clock_read(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double
skm__mono(void)
{
	struct timespec ts;

	clock_read(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * skm__uuid7 - a time-ordered UUID (RFC 9562 version 7): 48 bits of Unix
 * milliseconds, the version, 74 random bits from getrandom(2) (a system
 * call: async-signal-safe, no file descriptor), the variant.
 */
size_t
skm__random(void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom((unsigned char *)buf + got, n - got,
		    GRND_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int
skm__uuid7(char out[37])
{
	return skm__uuid7_ms(out, skm__now_us() / 1000);
}

int
skm__uuid7_ms(char out[37], int64_t ms_now)
{
	unsigned char b[10];
	size_t got = skm__random(b, sizeof(b)), i;

	if (got < sizeof(b)) {
		/* No entropy yet (early boot): the clock and pid. */
		struct timespec ts;

		clock_read(CLOCK_MONOTONIC, &ts);
		for (i = got; i < sizeof(b); i++)
			b[i] = (unsigned char)((ts.tv_nsec >> i) ^
			    (getpid() >> (i % 4 * 8)) ^ i * 37);
	}
	skm__uuid7_at(out, b, ms_now);
	return 0;
}

void
skm__uuid7_at(char out[37], const unsigned char rnd[10], int64_t ms_now)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t ms = (uint64_t)ms_now;
	int i, o;

	memcpy(b + 6, rnd, 10);
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	for (i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}
