/*
 * store.h -- the LMDB store: one environment, one named database per record
 * kind, one transaction per request step.
 *
 *   meta         "schema" -> STORE_SCHEMA
 *   clients      client_id -> struct client_rec
 *   authns       authenticator id -> struct authn_rec
 *   user_authns  user_id -> authenticator id (sorted duplicates)
 *   tokens       keyed hash of the mfa_token -> struct token_rec
 *   challenges   challenge id -> struct challenge_rec
 *   oob          keyed hash of the oob_code -> challenge id (for earlier
 *                builds: written only while one may share the store's
 *                sync.state, store_sync_oob_index; emptied by the sweep)
 *   buckets      "<kind>:<user_id>" -> struct bucket
 *   jti          client_id NUL jti -> "" (assertions already used)
 *   recovery     user_id -> keyed hash of a recovery code (sorted dups)
 *   signing      kid -> struct signing_rec (result-token keys)
 *   expiry       be64(purge time ms) || kind || key -> "" (sweep index)
 *
 * Every decision that reads and then writes is made inside one write
 * transaction (writes are serialised across processes by LMDB). Any error
 * poisons the transaction: commit then fails and nothing half-done is
 * written. A process opens the environment itself, after fork; every entry
 * point checks the pid and aborts on mismatch (lmdb.h: "Use an MDB_env* in
 * the process which opened it, not after fork()").
 */
#ifndef MFA_STORE_H
#define MFA_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "bucket.h"
#include "mfa.h"
#include "record.h"

/* "2": binary records (record.c); a schema-1 store (JSON records) is
 * upgraded when opened. */
#define STORE_SCHEMA "2"

enum store_flags {
	STORE_CREATE = 1 << 0, /* create the directory and databases */
};

/* Kinds in the expiry index. */
enum store_kind {
	STORE_KIND_TOKEN = 'T',
	STORE_KIND_CHALLENGE = 'C',
	STORE_KIND_JTI = 'J',     /* as an earlier build wrote them */
	STORE_KIND_JTI_SEQ = 'j', /* the key after the transaction's id
				     (store_jti.c) */
};

/*
 * Expired tokens and challenges are kept this long before the sweep may
 * delete them, so a late request is told "expired" rather than "unknown".
 */
#define STORE_PURGE_GRACE_MS (3600 * 1000)

struct store;
struct store_txn;

/*
 * Opens the store in directory "dir" with map size "mapsize" bytes,
 * clearing stale reader slots left by dead processes. "*out" is set only
 * on success. Returns MFA_OK, MFA_ERR_NOTFOUND (no store and no
 * STORE_CREATE), MFA_ERR_CONFIG (schema mismatch) or MFA_ERR_STORE.
 */
int store_open(struct store **out, const char *dir, size_t mapsize,
    unsigned flags) MFA_WUR;

/*
 * Grows the map to "size" bytes and records it in the environment so that
 * other processes adopt it (a worker does at its first transaction after
 * a full map). No transaction may be open. Returns MFA_OK,
 * MFA_ERR_INVALID (smaller than the current map, or a transaction is
 * open) or a store error.
 */
int store_grow(struct store *st, size_t size) MFA_WUR;

/* The size of the map this process has, in bytes. */
size_t store_map_size(struct store *st);

/* Closes; accepts NULL. No transaction may be open. */
void store_close(struct store *st);

/* Clears reader slots of dead processes (logged); returns how many. */
int store_reader_check(struct store *st);

/*
 * Begins a read ("write" false) or write transaction. "*out" is set only
 * on success. Returns MFA_OK, MFA_ERR_BUSY or MFA_ERR_STORE.
 */
int store_txn_begin(struct store *st, bool write, struct store_txn **out)
    MFA_WUR;

/*
 * Commits and frees "txn" durably: when it returns MFA_OK the transaction
 * is on disk (synced; with store_sync_init, by an fsync that may be shared
 * with other processes' commits). Use it for anything that consumes a
 * code, changes a counter, enrolls or deletes. A transaction in which any
 * operation failed is aborted instead and its first error returned.
 */
int store_txn_commit(struct store_txn *txn) MFA_WUR;

/*
 * Commits and frees "txn" durably, like store_txn_commit, except that in
 * a process that defers (store_sync_defer) it returns before the sync:
 * the transaction is then owed one, and store_sync_wait returns once it
 * is on disk. For a commit whose only consequence outside the store is a
 * reply, which the caller holds until store_sync_wait (a worker answering
 * several requests after one sync). MFA_OK means committed, not synced.
 */
int store_txn_commit_deferred(struct store_txn *txn) MFA_WUR;

/*
 * Commits and frees "txn" with batched durability: it is visible to every
 * process at once, survives a crash of any process, and reaches the disk
 * with the next durable commit or the next periodic sync (store_sync_init's
 * "batch_ms"), so a power loss may undo it. For what a lost write only
 * makes the user ask again (a pending challenge). Without store_sync_init,
 * or with a batch_ms of 0, the same as store_txn_commit.
 */
int store_txn_commit_batched(struct store_txn *txn) MFA_WUR;

/*
 * store_sync.c: switches this process's environment to group commit
 * (MDB_NOSYNC, with the syncs made by store_txn_commit and
 * store_sync_tick, shared with every process of the store through the
 * file "sync.state" in its directory). "batch_ms": the longest time a
 * batched commit waits for a sync while workers call store_sync_tick; 0
 * syncs every commit. Returns MFA_OK, MFA_ERR_IO or MFA_ERR_STORE.
 */
int store_sync_init(struct store *st, int batch_ms) MFA_WUR;

/*
 * For mfactl: joins the group commit of the serving processes when the
 * store has one (its sync.state exists; never creates it), syncing every
 * commit, and commits the challenges they queued, so that what follows
 * reads every acknowledged challenge. MFA_OK also when there is none.
 */
int store_sync_attach(struct store *st) MFA_WUR;

/*
 * Returns once every commit made so far, by any process of the store, is
 * on disk: at once when a sync covers them already, else after a sync
 * shared like store_txn_commit's (one of its own in a process that did
 * not attach to the group commit). For a process about to act outside on
 * what it read (mfa-deliver, before it hands messages over). MFA_OK or
 * MFA_ERR_STORE.
 */
int store_sync_all(struct store *st) MFA_WUR;

/*
 * Makes the periodic sync of batched commits when it is due; call it
 * between requests. Sets "*next_ms" to the milliseconds until the next
 * one is due, or -1 when nothing is waiting. Returns MFA_OK or
 * MFA_ERR_STORE (the sync failed; it is tried again next time).
 */
int store_sync_tick(struct store *st, int *next_ms) MFA_WUR;

/*
 * Deferred durability for this process (off by default, and without
 * store_sync_init): while on, store_txn_commit_deferred leaves the sync
 * to store_sync_wait. store_sync_owed says how many deferred commits
 * wait for their sync. store_sync_wait returns once a sync covers every
 * deferred commit, sharing it with other processes like store_txn_commit;
 * MFA_OK, or MFA_ERR_STORE when the sync failed (the commits are made but
 * may not be on disk: answer as for a failed commit). Either way nothing
 * is owed afterwards.
 */
void store_sync_defer(struct store *st, bool on);

/*
 * store_combine.c, for a worker holding replies (store_sync_defer on):
 * while combining is armed, a deferred commit (store_txn_commit_deferred)
 * is kept open as the outer write transaction of a run of requests, which
 * holds LMDB's writer lock, and every write transaction after it is
 * nested in it; a deferred commit merges into it, any other commits it at
 * once (with what it holds). store_combine_end commits it, as a deferred
 * commit (store_sync_wait covers it): call it before anything that may
 * wait (a read from the network), and before store_sync_wait. It returns
 * MFA_OK or the outer commit's error, which store_sync_wait reports too.
 */
void store_combine_arm(struct store *st, bool on);
int store_combine_end(struct store *st);
size_t store_sync_owed(const struct store *st);
int store_sync_wait(struct store *st) MFA_WUR;

/* Aborts and frees; accepts NULL. */
void store_txn_abort(struct store_txn *txn);

/* store_client.c */
int store_client_get(struct store_txn *txn, const char *id,
    struct client_rec *out) MFA_WUR;
/* "create": fail with MFA_ERR_EXISTS when the id is taken. */
int store_client_put(struct store_txn *txn, const struct client_rec *r,
    bool create) MFA_WUR;
int store_client_del(struct store_txn *txn, const char *id) MFA_WUR;
/* Calls "fn" per client in id order; a non-zero return stops the walk. */
int store_client_each(struct store_txn *txn,
    int (*fn)(void *arg, const struct client_rec *r), void *arg) MFA_WUR;

/* store_authn.c */
int store_authn_get(struct store_txn *txn, const char *id,
    struct authn_rec *out) MFA_WUR;
/* Writes the record and its user index entry. */
int store_authn_put(struct store_txn *txn, const struct authn_rec *r)
    MFA_WUR;
int store_authn_del(struct store_txn *txn, const char *id) MFA_WUR;
/*
 * Loads up to "max" authenticators of "user_id" into "out" (in enrollment
 * order) and sets "*n". Returns MFA_OK (possibly *n == 0) or an error.
 */
int store_authn_list(struct store_txn *txn, const char *user_id,
    struct authn_rec *out, size_t max, size_t *n) MFA_WUR;
/* Calls "fn" once per distinct user id, in order. */
int store_authn_each_user(struct store_txn *txn,
    int (*fn)(void *arg, const char *user_id), void *arg) MFA_WUR;
/* The most authenticators one user may have. */
#define STORE_AUTHN_PER_USER 16

/* store_token.c */
int store_token_get(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES], struct token_rec *out)
    MFA_WUR;
/* Writes the token and its expiry index entry (purge at expires_at). */
int store_token_put(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES], const struct token_rec *r)
    MFA_WUR;
int store_bucket_get(struct store_txn *txn, const char *key,
    struct bucket *out) MFA_WUR;
/*
 * The buckets kept per record: failed codes per authenticator ("fail:" and
 * its id; store_authn_del deletes it with the authenticator) and polls per
 * oob challenge ("poll:" and its id; the sweep deletes it with the
 * challenge).
 */
#define STORE_FAIL_PREFIX "fail:"
#define STORE_POLL_PREFIX "poll:"
/* Deletes the bucket "<prefix><id>" (one of the two above); MFA_OK also
 * when there is none. */
int store_bucket_del(struct store_txn *txn, const char *prefix,
    const char *id) MFA_WUR;
int store_bucket_put(struct store_txn *txn, const char *key,
    const struct bucket *b) MFA_WUR;

/*
 * A send to take from the bucket "<prefix><user_id>" (an oob channel's:
 * "pstn:", "email:"), with its policy, at "now".
 */
#define STORE_BUCKET_PREFIX_MAX 6
#define STORE_BUCKET_KEY_MAX (STORE_BUCKET_PREFIX_MAX + MFA_USER_ID_MAX)
struct store_bucket_op {
	const char *prefix;  /* at most STORE_BUCKET_PREFIX_MAX bytes */
	const char *user_id;
	struct bucket_policy policy;
	mfa_ms now;
	/* with store_challenge_create: the message for the delivery agent
	 * (the spool's JSON, "msg_len" bytes) put in the outbox with the
	 * challenge; NULL for none */
	const char *msg;
	size_t msg_len;
};

/* Takes one token from the bucket of "op" (a full one when it has none
 * yet): MFA_OK, MFA_ERR_LIMIT when it is empty (nothing written),
 * MFA_ERR_INVALID for a key out of bounds, MFA_ERR_BUSY when the queue of
 * new challenges could not be taken in and holds a send of this bucket,
 * or a store error. */
int store_bucket_take(struct store_txn *txn, const struct store_bucket_op *op)
    MFA_WUR;

/*
 * store_jti.c: records that "jti" of "client_id" is used until "exp" (ms)
 * in its own write transaction, atomically across processes. Returns
 * MFA_OK (first use), MFA_ERR_EXISTS (replay) or a store error.
 */
int store_jti_use(struct store *st, const char *client_id, const char *jti,
    mfa_ms exp) MFA_WUR;
/* MFA_OK when "jti" of "client_id" is on record, MFA_ERR_NOTFOUND,
 * MFA_ERR_INVALID (out of bounds) or a store error. */
int store_jti_seen(struct store_txn *txn, const char *client_id,
    const char *jti) MFA_WUR;
/* store_jti_use inside the caller's write transaction "txn"
 * (MFA_ERR_EXISTS does not poison it: the caller aborts). */
int store_jti_put(struct store_txn *txn, const char *client_id,
    const char *jti, mfa_ms exp) MFA_WUR;

/*
 * store_recovery.c: a user's unused recovery codes, as keyed hashes.
 * store_recovery_has: MFA_OK when "hash" is one of them, else
 * MFA_ERR_NOTFOUND. store_recovery_count sets "*n". store_recovery_clear
 * removes all of a user's codes (regeneration revokes the old set).
 */
int store_recovery_add(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES]) MFA_WUR;
int store_recovery_has(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES]) MFA_WUR;
int store_recovery_del(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES]) MFA_WUR;
int store_recovery_count(struct store_txn *txn, const char *user_id,
    size_t *n) MFA_WUR;
int store_recovery_clear(struct store_txn *txn, const char *user_id) MFA_WUR;

/*
 * store_signing.c: result-token signing keys by kid. store_signing_each
 * calls "fn" per key in kid order; a non-zero return stops the walk.
 */
int store_signing_put(struct store_txn *txn, const struct signing_rec *r)
    MFA_WUR;
int store_signing_each(struct store_txn *txn,
    int (*fn)(void *arg, const struct signing_rec *r), void *arg) MFA_WUR;

/* An assertion's jti to record with a new challenge (store_jti_put). */
struct store_jti_op {
	const char *client_id;
	const char *jti;
	mfa_ms exp;
};

/*
 * store_batch.c: creates challenge "c", records the assertion's jti with
 * it when "jti" is not NULL, and takes an oob send from the user's channel
 * bucket when "send" is not NULL (and puts its "msg" in the outbox).
 * With store_sync_init and batch_ms > 0 the challenge is queued in the
 * shared file (with its jti, the bucket's new state and the message, the
 * first two checked under the writer lock first: the jti
 * unused, the bucket not empty) and committed with the queue by the next
 * write transaction of any process or the next tick (at most batch_ms
 * later); else (or when a send of the same bucket is queued already) one
 * batched commit, which takes the queue in too. Either way it is visible
 * to every later write transaction, survives the crash of any process,
 * and may be lost to a power loss within batch_ms
 * (store_txn_commit_batched). Returns MFA_OK,
 * MFA_ERR_EXISTS (the jti was used before: nothing written),
 * MFA_ERR_LIMIT (the bucket is empty: nothing written),
 * MFA_ERR_INVALID (a jti or bucket key out of bounds: nothing written) or
 * a store error (MFA_ERR_STORE also for an id already in use).
 */
int store_challenge_create(struct store *st, const struct challenge_rec *c,
    const struct store_jti_op *jti, const struct store_bucket_op *send)
    MFA_WUR;

/*
 * store_outbox.c: out-of-band messages waiting for the delivery agent,
 * keyed "<13-digit ms>-<challenge id>" (oldest first), each the spool's
 * JSON of one message. store_outbox_key makes a key (MFA_ERR_INVALID when
 * it does not fit); store_outbox_put puts the message of challenge "c"
 * (at its created_at) in "txn"; store_outbox_each calls "fn" per message,
 * oldest first, from the first key after "after" (NULL or "": from the
 * oldest), the bytes borrowed until the transaction ends (a non-zero
 * return stops the walk); store_outbox_count sets "*n".
 */
#define STORE_OUTBOX_MS_MAX 9999999999999LL /* 13 digits */
#define STORE_OUTBOX_KEY_MAX (13 + 1 + MFA_CHALLENGE_ID_MAX)
#define STORE_OUTBOX_MSG_MAX 16384 /* bytes: SPOOL_FILE_MAX */
int store_outbox_key(mfa_ms created, const char *challenge_id,
    char key[STORE_OUTBOX_KEY_MAX + 1]) MFA_WUR;
int store_outbox_put(struct store_txn *txn, const struct challenge_rec *c,
    const void *msg, size_t len) MFA_WUR;
int store_outbox_del(struct store_txn *txn, const char *key) MFA_WUR;
int store_outbox_each(struct store_txn *txn, const char *after,
    int (*fn)(void *arg, const char *key, const void *msg, size_t len),
    void *arg) MFA_WUR;
int store_outbox_count(struct store_txn *txn, size_t *n) MFA_WUR;

/* store_challenge.c */
int store_challenge_get(struct store_txn *txn, const char *id,
    struct challenge_rec *out) MFA_WUR;
/*
 * Writes a challenge, its oob index entry (when has_oob) and its expiry
 * index entry. "create": fail with MFA_ERR_EXISTS on an id collision.
 */
int store_challenge_put(struct store_txn *txn, const struct challenge_rec *r,
    bool create) MFA_WUR;
/* Finds the challenge id for an earlier version's oob_code hash
 * (challenge_find_oob). */
int store_challenge_by_oob(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES],
    char id[MFA_CHALLENGE_ID_MAX + 1]) MFA_WUR;

/*
 * store_sweep.c: deletes records whose purge time is before "now", at most
 * "batch" per write transaction, until none is left or "max" are deleted.
 * Sets "*deleted". Returns MFA_OK or a store error.
 */
int store_sweep(struct store *st, mfa_ms now, size_t batch, size_t max,
    size_t *deleted) MFA_WUR;

#endif
