/*
 * cmd-data.c - the commands that put data into the store or take it out:
 * begin and end (an invocation by hand), end-session, import, export.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm.h"
#include "cmd.h"
#include "safeout.h"

int
cmd_begin(struct cmd_ctx *ctx)
{
	/* The invocation lives as long as whoever ran `skm begin` (a shell,
	 * a script): its pid is the one `skm reap` watches. */
	struct skm_begin_info bi = { .source = "lib", .pid = getppid() };
	struct skm_inv *inv = NULL;
	int r, rc;

	bi.skill = cmd_arg(ctx, "skill");
	bi.workflow = cmd_arg(ctx, "workflow");
	bi.session = cmd_arg(ctx, "session");
	bi.project = cmd_arg(ctx, "project");
	if ((r = cmd_store(ctx)) != 0)
		return r;
	if ((rc = skm_begin(ctx->db, &bi, &inv)) != SKM_OK)
		return cmd_fail(ctx, rc);
	/* The id is a UUID: nothing in it needs escaping in JSON. */
	if (ctx->json)
		printf("{\"id\":\"%s\"}\n", skm_inv_id(inv));
	else
		printf("%s\n", skm_inv_id(inv));
	/* It stays running in the store until `skm end ID`. */
	skm_inv_free(inv);
	return 0;
}

int
cmd_end(struct cmd_ctx *ctx)
{
	struct skm_end_info ei = SKM_END_INFO_INIT;
	const char *id = ctx->argv[0], *why;
	const char **fu;
	long long n;
	int r, rc, nfu;

	/* Each may be repeated, but not mixed. */
	if ((cmd_count(ctx, "exit") > 0) + (cmd_count(ctx, "completed") > 0) +
	    (cmd_count(ctx, "failed") > 0) > 1)
		return cmd_usage_error(ctx, "--exit, --completed and --failed "
		    "exclude each other");
	ei.completed = cmd_count(ctx, "failed") == 0;
	if (cmd_arg(ctx, "exit") != NULL) {
		if ((r = cmd_number(ctx, "exit", 0, 255, &n)) != 0)
			return r;
		ei.exit_code = (int)n;
		ei.completed = n == 0;
	}
	ei.error_type = cmd_arg(ctx, "error-type");
	if ((fu = cmd_args(ctx, "follow-up", &nfu)) == NULL) {
		warn(NULL);
		return EXIT_DATA;
	}
	ei.follow_ups = fu;
	ei.n_follow_ups = nfu;

	if ((r = cmd_store(ctx)) != 0)
		goto out;
	rc = skm_end_id(ctx->db, id, &ei);
	if (rc == SKM_NOTFOUND) {
		warnx("no such invocation: %s", cmd_safe(id));
		r = EXIT_DATA;
	} else if (rc == SKM_ENDED) {
		warnx("invocation %s already ended", cmd_safe(id));
		r = EXIT_DATA;
	} else if (rc != SKM_OK)
		r = cmd_fail(ctx, rc);
	else {
		r = 0;
		if (skm_spooled(ctx->db, &why) > 0)
			warnx("store unavailable, end kept in the journal: "
			    "%s", cmd_safe(skm_errmsg(ctx->db)));
	}
out:
	free(fu);
	return r;
}

int
cmd_end_session(struct cmd_ctx *ctx)
{
	int r, rc, n = 0;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	rc = skm_end_session(ctx->db, ctx->argv[0], &n);
	if (rc == SKM_NOTFOUND) {
		warnx("no such session: %s", cmd_safe(ctx->argv[0]));
		return EXIT_DATA;
	}
	if (rc != SKM_OK)
		return cmd_fail(ctx, rc);
	printf("%d skill%s updated\n", n, n == 1 ? "" : "s");
	return 0;
}

int
cmd_import(struct cmd_ctx *ctx)
{
	struct skm_import_result res;
	const char *name = "-";
	FILE *in = stdin;
	int r, rc;

	if (ctx->argc > 0 && strcmp(ctx->argv[0], "-") != 0) {
		name = ctx->argv[0];
		if ((in = fopen(name, "re")) == NULL) {
			warn("%s", cmd_safe(name));
			return EXIT_DATA;
		}
	}
	if ((r = cmd_store(ctx)) != 0)
		goto out;
	rc = skm_import(ctx->db, in, &res);
	if (rc == SKM_OK) {
		printf("%lld record%s: %lld imported, %lld already present; "
		    "%lld skill%s recomputed\n", res.records,
		    res.records == 1 ? "" : "s", res.inserted, res.skipped,
		    res.skills, res.skills == 1 ? "" : "s");
		r = 0;
	} else {
		/* Nothing was written: say where the input went wrong. */
		warnx("%s: %s", strcmp(name, "-") == 0 ? "stdin" :
		    cmd_safe(name), cmd_safe(skm_errmsg(ctx->db)));
		r = rc == SKM_MISUSE ? EXIT_USAGE : EXIT_DATA;
	}
out:
	if (in != stdin)
		fclose(in);
	return r;
}

int
cmd_export(struct cmd_ctx *ctx)
{
	struct skm_export_args ea = { 0 };
	const char *f = cmd_arg(ctx, "format");
	FILE *o;
	int r, rc;

	if (f == NULL || strcmp(f, "jsonl") == 0)
		ea.format = SKM_EXPORT_JSONL;
	else if (strcmp(f, "csv") == 0)
		ea.format = SKM_EXPORT_CSV;
	else if (strcmp(f, "otlp-json") == 0)
		ea.format = SKM_EXPORT_OTLP_JSON;
	else
		return cmd_usage_error(ctx, "--format %s: use jsonl, csv or "
		    "otlp-json", cmd_safe(f));
	ea.since = cmd_arg(ctx, "since");
	ea.skill = cmd_arg(ctx, "skill");
	if ((r = cmd_store(ctx)) != 0)
		return r;
	/* Through safeout.c: no control character reaches a terminal,
	 * --spreadsheet-safe guards formulas, and JSON Lines in a file keep
	 * every byte for import (OTLP/JSON goes to collectors: UTF-8). */
	if ((o = safeout_open(stdout, ea.format == SKM_EXPORT_CSV ?
	    SAFEOUT_CSV : SAFEOUT_JSON,
	    (ea.format == SKM_EXPORT_JSONL ? SAFEOUT_EXACT : 0) |
	    (cmd_count(ctx, "spreadsheet-safe") ? SAFEOUT_SPREADSHEET : 0))) ==
	    NULL) {
		warn(NULL);
		return EXIT_DATA;
	}
	rc = skm_export(ctx->db, &ea, o, NULL);
	if (fclose(o) != 0 && rc == SKM_OK)
		return EXIT_DATA;
	return rc == SKM_OK ? 0 : cmd_fail(ctx, rc);
}
