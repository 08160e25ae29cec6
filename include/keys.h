/*
 * keys.h -- the master key and what is derived from it.
 *
 * The store directory holds master.key: 32 random bytes, mode 0400, never
 * in LMDB. From it (libsodium crypto_kdf) come two subkeys:
 *  - the seal key: XChaCha20-Poly1305 (IETF) AEAD for secrets that must be
 *    recovered (client secrets, TOTP seeds), each bound to its record by
 *    the associated data (kind and id), so a sealed value moved to another
 *    record fails to open;
 *  - the hash key: keyed BLAKE2b-256 for secrets that are only ever
 *    compared (mfa_tokens, oob_codes, binding and recovery codes), with a
 *    domain string so one hash can never stand for another.
 * The keys live in sodium_malloc'd memory, read-only, wiped on free.
 */
#ifndef MFA_KEYS_H
#define MFA_KEYS_H

#include <stddef.h>

#include <sodium.h>

#include "mfa.h"

#define KEYS_FILE "master.key"
#define KEYS_BYTES 32

/* Sealed text: base64url(nonce 24 || ciphertext || tag 16), no padding. */
#define KEYS_SEALED_MAX(n) (((24 + (n) + 16) * 4 + 2) / 3 + 1)

struct keys;

/*
 * Creates "<dir>/master.key" with fresh random bytes and mode 0400 unless
 * it exists. Returns MFA_OK (created), MFA_ERR_EXISTS or MFA_ERR_IO.
 */
int keys_create(const char *dir) MFA_WUR;

/*
 * Loads "<dir>/master.key" and derives the subkeys. "*out" is set only on
 * success; the caller frees it with keys_free. Returns MFA_OK, MFA_ERR_IO
 * (missing, unreadable, wrong size) or MFA_ERR_NOMEM.
 */
int keys_load(const char *dir, struct keys **out) MFA_WUR;

/* Wipes and frees; accepts NULL. */
void keys_free(struct keys *k);

/*
 * Seals "n" bytes of "pt" bound to "ad" (a NUL-terminated string naming
 * the record, e.g. "client_secret:<client_id>") into "out" (room for
 * "outlen" bytes, KEYS_SEALED_MAX(n) suffices) as a NUL-terminated string.
 * Returns MFA_OK or MFA_ERR_TOOBIG.
 */
int keys_seal(const struct keys *k, const char *ad, const unsigned char *pt,
    size_t n, char *out, size_t outlen) MFA_WUR;

/*
 * Opens sealed text "in" bound to "ad" into "pt" (room for "ptmax"
 * bytes); "*n" is the plaintext length. Returns MFA_OK, MFA_ERR_CRYPTO
 * (tampered, moved, wrong key) or MFA_ERR_TOOBIG. On error "pt" is wiped.
 */
int keys_open(const struct keys *k, const char *ad, const char *in,
    unsigned char *pt, size_t ptmax, size_t *n) MFA_WUR;

/*
 * Keyed BLAKE2b-256 of "domain" (NUL-terminated, its NUL included) then
 * "n" bytes of "in", into "out".
 */
void keys_hash(const struct keys *k, const char *domain, const void *in,
    size_t n, unsigned char out[MFA_HASH_BYTES]);

#endif
