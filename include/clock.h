/*
 * clock.h -- the wall clock, read in one place and passed down as a value
 * (pure modules never read it).
 */
#ifndef MFA_CLOCK_H
#define MFA_CLOCK_H

#include "mfa.h"

/* ISO 8601 UTC with milliseconds: "2022-02-15T15:26:53.274Z" + NUL. */
#define CLOCK_ISO_LEN 25

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
mfa_ms clock_now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC: for intervals and deadlines, which a
 * step of the wall clock must not stretch; the same in every process. */
int64_t clock_mono_ms(void);

/*
 * Formats "t" as ISO 8601 UTC with milliseconds into "out" (at least
 * CLOCK_ISO_LEN bytes). Returns MFA_OK or MFA_ERR_INVALID (out of range).
 */
int clock_iso8601(mfa_ms t, char *out, size_t outlen) MFA_WUR;

#endif
