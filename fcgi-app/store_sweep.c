/*
 * store_sweep.c -- deleting expired records in bounded batches, so a sweep
 * never holds the write lock for long.
 */
#include <string.h>

#include "log.h"
#include "store_int.h"

/* Deletes the outbox message of challenge "c", if one is left. */
static int
store_sweep_outbox(struct store_txn *txn, const struct challenge_rec *c)
{
	char key[STORE_OUTBOX_KEY_MAX + 1];

	if (store_outbox_key(c->created_at, c->id, key) != MFA_OK)
		return MFA_OK;
	return store_outbox_del(txn, key);
}

/*
 * Deletes the record an expiry entry names if its own time is due (a
 * challenge updated with a later purge time has a later entry too). Sets
 * "*gone" when a record was deleted.
 */
static int
store_sweep_one(struct store_txn *txn, mfa_ms now, int kind,
    const unsigned char *key, size_t klen, bool *gone)
{
	struct challenge_rec ch;
	char id[MFA_CHALLENGE_ID_MAX + 1];
	int rc = MFA_OK;

	switch (kind) {
	case STORE_KIND_TOKEN:
		rc = store_del(txn, DB_TOKENS, key, klen, NULL, 0);
		break;
	case STORE_KIND_JTI:
		rc = store_del(txn, DB_JTI, key, klen, NULL, 0);
		break;
	case STORE_KIND_JTI_SEQ: /* the key after 8 bytes of txn id */
		if (klen <= 8)
			return MFA_OK;
		rc = store_del(txn, DB_JTI, key + 8, klen - 8, NULL, 0);
		break;
	case STORE_KIND_CHALLENGE:
		if (klen > MFA_CHALLENGE_ID_MAX)
			return MFA_OK;
		memcpy(id, key, klen);
		id[klen] = '\0';
		rc = store_challenge_get(txn, id, &ch);
		if (rc == MFA_OK && ch.purge_at > now)
			return MFA_OK;
		if (rc == MFA_OK && ch.has_oob) {
			/* an earlier version's index entry, if any */
			rc = store_del(txn, DB_OOB, ch.oob_hash, MFA_HASH_BYTES,
			    NULL, 0);
			if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND)
				return rc;
			/* a message nobody delivered: its code is useless */
			rc = store_sweep_outbox(txn, &ch);
			if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND)
				return rc;
			rc = store_bucket_del(txn, STORE_POLL_PREFIX, id);
			if (rc != MFA_OK)
				return rc;
		}
		/* A record that no longer decodes is deleted all the same. */
		if (rc == MFA_OK || rc == MFA_ERR_NOTFOUND ||
		    rc == MFA_ERR_CORRUPT)
			rc = store_del(txn, DB_CHALLENGES, id, klen, NULL, 0);
		break;
	default:
		return MFA_OK;
	}
	if (rc == MFA_OK)
		*gone = true;
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}

/* The time of an expiry key (its first 8 bytes, big-endian). */
static mfa_ms
store_sweep_time(const MDB_val *k)
{
	return (mfa_ms)store_be64_get(k->mv_data);
}

/*
 * One write transaction handling at most "batch" due index entries; adds
 * the records it deleted to "*deleted" and sets "*more" when due entries
 * are left.
 */
static int
store_sweep_batch(struct store *st, mfa_ms now, size_t batch,
    size_t *deleted, bool *more)
{
	struct store_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t seen = 0, gone_n = 0;
	bool gone;
	int rc;

	*more = false;
	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	if ((rc = store_cursor_open(txn, DB_EXPIRY, &cur)) != MFA_OK) {
		store_txn_abort(txn);
		return rc;
	}
	while ((rc = store_cursor_get(txn, cur, &k, &v, MDB_FIRST)) ==
	    MFA_OK) {
		if (k.mv_size >= 9 && store_sweep_time(&k) > now)
			break;
		if (seen == batch) {
			*more = true;
			break;
		}
		seen++;
		gone = false;
		if (k.mv_size >= 9 && (rc = store_sweep_one(txn, now,
		    ((unsigned char *)k.mv_data)[8],
		    (unsigned char *)k.mv_data + 9, k.mv_size - 9, &gone)) !=
		    MFA_OK)
			break;
		if (gone)
			gone_n++;
		if ((rc = mdb_cursor_del(cur, 0)) != MDB_SUCCESS) {
			rc = store_fail(txn, store_map_err(rc));
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND) {
		store_txn_abort(txn);
		return rc;
	}
	if ((rc = store_txn_commit(txn)) == MFA_OK)
		*deleted += gone_n;
	return rc;
}

int
store_sweep(struct store *st, mfa_ms now, size_t batch, size_t max,
    size_t *deleted)
{
	size_t room;
	bool more = true;
	int rc = MFA_OK;

	*deleted = 0;
	if (batch == 0)
		batch = 1;
	while (more && *deleted < max) {
		room = max - *deleted < batch ? max - *deleted : batch;
		if ((rc = store_sweep_batch(st, now, room, deleted, &more)) !=
		    MFA_OK)
			break;
	}
	if (rc != MFA_OK)
		log_error("sweep: %s", mfa_strerror(rc));
	return rc;
}
