/*
 * worker.h -- one FastCGI worker process: opens the store and the keys
 * after fork, then accepts and serves requests one at a time until told to
 * stop. SIGTERM/SIGINT make it finish the request in flight and exit;
 * they are let in only while an idle worker waits in epoll_pwait().
 */
#ifndef MFA_WORKER_H
#define MFA_WORKER_H

#include <stddef.h>

#include "config.h"

/*
 * Serves requests on "listen_fd" with configuration "cfg" until SIGTERM
 * or SIGINT. Matches worker_main_fn (supervisor.h); "arg" is unused.
 * Returns 0 after a clean stop, 1 when the store or keys cannot be opened.
 */
int worker_main(const struct config *cfg, int listen_fd, void *arg);

/*
 * Checks, without opening LMDB (the supervisor must not), that the store
 * named by "cfg" looks usable: the directory, data.mdb and master.key
 * exist and are readable. Returns MFA_OK or MFA_ERR_CONFIG with a sentence
 * in "err" that tells the operator what to run ("mfactl --db DIR init").
 */
int worker_preflight(const struct config *cfg, char *err, size_t errlen)
    MFA_WUR;

#endif
