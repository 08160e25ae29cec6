/*
 * test-store.c -- the LMDB store in temporary directories: open/create,
 * the schema check, each record kind and its index, poisoned transactions,
 * the expiry sweep and its batches; and on top of it token.c
 * (token_issue, token_check) and challenge.c (creation, oob secrets, the
 * WorkOS view).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "challenge.h"
#include "ids.h"
#include "keys.h"
#include "record_json.h"
#include "store.h"
#include "token.h"
#include "test.h"
/* white-box checks of the indexes */
#include "../../fcgi-app/store_int.h"

#define ROW_STR(row, a, b)                                                 \
	do {                                                               \
		const char *r_a_ = (a), *r_b_ = (b);                       \
		test_report(r_a_ != NULL && r_b_ != NULL &&                \
		    strcmp(r_a_, r_b_) == 0, __FILE__, __LINE__,           \
		    "[%s] %s == %s (\"%s\" vs \"%s\")", (row), #a, #b,     \
		    r_a_ ? r_a_ : "(null)", r_b_ ? r_b_ : "(null)");       \
	} while (0)

#define MAPSIZE ((size_t)32 << 20)

static char base[] = "/tmp/mfa-test-store-XXXXXX";

/* "<base>/<name>" in a static buffer of the caller's. */
static const char *
sub(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", base, name);

	return n > 0 && (size_t)n < len ? buf : "/nonexistent";
}

static void
rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int n;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Entries in one database. */
static size_t
db_count(struct store_txn *t, enum store_db db)
{
	MDB_stat ms;

	if (mdb_stat(t->txn, t->st->dbi[db], &ms) != MDB_SUCCESS)
		return (size_t)-1;
	return ms.ms_entries;
}

/*
 * A process that opened "path", read and died leaves a reader slot that
 * store_reader_check (what a worker runs after a request, once a second)
 * clears, once. The child reports through a pipe: under valgrind its exit
 * status carries the leak verdict on the store it never closes.
 */
static void
test_store_dead_reader(struct store *st, const char *path)
{
	struct store *o = NULL;
	struct store_txn *t;
	int fds[2], status;
	char ok = 'x';
	pid_t pid;

	if (pipe(fds) != 0) {
		T_TRUE(!"pipe");
		return;
	}
	if ((pid = fork()) == 0) {
		ok = store_open(&o, path, MAPSIZE, 0) == MFA_OK &&
		    store_txn_begin(o, false, &t) == MFA_OK ? '1' : '0';
		_exit(write(fds[1], &ok, 1) == 1 ? 0 : 1); /* slot left */
	}
	close(fds[1]);
	T_TRUE(pid > 0 && read(fds[0], &ok, 1) == 1 && ok == '1');
	T_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid);
	close(fds[0]);
	T_EQ_INT(store_reader_check(st), 1);
	T_EQ_INT(store_reader_check(st), 0);
}

/* True when the user index holds the pair (user, id). */
static bool
index_has(struct store_txn *t, const char *user, const char *id)
{
	MDB_val k = store_val(user, strlen(user)), v = store_val(id,
	    strlen(id));
	MDB_cursor *c;
	int rc;

	if (mdb_cursor_open(t->txn, t->st->dbi[DB_USER_AUTHNS], &c) != 0)
		return false;
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(c);
	return rc == MDB_SUCCESS;
}

static struct store_txn *
begin(struct store *st, bool write)
{
	struct store_txn *t = NULL;

	T_EQ_INT(store_txn_begin(st, write, &t), MFA_OK);
	return t;
}

static struct client_rec
make_client(const char *id, const char *name)
{
	struct client_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.types = CT_ALL;
	c.auth = CLIENT_AUTH_SECRET;
	strcpy(c.secret_sealed, "sealed");
	c.created_at = 1000;
	c.updated_at = 2000;
	return c;
}

static struct authn_rec
make_authn(const char *id, const char *user, enum authn_type type,
    mfa_ms created_at)
{
	struct authn_rec a;

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	snprintf(a.user_id, sizeof(a.user_id), "%s", user);
	a.type = type;
	a.channel = type == AUTHN_OOB ? CHANNEL_SMS : CHANNEL_NONE;
	a.active = true;
	if (type == AUTHN_OOB)
		strcpy(a.to, "+14155550100");
	a.digits = 6;
	a.period = 30;
	a.last_step = -1;
	a.created_at = created_at;
	return a;
}

static struct token_rec
make_token(const char *client, const char *user, mfa_ms expires_at)
{
	struct token_rec t;

	memset(&t, 0, sizeof(t));
	snprintf(t.client_id, sizeof(t.client_id), "%s", client);
	snprintf(t.user_id, sizeof(t.user_id), "%s", user);
	t.created_at = 1;
	t.expires_at = expires_at;
	return t;
}

static void
make_hash(unsigned char h[MFA_HASH_BYTES], unsigned seed)
{
	size_t i;

	for (i = 0; i < MFA_HASH_BYTES; i++)
		h[i] = (unsigned char)(seed * 37 + i);
}

static struct challenge_rec
make_challenge(const char *id, unsigned type, mfa_ms purge_at,
    unsigned oob_seed)
{
	struct challenge_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	strcpy(c.factor_id, type == CT_OOB ? "sms|dev_S" : "totp|dev_T");
	strcpy(c.client_id, "client-1");
	strcpy(c.user_id, "user-1");
	c.type = type;
	c.state = CHALLENGE_PENDING;
	c.created_at = c.updated_at = 1;
	c.expires_at = type == CT_OOB ? purge_at : 0;
	c.purge_at = purge_at;
	make_hash(c.token_hash, 99);
	if (oob_seed != 0) {
		c.has_oob = true;
		make_hash(c.oob_hash, oob_seed);
		make_hash(c.binding_hash, oob_seed + 1000);
	}
	return c;
}

static void
test_store_open(void)
{
	struct store *st, *sentinel = (struct store *)base;
	char path[PATH_MAX];
	struct stat sb;
	FILE *f;

	st = sentinel;
	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "missing"), MAPSIZE,
	    0), MFA_ERR_NOTFOUND);
	T_TRUE(st == sentinel);
	T_TRUE(stat(path, &sb) != 0); /* not created */

	/* a directory without the databases */
	T_EQ_INT(mkdir(sub(path, sizeof(path), "empty"), 0700), 0);
	T_EQ_INT(store_open(&st, path, MAPSIZE, 0), MFA_ERR_NOTFOUND);
	T_TRUE(st == sentinel);

	/* a regular file is not a store */
	f = fopen(sub(path, sizeof(path), "file"), "w");
	T_TRUE(f != NULL);
	if (f != NULL)
		fclose(f);
	T_TRUE(store_open(&st, path, MAPSIZE, STORE_CREATE) != MFA_OK);
	T_TRUE(st == sentinel);

	/* created with its directory, then reopened */
	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "db"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	T_TRUE(st != sentinel && st != NULL);
	T_EQ_INT(stat(path, &sb), 0);
	T_TRUE(S_ISDIR(sb.st_mode));
	T_EQ_INT(sb.st_mode & 0777, 0700);
	store_close(st);
	st = sentinel;
	T_EQ_INT(store_open(&st, path, MAPSIZE, 0), MFA_OK);
	T_TRUE(st != sentinel && st != NULL);
	T_EQ_INT(store_reader_check(st), 0);
	test_store_dead_reader(st, path);
	store_close(st);
	/* STORE_CREATE on an existing store keeps it */
	T_EQ_INT(store_open(&st, path, MAPSIZE, STORE_CREATE), MFA_OK);
	store_close(st);
	store_close(NULL);
}

/*
 * Sets "key" of database "db" to "len" bytes at "val" with raw LMDB calls
 * ("val" NULL: deletes it), as an older build or a damaged disk would.
 */
static int
raw_put(const char *dir, const char *db, const void *key, size_t klen,
    const void *val, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = store_val(key, klen), v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	mdb_env_set_maxdbs(env, 16);
	mdb_env_set_mapsize(env, MAPSIZE);
	if ((rc = mdb_env_open(env, dir, 0, 0600)) != 0)
		goto out;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto out;
	if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		goto out;
	}
	if (val == NULL) {
		rc = mdb_del(txn, dbi, &k, NULL);
	} else {
		v = store_val(val, len);
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	if (rc != 0)
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);
out:
	mdb_env_close(env);
	return rc;
}

/* Sets meta "schema" with raw LMDB calls ("val" NULL: deletes it). */
static int
raw_schema(const char *dir, const char *val)
{
	return raw_put(dir, "meta", "schema", 6, val,
	    val == NULL ? 0 : strlen(val));
}

/* Puts the JSON text "json" (freed here) under "key" of "db", raw. */
static int
raw_put_json(const char *dir, const char *db, const void *key, size_t klen,
    char *json)
{
	int rc = json == NULL ? -1 : raw_put(dir, db, key, klen, json,
	    strlen(json));

	free(json);
	return rc;
}

/* The first byte of the value of "key" in "db": RECORD_FORMAT once binary. */
static int
stored_format(struct store *st, enum store_db db, const void *key,
    size_t klen)
{
	struct store_txn *t = begin(st, false);
	MDB_val v;
	int b = -1;

	if (store_get(t, db, key, klen, &v) == MFA_OK && v.mv_size > 0)
		b = ((const unsigned char *)v.mv_data)[0];
	store_txn_abort(t);
	return b;
}

/*
 * A schema-1 store (JSON records, as written by earlier builds) is
 * upgraded by the first open: every record reads back identical and is
 * stored binary, a value that does not decode is left as it was, and the
 * schema is 2 (a second open changes nothing).
 */
static void
test_store_migrate(void)
{
	struct client_rec c = make_client("client-m", "Migrated"), c2;
	struct authn_rec a = make_authn("totp|dev_M", "user-m", AUTHN_OTP, 5),
	    a2;
	struct token_rec tk = make_token("client-m", "user-m", 77777), tk2;
	struct challenge_rec ch, ch2;
	struct bucket b = { 7, 123456 }, b2;
	struct store *st = NULL;
	struct store_txn *t;
	unsigned char h[MFA_HASH_BYTES];
	char path[PATH_MAX], id[MFA_CHALLENGE_ID_MAX + 1];
	unsigned i, same = 0;
	MDB_val v;
	enum { NCH = 150 }; /* some dozen pages of JSON challenges */

	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "migrate"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	store_close(st);
	st = NULL;
	a.last_step = 123;
	make_hash(h, 5);
	T_EQ_INT(raw_put_json(path, "clients", c.id, strlen(c.id),
	    record_json_client_encode(&c)), 0);
	T_EQ_INT(raw_put_json(path, "authns", a.id, strlen(a.id),
	    record_json_authn_encode(&a)), 0);
	T_EQ_INT(raw_put(path, "authns", "bad", 3, "{\"v\":1", 6), 0);
	T_EQ_INT(raw_put_json(path, "tokens", h, MFA_HASH_BYTES,
	    record_json_token_encode(&tk)), 0);
	T_EQ_INT(raw_put_json(path, "buckets", "fail:user-m", 11,
	    record_json_bucket_encode(&b)), 0);
	for (i = 0; i < NCH; i++) {
		snprintf(id, sizeof(id), "auth_challenge_%04u", i);
		ch = make_challenge(id, i % 2 ? CT_OOB : CT_OTP, 1000 + i,
		    i % 2 ? i : 0);
		T_EQ_INT(raw_put_json(path, "challenges", id, strlen(id),
		    record_json_challenge_encode(&ch)), 0);
	}
	T_EQ_INT(raw_schema(path, "1"), 0);

	T_EQ_INT(store_open(&st, path, MAPSIZE, 0), MFA_OK);
	if (st == NULL)
		return;
	t = begin(st, false);
	T_EQ_INT(store_client_get(t, "client-m", &c2), MFA_OK);
	T_EQ_MEM(&c2, &c, sizeof(c));
	T_EQ_INT(store_authn_get(t, "totp|dev_M", &a2), MFA_OK);
	T_EQ_MEM(&a2, &a, sizeof(a));
	T_EQ_INT(store_authn_get(t, "bad", &a2), MFA_ERR_CORRUPT);
	T_EQ_INT(store_token_get(t, h, &tk2), MFA_OK);
	T_EQ_MEM(&tk2, &tk, sizeof(tk));
	T_EQ_INT(store_bucket_get(t, "fail:user-m", &b2), MFA_OK);
	T_EQ_INT(b2.level, 7);
	T_EQ_INT(b2.refilled_at, 123456);
	for (i = 0; i < NCH; i++) {
		snprintf(id, sizeof(id), "auth_challenge_%04u", i);
		ch = make_challenge(id, i % 2 ? CT_OOB : CT_OTP, 1000 + i,
		    i % 2 ? i : 0);
		same += store_challenge_get(t, id, &ch2) == MFA_OK &&
		    memcmp(&ch, &ch2, sizeof(ch)) == 0;
	}
	T_EQ_INT(same, NCH);
	T_EQ_INT(db_count(t, DB_CHALLENGES), NCH); /* nothing added */
	T_EQ_INT(store_get(t, DB_META, "schema", 6, &v), MFA_OK);
	T_EQ_MEM(v.mv_data, STORE_SCHEMA, v.mv_size);
	T_EQ_INT(v.mv_size, strlen(STORE_SCHEMA));
	store_txn_abort(t);
	T_EQ_INT(stored_format(st, DB_CLIENTS, "client-m", 8), RECORD_FORMAT);
	T_EQ_INT(stored_format(st, DB_AUTHNS, "bad", 3), '{');
	T_EQ_INT(stored_format(st, DB_CHALLENGES, "auth_challenge_0149", 19),
	    RECORD_FORMAT);
	store_close(st);
	st = NULL;

	/* a second open finds schema 2 and reads the same records */
	T_EQ_INT(store_open(&st, path, MAPSIZE, 0), MFA_OK);
	if (st != NULL) {
		t = begin(st, false);
		T_EQ_INT(store_client_get(t, "client-m", &c2), MFA_OK);
		T_EQ_MEM(&c2, &c, sizeof(c));
		store_txn_abort(t);
	}
	store_close(st);
}

static void
test_store_schema(void)
{
	struct store *st = NULL, *sentinel = (struct store *)base;
	char path[PATH_MAX];
	static const char *const bad[] = { "3", "0", "", "1 ", "2 ", "10" };
	size_t i;

	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "schema"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	store_close(st);
	for (i = 0; i < NELEM(bad); i++) {
		ROW_INT(bad[i], raw_schema(path, bad[i]), 0);
		st = sentinel;
		ROW_INT(bad[i], store_open(&st, path, MAPSIZE, 0),
		    MFA_ERR_CONFIG);
		ROW_INT(bad[i], store_open(&st, path, MAPSIZE, STORE_CREATE),
		    MFA_ERR_CONFIG);
		ROW_INT(bad[i], st == sentinel, true);
	}
	T_EQ_INT(raw_schema(path, STORE_SCHEMA), 0);
	T_EQ_INT(store_open(&st, path, MAPSIZE, 0), MFA_OK);
	store_close(st);
}

static int
collect_client(void *arg, const struct client_rec *r)
{
	char *out = arg;

	strcat(out, r->id);
	strcat(out, ",");
	return 0;
}

static int
stop_client(void *arg, const struct client_rec *r)
{
	(*(int *)arg)++;
	return 7;
}

static void
test_store_client(struct store *st)
{
	struct client_rec a = make_client("client-b", "B"), got;
	struct client_rec b = make_client("client-a", "A");
	struct client_rec c = make_client("client-c", "C");
	struct store_txn *t;
	char ids[256];
	int calls;

	t = begin(st, true);
	T_EQ_INT(store_client_put(t, &a, true), MFA_OK);
	T_EQ_INT(store_client_put(t, &b, true), MFA_OK);
	T_EQ_INT(store_client_put(t, &c, true), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	t = begin(st, false);
	memset(&got, 0xa5, sizeof(got));
	T_EQ_INT(store_client_get(t, "client-b", &got), MFA_OK);
	T_EQ_STR(got.id, "client-b");
	T_EQ_STR(got.name, "B");
	T_EQ_INT(got.types, CT_ALL);
	T_EQ_STR(got.secret_sealed, "sealed");
	T_EQ_INT(got.created_at, 1000);
	T_EQ_INT(got.updated_at, 2000);
	T_EQ_INT(store_client_get(t, "client-x", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_get(t, "client-", &got), MFA_ERR_NOTFOUND);
	ids[0] = '\0';
	T_EQ_INT(store_client_each(t, collect_client, ids), MFA_OK);
	T_EQ_STR(ids, "client-a,client-b,client-c,");
	calls = 0;
	T_TRUE(store_client_each(t, stop_client, &calls) != MFA_OK);
	T_EQ_INT(calls, 1);
	store_txn_abort(t);

	/* create refuses a taken id, without poisoning the transaction */
	t = begin(st, true);
	a = make_client("client-b", "other");
	T_EQ_INT(store_client_put(t, &a, true), MFA_ERR_EXISTS);
	T_EQ_INT(store_client_get(t, "client-b", &got), MFA_OK);
	T_EQ_STR(got.name, "B");
	/* an update overwrites */
	a = make_client("client-b", "renamed");
	T_EQ_INT(store_client_put(t, &a, false), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(store_client_get(t, "client-b", &got), MFA_OK);
	T_EQ_STR(got.name, "renamed");
	store_txn_abort(t);

	t = begin(st, true);
	T_EQ_INT(store_client_del(t, "client-b"), MFA_OK);
	T_EQ_INT(store_client_del(t, "client-b"), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_get(t, "client-b", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	ids[0] = '\0';
	T_EQ_INT(store_client_each(t, collect_client, ids), MFA_OK);
	T_EQ_STR(ids, "client-a,client-c,");
	store_txn_abort(t);

	/* an aborted write leaves nothing */
	t = begin(st, true);
	c = make_client("client-z", "Z");
	T_EQ_INT(store_client_put(t, &c, true), MFA_OK);
	store_txn_abort(t);
	store_txn_abort(NULL);
	t = begin(st, false);
	T_EQ_INT(store_client_get(t, "client-z", &got), MFA_ERR_NOTFOUND);
	store_txn_abort(t);
}

static int
collect_user(void *arg, const char *user)
{
	strcat(arg, user);
	strcat(arg, ",");
	return 0;
}

/* The ids of "user"'s authenticators as "a,b,c,". */
static void
list_ids(struct store_txn *t, const char *user, size_t max, char *out,
    size_t *n, int *rc)
{
	struct authn_rec a[STORE_AUTHN_PER_USER];
	size_t i;

	out[0] = '\0';
	*n = 999;
	*rc = store_authn_list(t, user, a, max, n);
	for (i = 0; *rc == MFA_OK && i < *n; i++) {
		strcat(out, a[i].id);
		strcat(out, ",");
	}
}

static void
test_store_authn(struct store *st)
{
	/* enrollment order differs from id order; sms/email tie */
	struct authn_rec recs[] = {
		make_authn("totp|dev_C", "u1", AUTHN_OTP, 3000),
		make_authn("sms|dev_A", "u1", AUTHN_OOB, 2000),
		make_authn("email|dev_B", "u1", AUTHN_OOB, 2000),
		make_authn("voice|dev_D", "u1", AUTHN_OOB, 1000),
		make_authn("totp|dev_E", "u2", AUTHN_OTP, 500),
	}, got, upd;
	struct bucket fb = { 1, 1000 };
	struct store_txn *t;
	char ids[512];
	size_t i, n;
	int rc;

	t = begin(st, true);
	for (i = 0; i < NELEM(recs); i++)
		ROW_INT(recs[i].id, store_authn_put(t, &recs[i]), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	t = begin(st, false);
	T_EQ_INT(store_authn_get(t, "sms|dev_A", &got), MFA_OK);
	T_EQ_STR(got.user_id, "u1");
	T_EQ_INT(got.type, AUTHN_OOB);
	T_EQ_INT(got.channel, CHANNEL_SMS);
	T_EQ_STR(got.to, "+14155550100");
	T_EQ_INT(got.created_at, 2000);
	T_EQ_INT(store_authn_get(t, "sms|dev_Z", &got), MFA_ERR_NOTFOUND);
	list_ids(t, "u1", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(n, 4);
	T_EQ_STR(ids, "voice|dev_D,email|dev_B,sms|dev_A,totp|dev_C,");
	list_ids(t, "u2", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(n, 1);
	T_EQ_STR(ids, "totp|dev_E,");
	list_ids(t, "nobody", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(n, 0);
	list_ids(t, "u", STORE_AUTHN_PER_USER, ids, &n, &rc); /* a prefix */
	T_EQ_INT(n, 0);
	list_ids(t, "u1", 2, ids, &n, &rc);
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(n, 2);
	ids[0] = '\0';
	T_EQ_INT(store_authn_each_user(t, collect_user, ids), MFA_OK);
	T_EQ_STR(ids, "u1,u2,");
	T_EQ_INT(db_count(t, DB_USER_AUTHNS), 5);
	store_txn_abort(t);

	/* putting a record again updates it; the index keeps one pair */
	t = begin(st, true);
	upd = recs[1];
	upd.active = false;
	T_EQ_INT(store_authn_put(t, &upd), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(db_count(t, DB_USER_AUTHNS), 5);
	T_EQ_INT(store_authn_get(t, "sms|dev_A", &got), MFA_OK);
	T_EQ_INT(got.active, false);
	list_ids(t, "u1", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(n, 4);
	store_txn_abort(t);

	/* an update skips the index pair it finds, and puts back one that
	 * is missing */
	t = begin(st, true);
	T_EQ_INT(store_del(t, DB_USER_AUTHNS, "u1", 2, "sms|dev_A", 9),
	    MFA_OK);
	T_TRUE(!index_has(t, "u1", "sms|dev_A"));
	T_EQ_INT(store_authn_put(t, &upd), MFA_OK);
	T_TRUE(index_has(t, "u1", "sms|dev_A"));
	T_EQ_INT(store_authn_put(t, &upd), MFA_OK);
	T_EQ_INT(db_count(t, DB_USER_AUTHNS), 5);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	/* delete removes the record, its index entry and its failed-code
	 * bucket, not another's */
	t = begin(st, true);
	T_EQ_INT(store_bucket_put(t, "fail:sms|dev_A", &fb), MFA_OK);
	T_EQ_INT(store_bucket_put(t, "fail:email|dev_B", &fb), MFA_OK);
	T_TRUE(index_has(t, "u1", "sms|dev_A"));
	T_EQ_INT(store_authn_del(t, "sms|dev_A"), MFA_OK);
	T_EQ_INT(store_bucket_get(t, "fail:sms|dev_A", &fb), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_bucket_get(t, "fail:email|dev_B", &fb), MFA_OK);
	/* store_bucket_del: none is no error; a key out of bounds is */
	T_EQ_INT(store_bucket_del(t, STORE_FAIL_PREFIX, "sms|dev_A"), MFA_OK);
	{
		char longid[400];

		memset(longid, 'x', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		T_EQ_INT(store_bucket_del(t, STORE_FAIL_PREFIX, longid),
		    MFA_ERR_INVALID);
	}
	T_TRUE(!index_has(t, "u1", "sms|dev_A"));
	T_TRUE(index_has(t, "u1", "email|dev_B"));
	T_EQ_INT(store_authn_get(t, "sms|dev_A", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_authn_del(t, "sms|dev_A"), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_authn_del(t, "totp|dev_E"), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(db_count(t, DB_USER_AUTHNS), 3);
	list_ids(t, "u1", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(n, 3);
	T_EQ_STR(ids, "voice|dev_D,email|dev_B,totp|dev_C,");
	ids[0] = '\0';
	T_EQ_INT(store_authn_each_user(t, collect_user, ids), MFA_OK);
	T_EQ_STR(ids, "u1,"); /* u2 has none left */
	store_txn_abort(t);

	/* an index entry whose record is gone is skipped */
	t = begin(st, true);
	T_EQ_INT(store_del(t, DB_AUTHNS, "totp|dev_C", 10, NULL, 0), MFA_OK);
	list_ids(t, "u1", STORE_AUTHN_PER_USER, ids, &n, &rc);
	T_EQ_INT(rc, MFA_OK);
	T_EQ_INT(n, 2);
	T_EQ_STR(ids, "voice|dev_D,email|dev_B,");
	store_txn_abort(t);
}

static void
test_store_token_bucket(struct store *st)
{
	unsigned char h1[MFA_HASH_BYTES], h2[MFA_HASH_BYTES];
	struct token_rec r = make_token("client-1", "user-1", 5000), got;
	struct bucket b = { 4, 123456 }, bgot;
	struct store_txn *t;
	size_t before;

	make_hash(h1, 1);
	make_hash(h2, 2);
	t = begin(st, true);
	before = db_count(t, DB_EXPIRY);
	strcpy(r.scope, "enroll");
	T_EQ_INT(store_token_put(t, h1, &r), MFA_OK);
	T_EQ_INT(db_count(t, DB_EXPIRY), before + 1);
	/* a hash collision is refused, not overwritten */
	r.expires_at = 9999;
	T_EQ_INT(store_token_put(t, h1, &r), MFA_ERR_EXISTS);
	T_EQ_INT(store_bucket_put(t, "otp:user-1", &b), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	t = begin(st, false);
	memset(&got, 0xa5, sizeof(got));
	T_EQ_INT(store_token_get(t, h1, &got), MFA_OK);
	T_EQ_STR(got.client_id, "client-1");
	T_EQ_STR(got.user_id, "user-1");
	T_EQ_STR(got.scope, "enroll");
	T_EQ_INT(got.created_at, 1);
	T_EQ_INT(got.expires_at, 5000);
	T_EQ_INT(store_token_get(t, h2, &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_bucket_get(t, "otp:user-1", &bgot), MFA_OK);
	T_EQ_INT(bgot.level, 4);
	T_EQ_INT(bgot.refilled_at, 123456);
	T_EQ_INT(store_bucket_get(t, "otp:user-2", &bgot), MFA_ERR_NOTFOUND);
	store_txn_abort(t);

	/* buckets are overwritten */
	t = begin(st, true);
	b.level = 0;
	T_EQ_INT(store_bucket_put(t, "otp:user-1", &b), MFA_OK);
	T_EQ_INT(store_bucket_get(t, "otp:user-1", &bgot), MFA_OK);
	T_EQ_INT(bgot.level, 0);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
}

static void
test_store_challenge(struct store *st)
{
	struct challenge_rec c = make_challenge("auth_challenge_A", CT_OOB,
	    9000, 5), o = make_challenge("auth_challenge_B", CT_OTP, 9000, 0);
	struct challenge_rec got;
	unsigned char other[MFA_HASH_BYTES];
	char id[MFA_CHALLENGE_ID_MAX + 1];
	struct store_txn *t;
	size_t before;

	t = begin(st, true);
	before = db_count(t, DB_EXPIRY);
	T_EQ_INT(store_challenge_put(t, &c, true), MFA_OK);
	T_EQ_INT(store_challenge_put(t, &o, true), MFA_OK);
	T_EQ_INT(db_count(t, DB_EXPIRY), before + 2);
	T_EQ_INT(db_count(t, DB_OOB), 0); /* the index is no longer written */
	T_EQ_INT(store_challenge_put(t, &c, true), MFA_ERR_EXISTS);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	t = begin(st, false);
	memset(&got, 0xa5, sizeof(got));
	T_EQ_INT(store_challenge_get(t, "auth_challenge_A", &got), MFA_OK);
	T_EQ_STR(got.id, "auth_challenge_A");
	T_EQ_STR(got.factor_id, "sms|dev_S");
	T_EQ_INT(got.type, CT_OOB);
	T_EQ_INT(got.state, CHALLENGE_PENDING);
	T_EQ_INT(got.purge_at, 9000);
	T_EQ_INT(got.has_oob, true);
	T_EQ_MEM(got.oob_hash, c.oob_hash, MFA_HASH_BYTES);
	T_EQ_MEM(got.binding_hash, c.binding_hash, MFA_HASH_BYTES);
	T_EQ_MEM(got.token_hash, c.token_hash, MFA_HASH_BYTES);
	T_EQ_INT(store_challenge_by_oob(t, c.oob_hash, id), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_challenge_get(t, "auth_challenge_C", &got),
	    MFA_ERR_NOTFOUND);
	store_txn_abort(t);

	/* an update in place */
	t = begin(st, true);
	c.state = CHALLENGE_VERIFIED;
	c.attempts = 1;
	T_EQ_INT(store_challenge_put(t, &c, false), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(store_challenge_get(t, "auth_challenge_A", &got), MFA_OK);
	T_EQ_INT(got.state, CHALLENGE_VERIFIED);
	T_EQ_INT(got.attempts, 1);
	store_txn_abort(t);

	/* an earlier version's index entry is found */
	t = begin(st, true);
	T_EQ_INT(store_put(t, DB_OOB, c.oob_hash, MFA_HASH_BYTES, c.id,
	    strlen(c.id), true), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	memset(id, 'Z', sizeof(id));
	T_EQ_INT(store_challenge_by_oob(t, c.oob_hash, id), MFA_OK);
	T_EQ_STR(id, "auth_challenge_A");
	make_hash(other, 6);
	T_EQ_INT(store_challenge_by_oob(t, other, id), MFA_ERR_NOTFOUND);
	store_txn_abort(t);
}

/* Any failure poisons the transaction: nothing of it commits. */
static void
test_store_poison(struct store *st)
{
	struct client_rec pre = make_client("poison-pre", "P");
	struct client_rec empty = make_client("", "E");
	struct client_rec post = make_client("poison-post", "Q"), got;
	unsigned char h[MFA_HASH_BYTES];
	struct token_rec tr;
	struct store_txn *t;

	t = begin(st, true);
	T_EQ_INT(store_client_put(t, &pre, true), MFA_OK);
	T_EQ_INT(store_client_put(t, &empty, true), MFA_ERR_INVALID);
	/* every later operation reports the first error */
	T_EQ_INT(store_client_get(t, "poison-pre", &got), MFA_ERR_INVALID);
	T_EQ_INT(store_client_put(t, &post, true), MFA_ERR_INVALID);
	make_hash(h, 40);
	tr = make_token("c", "u", 1);
	T_EQ_INT(store_token_put(t, h, &tr), MFA_ERR_INVALID);
	T_EQ_INT(store_client_del(t, "client-a"), MFA_ERR_INVALID);
	T_EQ_INT(store_txn_commit(t), MFA_ERR_INVALID);

	t = begin(st, false);
	T_EQ_INT(store_client_get(t, "poison-pre", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_get(t, "poison-post", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_get(t, "client-a", &got), MFA_OK);
	T_EQ_INT(store_token_get(t, h, &tr), MFA_ERR_NOTFOUND);
	store_txn_abort(t);

	/* a key over LMDB's limit poisons too */
	t = begin(st, true);
	{
		char big[600];

		memset(big, 'k', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_EQ_INT(store_bucket_put(t, big, &(struct bucket){ 1, 1 }),
		    MFA_ERR_INVALID);
	}
	T_EQ_INT(store_txn_commit(t), MFA_ERR_INVALID);

	/* NOTFOUND and EXISTS are answers, not failures */
	t = begin(st, true);
	T_EQ_INT(store_client_del(t, "nope"), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_get(t, "nope", &got), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_client_put(t, &pre, true), MFA_OK);
	T_EQ_INT(store_client_put(t, &pre, true), MFA_ERR_EXISTS);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(store_client_get(t, "poison-pre", &got), MFA_OK);
	store_txn_abort(t);
}

static bool
token_there(struct store *st, unsigned seed)
{
	unsigned char h[MFA_HASH_BYTES];
	struct token_rec r;
	struct store_txn *t = begin(st, false);
	int rc;

	make_hash(h, seed);
	rc = store_token_get(t, h, &r);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static bool
challenge_there(struct store *st, const char *id)
{
	struct challenge_rec c;
	struct store_txn *t = begin(st, false);
	int rc;

	rc = store_challenge_get(t, id, &c);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static bool
bucket_there(struct store *st, const char *key)
{
	struct bucket b;
	struct store_txn *t = begin(st, false);
	int rc;

	rc = store_bucket_get(t, key, &b);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static bool
oob_there(struct store *st, unsigned seed)
{
	unsigned char h[MFA_HASH_BYTES];
	char id[MFA_CHALLENGE_ID_MAX + 1];
	struct store_txn *t = begin(st, false);
	int rc;

	make_hash(h, seed);
	rc = store_challenge_by_oob(t, h, id);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static void
/* Tokens whose purge time (expiry plus the grace) is "purge". */
put_tokens(struct store *st, unsigned from, unsigned to, mfa_ms purge)
{
	unsigned char h[MFA_HASH_BYTES];
	struct token_rec r = make_token("c", "u",
	    purge - STORE_PURGE_GRACE_MS);
	struct store_txn *t = begin(st, true);
	unsigned i;

	for (i = from; i < to; i++) {
		make_hash(h, i);
		T_EQ_INT(store_token_put(t, h, &r), MFA_OK);
	}
	T_EQ_INT(store_txn_commit(t), MFA_OK);
}

static size_t
count(struct store *st, enum store_db db)
{
	struct store_txn *t = begin(st, false);
	size_t n = db_count(t, db);

	store_txn_abort(t);
	return n;
}

static void
test_store_sweep(void)
{
	struct bucket b = { 2, 1000 };
	struct challenge_rec c1 = make_challenge("auth_challenge_1", CT_OTP,
	    1500, 0), c2 = make_challenge("auth_challenge_2", CT_OOB, 1800, 11),
	    c3 = make_challenge("auth_challenge_3", CT_OOB, 9500, 12);
	struct store *st = NULL;
	struct store_txn *t;
	char path[PATH_MAX];
	size_t deleted;

	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "sweep"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	if (st == NULL)
		return;
	put_tokens(st, 1, 2, 1000);
	put_tokens(st, 2, 3, 2000);
	put_tokens(st, 3, 4, 9000);
	t = begin(st, true);
	T_EQ_INT(store_challenge_put(t, &c1, true), MFA_OK);
	T_EQ_INT(store_challenge_put(t, &c2, true), MFA_OK);
	T_EQ_INT(store_challenge_put(t, &c3, true), MFA_OK);
	/* index entries as an earlier version wrote them */
	T_EQ_INT(store_put(t, DB_OOB, c2.oob_hash, MFA_HASH_BYTES, c2.id,
	    strlen(c2.id), true), MFA_OK);
	T_EQ_INT(store_put(t, DB_OOB, c3.oob_hash, MFA_HASH_BYTES, c3.id,
	    strlen(c3.id), true), MFA_OK);
	/* the buckets of polls on the oob challenges, and one of a user */
	T_EQ_INT(store_bucket_put(t, "poll:auth_challenge_2", &b), MFA_OK);
	T_EQ_INT(store_bucket_put(t, "poll:auth_challenge_3", &b), MFA_OK);
	T_EQ_INT(store_bucket_put(t, "pstn:auth_challenge_2", &b), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	T_EQ_INT(count(st, DB_EXPIRY), 6);

	/* nothing due yet */
	deleted = 99;
	T_EQ_INT(store_sweep(st, 999, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 0);
	T_EQ_INT(count(st, DB_EXPIRY), 6);

	/* past purge times go, with the oob index; future ones stay */
	T_EQ_INT(store_sweep(st, 5000, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 4);
	T_TRUE(!token_there(st, 1));
	T_TRUE(!token_there(st, 2));
	T_TRUE(token_there(st, 3));
	T_TRUE(!challenge_there(st, "auth_challenge_1"));
	T_TRUE(!challenge_there(st, "auth_challenge_2"));
	T_TRUE(!oob_there(st, 11));
	T_TRUE(challenge_there(st, "auth_challenge_3"));
	T_TRUE(oob_there(st, 12));
	T_TRUE(!bucket_there(st, "poll:auth_challenge_2"));
	T_TRUE(bucket_there(st, "poll:auth_challenge_3"));
	T_TRUE(bucket_there(st, "pstn:auth_challenge_2")); /* not a poll's */
	T_EQ_INT(count(st, DB_EXPIRY), 2);
	T_EQ_INT(count(st, DB_OOB), 1);
	T_EQ_INT(store_sweep(st, 5000, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 0);

	/* batches: "max" stops after whole batches */
	put_tokens(st, 100, 105, 3000);
	T_EQ_INT(store_sweep(st, 5000, 2, 2, &deleted), MFA_OK);
	T_EQ_INT(deleted, 2);
	T_EQ_INT(count(st, DB_TOKENS), 4);
	T_EQ_INT(store_sweep(st, 5000, 2, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 3);
	T_EQ_INT(count(st, DB_TOKENS), 1);
	put_tokens(st, 200, 203, 3000);
	T_EQ_INT(store_sweep(st, 5000, 1, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 3);
	/* never more than "max" in all */
	put_tokens(st, 300, 305, 3000);
	T_EQ_INT(store_sweep(st, 5000, 2, 3, &deleted), MFA_OK);
	T_EQ_INT(deleted, 3);
	T_EQ_INT(count(st, DB_TOKENS), 1 + 5 - 3);
	T_EQ_INT(store_sweep(st, 5000, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(count(st, DB_TOKENS), 1);

	/* the rest, one millisecond either side of their time */
	T_EQ_INT(store_sweep(st, 8999, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 0);
	T_EQ_INT(store_sweep(st, 9501, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 2);
	T_TRUE(!token_there(st, 3));
	T_TRUE(!challenge_there(st, "auth_challenge_3"));
	T_TRUE(!oob_there(st, 12));
	T_TRUE(!bucket_there(st, "poll:auth_challenge_3"));
	T_EQ_INT(count(st, DB_BUCKETS), 1);
	T_EQ_INT(count(st, DB_TOKENS), 0);
	T_EQ_INT(count(st, DB_CHALLENGES), 0);
	T_EQ_INT(count(st, DB_OOB), 0);
	T_EQ_INT(count(st, DB_EXPIRY), 0);

	/* a corrupt challenge record is swept, not left forever */
	t = begin(st, true);
	T_EQ_INT(store_put(t, DB_CHALLENGES, "auth_challenge_X", 16, "{", 1,
	    false), MFA_OK);
	T_EQ_INT(store_expiry_add(t, 100, STORE_KIND_CHALLENGE,
	    "auth_challenge_X", 16), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	T_EQ_INT(store_sweep(st, 20000, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(count(st, DB_CHALLENGES), 0);
	T_EQ_INT(count(st, DB_EXPIRY), 0);

	/*
	 * store_challenge_put writes "its expiry index entry": a challenge
	 * updated with a later purge time is still swept at that time.
	 */
	c1 = make_challenge("auth_challenge_4", CT_OTP, 30000, 0);
	t = begin(st, true);
	T_EQ_INT(store_challenge_put(t, &c1, true), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	c1.state = CHALLENGE_VERIFIED;
	c1.purge_at = 60000;
	t = begin(st, true);
	T_EQ_INT(store_challenge_put(t, &c1, false), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	T_EQ_INT(store_sweep(st, 40000, 100, 100, &deleted), MFA_OK);
	T_TRUE(challenge_there(st, "auth_challenge_4"));
	T_EQ_INT(deleted, 0); /* nothing was deleted */
	T_EQ_INT(store_sweep(st, 70000, 100, 100, &deleted), MFA_OK);
	T_TRUE(!challenge_there(st, "auth_challenge_4"));

	store_close(st);
}

/* store_jti.c: each (client, jti) is usable once until swept. */
static void
test_store_jti(void)
{
	static const char j64[] =
	    "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj";
	char c64[MFA_CLIENT_ID_MAX + 2], path[PATH_MAX];
	static const struct {
		const char *name;
		const char *client;
		const char *jti;
		int rc;
	} rows[] = {
		{ "first use", "client-1", "jti-1", MFA_OK },
		{ "replay", "client-1", "jti-1", MFA_ERR_EXISTS },
		{ "same jti, other client", "client-2", "jti-1", MFA_OK },
		{ "other jti", "client-1", "jti-2", MFA_OK },
		/* the NUL separator keeps ("ab", "c") and ("a", "bc") apart */
		{ "ab + c", "ab", "c", MFA_OK },
		{ "a + bc", "a", "bc", MFA_OK },
		{ "a + bc replay", "a", "bc", MFA_ERR_EXISTS },
		{ "jti of 64 bytes", "client-1", j64, MFA_OK },
		{ "empty jti", "client-1", "", MFA_ERR_INVALID },
		{ "empty client", "", "jti-3", MFA_ERR_INVALID },
	};
	struct store *st = NULL;
	struct store_txn *rd;
	size_t i, deleted;

	T_EQ_INT(strlen(j64), 64);
	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "jti"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	if (st == NULL)
		return;
	for (i = 0; i < NELEM(rows); i++)
		ROW_INT(rows[i].name, store_jti_use(st, rows[i].client,
		    rows[i].jti, 10000), rows[i].rc);
	{
		char j65[66];

		memset(j65, 'j', 65);
		j65[65] = '\0';
		T_EQ_INT(store_jti_use(st, "client-1", j65, 10000),
		    MFA_ERR_INVALID);
	}
	memset(c64, 'c', sizeof(c64) - 1);
	c64[sizeof(c64) - 1] = '\0'; /* MFA_CLIENT_ID_MAX + 1 bytes */
	T_EQ_INT(store_jti_use(st, c64, "jti-1", 10000), MFA_ERR_INVALID);
	c64[MFA_CLIENT_ID_MAX] = '\0';
	T_EQ_INT(store_jti_use(st, c64, "jti-1", 10000), MFA_OK);
	T_EQ_INT(count(st, DB_JTI), 7);
	T_EQ_INT(count(st, DB_EXPIRY), 7);

	/* its own write transaction while the caller holds a read one */
	rd = begin(st, false);
	T_EQ_INT(store_jti_use(st, "client-1", "jti-9", 20000), MFA_OK);
	store_txn_abort(rd);
	T_EQ_INT(store_jti_use(st, "client-1", "jti-9", 20000),
	    MFA_ERR_EXISTS);

	/* swept after exp; then the pair is free again */
	T_EQ_INT(store_sweep(st, 15000, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 7);
	T_EQ_INT(count(st, DB_JTI), 1);
	T_EQ_INT(store_jti_use(st, "client-1", "jti-1", 30000), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "jti-9", 30000),
	    MFA_ERR_EXISTS);
	store_close(st);
}

/*
 * The record key of the "i"-th expiry entry (from the first) into "out"
 * ("*kind" its kind); its length, 0 when there is no such entry.
 */
static size_t
expiry_nth(struct store *st, size_t i, int *kind, char *out, size_t cap)
{
	struct store_txn *t = begin(st, false);
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	MDB_cursor_op op = MDB_FIRST;

	*kind = 0;
	if (t == NULL || mdb_cursor_open(t->txn, st->dbi[DB_EXPIRY], &cur) != 0) {
		store_txn_abort(t);
		return 0;
	}
	while (mdb_cursor_get(cur, &k, &v, op) == MDB_SUCCESS) {
		op = MDB_NEXT;
		if (i-- > 0)
			continue;
		if (k.mv_size > 9 && k.mv_size - 9 <= cap) {
			*kind = ((unsigned char *)k.mv_data)[8];
			n = k.mv_size - 9;
			memcpy(out, (char *)k.mv_data + 9, n);
		}
		break;
	}
	mdb_cursor_close(cur);
	store_txn_abort(t);
	return n;
}

/*
 * store_jti.c: a jti's expiry entry carries the write transaction's id
 * before its key, so that entries of one "exp" sort by arrival, not by
 * the jti; the sweep reads both layouts.
 */
static void
test_store_jti_expiry(void)
{
	char path[PATH_MAX], key[64];
	struct store *st = NULL;
	struct store_txn *t;
	size_t deleted, n;
	int kind;

	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "jti-expiry"),
	    MAPSIZE, STORE_CREATE), MFA_OK);
	if (st == NULL)
		return;
	/* one exp; "zzz" first: by arrival it stays first */
	T_EQ_INT(store_jti_use(st, "client-1", "zzz", 10000), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "aaa", 10000), MFA_OK);
	n = expiry_nth(st, 0, &kind, key, sizeof(key));
	T_EQ_INT(kind, STORE_KIND_JTI_SEQ);
	T_EQ_INT(n, 8 + sizeof("client-1") + 3);
	T_EQ_MEM(key + 8, "client-1\0zzz", sizeof("client-1") + 3);
	n = expiry_nth(st, 1, &kind, key, sizeof(key));
	T_EQ_INT(kind, STORE_KIND_JTI_SEQ);
	T_EQ_MEM(key + 8, "client-1\0aaa", sizeof("client-1") + 3);
	/* an earlier exp still sorts first, whatever its arrival */
	T_EQ_INT(store_jti_use(st, "client-1", "mmm", 9000), MFA_OK);
	n = expiry_nth(st, 0, &kind, key, sizeof(key));
	T_EQ_MEM(key + 8, "client-1\0mmm", sizeof("client-1") + 3);

	/* an entry as an earlier build wrote it, and a damaged one */
	t = begin(st, true);
	T_EQ_INT(store_put(t, DB_JTI, "client-1\0old", 12, "", 0, true),
	    MFA_OK);
	T_EQ_INT(store_expiry_add(t, 9500, STORE_KIND_JTI, "client-1\0old",
	    12), MFA_OK);
	T_EQ_INT(store_expiry_add(t, 9500, STORE_KIND_JTI_SEQ, "12345678",
	    8), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "old", 20000), MFA_ERR_EXISTS);
	T_EQ_INT(count(st, DB_JTI), 4);
	T_EQ_INT(count(st, DB_EXPIRY), 5);

	/* the sweep deletes through both layouts; the damaged entry goes */
	T_EQ_INT(store_sweep(st, 9999, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 2);
	T_EQ_INT(count(st, DB_JTI), 2);
	T_EQ_INT(count(st, DB_EXPIRY), 2);
	T_EQ_INT(store_jti_use(st, "client-1", "old", 20000), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "mmm", 20000), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "zzz", 20000), MFA_ERR_EXISTS);
	T_EQ_INT(store_sweep(st, 10001, 100, 100, &deleted), MFA_OK);
	T_EQ_INT(deleted, 2);
	T_EQ_INT(store_jti_use(st, "client-1", "zzz", 20000), MFA_OK);
	store_close(st);
}

/* True when "n" bytes of "needle" occur in "hay". */
static bool
mem_has(const void *hay, size_t len, const void *needle, size_t n)
{
	const unsigned char *h = hay;
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(h + i, needle, n) == 0)
			return true;
	return false;
}

/* token.c: issuing and checking mfa_tokens. */
static void
test_token(struct store *st, const struct keys *keys)
{
	static const mfa_ms now = 1700000000000LL;
	unsigned char hash[MFA_HASH_BYTES], want[MFA_HASH_BYTES];
	char tok[MFA_HANDLE_LEN + 1], other[MFA_HANDLE_LEN + 1];
	char longid[MFA_CLIENT_ID_MAX + 2];
	struct token_rec rec;
	struct store_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	int err;
	static const struct {
		const char *name;
		int which; /* 0: the token, 1: NULL, 2: text below */
		const char *text;
		const char *client;
		mfa_ms now;
		enum sel_token want;
	} rows[] = {
		{ "ok", 0, NULL, "client-1", now, SEL_TOKEN_OK },
		{ "ok a ms before expiry", 0, NULL, "client-1",
		    now + 300000 - 1, SEL_TOKEN_OK },
		{ "expired at expires_at", 0, NULL, "client-1", now + 300000,
		    SEL_TOKEN_EXPIRED },
		{ "expired an hour later", 0, NULL, "client-1", now + 3600000,
		    SEL_TOKEN_EXPIRED },
		{ "another client", 0, NULL, "client-2", now,
		    SEL_TOKEN_OTHER_CLIENT },
		{ "client id prefix", 0, NULL, "client-", now,
		    SEL_TOKEN_OTHER_CLIENT },
		{ "missing", 1, NULL, "client-1", now, SEL_TOKEN_MISSING },
		{ "not a handle", 2, "abc", "client-1", now,
		    SEL_TOKEN_MALFORMED },
		{ "empty", 2, "", "client-1", now, SEL_TOKEN_MALFORMED },
		{ "handle with padding", 2,
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "client-1",
		    now, SEL_TOKEN_MALFORMED },
		{ "unknown handle", 3, NULL, "client-1", now,
		    SEL_TOKEN_MALFORMED },
	};
	size_t i;

	t = begin(st, true);
	memset(tok, 'Z', sizeof(tok));
	T_EQ_INT(token_issue(t, keys, "client-1", "user-1", "enroll", 300,
	    now, tok), MFA_OK);
	T_EQ_INT(strlen(tok), MFA_HANDLE_LEN);
	T_TRUE(ids_is_handle(tok));
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	ids_handle(other);

	t = begin(st, false);
	for (i = 0; i < NELEM(rows); i++) {
		const char *in = rows[i].which == 0 ? tok :
		    rows[i].which == 1 ? NULL : rows[i].which == 2 ?
		    rows[i].text : other;

		err = 12345;
		ROW_INT(rows[i].name, token_check(t, keys, in, rows[i].client,
		    rows[i].now, &rec, hash, &err), rows[i].want);
		ROW_INT(rows[i].name, err, MFA_OK);
	}
	/* on success: the record and the key it is stored under */
	T_EQ_INT(token_check(t, keys, tok, "client-1", now, &rec, hash, &err),
	    SEL_TOKEN_OK);
	T_EQ_STR(rec.client_id, "client-1");
	T_EQ_STR(rec.user_id, "user-1");
	T_EQ_STR(rec.scope, "enroll");
	T_EQ_INT(rec.created_at, now);
	T_EQ_INT(rec.expires_at, now + 300000);
	keys_hash(keys, "mfa_token", tok, MFA_HANDLE_LEN, want);
	T_EQ_MEM(hash, want, MFA_HASH_BYTES);
	/* the plain token is stored nowhere */
	T_EQ_INT(mdb_cursor_open(t->txn, st->dbi[DB_TOKENS], &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == MDB_SUCCESS) {
		T_TRUE(!mem_has(k.mv_data, k.mv_size, tok, 16));
		T_TRUE(!mem_has(v.mv_data, v.mv_size, tok, 16));
	}
	mdb_cursor_close(cur);
	store_txn_abort(t);

	/* a NULL scope, over-long ids */
	t = begin(st, true);
	T_EQ_INT(token_issue(t, keys, "client-1", "user-2", NULL, 60, now,
	    other), MFA_OK);
	T_EQ_INT(token_check(t, keys, other, "client-1", now, &rec, hash,
	    &err), SEL_TOKEN_OK);
	T_EQ_STR(rec.scope, "");
	T_EQ_STR(rec.user_id, "user-2");
	memset(longid, 'c', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	T_EQ_INT(token_issue(t, keys, longid, "user-1", NULL, 60, now, other),
	    MFA_ERR_INVALID);
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	/* a failed lookup is an error for the caller, not a token state */
	t = begin(st, true);
	{
		struct client_rec empty = make_client("", "E");

		T_EQ_INT(store_client_put(t, &empty, true), MFA_ERR_INVALID);
	}
	err = MFA_OK;
	T_EQ_INT(token_check(t, keys, tok, "client-1", now, &rec, hash, &err),
	    SEL_TOKEN_INVALID);
	T_EQ_INT(err, MFA_ERR_INVALID);
	store_txn_abort(t);
}

/* Expects challenge_find_oob of "code" to answer "want" in a read
 * transaction, and for MFA_OK to find challenge "id". */
static void
find_oob_is(struct store *st, const struct keys *keys, const char *code,
    int want, const char *id)
{
	struct store_txn *t = begin(st, false);
	struct challenge_rec got;

	memset(&got, 0, sizeof(got));
	T_EQ_INT(challenge_find_oob(t, keys, code, &got), want);
	if (want == MFA_OK)
		T_EQ_STR(got.id, id);
	store_txn_abort(t);
}

/* challenge.c: an oob_code finds its challenge by the id it carries, and
 * only with its own handle; an earlier version's bare handle through the
 * oob index, which nothing writes any more. */
static void
test_challenge_find_oob(struct store *st, const struct keys *keys)
{
	unsigned char th[MFA_HASH_BYTES];
	char a[CHALLENGE_OOB_CODE_MAX + 1], b[CHALLENGE_OOB_CODE_MAX + 1];
	char bind[IDS_BINDING_LEN + 1], forged[2 * CHALLENGE_OOB_CODE_MAX];
	char legacy[MFA_HANDLE_LEN + 1];
	struct challenge_rec ca, cb, co, cl;
	struct store_txn *t;
	size_t oob_before;

	make_hash(th, 78);
	challenge_init(&ca, CT_OOB, "client-1", "user-1", "sms|dev_S", th,
	    1000, 600, 3600);
	challenge_make_oob(&ca, keys, a, bind);
	challenge_init(&cb, CT_OOB, "client-1", "user-1", "sms|dev_S", th,
	    1001, 600, 3600);
	challenge_make_oob(&cb, keys, b, bind);
	challenge_init(&co, CT_OTP, "client-1", "user-1", "totp|dev_T", th,
	    1002, 600, 3600);
	t = begin(st, true);
	oob_before = db_count(t, DB_OOB);
	T_EQ_INT(store_challenge_put(t, &ca, true), MFA_OK);
	T_EQ_INT(store_challenge_put(t, &cb, true), MFA_OK);
	T_EQ_INT(store_challenge_put(t, &co, true), MFA_OK);
	T_EQ_INT(db_count(t, DB_OOB), oob_before); /* no index entry */
	T_EQ_INT(store_txn_commit(t), MFA_OK);

	find_oob_is(st, keys, a, MFA_OK, ca.id);
	find_oob_is(st, keys, b, MFA_OK, cb.id);
	/* a's handle under b's id, under the otp challenge's, under none */
	snprintf(forged, sizeof(forged), "%s%s", cb.id, strchr(a, '.'));
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	snprintf(forged, sizeof(forged), "%s%s", co.id, strchr(a, '.'));
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	find_oob_is(st, keys, strchr(a, '.'), MFA_ERR_NOTFOUND, NULL);
	/* a's id with another handle, a shorter one, none, no dot */
	snprintf(forged, sizeof(forged), "%s", a);
	forged[strlen(forged) - 1] ^= 1;
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	forged[strlen(forged) - 1] = '\0';
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	snprintf(forged, sizeof(forged), "%s.", ca.id);
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	find_oob_is(st, keys, ca.id, MFA_ERR_NOTFOUND, NULL);
	find_oob_is(st, keys, "", MFA_ERR_NOTFOUND, NULL);
	/* an id over MFA_CHALLENGE_ID_MAX, and one at it (no such record) */
	memset(forged, 'c', MFA_CHALLENGE_ID_MAX + 1);
	snprintf(forged + MFA_CHALLENGE_ID_MAX + 1, MFA_HANDLE_LEN + 2, "%s",
	    strchr(a, '.'));
	find_oob_is(st, keys, forged, MFA_ERR_NOTFOUND, NULL);
	find_oob_is(st, keys, forged + 1, MFA_ERR_NOTFOUND, NULL);

	/* an earlier version's challenge: a bare handle, hashed as it is,
	 * and its index entry */
	challenge_init(&cl, CT_OOB, "client-1", "user-1", "sms|dev_S", th,
	    1003, 600, 3600);
	cl.has_oob = true;
	ids_handle(legacy);
	challenge_oob_hash(keys, legacy, cl.oob_hash);
	t = begin(st, true);
	T_EQ_INT(store_challenge_put(t, &cl, true), MFA_OK);
	T_EQ_INT(store_put(t, DB_OOB, cl.oob_hash, MFA_HASH_BYTES, cl.id,
	    strlen(cl.id), true), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	find_oob_is(st, keys, legacy, MFA_OK, cl.id);
	legacy[0] ^= 1;
	find_oob_is(st, keys, legacy, MFA_ERR_NOTFOUND, NULL);
	legacy[0] ^= 1;
	/* an index entry that names a challenge of another code */
	t = begin(st, true);
	T_EQ_INT(store_put(t, DB_OOB, cl.oob_hash, MFA_HASH_BYTES, ca.id,
	    strlen(ca.id), false), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	find_oob_is(st, keys, legacy, MFA_ERR_NOTFOUND, NULL);
}

/* challenge.c: creation and the WorkOS view. */
static void
test_challenge(struct store *st, const struct keys *keys)
{
	static const mfa_ms now = 1644938813274LL; /* 15:26:53.274Z */
	unsigned char th[MFA_HASH_BYTES], h[MFA_HASH_BYTES];
	char oob[CHALLENGE_OOB_CODE_MAX + 1], bind[IDS_BINDING_LEN + 1];
	char want[512], dom[96], tid[IDS_CHALLENGE_LEN + 1];
	struct challenge_rec c, got;
	struct store_txn *t;
	json_t *j;
	char *s;

	make_hash(th, 77);
	challenge_init(&c, CT_OTP, "client-1", "user-1", "totp|dev_T", th,
	    now, 600, 3600);
	T_TRUE(ids_is_challenge(c.id));
	ids_challenge(now, tid);
	T_EQ_INT(strncmp(c.id, tid, 25), 0); /* same time part */
	T_EQ_STR(c.client_id, "client-1");
	T_EQ_STR(c.user_id, "user-1");
	T_EQ_STR(c.factor_id, "totp|dev_T");
	T_EQ_INT(c.type, CT_OTP);
	T_EQ_INT(c.state, CHALLENGE_PENDING);
	T_EQ_INT(c.attempts, 0);
	T_EQ_INT(c.created_at, now);
	T_EQ_INT(c.updated_at, now);
	T_EQ_INT(c.expires_at, 0);
	T_EQ_INT(c.purge_at, now + 3600000);
	T_EQ_MEM(c.token_hash, th, MFA_HASH_BYTES);
	T_EQ_INT(c.has_oob, false);

	/* TOTP: no expires_at */
	j = challenge_to_json(&c, false);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(want, sizeof(want), "{\"authentication_factor_id\":"
	    "\"totp|dev_T\",\"created_at\":\"2022-02-15T15:26:53.274Z\","
	    "\"id\":\"%s\",\"object\":\"authentication_challenge\","
	    "\"updated_at\":\"2022-02-15T15:26:53.274Z\"}", c.id);
	T_EQ_STR(s, want);
	free(s);
	json_decref(j);

	/* the private view for mfactl */
	c.attempts = 2;
	j = challenge_to_json(&c, true);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(want, sizeof(want), "{\"attempts\":2,"
	    "\"authentication_factor_id\":\"totp|dev_T\","
	    "\"challenge_type\":\"otp\",\"client_id\":\"client-1\","
	    "\"created_at\":\"2022-02-15T15:26:53.274Z\",\"id\":\"%s\","
	    "\"object\":\"authentication_challenge\",\"state\":\"pending\","
	    "\"updated_at\":\"2022-02-15T15:26:53.274Z\","
	    "\"user_id\":\"user-1\"}", c.id);
	T_EQ_STR(s, want);
	free(s);
	json_decref(j);

	/* OOB: expires ttl later, purged a grace period after; the secrets
	 * as hashes */
	challenge_init(&c, CT_OOB, "client-1", "user-1", "sms|dev_S", th, now,
	    600, 3600);
	T_EQ_INT(c.expires_at, now + 600000);
	T_EQ_INT(c.purge_at, now + 600000 + STORE_PURGE_GRACE_MS);
	T_EQ_INT(c.has_oob, false);
	memset(oob, 'Z', sizeof(oob));
	memset(bind, 'Z', sizeof(bind));
	challenge_make_oob(&c, keys, oob, bind);
	T_EQ_INT(c.has_oob, true);
	/* the challenge's id, a dot, a handle */
	T_EQ_INT(strlen(oob), IDS_CHALLENGE_LEN + 1 + MFA_HANDLE_LEN);
	T_EQ_INT(strncmp(oob, c.id, IDS_CHALLENGE_LEN), 0);
	T_EQ_INT(oob[IDS_CHALLENGE_LEN], '.');
	T_TRUE(ids_is_handle(oob + IDS_CHALLENGE_LEN + 1));
	T_EQ_INT(strlen(bind), IDS_BINDING_LEN);
	T_EQ_INT(strspn(bind, "0123456789"), IDS_BINDING_LEN);
	keys_hash(keys, "oob_code", oob, strlen(oob), h);
	T_EQ_MEM(c.oob_hash, h, MFA_HASH_BYTES);
	challenge_oob_hash(keys, oob, h);
	T_EQ_MEM(c.oob_hash, h, MFA_HASH_BYTES);
	snprintf(dom, sizeof(dom), "binding_code:%s", c.id);
	keys_hash(keys, dom, bind, strlen(bind), h);
	T_EQ_MEM(c.binding_hash, h, MFA_HASH_BYTES);
	/* the same code under another challenge hashes differently */
	keys_hash(keys, "binding_code:auth_challenge_OTHER", bind,
	    strlen(bind), h);
	T_TRUE(memcmp(c.binding_hash, h, MFA_HASH_BYTES) != 0);

	j = challenge_to_json(&c, false);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(want, sizeof(want), "{\"authentication_factor_id\":"
	    "\"sms|dev_S\",\"created_at\":\"2022-02-15T15:26:53.274Z\","
	    "\"expires_at\":\"2022-02-15T15:36:53.274Z\",\"id\":\"%s\","
	    "\"object\":\"authentication_challenge\","
	    "\"updated_at\":\"2022-02-15T15:26:53.274Z\"}", c.id);
	T_EQ_STR(s, want);
	/* no secret in the view */
	T_TRUE(strstr(s, oob) == NULL);
	T_TRUE(strstr(s, "hash") == NULL);
	free(s);
	json_decref(j);

	/* stored and found again by its oob_code */
	t = begin(st, true);
	T_EQ_INT(store_challenge_put(t, &c, true), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	t = begin(st, false);
	memset(&got, 0, sizeof(got));
	T_EQ_INT(challenge_find_oob(t, keys, oob, &got), MFA_OK);
	T_EQ_STR(got.id, c.id);
	T_EQ_MEM(got.binding_hash, c.binding_hash, MFA_HASH_BYTES);
	store_txn_abort(t);

	/* milliseconds are zero-padded; the epoch itself */
	c.created_at = 0;
	c.updated_at = 1644938813005LL;
	c.expires_at = 999;
	j = challenge_to_json(&c, false);
	T_EQ_STR(json_string_value(json_object_get(j, "created_at")),
	    "1970-01-01T00:00:00.000Z");
	T_EQ_STR(json_string_value(json_object_get(j, "updated_at")),
	    "2022-02-15T15:26:53.005Z");
	T_EQ_STR(json_string_value(json_object_get(j, "expires_at")),
	    "1970-01-01T00:00:00.999Z");
	json_decref(j);
}

/* ---------------------------------------- the queue of new challenges */

/*
 * White-box views of a slot of store_batch.c: its state word (sequence
 * << 32 | the poster's pid << 8 | state) at offset 0, the record's length
 * at 8 and the record at 10.
 */
enum { Q_FREE, Q_FILLING, Q_QUEUED, Q_APPLYING };

static unsigned char *
q_slot(struct store *st, size_t i)
{
	return (unsigned char *)store_sync_area(st) +
	    i * STORE_BATCH_SLOT_SIZE;
}

static size_t
q_count(struct store *st, unsigned state)
{
	uint64_t w;
	size_t i, n = 0;

	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		memcpy(&w, q_slot(st, i), sizeof(w));
		n += (w & 0xff) == state;
	}
	return n;
}

/* The first slot in "state", or STORE_BATCH_SLOTS. */
static size_t
q_find(struct store *st, unsigned state)
{
	uint64_t w;
	size_t i;

	for (i = 0; i < STORE_BATCH_SLOTS; i++) {
		memcpy(&w, q_slot(st, i), sizeof(w));
		if ((w & 0xff) == state)
			return i;
	}
	return i;
}

/* Sets slot "i" to "state", keeping its sequence number. */
static void
q_set(struct store *st, size_t i, unsigned state)
{
	uint64_t w;

	memcpy(&w, q_slot(st, i), sizeof(w));
	w = (w & ~(uint64_t)0xff) | state;
	memcpy(q_slot(st, i), &w, sizeof(w));
}

/* Is challenge "id" committed (seen by a read transaction)? */
static bool
q_seen(struct store *st, const char *id)
{
	struct store_txn *t = begin(st, false);
	struct challenge_rec c;
	int rc;

	if (t == NULL)
		return false;
	rc = store_challenge_get(t, id, &c);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static struct store *
q_open(const char *name, int batch_ms)
{
	struct store *st = NULL;
	char path[PATH_MAX];

	T_EQ_INT(store_open(&st, sub(path, sizeof(path), name), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	if (st != NULL && batch_ms >= 0)
		T_EQ_INT(store_sync_init(st, batch_ms), MFA_OK);
	return st;
}

/* Queued, taken in by a write transaction, handed back by its abort,
 * released by its commit. */
static void
test_batch_queue(struct store *st)
{
	struct challenge_rec c = make_challenge("auth_challenge_Q1", CT_OTP,
	    9000, 0), got;
	struct store_txn *t;

	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_TRUE(!q_seen(st, c.id)); /* queued, not committed yet */
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	t = begin(st, true);
	T_EQ_INT(store_challenge_get(t, c.id, &got), MFA_OK);
	T_EQ_INT(t->nbatch, 1);
	T_EQ_INT(q_count(st, Q_APPLYING), 1);
	store_txn_abort(t);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	T_TRUE(!q_seen(st, c.id));
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	t = begin(st, false);
	T_EQ_INT(store_challenge_get(t, c.id, &got), MFA_OK);
	T_EQ_STR(got.factor_id, "totp|dev_T");
	T_EQ_INT(got.purge_at, 9000);
	store_txn_abort(t);
}

/* Writers that died: before their commit (the slot is applied again),
 * after it (the record is found by its id, written once). */
static void
test_batch_dead_writer(struct store *st)
{
	struct challenge_rec a = make_challenge("auth_challenge_Q2", CT_OTP,
	    9000, 0), b = make_challenge("auth_challenge_Q3", CT_OTP, 9000, 0);
	struct store_txn *t;
	size_t i, n, x;

	T_EQ_INT(store_challenge_create(st, &a, NULL, NULL), MFA_OK);
	q_set(st, i = q_find(st, Q_QUEUED), Q_APPLYING);
	T_TRUE(i < STORE_BATCH_SLOTS);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, a.id));
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);

	T_EQ_INT(store_challenge_create(st, &b, NULL, NULL), MFA_OK);
	i = q_find(st, Q_QUEUED);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	t = begin(st, false);
	n = db_count(t, DB_CHALLENGES);
	x = db_count(t, DB_EXPIRY);
	store_txn_abort(t);
	q_set(st, i, Q_APPLYING); /* as if it died before releasing it */
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	t = begin(st, false);
	T_EQ_INT(db_count(t, DB_CHALLENGES), n);
	T_EQ_INT(db_count(t, DB_EXPIRY), x);
	store_txn_abort(t);
}

/* A jti is queued once checked unused in LMDB and in the queue; a
 * transaction that records a jti itself sees the queued ones. */
static void
test_batch_jti(struct store *st)
{
	struct challenge_rec c = make_challenge("auth_challenge_J1", CT_OTP,
	    9000, 0);
	struct store_jti_op jti = { "client-1", "jti-1", 9000 },
	    other = { "client-1", "jti-2", 9000 },
	    empty = { "client-1", "", 9000 };
	struct store_txn *t;

	T_EQ_INT(store_challenge_create(st, &c, &jti, NULL), MFA_OK);
	T_TRUE(!q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	snprintf(c.id, sizeof(c.id), "auth_challenge_J2");
	T_EQ_INT(store_challenge_create(st, &c, &jti, NULL), MFA_ERR_EXISTS);
	T_EQ_INT(q_count(st, Q_QUEUED), 1); /* the replay queued nothing */
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, "auth_challenge_J1"));
	T_TRUE(!q_seen(st, c.id));
	t = begin(st, false);
	T_EQ_INT(store_jti_seen(t, "client-1", "jti-1"), MFA_OK);
	T_EQ_INT(store_jti_seen(t, "client-1", "jti-2"), MFA_ERR_NOTFOUND);
	T_EQ_INT(store_jti_seen(t, "client-1", ""), MFA_ERR_INVALID);
	store_txn_abort(t);
	T_EQ_INT(store_challenge_create(st, &c, &jti, NULL), MFA_ERR_EXISTS);
	T_EQ_INT(store_challenge_create(st, &c, &empty, NULL), MFA_ERR_INVALID);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);

	snprintf(c.id, sizeof(c.id), "auth_challenge_J3");
	T_EQ_INT(store_challenge_create(st, &c, &other, NULL), MFA_OK);
	T_EQ_INT(store_jti_use(st, "client-1", "jti-2", 9000),
	    MFA_ERR_EXISTS);
	/* its abort handed the queue back; a transaction that did not take
	 * the queue in (store_txn_lock, or a join that failed) still finds
	 * the queued jti used */
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	t = NULL;
	T_EQ_INT(store_txn_lock(st, &t), MFA_OK);
	if (t != NULL) {
		T_EQ_INT(t->nbatch, 0);
		T_EQ_INT(store_jti_put(t, "client-1", "jti-2", 9000),
		    MFA_ERR_EXISTS);
		T_EQ_INT(store_jti_put(t, "client-1", "jti-9", 9000), MFA_OK);
		store_txn_abort(t);
	}
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
}

/* The level of bucket "key" as committed; -1 when it has none. */
static int
q_bucket(struct store *st, const char *key)
{
	struct store_txn *t = begin(st, false);
	struct bucket b;
	int rc;

	if (t == NULL)
		return -2;
	rc = store_bucket_get(t, key, &b);
	store_txn_abort(t);
	return rc == MFA_OK ? (int)b.level : rc == MFA_ERR_NOTFOUND ? -1 : -2;
}

/* An oob challenge of "user" with oob seed "seed". */
static struct challenge_rec
q_oob(const char *id, const char *user, unsigned seed)
{
	struct challenge_rec c = make_challenge(id, CT_OOB, 9000, seed);

	snprintf(c.user_id, sizeof(c.user_id), "%s", user);
	return c;
}

/*
 * An oob challenge is queued with its send: the bucket's new state rides
 * in the slot and is stored with the challenge; an empty bucket queues
 * nothing; a second send of the same bucket while one is queued commits
 * (taking the queued one in first, so no send is lost); the bucket state
 * a former use of a slot left is not applied to its next challenge; a
 * replayed jti answers before the bucket is looked at.
 */
static void
test_batch_send(struct store *st)
{
	struct store_bucket_op send = { "pstn:", "user-s1", { 3, 3600000 },
		5000, NULL, 0 };
	struct store_jti_op jti = { "client-1", "jti-s1", 9000 };
	struct challenge_rec c = q_oob("auth_challenge_S1", "user-s1", 21);
	unsigned char tail[STORE_BATCH_SLOT_SIZE - 1176];
	char user[32], id[MFA_CHALLENGE_ID_MAX + 1];
	struct store_txn *t;
	size_t i;

	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	T_TRUE(!q_seen(st, c.id));
	T_EQ_INT(q_bucket(st, "pstn:user-s1"), -1);
	i = q_find(st, Q_QUEUED);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_bucket(st, "pstn:user-s1"), 2);

	/* the same slot again, for an otp challenge of another user, as an
	 * earlier build posts it (leaving the bytes after jti_exp, offset
	 * 1176, as the send wrote them): that send is not applied to it */
	memcpy(tail, q_slot(st, i) + 1176, sizeof(tail));
	c = make_challenge("auth_challenge_S2", CT_OTP, 9000, 0);
	snprintf(c.user_id, sizeof(c.user_id), "user-s2");
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(q_find(st, Q_QUEUED), i);
	memcpy(q_slot(st, i) + 1176, tail, sizeof(tail));
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_bucket(st, "pstn:user-s2"), -1);

	c = q_oob("auth_challenge_S3", "user-s1", 22);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	/* a second send of the bucket while one is queued: a commit of its
	 * own, which takes the queued one (and its send) in first */
	c = q_oob("auth_challenge_S4", "user-s1", 23);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
	T_TRUE(q_seen(st, "auth_challenge_S3"));
	T_TRUE(q_seen(st, "auth_challenge_S4"));
	T_EQ_INT(q_bucket(st, "pstn:user-s1"), 0);
	/* empty: nothing queued, nothing written, queued or committed */
	c = q_oob("auth_challenge_S5", "user-s1", 24);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_ERR_LIMIT);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
	T_TRUE(!q_seen(st, c.id));
	send.prefix = "email:"; /* another channel's bucket is its own */
	T_EQ_INT(store_challenge_create(st, &c, &jti, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	c = q_oob("auth_challenge_S6", "user-s1", 25);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	send.prefix = "pstn:";
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_ERR_LIMIT);
	T_EQ_INT(q_count(st, Q_QUEUED), 0); /* S6's commit took S5 in */
	T_EQ_INT(q_bucket(st, "email:user-s1"), 1);
	/* a replayed jti is refused before the bucket is looked at */
	c = q_oob("auth_challenge_S7", "user-s3", 26);
	send.user_id = "user-s3";
	T_EQ_INT(store_challenge_create(st, &c, &jti, &send), MFA_ERR_EXISTS);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, "auth_challenge_S5"));
	T_TRUE(q_seen(st, "auth_challenge_S6"));
	T_TRUE(q_seen(st, "auth_challenge_S7"));
	T_EQ_INT(q_bucket(st, "pstn:user-s3"), 2);
	T_EQ_INT(q_bucket(st, "pstn:user-s1"), 0);
	/* at most STORE_BATCH_SENDS_MAX sends queued: the next one commits
	 * them all */
	for (i = 0; i <= STORE_BATCH_SENDS_MAX; i++) {
		snprintf(user, sizeof(user), "user-m%zu", i);
		snprintf(id, sizeof(id), "auth_challenge_M%zu", i);
		c = q_oob(id, user, 100 + (unsigned)i);
		send.user_id = user;
		T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
		T_EQ_INT(q_count(st, Q_QUEUED),
		    i < STORE_BATCH_SENDS_MAX ? i + 1 : 0);
	}
	T_EQ_INT(STORE_BATCH_SENDS_MAX, 64);
	T_TRUE(q_seen(st, "auth_challenge_M0"));
	T_TRUE(q_seen(st, "auth_challenge_M64"));
	T_EQ_INT(q_bucket(st, "pstn:user-m63"), 2);
	/* a writer that died after committing a send: taking its slot in
	 * again stores neither the challenge nor the send a second time */
	send.user_id = "user-sd";
	c = q_oob("auth_challenge_SD", "user-sd", 40);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	i = q_find(st, Q_QUEUED);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_bucket(st, "pstn:user-sd"), 2);
	t = begin(st, true);
	T_EQ_INT(store_bucket_take(t, &send), MFA_OK);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	q_set(st, i, Q_APPLYING);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_bucket(st, "pstn:user-sd"), 1);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	/* oob challenges write no index: two with the same oob hash (a
	 * keyed hash over their ids: never in practice) are both stored */
	c = q_oob("auth_challenge_SX", "user-sx", 40);
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_EQ_INT(count(st, DB_OOB), 0);
	/* a transaction that did not take the queue in refuses to store a
	 * bucket with a send queued (its state would be overwritten) */
	c = q_oob("auth_challenge_SJ", "user-sd", 41);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	t = NULL;
	T_EQ_INT(store_txn_lock(st, &t), MFA_OK);
	if (t != NULL) {
		T_EQ_INT(store_bucket_take(t, &send), MFA_ERR_BUSY);
		send.user_id = "user-sj";
		T_EQ_INT(store_bucket_take(t, &send), MFA_OK);
		store_txn_abort(t);
	}
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_bucket(st, "pstn:user-sd"), 0);
	/* a prefix out of bounds */
	send.prefix = "toolong:";
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_ERR_INVALID);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
}

/* The outbox message of challenge "id" (created at 1 ms) as committed,
 * into "buf"; its length, or -1 when there is none. */
static int
q_outbox(struct store *st, const char *id, char *buf, size_t len)
{
	struct store_txn *t = begin(st, false);
	char key[STORE_OUTBOX_KEY_MAX + 1];
	MDB_val v;
	int n = -1;

	if (t == NULL)
		return -2;
	if (store_outbox_key(1, id, key) == MFA_OK &&
	    store_get(t, DB_OUTBOX, key, strlen(key), &v) == MFA_OK &&
	    v.mv_size < len) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
		n = (int)v.mv_size;
	}
	store_txn_abort(t);
	return n;
}

/* Counts the messages store_outbox_each walks, checking their order. */
static int
q_outbox_walk(void *arg, const char *key, const void *msg, size_t len)
{
	char *last = arg;

	(void)msg;
	T_TRUE(len > 0);
	T_TRUE(strcmp(last, key) < 0);
	snprintf(last, STORE_OUTBOX_KEY_MAX + 1, "%s", key);
	return 0;
}

/* Counts the messages store_outbox_each walks into "*arg". */
static int
q_outbox_count(void *arg, const char *key, const void *msg, size_t len)
{
	(void)key;
	(void)msg;
	(void)len;
	++*(size_t *)arg;
	return 0;
}

/*
 * An oob challenge's message rides in its slot after the record and is
 * put in the outbox with the challenge, under "<13-digit ms>-<id>"; on the
 * paths that commit instead (a send of the same bucket queued; a message
 * that does not fit the slot) in the same transaction; a message a former
 * use of the slot left is not put for the next challenge; a writer that
 * died after its commit does not put it twice; the sweep removes a
 * message its challenge outlived; keys out of bounds are refused.
 */
static void
test_batch_outbox(struct store *st)
{
	static char big[3000];
	const char *msg = "{\"code\":\"111111\"}";
	struct store_bucket_op send = { "email:", "user-o1", { 5, 3600000 },
		5000, msg, strlen(msg) };
	struct challenge_rec c = q_oob("auth_challenge_O1", "user-o1", 61);
	unsigned char tail[STORE_BATCH_SLOT_SIZE - 1176];
	char buf[4096], key[STORE_OUTBOX_KEY_MAX + 1], last[128] = "";
	struct store_txn *t;
	size_t i, n = 99, deleted;
	uint16_t rec_len;

	T_EQ_INT(store_outbox_key(1796600532287LL, "auth_challenge_O1", key),
	    MFA_OK);
	T_EQ_STR(key, "1796600532287-auth_challenge_O1");
	T_EQ_INT(store_outbox_key(1, "c", key), MFA_OK);
	T_EQ_STR(key, "0000000000001-c");
	T_EQ_INT(store_outbox_key(-1, "c", key), MFA_ERR_INVALID);
	T_EQ_INT(store_outbox_key(STORE_OUTBOX_MS_MAX + 1, "c", key),
	    MFA_ERR_INVALID);
	T_EQ_INT(store_outbox_key(1, "", key), MFA_ERR_INVALID);

	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), -1);
	i = q_find(st, Q_QUEUED);
	memcpy(&rec_len, q_slot(st, i) + 8, sizeof(rec_len));
	T_TRUE(memcmp(q_slot(st, i) + 10 + rec_len, msg, strlen(msg)) == 0);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), (int)strlen(msg));
	T_EQ_STR(buf, msg);
	/* committed: the code no longer lies in the slot */
	T_TRUE(sodium_is_zero(q_slot(st, i) + 10 + rec_len, 1024 - rec_len));

	/* the slot again, for an oob challenge posted as an earlier build
	 * posts it (the bytes from offset 1176 on as the former use left
	 * them, message length and all): no message for it */
	memcpy(tail, q_slot(st, i) + 1176, sizeof(tail));
	c = q_oob("auth_challenge_O2", "user-o2", 62);
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(q_find(st, Q_QUEUED), i);
	memcpy(q_slot(st, i) + 1176, tail, sizeof(tail));
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), -1);

	/* a second send of the bucket: committed with its message, after
	 * the queued one */
	c = q_oob("auth_challenge_O3", "user-o1", 63);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	c = q_oob("auth_challenge_O4", "user-o1", 64);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
	T_EQ_INT(q_outbox(st, "auth_challenge_O3", buf, sizeof(buf)),
	    (int)strlen(msg));
	T_EQ_INT(q_outbox(st, "auth_challenge_O4", buf, sizeof(buf)),
	    (int)strlen(msg));

	/* too big for the slot: a commit of its own, message and all */
	memset(big, 'x', sizeof(big) - 1);
	send.msg = big;
	send.msg_len = strlen(big);
	send.user_id = "user-o5";
	c = q_oob("auth_challenge_O5", "user-o5", 65);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), (int)strlen(big));

	/* a writer that died after committing: its slot taken in again
	 * puts the message once (the put refuses a key it has) */
	send.msg = msg;
	send.msg_len = strlen(msg);
	send.user_id = "user-o6";
	c = q_oob("auth_challenge_O6", "user-o6", 66);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	i = q_find(st, Q_QUEUED);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	q_set(st, i, Q_APPLYING);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), (int)strlen(msg));

	t = begin(st, false);
	T_EQ_INT(store_outbox_count(t, &n), MFA_OK);
	T_EQ_INT(n, 5);
	T_EQ_INT(store_outbox_each(t, NULL, q_outbox_walk, last), MFA_OK);
	T_EQ_STR(last, "0000000000001-auth_challenge_O6");
	/* from after a key: the ones after it (O3 is a key, O45 is not) */
	n = 0;
	T_EQ_INT(store_outbox_each(t, "0000000000001-auth_challenge_O3",
	    q_outbox_count, &n), MFA_OK);
	T_EQ_INT(n, 3);
	n = 0;
	T_EQ_INT(store_outbox_each(t, "0000000000001-auth_challenge_O45",
	    q_outbox_count, &n), MFA_OK);
	T_EQ_INT(n, 2);
	store_txn_abort(t);

	/* delivered: deleted; gone already: NOTFOUND */
	t = begin(st, true);
	T_EQ_INT(store_outbox_del(t, "0000000000001-auth_challenge_O1"),
	    MFA_OK);
	T_EQ_INT(store_outbox_del(t, "0000000000001-auth_challenge_O1"),
	    MFA_ERR_NOTFOUND);
	T_EQ_INT(store_outbox_del(t, ""), MFA_ERR_INVALID);
	T_EQ_INT(store_txn_commit(t), MFA_OK);
	/* the sweep purges the challenges (purge_at 9000) and what is left
	 * of their messages */
	T_EQ_INT(store_sweep(st, 9001, 100, 1000, &deleted), MFA_OK);
	t = begin(st, false);
	T_EQ_INT(store_outbox_count(t, &n), MFA_OK);
	store_txn_abort(t);
	T_EQ_INT(n, 0);
}

/* A record that does not decode is dropped; a full queue commits with the
 * next one. */
static void
test_batch_direct(struct store *st)
{
	struct challenge_rec c = make_challenge("auth_challenge_D1", CT_OTP,
	    9000, 0);
	char id[MFA_CHALLENGE_ID_MAX + 1];
	size_t i;
	uint16_t len = 3;

	q_set(st, i = q_find(st, Q_FREE), Q_QUEUED);
	memcpy(q_slot(st, i) + 8, &len, sizeof(len));
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);

	for (i = 0; i <= STORE_BATCH_SLOTS; i++) {
		snprintf(c.id, sizeof(c.id), "auth_challenge_F%zu", i);
		T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	}
	for (i = 0; i <= STORE_BATCH_SLOTS; i++) {
		snprintf(id, sizeof(id), "auth_challenge_F%zu", i);
		ROW_TRUE(id, q_seen(st, id));
	}
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
}

/* The tick commits what waited batch_ms; a clean close what is left; a
 * slot of a poster that died while filling it is freed by the next
 * process; mfactl's attach commits the queue and never makes the file. */
static void
test_batch_lifecycle(void)
{
	struct challenge_rec c = make_challenge("auth_challenge_T1", CT_OTP,
	    9000, 0);
	struct timespec ms5 = { 0, 5000000 };
	struct store *st = q_open("queue-tick", 1), *o;
	char path[PATH_MAX];
	int next = 0, status;
	uint64_t w;
	pid_t pid;

	if (st == NULL)
		return;
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(store_sync_tick(st, &next), MFA_OK);
	T_TRUE(next <= 1); /* due within batch_ms, or committed already */
	nanosleep(&ms5, NULL);
	T_EQ_INT(store_sync_tick(st, &next), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(next, -1);

	snprintf(c.id, sizeof(c.id), "auth_challenge_T2");
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	if ((pid = fork()) == 0)
		_exit(0);
	T_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid);
	w = (uint64_t)7 << 32 | (uint64_t)pid << 8 | Q_FILLING;
	memcpy(q_slot(st, q_find(st, Q_FREE)), &w, sizeof(w));
	store_close(st);
	st = q_open("queue-tick", -1); /* no group commit: a plain reader */
	if (st == NULL)
		return;
	T_TRUE(q_seen(st, c.id)); /* store_close committed it */
	T_EQ_INT(store_sync_attach(st), MFA_OK);
	T_EQ_INT(q_count(st, Q_FILLING), 0); /* the dead poster's is free */
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	store_close(st);

	/* batch_ms 0 queues nothing; attach leaves a store without the
	 * shared file as it is */
	st = q_open("queue-zero", 0);
	snprintf(c.id, sizeof(c.id), "auth_challenge_Z1");
	if (st != NULL)
		T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_TRUE(st != NULL && q_seen(st, c.id));
	store_close(st);
	if ((o = q_open("queue-none", -1)) != NULL) {
		T_EQ_INT(store_sync_attach(o), MFA_OK);
		T_TRUE(store_sync_area(o) == NULL);
		T_TRUE(access(sub(path, sizeof(path), "queue-none/sync.state"),
		    F_OK) != 0);
	}
	store_close(o);
}

/* A queued slot whose jti is out of bounds (damaged) is dropped, not
 * left to fail every later join. */
static void
test_batch_bad_jti(struct store *st)
{
	struct challenge_rec c = make_challenge("auth_challenge_B1", CT_OTP,
	    9000, 0);
	struct store_jti_op jti = { "client-1", "jti-damaged", 9000 };
	unsigned char *p;
	size_t i, n;

	T_EQ_INT(store_challenge_create(st, &c, &jti, NULL), MFA_OK);
	i = q_find(st, Q_QUEUED);
	T_TRUE(i < STORE_BATCH_SLOTS);
	if (i >= STORE_BATCH_SLOTS)
		return;
	/* the jti's bytes, wherever the slot keeps them */
	for (p = q_slot(st, i), n = 0; n + 11 <= STORE_BATCH_SLOT_SIZE; n++)
		if (memcmp(p + n, "jti-damaged", 11) == 0)
			break;
	T_TRUE(n + 11 <= STORE_BATCH_SLOT_SIZE);
	if (n + 11 <= STORE_BATCH_SLOT_SIZE)
		p[n] = '\0';
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_TRUE(!q_seen(st, c.id));
}

/* sync.state of store "name", opened for writing; -1 (a failure) when
 * it cannot be. */
static int
q_state_open(const char *name)
{
	char path[PATH_MAX], rel[64];
	int fd;

	snprintf(rel, sizeof(rel), "%s/sync.state", name);
	if ((fd = open(sub(path, sizeof(path), rel), O_RDWR)) < 0)
		T_TRUE(!"open sync.state");
	return fd;
}

/*
 * The header of sync.state as this test writes it: the magic at offset 0,
 * the slot count at 72; "size" truncates the file (0: leaves it).
 */
static void
q_header(const char *name, uint64_t magic, uint64_t nslots, off_t size)
{
	int fd;

	if ((fd = q_state_open(name)) < 0)
		return;
	T_EQ_INT(pwrite(fd, &magic, 8, 0), 8);
	T_EQ_INT(pwrite(fd, &nslots, 8, 72), 8);
	if (size > 0)
		T_EQ_INT(ftruncate(fd, size), 0);
	close(fd);
}

/* Sets the "synced" counter of sync.state (offset 8) to "v". */
static void
q_synced(const char *name, uint64_t v)
{
	int fd;

	if ((fd = q_state_open(name)) < 0)
		return;
	T_EQ_INT(pwrite(fd, &v, 8, 8), 8);
	close(fd);
}

/* A file this build made has STORE_BATCH_SLOTS slots; one an earlier
 * build made (its magic, 64 slots, a shorter file) keeps 64, so that
 * processes of both builds scan the same slots; a damaged count is
 * replaced. */
static void
test_batch_layout(void)
{
	struct challenge_rec c = make_challenge("auth_challenge_L0", CT_OTP,
	    9000, 0);
	struct store_jti_op jti = { "client-1", "jti-high-slot", 9000 };
	struct store_bucket_op send = { "pstn:", "user-lm", { 3, 3600000 },
		5000, "{ }", 3 };
	char id[MFA_CHALLENGE_ID_MAX + 1], buf[64];
	struct store_txn *t;
	struct store *st;
	size_t i, n;

	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS);
	store_close(st);
	q_header("queue-v1", 0x6d666153796e6331ULL, 0,
	    4096 + STORE_BATCH_SLOTS_V1 * STORE_BATCH_SLOT_SIZE);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS_V1);
	for (i = 0; i < STORE_BATCH_SLOTS_V1; i++) {
		snprintf(c.id, sizeof(c.id), "auth_challenge_L%zu", i);
		T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	}
	T_EQ_INT(q_count(st, Q_QUEUED), STORE_BATCH_SLOTS_V1);
	snprintf(c.id, sizeof(c.id), "auth_challenge_Lx");
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK); /* full */
	T_TRUE(q_seen(st, c.id));
	for (i = 0; i < STORE_BATCH_SLOTS_V1; i++) {
		snprintf(id, sizeof(id), "auth_challenge_L%zu", i);
		ROW_TRUE(id, q_seen(st, id));
	}
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);

	/* a slot past the 64, as a 128-slot process would post it (builds
	 * mixed against the README's advice): its jti is seen, and the next
	 * write takes its challenge in */
	snprintf(c.id, sizeof(c.id), "auth_challenge_Lhigh");
	T_EQ_INT(store_challenge_create(st, &c, &jti, NULL), MFA_OK);
	if ((i = q_find(st, Q_QUEUED)) < STORE_BATCH_SLOTS_V1) {
		memcpy(q_slot(st, STORE_BATCH_SLOTS - 1), q_slot(st, i),
		    STORE_BATCH_SLOT_SIZE);
		q_set(st, i, Q_FREE);
	}
	T_EQ_INT(q_find(st, Q_QUEUED), STORE_BATCH_SLOTS - 1);
	T_TRUE(store_batch_jti_queued(st, jti.client_id, jti.jti));
	T_TRUE(!q_seen(st, c.id));
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	store_close(st);

	/* counters from before a rollback are reset; the 64 slots stay */
	q_header("queue-v1", 0x6d666153796e6331ULL, 0, 0);
	q_synced("queue-v1", (uint64_t)1 << 40);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS_V1);
	store_close(st);

	/* a file of the build before messages rode in slots (its magic,
	 * 128 slots): an oob challenge with a message is committed with
	 * it, never queued, for a process of that build would drop it */
	q_header("queue-v1", 0x6d666153796e6332ULL, STORE_BATCH_SLOTS, 0);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS);
	c = q_oob("auth_challenge_LM", "user-lm", 77);
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 0);
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), 3);
	c = make_challenge("auth_challenge_LN", CT_OTP, 9000, 0);
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1); /* the rest is queued */
	store_close(st);

	/* a file of the build before (its magic, 128 slots, messages): an
	 * oob challenge is queued with its message, and its commit writes
	 * the oob_code index entry a process of that build, still serving
	 * during an upgrade, finds the code by; a slot a writer that died
	 * had committed is taken in once; a damaged slot whose oob_code
	 * another challenge has is dropped, not left to fail every commit */
	q_header("queue-v1", 0x6d666153796e6333ULL, STORE_BATCH_SLOTS, 0);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS);
	n = count(st, DB_OOB);
	c = q_oob("auth_challenge_LO", "user-lo", 78);
	send.user_id = "user-lo";
	T_EQ_INT(store_challenge_create(st, &c, NULL, &send), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	i = q_find(st, Q_QUEUED);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(q_seen(st, c.id));
	T_EQ_INT(q_outbox(st, c.id, buf, sizeof(buf)), 3);
	T_EQ_INT(count(st, DB_OOB), n + 1);
	t = begin(st, false);
	T_EQ_INT(store_challenge_by_oob(t, c.oob_hash, id), MFA_OK);
	T_EQ_STR(id, c.id);
	store_txn_abort(t);
	q_set(st, i, Q_APPLYING);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_EQ_INT(count(st, DB_OOB), n + 1);
	T_EQ_INT(q_bucket(st, "pstn:user-lo"), 2);
	c = q_oob("auth_challenge_LP", "user-lp", 78);
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(store_txn_commit(begin(st, true)), MFA_OK);
	T_TRUE(!q_seen(st, c.id));
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_EQ_INT(count(st, DB_OOB), n + 1);
	store_close(st);

	/* a damaged count (none, too many) is replaced */
	q_header("queue-v1", 0x6d666153796e6332ULL, 500, 0);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS);
	store_close(st);
	q_header("queue-v1", 0x6d666153796e6332ULL, 0, 0);
	if ((st = q_open("queue-v1", 60000)) == NULL)
		return;
	T_EQ_INT(store_sync_slots(st), STORE_BATCH_SLOTS);
	store_close(st);
}

/* A counter of sync.state's header ("off": synced 8, nsyncs 32,
 * ndurable 40). */
static uint64_t
q_counter(const char *name, off_t off)
{
	uint64_t v = 0;
	int fd;

	if ((fd = q_state_open(name)) < 0)
		return 0;
	T_EQ_INT(pread(fd, &v, 8, off), 8);
	close(fd);
	return v;
}

/* One durable write: a bucket "key" put by a commit of kind "deferred". */
static int
q_put(struct store *st, const char *key, bool deferred)
{
	struct bucket b = { 3, 1000 };
	struct store_txn *t = begin(st, true);

	if (t == NULL)
		return MFA_ERR_STORE;
	T_EQ_INT(store_bucket_put(t, key, &b), MFA_OK);
	return deferred ? store_txn_commit_deferred(t) : store_txn_commit(t);
}

/*
 * Deferred commits: synced before the commit returns unless the process
 * defers; then owed, not synced, until store_sync_wait makes one sync
 * for all of them (counted as that many durable commits); a close syncs
 * what is still owed.
 */
static void
test_batch_deferred(void)
{
	const char *q = "deferred";
	struct store *st = q_open(q, 60000);
	uint64_t synced, nsyncs;

	if (st == NULL)
		return;
	T_EQ_INT(q_put(st, "d:0", true), MFA_OK); /* not deferring: synced */
	T_EQ_INT(store_sync_owed(st), 0);
	T_EQ_INT(q_counter(q, 32), 1);
	T_EQ_INT(q_counter(q, 40), 1);
	synced = q_counter(q, 8);
	T_TRUE(synced > 0);

	store_sync_defer(st, true);
	T_EQ_INT(q_put(st, "d:1", true), MFA_OK);
	T_EQ_INT(q_put(st, "d:2", true), MFA_OK);
	T_EQ_INT(store_sync_owed(st), 2);
	T_EQ_INT(q_counter(q, 32), 1); /* no sync yet */
	T_EQ_INT(q_counter(q, 8), synced);
	T_EQ_INT(store_sync_wait(st), MFA_OK);
	T_EQ_INT(store_sync_owed(st), 0);
	T_EQ_INT(q_counter(q, 32), 2); /* one sync for both */
	T_EQ_INT(q_counter(q, 40), 3);
	T_EQ_INT(q_counter(q, 8), synced + 2);
	T_EQ_INT(store_sync_wait(st), MFA_OK); /* nothing owed: no sync */
	T_EQ_INT(q_counter(q, 32), 2);

	/* a durable commit covers what was deferred before it */
	T_EQ_INT(q_put(st, "d:3", true), MFA_OK);
	T_EQ_INT(q_put(st, "d:4", false), MFA_OK);
	T_EQ_INT(q_counter(q, 32), 3);
	T_EQ_INT(store_sync_wait(st), MFA_OK);
	T_EQ_INT(q_counter(q, 32), 3);
	T_EQ_INT(q_counter(q, 40), 5);

	/* the close syncs what is owed */
	T_EQ_INT(q_put(st, "d:5", true), MFA_OK);
	nsyncs = q_counter(q, 32);
	store_close(st);
	T_EQ_INT(q_counter(q, 32), nsyncs + 1);
	T_EQ_INT(q_counter(q, 8), synced + 5);

	/* without group commit LMDB syncs each commit: nothing is owed */
	if ((st = q_open("deferred-plain", -1)) == NULL)
		return;
	store_sync_defer(st, true);
	T_EQ_INT(q_put(st, "d:0", true), MFA_OK);
	T_EQ_INT(store_sync_owed(st), 0);
	T_EQ_INT(store_sync_wait(st), MFA_OK);
	store_close(st);
}

/*
 * store_sync_all: a batched commit is not synced until a sync covers it;
 * store_sync_all makes that sync (counted, covering the commit's txnid,
 * no durable commit counted), and with nothing new a second one makes
 * none; without group commit there is nothing to do.
 */
static void
test_batch_sync_all(void)
{
	const char *q = "sync-all";
	struct store *st = q_open(q, 60000);
	struct store_txn *t;
	struct bucket b = { 1, 1 };
	uint64_t nsyncs;

	if (st == NULL)
		return;
	t = begin(st, true);
	T_EQ_INT(store_bucket_put(t, "s:1", &b), MFA_OK);
	T_EQ_INT(store_txn_commit_batched(t), MFA_OK);
	nsyncs = q_counter(q, 32);
	T_TRUE(q_counter(q, 8) < q_counter(q, 16)); /* synced < batched */
	T_EQ_INT(store_sync_all(st), MFA_OK);
	T_EQ_INT(q_counter(q, 32), nsyncs + 1);
	T_TRUE(q_counter(q, 8) >= q_counter(q, 16));
	T_EQ_INT(q_counter(q, 40), 0);
	T_EQ_INT(store_sync_all(st), MFA_OK); /* covered: no sync */
	T_EQ_INT(q_counter(q, 32), nsyncs + 1);
	store_close(st);
	/* not attached: a sync of its own (nothing to count it by) */
	if ((st = q_open("sync-all-plain", -1)) == NULL)
		return;
	T_EQ_INT(store_sync_all(st), MFA_OK);
	store_close(st);
}

/* Is bucket "key" committed (seen by a read transaction)? */
static bool
q_has(struct store *st, const char *key)
{
	struct store_txn *t = begin(st, false);
	struct bucket b;
	int rc;

	if (t == NULL)
		return false;
	rc = store_bucket_get(t, key, &b);
	store_txn_abort(t);
	return rc == MFA_OK;
}

static uint64_t
q_txnid(struct store *st)
{
	MDB_envinfo info;

	mdb_env_info(st->env, &info);
	return (uint64_t)info.me_last_txnid;
}

/*
 * Combined commits (store_combine.c): armed, a deferred commit stays open
 * as a run's outer transaction; the deferred commits after it merge into
 * it, seen by the writes nested after them but not by readers, and it is
 * committed once and synced once; an aborted nested write drops only its
 * own part; a durable commit ends the run and syncs it; queued challenges
 * the outer took in are settled by its commit; an outer commit that fails
 * makes store_sync_wait fail with its error; disarmed, or in a process
 * that does not defer, a deferred commit commits at once.
 */
static void
test_batch_combined(void)
{
	const char *q = "combined";
	struct store *st = q_open(q, 60000);
	struct challenge_rec c = make_challenge("auth_challenge_C1", CT_OTP,
	    9000, 0), c2 = make_challenge("auth_challenge_C2", CT_OTP, 9000, 0),
	    got;
	struct store_txn *t, *t2 = NULL;
	struct bucket b = { 3, 1000 };
	uint64_t txn0, nsyncs, ndurable;

	if (st == NULL)
		return;
	store_sync_defer(st, true);
	store_combine_arm(st, true);
	txn0 = q_txnid(st);
	T_EQ_INT(q_put(st, "c:1", true), MFA_OK);
	T_TRUE(st->outer != NULL); /* kept open as the run's */
	T_EQ_INT(store_sync_owed(st), 1);
	T_TRUE(!q_has(st, "c:1")); /* not committed: a reader sees before */
	if ((t = begin(st, true)) != NULL) {
		/* one nested transaction at a time: LMDB refuses a second */
		T_TRUE(store_txn_begin(st, true, &t2) != MFA_OK);
		T_TRUE(t2 == NULL);
		T_EQ_INT(store_bucket_get(t, "c:1", &b), MFA_OK); /* nested */
		T_EQ_INT(store_bucket_put(t, "c:x", &b), MFA_OK);
		store_txn_abort(t);
	}
	T_EQ_INT(q_put(st, "c:2", true), MFA_OK);
	T_EQ_INT(store_sync_owed(st), 2);
	T_EQ_INT(q_txnid(st), txn0);
	nsyncs = q_counter(q, 32);
	ndurable = q_counter(q, 40);
	T_EQ_INT(store_combine_end(st), MFA_OK);
	T_TRUE(st->outer == NULL);
	T_EQ_INT(q_txnid(st), txn0 + 1); /* one commit for both */
	T_TRUE(q_has(st, "c:1") && q_has(st, "c:2") && !q_has(st, "c:x"));
	T_EQ_INT(q_counter(q, 32), nsyncs); /* owed, not synced yet */
	T_EQ_INT(store_sync_wait(st), MFA_OK);
	T_EQ_INT(q_counter(q, 32), nsyncs + 1);
	T_EQ_INT(q_counter(q, 40), ndurable + 2);
	T_EQ_INT(q_counter(q, 8), txn0 + 1);

	/* a durable commit ends the run, synced before it returns */
	T_EQ_INT(q_put(st, "c:3", true), MFA_OK);
	T_EQ_INT(q_put(st, "c:4", false), MFA_OK);
	T_TRUE(st->outer == NULL);
	T_EQ_INT(q_counter(q, 32), nsyncs + 2);
	T_EQ_INT(q_counter(q, 8), txn0 + 2);
	T_TRUE(q_has(st, "c:3") && q_has(st, "c:4"));
	T_EQ_INT(store_sync_wait(st), MFA_OK); /* covered: no other sync */
	T_EQ_INT(q_counter(q, 32), nsyncs + 2);

	/* a queued challenge the outer transaction took in stays APPLYING
	 * until it commits, which frees the slot; a nested write takes in
	 * what was queued since, not the outer's slots again */
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(q_count(st, Q_QUEUED), 1);
	if ((t = begin(st, true)) != NULL) {
		T_EQ_INT(store_challenge_get(t, c.id, &got), MFA_OK);
		T_EQ_INT(t->nbatch, 1);
		T_EQ_INT(store_txn_commit_deferred(t), MFA_OK);
	}
	T_EQ_INT(q_count(st, Q_APPLYING), 1);
	T_EQ_INT(store_challenge_create(st, &c2, NULL, NULL), MFA_OK);
	if ((t = begin(st, true)) != NULL) {
		T_EQ_INT(t->nbatch, 1); /* c2 only */
		T_EQ_INT(store_challenge_get(t, c.id, &got), MFA_OK);
		T_EQ_INT(store_challenge_get(t, c2.id, &got), MFA_OK);
		T_EQ_INT(store_txn_commit_deferred(t), MFA_OK);
	}
	T_EQ_INT(q_count(st, Q_APPLYING), 2);
	T_TRUE(!q_seen(st, c.id) && !q_seen(st, c2.id));
	T_EQ_INT(store_combine_end(st), MFA_OK);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	T_TRUE(q_seen(st, c.id) && q_seen(st, c2.id));
	T_EQ_INT(store_sync_wait(st), MFA_OK);

	/* the outer commit fails: the held commits are lost, and the wait
	 * answers with the outer commit's error */
	T_EQ_INT(q_put(st, "c:5", true), MFA_OK);
	T_EQ_INT(q_put(st, "c:6", true), MFA_OK);
	if (st->outer != NULL)
		st->outer->err = MFA_ERR_IO; /* as after a failed write */
	T_EQ_INT(store_combine_end(st), MFA_ERR_IO);
	T_EQ_INT(store_sync_wait(st), MFA_ERR_IO);
	T_EQ_INT(store_sync_owed(st), 0);
	T_TRUE(!q_has(st, "c:5") && !q_has(st, "c:6"));
	T_EQ_INT(store_sync_wait(st), MFA_OK);
	T_EQ_INT(store_combine_end(st), MFA_OK); /* no run: nothing */

	/* disarmed: committed at once, owed its sync */
	store_combine_arm(st, false);
	txn0 = q_txnid(st);
	T_EQ_INT(q_put(st, "c:7", true), MFA_OK);
	T_TRUE(st->outer == NULL && q_has(st, "c:7"));
	T_EQ_INT(q_txnid(st), txn0 + 1);
	T_EQ_INT(store_sync_wait(st), MFA_OK);

	/* a process that does not defer: arming does nothing */
	store_sync_defer(st, false);
	store_combine_arm(st, true);
	T_EQ_INT(q_put(st, "c:8", true), MFA_OK);
	T_TRUE(st->outer == NULL && q_has(st, "c:8"));
	store_close(st);
}

/* The byte of sync.live whose lock marks a pid live (store_sync.c). */
#define Q_MARK_BASE ((off_t)1 << 40)

/*
 * A child process that holds the liveness mark of "pid" in "name"'s
 * sync.live until "*release" is closed; -1 when it could not take it.
 */
static pid_t
q_mark_child(const char *name, int32_t pid, int *release)
{
	char path[PATH_MAX], rel[64], ok = 0;
	struct flock fl;
	int up[2], down[2], fd;
	pid_t child;

	snprintf(rel, sizeof(rel), "%s/sync.live", name);
	sub(path, sizeof(path), rel);
	if (pipe(up) != 0)
		return -1;
	if (pipe(down) != 0 || (child = fork()) < 0) {
		close(up[0]);
		close(up[1]);
		return -1;
	}
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = Q_MARK_BASE + pid;
		fl.l_len = 1;
		fd = open(path, O_RDWR | O_CREAT, 0600);
		ok = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0;
		if (write(up[1], &ok, 1) != 1)
			_exit(1);
		_exit(read(down[0], &ok, 1) == 0 ? 0 : 1); /* until released */
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &ok, 1) != 1)
		ok = 0;
	close(up[0]);
	*release = down[1];
	return ok ? child : -1;
}

/* Lets the child of q_mark_child go and reaps it. */
static void
q_mark_release(pid_t child, int release)
{
	int status;

	close(release);
	/* its status is not asked: under valgrind a child exits 3 for the
	 * parent's blocks it inherited */
	if (child > 0)
		T_TRUE(waitpid(child, &status, 0) == child);
}

/*
 * A slot FILLING for a poster this process cannot see (kill(2) finds no
 * such pid: as from another pid namespace) is kept while a process holds
 * the poster's liveness mark, and freed once it does not.
 */
static void
test_batch_foreign_poster(void)
{
	const int32_t far = 0xfffff0; /* above every pid (2^22) */
	uint64_t w = (uint64_t)7 << 32 | (uint64_t)far << 8 | Q_FILLING;
	struct store *st = q_open("queue-foreign", 60000);
	int release = -1;
	pid_t child;

	if (st == NULL)
		return;
	child = q_mark_child("queue-foreign", far, &release);
	T_TRUE(child > 0);
	memcpy(q_slot(st, q_find(st, Q_FREE)), &w, sizeof(w));
	store_batch_reclaim(st);
	T_EQ_INT(q_count(st, Q_FILLING), 1); /* its mark is held: kept */
	q_mark_release(child, release);
	store_batch_reclaim(st);
	T_EQ_INT(q_count(st, Q_FILLING), 0);
	T_EQ_INT(q_count(st, Q_FREE), STORE_BATCH_SLOTS);
	store_close(st);
}

/*
 * A process that queues holds its mark through its commits and syncs
 * (the sync lock, flock(2) on sync.state, must not touch it), as another
 * process sees it; one that only attaches (mfactl) takes none.
 */
static void
test_batch_mark_held(void)
{
	struct challenge_rec c = make_challenge("auth_challenge_M1", CT_OTP,
	    9000, 0);
	struct store *st = q_open("queue-mark", 60000), *o;
	char path[PATH_MAX];
	struct flock fl;
	int fds[2], fd, status;
	pid_t parent = getpid(), child;
	char seen = 0;

	if (st == NULL)
		return;
	T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
	T_EQ_INT(q_put(st, "m:1", true), MFA_OK); /* a durable commit */
	sub(path, sizeof(path), "queue-mark/sync.live");
	T_TRUE(pipe(fds) == 0);
	if ((child = fork()) == 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = Q_MARK_BASE + parent;
		fl.l_len = 1;
		fd = open(path, O_RDWR);
		seen = fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 &&
		    fl.l_type == F_WRLCK && fl.l_pid == parent;
		_exit(write(fds[1], &seen, 1) == 1 ? 0 : 1);
	}
	T_TRUE(child > 0 && read(fds[0], &seen, 1) == 1 && seen == 1);
	T_TRUE(child > 0 && waitpid(child, &status, 0) == child);
	close(fds[0]);
	close(fds[1]);
	store_close(st);
	/* attached without queueing: no mark, so a child can take the byte */
	o = q_open("queue-mark", -1);
	if (o != NULL)
		T_EQ_INT(store_sync_attach(o), MFA_OK);
	child = q_mark_child("queue-mark", (int32_t)getpid(), &fd);
	T_TRUE(child > 0);
	q_mark_release(child, fd);
	store_close(o);
}

/*
 * A process whose pid is marked live by another (of another pid
 * namespace) queues nothing: its challenges are committed at once. Once
 * the mark is free, the next open queues again.
 */
static void
test_batch_pid_taken(void)
{
	struct challenge_rec c = make_challenge("auth_challenge_P1", CT_OTP,
	    9000, 0);
	struct store *st = q_open("queue-taken", 60000);
	int release = -1;
	pid_t child;

	store_close(st); /* the file exists; this process's mark is let go */
	child = q_mark_child("queue-taken", (int32_t)getpid(), &release);
	T_TRUE(child > 0);
	if ((st = q_open("queue-taken", 60000)) != NULL) {
		T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
		T_EQ_INT(q_count(st, Q_QUEUED), 0);
		T_TRUE(q_seen(st, c.id)); /* committed, not queued */
	}
	store_close(st);
	q_mark_release(child, release);
	if ((st = q_open("queue-taken", 60000)) != NULL) {
		snprintf(c.id, sizeof(c.id), "auth_challenge_P2");
		T_EQ_INT(store_challenge_create(st, &c, NULL, NULL), MFA_OK);
		T_EQ_INT(q_count(st, Q_QUEUED), 1);
		T_TRUE(!q_seen(st, c.id)); /* queued */
	}
	store_close(st);
}

static void
test_store_batch(void)
{
	struct store *st = q_open("queue", 60000);

	if (st != NULL) {
		test_batch_queue(st);
		test_batch_dead_writer(st);
		test_batch_jti(st);
		test_batch_bad_jti(st);
		test_batch_send(st);
		test_batch_outbox(st);
		test_batch_direct(st);
	}
	store_close(st);
	test_batch_lifecycle();
	test_batch_foreign_poster();
	test_batch_pid_taken();
	test_batch_mark_held();
	test_batch_layout();
	test_batch_deferred();
	test_batch_sync_all();
	test_batch_combined();
}

void
test_store(void)
{
	struct store *st = NULL;
	struct keys *keys = NULL;
	char path[PATH_MAX];

	if (mkdtemp(base) == NULL) {
		T_TRUE(!"mkdtemp");
		return;
	}
	test_store_open();
	test_store_schema();
	test_store_migrate();
	T_EQ_INT(store_open(&st, sub(path, sizeof(path), "main"), MAPSIZE,
	    STORE_CREATE), MFA_OK);
	T_EQ_INT(keys_create(path), MFA_OK);
	T_EQ_INT(keys_load(path, &keys), MFA_OK);
	if (st != NULL && keys != NULL) {
		test_store_client(st);
		test_store_authn(st);
		test_store_token_bucket(st);
		test_store_challenge(st);
		test_store_poison(st);
		test_token(st, keys);
		test_challenge(st, keys);
		test_challenge_find_oob(st, keys);
	}
	keys_free(keys);
	store_close(st);
	test_store_sweep();
	test_store_jti();
	test_store_jti_expiry();
	test_store_batch();
	rm_tree(base);
}
