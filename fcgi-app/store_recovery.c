/*
 * store_recovery.c -- recovery codes: per user, the keyed hashes of the
 * unused codes, as sorted duplicates of one key.
 */
#include <string.h>

#include "store_int.h"

int
store_recovery_add(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES])
{
	int rc = store_put(txn, DB_RECOVERY, user_id, strlen(user_id), hash,
	    MFA_HASH_BYTES, false);

	return rc == MFA_ERR_EXISTS ? MFA_OK : rc;
}

int
store_recovery_has(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES])
{
	return store_has_pair(txn, DB_RECOVERY, user_id, strlen(user_id), hash,
	    MFA_HASH_BYTES);
}

int
store_recovery_del(struct store_txn *txn, const char *user_id,
    const unsigned char hash[MFA_HASH_BYTES])
{
	return store_del(txn, DB_RECOVERY, user_id, strlen(user_id), hash,
	    MFA_HASH_BYTES);
}

int
store_recovery_count(struct store_txn *txn, const char *user_id, size_t *n)
{
	MDB_val k = store_val(user_id, strlen(user_id)), v;
	MDB_cursor *cur;
	size_t count = 0;
	int rc;

	*n = 0;
	if ((rc = store_cursor_open(txn, DB_RECOVERY, &cur)) != MFA_OK)
		return rc;
	rc = store_cursor_get(txn, cur, &k, &v, MDB_SET);
	if (rc == MFA_OK && (rc = mdb_cursor_count(cur, &count)) != 0)
		rc = store_fail(txn, store_map_err(rc));
	mdb_cursor_close(cur);
	if (rc == MFA_OK)
		*n = (size_t)count;
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}

int
store_recovery_clear(struct store_txn *txn, const char *user_id)
{
	int rc = store_del(txn, DB_RECOVERY, user_id, strlen(user_id), NULL,
	    0);

	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}
