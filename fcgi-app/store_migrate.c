/*
 * store_migrate.c -- upgrading a store of schema 1 in place, inside the
 * write transaction that opens it (store_open).
 *
 * Schema 1 kept every record as JSON (record_json.c); schema 2 keeps
 * record.c's binary layout. Each value of the six record databases is
 * decoded as JSON and written back binary, and the schema entry changes in
 * the same transaction: a crash or an error leaves the schema-1 store as
 * it was, and the next open tries again. A value that does not decode is
 * left as it is: it reads as corrupt either way, and fails closed exactly
 * as it did before.
 */
#include <string.h>

#include <sodium.h>

#include "record_json.h"
#include "store_int.h"

union store_migrate_rec {
	struct client_rec client;
	struct authn_rec authn;
	struct token_rec token;
	struct challenge_rec challenge;
	struct bucket bucket;
	struct signing_rec signing;
};

/* The binary form of the JSON record "v" of database "db"; 0: none. */
static size_t
store_migrate_value(enum store_db db, const MDB_val *v,
    union store_migrate_rec *u, unsigned char *out)
{
	const void *p = v->mv_data;
	size_t n = v->mv_size;

	switch (db) {
	case DB_CLIENTS:
		return record_json_client_decode(p, n, &u->client) != MFA_OK ?
		    0 : record_client_encode(&u->client, out);
	case DB_AUTHNS:
		return record_json_authn_decode(p, n, &u->authn) != MFA_OK ?
		    0 : record_authn_encode(&u->authn, out);
	case DB_TOKENS:
		return record_json_token_decode(p, n, &u->token) != MFA_OK ?
		    0 : record_token_encode(&u->token, out);
	case DB_CHALLENGES:
		return record_json_challenge_decode(p, n, &u->challenge) !=
		    MFA_OK ? 0 : record_challenge_encode(&u->challenge, out);
	case DB_BUCKETS:
		return record_json_bucket_decode(p, n, &u->bucket) != MFA_OK ?
		    0 : record_bucket_encode(&u->bucket, out);
	case DB_SIGNING:
		return record_json_signing_decode(p, n, &u->signing) !=
		    MFA_OK ? 0 : record_signing_encode(&u->signing, out);
	default:
		return 0;
	}
}

/* Rewrites every record of "db"; counts them into "*done" and "*left". */
static int
store_migrate_db(MDB_txn *txn, MDB_dbi dbi, enum store_db db, size_t *done,
    size_t *left)
{
	union store_migrate_rec u;
	unsigned char buf[RECORD_ENC_MAX], kbuf[512]; /* LMDB keys: <= 511 */
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != MDB_SUCCESS)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((n = store_migrate_value(db, &v, &u, buf)) == 0) {
			(*left)++;
			continue;
		}
		/* "k" points into the page the put rewrites: copy it */
		if (k.mv_size > sizeof(kbuf)) {
			(*left)++;
			continue;
		}
		memcpy(kbuf, k.mv_data, k.mv_size);
		k.mv_data = kbuf;
		v.mv_data = buf;
		v.mv_size = n;
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT)) !=
		    MDB_SUCCESS)
			break;
		(*done)++;
	}
	sodium_memzero(&u, sizeof(u));
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

int
store_migrate_v1(MDB_txn *txn, const MDB_dbi *dbi, size_t *done,
    size_t *left)
{
	static const enum store_db dbs[] = { DB_CLIENTS, DB_AUTHNS, DB_TOKENS,
		DB_CHALLENGES, DB_BUCKETS, DB_SIGNING };
	MDB_val k = { 6, (void *)"schema" };
	MDB_val v = { sizeof(STORE_SCHEMA) - 1, (void *)STORE_SCHEMA };
	size_t i;
	int rc;

	*done = *left = 0;
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if ((rc = store_migrate_db(txn, dbi[dbs[i]], dbs[i], done,
		    left)) != MDB_SUCCESS)
			return rc;
	return mdb_put(txn, dbi[DB_META], &k, &v, 0);
}
