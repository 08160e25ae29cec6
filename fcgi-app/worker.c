/*
 * worker.c -- one FastCGI worker: the accept loop, turning FastCGI
 * parameters and the body into a struct mfa_req, and housekeeping.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "api.h"
#include "clock.h"
#include "form.h"
#include "log.h"
#include "spool.h"
#include "store.h"
#include "worker.h"

#define WORKER_HOUSEKEEPING_MS (60 * 1000)
#define WORKER_SWEEP_BATCH 256
#define WORKER_SWEEP_MAX 2048

/*
 * Signal state. A stop request that arrives while no request is in flight
 * ends the worker at once (it holds no transaction and no half-written
 * reply); during a request it is only noted and acted on afterwards.
 */
static volatile sig_atomic_t worker_stop;
static volatile sig_atomic_t worker_in_request;

static void
worker_on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
	if (!worker_in_request)
		_exit(0);
}

static void
worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() must return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Blocks (or unblocks) the stop signals around a request. */
static void
worker_mask(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int
worker_preflight(const struct config *cfg, char *err, size_t errlen)
{
	static const char *const files[] = { "data.mdb", "master.key" };
	char path[PATH_MAX];
	size_t i;

	if (access(cfg->db, R_OK | W_OK | X_OK) != 0) {
		snprintf(err, errlen, "store directory %s: %s (create it with "
		    "\"mfactl --db %s init\")", cfg->db, strerror(errno),
		    cfg->db);
		return MFA_ERR_CONFIG;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cfg->db,
		    files[i]) >= sizeof(path)) {
			snprintf(err, errlen, "store path is too long");
			return MFA_ERR_CONFIG;
		}
		if (access(path, R_OK) != 0) {
			snprintf(err, errlen, "%s: %s (create the store with "
			    "\"mfactl --db %s init\")", path, strerror(errno),
			    cfg->db);
			return MFA_ERR_CONFIG;
		}
	}
	return MFA_OK;
}

/* The request path without the query: REQUEST_URI, else SCRIPT_NAME +
 * PATH_INFO. False when it is too long or not printable ASCII. */
static bool
worker_path(FCGX_ParamArray envp, char *out, size_t outlen)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", envp);
	const char *sn, *pi;
	size_t n, i;

	if (uri != NULL) {
		n = strcspn(uri, "?#");
		if (n >= outlen)
			return false;
		memcpy(out, uri, n);
		out[n] = '\0';
	} else {
		sn = FCGX_GetParam("SCRIPT_NAME", envp);
		pi = FCGX_GetParam("PATH_INFO", envp);
		if ((size_t)snprintf(out, outlen, "%s%s", sn ? sn : "",
		    pi ? pi : "") >= outlen)
			return false;
	}
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < 0x21 || out[i] > 0x7e)
			return false;
	return true;
}

/* Strict CONTENT_LENGTH: absent is 0; digits only. */
static bool
worker_content_length(const char *s, size_t *out)
{
	size_t v = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return true;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Parameters that carry credentials and so never belong in a URI. */
static const char *const worker_uri_forbidden[] = {
	"client_secret", "client_assertion", "mfa_token",
};

/* Rejects credentials in the URI (RFC 6749 §2.3.1: "MUST NOT"). */
static int
worker_query_pair(void *arg, const char *name, size_t namelen,
    const char *value, size_t valuelen)
{
	size_t i;

	(void)arg;
	(void)namelen;
	(void)value;
	(void)valuelen;
	for (i = 0; i < sizeof(worker_uri_forbidden) /
	    sizeof(worker_uri_forbidden[0]); i++)
		if (strcmp(name, worker_uri_forbidden[i]) == 0)
			return MFA_ERR_INVALID;
	return MFA_OK;
}

static bool
worker_query_has_credentials(const char *qs)
{
	char err[128];

	if (qs == NULL || *qs == '\0')
		return false;
	return form_decode(qs, strlen(qs), worker_query_pair, NULL, err,
	    sizeof(err)) == MFA_ERR_INVALID && strstr(err, "percent") == NULL;
}

/* Reads exactly "len" bytes of body; false when the stream ends early. */
static bool
worker_read_body(FCGX_Stream *in, char *buf, size_t len)
{
	size_t got = 0;
	int n;

	while (got < len) {
		n = FCGX_GetStr(buf + got, (int)(len - got > INT_MAX ?
		    INT_MAX : len - got), in);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Fills "req" from the FastCGI request; false when "resp" is the answer. */
static bool
worker_build(const struct mfa_ctx *ctx, FCGX_Request *r, struct mfa_req *req,
    struct mfa_resp *resp)
{
	const char *authz = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);
	enum req_ctype ctype;
	char err[256], *body = NULL;
	size_t len;
	bool ok = false;

	req->method = req_method_parse(FCGX_GetParam("REQUEST_METHOD",
	    r->envp));
	if (!worker_path(r->envp, req->path, sizeof(req->path))) {
		resp_error(resp, 404, "not_found", "no such endpoint");
		return false;
	}
	if (authz != NULL) {
		if (strlen(authz) > REQ_AUTHZ_MAX) {
			resp_error(resp, 400, "invalid_request",
			    "Authorization header is too long");
			return false;
		}
		if ((req->authorization = strdup(authz)) == NULL)
			abort();
	}
	if (worker_query_has_credentials(FCGX_GetParam("QUERY_STRING",
	    r->envp))) {
		resp_error(resp, 400, "invalid_request",
		    "credentials must not be sent in the query string");
		return false;
	}
	if (!worker_content_length(FCGX_GetParam("CONTENT_LENGTH", r->envp),
	    &len)) {
		resp_error(resp, 400, "invalid_request",
		    "Content-Length is not a number");
		return false;
	}
	if (len > ctx->cfg->body_limit) {
		resp_error(resp, 413, "invalid_request",
		    "Request body is larger than %zu bytes",
		    ctx->cfg->body_limit);
		return false;
	}
	if (len == 0)
		return true;
	ctype = req_ctype_parse(FCGX_GetParam("CONTENT_TYPE", r->envp));
	if (ctype != CTYPE_FORM && ctype != CTYPE_JSON) {
		resp_error(resp, 415, "invalid_request", "Content-Type must be "
		    "application/x-www-form-urlencoded or application/json");
		return false;
	}
	if ((body = malloc(len + 1)) == NULL)
		abort();
	if (!worker_read_body(r->in, body, len)) {
		resp_error(resp, 400, "invalid_request",
		    "request body is shorter than Content-Length");
		goto out;
	}
	body[len] = '\0';
	if (req_parse_body(req, ctype, body, len, err, sizeof(err)) !=
	    MFA_OK) {
		resp_error(resp, 400, "invalid_request", "%s", err);
		goto out;
	}
	ok = true;
out:
	sodium_memzero(body, len);
	free(body);
	return ok;
}

/* Serves one accepted request and writes the reply. */
static void
worker_serve(struct mfa_ctx *ctx, FCGX_Request *r)
{
	struct mfa_resp resp;
	struct mfa_req req;
	char *out;
	size_t len;

	req_init(&req);
	resp_init(&resp);
	ctx->now = clock_now_ms();
	if (worker_build(ctx, r, &req, &resp))
		router_dispatch(ctx, &req, &resp);
	if ((out = resp_serialize(&resp, &len)) == NULL)
		abort();
	FCGX_PutStr(out, (int)len, r->out);
	log_debug("%s %s -> %d (%lld ms)", req_method_name(req.method),
	    req.path, resp.status, (long long)(clock_now_ms() - ctx->now));
	free(out);
	resp_free(&resp);
	req_free(&req);
}

/* Periodic upkeep, after the reply is out: stale readers, expired records. */
static void
worker_housekeeping(struct mfa_ctx *ctx, mfa_ms *last)
{
	mfa_ms now = clock_now_ms();
	size_t deleted;

	if (now - *last < WORKER_HOUSEKEEPING_MS)
		return;
	*last = now;
	store_reader_check(ctx->store);
	if (store_sweep(ctx->store, now, WORKER_SWEEP_BATCH, WORKER_SWEEP_MAX,
	    &deleted) == MFA_OK && deleted > 0)
		log_info("sweep: deleted %zu expired record(s)", deleted);
}

/* Opens what a worker needs after fork: the store, the keys, the spool. */
static int
worker_open(const struct config *cfg, struct mfa_ctx *ctx, struct keys **keys)
{
	char buf[PATH_MAX];
	const char *spool;
	int rc;

	if ((rc = store_open(&ctx->store, cfg->db, cfg->map_size, 0)) !=
	    MFA_OK) {
		log_error("cannot open the store %s: %s", cfg->db,
		    mfa_strerror(rc));
		return rc;
	}
	if ((rc = keys_load(cfg->db, keys)) != MFA_OK) {
		log_error("cannot load %s/master.key: %s", cfg->db,
		    mfa_strerror(rc));
		return rc;
	}
	ctx->keys = *keys;
	spool = config_spool_dir(cfg, buf, sizeof(buf));
	if (spool == NULL || strlen(spool) >= sizeof(ctx->spool_dir)) {
		log_error("the spool directory name is too long");
		return MFA_ERR_CONFIG;
	}
	strcpy(ctx->spool_dir, spool);
	if ((rc = spool_init(ctx->spool_dir)) != MFA_OK) {
		log_error("cannot create the spool directory %s",
		    ctx->spool_dir);
		return rc;
	}
	return MFA_OK;
}

int
worker_main(const struct config *cfg, int listen_fd, void *arg)
{
	struct mfa_ctx ctx;
	struct keys *keys = NULL;
	FCGX_Request r;
	mfa_ms last = clock_now_ms();
	int status = 1;

	(void)arg;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	worker_signals();
	if (sodium_init() < 0 || FCGX_Init() != 0) {
		log_error("cannot initialise libsodium or libfcgi");
		return 1;
	}
	if (worker_open(cfg, &ctx, &keys) != MFA_OK)
		goto out;
	if (FCGX_InitRequest(&r, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		goto out;
	log_info("worker ready (store %s)", cfg->db);
	status = 0;
	for (;;) {
		worker_in_request = 0;
		worker_mask(false);
		if (worker_stop)
			break;
		if (FCGX_Accept_r(&r) < 0) {
			if (worker_stop || errno == EINTR)
				continue;
			log_error("accept failed: %s", strerror(errno));
			status = 1;
			break;
		}
		/* A stop signal in the instant before this mask ends the
		 * worker as if it had come during accept(). */
		worker_mask(true);
		worker_in_request = 1;
		worker_serve(&ctx, &r);
		FCGX_Finish_r(&r);
		worker_housekeeping(&ctx, &last);
	}
	FCGX_Free(&r, 1);
out:
	keys_free(keys);
	store_close(ctx.store);
	return status;
}
