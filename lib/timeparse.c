/*
 * timeparse.c - the times and durations a user types, parsed and
 * validated in C so that nothing a user wrote ever becomes SQL text.
 *
 * `--since 7d` is a duration back from now; `--since 2026-01-05T10:00Z` a
 * timestamp.  Timestamps of an import are normalised with the same code
 * to the store's one form, "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC, so that
 * they compare correctly as text.  Calendar arithmetic is done by hand
 * (days from civil date, H. Hinnant's algorithm) rather than with
 * mktime/timegm, so neither TZ nor the C library's time_t range matter.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeparse.h"

#define MS_PER_DAY 86400000LL
/* 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define MIN_MS (-62135596800000LL)
#define MAX_MS (253402300799999LL)
#define MAX_DURATION (100LL * 366 * 86400)

static int
fail(char *err, size_t errlen, const char *s, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "'%.40s%s': %s", s,
		    strlen(s) > 40 ? "..." : "", why);
	return -1;
}

int
skm__tp_parse_duration(const char *s, long long *secs, char *err, size_t errlen)
{
	long long n = 0, unit;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "", "empty duration");
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > MAX_DURATION)
			return fail(err, errlen, s, "duration too long");
	}
	if (p == s || p[0] == '\0' || p[1] != '\0')
		return fail(err, errlen, s, "not a duration (like 30m, 12h, "
		    "7d, 4w) or timestamp");
	switch (*p) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default:
		return fail(err, errlen, s, "unknown unit (use s, m, h, d "
		    "or w)");
	}
	if (n == 0)
		return fail(err, errlen, s, "duration must be positive");
	if (n > MAX_DURATION / unit)
		return fail(err, errlen, s, "duration too long");
	*secs = n * unit;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static int
leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Exactly n digits at *p into *v; advances *p.  Returns 0 or -1. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* The zone suffix at p: "", "Z", "+HH", "+HH:MM", "+HHMM" (or '-').
 * *off gets its offset east of UTC in minutes. */
static int
zone(const char *p, int *off)
{
	int sign, hh, mm = 0;

	*off = 0;
	if (*p == '\0')
		return 0;
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh) != 0)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && digits(&p, 2, &mm) != 0)
		return -1;
	if (*p != '\0' || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 60 + mm);
	return 0;
}

int
skm__tp_parse_iso(const char *s, long long *ms, char *err, size_t errlen)
{
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, scale = 100, off;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "", "empty timestamp");
	if (digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    digits(&p, 2, &mo) != 0 || *p++ != '-' || digits(&p, 2, &d) != 0)
		return fail(err, errlen, s, "not a timestamp (like "
		    "2026-01-05T10:00:00Z)");
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return fail(err, errlen, s, "no such date");
	if (*p == 'T' || *p == 't' || (*p == ' ' && p[1] != '\0')) {
		p++;
		if (digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    digits(&p, 2, &mi) != 0)
			return fail(err, errlen, s, "bad time of day");
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) != 0)
				return fail(err, errlen, s, "bad seconds");
			if (*p == '.' || *p == ',') {
				if (p[1] < '0' || p[1] > '9')
					return fail(err, errlen, s,
					    "bad fraction of a second");
				/* Milliseconds kept, finer digits cut. */
				for (p++; *p >= '0' && *p <= '9'; p++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return fail(err, errlen, s, "no such time of day");
	}
	if (zone(p, &off) != 0)
		return fail(err, errlen, s, "bad time zone (use Z, +HH:MM "
		    "or nothing for UTC)");
	*ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
	    h * 3600LL + mi * 60LL + sec - off * 60LL) * 1000LL + frac;
	/* The offset may carry a time at the edge of the range past it
	 * (0001-01-01+05 is in year 0 in UTC): what is accepted must be
	 * something skm__tp_format_iso() can write. */
	if (*ms < MIN_MS || *ms > MAX_MS)
		return fail(err, errlen, s, "out of range (years 0001 to 9999 "
		    "in UTC)");
	return 0;
}

/* v as n decimal digits, zero-padded (v < 10^n). */
static void
put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int
skm__tp_format_iso(long long ms, char out[TP_ISO_LEN])
{
	long long days, rem, y;
	unsigned m, d;

	days = ms >= 0 ? ms / MS_PER_DAY : -((-ms + MS_PER_DAY - 1) /
	    MS_PER_DAY);
	rem = ms - days * MS_PER_DAY;
	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	/* Digit by digit: an import formats two per record, and snprintf
	 * cost a tenth of it. */
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(rem / 3600000), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(rem / 60000 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(rem / 1000 % 60), 2);
	out[19] = '.';
	put_digits(out + 20, (unsigned)(rem % 1000), 3);
	out[23] = 'Z';
	out[24] = '\0';
	return 0;
}

int
skm__tp_parse_since(const char *s, long long now_ms, long long *ms,
    char out[TP_ISO_LEN], char *err, size_t errlen)
{
	long long secs, t;
	char iso[TP_ISO_LEN];

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "", "empty --since");
	/* A duration is digits and a letter; a timestamp starts with a
	 * four-digit year and a '-'. */
	if (strlen(s) > 4 && s[4] == '-') {
		if (skm__tp_parse_iso(s, &t, err, errlen) != 0)
			return -1;
	} else {
		if (skm__tp_parse_duration(s, &secs, err, errlen) != 0)
			return -1;
		t = now_ms - secs * 1000;
	}
	if (skm__tp_format_iso(t, iso) != 0)
		return fail(err, errlen, s, "out of range");
	if (t > now_ms)
		return fail(err, errlen, s, "is in the future");
	*ms = t;
	if (out != NULL)
		memcpy(out, iso, TP_ISO_LEN);
	return 0;
}

long long
skm__tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
