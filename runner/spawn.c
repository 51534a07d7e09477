/*
 * spawn.c - fork, exec and wait for skm-run's command.
 *
 * The pattern is git's run-command.c: everything the child needs (argv,
 * the environment) exists before fork(); all signals are blocked across
 * fork() so that no handler runs in the child before exec; the child only
 * restores the signal mask and calls execvp(), and if that fails it writes
 * errno into a close-on-exec pipe and _exit()s.  The parent learns whether
 * the exec worked by reading that pipe: end of file means it did.  Nothing
 * allocates between fork() and exec().
 *
 * The parent changes its own signal dispositions only after fork(), so the
 * child starts with exactly the dispositions and mask skm-run was started
 * with.  While the child runs, SIGINT and SIGQUIT are ignored (the terminal
 * sends them to the whole foreground process group, so the child gets its
 * own copy) and SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 are forwarded to the
 * child.  stdin, stdout, stderr and the process group are left alone.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

static const int ignored[] = { SIGINT, SIGQUIT };
static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
#define NIGNORED (sizeof(ignored) / sizeof(ignored[0]))
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

/* The dispositions spawn_start() replaced, restored by spawn_wait(). */
static struct sigaction saved_ignored[NIGNORED];
static struct sigaction saved_forwarded[NFORWARDED];

/* The child forward() sends signals to; 0 when there is none. */
_Static_assert(sizeof(pid_t) <= sizeof(sig_atomic_t), "pid_t fits sig_atomic_t");
static volatile sig_atomic_t forward_pid;

/*
 * forward - the handler of the forwarded signals.  It calls kill() itself
 * rather than setting a flag for the wait loop: a flag checked before
 * wait4() leaves a window in which a signal is noticed only after the
 * child exits, i.e. never.  kill() is async-signal-safe; errno is kept.
 */
static void
forward(int sig)
{
	int saved_errno = errno;
	pid_t pid = (pid_t)forward_pid;

	if (pid > 0)
		kill(pid, sig);
	errno = saved_errno;
}

int
spawn_exec_status(int errnum)
{
	return (errnum == ENOENT || errnum == ENOTDIR) ? 127 : 126;
}

/*
 * catch_signals - ignore SIGINT/SIGQUIT and forward the others to pid,
 * remembering the dispositions they had.  Called with all signals blocked.
 */
static void
catch_signals(pid_t pid)
{
	struct sigaction sa;
	size_t i;

	forward_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < NIGNORED; i++)
		sigaction(ignored[i], &sa, &saved_ignored[i]);
	/* SA_RESTART: the store work going on meanwhile is not disturbed. */
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, &saved_forwarded[i]);
}

static void
restore_signals(void)
{
	size_t i;

	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &saved_forwarded[i], NULL);
	for (i = 0; i < NIGNORED; i++)
		sigaction(ignored[i], &saved_ignored[i], NULL);
	forward_pid = 0;
}

/*
 * exec_child - the child's side of the fork: only async-signal-safe calls.
 * execvp() in glibc searches PATH using stack buffers, not malloc().
 */
static void __attribute__((noreturn))
exec_child(char *const argv[], const sigset_t *mask, int errfd)
{
	int e;
	ssize_t n;

	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	e = errno;
	do
		n = write(errfd, &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	_exit(spawn_exec_status(e));
}

int
spawn_start(struct spawn *sp, char *const argv[])
{
	sigset_t all, old;
	int fds[2], e;
	pid_t pid;

	sp->pid = 0;
	sp->errfd = -1;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		exec_child(argv, &old, fds[1]);
	e = errno;
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
		return -1;
	}
	/* Signals that came meanwhile are pending and now reach forward(). */
	catch_signals(pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sp->pid = pid;
	sp->errfd = fds[0];
	return 0;
}

int
spawn_exec_error(struct spawn *sp)
{
	int e = 0;
	ssize_t n;

	if (sp->errfd == -1)
		return 0;
	do
		n = read(sp->errfd, &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(sp->errfd);
	sp->errfd = -1;
	/* End of file: the pipe was closed by a successful exec. */
	return n == (ssize_t)sizeof(e) ? e : 0;
}

/*
 * spawn_wait - first wait without reaping (WNOWAIT), so the child stays a
 * zombie and its pid cannot be reused while forward() may still kill() it;
 * then put the old dispositions back and reap it with wait4() for the
 * rusage.
 */
int
spawn_wait(struct spawn *sp, int *status, struct rusage *ru)
{
	siginfo_t si;
	pid_t r;
	int rc;

	if (sp->errfd != -1)
		spawn_exec_error(sp);
	do
		rc = waitid(P_PID, (id_t)sp->pid, &si, WEXITED | WNOWAIT);
	while (rc == -1 && errno == EINTR);
	restore_signals();
	do
		r = wait4(sp->pid, status, 0, ru);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	sp->pid = 0;
	return 0;
}

/*
 * spawn_exit_like - for a signal: the default action, no core file (the
 * child already dumped one if it was going to), the signal unblocked, then
 * raise() it.  Only if that did not kill us, exit 128+N as a shell would.
 */
void
spawn_exit_like(int status)
{
	struct rlimit rl;
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (!WIFSIGNALED(status))
		exit(125);
	sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &rl);
	}
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}
