/* Unit tests for the per-source guard: token buckets, bans, trusted nets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "guard/guard.h"
#include "util/hash.h"

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct guard_cfg base_cfg(void)
{
	struct guard_cfg c = { .rate_limit = 0, .ban_after = 3, .ban_window = 60, .ban_time = 10,
			       .tcp_per_source = 0 };

	return c;
}

static void test_net_parse(void **state)
{
	struct guard_net n;

	(void)state;
	assert_int_equal(guard_net_parse("10.0.0.0/8", &n), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.prefix, 8);
	assert_int_equal(guard_net_parse("127.0.0.1", &n), 0);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(guard_net_parse("2001:db8::/32", &n), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(guard_net_parse("::1", &n), 0);
	assert_int_equal(n.prefix, 128);
	assert_int_equal(guard_net_parse("0.0.0.0/0", &n), 0);
	assert_int_equal(guard_net_parse("10.0.0.0/33", &n), -1);
	assert_int_equal(guard_net_parse("10.0.0.0/", &n), -1);
	assert_int_equal(guard_net_parse("10.0.0.0/8x", &n), -1);
	assert_int_equal(guard_net_parse("host.example", &n), -1);
	assert_int_equal(guard_net_parse("", &n), -1);
}

static void test_trusted(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a;
	struct guard *g;

	(void)state;
	assert_int_equal(guard_net_parse("192.168.4.0/23", &c.trusted[0]), 0);
	assert_int_equal(guard_net_parse("2001:db8:1::/48", &c.trusted[1]), 0);
	c.ntrusted = 2;
	g = guard_new(&c, 1024);
	assert_non_null(g);
	a = addr("192.168.5.200");
	assert_true(guard_trusted(g, SA(a)));
	a = addr("192.168.6.1");
	assert_false(guard_trusted(g, SA(a)));
	a = addr("::ffff:192.168.4.7"); /* v4-mapped on a dual-stack socket */
	assert_true(guard_trusted(g, SA(a)));
	a = addr("2001:db8:1:ffff::1");
	assert_true(guard_trusted(g, SA(a)));
	a = addr("2001:db8:2::1");
	assert_false(guard_trusted(g, SA(a)));
	guard_free(g);
}

static void test_rate_limit(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("203.0.113.5"), b = addr("203.0.113.6");
	struct guard *g;
	int64_t t = 1000000;
	int passed = 0;

	(void)state;
	c.rate_limit = 10; /* burst: 20 */
	g = guard_new(&c, 1024);
	for (int i = 0; i < 50; i++)
		passed += guard_check(g, SA(a), t) == GUARD_PASS;
	assert_int_equal(passed, 20);
	assert_int_equal(guard_check(g, SA(a), t), GUARD_LIMITED);
	/* another source is not affected */
	assert_int_equal(guard_check(g, SA(b), t), GUARD_PASS);
	/* 100 ms later one more token (10/s) */
	assert_int_equal(guard_check(g, SA(a), t + 100), GUARD_PASS);
	assert_int_equal(guard_check(g, SA(a), t + 100), GUARD_LIMITED);
	/* a steady 10/s is never limited */
	for (int i = 1; i <= 100; i++)
		assert_int_equal(guard_check(g, SA(a), t + 100 + i * 100), GUARD_PASS);
	guard_free(g);

	c.rate_limit = 0;
	c.ban_after = 0;
	g = guard_new(&c, 1024);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(guard_check(g, SA(a), t), GUARD_PASS);
	guard_free(g);
}

static void test_ipv6_prefix(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("2001:db8:5:6::1"), b = addr("2001:db8:5:6:ffff::2"),
				o = addr("2001:db8:5:7::1");
	struct guard *g;
	int64_t t = 5000;

	(void)state;
	c.rate_limit = 1; /* burst 2 */
	g = guard_new(&c, 1024);
	assert_int_equal(guard_check(g, SA(a), t), GUARD_PASS);
	assert_int_equal(guard_check(g, SA(b), t), GUARD_PASS);
	/* same /64: one bucket */
	assert_int_equal(guard_check(g, SA(a), t), GUARD_LIMITED);
	assert_int_equal(guard_check(g, SA(o), t), GUARD_PASS);
	guard_free(g);
}

static void test_ban_and_backoff(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("198.51.100.1"), b = addr("198.51.100.2");
	struct guard *g = guard_new(&c, 1024);
	int64_t t = 1000000;

	(void)state;
	assert_false(guard_auth_failed(g, SA(a), SL("alice"), SL("example.com"), t));
	assert_false(guard_auth_failed(g, SA(a), SL("bob"), SL("example.com"), t + 1));
	assert_int_equal(guard_check(g, SA(a), t + 2), GUARD_PASS);
	assert_true(guard_auth_failed(g, SA(a), SL("carol"), SL("example.com"), t + 3));
	assert_int_equal(guard_check(g, SA(a), t + 4), GUARD_BANNED);
	assert_int_equal(guard_banned_count(g, t + 4), 1);
	assert_int_equal(guard_check(g, SA(b), t + 4), GUARD_PASS);
	/* first ban: ban_time (10 s) */
	assert_int_equal(guard_check(g, SA(a), t + 3 + 9999), GUARD_BANNED);
	assert_int_equal(guard_check(g, SA(a), t + 3 + 10000), GUARD_PASS);
	/* the second doubles: 20 s */
	t += 20000;
	for (int i = 0; i < 3; i++)
		guard_auth_failed(g, SA(a), SL("dave"), SL("example.com"), t);
	assert_int_equal(guard_check(g, SA(a), t + 19999), GUARD_BANNED);
	assert_int_equal(guard_check(g, SA(a), t + 20000), GUARD_PASS);
	guard_free(g);
}

static void test_window(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("198.51.100.9");
	struct guard *g = guard_new(&c, 1024);
	int64_t t = 1000000;

	(void)state;
	/* two failures a window apart never add up to three */
	for (int i = 0; i < 10; i++) {
		assert_false(guard_auth_failed(g, SA(a), SL("u"), SL("r"), t));
		assert_false(guard_auth_failed(g, SA(a), SL("v"), SL("r"), t + 1));
		t += 61000;
	}
	assert_int_equal(guard_check(g, SA(a), t), GUARD_PASS);
	guard_free(g);
}

static void test_user_under_attack(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage s1 = addr("192.0.2.1"), s2 = addr("192.0.2.2"), s3 = addr("192.0.2.3"),
				s4 = addr("192.0.2.4"), real = addr("192.0.2.99");
	struct guard *g = guard_new(&c, 1024);
	int64_t t = 1000000;

	(void)state;
	/* a distributed guess: one failure per source, all for alice */
	assert_false(guard_auth_failed(g, SA(s1), SL("alice"), SL("example.com"), t));
	assert_false(guard_auth_failed(g, SA(s2), SL("alice"), SL("example.com"), t));
	assert_true(guard_auth_failed(g, SA(s3), SL("alice"), SL("example.com"), t));
	assert_true(guard_auth_failed(g, SA(s4), SL("alice"), SL("example.com"), t));
	assert_int_equal(guard_check(g, SA(s4), t), GUARD_BANNED);
	/* alice herself, who authenticates, is untouched */
	assert_int_equal(guard_check(g, SA(real), t), GUARD_PASS);
	/* a failure for another user does not ban at once */
	assert_false(guard_auth_failed(g, SA(real), SL("bob"), SL("example.com"), t));
	guard_free(g);
}

static void test_trusted_exempt(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("10.1.2.3");
	struct guard *g;

	(void)state;
	c.rate_limit = 1;
	c.tcp_per_source = 1;
	assert_int_equal(guard_net_parse("10.0.0.0/8", &c.trusted[0]), 0);
	c.ntrusted = 1;
	g = guard_new(&c, 1024);
	for (int i = 0; i < 100; i++) {
		assert_false(guard_auth_failed(g, SA(a), SL("x"), SL("r"), 1000));
		assert_int_equal(guard_check(g, SA(a), 1000), GUARD_PASS);
		assert_true(guard_conn_open(g, SA(a), 1000));
	}
	guard_free(g);
}

static void test_conn_limit(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage a = addr("198.18.0.1"), b = addr("198.18.0.2");
	struct guard *g;

	(void)state;
	c.tcp_per_source = 2;
	g = guard_new(&c, 1024);
	assert_true(guard_conn_open(g, SA(a), 1000));
	assert_true(guard_conn_open(g, SA(a), 1000));
	assert_false(guard_conn_open(g, SA(a), 1000));
	assert_true(guard_conn_open(g, SA(b), 1000));
	guard_conn_close(g, SA(a));
	assert_true(guard_conn_open(g, SA(a), 1000));
	/* a banned source cannot connect */
	for (int i = 0; i < 3; i++)
		guard_auth_failed(g, SA(b), SL("x"), SL("r"), 1000);
	assert_false(guard_conn_open(g, SA(b), 1001));
	guard_free(g);
}

/* Many more sources than slots: memory stays fixed, bans are kept. */
static void test_bounded(void **state)
{
	struct guard_cfg c = base_cfg();
	struct sockaddr_storage bad = addr("100.64.0.1");
	struct guard *g;

	(void)state;
	c.rate_limit = 5;
	c.ban_after = 1;
	c.ban_time = 3600;
	g = guard_new(&c, 512);
	assert_true(guard_auth_failed(g, SA(bad), SL("x"), SL("r"), 1000));
	for (uint32_t i = 0; i < 200000; i++) {
		struct sockaddr_storage ss;
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(0x0b000000u + i);
		guard_check(g, SA(ss), 1000 + i / 100);
	}
	assert_int_equal(guard_check(g, SA(bad), 3000), GUARD_BANNED);
	guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_ban_and_backoff),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_user_under_attack),
		cmocka_unit_test(test_trusted_exempt),
		cmocka_unit_test(test_conn_limit),
		cmocka_unit_test(test_bounded),
	};

	hash_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
