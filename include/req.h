/*
 * req.h -- a request as the handlers see it: a typed struct filled from
 * the FastCGI parameters and the body through one field table with a bound
 * per field. Handlers never look at raw bytes or call FCGX_GetParam.
 *
 * Bodies: application/x-www-form-urlencoded or application/json (a charset
 * parameter is tolerated). Both become the same fields. Unknown keys are
 * ignored; duplicates, bad percent-encoding, invalid UTF-8, control
 * characters, wrong JSON types and over-long values are rejected with a
 * sentence that names the problem.
 */
#ifndef MFA_REQ_H
#define MFA_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "mfa.h"

enum req_field {
	F_CLIENT_ID,
	F_CLIENT_SECRET,
	F_CLIENT_ASSERTION,
	F_CLIENT_ASSERTION_TYPE,
	F_MFA_TOKEN,
	F_CHALLENGE_TYPE,
	F_AUTHENTICATOR_ID,
	F_USER_ID,
	F_GRANT_TYPE,
	F_OTP,
	F_OOB_CODE,
	F_BINDING_CODE,
	F_RECOVERY_CODE,
	F_AUTHENTICATOR_TYPES, /* list: JSON array of strings or a
				  space-separated string */
	F_OOB_CHANNELS,        /* list */
	F_OOB_CHANNEL,
	F_PHONE_NUMBER,
	F_EMAIL,
	F_SCOPE,
	F_CODE, /* WorkOS verify */
	F_TYPE, /* WorkOS enroll */
	F_TOTP_ISSUER,
	F_TOTP_USER,
	F_AUDIENCE, /* /oauth/token: ask for the <issuer>/mfa/ audience */
	F_SMS_TEMPLATE, /* WorkOS factor challenge: text with {{code}} */
	F__COUNT
};

enum http_method {
	HTTP_OTHER = 0,
	HTTP_GET,
	HTTP_POST,
	HTTP_DELETE,
	HTTP_HEAD,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_OPTIONS,
};

/* Bounds on header-derived values. */
#define REQ_PATH_MAX 512
#define REQ_AUTHZ_MAX 4096

/*
 * A parsed request. Field values are NUL-terminated UTF-8 without control
 * characters, owned by the struct (freed by req_free). A list field holds
 * its items joined by single spaces.
 */
struct mfa_req {
	enum http_method method;
	char path[REQ_PATH_MAX + 1]; /* raw request path, query removed */
	char *authorization;         /* the Authorization header or NULL */
	char *field[F__COUNT];       /* NULL when absent */
	size_t field_len[F__COUNT];
	bool body_is_json;
};

/* Field table entry (exposed for tests and the README table). */
struct req_field_spec {
	const char *name;
	size_t max_len; /* bytes */
	bool is_list;
};
const struct req_field_spec *req_field_spec(enum req_field f);

/* Kinds of content type the service accepts. */
enum req_ctype {
	CTYPE_NONE = 0,  /* no Content-Type (only valid with an empty body) */
	CTYPE_FORM,
	CTYPE_JSON,
	CTYPE_OTHER,     /* answer 415 */
};

/*
 * Classifies a Content-Type header value ("application/json;
 * charset=UTF-8" is CTYPE_JSON; a charset other than UTF-8 is
 * CTYPE_OTHER). "ctype" may be NULL.
 */
enum req_ctype req_ctype_parse(const char *ctype);

/* Initializes an empty request. */
void req_init(struct mfa_req *req);

/* Frees what the request owns and wipes field values; accepts NULL. */
void req_free(struct mfa_req *req);

/*
 * Fills the fields of "req" from "body" ("len" bytes, borrowed) of kind
 * "ctype" (CTYPE_FORM or CTYPE_JSON). An empty body gives no fields.
 * Returns MFA_OK, or MFA_ERR_INVALID with a sentence in "err" such as
 * "duplicate parameter: client_id", "invalid percent-encoding in
 * parameter 'otp'", "parameter 'mfa_token' is not valid UTF-8",
 * "parameter 'otp' must be a string", "request body is not valid JSON:
 * <jansson's text> at line L column C", "request body must be a JSON
 * object", "parameter 'client_id' is longer than 64 bytes",
 * "parameter 'user_id' contains a control character".
 */
int req_parse_body(struct mfa_req *req, enum req_ctype ctype,
    const char *body, size_t len, char *err, size_t errlen) MFA_WUR;

/* Value of field "f" or NULL. Borrowed until req_free. */
const char *req_get(const struct mfa_req *req, enum req_field f);

/* Maps a REQUEST_METHOD value; unknown methods give HTTP_OTHER. */
enum http_method req_method_parse(const char *s);
const char *req_method_name(enum http_method m);

#endif
