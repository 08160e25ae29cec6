/*
 * mfactl_client.c -- "mfactl client add|list|show|rotate-secret|rm".
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "ids.h"
#include "jwk.h"
#include "mfactl.h"
#include "record.h"

struct client_opts {
	const char *types, *auth, *alg, *key, *kid;
};

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

/* The registered keys as [{"kid","thumbprint","alg"}]. */
static json_t *
mfactl_client_keys_json(const struct client_rec *c)
{
	struct jwk_key *k;
	json_t *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < RECORD_KEYS_MAX; i++) {
		if (c->keys[i][0] == '\0' || jwk_from_json(c->keys[i],
		    strlen(c->keys[i]), &k) != MFA_OK)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "kid",
		    k->kid, "thumbprint", k->thumbprint, "alg",
		    jwk_alg_name(k->alg)));
		jwk_free(k);
	}
	return list;
}

/* The public view of a client (never its secret). */
static json_t *
mfactl_client_json(const struct client_rec *c)
{
	json_t *types = json_array(), *o;

	if (types == NULL)
		return NULL;
	if (c->types & CT_OTP)
		json_array_append_new(types, json_string("otp"));
	if (c->types & CT_OOB)
		json_array_append_new(types, json_string("oob"));
	o = json_pack("{s:s, s:s, s:o, s:s, s:o}", "client_id", c->id,
	    "name", c->name, "challenge_types", types, "auth_method",
	    record_auth_method_name(c->auth), "created_at",
	    mfactl_time(c->created_at));
	if (o != NULL && c->auth != CLIENT_AUTH_SECRET &&
	    c->auth != CLIENT_AUTH_NONE)
		json_object_set_new(o, "alg",
		    json_string(jwk_alg_name((enum jwk_alg)c->alg)));
	if (o != NULL && c->auth == CLIENT_AUTH_PRIVATE_KEY_JWT)
		json_object_set_new(o, "keys", mfactl_client_keys_json(c));
	return o;
}

/* Reads a key file of at most JWK_FILE_MAX bytes; caller frees. */
static unsigned char *
mfactl_client_read(const char *path, size_t *len)
{
	unsigned char *buf = malloc(JWK_FILE_MAX + 1);
	ssize_t r;
	int fd;

	*len = 0;
	if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + *len, JWK_FILE_MAX + 1 - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	if (r < 0 || *len > JWK_FILE_MAX) {
		free(buf);
		errno = r < 0 ? errno : EFBIG;
		return NULL;
	}
	return buf;
}

/*
 * Loads the public keys in "path" for algorithm "alg" into the free key
 * slots of "c" (a key already there, by thumbprint, is refused). Returns
 * 0, or 1/2 after printing why.
 */
static int
mfactl_client_add_keys(struct client_rec *c, const char *path,
    const char *kid)
{
	struct jwk_key *keys[JWK_SET_MAX], *old;
	unsigned char *buf;
	const char *why = "";
	char *json = NULL;
	size_t len, n = 0, i, j, slot;
	int rc = 0;

	if ((buf = mfactl_client_read(path, &len)) == NULL)
		return mfactl_fail("%s: %s", path, strerror(errno));
	if (jwk_load(buf, len, (enum jwk_alg)c->alg, keys, &n, &why) != MFA_OK) {
		free(buf);
		return mfactl_fail("%s: %s", path, why);
	}
	free(buf);
	if (kid != NULL && (n != 1 || jwk_set_kid(keys[0], kid) != MFA_OK))
		rc = mfactl_usage("--kid: one key, 1 to %d printable "
		    "characters", JWK_KID_MAX);
	for (i = 0; rc == 0 && i < n; i++) {
		for (slot = 0; slot < RECORD_KEYS_MAX; slot++) {
			if (c->keys[slot][0] == '\0')
				break;
			if (jwk_from_json(c->keys[slot], strlen(c->keys[slot]),
			    &old) != MFA_OK)
				continue;
			j = strcmp(old->thumbprint, keys[i]->thumbprint) == 0 ||
			    (old->kid[0] != '\0' &&
			    strcmp(old->kid, keys[i]->kid) == 0); /* public */
			jwk_free(old);
			if (j) {
				rc = mfactl_fail("%s: key %s is already "
				    "registered", path, keys[i]->thumbprint);
				break;
			}
		}
		if (rc != 0)
			break;
		if (slot == RECORD_KEYS_MAX) {
			rc = mfactl_fail("a client has at most %d keys; remove "
			    "one with \"client rm-key\"", RECORD_KEYS_MAX);
			break;
		}
		if (jwk_to_json(keys[i], &json) != MFA_OK ||
		    strlen(json) >= RECORD_JWK_MAX) {
			rc = mfactl_fail("%s: the key is too large to store",
			    path);
		} else {
			memcpy(c->keys[slot], json, strlen(json) + 1);
		}
		free(json);
		json = NULL;
	}
	for (i = 0; i < n; i++)
		jwk_free(keys[i]);
	return rc;
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

/* --opt VALUE options of client add / add-key. */
static int
mfactl_client_opts(int argc, char **argv, int first, struct client_opts *o)
{
	const char *v;
	int i;

	for (i = first; i < argc; i++) {
		if ((v = cli_opt(argc, argv, &i, "--challenge-types")) != NULL)
			o->types = v;
		else if ((v = cli_opt(argc, argv, &i, "--auth")) != NULL)
			o->auth = v;
		else if ((v = cli_opt(argc, argv, &i, "--alg")) != NULL)
			o->alg = v;
		else if ((v = cli_opt(argc, argv, &i, "--key")) != NULL)
			o->key = v;
		else if ((v = cli_opt(argc, argv, &i, "--kid")) != NULL)
			o->kid = v;
		else
			return mfactl_usage("client: unexpected \"%s\"",
			    argv[i]);
	}
	return 0;
}

/* The --auth and --alg choices of client add. */
static int
mfactl_client_method(const struct client_opts *o, struct client_rec *c)
{
	static const struct {
		const char *name;
		enum client_auth_method method;
	} methods[] = {
		{ "client_secret_basic", CLIENT_AUTH_SECRET },
		{ "client_secret_post", CLIENT_AUTH_SECRET },
		{ "client_secret_jwt", CLIENT_AUTH_SECRET_JWT },
		{ "private_key_jwt", CLIENT_AUTH_PRIVATE_KEY_JWT },
		{ "none", CLIENT_AUTH_NONE },
	};
	const char *a = o->auth != NULL ? o->auth : methods[0].name;
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(a, methods[i].name) == 0)
			c->auth = methods[i].method;
	if (c->auth == CLIENT_AUTH_INVALID)
		return mfactl_usage("--auth: client_secret_basic, "
		    "client_secret_post, client_secret_jwt, private_key_jwt "
		    "or none");
	if (c->auth == CLIENT_AUTH_SECRET || c->auth == CLIENT_AUTH_NONE) {
		if (o->alg != NULL || o->key != NULL || o->kid != NULL)
			return mfactl_usage("--alg, --key and --kid go with "
			    "--auth private_key_jwt");
		return 0;
	}
	c->alg = o->alg != NULL ? jwk_alg_parse(o->alg, strlen(o->alg)) :
	    c->auth == CLIENT_AUTH_SECRET_JWT ? JWK_ALG_HS256 : 0;
	if (c->auth == CLIENT_AUTH_SECRET_JWT) {
		if (c->alg != JWK_ALG_HS256 || o->key != NULL)
			return mfactl_usage("client_secret_jwt uses HS256 with "
			    "the client secret; no --key");
		return 0;
	}
	if (c->alg == JWK_ALG_INVALID || c->alg == JWK_ALG_HS256)
		return mfactl_usage("--alg: EdDSA, Ed25519, RS256, RS384, "
		    "PS256 or ES256");
	if (o->key == NULL)
		return mfactl_usage("private_key_jwt needs --key FILE (PEM "
		    "public key, PEM certificate, JWK or JWKS)");
	return 0;
}

static int
mfactl_client_add(struct mfactl *m, int argc, char **argv)
{
	char secret[MFA_HANDLE_LEN + 1] = "", bad[33];
	struct client_opts o = { "otp oob", NULL, NULL, NULL, NULL };
	struct store_txn *txn;
	struct client_rec c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (argc < 1 || !mfactl_client_name_ok(argv[0]))
		return mfactl_usage("client add NAME: a name of 1 to %d "
		    "printable characters", MFA_NAME_MAX);
	if ((rc = mfactl_client_opts(argc, argv, 1, &o)) != 0)
		return rc;
	if (record_types_parse(o.types, &c.types, bad, sizeof(bad)) !=
	    MFA_OK || c.types == 0)
		return mfactl_usage("--challenge-types: a list of \"otp\" and "
		    "\"oob\"");
	if ((rc = mfactl_client_method(&o, &c)) != 0)
		return rc;
	if (mfactl_open(m) != 0)
		return 1;
	snprintf(c.name, sizeof(c.name), "%s", argv[0]);
	c.created_at = c.updated_at = m->now;
	ids_client(c.id);
	if (c.auth == CLIENT_AUTH_PRIVATE_KEY_JWT) {
		if ((rc = mfactl_client_add_keys(&c, o.key, o.kid)) != 0)
			return rc;
	} else if (c.auth != CLIENT_AUTH_NONE &&
	    (rc = mfactl_client_new_secret(m, &c, secret)) != MFA_OK) {
		return mfactl_fail("cannot seal the secret: %s",
		    mfa_strerror(rc));
	}
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
	if (secret[0] != '\0')
		json_object_set_new(m->result, "client_secret",
		    json_string(secret));
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static int
mfactl_client_list_one(void *arg, const struct client_rec *r)
{
	return json_array_append_new(arg, mfactl_client_json(r));
}

static int
mfactl_client_walk(struct store_txn *txn, json_t *list)
{
	return store_client_each(txn, mfactl_client_list_one, list);
}

/* Removes the key whose kid or thumbprint is "which". */
static int
mfactl_client_rm_key(struct client_rec *c, const char *which)
{
	struct jwk_key *k;
	size_t i, left = 0, hit = RECORD_KEYS_MAX;

	for (i = 0; i < RECORD_KEYS_MAX; i++) {
		if (c->keys[i][0] == '\0')
			continue;
		left++;
		if (jwk_from_json(c->keys[i], strlen(c->keys[i]), &k) != MFA_OK)
			continue;
		if (strcmp(k->thumbprint, which) == 0 ||
		    (k->kid[0] != '\0' && strcmp(k->kid, which) == 0)) /* public */
			hit = i;
		jwk_free(k);
	}
	if (hit == RECORD_KEYS_MAX)
		return mfactl_fail("no key with kid or thumbprint %s", which);
	if (left == 1)
		return mfactl_fail("a private_key_jwt client keeps at least one "
		    "key: add the new key first");
	c->keys[hit][0] = '\0';
	return 0;
}

/* show, rotate-secret, rm, add-key, rm-key: one client by id. */
static int
mfactl_client_one(struct mfactl *m, const char *verb, const char *id,
    const struct client_opts *o, const char *which)
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
		if (c.auth == CLIENT_AUTH_PRIVATE_KEY_JWT) {
			store_txn_abort(txn);
			return mfactl_fail("client %s has keys, not a secret: "
			    "use add-key and rm-key", id);
		}
		c.updated_at = m->now;
		if ((rc = mfactl_client_new_secret(m, &c, secret)) == MFA_OK)
			rc = store_client_put(txn, &c, false);
	} else if (strcmp(verb, "rm") == 0) {
		rc = store_client_del(txn, id);
	} else if (strcmp(verb, "add-key") == 0 || strcmp(verb, "rm-key") == 0) {
		if (c.auth != CLIENT_AUTH_PRIVATE_KEY_JWT) {
			store_txn_abort(txn);
			return mfactl_fail("client %s is not a private_key_jwt "
			    "client", id);
		}
		if ((verb[0] == 'a' ? mfactl_client_add_keys(&c, o->key,
		    o->kid) : mfactl_client_rm_key(&c, which)) != 0) {
			store_txn_abort(txn);
			return 1;
		}
		c.updated_at = m->now;
		rc = store_client_put(txn, &c, false);
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
	struct client_opts o = { NULL, NULL, NULL, NULL, NULL };

	if (argc < 1)
		return mfactl_usage("client: expected add, list, show, "
		    "rotate-secret or rm");
	if (strcmp(argv[0], "add") == 0)
		return mfactl_client_add(m, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return argc == 1 ? mfactl_list(m, "clients",
		    mfactl_client_walk) :
		    mfactl_usage("client list takes no arguments");
	if (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "rm") == 0 ||
	    strcmp(argv[0], "rotate-secret") == 0) { /* public */
		if (argc != 2)
			return mfactl_usage("client %s ID", argv[0]);
		return mfactl_client_one(m, argv[0], argv[1], &o, NULL);
	}
	if (strcmp(argv[0], "add-key") == 0) {
		if (argc < 2 || mfactl_client_opts(argc, argv, 2, &o) != 0 ||
		    o.key == NULL || o.types != NULL || o.auth != NULL ||
		    o.alg != NULL)
			return mfactl_usage("client add-key ID --key FILE "
			    "[--kid KID]");
		return mfactl_client_one(m, argv[0], argv[1], &o, NULL);
	}
	if (strcmp(argv[0], "rm-key") == 0) {
		if (argc != 3)
			return mfactl_usage("client rm-key ID KID|THUMBPRINT");
		return mfactl_client_one(m, argv[0], argv[1], &o, argv[2]);
	}
	return mfactl_usage("client: unknown subcommand \"%s\"", argv[0]);
}
