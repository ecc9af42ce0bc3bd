/*
 * nctable.c - which nonce-counts each nonce has already been used with.
 *
 * Only nonces that carried a correct digest get an entry, so an attacker
 * cannot fill the table without a password.  Entries live in a ring in
 * insertion order; the head is popped when its nonce expired or when the
 * ring is full.  Popping raises 'floor' to the popped nonce's issue time, and
 * nonces at or below the floor count as expired: forgetting an entry can
 * therefore never make an old nonce-count acceptable again.
 *
 * One mutex: every operation is O(1) (plus a short bucket chain), far
 * cheaper than the digests computed before we get here.
 */
#include "auth/auth_int.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_NCT_LIMIT (1u << 24)      /* entries; indices fit in uint32_t */
#define AUTH_NCT_WINDOW 64

struct auth_nct_ent {
	unsigned char tag[AUTH_TAG_LEN];
	int64_t issued;
	uint64_t window;     /* bit i set: nc == top - i was used */
	uint32_t top;        /* highest nc seen */
	uint32_t next;       /* bucket chain: entry index + 1, 0 ends */
};

int auth_nct_init(struct auth_nct *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	/* A table of 0 could record nothing; more than the limit is a typo. */
	if (max == 0)
		max = 1;
	if (max > AUTH_NCT_LIMIT)
		max = AUTH_NCT_LIMIT;
	t->max = max;
	t->nbuckets = 16;
	while (t->nbuckets < 2 * max)
		t->nbuckets *= 2;
	t->ents = calloc(max, sizeof(*t->ents));
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	atomic_init(&t->floor, INT64_MIN);
	if (!t->ents || !t->buckets || pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t->ents);
		free(t->buckets);
		t->ents = NULL;
		t->buckets = NULL;
		return -1;
	}
	return 0;
}

void auth_nct_free(struct auth_nct *t)
{
	if (!t->ents)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->ents);
	free(t->buckets);
	t->ents = NULL;
	t->buckets = NULL;
}

int64_t auth_nct_floor(struct auth_nct *t) { return atomic_load(&t->floor); }

/* The tag is an HMAC output: already uniform and unknown to outsiders. */
static uint32_t *auth_nct_bucket(struct auth_nct *t, const unsigned char *tag)
{
	uint64_t h;

	memcpy(&h, tag, sizeof(h));
	return &t->buckets[h & (t->nbuckets - 1)];
}

static struct auth_nct_ent *auth_nct_find(struct auth_nct *t, const unsigned char *tag)
{
	for (uint32_t i = *auth_nct_bucket(t, tag); i; i = t->ents[i - 1].next)
		if (memcmp(t->ents[i - 1].tag, tag, AUTH_TAG_LEN) == 0)
			return &t->ents[i - 1];
	return NULL;
}

static void auth_nct_unlink(struct auth_nct *t, size_t idx)
{
	uint32_t *pp = auth_nct_bucket(t, t->ents[idx].tag);

	while (*pp && *pp != idx + 1)
		pp = &t->ents[*pp - 1].next;
	if (*pp)
		*pp = t->ents[idx].next;
}

static void auth_nct_pop(struct auth_nct *t)
{
	struct auth_nct_ent *e = &t->ents[t->head];

	auth_nct_unlink(t, t->head);
	if (e->issued > atomic_load(&t->floor))
		atomic_store(&t->floor, e->issued);
	t->head = (t->head + 1) % t->max;
	t->count--;
}

static bool auth_nct_is_old(int64_t issued, int64_t now, unsigned ttl)
{
	return now > issued && (uint64_t)now - (uint64_t)issued > ttl;
}

/* Lazy cleanup from the head only: no scan of the whole table per request. */
static void auth_nct_expire(struct auth_nct *t, int64_t now, unsigned ttl)
{
	while (t->count) {
		const struct auth_nct_ent *e = &t->ents[t->head];

		if (e->issued > atomic_load(&t->floor) && !auth_nct_is_old(e->issued, now, ttl))
			break;
		auth_nct_pop(t);
	}
}

static void auth_nct_insert(struct auth_nct *t, const unsigned char *tag, int64_t issued,
			    uint32_t nc)
{
	size_t idx;
	struct auth_nct_ent *e;
	uint32_t *b;

	if (t->count == t->max)
		auth_nct_pop(t);
	idx = (t->head + t->count) % t->max;
	e = &t->ents[idx];
	memcpy(e->tag, tag, AUTH_TAG_LEN);
	e->issued = issued;
	e->top = nc;
	e->window = 1;
	b = auth_nct_bucket(t, tag);
	e->next = *b;
	*b = (uint32_t)(idx + 1);
	t->count++;
}

/* Sliding window as in IPsec anti-replay: late arrivals within 64 pass once. */
static enum auth_nct_res auth_nct_mark(struct auth_nct_ent *e, uint32_t nc)
{
	uint32_t d;

	if (nc > e->top) {
		d = nc - e->top;
		e->window = d >= AUTH_NCT_WINDOW ? 0 : e->window << d;
		e->window |= 1;
		e->top = nc;
		return AUTH_NCT_NEW;
	}
	d = e->top - nc;
	if (d >= AUTH_NCT_WINDOW || (e->window >> d) & 1)
		return AUTH_NCT_REUSED;
	e->window |= (uint64_t)1 << d;
	return AUTH_NCT_NEW;
}

enum auth_nct_res auth_nct_use(struct auth_nct *t, const unsigned char tag[AUTH_TAG_LEN],
			       int64_t issued, uint32_t nc, int64_t now, unsigned ttl)
{
	enum auth_nct_res r;
	struct auth_nct_ent *e;

	pthread_mutex_lock(&t->mu);
	auth_nct_expire(t, now, ttl);
	/* Checked again under the lock: the caller's look at the floor may
	 * predate the eviction of this very nonce by another thread. */
	if (issued <= atomic_load(&t->floor) || auth_nct_is_old(issued, now, ttl))
		r = AUTH_NCT_EXPIRED;
	else if ((e = auth_nct_find(t, tag)) != NULL)
		r = auth_nct_mark(e, nc);
	else {
		auth_nct_insert(t, tag, issued, nc);
		r = AUTH_NCT_NEW;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}
