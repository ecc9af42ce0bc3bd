/*
 * resp.c - the head of a response to a request (§8.2.6.2): status line,
 * the request's Via entries (top one stamped per §18.2.1 and RFC 3581),
 * From, To (+ our tag), Call-ID and CSeq.
 *
 * Values are copied unfolded: a CRLF + white space run becomes one SP, so
 * a folded request never puts a line break into our output.
 */
#include "sip/sip_int.h"

static void put_unfolded(struct obuf *b, sl_t v)
{
	size_t i = 0, j;

	while (i < v.len) {
		for (j = i; j < v.len && v.p[j] != '\r' && v.p[j] != '\n'; j++)
			;
		ob_put(b, v.p + i, j - i);
		if (j >= v.len)
			break;
		while (j < v.len && sip_c_lws((unsigned char)v.p[j]))
			j++;
		ob_put(b, " ", 1);
		i = j;
	}
}

/*
 * One Via entry, normalised to "SIP/2.0/T host[:port];params" (white
 * space and folding dropped).  For the
 * top entry answering 'src': received= when the sent-by host is not the
 * source address or rport was asked for, and a valueless rport gets the
 * source port.  An entry that does not parse is copied as is.
 */
static void put_via(struct obuf *b, sl_t item, bool top, const struct sip_resp_src *src)
{
	struct sip_via v;
	bool stamp = top && src && src->ip, received;
	size_t pos = 0, i = 0;
	sl_t n, val, name, version, transport;

	if (sip_via_parse(item, &v) < 0) {
		put_unfolded(b, sl_trim(item));
		return;
	}
	received = stamp && (v.rport || !sl_caseeq(v.host, sl_cstr(src->ip)));
	/* the protocol as sent: a SIP/7.0 request's 505 echoes SIP/7.0 */
	(void)sip_via_protocol(v.entry, &i, &name, &version, &transport);
	ob_sl(b, name);
	ob_put(b, "/", 1);
	ob_sl(b, version);
	ob_put(b, "/", 1);
	ob_sl(b, v.transport);
	ob_put(b, " ", 1);
	if (sl_chr(v.host, ':') >= 0) {
		/* only an IPv6 literal has ':' in it */
		ob_put(b, "[", 1);
		ob_sl(b, v.host);
		ob_put(b, "]", 1);
	} else {
		ob_sl(b, v.host);
	}
	if (v.port) {
		ob_put(b, ":", 1);
		ob_u64(b, v.port);
	}
	while (sip_param_next(v.params, &pos, &n, &val) == 1) {
		if (received && sl_caseeq_cstr(n, "received"))
			continue;  /* replaced by ours below */
		ob_put(b, ";", 1);
		ob_sl(b, n);
		if (stamp && val.len == 0 && sl_caseeq_cstr(n, "rport")) {
			ob_put(b, "=", 1);
			ob_u64(b, src->port);
		} else if (val.len) {
			ob_put(b, "=", 1);
			put_unfolded(b, val);
		}
	}
	if (received) {
		ob_str(b, ";received=");
		ob_str(b, src->ip);
	}
}

/* One Via line per request Via header: all of them, in order (§8.2.6.2). */
static void put_vias(struct obuf *b, const struct sip_msg *m, const struct sip_resp_src *src)
{
	unsigned n = 0;

	for (const struct sip_hdr *h = sip_hdr_get(m, SIP_H_VIA); h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		unsigned here = 0;
		sl_t item;

		while (n < SIP_MAX_VIA_ENTRIES && sip_list_next(h->value, &pos, &item) == 1) {
			if (item.len == 0)
				continue;
			ob_str(b, here++ ? ", " : "Via: ");
			put_via(b, item, n++ == 0, src);
		}
		if (here)
			ob_str(b, "\r\n");
	}
}

static void put_hdr(struct obuf *b, const char *name, const struct sip_hdr *h)
{
	ob_str(b, name);
	ob_str(b, ": ");
	put_unfolded(b, h->value);
}

void sip_resp_begin(struct obuf *b, const struct sip_msg *m, int status, const char *reason,
		    const struct sip_resp_src *src, sl_t to_tag)
{
	const struct sip_hdr *h;

	ob_str(b, "SIP/2.0 ");
	ob_u64(b, status > 0 ? (unsigned)status : 500u);
	ob_put(b, " ", 1);
	ob_str(b, reason ? reason : "");
	ob_str(b, "\r\n");
	put_vias(b, m, src);
	if ((h = sip_hdr_get(m, SIP_H_FROM))) {
		put_hdr(b, "From", h);
		ob_str(b, "\r\n");
	}
	if ((h = sip_hdr_get(m, SIP_H_TO))) {
		struct sip_naddr to;

		/* re-parsed here so a To that failed to parse gets no tag */
		bool tag = to_tag.len && sip_naddr_parse(h->value, &to) == 0 && to.tag.len == 0;
		sl_t v = sl_trim(h->value);

		/* "<sip:a@b>;" + ";tag=x" would not parse: drop the empty param */
		while (tag && v.len && (v.p[v.len - 1] == ';' || sip_c_lws((unsigned char)v.p[v.len - 1])))
			v.len--;
		ob_str(b, "To: ");
		put_unfolded(b, v);
		if (tag) {
			ob_str(b, ";tag=");
			ob_sl(b, to_tag);
		}
		ob_str(b, "\r\n");
	}
	if ((h = sip_hdr_get(m, SIP_H_CALL_ID))) {
		put_hdr(b, "Call-ID", h);
		ob_str(b, "\r\n");
	}
	if ((h = sip_hdr_get(m, SIP_H_CSEQ))) {
		put_hdr(b, "CSeq", h);
		ob_str(b, "\r\n");
	}
}

void sip_resp_end(struct obuf *b)
{
	ob_str(b, "Server: sipreg\r\nContent-Length: 0\r\n\r\n");
}
