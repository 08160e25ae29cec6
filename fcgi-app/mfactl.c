/*
 * mfactl.c -- the admin CLI: global options, output, and the commands that
 * are not about clients or users (init, token, challenge, sweep).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "challenge.h"
#include "clock.h"
#include "jsonmem.h"
#include "log.h"
#include "mfactl.h"
#include "signing.h"
#include "spool.h"
#include "token.h"

static const char usage_text[] =
"usage: mfactl [--db DIR] [--config FILE] [--json] COMMAND [ARGS]\n"
"\n"
"Administers the store of the MFA challenge service (mfa.fcgi).\n"
"\n"
"Global options:\n"
"  --db DIR        the store directory (default: $MFA_DB, then the\n"
"                  configuration's db key, then ./var)\n"
"  --config FILE   read this configuration file (default: $MFA_CONFIG)\n"
"  --json          print exactly one JSON object on standard output\n"
"  --help          this text;  --version  the version\n"
"\n"
"Commands:\n"
"  init                               create the store, its master key\n"
"                                     (master.key, mode 0400) and spool\n"
"  client add NAME [--challenge-types \"otp oob\"] [--auth METHOD]\n"
"        [--alg ALG --key FILE [--kid KID]]\n"
"                                     register a client; prints client_id\n"
"                                     and client_secret (shown only once).\n"
"                                     METHOD: client_secret_basic (default),\n"
"                                     client_secret_post, client_secret_jwt,\n"
"                                     private_key_jwt (--alg EdDSA|RS256|\n"
"                                     RS384|PS256|ES256, --key: PEM key,\n"
"                                     certificate, JWK or JWKS) or none (a\n"
"                                     public client: Bearer-only MFA API)\n"
"  client add-key ID --key FILE [--kid KID]\n"
"  client rm-key ID KID|THUMBPRINT    rotate a private_key_jwt client's keys\n"
"  client list                        list clients\n"
"  client show ID                     show one client\n"
"  client rotate-secret ID            issue a new secret; the old one\n"
"                                     stops working at once\n"
"  client rm ID                       remove a client\n"
"  user enroll USER --type otp [--secret BASE32] [--algorithm SHA1|SHA256|\n"
"        SHA512] [--digits 6|8] [--period SECONDS] [--issuer NAME]\n"
"        [--qr FILE]                  enroll a TOTP authenticator; prints\n"
"                                     its id, secret and otpauth:// URI;\n"
"                                     --qr writes the URI's QR code (PNG)\n"
"  user enroll USER --type oob --channel sms|voice|email --to DEST\n"
"                                     enroll an out-of-band authenticator\n"
"                                     (DEST: E.164 phone or e-mail)\n"
"  user list                          list users and their authenticators\n"
"  user show USER                     one user's authenticators with their\n"
"                                     state (active, unconfirmed, expired)\n"
"                                     and the recovery codes left\n"
"  user rm-factor USER ID             remove one authenticator\n"
"  user rm USER                       remove a user's authenticators and\n"
"                                     recovery codes\n"
"  user recovery-codes USER           replace the user's recovery codes\n"
"                                     with 10 fresh ones (printed once)\n"
"  token issue --client ID --user USER [--scope SCOPE] [--ttl SECONDS]\n"
"                                     issue an mfa_token (default lifetime:\n"
"                                     the token_ttl key, 600 s)\n"
"  challenge show ID                  show a challenge (WorkOS object plus\n"
"                                     state, type, client, user, attempts)\n"
"  sweep                              delete expired tokens and challenges\n"
"                                     in bounded batches\n"
"  store grow SIZE                    raise the LMDB map size (K, M, G, T);\n"
"                                     running workers adopt it\n"
"  store info                         the map size\n"
"  spool                              messages waiting for delivery, in the\n"
"                                     store's outbox and the spool (pending,\n"
"                                     outbox, the oldest one's age in\n"
"                                     seconds), and set aside in failed/\n"
"  keys rotate                        new result-token signing key; the old\n"
"                                     one stays published until its tokens\n"
"                                     expire\n"
"  keys list                          list signing keys (kids and dates)\n"
"\n"
"Environment: MFA_DB, MFA_CONFIG and every MFA_<KEY> of mfa.fcgi(8).\n"
"Exit status: 0 success, 1 error, 2 usage error.\n"
"See mfactl(8).\n";

int
mfactl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay("mfactl", fmt, ap);
	va_end(ap);
	return 1;
}

int
mfactl_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay("mfactl", fmt, ap);
	va_end(ap);
	fputs("Run \"mfactl --help\" for usage.\n", stderr);
	return 2;
}

int
mfactl_open(struct mfactl *m)
{
	int rc;

	rc = store_open(&m->store, m->cfg.db, m->cfg.map_size, 0);
	if (rc == MFA_ERR_NOTFOUND)
		return mfactl_fail("no store at %s (run \"mfactl --db %s "
		    "init\")", m->cfg.db, m->cfg.db);
	if (rc != MFA_OK)
		return mfactl_fail("cannot open the store %s: %s", m->cfg.db,
		    mfa_strerror(rc));
	/* commit the challenges the service queued, so that mfactl reads
	 * every one it acknowledged */
	if ((rc = store_sync_attach(m->store)) != MFA_OK)
		fprintf(stderr, "mfactl: warning: challenges the service "
		    "queued in %s/sync.state are not committed (%s); they may "
		    "not show yet\n", m->cfg.db, mfa_strerror(rc));
	if ((rc = keys_load(m->cfg.db, &m->keys)) != MFA_OK)
		return mfactl_fail("cannot load %s/%s: %s", m->cfg.db,
		    KEYS_FILE, mfa_strerror(rc));
	return 0;
}

int
mfactl_list(struct mfactl *m, const char *name,
    int (*walk)(struct store_txn *txn, json_t *list))
{
	struct store_txn *txn;
	json_t *list = json_array();
	int rc;

	if (list == NULL || mfactl_open(m) != 0) {
		json_decref(list);
		return 1;
	}
	if ((rc = store_txn_begin(m->store, false, &txn)) != MFA_OK) {
		json_decref(list);
		return mfactl_fail("store: %s", mfa_strerror(rc));
	}
	rc = walk(txn, list);
	store_txn_abort(txn);
	if (rc != MFA_OK) {
		json_decref(list);
		return mfactl_fail("cannot list %s: %s", name,
		    mfa_strerror(rc));
	}
	m->result = json_pack("{s:o}", name, list);
	return 0;
}

json_t *
mfactl_time(mfa_ms t)
{
	char buf[CLOCK_ISO_LEN];

	if (t == 0 || clock_iso8601(t, buf, sizeof(buf)) != MFA_OK)
		return json_null();
	return json_string(buf);
}

int
mfactl_commit(struct store_txn *txn, const char *what)
{
	int rc = store_txn_commit(txn);

	return rc == MFA_OK ? 0 : mfactl_fail("%s: %s", what,
	    mfa_strerror(rc));
}

/* Checks that "dir" is a directory, creating it (mode 0755 less the
 * umask) when "make" and it is missing; 0, or 1 after saying why not. */
static int
mfactl_dir(const char *dir, bool make)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : mfactl_fail("%s is not a "
		    "directory", dir);
	if (errno != ENOENT || !make)
		return errno == ENOENT ? 0 : mfactl_fail("cannot use %s: %s",
		    dir, strerror(errno));
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return mfactl_fail("cannot create the directory %s: %s", dir,
		    strerror(errno));
	return mfactl_dir(dir, false); /* made meanwhile: a directory? */
}

/* Creates the missing directories above "path", as mkdir -p does, and
 * checks that none of them, nor "path" if it exists, is something else. */
static int
mfactl_mkdir_parents(const char *path)
{
	char buf[PATH_MAX], *p;
	int n;

	if ((n = snprintf(buf, sizeof(buf), "%s", path)) < 0 ||
	    (size_t)n >= sizeof(buf))
		return mfactl_fail("the store path is too long");
	while (n > 1 && buf[n - 1] == '/') /* "var/" is var, made 0700 */
		buf[--n] = '\0';
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mfactl_dir(buf, true) != 0)
			return 1;
		*p = '/';
	}
	return mfactl_dir(buf, false);
}

/* init: the directory (and the missing ones above it), LMDB files, the
 * master key and the spool. */
static int
mfactl_init(struct mfactl *m)
{
	char spool[PATH_MAX], kid[RECORD_KID_LEN + 1];
	struct store_txn *txn;
	const char *dir;
	bool created, key_new;
	int rc;

	if (mfactl_mkdir_parents(m->cfg.db) != 0)
		return 1;
	rc = store_open(&m->store, m->cfg.db, m->cfg.map_size, STORE_CREATE);
	if (rc != MFA_OK)
		return mfactl_fail("cannot create the store %s: %s",
		    m->cfg.db, mfa_strerror(rc));
	rc = keys_create(m->cfg.db);
	if (rc != MFA_OK && rc != MFA_ERR_EXISTS)
		return mfactl_fail("cannot create %s/%s: %s", m->cfg.db,
		    KEYS_FILE, strerror(errno));
	created = rc == MFA_OK;
	if ((rc = keys_load(m->cfg.db, &m->keys)) != MFA_OK)
		return mfactl_fail("cannot load %s/%s: %s", m->cfg.db,
		    KEYS_FILE, mfa_strerror(rc));
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = signing_key_ensure(txn, m->keys, m->now, kid, &key_new)) !=
	    MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot create a signing key: %s",
		    mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot create a signing key") != 0)
		return 1;
	if ((dir = config_spool_dir(&m->cfg, spool, sizeof(spool))) == NULL)
		return mfactl_fail("the spool directory name is too long");
	if (spool_init(dir) != MFA_OK)
		return mfactl_fail("cannot create the spool directory %s",
		    spool);
	m->result = json_pack("{s:s, s:b, s:s}", "db", m->cfg.db, "created",
	    created, "spool", dir);
	return 0;
}

/* Parses a decimal TTL in 1..86400 seconds. */
static int
mfactl_ttl(const char *s, int64_t *out)
{
	long v;

	if (!cli_number(s, 1, 86400, &v))
		return -1;
	*out = v;
	return 0;
}

/* token issue --client ID --user USER [--scope S] [--ttl SECONDS] */
static int
mfactl_token(struct mfactl *m, int argc, char **argv)
{
	const char *client = NULL, *user = NULL, *scope = NULL, *v;
	char token[MFA_HANDLE_LEN + 1];
	struct client_rec c;
	struct store_txn *txn;
	int64_t ttl = m->cfg.token_ttl;
	int i, rc;

	if (argc < 1 || strcmp(argv[0], "issue") != 0)
		return mfactl_usage("token: expected \"token issue\"");
	for (i = 1; i < argc; i++) {
		if ((v = cli_opt(argc, argv, &i, "--client")) != NULL)
			client = v;
		else if ((v = cli_opt(argc, argv, &i, "--user")) != NULL)
			user = v;
		else if ((v = cli_opt(argc, argv, &i, "--scope")) != NULL)
			scope = v;
		else if ((v = cli_opt(argc, argv, &i, "--ttl")) != NULL) {
			if (mfactl_ttl(v, &ttl) != 0)
				return mfactl_usage("--ttl: a number of "
				    "seconds from 1 to 86400");
		} else
			return mfactl_usage("token issue: unexpected \"%s\"",
			    argv[i]);
	}
	if (client == NULL || user == NULL)
		return mfactl_usage("token issue needs --client and --user");
	if (user[0] == '\0' || strlen(user) > MFA_USER_ID_MAX)
		return mfactl_usage("--user: 1 to %d bytes", MFA_USER_ID_MAX);
	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, true, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	if ((rc = store_client_get(txn, client, &c)) != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("client %s: %s", client, mfa_strerror(rc));
	}
	rc = token_issue(txn, m->keys, client, user, scope, ttl, m->now,
	    token);
	if (rc != MFA_OK) {
		store_txn_abort(txn);
		return mfactl_fail("cannot issue a token: %s",
		    mfa_strerror(rc));
	}
	if (mfactl_commit(txn, "cannot issue a token") != 0)
		return 1;
	m->result = json_pack("{s:s, s:I, s:s, s:s}", "mfa_token", token,
	    "expires_in", (json_int_t)ttl, "client_id", client, "user_id",
	    user);
	sodium_memzero(token, sizeof(token));
	return 0;
}

/* challenge show ID */
static int
mfactl_challenge(struct mfactl *m, int argc, char **argv)
{
	struct challenge_rec c;
	struct store_txn *txn;
	int rc;

	if (argc != 2 || strcmp(argv[0], "show") != 0)
		return mfactl_usage("challenge: expected \"challenge show ID\"");
	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_txn_begin(m->store, false, &txn)) != MFA_OK)
		return mfactl_fail("store: %s", mfa_strerror(rc));
	rc = store_challenge_get(txn, argv[1], &c);
	store_txn_abort(txn);
	if (rc != MFA_OK)
		return mfactl_fail("challenge %s: %s", argv[1],
		    mfa_strerror(rc));
	m->result = challenge_to_json(&c, true);
	return 0;
}

static int
mfactl_sweep(struct mfactl *m)
{
	size_t deleted;
	int rc;

	if (mfactl_open(m) != 0)
		return 1;
	if ((rc = store_sweep(m->store, m->now, 256, SIZE_MAX, &deleted)) !=
	    MFA_OK)
		return mfactl_fail("sweep: %s", mfa_strerror(rc));
	m->result = json_pack("{s:I}", "deleted", (json_int_t)deleted);
	return 0;
}

/* Prints "v" as indented "key: value" text. */
static void
mfactl_print_text(const json_t *v, int indent, const char *key)
{
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		if (key != NULL)
			printf("%*s%s:\n", indent, "", key);
		json_object_foreach((json_t *)(uintptr_t)v, k, item)
			mfactl_print_text(item, indent + (key ? 2 : 0), k);
	} else if (json_is_array(v)) {
		printf("%*s%s:\n", indent, "", key ? key : "");
		json_array_foreach(v, i, item) {
			if (json_is_object(item))
				printf("%*s-\n", indent + 2, "");
			mfactl_print_text(item, indent + 4, NULL);
		}
	} else if (json_is_string(v)) {
		printf("%*s%s%s%s\n", indent, "", key ? key : "",
		    key ? ": " : "", json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		printf("%*s%s%s%s\n", indent, "", key ? key : "",
		    key ? ": " : "", s ? s : "?");
		free(s);
	}
}

static int
mfactl_dispatch(struct mfactl *m, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "init") == 0)
		return argc == 1 ? mfactl_init(m) :
		    mfactl_usage("init takes no arguments");
	if (strcmp(cmd, "client") == 0)
		return mfactl_client(m, argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return mfactl_user(m, argc - 1, argv + 1);
	if (strcmp(cmd, "token") == 0)
		return mfactl_token(m, argc - 1, argv + 1);
	if (strcmp(cmd, "challenge") == 0)
		return mfactl_challenge(m, argc - 1, argv + 1);
	if (strcmp(cmd, "keys") == 0)
		return mfactl_keys(m, argc - 1, argv + 1);
	if (strcmp(cmd, "store") == 0)
		return mfactl_store(m, argc - 1, argv + 1);
	if (strcmp(cmd, "spool") == 0)
		return mfactl_spool(m, argc - 1, argv + 1);
	if (strcmp(cmd, "sweep") == 0)
		return argc == 1 ? mfactl_sweep(m) :
		    mfactl_usage("sweep takes no arguments");
	return mfactl_usage("unknown command \"%s\"", cmd);
}

int
main(int argc, char **argv)
{
	struct mfactl m;
	const char *db = NULL, *conf = NULL, *v;
	char err[512];
	bool json = false;
	int i, rc;

	memset(&m, 0, sizeof(m));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("mfactl " MFA_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((v = cli_opt(argc, argv, &i, "--db")) != NULL) {
			db = v;
		} else if ((v = cli_opt(argc, argv, &i, "--config")) !=
		    NULL) {
			conf = v;
		} else {
			return mfactl_usage("unknown option \"%s\"", argv[i]);
		}
	}
	if (i >= argc)
		return mfactl_usage("no command given");
	if (sodium_init() < 0)
		return mfactl_fail("cannot initialise libsodium");
	jsonmem_init();
	if (config_load(&m.cfg, conf, err, sizeof(err)) != MFA_OK)
		return mfactl_fail("%s", err);
	if (db != NULL && config_set(&m.cfg, "db", db, err, sizeof(err)) !=
	    MFA_OK)
		return mfactl_usage("--db: %s", err);
	log_init("mfactl", LOG_LVL_WARN);
	m.now = clock_now_ms();
	rc = mfactl_dispatch(&m, argc - i, argv + i);
	if (rc == 0 && m.result == NULL)
		rc = mfactl_fail("out of memory");
	if (rc == 0 && json) {
		char *s = json_dumps(m.result, JSON_COMPACT);

		if (s == NULL)
			rc = mfactl_fail("out of memory");
		else
			puts(s);
		free(s);
	} else if (rc == 0) {
		mfactl_print_text(m.result, 0, NULL);
	}
	json_decref(m.result);
	keys_free(m.keys);
	store_close(m.store);
	return rc;
}
