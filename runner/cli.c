/*
 * cli.c - skm's main(): the option parser, the dispatcher, help and "did
 * you mean", for every command of the table in cmds.c.
 *
 *	skm [--db FILE] COMMAND [ARGS]
 *
 * main() reads the global options up to the command name, finds the
 * command's row, then reads the rest of the command line against that
 * row: its own options, --help, --json when it takes it, and the global
 * options again (so --db may come anywhere).  Options and operands may be
 * mixed; "--" ends the options.  A long option may be abbreviated to a
 * unique prefix; "--name=value" and "-xVALUE" work as with getopt_long.
 * The handler gets what was found in a struct cmd_ctx and returns the
 * exit status; main() closes the store it opened and checks stdout.
 *
 * Anything that came from the store or from the user and is echoed on
 * stderr goes through cmd_safe() so that it cannot carry escape sequences.
 */
#include <err.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm.h"
#include "journal.h"
#include "cmd.h"
#include "fmt.h"

/*
 * The global options: taken before the command and among its options.
 * A new one is a row here and whatever reads it (cmd_store for the
 * store's location).
 */
const struct cmd_opt cmd_global_opts[] = {
	OPT("db", 0, "FILE", "the store (default: see `skm help`)"),
	OPT("server", 0, "URL", "ask this PostgreSQL server instead of the "
	    "store (empty: $SKM_SERVER)"),
	OPT_F("host", 0, "H", "only the runs of machine H (repeatable)",
	    CMD_OPT_MULTI),
	{ .name = NULL }
};

/* Taken by every command; --json only by those with CMD_JSON. */
static const struct cmd_opt opt_help = OPT("help", 'h', NULL,
    "print this help and exit");
static const struct cmd_opt opt_json = OPT("json", 'j', NULL,
    "print JSON instead of a table");
/* Only before a command. */
static const struct cmd_opt opt_version = OPT("version", 0, NULL,
    "print the versions and exit");

#define MAXOPTS 64	/* options a command may know, all kinds counted */

/* The options known where the parser is, as one list. */
struct known {
	const struct cmd_opt *opt[MAXOPTS];
	int n;
};

static void
known_add(struct known *k, const struct cmd_opt *o)
{
	if (k->n < MAXOPTS)
		k->opt[k->n++] = o;
}

static void
known_addv(struct known *k, const struct cmd_opt *v)
{
	for (; v != NULL && v->name != NULL; v++)
		known_add(k, v);
}

/* The options of cmd (NULL: before the command). */
static void
known_for(struct known *k, const struct cmd *cmd)
{
	k->n = 0;
	if (cmd != NULL)
		known_addv(k, cmd->opts);
	if (cmd != NULL && (cmd->flags & CMD_JSON))
		known_add(k, &opt_json);
	known_addv(k, cmd_global_opts);
	known_add(k, &opt_help);
	if (cmd == NULL)
		known_add(k, &opt_version);
}

const char *
cmd_safe(const char *s)
{
	static char *ring[4];
	static int next;
	char *p;

	if (s == NULL)
		return "(null)";
	if ((p = fmt_safe(s, 0, NULL)) == NULL)
		return "?";
	free(ring[next]);
	ring[next] = p;
	next = (next + 1) % 4;
	return p;
}

/* --- synopsis, usage and help ------------------------------------------ */

/* The synopsis of cmd after "skm NAME": operands, then options. */
static void
print_synopsis(FILE *fp, const struct cmd *cmd)
{
	const struct cmd_opt *o;

	fprintf(fp, "skm %s", cmd->name);
	if (cmd->operands != NULL)
		fprintf(fp, " %s", cmd->operands);
	for (o = cmd->opts; o != NULL && o->name != NULL; o++) {
		const char *open = "[", *close = "]";

		if (o->flags & CMD_OPT_REQUIRED)
			open = close = "";
		fprintf(fp, " %s--%s%s%s%s%s", open, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "", close,
		    (o->flags & CMD_OPT_MULTI) ? "..." : "");
	}
	if (cmd->flags & CMD_JSON)
		fprintf(fp, " [--json]");
	fputc('\n', fp);
}

/* usage - the synopsis of skm and of every listed command. */
static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: skm [--db FILE] COMMAND [ARGS]\n");
	for (i = 0; i < cmd_table_len; i++) {
		if (cmd_table[i].flags & CMD_HIDDEN)
			continue;
		fprintf(fp, "       ");
		print_synopsis(fp, &cmd_table[i]);
	}
}

static void
print_opt(const struct cmd_opt *o)
{
	char left[64];

	if (o->letter != 0)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->letter,
		    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	if (strlen(left) > 22)
		printf("  %s\n  %-22s  %s\n", left, "", o->help);
	else
		printf("  %-22s  %s\n", left, o->help);
}

/* The --help of a command: synopsis, summary, options. */
static void
print_help(const struct cmd *cmd)
{
	struct known k;
	int i;

	printf("usage: ");
	print_synopsis(stdout, cmd);
	printf("\n  %s\n", cmd->summary);
	known_for(&k, cmd);
	printf("\noptions:\n");
	for (i = 0; i < k.n; i++)
		print_opt(k.opt[i]);
	if (cmd->more != NULL)
		printf("\n%s\n", cmd->more);
}

/* --- did you mean -------------------------------------------------------- */

/*
 * distance - the optimal string alignment distance between a and b
 * (insertions, deletions, substitutions and swaps of two neighbours each
 * count one), or a large number for long strings.
 */
static int
distance(const char *a, const char *b)
{
	int d[33][33], i, j, la = strlen(a), lb = strlen(b), c, m;

	if (la > 32 || lb > 32)
		return INT_MAX / 2;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < m)
				m = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

/*
 * suggest - " (did you mean X?)" or " (did you mean X or Y?)" into buf for
 * word among the n names (prefix before each, "--" for options): those
 * nearest to it within a third of its length (at least one edit), or
 * those it begins.  Empty when none is near.
 */
static void
suggest(char *buf, size_t size, const char *word, const char *prefix,
    const char *const *names, int n)
{
	int best = INT_MAX, d, i, lim, found = 0, len = strlen(word);

	*buf = '\0';
	lim = len / 3 > 1 ? len / 3 : 1;
	for (i = 0; i < n; i++) {
		d = distance(word, names[i]);
		if (len > 0 && strncmp(names[i], word, len) == 0 && d > lim)
			d = lim;	/* a prefix: as near as the limit */
		if (d <= lim && d < best)
			best = d;
	}
	if (best == INT_MAX)
		return;
	for (i = 0; i < n; i++) {
		d = distance(word, names[i]);
		if (len > 0 && strncmp(names[i], word, len) == 0 && d > lim)
			d = lim;
		if (d != best)
			continue;
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s%s",
		    found == 0 ? " (did you mean " : " or ", prefix, names[i]);
		found++;
	}
	snprintf(buf + strlen(buf), size - strlen(buf), "?)");
}

static void
suggest_command(char *buf, size_t size, const char *word)
{
	const char *names[64] = { NULL };
	size_t i;
	int n = 0;

	for (i = 0; i < cmd_table_len && n < 64; i++)
		if (!(cmd_table[i].flags & CMD_HIDDEN))
			names[n++] = cmd_table[i].name;
	suggest(buf, size, word, "", names, n);
}

static void
suggest_option(char *buf, size_t size, const char *word,
    const struct known *k)
{
	const char *names[MAXOPTS] = { NULL };
	int i;

	for (i = 0; i < k->n; i++)
		names[i] = k->opt[i]->name;
	suggest(buf, size, word, "--", names, k->n);
}

/* --- messages ------------------------------------------------------------ */

static int
vusage_error(const struct cmd *cmd, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	if (cmd != NULL) {
		fprintf(stderr, "usage: ");
		print_synopsis(stderr, cmd);
	} else
		usage(stderr);
	return EXIT_USAGE;
}

static int
usage_error(const struct cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vusage_error(cmd, fmt, ap);
	va_end(ap);
	return r;
}

int
cmd_usage_error(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vusage_error(ctx->cmd, fmt, ap);
	va_end(ap);
	return r;
}

int
cmd_fail(const struct cmd_ctx *ctx, int rc)
{
	const char *msg = ctx->db != NULL ? skm_errmsg(ctx->db) : NULL;

	if (msg == NULL || *msg == '\0')
		msg = skm_errstr(rc);
	warnx("%s", cmd_safe(msg));
	return rc == SKM_MISUSE ? EXIT_USAGE : EXIT_DATA;
}

void
cmd_print_version(void)
{
	printf("skm %s (libskm %s, schema %d)\n", SKM_VERSION,
	    skm_libversion(), skm_schema_latest());
}

/* --- the parser ---------------------------------------------------------- */

/*
 * find_long - the option named by "--name" (name up to '=' or NUL, len
 * bytes): an exact name, else the one option it is a prefix of.  NULL
 * when unknown or ambiguous, with the error already reported.
 */
static const struct cmd_opt *
find_long(const struct cmd *cmd, const struct known *k, const char *name,
    size_t len)
{
	const struct cmd_opt *hit = NULL;
	char word[128], hint[256];
	int i, n = 0;

	for (i = 0; i < k->n; i++)
		if (strlen(k->opt[i]->name) == len &&
		    strncmp(k->opt[i]->name, name, len) == 0)
			return k->opt[i];
	for (i = 0; i < k->n && len > 0; i++)
		if (strncmp(k->opt[i]->name, name, len) == 0) {
			hit = k->opt[i];
			n++;
		}
	snprintf(word, sizeof(word), "%.*s", (int)len, name);
	if (n == 1)
		return hit;
	suggest_option(hint, sizeof(hint), word, k);
	if (n > 1)
		usage_error(cmd, "option --%s is ambiguous%s", cmd_safe(word),
		    hint);
	else
		usage_error(cmd, "unknown option: --%s%s", cmd_safe(word),
		    hint);
	return NULL;
}

static const struct cmd_opt *
find_short(const struct known *k, int c)
{
	int i;

	for (i = 0; i < k->n; i++)
		if (k->opt[i]->letter == c)
			return k->opt[i];
	return NULL;
}

/* The state of one pass over argv. */
struct parse {
	const struct cmd *cmd;	/* NULL: before the command */
	struct known k;
	int help, version;	/* --help or --version seen: stop there */
};

static void
keep_option(struct cmd_ctx *ctx, const struct cmd_opt *o, const char *arg)
{
	ctx->vals[ctx->nvals].opt = o;
	ctx->vals[ctx->nvals].arg = arg;
	ctx->nvals++;
	if (o == &opt_json)
		ctx->json = 1;
}

/*
 * parse_options - read argv[*i...] against p's options into ctx->vals.
 * Before a command it stops at the first operand (the command's name);
 * after, the operands are collected into ctx->argv.  Stops at --help or
 * --version too.  Returns 0, or EXIT_USAGE after reporting the error.
 */
static int
parse_options(struct parse *p, struct cmd_ctx *ctx, int argc, char **argv,
    int *i)
{
	const struct cmd_opt *o;
	const char *a, *eq, *arg;
	char name[3];
	int j;

	for (; *i < argc; (*i)++) {
		a = argv[*i];
		if (strcmp(a, "--") == 0) {
			if (p->cmd == NULL) {
				(*i)++;
				return 0;
			}
			while (++*i < argc)
				ctx->argv[ctx->argc++] = argv[*i];
			return 0;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (p->cmd == NULL)
				return 0;
			ctx->argv[ctx->argc++] = argv[*i];
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			if ((o = find_long(p->cmd, &p->k, a + 2,
			    eq ? (size_t)(eq - a - 2) : strlen(a + 2))) == NULL)
				return EXIT_USAGE;
			if (o->arg == NULL && eq != NULL)
				return usage_error(p->cmd, "option --%s takes "
				    "no argument", o->name);
			arg = eq != NULL ? eq + 1 : NULL;
			if (o->arg != NULL && arg == NULL) {
				if (*i + 1 >= argc)
					return usage_error(p->cmd, "option "
					    "--%s needs an argument", o->name);
				arg = argv[++*i];
			}
			if (o == &opt_help || o == &opt_version) {
				p->help = o == &opt_help;
				p->version = o == &opt_version;
				return 0;
			}
			keep_option(ctx, o, arg);
			continue;
		}
		/* A cluster of short options: -jn5, -n 5. */
		for (j = 1; a[j] != '\0'; j++) {
			name[0] = '-';
			name[1] = a[j];
			name[2] = '\0';
			if ((o = find_short(&p->k, (unsigned char)a[j])) ==
			    NULL)
				return usage_error(p->cmd, "unknown option: %s",
				    cmd_safe(name));
			if (o == &opt_help) {
				p->help = 1;
				return 0;
			}
			if (o->arg == NULL) {
				keep_option(ctx, o, NULL);
				continue;
			}
			if (a[j + 1] != '\0')
				arg = a + j + 1;
			else if (*i + 1 < argc)
				arg = argv[++*i];
			else
				return usage_error(p->cmd, "option %s needs an "
				    "argument", name);
			keep_option(ctx, o, arg);
			break;
		}
	}
	return 0;
}

/* The required options and the number of operands. */
static int
check_command_line(const struct cmd_ctx *ctx)
{
	const struct cmd *cmd = ctx->cmd;
	const struct cmd_opt *o;

	for (o = cmd->opts; o != NULL && o->name != NULL; o++)
		if ((o->flags & CMD_OPT_REQUIRED) &&
		    cmd_count(ctx, o->name) == 0)
			return usage_error(cmd, "%s: --%s is required",
			    cmd->name, o->name);
	/* --server and --host are for the queries (and sync, server). */
	if (cmd_arg(ctx, "server") != NULL && !(cmd->flags & CMD_SERVER) &&
	    cmd->run != cmd_sync && cmd->run != cmd_server)
		return usage_error(cmd, "%s: does not run on a server "
		    "(--server)", cmd->name);
	if (cmd_count(ctx, "host") > 0 && (cmd->flags &
	    (CMD_SERVER | CMD_JSON)) != (CMD_SERVER | CMD_JSON))
		return usage_error(cmd, "%s: --host narrows the query "
		    "commands only", cmd->name);
	if (ctx->argc < cmd->min_operands)
		return usage_error(cmd, "%s: missing %s", cmd->name,
		    cmd->missing ? cmd->missing : cmd->operands);
	if (cmd->max_operands >= 0 && ctx->argc > cmd->max_operands)
		return usage_error(cmd, "%s: unexpected argument: %s",
		    cmd->name, cmd_safe(ctx->argv[cmd->max_operands]));
	return 0;
}

/* --- reading the options ------------------------------------------------- */

/* The option called name of ctx's command; a name it does not have is a
 * bug in the handler. */
static const struct cmd_opt *
option_named(const struct cmd_ctx *ctx, const char *name)
{
	struct known k;
	int i;

	known_for(&k, ctx->cmd);
	for (i = 0; i < k.n; i++)
		if (strcmp(k.opt[i]->name, name) == 0)
			return k.opt[i];
	warnx("internal error: command %s has no option --%s",
	    ctx->cmd->name, name);
	abort();
}

const char *
cmd_arg(const struct cmd_ctx *ctx, const char *name)
{
	const struct cmd_opt *o = option_named(ctx, name);
	const char *arg = NULL;
	int i;

	for (i = 0; i < ctx->nvals; i++)
		if (ctx->vals[i].opt == o)
			arg = ctx->vals[i].arg;
	return arg;
}

int
cmd_count(const struct cmd_ctx *ctx, const char *name)
{
	const struct cmd_opt *o = option_named(ctx, name);
	int i, n = 0;

	for (i = 0; i < ctx->nvals; i++)
		if (ctx->vals[i].opt == o)
			n++;
	return n;
}

const char **
cmd_args(const struct cmd_ctx *ctx, const char *name, int *n)
{
	const struct cmd_opt *o = option_named(ctx, name);
	const char **v;
	int i;

	*n = 0;
	if ((v = calloc(ctx->nvals + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < ctx->nvals; i++)
		if (ctx->vals[i].opt == o)
			v[(*n)++] = ctx->vals[i].arg;
	return v;
}

int
cmd_number(const struct cmd_ctx *ctx, const char *name, long long min,
    long long max, long long *out)
{
	const char *s = cmd_arg(ctx, name), *errstr;
	long long n;

	if (s == NULL)
		return 0;
	n = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		return cmd_usage_error(ctx, "--%s %s: %s", name, cmd_safe(s),
		    errstr);
	*out = n;
	return 0;
}

/* --- the store ----------------------------------------------------------- */

/* Start `skm --db PATH drain --background` (this program), detached. */
static void
background_fold(const char *path)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return;
	self[n] = '\0';
	skm__jnl_spawn_fold(self, path);
}

int
cmd_store(struct cmd_ctx *ctx)
{
	char buf[PATH_MAX];
	const char *path = cmd_arg(ctx, "db"), *msg;
	struct skm_db *db = NULL;
	size_t n;
	int rc;

	if (ctx->db != NULL)
		return 0;
	/* --server: the query commands ask the server instead. */
	if (cmd_arg(ctx, "server") != NULL && (ctx->cmd->flags & CMD_SERVER))
		return cmd_server_store(ctx);
	if (path == NULL) {
		if (skm_default_path(buf, sizeof(buf)) != SKM_OK) {
			warnx("no store path: set SKM_DB, XDG_DATA_HOME or "
			    "HOME, or use --db FILE");
			return EXIT_DATA;
		}
		path = buf;
	}
	/* Reading never creates a store: a mistyped --db is an error, not
	 * an empty result. */
	/* skm begin/end write their event at once (the journal takes it
	 * only when the store cannot). */
	rc = skm_open(path, ((ctx->cmd->flags & CMD_WRITE) ? 0 :
	    SKM_OPEN_NOCREATE) | SKM_OPEN_DIRECT, &db);
	if (rc == SKM_CANTOPEN && access(path, F_OK) != 0) {
		warnx("%s: no store here yet: nothing has been recorded "
		    "(skm-run creates it)", cmd_safe(path));
		skm_close(db);
		return EXIT_DATA;
	}
	if (rc != SKM_OK) {
		msg = db != NULL ? skm_errmsg(db) : skm_errstr(rc);
		if (msg == NULL || *msg == '\0')
			msg = skm_errstr(rc);
		/* The library's message may already start with the path. */
		n = strlen(path);
		if (strncmp(msg, path, n) == 0 && msg[n] == ':')
			warnx("%s", cmd_safe(msg));
		else
			warnx("%s: %s", cmd_safe(path), cmd_safe(msg));
		skm_close(db);
		return EXIT_DATA;
	}
	ctx->db = db;
	/* The fold at open is bounded (a query answers in time); what it
	 * left goes on in the background, as after a recorder that crossed
	 * the journal's threshold -- not when another fold is running. */
	if ((ctx->cmd->flags & CMD_READ) && skm_fold_pending(db) == 1)
		background_fold(path);
	return 0;
}

/* --- help and main ------------------------------------------------------- */

static const struct cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(name, cmd_table[i].name) == 0)
			return &cmd_table[i];
	return NULL;
}

static int
unknown_command(const char *name)
{
	char hint[256];

	suggest_command(hint, sizeof(hint), name);
	return usage_error(NULL, "unknown command: %s%s", cmd_safe(name),
	    hint);
}

/* skm help [COMMAND]: what each command is for, and the environment. */
int
cmd_help(struct cmd_ctx *ctx)
{
	const struct cmd *cmd;
	size_t i;

	if (ctx->argc > 0) {
		if ((cmd = find_command(ctx->argv[0])) == NULL)
			return unknown_command(ctx->argv[0]);
		print_help(cmd);
		return 0;
	}
	printf("usage: skm [--db FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < cmd_table_len; i++)
		if (!(cmd_table[i].flags & CMD_HIDDEN))
			printf("  %-12s %s\n", cmd_table[i].name,
			    cmd_table[i].summary);
	printf("\n`skm help COMMAND` or `skm COMMAND --help` shows a "
	    "command's options.\nCommands that print data take --json.  "
	    "Exit status: 0 success, 1 the\nstore or the data failed, 2 a "
	    "usage error.\n\n"
	    "The store: --db FILE, else $SKM_DB, else "
	    "$XDG_DATA_HOME/skm/metrics.db\n(~/.local/share/skm/metrics.db).  "
	    "SKM_BUSY_TIMEOUT_MS bounds the wait\nfor its lock (default "
	    "2000).\n\n"
	    "A fleet: `skm sync` pushes the store's ended runs to a "
	    "PostgreSQL server;\n--server URL (alone: $SKM_SERVER) runs a "
	    "query command on the server\ninstead, and --host H (repeatable) "
	    "narrows a query to machines.\n");
	return 0;
}

static int
dispatch(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct parse p = { 0 };
	int i = 1, r, bad;

	known_for(&p.k, NULL);
	if ((r = parse_options(&p, ctx, argc, argv, &i)) != 0)
		return r;
	if (p.help) {
		usage(stdout);
		return 0;
	}
	if (p.version) {
		cmd_print_version();
		return 0;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((ctx->cmd = find_command(argv[i])) == NULL)
		return unknown_command(argv[i]);

	p.cmd = ctx->cmd;
	known_for(&p.k, ctx->cmd);
	i++;
	if ((r = parse_options(&p, ctx, argc, argv, &i)) != 0)
		return r;
	if (p.help) {
		print_help(ctx->cmd);
		return 0;
	}
	if ((r = check_command_line(ctx)) != 0)
		return r;
	(void)skm_busy_timeout_ms(&bad);
	if (bad)
		warnx("SKM_BUSY_TIMEOUT_MS=%s is not a number of milliseconds "
		    "from 0 to %d: using the default",
		    cmd_safe(getenv("SKM_BUSY_TIMEOUT_MS")), SKM_BUSY_MAX_MS);
	return ctx->cmd->run(ctx);
}

/*
 * bare_server - `--server` followed by a command name, another option or
 * nothing means $SKM_SERVER: it becomes `--server=` (an empty URL).
 */
static void
bare_server(int argc, char **argv)
{
	static char bare[] = "--server=";
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--server") == 0 && (i + 1 == argc ||
		    argv[i + 1][0] == '-' || find_command(argv[i + 1]) != NULL))
			argv[i] = bare;
}

int
main(int argc, char *argv[])
{
	struct cmd_ctx ctx = { 0 };
	int r;

	/* Character widths for aligning non-ASCII names. */
	setlocale(LC_CTYPE, "");

	/* No more options, nor operands, than arguments. */
	ctx.vals = calloc(argc + 1, sizeof(*ctx.vals));
	ctx.argv = calloc(argc + 1, sizeof(*ctx.argv));
	if (ctx.vals == NULL || ctx.argv == NULL)
		err(EXIT_DATA, NULL);

	bare_server(argc, argv);
	r = dispatch(&ctx, argc, argv);
	skm_close(ctx.db);
	free(ctx.vals);
	free(ctx.argv);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		if (r == 0)
			r = EXIT_DATA;
	}
	return r;
}
