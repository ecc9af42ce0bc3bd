/*
 * test_cred.c - auth_cred_parse on good, odd and hostile input.  Inputs are
 * copied into exact-size heap buffers so ASan catches any read past a slice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

/* The buffer of the last parse: kept until the next one, since the
 * resulting slices point into it. */
static char *last;

/* Parse s from a buffer holding exactly its bytes (no NUL after them). */
static int parse_n(const char *s, size_t n, struct auth_cred *c, char **keep)
{
	free(last);
	last = malloc(n ? n : 1);
	assert_non_null(last);
	memcpy(last, s, n);
	if (keep)
		*keep = last;
	return auth_cred_parse(sl_make(last, n), c);
}

static int parse(const char *s, struct auth_cred *c) { return parse_n(s, strlen(s), c, NULL); }

static int free_last(void **state)
{
	(void)state;
	free(last);
	last = NULL;
	return 0;
}

#define EQ(slice, lit) assert_true(sl_eq_cstr((slice), (lit)))

static void test_full(void **state)
{
	static const char h[] =
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"abc-_\", "
		"uri=\"sip:example.com\", response=\"0123abcd\", algorithm=SHA-256, "
		"cnonce=\"xyz\", opaque=\"00ff\", qop=auth, nc=00000001";
	struct auth_cred c;
	char *b;

	(void)state;
	assert_int_equal(parse_n(h, sizeof(h) - 1, &c, &b), 0);
	EQ(c.scheme, "Digest");
	EQ(c.username, "alice");
	EQ(c.realm, "example.com");
	EQ(c.nonce, "abc-_");
	EQ(c.uri, "sip:example.com");
	EQ(c.response, "0123abcd");
	EQ(c.algorithm, "SHA-256");
	EQ(c.cnonce, "xyz");
	EQ(c.opaque, "00ff");
	EQ(c.qop, "auth");
	EQ(c.nc, "00000001");
	assert_false(c.userhash);
	/* slices point into the header, not into copies */
	assert_true(c.username.p > b && c.username.p < b + sizeof(h));
}

static void test_absent_and_empty(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("Digest realm=\"\"", &c), 0);
	assert_true(sl_isset(c.realm));       /* present, empty */
	assert_int_equal(c.realm.len, 0);
	assert_false(sl_isset(c.algorithm));  /* absent */
	assert_false(sl_isset(c.username));
	assert_int_equal(parse("Digest", &c), 0);
	EQ(c.scheme, "Digest");
	assert_int_equal(parse("  Digest \r\n ", &c), 0);
	EQ(c.scheme, "Digest");
}

static void test_case_and_whitespace(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("dIGEST USERNAME=\"a\",Realm=r ,  NC = 00000002\t,qop\t=\tauth", &c), 0);
	EQ(c.scheme, "dIGEST");
	EQ(c.username, "a");
	EQ(c.realm, "r");
	EQ(c.nc, "00000002");
	EQ(c.qop, "auth");
	/* folded over lines, as in the RFC examples */
	assert_int_equal(parse("Digest username=\"a\",\r\n\trealm=\"b\"\r\n ,\r\n nonce=\"n\"", &c), 0);
	EQ(c.username, "a");
	EQ(c.realm, "b");
	EQ(c.nonce, "n");
	assert_int_equal(parse("\r\n Digest\r\n username=\"a\"\r\n", &c), 0);
	EQ(c.username, "a");
}

static void test_escapes(void **state)
{
	struct auth_cred c;

	(void)state;
	/* escapes are left in place; the quote after a backslash does not end it */
	assert_int_equal(parse("Digest username=\"al\\\"ice\", realm=\"x\"", &c), 0);
	EQ(c.username, "al\\\"ice");
	EQ(c.realm, "x");
	assert_int_equal(parse("Digest username=\"a\\\\\", realm=\"x\"", &c), 0);
	EQ(c.username, "a\\\\");
	/* commas and equals signs inside quotes are data */
	assert_int_equal(parse("Digest foo=\"a, b=c\", username=\"u,v\"", &c), 0);
	EQ(c.username, "u,v");
	/* a backslash eating the closing quote leaves it unterminated */
	assert_int_equal(parse("Digest username=\"abc\\\"", &c), -1);
	assert_int_equal(parse("Digest username=\"abc\\", &c), -1);
	/* an escaped line break is not a quoted-pair */
	assert_int_equal(parse("Digest username=\"a\\\r\n b\"", &c), -1);
	/* a folded line inside quotes is LWS and fine */
	assert_int_equal(parse("Digest username=\"a\r\n b\"", &c), 0);
	EQ(c.username, "a\r\n b");
}

static void test_control_bytes(void **state)
{
	struct auth_cred c;
	static const char nul[] = "Digest username=\"a\0b\"";

	(void)state;
	assert_int_equal(parse_n(nul, sizeof(nul) - 1, &c, NULL), -1);
	assert_int_equal(parse("Digest username=\"a\x01\"", &c), -1);
	assert_int_equal(parse("Digest username=\"a\x7f\"", &c), -1);
	assert_int_equal(parse("Digest username=\"a\\\x01\"", &c), -1);
	/* UTF-8 in a quoted-string is allowed */
	assert_int_equal(parse("Digest username=\"J\xc3\xbcrgen\"", &c), 0);
	EQ(c.username, "J\xc3\xbcrgen");
}

static void test_userhash(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("Digest username=\"h\", userhash=true", &c), 0);
	assert_true(c.userhash);
	assert_int_equal(parse("Digest userhash=\"TRUE\"", &c), 0);
	assert_true(c.userhash);
	assert_int_equal(parse("Digest userhash=false", &c), 0);
	assert_false(c.userhash);
	assert_int_equal(parse("Digest userhash=yes", &c), 0);
	assert_false(c.userhash);
	assert_int_equal(parse("Digest userhash=true, userhash=false", &c), -1);
}

static void test_unknown_ignored(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("Digest charset=UTF-8, username=\"a\", x-foo=\"bar\", auts=\"q\"", &c), 0);
	EQ(c.username, "a");
}

static void test_duplicates(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("Digest username=\"a\", username=\"b\"", &c), -1);
	assert_int_equal(parse("Digest username=\"a\", USERNAME=\"a\"", &c), -1);
	assert_int_equal(parse("Digest nc=00000001, realm=r, nc=00000002", &c), -1);
	assert_int_equal(parse("Digest foo=1, bar=2, Foo=3", &c), -1);
	/* a failed parse leaves nothing half-filled */
	assert_false(sl_isset(c.realm));
	assert_false(sl_isset(c.scheme));
}

static void test_param_limit(void **state)
{
	char h[2048];
	size_t n;
	struct auth_cred c;

	(void)state;
	n = (size_t)snprintf(h, sizeof(h), "Digest username=\"u\"");
	for (int i = 1; i < 32; i++)
		n += (size_t)snprintf(h + n, sizeof(h) - n, ", p%d=%d", i, i);
	assert_int_equal(parse(h, &c), 0);          /* 32 params */
	EQ(c.username, "u");
	snprintf(h + n, sizeof(h) - n, ", p32=32");
	assert_int_equal(parse(h, &c), -1);         /* 33 */
}

static void test_value_limit(void **state)
{
	static char h[4096];
	struct auth_cred c;
	int n;

	(void)state;
	n = snprintf(h, sizeof(h), "Digest username=\"%0*d\"", 1024, 0);
	assert_int_equal(parse_n(h, (size_t)n, &c, NULL), 0);
	assert_int_equal(c.username.len, 1024);
	n = snprintf(h, sizeof(h), "Digest username=\"%0*d\"", 1025, 0);
	assert_int_equal(parse_n(h, (size_t)n, &c, NULL), -1);
	n = snprintf(h, sizeof(h), "Digest nc=%0*d", 1024, 0);
	assert_int_equal(parse_n(h, (size_t)n, &c, NULL), 0);
	n = snprintf(h, sizeof(h), "Digest nc=%0*d", 1025, 0);
	assert_int_equal(parse_n(h, (size_t)n, &c, NULL), -1);
	n = snprintf(h, sizeof(h), "Digest %0*d=1", 1025, 0);
	assert_int_equal(parse_n(h, (size_t)n, &c, NULL), -1);
}

static void test_bad_scheme(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(auth_cred_parse(SL_NULL, &c), -1);
	assert_int_equal(parse("", &c), -1);
	assert_int_equal(parse("   \r\n", &c), -1);
	assert_int_equal(parse("\"Digest\" username=\"a\"", &c), -1);
	assert_int_equal(parse("=Digest", &c), -1);
	assert_int_equal(parse(", Digest", &c), -1);
	assert_int_equal(parse("Digest,username=\"a\"", &c), -1);
	assert_int_equal(parse("Digest=\"a\"", &c), -1);
}

/* Another scheme is not an error: the caller sees "no Digest credentials". */
static void test_other_scheme(void **state)
{
	struct auth_cred c;

	(void)state;
	assert_int_equal(parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c), 0);
	EQ(c.scheme, "Basic");
	assert_false(sl_isset(c.username));
	assert_int_equal(parse("Bearer", &c), 0);
	EQ(c.scheme, "Bearer");
	assert_int_equal(parse("Digestive username=\"a\"", &c), 0);
	EQ(c.scheme, "Digestive");
	assert_false(sl_isset(c.username));
}

static void test_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"Digest username",
		"Digest username=",
		"Digest username=   ",
		"Digest username=,realm=r",
		"Digest username=\"a\",",
		"Digest username=\"a\", ",
		"Digest username=\"a\",,realm=r",
		"Digest , username=\"a\"",
		"Digest username=\"a\" realm=\"b\"",
		"Digest username=\"a\"realm=\"b\"",
		"Digest username=\"a",
		"Digest username=\"",
		"Digest uri=sip:example.com",
		"Digest nc=0000 0001",
		"Digest =\"a\"",
		"Digest username==\"a\"",
		"Digest username=\"a\";realm=b",
		"Digest username=a\"b\"",
	};
	struct auth_cred c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &c) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* Every prefix of a good header parses or fails, never reads past its end. */
static void test_truncations(void **state)
{
	static const char h[] =
		"Digest username=\"al\\\"ice\",\r\n realm=\"example.com\", nonce=\"n\", "
		"uri=\"sip:example.com\", response=\"r\", algorithm=MD5, cnonce=\"c\", "
		"opaque=\"o\", qop=auth, nc=00000001, userhash=true";
	struct auth_cred c;
	int ok = 0;

	(void)state;
	for (size_t n = 0; n < sizeof(h); n++)
		ok += parse_n(h, n, &c, NULL) == 0;
	assert_true(ok > 10);
	assert_int_equal(parse_n(h, sizeof(h) - 1, &c, NULL), 0);
	assert_true(c.userhash);
}

/* Random bytes over a Digest-ish alphabet: no crash, no overread, and any
 * accepted header only yields slices inside the input. */
static void test_fuzz(void **state)
{
	static const char alpha[] = "Digest =,\"\\\r\n\tabcnrqou0123-\x01\xff";
	uint32_t seed = 12345;
	struct auth_cred c;
	char buf[96];
	char *b;

	(void)state;
	for (int it = 0; it < 30000; it++) {
		size_t n = 7 + (size_t)(it % 80);

		memcpy(buf, "Digest ", 7);
		for (size_t i = 7; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		if (parse_n(buf, n, &c, &b) == 0) {
			const sl_t *f[] = { &c.username, &c.realm, &c.nonce, &c.uri, &c.response,
					    &c.algorithm, &c.cnonce, &c.opaque, &c.qop, &c.nc };

			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
				if (f[k]->p)
					assert_true(f[k]->p >= b && f[k]->p + f[k]->len <= b + n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_absent_and_empty),
		cmocka_unit_test(test_case_and_whitespace),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_userhash),
		cmocka_unit_test(test_unknown_ignored),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_param_limit),
		cmocka_unit_test(test_value_limit),
		cmocka_unit_test(test_bad_scheme),
		cmocka_unit_test(test_other_scheme),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, free_last);
}
