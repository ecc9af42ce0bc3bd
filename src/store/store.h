/*
 * store.h - durable storage of subscribers and bindings.
 *
 * A back end is an ops table (store_sqlite.c now; Redis later).  On top of
 * it sits one writer thread doing group commit: workers hand it requests,
 * it takes everything queued, applies it in one transaction with one fsync,
 * then calls each request's done() callback.  A 200 is sent from that
 * callback's continuation only, so a 200 always means "on disk".
 *
 * Reads that workers need on the hot path (a subscriber's HA1) go through a
 * store_reader, one per thread, with its own connection and prepared
 * statements.  The writer never blocks readers (SQLite WAL).
 */
#ifndef SR_STORE_H
#define SR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define STORE_HA1_MAX 64

/* A binding as stored.  Strings are NUL-terminated and owned by whoever
 * filled the struct (the registrar's memory, or the store during a load
 * callback, valid only for the callback's duration). */
struct store_binding {
	int64_t id;            /* unique, assigned by the registrar */
	const char *aor;       /* canonical "user@host" */
	const char *contact;   /* Contact entry as received, expires param removed */
	const char *call_id;
	uint32_t cseq;
	int64_t expires;       /* absolute UNIX time */
	int64_t updated;       /* UNIX time of the last REGISTER that touched it */
	const char *source;    /* "udp:1.2.3.4:5060" where the REGISTER came from */
	const char *user_agent;/* may be "" */
};

enum store_op { STORE_PUT = 1, STORE_DEL = 2, STORE_DEL_AOR = 3 };

struct store_change {
	enum store_op op;
	struct store_binding b;   /* PUT: all fields; DEL: id; DEL_AOR: aor */
};

/* A unit of work for the writer: its changes are applied atomically. */
struct store_req {
	struct store_req *next;               /* queue link, owned by the store */
	const struct store_change *changes;
	size_t nchanges;
	int result;                           /* 0 when durable, <0 errno otherwise */
	void (*done)(struct store_req *r);    /* called on the writer thread */
};

struct store_user {
	char ha1_md5[STORE_HA1_MAX + 1];      /* "" when absent */
	char ha1_sha256[STORE_HA1_MAX + 1];
};

struct store;
struct store_reader;

/*
 * Open the store at path (SQLite file), creating the schema if needed, in
 * WAL mode with synchronous=FULL.  On error returns NULL and writes a
 * one-line reason naming the file into err: missing directory, read-only
 * file or directory, locked by another process (after a 2 s wait), full,
 * corrupt (PRAGMA quick_check), or a WAL that SQLite would silently cut
 * short (a damaged header, or damage with commits after it).  A refused
 * file is left exactly as it was (no checkpoint on close).
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);

/* Start/stop the group-commit writer (serve only; CLI tools write directly). */
int store_writer_start(struct store *s);
void store_writer_stop(struct store *s);     /* drains the queue first */
/*
 * Thread-safe; r->done is called exactly once, from the writer thread.
 * r->result is 0 once the change is durable; <0 when it was not applied
 * at all: -EBUSY (another process holds the write lock: the first batch
 * waits 2 s for it, later ones 250 ms until one gets through), -ENOSPC or
 * -EIO (full disk, file size limit, read-only or failing file), -EROFS.
 * The writer goes on with the next batch: once the fault clears, commits
 * succeed again without a restart.
 */
void store_submit(struct store *s, struct store_req *r);

/* Synchronous apply (CLI, tests, start-up purge). */
int store_apply(struct store *s, const struct store_change *ch, size_t n);

/* Load every binding with expires > now; cb's return < 0 aborts. */
typedef int (*store_binding_cb)(const struct store_binding *b, void *arg);
int store_load_bindings(struct store *s, int64_t now, store_binding_cb cb, void *arg);
/* Bindings of one AOR (or all when aor is NULL), expires > now, ordered by aor, id. */
int store_list_bindings(struct store *s, const char *aor, int64_t now, store_binding_cb cb, void *arg);
/* Largest binding id present (0 when none). */
int store_max_binding_id(struct store *s, int64_t *out);
/* Delete bindings with expires <= now, by index (no table scan), in
 * bounded transactions.  Returns the count or <0.  Synchronous. */
int store_purge_expired(struct store *s, int64_t now);
/*
 * Ask the writer thread to purge bindings with expires <= now, a bounded
 * chunk between its batches until none are left: a million bindings
 * expiring at once never stall the commits of live registrations.
 */
void store_purge_request(struct store *s, int64_t now);
/*
 * Copy committed WAL pages into the database file, without waiting for
 * anyone (a passive checkpoint) on the main connection.  The writer never
 * checkpoints: a checkpoint inside a commit would hold up every REGISTER
 * of that batch.  The server calls this once a second.
 */
void store_checkpoint(struct store *s);

/* Subscribers.  user/domain are the AOR parts ("alice", "example.com"). */
int store_user_put(struct store *s, const char *user, const char *domain,
		   const char *ha1_md5, const char *ha1_sha256);   /* insert or replace */
int store_user_del(struct store *s, const char *user, const char *domain); /* -ENOENT if absent */
typedef int (*store_user_cb)(const char *user, const char *domain, void *arg);
int store_user_list(struct store *s, store_user_cb cb, void *arg);

/* Per-thread read handle for the hot path. */
struct store_reader *store_reader_new(struct store *s);
void store_reader_free(struct store_reader *r);
/* 0 found, -ENOENT not found, other <0 on store failure.  domain is
 * compared case-insensitively (domains are stored lower-cased). */
int store_user_get(struct store_reader *r, sl_t user, sl_t domain, struct store_user *out);
/* 0 when some subscriber has this domain, -ENOENT when none, <0 on failure
 * (used when no --domain is configured: then the served domains are those
 * that have subscribers). */
int store_domain_exists(struct store_reader *r, sl_t domain);

#endif
