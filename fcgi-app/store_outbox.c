/*
 * store_outbox.c -- out-of-band messages waiting for the delivery agent,
 * in the store itself: one entry per message, keyed
 * "<13-digit ms>-<challenge id>" (so a cursor walks them oldest first),
 * its value the message as the spool's JSON. A message is written in the
 * transaction that stores its challenge (or with the queued challenge,
 * store_batch.c), so that it exists exactly when the challenge does, at
 * the cost of a few bytes in a commit made anyway, where a file of its own
 * cost an inode. mfa-deliver removes an entry once the message is sent;
 * the sweep removes what is left of a challenge it purges.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

int
store_outbox_key(mfa_ms created, const char *challenge_id,
    char key[STORE_OUTBOX_KEY_MAX + 1])
{
	int n;

	if (created < 0 || created > STORE_OUTBOX_MS_MAX)
		return MFA_ERR_INVALID;
	n = snprintf(key, STORE_OUTBOX_KEY_MAX + 1, "%013" PRId64 "-%s",
	    (int64_t)created, challenge_id);
	return n > 14 && n <= STORE_OUTBOX_KEY_MAX ? MFA_OK : MFA_ERR_INVALID;
}

int
store_outbox_put(struct store_txn *txn, const struct challenge_rec *c,
    const void *msg, size_t len)
{
	char key[STORE_OUTBOX_KEY_MAX + 1];
	int rc;

	if (len == 0 || len > STORE_OUTBOX_MSG_MAX ||
	    (rc = store_outbox_key(c->created_at, c->id, key)) != MFA_OK)
		return store_fail(txn, MFA_ERR_INVALID);
	rc = store_put(txn, DB_OUTBOX, key, strlen(key), msg, len, true);
	return rc == MFA_ERR_EXISTS ? store_fail(txn, rc) : rc;
}

int
store_outbox_del(struct store_txn *txn, const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > STORE_OUTBOX_KEY_MAX)
		return MFA_ERR_INVALID;
	return store_del(txn, DB_OUTBOX, key, n, NULL, 0);
}

int
store_outbox_each(struct store_txn *txn, const char *after,
    int (*fn)(void *arg, const char *key, const void *msg, size_t len),
    void *arg)
{
	char key[STORE_OUTBOX_KEY_MAX + 1];
	MDB_cursor *cur;
	MDB_val k = { 0, NULL }, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if (after != NULL && after[0] != '\0') {
		k = store_val(after, strlen(after));
		op = MDB_SET_RANGE;
	}
	if ((rc = store_cursor_open(txn, DB_OUTBOX, &cur)) != MFA_OK)
		return rc;
	while ((rc = store_cursor_get(txn, cur, &k, &v, op)) == MFA_OK) {
		op = MDB_NEXT;
		if (k.mv_size == 0 || k.mv_size > STORE_OUTBOX_KEY_MAX ||
		    memchr(k.mv_data, '\0', k.mv_size) != NULL)
			continue; /* not ours to name: left alone */
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if (after != NULL && strcmp(key, after) == 0) /* public */
			continue; /* after it, not from it */
		if (fn(arg, key, v.mv_data, v.mv_size) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}

int
store_outbox_count(struct store_txn *txn, size_t *n)
{
	MDB_stat s;
	int rc;

	if ((rc = mdb_stat(txn->txn, txn->st->dbi[DB_OUTBOX], &s)) !=
	    MDB_SUCCESS)
		return store_fail(txn, store_map_err(rc));
	*n = s.ms_entries;
	return MFA_OK;
}
