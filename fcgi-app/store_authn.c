/*
 * store_authn.c -- authenticators and the user -> authenticators index.
 */
#include <string.h>

#include "store_int.h"

int
store_authn_get(struct store_txn *txn, const char *id, struct authn_rec *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_AUTHNS, id, strlen(id), &v)) != MFA_OK)
		return rc;
	return store_decoded(record_authn_decode(v.mv_data, v.mv_size, out),
	    DB_AUTHNS, id);
}

int
store_authn_put(struct store_txn *txn, const struct authn_rec *r)
{
	unsigned char buf[RECORD_ENC_MAX];
	int rc;

	rc = store_put_rec(txn, DB_AUTHNS, r->id, strlen(r->id), buf,
	    record_authn_encode(r, buf), false);
	if (rc != MFA_OK)
		return rc;
	/* An update (a TOTP step used, an enrollment confirmed) finds its
	 * index entry in place: putting it again would still copy the
	 * index's pages on write, three or four more pages to commit and
	 * sync for every verification. */
	if ((rc = store_has_pair(txn, DB_USER_AUTHNS, r->user_id,
	    strlen(r->user_id), r->id, strlen(r->id))) != MFA_ERR_NOTFOUND)
		return rc;
	/* A duplicate pair is not an error for a DUPSORT index. */
	rc = store_put(txn, DB_USER_AUTHNS, r->user_id, strlen(r->user_id),
	    r->id, strlen(r->id), false);
	return rc == MFA_ERR_EXISTS ? MFA_OK : rc;
}

int
store_authn_del(struct store_txn *txn, const char *id)
{
	struct authn_rec r;
	int rc;

	if ((rc = store_authn_get(txn, id, &r)) != MFA_OK)
		return rc;
	rc = store_del(txn, DB_USER_AUTHNS, r.user_id, strlen(r.user_id),
	    r.id, strlen(r.id));
	if (rc == MFA_OK || rc == MFA_ERR_NOTFOUND)
		rc = store_bucket_del(txn, STORE_FAIL_PREFIX, id);
	if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND)
		return rc;
	return store_del(txn, DB_AUTHNS, id, strlen(id), NULL, 0);
}

/* Keeps "out[0..n]" in enrollment order (insertion sort, n is small). */
static void
store_authn_sort(struct authn_rec *out, size_t n)
{
	struct authn_rec tmp;
	size_t i, j;

	for (i = 1; i < n; i++) {
		tmp = out[i];
		for (j = i; j > 0 && (out[j - 1].created_at > tmp.created_at ||
		    (out[j - 1].created_at == tmp.created_at &&
		    strcmp(out[j - 1].id, tmp.id) > 0)); j--)
			out[j] = out[j - 1];
		out[j] = tmp;
	}
}

int
store_authn_list(struct store_txn *txn, const char *user_id,
    struct authn_rec *out, size_t max, size_t *n)
{
	MDB_cursor *cur;
	MDB_val k = store_val(user_id, strlen(user_id)), v;
	char id[MFA_AUTHN_ID_MAX + 1];
	MDB_cursor_op op = MDB_SET;
	int rc;

	*n = 0;
	if ((rc = store_cursor_open(txn, DB_USER_AUTHNS, &cur)) != MFA_OK)
		return rc;
	while (*n < max &&
	    (rc = store_cursor_get(txn, cur, &k, &v, op)) == MFA_OK) {
		op = MDB_NEXT_DUP;
		if (v.mv_size > MFA_AUTHN_ID_MAX) {
			rc = MFA_ERR_CORRUPT;
			break;
		}
		memcpy(id, v.mv_data, v.mv_size);
		id[v.mv_size] = '\0';
		rc = store_authn_get(txn, id, &out[*n]);
		if (rc == MFA_OK)
			(*n)++;
		else if (rc != MFA_ERR_NOTFOUND)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MFA_ERR_NOTFOUND || *n == max)
		rc = MFA_OK;
	if (rc == MFA_OK)
		store_authn_sort(out, *n);
	return rc;
}

int
store_authn_each_user(struct store_txn *txn,
    int (*fn)(void *arg, const char *user_id), void *arg)
{
	char user[MFA_USER_ID_MAX + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if ((rc = store_cursor_open(txn, DB_USER_AUTHNS, &cur)) != MFA_OK)
		return rc;
	while ((rc = store_cursor_get(txn, cur, &k, &v, op)) == MFA_OK) {
		op = MDB_NEXT_NODUP;
		if (k.mv_size > MFA_USER_ID_MAX) {
			rc = MFA_ERR_CORRUPT;
			break;
		}
		memcpy(user, k.mv_data, k.mv_size);
		user[k.mv_size] = '\0';
		if ((rc = fn(arg, user)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}
