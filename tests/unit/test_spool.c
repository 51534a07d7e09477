/*
 * test_spool.c - nothing is lost when the store cannot take a write: the
 * events go to the spool, the next write applies them exactly once (also
 * after a crash between its COMMIT and the removal of the spool file),
 * torn lines are skipped without harming their neighbours, and events of
 * many processes interleave whole.
 */
#include <sys/wait.h>
#include "unit.h"

/* Hold the store's write lock from another connection. */
static sqlite3 *
hold_lock(const char *p)
{
	sqlite3 *c;

	sqlite3_open(p, &c);
	if (sqlite3_exec(c, "BEGIN IMMEDIATE", 0, 0, 0) != SQLITE_OK)
		printf("# could not take the lock\n");
	return c;
}

static void
run_once(struct skm_db *db, const char *skill, double d)
{
	struct skm_begin_info bi = { .skill = skill, .workflow = "w.x" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	static const char *const fu[] = { "a\"b" };
	struct skm_inv *inv;

	CHECK_INT(skm_begin(db, &bi, &inv), SKM_OK);
	ei.completed = 1;
	ei.duration_seconds = d;
	ei.follow_ups = fu;
	ei.n_follow_ups = 1;
	CHECK_INT(skm_end(inv, &ei), SKM_OK);
}

static void
locked_store_spools_and_next_write_drains(void)
{
	const char *p = unit_path("m.db");
	struct skm_db *db, *db2;
	const char *why;
	sqlite3 *lock;
	char *s;
	int n = -1;

	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	lock = hold_lock(p);
	setenv("SKM_BUSY_TIMEOUT_MS", "200", 1);
	CHECK_INT(skm_open(p, 0, &db2), SKM_OK);
	unsetenv("SKM_BUSY_TIMEOUT_MS");
	run_once(db2, "spooled", 1.5);
	CHECK_INT(skm_spooled(db2, &why), 2);
	CHECK(strstr(why, "locked") != NULL);
	skm_close(db2);
	sqlite3_exec(lock, "COMMIT", 0, 0, 0);
	sqlite3_close(lock);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation"), 0);
	/* the next write of anyone drains it, in the same transaction */
	run_once(db, "other", 2);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics WHERE skill_name = 'spooled'"), 1);
	CHECK_INT(unit_sql_int(p, "SELECT count(*) FROM skill_invocation"), 2);
	s = unit_sql(p, "SELECT duration_seconds || ' ' || follow_up_actions "
	    "FROM skill_invocation WHERE skill_name = 'spooled'");
	CHECK_STR(s, "1.5 [\"a\\\"b\"]");
	free(s);
	CHECK_INT(skm_drain(db, &n), SKM_OK);
	CHECK_INT(n, 0);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

static void
drain_after_a_crash_before_unlink_counts_once(void)
{
	const char *p = unit_path("m.db");
	char cmd[1024];
	struct skm_db *db, *db2;
	sqlite3 *lock;
	int n = -1;

	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	lock = hold_lock(p);
	setenv("SKM_BUSY_TIMEOUT_MS", "50", 1);
	skm_open(p, 0, &db2);
	unsetenv("SKM_BUSY_TIMEOUT_MS");
	run_once(db2, "s", 1);
	run_once(db2, "s", 2);
	skm_close(db2);
	sqlite3_exec(lock, "COMMIT", 0, 0, 0);
	sqlite3_close(lock);
	snprintf(cmd, sizeof(cmd), "cp %s.spool/events.jsonl %s/saved", p,
	    unit_dir);
	CHECK(system(cmd) == 0);
	CHECK_INT(skm_drain(db, &n), SKM_OK);
	CHECK_INT(n, 4);
	/* as if a drainer had committed and died before removing its file */
	snprintf(cmd, sizeof(cmd), "cp %s/saved %s.spool/draining-x.jsonl",
	    unit_dir, p);
	CHECK(system(cmd) == 0);
	CHECK_INT(skm_drain(db, &n), SKM_OK);
	CHECK_INT(n, 0);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics"), 2);
	CHECK_INT(unit_sql_int(p, "SELECT value FROM skill_metrics, "
	    "json_each(follow_up_actions) WHERE key = 'a\"b'"), 2);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls %s.spool)\"", p);
	CHECK(system(cmd) == 0);
	skm_close(db);
}

static int notes;

static void
count_note(void *arg, const char *msg)
{
	(void)arg;
	if (strncmp(msg, "note: ", 6) == 0 && strstr(msg, "events wait") != NULL)
		notes++;
	else
		printf("# check: %s\n", msg);
}

static void
torn_line_is_skipped_and_neighbours_kept(void)
{
	char p[512];
	char cmd[1024];
	struct skm_db *db, *bad;
	FILE *f;
	int n = -1;

	snprintf(p, sizeof(p), "%s", unit_path("m.db"));
	/* events spooled because the path holds no store yet: a garbage
	 * file makes every write go to the spool */
	f = fopen(unit_path("bad.db"), "w");
	fputs("this is not a database, not even close........", f);
	fclose(f);
	skm_open(unit_path("bad.db"), 0, &bad);
	run_once(bad, "t", 1);
	CHECK_INT(skm_spooled(bad, NULL), 2);
	/* a torn write (disk full) in the middle, then one more event */
	snprintf(cmd, sizeof(cmd), "printf '\\n{\"ev\":\"end\",\"id\":\"01' >> "
	    "%s.spool/events.jsonl", unit_path("bad.db"));
	CHECK(system(cmd) == 0);
	run_once(bad, "t", 2);
	skm_close(bad);
	/* move the spool beside a good store and drain it there */
	CHECK_INT(skm_open(p, 0, &db), SKM_OK);
	snprintf(cmd, sizeof(cmd), "mv %s/bad.db.spool %s.spool", unit_dir, p);
	CHECK(system(cmd) == 0);
	/* waiting events are a note of skm_check, not a problem */
	notes = 0;
	CHECK_INT(skm_check(db, count_note, &notes), SKM_OK);
	CHECK_INT(notes, 1);
	CHECK_INT(skm_drain(db, &n), SKM_OK);
	CHECK_INT(n, 4);
	CHECK_INT(unit_sql_int(p, "SELECT total_invocations FROM "
	    "skill_metrics WHERE skill_name = 't'"), 2);
	CHECK_INT(skm_check(db, NULL, NULL), SKM_OK);
	skm_close(db);
}

static void
many_processes_spool_whole_lines(void)
{
	const char *bad = unit_path("bad.db");
	char sql[1024];
	struct skm_db *db;
	FILE *f;
	int i, j, status, ok = 1;
	pid_t pid;

	f = fopen(bad, "w");
	fputs("garbage garbage garbage garbage garbage garbage garbage", f);
	fclose(f);
	for (i = 0; i < 8; i++) {
		if ((pid = fork()) == 0) {
			skm_open(bad, 0, &db);
			for (j = 0; j < 100; j++)
				run_once(db, "many", j);
			skm_close(db);
			_exit(unit_cur);
		}
	}
	for (i = 0; i < 8; i++) {
		wait(&status);
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK(ok);
	/* 8 x 100 x (begin + end), each a JSON object on a line of its own:
	 * no line holds anything but one whole object */
	snprintf(sql, sizeof(sql), "test $(grep -c '^{\"ev\"' "
	    "%.200s.spool/events.jsonl) -eq 1600 && test $(grep -vc "
	    "'^\\(\\|{\"ev\".*}\\)$' %.200s.spool/events.jsonl) -eq 0",
	    bad, bad);
	CHECK(system(sql) == 0);
}

int
main(void)
{
	RUN(locked_store_spools_and_next_write_drains);
	RUN(drain_after_a_crash_before_unlink_counts_once);
	RUN(torn_line_is_skipped_and_neighbours_kept);
	RUN(many_processes_spool_whole_lines);
	return unit_done();
}
