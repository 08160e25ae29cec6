/*
 * client_auth.h -- OAuth client authentication as a chain of providers
 * (Ktor's model). Each provider looks at the request and answers
 * authenticated, no credentials, invalid credentials or error:
 *
 *   client_secret_basic  Authorization: Basic (RFC 6749 §2.3.1)
 *   client_secret_post   client_id + client_secret in the body
 *
 * More than one method in a request is 400 invalid_request (RFC 6749
 * §2.3). When no provider authenticates, one answer goes back: an error
 * (store failure) as 500/503, otherwise 401 invalid_client, with
 * WWW-Authenticate: Basic exactly when the request used a Basic
 * Authorization header (RFC 6749 §5.2). Invalid credentials are preferred
 * over no credentials when choosing the provider that answers.
 */
#ifndef MFA_CLIENT_AUTH_H
#define MFA_CLIENT_AUTH_H

#include "api.h"
#include "record.h"

enum client_auth_verdict {
	CA_ERROR = 0,       /* a provider failed (store, crypto, memory) */
	CA_NO_CREDENTIALS,  /* this provider's credentials are absent */
	CA_INVALID,         /* present but wrong, malformed or unknown */
	CA_OK,
};

/*
 * Authenticates the client of "req" using the read transaction "txn".
 * On CA_OK "*client" holds its record. On any other verdict "resp" holds
 * the answer to send. Returns the verdict.
 */
enum client_auth_verdict client_auth_run(const struct mfa_ctx *ctx,
    const struct mfa_req *req, struct store_txn *txn,
    struct client_rec *client, struct mfa_resp *resp) MFA_WUR;

#endif
