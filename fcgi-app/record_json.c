/*
 * record_json.c -- the JSON records of store schema 1: a compact object per
 * record carrying "v" (RECORD_JSON_VERSION) and every field of the kind's
 * table (record_fields.c), hashes in base64url.
 *
 * The store no longer writes them (record.c's binary encoding is a tenth
 * of the cost to read); they are read once, to migrate a schema-1 store
 * (store_migrate.c), and written by tests that make such stores.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "record_int.h"
#include "record_json.h"

/* Adds one field of "rec" to "obj"; returns -1 when out of memory. */
static int
record_json_put_field(json_t *obj, const struct field *f, const char *rec)
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
record_json_encode(const struct field *fields, const void *rec)
{
	json_t *obj = json_object();
	const struct field *f;
	char *out = NULL;

	if (obj == NULL ||
	    json_object_set_new(obj, "v", json_integer(RECORD_JSON_VERSION)) != 0)
		goto out;
	for (f = fields; f->name != NULL; f++)
		if (record_json_put_field(obj, f, rec) != 0)
			goto out;
	out = json_dumps(obj, JSON_COMPACT);
out:
	json_decref(obj);
	return out;
}

/* Reads one field from "v" into "rec"; false when it does not fit. */
static bool
record_json_get_field(const json_t *v, const struct field *f, char *rec)
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
record_json_decode(const struct field *fields, const void *buf, size_t len,
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
	if (!json_is_integer(v) || json_integer_value(v) != RECORD_JSON_VERSION)
		goto out;
	for (f = fields; f->name != NULL; f++) {
		v = json_object_get(obj, f->name);
		if (v == NULL || !record_json_get_field(v, f, rec))
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
record_json_client_encode(const struct client_rec *r)
{
	return record_json_encode(record_client_fields, r);
}

char *
record_json_authn_encode(const struct authn_rec *r)
{
	return record_json_encode(record_authn_fields, r);
}

char *
record_json_token_encode(const struct token_rec *r)
{
	return record_json_encode(record_token_fields, r);
}

char *
record_json_challenge_encode(const struct challenge_rec *r)
{
	return record_json_encode(record_challenge_fields, r);
}

char *
record_json_bucket_encode(const struct bucket *r)
{
	return record_json_encode(record_bucket_fields, r);
}

char *
record_json_signing_encode(const struct signing_rec *r)
{
	return record_json_encode(record_signing_fields, r);
}

int
record_json_signing_decode(const void *buf, size_t len,
    struct signing_rec *out)
{
	return record_json_decode(record_signing_fields, buf, len, out, sizeof(*out));
}

int
record_json_client_decode(const void *buf, size_t len,
    struct client_rec *out)
{
	int rc = record_json_decode(record_client_fields, buf, len, out,
	    sizeof(*out));

	return record_checked(rc, record_client_valid(out), out, sizeof(*out));
}

int
record_json_authn_decode(const void *buf, size_t len,
    struct authn_rec *out)
{
	int rc = record_json_decode(record_authn_fields, buf, len, out,
	    sizeof(*out));

	return record_checked(rc, record_authn_valid(out), out, sizeof(*out));
}

int
record_json_token_decode(const void *buf, size_t len,
    struct token_rec *out)
{
	return record_json_decode(record_token_fields, buf, len, out, sizeof(*out));
}

int
record_json_challenge_decode(const void *buf, size_t len,
    struct challenge_rec *out)
{
	int rc = record_json_decode(record_challenge_fields, buf, len, out,
	    sizeof(*out));

	return record_checked(rc, record_challenge_valid(out), out, sizeof(*out));
}

int
record_json_bucket_decode(const void *buf, size_t len,
    struct bucket *out)
{
	return record_json_decode(record_bucket_fields, buf, len, out, sizeof(*out));
}

