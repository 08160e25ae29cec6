/*
 * test-b32.c -- base32: the RFC 4648 §10 vectors both ways, the forms
 * authenticator apps display, and invalid input (characters, padding,
 * group lengths, non-zero trailing bits, room).
 */
#include <string.h>

#include "b32.h"
#include "test.h"

/* RFC 4648 §10; the encoder does not pad. */
static const struct {
	const char *raw;
	const char *padded;
	const char *unpadded;
} b32_vectors[] = {
	{ "", "", "" },
	{ "f", "MY======", "MY" },
	{ "fo", "MZXQ====", "MZXQ" },
	{ "foo", "MZXW6===", "MZXW6" },
	{ "foob", "MZXW6YQ=", "MZXW6YQ" },
	{ "fooba", "MZXW6YTB", "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI======", "MZXW6YTBOI" },
	/* RFC 4226 / RFC 6238 test secret */
	{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
};

static void
test_b32_vectors(void)
{
	char enc[64];
	unsigned char dec[64];
	size_t i, n, rawlen;

	for (i = 0; i < sizeof(b32_vectors) / sizeof(b32_vectors[0]); i++) {
		rawlen = strlen(b32_vectors[i].raw);
		T_EQ_INT(b32_encoded_len(rawlen),
		    strlen(b32_vectors[i].unpadded));
		memset(enc, 'X', sizeof(enc));
		T_EQ_INT(b32_encode((const unsigned char *)b32_vectors[i].raw,
		    rawlen, enc, sizeof(enc)), MFA_OK);
		T_EQ_STR(enc, b32_vectors[i].unpadded);

		n = 999;
		T_EQ_INT(b32_decode(b32_vectors[i].padded, dec, sizeof(dec),
		    &n), MFA_OK);
		T_EQ_INT(n, rawlen);
		T_EQ_MEM(dec, b32_vectors[i].raw, rawlen);
		n = 999;
		T_EQ_INT(b32_decode(b32_vectors[i].unpadded, dec, sizeof(dec),
		    &n), MFA_OK);
		T_EQ_INT(n, rawlen);
		T_EQ_MEM(dec, b32_vectors[i].raw, rawlen);
	}
}

static void
test_b32_encode_misc(void)
{
	static const unsigned char all[] = { 0x00, 0xff, 0x10, 0x83, 0x7f };
	static const size_t lens[] = { 0, 2, 4, 5, 7, 8, 10, 12, 13, 15, 16 };
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		T_EQ_INT(b32_encoded_len(i), lens[i]);
	/* ceil(8n/5) without overflow */
	T_EQ_INT(b32_encoded_len((size_t)-1 / 8 * 5),
	    (size_t)-1 / 8 * 8);

	T_EQ_INT(b32_encode(all, 5, out, sizeof(out)), MFA_OK);
	T_EQ_STR(out, "AD7RBA37");
	T_EQ_INT(b32_encode(all, 1, out, sizeof(out)), MFA_OK);
	T_EQ_STR(out, "AA");
	T_EQ_INT(b32_encode(all + 1, 1, out, sizeof(out)), MFA_OK);
	T_EQ_STR(out, "74");

	/* Room: the encoding plus the NUL. */
	memset(out, 'X', sizeof(out));
	T_EQ_INT(b32_encode((const unsigned char *)"foobar", 6, out, 10),
	    MFA_ERR_TOOBIG);
	T_EQ_INT(out[0], 'X');
	T_EQ_INT(b32_encode((const unsigned char *)"foobar", 6, out, 11),
	    MFA_OK);
	T_EQ_STR(out, "MZXW6YTBOI");
	T_EQ_INT(b32_encode((const unsigned char *)"", 0, out, 0),
	    MFA_ERR_TOOBIG);
	T_EQ_INT(b32_encode((const unsigned char *)"", 0, out, 1), MFA_OK);
	T_EQ_STR(out, "");
}

static void
test_b32_decode_table(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} t[] = {
		/* as apps show secrets */
		{ "mzxw6ytboi", MFA_OK, "foobar" },
		{ "MzXw6YtBoI", MFA_OK, "foobar" },
		{ "MZXW 6YTB OI", MFA_OK, "foobar" },
		{ "mzxw-6ytb-oi", MFA_OK, "foobar" },
		{ " MZXW6YTBOI ", MFA_OK, "foobar" },
		{ "MY== ====", MFA_OK, "f" },
		{ "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", MFA_OK,
		    "12345678901234567890" },
		{ "   ", MFA_OK, "" },
		/* characters outside the alphabet */
		{ "M0", MFA_ERR_INVALID, NULL },
		{ "M1", MFA_ERR_INVALID, NULL },
		{ "M8", MFA_ERR_INVALID, NULL },
		{ "MZ!Q", MFA_ERR_INVALID, NULL },
		{ "MZXW6YTB\tOI", MFA_ERR_INVALID, NULL },
		{ "MZXW_6YTB", MFA_ERR_INVALID, NULL },
		{ "MZXW6YTB\xc3\x89", MFA_ERR_INVALID, NULL },
		/* group lengths 1, 3, 6 cannot end a group */
		{ "M", MFA_ERR_INVALID, NULL },
		{ "MZX", MFA_ERR_INVALID, NULL },
		{ "MZXW6Y", MFA_ERR_INVALID, NULL },
		{ "MZXW6YTBO", MFA_ERR_INVALID, NULL },
		{ "M=======", MFA_ERR_INVALID, NULL },
		/* padding */
		{ "MY=", MFA_ERR_INVALID, NULL },
		{ "MY=====", MFA_ERR_INVALID, NULL },
		{ "MY=======", MFA_ERR_INVALID, NULL },
		{ "MZXW6YTB========", MFA_ERR_INVALID, NULL },
		{ "========", MFA_ERR_INVALID, NULL },
		{ "=", MFA_ERR_INVALID, NULL },
		{ "=MY", MFA_ERR_INVALID, NULL },
		{ "MY==a===", MFA_ERR_INVALID, NULL },
		{ "MY======MY======", MFA_ERR_INVALID, NULL },
		/* non-zero unused bits (RFC 4648 §3.5) */
		{ "MZ", MFA_ERR_INVALID, NULL },
		{ "MZXR", MFA_ERR_INVALID, NULL },
		{ "MZXW7", MFA_ERR_INVALID, NULL },
		{ "MZXW6YR", MFA_ERR_INVALID, NULL },
		{ "MZXW6YTBOJ", MFA_ERR_INVALID, NULL },
		{ "MZ======", MFA_ERR_INVALID, NULL },
	};
	unsigned char out[32];
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 0xa5, sizeof(out));
		n = 999;
		rc = b32_decode(t[i].in, out, sizeof(out), &n);
		test_report(rc == t[i].rc, __FILE__, __LINE__,
		    "b32_decode(\"%s\") == %d, got %d", t[i].in, t[i].rc, rc);
		if (t[i].out != NULL) {
			T_EQ_INT(n, strlen(t[i].out));
			T_EQ_MEM(out, t[i].out, strlen(t[i].out));
		} else {
			T_EQ_INT(n, 999); /* set only on success */
			T_EQ_INT(out[0], 0xa5);
		}
	}
}

static void
test_b32_decode_room(void)
{
	unsigned char out[8];
	size_t n = 999;

	memset(out, 0xa5, sizeof(out));
	T_EQ_INT(b32_decode("MZXW6YTBOI", out, 5, &n), MFA_ERR_TOOBIG);
	T_EQ_INT(n, 999);
	T_EQ_INT(out[0], 0xa5);
	T_EQ_INT(b32_decode("MZXW6YTBOI", out, 6, &n), MFA_OK);
	T_EQ_INT(n, 6);
	T_EQ_MEM(out, "foobar", 6);
	T_EQ_INT(out[6], 0xa5); /* nothing written past the bytes */
	n = 999;
	T_EQ_INT(b32_decode("", out, 0, &n), MFA_OK);
	T_EQ_INT(n, 0);
	/* a bad character is reported before the room */
	T_EQ_INT(b32_decode("MZXW6YTBO1", out, 1, &n), MFA_ERR_INVALID);
}

static void
test_b32_roundtrip(void)
{
	unsigned char in[64], back[64];
	char enc[128];
	size_t len, i, n;
	int ok = 1;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (len = 0; len <= sizeof(in); len++) {
		if (b32_encode(in, len, enc, sizeof(enc)) != MFA_OK ||
		    strlen(enc) != b32_encoded_len(len) ||
		    b32_decode(enc, back, sizeof(back), &n) != MFA_OK ||
		    n != len || memcmp(in, back, len) != 0)
			ok = 0;
	}
	T_TRUE(ok);
}

void
test_b32(void)
{

	test_b32_vectors();
	test_b32_encode_misc();
	test_b32_decode_table();
	test_b32_decode_room();
	test_b32_roundtrip();
}
