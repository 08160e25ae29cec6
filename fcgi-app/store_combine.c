/*
 * store_combine.c -- the held requests of a worker in one LMDB commit.
 *
 * A worker that holds the replies of deferred commits (worker.c) serves
 * the requests already waiting before one sync covers them all. Each of
 * them committing on its own writes the same B-tree paths, the freelist
 * and the meta page again (about eight pages for one record). While the
 * worker has combining armed (store_combine_arm), a deferred commit is
 * instead kept open as the run's outer write transaction, and the write
 * transactions after it are nested in it (LMDB nested transactions: a
 * failed request aborts only its own part), until store_combine_end
 * commits it: those pages are written once per run of requests.
 *
 * A write transaction nested in it sees what the requests before it in
 * the run committed (a code used by one is refused to the next); read
 * transactions stay on their own and see what was committed before the
 * run, as they would if those requests were served by other workers at
 * the same time (their replies are not out yet either), so every
 * decision that must see the latest state is made in a write
 * transaction, as it is already for that reason. A deferred
 * commit merges into the outer one and is owed the outer commit's sync;
 * any other commit (durable, batched: an enrollment, an oob challenge
 * whose spool file is published after it) commits the outer transaction
 * at once, with the held requests' changes, and syncs when it is
 * durable, so it keeps its meaning. When the outer commit fails, the held
 * requests' commits are lost with it: store_sync_wait returns its error,
 * and each of them answers as its own failed commit would.
 *
 * The outer transaction holds LMDB's writer lock: other processes' writes
 * wait for the run (a few requests already read whole; the caller ends it
 * before anything that may wait on the network).
 */
#include "log.h"
#include "store_int.h"

int
store_combine_nest(struct store *st, struct store_txn *t)
{
	int rc;

	/* a second one at once: LMDB says MDB_BAD_TXN (a parent with a
	 * child takes no other operation) */
	rc = mdb_txn_begin(st->env, st->outer->txn, 0, &t->txn);
	if (rc != MDB_SUCCESS) {
		log_error("store: cannot begin a nested transaction: %s",
		    mdb_strerror(rc));
		return rc;
	}
	t->in_outer = true;
	return MDB_SUCCESS;
}

/* Hands the queued challenges "txn" took in to the outer transaction,
 * which settles them when it commits or aborts. */
static void
store_combine_adopt(struct store_txn *outer, struct store_txn *txn)
{
	size_t i;

	for (i = 0; i < txn->nbatch && outer->nbatch < STORE_BATCH_SLOTS; i++)
		outer->batch[outer->nbatch++] = txn->batch[i];
	txn->nbatch = 0;
}

/*
 * Commits the outer transaction: with the held requests' deferred
 * commits, as a deferred commit itself (owed the sync store_sync_wait
 * makes), synced now for a durable "how". A failure loses the held
 * commits (store_sync_lose).
 */
static int
store_combine_close(struct store *st, enum store_commit how)
{
	struct store_txn *o = st->outer;
	bool armed = st->combine;
	int rc;

	st->outer = NULL;
	st->combine = false; /* committed now, not kept again */
	rc = store_txn_finish(o, STORE_COMMIT_DEFERRED);
	st->combine = armed;
	if (rc != MFA_OK) {
		store_sync_lose(st, rc);
		return rc;
	}
	store_sync_add_owed(st, -1); /* counted by each held one */
	return how == STORE_COMMIT_DURABLE ? store_sync_owed_now(st) : MFA_OK;
}

int
store_combine_finish(struct store_txn *txn, enum store_commit how)
{
	struct store *st = txn->st;
	int rc = txn->err;

	if (rc != MFA_OK) {
		store_batch_settle(txn, false);
		mdb_txn_abort(txn->txn);
	} else if ((rc = mdb_txn_commit(txn->txn)) != MDB_SUCCESS) {
		log_error("store: nested commit failed: %s", mdb_strerror(rc));
		rc = store_map_err(rc);
		store_batch_settle(txn, false);
	} else {
		store_combine_adopt(st->outer, txn);
		rc = MFA_OK;
	}
	if (rc == MFA_OK) {
		if (how == STORE_COMMIT_DEFERRED)
			store_sync_add_owed(st, 1);
		else
			rc = store_combine_close(st, how);
	}
	store_txn_done(st, rc);
	free(txn);
	return rc;
}

void
store_combine_arm(struct store *st, bool on)
{
	st->combine = on && store_sync_deferring(st);
}

bool
store_combine_park(struct store_txn *txn)
{
	struct store *st = txn->st;

	if (!st->combine || st->outer != NULL || !txn->write ||
	    txn->err != MFA_OK)
		return false;
	st->outer = txn;
	store_sync_add_owed(st, 1);
	return true;
}

int
store_combine_end(struct store *st)
{
	return st->outer == NULL ? MFA_OK :
	    store_combine_close(st, STORE_COMMIT_DEFERRED);
}
