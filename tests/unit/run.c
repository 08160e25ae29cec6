/*
 * run.c -- runs every unit test module and prints "N passed, N failed".
 * Exit status 0 only when nothing failed. An optional argument runs only
 * the modules whose name contains it.
 */
#include <stdarg.h>
#include <stdlib.h>

#include <sodium.h>

#include "jsonmem.h"
#include "test.h"

unsigned test_passed, test_failed;

void
test_report(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		test_passed++;
		return;
	}
	test_failed++;
	fprintf(stderr, "%s:%d: FAIL: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 2;
	}
	jsonmem_init(); /* as the programs run, under valgrind and ASan */
#define X(m)                                                               \
	if (test_##m != NULL && (only == NULL || strstr(#m, only) != NULL)) { \
		unsigned f0 = test_failed;                                 \
		test_##m();                                                \
		fprintf(stderr, "%-10s %s\n", #m,                          \
		    test_failed == f0 ? "ok" : "FAILED");                  \
	}
	TEST_MODULES(X)
#undef X
	printf("%u passed, %u failed\n", test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}
