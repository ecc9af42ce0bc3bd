/*
 * sip_test.h - helpers shared by the SIP parser unit tests.
 *
 * Every message is parsed from an exact-size heap copy (no NUL after it),
 * so AddressSanitizer and valgrind catch any read past 'len'.
 */
#ifndef SIP_TEST_H
#define SIP_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip/sip.h"

/* A complete, valid REGISTER every test starts from and edits. */
#define T_REGISTER                                                        \
	"REGISTER sip:example.com SIP/2.0\r\n"                            \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"     \
	"Max-Forwards: 70\r\n"                                            \
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"          \
	"To: Alice <sip:alice@example.com>\r\n"                           \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"                    \
	"CSeq: 314159 REGISTER\r\n"                                       \
	"Contact: <sip:alice@192.0.2.1:5060>;expires=3600\r\n"            \
	"Content-Length: 0\r\n"                                           \
	"\r\n"

struct parsed {
	struct sip_msg m;
	struct sip_perr err;
	char *buf;
	size_t len;
	int rc;
};

static inline char *t_dup(const void *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, s, n);
	return p;
}

static inline struct parsed *t_parse_n(const char *s, size_t n, bool stream)
{
	struct parsed *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->buf = t_dup(s, n);
	p->len = n;
	p->rc = sip_msg_parse(&p->m, p->buf, n, stream, &p->err);
	return p;
}

static inline struct parsed *t_parse(const char *s, bool stream)
{
	return t_parse_n(s, strlen(s), stream);
}

static inline void t_free(struct parsed *p)
{
	if (p) {
		free(p->buf);
		free(p);
	}
}

/* s with the first occurrence of 'from' replaced by 'to' (malloc'd, NUL
 * terminated); fails the test if 'from' is not there. */
static inline char *t_subst(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t a, f = strlen(from), t = strlen(to), n = strlen(s);
	char *r;

	assert_non_null(at);
	a = (size_t)(at - s);
	r = malloc(n - f + t + 1);
	assert_non_null(r);
	memcpy(r, s, a);
	memcpy(r + a, to, t);
	memcpy(r + a + t, at + f, n - a - f + 1);
	return r;
}

/* Parse T_REGISTER edited by one substitution; expect status and reason
 * (status 0: success). */
static inline void t_expect_edit(const char *from, const char *to, bool stream, int status,
				 const char *reason)
{
	char *s = t_subst(T_REGISTER, from, to);
	struct parsed *p = t_parse(s, stream);

	if (status == 0) {
		if (p->rc != 0)
			print_error("unexpected error %d %s for edit [%s] -> [%s]\n", p->err.status,
				    p->err.reason, from, to);
		assert_int_equal(p->rc, 0);
		assert_int_equal(p->err.status, 0);
	} else {
		if (p->err.status != status)
			print_error("got %d %s for edit [%s] -> [%s]\n", p->err.status,
				    p->err.reason ? p->err.reason : "-", from, to);
		assert_int_equal(p->rc, -1);
		assert_int_equal(p->err.status, status);
		if (reason)
			assert_string_equal(p->err.reason, reason);
	}
	t_free(p);
	free(s);
}

static inline bool t_sleq(sl_t s, const char *c)
{
	return s.len == strlen(c) && (s.len == 0 || memcmp(s.p, c, s.len) == 0);
}

#define assert_sl(s, c)                                                              \
	do {                                                                         \
		sl_t s_ = (s);                                                       \
		if (!t_sleq(s_, (c)))                                                \
			print_error("slice [%.*s] != [%s]\n", (int)s_.len,           \
				    s_.p ? s_.p : "", (c));                          \
		assert_true(t_sleq(s_, (c)));                                        \
	} while (0)

/*
 * A file of tests/unit/sip/data/ (or $SIP_TEST_DATA) read into an
 * exact-size heap buffer; the caller frees it.  'self' is the test's
 * __FILE__, which make gives as tests/unit/sip/test_x.c.
 */
static inline char *t_load_data(const char *self, const char *file, size_t *len)
{
	char path[1024];
	const char *dir = getenv("SIP_TEST_DATA"), *slash = strrchr(self, '/');
	FILE *f;
	char *b;
	long n;

	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	else
		snprintf(path, sizeof(path), "%.*s/data/%s", slash ? (int)(slash - self) : 1,
			 slash ? self : ".", file);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root or set SIP_TEST_DATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Parse a data file as a datagram or a stream. */
static inline struct parsed *t_parse_file(const char *self, const char *file, bool stream)
{
	size_t n;
	char *b = t_load_data(self, file, &n);
	struct parsed *p = t_parse_n(b, n, stream);

	free(b);
	return p;
}

#endif
