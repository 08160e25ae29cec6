/*
 * fuzz_req.c -- the request mapping (req.c): a form or JSON body into
 * struct mfa_req through the field table.
 *
 * The first input byte picks the content type; the rest is the body.
 * Checks, on success: every present field is non-empty, within its
 * table bound, NUL-terminated at its length with no NUL or control byte
 * inside; on failure: no field is left set and the message is a
 * terminated string.
 */
#include "fuzz.h"
#include "req.h"

static const char *const ctypes[] = {
	"application/x-www-form-urlencoded",
	"application/json",
	"application/json; charset=utf-8",
	"text/plain",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mfa_req req;
	enum req_ctype ct;
	char err[256], *body;
	size_t i, j, blen;
	int rc;

	if (size < 1)
		return 0;
	ct = req_ctype_parse(ctypes[data[0] % 4]);
	blen = size - 1;
	if ((body = malloc(blen ? blen : 1)) == NULL)
		abort();
	memcpy(body, data + 1, blen);
	req_init(&req);
	err[0] = '\0';
	rc = req_parse_body(&req, ct, body, blen, err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	for (i = 0; i < F__COUNT; i++) {
		const struct req_field_spec *sp = req_field_spec(i);
		const char *v = req_get(&req, i);

		if (v == NULL)
			continue;
		FUZZ_CHECK(rc == MFA_OK);
		FUZZ_CHECK(req.field_len[i] > 0);
		FUZZ_CHECK(req.field_len[i] <= sp->max_len);
		FUZZ_CHECK(strlen(v) == req.field_len[i]);
		for (j = 0; j < req.field_len[i]; j++)
			FUZZ_CHECK((unsigned char)v[j] >= 0x20 &&
			    (unsigned char)v[j] != 0x7f);
	}
	req_free(&req);
	/* The method and content-type parsers take strings from headers. */
	{
		char *s = fuzz_strndup(data, size);

		(void)req_method_name(req_method_parse(s));
		(void)req_ctype_parse(s);
		free(s);
	}
	free(body);
	return 0;
}
