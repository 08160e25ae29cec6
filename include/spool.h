/*
 * spool.h -- OOB delivery through a spool directory: one JSON file per
 * message ({"channel","to","code","user_id","challenge_id","created_at"}),
 * mode 0600, written in two steps so a reader never sees half a file and a
 * failed store commit leaves nothing behind:
 *   spool_prepare  writes and fsyncs ".<challenge_id>.json.tmp"
 *   spool_publish  renames it to "<ms>-<challenge_id>.json"
 *   spool_discard  removes the temporary file
 * A delivery agent (contrib/) picks the published files up; the reply to
 * the client never waits for delivery.
 */
#ifndef MFA_SPOOL_H
#define MFA_SPOOL_H

#include <limits.h>

#include "mfa.h"

struct spool_msg {
	const char *channel;      /* "sms", "voice", "email" */
	const char *to;
	const char *code;         /* the binding code */
	const char *user_id;
	const char *challenge_id;
	mfa_ms created_at;
	const char *text;         /* the message to send, or NULL for the
				     deliverer's own wording */
};

struct spool_file {
	char tmp[PATH_MAX];
	char final[PATH_MAX];
};

/* Creates the spool directory (mode 0700) if missing. */
int spool_init(const char *dir) MFA_WUR;

int spool_prepare(const char *dir, const struct spool_msg *m,
    struct spool_file *f) MFA_WUR;
int spool_publish(const struct spool_file *f) MFA_WUR;
void spool_discard(const struct spool_file *f);

#endif
