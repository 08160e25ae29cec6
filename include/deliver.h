/*
 * deliver.h -- an out-of-band challenge on its way to the user: the
 * oob_code and binding code are made and the message for the delivery
 * agent formatted (deliver_prepare); then the send is taken from the
 * bucket of the user's channel and the message put in the store's outbox
 * in the transaction that stores the challenge (deliver_take), or with
 * the queued challenge (deliver_send, for store_challenge_create). The
 * message thus exists exactly when the challenge does. Shared by
 * /mfa/challenge, /mfa/associate and the WorkOS factor challenge.
 */
#ifndef MFA_DELIVER_H
#define MFA_DELIVER_H

#include <stdbool.h>

#include "api.h"
#include "challenge.h"
#include "ids.h"
#include "record.h"
#include "spool.h"

#define DELIVER_TEXT_MAX 320 /* bytes of a rendered message */

struct deliver {
	char *msg;       /* the message (spool_format), or NULL; wiped and
			    freed by deliver_discard */
	size_t msg_len;
	char oob_code[CHALLENGE_OOB_CODE_MAX + 1]; /* for the answer; wiped
						      by deliver_discard */
};

/*
 * Makes challenge "c" (initialised, type CT_OOB) an oob one for "a" and
 * formats its message. "tmpl" (may be NULL) is the message text with
 * "{{code}}" where the binding code goes. Returns MFA_OK, MFA_ERR_INVALID
 * (a template without {{code}}, or too long) or MFA_ERR_NOMEM.
 */
int deliver_prepare(const struct mfa_ctx *ctx, struct challenge_rec *c,
    const struct authn_rec *a, const char *tmpl, struct deliver *d)
    MFA_WUR;

/* The send to take from the bucket of the user's channel for "a", with
 * the message of "d" (store_challenge_create). */
void deliver_send(const struct mfa_ctx *ctx, const struct authn_rec *a,
    const struct deliver *d, struct store_bucket_op *op);

/* Takes one send from the user's channel bucket and puts the message of
 * "d" for challenge "c" in the outbox, in "txn": MFA_ERR_LIMIT when the
 * bucket is empty (nothing written), else MFA_OK or a store error. */
int deliver_take(const struct mfa_ctx *ctx, struct store_txn *txn,
    const struct challenge_rec *c, const struct authn_rec *a,
    const struct deliver *d) MFA_WUR;

/* Wipes and frees the message and wipes the oob_code: call it last, in
 * every case (also on a "d" that was only zeroed). */
void deliver_discard(struct deliver *d);

/* The OAuth-shape 429 for an empty send bucket. */
void deliver_limited(struct mfa_resp *resp, const struct authn_rec *a);

#endif
