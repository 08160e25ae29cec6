/*
 * jwt.h -- JWT client assertions (RFC 7523, OpenID Connect Core §9):
 * the JWS compact serialisation, checked with bounds before any crypto
 * (jwt.c), and the RFC 7523 §3 claim rules (jwt_claims.c). Pure: time is
 * passed in, nothing is logged, nothing is fetched.
 *
 * The lead's flow (client lookup needs the unverified "sub"):
 *
 *	struct jwt t = { 0 };
 *	v = jwt_parse(assertion, len, max_len, &t);       structure, header
 *	sub = jwt_unverified_sub(&t);                     find the client
 *	v = jwt_verify(&t, keys, nkeys, &which);          alg pin, kid, sig
 *	v = jwt_claims_check(t.payload, &policy, &claims); iss sub aud exp ...
 *	jwt_free(&t);
 *	... then claims.client_id / claims.jti / claims.exp to the jti table.
 *
 * Each step returns an enum jwt_verdict: JWT_OK, JWT_ERROR (zero: an
 * internal failure, never a success, answer 500) or the one check that
 * failed (answer 401 invalid_client with jwt_verdict_str as the
 * error_description: it names the check, never key material).
 */
#ifndef MFA_JWT_H
#define MFA_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jwk.h"
#include "mfa.h"

#define JWT_MAX_LEN_DEFAULT 2048 /* bytes of the compact JWS */
#define JWT_LIFETIME_DEFAULT 300 /* seconds from iat (or now) to exp */
#define JWT_SKEW_DEFAULT 10      /* seconds of clock skew */
#define JWT_LIFETIME_MAX 86400   /* policy sanity bounds */
#define JWT_SKEW_MAX 3600
#define JWT_ALG_LEN_MAX 16 /* header "alg" bytes */
#define JWT_JTI_MAX 64     /* bytes */
#define JWT_SIG_MAX 512    /* bytes: RSA-4096 */

enum jwt_verdict {
	JWT_ERROR = 0, /* internal failure (allocation, library) */
	/* jwt_parse: structure and header, before any crypto */
	JWT_TOO_LONG,
	JWT_JWE,
	JWT_SEGMENTS,
	JWT_BASE64,
	JWT_HEADER_JSON,
	JWT_ALG_MISSING,
	JWT_ALG_NONE,
	JWT_ALG_UNSUPPORTED,
	JWT_CRIT,
	JWT_TYP,
	JWT_KID_TYPE,
	JWT_PAYLOAD_JSON,
	JWT_SIG_LENGTH,
	/* jwt_verify: key selection and signature */
	JWT_NO_KEY,
	JWT_KID_UNKNOWN,
	JWT_ALG_FAMILY,
	JWT_ALG_MISMATCH,
	JWT_HMAC_KEY_SHORT,
	JWT_SIG_RANGE,
	JWT_SIG,
	/* jwt_claims_check: RFC 7523 §3 */
	JWT_ISS_MISSING,
	JWT_ISS_MISMATCH,
	JWT_SUB_MISSING,
	JWT_SUB_MISMATCH,
	JWT_AUD_MISSING,
	JWT_AUD_TYPE,
	JWT_AUD_ARRAY,
	JWT_AUD_MISMATCH,
	JWT_EXP_MISSING,
	JWT_EXP_TYPE,
	JWT_NBF_TYPE,
	JWT_IAT_TYPE,
	JWT_EXPIRED,
	JWT_NOT_YET_VALID,
	JWT_IAT_FUTURE,
	JWT_IAT_TOO_OLD,
	JWT_LIFETIME,
	JWT_JTI_MISSING,
	JWT_JTI_BAD,
	JWT_OK,
};

/*
 * A parsed, not yet verified, compact JWS. Zero it before jwt_parse;
 * everything in it is owned by it and released by jwt_free.
 */
struct jwt {
	json_t *header;   /* JSON object */
	json_t *payload;  /* JSON object (claims), unverified */
	enum jwk_alg alg; /* from the header; never JWK_ALG_INVALID */
	const char *kid;  /* header "kid", borrowed from header; or NULL */
	size_t kidlen;    /* may hold NUL bytes: compare with the length */
	char *input;      /* the signing input "b64(header).b64(payload)" */
	size_t inputlen;
	unsigned char sig[JWT_SIG_MAX];
	size_t siglen;
};

/*
 * What jwt_claims_check expects. "client_id" (iss and sub, compared byte
 * for byte) and the "naudiences" strings in "audiences" (the issuer with
 * and without its trailing slash; the endpoint URL too in legacy mode)
 * are borrowed. "aud" is one of them as a string; with "aud_array" also
 * an array of strings holding one (legacy: checklist F2 and
 * draft-ietf-oauth-rfc7523bis want the issuer as the sole audience, else
 * JWT_AUD_ARRAY). "now" is seconds since the epoch; "max_lifetime"
 * 1..JWT_LIFETIME_MAX and "skew" 0..JWT_SKEW_MAX seconds. A zeroed
 * policy fails (JWT_ERROR).
 */
struct jwt_policy {
	const char *client_id;
	const char *const *audiences;
	size_t naudiences;
	bool aud_array;
	int64_t now;
	int64_t max_lifetime;
	int64_t skew;
};

/* What the jti replay table needs, set only on JWT_OK. */
struct jwt_claims {
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char jti[JWT_JTI_MAX + 1]; /* no NUL bytes inside */
	int64_t exp;               /* seconds; keep the jti until then */
};

/* jwt.c */

/*
 * Parses the compact JWS "token" ("len" bytes, need not be NUL-terminated)
 * into "out" (zeroed by the caller), all before any crypto: len at most
 * "max_len" (JWT_MAX_LEN_DEFAULT is the default the caller passes);
 * exactly two dots (four is a JWE: JWT_JWE); each segment strict base64url
 * without padding ('=', '+', '/', whitespace and non-zero trailing bits
 * refused); header and payload UTF-8 JSON objects without duplicate
 * names; "alg" a string of at most JWT_ALG_LEN_MAX bytes, never "none"
 * in any case, one of jwk_alg_parse's names; no "crit"; "typ" absent or
 * "JWT" or "client-authentication+jwt", case-insensitive, with or without
 * "application/" (RFC 7515 §4.1.9); "kid" absent or a string; signature
 * at most JWT_SIG_MAX bytes. "jwk", "jku", "x5u" and "x5c" are ignored.
 * On any verdict "out" may hold allocations: always call jwt_free.
 * Returns JWT_OK, a parse verdict or JWT_ERROR.
 */
enum jwt_verdict jwt_parse(
    const char *token, size_t len, size_t max_len, struct jwt *out) MFA_WUR;

/*
 * The unverified "sub" of a parsed token, to find the client whose keys
 * verify it: a string of 1..MFA_CLIENT_ID_MAX bytes without NUL, borrowed
 * until jwt_free; NULL otherwise. Never an authentication result.
 */
const char *jwt_unverified_sub(const struct jwt *t);

/*
 * Verifies the signature of "t" against the client's registered keys
 * ("nkeys" of them at "keys", 0..JWK_SET_MAX). The header "kid", when
 * present, selects the one key whose kid or RFC 7638 thumbprint equals
 * it; when none does, that is JWT_KID_UNKNOWN if the client registered
 * keys with kids, and otherwise the kid is only a hint (an HMAC secret or
 * a bare PEM key has no kid of its own). Absent (or a hint), every key
 * pinned to the header alg is tried. The header alg must be the key's pinned alg (EdDSA and
 * Ed25519 are one): an HMAC alg against public keys or the reverse is
 * JWT_ALG_FAMILY, another alg JWT_ALG_MISMATCH. HS256 needs a secret of
 * at least JWK_HMAC_MIN bytes (JWT_HMAC_KEY_SHORT). "which", if not NULL,
 * is set to the index of the key that verified, only on JWT_OK.
 */
enum jwt_verdict jwt_verify(const struct jwt *t, struct jwk_key *const *keys,
    size_t nkeys, size_t *which) MFA_WUR;

/*
 * The signature step alone: checks "sig" ("siglen" bytes, raw JWS form)
 * over "input" ("inlen" bytes) with "key" under "alg", which must be the
 * key's pinned alg. ES256 takes exactly 64 bytes r||s (RFC 7518 §3.4)
 * with 0 < r, s < n (JWT_SIG_RANGE); RSA exactly the modulus size;
 * EdDSA 64; HS256 32, compared in constant time. Returns JWT_OK,
 * JWT_SIG, JWT_SIG_LENGTH, JWT_SIG_RANGE, JWT_ALG_FAMILY,
 * JWT_ALG_MISMATCH, JWT_HMAC_KEY_SHORT or JWT_ERROR.
 */
enum jwt_verdict jwt_signature_verify(const struct jwk_key *key,
    enum jwk_alg alg, const unsigned char *input, size_t inlen,
    const unsigned char *sig, size_t siglen) MFA_WUR;

/* Releases what "t" holds, wipes the signature bytes; accepts NULL. */
void jwt_free(struct jwt *t);

/* The fixed English reason for "v"; never NULL, never key material. */
const char *jwt_verdict_str(enum jwt_verdict v);

/* jwt_claims.c */

/*
 * Applies RFC 7523 §3 to the verified claims "payload" under "p":
 * "iss" and "sub" strings equal to p->client_id; "aud" a string or an
 * array of strings, one of them equal to one of p->audiences; "exp" a
 * JSON integer with exp > now - skew and
 * exp <= (iat if present, else now) + max_lifetime + skew (so an exp in
 * milliseconds fails); "nbf", if present, an integer <= now + skew;
 * "iat", if present, an integer with now - max_lifetime - skew <= iat <=
 * now + skew; "jti" a string of 1..JWT_JTI_MAX bytes without NUL. Sets
 * "out" only on JWT_OK. Returns JWT_OK, a claim verdict, or JWT_ERROR for
 * a bad policy.
 */
enum jwt_verdict jwt_claims_check(const json_t *payload,
    const struct jwt_policy *p, struct jwt_claims *out) MFA_WUR;

#endif
