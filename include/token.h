/*
 * token.h -- mfa_tokens: opaque 256-bit handles bound to one client and
 * one user, stored only as a keyed hash.
 */
#ifndef MFA_TOKEN_H
#define MFA_TOKEN_H

#include "keys.h"
#include "record.h"
#include "selection.h"
#include "store.h"

/*
 * Issues a token for "client_id" and "user_id" living "ttl_s" seconds from
 * "now" with scope "scope" (may be NULL), inside the write transaction
 * "txn". Writes the handle into "out" (the only copy of the plain token:
 * the caller wipes it after answering). Returns MFA_OK or a store error.
 */
int token_issue(struct store_txn *txn, const struct keys *keys,
    const char *client_id, const char *user_id, const char *scope,
    int64_t ttl_s, mfa_ms now, char out[MFA_HANDLE_LEN + 1]) MFA_WUR;

/*
 * Checks the presented token "token" (may be NULL) for client "client_id"
 * (NULL: whichever client it was issued to; the Bearer endpoints)
 * at "now". On SEL_TOKEN_OK "*rec" holds the token record and "hash" its
 * key. "*err" is set to a store error when the lookup itself failed (then
 * SEL_TOKEN_INVALID is returned and the caller answers 500/503).
 */
enum sel_token token_check(struct store_txn *txn, const struct keys *keys,
    const char *token, const char *client_id, mfa_ms now,
    struct token_rec *rec, unsigned char hash[MFA_HASH_BYTES], int *err)
    MFA_WUR;

#endif
