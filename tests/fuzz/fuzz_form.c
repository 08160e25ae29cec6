/*
 * fuzz_form.c -- the application/x-www-form-urlencoded decoder (form.c).
 *
 * Checks: every pair the callback sees lies within the decoded input (a
 * decoded key or value is never longer than the raw bytes), decoding is
 * deterministic, and form_unescape never writes more than it reports.
 */
#include "form.h"
#include "fuzz.h"

struct seen {
	size_t len;	/* raw input length */
	size_t pairs;
	size_t bytes;	/* decoded key + value bytes */
};

static int
fuzz_form_pair(void *arg, const char *key, size_t keylen, const char *value,
    size_t valuelen)
{
	struct seen *s = arg;
	volatile unsigned char sink = 0;
	size_t i;

	FUZZ_CHECK(keylen <= s->len && valuelen <= s->len);
	/* Touch every byte: ASan reports a callback pointer past its end. */
	for (i = 0; i < keylen; i++)
		sink ^= (unsigned char)key[i];
	for (i = 0; i < valuelen; i++)
		sink ^= (unsigned char)value[i];
	(void)sink;
	s->pairs++;
	s->bytes += keylen + valuelen;
	FUZZ_CHECK(s->bytes <= s->len);
	return MFA_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a = { size, 0, 0 }, b = { size, 0, 0 };
	char err[128], *in, *out;
	size_t outn = (size_t)-1;
	int rc1, rc2;

	/* An exact-size copy: no NUL after the input. */
	if ((in = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(in, data, size);
	err[0] = '\0';
	rc1 = form_decode(in, size, fuzz_form_pair, &a, err, sizeof(err));
	rc2 = form_decode(in, size, fuzz_form_pair, &b, err, sizeof(err));
	FUZZ_CHECK(rc1 == rc2 && a.pairs == b.pairs && a.bytes == b.bytes);
	FUZZ_CHECK(rc1 == MFA_OK || rc1 == MFA_ERR_INVALID ||
	    rc1 == MFA_ERR_NOMEM);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);

	if ((out = malloc(size + 1)) == NULL)
		abort();
	if (form_unescape(in, size, out, size + 1, &outn) == MFA_OK)
		FUZZ_CHECK(outn <= size);
	free(out);
	free(in);
	return 0;
}
