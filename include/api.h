/*
 * api.h -- what every endpoint handler gets, and the handlers.
 *
 * A handler reads: load (one read transaction) -> step (pure modules) ->
 * save (one short write transaction) -> respond. It always leaves "resp"
 * set; it never writes to the FastCGI stream itself.
 */
#ifndef MFA_API_H
#define MFA_API_H

#include <limits.h>

#include "config.h"
#include "keys.h"
#include "req.h"
#include "resp.h"
#include "store.h"

struct mfa_ctx {
	const struct config *cfg;
	struct store *store;
	const struct keys *keys;
	mfa_ms now; /* the request's time, read once */
};

typedef void (*api_handler)(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* POST /mfa/token: a confidential client asks for a user's mfa_token. */
void api_mfa_token(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* POST /oauth/token: Auth0's MFA grants (otp, oob, recovery code). */
void api_oauth_token(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* POST /auth/challenges/{id}/verify: WorkOS-compatible verification. */
void api_workos_verify(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* POST /mfa/challenge: Auth0's challenge request. */
void api_challenge(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* GET /.well-known/jwks.json: the result-token signing keys. */
void api_jwks(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* GET /.well-known/openid-configuration */
void api_discovery(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* POST /mfa/associate: Auth0's enrollment (Bearer token). */
void api_associate(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/* GET /mfa/authenticators, DELETE /mfa/authenticators/{id}. */
void api_authenticators_list(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);
void api_authenticators_delete(struct mfa_ctx *ctx,
    const struct mfa_req *req, struct mfa_resp *resp);

/* WorkOS's factor API: POST /auth/factors/enroll, GET and DELETE
 * /auth/factors/{id}, POST /auth/factors/{id}/challenge. */
void api_factor_enroll(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);
void api_factor_get(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);
void api_factor_delete(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);
void api_factor_challenge(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

/*
 * The percent-decoded path segment of "path" between "prefix" and
 * "suffix" into "out" ("outlen" bytes). False when the path has another
 * shape, the segment is empty, badly encoded, longer than outlen - 1, or
 * holds '/', '+', a space or a control character after decoding.
 */
bool router_path_id(const char *path, const char *prefix, const char *suffix,
    char *out, size_t outlen);

/*
 * Routes "req" to its handler; answers 404 (unknown path) and 405 (with
 * Allow) itself.
 */
void router_dispatch(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp);

#endif
