/*
 * jwk_int.h -- what jwk.c shares with jwk_parse.c: the encodings' bounds
 * and the step that finishes a key read from any form. Private: nothing
 * outside fcgi-app/jwk*.c includes it.
 */
#ifndef MFA_JWK_INT_H
#define MFA_JWK_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "jwk.h"

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Largest RSA modulus and public exponent we decode, in bytes. */
#define RSA_N_MAX (JWK_RSA_MAX_BITS / 8 + 1)
#define RSA_E_MAX 32
#define P256_BYTES 32
#define EC_X OSSL_PKEY_PARAM_EC_PUB_X
#define EC_Y OSSL_PKEY_PARAM_EC_PUB_Y

/*
 * Completes "k" (kind and key material set) for "alg": the pin, the
 * library's public-key check when "full" (Ed25519 points are always
 * checked), the thumbprint. Returns MFA_OK, MFA_ERR_INVALID or
 * MFA_ERR_NOMEM, with "*why" (static English) saying what failed; "k"
 * stays the caller's either way.
 */
int jwk_finish(struct jwk_key *k, enum jwk_alg alg, bool full,
    const char **why);

#endif
