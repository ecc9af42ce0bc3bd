/*
 * txn.c - server transactions: a hash table of keys, and a FIFO of
 * completed entries for Timer J.
 */
#include "txn/txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct txn_table {
	struct txn **buckets;
	size_t nbuckets;      /* power of two */
	size_t count;
	size_t max;
	struct txn *qhead, *qtail;
};

struct txn_table *txn_table_new(size_t max_entries)
{
	struct txn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 1024;
	while (t->nbuckets < max_entries && t->nbuckets < (1u << 20))
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->max = max_entries;
	return t;
}

static void txn_free(struct txn *x)
{
	free(x->resp);
	free(x);
}

void txn_table_free(struct txn_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct txn *x = t->buckets[i], *n;

		for (; x; x = n) {
			n = x->hnext;
			txn_free(x);
		}
	}
	free(t->buckets);
	free(t);
}

static void key_put(char *key, size_t *len, sl_t s)
{
	if (*len == SIZE_MAX || s.len + 1 > TXN_KEY_MAX - *len) {
		*len = SIZE_MAX;
		return;
	}
	if (s.len)
		memcpy(key + *len, s.p, s.len); /* an empty slice may have no pointer */
	*len += s.len;
	key[(*len)++] = '\0';
}

size_t txn_key(const struct sip_msg *m, sl_t method, char *key)
{
	const struct sip_via *v = &m->via;
	char port[8];
	size_t len = 0;
	int n;

	if (!method.p)
		method = m->mid == SIP_M_ACK ? SL("INVITE") : m->method;

	n = snprintf(port, sizeof(port), "%u", (unsigned)v->port);
	if (v->branch.len > 7 && memcmp(v->branch.p, "z9hG4bK", 7) == 0) {
		/* RFC 3261: branch + sent-by + method. */
		key_put(key, &len, SL("3261"));
		key_put(key, &len, v->branch);
		key_put(key, &len, v->host);
		key_put(key, &len, sl_make(port, (size_t)n));
	} else {
		/* RFC 2543: Request-URI, From tag, Call-ID, CSeq number,
		 * top Via.  (The To tag is left out so that a retransmission
		 * of a request we already answered still matches.) */
		char cseq[12];

		n = snprintf(cseq, sizeof(cseq), "%u", m->cseq);
		key_put(key, &len, SL("2543"));
		key_put(key, &len, m->ruri);
		key_put(key, &len, m->from.tag);
		key_put(key, &len, m->call_id);
		key_put(key, &len, sl_make(cseq, (size_t)n));
		key_put(key, &len, v->entry);
	}
	key_put(key, &len, method);
	return len == SIZE_MAX ? 0 : len;
}

struct txn *txn_find(struct txn_table *t, const char *key, size_t len)
{
	uint64_t h = hash_bytes(key, len);
	struct txn *x = t->buckets[h & (t->nbuckets - 1)];

	for (; x; x = x->hnext)
		if (x->hash == h && x->key_len == len && memcmp(x->key, key, len) == 0)
			return x;
	return NULL;
}

static void txn_unlink(struct txn_table *t, struct txn *x)
{
	struct txn **pp = &t->buckets[x->hash & (t->nbuckets - 1)];

	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
	t->count--;
	txn_free(x);
}

struct txn *txn_add(struct txn_table *t, const char *key, size_t len)
{
	struct txn *x;
	size_t b;

	if (len > TXN_KEY_MAX)
		return NULL;
	/* Full: forget the oldest completed transaction rather than refuse
	 * this one.  Under overload Timer J shortens for the oldest answers,
	 * which are past the retransmissions that matter (T1 doubling). */
	if (t->count >= t->max && t->qhead) {
		struct txn *old = t->qhead;

		t->qhead = old->qnext;
		if (!t->qhead)
			t->qtail = NULL;
		txn_unlink(t, old);
	}
	if (t->count >= t->max)
		return NULL;
	x = calloc(1, sizeof(*x) + len);
	if (!x)
		return NULL;
	x->hash = hash_bytes(key, len);
	x->key_len = (uint16_t)len;
	memcpy(x->key, key, len);
	b = x->hash & (t->nbuckets - 1);
	x->hnext = t->buckets[b];
	t->buckets[b] = x;
	t->count++;
	return x;
}

int txn_complete(struct txn_table *t, struct txn *x, const char *resp, size_t len,
		 int64_t now_ms, int64_t linger_ms)
{
	if (linger_ms <= 0) {
		txn_unlink(t, x);
		return 0;
	}
	x->resp = malloc(len ? len : 1);
	if (!x->resp) {
		txn_unlink(t, x);
		return -ENOMEM;
	}
	memcpy(x->resp, resp, len);
	x->resp_len = len;
	x->state = TXN_COMPLETED;
	x->expire_ms = now_ms + linger_ms;
	x->qnext = NULL;
	if (t->qtail)
		t->qtail->qnext = x;
	else
		t->qhead = x;
	t->qtail = x;
	return 0;
}

void txn_expire(struct txn_table *t, int64_t now_ms)
{
	while (t->qhead && t->qhead->expire_ms <= now_ms) {
		struct txn *x = t->qhead;

		t->qhead = x->qnext;
		if (!t->qhead)
			t->qtail = NULL;
		txn_unlink(t, x);
	}
}

size_t txn_count(const struct txn_table *t) { return t->count; }
