/*
 * io.c - import and export of invocations: JSON Lines and CSV.
 *
 * Export writes every column of every ended invocation, in the order of
 * fields[] below; a JSON line is made by SQLite's json_object() and a CSV
 * line by SQL too (text always quoted, quotes doubled, NULL empty), so
 * nothing is escaped by hand.
 *
 * Import reads what export writes, and the reference design's bulk-import
 * objects.  A JSON line is read by a small reader of flat objects (below;
 * json_each() cost a statement step per member, cut strings at an
 * escaped NUL and clamped numbers out of range); a CSV record by a small
 * RFC 4180 reader.  Either way each value goes through one check per
 * field type (text, integer, real, boolean, timestamp, array of
 * strings), the record through the checks that span fields
 * (finish_record: a completed run has a duration, times are in order),
 * and into one prepared INSERT straight into invocation.  The reading
 * and checking run in a thread of their own beside the inserting one
 * (import_load).  The whole
 * import is one write transaction: any bad record rolls everything back.
 * Import is a fold of many records: each row inserted is counted in
 * memory as it is read (the fold's accumulator, aggregate.c), and after
 * the last record the aggregates are written once per skill, pair, hour
 * and session, in the order of their keys -- no pass over the table.
 *
 * An imported command line has its secrets hidden as skm-run and the
 * shim hide them when they record (redact.c's rules and the importing
 * user's $SKM_REDACT): a log from elsewhere may hold what they never
 * store.
 * Hidden text stays hidden, so export and import round-trip.
 *
 * Export prints each real with the fewest digits that read back to the
 * same double (real_text_fn): SQLite's own 15 significant digits changed
 * durations on a round trip.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skm-int.h"
#include "recorder.h"
#include "timeparse.h"

enum ftype { F_TEXT, F_INT, F_REAL, F_BOOL, F_TIME, F_ARRAY };

/* Every column of skill_invocation (invocation's, as the view shows
 * them), in the table's order: the JSON keys
 * and CSV columns of export and import.  The INSERT below binds ?1..?24
 * in this order. */
#define F(name, type, required) { name, sizeof(name) - 1, type, required }
static const struct field {
	const char *name;
	int len;
	enum ftype type;
	int required;
} fields[] = {
	F("id",			F_TEXT, 1),
	F("skill_name",		F_TEXT, 1),
	F("invoked_at",		F_TIME, 1),
	F("ended_at",		F_TIME, 0),
	F("workflow_path",	F_TEXT, 0),
	F("session_id",		F_TEXT, 0),
	F("project_path",	F_TEXT, 0),
	F("parent_id",		F_TEXT, 0),
	F("completed",		F_BOOL, 1),
	F("duration_seconds",	F_REAL, 0),
	F("error_type",		F_TEXT, 0),
	F("exit_code",		F_INT, 0),
	F("signal",		F_INT, 0),
	F("follow_up_actions",	F_ARRAY, 0),
	F("command",		F_TEXT, 0),
	F("host",		F_TEXT, 0),
	F("pid",		F_INT, 0),
	F("user_cpu_seconds",	F_REAL, 0),
	F("sys_cpu_seconds",	F_REAL, 0),
	F("max_rss_kb",		F_INT, 0),
	F("source",		F_TEXT, 0),
	F("mono_start",		F_REAL, 0),
	F("boot_id",		F_TEXT, 0),
	F("pid_start",		F_INT, 0),
};
#undef F
#define NFIELDS ((int)(sizeof(fields) / sizeof(fields[0])))
enum { FI_ID, FI_SKILL, FI_INVOKED, FI_ENDED, FI_WORKFLOW, FI_SESSION,
    FI_PARENT = 7, FI_COMPLETED = 8, FI_DURATION = 9, FI_ERROR = 10,
    FI_FOLLOWUP = 13, FI_COMMAND = 14, FI_RSS = 19, FI_SOURCE = 20,
    FI_MONO = 21, FI_BOOT = 22 };

/* The columns invocation keeps as skm_key() makes them (migration 7):
 * a lowercase UUID as its 16 bytes.  Export reads them back with
 * skm_uuid(), and the times (F_TIME, integer milliseconds) with
 * skm_iso(). */
static int
is_key(int fi)
{
	return fi == FI_ID || fi == FI_SESSION || fi == FI_PARENT ||
	    fi == FI_BOOT;
}

/*
 * Each record goes straight into invocation; an id already there
 * is skipped (so of two records with one id the first wins).  The import
 * prepares this statement itself and finalizes it at the end: a
 * statement of the handle's cache could be recycled by another prepare
 * while the import still holds it.
 */
#define COLUMNS \
    "id, skill_name, invoked_at, ended_at, workflow_path, session_id, " \
    "project_path, parent_id, completed, duration_seconds, error_type, " \
    "exit_code, signal, follow_up_actions, command, host, pid, " \
    "user_cpu_seconds, sys_cpu_seconds, max_rss_kb, source, mono_start, " \
    "boot_id, pid_start"
static const char insert_sql[] =
    "INSERT INTO main.invocation (" COLUMNS ") VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24) ON CONFLICT (id) DO NOTHING";

/* Page cache of an import in WAL mode, in KiB (only what is used is
 * allocated). */
#define IMPORT_CACHE_KB "262144"

/* One value of a record, whichever format it came from. */
enum kind { K_NULL, K_TEXT, K_INT, K_REAL, K_BOOL, K_ARRAY, K_OTHER };
struct val {
	enum kind kind;
	const char *text;	/* K_TEXT, K_ARRAY (JSON text) */
	int len;
	long long i;		/* K_INT, K_BOOL */
	double r;		/* K_REAL */
	int csv;		/* from CSV: numbers and booleans come as text */
	int minified;		/* K_ARRAY: as json() would store it */
	int nonstr;		/* K_ARRAY: an element is not a string of at
				 * most SKM_FIELD_MAX bytes */
};

/*
 * A value as it is bound to the INSERT, made by the reader (set_field).
 * Text and blobs lie in the arena of the batch the record is in.  B_JSON
 * is an array only SQLite can check and minify (check_json): the
 * inserting side does that.
 */
enum bkind { B_NULL, B_INT, B_REAL, B_TEXT, B_BLOB, B_JSON };
struct bval {
	unsigned char kind;
	int len;
	union {
		long long i;
		double r;
		size_t off;
	} u;
};

enum { KEEP_SKILL, KEEP_WORKFLOW, KEEP_SESSION, KEEP_ERROR, NKEEP };

/* One record read and checked, waiting for its insert. */
struct rec {
	long long line;
	struct bval v[NFIELDS];
	/* what the aggregates count of it: the text of its skill, workflow
	 * path, session and error type (a session kept as 16 bytes in
	 * v[] keeps its text here), its start, completion and duration,
	 * its follow-up actions (v[FI_FOLLOWUP]) */
	struct bval keep[NKEEP];
	long long invoked_ms;
	double duration;
	int completed;
	int fu_json;		/* a minified JSON array the reader checked */
	int inserted;		/* by the inserter: the id was new */
	size_t fl_off;		/* B_JSON: the actions json_each read */
	int fl_n;
	char invoked[TP_ISO_LEN];
};

/*
 * A batch of records: the unit the reader hands to the inserter.  The
 * reader fills one while the inserter binds and inserts the one before
 * (import_load).  rc is what stopped the reading after rec[n - 1], with
 * err saying it; last: nothing follows this batch.
 */
#define BATCH_RECS	256
#define NBATCH		4
struct batch {
	struct rec rec[BATCH_RECS];
	int n;
	char *arena;
	size_t used, cap;
	int rc, last;
	int inserted;		/* inserted, not counted yet (count_batch) */
	char err[512];
};

/*
 * A CSV record: its fields one after another in buf, each NUL-terminated
 * (the text may hold NULs of its own; len counts them).
 */
struct csvrec {
	char *buf;
	size_t len, cap;
	size_t *off, *flen;
	int *quoted;
	int n, ncap;
};

/* The state of one import.  The reader (the input, the checks, the
 * record being assembled) and the inserter (the INSERT, the aggregates)
 * each keep to their own part while they run in two threads. */
struct import_job {
	FILE *in;
	long long start;	/* offset of the input, to read it again */
	int attempts;
	long long line0;	/* lines before the first record */
	struct skm_import_result res;
	/* the reader's */
	int csv;		/* CSV, not JSON Lines */
	long long line;		/* of the record being read */
	const char *redact;	/* $SKM_REDACT, as the recorders read it */
	struct batch *b;	/* the batch being filled */
	struct rec *r;		/* its record being assembled */
	uint32_t seen;
	long long ended_ms;
	int has_duration;
	char *line_buf;		/* JSON Lines: the line */
	size_t line_cap;
	char *sbuf, *kbuf;	/* decoded JSON strings (the value, the key) */
	size_t scap, kcap;
	char *cmd_in, *cmd_out;	/* a command line as given and redacted */
	struct csvrec cr;	/* CSV: the record, its header's map */
	int *map, ncol;
	long long csv_next;
	struct skm__agg *agg;	/* the counts (count_batch) */
	char *fbuf;		/* a record's follow-up actions */
	size_t fcap;
	struct skm__str *fu;
	int nfu, fucap;
	/* the inserter's */
	sqlite3_stmt *ins;	/* insert_sql, the job's own */
	/* the indexes set aside during a load into an empty table */
	char *index_sql[16];
	int nindex;
	/* both: the batches and their hand-over (import_load) */
	struct batch *batch[NBATCH];
	int full[NBATCH];	/* batch[i] is the inserter's */
	int stop;		/* the inserter failed: the reader stops */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};



/* The JSON reader's place in a line. */
struct jrd {
	const char *p, *end;
	const char *why;	/* what is wrong, when a call returns -1 */
};

/* Which copy field fi is kept in for the aggregates, or -1. */
static int
keep_slot(int fi)
{
	switch (fi) {
	case FI_SKILL: return KEEP_SKILL;
	case FI_WORKFLOW: return KEEP_WORKFLOW;
	case FI_SESSION: return KEEP_SESSION;
	case FI_ERROR: return KEEP_ERROR;
	}
	return -1;
}

/*
 * The reader's errors: bad() says what is wrong with the record on
 * job->line, nomem() that memory ran out; either goes into the batch,
 * and the inserter reports it once the records before it are in.
 */
static int
bad(struct import_job *job, const char *field, const char *why)
{
	if (field != NULL)
		snprintf(job->b->err, sizeof(job->b->err), "line %lld: %s: %s",
		    job->line, field, why);
	else
		snprintf(job->b->err, sizeof(job->b->err), "line %lld: %s",
		    job->line, why);
	return SKM_FORMAT;
}

static int
nomem(struct import_job *job)
{
	snprintf(job->b->err, sizeof(job->b->err), "import: out of memory");
	return SKM_NOMEM;
}

/* Room for n more bytes in the batch's arena; -1: out of memory. */
static int
arena_room(struct batch *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->used + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64 * 1024;
	while (cap < b->used + n)
		cap *= 2;
	if ((p = realloc(b->arena, cap)) == NULL)
		return -1;
	b->arena = p;
	b->cap = cap;
	return 0;
}

/* The value of field fi (or keep slot, put_keep) as kind k: a copy of
 * the n bytes at p in the arena. */
static int
put_bytes(struct import_job *job, struct bval *v, int k, const void *p,
    size_t n)
{
	struct batch *b = job->b;

	if (arena_room(b, n + 1) != 0)
		return nomem(job);
	memcpy(b->arena + b->used, p, n);
	b->arena[b->used + n] = '\0';
	v->kind = (unsigned char)k;
	v->len = (int)n;
	v->u.off = b->used;
	b->used += n + 1;
	return SKM_OK;
}

static int
put_text(struct import_job *job, int fi, const char *p, size_t n)
{
	return put_bytes(job, &job->r->v[fi], B_TEXT, p, n);
}

static void
put_int(struct import_job *job, int fi, long long i)
{
	job->r->v[fi].kind = B_INT;
	job->r->v[fi].u.i = i;
}

static void
put_real(struct import_job *job, int fi, double r)
{
	job->r->v[fi].kind = B_REAL;
	job->r->v[fi].u.r = r;
}

/*
 * decimal - is s a decimal number as JSON writes one (an optional minus,
 * digits, then for a real an optional fraction and exponent)?  strtoll
 * and strtod alone take more: leading blanks, '+', "0x10" (16), "inf".
 */
static int
decimal(const char *s, int real)
{
	const char *d;

	if (*s == '-')
		s++;
	for (d = s; *s >= '0' && *s <= '9'; s++)
		;
	if (s == d)
		return 0;
	if (real && *s == '.') {
		for (d = ++s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return 0;
	}
	if (real && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return 0;
	}
	return *s == '\0';
}

/* Whole-string number parses for CSV text. */
static int
parse_ll(const char *s, long long *v)
{
	char *end;

	if (!decimal(s, 0))
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

static int
parse_double(const char *s, double *v)
{
	char *end;

	if (!decimal(s, 1))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && isfinite(*v) ? 0 : -1;
}

/*
 * stage_array - the follow-up actions must be a JSON array of strings;
 * they are stored minified, as json() gives them.  The JSON reader
 * checked the elements of what it read already: strings of at most
 * SKM_FIELD_MAX bytes; without spaces the text is what json() would
 * make of it; with an element that is not such a string it is refused
 * here, as SQLite would.  Anything else (CSV gives the array as text)
 * SQLite checks, on the inserting side (check_json): of a CSV record
 * with more than one thing wrong, what is said may then be another of
 * them than the first in the record.
 */
static int
stage_array(struct import_job *job, const struct val *v)
{
	int json = v->kind == K_ARRAY && v->minified;

	if (v->kind == K_ARRAY && v->nonstr)
		return bad(job, fields[FI_FOLLOWUP].name, "not an array of "
		    "strings of at most 4096 bytes");

	job->r->fu_json = json;
	if (json || (v->len == 2 && memcmp(v->text, "[]", 2) == 0))
		return put_text(job, FI_FOLLOWUP, v->text, (size_t)v->len);
	return put_bytes(job, &job->r->v[FI_FOLLOWUP], B_JSON, v->text,
	    (size_t)v->len);
}

/* An error of record r found by the inserter. */
static int
rbad(struct skm_db *db, const struct rec *r, const char *field,
    const char *why)
{
	return skm__store_fail(db, SKM_FORMAT, "line %lld: %s: %s", r->line,
	    field, why);
}

/*
 * check_json - the inserter's half of stage_array: SQLite checks the
 * array text of record r (in batch b) and binds it minified.
 */
static int
check_json(struct skm_db *db, struct import_job *job, const struct batch *b,
    const struct rec *r)
{
	static const char sql[] =
	    "SELECT CASE WHEN json_valid(?1) AND json_type(?1) = 'array' "
	    "THEN (SELECT count(*) FROM json_each(?1) WHERE type <> 'text' "
	    "OR length(CAST(atom AS BLOB)) > ?2) "
	    "ELSE -1 END, CASE WHEN json_valid(?1) THEN json(?1) END";
	const char *name = fields[FI_FOLLOWUP].name;
	const struct bval *v = &r->v[FI_FOLLOWUP];
	sqlite3_stmt *st;
	int rc, src, n;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, b->arena + v->u.off, v->len, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, SKM_FIELD_MAX);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return skm__store_sqlfail(db, src, "import");
	}
	n = sqlite3_column_int(st, 0);
	if (n == 0)
		sqlite3_bind_value(job->ins, FI_FOLLOWUP + 1,
		    sqlite3_column_value(st, 1));
	sqlite3_reset(st);
	if (n < 0)
		return rbad(db, r, name, "not a JSON array");
	if (n > 0)
		return rbad(db, r, name, "not an array of strings of at "
		    "most 4096 bytes");
	return SKM_OK;
}

/*
 * text_error - the limits hooks.c holds begin and end to hold for
 * imported text too: a skill name as skm_begin_info_error() wants it,
 * the other fields at most SKM_FIELD_MAX bytes (a command line
 * SKM_COMMAND_MAX).  NULL when v is fine.
 */
static const char *
text_error(int fi, const struct val *v)
{
	struct skm_begin_info bi = { 0 };
	char name[SKM_NAME_MAX + 2];

	switch (fi) {
	case FI_SKILL:
		if (memchr(v->text, '\0', v->len) != NULL)
			return "holds a NUL character";
		/* A JSON value is not NUL-terminated where it lies. */
		memcpy(name, v->text, v->len <= SKM_NAME_MAX ? v->len :
		    SKM_NAME_MAX + 1);
		name[v->len <= SKM_NAME_MAX ? v->len : SKM_NAME_MAX + 1] = '\0';
		bi.skill = name;
		return skm_begin_info_error(&bi);
	case FI_COMMAND:
		if (memchr(v->text, '\0', v->len) != NULL)
			return "holds a NUL character";
		return v->len > SKM_COMMAND_MAX ? "too long" : NULL;
	}
	return v->len > SKM_FIELD_MAX ? "too long" : NULL;
}

/*
 * stage_command - an imported command line (no NUL, at most
 * SKM_COMMAND_MAX bytes: text_error) with its secrets hidden.
 */
static int
stage_command(struct import_job *job, const struct val *v)
{
	size_t n;

	if (job->cmd_in == NULL &&
	    ((job->cmd_in = malloc(SKM_COMMAND_MAX + 1)) == NULL ||
	    (job->cmd_out = malloc(SKM_COMMAND_MAX + 1)) == NULL))
		return nomem(job);
	memcpy(job->cmd_in, v->text, v->len);
	job->cmd_in[v->len] = '\0';
	n = skm__redact_line(job->cmd_out, SKM_COMMAND_MAX + 1, job->cmd_in,
	    job->redact);
	return put_text(job, FI_COMMAND, job->cmd_out, n);
}

/* The longest duration an import accepts, in seconds: the fold's. */
#define DURATION_MAX SKM__DURATION_MAX

/*
 * set_field - check value v of field fi and bind it to the INSERT.
 * A field given twice is refused: which one would win is not obvious.
 */
static int
set_field(struct import_job *job, int fi, const struct val *v)
{
	const struct field *f = &fields[fi];
	struct rec *rec = job->r;
	unsigned char key[16];
	char iso[TP_ISO_LEN], err[160], tbuf[64];
	const char *why;
	long long i, ms;
	double r;
	int k, rc;

	if (job->seen & (1u << fi))
		return bad(job, f->name, "given twice");
	job->seen |= 1u << fi;
	if (v->kind == K_TEXT && f->type != F_TEXT && f->type != F_ARRAY &&
	    memchr(v->text, '\0', v->len) != NULL)
		return bad(job, f->name, "holds a NUL character");
	if (v->kind == K_NULL) {
		if (f->required)
			return bad(job, f->name, "is required");
		job->seen &= ~(1u << fi);	/* as if absent */
		return SKM_OK;
	}
	switch (f->type) {
	case F_TEXT:
		if (v->kind != K_TEXT)
			return bad(job, f->name, "not a string");
		if (v->len == 0 && f->required)
			return bad(job, f->name, "is empty");
		if ((why = text_error(fi, v)) != NULL)
			return bad(job, f->name, why);
		if (fi == FI_COMMAND)
			return stage_command(job, v);
		/* As skm__store_bind_key() binds an id. */
		if (is_key(fi) && skm__util_uuid_bytes(v->text,
		    (size_t)v->len, key))
			rc = put_bytes(job, &rec->v[fi], B_BLOB, key, 16);
		else
			rc = put_text(job, fi, v->text, (size_t)v->len);
		if (rc != SKM_OK || (k = keep_slot(fi)) < 0)
			return rc;
		if (rec->v[fi].kind == B_TEXT)
			rec->keep[k] = rec->v[fi];
		else
			rc = put_bytes(job, &rec->keep[k], B_TEXT, v->text,
			    (size_t)v->len);
		return rc;
	case F_INT:
		if (v->kind == K_INT)
			i = v->i;
		else if (v->kind == K_REAL && v->r == floor(v->r))
			return bad(job, f->name, "out of range (not a "
			    "64-bit integer)");
		else if (v->kind != K_TEXT || !v->csv || parse_ll(v->text, &i))
			return bad(job, f->name, v->kind == K_TEXT &&
			    v->csv && decimal(v->text, 0) ? "out of range "
			    "(not a 64-bit integer)" : "not an integer");
		if (i < 0 && fi == FI_RSS)
			return bad(job, f->name, "negative");
		put_int(job, fi, i);
		return SKM_OK;
	case F_REAL:
		if (v->kind == K_INT)
			r = (double)v->i;
		else if (v->kind == K_REAL)
			r = v->r;
		else if (v->kind != K_TEXT || !v->csv ||
		    parse_double(v->text, &r))
			return bad(job, f->name, "not a number");
		if (r < 0 && fi != FI_MONO)
			return bad(job, f->name, "negative");
		/* No run lasts a century; beyond that ended_at (and the
		 * millisecond arithmetic behind it) would overflow. */
		if (fi == FI_DURATION && r > DURATION_MAX)
			return bad(job, f->name, "longer than 100 years");
		if (fi == FI_DURATION) {
			rec->duration = r;
			job->has_duration = 1;
		}
		put_real(job, fi, r);
		return SKM_OK;
	case F_BOOL:
		if (v->kind == K_BOOL || v->kind == K_INT)
			i = v->i;
		else if (v->kind == K_TEXT && v->csv &&
		    (strcasecmp(v->text, "true") == 0 ||
		    strcasecmp(v->text, "false") == 0))
			i = v->text[0] == 't' || v->text[0] == 'T';
		else if (v->kind != K_TEXT || !v->csv ||
		    parse_ll(v->text, &i))
			i = -1;
		if (i != 0 && i != 1)
			return bad(job, f->name, "not true/false or 1/0");
		rec->completed = (int)i;
		put_int(job, fi, i);
		return SKM_OK;
	case F_TIME:
		if (v->kind != K_TEXT)
			return bad(job, f->name, "not a timestamp string");
		/* NUL-terminated for the parser; longer is no timestamp. */
		if (v->len >= (int)sizeof(tbuf))
			return bad(job, f->name, "not a timestamp");
		memcpy(tbuf, v->text, v->len);
		tbuf[v->len] = '\0';
		if (skm__tp_parse_iso(tbuf, &ms, err, sizeof(err)) != 0 ||
		    skm__tp_format_iso(ms, iso) != 0)
			return bad(job, f->name, err);
		if (fi == FI_INVOKED) {
			rec->invoked_ms = ms;
			memcpy(rec->invoked, iso, sizeof(iso));
		} else
			job->ended_ms = ms;
		put_int(job, fi, ms);	/* migration 7 */
		return SKM_OK;
	case F_ARRAY:
		if (v->kind != K_ARRAY && !(v->kind == K_TEXT && v->csv))
			return bad(job, f->name, "not an array");
		return stage_array(job, v);
	}
	return SKM_OK;
}

/* Add the follow-up action s (len bytes) to the record's list. */
static int
add_follow(struct import_job *job, const char *s, size_t len, size_t *used)
{
	char *nb;

	if (job->nfu == job->fucap) {
		int cap = job->fucap ? 2 * job->fucap : 16;
		struct skm__str *nf = reallocarray(job->fu, (size_t)cap,
		    sizeof(*nf));

		if (nf == NULL)
			return -1;
		job->fu = nf;
		job->fucap = cap;
	}
	if (*used + len + 1 > job->fcap) {
		size_t cap = (*used + len + 1) * 2;

		if ((nb = realloc(job->fbuf, cap)) == NULL)
			return -1;
		job->fbuf = nb;
		job->fcap = cap;
	}
	memcpy(job->fbuf + *used, s, len);
	job->fbuf[*used + len] = '\0';
	/* An offset for now: fbuf may move as it grows. */
	job->fu[job->nfu].p = NULL;
	job->fu[job->nfu].n = len;
	job->nfu++;
	*used += len + 1;
	return 0;
}

static int jstr(struct jrd *, char **, size_t *, const char **, size_t *);
static void jws(struct jrd *);

/*
 * json_follow - the inserter's part of the follow-up actions of record
 * r (in batch b, the inserter's while it runs) when only SQLite could
 * read them (B_JSON): json_each's strings, as a recompute reads the
 * stored text, go into the arena after the record's values, each as
 * its length and its bytes, for count_record.
 */
static int
json_follow(struct skm_db *db, struct batch *b, struct rec *r)
{
	static const char sql[] =
	    "SELECT CAST(value AS TEXT) FROM json_each(?1)";
	sqlite3_stmt *st;
	uint32_t n;
	int src, rc;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, b->arena + r->v[FI_FOLLOWUP].u.off,
	    r->v[FI_FOLLOWUP].len, SQLITE_TRANSIENT);
	r->fl_off = b->used;
	r->fl_n = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		n = (uint32_t)sqlite3_column_bytes(st, 0);
		if (arena_room(b, sizeof(n) + n) != 0) {
			sqlite3_reset(st);
			return skm__store_fail(db, SKM_NOMEM, "import: out of "
			    "memory");
		}
		memcpy(b->arena + b->used, &n, sizeof(n));
		memcpy(b->arena + b->used + sizeof(n),
		    sqlite3_column_text(st, 0), n);
		b->used += sizeof(n) + n;
		r->fl_n++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "import");
	return SKM_OK;
}

/*
 * follow_list - the follow-up actions of record r (in batch b) as
 * strings (job->fu): a minified array the JSON reader checked is read
 * again here, any other was read by SQLite (json_follow).
 */
static int
follow_list(struct import_job *job, const struct batch *b,
    const struct rec *r)
{
	const struct bval *fv = &r->v[FI_FOLLOWUP];
	const char *text = b->arena + fv->u.off, *s;
	struct jrd jr;
	size_t len, used = 0, off;
	uint32_t n;
	int i;

	job->nfu = 0;
	if (fv->kind == B_JSON) {
		for (i = 0, off = r->fl_off; i < r->fl_n; i++) {
			memcpy(&n, b->arena + off, sizeof(n));
			if (add_follow(job, b->arena + off + sizeof(n), n,
			    &used) != 0)
				return SKM_NOMEM;
			off += sizeof(n) + n;
		}
	} else if (r->fu_json && !(fv->len == 2 &&
	    memcmp(text, "[]", 2) == 0)) {
		/* Read once already (jarray): it cannot be wrong now. */
		jr = (struct jrd){ text + 1, text + fv->len, NULL }; /* past [ */
		for (;;) {
			jws(&jr);
			if (jr.p >= jr.end || *jr.p != '"')
				break;
			if (jstr(&jr, &job->sbuf, &job->scap, &s, &len) != 0 ||
			    add_follow(job, s, len, &used) != 0)
				return SKM_NOMEM;
			jws(&jr);
			if (jr.p < jr.end && *jr.p == ',')
				jr.p++;
		}
	}
	for (i = 0, off = 0; i < job->nfu; i++) {
		job->fu[i].p = job->fbuf + off;
		off += job->fu[i].n + 1;
	}
	return SKM_OK;
}

/* Count record r (in batch b), inserted, into the aggregates: SKM_OK or
 * SKM_NOMEM. */
static int
count_record(struct import_job *job, const struct batch *b,
    const struct rec *r)
{
	struct skm__agg_run run;
	struct skm__str *k[NKEEP] = { &run.skill, &run.workflow,
	    &run.session, &run.error };
	int i, rc;

	memset(&run, 0, sizeof(run));
	for (i = 0; i < NKEEP; i++)
		if (r->keep[i].kind != B_NULL) {
			k[i]->p = b->arena + r->keep[i].u.off;
			k[i]->n = (size_t)r->keep[i].len;
		}
	if ((rc = follow_list(job, b, r)) != SKM_OK)
		return rc;
	run.invoked = r->invoked;
	run.invoked_s = r->invoked_ms >= 0 ? r->invoked_ms / 1000 :
	    -((999 - r->invoked_ms) / 1000);
	run.completed = r->completed;
	run.duration = r->duration;
	run.follow = job->fu;
	run.nfollow = job->nfu;
	return skm__agg_count(job->agg, &run);
}

/*
 * count_batch - count the records of batch b the inserter inserted (not
 * those whose id was there) into the aggregates.  The reader does it
 * when the batch comes back to it, before filling it again, off the
 * inserter's path; the inserter counts the last ones once the reader is
 * done (import_load).  SKM_OK or SKM_NOMEM.
 */
static int
count_batch(struct import_job *job, struct batch *b)
{
	int i, rc = SKM_OK;

	for (i = 0; i < b->n && rc == SKM_OK; i++)
		if (b->rec[i].inserted)
			rc = count_record(job, b, &b->rec[i]);
	b->inserted = 0;
	return rc;
}

/*
 * finish_record - the reader's last step of a record: the checks that
 * span fields, then what the record left out is filled in, and the
 * record joins the batch.
 */
static int
finish_record(struct import_job *job)
{
	struct rec *r = job->r;
	char iso[TP_ISO_LEN];
	long long ended;
	int fi, rc;

	for (fi = 0; fi < NFIELDS; fi++)
		if (fields[fi].required && !(job->seen & (1u << fi)))
			return bad(job, fields[fi].name, "is required");
	/* The checks that span fields.  (The journal's fold holds events
	 * to the same rules: this is where a shared validator of one
	 * event goes.) */
	if ((job->seen & (1u << FI_ENDED)) && job->ended_ms < r->invoked_ms)
		return bad(job, "ended_at", "before invoked_at");
	if (r->completed && !job->has_duration) {
		/* A completed run counts its duration into the averages:
		 * without one it would count as 0 s. */
		if (!(job->seen & (1u << FI_ENDED)))
			return bad(job, "duration_seconds", "is required "
			    "for a completed run without ended_at");
		r->duration = (double)(job->ended_ms - r->invoked_ms) /
		    1000.0;
		job->has_duration = 1;
		put_real(job, FI_DURATION, r->duration);
	}
	if (!(job->seen & (1u << FI_ENDED))) {
		/* Imported invocations are ended: at start + duration. */
		ended = r->invoked_ms + (job->has_duration ?
		    llround(r->duration * 1000.0) : 0);
		if (skm__tp_format_iso(ended, iso) != 0)
			return bad(job, "duration_seconds", "too long");
		put_int(job, FI_ENDED, ended);
	}
	if (!(job->seen & (1u << FI_FOLLOWUP)) &&
	    (rc = put_text(job, FI_FOLLOWUP, "[]", 2)) != SKM_OK)
		return rc;
	if (!(job->seen & (1u << FI_SOURCE)) &&
	    (rc = put_text(job, FI_SOURCE, "import", 6)) != SKM_OK)
		return rc;
	r->line = job->line;
	job->b->n++;
	return SKM_OK;
}

/* Start a record in the batch being filled (which has room for it). */
static void
new_record(struct import_job *job)
{
	struct rec *r = &job->b->rec[job->b->n];
	int i;

	job->r = r;
	for (i = 0; i < NFIELDS; i++)
		r->v[i].kind = B_NULL;
	for (i = 0; i < NKEEP; i++)
		r->keep[i].kind = B_NULL;
	r->fu_json = 0;
	r->completed = 0;
	r->duration = 0;
	r->invoked_ms = 0;
	job->seen = 0;
	job->has_duration = 0;
	job->ended_ms = 0;
}

/* The field named name (len bytes), trying hint first: records of one
 * file usually list their keys in the same order. */
static int
find_field(const char *name, int len, int hint)
{
	int i, fi;

	for (i = 0; i < NFIELDS; i++) {
		fi = (hint + i) % NFIELDS;
		if (fields[fi].len == len &&
		    memcmp(fields[fi].name, name, len) == 0)
			return fi;
	}
	return -1;
}

/*
 * The JSON Lines reader.  A record is one flat JSON object whose members
 * are strings, numbers, true, false, null or (follow_up_actions) an array
 * of strings; members skm does not know may hold any JSON value and are
 * checked and skipped.  The reader works in the line itself: a string
 * without escapes is used where it lies, one with escapes is decoded into
 * a buffer of the job.  It replaces json_each(), which cost one SQLite
 * statement step per member and hid what import must refuse: an escaped
 * NUL (json_each cut the string there), a number out of range (clamped
 * or turned into Inf).  tests/fuzz/fuzz_import.c runs it.
 */
static void
jws(struct jrd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
jfail(struct jrd *r, const char *why)
{
	r->why = why;
	return -1;
}

static int
hex4(const char *s, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = (unsigned char)s[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return 0;
}

/* Append code point c as UTF-8 to b (room for 4 bytes is there). */
static size_t
put_utf8(char *b, unsigned c)
{
	if (c < 0x80) {
		b[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | c >> 18);
	b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	b[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * jstr - the string at r->p (its opening quote): *s and *len get its
 * text, in the line when it has no escapes, else decoded into *buf (of
 * *cap bytes, grown as needed).  An escaped NUL, a raw control
 * character, a bad escape or a lone surrogate is refused.
 */
static int
jstr(struct jrd *r, char **buf, size_t *cap, const char **s, size_t *len)
{
	const char *q = ++r->p, *start = q;
	size_t n = 0, need;
	unsigned c, lo;
	char *nb;

	while (q < r->end && *q != '"' && *q != '\\' &&
	    (unsigned char)*q >= 0x20)
		q++;
	if (q < r->end && *q == '"') {	/* no escapes: the common case */
		*s = start;
		*len = (size_t)(q - start);
		r->p = q + 1;
		return 0;
	}
	/* Decoded text is never longer than the escaped text. */
	need = (size_t)(r->end - start) + 1;
	if (need > *cap) {
		if ((nb = realloc(*buf, need)) == NULL)
			return jfail(r, "out of memory");
		*buf = nb;
		*cap = need;
	}
	for (q = start; q < r->end && *q != '"'; ) {
		if ((unsigned char)*q < 0x20)
			return jfail(r, "a control character in a string");
		if (*q != '\\') {
			(*buf)[n++] = *q++;
			continue;
		}
		if (++q >= r->end)
			break;
		switch (*q++) {
		case '"': (*buf)[n++] = '"'; break;
		case '\\': (*buf)[n++] = '\\'; break;
		case '/': (*buf)[n++] = '/'; break;
		case 'b': (*buf)[n++] = '\b'; break;
		case 'f': (*buf)[n++] = '\f'; break;
		case 'n': (*buf)[n++] = '\n'; break;
		case 'r': (*buf)[n++] = '\r'; break;
		case 't': (*buf)[n++] = '\t'; break;
		case 'u':
			if (r->end - q < 4 || hex4(q, &c) != 0)
				return jfail(r, "a bad \\u escape");
			q += 4;
			if (c == 0)
				return jfail(r, "a NUL character (\\u0000) "
				    "in a string");
			if (c >= 0xdc00 && c <= 0xdfff)
				return jfail(r, "a lone surrogate in a "
				    "\\u escape");
			if (c >= 0xd800 && c <= 0xdbff) {
				if (r->end - q < 6 || q[0] != '\\' ||
				    q[1] != 'u' || hex4(q + 2, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return jfail(r, "a lone surrogate in "
					    "a \\u escape");
				q += 6;
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			/* \uXXXX is 6 bytes for at most 3, a pair 12
			 * for 4: the buffer cannot overflow. */
			n += put_utf8(*buf + n, c);
			break;
		default:
			return jfail(r, "a bad escape in a string");
		}
	}
	if (q >= r->end)
		return jfail(r, "a string is not closed");
	r->p = q + 1;
	*s = *buf;
	*len = n;
	return 0;
}

/*
 * jnum - the number at r->p, as JSON writes one.  An integer that fits
 * 64 bits is K_INT, anything else K_REAL; a number too large for a
 * double (1e999) is refused rather than stored as Inf.
 */
static int
jnum(struct jrd *r, struct val *v)
{
	const char *q = r->p, *d;
	char tmp[64], *end;
	int isint = 1;
	size_t n;

	if (q < r->end && *q == '-')
		q++;
	d = q;
	while (q < r->end && *q >= '0' && *q <= '9')
		q++;
	if (q == d || (*d == '0' && q - d > 1))
		return jfail(r, "a bad number");
	if (q < r->end && *q == '.') {
		isint = 0;
		d = ++q;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
		if (q == d)
			return jfail(r, "a bad number");
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		isint = 0;
		q++;
		if (q < r->end && (*q == '+' || *q == '-'))
			q++;
		d = q;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
		if (q == d)
			return jfail(r, "a bad number");
	}
	if ((n = (size_t)(q - r->p)) >= sizeof(tmp))
		return jfail(r, "a number of more than 63 characters");
	memcpy(tmp, r->p, n);
	tmp[n] = '\0';
	r->p = q;
	errno = 0;
	if (isint) {
		v->i = strtoll(tmp, &end, 10);
		if (errno == 0) {
			v->kind = K_INT;
			return 0;
		}
	}
	v->kind = K_REAL;
	errno = 0;
	v->r = strtod(tmp, &end);
	if (!isfinite(v->r))
		return jfail(r, "a number too large (not finite)");
	return 0;
}

static int
jlit(struct jrd *r, const char *lit, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return jfail(r, "not valid JSON");
	r->p += n;
	return 0;
}

/* Skip any JSON value (a member skm does not know), checking it. */
static int
jskip(struct jrd *r, struct import_job *job, int depth)
{
	const char *s;
	size_t len;
	struct val v;
	int obj;

	jws(r);
	if (r->p >= r->end)
		return jfail(r, "not valid JSON");
	if (depth > 64)
		return jfail(r, "nested more than 64 deep");
	switch (*r->p) {
	case '"':
		return jstr(r, &job->sbuf, &job->scap, &s, &len);
	case 't': return jlit(r, "true", 4);
	case 'f': return jlit(r, "false", 5);
	case 'n': return jlit(r, "null", 4);
	case '[':
	case '{':
		obj = *r->p++ == '{';
		jws(r);
		if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
			r->p++;
			return 0;
		}
		for (;;) {
			if (obj) {
				jws(r);
				if (r->p >= r->end || *r->p != '"' ||
				    jstr(r, &job->sbuf, &job->scap, &s,
				    &len) != 0)
					return jfail(r, r->why ? r->why :
					    "not valid JSON");
				jws(r);
				if (r->p >= r->end || *r->p++ != ':')
					return jfail(r, "not valid JSON");
			}
			if (jskip(r, job, depth + 1) != 0)
				return -1;
			jws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
				r->p++;
				return 0;
			}
			return jfail(r, "not valid JSON");
		}
	}
	return jnum(r, &v);
}

/*
 * jarray - follow_up_actions: an array whose elements are all strings
 * of at most SKM_FIELD_MAX bytes gives K_ARRAY with its text; already
 * minified (no space between elements), that text is what json() would
 * store.  Anything else in the array gives K_OTHER.
 */
static int
jarray(struct jrd *r, struct import_job *job, struct val *v)
{
	const char *start = r->p, *s;
	size_t len;
	int strings = 1;

	v->minified = 1;
	r->p++;
	if (r->p < r->end && *r->p != ']' && *r->p != '"')
		v->minified = 0;
	jws(r);
	if (r->p < r->end && *r->p == ']')
		goto done;
	for (;;) {
		jws(r);
		if (r->p < r->end && *r->p == '"') {
			if (jstr(r, &job->sbuf, &job->scap, &s, &len) != 0)
				return -1;
			if (len > SKM_FIELD_MAX)
				strings = 0;
		} else {
			strings = 0;
			if (jskip(r, job, 1) != 0)
				return -1;
		}
		if (r->p < r->end && *r->p != ',' && *r->p != ']')
			v->minified = 0;
		jws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			if (r->p < r->end && *r->p != '"')
				v->minified = 0;
			continue;
		}
		if (r->p < r->end && *r->p == ']')
			break;
		return jfail(r, "not valid JSON");
	}
done:
	r->p++;
	/* Not all strings: SQLite's check (check_array) says what is
	 * wrong. */
	v->kind = K_ARRAY;
	if (!strings)
		v->minified = 0;
	v->nonstr = !strings;
	v->text = start;
	v->len = (int)(r->p - start);
	return 0;
}

/* The value of known field fi at r->p into v. */
static int
jvalue(struct jrd *r, struct import_job *job, struct val *v)
{
	const char *s;
	size_t len;

	memset(v, 0, sizeof(*v));
	if (r->p >= r->end)
		return jfail(r, "not valid JSON");
	switch (*r->p) {
	case '"':
		if (jstr(r, &job->sbuf, &job->scap, &s, &len) != 0)
			return -1;
		if (len > INT_MAX / 2)
			return jfail(r, "a string too long");
		v->kind = K_TEXT;
		v->text = s;
		v->len = (int)len;
		return 0;
	case 't':
		v->kind = K_BOOL;
		v->i = 1;
		return jlit(r, "true", 4);
	case 'f':
		v->kind = K_BOOL;
		return jlit(r, "false", 5);
	case 'n':
		v->kind = K_NULL;
		return jlit(r, "null", 4);
	case '[':
		return jarray(r, job, v);
	case '{':
		v->kind = K_OTHER;
		return jskip(r, job, 1);
	}
	return jnum(r, v);
}

/*
 * json_record - one JSON Lines record (len bytes at line, from its '{'):
 * each member skm knows is checked and staged, the others skipped.
 */
static int
json_record(struct import_job *job, const char *line, size_t len)
{
	struct jrd r = { line + 1, line + len, NULL };
	const char *key;
	struct val v;
	size_t klen;
	int rc, fi, hint = 0;

	new_record(job);
	jws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto done;
	}
	for (;;) {
		jws(&r);
		if (r.p >= r.end || *r.p != '"' ||
		    jstr(&r, &job->kbuf, &job->kcap, &key, &klen) != 0)
			goto invalid;
		fi = klen < 64 ? find_field(key, (int)klen, hint) : -1;
		jws(&r);
		if (r.p >= r.end || *r.p++ != ':')
			goto invalid;
		jws(&r);
		if (fi < 0) {
			if (jskip(&r, job, 1) != 0)
				goto invalid;	/* not ours: ignored */
		} else {
			hint = fi + 1;
			if (jvalue(&r, job, &v) != 0)
				return bad(job, fields[fi].name, r.why);
			if ((rc = set_field(job, fi, &v)) != SKM_OK)
				return rc;
		}
		jws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}') {
			r.p++;
			break;
		}
		goto invalid;
	}
done:
	jws(&r);
	if (r.p != r.end) {
		r.why = "text after the object";
		goto invalid;
	}
	return finish_record(job);
invalid:
	if (r.why != NULL) {
		char msg[128];

		snprintf(msg, sizeof(msg), "not a valid JSON object: %s",
		    r.why);
		return bad(job, NULL, msg);
	}
	return bad(job, NULL, "not a valid JSON object");
}

/* A batch stops taking records at this many bytes of values. */
#define BATCH_BYTES	(4 * 1024 * 1024)

/* Read JSON Lines records into the batch being filled until it is full:
 * SKM_OK (b->last set at the end of the input) or what was wrong. */
static int
read_jsonl(struct import_job *job)
{
	struct batch *b = job->b;
	const char *line;
	size_t i;
	ssize_t n;
	int rc;

	while (b->n < BATCH_RECS && b->used < BATCH_BYTES) {
		if ((n = getline(&job->line_buf, &job->line_cap, job->in)) ==
		    -1) {
			b->last = 1;
			break;
		}
		line = job->line_buf;
		job->line++;
		for (i = 0; i < (size_t)n && strchr(" \t\r\n", line[i]); i++)
			;
		if (i == (size_t)n)
			continue;	/* a blank line */
		if (line[i] != '{')
			return bad(job, NULL, "not a JSON object");
		if (memchr(line, '\0', n) != NULL)
			return bad(job, NULL, "holds a NUL byte");
		if ((rc = json_record(job, line + i, (size_t)n - i)) != SKM_OK)
			return rc;
	}
	return SKM_OK;
}

static int
csv_putc(struct csvrec *r, int c)
{
	char *nb;

	if (r->len == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		if ((nb = realloc(r->buf, r->cap)) == NULL)
			return -1;
		r->buf = nb;
	}
	r->buf[r->len++] = (char)c;
	return 0;
}

static int
csv_field(struct csvrec *r, size_t start, int quoted)
{
	size_t *no, *nl;
	int *nq;

	if (r->n == r->ncap) {
		r->ncap = r->ncap ? 2 * r->ncap : 32;
		no = reallocarray(r->off, r->ncap, sizeof(*no));
		if (no != NULL)
			r->off = no;
		nl = reallocarray(r->flen, r->ncap, sizeof(*nl));
		if (nl != NULL)
			r->flen = nl;
		nq = reallocarray(r->quoted, r->ncap, sizeof(*nq));
		if (nq != NULL)
			r->quoted = nq;
		if (no == NULL || nl == NULL || nq == NULL)
			return -1;
	}
	r->off[r->n] = start;
	r->flen[r->n] = r->len - start;
	r->quoted[r->n] = quoted;
	r->n++;
	return csv_putc(r, '\0');
}

/*
 * csv_read - read one RFC 4180 record: fields separated by ',', records
 * by LF or CRLF, a field in double quotes may hold commas, newlines and
 * "" for a quote.  job->line gets the line the record starts on.
 * Returns 1 for a record, 0 at the end, -1 for an error (*why says what).
 */
static int
csv_read(struct import_job *job, struct csvrec *r, long long *nextline,
    const char **why)
{
	FILE *f = job->in;
	size_t start;
	int c, quoted;

	r->len = 0;
	r->n = 0;
	job->line = *nextline;
	if ((c = getc(f)) == EOF)
		return 0;
	for (;;) {
		start = r->len;
		quoted = 0;
		if (c == '"') {
			quoted = 1;
			for (;;) {
				if ((c = getc(f)) == EOF) {
					*why = "a quoted field is not closed";
					return -1;
				}
				if (c == '"' && (c = getc(f)) != '"')
					break;
				if (c == '\n')
					(*nextline)++;
				if (csv_putc(r, c) != 0)
					goto nomem;
			}
		} else {
			while (c != ',' && c != '\n' && c != EOF) {
				if (c == '"') {
					*why = "a quote inside an unquoted "
					    "field";
					return -1;
				}
				if (csv_putc(r, c) != 0)
					goto nomem;
				c = getc(f);
			}
			/* CRLF: the CR belongs to the line end. */
			if (c != ',' && r->len > start &&
			    r->buf[r->len - 1] == '\r')
				r->len--;
		}
		if (c == '\r' && quoted)
			c = getc(f);
		if (c != ',' && c != '\n' && c != EOF) {
			*why = "text after a closing quote";
			return -1;
		}
		if (csv_field(r, start, quoted) != 0)
			goto nomem;
		if (c != ',')
			break;
		c = getc(f);
	}
	(*nextline)++;
	return 1;
nomem:
	*why = "out of memory";
	return -1;
}

static void
csv_free(struct csvrec *r)
{
	free(r->buf);
	free(r->off);
	free(r->flen);
	free(r->quoted);
}

/* The header row: which field each column is (-1: not ours). */
static int
csv_header(struct import_job *job, struct csvrec *r)
{
	uint32_t seen = 0;
	const char *name;
	int i, fi;

	if ((job->map = calloc(r->n, sizeof(*job->map))) == NULL)
		return nomem(job);
	job->ncol = r->n;
	for (i = 0; i < r->n; i++) {
		name = r->buf + r->off[i];
		fi = find_field(name, (int)r->flen[i], 0);
		job->map[i] = fi;
		if (fi < 0)
			continue;
		if (seen & (1u << fi))
			return bad(job, name, "column named twice");
		seen |= 1u << fi;
	}
	for (fi = 0; fi < NFIELDS; fi++)
		if (fields[fi].required && !(seen & (1u << fi)))
			return bad(job, NULL, "the header has no column "
			    "named id, skill_name, invoked_at or completed");
	return SKM_OK;
}

/* Read CSV records into the batch being filled until it is full, as
 * read_jsonl reads JSON Lines. */
static int
read_csv(struct import_job *job)
{
	struct batch *b = job->b;
	struct csvrec *r = &job->cr;
	struct val v;
	const char *why = NULL;
	int got, i, rc = SKM_OK;
	char msg[80];

	while (b->n < BATCH_RECS && b->used < BATCH_BYTES) {
		if ((got = csv_read(job, r, &job->csv_next, &why)) < 0)
			return bad(job, NULL, why);
		if (got == 0) {
			b->last = 1;
			break;
		}
		if (r->n == 1 && r->flen[0] == 0 && !r->quoted[0])
			continue;	/* a blank line */
		if (job->map == NULL) {
			if ((rc = csv_header(job, r)) != SKM_OK)
				return rc;
			continue;
		}
		if (r->n != job->ncol) {
			snprintf(msg, sizeof(msg), "%d fields, the header "
			    "has %d", r->n, job->ncol);
			return bad(job, NULL, msg);
		}
		new_record(job);
		for (i = 0; i < r->n && rc == SKM_OK; i++) {
			if (job->map[i] < 0)
				continue;
			memset(&v, 0, sizeof(v));
			v.csv = 1;
			/* Empty is NULL; a quoted "" is an empty string. */
			v.kind = r->flen[i] == 0 && !r->quoted[i] ? K_NULL :
			    K_TEXT;
			v.text = r->buf + r->off[i];
			v.len = (int)r->flen[i];
			rc = set_field(job, job->map[i], &v);
		}
		if (rc != SKM_OK || (rc = finish_record(job)) != SKM_OK)
			return rc;
	}
	return SKM_OK;
}

/* The reader: fill the batch job->b from the input. */
static void
fill_batch(struct import_job *job)
{
	struct batch *b = job->b;

	b->n = 0;
	b->used = 0;
	b->last = 0;
	b->err[0] = '\0';
	b->rc = job->csv ? read_csv(job) : read_jsonl(job);
	if (b->rc != SKM_OK)
		b->last = 1;
}

/* The inserter: bind record r (in batch b) and insert it; r->inserted
 * says whether its id was new (count_batch counts it then). */
static int
insert_rec(struct skm_db *db, struct import_job *job, struct batch *b,
    struct rec *r)
{
	sqlite3_stmt *ins = job->ins;
	const struct bval *v;
	int fi, rc, src;

	for (fi = 0; fi < NFIELDS; fi++) {
		v = &r->v[fi];
		switch (v->kind) {
		case B_NULL:
			sqlite3_bind_null(ins, fi + 1);
			break;
		case B_INT:
			sqlite3_bind_int64(ins, fi + 1, v->u.i);
			break;
		case B_REAL:
			sqlite3_bind_double(ins, fi + 1, v->u.r);
			break;
		case B_TEXT:
			sqlite3_bind_text(ins, fi + 1, b->arena + v->u.off,
			    v->len, SQLITE_STATIC);
			break;
		case B_BLOB:
			sqlite3_bind_blob(ins, fi + 1, b->arena + v->u.off,
			    v->len, SQLITE_STATIC);
			break;
		case B_JSON:
			if ((rc = check_json(db, job, b, r)) != SKM_OK)
				return rc;
			break;
		}
	}
	src = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "import");
	job->res.records++;
	r->inserted = sqlite3_changes(db->conn) == 1;
	if (!r->inserted)
		return SKM_OK;          /* the id was there: skipped */
	job->res.inserted++;
	return r->v[FI_FOLLOWUP].kind == B_JSON ? json_follow(db, b, r) :
	    SKM_OK;
}

/* The inserter: every record of batch b, then what stopped the reader
 * after them, if anything did. */
static int
insert_batch(struct skm_db *db, struct import_job *job, struct batch *b)
{
	int i, rc;

	for (i = 0; i < b->n; i++)
		if ((rc = insert_rec(db, job, b, &b->rec[i])) != SKM_OK)
			return rc;
	b->inserted = 1;
	if (b->rc != SKM_OK)
		return skm__store_fail(db, b->rc, "%s", b->err);
	return SKM_OK;
}

/* The reader's thread: count and fill the batches in turn, each once the
 * inserter is done with it, until the input ends, it is wrong, or the
 * inserter stops. */
static void *
reader_main(void *arg)
{
	struct import_job *job = arg;
	struct batch *b;
	int i, last, stop;

	for (i = 0;; i = (i + 1) % NBATCH) {
		pthread_mutex_lock(&job->mu);
		while (job->full[i] && !job->stop)
			pthread_cond_wait(&job->cv, &job->mu);
		stop = job->stop;
		pthread_mutex_unlock(&job->mu);
		if (stop)
			break;
		job->b = b = job->batch[i];
		if (b->inserted && count_batch(job, b) != SKM_OK) {
			b->n = 0;
			b->rc = nomem(job);
			b->last = 1;
		} else
			fill_batch(job);
		last = b->last;
		pthread_mutex_lock(&job->mu);
		job->full[i] = 1;
		pthread_cond_broadcast(&job->cv);
		pthread_mutex_unlock(&job->mu);
		if (last)
			break;
	}
	return NULL;
}

/*
 * import_load - read every record and insert it.  The reader (reading,
 * parsing and checking, reader_main) runs in a thread of its own while
 * this one inserts: at 1M records each is about half of the load.  The
 * records go between them in batches (NBATCH in turn).  The reader never
 * touches SQLite; what only SQLite checks (check_json) is done here.
 * Without a second thread the two take turns.
 */
static int
import_load(struct skm_db *db, struct import_job *job)
{
	sigset_t all, old;
	pthread_t t;
	int i, rc, last, threaded;

	for (i = 0; i < NBATCH; i++) {
		if (job->batch[i] == NULL &&
		    (job->batch[i] = calloc(1, sizeof(struct batch))) == NULL)
			return skm__store_fail(db, SKM_NOMEM, "import: out of "
			    "memory");
		job->full[i] = 0;
		job->batch[i]->inserted = 0;
	}
	job->stop = 0;
	job->line = job->line0;
	job->csv_next = job->line0 + 1;
	free(job->map);
	job->map = NULL;
	job->ncol = 0;
	/* Signals are for this thread, the caller's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	threaded = pthread_create(&t, NULL, reader_main, job) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!threaded) {
		job->b = job->batch[0];
		do {
			fill_batch(job);
			if ((rc = insert_batch(db, job, job->b)) == SKM_OK &&
			    count_batch(job, job->b) != SKM_OK)
				rc = skm__store_fail(db, SKM_NOMEM, "import: "
				    "out of memory");
		} while (rc == SKM_OK && !job->b->last);
		return rc;
	}
	for (i = 0;; i = (i + 1) % NBATCH) {
		pthread_mutex_lock(&job->mu);
		while (!job->full[i])
			pthread_cond_wait(&job->cv, &job->mu);
		pthread_mutex_unlock(&job->mu);
		rc = insert_batch(db, job, job->batch[i]);
		last = job->batch[i]->last;
		pthread_mutex_lock(&job->mu);
		job->full[i] = 0;
		if (rc != SKM_OK)
			job->stop = 1;
		pthread_cond_broadcast(&job->cv);
		pthread_mutex_unlock(&job->mu);
		if (rc != SKM_OK || last)
			break;
	}
	pthread_join(t, NULL);
	/* What the reader did not count before it was done. */
	for (i = 0; i < NBATCH && rc == SKM_OK; i++)
		if (job->batch[i]->inserted &&
		    count_batch(job, job->batch[i]) != SKM_OK)
			rc = skm__store_fail(db, SKM_NOMEM, "import: out of "
			    "memory");
	return rc;
}

static void
free_indexes(struct import_job *job)
{
	while (job->nindex > 0)
		sqlite3_free(job->index_sql[--job->nindex]);
}

/*
 * set_indexes_aside - into an empty table, the secondary indexes are
 * dropped before the load and made again after it (make_indexes): one
 * sort each instead of a B-tree insert per record into each, half the
 * time of the load.  Their SQL comes from sqlite_schema, so they come
 * back exactly as the migrations made them; all of it is inside the
 * import's transaction, so a failed import leaves them as they were.
 * The unique index on id stays: it is what skips ids already present.
 * So does the index of running invocations: every imported one is
 * ended, so it gets no rows, and making it again would cost a scan of
 * the table for nothing.
 */
#define ASIDE "FROM sqlite_schema WHERE type = 'index' " \
    "AND tbl_name = 'invocation' AND sql IS NOT NULL " \
    "AND name <> 'invocation_running'"
static int
set_indexes_aside(struct skm_db *db, struct import_job *job)
{
	static const char sql[] = "SELECT sql " ASIDE;
	static const char names[] =
	    "SELECT group_concat('DROP INDEX main.\"' || replace(name, '\"', "
	    "'\"\"') || '\";', '') " ASIDE;
	sqlite3_stmt *st;
	char *drop = NULL;
	int rc, src;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    job->nindex < (int)(sizeof(job->index_sql) /
	    sizeof(job->index_sql[0]))) {
		job->index_sql[job->nindex] = sqlite3_mprintf("%s",
		    sqlite3_column_text(st, 0));
		if (job->index_sql[job->nindex] == NULL)
			break;
		job->nindex++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE) {
		free_indexes(job);
		return src == SQLITE_ROW ? SKM_OK :	/* leave them be */
		    skm__store_sqlfail(db, src, "import");
	}
	/* No statement may be reading the schema while it changes. */
	if ((rc = skm__store_prepare(db, names, &st)) != SKM_OK)
		return rc;
	if ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		drop = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return skm__store_sqlfail(db, src, "import");
	rc = drop != NULL ? skm__store_exec(db, drop) : SKM_OK;
	sqlite3_free(drop);
	return rc;
}

/*
 * make_indexes - make the indexes set aside again, each by one sort of
 * the table's keys.  SQLite sorts in runs of the page cache's size (the
 * default 2 MB here)
 * written to temporary files and merged, on worker threads where there
 * is a core free; one run of a million keys sorted in memory (what the
 * import's large cache and in-memory temporary files would make) takes
 * twice as long: its lists no longer fit in the CPU's caches.  Where no
 * temporary file can be written, the sort is done in memory after all.
 */
static int
make_indexes(struct skm_db *db, struct import_job *job)
{
	sqlite3_stmt *st;
	char cache[64] = "";
	int i, rc = SKM_OK;

	if (skm__store_prepare(db, "PRAGMA cache_size", &st) == SKM_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(cache, sizeof(cache), "PRAGMA cache_size = %lld",
			    (long long)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
	}
	skm__store_exec(db, "PRAGMA cache_size = -2000; "
	    "PRAGMA temp_store = FILE; PRAGMA threads = 2");
	for (i = 0; i < job->nindex && rc == SKM_OK; i++) {
		rc = skm__store_exec(db, job->index_sql[i]);
		if (rc != SKM_OK && !sqlite3_get_autocommit(db->conn) &&
		    skm__store_exec(db, "PRAGMA temp_store = MEMORY") ==
		    SKM_OK) {
			skm__store_clear(db);
			rc = skm__store_exec(db, job->index_sql[i]);
		}
	}
	skm__store_exec(db, "PRAGMA temp_store = MEMORY; PRAGMA threads = 0");
	if (cache[0] != '\0')
		skm__store_exec(db, cache);
	free_indexes(job);
	return rc;
}

/* The last rowid of the invocations, 0 when there are none. */
static const char maxrow[] =
    "SELECT coalesce(max(rowid), 0) FROM invocation";

/* Are there no invocations in the store (as of now)? */
static int
store_empty(struct skm_db *db)
{
	sqlite3_stmt *st;
	int empty;

	if (skm__store_prepare(db, maxrow, &st) != SKM_OK)
		return 0;
	empty = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) == 0;
	sqlite3_reset(st);
	return empty;
}

static int
import_tx(struct skm_db *db, void *arg)
{
	struct import_job *job = arg;
	sqlite3_stmt *st;
	long long before;
	int rc, src, c;

	/* skm__store_write() starts again after SQLITE_BUSY: so does the input,
	 * if it can. */
	if (job->attempts++ > 0) {
		if (job->start < 0 || fseeko(job->in, job->start, SEEK_SET))
			return skm__store_fail(db, SKM_IOERR, "import: the store "
			    "was busy and the input cannot be read again");
		clearerr(job->in);
	}
	memset(&job->res, 0, sizeof(job->res));
	if ((rc = skm__store_prepare(db, maxrow, &st)) != SKM_OK)
		return rc;
	src = sqlite3_step(st);
	before = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return skm__store_sqlfail(db, src, "import");
	free_indexes(job);
	skm__agg_clear(job->agg);
	if (before == 0 && (rc = set_indexes_aside(db, job)) != SKM_OK)
		return rc;
	sqlite3_finalize(job->ins);
	job->ins = NULL;
	src = sqlite3_prepare_v3(db->conn, insert_sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &job->ins, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "import");

	/* JSON Lines start with '{'; anything else is CSV.  Blank lines
	 * and a byte order mark before are read here (and counted). */
	job->line0 = 0;
	if ((c = getc(job->in)) == 0xef && getc(job->in) == 0xbb &&
	    getc(job->in) == 0xbf)
		c = getc(job->in);
	for (; c == ' ' || c == '\t' || c == '\r' || c == '\n';
	    c = getc(job->in))
		if (c == '\n')
			job->line0++;
	if (c != EOF)
		ungetc(c, job->in);
	job->csv = c != '{';
	rc = c == EOF ? SKM_OK : import_load(db, job);
	if (rc == SKM_OK && ferror(job->in))
		rc = skm__store_fail(db, SKM_IOERR, "import: read error");
	if (rc == SKM_OK)
		rc = make_indexes(db, job);
	if (rc == SKM_OK) {
		job->res.skipped = job->res.records - job->res.inserted;
		job->res.skills = skm__agg_nskills(job->agg);
		rc = skm__agg_flush(db, job->agg, 1);
	}
	/* The percentiles of the skills that got rows, stored now. */
	if (rc == SKM_OK)
		rc = skm__agg_percentiles_stale(db, NULL);
	return rc;
}

int
skm_import(struct skm_db *db, FILE *in, struct skm_import_result *res)
{
	struct import_job job;
	int rc, i, solo;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	skm__store_bulk(db);
	if (in == NULL)
		return skm__store_fail(db, SKM_MISUSE, "import: no input");
	memset(&job, 0, sizeof(job));
	job.in = in;
	job.start = ftello(in);
	job.redact = getenv("SKM_REDACT");
	if ((job.agg = skm__agg_new()) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "import: out of memory");
	pthread_mutex_init(&job.mu, NULL);
	pthread_cond_init(&job.cv, NULL);
	/* Into an empty store nearly every page is new: write them once,
	 * through a rollback journal, not into the WAL and then again into
	 * the store (skm__store_leave_wal; only when no other connection
	 * has the store open). */
	solo = store_empty(db) && skm__store_leave_wal(db);
	/* In the WAL a bulk load touches far more pages than the 2 MB
	 * default cache: spilling them into the WAL before the commit
	 * doubles the writes.  Through a rollback journal a page spilt is
	 * written where it belongs, once, and the bulk cache
	 * (skm__store_bulk) is faster than a larger one: fewer pages to
	 * allocate and fault in, a sorter that fits the CPU's caches better
	 * (1M lines: 7.5 s against 9.5 s with the larger cache). */
	if (!solo)
		skm__store_exec(db, "PRAGMA cache_size = -" IMPORT_CACHE_KB);
	/* A statement that fires triggers keeps a statement journal, a
	 * temporary file written at every insert: in memory, it is cheap. */
	skm__store_exec(db, "PRAGMA temp_store = MEMORY");
	rc = skm__store_write(db, import_tx, &job);
	if (solo)
		skm__store_back_to_wal(db);
	free_indexes(&job);
	sqlite3_finalize(job.ins);
	free(job.sbuf);
	free(job.kbuf);
	free(job.cmd_in);
	free(job.cmd_out);
	skm__agg_free(job.agg);
	for (i = 0; i < NBATCH; i++)
		if (job.batch[i] != NULL) {
			free(job.batch[i]->arena);
			free(job.batch[i]);
		}
	pthread_mutex_destroy(&job.mu);
	pthread_cond_destroy(&job.cv);
	free(job.line_buf);
	csv_free(&job.cr);
	free(job.map);
	free(job.fbuf);
	free(job.fu);
	skm__store_exec(db, "PRAGMA cache_size = -2000");
	skm__store_exec(db, "PRAGMA temp_store = DEFAULT");
	if (rc == SKM_OK && res != NULL)
		*res = job.res;
	return rc;
}

/*
 * real_text_fn - skm_real_text(x): a real as the shortest decimal text
 * that reads back to the same double (15, 16 or 17 significant digits,
 * the first that round-trips), with ".0" when it would look like an
 * integer, as SQLite writes reals.  For a normal double nothing shorter
 * than 15 digits can read back unless %.15g already prints it (trailing
 * zeros dropped); a subnormal has fewer digits of precision, so its
 * search starts at 1 (5e-324, not 4.94065645841247e-324).  NULL for NULL
 * and for what is not finite (no JSON number can say it; import never
 * stores one).
 */
static void
real_text_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char buf[40];
	double d;
	int p;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER) {
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)sqlite3_value_int64(argv[0]));
		sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
		return;
	}
	d = sqlite3_value_double(argv[0]);
	if (!isfinite(d))
		return;
	for (p = isnormal(d) || d == 0 ? 15 : 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (p == 17)
		snprintf(buf, sizeof(buf), "%.17g", d);
	if (strpbrk(buf, ".e") == NULL)
		strlcat(buf, ".0", sizeof(buf));
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/*
 * export_sql - the SELECT giving one output line per invocation, built
 * from fields[] (constants of this file, quoted with %w) so export and
 * import always agree on the columns.
 */
static char *
export_sql(int csv)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i;

	sqlite3_str_appendall(s, csv ? "SELECT " : "SELECT json_object(");
	for (i = 0; i < NFIELDS; i++) {
		const char *n = fields[i].name;

		if (csv && fields[i].type == F_REAL)
			sqlite3_str_appendf(s, "%scoalesce(skm_real_text("
			    "\"%w\"), '')", i ? " || ',' || " : "", n);
		else if (csv)
			sqlite3_str_appendf(s, "%sCASE WHEN \"%w\" IS NULL "
			    "THEN '' WHEN typeof(\"%w\") = 'text' THEN '\"' || "
			    "replace(\"%w\", '\"', '\"\"') || '\"' ELSE "
			    "CAST(\"%w\" AS TEXT) END", i ? " || ',' || " : "",
			    n, n, n, n);
		else if (fields[i].type == F_ARRAY)
			sqlite3_str_appendf(s, "%s'%q', json(\"%w\")",
			    i ? ", " : "", n, n);
		else if (fields[i].type == F_REAL)
			sqlite3_str_appendf(s, "%s'%q', json(skm_real_text("
			    "\"%w\"))", i ? ", " : "", n, n);
		else
			sqlite3_str_appendf(s, "%s'%q', \"%w\"", i ? ", " : "",
			    n, n);
	}
	sqlite3_str_appendall(s, csv ? "" : ")");
	/* The stored ids and times as text (migration 7), and the time as
	 * stored to order by. */
	sqlite3_str_appendall(s, " FROM (SELECT ");
	for (i = 0; i < NFIELDS; i++)
		sqlite3_str_appendf(s, is_key(i) ? "skm_uuid(\"%w\") AS \"%w\", " :
		    fields[i].type == F_TIME ? "skm_iso(\"%w\") AS \"%w\", " :
		    "\"%w\", ", fields[i].name, fields[i].name);
	sqlite3_str_appendall(s, "invoked_at AS skm_t FROM invocation "
	    "WHERE ended_at IS NOT NULL "
	    "AND (?1 IS NULL OR skill_name = ?1) "
	    "AND (?2 IS NULL OR invoked_at >= skm_ms(?2))) "
	    "ORDER BY skm_t, id");
	return sqlite3_str_finish(s);
}

int
skm_export(struct skm_db *db, const struct skm_export_args *args,
    FILE *out, long long *nrows)
{
	static const struct skm_export_args none;
	char since[TP_ISO_LEN], err[160], *sql;
	sqlite3_stmt *st = NULL;
	long long ms, n = 0;
	int rc, src, i;

	skm__fold_moved(db);
	if (nrows != NULL)
		*nrows = 0;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	skm__store_bulk(db);
	if (args == NULL)
		args = &none;
	if (out == NULL)
		return skm__store_fail(db, SKM_MISUSE, "export: no output");
	if (args->format == SKM_EXPORT_OTLP_JSON)
		return skm__export_otlp(db, args, out, nrows);
	if (args->format != SKM_EXPORT_JSONL && args->format != SKM_EXPORT_CSV)
		return skm__store_fail(db, SKM_MISUSE, "export: unknown format %d",
		    args->format);
	if (args->since != NULL && skm__tp_parse_since(args->since, skm__tp_now_ms(),
	    &ms, since, err, sizeof(err)) != 0)
		return skm__store_fail(db, SKM_MISUSE, "--since %s", err);
	if (sqlite3_create_function(db->conn, "skm_real_text", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    real_text_fn, NULL, NULL) != SQLITE_OK)
		return skm__store_sqlfail(db, sqlite3_errcode(db->conn), "export");
	if ((sql = export_sql(args->format == SKM_EXPORT_CSV)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "export: out of memory");
	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "export");
	if (args->skill != NULL)
		sqlite3_bind_text(st, 1, args->skill, -1, SQLITE_STATIC);
	if (args->since != NULL)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	if (args->format == SKM_EXPORT_CSV)
		for (i = 0; i < NFIELDS; i++)
			fprintf(out, "%s%s", fields[i].name,
			    i + 1 < NFIELDS ? "," : "\n");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		fwrite(sqlite3_column_text(st, 0), 1,
		    (size_t)sqlite3_column_bytes(st, 0), out);
		putc('\n', out);
		n++;
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "export");
	if (fflush(out) == EOF || ferror(out))
		return skm__store_fail(db, SKM_IOERR, "export: write error: %s",
		    strerror(errno));
	if (nrows != NULL)
		*nrows = n;
	return SKM_OK;
}
