/*
 * recopt.c - the SKM_* variables every recorder reads, and where the
 * project of a run is: one copy for skm-run and the shim (they had
 * drifted).  No heap: the shim calls this from its constructor.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder.h"

/* An environment variable, or NULL when it is unset or empty. */
static const char *
envopt(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : NULL;
}

void
skm__recopt_env(struct skm__recopt *o, const char *skill_var)
{
	const char *s;

	o->skill = envopt(skill_var);
	o->workflow = envopt("SKM_WORKFLOW");
	o->session = envopt("SKM_SESSION");
	o->project = envopt("SKM_PROJECT");
	o->redact = envopt("SKM_REDACT");
	s = envopt("SKM_DISABLE");
	o->disabled = s != NULL && strcmp(s, "0") != 0;
}

/*
 * skm__find_project - the working directory goes into buf; then buf is cut
 * back one component at a time until a .git is found under it, probing in
 * a PATH_MAX buffer on the stack.  Nothing found: the working directory.
 */
int
skm__find_project(char *buf, size_t size)
{
	char probe[PATH_MAX];
	struct stat sb;
	size_t len;
	char *slash;

	if (getcwd(buf, size) == NULL || buf[0] != '/')
		return -1;
	len = strlen(buf);
	for (;;) {
		/* "/" + ".git" must not become "//.git". */
		if ((len == 1 ? 0 : len) + 6 <= sizeof(probe)) {
			memcpy(probe, buf, len == 1 ? 0 : len);
			memcpy(probe + (len == 1 ? 0 : len), "/.git", 6);
			if (stat(probe, &sb) == 0) {
				buf[len] = '\0';
				return 0;
			}
		}
		if (len <= 1 || (slash = memrchr(buf, '/', len)) == NULL)
			break;
		len = slash == buf ? 1 : (size_t)(slash - buf);
	}
	/* Nothing found: the working directory, untouched. */
	return 0;
}
