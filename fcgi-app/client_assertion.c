/*
 * client_assertion.c -- the JWT client-assertion provider (RFC 7523 §2.2
 * and §3, OpenID Connect Core §9): private_key_jwt and client_secret_jwt.
 *
 * Order of work, cheapest and least trusting first: the wire parameters;
 * the compact JWS's structure and header (jwt_parse, no crypto); the
 * client named by the unverified "sub"; its pinned keys; the signature;
 * the claims; and last the jti, recorded in its own short write
 * transaction so a replay is refused across every worker.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client_auth.h"
#include "jwk.h"
#include "jwt.h"
#include "log.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_Static_assert(sizeof(((struct ca_jti *)0)->jti) == JWT_JTI_MAX + 1,
    "a deferred jti holds every jti the claims accept");

bool
client_assertion_present(const struct mfa_req *req)
{
	return req_get(req, F_CLIENT_ASSERTION) != NULL ||
	    req_get(req, F_CLIENT_ASSERTION_TYPE) != NULL;
}

bool
client_assertion_precheck(const struct mfa_req *req, struct mfa_resp *resp)
{
	const char *type = req_get(req, F_CLIENT_ASSERTION_TYPE);
	const char *a = req_get(req, F_CLIENT_ASSERTION);

	if (type == NULL && a == NULL)
		return true;
	if (type == NULL) {
		resp_error(resp, 400, "invalid_request",
		    "Missing required parameter: client_assertion_type");
		return false;
	}
	if (strcmp(type, ASSERTION_TYPE) != 0) { /* public */
		resp_error(resp, 400, "invalid_request",
		    "client_assertion_type must be " ASSERTION_TYPE);
		return false;
	}
	if (a == NULL) {
		resp_error(resp, 400, "invalid_request",
		    "Missing required parameter: client_assertion");
		return false;
	}
	return true;
}

/*
 * Parsed public keys, per worker process. Parsing a stored JWK (JSON, an
 * OpenSSL key object, its thumbprint) costs more than an RSA verification,
 * and a client's keys change only when an administrator rotates them. An
 * entry is keyed by the client id and a BLAKE2b hash of the stored key's
 * bytes, so a rotated or re-registered key misses and replaces the least
 * recently used entry; nothing is ever stale. Public keys only: a
 * client_secret_jwt secret is opened per request and wiped. (A static
 * table: the one mutable state of this module, private to the process.)
 */
#define ASSERTION_CACHE_SIZE 16

struct assertion_cache_entry {
	char client_id[MFA_CLIENT_ID_MAX + 1];
	unsigned char hash[crypto_generichash_BYTES];
	struct jwk_key *key;
	uint64_t used;
};

static struct assertion_cache_entry assertion_cache[ASSERTION_CACHE_SIZE];
static uint64_t assertion_cache_clock;

/* The parsed form of stored key "json" of client "id"; borrowed. */
static int
client_assertion_cached_key(const char *id, const char *json,
    struct jwk_key **out)
{
	struct assertion_cache_entry *e, *victim = &assertion_cache[0];
	unsigned char h[crypto_generichash_BYTES];
	struct jwk_key *k;
	size_t i, len = strlen(json);
	int rc;

	crypto_generichash(h, sizeof(h), (const unsigned char *)json, len,
	    NULL, 0);
	for (i = 0; i < ASSERTION_CACHE_SIZE; i++) {
		e = &assertion_cache[i];
		if (e->key != NULL &&
		    strcmp(e->client_id, id) == 0 && /* public */
		    sodium_memcmp(e->hash, h, sizeof(h)) == 0) {
			e->used = ++assertion_cache_clock;
			*out = e->key;
			return MFA_OK;
		}
		if (e->used < victim->used)
			victim = e;
	}
	if ((rc = jwk_from_json(json, len, &k)) != MFA_OK)
		return rc;
	jwk_free(victim->key);
	snprintf(victim->client_id, sizeof(victim->client_id), "%s", id);
	memcpy(victim->hash, h, sizeof(h));
	victim->key = k;
	victim->used = ++assertion_cache_clock;
	*out = k;
	return MFA_OK;
}

/*
 * The keys that may verify "c"'s assertions: its registered public keys
 * (borrowed from the cache), or for client_secret_jwt its unsealed secret
 * as an HS256 key (then "*owned" is set: the caller frees keys[0]).
 */
static int
client_assertion_keys(const struct mfa_ctx *ctx, const struct client_rec *c,
    struct jwk_key **keys, size_t *n, bool *owned)
{
	unsigned char secret[RECORD_SECRET_MAX];
	char ad[32 + MFA_CLIENT_ID_MAX];
	size_t len, i;
	int rc = MFA_OK;

	*n = 0;
	*owned = false;
	if (c->auth == CLIENT_AUTH_SECRET_JWT) {
		snprintf(ad, sizeof(ad), "client_secret:%s", c->id);
		rc = keys_open(ctx->keys, ad, c->secret_sealed, secret,
		    sizeof(secret), &len);
		if (rc == MFA_OK && (rc = jwk_hmac_new(secret, len, NULL,
		    &keys[0])) == MFA_OK) {
			keys[0]->alg = (enum jwk_alg)c->alg;
			*n = 1;
			*owned = true;
		}
		sodium_memzero(secret, sizeof(secret));
		return rc;
	}
	for (i = 0; i < RECORD_KEYS_MAX && rc == MFA_OK; i++) {
		if (c->keys[i][0] == '\0')
			continue;
		rc = client_assertion_cached_key(c->id, c->keys[i], &keys[*n]);
		if (rc == MFA_OK)
			(*n)++;
	}
	if (rc != MFA_OK)
		*n = 0;
	return rc;
}

/* The accepted audiences: the issuer with and without its trailing slash,
 * and in legacy mode this endpoint's URL. */
static size_t
client_assertion_audiences(const struct mfa_ctx *ctx,
    const struct mfa_req *req, char bufs[3][1024], const char *aud[3])
{
	const char *iss = ctx->cfg->issuer;
	size_t n = strlen(iss);

	while (n > 0 && iss[n - 1] == '/')
		n--;
	/* issuer <= 255 and path <= REQ_PATH_MAX bytes: all fit */
	snprintf(bufs[0], 1024, "%.*s", (int)n, iss);
	snprintf(bufs[1], 1024, "%.*s/", (int)n, iss);
	aud[0] = bufs[0];
	aud[1] = bufs[1];
	if (ctx->cfg->assertion_audience != CONFIG_AUDIENCE_LEGACY ||
	    (size_t)snprintf(bufs[2], 1024, "%.*s%s", (int)n, iss,
	    req->path) >= 1024)
		return 2;
	aud[2] = bufs[2];
	return 3;
}

/*
 * Until when a jti is kept, in ms: exp plus the largest skew any
 * configuration allows, not the current one, so that a reload raising
 * assertion_skew cannot make an assertion recorded before it usable again
 * (checklist F7: single use for as long as it is accepted).
 */
static mfa_ms
client_assertion_jti_keep(const struct jwt_claims *claims)
{
	return (claims->exp + CFG_ASSERTION_SKEW_MAX) * 1000;
}

/*
 * A failure that depends on the client's registration (it exists, how it
 * authenticates, its keys and their algorithm): logged as "why", answered
 * as a signature that does not verify, so that the answer does not tell
 * an unknown client from a known one (checklist F17, E7).
 */
static void
client_assertion_hide(struct ca_detail *d, const char *why)
{
	d->why = why;
	d->said = jwt_verdict_str(JWT_SIG);
}

/* Signature and claims of "t" for client "c"; sets "*claims" on CA_OK. */
static enum client_auth_verdict
client_assertion_check(const struct mfa_ctx *ctx, const struct mfa_req *req,
    const struct jwt *t, const struct client_rec *c,
    struct jwt_claims *claims, struct ca_detail *d)
{
	struct jwk_key *keys[RECORD_KEYS_MAX];
	struct jwt_policy p;
	char bufs[3][1024];
	const char *aud[3];
	enum jwt_verdict v;
	size_t n;
	bool owned;
	int rc;

	if ((rc = client_assertion_keys(ctx, c, keys, &n, &owned)) != MFA_OK) {
		log_error("client %s: stored key material is unusable (%s)",
		    c->id, mfa_strerror(rc));
		client_assertion_hide(d,
		    "the client's registered keys are unusable");
		return CA_INVALID;
	}
	v = jwt_verify(t, keys, n, NULL);
	if (owned)
		jwk_free(keys[0]);
	if (v != JWT_OK && v != JWT_ERROR) {
		client_assertion_hide(d, jwt_verdict_str(v));
		return CA_INVALID;
	}
	if (v == JWT_OK) {
		memset(&p, 0, sizeof(p));
		p.client_id = c->id;
		p.naudiences = client_assertion_audiences(ctx, req, bufs, aud);
		p.audiences = aud;
		p.aud_array = ctx->cfg->assertion_audience ==
		    CONFIG_AUDIENCE_LEGACY;
		p.now = ctx->now / 1000;
		p.max_lifetime = ctx->cfg->assertion_lifetime;
		p.skew = ctx->cfg->assertion_skew;
		v = jwt_claims_check(t->payload, &p, claims);
	}
	if (v == JWT_OK)
		return CA_OK;
	if (v == JWT_ERROR) {
		d->err = MFA_ERR_NOMEM;
		return CA_ERROR;
	}
	d->why = jwt_verdict_str(v);
	return CA_INVALID;
}

enum client_auth_verdict
client_assertion_run(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct client_rec *client, struct ca_detail *d)
{
	const char *a = req_get(req, F_CLIENT_ASSERTION), *sub, *body_id;
	enum client_auth_verdict cv = CA_INVALID;
	struct jwt_claims claims;
	enum jwt_verdict v;
	struct jwt t;
	int rc;

	if (a == NULL)
		return CA_NO_CREDENTIALS;
	memset(&t, 0, sizeof(t));
	if ((v = jwt_parse(a, strlen(a), ctx->cfg->assertion_max_len, &t)) !=
	    JWT_OK) {
		d->why = jwt_verdict_str(v);
		cv = v == JWT_ERROR ? CA_ERROR : CA_INVALID;
		d->err = MFA_ERR_NOMEM;
		goto out;
	}
	if ((sub = jwt_unverified_sub(&t)) == NULL) {
		d->why = jwt_verdict_str(JWT_SUB_MISSING);
		goto out;
	}
	body_id = req_get(req, F_CLIENT_ID);
	if (body_id != NULL && strcmp(body_id, sub) != 0) { /* public */
		d->why = "client_id does not match the assertion's sub";
		goto out;
	}
	rc = store_client_get(txn, sub, client);
	if (rc == MFA_ERR_NOTFOUND) {
		client_assertion_hide(d, "unknown client");
		goto out;
	}
	if (rc != MFA_OK) {
		d->err = rc;
		cv = CA_ERROR;
		goto out;
	}
	if (client->auth != CLIENT_AUTH_PRIVATE_KEY_JWT &&
	    client->auth != CLIENT_AUTH_SECRET_JWT) {
		client_assertion_hide(d,
		    "the client is not registered for client assertions");
		goto out;
	}
	if ((cv = client_assertion_check(ctx, req, &t, client, &claims, d)) !=
	    CA_OK)
		goto out;
	if (d->defer != NULL) {
		/* the endpoint records it with its own write (client_auth.h) */
		d->defer->set = true;
		snprintf(d->defer->client_id, sizeof(d->defer->client_id),
		    "%s", claims.client_id);
		snprintf(d->defer->jti, sizeof(d->defer->jti), "%s",
		    claims.jti);
		d->defer->exp = client_assertion_jti_keep(&claims);
		goto out;
	}
	rc = store_jti_use(ctx->store, claims.client_id, claims.jti,
	    client_assertion_jti_keep(&claims));
	if (rc == MFA_ERR_EXISTS) {
		log_warn("client %s: replayed client assertion", client->id);
		d->why = CLIENT_AUTH_REPLAY;
		cv = CA_INVALID;
	} else if (rc != MFA_OK) {
		d->err = rc;
		cv = CA_ERROR;
	}
out:
	jwt_free(&t);
	if (cv != CA_OK)
		memset(client, 0, sizeof(*client));
	return cv;
}
