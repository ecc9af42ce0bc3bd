/*
 * lex.c - small tokenizers over header values: quoted strings, comma
 * lists, ;parameters, numbers, q-values, escapes, method names.
 *
 * Values may still contain the CR LF of folded lines; all of these treat
 * CR and LF like SP and HT.
 */
#include "sip/sip_int.h"

#include <limits.h>

size_t sip_quoted_end(sl_t s, size_t i)
{
	for (size_t j = i + 1; j < s.len; j++) {
		if (s.p[j] == '\\') {
			/* quoted-pair: the escaped byte cannot end the string */
			if (++j >= s.len)
				return 0;
		} else if (s.p[j] == '"') {
			return j + 1;
		}
	}
	return 0;
}

/* *pos == value.len + 1 marks "no more items", so that "a," yields "a" and
 * an empty item: n commas always give n + 1 items. */
int sip_list_next(sl_t value, size_t *pos, sl_t *item)
{
	size_t start = *pos, i;
	bool in_br = false;

	*item = sl_make(value.p, 0);
	if (start > value.len)
		return 0;
	if (start == 0 && sl_trim(value).len == 0) {
		*pos = value.len + 1;
		return 0;
	}
	for (i = start; i < value.len; i++) {
		char c = value.p[i];

		if (in_br) {
			/* URIs hold neither '<' nor quotes: only '>' matters */
			if (c == '>')
				in_br = false;
			else if (c == '<')
				goto bad;
			continue;
		}
		if (c == '"') {
			size_t e = sip_quoted_end(value, i);

			if (e == 0)
				goto bad;
			i = e - 1;
		} else if (c == '<') {
			in_br = true;
		} else if (c == ',') {
			break;
		}
	}
	if (in_br)
		goto bad;
	*item = sl_trim(sip_sub(value, start, i));
	*pos = i < value.len ? i + 1 : value.len + 1;
	return 1;
bad:
	*pos = value.len + 1;
	return -1;
}

/* Unquoted parameter values: token, host (with [ ] :) and the URI pchar
 * set; anything that separates or quotes ends the value. */
static bool pval_char(unsigned char c)
{
	switch (c) {
	case ';': case ',': case '"': case '<': case '>': case '=': case '?':
		return false;
	default:
		return c > 0x20 && c < 0x7f;
	}
}

int sip_param_next(sl_t params, size_t *pos, sl_t *name, sl_t *val)
{
	size_t i = *pos, n0;

	*name = *val = sl_make(params.p, 0);
	if (i >= params.len)
		return 0;
	i = sip_skip_lws(params, i);
	if (*pos == 0 && i < params.len && params.p[i] == ';')
		i = sip_skip_lws(params, i + 1);
	if (i >= params.len) {
		*pos = params.len;
		return 0;
	}
	n0 = i;
	while (i < params.len && sip_c_token((unsigned char)params.p[i]))
		i++;
	if (i == n0)
		goto bad;
	*name = sip_sub(params, n0, i);
	i = sip_skip_lws(params, i);
	if (i < params.len && params.p[i] == '=') {
		size_t v0;

		i = sip_skip_lws(params, i + 1);
		v0 = i;
		if (i < params.len && params.p[i] == '"') {
			i = sip_quoted_end(params, i);
			if (i == 0)
				goto bad;
		} else {
			while (i < params.len && pval_char((unsigned char)params.p[i]))
				i++;
		}
		if (i == v0)
			goto bad;
		*val = sip_sub(params, v0, i);
		i = sip_skip_lws(params, i);
	} else {
		*val = sl_make(params.p + i, 0);
	}
	if (i < params.len && params.p[i] != ';')
		goto bad;
	*pos = i < params.len ? i + 1 : params.len;
	return 1;
bad:
	*pos = params.len;
	*name = *val = sl_make(params.p, 0);
	return -1;
}

int sip_param_get(sl_t params, const char *name, sl_t *val)
{
	size_t pos = 0;
	sl_t n, v;

	while (sip_param_next(params, &pos, &n, &v) == 1) {
		if (sl_caseeq_cstr(n, name)) {
			*val = v;
			return 1;
		}
	}
	return 0;
}

int sip_delta_parse(sl_t s, uint32_t *out)
{
	uint64_t v = 0;

	s = sl_trim(s);
	if (s.len == 0)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (!sip_c_digit((unsigned char)s.p[i]))
			return -1;
		/* saturate instead of overflowing: only the clamp matters */
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
int sip_qvalue_parse(sl_t s, int *thousandths)
{
	int v, scale = 100;
	size_t i;

	s = sl_trim(s);
	if (s.len == 0 || (s.p[0] != '0' && s.p[0] != '1'))
		return -1;
	v = (s.p[0] - '0') * 1000;
	if (s.len == 1)
		goto done;
	if (s.p[1] != '.' || s.len > 5)
		return -1;
	for (i = 2; i < s.len; i++, scale /= 10) {
		if (!sip_c_digit((unsigned char)s.p[i]))
			return -1;
		v += (s.p[i] - '0') * scale;
	}
	if (v > 1000)
		return -1;
done:
	*thousandths = v;
	return 0;
}

int sip_unescape(sl_t in, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];

		if (c == '%') {
			if (!sip_is_escape(in, i))
				return -1;
			c = (char)(sip_hexval((unsigned char)in.p[i + 1]) * 16 +
				   sip_hexval((unsigned char)in.p[i + 2]));
			i += 2;
		}
		if (o >= cap || o >= (size_t)INT_MAX)
			return -1;
		out[o++] = c;
	}
	return (int)o;
}

static const struct {
	const char *name;
	enum sip_method id;
} methods[] = {
	{ "REGISTER", SIP_M_REGISTER }, { "INVITE", SIP_M_INVITE },
	{ "ACK", SIP_M_ACK }, { "CANCEL", SIP_M_CANCEL },
	{ "BYE", SIP_M_BYE }, { "OPTIONS", SIP_M_OPTIONS },
	{ "SUBSCRIBE", SIP_M_SUBSCRIBE }, { "NOTIFY", SIP_M_NOTIFY },
	{ "MESSAGE", SIP_M_MESSAGE }, { "INFO", SIP_M_INFO },
	{ "PRACK", SIP_M_PRACK }, { "UPDATE", SIP_M_UPDATE },
	{ "REFER", SIP_M_REFER }, { "PUBLISH", SIP_M_PUBLISH },
};

/* Methods are case-sensitive (§7.1): "register" is an unknown method. */
enum sip_method sip_method_id(sl_t m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (sl_eq_cstr(m, methods[i].name))
			return methods[i].id;
	return SIP_M_OTHER;
}

size_t sip_require_list(const struct sip_msg *m, struct obuf *b)
{
	size_t n = 0;

	for (const struct sip_hdr *h = sip_hdr_get(m, SIP_H_REQUIRE); h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		sl_t opt;

		while (sip_list_next(h->value, &pos, &opt) == 1) {
			size_t tok = 0;

			/* echoed into Unsupported: only token characters, and
			 * an option with none is no option */
			for (size_t i = 0; i < opt.len; i++)
				tok += sip_c_token((unsigned char)opt.p[i]);
			if (tok == 0)
				continue;
			if (n++)
				ob_str(b, ", ");
			for (size_t i = 0; i < opt.len; i++)
				if (sip_c_token((unsigned char)opt.p[i]))
					ob_put(b, &opt.p[i], 1);
		}
	}
	return n;
}
