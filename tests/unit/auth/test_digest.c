/*
 * test_digest.c - RFC 7616 vectors, HA1, algorithm names, challenges and
 * auth_verify's answers (OK / STALE / FAIL) for every path it has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/auth_int.h"   /* the key, to forge a fake-HA1 answer */

#define REALM "example.com"
#define URI "sip:example.com"
#define NOW ((time_t)1700000000)
#define TTL 300u

/* ---- RFC 7616 §3.9.1 ---- */

#define RFC_USER "Mufasa"
#define RFC_PASS "Circle of Life"
#define RFC_REALM "http-auth@example.org"
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

static void rfc_response(enum auth_alg alg, char out[AUTH_HA1_HEX_MAX + 1])
{
	char ha1[AUTH_HA1_HEX_MAX + 1];

	auth_ha1(alg, RFC_USER, RFC_REALM, RFC_PASS, ha1);
	auth_response(alg, sl_cstr(ha1), SL(RFC_NONCE), SL("00000001"), SL(RFC_CNONCE), SL("auth"),
		      SL("GET"), SL("/dir/index.html"), out);
}

static void test_rfc7616_md5(void **state)
{
	char r[AUTH_HA1_HEX_MAX + 1];

	(void)state;
	rfc_response(AUTH_MD5, r);
	assert_string_equal(r, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_rfc7616_sha256(void **state)
{
	char r[AUTH_HA1_HEX_MAX + 1];

	(void)state;
	rfc_response(AUTH_SHA256, r);
	assert_string_equal(r, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* The RFC's header, parsed, verifies against the same inputs. */
static void test_rfc7616_parsed_header(void **state)
{
	static const char hdr[] =
		"Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n"
		" uri=\"/dir/index.html\",\r\n algorithm=SHA-256,\r\n"
		" nonce=\"" RFC_NONCE "\",\r\n nc=00000001,\r\n cnonce=\"" RFC_CNONCE "\",\r\n"
		" qop=auth,\r\n"
		" response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n"
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	struct auth_cred c;
	char ha1[AUTH_HA1_HEX_MAX + 1], r[AUTH_HA1_HEX_MAX + 1];

	(void)state;
	assert_int_equal(auth_cred_parse(SL(hdr), &c), 0);
	auth_ha1(AUTH_SHA256, RFC_USER, RFC_REALM, RFC_PASS, ha1);
	auth_response(AUTH_SHA256, sl_cstr(ha1), c.nonce, c.nc, c.cnonce, c.qop, SL("GET"), c.uri, r);
	assert_true(sl_eq_cstr(c.response, r));
}

static void test_ha1(void **state)
{
	char h[AUTH_HA1_HEX_MAX + 1];

	(void)state;
	/* Cross-checked with: printf %s 'Mufasa:http-auth@example.org:Circle of Life' | openssl dgst */
	auth_ha1(AUTH_MD5, RFC_USER, RFC_REALM, RFC_PASS, h);
	assert_string_equal(h, "3d78807defe7de2157e2b0b6573a855f");
	auth_ha1(AUTH_SHA256, RFC_USER, RFC_REALM, RFC_PASS, h);
	assert_string_equal(h, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	/* empty and NULL strings hash as "::" (openssl dgst -md5 of "::") */
	auth_ha1(AUTH_MD5, "", "", "", h);
	assert_string_equal(h, "4501c091b0366d76ea3218b6cfdd8097");
	auth_ha1(AUTH_MD5, NULL, NULL, NULL, h);
	assert_string_equal(h, "4501c091b0366d76ea3218b6cfdd8097");
	auth_ha1(AUTH_SHA256, "a", "b", "c", h);
	assert_string_equal(h, "b0ee04f880c4ff4261479e2e7822b7410aee4c7159f4185ad5b0d88a312b495e");
	auth_ha1((enum auth_alg)7, "a", "b", "c", h);
	assert_string_equal(h, "");
}

static void test_alg_names(void **state)
{
	enum auth_alg a;

	(void)state;
	assert_string_equal(auth_alg_name(AUTH_MD5), "MD5");
	assert_string_equal(auth_alg_name(AUTH_SHA256), "SHA-256");
	assert_int_equal(auth_alg_hexlen(AUTH_MD5), 32);
	assert_int_equal(auth_alg_hexlen(AUTH_SHA256), 64);
	assert_int_equal(auth_alg_parse(SL("md5"), &a), 0);
	assert_int_equal(a, AUTH_MD5);
	assert_int_equal(auth_alg_parse(SL("sha-256"), &a), 0);
	assert_int_equal(a, AUTH_SHA256);
	assert_int_equal(auth_alg_parse(SL("SHA256"), &a), -1);
	assert_int_equal(auth_alg_parse(SL("MD5-sess"), &a), -1);
	assert_int_equal(auth_alg_parse(SL("SHA-512-256"), &a), -1);
	assert_int_equal(auth_alg_parse(SL(""), &a), -1);
	assert_int_equal(auth_alg_parse(SL("MD"), &a), -1);
}

static void test_alg_list(void **state)
{
	enum auth_alg l[AUTH_MAX_ALGS];
	size_t n = 99;

	(void)state;
	assert_int_equal(auth_alg_list_parse("SHA-256,MD5", l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0], AUTH_SHA256);
	assert_int_equal(l[1], AUTH_MD5);
	assert_int_equal(auth_alg_list_parse(" md5 ,\tSHA-256 ", l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0], AUTH_MD5);
	assert_int_equal(auth_alg_list_parse("MD5", l, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(auth_alg_list_parse("", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("  ", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("MD5,md5", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("MD5,,SHA-256", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("MD5,", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("SHA256", l, &n), -1);
	assert_int_equal(auth_alg_list_parse("MD5,SHA-256,MD5,SHA-256,MD5", l, &n), -1);
	assert_int_equal(auth_alg_list_parse(NULL, l, &n), -1);
}

/* ---- a client, for verify ---- */

struct client {
	enum auth_alg alg;
	char nonce[AUTH_NONCE_MAX + 1];
	char ha1[AUTH_HA1_HEX_MAX + 1];
	char nc[9];
	char resp[AUTH_HA1_HEX_MAX + 1];
	struct auth_cred c;
};

/* Answer nonce as a well-behaved UA with this password would. */
static void client_answer(struct auth_ctx *a, struct client *k, const char *pw, unsigned nc)
{
	auth_ha1(k->alg, "alice", REALM, pw, k->ha1);
	snprintf(k->nc, sizeof(k->nc), "%08x", nc);
	auth_response(k->alg, sl_cstr(k->ha1), sl_cstr(k->nonce), sl_cstr(k->nc), SL("0a4f113b"),
		      SL("auth"), SL("REGISTER"), SL(URI), k->resp);
	memset(&k->c, 0, sizeof(k->c));
	k->c.scheme = SL("Digest");
	k->c.username = SL("alice");
	k->c.realm = SL(REALM);
	k->c.nonce = sl_cstr(k->nonce);
	k->c.uri = SL(URI);
	k->c.response = sl_cstr(k->resp);
	k->c.algorithm = sl_cstr(auth_alg_name(k->alg));
	k->c.cnonce = SL("0a4f113b");
	k->c.opaque = sl_cstr(auth_opaque(a));
	k->c.qop = SL("auth");
	k->c.nc = sl_cstr(k->nc);
}

static void client_new(struct auth_ctx *a, struct client *k, enum auth_alg alg, time_t issued,
		       const char *pw, unsigned nc)
{
	k->alg = alg;
	assert_int_equal(auth_nonce_new(a, alg, issued, k->nonce), 44);
	client_answer(a, k, pw, nc);
}

static enum auth_result verify(struct auth_ctx *a, const struct client *k, const char *stored_pw,
			       time_t now)
{
	char ha1[AUTH_HA1_HEX_MAX + 1] = "";

	if (stored_pw)
		auth_ha1(k->alg, "alice", REALM, stored_pw, ha1);
	return auth_verify(a, &k->c, SL("REGISTER"), SL(REALM), sl_cstr(ha1), now);
}

static int setup(void **state)
{
	*state = auth_new(TTL, 1024);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	auth_free(*state);
	return 0;
}

static void test_verify_ok(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	for (int alg = 0; alg < AUTH_ALG__COUNT; alg++) {
		client_new(a, &k, (enum auth_alg)alg, NOW, "secret", 1);
		assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
		/* the next request on the same nonce */
		client_answer(a, &k, "secret", 2);
		assert_int_equal(verify(a, &k, "secret", NOW + 10), AUTH_OK);
	}
}

static void test_verify_algorithm_forms(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	/* absent algorithm means MD5 */
	client_new(a, &k, AUTH_MD5, NOW, "secret", 1);
	k.c.algorithm = SL_NULL;
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	/* names are case-insensitive */
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.algorithm = SL("sha-256");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	/* present but empty or unknown */
	client_new(a, &k, AUTH_MD5, NOW, "secret", 1);
	k.c.algorithm = SL("");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.algorithm = SL("MD5-sess");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
}

static void test_verify_case_of_hex(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;
	char up[AUTH_HA1_HEX_MAX + 1];

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	for (size_t i = 0; k.resp[i]; i++)
		up[i] = (char)(k.resp[i] >= 'a' && k.resp[i] <= 'f' ? k.resp[i] - 32 : k.resp[i]);
	up[64] = '\0';
	k.c.response = sl_cstr(up);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
}

static void test_verify_wrong_password(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	client_new(a, &k, AUTH_SHA256, NOW, "guess", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	/* a failure records nothing: the right answer with that nc still works */
	client_answer(a, &k, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
}

static void test_verify_unknown_user(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	for (int alg = 0; alg < AUTH_ALG__COUNT; alg++) {
		client_new(a, &k, (enum auth_alg)alg, NOW, "secret", 1);
		assert_int_equal(verify(a, &k, NULL, NOW), AUTH_FAIL);
		/* not even STALE on an expired nonce: that would confirm the user */
		client_new(a, &k, (enum auth_alg)alg, NOW - TTL - 1, "secret", 1);
		assert_int_equal(verify(a, &k, NULL, NOW), AUTH_FAIL);
	}
}

/* Even an answer made with the fake HA1 itself (as if the key leaked)
 * does not authenticate a user that does not exist. */
static void test_verify_unknown_user_fake_ha1(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;
	unsigned char mac[32];
	char fake[AUTH_HA1_HEX_MAX + 1];
	struct auth_part p[] = { { "alice", 5 }, { ":", 1 }, { REALM, sizeof(REALM) - 1 } };

	assert_int_equal(auth_hmac(a->key, p, 3, mac), 0);
	for (int alg = 0; alg < AUTH_ALG__COUNT; alg++) {
		client_new(a, &k, (enum auth_alg)alg, NOW, "secret", 1);
		auth_hex(mac, auth_alg_hexlen(k.alg) / 2, fake);
		auth_response(k.alg, sl_cstr(fake), k.c.nonce, k.c.nc, k.c.cnonce, k.c.qop,
			      SL("REGISTER"), k.c.uri, k.resp);
		assert_int_equal(verify(a, &k, NULL, NOW), AUTH_FAIL);
		/* sanity: that same answer passes when fake is the stored HA1 */
		assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL(REALM), sl_cstr(fake), NOW),
				 AUTH_OK);
	}
}

/* An HA1 that does not fit the algorithm (stored for the other one) fails. */
static void test_verify_ha1_wrong_alg(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;
	char ha1[AUTH_HA1_HEX_MAX + 1];

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	auth_ha1(AUTH_MD5, "alice", REALM, "secret", ha1);
	assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL(REALM), sl_cstr(ha1), NOW), AUTH_FAIL);
	memset(ha1, 'z', 64);
	ha1[64] = '\0';
	assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL(REALM), sl_cstr(ha1), NOW), AUTH_FAIL);
}

static void test_verify_replay(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	client_new(a, &k, AUTH_MD5, NOW, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_STALE);
	assert_int_equal(verify(a, &k, "secret", NOW + 1), AUTH_STALE);
	/* a replay with a wrong digest is still plain FAIL */
	k.c.response = SL("00000000000000000000000000000000");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
}

static enum auth_result at_nc(struct auth_ctx *a, struct client *k, unsigned nc)
{
	client_answer(a, k, "secret", nc);
	return verify(a, k, "secret", NOW);
}

static void test_verify_nc_window(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 5);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	assert_int_equal(at_nc(a, &k, 3), AUTH_OK);     /* late, inside the window */
	assert_int_equal(at_nc(a, &k, 3), AUTH_STALE);  /* but only once */
	assert_int_equal(at_nc(a, &k, 4), AUTH_OK);
	assert_int_equal(at_nc(a, &k, 5), AUTH_STALE);
	assert_int_equal(at_nc(a, &k, 70), AUTH_OK);    /* jump ahead */
	assert_int_equal(at_nc(a, &k, 6), AUTH_STALE);  /* 64 behind: out of the window */
	assert_int_equal(at_nc(a, &k, 7), AUTH_OK);     /* 63 behind: still in */
	assert_int_equal(at_nc(a, &k, 7), AUTH_STALE);
	assert_int_equal(at_nc(a, &k, 1000), AUTH_OK);  /* far jump clears the window */
	assert_int_equal(at_nc(a, &k, 70), AUTH_STALE);
	assert_int_equal(at_nc(a, &k, 999), AUTH_OK);
	assert_int_equal(at_nc(a, &k, 0xffffffffu), AUTH_OK);
	assert_int_equal(at_nc(a, &k, 0xffffffffu), AUTH_STALE);
	assert_int_equal(at_nc(a, &k, 0xfffffffeu), AUTH_OK);
}

static void test_verify_expired(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	client_new(a, &k, AUTH_MD5, NOW - TTL, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);  /* exactly ttl old */
	client_new(a, &k, AUTH_MD5, NOW - TTL - 1, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_STALE);
	client_new(a, &k, AUTH_MD5, NOW - TTL - 1, "guess", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	/* a nonce used while fresh is STALE once it expires, whatever the nc */
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	client_answer(a, &k, "secret", 2);
	assert_int_equal(verify(a, &k, "secret", NOW + TTL + 1), AUTH_STALE);
}

static void test_verify_future_nonce(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	client_new(a, &k, AUTH_MD5, NOW + 5, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
	client_new(a, &k, AUTH_MD5, NOW + 6, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
}

static void test_verify_alg_mismatch(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	/* nonce issued for MD5, answered (correctly) with SHA-256 */
	assert_int_equal(auth_nonce_new(a, AUTH_MD5, NOW, k.nonce), 44);
	k.alg = AUTH_SHA256;
	client_answer(a, &k, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	/* and the other way round */
	assert_int_equal(auth_nonce_new(a, AUTH_SHA256, NOW, k.nonce), 44);
	k.alg = AUTH_MD5;
	client_answer(a, &k, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
}

static void test_verify_tampered_nonce(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;

	for (size_t pos = 0; pos < 44; pos += 3) {
		client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
		k.nonce[pos] = k.nonce[pos] == 'A' ? 'B' : 'A';
		/* the client even hashes the altered nonce correctly */
		client_answer(a, &k, "secret", 1);
		assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	}
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.nonce = SL("");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
}

/* Recompute the response over the (altered) fields, as a client that
 * really sent them would: each check is then tested on its own, not via
 * the digest mismatch. */
static enum auth_result consistent(struct auth_ctx *a, struct client *k)
{
	auth_response(k->alg, sl_cstr(k->ha1), k->c.nonce, k->c.nc, k->c.cnonce, k->c.qop,
		      SL("REGISTER"), k->c.uri, k->resp);
	k->c.response = sl_cstr(k->resp);
	return verify(a, k, "secret", NOW);
}

static void test_verify_wrong_fields(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;
	char op[64];

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.realm = SL("example.org");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.realm = SL("EXAMPLE.COM");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.realm = SL("example.com ");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.realm = SL_NULL;
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	snprintf(op, sizeof(op), "%s", auth_opaque(a));
	op[0] = op[0] == '0' ? '1' : '0';
	k.c.opaque = sl_cstr(op);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.opaque = SL_NULL;
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.qop = SL("auth");
	k.c.nc = SL("00000007");
	assert_int_equal(consistent(a, &k), AUTH_OK);
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.qop = SL("auth-int");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);
	k.c.qop = SL_NULL;
	assert_int_equal(consistent(a, &k), AUTH_FAIL);
	k.c.qop = SL("AUTH");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.scheme = SL("Basic");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.nc = SL("1");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);
	k.c.nc = SL("0000000g");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);
	k.c.nc = SL("000000001");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.cnonce = SL("");
	assert_int_equal(consistent(a, &k), AUTH_FAIL);

	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.response.len = 32;
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	k.c.response = SL("zz3927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);

	/* method and uri take part in the digest */
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	assert_int_equal(auth_verify(a, &k.c, SL("INVITE"), SL(REALM), sl_cstr(k.ha1), NOW), AUTH_FAIL);
	k.c.uri = SL("sip:example.org");
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_FAIL);
	/* all of the above left the nonce unused */
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	assert_int_equal(verify(a, &k, "secret", NOW), AUTH_OK);
}

/* A realm escaped on the wire compares equal to the configured one. */
static void test_verify_escaped_realm(void **state)
{
	struct auth_ctx *a = *state;
	struct client k;
	char ha1[AUTH_HA1_HEX_MAX + 1];

	client_new(a, &k, AUTH_MD5, NOW, "secret", 1);
	auth_ha1(AUTH_MD5, "alice", "a\"b", "secret", ha1);
	auth_response(AUTH_MD5, sl_cstr(ha1), k.c.nonce, k.c.nc, k.c.cnonce, k.c.qop, SL("REGISTER"),
		      k.c.uri, k.resp);
	k.c.realm = SL("a\\\"b");
	assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL("a\"b"), sl_cstr(ha1), NOW), AUTH_OK);
	k.c.realm = SL("a\\\"");
	assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL("a\"b"), sl_cstr(ha1), NOW), AUTH_FAIL);
	k.c.realm = SL("a\\\"bc");
	assert_int_equal(auth_verify(a, &k.c, SL("REGISTER"), SL("a\"b"), sl_cstr(ha1), NOW), AUTH_FAIL);
}

/* A restart: a new context has a new key, so old nonces are just bad. */
static void test_verify_other_ctx(void **state)
{
	struct auth_ctx *a = *state;
	struct auth_ctx *b = auth_new(TTL, 16);
	struct client k;

	assert_non_null(b);
	assert_string_not_equal(auth_opaque(a), auth_opaque(b));
	client_new(a, &k, AUTH_SHA256, NOW, "secret", 1);
	k.c.opaque = sl_cstr(auth_opaque(b));   /* even with b's opaque */
	assert_int_equal(verify(b, &k, "secret", NOW), AUTH_FAIL);
	assert_int_equal(auth_nonce_check(b, k.c.nonce, AUTH_SHA256, NOW), AUTH_NONCE_BAD);
	auth_free(b);
}

/* ---- challenge ---- */

static sl_t line_param(const char *line, size_t len, const char *name, struct auth_cred *c)
{
	/* A challenge's params parse like credentials (same auth-param list). */
	assert_int_equal(auth_cred_parse(sl_make(line, len), c), 0);
	if (strcmp(name, "nonce") == 0)
		return c->nonce;
	return c->algorithm;
}

static void test_challenge(void **state)
{
	struct auth_ctx *a = *state;
	char mem[2048], want[512], nonce[AUTH_NONCE_MAX + 1];
	struct obuf b;
	struct auth_cred c;
	const enum auth_alg algs[] = { AUTH_SHA256, AUTH_MD5 };
	const char *p, *nl;
	sl_t n;

	ob_init(&b, mem, sizeof(mem));
	auth_challenge(a, &b, SL(REALM), algs, 2, false, NOW);
	assert_false(b.overflow);
	p = mem;
	for (int i = 0; i < 2; i++) {
		nl = memchr(p, '\n', (size_t)(mem + b.len - p));
		assert_non_null(nl);
		assert_true(strncmp(p, "WWW-Authenticate: ", 18) == 0);
		n = line_param(p + 18, (size_t)(nl - 1 - p - 18), "nonce", &c);
		assert_int_equal(n.len, 44);
		sl_copy(n, nonce, sizeof(nonce));
		snprintf(want, sizeof(want),
			 "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"%s\", opaque=\"%s\", "
			 "algorithm=%s, qop=\"auth\"\r\n",
			 nonce, auth_opaque(a), auth_alg_name(algs[i]));
		assert_int_equal((size_t)(nl + 1 - p), strlen(want));
		assert_memory_equal(p, want, strlen(want));
		assert_int_equal(auth_nonce_check(a, n, algs[i], NOW), AUTH_NONCE_OK);
		p = nl + 1;
	}
	assert_ptr_equal(p, mem + b.len);

	ob_init(&b, mem, sizeof(mem));
	auth_challenge(a, &b, SL(REALM), algs + 1, 1, true, NOW);
	assert_int_equal(b.len >= 26, 1);
	assert_memory_equal(mem + b.len - 14, ", stale=true\r\n", 14);
	assert_int_equal(auth_cred_parse(sl_make(mem + 18, b.len - 20), &c), 0);
	assert_true(sl_eq_cstr(c.algorithm, "MD5"));

	/* too small a buffer is reported, not overrun */
	ob_init(&b, mem, 40);
	auth_challenge(a, &b, SL(REALM), algs, 2, false, NOW);
	assert_true(b.overflow);
}

/* The challenge a client gets is the one it can answer. */
static void test_challenge_roundtrip(void **state)
{
	struct auth_ctx *a = *state;
	char mem[1024];
	struct obuf b;
	struct auth_cred c;
	struct client k;
	const enum auth_alg alg = AUTH_SHA256;

	ob_init(&b, mem, sizeof(mem));
	auth_challenge(a, &b, SL(REALM), &alg, 1, false, NOW);
	assert_int_equal(auth_cred_parse(sl_make(mem + 18, b.len - 20), &c), 0);
	k.alg = alg;
	sl_copy(c.nonce, k.nonce, sizeof(k.nonce));
	client_answer(a, &k, "secret", 1);
	assert_true(sl_eq(c.opaque, k.c.opaque));
	assert_int_equal(verify(a, &k, "secret", NOW + 1), AUTH_OK);
}

/* Quotes in the realm are escaped; control bytes cannot split the header. */
static void test_challenge_realm_escape(void **state)
{
	struct auth_ctx *a = *state;
	char mem[1024];
	struct obuf b;
	const enum auth_alg alg = AUTH_MD5;

	ob_init(&b, mem, sizeof(mem));
	auth_challenge(a, &b, SL("a\"b\\c\r\nX: y"), &alg, 1, false, NOW);
	assert_false(b.overflow);
	assert_memory_equal(mem, "WWW-Authenticate: Digest realm=\"a\\\"b\\\\cX: y\", ", 46);
	assert_null(memchr(mem, '\n', b.len - 1));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* HMAC-SHA256 against python's hmac; the per-thread keyed state must follow
 * key changes and restart cleanly each time. */
static void hmac_hex(const unsigned char *key, const char *msg, char out[65])
{
	struct auth_part p = { msg, strlen(msg) };
	unsigned char mac[32];

	assert_int_equal(auth_hmac(key, &p, 1, mac), 0);
	auth_hex(mac, 32, out);
}

static void test_hmac_rekey(void **state)
{
	static const char v1[] = "f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47";
	static const char v2[] = "f7908560611e2c7fba72d0997127f32e20625f51db88d3edf68ef9aa19c76da6";
	unsigned char k1[AUTH_KEY_LEN], k2[AUTH_KEY_LEN];
	char out[65];

	(void)state;
	for (int i = 0; i < AUTH_KEY_LEN; i++) {
		k1[i] = (unsigned char)i;
		k2[i] = 7;
	}
	for (int round = 0; round < 3; round++) {
		hmac_hex(k1, "abc", out);
		assert_string_equal(out, v1);
		hmac_hex(k1, "abc", out);
		assert_string_equal(out, v1);
		hmac_hex(k2, "abcdef", out);
		assert_string_equal(out, v2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_rfc7616_parsed_header),
		cmocka_unit_test(test_ha1),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_hmac_rekey),
		cmocka_unit_test(test_alg_list),
		T(test_verify_ok),
		T(test_verify_algorithm_forms),
		T(test_verify_case_of_hex),
		T(test_verify_wrong_password),
		T(test_verify_unknown_user),
		T(test_verify_unknown_user_fake_ha1),
		T(test_verify_ha1_wrong_alg),
		T(test_verify_replay),
		T(test_verify_nc_window),
		T(test_verify_expired),
		T(test_verify_future_nonce),
		T(test_verify_alg_mismatch),
		T(test_verify_tampered_nonce),
		T(test_verify_wrong_fields),
		T(test_verify_escaped_realm),
		T(test_verify_other_ctx),
		T(test_challenge),
		T(test_challenge_roundtrip),
		T(test_challenge_realm_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
