/*
 * record.c - recording a run into the journal (see record.h).
 *
 * Everything here is async-signal-safe and allocates nothing: getenv and
 * getcwd at init (in a constructor or main, not in a handler), then
 * clock_gettime, open/read/close of /proc, uname and the journal's
 * appends.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "record.h"
#include "skm.h"

/* dst = a + b (cut to size); -1 when it did not fit. */
static int
cat2(char *dst, size_t size, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na + nb + 1 > size)
		return -1;
	memcpy(dst, a, na);
	memcpy(dst + na, b, nb + 1);
	return 0;
}

/*
 * default_path - the store's path when neither dbpath nor $SKM_DB gives
 * it, or when that is relative (rel): made absolute into buf.  Apart
 * from skm__rec_path, whose usual case (an absolute path) then needs
 * none of these buffers on the stack (a new stack page is a fault).
 */
static int __attribute__((noinline))
default_path(char *buf, size_t size, const char *rel)
{
	char def[PATH_MAX], cwd[PATH_MAX];
	const char *p = rel, *xdg, *home;
	size_t n;

	if (p == NULL) {
		if ((xdg = getenv("XDG_DATA_HOME")) != NULL && xdg[0] == '/') {
			if (cat2(def, sizeof(def), xdg, "/skm/metrics.db"))
				return -1;
		} else if ((home = getenv("HOME")) != NULL && *home != '\0') {
			if (cat2(def, sizeof(def), home,
			    "/.local/share/skm/metrics.db"))
				return -1;
		} else {
			return -1;
		}
		p = def;
	}
	if (p[0] == '/')
		return cat2(buf, size, p, "");
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (strcmp(cwd, "/") == 0)
		return cat2(buf, size, "/", p);
	/* p may point into def (a relative HOME): the slash goes onto cwd,
	 * never into def. */
	if ((n = strlen(cwd)) + 2 > sizeof(cwd))
		return -1;
	cwd[n] = '/';
	cwd[n + 1] = '\0';
	return cat2(buf, size, cwd, p);
}

int
skm__rec_path(char *buf, size_t size, const char *dbpath)
{
	const char *p = dbpath;

	if (p == NULL || *p == '\0')
		p = getenv("SKM_DB");
	if (p != NULL && *p == '/')
		return cat2(buf, size, p, "");
	return default_path(buf, size, p != NULL && *p != '\0' ? p : NULL);
}

int
skm__rec_start(struct skm__rec *r, const char *dbpath)
{
	/* Field by field: a memset of the whole (12 KiB of path buffers)
	 * would touch pages that recording never uses. */
	r->j.state = 0;
	r->j.keep = r->j.hold = 0;
	r->j.kdfd = r->j.kfd = -1;
	r->j.replay = NULL;
	r->j.nreplay = r->j.replaycap = 0;
	r->crossed = 0;
	r->invoked_us = skm__now_us();
	r->mono_start = skm__mono();
	skm__uuid7_ms(r->id, r->invoked_us / 1000);
	if (skm__rec_path(r->j.dir, sizeof(r->j.dir), dbpath) != 0) {
		r->j.state = -1;
		memcpy(r->j.why, "no store path: set SKM_DB or HOME",
		    sizeof("no store path: set SKM_DB or HOME"));
		return -1;
	}
	return 0;
}

int
skm__rec_open(struct skm__rec *r)
{
	return skm__jnl_init(&r->j, r->j.dir);
}

int
skm__rec_init(struct skm__rec *r, const char *dbpath)
{
	if (skm__rec_start(r, dbpath) != 0)
		return -1;
	return skm__rec_open(r);
}

/* Read up to size-1 bytes of a small file into buf; its length or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * skm__boot_id, skm__host - cached per thread: pthread_once is not
 * async-signal-safe, and a cache shared by threads needs it (a thread
 * could read it half written).  A thread reads /proc or uname once; a
 * signal handler that interrupts its own thread's fill fills it again
 * with the same bytes.
 */
const char *
skm__boot_id(void)
{
	static __thread char id[40];
	static __thread int done;
	ssize_t n;

	if (!done) {
		if ((n = read_small("/proc/sys/kernel/random/boot_id", id,
		    sizeof(id))) < 0)
			n = 0;
		while (n > 0 && (id[n - 1] == '\n' || id[n - 1] == ' '))
			n--;
		id[n] = '\0';
		done = 1;
	}
	return id;
}

const char *
skm__host(void)
{
	static __thread struct utsname u;
	static __thread int done;

	if (!done) {
		if (uname(&u) != 0 || u.nodename[0] == '\0')
			memcpy(u.nodename, "unknown", sizeof("unknown"));
		done = 1;
	}
	return u.nodename;
}

long long
skm__pid_start(long long pid, char *state)
{
	char path[64], buf[1024], num[24], *p;
	long long v = 0;
	int field, i = 0;
	ssize_t n;

	if (pid <= 0 || pid > INT_MAX)
		return -1;
	/* "/proc/%lld/stat" without stdio */
	for (v = pid; v > 0; v /= 10)
		num[i++] = (char)('0' + v % 10);
	memcpy(path, "/proc/", 6);
	for (field = 0; field < i; field++)
		path[6 + field] = num[i - 1 - field];
	memcpy(path + 6 + i, "/stat", 6);
	if ((n = read_small(path, buf, sizeof(buf))) <= 0)
		return -1;
	/* The command name (field 2) may hold spaces and ')': skip to the
	 * last ')'; field 3, the state, follows it. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	p += 2;
	if (state != NULL)
		*state = *p;
	for (field = 3; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (v = 0; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

static void
ev_clear(struct skm__event *ev, int kind)
{
	memset(ev, 0, offsetof(struct skm__event, follow));
	ev->nfollow = 0;
	ev->kind = kind;
}

void
skm__rec_begin_event(const struct skm__rec *r, struct skm__event *ev,
    const struct skm_begin_info *bi)
{
	long long pid = bi->pid != 0 ? bi->pid : (long long)getpid();
	long long pstart;
	const char *parent = bi->parent_id;
	size_t n;

	ev_clear(ev, SKM__EV_BEGIN);
	skm__ev_str(ev, SKM__F_ID, r->id);
	skm__ev_str(ev, SKM__F_SKILL, bi->skill);
	skm__ev_int(ev, SKM__F_INVOKED, r->invoked_us);
	skm__ev_str(ev, SKM__F_WORKFLOW, bi->workflow);
	skm__ev_str(ev, SKM__F_SESSION, bi->session);
	skm__ev_str(ev, SKM__F_PROJECT, bi->project);
	/* NULL: the enclosing invocation from the environment; "": none. */
	if (parent == NULL && (parent = getenv("SKM_INVOCATION_ID")) != NULL &&
	    strlen(parent) > 64)
		parent = NULL;
	if (parent != NULL && *parent == '\0')
		parent = NULL;
	skm__ev_str(ev, SKM__F_PARENT, parent);
	skm__ev_str(ev, SKM__F_COMMAND, bi->command);
	if (bi->command != NULL && ev->command.n > SKM_COMMAND_MAX) {
		/* Just past the limit, on a character boundary: the fold
		 * then cuts it to the limit and marks it. */
		n = SKM_COMMAND_MAX + 1;
		while (n < ev->command.n &&
		    ((unsigned char)bi->command[n] & 0xc0) == 0x80)
			n++;
		ev->command.n = n;
	}
	skm__ev_str(ev, SKM__F_HOST, skm__host());
	skm__ev_int(ev, SKM__F_PID, pid);
	skm__ev_str(ev, SKM__F_SOURCE, bi->source != NULL ? bi->source : "lib");
	skm__ev_real(ev, SKM__F_MONO0, r->mono_start);
	skm__ev_str(ev, SKM__F_BOOT, skm__boot_id());
	/* One read of /proc per process and pid, not per begin. */
	static __thread long long cpid, cstart = -1;

	if (pid != cpid || cstart < 0) {
		cstart = skm__pid_start(pid, NULL);
		cpid = pid;
	}
	if ((pstart = cstart) >= 0)
		skm__ev_int(ev, SKM__F_PSTART, pstart);
}

void
skm__rec_end_event(const char *id, struct skm__event *ev,
    const struct skm_end_info *ei)
{
	const struct rusage *ru = ei->rusage;
	size_t i;

	ev_clear(ev, SKM__EV_END);
	skm__ev_str(ev, SKM__F_ID, id);
	skm__ev_int(ev, SKM__F_ENDED, skm__now_us());
	skm__ev_real(ev, SKM__F_MONO1, skm__mono());
	skm__ev_str(ev, SKM__F_BOOT, skm__boot_id());
	skm__ev_int(ev, SKM__F_COMPLETED, ei->completed ? 1 : 0);
	if (ei->duration_seconds >= 0)
		skm__ev_real(ev, SKM__F_DURATION, ei->duration_seconds);
	skm__ev_str(ev, SKM__F_ERROR, ei->error_type);
	if (ei->exit_code >= 0)
		skm__ev_int(ev, SKM__F_EXIT, ei->exit_code);
	if (ei->signal > 0)
		skm__ev_int(ev, SKM__F_SIGNAL, ei->signal);
	for (i = 0; i < ei->n_follow_ups; i++)
		if (ei->follow_ups[i] != NULL)
			(void)skm__ev_follow(ev, ei->follow_ups[i]);
	if (ru != NULL) {
		skm__ev_real(ev, SKM__F_UCPU, (double)ru->ru_utime.tv_sec +
		    (double)ru->ru_utime.tv_usec / 1e6);
		skm__ev_real(ev, SKM__F_SCPU, (double)ru->ru_stime.tv_sec +
		    (double)ru->ru_stime.tv_usec / 1e6);
		skm__ev_int(ev, SKM__F_RSS, ru->ru_maxrss);
	}
}

int
skm__rec_append(struct skm__rec *r, const struct skm__event *ev,
    unsigned char *buf, size_t cap)
{
	size_t len = skm__ev_encode(ev, buf, cap);
	int crossed = 0;

	if (len == 0) {
		memcpy(r->j.why, "event too large for the journal",
		    sizeof("event too large for the journal"));
		return -1;
	}
	if (skm__jnl_append(&r->j, buf, len, &crossed) != 0)
		return -1;
	if (crossed)
		r->crossed = 1;
	return 0;
}

const char *
skm__begin_info_error(const struct skm_begin_info *bi)
{
	if (bi == NULL || bi->skill == NULL || bi->skill[0] == '\0')
		return "no skill name";
	if (strlen(bi->skill) > SKM_NAME_MAX)
		return "skill name longer than 256 bytes";
	if (!skm__text_ok(bi->skill, strlen(bi->skill), 1))
		return "skill name is not UTF-8 text without control characters";
	if (bi->workflow != NULL && strlen(bi->workflow) > SKM_FIELD_MAX)
		return "workflow longer than 4096 bytes";
	if (bi->session != NULL && strlen(bi->session) > SKM_FIELD_MAX)
		return "session longer than 4096 bytes";
	if (bi->project != NULL && strlen(bi->project) > SKM_FIELD_MAX)
		return "project longer than 4096 bytes";
	return NULL;
}
