/*
 * sandbox.h -- the worker's seccomp allow-list (libseccomp), entered after
 * the store, the keys, the spool and the listening socket are open and the
 * privileges are dropped, for the rest of the worker's life.
 *
 * The list covers what serving needs: the FastCGI socket (accept, read,
 * write, poll), LMDB (pread/pwrite, mmap, fsync, fcntl locks, futex),
 * ordinary file I/O for the spool and later features (open, write,
 * rename, unlink, mkdir, fsync, stat), time and randomness, memory,
 * signals, and AF_UNIX sockets for syslog. Not on it: execve, fork and
 * clone, ptrace, set*id, mount, network sockets other than AF_UNIX, bind,
 * listen, kernel keyrings, BPF, module loading, reboot and the rest.
 */
#ifndef MFA_SANDBOX_H
#define MFA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "mfa.h"

/*
 * Installs the allow-list in this process (and sets no_new_privs).
 * "mode": CONFIG_SANDBOX_ON (a call off the list kills the process with
 * SIGSYS), CONFIG_SANDBOX_LOG (debug: the call is refused with ENOSYS and
 * a warning naming its number is written to stderr; the process goes on)
 * or CONFIG_SANDBOX_OFF (nothing is installed). Returns MFA_OK, or
 * MFA_ERR_IO with a sentence in "err" when the filter cannot be built or
 * loaded: the caller must then refuse to serve.
 */
int sandbox_enter(enum config_sandbox mode, char *err, size_t errlen)
    MFA_WUR;

/* Whether this process runs under a seccomp filter (/proc/self/status). */
bool sandbox_is_active(void);

#endif
