/*
 * skm-run - run a command and record it as one invocation of a skill.
 *
 *	skm-run --skill crackerjack-run -- python -m crackerjack
 *
 * The invocation is made in memory first (its id and start times), so its
 * id can go into the child's environment as SKM_INVOCATION_ID before the
 * fork.  Recording is two events appended to the journal beside the store
 * (lib/record.c): the begin, written while the command already runs, and
 * the end, with its exit status (or signal, or the errno of a failed
 * exec), CPU time and peak RSS.  skm-run never opens the store and never
 * loads SQLite: the fold applies the events later (at the next query,
 * `skm drain`, or a background fold started here when the journal grows).
 * Then skm-run exits exactly as the command did.
 *
 * Recording is fail-open: whatever goes wrong with the journal costs at
 * most one warning line on stderr (none with -q) and never changes the
 * exit status.  Process handling lives in spawn.c.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm.h"
#include "record.h"
#include "recorder.h"
#include "spawn.h"

/* The recording of one run: its invocation and the journal it goes to. */
struct rec {
	struct skm__rec rec;
	int recording;		/* 0: not recording */
	int began;		/* the begin is in the journal */
	int warned;		/* the one warning was given */
	int quiet;
};

/* Events are formatted here: skm-run is single-threaded. */
static unsigned char evbuf[SKM__REC_HDR + SKM__REC_MAX];
static struct skm__event event;

enum {
	OPT_DB = CHAR_MAX + 1,
	OPT_HELP,
	OPT_NOCOMMAND,
	OPT_PROJECT,
	OPT_SESSION,
	OPT_VERSION
};

static const struct option longopts[] = {
	{ "db",		required_argument,	NULL,	OPT_DB },
	{ "follow-up",	required_argument,	NULL,	'f' },
	{ "help",	no_argument,		NULL,	OPT_HELP },
	{ "version",	no_argument,		NULL,	OPT_VERSION },
	{ "no-command",	no_argument,		NULL,	OPT_NOCOMMAND },
	{ "project",	required_argument,	NULL,	OPT_PROJECT },
	{ "quiet",	no_argument,		NULL,	'q' },
	{ "session",	required_argument,	NULL,	OPT_SESSION },
	{ "skill",	required_argument,	NULL,	's' },
	{ "workflow",	required_argument,	NULL,	'w' },
	{ NULL,		0,			NULL,	0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: skm-run [-s NAME | --skill NAME] [-w PATH | --workflow PATH] "
	    "[--session ID]\n"
	    "               [--project DIR] [--db FILE] "
	    "[-f ACTION | --follow-up ACTION]...\n"
	    "               [--no-command] [-q | --quiet] [--] COMMAND [ARG]...\n");
	if (status == 0)
		printf("\nRuns COMMAND and records it as an invocation of skill "
		    "NAME; exits as\nCOMMAND does (125: usage error, 126: cannot "
		    "execute, 127: not found).\nEnvironment: SKM_SKILL, "
		    "SKM_WORKFLOW, SKM_SESSION, SKM_PROJECT, SKM_DB\ngive "
		    "defaults; SKM_DISABLE=1 records nothing; SKM_REDACT adds "
		    "secret\noption names to hide; SKM_BUSY_TIMEOUT_MS bounds the "
		    "wait for the\nstore (default 2000).\n");
	exit(status);
}

/*
 * errno_name - the symbolic name of errno e for error_type "exec:NAME",
 * written into buf; the ones execve() gives are named, any other is
 * "E<number>".
 */
static const char *
errno_name(int e, char *buf, size_t size)
{
	static const struct {
		int num;
		const char *name;
	} names[] = {
		{ E2BIG, "E2BIG" },		{ EACCES, "EACCES" },
		{ EAGAIN, "EAGAIN" },		{ EFAULT, "EFAULT" },
		{ EINVAL, "EINVAL" },		{ EIO, "EIO" },
		{ EISDIR, "EISDIR" },		{ ELIBBAD, "ELIBBAD" },
		{ ELOOP, "ELOOP" },		{ EMFILE, "EMFILE" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENFILE, "ENFILE" },
		{ ENOENT, "ENOENT" },		{ ENOEXEC, "ENOEXEC" },
		{ ENOMEM, "ENOMEM" },		{ ENOTDIR, "ENOTDIR" },
		{ EPERM, "EPERM" },		{ ETXTBSY, "ETXTBSY" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].num == e)
			return names[i].name;
	snprintf(buf, size, "E%d", e);
	return buf;
}

/*
 * command_line - argv as one shell-quoted line with secrets redacted
 * (lib/redact.c, shared with the shim; $SKM_REDACT adds name patterns),
 * cut at SKM_COMMAND_MAX bytes; malloc'd, NULL when out of memory.
 */
static char *
command_line(char *const argv[], const char *extra)
{
	char *line;

	if ((line = malloc(SKM_COMMAND_MAX + 1)) == NULL)
		return NULL;
	skm__command_line(line, SKM_COMMAND_MAX + 1, -1, argv, extra);
	return line;
}

/*
 * rec_warn - the one warning of a run about the store, unless quiet: one
 * line, whatever the message holds.  SIGPIPE is ignored meanwhile, so a
 * stderr whose reader has gone cannot turn a store problem into a change
 * of skm-run's exit status.
 */
static void
rec_warn(struct rec *r, const char *what, const char *msg)
{
	struct sigaction ign, old, oldttou;

	if (!r->warned && !r->quiet) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, &old);
		/* A background job under `stty tostop` still writes its
		 * line rather than stopping the command's group. */
		sigaction(SIGTTOU, &ign, &oldttou);
		warnx("warning: %s: %.*s", what, (int)strcspn(msg, "\n"),
		    msg);
		sigaction(SIGTTOU, &oldttou, NULL);
		sigaction(SIGPIPE, &old, NULL);
	}
	r->warned = 1;
}

/*
 * skm_program - the skm program beside this skm-run (both are installed
 * into one directory, and sit side by side in the build tree), else the
 * one installed into BINDIR.
 */
static const char *
skm_program(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 8);
	char *slash;

	if (n > 0) {
		path[n] = '\0';
		if ((slash = strrchr(path, '/')) != NULL) {
			memcpy(slash + 1, "skm", 4);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return SKM_BINDIR "/skm";
}

/* The journal beside the store was refused and the run went to its
 * second place (skm__jnl_alt): say so, once, naming both. */
static void
moved_warn(struct rec *r)
{
	if (r->rec.j.moved) {
		r->rec.j.moved = 0;
		rec_warn(r, "recorded elsewhere", r->rec.j.why);
	}
}

/*
 * rec_begin - append the begin of the run to the journal.  Runs while
 * the command already runs.
 */
static void
rec_begin(struct rec *r, const struct skm_begin_info *bi)
{
	if (!r->recording)
		return;
	skm__rec_begin_event(&r->rec, &event, bi);
	if (skm__rec_append(&r->rec, &event, evbuf, sizeof(evbuf)) == 0)
		r->began = 1;
	else
		rec_warn(r, "not recorded", r->rec.j.why);
	moved_warn(r);
}

/*
 * rec_end - append the end of the run as ei says; when the begin could
 * not be written, the end carries the begin (a RUN event) so that it
 * stands alone.  A journal that has grown past its threshold gets a
 * background fold (skm drain --background, detached, at low priority).
 */
static void
rec_end(struct rec *r, const struct skm_begin_info *bi,
    const struct skm_end_info *ei)
{
	struct skm__event end;
	char store[PATH_MAX];

	if (!r->recording)
		return;
	skm__rec_end_event(r->rec.id, &event, ei);
	if (ei->duration_seconds < 0)
		skm__ev_real(&event, SKM__F_DURATION, event.mono_end -
		    r->rec.mono_start);
	if (!r->began) {
		memcpy(&end, &event, sizeof(end));
		skm__rec_begin_event(&r->rec, &event, bi);
		skm__ev_add_end(&event, &end);
	}
	if (skm__rec_append(&r->rec, &event, evbuf, sizeof(evbuf)) != 0)
		rec_warn(r, "not recorded", r->rec.j.why);
	else if (r->rec.crossed)
		skm__jnl_spawn_fold(skm_program(),
		    skm__jnl_store(&r->rec.j, store));
	moved_warn(r);
	r->recording = 0;
}

/*
 * end_info - fill ei from the command's wait status, or from the errno of
 * its failed exec (then error_type is "exec:NAME", in buf).
 */
static void
end_info(struct skm_end_info *ei, int status, int exec_errno,
    const struct rusage *ru, char *buf, size_t size)
{
	char num[16];

	ei->rusage = ru;
	if (exec_errno != 0) {
		snprintf(buf, size, "exec:%s",
		    errno_name(exec_errno, num, sizeof(num)));
		ei->error_type = buf;
		ei->exit_code = spawn_exec_status(exec_errno);
		ei->completed = 0;
	} else if (WIFEXITED(status)) {
		/* error_type NULL: the library derives exit:N. */
		ei->exit_code = WEXITSTATUS(status);
		ei->completed = ei->exit_code == 0;
	} else if (WIFSIGNALED(status)) {
		/* error_type NULL: the library derives signal:SIGNAME. */
		ei->signal = WTERMSIG(status);
	}
}

#define ENV_ID "SKM_INVOCATION_ID"
#define ENV_ROOM 256	/* entries of a command's environment on the stack */

/*
 * child_env - the command's environment: skm-run's, with
 * SKM_INVOCATION_ID=id in the place of the one it has, or added at the
 * end (where setenv() would put them).  Built in out when it has room
 * for it, else in the heap; setenv() would copy the whole environment
 * into the heap before the fork, on the command's critical path.  Out of
 * memory: skm-run's environment, without the id.
 */
static char **
child_env(char **out, size_t room, const char *id)
{
	static char var[sizeof(ENV_ID "=") + SKM_ID_LEN];
	extern char **environ;
	size_t n = 0, i, j = 0;
	int placed = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if (n + 2 <= room)
		env = out;
	else if ((env = reallocarray(NULL, n + 2, sizeof(*env))) == NULL)
		return environ;
	memcpy(var, ENV_ID "=", sizeof(ENV_ID));
	memcpy(var + sizeof(ENV_ID), id, strlen(id) + 1);
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], ENV_ID "=", sizeof(ENV_ID)) != 0)
			env[j++] = environ[i];
		else if (!placed++)
			env[j++] = var;
	}
	if (!placed)
		env[j++] = var;
	env[j] = NULL;
	return env;
}

/* run_unrecorded - SKM_DISABLE: become the command. */
static void __attribute__((noreturn))
run_unrecorded(char *const argv[])
{
	execvp(argv[0], argv);
	err(spawn_exec_status(errno), "%s", argv[0]);
}

int
main(int argc, char *argv[])
{
	struct skm_begin_info bi = { 0 };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm__recopt opt;
	static struct rec r;
	struct spawn sp;
	struct rusage ru;
	const char **follow_ups = NULL;
	const char *dbpath = NULL;
	char *project = NULL, *command = NULL, *envbuf[ENV_ROOM];
	const char *parent;
	extern char **environ;
	char **envp = environ;
	char errtype[64];
	size_t nfollow = 0;
	int ch, no_command = 0, status, exec_errno;

	skm__recopt_env(&opt, "SKM_SKILL");
	bi.skill = opt.skill;
	bi.workflow = opt.workflow;
	bi.session = opt.session;
	bi.project = opt.project;

	while ((ch = getopt_long(argc, argv, "+f:qs:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			/* Refused before the command runs: the end could not
			 * take it, and the run would stay "running". */
			if (strlen(optarg) > SKM_FIELD_MAX)
				errx(125, "follow-up action longer than %d "
				    "bytes", SKM_FIELD_MAX);
			follow_ups = reallocarray(follow_ups, nfollow + 1,
			    sizeof(*follow_ups));
			if (follow_ups == NULL)
				err(125, NULL);
			follow_ups[nfollow++] = optarg;
			break;
		case 'q':
			r.quiet = 1;
			break;
		case 's':
			bi.skill = optarg;
			break;
		case 'w':
			bi.workflow = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_HELP:
			usage(0);
		case OPT_VERSION:
			/* libskm's recording code is linked in: one version. */
			printf("skm-run %s (libskm %s)\n", SKM_VERSION,
			    SKM_VERSION);
			exit(0);
		case OPT_NOCOMMAND:
			no_command = 1;
			break;
		case OPT_PROJECT:
			bi.project = optarg;
			break;
		case OPT_SESSION:
			bi.session = optarg;
			break;
		default:
			usage(125);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc == 0) {
		warnx("no command to run");
		usage(125);
	}
	if (bi.skill == NULL || *bi.skill == '\0') {
		warnx("no skill: use --skill NAME or set SKM_SKILL");
		usage(125);
	}
	if (skm__begin_info_error(&bi) != NULL)
		errx(125, "%s", skm__begin_info_error(&bi));
	if (opt.disabled)
		run_unrecorded(argv);

	/* skm-run's own environment is never changed: the command gets
	 * one of its own (child_env). */
	parent = getenv(ENV_ID);
	bi.parent_id = parent != NULL ? parent : "";	/* "": none */
	bi.source = "run";

	/* Before the fork only what the child needs (the id, for its
	 * environment) and the start times; the rest of the begin is made
	 * while the command execs. */
	if (skm__rec_start(&r.rec, dbpath) != 0) {
		rec_warn(&r, "not recorded", r.rec.j.why);
	} else {
		r.recording = 1;
		envp = child_env(envbuf, ENV_ROOM, r.rec.id);
	}

	if (spawn_start(&sp, argv, envp) == -1)
		err(125, "cannot run %s", argv[0]);
	if (r.recording && skm__rec_open(&r.rec) != 0) {
		rec_warn(&r, "not recorded", r.rec.j.why);
		r.recording = 0;
	}
	/* The end reuses the begin's descriptors: on the command's critical
	 * path it is a lock, a check and a write. */
	r.rec.j.hold = 1;
	if (bi.project == NULL && (project = malloc(PATH_MAX)) != NULL &&
	    skm__find_project(project, PATH_MAX) == 0)
		bi.project = project;
	if (!no_command)
		bi.command = command = command_line(argv, opt.redact);
	/* The run follows the command's own process (pid and start time):
	 * `skm reap` ends it only once the command is gone, also when
	 * skm-run itself was killed.  Under `ulimit -f`, a journal write
	 * past the limit fails with EFBIG: spawn.c's handler does not relay
	 * the SIGXFSZ skm-run raises itself. */
	bi.pid = sp.pid;
	rec_begin(&r, &bi);
	if ((exec_errno = spawn_exec_error(&sp)) != 0) {
		errno = exec_errno;
		warn("%s", argv[0]);
	}
	memset(&ru, 0, sizeof(ru));
	if (spawn_wait(&sp, &status, &ru) == -1)
		err(125, "wait");

	end_info(&ei, status, exec_errno, &ru, errtype, sizeof(errtype));
	ei.follow_ups = follow_ups;
	ei.n_follow_ups = nfollow;
	rec_end(&r, &bi, &ei);

	free(follow_ups);
	free(project);
	free(command);
	if (envp != environ && envp != envbuf)
		free(envp);
	spawn_exit_like(status);
}
