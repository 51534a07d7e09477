#!/usr/bin/env python3
"""reference.py - the reference design's in-process pattern, as a baseline.

The reference design (seed/000_49c0fbbedb08f936.txt, "Pattern 1: Create
Invocation + Update Metrics") tracks a skill run with Python's stdlib
sqlite3: track_invocation() inserts the invocation row in one transaction,
and its completer updates the row and the skill's aggregates (read the JSON
count maps, change them in Python, UPSERT) in a second one.  This file is
that code, kept as close to the text as it runs, so that bench/bench.c can
compare it with skm_begin + skm_end.  Its store has the tables the
reference writes as skm's schema made them before skm kept invocations in
their compact form (migration 7: skill_invocation is now a view): the
same columns and indexes (SCHEMA below, made when the file is new).

Two fixes were needed for it to run as intended, and both favour it:
`json` is imported (the text forgets), and db_transaction() issues BEGIN
IMMEDIATE (with isolation_level=None the text's commit() is a no-op and
every statement would be a transaction of its own).  Its pragmas are the
reference's own (journal_mode=WAL, busy_timeout, foreign_keys; synchronous
left at the library's default).

usage: reference.py DB PAIRS   ->  prints "<pairs per second>"
"""
import json
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime


@contextmanager
def db_transaction(conn):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.commit()
    except Exception:
        conn.rollback()
        raise


SCHEMA = """
CREATE TABLE IF NOT EXISTS skill_invocation (
  id TEXT PRIMARY KEY NOT NULL, skill_name TEXT NOT NULL,
  invoked_at TEXT NOT NULL, ended_at TEXT, workflow_path TEXT,
  session_id TEXT, project_path TEXT, parent_id TEXT,
  completed INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
  duration_seconds REAL, error_type TEXT, exit_code INTEGER, signal INTEGER,
  follow_up_actions TEXT NOT NULL DEFAULT '[]', command TEXT, host TEXT,
  pid INTEGER, user_cpu_seconds REAL, sys_cpu_seconds REAL,
  max_rss_kb INTEGER, source TEXT NOT NULL DEFAULT 'lib', mono_start REAL,
  boot_id TEXT, pid_start INTEGER);
CREATE INDEX IF NOT EXISTS skill_invocation_duration
  ON skill_invocation (skill_name, completed, duration_seconds);
CREATE INDEX IF NOT EXISTS skill_invocation_skill_time
  ON skill_invocation (skill_name, invoked_at);
CREATE INDEX IF NOT EXISTS skill_invocation_time
  ON skill_invocation (invoked_at);
CREATE INDEX IF NOT EXISTS skill_invocation_running
  ON skill_invocation (host) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS skill_metrics (
  skill_name TEXT PRIMARY KEY NOT NULL,
  total_invocations INTEGER NOT NULL DEFAULT 0,
  completed_invocations INTEGER NOT NULL DEFAULT 0,
  abandoned_invocations INTEGER NOT NULL DEFAULT 0,
  total_duration_seconds REAL NOT NULL DEFAULT 0,
  min_duration_seconds REAL, max_duration_seconds REAL,
  p50_duration_seconds REAL, p95_duration_seconds REAL,
  p99_duration_seconds REAL,
  workflow_paths TEXT NOT NULL DEFAULT '{}',
  common_errors TEXT NOT NULL DEFAULT '{}',
  follow_up_actions TEXT NOT NULL DEFAULT '{}',
  first_invoked TEXT, last_invoked TEXT,
  schema_version INTEGER NOT NULL DEFAULT 1, last_aggregated_at TEXT);
"""


class SkillMetricsStore:
    def __init__(self, db_path):
        self.conn = sqlite3.connect(db_path, check_same_thread=False,
                                    isolation_level=None)
        self.conn.execute('PRAGMA journal_mode=WAL')
        self.conn.execute('PRAGMA busy_timeout=5000')
        self.conn.execute('PRAGMA foreign_keys=ON')
        self.conn.executescript(SCHEMA)

    def track_invocation(self, skill_name, workflow_path=None,
                         session_id=None, project_path=None):
        invocation_id = str(uuid.uuid4())
        invoked_at = datetime.now().isoformat()
        with db_transaction(self.conn):
            self.conn.execute(
                """
                INSERT INTO skill_invocation (
                    id, skill_name, invoked_at, workflow_path,
                    session_id, project_path, completed
                ) VALUES (?, ?, ?, ?, ?, ?, 0)
                """,
                (invocation_id, skill_name, invoked_at, workflow_path,
                 session_id, project_path))

        def completer(*, completed=True, follow_up_actions=None,
                      error_type=None):
            invoked_dt = datetime.fromisoformat(invoked_at)
            duration_seconds = (datetime.now() - invoked_dt).total_seconds()
            with db_transaction(self.conn):
                self.conn.execute(
                    """
                    UPDATE skill_invocation
                    SET completed = ?, duration_seconds = ?,
                        follow_up_actions = ?, error_type = ?
                    WHERE id = ?
                    """,
                    (completed, duration_seconds,
                     json.dumps(follow_up_actions or []), error_type,
                     invocation_id))
                self._update_skill_metrics(skill_name, completed,
                                           duration_seconds, workflow_path,
                                           error_type, follow_up_actions)
        return invocation_id, completer

    def _update_skill_metrics(self, skill_name, completed, duration_seconds,
                              workflow_path, error_type, follow_up_actions):
        now = datetime.now().isoformat()
        row = self.conn.execute(
            "SELECT workflow_paths, common_errors, follow_up_actions "
            "FROM skill_metrics WHERE skill_name = ?",
            (skill_name,)).fetchone()
        if row:
            workflow_paths = json.loads(row[0] or '{}')
            common_errors = json.loads(row[1] or '{}')
            actions = json.loads(row[2] or '{}')
            if workflow_path:
                workflow_paths[workflow_path] = \
                    workflow_paths.get(workflow_path, 0) + 1
            if error_type:
                common_errors[error_type] = \
                    common_errors.get(error_type, 0) + 1
            for action in (follow_up_actions or []):
                actions[action] = actions.get(action, 0) + 1
        else:
            workflow_paths = {workflow_path: 1} if workflow_path else {}
            common_errors = {error_type: 1} if error_type else {}
            actions = {a: 1 for a in (follow_up_actions or [])}
        self.conn.execute(
            """
            INSERT INTO skill_metrics (
                skill_name, total_invocations, completed_invocations,
                abandoned_invocations, total_duration_seconds,
                workflow_paths, common_errors, follow_up_actions,
                first_invoked, last_invoked, schema_version
            ) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT(skill_name) DO UPDATE SET
                total_invocations = total_invocations + 1,
                completed_invocations = completed_invocations + ?,
                abandoned_invocations = abandoned_invocations + ?,
                total_duration_seconds = total_duration_seconds + ?,
                workflow_paths = ?,
                common_errors = ?,
                follow_up_actions = ?,
                last_invoked = ?
            """,
            (skill_name, 1 if completed else 0, 0 if completed else 1,
             duration_seconds if completed else 0.0,
             json.dumps(workflow_paths), json.dumps(common_errors),
             json.dumps(actions), now, now,
             1 if completed else 0, 0 if completed else 1,
             duration_seconds if completed else 0.0,
             json.dumps(workflow_paths), json.dumps(common_errors),
             json.dumps(actions), now))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: reference.py DB PAIRS")
    store = SkillMetricsStore(sys.argv[1])
    pairs = int(sys.argv[2])
    t0 = time.perf_counter()
    for _ in range(pairs):
        _, complete = store.track_invocation("b")
        complete(completed=True)
    elapsed = time.perf_counter() - t0
    print(f"{pairs / elapsed:.1f}")


if __name__ == "__main__":
    main()
