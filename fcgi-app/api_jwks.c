/*
 * api_jwks.c -- GET /.well-known/jwks.json: the public keys that verify
 * result tokens (the current key and retired keys whose tokens may still
 * be valid).
 */
#include "api.h"
#include "signing.h"

/* How long a retired key stays published, in seconds. */

void
api_jwks(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct store_txn *txn;
	json_t *doc = NULL;
	int rc;

	(void)req;
	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return;
	}
	rc = signing_jwks(txn, ctx->now, ctx->cfg->result_ttl, &doc);
	store_txn_abort(txn);
	if (rc != MFA_OK) {
		resp_internal(resp, rc);
		return;
	}
	resp_json(resp, 200, doc);
}
