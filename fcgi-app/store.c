/*
 * store.c -- the LMDB environment, transactions and raw key/value access.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store_int.h"
#include "self.h"

static const char *const db_names[DB__COUNT] = {
	"meta", "clients", "authns", "user_authns", "tokens", "challenges",
	"oob", "buckets", "jti", "recovery", "signing", "expiry",
	"outbox",
};

/* Enough reader slots for many FastCGI processes plus admin tools. */
#define STORE_MAX_READERS 1024
#define STORE_OPEN_TRIES 5

int
store_map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return MFA_OK;
	case MDB_NOTFOUND:
		return MFA_ERR_NOTFOUND;
	case MDB_KEYEXIST:
		return MFA_ERR_EXISTS;
	case MDB_MAP_FULL:
	case ENOSPC: /* the disk is full: a commit could not write */
	case EDQUOT:
		return MFA_ERR_FULL;
	case EROFS: /* the file system went read-only */
	case EIO:   /* a short write: LMDB's word for a disk that filled up
		       during a commit; nothing was committed */
		return MFA_ERR_BUSY;
	case MDB_READERS_FULL:
	case EAGAIN:
		return MFA_ERR_BUSY;
	case ENOMEM:
		return MFA_ERR_NOMEM;
	default:
		return MFA_ERR_STORE;
	}
}

int
store_fail(struct store_txn *txn, int err)
{
	if (txn->err == MFA_OK)
		txn->err = err;
	return err;
}

#ifdef MFA_FAULT_INJECT
/*
 * Fault injection (make faultinject; never installed): with
 * MFA_FAULT_EVERY=N in the environment, every Nth call of the entry points
 * below (begin, get, put, del, cursor open, commit) in this process fails
 * as LMDB could fail: "rc" is the LMDB error it pretends to have had.
 */
static bool
store_fault(const char *what, int rc)
{
	static long every = -1, calls;
	const char *s;

	if (every < 0)
		every = (s = getenv("MFA_FAULT_EVERY")) != NULL ?
		    strtol(s, NULL, 10) : 0;
	if (every <= 0 || ++calls % every != 0)
		return false;
	log_error("store: injected fault in %s (%s)", what, mdb_strerror(rc));
	return true;
}
#define STORE_FAULT(what, rc) store_fault(what, rc)
#else
#define STORE_FAULT(what, rc) false
#endif

/* lmdb.h forbids using an environment in a process that did not open it. */
static void
store_check_pid(const struct store *st)
{
	if (st->pid != self_pid()) {
		log_error("store used after fork by pid %d (opened by %d)",
		    (int)self_pid(), (int)st->pid);
		abort();
	}
}

/* Is the schema entry "v" the text "want"? */
static bool
store_schema_is(const MDB_val *v, const char *want)
{
	return v->mv_size == strlen(want) &&
	    memcmp(v->mv_data, want, v->mv_size) == 0;
}

/*
 * Opens or creates the named databases and checks the schema; a schema-1
 * store is upgraded in the same transaction (store_migrate.c).
 */
static int
store_open_dbs(struct store *st, bool create)
{
	MDB_txn *txn;
	MDB_val k = { 6, (void *)"schema" }, v;
	size_t done = 0, left = 0;
	bool migrate = false;
	unsigned flags;
	int rc, i;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return store_map_err(rc);
	for (i = 0; i < DB__COUNT; i++) {
		/* the outbox came later in schema 2: made on first open */
		flags = create || i == DB_OUTBOX ? MDB_CREATE : 0;
		if (i == DB_USER_AUTHNS || i == DB_RECOVERY)
			flags |= MDB_DUPSORT;
		rc = mdb_dbi_open(txn, db_names[i], flags, &st->dbi[i]);
		if (rc != MDB_SUCCESS)
			goto fail;
	}
	rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		v.mv_data = (void *)STORE_SCHEMA;
		v.mv_size = strlen(STORE_SCHEMA);
		rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
	} else if (rc == MDB_SUCCESS && store_schema_is(&v, "1")) {
		migrate = true;
		rc = store_migrate_v1(txn, st->dbi, &done, &left);
	} else if (rc == MDB_SUCCESS && !store_schema_is(&v, STORE_SCHEMA)) {
		mdb_txn_abort(txn);
		return MFA_ERR_CONFIG;
	}
	if (rc != MDB_SUCCESS)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS)
		return store_map_err(rc);
	if (migrate)
		log_info("store: upgraded from schema 1 to %s: %zu record(s) "
		    "rewritten, %zu left as they were (they do not decode)",
		    STORE_SCHEMA, done, left);
	return MFA_OK;
fail:
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? MFA_ERR_NOTFOUND : store_map_err(rc);
}

/*
 * Opens the environment, retrying a concurrent open or close. MDB_NOTLS
 * ties reader slots to transactions instead of threads, so a request may
 * hold its read transaction while a provider records a jti in a short
 * write transaction of its own. Full sync on commit stays on (checklist
 * H9): replay and attempt state must survive a power loss. Workers switch
 * to group commit with store_sync_init (store_sync.c), which keeps that
 * promise for every store_txn_commit.
 */
int
store_open(struct store **out, const char *dir, size_t mapsize,
    unsigned flags)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct store *st;
	struct stat sb;
	int rc, tries;

	if (stat(dir, &sb) != 0) {
		if (!(flags & STORE_CREATE) || errno != ENOENT)
			return MFA_ERR_NOTFOUND;
		if (mkdir(dir, 0700) != 0)
			return MFA_ERR_IO;
	} else if (!S_ISDIR(sb.st_mode)) {
		return MFA_ERR_IO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MFA_ERR_NOMEM;
	for (tries = 0; tries < STORE_OPEN_TRIES; tries++) {
		rc = mdb_env_create(&st->env);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_set_maxdbs(st->env, DB__COUNT + 4);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_set_maxreaders(st->env,
			    STORE_MAX_READERS);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_set_mapsize(st->env, mapsize);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600);
		if (rc == MDB_SUCCESS)
			break;
		mdb_env_close(st->env);
		st->env = NULL;
		if (rc == ENOENT || rc == EACCES)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc != MDB_SUCCESS) {
		free(st);
		return rc == ENOENT ? MFA_ERR_NOTFOUND : MFA_ERR_STORE;
	}
	st->pid = self_pid();
	(void)store_reader_check(st);
	if ((rc = store_open_dbs(st, flags & STORE_CREATE)) != MFA_OK) {
		mdb_env_close(st->env);
		free(st);
		return rc;
	}
	*out = st;
	return MFA_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_check_pid(st);
	(void)store_combine_end(st); /* a run left open: synced below */
	store_sync_close(st);
	mdb_env_close(st->env);
	free(st);
}

int
store_reader_check(struct store *st)
{
	int dead = 0;

	store_check_pid(st);
	mdb_reader_check(st->env, &dead);
	if (dead > 0)
		log_warn("store: cleared %d stale reader slot(s)", dead);
	return dead;
}

/*
 * The map was full: take the size recorded in the environment, which
 * "mfactl store grow" or a process opened with a larger map_size may
 * have raised (mdb_env_set_mapsize with 0 adopts it). Only with no
 * transaction open in this process (lmdb.h).
 */
static void
store_adopt_mapsize(struct store *st)
{
	MDB_envinfo before, after;
	int rc;

	st->full = false;
	mdb_env_info(st->env, &before);
	if ((rc = mdb_env_set_mapsize(st->env, 0)) != MDB_SUCCESS) {
		log_error("store: cannot adopt the map size: %s",
		    mdb_strerror(rc));
		return;
	}
	mdb_env_info(st->env, &after);
	if (after.me_mapsize > before.me_mapsize)
		log_warn("store: map size grown from %zu to %zu bytes",
		    before.me_mapsize, after.me_mapsize);
}

/* Books the end of a transaction of "st" that ended with "err". */
void
store_txn_done(struct store *st, int err)
{
	if (st->active > 0)
		st->active--;
	if (err == MFA_ERR_FULL) {
		st->full = true;
		log_warn("store: no room to write (map_size reached or the "
		    "disk is full); writes answer 503 until there is room "
		    "(mfactl store grow SIZE, or free disk space)");
	}
}

/*
 * mdb_txn_begin for "t", adopting a map grown by another process and
 * reclaiming dead readers once when the reader table is full. Returns an
 * LMDB code (logged).
 */
static int
store_txn_mdb_begin(struct store *st, struct store_txn *t)
{
	int rc, tries;

	if (st->outer != NULL && t->write)
		return store_combine_nest(st, t);
	for (tries = 0; tries < 3; tries++) {
		rc = mdb_txn_begin(st->env, NULL, t->write ? 0 : MDB_RDONLY,
		    &t->txn);
		if (rc == MDB_MAP_RESIZED)
			rc = mdb_env_set_mapsize(st->env, 0) == MDB_SUCCESS ?
			    MDB_MAP_RESIZED : rc;
		else if (rc == MDB_READERS_FULL)
			store_reader_check(st);
		else
			break;
	}
	if (rc != MDB_SUCCESS)
		log_error("store: cannot begin transaction: %s",
		    mdb_strerror(rc));
	return rc;
}

/*
 * Begins a transaction (store_txn_mdb_begin). A write transaction takes
 * the queued challenges in unless "join" is false.
 */
static int
store_txn_open(struct store *st, bool write, bool join,
    struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	store_check_pid(st);
	if (st->full && st->active == 0)
		store_adopt_mapsize(st);
	if (STORE_FAULT("begin", MDB_READERS_FULL))
		return store_map_err(MDB_READERS_FULL);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return MFA_ERR_NOMEM;
	t->st = st;
	t->write = write;
	t->joined = write && join;
	if ((rc = store_txn_mdb_begin(st, t)) != MDB_SUCCESS)
		goto fail;
	if (t->joined && (rc = store_batch_join(t)) != MFA_OK) {
		/* the queued challenges could not be taken in (no room, say):
		 * they stay queued, this transaction goes on without them,
		 * and store_jti_put looks in the queue itself */
		if (rc == MFA_ERR_FULL)
			st->full = true;
		store_batch_settle(t, false);
		mdb_txn_abort(t->txn);
		t->err = MFA_OK;
		t->joined = false;
		if ((rc = store_txn_mdb_begin(st, t)) != MDB_SUCCESS)
			goto fail;
	}
	st->active++;
	*out = t;
	return MFA_OK;
fail:
	free(t);
	return store_map_err(rc);
}

int
store_txn_begin(struct store *st, bool write, struct store_txn **out)
{
	return store_txn_open(st, write, true, out);
}

int
store_txn_lock(struct store *st, struct store_txn **out)
{
	return store_txn_open(st, true, false, out);
}

/* Commits ("how": store_int.h) unless an operation poisoned "txn". */
int
store_txn_finish(struct store_txn *txn, enum store_commit how)
{
	int rc = txn->err;

	if (txn->in_outer)
		return store_combine_finish(txn, how);
	if (how == STORE_COMMIT_DEFERRED && store_combine_park(txn))
		return MFA_OK;
	if (rc == MFA_OK && STORE_FAULT("commit", EIO))
		rc = store_map_err(EIO);
	if (rc != MFA_OK) {
		/* the queue goes back while the writer lock is still held */
		store_batch_settle(txn, false);
		mdb_txn_abort(txn->txn);
	} else {
		rc = store_sync_commit(txn, how);
		/* a sync error after a commit hands the queue back too:
		 * taking it in again finds those challenges stored (a
		 * deferred commit's sync comes later: its queue is
		 * released now, committed) */
		store_batch_settle(txn, rc == MFA_OK);
	}
	store_txn_done(txn->st, rc);
	free(txn);
	return rc;
}

int
store_txn_commit(struct store_txn *txn)
{
	return store_txn_finish(txn, STORE_COMMIT_DURABLE);
}

int
store_txn_commit_deferred(struct store_txn *txn)
{
	return store_txn_finish(txn, STORE_COMMIT_DEFERRED);
}

int
store_txn_commit_batched(struct store_txn *txn)
{
	return store_txn_finish(txn, STORE_COMMIT_BATCHED);
}

void
store_txn_abort(struct store_txn *txn)
{
	if (txn == NULL)
		return;
	store_batch_settle(txn, false); /* with the writer lock still held */
	mdb_txn_abort(txn->txn);
	store_txn_done(txn->st, txn->err);
	free(txn);
}

int
store_get(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, MDB_val *val)
{
	MDB_val k = store_val(key, klen);
	int rc;

	if (txn->err != MFA_OK)
		return txn->err;
	if (STORE_FAULT("get", MDB_CORRUPTED))
		return store_fail(txn, store_map_err(MDB_CORRUPTED));
	rc = mdb_get(txn->txn, txn->st->dbi[db], &k, val);
	if (rc == MDB_NOTFOUND)
		return MFA_ERR_NOTFOUND;
	return rc == MDB_SUCCESS ? MFA_OK : store_fail(txn, store_map_err(rc));
}

int
store_put(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen, bool noover)
{
	MDB_val k = store_val(key, klen), v = store_val(val, vlen);
	int rc;

	if (txn->err != MFA_OK)
		return txn->err;
	if (klen == 0 || klen > 511)
		return store_fail(txn, MFA_ERR_INVALID);
	if (STORE_FAULT("put", MDB_MAP_FULL))
		return store_fail(txn, store_map_err(MDB_MAP_FULL));
	rc = mdb_put(txn->txn, txn->st->dbi[db], &k, &v,
	    noover ? MDB_NOOVERWRITE : 0);
	if (rc == MDB_KEYEXIST)
		return MFA_ERR_EXISTS;
	if (rc != MDB_SUCCESS)
		log_error("store: put into %s failed: %s", db_names[db],
		    mdb_strerror(rc));
	return rc == MDB_SUCCESS ? MFA_OK : store_fail(txn, store_map_err(rc));
}

int
store_del(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = store_val(key, klen), v = store_val(val, vlen);
	int rc;

	if (txn->err != MFA_OK)
		return txn->err;
	if (STORE_FAULT("del", EIO))
		return store_fail(txn, store_map_err(EIO));
	rc = mdb_del(txn->txn, txn->st->dbi[db], &k, val != NULL ? &v : NULL);
	if (rc == MDB_NOTFOUND)
		return MFA_ERR_NOTFOUND;
	return rc == MDB_SUCCESS ? MFA_OK : store_fail(txn, store_map_err(rc));
}

int
store_cursor_open(struct store_txn *txn, enum store_db db, MDB_cursor **cur)
{
	int rc;

	if (txn->err != MFA_OK)
		return txn->err;
	if (STORE_FAULT("cursor", EIO))
		return store_fail(txn, store_map_err(EIO));
	rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], cur);
	return rc == MDB_SUCCESS ? MFA_OK : store_fail(txn, store_map_err(rc));
}

int
store_cursor_get(struct store_txn *txn, MDB_cursor *cur, MDB_val *k,
    MDB_val *v, MDB_cursor_op op)
{
	int rc = mdb_cursor_get(cur, k, v, op);

	if (rc == MDB_NOTFOUND)
		return MFA_ERR_NOTFOUND;
	return rc == MDB_SUCCESS ? MFA_OK : store_fail(txn, store_map_err(rc));
}

int
store_has_pair(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = store_val(key, klen), v = store_val(val, vlen);
	MDB_cursor *cur;
	int rc;

	if ((rc = store_cursor_open(txn, db, &cur)) != MFA_OK)
		return rc;
	rc = store_cursor_get(txn, cur, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	return rc;
}

int
store_decoded(int rc, enum store_db db, const char *name)
{
	if (rc == MFA_ERR_CORRUPT)
		log_error("store: a record in %s%s%s%s does not decode: the "
		    "store is damaged (restore a copy, or remove the record)",
		    db_names[db], name != NULL ? " (\"" : "",
		    name != NULL ? name : "", name != NULL ? "\")" : "");
	return rc;
}

int
store_put_rec(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const unsigned char *rec, size_t len, bool noover)
{
	if (len == 0)
		return store_fail(txn, MFA_ERR_INVALID);
	return store_put(txn, db, key, klen, rec, len, noover);
}

/* Index key: 8 bytes big-endian time, the kind byte, the record key. */
int
store_expiry_add(struct store_txn *txn, mfa_ms at, enum store_kind kind,
    const void *key, size_t klen)
{
	unsigned char buf[9 + STORE_EXPIRY_KEY_MAX];

	if (klen > sizeof(buf) - 9)
		return store_fail(txn, MFA_ERR_INVALID);
	store_be64(buf, at < 0 ? 0 : (uint64_t)at);
	buf[8] = (unsigned char)kind;
	memcpy(buf + 9, key, klen);
	return store_put(txn, DB_EXPIRY, buf, 9 + klen, "", 0, false);
}

/*
 * Grows the map of "st" (opened by this process, no transaction open) to
 * "size" bytes and records it in the environment with a small write
 * (meta "map_size"), so every process adopts it: at its next
 * transaction after a full map, or when data passes its own map. The map
 * never shrinks below the data. Returns MFA_OK, MFA_ERR_INVALID (smaller
 * than the current map) or a store error.
 */
int
store_grow(struct store *st, size_t size)
{
	MDB_val k = { 8, (void *)"map_size" }, v;
	MDB_envinfo info;
	MDB_txn *txn;
	char buf[32];
	int rc;

	store_check_pid(st);
	if (st->active != 0)
		return MFA_ERR_INVALID;
	mdb_env_info(st->env, &info);
	if (size < info.me_mapsize)
		return MFA_ERR_INVALID;
	if ((rc = mdb_env_set_mapsize(st->env, size)) != MDB_SUCCESS)
		return store_map_err(rc);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return store_map_err(rc);
	snprintf(buf, sizeof(buf), "%zu", size);
	v.mv_size = strlen(buf);
	v.mv_data = buf;
	if ((rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return store_map_err(rc);
	}
	return store_map_err(mdb_txn_commit(txn));
}

/* The map size of "st" in bytes (what this process has mapped). */
size_t
store_map_size(struct store *st)
{
	MDB_envinfo info;

	store_check_pid(st);
	mdb_env_info(st->env, &info);
	return info.me_mapsize;
}
