/*
 * record.h -- the records kept in the store, and their encoding.
 *
 * Each record is a fixed-size struct (bounded strings, no pointers) and is
 * stored in a fixed binary layout (record.c) led by a format byte and a
 * kind byte. Decoding is strict: a short or long record, an over-long
 * string, a value out of range, another kind or an unknown format is
 * MFA_ERR_CORRUPT, never a partial struct. Secrets
 * are present only sealed (client secrets, TOTP seeds) or as keyed hashes
 * (binding codes, oob codes, tokens): a record never holds a plain secret.
 */
#ifndef MFA_RECORD_H
#define MFA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "mfa.h"

#define RECORD_FORMAT 2    /* the first byte of every stored record */
#define RECORD_ENC_MAX 4096 /* bytes: room for the largest record */
#define RECORD_SECRET_MAX 64 /* plaintext bytes of a sealed secret */
#define RECORD_SEALED_MAX KEYS_SEALED_MAX(RECORD_SECRET_MAX)

enum authn_type {
	AUTHN_INVALID = 0,
	AUTHN_OTP,
	AUTHN_OOB,
	AUTHN_RECOVERY,
};

enum oob_channel {
	CHANNEL_NONE = 0,
	CHANNEL_SMS,
	CHANNEL_VOICE,
	CHANNEL_EMAIL,
};

enum challenge_state {
	CHALLENGE_INVALID = 0,
	CHALLENGE_PENDING,
	CHALLENGE_VERIFIED,
	CHALLENGE_EXPIRED,
	CHALLENGE_LOCKED,
	CHALLENGE_DENIED,
};

/* How a client authenticates (one method per client: checklist E9). */
enum client_auth_method {
	CLIENT_AUTH_INVALID = 0,
	CLIENT_AUTH_SECRET,     /* client_secret_basic or client_secret_post */
	CLIENT_AUTH_SECRET_JWT, /* HS256 assertion keyed with the secret */
	CLIENT_AUTH_PRIVATE_KEY_JWT, /* assertion signed with a private key */
	CLIENT_AUTH_NONE, /* a public client: no credential; only the MFA
			     API's Bearer endpoints accept it (api_mfa.h) */
};

#define RECORD_KEYS_MAX 2     /* registered public keys (rotation) */
#define RECORD_JWK_MAX 1600   /* bytes of one stored public JWK */

struct client_rec {
	char id[MFA_CLIENT_ID_MAX + 1];
	char name[MFA_NAME_MAX + 1];
	unsigned types; /* enum challenge_type bits the client allows */
	enum client_auth_method auth;
	char secret_sealed[RECORD_SEALED_MAX]; /* AD "client_secret:<id>";
						  "" for private_key_jwt */
	unsigned alg; /* enum jwk_alg pinned for assertions; 0 otherwise */
	char keys[RECORD_KEYS_MAX][RECORD_JWK_MAX]; /* public JWKs (jwk.h's
						       stored form), "" unused */
	mfa_ms created_at;
	mfa_ms updated_at;
};

struct authn_rec {
	char id[MFA_AUTHN_ID_MAX + 1];
	char user_id[MFA_USER_ID_MAX + 1];
	enum authn_type type;
	enum oob_channel channel; /* CHANNEL_NONE unless AUTHN_OOB */
	bool active;
	char to[MFA_DEST_MAX + 1]; /* phone (E.164) or e-mail; oob only */
	char secret_sealed[RECORD_SEALED_MAX]; /* otp; AD "totp:<id>" */
	unsigned alg;    /* enum totp_alg; otp only */
	unsigned digits; /* otp only */
	unsigned period; /* seconds; otp only */
	int64_t last_step; /* last accepted TOTP step, -1 for none */
	mfa_ms created_at;
	mfa_ms expires_at; /* an inactive (unconfirmed) one is void from
			      then on; 0: never */
	char client_id[MFA_CLIENT_ID_MAX + 1]; /* the client that enrolled it
						  through the WorkOS factor
						  API; "" otherwise */
	char label_issuer[64]; /* WorkOS totp_issuer; "" otherwise */
	char label_user[MFA_USER_ID_MAX + 1]; /* WorkOS totp_user */
	unsigned char enroll_token[MFA_HASH_BYTES]; /* the mfa_token that
						       enrolled it (only that
						       token confirms it); 0s
						       otherwise */
};

struct token_rec {
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char user_id[MFA_USER_ID_MAX + 1];
	char scope[MFA_SCOPE_MAX + 1];
	mfa_ms created_at;
	mfa_ms expires_at;
};

struct challenge_rec {
	char id[MFA_CHALLENGE_ID_MAX + 1];
	char factor_id[MFA_AUTHN_ID_MAX + 1]; /* authentication_factor_id */
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char user_id[MFA_USER_ID_MAX + 1];
	unsigned type; /* CT_OTP or CT_OOB */
	enum challenge_state state;
	unsigned attempts;
	mfa_ms created_at;
	mfa_ms updated_at;
	mfa_ms expires_at; /* 0: none (TOTP) */
	mfa_ms purge_at;   /* when the sweep may delete the record */
	unsigned char token_hash[MFA_HASH_BYTES]; /* the mfa_token's */
	bool has_oob;
	unsigned char oob_hash[MFA_HASH_BYTES];     /* oob only */
	unsigned char binding_hash[MFA_HASH_BYTES]; /* oob only */
};

/* A key that signs result tokens (Ed25519). */
#define RECORD_KID_LEN 43 /* RFC 7638 thumbprint, base64url */
struct signing_rec {
	char kid[RECORD_KID_LEN + 1];
	char public_b64[48];  /* base64url of the 32-byte public key */
	char seed_sealed[RECORD_SEALED_MAX]; /* 32-byte seed; AD
						"signing:<kid>" */
	mfa_ms created_at;
	mfa_ms retired_at;    /* 0 while current; set by rotation */
};

/* A token bucket for rate limits (see bucket.h). */
struct bucket {
	unsigned level;     /* whole tokens left */
	mfa_ms refilled_at; /* time the level was last brought up to date */
};

/* Names and parsers of the enums (wire names). */
const char *record_authn_type_name(enum authn_type t); /* "otp", "oob",
							  "recovery-code" */
const char *record_channel_name(enum oob_channel c);   /* "sms", ... */
/* "client_secret_basic client_secret_post", "client_secret_jwt", ... */
const char *record_auth_method_name(enum client_auth_method m);
int record_channel_parse(const char *s, enum oob_channel *out) MFA_WUR;
const char *record_state_name(enum challenge_state s); /* "pending", ... */
const char *record_challenge_type_name(unsigned type); /* "otp", "oob" */

/*
 * Parses a space-separated list of challenge types ("otp oob") into bits.
 * Returns MFA_OK, or MFA_ERR_INVALID with the first unknown word copied to
 * "bad" (room for "badlen" bytes). An empty list gives 0.
 */
int record_types_parse(const char *s, unsigned *out, char *bad,
    size_t badlen) MFA_WUR;

/* Writes the set "types" as "otp oob" (or "") into "out". */
void record_types_format(unsigned types, char *out, size_t outlen);

/*
 * Encoders: write the record into "out" and return its length, or 0 when
 * it would not read back: a field the layout cannot carry (an enum
 * outside 0..255, a string without its NUL) or a record the decoder's
 * checks refuse (an auth method, type, channel or state out of range).
 */
size_t record_client_encode(const struct client_rec *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;
size_t record_authn_encode(const struct authn_rec *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;
size_t record_token_encode(const struct token_rec *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;
size_t record_challenge_encode(const struct challenge_rec *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;
size_t record_bucket_encode(const struct bucket *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;
size_t record_signing_encode(const struct signing_rec *r,
    unsigned char out[RECORD_ENC_MAX]) MFA_WUR;

/*
 * Decoders: parse "len" bytes at "buf" (borrowed, need not be
 * NUL-terminated) into "out". Return MFA_OK or MFA_ERR_CORRUPT; "out" is
 * zeroed on error.
 */
int record_client_decode(const void *buf, size_t len,
    struct client_rec *out) MFA_WUR;
int record_authn_decode(const void *buf, size_t len,
    struct authn_rec *out) MFA_WUR;
int record_token_decode(const void *buf, size_t len,
    struct token_rec *out) MFA_WUR;
int record_challenge_decode(const void *buf, size_t len,
    struct challenge_rec *out) MFA_WUR;
int record_bucket_decode(const void *buf, size_t len,
    struct bucket *out) MFA_WUR;
int record_signing_decode(const void *buf, size_t len,
    struct signing_rec *out) MFA_WUR;

#endif
