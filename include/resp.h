/*
 * resp.h -- a response under construction and its serialisation as a
 * FastCGI (CGI-style) response: "Status:" line, JSON content type and the
 * no-store headers on every response, JSON body.
 */
#ifndef MFA_RESP_H
#define MFA_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "mfa.h"

#define RESP_HEADER_MAX 512

struct mfa_resp {
	int status;        /* HTTP status; 0 until set */
	json_t *body;      /* owned; NULL for an empty body (204) */
	char www_authenticate[RESP_HEADER_MAX]; /* "" for none */
	char allow[64];    /* "" for none (set with 405) */
};

void resp_init(struct mfa_resp *r);

/* Frees the body; accepts NULL. */
void resp_free(struct mfa_resp *r);

/* Sets a success answer; takes ownership of "body" (may be NULL). */
void resp_json(struct mfa_resp *r, int status, json_t *body);

/*
 * Sets an OAuth-style error: {"error": code, "error_description": desc}.
 * "desc" is a printf format. Replaces any earlier body.
 */
void resp_error(struct mfa_resp *r, int status, const char *code,
    const char *fmt, ...) MFA_PRINTF(4, 5);

/*
 * Sets a WorkOS-style error: {"code": code, "message": msg} (the WorkOS
 * compatible endpoints answer in that shape).
 */
void resp_message(struct mfa_resp *r, int status, const char *code,
    const char *fmt, ...) MFA_PRINTF(4, 5);

/* Maps a store/crypto enum mfa_err to a clean 500/503 JSON error. */
void resp_internal(struct mfa_resp *r, int err);

/* The reason phrase of "status" ("Bad Request"); "Unknown" otherwise. */
const char *resp_reason(int status);

/*
 * Serialises "r" into a newly allocated buffer (caller frees) holding the
 * CGI header block and the body; sets "*len". Returns NULL only on
 * allocation failure.
 */
char *resp_serialize(const struct mfa_resp *r, size_t *len);

#endif
