/*
 * test-config.c -- the configuration table (values of every type, valid
 * and invalid), the file syntax with its line-numbered errors, the
 * environment and its precedence, --print-config output; and the log
 * levels and line format the configuration feeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test.h"

/* Every environment variable the module reads. */
static const char *const env_names[] = {
	"MFA_CONFIG", "MFA_DB", "MFA_SPOOL", "MFA_ISSUER", "MFA_REALM",
	"MFA_LISTEN", "MFA_WORKERS", "MFA_TOKEN_TTL", "MFA_OOB_TTL",
	"MFA_OTP_CHALLENGE_TTL", "MFA_BODY_LIMIT", "MFA_MAP_SIZE",
	"MFA_LOG_LEVEL", "MFA_SMS_BURST", "MFA_SMS_REFILL", "MFA_EMAIL_BURST",
	"MFA_EMAIL_REFILL", "MFA_RESPAWN_MAX_DELAY", "MFA_ASSERTION_MAX_LEN",
	"MFA_ASSERTION_LIFETIME", "MFA_ASSERTION_SKEW",
	"MFA_ASSERTION_AUDIENCE", "MFA_OTP_WINDOW_BACK",
	"MFA_OTP_WINDOW_FWD", "MFA_FAIL_BURST", "MFA_FAIL_REFILL",
	"MFA_POLL_BURST", "MFA_POLL_REFILL", "MFA_CHALLENGE_MAX_ATTEMPTS",
	"MFA_RESULT_TTL", "MFA_USER", "MFA_SANDBOX", "MFA_LOG",
};

static void
env_clear(void)
{
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
}

/* config_dump of "cfg" into "buf"; returns buf. */
static char *
dump(const struct config *cfg, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	buf[0] = '\0';
	if (f == NULL)
		return buf;
	config_dump(cfg, f);
	fclose(f);
	return buf;
}

/* The value of "key" as config_dump writes it, into "out". */
static const char *
dumped(const struct config *cfg, const char *key, char *out, size_t len)
{
	char all[16384], pat[80], *p, *end;

	dump(cfg, all, sizeof(all));
	snprintf(pat, sizeof(pat), "%s = ", key);
	out[0] = '\0';
	for (p = all; p != NULL && *p != '\0'; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		if (strncmp(p, pat, strlen(pat)) == 0) {
			p += strlen(pat);
			snprintf(out, len, "%.*s",
			    (int)(end ? (size_t)(end - p) : strlen(p)), p);
			break;
		}
	}
	return out;
}

/* Writes "text" ("len" bytes) to a new file under /tmp, name in "path". */
static bool
tmpfile_write(char *path, size_t pathlen, const char *text, size_t len)
{
	int fd;

	snprintf(path, pathlen, "/tmp/mfa-test-config-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return false;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return false;
	}
	close(fd);
	return true;
}

static void
test_config_defaults(void)
{
	struct config cfg;
	char buf[8192];

	config_defaults(&cfg);
	T_EQ_STR(dump(&cfg, buf, sizeof(buf)),
	    "db = ./var\n"
	    "spool = \n"
	    "issuer = http://127.0.0.1:8080/\n"
	    "realm = mfa\n"
	    "totp_issuer = MFA\n"
	    "listen = \n"
	    "workers = 0\n"
	    "token_ttl = 600\n"
	    "oob_ttl = 300\n"
	    "enroll_ttl = 600\n"
	    "sms_factor_ttl = 600\n"
	    "otp_challenge_ttl = 600\n"
	    "body_limit = 65536\n"
	    "read_timeout = 5\n"
	    "map_size = 1073741824\n"
	    "log_level = info\n"
	    "sms_burst = 10\n"
	    "sms_refill = 3600\n"
	    "email_burst = 20\n"
	    "email_refill = 60\n"
	    "respawn_max_delay = 30\n"
	    "assertion_max_len = 2048\n"
	    "assertion_lifetime = 300\n"
	    "assertion_skew = 10\n"
	    "assertion_audience = strict\n"
	    "otp_window_back = 1\n"
	    "otp_window_fwd = 1\n"
	    "fail_burst = 10\n"
	    "fail_refill = 360\n"
	    "poll_burst = 12\n"
	    "poll_refill = 5\n"
	    "challenge_max_attempts = 5\n"
	    "result_ttl = 600\n"
	    "challenge_sync_ms = 100\n"
	    "user = \n"
	    "sandbox = on\n"
	    "log = stderr\n");
	/* The struct fields themselves, as the other modules read them. */
	T_EQ_STR(cfg.db, "./var");
	T_EQ_STR(cfg.spool, "");
	T_EQ_STR(cfg.issuer, "http://127.0.0.1:8080/");
	T_EQ_STR(cfg.realm, "mfa");
	T_EQ_STR(cfg.listen, "");
	T_EQ_INT(cfg.workers, 0);
	T_EQ_INT(cfg.token_ttl, 600);
	T_EQ_INT(cfg.oob_ttl, 300);
	T_EQ_INT(cfg.otp_challenge_ttl, 600);
	T_EQ_INT(cfg.body_limit, 65536);
	T_EQ_INT(cfg.read_timeout, 5);
	T_EQ_INT(cfg.map_size, 1073741824);
	T_EQ_INT(cfg.log_level, LOG_LVL_INFO);
	T_EQ_INT(cfg.sms_burst, 10);
	T_EQ_INT(cfg.sms_refill, 3600);
	T_EQ_INT(cfg.email_burst, 20);
	T_EQ_INT(cfg.email_refill, 60);
	T_EQ_INT(cfg.respawn_max_delay, 30);
	T_EQ_INT(cfg.assertion_max_len, 2048);
	T_EQ_INT(cfg.assertion_lifetime, 300);
	T_EQ_INT(cfg.assertion_skew, 10);
	T_EQ_STR(cfg.user, "");
	T_EQ_INT(cfg.sandbox, CONFIG_SANDBOX_ON);
	T_EQ_INT(cfg.log, CONFIG_LOG_STDERR);
}

static void
test_config_valid(void)
{
	static const struct {
		const char *key, *value, *want;
	} t[] = {
		{ "workers", "0", "0" },
		{ "workers", "256", "256" },
		{ "workers", "007", "7" },
		{ "token_ttl", "60", "60" },
		{ "token_ttl", "86400", "86400" },
		{ "oob_ttl", "30", "30" },
		{ "oob_ttl", "3600", "3600" },
		{ "otp_challenge_ttl", "60", "60" },
		{ "otp_challenge_ttl", "86400", "86400" },
		{ "sms_refill", "1", "1" },
		{ "sms_refill", "86400", "86400" },
		{ "email_refill", "1", "1" },
		{ "email_refill", "86400", "86400" },
		{ "respawn_max_delay", "1", "1" },
		{ "respawn_max_delay", "3600", "3600" },
		{ "read_timeout", "1", "1" },
		{ "read_timeout", "3600", "3600" },
		{ "sms_burst", "1", "1" },
		{ "sms_burst", "1000", "1000" },
		{ "email_burst", "1", "1" },
		{ "email_burst", "1000", "1000" },
		{ "body_limit", "1024", "1024" },
		{ "body_limit", "1K", "1024" },
		{ "body_limit", "64k", "65536" },
		{ "body_limit", "16M", "16777216" },
		{ "body_limit", "16m", "16777216" },
		{ "body_limit", "16777216", "16777216" },
		{ "map_size", "1M", "1048576" },
		{ "map_size", "1024K", "1048576" },
		{ "map_size", "2g", "2147483648" },
		{ "map_size", "1024G", "1099511627776" },
		{ "map_size", "1T", "1099511627776" },
		{ "log_level", "error", "error" },
		{ "log_level", "warn", "warn" },
		{ "log_level", "info", "info" },
		{ "log_level", "debug", "debug" },
		{ "log_level", "DEBUG", "debug" },
		{ "db", "/srv/mfa", "/srv/mfa" },
		{ "db", "x", "x" },
		{ "spool", "", "" },
		{ "spool", "/var/spool/mfa", "/var/spool/mfa" },
		{ "issuer", "https://mfa.example.com/",
		    "https://mfa.example.com/" },
		{ "issuer", "http://x", "http://x" },
		{ "issuer", "https://a.example:8443/t/1?x=y",
		    "https://a.example:8443/t/1?x=y" },
		{ "realm", "My Site", "My Site" },
		{ "realm", "a", "a" },
		{ "realm", "x!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
		    "x!#$%&'()*+,-./:;<=>?@[]^_`{|}~" },
		{ "listen", "", "" },
		{ "listen", "unix:/run/mfa/mfa.sock",
		    "unix:/run/mfa/mfa.sock" },
		{ "listen", "unix:rel.sock", "unix:rel.sock" },
		{ "listen", "127.0.0.1:9000", "127.0.0.1:9000" },
		{ "listen", ":9000", ":9000" },
		{ "listen", "localhost:65535", "localhost:65535" },
		{ "listen", "*:1", "*:1" },
		{ "user", "", "" },
		{ "user", "mfa", "mfa" },
		{ "user", "www-data", "www-data" },
		{ "user", "svc_mfa.2", "svc_mfa.2" },
		{ "sandbox", "on", "on" },
		{ "sandbox", "off", "off" },
		{ "sandbox", "log", "log" },
		{ "assertion_audience", "strict", "strict" },
		{ "assertion_audience", "legacy", "legacy" },
		{ "log", "stderr", "stderr" },
		{ "log", "syslog", "syslog" },
	};
	struct config cfg;
	char err[512], got[4200];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		config_defaults(&cfg);
		err[0] = '\0';
		rc = config_set(&cfg, t[i].key, t[i].value, err, sizeof(err));
		T_EQ_INT(rc, MFA_OK);
		T_EQ_STR(err, "");
		T_EQ_STR(dumped(&cfg, t[i].key, got, sizeof(got)), t[i].want);
	}
	/* Strings at their longest allowed length. */
	{
		char path[PATH_MAX], url[256], realm[64];

		memset(path, 'p', sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		path[0] = '/';
		memcpy(url, "https://", 8);
		memset(url + 8, 'u', sizeof(url) - 9);
		url[sizeof(url) - 1] = '\0';
		memset(realm, 'r', sizeof(realm) - 1);
		realm[sizeof(realm) - 1] = '\0';
		config_defaults(&cfg);
		T_EQ_INT(config_set(&cfg, "db", path, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.db, path);
		T_EQ_INT(config_set(&cfg, "spool", path, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.spool, path);
		T_EQ_INT(config_set(&cfg, "issuer", url, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.issuer, url);
		T_EQ_INT(config_set(&cfg, "realm", realm, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.realm, realm);
	}
}

static void
test_config_invalid(void)
{
	static const struct {
		const char *key, *value, *err;
	} t[] = {
		{ "nope", "1", "unknown key 'nope'" },
		{ "user", "mfa user",
		    "user: only letters, digits, '.', '_' and '-' are "
		    "allowed" },
		{ "user", "../root",
		    "user: only letters, digits, '.', '_' and '-' are "
		    "allowed" },
		{ "user", "a234567890123456789012345678901234567890123456789012"
		    "345678901234", "user: longer than 63 bytes" },
		{ "sandbox", "yes",
		    "sandbox: 'yes' is not one of off, on or log" },
		{ "sandbox", "ON", "sandbox: 'ON' is not one of off, on or log" },
		{ "sandbox", "", "sandbox: '' is not one of off, on or log" },
		{ "assertion_audience", "loose", "assertion_audience: 'loose' is "
		    "not one of strict or legacy" },
		{ "log", "file", "log: 'file' is not one of stderr or syslog" },
		{ "Workers", "1", "unknown key 'Workers'" },
		{ "", "1", "unknown key ''" },
		{ "workers", "257", "workers: 257 is out of range (0..256)" },
		{ "workers", "-1", "workers: -1 is out of range (0..256)" },
		{ "workers", "99999999999999999999",
		    "workers: 99999999999999999999 is out of range (0..256)" },
		{ "workers", "", "workers: '' is not a decimal integer" },
		{ "workers", "4x", "workers: '4x' is not a decimal integer" },
		{ "workers", " 4", "workers: ' 4' is not a decimal integer" },
		{ "workers", "4 ", "workers: '4 ' is not a decimal integer" },
		{ "workers", "+4", "workers: '+4' is not a decimal integer" },
		{ "workers", "0x10",
		    "workers: '0x10' is not a decimal integer" },
		{ "workers", "4.0", "workers: '4.0' is not a decimal integer" },
		{ "workers", "4K", "workers: '4K' is not a decimal integer" },
		{ "workers", "-", "workers: '-' is not a decimal integer" },
		{ "workers", "99999999999999999999x",
		    "workers: '99999999999999999999x' is not a decimal "
		    "integer" },
		{ "sms_burst", "0", "sms_burst: 0 is out of range (1..1000)" },
		{ "sms_burst", "1001",
		    "sms_burst: 1001 is out of range (1..1000)" },
		{ "email_burst", "0",
		    "email_burst: 0 is out of range (1..1000)" },
		{ "email_burst", "1001",
		    "email_burst: 1001 is out of range (1..1000)" },
		{ "token_ttl", "59",
		    "token_ttl: 59 is out of range (60..86400 seconds)" },
		{ "token_ttl", "86401",
		    "token_ttl: 86401 is out of range (60..86400 seconds)" },
		{ "token_ttl", "10m",
		    "token_ttl: '10m' is not a number of seconds" },
		{ "oob_ttl", "29",
		    "oob_ttl: 29 is out of range (30..3600 seconds)" },
		{ "oob_ttl", "3601",
		    "oob_ttl: 3601 is out of range (30..3600 seconds)" },
		{ "otp_challenge_ttl", "59",
		    "otp_challenge_ttl: 59 is out of range "
		    "(60..86400 seconds)" },
		{ "otp_challenge_ttl", "86401",
		    "otp_challenge_ttl: 86401 is out of range "
		    "(60..86400 seconds)" },
		{ "sms_refill", "0",
		    "sms_refill: 0 is out of range (1..86400 seconds)" },
		{ "sms_refill", "86401",
		    "sms_refill: 86401 is out of range (1..86400 seconds)" },
		{ "email_refill", "0",
		    "email_refill: 0 is out of range (1..86400 seconds)" },
		{ "email_refill", "86401",
		    "email_refill: 86401 is out of range (1..86400 seconds)" },
		{ "respawn_max_delay", "0",
		    "respawn_max_delay: 0 is out of range (1..3600 seconds)" },
		{ "read_timeout", "0",
		    "read_timeout: 0 is out of range (1..3600 seconds)" },
		{ "respawn_max_delay", "3601",
		    "respawn_max_delay: 3601 is out of range "
		    "(1..3600 seconds)" },
		{ "respawn_max_delay", "1s",
		    "respawn_max_delay: '1s' is not a number of seconds" },
		{ "body_limit", "1023",
		    "body_limit: 1023 is out of range (1K..16M)" },
		{ "body_limit", "16777217",
		    "body_limit: 16777217 is out of range (1K..16M)" },
		{ "body_limit", "17M",
		    "body_limit: 17M is out of range (1K..16M)" },
		{ "body_limit", "-1K",
		    "body_limit: -1K is out of range (1K..16M)" },
		{ "body_limit", "16MB",
		    "body_limit: '16MB' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "body_limit", "1.5K",
		    "body_limit: '1.5K' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "body_limit", "K",
		    "body_limit: 'K' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "body_limit", "64 K",
		    "body_limit: '64 K' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "body_limit", "",
		    "body_limit: '' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "map_size", "1023K",
		    "map_size: 1023K is out of range (1M..1T)" },
		{ "map_size", "2T", "map_size: 2T is out of range (1M..1T)" },
		{ "map_size", "1099511627777",
		    "map_size: 1099511627777 is out of range (1M..1T)" },
		{ "map_size", "9999999999T",
		    "map_size: 9999999999T is out of range (1M..1T)" },
		{ "map_size", "1P",
		    "map_size: '1P' is not a size (bytes, or a number with "
		    "K, M, G or T)" },
		{ "log_level", "verbose",
		    "log_level: 'verbose' is not one of error, warn, info, "
		    "debug" },
		{ "log_level", "",
		    "log_level: '' is not one of error, warn, info, debug" },
		{ "log_level", "2",
		    "log_level: '2' is not one of error, warn, info, debug" },
		{ "db", "", "db: must not be empty" },
		{ "issuer", "", "issuer: must be an http:// or https:// URL" },
		{ "issuer", "ftp://x",
		    "issuer: must be an http:// or https:// URL" },
		{ "issuer", "http://",
		    "issuer: must be an http:// or https:// URL" },
		{ "issuer", "https://",
		    "issuer: must be an http:// or https:// URL" },
		{ "issuer", "HTTPS://x",
		    "issuer: must be an http:// or https:// URL" },
		{ "issuer", "mfa.example.com",
		    "issuer: must be an http:// or https:// URL" },
		{ "issuer", "https://a b/",
		    "issuer: must not contain spaces, control or non-ASCII "
		    "characters" },
		{ "issuer", "https://\xc3\xa9.example/",
		    "issuer: must not contain spaces, control or non-ASCII "
		    "characters" },
		{ "realm", "", "realm: must not be empty" },
		{ "realm", "a\"b",
		    "realm: only printable ASCII without '\"' or '\\' is "
		    "allowed" },
		{ "realm", "a\\b",
		    "realm: only printable ASCII without '\"' or '\\' is "
		    "allowed" },
		{ "realm", "a\tb",
		    "realm: only printable ASCII without '\"' or '\\' is "
		    "allowed" },
		{ "realm", "caf\xc3\xa9",
		    "realm: only printable ASCII without '\"' or '\\' is "
		    "allowed" },
		{ "listen", "foo",
		    "listen: 'foo' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", "unix:",
		    "listen: 'unix:' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", "unix:/a:80",
		    "listen: 'unix:/a:80' is not unix:PATH, HOST:PORT or "
		    ":PORT" },
		{ "listen", "host:0",
		    "listen: 'host:0' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", "host:65536",
		    "listen: 'host:65536' is not unix:PATH, HOST:PORT or "
		    ":PORT" },
		{ "listen", "host:",
		    "listen: 'host:' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", "::1:80",
		    "listen: '::1:80' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", ":80x",
		    "listen: ':80x' is not unix:PATH, HOST:PORT or :PORT" },
		{ "listen", ":999999999999",
		    "listen: ':999999999999' is not unix:PATH, HOST:PORT or "
		    ":PORT" },
	};
	struct config cfg;
	char err[512], before[8192], after[8192];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		config_defaults(&cfg);
		dump(&cfg, before, sizeof(before));
		err[0] = '\0';
		T_EQ_INT(config_set(&cfg, t[i].key, t[i].value, err,
		    sizeof(err)), MFA_ERR_CONFIG);
		T_EQ_STR(err, t[i].err);
		/* A refused value leaves the configuration as it was. */
		T_EQ_STR(dump(&cfg, after, sizeof(after)), before);
	}
	/* One byte over the longest allowed length. */
	{
		char path[PATH_MAX + 1], url[257], realm[65];

		memset(path, 'p', sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		memcpy(url, "https://", 8);
		memset(url + 8, 'u', sizeof(url) - 9);
		url[sizeof(url) - 1] = '\0';
		memset(realm, 'r', sizeof(realm) - 1);
		realm[sizeof(realm) - 1] = '\0';
		config_defaults(&cfg);
		T_EQ_INT(config_set(&cfg, "db", path, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "db: longer than 4095 bytes");
		T_EQ_INT(config_set(&cfg, "spool", path, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "spool: longer than 4095 bytes");
		T_EQ_INT(config_set(&cfg, "listen", path, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "listen: longer than 4095 bytes");
		T_EQ_INT(config_set(&cfg, "issuer", url, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "issuer: longer than 255 bytes");
		T_EQ_INT(config_set(&cfg, "realm", realm, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "realm: longer than 63 bytes");
		T_EQ_STR(cfg.db, "./var");
	}
	/* A long bad value is quoted back only in part. */
	{
		char v[200];

		memset(v, '9', sizeof(v) - 1);
		v[sizeof(v) - 1] = '\0';
		v[0] = 'x';
		config_defaults(&cfg);
		T_EQ_INT(config_set(&cfg, "workers", v, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		T_EQ_INT(strlen(err), strlen("workers: '' is not a decimal "
		    "integer") + 64);
		/* A short error buffer truncates, never overflows. */
		T_EQ_INT(config_set(&cfg, "workers", "x", err, 10),
		    MFA_ERR_CONFIG);
		T_EQ_STR(err, "workers: ");
		T_EQ_INT(config_set(&cfg, "workers", "x", NULL, 0),
		    MFA_ERR_CONFIG);
	}
}

static void
test_config_file(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *err;	/* after "PATH:" */
	} t[] = {
		{ "workers = 4\nbogus = 1\n", MFA_ERR_CONFIG,
		    "2: unknown key 'bogus'" },
		{ "# comment\n\n  \nworkers = 300\n", MFA_ERR_CONFIG,
		    "4: workers: 300 is out of range (0..256)" },
		{ "workers 4\n", MFA_ERR_CONFIG, "1: expected 'key = value'" },
		{ "= 4\n", MFA_ERR_CONFIG, "1: expected 'key = value'" },
		{ "\n\n   = 4\n", MFA_ERR_CONFIG,
		    "3: expected 'key = value'" },
		{ "workers = 1\n#\nworkers = 2\n", MFA_ERR_CONFIG,
		    "3: duplicate key 'workers' (first set on line 1)" },
		{ "token_ttl = 10m\n", MFA_ERR_CONFIG,
		    "1: token_ttl: '10m' is not a number of seconds" },
		{ "realm = a\"b\n", MFA_ERR_CONFIG,
		    "1: realm: only printable ASCII without '\"' or '\\' is "
		    "allowed" },
		{ "workers = 4 # four\ndb =\n", MFA_ERR_CONFIG,
		    "2: db: must not be empty" },
		{ "[main]\n", MFA_ERR_CONFIG, "1: expected 'key = value'" },
		{ "WORKERS = 4\n", MFA_ERR_CONFIG,
		    "1: unknown key 'WORKERS'" },
		{ "log level = info\n", MFA_ERR_CONFIG,
		    "1: unknown key 'log level'" },
	};
	struct config cfg;
	char path[64], err[512], want[600], got[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!tmpfile_write(path, sizeof(path), t[i].text,
		    strlen(t[i].text))) {
			T_TRUE(!"cannot write a temporary file");
			continue;
		}
		config_defaults(&cfg);
		err[0] = '\0';
		T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)),
		    t[i].rc);
		snprintf(want, sizeof(want), "%s:%s", path, t[i].err);
		T_EQ_STR(err, want);
		unlink(path);
	}

	/* Comments, blank lines, white space, CRLF, no final newline. */
	{
		static const char text[] =
		    "# mfa.conf\n"
		    "\n"
		    "   db   =   /srv/mfa   \n"
		    "\tworkers=8\t\n"
		    "issuer = https://mfa.example/#frag   # comment\n"
		    "realm = My Realm # with spaces\n"
		    "listen = unix:/run/mfa.sock\r\n"
		    "spool =\n"
		    "map_size = 4G   \n"
		    "log_level = warn";

		T_TRUE(tmpfile_write(path, sizeof(path), text,
		    sizeof(text) - 1));
		config_defaults(&cfg);
		T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.db, "/srv/mfa");
		T_EQ_INT(cfg.workers, 8);
		T_EQ_STR(cfg.issuer, "https://mfa.example/#frag");
		T_EQ_STR(cfg.realm, "My Realm");
		T_EQ_STR(cfg.listen, "unix:/run/mfa.sock");
		T_EQ_STR(cfg.spool, "");
		T_EQ_INT(cfg.map_size, 4 * (int64_t)1073741824);
		T_EQ_INT(cfg.log_level, LOG_LVL_WARN);
		T_EQ_INT(cfg.token_ttl, 600);
		unlink(path);
	}
	/* A value may hold '=' (split at the first one). */
	{
		static const char text[] = "issuer = https://x/?a=b\n";

		T_TRUE(tmpfile_write(path, sizeof(path), text,
		    sizeof(text) - 1));
		config_defaults(&cfg);
		T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(cfg.issuer, "https://x/?a=b");
		unlink(path);
	}
	/* A NUL byte is refused, with its line. */
	{
		static const char text[] = "workers = 2\nrealm = a\0b\n";

		T_TRUE(tmpfile_write(path, sizeof(path), text,
		    sizeof(text) - 1));
		config_defaults(&cfg);
		T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)),
		    MFA_ERR_CONFIG);
		snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
		T_EQ_STR(err, want);
		unlink(path);
	}
	/* An empty file changes nothing. */
	{
		char before[8192], after[8192];

		T_TRUE(tmpfile_write(path, sizeof(path), "", 0));
		config_defaults(&cfg);
		dump(&cfg, before, sizeof(before));
		T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)),
		    MFA_OK);
		T_EQ_STR(dump(&cfg, after, sizeof(after)), before);
		unlink(path);
	}
	/* A missing file is an I/O error that names it. */
	config_defaults(&cfg);
	T_EQ_INT(config_load_file(&cfg, "/tmp/mfa-test-config-none/x.conf",
	    err, sizeof(err)), MFA_ERR_IO);
	T_EQ_STR(err, "/tmp/mfa-test-config-none/x.conf: No such file or "
	    "directory");
	/* A directory cannot be read as a file. */
	T_TRUE(config_load_file(&cfg, "/tmp", err, sizeof(err)) ==
	    MFA_ERR_IO);
	T_EQ_STR(err, "/tmp: Is a directory");
	T_EQ_STR(dumped(&cfg, "workers", got, sizeof(got)), "0");
}

static void
test_config_env(void)
{
	static const struct {
		const char *env, *key, *value, *want;
	} t[] = {
		{ "MFA_DB", "db", "/e/db", "/e/db" },
		{ "MFA_SPOOL", "spool", "/e/spool", "/e/spool" },
		{ "MFA_ISSUER", "issuer", "https://e.example/",
		    "https://e.example/" },
		{ "MFA_REALM", "realm", "env realm", "env realm" },
		{ "MFA_LISTEN", "listen", "127.0.0.1:9001", "127.0.0.1:9001" },
		{ "MFA_WORKERS", "workers", "3", "3" },
		{ "MFA_TOKEN_TTL", "token_ttl", "61", "61" },
		{ "MFA_OOB_TTL", "oob_ttl", "31", "31" },
		{ "MFA_OTP_CHALLENGE_TTL", "otp_challenge_ttl", "62", "62" },
		{ "MFA_BODY_LIMIT", "body_limit", "2K", "2048" },
		{ "MFA_MAP_SIZE", "map_size", "2M", "2097152" },
		{ "MFA_LOG_LEVEL", "log_level", "debug", "debug" },
		{ "MFA_SMS_BURST", "sms_burst", "2", "2" },
		{ "MFA_SMS_REFILL", "sms_refill", "2", "2" },
		{ "MFA_EMAIL_BURST", "email_burst", "3", "3" },
		{ "MFA_EMAIL_REFILL", "email_refill", "4", "4" },
		{ "MFA_RESPAWN_MAX_DELAY", "respawn_max_delay", "5", "5" },
	};
	struct config cfg;
	char path[64], err[512], got[256];
	size_t i;

	env_clear();
	/* Every key has its variable; each is applied alone. */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setenv(t[i].env, t[i].value, 1);
		config_defaults(&cfg);
		T_EQ_INT(config_load_env(&cfg, err, sizeof(err)), MFA_OK);
		T_EQ_STR(dumped(&cfg, t[i].key, got, sizeof(got)), t[i].want);
		unsetenv(t[i].env);
	}
	/* A bad value names the variable. */
	setenv("MFA_WORKERS", "999", 1);
	config_defaults(&cfg);
	T_EQ_INT(config_load_env(&cfg, err, sizeof(err)), MFA_ERR_CONFIG);
	T_EQ_STR(err, "MFA_WORKERS: workers: 999 is out of range (0..256)");
	setenv("MFA_WORKERS", "", 1);
	T_EQ_INT(config_load(&cfg, NULL, err, sizeof(err)), MFA_ERR_CONFIG);
	T_EQ_STR(err, "MFA_WORKERS: workers: '' is not a decimal integer");
	env_clear();
	/* Variables that name no key are none of our business. */
	setenv("MFA_NOT_A_KEY", "x", 1);
	T_EQ_INT(config_load(&cfg, NULL, err, sizeof(err)), MFA_OK);
	unsetenv("MFA_NOT_A_KEY");

	/* Precedence: defaults < file < environment. */
	{
		static const char text[] =
		    "workers = 2\ntoken_ttl = 120\ndb = /file/db\n";

		T_TRUE(tmpfile_write(path, sizeof(path), text,
		    sizeof(text) - 1));
	}
	setenv("MFA_WORKERS", "3", 1);
	T_EQ_INT(config_load(&cfg, path, err, sizeof(err)), MFA_OK);
	T_EQ_INT(cfg.workers, 3);
	T_EQ_INT(cfg.token_ttl, 120);
	T_EQ_STR(cfg.db, "/file/db");
	T_EQ_INT(cfg.oob_ttl, 300);
	/* An unset spool stays empty and follows db where it is used. */
	T_EQ_STR(cfg.spool, "");
	{
		char sp[PATH_MAX];

		T_EQ_STR(config_spool_dir(&cfg, sp, sizeof(sp)),
		    "/file/db/spool");
	}
	setenv("MFA_SPOOL", "/env/spool", 1);
	T_EQ_INT(config_load(&cfg, path, err, sizeof(err)), MFA_OK);
	T_EQ_STR(cfg.spool, "/env/spool");
	unsetenv("MFA_SPOOL");
	unsetenv("MFA_WORKERS");

	/* MFA_CONFIG names the file when no path is given... */
	setenv("MFA_CONFIG", path, 1);
	T_EQ_INT(config_load(&cfg, NULL, err, sizeof(err)), MFA_OK);
	T_EQ_INT(cfg.workers, 2);
	T_EQ_STR(cfg.db, "/file/db");
	/* ...and is ignored when one is. */
	setenv("MFA_CONFIG", "/tmp/mfa-test-config-none/x.conf", 1);
	T_EQ_INT(config_load(&cfg, path, err, sizeof(err)), MFA_OK);
	T_EQ_INT(cfg.workers, 2);
	T_EQ_INT(config_load(&cfg, NULL, err, sizeof(err)), MFA_ERR_IO);
	T_EQ_STR(err, "/tmp/mfa-test-config-none/x.conf: No such file or "
	    "directory");
	/* An empty MFA_CONFIG means no file. */
	setenv("MFA_CONFIG", "", 1);
	T_EQ_INT(config_load(&cfg, NULL, err, sizeof(err)), MFA_OK);
	T_EQ_STR(cfg.db, "./var");
	T_EQ_STR(cfg.spool, "");
	unsetenv("MFA_CONFIG");
	unlink(path);

	/* A file error is reported before the environment is read. */
	T_TRUE(tmpfile_write(path, sizeof(path), "x = 1\n", 6));
	setenv("MFA_WORKERS", "999", 1);
	T_EQ_INT(config_load(&cfg, path, err, sizeof(err)), MFA_ERR_CONFIG);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:1: unknown key 'x'", path);
		T_EQ_STR(err, want);
	}
	unlink(path);
	env_clear();
}

static void
test_config_spool(void)
{
	struct config cfg;
	char buf[PATH_MAX], small[8];
	char db[PATH_MAX];

	config_defaults(&cfg);
	T_EQ_STR(config_spool_dir(&cfg, buf, sizeof(buf)), "./var/spool");
	T_TRUE(config_spool_dir(&cfg, small, sizeof(small)) == NULL);
	T_EQ_INT(config_set(&cfg, "spool", "/s", buf, sizeof(buf)), MFA_OK);
	T_TRUE(config_spool_dir(&cfg, small, sizeof(small)) == cfg.spool);
	/* A db so long that <db>/spool does not fit is an error. */
	env_clear();
	memset(db, 'd', sizeof(db) - 1);
	db[sizeof(db) - 1] = '\0';
	setenv("MFA_DB", db, 1);
	T_EQ_INT(config_load(&cfg, NULL, buf, sizeof(buf)), MFA_ERR_CONFIG);
	T_EQ_STR(buf, "spool: <db>/spool would be longer than 4095 bytes; "
	    "set spool");
	setenv("MFA_SPOOL", "/s", 1);
	T_EQ_INT(config_load(&cfg, NULL, buf, sizeof(buf)), MFA_OK);
	env_clear();
}

/* --print-config output reads back as a file and gives the same dump. */
static void
test_config_roundtrip(void)
{
	struct config a, b;
	char path[64], err[512], da[8192], db[8192];

	config_defaults(&a);
	T_EQ_INT(config_set(&a, "issuer", "https://x.example/a?b=c", err,
	    sizeof(err)), MFA_OK);
	T_EQ_INT(config_set(&a, "realm", "Two Words", err, sizeof(err)),
	    MFA_OK);
	T_EQ_INT(config_set(&a, "map_size", "3G", err, sizeof(err)), MFA_OK);
	T_EQ_INT(config_set(&a, "log_level", "error", err, sizeof(err)),
	    MFA_OK);
	T_EQ_INT(config_set(&a, "workers", "16", err, sizeof(err)), MFA_OK);
	dump(&a, da, sizeof(da));
	T_TRUE(tmpfile_write(path, sizeof(path), da, strlen(da)));
	config_defaults(&b);
	T_EQ_INT(config_load_file(&b, path, err, sizeof(err)), MFA_OK);
	T_EQ_STR(dump(&b, db, sizeof(db)), da);
	unlink(path);
}

static void
test_config_usage(void)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	T_TRUE(f != NULL);
	if (f == NULL)
		return;
	config_usage(f);
	fclose(f);
	T_TRUE(strstr(buf,
	    "  MFA_WORKERS            workers, default 0 (0..256)\n"
	    "                         worker processes; 0: 1 on FD 0, 4 with "
	    "listen\n") != NULL);
	T_TRUE(strstr(buf,
	    "  MFA_BODY_LIMIT         body_limit, default 65536 "
	    "(1K..16M bytes)\n"
	    "                         largest request body\n") != NULL);
	T_TRUE(strstr(buf,
	    "  MFA_SPOOL              spool, default empty\n") != NULL);
	T_TRUE(strstr(buf,
	    "  MFA_RESPAWN_MAX_DELAY  respawn_max_delay, default 30 "
	    "(1..3600 seconds)\n") != NULL);
}

static void
test_log_levels(void)
{
	static const struct {
		const char *s;
		int rc;
		enum log_level lvl;
	} t[] = {
		{ "error", MFA_OK, LOG_LVL_ERROR },
		{ "warn", MFA_OK, LOG_LVL_WARN },
		{ "info", MFA_OK, LOG_LVL_INFO },
		{ "debug", MFA_OK, LOG_LVL_DEBUG },
		{ "Info", MFA_OK, LOG_LVL_INFO },
		{ "warning", MFA_ERR_INVALID, LOG_LVL_ERROR },
		{ "", MFA_ERR_INVALID, LOG_LVL_ERROR },
		{ "info ", MFA_ERR_INVALID, LOG_LVL_ERROR },
	};
	enum log_level lvl;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		lvl = LOG_LVL_ERROR;
		T_EQ_INT(log_level_parse(t[i].s, &lvl), t[i].rc);
		T_EQ_INT(lvl, t[i].lvl);
	}
	T_EQ_INT(log_level_parse(NULL, &lvl), MFA_ERR_INVALID);
	T_EQ_STR(log_level_name(LOG_LVL_ERROR), "error");
	T_EQ_STR(log_level_name(LOG_LVL_WARN), "warn");
	T_EQ_STR(log_level_name(LOG_LVL_INFO), "info");
	T_EQ_STR(log_level_name(LOG_LVL_DEBUG), "debug");
	T_EQ_STR(log_level_name((enum log_level)7), "unknown");
}

/* The line format, the threshold and the one-line guarantee. */
static void
test_log_lines(void)
{
	char path[64], buf[4096], want[2048], big[2000];
	int fd, saved;
	ssize_t n;
	long pid = (long)getpid();

	if (!tmpfile_write(path, sizeof(path), "", 0)) {
		T_TRUE(!"cannot write a temporary file");
		return;
	}
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_RDWR | O_APPEND);
	T_TRUE(saved >= 0 && fd >= 0);
	if (saved < 0 || fd < 0)
		goto out;
	dup2(fd, STDERR_FILENO);

	log_init("t.fcgi", LOG_LVL_WARN);
	log_error("worker %d (pid %d) killed", 1, 42);
	log_warn("two\nlines\tand \x1b[0m");
	log_info("dropped");
	log_debug("dropped");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_error("%s", big);
	log_init(NULL, LOG_LVL_DEBUG);
	log_debug("kept");
	log_init("mfa.fcgi", (enum log_level)9); /* bad level: unchanged */
	log_debug("still kept");
	log_init("mfa.fcgi", LOG_LVL_INFO);

	dup2(saved, STDERR_FILENO);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	/* Build the expected truncated line: 1023 bytes with newline. */
	{
		char line[1024];
		int h = snprintf(line, sizeof(line), "t.fcgi[%ld]: error: ",
		    pid);

		memset(line + h, 'x', 1022 - 3 - (size_t)h);
		memcpy(line + 1019, "...\n", 5);
		snprintf(want, sizeof(want),
		    "t.fcgi[%ld]: error: worker 1 (pid 42) killed\n"
		    "t.fcgi[%ld]: warn: two?lines?and ?[0m\n"
		    "%s"
		    "t.fcgi[%ld]: debug: kept\n"
		    "mfa.fcgi[%ld]: debug: still kept\n",
		    pid, pid, line, pid, pid);
	}
	T_EQ_STR(buf, want);
out:
	if (saved >= 0)
		close(saved);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

void
test_config(void)
{
	test_config_defaults();
	test_config_valid();
	test_config_invalid();
	test_config_file();
	test_config_env();
	test_config_spool();
	test_config_roundtrip();
	test_config_usage();
	test_log_levels();
	test_log_lines();
}
