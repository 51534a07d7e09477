/*
 * cmd-admin.c - the maintenance commands: check, recompute, drain, reap,
 * backup, version.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "skm.h"
#include "cmd.h"
#include "safeout.h"

/* skm_check() callback: one problem (or note) per line on stdout. */
static void
print_problem(void *arg, const char *line)
{
	int *n = arg;

	printf("%s\n", cmd_safe(line));
	if (strncmp(line, "note: ", 6) != 0)
		(*n)++;
}

int
cmd_check(struct cmd_ctx *ctx)
{
	int r, rc, n = 0;
	char *json = NULL;
	FILE *o;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	if (ctx->json) {
		rc = skm_check_json(ctx->db, &json);
		if (rc != SKM_OK && rc != SKM_CHECK)
			return cmd_fail(ctx, rc);
		/* Problems name skills, paths and records: through
		 * safeout.c, as every JSON skm prints. */
		if ((o = safeout_open(stdout, SAFEOUT_JSON, 0)) == NULL) {
			skm_free(json);
			warn(NULL);
			return EXIT_DATA;
		}
		fprintf(o, "%s\n", json);
		skm_free(json);
		if (fclose(o) != 0)
			return EXIT_DATA;
		return rc == SKM_CHECK ? EXIT_DATA : 0;
	}
	rc = skm_check(ctx->db, print_problem, &n);
	if (rc == SKM_CHECK) {
		warnx("%d problem%s found", n, n == 1 ? "" : "s");
		return EXIT_DATA;
	}
	if (rc != SKM_OK)
		return cmd_fail(ctx, rc);
	printf("ok\n");
	return 0;
}

int
cmd_recompute(struct cmd_ctx *ctx)
{
	const char *skill = ctx->argc > 0 ? ctx->argv[0] : NULL;
	int r, rc;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	rc = skm_recompute(ctx->db, skill);
	if (rc == SKM_NOTFOUND) {
		warnx("no such skill: %s", cmd_safe(skill));
		return EXIT_DATA;
	}
	return rc == SKM_OK ? 0 : cmd_fail(ctx, rc);
}

/*
 * skm drain: fold the journal into the store now.  --background is how
 * recorders start it when the journal has grown: nothing is printed.
 */
int
cmd_drain(struct cmd_ctx *ctx)
{
	int r, rc, n = 0, quiet = cmd_count(ctx, "background") > 0;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	if ((rc = skm_drain(ctx->db, &n)) != SKM_OK)
		return quiet ? EXIT_DATA : cmd_fail(ctx, rc);
	if (!quiet)
		printf("%d event%s applied from the journal\n", n,
		    n == 1 ? "" : "s");
	return 0;
}

/* skm_reap() callback: one line per invocation ended. */
static void
print_reaped(void *arg, const char *id, const char *skill)
{
	(void)arg;
	printf("abandoned %s %s\n", cmd_safe(id), cmd_safe(skill));
}

int
cmd_reap(struct cmd_ctx *ctx)
{
	int r, rc, n = 0;

	if ((r = cmd_store(ctx)) != 0)
		return r;
	rc = skm_reap(ctx->db, cmd_arg(ctx, "older-than"), print_reaped, NULL,
	    &n);
	if (rc != SKM_OK)
		return cmd_fail(ctx, rc);
	printf("%d invocation%s reaped\n", n, n == 1 ? "" : "s");
	return 0;
}

int
cmd_backup(struct cmd_ctx *ctx)
{
	int flags = 0, r, rc;

	if (cmd_count(ctx, "force") > 0)
		flags |= SKM_BACKUP_FORCE;
	if ((r = cmd_store(ctx)) != 0)
		return r;
	rc = skm_backup(ctx->db, ctx->argv[0], flags);
	return rc == SKM_OK ? 0 : cmd_fail(ctx, rc);
}

int
cmd_version(struct cmd_ctx *ctx)
{
	(void)ctx;
	cmd_print_version();
	return 0;
}
