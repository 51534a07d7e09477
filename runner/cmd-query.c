/*
 * cmd-query.c - the commands that read the store and print what a query
 * returns: stats, show, summary, recent, timeline, search, errors,
 * session.
 *
 * Every one goes through libskm's queries (this program never writes
 * SQL) and prints either the library's JSON document as it is (--json)
 * or a human table made by fmt.c from the same query's cursor.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skm.h"
#include "cmd.h"
#include "fmt.h"
#include "safeout.h"

#define NOTFOUND (-1)	/* print_record: the query had no row */

/* --json: print the library's document, made safe for a terminal
 * (safeout.c: controls escaped as \uXXXX, the same JSON text). */
static int
print_json(struct cmd_ctx *ctx, enum skm_query q,
    const struct skm_query_args *qa)
{
	char *out = NULL;
	FILE *o;
	int rc;

	if ((rc = skm_query_json(ctx->db, q, qa, &out)) != SKM_OK) {
		if (rc == SKM_NOTFOUND && (q == SKM_Q_SHOW ||
		    q == SKM_Q_SHOW_PERSISTED)) {
			warnx("no such skill: %s", cmd_safe(qa->skill));
			return EXIT_DATA;
		}
		return cmd_fail(ctx, rc);
	}
	if ((o = safeout_open(stdout, SAFEOUT_JSON, 0)) == NULL) {
		warn(NULL);
		skm_free(out);
		return EXIT_DATA;
	}
	fprintf(o, "%s\n", out);
	skm_free(out);
	return fclose(o) == 0 ? 0 : EXIT_DATA;
}

/* Print query q as a table (empty: the text shown for no rows, or NULL
 * for just the header). */
static int
print_table(struct cmd_ctx *ctx, enum skm_query q,
    const struct skm_query_args *qa, const char *empty)
{
	struct skm_cursor *c = NULL;
	int rc;

	if ((rc = skm_query_open(ctx->db, q, qa, &c)) != SKM_OK)
		return cmd_fail(ctx, rc);
	if (fmt_table(stdout, c, empty) < 0) {
		skm_cursor_close(c);
		return cmd_fail(ctx, SKM_ERROR);
	}
	skm_cursor_close(c);
	return 0;
}

/*
 * print_record - print the one row of query q as "key: value" lines,
 * leaving out the columns in skip.  Returns 0, NOTFOUND when the query
 * has no row (an unknown skill), or the exit status of a failure.
 */
static int
print_record(struct cmd_ctx *ctx, enum skm_query q,
    const struct skm_query_args *qa, const char *const *skip)
{
	struct skm_cursor *c = NULL;
	int rc, r;

	rc = skm_query_open(ctx->db, q, qa, &c);
	if (rc == SKM_NOTFOUND)
		return NOTFOUND;
	if (rc != SKM_OK)
		return cmd_fail(ctx, rc);
	if ((r = skm_cursor_step(c)) <= 0) {
		skm_cursor_close(c);
		return r == 0 ? NOTFOUND : cmd_fail(ctx, SKM_ERROR);
	}
	if (fmt_record(stdout, c, skip) < 0) {
		skm_cursor_close(c);
		warnx("out of memory");
		return EXIT_DATA;
	}
	skm_cursor_close(c);
	return 0;
}

/* The plain query commands: open the store, print q as --json or as a
 * table (empty: what to say for no rows). */
static int
run_query(struct cmd_ctx *ctx, enum skm_query q,
    const struct skm_query_args *qa, const char *empty)
{
	int r;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	return ctx->json ? print_json(ctx, q, qa) :
	    print_table(ctx, q, qa, empty);
}

int
cmd_stats(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	return run_query(ctx, SKM_Q_STATS, &qa, "no skills recorded yet");
}

int
cmd_show(struct cmd_ctx *ctx)
{
	/* Shown below as rows of SKM_Q_SHOW_COUNTS instead of JSON text. */
	static const char *const maps[] = { "workflow_paths",
	    "common_errors", "follow_up_actions", NULL };
	struct skm_query_args qa = { 0 };
	enum skm_query q = SKM_Q_SHOW;
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	qa.skill = ctx->argv[0];
	if (cmd_count(ctx, "persisted") > 0)
		q = SKM_Q_SHOW_PERSISTED;
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (ctx->json)
		return print_json(ctx, q, &qa);
	if ((r = print_record(ctx, q, &qa, maps)) == NOTFOUND) {
		warnx("no such skill: %s", cmd_safe(qa.skill));
		return EXIT_DATA;
	}
	if (r != 0)
		return r;
	putchar('\n');
	return print_table(ctx, SKM_Q_SHOW_COUNTS, &qa,
	    "no workflow paths, errors or follow-up actions recorded");
}

int
cmd_summary(struct cmd_ctx *ctx)
{
	static const char *const tops[] = { "top_error_types",
	    "top_workflow_paths", NULL };
	struct skm_query_args qa = { 0 };
	long long top = 5;
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	if ((r = cmd_number(ctx, "top", 1, 1000000, &top)) != 0)
		return r;
	qa.limit = (long)top;
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (ctx->json)
		return print_json(ctx, SKM_Q_SUMMARY, &qa);
	if ((r = print_record(ctx, SKM_Q_SUMMARY, &qa, tops)) == NOTFOUND) {
		/* The summary always has its one row; say so if not. */
		warnx("summary query returned no row");
		return EXIT_DATA;
	}
	if (r != 0)
		return r;
	/* The top lists as tables rather than JSON text. */
	printf("\ntop error types:\n");
	if ((r = print_table(ctx, SKM_Q_ERRORS, &qa, "  none")) != 0)
		return r;
	printf("\ntop workflow paths:\n");
	return print_table(ctx, SKM_Q_WORKFLOWS, &qa, "  none");
}

int
cmd_recent(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	long long n = 0;
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	if ((r = cmd_number(ctx, "limit", 1, 1000000000, &n)) != 0)
		return r;
	qa.limit = (long)n;
	qa.skill = cmd_arg(ctx, "skill");
	qa.failed = cmd_count(ctx, "failed") > 0;
	return run_query(ctx, SKM_Q_RECENT, &qa, NULL);
}

/*
 * sparkline - the invocations column of the timeline, read again from
 * the query, as a line of block characters.
 */
static int
sparkline(struct cmd_ctx *ctx, const struct skm_query_args *qa)
{
	struct skm_cursor *c = NULL;
	long long *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int rc, r, col, ncol;

	if ((rc = skm_query_open(ctx->db, SKM_Q_TIMELINE, qa, &c)) != SKM_OK)
		return cmd_fail(ctx, rc);
	ncol = skm_cursor_columns(c);
	for (col = 0; col < ncol; col++)
		if (strcmp(skm_cursor_name(c, col), "invocations") == 0)
			break;
	while ((r = skm_cursor_step(c)) == 1 && col < ncol) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				warn(NULL);
				r = -2;
				break;
			}
			v = nv;
		}
		v[n++] = skm_cursor_int(c, col);
	}
	skm_cursor_close(c);
	if (r < 0) {
		free(v);
		return r == -2 ? EXIT_DATA : cmd_fail(ctx, SKM_ERROR);
	}
	putchar('\n');
	fmt_sparkline(stdout, v, n);
	free(v);
	return 0;
}

int
cmd_timeline(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	qa.skill = ctx->argv[0];
	qa.bucket = cmd_arg(ctx, "bucket");
	qa.since = cmd_arg(ctx, "since");
	qa.until = cmd_arg(ctx, "until");
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (ctx->json)
		return print_json(ctx, SKM_Q_TIMELINE, &qa);
	if ((r = print_table(ctx, SKM_Q_TIMELINE, &qa, NULL)) != 0)
		return r;
	return sparkline(ctx, &qa);
}

/* The operands joined by spaces: `skm search ci full` = "ci full". */
static char *
join_operands(int argc, char **argv)
{
	size_t n = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	*s = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strlcat(s, " ", n);
		strlcat(s, argv[i], n);
	}
	return s;
}

int
cmd_search(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	long long n = 0;
	char *text;
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	if ((r = cmd_number(ctx, "limit", 1, 1000000000, &n)) != 0)
		return r;
	qa.limit = (long)n;
	if ((text = join_operands(ctx->argc, ctx->argv)) == NULL) {
		warn(NULL);
		return EXIT_DATA;
	}
	qa.text = text;
	r = run_query(ctx, SKM_Q_SEARCH, &qa, "no matches");
	free(text);
	return r;
}

int
cmd_errors(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	long long n = 0;
	int r;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	if ((r = cmd_number(ctx, "limit", 1, 1000000000, &n)) != 0)
		return r;
	qa.limit = (long)n;
	qa.skill = cmd_arg(ctx, "skill");
	return run_query(ctx, SKM_Q_ERRORS, &qa, "no errors recorded");
}

int
cmd_session(struct cmd_ctx *ctx)
{
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	int r, rc;

	if ((r = cmd_hosts(ctx, &qa)) != 0)
		return r;
	qa.session = ctx->argv[0];
	if ((r = cmd_store(ctx)) != 0)
		return r;
	/* A session nothing was counted in is unknown, as for end-session. */
	if ((rc = skm_query_open(ctx->db, SKM_Q_SESSION, &qa, &c)) != SKM_OK)
		r = cmd_fail(ctx, rc);
	else if ((rc = skm_cursor_step(c)) <= 0) {
		if (rc < 0)
			r = cmd_fail(ctx, SKM_ERROR);
		else {
			warnx("no such session: %s", cmd_safe(qa.session));
			r = EXIT_DATA;
		}
	} else if (ctx->json)
		r = print_json(ctx, SKM_Q_SESSION, &qa);
	else
		r = print_table(ctx, SKM_Q_SESSION, &qa, NULL);
	skm_cursor_close(c);
	return r;
}
