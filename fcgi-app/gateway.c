/*
 * gateway.c -- one run of the delivery gateway program (mfa-deliver).
 *
 * The child gets only what the message needs: standard input from a pipe
 * carrying the text, the MFA_* variables, descriptors 0-2 and nothing
 * above (an agent started from cron or a shell may have inherited others),
 * default SIGPIPE, and a process group of its own, so that a timeout kills
 * whatever it started too. The parent waits with WNOHANG every 20 ms
 * against a monotonic deadline.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "gateway.h"

#define GATEWAY_FD_SCAN_MAX 65536 /* without close_range(2) */

/* Closes every descriptor from 3 up (the child, before exec). */
static void
gateway_close_from_3(void)
{
	long max;
	int fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > GATEWAY_FD_SCAN_MAX)
		max = GATEWAY_FD_SCAN_MAX;
	for (fd = 3; fd < max; fd++)
		(void)close(fd);
}

/* In the child: never returns. */
static void
gateway_exec(char *const *argv, const struct spool_in *m, int in)
{
	(void)setpgid(0, 0);
	if (in != STDIN_FILENO && dup2(in, STDIN_FILENO) < 0)
		_exit(126);
	gateway_close_from_3();
	if (setenv("MFA_CHANNEL", m->channel, 1) != 0 ||
	    setenv("MFA_TO", m->to, 1) != 0 ||
	    setenv("MFA_USER_ID", m->user_id, 1) != 0 ||
	    setenv("MFA_CHALLENGE_ID", m->challenge_id, 1) != 0 ||
	    setenv("MFA_CREATED_AT", m->created_at, 1) != 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "mfa-deliver: cannot run %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* A descriptor that polls readable once "pid" has ended (pidfd_open(2),
 * Linux 5.3; close-on-exec), or -1. */
static int
gateway_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Sleeps until "pid" may have ended, "left_ms" at most: on its pidfd
 * "pfd", or (without one) 20 ms at a time. A signal ends it early. */
static void
gateway_nap(int pfd, int64_t left_ms)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct pollfd p = { pfd, POLLIN, 0 };

	if (pfd < 0)
		(void)nanosleep(&tick, NULL);
	else
		(void)poll(&p, 1, left_ms > INT_MAX ? INT_MAX : (int)left_ms);
}

/*
 * Waits for "pid" at most "timeout_s", then kills its group. Returns 0
 * with its status in "*status", 1 when it had to be killed, -1 when it
 * cannot be waited for (errno). With a pidfd the wait ends when the
 * gateway does: looking every 20 ms made each message cost 20 ms more and
 * capped a fast gateway at 50 messages a second.
 */
static int
gateway_wait(pid_t pid, int timeout_s, int *status)
{
	int64_t deadline = clock_mono_ms() + (int64_t)timeout_s * 1000, left;
	int pfd = gateway_pidfd(pid), rc = 1, saved;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			rc = r == pid ? 0 : -1;
			break;
		}
		if ((left = deadline - clock_mono_ms()) <= 0)
			break;
		gateway_nap(pfd, left);
	}
	if (pfd >= 0) {
		saved = errno;
		close(pfd);
		errno = saved;
	}
	if (rc != 1)
		return rc;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

/* Says in "why" what "status" of a finished gateway means; true for 0. */
static bool
gateway_status(int status, char *why, size_t whylen)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return false;
}

bool
gateway_run(char *const *argv, const struct spool_in *m, int timeout_s,
    char *why, size_t whylen)
{
	size_t len = strlen(m->text);
	int fds[2], status = 0, rc;
	bool fed;
	pid_t pid;

	if (pipe(fds) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return false;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		close(fds[1]);
		gateway_exec(argv, m, fds[0]);
	}
	(void)setpgid(pid, pid); /* also here: no race with a kill */
	close(fds[0]);
	/* far below a pipe's buffer: no wait; EPIPE if it reads nothing,
	 * and then its exit status says the rest */
	fed = write(fds[1], m->text, len) == (ssize_t)len &&
	    write(fds[1], "\n", 1) == 1;
	(void)fed;
	close(fds[1]);
	rc = gateway_wait(pid, timeout_s, &status);
	if (rc == 1) {
		snprintf(why, whylen, "killed after %d s", timeout_s);
		return false;
	}
	if (rc < 0) {
		snprintf(why, whylen, "cannot wait for it: %s",
		    strerror(errno));
		return false;
	}
	return gateway_status(status, why, whylen);
}
