/*
 * bucket.c -- token buckets with exact integer arithmetic.
 */
#include "bucket.h"

void
bucket_init(struct bucket *b, const struct bucket_policy *p, mfa_ms now)
{
	b->level = p->burst;
	b->refilled_at = now;
}

/* Adds the whole tokens earned since refilled_at, up to the burst. */
static void
bucket_refill(struct bucket *b, const struct bucket_policy *p, mfa_ms now)
{
	mfa_ms earned;

	if (b->level > p->burst)
		b->level = p->burst;
	if (now <= b->refilled_at)
		return;
	if (b->level >= p->burst) {
		b->refilled_at = now;
		return;
	}
	earned = (now - b->refilled_at) / p->refill_ms;
	if (earned >= (mfa_ms)(p->burst - b->level)) {
		b->level = p->burst;
		b->refilled_at = now;
	} else {
		b->level += (unsigned)earned;
		b->refilled_at += earned * p->refill_ms;
	}
}

bool
bucket_take(struct bucket *b, const struct bucket_policy *p, mfa_ms now)
{
	bucket_refill(b, p, now);
	if (b->level == 0)
		return false;
	b->level--;
	return true;
}

mfa_ms
bucket_wait_ms(const struct bucket *b, const struct bucket_policy *p,
    mfa_ms now)
{
	struct bucket tmp = *b;
	mfa_ms next;

	bucket_refill(&tmp, p, now);
	if (tmp.level > 0)
		return 0;
	next = tmp.refilled_at + p->refill_ms;
	return next > now ? next - now : 0;
}
