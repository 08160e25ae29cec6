/*
 * req.c -- the request as handlers see it: one field table with a byte
 * bound per field, filled from a form-urlencoded or JSON body.
 *
 * Both body kinds end in the same checks (req_field_set): at most one
 * occurrence of a key, a length bound, valid UTF-8, no control byte.
 * RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if
 * they were omitted from the request", so an empty value leaves its field
 * NULL, but still counts when looking for duplicates.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "form.h"
#include "req.h"

/* Longest key quoted in an error message (same rule as form.c). */
#define REQ_ERR_NAME_MAX 32

static const struct req_field_spec req_fields[F__COUNT] = {
	[F_CLIENT_ID] = { "client_id", MFA_CLIENT_ID_MAX, false },
	[F_CLIENT_SECRET] = { "client_secret", 256, false },
	[F_CLIENT_ASSERTION] = { "client_assertion", 8192, false },
	[F_CLIENT_ASSERTION_TYPE] = { "client_assertion_type", 128, false },
	[F_MFA_TOKEN] = { "mfa_token", 128, false },
	[F_CHALLENGE_TYPE] = { "challenge_type", 64, false },
	[F_AUTHENTICATOR_ID] = { "authenticator_id", MFA_AUTHN_ID_MAX, false },
	[F_USER_ID] = { "user_id", MFA_USER_ID_MAX, false },
	[F_GRANT_TYPE] = { "grant_type", 128, false },
	[F_OTP] = { "otp", 16, false },
	[F_OOB_CODE] = { "oob_code", 128, false },
	[F_BINDING_CODE] = { "binding_code", 16, false },
	[F_RECOVERY_CODE] = { "recovery_code", 64, false },
	[F_AUTHENTICATOR_TYPES] = { "authenticator_types", 64, true },
	[F_OOB_CHANNELS] = { "oob_channels", 64, true },
	[F_OOB_CHANNEL] = { "oob_channel", 16, false },
	[F_PHONE_NUMBER] = { "phone_number", 32, false },
	[F_EMAIL] = { "email", MFA_DEST_MAX, false },
	[F_SCOPE] = { "scope", MFA_SCOPE_MAX, false },
	[F_CODE] = { "code", 16, false },
	[F_TYPE] = { "type", 32, false },
	[F_TOTP_ISSUER] = { "totp_issuer", 128, false },
	[F_TOTP_USER] = { "totp_user", 128, false },
	[F_AUDIENCE] = { "audience", 256, false },
	[F_SMS_TEMPLATE] = { "sms_template", 320, false },
};

static const struct {
	const char *name;
	enum http_method method;
} req_methods[] = {
	{ "GET", HTTP_GET },
	{ "POST", HTTP_POST },
	{ "DELETE", HTTP_DELETE },
	{ "HEAD", HTTP_HEAD },
	{ "PUT", HTTP_PUT },
	{ "PATCH", HTTP_PATCH },
	{ "OPTIONS", HTTP_OPTIONS },
};

/* State of one form body decode. */
struct req_form {
	struct mfa_req *req;
	json_t *seen; /* every key met so far, as a hash set */
	char *err;
	size_t errlen;
};

/*
 * The spec of field "f": its wire name, its bound in bytes and whether it
 * is a list. NULL when "f" is not a field.
 */
const struct req_field_spec *
req_field_spec(enum req_field f)
{

	if ((int)f < 0 || f >= F__COUNT)
		return NULL;
	return &req_fields[f];
}

static void
req_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the sentence "fmt" into "err" ("err" may be NULL). */
static void
req_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copies "name" for an error message: bounded, '?' for non-printables. */
static void
req_showname(char *out, const char *name, size_t len)
{
	size_t i;

	if (len > REQ_ERR_NAME_MAX)
		len = REQ_ERR_NAME_MAX;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[len] = '\0';
}

/* Whether "s" ("len" bytes) is valid UTF-8 (jansson's validator). */
static bool
req_is_utf8(const char *s, size_t len)
{
	json_t *j;

	if ((j = json_stringn(s, len)) == NULL)
		return false;
	json_decref(j);
	return true;
}

/* Whether "s" ("len" bytes) holds a C0 control byte, NUL or DEL. */
static bool
req_has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Frees and wipes field "f". */
static void
req_field_clear(struct mfa_req *req, enum req_field f)
{

	if (req->field[f] != NULL) {
		sodium_memzero(req->field[f], req->field_len[f]);
		free(req->field[f]);
	}
	req->field[f] = NULL;
	req->field_len[f] = 0;
}

/*
 * Copies "s" ("len" bytes) into a new string; a list field has its items
 * re-joined with single spaces (leading, trailing and repeated spaces
 * dropped). Returns NULL on allocation failure; "*outlen" is the length.
 */
static char *
req_field_copy(const char *s, size_t len, bool is_list, size_t *outlen)
{
	char *v;
	size_t i, n = 0;

	if ((v = malloc(len + 1)) == NULL)
		return NULL;
	if (!is_list) {
		memcpy(v, s, len);
		n = len;
	} else {
		for (i = 0; i < len; i++) {
			if (s[i] == ' ' && (n == 0 || v[n - 1] == ' '))
				continue;
			v[n++] = s[i];
		}
		if (n > 0 && v[n - 1] == ' ')
			n--;
	}
	v[n] = '\0';
	*outlen = n;
	return v;
}

/*
 * Checks value "s" ("len" bytes) of field "f" and stores a copy. An empty
 * value (or a list of no items) leaves the field absent. Returns MFA_OK,
 * MFA_ERR_INVALID (with "err") or MFA_ERR_NOMEM.
 */
static int
req_field_set(struct mfa_req *req, enum req_field f, const char *s,
    size_t len, char *err, size_t errlen)
{
	const struct req_field_spec *spec = &req_fields[f];
	char *v;
	size_t n;

	if (len > spec->max_len) {
		req_seterr(err, errlen,
		    "parameter '%s' is longer than %zu bytes", spec->name,
		    spec->max_len);
		return MFA_ERR_INVALID;
	}
	if (!req_is_utf8(s, len)) {
		req_seterr(err, errlen, "parameter '%s' is not valid UTF-8",
		    spec->name);
		return MFA_ERR_INVALID;
	}
	if (req_has_control(s, len)) {
		req_seterr(err, errlen,
		    "parameter '%s' contains a control character", spec->name);
		return MFA_ERR_INVALID;
	}
	req_field_clear(req, f);
	if (len == 0)
		return MFA_OK;
	if ((v = req_field_copy(s, len, spec->is_list, &n)) == NULL) {
		req_seterr(err, errlen, "out of memory");
		return MFA_ERR_NOMEM;
	}
	if (n == 0) {
		sodium_memzero(v, len + 1);
		free(v);
		return MFA_OK;
	}
	req->field[f] = v;
	req->field_len[f] = n;
	return MFA_OK;
}

/* The field named "name" ("len" bytes) or F__COUNT. */
static enum req_field
req_field_lookup(const char *name, size_t len)
{
	size_t f;

	for (f = 0; f < F__COUNT; f++)
		if (strlen(req_fields[f].name) == len &&
		    memcmp(req_fields[f].name, name, len) == 0)
			return (enum req_field)f;
	return F__COUNT;
}

/* form_pair_fn: one decoded pair of a form body. */
static int
req_form_pair(void *arg, const char *name, size_t namelen, const char *value,
    size_t valuelen)
{
	struct req_form *st = arg;
	char shown[REQ_ERR_NAME_MAX + 1];
	enum req_field f;

	if (json_object_getn(st->seen, name, namelen) != NULL) {
		req_showname(shown, name, namelen);
		req_seterr(st->err, st->errlen, "duplicate parameter: %s",
		    shown);
		return MFA_ERR_INVALID;
	}
	if (json_object_setn_new_nocheck(st->seen, name, namelen,
	    json_null()) != 0) {
		req_seterr(st->err, st->errlen, "out of memory");
		return MFA_ERR_NOMEM;
	}
	if ((f = req_field_lookup(name, namelen)) == F__COUNT)
		return MFA_OK; /* unknown keys are ignored */
	return req_field_set(st->req, f, value, valuelen, st->err,
	    st->errlen);
}

static int
req_parse_form(struct mfa_req *req, const char *body, size_t len, char *err,
    size_t errlen)
{
	struct req_form st;
	int rc;

	st.req = req;
	st.err = err;
	st.errlen = errlen;
	if ((st.seen = json_object()) == NULL) {
		req_seterr(err, errlen, "out of memory");
		return MFA_ERR_NOMEM;
	}
	rc = form_decode(body, len, req_form_pair, &st, err, errlen);
	if (rc == MFA_ERR_NOMEM)
		req_seterr(err, errlen, "out of memory");
	json_decref(st.seen);
	return rc;
}

/*
 * Joins the strings of array "a" with single spaces into a fresh buffer
 * ("*outlen" bytes, NUL-terminated) for list field "f". Returns MFA_OK,
 * MFA_ERR_INVALID (not all strings, or longer than the bound) or
 * MFA_ERR_NOMEM.
 */
static int
req_json_join(enum req_field f, const json_t *a, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	const struct req_field_spec *spec = &req_fields[f];
	const json_t *item;
	size_t i, n = 0, total = 0;
	char *buf;

	json_array_foreach(a, i, item) {
		if (!json_is_string(item)) {
			req_seterr(err, errlen, "parameter '%s' must be a "
			    "string or an array of strings", spec->name);
			return MFA_ERR_INVALID;
		}
		total += json_string_length(item) + (i > 0);
		if (total > spec->max_len) {
			req_seterr(err, errlen,
			    "parameter '%s' is longer than %zu bytes",
			    spec->name, spec->max_len);
			return MFA_ERR_INVALID;
		}
	}
	if ((buf = malloc(total + 1)) == NULL) {
		req_seterr(err, errlen, "out of memory");
		return MFA_ERR_NOMEM;
	}
	json_array_foreach(a, i, item) {
		if (i > 0)
			buf[n++] = ' ';
		memcpy(buf + n, json_string_value(item),
		    json_string_length(item));
		n += json_string_length(item);
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return MFA_OK;
}

static int
req_parse_json(struct mfa_req *req, const char *body, size_t len, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	char *joined;
	size_t f, n;
	int rc = MFA_OK;

	/*
	 * JSON_ALLOW_NUL lets "\u0000" through the parser so it is refused
	 * below with the field's name, and only in a field we use.
	 */
	root = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		req_seterr(err, errlen, "request body is not valid JSON: %s at "
		    "line %d column %d", jerr.text, jerr.line, jerr.column);
		return MFA_ERR_INVALID;
	}
	if (!json_is_object(root)) {
		req_seterr(err, errlen, "request body must be a JSON object");
		rc = MFA_ERR_INVALID;
		goto out;
	}
	/* One lookup per known field: unknown keys are never looked at. */
	for (f = 0; f < F__COUNT; f++) {
		if ((v = json_object_get(root, req_fields[f].name)) == NULL)
			continue;
		if (json_is_string(v)) {
			rc = req_field_set(req, f, json_string_value(v),
			    json_string_length(v), err, errlen);
		} else if (json_is_array(v) && req_fields[f].is_list) {
			rc = req_json_join(f, v, &joined, &n, err, errlen);
			if (rc != MFA_OK)
				goto out;
			rc = req_field_set(req, f, joined, n, err, errlen);
			sodium_memzero(joined, n);
			free(joined);
		} else {
			req_seterr(err, errlen, req_fields[f].is_list ?
			    "parameter '%s' must be a string or an array of "
			    "strings" : "parameter '%s' must be a string",
			    req_fields[f].name);
			rc = MFA_ERR_INVALID;
		}
		if (rc != MFA_OK)
			goto out;
	}
	req->body_is_json = true;
out:
	json_decref(root);
	return rc;
}

/*
 * Fills the fields of "req" (fresh from req_init) from "body" ("len"
 * bytes, borrowed; may be NULL when len is 0) of kind "ctype". Form keys
 * may appear once each, known or not; JSON duplicates are refused by the
 * parser. A list field takes a space-separated string (or, in JSON, an
 * array of strings) and holds its items joined by single spaces; an empty
 * value or an empty list leaves the field NULL. Returns MFA_OK,
 * MFA_ERR_INVALID with a sentence in "err" (see req.h), or MFA_ERR_NOMEM.
 * On error no field is left set.
 */
int
req_parse_body(struct mfa_req *req, enum req_ctype ctype, const char *body,
    size_t len, char *err, size_t errlen)
{
	size_t f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len == 0)
		return MFA_OK;
	switch (ctype) {
	case CTYPE_FORM:
		rc = req_parse_form(req, body, len, err, errlen);
		break;
	case CTYPE_JSON:
		rc = req_parse_json(req, body, len, err, errlen);
		break;
	default:
		req_seterr(err, errlen, "unsupported content type");
		rc = MFA_ERR_INVALID;
		break;
	}
	if (rc != MFA_OK) {
		for (f = 0; f < F__COUNT; f++)
			req_field_clear(req, f);
		req->body_is_json = false;
	}
	return rc;
}

/*
 * Whether "s" ("len" bytes) equals "lit" ignoring ASCII case.
 */
static bool
req_is_word(const char *s, size_t len, const char *lit)
{

	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static bool
req_is_ows(char c)
{

	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static bool
req_is_tchar(char c)
{

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/*
 * Reads parameter "name=value" at "*pp" (RFC 9110 §5.6.6: value a token
 * or a quoted-string) and says whether it is acceptable: only a charset
 * parameter is checked, and it must be utf-8. Returns -1 when malformed,
 * 0 when unacceptable, 1 when fine; advances "*pp".
 */
static int
req_ctype_param(const char **pp)
{
	const char *p = *pp, *name, *val;
	size_t namelen;
	char v[8]; /* unquoted value, enough to tell "utf-8" */
	size_t vn = 0;
	bool toolong = false;

	for (name = p; req_is_tchar(*p); p++)
		continue;
	if ((namelen = (size_t)(p - name)) == 0 || *p++ != '=')
		return -1;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && *++p == '\0')
				return -1;
			if (((unsigned char)*p < 0x20 && *p != '\t') ||
			    *p == 0x7f)
				return -1;
			if (vn < sizeof(v))
				v[vn++] = *p;
			else
				toolong = true;
		}
		p++;
	} else {
		for (val = p; req_is_tchar(*p); p++)
			if (vn < sizeof(v))
				v[vn++] = *p;
			else
				toolong = true;
		if (p == val)
			return -1;
	}
	*pp = p;
	if (!req_is_word(name, namelen, "charset"))
		return 1;
	return !toolong && req_is_word(v, vn, "utf-8");
}

/*
 * Classifies the Content-Type value "ctype" (may be NULL): the media type
 * is compared without regard to case; parameters may follow, each after
 * ';' and optional whitespace; a charset parameter must say utf-8
 * (quoted or not, any case). Other parameters are ignored. Returns
 * CTYPE_NONE for NULL or "", CTYPE_FORM, CTYPE_JSON, or CTYPE_OTHER for
 * any other or malformed value.
 */
enum req_ctype
req_ctype_parse(const char *ctype)
{
	const char *p, *mt;
	enum req_ctype kind;
	size_t mtlen;

	if (ctype == NULL || *ctype == '\0')
		return CTYPE_NONE;
	for (p = ctype; req_is_ows(*p); p++)
		continue;
	for (mt = p; req_is_tchar(*p) || *p == '/'; p++)
		continue;
	mtlen = (size_t)(p - mt);
	if (req_is_word(mt, mtlen, "application/json"))
		kind = CTYPE_JSON;
	else if (req_is_word(mt, mtlen, "application/x-www-form-urlencoded"))
		kind = CTYPE_FORM;
	else
		return CTYPE_OTHER;

	for (;;) {
		while (req_is_ows(*p))
			p++;
		if (*p == '\0')
			return kind;
		if (*p++ != ';')
			return CTYPE_OTHER;
		while (req_is_ows(*p))
			p++;
		if (*p == ';' || *p == '\0')
			continue; /* empty parameter */
		if (req_ctype_param(&p) <= 0)
			return CTYPE_OTHER;
	}
}

/* Initializes "req" as an empty request: no method, no path, no fields. */
void
req_init(struct mfa_req *req)
{

	memset(req, 0, sizeof(*req));
	req->method = HTTP_OTHER;
}

/*
 * Wipes (sodium_memzero) and frees every field value and the
 * authorization header (malloc'd, owned by the request), then leaves
 * "req" as req_init does. Accepts NULL.
 */
void
req_free(struct mfa_req *req)
{
	size_t f;

	if (req == NULL)
		return;
	for (f = 0; f < F__COUNT; f++)
		req_field_clear(req, f);
	if (req->authorization != NULL) {
		sodium_memzero(req->authorization,
		    strlen(req->authorization));
		free(req->authorization);
	}
	req_init(req);
}

/* Value of field "f" or NULL (absent, or not a field). Borrowed. */
const char *
req_get(const struct mfa_req *req, enum req_field f)
{

	if (req == NULL || (int)f < 0 || f >= F__COUNT)
		return NULL;
	return req->field[f];
}

/*
 * Maps the REQUEST_METHOD value "s" (exact upper case; may be NULL) to
 * its enum; anything else is HTTP_OTHER.
 */
enum http_method
req_method_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return HTTP_OTHER;
	for (i = 0; i < sizeof(req_methods) / sizeof(req_methods[0]); i++)
		if (strcmp(s, req_methods[i].name) == 0)
			return req_methods[i].method;
	return HTTP_OTHER;
}

/* Names method "m" ("GET", ...); "OTHER" for HTTP_OTHER. Never NULL. */
const char *
req_method_name(enum http_method m)
{
	size_t i;

	for (i = 0; i < sizeof(req_methods) / sizeof(req_methods[0]); i++)
		if (req_methods[i].method == m)
			return req_methods[i].name;
	return "OTHER";
}
