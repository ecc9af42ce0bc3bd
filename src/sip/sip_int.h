/*
 * sip_int.h - private helpers shared by the files of the SIP parser.
 *
 * Character classes follow the RFC 3261 §25.1 ABNF.  Everything takes a
 * slice and an index and never reads at or past s.len.
 */
#ifndef SR_SIP_INT_H
#define SR_SIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip.h"

/*
 * Via entries accepted in one message.  Not SIP_MAX_VIAS (32): RFC 4475
 * longreq, a valid message, carries 34, and §8.2.6.2 wants every one of
 * them copied into the response.  Still bounded, like header lines.
 */
#define SIP_MAX_VIA_ENTRIES SIP_MAX_HEADERS

/* Upper bound on URI parameters / headers looked at by sip_uri_eq: the
 * comparison is quadratic, so absurd URIs simply compare unequal. */
#define SIP_URI_MAX_PARAMS 64

static inline bool sip_c_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline bool sip_c_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static inline bool sip_c_hex(unsigned char c)
{
	return sip_c_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int sip_hexval(unsigned char c)
{
	if (sip_c_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
static inline bool sip_c_token(unsigned char c)
{
	switch (c) {
	case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
		return true;
	default:
		return sip_c_alnum(c);
	}
}

/* unreserved = alphanum / mark */
static inline bool sip_c_unreserved(unsigned char c)
{
	switch (c) {
	case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
		return true;
	default:
		return sip_c_alnum(c);
	}
}

/* Linear white space, including the CR/LF of folded header values. */
static inline bool sip_c_lws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline size_t sip_skip_lws(sl_t s, size_t i)
{
	while (i < s.len && sip_c_lws((unsigned char)s.p[i]))
		i++;
	return i;
}

static inline sl_t sip_sub(sl_t s, size_t from, size_t to)
{
	return sl_make(s.p + from, to - from);
}

/*
 * s.p[i] is '"': returns the index just past the closing quote, honouring
 * backslash escapes, or 0 if the string is unterminated (0 can never be a
 * valid end since the opening quote sits at i >= 0).
 */
size_t sip_quoted_end(sl_t s, size_t i);

/* Percent-escape at s.p[i] ("%" HEX HEX) is well formed. */
static inline bool sip_is_escape(sl_t s, size_t i)
{
	return i + 2 < s.len && s.p[i] == '%' && sip_c_hex((unsigned char)s.p[i + 1]) &&
	       sip_c_hex((unsigned char)s.p[i + 2]);
}

/*
 * host = hostname / IPv4address / IPv6reference, starting at s.p[*i].
 * On success *host is the host without brackets, *v6 tells if it was an
 * IPv6 reference, *i is just past it.
 */
int sip_host_scan(sl_t s, size_t *i, sl_t *host, bool *v6);

/* port = 1*5DIGIT <= 65535, starting at s.p[*i]; *i moves past it. */
int sip_port_scan(sl_t s, size_t *i, uint16_t *port);

/* sent-protocol of a Via entry from s.p[*i]; *i moves past it. */
int sip_via_protocol(sl_t s, size_t *i, sl_t *name, sl_t *version, sl_t *transport);

/* Header name (full or one-letter compact) to its full form, for lookups
 * of names that have no id of their own (Subject, Event, ...). */
sl_t sip_hdr_canon_name(sl_t name);

#endif
