/*
 * access.h -- checking the service's own access tokens when they come
 * back as "Authorization: Bearer" on the MFA API (/mfa/associate,
 * /mfa/authenticators): an EdDSA JWT signed by one of the store's signing
 * keys (result.h), with iss = the configured issuer, aud = [client_id,
 * "<issuer>/mfa/"], an exp in the future, a sub, and a scope.
 *
 * Only a token minted for the MFA API audience is accepted: a plain
 * result token (aud = the client only) is refused, so a site's login
 * token cannot manage factors.
 */
#ifndef MFA_ACCESS_H
#define MFA_ACCESS_H

#include "api.h"

#define ACCESS_TOKEN_MAX 4096 /* bytes of a compact JWS */

enum access_verdict {
	ACCESS_ERROR = 0, /* store or library failure: answer 5xx */
	ACCESS_INVALID,   /* not a valid access token of this service */
	ACCESS_OK,
};

struct access_token {
	char user_id[MFA_USER_ID_MAX + 1];
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char scope[MFA_SCOPE_MAX + 1]; /* "" when absent */
};

/* True when "token" looks like a JWS (two dots), not an mfa_token. */
bool access_is_jwt(const char *token);

/*
 * Checks "token" at ctx->now with the keys in "txn". On ACCESS_OK "*out"
 * is filled; on ACCESS_INVALID "*why" names the failed check (static);
 * on ACCESS_ERROR "*err" holds the store error.
 */
enum access_verdict access_check(const struct mfa_ctx *ctx,
    struct store_txn *txn, const char *token, struct access_token *out,
    const char **why, int *err) MFA_WUR;

#endif
