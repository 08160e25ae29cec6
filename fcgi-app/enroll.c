/*
 * enroll.c -- new authenticators (see enroll.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "b32.h"
#include "enroll.h"
#include "ids.h"
#include "mask.h"
#include "totp.h"

void
enroll_begin(struct authn_rec *a, const char *user_id, mfa_ms now,
    int64_t ttl_s)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->user_id, sizeof(a->user_id), "%s", user_id);
	a->active = ttl_s == 0;
	a->expires_at = ttl_s == 0 ? 0 : now + ttl_s * 1000;
	a->last_step = -1;
	a->created_at = now;
}

int
enroll_otp(struct authn_rec *a, const struct keys *keys,
    const unsigned char *seed, size_t n, char b32[ENROLL_B32_MAX])
{
	unsigned char fresh[ENROLL_SEED_GEN];
	char ad[16 + MFA_AUTHN_ID_MAX];
	int rc;

	if (seed == NULL) {
		randombytes_buf(fresh, sizeof(fresh));
		seed = fresh;
		n = sizeof(fresh);
	} else if (n < ENROLL_SEED_MIN || n > ENROLL_SEED_MAX) {
		return MFA_ERR_INVALID;
	}
	a->type = AUTHN_OTP;
	a->channel = CHANNEL_NONE;
	a->alg = TOTP_SHA1;
	a->digits = 6;
	a->period = 30;
	if (a->id[0] == '\0')
		ids_authenticator("totp", a->id);
	snprintf(ad, sizeof(ad), "totp:%s", a->id);
	rc = keys_seal(keys, ad, seed, n, a->secret_sealed,
	    sizeof(a->secret_sealed));
	if (rc == MFA_OK)
		rc = b32_encode(seed, n, b32, ENROLL_B32_MAX);
	sodium_memzero(fresh, sizeof(fresh));
	return rc;
}

int
enroll_oob(struct authn_rec *a, enum oob_channel channel, const char *to)
{
	if (channel == CHANNEL_NONE || to == NULL ||
	    (channel == CHANNEL_EMAIL ? !mask_is_email(to) :
	    !mask_is_e164(to)))
		return MFA_ERR_INVALID;
	a->type = AUTHN_OOB;
	a->channel = channel;
	snprintf(a->to, sizeof(a->to), "%s", to);
	if (a->id[0] == '\0')
		ids_authenticator(record_channel_name(channel), a->id);
	return MFA_OK;
}

int
enroll_list(struct store_txn *txn, const char *user_id,
    struct authn_rec out[STORE_AUTHN_PER_USER], size_t *n)
{
	size_t i, j = 0;
	int rc;

	rc = store_authn_list(txn, user_id, out, STORE_AUTHN_PER_USER, n);
	for (i = 0; rc == MFA_OK && i < *n; i++) {
		if (out[i].client_id[0] != '\0')
			continue;
		if (j != i)
			out[j] = out[i];
		j++;
	}
	if (rc != MFA_OK)
		j = 0;
	if (j < STORE_AUTHN_PER_USER)
		sodium_memzero(&out[j], (STORE_AUTHN_PER_USER - j) *
		    sizeof(out[0]));
	*n = j;
	return rc;
}

bool
enroll_is_live(const struct authn_rec *a, mfa_ms now)
{
	return a->active || a->expires_at > now;
}

void
enroll_keep_live(struct authn_rec *a, size_t *n, mfa_ms now)
{
	size_t i, j = 0;

	for (i = 0; i < *n; i++) {
		if (!enroll_is_live(&a[i], now))
			continue;
		if (j != i)
			a[j] = a[i];
		j++;
	}
	if (j < *n)
		sodium_memzero(&a[j], (*n - j) * sizeof(a[0]));
	*n = j;
}

int
enroll_save(struct store_txn *txn, const struct authn_rec *a, mfa_ms now)
{
	struct authn_rec have[STORE_AUTHN_PER_USER];
	size_t n, i, live = 0;
	int rc;

	rc = store_authn_list(txn, a->user_id, have, STORE_AUTHN_PER_USER,
	    &n);
	for (i = 0; rc == MFA_OK && i < n; i++) {
		if (enroll_is_live(&have[i], now))
			live++;
		else
			rc = store_authn_del(txn, have[i].id);
	}
	sodium_memzero(have, sizeof(have));
	if (rc == MFA_OK && live >= STORE_AUTHN_PER_USER)
		rc = MFA_ERR_LIMIT;
	return rc == MFA_OK ? store_authn_put(txn, a) : rc;
}

int
enroll_has_active(struct store_txn *txn, const char *user_id, bool *yes)
{
	struct authn_rec have[STORE_AUTHN_PER_USER];
	size_t n, i;
	int rc;

	*yes = false;
	rc = enroll_list(txn, user_id, have, &n);
	for (i = 0; rc == MFA_OK && i < n; i++)
		if (have[i].active)
			*yes = true;
	sodium_memzero(have, sizeof(have));
	return rc;
}

int
enroll_recovery(struct store_txn *txn, const struct keys *keys,
    const char *user_id, char (*codes)[RECOVERY_LEN + 1], size_t n)
{
	unsigned char h[MFA_HASH_BYTES];
	size_t i;
	int rc;

	rc = store_recovery_clear(txn, user_id);
	for (i = 0; rc == MFA_OK && i < n; i++) {
		recovery_make(codes[i]);
		recovery_hash(keys, user_id, codes[i], h);
		rc = store_recovery_add(txn, user_id, h);
	}
	sodium_memzero(h, sizeof(h));
	return rc;
}

void
enroll_recovery_id(const struct keys *keys, const char *user_id,
    char out[MFA_AUTHN_ID_MAX + 1])
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char h[MFA_HASH_BYTES];
	char tail[17];
	size_t i;

	keys_hash(keys, "recovery-id", user_id, strlen(user_id), h);
	for (i = 0; i < 16; i++)
		tail[i] = alnum[h[i] % (sizeof(alnum) - 1)];
	tail[16] = '\0';
	snprintf(out, MFA_AUTHN_ID_MAX + 1, "recovery-code|dev_%s", tail);
}

bool
enroll_confirm(struct authn_rec *a)
{
	if (a->active)
		return false;
	a->active = true;
	a->expires_at = 0;
	return true;
}
