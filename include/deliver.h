/*
 * deliver.h -- an out-of-band challenge on its way to the user: the
 * oob_code and binding code are made and the spool file written aside
 * (deliver_prepare), the send bucket of the user's channel is taken inside
 * the caller's write transaction (deliver_take; or with the challenge
 * queued, deliver_send), and only after the caller's commit (or once the
 * challenge is queued) the file is published for the deliverer
 * (deliver_publish). Nothing reaches the spool for a challenge that was
 * not stored. Shared by /mfa/challenge, /mfa/associate and the WorkOS
 * factor challenge.
 */
#ifndef MFA_DELIVER_H
#define MFA_DELIVER_H

#include <stdbool.h>

#include "api.h"
#include "ids.h"
#include "record.h"
#include "spool.h"

#define DELIVER_TEXT_MAX 320 /* bytes of a rendered message */

struct deliver {
	struct spool_file sf;
	char oob_code[MFA_HANDLE_LEN + 1]; /* for the answer; wiped by
					      deliver_discard */
	bool prepared;
};

/*
 * Makes challenge "c" (initialised, type CT_OOB) an oob one for "a" and
 * writes the spool file aside ("sync": fsynced before it is published, for
 * a challenge made durable). "tmpl" (may be NULL) is the message text
 * with "{{code}}" where the binding code goes. Returns MFA_OK,
 * MFA_ERR_INVALID (a template without {{code}}, or too long) or
 * MFA_ERR_IO/TOOBIG/NOMEM from the spool.
 */
int deliver_prepare(const struct mfa_ctx *ctx, struct challenge_rec *c,
    const struct authn_rec *a, const char *tmpl, bool sync, struct deliver *d)
    MFA_WUR;

/* The send to take from the bucket of the user's channel for "a". */
void deliver_send(const struct mfa_ctx *ctx, const struct authn_rec *a,
    struct store_bucket_op *op);

/* Takes one send from the user's channel bucket: MFA_ERR_LIMIT when it
 * is empty (nothing written). */
int deliver_take(const struct mfa_ctx *ctx, struct store_txn *txn,
    const struct authn_rec *a) MFA_WUR;

/* Publishes the spool file after the commit. */
int deliver_publish(struct deliver *d) MFA_WUR;

/* Drops the spool file unless published (the challenge was not
 * stored) and wipes the oob_code: call it last, in every case. */
void deliver_discard(struct deliver *d);

/* The OAuth-shape 429 for an empty send bucket. */
void deliver_limited(struct mfa_resp *resp, const struct authn_rec *a);

#endif
