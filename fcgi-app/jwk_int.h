/*
 * jwk_int.h -- what jwk.c shares with jwk_parse.c: the encodings' bounds
 * and the steps that finish a key read from any form.
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

/* "v" is a JSON string of exactly the bytes of "want". */
bool jwk_str_is(const json_t *v, const char *want);

/*
 * Completes "k" (kind and key material set) for "alg": the pin, the
 * library check when "full", the thumbprint. "*why" says what failed.
 */
int jwk_finish(struct jwk_key *k, enum jwk_alg alg, bool full,
    const char **why);

/*
 * Classifies "pkey" (ownership taken, freed on error) into a new key
 * pinned to "alg" (RSA 2048..4096 bits, EC P-256, Ed25519).
 */
int jwk_from_pkey(EVP_PKEY *pkey, enum jwk_alg alg, struct jwk_key **out,
    const char **why);

#endif
