/*
 * journal.c - appending records to the journal and opening its files
 * safely (see journal.h for the layout).
 *
 * A recorder's append: open the directory (O_NOFOLLOW, checked with
 * fstat), open the live file in it (O_APPEND, O_NOFOLLOW, O_NONBLOCK,
 * checked with fstat), take a shared flock, make sure the name still
 * leads to the file it opened (the fold may have sealed it meanwhile),
 * write(2) the whole record once, close.  No heap, no stdio, no SQLite:
 * every call here is async-signal-safe.  Nothing is kept open between
 * events, since a host process may close or dup2 over any descriptor.
 * A library handle, whose descriptors are its own, is the exception: it
 * keeps them and appends without a lock (see SKM__JNL_CHECK_NS in
 * journal.h), with a replay buffer on the heap.  skm-run, whose
 * descriptors are its own too, holds its begin's for its end, which then
 * locks and checks the name as above but opens nothing.
 *
 * The live file is born whole: a new one is written under a temporary
 * name with its HEADER record (its id) and then linked into place, so a
 * reader never sees a journal without its id, and two recorders creating
 * it at once agree on one (the second link fails with EEXIST).
 *
 * The directory and every file are refused unless they are what they
 * should be: a directory / regular file, not a symlink, owned by this
 * user, not writable (files: not accessible at all) by group or others.
 * In a shared directory another user can therefore neither feed events
 * to the fold nor read the ones written here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "journal.h"

/* strlcpy-like, without libbsd (the shim links only libc). */
static size_t
cpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

/* The text of errno e: glibc's table, not strerror()'s locale lookup,
 * which is not async-signal-safe. */
static const char *
errtext(int e)
{
	const char *s = strerrordesc_np(e);

	return s != NULL ? s : "unknown error";
}

/* why = a + b + c, cut to fit; returns -1. */
static int
why3(struct skm__jnl *j, const char *a, const char *b, const char *c)
{
	size_t n = cpy(j->why, a, sizeof(j->why));

	if (n < sizeof(j->why))
		n += cpy(j->why + n, b, sizeof(j->why) - n);
	if (n < sizeof(j->why))
		cpy(j->why + n, c, sizeof(j->why) - n);
	return -1;
}

/*
 * resolve - the file path leads to when its last component is a symlink
 * (followed up to 16 hops, even to a file not made yet): out gets the
 * link's target, relative targets joined to the link's directory.
 * Only the last component matters: the journal is DB.journal in the
 * directory holding DB, and a path through symlinked directories reaches
 * that same directory (the kernel resolves a "dir/../" after a symlink as
 * a readlink of it would).  One readlink in the usual case, where
 * realpath() would read every component.  Returns 0 or -1.
 */
static int
resolve(const char *path, char out[PATH_MAX])
{
	char link[PATH_MAX];
	const char *slash;
	ssize_t n;
	size_t k;
	int hops;

	if (cpy(out, path, PATH_MAX) >= PATH_MAX)
		return -1;
	for (hops = 0; hops < 16; hops++) {
		n = readlink(out, link, sizeof(link) - 1);
		if (n < 0)
			break;
		link[n] = '\0';
		slash = strrchr(out, '/');
		if (link[0] == '/' || slash == NULL) {
			memcpy(out, link, (size_t)n + 1);
		} else {
			k = (size_t)(slash - out) + 1;
			if (k + (size_t)n + 1 > PATH_MAX)
				return -1;
			memcpy(out + k, link, (size_t)n + 1);
		}
	}
	return 0;
}

int
skm__jnl_init(struct skm__jnl *j, const char *dbpath)
{
	char real[PATH_MAX];
	size_t n = 0, k;

	j->state = 0;
	j->alt = j->moved = 0;
	j->keep = j->hold = 0;
	j->kdfd = j->kfd = -1;
	j->replay = NULL;
	j->nreplay = j->replaycap = 0;
	/* A store reached through a symlink keeps one journal: the one
	 * beside the file itself. */
	if (resolve(dbpath, real) == 0)
		dbpath = real;
	if (dbpath[0] != '/') {
		if (getcwd(j->dir, sizeof(j->dir)) == NULL)
			return why3(j, dbpath, ": cannot resolve the relative "
			    "store path", "");
		n = strlen(j->dir);
		if (n + 1 >= sizeof(j->dir))
			return -1;
		if (n > 1)
			j->dir[n++] = '/';
		while (dbpath[0] == '.' && dbpath[1] == '/')
			dbpath += 2;
	}
	k = strlen(dbpath);
	if (n + k + sizeof(".journal") > sizeof(j->dir))
		return why3(j, dbpath, ": path too long", "");
	/* dbpath may be dir itself (skm__rec_start leaves it there). */
	memmove(j->dir + n, dbpath, k);
	memcpy(j->dir + n + k, ".journal", sizeof(".journal"));
	return 0;
}

const char *
skm__jnl_store(const struct skm__jnl *j, char buf[PATH_MAX])
{
	size_t n;

	if (j->alt)
		return memcpy(buf, j->store, strlen(j->store) + 1);
	n = strlen(j->dir);
	n = n >= sizeof(".journal") - 1 ? n - (sizeof(".journal") - 1) : 0;
	memcpy(buf, j->dir, n);
	buf[n] = '\0';
	return buf;
}

/* mkdir -p of path's parents, each new one 0700. */
static void
make_parents(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0700);
		*p = '/';
	}
}

int
skm__jnl_dirfd(struct skm__jnl *j, int create)
{
	struct stat sb;
	int fd;

	fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		make_parents(j->dir);
		if (mkdir(j->dir, 0700) != 0 && errno != EEXIST)
			return why3(j, j->dir, ": cannot create: ",
			    errtext(errno));
		fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1) {
		/* Refused when it is there and not a directory; a parent
		 * that is no directory is no place for a store at all. */
		if (errno == ELOOP || (errno == ENOTDIR &&
		    lstat(j->dir, &sb) == 0)) {
			j->state = -1;
			return why3(j, j->dir, ": refused: not a directory "
			    "(a symlink or another file)", "");
		}
		/* Shut to this user: another user's directory (made first
		 * in a shared directory), refused as one that is open. */
		if (errno == EACCES && lstat(j->dir, &sb) == 0 &&
		    sb.st_uid != geteuid()) {
			j->state = -1;
			return why3(j, j->dir, ": refused: not a directory of "
			    "this user closed to group and others", "");
		}
		return why3(j, j->dir, ": ", errtext(errno));
	}
	j->euid = geteuid();
	if (fstat(fd, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != j->euid || (sb.st_mode & 022) != 0) {
		close(fd);
		j->state = -1;
		return why3(j, j->dir, ": refused: not a directory of this "
		    "user closed to group and others", "");
	}
	j->state = 1;
	return fd;
}

/* why = "DIR/name: msg"; returns -1. */
static int
refuse(struct skm__jnl *j, const char *name, const char *msg)
{
	size_t n;

	why3(j, j->dir, "/", name);
	n = strlen(j->why);
	cpy(j->why + n, msg, sizeof(j->why) - n);
	return -1;
}

/* skm__jnl_openat, leaving the file's fstat in *sb. */
static int
openat_stat(struct skm__jnl *j, int dfd, const char *name, int wr,
    struct stat *sb)
{
	int fd, e;

	fd = openat(dfd, name, (wr ? O_WRONLY | O_APPEND : O_RDONLY) |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			refuse(j, name, ": refused: a symlink");
		else if (e == ENXIO || e == EISDIR || e == ENODEV)
			refuse(j, name, ": refused: not a regular file (a "
			    "FIFO, socket, device or directory)");
		else if (e == ENOENT)
			refuse(j, name, ": no such file");
		else {
			refuse(j, name, ": ");
			cpy(j->why + strlen(j->why), errtext(e),
			    sizeof(j->why) - strlen(j->why));
		}
		errno = e;
		return -1;
	}
	/* The owner the directory was checked for, when it was (one
	 * geteuid per append, not two). */
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) ||
	    sb->st_uid != (j->state == 1 ? j->euid : geteuid()) ||
	    (sb->st_mode & 077) != 0) {
		close(fd);
		refuse(j, name, ": refused: not a regular file of this user "
		    "closed to group and others");
		errno = EPERM;
		return -1;
	}
	return fd;
}

int
skm__jnl_openat(struct skm__jnl *j, int dfd, const char *name, int wr)
{
	struct stat sb;

	return openat_stat(j, dfd, name, wr, &sb);
}

/* Write all of buf (a short write is retried for the rest; EINTR too). */
static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * create_live - make the live file: a temporary file with the header
 * record, linked into place.  EEXIST from the link means another
 * recorder won; either way the caller opens "journal" again.
 */
static int
create_live(struct skm__jnl *j, int dfd)
{
	struct skm__event ev;
	unsigned char buf[256];
	char id[37], tmp[64];
	size_t len;
	int fd, rc = 0;

	skm__uuid7(id);
	memcpy(tmp, "tmp-", 4);
	memcpy(tmp + 4, id, 37);
	memset(&ev, 0, offsetof(struct skm__event, follow));
	ev.nfollow = 0;
	ev.kind = SKM__EV_HEADER;
	skm__ev_str(&ev, SKM__F_ID, id);
	skm__ev_int(&ev, SKM__F_INVOKED, skm__now_us());
	len = skm__ev_encode(&ev, buf, sizeof(buf));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return why3(j, j->dir, ": cannot create the journal: ",
		    errtext(errno));
	(void)fchmod(fd, 0600);
	if (write_all(fd, buf, len) != 0)
		rc = why3(j, j->dir, ": cannot write the journal: ",
		    errtext(errno));
	close(fd);
	if (rc == 0 && linkat(dfd, tmp, dfd, SKM__JNL_LIVE, 0) != 0 &&
	    errno != EEXIST)
		rc = why3(j, j->dir, ": cannot create the journal: ",
		    errtext(errno));
	(void)unlinkat(dfd, tmp, 0);
	return rc;
}

static void
nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* Take a shared lock on fd: the fold holds it exclusively only while it
 * seals the file, for a few system calls, so wait for that, boundedly. */
static void
lock_shared(int fd)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return;
		nap_us(50);
	}
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Past the threshold, once per eighth of it that the file grows by
 * (from `from` bytes to `to`): a fold that could not run (or failed) is
 * tried again as appends go on. */
static int
is_crossing(off_t from, off_t to)
{
	return to >= SKM__JNL_FOLD_BYTES && to / (SKM__JNL_FOLD_BYTES / 8) !=
	    from / (SKM__JNL_FOLD_BYTES / 8);
}

/* Close the kept descriptors (the replay buffer stays). */
static void
close_kept(struct skm__jnl *j)
{
	if (j->kfd >= 0)
		close(j->kfd);
	if (j->kdfd >= 0)
		close(j->kdfd);
	j->kfd = j->kdfd = -1;
}

/*
 * kept_check - is the live name still leading to the kept file?  0: yes,
 * and what was written before is safe (the replay buffer empties); 1: it
 * was sealed, the descriptors are closed and the replay buffer holds what
 * is to be written again.
 */
static int
kept_check(struct skm__jnl *j, int *crossed)
{
	struct stat b;
	int64_t t0 = mono_ns();
	off_t end;

	if (fstatat(j->kdfd, SKM__JNL_LIVE, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    b.st_ino != j->kino || b.st_dev != j->kdev) {
		close_kept(j);
		return 1;
	}
	end = lseek(j->kfd, 0, SEEK_END);
	if (crossed != NULL && end > 0 && is_crossing(j->kmark, end))
		*crossed = 1;
	if (end > 0)
		j->kmark = end;
	j->kcheck = t0;
	j->nreplay = 0;
	return 0;
}

/* Keep a copy of rec for a replay; 0, or -1 when memory ran out. */
static int
keep_replay(struct skm__jnl *j, const void *rec, size_t len)
{
	unsigned char *p;
	size_t cap;

	if (j->nreplay + len > j->replaycap) {
		cap = j->replaycap > 0 ? j->replaycap : 16384;
		while (cap < j->nreplay + len)
			cap *= 2;
		if ((p = realloc(j->replay, cap)) == NULL)
			return -1;
		j->replay = p;
		j->replaycap = cap;
	}
	memcpy(j->replay + j->nreplay, rec, len);
	j->nreplay += len;
	return 0;
}

/*
 * append_kept - the append of a keeping journal through the descriptors
 * it holds, without a lock (see SKM__JNL_CHECK_NS for why that is safe):
 * write, and check the live name when the last check is a millisecond
 * old, or before the replay buffer grows past SKM__JNL_REPLAY_MAX.
 * Returns 0, -1 (write failed), or 1: the file was sealed, and the
 * caller appends the replay buffer to the new live file, and rec too
 * unless *in_replay says it is in that buffer.
 */
static int
append_kept(struct skm__jnl *j, const void *rec, size_t len, int *crossed,
    int *in_replay)
{
	int rc;

	*in_replay = 0;
	if (j->nreplay > 0 && j->nreplay + len > SKM__JNL_REPLAY_MAX &&
	    (rc = kept_check(j, crossed)) != 0)
		return rc;
	*in_replay = keep_replay(j, rec, len) == 0;
	if (write_all(j->kfd, rec, len) != 0) {
		why3(j, j->dir, ": cannot append to the journal: ",
		    errtext(errno));
		close_kept(j);
		/* The caller learns that rec failed: it is not written again
		 * later; what was written before may still need to be. */
		if (*in_replay)
			j->nreplay -= len;
		return -1;
	}
	if (!*in_replay || mono_ns() - j->kcheck >= SKM__JNL_CHECK_NS)
		return kept_check(j, crossed);
	return 0;
}

/*
 * append_held - the append of a holding journal (skm-run's end): the
 * descriptors of its last append, locked and checked again as a new
 * open would be (the live name must still lead to the file), so the
 * seal protocol is the same; only the opens and their checks, done for
 * the last append, are not done again.  Returns 0, -1 (write failed) or
 * 1: the file was sealed meanwhile, the descriptors are closed, and the
 * caller appends as usual.
 */
static int
append_held(struct skm__jnl *j, const void *rec, size_t len, int *crossed)
{
	struct stat b;

	lock_shared(j->kfd);
	if (fstatat(j->kdfd, SKM__JNL_LIVE, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    b.st_ino != j->kino || b.st_dev != j->kdev) {
		close_kept(j);
		return 1;
	}
	if (write_all(j->kfd, rec, len) != 0) {
		why3(j, j->dir, ": cannot append to the journal: ",
		    errtext(errno));
		close_kept(j);
		return -1;
	}
	if (crossed != NULL && is_crossing(b.st_size, b.st_size +
	    (off_t)len))
		*crossed = 1;
	(void)flock(j->kfd, LOCK_UN);
	return 0;
}

void
skm__jnl_close(struct skm__jnl *j)
{
	if (j->keep && j->kfd >= 0 && j->nreplay > 0 &&
	    kept_check(j, NULL) == 1) {
		/* Sealed since the last check: write again what the fold
		 * may have missed, through a descriptor not kept. */
		j->keep = 0;
		(void)skm__jnl_append(j, NULL, 0, NULL);
		j->keep = 1;
	}
	close_kept(j);
	free(j->replay);
	j->replay = NULL;
	j->nreplay = j->replaycap = 0;
}

int
skm__jnl_alt(const char *dir, char out[PATH_MAX])
{
	static const char hex[] = "0123456789abcdef";
	const char *base = getenv("XDG_STATE_HOME"), *tail = "";
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n;
	int i;

	if (base == NULL || base[0] != '/') {
		base = getenv("HOME");
		tail = "/.local/state";
	}
	if (base == NULL || base[0] != '/' || strlen(base) > PATH_MAX - 64)
		return -1;
	/* The hash first: out may be dir. */
	for (; *dir != '\0'; dir++)
		h = (h ^ (unsigned char)*dir) * 0x100000001b3ULL;
	n = cpy(out, base, PATH_MAX);
	n += cpy(out + n, tail, PATH_MAX - n);
	n += cpy(out + n, "/skm/journals/", PATH_MAX - n);
	for (i = 0; i < 16; i++)
		out[n++] = hex[(h >> (60 - 4 * i)) & 15];
	out[n] = '\0';
	return 0;
}

static int append_here(struct skm__jnl *, const void *, size_t, int *);
static void why_join(struct skm__jnl *, const char *, const char *);

int
skm__jnl_append(struct skm__jnl *j, const void *rec, size_t len,
    int *crossed)
{
	if (append_here(j, rec, len, crossed) == 0)
		return 0;
	if (j->state >= 0 || j->alt)
		return -1;
	/* Refused (why says what and where): the second place, once. */
	cpy(j->refused, j->why, sizeof(j->refused));
	(void)skm__jnl_store(j, j->store);
	j->alt = 1;
	if (skm__jnl_alt(j->dir, j->dir) != 0)
		return -1;
	j->state = 0;
	if (append_here(j, rec, len, crossed) != 0) {
		/* Both named: the refusal first, then what failed there. */
		why_join(j, "; ", j->why);
		return -1;
	}
	why_join(j, "; recorded in ", j->dir);
	j->moved = 1;
	return 0;
}

/* why = refused + sep + tail (tail may be why itself). */
static void
why_join(struct skm__jnl *j, const char *sep, const char *tail)
{
	size_t n = strlen(j->refused), k = strlen(sep);

	if (n + k >= sizeof(j->why))
		n = k = 0;
	/* tail moves right first: it may lie where refused goes. */
	memmove(j->why + n + k, tail, strnlen(tail, sizeof(j->why) - n - k -
	    1));
	j->why[n + k + strnlen(tail, sizeof(j->why) - n - k - 1)] = '\0';
	memcpy(j->why, j->refused, n);
	memcpy(j->why + n, sep, k);
}

static int
append_here(struct skm__jnl *j, const void *rec, size_t len, int *crossed)
{
	struct stat a, b;
	int64_t t0 = 0;
	off_t end = 0;
	int dfd, fd = -1, tries, rc = -1, in_replay = 0;

	if (crossed != NULL)
		*crossed = 0;
	if (j->state < 0)
		return -1;
	if (j->keep && j->kfd >= 0 && (rc = append_kept(j, rec, len,
	    crossed, &in_replay)) <= 0)
		return rc;
	if (j->hold && j->kfd >= 0 && (rc = append_held(j, rec, len,
	    crossed)) <= 0)
		return rc;
	rc = -1;
	if ((dfd = skm__jnl_dirfd(j, 1)) == -1)
		return -1;
	for (tries = 0; tries < 16; tries++) {
		fd = openat_stat(j, dfd, SKM__JNL_LIVE, 1, &a);
		if (fd == -1 && errno == ENOENT) {
			if (create_live(j, dfd) != 0)
				break;
			continue;
		}
		if (fd == -1) {
			j->state = -1;
			break;
		}
		lock_shared(fd);
		/* For the check of kept descriptors only (a one-shot
		 * recorder reads no clock here). */
		if (j->keep || j->hold)
			t0 = mono_ns();
		/* a: the file opened (its inode does not change); b: what the
		 * name leads to now that the lock is held. */
		if (fstatat(dfd, SKM__JNL_LIVE, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		/* Sealed under us: the new live file is the one to use. */
		close(fd);
		fd = -1;
	}
	if (fd != -1) {
		/* Under the shared lock the seal waits for: what a kept
		 * descriptor wrote since its last check first, then rec. */
		if ((j->nreplay == 0 || write_all(fd, j->replay,
		    j->nreplay) == 0) && (in_replay || len == 0 ||
		    write_all(fd, rec, len) == 0)) {
			rc = 0;
			/* The size before the write, from the check under the
			 * lock: no fstat after it.  Other appenders may have
			 * written meanwhile; a crossing is still seen by one
			 * of them, or by the next append. */
			end = b.st_size + (off_t)j->nreplay +
			    (in_replay ? 0 : (off_t)len);
			j->nreplay = 0;
			if (crossed != NULL && is_crossing(b.st_size, end))
				*crossed = 1;
		} else {
			why3(j, j->dir, ": cannot append to the journal: ",
			    errtext(errno));
		}
		if ((j->keep || j->hold) && rc == 0) {
			(void)flock(fd, LOCK_UN);
			j->kfd = fd;
			j->kdfd = dfd;
			j->kdev = a.st_dev;
			j->kino = a.st_ino;
			j->kmark = end;
			j->kcheck = t0;
			return 0;
		}
		close(fd);
	} else if (tries == 16) {
		/* Every try found the file sealed under it (other exits from
		 * the loop said why). */
		why3(j, j->dir, ": the journal keeps changing under us", "");
	}
	close(dfd);
	return rc;
}

ssize_t
skm__jnl_file_id(int fd, char id[65])
{
	unsigned char buf[256];
	const unsigned char *pl;
	struct skm__event ev;
	size_t len, plen;
	ssize_t n;
	char why[64];

	n = pread(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	switch (skm__rec_scan(buf, (size_t)n, &len, &pl, &plen)) {
	case SKM__SCAN_PARTIAL:
		return 0;
	case SKM__SCAN_GARBAGE:
		return -1;
	case SKM__SCAN_RECORD:
		break;
	}
	if (skm__ev_decode(pl, plen, &ev, why, sizeof(why)) != 0 ||
	    ev.kind != SKM__EV_HEADER || !SKM__HAS(&ev, ID) || ev.id.n == 0 ||
	    ev.id.n > 64 || memchr(ev.id.p, '/', ev.id.n) != NULL ||
	    memchr(ev.id.p, '\0', ev.id.n) != NULL || ev.id.p[0] == '.')
		return -1;
	memcpy(id, ev.id.p, ev.id.n);
	id[ev.id.n] = '\0';
	return (ssize_t)len;
}

int
skm__jnl_seal(struct skm__jnl *j, int dfd, const char *id)
{
	char name[96];
	int64_t t, left;
	int fd;

	cpy(name, SKM__JNL_SEALED, sizeof(name));
	cpy(name + strlen(name), id, sizeof(name) - strlen(name));
	if (renameat(dfd, SKM__JNL_LIVE, dfd, name) != 0)
		return why3(j, j->dir, ": cannot seal the journal: ",
		    errtext(errno));
	t = mono_ns();
	/* Appenders hold a shared lock from before their check of the
	 * name until their write is done: once this exclusive lock is
	 * ours, no write into the sealed file is still to come from them;
	 * appenders without a lock see the rename within the grace. */
	if ((fd = skm__jnl_openat(j, dfd, name, 0)) == -1)
		return -1;
	(void)flock(fd, LOCK_EX);
	close(fd);
	while ((left = t + SKM__JNL_GRACE_NS - mono_ns()) > 0)
		nap_us((long)(left / 1000) + 1);
	return 0;
}

void
skm__jnl_settle(int fd)
{
	struct timespec now;
	struct stat sb;
	int64_t age_ms;

	if (fstat(fd, &sb) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return;
	age_ms = ((int64_t)now.tv_sec - sb.st_ctim.tv_sec) * 1000 +
	    (now.tv_nsec - sb.st_ctim.tv_nsec) / 1000000;
	if (age_ms < 0 || age_ms > SKM__JNL_SETTLE_MS)
		age_ms = age_ms < 0 ? 0 : SKM__JNL_SETTLE_MS;
	if (age_ms < SKM__JNL_SETTLE_MS)
		nap_us((long)(SKM__JNL_SETTLE_MS - age_ms) * 1000);
}


static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
skm__jnl_list(int dfd, const char *prefix, char ***names)
{
	char **v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0, k = strlen(prefix);
	DIR *d;
	int fd2;

	*names = NULL;
	if ((fd2 = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd2)) == NULL) {
		close(fd2);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, k) != 0)
			continue;
		if (n == cap) {
			char **p = realloc(v, (cap = cap * 2 + 8) * sizeof(*p));

			if (p == NULL)
				break;
			v = p;
		}
		if ((v[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	return (int)n;
}

void
skm__jnl_list_free(char **names, int n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

void
skm__jnl_spawn_fold(const char *skm_binary, const char *dbpath)
{
	char *const argv[] = { (char *)"skm", (char *)"--db", (char *)dbpath,
	    (char *)"drain", (char *)"--background", NULL };
	extern char **environ;
	pid_t pid;
	int fd, st;

	pid = fork();
	if (pid == -1)
		return;
	if (pid == 0) {
		/* A grandchild, in its own session: nobody's child to wait
		 * for, no terminal, below everyone's priority. */
		if (setsid() == -1 || fork() != 0)
			_exit(0);
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		(void)setpriority(PRIO_PROCESS, 0, 19);
		execve(skm_binary, argv, environ);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}
