/*
 * record.c -- encoding and strict decoding of stored records.
 *
 * Each record kind is described by one table of fields (name, kind,
 * offset, size); one encoder and one decoder walk the tables, so a field
 * is added in one place.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "record.h"

enum field_kind {
	FK_STR,  /* char array of "size" bytes, NUL-terminated */
	FK_I64,  /* int64_t */
	FK_UINT, /* unsigned */
	FK_ENUM, /* an enum stored as int, 0..255 */
	FK_BOOL, /* bool */
	FK_HASH, /* MFA_HASH_BYTES bytes, base64url */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off;
	size_t size;
};

#define STR(t, m) { #m, FK_STR, offsetof(t, m), sizeof(((t *)0)->m) }
#define I64(t, m) { #m, FK_I64, offsetof(t, m), sizeof(int64_t) }
#define UINT(t, m) { #m, FK_UINT, offsetof(t, m), sizeof(unsigned) }
#define ENUM(t, m) { #m, FK_ENUM, offsetof(t, m), sizeof(((t *)0)->m) }
#define BOOL(t, m) { #m, FK_BOOL, offsetof(t, m), sizeof(bool) }
#define HASH(t, m) { #m, FK_HASH, offsetof(t, m), MFA_HASH_BYTES }
#define END { NULL, FK_STR, 0, 0 }

static const struct field client_fields[] = {
	STR(struct client_rec, id), STR(struct client_rec, name),
	UINT(struct client_rec, types), ENUM(struct client_rec, auth),
	STR(struct client_rec, secret_sealed), UINT(struct client_rec, alg),
	{ "key0", FK_STR, offsetof(struct client_rec, keys[0]),
	    RECORD_JWK_MAX },
	{ "key1", FK_STR, offsetof(struct client_rec, keys[1]),
	    RECORD_JWK_MAX },
	I64(struct client_rec, created_at), I64(struct client_rec, updated_at),
	END
};

static const struct field authn_fields[] = {
	STR(struct authn_rec, id), STR(struct authn_rec, user_id),
	ENUM(struct authn_rec, type), ENUM(struct authn_rec, channel),
	BOOL(struct authn_rec, active), STR(struct authn_rec, to),
	STR(struct authn_rec, secret_sealed), UINT(struct authn_rec, alg),
	UINT(struct authn_rec, digits), UINT(struct authn_rec, period),
	I64(struct authn_rec, last_step), I64(struct authn_rec, created_at),
	I64(struct authn_rec, expires_at), STR(struct authn_rec, client_id),
	STR(struct authn_rec, label_issuer), STR(struct authn_rec, label_user),
	HASH(struct authn_rec, enroll_token),
	END
};

static const struct field token_fields[] = {
	STR(struct token_rec, client_id), STR(struct token_rec, user_id),
	STR(struct token_rec, scope), I64(struct token_rec, created_at),
	I64(struct token_rec, expires_at), END
};

static const struct field challenge_fields[] = {
	STR(struct challenge_rec, id), STR(struct challenge_rec, factor_id),
	STR(struct challenge_rec, client_id),
	STR(struct challenge_rec, user_id), UINT(struct challenge_rec, type),
	ENUM(struct challenge_rec, state),
	UINT(struct challenge_rec, attempts),
	I64(struct challenge_rec, created_at),
	I64(struct challenge_rec, updated_at),
	I64(struct challenge_rec, expires_at),
	I64(struct challenge_rec, purge_at),
	HASH(struct challenge_rec, token_hash),
	BOOL(struct challenge_rec, has_oob),
	HASH(struct challenge_rec, oob_hash),
	HASH(struct challenge_rec, binding_hash), END
};

static const struct field signing_fields[] = {
	STR(struct signing_rec, kid), STR(struct signing_rec, public_b64),
	STR(struct signing_rec, seed_sealed),
	I64(struct signing_rec, created_at),
	I64(struct signing_rec, retired_at), END
};

static const struct field bucket_fields[] = {
	UINT(struct bucket, level), I64(struct bucket, refilled_at), END
};

/* Adds one field of "rec" to "obj"; returns -1 when out of memory. */
static int
record_put_field(json_t *obj, const struct field *f, const char *rec)
{
	const void *p = rec + f->off;
	char b64[sodium_base64_ENCODED_LEN(MFA_HASH_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	json_t *v = NULL;
	int e;

	switch (f->kind) {
	case FK_STR:
		v = json_stringn(p, strnlen(p, f->size - 1));
		break;
	case FK_I64:
		v = json_integer(*(const int64_t *)p);
		break;
	case FK_UINT:
		v = json_integer(*(const unsigned *)p);
		break;
	case FK_ENUM:
		memcpy(&e, p, sizeof(e));
		v = json_integer(e);
		break;
	case FK_BOOL:
		v = json_boolean(*(const bool *)p);
		break;
	case FK_HASH:
		sodium_bin2base64(b64, sizeof(b64), p, MFA_HASH_BYTES,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		v = json_string(b64);
		break;
	}
	return v == NULL ? -1 : json_object_set_new(obj, f->name, v);
}

/* Encodes "rec" by table "fields" as compact JSON; caller frees. */
static char *
record_encode(const struct field *fields, const void *rec)
{
	json_t *obj = json_object();
	const struct field *f;
	char *out = NULL;

	if (obj == NULL ||
	    json_object_set_new(obj, "v", json_integer(RECORD_VERSION)) != 0)
		goto out;
	for (f = fields; f->name != NULL; f++)
		if (record_put_field(obj, f, rec) != 0)
			goto out;
	out = json_dumps(obj, JSON_COMPACT);
out:
	json_decref(obj);
	return out;
}

/* Reads one field from "v" into "rec"; false when it does not fit. */
static bool
record_get_field(const json_t *v, const struct field *f, char *rec)
{
	void *p = rec + f->off;
	json_int_t i;
	size_t n;
	int e;

	switch (f->kind) {
	case FK_STR:
		if (!json_is_string(v) || (n = json_string_length(v)) >=
		    f->size || memchr(json_string_value(v), '\0', n) != NULL)
			return false;
		memcpy(p, json_string_value(v), n);
		((char *)p)[n] = '\0';
		return true;
	case FK_I64:
		if (!json_is_integer(v))
			return false;
		*(int64_t *)p = json_integer_value(v);
		return true;
	case FK_UINT:
	case FK_ENUM:
		if (!json_is_integer(v) || (i = json_integer_value(v)) < 0 ||
		    i > (f->kind == FK_ENUM ? 255 : (json_int_t)UINT_MAX))
			return false;
		if (f->kind == FK_UINT) {
			*(unsigned *)p = (unsigned)i;
		} else {
			e = (int)i;
			memcpy(p, &e, sizeof(e));
		}
		return true;
	case FK_BOOL:
		if (!json_is_boolean(v))
			return false;
		*(bool *)p = json_is_true(v);
		return true;
	case FK_HASH:
		return json_is_string(v) && sodium_base642bin(p,
		    MFA_HASH_BYTES, json_string_value(v),
		    json_string_length(v), NULL, &n, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
		    n == MFA_HASH_BYTES;
	}
	return false;
}

/* Strict decode by table: every field present and well-typed. */
static int
record_decode(const struct field *fields, const void *buf, size_t len,
    void *rec, size_t recsize)
{
	const struct field *f;
	json_t *obj, *v;
	int rc = MFA_ERR_CORRUPT;

	memset(rec, 0, recsize);
	obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (obj == NULL || !json_is_object(obj))
		goto out;
	v = json_object_get(obj, "v");
	if (!json_is_integer(v) || json_integer_value(v) != RECORD_VERSION)
		goto out;
	for (f = fields; f->name != NULL; f++) {
		v = json_object_get(obj, f->name);
		if (v == NULL || !record_get_field(v, f, rec))
			goto out;
	}
	rc = MFA_OK;
out:
	json_decref(obj);
	if (rc != MFA_OK)
		memset(rec, 0, recsize);
	return rc;
}

char *
record_client_encode(const struct client_rec *r)
{
	return record_encode(client_fields, r);
}

char *
record_authn_encode(const struct authn_rec *r)
{
	return record_encode(authn_fields, r);
}

char *
record_token_encode(const struct token_rec *r)
{
	return record_encode(token_fields, r);
}

char *
record_challenge_encode(const struct challenge_rec *r)
{
	return record_encode(challenge_fields, r);
}

char *
record_bucket_encode(const struct bucket *r)
{
	return record_encode(bucket_fields, r);
}

char *
record_signing_encode(const struct signing_rec *r)
{
	return record_encode(signing_fields, r);
}

int
record_signing_decode(const void *buf, size_t len, struct signing_rec *out)
{
	return record_decode(signing_fields, buf, len, out, sizeof(*out));
}

int
record_client_decode(const void *buf, size_t len, struct client_rec *out)
{
	int rc = record_decode(client_fields, buf, len, out, sizeof(*out));

	if (rc == MFA_OK && (out->auth < CLIENT_AUTH_SECRET ||
	    out->auth > CLIENT_AUTH_NONE ||
	    (out->types & ~(unsigned)CT_ALL) != 0 || out->id[0] == '\0')) {
		memset(out, 0, sizeof(*out));
		rc = MFA_ERR_CORRUPT;
	}
	return rc;
}

int
record_authn_decode(const void *buf, size_t len, struct authn_rec *out)
{
	int rc = record_decode(authn_fields, buf, len, out, sizeof(*out));

	if (rc == MFA_OK && (out->type < AUTHN_OTP ||
	    out->type > AUTHN_RECOVERY || out->channel > CHANNEL_EMAIL ||
	    (out->type == AUTHN_OOB) != (out->channel != CHANNEL_NONE))) {
		memset(out, 0, sizeof(*out));
		rc = MFA_ERR_CORRUPT;
	}
	return rc;
}

int
record_token_decode(const void *buf, size_t len, struct token_rec *out)
{
	return record_decode(token_fields, buf, len, out, sizeof(*out));
}

int
record_challenge_decode(const void *buf, size_t len,
    struct challenge_rec *out)
{
	int rc = record_decode(challenge_fields, buf, len, out, sizeof(*out));

	if (rc == MFA_OK && (out->state < CHALLENGE_PENDING ||
	    out->state > CHALLENGE_DENIED ||
	    (out->type != CT_OTP && out->type != CT_OOB))) {
		memset(out, 0, sizeof(*out));
		rc = MFA_ERR_CORRUPT;
	}
	return rc;
}

int
record_bucket_decode(const void *buf, size_t len, struct bucket *out)
{
	return record_decode(bucket_fields, buf, len, out, sizeof(*out));
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
