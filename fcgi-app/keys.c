/*
 * keys.c -- the master key file, sealing and keyed hashing (libsodium).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"

struct keys {
	unsigned char seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char hash[crypto_generichash_KEYBYTES];
};

#define KDF_CONTEXT "mfa-key1" /* crypto_kdf_CONTEXTBYTES == 8 */
#define KDF_ID_SEAL 1
#define KDF_ID_HASH 2

static int
keys_path(const char *dir, char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "%s/%s", dir, KEYS_FILE);

	return n > 0 && (size_t)n < buflen ? MFA_OK : MFA_ERR_TOOBIG;
}

/* Creates the master key file once; never overwrites one. */
int
keys_create(const char *dir)
{
	unsigned char key[KEYS_BYTES];
	char path[PATH_MAX];
	ssize_t w;
	int fd, rc;

	if ((rc = keys_path(dir, path, sizeof(path))) != MFA_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return errno == EEXIST ? MFA_ERR_EXISTS : MFA_ERR_IO;
	randombytes_buf(key, sizeof(key));
	w = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (w != (ssize_t)sizeof(key) || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return MFA_ERR_IO;
	}
	return close(fd) == 0 ? MFA_OK : MFA_ERR_IO;
}

/* Reads exactly KEYS_BYTES from the key file into "key". */
static int
keys_read_file(const char *dir, unsigned char *key)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t r;
	int fd, rc;

	if ((rc = keys_path(dir, path, sizeof(path))) != MFA_OK)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return MFA_ERR_IO;
	if (fstat(fd, &st) != 0 || st.st_size != KEYS_BYTES) {
		close(fd);
		return MFA_ERR_IO;
	}
	r = read(fd, key, KEYS_BYTES);
	close(fd);
	return r == KEYS_BYTES ? MFA_OK : MFA_ERR_IO;
}

/* Loads the master key and derives the seal and hash subkeys. */
int
keys_load(const char *dir, struct keys **out)
{
	unsigned char master[KEYS_BYTES];
	struct keys *k;
	int rc;

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return MFA_ERR_NOMEM;
	if ((rc = keys_read_file(dir, master)) != MFA_OK) {
		sodium_memzero(master, sizeof(master));
		sodium_free(k);
		return rc;
	}
	crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), KDF_ID_SEAL,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->hash, sizeof(k->hash), KDF_ID_HASH,
	    KDF_CONTEXT, master);
	sodium_memzero(master, sizeof(master));
	sodium_mprotect_readonly(k);
	*out = k;
	return MFA_OK;
}

/* sodium_free wipes the memory before releasing it. */
void
keys_free(struct keys *k)
{
	if (k != NULL)
		sodium_free(k);
}

/* AEAD-seals "pt" under the seal key with "ad" as associated data. */
int
keys_seal(const struct keys *k, const char *ad, const unsigned char *pt,
    size_t n, char *out, size_t outlen)
{
	unsigned char buf[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 512 +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES];
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	unsigned long long clen;
	size_t total;

	if (n > 512)
		return MFA_ERR_TOOBIG;
	total = nb + n + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (outlen < sodium_base64_ENCODED_LEN(total,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return MFA_ERR_TOOBIG;
	randombytes_buf(buf, nb);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + nb, &clen, pt, n,
	    (const unsigned char *)ad, strlen(ad), NULL, buf, k->seal);
	sodium_bin2base64(out, outlen, buf, nb + (size_t)clen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(buf, sizeof(buf));
	return MFA_OK;
}

/* Opens what keys_seal made, failing closed on any change. */
int
keys_open(const struct keys *k, const char *ad, const char *in,
    unsigned char *pt, size_t ptmax, size_t *n)
{
	unsigned char buf[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 512 +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES];
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t ab = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned long long plen;
	size_t blen;

	sodium_memzero(pt, ptmax);
	if (sodium_base642bin(buf, sizeof(buf), in, strlen(in), NULL, &blen,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    blen < nb + ab) {
		sodium_memzero(buf, sizeof(buf));
		return MFA_ERR_CRYPTO;
	}
	if (blen - nb - ab > ptmax) {
		sodium_memzero(buf, sizeof(buf));
		return MFA_ERR_TOOBIG;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL,
	    buf + nb, blen - nb, (const unsigned char *)ad, strlen(ad), buf,
	    k->seal) != 0) {
		sodium_memzero(pt, ptmax);
		return MFA_ERR_CRYPTO;
	}
	*n = (size_t)plen;
	return MFA_OK;
}

/* BLAKE2b-256 keyed with the hash key over domain || NUL || input. */
void
keys_hash(const struct keys *k, const char *domain, const void *in, size_t n,
    unsigned char out[MFA_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->hash, sizeof(k->hash), MFA_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)domain,
	    strlen(domain) + 1);
	crypto_generichash_update(&st, in, n);
	crypto_generichash_final(&st, out, MFA_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}
