/*
 * test_store_writer.c - the group-commit writer: ordering, durability,
 * batching, per-request failure isolation, and surviving a full disk or a
 * lock held by someone else.
 *
 * done() runs on the writer thread, where cmocka must not assert: the
 * callbacks only record, and the test thread checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

#include "store/store_fx.h"
#include "store/store_raw.h"

/* ---- requests and their completion ---- */

struct treq {
	struct store_req r;          /* first: done() gets back to us */
	struct store_change ch[2];
	char aor[32];
	char contact[48];
	atomic_int calls;
	int seq;                     /* order in which done() ran */
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_count;
static pthread_t done_thread;
static atomic_bool done_wrong_thread;

static void treq_done(struct store_req *r)
{
	struct treq *t = (struct treq *)r;

	atomic_fetch_add(&t->calls, 1);
	pthread_mutex_lock(&done_lock);
	if (done_count == 0)
		done_thread = pthread_self();
	else if (!pthread_equal(done_thread, pthread_self()))
		atomic_store(&done_wrong_thread, true);
	t->seq = done_count++;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

static void done_reset(void)
{
	pthread_mutex_lock(&done_lock);
	done_count = 0;
	pthread_mutex_unlock(&done_lock);
	atomic_store(&done_wrong_thread, false);
}

static void done_wait(int n)
{
	pthread_mutex_lock(&done_lock);
	while (done_count < n)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
}

static void treq_put(struct treq *t, int64_t id, const char *aor)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->aor, sizeof(t->aor), "%s", aor);
	snprintf(t->contact, sizeof(t->contact), "<sip:%s;n=%lld>", aor, (long long)id);
	t->ch[0] = (struct store_change){
		.op = STORE_PUT,
		.b = { .id = id, .aor = t->aor, .contact = t->contact, .call_id = "cid",
		       .cseq = 1, .expires = 1000000, .updated = 1, .source = "udp:127.0.0.1:5060",
		       .user_agent = "" },
	};
	t->r.changes = t->ch;
	t->r.nchanges = 1;
	t->r.done = treq_done;
	t->r.result = 12345;     /* must be overwritten */
}

static int count_cb(const struct store_binding *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static int count_bindings(struct store *s, const char *aor)
{
	int n = 0;

	assert_int_equal(store_list_bindings(s, aor, 0, count_cb, &n), 0);
	return n;
}

/* ---- tests ---- */

static void test_writer_order(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct treq t[5];

	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	assert_int_equal(store_writer_start(s), -EALREADY);
	treq_put(&t[0], 1, "a@x");
	treq_put(&t[1], 2, "a@x");
	treq_put(&t[2], 3, "b@x");
	/* Submission order is application order: PUT 1 then DEL 1. */
	treq_put(&t[3], 1, "a@x");
	t[3].ch[0] = (struct store_change){ .op = STORE_DEL, .b.id = 1 };
	treq_put(&t[4], 0, "b@x");
	t[4].ch[0] = (struct store_change){ .op = STORE_DEL_AOR, .b.aor = "b@x" };
	for (int i = 0; i < 5; i++)
		store_submit(s, &t[i].r);
	done_wait(5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(t[i].r.result, 0);
		assert_int_equal(atomic_load(&t[i].calls), 1);
		assert_int_equal(t[i].seq, i);        /* FIFO */
	}
	assert_false(atomic_load(&done_wrong_thread));
	assert_false(pthread_equal(done_thread, pthread_self()));
	store_writer_stop(s);
	store_writer_stop(s);       /* idempotent */
	assert_int_equal(count_bindings(s, "a@x"), 1);
	assert_int_equal(count_bindings(s, "b@x"), 0);
	store_close(s);
}

/* A pending purge rides along with the registrations' commits (and runs
 * on its own between them): expired rows go, live ones stay. */
static void test_purge_with_batches(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_change old[500];
	struct treq t[12];

	for (int i = 0; i < 500; i++)
		old[i] = (struct store_change){
			.op = STORE_PUT,
			.b = { .id = 100000 + i, .aor = "old@x", .contact = "<sip:old@x>", .call_id = "o",
			       .cseq = 1, .expires = 100, .updated = 1, .source = "s", .user_agent = "" },
		};
	assert_int_equal(store_apply(s, old, 500), 0);
	assert_int_equal(count_bindings(s, "old@x"), 500);
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	store_purge_request(s, 200);
	for (int i = 0; i < 12; i++) {
		treq_put(&t[i], 1 + i, "live@x");
		store_submit(s, &t[i].r);
		done_wait(i + 1);
		assert_int_equal(t[i].r.result, 0);
	}
	for (int i = 0; i < 200 && count_bindings(s, "old@x") > 0; i++)
		usleep(10000);
	assert_int_equal(count_bindings(s, "old@x"), 0);
	assert_int_equal(count_bindings(s, "live@x"), 12);
	store_writer_stop(s);
	store_close(s);
}

static void test_submit_not_running(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct treq t;

	done_reset();
	treq_put(&t, 1, "a@x");
	store_submit(s, &t.r);
	assert_int_equal(atomic_load(&t.calls), 1);
	assert_int_equal(t.r.result, -ESHUTDOWN);
	/* Start/stop/start again works. */
	assert_int_equal(store_writer_start(s), 0);
	store_writer_stop(s);
	assert_int_equal(store_writer_start(s), 0);
	done_reset();
	treq_put(&t, 1, "a@x");
	store_submit(s, &t.r);
	store_close(s);            /* stops the writer, draining first */
	assert_int_equal(atomic_load(&t.calls), 1);
	assert_int_equal(t.r.result, 0);
}

static void test_invalid_request(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct treq t[3];

	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	treq_put(&t[0], 1, "a@x");
	treq_put(&t[1], 2, "a@x");
	t[1].ch[0].b.call_id = NULL;
	treq_put(&t[2], 3, "a@x");
	t[2].r.nchanges = 0;       /* nothing to do is fine */
	for (int i = 0; i < 3; i++)
		store_submit(s, &t[i].r);
	done_wait(3);
	assert_int_equal(t[0].r.result, 0);
	assert_int_equal(t[1].r.result, -EINVAL);
	assert_int_equal(t[2].r.result, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(t[i].seq, i);
	store_writer_stop(s);
	assert_int_equal(count_bindings(s, "a@x"), 1);
	store_close(s);
}

/* A request failing inside SQLite is undone alone; its neighbours commit. */
static void test_request_isolation(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	sqlite3 *db = raw_open(f->path);
	struct treq t[3];

	raw_exec(db, "CREATE TRIGGER t_bad BEFORE INSERT ON bindings WHEN NEW.aor = 'bad@x'"
		 " BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	treq_put(&t[0], 1, "a@x");
	treq_put(&t[1], 2, "b@x");
	t[1].ch[1] = t[1].ch[0];
	t[1].ch[1].b.id = 3;
	t[1].ch[1].b.aor = "bad@x";
	t[1].r.nchanges = 2;
	treq_put(&t[2], 4, "c@x");
	/* Hold the write lock so all three queue up and share one batch. */
	raw_exec(db, "BEGIN IMMEDIATE");
	for (int i = 0; i < 3; i++)
		store_submit(s, &t[i].r);
	usleep(50 * 1000);
	raw_exec(db, "COMMIT");
	done_wait(3);
	assert_int_equal(t[0].r.result, 0);
	assert_true(t[1].r.result < 0);
	assert_int_equal(t[2].r.result, 0);
	store_writer_stop(s);
	sqlite3_close(db);
	assert_int_equal(count_bindings(s, "a@x"), 1);
	assert_int_equal(count_bindings(s, "b@x"), 0);    /* first half undone too */
	assert_int_equal(count_bindings(s, "bad@x"), 0);
	assert_int_equal(count_bindings(s, "c@x"), 1);
	store_close(s);
}

#define GC_THREADS 4
#define GC_PER 500

struct gc_arg {
	struct store *s;
	struct treq *t;
	int base;
};

static void *gc_submitter(void *p)
{
	struct gc_arg *a = p;

	for (int i = 0; i < GC_PER; i++) {
		char aor[32];
		int id = a->base + i;

		snprintf(aor, sizeof(aor), "u%d@x", id % 37);
		treq_put(&a->t[i], id, aor);
		store_submit(a->s, &a->t[i].r);
	}
	return NULL;
}

static int id_seen_cb(const struct store_binding *b, void *arg)
{
	unsigned char *seen = arg;

	if (b->id < 1 || b->id > GC_THREADS * GC_PER)
		return -ERANGE;
	seen[b->id]++;
	return 0;
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct treq *t = calloc(GC_THREADS * GC_PER, sizeof(*t));
	unsigned char *seen = calloc(GC_THREADS * GC_PER + 1, 1);
	struct gc_arg a[GC_THREADS];
	pthread_t th[GC_THREADS];
	uint64_t batches = 0, reqs = 0;
	struct timespec t0, t1;
	int64_t max = 0;

	assert_non_null(t);
	assert_non_null(seen);
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < GC_THREADS; i++) {
		a[i] = (struct gc_arg){ .s = s, .t = t + i * GC_PER, .base = 1 + i * GC_PER };
		assert_int_equal(pthread_create(&th[i], NULL, gc_submitter, &a[i]), 0);
	}
	for (int i = 0; i < GC_THREADS; i++)
		pthread_join(th[i], NULL);
	done_wait(GC_THREADS * GC_PER);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_writer_stats(s, &batches, &reqs);
	store_writer_stop(s);
	for (int i = 0; i < GC_THREADS * GC_PER; i++) {
		assert_int_equal(atomic_load(&t[i].calls), 1);
		assert_int_equal(t[i].r.result, 0);
	}
	assert_false(atomic_load(&done_wrong_thread));
	assert_int_equal(reqs, GC_THREADS * GC_PER);
	/* One fsync per batch, not per request. */
	assert_true(batches < reqs);
	fprintf(stderr, "   group commit: %d requests in %llu batches, %.0f ms\n",
		GC_THREADS * GC_PER, (unsigned long long)batches,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	store_close(s);

	s = fx_open(f);
	assert_int_equal(store_load_bindings(s, 0, id_seen_cb, seen), 0);
	for (int i = 1; i <= GC_THREADS * GC_PER; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(store_max_binding_id(s, &max), 0);
	assert_int_equal(max, GC_THREADS * GC_PER);
	store_close(s);
	free(seen);
	free(t);
}

/* Stop right after submitting: every queued request still gets its done(). */
static void test_stop_drains(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	enum { N = 3000 };   /* more than one batch's worth */
	struct treq *t = calloc(N, sizeof(*t));
	uint64_t batches = 0, reqs = 0;

	assert_non_null(t);
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	for (int i = 0; i < N; i++) {
		treq_put(&t[i], i + 1, "a@x");
		store_submit(s, &t[i].r);
	}
	store_writer_stop(s);
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&t[i].calls), 1);
		assert_int_equal(t[i].r.result, 0);
		assert_int_equal(t[i].seq, i);
	}
	/* No batch is larger than STORE_BATCH_MAX. */
	store_writer_stats(s, &batches, &reqs);
	assert_int_equal(reqs, N);
	assert_true(batches >= (N + STORE_BATCH_MAX - 1) / STORE_BATCH_MAX);
	assert_int_equal(count_bindings(s, "a@x"), N);
	store_close(s);
	free(t);
}

/* A full disk (simulated with RLIMIT_FSIZE) fails the batch; freeing space
 * lets the very same writer succeed again. */
static void test_disk_full_recovers(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct rlimit old, lim;
	struct treq t[4];

	/* SIGXFSZ keeps its default (fatal) action: only the writer writes
	 * while the limit is low, and it blocks the signal. */
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	treq_put(&t[0], 1, "a@x");
	store_submit(s, &t[0].r);
	done_wait(1);
	assert_int_equal(t[0].r.result, 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	treq_put(&t[1], 2, "a@x");
	treq_put(&t[2], 3, "a@x");
	store_submit(s, &t[1].r);
	store_submit(s, &t[2].r);
	done_wait(3);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* EFBIG reaches SQLite as an I/O error, a real ENOSPC as SQLITE_FULL. */
	assert_true(t[1].r.result == -EIO || t[1].r.result == -ENOSPC);
	assert_int_equal(t[2].r.result, t[1].r.result);
	assert_int_equal(store_user_put(s, "a", "x", "", ""), 0);   /* space is back */

	treq_put(&t[3], 4, "a@x");
	store_submit(s, &t[3].r);
	done_wait(4);
	assert_int_equal(t[3].r.result, 0);
	store_writer_stop(s);
	store_close(s);

	s = fx_open(f);
	assert_int_equal(count_bindings(s, "a@x"), 2);   /* ids 1 and 4 */
	store_close(s);
}

/* Another connection holds the write lock past busy_timeout: -EBUSY rather
 * than blocking forever; works again once it lets go. */
static void test_lock_held_recovers(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	sqlite3 *db = raw_open(f->path);
	struct treq t[2];

	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	raw_exec(db, "BEGIN IMMEDIATE");
	treq_put(&t[0], 1, "a@x");
	store_submit(s, &t[0].r);
	done_wait(1);
	assert_int_equal(t[0].r.result, -EBUSY);
	raw_exec(db, "COMMIT");
	treq_put(&t[1], 2, "a@x");
	store_submit(s, &t[1].r);
	done_wait(2);
	assert_int_equal(t[1].r.result, 0);
	store_writer_stop(s);
	sqlite3_close(db);
	assert_int_equal(count_bindings(s, "a@x"), 1);
	store_close(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Holds the write lock for hold_ms on its own connection. */
struct holder {
	const char *path;
	int hold_ms;
	atomic_bool locked;
};

static void *hold_lock(void *p)
{
	struct holder *h = p;
	sqlite3 *db = raw_open(h->path);

	raw_exec(db, "BEGIN IMMEDIATE");
	atomic_store(&h->locked, true);
	usleep((useconds_t)h->hold_ms * 1000);
	raw_exec(db, "COMMIT");
	sqlite3_close(db);
	return NULL;
}

/* A lock that outlasts the busy timeout is stuck: the batches after the
 * first fail fast (requests for one AOR come one batch after another, so
 * each would otherwise wait the full timeout).  Once a batch gets
 * through, a lock that is only passing is waited for again. */
static void test_lock_stuck_fails_fast(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	sqlite3 *db = raw_open(f->path);
	struct holder h = { .path = f->path, .hold_ms = 800 };
	struct treq t[5];
	pthread_t th;
	double t0;

	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	raw_exec(db, "BEGIN IMMEDIATE");
	t0 = now_s();
	treq_put(&t[0], 1, "a@x");
	store_submit(s, &t[0].r);
	done_wait(1);
	assert_int_equal(t[0].r.result, -EBUSY);
	assert_true(now_s() - t0 >= 1.9);
	for (int i = 1; i < 3; i++) {
		t0 = now_s();
		treq_put(&t[i], i + 1, "a@x");
		store_submit(s, &t[i].r);
		done_wait(i + 1);
		assert_int_equal(t[i].r.result, -EBUSY);
		assert_true(now_s() - t0 < 1.0);
	}
	raw_exec(db, "COMMIT");
	treq_put(&t[3], 4, "a@x");
	store_submit(s, &t[3].r);
	done_wait(4);
	assert_int_equal(t[3].r.result, 0);
	/* a lock held 0.8 s is waited for again */
	assert_int_equal(pthread_create(&th, NULL, hold_lock, &h), 0);
	while (!atomic_load(&h.locked))
		usleep(1000);
	treq_put(&t[4], 5, "a@x");
	store_submit(s, &t[4].r);
	done_wait(5);
	pthread_join(th, NULL);
	assert_int_equal(t[4].r.result, 0);
	store_writer_stop(s);
	sqlite3_close(db);
	assert_int_equal(count_bindings(s, "a@x"), 2);
	store_close(s);
}

/* The writer and the synchronous API on the same file at the same time. */
struct sync_arg {
	struct store *s;
	int failures;
};

static void *sync_applier(void *p)
{
	struct sync_arg *a = p;

	for (int i = 0; i < 100; i++) {
		struct store_change ch = {
			.op = STORE_PUT,
			.b = { .id = 100000 + i, .aor = "sync@x", .contact = "c", .call_id = "i",
			       .expires = 1000000, .source = "s", .user_agent = "" },
		};

		if (store_apply(a->s, &ch, 1) != 0)
			a->failures++;
	}
	return NULL;
}

static void test_apply_alongside_writer(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	enum { N = 500 };
	struct treq *t = calloc(N, sizeof(*t));
	struct sync_arg a = { .s = s };
	pthread_t th;

	assert_non_null(t);
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	assert_int_equal(pthread_create(&th, NULL, sync_applier, &a), 0);
	for (int i = 0; i < N; i++) {
		treq_put(&t[i], i + 1, "w@x");
		store_submit(s, &t[i].r);
	}
	pthread_join(th, NULL);
	done_wait(N);
	store_writer_stop(s);
	assert_int_equal(a.failures, 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(t[i].r.result, 0);
	assert_int_equal(count_bindings(s, "w@x"), N);
	assert_int_equal(count_bindings(s, "sync@x"), 100);
	store_close(s);
	free(t);
}

/* Readers, one per thread, look subscribers up while the writer commits. */
struct rd_arg {
	struct store *s;
	int ok;
	int bad;
};

static void *reader_thread(void *p)
{
	struct rd_arg *a = p;
	struct store_reader *r = store_reader_new(a->s);
	struct store_user u;

	if (!r) {
		a->bad = -1;
		return NULL;
	}
	for (int i = 0; i < 300; i++) {
		if (store_user_get(r, SL("alice"), SL("Example.com"), &u) == 0 &&
		    strcmp(u.ha1_md5, "abc") == 0 && store_domain_exists(r, SL("example.com")) == 0)
			a->ok++;
		else
			a->bad++;
	}
	store_reader_free(r);
	return NULL;
}

static void test_readers_during_writes(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	enum { N = 500 };
	struct treq *t = calloc(N, sizeof(*t));
	struct rd_arg a[2] = { { .s = s }, { .s = s } };
	pthread_t th[2];

	assert_non_null(t);
	assert_int_equal(store_user_put(s, "alice", "example.com", "abc", ""), 0);
	done_reset();
	assert_int_equal(store_writer_start(s), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &a[i]), 0);
	for (int i = 0; i < N; i++) {
		treq_put(&t[i], i + 1, "r@x");
		store_submit(s, &t[i].r);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	done_wait(N);
	store_writer_stop(s);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(a[i].bad, 0);
		assert_int_equal(a[i].ok, 300);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(t[i].r.result, 0);
	store_close(s);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_writer_order),
		T(test_purge_with_batches),
		T(test_submit_not_running),
		T(test_invalid_request),
		T(test_request_isolation),
		T(test_group_commit),
		T(test_stop_drains),
		T(test_disk_full_recovers),
		T(test_lock_held_recovers),
		T(test_lock_stuck_fails_fast),
		T(test_apply_alongside_writer),
		T(test_readers_during_writes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
