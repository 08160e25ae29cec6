/*
 * fuzz_jwt.c -- JWS compact parsing and the RFC 7523 claim checks
 * (jwt.c, jwt_claims.c), and the stored-key and key-file parsers
 * (jwk_parse.c).
 *
 * The first input byte picks the path (mod 3):
 *   0  jwt_parse, then jwt_claims_check with a fixed policy and
 *      jwt_verify against a fixed HS256 key;
 *   1  jwk_from_json (a public JWK read back from the store);
 *   2  jwk_load (a key file) pinned to the algorithm picked by byte 1.
 * Checks: a parsed token holds JSON objects and a known algorithm, a
 * signature within JWT_SIG_MAX; claims OK means the jti is short and
 * terminated and exp is set; a key read from JSON writes back to JSON
 * that reads as the same key (same thumbprint).
 */
#include "fuzz.h"
#include "jwk.h"
#include "jwt.h"

static const char *const fuzz_auds[] = {
	"https://mfa.example.com/", "https://mfa.example.com/oauth/token",
};

static void
fuzz_jwt_token(const uint8_t *data, size_t size)
{
	static const unsigned char hkey[32] = "0123456789abcdef0123456789abcde";
	struct jwt t = { 0 };
	struct jwt_policy p = {
		.client_id = "client-1",
		.audiences = fuzz_auds,
		.naudiences = 2,
		.now = 1760000000,
		.max_lifetime = JWT_LIFETIME_DEFAULT,
		.skew = JWT_SKEW_DEFAULT,
	};
	struct jwt_claims c;
	struct jwk_key *k = NULL;
	enum jwt_verdict v;
	size_t which;
	char *tok;

	/* Exact-size copy: the parser is given a length, not a string. */
	if ((tok = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(tok, data, size);
	v = jwt_parse(tok, size, JWT_MAX_LEN_DEFAULT, &t);
	FUZZ_CHECK(jwt_verdict_str(v) != NULL);
	if (v == JWT_OK) {
		FUZZ_CHECK(json_is_object(t.header));
		FUZZ_CHECK(json_is_object(t.payload));
		FUZZ_CHECK(t.alg != JWK_ALG_INVALID);
		FUZZ_CHECK(t.siglen <= JWT_SIG_MAX);
		FUZZ_CHECK(t.inputlen < size);
		(void)jwt_unverified_sub(&t);
		memset(&c, 0x5a, sizeof(c));
		v = jwt_claims_check(t.payload, &p, &c);
		FUZZ_CHECK(jwt_verdict_str(v) != NULL);
		if (v == JWT_OK) {
			FUZZ_CHECK(strnlen(c.jti, sizeof(c.jti)) > 0);
			FUZZ_CHECK(strnlen(c.jti, sizeof(c.jti)) <=
			    JWT_JTI_MAX);
			FUZZ_CHECK(strcmp(c.client_id, "client-1") == 0);
			FUZZ_CHECK(c.exp >= p.now - p.skew);
		}
		if (jwk_hmac_new(hkey, sizeof(hkey), NULL, &k) == MFA_OK) {
			v = jwt_verify(&t, &k, 1, &which);
			FUZZ_CHECK(jwt_verdict_str(v) != NULL);
			jwk_free(k);
		}
	}
	jwt_free(&t);
	free(tok);
}

static void
fuzz_jwt_stored_key(const uint8_t *data, size_t size)
{
	struct jwk_key *k = NULL, *k2 = NULL;
	char *json = NULL, *in;

	if ((in = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(in, data, size);
	if (jwk_from_json(in, size, &k) == MFA_OK) {
		FUZZ_CHECK(k != NULL && k->alg != JWK_ALG_INVALID);
		FUZZ_CHECK(jwk_kind_fits_alg(k->kind, k->alg));
		if (jwk_to_json(k, &json) == MFA_OK) {
			FUZZ_CHECK(jwk_from_json(json, strlen(json), &k2) ==
			    MFA_OK);
			FUZZ_CHECK(strcmp(k->thumbprint, k2->thumbprint) == 0);
			FUZZ_CHECK(strcmp(k->kid, k2->kid) == 0);
			FUZZ_CHECK(k->alg == k2->alg);
			jwk_free(k2);
			free(json);
		}
		jwk_free(k);
	}
	free(in);
}

static void
fuzz_jwt_key_file(uint8_t sel, const uint8_t *data, size_t size)
{
	static const enum jwk_alg algs[] = { JWK_ALG_EDDSA, JWK_ALG_RS256,
		JWK_ALG_PS256, JWK_ALG_ES256 };
	struct jwk_key *keys[JWK_SET_MAX];
	const char *why = NULL;
	size_t n = 99, i;
	int rc;

	rc = jwk_load(data, size, algs[sel % 4], keys, &n, &why);
	FUZZ_CHECK(why != NULL);
	if (rc != MFA_OK) {
		FUZZ_CHECK(n == 0);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= JWK_SET_MAX);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(keys[i]->alg == algs[sel % 4]);
		jwk_free(keys[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_jwt_token(data + 1, size - 1);
		break;
	case 1:
		fuzz_jwt_stored_key(data + 1, size - 1);
		break;
	default:
		fuzz_jwt_key_file(data[1], data + 2, size - 2);
		break;
	}
	return 0;
}
