/*
 * store_client.c -- OAuth client records.
 */
#include <string.h>

#include "store_int.h"

int
store_client_get(struct store_txn *txn, const char *id,
    struct client_rec *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(txn, DB_CLIENTS, id, strlen(id), &v)) != MFA_OK)
		return rc;
	return store_decoded(record_client_decode(v.mv_data, v.mv_size,
	    out), DB_CLIENTS, id);
}

int
store_client_put(struct store_txn *txn, const struct client_rec *r,
    bool create)
{
	unsigned char buf[RECORD_ENC_MAX];

	return store_put_rec(txn, DB_CLIENTS, r->id, strlen(r->id), buf,
	    record_client_encode(r, buf), create);
}

int
store_client_del(struct store_txn *txn, const char *id)
{
	return store_del(txn, DB_CLIENTS, id, strlen(id), NULL, 0);
}

int
store_client_each(struct store_txn *txn,
    int (*fn)(void *arg, const struct client_rec *r), void *arg)
{
	struct client_rec rec;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if ((rc = store_cursor_open(txn, DB_CLIENTS, &cur)) != MFA_OK)
		return rc;
	while ((rc = store_cursor_get(txn, cur, &k, &v, op)) == MFA_OK) {
		op = MDB_NEXT;
		if ((rc = record_client_decode(v.mv_data, v.mv_size, &rec)) !=
		    MFA_OK || (rc = fn(arg, &rec)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}
