/*
 * lmdb_commits.c -- the single-writer commit rate of LMDB on a file
 * system: one 300-byte put per write transaction, each commit synced
 * (LMDB's default), then the same with MDB_NOSYNC, for a bounded time.
 *
 *   lmdb-commits DIR SECONDS [synced]
 *
 * DIR must be an empty or absent directory on the file system to measure;
 * it is left with the environment in it. Prints two lines:
 * "synced_commits_per_s N" and "nosync_commits_per_s N"; with "synced",
 * only the first (the MDB_NOSYNC run leaves a burst of dirty pages that
 * the next measurement on the disk would pay for).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Commits one put per transaction for "secs"; returns commits per second. */
static double
lmdb_commits_run(MDB_env *env, MDB_dbi dbi, double secs, uint64_t *seq)
{
	unsigned char val[300];
	char key[32];
	MDB_txn *txn;
	MDB_val k, v;
	double t0 = now_s(), t;
	long n = 0;

	memset(val, 'v', sizeof(val));
	do {
		snprintf(key, sizeof(key), "k%016llx",
		    (unsigned long long)(*seq)++);
		k.mv_data = key;
		k.mv_size = strlen(key);
		v.mv_data = val;
		v.mv_size = sizeof(val);
		if (mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
		    mdb_put(txn, dbi, &k, &v, 0) != 0 || mdb_txn_commit(txn) != 0) {
			fprintf(stderr, "lmdb-commits: write failed\n");
			exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t seq = 0;
	double secs, synced, nosync;

	if (argc < 3 || argc > 4 || (secs = atof(argv[2])) <= 0 ||
	    (argc == 4 && strcmp(argv[3], "synced") != 0)) {
		fprintf(stderr, "usage: lmdb-commits DIR SECONDS [synced]\n");
		return 2;
	}
	mkdir(argv[1], 0700);
	if (mdb_env_create(&env) != 0 ||
	    mdb_env_set_mapsize(env, (size_t)1 << 30) != 0 ||
	    mdb_env_open(env, argv[1], 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &dbi) != 0 || mdb_txn_commit(txn) != 0) {
		fprintf(stderr, "lmdb-commits: cannot open %s\n", argv[1]);
		return 1;
	}
	synced = lmdb_commits_run(env, dbi, secs, &seq);
	printf("synced_commits_per_s %.0f\n", synced);
	if (argc == 3) {
		mdb_env_set_flags(env, MDB_NOSYNC, 1);
		nosync = lmdb_commits_run(env, dbi, secs, &seq);
		printf("nosync_commits_per_s %.0f\n", nosync);
	}
	mdb_env_close(env);
	return 0;
}
