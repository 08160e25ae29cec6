/*
 * jwt.c -- the JWS compact serialisation of a client assertion: bounded,
 * strict parsing before any crypto, the header rules of RFC 7515 and
 * RFC 8725, key selection among the client's registered keys, and the
 * signature check (libsodium for EdDSA and HS256, OpenSSL EVP for RSA
 * and ECDSA).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "jwt.h"

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

#define ES256_BYTES 64
#define ED25519_SIG_BYTES 64
#define HS256_BYTES 32

/* The order n of the P-256 group, big-endian (SEC 2 §2.4.2). */
/* clang-format off */
static const unsigned char p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
/* clang-format on */

static const char *const jwt_reasons[] = {
	[JWT_ERROR] = "internal error",
	[JWT_TOO_LONG] = "assertion is too long",
	[JWT_JWE] = "encrypted (JWE) assertions are not accepted",
	[JWT_SEGMENTS] = "assertion is not a compact JWS of three segments",
	[JWT_BASE64] = "assertion segment is not base64url without padding",
	[JWT_HEADER_JSON] = "header is not a JSON object",
	[JWT_ALG_MISSING] = "alg is missing or not a string",
	[JWT_ALG_NONE] = "alg none is not accepted",
	[JWT_ALG_UNSUPPORTED] = "alg is not supported",
	[JWT_CRIT] = "crit header parameters are not supported",
	[JWT_TYP] = "typ is not JWT or client-authentication+jwt",
	[JWT_KID_TYPE] = "kid is not a string",
	[JWT_PAYLOAD_JSON] = "payload is not a JSON object",
	[JWT_SIG_LENGTH] = "signature has the wrong length",
	[JWT_NO_KEY] = "client has no registered key",
	[JWT_KID_UNKNOWN] = "kid does not match a registered key",
	[JWT_ALG_FAMILY] = "alg family does not match the client's key type",
	[JWT_ALG_MISMATCH] =
	    "alg does not match the client's registered algorithm",
	[JWT_HMAC_KEY_SHORT] = "client secret is too short for HS256",
	[JWT_SIG_RANGE] = "signature values are out of range",
	[JWT_SIG] = "signature does not verify",
	[JWT_ISS_MISSING] = "iss is missing or not a string",
	[JWT_ISS_MISMATCH] = "iss is not the client_id",
	[JWT_SUB_MISSING] = "sub is missing or not a string",
	[JWT_SUB_MISMATCH] = "sub is not the client_id",
	[JWT_AUD_MISSING] = "aud is missing",
	[JWT_AUD_TYPE] = "aud is not a string or an array of strings",
	[JWT_AUD_ARRAY] = "aud is not this server's issuer as a string",
	[JWT_AUD_MISMATCH] = "aud does not name this server",
	[JWT_EXP_MISSING] = "exp is missing",
	[JWT_EXP_TYPE] = "exp is not an integer",
	[JWT_NBF_TYPE] = "nbf is not an integer",
	[JWT_IAT_TYPE] = "iat is not an integer",
	[JWT_EXPIRED] = "assertion has expired",
	[JWT_NOT_YET_VALID] = "assertion is not yet valid (nbf)",
	[JWT_IAT_FUTURE] = "iat is in the future",
	[JWT_IAT_TOO_OLD] = "iat is too far in the past",
	[JWT_LIFETIME] = "exp is too far in the future",
	[JWT_JTI_MISSING] = "jti is missing",
	[JWT_JTI_BAD] = "jti is not a string of 1 to 64 bytes",
	[JWT_OK] = "ok",
};

/*
 * The fixed English reason for "v".
 */
const char *
jwt_verdict_str(enum jwt_verdict v)
{
	if ((size_t)v >= sizeof(jwt_reasons) / sizeof(jwt_reasons[0]) ||
	    jwt_reasons[v] == NULL)
		return "unknown verdict";
	return jwt_reasons[v];
}

/*
 * Decodes one segment strictly and parses it as a JSON object without
 * duplicate names. Returns the object or NULL; "*b64ok" tells a base64
 * failure from a JSON one.
 */
static json_t *
jwt_segment_json(const char *seg, size_t len, bool *b64ok)
{
	unsigned char *buf;
	json_error_t jerr;
	json_t *o = NULL;
	size_t n;
	int rc;

	*b64ok = false;
	if ((buf = malloc(len + 1)) == NULL)
		return NULL;
	rc = sodium_base642bin(buf, len + 1, seg, len, NULL, &n, NULL, B64V);
	if (rc != 0)
		goto out;
	*b64ok = true;
	/* jansson checks UTF-8 and bounds nesting (JSON_PARSER_MAX_DEPTH). */
	o = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
out:
	free(buf);
	return o;
}

static bool
jwt_typ_is_ok(const json_t *typ)
{
	static const char *const ok[] = { "JWT", "application/jwt",
		"client-authentication+jwt",
		"application/client-authentication+jwt" };
	const char *s = json_string_value(typ);
	size_t i, len = json_string_length(typ);

	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (len == strlen(ok[i]) &&
		    strncasecmp(s, ok[i], len) == 0) /* public */
			return true;
	return false;
}

/* The header rules that need no key. */
static enum jwt_verdict
jwt_header_check(struct jwt *t)
{
	const json_t *alg, *v;
	const char *s;
	size_t len;

	alg = json_object_get(t->header, "alg");
	if (!json_is_string(alg))
		return JWT_ALG_MISSING;
	s = json_string_value(alg);
	len = json_string_length(alg);
	if (len > JWT_ALG_LEN_MAX)
		return JWT_ALG_UNSUPPORTED;
	if (len == 4 && strncasecmp(s, "none", 4) == 0)
		return JWT_ALG_NONE;
	if ((t->alg = jwk_alg_parse(s, len)) == JWK_ALG_INVALID)
		return JWT_ALG_UNSUPPORTED;
	/* We understand no extension, so any "crit" makes it invalid. */
	if (json_object_get(t->header, "crit") != NULL)
		return JWT_CRIT;
	if ((v = json_object_get(t->header, "typ")) != NULL &&
	    !jwt_typ_is_ok(v))
		return JWT_TYP;
	if ((v = json_object_get(t->header, "kid")) != NULL) {
		if (!json_is_string(v))
			return JWT_KID_TYPE;
		t->kid = json_string_value(v);
		t->kidlen = json_string_length(v);
	}
	/* "jwk", "jku", "x5u", "x5c": never a source of keys, ignored. */
	return JWT_OK;
}

/*
 * Parses the compact JWS "token" into "out", before any crypto.
 */
enum jwt_verdict
jwt_parse(const char *token, size_t len, size_t max_len, struct jwt *out)
{
	const char *dot[2] = { NULL, NULL };
	const char *seg;
	size_t i, ndots = 0, seglen, n;
	enum jwt_verdict v;
	bool b64ok;

	if (token == NULL || out == NULL)
		return JWT_ERROR;
	if (len > max_len)
		return JWT_TOO_LONG;
	for (i = 0; i < len; i++)
		if (token[i] == '.') {
			if (ndots < 2)
				dot[ndots] = token + i;
			ndots++;
		}
	if (ndots == 4)
		return JWT_JWE;
	if (ndots != 2)
		return JWT_SEGMENTS;

	out->header = jwt_segment_json(token, (size_t)(dot[0] - token), &b64ok);
	if (out->header == NULL)
		return b64ok ? JWT_HEADER_JSON : JWT_BASE64;
	if ((v = jwt_header_check(out)) != JWT_OK)
		return v;

	seg = dot[0] + 1;
	out->payload = jwt_segment_json(seg, (size_t)(dot[1] - seg), &b64ok);
	if (out->payload == NULL)
		return b64ok ? JWT_PAYLOAD_JSON : JWT_BASE64;

	seg = dot[1] + 1;
	seglen = len - (size_t)(seg - token);
	if (seglen > sodium_base64_ENCODED_LEN(JWT_SIG_MAX, B64V) - 1)
		return JWT_SIG_LENGTH;
	if (sodium_base642bin(out->sig, sizeof(out->sig), seg, seglen, NULL, &n,
	        NULL, B64V) != 0)
		return JWT_BASE64;
	out->siglen = n;

	out->inputlen = (size_t)(dot[1] - token);
	if ((out->input = malloc(out->inputlen + 1)) == NULL)
		return JWT_ERROR;
	memcpy(out->input, token, out->inputlen);
	out->input[out->inputlen] = '\0';
	return JWT_OK;
}

/*
 * The unverified "sub", for the client lookup only.
 */
const char *
jwt_unverified_sub(const struct jwt *t)
{
	const json_t *sub;
	size_t len;

	if (t == NULL || t->payload == NULL)
		return NULL;
	sub = json_object_get(t->payload, "sub");
	if (!json_is_string(sub))
		return NULL;
	len = json_string_length(sub);
	if (len == 0 || len > MFA_CLIENT_ID_MAX ||
	    strlen(json_string_value(sub)) != len)
		return NULL;
	return json_string_value(sub);
}

/*
 * Releases what "t" holds and wipes the signature bytes.
 */
void
jwt_free(struct jwt *t)
{
	if (t == NULL)
		return;
	json_decref(t->header);
	json_decref(t->payload);
	free(t->input);
	sodium_memzero(t, sizeof(*t));
}

/*
 * "sig" over the hash of "in" with the verify context "key" set up once
 * (jwk_finish): the padding and PSS parameters are the key's.
 */
static enum jwt_verdict
jwt_evp_verify(const struct jwk_key *key, const unsigned char *sig,
    size_t siglen, const unsigned char *in, size_t inlen)
{
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	enum jwt_verdict v = JWT_ERROR;

	if (key->verifier == NULL || key->md == NULL)
		return JWT_ERROR;
	if (EVP_Digest(in, inlen, dgst, &dlen, key->md, NULL) == 1)
		v = EVP_PKEY_verify(key->verifier, sig, siglen, dgst, dlen) == 1
		    ? JWT_OK
		    : JWT_SIG;
	ERR_clear_error();
	return v;
}

/* 0 < x < n, on 32 big-endian bytes (memcmp is a numeric compare). */
static bool
jwt_p256_scalar_is_ok(const unsigned char *x)
{
	return !sodium_is_zero(x, 32) && memcmp(x, p256_n, 32) < 0; /* public */
}

/* ES256: raw r||s (RFC 7518 §3.4) to DER for OpenSSL. */
static enum jwt_verdict
jwt_es256_verify(const struct jwk_key *key, const unsigned char *sig,
    const unsigned char *in, size_t inlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	enum jwt_verdict v = JWT_ERROR;
	int derlen;

	if (!jwt_p256_scalar_is_ok(sig) || !jwt_p256_scalar_is_ok(sig + 32))
		return JWT_SIG_RANGE;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by es now */
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	v = jwt_evp_verify(key, der, (size_t)derlen, in, inlen);
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	ERR_clear_error();
	return v;
}

/* HS256 with the client's secret as the key, compared in constant time. */
static enum jwt_verdict
jwt_hs256_verify(const struct jwk_key *key, const unsigned char *sig,
    const unsigned char *in, size_t inlen)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	enum jwt_verdict v;

	crypto_auth_hmacsha256_init(&st, key->secret, key->secretlen);
	crypto_auth_hmacsha256_update(&st, in, inlen);
	crypto_auth_hmacsha256_final(&st, mac);
	v = sodium_memcmp(mac, sig, sizeof(mac)) == 0 ? JWT_OK : JWT_SIG;
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
	return v;
}

/*
 * Checks "sig" over "input" with "key" under "alg".
 */
enum jwt_verdict
jwt_signature_verify(const struct jwk_key *key, enum jwk_alg alg,
    const unsigned char *input, size_t inlen, const unsigned char *sig,
    size_t siglen)
{
	if (key == NULL || input == NULL || (sig == NULL && siglen != 0))
		return JWT_ERROR;
	if (alg == JWK_ALG_INVALID)
		return JWT_ALG_UNSUPPORTED;
	/* RFC 8725 §3.1: one key, one algorithm; never cross the families. */
	if (jwk_alg_is_hmac(alg) != (key->kind == JWK_KIND_HMAC))
		return JWT_ALG_FAMILY;
	if (key->alg != alg)
		return JWT_ALG_MISMATCH;
	if (!jwk_kind_fits_alg(key->kind, alg))
		return JWT_ERROR; /* a key this module did not build */

	switch (alg) {
	case JWK_ALG_EDDSA:
		if (siglen != ED25519_SIG_BYTES)
			return JWT_SIG_LENGTH;
		if (crypto_sign_verify_detached(
		        sig, input, inlen, key->ed25519) != 0)
			return JWT_SIG;
		return JWT_OK;
	case JWK_ALG_HS256:
		if (key->secret == NULL || key->secretlen < JWK_HMAC_MIN)
			return JWT_HMAC_KEY_SHORT;
		if (siglen != HS256_BYTES)
			return JWT_SIG_LENGTH;
		return jwt_hs256_verify(key, sig, input, inlen);
	case JWK_ALG_RS256:
	case JWK_ALG_RS384:
	case JWK_ALG_PS256:
		if (key->pkey == NULL)
			return JWT_ERROR;
		if (siglen != (size_t)EVP_PKEY_get_size(key->pkey))
			return JWT_SIG_LENGTH;
		return jwt_evp_verify(key, sig, siglen, input, inlen);
	case JWK_ALG_ES256:
		if (key->pkey == NULL)
			return JWT_ERROR;
		if (siglen != ES256_BYTES)
			return JWT_SIG_LENGTH;
		return jwt_es256_verify(key, sig, input, inlen);
	default:
		return JWT_ALG_UNSUPPORTED;
	}
}

/* The header kid names "k" by its kid or by its RFC 7638 thumbprint. */
static bool
jwt_kid_names(const struct jwt *t, const struct jwk_key *k)
{
	size_t n;

	if ((n = strlen(k->kid)) > 0 && n == t->kidlen &&
	    memcmp(k->kid, t->kid, n) == 0) /* public */
		return true;
	return (n = strlen(k->thumbprint)) > 0 && n == t->kidlen &&
	    memcmp(k->thumbprint, t->kid, n) == 0; /* public */
}

/* True when at least one key was registered with an explicit kid. */
static bool
jwt_keys_have_kid(struct jwk_key *const *keys, size_t nkeys)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (keys[i]->kid[0] != '\0')
			return true;
	return false;
}

/*
 * Verifies "t" against the client's registered keys.
 */
enum jwt_verdict
jwt_verify(const struct jwt *t, struct jwk_key *const *keys, size_t nkeys,
    size_t *which)
{
	enum jwt_verdict v, worst = JWT_ALG_MISMATCH;
	size_t i, tried = 0;
	bool same_family = false;

	if (t == NULL || t->alg == JWK_ALG_INVALID || t->input == NULL ||
	    t->header == NULL || t->payload == NULL || nkeys > JWK_SET_MAX ||
	    (nkeys > 0 && keys == NULL))
		return JWT_ERROR;
	for (i = 0; i < nkeys; i++)
		if (keys[i] == NULL)
			return JWT_ERROR;
	if (nkeys == 0)
		return JWT_NO_KEY;

	if (t->kid != NULL) {
		for (i = 0; i < nkeys; i++)
			if (jwt_kid_names(t, keys[i]))
				break;
		if (i == nkeys && jwt_keys_have_kid(keys, nkeys))
			return JWT_KID_UNKNOWN;
	}
	/* A kid that names no key of a client that registered none (an
	 * HMAC secret, a bare PEM key) is only a hint: try the keys. */
	if (t->kid != NULL && i < nkeys) {
		v = jwt_signature_verify(keys[i], t->alg,
		    (const unsigned char *)t->input, t->inputlen, t->sig,
		    t->siglen);
		if (v == JWT_OK && which != NULL)
			*which = i;
		return v;
	}

	for (i = 0; i < nkeys; i++) {
		if (jwk_alg_is_hmac(keys[i]->alg) == jwk_alg_is_hmac(t->alg))
			same_family = true;
		if (keys[i]->alg != t->alg)
			continue;
		tried++;
		v = jwt_signature_verify(keys[i], t->alg,
		    (const unsigned char *)t->input, t->inputlen, t->sig,
		    t->siglen);
		if (v == JWT_OK) {
			if (which != NULL)
				*which = i;
			return JWT_OK;
		}
		if (v == JWT_ERROR)
			return JWT_ERROR;
		/* With two keys, "does not verify" beats a length mismatch. */
		if (tried == 1 || v == JWT_SIG)
			worst = v;
	}
	if (tried == 0)
		return same_family ? JWT_ALG_MISMATCH : JWT_ALG_FAMILY;
	return worst;
}
