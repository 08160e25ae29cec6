/*
 * worker.c -- one FastCGI worker: the accept loop, serving a request
 * (fcgi_req.c reads it) and holding replies for a sync, housekeeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "api.h"
#include "clock.h"
#include "conn.h"
#include "fcgi_req.h"
#include "log.h"
#include "privdrop.h"
#include "sandbox.h"
#include "signing.h"
#include "store.h"
#include "supervisor.h"
#include "worker.h"

#define WORKER_HOUSEKEEPING_MS (60 * 1000)
#define WORKER_READER_CHECK_MS 1000 /* stale reader slots, after a request */
#define WORKER_SWEEP_BATCH 256
#define WORKER_SWEEP_MAX 2048
#define WORKER_ACCEPT_RUN 16 /* requests accepted without a wait */
#define WORKER_HOLD_MAX 8 /* replies held for one sync */

/*
 * Stop requests (SIGTERM, SIGINT) stay blocked except while the worker
 * waits in epoll_pwait() for a connection, which unblocks them atomically: a
 * stop can only land between requests, never in the middle of one (not
 * even while libfcgi reads the parameters of a connection it accepted),
 * and never in the gap before the wait.
 */
static volatile sig_atomic_t worker_stop;

static void
worker_on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
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

/* Blocks the stop signals; "waiting" gets the mask that admits them. */
static void
worker_mask(sigset_t *waiting)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, waiting);
	sigdelset(waiting, SIGTERM);
	sigdelset(waiting, SIGINT);
}

/*
 * The worker's own epoll set on the listening socket. EPOLLEXCLUSIVE
 * wakes one waiting worker per connection, where pselect() woke every
 * idle one (make bench: a herd of wake-ups and accepts that found
 * nothing). Returns the descriptor or -1.
 */
static int
worker_poller(int listen_fd)
{
	struct epoll_event ev;
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
		close(ep);
		return -1;
	}
	return ep;
}

/*
 * Waits for a connection ("ep": worker_poller) with the stop signals
 * admitted (epoll_pwait swaps the mask atomically), at most until the
 * next housekeeping, or "sync_ms" when that is not -1 (the store's
 * periodic sync of batched commits is due then). Returns 1 (readable), 0
 * (timeout or signal) or -1.
 */
static int
worker_wait(int ep, const sigset_t *waiting, int sync_ms)
{
	struct epoll_event ev;
	int rc;

	rc = epoll_pwait(ep, &ev, 1, sync_ms >= 0 ? sync_ms :
	    WORKER_HOUSEKEEPING_MS, waiting);
	if (rc < 0 && errno == EINTR)
		return 0;
	return rc;
}

/*
 * Does the master key open this store's sealed records? The current
 * signing key is sealed with it: a wrong or replaced master.key fails to
 * open it (MFA_ERR_CRYPTO). A store without a signing key passes.
 */
static int
worker_check_key(struct store *st, const struct keys *keys, const char *db,
    char *err, size_t errlen)
{
	struct signing_key sk;
	struct store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(st, false, &txn)) != MFA_OK) {
		snprintf(err, errlen, "store %.300s: %s", db, mfa_strerror(rc));
		return rc;
	}
	rc = signing_current(txn, keys, &sk);
	signing_key_wipe(&sk);
	store_txn_abort(txn);
	if (rc == MFA_ERR_CRYPTO) {
		snprintf(err, errlen, "%.300s/master.key does not open the store's "
		    "sealed keys: it is not the master key this store was made "
		    "with (restore the right master.key)", db);
		return MFA_ERR_CONFIG;
	}
	if (rc != MFA_OK && rc != MFA_ERR_NOTFOUND) {
		snprintf(err, errlen, "store %.300s: cannot read the signing key: "
		    "%s", db, mfa_strerror(rc));
		return rc;
	}
	return MFA_OK;
}

/*
 * Opens the store and the master key in a child process (the caller, a
 * supervisor, must never open LMDB itself) and checks that the key is
 * this store's. Returns MFA_OK or MFA_ERR_CONFIG with the child's reason.
 */
static int
worker_check_store(const struct config *cfg, char *err, size_t errlen)
{
	char msg[512] = "";
	struct store *st = NULL;
	struct keys *keys = NULL;
	int p[2], status = 0, rc;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p) != 0) {
		snprintf(err, errlen, "cannot check the store: pipe: %s",
		    strerror(errno));
		return MFA_ERR_CONFIG;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "cannot check the store: fork: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return MFA_ERR_CONFIG;
	}
	if (pid == 0) {
		close(p[0]);
#ifdef MFA_FAULT_INJECT
		/* injected store faults are for requests, not this check */
		unsetenv("MFA_FAULT_EVERY");
#endif
		if (sodium_init() < 0) {
			rc = MFA_ERR_CRYPTO;
			snprintf(msg, sizeof(msg), "cannot initialise "
			    "libsodium");
		} else if ((rc = store_open(&st, cfg->db, cfg->map_size, 0)) !=
		    MFA_OK) {
			/* LMDB says "store error": name the cause if it is
			 * the file system (read-only, permissions). */
			snprintf(msg, sizeof(msg), "%.300s/data.mdb", cfg->db);
			snprintf(msg, sizeof(msg), "cannot open the store "
			    "%.300s: %s", cfg->db, access(msg, R_OK | W_OK) !=
			    0 ? strerror(errno) : mfa_strerror(rc));
		}
		else if ((rc = keys_load(cfg->db, &keys)) != MFA_OK)
			snprintf(msg, sizeof(msg), "cannot load %.300s/master.key: "
			    "%s (it must be 32 bytes, readable by this user)",
			    cfg->db, mfa_strerror(rc));
		else
			rc = worker_check_key(st, keys, cfg->db, msg,
			    sizeof(msg));
		if (rc != MFA_OK && write(p[1], msg, strlen(msg)) < 0)
			rc = MFA_ERR_IO;
		keys_free(keys);
		store_close(st);
		_exit(rc == MFA_OK ? 0 : 1);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		if ((size_t)got >= sizeof(msg) - 1)
			break;
	}
	msg[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return MFA_OK;
	if (msg[0] == '\0' && WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "the store check was killed by "
		    "signal %d", WTERMSIG(status));
	snprintf(err, errlen, "%s", msg[0] != '\0' ? msg :
	    "the store check failed");
	return MFA_ERR_CONFIG;
}

int
worker_preflight(const struct config *cfg, char *err, size_t errlen)
{
	static const char *const files[] = { "data.mdb", "master.key" };
	struct conn_allow allowed;
	char path[PATH_MAX];
	size_t i;

	/* checked with the rest, so that a bad list stops the start, not
	 * each worker the supervisor would fork again */
	if (conn_allow_parse(getenv("FCGI_WEB_SERVER_ADDRS"), &allowed, err,
	    errlen) != MFA_OK)
		return MFA_ERR_CONFIG;
	if (access(cfg->db, R_OK | W_OK | X_OK) != 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "store directory %s: %s (create "
			    "it with \"mfactl --db %s init\")", cfg->db,
			    strerror(errno), cfg->db);
		else
			snprintf(err, errlen, "store directory %s: %s "
			    "(readers and writers need write access to it)",
			    cfg->db, strerror(errno));
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
	return worker_check_store(cfg, err, errlen);
}

/*
 * A request answered but not yet sent: a reply may wait for the sync of a
 * deferred commit (store_txn_commit_deferred), its own or one before it.
 */
struct worker_reply {
	char *out;     /* header block and body (resp_serialize) */
	size_t len;
	int status;
	bool owed;     /* its own commit waits for the sync */
	enum http_method method;
	char path[REQ_PATH_MAX + 1];
	char client[MFA_CLIENT_ID_MAX + 1];
	mfa_ms start;
};

/* An accepted request and its reply. */
struct worker_slot {
	FCGX_Request r;
	struct worker_reply rep;
};

/* Where connections come from (conn.h). */
struct worker_listener {
	int fd;             /* the listening socket, non-blocking */
	int64_t timeout_s;  /* read_timeout */
	struct conn_allow allowed; /* FCGI_WEB_SERVER_ADDRS */
};

/*
 * Accepts a connection (conn_accept: with its read timeout) and lets
 * libfcgi read its request's parameters into "r". The requests were
 * prepared without a listening socket and the connection is handed over
 * as a kept one, so libfcgi reads from it and never accepts on its own
 * (after a request it cannot read, libfcgi closes the connection and its
 * accept on no socket fails at once). A request whose parameters a read
 * error cut short (a timeout, a web server gone) is dropped too: libfcgi
 * ends the parameters at a record boundary without saying so, and only
 * the stream's error tells. A connection given up on is closed at once,
 * without libfcgi's 2 s linger: the peer is silent or gone. With
 * "combine" (a worker holding replies), a request that has arrived whole
 * may join the outer transaction of the held ones (store_combine.c); one
 * whose reading could wait ends it first, so that no other process's
 * write waits on this connection. 0, -EAGAIN when no connection waits,
 * -ECONNABORTED when one was taken and dropped, or another negative
 * errno.
 */
static int
worker_accept(const struct worker_listener *l, FCGX_Request *r,
    struct store *combine)
{
	int fd;

	if (r->ipcFd >= 0) /* not expected: every request ends closed */
		FCGX_Free(r, 1);
	if ((fd = conn_accept(l->fd, l->timeout_s, &l->allowed)) < 0)
		return fd;
	/* nothing may wait on the network while the writer lock is held */
	if (combine != NULL && !conn_request_whole(fd))
		(void)store_combine_end(combine); /* a failure: the wait's */
	r->ipcFd = fd;
	r->keepConnection = 1; /* FCGX_Accept_r's first act, a finish,
				  would close it otherwise */
	r->detached = 1;       /* libfcgi's own close of it: no linger */
	if (FCGX_Accept_r(r) != 0 || FCGX_GetError(r->in) != 0) {
		if (r->ipcFd >= 0)
			FCGX_Free(r, 1);
		r->detached = 0;
		return -ECONNABORTED;
	}
	r->detached = 0; /* worker_finish decides how it closes */
	return 0;
}

/* Replaces the reply with "resp" serialised. */
static void
worker_reply_set(struct worker_reply *rep, const struct mfa_resp *resp)
{
	if (rep->out != NULL) {
		sodium_memzero(rep->out, rep->len);
		free(rep->out);
	}
	if ((rep->out = resp_serialize(resp, &rep->len)) == NULL)
		fcgi_req_oom("the reply");
	rep->status = resp->status;
}

/* Serves one accepted request into "rep"; worker_send writes it. */
static void
worker_serve(struct mfa_ctx *ctx, FCGX_Request *r, struct worker_reply *rep)
{
	struct mfa_resp resp;
	struct mfa_req req;
	size_t owed = store_sync_owed(ctx->store);

	req_init(&req);
	resp_init(&resp);
	ctx->now = clock_now_ms();
	rep->start = ctx->now;
	if (fcgi_req_build(ctx, r, &req, &resp))
		router_dispatch(ctx, &req, &resp);
	rep->owed = store_sync_owed(ctx->store) > owed;
	worker_reply_set(rep, &resp);
	rep->method = req.method;
	snprintf(rep->path, sizeof(rep->path), "%s", req.path);
	fcgi_req_claimed_client(&req, rep->client, sizeof(rep->client));
	resp_free(&resp);
	req_free(&req);
}

/* A reply whose deferred commit did not reach the disk ("rc": why): a 500,
 * or a 503 for a full map, as when the commit itself fails. */
static void
worker_reply_unsynced(struct worker_reply *rep, int rc)
{
	struct mfa_resp resp;

	resp_init(&resp);
	resp_internal(&resp, rc);
	worker_reply_set(rep, &resp);
	resp_free(&resp);
}

/*
 * Is the web server done sending on this request: its stdin read to the
 * end, or given up on (gone quiet for read_timeout: the read failed with
 * EAGAIN; or a body too slow in coming: ETIMEDOUT, fcgi_req_read_body)?
 */
static bool
worker_in_over(FCGX_Stream *in)
{
	int e = FCGX_GetError(in);
	char c;

	if (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT)
		return true;
	return FCGX_GetStr(&c, 1, in) == 0 && FCGX_GetError(in) == 0 &&
	    FCGX_HasSeenEOF(in);
}

/*
 * Ends the request. libfcgi's close lingers: shutdown(), then a poll of
 * up to two seconds for the web server's own close, then a read, so that
 * request bytes still in flight cannot make the kernel reset the
 * connection and discard the reply. When the web server is done sending
 * (worker_in_over) nothing is in flight, and a plain close() is as safe
 * and saves a sleep and a wake-up per request (README "Performance").
 * Otherwise (a body refused unread) it lingers.
 */
static void
worker_finish(FCGX_Request *r)
{
	if (r->in != NULL && worker_in_over(r->in))
		(void)FCGX_Detach(r);
	FCGX_Finish_r(r);
}

/* Writes the reply, logs the request and ends it. */
static void
worker_send(struct worker_slot *slot)
{
	struct worker_reply *rep = &slot->rep;

	FCGX_PutStr(rep->out, (int)rep->len, slot->r.out);
	sodium_memzero(rep->out, rep->len);
	free(rep->out);
	rep->out = NULL;
	worker_finish(&slot->r);
	log_access(req_method_name(rep->method), rep->path, rep->status,
	    (long long)(clock_now_ms() - rep->start), rep->client);
}

/* The requests among "n" held ones whose own commits wait for the sync. */
static size_t
worker_count_owed(const struct worker_slot *slot, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += slot[i].rep.owed;
	return k;
}

/*
 * Serves the request accepted into "slot[0]". While replies wait for the
 * sync of a deferred commit, the connections already waiting are served
 * too (WORKER_HOLD_MAX requests at most, and no more than the run of
 * accepts without a wait allows: "*run"), so that one sync, shared with
 * the other workers', covers them all; then every reply goes out. Their
 * writes, from the first deferred commit on, run in one outer transaction
 * (store_combine.c; worker_accept ends it before a request that has not
 * arrived whole), committed before the wait. When that
 * commit or the sync fails, the requests whose commits it was for answer
 * as for a failed commit.
 */
static void
worker_serve_held(struct mfa_ctx *ctx, const struct worker_listener *l,
    struct worker_slot *slot, int *run)
{
	size_t n = 0, i;
	int rc;

	store_combine_arm(ctx->store, true);
	for (;;) {
		worker_serve(ctx, &slot[n].r, &slot[n].rep);
		n++;
		(*run)++;
		if (!store_sync_owed(ctx->store) || n == WORKER_HOLD_MAX ||
		    *run >= WORKER_ACCEPT_RUN ||
		    worker_accept(l, &slot[n].r, ctx->store) != 0)
			break;
	}
	(void)store_combine_end(ctx->store); /* a failure: the wait's too */
	store_combine_arm(ctx->store, false);
	if ((rc = store_sync_wait(ctx->store)) != MFA_OK) {
		log_error("the commit or sync of %zu of %zu held request(s) "
		    "failed (%s): their decisions may not be on disk; each "
		    "answers as for a failed commit", worker_count_owed(slot, n),
		    n, mfa_strerror(rc));
		for (i = 0; i < n; i++)
			if (slot[i].rep.owed)
				worker_reply_unsynced(&slot[i].rep, rc);
	}
	for (i = 0; i < n; i++)
		worker_send(&slot[i]);
}

/*
 * Gives the heap's free pages back to the kernel. Each nested LMDB
 * transaction (store_combine.c) mallocs 3 MiB of bookkeeping, mostly
 * untouched; once glibc has raised its mmap threshold these come from the
 * heap (an mmap'd pair costs 77-99 us here), and over thousands of
 * requests small allocations spread through the hole they leave, so its
 * pages stay resident: a worker's heap grew to 2.6 MiB resident with
 * 0.3-1.6 MiB in use. Once a second, the free chunks' whole pages are released
 * (madvise); the few touched again fault back in.
 */
static void
worker_trim_heap(void)
{
	(void)malloc_trim(0);
}

/* When worker_housekeeping last did each of its jobs. */
struct worker_upkeep {
	mfa_ms readers; /* stale LMDB reader slots cleared */
	mfa_ms sweep;   /* expired records deleted */
};

/*
 * Periodic upkeep, after the reply is out. Reader slots left by a process
 * that died (a killed sibling under mod_fcgid, which has no supervisor to
 * start a replacement that would clear them on open) pin old pages, so
 * they are cleared within a second of a request, when the heap is also
 * trimmed; expired records are swept once per WORKER_HOUSEKEEPING_MS.
 */
static void
worker_housekeeping(struct mfa_ctx *ctx, struct worker_upkeep *last)
{
	mfa_ms now = clock_now_ms();
	size_t deleted;

	if (now - last->readers >= WORKER_READER_CHECK_MS) {
		last->readers = now;
		(void)store_reader_check(ctx->store);
		worker_trim_heap();
	}
	if (now - last->sweep < WORKER_HOUSEKEEPING_MS)
		return;
	last->sweep = now;
	if (store_sweep(ctx->store, now, WORKER_SWEEP_BATCH, WORKER_SWEEP_MAX,
	    &deleted) == MFA_OK && deleted > 0)
		log_info("sweep: deleted %zu expired record(s)", deleted);
}

/* Opens what a worker needs after fork: the store and the keys. */
static int
worker_open(const struct config *cfg, struct mfa_ctx *ctx, struct keys **keys)
{
	char buf[PATH_MAX];
	int rc;

	if ((rc = store_open(&ctx->store, cfg->db, cfg->map_size, 0)) !=
	    MFA_OK) {
		log_error("cannot open the store %s: %s", cfg->db,
		    mfa_strerror(rc));
		return rc;
	}
	if ((rc = store_sync_init(ctx->store, cfg->challenge_sync_ms)) !=
	    MFA_OK) {
		log_error("cannot set up group commit in %s: %s", cfg->db,
		    mfa_strerror(rc));
		return rc;
	}
	if ((rc = keys_load(cfg->db, keys)) != MFA_OK) {
		log_error("cannot load %s/master.key: %s", cfg->db,
		    mfa_strerror(rc));
		return rc;
	}
	ctx->keys = *keys;
	/* a wrong master key is fatal; a passing store error (readers
	 * full, I/O) is not: requests will answer 503 until it clears */
	if ((rc = worker_check_key(ctx->store, *keys, cfg->db, buf,
	    sizeof(buf))) == MFA_ERR_CONFIG) {
		log_error("%s", buf);
		return rc;
	}
	if (rc != MFA_OK)
		log_warn("%s (serving anyway)", buf);
	return MFA_OK;
}

/*
 * The lock-down, once everything is open: drop to the configured user
 * (when root), re-arm the supervisor watch (the drop clears it), enter the
 * sandbox. Returns MFA_OK, or an error after logging why: the worker must
 * not serve then.
 */
static int
worker_lockdown(const struct config *cfg)
{
	char err[512];
	int rc;

	if ((rc = privdrop_to(cfg->user, err, sizeof(err))) != MFA_OK) {
		log_error("refusing to serve: %s", err);
		return rc;
	}
	if (cfg->user[0] == '\0' && privdrop_is_root())
		log_warn("running as root: set \"user\" (MFA_USER) to drop "
		    "privileges");
	if ((rc = supervisor_parent_watch()) != MFA_OK)
		return rc;
	if ((rc = sandbox_enter((enum config_sandbox)cfg->sandbox, err,
	    sizeof(err))) != MFA_OK) {
		log_error("refusing to serve: %s", err);
		return rc;
	}
	if (cfg->sandbox == CONFIG_SANDBOX_OFF)
		log_warn("sandbox = off: the worker runs without its seccomp "
		    "filter");
	return MFA_OK;
}

int
worker_main(const struct config *cfg, int listen_fd, void *arg)
{
	struct mfa_ctx ctx;
	struct keys *keys = NULL;
	struct worker_slot slot[WORKER_HOLD_MAX];
	sigset_t waiting;
	struct worker_upkeep last = { clock_now_ms(), clock_now_ms() };
	struct worker_listener l = { .fd = listen_fd,
	    .timeout_s = cfg->read_timeout };
	char err[256];
	int status = 1, flags, rc, sync_ms = -1, ep = -1, run = 0;
	size_t i, nslots = 0;

	(void)arg;
	memset(&ctx, 0, sizeof(ctx));
	memset(slot, 0, sizeof(slot));
	ctx.cfg = cfg;
	worker_mask(&waiting);
	worker_signals();
	if (sodium_init() < 0 || FCGX_Init() != 0) {
		log_error("cannot initialise libsodium or libfcgi");
		return 1;
	}
	/* libfcgi's own accept honours FCGI_WEB_SERVER_ADDRS: so does ours
	 * (worker_preflight refused a bad list before any fork) */
	if (conn_allow_parse(getenv("FCGI_WEB_SERVER_ADDRS"), &l.allowed, err,
	    sizeof(err)) != MFA_OK) {
		log_error("refusing to serve: %s", err);
		return 1;
	}
	if (worker_open(cfg, &ctx, &keys) != MFA_OK)
		goto out;
	store_sync_defer(ctx.store, true); /* worker_serve_held waits */
	/*
	 * A non-blocking listening socket: when another worker wins the
	 * connection epoll announced, accept() says EAGAIN instead of
	 * sleeping with the stop signals blocked. Linux does not pass
	 * O_NONBLOCK on to the accepted connection.
	 */
	if ((flags = fcntl(listen_fd, F_GETFL)) < 0 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    (ep = worker_poller(listen_fd)) < 0) {
		log_error("cannot prepare the listening socket: %s",
		    strerror(errno));
		goto out;
	}
	for (; nslots < WORKER_HOLD_MAX; nslots++)
		if (FCGX_InitRequest(&slot[nslots].r, -1, 0) != 0) {
			log_error("cannot prepare a FastCGI request");
			goto out;
		}
	if (worker_lockdown(cfg) != MFA_OK)
		goto out;
	log_info("worker ready (store %s%s%s)", cfg->db,
	    sandbox_is_active() ? ", sandboxed" : "",
	    privdrop_is_root() ? ", as root" : "");
	status = 0;
	while (!worker_stop) {
		/* after a request the next connection is often waiting
		 * already: it is accepted without a wait, WORKER_ACCEPT_RUN
		 * times in a row at most, so that a stop gets in that often */
		rc = 1;
		if (run == 0 || run >= WORKER_ACCEPT_RUN) {
			run = 0;
			/* the run's lines: one write, after its replies and
			 * before any wait (never held while idle) */
			log_release();
			if ((rc = worker_wait(ep, &waiting, sync_ms)) < 0) {
				log_error("poll failed: %s", strerror(errno));
				status = 1;
				break;
			}
		}
		if (rc > 0 && (rc = worker_accept(&l, &slot[0].r, NULL)) == 0) {
			log_hold();
			worker_serve_held(&ctx, &l, slot, &run);
		} else {
			run = 0; /* nothing waiting: wait next time */
			if (rc < 0 && rc != -EAGAIN && rc != -EWOULDBLOCK &&
			    rc != -EINTR && rc != -ECONNABORTED) {
				log_error("accept failed: %s", strerror(-rc));
				status = 1;
				break;
			}
		}
		worker_housekeeping(&ctx, &last);
		if (store_sync_tick(ctx.store, &sync_ms) != MFA_OK)
			sync_ms = 100; /* logged; try again soon */
	}
	log_release();
out:
	for (i = 0; i < nslots; i++)
		FCGX_Free(&slot[i].r, 1);
	if (ep >= 0)
		close(ep);
	signing_cache_wipe();
	keys_free(keys);
	store_close(ctx.store);
	return status;
}
