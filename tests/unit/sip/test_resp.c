/* test_resp.c - sip_resp_begin / sip_resp_end. */
#include "sip_test.h"

#define END "Server: sipreg\r\nContent-Length: 0\r\n\r\n"

/* Build the response to 'req' into an exact-size heap buffer of 'cap'
 * bytes; return it NUL-terminated (malloc'd) or NULL on overflow. */
static char *respond_cap(const char *req, int status, const char *reason,
			 const struct sip_resp_src *src, const char *to_tag, size_t cap)
{
	struct parsed *p = t_parse(req, false);
	char *mem = malloc(cap ? cap : 1), *out = NULL;
	struct obuf b;

	ob_init(&b, mem, cap);
	sip_resp_begin(&b, &p->m, status, reason, src, sl_cstr(to_tag));
	sip_resp_end(&b);
	assert_true(b.len <= cap);
	if (!b.overflow) {
		out = malloc(b.len + 1);
		memcpy(out, mem, b.len);
		out[b.len] = '\0';
	}
	free(mem);
	t_free(p);
	return out;
}

static char *respond(const char *req, const struct sip_resp_src *src, const char *to_tag)
{
	return respond_cap(req, 200, "OK", src, to_tag, 4096);
}

static void expect(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define REQ(via)                                                          \
	"REGISTER sip:example.com SIP/2.0\r\n" via                        \
	"From: <sip:a@example.com>;tag=1\r\n"                             \
	"To: <sip:a@example.com>\r\n"                                     \
	"Call-ID: c1\r\n"                                                 \
	"CSeq: 2 REGISTER\r\n"                                            \
	"\r\n"

#define RESP(via)                                                         \
	"SIP/2.0 200 OK\r\n" via                                          \
	"From: <sip:a@example.com>;tag=1\r\n"                             \
	"To: <sip:a@example.com>;tag=T\r\n"                               \
	"Call-ID: c1\r\n"                                                 \
	"CSeq: 2 REGISTER\r\n" END

static void test_basic(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };

	(void)state;
	expect(respond(T_REGISTER, &src, "abc"),
	       "SIP/2.0 200 OK\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
	       "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
	       "To: Alice <sip:alice@example.com>;tag=abc\r\n"
	       "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	       "CSeq: 314159 REGISTER\r\n" END);
	/* another status */
	expect(respond_cap(T_REGISTER, 401, "Unauthorized", &src, "abc", 4096),
	       "SIP/2.0 401 Unauthorized\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
	       "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
	       "To: Alice <sip:alice@example.com>;tag=abc\r\n"
	       "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	       "CSeq: 314159 REGISTER\r\n" END);
}

/* RFC 3581 §4 example: rport gets the source port, received is added. */
static void test_rport(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 9988 };

	(void)state;
	expect(respond(REQ("Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1\r\n"));
	/* rport asks for received= even when the host matches */
	expect(respond(REQ("Via: SIP/2.0/UDP 192.0.2.1:4540;branch=z9hG4bK1;rport\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP 192.0.2.1:4540;branch=z9hG4bK1;rport=9988;received=192.0.2.1\r\n"));
	/* an rport that already has a value is left alone */
	expect(respond(REQ("Via: SIP/2.0/UDP 192.0.2.1;rport=77;branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP 192.0.2.1;rport=77;branch=z9hG4bK1;received=192.0.2.1\r\n"));
}

/* §18.2.1: received= when the sent-by host is not the source address. */
static void test_received(void **state)
{
	struct sip_resp_src src = { "192.0.2.9", 5060 };

	(void)state;
	expect(respond(REQ("Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1;received=192.0.2.9\r\n"));
	/* a received= from the request is replaced, not duplicated */
	expect(respond(REQ("Via: SIP/2.0/UDP h;received=10.0.0.1;branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=192.0.2.9\r\n"));
	/* same host: nothing added */
	expect(respond(REQ("Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n"));
	/* no source: the Via is only normalised */
	expect(respond(REQ("Via: SIP/2.0/UDP h ;rport; branch = z9hG4bK1\r\n"), NULL, "T"),
	       RESP("Via: SIP/2.0/UDP h;rport;branch=z9hG4bK1\r\n"));
	{
		struct sip_resp_src noip = { NULL, 5 };

		expect(respond(REQ("Via: SIP/2.0/UDP h;rport\r\n"), &noip, "T"),
		       RESP("Via: SIP/2.0/UDP h;rport\r\n"));
	}
}

static void test_ipv6(void **state)
{
	struct sip_resp_src src = { "2001:db8::1", 5062 };

	(void)state;
	expect(respond(REQ("Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport=5062;received=2001:db8::1\r\n"));
	expect(respond(REQ("Via: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK1\r\n"));
}

/* Every Via in order, one line per request line, only the top stamped. */
static void test_many_vias(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 1 };

	(void)state;
	expect(respond(REQ("Via: SIP/2.0/UDP a;rport;branch=z9hG4bK1 , SIP/2.0/TCP b:7;rport\r\n"
			   "Max-Forwards: 70\r\n"
			   "v: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"),
		       &src, "T"),
	       RESP("Via: SIP/2.0/UDP a;rport=1;branch=z9hG4bK1;received=192.0.2.1, SIP/2.0/TCP b:7;rport\r\n"
		    "Via: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"));
}

/* RFC 4475 wsinv: folded, spaced Vias come out on one line each. */
static void test_folded(void **state)
{
	const char *req = "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
			  "TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
			  "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n"
			  "  ;\r\n  tag = 98asjd8\r\n"
			  "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
			  "cseq: 0009\r\n  INVITE\r\n"
			  "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n"
			  "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
			  " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n"
			  "\r\n";
	struct sip_resp_src src = { "192.0.2.2", 5060 };

	(void)state;
	expect(respond_cap(req, 180, "Ringing", &src, "x", 4096),
	       "SIP/2.0 180 Ringing\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.2;branch=390skdjuw\r\n"
	       "Via: SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8, "
	       "SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239\r\n"
	       "From: \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; tag = 98asjd8\r\n"
	       "To: sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
	       "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
	       "CSeq: 0009 INVITE\r\n" END);
}

static void test_to_tag(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };
	char *req = t_subst(T_REGISTER, "To: Alice <sip:alice@example.com>",
			    "t: Alice <sip:alice@example.com> ;tag=theirs");

	(void)state;
	/* a To that has a tag keeps it and gets no second one */
	expect(respond(req, &src, "mine"),
	       "SIP/2.0 200 OK\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
	       "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
	       "To: Alice <sip:alice@example.com> ;tag=theirs\r\n"
	       "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	       "CSeq: 314159 REGISTER\r\n" END);
	free(req);
	/* no to_tag: none added */
	expect(respond(T_REGISTER, &src, ""),
	       "SIP/2.0 200 OK\r\n"
	       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
	       "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
	       "To: Alice <sip:alice@example.com>\r\n"
	       "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	       "CSeq: 314159 REGISTER\r\n" END);
	/* addr-spec To: the tag is a header param */
	expect(respond(REQ("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"), &src, "T"),
	       RESP("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"));
}

static void test_compact_names_expanded(void **state)
{
	const char *req = "REGISTER sip:example.com SIP/2.0\r\n"
			  "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
			  "f: <sip:a@example.com>;tag=1\r\n"
			  "t: <sip:a@example.com>\r\n"
			  "i: c1\r\n"
			  "cseq: 2 REGISTER\r\n"
			  "\r\n";
	struct sip_resp_src src = { "192.0.2.1", 5060 };

	(void)state;
	expect(respond(req, &src, "T"), RESP("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"));
}

/* A 400 is built from whatever parsed: a broken Via is copied as is. */
static void test_after_parse_error(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };
	const char *req = REQ("Via: SIP/2.0/UDP bad host here\r\n");
	struct parsed *p = t_parse(req, false);

	(void)state;
	assert_int_equal(p->err.status, 400);
	assert_string_equal(p->err.reason, "Bad Via Header");
	t_free(p);
	expect(respond_cap(req, 400, "Bad Via Header", &src, "T", 4096),
	       "SIP/2.0 400 Bad Via Header\r\n"
	       "Via: SIP/2.0/UDP bad host here\r\n"
	       "From: <sip:a@example.com>;tag=1\r\n"
	       "To: <sip:a@example.com>;tag=T\r\n"
	       "Call-ID: c1\r\n"
	       "CSeq: 2 REGISTER\r\n" END);
	/* missing headers are simply left out; a broken To gets no tag */
	expect(respond_cap("OPTIONS sip:a@b SIP/2.0\r\nTo: \"open <sip:a@b>\r\n\r\n", 400, "Bad",
			   &src, "T", 4096),
	       "SIP/2.0 400 Bad\r\nTo: \"open <sip:a@b>\r\n" END);
	/* a dropped message has nothing to copy */
	expect(respond_cap("garbage", 400, "Bad", &src, "T", 4096), "SIP/2.0 400 Bad\r\n" END);
}

static void test_via_params_kept(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };

	(void)state;
	expect(respond(REQ("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;x=\"a, b;c\";maddr=224.0.0.1;ttl=1\r\n"),
		       &src, "T"),
	       RESP("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;x=\"a, b;c\";maddr=224.0.0.1;ttl=1\r\n"));
}

/* A 505 echoes the Via as sent, including its protocol version. */
static void test_other_version(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };
	const char *req = "OPTIONS sip:t.watson@example.org SIP/7.0\r\n"
			  "Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
			  "From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
			  "To:      T. Watson <sip:t.watson@example.org>\r\n"
			  "Call-ID: badvers.31417@c.example.com\r\n"
			  "CSeq:    1 OPTIONS\r\n"
			  "l: 0\r\n\r\n";

	(void)state;
	expect(respond_cap(req, 505, "Version Not Supported", &src, "v", 4096),
	       "SIP/2.0 505 Version Not Supported\r\n"
	       "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw;received=192.0.2.1\r\n"
	       "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
	       "To: T. Watson <sip:t.watson@example.org>;tag=v\r\n"
	       "Call-ID: badvers.31417@c.example.com\r\n"
	       "CSeq: 1 OPTIONS\r\n" END);
}

/* All Vias are copied, even past SIP_MAX_VIAS (§8.2.6.2). */
static void test_many_vias_all_copied(void **state)
{
	char via[64 * 48], *req, *want, *got;
	size_t o = 0, w = 0;
	struct sip_resp_src src = { "192.0.2.1", 5060 };

	(void)state;
	want = malloc(sizeof(via) + 512);
	w += (size_t)sprintf(want + w, "SIP/2.0 200 OK\r\n");
	for (int i = 0; i < 40; i++) {
		o += (size_t)snprintf(via + o, sizeof(via) - o, "Via: SIP/2.0/TCP p%d;branch=z9hG4bK%d\r\n", i, i);
		w += (size_t)sprintf(want + w, "Via: SIP/2.0/TCP p%d;branch=z9hG4bK%d%s\r\n", i, i,
				     i == 0 ? ";received=192.0.2.1" : "");
	}
	sprintf(want + w, "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=T\r\n"
			  "Call-ID: c1\r\nCSeq: 2 REGISTER\r\n" END);
	req = t_subst(REQ("VIA"), "VIA", via);
	got = respond(req, &src, "T");
	expect(got, want);
	free(req);
	free(want);
}

static void test_overflow(void **state)
{
	struct sip_resp_src src = { "192.0.2.1", 5060 };
	char *full = respond(T_REGISTER, &src, "abc");
	size_t n = strlen(full);

	(void)state;
	/* every capacity below the size overflows without writing past it */
	for (size_t cap = 0; cap < n; cap++)
		assert_null(respond_cap(T_REGISTER, 200, "OK", &src, "abc", cap));
	expect(respond_cap(T_REGISTER, 200, "OK", &src, "abc", n), full);
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_rport),
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_many_vias),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_to_tag),
		cmocka_unit_test(test_compact_names_expanded),
		cmocka_unit_test(test_after_parse_error),
		cmocka_unit_test(test_via_params_kept),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_many_vias_all_copied),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
