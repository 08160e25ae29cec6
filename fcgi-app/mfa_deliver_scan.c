/*
 * mfa_deliver_scan.c -- mfa-deliver's scans: the store's outbox (read
 * DELIVER_BATCH messages per read transaction, which is never held while
 * a gateway runs), then the message files of the spool directory, each
 * oldest first; every message that is due goes to deliver_due
 * (mfa_deliver_msg.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "mfa_deliver.h"
#include "spool.h"
#include "store.h"

_Static_assert(STORE_OUTBOX_KEY_MAX + 5 <= DELIVER_NAME_MAX,
    "an outbox key with \".json\" fits a message name");

/* Wipes and frees the bytes of "m". */
static void
deliver_msg_clear(struct msg *m)
{
	if (m->buf != NULL) {
		sodium_memzero(m->buf, m->len);
		free(m->buf);
	}
	m->buf = NULL;
	m->len = 0;
}

/* What one read transaction takes from the outbox. */
struct batch {
	struct agent *a;
	struct msg m[DELIVER_BATCH];
	size_t n;
	char after[DELIVER_NAME_MAX + 1]; /* the last key walked */
	int64_t mono; /* when the transaction began */
	int64_t *next; /* the earliest retry seen */
	bool nomem;
};

/*
 * store_outbox_each's callback: copies outbox message "key" ("len" bytes
 * at "val", valid until the transaction ends) into the batch unless it
 * waits for a retry, and stops the walk when the batch is full. Each walk
 * starts after the last key the one before walked.
 */
static int
deliver_batch_add(void *arg, const char *key, const void *val, size_t len)
{
	struct batch *b = arg;
	struct msg *m = &b->m[b->n];
	int n;

	snprintf(b->after, sizeof(b->after), "%s", key);
	memset(m, 0, sizeof(*m));
	n = snprintf(m->name, sizeof(m->name), "%s.json", key);
	if (n < 0 || (size_t)n >= sizeof(m->name) ||
	    !spool_published_name(m->name, &m->created))
		return 0; /* a key the service does not write: left alone */
	m->outbox = true;
	if (pending_waits(b->a, m, b->mono, b->next))
		return 0;
	/* more than a message may be is refused by spool_parse */
	m->len = len > SPOOL_FILE_MAX ? SPOOL_FILE_MAX + 1 : len;
	if ((m->buf = malloc(m->len + 1)) == NULL) {
		b->nomem = true;
		return 1;
	}
	memcpy(m->buf, val, m->len);
	return ++b->n == DELIVER_BATCH;
}

/*
 * Delivers the outbox's due messages, oldest first, DELIVER_BATCH of them
 * per read transaction, each transaction ended before a gateway runs (a
 * read transaction held long keeps LMDB from reusing the pages freed
 * meanwhile, and the map grows). Waiting, the agent gives the files their
 * turn after DELIVER_PENDING_MAX messages. Returns 0, with the earliest
 * retry in "*next", or -1 when the outbox cannot be read.
 */
static int
deliver_scan_outbox(struct agent *a, int64_t *next)
{
	struct store_txn *txn;
	struct batch b;
	size_t i, taken = 0;
	int rc;

	memset(&b, 0, sizeof(b));
	b.a = a;
	b.next = next;
	pending_unsee(a, true);
	do {
		b.n = 0;
		b.mono = clock_mono_ms();
		if ((rc = store_txn_begin(a->st, false, &txn)) == MFA_OK) {
			rc = store_outbox_each(txn, b.after, deliver_batch_add,
			    &b);
			store_txn_abort(txn);
		}
		if (rc == MFA_OK && b.nomem)
			rc = MFA_ERR_NOMEM;
		/* nothing leaves before its commit is on disk: a power loss
		 * would undo a challenge whose code was out already */
		if (rc != MFA_OK)
			log_error("deliver: cannot read the outbox of %s: %s",
			    a->o.db, mfa_strerror(rc));
		else if (b.n > 0 && (rc = store_sync_all(a->st)) != MFA_OK)
			log_error("deliver: cannot sync the store %s: its %zu "
			    "message(s) stay in the outbox", a->o.db, b.n);
		for (i = 0; i < b.n; i++) {
			if (rc == MFA_OK && !deliver_stop)
				deliver_due(a, &b.m[i], next);
			deliver_msg_clear(&b.m[i]);
		}
		taken += b.n;
	} while (rc == MFA_OK && b.n == DELIVER_BATCH && !deliver_stop &&
	    (a->o.once || taken < DELIVER_PENDING_MAX));
	if (rc != MFA_OK)
		return -1;
	if (b.n == DELIVER_BATCH) /* more after the files' turn */
		*next = clock_mono_ms();
	else if (!deliver_stop) /* forget what the sweep removed */
		pending_prune(a, true);
	return 0;
}

static int
deliver_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
deliver_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Appends a copy of "name" to "*names" ("*n" of "*cap"); false (errno)
 * when memory runs out. */
static bool
deliver_add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	char **grown;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		if ((grown = realloc(*names, *cap * sizeof(**names))) == NULL)
			return false;
		*names = grown;
	}
	if (((*names)[*n] = strdup(name)) == NULL)
		return false;
	(*n)++;
	return true;
}

/* The published names in the spool, sorted (oldest first), "*n" of them;
 * NULL with errno when the directory cannot be read whole. */
static char **
deliver_list(struct agent *a, size_t *n)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;
	int fd, err = 0;
	mfa_ms t;
	DIR *d;

	*n = 0;
	if ((fd = dup(a->dirfd)) < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	rewinddir(d);
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
		if (spool_published_name(e->d_name, &t) &&
		    !deliver_add_name(&names, n, &cap, e->d_name))
			break;
	err = errno;
	closedir(d);
	if (err == 0 && names == NULL && (names = calloc(1, sizeof(*names)))
	    == NULL)
		err = ENOMEM;
	if (err != 0) {
		deliver_free_names(names, *n);
		errno = err;
		return NULL;
	}
	if (*n > 1)
		qsort(names, *n, sizeof(*names), deliver_cmp);
	return names;
}

/*
 * Delivers the spool's due files, oldest first. Returns 0, with the
 * earliest retry in "*next", or -1 when the spool cannot be read.
 */
static int
deliver_scan_files(struct agent *a, int64_t *next)
{
	struct msg m;
	char **names;
	size_t n, i;

	if ((names = deliver_list(a, &n)) == NULL) {
		log_error("deliver: cannot read %s: %s", a->o.spool,
		    strerror(errno));
		return -1;
	}
	pending_unsee(a, false);
	for (i = 0; i < n && !deliver_stop; i++) {
		memset(&m, 0, sizeof(m));
		/* a published name always fits */
		snprintf(m.name, sizeof(m.name), "%s", names[i]);
		if (spool_published_name(m.name, &m.created) &&
		    !pending_waits(a, &m, clock_mono_ms(), next))
			deliver_due(a, &m, next);
	}
	deliver_free_names(names, n);
	/* forget what someone else removed (unless the scan was cut short) */
	if (!deliver_stop)
		pending_prune(a, false);
	return 0;
}

/* True when the spool directory was removed under the agent. */
static bool
deliver_spool_gone(const struct agent *a)
{
	struct stat st;

	return fstat(a->dirfd, &st) != 0 || st.st_nlink == 0;
}

int
deliver_scan(struct agent *a, int64_t *next)
{
	*next = -1;
	a->scanned_mono = clock_mono_ms();
	log_debug("deliver: scanning %s%s", a->st != NULL ? "the outbox and " :
	    "", a->o.spool);
	if (deliver_spool_gone(a)) {
		log_error("deliver: the spool %s was removed", a->o.spool);
		return -1;
	}
	if (a->st != NULL && deliver_scan_outbox(a, next) < 0)
		return -1;
	return deliver_stop ? 0 : deliver_scan_files(a, next);
}
