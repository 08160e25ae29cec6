/*
 * verify.c -- code checks shared by the verification endpoints.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bucket.h"
#include "ids.h"
#include "log.h"
#include "verify.h"

static struct bucket_policy
verify_policy(const struct mfa_ctx *ctx)
{
	struct bucket_policy p;

	p.burst = ctx->cfg->fail_burst;
	p.refill_ms = ctx->cfg->fail_refill * 1000;
	return p;
}

int
verify_bucket_load(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *key, struct verify_bucket *vb, bool *empty)
{
	struct bucket_policy p = verify_policy(ctx);
	struct bucket probe;
	int rc;

	snprintf(vb->key, sizeof(vb->key), "%s", key);
	rc = store_bucket_get(txn, vb->key, &vb->b);
	if (rc == MFA_ERR_NOTFOUND)
		bucket_init(&vb->b, &p, ctx->now);
	else if (rc != MFA_OK)
		return rc;
	probe = vb->b;
	*empty = !bucket_take(&probe, &p, ctx->now);
	return MFA_OK;
}

int
verify_bucket_fail(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *user_id, struct verify_bucket *vb)
{
	struct bucket_policy p = verify_policy(ctx);

	if (!bucket_take(&vb->b, &p, ctx->now))
		vb->b.level = 0;
	if (vb->b.level == 0)
		log_warn("lockout: user %s, %s: failed-code limit reached",
		    user_id, vb->key);
	return store_bucket_put(txn, vb->key, &vb->b);
}

enum totp_verdict
verify_totp(const struct mfa_ctx *ctx, struct authn_rec *a, const char *code)
{
	unsigned char seed[RECORD_SECRET_MAX];
	struct totp_params p;
	enum totp_verdict v;
	char ad[16 + MFA_AUTHN_ID_MAX];
	int64_t step;
	size_t n;

	snprintf(ad, sizeof(ad), "totp:%s", a->id);
	if (keys_open(ctx->keys, ad, a->secret_sealed, seed, sizeof(seed),
	    &n) != MFA_OK) {
		log_error("authenticator %s: sealed secret does not open; "
		    "refusing", a->id);
		return TOTP_ERROR;
	}
	p.alg = (enum totp_alg)a->alg;
	p.digits = a->digits;
	p.period = a->period;
	p.window_back = ctx->cfg->otp_window_back;
	p.window_fwd = ctx->cfg->otp_window_fwd;
	v = totp_verify(&p, seed, n, code, ctx->now / 1000, a->last_step,
	    &step);
	sodium_memzero(seed, sizeof(seed));
	if (v == TOTP_OK)
		a->last_step = step;
	return v;
}

bool
verify_binding(const struct mfa_ctx *ctx, const struct challenge_rec *c,
    const char *code)
{
	unsigned char h[MFA_HASH_BYTES];
	char domain[32 + MFA_CHALLENGE_ID_MAX];
	bool ok;

	if (!c->has_oob || strlen(code) != IDS_BINDING_LEN ||
	    strspn(code, "0123456789") != IDS_BINDING_LEN)
		return false;
	snprintf(domain, sizeof(domain), "binding_code:%s", c->id);
	keys_hash(ctx->keys, domain, code, strlen(code), h);
	ok = sodium_memcmp(h, c->binding_hash, MFA_HASH_BYTES) == 0;
	sodium_memzero(h, sizeof(h));
	return ok;
}
