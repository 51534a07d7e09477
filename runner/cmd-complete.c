/*
 * cmd-complete.c - `skm __complete`, the hidden command behind the shell
 * completions (share/bash-completion/completions/skm,
 * share/zsh/site-functions/_skm).
 *
 *	skm [--db FILE] __complete commands      NAME<TAB>SUMMARY per command
 *	skm __complete options COMMAND           --NAME<TAB>ARG<TAB>HELP per option
 *	skm __complete operands COMMAND          the operands' synopsis
 *	skm [--db FILE] __complete skills [PREFIX]   skill names
 *	skm __complete hooks                     the git hooks `skm hooks` knows
 *
 * Everything but the skill names comes from the command table, so the
 * completions are those of the skm that answers.  The skill names come
 * from SKM_Q_SKILLS, which reads one row per skill and computes nothing.
 * Completion must stay quiet: a missing store prints nothing and exits 1;
 * the scripts send stderr to /dev/null anyway.
 */
#include <stdio.h>
#include <string.h>

#include "skm.h"
#include "cmd.h"

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

static void
print_opts(const struct cmd_opt *o)
{
	for (; o != NULL && o->name != NULL; o++)
		printf("--%s\t%s\t%s\n", o->name, o->arg ? o->arg : "",
		    o->help ? o->help : "");
}

static int
complete_skills(struct cmd_ctx *ctx, const char *prefix)
{
	struct skm_query_args qa = { .text = prefix };
	struct skm_cursor *c = NULL;
	const char *s;
	int r;

	if (cmd_store(ctx) != 0)
		return EXIT_DATA;
	if (skm_query_open(ctx->db, SKM_Q_SKILLS, &qa, &c) != SKM_OK)
		return EXIT_DATA;
	while ((r = skm_cursor_step(c)) > 0)
		if ((s = skm_cursor_text(c, 0)) != NULL)
			printf("%s\n", s);
	skm_cursor_close(c);
	return r < 0 ? EXIT_DATA : 0;
}

int
cmd_complete(struct cmd_ctx *ctx)
{
	const char *what = ctx->argv[0];
	const struct cmd *c = NULL;
	size_t i;

	if (strcmp(what, "commands") == 0) {
		for (i = 0; i < cmd_table_len; i++)
			if (!(cmd_table[i].flags & CMD_HIDDEN))
				printf("%s\t%s\n", cmd_table[i].name,
				    cmd_table[i].summary);
		return 0;
	}
	if (strcmp(what, "skills") == 0)
		return complete_skills(ctx, ctx->argc > 1 ? ctx->argv[1] :
		    NULL);
	if (strcmp(what, "hooks") == 0) {
		for (i = 0; git_hook_names[i] != NULL; i++)
			printf("%s\n", git_hook_names[i]);
		return 0;
	}
	if (strcmp(what, "options") != 0 && strcmp(what, "operands") != 0)
		return cmd_usage_error(ctx, "unknown completion: %s",
		    cmd_safe(what));
	if (ctx->argc < 2 || (c = find_cmd(ctx->argv[1])) == NULL ||
	    (c->flags & CMD_HIDDEN))
		return EXIT_DATA;
	if (strcmp(what, "operands") == 0) {
		printf("%s\n", c->operands ? c->operands : "");
		return 0;
	}
	print_opts(c->opts);
	if (c->flags & CMD_JSON)
		printf("--json\t\tprint JSON instead of a table\n");
	print_opts(cmd_global_opts);
	printf("--help\t\tprint this help and exit\n");
	return 0;
}
