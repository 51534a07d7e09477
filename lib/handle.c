/*
 * handle.c - the public handle: skm_open() and skm_close(), at the top of
 * lib's layers.  Opening is the store's open (store.c) with the query
 * layer's SQL functions passed in, then a bounded fold of the journal
 * (fold.c), so that a handle reads what recorders appended before it was
 * opened.  Closing lets go of the journal's descriptors and the store.
 * The services of the aggregate layer are entered here too, after a
 * fold of what was appended since the handle last looked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skm-int.h"
#include "journal.h"

/*
 * fold_at_open - read-your-writes: what recorders appended to the journal
 * before this handle was opened is in the store when it is used.  The
 * work is bounded (SKM_FOLD_AT_OPEN_MS); what is left is for `skm drain`
 * or a background fold (skm_fold_pending() tells).  A read-only handle,
 * or a store that cannot be written, folds nothing.
 */
#define SKM_FOLD_AT_OPEN_MS 500
static void
fold_at_open(struct skm_db *db)
{
	struct skm__fold_result fr;
	char msg[sizeof(db->errmsg)];

	if (db->flags & (SKM_OPEN_READONLY | SKM_OPEN_NOFOLD))
		return;
	if (skm__fold(db, SKM_FOLD_AT_OPEN_MS, 1000, &fr) != SKM_OK) {
		/* The store stays usable for reading; say why in errmsg. */
		snprintf(msg, sizeof(msg), "journal not folded: %.480s",
		    db->errmsg);
		memcpy(db->errmsg, msg, sizeof(msg));
	}
	db->fold_more = fr.more ? 1 : fr.busy ? 2 : 0;
	db->open_applied = fr.applied;
	(void)skm__journal_moved(db);
}

int
skm_open(const char *path, int flags, struct skm_db **out)
{
	int rc = skm__store_open(path, flags, skm__query_register, out);

	if (out != NULL && *out != NULL)
		(*out)->jnl.keep = 1;	/* the handle's descriptors are its own */
	if (rc == SKM_OK)
		fold_at_open(*out);
	return rc;
}

void
skm_close(struct skm_db *db)
{
	if (db == NULL)
		return;
	skm__jnl_close(&db->jnl);
	skm__store_close(db);
}

int
skm_fold_pending(const struct skm_db *db)
{
	return db != NULL ? db->fold_more : 0;
}

/* The aggregate services, after what the journal holds is folded. */
int
skm_recompute(struct skm_db *db, const char *skill)
{
	skm__fold_moved(db);
	return skm__recompute(db, skill);
}

int
skm_end_session(struct skm_db *db, const char *session, int *nskills)
{
	skm__fold_moved(db);
	return skm__end_session(db, session, nskills);
}

int
skm_check(struct skm_db *db, void (*cb)(void *, const char *), void *arg)
{
	skm__fold_moved(db);
	return skm__check(db, cb, arg);
}

/* What skm_check_json collects from skm_check: problems and notes, each
 * a JSON array built by SQLite (so every string is escaped its way). */
struct check_json {
	struct skm_db *db;
	char *problems, *notes;
	int failed;
};

/* *arr with s appended (arr stays on failure, which is recorded). */
static void
json_push(struct check_json *cj, char **arr, const char *s)
{
	static const char sql[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3_stmt *st;
	char *n = NULL;

	if (skm__store_prepare(cj->db, sql, &st) != SKM_OK) {
		cj->failed = 1;
		return;
	}
	sqlite3_bind_text(st, 1, *arr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (n = strdup((const char *)sqlite3_column_text(st, 0))) != NULL) {
		free(*arr);
		*arr = n;
	} else
		cj->failed = 1;
	sqlite3_reset(st);
}

static void
collect(void *arg, const char *line)
{
	struct check_json *cj = arg;

	if (strncmp(line, "note: ", 6) == 0)
		json_push(cj, &cj->notes, line + 6);
	else
		json_push(cj, &cj->problems, line);
}

/* The text grown by quarantine_lines: "[" and lines joined by ','. */
struct qtext {
	char *buf;
	size_t len, cap;
};

/*
 * quarantine_file - add the lines of j->dir's quarantine.jsonl that are
 * JSON objects to q.  The file is opened as the journal's files are: not
 * through a symlink, only a regular file of this user; none is nothing.
 */
static int
quarantine_file(struct skm_db *db, struct skm__jnl *j, struct qtext *q)
{
	static const char valid[] = "SELECT json_valid(?1) AND "
	    "json_type(?1) = 'object'";
	sqlite3_stmt *st;
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	FILE *fp = NULL;
	int dfd, fd, ok, rc;

	j->state = 0;
	if ((dfd = skm__jnl_dirfd(j, 0)) == -1)
		return SKM_OK;
	fd = skm__jnl_openat(j, dfd, SKM__JNL_QUARANTINE, 0);
	close(dfd);
	if (fd != -1 && (fp = fdopen(fd, "r")) == NULL)
		close(fd);
	if (fp == NULL)
		return SKM_OK;
	if ((rc = skm__store_prepare(db, valid, &st)) != SKM_OK) {
		fclose(fp);
		return rc;
	}
	while (rc == SKM_OK && (n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		sqlite3_bind_text(st, 1, line, (int)n, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		if (!ok)
			continue;
		if (q->len + (size_t)n + 3 > q->cap) {
			while (q->len + (size_t)n + 3 > q->cap)
				q->cap *= 2;
			if ((p = realloc(q->buf, q->cap)) == NULL) {
				rc = skm__store_fail(db, SKM_NOMEM,
				    "out of memory");
				break;
			}
			q->buf = p;
		}
		if (q->len > 1)
			q->buf[q->len++] = ',';
		memcpy(q->buf + q->len, line, (size_t)n);
		q->len += (size_t)n;
	}
	free(line);
	fclose(fp);
	return rc;
}

/*
 * quarantine_lines - the quarantined lines of the journal beside the
 * store and of its second place (skm__jnl_alt), as one JSON array text
 * in *out (malloc'd; "[]" when there are none).
 */
static int
quarantine_lines(struct skm_db *db, char **out)
{
	struct qtext q = { NULL, 1, 256 };
	struct skm__jnl j;	/* its own: not the handle's, which keeps
				 * descriptors */
	int rc = SKM_OK;

	if ((q.buf = malloc(q.cap)) == NULL)
		return skm__store_fail(db, SKM_NOMEM, "out of memory");
	q.buf[0] = '[';
	if (skm__jnl_init(&j, db->path) == 0) {
		rc = quarantine_file(db, &j, &q);
		if (rc == SKM_OK && skm__jnl_alt(j.dir, j.dir) == 0)
			rc = quarantine_file(db, &j, &q);
	}
	if (rc != SKM_OK) {
		free(q.buf);
		return rc;
	}
	q.buf[q.len++] = ']';
	q.buf[q.len] = '\0';
	*out = q.buf;
	return SKM_OK;
}

int
skm_check_json(struct skm_db *db, char **out)
{
	static const char server[] =
	    "SELECT json_object('ok', json(?1), 'problems', json(?2), "
	    "'notes', json(?3))";
	static const char sql[] =
	    "SELECT json_object('ok', json(?1), 'problems', json(?2), "
	    "'notes', json(?3), 'journal', json_object('dir', ?4, "
	    "'quarantine_file', ?4 || '/' || ?5, "
	    "'quarantined', (SELECT coalesce(sum(quarantined), 0) "
	    "  FROM journal_fold), "
	    "'pending_ends', (SELECT count(*) FROM journal_pending_end), "
	    /* A fold killed before its batch committed wrote the batch's
	     * lines again: one entry per file and offset. */
	    "'quarantine', (SELECT json_group_array(json(r)) FROM ("
	    "  SELECT json_remove(value, '$.record') AS r, min(key) AS k "
	    "  FROM json_each(?6) GROUP BY value ->> 'file', "
	    "  value ->> 'offset' ORDER BY k))))";
	struct check_json cj = { .db = db };
	sqlite3_stmt *st;
	char *qlines = NULL;
	int rc, crc, local;

	if (out == NULL)
		return SKM_MISUSE;
	*out = NULL;
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	local = db->server_check == NULL;
	cj.problems = strdup("[]");
	cj.notes = strdup("[]");
	if (cj.problems == NULL || cj.notes == NULL) {
		rc = skm__store_fail(db, SKM_NOMEM, "out of memory");
		goto done;
	}
	crc = skm_check(db, collect, &cj);
	if (crc != SKM_OK && crc != SKM_CHECK) {
		rc = crc;
		goto done;
	}
	if (cj.failed) {
		rc = skm__store_fail(db, SKM_NOMEM, "check: out of memory");
		goto done;
	}
	if (local && (rc = quarantine_lines(db, &qlines)) != SKM_OK)
		goto done;
	if ((rc = skm__store_prepare(db, local ? sql : server, &st)) != SKM_OK)
		goto done;
	sqlite3_bind_text(st, 1, crc == SKM_OK ? "true" : "false", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cj.problems, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cj.notes, -1, SQLITE_STATIC);
	if (local) {
		sqlite3_bind_text(st, 4, db->jnl.dir, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, SKM__JNL_QUARANTINE, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 6, qlines, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_ROW && (*out = sqlite3_mprintf("%s",
	    (const char *)sqlite3_column_text(st, 0))) != NULL)
		rc = crc;
	else
		rc = skm__store_fail(db, SKM_NOMEM, "check: %s",
		    sqlite3_errmsg(db->conn));
	sqlite3_reset(st);
done:
	free(cj.problems);
	free(cj.notes);
	free(qlines);
	return rc;
}
