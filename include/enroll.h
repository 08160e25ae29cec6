/*
 * enroll.h -- making new authenticators: their records and secrets, the
 * per-user cap, the life of an unconfirmed one, and the recovery code of a
 * first enrollment. Used by /mfa/associate, the WorkOS factor API and
 * "mfactl user enroll", so the three enroll alike.
 *
 * An authenticator made through the API starts inactive with an
 * expires_at: it is confirmed (made active, expires_at 0) by the first
 * successful verification and is void, as if absent, once expired.
 */
#ifndef MFA_ENROLL_H
#define MFA_ENROLL_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"
#include "record.h"
#include "recovery.h"
#include "store.h"

#define ENROLL_SEED_MIN 16 /* bytes: RFC 4226 R6 "at least 128 bits" */
#define ENROLL_SEED_GEN 20 /* bytes of a generated seed: 160 bits */
#define ENROLL_SEED_MAX 64
#define ENROLL_B32_MAX 128 /* room for the base32 of ENROLL_SEED_MAX */

/*
 * Starts "a" for "user_id" at "now": active when "ttl_s" is 0, else
 * inactive until now + ttl_s. last_step -1.
 */
void enroll_begin(struct authn_rec *a, const char *user_id, mfa_ms now,
    int64_t ttl_s);

/*
 * enroll_otp and enroll_oob give "a" an Auth0-style id ("totp|dev_...")
 * unless the caller set one before (the WorkOS factor API does).
 *
 * Makes "a" an otp authenticator (SHA1/6/30 unless the caller changes
 * alg, digits, period afterwards) with the seed "seed" ("n" bytes,
 * ENROLL_SEED_MIN..ENROLL_SEED_MAX) or, when "seed" is NULL, a fresh
 * 160-bit one. The seed is sealed into the record and its base32 written
 * to "b32" (ENROLL_B32_MAX bytes; the caller wipes it). Returns MFA_OK,
 * MFA_ERR_INVALID (seed length) or a sealing error.
 */
int enroll_otp(struct authn_rec *a, const struct keys *keys,
    const unsigned char *seed, size_t n, char b32[ENROLL_B32_MAX]) MFA_WUR;

/*
 * Makes "a" an oob authenticator on "channel" to "to" (E.164 for sms and
 * voice, an e-mail address for email). MFA_ERR_INVALID when "to" does
 * not fit the channel.
 */
int enroll_oob(struct authn_rec *a, enum oob_channel channel,
    const char *to) MFA_WUR;

/*
 * The user's authenticators of the Auth0 surface (store_authn_list
 * without the WorkOS factors, which belong to the client that enrolled
 * them and are reachable only through /auth/factors).
 */
int enroll_list(struct store_txn *txn, const char *user_id,
    struct authn_rec out[STORE_AUTHN_PER_USER], size_t *n) MFA_WUR;

/* True while "a" counts: active, or unconfirmed and not yet expired. */
bool enroll_is_live(const struct authn_rec *a, mfa_ms now);

/* Drops the entries of "a" ("*n" of them) that are not live at "now". */
void enroll_keep_live(struct authn_rec *a, size_t *n, mfa_ms now);

/*
 * Stores "a" in "txn" after deleting the user's expired unconfirmed
 * authenticators. MFA_ERR_LIMIT when the user already has
 * STORE_AUTHN_PER_USER.
 */
int enroll_save(struct store_txn *txn, const struct authn_rec *a, mfa_ms now)
    MFA_WUR;

/* Whether "user_id" has an active authenticator ("*yes"). */
int enroll_has_active(struct store_txn *txn, const char *user_id, bool *yes)
    MFA_WUR;

/*
 * Replaces the user's recovery codes with "n" fresh ones written to
 * "codes" (the caller wipes them).
 */
int enroll_recovery(struct store_txn *txn, const struct keys *keys,
    const char *user_id, char (*codes)[RECOVERY_LEN + 1], size_t n) MFA_WUR;

/*
 * The id under which a user's recovery codes are listed as one
 * authenticator: "recovery-code|dev_" + 16 alphanumerics derived from the
 * user id with a keyed hash (stable, not guessable across users).
 */
void enroll_recovery_id(const struct keys *keys, const char *user_id,
    char out[MFA_AUTHN_ID_MAX + 1]);

/*
 * Confirms "a" in memory (active, expires_at 0): the caller stores it in
 * the transaction that accepted its first code. True when it was
 * unconfirmed.
 */
bool enroll_confirm(struct authn_rec *a);

#endif
