/*
 * test-log.c -- held lines: nothing reaches stderr until log_release(),
 * which writes them with one write(2); a warning writes the lines held
 * before it first; no write exceeds PIPE_BUF; the threshold still drops
 * debug lines. stderr is a SOCK_SEQPACKET socket here, so each read
 * returns exactly one write.
 */
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

/* The next write(2) waiting on "fd" (non-blocking), NUL-terminated; 0
 * when there is none. */
static size_t
test_log_next(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

	buf[n > 0 ? (size_t)n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void
test_log_hold_order(int rd)
{
	char buf[8192];
	const char *a, *b;

	log_hold();
	log_info("first %d", 1);
	log_debug("dropped by the threshold");
	T_EQ_INT(test_log_next(rd, buf, sizeof(buf)), 0);
	log_info("second");
	T_EQ_INT(test_log_next(rd, buf, sizeof(buf)), 0);
	/* a warning: the held lines in one write, then the warning */
	log_warn("a warning");
	test_log_next(rd, buf, sizeof(buf));
	a = strstr(buf, "info: first 1\n");
	b = strstr(buf, "info: second\n");
	T_TRUE(a != NULL && b != NULL && a < b);
	T_TRUE(strstr(buf, "dropped") == NULL && strstr(buf, "warn") == NULL);
	test_log_next(rd, buf, sizeof(buf));
	T_TRUE(strstr(buf, "warn: a warning\n") != NULL);
	log_info("third");
	log_info("fourth");
	T_EQ_INT(test_log_next(rd, buf, sizeof(buf)), 0);
	log_release();
	test_log_next(rd, buf, sizeof(buf));
	T_TRUE(strstr(buf, "info: third\n") != NULL &&
	    strstr(buf, "info: fourth\n") != NULL);
	log_info("not held");
	test_log_next(rd, buf, sizeof(buf));
	T_TRUE(strstr(buf, "info: not held\n") != NULL);
	log_release(); /* nothing held: writes nothing */
	T_EQ_INT(test_log_next(rd, buf, sizeof(buf)), 0);
}

/* Ten lines of about 930 bytes: writes of 4, 4 and 2 lines. */
static void
test_log_hold_pipe_buf(int rd)
{
	char msg[900], buf[2 * PIPE_BUF];
	size_t n, i, writes = 0, total = 0;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_hold();
	for (i = 0; i < 10; i++)
		log_info("%s", msg);
	log_release();
	while ((n = test_log_next(rd, buf, sizeof(buf))) > 0) {
		T_TRUE(n <= PIPE_BUF);
		writes++;
		total += n;
	}
	T_EQ_INT(writes, 3);
	T_TRUE(total > 10 * sizeof(msg) && total < 10 * (sizeof(msg) + 64));
}

void
test_log(void)
{
	int fds[2], saved;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0 ||
	    (saved = dup(STDERR_FILENO)) < 0) {
		T_TRUE(!"socketpair/dup");
		return;
	}
	dup2(fds[1], STDERR_FILENO);
	log_init("test-log", LOG_LVL_INFO);
	test_log_hold_order(fds[0]);
	test_log_hold_pipe_buf(fds[0]);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[0]);
	close(fds[1]);
	log_init("mfa.fcgi", LOG_LVL_INFO);
}
