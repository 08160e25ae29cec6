/*
 * api_authenticators.c -- Auth0's authenticator management:
 *
 *   GET /mfa/authenticators          Bearer mfa_token, or an access token
 *                                    with scope read:authenticators
 *   DELETE /mfa/authenticators/{id}  Bearer access token with scope
 *                                    remove:authenticators (an mfa_token
 *                                    is refused: RFC 9470)
 *
 * The list shows the user's live authenticators (active ones, and
 * unconfirmed ones until they expire) with masked destinations, and the
 * user's recovery codes as one "recovery-code" authenticator. Deleting
 * the recovery-code authenticator drops every recovery code. A delete is
 * synced before the 204.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "enroll.h"
#include "log.h"
#include "mask.h"
#include "principal.h"

#define AUTHN_PREFIX "/mfa/authenticators/"

/* One entry of the list. */
static json_t *
authenticators_entry(const struct authn_rec *a)
{
	char name[MFA_DEST_MAX + 1];
	const char *ch;
	json_t *o;

	o = json_pack("{s:s, s:s, s:b}", "id", a->id, "authenticator_type",
	    record_authn_type_name(a->type), "active", a->active);
	if (o == NULL || a->type != AUTHN_OOB)
		return o;
	if (a->channel == CHANNEL_EMAIL)
		mask_email(a->to, name, sizeof(name));
	else
		mask_phone(a->to, name, sizeof(name));
	ch = record_channel_name(a->channel);
	if (json_object_set_new(o, "oob_channel", json_string(ch)) != 0 ||
	    json_object_set_new(o, "oob_channels", json_pack("[s]", ch)) !=
	    0 || json_object_set_new(o, "name", json_string(name)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The user's list as a JSON array; MFA_OK or a store error. */
static int
authenticators_json(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *user_id, json_t **out)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	char rid[MFA_AUTHN_ID_MAX + 1];
	json_t *list = json_array();
	size_t n = 0, i, codes = 0;
	int rc = list == NULL ? MFA_ERR_NOMEM : MFA_OK;

	if (rc == MFA_OK)
		rc = enroll_list(txn, user_id, a, &n);
	if (rc == MFA_OK)
		rc = store_recovery_count(txn, user_id, &codes);
	enroll_keep_live(a, &n, ctx->now);
	for (i = 0; rc == MFA_OK && i < n; i++)
		if (json_array_append_new(list, authenticators_entry(&a[i])) !=
		    0)
			rc = MFA_ERR_NOMEM;
	if (rc == MFA_OK && codes > 0) {
		enroll_recovery_id(ctx->keys, user_id, rid);
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:b}",
		    "id", rid, "authenticator_type", "recovery-code", "active",
		    1)) != 0)
			rc = MFA_ERR_NOMEM;
	}
	sodium_memzero(a, sizeof(a));
	if (rc != MFA_OK) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return MFA_OK;
}

void
api_authenticators_list(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct principal who;
	struct store_txn *txn;
	json_t *list = NULL;
	int rc;

	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return;
	}
	if (principal_resolve(ctx, req, txn, &who, resp) &&
	    principal_allows(ctx, &who, "read:authenticators", true, resp)) {
		if ((rc = authenticators_json(ctx, txn, who.user_id, &list)) ==
		    MFA_OK)
			resp_json(resp, 200, list);
		else
			resp_internal(resp, rc);
	}
	store_txn_abort(txn);
	sodium_memzero(&who, sizeof(who));
}

/* Deletes "id" of "user_id" in "txn"; MFA_ERR_NOTFOUND when it is not
 * one of the user's. */
static int
authenticators_remove(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *user_id, const char *id)
{
	char rid[MFA_AUTHN_ID_MAX + 1];
	struct authn_rec a;
	size_t codes;
	int rc;

	enroll_recovery_id(ctx->keys, user_id, rid);
	if (strcmp(id, rid) == 0) { /* public */
		if ((rc = store_recovery_count(txn, user_id, &codes)) !=
		    MFA_OK)
			return rc;
		return codes == 0 ? MFA_ERR_NOTFOUND :
		    store_recovery_clear(txn, user_id);
	}
	rc = store_authn_get(txn, id, &a);
	if (rc == MFA_OK && (strcmp(a.user_id, user_id) != 0 || /* public */
	    a.client_id[0] != '\0' || !enroll_is_live(&a, ctx->now)))
		rc = MFA_ERR_NOTFOUND;
	sodium_memzero(&a, sizeof(a));
	return rc == MFA_OK ? store_authn_del(txn, id) : rc;
}

void
api_authenticators_delete(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	char id[MFA_AUTHN_ID_MAX + 1];
	struct principal who;
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(ctx->store, true, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return;
	}
	if (!principal_resolve(ctx, req, txn, &who, resp) ||
	    !principal_allows(ctx, &who, "remove:authenticators", false,
	    resp))
		goto out;
	if (!router_path_id(req->path, AUTHN_PREFIX, "", id, sizeof(id)))
		rc = MFA_ERR_NOTFOUND;
	else
		rc = authenticators_remove(ctx, txn, who.user_id, id);
	if (rc == MFA_OK) {
		rc = store_txn_commit_deferred(txn);
		txn = NULL;
	}
	if (rc == MFA_ERR_NOTFOUND) {
		resp_error(resp, 404, "not_found", "Authenticator not found");
	} else if (rc != MFA_OK) {
		resp_internal(resp, rc);
	} else {
		log_info("user %s removed authenticator %s (client %s)",
		    who.user_id, id, who.client_id);
		resp_json(resp, 204, NULL);
	}
out:
	store_txn_abort(txn);
	sodium_memzero(&who, sizeof(who));
}
