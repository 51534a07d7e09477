/*
 * aggregate.c - skill_metrics and session_skill: the incremental update at
 * every end, the full recompute, persisted percentiles and the check that
 * the two agree.
 *
 * Counters, sums, min/max, the JSON count maps, the counts of the
 * invocation's (skill, workflow path) pair (skill_workflow) and of its
 * skill and hour (skill_timeline) are updated at every end (O(1) each).
 * Order statistics are not: an end marks its skill's p50/p95/p99 stale
 * (percentiles_valid = 0); the next query that needs them computes them
 * exactly through the (skill_name, completed, duration_seconds) index
 * and stores them (agg_refresh_percentiles), as do recompute,
 * end-session and import.  `skm check` holds every one of these to a
 * recompute.
 *
 * The count maps are JSON objects whose keys are arbitrary strings.  They
 * are changed with json_patch(map, json_object(key, n)), never with a JSON
 * path built from the key, so keys with dots, quotes or backslashes stay
 * verbatim (the reference design's '$.' || key nested them).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema.h"
#include "skm-int.h"

static int
step_done(struct skm_db *db, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);

	sqlite3_reset(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return skm__store_sqlfail(db, src, what);
	return SKM_OK;
}

/* The hour (epoch seconds, a multiple of 3600) that the second u is in:
 * floor, also before 1970. */
#define AGG_HOUR_S(u) "((" u ") - (((" u ") % 3600) + 3600) % 3600)"
/* invoked_at is in milliseconds (migration 7): its second, rounded down. */
#define AGG_HOUR(t) AGG_HOUR_S(SKM__SQL_SEC(t))

/*
 * The accumulator.  Each ended invocation counted (skm__agg_count) adds
 * to one entry per thing it changes: its skill's row of skill_metrics,
 * each key of the skill's count maps, its (skill, workflow path) pair,
 * its skill and hour, its session and skill.  skm__agg_flush() writes
 * each entry as one statement that adds the entry's totals to the row
 * (an upsert), so a batch of a thousand runs of one skill is a handful
 * of statements, not a thousand times that.  Entries are found through
 * a hash table over (kind, key), and written in the order they were
 * made, so a map's new keys come in the order their runs did.
 */
enum agg_kind {
	AK_SKILL, AK_WORKFLOWS, AK_ERRORS, AK_FOLLOWUPS, AK_PAIR, AK_HOUR,
	AK_SESSION, AK_NKINDS
};

struct agg_ent {
	int kind;
	int next;                /* the next entry in the bucket, or -1 */
	uint64_t hash;
	char *a, *b;             /* the key: skill, and the map key,
	                          * workflow path (NULL: none) or session */
	size_t an, bn;
	int own_a;               /* a is this entry's copy, not the one of
	                          * the skill's AK_SKILL entry */
	int64_t hour;
	long long n, c;          /* runs, completed runs */
	double d;                /* total duration of the completed runs */
	int has_mm;              /* min and max: of completed durations */
	double min, max;
	char *first, *last;      /* earliest and latest invoked_at */
	size_t firstcap, lastcap;
};

struct skm__agg {
	struct agg_ent *ent;
	int n, cap;
	int *bucket;             /* head entry of each bucket, or -1 */
	int nbucket;             /* a power of two */
	/* The entry last found for each of AGG_FRONT hashes (+1; 0:
	 * none): a run's keys are mostly those of runs just before it,
	 * found here without a walk through the large bucket array. */
	int front[1024];
};
#define AGG_FRONT 1024

struct skm__agg *
skm__agg_new(void)
{
	return calloc(1, sizeof(struct skm__agg));
}

void
skm__agg_clear(struct skm__agg *ag)
{
	int i;

	if (ag == NULL)
		return;
	for (i = 0; i < ag->n; i++) {
		if (ag->ent[i].own_a)
			free(ag->ent[i].a);
		free(ag->ent[i].b);
		free(ag->ent[i].first);
		free(ag->ent[i].last);
	}
	ag->n = 0;
	for (i = 0; i < ag->nbucket; i++)
		ag->bucket[i] = -1;
	memset(ag->front, 0, sizeof(ag->front));
}

void
skm__agg_free(struct skm__agg *ag)
{
	if (ag == NULL)
		return;
	skm__agg_clear(ag);
	free(ag->ent);
	free(ag->bucket);
	free(ag);
}

/* Mix n bytes at p into h, eight at a time. */
static uint64_t
agg_mix(uint64_t h, const char *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w ^ (uint64_t)n << 56) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 32;
}

static uint64_t
agg_hash(int kind, const char *a, size_t an, const char *b, size_t bn,
    int64_t hour)
{
	uint64_t h = 0x6a09e667f3bcc909ULL ^ (uint64_t)kind;

	h = agg_mix(h, a, an);
	h = b != NULL ? agg_mix(h, b, bn) : (h ^ 0x1fe) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (uint64_t)hour) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static int
agg_grow(struct skm__agg *ag)
{
	int nb = ag->nbucket ? ag->nbucket * 2 : 256, i, *bk;
	struct agg_ent *e;

	if (ag->n == ag->cap) {
		int cap = ag->cap ? ag->cap * 2 : 64;

		if ((e = reallocarray(ag->ent, (size_t)cap, sizeof(*e))) == NULL)
			return -1;
		ag->ent = e;
		ag->cap = cap;
	}
	if (ag->n < ag->nbucket / 2)
		return 0;
	if ((bk = malloc((size_t)nb * sizeof(*bk))) == NULL)
		return -1;
	for (i = 0; i < nb; i++)
		bk[i] = -1;
	for (i = 0; i < ag->n; i++) {
		e = &ag->ent[i];
		e->next = bk[e->hash & (uint64_t)(nb - 1)];
		bk[e->hash & (uint64_t)(nb - 1)] = i;
	}
	free(ag->bucket);
	ag->bucket = bk;
	ag->nbucket = nb;
	return 0;
}

/* Is e the entry of (kind, a, b, hour) of hash h? */
static int
agg_is(const struct agg_ent *e, uint64_t h, int kind, const char *a,
    size_t an, const char *b, size_t bn, int64_t hour)
{
	return e->hash == h && e->kind == kind && e->hour == hour &&
	    e->an == an && (e->a == a || memcmp(e->a, a, an) == 0) &&
	    (e->b == NULL) == (b == NULL) &&
	    (b == NULL || (e->bn == bn && memcmp(e->b, b, bn) == 0));
}

/*
 * The entry of (kind, a, b, hour), made if need be; NULL: no memory.
 * Every kind but AK_SKILL gets as a the skill's text as its AK_SKILL
 * entry keeps it (shared): kept by pointer, and found by it without
 * reading the text again.
 */
static struct agg_ent *
agg_entry(struct skm__agg *ag, int kind, const char *a, size_t an,
    const char *b, size_t bn, int64_t hour)
{
	uint64_t h = agg_hash(kind, a, an, b, bn, hour);
	int *front = &ag->front[(h >> 40) & (AGG_FRONT - 1)];
	struct agg_ent *e;
	int i;

	if (*front > 0 && agg_is(e = &ag->ent[*front - 1], h, kind, a, an, b,
	    bn, hour))
		return e;
	if (ag->nbucket > 0)
		for (i = ag->bucket[h & (uint64_t)(ag->nbucket - 1)]; i >= 0;
		    i = e->next) {
			e = &ag->ent[i];
			if (agg_is(e, h, kind, a, an, b, bn, hour)) {
				*front = i + 1;
				return e;
			}
		}
	if (agg_grow(ag) != 0)
		return NULL;
	e = &ag->ent[ag->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->hash = h;
	e->hour = hour;
	e->an = an;
	e->bn = bn;
	if (kind != AK_SKILL)
		e->a = (char *)a;	/* the AK_SKILL entry's: shared */
	else if ((e->a = malloc(an + 1)) != NULL) {
		memcpy(e->a, a, an);
		e->a[an] = '\0';
		e->own_a = 1;
	} else
		return NULL;
	if (b != NULL) {
		if ((e->b = malloc(bn + 1)) == NULL) {
			if (e->own_a)
				free(e->a);
			return NULL;
		}
		memcpy(e->b, b, bn);
		e->b[bn] = '\0';
	}
	e->next = ag->bucket[h & (uint64_t)(ag->nbucket - 1)];
	ag->bucket[h & (uint64_t)(ag->nbucket - 1)] = ag->n;
	*front = ++ag->n;
	return e;
}

/* Count one run into e: its count, completion and duration. */
static void
agg_one(struct agg_ent *e, const struct skm__agg_run *r)
{
	e->n++;
	if (r->completed) {
		e->c++;
		e->d += r->duration;
	}
}

/* Copy the text s into *dst (cap bytes, grown as needed). */
static int
agg_set(char **dst, size_t *cap, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > *cap) {
		if ((p = realloc(*dst, n < 32 ? 32 : n)) == NULL)
			return -1;
		*dst = p;
		*cap = n < 32 ? 32 : n;
	}
	memcpy(*dst, s, n);
	return 0;
}

/* Keep the earliest and latest invoked_at (ISO text orders by time). */
static int
agg_times(struct agg_ent *e, const char *iso)
{
	if ((e->first == NULL || strcmp(iso, e->first) < 0) &&
	    agg_set(&e->first, &e->firstcap, iso) != 0)
		return SKM_NOMEM;
	if ((e->last == NULL || strcmp(iso, e->last) > 0) &&
	    agg_set(&e->last, &e->lastcap, iso) != 0)
		return SKM_NOMEM;
	return SKM_OK;
}

/* Count one key into a count map of the skill sk (as its AK_SKILL entry
 * keeps it, n bytes). */
static int
agg_key(struct skm__agg *ag, int kind, const char *sk, size_t n,
    const struct skm__str *k)
{
	struct agg_ent *e;

	if ((e = agg_entry(ag, kind, sk, n, k->p, k->n, 0)) == NULL)
		return SKM_NOMEM;
	e->n++;
	return SKM_OK;
}

/*
 * skm__agg_count - count the ended run r into ag: nothing is written
 * until skm__agg_flush().  SKM_OK or SKM_NOMEM.
 */
int
skm__agg_count(struct skm__agg *ag, const struct skm__agg_run *r)
{
	struct agg_ent *e;
	const char *sk;
	size_t n = r->skill.n;
	int64_t hour;
	int i;

	if ((e = agg_entry(ag, AK_SKILL, r->skill.p, n, NULL, 0, 0)) == NULL)
		return SKM_NOMEM;
	sk = e->a;	/* stays where it is while ag->ent grows */
	agg_one(e, r);
	if (agg_times(e, r->invoked) != SKM_OK)
		return SKM_NOMEM;
	if (r->completed) {
		if (!e->has_mm || r->duration < e->min)
			e->min = r->duration;
		if (!e->has_mm || r->duration > e->max)
			e->max = r->duration;
		e->has_mm = 1;
	}
	if (r->workflow.p != NULL &&
	    agg_key(ag, AK_WORKFLOWS, sk, n, &r->workflow) != SKM_OK)
		return SKM_NOMEM;
	if (r->error.p != NULL &&
	    agg_key(ag, AK_ERRORS, sk, n, &r->error) != SKM_OK)
		return SKM_NOMEM;
	for (i = 0; i < r->nfollow; i++)
		if (agg_key(ag, AK_FOLLOWUPS, sk, n, &r->follow[i]) != SKM_OK)
			return SKM_NOMEM;
	if ((e = agg_entry(ag, AK_PAIR, sk, n, r->workflow.p, r->workflow.n,
	    0)) == NULL)
		return SKM_NOMEM;
	agg_one(e, r);
	/* The hour it began in: floor, also before 1970. */
	hour = r->invoked_s - ((r->invoked_s % 3600) + 3600) % 3600;
	if ((e = agg_entry(ag, AK_HOUR, sk, n, NULL, 0, hour)) == NULL)
		return SKM_NOMEM;
	agg_one(e, r);
	if (r->session.p != NULL) {
		if ((e = agg_entry(ag, AK_SESSION, sk, n, r->session.p,
		    r->session.n, 0)) == NULL)
			return SKM_NOMEM;
		agg_one(e, r);
		if (agg_times(e, r->invoked) != SKM_OK)
			return SKM_NOMEM;
	}
	return SKM_OK;
}

/* Bind the totals of e (count, completed, duration) to i, i+1, i+2. */
static void
bind_counts(sqlite3_stmt *st, int i, const struct agg_ent *e)
{
	sqlite3_bind_int64(st, i, e->n);
	sqlite3_bind_int64(st, i + 1, e->c);
	sqlite3_bind_double(st, i + 2, e->d);
}

/* Write one entry: add its totals to its row. */
static int
agg_write(struct skm_db *db, const struct agg_ent *e)
{
	static const char skill[] =
	    "INSERT INTO skill_metrics (skill_name, total_invocations, "
	    "completed_invocations, abandoned_invocations, "
	    "total_duration_seconds, min_duration_seconds, "
	    "max_duration_seconds, first_invoked, last_invoked, "
	    "last_aggregated_at) "
	    "VALUES (?1, ?2, ?3, ?2 - ?3, ?4, ?5, ?6, ?7, ?8, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
	    "ON CONFLICT (skill_name) DO UPDATE SET "
	    "total_invocations = total_invocations + "
	    "  excluded.total_invocations, "
	    "completed_invocations = completed_invocations + "
	    "  excluded.completed_invocations, "
	    "abandoned_invocations = abandoned_invocations + "
	    "  excluded.abandoned_invocations, "
	    "total_duration_seconds = total_duration_seconds + "
	    "  excluded.total_duration_seconds, "
	    "min_duration_seconds = coalesce(min(min_duration_seconds, "
	    "  excluded.min_duration_seconds), min_duration_seconds, "
	    "  excluded.min_duration_seconds), "
	    "max_duration_seconds = coalesce(max(max_duration_seconds, "
	    "  excluded.max_duration_seconds), max_duration_seconds, "
	    "  excluded.max_duration_seconds), "
	    "first_invoked = coalesce(min(first_invoked, "
	    "  excluded.first_invoked), excluded.first_invoked), "
	    "last_invoked = coalesce(max(last_invoked, excluded.last_invoked), "
	    "  excluded.last_invoked), "
	    "last_aggregated_at = excluded.last_aggregated_at, "
	    "percentiles_valid = 0";
	/* A key of a count map: json_patch(map, json_object(key, n)), never
	 * a JSON path built from the key. */
#define AGG_MAP(col) \
	    "UPDATE skill_metrics SET " col " = json_patch(" col ", " \
	    "json_object(?2, ?3 + coalesce((SELECT value FROM " \
	    "json_each(skill_metrics." col ") WHERE key = ?2), 0))) " \
	    "WHERE skill_name = ?1"
	static const char wf[] = AGG_MAP("workflow_paths");
	static const char er[] = AGG_MAP("common_errors");
	static const char fu[] = AGG_MAP("follow_up_actions");
	/* UNIQUE (skill_name, workflow_path) lets NULL paths repeat, so no
	 * upsert: an update, and an insert when it found no pair. */
	static const char pair[] =
	    "UPDATE skill_workflow SET invocation_count = invocation_count + ?3, "
	    "completed_count = completed_count + ?4, "
	    "total_duration_seconds = total_duration_seconds + ?5 "
	    "WHERE skill_name = ?1 AND workflow_path IS ?2";
	static const char pair_new[] =
	    "INSERT INTO skill_workflow (skill_name, workflow_path, "
	    "invocation_count, completed_count, total_duration_seconds) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char hour[] =
	    "INSERT INTO skill_timeline VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (skill_name, hour) DO UPDATE SET "
	    "invocation_count = invocation_count + excluded.invocation_count, "
	    "completed_count = completed_count + excluded.completed_count, "
	    "total_duration_seconds = total_duration_seconds + "
	    "  excluded.total_duration_seconds";
	static const char session[] =
	    "INSERT INTO session_skill (session_id, skill_name, "
	    "invocation_count, first_invoked, last_invoked, "
	    "total_duration_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (session_id, skill_name) DO UPDATE SET "
	    "invocation_count = invocation_count + excluded.invocation_count, "
	    "first_invoked = min(first_invoked, excluded.first_invoked), "
	    "last_invoked = max(last_invoked, excluded.last_invoked), "
	    "total_duration_seconds = total_duration_seconds + "
	    "  excluded.total_duration_seconds";
	static const char *const map_sql[] = { wf, er, fu };
	sqlite3_stmt *st;
	int rc;

	switch (e->kind) {
	case AK_SKILL:
		if ((rc = skm__store_prepare(db, skill, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->a, (int)e->an, SQLITE_STATIC);
		bind_counts(st, 2, e);
		if (e->has_mm) {
			sqlite3_bind_double(st, 5, e->min);
			sqlite3_bind_double(st, 6, e->max);
		}
		sqlite3_bind_text(st, 7, e->first, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e->last, -1, SQLITE_STATIC);
		return step_done(db, st, "aggregate");
	case AK_WORKFLOWS:
	case AK_ERRORS:
	case AK_FOLLOWUPS:
		if ((rc = skm__store_prepare(db, map_sql[e->kind - AK_WORKFLOWS],
		    &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->a, (int)e->an, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->b, (int)e->bn, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, e->n);
		return step_done(db, st, "aggregate maps");
	case AK_PAIR:
		if ((rc = skm__store_prepare(db, pair, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->a, (int)e->an, SQLITE_STATIC);
		if (e->b != NULL)
			sqlite3_bind_text(st, 2, e->b, (int)e->bn, SQLITE_STATIC);
		bind_counts(st, 3, e);
		if ((rc = step_done(db, st, "aggregate counts")) != SKM_OK ||
		    sqlite3_changes(db->conn) > 0)
			return rc;
		if ((rc = skm__store_prepare(db, pair_new, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->a, (int)e->an, SQLITE_STATIC);
		if (e->b != NULL)
			sqlite3_bind_text(st, 2, e->b, (int)e->bn, SQLITE_STATIC);
		bind_counts(st, 3, e);
		return step_done(db, st, "aggregate counts");
	case AK_HOUR:
		if ((rc = skm__store_prepare(db, hour, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->a, (int)e->an, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, e->hour);
		bind_counts(st, 3, e);
		return step_done(db, st, "aggregate counts");
	case AK_SESSION:
		if ((rc = skm__store_prepare(db, session, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, e->b, (int)e->bn, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->a, (int)e->an, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, e->n);
		sqlite3_bind_text(st, 4, e->first, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e->last, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 6, e->d);
		return step_done(db, st, "session aggregate");
	}
	return SKM_OK;
}

/* The order of a sorted flush: by kind, skill, key (as SQLite's BINARY
 * collation orders text: bytes, then length), hour. */
static int
cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : an < bn ? -1 : an > bn;
}

static const struct skm__agg *sort_ag;

static int
cmp_ent(const void *x, const void *y)
{
	const struct agg_ent *a = &sort_ag->ent[*(const int *)x];
	const struct agg_ent *b = &sort_ag->ent[*(const int *)y];
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = cmp_bytes(a->a, a->an, b->a, b->an)) != 0)
		return c;
	if ((a->b == NULL) != (b->b == NULL))
		return a->b == NULL ? -1 : 1;
	if (a->b != NULL && (c = cmp_bytes(a->b, a->bn, b->b, b->bn)) != 0)
		return c;
	return a->hour < b->hour ? -1 : a->hour > b->hour;
}

/* The number of skills ag has counted runs of. */
int
skm__agg_nskills(const struct skm__agg *ag)
{
	int i, n = 0;

	for (i = 0; ag != NULL && i < ag->n; i++)
		n += ag->ent[i].kind == AK_SKILL;
	return n;
}

/*
 * skm__agg_flush - write what ag has counted into skill_metrics (skills
 * first: the maps' updates need their rows), skill_workflow,
 * skill_timeline and session_skill, inside the caller's write
 * transaction, and empty ag.  sorted: in the order of their keys (a
 * bulk load: new rows go into the tables in order, and a map's new keys
 * come sorted, as a recompute makes them); else in the order they were
 * counted.  On failure ag is emptied too: the caller rolls back.
 */
int
skm__agg_flush(struct skm_db *db, struct skm__agg *ag, int sorted)
{
	int kind, i, rc = SKM_OK, *ord = NULL;

	if (ag == NULL)
		return SKM_OK;
	if (sorted && ag->n > 1 &&
	    (ord = malloc((size_t)ag->n * sizeof(*ord))) != NULL) {
		for (i = 0; i < ag->n; i++)
			ord[i] = i;
		sort_ag = ag;
		qsort(ord, (size_t)ag->n, sizeof(*ord), cmp_ent);
		sort_ag = NULL;
		for (i = 0; i < ag->n && rc == SKM_OK; i++)
			rc = agg_write(db, &ag->ent[ord[i]]);
		free(ord);
	} else
		for (kind = 0; kind < AK_NKINDS && rc == SKM_OK; kind++)
			for (i = 0; i < ag->n && rc == SKM_OK; i++)
				if (ag->ent[i].kind == kind)
					rc = agg_write(db, &ag->ent[i]);
	skm__agg_clear(ag);
	return rc;
}

/*
 * The recompute of skill_metrics from the ended invocations, as a SELECT
 * with the columns of skill_metrics.  ?1 is a skill or NULL for all.  Each
 * part is one pass over the invocations grouped by skill (and key), joined
 * at the end: correlated subqueries per skill would read every skill's
 * rows once per map, at random, which at a million invocations took
 * seconds.  The maps' keys come out in order; `skm check` compares maps
 * in canonical form (CANON) all the same.
 */
#define RECOMPUTE_WHERE \
	"ended_at IS NOT NULL AND (?1 IS NULL OR skill_name = ?1)"
#define RECOMPUTE_MAP(H, col) \
	"(SELECT skill_name, json_group_object(k, n) AS m FROM (" \
	"  SELECT skill_name, " col " AS k, count(*) AS n " \
	"  FROM invocation" H " WHERE " RECOMPUTE_WHERE \
	"  AND " col " IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2) " \
	"GROUP BY skill_name)"
/* H is how the passes read the table: for one skill through its index
 * (""), for all of them in one sequential scan each (" NOT INDEXED") --
 * walking the index there would look up every row of the table at
 * random, four times over.  WP is where the workflow path map comes
 * from: a pass over the invocations (RECOMPUTE_ALL, what `skm check`
 * compares with) or the pair counts (RECOMPUTE_WP_PAIRS). */
#define RECOMPUTE_T(H, WP) \
	"SELECT b.skill_name AS skill_name, total_invocations, " \
	"completed_invocations, abandoned_invocations, " \
	"total_duration_seconds, min_duration_seconds, max_duration_seconds, " \
	"coalesce(wp.m, '{}') AS workflow_paths, " \
	"coalesce(er.m, '{}') AS common_errors, " \
	"coalesce(fu.m, '{}') AS follow_up_actions, " \
	"first_invoked, last_invoked FROM (" \
	"  SELECT skill_name, count(*) AS total_invocations, " \
	"  sum(completed) AS completed_invocations, " \
	"  sum(1 - completed) AS abandoned_invocations, " \
	"  total(CASE WHEN completed THEN duration_seconds END) " \
	"    AS total_duration_seconds, " \
	"  min(CASE WHEN completed THEN duration_seconds END) " \
	"    AS min_duration_seconds, " \
	"  max(CASE WHEN completed THEN duration_seconds END) " \
	"    AS max_duration_seconds, " \
	"  skm_iso(min(invoked_at)) AS first_invoked, " \
	"  skm_iso(max(invoked_at)) AS last_invoked " \
	"  FROM invocation" H " WHERE " RECOMPUTE_WHERE \
	"  GROUP BY skill_name) b " \
	"LEFT JOIN " WP " wp " \
	"  ON wp.skill_name = b.skill_name " \
	"LEFT JOIN " RECOMPUTE_MAP(H, "error_type") " er " \
	"  ON er.skill_name = b.skill_name " \
	"LEFT JOIN (SELECT skill_name, json_group_object(k, n) AS m FROM (" \
	"  SELECT j.skill_name AS skill_name, CAST(a.value AS TEXT) AS k, " \
	"  count(*) AS n FROM invocation AS j" H ", " \
	"  json_each(j.follow_up_actions) a " \
	"  WHERE j.ended_at IS NOT NULL AND j.follow_up_actions != '[]' " \
	"  AND (?1 IS NULL OR j.skill_name = ?1) " \
	"  GROUP BY 1, 2 ORDER BY 1, 2) GROUP BY skill_name) fu " \
	"  ON fu.skill_name = b.skill_name"
#define RECOMPUTE_ALL \
	RECOMPUTE_T(" NOT INDEXED", RECOMPUTE_MAP(" NOT INDEXED", "workflow_path"))
/* The recompute's own insert takes the workflow path map from the pair
 * counts it has just rebuilt (skill_workflow: one row per pair) instead
 * of another pass over the invocations; `skm check` recomputes both
 * from the invocations. */
#define RECOMPUTE_WP_PAIRS \
	"(SELECT skill_name, json_group_object(workflow_path, " \
	"  invocation_count) AS m FROM (SELECT skill_name, workflow_path, " \
	"  invocation_count FROM skill_workflow WHERE workflow_path IS NOT " \
	"  NULL AND invocation_count > 0 AND (?1 IS NULL OR skill_name = ?1) " \
	"  ORDER BY 1, 2) GROUP BY skill_name)"

/* The rows of skill_workflow and skill_timeline, recomputed. */
#define RECOMPUTE_PAIRS(H) \
	"SELECT skill_name, workflow_path, count(*), sum(completed), " \
	"total(CASE WHEN completed THEN duration_seconds END) " \
	"FROM invocation" H " WHERE " RECOMPUTE_WHERE \
	" GROUP BY 1, 2 ORDER BY 1, 2"
#define RECOMPUTE_HOURS(H) \
	"SELECT skill_name, " AGG_HOUR("invoked_at") ", count(*), " \
	"sum(completed), " \
	"total(CASE WHEN completed THEN duration_seconds END) " \
	"FROM invocation" H " WHERE " RECOMPUTE_WHERE " GROUP BY 1, 2"

/* A map in canonical form (keys in order), for comparisons. */
#define CANON(m) \
	"(SELECT coalesce(json_group_object(key, value), '{}') FROM " \
	"(SELECT key, value FROM json_each(" m ") ORDER BY key))"

/*
 * skm__agg_percentiles - persist exact min/max/p50/p95/p99 of skill (all
 * skills when NULL) into skill_metrics.  Inside a write transaction.
 */
int
skm__agg_percentiles(struct skm_db *db, const char *skill)
{
	static const char sql[] =
	    "UPDATE skill_metrics SET "
	    "min_duration_seconds = skm_pct(skill_name, 0.0), "
	    "max_duration_seconds = skm_pct(skill_name, 1.0), "
	    "p50_duration_seconds = skm_pct(skill_name, 0.5), "
	    "p95_duration_seconds = skm_pct(skill_name, 0.95), "
	    "p99_duration_seconds = skm_pct(skill_name, 0.99), "
	    "percentiles_valid = 1, "
	    "last_aggregated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	    "WHERE ?1 IS NULL OR skill_name = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	if (skill != NULL)
		sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	return step_done(db, st, "percentiles");
}

/*
 * skm__agg_percentiles_stale - the same for the skills (skill, or all when
 * NULL) whose stored percentiles an end has made stale.
 */
int
skm__agg_percentiles_stale(struct skm_db *db, const char *skill)
{
	static const char sql[] =
	    "UPDATE skill_metrics SET "
	    "p50_duration_seconds = skm_pct(skill_name, 0.5), "
	    "p95_duration_seconds = skm_pct(skill_name, 0.95), "
	    "p99_duration_seconds = skm_pct(skill_name, 0.99), "
	    "percentiles_valid = 1 "
	    "WHERE NOT percentiles_valid AND (?1 IS NULL OR skill_name = ?1)";
	sqlite3_stmt *st;
	int rc;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	if (skill != NULL)
		sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
	return step_done(db, st, "percentiles");
}

/* Rebuild skill_metrics and session_skill rows of skill (or all). */
int
skm__agg_recompute(struct skm_db *db, const char *skill, int percentiles)
{
	static const char del[] =
	    "DELETE FROM skill_metrics WHERE ?1 IS NULL OR skill_name = ?1";
#define RECOMPUTE_INSERT(select) \
	    "INSERT INTO skill_metrics (skill_name, total_invocations, " \
	    "completed_invocations, abandoned_invocations, " \
	    "total_duration_seconds, min_duration_seconds, " \
	    "max_duration_seconds, workflow_paths, common_errors, " \
	    "follow_up_actions, first_invoked, last_invoked, " \
	    "last_aggregated_at) SELECT *, " \
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM (" select ")"
	static const char ins_one[] =
	    RECOMPUTE_INSERT(RECOMPUTE_T("", RECOMPUTE_WP_PAIRS));
	static const char ins_all[] =
	    RECOMPUTE_INSERT(RECOMPUTE_T(" NOT INDEXED", RECOMPUTE_WP_PAIRS));
	static const char sdel[] =
	    "DELETE FROM session_skill WHERE ?1 IS NULL OR skill_name = ?1";
#define SESSION_INSERT(T) \
	    "INSERT INTO session_skill (session_id, skill_name, " \
	    "invocation_count, first_invoked, last_invoked, " \
	    "total_duration_seconds) SELECT skm_uuid(session_id), skill_name, " \
	    "count(*), " \
	    "skm_iso(min(invoked_at)), skm_iso(max(invoked_at)), " \
	    "total(CASE WHEN completed THEN duration_seconds END) " \
	    "FROM " T " WHERE ended_at IS NOT NULL " \
	    "AND session_id IS NOT NULL AND (?1 IS NULL OR skill_name = ?1) " \
	    "GROUP BY session_id, skill_name"
	static const char sins_one[] = SESSION_INSERT("invocation");
	static const char sins_all[] =
	    SESSION_INSERT("invocation NOT INDEXED");
	static const char pdel[] =
	    "DELETE FROM skill_workflow WHERE ?1 IS NULL OR skill_name = ?1";
	static const char pins_one[] =
	    "INSERT INTO skill_workflow (skill_name, workflow_path, "
	    "invocation_count, completed_count, total_duration_seconds) "
	    RECOMPUTE_PAIRS("");
	static const char pins_all[] =
	    "INSERT INTO skill_workflow (skill_name, workflow_path, "
	    "invocation_count, completed_count, total_duration_seconds) "
	    RECOMPUTE_PAIRS(" NOT INDEXED");
	static const char tdel[] =
	    "DELETE FROM skill_timeline WHERE ?1 IS NULL OR skill_name = ?1";
	static const char tins_one[] =
	    "INSERT INTO skill_timeline " RECOMPUTE_HOURS("");
	static const char tins_all[] =
	    "INSERT INTO skill_timeline " RECOMPUTE_HOURS(" NOT INDEXED");
	/* Pairs first: the metrics' workflow path map is made from them. */
	const char *const steps[] = { pdel, skill ? pins_one : pins_all,
	    del, skill ? ins_one : ins_all, sdel,
	    skill ? sins_one : sins_all, tdel, skill ? tins_one : tins_all };
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((rc = skm__store_prepare(db, steps[i], &st)) != SKM_OK)
			return rc;
		if (skill != NULL)
			sqlite3_bind_text(st, 1, skill, -1, SQLITE_STATIC);
		if ((rc = step_done(db, st, "recompute")) != SKM_OK)
			return rc;
	}
	return percentiles ? skm__agg_percentiles(db, skill) : SKM_OK;
}

static int
recompute_tx(struct skm_db *db, void *arg)
{
	static const char known[] =
	    "SELECT EXISTS (SELECT 1 FROM invocation WHERE skill_name = ?1)"
	    " OR EXISTS (SELECT 1 FROM skill_metrics WHERE skill_name = ?1)";
	sqlite3_stmt *st;
	int rc, found;

	if (arg != NULL) {
		if ((rc = skm__store_prepare(db, known, &st)) != SKM_OK)
			return rc;
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		if (!found)
			return skm__store_fail(db, SKM_NOTFOUND, "no such skill: %s",
			    (const char *)arg);
	}
	return skm__agg_recompute(db, arg, 1);
}

int
skm__recompute(struct skm_db *db, const char *skill)
{
	int rc;

	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	skm__store_bulk(db);
	return skm__store_write(db, recompute_tx, (void *)skill);
}

struct session_job {
	const char *session;
	int n;
};

/* The reference design's Pattern 2, for every skill of one session. */
static int
end_session_tx(struct skm_db *db, void *arg)
{
	static const char sql[] =
	    "UPDATE skill_metrics SET "
	    "min_duration_seconds = skm_pct(skill_name, 0.0), "
	    "max_duration_seconds = skm_pct(skill_name, 1.0), "
	    "p50_duration_seconds = skm_pct(skill_name, 0.5), "
	    "p95_duration_seconds = skm_pct(skill_name, 0.95), "
	    "p99_duration_seconds = skm_pct(skill_name, 0.99), "
	    "percentiles_valid = 1, "
	    "last_aggregated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	    "WHERE skill_name IN (SELECT skill_name FROM session_skill "
	    "WHERE session_id = ?1)";
	struct session_job *job = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = skm__store_prepare(db, sql, &st)) != SKM_OK)
		return rc;
	sqlite3_bind_text(st, 1, job->session, -1, SQLITE_STATIC);
	if ((rc = step_done(db, st, "end-session")) != SKM_OK)
		return rc;
	job->n = sqlite3_changes(db->conn);
	if (job->n == 0)
		return skm__store_fail(db, SKM_NOTFOUND, "no such session: %s",
		    job->session);
	return SKM_OK;
}

int
skm__end_session(struct skm_db *db, const char *session, int *nskills)
{
	struct session_job job = { session, 0 };
	int rc;

	if (nskills != NULL)
		*nskills = 0;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	if (session == NULL || *session == '\0')
		return skm__store_fail(db, SKM_MISUSE, "no session id");
	rc = skm__store_write(db, end_session_tx, &job);
	if (rc == SKM_OK && nskills != NULL)
		*nskills = job.n;
	return rc;
}

static int
report(void (*cb)(void *, const char *), void *arg, const char *msg)
{
	if (cb != NULL)
		cb(arg, msg);
	return 1;
}

/* Rows of pairs and hours that differ from a recompute: the skill and
 * which pair or hour.  Durations are sums, compared within rounding. */
#define CHECK_COUNTS(stored, key, keyexpr, recomputed) \
	"SELECT coalesce(w.skill_name, r.skill_name), " keyexpr " FROM (" \
	stored ") w FULL JOIN (" recomputed ") r " \
	"ON r.skill_name = w.skill_name AND r." key " IS w." key " " \
	"WHERE w.skill_name IS NULL OR r.skill_name IS NULL " \
	"OR w.n IS NOT r.n OR w.c IS NOT r.c " \
	"OR abs(w.d - r.d) > 1e-6 * (1 + abs(r.d))"
static const char check_pairs_sql[] = CHECK_COUNTS(
	"SELECT skill_name, workflow_path, invocation_count AS n, "
	"completed_count AS c, total_duration_seconds AS d "
	"FROM skill_workflow WHERE invocation_count > 0",
	"workflow_path", "'workflow path ' || coalesce("
	"quote(coalesce(w.workflow_path, r.workflow_path)), '(none)')",
	"SELECT skill_name, workflow_path, n, c, d FROM (SELECT skill_name, "
	"workflow_path, count(*) AS n, sum(completed) AS c, "
	"total(CASE WHEN completed THEN duration_seconds END) AS d "
	"FROM invocation NOT INDEXED WHERE ended_at IS NOT NULL "
	"GROUP BY 1, 2)");
static const char check_hours_sql[] = CHECK_COUNTS(
	"SELECT skill_name, hour, invocation_count AS n, "
	"completed_count AS c, total_duration_seconds AS d "
	"FROM skill_timeline",
	"hour", "'timeline hour ' || strftime('%Y-%m-%dT%H:00Z', "
	"coalesce(w.hour, r.hour), 'unixepoch')",
	"SELECT skill_name, " AGG_HOUR("invoked_at") " AS hour, "
	"count(*) AS n, sum(completed) AS c, "
	"total(CASE WHEN completed THEN duration_seconds END) AS d "
	"FROM invocation NOT INDEXED WHERE ended_at IS NOT NULL "
	"GROUP BY 1, 2");
/* Percentiles marked valid must be what skm_pct() computes now. */
static const char check_pct_sql[] =
	"SELECT skill_name, 'stored percentiles' FROM skill_metrics "
	"WHERE percentiles_valid AND ("
	"p50_duration_seconds IS NOT skm_pct(skill_name, 0.5) OR "
	"p95_duration_seconds IS NOT skm_pct(skill_name, 0.95) OR "
	"p99_duration_seconds IS NOT skm_pct(skill_name, 0.99))";

/* Run one of the queries above; each row is a problem to report. */
static int
check_rows(struct skm_db *db, const char *sql,
    void (*cb)(void *, const char *), void *arg, int *bad)
{
	sqlite3_stmt *st;
	char msg[1024];
	int src;

	src = sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "check");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(msg, sizeof(msg), "skill '%s': %s differs from a "
		    "recompute", (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
		*bad |= report(cb, arg, msg);
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? SKM_OK : skm__store_sqlfail(db, src, "check");
}

/*
 * check_journal - notes on what the fold set aside: records quarantined
 * (bytes that were no record, events that failed to decode or validate:
 * see quarantine.jsonl) and ends still waiting for their begin.  A
 * journal directory that is refused (another user's, a symlink, open to
 * others: recorders cannot write there and the fold never reads it) is a
 * problem.  Returns 1 when there was a problem.
 */
static int
check_journal(struct skm_db *db, void (*cb)(void *, const char *), void *arg)
{
	static const char sql[] =
	    "SELECT (SELECT coalesce(sum(quarantined), 0) FROM journal_fold), "
	    "(SELECT count(*) FROM journal_pending_end)";
	struct skm__jnl j;
	struct stat sb;
	sqlite3_stmt *st;
	char msg[2 * PATH_MAX + 256], alt[PATH_MAX];
	long long q = 0, p = 0;
	int dfd, bad = 0;

	if (skm__jnl_init(&j, db->path) == 0) {
		if ((dfd = skm__jnl_dirfd(&j, 0)) != -1)
			close(dfd);
		else if (j.state < 0)
			bad = report(cb, arg, j.why);
		/* Runs recorded while it was refused (journal.c). */
		if (skm__jnl_alt(j.dir, alt) == 0 && stat(alt, &sb) == 0 &&
		    cb != NULL) {
			snprintf(msg, sizeof(msg), "note: %s is in use: the "
			    "journal's second place, where this user's runs go "
			    "while %s is refused (folded, and quarantined, as "
			    "the journal is)", alt, j.dir);
			cb(arg, msg);
		}
	}
	if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK)
		return bad;
	if (sqlite3_step(st) == SQLITE_ROW) {
		q = sqlite3_column_int64(st, 0);
		p = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	/* Set aside, not in the store: the store is sound.  A note, so
	 * that someone looks at them. */
	if (q > 0 && cb != NULL) {
		snprintf(msg, sizeof(msg), "note: %lld journal record%s "
		    "quarantined in %s/%s (torn writes, or events that failed "
		    "validation)", q, q == 1 ? "" : "s", db->jnl.dir,
		    SKM__JNL_QUARANTINE);
		cb(arg, msg);
	}
	skm__legacy_note(db->jnl.dir, cb, arg);
	if (p > 0) {
		if (p == 1)
			snprintf(msg, sizeof(msg), "note: 1 end waits for the "
			    "begin of its invocation");
		else
			snprintf(msg, sizeof(msg), "note: %lld ends wait for "
			    "the begins of their invocations", p);
		if (cb != NULL)
			cb(arg, msg);
	}
	return bad;
}

/*
 * skm_check - SQLite's integrity check, then every skill's stored
 * aggregates against a recompute: skill_metrics, the pair counts, the
 * hourly rollups, the percentiles marked valid; notes on the journal.
 */
int
skm__check(struct skm_db *db, void (*cb)(void *, const char *), void *arg)
{
	static const char cmp[] =
	    "WITH r AS (" RECOMPUTE_ALL ") "
	    "SELECT coalesce(m.skill_name, r.skill_name), "
	    "m.skill_name IS NULL, r.skill_name IS NULL, "
	    "m.total_invocations IS NOT r.total_invocations, "
	    "m.completed_invocations IS NOT r.completed_invocations, "
	    "m.abandoned_invocations IS NOT r.abandoned_invocations, "
	    "abs(m.total_duration_seconds - r.total_duration_seconds) > "
	    "  1e-6 * (1 + abs(r.total_duration_seconds)), "
	    "m.min_duration_seconds IS NOT r.min_duration_seconds, "
	    "m.max_duration_seconds IS NOT r.max_duration_seconds, "
	    CANON("m.workflow_paths") " IS NOT " CANON("r.workflow_paths") ", "
	    CANON("m.common_errors") " IS NOT " CANON("r.common_errors") ", "
	    CANON("m.follow_up_actions") " IS NOT " CANON("r.follow_up_actions")
	    ", "
	    "m.first_invoked IS NOT r.first_invoked, "
	    "m.last_invoked IS NOT r.last_invoked, "
	    "m.total_invocations, r.total_invocations "
	    "FROM skill_metrics m FULL JOIN r ON m.skill_name = r.skill_name";
	static const char *const what[] = {
		"total_invocations", "completed_invocations",
		"abandoned_invocations", "total_duration_seconds",
		"min_duration_seconds", "max_duration_seconds",
		"workflow_paths", "common_errors", "follow_up_actions",
		"first_invoked", "last_invoked",
	};
	sqlite3_stmt *st;
	char msg[1024];
	const char *name;
	int rc, src, bad = 0, i;

	if (db != NULL && db->server_check != NULL)
		return db->server_check(db, cb, arg);
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	skm__store_bulk(db);
	skm__store_bulk(db);
	src = sqlite3_prepare_v2(db->conn, "PRAGMA integrity_check", -1, &st,
	    NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "check");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t != NULL && strcmp(t, "ok") != 0) {
			snprintf(msg, sizeof(msg), "integrity: %s", t);
			bad |= report(cb, arg, msg);
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "integrity check");

	src = sqlite3_prepare_v2(db->conn, cmp, -1, &st, NULL);
	if (src != SQLITE_OK)
		return skm__store_sqlfail(db, src, "check");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (sqlite3_column_int(st, 1)) {
			snprintf(msg, sizeof(msg), "skill '%s': has ended "
			    "invocations but no skill_metrics row", name);
			bad |= report(cb, arg, msg);
			continue;
		}
		if (sqlite3_column_int(st, 2)) {
			snprintf(msg, sizeof(msg), "skill '%s': skill_metrics "
			    "row without any ended invocation", name);
			bad |= report(cb, arg, msg);
			continue;
		}
		for (i = 0; i < (int)(sizeof(what) / sizeof(what[0])); i++) {
			if (!sqlite3_column_int(st, 3 + i))
				continue;
			if (i == 0)
				snprintf(msg, sizeof(msg), "skill '%s': "
				    "total_invocations is %lld, recompute "
				    "gives %lld", name,
				    sqlite3_column_int64(st, 14),
				    sqlite3_column_int64(st, 15));
			else
				snprintf(msg, sizeof(msg), "skill '%s': %s "
				    "differs from a recompute", name, what[i]);
			bad |= report(cb, arg, msg);
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return skm__store_sqlfail(db, src, "check");
	if ((rc = check_rows(db, check_pairs_sql, cb, arg, &bad)) != SKM_OK ||
	    (rc = check_rows(db, check_hours_sql, cb, arg, &bad)) != SKM_OK ||
	    (rc = check_rows(db, check_pct_sql, cb, arg, &bad)) != SKM_OK)
		return rc;
	bad |= check_journal(db, cb, arg);
	return bad ? skm__store_fail(db, SKM_CHECK, "check found problems") :
	    SKM_OK;
}
