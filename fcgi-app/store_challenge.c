/*
 * store_challenge.c -- challenges, and the oob_code -> challenge index of
 * earlier builds (challenge.h: an oob_code now names its challenge; the
 * index is still written while processes of an earlier build may share
 * the store, store_sync_oob_index).
 */
#include <string.h>

#include "store_int.h"

int
store_challenge_get(struct store_txn *txn, const char *id,
    struct challenge_rec *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_CHALLENGES, id, strlen(id), &v)) != MFA_OK)
		return rc;
	return store_decoded(record_challenge_decode(v.mv_data, v.mv_size,
	    out), DB_CHALLENGES, id);
}

int
store_challenge_put(struct store_txn *txn, const struct challenge_rec *r,
    bool create)
{
	unsigned char buf[RECORD_ENC_MAX];
	int rc;

	rc = store_put_rec(txn, DB_CHALLENGES, r->id, strlen(r->id), buf,
	    record_challenge_encode(r, buf), create);
	if (rc != MFA_OK)
		return rc;
	if (create && r->has_oob && store_sync_oob_index(txn->st)) {
		rc = store_put(txn, DB_OOB, r->oob_hash, MFA_HASH_BYTES, r->id,
		    strlen(r->id), true);
		if (rc != MFA_OK)
			return store_fail(txn, rc);
	}
	/* An update with a later purge time adds a later index entry; the
	 * sweep deletes the record only once its own purge_at is due. */
	return store_expiry_add(txn, r->purge_at, STORE_KIND_CHALLENGE, r->id,
	    strlen(r->id));
}

int
store_challenge_by_oob(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES],
    char id[MFA_CHALLENGE_ID_MAX + 1])
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_OOB, hash, MFA_HASH_BYTES, &v)) != MFA_OK)
		return rc;
	if (v.mv_size == 0 || v.mv_size > MFA_CHALLENGE_ID_MAX)
		return MFA_ERR_CORRUPT;
	memcpy(id, v.mv_data, v.mv_size);
	id[v.mv_size] = '\0';
	return MFA_OK;
}
