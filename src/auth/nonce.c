/*
 * nonce.c - the per-process key, the opaque value and stateless nonces.
 *
 * A nonce is base64url (no padding) of 33 bytes:
 *   issue time (8, big-endian) | random (8) | algorithm (1) | HMAC tag (16)
 * where the tag is the first 16 bytes of HMAC-SHA256(key, first 17 bytes).
 * Nothing is stored when a nonce is issued, so a flood of unauthenticated
 * REGISTERs costs no memory; the key is random per process, so nonces from
 * before a restart fail the HMAC.
 */
#include "auth/auth_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/log.h"

#define AUTH_NONCE_BODY 17                          /* time | random | alg */
#define AUTH_NONCE_RAW (AUTH_NONCE_BODY + AUTH_TAG_LEN)  /* 33: no base64 padding */
#define AUTH_NONCE_TEXT (AUTH_NONCE_RAW / 3 * 4)         /* 44 */

_Static_assert(AUTH_NONCE_RAW % 3 == 0, "nonce must encode without padding");
_Static_assert(AUTH_NONCE_TEXT <= AUTH_NONCE_MAX, "nonce text bound");

static const char auth_b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* n must be a multiple of 3 (our nonces are): no padding, no tail cases. */
static void auth_b64url_enc(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = auth_b64url[v >> 18];
		*out++ = auth_b64url[(v >> 12) & 63];
		*out++ = auth_b64url[(v >> 6) & 63];
		*out++ = auth_b64url[v & 63];
	}
	*out = '\0';
}

static int auth_b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode exactly s.len / 4 * 3 bytes; -1 on a length or alphabet error. */
static int auth_b64url_dec(sl_t s, unsigned char *out, size_t outlen)
{
	if (s.len % 4 != 0 || s.len / 4 * 3 != outlen)
		return -1;
	for (size_t i = 0; i < s.len; i += 4) {
		uint32_t v = 0;

		for (size_t k = 0; k < 4; k++) {
			int d = auth_b64url_val((unsigned char)s.p[i + k]);

			if (d < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		*out++ = (unsigned char)(v >> 16);
		*out++ = (unsigned char)(v >> 8);
		*out++ = (unsigned char)v;
	}
	return 0;
}

static int auth_nonce_tag(const struct auth_ctx *a, const unsigned char *body,
			  unsigned char tag[AUTH_TAG_LEN])
{
	unsigned char mac[32];
	struct auth_part p = { body, AUTH_NONCE_BODY };

	if (auth_hmac(a->key, &p, 1, mac) != 0)
		return -1;
	memcpy(tag, mac, AUTH_TAG_LEN);
	return 0;
}

static int auth_opaque_init(struct auth_ctx *a)
{
	unsigned char mac[32];
	struct auth_part p = { "opaque", 6 };

	if (auth_hmac(a->key, &p, 1, mac) != 0)
		return -1;
	auth_hex(mac, AUTH_OPAQUE_HEX / 2, a->opaque);
	return 0;
}

struct auth_ctx *auth_new(unsigned nonce_ttl, size_t nc_table_max)
{
	struct auth_ctx *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->nonce_ttl = nonce_ttl;
	if (RAND_bytes(a->key, sizeof(a->key)) != 1 || auth_opaque_init(a) != 0) {
		log_err("auth: cannot create the nonce key");
		OPENSSL_cleanse(a->key, sizeof(a->key));
		free(a);
		return NULL;
	}
	if (auth_nct_init(&a->nct, nc_table_max) != 0) {
		OPENSSL_cleanse(a->key, sizeof(a->key));
		free(a);
		return NULL;
	}
	return a;
}

void auth_free(struct auth_ctx *a)
{
	if (!a)
		return;
	auth_nct_free(&a->nct);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a);
}

const char *auth_opaque(const struct auth_ctx *a) { return a->opaque; }

static void auth_put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t auth_get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

size_t auth_nonce_new(struct auth_ctx *a, enum auth_alg alg, time_t now, char out[AUTH_NONCE_MAX + 1])
{
	unsigned char raw[AUTH_NONCE_RAW];

	out[0] = '\0';
	if ((unsigned)alg >= AUTH_ALG__COUNT)
		return 0;
	auth_put_be64(raw, (uint64_t)(int64_t)now);
	if (RAND_bytes(raw + 8, 8) != 1)
		return 0;
	raw[16] = (unsigned char)alg;
	if (auth_nonce_tag(a, raw, raw + AUTH_NONCE_BODY) != 0)
		return 0;
	auth_b64url_enc(raw, sizeof(raw), out);
	return AUTH_NONCE_TEXT;
}

/* Time checks, with unsigned differences so no value can overflow. */
static enum auth_nonce_state auth_nonce_age(const struct auth_ctx *a, int64_t issued, int64_t now)
{
	if (issued > now && (uint64_t)issued - (uint64_t)now > AUTH_NONCE_SKEW)
		return AUTH_NONCE_BAD;
	if (now > issued && (uint64_t)now - (uint64_t)issued > a->nonce_ttl)
		return AUTH_NONCE_EXPIRED;
	return AUTH_NONCE_OK;
}

enum auth_nonce_state auth_nonce_open(struct auth_ctx *a, sl_t nonce, enum auth_alg alg,
				      time_t now, struct auth_nonce_info *ni)
{
	unsigned char raw[AUTH_NONCE_RAW], tag[AUTH_TAG_LEN];
	enum auth_nonce_state st;

	if (nonce.len != AUTH_NONCE_TEXT || auth_b64url_dec(nonce, raw, sizeof(raw)) != 0)
		return AUTH_NONCE_BAD;
	if (auth_nonce_tag(a, raw, tag) != 0 ||
	    CRYPTO_memcmp(tag, raw + AUTH_NONCE_BODY, AUTH_TAG_LEN) != 0)
		return AUTH_NONCE_BAD;
	/* Authentic from here on: the fields are ours. */
	if ((unsigned)alg >= AUTH_ALG__COUNT || raw[16] != (unsigned char)alg)
		return AUTH_NONCE_BAD;
	ni->issued = (int64_t)auth_get_be64(raw);
	memcpy(ni->tag, tag, AUTH_TAG_LEN);
	st = auth_nonce_age(a, ni->issued, (int64_t)now);
	if (st == AUTH_NONCE_OK && ni->issued <= auth_nct_floor(&a->nct))
		st = AUTH_NONCE_EXPIRED;
	return st;
}

enum auth_nonce_state auth_nonce_check(struct auth_ctx *a, sl_t nonce, enum auth_alg alg, time_t now)
{
	struct auth_nonce_info ni;

	return auth_nonce_open(a, nonce, alg, now, &ni);
}
