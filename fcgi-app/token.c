/*
 * token.c -- issuing and checking mfa_tokens.
 */
#include <string.h>

#include "ids.h"
#include "token.h"

#define TOKEN_DOMAIN "mfa_token"

int
token_issue(struct store_txn *txn, const struct keys *keys,
    const char *client_id, const char *user_id, const char *scope,
    int64_t ttl_s, mfa_ms now, char out[MFA_HANDLE_LEN + 1])
{
	unsigned char hash[MFA_HASH_BYTES];
	struct token_rec rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	if (strlen(client_id) > MFA_CLIENT_ID_MAX ||
	    strlen(user_id) > MFA_USER_ID_MAX ||
	    (scope != NULL && strlen(scope) > MFA_SCOPE_MAX))
		return MFA_ERR_INVALID;
	strcpy(rec.client_id, client_id);
	strcpy(rec.user_id, user_id);
	if (scope != NULL)
		strcpy(rec.scope, scope);
	rec.created_at = now;
	rec.expires_at = now + ttl_s * 1000;
	ids_handle(out);
	keys_hash(keys, TOKEN_DOMAIN, out, MFA_HANDLE_LEN, hash);
	rc = store_token_put(txn, hash, &rec);
	if (rc != MFA_OK)
		sodium_memzero(out, MFA_HANDLE_LEN + 1);
	return rc;
}

enum sel_token
token_check(struct store_txn *txn, const struct keys *keys, const char *token,
    const char *client_id, mfa_ms now, struct token_rec *rec,
    unsigned char hash[MFA_HASH_BYTES], int *err)
{
	int rc;

	*err = MFA_OK;
	memset(rec, 0, sizeof(*rec));
	if (token == NULL)
		return SEL_TOKEN_MISSING;
	if (!ids_is_handle(token))
		return SEL_TOKEN_MALFORMED;
	keys_hash(keys, TOKEN_DOMAIN, token, MFA_HANDLE_LEN, hash);
	rc = store_token_get(txn, hash, rec);
	if (rc == MFA_ERR_NOTFOUND)
		return SEL_TOKEN_MALFORMED;
	if (rc != MFA_OK) {
		*err = rc;
		return SEL_TOKEN_INVALID;
	}
	if (rec->expires_at <= now)
		return SEL_TOKEN_EXPIRED;
	if (client_id != NULL && strcmp(rec->client_id, client_id) != 0) /* public */
		return SEL_TOKEN_OTHER_CLIENT;
	return SEL_TOKEN_OK;
}
