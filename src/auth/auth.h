/*
 * auth.h - HTTP Digest for SIP (RFC 7616 as profiled by RFC 8760, RFC 3261 §22).
 *
 * Knows nothing of sockets or the store: the caller hands it the parsed
 * credentials, the request method, and the HA1 it looked up (or none for an
 * unknown user, in which case a fake HA1 keeps timing and answers identical).
 *
 * Nonces are stateless to issue: base64url(issue-time | random | algorithm |
 * HMAC-SHA256(key, ...)).  The key is random per process, so a nonce from
 * before a restart never verifies after it.  Used nonce-counts are kept in a
 * bounded table (only for nonces that carried a correct digest), so a
 * replayed Authorization is recognised and gets stale=true, never a binding.
 */
#ifndef SR_AUTH_H
#define SR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"
#include "util/slice.h"

enum auth_alg { AUTH_MD5 = 0, AUTH_SHA256 = 1, AUTH_ALG__COUNT };

#define AUTH_HA1_HEX_MAX 64          /* SHA-256 hex */
#define AUTH_NONCE_MAX 64            /* nonce text length bound */
#define AUTH_MAX_ALGS 4              /* offered algorithms in one challenge */

const char *auth_alg_name(enum auth_alg a);       /* "MD5", "SHA-256" */
int auth_alg_parse(sl_t s, enum auth_alg *out);   /* case-insensitive; -1 unknown */
size_t auth_alg_hexlen(enum auth_alg a);          /* 32 or 64 */
/* Parse "SHA-256,MD5" into an ordered list without duplicates; -1 on error. */
int auth_alg_list_parse(const char *s, enum auth_alg *out, size_t *n);

/* Credentials from one Authorization header (§25.1 credentials). Slices into the header. */
struct auth_cred {
	sl_t scheme;       /* "Digest" */
	sl_t username;     /* unquoted (escapes \x left as is) */
	sl_t realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
	bool userhash;     /* userhash=true */
};

/* Parse an Authorization/Proxy-Authorization value.  Returns 0 or -1 on a
 * syntax error (bounded: at most 32 params, each value <= 1024 bytes). */
int auth_cred_parse(sl_t value, struct auth_cred *c);

/* HA1 = H(username ":" realm ":" password) in lower-case hex, NUL-terminated. */
void auth_ha1(enum auth_alg a, const char *user, const char *realm, const char *password,
	      char out[AUTH_HA1_HEX_MAX + 1]);

/* response = H(HA1:nonce:nc:cnonce:qop:H(method:uri)) for qop=auth (RFC 7616 §3.4.1). */
void auth_response(enum auth_alg a, sl_t ha1hex, sl_t nonce, sl_t nc, sl_t cnonce, sl_t qop,
		   sl_t method, sl_t uri, char out[AUTH_HA1_HEX_MAX + 1]);

struct auth_ctx;

struct auth_ctx *auth_new(unsigned nonce_ttl, size_t nc_table_max);
void auth_free(struct auth_ctx *a);

/* The opaque value of this process (hex), sent in every challenge. */
const char *auth_opaque(const struct auth_ctx *a);

/* A fresh nonce for algorithm alg, written NUL-terminated; returns its length. */
size_t auth_nonce_new(struct auth_ctx *a, enum auth_alg alg, time_t now, char out[AUTH_NONCE_MAX + 1]);

enum auth_nonce_state { AUTH_NONCE_OK = 0, AUTH_NONCE_BAD, AUTH_NONCE_EXPIRED };
/* Check a nonce's HMAC, age and that it was issued for alg. */
enum auth_nonce_state auth_nonce_check(struct auth_ctx *a, sl_t nonce, enum auth_alg alg, time_t now);

/*
 * Append one "WWW-Authenticate: Digest realm=..., nonce=..., opaque=...,
 * algorithm=..., qop=\"auth\"[, stale=true]\r\n" line per algorithm in algs.
 */
void auth_challenge(struct auth_ctx *a, struct obuf *b, sl_t realm, const enum auth_alg *algs,
		    size_t nalgs, bool stale, time_t now);

enum auth_result {
	AUTH_OK = 0,     /* digest right, nonce fresh, nc new: the request is authenticated */
	AUTH_STALE,      /* digest right but nonce expired or nc reused: challenge with stale=true */
	AUTH_FAIL,       /* anything else: wrong password, unknown user, wrong realm/opaque/qop ... */
};

/*
 * Verify credentials c against method and realm.  ha1 is the stored HA1 hex
 * for c->algorithm (empty slice for an unknown user: a fake HA1 derived from
 * the key is used so the work done and the result look the same).
 * On AUTH_OK the nonce-count is recorded as used.
 */
enum auth_result auth_verify(struct auth_ctx *a, const struct auth_cred *c, sl_t method,
			     sl_t realm, sl_t ha1, time_t now);

#endif
