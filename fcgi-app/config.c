/*
 * config.c -- the service's configuration: one table of keys, each with
 * its type, bounds, default and a line of help; a "key = value" file; the
 * MFA_<KEY> environment variables.
 *
 * To add a key: add the field to struct config (include/config.h) and one
 * KEY() line to config_keys[] below. The default is written in file syntax
 * and goes through the same parser as every other value; the environment
 * variable, --print-config and the --help list follow from the table.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

/* How a value is written. */
enum config_kind {
	CFG_INT,     /* decimal integer */
	CFG_SIZE,    /* bytes, optional K, M, G or T (powers of 1024) */
	CFG_SECONDS, /* a duration in whole seconds */
	CFG_LEVEL,   /* error, warn, info or debug */
	CFG_PATH,    /* a file name */
	CFG_URL,     /* an http:// or https:// URL */
	CFG_REALM,   /* printable ASCII without '"' or '\\' */
	CFG_LISTEN,  /* "", unix:PATH, HOST:PORT or :PORT */
	CFG_NAME,    /* a user name: letters, digits, '.', '_', '-'; or "" */
	CFG_CHOICE,  /* one of the key's "names"; stored as its index */
};

/* The C type of the struct config field a value is stored in. */
enum config_store {
	CS_STR,	  /* char[] */
	CS_INT,	  /* int */
	CS_UINT,  /* unsigned */
	CS_I64,	  /* int64_t */
	CS_SIZE,  /* size_t */
	CS_LEVEL, /* enum log_level */
};

struct config_key {
	const char *name;	/* file key; environment MFA_<NAME> */
	enum config_kind kind;
	enum config_store store;
	size_t off;		/* offsetof(struct config, field) */
	size_t size;		/* sizeof the field */
	int64_t min, max;	/* value bounds; length bounds of a string */
	const char *def;	/* default, in file syntax */
	const char *help;	/* one line for --help */
	const char *const *names; /* CFG_CHOICE: the values, NULL-ended */
};

/* A key named like its struct config field. */
#define KEY(field, kind, store, lo, hi, def, help)                         \
	{ #field, kind, store, offsetof(struct config, field),             \
	    sizeof(((struct config *)NULL)->field), lo, hi, def, help, NULL }

/* A CFG_CHOICE key stored as an int: the index of its value in "names". */
#define KEY_CHOICE(field, names, def, help)                                \
	{ #field, CFG_CHOICE, CS_INT, offsetof(struct config, field),       \
	    sizeof(((struct config *)NULL)->field), 0,                      \
	    (int64_t)(sizeof(names) / sizeof(names[0])) - 2, def, help,    \
	    names }

/* Indexed by enum config_sandbox and enum config_log. */
static const char *const config_sandbox_names[] = { "off", "on", "log",
	NULL };
static const char *const config_log_names[] = { "stderr", "syslog", NULL };
/* Indexed by enum config_audience. */
static const char *const config_audience_names[] = { "strict", "legacy",
	NULL };

static const struct config_key config_keys[] = {
	KEY(db, CFG_PATH, CS_STR, 1, PATH_MAX - 1, "./var",
	    "store directory (LMDB environment, master key)"),
	KEY(spool, CFG_PATH, CS_STR, 0, PATH_MAX - 1, "",
	    "mfa-deliver's spool directory; empty: <db>/spool"),
	KEY(issuer, CFG_URL, CS_STR, 8, 255, "http://127.0.0.1:8080/",
	    "issuer URL: iss of results, aud of assertions"),
	KEY(realm, CFG_REALM, CS_STR, 1, 63, "mfa",
	    "realm of the WWW-Authenticate: Basic challenge"),
	KEY(totp_issuer, CFG_REALM, CS_STR, 1, 63, "MFA",
	    "issuer shown by authenticator apps (otpauth:// URIs)"),
	KEY(listen, CFG_LISTEN, CS_STR, 0, PATH_MAX - 1, "",
	    "unix:PATH, HOST:PORT or :PORT; empty: FD 0"),
	KEY(workers, CFG_INT, CS_INT, 0, 256, "0",
	    "worker processes; 0: 1 on FD 0, 4 with listen"),
	KEY(token_ttl, CFG_SECONDS, CS_I64, 60, 86400, "600",
	    "mfa_token lifetime"),
	KEY(oob_ttl, CFG_SECONDS, CS_I64, 30, 3600, "300",
	    "out-of-band challenge lifetime"),
	KEY(enroll_ttl, CFG_SECONDS, CS_I64, 60, 86400, "600",
	    "how long an enrollment may wait for its confirmation"),
	KEY(sms_factor_ttl, CFG_SECONDS, CS_I64, 60, 3600, "600",
	    "lifetime of a WorkOS sms challenge"),
	KEY(otp_challenge_ttl, CFG_SECONDS, CS_I64, 60, 86400, "600",
	    "how long an otp challenge record is kept"),
	KEY(body_limit, CFG_SIZE, CS_SIZE, KIB, 16 * MIB, "65536",
	    "largest request body"),
	KEY(read_timeout, CFG_SECONDS, CS_I64, 1, 3600, "5",
	    "longest wait for more of a request, and for a whole body"),
	KEY(map_size, CFG_SIZE, CS_SIZE, MIB, TIB, "1G",
	    "LMDB map size (address space for the store)"),
	KEY(log_level, CFG_LEVEL, CS_LEVEL, LOG_LVL_ERROR, LOG_LVL_DEBUG,
	    "info", "error, warn, info or debug"),
	KEY(sms_burst, CFG_INT, CS_UINT, 1, 1000, "10",
	    "SMS and voice sends per user: bucket size"),
	KEY(sms_refill, CFG_SECONDS, CS_I64, 1, 86400, "3600",
	    "time to refill one SMS or voice send"),
	KEY(email_burst, CFG_INT, CS_UINT, 1, 1000, "20",
	    "e-mail sends per user: bucket size"),
	KEY(email_refill, CFG_SECONDS, CS_I64, 1, 86400, "60",
	    "time to refill one e-mail send"),
	KEY(respawn_max_delay, CFG_SECONDS, CS_I64, 1, 3600, "30",
	    "longest back-off before a crashing worker is respawned"),
	KEY(assertion_max_len, CFG_SIZE, CS_SIZE, 512, 8192, "2048",
	    "largest client_assertion JWT, bytes"),
	KEY(assertion_lifetime, CFG_SECONDS, CS_I64, 10, 3600, "300",
	    "longest client_assertion lifetime (exp after iat or now)"),
	KEY(assertion_skew, CFG_SECONDS, CS_I64, 0, CFG_ASSERTION_SKEW_MAX, "10",
	    "clock skew allowed on exp, nbf and iat of assertions"),
	KEY_CHOICE(assertion_audience, config_audience_names, "strict",
	    "aud of assertions: strict (the issuer, a string) or legacy"),
	KEY(otp_window_back, CFG_INT, CS_UINT, 0, 10, "1",
	    "TOTP steps accepted before the current one"),
	KEY(otp_window_fwd, CFG_INT, CS_UINT, 0, 10, "1",
	    "TOTP steps accepted after the current one"),
	KEY(fail_burst, CFG_INT, CS_UINT, 1, 100, "10",
	    "failed codes per user and authenticator: bucket size"),
	KEY(fail_refill, CFG_SECONDS, CS_I64, 1, 86400, "360",
	    "time to refill one failed-code attempt"),
	KEY(poll_burst, CFG_INT, CS_UINT, 1, 1000, "12",
	    "out-of-band polls per challenge: bucket size"),
	KEY(poll_refill, CFG_SECONDS, CS_I64, 1, 3600, "5",
	    "time to refill one out-of-band poll"),
	KEY(challenge_max_attempts, CFG_INT, CS_UINT, 1, 100, "5",
	    "wrong binding codes before a challenge is locked"),
	KEY(result_ttl, CFG_SECONDS, CS_I64, 60, 86400, "600",
	    "lifetime of the signed result tokens"),
	KEY(challenge_sync_ms, CFG_INT, CS_INT, 0, 10000, "100",
	    "ms a new challenge may wait for its commit and fsync; "
	    "0: sync each commit"),
	KEY(user, CFG_NAME, CS_STR, 0, 63, "",
	    "started as root: workers drop to this user; empty: no drop"),
	KEY_CHOICE(sandbox, config_sandbox_names, "on",
	    "seccomp in workers: on, off, or log (debug: log, do not kill)"),
	KEY_CHOICE(log, config_log_names, "stderr",
	    "where log lines go: stderr (web server's error log) or syslog"),
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Longest part of a bad value quoted back in an error message. */
#define CONFIG_QUOTE_MAX 64

static void config_err(char *, size_t, const char *, ...) MFA_PRINTF(3, 4);

static void
config_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct config_key *
config_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/*
 * Parses an optional '-' and decimal digits, then an optional unit
 * letter when "units" is set (K, M, G, T: powers of 1024). Returns 0, -1
 * (syntax) or -2 (does not fit in int64_t).
 */
static int
config_parse_number(const char *s, bool units, int64_t *out)
{
	int64_t v = 0, mul = 1;
	bool neg = false, over = false;
	const char *p = s;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		int d = *p - '0';

		/* Keep scanning after overflow: junk still wins. */
		if (over || v > (INT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (units && *p != '\0' && p[1] == '\0') {
		switch (*p) {
		case 'k': case 'K':
			mul = KIB;
			break;
		case 'm': case 'M':
			mul = MIB;
			break;
		case 'g': case 'G':
			mul = GIB;
			break;
		case 't': case 'T':
			mul = TIB;
			break;
		default:
			return -1;
		}
		p++;
	}
	if (*p != '\0')
		return -1;
	if (over || v > INT64_MAX / mul)
		return -2;
	v *= mul;
	*out = neg ? -v : v;
	return 0;
}

/* Writes "v" bytes as the shortest exact size ("64K", "1G", "1000"). */
static void
config_fmt_size(int64_t v, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	int64_t mul = TIB;
	size_t i;

	for (i = 0; i < 4; i++, mul /= 1024) {
		if (v != 0 && v % mul == 0) {
			snprintf(buf, len, "%lld%c", (long long)(v / mul),
			    units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", (long long)v);
}

/*
 * Checks the shape of a listen spec; the socket layer
 * (conn_listen) has the last word.
 */
static bool
config_listen_is_valid(const char *s)
{
	const char *colon, *p;
	long port = 0;

	if (*s == '\0')
		return true;
	if (strncmp(s, "unix:", 5) == 0)
		return s[5] != '\0' && strchr(s + 5, ':') == NULL;
	if ((colon = strchr(s, ':')) == NULL || strchr(colon + 1, ':'))
		return false;
	for (p = colon + 1; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || port > 65535)
			return false;
		port = port * 10 + (*p - '0');
	}
	return p > colon + 1 && port >= 1 && port <= 65535;
}

/* "a, b or c": the values of a CFG_CHOICE key, written into "buf". */
static const char *
config_choices(const struct config_key *k, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; k->names[i] != NULL && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		    i == 0 ? "" : k->names[i + 1] == NULL ? " or " : ", ",
		    k->names[i]);
	return buf;
}

/* Checks a string value against "k"; on error says why in "what". */
static bool
config_string_is_valid(const struct config_key *k, const char *v,
    char *what, size_t whatlen)
{
	size_t len = strlen(v), i;

	if (k->kind == CFG_URL) {
		if ((strncmp(v, "http://", 7) != 0 || len < 8) &&
		    (strncmp(v, "https://", 8) != 0 || len < 9)) {
			snprintf(what, whatlen,
			    "must be an http:// or https:// URL");
			return false;
		}
	} else if (len < (size_t)k->min) {
		snprintf(what, whatlen, "must not be empty");
		return false;
	}
	if (len > (size_t)k->max) {
		snprintf(what, whatlen, "longer than %lld bytes",
		    (long long)k->max);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		/*
		 * Such a '#' starts a comment when --print-config's output
		 * is read back as a file (found by tests/fuzz/fuzz_config).
		 */
		if (c == '#' && (i == 0 || isspace((unsigned char)v[i - 1]))) {
			snprintf(what, whatlen, "must not contain '#' at the "
			    "start or after white space");
			return false;
		}
		if (k->kind == CFG_URL && (c <= 0x20 || c >= 0x7f)) {
			snprintf(what, whatlen,
			    "must not contain spaces, control or non-ASCII "
			    "characters");
			return false;
		}
		if (k->kind == CFG_NAME && !isalnum(c) && c != '.' &&
		    c != '_' && c != '-') {
			snprintf(what, whatlen,
			    "only letters, digits, '.', '_' and '-' are "
			    "allowed");
			return false;
		}
		if (k->kind == CFG_REALM &&
		    (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')) {
			snprintf(what, whatlen,
			    "only printable ASCII without '\"' or '\\' is "
			    "allowed");
			return false;
		}
	}
	if (k->kind == CFG_LISTEN && !config_listen_is_valid(v)) {
		snprintf(what, whatlen,
		    "'%.*s' is not unix:PATH, HOST:PORT or :PORT",
		    CONFIG_QUOTE_MAX, v);
		return false;
	}
	return true;
}

/* Stores a checked value; a table entry of the wrong size is a bug. */
static void
config_store(struct config *cfg, const struct config_key *k, int64_t v,
    const char *s)
{
	char *p = (char *)cfg + k->off;
	size_t want = 0;

	switch (k->store) {
	case CS_STR:
		/* The longest allowed value and its NUL must fit. */
		want = (size_t)k->max < k->size ? k->size : 0;
		break;
	case CS_INT:
		want = sizeof(int);
		break;
	case CS_UINT:
		want = sizeof(unsigned);
		break;
	case CS_I64:
		want = sizeof(int64_t);
		break;
	case CS_SIZE:
		want = sizeof(size_t);
		break;
	case CS_LEVEL:
		want = sizeof(enum log_level);
		break;
	}
	if (want != k->size) {
		fprintf(stderr, "config: key %s: table entry does not match "
		    "struct config\n", k->name);
		abort();
	}
	switch (k->store) {
	case CS_STR:
		memcpy(p, s, strlen(s) + 1);
		break;
	case CS_INT: {
		int x = (int)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	case CS_UINT: {
		unsigned x = (unsigned)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	case CS_I64:
		memcpy(p, &v, sizeof(v));
		break;
	case CS_SIZE: {
		size_t x = (size_t)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	case CS_LEVEL: {
		enum log_level x = (enum log_level)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	}
}

/*
 * Sets key "key" to "value" (both borrowed, "value" as written in the
 * file: no surrounding white space is stripped here). Returns MFA_OK, or
 * MFA_ERR_CONFIG with "<key>: <what is wrong>" (or "unknown key 'x'") in
 * "err"; "cfg" is changed only on success.
 */
int
config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct config_key *k;
	char what[160], lo[24], hi[24];
	enum log_level lvl;
	int64_t v = 0;
	int rc;

	if (key == NULL || (k = config_key_find(key)) == NULL) {
		config_err(err, errlen, "unknown key '%.*s'", CONFIG_QUOTE_MAX,
		    key != NULL ? key : "");
		return MFA_ERR_CONFIG;
	}
	if (value == NULL)
		value = "";
	switch (k->kind) {
	case CFG_INT:
	case CFG_SECONDS:
		rc = config_parse_number(value, false, &v);
		if (rc == -1) {
			config_err(err, errlen, "%s: '%.*s' is not %s", k->name,
			    CONFIG_QUOTE_MAX, value,
			    k->kind == CFG_INT ? "a decimal integer"
					       : "a number of seconds");
			return MFA_ERR_CONFIG;
		}
		if (rc != 0 || v < k->min || v > k->max) {
			config_err(err, errlen,
			    "%s: %.*s is out of range (%lld..%lld%s)", k->name,
			    CONFIG_QUOTE_MAX, value, (long long)k->min,
			    (long long)k->max,
			    k->kind == CFG_SECONDS ? " seconds" : "");
			return MFA_ERR_CONFIG;
		}
		break;
	case CFG_SIZE:
		rc = config_parse_number(value, true, &v);
		if (rc == -1) {
			config_err(err, errlen,
			    "%s: '%.*s' is not a size (bytes, or a number "
			    "with K, M, G or T)", k->name, CONFIG_QUOTE_MAX,
			    value);
			return MFA_ERR_CONFIG;
		}
		if (rc != 0 || v < k->min || v > k->max ||
		    (uint64_t)v > SIZE_MAX) {
			config_fmt_size(k->min, lo, sizeof(lo));
			config_fmt_size(k->max, hi, sizeof(hi));
			config_err(err, errlen,
			    "%s: %.*s is out of range (%s..%s)", k->name,
			    CONFIG_QUOTE_MAX, value, lo, hi);
			return MFA_ERR_CONFIG;
		}
		break;
	case CFG_LEVEL:
		if (log_level_parse(value, &lvl) != MFA_OK) {
			config_err(err, errlen,
			    "%s: '%.*s' is not one of error, warn, info, "
			    "debug", k->name, CONFIG_QUOTE_MAX, value);
			return MFA_ERR_CONFIG;
		}
		v = lvl;
		break;
	case CFG_CHOICE:
		for (v = 0; k->names[v] != NULL; v++)
			if (strcmp(value, k->names[v]) == 0)
				break;
		if (k->names[v] == NULL) {
			config_err(err, errlen, "%s: '%.*s' is not one of %s",
			    k->name, CONFIG_QUOTE_MAX, value,
			    config_choices(k, what, sizeof(what)));
			return MFA_ERR_CONFIG;
		}
		break;
	case CFG_PATH:
	case CFG_URL:
	case CFG_REALM:
	case CFG_LISTEN:
	case CFG_NAME:
		if (!config_string_is_valid(k, value, what, sizeof(what))) {
			config_err(err, errlen, "%s: %s", k->name, what);
			return MFA_ERR_CONFIG;
		}
		break;
	}
	config_store(cfg, k, v, value);
	return MFA_OK;
}

/*
 * Fills "cfg" with the defaults of the table. A default that does not
 * pass its own key's checks is a bug in the table: abort.
 */
void
config_defaults(struct config *cfg)
{
	char err[256];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_set(cfg, config_keys[i].name, config_keys[i].def,
		    err, sizeof(err)) != MFA_OK) {
			fprintf(stderr, "config: bad built-in default: %s\n",
			    err);
			abort();
		}
	}
}

static char *
config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cuts a comment: a '#' that starts the line or follows white space. */
static void
config_strip_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/*
 * Reads the "key = value" text of "f" (named "path" in messages) into
 * "cfg": blank lines and
 * comments ('#' at the start of a line or after white space, to the end
 * of the line) are skipped, white space around keys and values is
 * trimmed, a key may appear once. Errors name the place:
 * "FILE:LINE: unknown key 'x'", "FILE:LINE: <key>: <what is wrong>".
 * Returns MFA_OK, MFA_ERR_IO (cannot read), MFA_ERR_NOMEM or
 * MFA_ERR_CONFIG; keys before a bad line stay set in "cfg".
 */
static int
config_load_stream(struct config *cfg, FILE *f, const char *path, char *err,
    size_t errlen)
{
	unsigned seen[CONFIG_NKEYS] = { 0 };
	char *line = NULL, *s, *eq, *key, *value, msg[512];
	const struct config_key *k;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = MFA_OK;

	for (;;) {
		errno = 0;
		if ((n = getline(&line, &cap, f)) == -1)
			break;
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			config_err(err, errlen, "%s:%u: NUL byte in line",
			    path, lineno);
			rc = MFA_ERR_CONFIG;
			goto out;
		}
		config_strip_comment(line);
		s = config_trim(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL || eq == s) {
			config_err(err, errlen,
			    "%s:%u: expected 'key = value'", path, lineno);
			rc = MFA_ERR_CONFIG;
			goto out;
		}
		*eq = '\0';
		key = config_trim(s);
		value = config_trim(eq + 1);
		if ((k = config_key_find(key)) == NULL) {
			config_err(err, errlen, "%s:%u: unknown key '%.*s'",
			    path, lineno, CONFIG_QUOTE_MAX, key);
			rc = MFA_ERR_CONFIG;
			goto out;
		}
		if (seen[k - config_keys] != 0) {
			config_err(err, errlen,
			    "%s:%u: duplicate key '%s' (first set on line %u)",
			    path, lineno, k->name, seen[k - config_keys]);
			rc = MFA_ERR_CONFIG;
			goto out;
		}
		seen[k - config_keys] = lineno;
		if (config_set(cfg, key, value, msg, sizeof(msg)) != MFA_OK) {
			config_err(err, errlen, "%s:%u: %s", path, lineno,
			    msg);
			rc = MFA_ERR_CONFIG;
			goto out;
		}
	}
	if (ferror(f) || errno != 0) {
		/* getline failed: a read error or no memory, not EOF. */
		rc = errno == ENOMEM ? MFA_ERR_NOMEM : MFA_ERR_IO;
		config_err(err, errlen, "%s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
	}
out:
	free(line);
	return rc;
}

/* Opens "path" and reads it with config_load_stream; see config.h. */
int
config_load_file(struct config *cfg, const char *path, char *err,
    size_t errlen)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		config_err(err, errlen, "%s: %s", path, strerror(errno));
		return MFA_ERR_IO;
	}
	rc = config_load_stream(cfg, f, path, err, errlen);
	fclose(f);
	return rc;
}

/*
 * The same syntax read from the "len" bytes at "buf" (borrowed; need not
 * be NUL-terminated); "name" stands for the file name in messages. For
 * tests and the fuzz target. Returns what config_load_file does.
 */
int
config_load_buf(struct config *cfg, const void *buf, size_t len,
    const char *name, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if (len == 0)
		return MFA_OK;
	/* fmemopen(3) takes a non-const buffer; mode "r" never writes. */
	if ((f = fmemopen((void *)(uintptr_t)buf, len, "r")) == NULL) {
		config_err(err, errlen, "%s: %s", name, strerror(errno));
		return errno == ENOMEM ? MFA_ERR_NOMEM : MFA_ERR_IO;
	}
	rc = config_load_stream(cfg, f, name, err, errlen);
	fclose(f);
	return rc;
}

/* "MFA_" and the key in upper case. */
static void
config_env_name(const struct config_key *k, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "MFA_%s", k->name);
	for (i = 4; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

/*
 * Applies every set MFA_<KEY> variable (an empty one sets the empty
 * value). Returns MFA_OK or MFA_ERR_CONFIG with "MFA_<KEY>: <key>: <what
 * is wrong>" in "err".
 */
int
config_load_env(struct config *cfg, char *err, size_t errlen)
{
	char name[64], msg[512];
	const char *v;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		config_env_name(&config_keys[i], name, sizeof(name));
		if ((v = getenv(name)) == NULL)
			continue;
		if (config_set(cfg, config_keys[i].name, v, msg,
		    sizeof(msg)) != MFA_OK) {
			config_err(err, errlen, "%s: %s", name, msg);
			return MFA_ERR_CONFIG;
		}
	}
	return MFA_OK;
}

/*
 * Defaults, then the file "path" (NULL: $MFA_CONFIG when set and not
 * empty, else no file), then the environment. An empty spool stays empty
 * and means <db>/spool (config_spool_dir), so a later change of db (such
 * as mfactl --db) moves the spool with it; its length is checked here.
 * Returns MFA_OK or the first error, with a sentence in "err".
 */
int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char spool[PATH_MAX];
	int rc;

	config_defaults(cfg);
	if (path == NULL && (path = getenv("MFA_CONFIG")) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path != NULL &&
	    (rc = config_load_file(cfg, path, err, errlen)) != MFA_OK)
		return rc;
	if ((rc = config_load_env(cfg, err, errlen)) != MFA_OK)
		return rc;
	if (config_spool_dir(cfg, spool, sizeof(spool)) == NULL) {
		config_err(err, errlen,
		    "spool: <db>/spool would be longer than %d bytes; "
		    "set spool", PATH_MAX - 1);
		return MFA_ERR_CONFIG;
	}
	return MFA_OK;
}

/*
 * The spool directory in effect: "cfg"'s own, else "<db>/spool" written
 * into "buf" ("buflen" bytes). Returns a pointer into "cfg" or "buf", or
 * NULL when the derived name does not fit.
 */
const char *
config_spool_dir(const struct config *cfg, char *buf, size_t buflen)
{
	int n;

	if (cfg->spool[0] != '\0')
		return cfg->spool;
	n = snprintf(buf, buflen, "%s/spool", cfg->db);
	if (n < 0 || (size_t)n >= buflen)
		return NULL;
	return buf;
}

/* Writes the value of "k" in "cfg" as the file syntax spells it. */
static void
config_fmt_value(const struct config *cfg, const struct config_key *k,
    FILE *out)
{
	const char *p = (const char *)cfg + k->off;
	int x;
	unsigned u;
	int64_t v;
	size_t z;
	enum log_level l;

	switch (k->store) {
	case CS_STR:
		fputs(p, out);
		break;
	case CS_INT:
		memcpy(&x, p, sizeof(x));
		if (k->kind == CFG_CHOICE && x >= 0 && x <= k->max)
			fputs(k->names[x], out);
		else
			fprintf(out, "%d", x);
		break;
	case CS_UINT:
		memcpy(&u, p, sizeof(u));
		fprintf(out, "%u", u);
		break;
	case CS_I64:
		memcpy(&v, p, sizeof(v));
		fprintf(out, "%lld", (long long)v);
		break;
	case CS_SIZE:
		memcpy(&z, p, sizeof(z));
		fprintf(out, "%zu", z);
		break;
	case CS_LEVEL:
		memcpy(&l, p, sizeof(l));
		fputs(log_level_name(l), out);
		break;
	}
}

/*
 * Writes every key of "cfg" to "out", one "key = value" per line, in
 * table order; the output reads back as a configuration file.
 */
void
config_dump(const struct config *cfg, FILE *out)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		fprintf(out, "%s = ", config_keys[i].name);
		config_fmt_value(cfg, &config_keys[i], out);
		fputc('\n', out);
	}
}

/*
 * Writes the environment variables for --help to "out", two lines per
 * key: "MFA_KEY  key, default D (bounds)" and the help line.
 */
void
config_usage(FILE *out)
{
	const struct config_key *k;
	char name[64], lo[24], hi[24], choices[64];
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		config_env_name(k, name, sizeof(name));
		fprintf(out, "  %-22s %s, default %s", name, k->name,
		    k->def[0] != '\0' ? k->def : "empty");
		switch (k->kind) {
		case CFG_INT:
			fprintf(out, " (%lld..%lld)", (long long)k->min,
			    (long long)k->max);
			break;
		case CFG_SECONDS:
			fprintf(out, " (%lld..%lld seconds)",
			    (long long)k->min, (long long)k->max);
			break;
		case CFG_SIZE:
			config_fmt_size(k->min, lo, sizeof(lo));
			config_fmt_size(k->max, hi, sizeof(hi));
			fprintf(out, " (%s..%s bytes)", lo, hi);
			break;
		case CFG_CHOICE:
			fprintf(out, " (%s)", config_choices(k, choices,
			    sizeof(choices)));
			break;
		default:
			break;
		}
		fprintf(out, "\n  %-22s %s\n", "", k->help);
	}
}
