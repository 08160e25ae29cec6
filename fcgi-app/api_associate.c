/*
 * api_associate.c -- POST /mfa/associate: Auth0's enrollment of a new
 * authenticator through the API.
 *
 * load: one read transaction resolves the Bearer token (principal.h) and
 * authenticates the client (credentials in the body, or none for a public
 * client whose token it is). step + save: one write transaction checks
 * Auth0's token rule (an mfa_token only while the user has no active
 * authenticator; afterwards an access token with scope "enroll"), stores
 * the new authenticator inactive until its first verification, a recovery
 * code on a first enrollment, and for oob the confirming challenge; it is
 * synced before the answer. The oob binding code reaches the spool only
 * after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "challenge.h"
#include "client_auth.h"
#include "deliver.h"
#include "enroll.h"
#include "log.h"
#include "principal.h"
#include "qr.h"
#include "totp.h"

#define ASSOC_URI_MAX 1024

struct assoc {
	struct mfa_ctx *ctx;
	const struct mfa_req *req;
	struct mfa_resp *resp;
	struct principal who;
	struct authn_rec a;
	char b32[ENROLL_B32_MAX];
	char codes[1][RECOVERY_LEN + 1]; /* "" when none were made */
	struct challenge_rec c;
	struct deliver d;
	bool send_limited; /* the channel's send bucket was empty */
};

/* The client: credentials in the body, or a public client's token. */
static bool
assoc_client(struct assoc *s, struct store_txn *txn)
{
	const struct mfa_req *req = s->req;
	const char *id = req_get(req, F_CLIENT_ID);
	struct client_rec client;
	int rc;

	if (req_get(req, F_CLIENT_SECRET) != NULL ||
	    client_assertion_present(req)) {
		if (client_auth_run(s->ctx, req, txn, &client, s->resp) !=
		    CA_OK)
			return false;
		id = client.id;
	} else {
		rc = store_client_get(txn, s->who.client_id, &client);
		if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND) {
			resp_internal(s->resp, rc);
			return false;
		}
		if (rc == MFA_ERR_NOTFOUND || client.auth != CLIENT_AUTH_NONE) {
			resp_error(s->resp, 401, "invalid_client",
			    "Client authentication is required: send "
			    "client_secret or client_assertion (only a "
			    "public client relies on the Bearer token alone)");
			return false;
		}
	}
	if (id != NULL && strcmp(id, s->who.client_id) != 0) { /* public */
		resp_error(s->resp, 400, "invalid_request",
		    "The token was not issued to this client");
		return false;
	}
	return true;
}

/* Load phase: the Bearer token and the client. */
static bool
assoc_load(struct assoc *s)
{
	struct store_txn *txn;
	bool ok;
	int rc;

	if ((rc = store_txn_begin(s->ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(s->resp, rc);
		return false;
	}
	ok = principal_resolve(s->ctx, s->req, txn, &s->who, s->resp) &&
	    principal_allows(s->ctx, &s->who, "enroll", true, s->resp) &&
	    assoc_client(s, txn);
	store_txn_abort(txn);
	return ok;
}

/* A required parameter; answers 400 when it is absent. */
static const char *
assoc_param(struct assoc *s, enum req_field f)
{
	const char *v = req_get(s->req, f);

	if (v == NULL)
		resp_error(s->resp, 400, "invalid_request",
		    "Missing required parameter: %s", req_field_spec(f)->name);
	return v;
}

/* The oob channel and destination of the request into s->a. */
static bool
assoc_oob(struct assoc *s)
{
	const char *ch = req_get(s->req, F_OOB_CHANNELS), *to;
	enum oob_channel channel;
	enum req_field f;

	if (ch == NULL)
		ch = req_get(s->req, F_OOB_CHANNEL);
	if (ch == NULL) {
		resp_error(s->resp, 400, "invalid_request",
		    "Missing required parameter: oob_channels");
		return false;
	}
	if (record_channel_parse(ch, &channel) != MFA_OK) {
		resp_error(s->resp, 400, "invalid_request", "oob_channels must "
		    "be one of \"sms\", \"voice\" or \"email\"");
		return false;
	}
	f = channel == CHANNEL_EMAIL ? F_EMAIL : F_PHONE_NUMBER;
	if ((to = assoc_param(s, f)) == NULL)
		return false;
	if (enroll_oob(&s->a, channel, to) != MFA_OK) {
		resp_error(s->resp, 400, "invalid_request", f == F_EMAIL ?
		    "email is not a valid e-mail address" :
		    "phone_number must be in E.164 format (+ and 8 to 15 "
		    "digits)");
		return false;
	}
	return true;
}

/* The new authenticator of the request, not yet stored. */
static bool
assoc_parse(struct assoc *s)
{
	const char *t = assoc_param(s, F_AUTHENTICATOR_TYPES);
	int rc;

	if (t == NULL)
		return false;
	enroll_begin(&s->a, s->who.user_id, s->ctx->now,
	    s->ctx->cfg->enroll_ttl);
	/* an mfa_token's enrollment is confirmed by that token only */
	if (s->who.kind == PRINCIPAL_MFA_TOKEN)
		memcpy(s->a.enroll_token, s->who.token_hash,
		    sizeof(s->a.enroll_token));
	if (strcmp(t, "oob") == 0)
		return assoc_oob(s);
	if (strcmp(t, "otp") != 0) {
		resp_error(s->resp, 400, "invalid_request",
		    "authenticator_types must be [\"otp\"] or [\"oob\"]");
		return false;
	}
	if ((rc = enroll_otp(&s->a, s->ctx->keys, NULL, 0, s->b32)) !=
	    MFA_OK) {
		resp_internal(s->resp, rc);
		return false;
	}
	return true;
}

/* The writes of the step; MFA_OK or a store error (resp unset). */
static int
assoc_write(struct assoc *s, struct store_txn *txn, bool first)
{
	static const unsigned char none[MFA_HASH_BYTES];
	int rc;

	if ((rc = enroll_save(txn, &s->a, s->ctx->now)) != MFA_OK)
		return rc;
	if (first && (rc = enroll_recovery(txn, s->ctx->keys, s->a.user_id,
	    s->codes, 1)) != MFA_OK)
		return rc;
	if (s->a.type != AUTHN_OOB)
		return MFA_OK;
	/* the challenge that confirms it: bound to the mfa_token, or to
	 * the user and client when enrolled with an access token */
	challenge_init(&s->c, CT_OOB, s->who.client_id, s->a.user_id,
	    s->a.id, s->who.kind == PRINCIPAL_MFA_TOKEN ? s->who.token_hash :
	    none, s->ctx->now, s->ctx->cfg->oob_ttl,
	    s->ctx->cfg->otp_challenge_ttl);
	if ((rc = deliver_prepare(s->ctx, &s->c, &s->a, NULL, &s->d)) !=
	    MFA_OK)
		return rc;
	if ((rc = deliver_take(s->ctx, txn, &s->c, &s->a, &s->d)) != MFA_OK) {
		s->send_limited = rc == MFA_ERR_LIMIT;
		return rc;
	}
	return store_challenge_put(txn, &s->c, true);
}

/* Step + save: the token rule, then the writes, in one transaction. */
static bool
assoc_step(struct assoc *s)
{
	struct store_txn *txn = NULL;
	bool active;
	int rc;

	if ((rc = store_txn_begin(s->ctx->store, true, &txn)) != MFA_OK)
		goto fail;
	if ((rc = enroll_has_active(txn, s->a.user_id, &active)) != MFA_OK)
		goto fail;
	if (active && s->who.kind == PRINCIPAL_MFA_TOKEN) {
		store_txn_abort(txn);
		resp_error(s->resp, 403, "access_denied",
		    "User is already enrolled");
		return false;
	}
	if ((rc = assoc_write(s, txn, !active)) != MFA_OK)
		goto fail;
	rc = store_txn_commit(txn);
	txn = NULL;
	if (rc == MFA_OK)
		return true;
fail:
	store_txn_abort(txn);
	deliver_discard(&s->d);
	if (s->send_limited)
		deliver_limited(s->resp, &s->a);
	else if (rc == MFA_ERR_LIMIT)
		resp_error(s->resp, 400, "invalid_request", "The user has "
		    "too many authenticators; remove one first");
	else
		resp_internal(s->resp, rc);
	return false;
}

/* The 200 answer for an otp enrollment. */
static json_t *
assoc_otp_body(struct assoc *s)
{
	char uri[ASSOC_URI_MAX];
	char *png = NULL;
	json_t *o = NULL;

	if (totp_uri(uri, sizeof(uri), s->ctx->cfg->totp_issuer,
	    s->a.user_id, s->b32, s->a.alg, s->a.digits, s->a.period) ==
	    MFA_OK && (png = qr_data_uri(uri)) != NULL)
		o = json_pack("{s:s, s:s, s:s, s:s}", "authenticator_type",
		    "otp", "secret", s->b32, "barcode_uri", uri, "barcode",
		    png);
	sodium_memzero(uri, sizeof(uri));
	if (png != NULL)
		sodium_memzero(png, strlen(png));
	free(png);
	return o;
}

/* Answers the stored enrollment. */
static void
assoc_answer(struct assoc *s)
{
	json_t *o;

	if (s->a.type == AUTHN_OTP)
		o = assoc_otp_body(s);
	else
		o = json_pack("{s:s, s:s, s:s, s:s}", "authenticator_type",
		    "oob", "oob_channel", record_channel_name(s->a.channel),
		    "oob_code", s->d.oob_code, "binding_method", "prompt");
	if (o != NULL && s->codes[0][0] != '\0')
		json_object_set_new(o, "recovery_codes",
		    json_pack("[s]", s->codes[0]));
	if (o == NULL) {
		resp_internal(s->resp, MFA_ERR_NOMEM);
		return;
	}
	log_info("user %s enrolled %s (unconfirmed) via client %s",
	    s->a.user_id, s->a.id, s->who.client_id);
	resp_json(s->resp, 200, o);
}

void
api_associate(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct assoc s;

	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.req = req;
	s.resp = resp;
	if (!assoc_load(&s) || !assoc_parse(&s) || !assoc_step(&s))
		goto out;
	assoc_answer(&s);
out:
	deliver_discard(&s.d);
	sodium_memzero(&s, sizeof(s));
}
