/*
 * test_config.c - settings: built-in defaults, cfg_set validation,
 * cfg_finish cross-field rules, the INI file, and the per-User-Agent
 * choice of digest algorithms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static struct cfg *new_cfg(void)
{
	struct cfg *c = malloc(sizeof(*c));  /* large (PATH_MAX, domains): not on the stack */

	assert_non_null(c);
	cfg_defaults(c);
	return c;
}

/* Write text to a temporary file; path receives its name. */
static void write_tmp(char path[64], const char *text)
{
	int fd;
	size_t n = strlen(text);

	strcpy(path, "/tmp/sipreg-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* cfg_load_file on text; returns its result, err filled. */
static int load_text(struct cfg *c, const char *text, char *err, size_t errlen)
{
	char path[64];
	int rc;

	write_tmp(path, text);
	err[0] = '\0';
	rc = cfg_load_file(c, path, err, errlen);
	unlink(path);
	return rc;
}

static size_t algs(const struct cfg *c, const char *ua, enum auth_alg out[AUTH_MAX_ALGS])
{
	return cfg_algs_for(c, ua ? sl_cstr(ua) : SL_NULL, out);
}

#define assert_algs1(c, ua, a0)                                    \
	do {                                                       \
		enum auth_alg o_[AUTH_MAX_ALGS];                   \
		assert_int_equal(algs((c), (ua), o_), 1);          \
		assert_int_equal(o_[0], (a0));                     \
	} while (0)

#define assert_algs2(c, ua, a0, a1)                                \
	do {                                                       \
		enum auth_alg o_[AUTH_MAX_ALGS];                   \
		assert_int_equal(algs((c), (ua), o_), 2);          \
		assert_int_equal(o_[0], (a0));                     \
		assert_int_equal(o_[1], (a1));                     \
	} while (0)

/* Defaults ----------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct cfg *c = new_cfg();

	(void)state;
	assert_int_equal(c->min_expires, 60);
	assert_int_equal(c->max_expires, 3600);
	assert_int_equal(c->default_expires, 3600);
	assert_int_equal(c->max_contacts, 10);
	assert_int_equal(c->nonce_ttl, 300);
	assert_int_equal(c->nalgs, 2);
	assert_int_equal(c->algs[0], AUTH_SHA256);
	assert_int_equal(c->algs[1], AUTH_MD5);
	assert_string_equal(c->db, "sipreg.db");
	assert_int_equal(c->nlisten, 0);
	assert_int_equal(c->ndomains, 0);
	assert_int_equal(c->max_msg, 16384);
	assert_int_equal(c->tcp_idle_timeout, 120);
	assert_int_equal(c->tcp_max_conns, 16384);
	assert_int_equal(c->guard.rate_limit, 1000);
	assert_int_equal(c->guard.ban_after, 10);
	assert_int_equal(c->guard.ban_window, 60);
	assert_int_equal(c->guard.ban_time, 300);
	assert_int_equal(c->guard.tcp_per_source, 1024);
	assert_int_equal(c->guard.ntrusted, 0);
	assert_string_equal(c->user, "");
	assert_int_equal(c->log_level, LOG_INFO);
	assert_false(c->compat_from_file);
	assert_int_equal(c->ncompat, 5);
	free(c);
}

/* cfg_set -------------------------------------------------------------------- */

static void test_set_values(void **state)
{
	struct cfg *c = new_cfg();
	char err[256];

	(void)state;
	assert_int_equal(cfg_set(c, "min-expires", "30", err, sizeof(err)), 0);
	assert_int_equal(c->min_expires, 30);
	assert_int_equal(cfg_set(c, "max-expires", "7200", err, sizeof(err)), 0);
	assert_int_equal(c->max_expires, 7200);
	assert_int_equal(cfg_set(c, "default-expires", "1800", err, sizeof(err)), 0);
	assert_int_equal(c->default_expires, 1800);
	assert_int_equal(cfg_set(c, "max-contacts", "256", err, sizeof(err)), 0);
	assert_int_equal(c->max_contacts, 256);
	assert_int_equal(cfg_set(c, "nonce-ttl", "5", err, sizeof(err)), 0);
	assert_int_equal(c->nonce_ttl, 5);
	assert_int_equal(cfg_set(c, "max-message-size", "65535", err, sizeof(err)), 0);
	assert_int_equal(c->max_msg, 65535);
	assert_int_equal(cfg_set(c, "digest-algorithms", "MD5, SHA-256", err, sizeof(err)), 0);
	assert_int_equal(c->nalgs, 2);
	assert_int_equal(c->algs[0], AUTH_MD5);
	assert_int_equal(c->algs[1], AUTH_SHA256);
	assert_int_equal(cfg_set(c, "log-level", "debug", err, sizeof(err)), 0);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(cfg_set(c, "db", "/tmp/x.db", err, sizeof(err)), 0);
	assert_string_equal(c->db, "/tmp/x.db");
	assert_int_equal(cfg_set(c, "domain", "Example.COM, b.example.org", err, sizeof(err)), 0);
	assert_int_equal(c->ndomains, 2);
	assert_string_equal(c->domains[0], "example.com");
	assert_string_equal(c->domains[1], "b.example.org");
	assert_int_equal(cfg_set(c, "listen", "udp:127.0.0.1:5070, tcp:[::1]:5071", err, sizeof(err)),
			 0);
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->listen[0].proto, TP_UDP);
	assert_string_equal(c->listen[0].host, "127.0.0.1");
	assert_int_equal(c->listen[0].port, 5070);
	assert_int_equal(c->listen[1].proto, TP_TCP);
	assert_string_equal(c->listen[1].host, "::1");
	assert_int_equal(c->listen[1].port, 5071);
	free(c);
}

static void expect_set_error(const char *key, const char *val)
{
	struct cfg *c = new_cfg(), *before = new_cfg();
	char err[256] = "";

	memcpy(before, c, sizeof(*c));
	if (cfg_set(c, key, val, err, sizeof(err)) != -1)
		print_error("cfg_set(%s, '%s') accepted\n", key, val);
	assert_int_equal(cfg_set(c, key, val, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* a rejected number leaves the setting alone */
	assert_int_equal(c->min_expires, before->min_expires);
	assert_int_equal(c->max_expires, before->max_expires);
	assert_int_equal(c->default_expires, before->default_expires);
	assert_int_equal(c->max_contacts, before->max_contacts);
	assert_int_equal(c->nonce_ttl, before->nonce_ttl);
	assert_int_equal(c->nalgs, before->nalgs);
	assert_int_equal(c->algs[0], before->algs[0]);
	assert_int_equal(c->algs[1], before->algs[1]);
	assert_int_equal(c->log_level, before->log_level);
	assert_string_equal(c->db, before->db);
	free(before);
	free(c);
}

static void test_set_errors(void **state)
{
	char err[256];
	struct cfg *c = new_cfg();

	(void)state;
	expect_set_error("min-expires", "0");
	expect_set_error("min-expires", "");
	expect_set_error("min-expires", "abc");
	expect_set_error("min-expires", "60s");
	expect_set_error("min-expires", "-60");
	expect_set_error("min-expires", "+60");
	expect_set_error("min-expires", " 60");
	expect_set_error("min-expires", "99999999999999999999999");
	expect_set_error("max-expires", "31536001");       /* above a year */
	expect_set_error("default-expires", "0");
	expect_set_error("max-contacts", "0");
	expect_set_error("max-contacts", "257");
	expect_set_error("nonce-ttl", "0");
	expect_set_error("nonce-ttl", "86401");
	expect_set_error("workers", "65");
	expect_set_error("tcp-idle-timeout", "0");
	expect_set_error("tcp-max-connections", "0");
	expect_set_error("max-message-size", "1023");
	expect_set_error("max-message-size", "65536");
	expect_set_error("digest-algorithms", "");
	expect_set_error("digest-algorithms", "SHA-1");
	expect_set_error("digest-algorithms", "MD5,MD5");
	expect_set_error("digest-algorithms", "MD5,");
	expect_set_error("digest-algorithms", "SHA-256,MD5,SHA-512-256");
	expect_set_error("log-level", "loud");
	expect_set_error("log-level", "");
	expect_set_error("db", "");
	expect_set_error("listen", "127.0.0.1:5060");
	expect_set_error("listen", "sctp:127.0.0.1:5060");
	expect_set_error("listen", "udp:127.0.0.1");
	expect_set_error("listen", "udp:127.0.0.1:99999");
	expect_set_error("listen", "udp:[::1:5060");
	expect_set_error("no-such-setting", "1");
	expect_set_error("min_expires", "60");             /* flags use dashes */
	/* the message names the setting */
	assert_int_equal(cfg_set(c, "max-contacts", "1000", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max-contacts"));
	assert_int_equal(cfg_set(c, "bogus", "1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	/* too many domains */
	for (int i = 0; i < REG_MAX_DOMAINS; i++) {
		char d[32];

		snprintf(d, sizeof(d), "d%d.example.com", i);
		assert_int_equal(cfg_set(c, "domain", d, err, sizeof(err)), 0);
	}
	assert_int_equal(cfg_set(c, "domain", "one-too-many.example.com", err, sizeof(err)), -1);
	assert_int_equal(c->ndomains, REG_MAX_DOMAINS);
	free(c);
}

/* cfg_finish ------------------------------------------------------------------ */

static void test_finish(void **state)
{
	struct cfg *c = new_cfg();
	char err[256];

	(void)state;
	/* defaults are consistent; the default listens are added */
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->listen[0].proto, TP_UDP);
	assert_string_equal(c->listen[0].host, "127.0.0.1");
	assert_int_equal(c->listen[0].port, 5060);
	assert_int_equal(c->listen[1].proto, TP_TCP);
	assert_string_equal(c->listen[1].host, "127.0.0.1");
	assert_int_equal(c->listen[1].port, 5060);
	assert_true(c->workers >= 1 && c->workers <= 16);
	/* a second finish adds nothing */
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(c->nlisten, 2);
	free(c);

	/* configured listens are kept alone; workers kept */
	c = new_cfg();
	assert_int_equal(cfg_set(c, "listen", "tcp:127.0.0.1:5080", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "workers", "3", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(c->listen[0].port, 5080);
	assert_int_equal(c->workers, 3);
	free(c);

	/* min above max */
	c = new_cfg();
	assert_int_equal(cfg_set(c, "min-expires", "4000", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "min-expires"));
	free(c);

	/* default outside [min, max] */
	c = new_cfg();
	assert_int_equal(cfg_set(c, "default-expires", "30", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "default-expires"));
	free(c);
	c = new_cfg();
	assert_int_equal(cfg_set(c, "max-expires", "600", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), -1);  /* default 3600 > max */
	assert_int_equal(cfg_set(c, "default-expires", "600", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	free(c);

	/* min == default == max is fine */
	c = new_cfg();
	assert_int_equal(cfg_set(c, "min-expires", "3600", err, sizeof(err)), 0);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	free(c);
}

/* INI file --------------------------------------------------------------------- */

static void test_load_file(void **state)
{
	struct cfg *c = new_cfg();
	char err[512];

	(void)state;
	assert_int_equal(load_text(c,
				   "; comment\n"
				   "[server]\n"
				   "listen = udp:127.0.0.1:5070, tcp:127.0.0.1:5070\n"
				   "domain = Example.com\n"
				   "db = /tmp/sipreg-test.db\n"
				   "min_expires = 120\n"
				   "max_expires = 7200\n"
				   "default_expires = 1800\n"
				   "max_contacts = 5\n"
				   "nonce_ttl = 600\n"
				   "digest_algorithms = MD5\n"
				   "log_level = warn\n"
				   "workers = 2\n"
				   "tcp_idle_timeout = 60\n"
				   "tcp_max_connections = 100\n"
				   "max_message_size = 8192\n"
				   "max-contacts = 6\n",    /* dashes work too, later wins */
				   err, sizeof(err)),
			 0);
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->listen[1].proto, TP_TCP);
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "example.com");
	assert_string_equal(c->db, "/tmp/sipreg-test.db");
	assert_int_equal(c->min_expires, 120);
	assert_int_equal(c->max_expires, 7200);
	assert_int_equal(c->default_expires, 1800);
	assert_int_equal(c->max_contacts, 6);
	assert_int_equal(c->nonce_ttl, 600);
	assert_int_equal(c->nalgs, 1);
	assert_int_equal(c->algs[0], AUTH_MD5);
	assert_int_equal(c->log_level, LOG_WARN);
	assert_int_equal(c->workers, 2);
	assert_int_equal(c->tcp_idle_timeout, 60);
	assert_int_equal(c->tcp_max_conns, 100);
	assert_int_equal(c->max_msg, 8192);
	/* no [compat]: the built-in rules stay */
	assert_false(c->compat_from_file);
	assert_int_equal(c->ncompat, 5);
	assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(c->nlisten, 2);
	free(c);

	/* keys before any section are server keys */
	c = new_cfg();
	assert_int_equal(load_text(c, "min_expires = 90\n", err, sizeof(err)), 0);
	assert_int_equal(c->min_expires, 90);
	free(c);

	/* the shipped example loads and finishes */
	c = new_cfg();
	if (access("etc/sipreg.conf", R_OK) == 0) {
		assert_int_equal(cfg_load_file(c, "etc/sipreg.conf", err, sizeof(err)), 0);
		assert_int_equal(cfg_finish(c, err, sizeof(err)), 0);
	}
	free(c);
}

static void test_load_file_errors(void **state)
{
	struct cfg *c;
	char err[512];

	(void)state;
	c = new_cfg();
	assert_int_equal(load_text(c, "[server]\nmin_expires = 60\nfrobnicate = 1\n", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "frobnicate"));
	assert_non_null(strstr(err, "/tmp/sipreg-cfg-"));  /* names the file */
	free(c);

	c = new_cfg();
	assert_int_equal(load_text(c, "[server]\nmax_contacts = lots\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max_contacts"));
	free(c);

	c = new_cfg();
	assert_int_equal(load_text(c, "[servers]\nmin_expires = 60\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "servers"));
	free(c);

	c = new_cfg();
	assert_int_equal(load_text(c, "[server]\nthis line has no equals sign\n", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "line 2"));
	free(c);

	c = new_cfg();
	assert_int_equal(load_text(c, "[compat]\nbaresip = SHA-1\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "baresip"));
	free(c);

	c = new_cfg();
	assert_int_equal(cfg_load_file(c, "/nonexistent/sipreg.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/sipreg.conf"));
	free(c);
}

static void test_load_file_compat_replaces(void **state)
{
	struct cfg *c = new_cfg();
	char err[512];

	(void)state;
	assert_int_equal(load_text(c,
				   "[compat]\n"
				   "Linphone = MD5\n"
				   "- = SHA-256\n"
				   "[server]\n"
				   "max_contacts = 4\n",
				   err, sizeof(err)),
			 0);
	assert_true(c->compat_from_file);
	assert_int_equal(c->ncompat, 2);
	assert_string_equal(c->compat[0].ua_prefix, "Linphone");
	assert_int_equal(c->max_contacts, 4);
	/* the file's rules apply ... */
	assert_algs1(c, "Linphone/5.0", AUTH_MD5);
	assert_algs1(c, NULL, AUTH_SHA256);
	/* ... and the built-in ones are gone */
	assert_algs2(c, "baresip 1.0.0", AUTH_SHA256, AUTH_MD5);
	assert_algs2(c, "sipp", AUTH_SHA256, AUTH_MD5);
	free(c);

	/* two [compat] sections in one file add up */
	c = new_cfg();
	assert_int_equal(load_text(c, "[compat]\na = MD5\n[server]\nworkers = 1\n[compat]\nb = MD5\n",
				   err, sizeof(err)),
			 0);
	assert_int_equal(c->ncompat, 2);
	free(c);
}

/* Algorithms per User-Agent ------------------------------------------------------ */

static void test_algs_for(void **state)
{
	struct cfg *c = new_cfg();
	char err[256];

	(void)state;
	assert_algs1(c, "baresip 1.0.0", AUTH_MD5);
	assert_algs1(c, "BareSIP v2", AUTH_MD5);        /* prefix, any case */
	assert_algs1(c, "sipp", AUTH_MD5);
	assert_algs1(c, "JsSIP 3.10.0", AUTH_MD5);
	assert_algs1(c, "SIP.js/0.21.2", AUTH_MD5);
	assert_algs2(c, NULL, AUTH_MD5, AUTH_SHA256);
	assert_algs2(c, "", AUTH_MD5, AUTH_SHA256);
	assert_algs2(c, "Linphone/5", AUTH_SHA256, AUTH_MD5);
	assert_algs2(c, "Zoiper rv2.10", AUTH_SHA256, AUTH_MD5);
	/* "-" is for no User-Agent only, not a literal prefix */
	assert_algs2(c, "-", AUTH_SHA256, AUTH_MD5);
	/* a UA shorter than a prefix does not match it */
	assert_algs2(c, "bare", AUTH_SHA256, AUTH_MD5);
	/* the prefix must be at the start */
	assert_algs2(c, "not baresip", AUTH_SHA256, AUTH_MD5);

	/* digest-algorithms limits every rule */
	assert_int_equal(cfg_set(c, "digest-algorithms", "MD5", err, sizeof(err)), 0);
	assert_algs1(c, NULL, AUTH_MD5);
	assert_algs1(c, "Linphone/5", AUTH_MD5);
	assert_algs1(c, "baresip 1.0.0", AUTH_MD5);
	/* nothing left of a rule: the configured list */
	assert_int_equal(cfg_set(c, "digest-algorithms", "SHA-256", err, sizeof(err)), 0);
	assert_algs1(c, "baresip 1.0.0", AUTH_SHA256);
	assert_algs1(c, NULL, AUTH_SHA256);
	free(c);
}

static void test_guard_keys(void **state)
{
	struct cfg *c = new_cfg();
	char err[256];

	(void)state;
	assert_int_equal(cfg_set(c, "rate-limit", "0", err, sizeof(err)), 0);
	assert_int_equal(c->guard.rate_limit, 0);
	assert_int_equal(cfg_set(c, "ban-after", "3", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "ban-window", "30", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "ban-time", "90", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "tcp-max-per-source", "8", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "trusted", "10.0.0.0/8, ::1", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(c, "user", "nobody", err, sizeof(err)), 0);
	assert_int_equal(c->guard.ban_after, 3);
	assert_int_equal(c->guard.ban_window, 30);
	assert_int_equal(c->guard.ban_time, 90);
	assert_int_equal(c->guard.tcp_per_source, 8);
	assert_int_equal(c->guard.ntrusted, 2);
	assert_int_equal(c->guard.trusted[0].prefix, 8);
	assert_int_equal(c->guard.trusted[1].prefix, 128);
	assert_string_equal(c->user, "nobody");
	assert_int_equal(cfg_set(c, "trusted", "10.0.0.0/33", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trusted"));
	assert_int_equal(cfg_set(c, "trusted", "example.com", err, sizeof(err)), -1);
	assert_int_equal(cfg_set(c, "ban-window", "0", err, sizeof(err)), -1);
	assert_int_equal(cfg_set(c, "rate-limit", "-1", err, sizeof(err)), -1);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_values),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_load_file_compat_replaces),
		cmocka_unit_test(test_algs_for),
		cmocka_unit_test(test_guard_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
