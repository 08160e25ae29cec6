/*
 * fuzz_spool.c -- a spool message read back by mfa-deliver (spool_read.c)
 * and the names it takes for published messages.
 *
 * Checks: an accepted message has every field non-empty, NUL-terminated
 * within its array and of a known channel, and a text; a refused one
 * leaves the struct wiped with a reason; a name taken for a message
 * carries its 13 digits of time.
 */
#include "fuzz.h"
#include "spool.h"

static void
fuzz_spool_field(const char *f, size_t cap)
{
	size_t n = strnlen(f, cap);

	FUZZ_CHECK(n > 0 && n < cap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_in m;
	char err[160], *name;
	mfa_ms t = -1;
	size_t i;

	err[0] = '\0';
	if (spool_parse(data, size, &m, err, sizeof(err)) == MFA_OK) {
		fuzz_spool_field(m.channel, sizeof(m.channel));
		fuzz_spool_field(m.to, sizeof(m.to));
		fuzz_spool_field(m.code, sizeof(m.code));
		fuzz_spool_field(m.user_id, sizeof(m.user_id));
		fuzz_spool_field(m.challenge_id, sizeof(m.challenge_id));
		fuzz_spool_field(m.created_at, sizeof(m.created_at));
		fuzz_spool_field(m.text, sizeof(m.text));
		FUZZ_CHECK(strcmp(m.channel, "sms") == 0 ||
		    strcmp(m.channel, "voice") == 0 ||
		    strcmp(m.channel, "email") == 0);
	} else {
		FUZZ_CHECK(err[0] != '\0');
		for (i = 0; i < sizeof(m); i++)
			FUZZ_CHECK(((unsigned char *)&m)[i] == 0);
	}
	name = fuzz_strndup(data, size < 256 ? size : 256);
	if (spool_published_name(name, &t)) {
		FUZZ_CHECK(t >= 0 && t <= 9999999999999LL);
		FUZZ_CHECK(strchr(name, '/') == NULL && name[0] != '.');
	}
	free(name);
	return 0;
}
