/*
 * via.c - one via-parm (§20.42, §25.1):
 *   sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   SLASH = SWS "/" SWS
 *   sent-by = host [ COLON port ]
 */
#include "sip/sip_int.h"

static size_t token_end(sl_t s, size_t i)
{
	while (i < s.len && sip_c_token((unsigned char)s.p[i]))
		i++;
	return i;
}

/* SLASH = SWS "/" SWS; returns the index after it or 0 if absent. */
static size_t slash(sl_t s, size_t i)
{
	i = sip_skip_lws(s, i);
	if (i >= s.len || s.p[i] != '/')
		return 0;
	return sip_skip_lws(s, i + 1);
}

/*
 * Any protocol name and version are taken, not only SIP/2.0: a request of
 * another version must still parse far enough to get its 505 (RFC 4475
 * badvers has "SIP/7.0/UDP").
 */
int sip_via_protocol(sl_t s, size_t *ip, sl_t *name, sl_t *version, sl_t *transport)
{
	size_t i = *ip, j;

	j = token_end(s, i);
	*name = sip_sub(s, i, j);
	if (j == i || (i = slash(s, j)) == 0)
		return -1;
	j = token_end(s, i);
	*version = sip_sub(s, i, j);
	if (j == i || (i = slash(s, j)) == 0)
		return -1;
	j = token_end(s, i);
	if (j == i)
		return -1;
	*transport = sip_sub(s, i, j);
	*ip = j;
	return 0;
}

int sip_via_parse(sl_t entry, struct sip_via *v)
{
	sl_t s = sl_trim(entry), n, val, name, version;
	size_t i = 0, j, pos = 0;
	bool v6;
	int rc;

	memset(v, 0, sizeof(*v));
	v->entry = s;
	if (sip_via_protocol(s, &i, &name, &version, &v->transport) < 0)
		return -1;
	j = sip_skip_lws(s, i);
	if (j == i || sip_host_scan(s, &j, &v->host, &v6) < 0)
		return -1;
	i = sip_skip_lws(s, j);
	if (i < s.len && s.p[i] == ':') {
		i = sip_skip_lws(s, i + 1);
		if (sip_port_scan(s, &i, &v->port) < 0)
			return -1;
		i = sip_skip_lws(s, i);
	}
	if (i < s.len && s.p[i] != ';')
		return -1;
	v->params = sip_sub(s, i, s.len);
	while ((rc = sip_param_next(v->params, &pos, &n, &val)) == 1)
		;
	if (rc < 0)
		return -1;
	if (sip_param_get(v->params, "branch", &val) == 1)
		v->branch = val;
	v->rport = sip_param_get(v->params, "rport", &val) == 1;
	return 0;
}
