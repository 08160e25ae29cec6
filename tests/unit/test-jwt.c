/*
 * test-jwt.c -- JWT client assertions (jwt.c, jwt_claims.c) and client
 * keys (jwk.c, jwk_parse.c). Every token and key comes from an
 * independent library:
 * gen-jwt-vectors.py (PyJWT, python3-cryptography) writes jwt-vectors.h
 * with fresh keys on every run; the RFC 7515 / 7638 / 8037 examples are
 * quoted from the RFCs. The code under test never makes a token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "jwk.h"
#include "jwt.h"
#include "test.h"

#include "jwt-vectors.h"

/* The registered-key sets the token table verifies against. */
enum ks {
	KS_ED,      /* Ed25519 PEM, pinned EdDSA */
	KS_ED_NAME, /* the same key as a JWK with alg "Ed25519", kid ed-1 */
	KS_RSA,     /* RSA-2048 PEM, pinned RS256 */
	KS_RS384,   /* the same key pinned RS384 */
	KS_PS256,   /* the same key pinned PS256 */
	KS_RSA4096, /* RSA-4096 PEM, RS256 */
	KS_EC,      /* P-256 JWK, ES256 */
	KS_HS,      /* 32-byte secret, HS256 */
	KS_HS16,    /* 16-byte secret, HS256 */
	KS_JWKS,    /* k1 = the RSA key, k2 = a second RSA key, RS256 */
	KS_EMPTY,   /* no key */
	KS__N
};

static struct {
	struct jwk_key *k[JWK_SET_MAX];
	size_t n;
} ks[KS__N];

static const char *const audiences[] = { FX_ISSUER, "https://mfa.example.com",
	FX_ENDPOINT };

static const struct jwt_policy policy = {
	.client_id = FX_CLIENT,
	.audiences = audiences,
	.naudiences = 3,
	.now = FX_NOW,
	.max_lifetime = JWT_LIFETIME_DEFAULT,
	.skew = JWT_SKEW_DEFAULT,
};

static void
ks_load(enum ks i, const char *text, enum jwk_alg alg)
{
	const char *why = NULL;

	T_EQ_INT(jwk_load((const unsigned char *)text, strlen(text), alg,
	             ks[i].k, &ks[i].n, &why),
	    MFA_OK);
	T_EQ_STR(why, "");
}

static void
ks_setup(void)
{
	ks_load(KS_ED, KEY_ED_PEM, JWK_ALG_EDDSA);
	ks_load(KS_ED_NAME, KEY_ED_JWK_ED25519_NAME, JWK_ALG_EDDSA);
	ks_load(KS_RSA, KEY_RSA_PEM, JWK_ALG_RS256);
	ks_load(KS_RS384, KEY_RSA_PEM, JWK_ALG_RS384);
	ks_load(KS_PS256, KEY_RSA_PEM, JWK_ALG_PS256);
	ks_load(KS_RSA4096, KEY_RSA4096_PEM, JWK_ALG_RS256);
	ks_load(KS_EC, KEY_EC_JWK, JWK_ALG_ES256);
	ks_load(KS_JWKS, KEY_JWKS, JWK_ALG_RS256);
	T_EQ_INT(jwk_hmac_new(
	             FX_HS_SECRET, sizeof(FX_HS_SECRET), NULL, &ks[KS_HS].k[0]),
	    MFA_OK);
	ks[KS_HS].n = 1;
	T_EQ_INT(jwk_hmac_new(FX_HS16_SECRET, sizeof(FX_HS16_SECRET), NULL,
	             &ks[KS_HS16].k[0]),
	    MFA_OK);
	ks[KS_HS16].n = 1;
}

static void
ks_teardown(void)
{
	size_t i, j;

	for (i = 0; i < KS__N; i++)
		for (j = 0; j < JWK_SET_MAX; j++) {
			jwk_free(ks[i].k[j]);
			ks[i].k[j] = NULL;
		}
}

/* parse -> verify -> claims, as the lead's provider will run them. */
static enum jwt_verdict
run(const char *tok, size_t len, size_t max_len, enum ks set, size_t *which,
    struct jwt_claims *c)
{
	struct jwt t = { 0 };
	struct jwt_claims dummy;
	enum jwt_verdict v;

	v = jwt_parse(tok, len, max_len, &t);
	if (v == JWT_OK)
		v = jwt_verify(&t, ks[set].k, ks[set].n, which);
	if (v == JWT_OK)
		v = jwt_claims_check(t.payload, &policy, c ? c : &dummy);
	jwt_free(&t);
	return v;
}

static const struct tok_case {
	int line;
	const char *name;
	const char *tok;
	enum ks set;
	size_t max_len;
	enum jwt_verdict want;
} tok_cases[] = {
#define TC(n, s, w)                                                            \
	{                                                                      \
		__LINE__, #n, TOK_##n, s, JWT_MAX_LEN_DEFAULT, w               \
	}
#define TCM(n, s, m, w)                                                        \
	{                                                                      \
		__LINE__, #n, TOK_##n, s, m, w                                 \
	}
	/* one valid assertion per algorithm; EdDSA under both names */
	TC(OK_EDDSA, KS_ED, JWT_OK),
	TC(OK_EDDSA, KS_ED_NAME, JWT_OK),
	TC(OK_ED25519_NAME, KS_ED, JWT_OK),
	TC(OK_ED25519_NAME, KS_ED_NAME, JWT_OK),
	TC(OK_RS256, KS_RSA, JWT_OK),
	TC(OK_RS384, KS_RS384, JWT_OK),
	TC(OK_PS256, KS_PS256, JWT_OK),
	TC(OK_ES256, KS_EC, JWT_OK),
	TC(OK_HS256, KS_HS, JWT_OK),
	TC(OK_RS256_4096, KS_RSA4096, JWT_OK),
	/* F16 explicit typing */
	TC(TYP_CLIENT_AUTH, KS_ED, JWT_OK),
	TC(TYP_APP_CLIENT_AUTH, KS_ED, JWT_OK),
	TC(TYP_LOWER, KS_ED, JWT_OK),
	TC(TYP_ABSENT, KS_ED, JWT_OK),
	TC(TYP_AT_JWT, KS_ED, JWT_TYP),
	TC(TYP_INT, KS_ED, JWT_TYP),
	/* F8 a-c: alg none, every spelling, with or without a signature */
	TC(NONE_LOWER, KS_RSA, JWT_ALG_NONE),
	TC(NONE_CAP, KS_RSA, JWT_ALG_NONE),
	TC(NONE_UPPER, KS_RSA, JWT_ALG_NONE),
	TC(NONE_MIXED, KS_RSA, JWT_ALG_NONE),
	TC(NONE_GARBAGE_SIG, KS_RSA, JWT_ALG_NONE),
	TC(NONE_LOWER, KS_HS, JWT_ALG_NONE),
	/* F8 d-f, F9: algorithm confusion and pinning */
	TC(HS256_RSA_PEM, KS_RSA, JWT_ALG_FAMILY),
	TC(HS256_RSA_DER, KS_RSA, JWT_ALG_FAMILY),
	TC(HS256_EMPTY_KEY, KS_RSA, JWT_ALG_FAMILY),
	TC(HS256_EMPTY_KEY, KS_EC, JWT_ALG_FAMILY),
	TC(HS256_RSA_PEM, KS_JWKS, JWT_ALG_FAMILY),
	TC(OK_HS256, KS_ED, JWT_ALG_FAMILY),
	TC(OK_RS256, KS_HS, JWT_ALG_FAMILY),
	TC(RS512_RSA, KS_RSA, JWT_ALG_UNSUPPORTED),
	TC(OK_RS384, KS_RSA, JWT_ALG_MISMATCH),
	TC(OK_PS256, KS_RSA, JWT_ALG_MISMATCH),
	TC(OK_RS256, KS_PS256, JWT_ALG_MISMATCH),
	TC(OK_RS256, KS_RS384, JWT_ALG_MISMATCH),
	TC(OK_ES256, KS_RSA, JWT_ALG_MISMATCH),
	TC(OK_RS256, KS_EC, JWT_ALG_MISMATCH),
	TC(OK_EDDSA, KS_RSA, JWT_ALG_MISMATCH),
	TC(RS256_BY_OTHER_KEY, KS_RSA, JWT_SIG),
	TC(EDDSA_BY_OTHER_KEY, KS_ED, JWT_SIG),
	TC(OK_RS256, KS_EMPTY, JWT_NO_KEY),
	/* F10: ES256 signature form and range */
	TC(ES256_SIG_63, KS_EC, JWT_SIG_LENGTH),
	TC(ES256_SIG_65, KS_EC, JWT_SIG_LENGTH),
	TC(ES256_SIG_DER, KS_EC, JWT_SIG_LENGTH),
	TC(ES256_SIG_ZERO, KS_EC, JWT_SIG_RANGE),
	TC(ES256_R_IS_N, KS_EC, JWT_SIG_RANGE),
	TC(ES256_S_IS_N, KS_EC, JWT_SIG_RANGE),
	TC(ES256_S_ZERO, KS_EC, JWT_SIG_RANGE),
	/* one flipped bit per algorithm; signature lengths */
	TC(FLIP_EDDSA, KS_ED, JWT_SIG),
	TC(FLIP_RS256, KS_RSA, JWT_SIG),
	TC(FLIP_RS384, KS_RS384, JWT_SIG),
	TC(FLIP_PS256, KS_PS256, JWT_SIG),
	TC(FLIP_ES256, KS_EC, JWT_SIG),
	TC(FLIP_HS256, KS_HS, JWT_SIG),
	TC(PAYLOAD_SWAPPED, KS_RSA, JWT_SIG),
	TC(PS256_SALT_0, KS_PS256, JWT_SIG),
	TC(PS256_SALT_MAX, KS_PS256, JWT_SIG),
	TC(PS256_MGF1_SHA1, KS_PS256, JWT_SIG),
	TC(RS256_SIGNED_SHA384, KS_RSA, JWT_SIG),
	TC(RS256_SIG_SHORT, KS_RSA, JWT_SIG_LENGTH),
	TC(RS256_SIG_EMPTY, KS_RSA, JWT_SIG_LENGTH),
	TC(EDDSA_SIG_63, KS_ED, JWT_SIG_LENGTH),
	TC(HS256_SIG_31, KS_HS, JWT_SIG_LENGTH),
	TC(SIG_TOO_LONG, KS_RSA, JWT_SIG_LENGTH),
	TC(OK_RS256, KS_RSA4096, JWT_SIG_LENGTH),
	/* OIDC §16.19: HS256 needs a secret of 32 bytes or more */
	TC(HS256_SHORT_SECRET, KS_HS16, JWT_HMAC_KEY_SHORT),
	TC(OK_HS256, KS_HS16, JWT_HMAC_KEY_SHORT),
	/* kid selects among two keys; opaque (F12) */
	TC(KID_K1, KS_JWKS, JWT_OK),
	TC(KID_K2, KS_JWKS, JWT_OK),
	TC(NOKID_RSA2, KS_JWKS, JWT_OK),
	TC(OK_RS256, KS_JWKS, JWT_OK),
	TC(KID_THUMBPRINT, KS_JWKS, JWT_OK),
	TC(KID_THUMBPRINT, KS_RSA, JWT_OK),
	TC(KID_K1_BY_RSA2, KS_JWKS, JWT_SIG),
	TC(KID_UNKNOWN, KS_JWKS, JWT_KID_UNKNOWN),
	TC(KID_DOTDOT, KS_JWKS, JWT_KID_UNKNOWN),
	TC(KID_QUOTE, KS_JWKS, JWT_KID_UNKNOWN),
	TC(KID_LONG, KS_JWKS, JWT_KID_UNKNOWN),
	/* a client that registered no kid: the kid is only a hint */
	TC(KID_K1, KS_RSA, JWT_OK),
	TC(KID_K1_BY_RSA2, KS_RSA, JWT_SIG),
	TC(KID_NUL, KS_JWKS, JWT_HEADER_JSON), /* jansson refuses \u0000 */
	TC(KID_INT, KS_JWKS, JWT_KID_TYPE),
	/* F12: keys in the header are never used */
	TC(HEADER_JWK_IGNORED, KS_ED, JWT_OK),
	TC(HEADER_JWK_ATTACKER, KS_ED, JWT_SIG),
	/* F14 */
	TC(CRIT_EXP, KS_RSA, JWT_CRIT),
	TC(CRIT_FOO, KS_RSA, JWT_CRIT),
	TC(CRIT_EMPTY, KS_RSA, JWT_CRIT),
	/* F13: duplicates, segments, base64url, JSON */
	TC(DUP_CLAIM, KS_ED, JWT_PAYLOAD_JSON),
	TC(DUP_HEADER_ALG, KS_ED, JWT_HEADER_JSON),
	TC(NO_DOTS, KS_RSA, JWT_SEGMENTS),
	TC(ONE_DOT, KS_RSA, JWT_SEGMENTS),
	TC(THREE_DOTS, KS_RSA, JWT_SEGMENTS),
	TC(FIVE_DOTS, KS_RSA, JWT_SEGMENTS),
	TC(JWE, KS_RSA, JWT_JWE),
	TC(DOTS_ONLY, KS_RSA, JWT_HEADER_JSON),
	TC(EMPTY_HEADER, KS_RSA, JWT_HEADER_JSON),
	TC(EMPTY_PAYLOAD, KS_RSA, JWT_PAYLOAD_JSON),
	TC(B64_HEADER_PAD, KS_RSA, JWT_BASE64),
	TC(B64_SIG_PAD, KS_EC, JWT_BASE64),
	TC(B64_PAYLOAD_PLUS, KS_RSA, JWT_BASE64),
	TC(B64_PAYLOAD_SLASH, KS_RSA, JWT_BASE64),
	TC(B64_HEADER_SPACE, KS_RSA, JWT_BASE64),
	TC(B64_SIG_NEWLINE, KS_RSA, JWT_BASE64),
	TC(B64_TRAILING_BITS, KS_EC, JWT_BASE64),
	TC(B64_HEADER_LEN_MOD4, KS_RSA, JWT_BASE64),
	TC(B64_PAYLOAD_NON_ASCII, KS_RSA, JWT_BASE64),
	TC(HEADER_NOT_JSON, KS_RSA, JWT_HEADER_JSON),
	TC(HEADER_ARRAY, KS_RSA, JWT_HEADER_JSON),
	TC(HEADER_BAD_UTF8, KS_RSA, JWT_HEADER_JSON),
	TC(ALG_INT, KS_RSA, JWT_ALG_MISSING),
	TC(ALG_MISSING, KS_RSA, JWT_ALG_MISSING),
	TC(ALG_NULL, KS_RSA, JWT_ALG_MISSING),
	TC(ALG_17, KS_RSA, JWT_ALG_UNSUPPORTED),
	TC(ALG_LOWER, KS_RSA, JWT_ALG_UNSUPPORTED),
	TC(ALG_ES256K, KS_RSA, JWT_ALG_UNSUPPORTED),
	TC(PAYLOAD_ARRAY, KS_ED, JWT_PAYLOAD_JSON),
	TC(PAYLOAD_NOT_JSON, KS_ED, JWT_PAYLOAD_JSON),
	TC(PAYLOAD_BAD_UTF8, KS_ED, JWT_PAYLOAD_JSON),
	/* F15: size and nesting */
	TC(OVERSIZED, KS_ED, JWT_TOO_LONG),
	TCM(OVERSIZED, KS_ED, 4096, JWT_OK),
	TC(NEST_OK, KS_ED, JWT_OK),
	TC(NEST_DEEP_PAYLOAD, KS_ED, JWT_TOO_LONG),
	TCM(NEST_DEEP_PAYLOAD, KS_ED, 1 << 20, JWT_PAYLOAD_JSON),
	TCM(NEST_DEEP_HEADER, KS_ED, 1 << 20, JWT_HEADER_JSON),
	/* claims through the whole path (F1-F5, F7): skew 10, life 300 */
	TC(C_EXP_AT_SKEW_EDGE, KS_ED, JWT_EXPIRED),
	TC(C_EXP_INSIDE_SKEW, KS_ED, JWT_OK),
	TC(C_EXP_MS, KS_ED, JWT_LIFETIME),
	TC(C_LIFETIME_EDGE_OK, KS_ED, JWT_OK),
	TC(C_LIFETIME_OVER, KS_ED, JWT_LIFETIME),
	TC(C_NBF_EDGE_OK, KS_ED, JWT_OK),
	TC(C_NBF_FUTURE, KS_ED, JWT_NOT_YET_VALID),
	TC(C_IAT_FUTURE, KS_ED, JWT_IAT_FUTURE),
	TC(C_NO_EXP, KS_ED, JWT_EXP_MISSING),
	TC(C_EXP_STRING, KS_ED, JWT_EXP_TYPE),
	TC(C_EXP_REAL, KS_ED, JWT_EXP_TYPE),
	TC(C_EXP_HUGE_INT, KS_ED, JWT_PAYLOAD_JSON),
	TC(C_EXP_HUGE_REAL, KS_ED, JWT_PAYLOAD_JSON),
	TC(C_NO_JTI, KS_ED, JWT_JTI_MISSING),
	TC(C_JTI_65, KS_ED, JWT_JTI_BAD),
	TC(C_JTI_64, KS_ED, JWT_OK),
	TC(C_ISS_NE_SUB, KS_ED, JWT_ISS_MISMATCH),
	TC(C_SUB_NE_CLIENT, KS_ED, JWT_SUB_MISMATCH),
	TC(C_OTHER_CLIENT, KS_ED, JWT_ISS_MISMATCH),
	TC(C_AUD_ENDPOINT, KS_ED, JWT_OK),
	TC(C_AUD_NO_SLASH, KS_ED, JWT_OK),
	TC(C_AUD_ARRAY, KS_ED, JWT_AUD_ARRAY),
	TC(C_AUD_WRONG, KS_ED, JWT_AUD_MISMATCH),
	TC(C_AUD_MISSING, KS_ED, JWT_AUD_MISSING),
#undef TC
#undef TCM
};

static void
test_jwt_tokens(void)
{
	const struct tok_case *c;
	enum jwt_verdict v;
	size_t i;

	for (i = 0; i < sizeof(tok_cases) / sizeof(tok_cases[0]); i++) {
		c = &tok_cases[i];
		v = run(c->tok, strlen(c->tok), c->max_len, c->set, NULL, NULL);
		test_report(v == c->want, __FILE__, c->line,
		    "%s: got \"%s\", want \"%s\"", c->name, jwt_verdict_str(v),
		    jwt_verdict_str(c->want));
	}
}

/*
 * A key's verify context is set up once and used for every check: a
 * failed check (bad signature, wrong PSS salt) leaves nothing behind
 * for the next, and a good one after it still verifies.
 */
static void
test_jwt_verifier_reuse(void)
{
	static const struct {
		const char *good, *bad;
		enum ks set;
	} r[] = {
		{ TOK_OK_RS256, TOK_FLIP_RS256, KS_RSA },
		{ TOK_OK_RS384, TOK_FLIP_RS384, KS_RS384 },
		{ TOK_OK_PS256, TOK_PS256_SALT_0, KS_PS256 },
		{ TOK_OK_PS256, TOK_PS256_MGF1_SHA1, KS_PS256 },
		{ TOK_OK_ES256, TOK_FLIP_ES256, KS_EC },
	};
	size_t i;
	int round;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		for (round = 0; round < 3; round++) {
			T_EQ_INT(run(r[i].bad, strlen(r[i].bad),
			             JWT_MAX_LEN_DEFAULT, r[i].set, NULL, NULL),
			    JWT_SIG);
			T_EQ_INT(run(r[i].good, strlen(r[i].good),
			             JWT_MAX_LEN_DEFAULT, r[i].set, NULL, NULL),
			    JWT_OK);
		}
}

/* Which key verified, the claims handed to the jti table, exact bounds. */
static void
test_jwt_details(void)
{
	static const struct {
		const char *tok;
		size_t which;
	} sel[] = {
		{ TOK_KID_K1, 0 },
		{ TOK_KID_K2, 1 },
		{ TOK_NOKID_RSA2, 1 },
		{ TOK_OK_RS256, 0 },
		{ TOK_KID_THUMBPRINT, 0 },
	};
	struct jwt_claims c;
	struct jwt t = { 0 };
	char *big;
	size_t i, which, len;

	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		which = 99;
		T_EQ_INT(run(sel[i].tok, strlen(sel[i].tok),
		             JWT_MAX_LEN_DEFAULT, KS_JWKS, &which, NULL),
		    JWT_OK);
		T_EQ_INT(which, sel[i].which);
	}

	memset(&c, 0x55, sizeof(c));
	T_EQ_INT(run(TOK_OK_EDDSA, strlen(TOK_OK_EDDSA), JWT_MAX_LEN_DEFAULT,
	             KS_ED, NULL, &c),
	    JWT_OK);
	T_EQ_STR(c.client_id, FX_CLIENT);
	T_EQ_INT(strlen(c.jti), 32); /* uuid4().hex */
	T_EQ_INT(c.exp, FX_NOW + 120);
	T_EQ_INT(run(TOK_C_JTI_64, strlen(TOK_C_JTI_64), JWT_MAX_LEN_DEFAULT,
	             KS_ED, NULL, &c),
	    JWT_OK);
	T_EQ_STR(c.jti,
	    "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"
	    "jjjjjjjjjj");

	/* the length bound is inclusive */
	len = strlen(TOK_OK_EDDSA);
	T_EQ_INT(run(TOK_OK_EDDSA, len, len, KS_ED, NULL, NULL), JWT_OK);
	T_EQ_INT(
	    run(TOK_OK_EDDSA, len, len - 1, KS_ED, NULL, NULL), JWT_TOO_LONG);
	/* a length that stops short of the NUL is honoured */
	T_EQ_INT(run(TOK_OK_EDDSA, len - 1, len, KS_ED, NULL, NULL),
	    JWT_BASE64); /* 85 characters: no whole bytes */
	T_EQ_INT(run(TOK_OK_EDDSA, len - 2, len, KS_ED, NULL, NULL),
	    JWT_SIG_LENGTH); /* 84 characters: 63 bytes */

	/* F15: 1 MiB is refused on its length, before anything else */
	if ((big = malloc((1 << 20) + 1)) != NULL) {
		memset(big, 'A', 1 << 20);
		big[100] = big[200] = '.';
		T_EQ_INT(
		    run(big, 1 << 20, JWT_MAX_LEN_DEFAULT, KS_ED, NULL, NULL),
		    JWT_TOO_LONG);
		T_EQ_INT(run(big, 1 << 20, 2 << 20, KS_ED, NULL, NULL),
		    JWT_HEADER_JSON);
		big[100] = big[200] = 'A';
		T_EQ_INT(run(big, 1 << 20, 2 << 20, KS_ED, NULL, NULL),
		    JWT_SEGMENTS);
		free(big);
	}

	/* the unverified sub, for the client lookup */
	T_EQ_INT(jwt_parse(TOK_C_SUB_NE_CLIENT, strlen(TOK_C_SUB_NE_CLIENT),
	             JWT_MAX_LEN_DEFAULT, &t),
	    JWT_OK);
	T_EQ_STR(jwt_unverified_sub(&t), "client-2");
	T_EQ_INT(t.alg, JWK_ALG_EDDSA);
	T_TRUE(t.kid == NULL);
	jwt_free(&t);
	T_TRUE(t.header == NULL && t.payload == NULL && t.input == NULL);
	jwt_free(&t); /* twice is harmless */
	jwt_free(NULL);
	T_TRUE(jwt_unverified_sub(NULL) == NULL);
	T_TRUE(jwt_unverified_sub(&t) == NULL);

	T_EQ_INT(
	    jwt_parse(TOK_KID_K2, strlen(TOK_KID_K2), JWT_MAX_LEN_DEFAULT, &t),
	    JWT_OK);
	T_EQ_INT(t.kidlen, 2);
	T_EQ_MEM(t.kid, "k2", 2);
	T_EQ_INT(t.alg, JWK_ALG_RS256);
	T_EQ_INT(t.siglen, 256);
	jwt_free(&t);

	/* misuse fails closed */
	T_EQ_INT(jwt_parse(NULL, 0, 10, &t), JWT_ERROR);
	T_EQ_INT(jwt_verify(&t, ks[KS_ED].k, 1, NULL), JWT_ERROR);
	T_EQ_INT(jwt_parse(TOK_OK_EDDSA, strlen(TOK_OK_EDDSA),
	             JWT_MAX_LEN_DEFAULT, &t),
	    JWT_OK);
	T_EQ_INT(jwt_verify(&t, ks[KS_ED].k, JWK_SET_MAX + 1, NULL), JWT_ERROR);
	T_EQ_INT(jwt_verify(&t, NULL, 1, NULL), JWT_ERROR);
	T_EQ_INT(jwt_claims_check(t.payload, NULL, &c), JWT_ERROR);
	jwt_free(&t);
}

/* sub values jwt_unverified_sub must not hand out */
static void
test_jwt_unverified_sub(void)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "{\"sub\":\"c\"}", "c" },
		{ "{\"sub\":\"\"}", NULL },
		{ "{\"sub\":1}", NULL },
		{ "{}", NULL },
		{ "{\"sub\":\"a\\u0000b\"}", NULL },
		{ "{\"sub\":\"0123456789012345678901234567890123456789"
		  "012345678901234567890123\"}",
		    "01234567890123456789012345"
		    "67890123456789012345678901234567890123" },
		{ "{\"sub\":\"0123456789012345678901234567890123456789"
		  "0123456789012345678901234\"}",
		    NULL },
	};
	struct jwt t = { 0 };
	json_error_t e;
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t.payload = json_loads(cases[i].json, JSON_ALLOW_NUL, &e);
		T_TRUE(t.payload != NULL);
		got = jwt_unverified_sub(&t);
		if (cases[i].want == NULL)
			T_TRUE(got == NULL);
		else
			T_EQ_STR(got, cases[i].want);
		json_decref(t.payload);
		t.payload = NULL;
	}
}

#define ABSENT "-"

/* Pure claim checks at now = 1000000, lifetime 300, skew 10. */
static const struct claims_case {
	int line;
	const char *iss, *sub, *aud, *exp, *nbf, *iat, *jti;
	enum jwt_verdict want;
} claims_cases[] = {
#define CC(...)                                                                \
	{                                                                      \
		__LINE__, __VA_ARGS__                                          \
	}
	/* defaults: iss=sub="client-1", aud=issuer, exp=now+60, iat=now */
	CC(NULL, NULL, NULL, NULL, NULL, NULL, NULL, JWT_OK),
	/* F1 iss / sub: exact bytes */
	CC(ABSENT, NULL, NULL, NULL, NULL, NULL, NULL, JWT_ISS_MISSING),
	CC("7", NULL, NULL, NULL, NULL, NULL, NULL, JWT_ISS_MISSING),
	CC("null", NULL, NULL, NULL, NULL, NULL, NULL, JWT_ISS_MISSING),
	CC("\"client-2\"", NULL, NULL, NULL, NULL, NULL, NULL,
	    JWT_ISS_MISMATCH),
	CC("\"CLIENT-1\"", NULL, NULL, NULL, NULL, NULL, NULL,
	    JWT_ISS_MISMATCH),
	CC("\"client-1 \"", NULL, NULL, NULL, NULL, NULL, NULL,
	    JWT_ISS_MISMATCH),
	CC("\"client-1\\u0000\"", NULL, NULL, NULL, NULL, NULL, NULL,
	    JWT_ISS_MISMATCH),
	CC("\"client-\"", NULL, NULL, NULL, NULL, NULL, NULL, JWT_ISS_MISMATCH),
	CC(NULL, ABSENT, NULL, NULL, NULL, NULL, NULL, JWT_SUB_MISSING),
	CC(NULL, "[\"client-1\"]", NULL, NULL, NULL, NULL, NULL,
	    JWT_SUB_MISSING),
	CC(NULL, "\"client-2\"", NULL, NULL, NULL, NULL, NULL,
	    JWT_SUB_MISMATCH),
	/* F2 aud: one accepted value as a string, exact bytes; an array
	 * only with aud_array (test_jwt_claims_aud_array) */
	CC(NULL, NULL, "\"https://mfa.example.com\"", NULL, NULL, NULL, NULL,
	    JWT_OK),
	CC(NULL, NULL, "\"https://mfa.example.com/oauth/token\"", NULL, NULL,
	    NULL, NULL, JWT_OK),
	CC(NULL, NULL, "[\"https://mfa.example.com/\"]", NULL, NULL, NULL, NULL,
	    JWT_AUD_ARRAY),
	CC(NULL, NULL, "[\"https://x.example/\",\"https://mfa.example.com/\"]",
	    NULL, NULL, NULL, NULL, JWT_AUD_ARRAY),
	CC(NULL, NULL, ABSENT, NULL, NULL, NULL, NULL, JWT_AUD_MISSING),
	CC(NULL, NULL, "[]", NULL, NULL, NULL, NULL, JWT_AUD_ARRAY),
	CC(NULL, NULL, "\"https://x.example/\"", NULL, NULL, NULL, NULL,
	    JWT_AUD_MISMATCH),
	CC(NULL, NULL, "\"https://MFA.example.com/\"", NULL, NULL, NULL, NULL,
	    JWT_AUD_MISMATCH),
	CC(NULL, NULL, "\"https://mfa.example.com/ \"", NULL, NULL, NULL, NULL,
	    JWT_AUD_MISMATCH),
	CC(NULL, NULL, "\"https://mfa.example.com//\"", NULL, NULL, NULL, NULL,
	    JWT_AUD_MISMATCH),
	CC(NULL, NULL, "\"\"", NULL, NULL, NULL, NULL, JWT_AUD_MISMATCH),
	CC(NULL, NULL, "42", NULL, NULL, NULL, NULL, JWT_AUD_TYPE),
	CC(NULL, NULL, "{\"a\":1}", NULL, NULL, NULL, NULL, JWT_AUD_TYPE),
	CC(NULL, NULL, "[\"https://mfa.example.com/\",1]", NULL, NULL, NULL,
	    NULL, JWT_AUD_ARRAY),
	/* F3 exp: required integer, not in the past beyond the skew */
	CC(NULL, NULL, NULL, ABSENT, NULL, NULL, NULL, JWT_EXP_MISSING),
	CC(NULL, NULL, NULL, "\"1000060\"", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "1000060.0", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "1e300", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "true", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "null", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "[1000060]", NULL, NULL, NULL, JWT_EXP_TYPE),
	CC(NULL, NULL, NULL, "-1", NULL, NULL, NULL, JWT_EXPIRED),
	CC(NULL, NULL, NULL, "-9223372036854775808", NULL, NULL, NULL,
	    JWT_EXPIRED),
	CC(NULL, NULL, NULL, "999990", NULL, ABSENT, NULL, JWT_EXPIRED),
	CC(NULL, NULL, NULL, "999991", NULL, ABSENT, NULL, JWT_OK),
	CC(NULL, NULL, NULL, "999990", NULL, "999900", NULL, JWT_EXPIRED),
	CC(NULL, NULL, NULL, "999991", NULL, "999900", NULL, JWT_OK),
	/* F4 exp bounded: (iat or now) + lifetime + skew; milliseconds */
	CC(NULL, NULL, NULL, "1000310", NULL, ABSENT, NULL, JWT_OK),
	CC(NULL, NULL, NULL, "1000311", NULL, ABSENT, NULL, JWT_LIFETIME),
	CC(NULL, NULL, NULL, "1000310", NULL, "1000000", NULL, JWT_OK),
	CC(NULL, NULL, NULL, "1000311", NULL, "1000000", NULL, JWT_LIFETIME),
	CC(NULL, NULL, NULL, "1000210", NULL, "999900", NULL, JWT_OK),
	CC(NULL, NULL, NULL, "1000211", NULL, "999900", NULL, JWT_LIFETIME),
	CC(NULL, NULL, NULL, "1000320", NULL, "1000010", NULL, JWT_OK),
	CC(NULL, NULL, NULL, "1000321", NULL, "1000010", NULL, JWT_LIFETIME),
	CC(NULL, NULL, NULL, "1000000000", NULL, NULL, NULL, JWT_LIFETIME),
	CC(NULL, NULL, NULL, "1000060000", NULL, "1000000000", NULL,
	    JWT_IAT_FUTURE),
	CC(NULL, NULL, NULL, "9223372036854775807", NULL, ABSENT, NULL,
	    JWT_LIFETIME),
	/* F5 nbf: honoured with skew, integer only */
	CC(NULL, NULL, NULL, NULL, "1000010", NULL, NULL, JWT_OK),
	CC(NULL, NULL, NULL, NULL, "1000011", NULL, NULL, JWT_NOT_YET_VALID),
	CC(NULL, NULL, NULL, NULL, "0", NULL, NULL, JWT_OK),
	CC(NULL, NULL, NULL, NULL, "9223372036854775807", NULL, NULL,
	    JWT_NOT_YET_VALID),
	CC(NULL, NULL, NULL, NULL, "\"1000000\"", NULL, NULL, JWT_NBF_TYPE),
	CC(NULL, NULL, NULL, NULL, "1000000.5", NULL, NULL, JWT_NBF_TYPE),
	/* F6 iat: not in the future, not older than lifetime + skew */
	CC(NULL, NULL, NULL, NULL, NULL, "1000010", NULL, JWT_OK),
	CC(NULL, NULL, NULL, NULL, NULL, "1000011", NULL, JWT_IAT_FUTURE),
	CC(NULL, NULL, NULL, "1000000", NULL, "999690", NULL, JWT_OK),
	CC(NULL, NULL, NULL, "1000000", NULL, "999689", NULL, JWT_IAT_TOO_OLD),
	CC(NULL, NULL, NULL, NULL, NULL, "913600", NULL, JWT_IAT_TOO_OLD),
	CC(NULL, NULL, NULL, NULL, NULL, "-9223372036854775808", NULL,
	    JWT_IAT_TOO_OLD),
	CC(NULL, NULL, NULL, NULL, NULL, "\"now\"", NULL, JWT_IAT_TYPE),
	/* F7 jti: required, 1..64 bytes, no NUL */
	CC(NULL, NULL, NULL, NULL, NULL, NULL, ABSENT, JWT_JTI_MISSING),
	CC(NULL, NULL, NULL, NULL, NULL, NULL, "\"\"", JWT_JTI_BAD),
	CC(NULL, NULL, NULL, NULL, NULL, NULL, "7", JWT_JTI_BAD),
	CC(NULL, NULL, NULL, NULL, NULL, NULL, "null", JWT_JTI_BAD),
	CC(NULL, NULL, NULL, NULL, NULL, NULL, "\"a\\u0000b\"", JWT_JTI_BAD),
	CC(NULL, NULL, NULL, NULL, NULL, NULL,
	    "\"0123456789012345678901234567"
	    "890123456789012345678901234567890123\"",
	    JWT_OK),
	CC(NULL, NULL, NULL, NULL, NULL, NULL,
	    "\"0123456789012345678901234567"
	    "8901234567890123456789012345678901234\"",
	    JWT_JTI_BAD),
	CC(NULL, NULL, NULL, NULL, NULL, NULL, "\"\\u00e9\"", JWT_OK),
#undef CC
};

static void
claims_json(const struct claims_case *c, char *buf, size_t len)
{
	const char *name[] = { "iss", "sub", "aud", "exp", "nbf", "iat",
		"jti" };
	const char *dflt[] = { "\"client-1\"", "\"client-1\"",
		"\"https://mfa.example.com/\"", "1000060", ABSENT, "1000000",
		"\"j-1\"" };
	const char *val[] = { c->iss, c->sub, c->aud, c->exp, c->nbf, c->iat,
		c->jti };
	size_t i, off = 0;
	bool first = true;

	off += (size_t)snprintf(buf + off, len - off, "{");
	for (i = 0; i < 7; i++) {
		const char *v = val[i] != NULL ? val[i] : dflt[i];

		if (strcmp(v, ABSENT) == 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s\"%s\":%s",
		    first ? "" : ",", name[i], v);
		first = false;
	}
	snprintf(buf + off, len - off, "}");
}

static void
test_jwt_claims(void)
{
	static const char *const aud[] = { "https://mfa.example.com/",
		"https://mfa.example.com",
		"https://mfa.example.com/oauth/token" };
	struct jwt_policy p = {
		.client_id = "client-1",
		.audiences = aud,
		.naudiences = 3,
		.now = 1000000,
		.max_lifetime = 300,
		.skew = 10,
	};
	struct jwt_policy bad;
	struct jwt_claims out;
	char buf[512];
	json_error_t e;
	json_t *o;
	enum jwt_verdict v;
	size_t i;

	for (i = 0; i < sizeof(claims_cases) / sizeof(claims_cases[0]); i++) {
		claims_json(&claims_cases[i], buf, sizeof(buf));
		o = json_loads(
		    buf, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
		test_report(o != NULL, __FILE__, claims_cases[i].line,
		    "parses: %s", buf);
		if (o == NULL)
			continue;
		v = jwt_claims_check(o, &p, &out);
		test_report(v == claims_cases[i].want, __FILE__,
		    claims_cases[i].line, "%s: got \"%s\", want \"%s\"", buf,
		    jwt_verdict_str(v), jwt_verdict_str(claims_cases[i].want));
		json_decref(o);
	}

	/* the output, and no skew at all */
	o = json_loads(
	    "{\"iss\":\"client-1\",\"sub\":\"client-1\",\"aud\":"
	    "\"https://mfa.example.com/\",\"exp\":1000001,\"jti\":\"abc\"}",
	    0, &e);
	T_TRUE(o != NULL);
	T_EQ_INT(jwt_claims_check(o, &p, &out), JWT_OK);
	T_EQ_STR(out.client_id, "client-1");
	T_EQ_STR(out.jti, "abc");
	T_EQ_INT(out.exp, 1000001);
	bad = p;
	bad.skew = 0;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_OK);
	bad.now = 1000001;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_EXPIRED);

	/* a bad policy is an internal error, never a success */
	memset(&bad, 0, sizeof(bad));
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	bad = p;
	bad.skew = JWT_SKEW_MAX + 1;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	bad = p;
	bad.max_lifetime = 0;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	bad = p;
	bad.naudiences = 0;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	bad = p;
	bad.client_id = "";
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	bad = p;
	bad.now = -1;
	T_EQ_INT(jwt_claims_check(o, &bad, &out), JWT_ERROR);
	T_EQ_INT(jwt_claims_check(NULL, &p, &out), JWT_ERROR);
	T_EQ_INT(jwt_claims_check(o, &p, NULL), JWT_ERROR);
	json_decref(o);
}

/* aud_array (assertion_audience = legacy): an array holding one accepted
 * value passes; its other members are not checked. */
static void
test_jwt_claims_aud_array(void)
{
	static const char *const aud[] = { "https://mfa.example.com/" };
	static const struct {
		const char *aud;
		enum jwt_verdict want;
	} rows[] = {
		{ "\"https://mfa.example.com/\"", JWT_OK },
		{ "[\"https://mfa.example.com/\"]", JWT_OK },
		{ "[\"https://x.example/\",\"https://mfa.example.com/\"]", JWT_OK },
		{ "[]", JWT_AUD_MISMATCH },
		{ "[\"https://x.example/\"]", JWT_AUD_MISMATCH },
		{ "[\"https://mfa.example.com/\",7]", JWT_AUD_TYPE },
		{ "\"https://x.example/\"", JWT_AUD_MISMATCH },
	};
	struct jwt_policy p = {
		.client_id = "client-1",
		.audiences = aud,
		.naudiences = 1,
		.aud_array = true,
		.now = 1000000,
		.max_lifetime = 300,
		.skew = 10,
	};
	struct jwt_claims out;
	char buf[256];
	json_error_t e;
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"iss\":\"client-1\",\"sub\":"
		    "\"client-1\",\"aud\":%s,\"exp\":1000060,\"jti\":\"j\"}",
		    rows[i].aud);
		o = json_loads(buf, 0, &e);
		T_TRUE(o != NULL);
		if (o == NULL)
			continue;
		ROW_INT(rows[i].aud, jwt_claims_check(o, &p, &out),
		    rows[i].want);
		json_decref(o);
	}
}

static void
test_jwt_verdicts(void)
{
	int v, w;

	T_EQ_INT(JWT_ERROR, 0);
	T_EQ_STR(jwt_verdict_str(JWT_SIG), "signature does not verify");
	T_EQ_STR(jwt_verdict_str(JWT_ALG_MISMATCH),
	    "alg does not match the client's registered algorithm");
	T_EQ_STR(jwt_verdict_str(JWT_EXPIRED), "assertion has expired");
	T_EQ_STR(
	    jwt_verdict_str(JWT_AUD_MISMATCH), "aud does not name this server");
	T_EQ_STR(jwt_verdict_str(JWT_JTI_MISSING), "jti is missing");
	T_EQ_STR(jwt_verdict_str(JWT_ALG_NONE), "alg none is not accepted");
	T_EQ_STR(
	    jwt_verdict_str((enum jwt_verdict)(JWT_OK + 1)), "unknown verdict");
	/* every verdict has its own reason */
	for (v = JWT_ERROR; v <= JWT_OK; v++) {
		bool distinct = strcmp(jwt_verdict_str((enum jwt_verdict)v),
		                    "unknown verdict") != 0;

		for (w = v + 1; w <= JWT_OK; w++)
			if (strcmp(jwt_verdict_str((enum jwt_verdict)v),
			        jwt_verdict_str((enum jwt_verdict)w)) == 0)
				distinct = false;
		test_report(distinct, __FILE__, __LINE__,
		    "verdict %d has a reason of its own", v);
	}
}

/* Key files: what registration accepts and refuses. */
static const struct load_case {
	int line;
	const char *text;
	enum jwk_alg alg;
	int rc;
	enum jwk_kind kind;
	const char *thumbprint; /* of keys[0], on success */
	const char *kid;        /* of keys[0], on success */
	const char *why;        /* on failure */
} load_cases[] = {
#define LC(t, a, rc, k, tp, kid, why)                                          \
	{                                                                      \
		__LINE__, KEY_##t, JWK_ALG_##a, rc, k, tp, kid, why            \
	}
	LC(ED_PEM, EDDSA, MFA_OK, JWK_KIND_ED25519, FX_ED_TP, "", NULL),
	LC(ED_CERT, EDDSA, MFA_OK, JWK_KIND_ED25519, FX_ED_TP, "", NULL),
	LC(ED_JWK, EDDSA, MFA_OK, JWK_KIND_ED25519, FX_ED_TP, "", NULL),
	LC(ED_JWK_ED25519_NAME, EDDSA, MFA_OK, JWK_KIND_ED25519, FX_ED_TP,
	    "ed-1", NULL),
	LC(RSA_PEM, RS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA_PEM, RS384, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA_PEM, PS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA_CERT, RS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA_JWK, PS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA_JWK_ALG_RS256, RS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "", NULL),
	LC(RSA4096_PEM, RS256, MFA_OK, JWK_KIND_RSA, NULL, "", NULL),
	LC(JWKS, RS256, MFA_OK, JWK_KIND_RSA, FX_RSA_TP, "k1", NULL),
	LC(EC_PEM, ES256, MFA_OK, JWK_KIND_EC_P256, FX_EC_TP, "", NULL),
	LC(EC_CERT, ES256, MFA_OK, JWK_KIND_EC_P256, FX_EC_TP, "", NULL),
	LC(EC_JWK, ES256, MFA_OK, JWK_KIND_EC_P256, FX_EC_TP, "ec-1", NULL),
	/* refused */
	LC(ED_PEM, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the key type does not fit the algorithm"),
	LC(RSA_PEM, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the key type does not fit the algorithm"),
	LC(EC_JWK, EDDSA, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK \"alg\" is not the registered algorithm"),
	LC(RSA_PEM, HS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the algorithm takes no key file"),
	LC(RSA_PEM, INVALID, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the algorithm takes no key file"),
	LC(ED_PRIV_PEM, EDDSA, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the file holds a private key; register the public key"),
	LC(ED_SMALL_ORDER_JWK, EDDSA, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the Ed25519 public key is not a valid point"),
	LC(RSA_JWK_ALG_RS256, PS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK \"alg\" is not the registered algorithm"),
	LC(RSA_PRIV_JWK, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK holds private or symmetric key material"),
	LC(JWK_OCT, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK holds private or symmetric key material"),
	LC(RSA1024_PEM, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "RSA key must be 2048 to 4096 bits"),
	LC(RSA1024_JWK, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "RSA key must be 2048 to 4096 bits"),
	LC(RSA_BIG_JWK, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "RSA key must be 2048 to 4096 bits"),
	LC(JWKS, PS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK \"alg\" is not the registered algorithm"),
	LC(JWKS_3, RS256, MFA_ERR_TOOBIG, 0, NULL, NULL,
	    "a JWKS may hold at most 2 keys"),
	LC(JWKS_EMPTY, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWKS \"keys\" is not a non-empty array"),
	LC(JWKS_DUP_KID, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWKS holds the same key or kid twice"),
	LC(JWKS_DUP_KEY, RS256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWKS holds the same key or kid twice"),
	LC(JWK_DUP_MEMBER, EDDSA, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the key file is not a JSON object"),
	LC(JWK_USE_ENC, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK \"use\" is not \"sig\""),
	LC(JWK_KID_LONG, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the JWK \"kid\" is not 1 to 64 printable ASCII bytes"),
	LC(EC_OFF_CURVE_JWK, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "the EC public key is not a point on P-256"),
	LC(EC384_PEM, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "EC keys must use curve P-256"),
	LC(EC384_JWK, ES256, MFA_ERR_INVALID, 0, NULL, NULL,
	    "EC keys must use curve P-256"),
#undef LC
};

static void
test_jwk_load(void)
{
	static const struct {
		const char *text;
		const char *why;
	} junk[] = {
		{ "hello", "not a PEM public key, certificate, JWK or JWKS" },
		{ "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
		  "KEY-----\n",
		    "not a PEM public key (SubjectPublicKeyInfo) or "
		    "certificate" },
		{ "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n",
		    "not a PEM public "
		    "key (SubjectPublicKeyInfo) or certificate" },
		{ "  {\"kty\":\"OKP\"", "the key file is not a JSON object" },
		{ "[]", "not a PEM public key, certificate, JWK or JWKS" },
		{ "{\"kty\":\"RSA\",\"n\":\"AQAB\"}",
		    "RSA JWK needs base64url "
		    "\"n\" (2048 to 4096 bits) and \"e\"" },
		{ "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}",
		    "OKP keys must use curve Ed25519" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
		    "Ed25519 JWK needs \"x\" of 32 bytes" },
		{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":"
		  "\"AAAA\"}",
		    "EC JWK needs \"x\" and \"y\" of 32 bytes each" },
		{ "{\"kty\":\"XYZ\"}",
		    "the JWK \"kty\" is not RSA, EC or OKP" },
		{ "{\"keys\":{}}",
		    "the JWKS \"keys\" is not a non-empty array" },
		{ "{\"keys\":[1]}", "a JWK must be a JSON object" },
		{ "{\"kty\":\"OKP\",\"kid\":\"\"}",
		    "the JWK \"kid\" is not 1 to 64 printable ASCII bytes" },
		{ "{\"kty\":\"OKP\",\"kid\":7}",
		    "the JWK \"kid\" is not 1 to 64 printable ASCII bytes" },
		{ "{\"kty\":\"OKP\",\"alg\":\"RS512\"}",
		    "the JWK \"alg\" is not the registered algorithm" },
		{ "{\"kty\":\"OKP\",\"use\":7}",
		    "the JWK \"use\" is not \"sig\"" },
	};
	const struct load_case *c;
	struct jwk_key *keys[JWK_SET_MAX];
	const char *why;
	unsigned char *big;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
		c = &load_cases[i];
		why = NULL;
		n = 99;
		rc = jwk_load((const unsigned char *)c->text, strlen(c->text),
		    c->alg, keys, &n, &why);
		test_report(rc == c->rc, __FILE__, c->line,
		    "rc %d, want %d "
		    "(%s)",
		    rc, c->rc, why ? why : "(null)");
		if (rc != MFA_OK) {
			test_report(
			    n == 0 && keys[0] == NULL && keys[1] == NULL,
			    __FILE__, c->line, "nothing allocated on error");
			test_report(why != NULL && strcmp(why, c->why) == 0,
			    __FILE__, c->line, "why \"%s\", want \"%s\"",
			    why ? why : "(null)", c->why);
			continue;
		}
		test_report(n >= 1 && keys[0]->kind == c->kind &&
		        keys[0]->alg == c->alg,
		    __FILE__, c->line, "kind and alg");
		if (c->thumbprint != NULL)
			test_report(
			    strcmp(keys[0]->thumbprint, c->thumbprint) == 0,
			    __FILE__, c->line, "thumbprint %s, want %s",
			    keys[0]->thumbprint, c->thumbprint);
		test_report(strcmp(keys[0]->kid, c->kid) == 0, __FILE__,
		    c->line, "kid \"%s\", want \"%s\"", keys[0]->kid, c->kid);
		test_report(strlen(keys[0]->thumbprint) == JWK_THUMBPRINT_LEN,
		    __FILE__, c->line, "thumbprint length");
		for (; n > 0; n--)
			jwk_free(keys[n - 1]);
	}

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		why = NULL;
		T_EQ_INT(
		    jwk_load((const unsigned char *)junk[i].text,
		        strlen(junk[i].text), JWK_ALG_RS256, keys, &n, &why),
		    MFA_ERR_INVALID);
		T_EQ_STR(why, junk[i].why);
	}
	/* (OKP and EC lines above are tried against RS256 and EdDSA) */

	/* the JWKS: both keys, in order */
	T_EQ_INT(jwk_load((const unsigned char *)KEY_JWKS, strlen(KEY_JWKS),
	             JWK_ALG_RS256, keys, &n, NULL),
	    MFA_OK);
	T_EQ_INT(n, 2);
	T_EQ_STR(keys[0]->kid, "k1");
	T_EQ_STR(keys[1]->kid, "k2");
	T_EQ_STR(keys[0]->thumbprint, FX_RSA_TP);
	T_EQ_STR(keys[1]->thumbprint, FX_RSA2_TP);
	jwk_free(keys[0]);
	jwk_free(keys[1]);

	T_EQ_INT(jwk_load((const unsigned char *)"", 0, JWK_ALG_RS256, keys, &n,
	             &why),
	    MFA_ERR_INVALID);
	T_EQ_STR(why, "the key file is empty");
	T_EQ_INT(
	    jwk_load(NULL, 0, JWK_ALG_RS256, keys, &n, NULL), MFA_ERR_INVALID);
	T_EQ_INT(jwk_load((const unsigned char *)"x", 1, JWK_ALG_RS256, NULL,
	             &n, NULL),
	    MFA_ERR_INVALID);
	if ((big = malloc(JWK_FILE_MAX + 1)) != NULL) {
		memset(big, ' ', JWK_FILE_MAX + 1);
		T_EQ_INT(jwk_load(big, JWK_FILE_MAX + 1, JWK_ALG_RS256, keys,
		             &n, &why),
		    MFA_ERR_TOOBIG);
		T_EQ_STR(why, "the key file is too large");
		free(big);
	}
	jwk_free(NULL);
}

/* The stored form round-trips and still verifies. */
static void
test_jwk_json(void)
{
	static const struct {
		enum ks set;
		size_t idx;
		const char *want;
		const char *tok;
	} cases[] = {
		{ KS_ED, 0, FX_ED_STORED, TOK_OK_EDDSA },
		{ KS_JWKS, 0, FX_RSA_STORED_K1, TOK_KID_K1 },
		{ KS_EC, 0, FX_EC_STORED, TOK_OK_ES256 },
	};
	struct jwk_key *k = NULL;
	const char *lit;
	char *s, *s2, *p, *q;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = s2 = NULL;
		T_EQ_INT(
		    jwk_to_json(ks[cases[i].set].k[cases[i].idx], &s), MFA_OK);
		T_EQ_STR(s, cases[i].want);
		T_EQ_INT(jwk_from_json(s, strlen(s), &k), MFA_OK);
		if (k != NULL) {
			T_EQ_STR(k->thumbprint,
			    ks[cases[i].set].k[cases[i].idx]->thumbprint);
			T_EQ_STR(k->kid, ks[cases[i].set].k[cases[i].idx]->kid);
			T_EQ_INT(k->alg, ks[cases[i].set].k[cases[i].idx]->alg);
			T_EQ_INT(jwk_to_json(k, &s2), MFA_OK);
			T_EQ_STR(s2, s);
			{
				struct jwt t = { 0 };

				T_EQ_INT(jwt_parse(cases[i].tok,
				             strlen(cases[i].tok),
				             JWT_MAX_LEN_DEFAULT, &t),
				    JWT_OK);
				T_EQ_INT(jwt_verify(&t, &k, 1, NULL), JWT_OK);
				jwt_free(&t);
			}
		}
		jwk_free(k);
		k = NULL;
		free(s);
		free(s2);
	}

	/* the stored form requires "alg" and refuses anything else */
	T_EQ_INT(jwk_from_json(KEY_RSA_JWK, strlen(KEY_RSA_JWK), &k),
	    MFA_ERR_CORRUPT);
	T_EQ_INT(jwk_from_json("{", 1, &k), MFA_ERR_CORRUPT);
	T_EQ_INT(jwk_from_json(KEY_RSA_PRIV_JWK, strlen(KEY_RSA_PRIV_JWK), &k),
	    MFA_ERR_CORRUPT);
	lit = "{\"alg\":\"HS256\",\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":"
	      "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
	T_EQ_INT(jwk_from_json(lit, strlen(lit), &k), MFA_ERR_CORRUPT);
	lit = "{\"alg\":\"none\",\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":"
	      "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
	T_EQ_INT(jwk_from_json(lit, strlen(lit), &k), MFA_ERR_CORRUPT);
	/* the cheap load still refuses an EC point off the curve */
	s = NULL;
	T_EQ_INT(jwk_to_json(ks[KS_EC].k[0], &s), MFA_OK);
	if (s != NULL) {
		/* change the last character of y */
		p = strstr(s, "\"y\":\"");
		if (p != NULL && (q = strchr(p + 5, '"')) != NULL)
			q[-1] = q[-1] == 'A' ? 'E' : 'A';
		T_EQ_INT(jwk_from_json(s, strlen(s), &k), MFA_ERR_CORRUPT);
		free(s);
	}
	T_EQ_INT(jwk_from_json(NULL, 0, &k), MFA_ERR_CORRUPT);
	T_TRUE(k == NULL);

	/* an HMAC key is never written out */
	s = NULL;
	T_EQ_INT(jwk_to_json(ks[KS_HS].k[0], &s), MFA_ERR_INVALID);
	T_TRUE(s == NULL);
}

static void
test_jwk_misc(void)
{
	static const unsigned char secret[JWK_HMAC_MAX + 1];
	struct jwk_key *k = NULL;

	T_EQ_INT(jwk_alg_parse("EdDSA", 5), JWK_ALG_EDDSA);
	T_EQ_INT(jwk_alg_parse("Ed25519", 7), JWK_ALG_EDDSA);
	T_EQ_INT(jwk_alg_parse("RS256", 5), JWK_ALG_RS256);
	T_EQ_INT(jwk_alg_parse("RS384", 5), JWK_ALG_RS384);
	T_EQ_INT(jwk_alg_parse("PS256", 5), JWK_ALG_PS256);
	T_EQ_INT(jwk_alg_parse("ES256", 5), JWK_ALG_ES256);
	T_EQ_INT(jwk_alg_parse("HS256", 5), JWK_ALG_HS256);
	T_EQ_INT(jwk_alg_parse("none", 4), JWK_ALG_INVALID);
	T_EQ_INT(jwk_alg_parse("RS512", 5), JWK_ALG_INVALID);
	T_EQ_INT(jwk_alg_parse("EdDSA", 4), JWK_ALG_INVALID);
	T_EQ_INT(jwk_alg_parse("EdDSA\0", 6), JWK_ALG_INVALID);
	T_EQ_INT(jwk_alg_parse("eddsa", 5), JWK_ALG_INVALID);
	T_EQ_INT(jwk_alg_parse(NULL, 0), JWK_ALG_INVALID);
	T_EQ_STR(jwk_alg_name(JWK_ALG_EDDSA), "EdDSA");
	T_EQ_STR(jwk_alg_name(JWK_ALG_PS256), "PS256");
	T_EQ_STR(jwk_alg_name(JWK_ALG_INVALID), "");
	T_TRUE(jwk_alg_is_hmac(JWK_ALG_HS256));
	T_TRUE(!jwk_alg_is_hmac(JWK_ALG_RS256));
	T_TRUE(!jwk_alg_is_hmac(JWK_ALG_INVALID));
	T_TRUE(jwk_kind_fits_alg(JWK_KIND_RSA, JWK_ALG_PS256));
	T_TRUE(!jwk_kind_fits_alg(JWK_KIND_RSA, JWK_ALG_ES256));
	T_TRUE(!jwk_kind_fits_alg(JWK_KIND_HMAC, JWK_ALG_RS256));
	T_TRUE(!jwk_kind_fits_alg(JWK_KIND_INVALID, JWK_ALG_INVALID));

	T_EQ_INT(jwk_hmac_new(secret, 0, NULL, &k), MFA_ERR_INVALID);
	T_EQ_INT(
	    jwk_hmac_new(secret, sizeof(secret), NULL, &k), MFA_ERR_INVALID);
	T_EQ_INT(jwk_hmac_new(secret, 32, "bad\001", &k), MFA_ERR_INVALID);
	T_TRUE(k == NULL);
	T_EQ_INT(jwk_hmac_new(secret, 32, "h1", &k), MFA_OK);
	if (k != NULL) {
		T_EQ_INT(k->kind, JWK_KIND_HMAC);
		T_EQ_INT(k->alg, JWK_ALG_HS256);
		T_EQ_STR(k->kid, "h1");
		T_EQ_STR(k->thumbprint, "");
		T_EQ_INT(k->secretlen, 32);
		T_EQ_INT(jwk_set_kid(k, "k-2"), MFA_OK);
		T_EQ_STR(k->kid, "k-2");
		T_EQ_INT(jwk_set_kid(k,
		             "0123456789012345678901234567890123"
		             "4567890123456789012345678901234"),
		    MFA_ERR_INVALID);
		T_EQ_STR(k->kid, "k-2");
		T_EQ_INT(jwk_set_kid(k, "tab\there"), MFA_ERR_INVALID);
		T_EQ_INT(jwk_set_kid(k, NULL), MFA_OK);
		T_EQ_STR(k->kid, "");
	}
	T_EQ_INT(jwk_set_kid(NULL, "x"), MFA_ERR_INVALID);
	jwk_free(k);
}

/* RFC 7638 §3.1, RFC 8037 A.3/A.4, RFC 7515 A.1/A.3, verbatim. */
static void
test_jwt_rfc(void)
{
	static const char rfc7638[] =
	    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuu"
	    "PiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
	    "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93"
	    "lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7"
	    "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
	    "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK"
	    "gw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	static const char rfc8037_jwk[] =
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
	    "\"alg\":\"EdDSA\"}";
	static const char rfc8037_jws[] =
	    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZi"
	    "BFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6"
	    "dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
	static const char rfc7515_a1[] =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1"
	    "NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9l"
	    "eGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r"
	    "_wW1gFWFOEjXk";
	static const char rfc7515_a1_k[] =
	    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"
	    "-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
	static const char rfc7515_a3[] =
	    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2U"
	    "iLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19y"
	    "b290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjD"
	    "xw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
	static const char rfc7515_a3_jwk[] =
	    "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
	    "\"alg\":\"ES256\"}";
	static const char *const joe_aud[] = { "https://mfa.example.com/" };
	const struct jwt_policy joe = { .client_id = "joe",
		.audiences = joe_aud,
		.naudiences = 1,
		.now = 1300819000,
		.max_lifetime = 300,
		.skew = 10 };
	struct jwk_key *keys[JWK_SET_MAX], *k = NULL;
	unsigned char kbytes[64], sig[64];
	struct jwt_claims c;
	struct jwt t = { 0 };
	const char *dot;
	size_t n, klen;

	/* RFC 7638 §3.1 (the RFC 7517 example key) */
	T_EQ_INT(jwk_load((const unsigned char *)rfc7638, strlen(rfc7638),
	             JWK_ALG_RS256, keys, &n, NULL),
	    MFA_OK);
	T_EQ_INT(n, 1);
	if (n == 1) {
		T_EQ_STR(keys[0]->thumbprint,
		    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
		T_EQ_STR(keys[0]->kid, "2011-04-29");
		jwk_free(keys[0]);
	}

	/* RFC 8037 A.3 thumbprint, A.4 signature ("Example of Ed25519
	 * signing" is not JSON, so only the signature step applies) */
	T_EQ_INT(jwk_from_json(rfc8037_jwk, strlen(rfc8037_jwk), &k), MFA_OK);
	if (k != NULL) {
		T_EQ_STR(k->thumbprint,
		    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
		dot = strrchr(rfc8037_jws, '.');
		T_EQ_INT(sodium_base642bin(sig, sizeof(sig), dot + 1,
		             strlen(dot + 1), NULL, &n, NULL,
		             sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		    0);
		T_EQ_INT(jwt_signature_verify(k, JWK_ALG_EDDSA,
		             (const unsigned char *)rfc8037_jws,
		             (size_t)(dot - rfc8037_jws), sig, n),
		    JWT_OK);
		sig[0] ^= 1;
		T_EQ_INT(jwt_signature_verify(k, JWK_ALG_EDDSA,
		             (const unsigned char *)rfc8037_jws,
		             (size_t)(dot - rfc8037_jws), sig, n),
		    JWT_SIG);
		T_EQ_INT(jwt_signature_verify(k, JWK_ALG_RS256,
		             (const unsigned char *)rfc8037_jws,
		             (size_t)(dot - rfc8037_jws), sig, n),
		    JWT_ALG_MISMATCH);
		T_EQ_INT(jwt_signature_verify(k, JWK_ALG_HS256,
		             (const unsigned char *)rfc8037_jws,
		             (size_t)(dot - rfc8037_jws), sig, n),
		    JWT_ALG_FAMILY);
		T_EQ_INT(jwt_parse(rfc8037_jws, strlen(rfc8037_jws),
		             JWT_MAX_LEN_DEFAULT, &t),
		    JWT_PAYLOAD_JSON);
		jwt_free(&t);
		jwk_free(k);
		k = NULL;
	}

	/* RFC 7515 A.1: HS256 with the RFC's 64-byte key; CRLF in JSON */
	T_EQ_INT(sodium_base642bin(kbytes, sizeof(kbytes), rfc7515_a1_k,
	             strlen(rfc7515_a1_k), NULL, &klen, NULL,
	             sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	    0);
	T_EQ_INT(klen, 64);
	T_EQ_INT(jwk_hmac_new(kbytes, klen, NULL, &k), MFA_OK);
	T_EQ_INT(
	    jwt_parse(rfc7515_a1, strlen(rfc7515_a1), JWT_MAX_LEN_DEFAULT, &t),
	    JWT_OK);
	T_EQ_INT(t.alg, JWK_ALG_HS256);
	T_EQ_INT(jwt_verify(&t, &k, 1, NULL), JWT_OK);
	/* a valid JWS, but not a client assertion: no sub, aud, jti */
	T_EQ_INT(jwt_claims_check(t.payload, &joe, &c), JWT_SUB_MISSING);
	jwt_free(&t);
	jwk_free(k);
	k = NULL;
	sodium_memzero(kbytes, sizeof(kbytes));

	/* RFC 7515 A.3: ES256, raw r||s */
	T_EQ_INT(
	    jwk_from_json(rfc7515_a3_jwk, strlen(rfc7515_a3_jwk), &k), MFA_OK);
	T_EQ_INT(
	    jwt_parse(rfc7515_a3, strlen(rfc7515_a3), JWT_MAX_LEN_DEFAULT, &t),
	    JWT_OK);
	T_EQ_INT(jwt_verify(&t, &k, 1, NULL), JWT_OK);
	T_EQ_INT(t.siglen, 64);
	jwt_free(&t);
	jwk_free(k);
}

void
test_jwt(void)
{
	ks_setup();
	test_jwt_tokens();
	test_jwt_verifier_reuse();
	test_jwt_details();
	test_jwt_unverified_sub();
	test_jwt_claims();
	test_jwt_claims_aud_array();
	test_jwt_verdicts();
	test_jwk_load();
	test_jwk_json();
	test_jwk_misc();
	test_jwt_rfc();
	ks_teardown();
}
