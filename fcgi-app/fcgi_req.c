/*
 * fcgi_req.c -- one FastCGI request as a struct mfa_req (fcgi_req.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "basic.h"
#include "clock.h"
#include "fcgi_req.h"
#include "form.h"
#include "log.h"

/* The request path without the query: REQUEST_URI, else SCRIPT_NAME +
 * PATH_INFO. False when it is too long or not printable ASCII. */
static bool
fcgi_req_path(FCGX_ParamArray envp, char *out, size_t outlen)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", envp);
	const char *sn, *pi;
	size_t n, i;

	if (uri != NULL) {
		n = strcspn(uri, "?#");
		if (n >= outlen)
			return false;
		memcpy(out, uri, n);
		out[n] = '\0';
	} else {
		sn = FCGX_GetParam("SCRIPT_NAME", envp);
		pi = FCGX_GetParam("PATH_INFO", envp);
		if ((size_t)snprintf(out, outlen, "%s%s", sn ? sn : "",
		    pi ? pi : "") >= outlen)
			return false;
	}
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < 0x21 || out[i] > 0x7e)
			return false;
	return true;
}

/* Strict CONTENT_LENGTH: absent is 0; digits only. */
static bool
fcgi_req_content_length(const char *s, size_t *out)
{
	size_t v = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return true;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Parameters that carry credentials or codes and so never belong in a
 * URI, which web servers log and browsers keep. */
static const char *const fcgi_req_uri_forbidden[] = {
	"client_secret", "client_assertion", "mfa_token", "otp", "oob_code",
	"binding_code", "recovery_code",
};

/*
 * Does query string "qs" name a credential (RFC 6749 §2.3.1: "MUST NOT"
 * be in the URI)? Each pair's name is decoded on its own, whatever its
 * value or the other pairs hold: a pair that does not decode must not
 * hide the ones after it.
 */
static bool
fcgi_req_query_has_credentials(const char *qs)
{
	char name[64]; /* a longer name decodes to none of the forbidden */
	size_t seg, n, got, i;
	const char *p;

	for (p = qs; p != NULL && *p != '\0'; p += seg + (p[seg] == '&')) {
		seg = strcspn(p, "&");
		n = strcspn(p, "=&");
		if (n == 0 || n >= sizeof(name) ||
		    form_unescape(p, n, name, sizeof(name), &got) != MFA_OK)
			continue;
		for (i = 0; i < sizeof(fcgi_req_uri_forbidden) /
		    sizeof(fcgi_req_uri_forbidden[0]); i++)
			if (got == strlen(fcgi_req_uri_forbidden[i]) &&
			    memcmp(name, fcgi_req_uri_forbidden[i], got) == 0)
				return true;
	}
	return false;
}

enum body_read { BODY_OK, BODY_SHORT, BODY_LATE };

/*
 * Reads exactly "len" bytes of body. Each read waits read_timeout at most
 * (SO_RCVTIMEO, conn_accept); a web server that streams a slow client's
 * body on to the worker could still send a byte every few seconds, so
 * whenever nothing is left in libfcgi's buffer the time since the first
 * read is checked against "timeout_s" too: such a body holds the worker
 * for twice read_timeout at most. BODY_SHORT: the stream ended early (or
 * a read waited too long); BODY_LATE: the body was too slow in coming,
 * and the stream is marked ETIMEDOUT (worker_finish: no lingering close).
 */
static enum body_read
fcgi_req_read_body(FCGX_Stream *in, char *buf, size_t len, int64_t timeout_s)
{
	int64_t deadline = clock_mono_ms() + timeout_s * 1000;
	size_t got = 0, want, have;
	int n;

	while (got < len) {
		have = in->stop > in->rdNext ? (size_t)(in->stop - in->rdNext) :
		    0;
		want = len - got;
		if (have == 0) {
			if (clock_mono_ms() > deadline) {
				in->FCGI_errno = ETIMEDOUT;
				return BODY_LATE;
			}
			want = 1; /* one fill: whatever the next read brings */
		} else if (want > have) {
			want = have;
		}
		n = FCGX_GetStr(buf + got, (int)(want > INT_MAX ? INT_MAX :
		    want), in);
		if (n <= 0)
			return BODY_SHORT;
		got += (size_t)n;
	}
	return BODY_OK;
}

_Noreturn void
fcgi_req_oom(const char *what)
{
	log_error("out of memory for %s: the worker stops", what);
	abort();
}

/*
 * A request whose web server asks to keep the FastCGI connection open
 * (FCGI_KEEP_CONN: nginx's fastcgi_keep_conn, Apache mod_proxy_fcgi's
 * enablereuse) is refused: 500, logged, and the connection closed after
 * the answer. A worker serves connections one after another from the
 * listening socket; a kept connection would pin it, waiting for the next
 * request on that connection while new ones queue (measured: requests
 * stuck for the server's whole read timeout), and closing a connection
 * the server believes kept can cost a later request a 502. Failing at
 * once says what to change. True when refused.
 */
static bool
fcgi_req_refuse_kept(FCGX_Request *r, struct mfa_resp *resp)
{
	static bool said;

	if (!r->keepConnection)
		return false;
	r->keepConnection = 0; /* libfcgi closes it after the answer */
	if (!said) {
		said = true;
		log_error("the web server keeps FastCGI connections open "
		    "(nginx: fastcgi_keep_conn; Apache mod_proxy_fcgi: "
		    "enablereuse): not supported, every such request answers "
		    "500; turn that setting off");
	}
	resp_internal(resp, MFA_ERR_CONFIG);
	return true;
}

bool
fcgi_req_build(const struct mfa_ctx *ctx, FCGX_Request *r, struct mfa_req *req,
    struct mfa_resp *resp)
{
	const char *authz = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);
	enum req_ctype ctype;
	char err[256], *body = NULL;
	size_t len;
	bool ok = false, path_ok;

	req->method = req_method_parse(FCGX_GetParam("REQUEST_METHOD",
	    r->envp));
	path_ok = fcgi_req_path(r->envp, req->path, sizeof(req->path));
	if (fcgi_req_refuse_kept(r, resp)) /* before any other answer */
		return false;
	if (!path_ok) {
		resp_error(resp, 404, "not_found", "no such endpoint");
		return false;
	}
	if (authz != NULL) {
		if (strlen(authz) > REQ_AUTHZ_MAX) {
			resp_error(resp, 400, "invalid_request",
			    "Authorization header is too long");
			return false;
		}
		if ((req->authorization = strdup(authz)) == NULL)
			fcgi_req_oom("the Authorization header");
	}
	if (fcgi_req_query_has_credentials(FCGX_GetParam("QUERY_STRING",
	    r->envp))) {
		resp_error(resp, 400, "invalid_request",
		    "credentials must not be sent in the query string");
		return false;
	}
	if (!fcgi_req_content_length(FCGX_GetParam("CONTENT_LENGTH", r->envp),
	    &len)) {
		resp_error(resp, 400, "invalid_request",
		    "Content-Length is not a number");
		return false;
	}
	if (len > ctx->cfg->body_limit) {
		resp_error(resp, 413, "invalid_request",
		    "Request body is larger than %zu bytes",
		    ctx->cfg->body_limit);
		return false;
	}
	if (len == 0)
		return true;
	ctype = req_ctype_parse(FCGX_GetParam("CONTENT_TYPE", r->envp));
	if (ctype != CTYPE_FORM && ctype != CTYPE_JSON) {
		resp_error(resp, 415, "invalid_request", "Content-Type must be "
		    "application/x-www-form-urlencoded or application/json");
		return false;
	}
	if ((body = malloc(len + 1)) == NULL)
		fcgi_req_oom("the request body");
	switch (fcgi_req_read_body(r->in, body, len, ctx->cfg->read_timeout)) {
	case BODY_OK:
		break;
	case BODY_LATE:
		log_warn("a request body still incomplete after %lld s: given up",
		    (long long)ctx->cfg->read_timeout);
		resp_error(resp, 408, "invalid_request", "request body did not "
		    "arrive within %lld s", (long long)ctx->cfg->read_timeout);
		goto out;
	default:
		resp_error(resp, 400, "invalid_request",
		    "request body is shorter than Content-Length");
		goto out;
	}
	body[len] = '\0';
	if (req_parse_body(req, ctype, body, len, err, sizeof(err)) !=
	    MFA_OK) {
		resp_error(resp, 400, "invalid_request", "%s", err);
		goto out;
	}
	ok = true;
out:
	sodium_memzero(body, len);
	free(body);
	return ok;
}

void
fcgi_req_claimed_client(const struct mfa_req *req, char *out, size_t outlen)
{
	struct basic_creds bc;
	const char *id = req_get(req, F_CLIENT_ID);

	snprintf(out, outlen, "-");
	if (id != NULL) {
		snprintf(out, outlen, "%s", id);
		return;
	}
	if (basic_decode(req->authorization, &bc) == BASIC_OK) {
		snprintf(out, outlen, "%s", bc.client_id);
		basic_creds_wipe(&bc);
	}
}
