/*
 * redact.c - secrets never reach the store through a recorded command
 * line.  Each argument is looked at on its own:
 *
 *   --password=VALUE, --api-key=VALUE, TOKEN=VALUE   the value is hidden
 *   --token VALUE, -p... no: only names that look     the next argument is
 *     like secrets (see secret_name)                  hidden
 *   "Authorization: Bearer x" (any header like it)    all after the colon
 *   https://user:pass@host/...                        the password
 *
 * A name is a secret when, lowercased, it contains password, passwd,
 * token, secret or key (so api_key, --private-key, AWS_SECRET_ACCESS_KEY),
 * or matches one of the globs the user adds in $SKM_REDACT.  Redaction
 * errs on the side of hiding: "--keyboard-layout us" loses "us" too.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

static int
secret_name(const char *name, size_t len, const char *extra)
{
	static const char *const words[] = { "password", "passwd", "token",
	    "secret", "key", "credential", "auth" };
	char buf[256], pat[256];
	const char *p, *end;
	size_t i, n;

	/* the name without its leading dashes, lowercased */
	while (len > 0 && *name == '-') {
		name++;
		len--;
	}
	if (len == 0 || len >= sizeof(buf))
		return 0;
	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[len] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(buf, words[i]) != NULL)
			return 1;
	for (p = extra; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ":,");
		n = (size_t)(end - p);
		if (n == 0 || n >= sizeof(pat))
			continue;
		memcpy(pat, p, n);
		pat[n] = '\0';
		if (fnmatch(pat, buf, FNM_CASEFOLD) == 0)
			return 1;
	}
	return 0;
}

/* An option or an environment assignment: -x, --name, NAME=... */
static int
looks_like_name(const char *arg, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	if (arg[0] == '-')
		return 1;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)arg[i]) && arg[i] != '_')
			return 0;
	return 1;
}

/* Copy of s with [from, to) replaced by REDACTED. */
static char *
splice(const char *s, size_t from, size_t to)
{
	size_t len = strlen(s), rl = sizeof(REDACTED) - 1;
	char *out = malloc(len - (to - from) + rl + 1);

	if (out == NULL)
		return NULL;
	memcpy(out, s, from);
	memcpy(out + from, REDACTED, rl);
	memcpy(out + from + rl, s + to, len - to + 1);
	return out;
}

/* user:password@ in a URL: hide the password. */
static char *
redact_url(const char *arg)
{
	const char *scheme = strstr(arg, "://"), *at, *colon, *slash;

	if (scheme == NULL)
		return NULL;
	scheme += 3;
	slash = scheme + strcspn(scheme, "/?#");
	for (at = slash; at > scheme && at[-1] != '@'; at--)
		;
	if (at == scheme)
		return NULL;
	at--;                                   /* the '@' */
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (colon == NULL)
		return NULL;
	return splice(arg, (size_t)(colon + 1 - arg), (size_t)(at - arg));
}

char *
redact_word(const char *arg, int *hide_next, const char *extra)
{
	const char *eq, *colon;
	char *r;

	if (*hide_next) {
		*hide_next = 0;
		return strdup(REDACTED);
	}
	/* --name=value, NAME=value */
	if ((eq = strchr(arg, '=')) != NULL &&
	    looks_like_name(arg, (size_t)(eq - arg)) &&
	    secret_name(arg, (size_t)(eq - arg), extra))
		return splice(arg, (size_t)(eq + 1 - arg), strlen(arg));
	/* --name value */
	if (eq == NULL && arg[0] == '-' && secret_name(arg, strlen(arg), extra)) {
		*hide_next = 1;
		return strdup(arg);
	}
	/* Authorization: Bearer ..., X-Api-Key: ... */
	if ((colon = strchr(arg, ':')) != NULL && colon[1] == ' ' &&
	    colon > arg && secret_name(arg, (size_t)(colon - arg), extra))
		return splice(arg, (size_t)(colon + 2 - arg), strlen(arg));
	if ((r = redact_url(arg)) != NULL)
		return r;
	return strdup(arg);
}
