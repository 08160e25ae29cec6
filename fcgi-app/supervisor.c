/*
 * supervisor.c -- the pre-forking parent (slowcgi/httpd style): it holds
 * the listening socket and nothing else, forks N identical workers and
 * keeps N running.
 *
 *  - A worker that exits or is killed is respawned after a back-off of
 *    100 ms that doubles while that worker slot keeps dying within 10 s of
 *    its start, up to respawn_max_delay; a worker that lived 10 s resets
 *    its slot's back-off. Every unplanned exit is logged as an error.
 *  - SIGTERM/SIGINT: the unix socket file we created is removed at once
 *    (new clients fail fast, a new instance can bind), every worker gets
 *    SIGTERM and finishes its request in flight; after 30 s the
 *    stragglers get SIGKILL. Then supervisor_run returns 0.
 *  - SIGHUP: the configuration is reloaded; on success the workers are
 *    rolled one at a time (oldest first): SIGTERM one old worker, start
 *    its replacement when it has exited, let the new one live 1 s, then
 *    the next. The roll waits while any slot is empty, so a new
 *    configuration whose workers crash does not replace the old ones.
 *
 * Signals stay blocked in the parent except inside pselect(), so the
 * handlers (which only set flags) never run in the middle of the loop and
 * a signal that arrives during fork() is not lost: the child resets the
 * dispositions before it unblocks them.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "supervisor.h"

#define SUPERVISOR_BACKOFF_MS 100     /* first respawn delay */
#define SUPERVISOR_HEALTHY_MS 10000   /* lived this long: back-off reset */
#define SUPERVISOR_GRACE_MS 30000     /* SIGTERM to SIGKILL */
#define SUPERVISOR_SETTLE_MS 1000     /* a rolled-in worker's probation */
#define SUPERVISOR_NEVER INT64_MAX

struct supervisor_slot {
	pid_t pid;	   /* 0: no worker in this slot */
	unsigned gen;	   /* configuration generation it runs */
	int64_t started;   /* monotonic ms of the fork */
	int64_t respawn_at; /* pid == 0: fork at or after this */
	int64_t term_at;   /* when SIGTERM was sent; 0: not asked to stop */
	bool killed;	   /* SIGKILL sent */
	int64_t delay;	   /* current back-off, ms; 0: no failure yet */
};

struct supervisor {
	struct config *cfg;	/* parent's copy; replaced on reload */
	int fd;
	int n;
	worker_main_fn worker;
	config_reload_fn reload;
	void *arg;
	struct supervisor_slot *slot; /* n of them; worker i + 1 */
	unsigned gen;		/* bumped by each successful reload */
	bool rolling;		/* a roll is in progress */
	bool draining;		/* SIGTERM/SIGINT received */
	bool forked;		/* at least one fork succeeded */
	char sock_path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
				/* our unix socket file, or "" */
	struct stat sock_st;	/* its identity when we started */
};

/* Set by the handler, read and cleared by the loop (signals blocked). */
static volatile sig_atomic_t supervisor_got_stop;
static volatile sig_atomic_t supervisor_got_hup;
static volatile sig_atomic_t supervisor_got_chld;

/* In a worker: the supervisor that forked it; 0 elsewhere. */
static pid_t supervisor_parent;

static const int supervisor_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
#define SUPERVISOR_NSIGS \
	(sizeof(supervisor_sigs) / sizeof(supervisor_sigs[0]))

static void
supervisor_on_signal(int sig)
{

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		supervisor_got_stop = sig;
		break;
	case SIGHUP:
		supervisor_got_hup = 1;
		break;
	case SIGCHLD:
		supervisor_got_chld = 1;
		break;
	}
}

static const char *
supervisor_signame(int sig)
{

	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGUSR1: return "SIGUSR1";
	case SIGSEGV: return "SIGSEGV";
	case SIGUSR2: return "SIGUSR2";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGXCPU: return "SIGXCPU";
	case SIGXFSZ: return "SIGXFSZ";
	case SIGSYS: return "SIGSYS";
	default: return "unknown signal";
	}
}

/* "exited with status X" or "killed by signal S (NAME)". */
static void
supervisor_describe(int status, char *buf, size_t len)
{

	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(status), supervisor_signame(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with wait status %#x", status);
}

/*
 * In a worker forked by supervisor_run: asks the kernel for SIGTERM when
 * the supervisor dies (a worker then finishes its request and exits, so
 * a SIGKILLed supervisor leaves no orphans), and checks that it has not
 * died already. The request is cleared by a change of credentials, so a
 * worker calls this again after dropping privileges. Returns MFA_OK (also
 * when not forked by supervisor_run), or MFA_ERR_IO when the supervisor is
 * gone or prctl failed: the worker must then exit.
 */
int
supervisor_parent_watch(void)
{

	if (supervisor_parent == 0)
		return MFA_OK;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
		log_error("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		return MFA_ERR_IO;
	}
	if (getppid() != supervisor_parent) {
		log_warn("the supervisor (pid %ld) is gone; exiting",
		    (long)supervisor_parent);
		return MFA_ERR_IO;
	}
	return MFA_OK;
}

/* Runs in the child: plain signal state, then the worker; never returns. */
static void
supervisor_child(struct supervisor *sv, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;

	supervisor_parent = parent;
	if (supervisor_parent_watch() != MFA_OK)
		_exit(1);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < SUPERVISOR_NSIGS; i++)
		sigaction(supervisor_sigs[i], &sa, NULL);
	/* A peer that hangs up must cost a write error, not the worker. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	_exit(sv->worker(sv->cfg, sv->fd, sv->arg));
}

/* Forks the worker of slot "i". Returns 0, or -1 with errno set. */
static int
supervisor_fork(struct supervisor *sv, int i, int64_t now)
{
	struct supervisor_slot *w = &sv->slot[i];
	pid_t pid, self = getpid();

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0)
		supervisor_child(sv, self);
	w->pid = pid;
	w->gen = sv->gen;
	w->started = now;
	w->respawn_at = 0;
	w->term_at = 0;
	w->killed = false;
	sv->forked = true;
	log_info("worker %d (pid %ld) started", i + 1, (long)pid);
	return 0;
}

/* The next back-off of slot "w" after a failure of a worker that lived
 * "lived" ms. */
static int64_t
supervisor_backoff(const struct supervisor *sv, struct supervisor_slot *w,
    int64_t lived)
{
	int64_t cap = sv->cfg->respawn_max_delay * 1000;

	if (w->delay == 0 || lived >= SUPERVISOR_HEALTHY_MS)
		w->delay = SUPERVISOR_BACKOFF_MS;
	else
		w->delay = w->delay > cap / 2 ? cap : w->delay * 2;
	if (w->delay > cap)
		w->delay = cap;
	return w->delay;
}

/* Forks every empty slot whose time has come. Returns -1 only when no
 * worker could ever be forked (fatal), else 0. */
static int
supervisor_spawn_due(struct supervisor *sv, int64_t now)
{
	struct supervisor_slot *w;
	int i;

	for (i = 0; i < sv->n; i++) {
		w = &sv->slot[i];
		if (w->pid != 0 || w->respawn_at > now)
			continue;
		if (supervisor_fork(sv, i, now) == 0)
			continue;
		if (!sv->forked) {
			log_error("cannot fork worker %d: %s", i + 1,
			    strerror(errno));
			return -1;
		}
		log_error("cannot fork worker %d: %s; retrying in %lld ms",
		    i + 1, strerror(errno),
		    (long long)supervisor_backoff(sv, w, 0));
		w->respawn_at = now + w->delay;
	}
	return 0;
}

/* Books the exit of the worker in slot "i" with wait status "status". */
static void
supervisor_exited(struct supervisor *sv, int i, int status, int64_t now)
{
	struct supervisor_slot *w = &sv->slot[i];
	char how[96];
	long pid = (long)w->pid;
	bool asked = w->term_at != 0;

	supervisor_describe(status, how, sizeof(how));
	w->pid = 0;
	w->term_at = 0;
	w->killed = false;
	if (sv->draining) {
		log_info("worker %d (pid %ld) %s", i + 1, pid, how);
		return;
	}
	if (asked) {
		/* Rolled out on reload: replace it at once. */
		log_info("worker %d (pid %ld) %s; starting its replacement",
		    i + 1, pid, how);
		w->respawn_at = now;
		return;
	}
	log_error("worker %d (pid %ld) %s; respawning in %lld ms", i + 1,
	    pid, how, (long long)supervisor_backoff(sv, w, now - w->started));
	w->respawn_at = now + w->delay;
}

static void
supervisor_reap(struct supervisor *sv, int64_t now)
{
	pid_t pid;
	int status, i;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (i = 0; i < sv->n; i++) {
			if (sv->slot[i].pid == pid) {
				supervisor_exited(sv, i, status, now);
				break;
			}
		}
	}
}

static int
supervisor_live(const struct supervisor *sv)
{
	int i, n = 0;

	for (i = 0; i < sv->n; i++)
		if (sv->slot[i].pid != 0)
			n++;
	return n;
}

/* Asks the worker of slot "i" to finish its request and exit. */
static void
supervisor_stop_worker(struct supervisor *sv, int i, int64_t now)
{
	struct supervisor_slot *w = &sv->slot[i];

	if (w->pid == 0 || w->term_at != 0)
		return;
	if (kill(w->pid, SIGTERM) != 0 && errno != ESRCH)
		log_error("worker %d (pid %ld): SIGTERM: %s", i + 1,
		    (long)w->pid, strerror(errno));
	w->term_at = now;
}

/* SIGKILLs workers still running SUPERVISOR_GRACE_MS after SIGTERM. */
static void
supervisor_kill_late(struct supervisor *sv, int64_t now)
{
	struct supervisor_slot *w;
	int i;

	for (i = 0; i < sv->n; i++) {
		w = &sv->slot[i];
		if (w->pid == 0 || w->term_at == 0 || w->killed ||
		    now - w->term_at < SUPERVISOR_GRACE_MS)
			continue;
		log_error("worker %d (pid %ld) still running %d s after "
		    "SIGTERM; sending SIGKILL", i + 1, (long)w->pid,
		    SUPERVISOR_GRACE_MS / 1000);
		if (kill(w->pid, SIGKILL) != 0 && errno != ESRCH)
			log_error("worker %d (pid %ld): SIGKILL: %s", i + 1,
			    (long)w->pid, strerror(errno));
		w->killed = true;
	}
}

static void
supervisor_remove_socket(struct supervisor *sv)
{
	struct stat st;

	/* Not when someone has replaced the file since we bound it. */
	if (sv->sock_path[0] == '\0' || stat(sv->sock_path, &st) != 0 ||
	    st.st_dev != sv->sock_st.st_dev || st.st_ino != sv->sock_st.st_ino)
		return;
	if (unlink(sv->sock_path) != 0)
		log_warn("cannot remove %s: %s", sv->sock_path,
		    strerror(errno));
	sv->sock_path[0] = '\0';
}

static void
supervisor_drain(struct supervisor *sv, int sig, int64_t now)
{
	int i;

	sv->draining = true;
	sv->rolling = false;
	log_info("%s received: stopping %d worker(s) after their requests "
	    "in flight", supervisor_signame(sig), supervisor_live(sv));
	supervisor_remove_socket(sv);
	for (i = 0; i < sv->n; i++)
		supervisor_stop_worker(sv, i, now);
}

static void
supervisor_reload(struct supervisor *sv)
{
	struct config next = *sv->cfg;
	char err[512] = "";

	if (sv->reload != NULL &&
	    sv->reload(&next, sv->arg, err, sizeof(err)) != MFA_OK) {
		log_error("SIGHUP: configuration not reloaded, keeping the "
		    "old one: %s", err);
		return;
	}
	*sv->cfg = next;
	sv->gen++;
	sv->rolling = true;
	log_info("SIGHUP: configuration reloaded; rolling %d worker(s) one "
	    "at a time", sv->n);
}

/*
 * One step of a roll: when every slot has a worker, none is being
 * stopped and every new worker has lived SUPERVISOR_SETTLE_MS, SIGTERM
 * the oldest worker of an older generation. Lowers "*next" to the time
 * the step should be tried again.
 */
static void
supervisor_roll(struct supervisor *sv, int64_t now, int64_t *next)
{
	struct supervisor_slot *w;
	int i, oldest = -1;

	if (!sv->rolling)
		return;
	for (i = 0; i < sv->n; i++) {
		w = &sv->slot[i];
		if (w->pid != 0 && w->gen != sv->gen &&
		    (oldest < 0 || w->started < sv->slot[oldest].started))
			oldest = i;
	}
	if (oldest < 0) {
		sv->rolling = false;
		log_info("reload complete: %d worker(s) on the new "
		    "configuration", sv->n);
		return;
	}
	for (i = 0; i < sv->n; i++) {
		w = &sv->slot[i];
		if (w->pid == 0 || w->term_at != 0)
			return; /* one at a time; wait for the refill */
		if (w->gen == sv->gen &&
		    now - w->started < SUPERVISOR_SETTLE_MS) {
			if (w->started + SUPERVISOR_SETTLE_MS < *next)
				*next = w->started + SUPERVISOR_SETTLE_MS;
			return;
		}
	}
	log_info("rolling worker %d (pid %ld)", oldest + 1,
	    (long)sv->slot[oldest].pid);
	supervisor_stop_worker(sv, oldest, now);
}

/* The earliest time something is due: a respawn or a SIGKILL. */
static int64_t
supervisor_deadline(const struct supervisor *sv, int64_t next)
{
	const struct supervisor_slot *w;
	int i;

	for (i = 0; i < sv->n; i++) {
		w = &sv->slot[i];
		if (w->pid == 0 && !sv->draining && w->respawn_at < next)
			next = w->respawn_at;
		if (w->pid != 0 && w->term_at != 0 && !w->killed &&
		    w->term_at + SUPERVISOR_GRACE_MS < next)
			next = w->term_at + SUPERVISOR_GRACE_MS;
	}
	return next;
}

/*
 * When "cfg" says unix:PATH and the socket "sv->fd" is bound to PATH,
 * keeps PATH and the socket file's identity so it can be removed when we
 * stop (not if someone has replaced it meanwhile).
 */
static void
supervisor_own_socket(struct supervisor *sv)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	const char *path = sv->cfg->listen + 5;

	if (strncmp(sv->cfg->listen, "unix:", 5) != 0 ||
	    strlen(path) >= sizeof(sv->sock_path))
		return;
	memset(&sun, 0, sizeof(sun));
	if (getsockname(sv->fd, (struct sockaddr *)&sun, &len) != 0 ||
	    sun.sun_family != AF_UNIX ||
	    strncmp(sun.sun_path, path, sizeof(sun.sun_path)) != 0 ||
	    stat(path, &sv->sock_st) != 0 || !S_ISSOCK(sv->sock_st.st_mode))
		return;
	memcpy(sv->sock_path, path, strlen(path) + 1);
}

/*
 * Supervises "nworkers" workers, each running "worker"("cfg", "listen_fd",
 * "arg") in a child, until SIGTERM or SIGINT. "reload" (may be NULL: then
 * SIGHUP only rolls the workers) fills a copy of "cfg" on SIGHUP; on
 * success the copy replaces "*cfg". Signal dispositions and the signal
 * mask are restored before returning. Returns 0 after a clean drain, 1
 * when no worker could be forked at all or the arguments are unusable.
 */
int
supervisor_run(struct config *cfg, int listen_fd, int nworkers,
    worker_main_fn worker, config_reload_fn reload, void *arg)
{
	struct supervisor sv;
	struct sigaction sa, old[SUPERVISOR_NSIGS];
	sigset_t block, oldmask, waitmask;
	struct timespec ts, *tsp;
	int64_t now, next;
	size_t i;
	int rc = 0;

	if (cfg == NULL || listen_fd < 0 || nworkers < 1 || worker == NULL) {
		log_error("supervisor: nothing to supervise");
		return 1;
	}
	memset(&sv, 0, sizeof(sv));
	sv.cfg = cfg;
	sv.fd = listen_fd;
	sv.n = nworkers;
	sv.worker = worker;
	sv.reload = reload;
	sv.arg = arg;
	if ((sv.slot = calloc((size_t)nworkers, sizeof(*sv.slot))) == NULL) {
		log_error("supervisor: out of memory");
		return 1;
	}
	supervisor_own_socket(&sv);

	sigemptyset(&block);
	for (i = 0; i < SUPERVISOR_NSIGS; i++)
		sigaddset(&block, supervisor_sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	waitmask = oldmask;
	for (i = 0; i < SUPERVISOR_NSIGS; i++)
		sigdelset(&waitmask, supervisor_sigs[i]);
	supervisor_got_stop = supervisor_got_hup = supervisor_got_chld = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = supervisor_on_signal;
	sa.sa_mask = block;
	for (i = 0; i < SUPERVISOR_NSIGS; i++)
		sigaction(supervisor_sigs[i], &sa, &old[i]);

	log_info("supervisor (pid %ld) starting %d worker(s)",
	    (long)getpid(), nworkers);
	for (;;) {
		now = clock_mono_ms();
		if (supervisor_got_chld) {
			supervisor_got_chld = 0;
			supervisor_reap(&sv, now);
		}
		if (supervisor_got_stop != 0 && !sv.draining)
			supervisor_drain(&sv, supervisor_got_stop, now);
		if (supervisor_got_hup) {
			supervisor_got_hup = 0;
			if (!sv.draining)
				supervisor_reload(&sv);
		}
		if (sv.draining && supervisor_live(&sv) == 0)
			break;
		if (!sv.draining && supervisor_spawn_due(&sv, now) != 0) {
			rc = 1;
			break;
		}
		supervisor_kill_late(&sv, now);
		next = SUPERVISOR_NEVER;
		if (!sv.draining)
			supervisor_roll(&sv, now, &next);
		next = supervisor_deadline(&sv, next);
		tsp = NULL;
		if (next != SUPERVISOR_NEVER) {
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000);
			ts.tv_nsec = (long)(next % 1000) * 1000000;
			tsp = &ts;
		}
		/* The only place the handlers can run. */
		if (pselect(0, NULL, NULL, NULL, tsp, &waitmask) < 0 &&
		    errno != EINTR) {
			log_error("supervisor: pselect: %s", strerror(errno));
			sleep(1);
		}
	}

	supervisor_remove_socket(&sv);
	if (rc == 0)
		log_info("supervisor (pid %ld): all workers stopped",
		    (long)getpid());
	/* Unblock first: a late signal then meets our handler, not the
	 * default action (which for SIGHUP is to terminate). */
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	for (i = 0; i < SUPERVISOR_NSIGS; i++)
		sigaction(supervisor_sigs[i], &old[i], NULL);
	free(sv.slot);
	return rc;
}
