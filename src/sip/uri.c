/*
 * uri.c - SIP/SIPS/TEL URIs (§19.1.1, §25.1), name-addr / addr-spec
 * (§20.10), URI comparison (§19.1.4) and the canonical AOR key.
 *
 * The URI grammar is applied strictly: a URI is ASCII without white space
 * and every byte must belong to the component it is in.  Escapes stay in
 * the slices; comparison and the AOR key decode them on the fly.
 */
#include "sip/sip_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>

/* Every byte is unreserved, a member of 'extra' or part of a valid escape. */
static bool span_ok(sl_t s, const char *extra)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '%') {
			if (!sip_is_escape(s, i))
				return false;
			i += 2;
		} else if (!sip_c_unreserved(c) && (c == 0 || strchr(extra, c) == NULL)) {
			return false;
		}
	}
	return true;
}

#define USER_EXTRA "&=+$,;?/"
#define PASS_EXTRA "&=+$,"
#define PARAM_EXTRA "[]/:&+$;="   /* param-unreserved plus the separators */
#define HDRS_EXTRA "[]/?:+$=&"   /* hnv-unreserved plus the separators */

/*
 * Parse an IPv6 literal (no brackets) into 16 bytes.  RFC 3261's ABNF
 * (IPv6address = hexpart [ ":" IPv4address ], from RFC 2373) lets a
 * hexpart ending in "::" take ":" IPv4address after it, which gives
 * "2001:db8:::192.0.2.1"; senders written to that grammar exist, and
 * RFC 5118 §4.10 asks receivers to tolerate it.  So a ":::" followed by
 * nothing but a dotted quad reads as "::"; a ":::" anywhere else is still
 * no address.
 */
static bool ipv6_bin(sl_t h, struct in6_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in_addr v4;
	char *c3;

	/* a NUL would end the text inet_pton sees: "[::1<NUL>junk]" */
	if (h.len < 2 || h.len >= sizeof(tmp) || memchr(h.p, '\0', h.len))
		return false;
	memcpy(tmp, h.p, h.len);
	tmp[h.len] = '\0';
	if (inet_pton(AF_INET6, tmp, a) == 1)
		return true;
	c3 = strstr(tmp, ":::");
	if (c3 == NULL || inet_pton(AF_INET, c3 + 3, &v4) != 1)
		return false;
	memmove(c3 + 2, c3 + 3, strlen(c3 + 3) + 1);
	return inet_pton(AF_INET6, tmp, a) == 1;
}

static bool host_char(unsigned char c)
{
	/* '_' is not in the grammar but common in real host names */
	return sip_c_alnum(c) || c == '-' || c == '.' || c == '_';
}

int sip_host_scan(sl_t s, size_t *i, sl_t *host, bool *v6)
{
	size_t j = *i, k;

	if (j < s.len && s.p[j] == '[') {
		struct in6_addr a;

		for (k = j + 1; k < s.len && s.p[k] != ']'; k++)
			;
		if (k >= s.len || !ipv6_bin(sip_sub(s, j + 1, k), &a))
			return -1;
		*host = sip_sub(s, j + 1, k);
		*v6 = true;
		*i = k + 1;
		return 0;
	}
	for (k = j; k < s.len && host_char((unsigned char)s.p[k]); k++)
		;
	if (k == j)
		return -1;
	*host = sip_sub(s, j, k);
	*v6 = false;
	*i = k;
	return 0;
}

int sip_port_scan(sl_t s, size_t *i, uint16_t *port)
{
	size_t j = *i;
	uint32_t v = 0;

	while (j < s.len && sip_c_digit((unsigned char)s.p[j]) && j - *i < 5)
		v = v * 10 + (uint32_t)(s.p[j++] - '0');
	if (j == *i || v > 65535 || (j < s.len && sip_c_digit((unsigned char)s.p[j])))
		return -1;
	*port = (uint16_t)v;
	*i = j;
	return 0;
}

/* sip/sips: [userinfo "@"] hostport uri-parameters [headers] */
static int parse_sip(struct sip_uri *u, sl_t r)
{
	long at = sl_chr(r, '@');
	size_t i = 0, j;

	/*
	 * '@' is legal nowhere in a SIP URI but as the end of userinfo (it
	 * must be escaped elsewhere), while the user part may hold ';', '?'
	 * and ','.  So the first '@' ends the userinfo, whatever precedes it.
	 */
	if (at >= 0) {
		sl_t ui = sip_sub(r, 0, (size_t)at);
		long colon = sl_chr(ui, ':');

		if (colon >= 0) {
			u->user = sip_sub(ui, 0, (size_t)colon);
			u->password = sip_sub(ui, (size_t)colon + 1, ui.len);
			if (!span_ok(u->password, PASS_EXTRA))
				return -1;
		} else {
			u->user = ui;
		}
		if (u->user.len == 0 || !span_ok(u->user, USER_EXTRA))
			return -1;
		i = (size_t)at + 1;
	}
	if (sip_host_scan(r, &i, &u->host, &u->host_ipv6) < 0)
		return -1;
	if (i < r.len && r.p[i] == ':') {
		i++;
		if (sip_port_scan(r, &i, &u->port) < 0)
			return -1;
	}
	if (i < r.len && r.p[i] == ';') {
		size_t pos = 0;
		sl_t n, v;
		int rc;

		for (j = i; j < r.len && r.p[j] != '?'; j++)
			;
		u->params = sip_sub(r, i, j);
		/* the tokenizer forgives a trailing ';', the URI grammar not */
		if (!span_ok(u->params, PARAM_EXTRA) || r.p[j - 1] == ';')
			return -1;
		while ((rc = sip_param_next(u->params, &pos, &n, &v)) == 1)
			;
		if (rc < 0)
			return -1;
		i = j;
	}
	if (i < r.len && r.p[i] == '?') {
		u->headers = sip_sub(r, i, r.len);
		if (u->headers.len < 2 || !span_ok(sip_sub(u->headers, 1, u->headers.len), HDRS_EXTRA))
			return -1;
		i = r.len;
	}
	return i == r.len ? 0 : -1;
}

/* tel: (RFC 3966), minimally: a number of dial characters, then params. */
static int parse_tel(struct sip_uri *u, sl_t r)
{
	size_t i;

	for (i = 0; i < r.len && r.p[i] != ';'; i++)
		if (!sip_c_hex((unsigned char)r.p[i]) && strchr("+-.()*#pwPW", r.p[i]) == NULL)
			return -1;
	if (i == 0)
		return -1;
	u->user = sip_sub(r, 0, i);
	u->params = sip_sub(r, i, r.len);
	return span_ok(u->params, PARAM_EXTRA) ? 0 : -1;
}

int sip_uri_parse(sl_t s, struct sip_uri *u)
{
	size_t i = 0;
	sl_t rest;

	memset(u, 0, sizeof(*u));
	u->whole = s;
	if (s.len == 0 || !isalpha((unsigned char)s.p[0]))
		return -1;
	while (i < s.len && (sip_c_alnum((unsigned char)s.p[i]) || s.p[i] == '+' ||
			     s.p[i] == '-' || s.p[i] == '.'))
		i++;
	if (i >= s.len || s.p[i] != ':')
		return -1;
	u->scheme_str = sip_sub(s, 0, i);
	rest = sip_sub(s, i + 1, s.len);
	if (rest.len == 0)
		return -1;
	/* No URI has white space, controls or raw 8-bit bytes in it. */
	for (size_t k = 0; k < s.len; k++)
		if ((unsigned char)s.p[k] <= 0x20 || (unsigned char)s.p[k] >= 0x7f)
			return -1;
	if (sl_caseeq_cstr(u->scheme_str, "sip"))
		u->scheme = SIP_SCHEME_SIP;
	else if (sl_caseeq_cstr(u->scheme_str, "sips"))
		u->scheme = SIP_SCHEME_SIPS;
	else if (sl_caseeq_cstr(u->scheme_str, "tel"))
		u->scheme = SIP_SCHEME_TEL;
	else
		return 0;
	return u->scheme == SIP_SCHEME_TEL ? parse_tel(u, rest) : parse_sip(u, rest);
}

/* name-addr / addr-spec -------------------------------------------------- */

/* Where a display name ends: just before '<', or 0 when the text is not
 * "[display-name] <" (then it is an addr-spec). */
static int display_end(sl_t s, size_t *lt)
{
	size_t i = 0;

	if (s.p[0] == '"') {
		i = sip_quoted_end(s, 0);
		if (i == 0)
			return -1;
		i = sip_skip_lws(s, i);
		if (i >= s.len || s.p[i] != '<')
			return -1;
		*lt = i;
		return 1;
	}
	while (i < s.len && (sip_c_token((unsigned char)s.p[i]) || sip_c_lws((unsigned char)s.p[i])))
		i++;
	if (i < s.len && s.p[i] == '<') {
		*lt = i;
		return 1;
	}
	return 0;
}

int sip_naddr_parse(sl_t s, struct sip_naddr *na)
{
	size_t i, pos = 0, lt = 0;
	sl_t n, v;
	int rc;

	memset(na, 0, sizeof(*na));
	s = sl_trim(s);
	na->whole = s;
	/* No tag is an empty slice into the value, not a NULL one: callers
	 * hash and copy the tag as is (an RFC 2543 From has none, RFC 4475
	 * inv2543), and memcpy from NULL is undefined even for 0 bytes. */
	na->tag = sl_make(s.p, 0);
	if (s.len == 0 || (rc = display_end(s, &lt)) < 0)
		return -1;
	if (rc == 1) {
		long gt;

		na->display = sl_trim(sip_sub(s, 0, lt));
		gt = sl_chr(sip_sub(s, lt + 1, s.len), '>');
		if (gt < 0)
			return -1;
		na->bracketed = true;
		na->uri_str = sip_sub(s, lt + 1, lt + 1 + (size_t)gt);
		i = lt + 2 + (size_t)gt;
	} else {
		/* addr-spec: the URI may not hold ',', ';' or '?' here (§20),
		 * so it ends at the first ';' or white space. */
		na->display = sl_make(s.p, 0);
		for (i = 0; i < s.len && s.p[i] != ';' && !sip_c_lws((unsigned char)s.p[i]); i++)
			if (s.p[i] == '?' || s.p[i] == ',')
				return -1;
		na->uri_str = sip_sub(s, 0, i);
	}
	if (sip_uri_parse(na->uri_str, &na->uri) < 0)
		return -1;
	i = sip_skip_lws(s, i);
	na->params = sip_sub(s, i, s.len);
	if (i < s.len && s.p[i] != ';')
		return -1;
	while ((rc = sip_param_next(na->params, &pos, &n, &v)) == 1)
		;
	if (rc < 0)
		return -1;
	if (sip_param_get(na->params, "tag", &v) == 1) {
		if (v.len == 0)
			return -1;  /* tag-param = "tag" EQUAL token */
		na->tag = v;
	}
	return 0;
}

/* Comparison (§19.1.4) ---------------------------------------------------- */

/* Next byte of s at *i with escapes decoded; -1 at the end. */
static int dec_next(sl_t s, size_t *i)
{
	int c;

	if (*i >= s.len)
		return -1;
	if (sip_is_escape(s, *i)) {
		c = sip_hexval((unsigned char)s.p[*i + 1]) * 16 + sip_hexval((unsigned char)s.p[*i + 2]);
		*i += 3;
		return c;
	}
	return (unsigned char)s.p[(*i)++];
}

/* Equal after unescaping, optionally ignoring ASCII case. */
static bool esc_eq(sl_t a, sl_t b, bool icase)
{
	size_t i = 0, j = 0;

	for (;;) {
		int x = dec_next(a, &i), y = dec_next(b, &j);

		if (icase && x >= 0 && y >= 0) {
			x = tolower(x);
			y = tolower(y);
		}
		if (x != y)
			return false;
		if (x < 0)
			return true;
	}
}

static bool has_port(const struct sip_uri *u)
{
	size_t end;

	if (u->host.p == NULL || u->host.p < u->whole.p || u->host.p > u->whole.p + u->whole.len)
		return false;
	end = (size_t)(u->host.p - u->whole.p) + u->host.len + (u->host_ipv6 ? 1 : 0);
	return end < u->whole.len && u->whole.p[end] == ':';
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	struct in6_addr x, y;

	if (a->host_ipv6 != b->host_ipv6)
		return false;
	if (!a->host_ipv6)
		return sl_caseeq(a->host, b->host);
	return ipv6_bin(a->host, &x) && ipv6_bin(b->host, &y) && memcmp(&x, &y, sizeof(x)) == 0;
}

struct kv {
	sl_t k, v;
	bool flag;   /* no '=' at all */
};

/* Split URI parameters into kv pairs; -1 if more than fit. */
static int collect_params(sl_t params, struct kv *out)
{
	size_t pos = 0;
	int n = 0, rc;
	sl_t k, v;

	while ((rc = sip_param_next(params, &pos, &k, &v)) == 1) {
		if (n >= SIP_URI_MAX_PARAMS)
			return -1;
		out[n++] = (struct kv){ k, v, v.len == 0 };
	}
	return rc < 0 ? -1 : n;
}

/* Split "?a=b&c" into kv pairs; -1 if more than fit. */
static int collect_headers(sl_t h, struct kv *out)
{
	size_t i = 1, j;
	int n = 0;

	if (h.len == 0)
		return 0;
	while (i <= h.len) {
		sl_t item;
		long eq;

		for (j = i; j < h.len && h.p[j] != '&'; j++)
			;
		if (n >= SIP_URI_MAX_PARAMS)
			return -1;
		item = sip_sub(h, i, j);
		eq = sl_chr(item, '=');
		if (eq < 0)
			out[n++] = (struct kv){ item, sl_make(item.p + item.len, 0), true };
		else
			out[n++] = (struct kv){ sip_sub(item, 0, (size_t)eq),
						sip_sub(item, (size_t)eq + 1, item.len), false };
		i = j + 1;
	}
	return n;
}

static int kv_find(const struct kv *set, int n, sl_t key)
{
	for (int i = 0; i < n; i++)
		if (esc_eq(set[i].k, key, true))
			return i;
	return -1;
}

static bool kv_val_eq(const struct kv *a, const struct kv *b)
{
	return a->flag == b->flag && esc_eq(a->v, b->v, true);
}

/* Parameters whose absence is not a wildcard: a URI having one never
 * equals a URI lacking it (§19.1.4, incl. transport as a default). */
static bool param_sticky(sl_t name)
{
	static const char *const sticky[] = { "transport", "user", "ttl", "method", "maddr" };

	for (size_t i = 0; i < sizeof(sticky) / sizeof(sticky[0]); i++)
		if (esc_eq(name, sl_cstr(sticky[i]), true))
			return true;
	return false;
}

/* Every param of a that b has must match; sticky ones must be in b. */
static bool params_sub(const struct kv *a, int na, const struct kv *b, int nb)
{
	for (int i = 0; i < na; i++) {
		int j = kv_find(b, nb, a[i].k);

		if (j < 0 ? param_sticky(a[i].k) : !kv_val_eq(&a[i], &b[j]))
			return false;
	}
	return true;
}

/* Headers are never ignored: every header of a must be matched in b. */
static bool headers_sub(const struct kv *a, int na, const struct kv *b, int nb)
{
	for (int i = 0; i < na; i++) {
		int j;

		for (j = 0; j < nb; j++)
			if (esc_eq(a[i].k, b[j].k, true) && kv_val_eq(&a[i], &b[j]))
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static bool rest_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	struct kv pa[SIP_URI_MAX_PARAMS], pb[SIP_URI_MAX_PARAMS];
	int na, nb;

	na = collect_params(a->params, pa);
	nb = collect_params(b->params, pb);
	if (na < 0 || nb < 0 || !params_sub(pa, na, pb, nb) || !params_sub(pb, nb, pa, na))
		return false;
	na = collect_headers(a->headers, pa);
	nb = collect_headers(b->headers, pb);
	return na >= 0 && na == nb && headers_sub(pa, na, pb, nb) && headers_sub(pb, nb, pa, na);
}

static bool opt_eq(sl_t a, sl_t b)
{
	/* presence matters: a URI with a user never equals one without */
	if (sl_isset(a) != sl_isset(b))
		return false;
	return esc_eq(a, b, false);
}

bool sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme == SIP_SCHEME_OTHER || a->scheme == SIP_SCHEME_TEL) {
		/* not defined by §19.1.4: compare the text after the scheme */
		size_t la = a->scheme_str.len + 1, lb = b->scheme_str.len + 1;

		return sl_caseeq(a->scheme_str, b->scheme_str) && a->whole.len >= la &&
		       b->whole.len >= lb &&
		       sl_eq(sip_sub(a->whole, la, a->whole.len), sip_sub(b->whole, lb, b->whole.len));
	}
	return opt_eq(a->user, b->user) && opt_eq(a->password, b->password) && host_eq(a, b) &&
	       has_port(a) == has_port(b) && a->port == b->port && rest_eq(a, b);
}

/* AOR key ---------------------------------------------------------------- */

static bool put(char *out, size_t cap, size_t *o, char c)
{
	if (*o >= cap)
		return false;
	out[(*o)++] = c;
	return true;
}

/*
 * The user is written unescaped, except '%' and control bytes, which are
 * re-escaped as "%XX": the key stays a printable C string (RFC 4475
 * escnull: "%00" must not cut the name short) and distinct users keep
 * distinct keys.
 */
static bool put_user(sl_t user, char *out, size_t cap, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;
	int c;

	for (size_t k = 0; k < user.len; k++)
		if (user.p[k] == '%' && !sip_is_escape(user, k))
			return false;
	while ((c = dec_next(user, &i)) >= 0) {
		if (c < 0x20 || c == 0x7f || c == '%') {
			if (!put(out, cap, o, '%') || !put(out, cap, o, hex[c >> 4]) ||
			    !put(out, cap, o, hex[c & 15]))
				return false;
		} else if (!put(out, cap, o, (char)c)) {
			return false;
		}
	}
	return true;
}

static bool put_host(const struct sip_uri *u, char *out, size_t cap, size_t *o)
{
	if (u->host_ipv6) {
		struct in6_addr a;
		char txt[INET6_ADDRSTRLEN];

		/* canonical text, so [::1] and [0:0::1] are one AOR */
		if (!ipv6_bin(u->host, &a) || !inet_ntop(AF_INET6, &a, txt, sizeof(txt)))
			return false;
		if (!put(out, cap, o, '['))
			return false;
		for (size_t k = 0; txt[k]; k++)
			if (!put(out, cap, o, txt[k]))
				return false;
		return put(out, cap, o, ']');
	}
	for (size_t k = 0; k < u->host.len; k++)
		if (!put(out, cap, o, (char)tolower((unsigned char)u->host.p[k])))
			return false;
	return true;
}

int sip_aor_canon(const struct sip_uri *u, char *out, size_t cap)
{
	size_t o = 0;

	if ((u->scheme != SIP_SCHEME_SIP && u->scheme != SIP_SCHEME_SIPS) || u->user.len == 0 ||
	    u->host.len == 0)
		return -1;
	if (!put_user(u->user, out, cap, &o) || !put(out, cap, &o, '@') || !put_host(u, out, cap, &o))
		return -1;
	/* NUL-terminated as a convenience; not counted in the length */
	if (o >= cap || o > INT32_MAX)
		return -1;
	out[o] = '\0';
	return (int)o;
}
