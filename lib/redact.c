/*
 * redact.c - secrets never reach the store through a recorded command
 * line; and the line is quoted the same way by every recorder (skm-run,
 * the shim, an import).  Each word of argv is looked at with what the
 * words before it said:
 *
 *   --password=VALUE, API_TOKEN=VALUE, -Ddb.password=VALUE  the value
 *   --token VALUE, --pass VALUE (a name that looks like a
 *     secret, see secret_name)                               the next word
 *   -pVALUE, -p VALUE for tools known to take a password so:
 *     mysql and its kin, docker/podman login, sshpass;
 *     redis-cli -a                                           the password
 *   curl -u USER:PW, --user=USER:PW                          PW
 *   Authorization: Bearer x, X-Api-Key:x (a header)          after the colon
 *   https://user:pw@host/, user:pw@host                      pw
 *   https://TOKEN@github.com/... (a user that is a token)    TOKEN
 *   ghp_..., github_pat_..., glpat-..., xoxb-..., AKIA...,
 *     sk-..., JWTs (eyJ...): well-known token shapes,
 *     anywhere in a word                                      the token
 *
 * A word that holds blanks or shell operators (sh -c 'mysql -pX db',
 * bash -c 'export API_TOKEN=abc; ./x', ssh host 'cmd --token x') is taken
 * apart as a shell would, quotes kept together, and each of its words
 * goes through the same rules.
 *
 * A name is a secret when, lowercased and without its dashes, it contains
 * password, passwd, pass, token, secret, key, credential, auth or cookie,
 * or ends in _pwd (MYSQL_PWD), or matches one of the globs the user adds
 * in $SKM_REDACT.  Redaction errs on the side of hiding:
 * "--keyboard-layout us" loses "us" too.
 *
 * No heap, no stdio, no locale: the shim runs this inside its host.
 */
#include <fnmatch.h>
#include <string.h>

#include "recorder.h"

#define NAME_MAX_ 256

/* Tools whose short options take a password (index + 1 in r->tool). */
static const struct {
	const char *name;
	char opt;            /* -pVALUE / -p VALUE */
	int login;           /* only after a "login" word (docker run -p) */
} tools[] = {
	{ "mysql", 'p', 0 }, { "mariadb", 'p', 0 }, { "mysqldump", 'p', 0 },
	{ "mysqladmin", 'p', 0 }, { "mysqlcheck", 'p', 0 },
	{ "mysqlimport", 'p', 0 }, { "mysqlshow", 'p', 0 },
	{ "mysqlpump", 'p', 0 }, { "mariadb-dump", 'p', 0 },
	{ "mariadb-admin", 'p', 0 }, { "docker", 'p', 1 },
	{ "podman", 'p', 1 }, { "buildah", 'p', 1 }, { "skopeo", 'p', 1 },
	{ "nerdctl", 'p', 1 }, { "helm", 'p', 1 }, { "sshpass", 'p', 0 },
	{ "redis-cli", 'a', 0 }, { "curl", 'u', 0 },
};
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))
#define TOOL_CURL NTOOLS	/* the last one: -u USER:PW */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Characters of a token: letters, digits, _ and - (and . in a JWT). */
static int
tokch(int c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_operator(int c)
{
	return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' ||
	    c == '<' || c == '>' || c == '`';
}

/*
 * secret_name - whether name (len bytes, with or without leading dashes)
 * names a secret.
 */
static int
secret_name(const char *name, size_t len, const char *extra)
{
	static const char *const words[] = { "password", "passwd", "pass",
	    "token", "secret", "key", "credential", "auth", "cookie" };
	char buf[NAME_MAX_], pat[NAME_MAX_];
	const char *p, *end;
	size_t i, n;

	while (len > 0 && *name == '-') {
		name++;
		len--;
	}
	if (len == 0 || len >= sizeof(buf))
		return 0;
	for (i = 0; i < len; i++)
		buf[i] = (char)lower((unsigned char)name[i]);
	buf[len] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(buf, words[i]) != NULL)
			return 1;
	if (len >= 4 && memcmp(buf + len - 4, "_pwd", 4) == 0)
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

/* An option or an assignment's name: -x, --name, NAME, db.password. */
static int
looks_like_name(const char *w, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	if (w[0] == '-')
		return 1;
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)w[i]) && w[i] != '_' && w[i] != '.')
			return 0;
	return 1;
}

/* A header's name: letters, digits and dashes. */
static int
looks_like_header(const char *w, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)w[i]) && w[i] != '-')
			return 0;
	return 1;
}

/* Spans collected for one word, at an offset into it. */
struct spans {
	struct skm__span *sp;
	int n;
};

/* add - hide [from, to); past SKM__MAX_SPANS the last one grows. */
static void
add(struct spans *s, size_t from, size_t to)
{
	if (from >= to)
		return;
	if (s->n == SKM__MAX_SPANS) {
		if (to > s->sp[s->n - 1].to)
			s->sp[s->n - 1].to = to;
		return;
	}
	s->sp[s->n].from = from;
	s->sp[s->n].to = to;
	s->n++;
}

static const char *
memstr(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;

	for (i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

/* The length of the run of token characters at w[i..len). */
static size_t
run(const char *w, size_t i, size_t len)
{
	size_t j = i;

	while (j < len && tokch((unsigned char)w[j]))
		j++;
	return j - i;
}

/*
 * token_at - if a well-known token starts at w[i], its length; else 0.
 */
static size_t
token_at(const char *w, size_t i, size_t len)
{
	static const struct {
		const char *prefix;
		size_t min;	/* token characters after the prefix */
	} shapes[] = {
		{ "ghp_", 20 }, { "gho_", 20 }, { "ghu_", 20 }, { "ghs_", 20 },
		{ "ghr_", 20 }, { "github_pat_", 20 }, { "glpat-", 16 },
		{ "xoxb-", 10 }, { "xoxp-", 10 }, { "xoxa-", 10 },
		{ "xoxs-", 10 }, { "xoxr-", 10 }, { "sk-", 20 },
	};
	const char *p = w + i;
	size_t k, n, pl, a, b;

	for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		pl = strlen(shapes[k].prefix);
		if (len - i > pl && memcmp(p, shapes[k].prefix, pl) == 0 &&
		    (n = run(w, i + pl, len)) >= shapes[k].min)
			return pl + n;
	}
	/* AWS access key ids: AKIA/ASIA and 16 upper-case letters or digits. */
	if (len - i >= 20 && (memcmp(p, "AKIA", 4) == 0 ||
	    memcmp(p, "ASIA", 4) == 0)) {
		for (n = 4; i + n < len && ((p[n] >= 'A' && p[n] <= 'Z') ||
		    (p[n] >= '0' && p[n] <= '9')); n++)
			;
		if (n >= 20)
			return n;
	}
	/* A JWT: eyJ<header>.<payload>.<signature>. */
	if (len - i > 3 && memcmp(p, "eyJ", 3) == 0) {
		a = run(w, i, len);
		if (a >= 10 && i + a < len && w[i + a] == '.') {
			b = run(w, i + a + 1, len);
			if (b >= 10 && i + a + 1 + b < len &&
			    w[i + a + 1 + b] == '.')
				return a + 1 + b + 1 +
				    run(w, i + a + b + 2, len);
		}
	}
	return 0;
}

/* Hide every well-known token in w[0..len) (at w's offset off). */
static void
bare_tokens(struct spans *s, const char *w, size_t len, size_t off)
{
	size_t i = 0, n;

	while (i < len) {
		if ((i == 0 || !tokch((unsigned char)w[i - 1])) &&
		    (n = token_at(w, i, len)) > 0) {
			add(s, off + i, off + i + n);
			i += n;
		} else {
			i++;
		}
	}
}

/*
 * userinfo - user:password@ in a URL (scheme://) or bare (user:pw@host):
 * hide the password; a URL's user that is a token (no password, 16
 * characters or more, or a known token) is hidden whole.
 */
static void
userinfo(struct spans *s, const char *w, size_t len, size_t off)
{
	const char *scheme = memstr(w, len, "://"), *start, *end, *at, *colon;

	if (scheme != NULL) {
		start = scheme + 3;
		end = start + strcspn(start, "/?#");
		if (end > w + len)
			end = w + len;
	} else {
		start = w;
		end = w + len;
	}
	for (at = end; at > start && at[-1] != '@'; at--)
		;
	if (at == start)
		return;
	at--;				/* the '@' */
	colon = memchr(start, ':', (size_t)(at - start));
	if (scheme == NULL) {
		/* user:pw@host, not image:tag@sha256:... nor a path */
		if (colon == NULL || colon == start ||
		    memchr(start, '/', (size_t)(colon - start)) != NULL ||
		    memchr(start, '@', (size_t)(at - start)) != NULL ||
		    strncmp(at + 1, "sha", 3) == 0)
			return;
	}
	if (colon != NULL)
		add(s, off + (size_t)(colon + 1 - w), off + (size_t)(at - w));
	else if (at - start >= 16 ||
	    token_at(start, 0, (size_t)(at - start)) > 0)
		add(s, off + (size_t)(start - w), off + (size_t)(at - w));
}

/* which_tool - 1 + the index of the tool w (its basename) names, or 0. */
static int
which_tool(const char *w, size_t len)
{
	const char *base = w;
	size_t i, bl;

	for (i = 0; i < len; i++)
		if (w[i] == '/')
			base = w + i + 1;
	bl = len - (size_t)(base - w);
	for (i = 0; i < NTOOLS; i++)
		if (strlen(tools[i].name) == bl &&
		    memcmp(tools[i].name, base, bl) == 0)
			return (int)i + 1;
	return 0;
}

/*
 * word - the rules for one word w[0..len), which lies at offset off of
 * the argument being redacted.
 */
static void
word(struct skm__redact *r, struct spans *s, const char *w, size_t len,
    size_t off)
{
	const char *eq, *colon;
	size_t i, nl;
	int t;
	char opt;

	if (r->hide_next) {
		r->hide_next = 0;
		add(s, off, off + len);
		return;
	}
	if (r->userinfo_next) {
		r->userinfo_next = 0;
		if ((colon = memchr(w, ':', len)) != NULL)
			add(s, off + (size_t)(colon + 1 - w), off + len);
		return;
	}
	if ((t = which_tool(w, len)) != 0) {
		r->tool = t;
		r->login = 0;
		return;
	}
	if (len == 5 && memcmp(w, "login", 5) == 0) {
		r->login = 1;
		return;
	}
	eq = memchr(w, '=', len);
	nl = eq != NULL ? (size_t)(eq - w) : len;
	/* --name=value, NAME=value */
	if (eq != NULL && looks_like_name(w, nl) && secret_name(w, nl, r->extra)) {
		add(s, off + nl + 1, off + len);
		return;
	}
	if (w[0] == '-' && len > 1) {
		/* --name value */
		if (eq == NULL && secret_name(w, len, r->extra)) {
			r->hide_next = 1;
			return;
		}
		if (r->tool != 0) {
			opt = tools[r->tool - 1].opt;
			if (r->tool == (int)TOOL_CURL) {
				/* -u USER:PW, -uUSER:PW, --user[=]USER:PW */
				if ((len == 2 && w[1] == 'u') ||
				    (len == 6 && memcmp(w, "--user", 6) == 0)) {
					r->userinfo_next = 1;
					return;
				}
				if ((w[1] == 'u' || (eq != NULL && nl == 6 &&
				    memcmp(w, "--user", 6) == 0)) &&
				    (colon = memchr(w, ':', len)) != NULL) {
					add(s, off + (size_t)(colon + 1 - w),
					    off + len);
					return;
				}
			} else if (w[1] == opt &&
			    (!tools[r->tool - 1].login || r->login)) {
				/* -p VALUE, -pVALUE */
				if (len == 2)
					r->hide_next = 1;
				else
					add(s, off + 2, off + len);
				return;
			}
		}
	}
	/* Authorization: Bearer x, X-Api-Key:x */
	if ((colon = memchr(w, ':', len)) != NULL && colon > w &&
	    looks_like_header(w, (size_t)(colon - w)) &&
	    secret_name(w, (size_t)(colon - w), r->extra)) {
		for (i = (size_t)(colon + 1 - w); i < len && is_blank(w[i]); i++)
			;
		add(s, off + i, off + len);
		return;
	}
	userinfo(s, w, len, off);
	bare_tokens(s, w, len, off);
}

/*
 * script - w[0..len) taken apart into shell words: blanks and operators
 * separate them, quotes and backslashes keep them together.  A word in
 * quotes as a whole is looked at without them ('Authorization: x').
 */
static void
script(struct skm__redact *r, struct spans *s, const char *w, size_t len)
{
	size_t i = 0, start;
	char q;

	while (i < len) {
		while (i < len && (is_blank(w[i]) || is_operator(w[i])))
			i++;
		if (i == len)
			break;
		start = i;
		q = 0;
		for (; i < len; i++) {
			if (q != 0) {
				if (w[i] == q)
					q = 0;
				else if (q == '"' && w[i] == '\\' && i + 1 < len)
					i++;
			} else if (w[i] == '\'' || w[i] == '"') {
				q = w[i];
			} else if (w[i] == '\\' && i + 1 < len) {
				i++;
			} else if (is_blank(w[i]) || is_operator(w[i])) {
				break;
			}
		}
		if (i - start >= 2 && (w[start] == '\'' || w[start] == '"') &&
		    w[i - 1] == w[start])
			word(r, s, w + start + 1, i - start - 2, start + 1);
		else
			word(r, s, w + start, i - start, start);
	}
}

void
skm__redact_init(struct skm__redact *r, const char *extra)
{
	memset(r, 0, sizeof(*r));
	r->extra = extra;
}

/* Sort spans by start and merge those that overlap or touch. */
static int
normalise(struct skm__span *sp, int n)
{
	struct skm__span t;
	int i, j, m;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && sp[j - 1].from > sp[j].from; j--) {
			t = sp[j];
			sp[j] = sp[j - 1];
			sp[j - 1] = t;
		}
	for (m = 0, i = 0; i < n; i++) {
		if (m > 0 && sp[i].from <= sp[m - 1].to) {
			if (sp[i].to > sp[m - 1].to)
				sp[m - 1].to = sp[i].to;
		} else {
			sp[m++] = sp[i];
		}
	}
	return m;
}

int
skm__redact_spans(struct skm__redact *r, const char *w, size_t len,
    struct skm__span *sp)
{
	struct spans s = { sp, 0 };
	const char *colon;
	size_t i;
	int multi = 0;

	for (i = 0; i < len && !multi; i++)
		multi = is_blank(w[i]) || is_operator(w[i]);
	if (!multi || r->hide_next || r->userinfo_next) {
		word(r, &s, w, len, 0);
		return normalise(sp, s.n);
	}
	/* A header as one argument: "Authorization: Bearer x". */
	if ((colon = memchr(w, ':', len)) != NULL && colon > w &&
	    looks_like_header(w, (size_t)(colon - w)) &&
	    secret_name(w, (size_t)(colon - w), r->extra)) {
		for (i = (size_t)(colon + 1 - w); i < len && is_blank(w[i]); i++)
			;
		add(&s, i, len);
		return normalise(sp, s.n);
	}
	/* A script has a state of its own; what it says ends with it. */
	{
		struct skm__redact inner = *r;

		inner.hide_next = inner.userinfo_next = 0;
		script(&inner, &s, w, len);
	}
	return normalise(sp, s.n);
}

/* An output buffer that cuts what does not fit. */
struct out {
	char *buf;
	size_t size, len;	/* len < size always; room kept for "..." */
	int cut;
};

static void
put(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->cut)
		return;
	room = o->size - 4 - o->len;	/* "..." and the NUL */
	if (n > room) {
		n = room;
		/* Not in the middle of a UTF-8 character. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		o->cut = 1;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	if (o->cut) {
		memcpy(o->buf + o->len, "...", 3);
		o->len += 3;
	}
}

/* put_quoted - w[from, to) inside single quotes, each ' as '\''. */
static void
put_quoted(struct out *o, const char *w, size_t from, size_t to)
{
	size_t i, start = from;

	for (i = from; i < to; i++) {
		if (w[i] != '\'')
			continue;
		put(o, w + start, i - start);
		put(o, "'\\''", 4);
		start = i + 1;
	}
	put(o, w + start, to - start);
}

/*
 * put_word - one argument, its spans hidden, quoted for a POSIX shell:
 * as it is when it consists of characters no shell treats specially,
 * else in single quotes (a hidden part, "***", always is).
 */
static void
put_word(struct out *o, const char *w, size_t len,
    const struct skm__span *sp, int n)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";
	size_t at = 0;
	int i;

	if (n == 0 && len > 0 && strspn(w, plain) >= len) {
		put(o, w, len);
		return;
	}
	put(o, "'", 1);
	for (i = 0; i < n; i++) {
		put_quoted(o, w, at, sp[i].from);
		put(o, SKM__REDACTED, sizeof(SKM__REDACTED) - 1);
		at = sp[i].to;
	}
	put_quoted(o, w, at, len);
	put(o, "'", 1);
}

size_t
skm__command_line(char *buf, size_t size, int argc, char *const argv[],
    const char *extra)
{
	struct skm__span sp[SKM__MAX_SPANS];
	struct skm__redact r;
	struct out o = { buf, size, 0, 0 };
	size_t len;
	int i, n;

	if (size < 4) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	skm__redact_init(&r, extra);
	for (i = 0; (argc < 0 || i < argc) && argv[i] != NULL && !o.cut; i++) {
		len = strlen(argv[i]);
		n = skm__redact_spans(&r, argv[i], len, sp);
		if (i > 0)
			put(&o, " ", 1);
		put_word(&o, argv[i], len, sp, n);
	}
	buf[o.len] = '\0';
	return o.len;
}

size_t
skm__redact_line(char *buf, size_t size, const char *line,
    const char *extra)
{
	struct skm__span sp[SKM__MAX_SPANS];
	struct skm__redact r;
	struct out o = { buf, size, 0, 0 };
	size_t len = strlen(line), at = 0;
	int i, n;

	if (size < 4) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	skm__redact_init(&r, extra);
	/* As a script: its words, quoted or not, each through the rules. */
	{
		struct spans s = { sp, 0 };

		script(&r, &s, line, len);
		n = normalise(sp, s.n);
	}
	for (i = 0; i < n; i++) {
		put(&o, line + at, sp[i].from - at);
		put(&o, SKM__REDACTED, sizeof(SKM__REDACTED) - 1);
		at = sp[i].to;
	}
	put(&o, line + at, len - at);
	buf[o.len] = '\0';
	return o.len;
}
