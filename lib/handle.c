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
#include <string.h>

#include "skm-int.h"

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
	db->fold_more = fr.more || fr.busy;
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
	return db != NULL && db->fold_more;
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
