/*
 * basic.h -- the client_secret_basic credentials of RFC 6749 §2.3.1:
 * "Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))".
 * Pure.
 */
#ifndef MFA_BASIC_H
#define MFA_BASIC_H

#include <stdbool.h>
#include <stddef.h>

#include "mfa.h"

#define BASIC_SECRET_MAX 256

enum basic_result {
	BASIC_MALFORMED = 0, /* Basic scheme, but credentials do not decode */
	BASIC_NOT_BASIC,     /* no header, or another scheme (Bearer, ...) */
	BASIC_OK,
};

struct basic_creds {
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char secret[BASIC_SECRET_MAX + 1];
};

/*
 * Decodes the Authorization header value "header" (may be NULL). The
 * scheme name is case-insensitive; exactly one space (or more) follows it;
 * base64 must be standard alphabet with padding; the decoded text must hold
 * a ':'; both parts are form-urlencoded (RFC 6749 Appendix B) and must be
 * valid UTF-8 without control characters, client_id non-empty and within
 * MFA_CLIENT_ID_MAX bytes, secret within BASIC_SECRET_MAX bytes. "out" is
 * set only on BASIC_OK; the caller wipes it with basic_creds_wipe.
 */
enum basic_result basic_decode(const char *header, struct basic_creds *out)
    MFA_WUR;

/* Wipes the secret (sodium_memzero); accepts NULL. */
void basic_creds_wipe(struct basic_creds *c);

#endif
