/*
 * store_signing.c -- the keys that sign result tokens.
 */
#include <string.h>

#include "store_int.h"

int
store_signing_put(struct store_txn *txn, const struct signing_rec *r)
{
	unsigned char buf[RECORD_ENC_MAX];

	return store_put_rec(txn, DB_SIGNING, r->kid, strlen(r->kid), buf,
	    record_signing_encode(r, buf), false);
}

int
store_signing_each(struct store_txn *txn,
    int (*fn)(void *arg, const struct signing_rec *r), void *arg)
{
	struct signing_rec rec;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if ((rc = store_cursor_open(txn, DB_SIGNING, &cur)) != MFA_OK)
		return rc;
	while ((rc = store_cursor_get(txn, cur, &k, &v, op)) == MFA_OK) {
		op = MDB_NEXT;
		if ((rc = record_signing_decode(v.mv_data, v.mv_size, &rec)) !=
		    MFA_OK || (rc = fn(arg, &rec)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MFA_ERR_NOTFOUND ? MFA_OK : rc;
}
