/*
 * cred.c - parse an Authorization / Proxy-Authorization value (RFC 3261
 * §25.1 credentials): a scheme token, then for Digest a comma-separated list
 * of name=value, value a token or a quoted-string.
 *
 * The input comes straight off the network: it is a slice, not a C string,
 * every read is checked against its length, and both the number of
 * parameters and each length are bounded.
 */
#include "auth/auth_int.h"

#include <stddef.h>
#include <string.h>

#define AUTH_MAX_PARAMS 32
#define AUTH_MAX_VALUE 1024
#define AUTH_MAX_NAME 1024

struct auth_cur {
	const char *p, *end;
};

static const struct {
	const char *name;
	size_t off;
} auth_fields[] = {
	{ "username", offsetof(struct auth_cred, username) },
	{ "realm", offsetof(struct auth_cred, realm) },
	{ "nonce", offsetof(struct auth_cred, nonce) },
	{ "uri", offsetof(struct auth_cred, uri) },
	{ "response", offsetof(struct auth_cred, response) },
	{ "algorithm", offsetof(struct auth_cred, algorithm) },
	{ "cnonce", offsetof(struct auth_cred, cnonce) },
	{ "opaque", offsetof(struct auth_cred, opaque) },
	{ "qop", offsetof(struct auth_cred, qop) },
	{ "nc", offsetof(struct auth_cred, nc) },
};

/* RFC 3261 token characters. */
static bool auth_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
		return true;
	default:
		return false;
	}
}

/* LWS, including the CR LF of a folded line. */
static bool auth_is_lws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static size_t auth_skip_lws(struct auth_cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && auth_is_lws(*c->p))
		c->p++;
	return (size_t)(c->p - s);
}

static sl_t auth_token(struct auth_cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && auth_is_tchar((unsigned char)*c->p))
		c->p++;
	return sl_make(s, (size_t)(c->p - s));
}

/* Control characters other than HT/CR/LF never belong in a quoted-string. */
static bool auth_is_qbad(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f; }

/* At the opening quote; *out gets the inner text, escapes left in place. */
static int auth_quoted(struct auth_cur *c, sl_t *out)
{
	const char *s = ++c->p;

	while (c->p < c->end && *c->p != '"') {
		if (auth_is_qbad((unsigned char)*c->p))
			return -1;
		if (*c->p == '\\') {
			/* quoted-pair: the escaped byte must exist and not end a line */
			if (c->end - c->p < 2 || c->p[1] == '\r' || c->p[1] == '\n' ||
			    auth_is_qbad((unsigned char)c->p[1]))
				return -1;
			c->p++;
		}
		c->p++;
	}
	if (c->p >= c->end)
		return -1;
	*out = sl_make(s, (size_t)(c->p - s));
	c->p++;
	return 0;
}

static int auth_value(struct auth_cur *c, sl_t *out)
{
	if (c->p < c->end && *c->p == '"') {
		if (auth_quoted(c, out) != 0)
			return -1;
	} else {
		*out = auth_token(c);
		if (out->len == 0)
			return -1;
	}
	return out->len <= AUTH_MAX_VALUE ? 0 : -1;
}

static int auth_store(struct auth_cred *cr, sl_t name, sl_t val)
{
	for (size_t i = 0; i < sizeof(auth_fields) / sizeof(auth_fields[0]); i++) {
		if (sl_caseeq_cstr(name, auth_fields[i].name)) {
			*(sl_t *)((char *)cr + auth_fields[i].off) = val;
			return 0;
		}
	}
	if (sl_caseeq_cstr(name, "userhash"))
		cr->userhash = sl_caseeq_cstr(val, "true");
	return 0;   /* unknown parameters are ignored */
}

/* Parse one name=value and check the name is not a repeat. */
static int auth_param(struct auth_cur *c, sl_t *names, size_t n, sl_t *name, sl_t *val)
{
	*name = auth_token(c);
	if (name->len == 0 || name->len > AUTH_MAX_NAME)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sl_caseeq(names[i], *name))
			return -1;
	auth_skip_lws(c);
	if (c->p >= c->end || *c->p != '=')
		return -1;
	c->p++;
	auth_skip_lws(c);
	return auth_value(c, val);
}

static int auth_params(struct auth_cur *c, struct auth_cred *cr)
{
	sl_t names[AUTH_MAX_PARAMS], name, val;
	size_t n = 0;

	for (;;) {
		if (n == AUTH_MAX_PARAMS)
			return -1;
		if (auth_param(c, names, n, &name, &val) != 0)
			return -1;
		names[n++] = name;
		auth_store(cr, name, val);
		auth_skip_lws(c);
		if (c->p == c->end)
			return 0;
		if (*c->p != ',')
			return -1;
		c->p++;
		auth_skip_lws(c);
	}
}

int auth_cred_parse(sl_t value, struct auth_cred *cr)
{
	struct auth_cur c;

	memset(cr, 0, sizeof(*cr));
	if (!value.p)
		return -1;   /* before any arithmetic: NULL + 0 is UB */
	c.p = value.p;
	c.end = value.p + value.len;
	auth_skip_lws(&c);
	cr->scheme = auth_token(&c);
	if (cr->scheme.len == 0)
		return -1;
	/* Other schemes (Basic's token68 ...) are not ours to parse. */
	if (!sl_caseeq_cstr(cr->scheme, "Digest"))
		return 0;
	if (auth_skip_lws(&c) == 0 && c.p != c.end)
		return -1;
	if (c.p == c.end)
		return 0;
	if (auth_params(&c, cr) != 0) {
		/* Half-parsed credentials must not be mistaken for anything. */
		memset(cr, 0, sizeof(*cr));
		return -1;
	}
	return 0;
}
