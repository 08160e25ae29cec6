/*
 * result.c -- result tokens (access token, ID token) after a verification.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ids.h"
#include "log.h"
#include "result.h"
#include "signing.h"

bool
result_scope_has(const char *scope, const char *word)
{
	size_t n = strlen(word);
	const char *p = scope;

	if (scope == NULL)
		return false;
	while ((p = strstr(p, word)) != NULL) {
		if ((p == scope || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

bool
result_is_mfa_audience(const char *issuer, const char *audience)
{
	size_t n = strlen(issuer);

	while (n > 0 && issuer[n - 1] == '/')
		n--;
	return audience != NULL &&
	    strncmp(audience, issuer, n) == 0 && /* public */
	    strcmp(audience + n, "/mfa/") == 0; /* public */
}

/* One signed token with a fresh jti; "*out" is a new JSON string. */
static int
result_token(const struct mfa_ctx *ctx, const struct signing_key *k,
    const char *client_id, const char *user_id, const char *method,
    const char *scope, const char *extra_aud, json_t **out)
{
	char jti[MFA_HANDLE_LEN + 1], *jwt = NULL;
	json_t *claims;
	int rc;

	ids_handle(jti);
	claims = signing_claims(ctx->cfg->issuer, user_id, client_id,
	    extra_aud, ctx->now, ctx->cfg->result_ttl, method, scope, jti);
	if (claims == NULL)
		return MFA_ERR_NOMEM;
	rc = signing_jwt(k, claims, &jwt);
	json_decref(claims);
	if (rc != MFA_OK)
		return rc;
	*out = json_string(jwt);
	free(jwt);
	return *out != NULL ? MFA_OK : MFA_ERR_NOMEM;
}

int
result_issue(const struct mfa_ctx *ctx, const struct signing_rec *key,
    const char *client_id, const char *user_id, const char *method,
    const char *scope, const char *audience, json_t **out)
{
	struct signing_key k;
	json_t *body = NULL, *at = NULL, *idt = NULL;
	int rc;

	if ((rc = signing_open_cached(ctx->keys, key, &k)) != MFA_OK) {
		log_error("signing key %s does not open (%s): run \"mfactl "
		    "keys rotate\"", key->kid, mfa_strerror(rc));
		return rc;
	}
	rc = result_token(ctx, &k, client_id, user_id, method, scope,
	    result_is_mfa_audience(ctx->cfg->issuer, audience) ? audience :
	    NULL, &at);
	if (rc == MFA_OK && result_scope_has(scope, "openid"))
		rc = result_token(ctx, &k, client_id, user_id, method, NULL,
		    NULL, &idt);
	signing_key_wipe(&k);
	if (rc == MFA_OK && (body = json_pack("{s:o, s:s, s:I}",
	    "access_token", at, "token_type", "Bearer", "expires_in",
	    (json_int_t)ctx->cfg->result_ttl)) == NULL)
		rc = MFA_ERR_NOMEM;
	at = NULL;
	if (rc == MFA_OK && scope != NULL)
		json_object_set_new(body, "scope", json_string(scope));
	if (rc == MFA_OK && idt != NULL) {
		json_object_set_new(body, "id_token", idt);
		idt = NULL;
	}
	json_decref(at);
	json_decref(idt);
	if (rc != MFA_OK) {
		json_decref(body);
		return rc;
	}
	*out = body;
	return MFA_OK;
}
