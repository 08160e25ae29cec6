/*
 * mfa.h -- the project's one error-code space and the limits every module
 * shares.
 *
 * Return convention (see README "Return convention"):
 *  - an int function returns MFA_OK (0) or a negative enum mfa_err;
 *  - predicates return bool and are named *_is_* / *_has_*;
 *  - teardown returns void and accepts NULL;
 *  - a security decision returns an enum whose zero value is the error,
 *    so a zeroed struct fails closed.
 */
#ifndef MFA_H
#define MFA_H

#include <stddef.h>
#include <stdint.h>

#define MFA_VERSION "0.1.0"

#if defined(__GNUC__)
#define MFA_WUR __attribute__((warn_unused_result))
#define MFA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MFA_WUR
#define MFA_PRINTF(a, b)
#endif

enum mfa_err {
	MFA_OK = 0,
	MFA_ERR_NOTFOUND = -1, /* no such record */
	MFA_ERR_EXISTS = -2,   /* key already present */
	MFA_ERR_INVALID = -3,  /* bad input value */
	MFA_ERR_STORE = -4,    /* LMDB failed; transaction aborted */
	MFA_ERR_FULL = -5,     /* store map is full */
	MFA_ERR_BUSY = -6,     /* temporarily unavailable (readers full) */
	MFA_ERR_CRYPTO = -7,   /* sealed data failed to open (tampered) */
	MFA_ERR_IO = -8,       /* file system or socket I/O failed */
	MFA_ERR_NOMEM = -9,    /* allocation failed */
	MFA_ERR_TOOBIG = -10,  /* over a configured bound */
	MFA_ERR_CORRUPT = -11, /* stored record failed to decode */
	MFA_ERR_CONFIG = -12,  /* configuration error */
	MFA_ERR_LIMIT = -13,   /* rate limit reached */
};

/* Names an enum mfa_err; never NULL, never allocates. */
const char *mfa_strerror(int err);

/* Bounds on identifiers and stored strings (bytes, without the NUL). */
#define MFA_CLIENT_ID_MAX 64
#define MFA_NAME_MAX 64
#define MFA_USER_ID_MAX 128
#define MFA_AUTHN_ID_MAX 64
#define MFA_CHALLENGE_ID_MAX 64
#define MFA_DEST_MAX 254 /* an e-mail address (RFC 5321 path limit) */
#define MFA_SCOPE_MAX 256

/* Opaque random handles: 32 random bytes, base64url without padding. */
#define MFA_HANDLE_BYTES 32
#define MFA_HANDLE_LEN 43
/* A keyed hash as stored (BLAKE2b-256). */
#define MFA_HASH_BYTES 32

/* Time in milliseconds since the Unix epoch, always passed in. */
typedef int64_t mfa_ms;

/* challenge types, as a bit set */
enum challenge_type {
	CT_OTP = 1u << 0,
	CT_OOB = 1u << 1,
};
#define CT_ALL (CT_OTP | CT_OOB)

#endif /* MFA_H */
