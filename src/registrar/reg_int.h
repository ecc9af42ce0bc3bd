/* reg_int.h - private structures of the registrar module. */
#ifndef SR_REG_INT_H
#define SR_REG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "registrar/registrar.h"

#define REG_SHARDS 64

/* One binding.  Its strings live in the same allocation, after the struct. */
struct reg_binding {
	struct reg_binding *next;  /* in its AOR's list */
	struct reg_aor *aor;
	int64_t id;
	int64_t expires;           /* absolute UNIX time */
	int64_t updated;
	uint32_t cseq;
	uint32_t heap_idx;         /* position in the shard's expiry heap */
	uint16_t contact_len, call_id_len, source_len, ua_len;
	char *contact, *call_id, *source, *ua;  /* NUL-terminated, point into str[] */
	char str[];
};

struct reg_aor {
	struct reg_aor *hnext;
	uint64_t hash;
	struct reg_binding *bindings;
	unsigned nbindings;
	bool busy;                 /* a staged change is being committed */
	struct reg_waiter *wait_head, *wait_tail;
	uint16_t key_len;
	char key[];
};

struct reg_shard {
	pthread_mutex_t lock;
	struct reg_aor **buckets;
	size_t nbuckets;
	size_t naors;
	struct reg_binding **heap;  /* min-heap on expires */
	size_t heap_len, heap_cap;
};

struct reg {
	struct reg_cfg cfg;
	atomic_int_least64_t next_id;
	struct reg_shard shards[REG_SHARDS];
};

/* A staged change: what the commit will do, and the answer it earns. */
enum reg_slot_act { SLOT_KEEP = 0, SLOT_PUT, SLOT_DEL };

struct reg_slot {
	struct reg_binding *old;   /* current binding, or NULL for a new one */
	struct reg_binding *new;   /* the replacement when PUT */
	enum reg_slot_act act;
	bool touched;              /* named by this request */
	bool expired;              /* old binding already past its expiry */
};

struct reg_stage {
	struct reg_shard *shard;
	struct reg_aor *aor;
	struct reg_slot *slots;
	size_t nslots;
	struct store_change *changes;
	size_t nchanges;
	time_t bound_until;
	/* The 200, prepared; and where its common head (Via..CSeq) lies so a
	 * 503 can be built from it if the commit fails. */
	char *resp;
	size_t resp_len, head_start, head_end;
};

/* table.c */
struct reg_shard *reg_shard_of(struct reg *r, const char *key, size_t len, uint64_t *hash);
struct reg_aor *reg_aor_find(struct reg_shard *sh, const char *key, size_t len, uint64_t hash);
struct reg_aor *reg_aor_get(struct reg_shard *sh, const char *key, size_t len, uint64_t hash);
void reg_aor_maybe_free(struct reg_shard *sh, struct reg_aor *a);
struct reg_binding *reg_binding_new(int64_t id, sl_t contact, sl_t call_id, uint32_t cseq,
				    int64_t expires, int64_t updated, sl_t source, sl_t ua);
void reg_binding_link(struct reg_shard *sh, struct reg_aor *a, struct reg_binding *b);
void reg_binding_unlink(struct reg_shard *sh, struct reg_binding *b);
void reg_binding_fill_store(const struct reg_binding *b, const struct reg_aor *a,
			    struct store_binding *sb);

/* reply.c */
void reg_reply_simple(struct obuf *b, const struct reg_req *q, int status, const char *reason);
void reg_reply_date(struct obuf *b, time_t now);
void reg_reply_contacts(struct obuf *b, const struct reg_slot *slots, size_t n, time_t now);

#endif
