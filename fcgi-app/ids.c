/*
 * ids.c -- identifiers and random handles.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ids.h"

static const char alnum[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Fills "out" with "n" uniformly chosen alphanumerics and a NUL. */
static void
ids_alnum(char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = alnum[randombytes_uniform(sizeof(alnum) - 1)];
	out[n] = '\0';
}

/* 32 random bytes, base64url without padding. */
void
ids_handle(char out[MFA_HANDLE_LEN + 1])
{
	unsigned char raw[MFA_HANDLE_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, MFA_HANDLE_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

/* Exactly MFA_HANDLE_LEN base64url characters, decoding to 32 bytes. */
bool
ids_is_handle(const char *s)
{
	unsigned char raw[MFA_HANDLE_BYTES];
	size_t len = strnlen(s, MFA_HANDLE_LEN + 1), n;
	bool ok;

	if (len != MFA_HANDLE_LEN)
		return false;
	ok = sodium_base642bin(raw, sizeof(raw), s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    n == MFA_HANDLE_BYTES;
	sodium_memzero(raw, sizeof(raw));
	return ok;
}

/* ULID: 10 chars of time (48 bits), 16 chars of randomness (80 bits). */
/* "prefix" + a ULID: 10 Crockford chars of time, 16 of randomness. */
static void
ids_ulid(const char *prefix, mfa_ms now, char *out)
{
	unsigned char rnd[10];
	uint64_t t = (uint64_t)now & 0xFFFFFFFFFFFFULL;
	size_t p = strlen(prefix), i;
	unsigned acc = 0, bits = 0, j = 0;

	memcpy(out, prefix, p);
	for (i = 0; i < 10; i++)
		out[p + i] = crockford[(t >> (45 - 5 * i)) & 31];
	randombytes_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		acc = (acc << 8) | rnd[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[p + 10 + j++] = crockford[(acc >> bits) & 31];
		}
	}
	out[p + 26] = '\0';
}

void
ids_challenge(mfa_ms now, char out[IDS_CHALLENGE_LEN + 1])
{
	ids_ulid(IDS_CHALLENGE_PREFIX, now, out);
}

void
ids_factor(mfa_ms now, char out[IDS_FACTOR_LEN + 1])
{
	ids_ulid(IDS_FACTOR_PREFIX, now, out);
}

/* The prefix and 26 Crockford characters, the first at most '7'. */
bool
ids_is_challenge(const char *s)
{
	size_t p = strlen(IDS_CHALLENGE_PREFIX), i;

	if (strnlen(s, IDS_CHALLENGE_LEN + 1) != IDS_CHALLENGE_LEN ||
	    strncmp(s, IDS_CHALLENGE_PREFIX, p) != 0)
		return false;
	for (i = p; i < IDS_CHALLENGE_LEN; i++)
		if (s[i] == '\0' || strchr(crockford, s[i]) == NULL)
			return false;
	return s[p] <= '7';
}

/* "<kind>|dev_" + 16 alphanumerics. */
void
ids_authenticator(const char *kind, char out[MFA_AUTHN_ID_MAX + 1])
{
	char tail[17];

	ids_alnum(tail, 16);
	snprintf(out, MFA_AUTHN_ID_MAX + 1, "%s|dev_%s", kind, tail);
}

void
ids_client(char out[IDS_CLIENT_LEN + 1])
{
	ids_alnum(out, IDS_CLIENT_LEN);
}

/* Uniform in 000000..999999: no modulo bias (randombytes_uniform). */
void
ids_binding_code(char out[IDS_BINDING_LEN + 1])
{
	snprintf(out, IDS_BINDING_LEN + 1, "%06u",
	    (unsigned)randombytes_uniform(1000000));
}
