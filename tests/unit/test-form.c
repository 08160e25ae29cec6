/*
 * test-form.c -- form_decode and form_unescape: valid and invalid bodies,
 * what the callback sees, the error sentence, and bounded work.
 */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "test.h"

/*
 * What the callback saw: "[name|value]" per pair, bytes outside
 * 0x20-0x7e as \xHH.
 */
struct collect {
	char buf[1024];
	size_t len;
	unsigned calls;
	const char *stop_at; /* name at which the callback fails, or NULL */
};

static void
collect_put(struct collect *c, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (c->len + 5 >= sizeof(c->buf))
			return;
		if (ch >= 0x20 && ch < 0x7f)
			c->buf[c->len++] = (char)ch;
		else
			c->len += (size_t)snprintf(c->buf + c->len, 5,
			    "\\x%02x", ch);
	}
	c->buf[c->len] = '\0';
}

static int
collect_pair(void *arg, const char *name, size_t namelen, const char *value,
    size_t valuelen)
{
	struct collect *c = arg;

	c->calls++;
	/* The buffers are NUL-terminated at their lengths. */
	if (name[namelen] != '\0' || value[valuelen] != '\0')
		return MFA_ERR_CORRUPT;
	if (c->stop_at != NULL && strlen(c->stop_at) == namelen &&
	    memcmp(c->stop_at, name, namelen) == 0)
		return MFA_ERR_EXISTS;
	collect_put(c, "[", 1);
	collect_put(c, name, namelen);
	collect_put(c, "|", 1);
	collect_put(c, value, valuelen);
	collect_put(c, "]", 1);
	return MFA_OK;
}

static int
count_pair(void *arg, const char *name, size_t namelen, const char *value,
    size_t valuelen)
{

	(*(unsigned long *)arg)++;
	return MFA_OK;
}

static void
test_form_decode_table(void)
{
	static const struct {
		const char *in;
		size_t len; /* 0: strlen(in) */
		int rc;
		const char *seen;
		const char *err;
	} t[] = {
		{ "", 0, MFA_OK, "", "" },
		{ "a=1&b=2", 0, MFA_OK, "[a|1][b|2]", "" },
		{ "a=1&&b=2&", 0, MFA_OK, "[a|1][b|2]", "" },
		{ "&", 0, MFA_OK, "", "" },
		{ "&&&", 0, MFA_OK, "", "" },
		{ "a", 0, MFA_OK, "[a|]", "" },
		{ "a=", 0, MFA_OK, "[a|]", "" },
		{ "=v", 0, MFA_OK, "[|v]", "" },
		{ "=", 0, MFA_OK, "[|]", "" },
		{ "a=b=c", 0, MFA_OK, "[a|b=c]", "" },
		{ "a+b=c+d", 0, MFA_OK, "[a b|c d]", "" },
		{ "%41%2b=%2B%2f", 0, MFA_OK, "[A+|+/]", "" },
		{ "x=%e2%82%AC", 0, MFA_OK, "[x|\\xe2\\x82\\xac]", "" },
		{ "x=%00", 0, MFA_OK, "[x|\\x00]", "" },
		{ "x=%25", 0, MFA_OK, "[x|%]", "" },
		{ "x=%2525", 0, MFA_OK, "[x|%25]", "" },
		{ "x=a;b", 0, MFA_OK, "[x|a;b]", "" },
		{ "x=1&x=2", 0, MFA_OK, "[x|1][x|2]", "" }, /* caller decides */
		{ "x=\xc3\xa9 ", 0, MFA_OK, "[x|\\xc3\\xa9 ]", "" },
		{ "a=1&b=2\0c=3", 11, MFA_OK, "[a|1][b|2\\x00c=3]", "" },
		{ "x=%", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "x=%4", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "x=%zz", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "x=%4g", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "x=%g4", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "x=%%41", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'x'" },
		{ "otp=12%3", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'otp'" },
		{ "a=1&otp=%G1&b=2", 0, MFA_ERR_INVALID, "[a|1]",
		    "invalid percent-encoding in parameter 'otp'" },
		/* bad escape in the name: the raw name is shown */
		{ "a%=1", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'a%'" },
		{ "a%4=1", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'a%4'" },
		{ "\x01\xff%", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter '??%'" },
		/* decoded name with non-printables and escapes */
		{ "%01b%41=%", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter '?bA'" },
		{ "client%5Fid=%", 0, MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter 'client_id'" },
		/* names longer than 32 bytes are cut */
		{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn=%", 0,
		    MFA_ERR_INVALID, "",
		    "invalid percent-encoding in parameter "
		    "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'" },
	};
	struct collect c;
	char err[128];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0, sizeof(c));
		memset(err, 'X', sizeof(err));
		len = t[i].len != 0 ? t[i].len : strlen(t[i].in);
		rc = form_decode(t[i].in, len, collect_pair, &c, err,
		    sizeof(err));
		T_EQ_INT(rc, t[i].rc);
		T_EQ_STR(c.buf, t[i].seen);
		T_EQ_STR(err, t[i].err);
	}
}

static void
test_form_decode_misc(void)
{
	struct collect c;
	char err[16], *big;
	unsigned long n;
	size_t i, len;
	int rc;

	/* The callback's result stops decoding and is returned as is. */
	memset(&c, 0, sizeof(c));
	c.stop_at = "stop";
	rc = form_decode("a=1&stop=2&b=3", 14, collect_pair, &c, NULL, 0);
	T_EQ_INT(rc, MFA_ERR_EXISTS);
	T_EQ_STR(c.buf, "[a|1]");
	T_EQ_INT(c.calls, 2);

	/* NULL input with length 0, NULL err: fine. */
	memset(&c, 0, sizeof(c));
	T_EQ_INT(form_decode(NULL, 0, collect_pair, &c, NULL, 0), MFA_OK);
	T_EQ_INT(c.calls, 0);

	/* A short err buffer is truncated, still NUL-terminated. */
	memset(&c, 0, sizeof(c));
	rc = form_decode("otp=%", 5, collect_pair, &c, err, sizeof(err));
	T_EQ_INT(rc, MFA_ERR_INVALID);
	T_EQ_STR(err, "invalid percent");

	/* Bounded work: 1 MiB of pairs, then of separators. */
	len = 1u << 20;
	big = malloc(len);
	T_TRUE(big != NULL);
	if (big == NULL)
		return;
	for (i = 0; i < len; i += 4)
		memcpy(big + i, "a=1&", 4);
	n = 0;
	T_EQ_INT(form_decode(big, len, count_pair, &n, NULL, 0), MFA_OK);
	T_EQ_INT(n, len / 4);
	memset(big, '&', len);
	n = 0;
	T_EQ_INT(form_decode(big, len, count_pair, &n, NULL, 0), MFA_OK);
	T_EQ_INT(n, 0);
	/* One huge value, one bad escape at its very end. */
	memset(big, 'v', len);
	memcpy(big, "k=", 2);
	big[len - 1] = '%';
	n = 0;
	T_EQ_INT(form_decode(big, len, count_pair, &n, NULL, 0),
	    MFA_ERR_INVALID);
	T_EQ_INT(n, 0);
	free(big);
}

static void
test_form_unescape_table(void)
{
	static const struct {
		const char *in;
		size_t inlen;
		size_t outlen;
		int rc;
		const char *out;
		size_t outn;
	} t[] = {
		{ "abc", 3, 4, MFA_OK, "abc", 3 },
		{ "abc", 3, 3, MFA_ERR_TOOBIG, "", 0 },
		{ "", 0, 1, MFA_OK, "", 0 },
		{ "", 0, 0, MFA_ERR_TOOBIG, NULL, 0 },
		{ "%41", 3, 2, MFA_OK, "A", 1 },
		{ "%41%42", 6, 2, MFA_ERR_TOOBIG, "", 0 },
		{ "a+b", 3, 8, MFA_OK, "a b", 3 },
		{ "%2B%2b", 6, 8, MFA_OK, "++", 2 },
		{ "%3A%3a", 6, 8, MFA_OK, "::", 2 },
		{ "%7e~", 4, 8, MFA_OK, "~~", 2 },
		{ "%4", 2, 8, MFA_ERR_INVALID, "", 0 },
		{ "%", 1, 8, MFA_ERR_INVALID, "", 0 },
		{ "ab%", 3, 8, MFA_ERR_INVALID, "", 0 },
		{ "%-1", 3, 8, MFA_ERR_INVALID, "", 0 },
		{ "% 1", 3, 8, MFA_ERR_INVALID, "", 0 },
		/* a bad escape is reported even past the end of room */
		{ "aaaa%zz", 7, 2, MFA_ERR_INVALID, "", 0 },
		/* "len" bounds the read: the '%' after it is not seen */
		{ "ab%", 2, 8, MFA_OK, "ab", 2 },
	};
	char out[16];
	size_t i, outn;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'X', sizeof(out));
		outn = 999;
		rc = form_unescape(t[i].in, t[i].inlen, out, t[i].outlen,
		    &outn);
		T_EQ_INT(rc, t[i].rc);
		if (t[i].out != NULL)
			T_EQ_STR(out, t[i].out);
		else
			T_EQ_INT(out[0], 'X'); /* outlen 0: nothing written */
		T_EQ_INT(outn, rc == MFA_OK ? t[i].outn : 999);
	}

	/* %00 gives a NUL byte inside the length. */
	rc = form_unescape("a%00b", 5, out, sizeof(out), &outn);
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(outn, 3);
	T_EQ_MEM(out, "a\0b\0", 4);
}

void
test_form(void)
{

	test_form_decode_table();
	test_form_decode_misc();
	test_form_unescape_table();
}
