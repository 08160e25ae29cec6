/*
 * result.h -- the signed proof a site gets when MFA succeeds: an access
 * token and, when "scope" contains "openid", an ID token, both JWTs signed
 * with the service's current Ed25519 key (published at
 * /.well-known/jwks.json): iss (the issuer), sub (the user), aud (the
 * client), iat, exp, auth_time, amr ["mfa", method], acr, jti.
 */
#ifndef MFA_RESULT_H
#define MFA_RESULT_H

#include <jansson.h>

#include "api.h"
#include "record.h"

/*
 * Builds the token response {"access_token", "token_type": "Bearer",
 * "expires_in", "scope"?, "id_token"?} for "user_id" verified by "method"
 * ("otp", "oob", "recovery-code") for "client_id", signed with "key"
 * (the current key's record, from signing_current_rec: it is opened
 * here, outside any transaction). "*out" (caller owns) is set only on
 * MFA_OK. Returns MFA_OK, MFA_ERR_CORRUPT or MFA_ERR_CRYPTO (the key does
 * not open) or MFA_ERR_NOMEM.
 */
int result_issue(const struct mfa_ctx *ctx, const struct signing_rec *key,
    const char *client_id, const char *user_id, const char *method,
    const char *scope, const char *audience, json_t **out) MFA_WUR;

/*
 * The MFA API audience "<issuer without trailing slash>/mfa/" into
 * "out"; true when "audience" (may be NULL) names it.
 */
bool result_is_mfa_audience(const char *issuer, const char *audience);

/* True when the space-separated "scope" contains the word "word". */
bool result_scope_has(const char *scope, const char *word);

#endif
