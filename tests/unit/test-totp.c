/*
 * test-totp.c -- HOTP and TOTP: RFC 4226 Appendix D, RFC 6238 Appendix B
 * with the 20/32/64-byte seeds (erratum 2866), 64-bit time, strict code
 * syntax, the window, replay and monotonic-step rules (security checklist
 * A1-A8), and the otpauth:// URI.
 */
#include <string.h>

#include "test.h"
#include "totp.h"

static const unsigned char seed20[] = "12345678901234567890";
static const unsigned char seed32[] = "12345678901234567890123456789012";
static const unsigned char seed64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

static const unsigned char *
seed_for(enum totp_alg alg, size_t *len)
{

	switch (alg) {
	case TOTP_SHA256:
		*len = 32;
		return seed32;
	case TOTP_SHA512:
		*len = 64;
		return seed64;
	default:
		*len = 20;
		return seed20;
	}
}

static void
test_totp_alg(void)
{
	static const struct {
		const char *in;
		int rc;
		enum totp_alg alg;
	} t[] = {
		{ "SHA1", MFA_OK, TOTP_SHA1 },
		{ "sha1", MFA_OK, TOTP_SHA1 },
		{ "SHA256", MFA_OK, TOTP_SHA256 },
		{ "Sha256", MFA_OK, TOTP_SHA256 },
		{ "SHA512", MFA_OK, TOTP_SHA512 },
		{ "sha512", MFA_OK, TOTP_SHA512 },
		{ "SHA-1", MFA_ERR_INVALID, TOTP_ALG_INVALID },
		{ "SHA384", MFA_ERR_INVALID, TOTP_ALG_INVALID },
		{ "MD5", MFA_ERR_INVALID, TOTP_ALG_INVALID },
		{ "SHA1 ", MFA_ERR_INVALID, TOTP_ALG_INVALID },
		{ "", MFA_ERR_INVALID, TOTP_ALG_INVALID },
		{ NULL, MFA_ERR_INVALID, TOTP_ALG_INVALID },
	};
	enum totp_alg a;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = TOTP_ALG_INVALID;
		T_EQ_INT(totp_alg_parse(t[i].in, &a), t[i].rc);
		T_EQ_INT(a, t[i].alg);
	}
	T_EQ_STR(totp_alg_name(TOTP_SHA1), "SHA1");
	T_EQ_STR(totp_alg_name(TOTP_SHA256), "SHA256");
	T_EQ_STR(totp_alg_name(TOTP_SHA512), "SHA512");
	T_TRUE(totp_alg_name(TOTP_ALG_INVALID) == NULL);
	T_TRUE(totp_alg_name((enum totp_alg)4) == NULL);
	T_TRUE(totp_alg_name((enum totp_alg)-1) == NULL);
	T_EQ_INT(TOTP_ALG_INVALID, 0);
	T_EQ_INT(TOTP_ERROR, 0); /* a zeroed verdict fails closed */
}

/* RFC 4226 Appendix D (A1). */
static void
test_totp_hotp(void)
{
	static const struct {
		const char *d6, *d7, *d8;
	} t[10] = {
		/* HOTP, then Table 2's decimal mod 10^7 and 10^8 */
		{ "755224", "4755224", "84755224" },
		{ "287082", "4287082", "94287082" },
		{ "359152", "7359152", "37359152" },
		{ "969429", "6969429", "26969429" },
		{ "338314", "0338314", "40338314" },
		{ "254676", "8254676", "68254676" },
		{ "287922", "8287922", "18287922" },
		{ "162583", "2162583", "82162583" },
		{ "399871", "3399871", "73399871" },
		{ "520489", "5520489", "45520489" },
	};
	char out[TOTP_CODE_BUFSZ];
	unsigned i;

	for (i = 0; i < 10; i++) {
		T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, i, 6, out), MFA_OK);
		T_EQ_STR(out, t[i].d6);
		T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, i, 7, out), MFA_OK);
		T_EQ_STR(out, t[i].d7);
		T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, i, 8, out), MFA_OK);
		T_EQ_STR(out, t[i].d8);
	}

	/* Bad arguments: MFA_ERR_INVALID and an empty string. */
	memcpy(out, "XXXXXXXXX", 10);
	T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, 0, 5, out),
	    MFA_ERR_INVALID);
	T_EQ_STR(out, "");
	memcpy(out, "XXXXXXXXX", 10);
	T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, 0, 9, out),
	    MFA_ERR_INVALID);
	T_EQ_STR(out, "");
	T_EQ_INT(hotp_code(TOTP_ALG_INVALID, seed20, 20, 0, 6, out),
	    MFA_ERR_INVALID);
	T_EQ_INT(hotp_code((enum totp_alg)7, seed20, 20, 0, 6, out),
	    MFA_ERR_INVALID);
	T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 0, 0, 6, out),
	    MFA_ERR_INVALID);
	T_EQ_INT(hotp_code(TOTP_SHA1, NULL, 20, 0, 6, out), MFA_ERR_INVALID);
}

/* RFC 6238 Appendix B (A2, A3): all 18 rows, 8 digits. */
static void
test_totp_rfc6238(void)
{
	static const struct {
		int64_t t;
		uint64_t step;
		const char *code;
		enum totp_alg alg;
	} t[] = {
		{ 59, 0x1, "94287082", TOTP_SHA1 },
		{ 59, 0x1, "46119246", TOTP_SHA256 },
		{ 59, 0x1, "90693936", TOTP_SHA512 },
		{ 1111111109, 0x23523EC, "07081804", TOTP_SHA1 },
		{ 1111111109, 0x23523EC, "68084774", TOTP_SHA256 },
		{ 1111111109, 0x23523EC, "25091201", TOTP_SHA512 },
		{ 1111111111, 0x23523ED, "14050471", TOTP_SHA1 },
		{ 1111111111, 0x23523ED, "67062674", TOTP_SHA256 },
		{ 1111111111, 0x23523ED, "99943326", TOTP_SHA512 },
		{ 1234567890, 0x273EF07, "89005924", TOTP_SHA1 },
		{ 1234567890, 0x273EF07, "91819424", TOTP_SHA256 },
		{ 1234567890, 0x273EF07, "93441116", TOTP_SHA512 },
		{ 2000000000, 0x3F940AA, "69279037", TOTP_SHA1 },
		{ 2000000000, 0x3F940AA, "90698825", TOTP_SHA256 },
		{ 2000000000, 0x3F940AA, "38618901", TOTP_SHA512 },
		{ 20000000000, 0x27BC86AA, "65353130", TOTP_SHA1 },
		{ 20000000000, 0x27BC86AA, "77737706", TOTP_SHA256 },
		{ 20000000000, 0x27BC86AA, "47863826", TOTP_SHA512 },
	};
	struct totp_params p = { TOTP_SHA1, 8, 30, 0, 0 };
	const unsigned char *seed;
	char out[TOTP_CODE_BUFSZ];
	int64_t matched;
	size_t i, len;

	T_EQ_INT(sizeof(t) / sizeof(t[0]), 18);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		seed = seed_for(t[i].alg, &len);
		T_EQ_INT(totp_step(t[i].t, 30), t[i].step);
		T_EQ_INT(hotp_code(t[i].alg, seed, len, t[i].step, 8, out),
		    MFA_OK);
		T_EQ_STR(out, t[i].code);

		/* The verifier agrees, at the exact step, window 0. */
		p.alg = t[i].alg;
		matched = -7;
		T_EQ_INT(totp_verify(&p, seed, len, t[i].code, t[i].t, -1,
		    &matched), TOTP_OK);
		T_EQ_INT(matched, t[i].step);
	}

	/* A2 negative: the 20-byte seed with SHA-256 gives another code. */
	T_EQ_INT(hotp_code(TOTP_SHA256, seed20, 20, 1, 8, out), MFA_OK);
	T_EQ_STR(out, "32247374");
	p.alg = TOTP_SHA256;
	T_EQ_INT(totp_verify(&p, seed20, 20, "46119246", 59, -1, &matched),
	    TOTP_MISMATCH);

	/* A3: past 2^32 steps (t = 2^32 * 30 + 59), checked with Python. */
	T_EQ_INT(totp_step(128849018939, 30), 4294967297);
	T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, 4294967297, 8, out),
	    MFA_OK);
	T_EQ_STR(out, "39108930");
	p.alg = TOTP_SHA1;
	T_EQ_INT(totp_verify(&p, seed20, 20, "39108930", 128849018939, -1,
	    &matched), TOTP_OK);
	T_EQ_INT(matched, 4294967297);
}

static void
test_totp_step(void)
{
	static const struct {
		int64_t t;
		unsigned period;
		uint64_t step;
	} t[] = {
		{ 0, 30, 0 },
		{ 29, 30, 0 },
		{ 30, 30, 1 },
		{ 59, 30, 1 },
		{ 60, 30, 2 },
		{ 1111111111, 60, 18518518 },
		{ -1, 30, 0 },
		{ INT64_MIN, 30, 0 },
		{ 100, 0, 0 },
		{ INT64_MAX, 1, INT64_MAX },
		{ INT64_MAX, 30, INT64_MAX / 30 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_EQ_INT(totp_step(t[i].t, t[i].period), t[i].step);
}

/* A4: leading zeros kept; anything but exactly "digits" digits refused. */
static void
test_totp_malformed(void)
{
	static const char *const bad[] = {
		" 005924", "005924 ", "5924", "0059244", "00592", "",
		"\xef\xbc\x90\xef\xbc\x90\xef\xbc\x95\xef\xbc\x99\xef\xbc\x92"
		    "\xef\xbc\x94", /* full-width digits */
		"0059\0" "24",  /* embedded NUL: the code ends early */
		"00592a", "+05924", "-05924", "0x5924", "005924\n", "\t005924",
		"00 5924", "0059.4",
	};
	struct totp_params p = { TOTP_SHA1, 6, 30, 1, 1 };
	char out[TOTP_CODE_BUFSZ];
	int64_t matched = 12345;
	size_t i;

	T_EQ_INT(hotp_code(TOTP_SHA1, seed20, 20, 41152263, 6, out), MFA_OK);
	T_EQ_STR(out, "005924");
	T_EQ_INT(strlen(out), 6);
	T_EQ_INT(totp_verify(&p, seed20, 20, "005924", 1234567890, -1,
	    &matched), TOTP_OK);
	T_EQ_INT(matched, 41152263);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		matched = 12345;
		T_EQ_INT(totp_verify(&p, seed20, 20, bad[i], 1234567890, -1,
		    &matched), TOTP_MALFORMED);
		T_EQ_INT(matched, 12345);
	}
	T_EQ_INT(totp_verify(&p, seed20, 20, NULL, 1234567890, -1, &matched),
	    TOTP_MALFORMED);
	/* 8 digits where 6 are expected, and the other way round */
	T_EQ_INT(totp_verify(&p, seed20, 20, "89005924", 1234567890, -1,
	    &matched), TOTP_MALFORMED);
	p.digits = 8;
	T_EQ_INT(totp_verify(&p, seed20, 20, "005924", 1234567890, -1,
	    &matched), TOTP_MALFORMED);
	T_EQ_INT(matched, 12345);
}

/*
 * A6-A8 at t = 1111111111 (T = 37037037), SHA1, 6 digits: T-2 731029,
 * T-1 081804, T 050471, T+1 266759, T+2 306183 (checklist §2.3).
 */
static void
test_totp_window(void)
{
	static const struct {
		unsigned back, fwd;
		const char *code;
		int64_t last;
		enum totp_verdict want;
		int64_t step; /* on TOTP_OK */
	} t[] = {
		/* A6: default window T-1..T */
		{ 1, 0, "050471", -1, TOTP_OK, 37037037 },
		{ 1, 0, "081804", -1, TOTP_OK, 37037036 },
		{ 1, 0, "731029", -1, TOTP_MISMATCH, 0 },
		{ 1, 0, "266759", -1, TOTP_MISMATCH, 0 },
		{ 1, 0, "306183", -1, TOTP_MISMATCH, 0 },
		{ 1, 0, "000000", -1, TOTP_MISMATCH, 0 },
		/* forward skew only when allowed */
		{ 1, 1, "266759", -1, TOTP_OK, 37037038 },
		{ 1, 1, "306183", -1, TOTP_MISMATCH, 0 },
		{ 0, 0, "081804", -1, TOTP_MISMATCH, 0 },
		{ 0, 0, "050471", -1, TOTP_OK, 37037037 },
		{ 2, 2, "731029", -1, TOTP_OK, 37037035 },
		{ 2, 2, "306183", -1, TOTP_OK, 37037039 },
		/* A7: the same code again after it was accepted */
		{ 1, 0, "050471", 37037037, TOTP_REPLAY, 0 },
		{ 1, 0, "081804", 37037036, TOTP_REPLAY, 0 },
		{ 1, 1, "266759", 37037038, TOTP_REPLAY, 0 },
		/* A8: monotonic, an older in-window code after a newer one */
		{ 1, 0, "081804", 37037037, TOTP_REPLAY, 0 },
		{ 1, 1, "050471", 37037038, TOTP_REPLAY, 0 },
		{ 1, 0, "050471", 99999999, TOTP_REPLAY, 0 },
		/* a newer step than the last one is fine */
		{ 1, 0, "050471", 37037036, TOTP_OK, 37037037 },
		{ 1, 0, "081804", 37037035, TOTP_OK, 37037036 },
		{ 1, 0, "050471", 0, TOTP_OK, 37037037 },
		/* replay never hides a mismatch */
		{ 1, 0, "731029", 37037037, TOTP_MISMATCH, 0 },
	};
	struct totp_params p = { TOTP_SHA1, 6, 30, 0, 0 };
	int64_t matched;
	size_t i;
	enum totp_verdict v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p.window_back = t[i].back;
		p.window_fwd = t[i].fwd;
		matched = 12345;
		v = totp_verify(&p, seed20, 20, t[i].code, 1111111111,
		    t[i].last, &matched);
		test_report(v == t[i].want, __FILE__, __LINE__,
		    "row %zu: code %s last %lld: verdict %d, want %d", i,
		    t[i].code, (long long)t[i].last, v, t[i].want);
		T_EQ_INT(matched, t[i].want == TOTP_OK ? t[i].step : 12345);
	}

	/* matched_step may be NULL. */
	p.window_back = 1;
	p.window_fwd = 0;
	T_EQ_INT(totp_verify(&p, seed20, 20, "050471", 1111111111, -1, NULL),
	    TOTP_OK);

	/* The window is clamped at step 0: t = 59 is T = 1. */
	p.window_back = 2;
	T_EQ_INT(totp_verify(&p, seed20, 20, "755224", 59, -1, &matched),
	    TOTP_OK);
	T_EQ_INT(matched, 0);
	T_EQ_INT(totp_verify(&p, seed20, 20, "755224", 59, 0, &matched),
	    TOTP_REPLAY);
	T_EQ_INT(totp_verify(&p, seed20, 20, "755224", -100, -1, &matched),
	    TOTP_OK);
	T_EQ_INT(matched, 0);
	T_EQ_INT(totp_verify(&p, seed20, 20, "287082", -100, -1, &matched),
	    TOTP_MISMATCH);

	/*
	 * Steps 37079356 and 37079357 share the code 186519 (found with
	 * Python). The latest matching step counts, so a code accepted
	 * once cannot come back through its twin at an older step.
	 */
	p.window_back = 1;
	p.window_fwd = 1;
	T_EQ_INT(totp_verify(&p, seed20, 20, "186519", 37079356LL * 30, -1,
	    &matched), TOTP_OK);
	T_EQ_INT(matched, 37079357);
	T_EQ_INT(totp_verify(&p, seed20, 20, "186519", 37079356LL * 30,
	    37079357, &matched), TOTP_REPLAY);
	T_EQ_INT(totp_verify(&p, seed20, 20, "186519", 37079356LL * 30,
	    37079356, &matched), TOTP_OK);
	T_EQ_INT(matched, 37079357);
	p.window_fwd = 0;
	T_EQ_INT(totp_verify(&p, seed20, 20, "186519", 37079356LL * 30, -1,
	    &matched), TOTP_OK);
	T_EQ_INT(matched, 37079356);
}

static void
test_totp_params(void)
{
	static const struct totp_params bad[] = {
		{ TOTP_ALG_INVALID, 6, 30, 1, 0 },
		{ (enum totp_alg)9, 6, 30, 1, 0 },
		{ TOTP_SHA1, 5, 30, 1, 0 },
		{ TOTP_SHA1, 9, 30, 1, 0 },
		{ TOTP_SHA1, 0, 30, 1, 0 },
		{ TOTP_SHA1, 6, 0, 1, 0 },
		{ TOTP_SHA1, 6, 30, TOTP_WINDOW_MAX + 1, 0 },
		{ TOTP_SHA1, 6, 30, 0, TOTP_WINDOW_MAX + 1 },
		{ TOTP_SHA1, 6, 30, (unsigned)-1, 0 },
	};
	static const struct totp_params zero;
	struct totp_params good = { TOTP_SHA1, 6, 30, TOTP_WINDOW_MAX,
		TOTP_WINDOW_MAX };
	int64_t matched = 12345;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(totp_verify(&bad[i], seed20, 20, "050471", 1111111111,
		    -1, &matched), TOTP_ERROR);
	T_EQ_INT(totp_verify(&zero, seed20, 20, "050471", 1111111111, -1,
	    &matched), TOTP_ERROR);
	T_EQ_INT(totp_verify(NULL, seed20, 20, "050471", 1111111111, -1,
	    &matched), TOTP_ERROR);
	T_EQ_INT(totp_verify(&good, NULL, 20, "050471", 1111111111, -1,
	    &matched), TOTP_ERROR);
	T_EQ_INT(totp_verify(&good, seed20, 0, "050471", 1111111111, -1,
	    &matched), TOTP_ERROR);
	T_EQ_INT(totp_verify(&good, seed20, 20, "050471", 1111111111, -2,
	    &matched), TOTP_ERROR);
	T_EQ_INT(matched, 12345);
	/* The largest window works. */
	T_EQ_INT(totp_verify(&good, seed20, 20, "050471", 1111111111, -1,
	    &matched), TOTP_OK);
	T_EQ_INT(matched, 37037037);
}

static void
test_totp_uri(void)
{
	static const struct {
		const char *issuer, *account, *secret;
		enum totp_alg alg;
		unsigned digits, period;
		int rc;
		const char *want;
	} t[] = {
		{ "Example Co", "alice smith@example.com", "JBSWY3DPEHPK3PXP",
		    TOTP_SHA1, 6, 30, MFA_OK,
		    "otpauth://totp/Example%20Co:alice%20smith%40example.com"
		    "?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Co"
		    "&algorithm=SHA1&digits=6&period=30" },
		{ "ACME:Corp&Co", "bob+1@x.io", "GEZDGNBVGY3TQOJQ", TOTP_SHA256,
		    8, 60, MFA_OK,
		    "otpauth://totp/ACME%3ACorp%26Co:bob%2B1%40x.io"
		    "?secret=GEZDGNBVGY3TQOJQ&issuer=ACME%3ACorp%26Co"
		    "&algorithm=SHA256&digits=8&period=60" },
		{ "a-b.c_d~e", "caf\xc3\xa9/%?#", "MZXW6YTBOI", TOTP_SHA512, 7,
		    30, MFA_OK,
		    "otpauth://totp/a-b.c_d~e:caf%C3%A9%2F%25%3F%23"
		    "?secret=MZXW6YTBOI&issuer=a-b.c_d~e"
		    "&algorithm=SHA512&digits=7&period=30" },
		{ NULL, "alice", "MZXW6YTBOI", TOTP_SHA1, 6, 30, MFA_OK,
		    "otpauth://totp/alice?secret=MZXW6YTBOI"
		    "&algorithm=SHA1&digits=6&period=30" },
		{ "", "alice", "MZXW6YTBOI", TOTP_SHA1, 6, 30, MFA_OK,
		    "otpauth://totp/alice?secret=MZXW6YTBOI"
		    "&algorithm=SHA1&digits=6&period=30" },
		{ "X", "", "MZXW6YTBOI", TOTP_SHA1, 6, 30, MFA_ERR_INVALID,
		    "" },
		{ "X", NULL, "MZXW6YTBOI", TOTP_SHA1, 6, 30, MFA_ERR_INVALID,
		    "" },
		{ "X", "a", "", TOTP_SHA1, 6, 30, MFA_ERR_INVALID, "" },
		{ "X", "a", NULL, TOTP_SHA1, 6, 30, MFA_ERR_INVALID, "" },
		{ "X", "a", "MZXW6YTBOI", TOTP_ALG_INVALID, 6, 30,
		    MFA_ERR_INVALID, "" },
		{ "X", "a", "MZXW6YTBOI", TOTP_SHA1, 5, 30, MFA_ERR_INVALID,
		    "" },
		{ "X", "a", "MZXW6YTBOI", TOTP_SHA1, 9, 30, MFA_ERR_INVALID,
		    "" },
		{ "X", "a", "MZXW6YTBOI", TOTP_SHA1, 6, 0, MFA_ERR_INVALID,
		    "" },
	};
	char out[512];
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'X', sizeof(out));
		T_EQ_INT(totp_uri(out, sizeof(out), t[i].issuer, t[i].account,
		    t[i].secret, t[i].alg, t[i].digits, t[i].period),
		    t[i].rc);
		T_EQ_STR(out, t[i].want);
	}

	/* Room: exactly the URI and its NUL. */
	n = strlen(t[0].want);
	T_EQ_INT(totp_uri(out, n, t[0].issuer, t[0].account, t[0].secret,
	    TOTP_SHA1, 6, 30), MFA_ERR_TOOBIG);
	T_EQ_STR(out, "");
	T_EQ_INT(totp_uri(out, n + 1, t[0].issuer, t[0].account, t[0].secret,
	    TOTP_SHA1, 6, 30), MFA_OK);
	T_EQ_STR(out, t[0].want);
	T_EQ_INT(totp_uri(out, 10, t[0].issuer, t[0].account, t[0].secret,
	    TOTP_SHA1, 6, 30), MFA_ERR_TOOBIG);
	T_EQ_STR(out, "");
	T_EQ_INT(totp_uri(out, 0, t[0].issuer, t[0].account, t[0].secret,
	    TOTP_SHA1, 6, 30), MFA_ERR_TOOBIG);
}

void
test_totp(void)
{

	test_totp_alg();
	test_totp_hotp();
	test_totp_rfc6238();
	test_totp_step();
	test_totp_malformed();
	test_totp_window();
	test_totp_params();
	test_totp_uri();
}
