/*
 * bucket.h -- token-bucket rate limits (Auth0's model: a bucket of "burst"
 * tokens, one token back every "refill_ms"). Pure: time is passed in; the
 * caller loads and saves the struct bucket inside one write transaction.
 */
#ifndef MFA_BUCKET_H
#define MFA_BUCKET_H

#include <stdbool.h>

#include "record.h"

struct bucket_policy {
	unsigned burst;   /* bucket size, >= 1 */
	mfa_ms refill_ms; /* time to earn one token back, >= 1 */
};

/* A full bucket at time "now". */
void bucket_init(struct bucket *b, const struct bucket_policy *p, mfa_ms now);

/*
 * Brings "b" up to date at "now" (a clock that went backwards refills
 * nothing) and takes one token. Returns true when a token was taken, false
 * when the bucket is empty (then only the refill is recorded).
 */
bool bucket_take(struct bucket *b, const struct bucket_policy *p, mfa_ms now)
    MFA_WUR;

/* Milliseconds until the next token at "now" (0 when one is available). */
mfa_ms bucket_wait_ms(const struct bucket *b, const struct bucket_policy *p,
    mfa_ms now);

#endif
