/*
 * jwk.h -- the keys a client registers for JWT client authentication
 * (RFC 7523): one public key per struct jwk_key (Ed25519, RSA 2048-4096
 * bits, EC P-256), or the client's own secret for client_secret_jwt
 * (HS256). Each key is pinned to exactly one algorithm (RFC 8725 §3.1)
 * and carries an optional "kid" and its RFC 7638 JWK SHA-256 thumbprint.
 *
 * Keys come from a file's bytes (jwk_load: PEM SubjectPublicKeyInfo, PEM
 * X.509 certificate, JWK, or JWKS with at most JWK_SET_MAX keys) or from
 * their stored form (jwk_from_json, the public JWK that jwk_to_json
 * writes). Pure: no file or network I/O; keys named in a file are never
 * fetched ("jku", "x5u" are not followed).
 */
#ifndef MFA_JWK_H
#define MFA_JWK_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

#include "mfa.h"

#define JWK_SET_MAX 2         /* keys per client (rotation) */
#define JWK_KID_MAX 64        /* bytes, printable ASCII */
#define JWK_THUMBPRINT_LEN 43 /* base64url of SHA-256, no padding */
#define JWK_ED25519_BYTES 32
#define JWK_HMAC_MIN 32 /* HS256 key bytes (RFC 7518 §3.2) */
#define JWK_HMAC_MAX 512
#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 4096
#define JWK_FILE_MAX 65536 /* bytes of a key file jwk_load reads */

/* The algorithms a key can be pinned to; zero is "none of them". */
enum jwk_alg {
	JWK_ALG_INVALID = 0,
	JWK_ALG_EDDSA, /* "EdDSA" or "Ed25519" */
	JWK_ALG_RS256,
	JWK_ALG_RS384,
	JWK_ALG_PS256,
	JWK_ALG_ES256,
	JWK_ALG_HS256,
};

enum jwk_kind {
	JWK_KIND_INVALID = 0,
	JWK_KIND_ED25519, /* raw public key, verified with libsodium */
	JWK_KIND_RSA,     /* EVP_PKEY */
	JWK_KIND_EC_P256, /* EVP_PKEY */
	JWK_KIND_HMAC,    /* the client's secret */
};

/*
 * One registered key. Read the fields freely; build and release it only
 * through this module. "kid" is "" when the key has none. "thumbprint" is
 * "" for an HMAC key (its JWK would be the secret).
 */
struct jwk_key {
	enum jwk_kind kind;
	enum jwk_alg alg;
	char kid[JWK_KID_MAX + 1];
	char thumbprint[JWK_THUMBPRINT_LEN + 1];
	unsigned char ed25519[JWK_ED25519_BYTES];
	EVP_PKEY *pkey;        /* RSA and EC only */
	EVP_PKEY_CTX *verifier; /* pkey's verify context for alg, set up once */
	const EVP_MD *md;      /* alg's hash (RSA and EC only) */
	unsigned char *secret; /* HMAC only; wiped on free */
	size_t secretlen;
};

/* jwk.c */

/*
 * Maps an algorithm name ("len" bytes at "name", case-sensitive as JOSE
 * says) to its enum: "EdDSA" and "Ed25519" both give JWK_ALG_EDDSA.
 * Anything else, "none" included, gives JWK_ALG_INVALID.
 */
enum jwk_alg jwk_alg_parse(const char *name, size_t len);

/* Canonical name of "alg" ("EdDSA" for JWK_ALG_EDDSA); "" if invalid. */
const char *jwk_alg_name(enum jwk_alg alg);

/* True for the MAC algorithms (HS256), false for signatures and invalid. */
bool jwk_alg_is_hmac(enum jwk_alg alg);

/* True when "kind" is the one kind of key "alg" can use. */
bool jwk_kind_fits_alg(enum jwk_kind kind, enum jwk_alg alg);

/*
 * Makes an HS256 key from the client's secret ("len" bytes at "secret",
 * 1..JWK_HMAC_MAX; copied, so the caller may wipe its own copy). A secret
 * shorter than JWK_HMAC_MIN is accepted here and refused by jwt_verify
 * with its own verdict, so the client learns why. "kid" may be NULL.
 * Sets "*out" (caller owns, jwk_free) only on MFA_OK. Returns MFA_OK,
 * MFA_ERR_INVALID or MFA_ERR_NOMEM.
 */
int jwk_hmac_new(const unsigned char *secret, size_t len, const char *kid,
    struct jwk_key **out) MFA_WUR;

/*
 * Sets or clears (NULL or "") the kid of "k": 1..JWK_KID_MAX printable
 * ASCII bytes. Returns MFA_OK or MFA_ERR_INVALID (k unchanged).
 */
int jwk_set_kid(struct jwk_key *k, const char *kid) MFA_WUR;

/*
 * Writes the stored form of public key "k": a compact JSON object with
 * sorted keys, the public JWK members ("kty", "crv", "n", "e", "x", "y"),
 * "alg" and, when set, "kid". "*out" is NUL-terminated and owned by the
 * caller (free(3)). Returns MFA_OK, MFA_ERR_INVALID (an HMAC key: its
 * secret is sealed elsewhere, never written here) or MFA_ERR_NOMEM.
 */
int jwk_to_json(const struct jwk_key *k, char **out) MFA_WUR;

/* Releases "k" and wipes its secret (sodium_memzero); accepts NULL. */
void jwk_free(struct jwk_key *k);

/* jwk_parse.c */

/*
 * Parses a key file's bytes "buf" ("len" bytes, at most JWK_FILE_MAX) for
 * a client pinned to "alg" (not HS256: that key is the client secret):
 * a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), a PEM "CERTIFICATE" (its
 * public key; dates and issuer are not checked), a JWK object, or a JWKS
 * {"keys":[...]} with 1..JWK_SET_MAX keys. Every key must fit "alg"
 * (RSA 2048-4096 bits for RS256/RS384/PS256, EC P-256 for ES256, Ed25519
 * for EdDSA) and pass the library's public-key check; a JWK's "alg", when
 * present, must name "alg", its "use", when present, must be "sig", and
 * its "kid", when present, must be 1..JWK_KID_MAX printable ASCII bytes,
 * distinct within the set. Private keys (PEM or a JWK with "d") are
 * refused. On MFA_OK sets keys[0 .. *nkeys - 1], each owned by the caller
 * (jwk_free). On error sets *nkeys to 0 and allocates nothing. "why", if
 * not NULL, is set to a static English reason (never NULL; "" on
 * success). Returns MFA_OK, MFA_ERR_INVALID, MFA_ERR_TOOBIG (file or set
 * too large) or MFA_ERR_NOMEM.
 */
int jwk_load(const unsigned char *buf, size_t len, enum jwk_alg alg,
    struct jwk_key *keys[JWK_SET_MAX], size_t *nkeys, const char **why) MFA_WUR;

/*
 * Reads back what jwk_to_json wrote ("len" bytes at "json"): one public
 * JWK object whose "alg" is required and pins the key. The checks of
 * jwk_load apply, except OpenSSL's public-key check (run when the key was
 * registered; a stored key is trusted that far). Sets "*out" (caller
 * owns, jwk_free) only on MFA_OK. Returns MFA_OK, MFA_ERR_CORRUPT (not a
 * valid stored key) or MFA_ERR_NOMEM.
 */
int jwk_from_json(const char *json, size_t len, struct jwk_key **out) MFA_WUR;

#endif
