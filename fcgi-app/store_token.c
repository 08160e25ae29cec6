/*
 * store_token.c -- mfa_tokens (under their keyed hash) and rate-limit
 * buckets.
 */
#include <stdio.h>
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
	return store_decoded(record_token_decode(v.mv_data, v.mv_size, out),
	    DB_TOKENS, NULL);
}

int
store_token_put(struct store_txn *txn,
    const unsigned char hash[MFA_HASH_BYTES], const struct token_rec *r)
{
	unsigned char buf[RECORD_ENC_MAX];
	int rc;

	rc = store_put_rec(txn, DB_TOKENS, hash, MFA_HASH_BYTES, buf,
	    record_token_encode(r, buf), true);
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
	return store_decoded(record_bucket_decode(v.mv_data, v.mv_size,
	    out), DB_BUCKETS, key);
}

int
store_bucket_put(struct store_txn *txn, const char *key,
    const struct bucket *b)
{
	unsigned char buf[RECORD_ENC_MAX];

	return store_put_rec(txn, DB_BUCKETS, key, strlen(key), buf,
	    record_bucket_encode(b, buf), false);
}

int
store_bucket_del(struct store_txn *txn, const char *prefix, const char *id)
{
	/* room for either id after the longest prefix */
	char key[STORE_BUCKET_PREFIX_MAX + MFA_AUTHN_ID_MAX +
	    MFA_CHALLENGE_ID_MAX + 1];
	int rc;

	if ((size_t)snprintf(key, sizeof(key), "%s%s", prefix, id) >=
	    sizeof(key))
		return MFA_ERR_INVALID;
	rc = store_del(txn, DB_BUCKETS, key, strlen(key), NULL, 0);
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}

int
store_bucket_key(const struct store_bucket_op *op,
    char key[STORE_BUCKET_KEY_MAX + 1])
{
	int n;

	if (strlen(op->prefix) > STORE_BUCKET_PREFIX_MAX)
		return MFA_ERR_INVALID;
	n = snprintf(key, STORE_BUCKET_KEY_MAX + 1, "%s%s", op->prefix,
	    op->user_id);
	return n >= 0 && n <= STORE_BUCKET_KEY_MAX ? MFA_OK : MFA_ERR_INVALID;
}

int
store_bucket_next(struct store_txn *txn, const char *key,
    const struct store_bucket_op *op, struct bucket *b)
{
	int rc = store_bucket_get(txn, key, b);

	if (rc == MFA_ERR_NOTFOUND)
		bucket_init(b, &op->policy, op->now);
	else if (rc != MFA_OK)
		return rc;
	return bucket_take(b, &op->policy, op->now) ? MFA_OK : MFA_ERR_LIMIT;
}

int
store_bucket_take(struct store_txn *txn, const struct store_bucket_op *op)
{
	char key[STORE_BUCKET_KEY_MAX + 1];
	struct bucket b;
	int rc;

	if ((rc = store_bucket_key(op, key)) != MFA_OK)
		return rc;
	/* a transaction that could not take the queue in (store_txn_open)
	 * must not store a bucket whose queued state would overwrite it */
	if (!txn->joined && store_batch_send_queued(txn->st, key))
		return MFA_ERR_BUSY;
	if ((rc = store_bucket_next(txn, key, op, &b)) != MFA_OK)
		return rc;
	return store_bucket_put(txn, key, &b);
}
