/*
 * mfa_deliver_msg.c -- one message of mfa-deliver: read (a file's bytes),
 * parsed and checked, refused or sent through the gateway, then removed
 * (sent, or expired) or set aside in failed/; what failed is noted in the
 * retry table (mfa_deliver_pending.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "gateway.h"
#include "log.h"
#include "mask.h"
#include "mfa_deliver.h"
#include "spool.h"
#include "store.h"

/* ------------------------------------------- removing, setting aside */

/* Removes outbox message "m" in a durable write transaction. True when
 * it is gone (also when the sweep or another writer took it first). */
static bool
deliver_outbox_del(struct agent *a, const struct msg *m)
{
	char key[DELIVER_NAME_MAX + 1];
	struct store_txn *txn;
	int rc;

	/* the key is the name without ".json" */
	snprintf(key, sizeof(key), "%.*s", (int)(strlen(m->name) - 5),
	    m->name);
	if ((rc = store_txn_begin(a->st, true, &txn)) != MFA_OK)
		goto out;
	if ((rc = store_outbox_del(txn, key)) == MFA_OK)
		rc = store_txn_commit(txn);
	else
		store_txn_abort(txn);
out:
	if (rc == MFA_OK || rc == MFA_ERR_NOTFOUND)
		return true;
	log_error("deliver: cannot remove %s from the outbox of %s: %s", key,
	    a->o.db, mfa_strerror(rc));
	return false;
}

/* Removes "m" (sent, or expired); false when it stays, for a later try
 * ("sent": the agent does not send it again while it runs). */
static bool
deliver_remove(struct agent *a, const struct msg *m, bool sent)
{
	bool gone;

	if (m->outbox) {
		gone = deliver_outbox_del(a, m);
	} else {
		gone = unlinkat(a->dirfd, m->name, 0) == 0 || errno == ENOENT;
		if (!gone)
			log_error("deliver: cannot remove %s: %s", m->name,
			    strerror(errno));
	}
	if (gone)
		pending_forget(a, m);
	else
		pending_later(a, m, sent);
	return gone;
}

/* Writes all of "len" bytes at "buf" to "fd". */
static bool
deliver_write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

/*
 * Writes outbox message "m" into directory "failed" as a file of its name
 * (mode 0600): written under a temporary name, synced, renamed, and the
 * directory synced, all before the entry is removed. A file of that name
 * already there is this message, set aside by a try whose removal from
 * the outbox failed: replaced by the same bytes. False (errno) when it
 * cannot be written; nothing half-written is left under its name.
 */
static bool
deliver_write_aside(int failed, const struct msg *m)
{
	char tmp[DELIVER_NAME_MAX + 8];
	int fd, err;
	bool ok;

	/* under a temporary name first: a crash leaves no partial file
	 * under the message's name (a run after it writes it again) */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", m->name);
	fd = openat(failed, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	ok = deliver_write_all(fd, m->buf, m->len) && fsync(fd) == 0;
	err = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (ok && renameat(failed, tmp, failed, m->name) == 0)
		/* the new name too, before the entry goes */
		return fsync(failed) == 0 || errno == EINVAL;
	if (ok)
		err = errno;
	unlinkat(failed, tmp, 0);
	errno = err;
	return false;
}

/* Sets "m" aside in failed/ (a directory, created 0700 on first use, never
 * followed through a link): a file is moved there, an outbox message
 * written there and then removed from the outbox. False when it could not
 * be (it is tried again later, never sent). */
static bool
deliver_set_aside(struct agent *a, const struct msg *m, const char *why)
{
	bool done;
	int fd;

	if (mkdirat(a->dirfd, "failed", 0700) != 0 && errno != EEXIST)
		log_error("deliver: cannot create %s/failed: %s", a->o.spool,
		    strerror(errno));
	fd = openat(a->dirfd, "failed", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	done = fd >= 0 && (m->outbox ? deliver_write_aside(fd, m) :
	    renameat(a->dirfd, m->name, fd, m->name) == 0);
	if (!done && fd >= 0 && !m->outbox && errno == ENOENT) {
		close(fd); /* the file was taken by someone */
		pending_forget(a, m);
		return true;
	}
	if (!done) {
		log_error("deliver: cannot move %s to %s/failed/ (%s): %s",
		    m->name, a->o.spool, why, strerror(errno));
		if (fd >= 0)
			close(fd);
		pending_later(a, m, false);
		return false;
	}
	close(fd);
	log_error("deliver: %s moved to failed/: %s", m->name, why);
	if (m->outbox && !deliver_outbox_del(a, m)) {
		pending_later(a, m, false); /* its file is there: kept */
		return false;
	}
	pending_forget(a, m);
	return true;
}

/* Reads message file "name" into "buf" (SPOOL_FILE_MAX + 1 bytes);
 * returns its length, or -1 with errno (EINVAL: not a regular file,
 * EFBIG: too large, ELOOP: a symbolic link). */
static ssize_t
deliver_read(int dirfd, const char *name, char *buf)
{
	struct stat st;
	ssize_t n, len = 0;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	while (err == 0 && len <= SPOOL_FILE_MAX) {
		n = read(fd, buf + len, (size_t)(SPOOL_FILE_MAX + 1 - len));
		if (n < 0 && errno != EINTR)
			err = errno;
		if (n == 0)
			break;
		if (n > 0)
			len += n;
	}
	close(fd);
	if (err == 0 && len > SPOOL_FILE_MAX)
		err = EFBIG;
	errno = err;
	return err != 0 ? -1 : len;
}

/* ------------------------------------------------------ one message */

static void
deliver_masked(const struct spool_in *m, char *out, size_t outlen)
{
	if (strcmp(m->channel, "email") == 0)
		mask_email(m->to, out, outlen);
	else
		mask_phone(m->to, out, outlen);
}

/* Why a message that parsed must not be sent, or NULL. */
static const char *
deliver_refuse(const struct msg *msg, const struct spool_in *m, mfa_ms now)
{
	size_t idlen = strlen(msg->name) - 14 - 5; /* "<13>-" ... ".json" */

	if (msg->created > now + DELIVER_FUTURE_MS)
		return "dated in the future";
	if (strlen(m->challenge_id) != idlen ||
	    strncmp(msg->name + 14, m->challenge_id, idlen) != 0) /* public */
		return msg->outbox ? "\"challenge_id\" is not the one of the "
		    "outbox key" : "\"challenge_id\" is not the one of the "
		    "file name";
	return NULL;
}

/* Runs the gateway for parsed message "m"; true when it was sent. */
static bool
deliver_send(struct agent *a, const struct msg *msg, const struct spool_in *m)
{
	char why[96], err[192], masked[MFA_DEST_MAX + 1];
	unsigned fails;
	int64_t mono;

	deliver_masked(m, masked, sizeof(masked));
	if (gateway_run(a->o.argv, m, a->o.timeout_s, why, sizeof(why))) {
		log_info("deliver: challenge %s sent by %s to %s",
		    m->challenge_id, m->channel, masked);
		(void)deliver_remove(a, msg, true);
		return true;
	}
	mono = clock_mono_ms(); /* the back-off counts from the end */
	if (a->o.once) {
		a->nleft++;
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "left for the next run", m->challenge_id, m->channel,
		    masked, a->o.argv[0], why);
	} else if ((fails = pending_fail(a, msg, mono)) == 0) {
		snprintf(err, sizeof(err), "%s failed (%s) and %d other "
		    "messages wait for a retry already", a->o.argv[0], why,
		    DELIVER_PENDING_MAX);
		(void)deliver_set_aside(a, msg, err);
	} else if (fails >= a->o.attempts) {
		snprintf(err, sizeof(err), "%s failed %u times, last: %s",
		    a->o.argv[0], fails, why);
		(void)deliver_set_aside(a, msg, err);
	} else {
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "try %u of %u in %lld s", m->challenge_id, m->channel,
		    masked, a->o.argv[0], why, fails + 1, a->o.attempts,
		    (long long)((pending_find(a, msg)->next_mono - mono) /
		    1000));
	}
	return false;
}

/* The bytes of file message "m", read into "buf" (SPOOL_FILE_MAX + 1);
 * -1 when there are none to parse, with "*done" set to what
 * deliver_one returns. */
static ssize_t
deliver_file_bytes(struct agent *a, const struct msg *m, char *buf,
    bool *done)
{
	ssize_t n;

	if ((n = deliver_read(a->dirfd, m->name, buf)) >= 0)
		return n;
	if (errno == ENOENT) { /* taken by someone */
		pending_forget(a, m);
		*done = true;
	} else if (errno == EINVAL || errno == EFBIG || errno == ELOOP) {
		*done = deliver_set_aside(a, m, errno == EFBIG ?
		    "larger than 16384 bytes" : errno == EINVAL ?
		    "not a regular file" : strerror(errno));
	} else {
		log_warn("deliver: cannot read %s: %s; tried again later",
		    m->name, strerror(errno));
		if (a->o.once)
			a->nstuck++; /* the run fails: the spool cannot be read */
		*done = false;
	}
	return -1;
}

/* Delivers message "m" at "now" (wall-clock ms); false when it is left
 * for a later try. */
static bool
deliver_one(struct agent *a, const struct msg *m, mfa_ms now)
{
	char buf[SPOOL_FILE_MAX + 1], err[160];
	const struct pending *p = pending_find(a, m);
	const char *refused, *bytes = m->buf;
	struct spool_in in;
	ssize_t n = (ssize_t)m->len;
	bool sent;
	int rc;

	if (p != NULL && p->sent) /* only its removal failed */
		return deliver_remove(a, m, true);
	if (p != NULL && p->failures >= a->o.attempts) /* the move failed */
		return deliver_set_aside(a, m, "attempts used up");
	if (now - m->created > a->o.max_age_ms) {
		log_warn("deliver: %s expired unsent (older than %lld s)",
		    m->name, (long long)(a->o.max_age_ms / 1000));
		(void)deliver_remove(a, m, false);
		return true;
	}
	if (!m->outbox) {
		if ((n = deliver_file_bytes(a, m, buf, &sent)) < 0)
			return sent;
		bytes = buf;
	}
	rc = spool_parse(bytes, (size_t)n, &in, err, sizeof(err));
	if (!m->outbox)
		sodium_memzero(buf, (size_t)n);
	if (rc != MFA_OK)
		return deliver_set_aside(a, m, err);
	if ((refused = deliver_refuse(m, &in, now)) != NULL)
		sent = deliver_set_aside(a, m, refused);
	else
		sent = deliver_send(a, m, &in);
	sodium_memzero(&in, sizeof(in));
	return sent;
}

void
deliver_due(struct agent *a, const struct msg *m, int64_t *next)
{
	const struct pending *p;

	if (!deliver_one(a, m, clock_now_ms()) &&
	    (p = pending_find(a, m)) != NULL)
		deliver_note_retry(p, next);
}
