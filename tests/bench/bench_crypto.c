/*
 * bench_crypto.c -- what one client-assertion check and the other
 * per-request crypto cost on this machine (make bench-crypto). Each
 * assertion case does what a request does: the stored public JWK is parsed
 * (jwk_from_json), the JWS parsed, the signature verified and the claims
 * checked. Tokens and keys come from PyJWT (build/gen/jwt-vectors.h).
 * Prints one line per case: the median of 5 rounds, in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "totp.h"

#include "jwt-vectors.h"

#define ROUNDS 5

struct jwt_case {
	const char *name;
	const char *key_pem;
	enum jwk_alg alg;
	const char *token;
	int iters;
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The key of one check: "stored" (a public JWK) or the HS256 secret. */
static struct jwk_key *
key_of(const char *stored, const unsigned char *secret)
{
	struct jwk_key *k = NULL;

	if ((stored != NULL ? jwk_from_json(stored, strlen(stored), &k) :
	    jwk_hmac_new(secret, 32, NULL, &k)) != MFA_OK) {
		fprintf(stderr, "bench: the key does not load\n");
		exit(1);
	}
	return k;
}

/* One assertion check with key "k"; exits on any failure (a benchmark
 * that measures a rejection would lie). */
static void
check_with(struct jwk_key *k, const char *token)
{
	static const char *const aud[] = { FX_ISSUER };
	struct jwt_policy p = { FX_CLIENT, aud, 1, FX_NOW, 300, 10 };
	struct jwt_claims c;
	struct jwt t;

	memset(&t, 0, sizeof(t));
	if (jwt_parse(token, strlen(token), 2048, &t) != JWT_OK ||
	    jwt_verify(&t, &k, 1, NULL) != JWT_OK ||
	    jwt_claims_check(t.payload, &p, &c) != JWT_OK) {
		fprintf(stderr, "bench: the check failed\n");
		exit(1);
	}
	jwt_free(&t);
}

/* One full assertion check, the stored key parsed as a cold worker does. */
static void
check_once(const char *stored, const unsigned char *secret,
    const char *token)
{
	struct jwk_key *k = key_of(stored, secret);

	check_with(k, token);
	jwk_free(k);
}

/* Median of ROUNDS rounds of "iters" checks, printed as "name". */
static void
print_rounds(const char *name, double *r)
{
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	printf("%-34s %8.1f us  (min %.1f, max %.1f)\n", name,
	    r[ROUNDS / 2], r[0], r[ROUNDS - 1]);
}

static void
bench_jwt(const struct jwt_case *jc)
{
	struct jwk_key *keys[JWK_SET_MAX], *cached;
	double r[ROUNDS], t0;
	const char *why;
	char *stored = NULL;
	size_t n;
	int i, j;

	if (jc->key_pem != NULL) {
		if (jwk_load((const unsigned char *)jc->key_pem,
		    strlen(jc->key_pem), jc->alg, keys, &n, &why) != MFA_OK ||
		    jwk_to_json(keys[0], &stored) != MFA_OK) {
			fprintf(stderr, "bench: %s: %s\n", jc->name, why);
			exit(1);
		}
		jwk_free(keys[0]);
	}
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_us();
		for (j = 0; j < jc->iters; j++)
			check_once(stored, FX_HS_SECRET, jc->token);
		r[i] = (now_us() - t0) / jc->iters;
	}
	print_rounds(jc->name, r);
	/* what a request pays: a worker keeps the parsed key (keys.c) */
	cached = key_of(stored, FX_HS_SECRET);
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_us();
		for (j = 0; j < jc->iters; j++)
			check_with(cached, jc->token);
		r[i] = (now_us() - t0) / jc->iters;
	}
	jwk_free(cached);
	print_rounds("  the key kept", r);
	free(stored);
}

/* TOTP verification with the default window (3 steps evaluated). */
static void
bench_totp(void)
{
	static const unsigned char seed[20] = "12345678901234567890";
	struct totp_params p = { TOTP_SHA1, 6, 30, 1, 1 };
	double r[ROUNDS], t0;
	int64_t step;
	int i, j;

	for (i = 0; i < ROUNDS; i++) {
		t0 = now_us();
		for (j = 0; j < 20000; j++)
			if (totp_verify(&p, seed, sizeof(seed), "000000",
			    1111111111, -1, &step) == TOTP_ERROR)
				exit(1);
		r[i] = (now_us() - t0) / 20000;
	}
	print_rounds("TOTP verify (SHA1, window 3)", r);
}

int
main(void)
{
	const struct jwt_case cases[] = {
		{ "assertion EdDSA (Ed25519)", KEY_ED_PEM, JWK_ALG_EDDSA,
		    TOK_OK_EDDSA, 2000 },
		{ "assertion RS256 (RSA-2048)", KEY_RSA_PEM, JWK_ALG_RS256,
		    TOK_OK_RS256, 2000 },
		{ "assertion PS256 (RSA-2048)", KEY_RSA_PEM, JWK_ALG_PS256,
		    TOK_OK_PS256, 2000 },
		{ "assertion ES256 (P-256)", KEY_EC_PEM, JWK_ALG_ES256,
		    TOK_OK_ES256, 2000 },
		{ "assertion HS256 (client secret)", NULL, JWK_ALG_HS256,
		    TOK_OK_HS256, 20000 },
	};
	size_t i;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bench_jwt(&cases[i]);
	bench_totp();
	return 0;
}
