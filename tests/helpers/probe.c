/*
 * probe - print what a process sees of the world it was started in, one
 * "key: value" line each, so that two ways of starting it (env CMD and
 * skm-run -- CMD) can be compared with diff: argv, open descriptors,
 * signal mask and dispositions, the environment (sorted, less
 * SKM_INVOCATION_ID), working directory, umask, resource limits, process
 * group, session and controlling terminal.  With arguments after "--",
 * it then execs them, so that it can stand in front of any command.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
fds(void)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;
	int fd, fl, fdfl, self;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self || fstat(fd, &sb) != 0)
			continue;
		fl = fcntl(fd, F_GETFL);
		fdfl = fcntl(fd, F_GETFD);
		printf("fd %d: type %o access %d append %d nonblock %d "
		    "cloexec %d\n", fd, (unsigned)(sb.st_mode & S_IFMT),
		    fl & O_ACCMODE, !!(fl & O_APPEND), !!(fl & O_NONBLOCK),
		    !!(fdfl & FD_CLOEXEC));
	}
	closedir(d);
}

static void
status(void)
{
	static const char *const keys[] = { "SigQ", "SigPnd", "ShdPnd",
	    "SigBlk", "SigIgn", "SigCgt", "NoNewPrivs", "Seccomp" };
	char line[512];
	size_t i;
	FILE *f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		for (i = 1; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0 &&
			    line[strlen(keys[i])] == ':')
				fputs(line, stdout);
	fclose(f);
}

/* Fields of /proc/self/stat: 7 tty_nr, 8 tpgid. */
static void
terminal(void)
{
	char buf[1024], *p;
	long tty = 0, tpgid = 0;
	FILE *f;

	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %ld %ld", &tty, &tpgid);
	fclose(f);
	printf("ctty: %ld\n", tty);
	printf("foreground: %s\n", tpgid == getpgrp() ? "yes" : "no");
}

int
main(int argc, char *argv[])
{
	static const struct { int r; const char *name; } lims[] = {
	    { RLIMIT_AS, "as" }, { RLIMIT_CORE, "core" },
	    { RLIMIT_CPU, "cpu" }, { RLIMIT_DATA, "data" },
	    { RLIMIT_FSIZE, "fsize" }, { RLIMIT_MEMLOCK, "memlock" },
	    { RLIMIT_NOFILE, "nofile" }, { RLIMIT_NPROC, "nproc" },
	    { RLIMIT_STACK, "stack" }, { RLIMIT_MSGQUEUE, "msgqueue" },
	    { RLIMIT_NICE, "nice" }, { RLIMIT_RTPRIO, "rtprio" },
	    { RLIMIT_SIGPENDING, "sigpending" } };
	struct rlimit rl;
	char cwd[4096], **env;
	size_t n, i;
	mode_t m;
	int a, rest = argc;

	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--") == 0 && a > 0) {
			rest = a + 1;
			break;
		}
		printf("argv[%d]: %s\n", a, argv[a]);
	}
	fds();
	status();
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return 1;
	memcpy(env, environ, n * sizeof(*env));
	qsort(env, n, sizeof(*env), cmp);
	for (i = 0; i < n; i++)
		if (strncmp(env[i], "SKM_INVOCATION_ID=", 18) != 0)
			printf("env: %s\n", env[i]);
	free(env);
	printf("cwd: %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	m = umask(0);
	umask(m);
	printf("umask: %03o\n", (unsigned)m);
	for (i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
		if (getrlimit(lims[i].r, &rl) == 0)
			printf("rlimit %s: %lld %lld\n", lims[i].name,
			    (long long)rl.rlim_cur, (long long)rl.rlim_max);
	printf("nice: %d\n", getpriority(PRIO_PROCESS, 0));
	printf("pgrp-leader: %s\n", getpgrp() == getpid() ? "yes" : "no");
	printf("session-leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
	printf("pgrp: %ld\nsid: %ld\n", (long)getpgrp(), (long)getsid(0));
	terminal();
	fflush(stdout);
	if (rest < argc) {
		execvp(argv[rest], argv + rest);
		perror(argv[rest]);
		return 127;
	}
	return 0;
}
