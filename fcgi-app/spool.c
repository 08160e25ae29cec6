/*
 * spool.c -- atomic message files for out-of-band delivery.
 *
 * A message is written to an unnamed file in the spool directory
 * (O_TMPFILE: no directory entry to add and rename, and nothing to remove
 * when it is dropped) and published by linking it in under its final name
 * through /proc/self/fd. Where either is missing (a file system without
 * O_TMPFILE, no /proc) it is written under a temporary name and renamed.
 */
#define _GNU_SOURCE /* O_TMPFILE */
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

/* Whether this process may write unnamed files: /proc/self/fd is there to
 * link them in by (looked at once; spool_prefer_unnamed overrides). */
static int spool_unnamed = -1;

void
spool_prefer_unnamed(bool on)
{
	spool_unnamed = on;
}

/* Opens the file of a message: unnamed when possible ("f->fd" set), else
 * "f->tmp". */
static int
spool_open(const char *dir, struct spool_file *f)
{
	int fd;

	if (spool_unnamed < 0)
		spool_unnamed = access("/proc/self/fd", X_OK) == 0;
	if (spool_unnamed) {
		fd = open(dir, O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
		if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
		    errno != EINVAL))
			return f->fd = fd;
		spool_unnamed = 0; /* the file system has no O_TMPFILE */
	}
	fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		f->tmp[0] = '\0'; /* nothing to remove */
	return fd;
}

/* The message "m" as compact JSON (malloc'd), or NULL. */
static char *
spool_json(const struct spool_msg *m)
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

int
spool_prepare(const char *dir, const struct spool_msg *m, bool sync,
    struct spool_file *f)
{
	char *text = NULL;
	int fd = -1, rc = MFA_ERR_IO, n;

	f->fd = -1;
	n = snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.json.tmp", dir,
	    m->challenge_id);
	if (n < 0 || (size_t)n >= sizeof(f->tmp))
		return MFA_ERR_TOOBIG;
	n = snprintf(f->final, sizeof(f->final), "%s/%013lld-%s.json", dir,
	    (long long)m->created_at, m->challenge_id);
	if (n < 0 || (size_t)n >= sizeof(f->final))
		return MFA_ERR_TOOBIG;
	if ((text = spool_json(m)) == NULL)
		return MFA_ERR_NOMEM;
	if ((fd = spool_open(dir, f)) < 0) {
		log_error("spool: cannot create a message in %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((rc = spool_write_all(fd, text, strlen(text))) == MFA_OK &&
	    sync && fsync(fd) != 0)
		rc = MFA_ERR_IO;
	if (f->fd < 0 && close(fd) != 0 && rc == MFA_OK)
		rc = MFA_ERR_IO;
	if (rc != MFA_OK)
		spool_discard(f);
out:
	sodium_memzero(text, strlen(text));
	free(text);
	return rc;
}

/* Links the unnamed file of "f" in under its final name. */
static int
spool_link(const struct spool_file *f)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, f->final, AT_SYMLINK_FOLLOW);
}

int
spool_publish(struct spool_file *f)
{
	int rc = f->fd >= 0 ? spool_link(f) : rename(f->tmp, f->final);

	if (rc != 0) {
		log_error("spool: cannot publish %s: %s", f->final,
		    strerror(errno));
		spool_discard(f);
		return MFA_ERR_IO;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->tmp[0] = '\0';
	return MFA_OK;
}

void
spool_discard(struct spool_file *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd); /* an unnamed file: gone with its descriptor */
	else if (f->tmp[0] != '\0')
		unlink(f->tmp);
	f->fd = -1;
	f->tmp[0] = '\0';
}
