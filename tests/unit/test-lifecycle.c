/*
 * test-lifecycle.c -- lifecycle_step, the challenge state machine of
 * DESIGN §6, as tables: every state (the valid five and invalid values)
 * crossed with every event (the valid four and invalid values), expiry
 * exactly at expires_at (and a millisecond before), the attempt limit
 * reached by a wrong code (max_attempts 1 and 5), a never-expiring
 * challenge, and the input errors (invalid event, invalid state, zero
 * max_attempts) that must give LC_ERROR with nothing changed.
 */
#include <limits.h>
#include <stdio.h>

#include "lifecycle.h"
#include "test.h"

#define T0 1700000000000LL  /* created */
#define EXP (T0 + 300000)   /* expires_at of the rows */

/* Short names keep the table one row per line. */
#define PEN CHALLENGE_PENDING
#define VER CHALLENGE_VERIFIED
#define EXD CHALLENGE_EXPIRED
#define LCK CHALLENGE_LOCKED
#define DEN CHALLENGE_DENIED
#define OK LC_CODE_OK
#define BAD LC_CODE_BAD
#define POLL LC_POLL
#define DENY LC_DENY

struct row {
	const char *name;
	enum challenge_state state;
	mfa_ms expires_at;
	mfa_ms now;
	unsigned attempts, max;
	enum lc_event ev;
	enum lc_verdict verdict;   /* expected */
	enum challenge_state out;  /* state to store */
	unsigned out_attempts;     /* attempts to store */
};

/*
 * Every valid state x every valid event. "pending" appears three times:
 * not due (a millisecond before expires_at), due exactly at expires_at,
 * and long past it. The terminal states are checked both before and after
 * the expiry time: their answer never depends on the clock.
 */
static const struct row matrix[] = {
	/* pending, a millisecond before expiry */
	{ "pending/ok", PEN, EXP, EXP - 1, 2, 5, OK, LC_VERIFIED, VER, 2 },
	{ "pending/bad", PEN, EXP, EXP - 1, 2, 5, BAD, LC_WRONG_CODE, PEN, 3 },
	{ "pending/poll", PEN, EXP, EXP - 1, 2, 5, POLL, LC_PENDING, PEN, 2 },
	{ "pending/deny", PEN, EXP, EXP - 1, 2, 5, DENY, LC_DENIED, DEN, 2 },
	/* pending, due exactly now */
	{ "due=/ok", PEN, EXP, EXP, 2, 5, OK, LC_EXPIRED, EXD, 2 },
	{ "due=/bad", PEN, EXP, EXP, 2, 5, BAD, LC_EXPIRED, EXD, 2 },
	{ "due=/poll", PEN, EXP, EXP, 2, 5, POLL, LC_EXPIRED, EXD, 2 },
	{ "due=/deny", PEN, EXP, EXP, 2, 5, DENY, LC_EXPIRED, EXD, 2 },
	/* pending, long past expiry, with the limit about to be reached */
	{ "due+/ok", PEN, EXP, EXP + 86400000, 4, 5, OK, LC_EXPIRED, EXD, 4 },
	{ "due+/bad", PEN, EXP, EXP + 86400000, 4, 5, BAD, LC_EXPIRED, EXD,
	    4 },
	{ "due+/poll", PEN, EXP, EXP + 86400000, 4, 5, POLL, LC_EXPIRED, EXD,
	    4 },
	{ "due+/deny", PEN, EXP, EXP + 86400000, 4, 5, DENY, LC_EXPIRED, EXD,
	    4 },
	/* verified: never verifies twice, whatever the clock says */
	{ "verified/ok", VER, EXP, T0, 0, 5, OK, LC_ALREADY_VERIFIED, VER, 0 },
	{ "verified/bad", VER, EXP, T0, 0, 5, BAD, LC_ALREADY_VERIFIED, VER,
	    0 },
	{ "verified/poll", VER, EXP, T0, 0, 5, POLL, LC_ALREADY_VERIFIED, VER,
	    0 },
	{ "verified/deny", VER, EXP, T0, 0, 5, DENY, LC_ALREADY_VERIFIED, VER,
	    0 },
	{ "verified,due/ok", VER, EXP, EXP, 1, 5, OK, LC_ALREADY_VERIFIED,
	    VER, 1 },
	{ "verified,due/bad", VER, EXP, EXP + 1, 1, 5, BAD,
	    LC_ALREADY_VERIFIED, VER, 1 },
	/* expired */
	{ "expired/ok", EXD, EXP, EXP, 0, 5, OK, LC_EXPIRED, EXD, 0 },
	{ "expired/bad", EXD, EXP, EXP, 0, 5, BAD, LC_EXPIRED, EXD, 0 },
	{ "expired/poll", EXD, EXP, EXP, 0, 5, POLL, LC_EXPIRED, EXD, 0 },
	{ "expired/deny", EXD, EXP, EXP, 0, 5, DENY, LC_EXPIRED, EXD, 0 },
	/* stored as expired although the clock went back: still expired */
	{ "expired,early/ok", EXD, EXP, T0, 0, 5, OK, LC_EXPIRED, EXD, 0 },
	/* locked: the right code does not unlock */
	{ "locked/ok", LCK, EXP, T0, 5, 5, OK, LC_LOCKED, LCK, 5 },
	{ "locked/bad", LCK, EXP, T0, 5, 5, BAD, LC_LOCKED, LCK, 5 },
	{ "locked/poll", LCK, EXP, T0, 5, 5, POLL, LC_LOCKED, LCK, 5 },
	{ "locked/deny", LCK, EXP, T0, 5, 5, DENY, LC_LOCKED, LCK, 5 },
	{ "locked,due/ok", LCK, EXP, EXP + 1, 5, 5, OK, LC_LOCKED, LCK, 5 },
	/* denied */
	{ "denied/ok", DEN, EXP, T0, 0, 5, OK, LC_DENIED, DEN, 0 },
	{ "denied/bad", DEN, EXP, T0, 0, 5, BAD, LC_DENIED, DEN, 0 },
	{ "denied/poll", DEN, EXP, T0, 0, 5, POLL, LC_DENIED, DEN, 0 },
	{ "denied/deny", DEN, EXP, T0, 0, 5, DENY, LC_DENIED, DEN, 0 },
	{ "denied,due/ok", DEN, EXP, EXP, 0, 5, OK, LC_DENIED, DEN, 0 },
};

/* The attempt limit and a challenge that never expires (TOTP). */
static const struct row limits[] = {
	/* max_attempts 5: the 5th wrong code locks, the 4th does not */
	{ "0 of 5, bad", PEN, EXP, T0, 0, 5, BAD, LC_WRONG_CODE, PEN, 1 },
	{ "3 of 5, bad", PEN, EXP, T0, 3, 5, BAD, LC_WRONG_CODE, PEN, 4 },
	{ "4 of 5, bad: locks", PEN, EXP, T0, 4, 5, BAD, LC_LOCKED_NOW, LCK,
	    5 },
	{ "4 of 5, ok", PEN, EXP, T0, 4, 5, OK, LC_VERIFIED, VER, 4 },
	{ "4 of 5, poll", PEN, EXP, T0, 4, 5, POLL, LC_PENDING, PEN, 4 },
	/* at or beyond the limit while still pending (never stored so):
	 * fails closed as locked, for a right code too, no count overflow */
	{ "7 of 5, bad", PEN, EXP, T0, 7, 5, BAD, LC_LOCKED, LCK, 7 },
	{ "5 of 5, ok", PEN, EXP, T0, 5, 5, OK, LC_LOCKED, LCK, 5 },
	/* max_attempts 1: the first wrong code locks */
	{ "0 of 1, bad: locks", PEN, EXP, T0, 0, 1, BAD, LC_LOCKED_NOW, LCK,
	    1 },
	{ "0 of 1, ok", PEN, EXP, T0, 0, 1, OK, LC_VERIFIED, VER, 0 },
	{ "0 of 1, poll", PEN, EXP, T0, 0, 1, POLL, LC_PENDING, PEN, 0 },
	{ "0 of 1, deny", PEN, EXP, T0, 0, 1, DENY, LC_DENIED, DEN, 0 },
	{ "1 of 1 locked, ok", LCK, EXP, T0, 1, 1, OK, LC_LOCKED, LCK, 1 },
	/* max_attempts 2 */
	{ "0 of 2, bad", PEN, EXP, T0, 0, 2, BAD, LC_WRONG_CODE, PEN, 1 },
	{ "1 of 2, bad: locks", PEN, EXP, T0, 1, 2, BAD, LC_LOCKED_NOW, LCK,
	    2 },
	/* a large limit */
	{ "98 of 100, bad", PEN, EXP, T0, 98, 100, BAD, LC_WRONG_CODE, PEN,
	    99 },
	{ "99 of 100, bad: locks", PEN, EXP, T0, 99, 100, BAD, LC_LOCKED_NOW,
	    LCK, 100 },
	/* expiry wins over the limit: an expired challenge does not lock */
	{ "4 of 5, bad, due", PEN, EXP, EXP, 4, 5, BAD, LC_EXPIRED, EXD, 4 },
	/* expires_at 0: never expires (TOTP challenges) */
	{ "no expiry/ok", PEN, 0, T0 + 86400000LL * 3650, 0, 5, OK,
	    LC_VERIFIED, VER, 0 },
	{ "no expiry/bad", PEN, 0, T0 + 86400000LL * 3650, 0, 5, BAD,
	    LC_WRONG_CODE, PEN, 1 },
	{ "no expiry/poll", PEN, 0, INT64_MAX, 0, 5, POLL, LC_PENDING, PEN, 0 },
	{ "no expiry/deny", PEN, 0, 0, 0, 5, DENY, LC_DENIED, DEN, 0 },
	/* now 0 with a real expiry: not due */
	{ "now 0/ok", PEN, EXP, 0, 0, 5, OK, LC_VERIFIED, VER, 0 },
	/* expiry at 1 ms, now 1 ms: due exactly */
	{ "exp 1, now 1", PEN, 1, 1, 0, 5, OK, LC_EXPIRED, EXD, 0 },
	{ "exp 2, now 1", PEN, 2, 1, 0, 5, OK, LC_VERIFIED, VER, 0 },
};

/*
 * Input errors: LC_ERROR (the zero value) and the state and attempts
 * handed back unchanged, so a caller that stores the result anyway
 * changes nothing.
 */
static const struct row errors[] = {
	/* invalid events, in every state */
	{ "pending/invalid ev", PEN, EXP, T0, 1, 5, LC_EVENT_INVALID, LC_ERROR,
	    PEN, 1 },
	{ "pending,due/invalid ev", PEN, EXP, EXP, 1, 5, LC_EVENT_INVALID,
	    LC_ERROR, PEN, 1 },
	{ "verified/invalid ev", VER, EXP, T0, 0, 5, LC_EVENT_INVALID,
	    LC_ERROR, VER, 0 },
	{ "expired/invalid ev", EXD, EXP, T0, 0, 5, LC_EVENT_INVALID, LC_ERROR,
	    EXD, 0 },
	{ "locked/invalid ev", LCK, EXP, T0, 5, 5, LC_EVENT_INVALID, LC_ERROR,
	    LCK, 5 },
	{ "denied/invalid ev", DEN, EXP, T0, 0, 5, LC_EVENT_INVALID, LC_ERROR,
	    DEN, 0 },
	{ "pending/event 5", PEN, EXP, T0, 1, 5, (enum lc_event)5, LC_ERROR,
	    PEN, 1 },
	{ "pending/event 99", PEN, EXP, T0, 1, 5, (enum lc_event)99, LC_ERROR,
	    PEN, 1 },
	{ "pending/event -1", PEN, EXP, T0, 1, 5, (enum lc_event)-1, LC_ERROR,
	    PEN, 1 },
	{ "verified/event 99", VER, EXP, T0, 0, 5, (enum lc_event)99, LC_ERROR,
	    VER, 0 },
	/* zero max_attempts, in every state and with every event */
	{ "pending/ok, max 0", PEN, EXP, T0, 0, 0, OK, LC_ERROR, PEN, 0 },
	{ "pending/bad, max 0", PEN, EXP, T0, 0, 0, BAD, LC_ERROR, PEN, 0 },
	{ "pending/poll, max 0", PEN, EXP, T0, 0, 0, POLL, LC_ERROR, PEN, 0 },
	{ "pending/deny, max 0", PEN, EXP, T0, 0, 0, DENY, LC_ERROR, PEN, 0 },
	{ "pending,due/ok, max 0", PEN, EXP, EXP, 0, 0, OK, LC_ERROR, PEN, 0 },
	{ "verified/ok, max 0", VER, EXP, T0, 0, 0, OK, LC_ERROR, VER, 0 },
	{ "expired/ok, max 0", EXD, EXP, T0, 0, 0, OK, LC_ERROR, EXD, 0 },
	{ "locked/ok, max 0", LCK, EXP, T0, 3, 0, OK, LC_ERROR, LCK, 3 },
	{ "denied/ok, max 0", DEN, EXP, T0, 0, 0, OK, LC_ERROR, DEN, 0 },
	/* invalid states (the zero value, out of range) with every event */
	{ "invalid/ok", CHALLENGE_INVALID, EXP, T0, 0, 5, OK, LC_ERROR,
	    CHALLENGE_INVALID, 0 },
	{ "invalid/bad", CHALLENGE_INVALID, EXP, T0, 0, 5, BAD, LC_ERROR,
	    CHALLENGE_INVALID, 0 },
	{ "invalid/poll", CHALLENGE_INVALID, EXP, T0, 0, 5, POLL, LC_ERROR,
	    CHALLENGE_INVALID, 0 },
	{ "invalid/deny", CHALLENGE_INVALID, EXP, T0, 0, 5, DENY, LC_ERROR,
	    CHALLENGE_INVALID, 0 },
	{ "invalid,due/ok", CHALLENGE_INVALID, EXP, EXP, 0, 5, OK, LC_ERROR,
	    CHALLENGE_INVALID, 0 },
	{ "state 6/ok", (enum challenge_state)6, EXP, T0, 0, 5, OK, LC_ERROR,
	    (enum challenge_state)6, 0 },
	{ "state 99/bad", (enum challenge_state)99, EXP, T0, 2, 5, BAD,
	    LC_ERROR, (enum challenge_state)99, 2 },
	{ "invalid state and event", CHALLENGE_INVALID, EXP, T0, 0, 0,
	    LC_EVENT_INVALID, LC_ERROR, CHALLENGE_INVALID, 0 },
};

static void
run_rows(const char *table, const struct row *r, size_t n)
{
	struct lc_result res;
	char name[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s: %s", table, r[i].name);
		res = lifecycle_step(r[i].state, r[i].expires_at, r[i].now,
		    r[i].attempts, r[i].max, r[i].ev);
		ROW_INT(name, res.verdict, r[i].verdict);
		ROW_INT(name, res.state, r[i].out);
		ROW_INT(name, res.attempts, r[i].out_attempts);
	}
}

/* A zeroed result is the error: it fails closed. */
static void
test_lifecycle_zero_values(void)
{
	struct lc_result z;

	memset(&z, 0, sizeof(z));
	T_EQ_INT(z.verdict, LC_ERROR);
	T_EQ_INT(z.state, CHALLENGE_INVALID);
	T_EQ_INT(LC_EVENT_INVALID, 0);
	T_EQ_INT(LC_ERROR, 0);
}

/*
 * A walk through one challenge as the grant handler drives it: each step
 * feeds the stored state and attempts back in.
 */
struct walk {
	mfa_ms now;
	enum lc_event ev;
	enum lc_verdict verdict;
	enum challenge_state state;
	unsigned attempts;
};

static void
run_walk(const char *name, mfa_ms expires_at, unsigned max,
    const struct walk *w, size_t n)
{
	enum challenge_state state = CHALLENGE_PENDING;
	unsigned attempts = 0;
	struct lc_result res;
	char row[96];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(row, sizeof(row), "%s: step %zu", name, i + 1);
		res = lifecycle_step(state, expires_at, w[i].now, attempts,
		    max, w[i].ev);
		ROW_INT(row, res.verdict, w[i].verdict);
		ROW_INT(row, res.state, w[i].state);
		ROW_INT(row, res.attempts, w[i].attempts);
		state = res.state;
		attempts = res.attempts;
	}
}

static void
test_lifecycle_walks(void)
{
	/* five wrong codes lock; the right code afterwards is refused */
	static const struct walk lock[] = {
		{ T0 + 1, POLL, LC_PENDING, PEN, 0 },
		{ T0 + 2, BAD, LC_WRONG_CODE, PEN, 1 },
		{ T0 + 3, BAD, LC_WRONG_CODE, PEN, 2 },
		{ T0 + 4, BAD, LC_WRONG_CODE, PEN, 3 },
		{ T0 + 5, BAD, LC_WRONG_CODE, PEN, 4 },
		{ T0 + 6, BAD, LC_LOCKED_NOW, LCK, 5 },
		{ T0 + 7, OK, LC_LOCKED, LCK, 5 },
		{ EXP, OK, LC_LOCKED, LCK, 5 },
		{ T0 + 8, DENY, LC_LOCKED, LCK, 5 },
	};
	/* two wrong codes, then the right one: verified once only */
	static const struct walk verify[] = {
		{ T0 + 1, BAD, LC_WRONG_CODE, PEN, 1 },
		{ T0 + 2, BAD, LC_WRONG_CODE, PEN, 2 },
		{ EXP - 1, OK, LC_VERIFIED, VER, 2 },
		{ EXP - 1, OK, LC_ALREADY_VERIFIED, VER, 2 },
		{ EXP + 1, OK, LC_ALREADY_VERIFIED, VER, 2 },
		{ T0 + 3, BAD, LC_ALREADY_VERIFIED, VER, 2 },
	};
	/* nobody answers: expired at expires_at, and stays expired */
	static const struct walk expire[] = {
		{ T0, POLL, LC_PENDING, PEN, 0 },
		{ EXP - 1, POLL, LC_PENDING, PEN, 0 },
		{ EXP, POLL, LC_EXPIRED, EXD, 0 },
		{ EXP - 1, OK, LC_EXPIRED, EXD, 0 },
		{ EXP + 1, DENY, LC_EXPIRED, EXD, 0 },
	};
	/* denied, then nothing else counts */
	static const struct walk deny[] = {
		{ T0, BAD, LC_WRONG_CODE, PEN, 1 },
		{ T0 + 1, DENY, LC_DENIED, DEN, 1 },
		{ T0 + 2, OK, LC_DENIED, DEN, 1 },
		{ EXP + 1, OK, LC_DENIED, DEN, 1 },
	};

	run_walk("lock", EXP, 5, lock, NELEM(lock));
	run_walk("verify", EXP, 5, verify, NELEM(verify));
	run_walk("expire", EXP, 5, expire, NELEM(expire));
	run_walk("deny", EXP, 5, deny, NELEM(deny));
}

void
test_lifecycle(void)
{
	run_rows("matrix", matrix, NELEM(matrix));
	run_rows("limits", limits, NELEM(limits));
	run_rows("errors", errors, NELEM(errors));
	test_lifecycle_zero_values();
	test_lifecycle_walks();
}
