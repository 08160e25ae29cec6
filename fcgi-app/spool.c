/*
 * spool.c -- atomic message files for out-of-band delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "log.h"
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

/* Writes all of "buf" to "fd". */
static int
spool_write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MFA_ERR_IO;
		buf += w;
		len -= (size_t)w;
	}
	return MFA_OK;
}

int
spool_prepare(const char *dir, const struct spool_msg *m, bool sync,
    struct spool_file *f)
{
	char when[CLOCK_ISO_LEN];
	json_t *obj;
	char *text = NULL;
	int fd = -1, rc = MFA_ERR_IO, n;

	n = snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.json.tmp", dir,
	    m->challenge_id);
	if (n < 0 || (size_t)n >= sizeof(f->tmp))
		return MFA_ERR_TOOBIG;
	n = snprintf(f->final, sizeof(f->final), "%s/%013lld-%s.json", dir,
	    (long long)m->created_at, m->challenge_id);
	if (n < 0 || (size_t)n >= sizeof(f->final))
		return MFA_ERR_TOOBIG;
	if (clock_iso8601(m->created_at, when, sizeof(when)) != MFA_OK)
		return MFA_ERR_INVALID;
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channel",
	    m->channel, "to", m->to, "code", m->code, "user_id", m->user_id,
	    "challenge_id", m->challenge_id, "created_at", when);
	if (obj != NULL && m->text != NULL &&
	    json_object_set_new(obj, "text", json_string(m->text)) != 0) {
		json_decref(obj);
		obj = NULL;
	}
	if (obj == NULL || (text = json_dumps(obj, JSON_COMPACT)) == NULL) {
		rc = MFA_ERR_NOMEM;
		goto out;
	}
	fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("spool: cannot create %s: %s", f->tmp,
		    strerror(errno));
		goto out;
	}
	if ((rc = spool_write_all(fd, text, strlen(text))) == MFA_OK &&
	    sync && fsync(fd) != 0)
		rc = MFA_ERR_IO;
	if (close(fd) != 0 && rc == MFA_OK)
		rc = MFA_ERR_IO;
	if (rc != MFA_OK)
		unlink(f->tmp);
out:
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(obj);
	return rc;
}

int
spool_publish(const struct spool_file *f)
{
	if (rename(f->tmp, f->final) != 0) {
		log_error("spool: cannot publish %s: %s", f->final,
		    strerror(errno));
		unlink(f->tmp);
		return MFA_ERR_IO;
	}
	return MFA_OK;
}

void
spool_discard(const struct spool_file *f)
{
	if (f != NULL && f->tmp[0] != '\0')
		unlink(f->tmp);
}
