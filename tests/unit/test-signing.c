/*
 * test-signing.c -- signing.c in a temporary store: the first key and its
 * kid (RFC 7638, recomputed here by hand), tokens verified both with
 * libsodium over the raw signing input and with the project's own
 * jwt_parse + jwk_from_json + jwt_verify, rotation and the JWKS window,
 * sealed seeds that must not open when moved or mismatched, and the
 * exact JSON of the claims builder.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "signing.h"
#include "store.h"
#include "test.h"

#define MAPSIZE ((size_t)32 << 20)
#define T0 ((mfa_ms)1700000000123) /* ms */
#define KEEP_S 3600
#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

static char base[] = "/tmp/mfa-test-signing-XXXXXX";

static void
rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int n;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Every stored key, in kid order. */
struct recs {
	struct signing_rec r[4];
	size_t n;
};

static int
collect_one(void *arg, const struct signing_rec *r)
{
	struct recs *rs = arg;

	if (rs->n >= sizeof(rs->r) / sizeof(rs->r[0]))
		return 1;
	rs->r[rs->n++] = *r;
	return 0;
}

static void
collect(struct store *st, struct recs *rs)
{
	struct store_txn *txn = NULL;

	memset(rs, 0, sizeof(*rs));
	T_EQ_INT(store_txn_begin(st, false, &txn), MFA_OK);
	T_EQ_INT(store_signing_each(txn, collect_one, rs), MFA_OK);
	store_txn_abort(txn);
}

/* One write transaction around signing_key_create. */
static int
create(struct store *st, const struct keys *k, mfa_ms now,
    char kid[RECORD_KID_LEN + 1])
{
	struct store_txn *txn = NULL;
	int rc;

	if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
		return rc;
	if ((rc = signing_key_create(txn, k, now, kid)) != MFA_OK) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

static int
current(struct store *st, const struct keys *k, struct signing_key *out)
{
	struct store_txn *txn = NULL;
	int rc;

	if ((rc = store_txn_begin(st, false, &txn)) != MFA_OK)
		return rc;
	rc = signing_current(txn, k, out);
	store_txn_abort(txn);
	return rc;
}

/* The JWKS at "now" as compact text (caller frees), or NULL. */
static char *
jwks_text(struct store *st, mfa_ms now, int64_t keep_s)
{
	struct store_txn *txn = NULL;
	json_t *doc = NULL;
	char *s = NULL;

	if (store_txn_begin(st, false, &txn) != MFA_OK)
		return NULL;
	if (signing_jwks(txn, now, keep_s, &doc) == MFA_OK)
		s = json_dumps(doc, JSON_COMPACT);
	store_txn_abort(txn);
	json_decref(doc);
	return s;
}

/* The JWKS entry the service publishes for "kid" with public "x". */
static void
jwk_text(char *buf, size_t len, const char *kid, const char *x)
{
	snprintf(buf, len, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\","
	    "\"kid\":\"%s\",\"alg\":\"EdDSA\",\"use\":\"sig\"}", x, kid);
}

/* RFC 7638 by hand: SHA-256 of the required members, sorted, compact. */
static void
thumbprint(const char *x, char out[RECORD_KID_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char in[128];

	snprintf(in, sizeof(in),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	crypto_hash_sha256(h, (const unsigned char *)in, strlen(in));
	sodium_bin2base64(out, RECORD_KID_LEN + 1, h, sizeof(h), B64V);
}

/* Decodes base64url "n" bytes at "in" as a NUL-terminated string. */
static bool
b64_text(const char *in, size_t n, char *out, size_t outlen)
{
	size_t got;

	if (sodium_base642bin((unsigned char *)out, outlen - 1, in, n, NULL,
	    &got, NULL, B64V) != 0)
		return false;
	out[got] = '\0';
	return true;
}

/* Checks "tok" with libsodium against "x" and with jwt.c against "jwk". */
static void
check_token(const char *tok, const char *kid, const char *x,
    const char *claims_text, const char *jwk, bool want_ok)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	char want_hdr[128], part[1024];
	const char *d1, *d2;
	struct jwk_key *key = NULL;
	struct jwt t;
	size_t n;

	d1 = strchr(tok, '.');
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	T_TRUE(d2 != NULL && strchr(d2 + 1, '.') == NULL);
	if (d2 == NULL)
		return;
	/* header and payload, exactly */
	snprintf(want_hdr, sizeof(want_hdr),
	    "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	T_TRUE(b64_text(tok, (size_t)(d1 - tok), part, sizeof(part)));
	T_EQ_STR(part, want_hdr);
	T_TRUE(b64_text(d1 + 1, (size_t)(d2 - d1 - 1), part, sizeof(part)));
	T_EQ_STR(part, claims_text);
	/* libsodium over header.payload with the published x */
	T_EQ_INT(sodium_base642bin(pk, sizeof(pk), x, strlen(x), NULL, &n,
	    NULL, B64V), 0);
	T_EQ_INT(n, sizeof(pk));
	T_EQ_INT(sodium_base642bin(sig, sizeof(sig), d2 + 1, strlen(d2 + 1),
	    NULL, &n, NULL, B64V), 0);
	T_EQ_INT(n, sizeof(sig));
	T_EQ_INT(crypto_sign_verify_detached(sig, (const unsigned char *)tok,
	    (unsigned long long)(d2 - tok), pk), want_ok ? 0 : -1);
	/* the project's own JWT path, key taken from the JWKS entry */
	memset(&t, 0, sizeof(t));
	T_EQ_INT(jwk_from_json(jwk, strlen(jwk), &key), MFA_OK);
	T_EQ_INT(jwt_parse(tok, strlen(tok), 4096, &t), JWT_OK);
	T_EQ_INT(t.alg, JWK_ALG_EDDSA);
	T_TRUE(t.kid != NULL && t.kidlen == strlen(kid) &&
	    memcmp(t.kid, kid, t.kidlen) == 0);
	if (key != NULL)
		T_EQ_INT(jwt_verify(&t, &key, 1, NULL),
		    want_ok ? JWT_OK : JWT_SIG);
	jwt_free(&t);
	jwk_free(key);
}

/* jwt_parse then jwt_verify of "tok" against the JWK text "jwk". */
static enum jwt_verdict
verdict(const char *tok, const char *jwk)
{
	struct jwk_key *key = NULL;
	struct jwt t;
	enum jwt_verdict v;

	memset(&t, 0, sizeof(t));
	if (jwk_from_json(jwk, strlen(jwk), &key) != MFA_OK)
		return JWT_ERROR;
	if ((v = jwt_parse(tok, strlen(tok), 4096, &t)) == JWT_OK)
		v = jwt_verify(&t, &key, 1, NULL);
	jwt_free(&t);
	jwk_free(key);
	return v;
}

/*
 * Re-encodes the payload of "tok" in place with "user-1" changed to
 * "user-3" (same length), keeping header and signature.
 */
static bool
tamper_sub(char *tok)
{
	char *d1 = strchr(tok, '.'), *d2, text[1024], *u;
	size_t room;

	if (d1 == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    !b64_text(d1 + 1, (size_t)(d2 - d1 - 1), text, sizeof(text)) ||
	    (u = strstr(text, "\"user-1\"")) == NULL)
		return false;
	u[6] = '3';
	room = sodium_base64_ENCODED_LEN(strlen(text), B64V);
	if ((size_t)(d2 - d1) != room)
		return false;
	sodium_bin2base64(d1 + 1, room, (const unsigned char *)text,
	    strlen(text), B64V);
	d1[room] = '.';
	return true;
}

/* Empty store; then init's idempotent first key. */
static void
test_signing_first(struct store *st, const struct keys *k,
    char kid[RECORD_KID_LEN + 1])
{
	char kid2[RECORD_KID_LEN + 1], *s, ad[64], x[64];
	unsigned char seed[32], pk[crypto_sign_PUBLICKEYBYTES];
	struct store_txn *txn = NULL;
	size_t n;
	struct signing_key sk;
	struct recs rs;
	bool created = false;

	memset(&sk, 0xa5, sizeof(sk));
	T_EQ_INT(current(st, k, &sk), MFA_ERR_NOTFOUND);
	T_TRUE(sodium_is_zero((unsigned char *)&sk, sizeof(sk)));
	s = jwks_text(st, T0, KEEP_S);
	T_EQ_STR(s, "{\"keys\":[]}");
	free(s);

	/* creating at time 0 could never be retired: refused */
	T_EQ_INT(create(st, k, 0, kid2), MFA_ERR_INVALID);

	T_EQ_INT(store_txn_begin(st, true, &txn), MFA_OK);
	T_EQ_INT(signing_key_ensure(txn, k, T0, kid, &created), MFA_OK);
	T_TRUE(created);
	T_EQ_INT(store_txn_commit(txn), MFA_OK);
	T_EQ_INT(store_txn_begin(st, true, &txn), MFA_OK);
	T_EQ_INT(signing_key_ensure(txn, k, T0 + 5, kid2, &created), MFA_OK);
	T_TRUE(!created);
	T_EQ_STR(kid2, kid);
	T_EQ_INT(store_txn_commit(txn), MFA_OK);

	collect(st, &rs);
	T_EQ_INT(rs.n, 1);
	T_EQ_INT(strlen(kid), RECORD_KID_LEN);
	T_EQ_STR(rs.r[0].kid, kid);
	T_EQ_INT(strlen(rs.r[0].public_b64), 43);
	T_EQ_INT(rs.r[0].created_at, T0);
	T_EQ_INT(rs.r[0].retired_at, 0);
	/* the kid is the RFC 7638 thumbprint of the public JWK */
	thumbprint(rs.r[0].public_b64, kid2);
	T_EQ_STR(kid, kid2);
	/* the record never holds the seed in the clear */
	T_TRUE(strlen(rs.r[0].seed_sealed) ==
	    sodium_base64_ENCODED_LEN(24 + 32 + 16, B64V) - 1);

	/* sealed with AD "signing:<kid>": the seed of the published key */
	snprintf(ad, sizeof(ad), "signing:%s", kid);
	T_EQ_INT(keys_open(k, ad, rs.r[0].seed_sealed, seed, sizeof(seed),
	    &n), MFA_OK);
	T_EQ_INT(n, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk.sk, seed);
	sodium_bin2base64(x, sizeof(x), pk, sizeof(pk), B64V);
	T_EQ_STR(x, rs.r[0].public_b64);
	T_EQ_INT(keys_open(k, "signing:", rs.r[0].seed_sealed, seed,
	    sizeof(seed), &n), MFA_ERR_CRYPTO);
	sodium_memzero(seed, sizeof(seed));

	T_EQ_INT(current(st, k, &sk), MFA_OK);
	T_EQ_STR(sk.kid, kid);
	T_EQ_MEM(sk.sk + 32, pk, sizeof(pk));
	signing_key_wipe(&sk);
	T_TRUE(sodium_is_zero((unsigned char *)&sk, sizeof(sk)));
	signing_key_wipe(NULL);
}

/* Sign with the current key, verify against the JWKS. */
static void
test_signing_token(struct store *st, const struct keys *k, const char *kid)
{
	char jwk[256], want[512], *tok = NULL, *ctext, *s;
	struct signing_key sk;
	struct recs rs;
	json_t *claims;

	collect(st, &rs);
	T_EQ_INT(current(st, k, &sk), MFA_OK);
	claims = signing_claims("https://mfa.example/", "user-1", "client-1",
	    NULL, T0, 600, "otp", "openid", "jti-1");
	ctext = json_dumps(claims, JSON_COMPACT);
	T_EQ_INT(signing_jwt(&sk, claims, &tok), MFA_OK);
	jwk_text(jwk, sizeof(jwk), kid, rs.r[0].public_b64);
	snprintf(want, sizeof(want), "{\"keys\":[%s]}", jwk);
	s = jwks_text(st, T0, KEEP_S);
	T_EQ_STR(s, want);
	free(s);
	if (tok != NULL && ctext != NULL) {
		check_token(tok, kid, rs.r[0].public_b64, ctext, jwk, true);
		/* "user-1" -> "user-3" in the payload: the signature fails */
		T_TRUE(tamper_sub(tok));
		T_EQ_INT(verdict(tok, jwk), JWT_SIG);
	}
	free(tok);
	tok = NULL;
	/* a tampered but well-formed token: flip a signature character */
	T_EQ_INT(signing_jwt(&sk, claims, &tok), MFA_OK);
	if (tok != NULL && ctext != NULL) {
		char *last = tok + strlen(tok) - 2;

		*last = *last == 'A' ? 'B' : 'A';
		check_token(tok, kid, rs.r[0].public_b64, ctext, jwk, false);
	}
	free(tok);
	tok = NULL;
	/* claims must be an object */
	T_EQ_INT(signing_jwt(&sk, json_object_get(claims, "amr"), &tok),
	    MFA_ERR_INVALID);
	T_TRUE(tok == NULL);
	free(ctext);
	json_decref(claims);
	signing_key_wipe(&sk);
}

/* Rotation: the new key signs, the old stays published for keep_s. */
static void
test_signing_rotate(struct store *st, const struct keys *k,
    const char *old)
{
	const mfa_ms t1 = T0 + 60000;
	char kid[RECORD_KID_LEN + 1], jwk_old[256], jwk_new[256], want[600];
	char *s, *tok = NULL, *ctext;
	const char *x_old = NULL, *x_new = NULL;
	struct signing_key sk;
	struct recs rs;
	json_t *claims;
	size_t i;

	T_EQ_INT(create(st, k, t1, kid), MFA_OK);
	T_TRUE(strcmp(kid, old) != 0);
	collect(st, &rs);
	T_EQ_INT(rs.n, 2);
	for (i = 0; i < rs.n; i++) {
		if (strcmp(rs.r[i].kid, old) == 0) {
			T_EQ_INT(rs.r[i].retired_at, t1);
			T_EQ_INT(rs.r[i].created_at, T0);
			x_old = rs.r[i].public_b64;
		} else {
			T_EQ_STR(rs.r[i].kid, kid);
			T_EQ_INT(rs.r[i].retired_at, 0);
			T_EQ_INT(rs.r[i].created_at, t1);
			x_new = rs.r[i].public_b64;
		}
	}
	T_TRUE(x_old != NULL && x_new != NULL);
	if (x_old == NULL || x_new == NULL)
		return;
	T_EQ_INT(current(st, k, &sk), MFA_OK);
	T_EQ_STR(sk.kid, kid);
	jwk_text(jwk_old, sizeof(jwk_old), old, x_old);
	jwk_text(jwk_new, sizeof(jwk_new), kid, x_new);

	/* current first, then the retired key, until keep_s has passed */
	snprintf(want, sizeof(want), "{\"keys\":[%s,%s]}", jwk_new, jwk_old);
	s = jwks_text(st, t1, KEEP_S);
	T_EQ_STR(s, want);
	free(s);
	s = jwks_text(st, t1 + KEEP_S * 1000 - 1, KEEP_S);
	T_EQ_STR(s, want);
	free(s);
	snprintf(want, sizeof(want), "{\"keys\":[%s]}", jwk_new);
	s = jwks_text(st, t1 + KEEP_S * 1000, KEEP_S);
	T_EQ_STR(s, want);
	free(s);
	s = jwks_text(st, t1, 0);
	T_EQ_STR(s, want);
	free(s);
	T_TRUE(jwks_text(st, t1, -1) == NULL);

	/* the new key signs; its token verifies with the new JWK only */
	claims = signing_claims("https://mfa.example/", "user-2", "client-2",
	    "https://mfa.example/mfa/", t1, 600, "oob", NULL, "jti-2");
	ctext = json_dumps(claims, JSON_COMPACT);
	T_EQ_INT(signing_jwt(&sk, claims, &tok), MFA_OK);
	if (tok != NULL && ctext != NULL) {
		struct jwk_key *ko = NULL;
		struct jwt t;

		check_token(tok, kid, x_new, ctext, jwk_new, true);
		memset(&t, 0, sizeof(t));
		T_EQ_INT(jwk_from_json(jwk_old, strlen(jwk_old), &ko), MFA_OK);
		T_EQ_INT(jwt_parse(tok, strlen(tok), 4096, &t), JWT_OK);
		if (ko != NULL)
			T_EQ_INT(jwt_verify(&t, &ko, 1, NULL),
			    JWT_KID_UNKNOWN);
		jwt_free(&t);
		jwk_free(ko);
	}
	free(tok);
	free(ctext);
	json_decref(claims);
	signing_key_wipe(&sk);
}

/* Replaces the record "r" in the store (a tampering stand-in). */
static void
put(struct store *st, const struct signing_rec *r)
{
	struct store_txn *txn = NULL;

	T_EQ_INT(store_txn_begin(st, true, &txn), MFA_OK);
	T_EQ_INT(store_signing_put(txn, r), MFA_OK);
	T_EQ_INT(store_txn_commit(txn), MFA_OK);
}

/* A seed that does not belong where it is found never signs. */
static void
test_signing_tamper(struct store *st, const struct keys *k,
    const char *dir)
{
	struct signing_rec cur, old, bad;
	struct signing_key sk;
	struct keys *other = NULL;
	struct recs rs;
	char path[PATH_MAX], first[64], *s;
	size_t i;

	collect(st, &rs);
	T_EQ_INT(rs.n, 2);
	if (rs.n != 2)
		return;
	for (i = 0; i < 2; i++) {
		if (rs.r[i].retired_at == 0)
			cur = rs.r[i];
		else
			old = rs.r[i];
	}

	/* the old key's sealed seed moved under the current kid */
	bad = cur;
	memcpy(bad.seed_sealed, old.seed_sealed, sizeof(bad.seed_sealed));
	put(st, &bad);
	memset(&sk, 0xa5, sizeof(sk));
	T_EQ_INT(current(st, k, &sk), MFA_ERR_CRYPTO);
	T_TRUE(sodium_is_zero((unsigned char *)&sk, sizeof(sk)));

	/* its own seed, but another public key published beside it */
	bad = cur;
	memcpy(bad.public_b64, old.public_b64, sizeof(bad.public_b64));
	put(st, &bad);
	memset(&sk, 0xa5, sizeof(sk));
	T_EQ_INT(current(st, k, &sk), MFA_ERR_CRYPTO);
	T_TRUE(sodium_is_zero((unsigned char *)&sk, sizeof(sk)));

	/* a public key that is not 32 bytes of base64url */
	bad = cur;
	snprintf(bad.public_b64, sizeof(bad.public_b64), "AAAA");
	put(st, &bad);
	T_EQ_INT(current(st, k, &sk), MFA_ERR_CORRUPT);

	/* the right record under another master key */
	put(st, &cur);
	snprintf(path, sizeof(path), "%s/other", dir);
	T_EQ_INT(mkdir(path, 0700), 0);
	T_EQ_INT(keys_create(path), MFA_OK);
	T_EQ_INT(keys_load(path, &other), MFA_OK);
	if (other != NULL) {
		memset(&sk, 0xa5, sizeof(sk));
		T_EQ_INT(current(st, other, &sk), MFA_ERR_CRYPTO);
		T_TRUE(sodium_is_zero((unsigned char *)&sk, sizeof(sk)));
	}
	keys_free(other);

	/* two current keys break the invariant: refuse to pick one */
	bad = old;
	bad.retired_at = 0;
	put(st, &bad);
	T_EQ_INT(current(st, k, &sk), MFA_ERR_CORRUPT);
	/* a rotation repairs it: both retired, one new current key */
	T_EQ_INT(create(st, k, T0 + 120000, bad.kid), MFA_OK);
	T_EQ_INT(current(st, k, &sk), MFA_OK);
	T_EQ_STR(sk.kid, bad.kid);
	signing_key_wipe(&sk);
	collect(st, &rs);
	T_EQ_INT(rs.n, 3);
	for (i = 0; i < rs.n; i++)
		T_EQ_INT(rs.r[i].retired_at,
		    strcmp(rs.r[i].kid, bad.kid) == 0 ? 0 : T0 + 120000);
	/* all three published, the current key first */
	s = jwks_text(st, T0 + 120000, KEEP_S);
	snprintf(first, sizeof(first), "{\"keys\":[{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\",\"x\":\"");
	T_TRUE(s != NULL && strncmp(s, first, strlen(first)) == 0 &&
	    strstr(s, bad.kid) != NULL &&
	    strstr(s, bad.kid) < strstr(s, "},{"));
	T_TRUE(s != NULL && strstr(strstr(s, "},{") + 1, "},{") != NULL);
	free(s);
}

/* signing_open_cached with "k" on "r": 0 when it answered "want" with
 * the key of "want_sk" (or a wiped key on an error). */
static int
cached_is(const struct keys *k, const struct signing_rec *r, int want,
    const struct signing_key *want_sk)
{
	struct signing_key got;
	int rc;

	memset(&got, 0xa5, sizeof(got));
	rc = signing_open_cached(k, r, &got);
	if (rc != want)
		return 1;
	if (rc != MFA_OK)
		return !sodium_is_zero((unsigned char *)&got, sizeof(got));
	return memcmp(&got, want_sk, sizeof(got)) != 0;
}

/*
 * The per-process key cache. Another master key shows what the cache
 * served: it opens nothing, so an MFA_OK with it can only be a hit. A
 * record changed in its sealed seed, a failed open, and a forked child
 * all miss.
 */
static void
test_signing_cache(struct store *st, const struct keys *k, const char *dir)
{
	struct signing_rec cur, bad;
	struct signing_key sk;
	struct store_txn *txn = NULL;
	struct keys *other = NULL;
	char path[PATH_MAX];
	pid_t pid;
	int status = -1, fds[2];
	char verdict;

	T_EQ_INT(store_txn_begin(st, false, &txn), MFA_OK);
	T_EQ_INT(signing_current_rec(txn, &cur), MFA_OK);
	store_txn_abort(txn);
	T_EQ_INT(signing_open(k, &cur, &sk), MFA_OK);
	snprintf(path, sizeof(path), "%s/other2", dir);
	T_EQ_INT(mkdir(path, 0700), 0);
	T_EQ_INT(keys_create(path), MFA_OK);
	T_EQ_INT(keys_load(path, &other), MFA_OK);
	if (other == NULL)
		return;

	signing_cache_wipe();
	T_EQ_INT(cached_is(other, &cur, MFA_ERR_CRYPTO, NULL), 0); /* empty */
	T_EQ_INT(cached_is(k, &cur, MFA_OK, &sk), 0);      /* opened */
	T_EQ_INT(cached_is(other, &cur, MFA_OK, &sk), 0);  /* a hit */

	/* the child's verdict comes through a pipe: under valgrind its exit
	 * status reports the parent's store it inherited and never closes */
	T_EQ_INT(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		verdict = (char)('0' + cached_is(other, &cur, MFA_ERR_CRYPTO,
		    NULL));
		_exit(write(fds[1], &verdict, 1) == 1 ? 0 : 1);
	}
	close(fds[1]);
	verdict = 'x';
	T_TRUE(pid > 0 && read(fds[0], &verdict, 1) == 1 && verdict == '0');
	T_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid);
	close(fds[0]);

	/* another public key beside the same kid and seed: opened, refused
	 * (the cache holds the right key, but the record is not its own) */
	bad = cur;
	bad.public_b64[0] = bad.public_b64[0] == 'A' ? 'B' : 'A';
	T_EQ_INT(cached_is(k, &bad, MFA_ERR_CRYPTO, NULL), 0);
	T_EQ_INT(cached_is(k, &cur, MFA_OK, &sk), 0);

	/* another sealed seed under the same kid: opened, refused */
	bad = cur;
	bad.seed_sealed[strlen(bad.seed_sealed) / 2] ^= 0x01;
	T_EQ_INT(cached_is(k, &bad, MFA_ERR_CRYPTO, NULL), 0);
	/* and the failure emptied the cache */
	T_EQ_INT(cached_is(other, &cur, MFA_ERR_CRYPTO, NULL), 0);
	T_EQ_INT(cached_is(k, &cur, MFA_OK, &sk), 0);
	signing_cache_wipe();
	T_EQ_INT(cached_is(other, &cur, MFA_ERR_CRYPTO, NULL), 0);
	signing_key_wipe(&sk);
	keys_free(other);
}

/* The claims builder, exact JSON. */
static void
test_signing_claims(void)
{
#define ACR "\"acr\":\"http://schemas.openid.net/pape/policies/2007/06/" \
	"multi-factor\""
	static const struct {
		const char *extra_aud, *method, *scope, *want;
	} rows[] = {
		{ NULL, "otp", NULL,
		  "{\"iss\":\"https://mfa.example/\",\"sub\":\"u1\","
		  "\"aud\":\"c1\",\"iat\":1700000000,\"exp\":1700000600,"
		  "\"auth_time\":1700000000,\"amr\":[\"mfa\",\"otp\"],"
		  ACR ",\"jti\":\"J\"}" },
		{ "https://mfa.example/mfa/", "oob", NULL,
		  "{\"iss\":\"https://mfa.example/\",\"sub\":\"u1\","
		  "\"aud\":[\"c1\",\"https://mfa.example/mfa/\"],"
		  "\"iat\":1700000000,\"exp\":1700000600,"
		  "\"auth_time\":1700000000,\"amr\":[\"mfa\",\"oob\"],"
		  ACR ",\"jti\":\"J\"}" },
		{ NULL, "recovery-code", "openid profile",
		  "{\"iss\":\"https://mfa.example/\",\"sub\":\"u1\","
		  "\"aud\":\"c1\",\"iat\":1700000000,\"exp\":1700000600,"
		  "\"auth_time\":1700000000,"
		  "\"amr\":[\"mfa\",\"recovery-code\"]," ACR ",\"jti\":\"J\","
		  "\"scope\":\"openid profile\"}" },
		{ "https://mfa.example/mfa/", "otp", "openid",
		  "{\"iss\":\"https://mfa.example/\",\"sub\":\"u1\","
		  "\"aud\":[\"c1\",\"https://mfa.example/mfa/\"],"
		  "\"iat\":1700000000,\"exp\":1700000600,"
		  "\"auth_time\":1700000000,\"amr\":[\"mfa\",\"otp\"],"
		  ACR ",\"jti\":\"J\",\"scope\":\"openid\"}" },
	};
#undef ACR
	json_t *c;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* 999 ms past the second: iat is the whole second */
		c = signing_claims("https://mfa.example/", "u1", "c1",
		    rows[i].extra_aud, 1700000000999, 600, rows[i].method,
		    rows[i].scope, "J");
		s = c != NULL ? json_dumps(c, JSON_COMPACT) : NULL;
		T_EQ_STR(s, rows[i].want);
		free(s);
		json_decref(c);
	}
	/* a required string missing, or not UTF-8 */
	T_TRUE(signing_claims(NULL, "u", "c", NULL, 1, 1, "otp", NULL,
	    "j") == NULL);
	T_TRUE(signing_claims("i", NULL, "c", NULL, 1, 1, "otp", NULL,
	    "j") == NULL);
	T_TRUE(signing_claims("i", "u", NULL, NULL, 1, 1, "otp", NULL,
	    "j") == NULL);
	T_TRUE(signing_claims("i", "u", "c", NULL, 1, 1, NULL, NULL,
	    "j") == NULL);
	T_TRUE(signing_claims("i", "u", "c", NULL, 1, 1, "otp", NULL,
	    NULL) == NULL);
	T_TRUE(signing_claims("i", "u\xff", "c", NULL, 1, 1, "otp", NULL,
	    "j") == NULL);
}

void
test_signing(void)
{
	char path[PATH_MAX], kid[RECORD_KID_LEN + 1];
	struct store *st = NULL;
	struct keys *keys = NULL;

	test_signing_claims();
	if (mkdtemp(base) == NULL) {
		T_TRUE(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/db", base);
	T_EQ_INT(store_open(&st, path, MAPSIZE, STORE_CREATE), MFA_OK);
	T_EQ_INT(keys_create(path), MFA_OK);
	T_EQ_INT(keys_load(path, &keys), MFA_OK);
	if (st != NULL && keys != NULL) {
		test_signing_first(st, keys, kid);
		test_signing_token(st, keys, kid);
		test_signing_rotate(st, keys, kid);
		test_signing_tamper(st, keys, base);
		test_signing_cache(st, keys, base);
	}
	keys_free(keys);
	store_close(st);
	rm_tree(base);
}
