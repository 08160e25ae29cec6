/*
 * record_int.h -- what the two record codecs share: the field tables of
 * every record kind and the checks a decoded record must pass.
 *
 * record.c encodes the store's records (binary, schema 2); record_json.c
 * reads and writes the JSON of schema 1, kept to migrate older stores.
 */
#ifndef MFA_RECORD_INT_H
#define MFA_RECORD_INT_H

#include "record.h"

enum field_kind {
	FK_STR,  /* char array of "size" bytes, NUL-terminated */
	FK_I64,  /* int64_t */
	FK_UINT, /* unsigned */
	FK_ENUM, /* an enum stored as int, 0..255 */
	FK_BOOL, /* bool */
	FK_HASH, /* MFA_HASH_BYTES bytes */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off;
	size_t size;
};

/* One table per record kind, in stored order, ending in a NULL name. */
extern const struct field record_client_fields[];
extern const struct field record_authn_fields[];
extern const struct field record_token_fields[];
extern const struct field record_challenge_fields[];
extern const struct field record_signing_fields[];
extern const struct field record_bucket_fields[];

/*
 * The checks beyond each field's type that a decoded record must pass
 * (enums in range, kinds consistent); false means MFA_ERR_CORRUPT.
 */
bool record_client_valid(const struct client_rec *r);
bool record_authn_valid(const struct authn_rec *r);
bool record_challenge_valid(const struct challenge_rec *r);

/*
 * A decoder's last step: "rc" unless it is MFA_OK and the record is not
 * "valid", which zeroes the "size" bytes at "out" and gives
 * MFA_ERR_CORRUPT.
 */
int record_checked(int rc, bool valid, void *out, size_t size);

#endif
