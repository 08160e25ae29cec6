/*
 * supervisor.h -- the pre-forking parent: holds nothing but the listening
 * socket (conn_listen opens it), forks N identical workers, respawns a crashed one with back-off
 * (logged loudly), drains on SIGTERM/SIGINT (workers finish their request
 * in flight), and on SIGHUP re-reads the configuration and rolls the
 * workers one at a time.
 *
 * The parent never opens the LMDB environment (lmdb.h: "Use an MDB_env* in
 * the process which opened it, not after fork()"); each worker opens its
 * own after fork.
 */
#ifndef MFA_SUPERVISOR_H
#define MFA_SUPERVISOR_H

#include "config.h"

/*
 * Runs in a freshly forked worker with the configuration in effect and
 * the listening socket "listen_fd". Returns the worker's exit status.
 */
typedef int (*worker_main_fn)(const struct config *cfg, int listen_fd,
    void *arg);

/*
 * Reloads the configuration on SIGHUP into "cfg"; returns MFA_OK or an
 * error with a sentence in "err" (then the old configuration stays).
 */
typedef int (*config_reload_fn)(struct config *cfg, void *arg, char *err,
    size_t errlen);

/*
 * Supervises "nworkers" workers on "listen_fd" until SIGTERM or SIGINT.
 * "cfg" is the parent's copy, updated in place on a successful reload.
 * Returns 0 after a clean drain, 1 on a fatal error (cannot fork at all).
 */
int supervisor_run(struct config *cfg, int listen_fd, int nworkers,
    worker_main_fn worker, config_reload_fn reload, void *arg);

/*
 * In a worker forked by supervisor_run: (re-)arms SIGTERM on the
 * supervisor's death (PR_SET_PDEATHSIG; cleared by a privilege drop, so
 * call it again after one) and checks the supervisor is still there.
 * Returns MFA_OK (a no-op in a process the supervisor did not fork) or
 * MFA_ERR_IO: the worker must exit.
 */
int supervisor_parent_watch(void) MFA_WUR;

#endif
