/*
 * client_auth.c -- the client-authentication provider chain.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "basic.h"
#include "client_auth.h"
#include "log.h"

struct provider {
	const char *name;
	bool (*present)(const struct mfa_req *req);
	enum client_auth_verdict (*run)(const struct mfa_ctx *ctx,
	    const struct mfa_req *req, struct store_txn *txn,
	    struct client_rec *client, struct ca_detail *d);
};

/*
 * Compares a presented secret with the client's sealed one. Both are
 * hashed first so the compare is constant-time whatever their lengths; an
 * unknown client costs the same work against a random secret (OIDC §16.12:
 * no client enumeration by timing).
 */
enum client_auth_verdict
client_auth_secret(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *id, const char *secret, struct client_rec *client,
    struct ca_detail *d)
{
	unsigned char stored[RECORD_SECRET_MAX], h1[MFA_HASH_BYTES],
	    h2[MFA_HASH_BYTES];
	char ad[32 + MFA_CLIENT_ID_MAX];
	enum client_auth_verdict v = CA_INVALID;
	size_t n = 0;
	int rc;

	rc = store_client_get(txn, id, client);
	if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND) {
		d->err = rc;
		return CA_ERROR;
	}
	snprintf(ad, sizeof(ad), "client_secret:%s", id);
	if (rc == MFA_ERR_NOTFOUND || client->auth != CLIENT_AUTH_SECRET) {
		randombytes_buf(stored, sizeof(stored));
		n = MFA_HANDLE_LEN;
	} else if ((rc = keys_open(ctx->keys, ad, client->secret_sealed, stored,
	    sizeof(stored), &n)) != MFA_OK) {
		log_error("client %s: sealed secret does not open (%s); "
		    "refusing", id, mfa_strerror(rc));
		randombytes_buf(stored, sizeof(stored));
		n = MFA_HANDLE_LEN;
		rc = MFA_ERR_CRYPTO;
	}
	keys_hash(ctx->keys, "client-secret-compare", stored, n, h1);
	keys_hash(ctx->keys, "client-secret-compare", secret, strlen(secret),
	    h2);
	if (sodium_memcmp(h1, h2, sizeof(h1)) == 0 && rc == MFA_OK)
		v = CA_OK;
	sodium_memzero(stored, sizeof(stored));
	sodium_memzero(h1, sizeof(h1));
	sodium_memzero(h2, sizeof(h2));
	if (v != CA_OK)
		memset(client, 0, sizeof(*client));
	return v;
}

/* The walk of client_auth_by_secret. */
struct ca_scan {
	const struct mfa_ctx *ctx;
	struct store_txn *txn;
	const char *secret;
	struct client_rec *client;
	struct ca_detail *d;
	enum client_auth_verdict v;
};

static int
client_auth_scan_one(void *arg, const struct client_rec *r)
{
	struct ca_scan *s = arg;
	struct client_rec c;

	if (r->auth != CLIENT_AUTH_SECRET)
		return 0;
	switch (client_auth_secret(s->ctx, s->txn, r->id, s->secret, &c,
	    s->d)) {
	case CA_OK:
		*s->client = c; /* one secret per client: no second match */
		s->v = CA_OK;
		break;
	case CA_ERROR:
		s->v = CA_ERROR;
		sodium_memzero(&c, sizeof(c));
		return 1;
	default:
		break;
	}
	sodium_memzero(&c, sizeof(c));
	return 0;
}

enum client_auth_verdict
client_auth_by_secret(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *secret, struct client_rec *client, struct ca_detail *d)
{
	struct ca_scan s = { ctx, txn, secret, client, d, CA_INVALID };
	int rc;

	memset(client, 0, sizeof(*client));
	rc = store_client_each(txn, client_auth_scan_one, &s);
	if (rc < 0) {
		d->err = rc;
		s.v = CA_ERROR;
	}
	if (s.v != CA_OK)
		memset(client, 0, sizeof(*client));
	return s.v;
}

static bool
client_auth_basic_present(const struct mfa_req *req)
{
	struct basic_creds c;
	enum basic_result r = basic_decode(req->authorization, &c);

	basic_creds_wipe(&c);
	return r != BASIC_NOT_BASIC;
}

static enum client_auth_verdict
client_auth_basic(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct client_rec *client, struct ca_detail *d)
{
	struct basic_creds c;
	enum client_auth_verdict v;

	switch (basic_decode(req->authorization, &c)) {
	case BASIC_NOT_BASIC:
		return CA_NO_CREDENTIALS;
	case BASIC_OK:
		break;
	default:
		return CA_INVALID;
	}
	v = client_auth_secret(ctx, txn, c.client_id, c.secret, client, d);
	basic_creds_wipe(&c);
	return v;
}

static bool
client_auth_post_present(const struct mfa_req *req)
{
	return req_get(req, F_CLIENT_SECRET) != NULL;
}

static enum client_auth_verdict
client_auth_post(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct client_rec *client, struct ca_detail *d)
{
	const char *id = req_get(req, F_CLIENT_ID);
	const char *secret = req_get(req, F_CLIENT_SECRET);

	if (secret == NULL)
		return CA_NO_CREDENTIALS;
	if (id == NULL)
		return CA_INVALID;
	return client_auth_secret(ctx, txn, id, secret, client, d);
}

/* Tried in this order; the first that authenticates wins. */
static const struct provider providers[] = {
	{ "client_assertion", client_assertion_present, client_assertion_run },
	{ "client_secret_basic", client_auth_basic_present, client_auth_basic },
	{ "client_secret_post", client_auth_post_present, client_auth_post },
};
#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))

json_t *
client_auth_methods_json(void)
{
	return json_pack("[s,s,s,s]", "client_secret_basic",
	    "client_secret_post", "client_secret_jwt", "private_key_jwt");
}

json_t *
client_auth_algs_json(void)
{
	return json_pack("[s,s,s,s,s,s,s]", "EdDSA", "Ed25519", "RS256",
	    "RS384", "PS256", "ES256", "HS256");
}

/* RFC 6749 §2.3: one method per request; Basic's id must match the body. */
static bool
client_auth_precheck(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct basic_creds c;
	const char *body_id = req_get(req, F_CLIENT_ID);
	size_t i, methods = 0;
	bool mismatch;

	for (i = 0; i < NPROVIDERS; i++)
		if (providers[i].present(req))
			methods++;
	if (methods > 1) {
		resp_error(resp, 400, "invalid_request",
		    "Client authentication must use only one method");
		return false;
	}
	if (!client_assertion_precheck(req, resp))
		return false;
	if (basic_decode(req->authorization, &c) == BASIC_OK &&
	    body_id != NULL) {
		mismatch = strcmp(c.client_id, body_id) != 0; /* public */
		basic_creds_wipe(&c);
		if (mismatch) {
			resp_error(resp, 400, "invalid_request",
			    "client_id does not match the Authorization header");
			return false;
		}
	}
	basic_creds_wipe(&c);
	return true;
}

enum client_auth_verdict
client_auth_run(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct client_rec *client, struct mfa_resp *resp)
{
	return client_auth_run_deferred(ctx, req, txn, client, NULL, resp);
}

void
client_auth_replayed(const char *client_id, struct mfa_resp *resp)
{
	log_warn("client %s: replayed client assertion", client_id);
	log_info("client authentication failed (client_assertion: %s)",
	    CLIENT_AUTH_REPLAY);
	resp_error(resp, 401, "invalid_client", "Client assertion rejected: %s",
	    CLIENT_AUTH_REPLAY);
}

enum client_auth_verdict
client_auth_settle(const struct mfa_ctx *ctx, struct ca_jti *jti,
    struct mfa_resp *resp)
{
	int rc;

	if (!jti->set)
		return CA_OK;
	jti->set = false;
	rc = store_jti_use(ctx->store, jti->client_id, jti->jti, jti->exp);
	if (rc == MFA_OK)
		return CA_OK;
	if (rc == MFA_ERR_EXISTS) {
		client_auth_replayed(jti->client_id, resp);
		return CA_INVALID;
	}
	log_error("client authentication (client_assertion): %s",
	    mfa_strerror(rc));
	resp_internal(resp, rc);
	return CA_ERROR;
}

enum client_auth_verdict
client_auth_run_deferred(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct client_rec *client, struct ca_jti *jti,
    struct mfa_resp *resp)
{
	enum client_auth_verdict v, worst = CA_NO_CREDENTIALS;
	const char *failed = NULL, *why = NULL, *said = NULL;
	struct ca_detail d;
	size_t i;

	memset(client, 0, sizeof(*client));
	if (jti != NULL)
		memset(jti, 0, sizeof(*jti));
	if (!client_auth_precheck(ctx, req, resp))
		return CA_INVALID;
	for (i = 0; i < NPROVIDERS; i++) {
		d.err = MFA_OK;
		d.why = NULL;
		d.said = NULL;
		d.defer = jti;
		v = providers[i].run(ctx, req, txn, client, &d);
		if (v == CA_OK)
			return CA_OK;
		if (v == CA_ERROR) {
			log_error("client authentication (%s): %s",
			    providers[i].name, mfa_strerror(d.err));
			resp_internal(resp, d.err);
			return CA_ERROR;
		}
		if (v == CA_INVALID && worst != CA_INVALID) {
			worst = CA_INVALID;
			failed = providers[i].name;
			why = d.why;
			said = d.said != NULL ? d.said : d.why;
		}
	}
	log_info("client authentication failed (%s%s%s)",
	    failed != NULL ? failed : "no credentials", why ? ": " : "",
	    why ? why : "");
	if (said != NULL)
		resp_error(resp, 401, "invalid_client",
		    "Client assertion rejected: %s", said);
	else
		resp_error(resp, 401, "invalid_client",
		    "Client authentication failed");
	if (client_auth_basic_present(req))
		snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
		    "Basic realm=\"%s\", charset=\"UTF-8\"", ctx->cfg->realm);
	return worst;
}
