/*
 * bearer.h -- the token of an "Authorization: Bearer" header (RFC 6750
 * §2.1: the scheme is case-insensitive, the credentials a token68). Pure.
 */
#ifndef MFA_BEARER_H
#define MFA_BEARER_H

#include <stddef.h>

#include "mfa.h"

enum bearer_result {
	BEARER_MALFORMED = 0, /* Bearer scheme with a bad or over-long token */
	BEARER_ABSENT,        /* no header, or another scheme */
	BEARER_OK,
};

/* Copies the token into "out" ("outlen" bytes) only on BEARER_OK. */
enum bearer_result bearer_parse(const char *header, char *out,
    size_t outlen) MFA_WUR;

#endif
