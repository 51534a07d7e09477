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
	if (bi == NULL || bi->skill == NULL || bi->skill[0] == '\0' ||
	    strlen(bi->skill) > SKM_NAME_MAX)
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
	inv->command = dup_or_null(bi->command, &bad);
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

int
skm_inv_start(struct skm_db *db, struct skm_inv *inv)
{
	int rc;

	if (inv == NULL)
		return SKM_MISUSE;
	inv->db = db;
	if ((rc = store_usable(db)) != SKM_OK)
		return rc;
	if ((rc = store_write(db, insert_begin, inv)) == SKM_OK)
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
			store_fail(db, rc, "invalid skill name (1 to %d bytes)",
			    SKM_NAME_MAX);
		return rc;
	}
	if ((rc = skm_inv_start(db, inv)) != SKM_OK) {
		skm_inv_free(inv);
		return rc;
	}
	*out = inv;
	return SKM_OK;
}

/* What one end transaction needs. */
struct end_job {
	struct skm_inv *inv;         /* NULL for skm_end_id */
	const char *id;
	const struct skm_end_info *ei;
};

/*
 * follow_ups_json - the actions as a JSON array, built by SQLite's
 * json_insert so that no string is escaped by hand.  Returns a
 * sqlite3_malloc'd string or NULL.
 */
static char *
follow_ups_json(struct skm_db *db, const struct skm_end_info *ei)
{
	static const char sql[] = "SELECT json_insert(?1, '$[#]', ?2)";
	char *acc = sqlite3_mprintf("[]");
	sqlite3_stmt *st;
	size_t i;

	if (acc == NULL || store_prepare(db, sql, &st) != SKM_OK) {
		sqlite3_free(acc);
		return NULL;
	}
	for (i = 0; i < ei->n_follow_ups; i++) {
		if (ei->follow_ups[i] == NULL)
			continue;
		sqlite3_bind_text(st, 1, acc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, ei->follow_ups[i], -1, SQLITE_STATIC);
		sqlite3_free(acc);
		acc = NULL;
		if (sqlite3_step(st) == SQLITE_ROW)
			acc = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (acc == NULL)
			return NULL;
	}
	return acc;
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

	if (job->ei->duration_seconds >= 0)
		return job->ei->duration_seconds;
	if (job->inv != NULL)
		return util_mono() - job->inv->mono_start;
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
	    "sys_cpu_seconds = :s, max_rss_kb = :rss "
	    "WHERE id = :id AND ended_at IS NULL";
	struct end_job *job = arg;
	const struct skm_end_info *ei = job->ei;
	sqlite3_stmt *st;
	char ended[32], etbuf[64], *fu;
	const char *et;
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

	et = ei->error_type;
	if (et == NULL && ei->signal > 0) {
		snprintf(etbuf, sizeof(etbuf), "signal:%s",
		    util_signame(ei->signal));
		et = etbuf;
	} else if (et == NULL && ei->exit_code > 0) {
		snprintf(etbuf, sizeof(etbuf), "exit:%d", ei->exit_code);
		et = etbuf;
	}
	if ((fu = follow_ups_json(db, ei)) == NULL)
		return store_fail(db, SKM_NOMEM, "end: follow-up actions");
	util_now_iso(ended);
	if ((rc = store_prepare(db, upd, &st)) != SKM_OK) {
		sqlite3_free(fu);
		return rc;
	}
	bind_text(st, ":ended", ended);
	sqlite3_bind_int(st, 2, ei->completed ? 1 : 0);
	sqlite3_bind_double(st, 3, d);
	bind_text(st, ":et", et);
	if (ei->exit_code >= 0)
		sqlite3_bind_int(st, 5, ei->exit_code);
	if (ei->signal > 0)
		sqlite3_bind_int(st, 6, ei->signal);
	bind_text(st, ":fu", fu);
	if (ei->rusage != NULL) {
		const struct rusage *ru = ei->rusage;
		sqlite3_bind_double(st, 8, (double)ru->ru_utime.tv_sec +
		    (double)ru->ru_utime.tv_usec / 1e6);
		sqlite3_bind_double(st, 9, (double)ru->ru_stime.tv_sec +
		    (double)ru->ru_stime.tv_usec / 1e6);
		sqlite3_bind_int64(st, 10, ru->ru_maxrss);
	}
	bind_text(st, ":id", job->id);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_free(fu);
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
	if ((rc = store_usable(db)) == SKM_OK) {
		job.inv = inv;
		job.id = inv->id;
		job.ei = ei != NULL ? ei : &def;
		rc = store_write(db, end_tx, &job);
	}
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
	return store_write(db, end_tx, &job);
}
