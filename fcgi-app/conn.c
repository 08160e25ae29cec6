/*
 * conn.c -- taking a FastCGI connection off the listening socket (conn.h).
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

bool
conn_addr_listed(const char *list, const char *addr)
{
	size_t n = strlen(addr), len;
	const char *p, *end;

	if (list == NULL || *list == '\0')
		return true;
	for (p = list;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		/* an address is public: no constant-time compare */
		if (len == n && memcmp(p, addr, n) == 0)
			return true;
		if (*end == '\0')
			return false;
	}
}

/* The peer's address as text ("?" when it has none that prints). */
static const char *
conn_peer_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		return "?";
	return buf;
}

/* Checks a TCP peer and turns Nagle off; false when it is refused. */
static bool
conn_inet_peer(int fd, const struct sockaddr_storage *ss, const char *allowed)
{
	char text[INET6_ADDRSTRLEN];
	int on = 1;

	conn_peer_text(ss, text, sizeof(text));
	if (!conn_addr_listed(allowed, text)) {
		log_warn("FastCGI connection from %s refused: not in "
		    "FCGI_WEB_SERVER_ADDRS", text);
		return false;
	}
	/* replies are written whole: nothing gains from Nagle's wait */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return true;
}

int
conn_accept(int listen_fd, int64_t timeout_s, const char *allowed)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	int fd, e;

	memset(&ss, 0, sizeof(ss));
	fd = accept4(listen_fd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
	    !conn_inet_peer(fd, &ss, allowed)) {
		close(fd);
		return -ECONNABORTED;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}
