/*
 * log.c -- one line per event on stderr, which is the web server's error
 * log when it spawned us: "PROG[PID]: LEVEL: message".
 *
 * Each line is formatted into a fixed buffer and handed to the kernel with
 * write(2) (no stdio buffer), so nothing is held across fork() and two
 * processes writing to the same pipe do not interleave within a line
 * (lines are shorter than PIPE_BUF). Control characters in the message
 * become '?', so a value quoted in a message cannot forge a second line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

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
	    (long)getpid(), log_level_name(level));
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
	line[len++] = '\n';
	log_write(line, len);
out:
	errno = saved_errno;
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
