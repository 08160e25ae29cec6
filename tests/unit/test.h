/*
 * test.h -- the unit-test harness: table-driven checks that report
 * __FILE__:__LINE__ on failure. Every test-<module>.c defines
 * "void test_<module>(void)" and is listed in run.c; the runner ends with
 * the line "N passed, N failed".
 */
#ifndef MFA_TEST_H
#define MFA_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern unsigned test_passed, test_failed;

void test_report(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define T_TRUE(c) test_report((c), __FILE__, __LINE__, "%s", #c)
#define T_EQ_INT(a, b)                                                     \
	do {                                                               \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);    \
		test_report(t_a_ == t_b_, __FILE__, __LINE__,              \
		    "%s == %s (%lld vs %lld)", #a, #b, t_a_, t_b_);        \
	} while (0)
#define T_EQ_STR(a, b)                                                     \
	do {                                                               \
		const char *t_a_ = (a), *t_b_ = (b);                       \
		test_report(t_a_ != NULL && t_b_ != NULL &&                \
		    strcmp(t_a_, t_b_) == 0, __FILE__, __LINE__,           \
		    "%s == %s (\"%s\" vs \"%s\")", #a, #b,                 \
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");       \
	} while (0)
#define T_EQ_MEM(a, b, n)                                                  \
	test_report(memcmp((a), (b), (n)) == 0, __FILE__, __LINE__,        \
	    "memcmp(%s, %s, %s) == 0", #a, #b, #n)

/* Checks in a table walk, naming the row ("row", a string) that failed. */
#define ROW_INT(row, a, b)                                                 \
	do {                                                               \
		long long r_a_ = (long long)(a), r_b_ = (long long)(b);    \
		test_report(r_a_ == r_b_, __FILE__, __LINE__,              \
		    "[%s] %s == %s (%lld vs %lld)", (row), #a, #b, r_a_,   \
		    r_b_);                                                 \
	} while (0)
#define ROW_TRUE(row, c)                                                   \
	test_report((c), __FILE__, __LINE__, "[%s] %s", (row), #c)

/* Rows in a table. */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))


/* Every test module, in the order the runner calls them. */
#define TEST_MODULES(X) \
	X(form) X(request) X(basic) X(b32) X(config) X(selection) \
	X(record) X(seal) X(ids) X(bucket) X(store) X(resp) X(totp) X(jwt) \
	X(signing) X(lifecycle) X(recovery) X(enroll) X(self) X(recbin) \
	X(log) X(conn) X(spool) X(pending)

#define TEST_DECLARE(m) void test_##m(void) __attribute__((weak));
TEST_MODULES(TEST_DECLARE)
#undef TEST_DECLARE

#endif
