/*
 * test_save.c - reg_save()/reg_finish(): the binding rules of RFC 3261
 * §10.3 against a real (temporary) SQLite store and real digest
 * authentication.
 *
 * Every test gets a fresh store holding alice@example.com (password
 * "secret"), a fresh auth context and a registrar with min 60, max 3600,
 * default 3600, at most 3 contacts, serving example.com only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "registrar/registrar.h"
#include "sip/sip.h"
#include "store/store.h"

#define AOR "alice@example.com"
#define C1 "<sip:alice@127.0.0.1:5071>"
#define C2 "<sip:alice@127.0.0.1:5072>"
#define C3 "<sip:alice@127.0.0.1:5073>"
#define C4 "<sip:alice@127.0.0.1:5074>"

#define RESP_CAP 16384
#define MAX_PARK 4

struct fx {
	char path[64];
	struct store *st;
	struct store_reader *rd;
	struct auth_ctx *auth;
	struct reg *r;
	struct reg_cfg cfg;
	struct reg_thread t;
	time_t now;
	enum auth_alg alg;
	/* current challenge */
	char nonce[AUTH_NONCE_MAX + 1];
	char opaque[128];
	time_t nonce_at;
	unsigned nc;
	unsigned branch;
	/* last response, NUL-terminated */
	char resp[RESP_CAP + 1];
	size_t resp_len;
	/* park() calls */
	struct reg_waiter wt[MAX_PARK];
	char park_user[MAX_PARK][64];
	int nparked;
	bool park_refuse;
};

/* A REGISTER to build.  Unset fields take the defaults noted. */
struct rq {
	const char *ruri;      /* "sip:example.com" */
	const char *to;        /* "sip:alice@example.com" */
	const char *call_id;   /* "call-1@test" */
	unsigned cseq;         /* 1 */
	const char *hdrs;      /* extra header lines (Contact, Expires ...), each "...\r\n" */
	time_t now;            /* fx->now */
	const char *user;      /* "alice" (Authorization username) */
	const char *pass;      /* "secret" */
	unsigned nc;           /* 0: the next nonce-count */
	bool keep_nonce;       /* use the current nonce whatever its age */
};

/* Fixture ------------------------------------------------------------------ */

static struct reg_cfg default_cfg(void)
{
	struct reg_cfg c = {
		.min_expires = 60,
		.max_expires = 3600,
		.default_expires = 3600,
		.max_contacts = 3,
		.domains = { "example.com" },
		.ndomains = 1,
	};
	return c;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256], md5[AUTH_HA1_HEX_MAX + 1], sha[AUTH_HA1_HEX_MAX + 1];
	int fd;

	assert_non_null(f);
	strcpy(f->path, "/tmp/sipreg-save-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	f->st = store_open(f->path, err, sizeof(err));
	if (!f->st)
		print_error("store_open: %s\n", err);
	assert_non_null(f->st);
	auth_ha1(AUTH_MD5, "alice", "example.com", "secret", md5);
	auth_ha1(AUTH_SHA256, "alice", "example.com", "secret", sha);
	assert_int_equal(store_user_put(f->st, "alice", "example.com", md5, sha), 0);
	auth_ha1(AUTH_MD5, "bob", "example.com", "bobpw", md5);
	auth_ha1(AUTH_SHA256, "bob", "example.com", "bobpw", sha);
	assert_int_equal(store_user_put(f->st, "bob", "example.com", md5, sha), 0);
	f->rd = store_reader_new(f->st);
	assert_non_null(f->rd);
	f->auth = auth_new(300, 1024);
	assert_non_null(f->auth);
	f->cfg = default_cfg();
	f->r = reg_new(&f->cfg);
	assert_non_null(f->r);
	f->t.auth = f->auth;
	f->t.reader = f->rd;
	f->now = time(NULL);
	f->alg = AUTH_SHA256;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[96];

	reg_free(f->r);
	auth_free(f->auth);
	store_reader_free(f->rd);
	store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* Replace the registrar (same store and auth) with one configured by c. */
static void fx_reconfig(struct fx *f, const struct reg_cfg *c)
{
	reg_free(f->r);
	f->cfg = *c;
	f->r = reg_new(&f->cfg);
	assert_non_null(f->r);
}

/* Messages ------------------------------------------------------------------ */

static const char *or_def(const char *s, const char *d) { return s ? s : d; }

/* The request text; 'authz' is a complete Authorization value or NULL. */
static size_t build(struct fx *f, const struct rq *q, const char *authz, char *buf, size_t cap)
{
	const char *to = or_def(q->to, "sip:alice@example.com");
	int n;

	n = snprintf(buf, cap,
		     "REGISTER %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-t%u;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <%s>;tag=ft1\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "%s%s%s"
		     "%s"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     or_def(q->ruri, "sip:example.com"), ++f->branch, to, to,
		     or_def(q->call_id, "call-1@test"), q->cseq ? q->cseq : 1,
		     authz ? "Authorization: " : "", authz ? authz : "", authz ? "\r\n" : "",
		     or_def(q->hdrs, ""));
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static struct reg_waiter *park_cb(void *arg, sl_t user)
{
	struct fx *f = arg;
	int i = f->nparked;

	if (f->park_refuse || i == MAX_PARK)
		return NULL;
	snprintf(f->park_user[i], sizeof(f->park_user[i]), "%.*s", (int)user.len, user.p);
	f->nparked++;
	return &f->wt[i];
}

/* reg_save on the text; the response goes to f->resp. */
static enum reg_rc save_text(struct fx *f, const char *text, size_t len, time_t now,
			     struct reg_stage **stage)
{
	static const char source[] = "udp:127.0.0.1:5062";
	struct sip_resp_src src = { "127.0.0.1", 5062 };
	char *buf = malloc(len), mem[RESP_CAP];
	struct sip_msg *m = calloc(1, sizeof(*m));
	struct sip_perr err;
	struct obuf b;
	enum reg_rc rc;
	enum auth_alg algs[1] = { f->alg };

	assert_non_null(buf);
	assert_non_null(m);
	memcpy(buf, text, len);  /* exact size: ASan sees any over-read */
	if (sip_msg_parse(m, buf, len, false, &err) != 0)
		print_error("parse: %d %s\n%.*s\n", err.status, err.reason, (int)len, text);
	assert_int_equal(sip_msg_parse(m, buf, len, false, &err), 0);

	struct reg_req q = {
		.m = m, .src = &src, .source = source, .to_tag = SL("totag1"),
		.now = now, .algs = algs, .nalgs = 1,
		.park = park_cb, .arg = f,
	};
	ob_init(&b, mem, sizeof(mem));
	*stage = NULL;
	rc = reg_save(f->r, &f->t, &q, &b, stage);
	assert_false(b.overflow);
	memcpy(f->resp, mem, b.len);
	f->resp[b.len] = '\0';
	f->resp_len = b.len;
	if (rc == REG_COMMIT)
		assert_non_null(*stage);
	else
		assert_null(*stage);
	free(m);
	free(buf);
	return rc;
}

/* The value of param name="..." in s (quoted form), copied into out. */
static void quoted_param(const char *s, const char *name, char *out, size_t cap)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "%s=\"", name);
	p = strstr(s, pat);
	if (!p)
		print_error("no %s in:\n%s\n", pat, s);
	assert_non_null(p);
	p += strlen(pat);
	e = strchr(p, '"');
	assert_non_null(e);
	assert_true((size_t)(e - p) < cap);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static bool is_status(const struct fx *f, int status)
{
	char want[32];

	snprintf(want, sizeof(want), "SIP/2.0 %d ", status);
	return strncmp(f->resp, want, strlen(want)) == 0;
}

#define assert_status(f, st)                                                        \
	do {                                                                        \
		if (!is_status((f), (st)))                                          \
			print_error("expected %d, got:\n%s\n", (st), (f)->resp);    \
		assert_true(is_status((f), (st)));                                  \
	} while (0)

#define assert_has(f, s)                                                            \
	do {                                                                        \
		if (!strstr((f)->resp, (s)))                                        \
			print_error("[%s] missing from:\n%s\n", (s), (f)->resp);    \
		assert_non_null(strstr((f)->resp, (s)));                            \
	} while (0)

#define assert_lacks(f, s)                                                          \
	do {                                                                        \
		if (strstr((f)->resp, (s)))                                         \
			print_error("[%s] unexpected in:\n%s\n", (s), (f)->resp);   \
		assert_null(strstr((f)->resp, (s)));                                \
	} while (0)

static unsigned count_of(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* Contact lines in the last response. */
static unsigned resp_contacts(const struct fx *f) { return count_of(f->resp, "\r\nContact: "); }

/* A fresh challenge (nonce, opaque) for time now. */
static void challenge(struct fx *f, time_t now)
{
	struct rq q = { .call_id = "challenge@test" };
	char text[1024];
	size_t n = build(f, &q, NULL, text, sizeof(text));
	struct reg_stage *st;

	assert_int_equal(save_text(f, text, n, now, &st), REG_REPLY);
	assert_status(f, 401);
	quoted_param(f->resp, "nonce", f->nonce, sizeof(f->nonce));
	quoted_param(f->resp, "opaque", f->opaque, sizeof(f->opaque));
	f->nonce_at = now;
	f->nc = 0;
}

/* Send q with an Authorization computed for q->user/q->pass, for the
 * current nonce (a fresh one when it is older than a minute) and the next
 * nonce-count, or q->nc.  f->nc holds the last nonce-count used. */
static enum reg_rc send_auth(struct fx *f, const struct rq *q, struct reg_stage **stage)
{
	time_t now = q->now ? q->now : f->now;
	const char *user = or_def(q->user, "alice"), *ruri = or_def(q->ruri, "sip:example.com");
	char ha1[AUTH_HA1_HEX_MAX + 1], rsp[AUTH_HA1_HEX_MAX + 1], nc[9];
	char authz[1024], text[4096];
	size_t n;

	if (!f->nonce[0] ||
	    (!q->keep_nonce && (now - f->nonce_at > 60 || f->nonce_at - now > 0)))
		challenge(f, now);
	if (q->nc)
		snprintf(nc, sizeof(nc), "%08x", q->nc);
	else
		snprintf(nc, sizeof(nc), "%08x", ++f->nc);
	auth_ha1(f->alg, user, "example.com", or_def(q->pass, "secret"), ha1);
	auth_response(f->alg, sl_cstr(ha1), sl_cstr(f->nonce), sl_cstr(nc), SL("0a4f113b"),
		      SL("auth"), SL("REGISTER"), sl_cstr(ruri), rsp);
	snprintf(authz, sizeof(authz),
		 "Digest username=\"%s\", realm=\"example.com\", nonce=\"%s\", uri=\"%s\", "
		 "response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\", opaque=\"%s\", qop=auth, nc=%s",
		 user, f->nonce, ruri, rsp, auth_alg_name(f->alg), f->opaque, nc);
	n = build(f, q, authz, text, sizeof(text));
	return save_text(f, text, n, now, stage);
}

/* Send without any Authorization. */
static enum reg_rc send_noauth(struct fx *f, const struct rq *q)
{
	char text[4096];
	size_t n = build(f, q, NULL, text, sizeof(text));
	struct reg_stage *st;

	return save_text(f, text, n, q->now ? q->now : f->now, &st);
}

/* Commit a stage to the store and finish it (result 0); returns the waiters. */
static struct reg_waiter *commit(struct fx *f, struct reg_stage *st)
{
	struct reg_waiter *w = (struct reg_waiter *)1;
	char mem[RESP_CAP];
	struct obuf b;
	size_t nch;
	const struct store_change *ch = reg_stage_changes(st, &nch);

	assert_true(nch > 0);
	assert_int_equal(store_apply(f->st, ch, nch), 0);
	ob_init(&b, mem, sizeof(mem));
	reg_finish(f->r, st, 0, &b, &w);
	assert_false(b.overflow);
	memcpy(f->resp, mem, b.len);
	f->resp[b.len] = '\0';
	f->resp_len = b.len;
	return w;
}

/* Send with auth and, if staged, commit and finish: the final answer is in
 * f->resp.  Returns the status code. */
static int send_ok(struct fx *f, const struct rq *q)
{
	struct reg_stage *st;
	enum reg_rc rc = send_auth(f, q, &st);

	assert_int_not_equal(rc, REG_PARKED);
	if (rc == REG_COMMIT)
		assert_null(commit(f, st));
	return atoi(f->resp + 8);
}

/* Shorthand: register contact header text hdrs (Call-ID, CSeq given). */
static int reg_c(struct fx *f, const char *hdrs, const char *call_id, unsigned cseq)
{
	struct rq q = { .hdrs = hdrs, .call_id = call_id, .cseq = cseq };

	return send_ok(f, &q);
}

/* A query (no Contact) at time now (0: f->now); leaves the listing in f->resp. */
static void query_at(struct fx *f, time_t now)
{
	struct rq q = { .call_id = "query@test", .now = now };

	assert_int_equal(send_ok(f, &q), 200);
}

static int count_cb(const struct store_binding *b, void *arg)
{
	(void)b;
	(*(unsigned *)arg)++;
	return 0;
}

/* Live bindings of alice in the store at time now. */
static unsigned store_count(struct fx *f, time_t now)
{
	unsigned n = 0;

	assert_int_equal(store_list_bindings(f->st, AOR, now, count_cb, &n), 0);
	return n;
}

/* Tests: authentication ---------------------------------------------------- */

static void test_no_credentials_401(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n" };

	assert_int_equal(send_noauth(f, &q), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "\r\nWWW-Authenticate: Digest ");
	assert_has(f, "realm=\"example.com\"");
	assert_has(f, "qop=\"auth\"");
	assert_has(f, "algorithm=SHA-256");
	assert_lacks(f, "stale");
	assert_has(f, "\r\nTo: <sip:alice@example.com>;tag=totag1\r\n");
	assert_int_equal(reg_binding_count(f->r), 0);
}

static void test_wrong_password_401(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n", .pass = "wrong" };
	struct reg_stage *st;

	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "WWW-Authenticate: Digest ");
	assert_lacks(f, "stale");
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(store_count(f, f->now), 0);
}

static void test_replay_stale(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n", .cseq = 1 };
	struct reg_stage *st;
	unsigned used;

	assert_int_equal(send_ok(f, &q), 200);
	used = f->nc;
	/* The same nonce and nc again, now carrying another contact. */
	q.hdrs = "Contact: " C2 "\r\n";
	q.cseq = 2;
	q.nc = used;
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "stale=true");
	assert_int_equal(reg_binding_count(f->r), 1);
	/* And the unchanged request replayed as is. */
	q.hdrs = "Contact: " C1 "\r\n";
	q.cseq = 1;
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "stale=true");
	query_at(f, 0);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	assert_lacks(f, C2);
	assert_int_equal(store_count(f, f->now), 1);
}

static void test_md5_challenge_and_auth(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n" };

	f->alg = AUTH_MD5;
	assert_int_equal(send_noauth(f, &q), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "algorithm=MD5");
	assert_lacks(f, "SHA-256");
	assert_int_equal(send_ok(f, &q), 200);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
}

static void test_expired_nonce_stale(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n", .cseq = 1 };
	struct reg_stage *st;

	assert_int_equal(send_ok(f, &q), 200);
	/* the same nonce, a new nc, after the nonce TTL (300 s) */
	q.cseq = 2;
	q.hdrs = "Contact: " C2 "\r\n";
	q.now = f->now + 301;
	q.keep_nonce = true;
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 401);
	assert_has(f, "stale=true");
	/* an expired nonce with a wrong password: no stale (it would confirm the password) */
	q.pass = "wrong";
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 401);
	assert_lacks(f, "stale");
	assert_int_equal(reg_binding_count(f->r), 1);
}

/* Tests: registering and refreshing ---------------------------------------- */

static void test_register_200(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 1), 200);
	assert_has(f, "\r\nContact: " C1 ";expires=3600\r\n");
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "\r\nDate: ");
	assert_has(f, " GMT\r\n");
	assert_has(f, "\r\nCSeq: 1 REGISTER\r\n");
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(reg_aor_count(f->r), 1);
	assert_int_equal(store_count(f, f->now), 1);
}

static void test_refresh_higher_cseq(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 ";expires=600\r\n", .call_id = "c1", .cseq = 5 };

	assert_int_equal(send_ok(f, &q), 200);
	assert_has(f, "Contact: " C1 ";expires=600\r\n");
	q.hdrs = "Contact: " C1 "\r\n";
	q.cseq = 6;
	q.now = f->now + 10;
	assert_int_equal(send_ok(f, &q), 200);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(store_count(f, f->now), 1);
}

static void test_same_callid_lower_or_equal_cseq_400(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=600\r\n", "c1", 5), 200);
	/* lower */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=120\r\n", "c1", 4), 400);
	/* equal */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=120\r\n", "c1", 5), 400);
	/* removal with an old CSeq is refused too */
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 0\r\n", "c1", 5), 400);
	/* one good new contact + one out of order: neither applied (both orders) */
	assert_int_equal(reg_c(f, "Contact: " C2 ", " C1 ";expires=120\r\n", "c1", 3), 400);
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=120\r\nContact: " C2 "\r\n", "c1", 3),
			 400);
	assert_int_equal(reg_binding_count(f->r), 1);
	query_at(f, 0);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "Contact: " C1 ";expires=600\r\n");
	assert_int_equal(store_count(f, f->now), 1);
}

static void test_other_callid_updates(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 50), 200);
	/* A lower CSeq is fine from another Call-ID (e.g. after a reboot). */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=120\r\n", "c2", 1), 200);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "Contact: " C1 ";expires=120\r\n");
	assert_int_equal(reg_binding_count(f->r), 1);
	/* ... and the new Call-ID is what is now ordered: c2 CSeq 1 again is old */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=300\r\n", "c2", 1), 400);
	/* while c1 (no longer the binding's) may come back with any CSeq */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=300\r\n", "c1", 2), 200);
	assert_has(f, "Contact: " C1 ";expires=300\r\n");
	assert_int_equal(store_count(f, f->now), 1);
}

/* Tests: expiry ------------------------------------------------------------- */

static void test_expires_zero_removes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nContact: " C2 "\r\n", "c1", 1), 200);
	assert_int_equal(reg_binding_count(f->r), 2);
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 0\r\n", "c1", 2), 200);
	assert_int_equal(resp_contacts(f), 1);
	assert_lacks(f, C1);
	assert_has(f, "Contact: " C2 ";expires=3600\r\n");
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(store_count(f, f->now), 1);
	/* and with the contact's own expires=0 (other Call-ID) */
	assert_int_equal(reg_c(f, "Contact: " C2 ";expires=0\r\n", "c9", 1), 200);
	assert_int_equal(resp_contacts(f), 0);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_aor_count(f->r), 0);
	assert_int_equal(store_count(f, f->now), 0);
}

static void test_contact_expires_beats_header(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=120, " C2 "\r\nExpires: 1800\r\n", "c1", 1),
			 200);
	assert_has(f, "Contact: " C1 ";expires=120\r\n");
	assert_has(f, "Contact: " C2 ";expires=1800\r\n");
}

static void test_expires_above_max_lowered(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 7200\r\n", "c1", 1), 200);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=99999999999\r\n", "c1", 2), 200);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
}

static void test_interval_too_brief_423(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=30\r\n", "c1", 1), 423);
	assert_has(f, "\r\nMin-Expires: 60\r\n");
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 59\r\n", "c1", 2), 423);
	assert_has(f, "\r\nMin-Expires: 60\r\n");
	/* exactly the minimum is fine */
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 60\r\n", "c1", 3), 200);
	assert_has(f, "Contact: " C1 ";expires=60\r\n");
	/* one brief contact among good ones refuses the whole request */
	assert_int_equal(reg_c(f, "Contact: " C2 ", " C3 ";expires=1\r\n", "c1", 4), 423);
	assert_int_equal(reg_binding_count(f->r), 1);
}

static void test_expires_zero_never_423(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 1), 200);
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: 0\r\n", "c1", 2), 200);
	assert_int_equal(reg_binding_count(f->r), 0);
	/* removing what is not bound: still a 200, not a 423 */
	assert_int_equal(reg_c(f, "Contact: " C2 ";expires=0\r\n", "c1", 3), 200);
	assert_int_equal(resp_contacts(f), 0);
	assert_int_equal(reg_binding_count(f->r), 0);
}

static void test_malformed_expires_default(void **state)
{
	struct fx *f = *state;
	struct reg_cfg c = default_cfg();

	/* A default distinct from the maximum, to see which one applies. */
	c.default_expires = 1800;
	fx_reconfig(f, &c);
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: soon\r\n", "c1", 1), 200);
	assert_has(f, "Contact: " C1 ";expires=1800\r\n");
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nExpires: Thu, 01 Dec 2044 16:00:00 GMT\r\n",
			       "c1", 2), 200);
	assert_has(f, "Contact: " C1 ";expires=1800\r\n");
	/* a malformed contact expires param falls back to the header */
	assert_int_equal(reg_c(f, "Contact: " C1 ";expires=abc\r\nExpires: 900\r\n", "c1", 3), 200);
	assert_has(f, "Contact: " C1 ";expires=900\r\n");
	/* no expiry anywhere: the default */
	assert_int_equal(reg_c(f, "Contact: " C2 "\r\n", "c1", 4), 200);
	assert_has(f, "Contact: " C2 ";expires=1800\r\n");
}

/* Tests: wildcard ----------------------------------------------------------- */

static void test_wildcard_removes_all(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ", " C2 "\r\n", "c1", 1), 200);
	assert_int_equal(reg_c(f, "Contact: " C3 "\r\n", "c3", 1), 200);
	assert_int_equal(reg_binding_count(f->r), 3);
	assert_int_equal(reg_c(f, "Contact: *\r\nExpires: 0\r\n", "c9", 1), 200);
	assert_int_equal(resp_contacts(f), 0);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_aor_count(f->r), 0);
	assert_int_equal(store_count(f, f->now), 0);
	/* with nothing bound it is a harmless 200 */
	assert_int_equal(reg_c(f, "Contact: *\r\nExpires: 0\r\n", "c9", 2), 200);
	assert_int_equal(resp_contacts(f), 0);
}

static void test_wildcard_needs_expires_zero(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 1), 200);
	assert_int_equal(reg_c(f, "Contact: *\r\n", "c9", 1), 400);
	assert_int_equal(reg_c(f, "Contact: *\r\nExpires: 60\r\n", "c9", 2), 400);
	assert_int_equal(reg_c(f, "Contact: *\r\nExpires: soon\r\n", "c9", 3), 400);
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(store_count(f, f->now), 1);
}

static void test_wildcard_with_other_contact_400(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 1), 200);
	assert_int_equal(reg_c(f, "Contact: *, " C2 "\r\nExpires: 0\r\n", "c9", 1), 400);
	assert_int_equal(reg_c(f, "Contact: " C2 ", *\r\nExpires: 0\r\n", "c9", 2), 400);
	assert_int_equal(reg_c(f, "Contact: *\r\nContact: " C2 "\r\nExpires: 0\r\n", "c9", 3), 400);
	assert_int_equal(reg_c(f, "Contact: *\r\nContact: *\r\nExpires: 0\r\n", "c9", 4), 400);
	assert_int_equal(reg_binding_count(f->r), 1);
	query_at(f, 0);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	assert_lacks(f, C2);
}

/* Tests: contact syntax ----------------------------------------------------- */

static void test_bad_qvalue_400(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ";q=1.5\r\n", "c1", 1), 400);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_c(f, "Contact: " C1 ";q=1\r\n", "c1", 2), 200);
	assert_has(f, "Contact: " C1 ";q=1;expires=3600\r\n");
}

static void test_contact_params_kept(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		reg_c(f,
		      "Contact: <sip:a@127.0.0.1:5070;transport=tcp>"
		      ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""
		      ";reg-id=1;q=0.5;expires=120\r\n",
		      "c1", 1),
		200);
	assert_has(f, "\r\nContact: <sip:a@127.0.0.1:5070;transport=tcp>"
		      ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""
		      ";reg-id=1;q=0.5;expires=120\r\n");
	assert_int_equal(count_of(f->resp, "expires="), 1);
	/* the expires param is rewritten, wherever it was */
	assert_int_equal(reg_c(f,
			       "Contact: <sip:a@127.0.0.1:5070;transport=tcp>;expires=300"
			       ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""
			       ";reg-id=1\r\n",
			       "c1", 2),
			 200);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "\r\nContact: <sip:a@127.0.0.1:5070;transport=tcp>"
		      ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""
		      ";reg-id=1;expires=300\r\n");
}

static void test_uri_comparison(void **state)
{
	struct fx *f = *state;

	/* The user part is case-sensitive: two bindings. */
	assert_int_equal(reg_c(f, "Contact: <sip:alice@127.0.0.1:5070>\r\n", "c1", 1), 200);
	assert_int_equal(reg_c(f, "Contact: <sip:ALICE@127.0.0.1:5070>\r\n", "c1", 2), 200);
	assert_int_equal(reg_binding_count(f->r), 2);
	assert_int_equal(resp_contacts(f), 2);
	/* The host is not: one binding, updated. */
	assert_int_equal(reg_c(f, "Contact: *\r\nExpires: 0\r\n", "c1", 3), 200);
	assert_int_equal(reg_c(f, "Contact: <sip:alice@localhost:5070>;expires=600\r\n", "c1", 4), 200);
	assert_int_equal(reg_c(f, "Contact: <sip:alice@LOCALHOST:5070>;expires=300\r\n", "c1", 5), 200);
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, "Contact: <sip:alice@LOCALHOST:5070>;expires=300\r\n");
	/* ... so the old CSeq rule applies across the case difference */
	assert_int_equal(reg_c(f, "Contact: <sip:alice@Localhost:5070>;expires=900\r\n", "c1", 5), 400);
	/* An explicit default port is not the same URI as none (§19.1.4). */
	assert_int_equal(reg_c(f, "Contact: <sip:alice@localhost:5060>\r\n", "c1", 6), 200);
	assert_int_equal(reg_c(f, "Contact: <sip:alice@localhost>\r\n", "c1", 7), 200);
	assert_int_equal(reg_binding_count(f->r), 3);
}

static void test_to_aor_canonical(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\n", .call_id = "c1", .cseq = 1 };

	assert_int_equal(send_ok(f, &q), 200);
	/* escaped user, sips scheme, upper-case host: the same AOR */
	q.to = "sip:%61lice@example.com";
	q.hdrs = "Contact: " C2 "\r\n";
	q.cseq = 2;
	assert_int_equal(send_ok(f, &q), 200);
	assert_int_equal(resp_contacts(f), 2);
	q.to = "sips:alice@EXAMPLE.com";
	q.hdrs = "Contact: " C3 "\r\n";
	q.cseq = 3;
	assert_int_equal(send_ok(f, &q), 200);
	assert_int_equal(resp_contacts(f), 3);
	assert_int_equal(reg_aor_count(f->r), 1);
	assert_int_equal(store_count(f, f->now), 3);
}

/* Tests: query -------------------------------------------------------------- */

static void test_query_lists_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct rq q = { .call_id = "c1", .cseq = 1 };
	struct reg_stage *st;

	/* query with nothing bound */
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 200);
	assert_int_equal(resp_contacts(f), 0);
	assert_has(f, "\r\nDate: ");
	assert_int_equal(reg_aor_count(f->r), 0);

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\nContact: " C2 ";expires=600\r\n", "c1", 2), 200);
	q.cseq = 3;
	q.now = f->now + 100;
	assert_int_equal(send_auth(f, &q, &st), REG_REPLY);
	assert_status(f, 200);
	assert_int_equal(resp_contacts(f), 2);
	assert_has(f, "Contact: " C1 ";expires=3500\r\n");
	assert_has(f, "Contact: " C2 ";expires=500\r\n");
	assert_has(f, "\r\nDate: ");
	assert_int_equal(reg_binding_count(f->r), 2);
	/* the query did not move the CSeq: CSeq 3 is still new for c1 */
	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 3), 200);
}

/* Tests: contact limit ------------------------------------------------------ */

static void test_max_contacts_oldest_replaced(void **state)
{
	struct fx *f = *state;
	const char *c[] = { C1, C2, C3, C4 };
	char hdrs[128];

	for (unsigned i = 0; i < 4; i++) {
		struct rq q = { .hdrs = hdrs, .call_id = "c1", .cseq = i + 1, .now = f->now + i };

		snprintf(hdrs, sizeof(hdrs), "Contact: %s\r\n", c[i]);
		assert_int_equal(send_ok(f, &q), 200);
	}
	assert_int_equal(resp_contacts(f), 3);
	assert_lacks(f, C1);
	assert_has(f, C2);
	assert_has(f, C3);
	assert_has(f, C4);
	assert_int_equal(reg_binding_count(f->r), 3);
	assert_int_equal(store_count(f, f->now), 3);

	/* a refresh of the oldest makes C3 the oldest */
	{
		struct rq q = { .hdrs = "Contact: " C2 "\r\n", .call_id = "c1", .cseq = 10,
				.now = f->now + 10 };
		assert_int_equal(send_ok(f, &q), 200);
		q.hdrs = "Contact: " C1 "\r\n";
		q.cseq = 11;
		q.now = f->now + 11;
		assert_int_equal(send_ok(f, &q), 200);
	}
	assert_int_equal(resp_contacts(f), 3);
	assert_lacks(f, C3);
	assert_has(f, C1);
	assert_has(f, C2);
	assert_has(f, C4);
	assert_int_equal(store_count(f, f->now), 3);
}

static void test_max_contacts_one_request_403(void **state)
{
	struct fx *f = *state;

	assert_int_equal(reg_c(f, "Contact: " C1 ", " C2 ", " C3 ", " C4 "\r\n", "c1", 1), 403);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(store_count(f, f->now), 0);
	/* exactly the limit is fine */
	assert_int_equal(reg_c(f, "Contact: " C1 ", " C2 ", " C3 "\r\n", "c1", 2), 200);
	assert_int_equal(resp_contacts(f), 3);
}

/* Tests: authorisation and routing ------------------------------------------- */

static void test_other_users_aor_403(void **state)
{
	struct fx *f = *state;
	struct rq q = { .to = "sip:bob@example.com", .hdrs = "Contact: " C1 "\r\n" };

	assert_int_equal(send_ok(f, &q), 403);
	assert_int_equal(reg_binding_count(f->r), 0);
	/* bob himself may */
	q.user = "bob";
	q.pass = "bobpw";
	q.cseq = 2;
	assert_int_equal(send_ok(f, &q), 200);
}

static void test_to_domain_mismatch_404(void **state)
{
	struct fx *f = *state;
	struct rq q = { .to = "sip:alice@example.org", .hdrs = "Contact: " C1 "\r\n" };

	assert_int_equal(send_ok(f, &q), 404);
	assert_lacks(f, "WWW-Authenticate");
	assert_int_equal(reg_binding_count(f->r), 0);
}

static void test_ruri_domain_not_served_404(void **state)
{
	struct fx *f = *state;
	struct rq q = { .ruri = "sip:example.org", .to = "sip:alice@example.org",
			.hdrs = "Contact: " C1 "\r\n" };

	assert_int_equal(send_noauth(f, &q), REG_REPLY);
	assert_status(f, 404);
	assert_lacks(f, "WWW-Authenticate");
}

static void test_require_420(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C1 "\r\nRequire: foo\r\n" };

	assert_int_equal(send_noauth(f, &q), REG_REPLY);
	assert_status(f, 420);
	assert_has(f, "\r\nUnsupported: foo\r\n");
	assert_lacks(f, "WWW-Authenticate");
	q.hdrs = "Contact: " C1 "\r\nRequire: foo, bar\r\nRequire: baz\r\n";
	assert_int_equal(send_noauth(f, &q), REG_REPLY);
	assert_status(f, 420);
	assert_has(f, "\r\nUnsupported: foo, bar, baz\r\n");
	assert_int_equal(reg_binding_count(f->r), 0);
}

/* Tests: commit, busy AOR ----------------------------------------------------- */

static void test_commit_failure_503(void **state)
{
	struct fx *f = *state;
	struct rq q = { .hdrs = "Contact: " C2 "\r\n", .call_id = "c1", .cseq = 2 };
	struct reg_waiter *w = (struct reg_waiter *)1;
	struct reg_stage *st;
	char mem[RESP_CAP];
	struct obuf b;

	assert_int_equal(reg_c(f, "Contact: " C1 "\r\n", "c1", 1), 200);
	assert_int_equal(send_auth(f, &q, &st), REG_COMMIT);
	ob_init(&b, mem, sizeof(mem));
	reg_finish(f->r, st, -EIO, &b, &w);
	assert_null(w);
	memcpy(f->resp, mem, b.len);
	f->resp[b.len] = '\0';
	assert_status(f, 503);
	assert_has(f, "\r\nRetry-After: ");
	assert_has(f, "\r\nCSeq: 2 REGISTER\r\n");
	assert_has(f, "\r\nCall-ID: c1\r\n");
	assert_has(f, "\r\nVia: ");
	assert_lacks(f, "Contact:");
	assert_int_equal(reg_binding_count(f->r), 1);
	query_at(f, 0);
	assert_int_equal(resp_contacts(f), 1);
	assert_has(f, C1);
	assert_lacks(f, C2);
	/* the AOR is not left busy: the same request goes through now */
	q.cseq = 3;
	assert_int_equal(send_ok(f, &q), 200);
	assert_int_equal(resp_contacts(f), 2);

	/* a failed first registration leaves nothing behind */
	{
		struct rq q2 = { .to = "sip:bob@example.com", .user = "bob", .pass = "bobpw",
				 .hdrs = "Contact: <sip:bob@127.0.0.1>\r\n" };

		assert_int_equal(send_auth(f, &q2, &st), REG_COMMIT);
		ob_init(&b, mem, sizeof(mem));
		reg_finish(f->r, st, -EIO, &b, &w);
		assert_null(w);
		assert_int_equal(reg_aor_count(f->r), 1);
		assert_int_equal(reg_binding_count(f->r), 2);
	}
}

static void test_busy_aor_parks(void **state)
{
	struct fx *f = *state;
	struct rq q1 = { .hdrs = "Contact: " C1 "\r\n", .call_id = "c1", .cseq = 1 };
	struct rq q2 = { .hdrs = "Contact: " C2 "\r\n", .call_id = "c1", .cseq = 2 };
	struct rq q3 = { .hdrs = "Contact: " C3 "\r\n", .call_id = "c1", .cseq = 3 };
	struct reg_stage *st1, *st2;
	struct reg_waiter *w;

	assert_int_equal(send_auth(f, &q1, &st1), REG_COMMIT);
	assert_int_equal(f->nparked, 0);
	/* while st1 is outstanding: parked, after authentication */
	assert_int_equal(send_auth(f, &q2, &st2), REG_PARKED);
	assert_int_equal(f->nparked, 1);
	assert_string_equal(f->park_user[0], "alice");
	assert_int_equal(send_auth(f, &q3, &st2), REG_PARKED);
	assert_int_equal(f->nparked, 2);
	/* a wrong password is not parked: it is challenged */
	{
		struct rq bad = q3;

		bad.pass = "nope";
		assert_int_equal(send_auth(f, &bad, &st2), REG_REPLY);
		assert_status(f, 401);
		assert_int_equal(f->nparked, 2);
	}
	/* when park() refuses, a 503 */
	f->park_refuse = true;
	assert_int_equal(send_auth(f, &q3, &st2), REG_REPLY);
	assert_status(f, 503);
	assert_has(f, "\r\nRetry-After: ");
	f->park_refuse = false;
	/* another AOR is not held up */
	{
		struct rq qb = { .to = "sip:bob@example.com", .user = "bob", .pass = "bobpw",
				 .hdrs = "Contact: <sip:bob@127.0.0.1>\r\n" };

		assert_int_equal(send_auth(f, &qb, &st2), REG_COMMIT);
		assert_null(commit(f, st2));
	}

	w = commit(f, st1);
	assert_status(f, 200);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	/* the waiters, in arrival order */
	assert_ptr_equal(w, &f->wt[0]);
	assert_ptr_equal(w->next, &f->wt[1]);
	assert_null(w->next->next);
	assert_int_equal(reg_binding_count(f->r), 2);
	/* not busy any more */
	assert_int_equal(send_ok(f, &q2), 200);
	assert_int_equal(resp_contacts(f), 2);
}

/* The periodic purge may drop a binding a staged request refers to. */
static void test_expire_while_staged(void **state)
{
	struct fx *f = *state;
	struct rq old = { .hdrs = "Contact: " C1 "\r\nContact: " C2 "\r\n", .call_id = "c1",
			  .cseq = 1, .now = f->now - 3590 };
	struct rq q = { .hdrs = "Contact: " C1 "\r\nContact: " C2 ";expires=0\r\n",
			.call_id = "c1", .cseq = 2 };
	struct reg_stage *st;

	assert_int_equal(send_ok(f, &old), 200);   /* both expire at now + 10 */
	assert_int_equal(send_auth(f, &q, &st), REG_COMMIT);
	assert_int_equal(reg_expire(f->r, f->now + 20), 2);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_null(commit(f, st));
	assert_status(f, 200);
	assert_has(f, "Contact: " C1 ";expires=3600\r\n");
	assert_lacks(f, C2);
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(reg_aor_count(f->r), 1);
	assert_int_equal(reg_expire(f->r, f->now + 3600), 1);
	assert_int_equal(reg_aor_count(f->r), 0);
}

/* Tests: expiry and load ------------------------------------------------------- */

static void test_reg_expire(void **state)
{
	struct fx *f = *state;
	struct rq old = { .hdrs = "Contact: " C1 "\r\n", .call_id = "c1", .cseq = 1,
			  .now = f->now - 4000 };
	struct rq cur = { .hdrs = "Contact: " C2 "\r\n", .call_id = "c2", .cseq = 1 };

	assert_int_equal(send_ok(f, &old), 200);
	assert_int_equal(send_ok(f, &cur), 200);
	/* the expired binding is no longer listed */
	assert_int_equal(resp_contacts(f), 1);
	assert_lacks(f, C1);
	assert_int_equal(reg_binding_count(f->r), 2);
	assert_int_equal(reg_expire(f->r, f->now - 401), 0);
	assert_int_equal(reg_expire(f->r, f->now), 1);
	assert_int_equal(reg_binding_count(f->r), 1);
	assert_int_equal(reg_expire(f->r, f->now), 0);
	assert_int_equal(reg_expire(f->r, f->now + 3600), 1);
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_aor_count(f->r), 0);
	/* registering after the purge works */
	cur.cseq = 2;
	assert_int_equal(send_ok(f, &cur), 200);
	assert_int_equal(reg_binding_count(f->r), 1);
}

static void test_reg_load(void **state)
{
	struct fx *f = *state;
	struct rq qc = { .hdrs = "Contact: " C3 "\r\n", .call_id = "c3", .now = f->now - 4000 };
	struct rq qb = { .hdrs = "Contact: " C2 ";expires=1200\r\n", .call_id = "c2",
			 .now = f->now - 1000 };
	struct rq qa = { .hdrs = "Contact: " C1 "\r\n", .call_id = "c1", .cseq = 7 };

	assert_int_equal(send_ok(f, &qc), 200);
	assert_int_equal(send_ok(f, &qb), 200);
	assert_int_equal(send_ok(f, &qa), 200);

	fx_reconfig(f, &f->cfg);  /* a new, empty registrar (a restart) */
	assert_int_equal(reg_binding_count(f->r), 0);
	assert_int_equal(reg_load(f->r, f->st, f->now + 100), 0);
	assert_int_equal(reg_binding_count(f->r), 2);
	assert_int_equal(reg_aor_count(f->r), 1);
	query_at(f, f->now + 100);
	assert_int_equal(resp_contacts(f), 2);
	assert_has(f, "Contact: " C1 ";expires=3500\r\n");
	assert_has(f, "Contact: " C2 ";expires=100\r\n");
	assert_lacks(f, C3);
	/* Call-ID/CSeq came back too */
	qa.cseq = 7;
	qa.now = f->now + 100;
	assert_int_equal(send_ok(f, &qa), 400);
	/* new bindings get fresh ids: nothing in the store is overwritten */
	{
		struct rq qd = { .hdrs = "Contact: " C4 "\r\n", .call_id = "c4", .now = f->now + 100 };

		assert_int_equal(send_ok(f, &qd), 200);
	}
	assert_int_equal(reg_binding_count(f->r), 3);
	assert_int_equal(store_count(f, f->now + 100), 3);
	/* the expired C3 row (still in the store) keeps its id too */
	assert_int_equal(store_count(f, f->now - 3000), 4);
}

/*
 * An AOR loaded from a store written with a larger max_contacts may hold
 * up to max_contacts + REG_MAX_CONTACTS_REQ bindings (reg_save answers 503
 * only above that).  A request adding a few contacts to it must be handled
 * within bounds: a 200 with the limit applied (or a 503), never memory
 * corruption.
 */
static void test_loaded_over_limit_bounded(void **state)
{
	struct fx *f = *state;
	struct reg_cfg big = default_cfg(), small = default_cfg();
	char hdrs[8192];
	size_t len = 0;
	int st;

	big.max_contacts = 100;
	fx_reconfig(f, &big);
	for (unsigned i = 0; i < 67; i++) {
		len += (size_t)snprintf(hdrs + len, sizeof(hdrs) - len,
					"Contact: <sip:alice@127.0.0.1:%u>\r\n", 6000 + i);
		if (i == 63) {
			assert_int_equal(reg_c(f, hdrs, "c1", 1), 200);
			len = 0;
		}
	}
	assert_int_equal(reg_c(f, hdrs, "c1", 2), 200);
	assert_int_equal(reg_binding_count(f->r), 67);

	fx_reconfig(f, &small);
	assert_int_equal(reg_load(f->r, f->st, f->now), 0);
	assert_int_equal(reg_binding_count(f->r), 3 + REG_MAX_CONTACTS_REQ);
	st = reg_c(f, "Contact: " C1 ", " C2 ", " C3 "\r\n", "c1", 3);
	if (st == 503)
		return;
	assert_int_equal(st, 200);
	assert_int_equal(resp_contacts(f), 3);
	assert_has(f, C1);
	assert_has(f, C2);
	assert_has(f, C3);
	assert_int_equal(reg_binding_count(f->r), 3);
	assert_int_equal(store_count(f, f->now), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_no_credentials_401),
		T(test_wrong_password_401),
		T(test_replay_stale),
		T(test_md5_challenge_and_auth),
		T(test_expired_nonce_stale),
		T(test_register_200),
		T(test_refresh_higher_cseq),
		T(test_same_callid_lower_or_equal_cseq_400),
		T(test_other_callid_updates),
		T(test_expires_zero_removes),
		T(test_contact_expires_beats_header),
		T(test_expires_above_max_lowered),
		T(test_interval_too_brief_423),
		T(test_expires_zero_never_423),
		T(test_malformed_expires_default),
		T(test_wildcard_removes_all),
		T(test_wildcard_needs_expires_zero),
		T(test_wildcard_with_other_contact_400),
		T(test_bad_qvalue_400),
		T(test_contact_params_kept),
		T(test_uri_comparison),
		T(test_to_aor_canonical),
		T(test_query_lists_changes_nothing),
		T(test_max_contacts_oldest_replaced),
		T(test_max_contacts_one_request_403),
		T(test_other_users_aor_403),
		T(test_to_domain_mismatch_404),
		T(test_ruri_domain_not_served_404),
		T(test_require_420),
		T(test_commit_failure_503),
		T(test_busy_aor_parks),
		T(test_expire_while_staged),
		T(test_reg_expire),
		T(test_reg_load),
		T(test_loaded_over_limit_bounded),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
