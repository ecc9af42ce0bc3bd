/*
 * store.c - the back-end independent part of the store: argument checks,
 * domain lower-casing, and the group-commit writer thread.
 *
 * Locking: 'lock' serialises the synchronous API on the main connection
 * (one connection must not run two statements from two threads at once);
 * so a load/list callback must not call back into the same store.
 * 'qlock' guards the writer's queue and state only; done() callbacks run
 * with neither held, so they may submit again.  store_writer_start/stop and
 * store_close are called by one controlling thread.
 */
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"

struct store {
	const struct store_ops *ops;
	char *path;
	struct store_conn *main;
	pthread_mutex_t lock;

	/* Writer: queue and state under qlock. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct store_req *qhead;
	struct store_req **qtail;
	bool running;       /* accepting requests (the thread exists) */
	bool stopping;      /* drain what is queued, then exit */
	pthread_t thread;
	struct store_conn *wconn;
	atomic_uint_fast64_t nbatches;
	atomic_uint_fast64_t nreqs;
	atomic_int_least64_t purge_before;  /* writer: purge rows expired by then; 0 none */
};

struct store_reader {
	struct store_conn *c;
};

/* The only back end so far; a "redis://" prefix would choose another. */
static const struct store_ops *store_backend_for(const char *path)
{
	(void)path;
	return &store_sqlite_ops;
}

/*
 * Lower-case a domain into buf (STORE_DOMAIN_MAX + 1 bytes): domains are
 * stored lower-cased so every comparison is a plain, indexable '='.
 */
static int store_lower(sl_t in, char *buf, sl_t *out)
{
	if (in.len > STORE_DOMAIN_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < in.len; i++)
		buf[i] = (char)tolower((unsigned char)in.p[i]);
	buf[in.len] = '\0';
	*out = sl_make(buf, in.len);
	return 0;
}

int store_change_valid(const struct store_change *ch)
{
	const struct store_binding *b = &ch->b;

	switch (ch->op) {
	case STORE_PUT:
		if (!b->aor || !b->contact || !b->call_id || !b->source)
			return -EINVAL;
		return 0;
	case STORE_DEL:
		return 0;
	case STORE_DEL_AOR:
		return b->aor ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int store_changes_valid(const struct store_change *ch, size_t n)
{
	if (n && !ch)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (store_change_valid(&ch[i]) < 0)
			return -EINVAL;
	return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	char dummy[1];

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!path || !*path) {
		snprintf(err, errlen, "no store path given");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		goto out;
	}
	s->ops = store_backend_for(path);
	if (s->ops->open(path, STORE_CONN_MAIN, &s->main, err, errlen) < 0)
		goto out;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	s->qtail = &s->qhead;
	return s;
out:
	if (s)
		free(s->path);
	free(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_writer_stop(s);
	s->ops->close(s->main);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* ---- group-commit writer ---- */

/*
 * Wait for work and take up to STORE_BATCH_MAX requests in FIFO order.
 * Returns 0 once stopping with an empty queue: from then on store_submit
 * refuses, decided under the same lock so no request is stranded.
 */
static size_t store_take(struct store *s, struct store_req **batch, bool *stop)
{
	size_t n = 0;

	pthread_mutex_lock(&s->qlock);
	while (!s->qhead && !s->stopping && !atomic_load(&s->purge_before))
		pthread_cond_wait(&s->qcond, &s->qlock);
	while (s->qhead && n < STORE_BATCH_MAX) {
		batch[n++] = s->qhead;
		s->qhead = s->qhead->next;
	}
	if (!s->qhead)
		s->qtail = &s->qhead;
	*stop = !n && s->stopping;
	if (*stop)
		s->running = false;
	pthread_mutex_unlock(&s->qlock);
	return n;
}

/* One bounded purge chunk, between batches; done when a chunk comes short. */
static void store_purge_step(struct store *s)
{
	int64_t before = atomic_load(&s->purge_before);
	int n;

	if (!before)
		return;
	n = s->ops->purge(s->wconn, before, STORE_PURGE_CHUNK);
	if (n < 0)
		log_rl(LOG_RL_STORE, "store: purging expired bindings failed; will retry");
	if (n < STORE_PURGE_CHUNK)
		atomic_compare_exchange_strong(&s->purge_before, &before, 0);
}

void store_purge_request(struct store *s, int64_t now)
{
	pthread_mutex_lock(&s->qlock);
	atomic_store(&s->purge_before, now);
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
}

/*
 * Run one batch: invalid requests are answered -EINVAL without reaching
 * the back end; the others share one transaction.  done() only after the
 * commit returned, in submission order.
 */
static void store_run_batch(struct store *s, struct store_req **all, size_t n)
{
	struct store_req *valid[STORE_BATCH_MAX];
	int64_t before = atomic_load(&s->purge_before);
	size_t nvalid = 0;
	int purged = 0;

	for (size_t i = 0; i < n; i++) {
		all[i]->next = NULL;
		all[i]->result = store_changes_valid(all[i]->changes, all[i]->nchanges);
		if (all[i]->result == 0)
			valid[nvalid++] = all[i];
	}
	if (nvalid) {
		int rc = s->ops->apply_batch(s->wconn, valid, nvalid, before, STORE_PURGE_PIGGYBACK,
					     &purged);

		/* A short purge means nothing expired is left (up to 'before'). */
		if (rc >= 0 && before && purged < STORE_PURGE_PIGGYBACK)
			atomic_compare_exchange_strong(&s->purge_before, &before, 0);
	}
	atomic_fetch_add(&s->nbatches, 1);
	atomic_fetch_add(&s->nreqs, n);
	for (size_t i = 0; i < n; i++)
		all[i]->done(all[i]);
}

static void *store_writer_main(void *arg)
{
	struct store *s = arg;
	struct store_req *batch[STORE_BATCH_MAX];
	bool stop;
	size_t n;

	for (;;) {
		n = store_take(s, batch, &stop);
		if (stop)
			break;
		/* Expired rows go with the registrations' commits; a chunk
		 * of its own only when none wait. */
		if (n)
			store_run_batch(s, batch, n);
		else
			store_purge_step(s);
	}
	return NULL;
}

/*
 * The writer takes no asynchronous signals: they belong to whoever runs
 * the process (the server's main thread waits for them), and a blocked
 * SIGXFSZ turns a file size limit into a failed batch, not a dead server.
 */
static int store_spawn(struct store *s)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&s->thread, NULL, store_writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int store_writer_start(struct store *s)
{
	char err[256];
	int ret;

	pthread_mutex_lock(&s->qlock);
	ret = s->running || s->wconn ? -EALREADY : 0;
	pthread_mutex_unlock(&s->qlock);
	if (ret)
		return ret;
	/* Its own connection, so the writer never waits on the main lock. */
	ret = s->ops->open(s->path, STORE_CONN_WRITER, &s->wconn, err, sizeof(err));
	if (ret < 0) {
		log_err("store writer: %s", err);
		return ret;
	}
	pthread_mutex_lock(&s->qlock);
	s->running = true;
	s->stopping = false;
	pthread_mutex_unlock(&s->qlock);
	ret = store_spawn(s);
	if (ret < 0) {
		pthread_mutex_lock(&s->qlock);
		s->running = false;
		pthread_mutex_unlock(&s->qlock);
		s->ops->close(s->wconn);
		s->wconn = NULL;
	}
	return ret;
}

void store_writer_stop(struct store *s)
{
	if (!s->wconn)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stopping = true;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->thread, NULL);
	s->ops->close(s->wconn);
	s->wconn = NULL;
	s->stopping = false;
}

void store_submit(struct store *s, struct store_req *r)
{
	bool queued = false;

	r->next = NULL;
	pthread_mutex_lock(&s->qlock);
	if (s->running) {
		*s->qtail = r;
		s->qtail = &r->next;
		queued = true;
		pthread_cond_signal(&s->qcond);
	}
	pthread_mutex_unlock(&s->qlock);
	if (queued)
		return;
	/* No writer thread to call it from: the caller's thread must do. */
	log_rl(LOG_RL_STORE, "store: request submitted while the writer is not running");
	r->result = -ESHUTDOWN;
	r->done(r);
}

void store_writer_stats(struct store *s, uint64_t *batches, uint64_t *requests)
{
	*batches = atomic_load(&s->nbatches);
	*requests = atomic_load(&s->nreqs);
}

/* ---- synchronous API on the main connection ---- */

void store_checkpoint(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->ops->checkpoint(s->main) < 0)
		log_rl(LOG_RL_STORE, "store: checkpoint failed; the WAL keeps growing until one succeeds");
	pthread_mutex_unlock(&s->lock);
}

int store_apply(struct store *s, const struct store_change *ch, size_t n)
{
	int ret = store_changes_valid(ch, n);

	if (ret < 0 || n == 0)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = s->ops->apply(s->main, ch, n);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_load_bindings(struct store *s, int64_t now, store_binding_cb cb, void *arg)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->ops->load(s->main, now, cb, arg);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_list_bindings(struct store *s, const char *aor, int64_t now,
			store_binding_cb cb, void *arg)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->ops->list(s->main, aor, now, cb, arg);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_max_binding_id(struct store *s, int64_t *out)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->ops->max_id(s->main, out);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_purge_expired(struct store *s, int64_t now)
{
	int total = 0, n;

	do {
		pthread_mutex_lock(&s->lock);
		n = s->ops->purge(s->main, now, STORE_PURGE_CHUNK);
		pthread_mutex_unlock(&s->lock);
		if (n < 0)
			return n;
		total += n;
	} while (n == STORE_PURGE_CHUNK);
	return total;
}

/* ---- subscribers ---- */

/* Empty parts are refused: they would make AORs like "@host" or "alice@". */
static int store_user_args(const char *user, const char *domain, char *lc)
{
	sl_t d;

	if (!user || !*user || !domain || !*domain)
		return -EINVAL;
	return store_lower(sl_cstr(domain), lc, &d);
}

static bool store_ha1_ok(const char *h)
{
	return !h || strlen(h) <= STORE_HA1_MAX;
}

int store_user_put(struct store *s, const char *user, const char *domain,
		   const char *ha1_md5, const char *ha1_sha256)
{
	char lc[STORE_DOMAIN_MAX + 1];
	int ret = store_user_args(user, domain, lc);

	if (ret < 0)
		return ret;
	if (!store_ha1_ok(ha1_md5) || !store_ha1_ok(ha1_sha256))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = s->ops->user_put(s->main, user, lc, ha1_md5 ? ha1_md5 : "",
			       ha1_sha256 ? ha1_sha256 : "");
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_user_del(struct store *s, const char *user, const char *domain)
{
	char lc[STORE_DOMAIN_MAX + 1];
	int ret = store_user_args(user, domain, lc);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = s->ops->user_del(s->main, user, lc);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int store_user_list(struct store *s, store_user_cb cb, void *arg)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->ops->user_list(s->main, cb, arg);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ---- per-thread readers ---- */

struct store_reader *store_reader_new(struct store *s)
{
	struct store_reader *r = calloc(1, sizeof(*r));
	char err[256];

	if (!r)
		return NULL;
	if (s->ops->open(s->path, STORE_CONN_READER, &r->c, err, sizeof(err)) < 0) {
		log_err("store reader: %s", err);
		free(r);
		return NULL;
	}
	return r;
}

void store_reader_free(struct store_reader *r)
{
	if (!r)
		return;
	r->c->ops->close(r->c);
	free(r);
}

int store_user_get(struct store_reader *r, sl_t user, sl_t domain, struct store_user *out)
{
	char lc[STORE_DOMAIN_MAX + 1];
	sl_t d;
	int ret = store_lower(domain, lc, &d);

	if (ret < 0)
		return ret;
	if (user.len > INT_MAX)
		return -ENAMETOOLONG;
	return r->c->ops->user_get(r->c, user, d, out);
}

int store_domain_exists(struct store_reader *r, sl_t domain)
{
	char lc[STORE_DOMAIN_MAX + 1];
	sl_t d;
	int ret = store_lower(domain, lc, &d);

	if (ret < 0)
		return ret;
	return r->c->ops->domain_exists(r->c, d);
}
