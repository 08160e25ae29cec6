/*
 * access.c -- the service's own access tokens on the MFA API (access.h).
 */
#include <string.h>

#include <sodium.h>

#include "access.h"
#include "jwt.h"
#include "result.h"
#include "signing.h"

/* The walk that finds the signing key named by the token's kid. */
struct access_find {
	const char *kid;
	size_t kidlen;
	mfa_ms oldest; /* keys retired before this signed no live token */
	struct signing_rec rec;
	bool found;
};

static int
access_find_one(void *arg, const struct signing_rec *r)
{
	struct access_find *f = arg;

	if (strlen(r->kid) != f->kidlen ||
	    memcmp(r->kid, f->kid, f->kidlen) != 0) /* public */
		return 0;
	if (r->retired_at != 0 && r->retired_at < f->oldest)
		return 0;
	f->rec = *r;
	f->found = true;
	return 1;
}

/* The public key of the token's kid; ACCESS_INVALID when there is none. */
static enum access_verdict
access_key(const struct mfa_ctx *ctx, struct store_txn *txn,
    const struct jwt *t, struct jwk_key *k, int *err)
{
	struct access_find f;
	size_t n;
	int rc;

	memset(&f, 0, sizeof(f));
	f.kid = t->kid;
	f.kidlen = t->kidlen;
	f.oldest = ctx->now - ctx->cfg->result_ttl * 1000;
	if (t->kid == NULL || t->kidlen > RECORD_KID_LEN)
		return ACCESS_INVALID;
	rc = store_signing_each(txn, access_find_one, &f);
	sodium_memzero(f.rec.seed_sealed, sizeof(f.rec.seed_sealed));
	if (rc < 0) {
		*err = rc;
		return ACCESS_ERROR;
	}
	memset(k, 0, sizeof(*k));
	k->kind = JWK_KIND_ED25519;
	k->alg = JWK_ALG_EDDSA;
	if (!f.found || sodium_base642bin(k->ed25519, sizeof(k->ed25519),
	    f.rec.public_b64, strlen(f.rec.public_b64), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(k->ed25519))
		return ACCESS_INVALID;
	return ACCESS_OK;
}

/* A string claim of 1.."max" bytes copied to "out", else false. */
static bool
access_str(const json_t *payload, const char *name, char *out, size_t max)
{
	const json_t *v = json_object_get(payload, name);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

/* The claims after the signature: issuer, expiry, audience, subject. */
static enum access_verdict
access_claims(const struct mfa_ctx *ctx, const json_t *p,
    struct access_token *out, const char **why)
{
	const json_t *aud = json_object_get(p, "aud"), *exp, *scope;
	size_t i;
	bool mfa = false;

	if (!json_is_string(json_object_get(p, "iss")) ||
	    strcmp(json_string_value(json_object_get(p, "iss")),
	    ctx->cfg->issuer) != 0) /* public */
		return (*why = "the token was not issued here", ACCESS_INVALID);
	exp = json_object_get(p, "exp");
	if (!json_is_integer(exp) ||
	    json_integer_value(exp) <= ctx->now / 1000)
		return (*why = "the token is expired", ACCESS_INVALID);
	if (!json_is_array(aud) || json_array_size(aud) < 2 ||
	    !json_is_string(json_array_get(aud, 0)))
		return (*why = "the token is not for the MFA API",
		    ACCESS_INVALID);
	for (i = 1; i < json_array_size(aud); i++)
		if (result_is_mfa_audience(ctx->cfg->issuer,
		    json_string_value(json_array_get(aud, i))))
			mfa = true;
	if (!mfa || json_string_length(json_array_get(aud, 0)) >
	    MFA_CLIENT_ID_MAX)
		return (*why = "the token is not for the MFA API",
		    ACCESS_INVALID);
	memcpy(out->client_id, json_string_value(json_array_get(aud, 0)),
	    json_string_length(json_array_get(aud, 0)) + 1);
	if (!access_str(p, "sub", out->user_id, MFA_USER_ID_MAX))
		return (*why = "the token has no subject", ACCESS_INVALID);
	scope = json_object_get(p, "scope");
	if (scope != NULL && (!json_is_string(scope) ||
	    !access_str(p, "scope", out->scope, MFA_SCOPE_MAX)))
		return (*why = "the token's scope is malformed",
		    ACCESS_INVALID);
	return ACCESS_OK;
}

bool
access_is_jwt(const char *token)
{
	const char *dot = strchr(token, '.');

	return dot != NULL && strchr(dot + 1, '.') != NULL;
}

enum access_verdict
access_check(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *token, struct access_token *out, const char **why, int *err)
{
	struct jwt t;
	struct jwk_key k, *kp = &k;
	enum access_verdict v;
	enum jwt_verdict jv;
	size_t which;

	*err = MFA_OK;
	*why = "the token is malformed";
	memset(out, 0, sizeof(*out));
	jv = jwt_parse(token, strlen(token), ACCESS_TOKEN_MAX, &t);
	if (jv == JWT_ERROR)
		return (*err = MFA_ERR_NOMEM, ACCESS_ERROR);
	if (jv != JWT_OK)
		return ACCESS_INVALID;
	if (t.alg != JWK_ALG_EDDSA) {
		v = ACCESS_INVALID;
	} else if ((v = access_key(ctx, txn, &t, &k, err)) == ACCESS_OK) {
		jv = jwt_verify(&t, &kp, 1, &which);
		if (jv == JWT_OK)
			v = access_claims(ctx, t.payload, out, why);
		else
			v = (*why = "the token's signature is not valid",
			    ACCESS_INVALID);
	} else if (v == ACCESS_INVALID) {
		*why = "the token's signing key is unknown";
	}
	jwt_free(&t);
	if (v != ACCESS_OK)
		memset(out, 0, sizeof(*out));
	return v;
}
