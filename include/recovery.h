/*
 * recovery.h -- recovery codes: 24 upper-case alphanumerics (Auth0's
 * format; about 124 bits), single use, stored only as a keyed hash whose
 * domain names the user. Pure apart from the CSPRNG.
 */
#ifndef MFA_RECOVERY_H
#define MFA_RECOVERY_H

#include <stdbool.h>

#include "keys.h"

#define RECOVERY_LEN 24
#define RECOVERY_SET 10 /* codes made by "mfactl user recovery-codes" */

/* A fresh code into "out" (RECOVERY_LEN + 1 bytes). */
void recovery_make(char out[RECOVERY_LEN + 1]);

/*
 * Normalises a presented code into "out": spaces and '-' are dropped,
 * letters upper-cased. False (out wiped) unless exactly RECOVERY_LEN
 * alphanumerics remain.
 */
bool recovery_normalize(const char *in, char out[RECOVERY_LEN + 1])
    MFA_WUR;

/* The stored form of "code" for "user_id". */
void recovery_hash(const struct keys *keys, const char *user_id,
    const char *code, unsigned char out[MFA_HASH_BYTES]);

#endif
