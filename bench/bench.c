/*
 * bench.c - skm's benchmark suite: every measure of issue 6 against a
 * baseline taken in the same run, printed as one table and written to a
 * JSON file.
 *
 *	bench [-q] [-s SECTIONS] -t TOP -d DIR [-o results.json]
 *
 * TOP is the built source tree (skm-run, skm, bench/reference.py and, once
 * it exists, the shim), DIR an empty scratch directory on disk.  -q runs
 * the same code on small sizes, in seconds.  -s runs only the sections
 * named, separated by commas (wrapper, parallel, shim, inprocess, fold,
 * import, cli, queries): `sh bench/run.sh -q -s fold,import`.
 *
 * Method.  Every figure is a median (or the stated percentile) over
 * repeated runs, and skm and its baseline run interleaved - A B C, B C A,
 * C A B ... - so that whatever the machine does meanwhile falls on both.
 * Commands are started with posix_spawn() and timed on CLOCK_MONOTONIC
 * from just before the spawn to the return of waitpid(), the wall time a
 * shell would see.  A row whose feature is not built yet prints
 * "n/a (not built yet)"; it is detected at run time, so the row starts
 * measuring by itself once the feature lands.
 *
 * Stores with many invocations are generated in one process: rows with
 * every column skm-run writes are inserted in one transaction (ids are
 * UUIDv7 of the row's own time, in time order, as skm-run makes them),
 * then libskm's skm_recompute() builds skill_metrics and session_skill and
 * skm_check() proves they equal what the incremental path would hold.
 *
 * The harness never fails a build over a number: it exits 0 when it ran,
 * 1 only when it could not run at all (no scratch directory, no skm-run).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "skm.h"

extern char **environ;

/* Sizes of one run: full (`make bench`) or quick (`make bench-quick`). */
struct sizes {
	int wrap_runs;        /* skm-run vs time vs bare: runs of each */
	int par_rounds;       /* parallel: rounds of (skm phase, time phase) */
	int par_per_worker;   /* parallel: runs per worker per phase */
	int shim_runs;
	int pair_rounds;      /* in-process: rounds of (C, Python) */
	int pairs_c, pairs_py;
	long big;             /* invocations in the big store (1,000,000) */
	long small;           /* invocations in the small store (10,000) */
	int import_rounds;
	int query_reps;
	int rec_rounds, rec_pairs;
};

static const struct sizes full = {
	300, 4, 25, 300, 5, 5000, 1000, 1000000, 10000, 3, 21, 20, 100
};
static const struct sizes quick = {
	40, 2, 5, 40, 3, 500, 100, 20000, 2000, 2, 7, 6, 50
};

static const struct sizes *sz;
static const char *top, *dir, *sections;

/* Is section name to run (-s)? */
static int
want(const char *name)
{
	const char *p = sections;
	size_t n = strlen(name);

	if (p == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == sections || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}
static char skmrun[4096], skmcli[4096], shim[4096];

#define NSKILLS 100
#define PAR_WORKERS 16

/* ------------------------------------------------------------------ */
/* Results: rows of the table, kept in an in-memory SQLite table so that
 * the JSON file is made by SQLite's JSON functions. */

static sqlite3 *res;

static void
row(const char *measure, const char *skm, const char *base,
    const char *ratio, const char *target, const char *met,
    double skm_value, double base_value, const char *unit)
{
	sqlite3_stmt *st;

	sqlite3_prepare_v2(res, "INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?)",
	    -1, &st, NULL);
	sqlite3_bind_text(st, 1, measure, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, skm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, base, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ratio, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, met, -1, SQLITE_STATIC);
	if (!isnan(skm_value))
		sqlite3_bind_double(st, 7, skm_value);
	if (!isnan(base_value))
		sqlite3_bind_double(st, 8, base_value);
	sqlite3_bind_text(st, 9, unit, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	fprintf(stderr, "bench: %s: %s | %s | %s\n", measure, skm, base, met);
}

static void
row_na(const char *measure, const char *target, const char *why)
{
	row(measure, why, "-", "-", target, "n/a", NAN, NAN, "");
}

/* printf into a static ring of buffers: table cells. */
static const char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *
fmt(const char *f, ...)
{
	static char bufs[16][128];
	static int i;
	va_list ap;
	char *b = bufs[i++ % 16];

	va_start(ap, f);
	vsnprintf(b, 128, f, ap);
	va_end(ap);
	return b;
}

static const char *
yesno(int ok)
{
	return ok ? "yes" : "NO";
}

/* ------------------------------------------------------------------ */
/* Statistics and clocks. */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-quantile of v[0..n) with linear interpolation (sorts v). */
static double
pct(double *v, int n, double p)
{
	double k;
	int f, c;

	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	k = (n - 1) * p;
	f = (int)k;
	c = f + 1 < n ? f + 1 : f;
	return v[f] + (k - f) * (v[c] - v[f]);
}

static double
median(double *v, int n)
{
	return pct(v, n, 0.5);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		err(1, NULL);
	return p;
}

/* ------------------------------------------------------------------ */
/* Running commands. */

/*
 * run - spawn argv with env (NULL: ours), stdout to /dev/null, stderr to
 * errfd (-1: /dev/null), wait for it.  Returns the wall time in seconds
 * and the wait status in *status (-1 when it could not be spawned).
 */
static double
run(char *const argv[], char *const env[], int errfd, int *status)
{
	posix_spawn_file_actions_t fa;
	double t0, t1;
	pid_t pid;
	int st = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (errfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
		    0);
	t0 = now();
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv,
	    env != NULL ? env : environ) == 0) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	t1 = now();
	posix_spawn_file_actions_destroy(&fa);
	if (status != NULL)
		*status = st;
	return t1 - t0;
}

/* An environment: ours plus the given NAME=value strings (NULL-ended). */
static char **
env_with(const char *const add[])
{
	size_t n = 0, k = 0, i;
	char **e;

	while (environ[n] != NULL)
		n++;
	while (add[k] != NULL)
		k++;
	e = xcalloc(n + k + 1, sizeof(*e));
	for (i = 0; i < k; i++)
		e[i] = (char *)add[i];
	for (i = 0; i < n; i++)
		e[k + i] = environ[i];
	return e;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Remove the journal directory beside the store at path. */
static void
rm_journal(const char *path)
{
	char d[4200], p[4600];
	struct dirent *de;
	DIR *dir;

	snprintf(d, sizeof(d), "%s.journal", path);
	if ((dir = opendir(d)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		unlink(p);
	}
	closedir(dir);
	rmdir(d);
}

static void
rm_store(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rm_journal(path);
}

static const char *
in_dir(const char *name)
{
	static char bufs[8][4096];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, 4096, "%s/%s", dir, name);
	return b;
}

/* The number of ended invocations of skill in the store at path. */
static long
count_ended(const char *path, const char *skill)
{
	struct skm_db *db;
	sqlite3 *c;
	sqlite3_stmt *st;
	long n = -1;

	/* What recorders appended is in the journal until folded. */
	if (skm_open(path, SKM_OPEN_NOFOLD, &db) == SKM_OK)
		(void)skm_drain(db, NULL);
	skm_close(db);
	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(c, "SELECT count(*) FROM skill_invocation "
	    "WHERE skill_name = ? AND ended_at IS NOT NULL", -1, &st, NULL)
	    == SQLITE_OK) {
		sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
out:
	sqlite3_close(c);
	return n;
}

/* A new, empty store made by libskm (schema applied), at path. */
static int
make_store(const char *path)
{
	struct skm_db *db;
	int rc;

	rm_store(path);
	rc = skm_open(path, 0, &db);
	if (rc != SKM_OK)
		warnx("%s: %s", path, skm_errmsg(db));
	skm_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* 1. skm-run /bin/true against GNU time and bare /bin/true. */

static void
bench_wrapper(void)
{
	const char *store = in_dir("wrap.db");
	char *a_skm[] = { skmrun, "--skill", "b", "--", "/bin/true", NULL };
	char *a_time[] = { "/usr/bin/time", "-f", "", "/bin/true", NULL };
	char *a_true[] = { "/bin/true", NULL };
	char *const *cmds[3] = { a_skm, a_time, a_true };
	const char *add[] = { NULL, NULL };
	char envdb[4200];
	char **env;
	double *t[3], m[3];
	int i, j, st, fails = 0, have_time = exists("/usr/bin/time");

	snprintf(envdb, sizeof(envdb), "SKM_DB=%s", store);
	add[0] = envdb;
	env = env_with(add);
	make_store(store);
	for (j = 0; j < 3; j++)
		t[j] = xcalloc((size_t)sz->wrap_runs, sizeof(double));
	/* Warm up: page cache, the store's WAL and shm files. */
	for (i = 0; i < 10; i++)
		for (j = 0; j < 3; j++)
			if (j != 1 || have_time)
				run(cmds[j], env, -1, NULL);
	for (i = 0; i < sz->wrap_runs; i++) {
		for (j = 0; j < 3; j++) {
			int k = (i + j) % 3;
			if (k == 1 && !have_time)
				continue;
			t[k][i] = run(cmds[k], env, -1, &st);
			if (k == 0 && st != 0)
				fails++;
		}
	}
	for (j = 0; j < 3; j++)
		m[j] = median(t[j], sz->wrap_runs) * 1e3;
	if (!have_time) {
		row("skm-run --skill b -- /bin/true, added wall",
		    fmt("%.2f ms", m[0]), fmt("bare %.2f ms", m[2]),
		    fmt("%.2fx", m[0] / m[2]), "<= +1.0 ms over GNU time",
		    "n/a (no /usr/bin/time)", m[0], m[2], "ms");
	} else {
		row("skm-run --skill b -- /bin/true vs GNU time",
		    fmt("%.2f ms (%+.2f)", m[0], m[0] - m[1]),
		    fmt("time %.2f, bare %.2f ms", m[1], m[2]),
		    fmt("%.2fx", m[0] / m[1]), "<= 1.05x GNU time",
		    fails ? fmt("NO (%d failed)", fails) :
		    yesno(m[0] / m[1] <= 1.05), m[0], m[1], "ms");
	}
	for (j = 0; j < 3; j++)
		free(t[j]);
	free(env);
}

/* ------------------------------------------------------------------ */
/* 2. Eight wrappers at once on one store. */

struct worker {
	char *const *argv;
	char **env;
	int errfd;
	int n;
	double *t;
	int fails;
	pthread_t th;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int i, st;

	for (i = 0; i < w->n; i++) {
		w->t[i] = run(w->argv, w->env, w->errfd, &st);
		if (st != 0)
			w->fails++;
	}
	return NULL;
}

/* Run argv n times in each of PAR_WORKERS threads; latencies into t. */
static int
par_phase(char *const argv[], char **env, int errfd, double *t, int n)
{
	struct worker w[PAR_WORKERS];
	int i, fails = 0;

	for (i = 0; i < PAR_WORKERS; i++) {
		w[i] = (struct worker){ argv, env, errfd, n, t + i * n, 0, 0 };
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	}
	for (i = 0; i < PAR_WORKERS; i++) {
		pthread_join(w[i].th, NULL);
		fails += w[i].fails;
	}
	return fails;
}

static void
bench_parallel(void)
{
	const char *store = in_dir("par.db"), *errs = in_dir("par.err");
	char *a_skm[] = { skmrun, "--skill", "par", "--", "/bin/true", NULL };
	char *a_time[] = { "/usr/bin/time", "-f", "", "/bin/true", NULL };
	const char *add[] = { NULL, NULL };
	char envdb[4200];
	char **env;
	int per = sz->par_per_worker, phase = PAR_WORKERS * per;
	int total = phase * sz->par_rounds, r, fails = 0, errfd;
	double *ts, *tt, p99s, p99t, p50s, p50t;
	struct stat sb;
	long recorded;

	if (!exists("/usr/bin/time")) {
		row_na("16 x skm-run in parallel, p99 added", "<= +1 ms, 0 failed",
		    "n/a (no /usr/bin/time)");
		return;
	}
	snprintf(envdb, sizeof(envdb), "SKM_DB=%s", store);
	add[0] = envdb;
	env = env_with(add);
	make_store(store);
	ts = xcalloc((size_t)total, sizeof(double));
	tt = xcalloc((size_t)total, sizeof(double));
	if ((errfd = open(errs, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600)) == -1)
		err(1, "%s", errs);
	for (r = 0; r < sz->par_rounds; r++) {
		if (r % 2 == 0) {
			fails += par_phase(a_skm, env, errfd, ts + r * phase, per);
			par_phase(a_time, env, -1, tt + r * phase, per);
		} else {
			par_phase(a_time, env, -1, tt + r * phase, per);
			fails += par_phase(a_skm, env, errfd, ts + r * phase, per);
		}
	}
	close(errfd);
	recorded = count_ended(store, "par");
	/* A failure is a non-zero exit, a warning or a lost row. */
	if (stat(errs, &sb) != 0)
		sb.st_size = 0;
	if (recorded != total)
		fails += (int)(total - recorded > 0 ? total - recorded : 1);
	p99s = pct(ts, total, 0.99) * 1e3;
	p50s = pct(ts, total, 0.5) * 1e3;
	p99t = pct(tt, total, 0.99) * 1e3;
	p50t = pct(tt, total, 0.5) * 1e3;
	row("16 x skm-run in parallel, one store: p99 added",
	    fmt("p99 %.2f ms (%+.2f), p50 %.2f", p99s, p99s - p99t, p50s),
	    fmt("time p99 %.2f, p50 %.2f ms", p99t, p50t),
	    fmt("%.2fx", p99s / p99t), "p99 <= +1 ms, 0 failed",
	    fails || sb.st_size > 0 ?
	    fmt("NO (%d failed, %ld of %d recorded, %lld bytes of warnings)",
	    fails, recorded, total, (long long)sb.st_size) :
	    fmt("%s (0 failed, %d recorded)", yesno(p99s - p99t <= 1.0),
	    total), p99s, p99t, "ms");
	free(ts);
	free(tt);
	free(env);
}

/* ------------------------------------------------------------------ */
/* 3. The LD_PRELOAD shim, once it is built. */

static void
find_shim(void)
{
	static const char *const cand[] = { "shim/libskm-preload.so",
	    "libskm-preload.so", NULL };
	int i;

	shim[0] = '\0';
	for (i = 0; cand[i] != NULL; i++) {
		snprintf(shim, sizeof(shim), "%s/%s", top, cand[i]);
		if (exists(shim))
			return;
	}
	shim[0] = '\0';
}

static void
bench_shim_one(const char *measure, const char *rules_text,
    const char *skill, double limit_ms, const char *target)
{
	const char *store = in_dir("shim.db"), *rules = in_dir("shim.rules");
	char *a_true[] = { "/bin/true", NULL };
	char e_pre[4200], e_db[4200], e_rules[4200], e_empty[4200];
	const char *add[] = { e_pre, e_db, e_rules, NULL };
	const char *add_empty[] = { e_empty, NULL };
	char **env, **env_empty = NULL;
	double *ts, *tb, *te = NULL, ms, mb, me;
	int i, st, fails = 0;
	long recorded;
	FILE *f;

	make_store(store);
	if ((f = fopen(rules, "w")) == NULL)
		err(1, "%s", rules);
	fputs(rules_text, f);
	fclose(f);
	snprintf(e_pre, sizeof(e_pre), "LD_PRELOAD=%s", shim);
	snprintf(e_db, sizeof(e_db), "SKM_DB=%s", store);
	snprintf(e_rules, sizeof(e_rules), "SKM_RULES=%s", rules);
	/* With no rule matching, an empty preloaded library too: what any
	 * LD_PRELOAD costs on this machine, before the shim does anything. */
	snprintf(e_empty, sizeof(e_empty), "LD_PRELOAD=%s/bench/empty-preload.so",
	    top);
	unsetenv("SKM_SKILL");
	env = env_with(add);
	ts = xcalloc((size_t)sz->shim_runs, sizeof(double));
	tb = xcalloc((size_t)sz->shim_runs, sizeof(double));
	if (skill == NULL && exists(e_empty + strlen("LD_PRELOAD="))) {
		env_empty = env_with(add_empty);
		te = xcalloc((size_t)sz->shim_runs, sizeof(double));
	}
	for (i = 0; i < 10; i++) {
		run(a_true, env, -1, NULL);
		run(a_true, NULL, -1, NULL);
		if (te != NULL)
			run(a_true, env_empty, -1, NULL);
	}
	for (i = 0; i < sz->shim_runs; i++) {
		if (i % 2 == 0) {
			ts[i] = run(a_true, env, -1, &st);
			tb[i] = run(a_true, NULL, -1, NULL);
			if (te != NULL)
				te[i] = run(a_true, env_empty, -1, NULL);
		} else {
			if (te != NULL)
				te[i] = run(a_true, env_empty, -1, NULL);
			tb[i] = run(a_true, NULL, -1, NULL);
			ts[i] = run(a_true, env, -1, &st);
		}
		if (st != 0)
			fails++;
	}
	ms = median(ts, sz->shim_runs) * 1e3;
	mb = median(tb, sz->shim_runs) * 1e3;
	recorded = skill != NULL ? count_ended(store, skill) : 0;
	row(measure, fmt("%.3f ms (%+.3f)", ms, ms - mb),
	    fmt("bare %.3f ms", mb), fmt("%.2fx", ms / mb), target,
	    fails ? fmt("NO (%d failed)", fails) :
	    skill != NULL && recorded < sz->shim_runs ?
	    fmt("NO (%ld of %d recorded)", recorded, sz->shim_runs + 10) :
	    yesno(ms - mb <= limit_ms), ms, mb, "ms");
	if (te != NULL) {
		me = median(te, sz->shim_runs) * 1e3;
		row("shim start-up, no rule matches, vs an empty preloaded "
		    "library", fmt("%.3f ms (%+.3f)", ms, ms - me),
		    fmt("empty .so %.3f ms (%+.3f over bare)", me, me - mb),
		    fmt("%.2fx", ms / me), "-", "-", ms, me, "ms");
	}
	free(ts);
	free(tb);
	free(te);
	free(env);
	free(env_empty);
}

/* Bytes of the files beside the store: -wal, -shm and the journal's. */
static long long
beside_bytes(const char *store)
{
	char p[4300];
	struct stat sb;
	struct dirent *de;
	long long n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "%s-wal", store);
	if (stat(p, &sb) == 0)
		n += sb.st_size;
	snprintf(p, sizeof(p), "%s-shm", store);
	if (stat(p, &sb) == 0)
		n += sb.st_size;
	snprintf(p, sizeof(p), "%s.journal", store);
	if ((d = opendir(p)) == NULL)
		return n;
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s.journal/%s", store, de->d_name);
		if (de->d_name[0] != '.' && stat(p, &sb) == 0)
			n += sb.st_size;
	}
	closedir(d);
	return n;
}

/* The shim's environment for store and a rules file of rules_text. */
static char **
shim_env(const char *store, const char *rules, const char *rules_text)
{
	/* Each call's strings are its own (env_with keeps the pointers):
	 * two environments live at once in bench_shim_match. */
	char *e_pre = xcalloc(1, 4200), *e_db = xcalloc(1, 4200);
	char *e_rules = xcalloc(1, 4200);
	const char *add[] = { e_pre, e_db, e_rules, NULL };
	FILE *f;

	if ((f = fopen(rules, "w")) == NULL)
		err(1, "%s", rules);
	fputs(rules_text, f);
	fclose(f);
	snprintf(e_pre, 4200, "LD_PRELOAD=%s", shim);
	snprintf(e_db, 4200, "SKM_DB=%s", store);
	snprintf(e_rules, 4200, "SKM_RULES=%s", rules);
	unsetenv("SKM_SKILL");
	return env_with(add);
}

/* A process the shim records against one it only looks at: what
 * recording itself costs (two journal appends). */
static void
bench_shim_match(void)
{
	const char *store = in_dir("shimm.db");
	char *a_true[] = { "/bin/true", NULL };
	char **em, **en;
	double *tm, *tn, mm, mn;
	int i, st, fails = 0;
	long recorded;

	make_store(store);
	em = shim_env(store, in_dir("match.rules"), "shimmed  */true*\n");
	en = shim_env(store, in_dir("nomatch.rules"),
	    "nothing  no-such-program*\n");
	tm = xcalloc((size_t)sz->shim_runs, sizeof(double));
	tn = xcalloc((size_t)sz->shim_runs, sizeof(double));
	for (i = 0; i < 10; i++) {
		run(a_true, em, -1, NULL);
		run(a_true, en, -1, NULL);
	}
	for (i = 0; i < sz->shim_runs; i++) {
		if (i % 2 == 0) {
			tm[i] = run(a_true, em, -1, &st);
			tn[i] = run(a_true, en, -1, NULL);
		} else {
			tn[i] = run(a_true, en, -1, NULL);
			tm[i] = run(a_true, em, -1, &st);
		}
		if (st != 0)
			fails++;
	}
	mm = median(tm, sz->shim_runs) * 1e3;
	mn = median(tn, sz->shim_runs) * 1e3;
	recorded = count_ended(store, "shimmed");
	row("shim, a rule matches vs no rule matches",
	    fmt("%.3f ms (%+.3f)", mm, mm - mn), fmt("no match %.3f ms", mn),
	    fmt("%.2fx", mm / mn), "<= 1.10x",
	    fails ? fmt("NO (%d failed)", fails) :
	    recorded < sz->shim_runs ? fmt("NO (%ld of %d recorded)",
	    recorded, sz->shim_runs + 10) : yesno(mm / mn <= 1.10),
	    mm, mn, "ms");
	free(tm);
	free(tn);
	free(em);
	free(en);
}

/* Matched runs on a fresh store, one after another, as a build's
 * compiler calls: the last tenth against the first (the cost must not
 * grow), and what is left beside the store after them. */
static void
bench_shim_growth(void)
{
	const char *store = in_dir("grow.db");
	char *a_true[] = { "/bin/true", NULL };
	int n = sz == &full ? 3000 : 600, w = n / 10, i, st, fails = 0;
	double *t, first, last;
	long long beside;
	char **env;

	rm_store(store);
	env = shim_env(store, in_dir("grow.rules"), "grown  */true*\n");
	t = xcalloc((size_t)n, sizeof(double));
	for (i = 0; i < n; i++) {
		t[i] = run(a_true, env, -1, &st);
		if (st != 0)
			fails++;
	}
	first = median(t, w) * 1e3;
	last = median(t + n - w, w) * 1e3;
	beside = beside_bytes(store);
	row(fmt("shim matched, runs %d-%d vs 1-%d on a fresh store",
	    n - w + 1, n, w), fmt("%.3f ms", last), fmt("%.3f ms", first),
	    fmt("%.2fx", last / first), "<= 1.2x",
	    fails ? fmt("NO (%d failed)", fails) : yesno(last / first <= 1.2),
	    last, first, "ms");
	row(fmt("files beside the store after %d matched runs", n),
	    fmt("%.2f MB", beside / 1e6), "-", "-", "<= 16 MB",
	    yesno(beside <= 16000000), beside / 1e6, NAN, "MB");
	free(t);
	free(env);
}

static void
bench_shim(void)
{
	find_shim();
	if (shim[0] == '\0') {
		row_na("shim start-up, no rule matches", "<= +0.1 ms",
		    "n/a (not built yet)");
		row_na("shim start-up, a rule matches", "<= +1 ms",
		    "n/a (not built yet)");
		return;
	}
	bench_shim_one("shim start-up, no rule matches",
	    "nothing  no-such-program*\n", NULL, 0.1, "<= +0.1 ms");
	bench_shim_match();
	bench_shim_growth();
}

/* ------------------------------------------------------------------ */
/* 4. In-process begin+end against the reference's Python pattern. */

/* Pairs per second of n skm_begin+skm_end on db. */
static double
pairs_rate(struct skm_db *db, const char *skill, int n, int *fails)
{
	struct skm_begin_info bi = { .skill = skill };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	struct skm_inv *inv;
	double t0 = now();
	int i;

	ei.completed = 1;
	ei.exit_code = 0;
	for (i = 0; i < n; i++) {
		if (skm_begin(db, &bi, &inv) != SKM_OK ||
		    skm_end(inv, &ei) != SKM_OK)
			(*fails)++;
	}
	return n / (now() - t0);
}

/* Run reference.py on store for n pairs; its pairs per second, or NAN. */
static double
python_rate(const char *store, int n)
{
	char script[4200], num[32], line[64];
	char *argv[] = { "/usr/bin/env", "python3", script, (char *)store, num,
	    NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], st;
	pid_t pid;
	ssize_t k;
	size_t got = 0;

	snprintf(script, sizeof(script), "%s/bench/reference.py", top);
	snprintf(num, sizeof(num), "%d", n);
	if (pipe(fds) == -1)
		return NAN;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		close(fds[0]);
		close(fds[1]);
		return NAN;
	}
	close(fds[1]);
	while (got < sizeof(line) - 1 &&
	    (k = read(fds[0], line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)k;
	line[got] = '\0';
	close(fds[0]);
	waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	if (st != 0 || got == 0)
		return NAN;
	return strtod(line, NULL);
}

/* Bytes a begin+end pair adds to the journal of store (measured on 100
 * pairs; 0 when the journal was sealed meanwhile and could not be read). */
static double
pair_bytes(struct skm_db *db, const char *store, int *fails)
{
	char path[4200];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s.journal/journal", store);
	if (stat(path, &a) != 0)
		a.st_size = 0;
	pairs_rate(db, "b", 100, fails);
	if (stat(path, &b) != 0 || b.st_size <= a.st_size)
		return 0;
	return (double)(b.st_size - a.st_size) / 100;
}

/* The floor under an appended pair: two write(2)s of half a pair's bytes
 * each on an O_APPEND descriptor in the same directory, n times; pairs
 * per second.  The file is emptied every 64k pairs, as the journal is
 * sealed when it grows. */
static double
floor_rate(const char *path, double bytes, int n)
{
	char buf[4096];
	size_t half = bytes / 2 > 0 && bytes / 2 < sizeof(buf) ?
	    (size_t)(bytes / 2) : 150;
	double t0;
	int fd, i;

	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return NAN;
	t0 = now();
	for (i = 0; i < n; i++) {
		if (write(fd, buf, half) != (ssize_t)half ||
		    write(fd, buf, half) != (ssize_t)half) {
			close(fd);
			return NAN;
		}
		if (i % 65536 == 65535 && ftruncate(fd, 0) != 0) {
			close(fd);
			return NAN;
		}
	}
	t0 = now() - t0;
	close(fd);
	unlink(path);
	return n / t0;
}

static void
bench_inprocess(void)
{
	const char *cstore = in_dir("pairs.db"), *pstore = in_dir("ref.db");
	const char *fstore = in_dir("floor.bin");
	struct skm_db *db;
	double *rc, *rp, *rf, mc, mp, mf, bytes;
	int r, fails = 0, pyok = 1;

	make_store(cstore);
	unlink(pstore);		/* reference.py makes its own tables */
	rc = xcalloc((size_t)sz->pair_rounds, sizeof(double));
	rp = xcalloc((size_t)sz->pair_rounds, sizeof(double));
	rf = xcalloc((size_t)sz->pair_rounds, sizeof(double));
	if (skm_open(cstore, 0, &db) != SKM_OK)
		errx(1, "%s: %s", cstore, skm_errmsg(db));
	pairs_rate(db, "b", 50, &fails);         /* warm up */
	bytes = pair_bytes(db, cstore, &fails);
	for (r = 0; r < sz->pair_rounds; r++) {
		if (r % 2 == 0) {
			rc[r] = pairs_rate(db, "b", sz->pairs_c, &fails);
			rf[r] = floor_rate(fstore, bytes, sz->pairs_c);
			rp[r] = python_rate(pstore, sz->pairs_py);
		} else {
			rp[r] = python_rate(pstore, sz->pairs_py);
			rf[r] = floor_rate(fstore, bytes, sz->pairs_c);
			rc[r] = pairs_rate(db, "b", sz->pairs_c, &fails);
		}
		if (isnan(rp[r]))
			pyok = 0;
	}
	skm_close(db);
	mc = median(rc, sz->pair_rounds);
	mf = median(rf, sz->pair_rounds);
	mp = pyok ? median(rp, sz->pair_rounds) : NAN;
	row("in-process skm_begin+skm_end appended",
	    fmt("%.0f pairs/s", mc),
	    pyok ? fmt("reference.py %.0f pairs/s", mp) :
	    "n/a (python3 failed)",
	    pyok ? fmt("%.1fx", mc / mp) : "-",
	    ">= 200,000/s",
	    fails ? fmt("NO (%d failed)", fails) :
	    fmt("%s", yesno(mc >= 200000)),
	    mc, mp, "pairs/s");
	/* What the machine allows: the write(2)s alone.  On a VM where a
	 * system call is slow this bounds the row above whatever skm does. */
	row("in-process pair vs its two write(2)s alone",
	    fmt("%.0f pairs/s", mc),
	    fmt("write(2) x2 of %.0f B: %.0f pairs/s", bytes / 2, mf),
	    fmt("%.2fx", mf / mc), "-", "-", mc, mf, "pairs/s");
	free(rc);
	free(rp);
	free(rf);
}

/* ------------------------------------------------------------------ */
/* 4b. The fold: pending events applied, and the first query after. */

/* Append n begin+end pairs to store's journal without folding them. */
static void
append_pending(const char *store, int n)
{
	struct skm_db *db;
	int fails = 0;

	if (skm_open(store, SKM_OPEN_NOFOLD, &db) != SKM_OK)
		errx(1, "%s: %s", store, skm_errmsg(db));
	pairs_rate(db, "pending", n, &fails);
	skm_close(db);
	if (fails)
		errx(1, "%s: %d appends failed", store, fails);
}

static void
bench_fold(void)
{
	const char *store = in_dir("fold.db");
	char *a_show[] = { skmcli, "--db", (char *)store, "show", "pending",
	    NULL };
	char *a_ver[] = { skmcli, "version", NULL };
	int n = sz == &full ? 100000 : 10000, applied = 0, st;
	struct skm_db *db;
	double t0, tf, tq, tv;

	/* Throughput: 2n events folded by skm_drain. */
	make_store(store);
	append_pending(store, n);
	if (skm_open(store, SKM_OPEN_NOFOLD, &db) != SKM_OK)
		errx(1, "%s: %s", store, skm_errmsg(db));
	t0 = now();
	if (skm_drain(db, &applied) != SKM_OK)
		errx(1, "drain: %s", skm_errmsg(db));
	tf = now() - t0;
	skm_close(db);
	row("fold throughput", fmt("%.0f events/s", applied / tf),
	    fmt("%d events in %.2f s", applied, tf), "-", ">= 200,000/s",
	    yesno(applied == 2 * n && applied / tf >= 200000),
	    applied / tf, NAN, "events/s");

	/* The first query after 100k pending events (half of them in the
	 * quick run), as a whole process, less `skm version`. */
	make_store(store);
	append_pending(store, n / 2);
	tq = run(a_show, NULL, -1, &st);
	tv = run(a_ver, NULL, -1, NULL);
	row(fmt("first query after %dk pending events", n / 1000),
	    fmt("%.0f ms", (tq - tv) * 1e3), fmt("skm version %.1f ms",
	    tv * 1e3), "-", "<= 1 s", st != 0 ? "NO (failed)" :
	    yesno(tq - tv <= 1.0), (tq - tv) * 1e3, tv * 1e3, "ms");
}

/* ------------------------------------------------------------------ */
/* Generated invocations: deterministic, realistic rows. */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	/* xorshift64*: fast, deterministic, good enough for test data */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static double
rndu(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static const char *const words[] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
	"hotel", "india", "juliet", "kilo", "lima", "mike", "november",
	"oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform",
	"victor", "whiskey", "xray", "yankee", "zulu", "amber", "birch",
	"cedar", "dune", "ember", "fjord", "grove", "harbor", "iris", "jade",
	"kelp", "lotus", "maple", "nectar", "onyx", "pine", "quartz", "reed",
	"sage", "thyme", "umber", "vale", "willow", "yarrow",
};
static const char *const stages[] = { "ci", "local", "release", "nightly" };
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* One generated invocation, the fields skm-run writes. */
struct gen {
	char id[40], skill[32], at[32], ended[32], wf[48], session[40];
	char project[48], command[96];
	long long at_ms, ended_ms;   /* at and ended as the store keeps them */
	int has_wf, has_session, completed, exit_code;
	long long pid;
	double dur, ucpu, scpu;
	long long rss;
	const char *error, *follow;
};

static void
iso(double t, char out[32])
{
	struct tm tm;
	time_t s = (time_t)t;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)((t - (double)s) * 1000));
}

/* A lowercase UUID's 16 bytes, as the store keeps it (migration 7). */
static void
uuid_bytes(const char *u, unsigned char b[16])
{
	int k = 0;

	for (; *u != '\0' && k < 16; u++) {
		if (*u == '-')
			continue;
		sscanf(u, "%2hhx", &b[k++]);
		u++;
	}
}

/* The i-th of n invocations spread over the 30 days before t_end. */
static void
gen_one(struct gen *g, long i, long n, double t_end)
{
	double t = t_end - 30 * 86400.0 + 30 * 86400.0 * (double)i / n;
	uint64_t ms = (uint64_t)(t * 1000), r1 = rnd(), r2 = rnd();
	/* Each skill works in one area (a word two skills share) at one of
	 * four stages: a few workflow paths per skill, as in real use, and a
	 * search for one word finds 2% of the invocations. */
	int w = (int)((i % NSKILLS) % NWORDS);

	t = (double)ms / 1000.0;
	snprintf(g->id, sizeof(g->id), "%08x-%04x-7%03x-%04x-%012llx",
	    (unsigned)(ms >> 16), (unsigned)(ms & 0xffff),
	    (unsigned)(r1 & 0xfff), (unsigned)(0x8000 | ((r1 >> 12) & 0x3fff)),
	    (unsigned long long)(r2 & 0xffffffffffffULL));
	snprintf(g->skill, sizeof(g->skill), "skill-%03ld", i % NSKILLS);
	iso(t, g->at);
	/* durations: log-normal around 2 s */
	g->dur = exp(log(2.0) + 0.8 * (rndu() + rndu() + rndu() - 1.5));
	iso(t + g->dur, g->ended);
	g->at_ms = (long long)ms;
	g->ended_ms = (long long)floor((t + g->dur) * 1000);
	g->has_wf = rnd() % 10 < 8;
	snprintf(g->wf, sizeof(g->wf), "%s/%s", stages[rnd() % 4], words[w]);
	g->has_session = i % 2 == 0;
	/* A session (a day's agent session, a CI pipeline) runs about a
	 * thousand invocations of many skills. */
	snprintf(g->session, sizeof(g->session),
	    "5e55%04lx-0000-4000-8000-%012lx", (i / 1000) & 0xffff, i / 1000);
	snprintf(g->project, sizeof(g->project), "/home/dev/src/project-%02d",
	    (int)(i % 17));
	snprintf(g->command, sizeof(g->command), "make -C tools %s WORDS=%s",
	    g->skill, words[w]);
	g->completed = rnd() % 10 != 0;
	g->exit_code = g->completed ? 0 : 1 + (int)(rnd() % 2);
	g->error = g->completed ? NULL : g->exit_code == 1 ? "exit:1" :
	    "exit:2";
	g->follow = rnd() % 10 == 0 ? "[\"git commit\"]" : "[]";
	g->pid = 1000 + (long long)(rnd() % 4000000);
	g->ucpu = g->dur * 0.6;
	g->scpu = g->dur * 0.1;
	g->rss = 20000 + (long long)(rnd() % 200000);
}

/*
 * gen_store - a store of n invocations at path.  The rows are what
 * skm-run writes (every column), inserted in time order in one
 * transaction; the aggregates are then built by libskm (skm_recompute)
 * and checked (skm_check).  Returns 0 on success.
 */
static int
gen_store(const char *path, long n)
{
	static const char ins[] =
	    "INSERT INTO invocation (id, skill_name, invoked_at, "
	    "ended_at, workflow_path, session_id, project_path, parent_id, "
	    "completed, duration_seconds, error_type, exit_code, signal, "
	    "follow_up_actions, command, host, pid, user_cpu_seconds, "
	    "sys_cpu_seconds, max_rss_kb, source, mono_start, boot_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11, NULL, "
	    "?12, ?13, ?14, ?15, ?16, ?17, ?18, 'run', NULL, NULL)";
	/* mono_start and boot_id are NULL: skm_end clears them, an ended
	 * invocation needs no monotonic start. */
	struct skm_db *db;
	struct gen g;
	sqlite3 *c;
	sqlite3_stmt *st;
	unsigned char key[16], skey[16];
	char host[256] = "localhost";
	double t_end = (double)time(NULL) - 60, t0 = now();
	long i;
	int rc;

	if (make_store(path) != SKM_OK)
		return -1;
	gethostname(host, sizeof(host) - 1);
	if (sqlite3_open(path, &c) != SQLITE_OK)
		return -1;
	sqlite3_exec(c, "PRAGMA synchronous = OFF; PRAGMA cache_size = "
	    "-262144; BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(c, ins, -1, &st, NULL) != SQLITE_OK) {
		warnx("generate: %s", sqlite3_errmsg(c));
		sqlite3_close(c);
		return -1;
	}
	for (i = 0; i < n; i++) {
		gen_one(&g, i, n, t_end);
		uuid_bytes(g.id, key);
		sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, g.skill, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, g.at_ms);
		sqlite3_bind_int64(st, 4, g.ended_ms);
		if (g.has_wf)
			sqlite3_bind_text(st, 5, g.wf, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		if (g.has_session) {
			uuid_bytes(g.session, skey);
			sqlite3_bind_blob(st, 6, skey, 16, SQLITE_STATIC);
		}
		else
			sqlite3_bind_null(st, 6);
		sqlite3_bind_text(st, 7, g.project, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, g.completed);
		sqlite3_bind_double(st, 9, g.dur);
		if (g.error != NULL)
			sqlite3_bind_text(st, 10, g.error, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 10);
		sqlite3_bind_int(st, 11, g.exit_code);
		sqlite3_bind_text(st, 12, g.follow, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, g.command, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 15, g.pid);
		sqlite3_bind_double(st, 16, g.ucpu);
		sqlite3_bind_double(st, 17, g.scpu);
		sqlite3_bind_int64(st, 18, g.rss);
		if (sqlite3_step(st) != SQLITE_DONE) {
			warnx("generate: %s", sqlite3_errmsg(c));
			sqlite3_finalize(st);
			sqlite3_close(c);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(c, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(c);

	if ((rc = skm_open(path, 0, &db)) == SKM_OK &&
	    (rc = skm_recompute(db, NULL)) == SKM_OK)
		rc = skm_check(db, NULL, NULL);
	if (rc != SKM_OK)
		warnx("generate %s: %s", path, skm_errmsg(db));
	skm_close(db);
	fprintf(stderr, "bench: generated %ld invocations in %.1f s\n", n,
	    now() - t0);
	return rc == SKM_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* 5. skm import of n JSON Lines against sqlite3's .import of CSV. */

/* Does the skm CLI import JSON Lines yet?  Try one line. */
static int
have_import(void)
{
	const char *probe = in_dir("probe.jsonl"), *store = in_dir("probe.db");
	char *argv[] = { skmcli, "--db", (char *)store, "import",
	    (char *)probe, NULL };
	FILE *f;
	int st;

	if ((f = fopen(probe, "w")) == NULL)
		return 0;
	fputs("{\"id\":\"0190a0a0-0000-7000-8000-000000000001\","
	    "\"skill_name\":\"probe\",\"invoked_at\":\"2025-01-01T00:00:00Z\","
	    "\"workflow_path\":null,\"completed\":1,\"duration_seconds\":1.5,"
	    "\"follow_up_actions\":[]}\n", f);
	fclose(f);
	rm_store(store);
	run(argv, NULL, -1, &st);
	return st == 0 && count_ended(store, "probe") == 1;
}

/* The same n rows as JSON Lines (the reference bulk-import keys) and CSV. */
static void
gen_files(const char *jsonl, const char *csv, long n)
{
	FILE *j = fopen(jsonl, "w"), *c = fopen(csv, "w");
	double t_end = (double)time(NULL) - 60;
	struct gen g;
	long i;

	if (j == NULL || c == NULL)
		err(1, "import files");
	rng = 0x1234567887654321ULL;
	fputs("id,skill_name,invoked_at,workflow_path,completed,"
	    "duration_seconds,follow_up_actions,session_id,project_path,"
	    "error_type,exit_code\n", c);
	for (i = 0; i < n; i++) {
		gen_one(&g, i, n, t_end);
		fprintf(j, "{\"id\":\"%s\",\"skill_name\":\"%s\","
		    "\"invoked_at\":\"%s\",\"workflow_path\":%s%s%s,"
		    "\"completed\":%s,\"duration_seconds\":%.6f,"
		    "\"follow_up_actions\":%s,\"session_id\":%s%s%s,"
		    "\"project_path\":\"%s\",\"error_type\":%s%s%s,"
		    "\"exit_code\":%d}\n",
		    g.id, g.skill, g.at, g.has_wf ? "\"" : "",
		    g.has_wf ? g.wf : "null", g.has_wf ? "\"" : "",
		    g.completed ? "true" : "false", g.dur, g.follow,
		    g.has_session ? "\"" : "",
		    g.has_session ? g.session : "null",
		    g.has_session ? "\"" : "", g.project,
		    g.error ? "\"" : "", g.error ? g.error : "null",
		    g.error ? "\"" : "", g.exit_code);
		fprintf(c, "%s,%s,%s,%s,%d,%.6f,\"%s\",%s,%s,%s,%d\n",
		    g.id, g.skill, g.at, g.has_wf ? g.wf : "", g.completed,
		    g.dur, g.follow[1] == '"' ? "[\"\"git commit\"\"]" : "[]",
		    g.has_session ? g.session : "", g.project,
		    g.error ? g.error : "", g.exit_code);
	}
	fclose(j);
	fclose(c);
}

static void
bench_import(void)
{
	const char *jsonl = in_dir("inv.jsonl"), *csv = in_dir("inv.csv");
	const char *store = in_dir("import.db"), *bare = in_dir("bare.db");
	char cmd[4200];
	char *a_skm[] = { skmcli, "--db", (char *)store, "import",
	    (char *)jsonl, NULL };
	char *a_bare[] = { "/usr/bin/sqlite3", (char *)bare, "-cmd",
	    ".mode csv", cmd, NULL };
	double *ts, *tb, ms, mb, per_m, scale = 1e6 / (double)sz->big;
	int r, st, fails = 0;
	const char *measure = "skm import, 1,000,000 JSONL invocations";

	if (sz->big != 1000000)
		measure = fmt("skm import, %ld JSONL invocations (x%.0f)",
		    sz->big, scale);
	if (!have_import()) {
		row_na(measure, "<= 5 s, <= 3x bare import",
		    "n/a (not built yet)");
		return;
	}
	if (!exists(a_bare[0])) {
		row_na(measure, "<= 5 s, <= 3x bare import",
		    "n/a (no sqlite3 CLI)");
		return;
	}
	snprintf(cmd, sizeof(cmd), ".import %s t", csv);
	gen_files(jsonl, csv, sz->big);
	ts = xcalloc((size_t)sz->import_rounds, sizeof(double));
	tb = xcalloc((size_t)sz->import_rounds, sizeof(double));
	for (r = 0; r < sz->import_rounds; r++) {
		rm_store(store);
		rm_store(bare);
		if (r % 2 == 0) {
			ts[r] = run(a_skm, NULL, -1, &st);
			tb[r] = run(a_bare, NULL, -1, NULL);
		} else {
			tb[r] = run(a_bare, NULL, -1, NULL);
			ts[r] = run(a_skm, NULL, -1, &st);
		}
		if (st != 0 || count_ended(store, "skill-042") !=
		    sz->big / NSKILLS)
			fails++;
	}
	ms = median(ts, sz->import_rounds);
	mb = median(tb, sz->import_rounds);
	per_m = ms * scale;
	row(measure, fmt("%.2f s", ms), fmt("sqlite3 .import %.2f s", mb),
	    fmt("%.2fx", ms / mb),
	    sz->big == 1000000 ? "<= 5 s, <= 3x bare import" :
	    "<= 5 s per 1M, <= 3x bare",
	    fails ? fmt("NO (%d imports failed or incomplete)", fails) :
	    yesno(per_m <= 5.0 && ms / mb <= 3.0), ms, mb, "s");
	free(ts);
	free(tb);
	rm_store(store);
	rm_store(bare);
	unlink(jsonl);
	unlink(csv);
}

/* ------------------------------------------------------------------ */
/* 6. Queries on the big store, in-process. */

struct qdef {
	const char *name;
	enum skm_query q;
	struct skm_query_args args;
	double target_ms;
	int na;          /* not built yet */
	double *t;
};

static void
bench_queries(const char *big)
{
	struct qdef qs[] = {
		{ "skm summary", SKM_Q_SUMMARY, { 0 }, 1, 0, NULL },
		{ "skm show SKILL (exact percentiles)", SKM_Q_SHOW,
		  { .skill = "skill-042" }, 5, 0, NULL },
		{ "skm stats (100 skills)", SKM_Q_STATS, { 0 }, 50, 0, NULL },
		{ "skm timeline SKILL (7 days, hourly)", SKM_Q_TIMELINE,
		  { .skill = "skill-042", .since = "7d", .bucket = "hour" },
		  20, 0, NULL },
		{ "skm search kilo", SKM_Q_SEARCH, { .text = "kilo" }, 20, 0,
		  NULL },
	};
	const int nq = (int)(sizeof(qs) / sizeof(qs[0]));
	struct skm_db *db;
	char *out;
	double t0, m;
	int i, r, rc;

	if (skm_open(big, 0, &db) != SKM_OK) {
		warnx("%s: %s", big, skm_errmsg(db));
		skm_close(db);
		return;
	}
	for (i = 0; i < nq; i++) {
		qs[i].t = xcalloc((size_t)sz->query_reps, sizeof(double));
		rc = skm_query_json(db, qs[i].q, &qs[i].args, &out);
		if (rc != SKM_OK) {
			/* A query lib does not know yet is "not built". */
			if (strstr(skm_errmsg(db), "unknown query") != NULL)
				qs[i].na = 1;
			else
				qs[i].na = 2;
			if (qs[i].na == 2)
				warnx("%s: %s", qs[i].name, skm_errmsg(db));
		}
		skm_free(out);
	}
	for (r = 0; r < sz->query_reps; r++) {
		for (i = 0; i < nq; i++) {
			int k = (i + r) % nq;
			if (qs[k].na)
				continue;
			t0 = now();
			skm_query_json(db, qs[k].q, &qs[k].args, &out);
			qs[k].t[r] = now() - t0;
			skm_free(out);
		}
	}
	skm_close(db);
	for (i = 0; i < nq; i++) {
		const char *measure = fmt("%s, %ld-invocation store", qs[i].name,
		    sz->big);
		const char *target = fmt("<= %g ms", qs[i].target_ms);
		if (qs[i].na == 1) {
			row_na(measure, target, "n/a (not built yet)");
		} else if (qs[i].na == 2) {
			row_na(measure, target, "n/a (query failed)");
		} else {
			m = median(qs[i].t, sz->query_reps) * 1e3;
			row(measure, fmt("%.3f ms", m), "-", "-", target,
			    yesno(m <= qs[i].target_ms), m, NAN, "ms");
		}
		free(qs[i].t);
	}
}

/* ------------------------------------------------------------------ */
/*
 * 6b. The queries of issue 9 as a user runs them: whole `skm` processes
 * on a store of bench/gen-jsonl.sh's invocations (8 skills, so each
 * holds an eighth of them), imported by skm itself.  Each figure is the
 * median wall time less the median of `skm version` (the process
 * itself), the commands interleaved round by round.
 */
struct cliq {
	const char *name;
	char *argv[12];
	double target_ms;
	int fails;
	double *t;
};

static void
bench_cli_queries(void)
{
	const char *jsonl = in_dir("gen.jsonl"), *store = in_dir("gen.db");
	char gen[8400], *imp[] = { skmcli, "--db", (char *)store, "import",
	    (char *)jsonl, NULL };
#define Q(name, target, ...) { name, { skmcli, "--db", (char *)store, \
	__VA_ARGS__, NULL }, target, 0, NULL }
	struct cliq qs[] = {
		Q("skm version", 0, "version"),
		Q("skm show lint", 20, "show", "lint"),
		Q("skm stats", 50, "stats"),
		Q("skm timeline lint --since 7d --bucket hour", 20, "timeline",
		    "lint", "--since", "7d", "--bucket", "hour"),
		Q("skm search nightly", 20, "search", "nightly"),
		Q("skm summary", 20, "summary"),
		Q("skm errors", 20, "errors"),
		Q("skm recent", 20, "recent"),
	};
#undef Q
	const int nq = (int)(sizeof(qs) / sizeof(qs[0]));
	double base, m;
	int i, r, st;

	snprintf(gen, sizeof(gen), "sh '%s/bench/gen-jsonl.sh' %ld > '%s'",
	    top, sz->big, jsonl);
	rm_store(store);
	if (system(gen) != 0 || (run(imp, NULL, -1, &st), st != 0)) {
		row_na(fmt("skm queries, gen-jsonl.sh %ld", sz->big),
		    "<= 20 ms each", "n/a (generate or import failed)");
		unlink(jsonl);
		return;
	}
	unlink(jsonl);
	for (i = 0; i < nq; i++) {
		qs[i].t = xcalloc((size_t)sz->query_reps, sizeof(double));
		run(qs[i].argv, NULL, -1, NULL);	/* warm the page cache */
	}
	for (r = 0; r < sz->query_reps; r++) {
		for (i = 0; i < nq; i++) {
			struct cliq *q = &qs[(i + r) % nq];
			q->t[r] = run(q->argv, NULL, -1, &st);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				q->fails++;
		}
	}
	base = median(qs[0].t, sz->query_reps) * 1e3;
	for (i = 1; i < nq; i++) {
		m = median(qs[i].t, sz->query_reps) * 1e3 - base;
		row(fmt("%s, gen-jsonl %ld (8 skills), less skm version",
		    qs[i].name, sz->big), fmt("%.1f ms", m),
		    fmt("skm version %.1f ms", base), "-",
		    fmt("<= %g ms", qs[i].target_ms),
		    qs[i].fails ? fmt("NO (%d failed)", qs[i].fails) :
		    yesno(m <= qs[i].target_ms), m, base, "ms");
	}
	for (i = 0; i < nq; i++)
		free(qs[i].t);
	rm_store(store);
}

/* ------------------------------------------------------------------ */
/* 7. Record cost on a small and a big store; 8. bytes per invocation. */

static void
bench_record(const char *small, const char *big)
{
	struct skm_db *ds, *db = NULL;
	double *rs, *rb, ms, mb;
	int r, fails = 0;

	if (skm_open(small, 0, &ds) != SKM_OK ||
	    skm_open(big, 0, &db) != SKM_OK) {
		warnx("record: cannot open the generated stores");
		skm_close(ds);
		skm_close(db);
		return;
	}
	rs = xcalloc((size_t)sz->rec_rounds, sizeof(double));
	rb = xcalloc((size_t)sz->rec_rounds, sizeof(double));
	pairs_rate(ds, "skill-042", 20, &fails);
	pairs_rate(db, "skill-042", 20, &fails);
	for (r = 0; r < sz->rec_rounds; r++) {
		if (r % 2 == 0) {
			rs[r] = 1e6 / pairs_rate(ds, "skill-042", sz->rec_pairs,
			    &fails);
			rb[r] = 1e6 / pairs_rate(db, "skill-042", sz->rec_pairs,
			    &fails);
		} else {
			rb[r] = 1e6 / pairs_rate(db, "skill-042", sz->rec_pairs,
			    &fails);
			rs[r] = 1e6 / pairs_rate(ds, "skill-042", sz->rec_pairs,
			    &fails);
		}
	}
	skm_close(ds);
	skm_close(db);
	ms = median(rs, sz->rec_rounds);
	mb = median(rb, sz->rec_rounds);
	row(fmt("record cost (begin+end) at %ld vs %ld invocations",
	    sz->big, sz->small), fmt("%.1f us at %ld", mb, sz->big),
	    fmt("%.1f us at %ld", ms, sz->small), fmt("%.2fx", mb / ms),
	    "flat: ratio <= 1.3",
	    fails ? fmt("NO (%d failed)", fails) : yesno(mb / ms <= 1.3),
	    mb, ms, "us");
	free(rs);
	free(rb);
}

static void
bench_bytes(const char *big)
{
	char wal[4210];
	struct stat sb;
	double bytes = 0, per;

	if (stat(big, &sb) == 0)
		bytes += (double)sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", big);
	if (stat(wal, &sb) == 0)
		bytes += (double)sb.st_size;
	per = bytes / (double)sz->big;
	row(fmt("bytes on disk per invocation at %ld", sz->big),
	    fmt("%.0f B (%.1f MB)", per, bytes / 1e6), "-", "-", "<= 300 B",
	    yesno(per <= 300), per, NAN, "B");
}

/* ------------------------------------------------------------------ */

static void
print_table(const char *json_path)
{
	static const char *const head[] = { "measure", "skm", "baseline",
	    "ratio", "target", "met" };
	sqlite3_stmt *st;
	int w[6], i;
	FILE *f;

	for (i = 0; i < 6; i++)
		w[i] = (int)strlen(head[i]);
	sqlite3_prepare_v2(res, "SELECT measure, skm, baseline, ratio, "
	    "target, met FROM r ORDER BY rowid", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < 6; i++)
			if (sqlite3_column_bytes(st, i) > w[i])
				w[i] = sqlite3_column_bytes(st, i);
	sqlite3_reset(st);
	printf("| %-*s | %-*s | %-*s | %-*s | %-*s | %-*s |\n", w[0], head[0],
	    w[1], head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5],
	    head[5]);
	printf("|");
	for (i = 0; i < 6; i++) {
		int k;
		for (k = 0; k < w[i] + 2; k++)
			putchar('-');
		putchar('|');
	}
	putchar('\n');
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("|");
		for (i = 0; i < 6; i++)
			printf(" %-*s |", w[i],
			    (const char *)sqlite3_column_text(st, i));
		putchar('\n');
	}
	sqlite3_finalize(st);
	fflush(stdout);

	if (json_path == NULL)
		return;
	sqlite3_prepare_v2(res, "SELECT json_object('mode', ?1, 'sizes', "
	    "json_object('big', ?2, 'small', ?3), 'sqlite', sqlite_version(), "
	    "'rows', (SELECT json_group_array(json_object('measure', measure, "
	    "'skm', skm, 'baseline', baseline, 'ratio', ratio, 'target', "
	    "target, 'met', met, 'skm_value', skm_value, 'baseline_value', "
	    "baseline_value, 'unit', unit)) FROM (SELECT * FROM r ORDER BY "
	    "rowid)))", -1, &st, NULL);
	sqlite3_bind_text(st, 1, sz == &quick ? "quick" : "full", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sz->big);
	sqlite3_bind_int64(st, 3, sz->small);
	if (sqlite3_step(st) == SQLITE_ROW && (f = fopen(json_path, "w"))) {
		fprintf(f, "%s\n", sqlite3_column_text(st, 0));
		fclose(f);
	}
	sqlite3_finalize(st);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: bench [-q] [-s SECTIONS] -t TOP -d DIR "
	    "[-o results.json]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char *json = NULL;
	char big[4200], small[4200];
	int ch, have_big;
	double t0 = now();

	sz = &full;
	while ((ch = getopt(argc, argv, "d:o:qs:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			json = optarg;
			break;
		case 'q':
			sz = &quick;
			break;
		case 's':
			sections = optarg;
			break;
		case 't':
			top = optarg;
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || top == NULL)
		usage();
	snprintf(skmrun, sizeof(skmrun), "%s/skm-run", top);
	snprintf(skmcli, sizeof(skmcli), "%s/skm", top);
	if (!exists(skmrun) || !exists(skmcli))
		errx(1, "%s: build skm-run and skm first", top);
	unsetenv("SKM_DB");
	unsetenv("SKM_DISABLE");
	unsetenv("SKM_SKILL");
	unsetenv("SKM_INVOCATION_ID");
	if (sqlite3_open(":memory:", &res) != SQLITE_OK ||
	    sqlite3_exec(res, "CREATE TABLE r (measure, skm, baseline, ratio, "
	    "target, met, skm_value, baseline_value, unit)", NULL, NULL,
	    NULL) != SQLITE_OK)
		errx(1, "results table");

	if (want("wrapper"))
		bench_wrapper();
	if (want("parallel"))
		bench_parallel();
	if (want("shim"))
		bench_shim();
	if (want("inprocess"))
		bench_inprocess();
	if (want("fold"))
		bench_fold();
	if (want("import"))
		bench_import();
	if (want("cli"))
		bench_cli_queries();
	snprintf(big, sizeof(big), "%s/big.db", dir);
	snprintf(small, sizeof(small), "%s/small.db", dir);
	have_big = want("queries") && gen_store(big, sz->big) == 0;
	if (have_big) {
		bench_queries(big);
		bench_bytes(big);
	}
	if (have_big && gen_store(small, sz->small) == 0)
		bench_record(small, big);
	print_table(json);
	fprintf(stderr, "bench: done in %.0f s\n", now() - t0);
	sqlite3_close(res);
	return 0;
}
