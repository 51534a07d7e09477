/*
 * recorder.h - what every recorder of a run shares: skm-run, the shim and
 * lib.  How a command line is quoted and its secrets hidden (redact.c),
 * where the project is and which SKM_* variables say what (recopt.c).
 *
 * None of these functions uses SQLite or the heap: the shim calls them
 * inside someone else's process, from its constructor.  Every name is
 * internal (skm__ prefix, hidden visibility); the shim links these
 * objects directly.
 */
#ifndef SKM_RECORDER_H
#define SKM_RECORDER_H

#include <stddef.h>

#define SKM__REDACTED "***"
#define SKM__MAX_SPANS 32     /* hidden parts of one word; more: the rest */

/* A part [from, to) of a word that is replaced by SKM__REDACTED. */
struct skm__span {
	size_t from, to;
};

/* The state of redaction across the words of one command line. */
struct skm__redact {
	const char *extra;     /* $SKM_REDACT: more name globs, ':' or ',' */
	int hide_next;         /* the next word is a secret */
	int userinfo_next;     /* the next word is USER:PASSWORD (curl -u) */
	int tool;              /* a tool with secret short options, seen */
	int login;             /* "login" seen after it (docker login -p) */
};

/* skm__redact_init - a fresh state; extra as $SKM_REDACT (may be NULL). */
void skm__redact_init(struct skm__redact *r, const char *extra);

/*
 * skm__redact_spans - the parts of word w (len bytes) to hide, in order
 * and not overlapping, into sp (room for SKM__MAX_SPANS); returns their
 * number.  r carries what one word says about the next ("--password"
 * hides what follows).  A word holding blanks or shell operators (a `-c`
 * script, an ssh command) is taken apart as a shell would and each of its
 * words looked at.
 */
int skm__redact_spans(struct skm__redact *r, const char *w, size_t len,
    struct skm__span *sp);

/*
 * skm__command_line - argv[0..argc) as one line quoted for a POSIX shell
 * (a word of plain characters as it is, any other in single quotes), with
 * secrets replaced by SKM__REDACTED, into buf of size bytes (at least 4),
 * NUL-terminated.  A line that does not fit is cut at a character
 * boundary and ends in "...".  argc < 0: up to the NULL ending argv.
 * Returns the length written.
 */
size_t skm__command_line(char *buf, size_t size, int argc,
    char *const argv[], const char *extra);

/*
 * skm__redact_line - a command line already quoted (an imported record's
 * `command`) with its secrets replaced, as skm__command_line would have
 * hidden them, into buf (size at least 4), cut like it.  Returns the
 * length written.
 */
size_t skm__redact_line(char *buf, size_t size, const char *line,
    const char *extra);

/* The SKM_* variables a recorder reads (recopt.c). */
struct skm__recopt {
	const char *skill;     /* from the variable named by skill_var */
	const char *workflow;  /* SKM_WORKFLOW */
	const char *session;   /* SKM_SESSION */
	const char *project;   /* SKM_PROJECT */
	const char *redact;    /* SKM_REDACT */
	int disabled;          /* SKM_DISABLE set to anything but "" or "0" */
};

/*
 * skm__recopt_env - fill o from the environment; a variable that is unset
 * or empty is NULL.  skill_var names the skill's variable: "SKM_SKILL"
 * for skm-run, "SKM_SHIM_SKILL" for the shim.
 */
void skm__recopt_env(struct skm__recopt *o, const char *skill_var);

/*
 * skm__find_project - the nearest directory from the working directory
 * upward holding a .git (a directory, or a file in worktrees and
 * submodules), else the working directory, into buf.  stat() only: no
 * git subprocess.  Returns 0, or -1 when the working directory is unknown
 * or does not fit.
 */
int skm__find_project(char *buf, size_t size);

#endif /* SKM_RECORDER_H */
