/*
 * mfactl_user.c -- "mfactl user enroll|list|rm".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b32.h"
#include "ids.h"
#include "mask.h"
#include "mfactl.h"
#include "record.h"
#include "recovery.h"
#include "totp.h"

/* Seeds: RFC 4226 R6 "at least 128 bits"; generated seeds are 160 bits. */
#define SEED_MIN 16
#define SEED_GEN 20

struct enroll_opts {
	const char *type, *secret, *channel, *to, *issuer;
	enum totp_alg alg;
	unsigned digits, period;
};

/* A user id: 1..MFA_USER_ID_MAX bytes, no control characters. */
static bool
mfactl_user_id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > MFA_USER_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The name users see for an authenticator (masked destination). */
static void
mfactl_user_name(const struct authn_rec *a, char *out, size_t outlen)
{
	if (a->channel == CHANNEL_EMAIL)
		mask_email(a->to, out, outlen);
	else if (a->channel != CHANNEL_NONE)
		mask_phone(a->to, out, outlen);
	else
		snprintf(out, outlen, "%s", record_authn_type_name(a->type));
}

static json_t *
mfactl_user_authn_json(const struct authn_rec *a)
{
	char name[MFA_DEST_MAX + 1];
	json_t *o;

	mfactl_user_name(a, name, sizeof(name));
	o = json_pack("{s:s, s:s, s:b, s:s}", "id", a->id,
	    "authenticator_type", record_authn_type_name(a->type), "active",
	    a->active, "name", name);
	if (o != NULL && a->channel != CHANNEL_NONE)
		json_object_set_new(o, "oob_channel",
		    json_string(record_channel_name(a->channel)));
	return o;
}

static unsigned
mfactl_uint(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *s != '\0' && *end == '\0' && v <= 3600 ? (unsigned)v : 0;
}

static int
mfactl_enroll_parse(int argc, char **argv, struct enroll_opts *o)
{
	const char *v;
	int i;

	memset(o, 0, sizeof(*o));
	o->alg = TOTP_SHA1;
	o->digits = 6;
	o->period = 30;
	o->issuer = "MFA";
	for (i = 1; i < argc; i++) {
		if ((v = mfactl_opt(argc, argv, &i, "--type")) != NULL)
			o->type = v;
		else if ((v = mfactl_opt(argc, argv, &i, "--secret")) != NULL)
			o->secret = v;
		else if ((v = mfactl_opt(argc, argv, &i, "--channel")) != NULL)
			o->channel = v;
		else if ((v = mfactl_opt(argc, argv, &i, "--to")) != NULL)
			o->to = v;
		else if ((v = mfactl_opt(argc, argv, &i, "--issuer")) != NULL)
			o->issuer = v;
		else if ((v = mfactl_opt(argc, argv, &i, "--algorithm")) !=
		    NULL) {
			if (totp_alg_parse(v, &o->alg) != MFA_OK)
				return mfactl_usage("--algorithm: SHA1, SHA256 "
				    "or SHA512");
		} else if ((v = mfactl_opt(argc, argv, &i, "--digits")) !=
		    NULL) {
			o->digits = mfactl_uint(v);
			if (o->digits != 6 && o->digits != 8)
				return mfactl_usage("--digits: 6 or 8");
		} else if ((v = mfactl_opt(argc, argv, &i, "--period")) !=
		    NULL) {
			o->period = mfactl_uint(v);
			if (o->period < 15 || o->period > 300)
				return mfactl_usage("--period: 15 to 300 "
				    "seconds");
		} else
			return mfactl_usage("user enroll: unexpected \"%s\"",
			    argv[i]);
	}
	if (o->type == NULL)
		return mfactl_usage("user enroll needs --type otp or --type "
		    "oob");
	return 0;
}

/* Fills an otp authenticator; "seed" gets the secret as base32. */
static int
mfactl_enroll_otp(struct mfactl *m, const struct enroll_opts *o,
    struct authn_rec *a, char *b32, size_t b32len)
{
	unsigned char seed[64];
	char ad[16 + MFA_AUTHN_ID_MAX];
	size_t n = SEED_GEN;
	int rc;

	if (o->secret != NULL) {
		if (b32_decode(o->secret, seed, sizeof(seed), &n) != MFA_OK ||
		    n < SEED_MIN) {
			sodium_memzero(seed, sizeof(seed));
			return mfactl_usage("--secret: base32 of 16 to 64 "
			    "bytes (at least 128 bits, RFC 4226 R6)");
		}
	} else {
		randombytes_buf(seed, n);
	}
	a->type = AUTHN_OTP;
	a->alg = o->alg;
	a->digits = o->digits;
	a->period = o->period;
	ids_authenticator("totp", a->id);
	snprintf(ad, sizeof(ad), "totp:%s", a->id);
	rc = keys_seal(m->keys, ad, seed, n, a->secret_sealed,
	    sizeof(a->secret_sealed));
	if (rc == MFA_OK)
		rc = b32_encode(seed, n, b32, b32len);
	sodium_memzero(seed, sizeof(seed));
	return rc == MFA_OK ? 0 : mfactl_fail("cannot seal the secret: %s",
	    mfa_strerror(rc));
}

static int
mfactl_enroll_oob(const struct enroll_opts *o, struct authn_rec *a)
{
	if (o->channel == NULL || record_channel_parse(o->channel,
	    &a->channel) != MFA_OK)
		return mfactl_usage("--channel: sms, voice or email");
	if (o->to == NULL)
		return mfactl_usage("--to: the phone number or e-mail address");
	if (a->channel == CHANNEL_EMAIL ? !mask_is_email(o->to) :
	    !mask_is_e164(o->to))
		return mfactl_usage(a->channel == CHANNEL_EMAIL ?
		    "--to: not an e-mail address" :
		    "--to: not an E.164 phone number (+ and 8 to 15 digits)");
	a->type = AUTHN_OOB;
	snprintf(a->to, sizeof(a->to), "%s", o->to);
	ids_authenticator(record_channel_name(a->channel), a->id);
	return 0;
}

/* Writes "a" unless the user already has the most authenticators. */
static int
mfactl_enroll_store(struct mfactl *m, const struct authn_rec *a)
{
	struct authn_rec have[STORE_AUTHN_PER_USER];
	struct store_txn *txn;
	size_t n;
	int rc;

	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_authn_list(txn, a->user_id, have, STORE_AUTHN_PER_USER, &n);
	sodium_memzero(have, sizeof(have));
	if (rc == MFA_OK && n >= STORE_AUTHN_PER_USER)
		rc = MFA_ERR_LIMIT;
	if (rc == MFA_OK)
		rc = store_authn_put(txn, a);
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot enroll %s: %s", a->user_id,
		    rc == MFA_ERR_LIMIT ? "too many authenticators" :
		    mfa_strerror(rc));
	}
	return mfactl_commit(txn, "cannot enroll");
}

static int
mfactl_user_enroll(struct mfactl *m, int argc, char **argv)
{
	struct enroll_opts o;
	struct authn_rec a;
	char b32[128] = "", uri[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	if (argc < 1 || !mfactl_user_id_ok(argv[0]))
		return mfactl_usage("user enroll USER: a user id of 1 to %d "
		    "bytes without control characters", MFA_USER_ID_MAX);
	if ((rc = mfactl_enroll_parse(argc, argv, &o)) != 0)
		return rc;
	if (strcmp(o.type, "otp") != 0 && strcmp(o.type, "oob") != 0)
		return mfactl_usage("--type: otp or oob");
	if (mfactl_open(m) != 0)
		return 1;
	snprintf(a.user_id, sizeof(a.user_id), "%s", argv[0]);
	a.active = true;
	a.last_step = -1;
	a.created_at = m->now;
	rc = strcmp(o.type, "otp") == 0 ?
	    mfactl_enroll_otp(m, &o, &a, b32, sizeof(b32)) :
	    mfactl_enroll_oob(&o, &a);
	if (rc != 0 || (rc = mfactl_enroll_store(m, &a)) != 0)
		goto out;
	m->result = json_pack("{s:s, s:s, s:s}", "user_id", a.user_id,
	    "authenticator_id", a.id, "authenticator_type",
	    record_authn_type_name(a.type));
	if (a.type == AUTHN_OOB) {
		json_object_set_new(m->result, "oob_channel",
		    json_string(record_channel_name(a.channel)));
		json_object_set_new(m->result, "to", json_string(a.to));
	} else if (totp_uri(uri, sizeof(uri), o.issuer, a.user_id, b32,
	    a.alg, a.digits, a.period) == MFA_OK) {
		json_object_set_new(m->result, "secret", json_string(b32));
		json_object_set_new(m->result, "otpauth_uri", json_string(uri));
	} else {
		rc = mfactl_fail("the otpauth URI does not fit");
	}
out:
	sodium_memzero(b32, sizeof(b32));
	sodium_memzero(uri, sizeof(uri));
	return rc;
}

struct user_walk {
	struct store_txn *txn;
	json_t *users;
	int err;
};

static int
mfactl_user_list_one(void *arg, const char *user_id)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	struct user_walk *w = arg;
	json_t *list = json_array();
	size_t n, i;

	if (list == NULL)
		return w->err = MFA_ERR_NOMEM;
	if ((w->err = store_authn_list(w->txn, user_id, a,
	    STORE_AUTHN_PER_USER, &n)) != MFA_OK) {
		json_decref(list);
		return w->err;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(list, mfactl_user_authn_json(&a[i]));
	sodium_memzero(a, sizeof(a));
	return json_array_append_new(w->users, json_pack("{s:s, s:o}",
	    "user_id", user_id, "authenticators", list));
}

static int
mfactl_user_list(struct mfactl *m)
{
	struct user_walk w = { NULL, json_array(), MFA_OK };
	int rc;

	if (w.users == NULL || mfactl_open(m) != 0) {
		json_decref(w.users);
		return 1;
	}
	if ((rc = store_txn_begin(m->store, false, &w.txn)) != MFA_OK) {
		json_decref(w.users);
		return mfactl_fail("store: %s", mfa_strerror(rc));
	}
	rc = store_authn_each_user(w.txn, mfactl_user_list_one, &w);
	store_txn_abort(w.txn);
	if (rc != MFA_OK) {
		json_decref(w.users);
		return mfactl_fail("cannot list users: %s", mfa_strerror(rc));
	}
	m->result = json_pack("{s:o}", "users", w.users);
	return 0;
}

/* Removes every authenticator of the user in one transaction. */
static int
mfactl_user_rm(struct mfactl *m, const char *user_id)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	struct store_txn *txn;
	size_t n, i;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_authn_list(txn, user_id, a, STORE_AUTHN_PER_USER, &n);
	if (rc == MFA_OK && n == 0)
		rc = MFA_ERR_NOTFOUND;
	for (i = 0; rc == MFA_OK && i < n; i++)
		rc = store_authn_del(txn, a[i].id);
	sodium_memzero(a, sizeof(a));
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("user %s: %s", user_id, mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot remove the user") != 0)
		return 1;
	m->result = json_pack("{s:s, s:b}", "user_id", user_id, "removed", 1);
	return 0;
}

/*
 * Replaces the user's recovery codes with RECOVERY_SET fresh ones in one
 * transaction (the old set stops working at once) and prints them.
 */
static int
mfactl_user_recovery(struct mfactl *m, const char *user_id)
{
	unsigned char h[MFA_HASH_BYTES];
	char code[RECOVERY_LEN + 1];
	struct store_txn *txn;
	json_t *codes = json_array();
	int i, rc;

	if (codes == NULL || !mfactl_user_id_ok(user_id)) {
		json_decref(codes);
		return mfactl_usage("user recovery-codes USER");
	}
	if (mfactl_open(m) != 0) {
		json_decref(codes);
		return 1;
	}
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK) {
		json_decref(codes);
		return mfactl_fail("store: %s", mfa_strerror(rc));
	}
	rc = store_recovery_clear(txn, user_id);
	for (i = 0; rc == MFA_OK && i < RECOVERY_SET; i++) {
		recovery_make(code);
		recovery_hash(m->keys, user_id, code, h);
		if ((rc = store_recovery_add(txn, user_id, h)) == MFA_OK)
			json_array_append_new(codes, json_string(code));
	}
	sodium_memzero(code, sizeof(code));
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		json_decref(codes);
		return mfactl_fail("user %s: %s", user_id, mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot store the recovery codes") != 0) {
		json_decref(codes);
		return 1;
	}
	m->result = json_pack("{s:s, s:o}", "user_id", user_id,
	    "recovery_codes", codes);
	return 0;
}

int
mfactl_user(struct mfactl *m, int argc, char **argv)
{
	if (argc < 1)
		return mfactl_usage("user: expected enroll, list or rm");
	if (strcmp(argv[0], "enroll") == 0)
		return mfactl_user_enroll(m, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return argc == 1 ? mfactl_user_list(m) :
		    mfactl_usage("user list takes no arguments");
	if (strcmp(argv[0], "rm") == 0)
		return argc == 2 ? mfactl_user_rm(m, argv[1]) :
		    mfactl_usage("user rm USER");
	if (strcmp(argv[0], "recovery-codes") == 0) /* public */
		return argc == 2 ? mfactl_user_recovery(m, argv[1]) :
		    mfactl_usage("user recovery-codes USER");
	return mfactl_usage("user: unknown subcommand \"%s\"", argv[0]);
}
