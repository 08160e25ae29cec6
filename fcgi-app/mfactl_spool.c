/*
 * mfactl_spool.c -- "mfactl spool": what waits in the out-of-band spool,
 * for an operator or a monitoring check (is the delivery agent running?).
 *
 *   {"spool": DIR, "pending": N, "oldest_age_s": S, "failed": M}
 *
 * Counts only: no file is opened, so no code or address is printed.
 * "oldest_age_s" (the oldest pending message's age, from its name) is
 * present when something is pending; "failed" counts the files mfa-deliver
 * set aside in DIR/failed/.
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

int
mfactl_spool(struct mfactl *m, int argc, char **argv)
{
	char buf[PATH_MAX], failed[PATH_MAX];
	const char *dir;
	long pending, nfailed;
	mfa_ms oldest = -1;

	(void)argv;
	if (argc != 0)
		return mfactl_usage("spool takes no arguments");
	if ((dir = config_spool_dir(&m->cfg, buf, sizeof(buf))) == NULL)
		return mfactl_fail("the spool directory name is too long");
	if ((pending = mfactl_spool_count(dir, true, false, &oldest)) < 0)
		return mfactl_fail("cannot read the spool %s: %s", dir,
		    strerror(errno));
	if (snprintf(failed, sizeof(failed), "%s/failed", dir) >=
	    (int)sizeof(failed))
		return mfactl_fail("the spool directory name is too long");
	if ((nfailed = mfactl_spool_count(failed, false, true, &oldest)) < 0)
		return mfactl_fail("cannot read %s: %s", failed,
		    strerror(errno));
	m->result = json_pack("{s:s, s:I, s:I}", "spool", dir, "pending",
	    (json_int_t)pending, "failed", (json_int_t)nfailed);
	if (m->result != NULL && oldest >= 0 &&
	    json_object_set_new(m->result, "oldest_age_s", json_integer(
	    (json_int_t)((m->now - oldest) / 1000))) != 0) {
		json_decref(m->result);
		m->result = NULL;
	}
	return 0;
}
