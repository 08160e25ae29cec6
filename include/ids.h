/*
 * ids.h -- identifiers and random handles, all from libsodium's CSPRNG.
 *
 *  handle        32 random bytes as base64url without padding (43 chars):
 *                mfa_tokens, oob_codes, client secrets
 *  challenge id  "auth_challenge_" + ULID (48-bit ms time + 80 random bits,
 *                26 Crockford base32 chars): time-ordered, WorkOS style
 *  authenticator "totp|dev_", "sms|dev_", "voice|dev_", "email|dev_",
 *                "recovery-code|dev_" + 16 alphanumerics (Auth0 style)
 *  client id     32 alphanumerics (about 190 bits)
 *  binding code  6 decimal digits, uniform (randombytes_uniform)
 */
#ifndef MFA_IDS_H
#define MFA_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "mfa.h"

#define IDS_CHALLENGE_PREFIX "auth_challenge_"
#define IDS_CHALLENGE_LEN (15 + 26)
#define IDS_FACTOR_PREFIX "auth_factor_"
#define IDS_FACTOR_LEN (12 + 26)
#define IDS_CLIENT_LEN 32
#define IDS_BINDING_LEN 6

/* Writes a fresh handle (MFA_HANDLE_LEN chars + NUL) into "out". */
void ids_handle(char out[MFA_HANDLE_LEN + 1]);

/* True when "s" has the exact shape of a handle. */
bool ids_is_handle(const char *s);

/* A fresh challenge id for time "now" into "out" (IDS_CHALLENGE_LEN+1). */
void ids_challenge(mfa_ms now, char out[IDS_CHALLENGE_LEN + 1]);

/* A fresh WorkOS-style factor id "auth_factor_<ULID>" for "now". */
void ids_factor(mfa_ms now, char out[IDS_FACTOR_LEN + 1]);

/* True when "s" has the exact shape of a challenge id. */
bool ids_is_challenge(const char *s);

/*
 * A fresh authenticator id with kind prefix "kind" ("totp", "sms",
 * "voice", "email", "recovery-code") into "out" (MFA_AUTHN_ID_MAX+1).
 */
void ids_authenticator(const char *kind, char out[MFA_AUTHN_ID_MAX + 1]);

/* A fresh client id (IDS_CLIENT_LEN alphanumerics + NUL). */
void ids_client(char out[IDS_CLIENT_LEN + 1]);

/* A fresh 6-digit binding code (+ NUL). */
void ids_binding_code(char out[IDS_BINDING_LEN + 1]);

#endif
