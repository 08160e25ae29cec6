/*
 * test-enroll.c -- the pure parts of enrollment: enroll_begin (active
 * with ttl 0, else inactive until now + ttl), enroll_is_live and
 * enroll_keep_live at the expiry boundary, enroll_confirm, enroll_oob's
 * destination checks per channel (table), router_path_id (percent
 * decoding of one path segment, table), and qr_png / qr_data_uri (a PNG
 * of the right geometry; over-long text refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "enroll.h"
#include "qr.h"
#include "test.h"

static void
test_enroll_life(void)
{
	struct authn_rec a[3];
	size_t n = 3;

	enroll_begin(&a[0], "u1", 1000, 0);
	T_TRUE(a[0].active);
	T_EQ_INT(a[0].expires_at, 0);
	T_EQ_INT(a[0].last_step, -1);
	T_EQ_STR(a[0].user_id, "u1");
	enroll_begin(&a[1], "u1", 1000, 600);
	T_TRUE(!a[1].active);
	T_EQ_INT(a[1].expires_at, 601000);
	T_TRUE(enroll_is_live(&a[1], 600999));
	T_TRUE(!enroll_is_live(&a[1], 601000));
	enroll_begin(&a[2], "u2", 1000, 60);
	strcpy(a[2].id, "third");
	enroll_keep_live(a, &n, 61000); /* a[2] lapsed exactly now */
	T_EQ_INT(n, 2);
	n = 3;
	enroll_keep_live(a, &n, 601000); /* only the active one is left */
	T_EQ_INT(n, 1);
	T_TRUE(a[0].active);
	T_TRUE(enroll_confirm(&a[0]) == false);
	enroll_begin(&a[1], "u1", 1000, 600);
	T_TRUE(enroll_confirm(&a[1]));
	T_TRUE(a[1].active);
	T_EQ_INT(a[1].expires_at, 0);
}

static void
test_enroll_oob_destinations(void)
{
	static const struct {
		enum oob_channel ch;
		const char *to;
		int rc;
		const char *prefix;
	} t[] = {
		{ CHANNEL_SMS, "+15555550100", MFA_OK, "sms|dev_" },
		{ CHANNEL_VOICE, "+4930123456", MFA_OK, "voice|dev_" },
		{ CHANNEL_EMAIL, "j@example.com", MFA_OK, "email|dev_" },
		{ CHANNEL_SMS, "15555550100", MFA_ERR_INVALID, NULL },
		{ CHANNEL_SMS, "+1555", MFA_ERR_INVALID, NULL },
		{ CHANNEL_SMS, "+1234567890123456", MFA_ERR_INVALID, NULL },
		{ CHANNEL_SMS, "j@example.com", MFA_ERR_INVALID, NULL },
		{ CHANNEL_EMAIL, "+15555550100", MFA_ERR_INVALID, NULL },
		{ CHANNEL_EMAIL, "no-at.example.com", MFA_ERR_INVALID, NULL },
		{ CHANNEL_EMAIL, "a b@example.com", MFA_ERR_INVALID, NULL },
		{ CHANNEL_NONE, "+15555550100", MFA_ERR_INVALID, NULL },
	};
	struct authn_rec a;
	size_t i;

	for (i = 0; i < NELEM(t); i++) {
		enroll_begin(&a, "u", 0, 0);
		T_EQ_INT(enroll_oob(&a, t[i].ch, t[i].to), t[i].rc);
		if (t[i].rc != MFA_OK)
			continue;
		ROW_TRUE(t[i].to, strncmp(a.id, t[i].prefix,
		    strlen(t[i].prefix)) == 0 && strlen(a.id) ==
		    strlen(t[i].prefix) + 16);
		T_EQ_STR(a.to, t[i].to);
		T_EQ_INT(a.type, AUTHN_OOB);
	}
	/* a preset id is kept (the WorkOS factor API sets its own) */
	enroll_begin(&a, "u", 0, 0);
	strcpy(a.id, "auth_factor_X");
	T_EQ_INT(enroll_oob(&a, CHANNEL_SMS, "+15555550100"), MFA_OK);
	T_EQ_STR(a.id, "auth_factor_X");
}

static void
test_enroll_path_id(void)
{
	static const struct {
		const char *path, *prefix, *suffix, *want; /* NULL: false */
	} t[] = {
		{ "/mfa/authenticators/totp%7Cdev_abc", "/mfa/authenticators/",
		    "", "totp|dev_abc" },
		{ "/mfa/authenticators/totp|dev_abc", "/mfa/authenticators/",
		    "", "totp|dev_abc" },
		{ "/mfa/authenticators/", "/mfa/authenticators/", "", NULL },
		{ "/mfa/authenticators/a%2Fb", "/mfa/authenticators/", "",
		    NULL },
		{ "/mfa/authenticators/a/b", "/mfa/authenticators/", "", NULL },
		{ "/mfa/authenticators/a+b", "/mfa/authenticators/", "", NULL },
		{ "/mfa/authenticators/a%20b", "/mfa/authenticators/", "",
		    NULL },
		{ "/mfa/authenticators/a%00b", "/mfa/authenticators/", "",
		    NULL },
		{ "/mfa/authenticators/a%zz", "/mfa/authenticators/", "", NULL },
		{ "/auth/factors/auth_factor_1/challenge", "/auth/factors/",
		    "/challenge", "auth_factor_1" },
		{ "/auth/factors//challenge", "/auth/factors/", "/challenge",
		    NULL },
		{ "/auth/factors/x", "/auth/factors/", "/challenge", NULL },
		{ "/other/x", "/auth/factors/", "", NULL },
	};
	char out[16];
	size_t i;
	bool ok;

	for (i = 0; i < NELEM(t); i++) {
		ok = router_path_id(t[i].path, t[i].prefix, t[i].suffix, out,
		    sizeof(out));
		ROW_TRUE(t[i].path, ok == (t[i].want != NULL));
		if (ok && t[i].want != NULL)
			T_EQ_STR(out, t[i].want);
	}
	/* a segment longer than the buffer is refused */
	T_TRUE(!router_path_id("/a/0123456789abcdef", "/a/", "", out,
	    sizeof(out)));
}

/* Big-endian 32-bit value at "p". */
static unsigned long
be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

static void
test_enroll_qr(void)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };
	const char *uri = "otpauth://totp/MFA:alice?secret=JBSWY3DPEHPK3PXP"
	    "&issuer=MFA&algorithm=SHA1&digits=6&period=30";
	unsigned char *png, *bin;
	char *data, big[QR_TEXT_MAX + 2];
	size_t len, blen = 0, w, modules;

	T_EQ_INT(qr_png(uri, &png, &len), MFA_OK);
	T_TRUE(len > 33);
	T_EQ_MEM(png, sig, 8);
	T_EQ_MEM(png + 12, "IHDR", 4);
	w = be32(png + 16);
	T_EQ_INT(be32(png + 20), w); /* square */
	T_EQ_INT(w % 4, 0);          /* 4 pixels per module */
	modules = w / 4 - 8;         /* 4 modules of quiet zone each side */
	T_EQ_INT((modules - 17) % 4, 0); /* a QR version: 17 + 4v */
	T_EQ_INT(png[24], 1);            /* bit depth */
	T_EQ_INT(png[25], 0);            /* greyscale */
	data = qr_data_uri(uri);
	T_TRUE(data != NULL && strncmp(data, "data:image/png;base64,", 22) ==
	    0);
	bin = malloc(len + 16);
	T_TRUE(bin != NULL && data != NULL && sodium_base642bin(bin, len + 16,
	    data + 22, strlen(data + 22), NULL, &blen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0);
	T_EQ_INT(blen, len);
	T_EQ_MEM(bin, png, len);
	free(bin);
	free(data);
	free(png);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(qr_png(big, &png, &len), MFA_ERR_TOOBIG);
	T_TRUE(png == NULL && len == 0);
	T_TRUE(qr_data_uri(big) == NULL);
}

void
test_enroll(void)
{
	test_enroll_life();
	test_enroll_oob_destinations();
	test_enroll_path_id();
	test_enroll_qr();
}
