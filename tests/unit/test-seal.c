/*
 * test-seal.c -- keys.c: the master key file (created once, 0400, never
 * overwritten), sealing bound to associated data (a value moved to another
 * record, tampered, truncated or opened under another master key fails),
 * and keyed hashing separated by domain and by key.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "test.h"

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

/* "<dir>/<name>" into "buf"; false when it does not fit. */
static bool
path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n > 0 && (size_t)n < len;
}

/* Writes "n" bytes to "<dir>/master.key" (for the bad-size rows). */
static void
write_key_file(const char *dir, size_t n)
{
	unsigned char buf[64];
	char path[PATH_MAX];
	int fd;

	memset(buf, 0x42, sizeof(buf));
	T_TRUE(path_join(path, sizeof(path), dir, KEYS_FILE));
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_TRUE(fd >= 0);
	if (fd < 0)
		return;
	T_EQ_INT(write(fd, buf, n), n);
	close(fd);
}

static void
remove_dir(const char *dir)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), dir, KEYS_FILE))
		unlink(path);
	rmdir(dir);
}

static char dir_a[] = "/tmp/mfa-test-seal-a-XXXXXX";
static char dir_b[] = "/tmp/mfa-test-seal-b-XXXXXX";

static void
test_seal_key_file(void)
{
	char dir[] = "/tmp/mfa-test-seal-f-XXXXXX", path[PATH_MAX];
	unsigned char before[KEYS_BYTES], after[KEYS_BYTES];
	static const size_t bad_sizes[] = { 0, 31, 33, 64 };
	struct keys *k;
	struct stat st;
	size_t i;
	int fd;

	T_TRUE(mkdtemp(dir) != NULL);
	T_TRUE(path_join(path, sizeof(path), dir, KEYS_FILE));

	/* no file yet */
	k = (struct keys *)dir; /* a sentinel: set only on success */
	T_EQ_INT(keys_load(dir, &k), MFA_ERR_IO);
	T_TRUE(k == (struct keys *)dir);

	T_EQ_INT(keys_create(dir), MFA_OK);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, KEYS_BYTES);
	T_EQ_INT(st.st_mode & 07777, 0400);
	T_TRUE(S_ISREG(st.st_mode));
	fd = open(path, O_RDONLY);
	T_TRUE(fd >= 0);
	T_EQ_INT(read(fd, before, sizeof(before)), KEYS_BYTES);
	close(fd);
	T_TRUE(!all_zero(before, sizeof(before)));

	/* never overwritten */
	T_EQ_INT(keys_create(dir), MFA_ERR_EXISTS);
	fd = open(path, O_RDONLY);
	T_EQ_INT(read(fd, after, sizeof(after)), KEYS_BYTES);
	close(fd);
	T_EQ_MEM(before, after, KEYS_BYTES);

	T_EQ_INT(keys_load(dir, &k), MFA_OK);
	T_TRUE(k != NULL && k != (struct keys *)dir);
	keys_free(k);
	keys_free(NULL);

	/* a directory that does not exist */
	T_EQ_INT(keys_create("/nonexistent-mfa-dir/x"), MFA_ERR_IO);
	T_EQ_INT(keys_load("/nonexistent-mfa-dir/x", &k), MFA_ERR_IO);

	/* wrong sizes are refused */
	for (i = 0; i < NELEM(bad_sizes); i++) {
		unlink(path);
		write_key_file(dir, bad_sizes[i]);
		k = NULL;
		T_EQ_INT(keys_load(dir, &k), MFA_ERR_IO);
		T_TRUE(k == NULL);
	}
	/* a path that is too long */
	{
		char longdir[PATH_MAX + 8];

		memset(longdir, 'a', sizeof(longdir) - 1);
		longdir[sizeof(longdir) - 1] = '\0';
		T_EQ_INT(keys_create(longdir), MFA_ERR_TOOBIG);
		T_EQ_INT(keys_load(longdir, &k), MFA_ERR_TOOBIG);
	}
	remove_dir(dir);
}

static void
test_seal_roundtrip(const struct keys *k, const struct keys *k2)
{
	static const size_t lens[] = { 0, 1, 20, 32, 64, 511, 512 };
	unsigned char pt[600], out[600];
	char sealed[KEYS_SEALED_MAX(512)], again[KEYS_SEALED_MAX(512)];
	char row[64];
	size_t i, j, n;

	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (unsigned char)(i * 13 + 5);
	for (i = 0; i < NELEM(lens); i++) {
		snprintf(row, sizeof(row), "seal %zu bytes", lens[i]);
		ROW_INT(row, keys_seal(k, "totp:sms|dev_A", pt, lens[i],
		    sealed, KEYS_SEALED_MAX(lens[i])), MFA_OK);
		/* the whole room, base64url, no padding */
		ROW_INT(row, strlen(sealed), KEYS_SEALED_MAX(lens[i]) - 1);
		ROW_INT(row, strspn(sealed, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(sealed));
		n = 9999;
		memset(out, 0, sizeof(out));
		ROW_INT(row, keys_open(k, "totp:sms|dev_A", sealed, out,
		    lens[i], &n), MFA_OK);
		ROW_INT(row, n, lens[i]);
		ROW_TRUE(row, memcmp(out, pt, lens[i]) == 0);
		/* a fresh nonce every time */
		ROW_INT(row, keys_seal(k, "totp:sms|dev_A", pt, lens[i],
		    again, sizeof(again)), MFA_OK);
		ROW_TRUE(row, strcmp(sealed, again) != 0);
		/* one byte less room than needed */
		ROW_INT(row, keys_seal(k, "totp:sms|dev_A", pt, lens[i],
		    again, KEYS_SEALED_MAX(lens[i]) - 1), MFA_ERR_TOOBIG);
		/* the wrong master key */
		memset(out, 0xaa, sizeof(out));
		ROW_INT(row, keys_open(k2, "totp:sms|dev_A", sealed, out,
		    sizeof(out), &n), MFA_ERR_CRYPTO);
		ROW_TRUE(row, all_zero(out, sizeof(out)));
	}
	T_EQ_INT(keys_seal(k, "x", pt, 513, sealed, sizeof(sealed)),
	    MFA_ERR_TOOBIG);

	/* room for the plaintext: exactly enough, one byte short */
	T_EQ_INT(keys_seal(k, "ad", pt, 64, sealed, sizeof(sealed)), MFA_OK);
	T_EQ_INT(keys_open(k, "ad", sealed, out, 64, &n), MFA_OK);
	T_EQ_INT(n, 64);
	T_EQ_INT(keys_open(k, "ad", sealed, out, 63, &n), MFA_ERR_TOOBIG);

	/* the AD is the whole string: no prefix or suffix matches */
	T_EQ_INT(keys_seal(k, "client_secret:abc", pt, 16, sealed,
	    sizeof(sealed)), MFA_OK);
	for (j = 0; j < 4; j++) {
		static const char *const ads[] = { "client_secret:ab",
			"client_secret:abcd", "client_secret:abc ",
			"Client_secret:abc" };

		ROW_INT(ads[j], keys_open(k, ads[j], sealed, out, sizeof(out),
		    &n), MFA_ERR_CRYPTO);
	}
	T_EQ_INT(keys_open(k, "client_secret:abc", sealed, out, sizeof(out),
	    &n), MFA_OK);
	T_EQ_INT(n, 16);
}

/* A sealed value moved to another record, or changed, fails to open. */
static void
test_seal_tamper(const struct keys *k)
{
	static const unsigned char secret[20] = "12345678901234567890";
	char sealed[KEYS_SEALED_MAX(20)], bad[KEYS_SEALED_MAX(20) + 8];
	unsigned char out[64];
	size_t i, len, n;
	char row[64];

	T_EQ_INT(keys_seal(k, "client_secret:client-A", secret,
	    sizeof(secret), sealed, sizeof(sealed)), MFA_OK);
	len = strlen(sealed);

	/* moved to another record: the AD names the record */
	memset(out, 0xaa, sizeof(out));
	T_EQ_INT(keys_open(k, "client_secret:client-B", sealed, out,
	    sizeof(out), &n), MFA_ERR_CRYPTO);
	T_TRUE(all_zero(out, sizeof(out)));
	T_EQ_INT(keys_open(k, "totp:client-A", sealed, out, sizeof(out), &n),
	    MFA_ERR_CRYPTO);
	T_EQ_INT(keys_open(k, "", sealed, out, sizeof(out), &n),
	    MFA_ERR_CRYPTO);
	T_EQ_INT(keys_open(k, "client_secret:client-A", sealed, out,
	    sizeof(out), &n), MFA_OK);
	T_EQ_INT(n, sizeof(secret));
	T_EQ_MEM(out, secret, sizeof(secret));

	/* one character flipped, at every position */
	for (i = 0; i < len; i++) {
		snprintf(row, sizeof(row), "flip at %zu", i);
		strcpy(bad, sealed);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		ROW_INT(row, keys_open(k, "client_secret:client-A", bad, out,
		    sizeof(out), &n), MFA_ERR_CRYPTO);
	}
	/* truncated by 1..len characters */
	for (i = 1; i <= len; i++) {
		snprintf(row, sizeof(row), "truncated by %zu", i);
		memcpy(bad, sealed, len - i);
		bad[len - i] = '\0';
		ROW_INT(row, keys_open(k, "client_secret:client-A", bad, out,
		    sizeof(out), &n), MFA_ERR_CRYPTO);
	}
	/* extended, padded, other alphabets */
	{
		static const char *const tails[] = { "A", "AAAA", "=", "==",
			" ", "\n" };

		for (i = 0; i < NELEM(tails); i++) {
			snprintf(row, sizeof(row), "appended \"%s\"",
			    tails[i]);
			snprintf(bad, sizeof(bad), "%s%s", sealed, tails[i]);
			ROW_INT(row, keys_open(k, "client_secret:client-A",
			    bad, out, sizeof(out), &n), MFA_ERR_CRYPTO);
		}
	}
	strcpy(bad, sealed);
	bad[5] = '+';
	T_EQ_INT(keys_open(k, "client_secret:client-A", bad, out, sizeof(out),
	    &n), MFA_ERR_CRYPTO);
	bad[5] = '/';
	T_EQ_INT(keys_open(k, "client_secret:client-A", bad, out, sizeof(out),
	    &n), MFA_ERR_CRYPTO);
	/* longer than any sealed value */
	{
		char huge[1000];

		memset(huge, 'A', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = '\0';
		T_EQ_INT(keys_open(k, "client_secret:client-A", huge, out,
		    sizeof(out), &n), MFA_ERR_CRYPTO);
	}
}

/*
 * keys.h: "On error "pt" is wiped" -- every error, not only a failed
 * authentication: the caller may pass a buffer that held an earlier
 * secret.
 */
static void
test_seal_wipe_on_error(const struct keys *k)
{
	static const unsigned char secret[32] =
	    "0123456789abcdef0123456789abcde";
	static const struct {
		const char *name;
		const char *in;    /* NULL: the sealed value */
		size_t ptmax;
		int rc;
	} rows[] = {
		{ "authentication fails (other AD)", NULL, 64, MFA_ERR_CRYPTO },
		{ "not base64url", "!!!!", 64, MFA_ERR_CRYPTO },
		{ "empty", "", 64, MFA_ERR_CRYPTO },
		{ "shorter than nonce and tag", "AAAAAAAA", 64,
		    MFA_ERR_CRYPTO },
		{ "room too small", NULL, 16, MFA_ERR_TOOBIG },
	};
	char sealed[KEYS_SEALED_MAX(32)];
	unsigned char out[64];
	size_t i, n;

	T_EQ_INT(keys_seal(k, "totp:x", secret, sizeof(secret), sealed,
	    sizeof(sealed)), MFA_OK);
	for (i = 0; i < NELEM(rows); i++) {
		const char *ad = rows[i].rc == MFA_ERR_TOOBIG ? "totp:x" :
		    "totp:y";

		memset(out, 0xaa, sizeof(out));
		ROW_INT(rows[i].name, keys_open(k, ad, rows[i].in != NULL ?
		    rows[i].in : sealed, out, rows[i].ptmax, &n), rows[i].rc);
		ROW_TRUE(rows[i].name, all_zero(out, rows[i].ptmax));
	}
}

static void
test_seal_hash(const struct keys *k, const struct keys *k2,
    const struct keys *k_again)
{
	unsigned char h1[MFA_HASH_BYTES], h2[MFA_HASH_BYTES];
	unsigned char h3[MFA_HASH_BYTES], zero[MFA_HASH_BYTES];

	memset(zero, 0, sizeof(zero));
	keys_hash(k, "mfa_token", "abc", 3, h1);
	keys_hash(k, "mfa_token", "abc", 3, h2);
	T_EQ_MEM(h1, h2, MFA_HASH_BYTES);
	T_TRUE(memcmp(h1, zero, MFA_HASH_BYTES) != 0);
	/* the same key file loaded again hashes the same */
	keys_hash(k_again, "mfa_token", "abc", 3, h3);
	T_EQ_MEM(h1, h3, MFA_HASH_BYTES);

	/* by domain */
	keys_hash(k, "oob_code", "abc", 3, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	/* by key */
	keys_hash(k2, "mfa_token", "abc", 3, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	/* by input */
	keys_hash(k, "mfa_token", "abd", 3, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	keys_hash(k, "mfa_token", "ab", 2, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	/* the domain's NUL separates it from the input */
	keys_hash(k, "ab", "c", 1, h1);
	keys_hash(k, "a", "bc", 2, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	/* binding codes of two challenges */
	keys_hash(k, "binding_code:auth_challenge_A", "123456", 6, h1);
	keys_hash(k, "binding_code:auth_challenge_B", "123456", 6, h2);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
	/* empty input */
	keys_hash(k, "d", "", 0, h1);
	keys_hash(k, "d", "", 0, h2);
	T_EQ_MEM(h1, h2, MFA_HASH_BYTES);
	/* not a plain (unkeyed) BLAKE2b of the same bytes */
	crypto_generichash(h2, MFA_HASH_BYTES, (const unsigned char *)"d",
	    2, NULL, 0);
	T_TRUE(memcmp(h1, h2, MFA_HASH_BYTES) != 0);
}

void
test_seal(void)
{
	struct keys *k = NULL, *k2 = NULL, *k_again = NULL;

	test_seal_key_file();

	T_TRUE(mkdtemp(dir_a) != NULL);
	T_TRUE(mkdtemp(dir_b) != NULL);
	T_EQ_INT(keys_create(dir_a), MFA_OK);
	T_EQ_INT(keys_create(dir_b), MFA_OK);
	T_EQ_INT(keys_load(dir_a, &k), MFA_OK);
	T_EQ_INT(keys_load(dir_b, &k2), MFA_OK);
	T_EQ_INT(keys_load(dir_a, &k_again), MFA_OK);
	if (k != NULL && k2 != NULL && k_again != NULL) {
		test_seal_roundtrip(k, k2);
		test_seal_tamper(k);
		test_seal_wipe_on_error(k);
		test_seal_hash(k, k2, k_again);
	}
	keys_free(k);
	keys_free(k2);
	keys_free(k_again);
	remove_dir(dir_a);
	remove_dir(dir_b);
}
