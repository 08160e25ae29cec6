/*
 * jwk.c -- registered client keys for RFC 7523 assertions: the algorithms,
 * a key's checks and its pin to one algorithm (RFC 8725 §3.1), RFC 7638
 * thumbprints, the stored JWK form written out, and the HS256 key built
 * from a client secret. Reading keys in is jwk_parse.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "jwk_int.h"

static const struct {
	const char *name;
	enum jwk_alg alg;
} jwk_algs[] = {
	{ "EdDSA", JWK_ALG_EDDSA },
	{ "Ed25519", JWK_ALG_EDDSA },
	{ "RS256", JWK_ALG_RS256 },
	{ "RS384", JWK_ALG_RS384 },
	{ "PS256", JWK_ALG_PS256 },
	{ "ES256", JWK_ALG_ES256 },
	{ "HS256", JWK_ALG_HS256 },
};

/*
 * Maps "len" bytes at "name" to an algorithm; JWK_ALG_INVALID otherwise.
 */
enum jwk_alg
jwk_alg_parse(const char *name, size_t len)
{
	size_t i;

	if (name == NULL)
		return JWK_ALG_INVALID;
	for (i = 0; i < sizeof(jwk_algs) / sizeof(jwk_algs[0]); i++)
		if (strlen(jwk_algs[i].name) == len &&
		    memcmp(jwk_algs[i].name, name, len) == 0)
			return jwk_algs[i].alg;
	return JWK_ALG_INVALID;
}

/*
 * Canonical name of "alg"; "" when invalid.
 */
const char *
jwk_alg_name(enum jwk_alg alg)
{
	size_t i;

	for (i = 0; i < sizeof(jwk_algs) / sizeof(jwk_algs[0]); i++)
		if (jwk_algs[i].alg == alg)
			return jwk_algs[i].name;
	return "";
}

/*
 * True for the MAC algorithms.
 */
bool
jwk_alg_is_hmac(enum jwk_alg alg)
{
	return alg == JWK_ALG_HS256;
}

/*
 * True when a key of "kind" is the one kind "alg" can use.
 */
bool
jwk_kind_fits_alg(enum jwk_kind kind, enum jwk_alg alg)
{
	switch (alg) {
	case JWK_ALG_EDDSA:
		return kind == JWK_KIND_ED25519;
	case JWK_ALG_RS256:
	case JWK_ALG_RS384:
	case JWK_ALG_PS256:
		return kind == JWK_KIND_RSA;
	case JWK_ALG_ES256:
		return kind == JWK_KIND_EC_P256;
	case JWK_ALG_HS256:
		return kind == JWK_KIND_HMAC;
	default:
		return false;
	}
}

/* Adds the string "value" to "obj" under "name". */
static int
jwk_put_str(json_t *obj, const char *name, const char *value)
{
	if (json_object_set_new(obj, name, json_string(value)) != 0)
		return MFA_ERR_NOMEM;
	return MFA_OK;
}

/* Adds base64url("n" bytes at "b") to "obj" under "name". */
static int
jwk_put_b64(json_t *obj, const char *name, const unsigned char *b, size_t n)
{
	char buf[sodium_base64_ENCODED_LEN(RSA_N_MAX, B64V)];

	if (sodium_base64_ENCODED_LEN(n, B64V) > sizeof(buf))
		return MFA_ERR_INVALID;
	sodium_bin2base64(buf, sizeof(buf), b, n, B64V);
	if (json_object_set_new(obj, name, json_string(buf)) != 0)
		return MFA_ERR_NOMEM;
	return MFA_OK;
}

/* Adds the big-endian bytes of BIGNUM parameter "param" of "pkey". */
static int
jwk_put_bn(json_t *obj, const char *name, const EVP_PKEY *pkey,
    const char *param, int pad)
{
	unsigned char buf[RSA_N_MAX];
	BIGNUM *bn = NULL;
	int n, rc = MFA_ERR_INVALID;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		goto out;
	if (BN_num_bytes(bn) > (int)sizeof(buf) || pad > (int)sizeof(buf))
		goto out;
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	if (n <= 0)
		goto out;
	rc = jwk_put_b64(obj, name, buf, (size_t)n);
out:
	BN_free(bn);
	ERR_clear_error();
	return rc;
}

/*
 * The required public members of "k" (RFC 7638 §3.2), as a new object:
 * what the thumbprint hashes and what jwk_to_json starts from.
 */
static int
jwk_members(const struct jwk_key *k, json_t **out)
{
	json_t *o;
	int rc = MFA_ERR_INVALID;

	if ((o = json_object()) == NULL)
		return MFA_ERR_NOMEM;
	switch (k->kind) {
	case JWK_KIND_ED25519:
		rc = jwk_put_str(o, "kty", "OKP");
		if (rc == MFA_OK)
			rc = jwk_put_str(o, "crv", "Ed25519");
		if (rc == MFA_OK)
			rc = jwk_put_b64(o, "x", k->ed25519, JWK_ED25519_BYTES);
		break;
	case JWK_KIND_RSA:
		rc = jwk_put_str(o, "kty", "RSA");
		if (rc == MFA_OK)
			rc = jwk_put_bn(
			    o, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		if (rc == MFA_OK)
			rc = jwk_put_bn(
			    o, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		break;
	case JWK_KIND_EC_P256:
		rc = jwk_put_str(o, "kty", "EC");
		if (rc == MFA_OK)
			rc = jwk_put_str(o, "crv", "P-256");
		if (rc == MFA_OK)
			rc = jwk_put_bn(o, "x", k->pkey, EC_X, P256_BYTES);
		if (rc == MFA_OK)
			rc = jwk_put_bn(o, "y", k->pkey, EC_Y, P256_BYTES);
		break;
	default:
		break;
	}
	if (rc != MFA_OK)
		json_decref(o);
	else
		*out = o;
	return rc;
}

/*
 * RFC 7638: SHA-256 over the required members in lexicographic order,
 * no whitespace. jansson's compact, sorted output is exactly that form
 * for these members (base64url and fixed names never need escaping).
 */
static int
jwk_thumbprint(struct jwk_key *k)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	json_t *o = NULL;
	char *s;
	int rc;

	if ((rc = jwk_members(k, &o)) != MFA_OK)
		return rc;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (s == NULL)
		return MFA_ERR_NOMEM;
	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	free(s);
	sodium_bin2base64(
	    k->thumbprint, sizeof(k->thumbprint), h, sizeof(h), B64V);
	return MFA_OK;
}

static bool
jwk_kid_is_valid(const char *kid, size_t len)
{
	size_t i;

	if (len == 0 || len > JWK_KID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (kid[i] < 0x20 || kid[i] > 0x7e)
			return false;
	return true;
}

/*
 * Sets or clears the kid of "k".
 */
int
jwk_set_kid(struct jwk_key *k, const char *kid)
{
	size_t len;

	if (k == NULL)
		return MFA_ERR_INVALID;
	if (kid == NULL || *kid == '\0') {
		k->kid[0] = '\0';
		return MFA_OK;
	}
	len = strlen(kid);
	if (!jwk_kid_is_valid(kid, len))
		return MFA_ERR_INVALID;
	memcpy(k->kid, kid, len + 1);
	return MFA_OK;
}

/*
 * Releases "k", wiping the secret; accepts NULL.
 */
void
jwk_free(struct jwk_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_CTX_free(k->verifier);
	EVP_PKEY_free(k->pkey);
	if (k->secret != NULL) {
		sodium_memzero(k->secret, k->secretlen);
		free(k->secret);
	}
	sodium_memzero(k, sizeof(*k));
	free(k);
}

/*
 * Makes an HS256 key from a copy of the client's secret.
 */
int
jwk_hmac_new(const unsigned char *secret, size_t len, const char *kid,
    struct jwk_key **out)
{
	struct jwk_key *k;

	if (secret == NULL || out == NULL || len == 0 || len > JWK_HMAC_MAX)
		return MFA_ERR_INVALID;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return MFA_ERR_NOMEM;
	if (jwk_set_kid(k, kid) != MFA_OK) {
		jwk_free(k);
		return MFA_ERR_INVALID;
	}
	if ((k->secret = malloc(len)) == NULL) {
		jwk_free(k);
		return MFA_ERR_NOMEM;
	}
	memcpy(k->secret, secret, len);
	k->secretlen = len;
	k->kind = JWK_KIND_HMAC;
	k->alg = JWK_ALG_HS256;
	*out = k;
	return MFA_OK;
}

/* The library's own public-key validation (point on curve, RSA n, e). */
static bool
jwk_pkey_is_sound(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	bool ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return false;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * Sets up the verify context of "k" (RSA or EC) for its algorithm once, so
 * a signature check is one EVP_PKEY_verify over a digest: setting it up
 * (fetching the implementation, the padding) cost an RS256 assertion
 * 3 us of its 27 here (make bench-crypto). RS256/RS384 are PKCS#1 v1.5; PS256 is PSS with a
 * salt as long as the hash and MGF1 with the same hash (RFC 7518 §3.5).
 */
static int
jwk_verifier_new(struct jwk_key *k)
{
	EVP_PKEY_CTX *c;
	bool ok;

	k->md = k->alg == JWK_ALG_RS384 ? EVP_sha384() : EVP_sha256();
	if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL)
		return MFA_ERR_NOMEM;
	ok = EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(c, k->md) == 1;
	if (ok && k->kind == JWK_KIND_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(c, k->alg == JWK_ALG_PS256 ?
		        RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1;
	if (ok && k->alg == JWK_ALG_PS256)
		ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(
		         c, RSA_PSS_SALTLEN_DIGEST) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(c, k->md) == 1;
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_CTX_free(c);
		return MFA_ERR_INVALID;
	}
	k->verifier = c;
	return MFA_OK;
}

/*
 * Completes "k" (kind and key material set) for "alg": the pin, the
 * library check when "full", the verify context, the thumbprint.
 */
int
jwk_finish(struct jwk_key *k, enum jwk_alg alg, bool full, const char **why)
{
	int rc;

	if (!jwk_kind_fits_alg(k->kind, alg)) {
		*why = "the key type does not fit the algorithm";
		return MFA_ERR_INVALID;
	}
	k->alg = alg;
	if (k->kind == JWK_KIND_ED25519) {
		if (!crypto_core_ed25519_is_valid_point(k->ed25519)) {
			*why = "the Ed25519 public key is not a valid point";
			return MFA_ERR_INVALID;
		}
	} else if (full && !jwk_pkey_is_sound(k->pkey)) {
		*why = "the public key fails validation";
		return MFA_ERR_INVALID;
	} else if (k->kind != JWK_KIND_HMAC &&
	    (rc = jwk_verifier_new(k)) != MFA_OK) {
		*why = "the key cannot be set up for verification";
		return rc;
	}
	if ((rc = jwk_thumbprint(k)) != MFA_OK)
		*why = "the key cannot be encoded";
	return rc;
}

/*
 * Writes the stored form of public key "k" (compact, sorted JSON).
 */
int
jwk_to_json(const struct jwk_key *k, char **out)
{
	json_t *o = NULL;
	int rc;

	if (k == NULL || out == NULL || k->kind == JWK_KIND_HMAC ||
	    !jwk_kind_fits_alg(k->kind, k->alg))
		return MFA_ERR_INVALID;
	if ((rc = jwk_members(k, &o)) != MFA_OK)
		return rc;
	rc = jwk_put_str(o, "alg", jwk_alg_name(k->alg));
	if (rc == MFA_OK && k->kid[0] != '\0')
		rc = jwk_put_str(o, "kid", k->kid);
	if (rc == MFA_OK &&
	    (*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		rc = MFA_ERR_NOMEM;
	json_decref(o);
	return rc;
}
