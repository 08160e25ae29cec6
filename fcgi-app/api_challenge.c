/*
 * api_challenge.c -- POST /mfa/challenge.
 *
 * load:  one read transaction: client authentication, the mfa_token, the
 *        user's authenticators (an assertion's jti is recorded in the
 *        save's transaction, one commit instead of two, or at the end
 *        when the request fails);
 * step:  selection_decide (pure);
 * save:  the challenge joins the next batch of new challenges, one commit
 *        for the challenges of every worker (store_batch.c); for oob the
 *        message goes to a temporary spool file first and the send is
 *        taken from the user's bucket with the challenge; the spool file
 *        is published only once the challenge is stored (queued or
 *        committed), and removed if that fails.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "challenge.h"
#include "client_auth.h"
#include "deliver.h"
#include "enroll.h"
#include "log.h"
#include "selection.h"
#include "spool.h"
#include "token.h"

struct challenge_load {
	struct client_rec client;
	struct ca_jti jti; /* an assertion's, recorded with the challenge */
	struct token_rec token;
	unsigned char token_hash[MFA_HASH_BYTES];
	struct authn_rec authns[STORE_AUTHN_PER_USER];
	struct sel_authn view[STORE_AUTHN_PER_USER];
	size_t nauthns;
	enum sel_token token_state;
};

/* Read phase; false when "resp" already holds the answer. */
static bool
challenge_load(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct challenge_load *l, struct mfa_resp *resp)
{
	struct store_txn *txn;
	size_t i;
	int rc, err;

	if ((rc = store_txn_begin(ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(resp, rc);
		return false;
	}
	if (client_auth_run_deferred(ctx, req, txn, &l->client, &l->jti,
	    resp) != CA_OK)
		goto fail;
	l->token_state = token_check(txn, ctx->keys, req_get(req, F_MFA_TOKEN),
	    l->client.id, ctx->now, &l->token, l->token_hash, &err);
	if (err != MFA_OK) {
		resp_internal(resp, err);
		goto fail;
	}
	if (l->token_state == SEL_TOKEN_OK) {
		rc = enroll_list(txn, l->token.user_id, l->authns,
		    &l->nauthns);
		if (rc != MFA_OK) {
			resp_internal(resp, rc);
			goto fail;
		}
	}
	store_txn_abort(txn);
	for (i = 0; i < l->nauthns; i++) {
		l->view[i].id = l->authns[i].id;
		l->view[i].type = l->authns[i].type;
		l->view[i].active = l->authns[i].active;
	}
	return true;
fail:
	store_txn_abort(txn);
	return false;
}

/*
 * Save phase: the challenge, the assertion's jti (when "jti" is set;
 * cleared once stored) and for oob the send from the user's bucket with
 * its message for the delivery agent, in
 * the queue of new challenges that one commit for every worker's carries
 * (store_challenge_create), or in a batched commit of its own. A pending
 * challenge lost to a power loss only means the user asks again (README
 * "Durability"). Returns MFA_OK, MFA_ERR_LIMIT (bucket empty: nothing
 * written), MFA_ERR_EXISTS (the jti was used before: nothing written,
 * "jti" still set) or a store error.
 */
static int
challenge_save(struct mfa_ctx *ctx, const struct challenge_rec *c,
    const struct authn_rec *a, const struct deliver *d, struct ca_jti *jti)
{
	struct store_jti_op op = { jti->client_id, jti->jti, jti->exp };
	struct store_bucket_op send;
	int rc;

	if (c->type == CT_OOB)
		deliver_send(ctx, a, d, &send);
	rc = store_challenge_create(ctx->store, c, jti->set ? &op : NULL,
	    c->type == CT_OOB ? &send : NULL);
	if (rc == MFA_OK)
		jti->set = false;
	return rc;
}

/* Creates the challenge the machine chose and answers. */
static void
challenge_issue(struct mfa_ctx *ctx, struct challenge_load *l,
    const struct authn_rec *a, unsigned type, struct mfa_resp *resp)
{
	struct challenge_rec c;
	struct deliver d;
	int rc;

	memset(&d, 0, sizeof(d));
	challenge_init(&c, type, l->client.id, l->token.user_id, a->id,
	    l->token_hash, ctx->now, ctx->cfg->oob_ttl,
	    ctx->cfg->otp_challenge_ttl);
	if (type == CT_OOB && (rc = deliver_prepare(ctx, &c, a, NULL, &d)) !=
	    MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	if ((rc = challenge_save(ctx, &c, a, &d, &l->jti)) != MFA_OK) {
		if (rc == MFA_ERR_LIMIT) {
			log_warn("user %s: %s send limit reached", a->user_id,
			    record_channel_name(a->channel));
			deliver_limited(resp, a);
		} else if (rc == MFA_ERR_EXISTS) {
			client_auth_replayed(l->jti.client_id, resp);
			l->jti.set = false; /* it is on record already */
		} else {
			resp_internal(resp, rc);
		}
		goto out;
	}
	log_info("challenge %s created: %s via %s for user %s", c.id,
	    record_challenge_type_name(type), a->id, a->user_id);
	if (type == CT_OTP)
		resp_json(resp, 200, json_pack("{s:s}", "challenge_type",
		    "otp"));
	else
		resp_json(resp, 200, json_pack("{s:s, s:s, s:s}",
		    "challenge_type", "oob", "oob_code", d.oob_code,
		    "binding_method", "prompt"));
out:
	deliver_discard(&d); /* the message, and the oob_code */
}

void
api_challenge(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	struct challenge_load l;
	struct sel_decision d;
	struct sel_input in;
	const char *code;
	char desc[256];
	int status;

	memset(&l, 0, sizeof(l));
	if (!challenge_load(ctx, req, &l, resp))
		goto out;
	in = (struct sel_input){ l.token_state, l.client.types,
		req_get(req, F_CHALLENGE_TYPE),
		req_get(req, F_AUTHENTICATOR_ID), l.view, l.nauthns };
	d = selection_decide(&in);
	if (d.outcome != SEL_CHALLENGE) {
		selection_error(&d, &status, &code, desc, sizeof(desc));
		resp_error(resp, status, code, "%s", desc);
		goto out;
	}
	challenge_issue(ctx, &l, &l.authns[d.pick], d.type, resp);
out:
	/*
	 * An assertion whose jti did not ride on a committed challenge (an
	 * error answer, a failed commit) is recorded now, so it is single-use
	 * whatever the request met; a replay found here answers 401 instead.
	 */
	(void)client_auth_settle(ctx, &l.jti, resp);
	sodium_memzero(&l, sizeof(l));
}
