/*
 * spool_read.c -- a published spool message read back, for mfa-deliver.
 *
 * The reader trusts nothing in the file: a file of the spool directory may
 * have been written by another program, or damaged. Every field is a
 * bounded string; the channel is one of the three the service writes.
 * Errors name the field, never its value (a code, an address).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "mask.h"
#include "spool.h"

/* Copies string member "key" of "obj" into "out" ("cap" bytes with the
 * NUL); false when absent, not a string, empty or too long. */
static bool
spool_field(json_t *obj, const char *key, char *out, size_t cap,
    bool optional, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	size_t n;

	if (v == NULL && optional) {
		out[0] = '\0';
		return true;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"%s\" is %s", key, v == NULL ?
		    "missing" : "not a string");
		return false;
	}
	n = json_string_length(v);
	if (n == 0 || n >= cap || memchr(json_string_value(v), '\0', n)) {
		snprintf(err, errlen, "\"%s\" is empty, too long (at most %zu "
		    "bytes) or holds a NUL", key, cap - 1);
		return false;
	}
	memcpy(out, json_string_value(v), n + 1);
	return true;
}

static bool
spool_channel_known(const char *c)
{
	return strcmp(c, "sms") == 0 || strcmp(c, "voice") == 0 ||
	    strcmp(c, "email") == 0;
}

/* The address fits the channel, as the service checked it at enrollment
 * (a gateway may put it in a mail header). */
static bool
spool_to_valid(const struct spool_in *m)
{
	return strcmp(m->channel, "email") == 0 ? mask_is_email(m->to) :
	    mask_is_e164(m->to);
}

static bool
spool_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Every field but the text is one line of printable characters (they go
 * into the gateway's environment). */
static bool
spool_fields_printable(const struct spool_in *m)
{
	return spool_printable(m->code) && spool_printable(m->user_id) &&
	    spool_printable(m->challenge_id) &&
	    spool_printable(m->created_at);
}

int
spool_parse(const void *buf, size_t len, struct spool_in *m, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *obj;
	bool ok;
	int n;

	memset(m, 0, sizeof(*m));
	if (len > SPOOL_FILE_MAX) {
		snprintf(err, errlen, "larger than %d bytes", SPOOL_FILE_MAX);
		return MFA_ERR_INVALID;
	}
	if (len == 0) { /* written, renamed, not yet on disk: a power loss */
		snprintf(err, errlen, "empty (lost before it reached the disk?)");
		return MFA_ERR_INVALID;
	}
	obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "not a JSON object (line %d)", je.line);
		json_decref(obj);
		return MFA_ERR_INVALID;
	}
	ok = spool_field(obj, "channel", m->channel, sizeof(m->channel),
	    false, err, errlen) &&
	    spool_field(obj, "to", m->to, sizeof(m->to), false, err,
	    errlen) &&
	    spool_field(obj, "code", m->code, sizeof(m->code), false, err,
	    errlen) &&
	    spool_field(obj, "user_id", m->user_id, sizeof(m->user_id),
	    false, err, errlen) &&
	    spool_field(obj, "challenge_id", m->challenge_id,
	    sizeof(m->challenge_id), false, err, errlen) &&
	    spool_field(obj, "created_at", m->created_at,
	    sizeof(m->created_at), false, err, errlen) &&
	    spool_field(obj, "text", m->text, sizeof(m->text), true, err,
	    errlen);
	json_decref(obj); /* jansson does not wipe: the file holds it too */
	if (ok && !spool_channel_known(m->channel)) {
		snprintf(err, errlen, "\"channel\" is not sms, voice or email");
		ok = false;
	}
	if (ok && !spool_to_valid(m)) {
		snprintf(err, errlen, "\"to\" is not %s",
		    strcmp(m->channel, "email") == 0 ? "an e-mail address" :
		    "an E.164 phone number");
		ok = false;
	}
	if (ok && !spool_fields_printable(m)) {
		snprintf(err, errlen, "a field holds a control character");
		ok = false;
	}
	if (ok && m->text[0] == '\0') {
		n = snprintf(m->text, sizeof(m->text),
		    "Your verification code is %s", m->code);
		ok = n > 0 && (size_t)n < sizeof(m->text);
	}
	if (!ok) {
		sodium_memzero(m, sizeof(*m));
		return MFA_ERR_INVALID;
	}
	return MFA_OK;
}

bool
spool_published_name(const char *name, mfa_ms *created)
{
	size_t len = strlen(name), i;
	mfa_ms t = 0;

	/* "<13 digits>-" + an id + ".json" */
	if (len < 13 + 1 + 1 + 5 || len > 13 + 1 + MFA_CHALLENGE_ID_MAX + 5 ||
	    strcmp(name + len - 5, ".json") != 0 || name[13] != '-')
		return false;
	for (i = 0; i < 13; i++) {
		if (!isdigit((unsigned char)name[i]))
			return false;
		t = t * 10 + (name[i] - '0');
	}
	for (i = 14; i < len - 5; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	*created = t;
	return true;
}
