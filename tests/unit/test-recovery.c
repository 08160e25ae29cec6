/*
 * test-recovery.c -- recovery codes: the shape of recovery_make (24
 * characters of A-Z0-9, NUL-terminated, 10000 codes all different, every
 * character of the alphabet used about evenly), recovery_normalize as a
 * table (upper case kept, lower case folded, spaces and dashes dropped,
 * 23 and 25 characters refused, every other byte refused, the output
 * wiped on refusal), and recovery_hash (deterministic, the stored form
 * keys_hash("recovery_code:<user>", code), different for another user,
 * another code and another master key, no ambiguity between user and
 * code).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "recovery.h"
#include "test.h"

#define ROW_STR(row, a, b)                                                 \
	test_report(strcmp((a), (b)) == 0, __FILE__, __LINE__,             \
	    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b, (a), (b))

#define ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define NCODES 10000

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

static int
code_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RECOVERY_LEN + 1);
}

static void
test_recovery_make(void)
{
	static char codes[NCODES][RECOVERY_LEN + 1];
	static const char alphabet[] = ALPHABET;
	unsigned long count[256];
	char norm[RECOVERY_LEN + 1];
	size_t i, j, bad_len = 0, bad_char = 0, bad_norm = 0, dups = 0;
	size_t unused = 0, skewed = 0, outside = 0;
	double expect;

	T_EQ_INT(RECOVERY_LEN, 24);
	T_EQ_INT(RECOVERY_SET, 10);
	memset(count, 0, sizeof(count));
	for (i = 0; i < NCODES; i++) {
		/* a sentinel beyond the NUL: recovery_make writes 25 bytes */
		memset(codes[i], 'x', sizeof(codes[i]));
		recovery_make(codes[i]);
		if (strlen(codes[i]) != RECOVERY_LEN)
			bad_len++;
		for (j = 0; j < RECOVERY_LEN; j++) {
			count[(unsigned char)codes[i][j]]++;
			if (strchr(alphabet, codes[i][j]) == NULL ||
			    codes[i][j] == '\0')
				bad_char++;
		}
		/* every code made is accepted as it is */
		if (!recovery_normalize(codes[i], norm) ||
		    strcmp(norm, codes[i]) != 0)
			bad_norm++;
	}
	T_EQ_INT(bad_len, 0);
	T_EQ_INT(bad_char, 0);
	T_EQ_INT(bad_norm, 0);

	/* 10000 codes of ~124 bits: all different */
	qsort(codes, NCODES, sizeof(codes[0]), code_cmp);
	for (i = 1; i < NCODES; i++)
		if (memcmp(codes[i - 1], codes[i], sizeof(codes[0])) == 0)
			dups++;
	T_EQ_INT(dups, 0);

	/*
	 * 240000 characters over 36 symbols: ~6667 each, standard deviation
	 * ~81. Every symbol is used, none is off by more than 10%, and no
	 * other byte appears.
	 */
	expect = (double)NCODES * RECOVERY_LEN / (sizeof(alphabet) - 1);
	for (i = 0; i < 256; i++) {
		if (strchr(alphabet, (int)i) == NULL || i == 0) {
			if (count[i] != 0)
				outside++;
			continue;
		}
		if (count[i] == 0)
			unused++;
		else if (count[i] < expect * 0.9 || count[i] > expect * 1.1)
			skewed++;
	}
	T_EQ_INT(outside, 0);
	T_EQ_INT(unused, 0);
	T_EQ_INT(skewed, 0);
	sodium_memzero(codes, sizeof(codes));
}

struct norm_row {
	const char *name;
	const char *in;
	bool ok;
	const char *out; /* when ok */
};

#define C24 "ABCDEFGHJKLMNPQRSTUVWXYZ"
#define D24 "0123456789ABCDEFGHIJ0123"

static const struct norm_row norm_rows[] = {
	{ "upper case as is", C24, true, C24 },
	{ "digits and letters", D24, true, D24 },
	{ "all digits", "012345678901234567890123", true,
	    "012345678901234567890123" },
	{ "all Z", "ZZZZZZZZZZZZZZZZZZZZZZZZ", true,
	    "ZZZZZZZZZZZZZZZZZZZZZZZZ" },
	{ "lower case folded", "abcdefghjklmnpqrstuvwxyz", true, C24 },
	{ "mixed case", "aBcDeFgHjKlMnPqRsTuVwXyZ", true, C24 },
	{ "lower a and z with digits", "a0z9a0z9a0z9a0z9a0z9a0z9", true,
	    "A0Z9A0Z9A0Z9A0Z9A0Z9A0Z9" },
	/* no folding of look-alikes: O stays O, 0 stays 0, I stays I */
	{ "O 0 I 1 kept", "O0I1O0I1O0I1O0I1O0I1O0I1", true,
	    "O0I1O0I1O0I1O0I1O0I1O0I1" },
	{ "groups of four, spaces", "ABCD EFGH JKLM NPQR STUV WXYZ", true,
	    C24 },
	{ "groups of four, dashes", "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ", true,
	    C24 },
	{ "lower, dashes", "abcd-efgh-jklm-npqr-stuv-wxyz", true, C24 },
	{ "leading and trailing spaces", "  " C24 "  ", true, C24 },
	{ "leading and trailing dashes", "--" C24 "--", true, C24 },
	{ "many separators", " - A-B C-D EFGHJKLMNPQRSTUVWXY - Z - ", true,
	    C24 },
	{ "24 and a trailing dash", C24 "-", true, C24 },
	/* the count is of alphanumerics after the separators go */
	{ "23 characters", "ABCDEFGHJKLMNPQRSTUVWXY", false, NULL },
	{ "23 plus a space", "ABCDEFGHJKLMNPQRSTUVWXY ", false, NULL },
	{ "23 plus a dash", "ABCDEFGHJKLMNPQRSTUVWXY-", false, NULL },
	{ "23 in groups", "ABCD-EFGH-JKLM-NPQR-STUV-WXY", false, NULL },
	{ "25 characters", C24 "A", false, NULL },
	{ "25 in groups", "ABCD-EFGH-JKLM-NPQR-STUV-WXYZA", false, NULL },
	{ "48 characters", C24 C24, false, NULL },
	{ "empty", "", false, NULL },
	{ "only separators", "---- ---- ----", false, NULL },
	{ "one character", "A", false, NULL },
	/* any other byte refuses the code, wherever it is */
	{ "underscore", "ABCD_EFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "dot", "ABCD.EFGH.JKLM.NPQR.STUV.WXYZ", false, NULL },
	{ "plus", "+" C24, false, NULL },
	{ "slash at the end", C24 "/", false, NULL },
	{ "tab", "ABCD\tEFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "newline at the end", C24 "\n", false, NULL },
	{ "carriage return", C24 "\r", false, NULL },
	{ "non-breaking space (UTF-8)", "ABCD\xc2\xa0" "EFGHJKLMNPQRSTUVWXYZ",
	    false, NULL },
	{ "en dash (UTF-8)", "ABCD\xe2\x80\x93" "EFGHJKLMNPQRSTUVWXYZ", false,
	    NULL },
	{ "fullwidth A (UTF-8)", "\xef\xbc\xa1" "BCDEFGHJKLMNPQRSTUVWXYZ",
	    false, NULL },
	{ "latin-1 byte", "\xc9" "BCDEFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "high byte 0xff", C24 "\xff", false, NULL },
	{ "byte 0x7f", "\x7f" C24, false, NULL },
	{ "byte 0x01", "ABC\x01" "DEFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "letter after Z", "[BCDEFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "letter before a", "`bcdefghjklmnpqrstuvwxyz", false, NULL },
	{ "after z", "{bcdefghjklmnpqrstuvwxyz", false, NULL },
	{ "before 0", "/123456789012345678901234", false, NULL },
	{ "after 9", ":12345678901234567890123", false, NULL },
	{ "at sign", "@BCDEFGHJKLMNPQRSTUVWXYZ", false, NULL },
	{ "24 with an equals sign", "ABCDEFGHJKLMNPQRSTUVWXY=", false, NULL },
	/* a bad byte after 24 good ones is still a refusal */
	{ "24 then junk", C24 "!", false, NULL },
	{ "24 then 25th letter", C24 "a", false, NULL },
};

static void
test_recovery_normalize(void)
{
	char out[RECOVERY_LEN + 1];
	bool ok;
	size_t i;

	for (i = 0; i < NELEM(norm_rows); i++) {
		memset(out, 'x', sizeof(out));
		ok = recovery_normalize(norm_rows[i].in, out);
		ROW_INT(norm_rows[i].name, ok, norm_rows[i].ok);
		if (norm_rows[i].ok && ok) {
			ROW_STR(norm_rows[i].name, out, norm_rows[i].out);
			ROW_INT(norm_rows[i].name, strlen(out), RECOVERY_LEN);
		} else if (!norm_rows[i].ok) {
			/* refused: nothing of the input stays behind */
			ROW_TRUE(norm_rows[i].name, all_zero(out, sizeof(out)));
		}
	}
	/* normalising a normalised code changes nothing */
	for (i = 0; i < NELEM(norm_rows); i++) {
		char again[RECOVERY_LEN + 1];

		if (!norm_rows[i].ok)
			continue;
		ROW_TRUE(norm_rows[i].name, recovery_normalize(
		    norm_rows[i].out, again));
		ROW_STR(norm_rows[i].name, again, norm_rows[i].out);
	}
}

static char dir_a[] = "/tmp/mfa-test-recovery-a-XXXXXX";
static char dir_b[] = "/tmp/mfa-test-recovery-b-XXXXXX";

static void
remove_dir(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_FILE);
	unlink(path);
	rmdir(dir);
}

static struct keys *
load_fresh_keys(char *dir)
{
	struct keys *k = NULL;

	if (mkdtemp(dir) == NULL) {
		T_TRUE(!"mkdtemp");
		return NULL;
	}
	T_EQ_INT(keys_create(dir), MFA_OK);
	T_EQ_INT(keys_load(dir, &k), MFA_OK);
	return k;
}

static bool
hash_eq(const unsigned char *a, const unsigned char *b)
{
	return memcmp(a, b, MFA_HASH_BYTES) == 0;
}

static void
test_recovery_hash(void)
{
	unsigned char h[MFA_HASH_BYTES], h2[MFA_HASH_BYTES];
	unsigned char ref[MFA_HASH_BYTES];
	char long_a[MFA_USER_ID_MAX + 1], long_b[MFA_USER_ID_MAX + 1];
	struct keys *ka, *kb;
	static const char code[] = C24;
	static const char code2[] = "ABCDEFGHJKLMNPQRSTUVWXYA"; /* last char */

	ka = load_fresh_keys(dir_a);
	kb = load_fresh_keys(dir_b);
	if (ka == NULL || kb == NULL)
		goto out;

	/* deterministic */
	recovery_hash(ka, "alice", code, h);
	recovery_hash(ka, "alice", code, h2);
	T_TRUE(hash_eq(h, h2));
	T_TRUE(!all_zero(h, sizeof(h)));

	/* the stored form: keyed hash, domain "recovery_code:<user>" */
	keys_hash(ka, "recovery_code:alice", code, strlen(code), ref);
	T_TRUE(hash_eq(h, ref));
	/* not the hash of another domain (binding codes, tokens) */
	keys_hash(ka, "binding_code:alice", code, strlen(code), ref);
	T_TRUE(!hash_eq(h, ref));
	keys_hash(ka, "recovery_code:", code, strlen(code), ref);
	T_TRUE(!hash_eq(h, ref));

	/* another user, same code */
	recovery_hash(ka, "bob", code, h2);
	T_TRUE(!hash_eq(h, h2));
	recovery_hash(ka, "Alice", code, h2);
	T_TRUE(!hash_eq(h, h2));
	recovery_hash(ka, "alice ", code, h2);
	T_TRUE(!hash_eq(h, h2));
	/* another code, same user: one character apart */
	recovery_hash(ka, "alice", code2, h2);
	T_TRUE(!hash_eq(h, h2));
	/* another master key */
	recovery_hash(kb, "alice", code, h2);
	T_TRUE(!hash_eq(h, h2));

	/* the user/code boundary is unambiguous */
	recovery_hash(ka, "ab", "CDEFGHJKLMNPQRSTUVWXYZAB", h);
	recovery_hash(ka, "a", "bCDEFGHJKLMNPQRSTUVWXYZAB", h2);
	T_TRUE(!hash_eq(h, h2));
	recovery_hash(ka, "alice:", code, h);
	recovery_hash(ka, "alice", ":" C24, h2);
	T_TRUE(!hash_eq(h, h2));

	/* the longest user IDs are not truncated */
	memset(long_a, 'u', MFA_USER_ID_MAX);
	long_a[MFA_USER_ID_MAX] = '\0';
	memcpy(long_b, long_a, sizeof(long_b));
	long_b[MFA_USER_ID_MAX - 1] = 'v';
	recovery_hash(ka, long_a, code, h);
	recovery_hash(ka, long_b, code, h2);
	T_TRUE(!hash_eq(h, h2));
	{
		char domain[32 + MFA_USER_ID_MAX];

		snprintf(domain, sizeof(domain), "recovery_code:%s", long_a);
		keys_hash(ka, domain, code, strlen(code), ref);
		T_TRUE(hash_eq(h, ref));
	}
out:
	keys_free(ka);
	keys_free(kb);
	remove_dir(dir_a);
	remove_dir(dir_b);
}

void
test_recovery(void)
{
	test_recovery_make();
	test_recovery_normalize();
	test_recovery_hash();
}
