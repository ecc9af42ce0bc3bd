/*
 * guard.h - per-source protections against a hostile network.
 *
 *   - A token bucket per source address (like Kamailio's pike): a source
 *     over --rate-limit requests per second is dropped before any parsing,
 *     hashing or store work, so a flood costs next to nothing.
 *   - Failed authentications (wrong credentials only: never the first
 *     credential-less request, never a stale nonce) are counted per source
 *     and per username.  --ban-after failures from one source within
 *     --ban-window seconds ban it; each new ban of the same source lasts
 *     twice as long as the one before.  A username that draws that many
 *     failures from anywhere is "under attack" for a window: any source
 *     that fails for it then is banned at once.  The real user, who
 *     authenticates, is never refused for what others did.
 *   - TCP connections are counted per source.
 *   - Trusted networks (--trusted CIDR: an SBC, a load generator) are
 *     exempt from all of it.
 *
 * Sources are IPv4 addresses, or IPv6 /64 prefixes (one host owns a /64
 * and could otherwise rotate through it).  State lives in fixed-size
 * tables: memory is bounded whatever the number of sources; when a table
 * is full, the least recently seen unbanned entry is forgotten.
 * Thread-safe: workers share one guard.
 */
#ifndef SR_GUARD_H
#define SR_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "util/slice.h"

#define GUARD_MAX_TRUSTED 32

/* An address prefix: "10.0.0.0/8", "2001:db8::/32", "127.0.0.1". */
struct guard_net {
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;            /* bits */
};

struct guard_cfg {
	unsigned rate_limit;        /* requests/s per source; 0: off */
	unsigned ban_after;         /* failed authentications; 0: no bans */
	unsigned ban_window;        /* seconds in which they count */
	unsigned ban_time;          /* first ban, seconds; doubles per repeat */
	unsigned tcp_per_source;    /* TCP connections per source; 0: no limit */
	struct guard_net trusted[GUARD_MAX_TRUSTED];
	size_t ntrusted;
};

#define GUARD_BAN_MAX 86400u    /* the back-off stops doubling at a day */

/* Parse a CIDR (or a bare address, a full-length prefix); -1 on error. */
int guard_net_parse(const char *s, struct guard_net *out);

struct guard;

/* 'slots' bounds the sources tracked (rounded up to a power of two). */
struct guard *guard_new(const struct guard_cfg *cfg, size_t slots);
void guard_free(struct guard *g);

enum guard_verdict {
	GUARD_PASS = 0,
	GUARD_LIMITED,              /* over the rate limit: drop */
	GUARD_BANNED,               /* banned for failed authentications: drop */
};

/* Admit one message from sa (spends a token).  now_ms: monotonic clock. */
enum guard_verdict guard_check(struct guard *g, const struct sockaddr *sa, int64_t now_ms);

/*
 * A request from sa carried wrong credentials for user@realm.  Counts it
 * and bans the source when a limit is reached (logging one line a ban,
 * for fail2ban).  Returns true if the source is now banned.
 */
bool guard_auth_failed(struct guard *g, const struct sockaddr *sa, sl_t user, sl_t realm,
		       int64_t now_ms);

/* TCP: may sa open one more connection?  Each true must be matched by one
 * guard_conn_close() for the same address. */
bool guard_conn_open(struct guard *g, const struct sockaddr *sa, int64_t now_ms);
void guard_conn_close(struct guard *g, const struct sockaddr *sa);

bool guard_trusted(const struct guard *g, const struct sockaddr *sa);

/* For tests and the log: sources banned now. */
size_t guard_banned_count(struct guard *g, int64_t now_ms);

#endif
