/*
 * test_nonce.c - nonce issue/check, opaque, the used-nc table (eviction
 * floor, lazy expiry) and a concurrency smoke test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "auth/auth.h"
#include "auth/auth_int.h"   /* table occupancy, for the lazy-expiry test */

#define REALM "example.com"
#define URI "sip:example.com"
#define NOW ((time_t)1700000000)
#define TTL 300u

/* ---- nonces ---- */

static void test_nonce_format(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16);
	char n1[AUTH_NONCE_MAX + 1], n2[AUTH_NONCE_MAX + 1];

	(void)state;
	assert_non_null(a);
	assert_int_equal(auth_nonce_new(a, AUTH_MD5, NOW, n1), 44);
	assert_int_equal(strlen(n1), 44);
	assert_int_equal(strspn(n1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 44);
	/* same time, same algorithm: the random part still makes them differ */
	assert_int_equal(auth_nonce_new(a, AUTH_MD5, NOW, n2), 44);
	assert_string_not_equal(n1, n2);
	assert_int_equal(auth_nonce_new(a, (enum auth_alg)9, NOW, n2), 0);
	assert_string_equal(n2, "");
	auth_free(a);
}

static void test_nonce_check(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16);
	char n[AUTH_NONCE_MAX + 1];

	(void)state;
	assert_non_null(a);
	for (int alg = 0; alg < AUTH_ALG__COUNT; alg++) {
		auth_nonce_new(a, (enum auth_alg)alg, NOW, n);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)alg, NOW), AUTH_NONCE_OK);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)!alg, NOW), AUTH_NONCE_BAD);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)5, NOW), AUTH_NONCE_BAD);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)alg, NOW + TTL), AUTH_NONCE_OK);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)alg, NOW + TTL + 1),
				 AUTH_NONCE_EXPIRED);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)alg, NOW - 5), AUTH_NONCE_OK);
		assert_int_equal(auth_nonce_check(a, sl_cstr(n), (enum auth_alg)alg, NOW - 6), AUTH_NONCE_BAD);
	}
	auth_free(a);
}

/* Extreme clocks must neither overflow nor pass. */
static void test_nonce_extreme_times(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16);
	char n[AUTH_NONCE_MAX + 1];
	const time_t tmax = (time_t)INT64_MAX, tmin = (time_t)INT64_MIN;

	(void)state;
	auth_nonce_new(a, AUTH_MD5, tmax, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_MD5, tmax), AUTH_NONCE_OK);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_MD5, tmin), AUTH_NONCE_BAD);
	auth_nonce_new(a, AUTH_MD5, tmin, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_MD5, tmax), AUTH_NONCE_EXPIRED);
	auth_nonce_new(a, AUTH_MD5, 0, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_MD5, 0), AUTH_NONCE_OK);
	auth_free(a);
}

static void test_nonce_garbage(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16);
	char n[AUTH_NONCE_MAX + 1], m[AUTH_NONCE_MAX + 8];

	(void)state;
	auth_nonce_new(a, AUTH_SHA256, NOW, n);
	assert_int_equal(auth_nonce_check(a, SL(""), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	assert_int_equal(auth_nonce_check(a, SL_NULL, AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	assert_int_equal(auth_nonce_check(a, sl_make(n, 43), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	assert_int_equal(auth_nonce_check(a, sl_make(n, 40), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	snprintf(m, sizeof(m), "%sA", n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(m), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	snprintf(m, sizeof(m), "%s====", n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(m), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	assert_int_equal(auth_nonce_check(a, SL("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	/* standard base64 letters instead of url ones */
	memcpy(m, n, sizeof(n));
	m[3] = '+';
	assert_int_equal(auth_nonce_check(a, sl_cstr(m), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	m[3] = '/';
	assert_int_equal(auth_nonce_check(a, sl_cstr(m), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	m[3] = '\0';
	assert_int_equal(auth_nonce_check(a, sl_make(m, 44), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	/* every single-character change is caught */
	for (size_t i = 0; i < 44; i++) {
		memcpy(m, n, sizeof(n));
		m[i] = m[i] == 'x' ? 'y' : 'x';
		assert_int_equal(auth_nonce_check(a, sl_cstr(m), AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	}
	/* a nonce that ends exactly at the slice end (no NUL after it) */
	memcpy(m, n, 44);
	assert_int_equal(auth_nonce_check(a, sl_make(m, 44), AUTH_SHA256, NOW), AUTH_NONCE_OK);
	auth_free(a);
}

static void test_nonce_other_ctx(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16), *b = auth_new(TTL, 16);
	char n[AUTH_NONCE_MAX + 1];

	(void)state;
	auth_nonce_new(a, AUTH_MD5, NOW, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_MD5, NOW), AUTH_NONCE_OK);
	assert_int_equal(auth_nonce_check(b, sl_cstr(n), AUTH_MD5, NOW), AUTH_NONCE_BAD);
	auth_free(a);
	auth_free(b);
}

static void test_opaque(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 16), *b = auth_new(TTL, 16);

	(void)state;
	assert_int_equal(strlen(auth_opaque(a)), 32);
	assert_int_equal(strspn(auth_opaque(a), "0123456789abcdef"), 32);
	assert_ptr_equal(auth_opaque(a), auth_opaque(a));
	assert_string_not_equal(auth_opaque(a), auth_opaque(b));
	auth_free(a);
	auth_free(b);
	auth_free(NULL);
}

/* ---- a client ---- */

struct client {
	enum auth_alg alg;
	char nonce[AUTH_NONCE_MAX + 1];
	char ha1[AUTH_HA1_HEX_MAX + 1];
	char nc[9];
	char resp[AUTH_HA1_HEX_MAX + 1];
	struct auth_cred c;
};

static void client_answer(struct auth_ctx *a, struct client *k, unsigned nc)
{
	auth_ha1(k->alg, "alice", REALM, "secret", k->ha1);
	snprintf(k->nc, sizeof(k->nc), "%08x", nc);
	auth_response(k->alg, sl_cstr(k->ha1), sl_cstr(k->nonce), sl_cstr(k->nc), SL("c1"),
		      SL("auth"), SL("REGISTER"), SL(URI), k->resp);
	memset(&k->c, 0, sizeof(k->c));
	k->c.scheme = SL("Digest");
	k->c.username = SL("alice");
	k->c.realm = SL(REALM);
	k->c.nonce = sl_cstr(k->nonce);
	k->c.uri = SL(URI);
	k->c.response = sl_cstr(k->resp);
	k->c.algorithm = sl_cstr(auth_alg_name(k->alg));
	k->c.cnonce = SL("c1");
	k->c.opaque = sl_cstr(auth_opaque(a));
	k->c.qop = SL("auth");
	k->c.nc = sl_cstr(k->nc);
}

static void client_new(struct auth_ctx *a, struct client *k, time_t issued)
{
	k->alg = AUTH_SHA256;
	assert_int_equal(auth_nonce_new(a, k->alg, issued, k->nonce), 44);
	client_answer(a, k, 1);
}

static enum auth_result try_nc(struct auth_ctx *a, struct client *k, unsigned nc, time_t now)
{
	client_answer(a, k, nc);
	return auth_verify(a, &k->c, SL("REGISTER"), SL(REALM), sl_cstr(k->ha1), now);
}

/* ---- the used-nc table ---- */

static void test_table_eviction_floor(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 2);
	struct client x, y, z, w;
	char n[AUTH_NONCE_MAX + 1];

	(void)state;
	assert_non_null(a);
	client_new(a, &x, NOW - 30);
	client_new(a, &y, NOW - 20);
	client_new(a, &z, NOW - 10);
	assert_int_equal(try_nc(a, &x, 1, NOW), AUTH_OK);
	assert_int_equal(try_nc(a, &y, 1, NOW), AUTH_OK);
	assert_int_equal(try_nc(a, &z, 1, NOW), AUTH_OK);     /* evicts x */

	/* x is forgotten, so x is expired: neither its old nc nor a new one passes */
	assert_int_equal(try_nc(a, &x, 1, NOW), AUTH_STALE);
	assert_int_equal(try_nc(a, &x, 2, NOW), AUTH_STALE);
	assert_int_equal(auth_nonce_check(a, x.c.nonce, AUTH_SHA256, NOW), AUTH_NONCE_EXPIRED);
	/* and so is any nonce issued at or before it, used or not */
	auth_nonce_new(a, AUTH_SHA256, NOW - 30, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_SHA256, NOW), AUTH_NONCE_EXPIRED);
	auth_nonce_new(a, AUTH_SHA256, NOW - 29, n);
	assert_int_equal(auth_nonce_check(a, sl_cstr(n), AUTH_SHA256, NOW), AUTH_NONCE_OK);
	/* wrong digest on a floored nonce is FAIL, as on any expired one */
	try_nc(a, &x, 3, NOW);
	x.c.response = z.c.response;
	assert_int_equal(auth_verify(a, &x.c, SL("REGISTER"), SL(REALM), sl_cstr(x.ha1), NOW), AUTH_FAIL);

	/* y and z are still tracked */
	assert_int_equal(try_nc(a, &y, 1, NOW), AUTH_STALE);
	assert_int_equal(try_nc(a, &y, 2, NOW), AUTH_OK);
	assert_int_equal(try_nc(a, &z, 1, NOW), AUTH_STALE);

	/* eviction is by insertion order; the floor takes the evicted issue time,
	 * which also retires an older nonce inserted later */
	client_new(a, &w, NOW - 25);
	assert_int_equal(try_nc(a, &w, 1, NOW), AUTH_OK);     /* evicts y (NOW-20) */
	assert_int_equal(auth_nonce_check(a, w.c.nonce, AUTH_SHA256, NOW), AUTH_NONCE_EXPIRED);
	assert_int_equal(try_nc(a, &w, 2, NOW), AUTH_STALE);
	assert_int_equal(try_nc(a, &y, 3, NOW), AUTH_STALE);
	assert_int_equal(try_nc(a, &z, 2, NOW), AUTH_OK);
	auth_free(a);
}

static void test_table_lazy_expiry(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 100);
	struct client k[5];

	(void)state;
	for (int i = 0; i < 4; i++) {
		client_new(a, &k[i], NOW + i);
		assert_int_equal(try_nc(a, &k[i], 1, NOW + i), AUTH_OK);
	}
	assert_int_equal(a->nct.count, 4);
	/* k[0], k[1] are now past their ttl: the next insertion drops them */
	client_new(a, &k[4], NOW + TTL + 2);
	assert_int_equal(try_nc(a, &k[4], 1, NOW + TTL + 2), AUTH_OK);
	assert_int_equal(a->nct.count, 3);
	assert_int_equal(try_nc(a, &k[2], 2, NOW + TTL + 2), AUTH_OK);
	assert_int_equal(try_nc(a, &k[1], 2, NOW + TTL + 1), AUTH_STALE);  /* even on an older clock */
	assert_int_equal(try_nc(a, &k[1], 2, NOW + TTL + 2), AUTH_STALE);
	auth_free(a);
}

/* nc_table_max 0 still yields a working (tiny) table. */
static void test_table_min_size(void **state)
{
	struct auth_ctx *a = auth_new(TTL, 0);
	struct client k;

	(void)state;
	assert_non_null(a);
	client_new(a, &k, NOW);
	assert_int_equal(try_nc(a, &k, 1, NOW), AUTH_OK);
	assert_int_equal(try_nc(a, &k, 1, NOW), AUTH_STALE);
	assert_int_equal(try_nc(a, &k, 2, NOW), AUTH_OK);
	auth_free(a);
}

/* More nonces than the table holds, each issued a second after the last:
 * bucket chains are walked and unlinked right, and exactly the newest
 * 'max' stay tracked while every older one is retired by the floor. */
static void test_table_many(void **state)
{
	enum { N = 600, MAX = 256 };
	struct auth_ctx *a = auth_new(1000, MAX);
	static struct client k[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		client_new(a, &k[i], NOW - N + i);
		assert_int_equal(try_nc(a, &k[i], 1, NOW), AUTH_OK);
		assert_int_equal(try_nc(a, &k[i], 1, NOW), AUTH_STALE);
	}
	assert_int_equal(a->nct.count, MAX);
	for (int i = N - 1; i >= N - MAX; i--) {
		assert_int_equal(try_nc(a, &k[i], 1, NOW), AUTH_STALE);
		assert_int_equal(try_nc(a, &k[i], 2, NOW), AUTH_OK);
	}
	for (int i = 0; i < N - MAX; i++)
		assert_int_equal(try_nc(a, &k[i], 5, NOW), AUTH_STALE);
	assert_int_equal(a->nct.count, MAX);
	auth_free(a);
}

/* ---- concurrency ---- */

enum { THREADS = 4, ROUNDS = 200 };

struct shared {
	struct auth_ctx *a;
	char nonce[AUTH_NONCE_MAX + 1];        /* one nonce hammered by all threads */
	atomic_int ok_per_nc[ROUNDS + 1];
	atomic_int fails;
	atomic_int own_ok;
};

static void *worker(void *arg)
{
	struct shared *s = arg;
	struct client mine, common;
	enum auth_result r;

	client_new(s->a, &mine, NOW);
	common.alg = AUTH_SHA256;
	memcpy(common.nonce, s->nonce, sizeof(common.nonce));
	for (unsigned nc = 1; nc <= ROUNDS; nc++) {
		r = try_nc(s->a, &common, nc, NOW);
		if (r == AUTH_OK)
			atomic_fetch_add(&s->ok_per_nc[nc], 1);
		else if (r == AUTH_FAIL)
			atomic_fetch_add(&s->fails, 1);
		if (try_nc(s->a, &mine, nc, NOW) == AUTH_OK)
			atomic_fetch_add(&s->own_ok, 1);
		/* a replay of what this thread just sent never passes */
		if (try_nc(s->a, &mine, nc, NOW) != AUTH_STALE)
			atomic_fetch_add(&s->fails, 1);
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	static struct shared s;
	pthread_t t[THREADS];
	int total = 0;

	(void)state;
	s.a = auth_new(TTL, 1024);
	assert_non_null(s.a);
	assert_int_equal(auth_nonce_new(s.a, AUTH_SHA256, NOW, s.nonce), 44);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.fails), 0);
	assert_int_equal(atomic_load(&s.own_ok), THREADS * ROUNDS);
	for (int nc = 1; nc <= ROUNDS; nc++) {
		assert_true(atomic_load(&s.ok_per_nc[nc]) <= 1);   /* never accepted twice */
		total += atomic_load(&s.ok_per_nc[nc]);
	}
	assert_true(total >= 1);
	auth_free(s.a);
}

/*
 * A tiny table under contention: evictions race with lookups and inserts.
 * Each thread keeps 4 nonces and, like a UA told stale=true, takes a fresh
 * one whenever a new nc is refused.  Time is a shared counter, so every
 * fresh nonce is newer than anything evicted.  No replay may ever pass.
 */
struct churn {
	struct auth_ctx *a;
	atomic_llong tick;
	atomic_int replays_ok, fails, oks;
};

static time_t churn_now(struct churn *s) { return NOW + (time_t)atomic_load(&s->tick); }

static void churn_fresh(struct churn *s, struct client *k)
{
	client_new(s->a, k, NOW + (time_t)atomic_fetch_add(&s->tick, 1));
}

static void churn_step(struct churn *s, struct client *c, unsigned *nc)
{
	enum auth_result r = try_nc(s->a, c, *nc, churn_now(s));

	if (r == AUTH_FAIL)
		atomic_fetch_add(&s->fails, 1);
	if (auth_verify(s->a, &c->c, SL("REGISTER"), SL(REALM), sl_cstr(c->ha1), churn_now(s)) != AUTH_STALE)
		atomic_fetch_add(&s->replays_ok, 1);
	if (r == AUTH_OK) {
		atomic_fetch_add(&s->oks, 1);
		(*nc)++;
	} else {
		churn_fresh(s, c);
		*nc = 1;
	}
}

static void *churner(void *arg)
{
	struct churn *s = arg;
	struct client k[4];
	unsigned nc[4] = { 1, 1, 1, 1 };

	for (int j = 0; j < 4; j++)
		churn_fresh(s, &k[j]);
	for (unsigned i = 0; i < 4 * ROUNDS; i++)
		churn_step(s, &k[i % 4], &nc[i % 4]);
	return NULL;
}

static void test_concurrency_churn(void **state)
{
	static struct churn s;
	pthread_t t[THREADS];

	(void)state;
	s.a = auth_new(1000000, 8);
	assert_non_null(s.a);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churner, &s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.replays_ok), 0);
	assert_int_equal(atomic_load(&s.fails), 0);
	assert_true(atomic_load(&s.oks) >= ROUNDS);
	auth_free(s.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce_format),
		cmocka_unit_test(test_nonce_check),
		cmocka_unit_test(test_nonce_extreme_times),
		cmocka_unit_test(test_nonce_garbage),
		cmocka_unit_test(test_nonce_other_ctx),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_table_eviction_floor),
		cmocka_unit_test(test_table_lazy_expiry),
		cmocka_unit_test(test_table_min_size),
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_concurrency_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
