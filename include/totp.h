/*
 * totp.h -- HOTP (RFC 4226) and TOTP (RFC 6238): code generation, the
 * verification decision with its replay rule, and the otpauth:// key URI.
 * Pure: time is passed in, the replay state (last accepted step) is passed
 * in and the new one handed back; no I/O. The one global is a per-process
 * cache of OpenSSL's HMAC, its digest chosen and no key (nothing secret).
 */
#ifndef MFA_TOTP_H
#define MFA_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "mfa.h"

#define TOTP_DIGITS_MIN 6
#define TOTP_DIGITS_MAX 8
/* Room for a code and its NUL (hotp_code's "out"). */
#define TOTP_CODE_BUFSZ 10
/* Largest window_back / window_fwd totp_verify accepts (bounds work). */
#define TOTP_WINDOW_MAX 10

enum totp_alg {
	TOTP_ALG_INVALID = 0,
	TOTP_SHA1,
	TOTP_SHA256,
	TOTP_SHA512,
};

/* "SHA1", "SHA256", "SHA512"; NULL for TOTP_ALG_INVALID or out of range. */
const char *totp_alg_name(enum totp_alg alg);

/*
 * Parses "s" ("SHA1", "SHA256", "SHA512", any case; may be NULL) into
 * "*out", set only on success. Returns MFA_OK or MFA_ERR_INVALID.
 */
int totp_alg_parse(const char *s, enum totp_alg *out) MFA_WUR;

/*
 * The HOTP value of "key" ("keylen" > 0 bytes) at "counter": HMAC with
 * "alg" (OpenSSL), dynamic truncation, modulo 10^"digits" (6..8), written
 * to "out" as exactly "digits" ASCII digits with leading zeros kept, then
 * a NUL. Returns MFA_OK, MFA_ERR_INVALID (bad alg, digits or key) or
 * MFA_ERR_CRYPTO (HMAC failed); on error "out" holds "". Intermediate
 * values are wiped.
 */
int hotp_code(enum totp_alg alg, const unsigned char *key, size_t keylen,
    uint64_t counter, unsigned digits, char out[TOTP_CODE_BUFSZ]) MFA_WUR;

/*
 * The RFC 6238 time step: floor(unix_seconds / period) with T0 = 0, in 64
 * bits (past 2038 and 2106). 0 when "unix_seconds" < 0 or "period" is 0.
 */
uint64_t totp_step(int64_t unix_seconds, unsigned period);

/* A verification decision; the zero value is the error (fails closed). */
enum totp_verdict {
	TOTP_ERROR = 0,  /* bad parameters or HMAC failure: deny */
	TOTP_MALFORMED,  /* the code is not exactly "digits" ASCII digits */
	TOTP_MISMATCH,   /* no step of the window gives this code */
	TOTP_REPLAY,     /* matches, but at or before the last used step */
	TOTP_OK,
};

struct totp_params {
	enum totp_alg alg;
	unsigned digits;      /* 6..8 */
	unsigned period;      /* seconds, > 0; 30 is the RFC default */
	unsigned window_back; /* steps accepted before T, <= TOTP_WINDOW_MAX */
	unsigned window_fwd;  /* steps accepted after T, <= TOTP_WINDOW_MAX */
};

/*
 * Decides whether "code" (NUL-terminated; may be NULL) is the TOTP of
 * "key" ("keylen" bytes) at time "now_s" under "p".
 *
 * "code" must be exactly p->digits ASCII digits, else TOTP_MALFORMED
 * (spaces, signs, full-width digits, short or long codes). Every step of
 * the window [T - window_back, T + window_fwd] (clamped at step 0) is
 * computed and compared with sodium_memcmp, with no early exit, and the
 * intermediate codes are wiped. When several steps match, the latest one
 * counts. A match at a step <= "last_step" (-1: no step used yet) is
 * TOTP_REPLAY: RFC 6238 §5.2's "MUST NOT accept the second attempt",
 * made monotonic, so an older code of the window is also refused once a
 * newer one was accepted. Otherwise a match is TOTP_OK and
 * "*matched_step" (may be NULL) is set to its step: only on TOTP_OK. The
 * caller stores it as the new last step in the same transaction that
 * read "last_step".
 */
enum totp_verdict totp_verify(const struct totp_params *p,
    const unsigned char *key, size_t keylen, const char *code,
    int64_t now_s, int64_t last_step, int64_t *matched_step) MFA_WUR;

/*
 * Writes the Key URI (Google Authenticator "Key Uri Format") to "out"
 * ("outlen" bytes including the NUL):
 *   otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER
 *       &algorithm=SHA1&digits=6&period=30
 * ISSUER, ACCOUNT and B32 are percent-encoded (RFC 3986 unreserved
 * characters kept, every other byte %XX in upper case); the ':' between
 * issuer and account is literal. A NULL or empty "issuer" drops the
 * prefix and the issuer parameter. The URI holds the secret: the caller
 * wipes "out". Returns MFA_OK, MFA_ERR_INVALID (empty account or secret,
 * bad alg, digits or period) or MFA_ERR_TOOBIG (does not fit; "out" then
 * holds "").
 */
int totp_uri(char *out, size_t outlen, const char *issuer,
    const char *account, const char *secret_b32, enum totp_alg alg,
    unsigned digits, unsigned period) MFA_WUR;

#endif
