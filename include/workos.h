/*
 * workos.h -- what the WorkOS-compatible endpoints (api_workos.c,
 * api_factors.c) share: the API key is a client secret sent as
 * "Authorization: Bearer <secret>", and failures are 401 with an RFC 6750
 * challenge and a WorkOS-shape body {"code", "message"}.
 */
#ifndef MFA_WORKOS_H
#define MFA_WORKOS_H

#include <stdbool.h>

#include "api.h"

#define WORKOS_SECRET_MAX 256

/* 401: "invalid" says whether a key was sent (error="invalid_token"). */
void workos_unauthorized(const struct mfa_ctx *ctx, struct mfa_resp *resp,
    bool invalid);

/* Copies the Bearer key into "secret"; false with a 401 in "resp". */
bool workos_bearer(const struct mfa_ctx *ctx, const struct mfa_req *req,
    char secret[WORKOS_SECRET_MAX + 1], struct mfa_resp *resp) MFA_WUR;

#endif
