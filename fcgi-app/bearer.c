/*
 * bearer.c -- parsing "Authorization: Bearer <token68>".
 */
#include <string.h>
#include <strings.h>

#include "bearer.h"

/* RFC 7235 token68: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/",
 * then "=" padding. */
static const char token68[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
    "uvwxyz0123456789-._~+/";

enum bearer_result
bearer_parse(const char *header, char *out, size_t outlen)
{
	size_t n, pad;

	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\0'))
		return BEARER_ABSENT;
	header += 6;
	while (*header == ' ')
		header++;
	n = strspn(header, token68);
	pad = strspn(header + n, "=");
	if (n == 0 || header[n + pad] != '\0' || n + pad >= outlen)
		return BEARER_MALFORMED;
	memcpy(out, header, n + pad);
	out[n + pad] = '\0';
	return BEARER_OK;
}
