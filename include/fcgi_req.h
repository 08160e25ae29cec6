/*
 * fcgi_req.h -- turning one FastCGI request (libfcgi's FCGX_Request, its
 * parameters already read) into a struct mfa_req: the method, the path,
 * the Authorization header, the body read within body_limit and parsed
 * by its Content-Type; credentials in the query string, an unreadable or
 * oversized body and a kept connection are answered instead.
 */
#ifndef MFA_FCGI_REQ_H
#define MFA_FCGI_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>

#include "api.h"

/*
 * Fills "req" from "r"; false when "resp" is the answer (400, 404, 413,
 * 415, or 500 for a kept connection: see fcgi_req.c). What it sets in
 * "req" (the Authorization header, the parsed fields) is allocated even
 * when it returns false: the caller always calls req_free. Out of memory
 * ends the worker (fcgi_req_oom).
 */
bool fcgi_req_build(const struct mfa_ctx *ctx, FCGX_Request *r,
    struct mfa_req *req, struct mfa_resp *resp);

/*
 * The client id a request claims, for the access line: the body's
 * client_id, else the user part of Basic credentials (the secret is
 * wiped at once), else "-". Never authenticated here: only logged.
 */
void fcgi_req_claimed_client(const struct mfa_req *req, char *out,
    size_t outlen);

/*
 * Out of memory in the middle of a request: said in the log (an error,
 * so the request's held lines go out first, see log_hold) and the worker
 * stops; the supervisor starts another. Shared with worker.c, which
 * meets the same condition for a reply.
 */
_Noreturn void fcgi_req_oom(const char *what);

#endif
