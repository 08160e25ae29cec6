/*
 * gateway.h -- runs a delivery gateway program for one spool message
 * (mfa-deliver): the text on its standard input, the message's fields in
 * MFA_CHANNEL, MFA_TO, MFA_USER_ID, MFA_CHALLENGE_ID, MFA_CREATED_AT, in a
 * process group of its own, with no descriptor above 2, killed with its
 * group after "timeout_s". The code is never in an argument or a variable.
 */
#ifndef MFA_GATEWAY_H
#define MFA_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "spool.h"

/* True when "argv" (argv[0] looked up in PATH) exited 0; else "why" says
 * what happened ("exit status 3", "killed after 30 s" ...). */
bool gateway_run(char *const *argv, const struct spool_in *m, int timeout_s,
    char *why, size_t whylen);

#endif
