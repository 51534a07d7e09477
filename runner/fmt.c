/*
 * fmt.c - human output of the skm CLI.
 *
 * Everything here is generic over a libskm cursor: a cell is formatted by
 * its column's name (durations for *_seconds, percentages for *rate*), so a
 * new query gets sensible output without new code.  Text from the store is
 * never trusted: skill names, paths and commands may hold escape sequences,
 * so every text cell goes through fmt_safe() before it reaches the
 * terminal.  Widths are counted in terminal columns (wcwidth under a UTF-8
 * locale, one per character otherwise), not bytes, so tables of non-ASCII
 * names stay aligned.
 */
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "skm.h"
#include "fmt.h"

#define BADCP 0xFFFFFFFFu
#define ELLIPSIS "\xe2\x80\xa6"	/* U+2026, one column */

/*
 * u8_decode - decode one UTF-8 sequence at s into *cp.  Returns the bytes
 * used (1 for an invalid byte, with *cp = BADCP).  Overlong forms,
 * surrogates and values above U+10FFFF are invalid.
 */
static int
u8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c, min;
	int n, i;

	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		*cp = BADCP;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = BADCP;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = BADCP;
		return 1;
	}
	*cp = c;
	return n;
}

/* Characters that must not reach a terminal: C0 and C1 controls, DEL,
 * line/paragraph separators and the bidirectional controls that can make
 * text display as something else ("Trojan Source"). */
static int
unsafe(uint32_t cp)
{
	return cp == BADCP || cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ||
	    cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static int
utf8_locale(void)
{
	static int cached = -1;
	const char *cs;

	if (cached < 0) {
		cs = nl_langinfo(CODESET);
		cached = cs != NULL && (strcmp(cs, "UTF-8") == 0 ||
		    strcmp(cs, "utf8") == 0);
	}
	return cached;
}

/* Display width of a safe code point. */
static int
cpwidth(uint32_t cp)
{
	int w;

	if (cp < 0x80 || !utf8_locale())
		return 1;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

char *
fmt_safe(const char *s, int maxw, int *width)
{
	const unsigned char *p;
	uint32_t cp;
	char *out, *o;
	int n, w, total, limit, used, cut;

	if (s == NULL)
		s = "";
	/* Each character becomes itself or a shorter '?'. */
	if ((out = malloc(strlen(s) + sizeof(ELLIPSIS))) == NULL)
		return NULL;

	total = 0;
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = u8_decode(p, &cp);
		w = unsafe(cp) ? 1 : cpwidth(cp);
		if (total < INT_MAX - w)
			total += w;
	}
	cut = maxw > 0 && total > maxw;
	limit = cut ? maxw - 1 : INT_MAX;

	o = out;
	used = 0;
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = u8_decode(p, &cp);
		w = unsafe(cp) ? 1 : cpwidth(cp);
		if (used > limit - w)
			break;
		if (unsafe(cp))
			*o++ = '?';
		else {
			memcpy(o, p, n);
			o += n;
		}
		used += w;
	}
	if (cut) {
		memcpy(o, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		o += sizeof(ELLIPSIS) - 1;
		used++;
	}
	*o = '\0';
	if (width != NULL)
		*width = used;
	return out;
}

void
fmt_duration(double secs, char *buf, size_t size)
{
	long long ms, t, m;

	if (isnan(secs)) {
		snprintf(buf, size, "-");
		return;
	}
	if (secs < 0) {
		/* Not expected from the store; show it rather than hide it. */
		snprintf(buf, size, "%.3gs", secs);
		return;
	}
	if (secs < 1.0 && (ms = llround(secs * 1000.0)) < 1000) {
		snprintf(buf, size, "%lldms", ms);
		return;
	}
	if (secs < 59.95) {
		snprintf(buf, size, "%.1fs", secs);
		return;
	}
	if (secs < 1e15 && (t = llround(secs)) < 3600) {
		snprintf(buf, size, "%lldm%02llds", t / 60, t % 60);
		return;
	}
	if (secs >= 1e15) {
		snprintf(buf, size, "%.3gs", secs);
		return;
	}
	m = llround(secs / 60.0);
	snprintf(buf, size, "%lldh%02lldm", m / 60, m % 60);
}

static const struct {
	const char *name, *header;
} headers[] = {
	{ "abandoned_invocations",	"abandoned" },
	{ "avg_duration_seconds",	"avg" },
	{ "completed_invocations",	"done" },
	{ "completion_rate",		"rate" },
	{ "duration_seconds",		"duration" },
	{ "ended_at",			"ended" },
	{ "error_rate",			"share" },
	{ "error_type",			"error" },
	{ "exit_code",			"exit" },
	{ "first_invoked",		"first" },
	{ "invocation_count",		"runs" },
	{ "invoked_at",			"started" },
	{ "last_invoked",		"last" },
	{ "max_duration_seconds",	"max" },
	{ "min_duration_seconds",	"min" },
	{ "p50_duration_seconds",	"p50" },
	{ "p95_duration_seconds",	"p95" },
	{ "p99_duration_seconds",	"p99" },
	{ "share_rate",			"share" },
	{ "skill_name",			"skill" },
	{ "total_duration_seconds",	"total" },
	{ "total_invocations",		"runs" },
	{ "workflow_path",		"workflow" },
};

const char *
fmt_header(const char *name)
{
	size_t i;

	if (name == NULL)
		return "?";
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (strcmp(headers[i].name, name) == 0)
			return headers[i].header;
	return name;
}

static int
endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Format one cell; *width gets its display width. */
static char *
cell(const struct skm_cursor *c, int col, int maxw, int *width)
{
	const char *name;
	char buf[64];
	char *s;
	int type;
	double v;

	name = skm_cursor_name(c, col);
	if (name == NULL)
		name = "";
	type = skm_cursor_type(c, col);
	if (type == SKM_T_NULL)
		snprintf(buf, sizeof(buf), "-");
	else if (type == SKM_T_INT || type == SKM_T_REAL) {
		v = type == SKM_T_INT ? (double)skm_cursor_int(c, col) :
		    skm_cursor_real(c, col);
		if (endswith(name, "_seconds"))
			fmt_duration(v, buf, sizeof(buf));
		else if (strstr(name, "rate") != NULL)
			snprintf(buf, sizeof(buf), "%.1f%%", v);
		else if (type == SKM_T_INT)
			snprintf(buf, sizeof(buf), "%lld",
			    skm_cursor_int(c, col));
		else
			snprintf(buf, sizeof(buf), "%g", v);
	} else if (skm_cursor_text(c, col) != NULL &&
	    *skm_cursor_text(c, col) == '\0')
		/* An empty key would be a blank cell: show it is there. */
		snprintf(buf, sizeof(buf), "\"\"");
	else
		return fmt_safe(skm_cursor_text(c, col), maxw, width);

	if ((s = strdup(buf)) != NULL && width != NULL)
		*width = (int)strlen(s);
	return s;
}

char *
fmt_cell(const struct skm_cursor *c, int col, int maxw)
{
	return cell(c, col, maxw, NULL);
}

/* Print s in a field of w columns (sw its own width), right-aligned or
 * not; the last column gets no trailing padding. */
static void
field(FILE *fp, const char *s, int sw, int w, int right, int last)
{
	int pad = w > sw ? w - sw : 0;

	if (right)
		fprintf(fp, "%*s%s", pad, "", s);
	else
		fprintf(fp, "%s%*s", s, last ? 0 : pad, "");
	fputs(last ? "\n" : "  ", fp);
}

long
fmt_table(FILE *fp, struct skm_cursor *c, const char *empty)
{
	char **cells = NULL, **ncells;
	int *cw = NULL, *widths = NULL, *ncw, *right = NULL;
	size_t nrows = 0, cap = 0, i;
	long ret = -1;
	int ncol, col, r, type, hw;

	if ((ncol = skm_cursor_columns(c)) <= 0)
		return 0;
	if ((widths = calloc(ncol, sizeof(*widths))) == NULL ||
	    (right = calloc(ncol, sizeof(*right))) == NULL)
		goto out;
	for (col = 0; col < ncol; col++)
		widths[col] = (int)strlen(fmt_header(skm_cursor_name(c, col)));

	while ((r = skm_cursor_step(c)) == 1) {
		if (nrows == cap) {
			cap = cap ? cap * 2 : 32;
			ncells = reallocarray(cells, cap * ncol, sizeof(*cells));
			if (ncells == NULL)
				goto out;
			cells = ncells;
			ncw = reallocarray(cw, cap * ncol, sizeof(*cw));
			if (ncw == NULL)
				goto out;
			cw = ncw;
		}
		for (col = 0; col < ncol; col++) {
			i = nrows * ncol + col;
			type = skm_cursor_type(c, col);
			if (type == SKM_T_INT || type == SKM_T_REAL)
				right[col] = 1;
			cells[i] = cell(c, col, FMT_CELL_MAX, &cw[i]);
			if (cells[i] == NULL) {
				/* Keep the table freeable: no holes. */
				for (; col < ncol; col++)
					cells[nrows * ncol + col] = NULL;
				nrows++;
				goto out;
			}
			if (cw[i] > widths[col])
				widths[col] = cw[i];
		}
		nrows++;
	}
	if (r < 0)
		goto out;

	if (nrows == 0 && empty != NULL) {
		fprintf(fp, "%s\n", empty);
		ret = 0;
		goto out;
	}
	for (col = 0; col < ncol; col++) {
		const char *h = fmt_header(skm_cursor_name(c, col));

		hw = (int)strlen(h);
		field(fp, h, hw, widths[col], right[col], col == ncol - 1);
	}
	for (i = 0; i < nrows; i++)
		for (col = 0; col < ncol; col++)
			field(fp, cells[i * ncol + col], cw[i * ncol + col],
			    widths[col], right[col], col == ncol - 1);
	ret = (long)nrows;
out:
	for (i = 0; i < nrows * (size_t)ncol; i++)
		free(cells[i]);
	free(cells);
	free(cw);
	free(widths);
	free(right);
	return ret;
}

static int
skipped(const char *name, const char *const *skip)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (strcmp(name, *skip) == 0)
			return 1;
	return 0;
}

int
fmt_record(FILE *fp, const struct skm_cursor *c, const char *const *skip)
{
	const char *name;
	char *v;
	int ncol, col, w, namew = 0;

	ncol = skm_cursor_columns(c);
	for (col = 0; col < ncol; col++) {
		name = skm_cursor_name(c, col);
		if (name != NULL && !skipped(name, skip) &&
		    (w = (int)strlen(name)) > namew)
			namew = w;
	}
	for (col = 0; col < ncol; col++) {
		name = skm_cursor_name(c, col);
		if (name == NULL || skipped(name, skip))
			continue;
		if ((v = cell(c, col, 0, NULL)) == NULL)
			return -1;
		fprintf(fp, "%s:%*s %s\n", name, namew - (int)strlen(name), "",
		    v);
		free(v);
	}
	return 0;
}

void
fmt_sparkline(FILE *fp, const long long *v, size_t n)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	long long max = 0;
	size_t i;
	int level;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++) {
		/* ceil(7 v / max): only an empty bucket gets the lowest. */
		level = max <= 0 || v[i] <= 0 ? 0 :
		    (int)((v[i] * 7 + max - 1) / max);
		fputs(blocks[level > 7 ? 7 : level], fp);
	}
	putc('\n', fp);
}
