/*
 * test-record.c -- the JSON record codec of schema 1 (record_json.c, read
 * to migrate older stores): a round trip of every record kind
 * with every field set, the exact wire text, and strict decoding (each
 * kind of malformed input, one byte over each string bound, out's zeroing
 * on error); the enum names and the challenge_type list parser.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "record_json.h"
#include "test.h"

#define ROW_STR(row, a, b)                                                 \
	do {                                                               \
		const char *r_a_ = (a), *r_b_ = (b);                       \
		test_report(r_a_ != NULL && r_b_ != NULL &&                \
		    strcmp(r_a_, r_b_) == 0, __FILE__, __LINE__,           \
		    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b,     \
		    r_a_ ? r_a_ : "(null)", r_b_ ? r_b_ : "(null)");       \
	} while (0)

/* Wrappers so one table can drive every record kind. */
static char *
enc_client(const void *r)
{
	return record_json_client_encode(r);
}

static char *
enc_authn(const void *r)
{
	return record_json_authn_encode(r);
}

static char *
enc_token(const void *r)
{
	return record_json_token_encode(r);
}

static char *
enc_challenge(const void *r)
{
	return record_json_challenge_encode(r);
}

static char *
enc_bucket(const void *r)
{
	return record_json_bucket_encode(r);
}

static int
dec_client(const void *b, size_t n, void *out)
{
	return record_json_client_decode(b, n, out);
}

static int
dec_authn(const void *b, size_t n, void *out)
{
	return record_json_authn_decode(b, n, out);
}

static int
dec_token(const void *b, size_t n, void *out)
{
	return record_json_token_decode(b, n, out);
}

static int
dec_challenge(const void *b, size_t n, void *out)
{
	return record_json_challenge_decode(b, n, out);
}

static int
dec_bucket(const void *b, size_t n, void *out)
{
	return record_json_bucket_decode(b, n, out);
}

/* Samples: every field set to a value other than its zero. */
static struct client_rec s_client;
static struct authn_rec s_authn;
static struct token_rec s_token;
static struct challenge_rec s_challenge;
static struct bucket s_bucket;

static void
fill_str(char *p, size_t n, char c)
{
	memset(p, c, n);
	p[n] = '\0';
}

static void
samples_init(void)
{
	size_t i;

	memset(&s_client, 0, sizeof(s_client));
	strcpy(s_client.id, "Zk3qP9xT2mW8vB4nL6cR1dF5gH7jK0sY");
	/* UTF-8 survives: "Caf\xc3\xa9" is "Café" */
	strcpy(s_client.name, "Caf\xc3\xa9 \"quoted\" \\ app");
	s_client.types = CT_OTP | CT_OOB;
	s_client.auth = CLIENT_AUTH_SECRET;
	fill_str(s_client.secret_sealed, RECORD_SEALED_MAX - 1, 'S');
	s_client.alg = 3;
	strcpy(s_client.keys[0], "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
	fill_str(s_client.keys[1], RECORD_JWK_MAX - 1, 'k');
	s_client.created_at = 1644938813274LL;
	s_client.updated_at = 1644938813999LL;

	memset(&s_authn, 0, sizeof(s_authn));
	strcpy(s_authn.id, "sms|dev_0123456789abcdef");
	fill_str(s_authn.user_id, MFA_USER_ID_MAX, 'u');
	s_authn.type = AUTHN_OOB;
	s_authn.channel = CHANNEL_VOICE;
	s_authn.active = true;
	strcpy(s_authn.to, "+14155550100");
	fill_str(s_authn.secret_sealed, 100, 'x');
	s_authn.alg = 2;
	s_authn.digits = 8;
	s_authn.period = 60;
	s_authn.last_step = 54700000;
	s_authn.created_at = -1; /* negative times survive too */
	s_authn.expires_at = 1644939413274LL;

	memset(&s_token, 0, sizeof(s_token));
	strcpy(s_token.client_id, "client-1");
	strcpy(s_token.user_id, "auth0|user-1");
	fill_str(s_token.scope, MFA_SCOPE_MAX, 'e');
	s_token.created_at = INT64_MIN;
	s_token.expires_at = INT64_MAX;

	memset(&s_challenge, 0, sizeof(s_challenge));
	strcpy(s_challenge.id, "auth_challenge_01FVYZ5QM8N98RJFZ6J3TR2S4Y");
	strcpy(s_challenge.factor_id, "email|dev_ABCDEFGHIJKLMNOP");
	strcpy(s_challenge.client_id, "client-2");
	strcpy(s_challenge.user_id, "user-2");
	s_challenge.type = CT_OOB;
	s_challenge.state = CHALLENGE_LOCKED;
	s_challenge.attempts = 5;
	s_challenge.created_at = 1644938813274LL;
	s_challenge.updated_at = 1644938813275LL;
	s_challenge.expires_at = 1644939413274LL;
	s_challenge.purge_at = 1644939413275LL;
	for (i = 0; i < MFA_HASH_BYTES; i++) {
		s_challenge.token_hash[i] = (unsigned char)(i * 7 + 1);
		s_challenge.oob_hash[i] = (unsigned char)(255 - i);
		s_challenge.binding_hash[i] = (unsigned char)(i * 31);
	}
	s_challenge.has_oob = true;

	s_bucket.level = 7;
	s_bucket.refilled_at = 1700000000123LL;
}

static const struct rec_kind {
	const char *name;
	size_t size;
	char *(*enc)(const void *);
	int (*dec)(const void *, size_t, void *);
	const void *sample;
} kinds[] = {
	{ "client", sizeof(struct client_rec), enc_client, dec_client,
	    &s_client },
	{ "authn", sizeof(struct authn_rec), enc_authn, dec_authn, &s_authn },
	{ "token", sizeof(struct token_rec), enc_token, dec_token, &s_token },
	{ "challenge", sizeof(struct challenge_rec), enc_challenge,
	    dec_challenge, &s_challenge },
	{ "bucket", sizeof(struct bucket), enc_bucket, dec_bucket,
	    &s_bucket },
};
enum { K_CLIENT, K_AUTHN, K_TOKEN, K_CHALLENGE, K_BUCKET };

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

/* Round trip of every kind, field by field. */
static void
test_record_roundtrip(void)
{
	struct client_rec c;
	struct authn_rec a;
	struct token_rec t;
	struct challenge_rec ch;
	struct bucket b;
	char *j;

	j = record_json_client_encode(&s_client);
	T_TRUE(j != NULL);
	memset(&c, 0xa5, sizeof(c));
	T_EQ_INT(record_json_client_decode(j, strlen(j), &c), MFA_OK);
	T_EQ_STR(c.id, s_client.id);
	T_EQ_STR(c.name, s_client.name);
	T_EQ_INT(c.types, CT_OTP | CT_OOB);
	T_EQ_INT(c.auth, CLIENT_AUTH_SECRET);
	T_EQ_STR(c.secret_sealed, s_client.secret_sealed);
	T_EQ_INT(strlen(c.secret_sealed), RECORD_SEALED_MAX - 1);
	T_EQ_INT(c.alg, 3);
	T_EQ_STR(c.keys[0], s_client.keys[0]);
	T_EQ_STR(c.keys[1], s_client.keys[1]);
	T_EQ_INT(strlen(c.keys[1]), RECORD_JWK_MAX - 1);
	T_EQ_INT(c.created_at, 1644938813274LL);
	T_EQ_INT(c.updated_at, 1644938813999LL);
	free(j);

	j = record_json_authn_encode(&s_authn);
	T_TRUE(j != NULL);
	memset(&a, 0xa5, sizeof(a));
	T_EQ_INT(record_json_authn_decode(j, strlen(j), &a), MFA_OK);
	T_EQ_STR(a.id, "sms|dev_0123456789abcdef");
	T_EQ_STR(a.user_id, s_authn.user_id);
	T_EQ_INT(strlen(a.user_id), MFA_USER_ID_MAX);
	T_EQ_INT(a.type, AUTHN_OOB);
	T_EQ_INT(a.channel, CHANNEL_VOICE);
	T_EQ_INT(a.active, true);
	T_EQ_STR(a.to, "+14155550100");
	T_EQ_STR(a.secret_sealed, s_authn.secret_sealed);
	T_EQ_INT(a.alg, 2);
	T_EQ_INT(a.digits, 8);
	T_EQ_INT(a.period, 60);
	T_EQ_INT(a.last_step, 54700000);
	T_EQ_INT(a.created_at, -1);
	T_EQ_INT(a.expires_at, 1644939413274LL);
	free(j);

	j = record_json_token_encode(&s_token);
	T_TRUE(j != NULL);
	memset(&t, 0xa5, sizeof(t));
	T_EQ_INT(record_json_token_decode(j, strlen(j), &t), MFA_OK);
	T_EQ_STR(t.client_id, "client-1");
	T_EQ_STR(t.user_id, "auth0|user-1");
	T_EQ_STR(t.scope, s_token.scope);
	T_EQ_INT(strlen(t.scope), MFA_SCOPE_MAX);
	T_EQ_INT(t.created_at, INT64_MIN);
	T_EQ_INT(t.expires_at, INT64_MAX);
	free(j);

	j = record_json_challenge_encode(&s_challenge);
	T_TRUE(j != NULL);
	memset(&ch, 0xa5, sizeof(ch));
	T_EQ_INT(record_json_challenge_decode(j, strlen(j), &ch), MFA_OK);
	T_EQ_STR(ch.id, s_challenge.id);
	T_EQ_STR(ch.factor_id, s_challenge.factor_id);
	T_EQ_STR(ch.client_id, "client-2");
	T_EQ_STR(ch.user_id, "user-2");
	T_EQ_INT(ch.type, CT_OOB);
	T_EQ_INT(ch.state, CHALLENGE_LOCKED);
	T_EQ_INT(ch.attempts, 5);
	T_EQ_INT(ch.created_at, 1644938813274LL);
	T_EQ_INT(ch.updated_at, 1644938813275LL);
	T_EQ_INT(ch.expires_at, 1644939413274LL);
	T_EQ_INT(ch.purge_at, 1644939413275LL);
	T_EQ_MEM(ch.token_hash, s_challenge.token_hash, MFA_HASH_BYTES);
	T_EQ_INT(ch.has_oob, true);
	T_EQ_MEM(ch.oob_hash, s_challenge.oob_hash, MFA_HASH_BYTES);
	T_EQ_MEM(ch.binding_hash, s_challenge.binding_hash, MFA_HASH_BYTES);
	free(j);

	j = record_json_bucket_encode(&s_bucket);
	T_TRUE(j != NULL);
	memset(&b, 0xa5, sizeof(b));
	T_EQ_INT(record_json_bucket_decode(j, strlen(j), &b), MFA_OK);
	T_EQ_INT(b.level, 7);
	T_EQ_INT(b.refilled_at, 1700000000123LL);
	free(j);
}

/* Other enum values and booleans of each kind round-trip too. */
static void
test_record_roundtrip_variants(void)
{
	static const enum oob_channel chans[] = { CHANNEL_SMS, CHANNEL_VOICE,
		CHANNEL_EMAIL };
	static const enum challenge_state states[] = { CHALLENGE_PENDING,
		CHALLENGE_VERIFIED, CHALLENGE_EXPIRED, CHALLENGE_LOCKED,
		CHALLENGE_DENIED };
	struct authn_rec a, a2;
	struct challenge_rec c, c2;
	struct client_rec cl, cl2;
	size_t i;
	char *j;

	for (i = 0; i < NELEM(chans); i++) {
		a = s_authn;
		a.channel = chans[i];
		a.active = false;
		j = record_json_authn_encode(&a);
		T_EQ_INT(record_json_authn_decode(j, strlen(j), &a2), MFA_OK);
		T_EQ_INT(a2.channel, chans[i]);
		T_EQ_INT(a2.active, false);
		free(j);
	}
	/* otp and recovery codes have no channel */
	a = s_authn;
	a.type = AUTHN_OTP;
	a.channel = CHANNEL_NONE;
	a.last_step = -1;
	j = record_json_authn_encode(&a);
	T_EQ_INT(record_json_authn_decode(j, strlen(j), &a2), MFA_OK);
	T_EQ_INT(a2.type, AUTHN_OTP);
	T_EQ_INT(a2.channel, CHANNEL_NONE);
	T_EQ_INT(a2.last_step, -1);
	free(j);
	a.type = AUTHN_RECOVERY;
	j = record_json_authn_encode(&a);
	T_EQ_INT(record_json_authn_decode(j, strlen(j), &a2), MFA_OK);
	T_EQ_INT(a2.type, AUTHN_RECOVERY);
	free(j);

	for (i = 0; i < NELEM(states); i++) {
		c = s_challenge;
		c.state = states[i];
		c.type = CT_OTP;
		c.has_oob = false;
		j = record_json_challenge_encode(&c);
		T_EQ_INT(record_json_challenge_decode(j, strlen(j), &c2), MFA_OK);
		T_EQ_INT(c2.state, states[i]);
		T_EQ_INT(c2.type, CT_OTP);
		T_EQ_INT(c2.has_oob, false);
		free(j);
	}

	for (i = CLIENT_AUTH_SECRET; i <= CLIENT_AUTH_PRIVATE_KEY_JWT; i++) {
		cl = s_client;
		cl.auth = (enum client_auth_method)i;
		cl.secret_sealed[0] = '\0'; /* none for private_key_jwt */
		cl.keys[1][0] = '\0';       /* one key registered */
		j = record_json_client_encode(&cl);
		T_EQ_INT(record_json_client_decode(j, strlen(j), &cl2), MFA_OK);
		T_EQ_INT(cl2.auth, i);
		T_EQ_STR(cl2.secret_sealed, "");
		T_EQ_STR(cl2.keys[0], s_client.keys[0]);
		T_EQ_STR(cl2.keys[1], "");
		free(j);
	}
	for (i = 0; i <= CT_ALL; i++) {
		cl = s_client;
		cl.types = (unsigned)i;
		j = record_json_client_encode(&cl);
		T_EQ_INT(record_json_client_decode(j, strlen(j), &cl2), MFA_OK);
		T_EQ_INT(cl2.types, i);
		free(j);
	}
}

/*
 * What the encoder writes must decode: an unsigned field above INT_MAX
 * encodes fine, so it must come back.
 */
static void
test_record_roundtrip_unsigned_range(void)
{
	struct challenge_rec c = s_challenge, c2;
	struct bucket b = { UINT_MAX, 0 }, b2;
	char *j;

	c.attempts = 0x80000000u;
	j = record_json_challenge_encode(&c);
	T_TRUE(j != NULL);
	T_EQ_INT(record_json_challenge_decode(j, strlen(j), &c2), MFA_OK);
	T_EQ_INT(c2.attempts, 0x80000000u);
	free(j);

	j = record_json_bucket_encode(&b);
	T_TRUE(j != NULL);
	T_EQ_INT(record_json_bucket_decode(j, strlen(j), &b2), MFA_OK);
	T_EQ_INT(b2.level, UINT_MAX);
	free(j);
}

/* The stored text: compact, "v" first, fields in table order. */
static void
test_record_wire(void)
{
	struct token_rec t;
	struct bucket b = { 3, 1700000000000LL };
	char *j;

	j = record_json_bucket_encode(&b);
	T_EQ_STR(j, "{\"v\":1,\"level\":3,\"refilled_at\":1700000000000}");
	free(j);

	memset(&t, 0, sizeof(t));
	strcpy(t.client_id, "c");
	strcpy(t.user_id, "u\"1");
	t.created_at = 1;
	t.expires_at = 2;
	j = record_json_token_encode(&t);
	T_EQ_STR(j, "{\"v\":1,\"client_id\":\"c\",\"user_id\":\"u\\\"1\","
	    "\"scope\":\"\",\"created_at\":1,\"expires_at\":2}");
	free(j);
}

/*
 * Returns "json" with member "name" replaced by the JSON text "val", or
 * removed when "val" is NULL; "len" > 0 instead makes it a string of
 * "len" bytes 'x'. Caller frees.
 */
static char *
mutate(const char *json, const char *name, const char *val, size_t len)
{
	json_t *o = json_loads(json, 0, NULL), *v = NULL;
	char *s, *out;

	if (o == NULL)
		return NULL;
	if (len > 0) {
		if ((s = malloc(len + 1)) != NULL) {
			memset(s, 'x', len);
			s[len] = '\0';
			v = json_string(s);
			free(s);
		}
	} else if (val != NULL) {
		v = json_loads(val, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	}
	if (val == NULL && len == 0) {
		json_object_del(o, name);
	} else if (v == NULL || json_object_set_new(o, name, v) != 0) {
		json_decref(o);
		return NULL;
	}
	out = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(o);
	return out;
}

#define H43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define H42 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct mut_row {
	const char *name;
	int kind;
	const char *field;
	const char *val; /* JSON text; NULL with len 0: field removed */
	size_t len;      /* > 0: a string of len 'x' */
	int rc;
} mut_rows[] = {
	/* version */
	{ "client: no v", K_CLIENT, "v", NULL, 0, MFA_ERR_CORRUPT },
	{ "authn: no v", K_AUTHN, "v", NULL, 0, MFA_ERR_CORRUPT },
	{ "token: no v", K_TOKEN, "v", NULL, 0, MFA_ERR_CORRUPT },
	{ "challenge: no v", K_CHALLENGE, "v", NULL, 0, MFA_ERR_CORRUPT },
	{ "bucket: no v", K_BUCKET, "v", NULL, 0, MFA_ERR_CORRUPT },
	{ "client: v 2", K_CLIENT, "v", "2", 0, MFA_ERR_CORRUPT },
	{ "client: v 0", K_CLIENT, "v", "0", 0, MFA_ERR_CORRUPT },
	{ "token: v \"1\"", K_TOKEN, "v", "\"1\"", 0, MFA_ERR_CORRUPT },
	{ "token: v 1.0", K_TOKEN, "v", "1.0", 0, MFA_ERR_CORRUPT },
	{ "bucket: v null", K_BUCKET, "v", "null", 0, MFA_ERR_CORRUPT },
	{ "bucket: v 1 accepted", K_BUCKET, "v", "1", 0, MFA_OK },
	{ "bucket: unknown member ignored", K_BUCKET, "extra", "[1]", 0,
	    MFA_OK },

	/* a string where an integer is expected, and the other way */
	{ "client: created_at \"1\"", K_CLIENT, "created_at", "\"1\"", 0,
	    MFA_ERR_CORRUPT },
	{ "client: created_at 1.5", K_CLIENT, "created_at", "1.5", 0,
	    MFA_ERR_CORRUPT },
	{ "client: created_at true", K_CLIENT, "created_at", "true", 0,
	    MFA_ERR_CORRUPT },
	{ "client: types \"3\"", K_CLIENT, "types", "\"3\"", 0,
	    MFA_ERR_CORRUPT },
	{ "client: name 5", K_CLIENT, "name", "5", 0, MFA_ERR_CORRUPT },
	{ "client: id null", K_CLIENT, "id", "null", 0, MFA_ERR_CORRUPT },
	{ "authn: active 1", K_AUTHN, "active", "1", 0, MFA_ERR_CORRUPT },
	{ "authn: active \"true\"", K_AUTHN, "active", "\"true\"", 0,
	    MFA_ERR_CORRUPT },
	{ "authn: period {}", K_AUTHN, "period", "{}", 0, MFA_ERR_CORRUPT },
	{ "token: expires_at \"x\"", K_TOKEN, "expires_at", "\"x\"", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: has_oob 0", K_CHALLENGE, "has_oob", "0", 0,
	    MFA_ERR_CORRUPT },
	{ "bucket: refilled_at \"1\"", K_BUCKET, "refilled_at", "\"1\"", 0,
	    MFA_ERR_CORRUPT },
	{ "bucket: level 1e3", K_BUCKET, "level", "1e3", 0, MFA_ERR_CORRUPT },

	/* negative and too large unsigned */
	{ "client: types -1", K_CLIENT, "types", "-1", 0, MFA_ERR_CORRUPT },
	{ "authn: digits -1", K_AUTHN, "digits", "-1", 0, MFA_ERR_CORRUPT },
	{ "authn: alg 4294967296", K_AUTHN, "alg", "4294967296", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: attempts -1", K_CHALLENGE, "attempts", "-1", 0,
	    MFA_ERR_CORRUPT },
	{ "bucket: level -1", K_BUCKET, "level", "-1", 0, MFA_ERR_CORRUPT },
	{ "token: expires_at INT64_MAX", K_TOKEN, "expires_at",
	    "9223372036854775807", 0, MFA_OK },
	{ "authn: last_step -1", K_AUTHN, "last_step", "-1", 0, MFA_OK },

	/* enums and cross-field checks */
	{ "client: types 4", K_CLIENT, "types", "4", 0, MFA_ERR_CORRUPT },
	{ "client: types 0", K_CLIENT, "types", "0", 0, MFA_OK },
	{ "client: auth 0", K_CLIENT, "auth", "0", 0, MFA_ERR_CORRUPT },
	{ "client: auth 2 (client_secret_jwt)", K_CLIENT, "auth", "2", 0,
	    MFA_OK },
	{ "client: auth 3 (private_key_jwt)", K_CLIENT, "auth", "3", 0,
	    MFA_OK },
	{ "client: auth 4 (none)", K_CLIENT, "auth", "4", 0, MFA_OK },
	{ "client: auth 5", K_CLIENT, "auth", "5", 0, MFA_ERR_CORRUPT },
	{ "client: alg -1", K_CLIENT, "alg", "-1", 0, MFA_ERR_CORRUPT },
	{ "client: alg \"EdDSA\"", K_CLIENT, "alg", "\"EdDSA\"", 0,
	    MFA_ERR_CORRUPT },
	{ "client: key0 an object", K_CLIENT, "key0", "{\"kty\":\"OKP\"}", 0,
	    MFA_ERR_CORRUPT },
	{ "client: auth -1", K_CLIENT, "auth", "-1", 0, MFA_ERR_CORRUPT },
	{ "client: empty id", K_CLIENT, "id", "\"\"", 0, MFA_ERR_CORRUPT },
	{ "authn: type 0", K_AUTHN, "type", "0", 0, MFA_ERR_CORRUPT },
	{ "authn: type 4", K_AUTHN, "type", "4", 0, MFA_ERR_CORRUPT },
	{ "authn: type 256", K_AUTHN, "type", "256", 0, MFA_ERR_CORRUPT },
	{ "authn: type 257 (wraps to 1)", K_AUTHN, "type", "257", 0,
	    MFA_ERR_CORRUPT },
	{ "authn: channel 4", K_AUTHN, "channel", "4", 0, MFA_ERR_CORRUPT },
	{ "authn: oob without a channel", K_AUTHN, "channel", "0", 0,
	    MFA_ERR_CORRUPT },
	{ "authn: otp with a channel", K_AUTHN, "type", "1", 0,
	    MFA_ERR_CORRUPT },
	{ "authn: recovery with a channel", K_AUTHN, "type", "3", 0,
	    MFA_ERR_CORRUPT },
	{ "authn: channel email", K_AUTHN, "channel", "3", 0, MFA_OK },
	{ "challenge: state 0", K_CHALLENGE, "state", "0", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: state 6", K_CHALLENGE, "state", "6", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: state 1", K_CHALLENGE, "state", "1", 0, MFA_OK },
	{ "challenge: type 0", K_CHALLENGE, "type", "0", 0, MFA_ERR_CORRUPT },
	{ "challenge: type 3", K_CHALLENGE, "type", "3", 0, MFA_ERR_CORRUPT },
	{ "challenge: type 4", K_CHALLENGE, "type", "4", 0, MFA_ERR_CORRUPT },
	{ "challenge: type 1", K_CHALLENGE, "type", "1", 0, MFA_OK },

	/* hashes: exactly 32 bytes, base64url, no padding, canonical */
	{ "challenge: hash of zeros", K_CHALLENGE, "token_hash", "\"" H43 "\"",
	    0, MFA_OK },
	{ "challenge: hash of 0xff", K_CHALLENGE, "oob_hash",
	    "\"__________________________________________8\"", 0, MFA_OK },
	{ "challenge: hash !!!", K_CHALLENGE, "token_hash", "\"!!!\"", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: hash empty", K_CHALLENGE, "token_hash", "\"\"", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: hash 31 bytes", K_CHALLENGE, "token_hash",
	    "\"" H42 "\"", 0, MFA_ERR_CORRUPT },
	{ "challenge: hash 33 bytes", K_CHALLENGE, "oob_hash",
	    "\"" H43 "A\"", 0, MFA_ERR_CORRUPT },
	{ "challenge: hash padded", K_CHALLENGE, "binding_hash",
	    "\"" H43 "=\"", 0, MFA_ERR_CORRUPT },
	{ "challenge: hash standard alphabet", K_CHALLENGE, "token_hash",
	    "\"" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A" "\"", 0,
	    MFA_ERR_CORRUPT },
	{ "challenge: hash non-zero trailing bits", K_CHALLENGE,
	    "token_hash", "\"" H42 "B\"", 0, MFA_ERR_CORRUPT },
	{ "challenge: hash as a number", K_CHALLENGE, "binding_hash", "0", 0,
	    MFA_ERR_CORRUPT },

	/* embedded NUL */
	{ "client: name with \\u0000", K_CLIENT, "name", "\"ab\\u0000cd\"",
	    0, MFA_ERR_CORRUPT },
	{ "token: scope with \\u0000", K_TOKEN, "scope", "\"\\u0000\"", 0,
	    MFA_ERR_CORRUPT },

	/* string bounds: the maximum fits, one byte more does not */
	{ "client: id max", K_CLIENT, "id", NULL, MFA_CLIENT_ID_MAX, MFA_OK },
	{ "client: id max+1", K_CLIENT, "id", NULL, MFA_CLIENT_ID_MAX + 1,
	    MFA_ERR_CORRUPT },
	{ "client: name max", K_CLIENT, "name", NULL, MFA_NAME_MAX, MFA_OK },
	{ "client: name max+1", K_CLIENT, "name", NULL, MFA_NAME_MAX + 1,
	    MFA_ERR_CORRUPT },
	{ "client: name max+1 bytes as 63 ASCII + 1 two-byte char",
	    K_CLIENT, "name",
	    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\xc3\xa9\"", 0, MFA_ERR_CORRUPT },
	{ "client: secret_sealed max", K_CLIENT, "secret_sealed", NULL,
	    RECORD_SEALED_MAX - 1, MFA_OK },
	{ "client: secret_sealed max+1", K_CLIENT, "secret_sealed", NULL,
	    RECORD_SEALED_MAX, MFA_ERR_CORRUPT },
	{ "client: key0 max", K_CLIENT, "key0", NULL, RECORD_JWK_MAX - 1,
	    MFA_OK },
	{ "client: key0 max+1", K_CLIENT, "key0", NULL, RECORD_JWK_MAX,
	    MFA_ERR_CORRUPT },
	{ "client: key1 max", K_CLIENT, "key1", NULL, RECORD_JWK_MAX - 1,
	    MFA_OK },
	{ "client: key1 max+1", K_CLIENT, "key1", NULL, RECORD_JWK_MAX,
	    MFA_ERR_CORRUPT },
	{ "authn: id max", K_AUTHN, "id", NULL, MFA_AUTHN_ID_MAX, MFA_OK },
	{ "authn: id max+1", K_AUTHN, "id", NULL, MFA_AUTHN_ID_MAX + 1,
	    MFA_ERR_CORRUPT },
	{ "authn: user_id max", K_AUTHN, "user_id", NULL, MFA_USER_ID_MAX,
	    MFA_OK },
	{ "authn: user_id max+1", K_AUTHN, "user_id", NULL,
	    MFA_USER_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "authn: to max", K_AUTHN, "to", NULL, MFA_DEST_MAX, MFA_OK },
	{ "authn: to max+1", K_AUTHN, "to", NULL, MFA_DEST_MAX + 1,
	    MFA_ERR_CORRUPT },
	{ "authn: secret_sealed max", K_AUTHN, "secret_sealed", NULL,
	    RECORD_SEALED_MAX - 1, MFA_OK },
	{ "authn: secret_sealed max+1", K_AUTHN, "secret_sealed", NULL,
	    RECORD_SEALED_MAX, MFA_ERR_CORRUPT },
	{ "token: client_id max", K_TOKEN, "client_id", NULL,
	    MFA_CLIENT_ID_MAX, MFA_OK },
	{ "token: client_id max+1", K_TOKEN, "client_id", NULL,
	    MFA_CLIENT_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "token: user_id max", K_TOKEN, "user_id", NULL, MFA_USER_ID_MAX,
	    MFA_OK },
	{ "token: user_id max+1", K_TOKEN, "user_id", NULL,
	    MFA_USER_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "token: scope max", K_TOKEN, "scope", NULL, MFA_SCOPE_MAX, MFA_OK },
	{ "token: scope max+1", K_TOKEN, "scope", NULL, MFA_SCOPE_MAX + 1,
	    MFA_ERR_CORRUPT },
	{ "challenge: id max", K_CHALLENGE, "id", NULL, MFA_CHALLENGE_ID_MAX,
	    MFA_OK },
	{ "challenge: id max+1", K_CHALLENGE, "id", NULL,
	    MFA_CHALLENGE_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "challenge: factor_id max", K_CHALLENGE, "factor_id", NULL,
	    MFA_AUTHN_ID_MAX, MFA_OK },
	{ "challenge: factor_id max+1", K_CHALLENGE, "factor_id", NULL,
	    MFA_AUTHN_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "challenge: client_id max", K_CHALLENGE, "client_id", NULL,
	    MFA_CLIENT_ID_MAX, MFA_OK },
	{ "challenge: client_id max+1", K_CHALLENGE, "client_id", NULL,
	    MFA_CLIENT_ID_MAX + 1, MFA_ERR_CORRUPT },
	{ "challenge: user_id max", K_CHALLENGE, "user_id", NULL,
	    MFA_USER_ID_MAX, MFA_OK },
	{ "challenge: user_id max+1", K_CHALLENGE, "user_id", NULL,
	    MFA_USER_ID_MAX + 1, MFA_ERR_CORRUPT },
};

/* Every member of each kind, for the "missing field" rows. */
static const char *const client_names[] = { "id", "name", "types", "auth",
	"secret_sealed", "alg", "key0", "key1", "created_at", "updated_at",
	NULL };
static const char *const authn_names[] = { "id", "user_id", "type",
	"channel", "active", "to", "secret_sealed", "alg", "digits", "period",
	"last_step", "created_at", "expires_at", "client_id", "label_issuer",
	"label_user", "enroll_token", NULL };
static const char *const token_names[] = { "client_id", "user_id", "scope",
	"created_at", "expires_at", NULL };
static const char *const challenge_names[] = { "id", "factor_id",
	"client_id", "user_id", "type", "state", "attempts", "created_at",
	"updated_at", "expires_at", "purge_at", "token_hash", "has_oob",
	"oob_hash", "binding_hash", NULL };
static const char *const bucket_names[] = { "level", "refilled_at", NULL };
static const char *const *const kind_names[] = { client_names, authn_names,
	token_names, challenge_names, bucket_names };

/* Decodes "text" as kind "k", checking "rc" and out's zeroing. */
static void
check_decode(const char *row, int k, const char *text, size_t len, int rc)
{
	_Alignas(max_align_t) unsigned char out[sizeof(struct challenge_rec) +
	    sizeof(struct authn_rec) + sizeof(struct client_rec)];

	memset(out, 0xa5, sizeof(out));
	ROW_INT(row, kinds[k].dec(text, len, out), rc);
	if (rc != MFA_OK)
		ROW_TRUE(row, all_zero(out, kinds[k].size));
	/* never writes past the struct */
	ROW_INT(row, out[kinds[k].size], 0xa5);
}

static void
test_record_mutations(void)
{
	const struct mut_row *r;
	char *base, *j, row[96];
	size_t i, k;

	for (i = 0; i < NELEM(mut_rows); i++) {
		r = &mut_rows[i];
		base = kinds[r->kind].enc(kinds[r->kind].sample);
		j = mutate(base, r->field, r->val, r->len);
		ROW_TRUE(r->name, j != NULL);
		if (j != NULL)
			check_decode(r->name, r->kind, j, strlen(j), r->rc);
		free(j);
		free(base);
	}
	/* Each member of each kind missing in turn. */
	for (k = 0; k < NELEM(kinds); k++) {
		base = kinds[k].enc(kinds[k].sample);
		for (i = 0; kind_names[k][i] != NULL; i++) {
			snprintf(row, sizeof(row), "%s: missing %s",
			    kinds[k].name, kind_names[k][i]);
			j = mutate(base, kind_names[k][i], NULL, 0);
			check_decode(row, (int)k, j, strlen(j),
			    MFA_ERR_CORRUPT);
			free(j);
		}
		free(base);
	}
}

/* Texts that are not one JSON object, for every kind. */
static void
test_record_not_objects(void)
{
	static const struct {
		const char *name;
		const char *text;
	} rows[] = {
		{ "empty", "" },
		{ "not JSON", "hello" },
		{ "truncated object", "{\"v\":1," },
		{ "JSON array", "[{\"v\":1}]" },
		{ "empty array", "[]" },
		{ "JSON null", "null" },
		{ "JSON number", "1" },
		{ "JSON string", "\"v\"" },
		{ "empty object", "{}" },
		{ "only v", "{\"v\":1}" },
	};
	char row[96];
	size_t i, k;

	for (k = 0; k < NELEM(kinds); k++)
		for (i = 0; i < NELEM(rows); i++) {
			snprintf(row, sizeof(row), "%s: %s", kinds[k].name,
			    rows[i].name);
			check_decode(row, (int)k, rows[i].text,
			    strlen(rows[i].text), MFA_ERR_CORRUPT);
		}
}

#define TOK_HEAD \
    "{\"v\":1,\"client_id\":\"c\",\"user_id\":\"u\",\"scope\":\"\","
#define TOK_BIG TOK_HEAD "\"created_at\":9223372036854775808,\"expires_at\":2}"
#define TOK_MIN TOK_HEAD "\"created_at\":-9223372036854775808,\"expires_at\":2}"

/* Duplicates, trailing bytes, and input that is not NUL-terminated. */
static void
test_record_framing(void)
{
	char *j, *buf;
	size_t n;

	for (n = 0; n < NELEM(kinds); n++) {
		j = kinds[n].enc(kinds[n].sample);
		buf = malloc(strlen(j) + 16);
		T_TRUE(buf != NULL);
		/* a duplicate "v" */
		memcpy(buf, j, strlen(j) - 1);
		strcpy(buf + strlen(j) - 1, ",\"v\":1}");
		check_decode(kinds[n].name, (int)n, buf, strlen(buf),
		    MFA_ERR_CORRUPT);
		/* trailing garbage inside "len" */
		strcpy(buf, j);
		strcat(buf, " x");
		check_decode(kinds[n].name, (int)n, buf, strlen(buf),
		    MFA_ERR_CORRUPT);
		/* garbage after "len" is not read (no NUL needed) */
		check_decode(kinds[n].name, (int)n, buf, strlen(j), MFA_OK);
		/* one byte short */
		check_decode(kinds[n].name, (int)n, buf, strlen(j) - 1,
		    MFA_ERR_CORRUPT);
		free(buf);
		free(j);
	}
	/* an integer beyond int64_t is not clamped */
	check_decode("token: created_at 2^63", K_TOKEN, TOK_BIG,
	    strlen(TOK_BIG), MFA_ERR_CORRUPT);
	check_decode("token: created_at -2^63", K_TOKEN, TOK_MIN,
	    strlen(TOK_MIN), MFA_OK);
}

static void
test_record_names(void)
{
	enum oob_channel ch;
	static const struct {
		const char *s;
		int rc;
		enum oob_channel c;
	} parse[] = {
		{ "sms", MFA_OK, CHANNEL_SMS },
		{ "voice", MFA_OK, CHANNEL_VOICE },
		{ "email", MFA_OK, CHANNEL_EMAIL },
		{ "", MFA_ERR_INVALID, CHANNEL_NONE },
		{ "SMS", MFA_ERR_INVALID, CHANNEL_NONE },
		{ "sms ", MFA_ERR_INVALID, CHANNEL_NONE },
		{ "e-mail", MFA_ERR_INVALID, CHANNEL_NONE },
		{ "push", MFA_ERR_INVALID, CHANNEL_NONE },
	};
	size_t i;

	T_EQ_STR(record_authn_type_name(AUTHN_INVALID), "invalid");
	T_EQ_STR(record_authn_type_name(AUTHN_OTP), "otp");
	T_EQ_STR(record_authn_type_name(AUTHN_OOB), "oob");
	T_EQ_STR(record_authn_type_name(AUTHN_RECOVERY), "recovery-code");
	T_EQ_STR(record_authn_type_name((enum authn_type)4), "invalid");

	T_EQ_STR(record_auth_method_name(CLIENT_AUTH_INVALID), "invalid");
	T_EQ_STR(record_auth_method_name(CLIENT_AUTH_SECRET),
	    "client_secret_basic client_secret_post");
	T_EQ_STR(record_auth_method_name(CLIENT_AUTH_SECRET_JWT),
	    "client_secret_jwt");
	T_EQ_STR(record_auth_method_name(CLIENT_AUTH_PRIVATE_KEY_JWT),
	    "private_key_jwt");
	T_EQ_STR(record_auth_method_name(CLIENT_AUTH_NONE), "none");
	T_EQ_STR(record_auth_method_name((enum client_auth_method)5),
	    "invalid");

	T_EQ_STR(record_channel_name(CHANNEL_NONE), "");
	T_EQ_STR(record_channel_name(CHANNEL_SMS), "sms");
	T_EQ_STR(record_channel_name(CHANNEL_VOICE), "voice");
	T_EQ_STR(record_channel_name(CHANNEL_EMAIL), "email");
	T_EQ_STR(record_channel_name((enum oob_channel)4), "");

	for (i = 0; i < NELEM(parse); i++) {
		ch = (enum oob_channel)99;
		ROW_INT(parse[i].s, record_channel_parse(parse[i].s, &ch),
		    parse[i].rc);
		if (parse[i].rc == MFA_OK)
			ROW_INT(parse[i].s, ch, parse[i].c);
		else
			ROW_INT(parse[i].s, ch, 99); /* untouched */
	}

	T_EQ_STR(record_state_name(CHALLENGE_INVALID), "invalid");
	T_EQ_STR(record_state_name(CHALLENGE_PENDING), "pending");
	T_EQ_STR(record_state_name(CHALLENGE_VERIFIED), "verified");
	T_EQ_STR(record_state_name(CHALLENGE_EXPIRED), "expired");
	T_EQ_STR(record_state_name(CHALLENGE_LOCKED), "locked");
	T_EQ_STR(record_state_name(CHALLENGE_DENIED), "denied");
	T_EQ_STR(record_state_name((enum challenge_state)6), "invalid");

	T_EQ_STR(record_challenge_type_name(CT_OTP), "otp");
	T_EQ_STR(record_challenge_type_name(CT_OOB), "oob");
	T_EQ_STR(record_challenge_type_name(0), "invalid");
	T_EQ_STR(record_challenge_type_name(CT_ALL), "invalid");
}

static void
test_record_types(void)
{
	static const struct {
		const char *s;
		int rc;
		unsigned types;
		const char *bad;
	} rows[] = {
		{ "", MFA_OK, 0, NULL },
		{ "   ", MFA_OK, 0, NULL },
		{ "otp", MFA_OK, CT_OTP, NULL },
		{ "oob", MFA_OK, CT_OOB, NULL },
		{ "otp oob", MFA_OK, CT_ALL, NULL },
		{ "oob otp", MFA_OK, CT_ALL, NULL },
		{ "  otp\toob ", MFA_OK, CT_ALL, NULL },
		{ "\r\notp\n", MFA_OK, CT_OTP, NULL },
		{ "otp otp", MFA_OK, CT_OTP, NULL },
		{ "otp foo", MFA_ERR_INVALID, 0, "foo" },
		{ "foo otp", MFA_ERR_INVALID, 0, "foo" },
		{ "otpp", MFA_ERR_INVALID, 0, "otpp" },
		{ "ot", MFA_ERR_INVALID, 0, "ot" },
		{ "OOB", MFA_ERR_INVALID, 0, "OOB" },
		{ "otp,oob", MFA_ERR_INVALID, 0, "otp,oob" },
		{ "otp\voob", MFA_ERR_INVALID, 0, "otp\voob" },
		{ "otp\xc2\xa0oob", MFA_ERR_INVALID, 0, "otp\xc2\xa0oob" },
		{ "recovery-code", MFA_ERR_INVALID, 0, "recovery-code" },
	};
	char bad[33], small[4], out[16];
	unsigned types;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		types = 99;
		strcpy(bad, "untouched");
		ROW_INT(rows[i].s, record_types_parse(rows[i].s, &types, bad,
		    sizeof(bad)), rows[i].rc);
		if (rows[i].rc == MFA_OK) {
			ROW_INT(rows[i].s, types, rows[i].types);
			ROW_STR(rows[i].s, bad, "untouched");
		} else {
			ROW_INT(rows[i].s, types, 99); /* set only on success */
			ROW_STR(rows[i].s, bad, rows[i].bad);
		}
	}
	/* the bad word is cut to fit */
	T_EQ_INT(record_types_parse("abcdefgh", &types, small, sizeof(small)),
	    MFA_ERR_INVALID);
	T_EQ_STR(small, "abc");
	T_EQ_INT(record_types_parse("abcdefgh", &types, NULL, 0),
	    MFA_ERR_INVALID);

	record_types_format(0, out, sizeof(out));
	T_EQ_STR(out, "");
	record_types_format(CT_OTP, out, sizeof(out));
	T_EQ_STR(out, "otp");
	record_types_format(CT_OOB, out, sizeof(out));
	T_EQ_STR(out, "oob");
	record_types_format(CT_ALL, out, sizeof(out));
	T_EQ_STR(out, "otp oob");
	/* format and parse agree */
	T_EQ_INT(record_types_parse(out, &types, NULL, 0), MFA_OK);
	T_EQ_INT(types, CT_ALL);
	/* truncation keeps a NUL */
	record_types_format(CT_ALL, small, sizeof(small));
	T_EQ_STR(small, "otp");
	record_types_format(CT_ALL, out, 6);
	T_EQ_STR(out, "otp o");
	memset(out, 'Z', sizeof(out));
	record_types_format(CT_ALL, out, 0);
	T_EQ_INT(out[0], 'Z');
}

void
test_record(void)
{
	samples_init();
	test_record_roundtrip();
	test_record_roundtrip_variants();
	test_record_roundtrip_unsigned_range();
	test_record_wire();
	test_record_mutations();
	test_record_not_objects();
	test_record_framing();
	test_record_names();
	test_record_types();
}
