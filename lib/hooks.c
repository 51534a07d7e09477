/*
 * hooks.c - begin and end of an invocation: the in-process API that
 * skm-run, the shim and `skm begin/end` all go through.
 *
 * An invocation is made in memory first (id, start times), so a wrapper
 * can hand its id to a child before anything touches the store.  Its
 * begin row makes it "running"; its end, the update of the row and of the
 * skill's aggregates happen in one transaction, exactly once: the UPDATE
 * only matches a row whose ended_at is still NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skm-int.h"

static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

const char *
skm_begin_info_error(const struct skm_begin_info *bi)
{
	if (bi == NULL || bi->skill == NULL || bi->skill[0] == '\0')
		return "no skill name";
	if (strlen(bi->skill) > SKM_NAME_MAX)
		return "skill name longer than 256 bytes";
	if (!util_clean_utf8(bi->skill))
		return "skill name is not UTF-8 text without control characters";
	if (bi->workflow != NULL && strlen(bi->workflow) > SKM_FIELD_MAX)
		return "workflow longer than 4096 bytes";
	if (bi->session != NULL && strlen(bi->session) > SKM_FIELD_MAX)
		return "session longer than 4096 bytes";
	if (bi->project != NULL && strlen(bi->project) > SKM_FIELD_MAX)
		return "project longer than 4096 bytes";
	return NULL;
}

/* A copy of a command line of at most SKM_COMMAND_MAX bytes, cut on a
 * UTF-8 character boundary and marked when cut. */
static char *
dup_command(const char *s, int *bad)
{
	size_t n;
	char *d;

	if (s == NULL || strlen(s) <= SKM_COMMAND_MAX)
		return dup_or_null(s, bad);
	n = SKM_COMMAND_MAX - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	if ((d = malloc(n + 4)) == NULL) {
		*bad = 1;
		return NULL;
	}
	memcpy(d, s, n);
	memcpy(d + n, "...", 4);
	return d;
}

int
skm_inv_create(const struct skm_begin_info *bi, struct skm_inv **out)
{
	struct skm_inv *inv;
	struct timespec ts;
	const char *parent;
	int bad = 0;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if (skm_begin_info_error(bi) != NULL)
		return SKM_MISUSE;
	if ((inv = calloc(1, sizeof(*inv))) == NULL)
		return SKM_NOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	inv->mono_start = util_mono();
	util_iso_from_ts(&ts, inv->invoked_at);
	util_uuid7(inv->id);
	inv->pid = bi->pid != 0 ? bi->pid : (long long)getpid();
	parent = bi->parent_id;
	if (parent == NULL && (parent = getenv("SKM_INVOCATION_ID")) != NULL &&
	    (*parent == '\0' || strlen(parent) > 64))
		parent = NULL;
	inv->skill = dup_or_null(bi->skill, &bad);
	inv->workflow = dup_or_null(bi->workflow, &bad);
	inv->session = dup_or_null(bi->session, &bad);
	inv->project = dup_or_null(bi->project, &bad);
	inv->parent_id = dup_or_null(parent, &bad);
	inv->command = dup_command(bi->command, &bad);
	inv->source = dup_or_null(bi->source ? bi->source : "lib", &bad);
	if (bad) {
		skm_inv_free(inv);
		return SKM_NOMEM;
	}
	*out = inv;
	return SKM_OK;
}

void
skm_inv_free(struct skm_inv *inv)
{
	if (inv == NULL)
		return;
	free(inv->skill);
	free(inv->workflow);
	free(inv->session);
	free(inv->project);
	free(inv->parent_id);
	free(inv->command);
	free(inv->source);
	free(inv);
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

static void
bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Insert the begin row of inv; a row already there is left alone. */
static int
insert_begin(struct skm_db *db, void *arg)
{
	static const char sql[] =
	    "INSERT INTO skill_invocation (id, skill_name, invoked_at, "
	    "workflow_path, session_id, project_path, parent_id, command, "
	    "host, pid, source, mono_start, boot_id, pid_start) VALUES (:id, "
	    ":skill, :at, :wf, :session, :project, :parent, :cmd, :host, :pid, "
	    ":source, :mono, :boot, :pstart) ON CONFLICT (id) DO NOTHING";
	struct skm_inv *inv = arg;
	sqlite3_stmt *st;
	long long pstart;
	int rc, src;

	if ((rc = store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	bind_text(st, ":id", inv->id);
	bind_text(st, ":skill", inv->skill);
	bind_text(st, ":at", inv->invoked_at);
	bind_text(st, ":wf", inv->workflow);
	bind_text(st, ":session", inv->session);
	bind_text(st, ":project", inv->project);
	bind_text(st, ":parent", inv->parent_id);
	bind_text(st, ":cmd", inv->command);
	bind_text(st, ":host", util_hostname());
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":pid"),
	    inv->pid);
	bind_text(st, ":source", inv->source);
	sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":mono"),
	    inv->mono_start);
	bind_text(st, ":boot", util_boot_id());
	/* For `skm reap`: tells this process from a later one with its pid. */
	if ((pstart = reap_pid_start(inv->pid, NULL)) >= 0)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st,
		    ":pstart"), pstart);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_sqlfail(db, src, "begin");
	return SKM_OK;
}

/*
 * skm_inv_start - write the begin row; when the store cannot take it (see
 * spool_wanted), the begin event goes to the spool instead and this still
 * succeeds.  After a busy timeout the handle is "degraded": its later
 * events go straight to the spool instead of waiting for the lock again,
 * so a wrapped command is delayed by one busy bound at most.
 */
int
skm_inv_start(struct skm_db *db, struct skm_inv *inv)
{
	int rc;

	if (inv == NULL)
		return SKM_MISUSE;
	inv->db = db;
	if (db == NULL)
		return SKM_MISUSE;
	if ((rc = store_usable(db)) == SKM_OK && !db->degraded) {
		if ((rc = store_write(db, insert_begin, inv)) == SKM_OK) {
			inv->started = 1;
			return SKM_OK;
		}
		if (rc == SKM_BUSY)
			db->degraded = 1;
	} else if (rc == SKM_OK) {
		rc = SKM_BUSY;
	}
	if (spool_wanted(rc) && spool_begin(db, inv) == SKM_OK) {
		inv->spooled = 1;
		return SKM_OK;
	}
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
			store_fail(db, rc, "%s", skm_begin_info_error(bi));
		return rc;
	}
	if ((rc = skm_inv_start(db, inv)) != SKM_OK) {
		skm_inv_free(inv);
		return rc;
	}
	*out = inv;
	return SKM_OK;
}

/*
 * end_bind_outcome - bind what an end says of the run to six consecutive
 * parameters from first on: exit code, signal, follow-up actions (JSON),
 * user CPU, system CPU, peak RSS; NULL where ei has none.  Shared by the
 * end itself and its spooled form, whose statements lay them out alike.
 */
void
end_bind_outcome(sqlite3_stmt *st, int first, const struct skm_end_info *ei,
    const char *fu)
{
	const struct rusage *ru = ei->rusage;

	if (ei->exit_code >= 0)
		sqlite3_bind_int(st, first, ei->exit_code);
	if (ei->signal > 0)
		sqlite3_bind_int(st, first + 1, ei->signal);
	sqlite3_bind_text(st, first + 2, fu, -1, SQLITE_STATIC);
	if (ru != NULL) {
		sqlite3_bind_double(st, first + 3, (double)ru->ru_utime.tv_sec +
		    (double)ru->ru_utime.tv_usec / 1e6);
		sqlite3_bind_double(st, first + 4, (double)ru->ru_stime.tv_sec +
		    (double)ru->ru_stime.tv_usec / 1e6);
		sqlite3_bind_int64(st, first + 5, ru->ru_maxrss);
	}
}

/* NULL when ei's strings are within their limits, else why not. */
static const char *
end_info_error(const struct skm_end_info *ei)
{
	size_t i;

	if (ei->error_type != NULL && strlen(ei->error_type) > SKM_FIELD_MAX)
		return "error type longer than 4096 bytes";
	for (i = 0; i < ei->n_follow_ups; i++)
		if (ei->follow_ups[i] != NULL &&
		    strlen(ei->follow_ups[i]) > SKM_FIELD_MAX)
			return "follow-up action longer than 4096 bytes";
	return NULL;
}

/* What one end transaction needs. */
struct end_job {
	struct skm_inv *inv;         /* NULL for skm_end_id */
	const char *id;
	const struct skm_end_info *ei;
	struct end_rec rec;
};

/*
 * end_rec_make - the fields of an end that do not depend on the store:
 * when it ended, the error type (given, or exit:N / signal:NAME), the
 * duration when inv is known (else < 0: taken from the row), and the
 * follow-up actions as a JSON array built by SQLite's json_insert on
 * connection c, so that no string is escaped by hand.
 */
int
end_rec_make(sqlite3 *c, const struct skm_inv *inv,
    const struct skm_end_info *ei, struct end_rec *r)
{
	static const char sql[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3 *mem = NULL;
	sqlite3_stmt *st;
	size_t i;

	memset(r, 0, sizeof(*r));
	util_now_iso(r->ended);
	r->et = ei->error_type;
	if (r->et == NULL && ei->signal > 0) {
		snprintf(r->etbuf, sizeof(r->etbuf), "signal:%s",
		    util_signame(ei->signal));
		r->et = r->etbuf;
	} else if (r->et == NULL && ei->exit_code > 0) {
		snprintf(r->etbuf, sizeof(r->etbuf), "exit:%d", ei->exit_code);
		r->et = r->etbuf;
	}
	if (ei->duration_seconds >= 0)
		r->d = ei->duration_seconds;
	else if (inv != NULL)
		r->d = util_mono() - inv->mono_start;
	else
		r->d = -1;
	if ((r->fu = sqlite3_mprintf("[]")) == NULL)
		return SKM_NOMEM;
	if (ei->n_follow_ups == 0)
		return SKM_OK;
	/* The store may be unusable (the end goes to the spool): then the
	 * JSON is made on a private in-memory connection. */
	if (c == NULL && sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE
	    | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(c != NULL ? c : mem, sql, -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < ei->n_follow_ups; i++) {
		if (ei->follow_ups[i] == NULL)
			continue;
		sqlite3_bind_text(st, 1, r->fu, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, ei->follow_ups[i], -1, SQLITE_STATIC);
		sqlite3_free(r->fu);
		r->fu = NULL;
		if (sqlite3_step(st) == SQLITE_ROW)
			r->fu = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (r->fu == NULL)
			break;
	}
	sqlite3_finalize(st);
	sqlite3_close(mem);
	if (r->fu != NULL)
		return SKM_OK;
fail:
	sqlite3_close(mem);
	sqlite3_free(r->fu);
	r->fu = NULL;
	return SKM_NOMEM;
}

/*
 * resolve_duration - the invocation's length: given, or measured on the
 * monotonic clock from the in-memory start, or from a monotonic start
 * stored by another process of this boot, or else from the wall clock.
 */
static double
resolve_duration(const struct end_job *job, sqlite3_stmt *row)
{
	const char *boot;
	double d;

	if (job->rec.d >= 0)
		return job->rec.d;
	boot = (const char *)sqlite3_column_text(row, 3);
	if (sqlite3_column_type(row, 2) != SQLITE_NULL && boot != NULL &&
	    strcmp(boot, util_boot_id()) == 0 && boot[0] != '\0')
		d = util_mono() - sqlite3_column_double(row, 2);
	else
		d = sqlite3_column_double(row, 4);
	return d < 0 ? 0 : d;
}

static int
end_tx(struct skm_db *db, void *arg)
{
	static const char get[] =
	    "SELECT skill_name, ended_at IS NOT NULL, mono_start, boot_id, "
	    "(julianday('now') - julianday(invoked_at)) * 86400.0 "
	    "FROM skill_invocation WHERE id = ?";
	static const char upd[] =
	    "UPDATE skill_invocation SET ended_at = :ended, completed = :c, "
	    "duration_seconds = :d, error_type = :et, exit_code = :exit, "
	    "signal = :sig, follow_up_actions = :fu, user_cpu_seconds = :u, "
	    "sys_cpu_seconds = :s, max_rss_kb = :rss, "
	    /* Only a running invocation needs its monotonic start; ended,
	     * the two would be 44 bytes of every row for nothing. */
	    "mono_start = NULL, boot_id = NULL "
	    "WHERE id = :id AND ended_at IS NULL";
	struct end_job *job = arg;
	const struct skm_end_info *ei = job->ei;
	sqlite3_stmt *st;
	double d;
	int rc, src, ended_already;

	if (job->inv != NULL && !job->inv->started &&
	    (rc = insert_begin(db, job->inv)) != SKM_OK)
		return rc;
	if ((rc = store_prepare(db, get, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, job->id, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (src == SQLITE_DONE)
			return store_fail(db, SKM_NOTFOUND,
			    "no such invocation: %s", job->id);
		return store_sqlfail(db, src, "end");
	}
	ended_already = sqlite3_column_int(st, 1);
	d = resolve_duration(job, st);
	sqlite3_reset(st);
	if (ended_already)
		return store_fail(db, SKM_ENDED, "invocation %s already ended",
		    job->id);

	if ((rc = store_prepare(db, upd, &st)) != SKM_OK)
		return rc;
	bind_text(st, ":ended", job->rec.ended);
	sqlite3_bind_int(st, 2, ei->completed ? 1 : 0);
	sqlite3_bind_double(st, 3, d);
	bind_text(st, ":et", job->rec.et);
	end_bind_outcome(st, 5, ei, job->rec.fu);
	bind_text(st, ":id", job->id);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_sqlfail(db, src, "end");
	if (sqlite3_changes(db->conn) != 1)
		return store_fail(db, SKM_ENDED, "invocation %s already ended",
		    job->id);
	return agg_add(db, job->id);
}

int
skm_end_in(struct skm_db *db, struct skm_inv *inv,
    const struct skm_end_info *ei)
{
	struct skm_end_info def = SKM_END_INFO_INIT;
	struct end_job job;
	int rc;

	if (inv == NULL)
		return SKM_MISUSE;
	if (db == NULL) {
		skm_inv_free(inv);
		return SKM_MISUSE;
	}
	job.inv = inv;
	job.id = inv->id;
	job.ei = ei != NULL ? ei : &def;
	if (end_info_error(job.ei) != NULL) {
		skm_inv_free(inv);
		return store_fail(db, SKM_MISUSE, "%s", end_info_error(job.ei));
	}
	rc = store_usable(db);
	if ((rc = end_rec_make(rc == SKM_OK ? db->conn : NULL, inv, job.ei,
	    &job.rec)) != SKM_OK) {
		skm_inv_free(inv);
		return store_fail(db, rc, "end: out of memory");
	}
	if ((rc = store_usable(db)) == SKM_OK && !db->degraded) {
		rc = store_write(db, end_tx, &job);
		if (rc == SKM_BUSY)
			db->degraded = 1;
	} else if (rc == SKM_OK) {
		rc = SKM_BUSY;
	}
	/* The end event carries the begin too: it stands alone. */
	if (spool_wanted(rc) && spool_end(db, inv, job.ei, &job.rec) == SKM_OK)
		rc = SKM_OK;
	sqlite3_free(job.rec.fu);
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

static int spool_end_row(struct skm_db *, const char *,
    const struct skm_end_info *, struct end_rec *);

int
skm_end_id(struct skm_db *db, const char *id, const struct skm_end_info *ei)
{
	struct skm_end_info def = SKM_END_INFO_INIT;
	struct end_job job;
	int rc;

	if ((rc = store_usable(db)) != SKM_OK)
		return rc;
	if (id == NULL || *id == '\0')
		return store_fail(db, SKM_MISUSE, "no invocation id");
	job.inv = NULL;
	job.id = id;
	job.ei = ei != NULL ? ei : &def;
	if (end_info_error(job.ei) != NULL)
		return store_fail(db, SKM_MISUSE, "%s", end_info_error(job.ei));
	if (end_rec_make(db->conn, NULL, job.ei, &job.rec) != SKM_OK)
		return store_fail(db, SKM_NOMEM, "end: out of memory");
	rc = store_write(db, end_tx, &job);
	if (spool_wanted(rc) && spool_end_row(db, id, job.ei, &job.rec) ==
	    SKM_OK)
		rc = SKM_OK;
	sqlite3_free(job.rec.fu);
	return rc;
}

/*
 * spool_end_row - the store would not take the end of invocation id (it
 * is locked, say): read its begin row (reading needs no lock in WAL mode)
 * and spool a self-contained end event instead, so that an end by id (a
 * shimmed program that exec'd, `skm end`) is not lost either.
 */
static int
spool_end_row(struct skm_db *db, const char *id, const struct skm_end_info *ei,
    struct end_rec *r)
{
	static const char get[] =
	    "SELECT skill_name, invoked_at, workflow_path, session_id, "
	    "project_path, parent_id, command, pid, source, mono_start, "
	    "boot_id, ended_at IS NOT NULL, "
	    "(julianday('now') - julianday(invoked_at)) * 86400.0 "
	    "FROM skill_invocation WHERE id = ?";
	struct skm_inv inv;
	sqlite3_stmt *st;
	const char *boot;
	char why[sizeof(db->errmsg)];
	int rc = SKM_NOTFOUND;

	snprintf(why, sizeof(why), "%s", db->errmsg);
	if (sqlite3_prepare_v2(db->conn, get, -1, &st, NULL) != SQLITE_OK)
		return SKM_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && !sqlite3_column_int(st, 11)) {
		memset(&inv, 0, sizeof(inv));
		snprintf(inv.id, sizeof(inv.id), "%s", id);
		snprintf(inv.invoked_at, sizeof(inv.invoked_at), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		inv.skill = (char *)sqlite3_column_text(st, 0);
		inv.workflow = (char *)sqlite3_column_text(st, 2);
		inv.session = (char *)sqlite3_column_text(st, 3);
		inv.project = (char *)sqlite3_column_text(st, 4);
		inv.parent_id = (char *)sqlite3_column_text(st, 5);
		inv.command = (char *)sqlite3_column_text(st, 6);
		inv.pid = sqlite3_column_int64(st, 7);
		inv.source = (char *)sqlite3_column_text(st, 8);
		inv.mono_start = sqlite3_column_double(st, 9);
		if (r->d < 0) {
			boot = (const char *)sqlite3_column_text(st, 10);
			if (sqlite3_column_type(st, 9) != SQLITE_NULL &&
			    boot != NULL && boot[0] != '\0' &&
			    strcmp(boot, util_boot_id()) == 0)
				r->d = util_mono() - inv.mono_start;
			else
				r->d = sqlite3_column_double(st, 12);
			if (r->d < 0)
				r->d = 0;
		}
		if (inv.skill != NULL && inv.source != NULL) {
			snprintf(db->errmsg, sizeof(db->errmsg), "%s", why);
			rc = spool_end(db, &inv, ei, r);
		}
	}
	sqlite3_finalize(st);
	return rc;
}
