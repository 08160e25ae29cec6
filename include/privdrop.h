/*
 * privdrop.h -- the worker gives up root after opening what it needs.
 */
#ifndef MFA_PRIVDROP_H
#define MFA_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

#include "mfa.h"

/*
 * When the process runs as root (any of its real, effective or saved
 * user ids is 0) and "user" is not empty: setgroups to the user's primary
 * group alone, setgid, setuid to the user (all three ids), then proves
 * the drop: setuid(0) and setgid(0) must fail and no id may be 0. When not
 * root, nothing changes. "user" must name an account other than root.
 * Returns MFA_OK, MFA_ERR_CONFIG (unknown user, or root named) or
 * MFA_ERR_IO (a call failed or the proof failed: the caller must refuse
 * to serve), with a sentence in "err".
 */
int privdrop_to(const char *user, char *err, size_t errlen) MFA_WUR;

/* Whether any of the real, effective or saved user ids is 0. */
bool privdrop_is_root(void);

#endif
