/*
 * fold.c - applying events to the store: the fold of the journal, and
 * the one place where an event becomes rows.
 *
 * apply_event() turns one validated event into SQL: a begin is an
 * INSERT ... ON CONFLICT (id) DO NOTHING, an end updates the row only
 * while it is still running, an event that carries both (a RUN) inserts
 * the ended row at once, so applying an event twice changes nothing.
 * Each run that ends is counted into an accumulator (aggregate.c) that
 * the caller writes once per transaction.  The statements are generated
 * from the event's field list (event.h).  In-process handles opened with
 * SKM_OPEN_DIRECT apply their events through skm__apply_event() straight
 * away; everything else reaches apply_event() through the fold.
 *
 * skm__fold() reads the journal's files (journal.c) and applies their
 * records in batches, each one BEGIN IMMEDIATE transaction that also
 * writes the batch's aggregates and moves the file's row in
 * journal_fold to the end of the batch.  A fold killed at any moment
 * therefore resumes exactly after its last commit.  Within a batch a
 * BEGIN whose END follows in the same batch becomes one INSERT of the
 * ended row (pair_batch), the cost of a begin alone.
 * A record that fails to decode or validate, and bytes that are no record
 * (a torn write), go whole to quarantine.jsonl beside the journal and are
 * counted; a record at the end of the live file that is not whole yet
 * (an append still in flight) waits for the next fold.  When the store
 * cannot be written (read-only, full, newer, damaged) nothing is taken
 * from the journal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm-int.h"
#include "event.h"
#include "journal.h"

/*
 * A batch is up to FOLD_BATCH records and FOLD_BATCH_S seconds, whichever
 * comes first.  Large batches matter: a store's index of durations (for
 * exact percentiles) takes each run at a random place, so a batch writes
 * about as many pages of it as it holds runs, up to the whole index, at
 * every commit.  A fold with much to do (FOLD_BULK bytes or more left in
 * a file) is a bulk write: a large page cache, and a checkpoint every
 * FOLD_BULK_WAL pages of WAL instead of every few transactions, then one
 * that never waits (PASSIVE) when the fold ends.
 */
#define FOLD_BATCH 16384         /* records per transaction */
#define FOLD_BATCH_S 0.25        /* seconds a transaction may take */
#define FOLD_CHUNK (4 << 20)     /* bytes read from a file at a time */
#define FOLD_BULK (512 << 10)
#define FOLD_BULK_WAL 4096

/* a / b rounded down (b > 0), also for a < 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return a % b != 0 && a < 0 ? q - 1 : q;
}

static char *
put_digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/*
 * iso_of - a TIME (microseconds) as the store's ISO-8601 text, to the
 * millisecond (rounded down): what skm__util_iso_from_ts() writes, made
 * here without gmtime and strftime for years 1000-9999 (days to a civil
 * date as in Howard Hinnant's "chrono-Compatible Low-Level Date
 * Algorithms"); other years go through it.
 */
static void
iso_of(int64_t us, char out[32])
{
	struct timespec ts;
	int64_t s = floor_div(us, 1000000), days, z, era, sod;
	unsigned doe, yoe, doy, mp, d, m, ms;
	int64_t y;
	char *p = out;

	days = floor_div(s, 86400);
	sod = s - days * 86400;
	z = days + 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = (int64_t)yoe + era * 400 + (m <= 2);
	if (y < 1000 || y > 9999) {
		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)(us - s * 1000000) * 1000;
		skm__util_iso_from_ts(&ts, out);
		return;
	}
	ms = (unsigned)((us - s * 1000000) / 1000);
	p = put_digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, ms, 3);
	*p++ = 'Z';
	*p = '\0';
}

/* Bind field f of ev to parameter i (NULL when absent). */
static void
bind_field(sqlite3_stmt *st, int i, const struct skm__event *ev, int f)
{
	const struct skm__ev_desc *d = &skm__ev_fields[f];
	const char *m = (const char *)ev + d->offset;
	const struct skm__str *s;
	int64_t v;
	double r;
	size_t n;

	if (!((ev->has >> f) & 1u))
		return;
	switch (d->type) {
	case SKM__T_STR:
		s = (const struct skm__str *)(const void *)m;
		n = s->n;
		if (f == SKM__F_ID || f == SKM__F_PARENT ||
		    f == SKM__F_SESSION || f == SKM__F_BOOT) {
			skm__store_bind_key(st, i, s->p != NULL ? s->p : "", n);
			return;
		}
		if (f == SKM__F_COMMAND && n > SKM_COMMAND_MAX) {
			/* Cut on a character boundary, marked. */
			n = SKM_COMMAND_MAX - 3;
			while (n > 0 && ((unsigned char)s->p[n] & 0xc0) == 0x80)
				n--;
			char *c = sqlite3_mprintf("%.*s...", (int)n, s->p);

			sqlite3_bind_text(st, i, c, -1, sqlite3_free);
			return;
		}
		sqlite3_bind_text(st, i, s->p != NULL ? s->p : "", (int)n,
		    SQLITE_STATIC);
		break;
	case SKM__T_REAL:
		memcpy(&r, m, 8);
		sqlite3_bind_double(st, i, r);
		break;
	case SKM__T_TIME:
		/* The store keeps milliseconds (migration 7). */
		memcpy(&v, m, 8);
		sqlite3_bind_int64(st, i, floor_div(v, 1000));
		break;
	case SKM__T_INT:
		memcpy(&v, m, 8);
		sqlite3_bind_int64(st, i, v);
		break;
	}
}

/* The begin fields: those a BEGIN event carries (all up to ENDED). */
static int
is_begin_field(int f)
{
	return f < SKM__F_ENDED && skm__ev_fields[f].column != NULL;
}

/* What only a running invocation keeps: its monotonic start. */
static int
is_running_field(int f)
{
	return f == SKM__F_MONO0 || f == SKM__F_BOOT;
}

/*
 * insert_sql - "INSERT INTO invocation (id, skill_name, ...) VALUES
 * (?1, ?2, ...) ON CONFLICT (id) DO NOTHING", made once from the field
 * list; parameter i+1 is field i.  run: the row of an ended run, over
 * every column and the follow-up actions (parameter SKM__F_COUNT + 1);
 * else a running one, over the begin fields.
 */
static const char *
insert_sql(int run)
{
	static char sqls[2][1024];
	char *sql = sqls[run != 0];
	size_t n, cap = sizeof(sqls[0]);
	int f;

	if (sql[0] != '\0')
		return sql;
	n = (size_t)snprintf(sql, cap, "INSERT INTO invocation (");
	for (f = 0; f < SKM__F_COUNT; f++)
		if (run ? skm__ev_fields[f].column != NULL : is_begin_field(f))
			n += (size_t)snprintf(sql + n, cap - n, "%s%s",
			    f ? ", " : "", skm__ev_fields[f].column);
	if (run)
		n += (size_t)snprintf(sql + n, cap - n, ", follow_up_actions");
	n += (size_t)snprintf(sql + n, cap - n, ") VALUES (");
	for (f = 0; f < SKM__F_COUNT; f++)
		if (run ? skm__ev_fields[f].column != NULL : is_begin_field(f))
			n += (size_t)snprintf(sql + n, cap - n,
			    "%s?%d", f ? ", " : "", f + 1);
	if (run)
		n += (size_t)snprintf(sql + n, cap - n, ", ?%d",
		    SKM__F_COUNT + 1);
	snprintf(sql + n, cap - n, ") ON CONFLICT (id) DO NOTHING");
	return sql;
}

/*
 * What applying events needs besides the store: where ended runs are
 * counted (written by the caller, once per batch), whether
 * journal_pending_end may hold ends (when it is known to be empty, a
 * begin need not look there), and room to copy a row's text into.
 */
struct apply {
	struct skm__agg *agg;
	int pending;
	char *scratch;
	size_t scap;
};

/* The begin of an invocation, as the end needs it: invoked_at as stored
 * (milliseconds), the monotonic start and its boot (NULL: none). */
struct begun {
	int64_t invoked_ms;
	int has_mono;
	double mono_start;
	const char *boot;
	size_t boot_n;
};

static void
begun_of_event(const struct skm__event *ev, struct begun *b)
{
	b->invoked_ms = floor_div(ev->invoked_us, 1000);
	b->has_mono = SKM__HAS(ev, MONO0);
	b->mono_start = ev->mono_start;
	b->boot = SKM__HAS(ev, BOOT) ? (ev->boot.p != NULL ? ev->boot.p : "") :
	    NULL;
	b->boot_n = ev->boot.n;
}

/* An end before its begin (to the millisecond the row keeps). */
static int
ends_before(const struct skm__event *ev, const struct begun *b)
{
	return (double)ev->ended_us / 1e6 < (double)b->invoked_ms / 1e3 - 0.001;
}

/* The run's length: given; else on the monotonic clock of the boot it
 * began in; else from the wall clock. */
static double
end_duration(const struct skm__event *ev, const struct begun *b)
{
	double d;

	if (SKM__HAS(ev, DURATION))
		return ev->duration;
	if (SKM__HAS(ev, MONO1) && SKM__HAS(ev, BOOT) && b->boot != NULL &&
	    b->has_mono && b->boot_n == ev->boot.n &&
	    memcmp(b->boot, ev->boot.p, ev->boot.n) == 0)
		d = ev->mono_end - b->mono_start;
	else
		d = (double)ev->ended_us / 1e6 - (double)b->invoked_ms / 1e3;
	return d < 0 ? 0 : d;
}

/* The follow-up actions of ev as a JSON array (sqlite3 heap), built by
 * SQLite's json_insert so that nothing is escaped by hand. */
static char *
follow_json(struct skm_db *db, const struct skm__event *ev)
{
	static const char add[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3_stmt *st;
	char *fu = sqlite3_mprintf("[]"), *next;
	int i;

	if (fu == NULL || ev->nfollow == 0 ||
	    skm__store_prepare(db, add, &st) != SKM_OK)
		return fu;
	for (i = 0; i < ev->nfollow && fu != NULL; i++) {
		sqlite3_bind_text(st, 1, fu, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ev->follow[i].p, (int)ev->follow[i].n,
		    SQLITE_STATIC);
		next = sqlite3_step(st) == SQLITE_ROW ?
		    sqlite3_mprintf("%s", sqlite3_column_text(st, 0)) : NULL;
		sqlite3_reset(st);
		sqlite3_free(fu);
		fu = next;
	}
	return fu;
}

/* What an end stores and counts. */
struct endv {
	int completed;
	double duration;
	struct skm__str error;   /* p NULL: none */
	char et[64];
	char *follow;            /* JSON array, sqlite3 heap */
};

static int
end_values(struct skm_db *db, const struct skm__event *ev,
    const struct begun *b, struct endv *v)
{
	v->completed = SKM__HAS(ev, COMPLETED) ? (int)ev->completed :
	    (!SKM__HAS(ev, EXIT) || ev->exit_code == 0) &&
	    (!SKM__HAS(ev, SIGNAL) || ev->signal == 0);
	v->duration = end_duration(ev, b);
	v->error.p = NULL;
	v->error.n = 0;
	if (SKM__HAS(ev, ERROR)) {
		v->error.p = ev->error.p != NULL ? ev->error.p : "";
		v->error.n = ev->error.n;
	} else if (SKM__HAS(ev, SIGNAL) && ev->signal > 0) {
		snprintf(v->et, sizeof(v->et), "signal:%s",
		    skm__util_signame((int)ev->signal));
		v->error.p = v->et;
		v->error.n = strlen(v->et);
	} else if (SKM__HAS(ev, EXIT) && ev->exit_code > 0) {
		snprintf(v->et, sizeof(v->et), "exit:%d", (int)ev->exit_code);
		v->error.p = v->et;
		v->error.n = strlen(v->et);
	}
	if ((v->follow = follow_json(db, ev)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	return SKM_OK;
}

/* A string field of ev for the aggregates (p NULL: absent). */
static struct skm__str
field_str(const struct skm__event *ev, int f, const struct skm__str *s)
{
	struct skm__str r = { NULL, 0 };

	if ((ev->has >> f) & 1u) {
		r.p = s->p != NULL ? s->p : "";
		r.n = s->n;
	}
	return r;
}

static int
apply_begin(struct skm_db *db, const struct skm__event *ev)
{
	sqlite3_stmt *st;
	int f, src, rc;

	if ((rc = skm__store_prepare(db, insert_sql(0), &st)) != SKM_OK)
		return rc;
	for (f = 0; f < SKM__F_COUNT; f++)
		if (is_begin_field(f))
			bind_field(st, f + 1, ev, f);
	if (!SKM__HAS(ev, SOURCE))
		sqlite3_bind_text(st, SKM__F_SOURCE + 1, "lib", -1,
		    SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "begin");
	return SKM_OK;
}

/*
 * apply_run - insert the row of a run that has ended: the begin fields of
 * beg and the end of end (one event for a RUN; a BEGIN and its END met
 * in one batch), counted into the aggregates.  *inserted is 0 when the
 * invocation already had a row: then nothing changed, and the end is
 * for apply_end.  The end must not end before the begin.
 */
static int
apply_run(struct skm_db *db, struct apply *a, const struct skm__event *beg,
    const struct skm__event *end, int *inserted)
{
	struct skm__agg_run run;
	struct begun b;
	struct endv v;
	sqlite3_stmt *st;
	char inv[32];
	int f, src, rc;

	*inserted = 0;
	begun_of_event(beg, &b);
	if ((rc = end_values(db, end, &b, &v)) != SKM_OK)
		return rc;
	if ((rc = skm__store_prepare(db, insert_sql(1), &st)) != SKM_OK) {
		sqlite3_free(v.follow);
		return rc;
	}
	for (f = 0; f < SKM__F_ENDED; f++)
		if (is_begin_field(f) && !is_running_field(f) &&
		    f != SKM__F_INVOKED)
			bind_field(st, f + 1, beg, f);
	iso_of(beg->invoked_us, inv);
	sqlite3_bind_int64(st, SKM__F_INVOKED + 1, floor_div(beg->invoked_us,
	    1000));
	if (!SKM__HAS(beg, SOURCE))
		sqlite3_bind_text(st, SKM__F_SOURCE + 1, "lib", -1,
		    SQLITE_STATIC);
	bind_field(st, SKM__F_ENDED + 1, end, SKM__F_ENDED);
	sqlite3_bind_int(st, SKM__F_COMPLETED + 1, v.completed);
	sqlite3_bind_double(st, SKM__F_DURATION + 1, v.duration);
	if (v.error.p != NULL)
		sqlite3_bind_text(st, SKM__F_ERROR + 1, v.error.p,
		    (int)v.error.n, SQLITE_STATIC);
	if (SKM__HAS(end, EXIT) && end->exit_code >= 0)
		bind_field(st, SKM__F_EXIT + 1, end, SKM__F_EXIT);
	if (SKM__HAS(end, SIGNAL) && end->signal > 0)
		bind_field(st, SKM__F_SIGNAL + 1, end, SKM__F_SIGNAL);
	bind_field(st, SKM__F_UCPU + 1, end, SKM__F_UCPU);
	bind_field(st, SKM__F_SCPU + 1, end, SKM__F_SCPU);
	bind_field(st, SKM__F_RSS + 1, end, SKM__F_RSS);
	sqlite3_bind_text(st, SKM__F_COUNT + 1, v.follow, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_free(v.follow);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "end");
	if (sqlite3_changes(db->conn) != 1)
		return SKM_OK;
	*inserted = 1;
	memset(&run, 0, sizeof(run));
	run.skill = field_str(beg, SKM__F_SKILL, &beg->skill);
	run.workflow = field_str(beg, SKM__F_WORKFLOW, &beg->workflow);
	run.session = field_str(beg, SKM__F_SESSION, &beg->session);
	run.error = v.error;
	run.invoked = inv;
	run.invoked_s = floor_div(beg->invoked_us, 1000000);
	run.completed = v.completed;
	run.duration = v.duration;
	run.follow = end->follow;
	run.nfollow = end->nfollow;
	if (skm__agg_count(a->agg, &run) != SKM_OK)
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	return SKM_OK;
}

/* Copy column i of st (text or NULL) into the scratch space at *off;
 * s points to it after scratch_fix(). */
static int
scratch_put(struct apply *a, sqlite3_stmt *st, int i, size_t *off,
    struct skm__str *s, size_t *at)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *p;

	*at = (size_t)-1;
	s->p = NULL;
	s->n = 0;
	if (t == NULL)
		return 0;
	if (*off + n + 1 > a->scap) {
		size_t cap = (*off + n + 1) * 2;

		if ((p = realloc(a->scratch, cap)) == NULL)
			return -1;
		a->scratch = p;
		a->scap = cap;
	}
	memcpy(a->scratch + *off, t, n);
	a->scratch[*off + n] = '\0';
	*at = *off;
	s->n = n;
	*off += n + 1;
	return 0;
}

static int
apply_end(struct skm_db *db, struct apply *a, const struct skm__event *ev)
{
	static const char get[] =
	    "SELECT ended_at IS NOT NULL, mono_start, skm_uuid(boot_id), "
	    "invoked_at, skill_name, workflow_path, skm_uuid(session_id), "
	    "skm_iso(invoked_at) FROM invocation WHERE id = ?";
	static const char upd[] =
	    "UPDATE invocation SET ended_at = ?1, completed = ?2, "
	    "duration_seconds = ?3, error_type = ?4, exit_code = ?5, "
	    "signal = ?6, follow_up_actions = ?7, user_cpu_seconds = ?8, "
	    "sys_cpu_seconds = ?9, max_rss_kb = ?10, "
	    /* Only a running invocation needs its monotonic start. */
	    "mono_start = NULL, boot_id = NULL "
	    "WHERE id = ?11 AND ended_at IS NULL";
	struct skm__agg_run run;
	static const int cols[5] = { 2, 4, 5, 6, 7 };
	struct skm__str txt[5];     /* boot_id, skill_name, workflow_path,
	                             * session_id, invoked_at */
	size_t at[5], off = 0;
	struct begun b;
	struct endv v;
	sqlite3_stmt *st;
	int src, rc, done, bad, i, timeless;

	if ((rc = skm__store_prepare(db, get, &st)) != SKM_OK)
		return rc;
	bind_field(st, 1, ev, SKM__F_ID);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (src == SQLITE_DONE)
			return skm__store_fail(db, SKM_NOTFOUND, "no such "
			    "invocation: %.*s", (int)ev->id.n, ev->id.p);
		return skm__store_sqlfail(db, src, "end");
	}
	done = sqlite3_column_int(st, 0);
	/* Copies: the row's text lives only until the statement moves. */
	rc = 0;
	for (i = 0; i < 5 && rc == 0; i++)
		rc = scratch_put(a, st, cols[i], &off, &txt[i], &at[i]);
	if (rc != 0) {
		sqlite3_reset(st);
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	}
	for (i = 0; i < 5; i++)
		if (at[i] != (size_t)-1)
			txt[i].p = a->scratch + at[i];
	timeless = sqlite3_column_type(st, 3) == SQLITE_NULL;
	b.invoked_ms = sqlite3_column_int64(st, 3);
	b.has_mono = sqlite3_column_type(st, 1) != SQLITE_NULL;
	b.mono_start = sqlite3_column_double(st, 1);
	b.boot = txt[0].p;
	b.boot_n = txt[0].n;
	sqlite3_reset(st);
	if (done)
		return skm__store_fail(db, SKM_ENDED, "invocation %.*s already "
		    "ended", (int)ev->id.n, ev->id.p);
	if (timeless || txt[1].p == NULL || txt[4].p == NULL)
		return skm__store_fail(db, SKM_FORMAT, "invocation %.*s has no "
		    "start time or skill", (int)ev->id.n, ev->id.p);
	bad = ends_before(ev, &b);
	if (bad)
		return skm__store_fail(db, SKM_FORMAT, "ended before it began");

	if ((rc = end_values(db, ev, &b, &v)) != SKM_OK)
		return rc;
	if ((rc = skm__store_prepare(db, upd, &st)) != SKM_OK) {
		sqlite3_free(v.follow);
		return rc;
	}
	bind_field(st, 1, ev, SKM__F_ENDED);
	sqlite3_bind_int(st, 2, v.completed);
	sqlite3_bind_double(st, 3, v.duration);
	if (v.error.p != NULL)
		sqlite3_bind_text(st, 4, v.error.p, (int)v.error.n,
		    SQLITE_STATIC);
	if (SKM__HAS(ev, EXIT) && ev->exit_code >= 0)
		bind_field(st, 5, ev, SKM__F_EXIT);
	if (SKM__HAS(ev, SIGNAL) && ev->signal > 0)
		bind_field(st, 6, ev, SKM__F_SIGNAL);
	sqlite3_bind_text(st, 7, v.follow, -1, SQLITE_STATIC);
	bind_field(st, 8, ev, SKM__F_UCPU);
	bind_field(st, 9, ev, SKM__F_SCPU);
	bind_field(st, 10, ev, SKM__F_RSS);
	bind_field(st, 11, ev, SKM__F_ID);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_free(v.follow);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "end");
	if (sqlite3_changes(db->conn) != 1)
		return skm__store_fail(db, SKM_ENDED, "invocation %.*s already "
		    "ended", (int)ev->id.n, ev->id.p);
	memset(&run, 0, sizeof(run));
	run.skill = txt[1];
	run.workflow = txt[2];
	run.session = txt[3];
	run.error = v.error;
	run.invoked = txt[4].p;
	run.invoked_s = floor_div(b.invoked_ms, 1000);
	run.completed = v.completed;
	run.duration = v.duration;
	run.follow = ev->follow;
	run.nfollow = ev->nfollow;
	if (skm__agg_count(a->agg, &run) != SKM_OK)
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	return SKM_OK;
}

/*
 * apply_pending_end - the row of ev's invocation was just made: apply the
 * end that came before it, if one waits in journal_pending_end.
 */
static int
apply_pending_end(struct skm_db *db, struct apply *a,
    const struct skm__event *ev)
{
	static const char get[] =
	    "SELECT record FROM journal_pending_end WHERE id = ?";
	static const char del[] = "DELETE FROM journal_pending_end WHERE id = ?";
	static __thread struct skm__event end;
	sqlite3_stmt *st;
	unsigned char *rec = NULL;
	char why[64];
	int n = 0, rc = SKM_OK;

	if ((rc = skm__store_prepare(db, get, &st)) != SKM_OK)
		return rc;
	bind_field(st, 1, ev, SKM__F_ID);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (n = sqlite3_column_bytes(st, 0)) > 0 &&
	    (rec = malloc((size_t)n)) != NULL)
		memcpy(rec, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_reset(st);
	if (rec == NULL)
		return SKM_OK;
	if (skm__ev_decode(rec, (size_t)n, &end, why, sizeof(why)) == 0 &&
	    end.kind == SKM__EV_END)
		rc = apply_end(db, a, &end);
	/* Already ended, or ending before its begin: dropped. */
	if (rc == SKM_ENDED || rc == SKM_FORMAT)
		rc = SKM_OK;
	if (rc == SKM_OK && (rc = skm__store_prepare(db, del, &st)) == SKM_OK) {
		bind_field(st, 1, ev, SKM__F_ID);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = skm__store_sqlfail(db, sqlite3_errcode(db->conn),
			    "fold");
		sqlite3_reset(st);
	}
	free(rec);
	return rc;
}

/*
 * apply_event - make the store say what ev says, inside the caller's
 * write transaction, counting ended runs into a->agg.  A begin inserts
 * the running row (and applies an end that came before it); an event
 * that carries the begin and the end inserts the ended row at once, or
 * ends the row that is there.  An end whose invocation has no row is
 * SKM_NOTFOUND; an end of an ended invocation is SKM_ENDED and changes
 * nothing.
 */
static int
apply_event(struct skm_db *db, struct apply *a, const struct skm__event *ev)
{
	struct begun b;
	int rc, inserted;

	if (ev->kind != SKM__EV_END ||
	    (SKM__HAS(ev, SKILL) && SKM__HAS(ev, INVOKED))) {
		if (ev->kind != SKM__EV_BEGIN) {
			begun_of_event(ev, &b);
			if (!ends_before(ev, &b)) {
				if ((rc = apply_run(db, a, ev, ev, &inserted)) !=
				    SKM_OK || inserted)
					return rc;
				return apply_end(db, a, ev);
			}
		}
		if ((rc = apply_begin(db, ev)) != SKM_OK)
			return rc;
		if (ev->kind == SKM__EV_BEGIN) {
			if (a->pending && sqlite3_changes(db->conn) == 1)
				return apply_pending_end(db, a, ev);
			return SKM_OK;
		}
	}
	return apply_end(db, a, ev);
}

/*
 * skm__apply_event - apply one event now (a direct handle's begin or
 * end), its aggregates written at once, inside the caller's transaction.
 */
int
skm__apply_event(struct skm_db *db, const struct skm__event *ev)
{
	struct apply a = { NULL, 1, NULL, 0 };
	int rc;

	if ((a.agg = skm__agg_new()) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	rc = apply_event(db, &a, ev);
	if (rc == SKM_OK)
		rc = skm__agg_flush(db, a.agg, 0);
	skm__agg_free(a.agg);
	free(a.scratch);
	return rc;
}

/* Keep an end whose begin has not come (payload p, n bytes). */
static int
keep_pending_end(struct skm_db *db, struct apply *a,
    const struct skm__event *ev, const unsigned char *p, size_t n)
{
	static const char sql[] = "INSERT INTO journal_pending_end (id, record) "
	    "VALUES (?, ?) ON CONFLICT (id) DO NOTHING";
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	a->pending = 1;
	bind_field(st, 1, ev, SKM__F_ID);
	sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_STATIC);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "fold");
}

/* ---- the fold ---- */

/* One record (or bytes that are none) of a batch. */
struct slot {
	size_t pos, len;         /* in the buffer */
	const unsigned char *pl; /* a record's payload */
	size_t plen;
	const char *why;         /* not a record: why it is quarantined */
	int partner;             /* a BEGIN: the slot of its END, or -1 */
	int merged;              /* an END applied with its BEGIN */
};

#define FOLD_IDS (2 * FOLD_BATCH)   /* id table of a batch: a power of 2 */

struct fold {
	struct skm_db *db;
	struct skm__jnl j;
	int dfd;
	double deadline;         /* skm__util_mono() to stop at; 0: none */
	long applied, quarantined;
	int more;                /* stopped with work left */
	char *qbuf;              /* quarantine lines of the open batch */
	size_t qlen, qcap;
	struct apply a;          /* the batch's aggregates */
	int bulk;                /* bulk mode; what it changed, to restore */
	int busy;                /* a fold was running in a place */
	char first[PATH_MAX];    /* the journal beside the store */
	int old_ckpt, old_cache;
	struct slot slot[FOLD_BATCH];
	int ids[FOLD_IDS];       /* BEGIN slots by id (-1: free) */
};

/* Much to fold: bulk mode (see FOLD_BULK) for the rest of the fold.  Not
 * skm__store_bulk(): its truncating checkpoint at close holds the write
 * lock while it waits for readers, and recorders' handles fold too. */
static int
pragma_int(struct skm_db *db, const char *sql, int dflt)
{
	sqlite3_stmt *st;
	int v = dflt;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static void
fold_bulk(struct fold *fo)
{
	if (fo->bulk)
		return;
	fo->bulk = 1;
	fo->old_ckpt = pragma_int(fo->db, "PRAGMA wal_autocheckpoint", 1000);
	fo->old_cache = pragma_int(fo->db, "PRAGMA cache_size", -2000);
	sqlite3_exec(fo->db->conn, "PRAGMA cache_size = -65536", NULL, NULL,
	    NULL);
	sqlite3_wal_autocheckpoint(fo->db->conn, FOLD_BULK_WAL);
}

/* Queue one quarantine line: the record's bytes, where they were, why. */
static int
quarantine(struct fold *fo, const char *file, long long off,
    const unsigned char *p, size_t n, const char *why)
{
	static const char sql[] =
	    "SELECT json_object('file', ?1, 'offset', ?2, 'reason', ?3, "
	    "'quarantined_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
	    "'bytes', ?4, 'record', hex(?5))";
	sqlite3_stmt *st;
	const char *line;
	size_t len, keep = n > 65536 ? 65536 : n;
	int rc;

	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, off);
	sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
	sqlite3_bind_blob(st, 5, p, (int)keep, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return skm__store_fail(fo->db, SKM_NOMEM, "quarantine: %s",
		    sqlite3_errmsg(fo->db->conn));
	}
	line = (const char *)sqlite3_column_text(st, 0);
	len = strlen(line);
	if (fo->qlen + len + 1 > fo->qcap) {
		size_t cap = (fo->qlen + len + 1) * 2;
		char *q = realloc(fo->qbuf, cap);

		if (q == NULL) {
			sqlite3_reset(st);
			return skm__store_fail(fo->db, SKM_NOMEM, "out of memory");
		}
		fo->qbuf = q;
		fo->qcap = cap;
	}
	memcpy(fo->qbuf + fo->qlen, line, len);
	fo->qbuf[fo->qlen + len] = '\n';
	fo->qlen += len + 1;
	sqlite3_reset(st);
	fo->quarantined++;
	return SKM_OK;
}

/* Append the batch's quarantine lines to quarantine.jsonl (before the
 * batch commits: a fold killed in between quarantines a record twice,
 * which `skm check` counts once, by file and offset). */
static int
flush_quarantine(struct fold *fo)
{
	int fd;
	size_t off = 0;
	ssize_t w;

	if (fo->qlen == 0)
		return SKM_OK;
	fd = openat(fo->dfd, SKM__JNL_QUARANTINE, O_WRONLY | O_APPEND |
	    O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd != -1) {
		struct stat sb;

		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
			close(fd);
			fd = -1;
			errno = EPERM;
		}
	}
	if (fd == -1)
		return skm__store_fail(fo->db, SKM_IOERR, "%s/%s: %s", fo->j.dir,
		    SKM__JNL_QUARANTINE, strerror(errno));
	while (off < fo->qlen) {
		w = write(fd, fo->qbuf + off, fo->qlen - off);
		if (w <= 0 && errno != EINTR) {
			close(fd);
			return skm__store_fail(fo->db, errno == ENOSPC ? SKM_FULL :
			    SKM_IOERR, "%s/%s: %s", fo->j.dir,
			    SKM__JNL_QUARANTINE, strerror(errno));
		}
		if (w > 0)
			off += (size_t)w;
	}
	close(fd);
	fo->qlen = 0;
	return SKM_OK;
}

/* Where the fold stands in file id: its row of journal_fold. */
static int
file_state(struct fold *fo, const char *id, long long *off, int *done)
{
	static const char sql[] =
	    "SELECT offset, done FROM journal_fold WHERE file_id = ?";
	sqlite3_stmt *st;
	int src, rc;

	*off = 0;
	*done = 0;
	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*off = sqlite3_column_int64(st, 0);
		*done = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return skm__store_sqlfail(fo->db, src, "fold");
	return SKM_OK;
}

static int
save_state(struct fold *fo, const char *id, long long off, long applied,
    long quarantined, int done)
{
	static const char sql[] =
	    "INSERT INTO journal_fold (file_id, offset, applied, quarantined, "
	    "done, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
	    "ON CONFLICT (file_id) DO UPDATE SET offset = excluded.offset, "
	    "applied = applied + excluded.applied, "
	    "quarantined = quarantined + excluded.quarantined, "
	    "done = excluded.done, updated_at = excluded.updated_at";
	sqlite3_stmt *st;
	int src, rc;

	if ((rc = skm__store_prepare(fo->db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, off);
	sqlite3_bind_int64(st, 3, applied);
	sqlite3_bind_int64(st, 4, quarantined);
	sqlite3_bind_int(st, 5, done);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(fo->db, src, "fold");
}

/*
 * peek - the kind and id of a record's payload without decoding it all
 * (for pairing a batch's begins with their ends); -1 if not found.
 */
static int
peek(const unsigned char *p, size_t n, int *kind, const unsigned char **id,
    size_t *idn)
{
	size_t o = 2, len;

	if (n < 2 || p[0] != SKM__REC_VERSION)
		return -1;
	*kind = p[1];
	while (o + 5 <= n) {
		len = (size_t)p[o + 1] | (size_t)p[o + 2] << 8 |
		    (size_t)p[o + 3] << 16 | (size_t)p[o + 4] << 24;
		if (len > n - o - 5)
			return -1;
		if (p[o] == skm__ev_fields[SKM__F_ID].tag) {
			*id = p + o + 5;
			*idn = len;
			return 0;
		}
		o += 5 + len;
	}
	return -1;
}

/*
 * pair_batch - find each BEGIN of the batch's nslot slots whose first
 * later event of the same id is an END: the two become one INSERT of the
 * ended row (fold_record), instead of an INSERT, a SELECT and an UPDATE.
 */
static void
pair_batch(struct fold *fo, int nslot)
{
	const unsigned char *id, *id2;
	size_t idn, idn2;
	uint64_t h;
	int i, k, kind, kind2, at;

	memset(fo->ids, 0xff, sizeof(fo->ids));
	for (i = 0; i < nslot; i++) {
		fo->slot[i].partner = -1;
		fo->slot[i].merged = 0;
		if (fo->slot[i].pl == NULL ||
		    peek(fo->slot[i].pl, fo->slot[i].plen, &kind, &id, &idn) != 0)
			continue;
		h = 14695981039346656037ULL;
		for (k = 0; k < (int)idn; k++)
			h = (h ^ id[k]) * 1099511628211ULL;
		for (at = (int)(h & (FOLD_IDS - 1)); fo->ids[at] != -1;
		    at = (at + 1) & (FOLD_IDS - 1)) {
			k = fo->ids[at];
			if (peek(fo->slot[k].pl, fo->slot[k].plen, &kind2, &id2,
			    &idn2) == 0 && idn2 == idn &&
			    memcmp(id, id2, idn) == 0)
				break;
		}
		if (fo->ids[at] == -1) {
			if (kind == SKM__EV_BEGIN)
				fo->ids[at] = i;
			continue;
		}
		/* The first event after the begin that ends it decides. */
		k = fo->ids[at];
		if (fo->slot[k].partner == -1 && kind != SKM__EV_BEGIN)
			fo->slot[k].partner = kind == SKM__EV_END ? i : -2;
	}
}

/*
 * fold_merged - apply the BEGIN ev with its END, the record of slot e,
 * as one row.  1: done (the END's slot is then merged); 0: not so (the
 * END does not decode or validate, ends before the begin, or the row is
 * there already): ev is to be applied alone, the END at its turn.
 */
static int
fold_merged(struct fold *fo, const struct skm__event *ev, int e, int *rc)
{
	static __thread struct skm__event end;
	struct begun b;
	char why[160];
	int inserted;

	*rc = SKM_OK;
	if (fo->a.pending || skm__ev_decode(fo->slot[e].pl, fo->slot[e].plen,
	    &end, why, sizeof(why)) != 0 || end.kind != SKM__EV_END ||
	    end.id.n != ev->id.n || memcmp(end.id.p, ev->id.p, ev->id.n) != 0 ||
	    skm__ev_validate(&end, why, sizeof(why)) != 0)
		return 0;
	begun_of_event(ev, &b);
	if (ends_before(&end, &b))
		return 0;
	if ((*rc = apply_run(fo->db, &fo->a, ev, &end, &inserted)) != SKM_OK)
		return 1;
	if (!inserted)
		return 0;       /* the row was there: ev changed nothing */
	fo->slot[e].merged = 1;
	return 1;
}

/* Apply the record of slot i (found at off); a record that does not
 * decode or validate goes to quarantine. */
static int
fold_record(struct fold *fo, const char *id, long long off, int i)
{
	const struct slot *sl = &fo->slot[i];
	const unsigned char *rec = sl->pl - SKM__REC_HDR;
	struct skm__event *ev;
	char why[160];
	int rc;

	/* The event struct is large (its follow-up array): keep it off a
	 * small stack. */
	static __thread struct skm__event evbuf;

	if (sl->merged) {
		fo->applied++;          /* with its begin */
		return SKM_OK;
	}
	ev = &evbuf;
	if (skm__ev_decode(sl->pl, sl->plen, ev, why, sizeof(why)) != 0)
		return quarantine(fo, id, off, rec, sl->len, why);
	if (ev->kind == SKM__EV_HEADER)
		return SKM_OK;
	if (skm__ev_validate(ev, why, sizeof(why)) != 0)
		return quarantine(fo, id, off, rec, sl->len, why);
	if (ev->kind != SKM__EV_BEGIN || sl->partner < 0 ||
	    !fold_merged(fo, ev, sl->partner, &rc))
		rc = apply_event(fo->db, &fo->a, ev);
	if (rc == SKM_ENDED)
		return SKM_OK;          /* a duplicate end: already counted */
	if (rc == SKM_NOTFOUND)
		/* Its begin may come later (events out of order). */
		return keep_pending_end(fo->db, &fo->a, ev, sl->pl, sl->plen);
	if (rc == SKM_FORMAT)
		return quarantine(fo, id, off, rec, sl->len, fo->db->errmsg);
	if (rc == SKM_OK)
		fo->applied++;
	return rc;
}

/* Whether journal_pending_end holds any end (1 if it cannot tell). */
static int
any_pending(struct fold *fo)
{
	static const char sql[] =
	    "SELECT EXISTS (SELECT 1 FROM journal_pending_end)";
	sqlite3_stmt *st;
	int any = 1;

	if (skm__store_prepare(fo->db, sql, &st) != SKM_OK)
		return 1;
	if (sqlite3_step(st) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return any;
}

/*
 * fold_file - apply the records of the open journal file fd (id) from
 * where the fold stood.  sealed: nobody appends any more, so a record
 * cut off at its end is garbage, and a file done is removed.  Returns a
 * status; sets fo->more when the deadline stopped it.
 */
static int
fold_file(struct fold *fo, int fd, const char *id, const char *name,
    int sealed)
{
	unsigned char *buf = NULL, *p;
	struct slot *sl;
	struct stat sb;
	long long off, base;
	size_t have = 0, start = 0, pos, len;
	double cut;
	long a0, q0;
	int done, rc, eof = 0, nslot, i, k, starved = 0;
	ssize_t r;

	if ((rc = file_state(fo, id, &off, &done)) != SKM_OK)
		return rc;
	if (done) {
		if (sealed)
			(void)unlinkat(fo->dfd, name, 0);
		return SKM_OK;
	}
	if ((buf = malloc(FOLD_CHUNK)) == NULL)
		return skm__store_fail(fo->db, SKM_NOMEM, "out of memory");
	base = off;
	rc = SKM_OK;
	while (rc == SKM_OK) {
		/* The unread bytes are buf[start, start + have).  Read more
		 * (after moving them to the front) when they run low, or
		 * when the last batch stopped at a record not whole. */
		if (!eof && (have < FOLD_CHUNK / 2 || starved)) {
			memmove(buf, buf + start, have);
			start = 0;
			r = pread(fd, buf + have, FOLD_CHUNK - have,
			    (off_t)(base + (long long)have));
			if (r < 0) {
				rc = skm__store_fail(fo->db, SKM_IOERR, "%s/%s: %s",
				    fo->j.dir, name, strerror(errno));
				break;
			}
			if (r == 0)
				eof = 1;
			have += (size_t)r;
		}
		if (have == 0)
			break;
		if (have >= FOLD_BULK || (!eof && (fstat(fd, &sb) != 0 ||
		    sb.st_size - base >= FOLD_BULK)))
			fold_bulk(fo);
		p = buf + start;
		/* One batch, one transaction.  First where its records are,
		 * then what they do. */
		pos = 0;
		starved = 0;
		for (nslot = 0; nslot < FOLD_BATCH && pos < have && !starved;) {
			sl = &fo->slot[nslot];
			sl->pl = NULL;
			sl->why = NULL;
			switch (skm__rec_scan(p + pos, have - pos, &len, &sl->pl,
			    &sl->plen)) {
			case SKM__SCAN_RECORD:
				break;
			case SKM__SCAN_GARBAGE:
				sl->pl = NULL;
				sl->why = "not a record (a torn write, or bytes "
				    "that are no journal)";
				break;
			case SKM__SCAN_PARTIAL:
				sl->pl = NULL;
				if (!eof && have == FOLD_CHUNK && pos == 0) {
					/* A record larger than the chunk
					 * cannot be: SKM__REC_MAX is less. */
					len = have;
					sl->why = "record too large";
					break;
				}
				if (!eof || !sealed) {
					starved = 1;    /* read more */
					continue;
				}
				len = have - pos;
				sl->why = "a record cut off at the end of its "
				    "file";
				break;
			}
			sl->pos = pos;
			sl->len = len;
			pos += len;
			nslot++;
		}
		if ((rc = skm__store_begin_write(fo->db)) != SKM_OK)
			break;
		a0 = fo->applied;
		q0 = fo->quarantined;
		cut = skm__util_mono() + FOLD_BATCH_S;
		if (fo->deadline > 0 && fo->deadline < cut)
			cut = fo->deadline;
		fo->a.pending = any_pending(fo);
		if (!fo->a.pending)
			pair_batch(fo, nslot);
		else
			for (i = 0; i < nslot; i++) {
				fo->slot[i].partner = -1;
				fo->slot[i].merged = 0;
			}
		for (i = 0; i < nslot && rc == SKM_OK; i++) {
			sl = &fo->slot[i];
			if (sl->pl != NULL)
				rc = fold_record(fo, id, base +
				    (long long)sl->pos, i);
			else
				rc = quarantine(fo, id, base +
				    (long long)sl->pos, p + sl->pos, sl->len,
				    sl->why);
			if (rc == SKM_OK && i + 1 < nslot && (i & 255) == 255 &&
			    skm__util_mono() > cut) {
				/* Time is up: the batch ends here.  An end
				 * after the cut applied with its begin
				 * before it counts now: read again, it
				 * changes nothing. */
				for (k = i + 1; k < nslot; k++)
					if (fo->slot[k].merged)
						fo->applied++;
				pos = fo->slot[i + 1].pos;
				starved = 0;
				break;
			}
		}
		if (rc == SKM_OK)
			rc = skm__agg_flush(fo->db, fo->a.agg, 0);
		if (rc == SKM_OK)
			rc = flush_quarantine(fo);
		if (rc == SKM_OK)
			rc = save_state(fo, id, base + (long long)pos,
			    fo->applied - a0, fo->quarantined - q0,
			    sealed && eof && pos == have);
		if (rc == SKM_OK && (rc = skm__store_commit(fo->db)) == SKM_OK) {
			base += (long long)pos;
			start += pos;
			have -= pos;
		} else {
			skm__store_rollback(fo->db);
			skm__agg_clear(fo->a.agg);
			fo->applied = a0;
			fo->quarantined = q0;
			fo->qlen = 0;
			break;
		}
		if (eof && (pos == 0 || have == 0))
			break;
		if (fo->deadline > 0 && skm__util_mono() > fo->deadline) {
			fo->more = 1;
			break;
		}
	}
	free(buf);
	if (rc == SKM_OK && sealed && eof && have == 0)
		(void)unlinkat(fo->dfd, name, 0);
	return rc;
}

/* Fold every sealed file, oldest first (ids are time-ordered). */
static int
fold_sealed(struct fold *fo)
{
	char **names, id[65];
	int fd, rc = SKM_OK, n, i;

	if ((n = skm__jnl_list(fo->dfd, SKM__JNL_SEALED, &names)) == -1)
		return skm__store_fail(fo->db, SKM_IOERR, "%s: %s", fo->j.dir,
		    strerror(errno));
	for (i = 0; i < n && rc == SKM_OK && !fo->more; i++) {
		if ((fd = skm__jnl_openat(&fo->j, fo->dfd, names[i], 0)) == -1)
			continue;       /* refused: never read */
		skm__jnl_settle(fd);
		if (skm__jnl_file_id(fd, id) > 0)
			rc = fold_file(fo, fd, id, names[i], 1);
		close(fd);
	}
	skm__jnl_list_free(names, n);
	return rc;
}

/* Fold the live file; seal it when it has grown large and is folded. */
static int
fold_live(struct fold *fo)
{
	struct stat sb;
	char id[65], name[96];
	int fd, rc;

	if ((fd = skm__jnl_openat(&fo->j, fo->dfd, SKM__JNL_LIVE, 0)) == -1)
		return errno == ENOENT ? SKM_OK : SKM_OK;
	if (skm__jnl_file_id(fd, id) <= 0) {
		close(fd);
		return SKM_OK;
	}
	rc = fold_file(fo, fd, id, SKM__JNL_LIVE, 0);
	if (rc == SKM_OK && !fo->more && fstat(fd, &sb) == 0 &&
	    sb.st_size >= SKM__JNL_FOLD_BYTES &&
	    skm__jnl_seal(&fo->j, fo->dfd, id) == 0) {
		snprintf(name, sizeof(name), "%s%s", SKM__JNL_SEALED, id);
		rc = fold_file(fo, fd, id, name, 1);
	}
	close(fd);
	return rc;
}

/* Take the fold lock, waiting up to wait_ms (< 0: as long as it takes). */
static int
lock_fold(struct fold *fo, int wait_ms)
{
	double until = skm__util_mono() + wait_ms / 1000.0;
	int fd;

	fd = openat(fo->dfd, SKM__JNL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (wait_ms >= 0 && skm__util_mono() >= until)
			break;
		skm__util_sleep_ms(2);
	}
	close(fd);
	return -1;
}

static void
fold_free(struct fold *fo)
{
	skm__agg_free(fo->a.agg);
	free(fo->a.scratch);
	free(fo->qbuf);
	free(fo);
}

/*
 * fold_place - fold the journal directory fo->j.dir, if there is one:
 * its sealed files, then its live file.  A refused directory is named in
 * res->refused (res NULL: not named); a fold already running there sets
 * fo->busy.
 */
static int
fold_place(struct fold *fo, int budget_ms, int wait_ms,
    struct skm__fold_result *res)
{
	struct skm_db *db = fo->db;
	int rc, lk;

	if ((fo->dfd = skm__jnl_dirfd(&fo->j, 0)) == -1) {
		if (fo->j.state < 0 && res != NULL)
			snprintf(res->refused, sizeof(res->refused), "%s",
			    fo->j.why);
		return SKM_OK;          /* refused, or no journal yet */
	}
	if ((lk = lock_fold(fo, wait_ms)) == -1) {
		close(fo->dfd);
		fo->busy = 1;
		if (res != NULL)
			res->busy = 1;
		return SKM_OK;
	}
	if (budget_ms > 0 && fo->deadline == 0)
		fo->deadline = skm__util_mono() + budget_ms / 1000.0;
	rc = fold_sealed(fo);
	if (rc == SKM_OK && !fo->more)
		rc = fold_live(fo);
	if (fo->bulk) {
		/* Leave the WAL as short as it was bounded before: fold it in
		 * now, without waiting for anyone (PASSIVE). */
		char sql[64];

		sqlite3_wal_checkpoint_v2(db->conn, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		sqlite3_wal_autocheckpoint(db->conn, fo->old_ckpt);
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d",
		    fo->old_cache);
		sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
		fo->bulk = 0;
	}
	close(lk);
	close(fo->dfd);
	return rc;
}

int
skm__fold(struct skm_db *db, int budget_ms, int wait_ms,
    struct skm__fold_result *res)
{
	struct fold *fo;
	int rc;

	memset(res, 0, sizeof(*res));
	if (db == NULL)
		return SKM_MISUSE;
	if (db->status != SKM_OK)
		return db->status;
	if (db->flags & SKM_OPEN_READONLY)
		return SKM_OK;
	/* Large (a batch's slots): not on the stack. */
	if ((fo = calloc(1, sizeof(*fo))) == NULL ||
	    (fo->a.agg = skm__agg_new()) == NULL) {
		free(fo);
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	}
	fo->db = db;
	if (skm__jnl_init(&fo->j, db->path) != 0) {
		rc = skm__store_fail(db, SKM_CANTOPEN, "%s", fo->j.why);
		fold_free(fo);
		return rc;
	}
	memcpy(fo->first, fo->j.dir, sizeof(fo->first));
	/* What an earlier skm spooled goes into the journal first (into
	 * its second place if the first is refused: then back to the
	 * first, which is folded first all the same). */
	if (skm__legacy_present(fo->j.dir)) {
		long carried;

		if ((rc = skm__legacy_carry(db, &fo->j, &carried)) != SKM_OK) {
			fold_free(fo);
			return rc;
		}
		if (fo->j.alt)
			(void)skm__jnl_init(&fo->j, db->path);
	}
	rc = fold_place(fo, budget_ms, wait_ms, res);
	/* Then the second place (skm__jnl_alt), where this user's recorders
	 * record while the first is refused. */
	if (rc == SKM_OK && !fo->more &&
	    skm__jnl_alt(fo->first, fo->j.dir) == 0) {
		fo->j.state = 0;
		fo->j.alt = 1;
		rc = fold_place(fo, budget_ms, wait_ms, NULL);
		if (res->busy == 0 && fo->busy)
			res->busy = 1;
	}
	res->applied = fo->applied;
	res->quarantined = fo->quarantined;
	res->more = fo->more;
	fold_free(fo);
	return rc;
}


/* Has the live file of journal directory dir changed since *ino, *size
 * (which it updates)? */
static int
live_changed(const char *dir, ino_t *ino, off_t *size)
{
	char live[PATH_MAX + 16];
	struct stat sb;
	int moved;

	if (snprintf(live, sizeof(live), "%s/%s", dir, SKM__JNL_LIVE) >=
	    (int)sizeof(live))
		return 0;
	if (lstat(live, &sb) != 0)
		sb.st_ino = 0, sb.st_size = 0;
	moved = sb.st_ino != *ino || sb.st_size != *size;
	*ino = sb.st_ino;
	*size = sb.st_size;
	return moved;
}

int
skm__journal_moved(struct skm_db *db)
{
	char alt[PATH_MAX];
	int moved;

	moved = live_changed(db->jnl.dir, &db->jnl_ino, &db->jnl_size);
	/* The second place too, unless the handle already records there. */
	if (!db->jnl.alt && skm__jnl_alt(db->jnl.dir, alt) == 0)
		moved |= live_changed(alt, &db->alt_ino, &db->alt_size);
	return moved;
}

void
skm__fold_moved(struct skm_db *db)
{
	struct skm__fold_result fr;

	if (db == NULL || db->status != SKM_OK || db->folding ||
	    (db->flags & SKM_OPEN_READONLY) ||
	    (!skm__journal_moved(db) && !skm__legacy_present(db->jnl.dir)))
		return;
	db->folding = 1;
	(void)skm__fold(db, 500, 1000, &fr);
	db->folding = 0;
	(void)skm__journal_moved(db);	/* what this fold saw */
}
