/*
 * test-pending.c -- mfa-deliver's retry table (fcgi-app/mfa_deliver_
 * pending.c, compiled in here: the program's own files are not part of
 * the core the unit tests link): entries found by (source, name), failures
 * counted with their back-off, a full table, and a sent message that
 * must be remembered even then.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../fcgi-app/mfa_deliver_pending.c"
#include "test.h"

static struct msg
pending_msg(bool outbox, unsigned n)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.outbox = outbox;
	snprintf(m.name, sizeof(m.name), "0000000000001-c%05u.json", n);
	return m;
}

/* Failures count up with a doubling back-off; the same name from the
 * other source is another entry; waiting, pruning and forgetting. */
static void
test_pending_basics(struct agent *a)
{
	struct msg m = pending_msg(true, 7), f = pending_msg(false, 7);
	int64_t next = -1;

	T_EQ_INT(pending_fail(a, &m, 1000), 1);
	T_EQ_INT(pending_fail(a, &m, 1000), 2);
	T_EQ_INT(pending_find(a, &m)->next_mono, 3000); /* 1 s, then 2 */
	T_TRUE(pending_find(a, &f) == NULL);
	T_EQ_INT(pending_fail(a, &f, 1000), 1);
	T_EQ_INT(a->npend, 2);
	T_TRUE(pending_waits(a, &m, 2999, &next));
	T_EQ_INT(next, 3000);
	T_TRUE(!pending_waits(a, &m, 3000, &next)); /* due */
	a->o.once = true; /* --once: nothing waits */
	T_TRUE(!pending_waits(a, &m, 0, &next));
	a->o.once = false;
	pending_unsee(a, true);
	pending_prune(a, true); /* the outbox entry was not seen again */
	T_TRUE(pending_find(a, &m) == NULL);
	T_TRUE(pending_find(a, &f) != NULL);
	pending_forget(a, &f);
	T_EQ_INT(a->npend, 0);
}

/* A full table: a new failure is not counted (0: the caller sets the
 * message aside), but a sent message whose removal failed takes the
 * place of one that was not sent, so that it is not sent again; when
 * every entry is a sent one, it cannot be remembered. */
static void
test_pending_full(struct agent *a)
{
	struct msg m;
	unsigned i;

	for (i = 0; i < DELIVER_PENDING_MAX; i++) {
		m = pending_msg(true, i);
		ROW_INT(m.name, pending_fail(a, &m, 0), 1);
	}
	m = pending_msg(true, DELIVER_PENDING_MAX);
	T_EQ_INT(pending_fail(a, &m, 0), 0);
	T_TRUE(pending_find(a, &m) == NULL);
	pending_later(a, &m, true);
	T_TRUE(pending_find(a, &m) != NULL && pending_find(a, &m)->sent);
	T_EQ_INT(a->npend, DELIVER_PENDING_MAX);
	m = pending_msg(true, 0); /* the one that made room */
	T_TRUE(pending_find(a, &m) == NULL);
	for (i = 1; i <= DELIVER_PENDING_MAX; i++) {
		m = pending_msg(true, i);
		pending_later(a, &m, true);
	}
	for (i = 1; i <= DELIVER_PENDING_MAX; i++) {
		m = pending_msg(true, i);
		if (pending_find(a, &m) == NULL || !pending_find(a, &m)->sent)
			break;
	}
	T_EQ_INT(i, DELIVER_PENDING_MAX + 1); /* all of them, sent */
	m = pending_msg(false, 1);
	pending_later(a, &m, true);
	T_TRUE(pending_find(a, &m) == NULL);
}

void
test_pending(void)
{
	struct agent a;

	memset(&a, 0, sizeof(a));
	if ((a.pend = calloc(DELIVER_PENDING_MAX, sizeof(*a.pend))) == NULL) {
		T_TRUE(false);
		return;
	}
	test_pending_basics(&a);
	test_pending_full(&a);
	free(a.pend);
}
