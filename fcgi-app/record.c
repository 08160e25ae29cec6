/*
 * record.c -- the binary encoding of the store's records, and the names of
 * their enums.
 *
 * A record is: the format byte (RECORD_FORMAT), the kind byte, then every
 * field of the kind's table (record_fields.c) in order:
 *
 *   string   u16 little-endian length, then that many bytes (no NUL;
 *            shorter than the struct's array)
 *   int64    8 bytes, little-endian two's complement
 *   unsigned 4 bytes, little-endian
 *   enum     1 byte
 *   bool     1 byte, 0 or 1
 *   hash     MFA_HASH_BYTES bytes
 *
 * and nothing after the last field. Decoding is strict: any other length,
 * format, kind or value is MFA_ERR_CORRUPT and leaves the struct zeroed.
 * A record is read on every request (the client, the mfa_token, the
 * user's authenticators), so the layout is fixed and read in one pass
 * without allocation; record_json.c keeps the JSON of schema 1, which
 * cost ten times as much to read.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "record_int.h"

/* The kind byte of each record kind. */
enum record_kind {
	RK_CLIENT = 'c',
	RK_AUTHN = 'a',
	RK_TOKEN = 't',
	RK_CHALLENGE = 'h',
	RK_SIGNING = 's',
	RK_BUCKET = 'b',
};

/* Appends "n" bytes at "*pos" when they fit; false when not. */
static bool
record_put(unsigned char *out, size_t *pos, const void *p, size_t n)
{
	if (n > RECORD_ENC_MAX - *pos)
		return false;
	memcpy(out + *pos, p, n);
	*pos += n;
	return true;
}

/* Appends the "n" low bytes of "v", least significant first. */
static bool
record_put_le(unsigned char *out, size_t *pos, uint64_t v, size_t n)
{
	unsigned char b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return record_put(out, pos, b, n);
}

/* Appends one field of "rec". */
static bool
record_put_field(unsigned char *out, size_t *pos, const struct field *f,
    const char *rec)
{
	const void *p = rec + f->off;
	size_t n;
	int e;

	switch (f->kind) {
	case FK_STR:
		if ((n = strnlen(p, f->size)) == f->size)
			return false; /* not NUL-terminated: never cut */
		return record_put_le(out, pos, n, 2) &&
		    record_put(out, pos, p, n);
	case FK_I64:
		return record_put_le(out, pos,
		    (uint64_t)*(const int64_t *)p, 8);
	case FK_UINT:
		return record_put_le(out, pos, *(const unsigned *)p, 4);
	case FK_ENUM:
		memcpy(&e, p, sizeof(e));
		return e >= 0 && e <= UCHAR_MAX &&
		    record_put_le(out, pos, (uint64_t)e, 1);
	case FK_BOOL:
		return record_put_le(out, pos, *(const bool *)p ? 1 : 0, 1);
	case FK_HASH:
		return record_put(out, pos, p, MFA_HASH_BYTES);
	}
	return false;
}

/* Encodes "rec" by table "fields"; the length, or 0 when it cannot. */
static size_t
record_encode(const struct field *fields, enum record_kind kind,
    const void *rec, unsigned char *out)
{
	const struct field *f;
	size_t pos = 0;

	out[pos++] = RECORD_FORMAT;
	out[pos++] = (unsigned char)kind;
	for (f = fields; f->name != NULL; f++)
		if (!record_put_field(out, &pos, f, rec))
			return 0;
	return pos;
}

/* The "n" bytes at "*pos" if there are that many; NULL when not. */
static const unsigned char *
record_take(const unsigned char *in, size_t len, size_t *pos, size_t n)
{
	const unsigned char *p = in + *pos;

	if (n > len - *pos)
		return NULL;
	*pos += n;
	return p;
}

/* Reads an "n"-byte little-endian number into "*v". */
static bool
record_take_le(const unsigned char *in, size_t len, size_t *pos, size_t n,
    uint64_t *v)
{
	const unsigned char *p = record_take(in, len, pos, n);
	size_t i;

	if (p == NULL)
		return false;
	*v = 0;
	for (i = n; i-- > 0;)
		*v = *v << 8 | p[i];
	return true;
}

/* Reads one field into "rec"; false when it is short or out of range. */
static bool
record_get_field(const unsigned char *in, size_t len, size_t *pos,
    const struct field *f, char *rec)
{
	void *p = rec + f->off;
	const unsigned char *s;
	uint64_t v;
	int e;

	switch (f->kind) {
	case FK_STR:
		if (!record_take_le(in, len, pos, 2, &v) || v >= f->size ||
		    (s = record_take(in, len, pos, (size_t)v)) == NULL ||
		    memchr(s, '\0', (size_t)v) != NULL)
			return false;
		memcpy(p, s, (size_t)v); /* the rest of the array is 0 */
		return true;
	case FK_I64:
		if (!record_take_le(in, len, pos, 8, &v))
			return false;
		*(int64_t *)p = (int64_t)v;
		return true;
	case FK_UINT:
		if (!record_take_le(in, len, pos, 4, &v))
			return false;
		*(unsigned *)p = (unsigned)v;
		return true;
	case FK_ENUM:
		if (!record_take_le(in, len, pos, 1, &v))
			return false;
		e = (int)v;
		memcpy(p, &e, sizeof(e));
		return true;
	case FK_BOOL:
		if (!record_take_le(in, len, pos, 1, &v) || v > 1)
			return false;
		*(bool *)p = v == 1;
		return true;
	case FK_HASH:
		if ((s = record_take(in, len, pos, MFA_HASH_BYTES)) == NULL)
			return false;
		memcpy(p, s, MFA_HASH_BYTES);
		return true;
	}
	return false;
}

/* Strict decode by table: format, kind, every field, nothing more. */
static int
record_decode(const struct field *fields, enum record_kind kind,
    const void *buf, size_t len, void *rec, size_t recsize)
{
	const unsigned char *in = buf;
	const struct field *f;
	size_t pos = 2;

	memset(rec, 0, recsize);
	if (len < 2 || in[0] != RECORD_FORMAT || in[1] != (unsigned char)kind)
		return MFA_ERR_CORRUPT;
	for (f = fields; f->name != NULL; f++) {
		if (!record_get_field(in, len, &pos, f, rec)) {
			memset(rec, 0, recsize);
			return MFA_ERR_CORRUPT;
		}
	}
	if (pos != len) {
		memset(rec, 0, recsize);
		return MFA_ERR_CORRUPT;
	}
	return MFA_OK;
}

size_t
record_client_encode(const struct client_rec *r,
    unsigned char out[RECORD_ENC_MAX])
{
	if (!record_client_valid(r))
		return 0; /* it would read back as corrupt */
	return record_encode(record_client_fields, RK_CLIENT, r, out);
}

size_t
record_authn_encode(const struct authn_rec *r,
    unsigned char out[RECORD_ENC_MAX])
{
	if (!record_authn_valid(r))
		return 0; /* it would read back as corrupt */
	return record_encode(record_authn_fields, RK_AUTHN, r, out);
}

size_t
record_token_encode(const struct token_rec *r,
    unsigned char out[RECORD_ENC_MAX])
{
	return record_encode(record_token_fields, RK_TOKEN, r, out);
}

size_t
record_challenge_encode(const struct challenge_rec *r,
    unsigned char out[RECORD_ENC_MAX])
{
	if (!record_challenge_valid(r))
		return 0; /* it would read back as corrupt */
	return record_encode(record_challenge_fields, RK_CHALLENGE, r, out);
}

size_t
record_bucket_encode(const struct bucket *r,
    unsigned char out[RECORD_ENC_MAX])
{
	return record_encode(record_bucket_fields, RK_BUCKET, r, out);
}

size_t
record_signing_encode(const struct signing_rec *r,
    unsigned char out[RECORD_ENC_MAX])
{
	return record_encode(record_signing_fields, RK_SIGNING, r, out);
}

int
record_signing_decode(const void *buf, size_t len, struct signing_rec *out)
{
	return record_decode(record_signing_fields, RK_SIGNING, buf, len, out,
	    sizeof(*out));
}

int
record_client_decode(const void *buf, size_t len, struct client_rec *out)
{
	int rc = record_decode(record_client_fields, RK_CLIENT, buf, len, out,
	    sizeof(*out));

	return record_checked(rc, record_client_valid(out), out, sizeof(*out));
}

int
record_authn_decode(const void *buf, size_t len, struct authn_rec *out)
{
	int rc = record_decode(record_authn_fields, RK_AUTHN, buf, len, out,
	    sizeof(*out));

	return record_checked(rc, record_authn_valid(out), out, sizeof(*out));
}

int
record_token_decode(const void *buf, size_t len, struct token_rec *out)
{
	return record_decode(record_token_fields, RK_TOKEN, buf, len, out,
	    sizeof(*out));
}

int
record_challenge_decode(const void *buf, size_t len,
    struct challenge_rec *out)
{
	int rc = record_decode(record_challenge_fields, RK_CHALLENGE, buf, len,
	    out, sizeof(*out));

	return record_checked(rc, record_challenge_valid(out), out, sizeof(*out));
}

int
record_bucket_decode(const void *buf, size_t len, struct bucket *out)
{
	return record_decode(record_bucket_fields, RK_BUCKET, buf, len, out,
	    sizeof(*out));
}

const char *
record_authn_type_name(enum authn_type t)
{
	switch (t) {
	case AUTHN_OTP:
		return "otp";
	case AUTHN_OOB:
		return "oob";
	case AUTHN_RECOVERY:
		return "recovery-code";
	default:
		return "invalid";
	}
}

const char *
record_auth_method_name(enum client_auth_method m)
{
	switch (m) {
	case CLIENT_AUTH_SECRET:
		return "client_secret_basic client_secret_post";
	case CLIENT_AUTH_SECRET_JWT:
		return "client_secret_jwt";
	case CLIENT_AUTH_PRIVATE_KEY_JWT:
		return "private_key_jwt";
	case CLIENT_AUTH_NONE:
		return "none";
	default:
		return "invalid";
	}
}

static const char *const channel_names[] = { "", "sms", "voice", "email" };

const char *
record_channel_name(enum oob_channel c)
{
	return c <= CHANNEL_EMAIL ? channel_names[c] : "";
}

int
record_channel_parse(const char *s, enum oob_channel *out)
{
	int c;

	for (c = CHANNEL_SMS; c <= CHANNEL_EMAIL; c++)
		if (strcmp(s, channel_names[c]) == 0) {
			*out = (enum oob_channel)c;
			return MFA_OK;
		}
	return MFA_ERR_INVALID;
}

const char *
record_state_name(enum challenge_state s)
{
	static const char *const names[] = { "invalid", "pending", "verified",
		"expired", "locked", "denied" };

	return s <= CHALLENGE_DENIED ? names[s] : "invalid";
}

const char *
record_challenge_type_name(unsigned type)
{
	return type == CT_OTP ? "otp" : type == CT_OOB ? "oob" : "invalid";
}

/* Splits on ASCII whitespace; each word must be "otp" or "oob". */
int
record_types_parse(const char *s, unsigned *out, char *bad, size_t badlen)
{
	const char *p = s, *w;
	unsigned types = 0;
	size_t n;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		for (w = p; *p != '\0' && *p != ' ' && *p != '\t' &&
		    *p != '\n' && *p != '\r'; p++)
			;
		n = (size_t)(p - w);
		if (n == 3 && strncmp(w, "otp", 3) == 0) {
			types |= CT_OTP;
		} else if (n == 3 && strncmp(w, "oob", 3) == 0) {
			types |= CT_OOB;
		} else {
			if (badlen > 0) {
				n = n < badlen - 1 ? n : badlen - 1;
				memcpy(bad, w, n);
				bad[n] = '\0';
			}
			return MFA_ERR_INVALID;
		}
	}
	*out = types;
	return MFA_OK;
}

void
record_types_format(unsigned types, char *out, size_t outlen)
{
	const char *sep = "";

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (types & CT_OTP) {
		strncat(out, "otp", outlen - strlen(out) - 1);
		sep = " ";
	}
	if (types & CT_OOB) {
		strncat(out, sep, outlen - strlen(out) - 1);
		strncat(out, "oob", outlen - strlen(out) - 1);
	}
}
