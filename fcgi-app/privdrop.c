/*
 * privdrop.c -- setgroups, setgid, setuid to the configured user when
 * started as root, then a proof that the way back is closed.
 *
 * Runs in each worker after the store, the keys and the listening socket
 * are open (the descriptors stay usable) and before the sandbox, which
 * forbids the set*id calls altogether.
 */
#define _GNU_SOURCE /* setresuid, getresuid, setgroups */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "privdrop.h"

/* Whether any of the real, effective or saved user ids is 0. */
bool
privdrop_is_root(void)
{
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) != 0)
		return geteuid() == 0;
	return r == 0 || e == 0 || s == 0;
}

/*
 * Drops to "user" when root (see privdrop.h). Returns MFA_OK,
 * MFA_ERR_CONFIG or MFA_ERR_IO with a sentence in "err".
 */
int
privdrop_to(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid, r, e, s;
	gid_t gid, rg, eg, sg;

	if (user == NULL || *user == '\0' || !privdrop_is_root())
		return MFA_OK;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user %s: %s", user, errno != 0 ?
		    strerror(errno) : "no such user");
		return MFA_ERR_CONFIG;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0) {
		snprintf(err, errlen, "user %s: has uid or gid 0; name an "
		    "unprivileged account", user);
		return MFA_ERR_CONFIG;
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		snprintf(err, errlen, "cannot drop privileges to %s (uid %ld, "
		    "gid %ld): %s", user, (long)uid, (long)gid,
		    strerror(errno));
		return MFA_ERR_IO;
	}
	/* The proof: no id is 0 and none can be taken back. */
	if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    r != uid || e != uid || s != uid || rg != gid || eg != gid ||
	    sg != gid) {
		snprintf(err, errlen, "privilege drop to %s did not take "
		    "effect", user);
		return MFA_ERR_IO;
	}
	if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1) {
		snprintf(err, errlen, "privilege drop to %s: setuid(0) still "
		    "succeeds", user);
		return MFA_ERR_IO;
	}
	return MFA_OK;
}
