"""Tests of the Python binding (python3 -m unittest discover -s python).

The first four are the reference design's own tests (a tracked invocation,
a failed one, workflow-path aggregation, ten concurrent threads), written
against this binding; the others hold it to skm's contract: the same
documents as `skm show --json` and `skm summary --json`, the context
manager and decorator, the structures of skm.h.

Each test has a store of its own in a temporary directory.  The skm
program is $SKM_BIN, else the build tree's ../skm.
"""

import datetime
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

import skm

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SKM_BIN = os.environ.get("SKM_BIN", os.path.join(TOP, "skm"))


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "metrics.db")
        self.store = skm.SkillMetricsStore(self.path)
        self._env = os.environ.pop("SKM_INVOCATION_ID", None)

    def tearDown(self):
        self.store.close()
        self.tmp.cleanup()
        if self._env is not None:
            os.environ["SKM_INVOCATION_ID"] = self._env

    def skm(self, *args):
        """Run the skm program on this test's store; its parsed --json."""
        out = subprocess.run([SKM_BIN, "--db", self.path] + list(args),
                             check=True, stdout=subprocess.PIPE).stdout
        return json.loads(out)


class ReferenceTests(StoreTest):
    """The reference design's four tests."""

    def test_track_invocation(self):
        result = self.store.track_invocation("crackerjack-run", "daily",
                                             session_id="s1")
        time.sleep(0.02)
        result.completer(completed=True, follow_up_actions=["git commit"])

        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["skill_name"], "crackerjack-run")
        self.assertEqual(m["total_invocations"], 1)
        self.assertEqual(m["completed_invocations"], 1)
        self.assertEqual(m["abandoned_invocations"], 0)
        self.assertEqual(m["completion_rate"], 100.0)
        self.assertGreaterEqual(m["total_duration_seconds"], 0.02)
        self.assertLess(m["total_duration_seconds"], 5)
        self.assertEqual(m["avg_duration_seconds"],
                         m["total_duration_seconds"])
        self.assertEqual(m["workflow_paths"], {"daily": 1})
        self.assertEqual(m["follow_up_actions"], {"git commit": 1})
        self.assertEqual(m["common_errors"], {})
        self.assertRegex(result.invocation_id,
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-")

    def test_failed_invocation(self):
        result = self.store.track_invocation("crackerjack-run")
        result.completer(completed=False, error_type="timeout")

        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["total_invocations"], 1)
        self.assertEqual(m["completed_invocations"], 0)
        self.assertEqual(m["abandoned_invocations"], 1)
        self.assertEqual(m["completion_rate"], 0.0)
        self.assertEqual(m["common_errors"], {"timeout": 1})
        self.assertEqual(m["avg_duration_seconds"], 0)
        self.assertIsNone(m["p50_duration_seconds"])

    def test_workflow_path_aggregation(self):
        for path in ["quick", "comprehensive", "quick", None, "ci.full"]:
            self.store.track_invocation("crackerjack-run", path).completer(
                completed=True)

        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["total_invocations"], 5)
        # a key with a dot stays one key
        self.assertEqual(m["workflow_paths"],
                         {"quick": 2, "comprehensive": 1, "ci.full": 1})

    def test_concurrent_invocations(self):
        barrier = threading.Barrier(10)
        errors, handles = [], []

        def worker(i):
            try:
                barrier.wait()
                r = self.store.track_invocation("crackerjack-run",
                                                "path-%d" % (i % 3))
                time.sleep(0.01)
                r.completer(completed=i % 4 != 0,
                            follow_up_actions=["a", "b"],
                            error_type=None if i % 4 else "boom")
                handles.append(self.store._handle())
            except Exception as e:  # reported below, in the main thread
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["total_invocations"], 10)
        self.assertEqual(m["completed_invocations"], 7)
        self.assertEqual(m["abandoned_invocations"], 3)
        self.assertEqual(m["common_errors"], {"boom": 3})
        self.assertEqual(m["follow_up_actions"], {"a": 10, "b": 10})
        self.assertEqual(m["workflow_paths"],
                         {"path-0": 4, "path-1": 3, "path-2": 3})
        # every thread wrote through a handle of its own
        self.assertEqual(len(set(map(id, handles))), 10)


class ReferenceApiTests(StoreTest):
    """The rest of the reference design's API, called as its users do."""

    def test_track_invocation_concurrent(self):
        results = []

        def worker(i):
            results.append(self.store.track_invocation_concurrent(
                "crackerjack-run", "daily", "s%d" % (i % 2)))

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            r.completer(completed=True)
        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["total_invocations"], 4)
        self.assertEqual(m["workflow_paths"], {"daily": 4})
        self.assertEqual(len({r.invocation_id for r in results}), 4)

    def test_bulk_import_invocations(self):
        now = datetime.datetime(2026, 11, 30, 12, 0, 0, 123456)
        invs = [{"id": "bulk-%d" % i, "skill_name": "crackerjack-run",
                 "invoked_at": (now - datetime.timedelta(hours=i)).isoformat(),
                 "workflow_path": "quick" if i % 2 else "daily",
                 "completed": i % 5 != 0, "duration_seconds": 1.0 + i,
                 "follow_up_actions": ["git commit"]} for i in range(10)]
        # a datetime as invoked_at, as the reference design makes them
        invs.append({"id": "bulk-dt", "skill_name": "crackerjack-run",
                     "invoked_at": now, "completed": True,
                     "duration_seconds": 0.5})
        self.assertEqual(self.store.bulk_import_invocations(invs),
                         {"records": 11, "inserted": 11, "skipped": 0,
                          "skills": 1})
        m = self.store.get_skill_metrics("crackerjack-run")
        self.assertEqual(m["total_invocations"], 11)
        self.assertEqual(m["completed_invocations"], 9)
        self.assertEqual(m["workflow_paths"], {"daily": 5, "quick": 5})
        self.assertEqual(m["follow_up_actions"], {"git commit": 10})
        self.assertEqual(m["last_invoked"], "2026-11-30T12:00:00.123Z")
        self.assertEqual(m, self.skm("show", "crackerjack-run", "--json"))
        # again: nothing new
        self.assertEqual(self.store.bulk_import_invocations(invs)["skipped"],
                         11)
        self.assertEqual(self.store.bulk_import_invocations([])["records"], 0)
        # one bad record and nothing is imported
        bad = [{"id": "new-1", "skill_name": "other",
                "invoked_at": "2026-11-30T10:00:00", "completed": True,
                "duration_seconds": 1},
               {"id": "new-2", "skill_name": "other",
                "invoked_at": "yesterday", "completed": True,
                "duration_seconds": 1}]
        with self.assertRaises(skm.SkmError) as cm:
            self.store.bulk_import_invocations(bad)
        self.assertEqual(cm.exception.code, skm.SKM_FORMAT)
        self.assertIn("line 2", str(cm.exception))
        self.assertIsNone(self.store.get_skill_metrics("other"))

    def test_timeline_takes_the_reference_time_window(self):
        self.store.track_invocation("lint").completer(completed=True)
        days = self.store.get_skill_timeline("lint", "7 days")
        self.assertEqual(days, self.store.get_skill_timeline("lint", "7d"))
        self.assertEqual(len(days), 8)
        self.assertEqual(sum(d["invocations"] for d in days), 1)
        hours = self.store.get_skill_timeline("lint", time_window="1 hour",
                                              bucket="hour")
        self.assertEqual(hours, self.skm("timeline", "lint", "--since",
                                         "1h", "--bucket", "hour", "--json"))
        with self.assertRaises(skm.SkmError):
            self.store.get_skill_timeline("lint", "7 fortnights")


class ContractTests(StoreTest):
    def record_some(self):
        r = self.store.track_invocation("lint", "quick", "sess")
        r.completer(completed=True, follow_up_actions=["fix", "fix"])
        r = self.store.track_invocation("lint", "full", "sess")
        r(completed=False, error_type='exit:"2"')
        self.store.track_invocation("test", "unit").completer()

    def test_same_documents_as_the_cli(self):
        self.record_some()
        self.assertEqual(self.store.get_skill_metrics("lint"),
                         self.skm("show", "lint", "--json"))
        self.assertEqual(self.store.get_summary(),
                         self.skm("summary", "--json"))
        self.assertEqual(self.store.get_all_skill_metrics(),
                         self.skm("stats", "--json"))
        self.assertEqual(self.store.get_errors(),
                         self.skm("errors", "--json"))
        self.assertEqual(self.store.get_session("sess"),
                         self.skm("session", "sess", "--json"))
        self.assertEqual(self.store.search_workflow_paths("quick"),
                         self.skm("search", "quick", "--json"))
        self.assertEqual(
            self.store.get_skill_timeline("lint", since="2h", bucket="hour"),
            self.skm("timeline", "lint", "--since", "2h", "--bucket", "hour",
                     "--json"))
        recent = self.store.get_recent(failed=True)
        self.assertEqual(recent, self.skm("recent", "--failed", "--json"))
        self.assertEqual([r["error_type"] for r in recent], ['exit:"2"'])

    def test_summary_keys_are_the_reference_ones_and_more(self):
        s = self.store.get_summary()
        for k in ["total_skills", "total_invocations",
                  "overall_completion_rate", "most_used_skill",
                  "most_used_count", "avg_duration_seconds"]:
            self.assertIn(k, s)
        self.assertEqual(s["total_invocations"], 0)
        self.record_some()
        s = self.store.get_summary()
        self.assertEqual((s["total_skills"], s["total_invocations"],
                          s["most_used_skill"], s["most_used_count"]),
                         (2, 3, "lint", 2))

    def test_unknown_skill_is_none(self):
        self.assertIsNone(self.store.get_skill_metrics("never-ran"))

    def test_completer_once(self):
        r = self.store.track_invocation("once")
        r.completer()
        with self.assertRaises(skm.SkmError) as cm:
            r.completer()
        self.assertEqual(cm.exception.code, skm.SKM_ENDED)
        self.assertEqual(
            self.store.get_skill_metrics("once")["total_invocations"], 1)

    def test_bad_input_raises(self):
        for bad in ["", "x" * 257, "tab\there"]:
            with self.assertRaises(skm.SkmError) as cm:
                self.store.track_invocation(bad)
            self.assertEqual(cm.exception.code, skm.SKM_MISUSE)
        with self.assertRaises(skm.SkmError) as cm:
            self.store.track_invocation("ok", workflow_path="w" * 5000)
        self.assertIn("4096", str(cm.exception))
        with self.assertRaises(skm.SkmError):
            skm.SkillMetricsStore(self.tmp.name)   # a directory

    def test_context_manager(self):
        with self.store.invocation("ctx", "w") as inv:
            inv.follow_up_actions.append("next")
        with self.assertRaises(KeyError):
            with self.store.invocation("ctx"):
                {}["missing"]
        with self.assertRaises(json.JSONDecodeError):
            with self.store.invocation("ctx"):
                json.loads("{")
        with self.store.invocation("ctx") as inv:
            inv.fail("soft-failure")

        m = self.store.get_skill_metrics("ctx")
        self.assertEqual(m["total_invocations"], 4)
        self.assertEqual(m["completed_invocations"], 1)
        self.assertEqual(m["common_errors"],
                         {"KeyError": 1, "json.decoder.JSONDecodeError": 1,
                          "soft-failure": 1})
        self.assertEqual(m["follow_up_actions"], {"next": 1})

    def test_decorator(self):
        @self.store.track
        def build(x):
            return x * 2

        @self.store.track("deploy", workflow_path="prod")
        def push():
            raise RuntimeError("no network")

        self.assertEqual(build(21), 42)
        self.assertEqual(build.__name__, "build")
        with self.assertRaises(RuntimeError):
            push()
        self.assertEqual(
            self.store.get_skill_metrics("build")["completed_invocations"], 1)
        d = self.store.get_skill_metrics("deploy")
        self.assertEqual((d["abandoned_invocations"], d["common_errors"],
                          d["workflow_paths"]),
                         (1, {"RuntimeError": 1}, {"prod": 1}))

    def test_parent_from_the_environment(self):
        outer = self.store.track_invocation("outer")
        os.environ["SKM_INVOCATION_ID"] = outer.invocation_id
        try:
            inner = self.store.track_invocation("inner")
        finally:
            del os.environ["SKM_INVOCATION_ID"]
        inner.completer()
        outer.completer()
        self.store.get_summary()    # a query applies what waits to be
        db = sqlite3.connect(self.path)
        rows = dict(db.execute(
            "SELECT skill_name, parent_id FROM skill_invocation"))
        db.close()
        self.assertEqual(rows, {"outer": None,
                                "inner": outer.invocation_id})

    def test_end_session_updates_persists_percentiles(self):
        self.record_some()
        self.assertEqual(self.store.end_session_updates("sess"), 1)
        with self.assertRaises(skm.SkmError) as cm:
            self.store.end_session_updates("no-such-session")
        self.assertEqual(cm.exception.code, skm.SKM_NOTFOUND)

    def test_a_store_that_fails_warns_and_the_block_runs(self):
        # A new thread opens a handle of its own: make that open fail by
        # putting a directory where the store was.
        for side in ("", "-wal", "-shm"):
            if os.path.exists(self.path + side):
                os.rename(self.path + side, self.path + side + ".moved")
        os.mkdir(self.path)
        ran, caught = [], []

        def block():
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                with self.store.invocation("x"):
                    ran.append(1)
            caught.extend(x.category for x in w)

        t = threading.Thread(target=block)
        t.start()
        t.join()
        self.assertEqual(ran, [1])
        self.assertIn(skm.SkmWarning, caught)
        with self.assertRaises(skm.SkmError) as cm:
            skm.SkillMetricsStore(self.path)
        self.assertEqual(cm.exception.code, skm.SKM_CANTOPEN)

    def test_fork_child_records_through_a_handle_of_its_own(self):
        self.store.track_invocation("parent").completer()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self.store.track_invocation("child").completer()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.store.track_invocation("parent").completer()
        s = self.store.get_summary()
        self.assertEqual((s["total_invocations"], s["most_used_skill"]),
                         (3, "parent"))

    def test_default_path_is_skm_db(self):
        old = os.environ.get("SKM_DB")
        os.environ["SKM_DB"] = os.path.join(self.tmp.name, "env.db")
        try:
            with skm.SkillMetricsStore() as st:
                self.assertEqual(st.path, os.environ["SKM_DB"])
        finally:
            if old is None:
                del os.environ["SKM_DB"]
            else:
                os.environ["SKM_DB"] = old


class HeaderTests(unittest.TestCase):
    """The ctypes structures have the fields of skm.h, in order."""

    def fields(self, header, name):
        body = re.search(r"struct %s \{(.*?)\};" % name, header, re.S)
        self.assertIsNotNone(body, name)
        text = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
        return [re.search(r"(\w+)\s*(\[.*\])?\s*$", d.strip()).group(1)
                for d in text.split(";") if d.strip()]

    def test_structures_match_the_header(self):
        path = os.path.join(TOP, "lib", "skm.h")
        if not os.path.exists(path):
            self.skipTest("no lib/skm.h (not the build tree)")
        with open(path) as f:
            header = f.read()
        for cname, py in [("skm_begin_info", skm._BeginInfo),
                          ("skm_end_info", skm._EndInfo),
                          ("skm_query_args", skm._QueryArgs),
                          ("skm_import_result", skm._ImportResult)]:
            self.assertEqual(self.fields(header, cname),
                             [f[0] for f in py._fields_], cname)

    def test_library_version_is_the_header_one(self):
        path = os.path.join(TOP, "lib", "skm.h")
        if not os.path.exists(path):
            self.skipTest("no lib/skm.h (not the build tree)")
        with open(path) as f:
            v = re.search(r'#define SKM_VERSION "(.*)"', f.read()).group(1)
        self.assertEqual(skm.library_version(), v)


if __name__ == "__main__":
    unittest.main()
