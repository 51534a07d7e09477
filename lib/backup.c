/*
 * backup.c - `skm backup FILE`: a consistent copy of a live store.
 *
 * SQLite's online backup API copies the pages in steps.  The source
 * connection holds one read transaction over all the steps: in WAL mode
 * that is a snapshot that writers do not disturb (they append to the WAL
 * meanwhile), so the copy is consistent and the backup never has to start
 * over however busy the writers are.  A step that meets SQLITE_BUSY or
 * SQLITE_LOCKED is retried after a short sleep, within a bound.
 *
 * The copy is written to a temporary file (mode 0600) next to the
 * destination and moved into place only when complete: without
 * SKM_BACKUP_FORCE with link(2), which fails if the destination appeared
 * meanwhile; with it by rename(2), which replaces it atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skm-int.h"

#define PAGES_PER_STEP 1024

/* Copy db's main database into the open connection dst. */
static int
copy_pages(struct skm_db *db, sqlite3 *dst)
{
	sqlite3_backup *b;
	double start = skm__util_mono();
	int src, rc = SKM_OK, bound = db->busy_ms > 0 ? 10 * db->busy_ms :
	    10000;

	if ((b = sqlite3_backup_init(dst, "main", db->conn, "main")) == NULL)
		return skm__store_fail(db, SKM_ERROR, "backup: %s",
		    sqlite3_errmsg(dst));
	for (;;) {
		src = sqlite3_backup_step(b, PAGES_PER_STEP);
		if (src == SQLITE_DONE)
			break;
		if (src == SQLITE_OK)
			continue;
		if ((src & 0xff) == SQLITE_BUSY ||
		    (src & 0xff) == SQLITE_LOCKED) {
			if ((skm__util_mono() - start) * 1000.0 < bound) {
				skm__util_sleep_ms(5);
				continue;
			}
		}
		rc = skm__store_sqlfail(db, src, "backup");
		break;
	}
	src = sqlite3_backup_finish(b);
	if (rc == SKM_OK && src != SQLITE_OK)
		rc = skm__store_fail(db, SKM_ERROR, "backup: %s",
		    sqlite3_errmsg(dst));
	return rc;
}

/* Fill the file tmp (already created) with a copy of the store. */
static int
backup_to(struct skm_db *db, const char *tmp)
{
	sqlite3 *dst = NULL;
	int src, rc;

	src = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (src != SQLITE_OK) {
		rc = skm__store_fail(db, SKM_CANTOPEN, "backup: %s: %s", tmp,
		    dst ? sqlite3_errmsg(dst) : sqlite3_errstr(src));
		sqlite3_close(dst);
		return rc;
	}
	/* One snapshot for every step. */
	if ((rc = skm__store_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master"))
	    != SKM_OK) {
		sqlite3_close(dst);
		return rc;
	}
	rc = copy_pages(db, dst);
	skm__store_exec(db, "COMMIT");
	/* Closing checkpoints the copy's WAL into the file and removes it. */
	if (sqlite3_close(dst) != SQLITE_OK && rc == SKM_OK)
		rc = skm__store_fail(db, SKM_IOERR, "backup: closing %s", tmp);
	return rc;
}

static void
unlink_side_files(const char *path)
{
	char p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof(p), "%s-wal", path) < sizeof(p))
		(void)unlink(p);
	if ((size_t)snprintf(p, sizeof(p), "%s-shm", path) < sizeof(p))
		(void)unlink(p);
	if ((size_t)snprintf(p, sizeof(p), "%s-journal", path) < sizeof(p))
		(void)unlink(p);
}

int
skm_backup(struct skm_db *db, const char *dest, int flags)
{
	char tmp[PATH_MAX];
	struct stat sb;
	int fd, rc;

	skm__fold_moved(db);
	if ((rc = skm__store_usable(db)) != SKM_OK)
		return rc;
	skm__store_bulk(db);
	if (dest == NULL || *dest == '\0')
		return skm__store_fail(db, SKM_MISUSE, "backup: no file given");
	if (lstat(dest, &sb) == 0 && !(flags & SKM_BACKUP_FORCE))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: exists (use --force "
		    "to replace it)", dest);
	if (lstat(dest, &sb) == 0 && S_ISDIR(sb.st_mode))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: is a directory", dest);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dest) >=
	    sizeof(tmp))
		return skm__store_fail(db, SKM_CANTOPEN, "%s: path too long", dest);
	if ((fd = mkstemp(tmp)) == -1)
		return skm__store_fail(db, errno == EACCES || errno == EROFS ?
		    SKM_READONLY : SKM_CANTOPEN, "%s: cannot create: %s", dest,
		    strerror(errno));
	(void)fchmod(fd, 0600);
	close(fd);

	if ((rc = backup_to(db, tmp)) != SKM_OK)
		goto fail;
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	if (flags & SKM_BACKUP_FORCE) {
		/* Old side files would be taken for the new copy's. */
		unlink_side_files(dest);
		if (rename(tmp, dest) != 0) {
			rc = skm__store_fail(db, SKM_CANTOPEN, "%s: %s", dest,
			    strerror(errno));
			goto fail;
		}
	} else {
		/* Some file systems have no hard links: then rename, if
		 * the destination is still not there. */
		if (link(tmp, dest) != 0 && (errno == EEXIST ||
		    lstat(dest, &sb) == 0 || rename(tmp, dest) != 0)) {
			rc = skm__store_fail(db, SKM_CANTOPEN, "%s: %s", dest,
			    errno == EEXIST ? "exists (use --force to replace "
			    "it)" : strerror(errno));
			goto fail;
		}
		(void)unlink(tmp);
	}
	return SKM_OK;
fail:
	(void)unlink(tmp);
	unlink_side_files(tmp);
	return rc;
}
