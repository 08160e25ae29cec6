/*
 * cli.h -- command-line options shared by mfactl and mfa-deliver.
 */
#ifndef MFA_CLI_H
#define MFA_CLI_H

/*
 * The value of option "name" at argv[*i]: "--name=value", or "--name
 * value" (then *i moves past the value). NULL when argv[*i] is another
 * option or the value is missing.
 */
const char *cli_opt(int argc, char **argv, int *i, const char *name);

#endif
