/*
 * cmd.h - the skm CLI's commands: one table row each, one option parser
 * for all of them.
 *
 * A command is a row of the table in cmds.c (its name, a one-line
 * summary, its operands, its options, its flags) and a handler in a
 * runner/cmd-*.c file.  cli.c reads the command line against the row and
 * calls the handler with a struct cmd_ctx holding what it found; the
 * handler reads its options by name (cmd_arg, cmd_count, cmd_number...),
 * opens the store with cmd_store() when it needs it, and returns an exit
 * status.  Handlers never call exit(): cli.c closes the store, flushes
 * stdout and exits with what the handler returned.
 *
 * Exit status: 0 success, 1 the store or the data failed, 2 usage error.
 */
#ifndef SKM_CMD_H
#define SKM_CMD_H

#include <stddef.h>

#include "skm.h"

#define EXIT_DATA	1	/* the store or the data failed */
#define EXIT_USAGE	2	/* the command line is wrong */

/* One option of a command (or a global option). */
struct cmd_opt {
	const char *name;	/* the long name, without "--" */
	int letter;		/* the short option, or 0 for none */
	const char *arg;	/* its argument's name ("N"), NULL: a flag */
	const char *help;	/* one line for --help */
	int flags;		/* CMD_OPT_* */
};

#define CMD_OPT_REQUIRED 0x01	/* must be given (a usage error if not) */
#define CMD_OPT_MULTI    0x02	/* may be given more than once: "..." */

struct cmd_ctx;

/* One command: a row of the table in cmds.c. */
struct cmd {
	const char *name;
	int (*run)(struct cmd_ctx *);	/* returns the exit status */
	int flags;			/* CMD_* */
	const char *summary;		/* one line for `skm help` */
	const char *operands;		/* synopsis: "SKILL", "[FILE | -]" */
	int min_operands, max_operands;	/* max -1: any number */
	const char *missing;	/* the first operand in "missing ..." messages
				 * (NULL: operands) */
	const struct cmd_opt *opts;	/* ends with a NULL name; or NULL */
	const char *more;		/* more text for --help, or NULL */
};

/* struct cmd's flags. */
#define CMD_HIDDEN	0x01	/* works, but `skm help` does not list it */
#define CMD_JSON	0x02	/* takes --json */
#define CMD_READ	0x04	/* reads the store: it must exist already */
#define CMD_WRITE	0x08	/* writes the store: creates it if need be */
#define CMD_SERVER	0x10	/* runs on a server too (--server URL) */

/*
 * For the table: CMD_OPTS(OPT(...), OPT(...)) is an option list;
 * OPT(name, letter, arg, help) an option, OPT_F the same with CMD_OPT_*
 * flags.
 */
#define CMD_OPTS(...) \
	((const struct cmd_opt[]){ __VA_ARGS__, { .name = NULL } })
#define OPT(n, l, a, h) { .name = (n), .letter = (l), .arg = (a), .help = (h) }
#define OPT_F(n, l, a, h, f) \
	{ .name = (n), .letter = (l), .arg = (a), .help = (h), .flags = (f) }

/* What cli.c found on the command line, handed to the handler. */
struct cmd_ctx {
	const struct cmd *cmd;
	int argc;		/* the operands, options taken out */
	char **argv;
	int json;		/* --json given */
	struct skm_db *db;	/* set by cmd_store(); cli.c closes it */
	/* Every option given, global ones included, in command-line order. */
	struct cmd_val {
		const struct cmd_opt *opt;
		const char *arg;	/* NULL for a flag */
	} *vals;
	int nvals;
};

/* The table (cmds.c), in the order `skm help` lists it. */
extern const struct cmd cmd_table[];
extern const size_t cmd_table_len;

/* The global options (cli.c): before the command or among its options. */
extern const struct cmd_opt cmd_global_opts[];

/*
 * Reading options by their long name (which must be in the command's row
 * or a global option: anything else is a bug and aborts).
 * cmd_arg: the argument of the last one given, or NULL.
 * cmd_count: how many times it was given.
 * cmd_args: the arguments of every one given, in order, in a malloc'd
 * NULL-terminated array (*n gets the count); NULL when out of memory.
 * cmd_number: its argument as a number within [min, max] into *out
 * (left alone if the option was not given); returns 0, or EXIT_USAGE
 * after saying why.
 */
const char *cmd_arg(const struct cmd_ctx *, const char *name);
int cmd_count(const struct cmd_ctx *, const char *name);
const char **cmd_args(const struct cmd_ctx *, const char *name, int *n);
int cmd_number(const struct cmd_ctx *, const char *name, long long min,
    long long max, long long *out);

/*
 * cmd_store - open the store for the command as its flags say (CMD_WRITE:
 * create it if need be; else it must exist) into ctx->db.  Returns 0, or
 * EXIT_DATA after saying why on stderr.
 */
int cmd_store(struct cmd_ctx *);

/* cmd_usage_error - "skm: MESSAGE" and the command's synopsis on stderr;
 * returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd_ctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cmd_fail - report a failed library call on ctx->db; returns the exit
 * status (EXIT_USAGE for SKM_MISUSE, else EXIT_DATA). */
int cmd_fail(const struct cmd_ctx *, int rc);

/* cmd_safe - a printable copy of s for a message (fmt_safe), valid until
 * four more calls. */
const char *cmd_safe(const char *s);

/* cmd_print_version - "skm X (libskm Y, schema N)" on stdout. */
void cmd_print_version(void);

/* The handlers, by file. */
/* cmd-query.c */
int cmd_stats(struct cmd_ctx *);
int cmd_show(struct cmd_ctx *);
int cmd_summary(struct cmd_ctx *);
int cmd_recent(struct cmd_ctx *);
int cmd_timeline(struct cmd_ctx *);
int cmd_search(struct cmd_ctx *);
int cmd_errors(struct cmd_ctx *);
int cmd_session(struct cmd_ctx *);
/* cmd-data.c */
int cmd_begin(struct cmd_ctx *);
int cmd_end(struct cmd_ctx *);
int cmd_end_session(struct cmd_ctx *);
int cmd_import(struct cmd_ctx *);
int cmd_export(struct cmd_ctx *);
/* cmd-trace.c */
int cmd_trace(struct cmd_ctx *);
/* cmd-report.c */
int cmd_report(struct cmd_ctx *);
/* cmd-admin.c */
int cmd_check(struct cmd_ctx *);
int cmd_recompute(struct cmd_ctx *);
int cmd_drain(struct cmd_ctx *);
int cmd_reap(struct cmd_ctx *);
int cmd_backup(struct cmd_ctx *);
int cmd_version(struct cmd_ctx *);
/* cmd-fleet.c: sync, server; --server and --host for the queries */
int cmd_sync(struct cmd_ctx *);
int cmd_server(struct cmd_ctx *);
int cmd_server_store(struct cmd_ctx *);
int cmd_hosts(const struct cmd_ctx *, struct skm_query_args *);
/* cli.c */
int cmd_help(struct cmd_ctx *);
/* cmd-hooks.c */
int cmd_hooks(struct cmd_ctx *);
extern const char *const git_hook_names[];	/* NULL-terminated */
/* cmd-complete.c */
int cmd_complete(struct cmd_ctx *);

#endif /* SKM_CMD_H */
