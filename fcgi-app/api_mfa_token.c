/*
 * api_mfa_token.c -- POST /mfa/token: a confidential client that did its
 * own primary login asks for an mfa_token for "user_id" and learns what
 * the user can be challenged with (Auth0's mfa_requirements shape).
 */
#include <string.h>

#include <sodium.h>

#include "client_auth.h"
#include "enroll.h"
#include "selection.h"
#include "token.h"

/* Appends {"type": name} once. */
static void
mfa_token_add(json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "type")),
		    name) == 0) /* public */
			return;
	json_array_append_new(list, json_pack("{s:s}", "type", name));
}

/* The requirement names an authenticator answers, in a fixed order. */
static json_t *
mfa_token_requirements(const struct client_rec *client,
    const struct authn_rec *a, size_t n)
{
	json_t *list = json_array();
	size_t i;
	int pass;

	if (list == NULL)
		return NULL;
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < n; i++) {
			if (!a[i].active || (selection_type_of(a[i].type) &
			    client->types) == 0)
				continue;
			if (pass == 0 && a[i].type == AUTHN_OTP)
				mfa_token_add(list, "otp");
			else if (pass == 1 && (a[i].channel == CHANNEL_SMS ||
			    a[i].channel == CHANNEL_VOICE))
				mfa_token_add(list, "phone");
			else if (pass == 2 && a[i].channel == CHANNEL_EMAIL)
				mfa_token_add(list, "email");
		}
	if (json_array_size(list) > 0)
		return json_pack("{s:o}", "challenge", list);
	if (client->types & CT_OTP)
		mfa_token_add(list, "otp");
	if (client->types & CT_OOB) {
		mfa_token_add(list, "phone");
		mfa_token_add(list, "email");
	}
	return json_pack("{s:o}", "enroll", list);
}

void
api_mfa_token(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct authn_rec authns[STORE_AUTHN_PER_USER];
	struct client_rec client;
	struct store_txn *txn = NULL;
	char token[MFA_HANDLE_LEN + 1] = "";
	const char *user = req_get(req, F_USER_ID);
	json_t *reqs = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return;
	}
	if (client_auth_run(ctx, req, txn, &client, resp) != CA_OK)
		goto out;
	if (user == NULL) {
		resp_error(resp, 400, "invalid_request",
		    "Missing required parameter: user_id");
		goto out;
	}
	if ((rc = enroll_list(txn, user, authns, &n)) != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	store_txn_abort(txn);
	txn = NULL;
	if ((reqs = mfa_token_requirements(&client, authns, n)) == NULL) {
		resp_internal(resp, MFA_ERR_NOMEM);
		goto out;
	}
	if ((rc = store_txn_begin(ctx->store, true, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	rc = token_issue(txn, ctx->keys, client.id, user, NULL,
	    ctx->cfg->token_ttl, ctx->now, token);
	if (rc != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	rc = store_txn_commit_deferred(txn);
	txn = NULL;
	if (rc != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	resp_json(resp, 200, json_pack("{s:s, s:I, s:O}", "mfa_token", token,
	    "expires_in", (json_int_t)ctx->cfg->token_ttl, "mfa_requirements",
	    reqs));
out:
	store_txn_abort(txn);
	json_decref(reqs);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(authns, sizeof(authns));
}
