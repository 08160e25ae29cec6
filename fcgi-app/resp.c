/*
 * resp.c -- building and serialising responses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resp.h"

void
resp_init(struct mfa_resp *r)
{
	memset(r, 0, sizeof(*r));
}

void
resp_free(struct mfa_resp *r)
{
	if (r == NULL)
		return;
	json_decref(r->body);
	r->body = NULL;
}

void
resp_json(struct mfa_resp *r, int status, json_t *body)
{
	json_decref(r->body);
	r->status = status;
	r->body = body;
}

void
resp_error(struct mfa_resp *r, int status, const char *code,
    const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	resp_json(r, status, json_pack("{s:s, s:s}", "error", code,
	    "error_description", desc));
}

void
resp_message(struct mfa_resp *r, int status, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_json(r, status, json_pack("{s:s, s:s}", "code", code, "message",
	    msg));
}

void
resp_internal(struct mfa_resp *r, int err)
{
	if (err == MFA_ERR_BUSY || err == MFA_ERR_FULL)
		resp_error(r, 503, "temporarily_unavailable",
		    "The service is temporarily unavailable; retry later");
	else
		resp_error(r, 500, "server_error", "Internal server error");
	r->www_authenticate[0] = '\0';
}

const char *
resp_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* Header block plus body; a missing body on a non-204 becomes a 500. */
char *
resp_serialize(const struct mfa_resp *r, size_t *len)
{
	char *body = NULL, *out = NULL;
	char extra[RESP_HEADER_MAX + 96] = "";
	size_t blen = 0, hlen;
	int status = r->status, n;

	if (status != 204) {
		if (r->body == NULL || (body = json_dumps(r->body,
		    JSON_COMPACT)) == NULL) {
			status = 500;
			body = strdup("{\"error\":\"server_error\","
			    "\"error_description\":\"Internal server error\"}");
			if (body == NULL)
				return NULL;
		}
		blen = strlen(body);
	}
	if (r->www_authenticate[0] != '\0')
		snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n",
		    r->www_authenticate);
	if (r->allow[0] != '\0')
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		    "Allow: %s\r\n", r->allow);
	hlen = 256 + strlen(extra);
	if ((out = malloc(hlen + blen + 1)) == NULL)
		goto out;
	n = snprintf(out, hlen, "Status: %d %s\r\n%s"
	    "Cache-Control: no-store\r\nPragma: no-cache\r\n"
	    "X-Content-Type-Options: nosniff\r\n%s", status,
	    resp_reason(status),
	    status == 204 ? "" : "Content-Type: application/json\r\n", extra);
	/* RFC 9110 §8.6: no Content-Length on a 204. */
	if (n > 0 && (size_t)n < hlen)
		n += status == 204 ? snprintf(out + n, hlen - (size_t)n,
		    "\r\n") : snprintf(out + n, hlen - (size_t)n,
		    "Content-Length: %zu\r\n\r\n", blen);
	if (n < 0 || (size_t)n >= hlen) {
		free(out);
		out = NULL;
		goto out;
	}
	if (blen > 0)
		memcpy(out + n, body, blen);
	out[n + blen] = '\0';
	*len = (size_t)n + blen;
out:
	free(body);
	return out;
}
