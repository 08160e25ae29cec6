/*
 * challenge.h -- challenge records: creation and the WorkOS
 * "authentication_challenge" view.
 *
 * Lifecycle (DESIGN §6): pending -> verified | expired | locked | denied;
 * every transition is one write transaction (verification grants, issue
 * 4). Creation never stores a plain code: the oob_code and the binding
 * code are kept as keyed hashes, the binding code's hash domain naming the
 * challenge so equal codes of two challenges hash differently.
 */
#ifndef MFA_CHALLENGE_H
#define MFA_CHALLENGE_H

#include <stdbool.h>

#include <jansson.h>

#include "ids.h"
#include "keys.h"
#include "record.h"

struct store_txn;

/*
 * Fills "c" as a new pending challenge of type "type" (CT_OTP or CT_OOB)
 * for the given client, user, authenticator and token hash at "now". An
 * OOB challenge expires "ttl_s" seconds later; an OTP challenge has no
 * expires_at (WorkOS: "Does not apply to TOTP factors") and is purged
 * "purge_s" seconds later.
 */
void challenge_init(struct challenge_rec *c, unsigned type,
    const char *client_id, const char *user_id, const char *factor_id,
    const unsigned char token_hash[MFA_HASH_BYTES], mfa_ms now,
    int64_t ttl_s, int64_t purge_s);

/*
 * An oob_code is the challenge's id, a dot and a fresh handle: the id
 * finds the record (challenge ids are time-ordered, so new records land
 * on the B-tree's last pages), the keyed hash of the whole code in it
 * proves the handle. An earlier version's codes are a bare handle, found
 * through the oob index (store.h), which is written only while processes
 * of an earlier build may share the store (store_sync_oob_index).
 */
#define CHALLENGE_OOB_CODE_MAX (MFA_CHALLENGE_ID_MAX + 1 + MFA_HANDLE_LEN)

/*
 * Makes the OOB secrets of "c" (its id set): a fresh oob_code and a
 * 6-digit binding code written to "oob_code" and "binding" for delivery
 * (the caller wipes them), their keyed hashes stored in "c".
 */
void challenge_make_oob(struct challenge_rec *c, const struct keys *keys,
    char oob_code[CHALLENGE_OOB_CODE_MAX + 1],
    char binding[IDS_BINDING_LEN + 1]);

/* The keyed hash of an oob_code, as a challenge record holds it. */
void challenge_oob_hash(const struct keys *keys, const char *oob_code,
    unsigned char out[MFA_HASH_BYTES]);

/*
 * Reads the oob challenge of "oob_code" in "txn" into "out": the record
 * its id names (an earlier version's bare handle: the one the oob index
 * names) whose keyed hash matches, compared in constant time. Returns
 * MFA_OK, MFA_ERR_NOTFOUND (an id of another form, no such challenge, not
 * an oob one, or another code; "out" is then wiped) or a store error.
 */
int challenge_find_oob(struct store_txn *txn, const struct keys *keys,
    const char *oob_code, struct challenge_rec *out) MFA_WUR;

/*
 * The WorkOS object {object, id, created_at, updated_at, expires_at?,
 * authentication_factor_id}; with "with_private" also state,
 * challenge_type, client_id, user_id, attempts (for mfactl). Returns a new
 * reference or NULL when out of memory.
 */
json_t *challenge_to_json(const struct challenge_rec *c, bool with_private);

#endif
