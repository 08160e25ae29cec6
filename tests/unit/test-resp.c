/*
 * test-resp.c -- responses: the exact bytes resp_serialize writes (status
 * line, headers in order, Content-Length, body) for the shapes the
 * service answers with, and resp_internal's mapping of store errors.
 */
#include <stdlib.h>
#include <string.h>

#include "resp.h"
#include "test.h"

#define ROW_STR(row, a, b)                                                 \
	do {                                                               \
		const char *r_a_ = (a), *r_b_ = (b);                       \
		test_report(r_a_ != NULL && r_b_ != NULL &&                \
		    strcmp(r_a_, r_b_) == 0, __FILE__, __LINE__,           \
		    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b,     \
		    r_a_ ? r_a_ : "(null)", r_b_ ? r_b_ : "(null)");       \
	} while (0)

#define NOSTORE                                                            \
	"Cache-Control: no-store\r\nPragma: no-cache\r\n"                  \
	"X-Content-Type-Options: nosniff\r\n"
#define JSONCT "Content-Type: application/json\r\n"
#define ERR500 "{\"error\":\"server_error\"," \
	"\"error_description\":\"Internal server error\"}"

/* Serialises "r" and compares with "want" byte for byte. */
static void
check_bytes(const char *row, const struct mfa_resp *r, const char *want)
{
	size_t len = 12345;
	char *out = resp_serialize(r, &len);

	ROW_STR(row, out, want);
	ROW_INT(row, len, strlen(want));
	free(out);
}

static void
test_resp_serialize(void)
{
	struct mfa_resp r;
	char big[RESP_HEADER_MAX], want[2048];

	/* 200 with a JSON body */
	resp_init(&r);
	T_EQ_INT(r.status, 0);
	T_TRUE(r.body == NULL);
	resp_json(&r, 200, json_pack("{s:s}", "challenge_type", "otp"));
	check_bytes("200 json", &r, "Status: 200 OK\r\n" JSONCT NOSTORE
	    "Content-Length: 24\r\n\r\n{\"challenge_type\":\"otp\"}");
	resp_free(&r);
	T_TRUE(r.body == NULL);
	resp_free(&r); /* twice is harmless */
	resp_free(NULL);

	/* 401 with its challenge */
	resp_init(&r);
	resp_error(&r, 401, "invalid_client", "Client authentication failed");
	strcpy(r.www_authenticate, "Basic realm=\"mfa\", charset=\"UTF-8\"");
	check_bytes("401 basic", &r, "Status: 401 Unauthorized\r\n" JSONCT
	    NOSTORE "WWW-Authenticate: Basic realm=\"mfa\", "
	    "charset=\"UTF-8\"\r\nContent-Length: 77\r\n\r\n"
	    "{\"error\":\"invalid_client\","
	    "\"error_description\":\"Client authentication failed\"}");
	resp_free(&r);

	/* 405 with Allow */
	resp_init(&r);
	resp_error(&r, 405, "invalid_request", "Method %s not allowed",
	    "GET");
	strcpy(r.allow, "POST");
	check_bytes("405 allow", &r, "Status: 405 Method Not Allowed\r\n"
	    JSONCT NOSTORE "Allow: POST\r\nContent-Length: 72\r\n\r\n"
	    "{\"error\":\"invalid_request\","
	    "\"error_description\":\"Method GET not allowed\"}");
	resp_free(&r);

	/* both extra headers at once, each at its longest */
	resp_init(&r);
	resp_json(&r, 401, json_pack("{}"));
	memset(big, 'w', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strcpy(r.www_authenticate, big);
	memset(r.allow, 'a', sizeof(r.allow) - 1);
	r.allow[sizeof(r.allow) - 1] = '\0';
	snprintf(want, sizeof(want), "Status: 401 Unauthorized\r\n" JSONCT
	    NOSTORE "WWW-Authenticate: %s\r\nAllow: %s\r\n"
	    "Content-Length: 2\r\n\r\n{}", big, r.allow);
	check_bytes("longest headers", &r, want);
	resp_free(&r);

	/* 204: no body, no content type, no Content-Length (RFC 9110 §8.6) */
	resp_init(&r);
	resp_json(&r, 204, NULL);
	check_bytes("204", &r, "Status: 204 No Content\r\n" NOSTORE
	    "\r\n");
	/* a body given with 204 is not sent */
	resp_json(&r, 204, json_pack("{s:i}", "x", 1));
	check_bytes("204 with body", &r, "Status: 204 No Content\r\n" NOSTORE
	    "\r\n");
	resp_free(&r);

	/* a body-less answer that is not 204 becomes a 500 */
	resp_init(&r);
	resp_json(&r, 200, NULL);
	check_bytes("200 without body", &r, "Status: 500 Internal Server "
	    "Error\r\n" JSONCT NOSTORE "Content-Length: 68\r\n\r\n" ERR500);
	/* and so does a response nobody set */
	resp_init(&r);
	check_bytes("unset", &r, "Status: 500 Internal Server Error\r\n"
	    JSONCT NOSTORE "Content-Length: 68\r\n\r\n" ERR500);

	/* a JSON array body, a status without a reason phrase */
	resp_json(&r, 299, json_pack("[i,i]", 1, 2));
	check_bytes("299 array", &r, "Status: 299 Unknown\r\n" JSONCT NOSTORE
	    "Content-Length: 5\r\n\r\n[1,2]");
	resp_free(&r);
}

static void
test_resp_error(void)
{
	struct mfa_resp r;
	char *s;

	resp_init(&r);
	resp_json(&r, 200, json_pack("{s:s}", "a", "b"));
	/* replaces the earlier body (valgrind: no leak) */
	resp_error(&r, 400, "invalid_request", "Missing %s: %d", "x", 42);
	T_EQ_INT(r.status, 400);
	s = json_dumps(r.body, JSON_COMPACT);
	T_EQ_STR(s, "{\"error\":\"invalid_request\","
	    "\"error_description\":\"Missing x: 42\"}");
	free(s);
	/* a description is JSON-escaped */
	resp_error(&r, 400, "invalid_request", "%s", "a\"b\\c\n");
	s = json_dumps(r.body, JSON_COMPACT);
	T_EQ_STR(s, "{\"error\":\"invalid_request\","
	    "\"error_description\":\"a\\\"b\\\\c\\n\"}");
	free(s);
	resp_free(&r);
}

static void
test_resp_internal(void)
{
	static const struct {
		const char *name;
		int err;
		int status;
		const char *code;
		const char *desc;
	} rows[] = {
		{ "busy", MFA_ERR_BUSY, 503, "temporarily_unavailable",
		    "The service is temporarily unavailable; retry later" },
		{ "full", MFA_ERR_FULL, 503, "temporarily_unavailable",
		    "The service is temporarily unavailable; retry later" },
		{ "store", MFA_ERR_STORE, 500, "server_error",
		    "Internal server error" },
		{ "corrupt", MFA_ERR_CORRUPT, 500, "server_error",
		    "Internal server error" },
		{ "crypto", MFA_ERR_CRYPTO, 500, "server_error",
		    "Internal server error" },
		{ "nomem", MFA_ERR_NOMEM, 500, "server_error",
		    "Internal server error" },
		{ "io", MFA_ERR_IO, 500, "server_error",
		    "Internal server error" },
		{ "notfound", MFA_ERR_NOTFOUND, 500, "server_error",
		    "Internal server error" },
		{ "unknown code", -999, 500, "server_error",
		    "Internal server error" },
	};
	struct mfa_resp r;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		resp_init(&r);
		resp_error(&r, 401, "invalid_client", "x");
		strcpy(r.www_authenticate, "Basic realm=\"mfa\"");
		resp_internal(&r, rows[i].err);
		ROW_INT(rows[i].name, r.status, rows[i].status);
		ROW_STR(rows[i].name, json_string_value(json_object_get(
		    r.body, "error")), rows[i].code);
		ROW_STR(rows[i].name, json_string_value(json_object_get(
		    r.body, "error_description")), rows[i].desc);
		ROW_INT(rows[i].name, json_object_size(r.body), 2);
		/* an internal error carries no authentication challenge */
		ROW_STR(rows[i].name, r.www_authenticate, "");
		resp_free(&r);
	}
	resp_init(&r);
	resp_internal(&r, MFA_ERR_BUSY);
	check_bytes("503 bytes", &r, "Status: 503 Service Unavailable\r\n"
	    JSONCT NOSTORE "Content-Length: 109\r\n\r\n"
	    "{\"error\":\"temporarily_unavailable\",\"error_description\":"
	    "\"The service is temporarily unavailable; retry later\"}");
	resp_free(&r);
}

static void
test_resp_reason(void)
{
	static const struct {
		int status;
		const char *reason;
	} rows[] = {
		{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" }, { 0, "Unknown" },
		{ 418, "Unknown" }, { -1, "Unknown" },
	};
	char row[16];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		snprintf(row, sizeof(row), "%d", rows[i].status);
		ROW_STR(row, resp_reason(rows[i].status), rows[i].reason);
	}
}

void
test_resp(void)
{
	test_resp_serialize();
	test_resp_error();
	test_resp_internal();
	test_resp_reason();
}
