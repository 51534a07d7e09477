/*
 * skm - query and administer the skm store.
 *
 *	skm [--db FILE] COMMAND [ARGS]
 *
 * main() reads the global options up to the command name, then hands the
 * rest of argv to the command's function, which reads its own options with
 * getopt_long (so --db and --json may come anywhere after the command).
 * Every command goes through libskm: this program never writes SQL.  Query
 * commands print either the library's JSON document as it is (--json) or a
 * human table made by fmt.c from the same query's cursor.
 *
 * Exit status: 0 success, 1 the store or the data failed, 2 usage error.
 * Anything that came from the store or from the user and is echoed on
 * stderr goes through fmt_safe() so that it cannot carry escape sequences.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm.h"
#include "fmt.h"

#define EXIT_DATA  1	/* the store or the data failed */
#define EXIT_USAGE 2

struct cmd {
	const char *name;
	int (*fn)(int, char **, const struct cmd *);
	const char *synopsis;	/* after "skm NAME " */
	int writes;		/* may create the store; else it must exist */
	const char *what;	/* one line for `skm help` */
};

static const struct cmd *current;	/* the command being run */
static int cmd_help(int, char **, const struct cmd *);

static const char *dbpath;	/* --db FILE; NULL: skm_default_path() */
static int json;		/* --json */

static void usage(FILE *);

/*
 * safe - a printable copy of s for a message.  The copies live in a small
 * ring so that a message can hold several; each is freed when its slot is
 * reused.
 */
static const char *
safe(const char *s)
{
	static char *ring[4];
	static int next;
	char *p;

	if ((p = fmt_safe(s, 0, NULL)) == NULL)
		return "?";
	free(ring[next]);
	ring[next] = p;
	next = (next + 1) % 4;
	return p;
}

/* usage_error - print a message and the command's synopsis on stderr;
 * returns EXIT_USAGE. */
static int
usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "usage: skm %s%s%s\n", cmd->name,
		    *cmd->synopsis ? " " : "", cmd->synopsis);
	else
		usage(stderr);
	return EXIT_USAGE;
}

/*
 * opt_error - report what getopt_long() rejected (it returned ch, '?' or
 * ':', with opterr off) and return EXIT_USAGE.
 */
static int
opt_error(const struct cmd *cmd, int ch, char **argv,
    const struct option *opts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];
	size_t n;
	int islong = strncmp(arg, "--", 2) == 0, known = 0;

	for (; opts != NULL && opts->name != NULL; opts++)
		if (optopt != 0 && opts->val == optopt)
			known = 1;
	if (islong && (ch == ':' || optopt == 0 || known)) {
		n = strcspn(arg, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, arg);
	} else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (ch == ':')
		return usage_error(cmd, "option %s needs an argument",
		    safe(name));
	if (islong && known && strchr(arg, '=') != NULL)
		return usage_error(cmd, "option %s takes no argument",
		    safe(name));
	return usage_error(cmd, "unknown option: %s", safe(name));
}

/* A number option: strtonum() within [min, max], or a usage error. */
static int
number(const struct cmd *cmd, const char *opt, const char *s,
    long long min, long long max, long long *out)
{
	const char *errstr;

	*out = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		return usage_error(cmd, "%s %s: %s", opt, safe(s), errstr);
	return 0;
}

/*
 * opendb - open the store for a command, creating it if need be (so that
 * queries on a fresh machine show an empty result).  Exits with 1 and
 * "skm: PATH: message" when it cannot.
 */
static struct skm_db *
opendb(void)
{
	char buf[PATH_MAX];
	const char *path = dbpath, *msg;
	struct skm_db *db = NULL;
	size_t n;
	int rc;

	if (path == NULL) {
		if (skm_default_path(buf, sizeof(buf)) != SKM_OK)
			errx(EXIT_DATA, "no store path: set SKM_DB, "
			    "XDG_DATA_HOME or HOME, or use --db FILE");
		path = buf;
	}
	/* Reading never creates a store: a mistyped --db is an error, not
	 * an empty result. */
	rc = skm_open(path, current != NULL && !current->writes ?
	    SKM_OPEN_NOCREATE : 0, &db);
	if (rc == SKM_CANTOPEN && access(path, F_OK) != 0) {
		warnx("%s: no store here yet: nothing has been recorded "
		    "(skm-run creates it)", safe(path));
		skm_close(db);
		exit(EXIT_DATA);
	}
	if (rc != SKM_OK) {
		msg = db != NULL ? skm_errmsg(db) : skm_errstr(rc);
		if (msg == NULL || *msg == '\0')
			msg = skm_errstr(rc);
		/* The library's message may already start with the path. */
		n = strlen(path);
		if (strncmp(msg, path, n) == 0 && msg[n] == ':')
			warnx("%s", safe(msg));
		else
			warnx("%s: %s", safe(path), safe(msg));
		skm_close(db);
		exit(EXIT_DATA);
	}
	return db;
}

/* fail - report a failed library call on db; returns the exit status
 * (2 for a bad argument, 1 otherwise). */
static int
fail(struct skm_db *db, int rc)
{
	const char *msg = skm_errmsg(db);

	if (msg == NULL || *msg == '\0')
		msg = skm_errstr(rc);
	warnx("%s", safe(msg));
	return rc == SKM_MISUSE ? EXIT_USAGE : EXIT_DATA;
}

/* --json: print the library's document as it is. */
static int
print_json(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *qa)
{
	char *out = NULL;
	int rc;

	if ((rc = skm_query_json(db, q, qa, &out)) != SKM_OK) {
		if (rc == SKM_NOTFOUND && q == SKM_Q_SHOW) {
			warnx("no such skill: %s", safe(qa->skill));
			return EXIT_DATA;
		}
		return fail(db, rc);
	}
	printf("%s\n", out);
	skm_free(out);
	return 0;
}

/* Print query q as a table (empty: the text shown for no rows, or NULL
 * for just the header). */
static int
print_table(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *qa, const char *empty)
{
	struct skm_cursor *c = NULL;
	int rc;

	if ((rc = skm_query_open(db, q, qa, &c)) != SKM_OK)
		return fail(db, rc);
	if (fmt_table(stdout, c, empty) < 0) {
		skm_cursor_close(c);
		return fail(db, SKM_ERROR);
	}
	skm_cursor_close(c);
	return 0;
}

/*
 * print_record - print the one row of query q as "key: value" lines,
 * leaving out the columns in skip.  A query without a row (an unknown
 * skill) is SKM_NOTFOUND.
 */
static int
print_record(struct skm_db *db, enum skm_query q,
    const struct skm_query_args *qa, const char *const *skip)
{
	struct skm_cursor *c = NULL;
	int rc, r;

	rc = skm_query_open(db, q, qa, &c);
	if (rc == SKM_NOTFOUND)
		return SKM_NOTFOUND;
	if (rc != SKM_OK)
		return fail(db, rc);
	if ((r = skm_cursor_step(c)) <= 0) {
		skm_cursor_close(c);
		return r == 0 ? SKM_NOTFOUND : fail(db, SKM_ERROR);
	}
	if (fmt_record(stdout, c, skip) < 0) {
		skm_cursor_close(c);
		warnx("out of memory");
		return EXIT_DATA;
	}
	skm_cursor_close(c);
	return 0;
}

/* The options every command takes. */
#define OPT_DB    { "db",   required_argument, NULL, 'D' }
#define OPT_HELP  { "help", no_argument,       NULL, 'h' }
#define OPT_JSON  { "json", no_argument,       NULL, 'j' }
#define OPT_END   { NULL, 0, NULL, 0 }

/* Options common to all commands; returns 1 if handled, -1 for --help
 * (already printed). */
static int
common_opt(const struct cmd *cmd, int ch)
{
	switch (ch) {
	case 'D':
		dbpath = optarg;
		return 1;
	case 'h':
		printf("usage: skm %s%s%s\n", cmd->name,
		    *cmd->synopsis ? " " : "", cmd->synopsis);
		return -1;
	case 'j':
		json = 1;
		return 1;
	}
	return 0;
}

/*
 * getopts - read the options of a command that takes only the common
 * ones (those in opts).  Leaves optind at the first operand.  Returns -1
 * to go on, or the exit status.
 */
static int
getopts(const struct cmd *cmd, int argc, char **argv,
    const struct option *opts)
{
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r == 0)
			return opt_error(cmd, ch, argv, opts);
	}
	return -1;
}

/* Check the number of operands: between min and max; what names the
 * first one for the message when it is missing. */
static int
operands(const struct cmd *cmd, int argc, char **argv, int min, int max,
    const char *what)
{
	if (argc < min)
		return usage_error(cmd, "%s: missing %s", cmd->name, what);
	if (argc > max)
		return usage_error(cmd, "%s: unexpected argument: %s",
		    cmd->name, safe(argv[max]));
	return -1;
}

/* The plain query commands: open the store, print q as --json or as a
 * table (empty: what to say for no rows), close. */
static int
run_query(enum skm_query q, const struct skm_query_args *qa,
    const char *empty)
{
	struct skm_db *db = opendb();
	int r;

	r = json ? print_json(db, q, qa) : print_table(db, q, qa, empty);
	skm_close(db);
	return r;
}

static int
cmd_stats(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    OPT_END };
	struct skm_query_args qa = { 0 };
	int r;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	return run_query(SKM_Q_STATS, &qa, "no skills recorded yet");
}

static int
cmd_show(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    OPT_END };
	/* Shown below as rows of SKM_Q_SHOW_COUNTS instead of JSON text. */
	static const char *const maps[] = { "workflow_paths",
	    "common_errors", "follow_up_actions", NULL };
	struct skm_query_args qa = { 0 };
	struct skm_db *db;
	int r;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "SKILL")) >= 0)
		return r;
	qa.skill = argv[0];

	db = opendb();
	if (json)
		r = print_json(db, SKM_Q_SHOW, &qa);
	else if ((r = print_record(db, SKM_Q_SHOW, &qa, maps)) == 0) {
		putchar('\n');
		r = print_table(db, SKM_Q_SHOW_COUNTS, &qa,
		    "no workflow paths, errors or follow-up actions recorded");
	}
	if (r == SKM_NOTFOUND) {
		warnx("no such skill: %s", safe(qa.skill));
		r = EXIT_DATA;
	}
	skm_close(db);
	return r;
}

static int
cmd_summary(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    OPT_END };
	static const char *const tops[] = { "top_error_types",
	    "top_workflow_paths", NULL };
	struct skm_query_args qa = { 0 };
	struct skm_db *db;
	int r;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	db = opendb();
	if (json)
		r = print_json(db, SKM_Q_SUMMARY, &qa);
	else if ((r = print_record(db, SKM_Q_SUMMARY, &qa, tops)) ==
	    SKM_NOTFOUND) {
		/* The summary always has its one row; say so if not. */
		warnx("summary query returned no row");
		r = EXIT_DATA;
	} else if (r == 0) {
		/* The top lists as tables rather than JSON text. */
		qa.limit = 5;
		printf("\ntop error types:\n");
		if ((r = print_table(db, SKM_Q_ERRORS, &qa, "  none")) == 0) {
			printf("\ntop workflow paths:\n");
			r = print_table(db, SKM_Q_WORKFLOWS, &qa, "  none");
		}
	}
	skm_close(db);
	return r;
}

static int
cmd_recent(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    { "skill",  required_argument, NULL, 's' },
	    { "limit",  required_argument, NULL, 'l' },
	    { "failed", no_argument,       NULL, 'f' },
	    OPT_END };
	struct skm_query_args qa = { 0 };
	long long n;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'f':
			qa.failed = 1;
			break;
		case 'l':
			if ((r = number(cmd, "--limit", optarg, 1,
			    1000000000, &n)) != 0)
				return r;
			qa.limit = (long)n;
			break;
		case 's':
			qa.skill = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	return run_query(SKM_Q_RECENT, &qa, NULL);
}

static int
cmd_begin(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP,
	    { "skill",    required_argument, NULL, 's' },
	    { "workflow", required_argument, NULL, 'w' },
	    { "session",  required_argument, NULL, 'S' },
	    { "project",  required_argument, NULL, 'p' },
	    OPT_END };
	/* The invocation lives as long as whoever ran `skm begin` (a shell,
	 * a script): its pid is the one `skm reap` watches. */
	struct skm_begin_info bi = { .source = "lib", .pid = getppid() };
	struct skm_inv *inv = NULL;
	struct skm_db *db;
	int ch, r, rc;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'p':
			bi.project = optarg;
			break;
		case 'S':
			bi.session = optarg;
			break;
		case 's':
			bi.skill = optarg;
			break;
		case 'w':
			bi.workflow = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;
	if (bi.skill == NULL)
		return usage_error(cmd, "begin: --skill is required");

	db = opendb();
	if ((rc = skm_begin(db, &bi, &inv)) != SKM_OK)
		r = fail(db, rc);
	else {
		printf("%s\n", skm_inv_id(inv));
		/* It stays running in the store until `skm end ID`. */
		skm_inv_free(inv);
		r = 0;
	}
	skm_close(db);
	return r;
}

static int
cmd_end(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP,
	    { "exit",       required_argument, NULL, 'x' },
	    { "completed",  no_argument,       NULL, 'c' },
	    { "failed",     no_argument,       NULL, 'f' },
	    { "error-type", required_argument, NULL, 'e' },
	    { "follow-up",  required_argument, NULL, 'a' },
	    OPT_END };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	const char **fu;
	struct skm_db *db;
	long long n;
	int ch, r, rc, mode = 0;
	const char *why;

	/* No more follow-ups than arguments. */
	if ((fu = calloc(argc + 1, sizeof(*fu))) == NULL)
		err(EXIT_DATA, NULL);
	ei.completed = 1;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			goto out;
		if (r > 0)
			continue;
		switch (ch) {
		case 'a':
			fu[ei.n_follow_ups++] = optarg;
			break;
		case 'c':
		case 'f':
		case 'x':
			if (mode != 0 && mode != ch) {
				r = usage_error(cmd, "--exit, --completed and "
				    "--failed exclude each other");
				goto out;
			}
			mode = ch;
			ei.completed = ch != 'f';
			if (ch == 'x') {
				if ((r = number(cmd, "--exit", optarg, 0, 255,
				    &n)) != 0)
					goto out;
				ei.exit_code = (int)n;
				ei.completed = n == 0;
			}
			break;
		case 'e':
			ei.error_type = optarg;
			break;
		default:
			r = opt_error(cmd, ch, argv, opts);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "ID")) >= 0)
		goto out;
	ei.follow_ups = fu;

	db = opendb();
	rc = skm_end_id(db, argv[0], &ei);
	if (rc == SKM_NOTFOUND) {
		warnx("no such invocation: %s", safe(argv[0]));
		r = EXIT_DATA;
	} else if (rc == SKM_ENDED) {
		warnx("invocation %s already ended", safe(argv[0]));
		r = EXIT_DATA;
	} else if (rc != SKM_OK)
		r = fail(db, rc);
	else
		r = 0;
	if (r == 0 && skm_spooled(db, &why) > 0)
		warnx("store unavailable, end kept in the spool: %s", safe(why));
	skm_close(db);
out:
	free(fu);
	return r;
}

static int
cmd_end_session(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_END };
	struct skm_db *db;
	int r, rc, n = 0;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "session ID")) >= 0)
		return r;

	db = opendb();
	rc = skm_end_session(db, argv[0], &n);
	if (rc == SKM_NOTFOUND) {
		warnx("no such session: %s", safe(argv[0]));
		r = EXIT_DATA;
	} else if (rc != SKM_OK)
		r = fail(db, rc);
	else {
		printf("%d skill%s updated\n", n, n == 1 ? "" : "s");
		r = 0;
	}
	skm_close(db);
	return r;
}

/*
 * sparkline - the invocations column of the timeline, read again from
 * the query, as a line of block characters.
 */
static int
sparkline(struct skm_db *db, const struct skm_query_args *qa)
{
	struct skm_cursor *c = NULL;
	long long *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int rc, r, col, ncol;

	if ((rc = skm_query_open(db, SKM_Q_TIMELINE, qa, &c)) != SKM_OK)
		return fail(db, rc);
	ncol = skm_cursor_columns(c);
	for (col = 0; col < ncol; col++)
		if (strcmp(skm_cursor_name(c, col), "invocations") == 0)
			break;
	while ((r = skm_cursor_step(c)) == 1 && col < ncol) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				err(EXIT_DATA, NULL);
			v = nv;
		}
		v[n++] = skm_cursor_int(c, col);
	}
	skm_cursor_close(c);
	if (r < 0) {
		free(v);
		return fail(db, SKM_ERROR);
	}
	putchar('\n');
	fmt_sparkline(stdout, v, n);
	free(v);
	return 0;
}

static int
cmd_timeline(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    { "bucket", required_argument, NULL, 'b' },
	    { "since",  required_argument, NULL, 'S' },
	    { "until",  required_argument, NULL, 'U' },
	    OPT_END };
	struct skm_query_args qa = { 0 };
	struct skm_db *db;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'b':
			qa.bucket = optarg;
			break;
		case 'S':
			qa.since = optarg;
			break;
		case 'U':
			qa.until = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "SKILL")) >= 0)
		return r;
	qa.skill = argv[0];

	db = opendb();
	if (json)
		r = print_json(db, SKM_Q_TIMELINE, &qa);
	else if ((r = print_table(db, SKM_Q_TIMELINE, &qa, NULL)) == 0)
		r = sparkline(db, &qa);
	skm_close(db);
	return r;
}

/* The operands joined by spaces: `skm search ci full` = "ci full". */
static char *
join(int argc, char **argv)
{
	size_t n = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((s = malloc(n)) == NULL)
		err(EXIT_DATA, NULL);
	*s = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strlcat(s, " ", n);
		strlcat(s, argv[i], n);
	}
	return s;
}

static int
cmd_search(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    { "limit", required_argument, NULL, 'l' },
	    OPT_END };
	struct skm_query_args qa = { 0 };
	long long n;
	char *text;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'l':
			if ((r = number(cmd, "--limit", optarg, 1,
			    1000000000, &n)) != 0)
				return r;
			qa.limit = (long)n;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, INT_MAX, "QUERY")) >= 0)
		return r;
	qa.text = text = join(argc, argv);

	r = run_query(SKM_Q_SEARCH, &qa, "no matches");
	free(text);
	return r;
}

static int
cmd_errors(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    { "skill", required_argument, NULL, 's' },
	    { "limit", required_argument, NULL, 'l' },
	    OPT_END };
	struct skm_query_args qa = { 0 };
	long long n;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'l':
			if ((r = number(cmd, "--limit", optarg, 1,
			    1000000000, &n)) != 0)
				return r;
			qa.limit = (long)n;
			break;
		case 's':
			qa.skill = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	return run_query(SKM_Q_ERRORS, &qa, "no errors recorded");
}

static int
cmd_session(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_JSON,
	    OPT_END };
	struct skm_query_args qa = { 0 };
	struct skm_cursor *c = NULL;
	struct skm_db *db;
	int r, rc;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "session ID")) >= 0)
		return r;
	qa.session = argv[0];

	db = opendb();
	/* A session nothing was counted in is unknown, as for end-session. */
	if ((rc = skm_query_open(db, SKM_Q_SESSION, &qa, &c)) != SKM_OK)
		r = fail(db, rc);
	else if ((rc = skm_cursor_step(c)) <= 0) {
		if (rc < 0)
			r = fail(db, SKM_ERROR);
		else {
			warnx("no such session: %s", safe(qa.session));
			r = EXIT_DATA;
		}
	} else if (json)
		r = print_json(db, SKM_Q_SESSION, &qa);
	else
		r = print_table(db, SKM_Q_SESSION, &qa, NULL);
	skm_cursor_close(c);
	skm_close(db);
	return r;
}

static int
cmd_import(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_END };
	struct skm_import_result res;
	const char *name = "-";
	struct skm_db *db;
	FILE *in = stdin;
	int r, rc;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 1, NULL)) >= 0)
		return r;
	if (argc > 0 && strcmp(argv[0], "-") != 0) {
		name = argv[0];
		if ((in = fopen(name, "re")) == NULL) {
			warn("%s", safe(name));
			return EXIT_DATA;
		}
	}

	db = opendb();
	rc = skm_import(db, in, &res);
	if (rc == SKM_OK) {
		printf("%lld record%s: %lld imported, %lld already present; "
		    "%lld skill%s recomputed\n", res.records,
		    res.records == 1 ? "" : "s", res.inserted, res.skipped,
		    res.skills, res.skills == 1 ? "" : "s");
		r = 0;
	} else {
		/* Nothing was written: say where the input went wrong. */
		warnx("%s: %s", strcmp(name, "-") == 0 ? "stdin" : safe(name),
		    safe(skm_errmsg(db)));
		r = rc == SKM_MISUSE ? EXIT_USAGE : EXIT_DATA;
	}
	skm_close(db);
	if (in != stdin)
		fclose(in);
	return r;
}

static int
cmd_export(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP,
	    { "format", required_argument, NULL, 'f' },
	    { "since",  required_argument, NULL, 'S' },
	    { "skill",  required_argument, NULL, 's' },
	    OPT_END };
	struct skm_export_args ea = { 0 };
	struct skm_db *db;
	int ch, r, rc;

	ea.format = SKM_EXPORT_JSONL;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				ea.format = SKM_EXPORT_JSONL;
			else if (strcmp(optarg, "csv") == 0)
				ea.format = SKM_EXPORT_CSV;
			else
				return usage_error(cmd, "--format %s: use "
				    "jsonl or csv", safe(optarg));
			break;
		case 'S':
			ea.since = optarg;
			break;
		case 's':
			ea.skill = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	db = opendb();
	rc = skm_export(db, &ea, stdout, NULL);
	r = rc == SKM_OK ? 0 : fail(db, rc);
	skm_close(db);
	return r;
}

static int
cmd_backup(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP,
	    { "force", no_argument, NULL, 'f' },
	    OPT_END };
	struct skm_db *db;
	int ch, r, rc, flags = 0;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'f':
			flags |= SKM_BACKUP_FORCE;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 1, 1, "FILE")) >= 0)
		return r;

	db = opendb();
	rc = skm_backup(db, argv[0], flags);
	r = rc == SKM_OK ? 0 : fail(db, rc);
	skm_close(db);
	return r;
}

/* skm_reap() callback: one line per invocation ended. */
static void
reaped(void *arg, const char *id, const char *skill)
{
	(void)arg;
	printf("abandoned %s %s\n", safe(id), safe(skill));
}

static int
cmd_reap(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP,
	    { "older-than", required_argument, NULL, 'o' },
	    OPT_END };
	const char *older = NULL;
	struct skm_db *db;
	int ch, r, rc, n = 0;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = common_opt(cmd, ch)) < 0)
			return 0;
		if (r > 0)
			continue;
		switch (ch) {
		case 'o':
			older = optarg;
			break;
		default:
			return opt_error(cmd, ch, argv, opts);
		}
	}
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	db = opendb();
	rc = skm_reap(db, older, reaped, NULL, &n);
	if (rc == SKM_OK) {
		printf("%d invocation%s reaped\n", n, n == 1 ? "" : "s");
		r = 0;
	} else
		r = fail(db, rc);
	skm_close(db);
	return r;
}

/* skm_check() callback: one problem (or note) per line on stdout. */
static void
problem(void *arg, const char *line)
{
	int *n = arg;

	printf("%s\n", safe(line));
	if (strncmp(line, "note: ", 6) != 0)
		(*n)++;
}

static int
cmd_check(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_END };
	struct skm_db *db;
	int r, rc, n = 0;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;

	db = opendb();
	rc = skm_check(db, problem, &n);
	if (rc == SKM_OK) {
		printf("ok\n");
		r = 0;
	} else if (rc == SKM_CHECK) {
		warnx("%d problem%s found", n, n == 1 ? "" : "s");
		r = EXIT_DATA;
	} else
		r = fail(db, rc);
	skm_close(db);
	return r;
}

static int
cmd_recompute(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_END };
	struct skm_db *db;
	int r, rc;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 1, NULL)) >= 0)
		return r;

	db = opendb();
	rc = skm_recompute(db, argc > 0 ? argv[0] : NULL);
	if (rc == SKM_NOTFOUND) {
		warnx("no such skill: %s", safe(argv[0]));
		r = EXIT_DATA;
	} else if (rc != SKM_OK)
		r = fail(db, rc);
	else
		r = 0;
	skm_close(db);
	return r;
}

/* skm drain: apply what waits in the spool now. */
static int
cmd_drain(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_DB, OPT_HELP, OPT_END };
	struct skm_db *db;
	int r, rc, n = 0;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;
	db = opendb();
	if ((rc = skm_drain(db, &n)) != SKM_OK)
		r = fail(db, rc);
	else {
		printf("%d event%s applied from the spool\n", n,
		    n == 1 ? "" : "s");
		r = 0;
	}
	skm_close(db);
	return r;
}

static int
cmd_version(int argc, char **argv, const struct cmd *cmd)
{
	static const struct option opts[] = { OPT_HELP, OPT_END };
	int r;

	if ((r = getopts(cmd, argc, argv, opts)) >= 0)
		return r;
	argc -= optind;
	argv += optind;
	if ((r = operands(cmd, argc, argv, 0, 0, NULL)) >= 0)
		return r;
	printf("skm %s (libskm %s, schema %d)\n", SKM_VERSION,
	    skm_libversion(), skm_schema_latest());
	return 0;
}


/* In the order `skm help` lists them. */
static const struct cmd cmds[] = {
	{ "stats",	 cmd_stats,	  "[--json]", 0,
	  "one row per skill: runs, completion, average and p50/p95/p99" },
	{ "show",	 cmd_show,	  "SKILL [--json]", 0,
	  "one skill in detail, with its workflow, error and follow-up counts" },
	{ "summary",	 cmd_summary,	  "[--json]", 0,
	  "all skills at a glance, top error types and workflow paths" },
	{ "recent",	 cmd_recent,
	    "[--skill S] [--limit N] [--failed] [--json]", 0,
	  "the latest invocations (20 unless --limit), or failures only" },
	{ "timeline",	 cmd_timeline,
	    "SKILL [--since T] [--until T] [--bucket minute|hour|day|week] "
	    "[--json]", 0,
	  "runs, completions and average duration per time bucket" },
	{ "search",	 cmd_search,	  "QUERY [--limit N] [--json]", 0,
	  "full-text (FTS5) search over skill names and workflow paths" },
	{ "errors",	 cmd_errors,	  "[--skill S] [--limit N] [--json]", 0,
	  "error types by count and share of runs" },
	{ "session",	 cmd_session,	  "ID [--json]", 0,
	  "the skills a session used" },
	{ "begin",	 cmd_begin,
	    "--skill S [--workflow W] [--session ID] [--project P]", 1,
	  "start an invocation by hand; prints its id" },
	{ "end",	 cmd_end,
	    "ID [--exit N | --completed | --failed] [--error-type T] "
	    "[--follow-up A]...", 1,
	  "end an invocation (--completed unless told otherwise)" },
	{ "end-session", cmd_end_session, "ID", 1,
	  "store exact min/max/p50/p95/p99 for every skill of a session" },
	{ "import",	 cmd_import,	  "[FILE | -]", 1,
	  "add invocations from JSON Lines or CSV (all or nothing)" },
	{ "export",	 cmd_export,
	    "[--since T] [--skill S] [--format jsonl|csv]", 0,
	  "write ended invocations as JSON Lines or CSV" },
	{ "check",	 cmd_check,	  "", 0,
	  "integrity check; aggregates must equal a recompute" },
	{ "recompute",	 cmd_recompute,	  "[SKILL]", 1,
	  "rebuild aggregates (and stored percentiles) from the invocations" },
	{ "drain",	 cmd_drain,	  "", 1,
	  "apply the runs waiting in the spool now" },
	{ "reap",	 cmd_reap,	  "[--older-than DUR]", 1,
	  "end as 'abandoned' the running invocations whose process is gone" },
	{ "backup",	 cmd_backup,	  "FILE [--force]", 0,
	  "a consistent copy of the store, taken online" },
	{ "version",	 cmd_version,	  "", 0, "print the versions" },
	{ "help",	 cmd_help,	  "[COMMAND]", 0, "this help" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: skm [--db FILE] COMMAND [ARGS]\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "       skm %s%s%s\n", cmds[i].name,
		    *cmds[i].synopsis ? " " : "", cmds[i].synopsis);
}

/* skm help [COMMAND]: what each command is for, and the environment. */
static int
cmd_help(int argc, char **argv, const struct cmd *cmd)
{
	size_t i;

	(void)cmd;
	if (argc > 1) {
		for (i = 0; i < NCMDS; i++) {
			if (strcmp(argv[1], cmds[i].name) != 0)
				continue;
			printf("usage: skm %s%s%s\n\n  %s\n", cmds[i].name,
			    *cmds[i].synopsis ? " " : "", cmds[i].synopsis,
			    cmds[i].what);
			return 0;
		}
		return usage_error(NULL, "unknown command: %s",
		    safe(argv[1]));
	}
	printf("usage: skm [--db FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %-12s %s\n", cmds[i].name, cmds[i].what);
	printf("\n`skm help COMMAND` shows a command's options.  Commands that "
	    "print data\ntake --json.  Exit status: 0 success, 1 the store or "
	    "the data failed,\n2 a usage error.\n\n"
	    "The store: --db FILE, else $SKM_DB, else "
	    "$XDG_DATA_HOME/skm/metrics.db\n(~/.local/share/skm/metrics.db).  "
	    "SKM_BUSY_TIMEOUT_MS bounds the wait\nfor its lock (default "
	    "2000).\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option gopts[] = { OPT_DB, OPT_HELP,
	    { "version", no_argument, NULL, 'V' }, OPT_END };
	const struct cmd *cmd = NULL;
	size_t i;
	int ch, r;

	/* Character widths for aligning non-ASCII names. */
	setlocale(LC_CTYPE, "");
	opterr = 0;

	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+:h", gopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			dbpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("skm %s (libskm %s, schema %d)\n", SKM_VERSION,
			    skm_libversion(), skm_schema_latest());
			return 0;
		default:
			return opt_error(NULL, ch, argv, gopts);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL)
		return usage_error(NULL, "unknown command: %s", safe(argv[0]));

	optind = 0;	/* glibc: start over, argv[0] being the command */
	current = cmd;
	r = cmd->fn(argc, argv, cmd);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		if (r == 0)
			r = EXIT_DATA;
	}
	return r;
}
