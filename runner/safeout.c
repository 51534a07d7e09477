/*
 * safeout.c - a filter between skm and its stdout for JSON and CSV, so
 * that no data in the store can drive the terminal (CSI, OSC 52, a bidi
 * override) or a spreadsheet (=HYPERLINK(...)).  It is a stdio stream of
 * its own (fopencookie): whatever the code prints into it is decoded as
 * UTF-8, character by character, and written on to the real stream made
 * safe (see safeout.h for the rules).  A character split across two
 * writes is kept until its last byte comes.  The human tables do not
 * come through here: fmt_safe() already makes every cell safe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safeout.h"

/* Where a CSV writer is. */
enum csvstate {
	FIELD_START,	/* at the start of a field */
	UNQUOTED,	/* in a field without quotes */
	QUOTED_FIRST,	/* just after a field's opening quote */
	QUOTED,		/* in a quoted field */
	QUOTE_SEEN,	/* a quote in a quoted field: its end, or "" */
	CR_SEEN		/* a CR outside quotes: CRLF ends the record */
};

struct safeout {
	FILE *fp;
	enum safeout_mode mode;
	int flags;
	int tty;
	unsigned char pend[4];	/* an incomplete UTF-8 character */
	size_t npend;
	enum csvstate cs;
};

/* The length of the UTF-8 sequence that starts with byte b; 0: invalid. */
static size_t
u8len(unsigned char b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

/* Decode p[0..n) (n = u8len): the code point, or -1 when malformed. */
static long
u8decode(const unsigned char *p, size_t n)
{
	long cp;
	size_t i;

	if (n == 1)
		return p[0];
	cp = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return cp;
}

/* A character no terminal should get from the data. */
static int
unsafe(long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_u(struct safeout *s, long cp)
{
	fprintf(s->fp, "\\u%04lx", cp);
}

/*
 * guard - CSV with SAFEOUT_SPREADSHEET: the first character of a quoted
 * field's text; a formula's first character gets a ' in front.
 */
static void
guard(struct safeout *s, long cp)
{
	if ((s->flags & SAFEOUT_SPREADSHEET) && (cp == '=' || cp == '+' ||
	    cp == '-' || cp == '@' || cp == '\t' || cp == '\r'))
		fputc('\'', s->fp);
}

/* csv_char - one character of CSV (cp < 0: an invalid byte b). */
static void
csv_char(struct safeout *s, long cp, const unsigned char *p, size_t n)
{
	int record_end = 0;

	switch (s->cs) {
	case CR_SEEN:
		if (cp == '\n') {
			fwrite("\r\n", 1, 2, s->fp);
			s->cs = FIELD_START;
			return;
		}
		/* A lone CR outside quotes: shown as data. */
		if (s->tty)
			fputs("\\x0d", s->fp);
		else
			fputc('\r', s->fp);
		s->cs = UNQUOTED;
		break;
	case QUOTE_SEEN:
		if (cp == '"') {	/* "" inside a quoted field */
			fwrite("\"\"", 1, 2, s->fp);
			s->cs = QUOTED;
			return;
		}
		fputc('"', s->fp);	/* the closing quote */
		s->cs = UNQUOTED;
		break;
	default:
		break;
	}
	switch (s->cs) {
	case FIELD_START:
	case UNQUOTED:
		if (cp == '"' && s->cs == FIELD_START) {
			fputc('"', s->fp);
			s->cs = QUOTED_FIRST;
			return;
		}
		if (cp == ',') {
			fputc(',', s->fp);
			s->cs = FIELD_START;
			return;
		}
		if (cp == '\n') {
			fputc('\n', s->fp);
			s->cs = FIELD_START;
			return;
		}
		if (cp == '\r') {
			s->cs = CR_SEEN;
			return;
		}
		s->cs = UNQUOTED;
		break;
	case QUOTED_FIRST:
		s->cs = QUOTED;
		if (cp == '"') {
			s->cs = QUOTE_SEEN;
			return;
		}
		guard(s, cp);
		break;
	case QUOTED:
		if (cp == '"') {
			s->cs = QUOTE_SEEN;
			return;
		}
		record_end = cp == '\n';	/* a newline in the data */
		break;
	default:
		break;
	}
	if (!s->tty || (cp >= 0 && (!unsafe(cp) || cp == '\t' ||
	    record_end))) {
		fwrite(p, 1, n, s->fp);
	} else if (cp < 0 || cp < 0x80) {
		fprintf(s->fp, "\\x%02x", cp < 0 ? p[0] : (unsigned)cp);
	} else {
		put_u(s, cp);
	}
}

/* json_char - one character of JSON (cp < 0: an invalid byte p[0]). */
static void
json_char(struct safeout *s, long cp, const unsigned char *p, size_t n)
{
	if (cp < 0) {
		if (s->tty || !(s->flags & SAFEOUT_EXACT))
			fputs("\\ufffd", s->fp);
		else
			fwrite(p, 1, n, s->fp);
	} else if (unsafe(cp) && cp != '\n') {
		put_u(s, cp);
	} else {
		fwrite(p, 1, n, s->fp);
	}
}

static void
one(struct safeout *s, const unsigned char *p, size_t n, long cp)
{
	if (s->mode == SAFEOUT_JSON)
		json_char(s, cp, p, n);
	else
		csv_char(s, cp, p, n);
}

/* The cookie's write: decode and pass on every whole character. */
static ssize_t
so_write(void *cookie, const char *buf, size_t size)
{
	struct safeout *s = cookie;
	const unsigned char *b = (const unsigned char *)buf;
	size_t i = 0, k, need;
	long cp;

	while (i < size) {
		if (s->npend > 0) {
			need = u8len(s->pend[0]);
			while (i < size && s->npend < need &&
			    (b[i] & 0xc0) == 0x80)
				s->pend[s->npend++] = b[i++];
			if (s->npend == need &&
			    (cp = u8decode(s->pend, need)) >= 0) {
				one(s, s->pend, need, cp);
				s->npend = 0;
			} else if (s->npend == need || i < size) {
				/* malformed, or cut short by a byte that
				 * cannot continue it: byte by byte */
				for (k = 0; k < s->npend; k++)
					one(s, s->pend + k, 1, -1);
				s->npend = 0;
			}
			continue;
		}
		need = u8len(b[i]);
		if (need == 0) {
			one(s, b + i, 1, -1);
			i++;
		} else if (i + need <= size) {
			if ((cp = u8decode(b + i, need)) < 0) {
				one(s, b + i, 1, -1);
				i++;
			} else {
				one(s, b + i, need, cp);
				i += need;
			}
		} else {
			memcpy(s->pend, b + i, size - i);
			s->npend = size - i;
			i = size;
		}
	}
	return ferror(s->fp) ? -1 : (ssize_t)size;
}

/* The cookie's close: what is pending goes out as invalid bytes. */
static int
so_close(void *cookie)
{
	struct safeout *s = cookie;
	size_t i;
	int r;

	for (i = 0; i < s->npend; i++)
		one(s, s->pend + i, 1, -1);
	if (s->mode == SAFEOUT_CSV && s->cs == QUOTE_SEEN)
		fputc('"', s->fp);
	else if (s->mode == SAFEOUT_CSV && s->cs == CR_SEEN)
		fputs(s->tty ? "\\x0d" : "\r", s->fp);
	r = fflush(s->fp) == 0 && !ferror(s->fp) ? 0 : -1;
	free(s);
	return r;
}

FILE *
safeout_open(FILE *fp, enum safeout_mode mode, int flags)
{
	cookie_io_functions_t io = { NULL, so_write, NULL, so_close };
	struct safeout *s;
	FILE *f;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fp = fp;
	s->mode = mode;
	s->flags = flags;
	s->tty = isatty(fileno(fp));
	s->cs = FIELD_START;
	if ((f = fopencookie(s, "w", io)) == NULL) {
		free(s);
		return NULL;
	}
	return f;
}
