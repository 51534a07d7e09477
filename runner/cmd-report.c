/*
 * cmd-report.c - `skm report -o FILE.html`: one self-contained HTML page
 * of the store, to open in a browser or put on a wall.
 *
 * The page is written from the same library queries the CLI prints:
 * summary for the tiles at the top, stats for the table of skills, and
 * for each skill show (its tiles), timeline (a chart of runs and
 * failures per bucket), errors (the error mix), recent (its slowest
 * recent runs) and skm_histogram() (its durations on a log scale, with
 * p50/p95/p99 marked).  The charts are inline SVG, the style one inline
 * <style>: no script, no font, no image, nothing fetched from anywhere.
 *
 * Every text from the store goes through fmt_safe() (no control
 * characters, valid UTF-8) and then through html() (& < > " ' as
 * entities) before it is written, in text and in attributes alike.
 * Each number shown carries its exact value in data-key/data-value
 * attributes, so a test can hold the page to `skm show --json`.
 */
#include <err.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "skm.h"
#include "cmd.h"
#include "fmt.h"
#include "views.h"

#define NBINS 24		/* histogram bins */
#define NSLOW 6			/* slowest recent runs shown */
#define NRECENT 200		/* ... among this many latest */
#define NERRORS 6		/* error types shown */
#define MAX_BUCKETS 400		/* bars in a timeline chart */

/* Chart geometry (SVG user units; the SVG scales to its box). */
#define CW 600
#define CH 170
#define ML 40			/* left margin: y labels */
#define MB 22			/* bottom margin: x labels */
#define MT 10

/* Write s for HTML text or an attribute value: printable, escaped. */
static void
html(FILE *fp, const char *s, int maxw)
{
	char *p, *safe;

	if (s == NULL)
		return;
	if ((safe = fmt_safe(s, maxw, NULL)) == NULL) {
		fputs("?", fp);
		return;
	}
	for (p = safe; *p != '\0'; p++) {
		switch (*p) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: putc(*p, fp);
		}
	}
	free(safe);
}

/* Columns of a cursor's current row, by name. */
static int
col(const struct skm_cursor *c, const char *name)
{
	int i, n = skm_cursor_columns(c);

	for (i = 0; i < n; i++)
		if (strcmp(skm_cursor_name(c, i), name) == 0)
			return i;
	return -1;
}

static int
is_null(const struct skm_cursor *c, const char *name)
{
	int i = col(c, name);

	return i < 0 || skm_cursor_type(c, i) == SKM_T_NULL;
}

static double
real(const struct skm_cursor *c, const char *name)
{
	int i = col(c, name);

	return i < 0 ? 0 : skm_cursor_real(c, i);
}

static const char *
text(const struct skm_cursor *c, const char *name)
{
	int i = col(c, name);

	return i < 0 ? NULL : skm_cursor_text(c, i);
}

/* The exact value of a column as a data-value attribute ("" for NULL). */
static void
data_value(FILE *fp, const struct skm_cursor *c, const char *name)
{
	int i = col(c, name);

	fputs(" data-key=\"", fp);
	html(fp, name, 0);
	fputs("\" data-value=\"", fp);
	if (i >= 0) {
		switch (skm_cursor_type(c, i)) {
		case SKM_T_INT:
			fprintf(fp, "%lld", skm_cursor_int(c, i));
			break;
		case SKM_T_REAL:
			fprintf(fp, "%.17g", skm_cursor_real(c, i));
			break;
		case SKM_T_TEXT:
			html(fp, skm_cursor_text(c, i), 0);
			break;
		}
	}
	putc('"', fp);
}

/* A value as people read it: durations, rates, counts. */
static void
shown(FILE *fp, const struct skm_cursor *c, const char *name)
{
	char buf[64];
	int i = col(c, name);

	if (i < 0 || skm_cursor_type(c, i) == SKM_T_NULL) {
		fputs("\u2013", fp);
		return;
	}
	if (strstr(name, "_seconds") != NULL) {
		fmt_duration(skm_cursor_real(c, i), buf, sizeof(buf));
		fputs(buf, fp);
	} else if (strstr(name, "rate") != NULL)
		fprintf(fp, "%.1f%%", skm_cursor_real(c, i));
	else if (skm_cursor_type(c, i) == SKM_T_INT)
		fprintf(fp, "%lld", skm_cursor_int(c, i));
	else
		html(fp, skm_cursor_text(c, i), 40);
}

/* A stored timestamp to the minute: "2026-12-03 14:05". */
static void
when(FILE *fp, const char *iso)
{
	if (iso != NULL && strlen(iso) >= 16 && iso[10] == 'T')
		fprintf(fp, "%.10s %.5s", iso, iso + 11);
	else
		html(fp, iso != NULL ? iso : "\u2013", 32);
}

/* The class of a completion rate: good, fair or poor. */
static const char *
rate_class(double r)
{
	return r >= 95 ? "good" : r >= 80 ? "fair" : "poor";
}

/* A tile: a label over a big number, the number marked with its key. */
static void
tile(FILE *fp, const struct skm_cursor *c, const char *label,
    const char *name, const char *cls)
{
	fprintf(fp, "<div class=\"tile\"><div class=\"k\">%s</div>"
	    "<div class=\"v%s%s\"", label, cls ? " " : "", cls ? cls : "");
	data_value(fp, c, name);
	putc('>', fp);
	shown(fp, c, name);
	fputs("</div></div>\n", fp);
}

static const char style[] =
    ":root{--bg:#0d1117;--card:#161b22;--card2:#1c2330;--line:#2d3540;"
    "--text:#e6edf3;--mute:#8b96a3;--ok:#2ea98f;--bad:#e5534b;"
    "--acc:#6cb6ff;--warn:#d9a334}\n"
    "*{box-sizing:border-box}\n"
    "html{background:var(--bg)}\n"
    "body{margin:0 auto;max-width:1500px;color:var(--text);padding:28px 36px 40px;"
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans','Liberation Sans',sans-serif}\n"
    "header{display:flex;align-items:baseline;justify-content:space-between;"
    "gap:24px;border-bottom:1px solid var(--line);padding-bottom:14px;"
    "margin-bottom:22px}\n"
    "h1{font-size:28px;margin:0;font-weight:700;letter-spacing:-.01em}\n"
    "h1 span{color:var(--acc)}\n"
    "h2{font-size:21px;margin:0;font-weight:650}\n"
    "h3{font-size:13px;margin:0 0 8px;color:var(--mute);font-weight:600;"
    "text-transform:uppercase;letter-spacing:.07em}\n"
    ".meta{color:var(--mute);font-size:13px;text-align:right}\n"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));"
    "gap:12px;margin:0 0 22px}\n"
    ".tile{background:var(--card);border:1px solid var(--line);"
    "border-radius:10px;padding:12px 16px}\n"
    ".tile .k{color:var(--mute);font-size:12px;text-transform:uppercase;"
    "letter-spacing:.07em}\n"
    ".tile .v{font-size:30px;font-weight:700;margin-top:2px;"
    "font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}\n"
    ".good{color:var(--ok)}.fair{color:var(--warn)}.poor{color:var(--bad)}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
    "th{color:var(--mute);font-weight:600;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.06em;text-align:right;padding:6px 10px;"
    "border-bottom:1px solid var(--line)}\n"
    "td{text-align:right;padding:7px 10px;border-bottom:1px solid var(--line);"
    "white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "td.l,th.l{text-align:left}\n"
    "tr:last-child td{border-bottom:none}\n"
    "a{color:var(--acc);text-decoration:none}\n"
    ".card{background:var(--card);border:1px solid var(--line);"
    "border-radius:12px;padding:16px 20px;margin:0 0 22px}\n"
    ".skill .head{display:flex;align-items:baseline;gap:14px;"
    "margin-bottom:12px}\n"
    ".skill .head .sub{color:var(--mute);font-size:13px}\n"
    ".skill .tiles{margin-bottom:14px}\n"
    ".skill .tile{background:var(--card2);padding:8px 14px}\n"
    ".skill .tile .v{font-size:24px}\n"
    ".grid{display:grid;grid-template-columns:1fr 1fr;gap:16px 28px}\n"
    ".panel{min-width:0}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{fill:var(--mute);font-size:11px;font-family:inherit}\n"
    "svg .grid-line{stroke:var(--line);stroke-width:1}\n"
    "svg .ok{fill:var(--ok)}svg .bad{fill:var(--bad)}svg .hist{fill:var(--acc)}\n"
    "svg .mark{stroke-width:1.5;stroke-dasharray:4 3}\n"
    "svg .m50{stroke:var(--text)}svg .m95{stroke:var(--warn)}"
    "svg .m99{stroke:var(--bad)}\n"
    "svg text.m50{fill:var(--text)}svg text.m95{fill:var(--warn)}"
    "svg text.m99{fill:var(--bad)}\n"
    ".legend{color:var(--mute);font-size:12px;margin-top:4px}\n"
    ".legend i{display:inline-block;width:10px;height:10px;border-radius:2px;"
    "margin:0 5px 0 12px;vertical-align:-1px}\n"
    ".legend i.ok{background:var(--ok)}.legend i.bad{background:var(--bad)}\n"
    ".legend i.m50,.legend i.m95,.legend i.m99{width:14px;height:0;"
    "border-radius:0;border-top:2px dashed;margin-left:14px;"
    "vertical-align:3px}\n"
    ".legend i.m50{color:var(--text)}.legend i.m95{color:var(--warn)}"
    ".legend i.m99{color:var(--bad)}\n"
    ".bars{list-style:none;margin:0;padding:0}\n"
    ".bars li{display:grid;grid-template-columns:minmax(0,1fr) 64px 58px;"
    "gap:10px;align-items:center;padding:4px 0}\n"
    ".bars .name{position:relative;padding:3px 8px;overflow:hidden;"
    "text-overflow:ellipsis;white-space:nowrap;z-index:0}\n"
    ".bars .fill{position:absolute;left:0;top:0;bottom:0;z-index:-1;"
    "background:rgba(229,83,75,.28);border-radius:4px}\n"
    ".bars .n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".bars .p{text-align:right;color:var(--mute);"
    "font-variant-numeric:tabular-nums}\n"
    ".slow td{font-size:13px;padding:5px 8px}\n"
    ".slow td.cmd{max-width:280px;overflow:hidden;text-overflow:ellipsis;"
    "color:var(--mute);font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:12px}\n"
    ".st-failed{color:var(--bad)}.st-running{color:var(--warn)}"
    ".st-completed{color:var(--ok)}\n"
    ".rate{display:inline-flex;align-items:center;gap:8px}\n"
    ".meter{display:inline-block;width:90px;height:8px;border-radius:4px;"
    "background:var(--line);overflow:hidden}\n"
    ".meter b{display:block;height:100%}\n"
    ".meter b.good{background:var(--ok)}.meter b.fair{background:var(--warn)}"
    ".meter b.poor{background:var(--bad)}\n"
    ".none{color:var(--mute);font-style:italic;padding:8px 0}\n"
    "footer{color:var(--mute);font-size:12px;text-align:center;"
    "margin-top:8px}\n"
    "@media (max-width:1000px){.grid{grid-template-columns:1fr}}\n";

/* "2026-12-03T14:05:00Z" as a short label for the bucket size. */
static void
bucket_label(FILE *fp, const char *iso, const char *bucket)
{
	if (iso == NULL || strlen(iso) < 16) {
		html(fp, iso, 20);
		return;
	}
	if (strcmp(bucket, "minute") == 0)
		fprintf(fp, "%.5s", iso + 11);
	else if (strcmp(bucket, "hour") == 0)
		fprintf(fp, "%.5s %.2sh", iso + 5, iso + 11);
	else
		fprintf(fp, "%.5s", iso + 5);
}

/* A round number at least v for the top of an axis, whose half (the
 * middle grid line) is a whole number too: 2, 4, 10, 20, 40, 100... */
static long long
nice_max(long long v)
{
	long long m = 1;

	if (v <= 2)
		return 2;
	while (m * 10 < v)
		m *= 10;
	if (v <= m * 2)
		return m * 2;
	if (v <= m * 4)
		return m * 4;
	return m * 10;
}

struct bucket {
	char when[32];
	long long runs, ok;
};

/*
 * timeline - the chart of runs per bucket, completed below and failed
 * stacked on them, from SKM_Q_TIMELINE.
 */
static int
timeline(FILE *fp, struct skm_db *db, const char *skill,
    struct report_opts *o)
{
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	struct bucket *b = NULL, *nb;
	size_t n = 0, cap = 0, i;
	long long max = 0, top, runs = 0, failed = 0;
	double pw = CW - ML - 8, ph = CH - MT - MB, bw, x, h1, h2;
	int rc, r;

	qa.skill = skill;
	qa.since = o->since;
	qa.bucket = o->bucket;
	if ((rc = skm_query_open(db, SKM_Q_TIMELINE, &qa, &c)) != SKM_OK)
		return rc;
	while ((r = skm_cursor_step(c)) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nb = reallocarray(b, cap, sizeof(*b))) == NULL) {
				free(b);
				skm_cursor_close(c);
				return SKM_NOMEM;
			}
			b = nb;
		}
		snprintf(b[n].when, sizeof(b[n].when), "%s",
		    text(c, "bucket") ? text(c, "bucket") : "");
		b[n].runs = (long long)real(c, "invocations");
		b[n].ok = (long long)real(c, "completed");
		if (b[n].runs > max)
			max = b[n].runs;
		runs += b[n].runs;
		failed += b[n].runs - b[n].ok;
		n++;
	}
	skm_cursor_close(c);
	if (r < 0) {
		free(b);
		return SKM_ERROR;
	}
	if (n > MAX_BUCKETS) {
		free(b);
		o->why = "too many buckets for a chart: use a larger "
		    "--bucket or a later --since";
		return SKM_MISUSE;
	}
	top = nice_max(max);
	bw = n ? pw / (double)n : pw;
	fprintf(fp, "<svg class=\"timeline\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" data-runs=\"%lld\" data-failed=\"%lld\">"
	    "<title>runs per %s: %lld, of which %lld failed</title>\n",
	    CW, CH, runs, failed, o->bucket, runs, failed);
	/* grid: the top and the middle */
	for (i = 0; i <= 2; i++) {
		double y = MT + ph * (double)i / 2;

		fprintf(fp, "<line class=\"grid-line\" x1=\"%d\" x2=\"%d\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/>", ML, CW - 8, y, y);
		if (i < 2)
			fprintf(fp, "<text x=\"%d\" y=\"%.1f\" "
			    "text-anchor=\"end\">%lld</text>", ML - 6, y + 4,
			    top * (long long)(2 - i) / 2);
	}
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
	    ML - 6, MT + (int)ph + 4);
	for (i = 0; i < n; i++) {
		x = ML + bw * (double)i + bw * 0.12;
		h1 = ph * (double)b[i].ok / (double)top;
		h2 = ph * (double)(b[i].runs - b[i].ok) / (double)top;
		fprintf(fp, "<g class=\"b\" data-bucket=\"");
		html(fp, b[i].when, 0);
		fprintf(fp, "\" data-runs=\"%lld\" data-failed=\"%lld\">"
		    "<title>", b[i].runs, b[i].runs - b[i].ok);
		html(fp, b[i].when, 0);
		fprintf(fp, ": %lld run%s, %lld failed</title>", b[i].runs,
		    b[i].runs == 1 ? "" : "s", b[i].runs - b[i].ok);
		if (h1 > 0)
			fprintf(fp, "<rect class=\"ok\" x=\"%.2f\" y=\"%.2f\" "
			    "width=\"%.2f\" height=\"%.2f\" rx=\"1.5\"/>", x,
			    MT + ph - h1, bw * 0.76 > 1 ? bw * 0.76 : 1, h1);
		if (h2 > 0)
			fprintf(fp, "<rect class=\"bad\" x=\"%.2f\" y=\"%.2f\" "
			    "width=\"%.2f\" height=\"%.2f\" rx=\"1.5\"/>", x,
			    MT + ph - h1 - h2, bw * 0.76 > 1 ? bw * 0.76 : 1,
			    h2);
		fputs("</g>\n", fp);
	}
	/* x labels: first, middle, last */
	for (i = 0; n > 0 && i < 3; i++) {
		size_t k = i == 0 ? 0 : i == 1 ? n / 2 : n - 1;
		const char *anchor = i == 0 ? "start" : i == 1 ? "middle" :
		    "end";

		if (i == 1 && n < 3)
			continue;
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">",
		    i == 0 ? ML : i == 2 ? CW - 8 : ML + bw * ((double)k +
		    0.5), CH - 5, anchor);
		bucket_label(fp, b[k].when, o->bucket);
		fputs("</text>", fp);
	}
	fputs("</svg>\n<div class=\"legend\"><i class=\"ok\"></i>completed"
	    "<i class=\"bad\"></i>did not complete</div>\n", fp);
	free(b);
	return SKM_OK;
}

/* x of duration d on the histogram's log axis from lo to hi. */
static double
log_x(double d, double lo, double hi, double pw)
{
	if (hi <= lo || d <= lo)
		return ML;
	if (d >= hi)
		return ML + pw;
	return ML + pw * (log(d) - log(lo)) / (log(hi) - log(lo));
}

/*
 * histogram - the skill's durations in NBINS log-spaced bins, with its
 * p50, p95 and p99 (from the show row) as dashed lines.
 */
static int
histogram(FILE *fp, struct skm_db *db, const char *skill,
    const struct skm_cursor *show)
{
	static const struct { const char *key, *cls, *label; } marks[] = {
		{ "p50_duration_seconds", "m50", "p50" },
		{ "p95_duration_seconds", "m95", "p95" },
		{ "p99_duration_seconds", "m99", "p99" },
	};
	double edges[NBINS + 1], pw = CW - ML - 8, ph = CH - MT - MB, bw, x;
	double lo, hi, h;
	long long counts[NBINS], max = 0, top, total = 0;
	char a[32], z[32], m[32];
	int rc, i;

	if ((rc = skm_histogram(db, skill, NBINS, edges, counts)) != SKM_OK)
		return rc;
	for (i = 0; i < NBINS; i++) {
		if (counts[i] > max)
			max = counts[i];
		total += counts[i];
	}
	if (total == 0) {
		fputs("<div class=\"none\">no completed run yet</div>\n", fp);
		return SKM_OK;
	}
	top = nice_max(max);
	lo = edges[0];
	hi = edges[NBINS];
	bw = pw / NBINS;
	fprintf(fp, "<svg class=\"histogram\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" data-runs=\"%lld\"><title>durations of %lld "
	    "completed runs</title>\n", CW, CH, total, total);
	for (i = 0; i <= 2; i++) {
		double y = MT + ph * (double)i / 2;

		fprintf(fp, "<line class=\"grid-line\" x1=\"%d\" x2=\"%d\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/>", ML, CW - 8, y, y);
		if (i < 2)
			fprintf(fp, "<text x=\"%d\" y=\"%.1f\" "
			    "text-anchor=\"end\">%lld</text>", ML - 6, y + 4,
			    top * (long long)(2 - i) / 2);
	}
	for (i = 0; i < NBINS; i++) {
		fmt_duration(edges[i], a, sizeof(a));
		fmt_duration(edges[i + 1], z, sizeof(z));
		h = ph * (double)counts[i] / (double)top;
		fprintf(fp, "<g data-count=\"%lld\"><title>%s \u2013 %s: "
		    "%lld run%s</title>", counts[i], a, z, counts[i],
		    counts[i] == 1 ? "" : "s");
		if (counts[i] > 0)
			fprintf(fp, "<rect class=\"hist\" x=\"%.2f\" "
			    "y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			    "rx=\"1.5\"/>", ML + bw * i + 1, MT + ph - h,
			    bw - 2, h < 1 ? 1 : h);
		fputs("</g>\n", fp);
	}
	for (i = 0; i < 3; i++) {
		if (is_null(show, marks[i].key))
			continue;
		x = log_x(real(show, marks[i].key), lo, hi, pw);
		fprintf(fp, "<line class=\"mark %s\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"%d\" y2=\"%.1f\"/>\n", marks[i].cls, x, x, MT,
		    MT + ph);
	}
	fmt_duration(lo, a, sizeof(a));
	fmt_duration(hi, z, sizeof(z));
	fmt_duration(sqrt(lo * hi), m, sizeof(m));
	fprintf(fp, "<text x=\"%d\" y=\"%d\">%s</text>"
	    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>"
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
	    "</svg>\n<div class=\"legend\">completed runs by duration, log "
	    "scale", ML, CH - 5, a, ML + pw / 2, CH - 5, m, CW - 8, CH - 5, z);
	for (i = 0; i < 3; i++) {
		if (is_null(show, marks[i].key))
			continue;
		fmt_duration(real(show, marks[i].key), m, sizeof(m));
		fprintf(fp, "<i class=\"%s\"></i>%s %s", marks[i].cls,
		    marks[i].label, m);
	}
	fputs("</div>\n", fp);
	return SKM_OK;
}

/* errors - the skill's error types with counts and shares. */
static int
errors(FILE *fp, struct skm_db *db, const char *skill)
{
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	double max = 0;
	int rc, r, n = 0;

	qa.skill = skill;
	qa.limit = NERRORS;
	if ((rc = skm_query_open(db, SKM_Q_ERRORS, &qa, &c)) != SKM_OK)
		return rc;
	fputs("<ul class=\"bars errors\">\n", fp);
	while ((r = skm_cursor_step(c)) > 0) {
		if (n++ == 0)
			max = real(c, "error_rate");
		fprintf(fp, "<li><span class=\"name\" title=\"");
		html(fp, text(c, "error_type"), 0);
		fprintf(fp, "\"><span class=\"fill\" style=\"width:%.1f%%\">"
		    "</span>", max > 0 ? 100 * real(c, "error_rate") / max :
		    0);
		html(fp, text(c, "error_type"), 60);
		fputs("</span><span class=\"n\"", fp);
		data_value(fp, c, "count");
		fputs(">", fp);
		shown(fp, c, "count");
		fputs("</span><span class=\"p\"", fp);
		data_value(fp, c, "error_rate");
		fputs(">", fp);
		shown(fp, c, "error_rate");
		fputs("</span></li>\n", fp);
	}
	fputs("</ul>\n", fp);
	if (n == 0 && r == 0)
		fputs("<div class=\"none\">no errors</div>\n", fp);
	skm_cursor_close(c);
	return r < 0 ? SKM_ERROR : SKM_OK;
}

struct slow {
	double d;
	char *when, *status, *err, *wf, *cmd, *id;
};

static int
by_duration(const void *a, const void *b)
{
	const struct slow *x = a, *y = b;

	return x->d < y->d ? 1 : x->d > y->d ? -1 : 0;
}

static char *
sdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* slowest - the slowest of the skill's latest runs, from SKM_Q_RECENT. */
static int
slowest(FILE *fp, struct skm_db *db, const char *skill)
{
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	struct slow *v;
	char d[32];
	size_t n = 0, i;
	int rc, r;

	qa.skill = skill;
	qa.limit = NRECENT;
	if ((v = calloc(NRECENT, sizeof(*v))) == NULL)
		return SKM_NOMEM;
	if ((rc = skm_query_open(db, SKM_Q_RECENT, &qa, &c)) != SKM_OK) {
		free(v);
		return rc;
	}
	while ((r = skm_cursor_step(c)) > 0 && n < NRECENT) {
		if (is_null(c, "duration_seconds"))
			continue;
		v[n].d = real(c, "duration_seconds");
		v[n].when = sdup(text(c, "invoked_at"));
		v[n].status = sdup(text(c, "status"));
		v[n].err = sdup(text(c, "error_type"));
		v[n].wf = sdup(text(c, "workflow_path"));
		v[n].cmd = sdup(text(c, "command"));
		v[n].id = sdup(text(c, "id"));
		n++;
	}
	skm_cursor_close(c);
	qsort(v, n, sizeof(*v), by_duration);
	if (n == 0)
		fputs("<div class=\"none\">no ended run yet</div>\n", fp);
	else
		fputs("<table class=\"slow\"><tr><th class=\"l\">started</th>"
		    "<th>duration</th><th class=\"l\">status</th>"
		    "<th class=\"l\">workflow</th><th class=\"l\">command</th>"
		    "</tr>\n", fp);
	for (i = 0; i < n && i < NSLOW; i++) {
		fmt_duration(v[i].d, d, sizeof(d));
		fputs("<tr data-id=\"", fp);
		html(fp, v[i].id, 0);
		fputs("\"><td>", fp);
		when(fp, v[i].when);
		fprintf(fp, "</td><td data-value=\"%.17g\">%s</td>"
		    "<td class=\"l st-", v[i].d, d);
		html(fp, v[i].status, 0);
		fputs("\">", fp);
		html(fp, v[i].err != NULL ? v[i].err : v[i].status, 24);
		fputs("</td><td class=\"l\">", fp);
		html(fp, v[i].wf != NULL ? v[i].wf : "\u2013", 28);
		fputs("</td><td class=\"l cmd\" title=\"", fp);
		html(fp, v[i].cmd, 200);
		fputs("\">", fp);
		html(fp, v[i].cmd, 48);
		fputs("</td></tr>\n", fp);
	}
	if (n > 0)
		fputs("</table>\n", fp);
	for (i = 0; i < n; i++) {
		free(v[i].when);
		free(v[i].status);
		free(v[i].err);
		free(v[i].wf);
		free(v[i].cmd);
		free(v[i].id);
	}
	free(v);
	return r < 0 ? SKM_ERROR : SKM_OK;
}

/* skill - one skill's card. */
static int
skill_card(FILE *fp, struct skm_db *db, const char *skill, int k,
    struct report_opts *o)
{
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	int rc, r;

	qa.skill = skill;
	if ((rc = skm_query_open(db, SKM_Q_SHOW, &qa, &c)) != SKM_OK)
		return rc;
	if ((r = skm_cursor_step(c)) <= 0) {
		skm_cursor_close(c);
		return r < 0 ? SKM_ERROR : SKM_NOTFOUND;
	}
	fprintf(fp, "<section class=\"card skill\" id=\"s%d\" data-skill=\"",
	    k);
	html(fp, skill, 0);
	fputs("\">\n<div class=\"head\"><h2>", fp);
	html(fp, skill, 80);
	fputs("</h2><span class=\"sub\">first run ", fp);
	when(fp, text(c, "first_invoked"));
	fputs(" \u00b7 last run ", fp);
	when(fp, text(c, "last_invoked"));
	fputs("</span></div>\n<div class=\"tiles\">\n", fp);
	tile(fp, c, "runs", "total_invocations", NULL);
	tile(fp, c, "completed", "completed_invocations", NULL);
	tile(fp, c, "completion", "completion_rate",
	    rate_class(real(c, "completion_rate")));
	tile(fp, c, "average", "avg_duration_seconds", NULL);
	tile(fp, c, "p50", "p50_duration_seconds", NULL);
	tile(fp, c, "p95", "p95_duration_seconds", NULL);
	tile(fp, c, "p99", "p99_duration_seconds", NULL);
	fputs("</div>\n<div class=\"grid\">\n<div class=\"panel\">"
	    "<h3>runs per ", fp);
	html(fp, o->bucket, 0);
	fputs("</h3>\n", fp);
	if ((rc = timeline(fp, db, skill, o)) != SKM_OK)
		goto done;
	fputs("</div>\n<div class=\"panel\"><h3>duration</h3>\n", fp);
	if ((rc = histogram(fp, db, skill, c)) != SKM_OK)
		goto done;
	fputs("</div>\n<div class=\"panel\"><h3>error mix</h3>\n", fp);
	if ((rc = errors(fp, db, skill)) != SKM_OK)
		goto done;
	fputs("</div>\n<div class=\"panel\"><h3>slowest recent runs</h3>\n",
	    fp);
	if ((rc = slowest(fp, db, skill)) != SKM_OK)
		goto done;
	fputs("</div>\n</div>\n</section>\n", fp);
done:
	skm_cursor_close(c);
	return rc;
}

/* The summary tiles at the top. */
static int
summary(FILE *fp, struct skm_db *db)
{
	struct skm_cursor *c = NULL;
	int rc, r;

	if ((rc = skm_query_open(db, SKM_Q_SUMMARY, NULL, &c)) != SKM_OK)
		return rc;
	if ((r = skm_cursor_step(c)) <= 0) {
		skm_cursor_close(c);
		return r < 0 ? SKM_ERROR : SKM_OK;
	}
	fputs("<div class=\"tiles summary\">\n", fp);
	tile(fp, c, "skills", "total_skills", NULL);
	tile(fp, c, "runs", "total_invocations", NULL);
	tile(fp, c, "completion", "overall_completion_rate",
	    rate_class(real(c, "overall_completion_rate")));
	tile(fp, c, "average duration", "avg_duration_seconds", NULL);
	tile(fp, c, "most used", "most_used_skill", NULL);
	fputs("</div>\n", fp);
	skm_cursor_close(c);
	return SKM_OK;
}

/* The table of all skills (SKM_Q_STATS); their names into *names. */
static int
overview(FILE *fp, struct skm_db *db, char ***names, size_t *n)
{
	static const char *const cols[] = { "total_invocations",
	    "completed_invocations", "avg_duration_seconds",
	    "p50_duration_seconds", "p95_duration_seconds",
	    "p99_duration_seconds" };
	struct skm_cursor *c = NULL;
	char **v;
	size_t i, cap = 0;
	int rc, r;
	double rate;

	*names = NULL;
	*n = 0;
	if ((rc = skm_query_open(db, SKM_Q_STATS, NULL, &c)) != SKM_OK)
		return rc;
	fputs("<section class=\"card\"><table class=\"overview\"><tr>"
	    "<th>skill</th><th>runs</th><th>completed</th><th>completion</th>"
	    "<th>average</th><th>p50</th><th>p95</th><th>p99</th>"
	    "<th>last run</th></tr>\n", fp);
	while ((r = skm_cursor_step(c)) > 0) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((v = reallocarray(*names, cap, sizeof(*v))) ==
			    NULL) {
				skm_cursor_close(c);
				return SKM_NOMEM;
			}
			*names = v;
		}
		if (((*names)[*n] = sdup(text(c, "skill_name"))) == NULL) {
			skm_cursor_close(c);
			return SKM_NOMEM;
		}
		fprintf(fp, "<tr data-skill=\"");
		html(fp, (*names)[*n], 0);
		fprintf(fp, "\"><td><a href=\"#s%zu\">", *n);
		html(fp, (*names)[*n], 48);
		fputs("</a></td>", fp);
		for (i = 0; i < 2; i++) {
			fputs("<td", fp);
			data_value(fp, c, cols[i]);
			putc('>', fp);
			shown(fp, c, cols[i]);
			fputs("</td>", fp);
		}
		rate = real(c, "completion_rate");
		fprintf(fp, "<td><span class=\"rate\"><span class=\"meter\">"
		    "<b class=\"%s\" style=\"width:%.1f%%\"></b></span>"
		    "<span", rate_class(rate), rate);
		data_value(fp, c, "completion_rate");
		putc('>', fp);
		shown(fp, c, "completion_rate");
		fputs("</span></span></td>", fp);
		for (i = 2; i < sizeof(cols) / sizeof(cols[0]); i++) {
			fputs("<td", fp);
			data_value(fp, c, cols[i]);
			putc('>', fp);
			shown(fp, c, cols[i]);
			fputs("</td>", fp);
		}
		fputs("<td>", fp);
		when(fp, text(c, "last_invoked"));
		fputs("</td></tr>\n", fp);
		(*n)++;
	}
	skm_cursor_close(c);
	if (*n == 0)
		fputs("<tr><td class=\"none\" colspan=\"9\">nothing recorded "
		    "yet</td></tr>\n", fp);
	fputs("</table></section>\n", fp);
	return r < 0 ? SKM_ERROR : SKM_OK;
}

int
report_write(FILE *fp, struct skm_db *db, struct report_opts *o)
{
	char now[32], **names = NULL;
	time_t t = time(NULL);
	struct tm tm;
	size_t n = 0, i;
	int rc;

	if (strcmp(o->bucket, "minute") != 0 && strcmp(o->bucket, "hour") != 0
	    && strcmp(o->bucket, "day") != 0 && strcmp(o->bucket, "week") != 0) {
		o->why = "bad --bucket: use minute, hour, day or week";
		return SKM_MISUSE;
	}
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">\n<title>skm report</title>\n<style>\n", fp);
	fputs(style, fp);
	fputs("</style></head>\n<body>\n<header><h1><span>skm</span> "
	    "skill report</h1><div class=\"meta\">", fp);
	html(fp, skm_path(db), 80);
	fputs("<br>runs per ", fp);
	html(fp, o->bucket, 0);
	fputs(" since ", fp);
	html(fp, o->since, 40);
	fprintf(fp, " \u00b7 generated %s</div></header>\n", now);
	if ((rc = summary(fp, db)) != SKM_OK)
		goto done;
	if ((rc = overview(fp, db, &names, &n)) != SKM_OK)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = skill_card(fp, db, names[i], (int)i, o)) != SKM_OK)
			goto done;
	fprintf(fp, "<footer>skm %s \u00b7 p50/p95/p99 exact over completed "
	    "runs \u00b7 completion = completed / ended runs</footer>\n"
	    "</body></html>\n", SKM_VERSION);
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/*
 * skm report [-o FILE] [--since T] [--bucket B]: the page, written whole
 * to a temporary file beside FILE and renamed into place, so a wall
 * display reloading it never sees half a page.
 */
int
cmd_report(struct cmd_ctx *ctx)
{
	struct report_opts ro = { "30d", "day", NULL };
	const char *file = cmd_arg(ctx, "output");
	char tmp[PATH_MAX];
	FILE *fp = stdout;
	int r, rc, fd;

	if (cmd_arg(ctx, "since") != NULL)
		ro.since = cmd_arg(ctx, "since");
	if (cmd_arg(ctx, "bucket") != NULL)
		ro.bucket = cmd_arg(ctx, "bucket");
	if (file != NULL && strcmp(file, "-") == 0)
		file = NULL;
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (file != NULL) {
		if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file) >=
		    (int)sizeof(tmp) || (fd = mkstemp(tmp)) < 0) {
			warn("%s", cmd_safe(file));
			return EXIT_DATA;
		}
		if ((fp = fdopen(fd, "w")) == NULL) {
			warn("%s", cmd_safe(file));
			close(fd);
			unlink(tmp);
			return EXIT_DATA;
		}
	}
	rc = report_write(fp, ctx->db, &ro);
	if (rc == SKM_MISUSE && ro.why != NULL)
		r = cmd_usage_error(ctx, "%s", ro.why);
	else
		r = rc == SKM_OK ? 0 : cmd_fail(ctx, rc);
	if (file == NULL)
		return r;
	if ((fflush(fp) == EOF || ferror(fp)) && r == 0) {
		warn("%s", cmd_safe(file));
		r = EXIT_DATA;
	}
	/* mkstemp made it 0600; a report is for others to read */
	(void)fchmod(fileno(fp), 0644);
	fclose(fp);
	if (r == 0 && rename(tmp, file) != 0) {
		warn("%s", cmd_safe(file));
		r = EXIT_DATA;
	}
	if (r != 0)
		unlink(tmp);
	return r;
}
