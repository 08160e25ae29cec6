/*
 * err.c -- names of the project's error codes (include/mfa.h).
 */
#include "mfa.h"

/* Returns a static English name for "err"; never NULL. */
const char *
mfa_strerror(int err)
{
	switch (err) {
	case MFA_OK:
		return "success";
	case MFA_ERR_NOTFOUND:
		return "not found";
	case MFA_ERR_EXISTS:
		return "already exists";
	case MFA_ERR_INVALID:
		return "invalid value";
	case MFA_ERR_STORE:
		return "store error";
	case MFA_ERR_FULL:
		return "store is full";
	case MFA_ERR_BUSY:
		return "temporarily unavailable";
	case MFA_ERR_CRYPTO:
		return "sealed data failed to open";
	case MFA_ERR_IO:
		return "I/O error";
	case MFA_ERR_NOMEM:
		return "out of memory";
	case MFA_ERR_TOOBIG:
		return "too large";
	case MFA_ERR_CORRUPT:
		return "stored record is corrupt";
	case MFA_ERR_CONFIG:
		return "configuration error";
	case MFA_ERR_LIMIT:
		return "rate limit reached";
	default:
		return "unknown error";
	}
}
