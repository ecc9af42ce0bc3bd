/* test_frame.c - sip_frame: TCP message boundaries (RFC 3261 §18.3). */
#include "sip_test.h"

#define MSG_A                                                             \
	"REGISTER sip:example.com SIP/2.0\r\n"                            \
	"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKa\r\n"             \
	"From: <sip:a@example.com>;tag=1\r\n"                             \
	"To: <sip:a@example.com>\r\n"                                     \
	"Call-ID: a@h\r\n"                                                \
	"CSeq: 1 REGISTER\r\n"                                            \
	"Content-Length: 5\r\n"                                           \
	"\r\n"                                                            \
	"hello"

#define MSG_B                                                             \
	"OPTIONS sip:example.com SIP/2.0\n"                               \
	"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKb\n"               \
	"From: <sip:a@example.com>;tag=1\n"                               \
	"To: <sip:a@example.com>\n"                                       \
	"Call-ID: b@h\n"                                                  \
	"CSeq: 2 OPTIONS\n"                                               \
	"l: 0\n"                                                          \
	"\n"

struct fr {
	int rc;
	size_t skip, msglen;
	struct sip_perr err;
};

static struct fr frame(const char *s, size_t n, size_t max)
{
	char *b = t_dup(s, n);
	struct fr r;

	r.rc = sip_frame(b, n, max, &r.skip, &r.msglen, &r.err);
	free(b);
	return r;
}

static void test_complete(void **state)
{
	struct fr r = frame(MSG_A, strlen(MSG_A), SIP_MAX_MSG);

	(void)state;
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.skip, 0);
	assert_int_equal(r.msglen, strlen(MSG_A));
	assert_int_equal(r.err.status, 0);
}

/* Fed one byte at a time, the answer is "need more" until the last byte. */
static void test_partial_bytewise(void **state)
{
	size_t n = strlen(MSG_A);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		struct fr r = frame(MSG_A, k, SIP_MAX_MSG);

		assert_int_equal(r.rc, 0);
	}
	assert_int_equal(frame(MSG_A, n, SIP_MAX_MSG).rc, 1);
}

static void test_pipelined(void **state)
{
	const char *two = MSG_A MSG_B;
	size_t n = strlen(two), off;
	struct fr r = frame(two, n, SIP_MAX_MSG);
	struct parsed *p;

	(void)state;
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.msglen, strlen(MSG_A));
	/* the first parses as a stream message of exactly that size */
	p = t_parse_n(two, n, true);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.len, r.msglen);
	assert_sl(p->m.body, "hello");
	t_free(p);
	off = r.skip + r.msglen;
	r = frame(two + off, n - off, SIP_MAX_MSG);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.msglen, strlen(MSG_B));
	p = t_parse_n(two + off, r.msglen, true);
	assert_int_equal(p->rc, 0);
	assert_sl(p->m.call_id, "b@h");
	t_free(p);
}

static void test_leading_crlf(void **state)
{
	const char *s = "\r\n\r\n\n" MSG_B;
	struct fr r = frame(s, strlen(s), SIP_MAX_MSG);

	(void)state;
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.skip, 5);
	assert_int_equal(r.msglen, strlen(MSG_B));
	/* keep-alives only */
	r = frame("\r\n\r\n", 4, SIP_MAX_MSG);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.skip, 4);
	r = frame("", 0, SIP_MAX_MSG);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.skip, 0);
	{
		size_t skip = 99, ml = 99;
		struct sip_perr e;

		assert_int_equal(sip_frame(NULL, 0, SIP_MAX_MSG, &skip, &ml, &e), 0);
		assert_int_equal(skip, 0);
	}
}

static void test_missing_content_length(void **state)
{
	const char *s = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
	struct fr r = frame(s, strlen(s), SIP_MAX_MSG);

	(void)state;
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.status, 400);
	assert_string_equal(r.err.reason, "Missing Content-Length");
	/* a Content-Length in the body does not count */
	s = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\nContent-Length: 0\r\n\r\n";
	r = frame(s, strlen(s), SIP_MAX_MSG);
	assert_int_equal(r.rc, -1);
	/* nor one that is part of another header's value */
	s = "OPTIONS sip:x SIP/2.0\r\nSubject: x\r\n Content-Length: 0\r\n\r\n";
	r = frame(s, strlen(s), SIP_MAX_MSG);
	assert_int_equal(r.rc, -1);
	/* nor a header whose name merely starts the same */
	s = "OPTIONS sip:x SIP/2.0\r\nContent-Lengthy: 0\r\nlx: 0\r\n\r\n";
	r = frame(s, strlen(s), SIP_MAX_MSG);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err.reason, "Missing Content-Length");
}

static void test_bad_content_length(void **state)
{
	static const char *const bad[] = { "-1", "abc", "", "1 2", "0x1" };
	char s[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fr r;

		snprintf(s, sizeof(s), "OPTIONS sip:x SIP/2.0\r\nContent-Length: %s\r\n\r\n", bad[i]);
		r = frame(s, strlen(s), SIP_MAX_MSG);
		assert_int_equal(r.rc, -1);
		assert_int_equal(r.err.status, 400);
		assert_string_equal(r.err.reason, "Bad Content-Length");
	}
}

static void test_conflicting_content_length(void **state)
{
	const char *s = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
	struct fr r = frame(s, strlen(s), SIP_MAX_MSG);

	(void)state;
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.status, 400);
	assert_string_equal(r.err.reason, "Duplicate Content-Length Header");
	s = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 2\r\nl: 02\r\n\r\nab";
	r = frame(s, strlen(s), SIP_MAX_MSG);
	assert_int_equal(r.rc, 1);
}

static void test_content_length_forms(void **state)
{
	static const char *const forms[] = {
		"Content-Length: 3", "content-length:3", "L: 3", "l :  3  ",
		"Content-Length:\r\n 3", "CONTENT-LENGTH\t: 003",
	};
	char s[256];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct fr r;

		snprintf(s, sizeof(s), "OPTIONS sip:x SIP/2.0\r\nX: y\r\n%s\r\nZ: z\r\n\r\nabcNEXT", forms[i]);
		r = frame(s, strlen(s), SIP_MAX_MSG);
		assert_int_equal(r.rc, 1);
		assert_int_equal(r.msglen, strlen(s) - 4);
	}
}

static void test_lflf_and_mixed(void **state)
{
	const char *s = "OPTIONS sip:x SIP/2.0\nl: 2\n\r\nab";
	struct fr r = frame(s, strlen(s), SIP_MAX_MSG);

	(void)state;
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.msglen, strlen(s));
	s = "OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\nab";
	r = frame(s, strlen(s), SIP_MAX_MSG);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.msglen, strlen(s));
}

static void test_too_large(void **state)
{
	char *s;
	struct fr r;
	const size_t max = 200;

	(void)state;
	/* a header block that has not ended within max bytes */
	s = malloc(max + 10);
	memset(s, 'a', max + 10);
	memcpy(s, "OPTIONS sip:x SIP/2.0\r\nX: ", 26);
	r = frame(s, max - 1, max);
	assert_int_equal(r.rc, 0);
	r = frame(s, max, max);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.status, 513);
	assert_string_equal(r.err.reason, "Message Too Large");
	r = frame(s, max + 10, max);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.status, 513);
	free(s);
	/* headers + body over max */
	{
		const char *m = "OPTIONS sip:x SIP/2.0\r\nl: 180\r\n\r\n";

		r = frame(m, strlen(m), max);
		assert_int_equal(r.rc, -1);
		assert_int_equal(r.err.status, 513);
		r = frame(m, strlen(m), SIP_MAX_MSG);
		assert_int_equal(r.rc, 0);
		m = "OPTIONS sip:x SIP/2.0\r\nl: 99999999999999999999999999999\r\n\r\n";
		r = frame(m, strlen(m), SIP_MAX_MSG);
		assert_int_equal(r.rc, -1);
		assert_int_equal(r.err.status, 513);
	}
	/* exactly max is fine */
	{
		char m[200];
		int hl = snprintf(m, sizeof(m), "OPTIONS sip:x SIP/2.0\r\nl: %zu\r\n\r\n", (size_t)0);
		size_t body = max - (size_t)hl - 2;  /* "l: NNN" has 2 more digits */
		char *full = malloc(max);

		snprintf(m, sizeof(m), "OPTIONS sip:x SIP/2.0\r\nl: %zu\r\n\r\n", body);
		assert_int_equal(strlen(m) + body, max);
		memcpy(full, m, strlen(m));
		memset(full + strlen(m), 'b', body);
		r = frame(full, max, max);
		assert_int_equal(r.rc, 1);
		assert_int_equal(r.msglen, max);
		free(full);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_partial_bytewise),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_leading_crlf),
		cmocka_unit_test(test_missing_content_length),
		cmocka_unit_test(test_bad_content_length),
		cmocka_unit_test(test_conflicting_content_length),
		cmocka_unit_test(test_content_length_forms),
		cmocka_unit_test(test_lflf_and_mixed),
		cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
