/*
 * cmd-trace.c - `skm trace [ID]`: an invocation and everything it
 * started, as a tree in the terminal.
 *
 * One line per run, indented under the run that started it, with its
 * status, its start (after the root's) and duration, and a bar placed on
 * the span of the whole trace; the runs on the critical path (the chain
 * the root waited for, see skm_trace in skm.h) are marked with '*'.  A
 * run still running has a light bar to the end of the trace and
 * "running" for a duration.  The runs come from skm_trace(); every text
 * from the store goes through fmt_safe() before it is printed.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "skm.h"
#include "cmd.h"
#include "fmt.h"
#include "safeout.h"
#include "views.h"

#define NAME_MAX_W 48		/* columns for the tree and the skill */
#define STATUS_MAX_W 18
#define DEPTH_SHOWN 64

struct line {
	char *name;		/* tree prefix and skill, printable */
	char *status;		/* printable */
	char *command;		/* printable, or NULL */
	int namew, statusw;
	int critical, running;
	double start, end, duration;
};

struct lines {
	struct line *v;
	size_t n, cap;
	double span;
	int lastat[DEPTH_SHOWN + 1];	/* was the run at this depth last? */
	int failed;			/* out of memory */
	char path[512];			/* the critical chain, printable */
	int npath;
};

/* Append s to the critical chain (at most a few names, then "…"). */
static void
path_add(struct lines *ls, const char *name)
{
	if (ls->npath < 6)
		snprintf(ls->path + strlen(ls->path), sizeof(ls->path) -
		    strlen(ls->path), "%s%s", ls->npath ? " \u2192 " : "",
		    name);
	else if (ls->npath == 6)
		strlcat(ls->path, " \u2192 \u2026", sizeof(ls->path));
	ls->npath++;
}

/* skm_trace's callback: keep one line per run. */
static int
collect(void *arg, const struct skm_trace_run *r)
{
	struct lines *ls = arg;
	struct line *l;
	char prefix[4 * 3 * DEPTH_SHOWN + 1] = "", *skill;
	int d, depth = r->depth < DEPTH_SHOWN ? r->depth : DEPTH_SHOWN;

	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 64;
		struct line *v = reallocarray(ls->v, cap, sizeof(*v));

		if (v == NULL)
			goto oom;
		ls->v = v;
		ls->cap = cap;
	}
	l = &ls->v[ls->n];
	memset(l, 0, sizeof(*l));
	/* The tree lines: a bar for every ancestor that has siblings
	 * still to come, then this run's own branch. */
	ls->lastat[depth] = r->last;
	for (d = 1; d < depth; d++)
		strlcat(prefix, ls->lastat[d] ? "   " : "\u2502  ",
		    sizeof(prefix));
	if (depth > 0)
		strlcat(prefix, r->last ? "\u2514\u2500 " : "\u251c\u2500 ",
		    sizeof(prefix));
	if ((skill = fmt_safe(r->skill, 0, NULL)) == NULL)
		goto oom;
	if (r->critical)
		path_add(ls, skill);
	l->name = malloc(strlen(prefix) + strlen(skill) + 1);
	if (l->name == NULL) {
		free(skill);
		goto oom;
	}
	strcpy(l->name, prefix);
	strcat(l->name, skill);
	free(skill);
	/* cut to width, keeping what fmt_safe measures */
	skill = fmt_safe(l->name, NAME_MAX_W, &l->namew);
	free(l->name);
	if ((l->name = skill) == NULL)
		goto oom;
	l->status = fmt_safe(strcmp(r->status, "failed") == 0 &&
	    r->error_type != NULL ? r->error_type : r->status, STATUS_MAX_W,
	    &l->statusw);
	if (l->status == NULL) {
		free(l->name);
		goto oom;
	}
	if (r->command != NULL &&
	    (l->command = fmt_safe(r->command, 0, NULL)) == NULL) {
		free(l->name);
		free(l->status);
		goto oom;
	}
	l->critical = r->critical;
	l->running = strcmp(r->status, "running") == 0;
	l->start = r->start;
	l->end = r->end;
	l->duration = r->duration;
	ls->span = r->span;
	ls->n++;
	return 0;
oom:
	ls->failed = 1;
	return 1;
}

static void
pad(FILE *fp, int n)
{
	while (n-- > 0)
		putc(' ', fp);
}

/* The bar of one run: cells [a, b) of width w on the span.  Returns
 * the columns printed (b). */
static int
bar(FILE *fp, const struct line *l, double span, int w)
{
	int a, b, i;

	if (span <= 0) {
		a = 0;
		b = 1;
	} else {
		a = (int)(l->start / span * w);
		b = (int)(l->end / span * w + 0.5);
	}
	if (a < 0)
		a = 0;
	if (a > w - 1)
		a = w - 1;
	if (b <= a)
		b = a + 1;
	if (b > w)
		b = w;
	pad(fp, a);
	for (i = a; i < b; i++)
		fputs(l->running ? "\u2591" : "\u2588", fp);
	return b;
}

int
trace_print(FILE *fp, struct skm_db *db, const char *id, int width)
{
	struct lines ls;
	char s[32], d[32], spanbuf[32], *cmd;
	int rc, namew = 3, statusw = 6, w, sw = 5, dw = 8, cw;
	size_t i;

	memset(&ls, 0, sizeof(ls));
	rc = skm_trace(db, id, collect, &ls);
	if (rc == SKM_OK && ls.failed)
		rc = SKM_NOMEM;
	if (rc != SKM_OK)
		goto done;
	for (i = 0; i < ls.n; i++) {
		if (ls.v[i].namew > namew)
			namew = ls.v[i].namew;
		if (ls.v[i].statusw > statusw)
			statusw = ls.v[i].statusw;
		fmt_duration(ls.v[i].start, s, sizeof(s));
		if ((int)strlen(s) > sw)
			sw = (int)strlen(s);
	}
	/* The bar gets what is left of the line, within reason, and the
	 * command what is left after it. */
	w = width - (2 + namew + 2 + statusw + 2 + sw + 2 + dw + 2 + 24);
	if (w < 20)
		w = 20;
	if (w > 50)
		w = 50;
	cw = width - (2 + namew + 2 + statusw + 2 + sw + 2 + dw + 2 + w + 2);
	if (cw < 16)
		cw = 16;
	fmt_duration(ls.span, spanbuf, sizeof(spanbuf));
	fprintf(fp, "  %-*s  %-*s  %*s  %*s  0", namew, "run", statusw,
	    "status", sw, "start", dw, "duration");
	pad(fp, w - 1 - (int)strlen(spanbuf));
	fprintf(fp, "%s  command\n", spanbuf);
	for (i = 0; i < ls.n; i++) {
		const struct line *l = &ls.v[i];

		fmt_duration(l->start, s, sizeof(s));
		if (l->running)
			strlcpy(d, "running", sizeof(d));
		else
			fmt_duration(l->duration, d, sizeof(d));
		fprintf(fp, "%c %s", l->critical ? '*' : ' ', l->name);
		pad(fp, namew - l->namew);
		fprintf(fp, "  %s", l->status);
		pad(fp, statusw - l->statusw);
		fprintf(fp, "  %*s  %*s  ", sw, s, dw, d);
		pad(fp, w - bar(fp, l, ls.span, w));
		if (l->command != NULL &&
		    (cmd = fmt_safe(l->command, cw, NULL)) != NULL) {
			fprintf(fp, "  %s", cmd);
			free(cmd);
		}
		putc('\n', fp);
	}
	fprintf(fp, "%zu run%s; * critical path (%d run%s): %s\n", ls.n,
	    ls.n == 1 ? "" : "s", ls.npath, ls.npath == 1 ? "" : "s",
	    ls.path);
done:
	for (i = 0; i < ls.n; i++) {
		free(ls.v[i].name);
		free(ls.v[i].status);
		free(ls.v[i].command);
	}
	free(ls.v);
	return rc;
}

/* The width of the terminal: the window's, else $COLUMNS, else 100. */
static int
term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	int n;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) ==
	    0 && ws.ws_col >= 40)
		return ws.ws_col;
	if (cols != NULL && (n = atoi(cols)) >= 40 && n <= 1000)
		return n;
	return 100;
}

/* skm trace [ID] [--json] */
int
cmd_trace(struct cmd_ctx *ctx)
{
	const char *id = ctx->argc > 0 ? ctx->argv[0] : NULL;
	char *out = NULL;
	int r, rc;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (ctx->json) {
		/* through safeout.c, as every JSON skm prints */
		if ((rc = skm_trace_json(ctx->db, id, &out)) == SKM_OK) {
			FILE *o = safeout_open(stdout, SAFEOUT_JSON, 0);

			if (o == NULL) {
				skm_free(out);
				warn(NULL);
				return EXIT_DATA;
			}
			fprintf(o, "%s\n", out);
			if (fclose(o) != 0) {
				skm_free(out);
				return EXIT_DATA;
			}
		}
		skm_free(out);
	} else
		rc = trace_print(stdout, ctx->db, id, term_width());
	return rc == SKM_OK ? 0 : cmd_fail(ctx, rc);
}
