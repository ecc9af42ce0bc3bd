/*
 * table.c - the sharded location table: AOR hash per shard, bindings in a
 * list per AOR, and a min-heap of expiries per shard.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registrar/reg_int.h"
#include "util/hash.h"
#include "util/log.h"

struct reg *reg_new(const struct reg_cfg *cfg)
{
	struct reg *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = *cfg;
	atomic_init(&r->next_id, 1);
	for (size_t i = 0; i < REG_SHARDS; i++) {
		struct reg_shard *sh = &r->shards[i];

		pthread_mutex_init(&sh->lock, NULL);
		sh->nbuckets = 256;
		sh->buckets = calloc(sh->nbuckets, sizeof(*sh->buckets));
		if (!sh->buckets) {
			reg_free(r);
			return NULL;
		}
	}
	return r;
}

void reg_free(struct reg *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < REG_SHARDS; i++) {
		struct reg_shard *sh = &r->shards[i];

		for (size_t j = 0; sh->buckets && j < sh->nbuckets; j++) {
			struct reg_aor *a = sh->buckets[j], *an;

			for (; a; a = an) {
				struct reg_binding *b = a->bindings, *bn;

				an = a->hnext;
				for (; b; b = bn) {
					bn = b->next;
					free(b);
				}
				free(a);
			}
		}
		free(sh->buckets);
		free(sh->heap);
		pthread_mutex_destroy(&sh->lock);
	}
	free(r);
}

struct reg_shard *reg_shard_of(struct reg *r, const char *key, size_t len, uint64_t *hash)
{
	*hash = hash_bytes(key, len);
	return &r->shards[*hash % REG_SHARDS];
}

struct reg_aor *reg_aor_find(struct reg_shard *sh, const char *key, size_t len, uint64_t hash)
{
	struct reg_aor *a = sh->buckets[(hash / REG_SHARDS) & (sh->nbuckets - 1)];

	for (; a; a = a->hnext)
		if (a->hash == hash && a->key_len == len && memcmp(a->key, key, len) == 0)
			return a;
	return NULL;
}

/* Double the bucket array when the load factor passes 1. */
static void shard_grow(struct reg_shard *sh)
{
	size_t n = sh->nbuckets * 2;
	struct reg_aor **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < sh->nbuckets; i++) {
		struct reg_aor *a = sh->buckets[i], *an;

		for (; a; a = an) {
			size_t b = (a->hash / REG_SHARDS) & (n - 1);

			an = a->hnext;
			a->hnext = nb[b];
			nb[b] = a;
		}
	}
	free(sh->buckets);
	sh->buckets = nb;
	sh->nbuckets = n;
}

struct reg_aor *reg_aor_get(struct reg_shard *sh, const char *key, size_t len, uint64_t hash)
{
	struct reg_aor *a = reg_aor_find(sh, key, len, hash);
	size_t b;

	if (a)
		return a;
	if (len > UINT16_MAX)
		return NULL;
	a = calloc(1, sizeof(*a) + len + 1);
	if (!a)
		return NULL;
	a->hash = hash;
	a->key_len = (uint16_t)len;
	memcpy(a->key, key, len);
	if (sh->naors >= sh->nbuckets)
		shard_grow(sh);
	b = (hash / REG_SHARDS) & (sh->nbuckets - 1);
	a->hnext = sh->buckets[b];
	sh->buckets[b] = a;
	sh->naors++;
	return a;
}

/* An AOR with no bindings, no change in flight and nobody waiting is gone. */
void reg_aor_maybe_free(struct reg_shard *sh, struct reg_aor *a)
{
	struct reg_aor **pp;

	if (a->bindings || a->busy || a->wait_head)
		return;
	pp = &sh->buckets[(a->hash / REG_SHARDS) & (sh->nbuckets - 1)];
	while (*pp && *pp != a)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = a->hnext;
		sh->naors--;
	}
	free(a);
}

static char *put_str(char **dst, sl_t s)
{
	char *start = *dst;

	memcpy(start, s.p, s.len);
	start[s.len] = '\0';
	*dst += s.len + 1;
	return start;
}

struct reg_binding *reg_binding_new(int64_t id, sl_t contact, sl_t call_id, uint32_t cseq,
				    int64_t expires, int64_t updated, sl_t source, sl_t ua)
{
	struct reg_binding *b;
	char *p;

	if (contact.len > UINT16_MAX || call_id.len > UINT16_MAX || source.len > UINT16_MAX ||
	    ua.len > UINT16_MAX)
		return NULL;
	b = malloc(sizeof(*b) + contact.len + call_id.len + source.len + ua.len + 4);
	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->cseq = cseq;
	b->expires = expires;
	b->updated = updated;
	b->contact_len = (uint16_t)contact.len;
	b->call_id_len = (uint16_t)call_id.len;
	b->source_len = (uint16_t)source.len;
	b->ua_len = (uint16_t)ua.len;
	p = b->str;
	b->contact = put_str(&p, contact);
	b->call_id = put_str(&p, call_id);
	b->source = put_str(&p, source);
	b->ua = put_str(&p, ua);
	return b;
}

/* Expiry heap ---------------------------------------------------------- */

static void heap_set(struct reg_shard *sh, size_t i, struct reg_binding *b)
{
	sh->heap[i] = b;
	b->heap_idx = (uint32_t)i;
}

static void heap_up(struct reg_shard *sh, size_t i)
{
	struct reg_binding *b = sh->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (sh->heap[p]->expires <= b->expires)
			break;
		heap_set(sh, i, sh->heap[p]);
		i = p;
	}
	heap_set(sh, i, b);
}

static void heap_down(struct reg_shard *sh, size_t i)
{
	struct reg_binding *b = sh->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= sh->heap_len)
			break;
		if (c + 1 < sh->heap_len && sh->heap[c + 1]->expires < sh->heap[c]->expires)
			c++;
		if (b->expires <= sh->heap[c]->expires)
			break;
		heap_set(sh, i, sh->heap[c]);
		i = c;
	}
	heap_set(sh, i, b);
}

static int heap_push(struct reg_shard *sh, struct reg_binding *b)
{
	if (sh->heap_len == sh->heap_cap) {
		size_t n = sh->heap_cap ? sh->heap_cap * 2 : 1024;
		struct reg_binding **h = realloc(sh->heap, n * sizeof(*h));

		if (!h)
			return -ENOMEM;
		sh->heap = h;
		sh->heap_cap = n;
	}
	heap_set(sh, sh->heap_len++, b);
	heap_up(sh, sh->heap_len - 1);
	return 0;
}

static void heap_remove(struct reg_shard *sh, struct reg_binding *b)
{
	size_t i = b->heap_idx;
	struct reg_binding *last;

	if (i >= sh->heap_len || sh->heap[i] != b)
		return;
	last = sh->heap[--sh->heap_len];
	if (i == sh->heap_len)
		return;
	heap_set(sh, i, last);
	heap_up(sh, i);
	heap_down(sh, last->heap_idx);
}

/* Linking --------------------------------------------------------------- */

void reg_binding_link(struct reg_shard *sh, struct reg_aor *a, struct reg_binding *b)
{
	b->aor = a;
	b->next = a->bindings;
	a->bindings = b;
	a->nbindings++;
	b->heap_idx = UINT32_MAX;
	if (heap_push(sh, b) < 0)
		log_rl(LOG_RL_STORE, "out of memory for the expiry heap; binding %lld will be purged late",
		       (long long)b->id);
}

void reg_binding_unlink(struct reg_shard *sh, struct reg_binding *b)
{
	struct reg_aor *a = b->aor;
	struct reg_binding **pp = &a->bindings;

	while (*pp && *pp != b)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = b->next;
		a->nbindings--;
	}
	heap_remove(sh, b);
}

void reg_binding_fill_store(const struct reg_binding *b, const struct reg_aor *a,
			    struct store_binding *sb)
{
	sb->id = b->id;
	sb->aor = a->key;
	sb->contact = b->contact;
	sb->call_id = b->call_id;
	sb->cseq = b->cseq;
	sb->expires = b->expires;
	sb->updated = b->updated;
	sb->source = b->source;
	sb->user_agent = b->ua;
}

size_t reg_expire(struct reg *r, time_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < REG_SHARDS; i++) {
		struct reg_shard *sh = &r->shards[i];

		pthread_mutex_lock(&sh->lock);
		while (sh->heap_len && sh->heap[0]->expires <= now) {
			struct reg_binding *b = sh->heap[0];
			struct reg_aor *a = b->aor;

			reg_binding_unlink(sh, b);
			free(b);
			reg_aor_maybe_free(sh, a);
			n++;
		}
		pthread_mutex_unlock(&sh->lock);
	}
	return n;
}

size_t reg_binding_count(struct reg *r)
{
	size_t n = 0;

	for (size_t i = 0; i < REG_SHARDS; i++) {
		pthread_mutex_lock(&r->shards[i].lock);
		n += r->shards[i].heap_len;
		pthread_mutex_unlock(&r->shards[i].lock);
	}
	return n;
}

size_t reg_aor_count(struct reg *r)
{
	size_t n = 0;

	for (size_t i = 0; i < REG_SHARDS; i++) {
		pthread_mutex_lock(&r->shards[i].lock);
		n += r->shards[i].naors;
		pthread_mutex_unlock(&r->shards[i].lock);
	}
	return n;
}

/* Start-up ---------------------------------------------------------------- */

struct load_ctx {
	struct reg *r;
	size_t n;
	int64_t max_id;
};

static int load_one(const struct store_binding *sb, void *arg)
{
	struct load_ctx *lc = arg;
	size_t klen = strlen(sb->aor);
	uint64_t h;
	struct reg_shard *sh = reg_shard_of(lc->r, sb->aor, klen, &h);
	struct reg_aor *a;
	struct reg_binding *b;

	b = reg_binding_new(sb->id, sl_cstr(sb->contact), sl_cstr(sb->call_id), sb->cseq,
			    sb->expires, sb->updated, sl_cstr(sb->source), sl_cstr(sb->user_agent));
	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&sh->lock);
	a = reg_aor_get(sh, sb->aor, klen, h);
	if (a)
		reg_binding_link(sh, a, b);
	pthread_mutex_unlock(&sh->lock);
	if (!a) {
		free(b);
		return -ENOMEM;
	}
	if (sb->id > lc->max_id)
		lc->max_id = sb->id;
	lc->n++;
	return 0;
}

int reg_load(struct reg *r, struct store *s, time_t now)
{
	struct load_ctx lc = { r, 0, 0 };
	int64_t max_id = 0;
	int rc;

	rc = store_load_bindings(s, now, load_one, &lc);
	if (rc < 0)
		return rc;
	/* Ids of expired rows may still be in the store: never reuse them. */
	if (store_max_binding_id(s, &max_id) == 0 && max_id > lc.max_id)
		lc.max_id = max_id;
	atomic_store(&r->next_id, lc.max_id + 1);
	log_info("loaded %zu bindings from the store", lc.n);
	return 0;
}
