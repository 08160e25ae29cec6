/*
 * jwt_claims.c -- the claim rules of RFC 7523 §3 for a client assertion
 * (OpenID Connect Core §9): iss = sub = client_id, aud names this server,
 * exp required and bounded, nbf and iat honoured with skew, jti present
 * and bounded. Pure: the time comes in the policy.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "jwt.h"

enum jwt_claims_int {
	JWT_CLAIMS_ABSENT,
	JWT_CLAIMS_BAD,
	JWT_CLAIMS_OK,
};

/* A NumericDate claim: a JSON integer, nothing else (no real, string). */
static enum jwt_claims_int
jwt_claims_int(const json_t *payload, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(payload, name);

	if (v == NULL)
		return JWT_CLAIMS_ABSENT;
	if (!json_is_integer(v))
		return JWT_CLAIMS_BAD;
	*out = (int64_t)json_integer_value(v);
	return JWT_CLAIMS_OK;
}

/* Simple String Comparison (RFC 3986 §6.2.1): the same bytes. */
static bool
jwt_claims_str_is(const json_t *v, const char *want)
{
	size_t len = json_string_length(v);

	return json_is_string(v) && len == strlen(want) &&
	    memcmp(json_string_value(v), want, len) == 0; /* public */
}

static bool
jwt_claims_aud_is_ours(const json_t *v, const struct jwt_policy *p)
{
	size_t i;

	for (i = 0; i < p->naudiences; i++)
		if (jwt_claims_str_is(v, p->audiences[i]))
			return true;
	return false;
}

static enum jwt_verdict
jwt_claims_aud(const json_t *payload, const struct jwt_policy *p)
{
	const json_t *aud = json_object_get(payload, "aud"), *v;
	bool ours = false;
	size_t i;

	if (aud == NULL)
		return JWT_AUD_MISSING;
	if (json_is_string(aud))
		return jwt_claims_aud_is_ours(aud, p) ? JWT_OK
		                                      : JWT_AUD_MISMATCH;
	if (!json_is_array(aud))
		return JWT_AUD_TYPE;
	if (!p->aud_array)
		return JWT_AUD_ARRAY;
	for (i = 0; i < json_array_size(aud); i++) {
		v = json_array_get(aud, i);
		if (!json_is_string(v))
			return JWT_AUD_TYPE;
		if (jwt_claims_aud_is_ours(v, p))
			ours = true;
	}
	return ours ? JWT_OK : JWT_AUD_MISMATCH;
}

static bool
jwt_claims_policy_is_ok(const struct jwt_policy *p)
{
	size_t i, n;

	if (p == NULL || p->client_id == NULL || p->audiences == NULL ||
	    p->naudiences == 0)
		return false;
	n = strlen(p->client_id);
	if (n == 0 || n > MFA_CLIENT_ID_MAX)
		return false;
	for (i = 0; i < p->naudiences; i++)
		if (p->audiences[i] == NULL || p->audiences[i][0] == '\0')
			return false;
	/* Bounds that keep every sum below in range. */
	return p->now >= 0 && p->now <= INT64_MAX / 4 && p->max_lifetime >= 1 &&
	    p->max_lifetime <= JWT_LIFETIME_MAX && p->skew >= 0 &&
	    p->skew <= JWT_SKEW_MAX;
}

/*
 * Applies RFC 7523 §3 to the verified claims "payload" under "p".
 */
enum jwt_verdict
jwt_claims_check(
    const json_t *payload, const struct jwt_policy *p, struct jwt_claims *out)
{
	enum jwt_claims_int hexp, hnbf, hiat;
	int64_t exp = 0, nbf = 0, iat = 0, base, now, s, l;
	const json_t *v;
	enum jwt_verdict r;
	size_t len;

	if (!json_is_object(payload) || out == NULL ||
	    !jwt_claims_policy_is_ok(p))
		return JWT_ERROR;
	now = p->now;
	s = p->skew;
	l = p->max_lifetime;

	v = json_object_get(payload, "iss");
	if (!json_is_string(v))
		return JWT_ISS_MISSING;
	if (!jwt_claims_str_is(v, p->client_id))
		return JWT_ISS_MISMATCH;
	v = json_object_get(payload, "sub");
	if (!json_is_string(v))
		return JWT_SUB_MISSING;
	if (!jwt_claims_str_is(v, p->client_id))
		return JWT_SUB_MISMATCH;
	if ((r = jwt_claims_aud(payload, p)) != JWT_OK)
		return r;

	if ((hexp = jwt_claims_int(payload, "exp", &exp)) == JWT_CLAIMS_ABSENT)
		return JWT_EXP_MISSING;
	if (hexp == JWT_CLAIMS_BAD)
		return JWT_EXP_TYPE;
	if ((hnbf = jwt_claims_int(payload, "nbf", &nbf)) == JWT_CLAIMS_BAD)
		return JWT_NBF_TYPE;
	if ((hiat = jwt_claims_int(payload, "iat", &iat)) == JWT_CLAIMS_BAD)
		return JWT_IAT_TYPE;

	v = json_object_get(payload, "jti");
	if (v == NULL)
		return JWT_JTI_MISSING;
	len = json_string_length(v);
	if (!json_is_string(v) || len == 0 || len > JWT_JTI_MAX ||
	    strlen(json_string_value(v)) != len)
		return JWT_JTI_BAD;

	/* RFC 7519 §4.1.4: now must be before exp, give or take the skew. */
	if (exp <= now - s)
		return JWT_EXPIRED;
	if (hnbf == JWT_CLAIMS_OK && nbf > now + s)
		return JWT_NOT_YET_VALID;
	if (hiat == JWT_CLAIMS_OK) {
		if (iat > now + s)
			return JWT_IAT_FUTURE;
		if (iat < now - l - s)
			return JWT_IAT_TOO_OLD;
	}
	/* iat is now within [now - l - s, now + s]: the sum cannot wrap. */
	base = hiat == JWT_CLAIMS_OK ? iat : now;
	if (exp > base + l + s)
		return JWT_LIFETIME;

	memcpy(out->client_id, p->client_id, strlen(p->client_id) + 1);
	memcpy(out->jti, json_string_value(v), len + 1);
	out->exp = exp;
	return JWT_OK;
}
