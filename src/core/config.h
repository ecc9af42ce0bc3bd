/*
 * config.h - sipreg's settings: built-in defaults, then the INI file
 * (libinih), then command-line flags, each overriding the one before.
 */
#ifndef SR_CONFIG_H
#define SR_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "guard/guard.h"
#include "registrar/registrar.h"
#include "transport/transport.h"
#include "util/log.h"

#define CFG_MAX_COMPAT 32
#define CFG_UA_MAX 64

/*
 * A client-compatibility rule: requests whose User-Agent begins with
 * 'ua_prefix' (case-insensitive) are offered these algorithms, in order.
 * The prefix "-" matches requests without a User-Agent.
 */
struct cfg_compat {
	char ua_prefix[CFG_UA_MAX];
	enum auth_alg algs[AUTH_MAX_ALGS];
	size_t nalgs;
};

struct cfg {
	struct tp_listen listen[TP_MAX_LISTEN];
	size_t nlisten;
	char domains[REG_MAX_DOMAINS][256];
	size_t ndomains;
	char db[PATH_MAX];
	unsigned min_expires, max_expires, default_expires, max_contacts;
	unsigned nonce_ttl;
	enum auth_alg algs[AUTH_MAX_ALGS];
	size_t nalgs;
	struct cfg_compat compat[CFG_MAX_COMPAT];
	size_t ncompat;
	bool compat_from_file;      /* the file's [compat] replaces the built-in rules */
	enum log_level log_level;
	unsigned workers;
	size_t max_msg;
	unsigned tcp_max_conns;     /* the whole server's; split between workers */
	unsigned tcp_idle_timeout, tcp_header_timeout;
	struct guard_cfg guard;     /* rate limit, bans, trusted networks, TCP per source */
	char user[64];              /* run as this user after binding (started as root) */
};

void cfg_defaults(struct cfg *c);
/* Load an INI file over c.  Returns 0, or -1 with a one-line reason in err. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);

/* Setters shared by the INI reader and the flags; -1 with err on a bad value. */
int cfg_set(struct cfg *c, const char *key, const char *val, char *err, size_t errlen);
/* Check cross-field rules (min <= default <= max ...) and fill listen defaults. */
int cfg_finish(struct cfg *c, char *err, size_t errlen);

/*
 * The algorithms to offer a request with this User-Agent (empty slice when
 * it has none): the first matching compat rule's list, restricted to the
 * configured digest-algorithms; the configured list when no rule matches
 * or nothing is left.  Returns the count written to out.
 */
size_t cfg_algs_for(const struct cfg *c, sl_t user_agent, enum auth_alg out[AUTH_MAX_ALGS]);

#endif
