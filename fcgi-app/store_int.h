/*
 * store_int.h -- what the store_*.c files share: the environment, the
 * database handles, and raw key/value helpers that map LMDB errors to
 * enum mfa_err and poison the transaction on failure. Private to the
 * store; nothing outside fcgi-app/store*.c includes it.
 */
#ifndef MFA_STORE_INT_H
#define MFA_STORE_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store.h"

enum store_db {
	DB_META,
	DB_CLIENTS,
	DB_AUTHNS,
	DB_USER_AUTHNS,
	DB_TOKENS,
	DB_CHALLENGES,
	DB_OOB,
	DB_BUCKETS,
	DB_JTI,
	DB_RECOVERY,
	DB_SIGNING,
	DB_EXPIRY,
	DB_OUTBOX,
	DB__COUNT
};

struct store_sync;

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB__COUNT];
	pid_t pid;
	struct store_sync *sync; /* group commit; NULL: LMDB syncs itself */
	int active;  /* transactions open in this process */
	bool full;   /* a write hit MDB_MAP_FULL: adopt a grown map when
			no transaction is open (store_txn_begin) */
	struct store_txn *outer; /* a run's outer transaction, or NULL */
	bool combine; /* store_combine_arm */
};

/* A queued challenge a write transaction took in (store_batch.c). */
struct store_batch_ref {
	uint64_t seq;
	uint8_t slot;
};

/* Slots of the queue in sync.state: STORE_BATCH_SLOTS in a file this
 * build initialised, STORE_BATCH_SLOTS_V1 in one an earlier build did
 * (store_sync_slots). */
#define STORE_BATCH_SLOTS 128
/*
 * Sends (oob challenges) queued at most (store_batch.c): each writes a
 * page at a random place (its bucket; with an assertion, its jti too; an
 * oob index entry where an earlier build may share the store:
 * store_sync_oob_index), and LMDB keeps the pages of its largest
 * transaction in the heap of the process for good: with up to 128 a
 * worker's heap grew by about 1 MiB. 64 wrote 2.6-2.8 KB per oob
 * challenge against 3.6-3.9 with 32, for 16-40 KiB more heap in a full
 * benchmark (README "Performance").
 */
#define STORE_BATCH_SENDS_MAX 64
#define STORE_BATCH_SLOTS_V1 64

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	bool write;
	int err; /* first error; a failed txn never commits */
	bool joined; /* a write txn that took the queue in */
	bool in_outer; /* nested in st->outer (store_combine.c) */
	size_t nbatch;
	struct store_batch_ref batch[STORE_BATCH_SLOTS];
};

/* "v" as 8 bytes big-endian (keys that sort by it). */
static inline void
store_be64(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

/* The value store_be64 wrote at "p". */
static inline uint64_t
store_be64_get(const unsigned char p[8])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The longest record key an expiry entry names (store_expiry_add). */
#define STORE_EXPIRY_KEY_MAX 256

/* An MDB_val over borrowed const bytes (LMDB never writes through it). */
static inline MDB_val
store_val(const void *p, size_t n)
{
	MDB_val v;

	v.mv_size = n;
	v.mv_data = (void *)(uintptr_t)p;
	return v;
}

/*
 * A write transaction that leaves the queued challenges where they are:
 * for a check made under LMDB's writer lock (store_batch.c), then aborted.
 */
int store_txn_lock(struct store *st, struct store_txn **out);

/*
 * store_token.c: the key "<prefix><user_id>" of the bucket of "op"
 * (MFA_ERR_INVALID when out of bounds); the state of bucket "key" after
 * taking one token for "op" (a full bucket when it has none yet) into
 * "b", nothing written: MFA_OK, MFA_ERR_LIMIT (empty) or a store error.
 */
int store_bucket_key(const struct store_bucket_op *op,
    char key[STORE_BUCKET_KEY_MAX + 1]);
int store_bucket_next(struct store_txn *txn, const char *key,
    const struct store_bucket_op *op, struct bucket *b);

/* store_batch.c: might a send of bucket "key" be queued (store_bucket_take
 * in a transaction that did not take the queue in refuses it)? */
bool store_batch_send_queued(struct store *st, const char *key);

/* Maps an LMDB return code to enum mfa_err. */
int store_map_err(int rc);

/* Records "err" as the txn's first error and returns it. */
int store_fail(struct store_txn *txn, int err);

/*
 * Raw access. store_get sets "*val" to memory borrowed until the
 * transaction ends. store_put with "noover" fails with MFA_ERR_EXISTS on
 * an existing key (and then does not poison the transaction). Errors other
 * than NOTFOUND/EXISTS poison the transaction.
 */
int store_get(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, MDB_val *val);
int store_put(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen, bool noover);
int store_del(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen);

/*
 * Cursors on "db" that speak enum mfa_err: store_cursor_open returns
 * MFA_OK or poisons the txn; store_cursor_get returns MFA_OK,
 * MFA_ERR_NOTFOUND at the end, or poisons the txn with the mapped error.
 */
int store_cursor_open(struct store_txn *txn, enum store_db db,
    MDB_cursor **cur);
int store_cursor_get(struct store_txn *txn, MDB_cursor *cur, MDB_val *k,
    MDB_val *v, MDB_cursor_op op);
/* MFA_OK when the DUPSORT "db" holds the pair "key"/"val", else
 * MFA_ERR_NOTFOUND or a store error; a lookup that writes nothing. */
int store_has_pair(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const void *val, size_t vlen);

/*
 * Passes "rc" (a record_*_decode result) through, logging a corrupt
 * record with its database and "name" (its id; NULL when the key is a
 * keyed hash or not worth showing).
 */
int store_decoded(int rc, enum store_db db, const char *name);

/*
 * store_migrate.c: rewrites the JSON records of a schema-1 store in the
 * binary layout and sets the schema to STORE_SCHEMA, inside "txn" (the
 * caller commits). Counts the records rewritten into "*done" and those
 * left as they were (they do not decode) into "*left". Returns an LMDB
 * code.
 */
int store_migrate_v1(MDB_txn *txn, const MDB_dbi *dbi, size_t *done,
    size_t *left);

/*
 * Puts the record encoded in "rec" ("len" bytes: a record_*_encode
 * result, whose 0 means it could not be encoded and poisons "txn").
 */
int store_put_rec(struct store_txn *txn, enum store_db db, const void *key,
    size_t klen, const unsigned char *rec, size_t len, bool noover);

/* Adds "key" of "kind" to the expiry index at time "at". */
int store_expiry_add(struct store_txn *txn, mfa_ms at, enum store_kind kind,
    const void *key, size_t klen);

/* How a commit reaches the disk (store_sync_commit). */
enum store_commit {
	STORE_COMMIT_BATCHED,  /* with the next sync of anyone */
	STORE_COMMIT_DURABLE,  /* synced before the commit returns */
	STORE_COMMIT_DEFERRED, /* synced before store_sync_wait returns */
};

/*
 * store_sync.c: commits "txn" (its LMDB transaction; the caller frees the
 * struct) as "how" says. store_sync_close syncs what is still batched and
 * releases the state; accepts a store without it.
 */
int store_sync_commit(struct store_txn *txn, enum store_commit how);
void store_sync_close(struct store *st);

/* store_sync.c: the commits store_sync_wait is to cover are lost (the
 * outer transaction holding them failed to commit with "err"): it
 * returns "err". */
void store_sync_lose(struct store *st, int err);

/* store_sync.c: syncs what store_sync_wait is to cover now, which then
 * stays owed (store_sync_wait returns at once); a failure is kept for
 * store_sync_wait too. */
int store_sync_owed_now(struct store *st);

/* store.c: commits "txn" as "how" says, frees it (store_txn_commit);
 * store_txn_done books the end of a transaction that ended with "err". */
int store_txn_finish(struct store_txn *txn, enum store_commit how);
void store_txn_done(struct store *st, int err);

/* store_sync.c: whether this process defers syncs (store_sync_defer);
 * adds "n" (may be negative) to the deferred commits owed a sync. */
bool store_sync_deferring(const struct store *st);
void store_sync_add_owed(struct store *st, int n);

/*
 * store_combine.c: a transaction begun while st->outer is open is nested
 * in it (store_combine_nest, an LMDB code); it ends with
 * store_combine_finish ("how": as for store_txn_finish).
 */
int store_combine_nest(struct store *st, struct store_txn *t);
int store_combine_finish(struct store_txn *txn, enum store_commit how);

/* store_combine.c: keeps "txn", whose deferred commit is asked for, open
 * as the run's outer transaction when combining is armed and none is
 * open; false when it is to be committed as usual. */
bool store_combine_park(struct store_txn *txn);

/*
 * The queue area of sync.state (store_batch.c): STORE_BATCH_SLOTS slots
 * of STORE_BATCH_SLOT_SIZE bytes are mapped, each a queued new challenge;
 * challenges are posted to the first store_sync_slots of them (fixed when
 * the file was mapped). store_sync_area returns NULL (and
 * store_sync_slots 0) without store_sync_init/attach.
 */
#define STORE_BATCH_SLOT_SIZE 1280
void *store_sync_area(struct store *st);
size_t store_sync_slots(const struct store *st);
/* Whether queued challenges may carry their out-of-band message (a file
 * this build or the one before initialised; an earlier build's processes,
 * which may share it during an upgrade, would drop the message). */
bool store_sync_messages(const struct store *st);
/* Whether a new oob challenge gets an entry in the oob_code index (a file
 * an earlier build initialised: its processes, which may share it during
 * an upgrade, find an oob_code only through the index). */
bool store_sync_oob_index(const struct store *st);

/* Whether new challenges may be queued: group commit with batch_ms > 0,
 * in a process that holds its liveness mark (store_sync.c). */
bool store_sync_batching(const struct store *st);

/* Whether a process with "pid" holds its liveness mark in sync.live,
 * in any pid namespace (true when it cannot be told). */
bool store_sync_owner_live(struct store *st, int32_t pid);

/* Counts a commit that carried "n" queued challenges (make bench). */
void store_sync_count_batch(struct store *st, size_t n);

/*
 * The "something is queued" flag store_sync_tick looks at: marked (with
 * the time, unless already set) after a slot becomes QUEUED; cleared by a
 * writer before it scans the slots, so a slot queued after the scan marks
 * it again.
 */
void store_sync_mark_queued(struct store *st);
void store_sync_clear_queued(struct store *st);

/*
 * store_batch.c. store_batch_join takes the queued challenges into write
 * transaction "txn" (store_txn_begin calls it); MFA_OK, or the error that
 * poisoned "txn" (the caller aborts it, settles and begins again without
 * the queue). store_batch_settle releases what "txn" took in once it
 * committed, or hands it back to the queue. store_batch_reclaim frees the
 * slots of processes that died while filling one.
 */
int store_batch_join(struct store_txn *txn);
/* Is "jti" of "client_id" in the queue? (For a write transaction that did
 * not take it in; store_jti_put asks.) */
bool store_batch_jti_queued(struct store *st, const char *client_id,
    const char *jti);
void store_batch_settle(struct store_txn *txn, bool committed);
void store_batch_reclaim(struct store *st);

#endif
