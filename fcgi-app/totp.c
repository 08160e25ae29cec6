/*
 * totp.c -- HOTP (RFC 4226) and TOTP (RFC 6238).
 *
 * HMAC comes from OpenSSL (libsodium has no HMAC-SHA1). Verification is
 * a pure decision: the caller passes the time and the last accepted step
 * and stores the matched step inside the transaction it read it from.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "totp.h"

static const char *const totp_alg_names[] = {
	[TOTP_SHA1] = "SHA1",
	[TOTP_SHA256] = "SHA256",
	[TOTP_SHA512] = "SHA512",
};

#define TOTP_NALGS (sizeof(totp_alg_names) / sizeof(totp_alg_names[0]))

static const uint32_t totp_pow10[TOTP_DIGITS_MAX + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/* Names "alg"; NULL when it is not an algorithm. */
const char *
totp_alg_name(enum totp_alg alg)
{

	if ((int)alg <= TOTP_ALG_INVALID || (size_t)alg >= TOTP_NALGS)
		return NULL;
	return totp_alg_names[alg];
}

/* Parses "s" (any case) into "*out", set only on success. */
int
totp_alg_parse(const char *s, enum totp_alg *out)
{
	size_t i;

	if (s == NULL)
		return MFA_ERR_INVALID;
	for (i = TOTP_SHA1; i < TOTP_NALGS; i++)
		if (strcasecmp(s, totp_alg_names[i]) == 0) { /* public */
			*out = (enum totp_alg)i;
			return MFA_OK;
		}
	return MFA_ERR_INVALID;
}

/*
 * HMAC with the digest of each algorithm chosen but no key, made once per
 * process: fetching the two algorithms is a lookup under a lock that
 * costs more than the MAC itself. A template holds nothing secret.
 */
static EVP_MAC_CTX *totp_mac_templates[TOTP_NALGS];

static const EVP_MAC_CTX *
totp_mac_template(enum totp_alg alg)
{
	EVP_MAC_CTX **t = &totp_mac_templates[alg];
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	char digest[8]; /* OSSL_PARAM takes a mutable string */

	if (*t != NULL)
		return *t;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	*t = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	snprintf(digest, sizeof(digest), "%s", totp_alg_names[alg]);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (*t != NULL && EVP_MAC_CTX_set_params(*t, params) != 1) {
		EVP_MAC_CTX_free(*t);
		*t = NULL;
	}
	return *t;
}

/*
 * An HMAC context keyed with "key": the key schedule runs once, and each
 * counter's MAC starts from a copy (totp_verify computes several). NULL
 * when OpenSSL fails. EVP_MAC_CTX_free wipes the key and its state.
 */
static EVP_MAC_CTX *
totp_mac_new(enum totp_alg alg, const unsigned char *key, size_t keylen)
{
	const EVP_MAC_CTX *t;
	EVP_MAC_CTX *ctx;

	if ((t = totp_mac_template(alg)) == NULL ||
	    (ctx = EVP_MAC_CTX_dup(t)) == NULL)
		return NULL;
	if (EVP_MAC_init(ctx, key, keylen, NULL) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Truncate(HMAC(key, counter)) mod 10^digits (RFC 4226 §5.3) from the
 * keyed context "keyed", as "digits" characters with leading zeros.
 */
static int
totp_mac_code(const EVP_MAC_CTX *keyed, uint64_t counter, unsigned digits,
    char out[TOTP_CODE_BUFSZ])
{
	EVP_MAC_CTX *ctx;
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	unsigned off;
	uint32_t bin = 0;
	int i, rc = MFA_OK;

	out[0] = '\0';
	/* The counter is 8 bytes, big-endian. */
	for (i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	ctx = EVP_MAC_CTX_dup(keyed);
	if (ctx == NULL || EVP_MAC_update(ctx, msg, sizeof(msg)) != 1 ||
	    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) != 1 ||
	    maclen < 20) {
		rc = MFA_ERR_CRYPTO;
		goto out;
	}
	/* Dynamic truncation: 31 bits at the offset the last nibble names. */
	off = mac[maclen - 1] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 |
	    (uint32_t)mac[off + 1] << 16 | (uint32_t)mac[off + 2] << 8 |
	    (uint32_t)mac[off + 3];
	bin %= totp_pow10[digits];
	for (i = (int)digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + bin % 10);
		bin /= 10;
	}
	out[digits] = '\0';
out:
	EVP_MAC_CTX_free(ctx);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(msg, sizeof(msg));
	sodium_memzero(&bin, sizeof(bin));
	return rc;
}

/* HOTP(key, counter); see totp.h. */
int
hotp_code(enum totp_alg alg, const unsigned char *key, size_t keylen,
    uint64_t counter, unsigned digits, char out[TOTP_CODE_BUFSZ])
{
	EVP_MAC_CTX *keyed;
	int rc;

	out[0] = '\0';
	if (totp_alg_name(alg) == NULL || digits < TOTP_DIGITS_MIN ||
	    digits > TOTP_DIGITS_MAX || key == NULL || keylen == 0)
		return MFA_ERR_INVALID;
	if ((keyed = totp_mac_new(alg, key, keylen)) == NULL)
		return MFA_ERR_CRYPTO;
	rc = totp_mac_code(keyed, counter, digits, out);
	EVP_MAC_CTX_free(keyed);
	return rc;
}

/* floor(t / period), T0 = 0; 0 for t < 0 or period 0. */
uint64_t
totp_step(int64_t unix_seconds, unsigned period)
{

	if (unix_seconds < 0 || period == 0)
		return 0;
	return (uint64_t)unix_seconds / period;
}

/* Whether "code" is exactly "digits" ASCII digits. */
static bool
totp_code_is_wellformed(const char *code, unsigned digits)
{
	unsigned i;

	if (code == NULL)
		return false;
	for (i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return code[digits] == '\0';
}

/*
 * Checks "code" against every step of the window; see totp.h for the
 * rules. The loop always runs to the end and selects the latest matching
 * step without a data-dependent branch.
 */
enum totp_verdict
totp_verify(const struct totp_params *p, const unsigned char *key,
    size_t keylen, const char *code, int64_t now_s, int64_t last_step,
    int64_t *matched_step)
{
	char cand[TOTP_CODE_BUFSZ];
	EVP_MAC_CTX *keyed;
	uint64_t t, s, first, lastw, best = 0, found = 0, mask;
	enum totp_verdict v = TOTP_ERROR;
	bool failed = false;

	if (p == NULL || key == NULL || keylen == 0 ||
	    totp_alg_name(p->alg) == NULL || p->digits < TOTP_DIGITS_MIN ||
	    p->digits > TOTP_DIGITS_MAX || p->period == 0 ||
	    p->window_back > TOTP_WINDOW_MAX ||
	    p->window_fwd > TOTP_WINDOW_MAX || last_step < -1)
		return TOTP_ERROR;
	if (!totp_code_is_wellformed(code, p->digits))
		return TOTP_MALFORMED;

	t = totp_step(now_s, p->period);
	first = t >= p->window_back ? t - p->window_back : 0;
	lastw = t + p->window_fwd; /* t <= INT64_MAX: cannot wrap */
	if ((keyed = totp_mac_new(p->alg, key, keylen)) == NULL)
		return TOTP_ERROR;
	for (s = first; s <= lastw; s++) {
		if (totp_mac_code(keyed, s, p->digits, cand) != MFA_OK) {
			failed = true;
			continue;
		}
		/* All-ones when this step matches, else zero. */
		mask = (uint64_t)0 -
		    (uint64_t)(sodium_memcmp(cand, code, p->digits) == 0);
		best = (best & ~mask) | (s & mask);
		found |= mask;
		sodium_memzero(cand, sizeof(cand));
	}
	if (failed)
		goto out;
	if (found == 0)
		v = TOTP_MISMATCH;
	else if (last_step >= 0 && best <= (uint64_t)last_step)
		v = TOTP_REPLAY;
	else {
		v = TOTP_OK;
		if (matched_step != NULL)
			*matched_step = (int64_t)best;
	}
out:
	EVP_MAC_CTX_free(keyed);
	sodium_memzero(cand, sizeof(cand));
	sodium_memzero(&best, sizeof(best));
	return v;
}

/* RFC 3986 §2.3 unreserved. */
static bool
totp_is_unreserved(unsigned char c)
{

	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* A bounded writer: appends until full, then only remembers overflow. */
struct totp_buf {
	char *p;
	size_t len, cap;
	bool full;
};

static void
totp_buf_raw(struct totp_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->full || n >= b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
totp_buf_pct(struct totp_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[4];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (totp_is_unreserved(c)) {
			esc[0] = (char)c;
			esc[1] = '\0';
		} else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0x0f];
			esc[3] = '\0';
		}
		totp_buf_raw(b, esc);
	}
	sodium_memzero(esc, sizeof(esc));
}

/* The otpauth:// Key URI; see totp.h. */
int
totp_uri(char *out, size_t outlen, const char *issuer, const char *account,
    const char *secret_b32, enum totp_alg alg, unsigned digits,
    unsigned period)
{
	struct totp_buf b = { out, 0, outlen, false };
	char num[32];
	bool has_issuer = issuer != NULL && *issuer != '\0';

	if (outlen > 0)
		out[0] = '\0';
	if (account == NULL || *account == '\0' || secret_b32 == NULL ||
	    *secret_b32 == '\0' || totp_alg_name(alg) == NULL ||
	    digits < TOTP_DIGITS_MIN || digits > TOTP_DIGITS_MAX ||
	    period == 0)
		return MFA_ERR_INVALID;
	if (outlen == 0)
		return MFA_ERR_TOOBIG;

	totp_buf_raw(&b, "otpauth://totp/");
	if (has_issuer) {
		totp_buf_pct(&b, issuer);
		totp_buf_raw(&b, ":");
	}
	totp_buf_pct(&b, account);
	totp_buf_raw(&b, "?secret=");
	totp_buf_pct(&b, secret_b32);
	if (has_issuer) {
		totp_buf_raw(&b, "&issuer=");
		totp_buf_pct(&b, issuer);
	}
	totp_buf_raw(&b, "&algorithm=");
	totp_buf_raw(&b, totp_alg_name(alg));
	snprintf(num, sizeof(num), "&digits=%u&period=%u", digits, period);
	totp_buf_raw(&b, num);
	if (b.full) {
		sodium_memzero(out, outlen);
		return MFA_ERR_TOOBIG;
	}
	return MFA_OK;
}
