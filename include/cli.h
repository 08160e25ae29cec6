/*
 * cli.h -- command-line options shared by mfactl and mfa-deliver.
 */
#ifndef MFA_CLI_H
#define MFA_CLI_H

#include <stdarg.h>
#include <stdbool.h>

#include "mfa.h"

/*
 * The value of option "name" at argv[*i]: "--name=value", or "--name
 * value" (then *i moves past the value). NULL when argv[*i] is another
 * option or the value is missing.
 */
const char *cli_opt(int argc, char **argv, int *i, const char *name);

/* The decimal in "s" (all of it) within [lo, hi] into "*out"; false
 * otherwise. */
bool cli_number(const char *s, long lo, long hi, long *out);

/* Prints "<prog>: <message>\n" on stderr. */
void cli_vsay(const char *prog, const char *fmt, va_list ap)
    MFA_PRINTF(2, 0);

#endif
