/*
 * test-spool.c -- out-of-band messages formatted (spool.c) and read back
 * (spool_read.c): what mfa-deliver accepts, what it refuses, and which
 * names are messages.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonmem.h"
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
 * A message as the service formats it (spool_format) reads back field for
 * field (spool_parse), with its own text and without, and with what JSON
 * must escape; a field that is not UTF-8 is refused.
 */
static void
test_spool_format(void)
{
	struct spool_msg m = { "sms", "+15555550100", "482913", "u\"1\n",
		"auth_challenge_01ABC", 1796600532287LL, NULL };
	struct spool_in in;
	char err[128];
	char *j;

	T_TRUE((j = spool_format(&m)) != NULL);
	if (j == NULL)
		return;
	T_EQ_STR(j, "{\"channel\":\"sms\",\"to\":\"+15555550100\","
	    "\"code\":\"482913\",\"user_id\":\"u\\\"1\\n\","
	    "\"challenge_id\":\"auth_challenge_01ABC\","
	    "\"created_at\":\"2026-12-06T23:42:12.287Z\"}");
	T_EQ_INT(spool_parse(j, strlen(j), &in, err, sizeof(err)),
	    MFA_ERR_INVALID); /* a control character in the user id */
	free(j);
	m.user_id = "u1";
	m.channel = "email";
	m.to = "jane@example.com";
	m.text = "Acme: 482913\nvalid 5 minutes";
	T_TRUE((j = spool_format(&m)) != NULL);
	if (j == NULL)
		return;
	T_EQ_INT(spool_parse(j, strlen(j), &in, err, sizeof(err)), MFA_OK);
	T_EQ_STR(in.channel, "email");
	T_EQ_STR(in.to, "jane@example.com");
	T_EQ_STR(in.code, "482913");
	T_EQ_STR(in.user_id, "u1");
	T_EQ_STR(in.challenge_id, "auth_challenge_01ABC");
	T_EQ_STR(in.created_at, "2026-12-06T23:42:12.287Z");
	T_EQ_STR(in.text, "Acme: 482913\nvalid 5 minutes");
	free(j);
	m.text = "\xff\xfe";
	T_TRUE(spool_format(&m) == NULL);
}

/* The runner installs jsonmem as the programs do, so that the tests run
 * jansson's frees through it (valgrind and ASan check each wipe). */
static void
test_spool_jsonmem(void)
{
	T_TRUE(jsonmem_installed());
}

void
test_spool(void)
{
	test_spool_jsonmem();
	test_spool_format();
	test_spool_parse_good();
	test_spool_parse_bad();
	test_spool_names();
}
