/*
 * recovery.c -- making, normalising and hashing recovery codes.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "recovery.h"

static const char recovery_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

void
recovery_make(char out[RECOVERY_LEN + 1])
{
	size_t i;

	for (i = 0; i < RECOVERY_LEN; i++)
		out[i] = recovery_alphabet[randombytes_uniform(
		    sizeof(recovery_alphabet) - 1)];
	out[RECOVERY_LEN] = '\0';
}

bool
recovery_normalize(const char *in, char out[RECOVERY_LEN + 1])
{
	size_t n = 0;
	char c;

	for (; *in != '\0'; in++) {
		c = *in;
		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (n == RECOVERY_LEN || !((c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))) {
			sodium_memzero(out, RECOVERY_LEN + 1);
			return false;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != RECOVERY_LEN) {
		sodium_memzero(out, RECOVERY_LEN + 1);
		return false;
	}
	return true;
}

void
recovery_hash(const struct keys *keys, const char *user_id, const char *code,
    unsigned char out[MFA_HASH_BYTES])
{
	char domain[32 + MFA_USER_ID_MAX];

	snprintf(domain, sizeof(domain), "recovery_code:%s", user_id);
	keys_hash(keys, domain, code, strlen(code), out);
}
