/*
 * form.c -- strict application/x-www-form-urlencoded decoding.
 *
 * The WHATWG parser splits on '&', splits each pair on its first '=',
 * turns '+' into a space and decodes %XX. Unlike the WHATWG parser, a '%'
 * that does not start a valid escape is an error here: a request whose
 * bytes mean two things to two parsers is refused, not guessed at.
 *
 * Work is linear in the input: one scratch buffer of len + 2 bytes is
 * allocated once and reused for every pair.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "form.h"

/* Longest parameter name quoted in an error message. */
#define FORM_ERR_NAME_MAX 32

static int
form_hexval(unsigned char c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes one form-urlencoded component "in" ("len" bytes) into "out"
 * (room for "outlen" bytes including the NUL). '+' becomes a space, %XX
 * the byte XX (either case); any other '%' is an error. Sets "*outn" to
 * the decoded length, only on success. On error "out" holds an empty
 * string (when outlen > 0). Returns MFA_OK, MFA_ERR_INVALID or
 * MFA_ERR_TOOBIG; a bad escape is reported even when the output would
 * also not fit.
 */
int
form_unescape(const char *in, size_t len, char *out, size_t outlen,
    size_t *outn)
{
	size_t i, n = 0;
	int hi, lo, rc = MFA_OK;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%') {
			if (len - i < 3 ||
			    (hi = form_hexval((unsigned char)in[i + 1])) < 0 ||
			    (lo = form_hexval((unsigned char)in[i + 2])) < 0) {
				rc = MFA_ERR_INVALID;
				goto out;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		/* Keep scanning after overflow so a bad escape still wins. */
		if (n + 1 < outlen)
			out[n] = (char)c;
		else
			rc = MFA_ERR_TOOBIG;
		n++;
	}
out:
	if (rc == MFA_OK && n + 1 > outlen)
		rc = MFA_ERR_TOOBIG;
	if (rc != MFA_OK) {
		/* The input may be a secret: leave nothing of it behind. */
		if (outlen > 0)
			sodium_memzero(out, outlen);
		return rc;
	}
	out[n] = '\0';
	*outn = n;
	return MFA_OK;
}

/*
 * Writes the error sentence for parameter "name" ("len" bytes): at most
 * FORM_ERR_NAME_MAX bytes of it, non-printable bytes shown as '?'.
 */
static void
form_err_name(char *err, size_t errlen, const char *name, size_t len)
{
	char shown[FORM_ERR_NAME_MAX + 1];
	size_t i;

	if (err == NULL || errlen == 0)
		return;
	if (len > FORM_ERR_NAME_MAX)
		len = FORM_ERR_NAME_MAX;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		shown[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	shown[len] = '\0';
	snprintf(err, errlen, "invalid percent-encoding in parameter '%s'",
	    shown);
}

/*
 * Decodes the "len" bytes at "in" and calls "fn" once per non-empty pair,
 * in input order, with the decoded name and value (borrowed for the call;
 * wiped afterwards). Returns MFA_OK, the callback's first non-zero
 * result, MFA_ERR_INVALID (bad escape; "err" names the parameter: its
 * decoded name when the name itself decodes, else the raw bytes) or
 * MFA_ERR_NOMEM. "err" may be NULL.
 */
int
form_decode(const char *in, size_t len, form_pair_fn fn, void *arg,
    char *err, size_t errlen)
{
	const char *p, *end, *amp, *next, *eq, *rawvalue;
	char *buf = NULL, *name, *value;
	size_t bufsz, namelen, valuelen, rawnamelen, rawvaluelen;
	int rc = MFA_OK;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len == 0)
		return MFA_OK;

	/* A name and a value never decode longer than their pair. */
	bufsz = len + 2;
	if ((buf = malloc(bufsz)) == NULL)
		return MFA_ERR_NOMEM;

	for (p = in, end = in + len; p < end; p = next) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		next = amp < end ? amp + 1 : end;
		if (amp == p)
			continue; /* empty pair */
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		rawnamelen = (size_t)(eq - p);
		rawvalue = eq < amp ? eq + 1 : amp;
		rawvaluelen = (size_t)(amp - rawvalue);

		name = buf;
		if (form_unescape(p, rawnamelen, name, rawnamelen + 1,
		    &namelen) != MFA_OK) {
			form_err_name(err, errlen, p, rawnamelen);
			rc = MFA_ERR_INVALID;
			goto out;
		}
		value = buf + namelen + 1;
		if (form_unescape(rawvalue, rawvaluelen, value, rawvaluelen + 1,
		    &valuelen) != MFA_OK) {
			form_err_name(err, errlen, name, namelen);
			rc = MFA_ERR_INVALID;
			goto out;
		}
		rc = fn(arg, name, namelen, value, valuelen);
		sodium_memzero(buf, namelen + valuelen + 2);
		if (rc != MFA_OK)
			goto out;
	}
out:
	sodium_memzero(buf, bufsz);
	free(buf);
	return rc;
}
