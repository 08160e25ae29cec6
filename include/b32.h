/*
 * b32.h -- RFC 4648 base32 (upper-case alphabet A-Z2-7), as used by
 * otpauth:// TOTP secrets. Pure.
 */
#ifndef MFA_B32_H
#define MFA_B32_H

#include <stddef.h>

#include "mfa.h"

/* Length of the encoding of "n" bytes, without padding, without NUL. */
size_t b32_encoded_len(size_t n);

/*
 * Encodes "n" bytes of "in" into "out" (room for "outlen" bytes including
 * the NUL), without '=' padding. Returns MFA_OK or MFA_ERR_TOOBIG.
 */
int b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
    MFA_WUR;

/*
 * Decodes "in" (NUL-terminated): case-insensitive, spaces and '-' ignored
 * (as authenticator apps display secrets), optional trailing '=' padding.
 * Writes at most "outlen" bytes to "out" and sets "*outn". Returns MFA_OK,
 * MFA_ERR_INVALID (bad character, bad padding, non-zero trailing bits) or
 * MFA_ERR_TOOBIG.
 */
int b32_decode(const char *in, unsigned char *out, size_t outlen,
    size_t *outn) MFA_WUR;

#endif
