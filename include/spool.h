/*
 * spool.h -- an out-of-band message in its JSON form
 * ({"channel","to","code","user_id","challenge_id","created_at","text"?}),
 * as the service puts it in the store's outbox (store_outbox.c) and as
 * mfa-deliver reads it there or from a file in the spool directory
 * ("<ms>-<challenge_id>.json", mode 0600, which earlier versions wrote and
 * other programs may): spool_format makes it, spool_parse reads it back.
 * The spool directory also holds what mfa-deliver sets aside (failed/)
 * and its lock.
 */
#ifndef MFA_SPOOL_H
#define MFA_SPOOL_H

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

/* The message "m" as compact JSON (malloc'd: the caller wipes and frees
 * it), or NULL (out of memory, or a field that is not UTF-8). */
char *spool_format(const struct spool_msg *m);

#endif
