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

/*
 * Waits for "pid" at most "timeout_s", then kills its group. Returns 0
 * with its status in "*status", 1 when it had to be killed, -1 when it
 * cannot be waited for (errno).
 */
static int
gateway_wait(pid_t pid, int timeout_s, int *status)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int64_t deadline = clock_mono_ms() + (int64_t)timeout_s * 1000;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (clock_mono_ms() >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
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
