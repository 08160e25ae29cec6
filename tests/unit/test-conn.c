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
test_conn_allow(void)
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
		/* empty entries are passed over */
		{ "10.0.0.1,,", "127.0.0.1", false },
		{ ",127.0.0.1,", "127.0.0.1", true },
		/* IPv6, compared as addresses */
		{ "::1", "::1", true },
		{ "0:0::1", "::1", true },
		{ "FE80::1", "fe80::1", true },
		{ "::1", "::2", false },
		/* an IPv4 entry never matches an IPv6 peer, nor the reverse */
		{ "127.0.0.1", "::ffff:127.0.0.2", false },
		/* a mapped entry is its IPv4 address (peers are compared so) */
		{ "::ffff:127.0.0.1", "127.0.0.1", true },
		{ "::FFFF:7f00:1", "127.0.0.1", true },
		{ "::1", "0.0.0.1", false },
	};
	static const struct {
		const char *list, *err;
	} bad[] = {
		{ "127.1", "FCGI_WEB_SERVER_ADDRS: '127.1' is not an IPv4 or "
		    "IPv6 address" },
		{ "10.0.0.1, localhost", "FCGI_WEB_SERVER_ADDRS: 'localhost' "
		    "is not an IPv4 or IPv6 address" },
		{ "127.0.0.1x,127.0.0.2", "FCGI_WEB_SERVER_ADDRS: '127.0.0.1x' "
		    "is not an IPv4 or IPv6 address" },
		{ " , ,", "FCGI_WEB_SERVER_ADDRS: no address in ' , ,'" },
	};
	struct conn_allow al;
	unsigned char addr[16];
	char row[96], err[160], many[40 * 12];
	size_t i, n = 0;
	int family;

	for (i = 0; i < NELEM(rows); i++) {
		snprintf(row, sizeof(row), "%s / %s", rows[i].list ?
		    rows[i].list : "(null)", rows[i].addr);
		family = strchr(rows[i].addr, ':') ? AF_INET6 : AF_INET;
		ROW_INT(row, inet_pton(family, rows[i].addr, addr), 1);
		ROW_INT(row, conn_allow_parse(rows[i].list, &al, err,
		    sizeof(err)), MFA_OK);
		ROW_TRUE(row, conn_allow_has(&al, family, addr) ==
		    rows[i].want);
	}
	for (i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		ROW_INT(bad[i].list, conn_allow_parse(bad[i].list, &al, err,
		    sizeof(err)), MFA_ERR_INVALID);
		ROW_TRUE(bad[i].list, strcmp(err, bad[i].err) == 0);
		ROW_INT(bad[i].list, al.n, 0);
	}
	/* CONN_ALLOW_MAX addresses, and one more */
	for (i = 0; i <= CONN_ALLOW_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s10.0.0.%zu",
		    i ? "," : "", i + 1);
	T_EQ_INT(conn_allow_parse(many, &al, err, sizeof(err)),
	    MFA_ERR_INVALID);
	T_EQ_STR(err, "FCGI_WEB_SERVER_ADDRS: more than 32 addresses");
	*strrchr(many, ',') = '\0';
	T_EQ_INT(conn_allow_parse(many, &al, err, sizeof(err)), MFA_OK);
	T_EQ_INT(al.n, CONN_ALLOW_MAX);
}

/* "list" parsed; the test fails when it does not parse. */
static struct conn_allow
conn_allow_of(const char *list)
{
	struct conn_allow al;
	char err[160];

	T_EQ_INT(conn_allow_parse(list, &al, err, sizeof(err)), MFA_OK);
	return al;
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
	struct conn_allow any = conn_allow_of(NULL),
	    lo = conn_allow_of("10.0.0.1, 127.0.0.1"),
	    other = conn_allow_of("127.0.0.2");
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int lfd, port = 0, c1 = -1, c2 = -1, fd;

	log_init("t.fcgi", LOG_LVL_ERROR); /* the refusal's warning */
	if ((lfd = conn_tcp_listener(&port)) < 0) {
		T_TRUE(!"a listening socket on 127.0.0.1");
		return;
	}
	/* nothing waiting: the non-blocking listener says so */
	T_EQ_INT(conn_accept(lfd, 3, &any), -EAGAIN);
	/* an allowed peer: the read timeout set, close-on-exec */
	c1 = conn_tcp_connect(port);
	fd = conn_accept(lfd, 3, &lo);
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
	T_EQ_INT(conn_accept(lfd, 3, &other), -ECONNABORTED);
	T_EQ_INT(conn_accept(lfd, 3, &any), -EAGAIN);
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
	struct conn_allow lo = conn_allow_of("127.0.0.1"),
	    other = conn_allow_of("::ffff:127.0.0.2, ::1");
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
	fd = conn_accept(lfd, 3, &lo);
	T_TRUE(fd >= 0);
	if (fd >= 0)
		close(fd);
	if (c >= 0)
		close(c);
	c = conn_tcp_connect(ntohs(s6.sin6_port));
	T_EQ_INT(conn_accept(lfd, 3, &other), -ECONNABORTED);
	if (c >= 0)
		close(c);
	close(lfd);
	log_init("mfa.fcgi", LOG_LVL_INFO);
}

void
test_conn(void)
{
	test_conn_allow();
	test_conn_accept();
	test_conn_accept_mapped();
}
