/*
 * test_rfc4475.c - every RFC 4475 torture message (tests/unit/sip/data,
 * byte-exact copies) parses without crashing and with the status this
 * parser is meant to give.  Run from the repository root, or point
 * SIP_TEST_DATA at the data directory.
 */
#include "sip_test.h"

struct expect {
	const char *file;
	int status;          /* 0: parses; else err.status */
	const char *reason;  /* NULL: any */
};

/* RFC 4475 §3.1.1 valid, §3.1.2 invalid, §3.2-3.4; test.dat is extra. */
static const struct expect cases[] = {
	/* 3.1.1 valid messages */
	{ "wsinv.dat", 0, NULL },
	{ "intmeth.dat", 0, NULL },
	{ "esc01.dat", 0, NULL },
	{ "escnull.dat", 0, NULL },
	{ "esc02.dat", 0, NULL },
	{ "lwsdisp.dat", 0, NULL },
	{ "longreq.dat", 0, NULL },
	{ "dblreq.dat", 0, NULL },
	{ "semiuri.dat", 0, NULL },
	{ "transports.dat", 0, NULL },
	{ "mpart01.dat", 0, NULL },
	{ "unreason.dat", 0, NULL },
	{ "noreason.dat", 0, NULL },
	/* 3.1.2 invalid messages */
	{ "badinv01.dat", 400, "Bad Via Header" },
	{ "clerr.dat", 400, "Content-Length Exceeds Body" },
	{ "scalar02.dat", 400, "Bad CSeq Header" },
	{ "scalarlg.dat", -1, "Bad CSeq Header" },  /* a response: dropped */
	{ "quotbal.dat", 400, "Bad To Header" },
	{ "ltgtruri.dat", 400, "Bad Request-URI" },
	{ "lwsruri.dat", 400, "Bad Request-URI" },
	{ "lwsstart.dat", 400, "Bad Request-URI" },
	{ "trws.dat", 400, "Bad Request Line" },
	{ "escruri.dat", 400, "Bad Request-URI" },
	{ "baddate.dat", 0, NULL },                 /* Date is not ours to check */
	{ "regbadct.dat", 0, NULL },                /* Contact: the registrar's job */
	{ "badaspec.dat", 400, "Bad To Header" },
	{ "baddn.dat", 400, "Bad From Header" },
	{ "badvers.dat", 505, "Version Not Supported" },
	{ "mismatch01.dat", 400, "CSeq Method Does Not Match" },
	{ "mismatch02.dat", 400, "CSeq Method Does Not Match" },
	{ "bigcode.dat", -1, NULL },
	{ "badbranch.dat", 0, NULL },
	/* 3.2 transaction layer, 3.3 application layer */
	{ "dblreq.dat", 0, NULL },
	{ "insuf.dat", 400, "Missing From Header" },
	{ "unkscm.dat", 0, NULL },                  /* the registrar answers 416 */
	{ "novelsc.dat", 0, NULL },
	{ "unksm2.dat", 0, NULL },
	{ "bext01.dat", 0, NULL },
	{ "invut.dat", 0, NULL },
	{ "regaut01.dat", 0, NULL },
	{ "multi01.dat", 400, "Duplicate From Header" },
	{ "mcl01.dat", 400, "Duplicate Content-Length Header" },
	{ "bcast.dat", 0, NULL },
	{ "zeromf.dat", 0, NULL },
	{ "cparam01.dat", 0, NULL },
	{ "cparam02.dat", 0, NULL },
	{ "regescrt.dat", 0, NULL },
	{ "sdp01.dat", 0, NULL },
	{ "ncl.dat", 400, "Bad Content-Length" },
	/* 3.4 backward compatibility */
	{ "inv2543.dat", 0, NULL },
	/* not in RFC 4475: no SIP-Version on the request line */
	{ "test.dat", -1, NULL },
};

static struct parsed *parse_file(const char *file, bool stream)
{
	return t_parse_file(__FILE__, file, stream);
}

/* Parse each message as a datagram and as a stream, frame it, answer it. */
static void test_all_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expect *c = &cases[i];
		struct parsed *p = parse_file(c->file, false);
		struct sip_resp_src src = { "192.0.2.200", 5060 };
		struct sip_perr e;
		size_t skip, ml;
		char out[8192];
		struct obuf b;
		int got = p->rc == 0 ? 0 : p->err.status;

		if (got != c->status || (c->reason && (!p->err.reason || strcmp(c->reason, p->err.reason))))
			print_error("%s: got %d %s, want %d %s\n", c->file, got,
				    p->err.reason ? p->err.reason : "-", c->status,
				    c->reason ? c->reason : "-");
		assert_int_equal(got, c->status);
		if (c->reason)
			assert_string_equal(p->err.reason, c->reason);
		if (got == 0)
			assert_true(p->m.len <= p->len);
		ob_init(&b, out, sizeof(out));
		sip_resp_begin(&b, &p->m, 400, "Bad Request", &src, SL("t"));
		sip_resp_end(&b);
		assert_false(b.overflow);
		/* a response never holds a bare CR or LF inside a line */
		for (size_t k = 0; k < b.len; k++)
			if (out[k] == '\n')
				assert_true(k > 0 && out[k - 1] == '\r');
		(void)sip_frame(p->buf, p->len, SIP_MAX_MSG, &skip, &ml, &e);
		t_free(p);
		p = parse_file(c->file, true);
		t_free(p);
	}
}

static void test_wsinv(void **state)
{
	struct parsed *p = parse_file("wsinv.dat", false);
	const struct sip_hdr *h;
	size_t pos = 0;
	sl_t item;
	int n = 0;

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_int_equal(p->m.cseq, 9);
	assert_sl(p->m.cseq_method, "INVITE");
	assert_sl(p->m.to.tag, "1918181833n");
	assert_sl(p->m.from.tag, "98asjd8");
	assert_sl(p->m.via.host, "192.0.2.2");
	assert_sl(p->m.via.branch, "390skdjuw");
	assert_int_equal(p->m.count[SIP_H_VIA], 2);
	h = sip_hdr_next(&p->m, sip_hdr_get(&p->m, SIP_H_VIA));
	while (sip_list_next(h->value, &pos, &item) == 1)
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(p->m.content_length, 150);
	assert_int_equal(p->m.body.len, 150);
	h = sip_hdr_by_name(&p->m, "Subject");
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	t_free(p);
}

static void test_escapes(void **state)
{
	struct parsed *p = parse_file("esc02.dat", false);
	char aor[128];

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.method, "RE%47IST%45R");
	assert_int_equal(p->m.mid, SIP_M_OTHER);
	/* "C%6Fntact" is not Contact */
	assert_int_equal(p->m.count[SIP_H_CONTACT], 2);
	t_free(p);
	p = parse_file("escnull.dat", false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(sip_aor_canon(&p->m.to.uri, aor, sizeof(aor)), 25);
	assert_string_equal(aor, "null-%00-null@example.com");
	t_free(p);
	p = parse_file("esc01.dat", false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(sip_aor_canon(&p->m.to.uri, aor, sizeof(aor)), 16);
	assert_string_equal(aor, "user@example.com");
	assert_int_equal(sip_aor_canon(&p->m.from.uri, aor, sizeof(aor)), 25);
	assert_string_equal(aor, "I have spaces@example.net");
	t_free(p);
}

static void test_dblreq(void **state)
{
	struct parsed *p = parse_file("dblreq.dat", false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.mid, SIP_M_REGISTER);
	assert_int_equal(p->m.body.len, 0);
	assert_true(p->m.len < p->len);
	t_free(p);
}

static void test_responses(void **state)
{
	struct parsed *p = parse_file("noreason.dat", false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_false(p->m.is_request);
	assert_int_equal(p->m.status, 100);
	assert_int_equal(p->m.reason.len, 0);
	t_free(p);
	p = parse_file("unreason.dat", false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.status, 200);
	assert_true(p->m.reason.len > 20);
	t_free(p);
}

static void test_transports_and_longreq(void **state)
{
	struct parsed *p = parse_file("transports.dat", false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.count[SIP_H_VIA], 5);
	t_free(p);
	p = parse_file("longreq.dat", false);
	assert_int_equal(p->rc, 0);
	assert_true(p->m.count[SIP_H_VIA] >= 2);
	assert_true(p->m.to.display.len > 80);
	t_free(p);
	/* RFC 2543 style: no From tag, no branch; the empty tag still points
	 * into the message (the transaction key copies it) */
	p = parse_file("inv2543.dat", false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.from.tag.len, 0);
	assert_non_null(p->m.from.tag.p);
	assert_true(p->m.from.tag.p >= p->buf && p->m.from.tag.p <= p->buf + p->len);
	assert_int_equal(p->m.via.branch.len, 0);
	t_free(p);
	p = parse_file("intmeth.dat", false);
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_sl(p->m.cseq_method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_sl(p->m.from.tag, "_token~1'+`*%!-.");
	t_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_files),
		cmocka_unit_test(test_wsinv),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_dblreq),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_transports_and_longreq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
