/*
 * test-ids.c -- identifier shapes (handles, ULID challenge ids with their
 * time order, authenticator, client and binding codes), the shape
 * predicates, and mask.c (destination masking and validation).
 */
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "mask.h"
#include "test.h"

#define ROW_STR(row, a, b)                                                 \
	do {                                                               \
		const char *r_a_ = (a), *r_b_ = (b);                       \
		test_report(r_a_ != NULL && r_b_ != NULL &&                \
		    strcmp(r_a_, r_b_) == 0, __FILE__, __LINE__,           \
		    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b,     \
		    r_a_ ? r_a_ : "(null)", r_b_ ? r_b_ : "(null)");       \
	} while (0)

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL ALNUM "-_"
#define CROCKFORD "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#define NHANDLES 10000

static int
cmp_handle(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_ids_handle(void)
{
	char (*h)[MFA_HANDLE_LEN + 1];
	size_t i, dups = 0, bad = 0;

	h = calloc(NHANDLES, sizeof(*h));
	T_TRUE(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < NHANDLES; i++) {
		ids_handle(h[i]);
		if (strlen(h[i]) != MFA_HANDLE_LEN ||
		    strspn(h[i], B64URL) != MFA_HANDLE_LEN ||
		    !ids_is_handle(h[i]))
			bad++;
	}
	T_EQ_INT(bad, 0);
	qsort(h, NHANDLES, sizeof(*h), cmp_handle);
	for (i = 1; i < NHANDLES; i++)
		if (strcmp(h[i - 1], h[i]) == 0)
			dups++;
	T_EQ_INT(dups, 0);
	free(h);
}

#define A42 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void
test_ids_is_handle(void)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ A42 "A", true },
		{ A42 "E", true },  /* 000100: low 2 bits clear */
		{ A42 "w", true },
		{ "__________________________________________8", true },
		{ "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_4", true },
		{ A42 "B", false }, /* non-zero trailing bits */
		{ A42 "D", false },
		{ A42, false },      /* 42 chars */
		{ A42 "AA", false }, /* 44 chars */
		{ A42 "A=", false },
		{ A42 "=", false },
		{ "+" A42, false },
		{ "/" A42, false },
		{ " " A42, false },
		{ A42 ".", false },
		{ "AAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAA", false },
		{ "", false },
		{ "abc", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAV", false },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		ROW_INT(rows[i].s, ids_is_handle(rows[i].s), rows[i].ok);
}

static void
test_ids_challenge(void)
{
	/* strictly increasing times */
	static const mfa_ms times[] = { 0, 1, 31, 32, 1000, 1469918176385LL,
		1644938813274LL, 1644938813275LL, 1700000000000LL,
		140737488355328LL, 281474976710654LL, 281474976710655LL };
	static const struct {
		mfa_ms t;
		const char *prefix;
	} known[] = {
		{ 0, "auth_challenge_0000000000" },
		{ 1, "auth_challenge_0000000001" },
		{ 32, "auth_challenge_0000000010" },
		/* the ULID specification's example time */
		{ 1469918176385LL, "auth_challenge_01ARYZ6S41" },
		{ 281474976710655LL, "auth_challenge_7ZZZZZZZZZ" },
	};
	char ids[NELEM(times)][IDS_CHALLENGE_LEN + 1], a[IDS_CHALLENGE_LEN + 1];
	char b[IDS_CHALLENGE_LEN + 1], row[48];
	size_t i;

	for (i = 0; i < NELEM(times); i++) {
		snprintf(row, sizeof(row), "t=%lld", (long long)times[i]);
		ids_challenge(times[i], ids[i]);
		ROW_INT(row, strlen(ids[i]), IDS_CHALLENGE_LEN);
		ROW_INT(row, strncmp(ids[i], IDS_CHALLENGE_PREFIX, 15), 0);
		ROW_INT(row, strspn(ids[i] + 15, CROCKFORD), 26);
		ROW_INT(row, ids_is_challenge(ids[i]), true);
		if (i > 0)
			ROW_INT(row, strcmp(ids[i - 1], ids[i]) < 0, true);
	}
	for (i = 0; i < NELEM(known); i++) {
		ids_challenge(known[i].t, a);
		ROW_INT(known[i].prefix, strncmp(a, known[i].prefix, 25), 0);
	}
	/* the same millisecond: same time part, different random part */
	ids_challenge(1644938813274LL, a);
	ids_challenge(1644938813274LL, b);
	T_EQ_INT(strncmp(a, b, 25), 0);
	T_TRUE(strcmp(a + 25, b + 25) != 0);
}

static void
test_ids_is_challenge(void)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAV", true },
		{ "auth_challenge_00000000000000000000000000", true },
		{ "auth_challenge_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true },
		{ "auth_challenge_8ZZZZZZZZZZZZZZZZZZZZZZZZZ", false },
		{ "auth_challenge_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", false },
		{ "auth_challenge_01arYZ6S41TSV4RRFFQ69G5FAV", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAI", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAL", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAO", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAU", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FA", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAVV", false },
		{ "auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FA-", false },
		{ "Auth_challenge_01ARYZ6S41TSV4RRFFQ69G5FAV", false },
		{ "auth_chall3nge_01ARYZ6S41TSV4RRFFQ69G5FAV", false },
		{ "xauth_challenge_01ARYZ6S41TSV4RRFFQ69G5FA", false },
		{ "01ARYZ6S41TSV4RRFFQ69G5FAV", false },
		{ "auth_challenge_", false },
		{ "", false },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		ROW_INT(rows[i].s, ids_is_challenge(rows[i].s), rows[i].ok);
}

static void
test_ids_others(void)
{
	static const char *const kinds[] = { "totp", "sms", "voice", "email",
		"recovery-code" };
	char out[MFA_AUTHN_ID_MAX + 1], out2[MFA_AUTHN_ID_MAX + 1];
	char prefix[32], c[IDS_CLIENT_LEN + 1];
	char c2[IDS_CLIENT_LEN + 1], code[IDS_BINDING_LEN + 1];
	size_t i, plen, bad = 0;
	unsigned seen = 0;

	for (i = 0; i < NELEM(kinds); i++) {
		snprintf(prefix, sizeof(prefix), "%s|dev_", kinds[i]);
		plen = strlen(prefix);
		memset(out, 'Z', sizeof(out));
		ids_authenticator(kinds[i], out);
		ROW_INT(kinds[i], strncmp(out, prefix, plen), 0);
		ROW_INT(kinds[i], strlen(out), plen + 16);
		ROW_INT(kinds[i], strspn(out + plen, ALNUM), 16);
	}
	ids_authenticator("sms", out);
	ids_authenticator("sms", out2);
	T_TRUE(strcmp(out, out2) != 0);

	memset(c, 'Z', sizeof(c));
	ids_client(c);
	T_EQ_INT(strlen(c), IDS_CLIENT_LEN);
	T_EQ_INT(strspn(c, ALNUM), IDS_CLIENT_LEN);
	ids_client(c2);
	T_TRUE(strcmp(c, c2) != 0);

	/* 6 digits, leading zeros kept; every digit shows up */
	for (i = 0; i < 2000; i++) {
		memset(code, 'Z', sizeof(code));
		ids_binding_code(code);
		if (strlen(code) != IDS_BINDING_LEN ||
		    strspn(code, "0123456789") != IDS_BINDING_LEN)
			bad++;
		seen |= 1u << (code[0] - '0');
	}
	T_EQ_INT(bad, 0);
	T_EQ_INT(seen, 0x3ff);
}

static void
test_mask(void)
{
	static const struct {
		const char *to;
		size_t outlen;
		const char *want;
	} phones[] = {
		{ "+14155550100", 64, "XXXXXXXX0100" },
		{ "+4915112345678", 64, "XXXXXXXXXX5678" },
		{ "+12345", 64, "XX2345" },
		{ "12345", 64, "X2345" },
		{ "1234", 64, "1234" },
		{ "12", 64, "12" },
		{ "", 64, "" },
		/* the output is cut, never overrun */
		{ "+14155550100", 13, "XXXXXXXX0100" },
		{ "+14155550100", 12, "XXXXXXXX010" },
		{ "+14155550100", 5, "XXXX" },
		{ "+14155550100", 1, "" },
	}, emails[] = {
		{ "john@example.com", 64, "j***@example.com" },
		{ "a@b.c", 64, "a***@b.c" },
		{ "jane.doe+tag@mail.example.org", 64,
		    "j***@mail.example.org" },
		{ "@example.com", 64, "***" },
		{ "nodomain", 64, "***" },
		{ "", 64, "***" },
		{ "john@example.com", 8, "j***@ex" },
	};
	char out[72];
	size_t i;

	for (i = 0; i < NELEM(phones); i++) {
		memset(out, 'Z', sizeof(out));
		mask_phone(phones[i].to, out, phones[i].outlen);
		ROW_STR(phones[i].to, out, phones[i].want);
		ROW_INT(phones[i].to, out[phones[i].outlen], 'Z');
	}
	memset(out, 'Z', sizeof(out));
	mask_phone("+14155550100", out, 0);
	T_EQ_INT(out[0], 'Z');

	for (i = 0; i < NELEM(emails); i++) {
		memset(out, 'Z', sizeof(out));
		mask_email(emails[i].to, out, emails[i].outlen);
		ROW_STR(emails[i].to, out, emails[i].want);
		ROW_INT(emails[i].to, out[emails[i].outlen], 'Z');
	}
}

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D60 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static void
test_mask_predicates(void)
{
	static const struct {
		const char *s;
		bool ok;
	} e164[] = {
		{ "+14155550100", true },
		{ "+1234567", true },          /* 7 digits */
		{ "+123456789012345", true },  /* 15 digits */
		{ "+123456", false },          /* 6 */
		{ "+1234567890123456", false }, /* 16 */
		{ "+04155550100", false },
		{ "14155550100", false },
		{ "+1 4155550100", false },
		{ "+1-415-555-0100", false },
		{ "+14155550100 ", false },
		{ "+14155550100\n", false },
		{ "++14155550100", false },
		{ "+", false },
		{ "", false },
		{ "+1415555010a", false },
		{ "+\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7",
		    false }, /* Arabic-Indic digits */
	}, email[] = {
		{ "john@example.com", true },
		{ "a@b.c", true },
		{ "jane.doe+tag@mail.example.org", true },
		{ L64 "@example.com", true },    /* 64-byte local part */
		{ L64 "a@example.com", false },  /* 65 */
		{ "@example.com", false },
		{ "john@", false },
		{ "john", false },
		{ "john@example", false },
		{ "john@.example.com", false },
		{ "john@example.", false },
		{ "john@example.com.", false },
		{ "john@@example.com", false },
		{ "jo@hn@example.com", false },
		{ "jo hn@example.com", false },
		{ "john@exa mple.com", false },
		{ "john@example.com\n", false },
		{ "\tjohn@example.com", false },
		{ "j\x7fohn@example.com", false },
		{ "j\xc3\xb6hn@example.com", false }, /* non-ASCII */
		{ "<john@example.com>", false },
		{ "\"john\"@example.com", false },
		{ "jo\\hn@example.com", false },
		{ "john@example.com,eve@example.com", false },
		{ "john@example.com;eve@example.com", false },
		{ "", false },
		/* 254 bytes in all fits, 255 does not */
		{ "a@" D60 "." D60 "." D60 "." D60 "." "dddddddd", true },
		{ "a@" D60 "." D60 "." D60 "." D60 "." "ddddddddd", false },
	};
	size_t i;

	for (i = 0; i < NELEM(e164); i++)
		ROW_INT(e164[i].s, mask_is_e164(e164[i].s), e164[i].ok);
	for (i = 0; i < NELEM(email); i++)
		ROW_INT(email[i].s, mask_is_email(email[i].s), email[i].ok);
	T_EQ_INT(strlen("a@" D60 "." D60 "." D60 "." D60 "." "dddddddd"),
	    MFA_DEST_MAX);
	T_EQ_INT(strlen(L64), 64);
}

void
test_ids(void)
{
	test_ids_handle();
	test_ids_is_handle();
	test_ids_challenge();
	test_ids_is_challenge();
	test_ids_others();
	test_mask();
	test_mask_predicates();
}
