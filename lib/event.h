/*
 * event.h - the one definition of an invocation event.
 *
 * An event is what a recorder knows at one moment of a run: its begin,
 * its end, or both at once (a run recorded after the fact).  Its fields
 * are declared once, in SKM__EV_FIELDS: the journal's encoder and
 * decoder (event.c), the validator shared by the fold and import, and
 * the store's insert and end (fold.c) are all generated from that list.
 * Adding a field is one line here plus a migration for its column.
 *
 * Nothing here uses SQLite, the heap or stdio: skm-run and the LD_PRELOAD
 * shim encode events in their own processes, the shim possibly inside a
 * signal handler, so encoding is async-signal-safe and writes into a
 * buffer the caller owns.
 */
#ifndef SKM_EVENT_H
#define SKM_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* What an event says of its run. */
enum skm__ev_kind {
	SKM__EV_BEGIN = 1,   /* it started: the row, running */
	SKM__EV_END = 2,     /* it ended: the outcome (by id) */
	SKM__EV_RUN = 3,     /* begin and end together */
	SKM__EV_HEADER = 16  /* first record of a journal file: its id */
};

enum skm__ev_type { SKM__T_STR, SKM__T_INT, SKM__T_TIME, SKM__T_REAL };

/*
 * X(NAME, tag, type, member, column): every field of an event.  tag is
 * its number in the journal's encoding (never reused), column the
 * skill_invocation column it fills (NULL: used by the fold, not stored).
 * TIME is microseconds since the epoch, UTC; the store keeps ISO-8601.
 * The follow-up actions, a list, are not in the list: see follow[].
 */
#define SKM__EV_FIELDS(X)						\
	X(ID,        1, STR,  id,         "id")				\
	X(SKILL,     2, STR,  skill,      "skill_name")			\
	X(INVOKED,   3, TIME, invoked_us, "invoked_at")			\
	X(WORKFLOW,  4, STR,  workflow,   "workflow_path")		\
	X(SESSION,   5, STR,  session,    "session_id")			\
	X(PROJECT,   6, STR,  project,    "project_path")			\
	X(PARENT,    7, STR,  parent,     "parent_id")			\
	X(COMMAND,   8, STR,  command,    "command")			\
	X(HOST,      9, STR,  host,       "host")				\
	X(PID,      10, INT,  pid,        "pid")				\
	X(SOURCE,   11, STR,  source,     "source")			\
	X(MONO0,    12, REAL, mono_start, "mono_start")			\
	X(BOOT,     13, STR,  boot,       "boot_id")			\
	X(PSTART,   14, INT,  pid_start,  "pid_start")			\
	X(ENDED,    15, TIME, ended_us,   "ended_at")			\
	X(COMPLETED,16, INT,  completed,  "completed")			\
	X(DURATION, 17, REAL, duration,   "duration_seconds")		\
	X(ERROR,    18, STR,  error,      "error_type")			\
	X(EXIT,     19, INT,  exit_code,  "exit_code")			\
	X(SIGNAL,   20, INT,  signal,     "signal")			\
	X(UCPU,     21, REAL, ucpu,       "user_cpu_seconds")		\
	X(SCPU,     22, REAL, scpu,       "sys_cpu_seconds")		\
	X(RSS,      23, INT,  rss,        "max_rss_kb")			\
	X(MONO1,    24, REAL, mono_end,   NULL)

#define SKM__EV_TAG_FOLLOW 25   /* one per follow-up action, in order */
#define SKM__EV_FOLLOW_MAX 256  /* follow-up actions in one event */

/* A string that need not end in NUL (a decoded one points into the
 * record).  p == NULL: absent. */
struct skm__str {
	const char *p;
	size_t n;
};

#define SKM__CT_STR  struct skm__str
#define SKM__CT_INT  int64_t
#define SKM__CT_TIME int64_t
#define SKM__CT_REAL double

enum skm__ev_field {
#define X(N, tag, T, m, col) SKM__F_##N,
	SKM__EV_FIELDS(X)
#undef X
	SKM__F_COUNT
};

struct skm__event {
	int kind;
	uint32_t has;            /* bit (1 << SKM__F_x): field present */
#define X(N, tag, T, m, col) SKM__CT_##T m;
	SKM__EV_FIELDS(X)
#undef X
	/* Before the array, which is last: what a recorder writes of an
	 * event is then all at its start (a page of a static event that is
	 * not touched is no page fault). */
	int nfollow;
	struct skm__str follow[SKM__EV_FOLLOW_MAX];
};

#define SKM__HAS(ev, N) (((ev)->has >> SKM__F_##N) & 1u)
#define SKM__SET(ev, N) ((ev)->has |= 1u << SKM__F_##N)

/* Table of the fields, for code that walks them (fold.c, tests). */
struct skm__ev_desc {
	const char *name;    /* "ID", "SKILL", ... */
	int tag;
	enum skm__ev_type type;
	const char *column;  /* NULL: not a column */
	size_t offset;       /* of the member in struct skm__event */
};
extern const struct skm__ev_desc skm__ev_fields[SKM__F_COUNT];

/* Setters for recorders: a NUL-terminated string (NULL leaves the field
 * absent), a number. */
void skm__ev_str(struct skm__event *ev, enum skm__ev_field f, const char *s);
void skm__ev_int(struct skm__event *ev, enum skm__ev_field f, int64_t v);
void skm__ev_real(struct skm__event *ev, enum skm__ev_field f, double v);
int skm__ev_follow(struct skm__event *ev, const char *s);

/* skm__ev_add_end - make the begin ev a RUN that also says what the end
 * event end says: its end fields and follow-up actions (strings still
 * point where end's do). */
void skm__ev_add_end(struct skm__event *ev, const struct skm__event *end);

/*
 * A journal record: magic (4 bytes), payload length (u32 LE), CRC-32 of
 * the payload (u32 LE), then the payload: format version (1 byte), kind
 * (1 byte), and one (tag: 1 byte, length: u32 LE, value) per field.
 * Integers and times are 8-byte two's complement, reals 8-byte IEEE 754,
 * all little-endian, so a journal reads the same on any machine.  The
 * magic and the CRC let a reader find the next record after a torn one.
 */
#define SKM__REC_MAGIC "\xf0SKJ"
#define SKM__REC_HDR 12
#define SKM__REC_VERSION 1
#define SKM__REC_MAX (256 * 1024)   /* payload bytes a reader accepts */

/*
 * skm__ev_encode - write ev as one record into buf (cap bytes).  Returns
 * the record's length, or 0 when it does not fit.  Async-signal-safe.
 */
size_t skm__ev_encode(const struct skm__event *ev, unsigned char *buf,
    size_t cap);

/* The length ev's record would take. */
size_t skm__ev_size(const struct skm__event *ev);

/* skm__ev_encode for a caller that has len = skm__ev_size(ev) already. */
size_t skm__ev_encode_len(const struct skm__event *ev, size_t len,
    unsigned char *buf, size_t cap);

/*
 * skm__ev_decode - read the payload p (n bytes) of one record into ev,
 * whose strings then point into p.  Returns 0, or -1 with a reason in
 * why (a malformed field, a duplicate, an unknown version).  Unknown tags
 * are skipped: a newer skm of the same format version may add fields.
 */
int skm__ev_decode(const unsigned char *p, size_t n, struct skm__event *ev,
    char *why, size_t whysize);

/* What scanning a buffer of records found at its start. */
enum skm__scan {
	SKM__SCAN_RECORD,   /* a whole record with a good CRC */
	SKM__SCAN_GARBAGE,  /* bytes that are no record: skip *len */
	SKM__SCAN_PARTIAL   /* a record that does not end in the buffer */
};

/*
 * skm__rec_scan - look at buf (n bytes, n > 0).  RECORD: *len is the
 * record's length, *payload and *plen its payload.  GARBAGE: *len bytes
 * (up to the next magic that starts a good record, or all of them) are
 * not a record.  PARTIAL: the record at buf is longer than n.
 */
enum skm__scan skm__rec_scan(const unsigned char *buf, size_t n, size_t *len,
    const unsigned char **payload, size_t *plen);

uint32_t skm__crc32(const unsigned char *p, size_t n);

/*
 * skm__ev_validate - the limits every stored event meets, shared by the
 * fold and by import: names 1..SKM_NAME_MAX bytes of UTF-8 without
 * control characters; other strings up to SKM_FIELD_MAX bytes of any
 * bytes but NUL (the command up to SKM_COMMAND_MAX: a longer one is cut,
 * on a character boundary, by the caller); finite non-negative durations
 * and CPU times; times within years 0001..9999, an end not before its
 * begin.  Returns 0, or -1 with the reason in why.
 */
int skm__ev_validate(const struct skm__event *ev, char *why, size_t whysize);

/* 1: p (n bytes) is UTF-8 without NUL; with name, without any control
 * character (C0, DEL, C1) either. */
int skm__text_ok(const char *p, size_t n, int name);

/* The longest duration the store takes, in seconds: a century.  The
 * fold and import hold runs to the same bound, so that whatever the fold
 * applied, export writes and import reads back. */
#define SKM__DURATION_MAX (100.0 * 365.25 * 86400.0)

/* Microseconds of the years 0001-01-01 and 9999-12-31T23:59:59.999 */
#define SKM__TIME_MIN (-62135596800LL * 1000000)
#define SKM__TIME_MAX (253402300799999LL * 1000)

/* Recorder helpers, async-signal-safe: the wall clock in microseconds,
 * CLOCK_MONOTONIC in seconds, a UUIDv7 (36 characters and a NUL). */
int64_t skm__now_us(void);
double skm__mono(void);
/* Nonzero: the two above ask the kernel (a system call) instead of the
 * vDSO.  The shim sets it: in a host that never reads a clock, the
 * vDSO's first use costs two page faults of its data pages and one of
 * libc's code, several times the four system calls a run makes. */
extern int skm__clock_syscall;
int skm__uuid7(char out[37]);
/* The same with the time the caller read already (Unix milliseconds). */
int skm__uuid7_ms(char out[37], int64_t ms_now);
/* Up to n random bytes from getrandom(2), never blocking: how many. */
size_t skm__random(void *buf, size_t n);
/* A UUIDv7 at ms_now from 10 random bytes the caller has (a pool, say). */
void skm__uuid7_at(char out[37], const unsigned char rnd[10], int64_t ms_now);

#endif /* SKM_EVENT_H */
