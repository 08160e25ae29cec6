/*
 * fuzz_config.c -- the configuration file parser (config.c, through
 * config_load_buf).
 *
 * Checks: the error message is a terminated string; an accepted file
 * gives a configuration whose config_dump reads back (config_load_buf)
 * to the same dump: what --print-config shows is a valid file that
 * means the same thing.
 */
#include "config.h"
#include "fuzz.h"

static char *
fuzz_config_dump(const struct config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f;

	if ((f = open_memstream(&buf, len)) == NULL)
		abort();
	config_dump(cfg, f);
	FUZZ_CHECK(fclose(f) == 0);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config a, b;
	char err[512], *d1, *d2;
	size_t l1, l2;
	int rc;

	if (size > 65536)
		return 0;
	config_defaults(&a);
	err[0] = '\0';
	rc = config_load_buf(&a, data, size, "fuzz.conf", err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(rc == MFA_OK || rc == MFA_ERR_CONFIG ||
	    rc == MFA_ERR_NOMEM || rc == MFA_ERR_IO);
	if (rc != MFA_OK)
		return 0;
	d1 = fuzz_config_dump(&a, &l1);
	config_defaults(&b);
	rc = config_load_buf(&b, d1, l1, "dump", err, sizeof(err));
	if (rc != MFA_OK) {
		fprintf(stderr, "dump does not read back: %s\n%s", err, d1);
		abort();
	}
	d2 = fuzz_config_dump(&b, &l2);
	FUZZ_CHECK(l1 == l2 && memcmp(d1, d2, l1) == 0);
	free(d1);
	free(d2);
	return 0;
}
