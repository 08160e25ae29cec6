/*
 * mfa_deliver_pending.c -- mfa-deliver's retry table: the messages whose
 * gateway failed, or whose move or removal failed, each with when to try
 * it again (a back-off of 1, 2, 4 ... 60 s) and how often it failed. At
 * most DELIVER_PENDING_MAX entries, sorted by (outbox, name); an entry
 * that a scan no longer sees is forgotten (someone else removed the
 * message).
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mfa_deliver.h"

/*
 * The index of the entry for message "name" of the outbox ("outbox") or
 * the spool in the sorted table, or where it would go; "*found" says
 * which. A binary search: a busy service wakes the agent up to 40 times a
 * second, and every scan looks up each outbox message.
 */
static size_t
pending_at(const struct agent *a, bool outbox, const char *name,
    bool *found)
{
	size_t lo = 0, hi = a->npend, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = a->pend[mid].outbox != outbox ? (outbox ? -1 : 1) :
		    strcmp(a->pend[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct pending *
pending_find(struct agent *a, const struct msg *m)
{
	bool found;
	size_t i = pending_at(a, m->outbox, m->name, &found);

	return found ? &a->pend[i] : NULL;
}

/* The entry of "m", made when it has none; NULL when the table is full. */
static struct pending *
pending_get(struct agent *a, const struct msg *m)
{
	bool found;
	size_t i = pending_at(a, m->outbox, m->name, &found);
	struct pending *p = &a->pend[i];

	if (found)
		return p;
	if (a->npend == DELIVER_PENDING_MAX)
		return NULL;
	memmove(p + 1, p, (a->npend - i) * sizeof(*p));
	a->npend++;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", m->name);
	p->outbox = m->outbox;
	return p;
}

void
pending_forget(struct agent *a, const struct msg *m)
{
	bool found;
	size_t i = pending_at(a, m->outbox, m->name, &found);

	if (!found)
		return;
	memmove(&a->pend[i], &a->pend[i + 1], (a->npend - i - 1) *
	    sizeof(*a->pend));
	a->npend--;
}

void
pending_unsee(struct agent *a, bool outbox)
{
	size_t i;

	for (i = 0; i < a->npend; i++)
		if (a->pend[i].outbox == outbox)
			a->pend[i].seen = false;
}

void
pending_prune(struct agent *a, bool outbox)
{
	size_t i, n = 0;

	for (i = 0; i < a->npend; i++)
		if (a->pend[i].outbox != outbox || a->pend[i].seen)
			a->pend[n++] = a->pend[i];
	a->npend = n;
}

/* The back-off after the "n"th failure in a row, in ms. */
static int64_t
pending_backoff(unsigned n)
{
	unsigned shift = n - 1 < 6 ? n - 1 : 6;

	return 1000 * (int64_t)((1u << shift) < DELIVER_BACKOFF_MAX_S ?
	    (1u << shift) : DELIVER_BACKOFF_MAX_S);
}

unsigned
pending_fail(struct agent *a, const struct msg *m, int64_t mono)
{
	struct pending *p = pending_get(a, m);

	if (p == NULL)
		return 0;
	p->failures++;
	p->seen = true;
	p->next_mono = mono + pending_backoff(p->failures);
	return p->failures;
}

/* Makes room in a full table by forgetting a message that was not sent
 * (it only loses its count of failures); false when every entry is of a
 * sent one. */
static bool
pending_evict(struct agent *a)
{
	size_t i;

	for (i = 0; i < a->npend; i++)
		if (!a->pend[i].sent) {
			memmove(&a->pend[i], &a->pend[i + 1],
			    (a->npend - i - 1) * sizeof(*a->pend));
			a->npend--;
			return true;
		}
	return false;
}

void
pending_later(struct agent *a, const struct msg *m, bool sent)
{
	struct pending *p;

	/* --once remembers nothing: the run fails (exit 1), and the next
	 * one tries again */
	if (a->o.once) {
		a->nstuck++;
		if (sent)
			log_warn("deliver: %s was sent but stays: the next run "
			    "sends it again", m->name);
		return;
	}
	p = pending_get(a, m);
	/* a sent message must be remembered, or it would be sent again */
	if (p == NULL && sent && pending_evict(a))
		p = pending_get(a, m);
	if (p == NULL) {
		if (sent)
			log_error("deliver: %s was sent but cannot be removed, "
			    "and %d others neither: it may be sent again",
			    m->name, DELIVER_PENDING_MAX);
		return;
	}
	p->stuck++;
	p->seen = true;
	p->sent = p->sent || sent;
	p->next_mono = clock_mono_ms() + pending_backoff(p->stuck);
}

void
deliver_note_retry(const struct pending *p, int64_t *next)
{
	if (*next < 0 || p->next_mono < *next)
		*next = p->next_mono;
}

bool
pending_waits(struct agent *a, const struct msg *m, int64_t mono,
    int64_t *next)
{
	struct pending *p = pending_find(a, m);

	if (p == NULL)
		return false;
	p->seen = true;
	if (p->next_mono <= mono || a->o.once)
		return false;
	deliver_note_retry(p, next);
	return true;
}
