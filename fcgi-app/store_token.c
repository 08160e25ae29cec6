/*
 * store_token.c -- mfa_tokens (under their keyed hash) and rate-limit
 * buckets.
 */
#include <string.h>

#include "store_int.h"

int
store_token_get(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES], struct token_rec *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_TOKENS, hash, MFA_HASH_BYTES, &v)) !=
	    MFA_OK)
		return rc;
	return record_token_decode(v.mv_data, v.mv_size, out);
}

int
store_token_put(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES], const struct token_rec *r)
{
	int rc;

	rc = store_put_json(txn, DB_TOKENS, hash, MFA_HASH_BYTES,
	    record_token_encode(r), true);
	if (rc != MFA_OK)
		return rc;
	return store_expiry_add(txn, r->expires_at + STORE_PURGE_GRACE_MS,
	    STORE_KIND_TOKEN, hash, MFA_HASH_BYTES);
}

int
store_bucket_get(struct store_txn *txn, const char *key, struct bucket *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_BUCKETS, key, strlen(key), &v)) != MFA_OK)
		return rc;
	return record_bucket_decode(v.mv_data, v.mv_size, out);
}

int
store_bucket_put(struct store_txn *txn, const char *key,
    const struct bucket *b)
{
	return store_put_json(txn, DB_BUCKETS, key, strlen(key),
	    record_bucket_encode(b), false);
}
