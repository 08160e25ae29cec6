/*
 * selection.c -- the challenge selection state machine.
 */
#include <stdio.h>
#include <string.h>

#include "selection.h"

unsigned
selection_type_of(enum authn_type t)
{
	return t == AUTHN_OTP ? CT_OTP : t == AUTHN_OOB ? CT_OOB : 0;
}

static struct sel_decision
selection_result(struct sel_decision d, enum sel_outcome o)
{
	d.outcome = o;
	return d;
}

/* Row 1: the mfa_token's state, decided by the caller from the store. */
static enum sel_outcome
selection_token_row(enum sel_token t)
{
	switch (t) {
	case SEL_TOKEN_OK:
		return SEL_CHALLENGE;
	case SEL_TOKEN_MISSING:
		return SEL_TOKEN_MISSING_ROW;
	case SEL_TOKEN_EXPIRED:
		return SEL_TOKEN_EXPIRED_ROW;
	case SEL_TOKEN_OTHER_CLIENT:
		return SEL_TOKEN_OTHER_CLIENT_ROW;
	default:
		return SEL_TOKEN_MALFORMED_ROW;
	}
}

/* Index of the first active authenticator answering "type", or -1. */
static long
selection_first(const struct sel_input *in, unsigned type)
{
	size_t i;

	for (i = 0; i < in->nauthns; i++)
		if (in->authns[i].active &&
		    selection_type_of(in->authns[i].type) == type)
			return (long)i;
	return -1;
}

/* Row 5: the authenticator the caller named. */
static struct sel_decision
selection_named(const struct sel_input *in, struct sel_decision d)
{
	const struct sel_authn *a;
	size_t i;

	for (i = 0; i < in->nauthns; i++)
		if (strcmp(in->authns[i].id, in->authenticator_id) == 0)
			break;
	if (i == in->nauthns)
		return selection_result(d, SEL_AUTHN_UNKNOWN);
	a = &in->authns[i];
	d.named = selection_type_of(a->type);
	if (!a->active)
		return selection_result(d, SEL_AUTHN_INACTIVE);
	if ((d.named & d.requested) == 0)
		return selection_result(d, SEL_AUTHN_TYPE_MISMATCH);
	d.pick = i;
	d.type = d.named;
	return selection_result(d, SEL_CHALLENGE);
}

struct sel_decision
selection_decide(const struct sel_input *in)
{
	struct sel_decision d;
	enum sel_outcome o;
	unsigned req = 0;
	size_t i;
	long pick;

	memset(&d, 0, sizeof(d));
	if ((o = selection_token_row(in->token)) != SEL_CHALLENGE)
		return selection_result(d, o);
	if (in->requested != NULL && record_types_parse(in->requested, &req,
	    d.bad_type, sizeof(d.bad_type)) != MFA_OK)
		return selection_result(d, SEL_UNKNOWN_TYPE);
	if (req == 0)
		req = in->client_types;
	d.requested = req & in->client_types;
	if (d.requested == 0) {
		d.requested = req;
		return selection_result(d, SEL_TYPE_NOT_ALLOWED);
	}
	for (i = 0; i < in->nauthns; i++)
		if (in->authns[i].active)
			d.available |= selection_type_of(in->authns[i].type);
	if (d.available == 0)
		return selection_result(d, SEL_ASSOCIATION_REQUIRED);
	if (in->authenticator_id != NULL)
		return selection_named(in, d);
	if ((d.requested & d.available) == 0)
		return selection_result(d, SEL_NO_OVERLAP);
	pick = (d.requested & CT_OTP) ? selection_first(in, CT_OTP) : -1;
	d.type = CT_OTP;
	if (pick < 0) {
		pick = selection_first(in, CT_OOB);
		d.type = CT_OOB;
	}
	if (pick < 0)
		return selection_result(d, SEL_ERROR);
	d.pick = (size_t)pick;
	return selection_result(d, SEL_CHALLENGE);
}

/* Writes "[otp, oob]" for a type set. */
static void
selection_list(unsigned types, char *out, size_t outlen)
{
	snprintf(out, outlen, "[%s%s%s]", (types & CT_OTP) ? "otp" : "",
	    (types & CT_OTP) && (types & CT_OOB) ? ", " : "",
	    (types & CT_OOB) ? "oob" : "");
}

void
selection_error(const struct sel_decision *d, int *status, const char **code,
    char *desc, size_t desclen)
{
	char a[32], b[32];

	selection_list(d->requested, a, sizeof(a));
	selection_list(d->available, b, sizeof(b));
	*status = 400;
	*code = "invalid_request";
	switch (d->outcome) {
	case SEL_TOKEN_MISSING_ROW:
		snprintf(desc, desclen, "Missing required parameter: mfa_token");
		break;
	case SEL_TOKEN_MALFORMED_ROW:
		*code = "invalid_grant";
		snprintf(desc, desclen, "Malformed mfa_token");
		break;
	case SEL_TOKEN_EXPIRED_ROW:
		*status = 403;
		*code = "expired_token";
		snprintf(desc, desclen, "mfa_token is expired");
		break;
	case SEL_TOKEN_OTHER_CLIENT_ROW:
		snprintf(desc, desclen, "mfa_token not issued to this client");
		break;
	case SEL_UNKNOWN_TYPE:
		*code = "unsupported_challenge_type";
		snprintf(desc, desclen, "Unsupported challenge type: %s",
		    d->bad_type);
		break;
	case SEL_TYPE_NOT_ALLOWED:
		*code = "unsupported_challenge_type";
		snprintf(desc, desclen,
		    "The client does not allow challenge type(s): %s", a);
		break;
	case SEL_ASSOCIATION_REQUIRED:
		*code = "association_required";
		snprintf(desc, desclen,
		    "The user has no active authenticator; enroll one first");
		break;
	case SEL_AUTHN_UNKNOWN:
		snprintf(desc, desclen,
		    "authenticator_id does not name an authenticator of this "
		    "user");
		break;
	case SEL_AUTHN_INACTIVE:
		snprintf(desc, desclen,
		    "authenticator_id names an inactive authenticator");
		break;
	case SEL_AUTHN_TYPE_MISMATCH:
		*code = "unsupported_challenge_type";
		if (d->named == 0)
			snprintf(desc, desclen, "Authenticator cannot be "
			    "challenged; accepted challenge types %s", a);
		else
			snprintf(desc, desclen, "Authenticator type %s is not "
			    "among the accepted challenge types %s",
			    record_challenge_type_name(d->named), a);
		break;
	case SEL_NO_OVERLAP:
		*code = "unsupported_challenge_type";
		snprintf(desc, desclen,
		    "No matching challenge_type. Requested: %s. Available: %s.",
		    a, b);
		break;
	default:
		*status = 500;
		*code = "server_error";
		snprintf(desc, desclen, "Internal server error");
		break;
	}
}
