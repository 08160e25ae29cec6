/*
 * mfactl_user.c -- "mfactl user enroll|list|rm".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "b32.h"
#include "enroll.h"
#include "ids.h"
#include "mask.h"
#include "mfactl.h"
#include "qr.h"
#include "record.h"
#include "recovery.h"
#include "totp.h"

struct enroll_opts {
	const char *type, *secret, *channel, *to, *issuer, *qr;
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

/* "active", "unconfirmed" (until expires_at) or "expired". */
static const char *
mfactl_user_state(const struct authn_rec *a, mfa_ms now)
{
	return a->active ? "active" : enroll_is_live(a, now) ? "unconfirmed" :
	    "expired";
}

static json_t *
mfactl_user_authn_json(const struct authn_rec *a, mfa_ms now)
{
	char name[MFA_DEST_MAX + 1];
	json_t *o;

	mfactl_user_name(a, name, sizeof(name));
	o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:o}", "id", a->id,
	    "authenticator_type", record_authn_type_name(a->type), "active",
	    a->active, "state", mfactl_user_state(a, now), "name", name,
	    "created_at", mfactl_time(a->created_at));
	if (o != NULL && a->expires_at != 0)
		json_object_set_new(o, "expires_at",
		    mfactl_time(a->expires_at));
	if (o != NULL && a->client_id[0] != '\0')
		json_object_set_new(o, "workos_client_id",
		    json_string(a->client_id));
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
		if ((v = cli_opt(argc, argv, &i, "--type")) != NULL)
			o->type = v;
		else if ((v = cli_opt(argc, argv, &i, "--secret")) != NULL)
			o->secret = v;
		else if ((v = cli_opt(argc, argv, &i, "--channel")) != NULL)
			o->channel = v;
		else if ((v = cli_opt(argc, argv, &i, "--to")) != NULL)
			o->to = v;
		else if ((v = cli_opt(argc, argv, &i, "--issuer")) != NULL)
			o->issuer = v;
		else if ((v = cli_opt(argc, argv, &i, "--qr")) != NULL)
			o->qr = v;
		else if ((v = cli_opt(argc, argv, &i, "--algorithm")) !=
		    NULL) {
			if (totp_alg_parse(v, &o->alg) != MFA_OK)
				return mfactl_usage("--algorithm: SHA1, SHA256 "
				    "or SHA512");
		} else if ((v = cli_opt(argc, argv, &i, "--digits")) !=
		    NULL) {
			o->digits = mfactl_uint(v);
			if (o->digits != 6 && o->digits != 8)
				return mfactl_usage("--digits: 6 or 8");
		} else if ((v = cli_opt(argc, argv, &i, "--period")) !=
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

/* Fills an otp authenticator; "b32" gets the secret as base32. */
static int
mfactl_enroll_otp(struct mfactl *m, const struct enroll_opts *o,
    struct authn_rec *a, char b32[ENROLL_B32_MAX])
{
	unsigned char seed[ENROLL_SEED_MAX];
	size_t n = 0;
	int rc;

	if (o->secret != NULL && (b32_decode(o->secret, seed, sizeof(seed),
	    &n) != MFA_OK || n < ENROLL_SEED_MIN)) {
		sodium_memzero(seed, sizeof(seed));
		return mfactl_usage("--secret: base32 of 16 to 64 bytes (at "
		    "least 128 bits, RFC 4226 R6)");
	}
	rc = enroll_otp(a, m->keys, o->secret != NULL ? seed : NULL, n, b32);
	sodium_memzero(seed, sizeof(seed));
	a->alg = o->alg;
	a->digits = o->digits;
	a->period = o->period;
	return rc == MFA_OK ? 0 : mfactl_fail("cannot seal the secret: %s",
	    mfa_strerror(rc));
}

static int
mfactl_enroll_oob(const struct enroll_opts *o, struct authn_rec *a)
{
	enum oob_channel ch;

	if (o->channel == NULL || record_channel_parse(o->channel, &ch) !=
	    MFA_OK)
		return mfactl_usage("--channel: sms, voice or email");
	if (o->to == NULL)
		return mfactl_usage("--to: the phone number or e-mail address");
	if (enroll_oob(a, ch, o->to) != MFA_OK)
		return mfactl_usage(ch == CHANNEL_EMAIL ?
		    "--to: not an e-mail address" :
		    "--to: not an E.164 phone number (+ and 8 to 15 digits)");
	return 0;
}

/* Writes "a" unless the user already has the most authenticators. */
static int
mfactl_enroll_store(struct mfactl *m, const struct authn_rec *a)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = enroll_save(txn, a, m->now)) != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot enroll %s: %s", a->user_id,
		    rc == MFA_ERR_LIMIT ? "too many authenticators" :
		    mfa_strerror(rc));
	}
	return mfactl_commit(txn, "cannot enroll");
}

/* Writes the QR code of "uri" as a PNG file "path" (mode 0600). */
static int
mfactl_enroll_qr(const char *path, const char *uri)
{
	unsigned char *png;
	size_t len;
	FILE *f;
	int rc, fd;

	if ((rc = qr_png(uri, &png, &len)) != MFA_OK)
		return mfactl_fail("cannot render the QR code: %s",
		    mfa_strerror(rc));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		sodium_memzero(png, len);
		free(png);
		return mfactl_fail("%s: %s", path, strerror(errno));
	}
	rc = fwrite(png, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	sodium_memzero(png, len);
	free(png);
	return rc == 0 ? 0 : mfactl_fail("%s: %s", path, strerror(errno));
}

static int
mfactl_user_enroll(struct mfactl *m, int argc, char **argv)
{
	struct enroll_opts o;
	struct authn_rec a;
	char b32[ENROLL_B32_MAX] = "", uri[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	if (argc < 1 || !mfactl_user_id_ok(argv[0]))
		return mfactl_usage("user enroll USER: a user id of 1 to %d "
		    "bytes without control characters", MFA_USER_ID_MAX);
	if ((rc = mfactl_enroll_parse(argc, argv, &o)) != 0)
		return rc;
	if (strcmp(o.type, "otp") != 0 && strcmp(o.type, "oob") != 0)
		return mfactl_usage("--type: otp or oob");
	if (o.qr != NULL && strcmp(o.type, "otp") != 0)
		return mfactl_usage("--qr goes with --type otp");
	if (mfactl_open(m) != 0)
		return 1;
	enroll_begin(&a, argv[0], m->now, 0);
	rc = strcmp(o.type, "otp") == 0 ? mfactl_enroll_otp(m, &o, &a, b32) :
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
		if (o.qr != NULL && (rc = mfactl_enroll_qr(o.qr, uri)) == 0)
			json_object_set_new(m->result, "qr_file",
			    json_string(o.qr));
	} else {
		rc = mfactl_fail("the otpauth URI does not fit");
	}
out:
	sodium_memzero(b32, sizeof(b32));
	sodium_memzero(uri, sizeof(uri));
	return rc;
}

struct user_walk {
	mfa_ms now;
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
		json_array_append_new(list, mfactl_user_authn_json(&a[i],
		    w->now));
	sodium_memzero(a, sizeof(a));
	return json_array_append_new(w->users, json_pack("{s:s, s:o}",
	    "user_id", user_id, "authenticators", list));
}

static int
mfactl_user_list(struct mfactl *m)
{
	struct user_walk w = { m->now, NULL, json_array(), MFA_OK };
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

/* One user's factors with their state, and the recovery codes left. */
static int
mfactl_user_show(struct mfactl *m, const char *user_id)
{
	struct user_walk w = { m->now, NULL, json_array(), MFA_OK };
	size_t codes = 0;
	int rc;

	if (w.users == NULL || mfactl_open(m) != 0) {
		json_decref(w.users);
		return 1;
	}
	if ((rc = store_txn_begin(m->store, false, &w.txn)) != MFA_OK) {
		json_decref(w.users);
		return mfactl_fail("store: %s", mfa_strerror(rc));
	}
	rc = mfactl_user_list_one(&w, user_id);
	if (rc == MFA_OK)
		rc = store_recovery_count(w.txn, user_id, &codes);
	store_txn_abort(w.txn);
	if (rc == MFA_OK && json_array_size(json_object_get(json_array_get(
	    w.users, 0), "authenticators")) == 0 && codes == 0)
		rc = MFA_ERR_NOTFOUND;
	if (rc != MFA_OK) {
		json_decref(w.users);
		return mfactl_fail("user %s: %s", user_id, mfa_strerror(rc));
	}
	m->result = json_incref(json_array_get(w.users, 0));
	json_decref(w.users);
	json_object_set_new(m->result, "recovery_codes_left",
	    json_integer((json_int_t)codes));
	return 0;
}

/* Removes one authenticator of the user. */
static int
mfactl_user_rm_factor(struct mfactl *m, const char *user_id, const char *id)
{
	struct store_txn *txn;
	struct authn_rec a;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_authn_get(txn, id, &a);
	if (rc == MFA_OK && strcmp(a.user_id, user_id) != 0)
		rc = MFA_ERR_NOTFOUND;
	sodium_memzero(&a, sizeof(a));
	if (rc == MFA_OK)
		rc = store_authn_del(txn, id);
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("user %s: authenticator %s: %s", user_id,
		    id, mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot remove the authenticator") != 0)
		return 1;
	m->result = json_pack("{s:s, s:s, s:b}", "user_id", user_id,
	    "authenticator_id", id, "removed", 1);
	return 0;
}

/*
 * Removes every authenticator of the user and their recovery codes in one
 * transaction: a code left behind would still pass MFA for the user.
 */
static int
mfactl_user_rm(struct mfactl *m, const char *user_id)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	struct store_txn *txn;
	size_t n, i, ncodes = 0;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_authn_list(txn, user_id, a, STORE_AUTHN_PER_USER, &n);
	if (rc == MFA_OK)
		rc = store_recovery_count(txn, user_id, &ncodes);
	if (rc == MFA_OK && n == 0 && ncodes == 0)
		rc = MFA_ERR_NOTFOUND;
	for (i = 0; rc == MFA_OK && i < n; i++)
		rc = store_authn_del(txn, a[i].id);
	if (rc == MFA_OK)
		rc = store_recovery_clear(txn, user_id);
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
		return mfactl_usage("user: expected enroll, list, show, rm, "
		    "rm-factor or recovery-codes");
	if (strcmp(argv[0], "enroll") == 0)
		return mfactl_user_enroll(m, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return argc == 1 ? mfactl_user_list(m) :
		    mfactl_usage("user list takes no arguments");
	if (strcmp(argv[0], "rm") == 0)
		return argc == 2 ? mfactl_user_rm(m, argv[1]) :
		    mfactl_usage("user rm USER");
	if (strcmp(argv[0], "show") == 0)
		return argc == 2 ? mfactl_user_show(m, argv[1]) :
		    mfactl_usage("user show USER");
	if (strcmp(argv[0], "rm-factor") == 0) /* public */
		return argc == 3 ? mfactl_user_rm_factor(m, argv[1], argv[2]) :
		    mfactl_usage("user rm-factor USER AUTHENTICATOR_ID");
	if (strcmp(argv[0], "recovery-codes") == 0) /* public */
		return argc == 2 ? mfactl_user_recovery(m, argv[1]) :
		    mfactl_usage("user recovery-codes USER");
	return mfactl_usage("user: unknown subcommand \"%s\"", argv[0]);
}
