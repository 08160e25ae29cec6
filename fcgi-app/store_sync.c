/*
 * store_sync.c -- durable and batched commits, and fsyncs shared between
 * processes (group commit).
 *
 * Without store_sync_init the environment syncs every commit itself
 * (LMDB's default: mfactl, the tests). With it the environment is switched
 * to MDB_NOSYNC and this file decides when data reaches the disk:
 *
 *   durable   commit without a sync while holding LMDB's writer lock, then,
 *             outside the lock, wait until a sync covers the transaction:
 *             either another process's fdatasync already did (its txnid is
 *             at most the shared "synced"), or take the sync lock, check
 *             again, read the last committed txnid and fdatasync once for
 *             every commit made so far by any process.
 *   deferred  durable, but in a process that defers (a worker) the wait
 *             for the sync is left to store_sync_wait, which makes one
 *             wait for all the commits deferred since the last: the
 *             worker holds their replies and answers them together.
 *   batched   commit without a sync; the transaction reaches the disk with
 *             the next durable commit of any process, or with the sync
 *             that store_sync_tick makes once "batch_ms" have passed since
 *             the last one (the workers call it between requests).
 *
 * The shared state is a small file "sync.state" in the store directory,
 * mapped by every process that serves requests, and flock(2) on it
 * serialises the syncers. Its first page is struct store_sync_shm; the
 * batch slots of store_batch.c follow (a file of an older version, one
 * page long, grows by zeros: free slots). A file that an earlier build
 * initialised (STORE_SYNC_MAGIC_V1) keeps its STORE_BATCH_SLOTS_V1 slots,
 * so that processes of both builds sharing it scan the same slots; one
 * this build initialises records STORE_BATCH_SLOTS. Only in a file this
 * build or the one before initialised (STORE_SYNC_MAGIC, _V3) do slots
 * carry out-of-band messages: a process of an earlier build would commit
 * such a challenge without its message. In any file but one this build
 * initialised, new oob challenges still get an entry in the oob_code
 * index (store_sync_oob_index): a process of an earlier build serving the
 * same store finds an oob_code only through it, and the challenges it
 * queues need it to be found by this build. A process that dies while
 * holding the lock releases it. The file is only a cache of what is known
 * to be on disk: when it claims a transaction the environment does not
 * have (a power loss rolled the environment back, a restored backup), it
 * is reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "self.h"
#include "store_int.h"

#define STORE_SYNC_FILE "sync.state"
/* mark an initialised file: with the slot count in "nslots", slots that
 * carry out-of-band messages, and oob_codes that name their challenge (no
 * index); V3 (the build before) the same but with the oob_code index; V2
 * with the slot count but no messages; V1 with STORE_BATCH_SLOTS_V1 slots */
#define STORE_SYNC_MAGIC 0x6d666153796e6334ULL
#define STORE_SYNC_MAGIC_V3 0x6d666153796e6333ULL
#define STORE_SYNC_MAGIC_V2 0x6d666153796e6332ULL
#define STORE_SYNC_MAGIC_V1 0x6d666153796e6331ULL
#define STORE_SYNC_HEAD 4096 /* struct store_sync_shm; then the batch area */
#define STORE_SYNC_SIZE (STORE_SYNC_HEAD + \
	STORE_BATCH_SLOTS * STORE_BATCH_SLOT_SIZE)

/*
 * Liveness marks: a process that may queue challenges (group commit with
 * batch_ms > 0) holds a write lock (fcntl(2); the kernel lets go of it
 * when the process dies) on the byte STORE_SYNC_MARK_BASE + its pid of
 * the file "sync.live", which nothing else locks. A slot a poster left
 * FILLING is taken for dead only when nobody holds the poster's byte
 * (store_sync_owner_live): unlike kill(2), a lock is seen from every pid
 * namespace, so mfactl in another container that shares the store's
 * volume does not free the slot a live worker is filling. A process that
 * cannot take its byte (one of another pid namespace with the same number
 * holds it) queues nothing until it can (store_sync_tick tries again).
 * The marks have a file of their own because where flock(2) is emulated
 * with fcntl locks on the whole file (NFS, SMB), the sync lock on
 * sync.state would wait for them, and its unlock would drop them.
 */
#define STORE_SYNC_LIVE_FILE "sync.live"
#define STORE_SYNC_MARK_BASE ((off_t)1 << 40)

/* The mapped file. Fields are little-endian u64 (read by make bench). */
struct store_sync_shm {
	uint64_t magic;
	_Atomic uint64_t synced;  /* highest txnid known to be on disk */
	_Atomic uint64_t batched; /* highest txnid committed batched */
	_Atomic int64_t last_ms;  /* CLOCK_MONOTONIC ms of the last sync */
	_Atomic uint64_t nsyncs;  /* fdatasyncs made */
	_Atomic uint64_t ndurable; /* durable commits acknowledged */
	_Atomic uint64_t nbatches; /* commits of store_batch.c */
	_Atomic uint64_t nbatched; /* challenges those commits carried */
	_Atomic int64_t queued_ms; /* 0, or when a challenge was queued */
	uint64_t nslots;           /* slots in the queue (STORE_SYNC_MAGIC) */
};

struct store_sync {
	int fd;
	int batch_ms;
	size_t nslots; /* the queue's slots, fixed when the file was mapped */
	bool messages; /* its slots may carry messages (this build made it,
			  or the one before) */
	bool oob_index; /* new oob challenges get an oob_code index entry
			   (an earlier build made it) */
	struct store_sync_shm *shm;
	bool defer;     /* store_sync_defer */
	int live_fd;    /* sync.live, or -1 */
	bool marked;    /* this process holds its liveness mark there */
	uint64_t owed;  /* highest deferred txnid waiting for a sync, or 0 */
	uint64_t nowed; /* deferred commits waiting for it */
	int lost;       /* store_sync_lose's error, or MFA_OK */
};

#ifdef MFA_FAULT_INJECT
/* make faultinject: with MFA_FAULT_SYNC=1 in the environment every sync
 * fails, as an fdatasync that reports EIO does (the commits are made). */
static bool
store_sync_fault(void)
{
	const char *s = getenv("MFA_FAULT_SYNC");

	return s != NULL && strcmp(s, "1") == 0;
}
#else
#define store_sync_fault() false
#endif

static void
store_sync_lock(const struct store_sync *s)
{
	while (flock(s->fd, LOCK_EX) != 0 && errno == EINTR)
		;
}

/* The sync lock if free; false when another process is syncing. */
static bool
store_sync_trylock(const struct store_sync *s)
{
	int rc;

	while ((rc = flock(s->fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	return rc == 0;
}

static void
store_sync_unlock(const struct store_sync *s)
{
	flock(s->fd, LOCK_UN);
}

/* The txnid of the last commit of any process (0 if it cannot be read). */
static uint64_t
store_sync_last(struct store *st)
{
	MDB_envinfo info;

	if (mdb_env_info(st->env, &info) != MDB_SUCCESS)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

/* fdatasync of the environment; a failure is logged. */
static int
store_sync_env(struct store *st)
{
	int rc;

	if ((rc = mdb_env_sync(st->env, 1)) != MDB_SUCCESS ||
	    (store_sync_fault() && (rc = EIO) != 0)) {
		log_error("store: sync failed: %s", mdb_strerror(rc));
		return MFA_ERR_STORE;
	}
	return MFA_OK;
}

/*
 * With the sync lock held: fdatasync the environment and publish the
 * txnid read before it, which every commit up to then is covered by.
 */
static int
store_sync_locked(struct store *st)
{
	struct store_sync_shm *m = st->sync->shm;
	uint64_t last = store_sync_last(st), cur;
	int rc;

	if ((rc = store_sync_env(st)) != MFA_OK)
		return rc;
	cur = atomic_load(&m->synced);
	if (last > cur)
		atomic_store(&m->synced, last);
	atomic_store(&m->last_ms, clock_mono_ms());
	atomic_fetch_add(&m->nsyncs, 1);
	return MFA_OK;
}

/*
 * With the sync lock held, "m" mapped: a new, foreign or damaged file is
 * initialised for this build's queue; the counters of one from before a
 * rollback ("last": the environment's last txnid) are reset, trusting
 * nothing; the magic and slot count of a valid file are kept.
 */
static void
store_sync_check(struct store_sync_shm *m, uint64_t last)
{
	bool valid = m->magic == STORE_SYNC_MAGIC_V1 ||
	    ((m->magic == STORE_SYNC_MAGIC || m->magic == STORE_SYNC_MAGIC_V3 ||
	    m->magic == STORE_SYNC_MAGIC_V2) &&
	    m->nslots >= 1 && m->nslots <= STORE_BATCH_SLOTS);

	if (valid && atomic_load(&m->synced) <= last &&
	    atomic_load(&m->batched) <= last)
		return;
	atomic_store(&m->synced, 0);
	atomic_store(&m->batched, 0);
	atomic_store(&m->last_ms, 0);
	if (!valid) {
		m->nslots = STORE_BATCH_SLOTS;
		m->magic = STORE_SYNC_MAGIC;
	}
}

/* The liveness mark of "pid": a write lock on one byte. */
static struct flock
store_sync_mark_range(int32_t pid)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = STORE_SYNC_MARK_BASE + pid;
	fl.l_len = 1;
	return fl;
}

/* Takes this process's liveness mark on "fd" (the file "path"); false
 * when it cannot, saying why when "warn". */
static bool
store_sync_mark(int fd, const char *path, bool warn)
{
	struct flock fl = store_sync_mark_range(self_pid());

	if (fcntl(fd, F_SETLK, &fl) == 0)
		return true;
	if (!warn)
		return false;
	if (errno == EACCES || errno == EAGAIN)
		log_warn("store: pid %ld is marked live in %s by a process of "
		    "another pid namespace; this one commits its challenges "
		    "itself until it can mark itself", (long)self_pid(), path);
	else
		log_warn("store: cannot mark pid %ld live in %s: %s; this "
		    "process commits its challenges itself",
		    (long)self_pid(), path, strerror(errno));
	return false;
}

/* Opens sync.live in "dir" and marks this process live when it may queue
 * ("batch_ms" > 0). Without the file (logged) "live_fd" is -1: nothing is
 * queued and no slot freed. */
static void
store_sync_live_open(struct store_sync *s, const char *dir)
{
	char path[4096];

	s->live_fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_SYNC_LIVE_FILE) >= sizeof(path))
		return;
	if ((s->live_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) <
	    0) {
		log_warn("store: cannot open %s: %s; no challenge is queued "
		    "and no slot freed", path, strerror(errno));
		return;
	}
	s->marked = s->batch_ms > 0 && store_sync_mark(s->live_fd, path, true);
}

bool
store_sync_owner_live(struct store *st, int32_t pid)
{
	struct flock fl = store_sync_mark_range(pid);

	if (st->sync == NULL || st->sync->live_fd < 0 ||
	    fcntl(st->sync->live_fd, F_GETLK, &fl) != 0)
		return true; /* cannot tell: keep the slot */
	return fl.l_type != F_UNLCK;
}

/*
 * Maps the shared state of "st" (creating the file when "create"; when it
 * is absent and !create, MFA_OK with nothing attached) and switches the
 * environment to group commit.
 */
static int
store_sync_open(struct store *st, int batch_ms, bool create)
{
	struct store_sync *s;
	struct stat sb;
	const char *dir;
	char path[4096];
	uint64_t last;
	void *p;
	int fd, rc;

	if (st->sync != NULL)
		return MFA_OK;
	if (mdb_env_get_path(st->env, &dir) != MDB_SUCCESS)
		return MFA_ERR_STORE;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_SYNC_FILE) >= sizeof(path))
		return MFA_ERR_CONFIG;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0),
	    0600)) < 0) {
		if (!create && errno == ENOENT)
			return MFA_OK;
		log_error("store: cannot open %s: %s", path, strerror(errno));
		return MFA_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 || (sb.st_size < STORE_SYNC_SIZE &&
	    ftruncate(fd, STORE_SYNC_SIZE) != 0)) {
		close(fd);
		return MFA_ERR_IO;
	}
	p = mmap(NULL, STORE_SYNC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return MFA_ERR_IO;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		munmap(p, STORE_SYNC_SIZE);
		close(fd);
		return MFA_ERR_NOMEM;
	}
	s->fd = fd;
	s->shm = p;
	s->batch_ms = batch_ms < 0 ? 0 : batch_ms;
	store_sync_live_open(s, dir);
	store_sync_lock(s);
	last = store_sync_last(st);
	store_sync_check(s->shm, last);
	s->nslots = s->shm->magic == STORE_SYNC_MAGIC_V1 ?
	    STORE_BATCH_SLOTS_V1 : (size_t)s->shm->nslots;
	s->messages = s->shm->magic == STORE_SYNC_MAGIC ||
	    s->shm->magic == STORE_SYNC_MAGIC_V3;
	s->oob_index = s->shm->magic != STORE_SYNC_MAGIC;
	store_sync_unlock(s);
	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 1)) != MDB_SUCCESS) {
		munmap(p, STORE_SYNC_SIZE);
		close(fd);
		if (s->live_fd >= 0)
			close(s->live_fd);
		free(s);
		return store_map_err(rc);
	}
	st->sync = s;
	/* a slot left by a process killed while filling it is free again;
	 * what is still queued is taken in by the next write or tick */
	store_batch_reclaim(st);
	store_sync_mark_queued(st);
	return MFA_OK;
}

int
store_sync_init(struct store *st, int batch_ms)
{
	return store_sync_open(st, batch_ms, true);
}

/* Commits the queued challenges (a write transaction takes them in), with
 * a sync. */
static int
store_sync_flush(struct store *st)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	if (txn->nbatch == 0 && txn->err == MFA_OK) {
		store_txn_abort(txn); /* nothing was queued: no sync either */
		return MFA_OK;
	}
	return store_txn_commit(txn);
}

int
store_sync_attach(struct store *st)
{
	int rc;

	if ((rc = store_sync_open(st, 0, false)) != MFA_OK || st->sync == NULL)
		return rc;
	return store_sync_flush(st);
}

bool
store_sync_batching(const struct store *st)
{
	return st->sync != NULL && st->sync->batch_ms > 0 && st->sync->marked;
}

void
store_sync_mark_queued(struct store *st)
{
	int64_t zero = 0, now = clock_mono_ms();

	if (st->sync != NULL)
		(void)atomic_compare_exchange_strong(&st->sync->shm->queued_ms,
		    &zero, now > 0 ? now : 1);
}

void
store_sync_clear_queued(struct store *st)
{
	if (st->sync != NULL)
		atomic_store(&st->sync->shm->queued_ms, 0);
}

void
store_sync_count_batch(struct store *st, size_t n)
{
	if (st->sync == NULL)
		return;
	atomic_fetch_add(&st->sync->shm->nbatches, 1);
	atomic_fetch_add(&st->sync->shm->nbatched, n);
}

void *
store_sync_area(struct store *st)
{
	if (st->sync == NULL)
		return NULL;
	return (unsigned char *)st->sync->shm + STORE_SYNC_HEAD;
}

size_t
store_sync_slots(const struct store *st)
{
	return st->sync == NULL ? 0 : st->sync->nslots;
}

bool
store_sync_messages(const struct store *st)
{
	return st->sync != NULL && st->sync->messages;
}

bool
store_sync_oob_index(const struct store *st)
{
	return st->sync != NULL && st->sync->oob_index;
}

/*
 * Returns once a sync covers transaction "txnid" ("n" durable commits of
 * this process): at once when one already does, else after this process's
 * own sync (made under the sync lock, so processes waiting behind it
 * usually find themselves covered).
 */
static int
store_sync_cover(struct store *st, uint64_t txnid, uint64_t n)
{
	struct store_sync *s = st->sync;
	int rc = MFA_OK;

	if (atomic_load(&s->shm->synced) < txnid) {
		store_sync_lock(s);
		if (atomic_load(&s->shm->synced) < txnid)
			rc = store_sync_locked(st);
		store_sync_unlock(s);
	}
	if (rc == MFA_OK)
		atomic_fetch_add(&s->shm->ndurable, n);
	return rc;
}

int
store_sync_all(struct store *st)
{
	uint64_t last;

	/* not attached (no sync.state when this process opened the store;
	 * the workers may have made it since and commit without syncing):
	 * a sync of its own */
	if (st->sync == NULL)
		return store_sync_env(st);
	if ((last = store_sync_last(st)) == 0)
		last = UINT64_MAX; /* unknown: sync anyway */
	return store_sync_cover(st, last, 0);
}

void
store_sync_defer(struct store *st, bool on)
{
	if (st->sync != NULL)
		st->sync->defer = on;
}

size_t
store_sync_owed(const struct store *st)
{
	return st->sync == NULL ? 0 : (size_t)st->sync->nowed;
}

bool
store_sync_deferring(const struct store *st)
{
	return st->sync != NULL && st->sync->defer;
}

void
store_sync_add_owed(struct store *st, int n)
{
	if (st->sync != NULL)
		st->sync->nowed = (uint64_t)((int64_t)st->sync->nowed + n);
}

/* Syncs what is owed (counting "n" durable commits), unless it was lost
 * or a sync failed already: the error is kept for store_sync_wait. */
static int
store_sync_cover_owed(struct store *st, uint64_t n)
{
	struct store_sync *s = st->sync;

	if (s == NULL || s->nowed == 0)
		return MFA_OK;
	if (s->lost == MFA_OK)
		s->lost = store_sync_cover(st, s->owed, n);
	return s->lost;
}

int
store_sync_owed_now(struct store *st)
{
	return store_sync_cover_owed(st, 0);
}

void
store_sync_lose(struct store *st, int err)
{
	if (st->sync != NULL && st->sync->lost == MFA_OK)
		st->sync->lost = err;
}

int
store_sync_wait(struct store *st)
{
	struct store_sync *s = st->sync;
	int rc;

	if (s == NULL)
		return MFA_OK;
	rc = store_sync_cover_owed(st, s->nowed);
	s->lost = MFA_OK;
	s->owed = 0;
	s->nowed = 0;
	return rc;
}

int
store_sync_commit(struct store_txn *txn, enum store_commit how)
{
	struct store *st = txn->st;
	uint64_t id = (uint64_t)mdb_txn_id(txn->txn), cur, last;
	int rc;

	if ((rc = mdb_txn_commit(txn->txn)) != MDB_SUCCESS) {
		log_error("store: commit failed: %s", mdb_strerror(rc));
		return store_map_err(rc);
	}
	if (st->sync == NULL || !txn->write)
		return MFA_OK; /* LMDB synced the commit itself, or a reader */
	/* a commit that changed nothing does not take its txnid: what it
	 * read is covered by the last one */
	last = store_sync_last(st);
	if (last != 0 && id > last)
		id = last;
	if (how == STORE_COMMIT_DEFERRED && st->sync->defer) {
		if (id > st->sync->owed)
			st->sync->owed = id;
		st->sync->nowed++;
		return MFA_OK;
	}
	if (how != STORE_COMMIT_BATCHED || st->sync->batch_ms == 0)
		return store_sync_cover(st, id, 1);
	cur = atomic_load(&st->sync->shm->batched);
	while (cur < id && !atomic_compare_exchange_weak(
	    &st->sync->shm->batched, &cur, id))
		;
	return MFA_OK;
}

/* Lowers "*next_ms" (-1: none yet) to "ms". */
static void
store_sync_next(int *next_ms, int ms)
{
	if (*next_ms < 0 || ms < *next_ms)
		*next_ms = ms;
}

/*
 * Commits the queued challenges once the oldest has waited "batch_ms"
 * (store_batch.c); else sets "*next_ms" to when it is due.
 */
static int
store_sync_tick_queue(struct store *st, int *next_ms)
{
	int64_t q = atomic_load(&st->sync->shm->queued_ms), age;

	if (q == 0)
		return MFA_OK;
	age = clock_mono_ms() - q;
	if (age >= 0 && age < st->sync->batch_ms) {
		store_sync_next(next_ms, (int)(st->sync->batch_ms - age));
		return MFA_OK;
	}
	return store_sync_flush(st); /* a clock from before a reboot: now */
}

int
store_sync_tick(struct store *st, int *next_ms)
{
	struct store_sync *s = st->sync;
	struct store_sync_shm *m;
	int64_t age;
	int rc = MFA_OK;

	*next_ms = -1;
	if (s == NULL)
		return MFA_OK;
	m = s->shm;
	if (!s->marked && s->batch_ms > 0 && s->live_fd >= 0)
		s->marked = store_sync_mark(s->live_fd, NULL, false);
	if ((rc = store_sync_tick_queue(st, next_ms)) != MFA_OK)
		return rc;
	if (atomic_load(&m->batched) <= atomic_load(&m->synced))
		return MFA_OK;
	age = clock_mono_ms() - atomic_load(&m->last_ms);
	if (age < s->batch_ms) {
		store_sync_next(next_ms, (int)(s->batch_ms - age));
		return MFA_OK;
	}
	/* A worker between requests does not queue behind another's sync:
	 * that one covers what is batched now, or the next tick will. */
	if (!store_sync_trylock(s)) {
		store_sync_next(next_ms, 1);
		return MFA_OK;
	}
	if (atomic_load(&m->batched) > atomic_load(&m->synced))
		rc = store_sync_locked(st);
	store_sync_unlock(s);
	return rc;
}

void
store_sync_close(struct store *st)
{
	struct store_sync *s = st->sync;

	if (s == NULL)
		return;
	if (store_sync_wait(st) != MFA_OK) /* the worker waited; if not */
		log_error("store: deferred commits may not be on disk");
	/* a clean stop leaves nothing queued or batched behind */
	if (atomic_load(&s->shm->queued_ms) != 0)
		(void)store_sync_flush(st);
	if (atomic_load(&s->shm->batched) > atomic_load(&s->shm->synced)) {
		store_sync_lock(s);
		if (atomic_load(&s->shm->batched) >
		    atomic_load(&s->shm->synced))
			(void)store_sync_locked(st);
		store_sync_unlock(s);
	}
	munmap(s->shm, STORE_SYNC_SIZE);
	close(s->fd);
	if (s->live_fd >= 0)
		close(s->live_fd);
	free(s);
	st->sync = NULL;
}
