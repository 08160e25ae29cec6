/*
 * config.h -- the service's configuration: one "key = value" file, every
 * key overridable by the environment variable MFA_<KEY> (upper case).
 *
 * Parsed once at start (and again on SIGHUP by the supervisor) into a
 * struct config that is passed down as const; no module reads the
 * environment itself.
 */
#ifndef MFA_CONFIG_H
#define MFA_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mfa.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

struct config {
	char db[PATH_MAX];     /* store directory (key "db"), default ./var */
	char spool[PATH_MAX];  /* OOB spool dir; "" means <db>/spool */
	char issuer[256];      /* issuer URL, default http://127.0.0.1:8080/ */
	char realm[64];        /* realm in WWW-Authenticate, default "mfa" */
	char totp_issuer[64];  /* issuer label in otpauth:// URIs ("MFA") */
	char listen[PATH_MAX]; /* "" (FD 0), unix:PATH or HOST:PORT */
	int workers;           /* pre-forked workers; 0 = automatic */
	int64_t token_ttl;     /* mfa_token lifetime, seconds (600) */
	int64_t oob_ttl;       /* OOB challenge lifetime, seconds (300) */
	int64_t enroll_ttl;    /* an unconfirmed enrollment, seconds (600) */
	int64_t sms_factor_ttl; /* WorkOS sms challenge, seconds (600) */
	int64_t otp_challenge_ttl; /* how long an otp challenge record is
				      kept, seconds (600) */
	size_t body_limit;     /* largest request body, bytes (65536) */
	int64_t read_timeout;  /* longest wait for more of a request on a
				  FastCGI connection, seconds (5) */
	size_t map_size;       /* LMDB map size, bytes (1 GiB) */
	enum log_level log_level; /* error|warn|info|debug (info) */
	unsigned sms_burst;    /* SMS/voice sends per user: bucket size (10) */
	int64_t sms_refill;    /* seconds per refilled SMS send (3600) */
	unsigned email_burst;  /* e-mail sends per user: bucket size (20) */
	int64_t email_refill;  /* seconds per refilled e-mail send (60) */
	int64_t respawn_max_delay; /* supervisor back-off cap, seconds (30) */
	size_t assertion_max_len;  /* client_assertion bytes (2048) */
	int64_t assertion_lifetime; /* seconds from iat/now to exp (300) */
	int64_t assertion_skew;    /* seconds of clock skew (10) */
/* The largest assertion_skew: a jti is kept until exp plus this, so that
 * raising the skew with a reload makes no recorded assertion usable. */
#define CFG_ASSERTION_SKEW_MAX 300
	int assertion_audience;    /* enum config_audience (strict) */
	unsigned otp_window_back;  /* TOTP steps before now accepted (1) */
	unsigned otp_window_fwd;   /* TOTP steps after now accepted (1) */
	unsigned fail_burst;       /* failed codes per user+authenticator (10) */
	int64_t fail_refill;       /* seconds per refilled attempt (360) */
	unsigned poll_burst;       /* OOB polls per challenge (12) */
	int64_t poll_refill;       /* seconds per refilled poll (5) */
	unsigned challenge_max_attempts; /* wrong binding codes per
					    challenge before it locks (5) */
	int64_t result_ttl;        /* result token lifetime, seconds (600) */
	int challenge_sync_ms;     /* longest wait of a batched commit (a new
				      challenge) for its sync, ms; 0: sync
				      every commit (100) */
	/* Deployment (issue 8): privilege drop, sandbox, log destination. */
	char user[64];             /* drop to this user when started as
				      root; "" keeps the identity */
	int sandbox;               /* enum config_sandbox (on) */
	int log;                   /* enum config_log (stderr) */
};

/* Values of the "sandbox" key. */
enum config_sandbox {
	CONFIG_SANDBOX_OFF = 0,   /* no seccomp filter (not recommended) */
	CONFIG_SANDBOX_ON = 1,    /* a forbidden syscall kills the worker */
	CONFIG_SANDBOX_LOG = 2,   /* debug: logged and refused with ENOSYS */
};

/* Values of the "assertion_audience" key: what an assertion's aud may be. */
enum config_audience {
	CONFIG_AUDIENCE_STRICT = 0, /* the issuer (either trailing slash),
				       as a string: checklist F2 */
	CONFIG_AUDIENCE_LEGACY = 1, /* also in an array, or the endpoint's
				       URL: open to audience injection */
};

/* Values of the "log" key. */
enum config_log {
	CONFIG_LOG_STDERR = 0,    /* stderr: the web server's error log */
	CONFIG_LOG_SYSLOG = 1,    /* syslog(3), facility daemon */
};

/* Fills "cfg" with the built-in defaults. */
void config_defaults(struct config *cfg);

/*
 * Sets key "key" to "value" (both borrowed). Returns MFA_OK, or
 * MFA_ERR_CONFIG with a human sentence in "err" (size "errlen") that
 * names the key and what is wrong.
 */
int config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errlen) MFA_WUR;

/*
 * Reads the "key = value" file "path": '#' starts a comment, blank lines
 * are ignored, unknown keys and malformed lines are errors that name the
 * line. Returns MFA_OK, MFA_ERR_IO (cannot read) or MFA_ERR_CONFIG.
 */
int config_load_file(struct config *cfg, const char *path, char *err,
    size_t errlen) MFA_WUR;

/*
 * Reads the same syntax from the "len" bytes at "buf" (borrowed, need not
 * be NUL-terminated); "name" replaces the file name in messages. Returns
 * MFA_OK, MFA_ERR_IO, MFA_ERR_NOMEM or MFA_ERR_CONFIG.
 */
int config_load_buf(struct config *cfg, const void *buf, size_t len,
    const char *name, char *err, size_t errlen) MFA_WUR;

/*
 * Applies every MFA_<KEY> environment variable that names a known key.
 * Returns MFA_OK or MFA_ERR_CONFIG (err says which variable).
 */
int config_load_env(struct config *cfg, char *err, size_t errlen) MFA_WUR;

/*
 * The whole sequence used by the programs: defaults, then the file named
 * by "path" (may be NULL: then $MFA_CONFIG if set, else none), then the
 * environment. An empty spool keeps meaning <db>/spool
 * (config_spool_dir), so it follows a later change of db.
 */
int config_load(struct config *cfg, const char *path, char *err,
    size_t errlen) MFA_WUR;

/*
 * The spool directory in effect: "cfg"'s own, else "<db>/spool" written into
 * "buf". Returns a pointer into "cfg" or "buf", NULL when it does not fit.
 */
const char *config_spool_dir(const struct config *cfg, char *buf,
    size_t buflen);

/* Writes every key and its value, one "key = value" per line. */
void config_dump(const struct config *cfg, FILE *out);

/*
 * Writes the list of MFA_<KEY> environment variables with their keys,
 * defaults, bounds and a line of help (for --help).
 */
void config_usage(FILE *out);

#endif
