/*
 * api_token.c -- POST /oauth/token with Auth0's three MFA grants:
 *
 *   http://auth0.com/oauth/grant-type/mfa-otp            mfa_token, otp
 *   http://auth0.com/oauth/grant-type/mfa-oob            mfa_token, oob_code,
 *                                                        binding_code
 *   http://auth0.com/oauth/grant-type/mfa-recovery-code  mfa_token,
 *                                                        recovery_code
 *
 * load: one read transaction authenticates the client and checks the
 * mfa_token. step + save: one write transaction per grant makes the whole
 * decision -- the failed-code bucket, the check, the replay state (last
 * TOTP step, challenge state, consumed recovery code) -- and commits it
 * (fully synced) before the answer goes out, so a code accepted once never
 * verifies again, on any worker, even after a crash. The commit is
 * deferred (store_txn_commit_deferred): the worker holds the answer until
 * the sync, which it may share with the requests it accepts meanwhile.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bucket.h"
#include "challenge.h"
#include "client_auth.h"
#include "enroll.h"
#include "lifecycle.h"
#include "log.h"
#include "recovery.h"
#include "result.h"
#include "selection.h"
#include "signing.h"
#include "token.h"
#include "totp.h"
#include "verify.h"

#define GRANT_PREFIX "http://auth0.com/oauth/grant-type/"
#define TOO_MANY "Too many failed codes. Wait for some minutes before retrying."

struct grant {
	struct mfa_ctx *ctx;
	const struct mfa_req *req;
	struct mfa_resp *resp;
	struct client_rec client;
	struct token_rec token;
	unsigned char token_hash[MFA_HASH_BYTES];
	struct store_txn *txn; /* the write transaction of the step */
};

/* Load phase: client authentication and the mfa_token. */
static bool
grant_load(struct grant *g)
{
	struct sel_decision d;
	struct store_txn *txn;
	enum sel_token ts;
	const char *code;
	char desc[128];
	int rc, status, err;

	if ((rc = store_txn_begin(g->ctx->store, false, &txn)) != MFA_OK) {
		resp_internal(g->resp, rc);
		return false;
	}
	if (client_auth_run(g->ctx, g->req, txn, &g->client, g->resp) !=
	    CA_OK) {
		store_txn_abort(txn);
		return false;
	}
	ts = token_check(txn, g->ctx->keys, req_get(g->req, F_MFA_TOKEN),
	    g->client.id, g->ctx->now, &g->token, g->token_hash, &err);
	store_txn_abort(txn);
	if (err != MFA_OK) {
		resp_internal(g->resp, err);
		return false;
	}
	if (ts == SEL_TOKEN_OK)
		return true;
	memset(&d, 0, sizeof(d));
	d.outcome = ts == SEL_TOKEN_MISSING ? SEL_TOKEN_MISSING_ROW :
	    ts == SEL_TOKEN_EXPIRED ? SEL_TOKEN_EXPIRED_ROW :
	    ts == SEL_TOKEN_OTHER_CLIENT ? SEL_TOKEN_OTHER_CLIENT_ROW :
	    SEL_TOKEN_MALFORMED_ROW;
	selection_error(&d, &status, &code, desc, sizeof(desc));
	resp_error(g->resp, status, code, "%s", desc);
	return false;
}

/* A required parameter; answers 400 when it is absent. */
static const char *
grant_param(struct grant *g, enum req_field f)
{
	const char *v = req_get(g->req, f);

	if (v == NULL)
		resp_error(g->resp, 400, "invalid_request",
		    "Missing required parameter: %s", req_field_spec(f)->name);
	return v;
}

/* Commits the step and answers "status"/"code"/"desc" on success of the
 * commit; a failed commit answers 500/503 instead. */
static void
grant_commit_error(struct grant *g, int status, const char *code,
    const char *desc)
{
	int rc = store_txn_commit_deferred(g->txn);

	g->txn = NULL;
	if (rc != MFA_OK)
		resp_internal(g->resp, rc);
	else
		resp_error(g->resp, status, code, "%s", desc);
}

/*
 * Commits the step, then issues the result tokens. The signing key's
 * record is read inside the step (a store without a usable current key
 * consumes nothing); unsealing it and signing happen after the commit,
 * so the writer lock is not held for two Ed25519 signatures (except in a
 * run of held requests, whose commits wait for the run's outer
 * transaction: store_combine.c; fewer page writes pay for it). Workers
 * check at start that the master key opens the current key, so a
 * failure there is a tampered or rotated-away record: logged, 500.
 */
static void
grant_success(struct grant *g, const char *method, const char *recovery)
{
	struct signing_rec key;
	json_t *body = NULL;
	int rc;

	if ((rc = signing_current_rec(g->txn, &key)) != MFA_OK) {
		log_error("no usable signing key (%s): run \"mfactl keys "
		    "rotate\"", mfa_strerror(rc));
		store_txn_abort(g->txn);
	} else {
		rc = store_txn_commit_deferred(g->txn);
	}
	g->txn = NULL;
	if (rc == MFA_OK)
		rc = result_issue(g->ctx, &key, g->client.id,
		    g->token.user_id, method, req_get(g->req, F_SCOPE),
		    req_get(g->req, F_AUDIENCE), &body);
	if (rc == MFA_OK && recovery != NULL)
		rc = json_object_set_new(body, "recovery_code",
		    json_string(recovery)) == 0 ? MFA_OK : MFA_ERR_NOMEM;
	sodium_memzero(&key, sizeof(key));
	if (rc != MFA_OK) {
		json_decref(body);
		resp_internal(g->resp, rc);
		return;
	}
	log_info("user %s verified by %s (client %s)", g->token.user_id, method,
	    g->client.id);
	resp_json(g->resp, 200, body);
}

/*
 * True when this grant may confirm the unconfirmed "a": one enrolled with
 * an mfa_token only through that same token (so a second person who
 * knows the password cannot confirm a factor they planted after the user
 * enrolled her own).
 */
static bool
grant_may_confirm(const struct grant *g, const struct authn_rec *a)
{
	static const unsigned char none[MFA_HASH_BYTES];

	return sodium_memcmp(a->enroll_token, none, MFA_HASH_BYTES) == 0 ||
	    sodium_memcmp(a->enroll_token, g->token_hash, MFA_HASH_BYTES) == 0;
}

/*
 * The user's live otp authenticators, active ones first, then the
 * unconfirmed ones that the first code confirms (enroll.h) and this grant
 * may confirm. "*n" is 0 when there is none.
 */
static int
grant_otp_authns(struct grant *g, struct authn_rec *out, size_t *n)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	size_t have, i, pass;
	int rc;

	*n = 0;
	rc = enroll_list(g->txn, g->token.user_id, a, &have);
	enroll_keep_live(a, &have, g->ctx->now);
	for (pass = 0; rc == MFA_OK && pass < 2; pass++)
		for (i = 0; i < have; i++)
			if (a[i].type == AUTHN_OTP && a[i].active ==
			    (pass == 0) && (a[i].active ||
			    grant_may_confirm(g, &a[i])))
				out[(*n)++] = a[i];
	sodium_memzero(a, sizeof(a));
	return rc;
}

/* Tries "otp" on each candidate; the verdict of the best one, with the
 * matching authenticator (updated) in "*hit". */
static enum totp_verdict
grant_otp_try(struct grant *g, struct authn_rec *cand, size_t n,
    const char *otp, struct authn_rec **hit)
{
	enum totp_verdict v = TOTP_MISMATCH, w;
	size_t i;

	*hit = NULL;
	for (i = 0; i < n; i++) {
		w = verify_totp(g->ctx, &cand[i], otp);
		if (w == TOTP_OK) {
			*hit = &cand[i];
			return w;
		}
		if (w == TOTP_ERROR || i == 0)
			v = w;
	}
	return v;
}

/* mfa-otp: RFC 6238 with the last accepted step stored in the same txn. */
static void
grant_otp(struct grant *g)
{
	const char *otp = grant_param(g, F_OTP);
	char key[8 + MFA_AUTHN_ID_MAX];
	struct authn_rec cand[STORE_AUTHN_PER_USER], *hit;
	struct verify_bucket vb;
	size_t n;
	bool empty;
	int rc;

	if (otp == NULL)
		return;
	if ((rc = grant_otp_authns(g, cand, &n)) != MFA_OK)
		goto fail;
	if (n == 0) {
		grant_commit_error(g, 403, "invalid_grant",
		    "User is not enrolled with otp");
		return;
	}
	/* the bucket of the first (preferably active) authenticator */
	snprintf(key, sizeof(key), STORE_FAIL_PREFIX "%s", cand[0].id);
	if ((rc = verify_bucket_load(g->ctx, g->txn, key, &vb, &empty)) !=
	    MFA_OK)
		goto fail;
	if (empty) {
		grant_commit_error(g, 429, "too_many_attempts", TOO_MANY);
		goto out;
	}
	switch (grant_otp_try(g, cand, n, otp, &hit)) {
	case TOTP_OK:
		if (enroll_confirm(hit))
			log_info("user %s confirmed %s", hit->user_id,
			    hit->id);
		if ((rc = store_authn_put(g->txn, hit)) != MFA_OK)
			goto fail;
		grant_success(g, "otp", NULL);
		goto out;
	case TOTP_ERROR:
		rc = MFA_ERR_CRYPTO;
		goto fail;
	default: /* malformed, mismatch and replay all count as failures */
		if ((rc = verify_bucket_fail(g->ctx, g->txn, g->token.user_id,
		    &vb)) != MFA_OK)
			goto fail;
		grant_commit_error(g, 403, "invalid_grant", "Invalid otp_code.");
		goto out;
	}
fail:
	resp_internal(g->resp, rc);
out:
	sodium_memzero(cand, sizeof(cand));
}

/* Finds the challenge of "oob_code" and checks it belongs to this token. */
static int
grant_oob_challenge(struct grant *g, const char *oob_code,
    struct challenge_rec *c)
{
	static const unsigned char unbound[MFA_HASH_BYTES];
	bool by_user;
	int rc;

	if ((rc = challenge_find_oob(g->txn, g->ctx->keys, oob_code, c)) !=
	    MFA_OK)
		return rc;
	/* an enrollment made with an access token binds its challenge to
	 * the user and client instead of an mfa_token (api_associate.c) */
	by_user = sodium_memcmp(c->token_hash, unbound, MFA_HASH_BYTES) == 0;
	if ((by_user ? strcmp(c->user_id, g->token.user_id) != 0 : /* public */
	    sodium_memcmp(c->token_hash, g->token_hash, MFA_HASH_BYTES) != 0) ||
	    strcmp(c->client_id, g->client.id) != 0) /* public */
		return MFA_ERR_NOTFOUND;
	return MFA_OK;
}

/* The live authenticator of challenge "c"; MFA_ERR_NOTFOUND once it was
 * removed or its enrollment expired unconfirmed. */
static int
grant_oob_authn(struct grant *g, const struct challenge_rec *c,
    struct authn_rec *a)
{
	int rc = store_authn_get(g->txn, c->factor_id, a);

	if (rc == MFA_OK && (strcmp(a->user_id, c->user_id) != 0 || /* public */
	    a->client_id[0] != '\0' || !enroll_is_live(a, g->ctx->now)))
		rc = MFA_ERR_NOTFOUND;
	return rc;
}

/* Takes one poll from the challenge's bucket; false when polled too fast. */
static int
grant_oob_poll(struct grant *g, const struct challenge_rec *c, bool *ok)
{
	struct bucket_policy p = { g->ctx->cfg->poll_burst,
		g->ctx->cfg->poll_refill * 1000 };
	char key[8 + MFA_CHALLENGE_ID_MAX];
	struct bucket b;
	int rc;

	snprintf(key, sizeof(key), STORE_POLL_PREFIX "%s", c->id);
	rc = store_bucket_get(g->txn, key, &b);
	if (rc == MFA_ERR_NOTFOUND)
		bucket_init(&b, &p, g->ctx->now);
	else if (rc != MFA_OK)
		return rc;
	*ok = bucket_take(&b, &p, g->ctx->now);
	return store_bucket_put(g->txn, key, &b);
}

/* Answers for the lifecycle's terminal states. */
static void
grant_oob_terminal(struct grant *g, enum lc_verdict v)
{
	switch (v) {
	case LC_EXPIRED:
		grant_commit_error(g, 403, "expired_token",
		    "oob_code is expired");
		break;
	case LC_ALREADY_VERIFIED:
		grant_commit_error(g, 400, "invalid_grant",
		    "oob_code has already been used");
		break;
	case LC_DENIED:
		grant_commit_error(g, 400, "access_denied",
		    "MFA Authorization rejected.");
		break;
	default:
		grant_commit_error(g, 400, "invalid_grant", "The challenge is "
		    "locked after too many failed codes; request a new one");
		break;
	}
}

/* Stores the challenge's new state; MFA_OK or a store error. */
static int
grant_oob_save(struct grant *g, struct challenge_rec *c,
    const struct lc_result *r)
{
	if (c->state == r->state && c->attempts == r->attempts)
		return MFA_OK;
	c->state = r->state;
	c->attempts = r->attempts;
	c->updated_at = g->ctx->now;
	return store_challenge_put(g->txn, c, false);
}

/* mfa-oob: the binding code of a challenge made for this mfa_token. */
static void
grant_oob(struct grant *g)
{
	const char *oob = grant_param(g, F_OOB_CODE), *bc;
	char key[8 + MFA_AUTHN_ID_MAX];
	struct verify_bucket vb;
	struct challenge_rec c;
	struct authn_rec a;
	struct lc_result r;
	bool ok, empty;
	int rc;

	if (oob == NULL)
		return;
	rc = grant_oob_challenge(g, oob, &c);
	if (rc == MFA_ERR_NOTFOUND) { /* challenge_find_oob: oob only */
		grant_commit_error(g, 400, "invalid_request",
		    "The oob_code doesn't match the mfa_token");
		return;
	}
	if (rc != MFA_OK || (rc = grant_oob_poll(g, &c, &ok)) != MFA_OK)
		goto fail;
	if (!ok) {
		grant_commit_error(g, 400, "slow_down",
		    "Polling too fast: wait before retrying");
		return;
	}
	r = lifecycle_step(c.state, c.expires_at, g->ctx->now, c.attempts,
	    g->ctx->cfg->challenge_max_attempts, LC_POLL);
	if (r.verdict != LC_PENDING) {
		if ((rc = grant_oob_save(g, &c, &r)) != MFA_OK)
			goto fail;
		grant_oob_terminal(g, r.verdict);
		return;
	}
	if ((rc = grant_oob_authn(g, &c, &a)) == MFA_ERR_NOTFOUND) {
		grant_commit_error(g, 400, "invalid_grant",
		    "The authenticator of this challenge no longer exists");
		return;
	}
	if (rc != MFA_OK)
		goto fail;
	if ((bc = req_get(g->req, F_BINDING_CODE)) == NULL) {
		/* every channel here binds with a prompt (no push yet) */
		grant_commit_error(g, 400, "invalid_request",
		    "Missing required parameter: binding_code");
		return;
	}
	snprintf(key, sizeof(key), STORE_FAIL_PREFIX "%s", c.factor_id);
	if ((rc = verify_bucket_load(g->ctx, g->txn, key, &vb, &empty)) !=
	    MFA_OK)
		goto fail;
	if (empty) {
		grant_commit_error(g, 429, "too_many_attempts", TOO_MANY);
		return;
	}
	ok = verify_binding(g->ctx, &c, bc);
	r = lifecycle_step(c.state, c.expires_at, g->ctx->now, c.attempts,
	    g->ctx->cfg->challenge_max_attempts, ok ? LC_CODE_OK : LC_CODE_BAD);
	if ((rc = grant_oob_save(g, &c, &r)) != MFA_OK)
		goto fail;
	if (r.verdict == LC_VERIFIED) {
		if (enroll_confirm(&a) && (rc = store_authn_put(g->txn, &a)) !=
		    MFA_OK)
			goto fail;
		grant_success(g, "oob", NULL);
		return;
	}
	if ((rc = verify_bucket_fail(g->ctx, g->txn, g->token.user_id, &vb)) !=
	    MFA_OK)
		goto fail;
	if (r.verdict == LC_LOCKED_NOW)
		log_warn("challenge %s locked after %u failed codes", c.id,
		    r.attempts);
	grant_commit_error(g, 403, "invalid_grant", "Invalid binding_code.");
	return;
fail:
	resp_internal(g->resp, rc);
}

/* mfa-recovery-code: consume the code, hand out a fresh one. */
static void
grant_recovery(struct grant *g)
{
	const char *in = grant_param(g, F_RECOVERY_CODE);
	char code[RECOVERY_LEN + 1], fresh[RECOVERY_LEN + 1] = "";
	char key[16 + MFA_USER_ID_MAX];
	unsigned char h[MFA_HASH_BYTES];
	struct verify_bucket vb;
	bool empty;
	int rc;

	if (in == NULL)
		return;
	snprintf(key, sizeof(key), STORE_FAIL_PREFIX "recovery:%s",
	    g->token.user_id);
	if ((rc = verify_bucket_load(g->ctx, g->txn, key, &vb, &empty)) !=
	    MFA_OK)
		goto fail;
	if (empty) {
		grant_commit_error(g, 429, "too_many_attempts", TOO_MANY);
		return;
	}
	if (!recovery_normalize(in, code)) {
		rc = MFA_ERR_NOTFOUND;
	} else {
		recovery_hash(g->ctx->keys, g->token.user_id, code, h);
		rc = store_recovery_has(g->txn, g->token.user_id, h);
	}
	if (rc == MFA_ERR_NOTFOUND) {
		if ((rc = verify_bucket_fail(g->ctx, g->txn, g->token.user_id,
		    &vb)) != MFA_OK)
			goto fail;
		grant_commit_error(g, 403, "invalid_grant",
		    "Invalid recovery code.");
		goto out;
	}
	if (rc != MFA_OK ||
	    (rc = store_recovery_del(g->txn, g->token.user_id, h)) != MFA_OK)
		goto fail;
	recovery_make(fresh);
	recovery_hash(g->ctx->keys, g->token.user_id, fresh, h);
	if ((rc = store_recovery_add(g->txn, g->token.user_id, h)) != MFA_OK)
		goto fail;
	grant_success(g, "recovery-code", fresh);
	goto out;
fail:
	resp_internal(g->resp, rc);
out:
	sodium_memzero(code, sizeof(code));
	sodium_memzero(fresh, sizeof(fresh));
}

static const struct {
	const char *name; /* after GRANT_PREFIX */
	void (*step)(struct grant *g);
	unsigned type;    /* the challenge type the client must be allowed;
			     0: any client (a recovery code is the way back
			     when a factor is lost) */
} grants[] = {
	{ "mfa-otp", grant_otp, CT_OTP },
	{ "mfa-oob", grant_oob, CT_OOB },
	{ "mfa-recovery-code", grant_recovery, 0 },
};

void
api_oauth_token(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	const char *gt = req_get(req, F_GRANT_TYPE);
	struct grant g;
	size_t i, plen = strlen(GRANT_PREFIX);
	int rc;

	if (gt == NULL) {
		resp_error(resp, 400, "invalid_request",
		    "Missing required parameter: grant_type");
		return;
	}
	for (i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
		if (strncmp(gt, GRANT_PREFIX, plen) == 0 && /* public */
		    strcmp(gt + plen, grants[i].name) == 0) /* public */
			break;
	if (i == sizeof(grants) / sizeof(grants[0])) {
		resp_error(resp, 400, "unsupported_grant_type",
		    "Unsupported grant type: %s", gt);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.ctx = ctx;
	g.req = req;
	g.resp = resp;
	if (!grant_load(&g))
		goto out;
	if (grants[i].type != 0 && (g.client.types & grants[i].type) == 0) {
		/* as Auth0 answers a grant not enabled for the application */
		resp_error(resp, 403, "unauthorized_client",
		    "Grant type '%s' not allowed for the client.", gt);
		goto out;
	}
	if ((rc = store_txn_begin(ctx->store, true, &g.txn)) != MFA_OK) {
		resp_internal(resp, rc);
		goto out;
	}
	grants[i].step(&g);
	store_txn_abort(g.txn); /* NULL when the step committed */
out:
	sodium_memzero(&g, sizeof(g));
}
