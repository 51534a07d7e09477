/*
 * spawn.h - run one child command the way a wrapper must: fork and exec
 * with the caller's signal state, learn whether the exec worked, relay
 * signals and job-control stops while waiting, and finally die as the
 * child died.  See runner/spawn.c and "skm-run and signals" in
 * docs/ARCHITECTURE.md.
 */
#ifndef SKM_SPAWN_H
#define SKM_SPAWN_H

#include <sys/types.h>
#include <sys/resource.h>

struct spawn {
	pid_t pid;	/* the child; 0 before spawn_start() */
	int exec_errno;	/* the errno of a failed exec; 0: it worked */
	int own_group;	/* the child leads a process group of its own */
};

/*
 * spawn_start - vfork and execvpe(argv[0], argv, envp) (PATH searched as
 * execvp does).
 * Returns 0 with sp filled in (the exec has then worked or failed), or -1
 * with errno set when no child could be made.  The child gets the signal mask and
 * dispositions skm-run was started with.  From then on the wrapper relays
 * every signal whose default action ends a process, and the job-control
 * stops, to the child exactly once (see spawn.c), and takes SIGCHLD's
 * default action for itself.
 */
int spawn_start(struct spawn *sp, char *const argv[], char *const envp[]);

/*
 * spawn_exec_error - whether the child's exec worked: returns 0 when the exec worked, else the errno of the failed exec (the
 * child then exits 127 for ENOENT/ENOTDIR, 126 otherwise).
 */
int spawn_exec_error(struct spawn *sp);

/*
 * spawn_wait - wait for the child to terminate, stopping the wrapper
 * whenever the child stops and continuing the child when the wrapper is
 * continued.  Stores its wait status in *status and its resource usage
 * in *ru and returns 0; -1 with errno if waiting failed.  Signals that
 * come afterwards are ignored: the command is gone, and the wrapper
 * must still exit as it did.
 */
int spawn_wait(struct spawn *sp, int *status, struct rusage *ru);

/*
 * spawn_exit_like - exit as a child with wait status `status` did: the
 * same exit code, or death by the same signal (default action, no core
 * file), falling back to exit 128+N.  Never returns.
 */
void spawn_exit_like(int status) __attribute__((noreturn));

/* The exit code a failed exec of the given errno gives: 127 or 126. */
int spawn_exec_status(int errnum);

#endif /* SKM_SPAWN_H */
