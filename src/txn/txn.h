/*
 * txn.h - the server transaction table (RFC 3261 §17.2.3), one per worker.
 *
 * A request is matched before anything else is done with it: a
 * retransmission of a request whose answer is known gets the stored answer
 * again; one whose answer is still being made (waiting for the store) is
 * absorbed.  Either way it is never processed twice.
 *
 * Each worker owns its table and touches it from its own thread only: a UDP
 * retransmission comes from the same 4-tuple, so SO_REUSEPORT delivers it to
 * the same worker's socket; a TCP one arrives on the same connection.
 *
 * Completed transactions are kept for Timer J (64*T1 = 32 s on UDP, 0 on
 * reliable transports).  Every entry waits the same interval, so a FIFO is
 * already sorted by expiry: no heap, no scan.
 */
#ifndef SR_TXN_H
#define SR_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip.h"

#define TXN_KEY_MAX 512
#define TXN_TIMER_J_MS 32000

enum txn_state { TXN_PENDING = 0, TXN_COMPLETED };

struct txn {
	struct txn *hnext;       /* hash chain */
	struct txn *qnext;       /* completed FIFO */
	uint64_t hash;
	int64_t expire_ms;       /* when a completed txn may be forgotten */
	enum txn_state state;
	bool is_register;
	char *resp;              /* the final response, once known */
	size_t resp_len;
	uint16_t key_len;
	char key[];              /* matching key, see txn.c */
};

struct txn_table;

struct txn_table *txn_table_new(size_t max_entries);
void txn_table_free(struct txn_table *t);

/*
 * Build the matching key of request m into key[TXN_KEY_MAX] (the RFC 3261
 * branch rule when the top Via branch starts with z9hG4bK, the RFC 2543
 * rule otherwise).  The key includes the method, ACK counting as INVITE
 * (§17.2.3).  'method', when set, replaces the request's: a CANCEL looks
 * for the transaction it targets with that transaction's method.  Returns
 * the length, or 0 when the key does not fit (the request is then
 * processed without a transaction).
 */
size_t txn_key(const struct sip_msg *m, sl_t method, char *key);

struct txn *txn_find(struct txn_table *t, const char *key, size_t len);
/* Insert a PENDING entry.  A full table forgets its oldest completed
 * transaction to make room; NULL when all are pending, or out of memory. */
struct txn *txn_add(struct txn_table *t, const char *key, size_t len);
/*
 * Record the final response (copied) and start Timer J: linger_ms 0 on
 * reliable transports removes the entry at once.  Returns 0 or -ENOMEM.
 */
int txn_complete(struct txn_table *t, struct txn *x, const char *resp, size_t len,
		 int64_t now_ms, int64_t linger_ms);
/* Forget completed transactions whose Timer J fired. */
void txn_expire(struct txn_table *t, int64_t now_ms);
size_t txn_count(const struct txn_table *t);

#endif
