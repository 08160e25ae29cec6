/*
 * log.h -- one log line per event on stderr (the web server's error log).
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

/* Parses "error|warn|info|debug"; returns MFA_OK or MFA_ERR_INVALID. */
int log_level_parse(const char *s, enum log_level *out) MFA_WUR;
const char *log_level_name(enum log_level level);

#endif
