/*
 * test_txn.c - the server transaction table: matching keys (RFC 3261
 * §17.2.3 branch rule, RFC 2543 fallback, CANCEL), add/find/complete,
 * Timer J and the table bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"
#include "txn/txn.h"

struct pmsg {
	struct sip_msg m;
	char *buf;
};

/* Parse text from an exact-size heap copy (ASan sees any over-read). */
static struct pmsg *parse(const char *text)
{
	struct pmsg *p = calloc(1, sizeof(*p));
	size_t n = strlen(text);
	struct sip_perr err;
	int rc;

	assert_non_null(p);
	p->buf = malloc(n);
	assert_non_null(p->buf);
	memcpy(p->buf, text, n);
	rc = sip_msg_parse(&p->m, p->buf, n, false, &err);
	if (rc != 0)
		print_error("parse: %d %s\n%s\n", err.status, err.reason, text);
	assert_int_equal(rc, 0);
	return p;
}

static void pfree(struct pmsg *p)
{
	free(p->buf);
	free(p);
}

/* A request; each argument replaces one part of a fixed template. */
struct req {
	const char *method;   /* "REGISTER" */
	const char *ruri;     /* "sip:example.com" */
	const char *via;      /* "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc" */
	const char *from_tag; /* "ft" */
	const char *to_tag;   /* NULL: none */
	const char *call_id;  /* "cid@host" */
	unsigned cseq;        /* 1 */
	const char *cseq_method; /* = method (ACK/CANCEL keep the INVITE's number) */
};

static const char *d(const char *s, const char *def) { return s ? s : def; }

static struct pmsg *mk(const struct req *r)
{
	char text[4096];
	const char *method = d(r->method, "REGISTER");
	int n;

	n = snprintf(text, sizeof(text),
		     "%s %s SIP/2.0\r\n"
		     "Via: %s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@example.com>;tag=%s\r\n"
		     "To: <sip:alice@example.com>%s%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     method, d(r->ruri, "sip:example.com"),
		     d(r->via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc"), d(r->from_tag, "ft"),
		     r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "", d(r->call_id, "cid@host"),
		     r->cseq ? r->cseq : 1, d(r->cseq_method, method));
	assert_true(n > 0 && (size_t)n < sizeof(text));
	return parse(text);
}

/* The key of r; for_cancel: the key of the INVITE a CANCEL targets. */
static size_t key_of(const struct req *r, bool for_cancel, char *key)
{
	struct pmsg *p = mk(r);
	size_t n = txn_key(&p->m, for_cancel ? SL("INVITE") : SL_NULL, key);

	pfree(p);
	assert_true(n > 0 && n <= TXN_KEY_MAX);
	return n;
}

static bool same_key(const struct req *a, bool fa, const struct req *b, bool fb)
{
	char ka[TXN_KEY_MAX], kb[TXN_KEY_MAX];
	size_t na = key_of(a, fa, ka), nb = key_of(b, fb, kb);

	return na == nb && memcmp(ka, kb, na) == 0;
}

#define VIA2543 "SIP/2.0/UDP 192.0.2.1:5060"

/* Keys --------------------------------------------------------------------- */

static void test_key_3261_branch_rule(void **state)
{
	struct req base = { 0 }, r;
	char key[TXN_KEY_MAX];
	size_t n;

	(void)state;
	n = key_of(&base, false, key);
	assert_true(n > 5);
	assert_memory_equal(key, "3261", 5);  /* with its NUL separator */
	/* A retransmission matches. */
	assert_true(same_key(&base, false, &base, false));
	/* The branch and sent-by decide; Call-ID, CSeq, tags, R-URI do not. */
	r = base;
	r.call_id = "other@host";
	r.cseq = 2;
	r.from_tag = "x";
	r.to_tag = "y";
	r.ruri = "sip:other.example.com";
	assert_true(same_key(&base, false, &r, false));
	r = base;
	r.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabd";
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.via = "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKabc";
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.via = "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKabc";
	assert_false(same_key(&base, false, &r, false));
	/* Extra Via params (rport, received) do not change the key. */
	r = base;
	r.via = "SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKabc";
	assert_true(same_key(&base, false, &r, false));
	/* The ACK for an INVITE's final response shares the INVITE's key. */
	{
		struct req inv = { .method = "INVITE", .ruri = "sip:bob@example.com" };
		struct req ack = { .method = "ACK", .ruri = "sip:bob@example.com", .to_tag = "tt" };

		assert_true(same_key(&inv, false, &ack, false));
	}
}

/*
 * RFC 3261 §17.2.3: a request matches a transaction only if "the method of
 * the request matches the one that created the transaction, except for
 * ACK".  An OPTIONS that (wrongly) reuses a REGISTER's branch is a new
 * transaction and must not be answered with the REGISTER's response.
 */
static void test_key_3261_method_must_match(void **state)
{
	struct req reg = { 0 };
	struct req opt = { .method = "OPTIONS" };

	(void)state;
	assert_false(same_key(&reg, false, &opt, false));
	/* The RFC 2543 rule compares the whole CSeq, method included. */
	reg.via = opt.via = VIA2543;
	assert_false(same_key(&reg, false, &opt, false));
	/* (ACK and CANCEL are the exceptions, tested above and below.) */
}

static void test_key_2543_rule(void **state)
{
	struct req base = { .via = VIA2543 }, r;
	char key[TXN_KEY_MAX];
	size_t n;

	(void)state;
	n = key_of(&base, false, key);
	assert_true(n > 5);
	assert_memory_equal(key, "2543", 5);
	assert_true(same_key(&base, false, &base, false));
	/* a branch without the magic cookie is RFC 2543 too */
	r = base;
	r.via = VIA2543 ";branch=abc";
	n = key_of(&r, false, key);
	assert_memory_equal(key, "2543", 5);
	/* "z9hG4bK" alone is no RFC 3261 branch */
	r.via = VIA2543 ";branch=z9hG4bK";
	n = key_of(&r, false, key);
	assert_memory_equal(key, "2543", 5);
	/* Each of R-URI, From tag, Call-ID, CSeq number and top Via counts. */
	r = base;
	r.ruri = "sip:other.example.com";
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.from_tag = "other";
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.call_id = "other@host";
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.cseq = 2;
	assert_false(same_key(&base, false, &r, false));
	r = base;
	r.via = "SIP/2.0/UDP 192.0.2.1:5061";
	assert_false(same_key(&base, false, &r, false));
	/* The To tag is left out (a retransmission after our answer matches). */
	r = base;
	r.to_tag = "ours";
	assert_true(same_key(&base, false, &r, false));
	/* ACK: same CSeq number, To tag from the response: same key. */
	{
		struct req inv = { .method = "INVITE", .via = VIA2543 };
		struct req ack = { .method = "ACK", .via = VIA2543, .to_tag = "tt" };

		assert_true(same_key(&inv, false, &ack, false));
	}
}

static void test_key_cancel(void **state)
{
	struct req inv = { .method = "INVITE", .ruri = "sip:bob@example.com" };
	struct req can = { .method = "CANCEL", .ruri = "sip:bob@example.com" };
	struct req inv2 = inv, can2 = can;

	(void)state;
	/* RFC 3261 branch: a CANCEL carries its INVITE's branch but is its own
	 * transaction; for_cancel gives the target's key. */
	assert_false(same_key(&inv, false, &can, false));
	assert_true(same_key(&inv, false, &can, true));
	/* for_cancel changes nothing for a request that is not a CANCEL */
	assert_true(same_key(&inv, false, &inv, true));
	/* a CANCEL retransmission matches the CANCEL */
	assert_true(same_key(&can, false, &can, false));
	/* the same with the RFC 2543 rule */
	inv2.via = VIA2543;
	can2.via = VIA2543;
	assert_false(same_key(&inv2, false, &can2, false));
	assert_true(same_key(&inv2, false, &can2, true));
	/* a CANCEL for another INVITE does not find this one */
	can.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKzzz";
	assert_false(same_key(&inv, false, &can, true));
}

static void test_key_too_long(void **state)
{
	char via[1200], key[TXN_KEY_MAX];
	struct req r = { .via = via };
	struct pmsg *p;
	int n;

	(void)state;
	n = snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK");
	memset(via + n, 'a', 600);
	via[n + 600] = '\0';
	p = mk(&r);
	assert_int_equal(txn_key(&p->m, SL_NULL, key), 0);
	pfree(p);
	/* RFC 2543 rule: the whole top Via is in the key */
	n = snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5060;x=");
	memset(via + n, 'b', 600);
	via[n + 600] = '\0';
	p = mk(&r);
	assert_int_equal(txn_key(&p->m, SL_NULL, key), 0);
	pfree(p);
}

/* Table -------------------------------------------------------------------- */

static size_t mkkey(const char *branch, char *key)
{
	char via[256];
	struct req r = { .via = via };

	snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s", branch);
	return key_of(&r, false, key);
}

static void test_add_find_complete(void **state)
{
	struct txn_table *t = txn_table_new(16);
	char k1[TXN_KEY_MAX], k2[TXN_KEY_MAX];
	size_t n1 = mkkey("one", k1), n2 = mkkey("two", k2);
	static const char resp[] = "SIP/2.0 200 OK\r\n\r\n";
	struct txn *x;

	(void)state;
	assert_non_null(t);
	assert_null(txn_find(t, k1, n1));
	x = txn_add(t, k1, n1);
	assert_non_null(x);
	assert_int_equal(x->state, TXN_PENDING);
	assert_null(x->resp);
	assert_int_equal(txn_count(t), 1);
	assert_ptr_equal(txn_find(t, k1, n1), x);
	assert_null(txn_find(t, k2, n2));
	/* a prefix of the key is not the key */
	assert_null(txn_find(t, k1, n1 - 1));

	assert_int_equal(txn_complete(t, x, resp, sizeof(resp) - 1, 1000, TXN_TIMER_J_MS), 0);
	x = txn_find(t, k1, n1);
	assert_non_null(x);
	assert_int_equal(x->state, TXN_COMPLETED);
	assert_int_equal(x->resp_len, sizeof(resp) - 1);
	assert_memory_equal(x->resp, resp, sizeof(resp) - 1);
	assert_ptr_not_equal(x->resp, resp);  /* copied */
	assert_int_equal(txn_count(t), 1);
	/* an empty response is allowed */
	x = txn_add(t, k2, n2);
	assert_non_null(x);
	assert_int_equal(txn_complete(t, x, "", 0, 1000, TXN_TIMER_J_MS), 0);
	assert_int_equal(txn_find(t, k2, n2)->resp_len, 0);
	assert_int_equal(txn_count(t), 2);
	txn_table_free(t);
	txn_table_free(NULL);
}

static void test_timer_j(void **state)
{
	struct txn_table *t = txn_table_new(16);
	char k[4][TXN_KEY_MAX];
	size_t n[4];
	const char *names[] = { "a", "b", "c", "p" };

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 4; i++) {
		n[i] = mkkey(names[i], k[i]);
		assert_non_null(txn_add(t, k[i], n[i]));
	}
	/* a, b, c complete at 1000, 2000, 3000; p stays pending */
	for (int i = 0; i < 3; i++)
		assert_int_equal(txn_complete(t, txn_find(t, k[i], n[i]), "R", 1, 1000 * (i + 1),
					      TXN_TIMER_J_MS), 0);
	txn_expire(t, 1000 + TXN_TIMER_J_MS - 1);
	assert_int_equal(txn_count(t), 4);
	assert_non_null(txn_find(t, k[0], n[0]));
	txn_expire(t, 1000 + TXN_TIMER_J_MS);
	assert_int_equal(txn_count(t), 3);
	assert_null(txn_find(t, k[0], n[0]));
	assert_non_null(txn_find(t, k[1], n[1]));
	txn_expire(t, 3000 + TXN_TIMER_J_MS);
	assert_int_equal(txn_count(t), 1);
	assert_null(txn_find(t, k[1], n[1]));
	assert_null(txn_find(t, k[2], n[2]));
	/* pending transactions are never timed out by Timer J */
	txn_expire(t, INT64_MAX);
	assert_int_equal(txn_count(t), 1);
	assert_non_null(txn_find(t, k[3], n[3]));
	/* the FIFO is usable again after running empty */
	assert_int_equal(txn_complete(t, txn_find(t, k[3], n[3]), "R", 1, 100000, 10), 0);
	txn_expire(t, 100009);
	assert_int_equal(txn_count(t), 1);
	txn_expire(t, 100010);
	assert_int_equal(txn_count(t), 0);
	assert_non_null(txn_add(t, k[0], n[0]));
	assert_int_equal(txn_complete(t, txn_find(t, k[0], n[0]), "R", 1, 200000, 10), 0);
	txn_expire(t, 200010);
	assert_int_equal(txn_count(t), 0);
	txn_table_free(t);
}

static void test_linger_zero(void **state)
{
	struct txn_table *t = txn_table_new(16);
	char k[TXN_KEY_MAX];
	size_t n = mkkey("tcp", k);
	struct txn *x;

	(void)state;
	x = txn_add(t, k, n);
	assert_non_null(x);
	assert_int_equal(txn_complete(t, x, "SIP/2.0 200 OK\r\n\r\n", 18, 5000, 0), 0);
	assert_int_equal(txn_count(t), 0);
	assert_null(txn_find(t, k, n));
	/* and nothing is left in the Timer J FIFO */
	txn_expire(t, INT64_MAX);
	assert_int_equal(txn_count(t), 0);
	assert_non_null(txn_add(t, k, n));
	assert_int_equal(txn_count(t), 1);
	txn_table_free(t);
}

static void test_table_full(void **state)
{
	struct txn_table *t = txn_table_new(2);
	char k[3][TXN_KEY_MAX];
	size_t n[3];
	struct txn *x0, *x1;

	(void)state;
	assert_non_null(t);
	n[0] = mkkey("f0", k[0]);
	n[1] = mkkey("f1", k[1]);
	n[2] = mkkey("f2", k[2]);
	x0 = txn_add(t, k[0], n[0]);
	x1 = txn_add(t, k[1], n[1]);
	assert_non_null(x0);
	assert_non_null(x1);
	assert_null(txn_add(t, k[2], n[2]));
	assert_int_equal(txn_count(t), 2);
	assert_null(txn_find(t, k[2], n[2]));
	/* full with a completed entry: the oldest completed one makes room */
	assert_int_equal(txn_complete(t, x0, "R", 1, 0, TXN_TIMER_J_MS), 0);
	assert_non_null(txn_add(t, k[2], n[2]));
	assert_null(txn_find(t, k[0], n[0]));
	assert_int_equal(txn_count(t), 2);
	/* full with pending entries only: refused */
	assert_null(txn_add(t, k[0], n[0]));
	/* once one is gone there is room again */
	assert_int_equal(txn_complete(t, x1, "R", 1, 0, 0), 0);
	assert_int_equal(txn_count(t), 1);
	assert_non_null(txn_add(t, k[1], n[1]));
	/* a key longer than TXN_KEY_MAX is refused */
	{
		char big[TXN_KEY_MAX + 1];
		struct txn_table *t2 = txn_table_new(4);

		memset(big, 'k', sizeof(big));
		assert_null(txn_add(t2, big, sizeof(big)));
		assert_non_null(txn_add(t2, big, TXN_KEY_MAX));
		txn_table_free(t2);
	}
	txn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_3261_branch_rule),
		cmocka_unit_test(test_key_3261_method_must_match),
		cmocka_unit_test(test_key_2543_rule),
		cmocka_unit_test(test_key_cancel),
		cmocka_unit_test(test_key_too_long),
		cmocka_unit_test(test_add_find_complete),
		cmocka_unit_test(test_timer_j),
		cmocka_unit_test(test_linger_zero),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
