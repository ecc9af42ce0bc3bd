/*
 * auth_int.h - private to src/auth: the context layout, the crypto helpers
 * shared by digest.c and nonce.c, and the used-nonce-count table.
 */
#ifndef SR_AUTH_INT_H
#define SR_AUTH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"

#define AUTH_KEY_LEN 32        /* HMAC-SHA256 key, random per context */
#define AUTH_TAG_LEN 16        /* truncated HMAC carried in a nonce */
#define AUTH_OPAQUE_HEX 32
#define AUTH_NONCE_SKEW 5      /* seconds a nonce may appear to come from the future */

/* ---- crypto.c: OpenSSL with per-thread contexts (no heap churn per call) ---- */

struct auth_part {
	const void *p;
	size_t len;
};

/* H(parts...) in lower-case hex into out (hexlen + 1 bytes); -1 on failure. */
int auth_hash_hex(enum auth_alg a, const struct auth_part *parts, size_t n, char *out);
/* HMAC-SHA256(key, parts...) into out[32]; -1 on failure. */
int auth_hmac(const unsigned char key[AUTH_KEY_LEN], const struct auth_part *parts, size_t n,
	      unsigned char out[32]);
/* Lower-case hex of n bytes, NUL-terminated (out holds 2n + 1). */
void auth_hex(const unsigned char *in, size_t n, char *out);

/* ---- nctable.c: used nonce-counts per nonce, bounded FIFO ---- */

struct auth_nct_ent;

struct auth_nct {
	pthread_mutex_t mu;
	struct auth_nct_ent *ents;   /* ring of 'max' entries, FIFO by insertion */
	uint32_t *buckets;           /* entry index + 1, 0 = empty */
	size_t max, nbuckets, head, count;
	/* Nonces issued at or before this time are expired: every entry ever
	 * removed from the table had an issue time <= floor, so a nonce above
	 * the floor that is not in the table has never been used. */
	_Atomic int64_t floor;
};

enum auth_nct_res { AUTH_NCT_NEW = 0, AUTH_NCT_REUSED, AUTH_NCT_EXPIRED };

int auth_nct_init(struct auth_nct *t, size_t max);
void auth_nct_free(struct auth_nct *t);
/* Record nc for the nonce (tag, issued); says whether it was new. */
enum auth_nct_res auth_nct_use(struct auth_nct *t, const unsigned char tag[AUTH_TAG_LEN],
			       int64_t issued, uint32_t nc, int64_t now, unsigned ttl);
int64_t auth_nct_floor(struct auth_nct *t);

/* ---- nonce.c ---- */

struct auth_ctx {
	unsigned char key[AUTH_KEY_LEN];
	unsigned nonce_ttl;
	char opaque[AUTH_OPAQUE_HEX + 1];
	struct auth_nct nct;
};

struct auth_nonce_info {
	int64_t issued;
	unsigned char tag[AUTH_TAG_LEN];
};

/* auth_nonce_check that also hands back what the nonce carried. */
enum auth_nonce_state auth_nonce_open(struct auth_ctx *a, sl_t nonce, enum auth_alg alg,
				      time_t now, struct auth_nonce_info *ni);

#endif
