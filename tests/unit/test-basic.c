/*
 * test-basic.c -- client_secret_basic decoding: RFC 6749 §2.3.1 /
 * Appendix B form-urlencoding inside the base64, the scheme, padding,
 * bounds, and that "out" is written only on success.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "basic.h"
#include "test.h"

/* "Basic " + base64(raw), standard alphabet with padding. */
static char *
basic_header(const char *raw, size_t rawlen)
{
	size_t n = sodium_base64_encoded_len(rawlen,
	    sodium_base64_VARIANT_ORIGINAL);
	char *h = malloc(6 + n);

	if (h == NULL)
		return NULL;
	memcpy(h, "Basic ", 6);
	sodium_bin2base64(h + 6, n, (const unsigned char *)raw, rawlen,
	    sodium_base64_VARIANT_ORIGINAL);
	return h;
}

static bool
basic_is_untouched(const struct basic_creds *c)
{
	const unsigned char *p = (const unsigned char *)c;
	size_t i;

	for (i = 0; i < sizeof(*c); i++)
		if (p[i] != 0xa5)
			return false;
	return true;
}

/* Credentials as the client sends them, before base64. */
static void
test_basic_raw(void)
{
	static const struct {
		const char *raw;
		size_t len; /* 0: strlen(raw) */
		enum basic_result want;
		const char *id;
		const char *secret;
	} t[] = {
		{ "client:secret", 0, BASIC_OK, "client", "secret" },
		/* Appendix B: the id "a:b%c" is sent encoded */
		{ "a%3Ab%25c:s", 0, BASIC_OK, "a:b%c", "s" },
		{ "a%3ab%25c:s", 0, BASIC_OK, "a:b%c", "s" },
		{ "client:sec+ret", 0, BASIC_OK, "client", "sec ret" },
		{ "client:sec%2Bret", 0, BASIC_OK, "client", "sec+ret" },
		{ "my+client:p%40ss%20word", 0, BASIC_OK, "my client",
		    "p@ss word" },
		{ "caf%C3%A9:%E2%82%AC", 0, BASIC_OK, "caf\xc3\xa9",
		    "\xe2\x82\xac" },
		{ "caf\xc3\xa9:x", 0, BASIC_OK, "caf\xc3\xa9", "x" },
		/*
		 * A raw second colon: the first ':' splits, so an id with an
		 * unencoded ':' is cut there and the rest joins the secret.
		 */
		{ "a:b:secret", 0, BASIC_OK, "a", "b:secret" },
		{ "a%3Ab:secret", 0, BASIC_OK, "a:b", "secret" },
		{ "id:", 0, BASIC_OK, "id", "" },
		{ "id:::", 0, BASIC_OK, "id", "::" },
		/* no colon, empty id */
		{ "nocolon", 0, BASIC_MALFORMED, NULL, NULL },
		{ "", 0, BASIC_MALFORMED, NULL, NULL },
		{ ":secret", 0, BASIC_MALFORMED, NULL, NULL },
		{ ":", 0, BASIC_MALFORMED, NULL, NULL },
		/* bad escapes */
		{ "%zz:s", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:%", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:s%4", 0, BASIC_MALFORMED, NULL, NULL },
		/* controls, NUL, invalid UTF-8 */
		{ "a%00:s", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:s%0a", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:s%7F", 0, BASIC_MALFORMED, NULL, NULL },
		{ "\x01:s", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:s\0t", 5, BASIC_MALFORMED, NULL, NULL },
		{ "a%ff:s", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:%c0%af", 0, BASIC_MALFORMED, NULL, NULL },
		{ "a:\xed\xa0\x80", 0, BASIC_MALFORMED, NULL, NULL },
	};
	struct basic_creds c;
	char *h;
	size_t i;
	enum basic_result r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		h = basic_header(t[i].raw,
		    t[i].len != 0 ? t[i].len : strlen(t[i].raw));
		if (h == NULL) {
			T_TRUE(0);
			return;
		}
		memset(&c, 0xa5, sizeof(c));
		r = basic_decode(h, &c);
		test_report(r == t[i].want, __FILE__, __LINE__,
		    "basic_decode(b64(\"%s\")) == %d, got %d", t[i].raw,
		    t[i].want, r);
		if (t[i].want == BASIC_OK) {
			T_EQ_STR(c.client_id, t[i].id);
			T_EQ_STR(c.secret, t[i].secret);
		} else
			T_TRUE(basic_is_untouched(&c));
		basic_creds_wipe(&c);
		free(h);
	}
}

/* Header values as they arrive. */
static void
test_basic_header(void)
{
	static const struct {
		const char *h;
		enum basic_result want;
	} t[] = {
		{ "Basic YTpi", BASIC_OK },          /* "a:b" */
		{ "basic YTpi", BASIC_OK },
		{ "BASIC YTpi", BASIC_OK },
		{ "bAsIc YTpi", BASIC_OK },
		{ "Basic   YTpi", BASIC_OK },
		{ "Basic YTpi \t", BASIC_OK },
		{ "Basic YTpiYw==", BASIC_OK },      /* "a:bc" */
		{ "Basic YTpiY2Q=", BASIC_OK },      /* "a:bcd" */
		{ "Basic YTpiYw", BASIC_MALFORMED }, /* padding missing */
		{ "Basic YTpiY2Q", BASIC_MALFORMED },
		{ "Basic YTpiYw=", BASIC_MALFORMED },
		{ "Basic YTpiYw===", BASIC_MALFORMED },
		{ "Basic YT pi", BASIC_MALFORMED },
		{ "Basic YTpi\n", BASIC_MALFORMED },
		{ "Basic !!!!", BASIC_MALFORMED },
		{ "Basic YT-_", BASIC_MALFORMED },   /* base64url alphabet */
		{ "Basic ", BASIC_MALFORMED },
		{ "Basic", BASIC_MALFORMED },
		{ "Basic\tYTpi", BASIC_MALFORMED },
		{ "Basic bm9jb2xvbg==", BASIC_MALFORMED }, /* "nocolon" */
		{ "Bearer YTpi", BASIC_NOT_BASIC },
		{ "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", BASIC_NOT_BASIC },
		{ "Digest username=\"a\"", BASIC_NOT_BASIC },
		{ "Basicx YTpi", BASIC_NOT_BASIC },
		{ "Basi YTpi", BASIC_NOT_BASIC },
		{ " Basic YTpi", BASIC_NOT_BASIC },
		{ "YTpi", BASIC_NOT_BASIC },
		{ "", BASIC_NOT_BASIC },
	};
	struct basic_creds c;
	size_t i;
	enum basic_result r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		r = basic_decode(t[i].h, &c);
		test_report(r == t[i].want, __FILE__, __LINE__,
		    "basic_decode(\"%s\") == %d, got %d", t[i].h, t[i].want,
		    r);
		if (t[i].want == BASIC_OK)
			T_EQ_STR(c.client_id, "a");
		else
			T_TRUE(basic_is_untouched(&c));
		basic_creds_wipe(&c);
	}
	memset(&c, 0xa5, sizeof(c));
	T_EQ_INT(basic_decode(NULL, &c), BASIC_NOT_BASIC);
	T_TRUE(basic_is_untouched(&c));
	T_EQ_INT(BASIC_MALFORMED, 0); /* a zeroed result fails closed */
}

/* The bounds: id 64 bytes, secret 256 bytes, after decoding. */
static void
test_basic_bounds(void)
{
	static const struct {
		size_t idlen, secretlen;
		bool encoded; /* every byte sent as %41 */
		enum basic_result want;
	} t[] = {
		{ 64, 256, false, BASIC_OK },
		{ 64, 256, true, BASIC_OK },
		{ 65, 1, false, BASIC_MALFORMED },
		{ 65, 1, true, BASIC_MALFORMED },
		{ 1, 257, false, BASIC_MALFORMED },
		{ 1, 257, true, BASIC_MALFORMED },
		{ 1, 0, false, BASIC_OK },
		{ 4096, 0, false, BASIC_MALFORMED },
	};
	struct basic_creds c;
	char raw[3 * 4096 + 3 * 257 + 2], *h;
	size_t i, j, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 0;
		for (j = 0; j < t[i].idlen; j++) {
			memcpy(raw + n, t[i].encoded ? "%41" : "A",
			    t[i].encoded ? 3 : 1);
			n += t[i].encoded ? 3 : 1;
		}
		raw[n++] = ':';
		for (j = 0; j < t[i].secretlen; j++) {
			memcpy(raw + n, t[i].encoded ? "%42" : "B",
			    t[i].encoded ? 3 : 1);
			n += t[i].encoded ? 3 : 1;
		}
		if ((h = basic_header(raw, n)) == NULL) {
			T_TRUE(0);
			return;
		}
		memset(&c, 0, sizeof(c));
		T_EQ_INT(basic_decode(h, &c), t[i].want);
		if (t[i].want == BASIC_OK) {
			T_EQ_INT(strlen(c.client_id), t[i].idlen);
			T_EQ_INT(strlen(c.secret), t[i].secretlen);
			T_TRUE(c.client_id[0] == 'A');
			T_TRUE(t[i].secretlen == 0 || c.secret[0] == 'B');
		}
		basic_creds_wipe(&c);
		free(h);
	}
}

static void
test_basic_wipe(void)
{
	static const struct basic_creds zero;
	struct basic_creds c;

	T_EQ_INT(basic_decode("Basic YTpiYw==", &c), BASIC_OK);
	T_EQ_STR(c.secret, "bc");
	basic_creds_wipe(&c);
	T_EQ_MEM(&c, &zero, sizeof(c));
	basic_creds_wipe(NULL);
}

void
test_basic(void)
{

	test_basic_raw();
	test_basic_header();
	test_basic_bounds();
	test_basic_wipe();
}
