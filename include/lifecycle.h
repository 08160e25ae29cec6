/*
 * lifecycle.h -- the challenge lifecycle (DESIGN §6) as a pure transition
 * function: pending -> verified | expired | locked | denied. The caller
 * applies the result to the record inside the write transaction that
 * decided it.
 *
 *   state \ event   code ok     code bad              poll        deny
 *   pending         verified    pending / locked(*)   pending     denied
 *   pending, due    expired     expired               expired     expired
 *   verified        already     already               already     already
 *   expired         expired     expired               expired     expired
 *   locked          locked      locked                locked      locked
 *   denied          denied      denied                denied      denied
 *   (*) locked when the failed attempts reach the per-challenge limit.
 */
#ifndef MFA_LIFECYCLE_H
#define MFA_LIFECYCLE_H

#include "record.h"

enum lc_event {
	LC_EVENT_INVALID = 0,
	LC_CODE_OK,   /* the presented code is right */
	LC_CODE_BAD,  /* the presented code is wrong or malformed */
	LC_POLL,      /* a poll without a code (push-style) */
	LC_DENY,      /* the user rejected the request */
};

enum lc_verdict {
	LC_ERROR = 0,        /* invalid input: refuse */
	LC_VERIFIED,         /* now verified */
	LC_WRONG_CODE,       /* still pending, one more failed attempt */
	LC_LOCKED_NOW,       /* this failure reached the limit */
	LC_PENDING,          /* poll: nothing happened yet */
	LC_ALREADY_VERIFIED, /* never verifies twice */
	LC_EXPIRED,
	LC_LOCKED,
	LC_DENIED,
};

struct lc_result {
	enum lc_verdict verdict;
	enum challenge_state state; /* the state to store */
	unsigned attempts;          /* the attempt count to store */
};

/*
 * Applies "ev" at "now" to a challenge in "state" with "attempts" failed
 * attempts so far, expiring at "expires_at" (0: never) and locking after
 * "max_attempts" (>= 1) failures.
 */
struct lc_result lifecycle_step(enum challenge_state state, mfa_ms expires_at,
    mfa_ms now, unsigned attempts, unsigned max_attempts, enum lc_event ev)
    MFA_WUR;

#endif
