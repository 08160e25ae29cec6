/*
 * form.h -- application/x-www-form-urlencoded decoding (WHATWG URL
 * "application/x-www-form-urlencoded parser", strict): '&'-separated
 * pairs, '+' is a space, %XX escapes; a bad escape is an error (not passed
 * through). Pure: no I/O, no globals.
 */
#ifndef MFA_FORM_H
#define MFA_FORM_H

#include <stddef.h>

#include "mfa.h"

/*
 * Called once per pair with the decoded key and value, each NUL-terminated
 * and with its length (a value may contain a NUL byte from %00: the caller
 * decides). Both buffers are borrowed for the duration of the call. Return
 * MFA_OK to go on, anything else stops decoding and is returned.
 */
typedef int (*form_pair_fn)(void *arg, const char *key, size_t keylen,
    const char *value, size_t valuelen);

/*
 * Decodes "len" bytes at "in". Empty pairs ("a=1&&b=2", trailing "&") are
 * skipped; a pair without '=' has an empty value. Returns MFA_OK, the
 * callback's non-zero result, MFA_ERR_INVALID with "err" set to
 * "invalid percent-encoding in parameter 'NAME'" (NAME truncated to 32
 * bytes, non-printable bytes shown as '?') or MFA_ERR_NOMEM.
 */
int form_decode(const char *in, size_t len, form_pair_fn fn, void *arg,
    char *err, size_t errlen) MFA_WUR;

/*
 * Decodes one form-urlencoded component "in" ("len" bytes) into "out"
 * (room for "outlen" bytes including the NUL; outlen >= len + 1 always
 * suffices). Sets "*outn" to the decoded length. Returns MFA_OK or
 * MFA_ERR_INVALID (bad escape) or MFA_ERR_TOOBIG.
 */
int form_unescape(const char *in, size_t len, char *out, size_t outlen,
    size_t *outn) MFA_WUR;

#endif
