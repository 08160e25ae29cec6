/*
 * bench_provision.c -- bulk provisioning for make bench: "mfactl user
 * enroll" and "mfactl token issue" for thousands of users, in a few write
 * transactions instead of one process per user.
 *
 *   bench-provision DB PREFIX FIRST COUNT SMS CLIENT_ID...
 *
 * Creates users PREFIX-FIRST .. PREFIX-(FIRST+COUNT-1), each with a TOTP
 * authenticator (SHA1, 6 digits, 30 s, a random 20-byte seed) and, when SMS
 * is 1, an SMS authenticator; issues one mfa_token (1 hour) per user for
 * every CLIENT_ID. Prints one line per user on stdout, tab-separated:
 * user_id, base32 seed, then a token per client in argument order. These
 * are benchmark credentials in a throw-away store: never use it elsewhere.
 *
 *   bench-provision DB --clear-outbox
 *
 * Deletes every out-of-band message waiting in the store's outbox (what a
 * delivery agent would have sent) and prints how many, so that one
 * benchmark case does not leave the next a store grown by its messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b32.h"
#include "clock.h"
#include "ids.h"
#include "keys.h"
#include "store.h"
#include "token.h"
#include "totp.h"

#define BATCH 2000
#define SEED 20

static int
provision_one(struct store_txn *txn, const struct keys *keys,
    const char *user, int sms, char **clients, int nclients, mfa_ms now)
{
	unsigned char seed[SEED];
	char ad[16 + MFA_AUTHN_ID_MAX], b32[64], tok[MFA_HANDLE_LEN + 1];
	struct authn_rec a;
	int i, rc;

	memset(&a, 0, sizeof(a));
	snprintf(a.user_id, sizeof(a.user_id), "%s", user);
	a.active = true;
	a.last_step = -1;
	a.created_at = now;
	a.type = AUTHN_OTP;
	a.alg = TOTP_SHA1;
	a.digits = 6;
	a.period = 30;
	ids_authenticator("totp", a.id);
	randombytes_buf(seed, sizeof(seed));
	snprintf(ad, sizeof(ad), "totp:%s", a.id);
	if ((rc = keys_seal(keys, ad, seed, sizeof(seed), a.secret_sealed,
	    sizeof(a.secret_sealed))) != MFA_OK ||
	    (rc = b32_encode(seed, sizeof(seed), b32, sizeof(b32))) != MFA_OK ||
	    (rc = store_authn_put(txn, &a)) != MFA_OK)
		return rc;
	if (sms) {
		memset(&a, 0, sizeof(a));
		snprintf(a.user_id, sizeof(a.user_id), "%s", user);
		a.active = true;
		a.last_step = -1;
		a.created_at = now + 1;
		a.type = AUTHN_OOB;
		a.channel = CHANNEL_SMS;
		snprintf(a.to, sizeof(a.to), "+15555550100");
		ids_authenticator("sms", a.id);
		if ((rc = store_authn_put(txn, &a)) != MFA_OK)
			return rc;
	}
	printf("%s\t%s", user, b32);
	for (i = 0; i < nclients; i++) {
		if ((rc = token_issue(txn, keys, clients[i], user, NULL, 3600,
		    now, tok)) != MFA_OK)
			return rc;
		printf("\t%s", tok);
	}
	putchar('\n');
	return MFA_OK;
}

#define CLEAR_BATCH 4096

/* Collects up to CLEAR_BATCH outbox keys into "arg". */
static int
clear_collect(void *arg, const char *key, const void *msg, size_t len)
{
	char (*keys)[STORE_OUTBOX_KEY_MAX + 1] = arg;
	size_t n;

	(void)msg;
	(void)len;
	for (n = 0; keys[n][0] != '\0'; n++)
		;
	snprintf(keys[n], sizeof(keys[n]), "%s", key);
	return n + 1 == CLEAR_BATCH;
}

/* Empties the outbox of "st" in write transactions of CLEAR_BATCH. */
static int
clear_outbox(struct store *st)
{
	static char keys[CLEAR_BATCH + 1][STORE_OUTBOX_KEY_MAX + 1];
	struct store_txn *txn;
	long total = 0;
	size_t i;
	int rc;

	do {
		memset(keys, 0, sizeof(keys));
		if ((rc = store_txn_begin(st, true, &txn)) != MFA_OK)
			return rc;
		rc = store_outbox_each(txn, NULL, clear_collect, keys);
		for (i = 0; rc == MFA_OK && keys[i][0] != '\0'; i++)
			rc = store_outbox_del(txn, keys[i]);
		total += (long)i;
		if (rc != MFA_OK) {
			store_txn_abort(txn);
			return rc;
		}
		if ((rc = store_txn_commit(txn)) != MFA_OK)
			return rc;
	} while (i == CLEAR_BATCH);
	printf("%ld\n", total);
	return MFA_OK;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct keys *keys = NULL;
	char user[MFA_USER_ID_MAX + 1];
	long first, count, i;
	int rc;

	if (argc == 3 && strcmp(argv[2], "--clear-outbox") == 0) {
		if (sodium_init() < 0 || store_open(&st, argv[1],
		    (size_t)1 << 30, 0) != MFA_OK ||
		    store_sync_attach(st) != MFA_OK) {
			fprintf(stderr, "bench-provision: cannot open %s\n",
			    argv[1]);
			return 1;
		}
		rc = clear_outbox(st);
		store_close(st);
		if (rc != MFA_OK)
			fprintf(stderr, "bench-provision: %s\n",
			    mfa_strerror(rc));
		return rc == MFA_OK ? 0 : 1;
	}
	if (argc < 7) {
		fprintf(stderr, "usage: bench-provision DB PREFIX FIRST COUNT "
		    "SMS CLIENT_ID...\n       bench-provision DB "
		    "--clear-outbox\n");
		return 2;
	}
	first = strtol(argv[3], NULL, 10);
	count = strtol(argv[4], NULL, 10);
	if (sodium_init() < 0 || (rc = store_open(&st, argv[1], (size_t)1 << 30,
	    0)) != MFA_OK || (rc = keys_load(argv[1], &keys)) != MFA_OK) {
		fprintf(stderr, "bench-provision: cannot open %s\n", argv[1]);
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (txn == NULL && (rc = store_txn_begin(st, true, &txn)) !=
		    MFA_OK)
			break;
		snprintf(user, sizeof(user), "%s-%ld", argv[2], first + i);
		if ((rc = provision_one(txn, keys, user, atoi(argv[5]) != 0,
		    argv + 6, argc - 6, clock_now_ms())) != MFA_OK)
			break;
		if ((i + 1) % BATCH == 0 || i + 1 == count) {
			rc = store_txn_commit(txn);
			txn = NULL;
			if (rc != MFA_OK)
				break;
		}
	}
	store_txn_abort(txn);
	keys_free(keys);
	store_close(st);
	if (rc != MFA_OK) {
		fprintf(stderr, "bench-provision: %s\n", mfa_strerror(rc));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
