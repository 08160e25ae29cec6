/*
 * deliver.c -- out-of-band codes on their way (deliver.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "challenge.h"
#include "deliver.h"

#define DELIVER_MARK "{{code}}"

/* Renders "tmpl" with "code" into "out"; false when it does not fit or
 * lacks the mark. */
static bool
deliver_render(const char *tmpl, const char *code, char *out, size_t outlen)
{
	const char *mark = strstr(tmpl, DELIVER_MARK);
	int n;

	if (mark == NULL)
		return false;
	n = snprintf(out, outlen, "%.*s%s%s", (int)(mark - tmpl), tmpl, code,
	    mark + strlen(DELIVER_MARK));
	return n >= 0 && (size_t)n < outlen;
}

int
deliver_prepare(const struct mfa_ctx *ctx, struct challenge_rec *c,
    const struct authn_rec *a, const char *tmpl, struct deliver *d)
{
	char binding[IDS_BINDING_LEN + 1], text[DELIVER_TEXT_MAX + 1];
	struct spool_msg m;
	int rc = MFA_OK;

	memset(d, 0, sizeof(*d));
	challenge_make_oob(c, ctx->keys, d->oob_code, binding);
	m = (struct spool_msg){ record_channel_name(a->channel), a->to,
		binding, a->user_id, c->id, c->created_at, NULL };
	if (tmpl != NULL) {
		if (!deliver_render(tmpl, binding, text, sizeof(text))) {
			rc = MFA_ERR_INVALID;
			goto out;
		}
		m.text = text;
	}
	if ((d->msg = spool_format(&m)) == NULL)
		rc = MFA_ERR_NOMEM;
	else
		d->msg_len = strlen(d->msg);
out:
	sodium_memzero(binding, sizeof(binding));
	sodium_memzero(text, sizeof(text));
	if (rc != MFA_OK)
		sodium_memzero(d->oob_code, sizeof(d->oob_code));
	return rc;
}

void
deliver_send(const struct mfa_ctx *ctx, const struct authn_rec *a,
    const struct deliver *d, struct store_bucket_op *op)
{
	const struct config *cfg = ctx->cfg;

	if (a->channel == CHANNEL_EMAIL)
		*op = (struct store_bucket_op){ "email:", a->user_id,
			{ cfg->email_burst, cfg->email_refill * 1000 },
			ctx->now, d->msg, d->msg_len };
	else
		*op = (struct store_bucket_op){ "pstn:", a->user_id,
			{ cfg->sms_burst, cfg->sms_refill * 1000 }, ctx->now,
			d->msg, d->msg_len };
}

int
deliver_take(const struct mfa_ctx *ctx, struct store_txn *txn,
    const struct challenge_rec *c, const struct authn_rec *a,
    const struct deliver *d)
{
	struct store_bucket_op op;
	int rc;

	deliver_send(ctx, a, d, &op);
	if ((rc = store_bucket_take(txn, &op)) != MFA_OK)
		return rc;
	return store_outbox_put(txn, c, d->msg, d->msg_len);
}

void
deliver_discard(struct deliver *d)
{
	if (d->msg != NULL) {
		sodium_memzero(d->msg, d->msg_len);
		free(d->msg);
	}
	d->msg = NULL;
	d->msg_len = 0;
	sodium_memzero(d->oob_code, sizeof(d->oob_code));
}

void
deliver_limited(struct mfa_resp *resp, const struct authn_rec *a)
{
	if (a->channel == CHANNEL_EMAIL)
		resp_error(resp, 429, "too_many_requests", "Too many emails "
		    "sent by the user. Wait for some minutes before retrying.");
	else
		resp_error(resp, 429, "too_many_requests", "Too many SMS sent "
		    "by the user. Wait for some minutes before retrying.");
}
