/*
 * fuzz_register.c - the registrar path from bytes to the response:
 * sip_msg_parse -> reg_save -> (store_apply) -> reg_finish, with a real
 * SQLite store, real digest authentication and the expiry heap.
 *
 * Set up once per process: a temporary SQLite store ($TMPDIR or /tmp,
 * mkstemp name, removed at exit) holding alice@example.com / "secret", an
 * auth context, and two registrars: the main one serves example.com (min
 * 60 s, max 3600 s, default 3600 s, at most 3 contacts); the other has no
 * domain configured (served domains are those with subscribers, looked up
 * in the store), min 1 s, max 7200 s, default 60 s, at most 1 contact.
 * Time is fixed (1700000000) except where an input advances it.
 *
 * Input format: up to 6 messages separated by "=====".  A message may
 * start with a control line of these characters, ended by \n:
 *   &         run this message while the previous message's change is
 *             still being committed (its AOR is busy: the REGISTER parks
 *             behind it, as with two workers)
 *   +SECONDS  advance the clock first (up to 999999)
 *   ~         do not run reg_expire before this message (bindings past
 *             their time stay in memory, as between two expiry sweeps)
 *   !         (first message only) use the second registrar for the input
 * Every occurrence of the token AUTHME (SHA-256) or AUTHMD (MD5) is
 * replaced by a valid Authorization value for alice with this process's
 * nonce and a fresh nonce-count, so the fuzzer gets past authentication
 * and into the binding logic.
 *
 * Each message is parsed as a datagram; a REGISTER goes to reg_save (from
 * 127.0.0.1:5060, algorithms MD5 and SHA-256).  Staged changes are
 * alternately committed (store_apply, then reg_finish(0)) and failed
 * (reg_finish(-EIO)).  Parked requests come back from reg_finish and are
 * run again as already authenticated, as the server does.  reg_expire runs
 * before every message (unless '~'), and at the end of each input far in
 * the future.
 *
 * State: the store and registrar persist across inputs, but each input
 * ends with every binding expired and the store's rows for the AORs it
 * touched deleted, so one input behaves the same whatever ran before it
 * (only nonce-counts and binding ids differ), and crashes reproduce from
 * the single input.
 *
 * Oracles (see fuzz_common.h): every response built parses as a SIP
 * response to the request; a 200's Contacts are what the store now holds
 * for that AOR (same text, same remaining time) and each parses as a
 * name-addr with an expires param; store_apply accepts every staged change
 * set; with everything expired no AOR is left in the table; no leaks
 * (LeakSanitizer, including parked requests never handed back).
 */
#include "fuzz_common.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "registrar/registrar.h"
#include "sip/sip.h"
#include "store/store.h"

#define NOW0 ((time_t)1700000000)
#define DELIM "====="
#define MAX_CHUNKS 6
#define MAX_HELD 4
#define RESP_CAP 65536
#define SOURCE "udp:127.0.0.1:5060"
#define AUTH_URI "sip:example.com"
#define MAX_AORS 8

static struct {
	char path[512];
	struct store *st;
	struct store_reader *rd;
	struct auth_ctx *auth;
	struct reg *reg[2];
	struct reg_cfg cfg[2];
	struct reg *r;           /* the one this input uses */
	unsigned max_contacts;   /* its limit */
	struct reg_thread t;
	char nonce[AUTH_ALG__COUNT][AUTH_NONCE_MAX + 1];
	char ha1[AUTH_ALG__COUNT][AUTH_HA1_HEX_MAX + 1];
	uint32_t nc;
	char *resp;
} G;

static const struct sip_resp_src g_src = { "127.0.0.1", 5060 };
static const enum auth_alg g_algs[] = { AUTH_MD5, AUTH_SHA256 };

static void cleanup(void)
{
	char p[600];

	reg_free(G.reg[0]);
	reg_free(G.reg[1]);
	auth_free(G.auth);
	store_reader_free(G.rd);
	store_close(G.st);
	free(G.resp);
	G.r = G.reg[0] = G.reg[1] = NULL;
	G.auth = NULL;
	G.rd = NULL;
	G.st = NULL;
	G.resp = NULL;
	if (G.path[0]) {
		unlink(G.path);
		snprintf(p, sizeof(p), "%s-wal", G.path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", G.path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-journal", G.path);
		unlink(p);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char err[256];
	int fd;

	(void)argc;
	(void)argv;
	snprintf(G.path, sizeof(G.path), "%s/sipreg-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(G.path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	close(fd);
	atexit(cleanup);
	G.st = store_open(G.path, err, sizeof(err));
	if (!G.st) {
		fprintf(stderr, "store_open %s: %s\n", G.path, err);
		abort();
	}
	for (int a = 0; a < AUTH_ALG__COUNT; a++)
		auth_ha1((enum auth_alg)a, "alice", "example.com", "secret", G.ha1[a]);
	if (store_user_put(G.st, "alice", "example.com", G.ha1[AUTH_MD5], G.ha1[AUTH_SHA256]) != 0)
		abort();
	G.rd = store_reader_new(G.st);
	G.auth = auth_new(3600, 64);
	G.cfg[0] = (struct reg_cfg){
		.min_expires = 60,
		.max_expires = 3600,
		.default_expires = 3600,
		.max_contacts = 3,
		.domains = { "example.com" },
		.ndomains = 1,
	};
	G.cfg[1] = (struct reg_cfg){
		.min_expires = 1,
		.max_expires = 7200,
		.default_expires = 60,
		.max_contacts = 1,
		.ndomains = 0,
	};
	G.reg[0] = reg_new(&G.cfg[0]);
	G.reg[1] = reg_new(&G.cfg[1]);
	G.r = G.reg[0];
	G.resp = malloc(RESP_CAP);
	if (!G.rd || !G.auth || !G.reg[0] || !G.reg[1] || !G.resp)
		abort();
	G.t.auth = G.auth;
	G.t.reader = G.rd;
	for (int a = 0; a < AUTH_ALG__COUNT; a++)
		if (auth_nonce_new(G.auth, (enum auth_alg)a, NOW0, G.nonce[a]) == 0)
			abort();
	return 0;
}

/* Per-input state ----------------------------------------------------------- */

struct parked {
	struct reg_waiter wt;
	char user[64];
	size_t user_len;
	size_t len;
	char buf[];
};

struct run {
	time_t now;
	unsigned commits;
	struct reg_stage *held[MAX_HELD];
	char *held_req[MAX_HELD];       /* the requests they answer */
	size_t held_len[MAX_HELD];
	time_t held_now[MAX_HELD];     /* when they were staged */
	size_t nheld;
	char aors[MAX_AORS][600];   /* AORs whose store rows must go at the end */
	size_t naors;
	bool aor_overflow;
	/* the request being answered */
	const char *req;
	size_t req_len;
};

static struct reg_waiter *park_cb(void *arg, sl_t user)
{
	struct run *R = arg;
	struct parked *pk;

	/* as the server: a name that does not fit gets a 503 */
	if (user.len > sizeof(pk->user))
		return NULL;
	pk = malloc(sizeof(*pk) + R->req_len);
	if (!pk)
		abort();
	pk->user_len = user.len;
	memcpy(pk->user, user.p, user.len);
	pk->len = R->req_len;
	memcpy(pk->buf, R->req, R->req_len);
	return &pk->wt;
}

/* Response checks -------------------------------------------------------- */

/* FUZZ_VERBOSE=1: print every response (for triage, with one input). */
static void show(const char *what, const struct obuf *b)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_VERBOSE") != NULL;
	if (on)
		fprintf(stderr, "--- %s%s:\n%.*s\n", what, b->overflow ? " (overflow)" : "",
			(int)b->len, b->p);
}

static unsigned via_entries(const struct sip_msg *m)
{
	unsigned n = 0;

	for (const struct sip_hdr *h = sip_hdr_get(m, SIP_H_VIA); h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		sl_t item;

		while (sip_list_next(h->value, &pos, &item) == 1)
			n += item.len > 0;
	}
	return n;
}

/* The response to request q->m, as sent; returns its status (0 if not checked). */
static int check_response(const struct sip_msg *req, const struct obuf *b)
{
	struct sip_msg *r;
	struct sip_perr err;
	char *copy;
	int status = 0;

	if (b->overflow)
		return 0;  /* the server drops it; not ours to judge here */
	FUZZ_CHECK(b->len > 12 && memcmp(b->p, "SIP/2.0 ", 8) == 0, "response [%.*s]", (int)b->len,
		   b->p);
	{
		long bad = fuzz_bare_crlf(b->p, b->len);

		FUZZ_CHECK(bad < 0, "bare CR or LF at %ld of our response:\n%.*s", bad, (int)b->len,
			   b->p);
	}
	if (req->count[SIP_H_VIA] + 12 > SIP_MAX_HEADERS || b->len >= SIP_MAX_MSG)
		return atoi(b->p + 8);
	r = malloc(sizeof(*r));
	if (!r)
		abort();
	copy = fuzz_dup(b->p, b->len);
	if (sip_msg_parse(r, copy, b->len, false, &err) != 0) {
		FUZZ_CHECK(0, "our response does not parse (%d %s):\n%.*s", err.status,
			   err.reason ? err.reason : "", (int)b->len, b->p);
	} else {
		FUZZ_CHECK(!r->is_request && r->status >= 100 && r->status <= 699, "status %d", r->status);
		FUZZ_CHECK(via_entries(r) == via_entries(req), "Via entries %u vs %u", via_entries(r),
			   via_entries(req));
		FUZZ_CHECK(sl_eq(r->call_id, req->call_id), "Call-ID changed");
		FUZZ_CHECK(r->cseq == req->cseq, "CSeq changed");
		status = r->status;
		if (status == 200) {
			unsigned n = 0;

			for (const struct sip_hdr *h = sip_hdr_get(r, SIP_H_CONTACT); h;
			     h = sip_hdr_next(r, h)) {
				struct sip_naddr na;
				sl_t v;
				uint32_t e;

				n++;
				/* one binding per line: no list splitting */
				FUZZ_CHECK(sip_naddr_parse(h->value, &na) == 0,
					   "Contact in our 200 does not parse: [%.*s]", (int)h->value.len,
					   h->value.p);
				FUZZ_CHECK(sip_param_get(na.params, "expires", &v) == 1 &&
						   sip_delta_parse(v, &e) == 0 && e > 0 && e <= 7200,
					   "Contact in our 200 without a good expires: [%.*s]",
					   (int)h->value.len, h->value.p);
			}
			FUZZ_CHECK(n <= G.max_contacts, "%u Contacts in a 200 with max_contacts %u", n,
				   G.max_contacts);
		}
	}
	free(copy);
	free(r);
	return status;
}

struct cmp_ctx {
	const struct obuf *b;
	time_t now;
	unsigned rows;
	bool ok;
	char why[256];
};

static int cmp_row(const struct store_binding *sb, void *arg)
{
	struct cmp_ctx *c = arg;
	char tail[64];
	size_t cl = strlen(sb->contact), tl;
	const char *p = c->b->p, *end = c->b->p + c->b->len, *q;
	bool found = false;

	c->rows++;
	tl = (size_t)snprintf(tail, sizeof(tail), ";expires=%lld\r\n",
			      (long long)(sb->expires - c->now));
	for (q = fuzz_memmem(p, c->b->len, "\r\nContact: ", 11); q && !found;
	     q = fuzz_memmem(q + 1, (size_t)(end - q - 1), "\r\nContact: ", 11)) {
		const char *v = q + 11;

		found = (size_t)(end - v) >= cl + tl && memcmp(v, sb->contact, cl) == 0 &&
			memcmp(v + cl, tail, tl) == 0;
	}
	if (!found && c->ok) {
		c->ok = false;
		snprintf(c->why, sizeof(c->why), "store row id %lld [%s] expires in %lld not in the 200",
			 (long long)sb->id, sb->contact, (long long)(sb->expires - c->now));
	}
	return 0;
}

static unsigned count_contacts(const struct obuf *b)
{
	unsigned n = 0;

	for (const char *q = fuzz_memmem(b->p, b->len, "\r\nContact: ", 11); q;
	     q = fuzz_memmem(q + 1, (size_t)(b->p + b->len - q - 1), "\r\nContact: ", 11))
		n++;
	return n;
}

static void remember_aor(struct run *R, const char *aor)
{
	for (size_t i = 0; i < R->naors; i++)
		if (strcmp(R->aors[i], aor) == 0)
			return;
	if (R->naors == MAX_AORS || strlen(aor) >= sizeof(R->aors[0])) {
		R->aor_overflow = true;
		return;
	}
	strcpy(R->aors[R->naors++], aor);
}

/* Registrar driving -------------------------------------------------------- */

static void run_message(struct run *R, const char *buf, size_t len, const struct parked *pk,
			bool may_hold);

static void run_waiters(struct run *R, struct reg_waiter *w)
{
	while (w) {
		struct reg_waiter *next = w->next;
		struct parked *pk = (struct parked *)((char *)w - offsetof(struct parked, wt));

		run_message(R, pk->buf, pk->len, pk, false);
		free(pk);
		w = next;
	}
}

/* Commit or fail a stage, answer, and run the requests parked behind it. */
static void finish(struct run *R, struct reg_stage *st, const struct sip_msg *m, time_t staged_at)
{
	struct reg_waiter *w = (struct reg_waiter *)1;
	struct obuf b;
	size_t n;
	const struct store_change *ch = reg_stage_changes(st, &n);
	bool commit = R->commits++ % 2 == 0;
	const char *aor = NULL;
	char key[600];
	int rc = -EIO;

	FUZZ_CHECK(n > 0, "REG_COMMIT with no changes");
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(ch[i].b.aor != NULL, "change %zu without an AOR", i);
		if (!aor)
			aor = ch[i].b.aor;
		FUZZ_CHECK(strcmp(aor, ch[i].b.aor) == 0, "one stage, two AORs: %s %s", aor,
			   ch[i].b.aor);
	}
	/* the AOR's memory may go in reg_finish */
	snprintf(key, sizeof(key), "%s", aor ? aor : "");
	if (commit) {
		remember_aor(R, aor);
		rc = store_apply(G.st, ch, n);
		FUZZ_CHECK(rc == 0, "store_apply of a staged change set: %d", rc);
	}
	ob_init(&b, G.resp, RESP_CAP);
	reg_finish(G.r, st, rc, &b, &w);
	show(rc == 0 ? "reg_finish(0)" : "reg_finish(-EIO)", &b);
	FUZZ_CHECK(w != (struct reg_waiter *)1, "reg_finish did not set *waiters");
	if (m) {
		int status = check_response(m, &b);

		if (status == 200 && rc == 0) {
			/* what the 200 lists is what the store holds */
			struct cmp_ctx c = { .b = &b, .now = staged_at, .ok = true };

			FUZZ_CHECK(store_list_bindings(G.st, key, staged_at, cmp_row, &c) == 0,
				   "store_list_bindings failed");
			FUZZ_CHECK(c.ok, "%s; response:\n%.*s", c.why, (int)b.len, b.p);
			FUZZ_CHECK(c.rows == count_contacts(&b), "store has %u rows for %s, the 200 lists %u:\n%.*s",
				   c.rows, key, count_contacts(&b), (int)b.len, b.p);
		} else if (status) {
			FUZZ_CHECK(status == (rc == 0 ? 200 : 503), "reg_finish(%d) answered %d", rc,
				   status);
		}
	}
	run_waiters(R, w);
}

static void run_message(struct run *R, const char *buf, size_t len, const struct parked *pk,
			bool may_hold)
{
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_perr err;
	struct obuf b;
	struct reg_stage *st = (struct reg_stage *)1;
	enum reg_rc rc;

	if (!m)
		abort();
	if (sip_msg_parse(m, buf, len, false, &err) != 0 || !m->is_request ||
	    m->mid != SIP_M_REGISTER) {
		FUZZ_CHECK(!pk, "a parked request no longer parses");
		free(m);
		return;
	}
	struct reg_req q = {
		.m = m, .src = &g_src, .source = SOURCE, .to_tag = SL("fz1"), .now = R->now,
		.preauth = pk != NULL, .preauth_user = pk ? sl_make(pk->user, pk->user_len) : SL_NULL,
		.algs = g_algs, .nalgs = 2, .park = park_cb, .arg = R,
	};
	R->req = buf;
	R->req_len = len;
	ob_init(&b, G.resp, RESP_CAP);
	rc = reg_save(G.r, &G.t, &q, &b, &st);
	switch (rc) {
	case REG_REPLY:
		show(pk ? "reply (was parked)" : "reply", &b);
		FUZZ_CHECK(st == NULL, "REG_REPLY with a stage");
		(void)check_response(m, &b);
		break;
	case REG_PARKED:
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "--- parked\n");
		FUZZ_CHECK(st == NULL, "REG_PARKED with a stage");
		/* nothing is in flight when parked requests run again */
		FUZZ_CHECK(!pk, "a request handed back by reg_finish parked again");
		break;
	case REG_COMMIT:
		FUZZ_CHECK(st != NULL && st != (struct reg_stage *)1, "REG_COMMIT without a stage");
		FUZZ_CHECK(reg_stage_bound_until(st) == 0 || reg_stage_bound_until(st) > R->now,
			   "bound_until in the past");
		if (may_hold && R->nheld < MAX_HELD) {
			/* the next message runs meanwhile */
			R->held[R->nheld] = st;
			R->held_req[R->nheld] = fuzz_dup(buf, len);
			R->held_now[R->nheld] = R->now;
			R->held_len[R->nheld++] = len;
		} else {
			finish(R, st, m, R->now);
		}
		break;
	default:
		FUZZ_CHECK(0, "reg_save returned %d", (int)rc);
	}
	free(m);
}

/* Input splitting and AUTHME ------------------------------------------------ */

static size_t authz_value(enum auth_alg a, char *out, size_t cap)
{
	char nc[9], rsp[AUTH_HA1_HEX_MAX + 1];

	snprintf(nc, sizeof(nc), "%08x", ++G.nc);
	auth_response(a, sl_cstr(G.ha1[a]), sl_cstr(G.nonce[a]), sl_cstr(nc), SL("0a4f113b"),
		      SL("auth"), SL("REGISTER"), SL(AUTH_URI), rsp);
	return (size_t)snprintf(out, cap,
				"Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
				"uri=\"" AUTH_URI "\", response=\"%s\", algorithm=%s, "
				"cnonce=\"0a4f113b\", opaque=\"%s\", qop=auth, nc=%s",
				G.nonce[a], rsp, auth_alg_name(a), auth_opaque(G.auth), nc);
}

/* Copy in[0..n) replacing AUTHME/AUTHMD; exact-size result. */
static char *expand(const char *in, size_t n, size_t *outn)
{
	size_t cnt = 0, o = 0;
	char *out;

	for (size_t i = 0; i + 6 <= n; i++)
		if (memcmp(in + i, "AUTHM", 5) == 0 && (in[i + 5] == 'E' || in[i + 5] == 'D'))
			cnt++;
	out = malloc(n + cnt * 400 + 1);
	if (!out)
		abort();
	for (size_t i = 0; i < n;) {
		if (i + 6 <= n && memcmp(in + i, "AUTHM", 5) == 0 && (in[i + 5] == 'E' || in[i + 5] == 'D')) {
			o += authz_value(in[i + 5] == 'E' ? AUTH_SHA256 : AUTH_MD5, out + o, 400);
			i += 6;
		} else {
			out[o++] = in[i++];
		}
	}
	*outn = o;
	/* shrink to the exact size so ASan catches over-reads */
	{
		char *exact = fuzz_dup(out, o);

		free(out);
		out = exact;
	}
	return out;
}

struct chunk {
	const char *p;
	size_t n;
	bool hold;       /* '&': runs while the previous change is in flight */
	bool no_expire;  /* '~': no reg_expire before it */
	bool alt;        /* '!': the second registrar (first message only) */
	time_t advance;  /* '+N' */
};

/* A control line "[&+0-9~!]*\n" at the start of c, if there is one. */
static void control_line(struct chunk *c)
{
	const char *p = c->p, *lf = memchr(p, '\n', c->n < 24 ? c->n : 24);
	struct chunk k = *c;

	if (!lf || lf == p)
		return;
	for (const char *q = p; q < lf; q++) {
		if (*q == '&') {
			k.hold = true;
		} else if (*q == '~') {
			k.no_expire = true;
		} else if (*q == '!') {
			k.alt = true;
		} else if (*q == '+') {
			time_t adv = 0;
			int digits = 0;

			while (q + 1 < lf && q[1] >= '0' && q[1] <= '9' && digits < 6) {
				adv = adv * 10 + (*++q - '0');
				digits++;
			}
			k.advance += adv;
		} else {
			return;  /* not a control line: all of it is the message */
		}
	}
	k.p = lf + 1;
	k.n = c->n - (size_t)(lf + 1 - p);
	*c = k;
}

static size_t split(const char *in, size_t size, struct chunk *c)
{
	size_t nc = 0, i = 0;

	while (nc < MAX_CHUNKS) {
		const char *d = fuzz_memmem(in + i, size - i, DELIM, 5);
		size_t end = d ? (size_t)(d - in) : size;

		c[nc] = (struct chunk){ .p = in + i, .n = end - i };
		control_line(&c[nc]);
		nc++;
		if (!d)
			break;
		i = end + 5;
	}
	return nc;
}

static void finish_held(struct run *R)
{
	/* held stages are finished in the order they were staged */
	for (size_t i = 0; i < R->nheld; i++) {
		struct sip_msg *m = malloc(sizeof(*m));
		struct sip_perr err;

		if (!m)
			abort();
		FUZZ_CHECK(sip_msg_parse(m, R->held_req[i], R->held_len[i], false, &err) == 0,
			   "held request no longer parses");
		finish(R, R->held[i], m, R->held_now[i]);
		free(m);
		free(R->held_req[i]);
		R->held[i] = NULL;
		R->held_req[i] = NULL;
	}
	R->nheld = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunk c[MAX_CHUNKS];
	size_t n = split((const char *)data, size, c);
	struct run R;

	memset(&R, 0, sizeof(R));
	R.now = NOW0;
	G.r = G.reg[n && c[0].alt];
	G.max_contacts = G.cfg[n && c[0].alt].max_contacts;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *buf;

		/* a message not marked '&' waits for everything in flight */
		if (!c[i].hold)
			finish_held(&R);
		R.now += c[i].advance;
		if (!c[i].no_expire)
			(void)reg_expire(G.r, R.now);
		buf = expand(c[i].p, c[i].n, &len);
		/* a change is held in flight only if the next message runs meanwhile */
		run_message(&R, buf, len, NULL, i + 1 < n && c[i + 1].hold);
		free(buf);
	}
	finish_held(&R);

	/* Everything expires: no binding and no AOR may be left over. */
	R.now += 10 * 86400;
	(void)reg_expire(G.r, R.now);
	FUZZ_CHECK(reg_binding_count(G.r) == 0, "%zu bindings left after expiry",
		   reg_binding_count(G.r));
	FUZZ_CHECK(reg_aor_count(G.r) == 0, "%zu AORs left with no bindings", reg_aor_count(G.r));
	if (R.naors || R.aor_overflow) {
		struct store_change del[MAX_AORS];

		FUZZ_CHECK(!R.aor_overflow, "more AORs than expected");
		for (size_t i = 0; i < R.naors; i++)
			del[i] = (struct store_change){ .op = STORE_DEL_AOR, .b.aor = R.aors[i] };
		if (R.naors)
			FUZZ_CHECK(store_apply(G.st, del, R.naors) == 0, "store cleanup failed");
	}
	return 0;
}
