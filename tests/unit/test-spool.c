/*
 * test-spool.c -- spool messages written and published (spool.c), both
 * ways (unnamed files linked in, temporary names renamed), and read back
 * (spool_read.c): what mfa-deliver accepts, what it refuses, and which
 * names are messages.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "test.h"

#define GOOD_HEAD "{\"channel\":\"sms\",\"to\":\"+15555550100\"," \
	"\"code\":\"482913\",\"user_id\":\"u1\"," \
	"\"challenge_id\":\"auth_challenge_01ABC\"," \
	"\"created_at\":\"2026-12-06T23:00:00.000Z\""

static void
test_spool_parse_good(void)
{
	struct spool_in m;
	char err[160];
	const char *own = GOOD_HEAD ",\"text\":\"Code 482913 for Acme\"}";
	const char *plain = GOOD_HEAD "}";

	T_EQ_INT(spool_parse(plain, strlen(plain), &m, err, sizeof(err)),
	    MFA_OK);
	T_EQ_STR(m.channel, "sms");
	T_EQ_STR(m.to, "+15555550100");
	T_EQ_STR(m.code, "482913");
	T_EQ_STR(m.user_id, "u1");
	T_EQ_STR(m.challenge_id, "auth_challenge_01ABC");
	T_EQ_STR(m.created_at, "2026-12-06T23:00:00.000Z");
	T_EQ_STR(m.text, "Your verification code is 482913");
	T_EQ_INT(spool_parse(own, strlen(own), &m, err, sizeof(err)), MFA_OK);
	T_EQ_STR(m.text, "Code 482913 for Acme");
	own = "{\"channel\":\"email\",\"to\":\"jane@example.com\","
	    "\"code\":\"1\",\"user_id\":\"u\",\"challenge_id\":\"c\","
	    "\"created_at\":\"t\",\"text\":\"Line 1\\nLine 2\"}";
	T_EQ_INT(spool_parse(own, strlen(own), &m, err, sizeof(err)), MFA_OK);
	T_EQ_STR(m.text, "Line 1\nLine 2"); /* the text may span lines */
}

static void
test_spool_parse_bad(void)
{
	static const struct {
		const char *json, *why;
	} rows[] = {
		{ "", "empty (lost before it reached the disk?)" },
		{ " ", "not a JSON object" },
		{ "[1]", "not a JSON object" },
		{ "{\"channel\":\"sms\"", "not a JSON object" },
		{ "{\"channel\":\"fax\",\"to\":\"1\",\"code\":\"1\","
		    "\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}", "\"channel\" is not sms" },
		{ "{\"channel\":\"sms\",\"code\":\"1\",\"user_id\":\"u\","
		    "\"challenge_id\":\"c\",\"created_at\":\"t\"}",
		    "\"to\" is missing" },
		{ "{\"channel\":\"sms\",\"to\":7,\"code\":\"1\","
		    "\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}", "\"to\" is not a string" },
		{ "{\"channel\":\"sms\",\"to\":\"1\",\"code\":\"\","
		    "\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}", "\"code\" is empty" },
		{ "{\"channel\":\"sms\",\"to\":\"1\",\"code\":"
		    "\"12345678901234567\",\"user_id\":\"u\","
		    "\"challenge_id\":\"c\",\"created_at\":\"t\"}",
		    "\"code\" is empty, too long (at most 16" },
		{ "{\"channel\":\"sms\",\"to\":\"a\\u0000b\",\"code\":\"1\","
		    "\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}", "not a JSON object" }, /* NUL */
		{ GOOD_HEAD ",\"text\":17}", "\"text\" is not a string" },
		{ "{\"channel\":\"sms\",\"to\":\"12345\",\"code\":\"1\","
		    "\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}",
		    "\"to\" is not an E.164 phone number" },
		{ "{\"channel\":\"voice\",\"to\":\"j@example.com\","
		    "\"code\":\"1\",\"user_id\":\"u\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}",
		    "\"to\" is not an E.164 phone number" },
		{ "{\"channel\":\"email\",\"to\":\"j@example.com\\nBcc: "
		    "e@evil.example\",\"code\":\"1\",\"user_id\":\"u\","
		    "\"challenge_id\":\"c\",\"created_at\":\"t\"}",
		    "\"to\" is not an e-mail address" },
		{ "{\"channel\":\"email\",\"to\":\"j@example.com\","
		    "\"code\":\"1\",\"user_id\":\"u\\r\",\"challenge_id\":\"c\","
		    "\"created_at\":\"t\"}", "a field holds a control character" },
		{ "{\"channel\":\"sms\",\"to\":\"+15555550100\","
		    "\"code\":\"1\\u007f\",\"user_id\":\"u\",\"challenge_id\":"
		    "\"c\",\"created_at\":\"t\"}",
		    "a field holds a control character" },
		{ GOOD_HEAD ",\"code\":\"1\"}", "not a JSON object" },
	};
	struct spool_in m;
	char err[160], big[SPOOL_FILE_MAX + 2];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		err[0] = '\0';
		ROW_INT(rows[i].json, spool_parse(rows[i].json,
		    strlen(rows[i].json), &m, err, sizeof(err)),
		    MFA_ERR_INVALID);
		ROW_TRUE(err, strncmp(err, rows[i].why,
		    strlen(rows[i].why)) == 0);
		ROW_TRUE(rows[i].json, m.code[0] == '\0'); /* wiped */
	}
	memset(big, ' ', sizeof(big));
	T_EQ_INT(spool_parse(big, sizeof(big), &m, err, sizeof(err)),
	    MFA_ERR_INVALID);
	T_EQ_STR(err, "larger than 16384 bytes");
}

static void
test_spool_names(void)
{
	static const struct {
		const char *name;
		bool want;
		mfa_ms t;
	} rows[] = {
		{ "1796600532287-auth_challenge_01ABC.json", true,
		    1796600532287 },
		{ "0000000000001-x.json", true, 1 },
		{ ".auth_challenge_01ABC.json.tmp", false, 0 },
		{ "1796600532287-auth_challenge_01ABC.json.tmp", false, 0 },
		{ "179660053228-auth_challenge_01ABC.json", false, 0 },
		{ "17966005322870auth_challenge_01ABC.json", false, 0 },
		{ "1796600532287-.json", false, 0 },
		{ "1796600532287-a/b.json", false, 0 },
		{ "1796600532287-a.b.json", false, 0 },
		{ "179660053228x-abc.json", false, 0 },
		{ "failed", false, 0 },
		{ ".deliver.lock", false, 0 },
	};
	mfa_ms t;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		t = 0;
		ROW_INT(rows[i].name, spool_published_name(rows[i].name, &t),
		    rows[i].want);
		ROW_INT(rows[i].name, t, rows[i].t);
	}
}

/*
 * test-unit is linked with --wrap=open: every open(2) of the code under
 * test comes here. With "open_no_tmpfile" set to an errno, O_TMPFILE
 * fails with it (EOPNOTSUPP: as on a file system without it);
 * "open_tmpfile_calls" counts the attempts.
 */
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

static int open_no_tmpfile;
static int open_tmpfile_calls;

int
__wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		open_tmpfile_calls++;
		if (open_no_tmpfile != 0) {
			errno = open_no_tmpfile;
			return -1;
		}
	}
	return __real_open(path, flags, mode);
}

/* The entries of "dir" (but . and ..); the last one's name in "last". */
static int
spool_entries(const char *dir, char *last, size_t len)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(last, len, "%s", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* Prepared, the message is not in the directory (an unnamed file has no
 * entry at all); published, it is there whole, mode 0600; discarded,
 * nothing is left; a directory that is not there fails. */
static void
test_spool_write(bool unnamed)
{
	struct spool_msg m = { "sms", "+15555550100", "482913", "u1",
		"auth_challenge_01ABC", 1796600532287LL, NULL };
	char dir[] = "/tmp/mfa-test-spool-XXXXXX", name[256], path[512];
	char buf[SPOOL_FILE_MAX + 1], err[128];
	struct spool_file f;
	struct spool_in in;
	struct stat st;
	FILE *fp;
	size_t n = 0;

	T_TRUE(mkdtemp(dir) != NULL);
	spool_prefer_unnamed(unnamed);
	T_EQ_INT(spool_prepare(dir, &m, true, &f), MFA_OK);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), unnamed ? 0 : 1);
	if (!unnamed)
		T_EQ_STR(name, ".auth_challenge_01ABC.json.tmp");
	T_EQ_INT(spool_publish(&f), MFA_OK);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), 1);
	T_EQ_STR(name, "1796600532287-auth_challenge_01ABC.json");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 07777, 0600);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
	}
	T_EQ_INT(spool_parse(buf, n, &in, err, sizeof(err)), MFA_OK);
	T_EQ_STR(in.code, "482913");
	T_EQ_STR(in.challenge_id, "auth_challenge_01ABC");
	unlink(path);

	/* a publish that fails leaves nothing (and nothing open) behind:
	 * the final name taken (a link never replaces it; a rename does),
	 * the temporary file gone (a rename finds nothing) */
	T_EQ_INT(spool_prepare(dir, &m, false, &f), MFA_OK);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	T_EQ_INT(spool_publish(&f), unnamed ? MFA_ERR_IO : MFA_OK);
	T_EQ_INT(f.fd, -1);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), 1);
	if (!unnamed) {
		T_EQ_INT(spool_prepare(dir, &m, false, &f), MFA_OK);
		unlink(f.tmp);
		T_EQ_INT(spool_publish(&f), MFA_ERR_IO);
		T_EQ_INT(spool_entries(dir, name, sizeof(name)), 1);
	}
	unlink(path);

	m.challenge_id = "auth_challenge_01ABD";
	T_EQ_INT(spool_prepare(dir, &m, false, &f), MFA_OK);
	spool_discard(&f);
	spool_discard(&f); /* twice: nothing more to do */
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), 0);
	T_EQ_INT(rmdir(dir), 0);
	T_EQ_INT(spool_prepare(dir, &m, false, &f), MFA_ERR_IO);
	spool_prefer_unnamed(true);
}

/*
 * Where O_TMPFILE is refused as unsupported (EOPNOTSUPP; EISDIR and
 * EINVAL from older kernels), the message is written under a temporary
 * name and renamed, and O_TMPFILE is not tried again. Any other refusal
 * (EACCES) fails the message and leaves the next one to try O_TMPFILE.
 */
static void
test_spool_no_tmpfile(int e)
{
	struct spool_msg m = { "sms", "+15555550100", "482913", "u1",
		"auth_challenge_01ABC", 1796600532287LL, NULL };
	char dir[] = "/tmp/mfa-test-spool-XXXXXX", name[256] = "", path[512];
	bool falls_back = e != EACCES;
	struct spool_file f;

	T_TRUE(mkdtemp(dir) != NULL);
	spool_prefer_unnamed(true);
	open_no_tmpfile = e;
	open_tmpfile_calls = 0;
	T_EQ_INT(spool_prepare(dir, &m, false, &f),
	    falls_back ? MFA_OK : MFA_ERR_IO);
	T_EQ_INT(f.fd, -1);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), falls_back ? 1 : 0);
	if (falls_back) {
		T_EQ_STR(name, ".auth_challenge_01ABC.json.tmp");
		T_EQ_INT(spool_publish(&f), MFA_OK);
		T_EQ_INT(spool_entries(dir, name, sizeof(name)), 1);
		T_EQ_STR(name, "1796600532287-auth_challenge_01ABC.json");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		T_EQ_INT(unlink(path), 0);
	}

	m.challenge_id = "auth_challenge_01ABD";
	open_no_tmpfile = 0;
	T_EQ_INT(spool_prepare(dir, &m, false, &f), MFA_OK);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), falls_back ? 1 : 0);
	if (falls_back)
		T_EQ_STR(name, ".auth_challenge_01ABD.json.tmp");
	spool_discard(&f);
	/* given up after the first refusal of O_TMPFILE itself */
	T_EQ_INT(open_tmpfile_calls, falls_back ? 1 : 2);
	T_EQ_INT(spool_entries(dir, name, sizeof(name)), 0);
	spool_prefer_unnamed(true);
	T_EQ_INT(rmdir(dir), 0);
}

void
test_spool(void)
{
	test_spool_write(true);
	test_spool_no_tmpfile(EOPNOTSUPP);
	test_spool_no_tmpfile(EISDIR);
	test_spool_no_tmpfile(EINVAL);
	test_spool_no_tmpfile(EACCES);
	test_spool_write(false);
	test_spool_parse_good();
	test_spool_parse_bad();
	test_spool_names();
}
