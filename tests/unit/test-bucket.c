/*
 * test-bucket.c -- token buckets: exactly "burst" takes from a full
 * bucket, one token back after exactly refill_ms (not a millisecond
 * before), partial refills that keep the remainder, a clock that goes
 * backwards, the burst cap after a long idle, and bucket_wait_ms.
 */
#include <string.h>

#include "bucket.h"
#include "test.h"

/*
 * A script: each step is a take (or a wait query) at a time, with the
 * expected answer and the bucket state after it.
 */
struct step {
	const char *name;
	mfa_ms now;
	bool wait;       /* bucket_wait_ms instead of bucket_take */
	long long want;  /* take: 1/0; wait: ms */
	unsigned level;  /* after the step */
	mfa_ms refilled_at;
};

static void
run_script(const char *script, const struct bucket_policy *p,
    struct bucket *b, const struct step *s, size_t n)
{
	struct bucket before;
	char row[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(row, sizeof(row), "%s: %s", script, s[i].name);
		if (s[i].wait) {
			before = *b;
			ROW_INT(row, bucket_wait_ms(b, p, s[i].now),
			    s[i].want);
			/* a query changes nothing */
			ROW_INT(row, b->level, before.level);
			ROW_INT(row, b->refilled_at, before.refilled_at);
		} else {
			ROW_INT(row, bucket_take(b, p, s[i].now), s[i].want);
		}
		ROW_INT(row, b->level, s[i].level);
		ROW_INT(row, b->refilled_at, s[i].refilled_at);
	}
}

#define TAKE(n, t, w, l, r) { n, t, false, w, l, r }
#define WAIT(n, t, w, l, r) { n, t, true, w, l, r }

static void
test_bucket_burst_and_refill(void)
{
	static const struct bucket_policy p = { 3, 1000 };
	static const struct step s[] = {
		WAIT("full: no wait", 0, 0, 3, 0),
		TAKE("take 1 of 3", 0, 1, 2, 0),
		TAKE("take 2 of 3", 0, 1, 1, 0),
		TAKE("take 3 of 3", 0, 1, 0, 0),
		TAKE("4th take refused", 0, 0, 0, 0),
		WAIT("empty: a whole period", 0, 1000, 0, 0),
		WAIT("empty at 400", 400, 600, 0, 0),
		TAKE("refill_ms - 1: still empty", 999, 0, 0, 0),
		WAIT("refill_ms - 1: 1 ms left", 999, 1, 0, 0),
		WAIT("refill_ms: a token is there", 1000, 0, 0, 0),
		TAKE("exactly refill_ms: one token", 1000, 1, 0, 1000),
		TAKE("and only one", 1000, 0, 0, 1000),
		/* 2.5 periods: two tokens, the half period is kept */
		TAKE("2.5 periods later", 3500, 1, 1, 3000),
		WAIT("one left: no wait", 3500, 0, 1, 3000),
		TAKE("last of the two", 3500, 1, 0, 3000),
		WAIT("remainder counts toward the next", 3500, 500, 0, 3000),
		TAKE("remainder: 500 ms later", 4000, 1, 0, 4000),
		/* 1.999 periods: one token, 999 ms kept */
		TAKE("1.999 periods later", 5999, 1, 0, 5000),
		TAKE("the kept 999 ms + 1", 6000, 1, 0, 6000),
	};
	struct bucket b;

	bucket_init(&b, &p, 0);
	T_EQ_INT(b.level, 3);
	T_EQ_INT(b.refilled_at, 0);
	run_script("burst 3/1s", &p, &b, s, NELEM(s));
}

static void
test_bucket_idle(void)
{
	static const struct bucket_policy p = { 5, 1000 };
	static const struct step s[] = {
		TAKE("empty it 1", 0, 1, 4, 0),
		TAKE("empty it 2", 0, 1, 3, 0),
		TAKE("empty it 3", 0, 1, 2, 0),
		TAKE("empty it 4", 0, 1, 1, 0),
		TAKE("empty it 5", 0, 1, 0, 0),
		/* a year idle: back to the burst, not beyond */
		TAKE("after a year", 31536000000LL, 1, 4, 31536000000LL),
		TAKE("2", 31536000000LL, 1, 3, 31536000000LL),
		TAKE("3", 31536000000LL, 1, 2, 31536000000LL),
		TAKE("4", 31536000000LL, 1, 1, 31536000000LL),
		TAKE("5", 31536000000LL, 1, 0, 31536000000LL),
		TAKE("6th refused", 31536000000LL, 0, 0, 31536000000LL),
	};
	/* a full bucket does not bank time */
	static const struct step full[] = {
		TAKE("full, 10 s idle", 10000, 1, 4, 10000),
		TAKE("next period starts at the take", 10999, 1, 3, 10000),
		TAKE("one token at 11000", 11000, 1, 3, 11000),
	};
	struct bucket b;

	bucket_init(&b, &p, 0);
	run_script("idle", &p, &b, s, NELEM(s));
	bucket_init(&b, &p, 0);
	run_script("full idle", &p, &b, full, NELEM(full));
}

static void
test_bucket_backwards(void)
{
	static const struct bucket_policy p = { 2, 1000 };
	static const struct step s[] = {
		TAKE("1", 5000, 1, 1, 5000),
		TAKE("2", 5000, 1, 0, 5000),
		/* the clock steps back an hour: nothing is refilled */
		TAKE("an hour back", 5000 - 3600000, 0, 0, 5000),
		WAIT("an hour back: wait to refilled_at + period",
		    5000 - 3600000, 3601000, 0, 5000),
		TAKE("1 ms back", 4999, 0, 0, 5000),
		TAKE("same time", 5000, 0, 0, 5000),
		TAKE("period after refilled_at", 6000, 1, 0, 6000),
	};
	/* a token left can still be taken while the clock is behind */
	static const struct step left[] = {
		TAKE("1", 5000, 1, 1, 5000),
		TAKE("back in time, one left", 1000, 1, 0, 5000),
		TAKE("back in time, none left", 1000, 0, 0, 5000),
	};
	struct bucket b;

	bucket_init(&b, &p, 5000);
	run_script("backwards", &p, &b, s, NELEM(s));
	bucket_init(&b, &p, 5000);
	run_script("backwards, left", &p, &b, left, NELEM(left));
}

static void
test_bucket_policy_change(void)
{
	static const struct bucket_policy small = { 3, 1000 };
	static const struct bucket_policy one = { 1, 60000 };
	struct bucket b;

	/* a bucket saved under a larger burst is capped to the new one */
	b.level = 10;
	b.refilled_at = 0;
	T_EQ_INT(bucket_wait_ms(&b, &small, 0), 0);
	T_EQ_INT(bucket_take(&b, &small, 0), true);
	T_EQ_INT(b.level, 2);
	T_EQ_INT(bucket_take(&b, &small, 0), true);
	T_EQ_INT(bucket_take(&b, &small, 0), true);
	T_EQ_INT(bucket_take(&b, &small, 0), false);

	/* burst 1: strictly one per period */
	bucket_init(&b, &one, 100);
	T_EQ_INT(bucket_take(&b, &one, 100), true);
	T_EQ_INT(bucket_take(&b, &one, 60099), false);
	T_EQ_INT(bucket_wait_ms(&b, &one, 60099), 1);
	T_EQ_INT(bucket_take(&b, &one, 60100), true);
	T_EQ_INT(b.refilled_at, 60100);
	T_EQ_INT(bucket_wait_ms(&b, &one, 60100), 60000);

	/* refill_ms of 1 */
	{
		static const struct bucket_policy fast = { 2, 1 };

		bucket_init(&b, &fast, 0);
		T_EQ_INT(bucket_take(&b, &fast, 0), true);
		T_EQ_INT(bucket_take(&b, &fast, 0), true);
		T_EQ_INT(bucket_take(&b, &fast, 0), false);
		T_EQ_INT(bucket_wait_ms(&b, &fast, 0), 1);
		T_EQ_INT(bucket_take(&b, &fast, 1), true);
	}
}

/* A zeroed bucket (a fresh record) is empty as of the epoch. */
static void
test_bucket_zeroed(void)
{
	static const struct bucket_policy p = { 3, 1000 };
	struct bucket b;

	memset(&b, 0, sizeof(b));
	T_EQ_INT(bucket_take(&b, &p, 1700000000000LL), true);
	T_EQ_INT(b.level, 2);
	T_EQ_INT(b.refilled_at, 1700000000000LL);
}

void
test_bucket(void)
{
	test_bucket_burst_and_refill();
	test_bucket_idle();
	test_bucket_backwards();
	test_bucket_policy_change();
	test_bucket_zeroed();
}
