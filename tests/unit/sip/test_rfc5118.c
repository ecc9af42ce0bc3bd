/*
 * test_rfc5118.c - the RFC 5118 (IPv6) torture messages (tests/unit/sip/data,
 * the same bytes as tests/torture/rfc5118) parse as datagrams with the
 * status this parser is meant to give, and their IPv6 references come out
 * right.  Run from the repository root, or point SIP_TEST_DATA at the data
 * directory.
 */
#include "sip_test.h"

struct expect {
	const char *file;
	int status;          /* 0: parses; else err.status */
	const char *reason;  /* NULL: any */
};

/* RFC 5118 §4.1-4.10, in order. */
static const struct expect cases[] = {
	{ "ipv6-good.dat", 0, NULL },
	{ "ipv6-bad.dat", 400, "Bad Request-URI" },      /* §4.2: no [ ] */
	{ "port-ambiguous.dat", 0, NULL },               /* §4.3: well-formed */
	{ "port-unambiguous.dat", 0, NULL },
	{ "via-received-param-with-delim.dat", 0, NULL },
	{ "via-received-param-no-delim.dat", 0, NULL },
	/* §4.6: valid, but its printed Content-Length (268) exceeds the body */
	{ "ipv6-in-sdp.dat", 400, "Content-Length Exceeds Body" },
	{ "mult-ip-in-header.dat", 0, NULL },
	{ "mult-ip-in-sdp.dat", 0, NULL },
	{ "ipv4-mapped-ipv6.dat", 0, NULL },
	{ "ipv6-bug-abnf-3-colons.dat", 0, NULL },       /* §4.10: tolerated */
	{ "ipv6-correct-abnf-2-colons.dat", 0, NULL },
};

static struct parsed *parse_file(const char *file)
{
	return t_parse_file(__FILE__, file, false);
}

static void test_all_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expect *c = &cases[i];
		struct parsed *p = parse_file(c->file);
		int got = p->rc == 0 ? 0 : p->err.status;

		if (got != c->status || (c->reason && (!p->err.reason || strcmp(c->reason, p->err.reason))))
			print_error("%s: got %d %s, want %d %s\n", c->file, got,
				    p->err.reason ? p->err.reason : "-", c->status,
				    c->reason ? c->reason : "-");
		assert_int_equal(got, c->status);
		if (c->reason)
			assert_string_equal(p->err.reason, c->reason);
		t_free(p);
	}
}

static void ruri(const struct parsed *p, struct sip_uri *u)
{
	assert_int_equal(sip_uri_parse(p->m.ruri, u), 0);
	assert_true(u->host_ipv6);
}

/* §4.3/4.4: a port inside the brackets is part of the address. */
static void test_ports(void **state)
{
	struct parsed *p = parse_file("port-ambiguous.dat");
	struct sip_uri u;

	(void)state;
	ruri(p, &u);
	assert_sl(u.host, "2001:db8::10:5070");
	assert_int_equal(u.port, 0);
	t_free(p);
	p = parse_file("port-unambiguous.dat");
	ruri(p, &u);
	assert_sl(u.host, "2001:db8::10");
	assert_int_equal(u.port, 5070);
	t_free(p);
}

/* §4.5, 4.7, 4.9: IPv6 sent-by hosts and received= with and without [ ]. */
static void test_vias(void **state)
{
	struct parsed *p = parse_file("via-received-param-with-delim.dat");
	sl_t v;

	(void)state;
	assert_sl(p->m.via.host, "2001:db8::9:1");
	assert_int_equal(sip_param_get(p->m.via.params, "received", &v), 1);
	assert_sl(v, "[2001:db8::9:255]");
	assert_sl(p->m.via.branch, "z9hG4bKas3-111");
	t_free(p);
	p = parse_file("via-received-param-no-delim.dat");
	assert_int_equal(sip_param_get(p->m.via.params, "received", &v), 1);
	assert_sl(v, "2001:db8::9:255");
	t_free(p);
	p = parse_file("mult-ip-in-header.dat");
	assert_int_equal(p->m.count[SIP_H_VIA], 3);
	assert_sl(p->m.via.host, "2001:db8::9:1");
	assert_int_equal(p->m.via.port, 6050);
	t_free(p);
	p = parse_file("ipv4-mapped-ipv6.dat");
	assert_sl(p->m.via.host, "::ffff:192.0.2.10");
	assert_int_equal(p->m.via.port, 19823);
	assert_int_equal(p->m.body.len, 236);  /* Content-Length cuts the last line */
	t_free(p);
}

/* §4.10: both forms name the same address; the AOR keys agree. */
static void test_abnf_bug(void **state)
{
	struct parsed *p3 = parse_file("ipv6-bug-abnf-3-colons.dat");
	struct parsed *p2 = parse_file("ipv6-correct-abnf-2-colons.dat");
	struct sip_uri u3, u2;
	char a3[64], a2[64];

	(void)state;
	ruri(p3, &u3);
	ruri(p2, &u2);
	assert_sl(u3.host, "2001:db8:::192.0.2.1");
	assert_true(sip_uri_eq(&u3, &u2));
	assert_true(sip_uri_eq(&p3->m.to.uri, &p2->m.to.uri));
	assert_true(sip_aor_canon(&p3->m.to.uri, a3, sizeof(a3)) > 0);
	assert_true(sip_aor_canon(&p2->m.to.uri, a2, sizeof(a2)) > 0);
	assert_string_equal(a3, a2);
	assert_string_equal(a3, "user@[2001:db8::c000:201]");
	t_free(p3);
	t_free(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_files),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_vias),
		cmocka_unit_test(test_abnf_bug),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
