/*
 * record_json.h -- the JSON encoding of the records of store schema 1,
 * read to migrate such a store (store_migrate.c) and written by tests.
 *
 * Each record is a compact JSON object carrying "v" (RECORD_JSON_VERSION)
 * and one member per field of its kind; hashes are base64url. Decoding is
 * strict, as for the binary encoding (record.h).
 */
#ifndef MFA_RECORD_JSON_H
#define MFA_RECORD_JSON_H

#include "record.h"

#define RECORD_JSON_VERSION 1

/* A newly allocated NUL-terminated text (caller frees), or NULL (memory). */
char *record_json_client_encode(const struct client_rec *r);
char *record_json_authn_encode(const struct authn_rec *r);
char *record_json_token_encode(const struct token_rec *r);
char *record_json_challenge_encode(const struct challenge_rec *r);
char *record_json_bucket_encode(const struct bucket *r);
char *record_json_signing_encode(const struct signing_rec *r);

/* MFA_OK or MFA_ERR_CORRUPT ("out" zeroed); "buf" need not end in NUL. */
int record_json_client_decode(const void *buf, size_t len,
    struct client_rec *out) MFA_WUR;
int record_json_authn_decode(const void *buf, size_t len,
    struct authn_rec *out) MFA_WUR;
int record_json_token_decode(const void *buf, size_t len,
    struct token_rec *out) MFA_WUR;
int record_json_challenge_decode(const void *buf, size_t len,
    struct challenge_rec *out) MFA_WUR;
int record_json_bucket_decode(const void *buf, size_t len,
    struct bucket *out) MFA_WUR;
int record_json_signing_decode(const void *buf, size_t len,
    struct signing_rec *out) MFA_WUR;

#endif
