/*
 * b32.c -- RFC 4648 §6 base32 (alphabet A-Z 2-7), the encoding of
 * otpauth:// TOTP secrets. Encoding never pads (Key URI format); decoding
 * accepts what people copy from authenticator apps: any case, spaces and
 * dashes between groups, optional '=' padding.
 *
 * libsodium has base64 and hex codecs but no base32, hence this file.
 */
#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "b32.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The 5-bit value of "c" (either case) or -1. */
static int
b32_val(unsigned char c)
{

	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

static bool
b32_is_ignored(char c)
{

	return c == ' ' || c == '-';
}

/*
 * Length of the unpadded encoding of "n" bytes: ceil(8n / 5), computed
 * without overflowing. The NUL is not counted.
 */
size_t
b32_encoded_len(size_t n)
{

	return n / 5 * 8 + (n % 5 * 8 + 4) / 5;
}

/*
 * Encodes "n" bytes of "in" as upper-case base32 without padding into
 * "out" (room for "outlen" bytes including the NUL). Returns MFA_OK or
 * MFA_ERR_TOOBIG (then "out" is untouched).
 */
int
b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0, need = b32_encoded_len(n);
	uint32_t acc = 0;
	unsigned bits = 0;

	if (need >= outlen)
		return MFA_ERR_TOOBIG;
	for (i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 0x1f];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	sodium_memzero(&acc, sizeof(acc));
	return MFA_OK;
}

/*
 * Decodes "in" (NUL-terminated). Case does not matter; ' ' and '-' are
 * skipped anywhere. Padding is optional, but when present it must
 * complete the last 8-character group exactly, and only padding (or
 * skipped characters) may follow the first '='. A group may end after 2,
 * 4, 5 or 7 characters (RFC 4648 §6), and the unused low bits of its
 * last character must be zero (RFC 4648 §3.5). Writes the bytes to "out"
 * (room for "outlen") and sets "*outn", both only on success. Returns
 * MFA_OK, MFA_ERR_INVALID or MFA_ERR_TOOBIG.
 */
int
b32_decode(const char *in, unsigned char *out, size_t outlen, size_t *outn)
{
	const char *p;
	size_t nchars = 0, npad = 0, nbytes, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0, extra;
	int v, last = 0;

	/* First pass: syntax, padding and length; nothing written. */
	for (p = in; *p != '\0'; p++) {
		if (b32_is_ignored(*p))
			continue;
		if (*p == '=') {
			npad++;
			continue;
		}
		if (npad > 0 || (v = b32_val((unsigned char)*p)) < 0)
			return MFA_ERR_INVALID;
		last = v;
		nchars++;
	}
	switch (nchars % 8) {
	case 0:
	case 2:
	case 4:
	case 5:
	case 7:
		break;
	default:
		return MFA_ERR_INVALID;
	}
	if (npad > 0 && (nchars % 8 == 0 || nchars % 8 + npad != 8))
		return MFA_ERR_INVALID;
	extra = (unsigned)(nchars % 8 * 5 % 8);
	if (extra > 0 && (last & ((1 << extra) - 1)) != 0)
		return MFA_ERR_INVALID;
	nbytes = nchars / 8 * 5 + nchars % 8 * 5 / 8;
	if (nbytes > outlen)
		return MFA_ERR_TOOBIG;

	/* Second pass: the input is known good. */
	for (p = in; *p != '\0' && *p != '='; p++) {
		if (b32_is_ignored(*p))
			continue;
		acc = (acc << 5 | (uint32_t)b32_val((unsigned char)*p)) &
		    0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	sodium_memzero(&acc, sizeof(acc));
	*outn = o;
	return MFA_OK;
}
