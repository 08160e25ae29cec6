/*
 * jwk_parse.c -- reading client keys in (jwk.h): a key file (PEM
 * SubjectPublicKeyInfo, PEM certificate, JWK, JWKS) and the stored JWK
 * form, each key pinned to one algorithm.
 */
#define _GNU_SOURCE /* memmem(3) */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwk_int.h"

static bool
jwk_rsa_bits_ok(const EVP_PKEY *pkey)
{
	int bits = EVP_PKEY_get_bits(pkey);

	return bits >= JWK_RSA_MIN_BITS && bits <= JWK_RSA_MAX_BITS;
}

/* "v" is a JSON string of exactly the bytes of "want". */
static bool
jwk_str_is(const json_t *v, const char *want)
{
	size_t len = json_string_length(v);

	if (!json_is_string(v) || len != strlen(want))
		return false;
	return memcmp(json_string_value(v), want, len) == 0;
}

static bool
jwk_pkey_is_p256(const EVP_PKEY *pkey)
{
	const char *param = OSSL_PKEY_PARAM_GROUP_NAME;
	char group[64];

	if (EVP_PKEY_get_utf8_string_param(
	        pkey, param, group, sizeof(group), NULL) != 1)
		return false;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/*
 * Classifies "pkey" (ownership taken, freed on error) into a new key.
 */
static int
jwk_from_pkey(
    EVP_PKEY *pkey, enum jwk_alg alg, struct jwk_key **out, const char **why)
{
	struct jwk_key *k;
	size_t n = JWK_ED25519_BYTES;
	int rc = MFA_ERR_INVALID;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		*why = "out of memory";
		return MFA_ERR_NOMEM;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		k->kind = JWK_KIND_RSA;
		k->pkey = pkey;
		if (!jwk_rsa_bits_ok(pkey)) {
			*why = "RSA key must be 2048 to 4096 bits";
			goto out;
		}
		break;
	case EVP_PKEY_EC:
		k->kind = JWK_KIND_EC_P256;
		k->pkey = pkey;
		if (!jwk_pkey_is_p256(pkey)) {
			*why = "EC keys must use curve P-256";
			goto out;
		}
		break;
	case EVP_PKEY_ED25519:
		/* libsodium verifies: keep the raw key, not the EVP_PKEY */
		k->kind = JWK_KIND_ED25519;
		if (EVP_PKEY_get_raw_public_key(pkey, k->ed25519, &n) != 1 ||
		    n != JWK_ED25519_BYTES) {
			EVP_PKEY_free(pkey);
			*why = "the Ed25519 public key cannot be read";
			goto out;
		}
		EVP_PKEY_free(pkey);
		break;
	case EVP_PKEY_RSA_PSS:
		EVP_PKEY_free(pkey);
		*why = "RSA-PSS restricted keys are not supported";
		goto out;
	default:
		EVP_PKEY_free(pkey);
		*why = "unsupported key type";
		goto out;
	}
	rc = jwk_finish(k, alg, true, why);
out:
	ERR_clear_error();
	if (rc != MFA_OK)
		jwk_free(k);
	else
		*out = k;
	return rc;
}

/* Strict base64url without padding; exactly the whole input. */
static bool
jwk_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax,
    size_t *outlen)
{
	int rc;

	rc =
	    sodium_base642bin(out, outmax, in, inlen, NULL, outlen, NULL, B64V);
	return rc == 0;
}

/* Never prompt for a passphrase: public material is never encrypted. */
static int
jwk_no_pass(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

static bool
jwk_has(const unsigned char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static EVP_PKEY *
jwk_cert_pubkey(BIO *bio)
{
	EVP_PKEY *pkey = NULL;
	X509 *x;

	/* The certificate only carries the key: dates are not checked. */
	if ((x = PEM_read_bio_X509(bio, NULL, jwk_no_pass, NULL)) != NULL)
		pkey = X509_get_pubkey(x);
	X509_free(x);
	return pkey;
}

static int
jwk_load_pem(const unsigned char *buf, size_t len, enum jwk_alg alg,
    struct jwk_key **out, const char **why)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	if (jwk_has(buf, len, "PRIVATE KEY-----")) {
		*why = "the file holds a private key; register the public key";
		return MFA_ERR_INVALID;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		*why = "out of memory";
		return MFA_ERR_NOMEM;
	}
	if (jwk_has(buf, len, "-----BEGIN PUBLIC KEY-----"))
		pkey = PEM_read_bio_PUBKEY(bio, NULL, jwk_no_pass, NULL);
	else if (jwk_has(buf, len, "-----BEGIN CERTIFICATE-----"))
		pkey = jwk_cert_pubkey(bio);
	BIO_free(bio);
	ERR_clear_error();
	if (pkey == NULL) {
		*why = "not a PEM public key (SubjectPublicKeyInfo) or "
		       "certificate";
		return MFA_ERR_INVALID;
	}
	return jwk_from_pkey(pkey, alg, out, why);
}

/* Builds an EVP_PKEY of type "name" from the parameters in "bld". */
static EVP_PKEY *
jwk_pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	int sel = EVP_PKEY_PUBLIC_KEY;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, sel, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	ERR_clear_error();
	return pkey;
}

/*
 * Decodes the base64url string member "name" of "o" into "buf" (room for
 * "max" bytes): exactly "want" bytes, or 1..max when "want" is 0.
 */
static bool
jwk_get_b64(const json_t *o, const char *name, unsigned char *buf, size_t max,
    size_t want, size_t *got)
{
	const json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);

	if (s == NULL ||
	    !jwk_b64_decode(s, json_string_length(v), buf, max, got))
		return false;
	return want == 0 ? *got > 0 : *got == want;
}

static EVP_PKEY *
jwk_rsa_from_jwk(const json_t *o, const char **why)
{
	unsigned char n[RSA_N_MAX], e[RSA_E_MAX];
	size_t nlen, elen;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!jwk_get_b64(o, "n", n, sizeof(n), 0, &nlen) ||
	    !jwk_get_b64(o, "e", e, sizeof(e), 0, &elen)) {
		*why = "RSA JWK needs base64url \"n\" (2048 to 4096 bits) and "
		       "\"e\"";
		return NULL;
	}
	*why = "out of memory";
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL)
		goto out;
	if ((be = BN_bin2bn(e, (int)elen, NULL)) == NULL)
		goto out;
	if (BN_num_bits(bn) < JWK_RSA_MIN_BITS ||
	    BN_num_bits(bn) > JWK_RSA_MAX_BITS) {
		*why = "RSA key must be 2048 to 4096 bits";
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1)
		goto out;
	if ((pkey = jwk_pkey_fromdata("RSA", bld)) == NULL)
		*why = "the RSA public key fails validation";
out:
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *
jwk_ec_from_jwk(const json_t *o, const char **why)
{
	unsigned char pt[1 + 2 * P256_BYTES];
	unsigned char *x = pt + 1, *y = pt + 1 + P256_BYTES;
	const char *group = OSSL_PKEY_PARAM_GROUP_NAME;
	const char *pub = OSSL_PKEY_PARAM_PUB_KEY;
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;
	size_t got;

	if (!jwk_str_is(json_object_get(o, "crv"), "P-256")) {
		*why = "EC keys must use curve P-256";
		return NULL;
	}
	pt[0] = 0x04; /* SEC 1 uncompressed point */
	if (!jwk_get_b64(o, "x", x, P256_BYTES, P256_BYTES, &got) ||
	    !jwk_get_b64(o, "y", y, P256_BYTES, P256_BYTES, &got)) {
		*why = "EC JWK needs \"x\" and \"y\" of 32 bytes each";
		return NULL;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	/* OpenSSL refuses a point that is not on the curve. */
	if (OSSL_PARAM_BLD_push_utf8_string(bld, group, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, pub, pt, sizeof(pt)) == 1)
		pkey = jwk_pkey_fromdata("EC", bld);
	if (pkey == NULL)
		*why = "the EC public key is not a point on P-256";
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* Members that only a private (or symmetric) JWK has. */
static bool
jwk_obj_is_private(const json_t *o)
{
	static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi",
		"oth", "k" };
	size_t i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (json_object_get(o, priv[i]) != NULL)
			return true;
	return false;
}

/*
 * The algorithm a JWK object is pinned to: its "alg" member, which must
 * equal "pin" when the caller gives one, else "pin".
 */
static enum jwk_alg
jwk_obj_alg(const json_t *o, enum jwk_alg pin, const char **why)
{
	const json_t *v = json_object_get(o, "alg");
	enum jwk_alg alg;

	if (v == NULL) {
		if (pin == JWK_ALG_INVALID)
			*why = "the JWK has no \"alg\"";
		return pin;
	}
	alg = jwk_alg_parse(json_string_value(v), json_string_length(v));
	if (alg == JWK_ALG_INVALID || (pin != JWK_ALG_INVALID && alg != pin)) {
		*why = "the JWK \"alg\" is not the registered algorithm";
		return JWK_ALG_INVALID;
	}
	return alg;
}

/* Reads the key material of JWK "o" into "k" by its "kty". */
static int
jwk_obj_material(const json_t *o, struct jwk_key *k, const char **why)
{
	const json_t *kty = json_object_get(o, "kty");
	size_t got;

	if (jwk_str_is(kty, "RSA")) {
		k->kind = JWK_KIND_RSA;
		k->pkey = jwk_rsa_from_jwk(o, why);
		return k->pkey != NULL ? MFA_OK : MFA_ERR_INVALID;
	}
	if (jwk_str_is(kty, "EC")) {
		k->kind = JWK_KIND_EC_P256;
		k->pkey = jwk_ec_from_jwk(o, why);
		return k->pkey != NULL ? MFA_OK : MFA_ERR_INVALID;
	}
	if (!jwk_str_is(kty, "OKP")) {
		*why = "the JWK \"kty\" is not RSA, EC or OKP";
		return MFA_ERR_INVALID;
	}
	k->kind = JWK_KIND_ED25519;
	if (!jwk_str_is(json_object_get(o, "crv"), "Ed25519")) {
		*why = "OKP keys must use curve Ed25519";
		return MFA_ERR_INVALID;
	}
	if (!jwk_get_b64(o, "x", k->ed25519, JWK_ED25519_BYTES,
	        JWK_ED25519_BYTES, &got)) {
		*why = "Ed25519 JWK needs \"x\" of 32 bytes";
		return MFA_ERR_INVALID;
	}
	return MFA_OK;
}

/*
 * One JWK object "o" into a new key. "pin" is the registered algorithm,
 * or JWK_ALG_INVALID to take the (then required) "alg" member.
 */
static int
jwk_from_obj(const json_t *o, enum jwk_alg pin, bool full, struct jwk_key **out,
    const char **why)
{
	const json_t *v;
	struct jwk_key *k = NULL;
	const char *kid;
	enum jwk_alg alg;
	int rc = MFA_ERR_INVALID;

	if (!json_is_object(o)) {
		*why = "a JWK must be a JSON object";
		return MFA_ERR_INVALID;
	}
	if (jwk_obj_is_private(o)) {
		*why = "the JWK holds private or symmetric key material";
		return MFA_ERR_INVALID;
	}
	v = json_object_get(o, "use");
	if (v != NULL && !jwk_str_is(v, "sig")) {
		*why = "the JWK \"use\" is not \"sig\"";
		return MFA_ERR_INVALID;
	}
	if ((alg = jwk_obj_alg(o, pin, why)) == JWK_ALG_INVALID)
		return MFA_ERR_INVALID;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		*why = "out of memory";
		return MFA_ERR_NOMEM;
	}
	/* jansson refuses \u0000 here, so strlen is the whole kid */
	v = json_object_get(o, "kid");
	kid = json_string_value(v);
	if (v != NULL &&
	    (kid == NULL || *kid == '\0' || jwk_set_kid(k, kid) != MFA_OK)) {
		*why = "the JWK \"kid\" is not 1 to 64 printable ASCII bytes";
		goto out;
	}
	if ((rc = jwk_obj_material(o, k, why)) != MFA_OK)
		goto out;
	rc = jwk_finish(k, alg, full, why);
out:
	if (rc != MFA_OK)
		jwk_free(k);
	else
		*out = k;
	return rc;
}

/* Two keys of one set share a thumbprint or a kid. */
static bool
jwk_set_has_dup(struct jwk_key *const *keys, size_t n)
{
	const struct jwk_key *a, *b;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			a = keys[i];
			b = keys[j];
			if (strcmp(a->thumbprint, b->thumbprint) == 0)
				return true;
			if (a->kid[0] != '\0' && strcmp(a->kid, b->kid) == 0)
				return true;
		}
	return false;
}

static int
jwk_load_json(const unsigned char *buf, size_t len, enum jwk_alg alg,
    struct jwk_key **keys, size_t *nkeys, const char **why)
{
	const int flags = JSON_REJECT_DUPLICATES;
	json_t *root, *set;
	json_error_t jerr;
	size_t i, n;
	int rc = MFA_ERR_INVALID;

	root = json_loadb((const char *)buf, len, flags, &jerr);
	if (!json_is_object(root)) {
		*why = "the key file is not a JSON object";
		goto out;
	}
	if ((set = json_object_get(root, "keys")) == NULL) {
		rc = jwk_from_obj(root, alg, true, &keys[0], why);
		if (rc == MFA_OK)
			*nkeys = 1;
		goto out;
	}
	if (!json_is_array(set) || (n = json_array_size(set)) == 0) {
		*why = "the JWKS \"keys\" is not a non-empty array";
		goto out;
	}
	if (n > JWK_SET_MAX) {
		*why = "a JWKS may hold at most 2 keys";
		rc = MFA_ERR_TOOBIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = jwk_from_obj(
		    json_array_get(set, i), alg, true, &keys[i], why);
		if (rc != MFA_OK)
			goto out;
		*nkeys = i + 1;
	}
	if (jwk_set_has_dup(keys, n)) {
		*why = "the JWKS holds the same key or kid twice";
		rc = MFA_ERR_INVALID;
	}
out:
	json_decref(root);
	return rc;
}

/* Where the first byte that is not JSON white space is, or "len". */
static size_t
jwk_skip_space(const unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			break;
	return i;
}

/*
 * Parses a key file's bytes into 1..JWK_SET_MAX keys pinned to "alg".
 */
int
jwk_load(const unsigned char *buf, size_t len, enum jwk_alg alg,
    struct jwk_key *keys[JWK_SET_MAX], size_t *nkeys, const char **why)
{
	const char *dummy;
	size_t i;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = "";
	if (keys == NULL || nkeys == NULL) {
		*why = "bad arguments";
		return MFA_ERR_INVALID;
	}
	*nkeys = 0;
	for (i = 0; i < JWK_SET_MAX; i++)
		keys[i] = NULL;
	if (buf == NULL || len == 0) {
		*why = "the key file is empty";
		return MFA_ERR_INVALID;
	}
	if (len > JWK_FILE_MAX) {
		*why = "the key file is too large";
		return MFA_ERR_TOOBIG;
	}
	if (alg == JWK_ALG_INVALID || jwk_alg_is_hmac(alg)) {
		*why = "the algorithm takes no key file";
		return MFA_ERR_INVALID;
	}
	i = jwk_skip_space(buf, len);
	if (i < len && buf[i] == '{') {
		rc = jwk_load_json(buf, len, alg, keys, nkeys, why);
	} else if (jwk_has(buf, len, "-----BEGIN ")) {
		rc = jwk_load_pem(buf, len, alg, &keys[0], why);
		if (rc == MFA_OK)
			*nkeys = 1;
	} else {
		*why = "not a PEM public key, certificate, JWK or JWKS";
		rc = MFA_ERR_INVALID;
	}
	if (rc == MFA_OK) {
		*why = "";
		return MFA_OK;
	}
	for (i = 0; i < JWK_SET_MAX; i++) {
		jwk_free(keys[i]);
		keys[i] = NULL;
	}
	*nkeys = 0;
	return rc;
}

/*
 * Reads back the stored form written by jwk_to_json.
 */
int
jwk_from_json(const char *json, size_t len, struct jwk_key **out)
{
	json_t *o;
	json_error_t jerr;
	const char *why;
	int rc;

	if (json == NULL || out == NULL)
		return MFA_ERR_CORRUPT;
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return MFA_ERR_CORRUPT;
	/* Checked in full at registration; the load stays cheap. */
	rc = jwk_from_obj(o, JWK_ALG_INVALID, false, out, &why);
	json_decref(o);
	if (rc == MFA_ERR_INVALID)
		rc = MFA_ERR_CORRUPT;
	return rc;
}
