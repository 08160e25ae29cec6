/*
 * self.c -- the calling process's id, cached.
 *
 * glibc no longer caches getpid(2), and each worker asked for its pid
 * several times a request (the store's after-fork guard, every log line):
 * each a system call, which is dear under a paravirtualised kernel. The
 * cache is refreshed in the child of every fork(2) by a pthread_atfork
 * handler, registered before the first value is handed out.
 */
#include <pthread.h>
#include <unistd.h>

#include "self.h"

static pid_t self_cached; /* 0: not read yet */

static void
self_after_fork(void)
{
	self_cached = getpid();
}

pid_t
self_pid(void)
{

	if (self_cached == 0) {
		/* Without the handler a child could see its parent's pid:
		 * then do not cache at all. */
		if (pthread_atfork(NULL, NULL, self_after_fork) != 0)
			return getpid();
		self_cached = getpid();
	}
	return self_cached;
}
