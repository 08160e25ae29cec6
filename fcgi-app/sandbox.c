/*
 * sandbox.c -- the worker's seccomp allow-list, built with libseccomp.
 *
 * Entered last, after everything the worker opens at start is open and
 * after the privilege drop: from then on a worker that is taken over
 * cannot run a program, fork, trace, change identity, open network
 * sockets or bind. The list is by name, so a name that does not exist on
 * this architecture (open on arm64) is skipped, not an error.
 *
 * Debug mode (sandbox = log) traps instead of killing: the SIGSYS handler
 * writes the system call's number to stderr (with write(2): it runs in a
 * signal handler) and makes the call fail with ENOSYS, so a missing entry
 * shows in the log while the worker keeps serving. scmp_sys_resolver(1)
 * names the number.
 */
#define _GNU_SOURCE /* REG_RAX in <sys/ucontext.h> */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/ucontext.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* Allowed without argument checks. */
static const char *const sandbox_allowed[] = {
	/* descriptors and the FastCGI socket */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "close", "dup", "dup2",
	"dup3", "fcntl", "flock", "accept", "accept4", "recvfrom", "sendto",
	"recvmsg", "sendmsg", "shutdown", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "connect", "select", "pselect6", "poll",
	"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_ctl",
	"ppoll",
	/* files: LMDB's (its lock file is created on open). No link,
	 * rename, unlink, mkdir, rmdir, chmod or utimensat: a worker writes
	 * no file of its own since the outbox moved into the store, so one
	 * taken over cannot remove, replace or expose (chmod) the store's
	 * files or the master key */
	"open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx",
	"fstatfs", "statfs", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getdents64", "getcwd",
	"fsync", "fdatasync", "msync", "sync_file_range", "ftruncate", "fallocate",
	"fadvise64",
	/* memory (malloc, LMDB's map, sodium_malloc's guarded pages) */
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "mlock",
	"mlock2", "munlock", "mincore",
	/* time, randomness, threads' bookkeeping */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "futex", "set_robust_list",
	"get_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	/* identity (read only) and limits */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
	"getegid", "getgroups", "getresuid", "getresgid", "uname", "sysinfo",
	"getrlimit", "prlimit64", "getrusage",
	/* signals and the end */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
	"sigaltstack", "restart_syscall", "exit", "exit_group",
};

/* Written by the debug-mode handler; formatted without stdio. */
static void
sandbox_on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char buf[160], num[24];
	size_t n = 0, k = 0, i;
	int nr = si->si_syscall, saved = errno;
	unsigned v = nr < 0 ? 0u - (unsigned)nr : (unsigned)nr;
	const char *a = "mfa.fcgi: warn: sandbox: system call ",
	    *b = " is not on the allow-list; refused with ENOSYS "
		"(debug mode)\n";
	ucontext_t *uc = uctx;

	(void)sig;
	do {
		num[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && k < sizeof(num) - 1);
	if (nr < 0)
		num[k++] = '-';
	for (i = 0; a[i] != '\0' && n < sizeof(buf); i++)
		buf[n++] = a[i];
	while (k > 0 && n < sizeof(buf))
		buf[n++] = num[--k];
	for (i = 0; b[i] != '\0' && n < sizeof(buf); i++)
		buf[n++] = b[i];
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nowhere to report it */
	}
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-ENOSYS;
#else
	(void)uc;
#endif
	errno = saved;
}

/* The rules with argument checks. Returns 0 or a negative errno. */
static int
sandbox_add_checked(scmp_filter_ctx ctx)
{
	pid_t self = getpid();
	int rc;

	/* syslog's socket; never a network socket. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) != 0)
		return rc;
	/* isatty() and non-blocking switches only. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONBIO, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0))) != 0)
		return rc;
	/* abort() and raise() signal this process only. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0))) != 0)
		return rc;
	return 0;
}

/*
 * Builds and loads the filter for "mode" (see sandbox.h). Returns MFA_OK
 * or MFA_ERR_IO with the failing step in "err".
 */
int
sandbox_enter(enum config_sandbox mode, char *err, size_t errlen)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rc = 0;

	if (mode == CONFIG_SANDBOX_OFF)
		return MFA_OK;
	if (mode == CONFIG_SANDBOX_LOG) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sandbox_on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) != 0) {
			snprintf(err, errlen, "sandbox: sigaction(SIGSYS): %s",
			    strerror(errno));
			return MFA_ERR_IO;
		}
	}
	ctx = seccomp_init(mode == CONFIG_SANDBOX_LOG ? SCMP_ACT_TRAP :
	    SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		snprintf(err, errlen, "sandbox: seccomp_init failed");
		return MFA_ERR_IO;
	}
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]);
	    i++) {
		nr = seccomp_syscall_resolve_name(sandbox_allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0) {
			snprintf(err, errlen, "sandbox: cannot allow %s: %s",
			    sandbox_allowed[i], strerror(-rc));
			goto out;
		}
	}
	if ((rc = sandbox_add_checked(ctx)) != 0) {
		snprintf(err, errlen, "sandbox: cannot add a checked rule: %s",
		    strerror(-rc));
		goto out;
	}
	/* seccomp_load sets no_new_privs first (SCMP_FLTATR_CTL_NNP). */
	if ((rc = seccomp_load(ctx)) != 0)
		snprintf(err, errlen, "sandbox: cannot load the seccomp "
		    "filter: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc == 0 ? MFA_OK : MFA_ERR_IO;
}

/*
 * Reads the "Seccomp:" line of /proc/self/status: true when a filter is
 * in force (mode 2). False when it cannot be read.
 */
bool
sandbox_is_active(void)
{
	char line[256];
	bool on = false;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Seccomp:", 8) == 0)
			on = strtol(line + 8, NULL, 10) == 2;
	fclose(f);
	return on;
}
