/*
 * fuzz_record.c -- the record codecs on arbitrary bytes, as a damaged or
 * hostile store would hand them over: the binary encoding the store
 * writes (record.c) and the JSON of schema 1 read to migrate older stores
 * (record_json.c).
 *
 * The first input byte picks the target (mod 12), the rest is the record:
 *
 *   0 client  1 authn  2 token  3 challenge  4 bucket  5 signing   JSON
 *   6 client  7 authn  8 token  9 challenge 10 bucket 11 signing   binary
 *
 * (0..5 are the JSON kinds in the order of the mod-6 selector this target
 * had before the binary encoding, so the older seeds keep their meaning.)
 *
 * Checks, on every target: a failed decode leaves the output zeroed (the
 * contract). Binary: a successful decode re-encodes to exactly the input
 * bytes, as the layout is canonical and decoding strict. JSON: a
 * successful decode re-encodes to JSON that decodes to the identical
 * struct, and re-encoding that gives the identical JSON (a record read
 * back is never changed by a save); and the struct encodes in binary and
 * decodes back to the identical struct (what migration relies on).
 */
#include "fuzz.h"
#include "record.h"
#include "record_json.h"

/* Binary: strict decode, canonical re-encode. "out" is an exact
 * RECORD_ENC_MAX heap buffer, so an encoder overrun is caught. */
#define FUZZ_BIN(type, dec, enc)					\
	do {								\
		static type a, zero;					\
		size_t len;						\
		memset(&a, 0x5a, sizeof(a));				\
		if (dec(in, n, &a) != MFA_OK) {				\
			FUZZ_CHECK(memcmp(&a, &zero, sizeof(a)) == 0);	\
			break;						\
		}							\
		len = enc(&a, out);					\
		FUZZ_CHECK(len == n);					\
		FUZZ_CHECK(memcmp(out, in, n) == 0);			\
	} while (0)

/* JSON: decode, encode, decode the same struct, encode the same text;
 * then the struct through the binary codec and back unchanged. */
#define FUZZ_JSON(type, jdec, jenc, dec, enc)				\
	do {								\
		static type a, b, c, zero;				\
		char *j1, *j2;						\
		size_t len;						\
		memset(&a, 0x5a, sizeof(a));				\
		if (jdec(in, n, &a) != MFA_OK) {			\
			FUZZ_CHECK(memcmp(&a, &zero, sizeof(a)) == 0);	\
			break;						\
		}							\
		FUZZ_CHECK((j1 = jenc(&a)) != NULL);			\
		memset(&b, 0x5a, sizeof(b));				\
		FUZZ_CHECK(jdec(j1, strlen(j1), &b) == MFA_OK);		\
		FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);		\
		FUZZ_CHECK((j2 = jenc(&b)) != NULL);			\
		FUZZ_CHECK(strcmp(j1, j2) == 0);			\
		free(j1);						\
		free(j2);						\
		FUZZ_CHECK((len = enc(&a, out)) != 0);			\
		memset(&c, 0x5a, sizeof(c));				\
		FUZZ_CHECK(dec(out, len, &c) == MFA_OK);		\
		FUZZ_CHECK(memcmp(&a, &c, sizeof(a)) == 0);		\
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *in, *out;
	size_t n;

	if (size < 1)
		return 0;
	/* Exact heap copies: an over-read or overrun is ASan's to see. */
	n = size - 1;
	if ((in = malloc(n ? n : 1)) == NULL ||
	    (out = malloc(RECORD_ENC_MAX)) == NULL)
		abort();
	memcpy(in, data + 1, n);
	switch (data[0] % 12) {
	case 0:
		FUZZ_JSON(struct client_rec, record_json_client_decode,
		    record_json_client_encode, record_client_decode,
		    record_client_encode);
		break;
	case 1:
		FUZZ_JSON(struct authn_rec, record_json_authn_decode,
		    record_json_authn_encode, record_authn_decode,
		    record_authn_encode);
		break;
	case 2:
		FUZZ_JSON(struct token_rec, record_json_token_decode,
		    record_json_token_encode, record_token_decode,
		    record_token_encode);
		break;
	case 3:
		FUZZ_JSON(struct challenge_rec, record_json_challenge_decode,
		    record_json_challenge_encode, record_challenge_decode,
		    record_challenge_encode);
		break;
	case 4:
		FUZZ_JSON(struct bucket, record_json_bucket_decode,
		    record_json_bucket_encode, record_bucket_decode,
		    record_bucket_encode);
		break;
	case 5:
		FUZZ_JSON(struct signing_rec, record_json_signing_decode,
		    record_json_signing_encode, record_signing_decode,
		    record_signing_encode);
		break;
	case 6:
		FUZZ_BIN(struct client_rec, record_client_decode,
		    record_client_encode);
		break;
	case 7:
		FUZZ_BIN(struct authn_rec, record_authn_decode,
		    record_authn_encode);
		break;
	case 8:
		FUZZ_BIN(struct token_rec, record_token_decode,
		    record_token_encode);
		break;
	case 9:
		FUZZ_BIN(struct challenge_rec, record_challenge_decode,
		    record_challenge_encode);
		break;
	case 10:
		FUZZ_BIN(struct bucket, record_bucket_decode,
		    record_bucket_encode);
		break;
	default:
		FUZZ_BIN(struct signing_rec, record_signing_decode,
		    record_signing_encode);
		break;
	}
	free(in);
	free(out);
	return 0;
}
