/*
 * mfactl_client.c -- "mfactl client add|list|show|rotate-secret|rm".
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ids.h"
#include "mfactl.h"
#include "record.h"

/* A client name: 1..MFA_NAME_MAX printable ASCII bytes. */
static bool
mfactl_client_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > MFA_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* The public view of a client (never its secret). */
static json_t *
mfactl_client_json(const struct client_rec *c)
{
	json_t *types = json_array();

	if (types == NULL)
		return NULL;
	if (c->types & CT_OTP)
		json_array_append_new(types, json_string("otp"));
	if (c->types & CT_OOB)
		json_array_append_new(types, json_string("oob"));
	return json_pack("{s:s, s:s, s:o, s:s, s:I}", "client_id", c->id,
	    "name", c->name, "challenge_types", types, "auth_method",
	    "client_secret_basic client_secret_post", "created_at",
	    (json_int_t)(c->created_at / 1000));
}

/* Makes a fresh secret for "c", sealed under its id; "secret" is shown once. */
static int
mfactl_client_new_secret(struct mfactl *m, struct client_rec *c,
    char secret[MFA_HANDLE_LEN + 1])
{
	char ad[32 + MFA_CLIENT_ID_MAX];

	ids_handle(secret);
	snprintf(ad, sizeof(ad), "client_secret:%s", c->id);
	return keys_seal(m->keys, ad, (const unsigned char *)secret,
	    MFA_HANDLE_LEN, c->secret_sealed, sizeof(c->secret_sealed));
}

static int
mfactl_client_add(struct mfactl *m, int argc, char **argv)
{
	char secret[MFA_HANDLE_LEN + 1], bad[33];
	const char *types_s = "otp oob", *v;
	struct store_txn *txn;
	struct client_rec c;
	int i, rc;

	memset(&c, 0, sizeof(c));
	if (argc < 1 || !mfactl_client_name_ok(argv[0]))
		return mfactl_usage("client add NAME: a name of 1 to %d "
		    "printable characters", MFA_NAME_MAX);
	for (i = 1; i < argc; i++) {
		if ((v = mfactl_opt(argc, argv, &i, "--challenge-types")) ==
		    NULL)
			return mfactl_usage("client add: unexpected \"%s\"",
			    argv[i]);
		types_s = v;
	}
	if (record_types_parse(types_s, &c.types, bad, sizeof(bad)) !=
	    MFA_OK || c.types == 0)
		return mfactl_usage("--challenge-types: a list of \"otp\" and "
		    "\"oob\"");
	if (mfactl_open(m) != 0)
		return 1;
	snprintf(c.name, sizeof(c.name), "%s", argv[0]);
	c.auth = CLIENT_AUTH_SECRET;
	c.created_at = c.updated_at = m->now;
	ids_client(c.id);
	if ((rc = mfactl_client_new_secret(m, &c, secret)) != MFA_OK)
		return mfactl_fail("cannot seal the secret: %s",
		    mfa_strerror(rc));
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = store_client_put(txn, &c, true)) != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot add the client: %s",
		    mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot add the client") != 0)
		return 1;
	m->result = mfactl_client_json(&c);
	json_object_set_new(m->result, "client_secret", json_string(secret));
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static int
mfactl_client_list_one(void *arg, const struct client_rec *r)
{
	return json_array_append_new(arg, mfactl_client_json(r));
}

static int
mfactl_client_list(struct mfactl *m)
{
	struct store_txn *txn;
	json_t *list = json_array();
	int rc;

	if (list == NULL || mfactl_open(m) != 0) {
		json_decref(list);
		return 1;
	}
	if ((rc = store_txn_begin(m->store, false, &txn)) != MFA_OK) {
		json_decref(list);
		return mfactl_fail("store: %s", mfa_strerror(rc));
	}
	rc = store_client_each(txn, mfactl_client_list_one, list);
	store_txn_abort(txn);
	if (rc != MFA_OK) {
		json_decref(list);
		return mfactl_fail("cannot list clients: %s",
		    mfa_strerror(rc));
	}
	m->result = json_pack("{s:o}", "clients", list);
	return 0;
}

/* show, rotate-secret and rm: one client by id. */
static int
mfactl_client_one(struct mfactl *m, const char *verb, const char *id)
{
	char secret[MFA_HANDLE_LEN + 1] = "";
	struct store_txn *txn;
	struct client_rec c;
	bool write = strcmp(verb, "show") != 0;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, write, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = store_client_get(txn, id, &c)) != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("client %s: %s", id, mfa_strerror(rc));
	}
	if (strcmp(verb, "rotate-secret") == 0) { /* public */
		c.updated_at = m->now;
		if ((rc = mfactl_client_new_secret(m, &c, secret)) == MFA_OK)
			rc = store_client_put(txn, &c, false);
	} else if (strcmp(verb, "rm") == 0) {
		rc = store_client_del(txn, id);
	}
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("client %s: %s", id, mfa_strerror(rc));
	}
	if (!write)
		store_txn_abort(txn);
	else if (mfactl_commit(txn, "cannot update the client") != 0)
		return 1;
	if (strcmp(verb, "rm") == 0)
		m->result = json_pack("{s:s, s:b}", "client_id", id, "removed",
		    1);
	else if (secret[0] != '\0')
		m->result = json_pack("{s:s, s:s}", "client_id", id,
		    "client_secret", secret);
	else
		m->result = mfactl_client_json(&c);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

int
mfactl_client(struct mfactl *m, int argc, char **argv)
{
	if (argc < 1)
		return mfactl_usage("client: expected add, list, show, "
		    "rotate-secret or rm");
	if (strcmp(argv[0], "add") == 0)
		return mfactl_client_add(m, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return argc == 1 ? mfactl_client_list(m) :
		    mfactl_usage("client list takes no arguments");
	if (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "rm") == 0 ||
	    strcmp(argv[0], "rotate-secret") == 0) { /* public */
		if (argc != 2)
			return mfactl_usage("client %s ID", argv[0]);
		return mfactl_client_one(m, argv[0], argv[1]);
	}
	return mfactl_usage("client: unknown subcommand \"%s\"", argv[0]);
}
