/*
 * test-conn.c -- taking FastCGI connections (conn.h): the
 * FCGI_WEB_SERVER_ADDRS list, and what conn_accept sets on a connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "test.h"

static void
test_conn_addr_listed(void)
{
	static const struct {
		const char *list, *addr;
		bool want;
	} rows[] = {
		{ NULL, "127.0.0.1", true },
		{ "", "127.0.0.1", true },
		{ "127.0.0.1", "127.0.0.1", true },
		{ "10.0.0.1,127.0.0.1", "127.0.0.1", true },
		{ "10.0.0.1, 127.0.0.1 ", "127.0.0.1", true },
		{ " 127.0.0.1\t,10.0.0.1", "127.0.0.1", true },
		{ "127.0.0.2", "127.0.0.1", false },
		/* whole addresses only: neither a prefix nor a suffix */
		{ "127.0.0.10", "127.0.0.1", false },
		{ "27.0.0.1", "127.0.0.1", false },
		{ "127.0.0.1", "27.0.0.1", false },
		{ "10.0.0.1,,", "127.0.0.1", false },
		{ ",", "127.0.0.1", false },
		/* not an address: matches nothing (inet_pton is strict) */
		{ "127.1", "127.0.0.1", false },
		{ "localhost", "127.0.0.1", false },
		{ "127.0.0.1x,127.0.0.2", "127.0.0.1", false },
		/* IPv6, compared as addresses */
		{ "::1", "::1", true },
		{ "0:0::1", "::1", true },
		{ "FE80::1", "fe80::1", true },
		{ "::1", "::2", false },
		/* an IPv4 entry never matches an IPv6 peer, nor the reverse */
		{ "127.0.0.1", "::ffff:127.0.0.2", false },
		{ "::1", "0.0.0.1", false },
	};
	unsigned char addr[sizeof(struct in6_addr)];
	size_t i;
	int family;
	char row[96];

	for (i = 0; i < NELEM(rows); i++) {
		snprintf(row, sizeof(row), "%s / %s", rows[i].list ?
		    rows[i].list : "(null)", rows[i].addr);
		family = strchr(rows[i].addr, ':') ? AF_INET6 : AF_INET;
		ROW_INT(row, inet_pton(family, rows[i].addr, addr), 1);
		ROW_TRUE(row, conn_addr_listed(rows[i].list, family, addr) ==
		    rows[i].want);
	}
}

/* A non-blocking listening socket on 127.0.0.1; its port in "*port". */
static int
conn_tcp_listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
conn_tcp_connect(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_conn_accept(void)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int lfd, port = 0, c1 = -1, c2 = -1, fd;

	log_init("t.fcgi", LOG_LVL_ERROR); /* the refusal's warning */
	if ((lfd = conn_tcp_listener(&port)) < 0) {
		T_TRUE(!"a listening socket on 127.0.0.1");
		return;
	}
	/* nothing waiting: the non-blocking listener says so */
	T_EQ_INT(conn_accept(lfd, 3, NULL), -EAGAIN);
	/* an allowed peer: the read timeout set, close-on-exec */
	c1 = conn_tcp_connect(port);
	fd = conn_accept(lfd, 3, "10.0.0.1, 127.0.0.1");
	T_TRUE(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
		T_EQ_INT(tv.tv_sec, 3);
		T_EQ_INT(tv.tv_usec, 0);
		T_TRUE((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
		close(fd);
	}
	/* a peer not on the list: taken and closed */
	c2 = conn_tcp_connect(port);
	T_EQ_INT(conn_accept(lfd, 3, "127.0.0.2"), -ECONNABORTED);
	T_EQ_INT(conn_accept(lfd, 3, NULL), -EAGAIN);
	if (c1 >= 0)
		close(c1);
	if (c2 >= 0)
		close(c2);
	close(lfd);
	log_init("mfa.fcgi", LOG_LVL_INFO);
}

/*
 * An IPv4 peer of a dual-stack socket (bound here to ::ffff:127.0.0.1,
 * loopback only) is ::ffff:127.0.0.1 to accept(2) and is checked as
 * 127.0.0.1. Skipped where the machine has no IPv6.
 */
static void
test_conn_accept_mapped(void)
{
	struct sockaddr_in6 s6;
	socklen_t len = sizeof(s6);
	int lfd, off = 0, c, fd;

	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	if (lfd < 0 || inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &s6.sin6_addr) != 1 ||
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(lfd, (struct sockaddr *)&s6, sizeof(s6)) != 0 ||
	    listen(lfd, 4) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&s6, &len) != 0) {
		if (lfd >= 0)
			close(lfd);
		fprintf(stderr, "conn: no IPv6 here, dual-stack case skipped\n");
		return;
	}
	log_init("t.fcgi", LOG_LVL_ERROR);
	c = conn_tcp_connect(ntohs(s6.sin6_port));
	fd = conn_accept(lfd, 3, "127.0.0.1");
	T_TRUE(fd >= 0);
	if (fd >= 0)
		close(fd);
	if (c >= 0)
		close(c);
	c = conn_tcp_connect(ntohs(s6.sin6_port));
	T_EQ_INT(conn_accept(lfd, 3, "::ffff:127.0.0.2, ::1"), -ECONNABORTED);
	if (c >= 0)
		close(c);
	close(lfd);
	log_init("mfa.fcgi", LOG_LVL_INFO);
}

void
test_conn(void)
{
	test_conn_addr_listed();
	test_conn_accept();
	test_conn_accept_mapped();
}
