/*
 * mask.h -- how authenticator destinations are shown to users and admins:
 * a phone number keeps its last four digits, every other character
 * replaced by the letter X (as Auth0 lists them); an e-mail address keeps
 * its first character and its domain ("j***@example.com").
 */
#ifndef MFA_MASK_H
#define MFA_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "mfa.h"

/* Masks "to" into "out" (room for "outlen" bytes, MFA_DEST_MAX+1 suffices). */
void mask_phone(const char *to, char *out, size_t outlen);
void mask_email(const char *to, char *out, size_t outlen);

/* True for an E.164 number: '+', a non-zero digit, 7 to 15 digits in all. */
bool mask_is_e164(const char *s);

/* True for a plausible e-mail address: one '@', a non-empty local part of
 * at most 64 bytes, a domain with a dot, printable ASCII, no spaces. */
bool mask_is_email(const char *s);

#endif
