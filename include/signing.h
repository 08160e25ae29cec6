/*
 * signing.h -- the Ed25519 keys that sign result tokens, the tokens
 * themselves (compact JWS, "EdDSA") and the key set published at
 * /.well-known/jwks.json.
 *
 * A key is a struct signing_rec in the store: its kid is the RFC 7638
 * thumbprint of the public JWK {"crv":"Ed25519","kty":"OKP","x":...}, its
 * 32-byte seed is sealed with the master key bound to "signing:<kid>", so
 * a seed moved to another record fails to open. Exactly one key is
 * current (retired_at 0); rotation retires it and it stays published
 * until every token it signed has expired.
 */
#ifndef MFA_SIGNING_H
#define MFA_SIGNING_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "keys.h"
#include "mfa.h"
#include "record.h"
#include "store.h"

#define SIGNING_ALG "EdDSA"
#define SIGNING_ACR \
	"http://schemas.openid.net/pape/policies/2007/06/multi-factor"

/* A current key opened for signing: wipe it with signing_key_wipe. */
struct signing_key {
	char kid[RECORD_KID_LEN + 1];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

/*
 * Makes a fresh key in write transaction "txn": a random seed, its kid,
 * the seed sealed under "keys". Every current key is retired first
 * (retired_at = "now", in ms), so the new key is the one current key.
 * "kid" is set only on MFA_OK. Returns MFA_OK or a store or crypto
 * error (the transaction is then poisoned or must be aborted).
 */
int signing_key_create(struct store_txn *txn, const struct keys *keys,
    mfa_ms now, char kid[RECORD_KID_LEN + 1]) MFA_WUR;

/*
 * Makes a key as signing_key_create does only when the store has no
 * current key (what "mfactl init" runs, so it is idempotent). Sets "kid"
 * to the current key's kid and "*created" to whether it was made now.
 * Returns MFA_OK or a store or crypto error.
 */
int signing_key_ensure(struct store_txn *txn, const struct keys *keys,
    mfa_ms now, char kid[RECORD_KID_LEN + 1], bool *created) MFA_WUR;

/*
 * Opens the current key of "txn" into "out" (caller-provided; wiped on
 * every error): the seed unsealed with AD "signing:<kid>" and checked
 * against the stored public key. Returns MFA_OK, MFA_ERR_NOTFOUND (no
 * current key), MFA_ERR_CORRUPT (two current keys, a bad record),
 * MFA_ERR_CRYPTO (the seed does not open or does not match: moved,
 * tampered, another master key) or a store error.
 */
int signing_current(struct store_txn *txn, const struct keys *keys,
    struct signing_key *out) MFA_WUR;

/*
 * The two halves of signing_current, so that the costly one runs outside
 * a write transaction: signing_current_rec copies the one current key's
 * record (still sealed) out of "txn" (MFA_OK, MFA_ERR_NOTFOUND,
 * MFA_ERR_CORRUPT or a store error); signing_open unseals and checks it
 * (MFA_OK, MFA_ERR_CORRUPT or MFA_ERR_CRYPTO; "out" wiped on error).
 */
int signing_current_rec(struct store_txn *txn, struct signing_rec *out)
    MFA_WUR;
int signing_open(const struct keys *keys, const struct signing_rec *r,
    struct signing_key *out) MFA_WUR;

/*
 * signing_open for a worker that signs on every verification: the key
 * last opened in this process is kept (the unsealing and the key pair's
 * derivation, a scalar multiplication, cost about 20 us each time) and
 * copied to "out" while "r" names it by the same kid, public key and
 * sealed seed; any other record is opened and checked afresh.
 * signing_cache_wipe forgets it (sodium_memzero), at a worker's exit.
 */
int signing_open_cached(const struct keys *keys, const struct signing_rec *r,
    struct signing_key *out) MFA_WUR;
void signing_cache_wipe(void);

/* Wipes "k" (sodium_memzero); accepts NULL. */
void signing_key_wipe(struct signing_key *k);

/*
 * Signs "claims" (a JSON object, serialised with JSON_COMPACT in its own
 * key order) as a compact JWS with the header
 * {"alg":"EdDSA","typ":"JWT","kid":<kid>}. "*out" is a new NUL-terminated
 * string the caller frees (free(3)), set only on MFA_OK. Returns MFA_OK,
 * MFA_ERR_INVALID (claims not an object) or MFA_ERR_NOMEM.
 */
int signing_jwt(const struct signing_key *k, const json_t *claims,
    char **out) MFA_WUR;

/*
 * The published key set {"keys":[{"kty":"OKP","crv":"Ed25519","x","kid",
 * "alg":"EdDSA","use":"sig"}, ...]}: the current key first, then each
 * retired key whose retired_at + "keep_s" * 1000 > "now" (ms), in kid
 * order. No current key gives an empty set. "*out" (caller owns) is set
 * only on MFA_OK. Returns MFA_OK, MFA_ERR_INVALID ("keep_s" negative),
 * MFA_ERR_NOMEM or a store error.
 */
int signing_jwks(struct store_txn *txn, mfa_ms now, int64_t keep_s,
    json_t **out) MFA_WUR;

/*
 * Pure: the result-token claims, in this order: iss "issuer", sub "sub",
 * aud ("aud", or ["aud", "extra_aud"] when "extra_aud" is not NULL), iat
 * ("now" in whole seconds), exp (iat + "ttl_s"), auth_time (iat), amr
 * ["mfa", "amr_method"], acr (SIGNING_ACR), jti "jti", and scope "scope"
 * when not NULL. Returns a new object (caller owns), or NULL when a
 * required string is NULL or memory runs out.
 */
json_t *signing_claims(const char *issuer, const char *sub, const char *aud,
    const char *extra_aud, mfa_ms now, int64_t ttl_s,
    const char *amr_method, const char *scope, const char *jti);

#endif
