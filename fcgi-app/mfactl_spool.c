/*
 * mfactl_spool.c -- "mfactl spool": what waits for out-of-band delivery,
 * for an operator or a monitoring check (is the delivery agent running?).
 *
 *   {"spool": DIR, "pending": N, "outbox": O, "failed": M,
 *    "oldest_age_s": S}
 *
 * Counts only: no message is read, so no code or address is printed.
 * "outbox" counts the messages in the store's outbox (where the service
 * puts them); "pending" those and the message files in DIR (which earlier
 * versions wrote, and other programs may); "oldest_age_s" (the oldest
 * pending message's age, from its key or file name) is present when
 * something is pending; "failed" counts the files mfa-deliver set aside
 * in DIR/failed/.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mfactl.h"
#include "spool.h"

/* Counts the entries of "dir": its published message names (lowering
 * "*oldest" to the earliest of their times) when "published", else every
 * name but the hidden ones. -1 with errno when it cannot be read; 0 for a
 * missing directory when "missing_ok". */
static long
mfactl_spool_count(const char *dir, bool published, bool missing_ok,
    mfa_ms *oldest)
{
	struct dirent *e;
	long n = 0;
	mfa_ms t;
	DIR *d;
	int err;

	if ((d = opendir(dir)) == NULL)
		return missing_ok && errno == ENOENT ? 0 : -1;
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		if (published) {
			if (!spool_published_name(e->d_name, &t))
				continue;
			if (*oldest < 0 || t < *oldest)
				*oldest = t;
		} else if (e->d_name[0] == '.') {
			continue;
		}
		n++;
	}
	err = errno;
	closedir(d);
	errno = err;
	return err != 0 ? -1 : n;
}

/* store_outbox_each's callback: lowers "*arg" (mfa_ms) to the time of
 * the first message whose key is one the service writes (keys sort by
 * time), which ends the walk. */
static int
mfactl_spool_first(void *arg, const char *key, const void *msg, size_t len)
{
	char name[STORE_OUTBOX_KEY_MAX + sizeof(".json")];
	mfa_ms *oldest = arg, t;

	(void)msg;
	(void)len;
	snprintf(name, sizeof(name), "%s.json", key);
	if (!spool_published_name(name, &t))
		return 0;
	if (*oldest < 0 || t < *oldest)
		*oldest = t;
	return 1;
}

/* Counts the outbox's messages into "*n", lowering "*oldest" to the
 * oldest one's time; 0, or 1 after saying why not. */
static int
mfactl_spool_outbox(struct mfactl *m, size_t *n, mfa_ms *oldest)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(m->store, false, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = store_outbox_count(txn, n)) == MFA_OK)
		rc = store_outbox_each(txn, NULL, mfactl_spool_first, oldest);
	store_txn_abort(txn);
	if (rc != MFA_OK)
		return mfactl_fail("cannot read the outbox: %s",
		    mfa_strerror(rc));
	return 0;
}

int
mfactl_spool(struct mfactl *m, int argc, char **argv)
{
	char buf[PATH_MAX], failed[PATH_MAX];
	const char *dir;
	long files, nfailed;
	size_t outbox;
	mfa_ms oldest = -1;

	(void)argv;
	if (argc != 0)
		return mfactl_usage("spool takes no arguments");
	if ((dir = config_spool_dir(&m->cfg, buf, sizeof(buf))) == NULL)
		return mfactl_fail("the spool directory name is too long");
	/* opening commits what the service queued: its messages count */
	if (mfactl_open(m) != 0 || mfactl_spool_outbox(m, &outbox, &oldest) !=
	    0)
		return 1;
	if ((files = mfactl_spool_count(dir, true, false, &oldest)) < 0)
		return mfactl_fail("cannot read the spool %s: %s", dir,
		    strerror(errno));
	if (snprintf(failed, sizeof(failed), "%s/failed", dir) >=
	    (int)sizeof(failed))
		return mfactl_fail("the spool directory name is too long");
	if ((nfailed = mfactl_spool_count(failed, false, true, &oldest)) < 0)
		return mfactl_fail("cannot read %s: %s", failed,
		    strerror(errno));
	m->result = json_pack("{s:s, s:I, s:I, s:I}", "spool", dir, "pending",
	    (json_int_t)files + (json_int_t)outbox, "outbox",
	    (json_int_t)outbox, "failed", (json_int_t)nfailed);
	if (m->result != NULL && oldest >= 0 &&
	    json_object_set_new(m->result, "oldest_age_s", json_integer(
	    (json_int_t)((m->now - oldest) / 1000))) != 0) {
		json_decref(m->result);
		m->result = NULL;
	}
	return 0;
}
