/*
 * spool.c -- an out-of-band message in its JSON form, and the spool
 * directory of the delivery agent.
 */
#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>

#include "clock.h"
#include "spool.h"

int
spool_init(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? MFA_OK :
		    MFA_ERR_IO;
	return MFA_ERR_IO;
}

/* The message "m" as compact JSON (malloc'd), or NULL. */
char *
spool_format(const struct spool_msg *m)
{
	char when[CLOCK_ISO_LEN];
	json_t *obj;
	char *text;

	if (clock_iso8601(m->created_at, when, sizeof(when)) != MFA_OK)
		return NULL;
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channel",
	    m->channel, "to", m->to, "code", m->code, "user_id", m->user_id,
	    "challenge_id", m->challenge_id, "created_at", when);
	if (obj != NULL && m->text != NULL &&
	    json_object_set_new(obj, "text", json_string(m->text)) != 0) {
		json_decref(obj);
		return NULL;
	}
	text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	return text;
}
