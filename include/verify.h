/*
 * verify.h -- checking a presented code inside the caller's write
 * transaction, shared by the Auth0 grants (api_token.c) and the WorkOS
 * verify endpoint (api_workos.c): the failed-code bucket of an
 * authenticator, TOTP with the replay state, and binding codes.
 */
#ifndef MFA_VERIFY_H
#define MFA_VERIFY_H

#include <stdbool.h>

#include "api.h"
#include "record.h"
#include "totp.h"

/* "fail:<authenticator id>" or "fail:recovery:<user>" bucket state. */
struct verify_bucket {
	char key[16 + MFA_USER_ID_MAX];
	struct bucket b;
};

/*
 * Loads and refills the failed-code bucket "key" (fail_burst, one back per
 * fail_refill). "*empty" is true when no attempt is left: then no code may
 * be checked at all. Returns MFA_OK or a store error.
 */
int verify_bucket_load(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *key, struct verify_bucket *vb, bool *empty) MFA_WUR;

/* Records one failed code (logs the lockout when the bucket empties). */
int verify_bucket_fail(const struct mfa_ctx *ctx, struct store_txn *txn,
    const char *user_id, struct verify_bucket *vb) MFA_WUR;

/*
 * Checks TOTP "code" against authenticator "a" at ctx->now with the
 * configured window. On TOTP_OK a->last_step is the matched step (the
 * caller stores "a" in the same transaction). TOTP_ERROR when the sealed
 * secret does not open (tampering: refused and logged).
 */
enum totp_verdict verify_totp(const struct mfa_ctx *ctx, struct authn_rec *a,
    const char *code) MFA_WUR;

/* True when "code" is the 6-digit binding code of "c" (constant time). */
bool verify_binding(const struct mfa_ctx *ctx, const struct challenge_rec *c,
    const char *code) MFA_WUR;

#endif
