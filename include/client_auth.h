/*
 * client_auth.h -- OAuth client authentication as a chain of providers
 * (Ktor's model). Each provider looks at the request and answers
 * authenticated, no credentials, invalid credentials or error:
 *
 *   private_key_jwt      client_assertion signed with a registered key,
 *   client_secret_jwt    or MACed (HS256) with the client's secret
 *                        (RFC 7523, OIDC Core §9; client_assertion.c)
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

/* The reason a replayed assertion is refused with. */
#define CLIENT_AUTH_REPLAY "jti has already been used"

/*
 * An accepted client assertion whose jti is still to be recorded: the
 * endpoint records it in its own write transaction (one commit instead of
 * two) or, on every other path, with client_auth_settle. "set" is false
 * when there is nothing to record.
 */
struct ca_jti {
	bool set;
	char client_id[MFA_CLIENT_ID_MAX + 1];
	char jti[65];
	mfa_ms exp; /* recorded until then (ms) */
};

/* What a provider reports besides its verdict. */
struct ca_detail {
	int err;         /* the store error behind CA_ERROR */
	const char *why; /* static reason for CA_INVALID, or NULL; logged,
			    and shown as "Client assertion rejected:
			    <why>" unless "said" is set */
	const char *said; /* shown instead of "why" where it would tell
			     whether the client exists and how it is
			     registered (checklist F17) */
	struct ca_jti *defer; /* NULL: the assertion provider records the
				 jti itself before CA_OK */
};

/*
 * Checks "secret" against the sealed secret of client "id" (a secret
 * client), constant-time and with the same work for an unknown client.
 * On CA_OK "*client" holds the record; CA_ERROR sets d->err.
 */
enum client_auth_verdict client_auth_secret(const struct mfa_ctx *ctx,
    struct store_txn *txn, const char *id, const char *secret,
    struct client_rec *client, struct ca_detail *d) MFA_WUR;

/* client_assertion.c: the JWT provider. */
/*
 * The client_secret_basic/post client whose secret is "secret", for API
 * keys that carry no client id (the WorkOS factor API). Every such client
 * is checked, with no early exit. CA_OK, CA_INVALID or CA_ERROR ("d->err").
 */
enum client_auth_verdict client_auth_by_secret(const struct mfa_ctx *ctx,
    struct store_txn *txn, const char *secret, struct client_rec *client,
    struct ca_detail *d) MFA_WUR;

bool client_assertion_present(const struct mfa_req *req);
/* Wire-level checks of the assertion parameters: false when "resp" holds
 * a 400 answer (wrong client_assertion_type, one of the pair missing). */
bool client_assertion_precheck(const struct mfa_req *req,
    struct mfa_resp *resp);
enum client_auth_verdict client_assertion_run(const struct mfa_ctx *ctx,
    const struct mfa_req *req, struct store_txn *txn,
    struct client_rec *client, struct ca_detail *d) MFA_WUR;

/*
 * Authenticates the client of "req" using the read transaction "txn".
 * On CA_OK "*client" holds its record. On any other verdict "resp" holds
 * the answer to send. Returns the verdict.
 */
enum client_auth_verdict client_auth_run(const struct mfa_ctx *ctx,
    const struct mfa_req *req, struct store_txn *txn,
    struct client_rec *client, struct mfa_resp *resp) MFA_WUR;

/*
 * client_auth_run, except that an accepted assertion's jti is not
 * recorded: it is left in "*jti" (jti->set), and the caller must record
 * it before answering, with store_jti_put in the write transaction that
 * carries its result (a replay then aborts that transaction) or with
 * client_auth_settle on every other path.
 */
enum client_auth_verdict client_auth_run_deferred(const struct mfa_ctx *ctx,
    const struct mfa_req *req, struct store_txn *txn,
    struct client_rec *client, struct ca_jti *jti,
    struct mfa_resp *resp) MFA_WUR;

/*
 * Records the jti left by client_auth_run_deferred in a write transaction
 * of its own (nothing when !jti->set) and clears it. CA_OK when recorded
 * or nothing was pending; CA_INVALID for a replay, with the same 401 in
 * "resp" that client_auth_run gives; CA_ERROR with "resp" set.
 */
enum client_auth_verdict client_auth_settle(const struct mfa_ctx *ctx,
    struct ca_jti *jti, struct mfa_resp *resp);

/* Sets "resp" to the 401 a replayed assertion gets and logs it. */
void client_auth_replayed(const char *client_id, struct mfa_resp *resp);

/* The method names the chain accepts, for discovery (new reference). */
json_t *client_auth_methods_json(void);

/* The assertion algorithms accepted, for discovery (new reference). */
json_t *client_auth_algs_json(void);

#endif
