/*
 * principal.c -- the caller of a Bearer-protected endpoint (principal.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "access.h"
#include "bearer.h"
#include "principal.h"
#include "result.h"
#include "signing.h"
#include "token.h"

/* 401/403 with a Bearer challenge carrying "error" (NULL: none). */
static void
principal_challenge(const struct mfa_ctx *ctx, struct mfa_resp *resp,
    int status, const char *error, const char *extra, const char *desc)
{
	resp_error(resp, status, error != NULL ? error : "unauthorized", "%s",
	    desc);
	if (error == NULL)
		snprintf(resp->www_authenticate,
		    sizeof(resp->www_authenticate), "Bearer realm=\"%s\"",
		    ctx->cfg->realm);
	else
		snprintf(resp->www_authenticate,
		    sizeof(resp->www_authenticate), "Bearer realm=\"%s\", "
		    "error=\"%s\", error_description=\"%s\"%s", ctx->cfg->realm,
		    error, desc, extra != NULL ? extra : "");
}

/* The mfa_token path: a handle in the tokens table, not expired. */
static bool
principal_mfa_token(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *token, struct principal *p, struct mfa_resp *resp)
{
	struct token_rec rec;
	enum sel_token ts;
	int err;

	/* no client to bind to here: the token names its own */
	ts = token_check(txn, ctx->keys, token, NULL, ctx->now, &rec,
	    p->token_hash, &err);
	if (err != MFA_OK) {
		resp_internal(resp, err);
		return false;
	}
	if (ts != SEL_TOKEN_OK) {
		principal_challenge(ctx, resp, 401, "invalid_token", NULL,
		    ts == SEL_TOKEN_EXPIRED ? "The mfa_token is expired" :
		    "The token is not valid");
		return false;
	}
	p->kind = PRINCIPAL_MFA_TOKEN;
	memcpy(p->user_id, rec.user_id, sizeof(p->user_id));
	memcpy(p->client_id, rec.client_id, sizeof(p->client_id));
	return true;
}

bool
principal_resolve(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct principal *p, struct mfa_resp *resp)
{
	char token[ACCESS_TOKEN_MAX + 1];
	struct access_token at;
	const char *why;
	bool ok = false;
	int err;

	memset(p, 0, sizeof(*p));
	switch (bearer_parse(req->authorization, token, sizeof(token))) {
	case BEARER_OK:
		break;
	case BEARER_ABSENT:
		principal_challenge(ctx, resp, 401, NULL, NULL,
		    "Send the mfa_token or an access token as Authorization: "
		    "Bearer");
		return false;
	default:
		principal_challenge(ctx, resp, 401, "invalid_token", NULL,
		    "The token is not valid");
		return false;
	}
	if (!access_is_jwt(token)) {
		ok = principal_mfa_token(ctx, txn, token, p, resp);
		goto out;
	}
	switch (access_check(ctx, txn, token, &at, &why, &err)) {
	case ACCESS_OK:
		p->kind = PRINCIPAL_ACCESS;
		memcpy(p->user_id, at.user_id, sizeof(p->user_id));
		memcpy(p->client_id, at.client_id, sizeof(p->client_id));
		memcpy(p->scope, at.scope, sizeof(p->scope));
		ok = true;
		break;
	case ACCESS_INVALID:
		principal_challenge(ctx, resp, 401, "invalid_token", NULL, why);
		break;
	default:
		resp_internal(resp, err);
		break;
	}
out:
	sodium_memzero(token, sizeof(token));
	return ok;
}

bool
principal_allows(const struct mfa_ctx *ctx, const struct principal *p,
    const char *scope, bool mfa_token_ok, struct mfa_resp *resp)
{
	char extra[160];

	if (p->kind == PRINCIPAL_MFA_TOKEN) {
		if (mfa_token_ok)
			return true;
		snprintf(extra, sizeof(extra), ", acr_values=\"%s\"",
		    SIGNING_ACR);
		principal_challenge(ctx, resp, 401,
		    "insufficient_user_authentication", extra,
		    "Complete MFA and use an access token for the MFA API");
		return false;
	}
	if (result_scope_has(p->scope, scope))
		return true;
	snprintf(extra, sizeof(extra), ", scope=\"%s\"", scope);
	principal_challenge(ctx, resp, 403, "insufficient_scope", extra,
	    "The access token lacks the required scope");
	return false;
}
