/* test_msg.c - sip_msg_parse: start line, headers, checks, body, bounds. */
#include "sip_test.h"
#include "sip/sip_int.h"

/* Success -------------------------------------------------------------- */

static void test_register_ok(void **state)
{
	struct parsed *p = t_parse(T_REGISTER, false);
	const struct sip_msg *m = &p->m;

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->err.status, 0);
	assert_true(m->is_request);
	assert_sl(m->method, "REGISTER");
	assert_int_equal(m->mid, SIP_M_REGISTER);
	assert_sl(m->ruri, "sip:example.com");
	assert_sl(m->version, "SIP/2.0");
	assert_int_equal(m->nhdrs, 8);
	assert_int_equal(m->count[SIP_H_VIA], 1);
	assert_int_equal(m->first[SIP_H_VIA], 0);
	assert_int_equal(m->first[SIP_H_MAX_FORWARDS], 1);
	assert_int_equal(m->first[SIP_H_EXPIRES], -1);
	assert_int_equal(m->count[SIP_H_EXPIRES], 0);
	assert_sl(m->via.transport, "UDP");
	assert_sl(m->via.host, "192.0.2.1");
	assert_int_equal(m->via.port, 5060);
	assert_sl(m->via.branch, "z9hG4bK776asdhds");
	assert_false(m->via.rport);
	assert_sl(m->from.tag, "1928301774");
	assert_sl(m->from.display, "Alice");
	assert_sl(m->from.uri.user, "alice");
	assert_int_equal(m->to.tag.len, 0);
	assert_sl(m->to.uri.host, "example.com");
	assert_sl(m->call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(m->cseq, 314159);
	assert_sl(m->cseq_method, "REGISTER");
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 0);
	assert_int_equal(m->body.len, 0);
	assert_int_equal(m->len, strlen(T_REGISTER));
	assert_ptr_equal(m->buf, p->buf);
	t_free(p);
}

static void test_header_slices(void **state)
{
	struct parsed *p = t_parse(T_REGISTER, false);
	const struct sip_hdr *h = sip_hdr_get(&p->m, SIP_H_CONTACT);

	(void)state;
	assert_non_null(h);
	assert_int_equal(h->id, SIP_H_CONTACT);
	assert_sl(h->name, "Contact");
	assert_sl(h->value, "<sip:alice@192.0.2.1:5060>;expires=3600");
	assert_sl(h->line, "Contact: <sip:alice@192.0.2.1:5060>;expires=3600");
	t_free(p);
}

static void test_response_ok(void **state)
{
	const char *s = "SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
			"From: <sip:a@example.com>;tag=1\r\n"
			"To: <sip:a@example.com>;tag=2\r\n"
			"Call-ID: x\r\n"
			"CSeq: 1 REGISTER\r\n"
			"Content-Length: 0\r\n\r\n";
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_false(p->m.is_request);
	assert_int_equal(p->m.status, 200);
	assert_sl(p->m.reason, "OK");
	assert_sl(p->m.version, "SIP/2.0");
	assert_sl(p->m.to.tag, "2");
	t_free(p);
}

static void test_response_reason_variants(void **state)
{
	static const char *const lines[] = {
		"SIP/2.0 100 \r\n", "SIP/2.0 100\r\n", "SIP/2.0 486 Busy Here, really\r\n",
		"sip/2.0 180 Ringing\r\n",
	};
	const char *rest = "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
			   "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed *p;

		snprintf(buf, sizeof(buf), "%s%s", lines[i], rest);
		p = t_parse(buf, false);
		assert_int_equal(p->rc, 0);
		assert_false(p->m.is_request);
		t_free(p);
	}
}

static void test_response_errors_drop(void **state)
{
	static const char *const bad[] = {
		/* status code not 3 digits, or out of range */
		"SIP/2.0 4294967301 nope\r\n", "SIP/2.0 20 OK\r\n", "SIP/2.0 099 x\r\n",
		"SIP/2.0 700 x\r\n", "SIP/2.0 2000 x\r\n",
		/* version */
		"SIP/3.0 200 OK\r\n", "SIP/2 200 OK\r\n",
	};
	const char *rest = "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
			   "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parsed *p;

		snprintf(buf, sizeof(buf), "%s%s", bad[i], rest);
		p = t_parse(buf, false);
		assert_int_equal(p->rc, -1);
		assert_int_equal(p->err.status, -1);
		assert_non_null(p->err.reason);
		t_free(p);
	}
}

/* A broken response is never answered: any error becomes "drop" but keeps
 * its reason for the log. */
static void test_response_missing_header_drops(void **state)
{
	struct parsed *p = t_parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n"
				   "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 INVITE\r\n\r\n",
				   false);

	(void)state;
	assert_int_equal(p->rc, -1);
	assert_int_equal(p->err.status, -1);
	assert_string_equal(p->err.reason, "Missing Call-ID Header");
	t_free(p);
}

static void test_bare_lf(void **state)
{
	const char *s = "OPTIONS sip:bob@example.com SIP/2.0\n"
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlf\n"
			"From: <sip:a@example.com>;tag=1\n"
			"To: <sip:bob@example.com>\n"
			"Call-ID: lf@x\n"
			"CSeq: 7 OPTIONS\n"
			"Content-Length: 4\n"
			"\n"
			"abcdEXTRA";
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.call_id, "lf@x");
	assert_sl(p->m.body, "abcd");
	assert_int_equal(p->m.len, strlen(s) - 5);
	assert_int_equal(p->m.nhdrs, 6);
	t_free(p);
}

static void test_mixed_line_ends(void **state)
{
	const char *s = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlf\n"
			"From: <sip:a@example.com>;tag=1\r\n"
			"To: <sip:bob@example.com>\n"
			"Call-ID: lf@x\r\n"
			"CSeq: 7 OPTIONS\n"
			"\r\n"
			"body";
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.body, "body");
	assert_sl(p->m.to.uri.user, "bob");
	t_free(p);
}

static void test_leading_crlf_skipped(void **state)
{
	char *s = t_subst(T_REGISTER, "REGISTER sip:", "REGISTER sip:");
	char *s2 = malloc(strlen(s) + 5);
	struct parsed *p;

	(void)state;
	strcpy(s2, "\r\n\r\n");
	strcat(s2, s);
	p = t_parse(s2, false);
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.method, "REGISTER");
	t_free(p);
	free(s2);
	free(s);
}

/* Datagrams: the end of the datagram may stand for the empty line. */
static void test_datagram_without_empty_line(void **state)
{
	struct parsed *p = t_parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				   "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
				   "CSeq: 1 OPTIONS\r\nl: 0",
				   false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.body.len, 0);
	assert_int_equal(p->m.count[SIP_H_CONTENT_LENGTH], 1);
	t_free(p);
}

/* Compact forms and header-name case ----------------------------------- */

static void test_compact_forms(void **state)
{
	const char *s = "INVITE sip:bob@example.com SIP/2.0\r\n"
			"v: SIP/2.0/TCP h.example.com;branch=z9hG4bKc\r\n"
			"f: <sip:a@example.com>;tag=9\r\n"
			"t: <sip:bob@example.com>\r\n"
			"i: compact@h\r\n"
			"m: <sip:a@192.0.2.3>\r\n"
			"c: application/sdp\r\n"
			"e: gzip\r\n"
			"k: path\r\n"
			"s: hello\r\n"
			"o: reg\r\n"
			"r: <sip:c@d>\r\n"
			"u: presence\r\n"
			"CSeq: 1 INVITE\r\n"
			"l: 3\r\n"
			"\r\nabc";
	struct parsed *p = t_parse(s, false);
	const struct sip_msg *m = &p->m;
	const struct sip_hdr *h;

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(m->count[SIP_H_VIA], 1);
	assert_int_equal(m->count[SIP_H_FROM], 1);
	assert_int_equal(m->count[SIP_H_TO], 1);
	assert_int_equal(m->count[SIP_H_CALL_ID], 1);
	assert_int_equal(m->count[SIP_H_CONTACT], 1);
	assert_int_equal(m->count[SIP_H_CONTENT_TYPE], 1);
	assert_int_equal(m->count[SIP_H_CONTENT_ENCODING], 1);
	assert_int_equal(m->count[SIP_H_SUPPORTED], 1);
	assert_int_equal(m->count[SIP_H_CONTENT_LENGTH], 1);
	assert_int_equal(m->count[SIP_H_OTHER], 4);
	assert_sl(m->call_id, "compact@h");
	assert_sl(m->body, "abc");
	/* names without an id are still found by full or compact name */
	h = sip_hdr_by_name(m, "Subject");
	assert_non_null(h);
	assert_sl(h->value, "hello");
	h = sip_hdr_by_name(m, "event");
	assert_non_null(h);
	assert_sl(h->value, "reg");
	h = sip_hdr_by_name(m, "Refer-To");
	assert_non_null(h);
	assert_sl(h->name, "r");
	h = sip_hdr_by_name(m, "Allow-Events");
	assert_non_null(h);
	assert_null(sip_hdr_by_name(m, "Accept"));
	/* known names too, in any case */
	h = sip_hdr_by_name(m, "CONTACT");
	assert_non_null(h);
	assert_int_equal(h->id, SIP_H_CONTACT);
	t_free(p);
}

static void test_header_name_case(void **state)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"vIA: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"FROM: <sip:a@example.com>;tag=1\r\n"
			"to: <sip:a@example.com>\r\n"
			"cAlL-iD: abc\r\n"
			"cseq: 1 REGISTER\r\n"
			"MaX-fOrWaRdS: 0068\r\n"
			"CONTENT-length: 0\r\n"
			"L: 0\r\n"
			"\r\n";
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.count[SIP_H_MAX_FORWARDS], 1);
	/* Content-Length twice with the same value is tolerated */
	assert_int_equal(p->m.count[SIP_H_CONTENT_LENGTH], 2);
	assert_sl(sip_hdr_get(&p->m, SIP_H_CALL_ID)->name, "cAlL-iD");
	t_free(p);
}

static void test_space_before_colon(void **state)
{
	(void)state;
	t_expect_edit("Call-ID:", "Call-ID \t :", false, 0, NULL);
	t_expect_edit("Max-Forwards: 70", "Max-Forwards:70", false, 0, NULL);
	t_expect_edit("Max-Forwards: 70", "Max-Forwards:", false, 0, NULL);
}

/* Folding ------------------------------------------------------------- */

static void test_folding(void **state)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP\r\n"
			"  192.0.2.7\r\n"
			"\t;branch=z9hG4bKfold\r\n"
			"From:\r\n"
			" <sip:a@example.com>\r\n"
			"  ;tag=77\r\n"
			"To: <sip:a@example.com>\r\n"
			"Call-ID:\r\n"
			" folded-callid\r\n"
			"CSeq: 0009\r\n"
			"  REGISTER\r\n"
			"Subject: one\r\n"
			" two\r\n"
			"\r\n";
	struct parsed *p = t_parse(s, false);
	const struct sip_hdr *h;

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.nhdrs, 6);
	assert_sl(p->m.via.host, "192.0.2.7");
	assert_sl(p->m.via.branch, "z9hG4bKfold");
	assert_sl(p->m.from.tag, "77");
	assert_sl(p->m.call_id, "folded-callid");
	assert_int_equal(p->m.cseq, 9);
	assert_sl(p->m.cseq_method, "REGISTER");
	h = sip_hdr_by_name(&p->m, "subject");
	assert_non_null(h);
	/* the value keeps the fold; the line covers both lines */
	assert_sl(h->value, "one\r\n two");
	assert_sl(h->line, "Subject: one\r\n two");
	t_free(p);
}

static void test_folding_bare_lf(void **state)
{
	(void)state;
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com\r\n",
		      "Call-ID:\n a84b4c76e66710@pc33.example.com\r\n", false, 0, NULL);
}

/* Folding with nothing to fold into is a broken header line. */
static void test_fold_first_line(void **state)
{
	(void)state;
	t_expect_edit("SIP/2.0\r\nVia", "SIP/2.0\r\n folded\r\nVia", false, 400, "Bad Header Line");
}

/* Header access ------------------------------------------------------- */

static void test_hdr_iteration(void **state)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"Contact: <sip:a@1>\r\n"
			"From: <sip:a@example.com>;tag=1\r\n"
			"m: <sip:a@2>, <sip:a@3>\r\n"
			"To: <sip:a@example.com>\r\n"
			"X-Foo: 1\r\n"
			"Call-ID: abc\r\n"
			"x-foo: 2\r\n"
			"CSeq: 1 REGISTER\r\n"
			"X-Bar: 3\r\n"
			"CONTACT: <sip:a@4>\r\n"
			"\r\n";
	struct parsed *p = t_parse(s, false);
	const struct sip_hdr *h;
	const char *want[] = { "<sip:a@1>", "<sip:a@2>, <sip:a@3>", "<sip:a@4>" };
	int n = 0;

	(void)state;
	assert_int_equal(p->rc, 0);
	for (h = sip_hdr_get(&p->m, SIP_H_CONTACT); h; h = sip_hdr_next(&p->m, h)) {
		assert_true(n < 3);
		assert_sl(h->value, want[n]);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(p->m.count[SIP_H_CONTACT], 3);
	/* other headers iterate by name */
	h = sip_hdr_by_name(&p->m, "X-FOO");
	assert_sl(h->value, "1");
	h = sip_hdr_next(&p->m, h);
	assert_non_null(h);
	assert_sl(h->value, "2");
	assert_null(sip_hdr_next(&p->m, h));
	/* bad ids and foreign pointers */
	assert_null(sip_hdr_get(&p->m, SIP_H__COUNT));
	assert_null(sip_hdr_get(&p->m, SIP_H_EXPIRES));
	{
		struct sip_hdr other;

		assert_null(sip_hdr_next(&p->m, &other));
		assert_null(sip_hdr_next(&p->m, NULL));
	}
	t_free(p);
}

/* Drop: no recognisable start line --------------------------------------- */

static void expect_drop(const char *s, size_t n)
{
	struct parsed *p = t_parse_n(s, n, false);

	if (p->err.status != -1)
		print_error("not dropped: [%.*s] %d\n", (int)n, s, p->err.status);
	assert_int_equal(p->rc, -1);
	assert_int_equal(p->err.status, -1);
	assert_non_null(p->err.reason);
	t_free(p);
}

static void test_garbage_dropped(void **state)
{
	static const char bin[] = { 0, 1, 2, (char)0xff, '\r', '\n', 'x' };

	(void)state;
	expect_drop("", 0);
	expect_drop("\r\n\r\n", 4);
	expect_drop("\n", 1);
	expect_drop("hello world\r\n\r\n", 15);
	expect_drop("hello", 5);
	expect_drop(bin, sizeof(bin));
	expect_drop("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	/* no SIP-Version at all (not RFC 4475, but common garbage) */
	expect_drop("INVITE sip:alan@jasomi.com\r\nTo: x\r\n\r\n", 38);
	expect_drop(" INVITE sip:a@b SIP/2.0\r\n\r\n", 27);
	expect_drop("INVITE\r\n\r\n", 10);
	expect_drop("<INVITE> sip:a@b SIP/2.0\r\n\r\n", 28);
	/* NULL buffer */
	{
		struct sip_msg m;
		struct sip_perr e;

		assert_int_equal(sip_msg_parse(&m, NULL, 0, false, &e), -1);
		assert_int_equal(e.status, -1);
	}
}

/* Header-block errors -------------------------------------------------- */

static void test_header_without_colon(void **state)
{
	(void)state;
	t_expect_edit("Max-Forwards: 70", "Max-Forwards 70", false, 400, "Bad Header Line");
	t_expect_edit("Max-Forwards: 70", "Foobar roobar", false, 400, "Bad Header Line");
	t_expect_edit("Max-Forwards: 70", ": 70", false, 400, "Bad Header Line");
	t_expect_edit("Max-Forwards: 70", "Max Forwards: 70", false, 400, "Bad Header Line");
	t_expect_edit("Max-Forwards: 70", "Max-Forwards", false, 400, "Bad Header Line");
	/* even when everything else is wrong too, this is what is reported */
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID a84b", false, 400,
		      "Bad Header Line");
}

static char *with_n_headers(unsigned extra)
{
	size_t cap = strlen(T_REGISTER) + extra * 32 + 1, o;
	char *s = malloc(cap);
	const char *tail = "Content-Length: 0\r\n\r\n";

	assert_non_null(s);
	o = strlen(T_REGISTER) - strlen(tail);
	memcpy(s, T_REGISTER, o);
	for (unsigned i = 0; i < extra; i++)
		o += (size_t)snprintf(s + o, cap - o, "X-H%u: %u\r\n", i, i);
	strcpy(s + o, tail);
	return s;
}

static void test_too_many_headers(void **state)
{
	char *s;
	struct parsed *p;

	(void)state;
	/* T_REGISTER has 8 headers: 120 more is exactly the limit */
	s = with_n_headers(SIP_MAX_HEADERS - 8);
	p = t_parse(s, false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.nhdrs, SIP_MAX_HEADERS);
	t_free(p);
	free(s);

	s = with_n_headers(SIP_MAX_HEADERS - 7);
	p = t_parse(s, false);
	assert_int_equal(p->rc, -1);
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Too Many Headers");
	assert_int_equal(p->m.nhdrs, SIP_MAX_HEADERS);
	/* the headers needed to answer were still decoded */
	assert_sl(p->m.call_id, "a84b4c76e66710@pc33.example.com");
	t_free(p);
	free(s);

	s = with_n_headers(1000);
	p = t_parse(s, false);
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Too Many Headers");
	t_free(p);
	free(s);
}

/* Mandatory headers ------------------------------------------------------ */

static void test_missing_headers(void **state)
{
	(void)state;
	t_expect_edit("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n", "", false,
		      400, "Missing Via Header");
	t_expect_edit("From: Alice <sip:alice@example.com>;tag=1928301774\r\n", "", false, 400,
		      "Missing From Header");
	t_expect_edit("To: Alice <sip:alice@example.com>\r\n", "", false, 400,
		      "Missing To Header");
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "", false, 400,
		      "Missing Call-ID Header");
	t_expect_edit("CSeq: 314159 REGISTER\r\n", "", false, 400, "Missing CSeq Header");
	/* datagrams do not need Content-Length */
	t_expect_edit("Content-Length: 0\r\n", "", false, 0, NULL);
}

static void test_duplicate_headers(void **state)
{
	(void)state;
	t_expect_edit("Max-Forwards", "From: <sip:x@example.com>;tag=2\r\nMax-Forwards", false, 400,
		      "Duplicate From Header");
	t_expect_edit("Max-Forwards", "t: <sip:x@example.com>\r\nMax-Forwards", false, 400,
		      "Duplicate To Header");
	t_expect_edit("Max-Forwards", "i: other\r\nMax-Forwards", false, 400,
		      "Duplicate Call-ID Header");
	t_expect_edit("Max-Forwards", "CSeq: 1 REGISTER\r\nMax-Forwards", false, 400,
		      "Duplicate CSeq Header");
	t_expect_edit("Max-Forwards", "l: 5\r\nMax-Forwards", false, 400,
		      "Duplicate Content-Length Header");
	/* the very same value twice is harmless */
	t_expect_edit("Max-Forwards", "Call-ID: a84b4c76e66710@pc33.example.com\r\nMax-Forwards",
		      false, 0, NULL);
	t_expect_edit("Max-Forwards", "l: 0\r\nMax-Forwards", false, 0, NULL);
	/* several Via headers are normal */
	t_expect_edit("Max-Forwards", "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2\r\nMax-Forwards",
		      false, 0, NULL);
}

static void test_bad_cseq(void **state)
{
	static const char *const bad[] = {
		"CSeq: abc REGISTER", "CSeq: 1", "CSeq: 1REGISTER", "CSeq: -1 REGISTER",
		"CSeq: 2147483648 REGISTER", "CSeq: 99999999999999999999 REGISTER",
		"CSeq: 1 REGISTER x", "CSeq: 1 REG/ISTER", "CSeq:", "CSeq: REGISTER 1",
		"CSeq: 1.0 REGISTER",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_edit("CSeq: 314159 REGISTER", bad[i], false, 400, "Bad CSeq Header");
	t_expect_edit("CSeq: 314159 REGISTER", "CSeq: 2147483647 REGISTER", false, 0, NULL);
	t_expect_edit("CSeq: 314159 REGISTER", "CSeq: 0 REGISTER", false, 0, NULL);
	t_expect_edit("CSeq: 314159 REGISTER", "CSeq:1\t \tREGISTER", false, 0, NULL);
}

static void test_cseq_method_mismatch(void **state)
{
	(void)state;
	t_expect_edit("CSeq: 314159 REGISTER", "CSeq: 314159 INVITE", false, 400,
		      "CSeq Method Does Not Match");
	/* methods are case-sensitive */
	t_expect_edit("CSeq: 314159 REGISTER", "CSeq: 314159 register", false, 400,
		      "CSeq Method Does Not Match");
}

static void test_bad_from_to(void **state)
{
	static const char *const bad[] = {
		"\"Alice <sip:alice@example.com>",        /* unbalanced quote */
		"Alice, Smith <sip:alice@example.com>",  /* comma in a token display */
		"<sip:alice@example.com",                /* no '>' */
		"< sip:alice@example.com >",             /* spaces in the addr-spec */
		"sip:alice@example.com?X=1",             /* '?' needs brackets */
		"<sip:alice@example.com>;;tag=1",        /* empty parameter */
		"<sip:alice@example.com> junk",
		"<sip:alice@exa mple.com>",
		"",
		"<>",
		"<sip:alice@example.com>;tag=",
	};
	char from[128], to[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(from, sizeof(from), "From: %s\r\n", bad[i]);
		snprintf(to, sizeof(to), "To: %s\r\n", bad[i]);
		t_expect_edit("From: Alice <sip:alice@example.com>;tag=1928301774\r\n", from, false, 400,
			      "Bad From Header");
		t_expect_edit("To: Alice <sip:alice@example.com>\r\n", to, false, 400, "Bad To Header");
	}
}

static void test_bad_via(void **state)
{
	static const char *const bad[] = {
		"SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0 host", "SIP/2.0/ host",
		"SIP/2.0/UDP host:99999", "SIP/2.0/UDP host:", "SIP/2.0/UDP host;;",
		"SIP/2.0/UDP host;branch=\"unterminated", "SIP/2.0/UDP [::1", "SIP/2.0/UDP [zz]",
		"SIP/2.0/UDP h1, garbage", "SIP/2.0/UDP h1,", "SIP/2.0/UDP 192.0.2.15;;,;,,",
		"SIP/2.0/UDP host junk", "SIP/2.0/UDPhost", "SIP//UDP h", "/2.0/UDP h",
	};
	char via[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(via, sizeof(via), "Via: %s\r\n", bad[i]);
		t_expect_edit("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n", via, false,
			      400, "Bad Via Header");
	}
	/* a bad Via in a second header line too */
	t_expect_edit("Max-Forwards", "Via: bogus\r\nMax-Forwards", false, 400, "Bad Via Header");
}

static void test_via_top_decoded_even_if_later_bad(void **state)
{
	char *s = t_subst(T_REGISTER, "Max-Forwards", "Via: SIP/2.0/UDP bad host\r\nMax-Forwards");
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->err.status, 400);
	assert_sl(p->m.via.host, "192.0.2.1");
	assert_sl(p->m.via.branch, "z9hG4bK776asdhds");
	t_free(p);
	free(s);
}

static void test_via_forms(void **state)
{
	const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
			"Via  : SIP  /   2.0\r\n /UDP\r\n    [2001:db8::9]:5070 ;branch=\r\n z9hG4bK30239 ;rport\r\n"
			"From: <sip:a@example.com>;tag=1\r\n"
			"To: <sip:a@example.com>\r\n"
			"Call-ID: v6\r\n"
			"CSeq: 1 REGISTER\r\n"
			"\r\n";
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.via.transport, "UDP");
	assert_sl(p->m.via.host, "2001:db8::9");
	assert_int_equal(p->m.via.port, 5070);
	assert_sl(p->m.via.branch, "z9hG4bK30239");
	assert_true(p->m.via.rport);
	t_free(p);
}

static void test_too_many_vias(void **state)
{
	char via[SIP_MAX_VIA_ENTRIES * 40 + 64];
	size_t o;
	char *s;
	struct parsed *p;

	(void)state;
	/* exactly SIP_MAX_VIA_ENTRIES entries over two header lines (more
	 * than SIP_MAX_VIAS: RFC 4475 longreq has 34) */
	o = (size_t)snprintf(via, sizeof(via), "Via: SIP/2.0/UDP h0;branch=z9hG4bK0");
	for (int i = 1; i < SIP_MAX_VIA_ENTRIES; i++)
		o += (size_t)snprintf(via + o, sizeof(via) - o, "%sSIP/2.0/UDP h%d;branch=z9hG4bK%d",
				      i == SIP_MAX_VIA_ENTRIES / 2 ? "\r\nVia: " : ", ", i, i);
	snprintf(via + o, sizeof(via) - o, "\r\n");
	s = t_subst(T_REGISTER, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n", via);
	p = t_parse(s, false);
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.via.host, "h0");
	assert_int_equal(p->m.count[SIP_H_VIA], 2);
	t_free(p);
	free(s);
	/* one more */
	snprintf(via + o, sizeof(via) - o, ", SIP/2.0/UDP x\r\n");
	s = t_subst(T_REGISTER, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n", via);
	p = t_parse(s, false);
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Too Many Via Entries");
	t_free(p);
	free(s);
}

static void test_bad_call_id(void **state)
{
	(void)state;
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID:", false, 400,
		      "Bad Call-ID Header");
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID: a b", false, 400,
		      "Bad Call-ID Header");
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID: a\x01", false, 400,
		      "Bad Call-ID Header");
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID: caf\xc3\xa9", false, 400,
		      "Bad Call-ID Header");
	/* RFC 4475 intmeth: all of these are word characters */
	t_expect_edit("Call-ID: a84b4c76e66710@pc33.example.com",
		      "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", false, 0, NULL);
}

/* Start line ------------------------------------------------------------- */

static void test_bad_request_uri(void **state)
{
	static const char *const bad[] = {
		"<sip:example.com>", "sip:example.com; lr", "example.com", "sip:", ":foo",
		"sip:user@example.com?Route=%3Csip:example.com%3E", "sip:exa\tmple.com",
		"sip:a@b:99999", "sip:[::1", "1sip:x", "sip:a@example.com;;",
		" sip:example.com", "sip:example.com ",
	};
	char line[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "REGISTER %s SIP/2.0", bad[i]);
		t_expect_edit("REGISTER sip:example.com SIP/2.0", line, false, 400, "Bad Request-URI");
	}
	/* "REGISTER  SIP/2.0": empty URI */
	t_expect_edit("REGISTER sip:example.com SIP/2.0", "REGISTER  SIP/2.0", false, 400,
		      "Bad Request-URI");
}

static void test_other_schemes_accepted(void **state)
{
	static const char *const ok[] = {
		"nobodyKnowsThisScheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002",
		"tel:+1-201-555-0123", "SIPS:example.com", "sip:[2001:db8::1]:5060;transport=tcp",
		"sip:user;par=u%40example.net@example.com",
	};
	char line[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line), "REGISTER %s SIP/2.0", ok[i]);
		t_expect_edit("REGISTER sip:example.com SIP/2.0", line, false, 0, NULL);
	}
}

static void test_bad_request_line(void **state)
{
	(void)state;
	/* RFC 4475 trws: trailing white space after the version */
	t_expect_edit("SIP/2.0\r\nVia", "SIP/2.0  \r\nVia", false, 400, "Bad Request Line");
	t_expect_edit("SIP/2.0\r\nVia", "SIP/2\r\nVia", false, 400, "Bad Request Line");
	t_expect_edit("SIP/2.0\r\nVia", "SIP/2.0x\r\nVia", false, 400, "Bad Request Line");
	t_expect_edit("SIP/2.0\r\nVia", "SIP/.0\r\nVia", false, 400, "Bad Request Line");
}

static void test_methods(void **state)
{
	struct parsed *p;
	char *s = t_subst(T_REGISTER, "REGISTER sip:", "RE%47IST%45R sip:");
	char *s2 = t_subst(s, "314159 REGISTER", "314159 RE%47IST%45R");

	(void)state;
	p = t_parse(s2, false);
	assert_int_equal(p->rc, 0);
	/* escapes mean nothing in a method: this is an unknown method */
	assert_int_equal(p->m.mid, SIP_M_OTHER);
	t_free(p);
	free(s2);
	free(s);
	s = t_subst(T_REGISTER, "REGISTER sip:", "register sip:");
	s2 = t_subst(s, "314159 REGISTER", "314159 register");
	p = t_parse(s2, false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.mid, SIP_M_OTHER);
	t_free(p);
	free(s2);
	free(s);
}

/* Version: 505 only once the request could be answered ------------------ */

static void test_version_not_supported(void **state)
{
	char *s;
	struct parsed *p;

	(void)state;
	t_expect_edit("sip:example.com SIP/2.0", "sip:example.com SIP/7.0", false, 505,
		      "Version Not Supported");
	t_expect_edit("sip:example.com SIP/2.0", "sip:example.com SIP/2.1", false, 505,
		      "Version Not Supported");
	t_expect_edit("sip:example.com SIP/2.0", "sip:example.com SIP/20.0", false, 505,
		      "Version Not Supported");
	/* the version token matches case-insensitively */
	t_expect_edit("sip:example.com SIP/2.0", "sip:example.com sip/2.0", false, 0, NULL);
	/* structural problems first */
	s = t_subst(T_REGISTER, "Call-ID: a84b4c76e66710@pc33.example.com\r\n", "");
	{
		char *s2 = t_subst(s, "SIP/2.0\r\n", "SIP/7.0\r\n");

		p = t_parse(s2, false);
		assert_int_equal(p->err.status, 400);
		assert_string_equal(p->err.reason, "Missing Call-ID Header");
		t_free(p);
		free(s2);
	}
	free(s);
	s = t_subst(T_REGISTER, "CSeq: 314159 REGISTER", "CSeq: x");
	{
		char *s2 = t_subst(s, "SIP/2.0\r\n", "SIP/7.0\r\n");

		p = t_parse(s2, false);
		assert_int_equal(p->err.status, 400);
		t_free(p);
		free(s2);
	}
	free(s);
}

/* Content-Length and body ------------------------------------------------ */

static void test_bad_content_length(void **state)
{
	static const char *const bad[] = {
		"Content-Length: -999", "Content-Length: abc", "Content-Length:", "Content-Length: 1 2",
		"Content-Length: 0x10", "Content-Length: +5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_expect_edit("Content-Length: 0", bad[i], false, 400, "Bad Content-Length");
		t_expect_edit("Content-Length: 0", bad[i], true, 400, "Bad Content-Length");
	}
}

static void test_datagram_body(void **state)
{
	char *s = t_subst(T_REGISTER, "Content-Length: 0\r\n\r\n", "Content-Length: 5\r\n\r\nhelloEXTRA");
	struct parsed *p = t_parse(s, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.body, "hello");
	assert_int_equal(p->m.content_length, 5);
	assert_int_equal(p->m.len, strlen(s) - 5);
	t_free(p);
	free(s);
	/* no Content-Length: the rest of the datagram */
	s = t_subst(T_REGISTER, "Content-Length: 0\r\n\r\n", "\r\nwhole rest\r\n");
	p = t_parse(s, false);
	assert_int_equal(p->rc, 0);
	assert_false(p->m.has_content_length);
	assert_sl(p->m.body, "whole rest\r\n");
	assert_int_equal(p->m.len, strlen(s));
	t_free(p);
	free(s);
	/* leading zeros */
	s = t_subst(T_REGISTER, "Content-Length: 0\r\n\r\n", "Content-Length: 0003\r\n\r\nabc");
	p = t_parse(s, false);
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.body, "abc");
	t_free(p);
	free(s);
}

static void test_content_length_exceeds(void **state)
{
	(void)state;
	t_expect_edit("Content-Length: 0\r\n\r\n", "Content-Length: 6\r\n\r\nhello", false, 400,
		      "Content-Length Exceeds Body");
	t_expect_edit("Content-Length: 0\r\n\r\n", "Content-Length: 9999\r\n\r\nhello", false, 400,
		      "Content-Length Exceeds Body");
	t_expect_edit("Content-Length: 0\r\n\r\n",
		      "Content-Length: 99999999999999999999999999\r\n\r\nhello", false, 400,
		      "Content-Length Exceeds Body");
}

/* Streams ---------------------------------------------------------------- */

static void test_stream_requires_content_length(void **state)
{
	(void)state;
	t_expect_edit("Content-Length: 0\r\n", "", true, 400, "Missing Content-Length");
	t_expect_edit("Content-Length: 0\r\n", "", false, 0, NULL);
}

static void test_stream_extent(void **state)
{
	char *one = t_subst(T_REGISTER, "Content-Length: 0\r\n\r\n", "Content-Length: 4\r\n\r\nbody");
	size_t n1 = strlen(one);
	char *two = malloc(2 * n1 + 1);
	struct parsed *p;

	(void)state;
	strcpy(two, one);
	strcat(two, one);
	p = t_parse(two, true);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.len, n1);
	assert_sl(p->m.body, "body");
	t_free(p);
	/* the same on a datagram: the body is cut to Content-Length */
	p = t_parse(two, false);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.len, n1);
	t_free(p);
	/* short body on a stream */
	p = t_parse_n(one, n1 - 1, true);
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Content-Length Exceeds Body");
	t_free(p);
	/* header block not terminated on a stream */
	p = t_parse_n(one, n1 - 6, true);
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Truncated Message");
	t_free(p);
	free(two);
	free(one);
}

/* Size limits ------------------------------------------------------------ */

static char *big_message(size_t body, size_t *len)
{
	char hdr[64];
	char *base = t_subst(T_REGISTER, "Content-Length: 0\r\n\r\n", "");
	size_t bl = strlen(base), hl;
	char *s;

	hl = (size_t)snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", body);
	s = malloc(bl + hl + body);
	assert_non_null(s);
	memcpy(s, base, bl);
	memcpy(s + bl, hdr, hl);
	memset(s + bl + hl, 'x', body);
	*len = bl + hl + body;
	free(base);
	return s;
}

static void test_message_too_large(void **state)
{
	size_t len, body;
	char *s;
	struct parsed *p;

	(void)state;
	/* datagram just at the limit (both bodies have 5-digit lengths) */
	s = big_message(10000, &len);
	free(s);
	body = 10000 + SIP_MAX_MSG - len;
	s = big_message(body, &len);
	assert_int_equal(len, SIP_MAX_MSG);
	p = t_parse_n(s, len, false);
	assert_int_equal(p->rc, 0);
	t_free(p);
	free(s);
	/* one byte more */
	s = big_message(body + 1, &len);
	assert_int_equal(len, SIP_MAX_MSG + 1);
	p = t_parse_n(s, len, false);
	assert_int_equal(p->err.status, 513);
	assert_string_equal(p->err.reason, "Message Too Large");
	/* still decoded enough to answer */
	assert_sl(p->m.call_id, "a84b4c76e66710@pc33.example.com");
	t_free(p);
	/* same on a stream: headers + body > SIP_MAX_MSG */
	p = t_parse_n(s, len, true);
	assert_int_equal(p->err.status, 513);
	t_free(p);
	free(s);
	/* a stream whose header block never ends within the limit */
	s = malloc(SIP_MAX_MSG + 100);
	memcpy(s, "REGISTER sip:example.com SIP/2.0\r\nX: ", 37);
	memset(s + 37, 'a', SIP_MAX_MSG + 100 - 37);
	p = t_parse_n(s, SIP_MAX_MSG + 100, true);
	assert_int_equal(p->err.status, 513);
	t_free(p);
	p = t_parse_n(s, SIP_MAX_MSG + 100, false);
	assert_int_equal(p->err.status, 513);
	t_free(p);
	free(s);
	/* a huge Content-Length on a stream is 513, not a wait */
	t_expect_edit("Content-Length: 0", "Content-Length: 70000", true, 513, "Message Too Large");
	t_expect_edit("Content-Length: 0", "Content-Length: 99999999999999999999999", true, 513,
		      "Message Too Large");
}

/* Hostile bytes ---------------------------------------------------------- */

static void test_nul_and_8bit_in_values(void **state)
{
	static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				  "From: <sip:a@b>;tag=1\r\nTo: \"\xc3\xa9\\\0\" <sip:a@b>\r\n"
				  "X-Bin: \0\xff\x01\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
	struct parsed *p = t_parse_n(msg, sizeof(msg) - 1, false);

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(sip_hdr_by_name(&p->m, "x-bin")->value.len, 3);
	t_free(p);
}

/* Every prefix of a valid message: never a crash, never success with a
 * body longer than the bytes given. */
static void test_all_truncations(void **state)
{
	const char *full = "INVITE sip:bob@example.com SIP/2.0\r\n"
			   "v: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport\r\n"
			   "f: \"A \\\"x\\\", y\" <sip:a%20b@example.com>;tag=1\r\n"
			   "t: sip:bob@example.com\r\n i: c\r\n"
			   "CSeq: 1 INVITE\r\nContact: <sip:a@h>, \"q,\" <sip:b@h>;q=0.5\r\n"
			   "l: 4\r\n\r\nbody";
	size_t n = strlen(full);

	(void)state;
	for (size_t k = 0; k <= n; k++) {
		for (int stream = 0; stream < 2; stream++) {
			struct parsed *p = t_parse_n(full, k, stream);

			if (p->rc == 0) {
				assert_true(p->m.len <= k);
				assert_true(p->m.body.p + p->m.body.len <= p->buf + k);
			} else {
				assert_true(p->err.status == -1 || p->err.status == 400 ||
					    p->err.status == 505 || p->err.status == 513);
			}
			t_free(p);
		}
	}
}

/* Deterministic random mutations of valid messages under ASan/UBSan. */
static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_mutations(void **state)
{
	static const char alphabet[] = "\r\n \t:;,<>\"\\@[]%=?/0aZ\x00\xff";
	const char *base = "REGISTER sip:u%41@[::1]:5060;transport=tcp SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP h:1;branch=z9hG4bKx;rport, SIP/2.0/UDP [::2]\r\n"
			   "From: \"a\\\"b,c\" <sip:a@b>;tag=1\r\nTo: sip:a@b;tag=2\r\n"
			   "Call-ID: x@y\r\nCSeq: 1 REGISTER\r\n"
			   "Contact: *, <sip:x@y;lr>;expires=5;q=0.1\r\nl: 2\r\n\r\nab";
	size_t n = strlen(base);
	char *buf = malloc(n);

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct sip_msg *m = malloc(sizeof(*m));
		struct sip_perr e;
		size_t len = n, skip, ml;
		int muts = 1 + (int)(rng() % 4);
		char out[2048];
		struct obuf ob;

		memcpy(buf, base, n);
		for (int k = 0; k < muts; k++)
			buf[rng() % n] = alphabet[rng() % (sizeof(alphabet) - 1)];
		if (rng() % 4 == 0)
			len = rng() % n;
		(void)sip_msg_parse(m, buf, len, iter & 1, &e);
		ob_init(&ob, out, sizeof(out));
		sip_resp_begin(&ob, m, 400, "Bad Request", &(struct sip_resp_src){ "192.0.2.9", 5 },
			       SL("tag"));
		sip_resp_end(&ob);
		(void)sip_frame(buf, len, SIP_MAX_MSG, &skip, &ml, &e);
		free(m);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_ok),
		cmocka_unit_test(test_header_slices),
		cmocka_unit_test(test_response_ok),
		cmocka_unit_test(test_response_reason_variants),
		cmocka_unit_test(test_response_errors_drop),
		cmocka_unit_test(test_response_missing_header_drops),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_mixed_line_ends),
		cmocka_unit_test(test_leading_crlf_skipped),
		cmocka_unit_test(test_datagram_without_empty_line),
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_header_name_case),
		cmocka_unit_test(test_space_before_colon),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_folding_bare_lf),
		cmocka_unit_test(test_fold_first_line),
		cmocka_unit_test(test_hdr_iteration),
		cmocka_unit_test(test_garbage_dropped),
		cmocka_unit_test(test_header_without_colon),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_missing_headers),
		cmocka_unit_test(test_duplicate_headers),
		cmocka_unit_test(test_bad_cseq),
		cmocka_unit_test(test_cseq_method_mismatch),
		cmocka_unit_test(test_bad_from_to),
		cmocka_unit_test(test_bad_via),
		cmocka_unit_test(test_via_top_decoded_even_if_later_bad),
		cmocka_unit_test(test_via_forms),
		cmocka_unit_test(test_too_many_vias),
		cmocka_unit_test(test_bad_call_id),
		cmocka_unit_test(test_bad_request_uri),
		cmocka_unit_test(test_other_schemes_accepted),
		cmocka_unit_test(test_bad_request_line),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_version_not_supported),
		cmocka_unit_test(test_bad_content_length),
		cmocka_unit_test(test_datagram_body),
		cmocka_unit_test(test_content_length_exceeds),
		cmocka_unit_test(test_stream_requires_content_length),
		cmocka_unit_test(test_stream_extent),
		cmocka_unit_test(test_message_too_large),
		cmocka_unit_test(test_nul_and_8bit_in_values),
		cmocka_unit_test(test_all_truncations),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
