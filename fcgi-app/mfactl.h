/*
 * mfactl.h -- what the admin CLI's command files share (private to
 * fcgi-app/mfactl*.c).
 *
 * Every command builds one JSON object as its result; mfactl.c prints it
 * as JSON (--json) or as "key: value" text. Commands return 0 (success),
 * 1 (error, message already printed) or 2 (usage).
 */
#ifndef MFA_MFACTL_H
#define MFA_MFACTL_H

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "store.h"

struct mfactl {
	struct config cfg;
	struct store *store;
	struct keys *keys;
	mfa_ms now;
	json_t *result; /* set by the command on success */
};

/* Prints "mfactl: <message>" on stderr; returns 1. */
int mfactl_fail(const char *fmt, ...) MFA_PRINTF(1, 2);

/* Prints a usage error and the hint to run --help; returns 2. */
int mfactl_usage(const char *fmt, ...) MFA_PRINTF(1, 2);

/* Opens the store and the keys (not for "init"); returns 0 or 1. */
int mfactl_open(struct mfactl *m);


/*
 * Runs "walk" in one read transaction to fill a new array, then sets
 * m->result to {"<name>": array}. Returns 0 or 1 (reported).
 */
int mfactl_list(struct mfactl *m, const char *name,
    int (*walk)(struct store_txn *txn, json_t *list));

/* "t" as ISO 8601 text, or JSON null for 0 (new reference). */
json_t *mfactl_time(mfa_ms t);

/* Commits "txn" or reports the failure; returns 0 or 1. */
int mfactl_commit(struct store_txn *txn, const char *what);

/* mfactl_client.c */
int mfactl_client(struct mfactl *m, int argc, char **argv);
/* mfactl_user.c */
int mfactl_user(struct mfactl *m, int argc, char **argv);
/* mfactl_keys.c */
int mfactl_keys(struct mfactl *m, int argc, char **argv);
/* mfactl_store.c */
int mfactl_store(struct mfactl *m, int argc, char **argv);
/* mfactl_spool.c */
int mfactl_spool(struct mfactl *m, int argc, char **argv);

#endif
