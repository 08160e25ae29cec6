/*
 * test-selection.c -- the challenge selection state machine, row by row
 * as include/selection.h lists them, with the exact OAuth error (status,
 * code, description) of every row that is not a challenge.
 */
#include <string.h>

#include "selection.h"
#include "test.h"

/* Like T_EQ_INT / T_EQ_STR, naming the table row that failed. */
#define ROW_STR(row, a, b)                                                 \
	do {                                                               \
		const char *r_a_ = (a), *r_b_ = (b);                       \
		test_report(r_a_ != NULL && r_b_ != NULL &&                \
		    strcmp(r_a_, r_b_) == 0, __FILE__, __LINE__,           \
		    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b,     \
		    r_a_ ? r_a_ : "(null)", r_b_ ? r_b_ : "(null)");       \
	} while (0)

#define SET(a) (a), NELEM(a)

/* The user's authenticators, in enrollment order. */
static const struct sel_authn inactive_only[] = {
	{ "totp|dev_T0", AUTHN_OTP, false },
	{ "sms|dev_S0", AUTHN_OOB, false },
};
static const struct sel_authn recovery_only[] = {
	{ "recovery-code|dev_R0", AUTHN_RECOVERY, true },
};
static const struct sel_authn recovery_and_inactive[] = {
	{ "recovery-code|dev_R0", AUTHN_RECOVERY, true },
	{ "totp|dev_T0", AUTHN_OTP, false },
};
static const struct sel_authn otp_only[] = {
	{ "totp|dev_T1", AUTHN_OTP, true },
};
static const struct sel_authn oob_only[] = {
	{ "sms|dev_S1", AUTHN_OOB, true },
};
static const struct sel_authn mixed[] = {
	{ "sms|dev_S0", AUTHN_OOB, false },           /* 0 */
	{ "email|dev_E1", AUTHN_OOB, true },          /* 1 first active oob */
	{ "totp|dev_T0", AUTHN_OTP, false },          /* 2 */
	{ "totp|dev_T1", AUTHN_OTP, true },           /* 3 first active otp */
	{ "voice|dev_V1", AUTHN_OOB, true },          /* 4 */
	{ "recovery-code|dev_R1", AUTHN_RECOVERY, true }, /* 5 */
	{ "totp|dev_T2", AUTHN_OTP, true },           /* 6 */
};
/* oob enrolled before otp: otp is still the default pick */
static const struct sel_authn oob_then_otp[] = {
	{ "sms|dev_S1", AUTHN_OOB, true },
	{ "voice|dev_V1", AUTHN_OOB, true },
	{ "totp|dev_T1", AUTHN_OTP, true },
};

#define LONGWORD "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" /* 40 x */
#define WORD32 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const struct sel_row {
	const char *name;
	/* input */
	enum sel_token token;
	unsigned client_types;
	const char *requested;
	const char *authenticator_id;
	const struct sel_authn *authns;
	size_t nauthns;
	/* expected decision */
	enum sel_outcome outcome;
	size_t pick;
	unsigned type;
	const char *bad_type;
	/* expected error (outcome != SEL_CHALLENGE) */
	int status;
	const char *code;
	const char *desc;
} sel_rows[] = {
	/* Row 1: the token, before anything else is looked at. */
	{ "1 token missing", SEL_TOKEN_MISSING, CT_ALL, NULL, NULL, SET(mixed),
	    SEL_TOKEN_MISSING_ROW, 0, 0, NULL,
	    400, "invalid_request", "Missing required parameter: mfa_token" },
	{ "1 token malformed", SEL_TOKEN_MALFORMED, CT_ALL, NULL, NULL,
	    SET(mixed), SEL_TOKEN_MALFORMED_ROW, 0, 0, NULL,
	    400, "invalid_grant", "Malformed mfa_token" },
	{ "1 token invalid (zero) fails closed as malformed",
	    SEL_TOKEN_INVALID, CT_ALL, NULL, NULL, SET(mixed),
	    SEL_TOKEN_MALFORMED_ROW, 0, 0, NULL,
	    400, "invalid_grant", "Malformed mfa_token" },
	{ "1 token out-of-range enum fails closed as malformed",
	    (enum sel_token)99, CT_ALL, NULL, NULL, SET(mixed),
	    SEL_TOKEN_MALFORMED_ROW, 0, 0, NULL,
	    400, "invalid_grant", "Malformed mfa_token" },
	{ "1 token expired", SEL_TOKEN_EXPIRED, CT_ALL, NULL, NULL, SET(mixed),
	    SEL_TOKEN_EXPIRED_ROW, 0, 0, NULL,
	    403, "expired_token", "mfa_token is expired" },
	{ "1 token of another client", SEL_TOKEN_OTHER_CLIENT, CT_ALL, NULL,
	    NULL, SET(mixed), SEL_TOKEN_OTHER_CLIENT_ROW, 0, 0, NULL,
	    400, "invalid_request", "mfa_token not issued to this client" },
	{ "1 before 2: expired token with an unknown type",
	    SEL_TOKEN_EXPIRED, CT_ALL, "otp foo", NULL, SET(mixed),
	    SEL_TOKEN_EXPIRED_ROW, 0, 0, NULL,
	    403, "expired_token", "mfa_token is expired" },
	{ "1 before 4: missing token, user without authenticators",
	    SEL_TOKEN_MISSING, CT_ALL, NULL, NULL, NULL, 0,
	    SEL_TOKEN_MISSING_ROW, 0, 0, NULL,
	    400, "invalid_request", "Missing required parameter: mfa_token" },

	/* Row 2: a listed word other than otp or oob. */
	{ "2 otp foo", SEL_TOKEN_OK, CT_ALL, "otp foo", NULL, SET(mixed),
	    SEL_UNKNOWN_TYPE, 0, 0, "foo",
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: foo" },
	{ "2 first unknown word is reported", SEL_TOKEN_OK, CT_ALL,
	    "bar otp baz", NULL, SET(mixed), SEL_UNKNOWN_TYPE, 0, 0, "bar",
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: bar" },
	{ "2 case matters: OTP", SEL_TOKEN_OK, CT_ALL, "OTP", NULL,
	    SET(mixed), SEL_UNKNOWN_TYPE, 0, 0, "OTP",
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: OTP" },
	{ "2 comma is not a separator", SEL_TOKEN_OK, CT_ALL, "otp,oob", NULL,
	    SET(mixed), SEL_UNKNOWN_TYPE, 0, 0, "otp,oob",
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: otp,oob" },
	{ "2 long word truncated to 32 bytes", SEL_TOKEN_OK, CT_ALL,
	    "otp " LONGWORD, NULL, SET(mixed), SEL_UNKNOWN_TYPE, 0, 0, WORD32,
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: " WORD32 },
	{ "2 before 3: unknown word, client allows only otp", SEL_TOKEN_OK,
	    CT_OTP, "oob foo", NULL, SET(mixed), SEL_UNKNOWN_TYPE, 0, 0,
	    "foo", 400, "unsupported_challenge_type",
	    "Unsupported challenge type: foo" },
	{ "2 before 4: unknown word, no authenticators", SEL_TOKEN_OK, CT_ALL,
	    "foo", NULL, NULL, 0, SEL_UNKNOWN_TYPE, 0, 0, "foo",
	    400, "unsupported_challenge_type",
	    "Unsupported challenge type: foo" },

	/* Row 3: listed types, none allowed for the client. */
	{ "3 oob requested, client allows otp", SEL_TOKEN_OK, CT_OTP, "oob",
	    NULL, SET(mixed), SEL_TYPE_NOT_ALLOWED, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "The client does not allow challenge type(s): [oob]" },
	{ "3 otp requested, client allows oob", SEL_TOKEN_OK, CT_OOB, "otp",
	    NULL, SET(mixed), SEL_TYPE_NOT_ALLOWED, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "The client does not allow challenge type(s): [otp]" },
	{ "3 before 4: not allowed, user without authenticators",
	    SEL_TOKEN_OK, CT_OTP, "oob", NULL, NULL, 0, SEL_TYPE_NOT_ALLOWED,
	    0, 0, NULL, 400, "unsupported_challenge_type",
	    "The client does not allow challenge type(s): [oob]" },

	/* Row 4: no active otp or oob authenticator. */
	{ "4 no authenticators at all", SEL_TOKEN_OK, CT_ALL, NULL, NULL, NULL,
	    0, SEL_ASSOCIATION_REQUIRED, 0, 0, NULL,
	    400, "association_required",
	    "The user has no active authenticator; enroll one first" },
	{ "4 only inactive ones", SEL_TOKEN_OK, CT_ALL, NULL, NULL,
	    SET(inactive_only), SEL_ASSOCIATION_REQUIRED, 0, 0, NULL,
	    400, "association_required",
	    "The user has no active authenticator; enroll one first" },
	{ "4 only a recovery code", SEL_TOKEN_OK, CT_ALL, NULL, NULL,
	    SET(recovery_only), SEL_ASSOCIATION_REQUIRED, 0, 0, NULL,
	    400, "association_required",
	    "The user has no active authenticator; enroll one first" },
	{ "4 recovery code and an inactive otp", SEL_TOKEN_OK, CT_ALL, "otp",
	    NULL, SET(recovery_and_inactive), SEL_ASSOCIATION_REQUIRED, 0, 0,
	    NULL, 400, "association_required",
	    "The user has no active authenticator; enroll one first" },
	{ "4 before 5: unknown authenticator_id, no authenticators",
	    SEL_TOKEN_OK, CT_ALL, NULL, "totp|dev_T1", NULL, 0,
	    SEL_ASSOCIATION_REQUIRED, 0, 0, NULL,
	    400, "association_required",
	    "The user has no active authenticator; enroll one first" },

	/* Row 5: the named authenticator. */
	{ "5 authenticator_id unknown", SEL_TOKEN_OK, CT_ALL, NULL,
	    "totp|dev_NOPE", SET(mixed), SEL_AUTHN_UNKNOWN, 0, 0, NULL,
	    400, "invalid_request",
	    "authenticator_id does not name an authenticator of this user" },
	{ "5 authenticator_id prefix of an id is unknown", SEL_TOKEN_OK,
	    CT_ALL, NULL, "totp|dev_T", SET(mixed), SEL_AUTHN_UNKNOWN, 0, 0,
	    NULL, 400, "invalid_request",
	    "authenticator_id does not name an authenticator of this user" },
	{ "5 authenticator_id inactive", SEL_TOKEN_OK, CT_ALL, NULL,
	    "sms|dev_S0", SET(mixed), SEL_AUTHN_INACTIVE, 0, 0, NULL,
	    400, "invalid_request",
	    "authenticator_id names an inactive authenticator" },
	{ "5 inactive checked before type", SEL_TOKEN_OK, CT_ALL, "otp",
	    "sms|dev_S0", SET(mixed), SEL_AUTHN_INACTIVE, 0, 0, NULL,
	    400, "invalid_request",
	    "authenticator_id names an inactive authenticator" },
	{ "5 otp authenticator, oob requested", SEL_TOKEN_OK, CT_ALL, "oob",
	    "totp|dev_T1", SET(mixed), SEL_AUTHN_TYPE_MISMATCH, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "Authenticator type otp is not among the accepted challenge "
	    "types [oob]" },
	{ "5 oob authenticator, client allows only otp", SEL_TOKEN_OK, CT_OTP,
	    NULL, "voice|dev_V1", SET(mixed), SEL_AUTHN_TYPE_MISMATCH, 0, 0,
	    NULL, 400, "unsupported_challenge_type",
	    "Authenticator type oob is not among the accepted challenge "
	    "types [otp]" },
	{ "5 recovery-code authenticator", SEL_TOKEN_OK, CT_ALL, NULL,
	    "recovery-code|dev_R1", SET(mixed), SEL_AUTHN_TYPE_MISMATCH, 0, 0,
	    NULL, 400, "unsupported_challenge_type",
	    "Authenticator cannot be challenged; accepted challenge types "
	    "[otp, oob]" },
	{ "5 before 6: otp-only user names otp, asks oob", SEL_TOKEN_OK,
	    CT_ALL, "oob", "totp|dev_T1", SET(otp_only),
	    SEL_AUTHN_TYPE_MISMATCH, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "Authenticator type otp is not among the accepted challenge "
	    "types [oob]" },

	/* Row 6: no overlap. */
	{ "6 otp-only user asks oob", SEL_TOKEN_OK, CT_ALL, "oob", NULL,
	    SET(otp_only), SEL_NO_OVERLAP, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "No matching challenge_type. Requested: [oob]. Available: [otp]." },
	{ "6 oob-only user asks otp", SEL_TOKEN_OK, CT_ALL, "otp", NULL,
	    SET(oob_only), SEL_NO_OVERLAP, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "No matching challenge_type. Requested: [otp]. Available: [oob]." },
	{ "6 otp-only client, oob-only user, default list", SEL_TOKEN_OK,
	    CT_OTP, NULL, NULL, SET(oob_only), SEL_NO_OVERLAP, 0, 0, NULL,
	    400, "unsupported_challenge_type",
	    "No matching challenge_type. Requested: [otp]. Available: [oob]." },
	{ "6 otp oob requested, otp-only client, oob-only user",
	    SEL_TOKEN_OK, CT_OTP, "otp oob", NULL, SET(oob_only),
	    SEL_NO_OVERLAP, 0, 0, NULL, 400, "unsupported_challenge_type",
	    "No matching challenge_type. Requested: [otp]. Available: [oob]." },

	/* Row 7: picks. */
	{ "7 named oob authenticator", SEL_TOKEN_OK, CT_ALL, NULL,
	    "voice|dev_V1", SET(mixed), SEL_CHALLENGE, 4, CT_OOB, NULL,
	    0, NULL, NULL },
	{ "7 named otp authenticator (not the first otp)", SEL_TOKEN_OK,
	    CT_ALL, NULL, "totp|dev_T2", SET(mixed), SEL_CHALLENGE, 6, CT_OTP,
	    NULL, 0, NULL, NULL },
	{ "7 named oob with oob requested", SEL_TOKEN_OK, CT_ALL, "oob",
	    "email|dev_E1", SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL,
	    0, NULL, NULL },
	{ "7 default: otp before oob", SEL_TOKEN_OK, CT_ALL, NULL, NULL,
	    SET(mixed), SEL_CHALLENGE, 3, CT_OTP, NULL, 0, NULL, NULL },
	{ "7 default: otp even when oob enrolled first", SEL_TOKEN_OK, CT_ALL,
	    NULL, NULL, SET(oob_then_otp), SEL_CHALLENGE, 2, CT_OTP, NULL,
	    0, NULL, NULL },
	{ "7 empty list means the client's types", SEL_TOKEN_OK, CT_ALL, "",
	    NULL, SET(mixed), SEL_CHALLENGE, 3, CT_OTP, NULL, 0, NULL, NULL },
	{ "7 blank list means the client's types", SEL_TOKEN_OK, CT_ALL,
	    " \t ", NULL, SET(mixed), SEL_CHALLENGE, 3, CT_OTP, NULL,
	    0, NULL, NULL },
	{ "7 otp requested", SEL_TOKEN_OK, CT_ALL, "otp", NULL, SET(mixed),
	    SEL_CHALLENGE, 3, CT_OTP, NULL, 0, NULL, NULL },
	{ "7 oob requested: first active oob in order", SEL_TOKEN_OK, CT_ALL,
	    "oob", NULL, SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL,
	    0, NULL, NULL },
	{ "7 oob requested, oob enrolled first", SEL_TOKEN_OK, CT_ALL, "oob",
	    NULL, SET(oob_then_otp), SEL_CHALLENGE, 0, CT_OOB, NULL,
	    0, NULL, NULL },
	{ "7 otp oob", SEL_TOKEN_OK, CT_ALL, "otp oob", NULL, SET(mixed),
	    SEL_CHALLENGE, 3, CT_OTP, NULL, 0, NULL, NULL },
	{ "7 oob otp: request order does not change the pick", SEL_TOKEN_OK,
	    CT_ALL, "oob otp", NULL, SET(mixed), SEL_CHALLENGE, 3, CT_OTP,
	    NULL, 0, NULL, NULL },
	{ "7 whitespace variant '  otp\\toob '", SEL_TOKEN_OK, CT_ALL,
	    "  otp\toob ", NULL, SET(mixed), SEL_CHALLENGE, 3, CT_OTP, NULL,
	    0, NULL, NULL },
	{ "7 whitespace variant 'oob\\r\\n'", SEL_TOKEN_OK, CT_ALL, "oob\r\n",
	    NULL, SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL, 0, NULL, NULL },
	{ "7 repeated word 'oob oob'", SEL_TOKEN_OK, CT_ALL, "oob oob", NULL,
	    SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL, 0, NULL, NULL },
	{ "7 oob-only client, default list", SEL_TOKEN_OK, CT_OOB, NULL, NULL,
	    SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL, 0, NULL, NULL },
	{ "7 oob-only client, otp oob requested", SEL_TOKEN_OK, CT_OOB,
	    "otp oob", NULL, SET(mixed), SEL_CHALLENGE, 1, CT_OOB, NULL,
	    0, NULL, NULL },
	{ "7 otp-only client, otp oob requested", SEL_TOKEN_OK, CT_OTP,
	    "otp oob", NULL, SET(mixed), SEL_CHALLENGE, 3, CT_OTP, NULL,
	    0, NULL, NULL },
	{ "7 oob-only user, default list", SEL_TOKEN_OK, CT_ALL, NULL, NULL,
	    SET(oob_only), SEL_CHALLENGE, 0, CT_OOB, NULL, 0, NULL, NULL },
	{ "7 otp-only user, default list", SEL_TOKEN_OK, CT_ALL, NULL, NULL,
	    SET(otp_only), SEL_CHALLENGE, 0, CT_OTP, NULL, 0, NULL, NULL },
	{ "7 otp-only user, otp oob requested", SEL_TOKEN_OK, CT_ALL,
	    "otp oob", NULL, SET(otp_only), SEL_CHALLENGE, 0, CT_OTP, NULL,
	    0, NULL, NULL },
};

static void
test_selection_rows(void)
{
	const struct sel_row *r;
	struct sel_input in;
	struct sel_decision d;
	const char *code;
	char desc[256];
	int status;
	size_t i;

	for (i = 0; i < NELEM(sel_rows); i++) {
		r = &sel_rows[i];
		memset(&in, 0, sizeof(in));
		in.token = r->token;
		in.client_types = r->client_types;
		in.requested = r->requested;
		in.authenticator_id = r->authenticator_id;
		in.authns = r->authns;
		in.nauthns = r->nauthns;
		d = selection_decide(&in);
		ROW_INT(r->name, d.outcome, r->outcome);
		if (r->outcome == SEL_CHALLENGE) {
			ROW_INT(r->name, d.pick, r->pick);
			ROW_INT(r->name, d.type, r->type);
			if (d.outcome == SEL_CHALLENGE && d.pick < r->nauthns) {
				ROW_INT(r->name, r->authns[d.pick].active, 1);
				ROW_INT(r->name, selection_type_of(
				    r->authns[d.pick].type), d.type);
			}
			continue;
		}
		if (r->bad_type != NULL)
			ROW_STR(r->name, d.bad_type, r->bad_type);
		status = -1;
		code = NULL;
		memset(desc, 'Z', sizeof(desc));
		selection_error(&d, &status, &code, desc, sizeof(desc));
		ROW_INT(r->name, status, r->status);
		ROW_STR(r->name, code, r->code);
		ROW_STR(r->name, desc, r->desc);
	}
}

/* The sets the decision reports alongside the outcome. */
static void
test_selection_sets(void)
{
	struct sel_input in;
	struct sel_decision d;

	memset(&in, 0, sizeof(in));
	in.token = SEL_TOKEN_OK;
	in.client_types = CT_ALL;
	in.requested = "oob";
	in.authns = otp_only;
	in.nauthns = NELEM(otp_only);
	d = selection_decide(&in);
	T_EQ_INT(d.outcome, SEL_NO_OVERLAP);
	T_EQ_INT(d.requested, CT_OOB);
	T_EQ_INT(d.available, CT_OTP);

	in.requested = NULL;
	in.authns = mixed;
	in.nauthns = NELEM(mixed);
	d = selection_decide(&in);
	T_EQ_INT(d.outcome, SEL_CHALLENGE);
	T_EQ_INT(d.requested, CT_ALL);
	T_EQ_INT(d.available, CT_ALL);
	T_EQ_INT(d.named, 0);

	in.authenticator_id = "voice|dev_V1";
	d = selection_decide(&in);
	T_EQ_INT(d.outcome, SEL_CHALLENGE);
	T_EQ_INT(d.named, CT_OOB);

	/* requested & allowed, not the raw request */
	in.authenticator_id = NULL;
	in.client_types = CT_OOB;
	in.requested = "otp oob";
	d = selection_decide(&in);
	T_EQ_INT(d.requested, CT_OOB);

	/* the bad word is only set for SEL_UNKNOWN_TYPE */
	in.requested = "otp";
	in.client_types = CT_ALL;
	d = selection_decide(&in);
	T_EQ_STR(d.bad_type, "");
}

/* A zeroed decision is an internal error, never a challenge. */
static void
test_selection_error_default(void)
{
	struct sel_decision d;
	const char *code = NULL;
	char desc[64];
	int status = 0;

	memset(&d, 0, sizeof(d));
	T_EQ_INT(d.outcome, SEL_ERROR);
	selection_error(&d, &status, &code, desc, sizeof(desc));
	T_EQ_INT(status, 500);
	T_EQ_STR(code, "server_error");
	T_EQ_STR(desc, "Internal server error");

	/* A short buffer truncates, always NUL-terminated. */
	d.outcome = SEL_TOKEN_MALFORMED_ROW;
	selection_error(&d, &status, &code, desc, 10);
	T_EQ_STR(desc, "Malformed");
}

static void
test_selection_type_of(void)
{
	T_EQ_INT(selection_type_of(AUTHN_OTP), CT_OTP);
	T_EQ_INT(selection_type_of(AUTHN_OOB), CT_OOB);
	T_EQ_INT(selection_type_of(AUTHN_RECOVERY), 0);
	T_EQ_INT(selection_type_of(AUTHN_INVALID), 0);
	T_EQ_INT(selection_type_of((enum authn_type)42), 0);
}

void
test_selection(void)
{
	test_selection_rows();
	test_selection_sets();
	test_selection_error_default();
	test_selection_type_of();
}
