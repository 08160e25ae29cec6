/*
 * mfa_deliver.h -- what the files of mfa-deliver share (private to
 * fcgi-app/mfa_deliver*.c).
 *
 * mfa-deliver hands each out-of-band message waiting for delivery to a
 * gateway program (an SMS API script, sendmail) and removes it once sent.
 * The messages wait in two places:
 *
 *   outbox    the store's "outbox" database, where mfa.fcgi puts each
 *             message in the transaction that stores its challenge
 *   files     "<ms>-<id>.json" in the spool directory: what an earlier
 *             version queued there before an upgrade, or another program
 *             drops there
 *
 *   scan      the outbox, then the files, each oldest first (the outbox
 *             first: it is where the service puts messages now, and the
 *             files are few and rare); the outbox is read 64 messages per
 *             read transaction, which is never held while a gateway runs
 *   deliver   run PROGRAM with the message text on its standard input and
 *             the message's fields in MFA_* variables; exit status 0 is
 *             "sent" (the message is removed), anything else "retry later"
 *   retry     after 1, 2, 4 ... 60 s; after --attempts failures, or at once
 *             for a message that does not parse, the message is set aside
 *             in failed/ (a file is moved there, an outbox message written
 *             there as a file and then removed from the outbox)
 *   expire    a message older than --max-age is dropped unsent (its code
 *             has expired with its challenge)
 *   wait      inotify on the spool directory (a file linked or renamed
 *             into it) and on <db>/data.mdb (LMDB writes its pages with
 *             pwrite(2), so every commit of the service modifies it);
 *             scans start at least 25 ms apart, as a busy service commits
 *             thousands of times a second, and a rescan comes every 5 s;
 *             --once scans once and exits
 *
 * One agent per spool and per store: an flock(2) on <spool>/.deliver.lock
 * and one on the store directory.
 *
 *   mfa_deliver.c          main, the options, opening the spool and the
 *                          store, the locks, the serve loop, the wait
 *                          (inotify, the gap between scans), the signals
 *                          (deliver_stop)
 *   mfa_deliver_scan.c     the scans of the outbox and of the spool's
 *                          files (deliver_scan)
 *   mfa_deliver_msg.c      one message: read, refused, sent through the
 *                          gateway, set aside or removed (deliver_due)
 *   mfa_deliver_pending.c  the retry table (pending_*)
 */
#ifndef MFA_MFA_DELIVER_H
#define MFA_MFA_DELIVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mfa.h"

#define DELIVER_RESCAN_MS 5000
#define DELIVER_SCAN_GAP_MS 25 /* between the starts of two scans */
#define DELIVER_BATCH 64 /* outbox messages read per read transaction */
#define DELIVER_BACKOFF_MAX_S 60
#define DELIVER_PENDING_MAX 4096 /* messages remembered between scans */
#define DELIVER_FUTURE_MS 60000 /* a name's time may be this far ahead */
#define DELIVER_EXIT_LEFT 3 /* --once: a gateway failed, a message left */
/* "<13 digits>-<id>.json" (spool_published_name) */
#define DELIVER_NAME_MAX (13 + 1 + MFA_CHALLENGE_ID_MAX + 5)

struct store;

struct deliver_opts {
	const char *spool;
	const char *db; /* the store whose outbox is served, or NULL */
	bool once;
	int64_t max_age_ms;
	unsigned attempts;
	int timeout_s;
	char **argv; /* PROGRAM and its arguments */
};

/*
 * A message in hand. Its name is the file's, or for an outbox message its
 * key with ".json" (the name it gets in failed/), so that both kinds are
 * checked, logged and set aside alike.
 */
struct msg {
	char name[DELIVER_NAME_MAX + 1];
	bool outbox;
	mfa_ms created; /* from the name */
	char *buf; /* outbox: a copy of the bytes (deliver_msg_clear) */
	size_t len;
};

/* A message that failed, or whose move or removal failed: when to try it
 * again. The table is sorted by (outbox, name). */
struct pending {
	char name[DELIVER_NAME_MAX + 1];
	bool outbox;
	bool sent; /* sent, but not removed: only the removal is tried again */
	unsigned failures; /* of the gateway */
	unsigned stuck; /* moves or removals that failed in a row */
	int64_t next_mono; /* monotonic ms */
	bool seen; /* still there at the last scan */
};

struct agent {
	struct deliver_opts o;
	int dirfd;
	int dbfd; /* the store directory, or -1 */
	struct store *st; /* NULL: files only */
	int spool_wd; /* the spool directory's inotify watch */
	int64_t scanned_mono; /* when the last scan began */
	struct pending *pend;
	size_t npend;
	unsigned nleft; /* --once: messages left because the gateway failed */
	unsigned nstuck; /* --once: messages that stay because the store or
			    the spool failed (a read, a move, a removal) */
};

/* mfa_deliver.c */

/* Set by the handler of SIGTERM, SIGINT and SIGHUP: the scans stop
 * between two messages, the agent exits. */
extern volatile sig_atomic_t deliver_stop;

/* mfa_deliver_scan.c */

/*
 * Delivers every message that is due: the outbox's, then the spool's
 * files. Returns 0, with the earliest retry in "*next" (monotonic ms, or
 * -1), or -1 when the store or the spool cannot be read.
 */
int deliver_scan(struct agent *a, int64_t *next);

/* mfa_deliver_msg.c */

/* Delivers "m" unless it waits for a retry; notes in "*next" when it is
 * to be tried again. */
void deliver_due(struct agent *a, const struct msg *m, int64_t *next);

/* mfa_deliver_pending.c */

/* The entry of "m" in the table, or NULL. */
struct pending *pending_find(struct agent *a, const struct msg *m);

/* Forgets the entry of "m", if it has one. */
void pending_forget(struct agent *a, const struct msg *m);

/* Marks every entry of one source unseen, before a scan of it. */
void pending_unsee(struct agent *a, bool outbox);

/* Forgets the entries of one source that its scan did not see: someone
 * else removed them (the sweep, an operator). */
void pending_prune(struct agent *a, bool outbox);

/* Counts a failure of the gateway for "m" that ended at "mono"
 * (monotonic ms); returns its count (0: the table is full, it cannot be
 * remembered). */
unsigned pending_fail(struct agent *a, const struct msg *m, int64_t mono);

/* Puts off the move or removal of "m" that just failed, so that a store
 * that refuses it is not asked again at every scan (up to 40 a second);
 * "sent" marks a message that must not be sent again: in a full table it
 * takes the place of one that was not sent. With --once it only counts
 * the message in "nstuck" (the run's exit status is then 1) and warns
 * that a sent one will be sent again. */
void pending_later(struct agent *a, const struct msg *m, bool sent);

/* Notes in "*next" (monotonic ms, -1: none) the retry of "p". */
void deliver_note_retry(const struct pending *p, int64_t *next);

/* Whether "m" waits for a retry that is not due yet (noted in "*next");
 * marks it seen. --once tries everything once. */
bool pending_waits(struct agent *a, const struct msg *m, int64_t mono,
    int64_t *next);

#endif
