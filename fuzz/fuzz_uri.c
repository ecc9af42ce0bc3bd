/*
 * fuzz_uri.c - URIs, name-addrs, parameters and the small lexers.
 *
 * The input is split in two at its first NUL byte (no URI holds one), or
 * in the middle when it has none; each part is copied to its own
 * exact-size buffer.  Each part goes through sip_uri_parse and
 * sip_naddr_parse, and the two URIs (each part as a URI and as a
 * name-addr) are compared with sip_uri_eq.  The whole input goes through
 * sip_unescape, sip_param_get/next, sip_list_next, sip_delta_parse and
 * sip_qvalue_parse.
 *
 * Oracles: slices inside their part; sip_uri_eq symmetric, and equal URIs
 * have equal AOR keys; sip_aor_canon and sip_unescape honour 'cap' exactly
 * (an exact-size output buffer, and a retry with one byte less must fail);
 * q-values within 0..1000; the iterators make progress.
 */
#include "fuzz_common.h"

#include "sip/sip.h"

struct part {
	char *p;
	size_t n;
	struct sip_uri u;       /* as a URI */
	bool u_ok;
	struct sip_naddr na;    /* as a name-addr */
	bool na_ok;
};

static void check_uri(const struct sip_uri *u, const char *b, size_t n)
{
	FUZZ_SL_IN(u->scheme_str, b, n);
	FUZZ_SL_IN(u->user, b, n);
	FUZZ_SL_IN(u->password, b, n);
	FUZZ_SL_IN(u->host, b, n);
	FUZZ_SL_IN(u->params, b, n);
	FUZZ_SL_IN(u->headers, b, n);
	FUZZ_SL_IN(u->whole, b, n);
	FUZZ_CHECK(u->scheme >= SIP_SCHEME_OTHER && u->scheme <= SIP_SCHEME_TEL, "scheme %d",
		   (int)u->scheme);
}

/* The AOR key, with an exact-size buffer; returns the length or -1 and
 * copies the key into out[0..600) when it fits. */
static int aor_key(const struct sip_uri *u, char *out, size_t outcap)
{
	char big[2048];
	int n = sip_aor_canon(u, big, sizeof(big));

	if (n < 0)
		return -1;
	FUZZ_CHECK((size_t)n < sizeof(big) && big[n] == '\0', "sip_aor_canon: bad NUL at %d", n);
	FUZZ_CHECK(memchr(big, '\0', (size_t)n) == NULL, "NUL inside an AOR key");
	for (int i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)big[i] >= 0x20 && (unsigned char)big[i] != 0x7f,
			   "control byte 0x%02x in AOR key", (unsigned char)big[i]);
	{
		/* exactly enough room (n + 1) works, n does not */
		char *exact = malloc((size_t)n + 1), *less = malloc(n ? (size_t)n : 1);
		int e, l;

		if (!exact || !less)
			abort();
		e = sip_aor_canon(u, exact, (size_t)n + 1);
		l = sip_aor_canon(u, less, (size_t)n);
		FUZZ_CHECK(e == n && memcmp(exact, big, (size_t)n + 1) == 0,
			   "cap n+1 gives %d, want %d", e, n);
		FUZZ_CHECK(l == -1, "cap n gives %d, want -1", l);
		free(exact);
		free(less);
	}
	if ((size_t)n < outcap)
		memcpy(out, big, (size_t)n + 1);
	else
		return -2;
	return n;
}

static void walk_params(sl_t params, const char *b, size_t n)
{
	size_t pos = 0, guard = 0;
	sl_t k, v;
	int rc;

	while ((rc = sip_param_next(params, &pos, &k, &v)) == 1) {
		FUZZ_SL_IN(k, b, n);
		FUZZ_SL_IN(v, b, n);
		FUZZ_CHECK(k.len > 0, "empty parameter name");
		FUZZ_CHECK(pos <= params.len, "pos %zu past %zu", pos, params.len);
		FUZZ_CHECK(++guard <= params.len + 1, "sip_param_next does not advance");
	}
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_param_next returned %d", rc);
}

static void parse_part(struct part *pt)
{
	sl_t s = sl_make(pt->p, pt->n), v;

	pt->u_ok = sip_uri_parse(s, &pt->u) == 0;
	check_uri(&pt->u, pt->p, pt->n);
	if (pt->u_ok) {
		walk_params(pt->u.params, pt->p, pt->n);
		if (pt->u.scheme == SIP_SCHEME_SIP || pt->u.scheme == SIP_SCHEME_SIPS)
			FUZZ_CHECK(pt->u.host.len > 0, "sip URI without host");
	}
	pt->na_ok = sip_naddr_parse(s, &pt->na) == 0;
	FUZZ_SL_IN(pt->na.display, pt->p, pt->n);
	FUZZ_SL_IN(pt->na.uri_str, pt->p, pt->n);
	FUZZ_SL_IN(pt->na.params, pt->p, pt->n);
	FUZZ_SL_IN(pt->na.tag, pt->p, pt->n);
	FUZZ_SL_IN(pt->na.whole, pt->p, pt->n);
	check_uri(&pt->na.uri, pt->p, pt->n);
	if (pt->na_ok) {
		walk_params(pt->na.params, pt->p, pt->n);
		walk_params(pt->na.uri.params, pt->p, pt->n);
		if (sip_param_get(pt->na.params, "tag", &v) == 1)
			FUZZ_CHECK(v.len > 0 && sl_eq(v, pt->na.tag), "tag param vs na.tag");
	}
}

static void compare(const struct sip_uri *a, const struct sip_uri *b)
{
	bool ab = sip_uri_eq(a, b), ba = sip_uri_eq(b, a);
	char ka[600], kb[600];
	int na, nb;

	FUZZ_CHECK(ab == ba, "sip_uri_eq not symmetric: [%.*s] [%.*s]", (int)a->whole.len,
		   a->whole.p, (int)b->whole.len, b->whole.p);
	na = aor_key(a, ka, sizeof(ka));
	nb = aor_key(b, kb, sizeof(kb));
	if (ab && na >= 0 && nb >= 0)
		FUZZ_CHECK(na == nb && memcmp(ka, kb, (size_t)na) == 0,
			   "equal URIs [%.*s] [%.*s] with different AOR keys [%s] [%s]",
			   (int)a->whole.len, a->whole.p, (int)b->whole.len, b->whole.p, ka, kb);
	if (ab && (a->scheme == SIP_SCHEME_SIP || a->scheme == SIP_SCHEME_SIPS))
		FUZZ_CHECK((na == -1) == (nb == -1), "equal URIs, only one has an AOR key: [%.*s] [%.*s]",
			   (int)a->whole.len, a->whole.p, (int)b->whole.len, b->whole.p);
}

static void unescape(sl_t in)
{
	/* Unescaping never grows: in.len always suffices. */
	size_t cap = in.len;
	char *out = malloc(cap ? cap : 1);
	int n;

	if (!out)
		abort();
	n = sip_unescape(in, out, cap);
	FUZZ_CHECK(n >= -1 && n <= (int)in.len, "sip_unescape returned %d for %zu bytes", n, in.len);
	if (n > 0) {
		char *less = malloc((size_t)n - 1 ? (size_t)n - 1 : 1);

		if (!less)
			abort();
		FUZZ_CHECK(sip_unescape(in, less, (size_t)n - 1) == -1, "cap n-1 accepted");
		free(less);
	}
	free(out);
}

static void lexers(const char *p, size_t n)
{
	static const char *const names[] = { "tag", "expires", "q", "branch", "rport", "transport",
					     "lr", "maddr", "received", "" };
	sl_t s = sl_make(p, n), v, item;
	size_t pos = 0, guard = 0;
	uint32_t d;
	int q, rc;

	unescape(s);
	walk_params(s, p, n);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sip_param_get(s, names[i], &v) == 1)
			FUZZ_SL_IN(v, p, n);
	while ((rc = sip_list_next(s, &pos, &item)) == 1) {
		FUZZ_SL_IN(item, p, n);
		FUZZ_CHECK(++guard <= n + 2, "sip_list_next does not advance");
		(void)sip_delta_parse(item, &d);
	}
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_list_next returned %d", rc);
	if (sip_delta_parse(s, &d) == 0) {
		/* all digits (after trimming) */
		sl_t t = sl_trim(s);

		FUZZ_CHECK(t.len > 0, "delta from nothing");
		for (size_t i = 0; i < t.len; i++)
			FUZZ_CHECK(t.p[i] >= '0' && t.p[i] <= '9', "non-digit in a delta");
	}
	if (sip_qvalue_parse(s, &q) == 0)
		FUZZ_CHECK(q >= 0 && q <= 1000, "qvalue %d", q);
	(void)sip_method_id(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t cut = nul ? (size_t)(nul - in) : size / 2, rest = nul ? cut + 1 : cut;
	struct part a = { .p = fuzz_dup(in, cut), .n = cut };
	struct part b = { .p = fuzz_dup(in + rest, size - rest), .n = size - rest };

	parse_part(&a);
	parse_part(&b);
	if (a.u_ok && b.u_ok)
		compare(&a.u, &b.u);
	if (a.na_ok && b.na_ok)
		compare(&a.na.uri, &b.na.uri);
	if (a.u_ok && b.na_ok)
		compare(&a.u, &b.na.uri);
	if (a.u_ok)
		compare(&a.u, &a.u);
	lexers(a.p, a.n);
	lexers(b.p, b.n);
	{
		char *whole = fuzz_dup(in, size);

		lexers(whole, size);
		free(whole);
	}
	free(a.p);
	free(b.p);
	return 0;
}
