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

/*
 * Opens the listening socket named by "spec": "unix:PATH" (mode 0660; a
 * stale socket file is replaced, a live one or any other file gives
 * MFA_ERR_EXISTS) or "HOST:PORT" / ":PORT". Returns the fd or a negative
 * enum mfa_err with a sentence in "err".
 */
int conn_listen(const char *spec, char *err, size_t errlen);

/*
 * Accepts one connection from "listen_fd" (non-blocking: -EAGAIN when
 * none is waiting), close-on-exec, whose reads fail with EAGAIN after
 * "timeout_s" seconds without a byte. A TCP peer whose address is not in
 * "allowed" (FCGI_WEB_SERVER_ADDRS; NULL or "" allows every address; an
 * IPv4 peer of a dual-stack socket is compared as IPv4) is closed at
 * once and logged (one line per 10 s at most): -ECONNABORTED, as for an
 * accept error that concerns that connection only. Returns the
 * descriptor or -errno.
 */
int conn_accept(int listen_fd, int64_t timeout_s, const char *allowed);

/*
 * Is "addr" (a struct in_addr for AF_INET, in6_addr for AF_INET6) one of
 * the comma-separated addresses of "list"? Entries are compared as
 * addresses (inet_pton), so "::1" and "0:0::1" are one; blanks around an
 * entry are ignored; an entry that is no address matches nothing. NULL
 * or "" allows every address, as libfcgi does.
 */
bool conn_addr_listed(const char *list, int family, const void *addr);

#endif
