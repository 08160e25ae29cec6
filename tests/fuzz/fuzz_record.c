/*
 * fuzz_record.c -- the record codec (record.c) on arbitrary bytes, as a
 * damaged or hostile store would hand them over.
 *
 * The first input byte picks the record kind (mod 6). Checks: a failed
 * decode leaves the output zeroed (the contract); a successful one
 * re-encodes to JSON that decodes to the identical struct, and
 * re-encoding that gives the identical JSON (a record read back is
 * never changed by a save).
 */
#include "fuzz.h"
#include "record.h"

#define FUZZ_RECORD(type, dec, enc)					\
	do {								\
		static type a, b, zero;					\
		char *j1, *j2;						\
		memset(&a, 0x5a, sizeof(a));				\
		if (dec(in, n, &a) != MFA_OK) {				\
			FUZZ_CHECK(memcmp(&a, &zero, sizeof(a)) == 0);	\
			break;						\
		}							\
		FUZZ_CHECK((j1 = enc(&a)) != NULL);			\
		memset(&b, 0, sizeof(b));				\
		FUZZ_CHECK(dec(j1, strlen(j1), &b) == MFA_OK);		\
		FUZZ_CHECK((j2 = enc(&b)) != NULL);			\
		FUZZ_CHECK(strcmp(j1, j2) == 0);			\
		free(j1);						\
		free(j2);						\
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *in;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((in = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(in, data + 1, n);
	switch (data[0] % 6) {
	case 0:
		FUZZ_RECORD(struct client_rec, record_client_decode,
		    record_client_encode);
		break;
	case 1:
		FUZZ_RECORD(struct authn_rec, record_authn_decode,
		    record_authn_encode);
		break;
	case 2:
		FUZZ_RECORD(struct token_rec, record_token_decode,
		    record_token_encode);
		break;
	case 3:
		FUZZ_RECORD(struct challenge_rec, record_challenge_decode,
		    record_challenge_encode);
		break;
	case 4:
		FUZZ_RECORD(struct bucket, record_bucket_decode,
		    record_bucket_encode);
		break;
	default:
		FUZZ_RECORD(struct signing_rec, record_signing_decode,
		    record_signing_encode);
		break;
	}
	free(in);
	return 0;
}
