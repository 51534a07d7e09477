#!/usr/bin/env python3
"""Write seed inputs for fuzz_journal: journal records (lib/event.h's
layout) in good and bad shapes.  Run from the top of the tree:
    python3 tests/fuzz/journal-seeds.py tests/fuzz/corpus/journal
Each seed is what follows a journal file's header."""
import hashlib, os, struct, sys, zlib

MAGIC = b"\xf0SKJ"
TAGS = dict(ID=1, SKILL=2, INVOKED=3, WORKFLOW=4, SESSION=5, PROJECT=6,
            PARENT=7, COMMAND=8, HOST=9, PID=10, SOURCE=11, MONO0=12,
            BOOT=13, PSTART=14, ENDED=15, COMPLETED=16, DURATION=17,
            ERROR=18, EXIT=19, SIGNAL=20, UCPU=21, SCPU=22, RSS=23,
            MONO1=24, FOLLOW=25)
REAL = {"MONO0", "DURATION", "UCPU", "SCPU", "MONO1"}
STR = {"ID", "SKILL", "WORKFLOW", "SESSION", "PROJECT", "PARENT", "COMMAND",
       "HOST", "SOURCE", "BOOT", "ERROR", "FOLLOW"}

def field(name, value):
    if name in STR:
        v = value if isinstance(value, bytes) else value.encode()
    elif name in REAL:
        v = struct.pack("<d", value)
    else:
        v = struct.pack("<q", value)
    return bytes([TAGS[name]]) + struct.pack("<I", len(v)) + v

def record(kind, fields, version=1):
    payload = bytes([version, kind]) + b"".join(field(n, v) for n, v in fields)
    return MAGIC + struct.pack("<II", len(payload), zlib.crc32(payload)) + payload

T = 1764700000000000  # 2025-12-02, in microseconds

def begin(i, skill="lint", wf="ci/full", **kw):
    f = [("ID", "0190f0aa-0000-7000-8000-%012d" % i), ("SKILL", skill),
         ("INVOKED", T + i * 1000), ("WORKFLOW", wf), ("HOST", "h"),
         ("PID", 100 + i), ("SOURCE", "run"), ("MONO0", 10.0 + i),
         ("BOOT", "b")]
    f += list(kw.items())
    return record(1, f)

def end(i, code=0, dur=None, extra=()):
    f = [("ID", "0190f0aa-0000-7000-8000-%012d" % i),
         ("ENDED", T + i * 1000 + 500), ("COMPLETED", 1 if code == 0 else 0),
         ("EXIT", code), ("MONO1", 10.5 + i), ("BOOT", "b")]
    if dur is not None:
        f.append(("DURATION", dur))
    f += list(extra)
    return record(2, f)

seeds = {
    "ok": begin(1) + end(1) + begin(2) + end(2, 3, 1.25, [("FOLLOW", "fix"), ("FOLLOW", "a.b")]),
    "run": record(3, [("ID", "run-1"), ("SKILL", "build"), ("INVOKED", T),
                      ("ENDED", T + 2000000), ("DURATION", 2.0),
                      ("COMPLETED", 1), ("EXIT", 0), ("COMMAND", "make -j4")]),
    "dup": begin(3) + begin(3) + end(3) + end(3),
    "out-of-order": end(4, 1) + begin(4),
    "torn": begin(5)[:20] + begin(6) + end(6) + end(5)[:-3],
    "garbage": b"\x00" * 7 + MAGIC + b"\xff\xff\xff\xff" + begin(7) + b"junk" + end(7),
    "bad-values": begin(8, skill="") + begin(9, skill="a\x1bb") +
        end(9, dur=float("inf")) + begin(10) +
        record(2, [("ID", "0190f0aa-0000-7000-8000-%012d" % 10),
                   ("ENDED", T - 10 ** 12)]) +
        begin(11, skill="x" * 300),
    "wrong-types": record(1, [("ID", "w"), ("SKILL", "s")]) +
        MAGIC + struct.pack("<II", 7, zlib.crc32(b"\x01\x01\x02\x09\x00\x00\x00")) +
        b"\x01\x01\x02\x09\x00\x00\x00",
    "version": record(1, [("ID", "v")], version=9),
}
if len(sys.argv) > 2 and sys.argv[1] == "--runs":
    # N whole runs (begin and end) of skill "bulk", for tests
    n = int(sys.argv[2])
    sys.stdout.buffer.write(b"".join(begin(1000 + i, skill="bulk") + end(1000 + i, dur=0.5)
                                     for i in range(n)))
    sys.exit(0)
if len(sys.argv) > 2 and sys.argv[1] == "--durations":
    # one whole run of skill "long" per duration given, for tests
    sys.stdout.buffer.write(b"".join(begin(2000 + i, skill="long") + end(2000 + i, dur=float(d))
                                     for i, d in enumerate(sys.argv[2:])))
    sys.exit(0)
if len(sys.argv) > 2 and sys.argv[1] == "--seed":
    sys.stdout.buffer.write(seeds[sys.argv[2]])
    sys.exit(0)
out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/journal"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
