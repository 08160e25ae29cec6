/*
 * mask.c -- masking and validating authenticator destinations.
 */
#include <stdio.h>
#include <string.h>

#include "mask.h"

void
mask_phone(const char *to, char *out, size_t outlen)
{
	size_t n = strlen(to), i, keep = n > 4 ? 4 : n;

	if (outlen == 0)
		return;
	for (i = 0; i + keep < n && i + 1 < outlen; i++)
		out[i] = 'X';
	snprintf(out + i, outlen - i, "%s", to + n - keep);
}

void
mask_email(const char *to, char *out, size_t outlen)
{
	const char *at = strchr(to, '@');

	if (at == NULL || at == to) {
		snprintf(out, outlen, "***");
		return;
	}
	snprintf(out, outlen, "%c***%s", to[0], at);
}

bool
mask_is_e164(const char *s)
{
	size_t n;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = strspn(s + 1, "0123456789");
	return s[1 + n] == '\0' && n >= 7 && n <= 15;
}

bool
mask_is_email(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t n = strlen(s);

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    (size_t)(at - s) > 64 || n > MFA_DEST_MAX)
		return false;
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' ||
		    *p == '"' || *p == '\\' || *p == ',' || *p == ';')
			return false;
	p = strchr(at + 1, '.');
	return p != NULL && p != at + 1 && p[1] != '\0' &&
	    s[n - 1] != '.';
}
