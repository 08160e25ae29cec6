/*
 * test-recbin.c -- the binary record codec of store schema 2 (record.c):
 * a round trip of every record kind with every field set, at ordinary and
 * at maximal lengths; the exact bytes and lengths the layout gives; strict
 * decoding (every truncation, a trailing byte, another format or kind,
 * each string one byte over its bound, a NUL in a string, a bool of 2,
 * each enum out of range or inconsistent), with out zeroed on every error
 * and nothing past it written; the encoder's refusal of an enum outside
 * 0..255.
 *
 * The offsets below are worked out by hand from the layout in record.c's
 * header comment, not from the field tables, so that a change to either
 * shows here.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "test.h"

/* Room for any encoding plus the bytes a test adds to it. */
#define BUF_MAX (RECORD_ENC_MAX + 16)

/* Wrappers so one table can drive every record kind. */
static size_t
enc_client(const void *r, unsigned char *out)
{
	return record_client_encode(r, out);
}

static size_t
enc_authn(const void *r, unsigned char *out)
{
	return record_authn_encode(r, out);
}

static size_t
enc_token(const void *r, unsigned char *out)
{
	return record_token_encode(r, out);
}

static size_t
enc_challenge(const void *r, unsigned char *out)
{
	return record_challenge_encode(r, out);
}

static size_t
enc_bucket(const void *r, unsigned char *out)
{
	return record_bucket_encode(r, out);
}

static size_t
enc_signing(const void *r, unsigned char *out)
{
	return record_signing_encode(r, out);
}

static int
dec_client(const void *b, size_t n, void *out)
{
	return record_client_decode(b, n, out);
}

static int
dec_authn(const void *b, size_t n, void *out)
{
	return record_authn_decode(b, n, out);
}

static int
dec_token(const void *b, size_t n, void *out)
{
	return record_token_decode(b, n, out);
}

static int
dec_challenge(const void *b, size_t n, void *out)
{
	return record_challenge_decode(b, n, out);
}

static int
dec_bucket(const void *b, size_t n, void *out)
{
	return record_bucket_decode(b, n, out);
}

static int
dec_signing(const void *b, size_t n, void *out)
{
	return record_signing_decode(b, n, out);
}

/*
 * Samples: "s_" has every field other than its zero (strings short,
 * unsigned fields UINT_MAX where the checks allow, int64 negative, hashes
 * and bools set); "m_" is the same with every string at its bound.
 */
static struct client_rec s_client, m_client;
static struct authn_rec s_authn, m_authn;
static struct token_rec s_token, m_token;
static struct challenge_rec s_challenge, m_challenge;
static struct bucket s_bucket, m_bucket;
static struct signing_rec s_signing, m_signing;

/* Fills a char array of "size" bytes with size-1 "c" and a NUL. */
static void
fill_str(char *p, size_t size, char c)
{
	memset(p, c, size - 1);
	p[size - 1] = '\0';
}

static void
fill_hash(unsigned char *h, unsigned mul, unsigned add)
{
	size_t i;

	for (i = 0; i < MFA_HASH_BYTES; i++)
		h[i] = (unsigned char)(i * mul + add);
}

static void
samples_init(void)
{
	/* memset first: decode zeroes padding, so memcmp must see 0 too */
	memset(&s_client, 0, sizeof(s_client));
	strcpy(s_client.id, "cl_Zk3qP9xT");
	strcpy(s_client.name, "Caf\xc3\xa9 app");
	s_client.types = CT_ALL;
	s_client.auth = CLIENT_AUTH_PRIVATE_KEY_JWT;
	strcpy(s_client.secret_sealed, "c2VhbGVk");
	s_client.alg = UINT_MAX;
	strcpy(s_client.keys[0], "{\"kty\":\"OKP\"}");
	strcpy(s_client.keys[1], "{\"kty\":\"EC\"}");
	s_client.created_at = -1644938813274LL;
	s_client.updated_at = INT64_MIN;

	memset(&s_authn, 0, sizeof(s_authn));
	strcpy(s_authn.id, "sms|dev_01");
	strcpy(s_authn.user_id, "auth0|user-1");
	s_authn.type = AUTHN_OOB;
	s_authn.channel = CHANNEL_EMAIL;
	s_authn.active = true;
	strcpy(s_authn.to, "a@example.org");
	strcpy(s_authn.secret_sealed, "dG90cA");
	s_authn.alg = UINT_MAX;
	s_authn.digits = UINT_MAX - 1;
	s_authn.period = 0x80000000u;
	s_authn.last_step = -1;
	s_authn.created_at = -2;
	s_authn.expires_at = INT64_MIN;
	strcpy(s_authn.client_id, "client-1");
	strcpy(s_authn.label_issuer, "Example");
	strcpy(s_authn.label_user, "alice");
	fill_hash(s_authn.enroll_token, 7, 1);

	memset(&s_token, 0, sizeof(s_token));
	strcpy(s_token.client_id, "client-1");
	strcpy(s_token.user_id, "auth0|user-1");
	strcpy(s_token.scope, "openid enroll");
	s_token.created_at = -1644938813274LL;
	s_token.expires_at = -1;

	memset(&s_challenge, 0, sizeof(s_challenge));
	strcpy(s_challenge.id, "auth_challenge_01FVYZ");
	strcpy(s_challenge.factor_id, "email|dev_A");
	strcpy(s_challenge.client_id, "client-2");
	strcpy(s_challenge.user_id, "user-2");
	s_challenge.type = CT_OOB;
	s_challenge.state = CHALLENGE_DENIED;
	s_challenge.attempts = UINT_MAX;
	s_challenge.created_at = -1;
	s_challenge.updated_at = -2;
	s_challenge.expires_at = -3;
	s_challenge.purge_at = INT64_MIN;
	fill_hash(s_challenge.token_hash, 3, 1);
	s_challenge.has_oob = true;
	fill_hash(s_challenge.oob_hash, 5, 2);
	fill_hash(s_challenge.binding_hash, 11, 3);

	memset(&s_bucket, 0, sizeof(s_bucket));
	s_bucket.level = UINT_MAX;
	s_bucket.refilled_at = -1700000000123LL;

	memset(&s_signing, 0, sizeof(s_signing));
	strcpy(s_signing.kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	strcpy(s_signing.public_b64,
	    "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	strcpy(s_signing.seed_sealed, "c2VlZA");
	s_signing.created_at = -5;
	s_signing.retired_at = INT64_MIN;

	/* Each string's fill byte is checked by the edit rows below. */
	m_client = s_client;
	fill_str(m_client.id, sizeof(m_client.id), 'i');
	fill_str(m_client.name, sizeof(m_client.name), 'n');
	fill_str(m_client.secret_sealed, sizeof(m_client.secret_sealed), 's');
	fill_str(m_client.keys[0], sizeof(m_client.keys[0]), 'k');
	fill_str(m_client.keys[1], sizeof(m_client.keys[1]), 'K');

	m_authn = s_authn;
	fill_str(m_authn.id, sizeof(m_authn.id), 'a');
	fill_str(m_authn.user_id, sizeof(m_authn.user_id), 'u');
	fill_str(m_authn.to, sizeof(m_authn.to), 't');
	fill_str(m_authn.secret_sealed, sizeof(m_authn.secret_sealed), 's');
	fill_str(m_authn.client_id, sizeof(m_authn.client_id), 'c');
	fill_str(m_authn.label_issuer, sizeof(m_authn.label_issuer), 'i');
	fill_str(m_authn.label_user, sizeof(m_authn.label_user), 'l');

	m_token = s_token;
	fill_str(m_token.client_id, sizeof(m_token.client_id), 'c');
	fill_str(m_token.user_id, sizeof(m_token.user_id), 'u');
	fill_str(m_token.scope, sizeof(m_token.scope), 'e');

	m_challenge = s_challenge;
	fill_str(m_challenge.id, sizeof(m_challenge.id), 'h');
	fill_str(m_challenge.factor_id, sizeof(m_challenge.factor_id), 'f');
	fill_str(m_challenge.client_id, sizeof(m_challenge.client_id), 'c');
	fill_str(m_challenge.user_id, sizeof(m_challenge.user_id), 'u');

	m_bucket = s_bucket;

	m_signing = s_signing;
	fill_str(m_signing.kid, sizeof(m_signing.kid), 'k');
	fill_str(m_signing.public_b64, sizeof(m_signing.public_b64), 'p');
	fill_str(m_signing.seed_sealed, sizeof(m_signing.seed_sealed), 's');
}

enum { K_CLIENT, K_AUTHN, K_TOKEN, K_CHALLENGE, K_BUCKET, K_SIGNING };

/*
 * Lengths by the layout: "empty_len" is 2 (format, kind) plus 2 per
 * string, 8 per int64, 4 per unsigned, 1 per enum or bool and 32 per
 * hash; the others add each string's bytes.
 */
static const struct rec_kind {
	const char *name;
	unsigned char byte; /* the kind byte */
	size_t size;
	size_t (*enc)(const void *, unsigned char *);
	int (*dec)(const void *, size_t, void *);
	const void *sample;
	size_t sample_len;
	const void *max;
	size_t max_len;
	size_t empty_len; /* of a zeroed struct */
} kinds[] = {
	/* 37 + 11 + 9 + 8 + 13 + 12; 37 + 64 + 64 + 139 + 1599 + 1599 */
	{ "client", 'c', sizeof(struct client_rec), enc_client, dec_client,
	    &s_client, 90, &m_client, 3502, 37 },
	/* 87 + 10 + 12 + 13 + 6 + 8 + 7 + 5; 87 + 64 + 128 + 254 + 139 +
	   64 + 63 + 128 */
	{ "authn", 'a', sizeof(struct authn_rec), enc_authn, dec_authn,
	    &s_authn, 148, &m_authn, 927, 87 },
	/* 24 + 8 + 12 + 13; 24 + 64 + 128 + 256 */
	{ "token", 't', sizeof(struct token_rec), enc_token, dec_token,
	    &s_token, 57, &m_token, 472, 24 },
	/* 148 + 21 + 11 + 8 + 6; 148 + 64 + 64 + 64 + 128 */
	{ "challenge", 'h', sizeof(struct challenge_rec), enc_challenge,
	    dec_challenge, &s_challenge, 194, &m_challenge, 468, 148 },
	{ "bucket", 'b', sizeof(struct bucket), enc_bucket, dec_bucket,
	    &s_bucket, 14, &m_bucket, 14, 14 },
	/* 24 + 43 + 43 + 6; 24 + 43 + 47 + 139 */
	{ "signing", 's', sizeof(struct signing_rec), enc_signing, dec_signing,
	    &s_signing, 116, &m_signing, 253, 24 },
};

/* Where a decoder writes: any record, then bytes it must not touch. */
struct guard {
	union {
		struct client_rec c;
		struct authn_rec a;
		struct token_rec t;
		struct challenge_rec h;
		struct bucket b;
		struct signing_rec s;
	} u;
	unsigned char tail[16];
};

static const struct guard zero;

static uint64_t
get_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void
put_le(unsigned char *p, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Decodes "len" bytes of "buf" as kind "k" into "g", first filled with
 * 0x5a, from a heap copy of exactly "len" bytes so that a read past the
 * end shows under ASan and valgrind.
 */
static int
decode_exact(int k, const void *buf, size_t len, struct guard *g)
{
	unsigned char *copy;
	int rc;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, buf, len);
	memset(g, 0x5a, sizeof(*g));
	rc = kinds[k].dec(copy, len, &g->u);
	free(copy);
	return rc;
}

/* Nothing past kind "k"'s struct was written. */
static bool
tail_intact(int k, const struct guard *g)
{
	const unsigned char *p = (const unsigned char *)g;
	size_t i;

	for (i = kinds[k].size; i < sizeof(*g); i++)
		if (p[i] != 0x5a)
			return false;
	return true;
}

/* Out is a zero struct, and nothing past it was written. */
static bool
out_zeroed(int k, const struct guard *g)
{
	return memcmp(&g->u, &zero.u, kinds[k].size) == 0 && tail_intact(k, g);
}

/* Decoding fails with MFA_ERR_CORRUPT and leaves out zeroed. */
static void
check_corrupt(const char *row, int k, const void *buf, size_t len)
{
	struct guard g;

	ROW_INT(row, decode_exact(k, buf, len, &g), MFA_ERR_CORRUPT);
	ROW_TRUE(row, out_zeroed(k, &g));
}

/*
 * Decoding succeeds, and re-encoding the result gives the same bytes:
 * every byte of the input was read into a field.
 */
static void
check_ok(const char *row, int k, const void *buf, size_t len)
{
	unsigned char again[RECORD_ENC_MAX];
	struct guard g;

	ROW_INT(row, decode_exact(k, buf, len, &g), MFA_OK);
	ROW_TRUE(row, tail_intact(k, &g));
	ROW_INT(row, kinds[k].enc(&g.u, again), len);
	ROW_TRUE(row, memcmp(again, buf, len) == 0);
}

/*
 * Encode, decode, compare with the original, encode again: the same
 * bytes and length.
 */
static void
check_roundtrip(const char *row, int k, const void *rec, size_t want_len)
{
	unsigned char b1[RECORD_ENC_MAX], b2[RECORD_ENC_MAX];
	struct guard g;
	size_t n1;

	n1 = kinds[k].enc(rec, b1);
	ROW_INT(row, n1, want_len);
	ROW_TRUE(row, n1 <= RECORD_ENC_MAX);
	ROW_INT(row, b1[0], RECORD_FORMAT);
	ROW_INT(row, b1[1], kinds[k].byte);
	ROW_INT(row, decode_exact(k, b1, n1, &g), MFA_OK);
	ROW_TRUE(row, memcmp(&g.u, rec, kinds[k].size) == 0);
	ROW_TRUE(row, tail_intact(k, &g));
	ROW_INT(row, kinds[k].enc(&g.u, b2), n1);
	ROW_TRUE(row, memcmp(b1, b2, n1) == 0);
}

/* Every kind, with every field set, at ordinary and maximal lengths. */
static void
test_recbin_roundtrip(void)
{
	char row[64];
	size_t k;

	T_EQ_INT(RECORD_FORMAT, 2);
	for (k = 0; k < NELEM(kinds); k++) {
		snprintf(row, sizeof(row), "%s: sample", kinds[k].name);
		check_roundtrip(
		    row, (int)k, kinds[k].sample, kinds[k].sample_len);
		snprintf(row, sizeof(row), "%s: maximal", kinds[k].name);
		check_roundtrip(row, (int)k, kinds[k].max, kinds[k].max_len);
	}
}

/* The exact bytes of small records, every field kind among them. */
static void
test_recbin_wire(void)
{
	/* clang-format off */
	static const unsigned char want_bucket[] = { 2, 'b', 5, 0, 0, 0, 8,
		7, 6, 5, 4, 3, 2, 1 };
	static const unsigned char want_token[] = { 2, 't',
		2, 0, 'c', '1',                             /* client_id */
		1, 0, 'u',                                  /* user_id */
		0, 0,                                       /* scope */
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	static const unsigned char want_authn[] = { 2, 'a',
		2, 0, 'a', '1',         /* id */
		1, 0, 'u',              /* user_id */
		2, 3, 1,                /* type oob, channel email, active */
		1, 0, 't',              /* to */
		0, 0,                   /* secret_sealed */
		4, 3, 2, 1,             /* alg */
		6, 0, 0, 0,             /* digits */
		30, 0, 0, 0,            /* period */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 */
		1, 0, 0, 0, 0, 0, 0, 0, /* created_at */
		0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a,
		0, 0,                   /* client_id */
		1, 0, 'i',              /* label_issuer */
		0, 0,                   /* label_user */
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
		0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf };
	/* clang-format on */
	unsigned char out[RECORD_ENC_MAX];
	struct bucket b;
	struct token_rec t;
	struct authn_rec a;
	struct guard g;
	size_t k, n;

	memset(&b, 0, sizeof(b));
	b.level = 5;
	b.refilled_at = 0x0102030405060708LL;
	n = record_bucket_encode(&b, out);
	T_EQ_INT(n, 14);
	T_EQ_INT(sizeof(want_bucket), 14);
	T_EQ_MEM(out, want_bucket, sizeof(want_bucket));
	T_EQ_INT(
	    record_bucket_decode(want_bucket, sizeof(want_bucket), &b), MFA_OK);
	T_EQ_INT(b.level, 5);
	T_EQ_INT(b.refilled_at, 0x0102030405060708LL);

	/* 2 + (2 + 2) + (2 + 1) + (2 + 0) + 8 + 8 */
	memset(&t, 0, sizeof(t));
	strcpy(t.client_id, "c1");
	strcpy(t.user_id, "u");
	t.created_at = -2;
	t.expires_at = 0x1122334455667788LL;
	n = record_token_encode(&t, out);
	T_EQ_INT(n, 27);
	T_EQ_INT(sizeof(want_token), 27);
	T_EQ_MEM(out, want_token, sizeof(want_token));

	/* 87 + 2 + 1 + 1 + 1: all six field kinds */
	memset(&a, 0, sizeof(a));
	strcpy(a.id, "a1");
	strcpy(a.user_id, "u");
	a.type = AUTHN_OOB;
	a.channel = CHANNEL_EMAIL;
	a.active = true;
	strcpy(a.to, "t");
	a.alg = 0x01020304;
	a.digits = 6;
	a.period = 30;
	a.last_step = -1;
	a.created_at = 1;
	a.expires_at = 0x0a0b0c0d0e0f1011LL;
	strcpy(a.label_issuer, "i");
	fill_hash(a.enroll_token, 1, 0xa0);
	n = record_authn_encode(&a, out);
	T_EQ_INT(n, 92);
	T_EQ_INT(sizeof(want_authn), 92);
	T_EQ_MEM(out, want_authn, sizeof(want_authn));

	/*
	 * A zeroed struct: only the fixed part of the layout. The kinds with
	 * checks refuse it (auth method, type or state 0 would read back as
	 * corrupt), so it is not encoded at all.
	 */
	for (k = 0; k < NELEM(kinds); k++) {
		bool checked = kinds[k].byte == 'c' || kinds[k].byte == 'a' ||
		    kinds[k].byte == 'h';

		memset(&g, 0, sizeof(g));
		n = kinds[k].enc(&g.u, out);
		ROW_INT(kinds[k].name, n, checked ? 0 : kinds[k].empty_len);
		if (n == 0)
			continue;
		ROW_INT(kinds[k].name, out[0], 2);
		ROW_INT(kinds[k].name, out[1], kinds[k].byte);
	}
}

/*
 * Truncations, a trailing byte, other formats, other kinds: each kind's
 * sample and maximal encodings.
 */
static void
test_recbin_framing(void)
{
	static const unsigned char formats[] = { 0, 1, 3, '{', 0xff };
	unsigned char buf[BUF_MAX], cp[BUF_MAX];
	const void *rec;
	struct guard g;
	char row[96];
	size_t k, j, n, len, bad;
	int rc, m;

	for (k = 0; k < NELEM(kinds); k++) {
		for (m = 0; m < 2; m++) {
			rec = m == 0 ? kinds[k].sample : kinds[k].max;
			len = kinds[k].enc(rec, buf);
			ROW_INT(kinds[k].name, len,
			    m == 0 ? kinds[k].sample_len : kinds[k].max_len);

			/* every proper prefix, including the empty one */
			rc = MFA_ERR_CORRUPT;
			for (n = 0, bad = SIZE_MAX; n < len; n++) {
				rc = decode_exact((int)k, buf, n, &g);
				if (rc != MFA_ERR_CORRUPT ||
				    !out_zeroed((int)k, &g)) {
					bad = n;
					break;
				}
			}
			test_report(bad == SIZE_MAX, __FILE__, __LINE__,
			    "[%s %s] all %zu truncations are MFA_ERR_CORRUPT "
			    "with out zeroed (first not: %zu bytes, rc %d)",
			    kinds[k].name, m == 0 ? "sample" : "maximal", len,
			    bad, rc);

			/* one byte more, 0 or 0xff */
			snprintf(
			    row, sizeof(row), "%s: trailing 0", kinds[k].name);
			memcpy(cp, buf, len);
			cp[len] = 0;
			check_corrupt(row, (int)k, cp, len + 1);
			snprintf(row, sizeof(row), "%s: trailing 0xff",
			    kinds[k].name);
			cp[len] = 0xff;
			check_corrupt(row, (int)k, cp, len + 1);
		}

		len = kinds[k].enc(kinds[k].sample, buf);
		for (j = 0; j < NELEM(formats); j++) {
			snprintf(row, sizeof(row), "%s: format %u",
			    kinds[k].name, formats[j]);
			memcpy(cp, buf, len);
			cp[0] = formats[j];
			check_corrupt(row, (int)k, cp, len);
		}

		/* another kind's record, and this one relabelled */
		for (j = 0; j < NELEM(kinds); j++) {
			if (j == k)
				continue;
			snprintf(row, sizeof(row), "%s read as %s",
			    kinds[k].name, kinds[j].name);
			check_corrupt(row, (int)j, buf, len);
			snprintf(row, sizeof(row), "%s with kind byte '%c'",
			    kinds[k].name, kinds[j].byte);
			memcpy(cp, buf, len);
			cp[1] = kinds[j].byte;
			check_corrupt(row, (int)k, cp, len);
		}
		snprintf(row, sizeof(row), "%s: kind byte 0", kinds[k].name);
		memcpy(cp, buf, len);
		cp[1] = 0;
		check_corrupt(row, (int)k, cp, len);
	}

	/*
	 * A token and a signing key share a layout (three strings, two
	 * int64), so only the kind byte tells them apart: relabelled, the
	 * token reads as a signing key.
	 */
	len = record_token_encode(&s_token, buf);
	buf[1] = 's';
	check_ok("token relabelled as signing", K_SIGNING, buf, len);
	T_EQ_INT(record_signing_decode(buf, len, &g.u.s), MFA_OK);
	T_EQ_STR(g.u.s.kid, s_token.client_id);
	T_EQ_STR(g.u.s.public_b64, s_token.user_id);
	T_EQ_STR(g.u.s.seed_sealed, s_token.scope);
	T_EQ_INT(g.u.s.created_at, s_token.created_at);
	T_EQ_INT(g.u.s.retired_at, s_token.expires_at);
	buf[1] = 't';
	check_corrupt("token read as signing", K_SIGNING, buf, len);
}

/*
 * Offsets in the maximal samples' encodings. Client: id 2, name 68,
 * types 134, auth 138, secret_sealed 139, alg 280, key0 284, key1 1885,
 * created_at 3486, updated_at 3494. Authn: id 2, user_id 68, type 198,
 * channel 199, active 200, to 201, secret_sealed 457, alg 598, digits 602,
 * period 606, last_step 610, created_at 618, expires_at 626, client_id
 * 634, label_issuer 700, label_user 765, enroll_token 895. Token:
 * client_id 2, user_id 68, scope 198, created_at 456, expires_at 464.
 * Challenge: id 2, factor_id 68, client_id 134, user_id 200, type 330,
 * state 334, attempts 335, created_at 339, updated_at 347, expires_at 355,
 * purge_at 363, token_hash 371, has_oob 403, oob_hash 404, binding_hash
 * 436. Signing: kid 2, public_b64 47, seed_sealed 96, created_at 237,
 * retired_at 245.
 */
#define TC(t, c) ((uint64_t)(c) << 8 | (t)) /* authn type, channel */

static const struct edit_row {
	const char *name;
	int kind;
	size_t off;   /* in the maximal sample's encoding */
	size_t width; /* bytes, little-endian */
	uint64_t was; /* there before the edit: checks the offset */
	uint64_t val;
	int rc;
} edit_rows[] = {
	/* client auth: 1..4 */
	{ "client: auth 0", K_CLIENT, 138, 1, 3, 0, MFA_ERR_CORRUPT },
	{ "client: auth 1", K_CLIENT, 138, 1, 3, 1, MFA_OK },
	{ "client: auth 2", K_CLIENT, 138, 1, 3, 2, MFA_OK },
	{ "client: auth 4", K_CLIENT, 138, 1, 3, 4, MFA_OK },
	{ "client: auth 5", K_CLIENT, 138, 1, 3, 5, MFA_ERR_CORRUPT },
	{ "client: auth 255", K_CLIENT, 138, 1, 3, 255, MFA_ERR_CORRUPT },
	/* client types: bits of CT_ALL only */
	{ "client: types 0", K_CLIENT, 134, 4, CT_ALL, 0, MFA_OK },
	{ "client: types otp", K_CLIENT, 134, 4, CT_ALL, CT_OTP, MFA_OK },
	{ "client: types oob", K_CLIENT, 134, 4, CT_ALL, CT_OOB, MFA_OK },
	{ "client: types 4", K_CLIENT, 134, 4, CT_ALL, 4, MFA_ERR_CORRUPT },
	{ "client: types 7", K_CLIENT, 134, 4, CT_ALL, 7, MFA_ERR_CORRUPT },
	{ "client: types bit 31", K_CLIENT, 134, 4, CT_ALL, 0x80000003u,
	    MFA_ERR_CORRUPT },
	{ "client: types UINT_MAX", K_CLIENT, 134, 4, CT_ALL, UINT_MAX,
	    MFA_ERR_CORRUPT },
	/* authn type and channel: a channel exactly for oob */
	{ "authn: otp, none", K_AUTHN, 198, 2, TC(2, 3), TC(1, 0), MFA_OK },
	{ "authn: recovery, none", K_AUTHN, 198, 2, TC(2, 3), TC(3, 0),
	    MFA_OK },
	{ "authn: oob, sms", K_AUTHN, 198, 2, TC(2, 3), TC(2, 1), MFA_OK },
	{ "authn: oob, voice", K_AUTHN, 198, 2, TC(2, 3), TC(2, 2), MFA_OK },
	{ "authn: oob, none", K_AUTHN, 198, 2, TC(2, 3), TC(2, 0),
	    MFA_ERR_CORRUPT },
	{ "authn: otp, sms", K_AUTHN, 198, 2, TC(2, 3), TC(1, 1),
	    MFA_ERR_CORRUPT },
	{ "authn: recovery, email", K_AUTHN, 198, 2, TC(2, 3), TC(3, 3),
	    MFA_ERR_CORRUPT },
	{ "authn: oob, channel 4", K_AUTHN, 198, 2, TC(2, 3), TC(2, 4),
	    MFA_ERR_CORRUPT },
	{ "authn: oob, channel 255", K_AUTHN, 198, 2, TC(2, 3), TC(2, 255),
	    MFA_ERR_CORRUPT },
	{ "authn: type 0", K_AUTHN, 198, 2, TC(2, 3), TC(0, 0),
	    MFA_ERR_CORRUPT },
	{ "authn: type 4", K_AUTHN, 198, 2, TC(2, 3), TC(4, 0),
	    MFA_ERR_CORRUPT },
	{ "authn: type 255", K_AUTHN, 198, 2, TC(2, 3), TC(255, 3),
	    MFA_ERR_CORRUPT },
	/* bools: 0 or 1 */
	{ "authn: active 0", K_AUTHN, 200, 1, 1, 0, MFA_OK },
	{ "authn: active 2", K_AUTHN, 200, 1, 1, 2, MFA_ERR_CORRUPT },
	{ "authn: active 255", K_AUTHN, 200, 1, 1, 255, MFA_ERR_CORRUPT },
	{ "challenge: has_oob 0", K_CHALLENGE, 403, 1, 1, 0, MFA_OK },
	{ "challenge: has_oob 2", K_CHALLENGE, 403, 1, 1, 2, MFA_ERR_CORRUPT },
	{ "challenge: has_oob 128", K_CHALLENGE, 403, 1, 1, 128,
	    MFA_ERR_CORRUPT },
	/* challenge state: pending..denied */
	{ "challenge: state 0", K_CHALLENGE, 334, 1, 5, 0, MFA_ERR_CORRUPT },
	{ "challenge: state 1", K_CHALLENGE, 334, 1, 5, 1, MFA_OK },
	{ "challenge: state 2", K_CHALLENGE, 334, 1, 5, 2, MFA_OK },
	{ "challenge: state 3", K_CHALLENGE, 334, 1, 5, 3, MFA_OK },
	{ "challenge: state 4", K_CHALLENGE, 334, 1, 5, 4, MFA_OK },
	{ "challenge: state 6", K_CHALLENGE, 334, 1, 5, 6, MFA_ERR_CORRUPT },
	{ "challenge: state 255", K_CHALLENGE, 334, 1, 5, 255,
	    MFA_ERR_CORRUPT },
	/* challenge type: CT_OTP or CT_OOB, all four bytes read */
	{ "challenge: type otp", K_CHALLENGE, 330, 4, CT_OOB, CT_OTP, MFA_OK },
	{ "challenge: type 0", K_CHALLENGE, 330, 4, CT_OOB, 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: type 3", K_CHALLENGE, 330, 4, CT_OOB, 3,
	    MFA_ERR_CORRUPT },
	{ "challenge: type 4", K_CHALLENGE, 330, 4, CT_OOB, 4,
	    MFA_ERR_CORRUPT },
	{ "challenge: type 0x102", K_CHALLENGE, 330, 4, CT_OOB, 0x102,
	    MFA_ERR_CORRUPT },
	{ "challenge: type 0x1000001", K_CHALLENGE, 330, 4, CT_OOB, 0x1000001,
	    MFA_ERR_CORRUPT },
	/* a NUL inside a string */
	{ "client: NUL first in id", K_CLIENT, 4, 1, 'i', 0, MFA_ERR_CORRUPT },
	{ "client: NUL last in name", K_CLIENT, 133, 1, 'n', 0,
	    MFA_ERR_CORRUPT },
	{ "client: NUL inside key1", K_CLIENT, 1887 + 800, 1, 'K', 0,
	    MFA_ERR_CORRUPT },
	{ "authn: NUL first in to", K_AUTHN, 203, 1, 't', 0, MFA_ERR_CORRUPT },
	{ "authn: NUL last in label_user", K_AUTHN, 894, 1, 'l', 0,
	    MFA_ERR_CORRUPT },
	{ "token: NUL first in client_id", K_TOKEN, 4, 1, 'c', 0,
	    MFA_ERR_CORRUPT },
	{ "token: NUL last in scope", K_TOKEN, 455, 1, 'e', 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: NUL in user_id", K_CHALLENGE, 202 + 64, 1, 'u', 0,
	    MFA_ERR_CORRUPT },
	{ "signing: NUL first in kid", K_SIGNING, 4, 1, 'k', 0,
	    MFA_ERR_CORRUPT },
	/* a length prefix that does not match the bytes after it */
	{ "token: client_id length 65, 64 bytes", K_TOKEN, 2, 2, 64, 65,
	    MFA_ERR_CORRUPT },
	{ "token: client_id length 63, 64 bytes", K_TOKEN, 2, 2, 64, 63,
	    MFA_ERR_CORRUPT },
	{ "token: client_id length 0xffff", K_TOKEN, 2, 2, 64, 0xffff,
	    MFA_ERR_CORRUPT },
	{ "client: key1 length 0xffff", K_CLIENT, 1885, 2, 1599, 0xffff,
	    MFA_ERR_CORRUPT },
	/* any int64 or unsigned value is a value */
	{ "token: expires_at INT64_MAX", K_TOKEN, 464, 8, UINT64_MAX, INT64_MAX,
	    MFA_OK },
	{ "challenge: attempts 0", K_CHALLENGE, 335, 4, UINT_MAX, 0, MFA_OK },
	{ "bucket: level 0", K_BUCKET, 2, 4, UINT_MAX, 0, MFA_OK },
	{ "signing: retired_at 0", K_SIGNING, 245, 8, (uint64_t)1 << 63, 0,
	    MFA_OK },
};

/* One byte or field of a maximal encoding changed in place. */
static void
test_recbin_edits(void)
{
	unsigned char buf[BUF_MAX];
	const struct edit_row *r;
	size_t i, len;

	for (i = 0; i < NELEM(edit_rows); i++) {
		r = &edit_rows[i];
		len = kinds[r->kind].enc(kinds[r->kind].max, buf);
		ROW_INT(r->name, len, kinds[r->kind].max_len);
		ROW_INT(r->name, get_le(buf + r->off, r->width), r->was);
		put_le(buf + r->off, r->width, r->val);
		if (r->rc == MFA_OK)
			check_ok(r->name, r->kind, buf, len);
		else
			check_corrupt(r->name, r->kind, buf, len);
	}
}

/*
 * Copies the encoding "in" ("len" bytes) to "out" with the string whose
 * length prefix is at "off" replaced by "n" bytes 'x' and its prefix set
 * to "n"; returns the new length. The record stays well framed, so only
 * the string's bound can reject it.
 */
static size_t
restring(const unsigned char *in, size_t len, size_t off, size_t n,
    unsigned char *out)
{
	size_t old = (size_t)get_le(in + off, 2), rest = off + 2 + old;

	memcpy(out, in, off);
	put_le(out + off, 2, n);
	memset(out + off + 2, 'x', n);
	memcpy(out + off + 2 + n, in + rest, len - rest);
	return len - old + n;
}

static const struct len_row {
	const char *name;
	int kind;
	size_t off; /* of the length prefix in the maximal encoding */
	size_t was; /* the string's length there: its array size - 1 */
	size_t n;
	int rc;
} len_rows[] = {
	{ "token: client_id 64", K_TOKEN, 2, 64, 64, MFA_OK },
	{ "token: client_id 63", K_TOKEN, 2, 64, 63, MFA_OK },
	{ "token: client_id 0", K_TOKEN, 2, 64, 0, MFA_OK },
	{ "token: client_id 65", K_TOKEN, 2, 64, 65, MFA_ERR_CORRUPT },
	{ "token: user_id 129", K_TOKEN, 68, 128, 129, MFA_ERR_CORRUPT },
	{ "token: scope 257", K_TOKEN, 198, 256, 257, MFA_ERR_CORRUPT },
	{ "client: id 0 (empty)", K_CLIENT, 2, 64, 0, MFA_ERR_CORRUPT },
	{ "client: id 1", K_CLIENT, 2, 64, 1, MFA_OK },
	{ "client: id 65", K_CLIENT, 2, 64, 65, MFA_ERR_CORRUPT },
	{ "client: name 0", K_CLIENT, 68, 64, 0, MFA_OK },
	{ "client: name 65", K_CLIENT, 68, 64, 65, MFA_ERR_CORRUPT },
	{ "client: secret_sealed 140", K_CLIENT, 139, 139, 140,
	    MFA_ERR_CORRUPT },
	{ "client: key0 0", K_CLIENT, 284, 1599, 0, MFA_OK },
	{ "client: key0 1600", K_CLIENT, 284, 1599, 1600, MFA_ERR_CORRUPT },
	{ "client: key1 0", K_CLIENT, 1885, 1599, 0, MFA_OK },
	{ "client: key1 1600", K_CLIENT, 1885, 1599, 1600, MFA_ERR_CORRUPT },
	{ "authn: id 65", K_AUTHN, 2, 64, 65, MFA_ERR_CORRUPT },
	{ "authn: user_id 129", K_AUTHN, 68, 128, 129, MFA_ERR_CORRUPT },
	{ "authn: to 255", K_AUTHN, 201, 254, 255, MFA_ERR_CORRUPT },
	{ "authn: secret_sealed 140", K_AUTHN, 457, 139, 140, MFA_ERR_CORRUPT },
	{ "authn: client_id 0", K_AUTHN, 634, 64, 0, MFA_OK },
	{ "authn: client_id 65", K_AUTHN, 634, 64, 65, MFA_ERR_CORRUPT },
	{ "authn: label_issuer 64", K_AUTHN, 700, 63, 64, MFA_ERR_CORRUPT },
	{ "authn: label_user 129", K_AUTHN, 765, 128, 129, MFA_ERR_CORRUPT },
	{ "challenge: id 65", K_CHALLENGE, 2, 64, 65, MFA_ERR_CORRUPT },
	{ "challenge: factor_id 65", K_CHALLENGE, 68, 64, 65, MFA_ERR_CORRUPT },
	{ "challenge: client_id 65", K_CHALLENGE, 134, 64, 65,
	    MFA_ERR_CORRUPT },
	{ "challenge: user_id 129", K_CHALLENGE, 200, 128, 129,
	    MFA_ERR_CORRUPT },
	{ "signing: kid 44", K_SIGNING, 2, 43, 44, MFA_ERR_CORRUPT },
	{ "signing: public_b64 48", K_SIGNING, 47, 47, 48, MFA_ERR_CORRUPT },
	{ "signing: seed_sealed 140", K_SIGNING, 96, 139, 140,
	    MFA_ERR_CORRUPT },
};

/* Each string at, under and one over its bound, framing kept. */
static void
test_recbin_lengths(void)
{
	unsigned char buf[BUF_MAX], out[BUF_MAX];
	const struct len_row *r;
	size_t i, len, n;

	for (i = 0; i < NELEM(len_rows); i++) {
		r = &len_rows[i];
		len = kinds[r->kind].enc(kinds[r->kind].max, buf);
		ROW_INT(r->name, len, kinds[r->kind].max_len);
		ROW_INT(r->name, get_le(buf + r->off, 2), r->was);
		n = restring(buf, len, r->off, r->n, out);
		ROW_INT(r->name, n, len - r->was + r->n);
		if (r->rc == MFA_OK)
			check_ok(r->name, r->kind, out, n);
		else
			check_corrupt(r->name, r->kind, out, n);
	}
}

enum sel {
	SEL_CLIENT_AUTH,
	SEL_CLIENT_TYPES,
	SEL_AUTHN_TYPE,
	SEL_AUTHN_CHANNEL,
	SEL_CHALLENGE_STATE
};

/*
 * Values the layout cannot carry (an enum is one byte) and values the
 * decoder's checks refuse: the encoder returns 0 for both, so nothing is
 * stored that would read back as corrupt.
 */
static const struct enc_row {
	const char *name;
	int kind;
	enum sel sel;
	long long val;
	size_t len; /* 0: refused; else the sample's length */
} enc_rows[] = {
	{ "challenge: state 300", K_CHALLENGE, SEL_CHALLENGE_STATE, 300, 0 },
	{ "challenge: state 256", K_CHALLENGE, SEL_CHALLENGE_STATE, 256, 0 },
	{ "challenge: state -1", K_CHALLENGE, SEL_CHALLENGE_STATE, -1, 0 },
	{ "challenge: state INT_MIN", K_CHALLENGE, SEL_CHALLENGE_STATE, INT_MIN,
	    0 },
	{ "challenge: state INT_MAX", K_CHALLENGE, SEL_CHALLENGE_STATE, INT_MAX,
	    0 },
	{ "challenge: state 255", K_CHALLENGE, SEL_CHALLENGE_STATE, 255, 0 },
	{ "client: auth 256", K_CLIENT, SEL_CLIENT_AUTH, 256, 0 },
	{ "client: auth -1", K_CLIENT, SEL_CLIENT_AUTH, -1, 0 },
	{ "client: auth 1000", K_CLIENT, SEL_CLIENT_AUTH, 1000, 0 },
	{ "client: auth 255", K_CLIENT, SEL_CLIENT_AUTH, 255, 0 },
	{ "client: auth 5", K_CLIENT, SEL_CLIENT_AUTH, 5, 0 },
	{ "client: types UINT_MAX", K_CLIENT, SEL_CLIENT_TYPES, UINT_MAX, 0 },
	{ "authn: type 256", K_AUTHN, SEL_AUTHN_TYPE, 256, 0 },
	{ "authn: type -2", K_AUTHN, SEL_AUTHN_TYPE, -2, 0 },
	{ "authn: channel 300", K_AUTHN, SEL_AUTHN_CHANNEL, 300, 0 },
	{ "authn: channel -5", K_AUTHN, SEL_AUTHN_CHANNEL, -5, 0 },
	{ "authn: channel 255", K_AUTHN, SEL_AUTHN_CHANNEL, 255, 0 },
};

static void
test_recbin_encode_range(void)
{
	unsigned char buf[BUF_MAX];
	const struct enc_row *r;
	struct guard g;
	size_t i, len;

	for (i = 0; i < NELEM(enc_rows); i++) {
		r = &enc_rows[i];
		memcpy(&g.u, kinds[r->kind].sample, kinds[r->kind].size);
		switch (r->sel) {
		case SEL_CLIENT_AUTH:
			g.u.c.auth = (enum client_auth_method)r->val;
			break;
		case SEL_CLIENT_TYPES:
			g.u.c.types = (unsigned)r->val;
			break;
		case SEL_AUTHN_TYPE:
			g.u.a.type = (enum authn_type)r->val;
			break;
		case SEL_AUTHN_CHANNEL:
			g.u.a.channel = (enum oob_channel)r->val;
			break;
		case SEL_CHALLENGE_STATE:
			g.u.h.state = (enum challenge_state)r->val;
			break;
		}
		len = kinds[r->kind].enc(&g.u, buf);
		ROW_INT(r->name, len, r->len);
		if (len > 0)
			check_corrupt(r->name, r->kind, buf, len);
	}
}

void
test_recbin(void)
{
	samples_init();
	test_recbin_roundtrip();
	test_recbin_wire();
	test_recbin_framing();
	test_recbin_edits();
	test_recbin_lengths();
	test_recbin_encode_range();
}
