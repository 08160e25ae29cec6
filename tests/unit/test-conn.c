/*
 * test-conn.c -- taking FastCGI connections (conn.h): the
 * FCGI_WEB_SERVER_ADDRS list, what conn_accept sets on a connection, and
 * whether a request has arrived whole.
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

/* Appends a FastCGI record of "type" with "clen" content bytes ('x') and
 * "pad" bytes of padding to "buf" at "*n". */
static void
conn_rec(unsigned char *buf, size_t *n, int type, size_t clen, size_t pad)
{
	unsigned char *p = buf + *n;

	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = 0;
	p[3] = 1;
	p[4] = (unsigned char)(clen >> 8);
	p[5] = (unsigned char)clen;
	p[6] = (unsigned char)pad;
	p[7] = 0;
	memset(p + 8, 'x', clen + pad);
	*n += 8 + clen + pad;
}

/* A request as a web server sends it: BEGIN, the parameters in two
 * records and the empty one, the body and the empty STDIN record. */
static size_t
conn_request(unsigned char *buf, size_t body)
{
	size_t n = 0;

	conn_rec(buf, &n, 1, 8, 0);      /* FCGI_BEGIN_REQUEST */
	conn_rec(buf, &n, 4, 300, 4);    /* FCGI_PARAMS */
	conn_rec(buf, &n, 4, 1000, 0);
	conn_rec(buf, &n, 4, 0, 0);      /* end of the parameters */
	if (body > 0)
		conn_rec(buf, &n, 5, body, 7); /* FCGI_STDIN */
	conn_rec(buf, &n, 5, 0, 0);      /* end of the body */
	return n;
}

static void
test_conn_fcgi_whole(void)
{
	unsigned char buf[4096];
	size_t n, i, whole_at = 0;

	n = conn_request(buf, 200);
	T_TRUE(conn_fcgi_whole(buf, n));
	/* every prefix is not whole: a header, a content, a padding cut */
	for (i = 0; i < n; i++)
		if (conn_fcgi_whole(buf, i))
			whole_at = i;
	T_EQ_INT(whole_at, 0);
	/* without a body; trailing bytes of a next record do not matter */
	n = conn_request(buf, 0);
	T_TRUE(conn_fcgi_whole(buf, n));
	T_TRUE(conn_fcgi_whole(buf, n + 5));
	/* an empty STDIN before the parameters ended: not a request read
	 * whole (libfcgi would wait for the rest) */
	n = 0;
	conn_rec(buf, &n, 1, 8, 0);
	conn_rec(buf, &n, 5, 0, 0);
	T_TRUE(!conn_fcgi_whole(buf, n));
	/* the parameters ended, the body not yet */
	n = 0;
	conn_rec(buf, &n, 1, 8, 0);
	conn_rec(buf, &n, 4, 0, 0);
	conn_rec(buf, &n, 5, 100, 0);
	T_TRUE(!conn_fcgi_whole(buf, n));
	T_TRUE(!conn_fcgi_whole(buf, 0));
}

/* conn_request_whole looks at a socket's buffer without taking from it. */
static void
test_conn_request_whole(void)
{
	unsigned char buf[CONN_PEEK_MAX + 1024], back[64];
	size_t n = conn_request(buf, 200);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		T_TRUE(!"a socketpair");
		return;
	}
	T_TRUE(!conn_request_whole(sv[1])); /* nothing yet: no wait */
	T_EQ_INT(write(sv[0], buf, n - 8), (ssize_t)(n - 8));
	T_TRUE(!conn_request_whole(sv[1]));
	T_EQ_INT(write(sv[0], buf + n - 8, 8), 8);
	T_TRUE(conn_request_whole(sv[1]));
	T_TRUE(conn_request_whole(sv[1])); /* still there */
	T_EQ_INT(read(sv[1], back, 8), 8);
	T_EQ_MEM(back, buf, 8);
	close(sv[0]);
	close(sv[1]);
	/* larger than a look takes in: never whole */
	n = 0;
	conn_rec(buf, &n, 1, 8, 0);
	conn_rec(buf, &n, 4, 0, 0);
	while (n < CONN_PEEK_MAX)
		conn_rec(buf, &n, 5, 1000, 0);
	conn_rec(buf, &n, 5, 0, 0);
	T_TRUE(conn_fcgi_whole(buf, n));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		T_TRUE(!"a socketpair");
		return;
	}
	T_EQ_INT(write(sv[0], buf, n), (ssize_t)n);
	T_TRUE(!conn_request_whole(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

void
test_conn(void)
{
	test_conn_allow();
	test_conn_accept();
	test_conn_accept_mapped();
	test_conn_fcgi_whole();
	test_conn_request_whole();
}
