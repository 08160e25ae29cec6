/*
 * spool.h -- OOB delivery through a spool directory: one JSON file per
 * message ({"channel","to","code","user_id","challenge_id","created_at"}),
 * mode 0600, written in two steps so a reader never sees half a file and a
 * failed store commit leaves nothing behind:
 *   spool_prepare  writes (and with "sync" fsyncs) the message to an
 *                  unnamed file in the directory (O_TMPFILE), or where that
 *                  cannot be to ".<challenge_id>.json.tmp"
 *   spool_publish  links it in as (or renames it to) "<ms>-<challenge_id>.json"
 *   spool_discard  drops the unpublished file
 * A delivery agent (mfa-deliver, or the site's own) picks the published
 * files up; the reply to the client never waits for delivery.
 */
#ifndef MFA_SPOOL_H
#define MFA_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

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
	int fd;            /* the unnamed file until published, or -1 */
	char tmp[PATH_MAX]; /* else its temporary name ("" once gone) */
	char final[PATH_MAX];
};

/* Creates the spool directory (mode 0700) if missing. */
int spool_init(const char *dir) MFA_WUR;

/*
 * spool_read.c: a published message read back (mfa-deliver). "text" is
 * the message to send: the file's own, else the default wording with the
 * code. Every field is bounded, "to" fits its channel (E.164 or an e-mail
 * address) and the fields but "text" hold no control character; a file
 * that breaks a rule is refused.
 */
#define SPOOL_FILE_MAX 16384 /* bytes of a message file */
#define SPOOL_CODE_MAX 16
#define SPOOL_TEXT_MAX 1024
struct spool_in {
	char channel[8];
	char to[MFA_DEST_MAX + 1];
	char code[SPOOL_CODE_MAX + 1];
	char user_id[MFA_USER_ID_MAX + 1];
	char challenge_id[MFA_CHALLENGE_ID_MAX + 1];
	char created_at[32];
	char text[SPOOL_TEXT_MAX + 1];
};

/* Parses the "len" bytes of a message file into "m"; MFA_OK, or
 * MFA_ERR_INVALID with the reason in "err" (never a field's value). */
int spool_parse(const void *buf, size_t len, struct spool_in *m, char *err,
    size_t errlen) MFA_WUR;

/* True when "name" is a published message's ("<13 digits>-<id>.json",
 * the id of letters, digits and '_'); its time (ms) in "*created". */
bool spool_published_name(const char *name, mfa_ms *created);

int spool_prepare(const char *dir, const struct spool_msg *m, bool sync,
    struct spool_file *f) MFA_WUR;
int spool_publish(struct spool_file *f) MFA_WUR;
void spool_discard(struct spool_file *f);

/* Unnamed files where the system has them (the default), or always a
 * temporary name (false): for the tests of both ways. */
void spool_prefer_unnamed(bool on);

#endif
