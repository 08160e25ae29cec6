/*
 * mfactl_keys.c -- "mfactl keys rotate|list": the Ed25519 keys that sign
 * result tokens. Only kids and dates are printed, never key material.
 */
#include <string.h>

#include "mfactl.h"
#include "signing.h"

/* The kid of the current key, or "" when there is none. */
static int
mfactl_keys_current_one(void *arg, const struct signing_rec *r)
{
	char *kid = arg;

	if (r->retired_at != 0)
		return 0;
	memcpy(kid, r->kid, RECORD_KID_LEN + 1);
	return 1;
}

/* keys rotate: a new current key; the old one stays published. */
static int
mfactl_keys_rotate(struct mfactl *m)
{
	char old[RECORD_KID_LEN + 1] = "", kid[RECORD_KID_LEN + 1];
	struct store_txn *txn;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_signing_each(txn, mfactl_keys_current_one, old);
	if (rc >= 0)
		rc = signing_key_create(txn, m->keys, m->now, kid);
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot create a signing key: %s",
		    mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot create a signing key") != 0)
		return 1;
	m->result = json_pack("{s:s, s:s?}", "kid", kid, "retired",
	    old[0] != '\0' ? old : NULL);
	return 0;
}

static int
mfactl_keys_list_one(void *arg, const struct signing_rec *r)
{
	return json_array_append_new(arg, json_pack("{s:s, s:o, s:o, s:b}",
	    "kid", r->kid, "created_at", mfactl_time(r->created_at),
	    "retired_at", mfactl_time(r->retired_at), "current",
	    r->retired_at == 0)) == 0 ?
	    0 : MFA_ERR_NOMEM;
}

/* keys list: every key, current or retired, in kid order. */
static int
mfactl_keys_walk(struct store_txn *txn, json_t *list)
{
	return store_signing_each(txn, mfactl_keys_list_one, list);
}

/*
 * "mfactl keys rotate" prints {"kid": NEW, "retired": OLD or null};
 * "mfactl keys list" prints {"keys": [{"kid", "created_at", "retired_at"
 * (seconds; null while current), "current"}]}. Returns 0, 1 or 2.
 */
int
mfactl_keys(struct mfactl *m, int argc, char **argv)
{
	if (argc != 1)
		return mfactl_usage("keys: expected \"keys rotate\" or "
		    "\"keys list\"");
	if (strcmp(argv[0], "rotate") == 0)
		return mfactl_keys_rotate(m);
	if (strcmp(argv[0], "list") == 0)
		return mfactl_list(m, "keys", mfactl_keys_walk);
	return mfactl_usage("keys: unknown subcommand \"%s\"", argv[0]);
}
