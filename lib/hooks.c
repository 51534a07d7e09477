/*
 * hooks.c - begin and end of an invocation: the in-process API that
 * `skm begin/end` and programs linking libskm go through.
 *
 * An invocation is made in memory first (id, start times), so a wrapper
 * can hand its id to a child before anything is written.  Its begin and
 * its end are events (event.h): by default each is appended to the
 * journal beside the store (record.c) and the fold applies it later; a
 * handle opened with SKM_OPEN_DIRECT applies them at once, in a write
 * transaction of its own (fold.c's skm__apply_event), and falls back to
 * the journal when the store cannot take them.  Either way an end is
 * applied exactly once: it updates a row only while it is running.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skm-int.h"
#include "record.h"

/*
 * What every invocation asks the kernel for, asked less often: the pid
 * (cached, forgotten in a forked child) and the random bits of its id
 * (from a per-thread pool filled by one getrandom(2) per 256 ids, thrown
 * away in a forked child so that parent and child never share ids).
 */
static unsigned fork_gen = 1;
static pid_t self_pid;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
forked_child(void)
{
	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED);
}

static void
register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, forked_child);
}

static long long
my_pid(void)
{
	pid_t p;

	pthread_once(&atfork_once, register_atfork);
	if ((p = __atomic_load_n(&self_pid, __ATOMIC_RELAXED)) == 0) {
		p = getpid();
		__atomic_store_n(&self_pid, p, __ATOMIC_RELAXED);
	}
	return (long long)p;
}

static void
new_id(char id[37], int64_t now_us)
{
	static __thread unsigned char pool[2560];
	static __thread size_t used = sizeof(pool);
	static __thread unsigned gen;
	unsigned g;

	pthread_once(&atfork_once, register_atfork);
	g = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
	if (gen != g || used + 10 > sizeof(pool)) {
		if (skm__random(pool, sizeof(pool)) < sizeof(pool)) {
			/* No entropy yet (early boot): one id at a time. */
			skm__uuid7(id);
			return;
		}
		used = 0;
		gen = g;
	}
	/* The time read for invoked_at: no second clock read. */
	skm__uuid7_at(id, pool + used, now_us / 1000);
	used += 10;
}

/*
 * put_str - copy s (NULL stays NULL) to *at, advancing it: the strings of
 * an invocation live in its own allocation, after the struct, so that a
 * begin and an end cost one malloc and one free, not eight of each.
 */
static char *
put_str(char **at, const char *s, size_t n)
{
	char *d = *at;

	if (s == NULL)
		return NULL;
	memcpy(d, s, n + 1);
	*at += n + 1;
	return d;
}

const char *
skm_begin_info_error(const struct skm_begin_info *bi)
{
	return skm__begin_info_error(bi);
}

int
skm_inv_create(const struct skm_begin_info *bi, struct skm_inv **out)
{
	struct skm_inv *inv;
	const char *parent, *src[7];
	size_t len[7], total = 0;
	char **dst[7], *at;
	int i;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if (skm_begin_info_error(bi) != NULL)
		return SKM_MISUSE;
	parent = bi->parent_id;
	if (parent == NULL && (parent = getenv("SKM_INVOCATION_ID")) != NULL &&
	    (*parent == '\0' || strlen(parent) > 64))
		parent = NULL;
	src[0] = bi->skill;
	src[1] = bi->workflow;
	src[2] = bi->session;
	src[3] = bi->project;
	src[4] = parent;
	src[5] = bi->command;
	src[6] = bi->source != NULL ? bi->source : "lib";
	for (i = 0; i < 7; i++) {
		len[i] = src[i] != NULL ? strlen(src[i]) : 0;
		total += src[i] != NULL ? len[i] + 1 : 0;
	}
	if ((inv = malloc(sizeof(*inv) + total)) == NULL)
		return SKM_NOMEM;
	memset(inv, 0, sizeof(*inv));
	inv->invoked_us = skm__now_us();
	inv->mono_start = skm__mono();
	new_id(inv->id, inv->invoked_us);
	inv->pid = bi->pid != 0 ? bi->pid : my_pid();
	dst[0] = &inv->skill;
	dst[1] = &inv->workflow;
	dst[2] = &inv->session;
	dst[3] = &inv->project;
	dst[4] = &inv->parent_id;
	dst[5] = &inv->command;
	dst[6] = &inv->source;
	at = (char *)(inv + 1);
	for (i = 0; i < 7; i++)
		*dst[i] = put_str(&at, src[i], len[i]);
	*out = inv;
	return SKM_OK;
}

void
skm_inv_free(struct skm_inv *inv)
{
	free(inv);	/* its strings with it (put_str) */
}

const char *
skm_inv_id(const struct skm_inv *inv)
{
	return inv != NULL ? inv->id : "";
}

void
skm_inv_set_pid(struct skm_inv *inv, long long pid)
{
	if (inv != NULL && pid > 0)
		inv->pid = pid;
}

/* The BEGIN event of inv (its strings point into inv). */
static void
begin_event(const struct skm_inv *inv, struct skm__event *ev)
{
	struct skm_begin_info bi = { 0 };
	struct skm__rec r;

	memset(&r.id, 0, sizeof(r.id));
	memcpy(r.id, inv->id, sizeof(r.id));
	r.invoked_us = inv->invoked_us;
	r.mono_start = inv->mono_start;
	bi.skill = inv->skill;
	bi.workflow = inv->workflow;
	bi.session = inv->session;
	bi.project = inv->project;
	bi.parent_id = inv->parent_id != NULL ? inv->parent_id : "";  /* "": none */
	bi.command = inv->command;
	bi.source = inv->source;
	bi.pid = inv->pid;
	skm__rec_begin_event(&r, ev, &bi);
	skm__ev_str(ev, SKM__F_ID, inv->id);    /* not r's: r is gone soon */
}

/* A store status after which an event is kept in the journal instead. */
static int
journal_instead(int rc)
{
	return rc == SKM_BUSY || rc == SKM_READONLY || rc == SKM_FULL ||
	    rc == SKM_IOERR || rc == SKM_CORRUPT || rc == SKM_NEWER ||
	    rc == SKM_CANTOPEN || rc == SKM_ERROR;
}

/* Append ev to db's journal. */
static int
journal_append(struct skm_db *db, const struct skm__event *ev)
{
	unsigned char small[4096], *buf = small;
	size_t need = skm__ev_size(ev);
	int crossed = 0, rc = SKM_OK;

	if (need > sizeof(small) && (buf = malloc(need)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	if (skm__ev_encode_len(ev, need, buf, need) == 0)
		rc = skm__store_fail(db, SKM_MISUSE, "event too large");
	else if (skm__jnl_append(&db->jnl, buf, need, &crossed) != 0)
		rc = skm__store_fail(db, SKM_IOERR, "%s", db->jnl.why);
	else {
		db->njournaled++;
	}
	if (buf != small)
		free(buf);
	return rc;
}

static int
apply_tx(struct skm_db *db, void *arg)
{
	return skm__apply_event(db, arg);
}

/*
 * record - apply ev now on a direct handle (falling back to the journal
 * when the store cannot take it), else append it to the journal.
 */
static int
record(struct skm_db *db, const struct skm__event *ev)
{
	char why[128];
	int rc;

	/* The fold's own check, before either path: a direct handle would
	 * store what the fold quarantines (a duration of 1e308 made a
	 * total of Inf). */
	if (skm__ev_validate(ev, why, sizeof(why)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "%s", why);
	if (db->flags & SKM_OPEN_DIRECT) {
		if ((rc = skm__store_usable(db)) == SKM_OK)
			rc = skm__store_write(db, apply_tx, (void *)ev);
		if (!journal_instead(rc))
			return rc;
	}
	return journal_append(db, ev);
}

/* The event being recorded: large (its follow-up array), so neither on
 * the stack nor from the heap each time. */
static __thread struct skm__event cur_ev;

int
skm_inv_start(struct skm_db *db, struct skm_inv *inv)
{
	struct skm__event *ev = &cur_ev;
	int rc;

	if (inv == NULL)
		return SKM_MISUSE;
	inv->db = db;
	if (db == NULL)
		return SKM_MISUSE;
	begin_event(inv, ev);
	if ((rc = record(db, ev)) == SKM_OK)
		inv->started = 1;
	return rc;
}

int
skm_begin(struct skm_db *db, const struct skm_begin_info *bi,
    struct skm_inv **out)
{
	struct skm_inv *inv;
	int rc;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((rc = skm_inv_create(bi, &inv)) != SKM_OK) {
		if (db != NULL && rc == SKM_MISUSE)
			skm__store_fail(db, rc, "%s", skm_begin_info_error(bi));
		return rc;
	}
	if ((rc = skm_inv_start(db, inv)) != SKM_OK) {
		skm_inv_free(inv);
		return rc;
	}
	*out = inv;
	return SKM_OK;
}

/* NULL when ei's strings are within their limits, else why not. */
static const char *
end_info_error(const struct skm_end_info *ei)
{
	size_t i;

	if (ei->error_type != NULL && strlen(ei->error_type) > SKM_FIELD_MAX)
		return "error type longer than 4096 bytes";
	/* What the fold would refuse (skm__ev_validate) is refused here, to
	 * the caller, not quarantined later with the run left running. */
	if (ei->duration_seconds >= 0 && !(ei->duration_seconds <=
	    SKM__DURATION_MAX))
		return "duration longer than 100 years";
	if (ei->exit_code < -1 || ei->exit_code > 255)
		return "exit code not -1 (none) or 0-255";
	if (ei->signal < 0 || ei->signal > 128)
		return "signal not 0 (none) or 1-128";
	if (ei->n_follow_ups > SKM__EV_FOLLOW_MAX)
		return "more than 256 follow-up actions";
	for (i = 0; i < ei->n_follow_ups; i++)
		if (ei->follow_ups[i] != NULL &&
		    strlen(ei->follow_ups[i]) > SKM_FIELD_MAX)
			return "follow-up action longer than 4096 bytes";
	return NULL;
}

/*
 * end_event - the END of id as ei says; with inv, measured from its
 * monotonic start, and carrying the begin too (a RUN) when the begin was
 * never recorded, so that the event stands alone.
 */
static void
end_event(const char *id, const struct skm_inv *inv,
    const struct skm_end_info *ei, struct skm__event *ev)
{
	struct skm__event end;

	skm__rec_end_event(id, ev, ei);
	if (inv == NULL)
		return;
	if (!SKM__HAS(ev, DURATION))
		skm__ev_real(ev, SKM__F_DURATION, ev->mono_end -
		    inv->mono_start);
	if (inv->started)
		return;
	memcpy(&end, ev, sizeof(end));
	begin_event(inv, ev);
	skm__ev_add_end(ev, &end);
}

int
skm_end_in(struct skm_db *db, struct skm_inv *inv,
    const struct skm_end_info *ei)
{
	struct skm_end_info def = SKM_END_INFO_INIT;
	struct skm__event *ev;
	int rc;

	if (inv == NULL)
		return SKM_MISUSE;
	if (db == NULL) {
		skm_inv_free(inv);
		return SKM_MISUSE;
	}
	if (ei == NULL)
		ei = &def;
	if (end_info_error(ei) != NULL) {
		rc = skm__store_fail(db, SKM_MISUSE, "%s", end_info_error(ei));
		skm_inv_free(inv);
		return rc;
	}
	ev = &cur_ev;
	end_event(inv->id, inv, ei, ev);
	rc = record(db, ev);
	skm_inv_free(inv);
	return rc;
}

int
skm_end(struct skm_inv *inv, const struct skm_end_info *ei)
{
	if (inv == NULL)
		return SKM_MISUSE;
	if (inv->db == NULL) {
		skm_inv_free(inv);
		return SKM_MISUSE;
	}
	return skm_end_in(inv->db, inv, ei);
}

/*
 * skm_end_id - end by id: what `skm end`, reap and a shimmed image that
 * adopted an invocation do.  The journal is folded first, so a begin
 * still waiting there is in the store; then the end is applied in its
 * own transaction, so that the caller learns SKM_NOTFOUND or SKM_ENDED.
 * A store that cannot take it gets the end through the journal.
 */
int
skm_end_id(struct skm_db *db, const char *id, const struct skm_end_info *ei)
{
	struct skm_end_info def = SKM_END_INFO_INIT;
	struct skm__fold_result fr;
	struct skm__event *ev;
	char why[128];
	int rc;

	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (id == NULL || *id == '\0' || strlen(id) > 64)
		return skm__store_fail(db, SKM_MISUSE, "no invocation id");
	if (ei == NULL)
		ei = &def;
	if (end_info_error(ei) != NULL)
		return skm__store_fail(db, SKM_MISUSE, "%s", end_info_error(ei));
	(void)skm__fold(db, 0, 2000, &fr);
	if ((ev = malloc(sizeof(*ev))) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "end: out of memory");
	end_event(id, NULL, ei, ev);
	if (skm__ev_validate(ev, why, sizeof(why)) != 0)
		rc = skm__store_fail(db, SKM_MISUSE, "%s", why);
	else if (journal_instead(rc = skm__store_write(db, apply_tx, ev)))
		rc = journal_append(db, ev);
	free(ev);
	return rc;
}

int
skm_spooled(const struct skm_db *db, const char **why)
{
	if (why != NULL)
		*why = db != NULL ? db->jnl.dir : "";
	return db != NULL ? db->njournaled : 0;
}

int
skm_drain(struct skm_db *db, int *n)
{
	struct skm__fold_result fr;
	int rc;

	if (n != NULL)
		*n = 0;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	rc = skm__fold(db, 0, -1, &fr);
	/* What the fold at open applied counts too: it is this drain's. */
	if (n != NULL)
		*n = (int)(fr.applied + db->open_applied);
	db->open_applied = 0;
	/* A journal directory that is not safe is never read: say so, or
	 * "0 events applied" would hide every run recorders could not
	 * write there. */
	if (rc == SKM_OK && fr.refused[0] != '\0')
		rc = skm__store_fail(db, SKM_CANTOPEN, "%s", fr.refused);
	return rc;
}
