/* config.c - defaults, INI file and flags for sipreg. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Built-in compatibility rules (see README "Client compatibility"): clients
 * known to fail when the first or any challenge is not MD5.  A request
 * without User-Agent is usually a script or test tool that reads only the
 * first challenge: it gets MD5 first, SHA-256 second.
 */
static const struct {
	const char *prefix;
	const char *algs;
} builtin_compat[] = {
	{ "baresip", "MD5" },  /* 1.0.0 gives up if any challenge is not MD5 */
	{ "sipp", "MD5" },     /* reads the first challenge; MD5 only */
	{ "JsSIP", "MD5" },
	{ "SIP.js", "MD5" },
	{ "-", "MD5,SHA-256" },
};

static int add_compat(struct cfg *c, const char *prefix, const char *algs, char *err, size_t errlen)
{
	struct cfg_compat *r;

	if (c->ncompat == CFG_MAX_COMPAT || strlen(prefix) >= CFG_UA_MAX || !*prefix) {
		snprintf(err, errlen, "compat: too many rules, or User-Agent prefix '%s' empty or too long",
			 prefix);
		return -1;
	}
	r = &c->compat[c->ncompat];
	if (auth_alg_list_parse(algs, r->algs, &r->nalgs) < 0) {
		snprintf(err, errlen, "compat '%s': bad algorithm list '%s' (use e.g. SHA-256,MD5)",
			 prefix, algs);
		return -1;
	}
	snprintf(r->ua_prefix, sizeof(r->ua_prefix), "%s", prefix);
	c->ncompat++;
	return 0;
}

void cfg_defaults(struct cfg *c)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	snprintf(c->db, sizeof(c->db), "sipreg.db");
	c->min_expires = 60;
	c->max_expires = 3600;
	c->default_expires = 3600;
	c->max_contacts = 10;
	c->nonce_ttl = 300;
	c->algs[0] = AUTH_SHA256;
	c->algs[1] = AUTH_MD5;
	c->nalgs = 2;
	c->log_level = LOG_INFO;
	c->workers = 0; /* one per CPU */
	c->max_msg = 16384;
	c->tcp_max_conns = 16384;
	c->guard.rate_limit = 1000;
	c->guard.ban_after = 10;
	c->guard.ban_window = 60;
	c->guard.ban_time = 300;
	c->guard.tcp_per_source = 1024;
	c->tcp_idle_timeout = 120;
	c->tcp_header_timeout = 10;
	for (size_t i = 0; i < sizeof(builtin_compat) / sizeof(builtin_compat[0]); i++)
		add_compat(c, builtin_compat[i].prefix, builtin_compat[i].algs, err, sizeof(err));
}

static int set_uint(const char *key, const char *val, unsigned lo, unsigned hi, unsigned *out,
		    char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || !isdigit((unsigned char)*val) || *end || v < lo || v > hi) {
		snprintf(err, errlen, "%s: '%s' is not a whole number from %u to %u", key, val, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int add_domain(struct cfg *c, const char *val, char *err, size_t errlen)
{
	size_t n = strlen(val);

	if (c->ndomains == REG_MAX_DOMAINS || n == 0 || n >= sizeof(c->domains[0])) {
		snprintf(err, errlen, "domain: '%s' is empty or too long, or more than %d domains", val,
			 REG_MAX_DOMAINS);
		return -1;
	}
	for (size_t i = 0; i <= n; i++)
		c->domains[c->ndomains][i] = (char)tolower((unsigned char)val[i]);
	c->ndomains++;
	return 0;
}

static int add_listen(struct cfg *c, const char *val, char *err, size_t errlen)
{
	char why[256];

	if (c->nlisten == TP_MAX_LISTEN) {
		snprintf(err, errlen, "listen: at most %d addresses", TP_MAX_LISTEN);
		return -1;
	}
	if (tp_listen_parse(val, &c->listen[c->nlisten], why, sizeof(why)) < 0) {
		snprintf(err, errlen, "listen: %s", why);
		return -1;
	}
	c->nlisten++;
	return 0;
}

static int add_trusted(struct cfg *c, const char *val, char *err, size_t errlen)
{
	struct guard_cfg *g = &c->guard;

	if (g->ntrusted == GUARD_MAX_TRUSTED || guard_net_parse(val, &g->trusted[g->ntrusted]) < 0) {
		snprintf(err, errlen, "trusted: '%s' is not an address or CIDR (e.g. 10.0.0.0/8), or more than %d",
			 val, GUARD_MAX_TRUSTED);
		return -1;
	}
	g->ntrusted++;
	return 0;
}

/* "a, b c" -> calls fn per item (for listen/domain lists in the file). */
static int each_item(struct cfg *c, const char *val, char *err, size_t errlen,
		     int (*fn)(struct cfg *, const char *, char *, size_t))
{
	char buf[1024], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", val);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
		if (fn(c, tok, err, errlen) < 0)
			return -1;
	return 0;
}

int cfg_set(struct cfg *c, const char *key, const char *val, char *err, size_t errlen)
{
	unsigned v;

	if (!strcmp(key, "listen"))
		return each_item(c, val, err, errlen, add_listen);
	if (!strcmp(key, "domain"))
		return each_item(c, val, err, errlen, add_domain);
	if (!strcmp(key, "trusted"))
		return each_item(c, val, err, errlen, add_trusted);
	if (!strcmp(key, "rate-limit"))
		return set_uint(key, val, 0, 10000000, &c->guard.rate_limit, err, errlen);
	if (!strcmp(key, "ban-after"))
		return set_uint(key, val, 0, 1000000, &c->guard.ban_after, err, errlen);
	if (!strcmp(key, "ban-window"))
		return set_uint(key, val, 1, 86400, &c->guard.ban_window, err, errlen);
	if (!strcmp(key, "ban-time"))
		return set_uint(key, val, 1, GUARD_BAN_MAX, &c->guard.ban_time, err, errlen);
	if (!strcmp(key, "tcp-max-per-source"))
		return set_uint(key, val, 0, 1000000, &c->guard.tcp_per_source, err, errlen);
	if (!strcmp(key, "user")) {
		if (!*val || strlen(val) >= sizeof(c->user)) {
			snprintf(err, errlen, "user: name empty or too long");
			return -1;
		}
		snprintf(c->user, sizeof(c->user), "%s", val);
		return 0;
	}
	if (!strcmp(key, "db")) {
		if (strlen(val) >= sizeof(c->db) || !*val) {
			snprintf(err, errlen, "db: path empty or too long");
			return -1;
		}
		snprintf(c->db, sizeof(c->db), "%s", val);
		return 0;
	}
	if (!strcmp(key, "min-expires"))
		return set_uint(key, val, 1, 86400 * 365, &c->min_expires, err, errlen);
	if (!strcmp(key, "max-expires"))
		return set_uint(key, val, 1, 86400 * 365, &c->max_expires, err, errlen);
	if (!strcmp(key, "default-expires"))
		return set_uint(key, val, 1, 86400 * 365, &c->default_expires, err, errlen);
	if (!strcmp(key, "max-contacts"))
		return set_uint(key, val, 1, 256, &c->max_contacts, err, errlen);
	if (!strcmp(key, "nonce-ttl"))
		return set_uint(key, val, 1, 86400, &c->nonce_ttl, err, errlen);
	if (!strcmp(key, "workers"))
		return set_uint(key, val, 0, 64, &c->workers, err, errlen);
	if (!strcmp(key, "tcp-max-connections"))
		return set_uint(key, val, 1, 4000000, &c->tcp_max_conns, err, errlen);
	if (!strcmp(key, "tcp-idle-timeout"))
		return set_uint(key, val, 1, 86400, &c->tcp_idle_timeout, err, errlen);
	if (!strcmp(key, "max-message-size")) {
		if (set_uint(key, val, 1024, SIP_MAX_MSG, &v, err, errlen) < 0)
			return -1;
		c->max_msg = v;
		return 0;
	}
	if (!strcmp(key, "digest-algorithms")) {
		if (auth_alg_list_parse(val, c->algs, &c->nalgs) < 0) {
			snprintf(err, errlen, "digest-algorithms: '%s' is not a list of SHA-256 and MD5", val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		if (log_level_parse(val, &c->log_level) < 0) {
			snprintf(err, errlen, "log-level: '%s' is not error, warn, info or debug", val);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -1;
}

struct ini_ctx {
	struct cfg *c;
	char *err;
	size_t errlen;
	int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	char key[64], why[192];
	int rc;

	if (x->failed)
		return 0;
	if (!strcmp(section, "compat")) {
		if (!x->c->compat_from_file) {
			x->c->ncompat = 0; /* the file's rules replace the built-in ones */
			x->c->compat_from_file = true;
		}
		rc = add_compat(x->c, name, value, why, sizeof(why));
	} else if (!strcmp(section, "server") || !*section) {
		/* Accept both underscores and dashes in keys. */
		snprintf(key, sizeof(key), "%s", name);
		for (char *p = key; *p; p++)
			if (*p == '_')
				*p = '-';
		rc = cfg_set(x->c, key, value, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "unknown section [%s]", section);
		rc = -1;
	}
	if (rc < 0) {
		snprintf(x->err, x->errlen, "[%s] %s: %s", section, name, why);
		x->failed = 1;
		return 0;
	}
	return 1;
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	struct ini_ctx x = { c, err, errlen, 0 };
	char why[256];
	int rc = ini_parse(path, on_ini, &x);

	if (rc == -1) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	if (x.failed) {
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: line %d: syntax error", path, rc);
		return -1;
	}
	return 0;
}

int cfg_finish(struct cfg *c, char *err, size_t errlen)
{
	if (c->min_expires > c->max_expires) {
		snprintf(err, errlen, "min-expires (%u) is above max-expires (%u)", c->min_expires,
			 c->max_expires);
		return -1;
	}
	if (c->default_expires < c->min_expires || c->default_expires > c->max_expires) {
		snprintf(err, errlen, "default-expires (%u) must lie between min-expires (%u) and max-expires (%u)",
			 c->default_expires, c->min_expires, c->max_expires);
		return -1;
	}
	if (c->nlisten == 0) {
		add_listen(c, "udp:127.0.0.1:5060", err, errlen);
		add_listen(c, "tcp:127.0.0.1:5060", err, errlen);
	}
	if (c->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		c->workers = n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
	}
	return 0;
}

static bool alg_enabled(const struct cfg *c, enum auth_alg a)
{
	for (size_t i = 0; i < c->nalgs; i++)
		if (c->algs[i] == a)
			return true;
	return false;
}

size_t cfg_algs_for(const struct cfg *c, sl_t ua, enum auth_alg out[AUTH_MAX_ALGS])
{
	size_t n = 0;

	for (size_t i = 0; i < c->ncompat && n == 0; i++) {
		const struct cfg_compat *r = &c->compat[i];
		bool none = !strcmp(r->ua_prefix, "-");

		if (!(none && ua.len == 0) && !(!none && ua.len && sl_case_prefix(ua, r->ua_prefix)))
			continue;
		for (size_t j = 0; j < r->nalgs; j++)
			if (alg_enabled(c, r->algs[j]))
				out[n++] = r->algs[j];
		break;
	}
	if (n == 0) {
		memcpy(out, c->algs, c->nalgs * sizeof(*out));
		n = c->nalgs;
	}
	return n;
}
