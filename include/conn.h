/*
 * conn.h -- the FastCGI socket: opening it (--listen), and taking each
 * connection off it instead of libfcgi's OS_Accept, with the same checks
 * (FCGI_WEB_SERVER_ADDRS for a TCP peer, Nagle off) plus a read timeout,
 * which libfcgi has none of. A web server that stalls in the middle of a
 * request (hung, or killed between two writes) would otherwise hold the
 * worker reading it for good, and with it the replies that worker holds
 * for a sync. libfcgi then reads the request from the connection handed
 * to it (worker.c).
 */
#ifndef MFA_CONN_H
#define MFA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mfa.h"

/*
 * Opens the listening socket named by "spec": "unix:PATH" (mode 0660; a
 * stale socket file is replaced, a live one or any other file gives
 * MFA_ERR_EXISTS) or "HOST:PORT" / ":PORT". Returns the fd or a negative
 * enum mfa_err with a sentence in "err".
 */
int conn_listen(const char *spec, char *err, size_t errlen);

/* FCGI_WEB_SERVER_ADDRS, parsed once (conn_allow_parse). */
#define CONN_ALLOW_MAX 32
struct conn_addr {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char bytes[16];   /* 4 used for AF_INET */
};
struct conn_allow {
	size_t n;                  /* 0: every address */
	struct conn_addr a[CONN_ALLOW_MAX];
};

/*
 * Parses "list", the comma-separated addresses a TCP peer may have
 * (FCGI_WEB_SERVER_ADDRS, as libfcgi defines it), into "out". Blanks
 * around an entry and empty entries are ignored; entries are addresses
 * (inet_pton), so "::1" and "0:0::1" are one, and "::ffff:10.0.0.5" is
 * 10.0.0.5. NULL or "" allows every
 * address, as libfcgi does. MFA_OK, or MFA_ERR_INVALID with a sentence
 * in "err": an entry that is no IPv4 or IPv6 address (a host name, say,
 * which libfcgi would have let match nothing), no address at all, more
 * than CONN_ALLOW_MAX.
 */
int conn_allow_parse(const char *list, struct conn_allow *out, char *err,
    size_t errlen);

/*
 * Is "addr" (4 bytes for AF_INET, 16 for AF_INET6) allowed by "al"?
 * True for every address when "al" is empty.
 */
bool conn_allow_has(const struct conn_allow *al, int family,
    const void *addr);

/*
 * Accepts one connection from "listen_fd" (non-blocking: -EAGAIN when
 * none is waiting), close-on-exec, whose reads fail with EAGAIN after
 * "timeout_s" seconds without a byte. A TCP peer "allowed" does not allow
 * (an IPv4 peer of a dual-stack socket is compared as IPv4) is closed at
 * once and logged (one line per 10 s at most): -ECONNABORTED, as for an
 * accept error that concerns that connection only. Returns the
 * descriptor or -errno.
 */
int conn_accept(int listen_fd, int64_t timeout_s,
    const struct conn_allow *allowed);

/*
 * Whether "buf" ("n" bytes) holds a whole FastCGI request: records
 * complete up to the empty FCGI_STDIN record that ends the body, after
 * the empty FCGI_PARAMS record that ends the parameters (pure).
 */
bool conn_fcgi_whole(const unsigned char *buf, size_t n);

/* Largest request conn_request_whole can find whole. */
#define CONN_PEEK_MAX 16384

/*
 * Whether the whole request has arrived on connection "fd" already, so
 * that reading it cannot wait (a look at the socket's buffer with
 * MSG_PEEK, which takes nothing off it; conn_fcgi_whole). False too for
 * a request over CONN_PEEK_MAX bytes, or when the look fails.
 */
bool conn_request_whole(int fd);

#endif
