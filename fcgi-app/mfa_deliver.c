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
 *   wait      inotify on the directory (a message linked or renamed into it wakes the agent),
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "mask.h"
#include "spool.h"

#define DELIVER_RESCAN_MS 5000
#define DELIVER_BACKOFF_MAX_S 60
#define DELIVER_PENDING_MAX 4096 /* messages remembered between scans */
#define DELIVER_FUTURE_MS 60000 /* a name's time may be this far ahead */
#define DELIVER_EXIT_LEFT 3 /* --once: a gateway failed, a message left */

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
"  --db DIR        the store (else MFA_DB, the configuration's db,\n"
"                  ./var); the spool is DIR/spool unless MFA_SPOOL or the\n"
"                  configuration's spool names another\n"
"  --spool DIR     the spool directory itself (else MFA_SPOOL, the\n"
"                  configuration's spool, <db>/spool)\n"
"  --config FILE   the service's configuration file (else MFA_CONFIG)\n"
"  --once          deliver what is there, then exit (for cron): a message\n"
"                  whose gateway fails stays for the next run, until\n"
"                  --max-age; without it mfa-deliver waits for new\n"
"                  messages until SIGTERM\n"
"  --max-age S     seconds a message stays worth sending (default: the\n"
"                  longest of oob_ttl, enroll_ttl, sms_factor_ttl: 600)\n"
"  --attempts N    failures before a message moves to failed/ (5)\n"
"  --timeout S     seconds PROGRAM may run before it is killed (30)\n"
"  --log-level L   error, warn, info (default) or debug, on stderr\n"
"\n"
"Exit status: 0 after SIGTERM, or with --once after a pass that left no\n"
"message behind a failed gateway; 3 with --once when a gateway failed\n"
"(those messages are left for the next run, and logged); 1 an error (the\n"
"spool cannot be read, was removed, or another mfa-deliver serves it);\n"
"2 a usage error. The code itself is never logged; the address only\n"
"masked.\n";

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
	int64_t next_mono; /* monotonic ms */
	bool seen; /* still in the directory at the last scan */
};

struct agent {
	struct deliver_opts o;
	int dirfd;
	struct pending *pend;
	size_t npend;
	unsigned nleft; /* --once: messages left because the gateway failed */
};

static volatile sig_atomic_t deliver_stop;
/* a byte written here by the handler wakes the wait even when the signal
 * came between the last look at deliver_stop and poll(2) */
static int deliver_wake[2] = { -1, -1 };

static void
deliver_on_signal(int sig)
{
	int saved = errno;
	ssize_t w;

	(void)sig;
	deliver_stop = 1;
	if (deliver_wake[1] >= 0) {
		w = write(deliver_wake[1], "", 1); /* full: a wake is due */
		(void)w;
	}
	errno = saved;
}

static int deliver_usage(const char *fmt, ...) MFA_PRINTF(1, 2);

static int
deliver_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay("mfa-deliver", fmt, ap);
	va_end(ap);
	fputs("(mfa-deliver --help for the usage)\n", stderr);
	return 2;
}

/* The numeric options, their bounds and defaults (-1: from the
 * configuration). */
enum { NUM_MAX_AGE, NUM_ATTEMPTS, NUM_TIMEOUT, NUM__COUNT };
static const struct {
	const char *opt, *what;
	long lo, hi, dflt;
} deliver_nums[NUM__COUNT] = {
	[NUM_MAX_AGE] = { "--max-age", "a number of seconds", 1, 86400, -1 },
	[NUM_ATTEMPTS] = { "--attempts", "a number", 1, 100, 5 },
	[NUM_TIMEOUT] = { "--timeout", "a number of seconds", 1, 3600, 30 },
};

/* Reads a numeric option at argv[*i] into "nums": 0 when argv[*i] is
 * none of them, 1 when read, 2 after a usage error. */
static int
deliver_num_opt(int argc, char **argv, int *i, long nums[NUM__COUNT])
{
	const char *v;
	size_t k;

	for (k = 0; k < NUM__COUNT; k++) {
		if ((v = cli_opt(argc, argv, i, deliver_nums[k].opt)) == NULL)
			continue;
		if (!cli_number(v, deliver_nums[k].lo,
		    deliver_nums[k].hi, &nums[k]))
			return deliver_usage("%s: \"%s\" is not %s from %ld "
			    "to %ld", deliver_nums[k].opt, v,
			    deliver_nums[k].what, deliver_nums[k].lo,
			    deliver_nums[k].hi);
		return 1;
	}
	return 0;
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

/* Counts a failure of "name" that ended at "mono" (monotonic ms); returns
 * its count (0: the table is full, it cannot be remembered). */
static unsigned
pending_fail(struct agent *a, const char *name, int64_t mono)
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
	p->next_mono = mono + 1000 * (int64_t)((1u << shift) <
	    DELIVER_BACKOFF_MAX_S ? (1u << shift) : DELIVER_BACKOFF_MAX_S);
	return p->failures;
}

/* ----------------------------------------------------- moving files */

/* Moves "name" to failed/ (a directory, created 0700 on first use, never
 * followed through a link); forgets it once moved. False when it could not
 * be moved (it is tried again at the next scan, never sent). */
static bool
deliver_set_aside(struct agent *a, const char *name, const char *why)
{
	int fd;

	if (mkdirat(a->dirfd, "failed", 0700) != 0 && errno != EEXIST)
		log_error("deliver: cannot create %s/failed: %s", a->o.spool,
		    strerror(errno));
	fd = openat(a->dirfd, "failed", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || renameat(a->dirfd, name, fd, name) != 0) {
		log_error("deliver: cannot move %s to %s/failed/ (%s): %s",
		    name, a->o.spool, why, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	log_error("deliver: %s moved to failed/: %s", name, why);
	pending_forget(a, name);
	return true;
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
 * returns its length, or -1 with errno (EINVAL: not a regular file,
 * EFBIG: too large, ELOOP: a symbolic link). */
static ssize_t
deliver_read(int dirfd, const char *name, char *buf)
{
	struct stat st;
	ssize_t n, len = 0;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	while (err == 0 && len <= SPOOL_FILE_MAX) {
		n = read(fd, buf + len, (size_t)(SPOOL_FILE_MAX + 1 - len));
		if (n < 0 && errno != EINTR)
			err = errno;
		if (n == 0)
			break;
		if (n > 0)
			len += n;
	}
	close(fd);
	if (err == 0 && len > SPOOL_FILE_MAX)
		err = EFBIG;
	errno = err;
	return err != 0 ? -1 : len;
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

/* Why a message that parsed must not be sent, or NULL. */
static const char *
deliver_refuse(const char *name, const struct spool_in *m, mfa_ms created,
    mfa_ms now)
{
	size_t idlen = strlen(name) - 14 - 5; /* "<13>-" ... ".json" */

	if (created > now + DELIVER_FUTURE_MS)
		return "dated in the future";
	if (strlen(m->challenge_id) != idlen ||
	    strncmp(name + 14, m->challenge_id, idlen) != 0) /* public */
		return "\"challenge_id\" is not the one of the file name";
	return NULL;
}

/* Runs the gateway for parsed message "m"; true when it was sent. */
static bool
deliver_send(struct agent *a, const char *name, const struct spool_in *m)
{
	char why[96], err[192], masked[MFA_DEST_MAX + 1];
	unsigned fails;
	int64_t mono;

	deliver_masked(m, masked, sizeof(masked));
	if (gateway_run(a->o.argv, m, a->o.timeout_s, why, sizeof(why))) {
		log_info("deliver: challenge %s sent by %s to %s",
		    m->challenge_id, m->channel, masked);
		deliver_remove(a, name);
		return true;
	}
	mono = clock_mono_ms(); /* the back-off counts from the end */
	if (a->o.once) {
		a->nleft++;
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "left for the next run", m->challenge_id, m->channel,
		    masked, a->o.argv[0], why);
	} else if ((fails = pending_fail(a, name, mono)) == 0) {
		snprintf(err, sizeof(err), "%s failed (%s) and %d other "
		    "messages wait for a retry already", a->o.argv[0], why,
		    DELIVER_PENDING_MAX);
		(void)deliver_set_aside(a, name, err);
	} else if (fails >= a->o.attempts) {
		snprintf(err, sizeof(err), "%s failed %u times, last: %s",
		    a->o.argv[0], fails, why);
		(void)deliver_set_aside(a, name, err);
	} else {
		log_warn("deliver: challenge %s by %s to %s: %s failed (%s); "
		    "try %u of %u in %lld s", m->challenge_id, m->channel,
		    masked, a->o.argv[0], why, fails + 1, a->o.attempts,
		    (long long)((pending_find(a, name)->next_mono - mono) /
		    1000));
	}
	return false;
}

/* Delivers message "name" (published at "created", wall-clock ms); false
 * when it is left for a later try. */
static bool
deliver_one(struct agent *a, const char *name, mfa_ms created, mfa_ms now)
{
	char buf[SPOOL_FILE_MAX + 1], err[160];
	const struct pending *p = pending_find(a, name);
	const char *refused;
	struct spool_in m;
	ssize_t n;
	bool sent;

	if (p != NULL && p->failures >= a->o.attempts) /* the move failed */
		return deliver_set_aside(a, name, "attempts used up");
	if (now - created > a->o.max_age_ms) {
		log_warn("deliver: %s expired unsent (older than %lld s)",
		    name, (long long)(a->o.max_age_ms / 1000));
		deliver_remove(a, name);
		return true;
	}
	if ((n = deliver_read(a->dirfd, name, buf)) < 0) {
		if (errno == ENOENT) { /* taken by someone */
			pending_forget(a, name);
			return true;
		}
		if (errno == EINVAL || errno == EFBIG || errno == ELOOP)
			return deliver_set_aside(a, name, errno == EFBIG ?
			    "larger than 16384 bytes" : errno == EINVAL ?
			    "not a regular file" : strerror(errno));
		log_warn("deliver: cannot read %s: %s; tried again later",
		    name, strerror(errno));
		return false;
	}
	if (spool_parse(buf, (size_t)n, &m, err, sizeof(err)) != MFA_OK) {
		sodium_memzero(buf, sizeof(buf));
		return deliver_set_aside(a, name, err);
	}
	sodium_memzero(buf, sizeof(buf));
	if ((refused = deliver_refuse(name, &m, created, now)) != NULL)
		sent = deliver_set_aside(a, name, refused);
	else
		sent = deliver_send(a, name, &m);
	sodium_memzero(&m, sizeof(m));
	return sent;
}

/* ------------------------------------------------------------ scans */

static int
deliver_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
deliver_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Appends a copy of "name" to "*names" ("*n" of "*cap"); false (errno)
 * when memory runs out. */
static bool
deliver_add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	char **grown;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		if ((grown = realloc(*names, *cap * sizeof(**names))) == NULL)
			return false;
		*names = grown;
	}
	if (((*names)[*n] = strdup(name)) == NULL)
		return false;
	(*n)++;
	return true;
}

/* The published names in the spool, sorted (oldest first), "*n" of them;
 * NULL with errno when the directory cannot be read whole. */
static char **
deliver_list(struct agent *a, size_t *n)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;
	int fd, err = 0;
	mfa_ms t;
	DIR *d;

	*n = 0;
	if ((fd = dup(a->dirfd)) < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	rewinddir(d);
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
		if (spool_published_name(e->d_name, &t) &&
		    !deliver_add_name(&names, n, &cap, e->d_name))
			break;
	err = errno;
	closedir(d);
	if (err == 0 && names == NULL && (names = calloc(1, sizeof(*names)))
	    == NULL)
		err = ENOMEM;
	if (err != 0) {
		deliver_free_names(names, *n);
		errno = err;
		return NULL;
	}
	if (*n > 1)
		qsort(names, *n, sizeof(*names), deliver_cmp);
	return names;
}

/* True when the spool directory was removed under the agent. */
static bool
deliver_spool_gone(const struct agent *a)
{
	struct stat st;

	return fstat(a->dirfd, &st) != 0 || st.st_nlink == 0;
}

/* Notes in "*next" (monotonic ms, -1: none) the retry of "p". */
static void
deliver_note_retry(const struct pending *p, int64_t *next)
{
	if (*next < 0 || p->next_mono < *next)
		*next = p->next_mono;
}

/*
 * Delivers every published message that is due. Returns 0, with the
 * earliest retry in "*next" (monotonic ms, or -1), or -1 when the spool
 * cannot be read.
 */
static int
deliver_scan(struct agent *a, int64_t *next)
{
	struct pending *p;
	char **names;
	size_t n, i;
	mfa_ms t;

	*next = -1;
	if (deliver_spool_gone(a)) {
		log_error("deliver: the spool %s was removed", a->o.spool);
		return -1;
	}
	if ((names = deliver_list(a, &n)) == NULL) {
		log_error("deliver: cannot read %s: %s", a->o.spool,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < a->npend; i++)
		a->pend[i].seen = false;
	for (i = 0; i < n && !deliver_stop; i++) {
		if ((p = pending_find(a, names[i])) != NULL) {
			p->seen = true;
			if (p->next_mono > clock_mono_ms() && !a->o.once) {
				deliver_note_retry(p, next);
				continue;
			}
		}
		if (spool_published_name(names[i], &t) &&
		    !deliver_one(a, names[i], t, clock_now_ms()) &&
		    (p = pending_find(a, names[i])) != NULL)
			deliver_note_retry(p, next);
	}
	deliver_free_names(names, n);
	/* forget what someone else removed (unless the scan was cut short) */
	for (i = a->npend; i > 0 && !deliver_stop; i--)
		if (!a->pend[i - 1].seen)
			a->pend[i - 1] = a->pend[--a->npend];
	return 0;
}

/* Waits for a message published into the spool, a due retry (monotonic "next"), the
 * rescan or a signal. False when the spool directory itself was moved or
 * removed. */
static bool
deliver_idle(int ino, int64_t next)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	struct pollfd pfd[2] = { { ino, POLLIN, 0 },
		{ deliver_wake[0], POLLIN, 0 } };
	int64_t wait = DELIVER_RESCAN_MS, now = clock_mono_ms();
	ssize_t n, off;

	if (next >= 0 && next - now < wait)
		wait = next > now ? next - now : 0;
	if (poll(pfd, 2, (int)wait) <= 0 || (pfd[0].revents & POLLIN) == 0)
		return true;
	while ((n = read(ino, ev, sizeof(ev))) > 0)
		for (off = 0; off < n; off += (ssize_t)sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(const void *)
			    (ev + off);
			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED))
				return false;
		}
	return true;
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

/* The handlers, and the wake-up pipe; false when it cannot be made. */
static bool
deliver_signals(void)
{
	struct sigaction sa;
	int i;

	if (pipe(deliver_wake) != 0)
		return false;
	for (i = 0; i < 2; i++)
		if (fcntl(deliver_wake[i], F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(deliver_wake[i], F_SETFD, FD_CLOEXEC) != 0)
			return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = deliver_on_signal; /* no SA_RESTART: poll returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* an ignored SIGCHLD survives exec and would reap the gateway
	 * before waitpid could read its status */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	return true;
}

/* Serves the spool until a signal (or once); the exit status. */
static int
deliver_serve(struct agent *a)
{
	int lock, ino = -1, rc = 0;
	int64_t next;

	if ((lock = deliver_lock(a->dirfd, a->o.spool)) < 0)
		return 1;
	if (!a->o.once) {
		ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ino < 0 || inotify_add_watch(ino, a->o.spool,
		    IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_ONLYDIR |
		    IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
			log_error("deliver: cannot watch %s: %s", a->o.spool,
			    strerror(errno));
			rc = 1;
			goto out;
		}
		log_info("deliver: serving %s with %s", a->o.spool,
		    a->o.argv[0]);
	}
	for (;;) {
		if (deliver_scan(a, &next) < 0) {
			rc = 1;
			break;
		}
		if (deliver_stop)
			break;
		if (a->o.once) {
			rc = a->nleft > 0 ? DELIVER_EXIT_LEFT : 0;
			break;
		}
		if (!deliver_idle(ino, next)) {
			log_error("deliver: the spool %s was moved or removed",
			    a->o.spool);
			rc = 1;
			break;
		}
		if (deliver_stop)
			break;
	}
out:
	if (ino >= 0)
		close(ino);
	close(lock);
	return rc;
}

/* Descriptors 0-2 open (on /dev/null if they were closed), so that none
 * of the agent's own lands there; no core dump (it would hold codes). */
static void
deliver_process_setup(void)
{
	struct rlimit none = { 0, 0 };
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		(void)fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
	(void)setrlimit(RLIMIT_CORE, &none);
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
	long nums[NUM__COUNT];
	struct agent a;
	struct config cfg;
	enum log_level level;
	char err[512], dir[PATH_MAX];
	int i, rc;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < NUM__COUNT; i++)
		nums[i] = deliver_nums[i].dflt;
	deliver_process_setup();
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
		} else if ((rc = deliver_num_opt(argc, argv, &i, nums)) != 0) {
			if (rc == 2)
				return 2;
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
	a.o.max_age_ms = nums[NUM_MAX_AGE] > 0 ?
	    (int64_t)nums[NUM_MAX_AGE] * 1000 :
	    deliver_default_age(&cfg);
	a.o.attempts = (unsigned)nums[NUM_ATTEMPTS];
	a.o.timeout_s = (int)nums[NUM_TIMEOUT];
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
	if (!deliver_signals()) {
		log_error("deliver: cannot set up signals: %s", strerror(errno));
		rc = 1;
	} else {
		rc = deliver_serve(&a);
	}
	free(a.pend);
	close(a.dirfd);
	return rc;
}
