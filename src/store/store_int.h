/*
 * store_int.h - what a storage back end implements (private to src/store
 * and its tests).
 *
 * store.c owns everything that does not depend on the database: argument
 * checks, lower-casing domains, the lock that serialises the synchronous
 * API, and the group-commit writer thread.  A back end only provides
 * connections and the operations on them, so a Redis back end is one more
 * ops table and one more branch in store.c's back end choice.
 *
 * A back end's connection type embeds struct store_conn as its first member;
 * each connection is used by one thread at a time (store.c guarantees it).
 */
#ifndef SR_STORE_INT_H
#define SR_STORE_INT_H

#include <stdint.h>

#include "store/store.h"

/* Longest domain accepted; longer ones are -ENAMETOOLONG (DNS allows 253). */
#define STORE_DOMAIN_MAX 255
/* Requests the writer takes per transaction; the rest wait for the next. */
#define STORE_BATCH_MAX 1024
/* Expired rows deleted per purge transaction of their own (when no
 * registrations wait, or by store_purge_expired). */
#define STORE_PURGE_CHUNK 250
/* Expired rows deleted inside each batch's transaction while a purge is
 * pending: the deletes share the batch's fsync instead of costing their own. */
#define STORE_PURGE_PIGGYBACK 64

/* What a connection is for decides its set-up and prepared statements. */
enum store_conn_kind {
	STORE_CONN_MAIN,     /* creates/checks the schema; synchronous API */
	STORE_CONN_WRITER,   /* group-commit writer thread */
	STORE_CONN_READER,   /* per-thread lookups; never writes */
};

struct store_conn {
	const struct store_ops *ops;
};

/*
 * All functions return 0 (or a count where said) or a negative errno.
 * Domains reach the back end already lower-cased and length-checked, and
 * changes already validated (store_change_valid).
 */
struct store_ops {
	const char *name;
	/* On failure *out is NULL and err holds a one-line reason. */
	int (*open)(const char *path, enum store_conn_kind kind,
		    struct store_conn **out, char *err, size_t errlen);
	void (*close)(struct store_conn *c);

	/* One transaction for all n changes. */
	int (*apply)(struct store_conn *c, const struct store_change *ch, size_t n);
	/*
	 * One durable commit for n requests, each applied atomically on its
	 * own and in order; sets every reqs[i]->result.  When the commit
	 * itself fails every result is negative and so is the return value.
	 * With purge_before > 0, up to purge_limit expired rows (expires <=
	 * purge_before) are deleted in the same transaction; *purged says how
	 * many (a failed purge is not the batch's failure).  Does not call
	 * done().
	 */
	int (*apply_batch)(struct store_conn *c, struct store_req *const *reqs, size_t n,
			   int64_t purge_before, int purge_limit, int *purged);
	int (*load)(struct store_conn *c, int64_t now, store_binding_cb cb, void *arg);
	int (*list)(struct store_conn *c, const char *aor, int64_t now,
		    store_binding_cb cb, void *arg);
	int (*max_id)(struct store_conn *c, int64_t *out);
	/* Delete at most limit expired rows; returns the count deleted. */
	int (*purge)(struct store_conn *c, int64_t now, int limit);
	/* A checkpoint that never waits; 0 or <0. */
	int (*checkpoint)(struct store_conn *c);

	int (*user_put)(struct store_conn *c, const char *user, const char *domain,
			const char *ha1_md5, const char *ha1_sha256);
	int (*user_del)(struct store_conn *c, const char *user, const char *domain);
	int (*user_list)(struct store_conn *c, store_user_cb cb, void *arg);

	/* Reader connections. */
	int (*user_get)(struct store_conn *c, sl_t user, sl_t domain, struct store_user *out);
	int (*domain_exists)(struct store_conn *c, sl_t domain);
};

extern const struct store_ops store_sqlite_ops;

/* 0 when a change is complete enough to store, else -EINVAL. */
int store_change_valid(const struct store_change *ch);

/* Test and metrics hook: transactions and requests the writer has run. */
void store_writer_stats(struct store *s, uint64_t *batches, uint64_t *requests);

#endif
