/*
 * digest.c - RFC 7616 Digest with qop=auth (MD5, SHA-256): algorithm names,
 * HA1 and response computation, challenges and verification.
 */
#include "auth/auth_int.h"

#include <string.h>

#include <openssl/crypto.h>

static const char *const auth_alg_names[AUTH_ALG__COUNT] = { "MD5", "SHA-256" };

const char *auth_alg_name(enum auth_alg a)
{
	return (unsigned)a < AUTH_ALG__COUNT ? auth_alg_names[a] : "?";
}

int auth_alg_parse(sl_t s, enum auth_alg *out)
{
	for (unsigned i = 0; i < AUTH_ALG__COUNT; i++) {
		if (sl_caseeq_cstr(s, auth_alg_names[i])) {
			*out = (enum auth_alg)i;
			return 0;
		}
	}
	return -1;
}

size_t auth_alg_hexlen(enum auth_alg a)
{
	switch (a) {
	case AUTH_MD5:
		return 32;
	case AUTH_SHA256:
		return 64;
	default:
		return 0;
	}
}

int auth_alg_list_parse(const char *s, enum auth_alg *out, size_t *n)
{
	enum auth_alg tmp[AUTH_MAX_ALGS];
	size_t k = 0;
	sl_t rest = sl_cstr(s);

	if (!s || !out || !n)
		return -1;
	for (;;) {
		long comma = sl_chr(rest, ',');
		size_t ilen = comma < 0 ? rest.len : (size_t)comma;

		if (k == AUTH_MAX_ALGS || auth_alg_parse(sl_trim(sl_make(rest.p, ilen)), &tmp[k]) != 0)
			return -1;
		for (size_t i = 0; i < k; i++)
			if (tmp[i] == tmp[k])
				return -1;
		k++;
		if (comma < 0)
			break;
		rest = sl_make(rest.p + ilen + 1, rest.len - ilen - 1);
	}
	memcpy(out, tmp, k * sizeof(tmp[0]));
	*n = k;
	return 0;
}

#define AUTH_PART_SL(s) ((struct auth_part){ (s).p, (s).len })
#define AUTH_PART_STR(s) ((struct auth_part){ (s), strlen(s) })
#define AUTH_COLON ((struct auth_part){ ":", 1 })

void auth_ha1(enum auth_alg a, const char *user, const char *realm, const char *password,
	      char out[AUTH_HA1_HEX_MAX + 1])
{
	struct auth_part p[] = {
		AUTH_PART_STR(user ? user : ""), AUTH_COLON,
		AUTH_PART_STR(realm ? realm : ""), AUTH_COLON,
		AUTH_PART_STR(password ? password : ""),
	};

	auth_hash_hex(a, p, sizeof(p) / sizeof(p[0]), out);
}

void auth_response(enum auth_alg a, sl_t ha1hex, sl_t nonce, sl_t nc, sl_t cnonce, sl_t qop,
		   sl_t method, sl_t uri, char out[AUTH_HA1_HEX_MAX + 1])
{
	char ha2[AUTH_HA1_HEX_MAX + 1];
	struct auth_part p2[] = { AUTH_PART_SL(method), AUTH_COLON, AUTH_PART_SL(uri) };

	out[0] = '\0';
	if (auth_hash_hex(a, p2, sizeof(p2) / sizeof(p2[0]), ha2) != 0)
		return;

	struct auth_part p[] = {
		AUTH_PART_SL(ha1hex), AUTH_COLON, AUTH_PART_SL(nonce), AUTH_COLON,
		AUTH_PART_SL(nc), AUTH_COLON, AUTH_PART_SL(cnonce), AUTH_COLON,
		AUTH_PART_SL(qop), AUTH_COLON, AUTH_PART_STR(ha2),
	};
	auth_hash_hex(a, p, sizeof(p) / sizeof(p[0]), out);
}

/* ---- challenge ---- */

/* Realm goes out as a quoted-string; line breaks would inject headers. */
static void auth_put_quoted(struct obuf *b, sl_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (ch < 0x20 || ch == 0x7f)
			continue;
		if (ch == '"' || ch == '\\')
			ob_put(b, "\\", 1);
		ob_put(b, &s.p[i], 1);
	}
}

void auth_challenge(struct auth_ctx *a, struct obuf *b, sl_t realm, const enum auth_alg *algs,
		    size_t nalgs, bool stale, time_t now)
{
	char nonce[AUTH_NONCE_MAX + 1];

	for (size_t i = 0; i < nalgs; i++) {
		/* No nonce means no usable challenge: fail the response (500). */
		if (auth_nonce_new(a, algs[i], now, nonce) == 0) {
			b->overflow = true;
			return;
		}
		ob_str(b, "WWW-Authenticate: Digest realm=\"");
		auth_put_quoted(b, realm);
		ob_str(b, "\", nonce=\"");
		ob_str(b, nonce);
		ob_str(b, "\", opaque=\"");
		ob_str(b, a->opaque);
		ob_str(b, "\", algorithm=");
		ob_str(b, auth_alg_name(algs[i]));
		ob_str(b, ", qop=\"auth\"");
		if (stale)
			ob_str(b, ", stale=true");
		ob_str(b, "\r\n");
	}
}

/* ---- verification ---- */

/* Compare the realm as received (quoted-string inner text) with ours. */
static bool auth_realm_eq(sl_t got, sl_t ours)
{
	size_t j = 0;

	for (size_t i = 0; i < got.len; i++, j++) {
		if (got.p[i] == '\\' && i + 1 < got.len)
			i++;
		if (j >= ours.len || got.p[i] != ours.p[j])
			return false;
	}
	return j == ours.len;
}

static int auth_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* nc is exactly 8 hex digits (RFC 7616 §3.4). */
static int auth_nc_parse(sl_t s, uint32_t *nc)
{
	uint32_t v = 0;

	if (s.len != 8)
		return -1;
	for (size_t i = 0; i < 8; i++) {
		int d = auth_hexval(s.p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*nc = v;
	return 0;
}

/* Everything that can be judged without hashing. */
static bool auth_cred_usable(const struct auth_ctx *a, const struct auth_cred *c, sl_t realm,
			     enum auth_alg *alg, uint32_t *nc)
{
	if (!sl_caseeq_cstr(c->scheme, "Digest") || !auth_realm_eq(c->realm, realm))
		return false;
	if (!sl_eq_cstr(c->opaque, a->opaque))
		return false;
	if (!sl_isset(c->algorithm))
		*alg = AUTH_MD5;
	else if (auth_alg_parse(c->algorithm, alg) != 0)
		return false;
	if (!sl_eq_cstr(c->qop, "auth") || auth_nc_parse(c->nc, nc) != 0)
		return false;
	return c->cnonce.len > 0 && c->response.len == auth_alg_hexlen(*alg);
}

/* Copy hex lower-cased (clients and stores disagree on case); false if not hex. */
static bool auth_hex_lower(sl_t s, char *out)
{
	for (size_t i = 0; i < s.len; i++) {
		if (auth_hexval(s.p[i]) < 0)
			return false;
		out[i] = (char)(s.p[i] >= 'A' && s.p[i] <= 'F' ? s.p[i] - 'A' + 'a' : s.p[i]);
	}
	out[s.len] = '\0';
	return true;
}

/* Stand-in HA1 for unknown users: stable per user, unguessable, same length. */
static int auth_fake_ha1(const struct auth_ctx *a, sl_t user, sl_t realm, size_t hexlen, char *out)
{
	unsigned char mac[32];
	struct auth_part p[] = { AUTH_PART_SL(user), AUTH_COLON, AUTH_PART_SL(realm) };

	if (auth_hmac(a->key, p, 3, mac) != 0)
		return -1;
	auth_hex(mac, hexlen / 2, out);
	return 0;
}

/*
 * Is the response right?  The fake HA1 is computed whether or not the user
 * exists, so both paths do the same HMAC and digests; an unknown user can
 * never pass, even by someone who learnt the fake value.
 */
static bool auth_digest_ok(const struct auth_ctx *a, const struct auth_cred *c, enum auth_alg alg,
			   sl_t method, sl_t realm, sl_t ha1)
{
	char fake[AUTH_HA1_HEX_MAX + 1], real[AUTH_HA1_HEX_MAX + 1];
	char want[AUTH_HA1_HEX_MAX + 1], got[AUTH_HA1_HEX_MAX + 1];
	size_t hl = auth_alg_hexlen(alg);
	bool known = ha1.len == hl && auth_hex_lower(ha1, real);
	int fake_rc = auth_fake_ha1(a, c->username, realm, hl, fake);

	auth_response(alg, sl_make(known ? real : fake, hl), c->nonce, c->nc, c->cnonce, c->qop,
		      method, c->uri, want);
	if (fake_rc != 0 || strlen(want) != hl || !auth_hex_lower(c->response, got))
		return false;
	return (CRYPTO_memcmp(want, got, hl) == 0) & known;
}

enum auth_result auth_verify(struct auth_ctx *a, const struct auth_cred *c, sl_t method,
			     sl_t realm, sl_t ha1, time_t now)
{
	enum auth_alg alg;
	uint32_t nc;
	struct auth_nonce_info ni;
	enum auth_nonce_state st;

	if (!auth_cred_usable(a, c, realm, &alg, &nc))
		return AUTH_FAIL;
	st = auth_nonce_open(a, c->nonce, alg, now, &ni);
	if (st == AUTH_NONCE_BAD)
		return AUTH_FAIL;
	/* A wrong digest is FAIL even on an expired nonce: stale=true would
	 * tell the client its password was right. */
	if (!auth_digest_ok(a, c, alg, method, realm, ha1))
		return AUTH_FAIL;
	if (st == AUTH_NONCE_EXPIRED)
		return AUTH_STALE;
	if (auth_nct_use(&a->nct, ni.tag, ni.issued, nc, (int64_t)now, a->nonce_ttl) != AUTH_NCT_NEW)
		return AUTH_STALE;
	return AUTH_OK;
}
