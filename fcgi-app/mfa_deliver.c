/*
 * mfa_deliver.c -- mfa-deliver: hands each out-of-band message waiting for
 * delivery to a gateway program (an SMS API script, sendmail) and removes
 * it once sent (how, in mfa_deliver.h). This file: the options, opening
 * the spool and the store, the locks, the serve loop, the wait between
 * scans (inotify, the gap between two scans) and the signals.
 */
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
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "jsonmem.h"
#include "log.h"
#include "mfa_deliver.h"
#include "store.h"

static const char usage_text[] =
"usage: mfa-deliver [--db DIR] [--spool DIR] [--config FILE] [--once]\n"
"                   [--max-age S] [--attempts N] [--timeout S]\n"
"                   [--log-level L] -- PROGRAM [ARG ...]\n"
"\n"
"Sends the out-of-band codes that mfa.fcgi queues in the outbox of its\n"
"store (and the message files of its spool directory, which earlier\n"
"versions and other programs write): for each message (oldest first) it\n"
"runs PROGRAM with the text to send on standard input and these\n"
"variables in its environment:\n"
"  MFA_CHANNEL       sms, voice or email\n"
"  MFA_TO            the phone number (E.164) or e-mail address\n"
"  MFA_USER_ID, MFA_CHALLENGE_ID, MFA_CREATED_AT\n"
"PROGRAM exits 0 when the message was handed over: it is removed.\n"
"Any other exit, a signal or --timeout is a failure: the message is tried\n"
"again after 1, 2, 4 ... 60 s, and after --attempts failures it is set\n"
"aside in <spool>/failed/. A message that is not valid goes there at\n"
"once; one older than --max-age is dropped unsent (its code has expired).\n"
"\n"
"  --db DIR        the store (else MFA_DB, the configuration's db,\n"
"                  ./var); the spool is DIR/spool unless MFA_SPOOL or the\n"
"                  configuration's spool names another\n"
"  --spool DIR     the spool directory itself (else MFA_SPOOL, the\n"
"                  configuration's spool, <db>/spool); named without a\n"
"                  store (no --db, no MFA_DB, db left at ./var), only its\n"
"                  files are delivered\n"
"  --config FILE   the service's configuration file (else MFA_CONFIG)\n"
"  --once          deliver what is there, then exit (for cron): a message\n"
"                  whose gateway fails stays for the next run, until\n"
"                  --max-age; without it mfa-deliver waits for new\n"
"                  messages until SIGTERM (woken by the store's commits\n"
"                  and by files put in the spool)\n"
"  --max-age S     seconds a message stays worth sending (default: the\n"
"                  longest of oob_ttl, enroll_ttl, sms_factor_ttl: 600)\n"
"  --attempts N    failures before a message is set aside in failed/ (5)\n"
"  --timeout S     seconds PROGRAM may run before it is killed (30)\n"
"  --log-level L   error, warn, info (default) or debug, on stderr\n"
"\n"
"Exit status: 0 after SIGTERM, or with --once after a pass that left no\n"
"message behind a failed gateway; 3 with --once when a gateway failed\n"
"(those messages are left for the next run, and logged); 1 an error (the\n"
"store or the spool cannot be opened, read or synced, the spool was\n"
"removed, another mfa-deliver serves either, or with --once a message\n"
"could not be read, moved to failed/ or removed: the next run tries\n"
"again, and sends a sent one again; 1 wins over 3); 2 a usage error. The\n"
"code itself is never logged; the address only masked.\n";

volatile sig_atomic_t deliver_stop;
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

/* ----------------------------------------------------------- waiting */

/* Reads the inotify events waiting on "ino"; false when the spool
 * directory itself was moved or removed. */
static bool
deliver_drain(const struct agent *a, int ino)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	ssize_t n, off;

	while ((n = read(ino, ev, sizeof(ev))) > 0)
		for (off = 0; off < n; off += (ssize_t)sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(const void *)
			    (ev + off);
			if (e->wd == a->spool_wd && (e->mask &
			    (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
				return false;
		}
	return true;
}

/*
 * Waits for a message (a file put in the spool, a commit to the store), a
 * due retry (monotonic "next"), the rescan or a signal. False when the
 * spool directory itself was moved or removed.
 */
static bool
deliver_idle(struct agent *a, int ino, int64_t next)
{
	struct pollfd pfd[2] = { { ino, POLLIN, 0 },
		{ deliver_wake[0], POLLIN, 0 } };
	int64_t wait = DELIVER_RESCAN_MS, now = clock_mono_ms();

	if (next >= 0 && next - now < wait)
		wait = next > now ? next - now : 0;
	if (poll(pfd, 2, (int)wait) <= 0 || (pfd[0].revents & POLLIN) == 0)
		return true;
	if (!deliver_drain(a, ino))
		return false;
	/*
	 * A busy service commits thousands of times a second, each commit an
	 * event: the next scan begins DELIVER_SCAN_GAP_MS after the last one
	 * began, and takes in what was committed meanwhile, so an idle
	 * service costs nothing and a busy one at most 40 scans a second.
	 */
	wait = a->scanned_mono + DELIVER_SCAN_GAP_MS - clock_mono_ms();
	if (wait <= 0)
		return true;
	(void)poll(&pfd[1], 1, (int)wait); /* a signal cuts it short */
	return deliver_drain(a, ino);
}

/* ------------------------------------------------------------- setup */

/* Takes an flock(2) on "fd" for as long as the agent runs: one agent per
 * spool, and one per store ("dir"). False (logged) when another has it. */
static bool
deliver_lock(int fd, const char *dir)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return true;
	log_error("deliver: another mfa-deliver serves %s", dir);
	return false;
}

/*
 * The inotify descriptor watching the spool directory and, with a store,
 * its data.mdb (every commit writes it); -1 (logged) when it cannot be
 * made.
 */
static int
deliver_watch(struct agent *a)
{
	char path[PATH_MAX];
	int ino, n;

	if ((ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    (a->spool_wd = inotify_add_watch(ino, a->o.spool, IN_MOVED_TO |
	    IN_CREATE | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DELETE_SELF |
	    IN_MOVE_SELF)) < 0) {
		log_error("deliver: cannot watch %s: %s", a->o.spool,
		    strerror(errno));
		goto fail;
	}
	if (a->st == NULL)
		return ino;
	n = snprintf(path, sizeof(path), "%s/data.mdb", a->o.db);
	if (n < 0 || (size_t)n >= sizeof(path))
		errno = ENAMETOOLONG;
	else if (inotify_add_watch(ino, path, IN_MODIFY) >= 0)
		return ino;
	log_error("deliver: cannot watch %s/data.mdb: %s", a->o.db,
	    strerror(errno));
fail:
	if (ino >= 0)
		close(ino);
	return -1;
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

/* Serves the outbox and the spool until a signal (or once); the exit
 * status. */
static int
deliver_serve(struct agent *a)
{
	int lock, ino = -1, rc = 1;
	int64_t next;

	lock = openat(a->dirfd, ".deliver.lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (lock < 0) {
		log_error("deliver: cannot open %s/.deliver.lock: %s",
		    a->o.spool, strerror(errno));
		return 1;
	}
	/* the store's lock is on its directory, which nothing else locks:
	 * no file of its own to leave in the store */
	if (!deliver_lock(lock, a->o.spool) ||
	    (a->st != NULL && !deliver_lock(a->dbfd, a->o.db)))
		goto out;
	if (!a->o.once) {
		if ((ino = deliver_watch(a)) < 0)
			goto out;
		if (a->st != NULL)
			log_info("deliver: serving the outbox of %s and %s "
			    "with %s", a->o.db, a->o.spool, a->o.argv[0]);
		else
			log_info("deliver: serving %s with %s", a->o.spool,
			    a->o.argv[0]);
	}
	for (;;) {
		if (deliver_scan(a, &next) < 0)
			break;
		if (deliver_stop) {
			rc = 0;
			break;
		}
		if (a->o.once) {
			rc = a->nstuck > 0 ? 1 : a->nleft > 0 ?
			    DELIVER_EXIT_LEFT : 0;
			break;
		}
		if (!deliver_idle(a, ino, next)) {
			log_error("deliver: the spool %s was moved or removed",
			    a->o.spool);
			break;
		}
		if (deliver_stop) {
			rc = 0;
			break;
		}
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

/*
 * Whether the outbox is served: always, but for a spool named on its own
 * (--spool, MFA_SPOOL, the configuration's spool) with no store named
 * ("db": --db; no MFA_DB; the configuration's db left at its default), a
 * spool that another program fills, where ./var is nobody's store.
 */
static bool
deliver_wants_store(const char *db, const struct config *cfg)
{
	struct config def;

	if (cfg->spool[0] == '\0' || db != NULL || getenv("MFA_DB") != NULL)
		return true;
	config_defaults(&def);
	return strcmp(cfg->db, def.db) != 0;
}

/*
 * Opens the store of "cfg" (its directory as a->dbfd, for the lock) and
 * joins the service's group commit: every commit of the agent is synced,
 * and the challenges the workers queued are committed now, with their
 * messages. False (logged) when it cannot be opened.
 */
static bool
deliver_open_store(struct agent *a, const struct config *cfg)
{
	int rc;

	if ((a->dbfd = open(cfg->db, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0) {
		log_error("deliver: cannot open the store %s: %s", cfg->db,
		    strerror(errno));
		return false;
	}
	/* where there is none, LMDB would make an empty one */
	if (faccessat(a->dbfd, "data.mdb", F_OK, 0) != 0) {
		log_error("deliver: no store at %s: data.mdb: %s", cfg->db,
		    strerror(errno));
		return false;
	}
	if ((rc = store_open(&a->st, cfg->db, cfg->map_size, 0)) != MFA_OK) {
		log_error("deliver: cannot open the store %s: %s", cfg->db,
		    mfa_strerror(rc));
		return false;
	}
	if ((rc = store_sync_attach(a->st)) != MFA_OK)
		log_warn("deliver: the challenges queued in %s/sync.state are "
		    "not committed (%s): their messages come when the "
		    "service commits them", cfg->db, mfa_strerror(rc));
	return true;
}

/* Opens the spool, and the store unless only the spool is named, and
 * serves them; the exit status. */
static int
deliver_run(struct agent *a, const char *db, const struct config *cfg)
{
	int rc = 1;

	a->dbfd = -1;
	if ((a->dirfd = open(a->o.spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0) {
		log_error("deliver: cannot open the spool %s: %s", a->o.spool,
		    strerror(errno));
		return 1;
	}
	if (!deliver_wants_store(db, cfg))
		log_info("deliver: no store named: only the files of %s are "
		    "delivered", a->o.spool);
	else if (!deliver_open_store(a, cfg))
		goto out;
	else
		a->o.db = cfg->db;
	if ((a->pend = calloc(DELIVER_PENDING_MAX, sizeof(*a->pend))) == NULL)
		log_error("deliver: out of memory");
	else if (!deliver_signals())
		log_error("deliver: cannot set up signals: %s",
		    strerror(errno));
	else
		rc = deliver_serve(a);
out:
	free(a->pend);
	store_close(a->st);
	if (a->dbfd >= 0)
		close(a->dbfd);
	close(a->dirfd);
	return rc;
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
	jsonmem_init();
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
	return deliver_run(&a, db, &cfg);
}
