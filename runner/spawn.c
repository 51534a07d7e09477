/*
 * spawn.c - fork, exec and wait for skm-run's command, as transparently
 * as env(1), which only execs.
 *
 * Fork and exec follow git's run-command.c: everything the child needs
 * (argv, the environment) exists before the fork; all signals are blocked
 * across it so that no handler runs in the child before exec; the child
 * only (maybe) moves to a process group of its own, restores the signal
 * mask and calls execvpe(), and if that fails it stores errno where the
 * parent reads it and _exit()s.  Nothing allocates between the fork and
 * exec().  The parent installs its handlers only after the fork, so the
 * child starts with exactly the dispositions and mask skm-run was started
 * with.  SIGCHLD is the exception: the wrapper takes its default before
 * the fork, or a command that exits before the wrapper got there would be
 * reaped by the kernel (SIGCHLD ignored by the caller) and wait() would
 * find no child; the child sets it back to ignored before exec.
 *
 * The fork is a vfork(), as glibc's posix_spawn() does it (which cannot
 * be used here: it does not run a script without #! through /bin/sh as
 * execvp() and env(1) do).  fork() copies the wrapper's page tables and
 * every page the wrapper then writes is faulted in again: on a VM that
 * costs milliseconds, more than all of the recording.  The child shares
 * the parent's memory and the parent sleeps until the child has exec'd or
 * _exit()ed, so the exec's result is known when vfork() returns (no
 * pipe).  The child's few calls are system calls on its own stack frame,
 * below the parent's; the only memory it writes is the errno it leaves
 * for the parent.  Handlers are no risk to the shared memory: none is
 * installed yet, and skm-run started with none (exec resets them).
 *
 * Signals (docs/ARCHITECTURE.md, "skm-run and signals", says why):
 *
 *   - Where the command runs.  When skm-run is in the foreground process
 *     group of its controlling terminal, the command stays in that group
 *     (as today, and as GNU timeout --foreground does): the terminal's
 *     Ctrl-C, Ctrl-Z, reads and window changes reach it directly.
 *     Otherwise (no terminal: a service, CI, cron, a supervisor such as
 *     timeout that made a group of its own) the command leads a process
 *     group of its own, as with tini -g or dumb-init: a signal sent to
 *     the caller's group then reaches only the wrapper, which relays it.
 *   - What is relayed.  Every signal whose default action ends or stops
 *     a process (real-time ones included), except SIGKILL and SIGSTOP,
 *     which cannot be caught.  To the command's group in the own-group
 *     case, to the command in the foreground case.  A signal the command
 *     already got is not relayed again: one the terminal sent to the
 *     whole foreground group (si_code SI_KERNEL), one the command sent,
 *     and in the foreground case one a process of the group other than
 *     skm-run's parent sent (it signalled the group: sudo's rule).  A
 *     signal skm-run raises itself (SIGPIPE, SIGXFSZ on its own write) is
 *     not relayed; a fault of its own (SIGSEGV...) kills it as usual.
 *   - Stops.  The wrapper waits with WUNTRACED semantics: when the
 *     command stops, the wrapper stops itself with the same signal (so a
 *     shell or supervisor sees the job stopped); when the wrapper is
 *     continued, it continues the command unless the same SIGCONT already
 *     did.  A stop signal the terminal sends stops only the command; the
 *     wrapper follows.
 *   - Death.  The wrapper never dies of a relayed signal; it dies of
 *     the command's (spawn_exit_like).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "spawn.h"

/* Where relay() sends signals: the child, or its group; 0: nowhere. */
_Static_assert(sizeof(pid_t) <= sizeof(sig_atomic_t), "pid_t fits sig_atomic_t");
static volatile sig_atomic_t relay_pid;
static volatile sig_atomic_t relay_group;	/* the child leads its group */

/*
 * not_relayed - the signals left alone: the uncatchable ones, SIGCHLD
 * (the wrapper's own business), and those whose default is to do nothing
 * (SIGCONT is handled by the stop logic; SIGWINCH comes from a terminal
 * to the whole foreground group).
 */
static int
not_relayed(int sig)
{
	return sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD ||
	    sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

/* A fault: the signal the kernel sends a process for its own mistake. */
static int
is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	    sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

/* The signals a terminal sends to its whole foreground process group. */
static int
from_terminal(int sig)
{
	return sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP ||
	    sig == SIGTTIN || sig == SIGTTOU || sig == SIGHUP;
}

/* The stops a process group that is orphaned does not take (POSIX). */
static int
is_tty_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * proc_field - the state character (field 3) or the parent pid (field 4)
 * of pid, from /proc/PID/stat; -1 when it cannot be read.
 * Async-signal-safe: open, read, close.
 */
static long
proc_field(pid_t pid, int field)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold ')': the state follows the last one. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	if (field == 3)
		return (unsigned char)p[2];
	return strtol(p + 4, NULL, 10);
}

/*
 * group_orphaned - whether skm-run's own process group is, as far as
 * skm-run can tell, orphaned: no process of it whose parent is in another
 * group of the same session.  The ancestors that share the group are
 * looked at, not other members.  The kernel discards TSTP, TTIN and TTOU
 * sent to an orphaned group: so would the command have, run by env in
 * skm-run's place.  Async-signal-safe (snprintf of a number aside, which
 * glibc does without locks or allocation).
 */
static int
group_orphaned(void)
{
	pid_t self = getpid(), pg = getpgrp(), sid = getsid(0), p, pp;
	int i;

	for (p = self, i = 0; i < 64; i++, p = pp) {
		pp = p == self ? getppid() : (pid_t)proc_field(p, 4);
		if (pp <= 0 || getsid(pp) != sid)
			return 1;
		if (getpgid(pp) != pg)
			return 0;
	}
	return 1;
}

/*
 * relay - the handler of every relayed signal.  It calls kill() itself
 * rather than setting a flag for the wait loop: a flag checked before
 * waitid() leaves a window in which a signal is noticed only after the
 * child exits, i.e. never.  Only async-signal-safe calls; errno is kept.
 */
static void
relay(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl;
	int saved_errno = errno;
	pid_t pid = (pid_t)relay_pid, from;

	(void)uc;
	if (si->si_code > 0) {
		/* From the kernel.  Our own fault: die of it, as without
		 * a handler (the instruction runs again). */
		if (is_fault(sig)) {
			memset(&dfl, 0, sizeof(dfl));
			dfl.sa_handler = SIG_DFL;
			sigaction(sig, &dfl, NULL);
			goto out;
		}
		/* The terminal sent it to the group, the command included. */
		if (!relay_group && from_terminal(sig))
			goto out;
	} else {
		/* From a process (kill, sigqueue, tgkill). */
		from = si->si_pid;
		if (from == getpid() || from == pid)
			goto out;
		if (!relay_group && from != getppid() &&
		    getpgid(from) == getpgrp())
			goto out;
	}
	/* env's command, in skm-run's group, would not have stopped. */
	if (relay_group && is_tty_stop(sig) && group_orphaned())
		goto out;
	if (pid > 0)
		kill(relay_group ? -pid : pid, sig);
out:
	errno = saved_errno;
}

int
spawn_exec_status(int errnum)
{
	return (errnum == ENOENT || errnum == ENOTDIR) ? 127 : 126;
}

/*
 * in_foreground - 1 when skm-run has a controlling terminal whose
 * foreground process group is skm-run's: terminal job control is in
 * play and the command must stay in this group.
 */
static int
in_foreground(void)
{
	pid_t fg;
	int fd;

	fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return 0;
	fg = tcgetpgrp(fd);
	close(fd);
	return fg != -1 && fg == getpgrp();
}

/*
 * catch_signals - relay every catchable signal that ends or stops a
 * process to pid.  Called with all signals blocked, after the fork: the
 * child keeps the caller's dispositions.
 * glibc's own real-time signals refuse a handler; they are skipped.
 */
static void
catch_signals(pid_t pid, int own_group)
{
	struct sigaction sa;
	int sig;

	relay_group = own_group;
	relay_pid = pid;
	memset(&sa, 0, sizeof(sa));
	/* SA_RESTART: the store work going on meanwhile is not disturbed.
	 * All relayed signals blocked while one is relayed: each is relayed
	 * whole before the next. */
	sigfillset(&sa.sa_mask);
	sa.sa_sigaction = relay;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (sig = 1; sig < NSIG; sig++)
		if (!not_relayed(sig))
			(void)sigaction(sig, &sa, NULL);
}

/*
 * exec_child - the child's side of the vfork(): only system calls, on the
 * child's own stack frame; on failure the errno goes to *errp, in the
 * parent's memory, before _exit().  execvpe() in glibc searches PATH using
 * stack buffers, not malloc().  chld_ign: the caller ignored SIGCHLD, so
 * the command does too (vfork() shares memory, not dispositions: this
 * changes the child's alone, as glibc's posix_spawn does).
 */
static void __attribute__((noreturn))
exec_child(char *const argv[], char *const envp[], const sigset_t *mask,
    int own_group, int chld_ign, volatile int *errp)
{
	struct sigaction ign;

	if (own_group)
		setpgid(0, 0);
	if (chld_ign) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigaction(SIGCHLD, &ign, NULL);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	/* execvp() with an environment of our own: PATH is still looked
	 * up in skm-run's, as execvp() does. */
	execvpe(argv[0], argv, envp);
	*errp = errno;
	_exit(spawn_exec_status(*errp));
}

/*
 * spawn_start - the wrapper's own mask is emptied once the handlers are
 * in place: a signal the caller blocked is still relayed, and stays
 * pending in the command (which has the caller's mask), as with env.
 */
int
spawn_start(struct spawn *sp, char *const argv[], char *const envp[])
{
	static volatile int exec_errno;
	struct sigaction chld, dfl;
	sigset_t all, old, none;
	int e, own_group, chld_ign;
	pid_t pid;

	sp->pid = 0;
	sp->exec_errno = 0;
	sp->own_group = own_group = !in_foreground();
	exec_errno = 0;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* The wrapper waits for its child: SIGCHLD's default before the
	 * child can exit.  After exec, SIGCHLD is ignored or default. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &dfl, &chld);
	chld_ign = chld.sa_handler == SIG_IGN;
	pid = vfork();
	if (pid == 0)
		exec_child(argv, envp, &old, own_group, chld_ign, &exec_errno);
	if (pid == -1) {
		e = errno;
		sigaction(SIGCHLD, &chld, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
		return -1;
	}
	/* The child has exec'd or exited: a failed exec left its errno. */
	sp->exec_errno = exec_errno;
	/* Both sides set the group, so it exists before anything is
	 * relayed to it (EACCES: the child has exec'd, so it did). */
	if (own_group)
		setpgid(pid, pid);
	catch_signals(pid, own_group);
	/* Signals that came meanwhile are pending and now reach relay(). */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sp->pid = pid;
	return 0;
}

int
spawn_exec_error(struct spawn *sp)
{
	return sp->exec_errno;
}

/*
 * take_terminal - when the wrapper's group is the foreground of its
 * controlling terminal (a background job brought to the foreground with
 * fg), give the terminal to the command's own group, which is the one
 * that reads it.  Returns 1 when it did.
 */
static int
take_terminal(pid_t pgrp)
{
	int fd, r = 0;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (tcgetpgrp(fd) == getpgrp())
		r = tcsetpgrp(fd, pgrp) == 0;
	close(fd);
	return r;
}

/* still_stopped - 1 when pid is stopped (state T or t), 0 when it runs,
 * -1 when it cannot be told. */
static int
still_stopped(pid_t pid)
{
	long st = proc_field(pid, 3);

	return st == -1 ? -1 : st == 'T' || st == 't';
}

/*
 * stop_like - the child stopped with sig: stop the wrapper with the same
 * signal (its default action, unblocked for the moment), so that whoever
 * waits for skm-run sees it stop.  The kernel discards TSTP, TTIN and
 * TTOU in an orphaned process group, which the wrapper's may be (setsid)
 * while an own-group child's is not: there, SIGSTOP.
 * Once continued, continue the child too, unless the SIGCONT that woke the
 * wrapper already reached it (the foreground group's fg).
 */
static void
stop_like(struct spawn *sp, int sig)
{
	struct sigaction dfl, old;
	sigset_t set, oset;
	int restore;

	/* A background job's command stopped reading or writing the
	 * terminal, and the job has since been brought to the foreground:
	 * the terminal is the command's now, and on it goes. */
	if (sp->own_group && (sig == SIGTTIN || sig == SIGTTOU) &&
	    take_terminal(sp->pid)) {
		kill(-sp->pid, SIGCONT);
		return;
	}
	if (sp->own_group && is_tty_stop(sig) && group_orphaned())
		sig = SIGSTOP;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	restore = sigaction(sig, &dfl, &old) == 0;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, &oset);
	kill(getpid(), sig);
	/* Here until continued. */
	sigprocmask(SIG_SETMASK, &oset, NULL);
	if (restore)
		sigaction(sig, &old, NULL);
	/* Continued by fg: the command's group takes the terminal. */
	if (sp->own_group)
		(void)take_terminal(sp->pid);
	if (still_stopped(sp->pid) != 0)
		kill(sp->own_group ? -sp->pid : sp->pid, SIGCONT);
}

/*
 * spawn_wait - wait without reaping (WNOWAIT), so the child stays a
 * zombie and its pid cannot be reused while relay() may still kill() it;
 * a stop is taken off the queue and followed.  Once the child has
 * terminated, relaying ends and the child is reaped with wait4() for the
 * rusage.  The handlers stay: a late signal must not kill the wrapper
 * before it has exited as the command did.
 */
int
spawn_wait(struct spawn *sp, int *status, struct rusage *ru)
{
	siginfo_t si, drop;
	pid_t r;
	int rc;

	for (;;) {
		memset(&si, 0, sizeof(si));
		rc = waitid(P_PID, (id_t)sp->pid, &si,
		    WEXITED | WSTOPPED | WNOWAIT);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1 || si.si_code != CLD_STOPPED)
			break;
		/* Take the stop off the queue, then follow it. */
		(void)waitid(P_PID, (id_t)sp->pid, &drop, WSTOPPED | WNOHANG);
		stop_like(sp, si.si_status);
	}
	relay_pid = 0;
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
