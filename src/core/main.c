/*
 * main.c - the sipreg command line: serve, user, bindings.
 *
 * Every subcommand takes --config FILE and --db PATH the same way; flags
 * override the file, which overrides the built-in defaults.  A wrong flag
 * is one line on stderr and exit status 2.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/server.h"
#include "store/store.h"

#define SIPREG_VERSION "0.1.0"

static const char *prog = "sipreg";

static const char usage_main[] =
	"usage: sipreg <command> [options]\n"
	"\n"
	"commands:\n"
	"  serve                 run the registrar in the foreground\n"
	"  user add|del|passwd|list   manage subscribers in the store\n"
	"  bindings [AOR]        list current bindings, read from the store\n"
	"  version               print the version\n"
	"\n"
	"Run 'sipreg <command> --help' for the options of a command.\n";

static const char usage_serve[] =
	"usage: sipreg serve [options]\n"
	"\n"
	"Runs the registrar in the foreground, logging to stderr; SIGTERM or SIGINT stop it.\n"
	"Options override the config file, which overrides the defaults.\n"
	"\n"
	"  --config FILE             INI config file (see etc/sipreg.conf)\n"
	"  --listen PROTO:HOST:PORT  listen address, repeatable (default udp:127.0.0.1:5060\n"
	"                            and tcp:127.0.0.1:5060); e.g. tcp:[::1]:5060\n"
	"  --domain D                a domain served (the digest realm), repeatable;\n"
	"                            none: every domain that has subscribers\n"
	"  --db PATH                 SQLite store (default ./sipreg.db)\n"
	"  --min-expires N           shortest interval granted, else 423 (default 60)\n"
	"  --max-expires N           longest interval granted (default 3600)\n"
	"  --default-expires N       interval when the client names none (default 3600)\n"
	"  --max-contacts N          bindings per AOR (default 10)\n"
	"  --nonce-ttl SECONDS       lifetime of a digest nonce (default 300)\n"
	"  --digest-algorithms LIST  offered, in order (default SHA-256,MD5)\n"
	"  --log-level LEVEL         error, warn, info or debug (default info)\n"
	"  --workers N               worker threads (default: one per CPU)\n"
	"  --tcp-idle-timeout S      close idle TCP connections without live bindings (120)\n"
	"  --tcp-max-connections N   TCP connections in all (16384); when full, the\n"
	"                            longest-quiet one without a binding makes room\n"
	"  --max-message-size N      largest SIP message accepted, bytes (16384)\n"
	"  --user NAME               started as root: bind, then run as NAME\n"
	"\n"
	"Protections (per source address; an IPv6 source is its /64):\n"
	"  --rate-limit N            requests per second per source, 0 = off (1000);\n"
	"                            what is over is dropped unread\n"
	"  --ban-after N             failed authentications that ban a source, 0 = off (10)\n"
	"  --ban-window SECONDS      ... counted within this window (60)\n"
	"  --ban-time SECONDS        first ban; each further ban doubles it, up to a day (300)\n"
	"  --tcp-max-per-source N    TCP connections per source, 0 = no limit (1024)\n"
	"  --trusted CIDR            exempt from all of the above, repeatable\n"
	"                            (an SBC, a load generator); e.g. 10.0.0.0/8\n";

static const char usage_user[] =
	"usage: sipreg user add USER@DOMAIN [--password P]   (else the password is read from stdin)\n"
	"       sipreg user passwd USER@DOMAIN [--password P]\n"
	"       sipreg user del USER@DOMAIN\n"
	"       sipreg user list\n"
	"\n"
	"  --db PATH       SQLite store (default ./sipreg.db, or db= in the config)\n"
	"  --config FILE   INI config file\n"
	"\n"
	"Only HA1 digests (MD5 and SHA-256, realm = DOMAIN) are stored, never the password.\n"
	"A running server sees the change at once.\n";

static const char usage_bindings[] =
	"usage: sipreg bindings [AOR] [--db PATH] [--config FILE]\n"
	"\n"
	"Prints one line per current binding, read from the store:\n"
	"  AOR CONTACT expires=SECONDS_LEFT source=PROTO:IP:PORT call-id=... cseq=N ua=\"...\"\n";

/* Options ------------------------------------------------------------------ */

enum { OPT_HELP = 'h', OPT_BASE = 256 };

static const struct option serve_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "domain", required_argument, NULL, 'd' },
	{ "db", required_argument, NULL, 'b' },
	{ "min-expires", required_argument, NULL, OPT_BASE },
	{ "max-expires", required_argument, NULL, OPT_BASE },
	{ "default-expires", required_argument, NULL, OPT_BASE },
	{ "max-contacts", required_argument, NULL, OPT_BASE },
	{ "nonce-ttl", required_argument, NULL, OPT_BASE },
	{ "digest-algorithms", required_argument, NULL, OPT_BASE },
	{ "log-level", required_argument, NULL, OPT_BASE },
	{ "workers", required_argument, NULL, OPT_BASE },
	{ "tcp-idle-timeout", required_argument, NULL, OPT_BASE },
	{ "tcp-max-connections", required_argument, NULL, OPT_BASE },
	{ "max-message-size", required_argument, NULL, OPT_BASE },
	{ "user", required_argument, NULL, OPT_BASE },
	{ "rate-limit", required_argument, NULL, OPT_BASE },
	{ "ban-after", required_argument, NULL, OPT_BASE },
	{ "ban-window", required_argument, NULL, OPT_BASE },
	{ "ban-time", required_argument, NULL, OPT_BASE },
	{ "tcp-max-per-source", required_argument, NULL, OPT_BASE },
	{ "trusted", required_argument, NULL, OPT_BASE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option store_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'b' },
	{ "password", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void __attribute__((noreturn)) bad_usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s %s: ", prog, cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see '%s %s --help')\n", prog, cmd);
	exit(2);
}

static void __attribute__((noreturn)) die(const char *cmd, const char *msg)
{
	fprintf(stderr, "%s %s: %s\n", prog, cmd, msg);
	exit(1);
}

static void opt_error(const char *cmd, char **argv, const struct option *opts)
{
	const char *bad = argv[optind - 1];

	for (const struct option *o = opts; o->name; o++)
		if (o->has_arg == required_argument && !strncmp(bad, "--", 2) && !strcmp(bad + 2, o->name))
			bad_usage(cmd, "option '%s' needs a value", bad);
	bad_usage(cmd, "unknown option '%s'", bad);
}

/* Find --config first, so that the other flags override the file. */
static void load_config(struct cfg *c, const char *cmd, int argc, char **argv, const struct option *opts)
{
	const char *path = NULL;
	char err[512];
	int ch, idx;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, &idx)) != -1)
		if (ch == 'c')
			path = optarg;
	cfg_defaults(c);
	if (path && cfg_load_file(c, path, err, sizeof(err)) < 0)
		die(cmd, err);
	optind = 1;
}

/* Flags given on the command line replace a list from the file. */
static void apply_flag(struct cfg *c, const char *cmd, const char *name, const char *val,
		       bool *listen_seen, bool *domain_seen, bool *trusted_seen)
{
	char err[512];

	if (!strcmp(name, "trusted") && !*trusted_seen) {
		c->guard.ntrusted = 0;
		*trusted_seen = true;
	}
	if (!strcmp(name, "listen") && !*listen_seen) {
		c->nlisten = 0;
		*listen_seen = true;
	}
	if (!strcmp(name, "domain") && !*domain_seen) {
		c->ndomains = 0;
		*domain_seen = true;
	}
	if (cfg_set(c, name, val, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s %s: --%s\n", prog, cmd, err);
		exit(2);
	}
}

static int cmd_serve(int argc, char **argv)
{
	static struct cfg c;
	bool listen_seen = false, domain_seen = false, trusted_seen = false;
	char err[512];
	int ch, idx;

	load_config(&c, "serve", argc, argv, serve_opts);
	while ((ch = getopt_long(argc, argv, "h", serve_opts, &idx)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_serve, stdout);
			return 0;
		case 'c':
			break;
		case '?':
		case ':':
			opt_error("serve", argv, serve_opts);
			break;
		default:
			apply_flag(&c, "serve", serve_opts[idx].name, optarg, &listen_seen, &domain_seen,
				   &trusted_seen);
		}
	}
	if (optind < argc)
		bad_usage("serve", "unexpected argument '%s'", argv[optind]);
	if (cfg_finish(&c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s serve: %s\n", prog, err);
		return 2;
	}
	log_set_level(c.log_level);
	return server_run(&c);
}

/* Store subcommands ---------------------------------------------------------- */

struct store_args {
	struct cfg cfg;
	const char *password;
	char *pos[4];
	int npos;
};

static void parse_store_args(struct store_args *a, const char *cmd, int argc, char **argv,
			     const char *usage)
{
	int ch, idx;

	load_config(&a->cfg, cmd, argc, argv, store_opts);
	a->password = NULL;
	a->npos = 0;
	/* GNU getopt moves the positional arguments to the end. */
	while ((ch = getopt_long(argc, argv, "h", store_opts, &idx)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'c':
			break;
		case 'b':
			snprintf(a->cfg.db, sizeof(a->cfg.db), "%s", optarg);
			break;
		case 'p':
			a->password = optarg;
			break;
		default:
			opt_error(cmd, argv, store_opts);
		}
	}
	while (optind < argc && a->npos < 4)
		a->pos[a->npos++] = argv[optind++];
	if (optind < argc)
		bad_usage(cmd, "unexpected argument '%s'", argv[optind]);
}

static struct store *open_store(const char *cmd, const char *db)
{
	char err[512];
	struct store *s = store_open(db, err, sizeof(err));

	if (!s)
		die(cmd, err);
	return s;
}

/* "alice@example.com" or "sip:alice@example.com" -> user, lower-case domain. */
static int split_aor(const char *in, char *user, size_t ulen, char *domain, size_t dlen)
{
	const char *at;

	if (!strncasecmp(in, "sip:", 4))
		in += 4;
	else if (!strncasecmp(in, "sips:", 5))
		in += 5;
	at = strrchr(in, '@');
	if (!at || at == in || !at[1] || (size_t)(at - in) >= ulen || strlen(at + 1) >= dlen)
		return -1;
	memcpy(user, in, (size_t)(at - in));
	user[at - in] = '\0';
	for (size_t i = 0; at[1 + i]; i++)
		domain[i] = (char)tolower((unsigned char)at[1 + i]);
	domain[strlen(at + 1)] = '\0';
	if (strpbrk(user, " \t\r\n:;") || strpbrk(domain, " \t\r\n;@"))
		return -1;
	return 0;
}

static const char *read_password(char *buf, size_t cap)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	if (!fgets(buf, (int)cap, stdin))
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return buf;
}

static int user_set(struct store_args *a, const char *sub, bool must_exist)
{
	char user[256], domain[256], pwbuf[1024];
	char md5[AUTH_HA1_HEX_MAX + 1], sha[AUTH_HA1_HEX_MAX + 1];
	const char *pw = a->password;
	struct store *s;
	struct store_reader *r;
	struct store_user u;
	int exists;

	if (a->npos != 1 || split_aor(a->pos[0], user, sizeof(user), domain, sizeof(domain)) < 0)
		bad_usage(sub, "expected one USER@DOMAIN, got '%s'", a->npos ? a->pos[0] : "");
	if (!pw)
		pw = read_password(pwbuf, sizeof(pwbuf));
	if (!*pw)
		die(sub, "empty password");
	s = open_store(sub, a->cfg.db);
	r = store_reader_new(s);
	exists = r ? store_user_get(r, sl_cstr(user), sl_cstr(domain), &u) : -EIO;
	if (r)
		store_reader_free(r);
	if (exists != 0 && exists != -ENOENT)
		die(sub, "cannot read the store");
	if (must_exist && exists == -ENOENT)
		die(sub, "no such user (use 'sipreg user add')");
	if (!must_exist && exists == 0)
		die(sub, "user already exists (use 'sipreg user passwd')");
	auth_ha1(AUTH_MD5, user, domain, pw, md5);
	auth_ha1(AUTH_SHA256, user, domain, pw, sha);
	if (store_user_put(s, user, domain, md5, sha) < 0)
		die(sub, "cannot write to the store");
	store_close(s);
	printf("%s %s@%s\n", must_exist ? "updated" : "added", user, domain);
	return 0;
}

static int print_user(const char *user, const char *domain, void *arg)
{
	(void)arg;
	printf("%s@%s\n", user, domain);
	return 0;
}

static int cmd_user(int argc, char **argv)
{
	struct store_args a;
	char user[256], domain[256];
	const char *sub = argc > 1 ? argv[1] : "";
	struct store *s;
	int rc;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || argc < 2) {
		fputs(usage_user, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	parse_store_args(&a, "user", argc - 1, argv + 1, usage_user);
	if (!strcmp(sub, "add"))
		return user_set(&a, "user add", false);
	if (!strcmp(sub, "passwd"))
		return user_set(&a, "user passwd", true);
	if (!strcmp(sub, "del")) {
		if (a.npos != 1 || split_aor(a.pos[0], user, sizeof(user), domain, sizeof(domain)) < 0)
			bad_usage("user del", "expected one USER@DOMAIN, got '%s'", a.npos ? a.pos[0] : "");
		s = open_store("user del", a.cfg.db);
		rc = store_user_del(s, user, domain);
		store_close(s);
		if (rc == -ENOENT)
			die("user del", "no such user");
		if (rc < 0)
			die("user del", "cannot write to the store");
		printf("deleted %s@%s\n", user, domain);
		return 0;
	}
	if (!strcmp(sub, "list")) {
		if (a.npos)
			bad_usage("user list", "unexpected argument '%s'", a.pos[0]);
		s = open_store("user list", a.cfg.db);
		rc = store_user_list(s, print_user, NULL);
		store_close(s);
		return rc < 0 ? 1 : 0;
	}
	bad_usage("user", "unknown subcommand '%s'", sub);
}

struct print_ctx {
	time_t now;
	size_t n;
};

static int print_binding(const struct store_binding *b, void *arg)
{
	struct print_ctx *p = arg;

	printf("%s %s expires=%lld source=%s call-id=%s cseq=%u ua=\"%s\"\n", b->aor, b->contact,
	       (long long)(b->expires - p->now), b->source, b->call_id, b->cseq, b->user_agent);
	p->n++;
	return 0;
}

static int cmd_bindings(int argc, char **argv)
{
	struct store_args a;
	struct print_ctx p = { time(NULL), 0 };
	char user[256], domain[256], aor[520];
	struct store *s;
	int rc;

	parse_store_args(&a, "bindings", argc, argv, usage_bindings);
	if (a.npos > 1)
		bad_usage("bindings", "unexpected argument '%s'", a.pos[1]);
	if (a.npos == 1) {
		if (split_aor(a.pos[0], user, sizeof(user), domain, sizeof(domain)) < 0)
			bad_usage("bindings", "'%s' is not an address-of-record like alice@example.com",
				  a.pos[0]);
		snprintf(aor, sizeof(aor), "%s@%s", user, domain);
	}
	s = open_store("bindings", a.cfg.db);
	rc = store_list_bindings(s, a.npos ? aor : NULL, p.now, print_binding, &p);
	store_close(s);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "user"))
		return cmd_user(argc - 1, argv + 1);
	if (!strcmp(cmd, "bindings"))
		return cmd_bindings(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("sipreg %s\n", SIPREG_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (*cmd)
		fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, cmd, prog);
	else
		fputs(usage_main, stderr);
	return 2;
}
