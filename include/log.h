/*
 * log.h -- one log line per event on stderr (the web server's error log)
 * or syslog (key "log").
 * Never pass a secret, a code, a token or a raw request body.
 */
#ifndef MFA_LOG_H
#define MFA_LOG_H

#include "config.h"

/* Sets the threshold and the program name shown in each line. */
void log_init(const char *progname, enum log_level level);

void log_error(const char *fmt, ...) MFA_PRINTF(1, 2);
void log_warn(const char *fmt, ...) MFA_PRINTF(1, 2);
void log_info(const char *fmt, ...) MFA_PRINTF(1, 2);
void log_debug(const char *fmt, ...) MFA_PRINTF(1, 2);

/* Logs at "level", chosen at run time. */
void log_at(enum log_level level, const char *fmt, ...) MFA_PRINTF(2, 3);
/* Holds info and debug lines until log_release() writes them at once. */
void log_hold(void);
void log_release(void);

/*
 * Sends later lines to stderr or syslog (CONFIG_LOG_SYSLOG: facility
 * daemon, connected now with LOG_NDELAY).
 */
void log_destination(enum config_log dest);

/*
 * One access line per request: "access: METHOD PATH STATUS MS ms
 * client=ID" ("-" for an absent value). 401, 403 and 429 at warning
 * level, the rest at info. Never pass a secret: "client_id" is the claimed
 * client id, "path" the path without the query string.
 */
void log_access(const char *method, const char *path, int status,
    long long ms, const char *client_id);

/* Parses "error|warn|info|debug"; returns MFA_OK or MFA_ERR_INVALID. */
int log_level_parse(const char *s, enum log_level *out) MFA_WUR;
const char *log_level_name(enum log_level level);

#endif
