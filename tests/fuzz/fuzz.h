/*
 * fuzz.h -- shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput over one parser and
 * checks the parser's own contract on what it accepts (lengths, bounds,
 * round trips), so a wrong answer aborts like a crash does. FUZZ_CHECK
 * stays active in every build (no NDEBUG games).
 */
#ifndef MFA_FUZZ_H
#define MFA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #c);			\
			abort();					\
		}							\
	} while (0)

/* A NUL-terminated heap copy of the input (the parser's own allocation
 * would hide an over-read of the fuzzer's buffer; this one is exact). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
