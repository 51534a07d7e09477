/*
 * t_host.c - a host program for the shim's tests: each mode ends the
 * process one way, so that the status the shim records can be compared
 * with the one the shell sees.  Output goes through stdio (buffered) on
 * purpose: the shim must not change what reaches stdout.
 *
 *	t_host ret N          printf, return N from main
 *	t_host exit N         exit(N)
 *	t_host _exit N        _exit(N) (stdio not flushed: write(2) only)
 *	t_host _Exit N        _Exit(N)
 *	t_host atexit N       exit(0), an atexit handler then _exit(N)
 *	t_host thread N       a second thread calls exit(N); main waits
 *	t_host abort          abort()
 *	t_host fork N         a child exits 9 without exec; the parent N
 *	t_host exec PROG ...  execvp(PROG...); on failure print errno, 100
 *	t_host execl PROG ... execl(PROG...) (an absolute path), as exec
 *	t_host errno          print errno as main sees it, return 0
 *	t_host env            print SKM_SHIM_SKILL / SKM_INVOCATION_ID from
 *	                      environ and from main's envp, return 0
 *	t_host thread-exec PROG ...  a thread with a 32 KiB stack execvp()s
 *	                      PROG...; on failure print errno, 100
 *	t_host term-exit N    a SIGTERM handler calls _exit(N); a thread sends
 *	                      SIGTERM while main calls exit(0): the handler
 *	                      may run inside the shim's own exit path
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int status;

static void
late_exit(void)
{
	_exit(status);
}

static void *
thread_exit(void *arg)
{
	(void)arg;
	exit(status);
}

static void
on_term(int sig)
{
	(void)sig;
	_exit(status);
}

static void *
thread_term(void *arg)
{
	(void)arg;
	kill(getpid(), SIGTERM);
	return NULL;
}

static void *
thread_exec(void *arg)
{
	char **argv = arg;

	execvp(argv[0], argv);
	printf("exec: %s\n", strerror(errno));
	exit(100);
}

static const char *
envp_get(char **envp, const char *name)
{
	size_t len = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return "(unset)";
}

int
main(int argc, char *argv[], char *envp[])
{
	int e = errno;
	const char *mode = argc > 1 ? argv[1] : "ret";
	const char *s;
	pthread_t t;
	pid_t pid;
	int st;

	status = argc > 2 ? atoi(argv[2]) : 0;
	if (strcmp(mode, "ret") == 0) {
		printf("ret %d", status);
		return status;
	} else if (strcmp(mode, "exit") == 0) {
		printf("exit %d\n", status);
		exit(status);
	} else if (strcmp(mode, "_exit") == 0) {
		(void)!write(1, "_exit\n", 6);
		_exit(status);
	} else if (strcmp(mode, "_Exit") == 0) {
		(void)!write(1, "_Exit\n", 6);
		_Exit(status);
	} else if (strcmp(mode, "atexit") == 0) {
		atexit(late_exit);
		printf("atexit %d\n", status);
		fflush(stdout);
		exit(0);
	} else if (strcmp(mode, "thread") == 0) {
		pthread_create(&t, NULL, thread_exit, NULL);
		for (;;)
			pause();
	} else if (strcmp(mode, "term-exit") == 0) {
		signal(SIGTERM, on_term);
		pthread_create(&t, NULL, thread_term, NULL);
		exit(0);
	} else if (strcmp(mode, "abort") == 0) {
		abort();
	} else if (strcmp(mode, "fork") == 0) {
		fflush(stdout);
		if ((pid = fork()) == 0)
			exit(9);
		waitpid(pid, &st, 0);
		printf("child %d\n", WEXITSTATUS(st));
		return status;
	} else if (strcmp(mode, "exec") == 0 && argc > 2) {
		execvp(argv[2], argv + 2);
		printf("exec: %s\n", strerror(errno));
		return 100;
	} else if (strcmp(mode, "execl") == 0 && argc > 2) {
		execl(argv[2], argv[2], argc > 3 ? argv[3] : NULL,
		    argc > 3 ? argv[4] : NULL, (char *)NULL);
		printf("execl: %s\n", strerror(errno));
		return 100;
	} else if (strcmp(mode, "thread-exec") == 0 && argc > 2) {
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 32 * 1024);
		if (pthread_create(&t, &a, thread_exec, argv + 2) != 0)
			return 101;
		pthread_join(t, NULL);
		return 102;
	} else if (strcmp(mode, "errno") == 0) {
		printf("errno %d\n", e);
		return 0;
	} else if (strcmp(mode, "env") == 0) {
		s = getenv("SKM_SHIM_SKILL");
		printf("SKM_SHIM_SKILL=%s envp:%s\n", s ? s : "(unset)",
		    envp_get(envp, "SKM_SHIM_SKILL"));
		s = getenv("SKM_INVOCATION_ID");
		printf("SKM_INVOCATION_ID=%s envp:%s\n", s ? s : "(unset)",
		    envp_get(envp, "SKM_INVOCATION_ID"));
		return 0;
	}
	fprintf(stderr, "t_host: unknown mode %s\n", mode);
	return 64;
}
