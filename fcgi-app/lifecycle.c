/*
 * lifecycle.c -- the challenge state machine.
 */
#include "lifecycle.h"

static struct lc_result
lifecycle_result(enum lc_verdict v, enum challenge_state s, unsigned attempts)
{
	struct lc_result r;

	r.verdict = v;
	r.state = s;
	r.attempts = attempts;
	return r;
}

struct lc_result
lifecycle_step(enum challenge_state state, mfa_ms expires_at, mfa_ms now,
    unsigned attempts, unsigned max_attempts, enum lc_event ev)
{
	if (ev < LC_CODE_OK || ev > LC_DENY || max_attempts == 0)
		return lifecycle_result(LC_ERROR, state, attempts);
	switch (state) {
	case CHALLENGE_VERIFIED:
		return lifecycle_result(LC_ALREADY_VERIFIED, state, attempts);
	case CHALLENGE_EXPIRED:
		return lifecycle_result(LC_EXPIRED, state, attempts);
	case CHALLENGE_LOCKED:
		return lifecycle_result(LC_LOCKED, state, attempts);
	case CHALLENGE_DENIED:
		return lifecycle_result(LC_DENIED, state, attempts);
	case CHALLENGE_PENDING:
		break;
	default:
		return lifecycle_result(LC_ERROR, state, attempts);
	}
	if (expires_at != 0 && now >= expires_at)
		return lifecycle_result(LC_EXPIRED, CHALLENGE_EXPIRED, attempts);
	/* Fail closed on a record already at its limit (never stored so). */
	if (attempts >= max_attempts)
		return lifecycle_result(LC_LOCKED, CHALLENGE_LOCKED, attempts);
	switch (ev) {
	case LC_CODE_OK:
		return lifecycle_result(LC_VERIFIED, CHALLENGE_VERIFIED,
		    attempts);
	case LC_CODE_BAD:
		if (attempts + 1 >= max_attempts)
			return lifecycle_result(LC_LOCKED_NOW, CHALLENGE_LOCKED,
			    attempts + 1);
		return lifecycle_result(LC_WRONG_CODE, CHALLENGE_PENDING,
		    attempts + 1);
	case LC_DENY:
		return lifecycle_result(LC_DENIED, CHALLENGE_DENIED, attempts);
	default:
		return lifecycle_result(LC_PENDING, CHALLENGE_PENDING, attempts);
	}
}
