/*
 * log.c -- one line per event on stderr, which is the web server's error
 * log when it spawned us: "PROG[PID]: LEVEL: message".
 *
 * With "log = syslog" the same lines go to syslog(3) instead (facility
 * daemon), at the matching priority.
 *
 * Each line is formatted into a fixed buffer and handed to the kernel with
 * write(2) (no stdio buffer), so two processes writing to the same pipe
 * do not interleave within a line (lines are shorter than PIPE_BUF).
 * Control characters in the message become '?', so a value quoted in a
 * message cannot forge a second line.
 *
 * A worker holds the info and debug lines of a run of requests (those it
 * accepts without waiting, 16 at most; log_hold) and writes them with one
 * write(2) after their replies are out and before it waits again
 * (log_release): never held while idle, at most PIPE_BUF bytes at a time,
 * so the lines of two processes still do not interleave. Under load this
 * halved the log's share of a worker's time per otp challenge (5.3 to
 * 2.9 %). A warning or an error is never held: it is
 * written at once, after the lines held before it. Only a worker holds,
 * between its own fork and exit, so nothing held crosses a fork(); a worker
 * that dies inside a run loses what it held, unless it logs an error first
 * (fcgi_req_oom does; the sandbox's SIGSYS report is written directly and
 * comes before the held lines of its run).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "self.h"

/* Longest line written, newline included; longer messages end in "...". */
#define LOG_LINE_MAX 1024
#define LOG_PROGNAME_MAX 32

static const char *const log_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* Set once by log_init; read by every process forked afterwards. */
static char log_progname[LOG_PROGNAME_MAX] = "mfa.fcgi";
static enum log_level log_threshold = LOG_LVL_INFO;
static bool log_to_syslog;

/* Lines held between log_hold() and log_release(). */
static char log_held[PIPE_BUF];
static size_t log_held_len;
static bool log_holding;

/* syslog(3) priorities of our levels. */
static const int log_priorities[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

/*
 * Sets the program name shown in each line ("progname", copied, at most
 * 31 bytes) and the threshold: messages above "level" are dropped.
 */
void
log_init(const char *progname, enum log_level level)
{

	if (progname != NULL)
		snprintf(log_progname, sizeof(log_progname), "%s", progname);
	if (level >= LOG_LVL_ERROR && level <= LOG_LVL_DEBUG)
		log_threshold = level;
}

/*
 * Parses "s" (one of error, warn, info, debug; any case) into "*out",
 * set only on success. Returns MFA_OK or MFA_ERR_INVALID.
 */
int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	if (s == NULL)
		return MFA_ERR_INVALID;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return MFA_OK;
		}
	}
	return MFA_ERR_INVALID;
}

/* The name of "level" as the configuration spells it; never NULL. */
const char *
log_level_name(enum log_level level)
{

	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		return "unknown";
	return log_names[level];
}

static void
log_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to complain */
		buf += n;
		len -= (size_t)n;
	}
}

static void
log_flush_held(void)
{
	if (log_held_len > 0)
		log_write(log_held, log_held_len);
	log_held_len = 0;
}

void
log_hold(void)
{
	log_holding = !log_to_syslog;
}

void
log_release(void)
{
	log_flush_held();
	log_holding = false;
}

/* Writes the line "buf" ("len" bytes, newline included) or holds it. */
static void
log_put(enum log_level level, const char *buf, size_t len)
{
	if (log_holding && level >= LOG_LVL_INFO) {
		if (log_held_len + len > sizeof(log_held))
			log_flush_held();
		memcpy(log_held + log_held_len, buf, len);
		log_held_len += len;
		return;
	}
	log_flush_held();
	log_write(buf, len);
}

static void log_emit(enum log_level, const char *, va_list) MFA_PRINTF(2, 0);

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t head, len, i;
	int n, saved_errno = errno;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_progname,
	    (long)self_pid(), log_level_name(level));
	if (n < 0)
		goto out;
	head = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	n = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	if (n < 0)
		goto out;
	len = head + (size_t)n;
	if (len > sizeof(line) - 2) {
		/* Truncated: keep room for "...\n". */
		len = sizeof(line) - 2;
		memcpy(line + len - 3, "...", 3);
	}
	for (i = head; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	if (log_to_syslog) {
		/* syslogd adds the name and pid itself. */
		line[len] = '\0';
		syslog(log_priorities[level], "%s: %s", log_level_name(level),
		    line + head);
		goto out;
	}
	line[len++] = '\n';
	log_put(level, line, len);
out:
	errno = saved_errno;
}

/* Logs at "level" (for callers that choose the level at run time). */
void
log_at(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(level, fmt, ap);
	va_end(ap);
}

/* Logs an event that needs the operator's attention. */
void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
}

/* Logs something unusual that the service survived. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}

/* Logs a normal life-cycle event (start, reload, stop). */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

/* Logs detail useful only while debugging. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

/*
 * Sends the lines from now on to "dest": CONFIG_LOG_STDERR, or
 * CONFIG_LOG_SYSLOG (facility daemon, the program name of log_init, the
 * pid; the connection to the log socket is opened now, so a sandboxed
 * worker does not have to open it later).
 */
void
log_destination(enum config_log dest)
{

	if (dest == CONFIG_LOG_SYSLOG) {
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_to_syslog = true;
	} else {
		if (log_to_syslog)
			closelog();
		log_to_syslog = false;
	}
}

/*
 * The access line of one request: "access: METHOD PATH STATUS MS ms
 * client=ID". "client_id" is the client the request claimed (may be NULL:
 * "-"), never a credential; "path" has no query string. Authentication
 * failures and limits (401, 403, 429) are logged at warning level, the
 * rest at info.
 */
void
log_access(const char *method, const char *path, int status,
    long long ms, const char *client_id)
{
	enum log_level level = LOG_LVL_INFO;

	if (status == 401 || status == 403 || status == 429)
		level = LOG_LVL_WARN;
	log_at(level, "access: %s %s %d %lld ms client=%s",
	    method != NULL ? method : "-", path != NULL && *path != '\0' ?
	    path : "-", status, ms, client_id != NULL && *client_id != '\0' ?
	    client_id : "-");
}
