/*
 * guard.c - token buckets, failure counts and bans in bounded tables.
 *
 * A table is an array of entries split into windows of 8.  A key hashes
 * (seeded, so an attacker cannot aim at one window) to a window and lives
 * in one of its 8 entries; a full window forgets its least recently seen
 * entry that is neither banned nor holding connections.  Windows are
 * guarded by 64 striped mutexes: a lookup touches one cache line or two
 * and one lock, whatever the number of sources.
 */
#include "guard/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/log.h"

#define WIN 8
#define NLOCKS 64
#define MS 1000

enum { FAM_FREE = 0, FAM_V4, FAM_V6, FAM_USER };

struct gent {
	uint8_t key[16];
	uint8_t fam;
	uint8_t ban_level;
	uint8_t limited;            /* logged as over the rate since it last passed */
	uint16_t conns;
	uint32_t fails;
	int64_t seen_ms;
	int64_t tokens;             /* thousandths of a request */
	int64_t fail_start_ms;
	int64_t ban_until_ms;       /* users: under attack until */
};

struct gtable {
	struct gent *e;
	size_t mask;                /* entries - 1 */
	pthread_mutex_t locks[NLOCKS];
};

struct guard {
	struct guard_cfg cfg;
	struct gtable src, users;
};

struct gkey {
	uint8_t b[16];
	uint8_t fam;
};

/* Keys and addresses ------------------------------------------------------ */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The source of sa: an IPv4 address, or an IPv6 /64. */
static void key_of(const struct sockaddr *sa, struct gkey *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		memcpy(k->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		k->fam = FAM_V4;
		return;
	}
	const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

	if (!memcmp(a, v4mapped, 12)) {
		memcpy(k->b, a + 12, 4);
		k->fam = FAM_V4;
	} else {
		memcpy(k->b, a, 8);
		k->fam = FAM_V6;
	}
}

static void user_key(sl_t user, sl_t realm, struct gkey *k)
{
	uint64_t h1 = hash_mix(hash_bytes(user.p, user.len), realm.p, realm.len);
	uint64_t h2 = hash_mix(hash_bytes(realm.p, realm.len), user.p, user.len);

	memcpy(k->b, &h1, 8);
	memcpy(k->b + 8, &h2, 8);
	k->fam = FAM_USER;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	const void *a = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
						  : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

	if (!inet_ntop(sa->sa_family, a, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

int guard_net_parse(const char *s, struct guard_net *out)
{
	char buf[64], *slash, *end;
	unsigned long bits;
	size_t maxbits;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		return -1;
	}
	bits = maxbits;
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || bits > maxbits)
			return -1;
	}
	out->prefix = (unsigned)bits;
	return 0;
}

static bool net_match(const struct guard_net *n, const uint8_t *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->addr, a, full))
		return false;
	return !rest || ((n->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool guard_trusted(const struct guard *g, const struct sockaddr *sa)
{
	const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	const uint8_t *a;
	int fam = sa->sa_family;

	if (fam == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (fam == AF_INET6 && !memcmp(a6, v4mapped, 12)) {
		a = a6 + 12;
		fam = AF_INET;
	} else {
		a = a6;
	}
	for (size_t i = 0; i < g->cfg.ntrusted; i++)
		if (g->cfg.trusted[i].family == fam && net_match(&g->cfg.trusted[i], a))
			return true;
	return false;
}

/* Tables ---------------------------------------------------------------------- */

static int table_init(struct gtable *t, size_t slots)
{
	size_t n = WIN * NLOCKS;

	while (n < slots)
		n <<= 1;
	t->e = calloc(n, sizeof(*t->e));
	if (!t->e)
		return -1;
	t->mask = n - 1;
	for (size_t i = 0; i < NLOCKS; i++)
		pthread_mutex_init(&t->locks[i], NULL);
	return 0;
}

static void table_free(struct gtable *t)
{
	for (size_t i = 0; i < NLOCKS; i++)
		pthread_mutex_destroy(&t->locks[i]);
	free(t->e);
}

/* The first entry of k's window; its lock is taken. */
static struct gent *window_lock(struct gtable *t, const struct gkey *k)
{
	size_t w = (size_t)hash_mix(k->fam, k->b, sizeof(k->b)) & t->mask & ~(size_t)(WIN - 1);

	pthread_mutex_lock(&t->locks[(w / WIN) % NLOCKS]);
	return &t->e[w];
}

static void window_unlock(struct gtable *t, struct gent *win)
{
	pthread_mutex_unlock(&t->locks[((size_t)(win - t->e) / WIN) % NLOCKS]);
}

static bool evictable(const struct gent *e, int64_t now)
{
	return e->ban_until_ms <= now && e->conns == 0;
}

/* k's entry in the (locked) window; with add, a fresh one if it has none,
 * or NULL when every entry is pinned by a ban or connections. */
static struct gent *lookup(struct gent *win, const struct gkey *k, bool add, int64_t now,
			   int64_t tokens)
{
	struct gent *victim = NULL;

	for (int i = 0; i < WIN; i++) {
		struct gent *e = &win[i];

		if (e->fam == k->fam && !memcmp(e->key, k->b, sizeof(k->b)))
			return e;
		if (e->fam == FAM_FREE) {
			if (!victim || victim->fam != FAM_FREE)
				victim = e;
		} else if (evictable(e, now) && (!victim || (victim->fam != FAM_FREE &&
							     e->seen_ms < victim->seen_ms))) {
			victim = e;
		}
	}
	if (!add || !victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, k->b, sizeof(k->b));
	victim->fam = k->fam;
	victim->seen_ms = now;
	victim->tokens = tokens;
	return victim;
}

struct guard *guard_new(const struct guard_cfg *cfg, size_t slots)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cfg = *cfg;
	if (table_init(&g->src, slots) < 0)
		goto fail;
	if (table_init(&g->users, slots / 4) < 0) {
		table_free(&g->src);
		goto fail;
	}
	return g;
fail:
	free(g);
	return NULL;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	table_free(&g->src);
	table_free(&g->users);
	free(g);
}

/* Rate and bans ------------------------------------------------------------------ */

/* A burst of two seconds' worth: clients that register all at once after a
 * restart of their SBC or NAT are not punished for it. */
static int64_t burst(const struct guard *g)
{
	return (int64_t)g->cfg.rate_limit * 2 * MS;
}

/* Refill the bucket for the time since it was last seen, then spend one. */
static bool spend(const struct guard *g, struct gent *e, int64_t now)
{
	int64_t dt = now - e->seen_ms;

	if (dt > 0) {
		if (dt > 3600 * MS)
			dt = 3600 * MS;
		e->tokens += dt * g->cfg.rate_limit; /* rate/s = rate thousandths/ms */
		if (e->tokens > burst(g))
			e->tokens = burst(g);
	}
	e->seen_ms = now;
	if (e->tokens < MS)
		return false;
	e->tokens -= MS;
	return true;
}

enum guard_verdict guard_check(struct guard *g, const struct sockaddr *sa, int64_t now_ms)
{
	enum guard_verdict v = GUARD_PASS;
	bool newly_limited = false;
	struct gent *win, *e;
	struct gkey k;

	if ((!g->cfg.rate_limit && !g->cfg.ban_after) || guard_trusted(g, sa))
		return GUARD_PASS;
	key_of(sa, &k);
	win = window_lock(&g->src, &k);
	e = lookup(win, &k, g->cfg.rate_limit != 0, now_ms, burst(g));
	if (e && e->ban_until_ms > now_ms) {
		v = GUARD_BANNED;
	} else if (e && g->cfg.rate_limit) {
		if (spend(g, e, now_ms)) {
			e->limited = 0;
		} else {
			v = GUARD_LIMITED;
			newly_limited = !e->limited;
			e->limited = 1;
		}
	}
	window_unlock(&g->src, win);
	if (newly_limited) {
		char ip[INET6_ADDRSTRLEN];

		addr_text(sa, ip, sizeof(ip));
		log_rl(LOG_RL_GUARD, "guard: %s sends over %u requests/s; dropping what is over (--rate-limit)",
		       ip, g->cfg.rate_limit);
	}
	return v;
}

/* Usernames in the log are the client's bytes: keep them printable and short. */
static void clean_text(sl_t s, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s.p[i];

		out[n++] = (c >= 0x21 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	out[n] = '\0';
}

/* Count a failure for user@realm; true while that user is under attack. */
static bool user_failed(struct guard *g, sl_t user, sl_t realm, int64_t now)
{
	int64_t window = (int64_t)g->cfg.ban_window * MS;
	bool attacked, newly = false;
	struct gent *win, *e;
	struct gkey k;

	user_key(user, realm, &k);
	win = window_lock(&g->users, &k);
	e = lookup(win, &k, true, now, 0);
	if (!e) {
		window_unlock(&g->users, win);
		return false;
	}
	e->seen_ms = now;
	if (now - e->fail_start_ms > window) {
		e->fails = 0;
		e->fail_start_ms = now;
	}
	if (++e->fails >= g->cfg.ban_after && e->ban_until_ms <= now) {
		e->ban_until_ms = now + window;
		newly = true;
	}
	attacked = e->ban_until_ms > now;
	window_unlock(&g->users, win);
	if (newly) {
		char u[64], r[64];

		clean_text(user, u, sizeof(u));
		clean_text(realm, r, sizeof(r));
		log_warn("guard: user \"%s@%s\" drew %u failed authentications within %u s; "
			 "sources failing for it are banned at once", u, r, g->cfg.ban_after,
			 g->cfg.ban_window);
	}
	return attacked;
}

bool guard_auth_failed(struct guard *g, const struct sockaddr *sa, sl_t user, sl_t realm,
		       int64_t now_ms)
{
	int64_t window = (int64_t)g->cfg.ban_window * MS;
	unsigned secs = 0, fails = 0;
	struct gent *win, *e;
	struct gkey k;
	bool attacked;

	if (!g->cfg.ban_after || guard_trusted(g, sa))
		return false;
	attacked = user_failed(g, user, realm, now_ms);
	key_of(sa, &k);
	win = window_lock(&g->src, &k);
	e = lookup(win, &k, true, now_ms, burst(g));
	if (e) {
		/* A day of good behaviour since the last ban resets the back-off. */
		if (e->ban_level && now_ms - e->ban_until_ms > (int64_t)GUARD_BAN_MAX * MS)
			e->ban_level = 0;
		if (now_ms - e->fail_start_ms > window) {
			e->fails = 0;
			e->fail_start_ms = now_ms;
		}
		fails = ++e->fails;
		if (e->ban_until_ms <= now_ms && (fails >= g->cfg.ban_after || attacked)) {
			unsigned shift = e->ban_level < 20 ? e->ban_level : 20;
			uint64_t d = (uint64_t)g->cfg.ban_time << shift;

			secs = d > GUARD_BAN_MAX ? GUARD_BAN_MAX : (unsigned)d;
			e->ban_until_ms = now_ms + (int64_t)secs * MS;
			if (e->ban_level < 255)
				e->ban_level++;
			e->fails = 0;
		}
	}
	window_unlock(&g->src, win);
	if (secs) {
		char ip[INET6_ADDRSTRLEN], u[64], r[64];

		addr_text(sa, ip, sizeof(ip));
		clean_text(user, u, sizeof(u));
		clean_text(realm, r, sizeof(r));
		/* One line a ban: contrib/fail2ban matches "guard: banned <HOST> ". */
		log_warn("guard: banned %s for %u s after %u failed authentications (last user \"%s@%s\"%s)",
			 ip, secs, fails, u, r, fails < g->cfg.ban_after ? ", a user under attack" : "");
	}
	return secs != 0;
}

/* TCP connections -------------------------------------------------------------- */

bool guard_conn_open(struct guard *g, const struct sockaddr *sa, int64_t now_ms)
{
	bool track = g->cfg.tcp_per_source != 0, ok = true;
	struct gent *win, *e;
	struct gkey k;

	if ((!track && !g->cfg.ban_after) || guard_trusted(g, sa))
		return true;
	key_of(sa, &k);
	win = window_lock(&g->src, &k);
	e = lookup(win, &k, track, now_ms, burst(g));
	if (e && e->ban_until_ms > now_ms)
		ok = false;
	else if (track && (!e || e->conns >= g->cfg.tcp_per_source))
		ok = false;
	else if (track)
		e->conns++;
	window_unlock(&g->src, win);
	if (!ok && track) {
		char ip[INET6_ADDRSTRLEN];

		addr_text(sa, ip, sizeof(ip));
		log_rl(LOG_RL_GUARD, "guard: refused a TCP connection from %s (banned, or %u open)", ip,
		       g->cfg.tcp_per_source);
	}
	return ok;
}

void guard_conn_close(struct guard *g, const struct sockaddr *sa)
{
	struct gent *win, *e;
	struct gkey k;

	if (!g->cfg.tcp_per_source || guard_trusted(g, sa))
		return;
	key_of(sa, &k);
	win = window_lock(&g->src, &k);
	e = lookup(win, &k, false, 0, 0);
	if (e && e->conns)
		e->conns--;
	window_unlock(&g->src, win);
}

size_t guard_banned_count(struct guard *g, int64_t now_ms)
{
	size_t n = 0;

	for (size_t w = 0; w <= g->src.mask; w += WIN) {
		pthread_mutex_lock(&g->src.locks[(w / WIN) % NLOCKS]);
		for (size_t i = w; i < w + WIN; i++)
			n += g->src.e[i].fam != FAM_FREE && g->src.e[i].ban_until_ms > now_ms;
		pthread_mutex_unlock(&g->src.locks[(w / WIN) % NLOCKS]);
	}
	return n;
}
