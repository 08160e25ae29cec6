/*
 * router.c -- method + path -> handler. Unknown paths are 404, known paths
 * with another method 405 with an Allow header. A '*' in a route's path
 * matches one non-empty path segment (the handler reads it from the path).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "form.h"

struct route {
	const char *path;
	enum http_method method;
	api_handler handler;
};

static const struct route routes[] = {
	{ "/mfa/token", HTTP_POST, api_mfa_token },
	{ "/mfa/challenge", HTTP_POST, api_challenge },
	{ "/oauth/token", HTTP_POST, api_oauth_token },
	{ "/auth/challenges/*/verify", HTTP_POST, api_workos_verify },
	{ "/.well-known/openid-configuration", HTTP_GET, api_discovery },
	{ "/.well-known/jwks.json", HTTP_GET, api_jwks },
	{ "/mfa/associate", HTTP_POST, api_associate },
	{ "/mfa/authenticators", HTTP_GET, api_authenticators_list },
	{ "/mfa/authenticators/*", HTTP_DELETE, api_authenticators_delete },
	{ "/auth/factors/enroll", HTTP_POST, api_factor_enroll },
	{ "/auth/factors/*", HTTP_GET, api_factor_get },
	{ "/auth/factors/*", HTTP_DELETE, api_factor_delete },
	{ "/auth/factors/*/challenge", HTTP_POST, api_factor_challenge },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* True when "path" matches "pattern" ('*' = one non-empty segment). */
static bool
router_match(const char *pattern, const char *path)
{
	size_t n;

	for (; *pattern != '\0'; pattern++) {
		if (*pattern == '*') {
			if ((n = strcspn(path, "/")) == 0)
				return false;
			path += n;
		} else if (*pattern != *path++) {
			return false;
		}
	}
	return *path == '\0';
}

bool
router_path_id(const char *path, const char *prefix, const char *suffix,
    char *out, size_t outlen)
{
	size_t p = strlen(prefix), s = strlen(suffix), n = strlen(path), m, i;

	if (n <= p + s || strncmp(path, prefix, p) != 0 ||
	    strcmp(path + n - s, suffix) != 0) /* public */
		return false;
	n -= p + s;
	if (memchr(path + p, '/', n) != NULL || memchr(path + p, '+', n) !=
	    NULL || form_unescape(path + p, n, out, outlen, &m) != MFA_OK)
		return false;
	for (i = 0; i < m; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f ||
		    out[i] == '/')
			return false;
	return m > 0;
}

void
router_dispatch(struct mfa_ctx *ctx, const struct mfa_req *req,
    struct mfa_resp *resp)
{
	size_t i;
	bool path_known = false;

	for (i = 0; i < NROUTES; i++) {
		if (!router_match(routes[i].path, req->path))
			continue;
		if (routes[i].method == req->method) {
			routes[i].handler(ctx, req, resp);
			return;
		}
		if (!path_known) {
			snprintf(resp->allow, sizeof(resp->allow), "%s",
			    req_method_name(routes[i].method));
		} else {
			strncat(resp->allow, ", ", sizeof(resp->allow) -
			    strlen(resp->allow) - 1);
			strncat(resp->allow, req_method_name(routes[i].method),
			    sizeof(resp->allow) - strlen(resp->allow) - 1);
		}
		path_known = true;
	}
	if (path_known) {
		resp_error(resp, 405, "invalid_request",
		    "method %s is not allowed on %s",
		    req->method == HTTP_OTHER ? "(unknown)" :
		    req_method_name(req->method), req->path);
		return;
	}
	resp_error(resp, 404, "not_found", "no such endpoint: %s", req->path);
}
