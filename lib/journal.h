/*
 * journal.h - the journal: a file transport for events, no SQL.
 *
 * Recorders append one record (event.h) per event to DB.journal/journal
 * with one write(2) on an O_APPEND descriptor; the fold (fold.c) reads
 * the records back and applies them to the store.  Everything a recorder
 * calls here is async-signal-safe and allocates nothing.
 *
 * Files in DB.journal/ (the directory 0700, owned by the user):
 *   journal           the live file; its first record (a HEADER) holds
 *                     its id, which keys the fold's place in it
 *   sealed-ID         a live file the fold took out of use to finish it
 *   quarantine.jsonl  records that failed validation, one JSON line each
 *   fold.lock         held (flock) by the one fold running
 */
#ifndef SKM_JOURNAL_H
#define SKM_JOURNAL_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct skm__jnl {
	/* The small fields first and the buffers after them, each written
	 * only as far as its text goes: a recorder touches as few pages of
	 * its (static) struct as it can, each a page fault. */
	int state;            /* 0: not looked at; 1: safe; -1: refused */
	/* alt: dir is the journal's second place (skm__jnl_alt), used
	 * since the one beside the store was refused; moved: an append
	 * went there, why says so (the recorder warns once, clears it). */
	int alt, moved;
	/* Descriptors kept between appends (keep set: a library handle,
	 * whose descriptors are its own; never in the shim or skm-run).
	 * A keeping journal appends without a lock and checks that the
	 * live file is still in place at most every SKM__JNL_CHECK_NS; what
	 * it wrote since the last check is kept in replay (heap), to be
	 * written again should the fold have sealed the file meanwhile. */
	int keep;
	/* hold: the descriptors of an append are kept, unlocked, for the
	 * next one, which locks and checks the live name as a new open
	 * would (skm-run: its descriptors are its own and close-on-exec,
	 * and its end comes right after its begin). */
	int hold;
	int kdfd, kfd;        /* the directory and the live file, or -1 */
	uid_t euid;           /* geteuid() when the directory was opened:
	                         the owner its files must have too */
	dev_t kdev;
	ino_t kino;
	int64_t kcheck;       /* CLOCK_MONOTONIC ns before the last check */
	off_t kmark;          /* the live file's size at that check */
	unsigned char *replay;
	size_t nreplay, replaycap;
	char dir[PATH_MAX];   /* the journal directory, absolute */
	/* Written only when something fails: their pages stay untouched
	 * on a recorder's usual path. */
	char why[PATH_MAX + 96]; /* why it was refused or a write failed */
	char refused[PATH_MAX + 96]; /* why the first place was (alt) */
	char store[PATH_MAX]; /* the store's path, once dir is alt's */
};

#define SKM__JNL_LIVE "journal"
#define SKM__JNL_QUARANTINE "quarantine.jsonl"
#define SKM__JNL_LOCK "fold.lock"
#define SKM__JNL_SEALED "sealed-"

/* A recorder whose append takes the live file past this starts a fold
 * in the background (see skm__jnl_append's crossed). */
#define SKM__JNL_FOLD_BYTES (1024 * 1024)

/*
 * The sealing protocol with appenders that hold no lock (a keeping
 * journal): such an appender checks that the live name still leads to
 * its file at least once every SKM__JNL_CHECK_NS after a write (the
 * clock read after the write, against the clock read before its last
 * check), and writes again what it wrote since its last check when the
 * file was sealed.  The fold, after the rename that seals a file, reads
 * that file's end only SKM__JNL_GRACE_NS later.  So every write either
 * happened before the fold read the sealed file's end, or is written
 * again to the new live file: nothing is lost, and a record applied
 * twice changes nothing.  Both clocks are CLOCK_MONOTONIC, one per
 * machine.  A sealed file found by a later fold (one killed after its
 * rename) is read once its ctime is SKM__JNL_SETTLE_MS old.
 */
#define SKM__JNL_CHECK_NS 1000000LL   /* 1 ms */
#define SKM__JNL_GRACE_NS 2000000LL   /* 2 ms */
#define SKM__JNL_SETTLE_MS 20
#define SKM__JNL_REPLAY_MAX (64 * 1024)

/*
 * skm__jnl_init - the journal of the store at dbpath: DB.journal beside
 * it.  A relative dbpath is made absolute now, against the working
 * directory, so that a recorder that later changes directory keeps
 * writing to the same journal.  Returns 0, or -1 (path too long).
 */
int skm__jnl_init(struct skm__jnl *j, const char *dbpath);

/* The path of the store j is the journal of (its symlinks resolved),
 * into buf; buf.  dbpath may be j->dir itself in skm__jnl_init. */
const char *skm__jnl_store(const struct skm__jnl *j, char buf[PATH_MAX]);

/* Close a keeping journal: a last check (writing again what a seal
 * may have missed), then its descriptors and replay buffer. */
void skm__jnl_close(struct skm__jnl *j);

/* Wait until the sealed file fd has settled (SKM__JNL_SETTLE_MS since
 * its ctime, the rename that sealed it): then no appender that holds no
 * lock can still write to it unseen. */
void skm__jnl_settle(int fd);

/*
 * skm__jnl_dirfd - open the journal directory (creating it, and the
 * store's missing parent directories, 0700 when create is set) after
 * checking that it is a directory, not a symlink, owned by this user and
 * not writable by group or others.  Returns the descriptor or -1 with
 * j->why naming the path and what is wrong (j->state -1 when refused).
 */
int skm__jnl_dirfd(struct skm__jnl *j, int create);

/*
 * skm__jnl_alt - the journal's second place, where a recorder records when
 * the directory beside the store (dir) is refused -- another user's, open
 * to others, a symlink, a live file that is not safe -- so that the run
 * is still recorded, never into the unsafe place:
 * $XDG_STATE_HOME/skm/journals/HASH, else
 * $HOME/.local/state/skm/journals/HASH (absolute paths only), HASH the
 * FNV-1a of dir.  The same store gives the same place to every recorder
 * and fold of this user.  Returns 0 with out set, -1 when there is no
 * such place.  Async-signal-safe (getenv aside, which takes no lock).
 */
int skm__jnl_alt(const char *dir, char out[PATH_MAX]);

/*
 * skm__jnl_append - append the record rec (len bytes) to the live file
 * in one write(2).  *crossed (if not NULL) becomes 1 when the file is past
 * SKM__JNL_FOLD_BYTES and this write took it past another eighth of that:
 * time for a fold.  When the journal beside the store is refused, the
 * record goes to its second place (skm__jnl_alt) if there is one: j->dir
 * becomes that, j->moved is set and j->why names both.  Returns 0, or -1
 * with j->why set.
 */
int skm__jnl_append(struct skm__jnl *j, const void *rec, size_t len,
    int *crossed);

/*
 * skm__jnl_openat - open name in the journal directory dfd for reading
 * (or, with wr, for appending), never following a symlink or blocking on
 * a FIFO, and check it is a regular file of this user that group and
 * others cannot read or write.  Returns the descriptor or -1 (why set).
 */
int skm__jnl_openat(struct skm__jnl *j, int dfd, const char *name, int wr);

/*
 * skm__jnl_file_id - read the id from the HEADER record at the start of
 * the open journal file fd into id (at most 64 bytes and a NUL).  Returns
 * the header's length, 0 when the file is still empty or its header not
 * yet whole, -1 when it does not start with a header.
 */
ssize_t skm__jnl_file_id(int fd, char id[65]);

/*
 * skm__jnl_seal - take the live file out of use: rename it to sealed-ID,
 * wait (flock) for appenders that opened it before the rename to finish
 * their write, and SKM__JNL_GRACE_NS for keeping appenders to see the
 * rename.  Returns 0 or -1.
 */
int skm__jnl_seal(struct skm__jnl *j, int dfd, const char *id);

/*
 * skm__jnl_list - the names in directory dfd that start with prefix,
 * sorted (ids are time-ordered: oldest first), into *names (heap; free
 * with skm__jnl_list_free).  Returns how many, or -1 (errno set).
 */
int skm__jnl_list(int dfd, const char *prefix, char ***names);
void skm__jnl_list_free(char **names, int n);

/* Spawn `skm drain --background` for the store at dbpath, detached, at
 * low priority, from a recorder (skm_binary: the skm program to run). */
void skm__jnl_spawn_fold(const char *skm_binary, const char *dbpath);

#endif /* SKM_JOURNAL_H */
