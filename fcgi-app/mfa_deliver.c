/*
 * mfa_deliver.c -- mfa-deliver: hands each published spool message to a
 * gateway program (an SMS API script, sendmail) and removes it once sent.
 *
 *   scan      the spool's published files, oldest first
 *   deliver   run PROGRAM with the message text on its standard input and
 *             the message's fields in MFA_* variables; exit status 0 is
 *             "sent" (the file is removed), anything else "retry later"
 *   retry     after 1, 2, 4 ... 60 s; after --attempts failures, or at once
 *             for a file that does not parse, the file moves to failed/
 *   expire    a message older than --max-age is dropped unsent (its code
 *             has expired with its challenge)
 *   wait      inotify on the directory (a rename into it wakes the agent),
 *             with a rescan every 5 s; --once scans once and exits
 *
 * One agent per spool: an flock(2) on <spool>/.deliver.lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "mask.h"
#include "spool.h"

#define DELIVER_RESCAN_MS 5000
#define DELIVER_BACKOFF_MAX_S 60
#define DELIVER_PENDING_MAX 4096 /* messages remembered between scans */

static const char usage_text[] =
"usage: mfa-deliver [--db DIR] [--spool DIR] [--config FILE] [--once]\n"
"                   [--max-age S] [--attempts N] [--timeout S]\n"
"                   [--log-level L] -- PROGRAM [ARG ...]\n"
"\n"
"Sends the out-of-band codes that mfa.fcgi queues in its spool directory:\n"
"for each published message (oldest first) it runs PROGRAM with the text\n"
"to send on standard input and these variables in its environment:\n"
"  MFA_CHANNEL       sms, voice or email\n"
"  MFA_TO            the phone number (E.164) or e-mail address\n"
"  MFA_USER_ID, MFA_CHALLENGE_ID, MFA_CREATED_AT\n"
"PROGRAM exits 0 when the message was handed over: the file is removed.\n"
"Any other exit, a signal or --timeout is a failure: the message is tried\n"
"again after 1, 2, 4 ... 60 s, and after --attempts failures it moves to\n"
"<spool>/failed/. A file that is not a valid message moves there at once;\n"
"a message older than --max-age is dropped unsent (its code has expired).\n"
"\n"
"  --db DIR        the store; the spool is DIR/spool (else MFA_DB, the\n"
"                  configuration's db, ./var)\n"
"  --spool DIR     the spool directory itself (else MFA_SPOOL, the\n"
"                  configuration's spool, <db>/spool)\n"
"  --config FILE   the service's configuration file (else MFA_CONFIG)\n"
"  --once          deliver what is there, then exit (for cron); without\n"
"                  it mfa-deliver waits for new messages until SIGTERM\n"
"  --max-age S     seconds a message stays worth sending (default: the\n"
"                  longest of oob_ttl, enroll_ttl, sms_factor_ttl: 600)\n"
"  --attempts N    failures before a message moves to failed/ (5)\n"
"  --timeout S     seconds PROGRAM may run before it is killed (30)\n"
"  --log-level L   error, warn, info (default) or debug, on stderr\n"
"\n"
"Exit status: 0 (with --once: every message sent, dropped or set aside\n"
"for a later run), 1 an error (the spool cannot be read, another\n"
"mfa-deliver holds it), 2 a usage error. The code itself is never logged;\n"
"the address is logged masked.\n";

struct deliver_opts {
	const char *spool;
	bool once;
	int64_t max_age_ms;
	unsigned attempts;
	int timeout_s;
	char **argv; /* PROGRAM and its arguments */
};

/* A message that failed: when to try it again, how often it failed. */
struct pending {
	char name[NAME_MAX + 1];
	unsigned failures;
	mfa_ms next_ms;
	bool seen; /* still in the directory at the last scan */
};

struct agent {
	struct deliver_opts o;
	int dirfd;
	struct pending *pend;
	size_t npend;
};

static volatile sig_atomic_t deliver_stop;

static void
deliver_on_signal(int sig)
{
	(void)sig;
	deliver_stop = 1;
}

static int deliver_usage(const char *fmt, ...) MFA_PRINTF(1, 2);

static int
deliver_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("mfa-deliver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(mfa-deliver --help for the usage)\n", stderr);
	return 2;
}

/* The decimal in "s" within [lo, hi]; false otherwise. */
static bool
deliver_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------ pending */

static struct pending *
pending_find(struct agent *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->npend; i++)
		if (strcmp(a->pend[i].name, name) == 0)
			return &a->pend[i];
	return NULL;
}

static void
pending_forget(struct agent *a, const char *name)
{
	struct pending *p = pending_find(a, name);

	if (p != NULL)
		*p = a->pend[--a->npend];
}

/* Counts a failure of "name"; returns its count (0: the table is full,
 * it cannot be remembered). */
static unsigned
pending_fail(struct agent *a, const char *name, mfa_ms now)
{
	struct pending *p = pending_find(a, name);
	unsigned shift;

	if (p == NULL) {
		if (a->npend == DELIVER_PENDING_MAX)
			return 0;
		p = &a->pend[a->npend++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
	p->failures++;
	p->seen = true;
	shift = p->failures - 1 < 6 ? p->failures - 1 : 6;
	p->next_ms = now + 1000 * (mfa_ms)((1u << shift) <
	    DELIVER_BACKOFF_MAX_S ? (1u << shift) : DELIVER_BACKOFF_MAX_S);
	return p->failures;
}

/* ----------------------------------------------------- moving files */

/* Moves "name" to failed/ (created 0700 on first use). */
static void
deliver_set_aside(struct agent *a, const char *name, const char *why)
{
	char to[NAME_MAX + 16];

	if (mkdirat(a->dirfd, "failed", 0700) != 0 && errno != EEXIST)
		log_error("deliver: cannot create %s/failed: %s", a->o.spool,
		    strerror(errno));
	snprintf(to, sizeof(to), "failed/%s", name);
	if (renameat(a->dirfd, name, a->dirfd, to) != 0)
		log_error("deliver: cannot move %s to failed/: %s", name,
		    strerror(errno));
	else
		log_error("deliver: %s moved to failed/: %s", name, why);
	pending_forget(a, name);
}

static void
deliver_remove(struct agent *a, const char *name)
{
	if (unlinkat(a->dirfd, name, 0) != 0 && errno != ENOENT)
		log_error("deliver: cannot remove %s: %s", name,
		    strerror(errno));
	pending_forget(a, name);
}

/* Reads message file "name" into "buf" (SPOOL_FILE_MAX + 1 bytes);
 * returns its length, -1 on error (errno), -2 when too large. */
static ssize_t
deliver_read(int dirfd, const char *name, char *buf)
{
	struct stat st;
	ssize_t n, len = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	while (len <= SPOOL_FILE_MAX) {
		n = read(fd, buf + len, (size_t)(SPOOL_FILE_MAX + 1 - len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	return len > SPOOL_FILE_MAX ? -2 : len;
}

/* ------------------------------------------------------ the program */

/* In the child: the message's variables, stdin from "in", then PROGRAM. */
static void
deliver_exec(const struct agent *a, const struct spool_in *m, int in)
{
	(void)setpgid(0, 0); /* a timeout kills the whole group */
	if (dup2(in, STDIN_FILENO) < 0)
		_exit(126);
	if (in != STDIN_FILENO)
		close(in);
	if (setenv("MFA_CHANNEL", m->channel, 1) != 0 ||
	    setenv("MFA_TO", m->to, 1) != 0 ||
	    setenv("MFA_USER_ID", m->user_id, 1) != 0 ||
	    setenv("MFA_CHALLENGE_ID", m->challenge_id, 1) != 0 ||
	    setenv("MFA_CREATED_AT", m->created_at, 1) != 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execvp(a->o.argv[0], a->o.argv);
	fprintf(stderr, "mfa-deliver: cannot run %s: %s\n", a->o.argv[0],
	    strerror(errno));
	_exit(127);
}

/* Monotonic milliseconds: a timeout that a clock step cannot stretch. */
static int64_t
deliver_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for "pid" at most "timeout_s"; kills its group after that.
 * Returns its wait status, or -1 when it had to be killed. */
static int
deliver_wait(pid_t pid, int timeout_s)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int64_t deadline = deliver_mono_ms() + (int64_t)timeout_s * 1000;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (deliver_mono_ms() >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* Runs PROGRAM for "m"; true when it exited 0. "why" says what failed. */
static bool
deliver_run(const struct agent *a, const struct spool_in *m, char *why,
    size_t whylen)
{
	size_t len = strlen(m->text);
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return false;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		close(fds[1]);
		deliver_exec(a, m, fds[0]);
	}
	close(fds[0]);
	/* far below a pipe's buffer: no wait; EPIPE when it reads nothing */
	if (write(fds[1], m->text, len) != (ssize_t)len ||
	    write(fds[1], "\n", 1) != 1)
		log_debug("deliver: %s did not read its input",
		    a->o.argv[0]);
	close(fds[1]);
	status = deliver_wait(pid, a->o.timeout_s);
	if (status == -1)
		snprintf(why, whylen, "killed after %d s", a->o.timeout_s);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d",
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ------------------------------------------------------ one message */

static void
deliver_masked(const struct spool_in *m, char *out, size_t outlen)
{
	if (strcmp(m->channel, "email") == 0)
		mask_email(m->to, out, outlen);
	else
		mask_phone(m->to, out, outlen);
}

/* Delivers message "name" (published at "created"); false when it is
 * left for a later try. */
static bool
deliver_one(struct agent *a, const char *name, mfa_ms created, mfa_ms now)
{
	char buf[SPOOL_FILE_MAX + 1], err[160], why[96], masked[MFA_DEST_MAX
	    + 1];
	struct spool_in m;
	ssize_t n;
	unsigned fails;
	bool sent;

	if (now - created > a->o.max_age_ms) {
		log_warn("deliver: %s expired unsent (older than %lld s)",
		    name, (long long)(a->o.max_age_ms / 1000));
		deliver_remove(a, name);
		return true;
	}
	if ((n = deliver_read(a->dirfd, name, buf)) < 0) {
		if (n == -1 && errno == ENOENT) { /* taken by someone */
			pending_forget(a, name);
			return true;
		}
		deliver_set_aside(a, name, n == -2 ? "too large" :
		    strerror(errno));
		return true;
	}
	if (spool_parse(buf, (size_t)n, &m, err, sizeof(err)) != MFA_OK) {
		sodium_memzero(buf, sizeof(buf));
		deliver_set_aside(a, name, err);
		return true;
	}
	sodium_memzero(buf, sizeof(buf));
	deliver_masked(&m, masked, sizeof(masked));
	sent = deliver_run(a, &m, why, sizeof(why));
	if (sent) {
		log_info("deliver: challenge %s sent by %s to %s",
		    m.challenge_id, m.channel, masked);
		deliver_remove(a, name);
	} else if (a->o.once) {
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "left for the next run", m.challenge_id, m.channel, masked,
		    a->o.argv[0], why);
	} else if ((fails = pending_fail(a, name, now)) == 0) {
		snprintf(err, sizeof(err), "%s failed (%s) and %d other "
		    "messages wait for a retry already", a->o.argv[0], why,
		    DELIVER_PENDING_MAX);
		deliver_set_aside(a, name, err);
	} else if (fails >= a->o.attempts) {
		snprintf(err, sizeof(err), "%s failed %u times, last: %s",
		    a->o.argv[0], fails, why);
		deliver_set_aside(a, name, err);
	} else {
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "try %u of %u in %lld s", m.challenge_id, m.channel,
		    masked, a->o.argv[0], why, fails + 1, a->o.attempts,
		    (long long)((pending_find(a, name)->next_ms - now) /
		    1000));
	}
	sodium_memzero(&m, sizeof(m));
	return sent;
}

/* ------------------------------------------------------------ scans */

static int
deliver_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The published names in the spool, sorted (oldest first); NULL on
 * error. "*n" their count. */
static char **
deliver_list(struct agent *a, size_t *n)
{
	char **names = NULL, **grown;
	size_t cap = 0;
	struct dirent *e;
	mfa_ms t;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(a->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (!spool_published_name(e->d_name, &t))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				break;
			names = grown;
		}
		if ((names[*n] = strdup(e->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (names == NULL)
		names = calloc(1, sizeof(*names));
	if (names != NULL && *n > 1)
		qsort(names, *n, sizeof(*names), deliver_cmp);
	return names;
}

/*
 * Delivers every published message that is due. Returns the number left
 * for later ("*next_ms" the earliest retry, or -1), or -1 when the spool
 * cannot be read.
 */
static long
deliver_scan(struct agent *a, mfa_ms *next_ms)
{
	struct pending *p;
	char **names;
	size_t n, i;
	long left = 0;
	mfa_ms now, t;

	*next_ms = -1;
	if ((names = deliver_list(a, &n)) == NULL) {
		log_error("deliver: cannot read %s: %s", a->o.spool,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < a->npend; i++)
		a->pend[i].seen = false;
	for (i = 0; i < n && !deliver_stop; i++) {
		now = clock_now_ms();
		if ((p = pending_find(a, names[i])) != NULL) {
			p->seen = true;
			if (p->next_ms > now && !a->o.once) {
				left++;
				if (*next_ms < 0 || p->next_ms < *next_ms)
					*next_ms = p->next_ms;
				continue;
			}
		}
		if (spool_published_name(names[i], &t) &&
		    !deliver_one(a, names[i], t, now) &&
		    (p = pending_find(a, names[i])) != NULL) {
			left++;
			if (*next_ms < 0 || p->next_ms < *next_ms)
				*next_ms = p->next_ms;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* forget what someone else removed */
	for (i = a->npend; i > 0; i--)
		if (!a->pend[i - 1].seen)
			a->pend[i - 1] = a->pend[--a->npend];
	return left;
}

/* Waits for a rename into the spool, a due retry, the rescan or a
 * signal. */
static void
deliver_idle(int ino, mfa_ms next_ms)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	struct pollfd pfd = { ino, POLLIN, 0 };
	mfa_ms wait = DELIVER_RESCAN_MS, now = clock_now_ms();

	if (next_ms >= 0 && next_ms - now < wait)
		wait = next_ms > now ? next_ms - now : 0;
	if (poll(&pfd, 1, (int)wait) > 0)
		while (read(ino, ev, sizeof(ev)) > 0)
			; /* what changed does not matter: scan again */
}

/* ------------------------------------------------------------- setup */

static int
deliver_lock(int dirfd, const char *spool)
{
	int fd = openat(dirfd, ".deliver.lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd < 0) {
		log_error("deliver: cannot open %s/.deliver.lock: %s", spool,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("deliver: another mfa-deliver serves %s", spool);
		close(fd);
		return -1;
	}
	return fd;
}

static void
deliver_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = deliver_on_signal; /* no SA_RESTART: poll returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Serves the spool until a signal (or once); the exit status. */
static int
deliver_serve(struct agent *a)
{
	int lock, ino = -1, rc = 0;
	mfa_ms next_ms;
	long left;

	if ((lock = deliver_lock(a->dirfd, a->o.spool)) < 0)
		return 1;
	if (!a->o.once) {
		ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ino < 0 || inotify_add_watch(ino, a->o.spool,
		    IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
			log_error("deliver: cannot watch %s: %s", a->o.spool,
			    strerror(errno));
			rc = 1;
			goto out;
		}
		log_info("deliver: serving %s with %s", a->o.spool,
		    a->o.argv[0]);
	}
	for (;;) {
		if ((left = deliver_scan(a, &next_ms)) < 0) {
			rc = 1;
			break;
		}
		if (a->o.once || deliver_stop)
			break;
		deliver_idle(ino, next_ms);
		if (deliver_stop)
			break;
	}
out:
	if (ino >= 0)
		close(ino);
	close(lock);
	return rc;
}

static int64_t
deliver_default_age(const struct config *cfg)
{
	int64_t s = cfg->oob_ttl;

	if (cfg->enroll_ttl > s)
		s = cfg->enroll_ttl;
	if (cfg->sms_factor_ttl > s)
		s = cfg->sms_factor_ttl;
	return s * 1000;
}

int
main(int argc, char **argv)
{
	const char *db = NULL, *conf = NULL, *spool = NULL, *lvl = NULL, *v;
	long age = -1, attempts = 5, timeout = 30;
	struct agent a;
	struct config cfg;
	enum log_level level;
	char err[512], dir[PATH_MAX];
	int i, rc;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("mfa-deliver " MFA_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--once") == 0) {
			a.o.once = true;
		} else if ((v = cli_opt(argc, argv, &i, "--db")) != NULL) {
			db = v;
		} else if ((v = cli_opt(argc, argv, &i, "--spool")) !=
		    NULL) {
			spool = v;
		} else if ((v = cli_opt(argc, argv, &i, "--config")) !=
		    NULL) {
			conf = v;
		} else if ((v = cli_opt(argc, argv, &i, "--log-level")) !=
		    NULL) {
			lvl = v;
		} else if ((v = cli_opt(argc, argv, &i, "--max-age")) !=
		    NULL) {
			if (!deliver_number(v, 1, 86400, &age))
				return deliver_usage("--max-age: \"%s\" is not "
				    "a number of seconds from 1 to 86400", v);
		} else if ((v = cli_opt(argc, argv, &i, "--attempts")) !=
		    NULL) {
			if (!deliver_number(v, 1, 100, &attempts))
				return deliver_usage("--attempts: \"%s\" is "
				    "not a number from 1 to 100", v);
		} else if ((v = cli_opt(argc, argv, &i, "--timeout")) !=
		    NULL) {
			if (!deliver_number(v, 1, 3600, &timeout))
				return deliver_usage("--timeout: \"%s\" is not "
				    "a number of seconds from 1 to 3600", v);
		} else {
			return deliver_usage("unknown option or missing value: "
			    "\"%s\"", argv[i]);
		}
	}
	if (i >= argc)
		return deliver_usage("no PROGRAM given (after --)");
	if (sodium_init() < 0) {
		fputs("mfa-deliver: cannot initialise libsodium\n", stderr);
		return 1;
	}
	if (config_load(&cfg, conf, err, sizeof(err)) != MFA_OK ||
	    (db != NULL && config_set(&cfg, "db", db, err, sizeof(err)) !=
	    MFA_OK) || (spool != NULL && config_set(&cfg, "spool", spool, err,
	    sizeof(err)) != MFA_OK)) {
		fprintf(stderr, "mfa-deliver: %s\n", err);
		return 1;
	}
	level = cfg.log_level;
	if (lvl != NULL && log_level_parse(lvl, &level) != MFA_OK)
		return deliver_usage("--log-level: \"%s\" is not error, warn, "
		    "info or debug", lvl);
	log_init("mfa-deliver", level);
	if ((a.o.spool = config_spool_dir(&cfg, dir, sizeof(dir))) == NULL) {
		log_error("deliver: the spool directory name is too long");
		return 1;
	}
	a.o.max_age_ms = age > 0 ? (int64_t)age * 1000 :
	    deliver_default_age(&cfg);
	a.o.attempts = (unsigned)attempts;
	a.o.timeout_s = (int)timeout;
	a.o.argv = argv + i;
	a.dirfd = open(a.o.spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.dirfd < 0) {
		log_error("deliver: cannot open the spool %s: %s", a.o.spool,
		    strerror(errno));
		return 1;
	}
	if ((a.pend = calloc(DELIVER_PENDING_MAX, sizeof(*a.pend))) == NULL) {
		log_error("deliver: out of memory");
		close(a.dirfd);
		return 1;
	}
	deliver_signals();
	rc = deliver_serve(&a);
	free(a.pend);
	close(a.dirfd);
	return rc;
}
