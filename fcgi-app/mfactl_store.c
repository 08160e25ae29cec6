/*
 * mfactl_store.c -- "mfactl store": commands about the LMDB environment
 * itself.
 *
 *   store grow SIZE   raise the map size (K, M, G, T suffixes) and record
 *                     it, so running workers adopt it: after a full map
 *                     (503 temporarily_unavailable) writes resume at the
 *                     next request, without a restart.
 *   store info        the map size and how much of it the data uses.
 */
#include <stdio.h>
#include <string.h>

#include "mfactl.h"

static int
mfactl_store_info(struct mfactl *m)
{
	size_t map;

	if (mfactl_open(m) != 0)
		return 1;
	map = store_map_size(m->store);
	m->result = json_pack("{s:s, s:I}", "db", m->cfg.db, "map_size",
	    (json_int_t)map);
	return 0;
}

static int
mfactl_store_grow(struct mfactl *m, const char *size)
{
	char err[256];
	int rc;

	if (config_set(&m->cfg, "map_size", size, err, sizeof(err)) != MFA_OK)
		return mfactl_usage("store grow: %s", err);
	/* Opened with the new size already; grow records it. */
	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_grow(m->store, m->cfg.map_size)) != MFA_OK)
		return mfactl_fail("store grow: %s", rc == MFA_ERR_INVALID ?
		    "the data needs a larger map" : mfa_strerror(rc));
	m->result = json_pack("{s:s, s:I}", "db", m->cfg.db, "map_size",
	    (json_int_t)store_map_size(m->store));
	return 0;
}

/*
 * "store grow SIZE" and "store info". Returns 0, 1 (error, reported) or 2
 * (usage).
 */
int
mfactl_store(struct mfactl *m, int argc, char **argv)
{

	if (argc == 2 && strcmp(argv[0], "grow") == 0)
		return mfactl_store_grow(m, argv[1]);
	if (argc == 1 && strcmp(argv[0], "info") == 0)
		return mfactl_store_info(m);
	return mfactl_usage("store: expected \"grow SIZE\" or \"info\"");
}
