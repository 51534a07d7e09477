"""skm - record runs of skills and read their metrics, from Python.

A binding of libskm (ctypes over libskm.so.0, standard library only) with
the reference design's API, so that its users switch with one import:

    from skm import SkillMetricsStore

    store = SkillMetricsStore()                 # or SkillMetricsStore(path)
    result = store.track_invocation("crackerjack-run", workflow_path="daily")
    ...                                         # the skill's work
    result.completer(completed=True, follow_up_actions=["git commit"])

    store.get_skill_metrics("crackerjack-run")  # dict: the keys of skm show --json
    store.get_summary()                         # dict: the keys of skm summary --json

The object track_invocation() returns is also callable as the completer
itself: done = store.track_invocation(...); done(completed=False,
error_type="timeout").  Two more ways to record, which turn an exception
into a failed run with its class as the error type (and re-raise it):

    with store.invocation("lint", workflow_path="quick") as inv:
        inv.follow_up_actions.append("fix")
        ...

    @store.track("deploy")
    def deploy(): ...

The reference's track_invocation_concurrent(), bulk_import_invocations()
and get_skill_timeline(name, "7 days") work as its users call them.

The store is the one `skm` and `skm-run` use: path, else $SKM_DB, else
$XDG_DATA_HOME/skm/metrics.db.  Durations come from CLOCK_MONOTONIC,
inside libskm.  One store object may be used from many threads: each
thread gets its own handle on the store (libskm's handles are one per
thread), the store's lock serialises the writes, and the foreign calls
run without the GIL.  After os.fork() the child opens fresh handles.

libskm is looked up in this order: $SKM_LIBRARY (a path); the LIBDIR it
was installed to (set by `make install`); libskm.so.0 beside this file's
directory (the build tree: PYTHONPATH=python); then the dynamic linker's
own search (LD_LIBRARY_PATH, ld.so.conf).
"""

import ctypes
import functools
import json
import os
import re
import threading
import warnings
import weakref

__all__ = [
    "SkillMetricsStore",
    "SkillInvocationResult",
    "Invocation",
    "SkmError",
    "SkmWarning",
    "library_version",
]

# Set by `make install` to the directory libskm.so.0 was installed in.
_LIBDIR = None

# Status codes of skm.h.
SKM_OK = 0
SKM_ERROR = 1
SKM_MISUSE = 2
SKM_NOMEM = 3
SKM_BUSY = 4
SKM_READONLY = 5
SKM_CORRUPT = 6
SKM_NEWER = 7
SKM_NOTFOUND = 8
SKM_ENDED = 9
SKM_CANTOPEN = 10
SKM_FULL = 11
SKM_IOERR = 12
SKM_CHECK = 13
SKM_FORMAT = 14

# enum skm_query of skm.h.
_Q_STATS = 1
_Q_SHOW = 2
_Q_SUMMARY = 3
_Q_RECENT = 4
_Q_TIMELINE = 5
_Q_SEARCH = 6
_Q_ERRORS = 7
_Q_SESSION = 8


class SkmError(Exception):
    """A libskm call failed: .code is the SKM_* status, str() the message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class SkmWarning(UserWarning):
    """Recording failed inside invocation() or track(): the code ran."""


# The structures of skm.h, field for field (tests compare the names with
# the header).
class _BeginInfo(ctypes.Structure):
    _fields_ = [
        ("skill", ctypes.c_char_p),
        ("workflow", ctypes.c_char_p),
        ("session", ctypes.c_char_p),
        ("project", ctypes.c_char_p),
        ("parent_id", ctypes.c_char_p),
        ("command", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
        ("pid", ctypes.c_longlong),
    ]


class _EndInfo(ctypes.Structure):
    _fields_ = [
        ("completed", ctypes.c_int),
        ("exit_code", ctypes.c_int),
        ("signal", ctypes.c_int),
        ("error_type", ctypes.c_char_p),
        ("follow_ups", ctypes.POINTER(ctypes.c_char_p)),
        ("n_follow_ups", ctypes.c_size_t),
        ("rusage", ctypes.c_void_p),
        ("duration_seconds", ctypes.c_double),
    ]


class _ImportResult(ctypes.Structure):
    _fields_ = [
        ("records", ctypes.c_longlong),
        ("inserted", ctypes.c_longlong),
        ("skipped", ctypes.c_longlong),
        ("skills", ctypes.c_longlong),
    ]


class _QueryArgs(ctypes.Structure):
    _fields_ = [
        ("skill", ctypes.c_char_p),
        ("session", ctypes.c_char_p),
        ("text", ctypes.c_char_p),
        ("since", ctypes.c_char_p),
        ("bucket", ctypes.c_char_p),
        ("limit", ctypes.c_long),
        ("failed", ctypes.c_int),
        ("until", ctypes.c_char_p),
        ("hosts", ctypes.POINTER(ctypes.c_char_p)),
        ("nhosts", ctypes.c_int),
    ]


def _candidates():
    env = os.environ.get("SKM_LIBRARY")
    if env:
        yield env
        return
    if _LIBDIR:
        yield os.path.join(_LIBDIR, "libskm.so.0")
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(os.path.dirname(here), "libskm.so.0")
    yield "libskm.so.0"


def _load():
    errors = []
    for cand in _candidates():
        if os.sep in cand and not os.path.exists(cand):
            continue
        try:
            return ctypes.CDLL(cand)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("skm: cannot load libskm.so.0 (set SKM_LIBRARY, or "
                      "LD_LIBRARY_PATH to its directory): "
                      + "; ".join(errors or ["not found"]))


_lib = _load()


def _proto(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_p = ctypes.c_void_p
_skm_open = _proto("skm_open", ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                   ctypes.POINTER(_p))
_skm_close = _proto("skm_close", None, _p)
_skm_errmsg = _proto("skm_errmsg", ctypes.c_char_p, _p)
_skm_errstr = _proto("skm_errstr", ctypes.c_char_p, ctypes.c_int)
_skm_path = _proto("skm_path", ctypes.c_char_p, _p)
_skm_inv_create = _proto("skm_inv_create", ctypes.c_int,
                         ctypes.POINTER(_BeginInfo), ctypes.POINTER(_p))
_skm_inv_start = _proto("skm_inv_start", ctypes.c_int, _p, _p)
_skm_inv_id = _proto("skm_inv_id", ctypes.c_char_p, _p)
_skm_inv_free = _proto("skm_inv_free", None, _p)
_skm_end_in = _proto("skm_end_in", ctypes.c_int, _p, _p,
                     ctypes.POINTER(_EndInfo))
_skm_query_json = _proto("skm_query_json", ctypes.c_int, _p, ctypes.c_int,
                         ctypes.POINTER(_QueryArgs),
                         ctypes.POINTER(ctypes.c_void_p))
_skm_free = _proto("skm_free", None, _p)
_skm_end_session = _proto("skm_end_session", ctypes.c_int, _p,
                          ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
_skm_import = _proto("skm_import", ctypes.c_int, _p, _p,
                     ctypes.POINTER(_ImportResult))
_skm_libversion = _proto("skm_libversion", ctypes.c_char_p)

# stdio from the C library the process already has, for skm_import()'s
# FILE *: a memory buffer read as a stream.
_libc = ctypes.CDLL(None, use_errno=True)
_fmemopen = _libc.fmemopen
_fmemopen.restype = _p
_fmemopen.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
_fclose = _libc.fclose
_fclose.restype = ctypes.c_int
_fclose.argtypes = [_p]

# The reference design's time windows ("7 days", "1 hour") in skm's
# duration syntax ("7d", "1h").
_WINDOW = re.compile(r"\s*(\d+)\s*(minute|hour|day|week)s?\s*\Z", re.I)
_UNIT = {"minute": "m", "hour": "h", "day": "d", "week": "w"}


def _json_default(v):
    """A datetime (the reference design's invoked_at) as ISO 8601."""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _window(since):
    m = _WINDOW.match(since) if isinstance(since, str) else None
    if m is None:
        return since
    return m.group(1) + _UNIT[m.group(2).lower()]
_skm_begin_info_error = _proto("skm_begin_info_error", ctypes.c_char_p,
                               ctypes.POINTER(_BeginInfo))


def library_version():
    """The version of the libskm loaded ("0.1.0")."""
    return _skm_libversion().decode()


def _b(s):
    """A str, bytes or path (or None) as the bytes libskm takes."""
    if s is None:
        return None
    if isinstance(s, os.PathLike):
        s = os.fspath(s)
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8", "surrogateescape")


class _Handle:
    """One libskm store handle, used by one thread of one process."""

    def __init__(self, path):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        db = _p()
        rc = _skm_open(_b(path), 0, ctypes.byref(db))
        if db.value is None:
            raise SkmError(rc, "skm: " + _skm_errstr(rc).decode())
        self.db = db
        if rc != SKM_OK:
            msg = self.errmsg()
            self.close()
            raise SkmError(rc, msg)

    def errmsg(self):
        return _skm_errmsg(self.db).decode("utf-8", "replace")

    def close(self):
        with self.lock:
            # A handle inherited through fork() is the parent's: the
            # child never touches it (SQLite forbids it), it only drops it.
            if self.db is not None and self.pid == os.getpid():
                _skm_close(self.db)
            self.db = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class SkillInvocationResult:
    """What track_invocation() returns: .invocation_id and .completer.

    Calling the result itself is the same as calling its completer.  A
    completer called a second time raises SkmError (SKM_ENDED).  A result
    dropped without being completed leaves its invocation running, as a
    crashed run does (`skm reap` ends those).
    """

    def __init__(self, store, inv, invocation_id):
        self._store = store
        self._inv = inv
        self._lock = threading.Lock()
        self.invocation_id = invocation_id

    def completer(self, *, completed=True, follow_up_actions=None,
                  error_type=None, exit_code=None, duration_seconds=None):
        """End the invocation: whether it completed, the follow-up actions
        taken after it, its error type if it failed.  exit_code (an int)
        and duration_seconds (instead of the measured one) are optional."""
        with self._lock:
            inv, self._inv = self._inv, None
        if inv is None:
            raise SkmError(SKM_ENDED, "skm: invocation %s already ended"
                           % self.invocation_id)
        actions = [_b(a) for a in (follow_up_actions or [])]
        arr = (ctypes.c_char_p * max(len(actions), 1))(*actions)
        ei = _EndInfo(completed=1 if completed else 0,
                      exit_code=-1 if exit_code is None else int(exit_code),
                      signal=0, error_type=_b(error_type),
                      follow_ups=arr, n_follow_ups=len(actions),
                      rusage=None,
                      duration_seconds=-1.0 if duration_seconds is None
                      else float(duration_seconds))
        # skm_end_in: the thread ending it may not be the one that began
        # it, and each thread writes through its own handle.  It frees inv
        # whatever happens.
        h = self._store._handle()
        rc = _skm_end_in(h.db, inv, ctypes.byref(ei))
        if rc != SKM_OK:
            raise SkmError(rc, h.errmsg())

    __call__ = completer

    def __del__(self):
        inv, self._inv = getattr(self, "_inv", None), None
        if inv is not None and _skm_inv_free is not None:
            _skm_inv_free(inv)

    def __repr__(self):
        return "SkillInvocationResult(invocation_id=%r)" % self.invocation_id


def _error_type(exc_type):
    """The error type recorded for an exception: its class name, with its
    module for classes that are not built in ("ValueError",
    "json.decoder.JSONDecodeError")."""
    mod = getattr(exc_type, "__module__", None)
    name = getattr(exc_type, "__qualname__", exc_type.__name__)
    if mod in (None, "builtins", "__main__"):
        return name
    return mod + "." + name


class Invocation:
    """The object `with store.invocation(...)` gives: .invocation_id,
    .follow_up_actions (a list to append to), and fail(error_type) to end
    the run as not completed without raising."""

    def __init__(self, result):
        self._result = result
        self.invocation_id = result.invocation_id if result else None
        self.follow_up_actions = []
        self.error_type = None
        self.completed = True

    def fail(self, error_type=None):
        self.completed = False
        self.error_type = error_type


class SkillMetricsStore:
    """The skm store at path (None: $SKM_DB, else the default path),
    created if it does not exist.  Raises SkmError if it cannot be opened.
    """

    def __init__(self, path=None):
        self._path = None if path is None else os.fspath(path)
        self._local = threading.local()
        self._handles = weakref.WeakSet()
        self._handles_lock = threading.Lock()
        self._closed = False
        h = self._handle()
        self.path = _skm_path(h.db).decode("utf-8", "surrogateescape")

    def _handle(self):
        """This thread's handle, opened on first use (again after fork)."""
        if self._closed:
            raise SkmError(SKM_MISUSE, "skm: the store is closed")
        h = getattr(self._local, "h", None)
        if h is None or h.pid != os.getpid() or h.db is None:
            h = _Handle(self._path)
            self._local.h = h
            with self._handles_lock:
                self._handles.add(h)
        return h

    def close(self):
        """Close every thread's handle; call it when no thread uses the
        store any more."""
        self._closed = True
        with self._handles_lock:
            handles = list(self._handles)
        for h in handles:
            h.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # Recording.

    def track_invocation(self, skill_name, workflow_path=None,
                         session_id=None, project_path=None, parent_id=None):
        """Record the begin of a run of skill_name and return its
        SkillInvocationResult, whose completer records the end.

        parent_id (None: $SKM_INVOCATION_ID, as skm-run sets it for the
        programs it runs) links the run to the one it is part of.
        Raises SkmError: SKM_MISUSE for a bad skill name (1..256 bytes of
        UTF-8 without control characters) or a field over 4096 bytes; a
        store error if the begin cannot be recorded."""
        bi = _BeginInfo(skill=_b(skill_name), workflow=_b(workflow_path),
                        session=_b(session_id), project=_b(project_path),
                        parent_id=_b(parent_id), command=None,
                        source=b"lib", pid=0)
        inv = _p()
        rc = _skm_inv_create(ctypes.byref(bi), ctypes.byref(inv))
        if rc != SKM_OK:
            why = _skm_begin_info_error(ctypes.byref(bi))
            raise SkmError(rc, "skm: " + (why or _skm_errstr(rc)).decode())
        h = self._handle()
        rc = _skm_inv_start(h.db, inv)
        if rc != SKM_OK:
            msg = h.errmsg()
            _skm_inv_free(inv)
            raise SkmError(rc, msg)
        iid = _skm_inv_id(inv).decode()
        return SkillInvocationResult(self, inv, iid)

    def track_invocation_concurrent(self, skill_name, workflow_path=None,
                                    session_id=None, project_path=None):
        """The reference design's variant of track_invocation() for a
        skill used by many sessions at once.  The same call here: the
        store's own lock keeps concurrent runs apart, across threads and
        processes, where the reference's per-skill lock could not."""
        return self.track_invocation(skill_name, workflow_path, session_id,
                                     project_path)

    def bulk_import_invocations(self, invocations):
        """Add ended invocations given as dicts with the reference
        design's bulk-import keys (id, skill_name, invoked_at, completed,
        and optionally workflow_path, duration_seconds, follow_up_actions,
        or any column `skm export` writes), as `skm import` does: all or
        nothing, in one transaction; ids already in the store are skipped;
        the skills' aggregates are recomputed.  A completed run needs
        duration_seconds (or ended_at).  Returns the counts: records,
        inserted, skipped, skills.  Raises SkmError (SKM_FORMAT, naming
        the record by its line, 1 for the first) for a malformed one."""
        lines = [json.dumps(inv, separators=(",", ":"), ensure_ascii=False,
                            default=_json_default) for inv in invocations]
        if not lines:
            return {"records": 0, "inserted": 0, "skipped": 0, "skills": 0}
        data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        h = self._handle()
        buf = ctypes.create_string_buffer(data, len(data))
        f = _fmemopen(buf, len(data), b"r")
        if not f:
            e = ctypes.get_errno()
            raise SkmError(SKM_NOMEM, "skm: fmemopen: " + os.strerror(e))
        res = _ImportResult()
        try:
            rc = _skm_import(h.db, f, ctypes.byref(res))
        finally:
            _fclose(f)
        if rc != SKM_OK:
            raise SkmError(rc, h.errmsg())
        return {"records": res.records, "inserted": res.inserted,
                "skipped": res.skipped, "skills": res.skills}

    def invocation(self, skill_name, workflow_path=None, session_id=None,
                   project_path=None, parent_id=None):
        """A context manager recording its block as one run: completed
        when the block ends normally; when it raises, not completed, with
        the exception's class as the error type (the exception goes on).
        A store that cannot record gives a SkmWarning, never an error:
        the block runs all the same."""
        return _InvocationContext(self, skill_name, workflow_path,
                                  session_id, project_path, parent_id)

    def track(self, skill_name=None, workflow_path=None, session_id=None,
              project_path=None):
        """A decorator recording each call of the function as a run of
        skill_name (default: the function's name), as invocation() does."""
        def wrap(fn):
            name = skill_name or fn.__name__

            @functools.wraps(fn)
            def call(*args, **kwargs):
                with self.invocation(name, workflow_path, session_id,
                                     project_path):
                    return fn(*args, **kwargs)
            return call
        if callable(skill_name):
            fn, skill_name = skill_name, None
            return wrap(fn)
        return wrap

    def end_session_updates(self, session_id):
        """Persist exact min/max/p50/p95/p99 for every skill the session
        used (`skm end-session`); returns the number of skills updated."""
        h = self._handle()
        n = ctypes.c_int(0)
        rc = _skm_end_session(h.db, _b(session_id), ctypes.byref(n))
        if rc != SKM_OK:
            raise SkmError(rc, h.errmsg())
        return n.value

    # Queries: the documents `skm ... --json` prints, parsed.

    def _query(self, q, **kw):
        qa = _QueryArgs(**{k: (_b(v) if isinstance(v, (str, bytes)) else v)
                           for k, v in kw.items() if v is not None})
        h = self._handle()
        out = ctypes.c_void_p()
        rc = _skm_query_json(h.db, q, ctypes.byref(qa), ctypes.byref(out))
        if rc != SKM_OK:
            raise SkmError(rc, h.errmsg())
        try:
            text = ctypes.string_at(out.value)
        finally:
            _skm_free(out)
        return json.loads(text.decode("utf-8", "surrogateescape"))

    def get_skill_metrics(self, skill_name):
        """One skill's metrics as a dict with the keys of `skm show
        --json` (the reference keys plus min/max/p50/p95/p99), or None for
        a skill never recorded."""
        try:
            return self._query(_Q_SHOW, skill=skill_name)
        except SkmError as e:
            if e.code == SKM_NOTFOUND:
                return None
            raise

    def get_summary(self):
        """The summary as a dict with the keys of `skm summary --json`."""
        return self._query(_Q_SUMMARY)

    def get_all_skill_metrics(self):
        """One dict per skill, as `skm stats --json`."""
        return self._query(_Q_STATS)

    def get_skill_timeline(self, skill_name, since="7d", bucket="day",
                           until=None, time_window=None):
        """Runs per time bucket, as `skm timeline --json`.  since (or the
        reference design's time_window) is skm's "30m", "12h", "7d", "4w"
        or a timestamp, or the reference's "7 days", "1 hour"."""
        if time_window is not None:
            since = time_window
        return self._query(_Q_TIMELINE, skill=skill_name,
                           since=_window(since), bucket=bucket, until=until)

    def search_workflow_paths(self, query, limit=None):
        """FTS5 search over skill names and workflow paths, as `skm
        search --json`."""
        return self._query(_Q_SEARCH, text=query, limit=limit)

    def get_recent(self, skill_name=None, limit=None, failed=False):
        """The latest invocations, as `skm recent --json`."""
        return self._query(_Q_RECENT, skill=skill_name, limit=limit,
                           failed=1 if failed else 0)

    def get_errors(self, skill_name=None, limit=None):
        """Error types by count, as `skm errors --json`."""
        return self._query(_Q_ERRORS, skill=skill_name, limit=limit)

    def get_session(self, session_id):
        """The skills a session used, as `skm session --json`."""
        return self._query(_Q_SESSION, session=session_id)


class _InvocationContext:
    def __init__(self, store, *args):
        self._store = store
        self._args = args
        self._inv = None

    def __enter__(self):
        result = None
        try:
            result = self._store.track_invocation(*self._args)
        except SkmError as e:
            if e.code == SKM_MISUSE:
                raise
            warnings.warn("skm: not recorded: %s" % e, SkmWarning,
                          stacklevel=2)
        self._inv = Invocation(result)
        return self._inv

    def __exit__(self, exc_type, exc, tb):
        inv = self._inv
        if inv._result is None:
            return False
        if exc_type is not None:
            completed, error_type = False, _error_type(exc_type)
        else:
            completed, error_type = inv.completed, inv.error_type
        try:
            inv._result.completer(completed=completed,
                                  follow_up_actions=inv.follow_up_actions,
                                  error_type=error_type)
        except SkmError as e:
            warnings.warn("skm: end not recorded: %s" % e, SkmWarning,
                          stacklevel=2)
        return False
