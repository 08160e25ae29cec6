/*
 * store_batch.c -- new challenges of every worker in one commit
 * (combined writes).
 *
 * Pre-forked workers that each commit their own new challenge queue on
 * LMDB's single writer lock, and every commit writes the same few pages
 * again (the B-tree paths, the freelist, the meta page). A new challenge
 * is instead queued in a slot of the shared file "sync.state"
 * (store_sync.c maps it) and acknowledged at once. One whose client
 * authenticated with an assertion is queued with its jti, and an oob one
 * with the new state of the user's send bucket and its message for the
 * outbox (store_outbox.c), after the checks (the jti
 * unused in LMDB and in the queue; a token left in the bucket as LMDB has
 * it, no send of the same bucket queued) made under LMDB's writer lock,
 * which is then let go without a commit. With a send of the same bucket
 * already queued, the challenge is committed instead (its transaction
 * takes the queue in, and the send after it), so that a slot never holds
 * a bucket state that a later slot's replaces. Every write transaction of
 * a serving process takes the queued slots in first (store_batch_join,
 * called by store_txn_begin), so a challenge is in LMDB before any write
 * that could look for it; store_sync_tick commits what is still queued
 * once "batch_ms" have passed; a process that finds the queue full
 * commits it with its own challenge; mfactl drains it before it reads.
 * One commit thus carries the challenges of many requests.
 *
 * Slot states (with a sequence number, bumped on each hand-over, so that
 * a process that acts late cannot touch the slot's next use):
 *
 *   FREE -> FILLING     a poster claims it (CAS, with its pid) and
 *                       writes the record
 *   FILLING -> QUEUED   the record is complete: the challenge exists
 *   QUEUED -> APPLYING  a writer put it in its open transaction
 *   APPLYING -> FREE    that transaction committed
 *   APPLYING -> QUEUED  it aborted
 *
 * A writer that dies leaves its slots APPLYING; as writers hold LMDB's
 * writer lock, the next one knows that transaction is over and takes
 * them again (a record already committed is found by its id and counted
 * done). A poster that dies in FILLING leaves a slot that
 * store_batch_reclaim frees once nobody holds the poster's liveness mark
 * (store_sync.c), in any pid namespace. A queued challenge survives the
 * crash of every process (the file is shared and on disk); a power loss
 * may take it, as it may take any batched commit (README "Durability").
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "self.h"
#include "store_int.h"

#define BATCH_REC_MAX 1024

enum batch_state { BS_FREE, BS_FILLING, BS_QUEUED, BS_APPLYING };

/*
 * A slot's word: a 32-bit sequence number, the 24-bit pid of the poster
 * while FILLING (Linux pids are below 2^22), the state. One CAS claims a
 * slot and names its poster.
 */
#define BW(seq, pid, state) ((uint64_t)(uint32_t)(seq) << 32 |             \
	(uint64_t)((uint32_t)(pid) & 0xffffff) << 8 | (uint64_t)(state))
#define BW_STATE(w) ((enum batch_state)((w) & 0xff))
#define BW_PID(w) ((int32_t)(((w) >> 8) & 0xffffff))
#define BW_SEQ(w) ((uint32_t)((w) >> 32))

/*
 * Shared by every process that maps sync.state: a change to this layout
 * needs a new file name in store_sync.c, so that old and new processes
 * never read each other's slots. (The number of slots may differ: a file
 * an earlier build made keeps STORE_BATCH_SLOTS_V1, see store_sync.c.)
 */
struct batch_slot {
	_Atomic uint64_t word;
	uint16_t rec_len;
	unsigned char rec[BATCH_REC_MAX]; /* record_challenge_encode */
	uint8_t has_jti;  /* a client assertion's jti to record with it */
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char jti[65];
	mfa_ms jti_exp;
	/*
	 * An oob challenge's send, taken from bucket "<bucket_prefix><its
	 * user_id>" under the writer lock: "bucket" is the state to store.
	 * It belongs to the slot's record only when "bucket_cid" is that
	 * challenge's id (an earlier build, which posts without it, leaves
	 * what a former use wrote). "bucket_fp": the key's short hash, so
	 * that a scan finds a queued send of the same bucket without
	 * decoding records (a false match only costs a commit).
	 */
	char bucket_cid[MFA_CHALLENGE_ID_MAX + 1];
	char bucket_prefix[STORE_BUCKET_PREFIX_MAX + 1];
	uint64_t bucket_fp;
	struct bucket bucket;
	/*
	 * The send's message for the outbox: "msg_len" bytes in "rec" after
	 * the record. Its own only when "msg_tag" is the short hash of the
	 * challenge's id (an earlier build leaves what a former use wrote).
	 */
	uint32_t msg_tag;
	uint16_t msg_len;
};

/* the fields an earlier build writes end where the send's begin (an
 * earlier build's post leaves these as a former use wrote them; the unit
 * test of store_batch.c writes them at this offset) */
_Static_assert(offsetof(struct batch_slot, bucket_cid) == 1176,
    "the fields of an earlier build's slots moved");
/* the word is shared between processes: it must not need a lock */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics take a lock");
_Static_assert(sizeof(struct batch_slot) <= STORE_BATCH_SLOT_SIZE,
    "a batch slot outgrew its room in sync.state");
_Static_assert(STORE_BATCH_SLOTS <= 256 &&
    STORE_BATCH_SLOTS_V1 <= STORE_BATCH_SLOTS,
    "a slot number is a uint8_t (struct store_batch_ref)");

/*
 * The queue of a store: its slots ("area", STORE_BATCH_SLOTS of them are
 * mapped) and how many of them are posted to ("n", store_sync_slots).
 * Every scan covers all the mapped slots, so that a slot a process with
 * another count posted to (only if builds were mixed against the README's
 * advice) is still taken in, and still seen by a jti check.
 */
struct batch_q {
	void *area;
	size_t n;
};

/* The queue of "st"; false without the shared file. */
static bool
batch_q_of(struct store *st, struct batch_q *q)
{
	q->area = store_sync_area(st);
	q->n = store_sync_slots(st);
	return q->area != NULL && q->n > 0;
}

static struct batch_slot *
batch_slot(void *area, size_t i)
{
	return (struct batch_slot *)(void *)((unsigned char *)area +
	    i * STORE_BATCH_SLOT_SIZE);
}

/* Moves "s" from word "from" to "to"; false when it was not "from". */
static bool
batch_move(struct batch_slot *s, uint64_t from, uint64_t to)
{
	return atomic_compare_exchange_strong(&s->word, &from, to);
}

/* A free slot, now FILLING for this process ("*w" its word); NULL when
 * none is free. */
static struct batch_slot *
batch_claim(const struct batch_q *q, uint64_t *w)
{
	pid_t pid = self_pid();
	size_t start = (size_t)pid % q->n, i;
	struct batch_slot *s;
	uint64_t v;

	for (i = 0; i < q->n; i++) {
		s = batch_slot(q->area, (start + i) % q->n);
		v = atomic_load(&s->word);
		*w = BW(BW_SEQ(v), pid, BS_FILLING);
		if (BW_STATE(v) == BS_FREE && batch_move(s, v, *w))
			return s;
	}
	return NULL;
}

/* Does slot "s" carry a send of challenge "c" (not a former use's)? */
static bool
batch_bucket_mine(const struct batch_slot *s, const struct challenge_rec *c)
{
	return s->bucket_cid[0] != '\0' &&
	    memchr(s->bucket_cid, '\0', sizeof(s->bucket_cid)) != NULL &&
	    strcmp(s->bucket_cid, c->id) == 0; /* public */
}

/* The bucket key of slot "s", whose challenge is "c", into "key": false
 * for a prefix out of bounds (a damaged slot). */
static bool
batch_bucket_key(const struct batch_slot *s, const struct challenge_rec *c,
    char key[STORE_BUCKET_KEY_MAX + 1])
{
	struct store_bucket_op op = { s->bucket_prefix, c->user_id,
		{ 0, 0 }, 0, NULL, 0 };

	return memchr(s->bucket_prefix, '\0', sizeof(s->bucket_prefix)) !=
	    NULL && store_bucket_key(&op, key) == MFA_OK;
}

/* The short hash of bucket key "key" (not a secret: it only finds queued
 * sends of the same bucket). */
static uint64_t
batch_bucket_fp(const char *key)
{
	unsigned char h[crypto_generichash_BYTES_MIN];
	uint64_t v;

	(void)crypto_generichash(h, sizeof(h), (const unsigned char *)key,
	    strlen(key), NULL, 0);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The tag that ties a slot's message to challenge id "id". */
static uint32_t
batch_msg_tag(const char *id)
{
	return (uint32_t)batch_bucket_fp(id);
}

/* The message slot "s" carries for its challenge "c" ("*len" bytes; NULL
 * for none, or for one out of bounds: a damaged slot, "*bad" set). */
static const unsigned char *
batch_msg(const struct batch_slot *s, const struct challenge_rec *c,
    size_t *len, bool *bad)
{
	*len = 0;
	*bad = false;
	if (s->msg_len == 0 || s->msg_tag != batch_msg_tag(c->id))
		return NULL;
	if ((size_t)s->rec_len + s->msg_len > sizeof(s->rec)) {
		*bad = true;
		return NULL;
	}
	*len = s->msg_len;
	return s->rec + s->rec_len;
}

/*
 * Is oob challenge "c" of a slot new, where the oob_code index is written
 * (store_sync_oob_index)? MFA_ERR_NOTFOUND when its oob_code is in no
 * index entry yet; MFA_OK when the entry is its own (committed by a writer
 * that died before it released the slot: its send was stored then too);
 * MFA_ERR_CORRUPT when another challenge has it (a damaged slot, dropped:
 * putting it would fail the whole transaction, and every one after it);
 * or a store error.
 */
static int
batch_oob_new(struct store_txn *txn, const struct challenge_rec *c)
{
	char id[MFA_CHALLENGE_ID_MAX + 1];
	int rc = store_challenge_by_oob(txn, c->oob_hash, id);

	if (rc != MFA_OK)
		return rc;
	if (strcmp(id, c->id) == 0) /* public ids */
		return MFA_OK;
	log_error("store: a queued challenge's oob_code is another's; dropped");
	return MFA_ERR_CORRUPT;
}

/*
 * Applies slot "s" in "txn". Returns MFA_OK when its challenge is in the
 * transaction (put now, or committed before by a writer that died),
 * MFA_ERR_CORRUPT for a record that does not decode (dropped), or the
 * error that poisoned "txn".
 */
static int
batch_apply(struct store_txn *txn, const struct batch_slot *s)
{
	char key[STORE_BUCKET_KEY_MAX + 1], okey[STORE_OUTBOX_KEY_MAX + 1];
	struct challenge_rec c;
	const unsigned char *msg;
	size_t msg_len;
	bool send, bad;
	int rc;

	if (s->rec_len > sizeof(s->rec) ||
	    record_challenge_decode(s->rec, s->rec_len, &c) != MFA_OK) {
		log_error("store: a queued challenge does not decode; dropped");
		return MFA_ERR_CORRUPT;
	}
	if ((send = batch_bucket_mine(s, &c)) && !batch_bucket_key(s, &c, key)) {
		log_error("store: a queued send is out of bounds; dropped");
		return MFA_ERR_CORRUPT;
	}
	if (((msg = batch_msg(s, &c, &msg_len, &bad)) == NULL && bad) ||
	    (msg != NULL && store_outbox_key(c.created_at, c.id, okey) !=
	    MFA_OK)) {
		log_error("store: a queued message is out of bounds; dropped");
		return MFA_ERR_CORRUPT;
	}
	if (s->has_jti && (memchr(s->client_id, '\0', sizeof(s->client_id)) ==
	    NULL || memchr(s->jti, '\0', sizeof(s->jti)) == NULL)) {
		log_error("store: a queued jti is out of bounds; dropped");
		return MFA_ERR_CORRUPT;
	}
	if (c.has_oob && store_sync_oob_index(txn->st) &&
	    (rc = batch_oob_new(txn, &c)) != MFA_ERR_NOTFOUND)
		return rc;
	/* EXISTS: put before by a writer that died after its commit (the
	 * jti was checked free under the writer lock when it was queued);
	 * INVALID: a damaged slot (it was checked in bounds), dropped */
	if (s->has_jti && (rc = store_jti_put(txn, s->client_id, s->jti,
	    s->jti_exp)) != MFA_OK && rc != MFA_ERR_EXISTS) {
		if (rc != MFA_ERR_INVALID)
			return rc;
		log_error("store: a queued jti is out of bounds; dropped");
		return MFA_ERR_CORRUPT;
	}
	rc = store_challenge_put(txn, &c, true);
	if (rc == MFA_ERR_EXISTS) /* committed before, and so was its send */
		return MFA_OK;
	if (rc == MFA_OK && send)
		rc = store_bucket_put(txn, key, &s->bucket);
	if (rc == MFA_OK && msg != NULL)
		rc = store_outbox_put(txn, &c, msg, msg_len);
	return rc;
}

/* Wipes what follows the record of slot "s" (a message: its binding
 * code) once its challenge is committed: the file is on disk, and the
 * slot may wait long for its next use. */
static void
batch_wipe_msg(struct batch_slot *s)
{
	size_t n = s->rec_len < sizeof(s->rec) ? s->rec_len : sizeof(s->rec);

	sodium_memzero(s->rec + n, sizeof(s->rec) - n);
	s->msg_len = 0;
}

void
store_batch_settle(struct store_txn *txn, bool committed)
{
	struct batch_slot *s;
	uint64_t seq;
	size_t i;
	void *area = store_sync_area(txn->st);

	if (txn->nbatch == 0)
		return;
	for (i = 0; i < txn->nbatch; i++) {
		s = batch_slot(area, txn->batch[i].slot);
		seq = txn->batch[i].seq;
		if (committed && BW_SEQ(atomic_load(&s->word)) == seq)
			batch_wipe_msg(s);
		(void)batch_move(s, BW(seq, 0, BS_APPLYING), committed ?
		    BW(seq + 1, 0, BS_FREE) : BW(seq, 0, BS_QUEUED));
	}
	if (committed)
		store_sync_count_batch(txn->st, txn->nbatch);
	else
		store_sync_mark_queued(txn->st);
	txn->nbatch = 0;
}

/*
 * Takes slot "s" for a writer holding the writer lock: a QUEUED one, or an
 * APPLYING one, whose writer's transaction is over (a new sequence number
 * keeps that writer off). Tries again while the word moves between the
 * two (a writer that aborted or failed its commit hands its slots back
 * after letting the lock go), so that no queued challenge, and no queued
 * jti, is passed over. With "queued_only" (a transaction nested in this
 * process's outer one, which took every APPLYING slot in already and
 * holds them) only a QUEUED one. "*w": the word taken. False for a FREE
 * or FILLING slot.
 */
static bool
batch_take(struct batch_slot *s, uint64_t *w, bool queued_only)
{
	*w = atomic_load(&s->word);
	while (BW_STATE(*w) == BS_QUEUED ||
	    (BW_STATE(*w) == BS_APPLYING && !queued_only)) {
		/* on failure the CAS reloads "*w" */
		if (atomic_compare_exchange_strong(&s->word, w,
		    BW(BW_SEQ(*w) + 1, 0, BS_APPLYING)))
			return true;
	}
	return false;
}

int
store_batch_join(struct store_txn *txn)
{
	struct batch_slot *s;
	struct batch_q q;
	uint64_t w;
	size_t i;
	int rc;

	if (!batch_q_of(txn->st, &q))
		return MFA_OK;
	store_sync_clear_queued(txn->st); /* before the scan: see
					     store_sync_mark_queued */
	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		s = batch_slot(q.area, i);
		if (!batch_take(s, &w, txn->in_outer))
			continue;
		if ((rc = batch_apply(txn, s)) == MFA_ERR_CORRUPT) {
			sodium_memzero(s->rec, sizeof(s->rec));
			s->msg_len = 0;
			atomic_store(&s->word, BW(BW_SEQ(w) + 2, 0, BS_FREE));
			continue; /* dropped: nothing to keep */
		}
		txn->batch[txn->nbatch].slot = (uint8_t)i;
		txn->batch[txn->nbatch].seq = BW_SEQ(w) + 1;
		txn->nbatch++;
		if (rc != MFA_OK) {
			log_error("store: cannot take in queued challenges: %s",
			    mfa_strerror(rc));
			store_sync_mark_queued(txn->st);
			return rc;
		}
	}
	/* the flag stays up until a scan finds nothing: this writer may
	 * die before its commit, and its slots must not wait for traffic */
	if (txn->nbatch > 0)
		store_sync_mark_queued(txn->st);
	return MFA_OK;
}

/*
 * A new challenge on its way into the queue: its record (encoded, "n"
 * bytes), the assertion's jti and the oob send (either may be NULL), and
 * under the writer lock the send's bucket key, its short hash and the
 * bucket's state after the send.
 */
struct batch_new {
	const struct challenge_rec *c;
	const unsigned char *rec;
	size_t n;
	const struct store_jti_op *jti;
	const struct store_bucket_op *send;
	char key[STORE_BUCKET_KEY_MAX + 1];
	uint64_t fp;
	struct bucket b;
};

/* The path without a free slot (or without the shared file): a write
 * transaction of its own, which takes in the queue too. */
static int
batch_direct(struct store *st, const struct batch_new *nw)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	/* the jti first, so that a replay writes nothing */
	if (nw->jti != NULL && (rc = store_jti_put(txn, nw->jti->client_id,
	    nw->jti->jti, nw->jti->exp)) != MFA_OK)
		goto fail;
	if (nw->send != NULL && (rc = store_bucket_take(txn, nw->send)) !=
	    MFA_OK)
		goto fail;
	if ((rc = store_challenge_put(txn, nw->c, true)) != MFA_OK) {
		if (rc == MFA_ERR_EXISTS) /* an id drawn twice: not a replay */
			rc = MFA_ERR_STORE;
		goto fail;
	}
	if (nw->send != NULL && nw->send->msg != NULL &&
	    (rc = store_outbox_put(txn, nw->c, nw->send->msg,
	    nw->send->msg_len)) != MFA_OK)
		goto fail;
	return store_txn_commit_batched(txn);
fail:
	store_txn_abort(txn);
	return rc;
}

/* Queues "nw" (its bucket state taken when it has a send); false when no
 * slot is free. */
static bool
batch_post(struct store *st, const struct batch_q *q,
    const struct batch_new *nw)
{
	const struct store_jti_op *jti = nw->jti;
	struct batch_slot *s;
	uint64_t w;

	/* no reclaim here: kill(2) is outside a sandboxed worker's system
	 * calls; a full queue is committed with the next challenge */
	if ((s = batch_claim(q, &w)) == NULL)
		return false;
	memcpy(s->rec, nw->rec, nw->n);
	s->rec_len = (uint16_t)nw->n;
	s->has_jti = jti != NULL;
	if (jti != NULL) {
		memcpy(s->client_id, jti->client_id, strlen(jti->client_id) + 1);
		memcpy(s->jti, jti->jti, strlen(jti->jti) + 1);
		s->jti_exp = jti->exp;
	}
	s->bucket_cid[0] = '\0';
	if (nw->send != NULL) {
		memcpy(s->bucket_prefix, nw->send->prefix,
		    strlen(nw->send->prefix) + 1);
		s->bucket_fp = nw->fp;
		s->bucket = nw->b;
		memcpy(s->bucket_cid, nw->c->id, strlen(nw->c->id) + 1);
	}
	s->msg_len = 0;
	if (nw->send != NULL && nw->send->msg != NULL) {
		memcpy(s->rec + nw->n, nw->send->msg, nw->send->msg_len);
		s->msg_len = (uint16_t)nw->send->msg_len;
		s->msg_tag = batch_msg_tag(nw->c->id);
	}
	/* a CAS: a slot freed under a poster taken for dead is not ours */
	if (!batch_move(s, w, BW(BW_SEQ(w), 0, BS_QUEUED)))
		return false;
	store_sync_mark_queued(st);
	return true;
}

/* A queued (or APPLYING) slot of queue "q": under the writer lock no
 * slot is being applied (a poster of a jti or a send holds it too). */
static bool
batch_pending(const struct batch_slot *s)
{
	enum batch_state state = BW_STATE(atomic_load(&s->word));

	return state == BS_QUEUED || state == BS_APPLYING;
}

/* Is "jti" in a queued slot? Under the writer lock. */
static bool
batch_jti_queued(const struct batch_q *q, const struct store_jti_op *jti)
{
	const struct batch_slot *s;
	size_t i;

	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		s = batch_slot(q->area, i);
		/* a client id and a jti are public identifiers */
		if (batch_pending(s) && s->has_jti &&
		    strcmp(s->client_id, jti->client_id) == 0 && /* public */
		    strcmp(s->jti, jti->jti) == 0) /* public */
			return true;
	}
	return false;
}

/* The sends queued (or APPLYING) in "q"; "*same" set when one might be of
 * the bucket with short hash "fp" (a slot of an earlier build may match
 * falsely). Under the writer lock. */
static size_t
batch_sends(const struct batch_q *q, uint64_t fp, bool *same)
{
	const struct batch_slot *s;
	size_t i, n = 0;

	*same = false;
	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		s = batch_slot(q->area, i);
		if (!batch_pending(s) || s->bucket_cid[0] == '\0')
			continue;
		n++;
		*same = *same || s->bucket_fp == fp;
	}
	return n;
}

/* Must a send of the bucket with short hash "fp" be committed instead of
 * queued? When a send of the same bucket might be queued, or when
 * STORE_BATCH_SENDS_MAX sends are. */
static bool
batch_send_commits(const struct batch_q *q, uint64_t fp)
{
	bool same;

	return batch_sends(q, fp, &same) >= STORE_BATCH_SENDS_MAX || same;
}

bool
store_batch_send_queued(struct store *st, const char *key)
{
	struct batch_q q;
	bool same = false;

	if (batch_q_of(st, &q))
		(void)batch_sends(&q, batch_bucket_fp(key), &same);
	return same;
}

bool
store_batch_jti_queued(struct store *st, const char *client_id,
    const char *jti)
{
	struct store_jti_op op = { client_id, jti, 0 };
	struct batch_q q;

	return batch_q_of(st, &q) && batch_jti_queued(&q, &op);
}

/*
 * The checks of "nw" under the writer lock ("txn"): its jti unused, in
 * LMDB and in the queue; its send taken from the bucket as LMDB has it,
 * unless a send of the same bucket, or STORE_BATCH_SENDS_MAX sends, are
 * queued (MFA_ERR_NOTFOUND: then a commit of its own takes the queue in
 * and the send after it).
 */
static int
batch_check(struct store_txn *txn, const struct batch_q *q,
    struct batch_new *nw)
{
	const struct store_jti_op *jti = nw->jti;
	int rc;

	if (jti != NULL) {
		rc = store_jti_seen(txn, jti->client_id, jti->jti);
		if (rc == MFA_OK || (rc == MFA_ERR_NOTFOUND &&
		    batch_jti_queued(q, jti)))
			return MFA_ERR_EXISTS;
		if (rc != MFA_ERR_NOTFOUND)
			return rc;
	}
	if (nw->send == NULL)
		return MFA_OK;
	if ((rc = store_bucket_key(nw->send, nw->key)) != MFA_OK)
		return rc;
	nw->fp = batch_bucket_fp(nw->key);
	if (batch_send_commits(q, nw->fp))
		return MFA_ERR_NOTFOUND;
	return store_bucket_next(txn, nw->key, nw->send, &nw->b);
}

/*
 * Queues a challenge with a jti or a send: the checks of batch_check and
 * the post, all under LMDB's writer lock, which is then let go without a
 * commit. MFA_OK, MFA_ERR_EXISTS (a replay), MFA_ERR_LIMIT (the bucket is
 * empty), MFA_ERR_INVALID, MFA_ERR_NOTFOUND (no free slot, or a send of
 * the same bucket queued: nothing done) or a store error.
 */
static int
batch_post_locked(struct store *st, const struct batch_q *q,
    struct batch_new *nw)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_lock(st, &txn)) != MFA_OK)
		return rc;
	if ((rc = batch_check(txn, q, nw)) == MFA_OK)
		rc = batch_post(st, q, nw) ? MFA_OK : MFA_ERR_NOTFOUND;
	store_txn_abort(txn);
	return rc;
}

int
store_challenge_create(struct store *st, const struct challenge_rec *c,
    const struct store_jti_op *jti, const struct store_bucket_op *send)
{
	struct batch_new nw;
	struct batch_q q;
	unsigned char buf[RECORD_ENC_MAX];
	int rc;

	memset(&nw, 0, sizeof(nw));
	nw.c = c;
	nw.jti = jti;
	nw.send = send;
	if (!store_sync_batching(st) || !batch_q_of(st, &q))
		return batch_direct(st, &nw);
	nw.n = record_challenge_encode(c, buf);
	if (nw.n == 0 || nw.n > BATCH_REC_MAX)
		return batch_direct(st, &nw);
	/* a message too long for the slot, or a file an earlier build may
	 * share: committed with its challenge */
	if (send != NULL && send->msg != NULL && (send->msg_len >
	    BATCH_REC_MAX - nw.n || !store_sync_messages(st)))
		return batch_direct(st, &nw);
	nw.rec = buf;
	if (jti == NULL && send == NULL)
		return batch_post(st, &q, &nw) ? MFA_OK :
		    batch_direct(st, &nw);
	rc = batch_post_locked(st, &q, &nw);
	return rc == MFA_ERR_NOTFOUND ? batch_direct(st, &nw) : rc;
}

/*
 * True when the poster "pid" is gone: nobody holds its liveness mark (seen
 * from every pid namespace) and kill(2) finds no such process here (a
 * poster of an earlier build has no mark; EPERM: it lives under another
 * uid).
 */
static bool
batch_owner_dead(struct store *st, int32_t pid)
{
	return pid <= 0 || (!store_sync_owner_live(st, pid) &&
	    kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

void
store_batch_reclaim(struct store *st)
{
	struct batch_slot *s;
	struct batch_q q;
	size_t i, n = 0;
	uint64_t w;

	if (!batch_q_of(st, &q))
		return;
	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		s = batch_slot(q.area, i);
		w = atomic_load(&s->word);
		if (BW_STATE(w) == BS_FILLING && batch_owner_dead(st, BW_PID(w)) &&
		    batch_move(s, w, BW(BW_SEQ(w) + 1, 0, BS_FREE)))
			n++;
	}
	if (n > 0)
		log_info("store: freed %zu challenge slots of dead processes",
		    n);
}
