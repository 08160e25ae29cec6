/*
 * selection.h -- the challenge selection state machine (DESIGN §5): which
 * of otp / oob to issue, for which enrolled authenticator. Pure: it takes
 * values and returns one decision; nothing is stored until the caller acts
 * on SEL_CHALLENGE.
 *
 * Rows, checked in this order (README "Decision table"):
 *   1 token missing / malformed / expired / another client's
 *   2 a listed challenge_type other than otp or oob
 *   3 listed types, none of them allowed for the client
 *   4 the user has no active otp or oob authenticator
 *   5 authenticator_id: not the user's / inactive / of a type not accepted
 *   6 no overlap between accepted types and the user's authenticators
 *   7 otherwise: the named authenticator, else the first active otp (if
 *     accepted), else the first active oob (enrollment order)
 */
#ifndef MFA_SELECTION_H
#define MFA_SELECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

enum sel_token {
	SEL_TOKEN_INVALID = 0, /* fails closed: treated as malformed */
	SEL_TOKEN_MISSING,
	SEL_TOKEN_MALFORMED,
	SEL_TOKEN_EXPIRED,
	SEL_TOKEN_OTHER_CLIENT,
	SEL_TOKEN_OK,
};

/* One of the user's authenticators, as the machine sees it. */
struct sel_authn {
	const char *id;
	enum authn_type type;
	bool active;
};

struct sel_input {
	enum sel_token token;
	unsigned client_types;        /* CT_* the client allows */
	const char *requested;        /* challenge_type list, NULL = default */
	const char *authenticator_id; /* NULL = let the machine pick */
	const struct sel_authn *authns; /* in enrollment order */
	size_t nauthns;
};

enum sel_outcome {
	SEL_ERROR = 0,
	SEL_TOKEN_MISSING_ROW,
	SEL_TOKEN_MALFORMED_ROW,
	SEL_TOKEN_EXPIRED_ROW,
	SEL_TOKEN_OTHER_CLIENT_ROW,
	SEL_UNKNOWN_TYPE,
	SEL_TYPE_NOT_ALLOWED,
	SEL_ASSOCIATION_REQUIRED,
	SEL_AUTHN_UNKNOWN,
	SEL_AUTHN_INACTIVE,
	SEL_AUTHN_TYPE_MISMATCH,
	SEL_NO_OVERLAP,
	SEL_CHALLENGE,
};

struct sel_decision {
	enum sel_outcome outcome;
	size_t pick;        /* index into authns; SEL_CHALLENGE only */
	unsigned type;      /* CT_OTP or CT_OOB; SEL_CHALLENGE only */
	unsigned requested; /* the accepted (requested & allowed) types */
	unsigned available; /* types of the user's active authenticators */
	unsigned named;     /* type of the named authenticator, if any */
	char bad_type[33];  /* the unknown word; SEL_UNKNOWN_TYPE only */
};

/* Runs the machine. A zeroed decision (SEL_ERROR) must be refused. */
struct sel_decision selection_decide(const struct sel_input *in) MFA_WUR;

/*
 * The OAuth error for a non-SEL_CHALLENGE decision: sets "*status" and
 * "*code", writes the description into "desc". Pure.
 */
void selection_error(const struct sel_decision *d, int *status,
    const char **code, char *desc, size_t desclen);

/* The challenge type an authenticator type answers (0 if none). */
unsigned selection_type_of(enum authn_type t);

#endif
