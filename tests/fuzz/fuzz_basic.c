/*
 * fuzz_basic.c -- the Authorization: Basic decoder (basic.c).
 *
 * Checks: only BASIC_OK fills the output, and then client_id is
 * non-empty, within MFA_CLIENT_ID_MAX bytes, and both parts are
 * terminated strings free of control bytes.
 */
#include "basic.h"
#include "fuzz.h"

static void
fuzz_basic_clean(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1), i;

	FUZZ_CHECK(n <= max);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct basic_creds c;
	enum basic_result r;
	char *h = fuzz_strndup(data, size);

	memset(&c, 0x5a, sizeof(c));
	r = basic_decode(h, &c);
	FUZZ_CHECK(r == BASIC_OK || r == BASIC_NOT_BASIC ||
	    r == BASIC_MALFORMED);
	if (r == BASIC_OK) {
		FUZZ_CHECK(c.client_id[0] != '\0');
		fuzz_basic_clean(c.client_id, MFA_CLIENT_ID_MAX);
		fuzz_basic_clean(c.secret, BASIC_SECRET_MAX);
		basic_creds_wipe(&c);
	}
	free(h);
	return 0;
}
