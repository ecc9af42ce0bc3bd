/*
 * msg.c - message parsing (§7), stream framing (§18.3) and header access.
 *
 * One pass finds the start line and header lines; then the headers every
 * request needs are decoded and checked.  Checks run in a fixed order and
 * the first failure decides the answer, but parsing goes on so that the
 * caller can still build that answer from whatever did parse (Via, From,
 * To, Call-ID, CSeq).  The order, most to least severe:
 *   drop (no start line) > 513 > header block > start line > Via > From >
 *   To > Call-ID > CSeq > Content-Length/body > 505.
 * Errors on responses are always "drop": nobody answers a response.
 */
#include "sip/sip_int.h"

/* Header names ----------------------------------------------------------- */

static const struct {
	const char *name;
	enum sip_hdr_id id;
} hdr_names[] = {
	{ "Via", SIP_H_VIA }, { "From", SIP_H_FROM }, { "To", SIP_H_TO },
	{ "Call-ID", SIP_H_CALL_ID }, { "CSeq", SIP_H_CSEQ }, { "Contact", SIP_H_CONTACT },
	{ "Expires", SIP_H_EXPIRES }, { "Max-Forwards", SIP_H_MAX_FORWARDS },
	{ "Content-Length", SIP_H_CONTENT_LENGTH }, { "Content-Type", SIP_H_CONTENT_TYPE },
	{ "Content-Encoding", SIP_H_CONTENT_ENCODING }, { "Authorization", SIP_H_AUTHORIZATION },
	{ "Proxy-Authorization", SIP_H_PROXY_AUTHORIZATION }, { "Require", SIP_H_REQUIRE },
	{ "Proxy-Require", SIP_H_PROXY_REQUIRE }, { "Supported", SIP_H_SUPPORTED },
	{ "User-Agent", SIP_H_USER_AGENT }, { "Route", SIP_H_ROUTE },
	{ "Record-Route", SIP_H_RECORD_ROUTE }, { "Path", SIP_H_PATH },
	{ "Timestamp", SIP_H_TIMESTAMP }, { "Content-Disposition", SIP_H_CONTENT_DISPOSITION },
};

/* Compact forms: §7.3.3 and the later RFCs (3265, 3515, 3892, 3840, 3841,
 * 4028, 4474).  Those without an id of their own become SIP_H_OTHER. */
static const char *const compact[26] = {
	['a' - 'a'] = "Accept-Contact", ['b' - 'a'] = "Referred-By",
	['c' - 'a'] = "Content-Type", ['d' - 'a'] = "Request-Disposition",
	['e' - 'a'] = "Content-Encoding", ['f' - 'a'] = "From",
	['i' - 'a'] = "Call-ID", ['j' - 'a'] = "Reject-Contact",
	['k' - 'a'] = "Supported", ['l' - 'a'] = "Content-Length",
	['m' - 'a'] = "Contact", ['n' - 'a'] = "Identity-Info",
	['o' - 'a'] = "Event", ['r' - 'a'] = "Refer-To",
	['s' - 'a'] = "Subject", ['t' - 'a'] = "To",
	['u' - 'a'] = "Allow-Events", ['v' - 'a'] = "Via",
	['x' - 'a'] = "Session-Expires", ['y' - 'a'] = "Identity",
};

sl_t sip_hdr_canon_name(sl_t name)
{
	if (name.len == 1) {
		int c = name.p[0] | 0x20;

		if (c >= 'a' && c <= 'z' && compact[c - 'a'])
			return sl_cstr(compact[c - 'a']);
	}
	return name;
}

static enum sip_hdr_id hdr_id(sl_t name)
{
	name = sip_hdr_canon_name(name);
	for (size_t i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++)
		if (sl_caseeq_cstr(name, hdr_names[i].name))
			return hdr_names[i].id;
	return SIP_H_OTHER;
}

/* Header access ---------------------------------------------------------- */

const struct sip_hdr *sip_hdr_get(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_H__COUNT || m->first[id] < 0)
		return NULL;
	return &m->hdrs[m->first[id]];
}

static bool same_name(sl_t a, sl_t b)
{
	return sl_caseeq(sip_hdr_canon_name(a), sip_hdr_canon_name(b));
}

/* Next header of the same id; for SIP_H_OTHER, of the same name. */
const struct sip_hdr *sip_hdr_next(const struct sip_msg *m, const struct sip_hdr *prev)
{
	size_t i;

	if (prev < m->hdrs || prev >= m->hdrs + m->nhdrs)
		return NULL;
	for (i = (size_t)(prev - m->hdrs) + 1; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (h->id == prev->id && (h->id != SIP_H_OTHER || same_name(h->name, prev->name)))
			return h;
	}
	return NULL;
}

const struct sip_hdr *sip_hdr_by_name(const struct sip_msg *m, const char *name)
{
	sl_t n = sl_cstr(name);

	for (unsigned i = 0; i < m->nhdrs; i++)
		if (same_name(m->hdrs[i].name, n))
			return &m->hdrs[i];
	return NULL;
}

/* Parsing ---------------------------------------------------------------- */

static void fail(struct sip_perr *err, int status, const char *reason)
{
	if (err->status == 0) {
		err->status = status;
		err->reason = reason;
	}
}

/* The line starting at *pos (bare LF or CRLF ended, or cut at lim); *pos
 * moves past its terminator. */
static sl_t next_line(const char *buf, size_t lim, size_t *pos)
{
	size_t i = *pos, end;
	const char *lf = i < lim ? memchr(buf + i, '\n', lim - i) : NULL;

	end = lf ? (size_t)(lf - buf) : lim;
	*pos = lf ? end + 1 : lim;
	if (end > i && buf[end - 1] == '\r')
		end--;
	return sl_make(buf + i, end - i);
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive "SIP") */
static bool version_ok(sl_t v)
{
	size_t i = 4, d;

	if (!sl_case_prefix(v, "SIP/"))
		return false;
	for (d = i; i < v.len && sip_c_digit((unsigned char)v.p[i]); i++)
		;
	if (i == d || i >= v.len || v.p[i] != '.')
		return false;
	for (d = ++i; i < v.len && sip_c_digit((unsigned char)v.p[i]); i++)
		;
	return i > d && i == v.len;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
static int parse_status_line(struct sip_msg *m, sl_t l)
{
	long sp = sl_chr(l, ' ');
	size_t i;

	if (sp < 0 || !version_ok(sip_sub(l, 0, (size_t)sp)))
		return -1;
	m->version = sip_sub(l, 0, (size_t)sp);
	i = (size_t)sp + 1;
	if (l.len - i < 3 || !sip_c_digit((unsigned char)l.p[i]) ||
	    !sip_c_digit((unsigned char)l.p[i + 1]) || !sip_c_digit((unsigned char)l.p[i + 2]))
		return -1;
	m->status = (l.p[i] - '0') * 100 + (l.p[i + 1] - '0') * 10 + (l.p[i + 2] - '0');
	if (m->status < 100 || m->status > 699)
		return -1;
	i += 3;
	/* tolerate a missing SP before an empty reason phrase */
	if (i < l.len && l.p[i] != ' ')
		return -1;
	m->reason = i < l.len ? sip_sub(l, i + 1, l.len) : sip_sub(l, i, i);
	return 0;
}

/* Does l contain " SIP/" (any case)?  Tells a request line, however
 * broken its URI, from random bytes. */
static bool has_sip_version(sl_t l)
{
	for (size_t i = 0; i + 5 <= l.len; i++)
		if (l.p[i] == ' ' && sl_case_prefix(sip_sub(l, i + 1, l.len), "SIP/"))
			return true;
	return false;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version.  Returns -1 for a
 * line that is no request at all (drop), else 0 with *bad set to the 400
 * reason if the line is recognisable but broken.
 */
static int parse_request_line(struct sip_msg *m, sl_t l, const char **bad)
{
	size_t i = 0, last;
	struct sip_uri u;

	while (i < l.len && sip_c_token((unsigned char)l.p[i]))
		i++;
	if (i == 0 || i >= l.len || l.p[i] != ' ' || !has_sip_version(l))
		return -1;
	m->is_request = true;
	m->method = sip_sub(l, 0, i);
	m->mid = sip_method_id(m->method);
	for (last = l.len - 1; l.p[last] != ' '; last--)
		;
	m->version = sip_sub(l, last + 1, l.len);
	m->ruri = last > i ? sip_sub(l, i + 1, last) : sip_sub(l, i + 1, i + 1);
	if (!version_ok(m->version))
		*bad = "Bad Request Line";
	else if (sip_uri_parse(m->ruri, &u) < 0 ||
		 ((u.scheme == SIP_SCHEME_SIP || u.scheme == SIP_SCHEME_SIPS) && u.headers.len))
		/* §19.1.1: no headers in a Request-URI (RFC 4475 escruri) */
		*bad = "Bad Request-URI";
	return 0;
}

static void add_header(struct sip_msg *m, sl_t name, sl_t line, sl_t value)
{
	struct sip_hdr *h = &m->hdrs[m->nhdrs];

	h->id = hdr_id(name);
	h->name = name;
	h->line = line;
	h->value = value;
	if (m->count[h->id]++ == 0)
		m->first[h->id] = (int16_t)m->nhdrs;
	m->nhdrs++;
}

/* A new header line "name *WSP ':' value"; false if malformed. */
static bool header_line(struct sip_msg *m, sl_t l)
{
	size_t i = 0, j;

	while (i < l.len && sip_c_token((unsigned char)l.p[i]))
		i++;
	for (j = i; j < l.len && (l.p[j] == ' ' || l.p[j] == '\t'); j++)
		;
	if (i == 0 || j >= l.len || l.p[j] != ':')
		return false;
	add_header(m, sip_sub(l, 0, i), l, sip_sub(l, j + 1, l.len));
	return true;
}

/*
 * Header lines from *pos up to the empty line.  Returns true when the
 * empty line was seen; *pos is then where the body starts.  Continuation
 * lines widen the previous header's line and value slices.
 */
static bool scan_headers(struct sip_msg *m, const char *buf, size_t lim, size_t *pos,
			 struct sip_perr *err)
{
	struct sip_hdr *cur = NULL;

	while (*pos < lim) {
		sl_t l = next_line(buf, lim, pos);

		/* The blank line ends the headers only when a LF ends it, as
		 * for sip_frame; a lone CR at the very end is no blank line. */
		if (l.len == 0) {
			if (buf[*pos - 1] == '\n')
				goto done;
			break;
		}
		if (l.p[0] == ' ' || l.p[0] == '\t') {
			if (cur == NULL) {
				fail(err, 400, "Bad Header Line");
				continue;
			}
			cur->line.len = (size_t)(l.p + l.len - cur->line.p);
			cur->value.len = (size_t)(l.p + l.len - cur->value.p);
			continue;
		}
		if (cur)
			cur->value = sl_trim(cur->value);
		cur = NULL;
		if (m->nhdrs >= SIP_MAX_HEADERS)
			fail(err, 400, "Too Many Headers");
		else if (!header_line(m, l))
			fail(err, 400, "Bad Header Line");
		else
			cur = &m->hdrs[m->nhdrs - 1];
	}
	if (cur)
		cur->value = sl_trim(cur->value);
	return false;
done:
	if (cur)
		cur->value = sl_trim(cur->value);
	return true;
}

/* Mandatory headers ------------------------------------------------------ */

static const struct {
	const char *missing, *dup, *bad;
} hdr_err[] = {
	[SIP_H_VIA] = { "Missing Via Header", "Duplicate Via Header", "Bad Via Header" },
	[SIP_H_FROM] = { "Missing From Header", "Duplicate From Header", "Bad From Header" },
	[SIP_H_TO] = { "Missing To Header", "Duplicate To Header", "Bad To Header" },
	[SIP_H_CALL_ID] = { "Missing Call-ID Header", "Duplicate Call-ID Header",
			    "Bad Call-ID Header" },
	[SIP_H_CSEQ] = { "Missing CSeq Header", "Duplicate CSeq Header", "Bad CSeq Header" },
	[SIP_H_CONTENT_LENGTH] = { "Missing Content-Length", "Duplicate Content-Length Header",
				   "Bad Content-Length" },
};

/*
 * The one value of a single-instance header.  Repeats with the very same
 * value are harmless and tolerated; differing ones are a 400.
 */
static const struct sip_hdr *single(const struct sip_msg *m, enum sip_hdr_id id,
				    struct sip_perr *err)
{
	const struct sip_hdr *h = sip_hdr_get(m, id), *o;

	if (h == NULL) {
		if (id != SIP_H_CONTENT_LENGTH)
			fail(err, 400, hdr_err[id].missing);
		return NULL;
	}
	for (o = sip_hdr_next(m, h); o; o = sip_hdr_next(m, o)) {
		if (!sl_eq(o->value, h->value)) {
			fail(err, 400, hdr_err[id].dup);
			return NULL;
		}
	}
	return h;
}

/* Every Via entry must parse (a response copies them all); the top one is
 * kept in m->via. */
static void check_via(struct sip_msg *m, struct sip_perr *err)
{
	const struct sip_hdr *h = sip_hdr_get(m, SIP_H_VIA);
	struct sip_via tmp;
	unsigned n = 0;

	if (h == NULL) {
		fail(err, 400, hdr_err[SIP_H_VIA].missing);
		return;
	}
	for (; h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		sl_t item;
		int rc;

		while ((rc = sip_list_next(h->value, &pos, &item)) == 1) {
			if (++n > SIP_MAX_VIA_ENTRIES) {
				fail(err, 400, "Too Many Via Entries");
				return;
			}
			if (sip_via_parse(item, n == 1 ? &m->via : &tmp) < 0)
				fail(err, 400, hdr_err[SIP_H_VIA].bad);
		}
		if (rc < 0)
			fail(err, 400, hdr_err[SIP_H_VIA].bad);
	}
	if (n == 0)
		fail(err, 400, hdr_err[SIP_H_VIA].bad);
}

static void check_naddr(const struct sip_msg *m, enum sip_hdr_id id, struct sip_naddr *na,
			struct sip_perr *err)
{
	const struct sip_hdr *h = single(m, id, err);

	if (h && sip_naddr_parse(h->value, na) < 0)
		fail(err, 400, hdr_err[id].bad);
}

/* callid = word [ "@" word ]: visible ASCII, no white space inside. */
static void check_call_id(struct sip_msg *m, struct sip_perr *err)
{
	const struct sip_hdr *h = single(m, SIP_H_CALL_ID, err);

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->value.len; i++) {
		unsigned char c = (unsigned char)h->value.p[i];

		if (c <= 0x20 || c >= 0x7f) {
			fail(err, 400, hdr_err[SIP_H_CALL_ID].bad);
			return;
		}
	}
	if (h->value.len == 0) {
		fail(err, 400, hdr_err[SIP_H_CALL_ID].bad);
		return;
	}
	m->call_id = h->value;
}

/* CSeq = 1*DIGIT LWS Method, the number below 2^31 (§8.1.1.5). */
static void check_cseq(struct sip_msg *m, struct sip_perr *err)
{
	const struct sip_hdr *h = single(m, SIP_H_CSEQ, err);
	sl_t v;
	size_t i = 0, j;
	uint64_t n = 0;

	if (h == NULL)
		return;
	v = h->value;
	while (i < v.len && sip_c_digit((unsigned char)v.p[i]) && i < 11)
		n = n * 10 + (uint64_t)(v.p[i++] - '0');
	j = sip_skip_lws(v, i);
	if (i == 0 || n > INT32_MAX || j == i)
		goto bad;
	for (i = j; i < v.len && sip_c_token((unsigned char)v.p[i]); i++)
		;
	if (i == j || i != v.len)
		goto bad;
	m->cseq = (uint32_t)n;
	m->cseq_method = sip_sub(v, j, i);
	if (m->is_request && !sl_eq(m->cseq_method, m->method))
		fail(err, 400, "CSeq Method Does Not Match");
	return;
bad:
	fail(err, 400, hdr_err[SIP_H_CSEQ].bad);
}

/* Content-Length = 1*DIGIT; huge values saturate above SIP_MAX_MSG. */
static void check_clen(struct sip_msg *m, struct sip_perr *err)
{
	const struct sip_hdr *h = single(m, SIP_H_CONTENT_LENGTH, err);
	size_t n = 0;

	if (h == NULL)
		return;
	if (h->value.len == 0)
		goto bad;
	for (size_t i = 0; i < h->value.len; i++) {
		if (!sip_c_digit((unsigned char)h->value.p[i]))
			goto bad;
		if (n <= SIP_MAX_MSG)
			n = n * 10 + (size_t)(h->value.p[i] - '0');
	}
	m->has_content_length = true;
	m->content_length = n;
	return;
bad:
	fail(err, 400, hdr_err[SIP_H_CONTENT_LENGTH].bad);
}

/*
 * Body and message extent.  Datagram: the body is the rest, cut to
 * Content-Length.  Stream: Content-Length is mandatory and ends the
 * message; more bytes in buf belong to the next one.
 */
static void set_body(struct sip_msg *m, size_t bstart, bool stream, struct sip_perr *err)
{
	size_t avail = m->len - bstart;

	if (!m->has_content_length) {
		if (stream)
			fail(err, 400, hdr_err[SIP_H_CONTENT_LENGTH].missing);
		m->body = sl_make(m->buf + bstart, stream ? 0 : avail);
		m->len = stream ? bstart : m->len;
		return;
	}
	if (stream && bstart + m->content_length > SIP_MAX_MSG)
		fail(err, 513, "Message Too Large");
	if (m->content_length > avail) {
		fail(err, 400, "Content-Length Exceeds Body");
		m->body = sl_make(m->buf + bstart, avail);
		return;
	}
	m->body = sl_make(m->buf + bstart, m->content_length);
	m->len = bstart + m->content_length;
}

static void msg_init(struct sip_msg *m, const char *buf, size_t len)
{
	m->buf = buf;
	m->len = len;
	m->is_request = false;
	m->method = m->ruri = m->version = m->reason = sl_make(buf, 0);
	m->mid = SIP_M_OTHER;
	m->status = 0;
	m->nhdrs = 0;
	for (int i = 0; i < SIP_H__COUNT; i++) {
		m->first[i] = -1;
		m->count[i] = 0;
	}
	m->body = sl_make(buf, 0);
	m->has_content_length = false;
	m->content_length = 0;
	memset(&m->via, 0, sizeof(m->via));
	memset(&m->from, 0, sizeof(m->from));
	memset(&m->to, 0, sizeof(m->to));
	m->call_id = m->cseq_method = sl_make(buf, 0);
	m->cseq = 0;
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, bool stream,
		  struct sip_perr *err)
{
	/* never look further than the largest message we accept */
	size_t lim = len < SIP_MAX_MSG ? len : SIP_MAX_MSG, pos = 0;
	const char *bad_line = NULL;
	sl_t line;

	msg_init(m, buf, len);
	err->status = 0;
	err->reason = NULL;
	if (buf == NULL || len == 0) {
		err->status = -1;
		err->reason = "Empty Message";
		return -1;
	}
	while (pos < lim && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	line = next_line(buf, lim, &pos);
	if (sl_case_prefix(line, "SIP/") ? parse_status_line(m, line) < 0
					 : parse_request_line(m, line, &bad_line) < 0) {
		err->status = -1;
		err->reason = "Bad Start Line";
		return -1;
	}
	if (!stream && len > SIP_MAX_MSG)
		fail(err, 513, "Message Too Large");
	if (!scan_headers(m, buf, lim, &pos, err)) {
		/* a datagram may end right after its last header line */
		if (stream)
			fail(err, len > lim ? 513 : 400, len > lim ? "Message Too Large"
								   : "Truncated Message");
	}
	if (bad_line)
		fail(err, 400, bad_line);
	check_via(m, err);
	check_naddr(m, SIP_H_FROM, &m->from, err);
	check_naddr(m, SIP_H_TO, &m->to, err);
	check_call_id(m, err);
	check_cseq(m, err);
	check_clen(m, err);
	set_body(m, pos, stream, err);
	if (!sl_caseeq_cstr(m->version, "SIP/2.0"))
		fail(err, 505, "Version Not Supported");
	if (err->status == 0)
		return 0;
	if (!m->is_request)
		err->status = -1;
	return -1;
}

/* Stream framing --------------------------------------------------------- */

/* End of the header block (after CRLFCRLF, LFLF or mixed), or 0. */
static size_t header_end(const char *p, size_t lim)
{
	const char *lf;
	size_t k = 0;

	while (k < lim && (lf = memchr(p + k, '\n', lim - k)) != NULL) {
		k = (size_t)(lf - p) + 1;
		if (k < lim && p[k] == '\n')
			return k + 1;
		if (k + 1 < lim && p[k] == '\r' && p[k + 1] == '\n')
			return k + 2;
	}
	return 0;
}

/*
 * Content-Length from a complete header block (full or compact name,
 * possibly folded).  1 found, 0 absent, -1 bad or conflicting.
 */
static int frame_clen(const char *p, size_t hend, size_t *cl, struct sip_perr *err)
{
	size_t pos = 0;
	int found = 0;

	(void)next_line(p, hend, &pos);  /* start line */
	while (pos < hend) {
		sl_t l = next_line(p, hend, &pos), v;
		size_t i = 0, n = 0;

		while (i < l.len && sip_c_token((unsigned char)l.p[i]))
			i++;
		if (hdr_id(sl_make(l.p, i)) != SIP_H_CONTENT_LENGTH)
			continue;
		while (i < l.len && (l.p[i] == ' ' || l.p[i] == '\t'))
			i++;
		if (i >= l.len || l.p[i] != ':')
			continue;
		v = sip_sub(l, i + 1, l.len);
		/* take in continuation lines */
		while (pos < hend && (p[pos] == ' ' || p[pos] == '\t')) {
			sl_t c = next_line(p, hend, &pos);

			v.len = (size_t)(c.p + c.len - v.p);
		}
		v = sl_trim(v);
		for (i = 0; i < v.len; i++) {
			if (!sip_c_digit((unsigned char)v.p[i]))
				break;
			if (n <= SIP_MAX_MSG)
				n = n * 10 + (size_t)(v.p[i] - '0');
		}
		if (v.len == 0 || i < v.len) {
			fail(err, 400, hdr_err[SIP_H_CONTENT_LENGTH].bad);
			return -1;
		}
		if (found && n != *cl) {
			fail(err, 400, hdr_err[SIP_H_CONTENT_LENGTH].dup);
			return -1;
		}
		*cl = n;
		found = 1;
	}
	return found;
}

int sip_frame(const char *buf, size_t len, size_t max, size_t *skip, size_t *msglen,
	      struct sip_perr *err)
{
	size_t i = 0, n, hend, cl = 0;
	int rc;

	err->status = 0;
	err->reason = NULL;
	*msglen = 0;
	*skip = 0;
	if (buf == NULL || len == 0)
		return 0;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	*skip = i;
	buf += i;
	n = len - i;
	if (n == 0)
		return 0;
	hend = header_end(buf, n < max ? n : max);
	if (hend == 0) {
		if (n < max)
			return 0;
		fail(err, 513, "Message Too Large");
		return -1;
	}
	rc = frame_clen(buf, hend, &cl, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		fail(err, 400, hdr_err[SIP_H_CONTENT_LENGTH].missing);
		return -1;
	}
	if (cl > max || hend + cl > max) {
		fail(err, 513, "Message Too Large");
		return -1;
	}
	if (n - hend < cl)
		return 0;
	*msglen = hend + cl;
	return 1;
}
