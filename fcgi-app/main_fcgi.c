/*
 * main_fcgi.c -- mfa.fcgi: reads the configuration, checks the store,
 * then serves FastCGI in one of three process models:
 *
 *  - FD 0 is a listening socket and one worker is wanted (the default
 *    there): serve in this very process; the web server (mod_fcgid,
 *    lighttpd bin-path, spawn-fcgi) manages the processes.
 *  - FD 0 with workers >= 2: the supervisor forks that many on FD 0.
 *  - --listen / listen: the supervisor opens the socket and forks the
 *    workers (4 unless configured).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "jsonmem.h"
#include "log.h"
#include "mfa.h"
#include "privdrop.h"
#include "sandbox.h"
#include "supervisor.h"
#include "worker.h"

#define MAIN_PROGNAME "mfa.fcgi"
#define MAIN_AUTO_WORKERS_LISTEN 4

enum main_exit {
	MAIN_EXIT_OK = 0,	/* done; clean stop */
	MAIN_EXIT_FAIL = 1,	/* store, socket, fork or worker failed */
	MAIN_EXIT_USAGE = 2,	/* bad usage or configuration */
};

/* The command line, kept for re-reading the configuration on SIGHUP. */
struct main_opts {
	const char *config;	/* --config FILE, or NULL */
	const char *listen;	/* --listen SPEC, or NULL */
	const char *workers;	/* --workers N, or NULL */
	bool print_config;
	bool check;
	bool lockdown_test;
	const struct config *live; /* the configuration in effect */
};

static void
main_usage(FILE *out)
{

	fputs(
"usage: mfa.fcgi [--config FILE] [--listen unix:PATH|HOST:PORT]\n"
"                [--workers N] [--print-config] [--check]\n"
"                [--lockdown-test] [--help] [--version]\n"
"\n"
"A FastCGI responder for multi-factor challenges (Auth0- and\n"
"WorkOS-compatible HTTP API), backed by an LMDB store made with\n"
"\"mfactl --db DIR init\".\n"
"\n"
"Process model:\n"
"  FD 0 is a listening socket (lighttpd bin-path, mod_fcgid, spawn-fcgi)\n"
"      workers 0 or 1: this process serves, the web server manages\n"
"      processes; workers N >= 2: a supervisor forks N workers on FD 0.\n"
"  --listen (or the listen key)\n"
"      the supervisor opens the socket and forks N workers (0 means 4).\n"
"  The supervisor respawns a worker that dies (100 ms back-off, doubling\n"
"  up to respawn_max_delay while workers keep dying young).\n"
"\n"
"Options:\n"
"  -c, --config FILE   read FILE: \"key = value\" lines, '#' comments.\n"
"                      Without it, $MFA_CONFIG names the file, if set.\n"
"  -l, --listen SPEC   open the socket: unix:PATH (mode 0660, a stale\n"
"                      socket file is replaced), HOST:PORT or :PORT\n"
"                      (IPv4; an empty host means every interface).\n"
"  -w, --workers N     worker processes, 0..256; 0 is automatic: 1 on\n"
"                      FD 0, 4 with --listen.\n"
"      --print-config  print the configuration in effect (file syntax)\n"
"                      and exit.\n"
"      --check         check the configuration and the store, print\n"
"                      \"ok\" and exit; opens no socket.\n"
"      --lockdown-test lock down as a worker does (user, sandbox) in a\n"
"                      child per probe and try what is forbidden (execve,\n"
"                      fork, socket(AF_INET), setuid(0), unlink, rename,\n"
"                      link, chmod) and what serving needs (file I/O);\n"
"                      one line per probe, exit 0 when all is as it\n"
"                      should be.\n"
"  -h, --help          print this text and exit.\n"
"  -V, --version       print the version and exit.\n"
"\n"
"Precedence: built-in defaults < file < MFA_* environment < options.\n"
"\n"
"Environment (each MFA_<KEY> sets the file key <key>):\n"
"  MFA_CONFIG             the configuration file when --config is absent\n",
	    out);
	config_usage(out);
	fputs(
"\n"
"Signals (to the supervisor):\n"
"  TERM, INT  workers finish their requests in flight and exit (SIGKILL\n"
"             after 30 s); the supervisor removes its unix socket, exits.\n"
"  HUP        re-read the configuration (file and environment) and, if\n"
"             it is valid, replace the workers one at a time. listen and\n"
"             workers take effect only at the next start.\n"
"\n"
"Examples:\n"
"  Standalone, behind any FastCGI client:\n"
"    mfa.fcgi --config /etc/mfa/mfa.conf --listen 127.0.0.1:9000 -w 8\n"
"\n"
"  lighttpd starts it (FD 0); in lighttpd.conf:\n"
"    server.modules += ( \"mod_fastcgi\" )\n"
"    fastcgi.server = ( \"/\" => ((\n"
"        \"socket\" => \"/run/lighttpd/mfa.sock\",\n"
"        \"bin-path\" => \"/usr/local/bin/mfa.fcgi\",\n"
"        \"bin-environment\" => ( \"MFA_CONFIG\" => \"/etc/mfa/mfa.conf\" ),\n"
"        \"max-procs\" => 1, \"check-local\" => \"disable\" )) )\n"
"\n"
"  spawn-fcgi starts it, nginx talks to it:\n"
"    MFA_CONFIG=/etc/mfa/mfa.conf MFA_WORKERS=4 spawn-fcgi \\\n"
"        -s /run/mfa/mfa.sock -M 0660 -U www-data -u mfa -g mfa \\\n"
"        -- /usr/local/bin/mfa.fcgi\n"
"    nginx: location / { include fastcgi_params;\n"
"                        fastcgi_pass unix:/run/mfa/mfa.sock; }\n"
"\n"
"  Check a configuration before a reload:\n"
"    mfa.fcgi --config /etc/mfa/mfa.conf --check && kill -HUP PID\n"
"\n"
"Exit status:\n"
"  0  success; a clean stop after SIGTERM or SIGINT.\n"
"  1  the store check failed, the socket could not be opened, no worker\n"
"     could be forked, or the worker failed.\n"
"  2  usage or configuration error, or FD 0 is not a listening socket.\n"
"\n"
"See mfa.fcgi(8), mfactl(8), spawn.conf(5).\n",
	    out);
}

/*
 * Loads the configuration (defaults < file < environment) and applies
 * the command-line options on top, with the same checks. Returns MFA_OK
 * or an error with a sentence in "err".
 */
static int
main_configure(struct config *cfg, const struct main_opts *o, char *err,
    size_t errlen)
{
	char msg[512];
	int rc;

	if ((rc = config_load(cfg, o->config, err, errlen)) != MFA_OK)
		return rc;
	if (o->listen != NULL &&
	    config_set(cfg, "listen", o->listen, msg, sizeof(msg)) != MFA_OK) {
		snprintf(err, errlen, "--listen: %s", msg);
		return MFA_ERR_CONFIG;
	}
	if (o->workers != NULL &&
	    config_set(cfg, "workers", o->workers, msg, sizeof(msg)) !=
	    MFA_OK) {
		snprintf(err, errlen, "--workers: %s", msg);
		return MFA_ERR_CONFIG;
	}
	return MFA_OK;
}

/*
 * The supervisor's SIGHUP hook: the same sequence as at start, then the
 * store check. The socket and the number of workers stay as they are.
 */
static int
main_reload(struct config *next, void *arg, char *err, size_t errlen)
{
	const struct main_opts *o = arg;
	int rc;

	if ((rc = main_configure(next, o, err, errlen)) != MFA_OK)
		return rc;
	if (strcmp(next->listen, o->live->listen) != 0) {
		log_warn("reload: listen changed to '%s'; it takes effect at "
		    "the next start", next->listen);
		memcpy(next->listen, o->live->listen,
		    strlen(o->live->listen) + 1);
	}
	if (next->workers != o->live->workers) {
		log_warn("reload: workers changed to %d; it takes effect at "
		    "the next start", next->workers);
		next->workers = o->live->workers;
	}
	if ((rc = worker_preflight(next, err, errlen)) != MFA_OK)
		return rc;
	log_init(MAIN_PROGNAME, next->log_level);
	log_destination((enum config_log)next->log);
	return MFA_OK;
}

/* What a probe of --lockdown-test tries once the worker is locked down. */
enum main_probe {
	PROBE_SETUID,	/* setuid(0), after the privilege drop only */
	PROBE_EXECVE,	/* execve("/bin/true") */
	PROBE_FORK,	/* fork() */
	PROBE_INET,	/* socket(AF_INET) */
	PROBE_FILES,	/* what serving needs: files, time, randomness */
	PROBE_UNLINK,	/* unlink() of a file in the probe's directory */
	PROBE_RENAME,	/* rename() of it */
	PROBE_LINK,	/* link() to it */
	PROBE_CHMOD,	/* chmod() of it */
};

/*
 * Runs in a child after the privilege drop and before the sandbox: the
 * probe's directory "dir" (made by the user the worker runs as) and a
 * file "probe" in it (the sandbox allows neither mkdir nor unlink, so
 * the parent removes them: main_probe_clean).
 */
static int
main_probe_prepare(const char *dir)
{
	char a[PATH_MAX];
	int fd;

	snprintf(a, sizeof(a), "%.200s/probe", dir);
	if (mkdir(dir, 0700) != 0 ||
	    (fd = open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno;
	return close(fd) == 0 ? 0 : errno;
}

/* Removes what a probe in "dir" left. */
static void
main_probe_clean(const char *dir)
{
	static const char *const names[] = { "probe", "probe.tmp",
		"probe.new", "probe.link" };
	char a[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(a, sizeof(a), "%.200s/%s", dir, names[i]);
		(void)unlink(a);
	}
	(void)rmdir(dir);
}

/* Runs in a child: 0 when the call succeeded, else its errno. */
static int
main_probe_run(enum main_probe p, const char *dir)
{
	char *const argv[] = { (char *)"true", NULL };
	char a[PATH_MAX], b[PATH_MAX];
	struct timespec ts;
	unsigned char r[16];
	pid_t pid;
	int fd;

	switch (p) {
	case PROBE_SETUID:
		return setuid(0) == 0 ? 0 : errno;
	case PROBE_EXECVE:
		execv("/bin/true", argv);
		return errno;
	case PROBE_FORK:
		if ((pid = fork()) == 0)
			_exit(0);
		return pid > 0 ? 0 : errno;
	case PROBE_INET:
		return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : errno;
	case PROBE_FILES:
		snprintf(a, sizeof(a), "%.200s/probe.tmp", dir);
		if ((fd = open(a, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0 ||
		    write(fd, "x", 1) != 1 || fsync(fd) != 0 ||
		    pread(fd, r, 1, 0) != 1 || r[0] != 'x' || close(fd) != 0 ||
		    clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
		    getentropy(r, sizeof(r)) != 0)
			return errno != 0 ? errno : EIO;
		return 0;
	case PROBE_CHMOD:
		snprintf(a, sizeof(a), "%.200s/probe", dir);
		return chmod(a, 0644) != 0 ? errno : 0;
	case PROBE_UNLINK:
	case PROBE_RENAME:
	case PROBE_LINK:
		snprintf(a, sizeof(a), "%.200s/probe", dir);
		snprintf(b, sizeof(b), "%.200s/probe.%s", dir,
		    p == PROBE_LINK ? "link" : "new");
		if ((p == PROBE_UNLINK ? unlink(a) : p == PROBE_RENAME ?
		    rename(a, b) : link(a, b)) != 0)
			return errno;
		return 0;
	}
	return EINVAL;
}

/*
 * --lockdown-test: for each probe, a child locks itself down as a worker
 * does (privilege drop to "user" when root, the sandbox of "sandbox")
 * and tries one thing; one line per probe says what happened. Exit 0 when
 * everything forbidden was stopped and file I/O worked, else 1.
 */
static int
main_lockdown_test(const struct config *cfg)
{
	static const struct {
		enum main_probe p;
		const char *name;
		bool sandbox;
		bool allowed;
	} probes[] = {
		{ PROBE_SETUID, "setuid(0) after the drop", false, false },
		{ PROBE_EXECVE, "execve", true, false },
		{ PROBE_FORK, "fork", true, false },
		{ PROBE_INET, "socket(AF_INET)", true, false },
		{ PROBE_SETUID, "setuid(0) in the sandbox", true, false },
		{ PROBE_UNLINK, "unlink", true, false },
		{ PROBE_RENAME, "rename", true, false },
		{ PROBE_LINK, "link", true, false },
		{ PROBE_CHMOD, "chmod", true, false },
		{ PROBE_FILES, "file I/O (open, create, write, fsync, read), "
		    "clock, randomness", true, true },
	};
	char pdir[PATH_MAX + 16];
	char dir[PATH_MAX], err[512];
	bool ok = true;
	size_t i;
	int status, rc;
	pid_t pid;

	snprintf(dir, sizeof(dir), "/tmp/mfa-lockdown-%ld", (long)getpid());
	printf("identity: %s; user = \"%s\"; sandbox = %s\n",
	    privdrop_is_root() ? "root" : "not root", cfg->user,
	    cfg->sandbox == CONFIG_SANDBOX_ON ? "on" :
	    cfg->sandbox == CONFIG_SANDBOX_LOG ? "log" : "off");
	fflush(stdout);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if ((pid = fork()) < 0) {
			perror("fork");
			return MAIN_EXIT_FAIL;
		}
		snprintf(pdir, sizeof(pdir), "%s-%zu", dir, i);
		if (pid == 0) {
			if (privdrop_to(cfg->user, err, sizeof(err)) != MFA_OK) {
				fprintf(stderr, "%s\n", err);
				_exit(125);
			}
			if ((rc = main_probe_prepare(pdir)) != 0) {
				fprintf(stderr, "%s: %s\n", pdir, strerror(rc));
				_exit(125);
			}
			if (probes[i].sandbox && sandbox_enter(
			    (enum config_sandbox)cfg->sandbox, err,
			    sizeof(err)) != MFA_OK) {
				fprintf(stderr, "%s\n", err);
				_exit(126);
			}
			rc = main_probe_run(probes[i].p, pdir);
			_exit(rc > 0 && rc < 120 ? rc : rc == 0 ? 0 : 124);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		main_probe_clean(pdir);
		if (WIFSIGNALED(status)) {
			printf("%s: killed by %s\n", probes[i].name,
			    WTERMSIG(status) == SIGSYS ? "SIGSYS" :
			    strsignal(WTERMSIG(status)));
			ok = ok && !probes[i].allowed;
		} else if (WEXITSTATUS(status) == 0) {
			printf("%s: %s\n", probes[i].name, probes[i].allowed ?
			    "ok" : "ALLOWED");
			ok = ok && probes[i].allowed;
		} else if (WEXITSTATUS(status) >= 124) {
			printf("%s: could not lock down\n", probes[i].name);
			ok = false;
		} else {
			printf("%s: refused (%s)\n", probes[i].name,
			    strerror(WEXITSTATUS(status)));
			ok = ok && !probes[i].allowed;
		}
		fflush(stdout);
	}
	return ok ? MAIN_EXIT_OK : MAIN_EXIT_FAIL;
}

/* Is FD 0 a socket in the listening state? */
static bool
main_stdin_is_listening(void)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0)
		return false;
	return v != 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "check", no_argument, NULL, 'C' },
		{ "lockdown-test", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct main_opts o;
	struct config cfg;
	char err[1024];
	int ch, fd, n, rc;

	jsonmem_init();
	memset(&o, 0, sizeof(o));
	o.live = &cfg;
	while ((ch = getopt_long(argc, argv, "c:l:w:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'w':
			o.workers = optarg;
			break;
		case 'P':
			o.print_config = true;
			break;
		case 'C':
			o.check = true;
			break;
		case 'T':
			o.lockdown_test = true;
			break;
		case 'h':
			main_usage(stdout);
			return MAIN_EXIT_OK;
		case 'V':
			puts(MAIN_PROGNAME " " MFA_VERSION);
			return MAIN_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help'.\n", MAIN_PROGNAME);
			return MAIN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; try '%s "
		    "--help'.\n", MAIN_PROGNAME, argv[optind], MAIN_PROGNAME);
		return MAIN_EXIT_USAGE;
	}

	if (main_configure(&cfg, &o, err, sizeof(err)) != MFA_OK) {
		fprintf(stderr, "%s: %s\n", MAIN_PROGNAME, err);
		return MAIN_EXIT_USAGE;
	}
	log_init(MAIN_PROGNAME, cfg.log_level);
	if (o.lockdown_test)
		return main_lockdown_test(&cfg);
	if (!o.print_config && !o.check)
		log_destination((enum config_log)cfg.log);
	if (o.print_config) {
		config_dump(&cfg, stdout);
		return fflush(stdout) == 0 ? MAIN_EXIT_OK : MAIN_EXIT_FAIL;
	}
	if (worker_preflight(&cfg, err, sizeof(err)) != MFA_OK) {
		log_error("%s", err);
		return MAIN_EXIT_FAIL;
	}
	if (o.check) {
		puts("ok");
		return MAIN_EXIT_OK;
	}

	if (cfg.listen[0] != '\0') {
		n = cfg.workers != 0 ? cfg.workers : MAIN_AUTO_WORKERS_LISTEN;
		if ((fd = conn_listen(cfg.listen, err, sizeof(err))) <
		    0) {
			log_error("%s", err);
			return MAIN_EXIT_FAIL;
		}
		log_info("listening on %s", cfg.listen);
		rc = supervisor_run(&cfg, fd, n, worker_main, main_reload, &o);
		close(fd);
		return rc;
	}
	if (!main_stdin_is_listening()) {
		fprintf(stderr, "%s: stdin is not a FastCGI listening socket: "
		    "start me from a web server (lighttpd bin-path, "
		    "mod_fcgid, spawn-fcgi) or use --listen\n", MAIN_PROGNAME);
		return MAIN_EXIT_USAGE;
	}
	n = cfg.workers != 0 ? cfg.workers : 1;
	if (n == 1)
		return worker_main(&cfg, STDIN_FILENO, NULL);
	return supervisor_run(&cfg, STDIN_FILENO, n, worker_main, main_reload,
	    &o);
}
