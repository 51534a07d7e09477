/*
 * cmd-fleet.c - the commands that talk to a PostgreSQL server: sync and
 * server init; and what the global options --server and --host give the
 * query commands (cmd_server_store, cmd_hosts).
 *
 * A server connection string is libpq's (keyword=value or a postgresql://
 * URI).  It is never printed: libpq's own messages say what failed, and a
 * string holding a password is refused by the library before anything is
 * sent.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skm.h"
#include "cmd.h"

/* The server a command was given: --to, else --server, else $SKM_SERVER
 * (NULL: the library reads it). */
static const char *
server_url(const struct cmd_ctx *ctx, const char *opt)
{
	const char *url = opt != NULL ? cmd_arg(ctx, opt) : NULL;

	if (url == NULL)
		url = cmd_arg(ctx, "server");
	return url != NULL && *url != '\0' ? url : NULL;
}

/*
 * open_server - connect (flags: SKM_SERVER_INIT to create or migrate the
 * schema).  On failure says why and returns the exit status: 2 for a
 * connection string skm refuses, 1 for everything else.
 */
static int
open_server(const struct cmd_ctx *ctx, const char *url, int flags,
    struct skm_db **srv)
{
	int rc;

	if (!skm_server_support()) {
		warnx("this build of skm has no PostgreSQL support (libpq-dev "
		    "was missing when it was built)");
		return EXIT_DATA;
	}
	if (url == NULL && (getenv("SKM_SERVER") == NULL ||
	    *getenv("SKM_SERVER") == '\0')) {
		warnx("no server: give one with --%s URL or set SKM_SERVER",
		    strcmp(ctx->cmd->name, "sync") == 0 ? "to" : "server");
		return EXIT_USAGE;
	}
	rc = skm_server_open(url, flags, srv);
	if (rc == SKM_OK)
		return 0;
	warnx("%s", cmd_safe(*srv != NULL ? skm_errmsg(*srv) :
	    skm_errstr(rc)));
	skm_close(*srv);
	*srv = NULL;
	return rc == SKM_MISUSE ? EXIT_USAGE : EXIT_DATA;
}

/*
 * cmd_server_store - for a query command given --server: the server
 * handle into ctx->db, in place of the store.  Returns 0 or the exit
 * status.
 */
int
cmd_server_store(struct cmd_ctx *ctx)
{
	return open_server(ctx, server_url(ctx, NULL), 0, &ctx->db);
}

/* cmd_hosts - --host H... into the query's arguments; 0, or the exit
 * status of a failure. */
int
cmd_hosts(const struct cmd_ctx *ctx, struct skm_query_args *qa)
{
	static const char **hosts;
	int n = 0;

	if (cmd_count(ctx, "host") == 0)
		return 0;
	free(hosts);
	if ((hosts = cmd_args(ctx, "host", &n)) == NULL) {
		warn(NULL);
		return EXIT_DATA;
	}
	qa->hosts = hosts;
	qa->nhosts = n;
	return 0;
}

struct progress {
	int tty;
	double start;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A progress line on a terminal, for pushes of more than one batch. */
static void
progress(void *arg, long long done, long long total)
{
	struct progress *p = arg;
	int pct;

	if (!p->tty || total <= 0)
		return;
	pct = done >= total ? 100 : (int)(100 * done / total);
	fprintf(stderr, "\rskm sync: %lld/%lld invocations (%d%%)", done,
	    total, pct);
	fflush(stderr);
}

int
cmd_sync(struct cmd_ctx *ctx)
{
	struct skm_sync_args sa = { 0 };
	struct skm_sync_result res;
	struct progress p;
	struct skm_db *srv = NULL;
	long long batch = 0;
	double t;
	int r, rc;

	if ((r = cmd_number(ctx, "batch", 1, 100000, &batch)) != 0)
		return r;
	if (!skm_server_support()) {
		warnx("this build of skm has no PostgreSQL support (libpq-dev "
		    "was missing when it was built)");
		return EXIT_DATA;
	}
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if ((r = open_server(ctx, server_url(ctx, "to"), SKM_SERVER_INIT,
	    &srv)) != 0)
		return r;
	p.tty = !ctx->json && isatty(STDERR_FILENO);
	p.start = t = now_s();
	sa.batch = (int)batch;
	sa.progress = progress;
	sa.arg = &p;
	rc = skm_sync(ctx->db, srv, &sa, &res);
	t = now_s() - t;
	if (p.tty && res.batches > 0)
		fputs("\r\033[K", stderr);
	skm_close(srv);
	if (rc != SKM_OK) {
		warnx("sync: %s (%lld invocations pushed before the failure; "
		    "a rerun goes on from there)", cmd_safe(skm_errmsg(ctx->db)),
		    res.sent);
		return EXIT_DATA;
	}
	if (ctx->json)
		printf("{\"sent\":%lld,\"inserted\":%lld,\"already_present\":"
		    "%lld,\"batches\":%lld,\"seconds\":%.3f}\n", res.sent,
		    res.inserted, res.sent - res.inserted, res.batches, t);
	else if (res.sent == 0)
		printf("nothing to sync: the server has every ended "
		    "invocation of this store\n");
	else
		printf("synced %lld invocation%s (%lld new on the server, "
		    "%lld already there) in %lld batch%s, %.1fs\n", res.sent,
		    res.sent == 1 ? "" : "s", res.inserted,
		    res.sent - res.inserted, res.batches,
		    res.batches == 1 ? "" : "es", t);
	return 0;
}

int
cmd_server(struct cmd_ctx *ctx)
{
	struct skm_db *srv = NULL;
	const char *url;
	int r, before, latest;

	if (strcmp(ctx->argv[0], "init") != 0)
		return cmd_usage_error(ctx, "server: unknown action: %s (only "
		    "init)", cmd_safe(ctx->argv[0]));
	url = ctx->argc > 1 ? ctx->argv[1] : server_url(ctx, NULL);
	/* Look first, so that the message can say what init did. */
	if ((r = open_server(ctx, url, SKM_SERVER_INIT, &srv)) != 0)
		return r;
	before = skm_server_schema(srv, &latest);
	skm_close(srv);
	printf("server schema %d (this skm's: %d)\n", before, latest);
	return 0;
}
