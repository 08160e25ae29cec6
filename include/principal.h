/*
 * principal.h -- who calls a Bearer-protected endpoint of the MFA API
 * (/mfa/associate, /mfa/authenticators): the user and client behind an
 * "Authorization: Bearer" mfa_token (an opaque handle) or access token
 * (a JWT of this service for the "<issuer>/mfa/" audience, access.h).
 *
 * Token problems are answered as RFC 6750 §3 challenges, the way Ktor's
 * bearer provider does: no token -> 401 with `Bearer realm="..."` and no
 * error code (RFC 6750 §3.1); a bad, unknown or expired token -> 401
 * error="invalid_token"; a missing scope -> 403 error="insufficient_scope"
 * scope="..."; an mfa_token where only a completed MFA will do -> 401
 * error="insufficient_user_authentication" (RFC 9470 §3). The body is the
 * same error in OAuth shape.
 */
#ifndef MFA_PRINCIPAL_H
#define MFA_PRINCIPAL_H

#include <stdbool.h>

#include "api.h"

enum principal_kind {
	PRINCIPAL_NONE = 0,
	PRINCIPAL_MFA_TOKEN, /* the mfa_token of a login in progress */
	PRINCIPAL_ACCESS,    /* an access token from a completed MFA */
};

struct principal {
	enum principal_kind kind;
	char user_id[MFA_USER_ID_MAX + 1];
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char scope[MFA_SCOPE_MAX + 1]; /* access tokens only */
	unsigned char token_hash[MFA_HASH_BYTES]; /* mfa_tokens only */
};

/*
 * Resolves the Bearer token of "req" in "txn". Returns true with "*p"
 * filled, or false with "resp" set (401 challenge, or 500/503 when the
 * store failed).
 */
bool principal_resolve(const struct mfa_ctx *ctx, const struct mfa_req *req,
    struct store_txn *txn, struct principal *p, struct mfa_resp *resp)
    MFA_WUR;

/*
 * True when "p" may act with "scope": an access token carrying the scope
 * word, or an mfa_token when "mfa_token_ok". Otherwise sets "resp": 403
 * insufficient_scope for an access token without the scope, 401
 * insufficient_user_authentication for an mfa_token.
 */
bool principal_allows(const struct mfa_ctx *ctx, const struct principal *p,
    const char *scope, bool mfa_token_ok, struct mfa_resp *resp) MFA_WUR;

#endif
