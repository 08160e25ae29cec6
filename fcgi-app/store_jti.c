/*
 * store_jti.c -- the replay table of client assertions (RFC 7523 §3 item
 * 7, OIDC Core §9: "These tokens MUST only be used once").
 */
#include <string.h>

#include "store_int.h"

#define JTI_KEY_MAX (MFA_CLIENT_ID_MAX + 1 + 64)
/* a jti's expiry entry names the transaction id and the key */
_Static_assert(8 + JTI_KEY_MAX <= STORE_EXPIRY_KEY_MAX,
    "a jti key outgrew what an expiry entry can name");

/* The key "<client_id>\0<jti>" into "key"; its length, 0 when out of
 * bounds. */
static size_t
jti_key(const char *client_id, const char *jti, char key[JTI_KEY_MAX])
{
	size_t a = strlen(client_id), b = strlen(jti);

	if (a == 0 || a > MFA_CLIENT_ID_MAX || b == 0 || b > 64)
		return 0;
	memcpy(key, client_id, a);
	key[a] = '\0';
	memcpy(key + a + 1, jti, b);
	return a + 1 + b;
}

/*
 * The expiry entry of jti key "key" ("n" bytes): STORE_KIND_JTI_SEQ, its
 * record key after the write transaction's id (8 bytes, big-endian).
 * Assertions often share an "exp" (whole seconds; a client's pool of
 * assertions signed at once), and among entries of one time the index
 * sorts by what follows the kind: by the jti, a random string, each entry
 * landed on a page of its own and every commit wrote one page per jti.
 * Transaction ids only grow, so a commit's entries now follow every
 * earlier one of the same time and share its last pages.
 */
static int
jti_expiry_add(struct store_txn *txn, mfa_ms exp, const char *key, size_t n)
{
	unsigned char buf[8 + JTI_KEY_MAX];

	store_be64(buf, (uint64_t)mdb_txn_id(txn->txn));
	memcpy(buf + 8, key, n);
	return store_expiry_add(txn, exp, STORE_KIND_JTI_SEQ, buf, 8 + n);
}

int
store_jti_put(struct store_txn *txn, const char *client_id, const char *jti,
    mfa_ms exp)
{
	char key[JTI_KEY_MAX];
	size_t n = jti_key(client_id, jti, key);
	int rc;

	if (n == 0)
		return MFA_ERR_INVALID;
	if (!txn->joined && store_batch_jti_queued(txn->st, client_id, jti))
		return MFA_ERR_EXISTS; /* queued with a challenge */
	rc = store_put(txn, DB_JTI, key, n, "", 0, true);
	if (rc == MFA_OK)
		rc = jti_expiry_add(txn, exp, key, n);
	return rc;
}

int
store_jti_seen(struct store_txn *txn, const char *client_id, const char *jti)
{
	char key[JTI_KEY_MAX];
	size_t n = jti_key(client_id, jti, key);
	MDB_val v;

	if (n == 0)
		return MFA_ERR_INVALID;
	return store_get(txn, DB_JTI, key, n, &v);
}

int
store_jti_use(struct store *st, const char *client_id, const char *jti,
    mfa_ms exp)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	if ((rc = store_jti_put(txn, client_id, jti, exp)) != MFA_OK) {
		store_txn_abort(txn);
		return rc;
	}
	/*
	 * Batched: the reply that follows on a grant endpoint commits durably,
	 * and that sync covers this transaction too; elsewhere a power loss
	 * within challenge_sync_ms could let this one assertion be used once
	 * more, for what batched durability already allows (README
	 * "Durability").
	 */
	return store_txn_commit_batched(txn);
}
