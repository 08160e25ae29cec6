/*
 * test-request.c -- the request field table, Content-Type and method
 * parsing, and req_parse_body on form and JSON bodies: accepted values,
 * every rejection sentence, bounds of every field in both encodings.
 */
#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "test.h"

#define NONE F__COUNT

/* One body case: up to three expected fields, the rest must be NULL. */
struct body_case {
	enum req_ctype ctype;
	const char *body;
	int rc;
	const char *err; /* exact sentence; "" on success */
	struct {
		enum req_field f;
		const char *v;
	} want[3];
};

static void
check_body(const struct body_case *c, size_t len, int line)
{
	struct mfa_req req;
	char err[256];
	const char *want[F__COUNT];
	size_t f, i;
	int rc;

	req_init(&req);
	memset(err, 'X', sizeof(err));
	rc = req_parse_body(&req, c->ctype, c->body, len, err, sizeof(err));
	test_report(rc == c->rc, __FILE__, line, "rc %d, want %d (%s)", rc,
	    c->rc, err);
	test_report(strcmp(err, c->err) == 0, __FILE__, line,
	    "err \"%s\", want \"%s\"", err, c->err);

	memset(want, 0, sizeof(want));
	for (i = 0; i < 3; i++)
		if (c->want[i].v != NULL)
			want[c->want[i].f] = c->want[i].v;
	for (f = 0; f < F__COUNT; f++) {
		const char *got = req_get(&req, f);

		if (want[f] == NULL)
			test_report(got == NULL, __FILE__, line,
			    "field %s: \"%s\", want NULL",
			    req_field_spec(f)->name, got);
		else {
			test_report(got != NULL && strcmp(got, want[f]) == 0,
			    __FILE__, line, "field %s: \"%s\", want \"%s\"",
			    req_field_spec(f)->name, got ? got : "(null)",
			    want[f]);
			test_report(got != NULL &&
			    req.field_len[f] == strlen(want[f]), __FILE__,
			    line, "field %s: length", req_field_spec(f)->name);
		}
	}
	test_report(req.body_is_json ==
	    (c->ctype == CTYPE_JSON && c->rc == MFA_OK && len > 0), __FILE__,
	    line, "body_is_json");
	req_free(&req);
}

static void
test_request_spec(void)
{
	static const struct {
		enum req_field f;
		const char *name;
		size_t max;
		bool list;
	} t[] = {
		{ F_CLIENT_ID, "client_id", 64, false },
		{ F_CLIENT_SECRET, "client_secret", 256, false },
		{ F_CLIENT_ASSERTION, "client_assertion", 8192, false },
		{ F_CLIENT_ASSERTION_TYPE, "client_assertion_type", 128,
		    false },
		{ F_MFA_TOKEN, "mfa_token", 128, false },
		{ F_CHALLENGE_TYPE, "challenge_type", 64, false },
		{ F_AUTHENTICATOR_ID, "authenticator_id", 64, false },
		{ F_USER_ID, "user_id", 128, false },
		{ F_GRANT_TYPE, "grant_type", 128, false },
		{ F_OTP, "otp", 16, false },
		{ F_OOB_CODE, "oob_code", 128, false },
		{ F_BINDING_CODE, "binding_code", 16, false },
		{ F_RECOVERY_CODE, "recovery_code", 64, false },
		{ F_AUTHENTICATOR_TYPES, "authenticator_types", 64, true },
		{ F_OOB_CHANNELS, "oob_channels", 64, true },
		{ F_OOB_CHANNEL, "oob_channel", 16, false },
		{ F_PHONE_NUMBER, "phone_number", 32, false },
		{ F_EMAIL, "email", 254, false },
		{ F_SCOPE, "scope", 256, false },
		{ F_CODE, "code", 16, false },
		{ F_TYPE, "type", 32, false },
		{ F_TOTP_ISSUER, "totp_issuer", 128, false },
		{ F_TOTP_USER, "totp_user", 128, false },
		{ F_AUDIENCE, "audience", 256, false },
		{ F_SMS_TEMPLATE, "sms_template", 320, false },
	};
	const struct req_field_spec *s;
	size_t i;

	T_EQ_INT(sizeof(t) / sizeof(t[0]), F__COUNT);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_EQ_INT(t[i].f, i);
		s = req_field_spec(t[i].f);
		T_TRUE(s != NULL);
		if (s == NULL)
			continue;
		T_EQ_STR(s->name, t[i].name);
		T_EQ_INT(s->max_len, t[i].max);
		T_EQ_INT(s->is_list, t[i].list);
	}
	T_TRUE(req_field_spec(F__COUNT) == NULL);
	T_TRUE(req_field_spec((enum req_field)-1) == NULL);
}

static void
test_request_ctype(void)
{
	static const struct {
		const char *in;
		enum req_ctype want;
	} t[] = {
		{ NULL, CTYPE_NONE },
		{ "", CTYPE_NONE },
		{ "application/json", CTYPE_JSON },
		{ "APPLICATION/JSON", CTYPE_JSON },
		{ "Application/Json", CTYPE_JSON },
		{ "application/x-www-form-urlencoded", CTYPE_FORM },
		{ "Application/X-WWW-Form-URLEncoded", CTYPE_FORM },
		{ "application/json;charset=utf-8", CTYPE_JSON },
		{ "application/json; charset=UTF-8", CTYPE_JSON },
		{ "application/json ;  charset=\"utf-8\"", CTYPE_JSON },
		{ "application/json;\tcharset=Utf-8", CTYPE_JSON },
		{ "application/json; CHARSET=utf-8", CTYPE_JSON },
		{ "application/x-www-form-urlencoded; charset=utf-8",
		    CTYPE_FORM },
		{ "application/x-www-form-urlencoded;charset=\"UTF-8\"",
		    CTYPE_FORM },
		{ "application/json; charset=\"utf\\-8\"", CTYPE_JSON },
		{ "application/json; foo=bar", CTYPE_JSON },
		{ "application/json; foo=\"a;b\"; charset=utf-8", CTYPE_JSON },
		{ "application/json;", CTYPE_JSON },
		{ "application/json; ;charset=utf-8", CTYPE_JSON },
		{ " application/json ", CTYPE_JSON },
		{ "application/json; charset=iso-8859-1", CTYPE_OTHER },
		{ "application/json; charset=utf8", CTYPE_OTHER },
		{ "application/json; charset=utf-16", CTYPE_OTHER },
		{ "application/json; charset=utf-8x", CTYPE_OTHER },
		{ "application/json; charset=\"utf-8", CTYPE_OTHER },
		{ "application/json; charset=", CTYPE_OTHER },
		{ "application/json; charset=\"\"", CTYPE_OTHER },
		{ "application/json; charset=utf-8; charset=latin1",
		    CTYPE_OTHER },
		{ "application/json; charset", CTYPE_OTHER },
		{ "application/json; =utf-8", CTYPE_OTHER },
		{ "application/json x", CTYPE_OTHER },
		{ "application/json,text/plain", CTYPE_OTHER },
		{ "application/jsonx", CTYPE_OTHER },
		{ "application/json-patch+json", CTYPE_OTHER },
		{ "text/json", CTYPE_OTHER },
		{ "application/*", CTYPE_OTHER },
		{ "application", CTYPE_OTHER },
		{ "multipart/form-data; boundary=x", CTYPE_OTHER },
		{ "text/plain", CTYPE_OTHER },
		{ "application/x-www-form-urlencodedx", CTYPE_OTHER },
		{ " ", CTYPE_OTHER },
		{ ";charset=utf-8", CTYPE_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		test_report(req_ctype_parse(t[i].in) == t[i].want, __FILE__,
		    __LINE__, "req_ctype_parse(\"%s\") == %d, got %d",
		    t[i].in ? t[i].in : "(null)", t[i].want,
		    req_ctype_parse(t[i].in));
}

static void
test_request_method(void)
{
	static const struct {
		const char *in;
		enum http_method want;
	} t[] = {
		{ "GET", HTTP_GET },
		{ "POST", HTTP_POST },
		{ "DELETE", HTTP_DELETE },
		{ "HEAD", HTTP_HEAD },
		{ "PUT", HTTP_PUT },
		{ "PATCH", HTTP_PATCH },
		{ "OPTIONS", HTTP_OPTIONS },
		{ "get", HTTP_OTHER },
		{ "Post", HTTP_OTHER },
		{ "POST ", HTTP_OTHER },
		{ "TRACE", HTTP_OTHER },
		{ "CONNECT", HTTP_OTHER },
		{ "", HTTP_OTHER },
		{ NULL, HTTP_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_EQ_INT(req_method_parse(t[i].in), t[i].want);
		if (t[i].want != HTTP_OTHER)
			T_EQ_STR(req_method_name(t[i].want), t[i].in);
	}
	T_EQ_STR(req_method_name(HTTP_OTHER), "OTHER");
	T_EQ_STR(req_method_name((enum http_method)99), "OTHER");
}

static void
test_request_form(void)
{
	static const struct body_case t[] = {
		{ CTYPE_FORM, "client_id=abc&otp=123456", MFA_OK, "",
		    { { F_CLIENT_ID, "abc" }, { F_OTP, "123456" } } },
		{ CTYPE_FORM, "client_secret=a%2Bb+c%3A%25", MFA_OK, "",
		    { { F_CLIENT_SECRET, "a+b c:%" } } },
		{ CTYPE_FORM, "user_id=caf%C3%A9&email=%E2%82%AC%40x", MFA_OK,
		    "", { { F_USER_ID, "caf\xc3\xa9" },
		    { F_EMAIL, "\xe2\x82\xac@x" } } },
		/* unknown keys are ignored, whatever their value */
		{ CTYPE_FORM, "foo=%ff%00&bar&mfa_token=t", MFA_OK, "",
		    { { F_MFA_TOKEN, "t" } } },
		{ CTYPE_FORM, "client_id%00x=1&Client_Id=2&client_id_=3",
		    MFA_OK, "", { { NONE, NULL } } },
		/* decoded names match */
		{ CTYPE_FORM, "client%5Fid=x", MFA_OK, "",
		    { { F_CLIENT_ID, "x" } } },
		/* RFC 6749 §3.1: no value means omitted */
		{ CTYPE_FORM, "otp=&scope&client_id=c", MFA_OK, "",
		    { { F_CLIENT_ID, "c" } } },
		/* list fields: items joined by single spaces */
		{ CTYPE_FORM, "authenticator_types=otp+oob", MFA_OK, "",
		    { { F_AUTHENTICATOR_TYPES, "otp oob" } } },
		{ CTYPE_FORM,
		    "authenticator_types=++otp+++oob+&oob_channels=sms",
		    MFA_OK, "", { { F_AUTHENTICATOR_TYPES, "otp oob" },
		    { F_OOB_CHANNELS, "sms" } } },
		{ CTYPE_FORM, "oob_channels=+++", MFA_OK, "",
		    { { NONE, NULL } } },
		/* not a list: spaces kept */
		{ CTYPE_FORM, "scope=+a++b+", MFA_OK, "",
		    { { F_SCOPE, " a  b " } } },
		{ CTYPE_FORM, "&&client_id=c&&", MFA_OK, "",
		    { { F_CLIENT_ID, "c" } } },
		/* duplicates: known, unknown, empty, via an escape */
		{ CTYPE_FORM, "client_id=a&client_id=a", MFA_ERR_INVALID,
		    "duplicate parameter: client_id", { { NONE, NULL } } },
		{ CTYPE_FORM, "foo=1&otp=1&foo=2", MFA_ERR_INVALID,
		    "duplicate parameter: foo", { { NONE, NULL } } },
		{ CTYPE_FORM, "otp=&otp=123456", MFA_ERR_INVALID,
		    "duplicate parameter: otp", { { NONE, NULL } } },
		{ CTYPE_FORM, "otp&otp", MFA_ERR_INVALID,
		    "duplicate parameter: otp", { { NONE, NULL } } },
		{ CTYPE_FORM, "client_id=a&client%5fid=b", MFA_ERR_INVALID,
		    "duplicate parameter: client_id", { { NONE, NULL } } },
		{ CTYPE_FORM, "%01=1&%01=2", MFA_ERR_INVALID,
		    "duplicate parameter: ?", { { NONE, NULL } } },
		{ CTYPE_FORM, "=1&=2", MFA_ERR_INVALID,
		    "duplicate parameter: ", { { NONE, NULL } } },
		{ CTYPE_FORM, "a%00b=1&a%00b=2", MFA_ERR_INVALID,
		    "duplicate parameter: a?b", { { NONE, NULL } } },
		{ CTYPE_FORM, "a%00b=1&a%00c=2", MFA_OK, "",
		    { { NONE, NULL } } },
		/* bad escapes */
		{ CTYPE_FORM, "client_id=c&otp=12%3", MFA_ERR_INVALID,
		    "invalid percent-encoding in parameter 'otp'",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "foo=%zz", MFA_ERR_INVALID,
		    "invalid percent-encoding in parameter 'foo'",
		    { { NONE, NULL } } },
		/* UTF-8 */
		{ CTYPE_FORM, "mfa_token=%ff", MFA_ERR_INVALID,
		    "parameter 'mfa_token' is not valid UTF-8",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "mfa_token=%c0%af", MFA_ERR_INVALID,
		    "parameter 'mfa_token' is not valid UTF-8",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "mfa_token=%ed%a0%80", MFA_ERR_INVALID,
		    "parameter 'mfa_token' is not valid UTF-8",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "user_id=\xc3", MFA_ERR_INVALID,
		    "parameter 'user_id' is not valid UTF-8",
		    { { NONE, NULL } } },
		/* control characters, NUL included */
		{ CTYPE_FORM, "user_id=a%01b", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "user_id=a%00", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "otp=12%09", MFA_ERR_INVALID,
		    "parameter 'otp' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "otp=12%0d%0a", MFA_ERR_INVALID,
		    "parameter 'otp' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "otp=%7f", MFA_ERR_INVALID,
		    "parameter 'otp' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_FORM, "otp=\x1f", MFA_ERR_INVALID,
		    "parameter 'otp' contains a control character",
		    { { NONE, NULL } } },
		/* a failure leaves no field set */
		{ CTYPE_FORM, "client_id=a&otp=1&mfa_token=%ff",
		    MFA_ERR_INVALID,
		    "parameter 'mfa_token' is not valid UTF-8",
		    { { NONE, NULL } } },
		{ CTYPE_OTHER, "client_id=a", MFA_ERR_INVALID,
		    "unsupported content type", { { NONE, NULL } } },
		{ CTYPE_NONE, "client_id=a", MFA_ERR_INVALID,
		    "unsupported content type", { { NONE, NULL } } },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_body(&t[i], strlen(t[i].body), __LINE__);
}

static void
test_request_json(void)
{
	static const struct body_case t[] = {
		{ CTYPE_JSON, "{\"client_id\":\"abc\",\"otp\":\"123456\"}",
		    MFA_OK, "",
		    { { F_CLIENT_ID, "abc" }, { F_OTP, "123456" } } },
		{ CTYPE_JSON, " {} ", MFA_OK, "", { { NONE, NULL } } },
		{ CTYPE_JSON,
		    "{\"user_id\":\"caf\\u00e9\",\"email\":\"a+b@x\"}",
		    MFA_OK, "", { { F_USER_ID, "caf\xc3\xa9" },
		    { F_EMAIL, "a+b@x" } } },
		{ CTYPE_JSON, "{\"client_secret\":\"a%2B\"}", MFA_OK, "",
		    { { F_CLIENT_SECRET, "a%2B" } } },
		/* unknown keys ignored, whatever their type or content */
		{ CTYPE_JSON, "{\"foo\":{\"bar\":[1,2,null]},\"x\":null,"
		    "\"y\":\"\\u0000\",\"z\":1.5,\"Otp\":1,"
		    "\"mfa_token\":\"t\"}",
		    MFA_OK, "", { { F_MFA_TOKEN, "t" } } },
		/* "" is absent */
		{ CTYPE_JSON, "{\"otp\":\"\",\"client_id\":\"c\"}", MFA_OK, "",
		    { { F_CLIENT_ID, "c" } } },
		/* lists */
		{ CTYPE_JSON, "{\"authenticator_types\":[\"otp\",\"oob\"]}",
		    MFA_OK, "", { { F_AUTHENTICATOR_TYPES, "otp oob" } } },
		{ CTYPE_JSON, "{\"authenticator_types\":\"otp oob\","
		    "\"oob_channels\":[\"sms\"]}", MFA_OK, "",
		    { { F_AUTHENTICATOR_TYPES, "otp oob" },
		    { F_OOB_CHANNELS, "sms" } } },
		{ CTYPE_JSON,
		    "{\"oob_channels\":[\"\",\"sms\",\"\",\"email\"]}",
		    MFA_OK, "", { { F_OOB_CHANNELS, "sms email" } } },
		{ CTYPE_JSON, "{\"oob_channels\":[]}", MFA_OK, "",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"oob_channels\":[\"\"]}", MFA_OK, "",
		    { { NONE, NULL } } },
		/* types */
		{ CTYPE_JSON, "{\"otp\":123456}", MFA_ERR_INVALID,
		    "parameter 'otp' must be a string", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"otp\":null}", MFA_ERR_INVALID,
		    "parameter 'otp' must be a string", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"otp\":true}", MFA_ERR_INVALID,
		    "parameter 'otp' must be a string", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"otp\":[\"1\"]}", MFA_ERR_INVALID,
		    "parameter 'otp' must be a string", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"client_id\":{}}", MFA_ERR_INVALID,
		    "parameter 'client_id' must be a string",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"authenticator_types\":[\"otp\",1]}",
		    MFA_ERR_INVALID, "parameter 'authenticator_types' must be "
		    "a string or an array of strings", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"oob_channels\":[[\"sms\"]]}", MFA_ERR_INVALID,
		    "parameter 'oob_channels' must be a string or an array of "
		    "strings", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"oob_channels\":{\"a\":\"sms\"}}",
		    MFA_ERR_INVALID, "parameter 'oob_channels' must be a "
		    "string or an array of strings", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"oob_channels\":7}", MFA_ERR_INVALID,
		    "parameter 'oob_channels' must be a string or an array of "
		    "strings", { { NONE, NULL } } },
		/* control characters */
		{ CTYPE_JSON, "{\"user_id\":\"a\\u0000b\"}", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"user_id\":\"a\\u0001\"}", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"user_id\":\"\\n\"}", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"user_id\":\"\\u007f\"}", MFA_ERR_INVALID,
		    "parameter 'user_id' contains a control character",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"oob_channels\":[\"sms\",\"e\\tmail\"]}",
		    MFA_ERR_INVALID,
		    "parameter 'oob_channels' contains a control character",
		    { { NONE, NULL } } },
		/* syntax, duplicates, top level */
		{ CTYPE_JSON, "{\"otp\":\"1\",\"otp\":\"2\"}", MFA_ERR_INVALID,
		    "request body is not valid JSON: duplicate object key "
		    "near '\"otp\"' at line 1 column 16", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"foo\":1,\"foo\":2}", MFA_ERR_INVALID,
		    "request body is not valid JSON: duplicate object key "
		    "near '\"foo\"' at line 1 column 14", { { NONE, NULL } } },
		{ CTYPE_JSON, "{", MFA_ERR_INVALID,
		    "request body is not valid JSON: string or '}' expected "
		    "near end of file at line 1 column 1", { { NONE, NULL } } },
		{ CTYPE_JSON, "{} x", MFA_ERR_INVALID,
		    "request body is not valid JSON: end of file expected "
		    "near 'x' at line 1 column 4", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"otp\":\"\xff\"}", MFA_ERR_INVALID,
		    "request body is not valid JSON: unable to decode byte "
		    "0xff near '\"' at line 1 column 8", { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"otp\":\"\\ud800\"}", MFA_ERR_INVALID,
		    "request body is not valid JSON: invalid Unicode '\\uD800' "
		    "near '\"\\ud800\"' at line 1 column 15",
		    { { NONE, NULL } } },
		{ CTYPE_JSON, "{\"client_id\\u0000x\":\"a\"}", MFA_ERR_INVALID,
		    "request body is not valid JSON: NUL byte in object key "
		    "not supported near '\"client_id\\u0000x\"' at line 1 "
		    "column 19", { { NONE, NULL } } },
		{ CTYPE_JSON, "[{\"otp\":\"1\"}]", MFA_ERR_INVALID,
		    "request body must be a JSON object", { { NONE, NULL } } },
		{ CTYPE_JSON, "\"otp\"", MFA_ERR_INVALID,
		    "request body must be a JSON object", { { NONE, NULL } } },
		{ CTYPE_JSON, "null", MFA_ERR_INVALID,
		    "request body must be a JSON object", { { NONE, NULL } } },
		{ CTYPE_JSON, "1", MFA_ERR_INVALID,
		    "request body must be a JSON object", { { NONE, NULL } } },
		/* a failure leaves no field set */
		{ CTYPE_JSON, "{\"client_id\":\"c\",\"otp\":1}",
		    MFA_ERR_INVALID,
		    "parameter 'otp' must be a string", { { NONE, NULL } } },
		/* a form body sent as JSON is not JSON */
		{ CTYPE_JSON, "otp=1", MFA_ERR_INVALID,
		    "request body is not valid JSON: invalid token near 'otp' "
		    "at line 1 column 3", { { NONE, NULL } } },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_body(&t[i], strlen(t[i].body), __LINE__);
}

/* Every field at its bound and one byte over, as form and as JSON. */
static void
test_request_bounds(void)
{
	const struct req_field_spec *s;
	struct mfa_req req;
	char err[128], want[128], *body, *val;
	const char *lit;
	size_t f, n, max;
	int rc, kind;

	for (f = 0; f < F__COUNT; f++) {
		s = req_field_spec(f);
		max = s->max_len;
		if ((body = malloc(max + 64)) == NULL ||
		    (val = malloc(max + 2)) == NULL) {
			free(body);
			T_TRUE(0);
			return;
		}
		for (kind = 0; kind < 2; kind++) {
			for (n = max; n <= max + 1; n++) {
				memset(val, 'a', n);
				val[n] = '\0';
				if (kind == 0)
					snprintf(body, max + 64, "%s=%s",
					    s->name, val);
				else
					snprintf(body, max + 64,
					    "{\"%s\":\"%s\"}", s->name, val);
				req_init(&req);
				rc = req_parse_body(&req, kind == 0 ?
				    CTYPE_FORM : CTYPE_JSON, body,
				    strlen(body), err, sizeof(err));
				if (n == max) {
					T_EQ_INT(rc, MFA_OK);
					T_EQ_STR(err, "");
					T_EQ_INT(req.field_len[f], max);
					T_TRUE(req_get(&req, f) != NULL &&
					    strcmp(req_get(&req, f), val) == 0);
				} else {
					snprintf(want, sizeof(want),
					    "parameter '%s' is longer than "
					    "%zu bytes", s->name, max);
					T_EQ_INT(rc, MFA_ERR_INVALID);
					T_EQ_STR(err, want);
					T_TRUE(req_get(&req, f) == NULL);
				}
				req_free(&req);
			}
		}
		free(body);
		free(val);
	}

	/* A JSON list is bounded by its joined length: 30 + 1 + 33. */
	req_init(&req);
	lit = "{\"oob_channels\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"]}";
	rc = req_parse_body(&req, CTYPE_JSON, lit, strlen(lit), err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(req.field_len[F_OOB_CHANNELS], 64);
	req_free(&req);
	req_init(&req);
	lit = "{\"oob_channels\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"]}";
	rc = req_parse_body(&req, CTYPE_JSON, lit, strlen(lit), err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "parameter 'oob_channels' is longer than 64 bytes");
	req_free(&req);
	/* A form list is bounded by what was sent, before spaces collapse. */
	req_init(&req);
	/* "sms" and 62 '+': 65 bytes sent, "sms" after collapsing. */
	lit = "oob_channels=sms++++++++++++++++++++++++++++++++++++++++++"
	    "++++++++++++++++++++";
	rc = req_parse_body(&req, CTYPE_FORM, lit, strlen(lit), err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "parameter 'oob_channels' is longer than 64 bytes");
	req_free(&req);
	/* Bytes, not characters: 32 two-byte characters are 64 bytes. */
	req_init(&req);
	lit = "client_id="
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	rc = req_parse_body(&req, CTYPE_FORM, lit, strlen(lit), err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(req.field_len[F_CLIENT_ID], 64);
	req_free(&req);
	req_init(&req);
	lit = "client_id="
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x";
	rc = req_parse_body(&req, CTYPE_FORM, lit, strlen(lit), err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "parameter 'client_id' is longer than 64 bytes");
	req_free(&req);
}

static void
test_request_misc(void)
{
	struct mfa_req req;
	char err[128], *deep;
	size_t i, n = 100000;
	int rc;

	/* Empty bodies give no fields, whatever the type. */
	req_init(&req);
	T_EQ_INT(req_parse_body(&req, CTYPE_NONE, NULL, 0, err, sizeof(err)),
	    MFA_OK);
	T_EQ_INT(req_parse_body(&req, CTYPE_JSON, "", 0, err, sizeof(err)),
	    MFA_OK);
	T_EQ_INT(req_parse_body(&req, CTYPE_FORM, "", 0, err, sizeof(err)),
	    MFA_OK);
	T_TRUE(!req.body_is_json);
	for (i = 0; i < F__COUNT; i++)
		T_TRUE(req_get(&req, i) == NULL);
	T_TRUE(req_get(&req, F__COUNT) == NULL);
	T_TRUE(req_get(NULL, F_OTP) == NULL);
	req_free(&req);

	/* A NUL byte inside a JSON body (outside any string). */
	req_init(&req);
	rc = req_parse_body(&req, CTYPE_JSON, "{\"otp\":\"1\"}\0x", 13, err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "request body is not valid JSON: end of file expected "
	    "near end of file at line 1 column 12");
	req_free(&req);

	/* 100000 levels of nesting: a clean error from jansson's limit. */
	if ((deep = malloc(n * 5 + 2)) == NULL) {
		T_TRUE(0);
		return;
	}
	memset(deep, '[', n);
	req_init(&req);
	rc = req_parse_body(&req, CTYPE_JSON, deep, n, err, sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "request body is not valid JSON: maximum parsing depth "
	    "reached near '[' at line 1 column 2049");
	req_free(&req);
	for (i = 0; i < n; i++)
		memcpy(deep + 5 * i, "{\"a\":", 5);
	req_init(&req);
	rc = req_parse_body(&req, CTYPE_JSON, deep, 5 * n, err, sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "request body is not valid JSON: maximum parsing depth "
	    "reached near '{' at line 1 column 10241");
	req_free(&req);
	/* The same body as a form: one pair, an unknown key. */
	deep[5 * n] = '\0';
	req_init(&req);
	rc = req_parse_body(&req, CTYPE_FORM, deep, 5 * n, err, sizeof(err));
	T_EQ_INT(rc, MFA_OK);
	req_free(&req);
	free(deep);

	/* req_free leaves the request empty and reusable; NULL is fine. */
	req_init(&req);
	req.authorization = strdup("Basic YTpi");
	req.method = HTTP_POST;
	rc = req_parse_body(&req, CTYPE_FORM, "otp=123456", 10, err,
	    sizeof(err));
	T_EQ_INT(rc, MFA_OK);
	T_EQ_STR(req_get(&req, F_OTP), "123456");
	req_free(&req);
	T_TRUE(req.authorization == NULL);
	T_TRUE(req_get(&req, F_OTP) == NULL);
	T_EQ_INT(req.field_len[F_OTP], 0);
	T_EQ_INT(req.method, HTTP_OTHER);
	req_free(&req);
	req_free(NULL);

	/* err may be NULL. */
	req_init(&req);
	T_EQ_INT(req_parse_body(&req, CTYPE_FORM, "otp=%", 5, NULL, 0),
	    MFA_ERR_INVALID);
	T_EQ_INT(req_parse_body(&req, CTYPE_JSON, "[", 1, NULL, 0),
	    MFA_ERR_INVALID);
	req_free(&req);

	/* Many distinct keys: the duplicate check stays linear. */
	if ((deep = malloc(20 * 50000)) == NULL) {
		T_TRUE(0);
		return;
	}
	for (i = 0, n = 0; i < 50000; i++)
		n += (size_t)sprintf(deep + n, "k%zu=v&", i);
	req_init(&req);
	T_EQ_INT(req_parse_body(&req, CTYPE_FORM, deep, n, err, sizeof(err)),
	    MFA_OK);
	req_free(&req);
	n += (size_t)sprintf(deep + n, "k49999=v");
	req_init(&req);
	T_EQ_INT(req_parse_body(&req, CTYPE_FORM, deep, n, err, sizeof(err)),
	    MFA_ERR_INVALID);
	T_EQ_STR(err, "duplicate parameter: k49999");
	req_free(&req);
	free(deep);
}

void
test_request(void)
{

	test_request_spec();
	test_request_ctype();
	test_request_method();
	test_request_form();
	test_request_json();
	test_request_bounds();
	test_request_misc();
}
