/*
 * store_sweep.c -- deleting expired records in bounded batches, so a sweep
 * never holds the write lock for long.
 */
#include <string.h>

#include "log.h"
#include "store_int.h"

/* Deletes the record an expiry entry names, if it is still due. */
static int
store_sweep_one(struct store_txn *txn, mfa_ms now, int kind,
    const unsigned char *key, size_t klen)
{
	struct challenge_rec ch;
	char id[MFA_CHALLENGE_ID_MAX + 1];
	int rc;

	switch (kind) {
	case STORE_KIND_TOKEN:
		rc = store_del(txn, DB_TOKENS, key, klen, NULL, 0);
		break;
	case STORE_KIND_CHALLENGE:
		if (klen > MFA_CHALLENGE_ID_MAX)
			return MFA_OK;
		memcpy(id, key, klen);
		id[klen] = '\0';
		rc = store_challenge_get(txn, id, &ch);
		if (rc == MFA_ERR_CORRUPT) {
			rc = store_del(txn, DB_CHALLENGES, id, klen, NULL, 0);
			break;
		}
		if (rc != MFA_OK || ch.purge_at > now)
			break;
		if (ch.has_oob)
			rc = store_del(txn, DB_OOB, ch.oob_hash, MFA_HASH_BYTES,
			    NULL, 0);
		if (rc == MFA_OK || rc == MFA_ERR_NOTFOUND)
			rc = store_del(txn, DB_CHALLENGES, id, klen, NULL, 0);
		break;
	default:
		rc = MFA_OK;
	}
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}

/* One write transaction deleting at most "batch" due entries. */
static int
store_sweep_batch(struct store *st, mfa_ms now, size_t batch, size_t *done,
    bool *more)
{
	struct store_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t t;
	size_t i;
	int rc;

	*done = 0;
	*more = false;
	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	if (mdb_cursor_open(txn->txn, st->dbi[DB_EXPIRY], &cur) != 0) {
		store_txn_abort(txn);
		return MFA_ERR_STORE;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == MDB_SUCCESS) {
		if (k.mv_size < 9)
			goto drop;
		for (t = 0, i = 0; i < 8; i++)
			t = t << 8 | ((unsigned char *)k.mv_data)[i];
		if ((mfa_ms)t > now)
			break;
		if (*done == batch) {
			*more = true;
			break;
		}
		rc = store_sweep_one(txn, now, ((unsigned char *)k.mv_data)[8],
		    (unsigned char *)k.mv_data + 9, k.mv_size - 9);
		if (rc != MFA_OK)
			break;
		(*done)++;
drop:
		if ((rc = mdb_cursor_del(cur, 0)) != MDB_SUCCESS) {
			rc = store_fail(txn, store_map_err(rc));
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		store_txn_abort(txn);
		return rc > 0 ? store_map_err(rc) : rc;
	}
	return store_txn_commit(txn);
}

int
store_sweep(struct store *st, mfa_ms now, size_t batch, size_t max,
    size_t *deleted)
{
	size_t done;
	bool more = true;
	int rc = MFA_OK;

	*deleted = 0;
	while (more && *deleted < max) {
		if ((rc = store_sweep_batch(st, now, batch, &done, &more)) !=
		    MFA_OK)
			break;
		*deleted += done;
	}
	if (rc != MFA_OK)
		log_error("sweep: %s", mfa_strerror(rc));
	return rc;
}

