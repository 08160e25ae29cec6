/*
 * fuzz_b32.c -- base32 (b32.c) and the otpauth:// Key URI (totp_uri).
 *
 * Checks: a decoded secret re-encodes and decodes to the same bytes; the
 * input taken as bytes encodes to b32_encoded_len characters of the
 * alphabet and decodes back; totp_uri either fits (a terminated string
 * starting "otpauth://totp/") or says TOOBIG with "" in the buffer.
 */
#include "b32.h"
#include "fuzz.h"
#include "totp.h"

#define FUZZ_B32_MAX 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char bin[FUZZ_B32_MAX], bin2[FUZZ_B32_MAX];
	char enc[FUZZ_B32_MAX * 2], uri[512], *s, *issuer, *account, *sep;
	size_t n = 0, n2 = 0, i;
	int rc;

	if (size > FUZZ_B32_MAX)
		return 0;
	s = fuzz_strndup(data, size);
	rc = b32_decode(s, bin, sizeof(bin), &n);
	FUZZ_CHECK(rc == MFA_OK || rc == MFA_ERR_INVALID ||
	    rc == MFA_ERR_TOOBIG);
	if (rc == MFA_OK) {
		FUZZ_CHECK(n <= sizeof(bin) && n <= size);
		FUZZ_CHECK(b32_encode(bin, n, enc, sizeof(enc)) == MFA_OK);
		FUZZ_CHECK(strlen(enc) == b32_encoded_len(n));
		FUZZ_CHECK(b32_decode(enc, bin2, sizeof(bin2), &n2) == MFA_OK);
		FUZZ_CHECK(n2 == n && memcmp(bin, bin2, n) == 0);
	}

	/* The raw input as a secret. */
	FUZZ_CHECK(b32_encode(data, size, enc, sizeof(enc)) == MFA_OK);
	FUZZ_CHECK(strlen(enc) == b32_encoded_len(size));
	for (i = 0; enc[i] != '\0'; i++)
		FUZZ_CHECK((enc[i] >= 'A' && enc[i] <= 'Z') ||
		    (enc[i] >= '2' && enc[i] <= '7'));
	FUZZ_CHECK(b32_decode(enc, bin2, sizeof(bin2), &n2) == MFA_OK);
	FUZZ_CHECK(n2 == size && memcmp(data, bin2, size) == 0);
	/* A buffer one byte short must be refused, never overrun. */
	if (size > 0)
		FUZZ_CHECK(b32_encode(data, size, enc,
		    b32_encoded_len(size)) == MFA_ERR_TOOBIG);

	/* "issuer\naccount" (no newline: account only) for the Key URI. */
	issuer = NULL;
	account = s;
	if ((sep = strchr(s, '\n')) != NULL) {
		*sep = '\0';
		issuer = s;
		account = sep + 1;
	}
	memset(uri, 'x', sizeof(uri));
	rc = totp_uri(uri, sizeof(uri), issuer, account, "JBSWY3DPEHPK3PXP",
	    TOTP_SHA1, 6, 30);
	FUZZ_CHECK(rc == MFA_OK || rc == MFA_ERR_INVALID ||
	    rc == MFA_ERR_TOOBIG);
	if (rc == MFA_OK) {
		FUZZ_CHECK(memchr(uri, '\0', sizeof(uri)) != NULL);
		FUZZ_CHECK(strncmp(uri, "otpauth://totp/", 15) == 0);
		/* Percent-encoding leaves no raw space, '&', '?' or '#'. */
		FUZZ_CHECK(strpbrk(uri + 15, " #\n") == NULL);
	} else if (rc == MFA_ERR_TOOBIG) {
		FUZZ_CHECK(uri[0] == '\0');
	}
	free(s);
	return 0;
}
