/*
 * basic.c -- client_secret_basic (RFC 6749 §2.3.1, RFC 7617).
 *
 * The header carries base64(urlencode(client_id) ":" urlencode(secret)),
 * the encoding being RFC 6749 Appendix B's application/x-www-form-
 * urlencoded: "+" is a space, "%2B" a plus, "%3A" a colon. The first raw
 * ':' splits id from secret, so a client that forgets to encode sends
 * "a:b:s" and gets id "a", secret "b:s" (a colon in a secret survives
 * either way; one in an id must be encoded).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "basic.h"
#include "form.h"

/* Longest decoded "id:secret" that can still pass the bounds (%XX each). */
#define BASIC_RAW_MAX (3 * (MFA_CLIENT_ID_MAX + BASIC_SECRET_MAX) + 1)

/* Whether "s" ("len" bytes) is UTF-8 without C0 controls, NUL or DEL. */
static bool
basic_is_text(const char *s, size_t len)
{
	json_t *j;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	if ((j = json_stringn(s, len)) == NULL)
		return false;
	json_decref(j);
	return true;
}

/*
 * Decodes the Authorization header value "header" (may be NULL). Returns
 * BASIC_NOT_BASIC when there is no header or its scheme is not "Basic"
 * (compared without regard to case); BASIC_MALFORMED when the scheme is
 * Basic but: no space follows it, the credentials are not padded
 * standard base64 (trailing spaces and tabs are tolerated), the decoded
 * text has no ':', a part has a bad %-escape, is not UTF-8, holds a
 * control character or is over its bound, or the id is empty;
 * BASIC_OK otherwise, with "out" filled (only then). The caller wipes
 * "out" with basic_creds_wipe. Nothing secret is left on the stack.
 */
enum basic_result
basic_decode(const char *header, struct basic_creds *out)
{
	struct basic_creds c;
	unsigned char raw[BASIC_RAW_MAX];
	const char *p, *b64, *colon;
	size_t b64len, rawlen = 0, rawidlen, idlen, secretlen;
	enum basic_result res = BASIC_MALFORMED;

	if (header == NULL)
		return BASIC_NOT_BASIC;
	for (p = header; *p != '\0' && *p != ' ' && *p != '\t'; p++)
		continue;
	if ((size_t)(p - header) != 5 || strncasecmp(header, "basic", 5) != 0)
		return BASIC_NOT_BASIC;
	if (*p != ' ')
		return BASIC_MALFORMED;
	while (*p == ' ')
		p++;
	b64 = p;
	b64len = strlen(b64);
	while (b64len > 0 &&
	    (b64[b64len - 1] == ' ' || b64[b64len - 1] == '\t'))
		b64len--;

	memset(&c, 0, sizeof(c));
	/* No "ignore" set and no end pointer: any stray byte fails. */
	if (b64len == 0 || sodium_base642bin(raw, sizeof(raw), b64, b64len,
	    NULL, &rawlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	if ((colon = memchr(raw, ':', rawlen)) == NULL)
		goto out;
	rawidlen = (size_t)(colon - (const char *)raw);
	if (form_unescape((const char *)raw, rawidlen, c.client_id,
	    sizeof(c.client_id), &idlen) != MFA_OK ||
	    form_unescape(colon + 1, rawlen - rawidlen - 1, c.secret,
	    sizeof(c.secret), &secretlen) != MFA_OK)
		goto out;
	if (idlen == 0 || !basic_is_text(c.client_id, idlen) ||
	    !basic_is_text(c.secret, secretlen))
		goto out;
	*out = c;
	res = BASIC_OK;
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(&c, sizeof(c));
	return res;
}

/* Wipes "c" entirely (sodium_memzero); accepts NULL. */
void
basic_creds_wipe(struct basic_creds *c)
{

	if (c == NULL)
		return;
	sodium_memzero(c, sizeof(*c));
}
