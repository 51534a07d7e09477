/*
 * preload.c - libskm-preload.so: record processes whose command line
 * cannot be changed, by LD_PRELOAD.
 *
 * At load (a constructor, before the host's main) the shim decides
 * whether this process is recorded: it adopts an invocation an exec'ing
 * predecessor of the same pid handed over in $SKM_SHIM_HANDOFF; else it
 * takes $SKM_SHIM_SKILL (meant for the first process only, so it is
 * removed from the environment; $SKM_SKILL is skm-run's and left alone,
 * so that `SKM_SKILL=x skm-run -- cmd` works under the shim too); else it
 * looks the command line up in the rules file (rules.c).  The command
 * line is quoted and its secrets hidden by lib/redact.c, the project
 * found by lib/recopt.c: the same code as skm-run's, linked in (no heap,
 * no SQLite).  A process that is not recorded pays for a few getenv()
 * calls and one read of the rules file, nothing else.
 *
 * A recorded process appends its begin to the journal beside the store
 * (lib/record.c, linked in: no SQLite, no libskm, no heap; one write(2)
 * per event, no descriptor kept open, since a host may close or dup2
 * over any descriptor it did not open),
 * puts SKM_INVOCATION_ID=<id> in its environment so that whatever it
 * starts records it as parent, and ends the invocation exactly once, in
 * the process that began it (a forked child never does):
 *
 *   - exit(), return from main, exit from any thread, or an exit inside
 *     libc: an on_exit() handler, which glibc passes the exit status;
 *   - _exit()/_Exit()/quick_exit(), including an atexit handler that
 *     changes the status by calling _exit() (gnulib's close_stdout), which
 *     runs before the on_exit handler: interposed;
 *   - a successful exec that passes on the environment the shim made
 *     (it holds SKM_INVOCATION_ID): the invocation is handed to the new
 *     image (same pid) through SKM_SHIM_HANDOFF=<pid>:<id> added to it,
 *     and the new image ends it;
 *   - an exec with an environment of the program's own making (env -i,
 *     an execve whose environment lacks SKM_INVOCATION_ID): that
 *     environment is passed on exactly as given, and the invocation ends
 *     just before the exec (as completed: if the exec then fails, the
 *     process runs on unrecorded);
 *   - death by a signal: nothing runs; the invocation stays running until
 *     `skm reap` ends it as abandoned.
 *
 * Manners inside someone else's process: nothing is printed unless
 * SKM_DEBUG=1; errno is saved and restored; no signal handler, no stdio
 * stream is touched; a thread-local guard makes the interposed functions
 * pass straight through while the shim itself is working; every failure
 * falls through to the real function.  Only the interposed names are
 * exported (shim/preload.map).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "skm.h"
#include "record.h"
#include "recorder.h"
#include "rules.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define ENV_ID "SKM_INVOCATION_ID"
#define ENV_HANDOFF "SKM_SHIM_HANDOFF"
#define ENV_SKILL "SKM_SHIM_SKILL"
#define MAX_ENV 65536        /* an environment larger than this is passed on as it is */
#define STACK_ENV 512        /* larger environments are copied into an mmap()ed block */
#define MAX_ARGS 65536       /* execl() argument lists */
#define CMDLINE_STACK 2048   /* a longer command line is joined in mmap'd pages */
#ifndef SKM_BINDIR
#define SKM_BINDIR "/usr/local/bin"
#endif

extern char **environ;

/*
 * What every process the shim is loaded into reads or writes, recorded
 * or not, lives in .data, not .bss: ld.so has written the page that holds
 * .data already (the end of .got.plt, the start of .bss that it clears),
 * so these cost no page fault.  In .bss, the first touch of each page was
 * one (about 15 us on a VM, as much as the shim's whole constructor
 * otherwise takes), and two when it was read before it was written.
 */
#define SHIM_HOT __attribute__((section(".data")))

/* The invocation this process is recording, if any. */
static struct {
	int active;            /* recording (began or adopted) */
	int adopted;           /* handed over by exec: end by id */
	int ended;             /* 0, ENDING, ENDED: set atomically */
	int ended2;            /* the second ender's buffers taken */
	pid_t pid;             /* the process that ends it */
	char id[SKM_ID_LEN + 1];
} rec SHIM_HOT;

/* Events are formatted in static memory: the begin in the constructor
 * (before the host has threads), the end by the one caller of finish()
 * that wins rec.ended.  Nothing large goes on a host thread's stack.
 * A second exit that comes while the first is still writing its end (a
 * signal handler that calls _exit inside exit(), another thread) writes
 * an end of its own from event2, since the process may die by it before
 * the first one's write: the fold applies the first end it reads. */
#define ENDING 1
#define ENDED 2
static struct skm__event event2;
static unsigned char evbuf[SKM__REC_HDR + SKM__REC_MAX];
static unsigned char evbuf2[8192];

/*
 * What a recorded process writes, laid out to touch as few new pages as
 * it can (each first touch costs a process about 15 us here): the new
 * environ array env_fix may need in .data (see SHIM_HOT); then one block
 * of a record buffer for the usual event (evbuf takes one that does not
 * fit), the event's fields and the run's id, start times and journal
 * (the end goes where the begin went, whatever the program does to its
 * environment: env -i), whose directory is written only as far as its
 * text goes.  The run lies over the event's follow-up array: a process
 * the shim records has no follow-up actions to give (finish() passes
 * none), so that array is never written nor read (the encoder reads
 * nfollow entries: none), and what the block touches is its first 2.5
 * KiB and the directory's text: one page, not the six of separate
 * variables (event2, for a second exit, is apart).
 */
#define SMALL_REC 1536
/* The block starts a page of its own, whatever comes before it: in a
 * section of its own (x86-64's .lbss, which follows .bss, so .bss keeps
 * its start on the page ld.so has written, where text in begin() lies). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SHIM_PAGED __attribute__((section(".lbss.skm_mem"), aligned(4096)))
#else
#define SHIM_PAGED
#endif
#define SMALL_ENV 128
static char *small_env[SMALL_ENV] SHIM_HOT; /* env_fix's environ, if it fits */
static struct {
	unsigned char buf[SMALL_REC];
	union {
		struct skm__event ev;  /* nfollow stays 0 */
		struct {
			unsigned char ev_fields[offsetof(struct skm__event,
			    follow)];
			struct skm__rec jr;
		};
	};
} mem SHIM_PAGED;

/* The buffer to encode ev into: mem.buf when it fits, else evbuf. */
static unsigned char *
ev_buffer(const struct skm__event *ev, size_t *cap)
{
	if (skm__ev_size(ev) <= sizeof(mem.buf)) {
		*cap = sizeof(mem.buf);
		return mem.buf;
	}
	*cap = sizeof(evbuf);
	return evbuf;
}

/* The store's path for a fold started at the end (rarely: a page of
 * its own, touched only then). */
static char store_path[PATH_MAX];

/* "SKM_INVOCATION_ID=<id>", put into environ by pointer: lives forever. */
static char env_id[sizeof(ENV_ID "=") + SKM_ID_LEN] SHIM_HOT;
static int debug SHIM_HOT;
static __thread int busy;   /* reentrancy guard */

/* The real functions, resolved once. */
static void (*real__exit)(int) SHIM_HOT;
static void (*real__Exit)(int) SHIM_HOT;
static void (*real_quick_exit)(int) SHIM_HOT;
static int (*real_execve)(const char *, char *const[], char *const[]) SHIM_HOT;
static int (*real_execvpe)(const char *, char *const[], char *const[])
    SHIM_HOT;
static int (*real_execveat)(int, const char *, char *const[], char *const[],
    int) SHIM_HOT;
static int (*real_fexecve)(int, char *const[], char *const[]) SHIM_HOT;
static int (*real_posix_spawn)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]) SHIM_HOT;
static int (*real_posix_spawnp)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]) SHIM_HOT;

/* next - the next definition of name after the shim's (RTLD_NEXT). */
static void *
next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

#define REAL(f) (real_##f != NULL ? real_##f : \
    (real_##f = (__typeof__(real_##f))next(#f)))

static void
resolve_all(void)
{
	(void)REAL(_exit);
	(void)REAL(_Exit);
	(void)REAL(quick_exit);
	(void)REAL(execve);
	(void)REAL(execvpe);
	(void)REAL(execveat);
	(void)REAL(fexecve);
	(void)REAL(posix_spawn);
	(void)REAL(posix_spawnp);
}

/* dbg - one line on stderr with SKM_DEBUG=1; write(2), never stdio. */
static void __attribute__((format(printf, 1, 2)))
dbg(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	int n, m;

	if (!debug)
		return;
	n = snprintf(buf, sizeof(buf), "skm-shim[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
}

static void
rule_warn(const char *path, int line, const char *why)
{
	if (line == 0)
		dbg("%s: %s", path, why);
	else
		dbg("%s:%d: rule ignored: %s", path, line, why);
}

/* Does the environment entry e define the variable name? */
static int
is_var(const char *e, const char *name, size_t len)
{
	return strncmp(e, name, len) == 0 && e[len] == '=';
}

/*
 * skm_program - the skm program for a background fold: beside the shim's
 * directory in the build tree (shim/../skm), else in BINDIR.
 */
static const char *
skm_program(void)
{
	static char path[PATH_MAX];
	const char *slash;
	struct stat sb;
	Dl_info info;

	if (dladdr((void *)skm_program, &info) != 0 && info.dli_fname != NULL &&
	    (slash = strrchr(info.dli_fname, '/')) != NULL &&
	    snprintf(path, sizeof(path), "%.*s/../skm",
	    (int)(slash - info.dli_fname), info.dli_fname) <
	    (int)sizeof(path) && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		return path;
	return SKM_BINDIR "/skm";
}

/*
 * cmdline_join - argv joined by single spaces, unquoted, for matching
 * rules.  When the constructor got no argv, /proc/self/cmdline.  Returns
 * buf when the line fits in its bufsize bytes (*size 0: the usual case
 * costs no system call), else an mmap'd string of *size bytes (munmap
 * it), or NULL.  Not the heap: the constructor runs before the host's
 * main, when a host's own malloc may not be ready.
 */
static char *
cmdline_join(int argc, char **argv, char *buf, size_t bufsize, size_t *size)
{
	size_t len = 0, n;
	char *s, *p;
	int i, fd;

	if (argv != NULL && argc >= 0) {
		for (i = 0; i < argc && argv[i] != NULL; i++)
			len += strlen(argv[i]) + 1;
		*size = len + 1 <= bufsize ? 0 : len + 1;
		if (*size == 0)
			s = buf;
		else if ((s = mmap(NULL, *size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			return NULL;
		for (p = s, i = 0; i < argc && argv[i] != NULL; i++) {
			if (i > 0)
				*p++ = ' ';
			n = strlen(argv[i]);
			memcpy(p, argv[i], n);
			p += n;
		}
		*p = '\0';
		return s;
	}
	*size = 8192;
	if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((s = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	for (len = 0; len < 8191; len += (size_t)i)
		if ((i = (int)read(fd, s + len, 8191 - len)) <= 0)
			break;
	close(fd);
	while (len > 0 && s[len - 1] == '\0')
		len--;
	s[len] = '\0';
	for (n = 0; n < len; n++)
		if (s[n] == '\0')
			s[n] = ' ';
	return s;
}

/*
 * env_fix - the environment a recorded process passes on: its own
 * SKM_INVOCATION_ID, no SKM_SHIM_SKILL (meant for the first process only),
 * no SKM_SHIM_HANDOFF.  The array is edited in place, reusing the slot of a
 * removed variable for SKM_INVOCATION_ID, so that main's third argument
 * (which programs such as make read) stays the same array as environ.
 * Only when there is no slot to reuse is a new array made: static
 * (small_env) or, for a large environment, mmap'd; never the heap
 * (putenv's realloc ran the host's malloc before its main);
 * glibc's setenv copies an environ it did not allocate, never frees it.
 * Called from the constructor, before any thread of the host exists.
 */
static void
env_fix(void)
{
	char **ep, **out;
	int placed = 0;

	if (environ == NULL)
		return;
	for (ep = out = environ; *ep != NULL; ep++) {
		if (is_var(*ep, ENV_ID, sizeof(ENV_ID) - 1) ||
		    is_var(*ep, ENV_SKILL, sizeof(ENV_SKILL) - 1) ||
		    is_var(*ep, ENV_HANDOFF, sizeof(ENV_HANDOFF) - 1)) {
			if (rec.active && !placed) {
				*out++ = env_id;
				placed = 1;
			}
			continue;
		}
		*out++ = *ep;
	}
	*out = NULL;
	if (rec.active && !placed) {
		size_t n = (size_t)(out - environ);
		/* small_env is on a page ld.so has written already: no
		 * mmap, no page fault, for the usual environment. */
		char **ne = n + 2 <= SMALL_ENV ? small_env : mmap(NULL, (n + 2) *
		    sizeof(*ne), PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);

		if (ne == MAP_FAILED)
			return;
		memcpy(ne, environ, n * sizeof(*ne));
		ne[n] = env_id;
		ne[n + 1] = NULL;
		environ = ne;
	}
}

/* adopt - take over the invocation an exec'ing predecessor handed over. */
static int
adopt(const char *handoff)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(handoff, &end, 10);
	if (errno != 0 || *end != ':' || pid != (long)getpid() ||
	    strlen(end + 1) != SKM_ID_LEN)
		return 0;
	if (skm__rec_init(&mem.jr, NULL) != 0)
		return 0;
	memcpy(rec.id, end + 1, SKM_ID_LEN + 1);
	rec.pid = getpid();
	rec.adopted = rec.active = 1;
	dbg("adopted invocation %s", rec.id);
	return 1;
}

/*
 * begin - record this process as an invocation of skill (its parent is
 * $SKM_INVOCATION_ID): append its begin to the journal.  The store path
 * is resolved now, once, so a host that changes directory or clears its
 * environment keeps writing to the same journal.
 */
static void
begin(const char *skill, int argc, char **argv, const struct skm__recopt *opt)
{
	/* Static, not on the host's stack: the constructor runs once,
	 * before any thread of the host exists. */
	/* The project, then the command line right after it: both on the
	 * first page of .bss, which ld.so has written already (a project
	 * of its own was a page fault). */
	static char text[PATH_MAX + SKM_COMMAND_MAX + 1];
	struct skm_begin_info bi = { 0 };
	unsigned char *buf;
	char *command = text;
	size_t cap;

	if (skm__rec_init(&mem.jr, NULL) != 0) {
		dbg("skill %s: not recorded: %s", skill, mem.jr.j.why);
		return;
	}
	bi.skill = skill;
	bi.workflow = opt->workflow;
	bi.session = opt->session;
	if ((bi.project = opt->project) == NULL &&
	    skm__find_project(text, PATH_MAX) == 0) {
		bi.project = text;
		command = text + strlen(text) + 1;
	}
	if (argv != NULL && argc >= 0) {
		skm__command_line(command, SKM_COMMAND_MAX + 1, argc, argv,
		    opt->redact);
		bi.command = command;
	}
	bi.source = "shim";
	bi.pid = getpid();
	if (skm__begin_info_error(&bi) != NULL) {
		dbg("skill %s: not recorded: %s", skill,
		    skm__begin_info_error(&bi));
		return;
	}
	skm__rec_begin_event(&mem.jr, &mem.ev, &bi);
	buf = ev_buffer(&mem.ev, &cap);
	if (skm__rec_append(&mem.jr, &mem.ev, buf, cap) != 0) {
		dbg("skill %s: not recorded: %s", skill, mem.jr.j.why);
		return;
	}
	if (mem.jr.j.moved)
		dbg("skill %s: recorded elsewhere: %s", skill, mem.jr.j.why);
	memcpy(rec.id, mem.jr.id, SKM_ID_LEN + 1);
	rec.pid = (pid_t)bi.pid;
	rec.active = 1;
	dbg("recording %s as skill %s", rec.id, skill);
}

/*
 * finish - end this process's invocation with the exit status it is
 * leaving with: once, and only in the process that began or adopted it.
 * Its CPU figures are this process's and its waited-for children's.
 * Async-signal-safe (it may run from _exit in a signal handler): an end
 * event in static memory, one append.  An adopted invocation ends by id;
 * the fold measures it from the begin's monotonic start.
 */
static void
finish(int status)
{
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct rusage self, kids, ru;
	struct skm__event *ev = &mem.ev;
	unsigned char *buf = NULL;
	size_t bufsize = 0;
	int saved = errno, was = 0;

	if (!rec.active || getpid() != rec.pid)
		return;
	if (!__atomic_compare_exchange_n(&rec.ended, &was, ENDING, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Ended already, or a third exit at once: nothing to do. */
		if (was == ENDED || __atomic_exchange_n(&rec.ended2, 1,
		    __ATOMIC_ACQ_REL) != 0)
			return;
		ev = &event2;
		buf = evbuf2;
		bufsize = sizeof(evbuf2);
	}
	busy++;
	ei.exit_code = status & 0xff;
	ei.completed = ei.exit_code == 0;
	if (getrusage(RUSAGE_SELF, &self) == 0 &&
	    getrusage(RUSAGE_CHILDREN, &kids) == 0) {
		timeradd(&self.ru_utime, &kids.ru_utime, &ru.ru_utime);
		timeradd(&self.ru_stime, &kids.ru_stime, &ru.ru_stime);
		ru.ru_maxrss = self.ru_maxrss > kids.ru_maxrss ?
		    self.ru_maxrss : kids.ru_maxrss;
		ei.rusage = &ru;
	}
	skm__rec_end_event(rec.id, ev, &ei);
	if (!rec.adopted)
		skm__ev_real(ev, SKM__F_DURATION, ev->mono_end -
		    mem.jr.mono_start);
	if (buf == NULL)
		buf = ev_buffer(ev, &bufsize);
	if (skm__rec_append(&mem.jr, ev, buf, bufsize) != 0) {
		dbg("end of %s not recorded: %s", rec.id, mem.jr.j.why);
	} else {
		dbg("ended %s with status %d", rec.id, ei.exit_code);
		if (mem.jr.crossed && ev == &mem.ev)
			skm__jnl_spawn_fold(skm_program(),
			    skm__jnl_store(&mem.jr.j, store_path));
	}
	if (ev == &mem.ev)
		__atomic_store_n(&rec.ended, ENDED, __ATOMIC_RELEASE);
	busy--;
	errno = saved;
}

/* The exit status passed to exit(), or returned from main. */
static void
on_exit_handler(int status, void *arg)
{
	(void)arg;
	finish(status);
}

/*
 * rule_skill - the skill of the first rule matching this process's
 * command line into skill, or NULL.  Apart from shim_init, so that its
 * buffers are on the stack only while they are used: the dlsym calls
 * before it run higher up the stack, on pages ld.so has touched already
 * (each new stack page is a page fault in every process).
 */
static const char * __attribute__((noinline))
rule_skill(int argc, char **argv, char skill[SKM_NAME_MAX + 1])
{
	char path[PATH_MAX], cmdbuf[CMDLINE_STACK], *line;
	size_t linesize;
	const char *s;

	if (rules_path(path, sizeof(path)) != 0 ||
	    (line = cmdline_join(argc, argv, cmdbuf, sizeof(cmdbuf),
	    &linesize)) == NULL)
		return NULL;
	s = rules_match(path, line, skill, SKM_NAME_MAX + 1, debug,
	    rule_warn) ? skill : NULL;
	if (linesize != 0)
		munmap(line, linesize);
	return s;
}

/*
 * shim_init - glibc calls constructors with main's arguments.  Decide
 * whether this process is recorded, and if so begin.
 */
__attribute__((constructor)) static void
shim_init(int argc, char **argv, char **envp)
{
	char skill[SKM_NAME_MAX + 1];
	struct skm__recopt opt;
	const char *s, *handoff;
	int saved = errno, stale = 0;

	(void)envp;
	busy++;
	skm__clock_syscall = 1;
	resolve_all();
	s = getenv("SKM_DEBUG");
	debug = s != NULL && strcmp(s, "1") == 0;
	if ((handoff = getenv(ENV_HANDOFF)) != NULL && adopt(handoff))
		goto record;
	stale = handoff != NULL || getenv(ENV_SKILL) != NULL;
	skm__recopt_env(&opt, ENV_SKILL);
	if (opt.disabled)
		goto out;
	if ((s = opt.skill) != NULL) {
		if (strlen(s) > SKM_NAME_MAX) {
			dbg("SKM_SHIM_SKILL too long; not recorded");
			goto clean;
		}
		memcpy(skill, s, strlen(s) + 1);
	} else if (rule_skill(argc, argv, skill) == NULL) {
		goto clean;
	}
	begin(skill, argc, argv, &opt);
record:
	if (rec.active) {
		memcpy(env_id, ENV_ID "=", sizeof(ENV_ID));
		memcpy(env_id + sizeof(ENV_ID), rec.id, SKM_ID_LEN + 1);
		if (on_exit(on_exit_handler, NULL) != 0)
			dbg("on_exit failed: exit() will not end %s", rec.id);
	}
clean:
	if (rec.active || stale)
		env_fix();
out:
	busy--;
	errno = saved;
}

/* The exit family: end first, then the real thing. */

SHIM_EXPORT void
_exit(int status)
{
	finish(status);
	if (REAL(_exit) != NULL)
		real__exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

SHIM_EXPORT void
_Exit(int status)
{
	finish(status);
	if (REAL(_Exit) != NULL)
		real__Exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

SHIM_EXPORT void
quick_exit(int status)
{
	finish(status);
	if (REAL(quick_exit) != NULL)
		real_quick_exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/*
 * The exec family.  An environment that holds SKM_INVOCATION_ID is the
 * one the shim made (or the program kept it): when this is the process
 * that ends the invocation, SKM_SHIM_HANDOFF=<pid>:<id> is added so that
 * the new image ends it.  Any other environment is the program's own
 * (env -i, an explicit execve): it is passed on exactly as given, and the
 * invocation ends now, before the exec.  posix_spawn starts another pid:
 * its environment is always passed on as given.
 *
 * A copy with the handoff is built on the stack for up to STACK_ENV
 * entries, else in an mmap()ed block (a thread's stack may be small;
 * malloc is off limits in a vfork() child and a signal handler).  A failed
 * exec changes nothing: the environment given is not modified and the
 * invocation is still this image's.
 */

enum plan { PLAN_ASIS, PLAN_END, PLAN_HANDOFF };

/*
 * env_plan - what an exec with envp needs: PLAN_HANDOFF (a copy with the
 * handoff; *n set to the number of entries), PLAN_END (end the
 * invocation, pass envp as is) or PLAN_ASIS.
 */
static enum plan
env_plan(char *const envp[], int exec, size_t *n)
{
	size_t i;
	int has_id = 0;

	if (!rec.active || busy != 0 || !exec || getpid() != rec.pid ||
	    __atomic_load_n(&rec.ended, __ATOMIC_ACQUIRE))
		return PLAN_ASIS;
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (i >= MAX_ENV)
			return PLAN_ASIS;
		if (is_var(envp[i], ENV_ID, sizeof(ENV_ID) - 1))
			has_id = 1;
	}
	*n = i;
	return has_id ? PLAN_HANDOFF : PLAN_END;
}

/*
 * env_build - fill out (room for n + 2 entries) from envp, dropping any
 * SKM_SHIM_HANDOFF and adding this process's (written into hbuf).
 * Returns out.
 */
static char **
env_build(char **out, char *const envp[], size_t n, char *hbuf, size_t hsize)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++)
		if (!is_var(envp[i], ENV_HANDOFF, sizeof(ENV_HANDOFF) - 1))
			out[j++] = envp[i];
	snprintf(hbuf, hsize, "%s=%ld:%s", ENV_HANDOFF, (long)rec.pid, rec.id);
	out[j++] = hbuf;
	out[j] = NULL;
	return out;
}

#define HBUF_SIZE (sizeof(ENV_HANDOFF "=:") + 24 + SKM_ID_LEN)

/* Run call with env_ the environment an exec with envp passes on. */
#define WITH_ENV(envp, exec, call) do {					\
	char *const *env_ = (envp);					\
	char *vec_[STACK_ENV + 2], hbuf_[HBUF_SIZE], **big_ = NULL;	\
	size_t n_ = 0, bytes_ = 0;					\
	int rc_, e_;							\
	switch (env_plan(env_, (exec), &n_)) {				\
	case PLAN_ASIS:							\
		return call;						\
	case PLAN_END:							\
		finish(0);						\
		return call;						\
	case PLAN_HANDOFF:						\
		break;							\
	}								\
	if (n_ <= STACK_ENV) {						\
		env_ = env_build(vec_, (envp), n_, hbuf_, sizeof(hbuf_)); \
	} else {							\
		bytes_ = (n_ + 2) * sizeof(char *);			\
		big_ = mmap(NULL, bytes_, PROT_READ | PROT_WRITE,	\
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);		\
		if (big_ == MAP_FAILED)					\
			return call;					\
		env_ = env_build(big_, (envp), n_, hbuf_, sizeof(hbuf_)); \
	}								\
	rc_ = call;							\
	e_ = errno;							\
	if (big_ != NULL)						\
		munmap(big_, bytes_);					\
	errno = e_;							\
	return rc_;							\
} while (0)

SHIM_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	if (REAL(execve) == NULL)
		return errno = ENOSYS, -1;
	WITH_ENV(envp, 1, real_execve(path, argv, env_));
}

SHIM_EXPORT int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
    int flags)
{
	if (REAL(execveat) == NULL)
		return errno = ENOSYS, -1;
	WITH_ENV(envp, 1, real_execveat(dirfd, path, argv, env_, flags));
}

SHIM_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	if (REAL(fexecve) == NULL)
		return errno = ENOSYS, -1;
	WITH_ENV(envp, 1, real_fexecve(fd, argv, env_));
}

SHIM_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (REAL(execvpe) == NULL)
		return errno = ENOSYS, -1;
	WITH_ENV(envp, 1, real_execvpe(file, argv, env_));
}

SHIM_EXPORT int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

SHIM_EXPORT int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/*
 * The execl family keeps its argument vector on the stack, as glibc's
 * does: count the arguments (up to MAX_ARGS), then collect them.
 */
#define EXECL_ARGV(arg, ap)						\
	size_t cnt_ = 1;						\
	va_list cp_;							\
	va_start(ap, arg);						\
	va_copy(cp_, ap);						\
	while (cnt_ < MAX_ARGS && va_arg(cp_, char *) != NULL)		\
		cnt_++;							\
	va_end(cp_);							\
	char *argv_[cnt_ + 1];						\
	execl_argv(argv_, cnt_, arg, &ap)

/* Fill out[0..cnt] with arg0, the next cnt - 1 arguments and NULL. */
static void
execl_argv(char **out, size_t cnt, const char *arg0, va_list *ap)
{
	size_t i;

	out[0] = (char *)arg0;
	for (i = 1; i < cnt; i++)
		out[i] = va_arg(*ap, char *);
	out[cnt] = NULL;
}

SHIM_EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	EXECL_ARGV(arg, ap);

	va_end(ap);
	if (cnt_ >= MAX_ARGS)
		return errno = E2BIG, -1;
	return execve(path, argv_, environ);
}

SHIM_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	EXECL_ARGV(arg, ap);

	va_end(ap);
	if (cnt_ >= MAX_ARGS)
		return errno = E2BIG, -1;
	return execvpe(file, argv_, environ);
}

SHIM_EXPORT int
execle(const char *path, const char *arg, ...)
{
	char *const *envp = NULL;
	va_list ap;
	EXECL_ARGV(arg, ap);

	if (cnt_ < MAX_ARGS) {
		(void)va_arg(ap, char *);   /* the NULL ending the arguments */
		envp = va_arg(ap, char *const *);
	}
	va_end(ap);
	if (cnt_ >= MAX_ARGS)
		return errno = E2BIG, -1;
	return execve(path, argv_, envp);
}

/*
 * posix_spawn starts another process (another pid): no handoff, but the
 * child learns its parent invocation even from an environment the host
 * built itself.
 */
SHIM_EXPORT int
posix_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	if (REAL(posix_spawn) == NULL)
		return ENOSYS;
	WITH_ENV(envp, 0, real_posix_spawn(pid, path, fa, attr, argv, env_));
}

SHIM_EXPORT int
posix_spawnp(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	if (REAL(posix_spawnp) == NULL)
		return ENOSYS;
	WITH_ENV(envp, 0, real_posix_spawnp(pid, file, fa, attr, argv, env_));
}
