/*
 * fuzz_msg.c - the SIP message parser end to end.
 *
 * The input is one message off the wire.  It is parsed as a datagram and
 * as a stream, and whatever parsed is walked with every accessor a server
 * uses: all headers, the Via and Contact lists, name-addr and URI parsing,
 * parameters, the AOR key, URI comparison, and a response built from the
 * request (also from a request that failed to parse but is answerable, as
 * the server does).  sip_frame runs over the input with a few limits.
 *
 * Oracles besides the sanitizers (see fuzz_common.h): every slice points
 * into the input; a response built for a request that parsed is itself a
 * parseable response with the same Call-ID, CSeq, tags, branch and number
 * of Via entries; sip_frame and a stream parse agree on where a message
 * ends.
 */
#include "fuzz_common.h"

#include "sip/sip.h"
#include "util/buf.h"

#define TO_TAG "fuzztag1"
#define SRC_IP "192.0.2.99"

static const char *g_buf;
static size_t g_len;

#define IN(s) FUZZ_SL_IN((s), g_buf, g_len)

static void check_uri(const struct sip_uri *u)
{
	IN(u->scheme_str);
	IN(u->user);
	IN(u->password);
	IN(u->host);
	IN(u->params);
	IN(u->headers);
	IN(u->whole);
}

/* Walk ";a=b;c" with sip_param_next; it must make progress and end. */
static void walk_params(sl_t params)
{
	size_t pos = 0, guard = 0;
	sl_t n, v;
	int rc;

	while ((rc = sip_param_next(params, &pos, &n, &v)) == 1) {
		IN(n);
		IN(v);
		FUZZ_CHECK(n.len > 0, "empty parameter name returned");
		FUZZ_CHECK(++guard <= params.len + 1, "sip_param_next does not advance");
	}
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_param_next returned %d", rc);
}

static void aor_key(const struct sip_uri *u)
{
	char key[600];
	int n = sip_aor_canon(u, key, sizeof(key));

	if (n >= 0) {
		FUZZ_CHECK((size_t)n < sizeof(key) && key[n] == '\0' && strlen(key) == (size_t)n,
			   "sip_aor_canon: length %d vs string", n);
		FUZZ_CHECK(u->scheme == SIP_SCHEME_SIP || u->scheme == SIP_SCHEME_SIPS,
			   "AOR key for a non-sip URI");
	}
}

static void check_naddr(const struct sip_naddr *na)
{
	IN(na->display);
	IN(na->uri_str);
	IN(na->params);
	IN(na->tag);
	IN(na->whole);
	check_uri(&na->uri);
	walk_params(na->params);
	walk_params(na->uri.params);
	aor_key(&na->uri);
}

static void check_via(const struct sip_via *v)
{
	IN(v->transport);
	IN(v->host);
	IN(v->params);
	IN(v->branch);
	IN(v->entry);
	walk_params(v->params);
}

/* Iterate a comma list; calls fn on each item. */
static void walk_list(sl_t value, void (*fn)(sl_t item, void *arg), void *arg)
{
	size_t pos = 0, guard = 0;
	sl_t item;
	int rc;

	while ((rc = sip_list_next(value, &pos, &item)) == 1) {
		IN(item);
		FUZZ_CHECK(++guard <= value.len + 2, "sip_list_next does not advance");
		fn(item, arg);
	}
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_list_next returned %d", rc);
	/* once at the end, it stays there */
	FUZZ_CHECK(sip_list_next(value, &pos, &item) != 1, "sip_list_next restarted");
}

#define MAX_URIS 8

struct uris {
	struct sip_uri u[MAX_URIS];
	unsigned n;
};

static void on_via(sl_t item, void *arg)
{
	struct sip_via v;

	(void)arg;
	if (sip_via_parse(item, &v) == 0)
		check_via(&v);
}

static void on_naddr(sl_t item, void *arg)
{
	struct uris *us = arg;
	struct sip_naddr na;
	sl_t val;
	uint32_t e;
	int q;

	if (sip_naddr_parse(item, &na) < 0)
		return;
	check_naddr(&na);
	if (sip_param_get(na.params, "expires", &val) == 1) {
		IN(val);
		(void)sip_delta_parse(val, &e);
	}
	if (sip_param_get(na.params, "q", &val) == 1 && sip_qvalue_parse(val, &q) == 0)
		FUZZ_CHECK(q >= 0 && q <= 1000, "q value %d", q);
	if (us && us->n < MAX_URIS)
		us->u[us->n++] = na.uri;
}

/* Same transformation as the response builder: CR/LF + LWS runs -> one SP. */
static size_t unfold(sl_t v, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	while (i < v.len && o < cap) {
		if (v.p[i] == '\r' || v.p[i] == '\n') {
			while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '\r' ||
					     v.p[i] == '\n'))
				i++;
			out[o++] = ' ';
		} else {
			out[o++] = v.p[i++];
		}
	}
	return o;
}

static bool unfolded_eq(sl_t orig, sl_t echoed)
{
	char tmp[4096];
	size_t n;

	if (orig.len > sizeof(tmp))
		return true; /* not worth it */
	n = unfold(orig, tmp, sizeof(tmp));
	return n == echoed.len && (n == 0 || memcmp(tmp, echoed.p, n) == 0);
}

static unsigned via_entries(const struct sip_msg *m)
{
	unsigned n = 0;

	for (const struct sip_hdr *h = sip_hdr_get(m, SIP_H_VIA); h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		sl_t item;

		while (sip_list_next(h->value, &pos, &item) == 1)
			n += item.len > 0;
	}
	return n;
}

/* Build a response to m; when m parsed cleanly, check what we built. */
static void respond(const struct sip_msg *m, int status, const char *reason, bool clean)
{
	static const struct sip_resp_src srcs[2] = { { SRC_IP, 5099 }, { NULL, 0 } };
	const struct sip_resp_src *src = &srcs[m->len & 1];
	size_t cap = 4 * m->len + 4096;
	char *mem = malloc(cap);
	struct obuf b;
	struct sip_msg r;
	struct sip_perr err;
	char *copy;

	if (!mem)
		abort();
	ob_init(&b, mem, cap);
	sip_resp_begin(&b, m, status, reason, src, SL(TO_TAG));
	sip_resp_end(&b);
	FUZZ_CHECK(!b.overflow, "response overflowed %zu bytes for a %zu-byte request", cap, m->len);
	if (!b.overflow) {
		long bad = fuzz_bare_crlf(b.p, b.len);

		FUZZ_CHECK(bad < 0, "bare CR or LF at %ld of our response:\n%.*s", bad, (int)b.len, b.p);
	}
	if (!clean || b.overflow || b.len >= SIP_MAX_MSG ||
	    m->count[SIP_H_VIA] + 6 > SIP_MAX_HEADERS) {
		free(mem);
		return;
	}
	copy = fuzz_dup(b.p, b.len);
	if (sip_msg_parse(&r, copy, b.len, false, &err) != 0) {
		FUZZ_CHECK(0, "our response does not parse (%d %s):\n%.*s", err.status,
			   err.reason ? err.reason : "", (int)b.len, b.p);
	} else {
		FUZZ_CHECK(!r.is_request && r.status == status, "status %d vs %d", r.status, status);
		FUZZ_CHECK(via_entries(&r) == via_entries(m), "Via entries %u in response, %u in request:\n%.*s",
			   via_entries(&r), via_entries(m), (int)b.len, b.p);
		FUZZ_CHECK(sl_eq(r.call_id, m->call_id), "Call-ID changed");
		FUZZ_CHECK(r.cseq == m->cseq && sl_eq(r.cseq_method, m->cseq_method), "CSeq changed");
		FUZZ_CHECK(unfolded_eq(m->via.branch, r.via.branch), "branch changed: [%.*s] -> [%.*s]",
			   (int)m->via.branch.len, m->via.branch.p, (int)r.via.branch.len,
			   r.via.branch.p);
		FUZZ_CHECK(unfolded_eq(m->from.tag, r.from.tag), "From tag changed: [%.*s] -> [%.*s]",
			   (int)m->from.tag.len, m->from.tag.p, (int)r.from.tag.len, r.from.tag.p);
		if (m->to.tag.len)
			FUZZ_CHECK(unfolded_eq(m->to.tag, r.to.tag), "To tag changed: [%.*s] -> [%.*s]",
				   (int)m->to.tag.len, m->to.tag.p, (int)r.to.tag.len, r.to.tag.p);
		else
			FUZZ_CHECK(sl_eq_cstr(r.to.tag, TO_TAG), "To tag not added: [%.*s]",
				   (int)r.to.tag.len, r.to.tag.p);
		if (src->ip && (m->via.rport || !sl_caseeq_cstr(m->via.host, src->ip))) {
			sl_t rcv;

			FUZZ_CHECK(sip_param_get(r.via.params, "received", &rcv) == 1 &&
					   sl_eq_cstr(rcv, src->ip),
				   "received= missing from the top Via: [%.*s]", (int)r.via.entry.len,
				   r.via.entry.p);
		}
	}
	free(copy);
	free(mem);
}

static bool is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

/* "tag, tag, ...": what an Unsupported header value must be. */
static bool tag_list_ok(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t t = i;

		while (i < n && is_token_char((unsigned char)p[i]))
			i++;
		if (i == t)
			return false;
		if (i == n)
			return true;
		if (n - i < 3 || p[i] != ',' || p[i + 1] != ' ')
			return false;
		i += 2;
	}
}

/*
 * sip_require_list feeds the Unsupported header of a 420, so with tags its
 * output must be "token, token ...".  Run with room to spare and with a few
 * small exact-size buffers (it must stop at cap, never write past).
 * (fuzz/regressions/fuzz_msg-require-* were found here.)
 */
static void require_list(const struct sip_msg *m)
{
	static const size_t caps[] = { 0, 1, 7, 64 };
	size_t cap = m->len + 2 * SIP_MAX_HEADERS * 2 + 16, n, n2;
	char *mem = malloc(cap);
	struct obuf b;

	if (!mem)
		abort();
	ob_init(&b, mem, cap);
	n = sip_require_list(m, &b);
	FUZZ_CHECK(!b.overflow, "Require list overflowed %zu bytes", cap);
	FUZZ_CHECK(fuzz_bare_crlf(b.p, b.len) < 0 && memchr(b.p, '\r', b.len) == NULL &&
			   memchr(b.p, '\n', b.len) == NULL,
		   "line break in the Require list [%.*s]", (int)b.len, b.p);
	FUZZ_CHECK(n == 0 ? b.len == 0 : tag_list_ok(b.p, b.len),
			   "%zu tags give the Unsupported value [%.*s]", n, (int)b.len, b.p);
	free(mem);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		mem = malloc(caps[i] ? caps[i] : 1);
		if (!mem)
			abort();
		ob_init(&b, mem, caps[i]);
		n2 = sip_require_list(m, &b);
		FUZZ_CHECK(n2 == n && b.len <= caps[i], "cap %zu: %zu tags, len %zu", caps[i], n2, b.len);
		free(mem);
	}
}

static void walk_msg(const struct sip_msg *m, int rc, const struct sip_perr *err)
{
	struct uris us = { .n = 0 };
	struct sip_uri ruri;
	unsigned total = 0;

	FUZZ_CHECK(m->buf == g_buf && m->len <= g_len, "m->len %zu > %zu", m->len, g_len);
	IN(m->method);
	IN(m->ruri);
	IN(m->version);
	IN(m->reason);
	IN(m->body);
	IN(m->call_id);
	IN(m->cseq_method);
	FUZZ_CHECK(m->nhdrs <= SIP_MAX_HEADERS, "nhdrs %u", m->nhdrs);
	for (int id = 0; id < SIP_H__COUNT; id++) {
		total += m->count[id];
		if (m->first[id] >= 0)
			FUZZ_CHECK((unsigned)m->first[id] < m->nhdrs && (int)m->hdrs[m->first[id]].id == id,
				   "first[%d] = %d is wrong", id, m->first[id]);
		else
			FUZZ_CHECK(m->count[id] == 0, "count[%d] without first", id);
	}
	FUZZ_CHECK(total == m->nhdrs, "header counts %u vs nhdrs %u", total, m->nhdrs);

	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		char name[64];

		IN(h->name);
		IN(h->value);
		IN(h->line);
		FUZZ_CHECK(h->name.len > 0, "empty header name");
		if (h->name.len < sizeof(name)) {
			memcpy(name, h->name.p, h->name.len);
			name[h->name.len] = '\0';
			FUZZ_CHECK(sip_hdr_by_name(m, name) != NULL, "sip_hdr_by_name(%s) misses", name);
		}
		(void)sip_hdr_next(m, h);
		if (h->id == SIP_H_VIA)
			walk_list(h->value, on_via, NULL);
		else if (h->id == SIP_H_CONTACT || h->id == SIP_H_ROUTE ||
			 h->id == SIP_H_RECORD_ROUTE || h->id == SIP_H_PATH)
			walk_list(h->value, on_naddr, &us);
		else if (h->id == SIP_H_REQUIRE || h->id == SIP_H_SUPPORTED || h->id == SIP_H_OTHER)
			walk_list(h->value, on_via, NULL);  /* any list: garbage Via parses are fine */
	}
	/* Each id chain visits exactly count[id] headers. */
	for (int id = 0; id < SIP_H__COUNT; id++) {
		unsigned n = 0;

		for (const struct sip_hdr *h = sip_hdr_get(m, (enum sip_hdr_id)id); h; h = sip_hdr_next(m, h))
			if (++n > SIP_MAX_HEADERS)
				break;
		if (id != SIP_H_OTHER)
			FUZZ_CHECK(n == m->count[id], "chain of id %d has %u, count %u", id, n, m->count[id]);
	}

	if (rc == 0) {
		check_via(&m->via);
		check_naddr(&m->from);
		check_naddr(&m->to);
		FUZZ_CHECK(err->status == 0, "success with status %d", err->status);
	} else {
		FUZZ_CHECK(err->status == -1 || (err->status >= 400 && err->status <= 599),
			   "error status %d", err->status);
		FUZZ_CHECK(err->reason != NULL, "error without reason");
	}

	if (m->is_request && sip_uri_parse(m->ruri, &ruri) == 0) {
		check_uri(&ruri);
		walk_params(ruri.params);
		aor_key(&ruri);
		if (us.n < MAX_URIS)
			us.u[us.n++] = ruri;
	}
	if (rc == 0 && us.n + 2 <= MAX_URIS) {
		us.u[us.n++] = m->to.uri;
		us.u[us.n++] = m->from.uri;
	}
	for (unsigned i = 0; i < us.n; i++)
		for (unsigned j = i; j < us.n; j++) {
			bool ab = sip_uri_eq(&us.u[i], &us.u[j]), ba = sip_uri_eq(&us.u[j], &us.u[i]);

			FUZZ_CHECK(ab == ba, "sip_uri_eq not symmetric: [%.*s] [%.*s]",
				   (int)us.u[i].whole.len, us.u[i].whole.p, (int)us.u[j].whole.len,
				   us.u[j].whole.p);
		}

	if (rc == 0 && m->is_request)
		require_list(m);

	/* Answer like the server: parsed requests and answerable failures. */
	if (m->is_request && rc == 0)
		respond(m, m->len % 3 == 0 ? 200 : 401, m->len % 3 == 0 ? "OK" : "Unauthorized", true);
	else if (m->is_request && err->status > 0)
		respond(m, err->status, err->reason, false);
	else if (rc == 0)
		respond(m, 500, NULL, false);  /* nobody answers a response, but it must not crash */
}

static void frame(const char *buf, size_t len, size_t max)
{
	size_t skip = 7, msglen = 7;
	struct sip_perr err;
	int rc = sip_frame(buf, len, max, &skip, &msglen, &err);

	FUZZ_CHECK(rc >= -1 && rc <= 1, "sip_frame returned %d", rc);
	FUZZ_CHECK(skip <= len, "skip %zu > len %zu", skip, len);
	if (rc == 1) {
		FUZZ_CHECK(msglen > 0 && msglen <= len - skip && msglen <= max,
			   "msglen %zu, skip %zu, len %zu, max %zu", msglen, skip, len, max);
		/* the server parses exactly the frame, in stream mode */
		char *one = fuzz_dup(buf + skip, msglen);
		struct sip_msg *m = malloc(sizeof(*m));
		struct sip_perr perr;

		if (!m)
			abort();
		if (sip_msg_parse(m, one, msglen, true, &perr) == 0)
			FUZZ_CHECK(m->len == msglen, "framed %zu bytes, the parser took %zu", msglen,
				   m->len);
		free(m);
		free(one);
	} else if (rc == -1) {
		FUZZ_CHECK(err.status == 400 || err.status == 513, "sip_frame status %d", err.status);
		FUZZ_CHECK(err.reason != NULL, "sip_frame error without reason");
	} else {
		FUZZ_CHECK(msglen == 0, "msglen %zu on rc 0", msglen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_msg m;  /* ~10 KiB: not on the stack */
	const char *buf = (const char *)data;
	struct sip_perr err;
	int rc;

	g_buf = buf;
	g_len = size;

	/* Datagram. */
	rc = sip_msg_parse(&m, buf, size, false, &err);
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_msg_parse returned %d", rc);
	if (rc == 0)
		FUZZ_CHECK(m.len <= size, "datagram len %zu > %zu", m.len, size);
	if (size > 0)
		walk_msg(&m, rc, &err);

	/* Stream. */
	rc = sip_msg_parse(&m, buf, size, true, &err);
	FUZZ_CHECK(rc == 0 || rc == -1, "sip_msg_parse returned %d", rc);
	if (size > 0)
		walk_msg(&m, rc, &err);
	if (rc == 0 && size <= SIP_MAX_MSG) {
		/* what the parser took as one message, the framer must frame alike */
		size_t skip, msglen;
		struct sip_perr ferr;
		size_t took = m.len;
		int frc = sip_frame(buf, size, SIP_MAX_MSG, &skip, &msglen, &ferr);

		/* (fuzz/regressions/fuzz_msg-stream-lone-cr-ends-headers) */
		FUZZ_CHECK(frc == 1 && skip + msglen == took,
			   "stream parse took %zu bytes, sip_frame says rc %d skip %zu msglen %zu (%d %s)",
			   took, frc, skip, msglen, ferr.status, ferr.reason ? ferr.reason : "");
	}

	/* Framing with a few limits. */
	frame(buf, size, SIP_MAX_MSG);
	frame(buf, size, 16384);
	frame(buf, size, 256);
	if (size > 1)
		frame(buf, size, size / 2);
	return 0;
}
