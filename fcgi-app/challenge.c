/*
 * challenge.c -- creating challenge records and showing them.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "challenge.h"
#include "clock.h"
#include "store.h"

void
challenge_init(struct challenge_rec *c, unsigned type, const char *client_id,
    const char *user_id, const char *factor_id,
    const unsigned char token_hash[MFA_HASH_BYTES], mfa_ms now,
    int64_t ttl_s, int64_t purge_s)
{
	memset(c, 0, sizeof(*c));
	ids_challenge(now, c->id);
	snprintf(c->client_id, sizeof(c->client_id), "%s", client_id);
	snprintf(c->user_id, sizeof(c->user_id), "%s", user_id);
	snprintf(c->factor_id, sizeof(c->factor_id), "%s", factor_id);
	memcpy(c->token_hash, token_hash, MFA_HASH_BYTES);
	c->type = type;
	c->state = CHALLENGE_PENDING;
	c->created_at = c->updated_at = now;
	if (type == CT_OOB) {
		c->expires_at = now + ttl_s * 1000;
		c->purge_at = c->expires_at + STORE_PURGE_GRACE_MS;
	} else {
		c->purge_at = now + purge_s * 1000;
	}
}

void
challenge_oob_hash(const struct keys *keys, const char *oob_code,
    unsigned char out[MFA_HASH_BYTES])
{
	keys_hash(keys, "oob_code", oob_code, strlen(oob_code), out);
}

void
challenge_make_oob(struct challenge_rec *c, const struct keys *keys,
    char oob_code[CHALLENGE_OOB_CODE_MAX + 1],
    char binding[IDS_BINDING_LEN + 1])
{
	char domain[32 + MFA_CHALLENGE_ID_MAX], handle[MFA_HANDLE_LEN + 1];

	ids_handle(handle);
	snprintf(oob_code, CHALLENGE_OOB_CODE_MAX + 1, "%s.%s", c->id, handle);
	sodium_memzero(handle, sizeof(handle));
	ids_binding_code(binding);
	challenge_oob_hash(keys, oob_code, c->oob_hash);
	snprintf(domain, sizeof(domain), "binding_code:%s", c->id);
	keys_hash(keys, domain, binding, strlen(binding), c->binding_hash);
	c->has_oob = true;
}

/* The id an oob_code names into "id": before its dot, or, for an
 * earlier version's code (no dot), the one the oob index names. */
static int
challenge_oob_id(struct store_txn *txn, const char *oob_code,
    const unsigned char hash[MFA_HASH_BYTES],
    char id[MFA_CHALLENGE_ID_MAX + 1])
{
	const char *dot = strchr(oob_code, '.');
	size_t n;

	if (dot == NULL)
		return store_challenge_by_oob(txn, hash, id);
	n = (size_t)(dot - oob_code);
	if (n == 0 || n > MFA_CHALLENGE_ID_MAX)
		return MFA_ERR_NOTFOUND;
	memcpy(id, oob_code, n);
	id[n] = '\0';
	return ids_is_challenge(id) ? MFA_OK : MFA_ERR_NOTFOUND;
}

int
challenge_find_oob(struct store_txn *txn, const struct keys *keys,
    const char *oob_code, struct challenge_rec *out)
{
	unsigned char h[MFA_HASH_BYTES];
	char id[MFA_CHALLENGE_ID_MAX + 1];
	int rc;

	challenge_oob_hash(keys, oob_code, h);
	if ((rc = challenge_oob_id(txn, oob_code, h, id)) != MFA_OK ||
	    (rc = store_challenge_get(txn, id, out)) != MFA_OK)
		return rc;
	if (!out->has_oob ||
	    sodium_memcmp(out->oob_hash, h, MFA_HASH_BYTES) != 0) {
		sodium_memzero(out, sizeof(*out)); /* another's record */
		return MFA_ERR_NOTFOUND;
	}
	return MFA_OK;
}

/* Sets "key" to the ISO 8601 form of "t"; false when out of memory. */
static bool
challenge_set_time(json_t *obj, const char *key, mfa_ms t)
{
	char buf[CLOCK_ISO_LEN];

	if (clock_iso8601(t, buf, sizeof(buf)) != MFA_OK)
		return json_object_set_new(obj, key, json_null()) == 0;
	return json_object_set_new(obj, key, json_string(buf)) == 0;
}

json_t *
challenge_to_json(const struct challenge_rec *c, bool with_private)
{
	json_t *o = json_pack("{s:s, s:s}", "object",
	    "authentication_challenge", "id", c->id);

	if (o == NULL || !challenge_set_time(o, "created_at", c->created_at) ||
	    !challenge_set_time(o, "updated_at", c->updated_at) ||
	    (c->expires_at != 0 &&
	    !challenge_set_time(o, "expires_at", c->expires_at)) ||
	    json_object_set_new(o, "authentication_factor_id",
	    json_string(c->factor_id)) != 0)
		goto fail;
	if (with_private && json_object_update_new(o, json_pack(
	    "{s:s, s:s, s:s, s:s, s:i}", "state", record_state_name(c->state),
	    "challenge_type", record_challenge_type_name(c->type), "client_id",
	    c->client_id, "user_id", c->user_id, "attempts",
	    (int)c->attempts)) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
