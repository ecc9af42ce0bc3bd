/*
 * sip.h - the SIP message parser and response builder (RFC 3261 §7, §20, §25).
 *
 * Zero-copy: sip_msg_parse() makes one bounded pass over a message, records
 * where the start line, each header and the body are, and decodes only what
 * every request needs (top Via, From/To tags, Call-ID, CSeq).  Everything
 * else is parsed on demand by the typed accessors below, which take a slice
 * and return slices into the same buffer.  Header values keep their folding
 * (CRLF + whitespace); every tokenizer here treats CR and LF inside a value
 * as whitespace, so folded headers need no rewriting.
 *
 * Nothing here allocates.  All counts and lengths are bounded by the
 * constants below; exceeding them is an error, never a truncation.
 */
#ifndef SR_SIP_H
#define SR_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/slice.h"

#define SIP_MAX_MSG 65535      /* largest message accepted at all */
#define SIP_MAX_HEADERS 128    /* header lines per message */


/* Header ids, assigned at parse time from full or compact names (§7.3.3). */
enum sip_hdr_id {
	SIP_H_OTHER = 0,
	SIP_H_VIA,             /* v */
	SIP_H_FROM,            /* f */
	SIP_H_TO,              /* t */
	SIP_H_CALL_ID,         /* i */
	SIP_H_CSEQ,
	SIP_H_CONTACT,         /* m */
	SIP_H_EXPIRES,
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTENT_LENGTH,  /* l */
	SIP_H_CONTENT_TYPE,    /* c */
	SIP_H_CONTENT_ENCODING,/* e */
	SIP_H_AUTHORIZATION,
	SIP_H_PROXY_AUTHORIZATION,
	SIP_H_REQUIRE,
	SIP_H_PROXY_REQUIRE,
	SIP_H_SUPPORTED,       /* k */
	SIP_H_USER_AGENT,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_PATH,
	SIP_H_TIMESTAMP,
	SIP_H_CONTENT_DISPOSITION,
	SIP_H__COUNT
};

enum sip_method {
	SIP_M_OTHER = 0, SIP_M_REGISTER, SIP_M_INVITE, SIP_M_ACK, SIP_M_CANCEL,
	SIP_M_BYE, SIP_M_OPTIONS, SIP_M_SUBSCRIBE, SIP_M_NOTIFY, SIP_M_MESSAGE,
	SIP_M_INFO, SIP_M_PRACK, SIP_M_UPDATE, SIP_M_REFER, SIP_M_PUBLISH
};

struct sip_hdr {
	enum sip_hdr_id id;
	sl_t name;   /* as received */
	sl_t value;  /* trimmed; may contain folding CRLF+WS inside */
	sl_t line;   /* the whole header line(s), name to last char before CRLF */
};

/* A parsed Via entry (§20.42, RFC 3581). */
struct sip_via {
	sl_t transport;  /* "UDP", "TCP", ... (the part after SIP/2.0/) */
	sl_t host;       /* without [] for IPv6 references */
	uint16_t port;   /* 0 when absent */
	sl_t params;     /* ";branch=...;rport" raw, starting at the first ';' (may be empty) */
	sl_t branch;     /* value of branch, empty slice when absent */
	bool rport;      /* rport parameter present (with or without value) */
	sl_t entry;      /* the whole via-parm text, trimmed */
};

/* A parsed SIP/SIPS/TEL URI (§19.1.1).  Other schemes: scheme set, rest empty. */
enum sip_scheme { SIP_SCHEME_OTHER = 0, SIP_SCHEME_SIP, SIP_SCHEME_SIPS, SIP_SCHEME_TEL };
struct sip_uri {
	enum sip_scheme scheme;
	sl_t scheme_str;
	sl_t user;       /* still escaped */
	sl_t password;
	sl_t host;       /* without [] for IPv6 references */
	bool host_ipv6;
	uint16_t port;   /* 0 when absent */
	sl_t params;     /* ";a=b;c" raw, starting at ';', or empty */
	sl_t headers;    /* "?a=b&c=d" raw, starting at '?', or empty */
	sl_t whole;      /* the whole URI text */
};

/* A name-addr or addr-spec with header parameters (From, To, Contact). */
struct sip_naddr {
	sl_t display;    /* display name as written (quoted or token words), may be empty */
	sl_t uri_str;    /* the URI text (inside <> when bracketed) */
	struct sip_uri uri;
	bool bracketed;
	sl_t params;     /* header params after the URI/">", starting at ';', or empty */
	sl_t tag;        /* value of tag param, or an empty slice (never NULL for parsed text) */
	sl_t whole;      /* the entire entry, trimmed */
};

struct sip_msg {
	const char *buf;
	size_t len;              /* bytes covered by this message, headers + body */

	bool is_request;
	sl_t method;
	enum sip_method mid;
	sl_t ruri;               /* request-URI text */
	sl_t version;            /* "SIP/2.0" as written */
	int status;              /* responses only */
	sl_t reason;

	struct sip_hdr hdrs[SIP_MAX_HEADERS];
	unsigned nhdrs;
	int16_t first[SIP_H__COUNT];   /* index of first header with this id, -1 none */
	uint16_t count[SIP_H__COUNT];  /* header lines with this id */

	sl_t body;
	bool has_content_length;
	size_t content_length;

	/* Decoded by sip_msg_parse on success: */
	struct sip_via via;      /* top-most Via entry */
	struct sip_naddr from, to;
	sl_t call_id;
	uint32_t cseq;
	sl_t cseq_method;
};

/*
 * Result of parsing: 0 for success, else the status a server should answer
 * with (400, 505, 513, ...) and a short reason phrase, or status -1 when the
 * bytes are unanswerable garbage to drop (no start line, no Via to reply to).
 */
struct sip_perr {
	int status;
	const char *reason;
};

/*
 * Parse one message in buf[0..len).  'stream' is true for TCP: then
 * Content-Length is mandatory and the message may end before len (the
 * caller learns the consumed size from m->len); on UDP the body is what
 * follows the headers, trimmed to Content-Length when that is smaller
 * (a larger Content-Length is a 400).
 * Returns 0 on success, -1 with *err filled otherwise.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, bool stream,
		  struct sip_perr *err);

/*
 * Stream framing for TCP: look at buf[0..len) after skipping leading CRLFs
 * (*skip receives how many bytes of them).  Returns 1 with *msglen = size of
 * the first complete message (headers + Content-Length body), 0 when more
 * bytes are needed, -1 on a framing error (no/invalid Content-Length, header
 * block over max) with *err set.  Does not validate the message.
 */
int sip_frame(const char *buf, size_t len, size_t max, size_t *skip, size_t *msglen,
	      struct sip_perr *err);

/* Header access: the i-th header with id, or NULL.  Iterate with sip_hdr_next. */
const struct sip_hdr *sip_hdr_get(const struct sip_msg *m, enum sip_hdr_id id);
const struct sip_hdr *sip_hdr_next(const struct sip_msg *m, const struct sip_hdr *prev);
/* First header whose name matches case-insensitively (for SIP_H_OTHER names). */
const struct sip_hdr *sip_hdr_by_name(const struct sip_msg *m, const char *name);

/*
 * Comma-separated list iteration within one header value, respecting quoted
 * strings and <...>.  *pos starts at 0.  Returns 1 with *item (trimmed) set,
 * 0 at the end, -1 on a syntax error (unterminated quote or bracket).
 */
int sip_list_next(sl_t value, size_t *pos, sl_t *item);

int sip_via_parse(sl_t entry, struct sip_via *v);
int sip_uri_parse(sl_t s, struct sip_uri *u);
int sip_naddr_parse(sl_t s, struct sip_naddr *na);

/*
 * Parameter lookup in ";a=b;c;d=\"q\"" (leading ';' optional).  Names match
 * case-insensitively.  Returns 1 and sets *val (empty for a flag, quotes
 * kept) when found, 0 when absent.
 */
int sip_param_get(sl_t params, const char *name, sl_t *val);

/* Parameter iteration: *pos starts at 0; returns 1 per param, 0 at end. */
int sip_param_next(sl_t params, size_t *pos, sl_t *name, sl_t *val);

/* URI equality per §19.1.4 (scheme, user, password case-sensitive after
 * unescaping, host case-insensitive, port, the listed params, headers). */
bool sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b);

/*
 * Write the canonical Address-of-Record "user@host" (user unescaped, host
 * lower-cased, no port, no parameters) into out.  sip: and sips: AORs share
 * one key.  Returns the length, or -1 if it does not fit or the URI has no
 * user part or is not sip/sips.
 */
int sip_aor_canon(const struct sip_uri *u, char *out, size_t cap);

/* Percent-unescape into out (no NUL); returns length or -1 on a bad escape/overflow. */
int sip_unescape(sl_t in, char *out, size_t cap);

/* Parse delta-seconds for Expires/expires= (§20.19): all digits; values
 * beyond 2^32-1 clamp to UINT32_MAX.  Returns 0 or -1 if not a number. */
int sip_delta_parse(sl_t s, uint32_t *out);

/* "0.5", "1", "0.000" -> thousandths; -1 if malformed or above 1. */
int sip_qvalue_parse(sl_t s, int *thousandths);

enum sip_method sip_method_id(sl_t m);

/*
 * Write the option tags of every Require header, comma-separated, into b
 * (for an Unsupported header: sipreg supports no extension that a client
 * may require yet).  Returns how many there were.
 */
size_t sip_require_list(const struct sip_msg *m, struct obuf *b);

/* Response building ----------------------------------------------------- */

/*
 * Begin a response to request m: status line, every Via (the top one with
 * received= and rport= added per RFC 3581 when 'src_ip' is given), From, To
 * (with 'to_tag' added when the request's To has none), Call-ID, CSeq.
 * The caller appends extra headers with ob_* then calls sip_resp_end.
 */
struct sip_resp_src {
	const char *ip;     /* source address text (no brackets), NULL to leave Via untouched */
	uint16_t port;      /* source port, for rport= */
};
/* received= is added when the top Via has rport, or when its sent-by host
 * differs from ip (§18.2.1); rport=<port> replaces a valueless rport. */
void sip_resp_begin(struct obuf *b, const struct sip_msg *m, int status, const char *reason,
		    const struct sip_resp_src *src, sl_t to_tag);
/* Adds Server/Content-Length: 0 and the final CRLF. */
void sip_resp_end(struct obuf *b);

#endif
