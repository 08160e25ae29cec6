/*
 * api_discovery.c -- GET /.well-known/openid-configuration: what SDKs such
 * as openid-client read first (issuer, endpoints, client authentication
 * methods and algorithms).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "client_auth.h"

/* "<issuer without trailing slash><path>" as a new JSON string. */
static json_t *
discovery_url(const char *issuer, const char *path)
{
	char buf[512];
	size_t n = strlen(issuer);

	while (n > 0 && issuer[n - 1] == '/')
		n--;
	snprintf(buf, sizeof(buf), "%.*s%s", (int)n, issuer, path);
	return json_string(buf);
}

void
api_discovery(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	const char *iss = ctx->cfg->issuer;
	json_t *doc;

	(void)req;
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:[s,s], s:[s,s,s], s:o, "
	    "s:o, s:[s], s:[s], s:[s]}",
	    "issuer", iss,
	    "token_endpoint", discovery_url(iss, "/oauth/token"),
	    "mfa_challenge_endpoint", discovery_url(iss, "/mfa/challenge"),
	    "mfa_token_endpoint", discovery_url(iss, "/mfa/token"),
	    "jwks_uri", discovery_url(iss, "/.well-known/jwks.json"),
	    "challenge_types_supported", "otp", "oob",
	    "grant_types_supported",
	    "http://auth0.com/oauth/grant-type/mfa-otp",
	    "http://auth0.com/oauth/grant-type/mfa-oob",
	    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
	    "token_endpoint_auth_methods_supported",
	    client_auth_methods_json(),
	    "token_endpoint_auth_signing_alg_values_supported",
	    client_auth_algs_json(),
	    "id_token_signing_alg_values_supported", "EdDSA",
	    "response_types_supported", "token",
	    "subject_types_supported", "public");
	resp_json(resp, 200, doc);
}
