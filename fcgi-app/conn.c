/*
 * conn.c -- the FastCGI socket (conn.h): opening it for --listen, and
 * taking connections off it.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "mfa.h"

#define CONN_BACKLOG 1024
#define CONN_REFUSAL_LOG_MS 10000 /* one refusal line per 10 s at most */

/*
 * "entry" ("len" bytes, not NUL-terminated) as an address into "out";
 * false when it is not an IPv4 or IPv6 address.
 */
static bool
conn_entry_parse(const char *entry, size_t len, struct conn_addr *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	if (inet_pton(AF_INET, buf, out->bytes) == 1)
		return true;
	out->family = AF_INET6;
	if (inet_pton(AF_INET6, buf, out->bytes) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)
	    out->bytes)) { /* as a dual-stack peer is compared: IPv4 */
		out->family = AF_INET;
		memmove(out->bytes, out->bytes + 12, 4);
		memset(out->bytes + 4, 0, 12);
	}
	return true;
}

int
conn_allow_parse(const char *list, struct conn_allow *out, char *err,
    size_t errlen)
{
	const char *p, *end;
	size_t len;

	out->n = 0;
	if (list == NULL || *list == '\0')
		return MFA_OK;
	for (p = list;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0 && out->n == CONN_ALLOW_MAX) {
			snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS: more than "
			    "%d addresses", CONN_ALLOW_MAX);
			return MFA_ERR_INVALID;
		}
		if (len > 0 && !conn_entry_parse(p, len, &out->a[out->n++])) {
			snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS: '%.*s' is "
			    "not an IPv4 or IPv6 address", (int)(len > 64 ? 64 :
			    len), p);
			out->n = 0;
			return MFA_ERR_INVALID;
		}
		if (*end == '\0')
			break;
	}
	if (out->n == 0) {
		snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS: no address in "
		    "'%.64s'", list);
		return MFA_ERR_INVALID;
	}
	return MFA_OK;
}

bool
conn_allow_has(const struct conn_allow *al, int family, const void *addr)
{
	size_t i, size = family == AF_INET ? 4 : 16;

	if (al->n == 0)
		return true;
	/* an address is public: no constant-time compare */
	for (i = 0; i < al->n; i++)
		if (al->a[i].family == family &&
		    memcmp(al->a[i].bytes, addr, size) == 0)
			return true;
	return false;
}

/*
 * The peer's address for the list: "*family" and a pointer into "ss";
 * an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) as IPv4, as the
 * list names it.
 */
static const void *
conn_peer_addr(const struct sockaddr_storage *ss, int *family)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*family = AF_INET;
		return &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	}
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		*family = AF_INET;
		return s6->sin6_addr.s6_addr + 12;
	}
	*family = AF_INET6;
	return &s6->sin6_addr;
}

/*
 * Logs a refused peer: at most one line per CONN_REFUSAL_LOG_MS, with the
 * number of refusals not logged since, so that a flood of connections to
 * a reachable port cannot flood the log.
 */
static void
conn_log_refusal(int family, const void *addr)
{
	static mfa_ms last;
	static unsigned long quiet;
	char text[INET6_ADDRSTRLEN];
	mfa_ms now = clock_now_ms();

	if (last != 0 && now - last < CONN_REFUSAL_LOG_MS) {
		quiet++;
		return;
	}
	if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
		memcpy(text, "?", 2);
	if (quiet == 0)
		log_warn("FastCGI connection from %s refused: not in "
		    "FCGI_WEB_SERVER_ADDRS", text);
	else
		log_warn("FastCGI connection from %s refused: not in "
		    "FCGI_WEB_SERVER_ADDRS (and %lu others since the last "
		    "such line)", text, quiet);
	last = now;
	quiet = 0;
}

/* Checks a TCP peer and turns Nagle off; false when it is refused. */
static bool
conn_inet_peer(int fd, const struct sockaddr_storage *ss,
    const struct conn_allow *allowed)
{
	int on = 1, family;
	const void *addr = conn_peer_addr(ss, &family);

	if (!conn_allow_has(allowed, family, addr)) {
		conn_log_refusal(family, addr);
		return false;
	}
	/* replies are written whole: nothing gains from Nagle's wait */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return true;
}

/*
 * accept(2)'s errors that concern one connection, not the socket (the
 * ones libfcgi retried, and those Linux passes on from the network): the
 * worker goes on.
 */
static bool
conn_error_is_transient(int e)
{
	switch (e) {
	case EPROTO: case ECONNABORTED: case ECONNRESET: case ETIMEDOUT:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EOPNOTSUPP: case EPERM:
		return true;
	default:
		return false;
	}
}

int
conn_accept(int listen_fd, int64_t timeout_s,
    const struct conn_allow *allowed)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	int fd, e;

	memset(&ss, 0, sizeof(ss));
	fd = accept4(listen_fd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0)
		return conn_error_is_transient(errno) ? -ECONNABORTED : -errno;
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

#define CONN_FCGI_PARAMS 4
#define CONN_FCGI_STDIN 5

bool
conn_fcgi_whole(const unsigned char *buf, size_t n)
{
	size_t off = 0, len;
	bool params_done = false;

	while (n - off >= 8) {
		len = 8 + ((size_t)buf[off + 4] << 8 | buf[off + 5]) +
		    buf[off + 6];
		if (n - off < len)
			return false;
		if (len == 8 && buf[off + 1] == CONN_FCGI_PARAMS)
			params_done = true;
		else if (len == 8 && buf[off + 1] == CONN_FCGI_STDIN)
			return params_done;
		off += len;
	}
	return false;
}

bool
conn_request_whole(int fd)
{
	unsigned char buf[CONN_PEEK_MAX];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	return n > 0 && conn_fcgi_whole(buf, (size_t)n);
}

/* Is something accepting connections on the unix socket "path"? */
static int
conn_socket_probe(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0)
		return 1;
	return errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
}

/*
 * The socket, bind and listen of FCGX_OpenSocket, done here because
 * libfcgi 2.4.2 calls exit() when any of them fails. Returns the socket
 * or -1 with errno set.
 */
static int
conn_bind(int family, const struct sockaddr *sa, socklen_t salen)
{
	int fd, on = 1, e;

	if ((fd = socket(family, SOCK_STREAM, 0)) < 0)
		return -1;
	if ((family == AF_INET &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) ||
	    bind(fd, sa, salen) != 0 ||
	    listen(fd, CONN_BACKLOG) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
conn_listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;
	int fd, e;

	if (*path == '\0') {
		snprintf(err, errlen, "listen: unix: needs a path");
		return MFA_ERR_INVALID;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "listen: unix socket path is longer "
		    "than %zu bytes", sizeof(sun.sun_path) - 1);
		return MFA_ERR_TOOBIG;
	}
	if (strchr(path, ':') != NULL) {
		/* libfcgi and web servers would read "/a:80" as a port. */
		snprintf(err, errlen, "listen: unix socket path must not "
		    "contain ':'");
		return MFA_ERR_INVALID;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "listen: %s exists and is not "
			    "a socket; not replacing it", path);
			return MFA_ERR_EXISTS;
		}
		switch (conn_socket_probe(path)) {
		case 1:
			snprintf(err, errlen, "listen: %s: another server is "
			    "listening on it", path);
			return MFA_ERR_EXISTS;
		case 0:
			break;
		default:
			snprintf(err, errlen, "listen: %s: cannot tell whether "
			    "it is in use: %s", path, strerror(errno));
			return MFA_ERR_IO;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "listen: cannot remove stale "
			    "socket %s: %s", path, strerror(errno));
			return MFA_ERR_IO;
		}
		log_info("removed stale socket %s", path);
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "listen: %s: %s", path, strerror(errno));
		return MFA_ERR_IO;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Never let the socket exist with looser permissions than 0660. */
	mask = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	fd = conn_bind(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(mask);
	if (fd < 0) {
		snprintf(err, errlen, "listen: cannot listen on unix:%s: %s",
		    path, strerror(e));
		return MFA_ERR_IO;
	}
	if (chmod(path, 0660) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		snprintf(err, errlen, "listen: chmod 0660 %s: %s", path,
		    strerror(e));
		return MFA_ERR_IO;
	}
	return fd;
}

static int
conn_listen_tcp(const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':'), *p;
	struct addrinfo hints, *ai = NULL;
	char host[256];
	long port = 0;
	int fd, gai;

	if (colon == NULL) {
		snprintf(err, errlen, "listen: '%.64s' is not unix:PATH, "
		    "HOST:PORT or :PORT", spec);
		return MFA_ERR_INVALID;
	}
	if (strchr(colon + 1, ':') != NULL) {
		snprintf(err, errlen, "listen: '%.64s': IPv6 addresses are "
		    "not supported (libfcgi speaks IPv4)", spec);
		return MFA_ERR_INVALID;
	}
	for (p = colon + 1; *p != '\0' && port <= 65535; p++) {
		if (*p < '0' || *p > '9')
			break;
		port = port * 10 + (*p - '0');
	}
	if (p == colon + 1 || *p != '\0' || port < 1 || port > 65535) {
		snprintf(err, errlen, "listen: '%.64s': the port must be "
		    "1..65535", spec);
		return MFA_ERR_INVALID;
	}
	if ((size_t)(colon - spec) >= sizeof(host)) {
		snprintf(err, errlen, "listen: host name longer than %zu "
		    "bytes", sizeof(host) - 1);
		return MFA_ERR_TOOBIG;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	gai = getaddrinfo(host[0] == '\0' || strcmp(host, "*") == 0 ? NULL :
	    host, colon + 1, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "listen: %.64s: %s", host,
		    gai_strerror(gai));
		return MFA_ERR_INVALID;
	}
	fd = conn_bind(AF_INET, ai->ai_addr, ai->ai_addrlen);
	if (fd < 0)
		snprintf(err, errlen, "listen: cannot listen on %.64s: %s",
		    spec, strerror(errno));
	freeaddrinfo(ai);
	return fd < 0 ? MFA_ERR_IO : fd;
}

/*
 * Opens the FastCGI listening socket named by "spec" with a backlog of
 * 1024, as FCGX_OpenSocket would (which cannot be used: libfcgi 2.4.2
 * exits the process when bind fails): "unix:PATH" (a stale socket file is
 * replaced, a live one or any other file is not; the new one gets mode
 * 0660) or "HOST:PORT" / ":PORT" (IPv4, SO_REUSEADDR; an empty host or
 * "*" is every interface). The descriptor is close-on-exec (workers
 * inherit it by fork, not by exec). Returns the descriptor, or
 * MFA_ERR_INVALID / MFA_ERR_TOOBIG (bad spec, unknown host),
 * MFA_ERR_EXISTS (the path is taken) or MFA_ERR_IO with a sentence in
 * "err".
 */
int
conn_listen(const char *spec, char *err, size_t errlen)
{
	int fd;

	if (spec == NULL || *spec == '\0') {
		snprintf(err, errlen, "listen: no address given");
		return MFA_ERR_INVALID;
	}
	if (strlen(spec) >= PATH_MAX) {
		snprintf(err, errlen, "listen: address longer than %d bytes",
		    PATH_MAX - 1);
		return MFA_ERR_TOOBIG;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		fd = conn_listen_unix(spec + 5, err, errlen);
	else
		fd = conn_listen_tcp(spec, err, errlen);
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		log_warn("listen: FD_CLOEXEC: %s", strerror(errno));
	return fd;
}
