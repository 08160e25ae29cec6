/*
 * self.h -- the calling process's id, without a system call per use.
 */
#ifndef MFA_SELF_H
#define MFA_SELF_H

#include <sys/types.h>

/*
 * The pid of the calling process. The first call reads getpid(2) and
 * registers a pthread_atfork(3) handler that reads it again in every child
 * fork(2) makes afterwards, so the value is never a parent's.
 */
pid_t self_pid(void);

#endif
