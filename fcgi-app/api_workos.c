/*
 * api_workos.c -- WorkOS-compatible verification of a stored challenge:
 * POST /auth/challenges/{id}/verify with "code".
 *
 * Authenticated like a WorkOS API key: "Authorization: Bearer <client
 * secret>" of the client that created the challenge. Answers in WorkOS's
 * shapes: 201 {"challenge": <authentication_challenge>, "valid": bool};
 * 422 authentication_challenge_expired / _previously_verified; 400
 * one_time_code_too_many_attempts; 404 entity_not_found. The check itself
 * is the same as the Auth0 grants' (verify.c), in one write transaction.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bearer.h"
#include "challenge.h"
#include "client_auth.h"
#include "lifecycle.h"
#include "log.h"
#include "verify.h"
#include "workos.h"

#define WORKOS_PREFIX "/auth/challenges/"
#define WORKOS_SUFFIX "/verify"

/* The challenge id in the path; false when it is not one. */
static bool
workos_path_id(const char *path, char id[MFA_CHALLENGE_ID_MAX + 1])
{
	size_t p = strlen(WORKOS_PREFIX), s = strlen(WORKOS_SUFFIX);
	size_t n = strlen(path);

	if (n <= p + s || n - p - s > MFA_CHALLENGE_ID_MAX)
		return false;
	memcpy(id, path + p, n - p - s);
	id[n - p - s] = '\0';
	return ids_is_challenge(id);
}

void
workos_unauthorized(const struct mfa_ctx *ctx, struct mfa_resp *resp,
    bool invalid)
{
	resp_message(resp, 401, "unauthorized", invalid ?
	    "The API key is not valid for this challenge" :
	    "Send the client secret as Authorization: Bearer");
	snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
	    invalid ? "Bearer realm=\"%s\", error=\"invalid_token\"" :
	    "Bearer realm=\"%s\"", ctx->cfg->realm);
}

bool
workos_bearer(const struct mfa_ctx *ctx, const struct mfa_req *req,
    char secret[WORKOS_SECRET_MAX + 1], struct mfa_resp *resp)
{
	switch (bearer_parse(req->authorization, secret,
	    WORKOS_SECRET_MAX + 1)) {
	case BEARER_OK:
		return true;
	case BEARER_ABSENT:
		workos_unauthorized(ctx, resp, false);
		return false;
	default:
		workos_unauthorized(ctx, resp, true);
		return false;
	}
}

/* Checks "code" against challenge "c"; the verdict for the lifecycle. */
static int
workos_check(struct mfa_ctx *ctx, struct store_txn *txn,
    const struct challenge_rec *c, const char *code, enum lc_event *ev)
{
	struct authn_rec a;
	enum totp_verdict v;
	int rc;

	/* a deleted factor's challenges verify no more */
	if ((rc = store_authn_get(txn, c->factor_id, &a)) != MFA_OK)
		return rc;
	if (c->type == CT_OOB) {
		*ev = verify_binding(ctx, c, code) ? LC_CODE_OK : LC_CODE_BAD;
		sodium_memzero(&a, sizeof(a));
		return MFA_OK;
	}
	v = verify_totp(ctx, &a, code);
	if (v == TOTP_ERROR)
		rc = MFA_ERR_CRYPTO;
	else if (v == TOTP_OK)
		rc = store_authn_put(txn, &a);
	*ev = v == TOTP_OK ? LC_CODE_OK : LC_CODE_BAD;
	sodium_memzero(&a, sizeof(a));
	return rc;
}

/* The answer for a challenge that can no longer be verified. */
static void
workos_terminal(struct mfa_resp *resp, const char *id, enum lc_verdict v)
{
	if (v == LC_ALREADY_VERIFIED)
		resp_message(resp, 422,
		    "authentication_challenge_previously_verified",
		    "The authentication challenge '%s' has already been "
		    "verified.", id);
	else if (v == LC_EXPIRED)
		resp_message(resp, 422, "authentication_challenge_expired",
		    "The authentication challenge '%s' has expired.", id);
	else
		resp_message(resp, 400, "one_time_code_too_many_attempts",
		    "Too many failed codes. Wait for some minutes before "
		    "retrying.");
}

/* The decision inside "txn"; false leaves "resp" set and nothing to save
 * but what was put. */
static int
workos_step(struct mfa_ctx *ctx, struct store_txn *txn, const char *id,
    const char *secret, const char *code, struct mfa_resp *resp)
{
	char key[8 + MFA_AUTHN_ID_MAX];
	struct client_rec client;
	struct verify_bucket vb;
	struct challenge_rec c;
	struct ca_detail d = { MFA_OK, NULL, NULL, NULL };
	struct lc_result r;
	enum lc_event ev;
	bool empty;
	int rc;

	if ((rc = store_challenge_get(txn, id, &c)) == MFA_ERR_NOTFOUND) {
		resp_message(resp, 404, "entity_not_found",
		    "Authentication challenge not found: '%s'", id);
		return MFA_OK;
	}
	if (rc != MFA_OK)
		return rc;
	switch (client_auth_secret(ctx, txn, c.client_id, secret, &client,
	    &d)) {
	case CA_OK:
		break;
	case CA_ERROR:
		return d.err;
	default:
		workos_unauthorized(ctx, resp, true);
		return MFA_OK;
	}
	r = lifecycle_step(c.state, c.expires_at, ctx->now, c.attempts,
	    ctx->cfg->challenge_max_attempts, LC_POLL);
	if (r.verdict != LC_PENDING) {
		workos_terminal(resp, id, r.verdict);
		goto save;
	}
	snprintf(key, sizeof(key), STORE_FAIL_PREFIX "%s", c.factor_id);
	if ((rc = verify_bucket_load(ctx, txn, key, &vb, &empty)) != MFA_OK)
		return rc;
	if (empty) {
		workos_terminal(resp, id, LC_LOCKED);
		return MFA_OK;
	}
	if ((rc = workos_check(ctx, txn, &c, code, &ev)) ==
	    MFA_ERR_NOTFOUND) {
		resp_message(resp, 404, "entity_not_found",
		    "Authentication factor not found: '%s'", c.factor_id);
		return MFA_OK;
	}
	if (rc != MFA_OK)
		return rc;
	r = lifecycle_step(c.state, c.expires_at, ctx->now, c.attempts,
	    ctx->cfg->challenge_max_attempts, ev);
	if (ev == LC_CODE_BAD && (rc = verify_bucket_fail(ctx, txn,
	    c.user_id, &vb)) != MFA_OK)
		return rc;
save:
	if (r.state != c.state || r.attempts != c.attempts) {
		c.state = r.state;
		c.attempts = r.attempts;
		c.updated_at = ctx->now;
		if ((rc = store_challenge_put(txn, &c, false)) != MFA_OK)
			return rc;
	}
	if (r.verdict == LC_VERIFIED || r.verdict == LC_WRONG_CODE ||
	    r.verdict == LC_LOCKED_NOW)
		resp_json(resp, 201, json_pack("{s:o, s:b}", "challenge",
		    challenge_to_json(&c, false), "valid",
		    r.verdict == LC_VERIFIED));
	return MFA_OK;
}

/*
 * A wrong API key for a challenge the store holds is answered in a read
 * transaction, so that a flood of them never takes the writer lock that
 * every worker's verifications share. True when the request may go on to
 * workos_step, which decides under the lock (an id not found here may
 * name a challenge still in the queue of new ones, which only a write
 * transaction takes in; the key is checked again there too); false with
 * "resp" set.
 */
static bool
workos_precheck(struct mfa_ctx *ctx, const char *id, const char *secret,
    struct mfa_resp *resp)
{
	struct ca_detail d = { MFA_OK, NULL, NULL, NULL };
	struct client_rec client;
	struct challenge_rec c;
	struct store_txn *txn;
	enum client_auth_verdict v = CA_ERROR;
	int rc;

	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return false;
	}
	rc = store_challenge_get(txn, id, &c);
	if (rc == MFA_OK)
		v = client_auth_secret(ctx, txn, c.client_id, secret, &client,
		    &d);
	store_txn_abort(txn);
	sodium_memzero(&client, sizeof(client));
	if (rc == MFA_ERR_NOTFOUND)
		return true;
	if (rc != MFA_OK || v == CA_ERROR)
		resp_internal(resp, rc != MFA_OK ? rc : d.err);
	else if (v != CA_OK)
		workos_unauthorized(ctx, resp, true);
	return rc == MFA_OK && v == CA_OK;
}

void
api_workos_verify(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	char id[MFA_CHALLENGE_ID_MAX + 1], secret[WORKOS_SECRET_MAX + 1];
	const char *code = req_get(req, F_CODE);
	struct store_txn *txn;
	int rc;

	if (!workos_path_id(req->path, id)) {
		resp_message(resp, 404, "entity_not_found",
		    "Authentication challenge not found");
		return;
	}
	if (!workos_bearer(ctx, req, secret, resp))
		return;
	if (code == NULL) {
		resp_message(resp, 422, "invalid_request_parameters",
		    "code is required");
		goto out;
	}
	if (!workos_precheck(ctx, id, secret, resp))
		goto out;
	if ((rc = store_txn_begin(ctx->store, true, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	rc = workos_step(ctx, txn, id, secret, code, resp);
	if (rc == MFA_OK)
		rc = store_txn_commit_deferred(txn);
	else
		store_txn_abort(txn);
	if (rc != MFA_OK)
		resp_internal(resp, rc);
out:
	sodium_memzero(secret, sizeof(secret));
}
