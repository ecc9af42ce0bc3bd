/*
 * registrar.h - the location table and the REGISTER logic (RFC 3261 §10.3).
 *
 * The table maps a canonical AOR ("alice@example.com") to its bindings.  It
 * is shared by all workers and split into shards, each with its own lock,
 * hash of AORs and expiry heap (bindings expire by the million; a heap pops
 * only what is due, never scanning the table).
 *
 * A REGISTER that changes bindings is not applied at once.  reg_save()
 * stages the change: it computes the new binding set, builds the 200 that
 * will list it, marks the AOR busy and returns the store changes to commit.
 * Once the store made them durable, reg_finish() installs the staged set
 * (or discards it when the commit failed, and builds a 503 instead).  While
 * an AOR is busy, further REGISTERs for it wait in its queue, so requests
 * for one AOR are applied one at a time, in order, whatever thread received
 * them, and nothing is ever visible in memory that is not on disk.
 */
#ifndef SR_REGISTRAR_H
#define SR_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/auth.h"
#include "sip/sip.h"
#include "store/store.h"
#include "util/buf.h"

#define REG_MAX_DOMAINS 32
#define REG_MAX_CONTACTS_REQ 64     /* Contact entries accepted in one request */
#define REG_MAX_CONTACT_LEN 2048    /* one Contact entry */

struct reg_cfg {
	unsigned min_expires;
	unsigned max_expires;
	unsigned default_expires;
	unsigned max_contacts;
	/* Served domains (lower-case).  None: every domain with subscribers. */
	const char *domains[REG_MAX_DOMAINS];
	size_t ndomains;
};

struct reg;
struct reg_stage;

/* A request parked behind a busy AOR; embedded in the caller's struct. */
struct reg_waiter {
	struct reg_waiter *next;
};

/* Everything about one REGISTER that is not in the message itself. */
struct reg_req {
	const struct sip_msg *m;
	const struct sip_resp_src *src;   /* for Via received/rport */
	const char *source;               /* "udp:127.0.0.1:5062", stored with bindings */
	sl_t to_tag;
	time_t now;
	bool preauth;                     /* authenticated before it waited ... */
	sl_t preauth_user;                /* ... as this username */
	const enum auth_alg *algs;        /* offered in a challenge, in order */
	size_t nalgs;
	/* Called under the AOR's lock when the AOR is busy: returns the
	 * waiter to queue (a copy of the request and of auth_user, the name it
	 * authenticated as), or NULL to answer 503. */
	struct reg_waiter *(*park)(void *arg, sl_t auth_user);
	/* Called when the credentials offered were wrong (a bad digest, an
	 * unknown user): not when none were offered, nor for a stale nonce. */
	void (*auth_failed)(void *arg, sl_t user, sl_t realm);
	void *arg;                        /* for park and auth_failed */
};

/* Per-thread things reg_save needs. */
struct reg_thread {
	struct auth_ctx *auth;
	struct store_reader *reader;
};

enum reg_rc {
	REG_REPLY = 0,   /* resp holds the final response: send it */
	REG_COMMIT,      /* *stage is set: commit stage->changes, then reg_finish */
	REG_PARKED,      /* the request waits behind its AOR (park() was called) */
};

struct reg *reg_new(const struct reg_cfg *cfg);
void reg_free(struct reg *r);

/* Load bindings from the store at start (expired ones skipped). */
int reg_load(struct reg *r, struct store *s, time_t now);

enum reg_rc reg_save(struct reg *r, struct reg_thread *t, const struct reg_req *q,
		     struct obuf *resp, struct reg_stage **stage);

/* The store changes of a staged request, for a struct store_req. */
const struct store_change *reg_stage_changes(const struct reg_stage *st, size_t *n);
/* Latest expiry granted by the stage (0 if none), for TCP idle policy. */
time_t reg_stage_bound_until(const struct reg_stage *st);

/*
 * Install (result == 0) or discard (result < 0) a stage and free it.  The
 * response to send is written into resp (the prepared 200, or a 503 with
 * Retry-After); *waiters receives the requests that were parked behind this
 * AOR, in arrival order, for the caller to process again.
 */
void reg_finish(struct reg *r, struct reg_stage *st, int result, struct obuf *resp,
		struct reg_waiter **waiters);

/* Drop bindings whose expiry has passed; returns how many.  Cheap: pops heaps. */
size_t reg_expire(struct reg *r, time_t now);

/* Counts for logs and tests. */
size_t reg_binding_count(struct reg *r);
size_t reg_aor_count(struct reg *r);

#endif
