/*
 * rules.c - the shim's rules file.
 *
 * One rule a line: a skill name, blanks, and a glob over the command line
 * (fnmatch(3) without FNM_PATHNAME, so `*` also matches `/`):
 *
 *	# skill     command line
 *	pytest      python* -m pytest*
 *	ruff-check  ruff check*
 *
 * Blank lines and lines whose first non-blank character is `#` are
 * comments.  The first rule that matches wins.  A malformed line (a skill
 * with no pattern, a skill name too long, a NUL byte, a line too long) is
 * skipped and the rest of the file still counts.
 *
 * This runs in every process the shim is preloaded into, so it is kept
 * small: one open/read/close, no parsed copy of the rules, and the scan
 * stops at the first match unless debugging.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"

#define RULES_MAX_BYTES (1 << 20)  /* a rules file larger than this is ignored */
#define RULE_LINE_MAX 4096
#define SKILL_MAX 256              /* SKM_NAME_MAX */
#define RULES_STACK 2048           /* a smaller rules file is read into the
                                      stack, a larger one into mmap'd pages */

/* dst = a + b, NUL-terminated, in size bytes; -1 when it does not fit.
 * Not snprintf: its code is pages of libc that a process the shim does
 * not record would fault in for this alone. */
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

int
rules_path(char *buf, size_t size)
{
	const char *s;

	if ((s = getenv("SKM_RULES")) != NULL && *s != '\0')
		return cat2(buf, size, s, "");
	if ((s = getenv("XDG_CONFIG_HOME")) != NULL && s[0] == '/')
		return cat2(buf, size, s, "/skm/rules");
	if ((s = getenv("HOME")) != NULL && *s != '\0')
		return cat2(buf, size, s, "/.config/skm/rules");
	return -1;
}

/* Read the whole file at path into stack (stacksize bytes) when it fits
 * (*maplen 0: no system call beyond the read), else into an mmap'd,
 * NUL-terminated buffer of *len + 1 bytes (munmap it): not the heap,
 * since this runs before the host's main, when a host's own malloc may
 * not be ready. */
static char *
slurp(const char *path, char *stack, size_t stacksize, size_t *len,
    size_t *maplen)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO (or a device) named as the rules file must not
	 * block every preloaded process; it is refused by S_ISREG below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > RULES_MAX_BYTES) {
		close(fd);
		return NULL;
	}
	if ((size_t)sb.st_size < stacksize)
		buf = stack;
	else if ((buf = mmap(NULL, (size_t)sb.st_size + 1, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	*maplen = buf == stack ? 0 : (size_t)sb.st_size + 1;
	return buf;
}

/*
 * star_match - fnmatch(pat, s, 0) for a pattern of plain characters, `*`
 * and `?` only (no bracket, no backslash), as rules usually are: `*`
 * matches any string, `/` and a leading `.` included, `?` any one byte.
 * Backtracks to the last star only, which is exact for such patterns.
 * fnmatch itself is a page of libc that every process the shim is
 * loaded into would fault in, and it reads the locale first.
 */
static int
star_match(const char *p, const char *s)
{
	const char *star = NULL, *from = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			from = s;
		} else if (*p != '\0' && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++from;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Does glob pat match s, as fnmatch(pat, s, 0) says?  (A loop, not
 * strpbrk: that is a page of libc too.) */
static int
glob_match(const char *pat, const char *s)
{
	const char *q;

	for (q = pat; *q != '\0'; q++)
		if (*q == '[' || *q == '\\')
			return fnmatch(pat, s, 0) == 0;
	return star_match(pat, s);
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * one_rule - parse line (len bytes, no newline) and test it against
 * cmdline.  The line is parsed where it lies: line[len] (its newline, or
 * the NUL after the file) and the blanks around the pattern become NULs.
 * No copy: a 4 KiB line buffer on the stack was a page fault of its own
 * in every process.  Returns 1 on a match (skill copied out), 0 on no
 * match or a comment, -1 on a malformed line (*why says what is wrong).
 */
static int
one_rule(char *line, size_t len, const char *cmdline, char *skill,
    size_t size, const char **why)
{
	char *buf = line;
	char *p, *name, *pat, *end;
	size_t nlen;

	if (memchr(line, '\0', len) != NULL) {
		*why = "NUL byte in line";
		return -1;
	}
	if (len > RULE_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	buf[len] = '\0';
	for (p = buf; blank(*p); p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	name = p;
	while (*p != '\0' && !blank(*p))
		p++;
	nlen = (size_t)(p - name);
	while (blank(*p))
		*p++ = '\0';
	pat = p;
	for (end = pat + strlen(pat); end > pat && blank(end[-1]); end--)
		end[-1] = '\0';
	name[nlen] = '\0';
	if (*pat == '\0') {
		*why = "no pattern after the skill name";
		return -1;
	}
	if (nlen > SKILL_MAX || nlen >= size) {
		*why = "skill name too long";
		return -1;
	}
	if (!glob_match(pat, cmdline))
		return 0;
	memcpy(skill, name, nlen + 1);
	return 1;
}

int
rules_match(const char *path, const char *cmdline, char *skill, size_t size,
    int debug, void (*warn)(const char *path, int line, const char *why))
{
	char stack[RULES_STACK], *buf, *line, *nl, found[SKILL_MAX + 1];
	const char *why;
	size_t len, maplen, nlen;
	int lineno = 0, matched = 0, r;

	if ((buf = slurp(path, stack, sizeof(stack), &len, &maplen)) == NULL) {
		/* line 0: about the file itself (missing, not a regular
		 * file, too big) */
		if (debug && warn != NULL)
			warn(path, 0, "cannot read it (missing, not a regular "
			    "file, or too big): no rules apply");
		return 0;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			nl = buf + len;
		r = one_rule(line, (size_t)(nl - line), matched ? "" : cmdline,
		    found, sizeof(found), &why);
		if (r < 0 && debug && warn != NULL)
			warn(path, lineno, why);
		if (r > 0 && !matched) {
			matched = 1;
			if (size > 0) {
				/* cut to size, as snprintf would */
				nlen = strnlen(found, size - 1);
				memcpy(skill, found, nlen);
				skill[nlen] = '\0';
			}
			if (!debug)
				break;
		}
	}
	if (maplen != 0)
		munmap(buf, maplen);
	return matched;
}
