/*
 * api_factors.c -- WorkOS-compatible factor API, for code written against
 * WorkOS's SDKs:
 *
 *   POST   /auth/factors/enroll          type=totp (totp_issuer, totp_user)
 *                                        or type=sms (phone_number);
 *                                        optional user_id
 *   GET    /auth/factors/{id}            the factor, without secrets
 *   DELETE /auth/factors/{id}            204
 *   POST   /auth/factors/{id}/challenge  optional sms_template with
 *                                        {{code}}; 201 challenge
 *
 * The API key is a client secret (Authorization: Bearer, workos.h). A
 * factor belongs to the client that enrolled it: other clients get 404.
 * Factors are active at once (WorkOS has no confirmation step). Without
 * user_id a factor stands alone: it is its own user, and "user_id" is
 * null. Challenges are verified by POST /auth/challenges/{id}/verify
 * (api_workos.c). Errors are WorkOS-shaped: {"code", "message"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "challenge.h"
#include "client_auth.h"
#include "clock.h"
#include "deliver.h"
#include "enroll.h"
#include "log.h"
#include "mask.h"
#include "qr.h"
#include "totp.h"
#include "workos.h"

#define FACTOR_PREFIX "/auth/factors/"
#define FACTOR_URI_MAX 1024

/*
 * Authenticates the API key (the secret of a client_secret client) in a
 * read transaction of its own, before any write lock is taken. Copies
 * the client id to "client_id"; false with "resp" set.
 */
static bool
factor_client(const struct mfa_ctx *ctx, const struct mfa_req *req,
    char client_id[MFA_CLIENT_ID_MAX + 1], struct mfa_resp *resp)
{
	char secret[WORKOS_SECRET_MAX + 1];
	struct ca_detail d = { MFA_OK, NULL, NULL, NULL };
	enum client_auth_verdict v;
	struct client_rec client;
	struct store_txn *txn;
	int rc;

	if (!workos_bearer(ctx, req, secret, resp))
		return false;
	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		sodium_memzero(secret, sizeof(secret));
		resp_internal(resp, rc);
		return false;
	}
	v = client_auth_by_secret(ctx, txn, secret, &client, &d);
	store_txn_abort(txn);
	sodium_memzero(secret, sizeof(secret));
	memcpy(client_id, client.id, MFA_CLIENT_ID_MAX + 1);
	sodium_memzero(&client, sizeof(client));
	if (v == CA_OK)
		return true;
	if (v == CA_ERROR)
		resp_internal(resp, d.err);
	else
		workos_unauthorized(ctx, resp, true);
	return false;
}

/*
 * WorkOS users live in their own namespace, "wos:<client_id>:<user_id>",
 * so a WorkOS client can never add a factor to an Auth0-surface user (nor
 * to another client's users). Writes the stored form into "out"; false
 * when it does not fit.
 */
static bool
factor_user_store(const char *client_id, const char *user, char *out,
    size_t outlen)
{
	int n = snprintf(out, outlen, "wos:%s:%s", client_id, user);

	return n > 0 && (size_t)n < outlen;
}

/* The user_id a WorkOS caller sees: its own, or null for a standalone
 * factor (stored as its own user). */
static json_t *
factor_user_json(const struct authn_rec *a)
{
	const char *u = a->user_id;
	size_t n = 4 + strlen(a->client_id) + 1;

	if (strlen(u) < n || strcmp(u + n, a->id) == 0) /* public */
		return json_null();
	return json_string(u + n);
}

/* An ISO 8601 time as a JSON string. */
static json_t *
factor_time(mfa_ms t)
{
	char buf[40];

	return clock_iso8601(t, buf, sizeof(buf)) == MFA_OK ?
	    json_string(buf) : json_null();
}

/* The authentication_factor object; "secret"/"uri" only at enrollment. */
static json_t *
factor_json(const struct authn_rec *a, const char *secret, const char *uri)
{
	json_t *o, *sub;
	char *qr;

	o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "object",
	    "authentication_factor", "id", a->id, "created_at",
	    factor_time(a->created_at), "updated_at",
	    factor_time(a->created_at), "type", a->type == AUTHN_OTP ?
	    "totp" : "sms");
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "user_id", factor_user_json(a));
	if (a->type == AUTHN_OOB) {
		sub = json_pack("{s:s}", "phone_number", a->to);
		json_object_set_new(o, "sms", sub);
		return o;
	}
	sub = json_pack("{s:s, s:s}", "issuer", a->label_issuer, "user",
	    a->label_user);
	if (sub != NULL && secret != NULL && uri != NULL &&
	    (qr = qr_data_uri(uri)) != NULL) {
		json_object_set_new(sub, "secret", json_string(secret));
		json_object_set_new(sub, "qr_code", json_string(qr));
		json_object_set_new(sub, "uri", json_string(uri));
		sodium_memzero(qr, strlen(qr)); /* it encodes the secret */
		free(qr);
	} else if (secret != NULL) {
		json_decref(sub);
		sub = NULL;
	}
	if (sub == NULL || json_object_set_new(o, "totp", sub) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* 422 invalid_request_parameters "<what>". */
static bool
factor_missing(struct mfa_resp *resp, const char *what)
{
	resp_message(resp, 422, "invalid_request_parameters", "%s is required",
	    what);
	return false;
}

/* The new factor of the request into "a"; false with "resp" set. */
static bool
factor_parse(struct mfa_ctx *ctx, const struct mfa_req *req,
    const char *client_id, struct authn_rec *a, char b32[ENROLL_B32_MAX],
    struct mfa_resp *resp)
{
	const char *type = req_get(req, F_TYPE), *user = req_get(req,
	    F_USER_ID), *v, *w;
	int rc;

	if (type == NULL)
		return factor_missing(resp, "type");
	enroll_begin(a, "", ctx->now, 0);
	ids_factor(ctx->now, a->id); /* WorkOS ids for WorkOS factors */
	if (strcmp(type, "sms") == 0) {
		if ((v = req_get(req, F_PHONE_NUMBER)) == NULL)
			return factor_missing(resp, "phone_number");
		if (enroll_oob(a, CHANNEL_SMS, v) != MFA_OK) {
			resp_message(resp, 422, "invalid_phone_number",
			    "Phone number is invalid: '%s'", v);
			return false;
		}
	} else if (strcmp(type, "totp") == 0) {
		if ((v = req_get(req, F_TOTP_ISSUER)) == NULL)
			return factor_missing(resp, "totp_issuer");
		if ((w = req_get(req, F_TOTP_USER)) == NULL)
			return factor_missing(resp, "totp_user");
		if (strlen(v) >= sizeof(a->label_issuer)) {
			resp_message(resp, 422, "invalid_request_parameters",
			    "totp_issuer is longer than %zu bytes",
			    sizeof(a->label_issuer) - 1);
			return false;
		}
		if ((rc = enroll_otp(a, ctx->keys, NULL, 0, b32)) != MFA_OK) {
			resp_internal(resp, rc);
			return false;
		}
		snprintf(a->label_issuer, sizeof(a->label_issuer), "%s", v);
		snprintf(a->label_user, sizeof(a->label_user), "%s", w);
	} else {
		resp_message(resp, 422, "invalid_request_parameters",
		    "type must be \"totp\" or \"sms\"");
		return false;
	}
	/* the factor is its own user unless one was named */
	snprintf(a->client_id, sizeof(a->client_id), "%s", client_id);
	if (!factor_user_store(client_id, user != NULL ? user : a->id,
	    a->user_id, sizeof(a->user_id))) {
		resp_message(resp, 422, "invalid_request_parameters",
		    "user_id is too long");
		return false;
	}
	return true;
}

void
api_factor_enroll(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	char b32[ENROLL_B32_MAX] = "", uri[FACTOR_URI_MAX] = "";
	char client_id[MFA_CLIENT_ID_MAX + 1];
	struct store_txn *txn = NULL;
	struct authn_rec a;
	int rc;

	memset(&a, 0, sizeof(a));
	if (!factor_client(ctx, req, client_id, resp) ||
	    !factor_parse(ctx, req, client_id, &a, b32, resp))
		goto out;
	if (a.type == AUTHN_OTP && totp_uri(uri, sizeof(uri), a.label_issuer,
	    a.label_user, b32, a.alg, a.digits, a.period) != MFA_OK) {
		resp_message(resp, 422, "invalid_request_parameters",
		    "totp_issuer and totp_user do not fit an otpauth URI");
		goto out;
	}
	if ((rc = store_txn_begin(ctx->store, true, &txn)) == MFA_OK)
		rc = enroll_save(txn, &a, ctx->now);
	if (rc == MFA_OK) {
		rc = store_txn_commit(txn);
		txn = NULL;
	}
	if (rc == MFA_ERR_LIMIT)
		resp_message(resp, 422, "invalid_request_parameters",
		    "The user has too many factors; delete one first");
	else if (rc != MFA_OK)
		resp_internal(resp, rc);
	else
		resp_json(resp, 201, factor_json(&a, b32, uri));
	if (rc == MFA_OK)
		log_info("factor %s enrolled for user %s (client %s)", a.id,
		    a.user_id, a.client_id);
out:
	store_txn_abort(txn);
	sodium_memzero(b32, sizeof(b32));
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(&a, sizeof(a));
}

/*
 * The API key (factor_client: before any transaction of the caller, so a
 * 404 never answers a bad key), then a "write" or read transaction in
 * "*txn" and in it the factor named by the path (between FACTOR_PREFIX
 * and "suffix"). False with "resp" set and no transaction: 401 for a bad
 * key, 404 for an unknown factor or one of another client.
 */
static bool
factor_load(const struct mfa_ctx *ctx, const struct mfa_req *req,
    bool write, const char *suffix, struct store_txn **txn,
    struct authn_rec *a, struct mfa_resp *resp)
{
	char id[MFA_AUTHN_ID_MAX + 1], client_id[MFA_CLIENT_ID_MAX + 1];
	int rc = MFA_ERR_NOTFOUND;

	*txn = NULL;
	if (!factor_client(ctx, req, client_id, resp))
		return false;
	if ((rc = store_txn_begin(ctx->store, write, txn)) != MFA_OK) {
		*txn = NULL;
		resp_internal(resp, rc);
		return false;
	}
	rc = MFA_ERR_NOTFOUND;
	if (router_path_id(req->path, FACTOR_PREFIX, suffix, id, sizeof(id)))
		rc = store_authn_get(*txn, id, a);
	if (rc == MFA_OK && strcmp(a->client_id, client_id) != 0) /* public */
		rc = MFA_ERR_NOTFOUND; /* another client's, or not WorkOS's */
	if (rc != MFA_OK) {
		store_txn_abort(*txn);
		*txn = NULL;
	}
	if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND) {
		resp_internal(resp, rc);
		return false;
	}
	if (rc == MFA_ERR_NOTFOUND) {
		resp_message(resp, 404, "entity_not_found",
		    "Authentication factor not found");
		return false;
	}
	return true;
}

void
api_factor_get(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct store_txn *txn;
	struct authn_rec a;

	if (factor_load(ctx, req, false, "", &txn, &a, resp))
		resp_json(resp, 200, factor_json(&a, NULL, NULL));
	store_txn_abort(txn);
	sodium_memzero(&a, sizeof(a));
}

void
api_factor_delete(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct store_txn *txn;
	struct authn_rec a;
	int rc;

	if (!factor_load(ctx, req, true, "", &txn, &a, resp))
		goto out;
	if ((rc = store_authn_del(txn, a.id)) == MFA_OK)
		rc = store_txn_commit_deferred(txn);
	else
		store_txn_abort(txn);
	txn = NULL;
	if (rc != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	log_info("factor %s deleted (client %s)", a.id, a.client_id);
	resp_json(resp, 204, NULL);
out:
	store_txn_abort(txn);
	sodium_memzero(&a, sizeof(a));
}

/* Stores challenge "c" of factor "a" (with the send bucket for sms) and
 * ends "txn": committed, or aborted on failure. */
static int
factor_challenge_save(const struct mfa_ctx *ctx, struct store_txn *txn,
    const struct authn_rec *a, const struct challenge_rec *c,
    const struct deliver *d)
{
	int rc = MFA_OK;

	if (a->type == AUTHN_OOB)
		rc = deliver_take(ctx, txn, c, a, d);
	if (rc == MFA_OK)
		rc = store_challenge_put(txn, c, true);
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

void
api_factor_challenge(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	static const unsigned char none[MFA_HASH_BYTES];
	struct challenge_rec c;
	struct store_txn *txn;
	struct deliver d;
	struct authn_rec a;
	int rc;

	memset(&d, 0, sizeof(d));
	if (!factor_load(ctx, req, true, "/challenge", &txn, &a, resp))
		goto out;
	challenge_init(&c, a.type == AUTHN_OOB ? CT_OOB : CT_OTP, a.client_id,
	    a.user_id, a.id, none, ctx->now, ctx->cfg->sms_factor_ttl,
	    ctx->cfg->otp_challenge_ttl);
	if (a.type == AUTHN_OOB && (rc = deliver_prepare(ctx, &c, &a,
	    req_get(req, F_SMS_TEMPLATE), &d)) != MFA_OK) {
		if (rc == MFA_ERR_INVALID)
			resp_message(resp, 422, "invalid_request_parameters",
			    "sms_template must contain {{code}} and fit %d "
			    "bytes", DELIVER_TEXT_MAX);
		else
			resp_internal(resp, rc);
		goto out;
	}
	rc = factor_challenge_save(ctx, txn, &a, &c, &d);
	txn = NULL; /* committed, or aborted below */
	if (rc == MFA_ERR_LIMIT)
		resp_message(resp, 429, "too_many_requests", "Too many SMS "
		    "sent by the user. Wait for some minutes before retrying.");
	else if (rc != MFA_OK)
		resp_internal(resp, rc);
	else
		resp_json(resp, 201, challenge_to_json(&c, false));
out:
	store_txn_abort(txn);
	deliver_discard(&d);
	sodium_memzero(&a, sizeof(a));
}
