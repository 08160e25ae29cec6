/*
 * clock.c -- reading and formatting the wall clock; the monotonic one.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"

#ifdef MFA_TEST_CLOCK
#include <stdlib.h>

/*
 * Test builds only (make testclock): the clock runs ahead by the number of
 * milliseconds written in the file named by $MFA_TEST_CLOCK_FILE, so the
 * integration tests move time (bucket refills, expiry) without sleeping.
 */
static mfa_ms
clock_offset(void)
{
	const char *path = getenv("MFA_TEST_CLOCK_FILE");
	long long v = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%lld", &v) != 1)
		v = 0;
	fclose(f);
	return (mfa_ms)v;
}
#else
#define clock_offset() 0
#endif

/* Milliseconds since the epoch. */
mfa_ms
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (mfa_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    clock_offset();
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ISO 8601 UTC with milliseconds, as WorkOS writes its timestamps. */
int
clock_iso8601(mfa_ms t, char *out, size_t outlen)
{
	struct tm tm;
	time_t secs;
	int n;

	if (t < 0 || t > (mfa_ms)253402300799999LL || outlen < CLOCK_ISO_LEN)
		return MFA_ERR_INVALID;
	secs = (time_t)(t / 1000);
	if (gmtime_r(&secs, &tm) == NULL)
		return MFA_ERR_INVALID;
	n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(t % 1000));
	return n > 0 && (size_t)n < outlen ? MFA_OK : MFA_ERR_INVALID;
}
