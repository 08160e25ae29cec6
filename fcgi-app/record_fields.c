/*
 * record_fields.c -- the field tables of the stored records and the checks
 * a decoded record must pass, shared by both codecs (record_int.h).
 *
 * A field is added in one place: here. Its position in the table is its
 * position in the binary encoding, so a new field goes at the end of its
 * table together with a new STORE_SCHEMA and a migration.
 */
#include <stddef.h>
#include <string.h>

#include "record_int.h"

/* FK_ENUM fields are read and written as an int. */
_Static_assert(sizeof(enum client_auth_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum authn_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum oob_channel) == sizeof(int), "enum size");
_Static_assert(sizeof(enum challenge_state) == sizeof(int), "enum size");

#define STR(t, m) { #m, FK_STR, offsetof(t, m), sizeof(((t *)0)->m) }
#define I64(t, m) { #m, FK_I64, offsetof(t, m), sizeof(int64_t) }
#define UINT(t, m) { #m, FK_UINT, offsetof(t, m), sizeof(unsigned) }
#define ENUM(t, m) { #m, FK_ENUM, offsetof(t, m), sizeof(((t *)0)->m) }
#define BOOL(t, m) { #m, FK_BOOL, offsetof(t, m), sizeof(bool) }
#define HASH(t, m) { #m, FK_HASH, offsetof(t, m), MFA_HASH_BYTES }
#define END { NULL, FK_STR, 0, 0 }

const struct field record_client_fields[] = {
	STR(struct client_rec, id), STR(struct client_rec, name),
	UINT(struct client_rec, types), ENUM(struct client_rec, auth),
	STR(struct client_rec, secret_sealed), UINT(struct client_rec, alg),
	{ "key0", FK_STR, offsetof(struct client_rec, keys[0]),
	    RECORD_JWK_MAX },
	{ "key1", FK_STR, offsetof(struct client_rec, keys[1]),
	    RECORD_JWK_MAX },
	I64(struct client_rec, created_at), I64(struct client_rec, updated_at),
	END
};

const struct field record_authn_fields[] = {
	STR(struct authn_rec, id), STR(struct authn_rec, user_id),
	ENUM(struct authn_rec, type), ENUM(struct authn_rec, channel),
	BOOL(struct authn_rec, active), STR(struct authn_rec, to),
	STR(struct authn_rec, secret_sealed), UINT(struct authn_rec, alg),
	UINT(struct authn_rec, digits), UINT(struct authn_rec, period),
	I64(struct authn_rec, last_step), I64(struct authn_rec, created_at),
	I64(struct authn_rec, expires_at), STR(struct authn_rec, client_id),
	STR(struct authn_rec, label_issuer), STR(struct authn_rec, label_user),
	HASH(struct authn_rec, enroll_token),
	END
};

const struct field record_token_fields[] = {
	STR(struct token_rec, client_id), STR(struct token_rec, user_id),
	STR(struct token_rec, scope), I64(struct token_rec, created_at),
	I64(struct token_rec, expires_at), END
};

const struct field record_challenge_fields[] = {
	STR(struct challenge_rec, id), STR(struct challenge_rec, factor_id),
	STR(struct challenge_rec, client_id),
	STR(struct challenge_rec, user_id), UINT(struct challenge_rec, type),
	ENUM(struct challenge_rec, state),
	UINT(struct challenge_rec, attempts),
	I64(struct challenge_rec, created_at),
	I64(struct challenge_rec, updated_at),
	I64(struct challenge_rec, expires_at),
	I64(struct challenge_rec, purge_at),
	HASH(struct challenge_rec, token_hash),
	BOOL(struct challenge_rec, has_oob),
	HASH(struct challenge_rec, oob_hash),
	HASH(struct challenge_rec, binding_hash), END
};

const struct field record_signing_fields[] = {
	STR(struct signing_rec, kid), STR(struct signing_rec, public_b64),
	STR(struct signing_rec, seed_sealed),
	I64(struct signing_rec, created_at),
	I64(struct signing_rec, retired_at), END
};

const struct field record_bucket_fields[] = {
	UINT(struct bucket, level), I64(struct bucket, refilled_at), END
};

bool
record_client_valid(const struct client_rec *r)
{
	return r->auth >= CLIENT_AUTH_SECRET && r->auth <= CLIENT_AUTH_NONE &&
	    (r->types & ~(unsigned)CT_ALL) == 0 && r->id[0] != '\0';
}

bool
record_authn_valid(const struct authn_rec *r)
{
	return r->type >= AUTHN_OTP && r->type <= AUTHN_RECOVERY &&
	    r->channel <= CHANNEL_EMAIL &&
	    (r->type == AUTHN_OOB) == (r->channel != CHANNEL_NONE);
}

bool
record_challenge_valid(const struct challenge_rec *r)
{
	return r->state >= CHALLENGE_PENDING && r->state <= CHALLENGE_DENIED &&
	    (r->type == CT_OTP || r->type == CT_OOB);
}

int
record_checked(int rc, bool valid, void *out, size_t size)
{
	if (rc == MFA_OK && !valid) {
		memset(out, 0, size);
		rc = MFA_ERR_CORRUPT;
	}
	return rc;
}
