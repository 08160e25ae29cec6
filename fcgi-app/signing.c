/*
 * signing.c -- result-token keys (Ed25519, libsodium), the compact JWS
 * they sign and the JWKS that publishes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwk.h"
#include "self.h"
#include "signing.h"

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SIGNING_AD_MAX (sizeof("signing:") + RECORD_KID_LEN)
/* Bounds "keep_s" so that "now - keep_ms" never overflows. */
#define SIGNING_KEEP_MAX ((int64_t)1 << 40)

/* The associated data that binds a sealed seed to its kid. */
static void
signing_ad(const char *kid, char ad[SIGNING_AD_MAX])
{
	snprintf(ad, SIGNING_AD_MAX, "signing:%s", kid);
}

/*
 * The kid of the public key whose base64url form is "x": its RFC 7638
 * thumbprint, computed by jwk.c (the tree's one implementation of it).
 */
static int
signing_kid(const char *x, char kid[RECORD_KID_LEN + 1])
{
	struct jwk_key *k = NULL;
	json_t *o;
	char *s;
	int rc;

	o = json_pack("{s:s, s:s, s:s, s:s}", "alg", SIGNING_ALG, "crv",
	    "Ed25519", "kty", "OKP", "x", x);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL)
		return MFA_ERR_NOMEM;
	rc = jwk_from_json(s, strlen(s), &k);
	free(s);
	if (rc != MFA_OK)
		return rc == MFA_ERR_NOMEM ? rc : MFA_ERR_CRYPTO;
	if (strlen(k->thumbprint) != RECORD_KID_LEN)
		rc = MFA_ERR_CRYPTO;
	else
		memcpy(kid, k->thumbprint, RECORD_KID_LEN + 1);
	jwk_free(k);
	return rc;
}

/* Walk callbacks: a copy of the first current key, and how many. */
struct signing_find {
	struct signing_rec rec;
	size_t ncurrent;
	bool stop_at_first;
};

static int
signing_find_one(void *arg, const struct signing_rec *r)
{
	struct signing_find *f = arg;

	if (r->retired_at != 0)
		return 0;
	if (f->ncurrent++ == 0)
		f->rec = *r;
	return f->stop_at_first ? 1 : 0;
}

/*
 * Finds the current key(s) of "txn". Returns MFA_OK with "f" filled
 * (f->ncurrent may be 0) or a store error.
 */
static int
signing_find(struct store_txn *txn, bool stop_at_first,
    struct signing_find *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->stop_at_first = stop_at_first;
	rc = store_signing_each(txn, signing_find_one, f);
	return rc > 0 ? MFA_OK : rc;
}

/* Retires every current key at "now", one walk per key. */
static int
signing_retire_all(struct store_txn *txn, mfa_ms now)
{
	struct signing_find f;
	int rc;

	for (;;) {
		if ((rc = signing_find(txn, true, &f)) != MFA_OK)
			return rc;
		if (f.ncurrent == 0)
			return MFA_OK;
		f.rec.retired_at = now;
		if ((rc = store_signing_put(txn, &f.rec)) != MFA_OK)
			return rc;
	}
}

/*
 * Retires the current key, then writes a fresh one: random seed, kid
 * from the public key, seed sealed to "signing:<kid>".
 */
int
signing_key_create(struct store_txn *txn, const struct keys *keys,
    mfa_ms now, char kid[RECORD_KID_LEN + 1])
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char ad[SIGNING_AD_MAX];
	struct signing_rec r;
	int rc;

	/* retired_at 0 means current: a zero "now" would never retire */
	if (now <= 0)
		return MFA_ERR_INVALID;
	if ((rc = signing_retire_all(txn, now)) != MFA_OK)
		return rc;
	memset(&r, 0, sizeof(r));
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2base64(r.public_b64, sizeof(r.public_b64), pk, sizeof(pk),
	    B64V);
	if ((rc = signing_kid(r.public_b64, r.kid)) != MFA_OK)
		goto out;
	signing_ad(r.kid, ad);
	rc = keys_seal(keys, ad, seed, sizeof(seed), r.seed_sealed,
	    sizeof(r.seed_sealed));
	if (rc != MFA_OK)
		goto out;
	r.created_at = now;
	if ((rc = store_signing_put(txn, &r)) != MFA_OK)
		goto out;
	memcpy(kid, r.kid, sizeof(r.kid));
out:
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

/* Creates the first key unless a current one exists. */
int
signing_key_ensure(struct store_txn *txn, const struct keys *keys,
    mfa_ms now, char kid[RECORD_KID_LEN + 1], bool *created)
{
	struct signing_find f;
	int rc;

	if ((rc = signing_find(txn, true, &f)) != MFA_OK)
		return rc;
	if (f.ncurrent > 0) {
		memcpy(kid, f.rec.kid, sizeof(f.rec.kid));
		*created = false;
		return MFA_OK;
	}
	if ((rc = signing_key_create(txn, keys, now, kid)) != MFA_OK)
		return rc;
	*created = true;
	return MFA_OK;
}

int
signing_current_rec(struct store_txn *txn, struct signing_rec *out)
{
	struct signing_find f;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = signing_find(txn, false, &f)) != MFA_OK)
		return rc;
	if (f.ncurrent == 0)
		return MFA_ERR_NOTFOUND;
	if (f.ncurrent > 1 || strlen(f.rec.kid) != RECORD_KID_LEN)
		return MFA_ERR_CORRUPT;
	*out = f.rec;
	return MFA_OK;
}

/*
 * Opens key record "r": unseal the seed under its kid, derive the key
 * pair, and refuse it unless it is the published public key.
 */
int
signing_open(const struct keys *keys, const struct signing_rec *r,
    struct signing_key *out)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char stored[crypto_sign_PUBLICKEYBYTES];
	char ad[SIGNING_AD_MAX];
	size_t n = 0;
	int rc;

	sodium_memzero(out, sizeof(*out));
	if (strlen(r->kid) != RECORD_KID_LEN ||
	    sodium_base642bin(stored, sizeof(stored), r->public_b64,
	    strlen(r->public_b64), NULL, &n, NULL, B64V) != 0 ||
	    n != sizeof(stored))
		return MFA_ERR_CORRUPT;
	signing_ad(r->kid, ad);
	rc = keys_open(keys, ad, r->seed_sealed, seed, sizeof(seed), &n);
	if (rc == MFA_OK && n != sizeof(seed))
		rc = MFA_ERR_CRYPTO;
	else if (rc == MFA_ERR_TOOBIG)
		rc = MFA_ERR_CRYPTO;
	if (rc != MFA_OK)
		goto out;
	crypto_sign_seed_keypair(pk, out->sk, seed);
	if (sodium_memcmp(pk, stored, sizeof(pk)) != 0) {
		rc = MFA_ERR_CRYPTO;
		goto out;
	}
	memcpy(out->kid, r->kid, sizeof(out->kid));
out:
	sodium_memzero(seed, sizeof(seed));
	if (rc != MFA_OK)
		sodium_memzero(out, sizeof(*out));
	return rc;
}

/* The key signing_open_cached opened last in process "pid" (0: none). */
static struct {
	pid_t pid;
	struct signing_rec rec;
	struct signing_key key;
} signing_cache;

/* Does the cache hold the key of record "r", opened in this process? */
static bool
signing_cache_hit(const struct signing_rec *r)
{
	const struct signing_rec *c = &signing_cache.rec;
	size_t n = strlen(r->seed_sealed);

	/* a kid, a public key and a sealed seed hide nothing */
	return signing_cache.pid == self_pid() && /* 0 when empty */
	    strcmp(c->kid, r->kid) == 0 && /* public */
	    strcmp(c->public_b64, r->public_b64) == 0 && /* public */
	    strlen(c->seed_sealed) == n &&
	    sodium_memcmp(c->seed_sealed, r->seed_sealed, n) == 0;
}

int
signing_open_cached(const struct keys *keys, const struct signing_rec *r,
    struct signing_key *out)
{
	int rc;

	if (signing_cache_hit(r)) {
		*out = signing_cache.key;
		return MFA_OK;
	}
	signing_cache_wipe();
	if ((rc = signing_open(keys, r, out)) != MFA_OK)
		return rc;
	signing_cache.rec = *r;
	signing_cache.key = *out;
	signing_cache.pid = self_pid();
	return MFA_OK;
}

void
signing_cache_wipe(void)
{
	sodium_memzero(&signing_cache, sizeof(signing_cache));
}

int
signing_current(struct store_txn *txn, const struct keys *keys,
    struct signing_key *out)
{
	struct signing_rec r;
	int rc;

	sodium_memzero(out, sizeof(*out));
	if ((rc = signing_current_rec(txn, &r)) == MFA_OK)
		rc = signing_open(keys, &r, out);
	sodium_memzero(&r, sizeof(r));
	return rc;
}

void
signing_key_wipe(struct signing_key *k)
{
	if (k != NULL)
		sodium_memzero(k, sizeof(*k));
}

/* Appends base64url("n" bytes at "in") at "*p", advancing it. */
static void
signing_b64_append(char **p, const unsigned char *in, size_t n)
{
	size_t room = sodium_base64_ENCODED_LEN(n, B64V);

	sodium_bin2base64(*p, room, in, n, B64V);
	*p += strlen(*p);
}

/* header.payload.signature, each part base64url without padding. */
int
signing_jwt(const struct signing_key *k, const json_t *claims, char **out)
{
	unsigned char sig[crypto_sign_BYTES];
	char *hdr = NULL, *pay = NULL, *buf = NULL, *p;
	json_t *h;
	size_t hn, pn, len;
	int rc = MFA_ERR_NOMEM;

	if (!json_is_object(claims))
		return MFA_ERR_INVALID;
	h = json_pack("{s:s, s:s, s:s}", "alg", SIGNING_ALG, "typ", "JWT",
	    "kid", k->kid);
	if (h == NULL)
		goto out;
	hdr = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	if (hdr == NULL || (pay = json_dumps(claims, JSON_COMPACT)) == NULL)
		goto out;
	hn = strlen(hdr);
	pn = strlen(pay);
	/* each ENCODED_LEN counts a NUL: room for the two dots */
	len = sodium_base64_ENCODED_LEN(hn, B64V) +
	    sodium_base64_ENCODED_LEN(pn, B64V) +
	    sodium_base64_ENCODED_LEN(sizeof(sig), B64V);
	if ((buf = malloc(len)) == NULL)
		goto out;
	p = buf;
	signing_b64_append(&p, (const unsigned char *)hdr, hn);
	*p++ = '.';
	signing_b64_append(&p, (const unsigned char *)pay, pn);
	crypto_sign_detached(sig, NULL, (const unsigned char *)buf,
	    (unsigned long long)(p - buf), k->sk);
	*p++ = '.';
	signing_b64_append(&p, sig, sizeof(sig));
	*out = buf;
	buf = NULL;
	rc = MFA_OK;
out:
	free(hdr);
	free(pay);
	free(buf);
	return rc;
}

/* What the JWKS walk needs. */
struct signing_set {
	json_t *keys;
	mfa_ms now;
	mfa_ms keep_ms;
	int rc;
};

static int
signing_jwks_one(void *arg, const struct signing_rec *r)
{
	struct signing_set *s = arg;
	json_t *k;

	if (r->retired_at != 0 && r->retired_at <= s->now - s->keep_ms)
		return 0;
	k = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv",
	    "Ed25519", "x", r->public_b64, "kid", r->kid, "alg", SIGNING_ALG,
	    "use", "sig");
	if (k == NULL || (r->retired_at == 0 ?
	    json_array_insert_new(s->keys, 0, k) :
	    json_array_append_new(s->keys, k)) != 0) {
		s->rc = MFA_ERR_NOMEM;
		return 1;
	}
	return 0;
}

/* The current key and the retired keys still within "keep_s". */
int
signing_jwks(struct store_txn *txn, mfa_ms now, int64_t keep_s,
    json_t **out)
{
	struct signing_set s;
	int rc;

	if (keep_s < 0 || keep_s > SIGNING_KEEP_MAX)
		return MFA_ERR_INVALID;
	s.now = now;
	s.keep_ms = keep_s * 1000;
	s.rc = MFA_OK;
	if ((s.keys = json_array()) == NULL)
		return MFA_ERR_NOMEM;
	rc = store_signing_each(txn, signing_jwks_one, &s);
	if (rc > 0)
		rc = s.rc;
	if (rc == MFA_OK && (*out = json_pack("{s:o}", "keys", s.keys)) ==
	    NULL)
		rc = MFA_ERR_NOMEM;
	else if (rc != MFA_OK)
		json_decref(s.keys);
	return rc;
}

/* The claims of a result token (pure). */
json_t *
signing_claims(const char *issuer, const char *sub, const char *aud,
    const char *extra_aud, mfa_ms now, int64_t ttl_s,
    const char *amr_method, const char *scope, const char *jti)
{
	json_t *a, *c;
	json_int_t iat = (json_int_t)(now / 1000);

	if (issuer == NULL || sub == NULL || aud == NULL ||
	    amr_method == NULL || jti == NULL)
		return NULL;
	a = extra_aud != NULL ? json_pack("[s, s]", aud, extra_aud) :
	    json_string(aud);
	if (a == NULL)
		return NULL;
	c = json_pack("{s:s, s:s, s:O, s:I, s:I, s:I, s:[s, s], s:s, s:s}",
	    "iss", issuer, "sub", sub, "aud", a, "iat", iat,
	    "exp", iat + (json_int_t)ttl_s, "auth_time", iat,
	    "amr", "mfa", amr_method, "acr", SIGNING_ACR, "jti", jti);
	json_decref(a);
	if (c != NULL && scope != NULL &&
	    json_object_set_new(c, "scope", json_string(scope)) != 0) {
		json_decref(c);
		c = NULL;
	}
	return c;
}
