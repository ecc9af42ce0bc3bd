/*
 * server.c - the request pipeline.
 *
 *   transport -> parse -> transaction match -> method -> registrar
 *             -> (store commit on the writer thread) -> response
 *
 * Each worker thread owns an epoll loop, its sockets and connections, its
 * transaction table and a store reader.  A REGISTER that changes bindings
 * is staged by the registrar and handed to the store's writer; when the
 * batch holding it is durable, the writer puts it in the worker's inbox
 * and wakes it through an eventfd; the worker installs the change and only
 * then sends the 200.
 */
#include "core/server.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "guard/guard.h"
#include "registrar/registrar.h"
#include "store/store.h"
#include "txn/txn.h"
#include "util/hash.h"

#define TXN_MAX_PER_WORKER 400000  /* ~12 s of Timer J at 16k reg/s per worker */
#define RESP_MAX 65536

struct server;

enum inbox_kind { INBOX_COMMITTED = 1, INBOX_PARKED };

struct inbox_node {
	struct inbox_node *next;
	enum inbox_kind kind;
};

struct worker {
	struct server *srv;
	unsigned id;
	pthread_t thread;
	struct loop loop;
	struct tp_worker tp;
	struct txn_table *txns;
	struct reg_thread rt;
	struct ev wake;                  /* eventfd: inbox not empty, or stop */
	pthread_mutex_t inbox_lock;
	struct inbox_node *inbox_head, *inbox_tail;
	char resp[RESP_MAX];
};

struct server {
	const struct cfg *cfg;
	struct store *store;
	struct reg *reg;
	struct auth_ctx *auth;
	struct guard *guard;
	unsigned tcp_max;                /* TCP connections, all workers */
	_Atomic unsigned tcp_open;       /* ... open now */
	struct worker *workers;
	unsigned nworkers;
	atomic_bool stop;
};

/* A REGISTER whose change is being committed. */
struct pending {
	struct store_req sreq;
	struct inbox_node node;
	struct worker *w;
	struct tp_src dst;
	struct txn *txn;
	struct reg_stage *stage;
	time_t bound_until;
};

/* A REGISTER waiting behind another one for the same AOR. */
struct parked {
	struct reg_waiter wt;
	struct inbox_node node;
	struct worker *w;
	struct tp_src src;
	struct txn *txn;
	size_t user_len;
	char user[256];
	size_t len;
	char buf[];
};

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static void inbox_push(struct worker *w, struct inbox_node *n)
{
	uint64_t one = 1;
	bool was_empty;

	n->next = NULL;
	pthread_mutex_lock(&w->inbox_lock);
	was_empty = !w->inbox_head;
	if (w->inbox_tail)
		w->inbox_tail->next = n;
	else
		w->inbox_head = n;
	w->inbox_tail = n;
	pthread_mutex_unlock(&w->inbox_lock);
	if (was_empty && write(w->wake.fd, &one, sizeof(one)) < 0)
		log_rl(LOG_RL_SEND, "cannot wake worker %u: %s", w->id, strerror(errno));
}

/* Sending ------------------------------------------------------------------ */

/*
 * Where the response goes (RFC 3261 §18.2.2, RFC 3581 §4): on TCP the same
 * connection; on UDP the source address, and the source port when the
 * request asked for rport, else the port of its sent-by (5060 by default).
 */
static void reply_dest(const struct sip_msg *m, const struct tp_src *src, struct tp_src *dst)
{
	uint16_t port;

	*dst = *src;
	if (src->proto != TP_UDP || !m || m->via.rport || m->via.host.len == 0)
		return;
	port = htons(m->via.port ? m->via.port : 5060);
	if (dst->peer.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&dst->peer)->sin6_port = port;
	else
		((struct sockaddr_in *)&dst->peer)->sin_port = port;
}

static void send_resp(struct worker *w, const struct tp_src *dst, const char *buf, size_t len)
{
	int rc = tp_send(&w->tp, dst, buf, len);

	if (rc < 0 && rc != -ENOTCONN) {
		char where[96];

		tp_src_text(dst, where, sizeof(where));
		log_rl(LOG_RL_SEND, "cannot send a response to %s: %s", where, strerror(-rc));
	}
}

/*
 * Send, and remember the answer for retransmissions (Timer J).  A response
 * that did not fit its buffer is not sent; the transaction still ends, so
 * retransmissions are absorbed rather than processed again.
 */
static void finish_txn(struct worker *w, struct txn *x, const struct tp_src *dst,
		       const struct obuf *b)
{
	if (b->overflow) {
		log_rl(LOG_RL_SEND, "a response did not fit in %zu bytes; not sent", b->cap);
	} else {
		if (log_get_level() >= LOG_DEBUG) {
			char where[96];
			const char *eol = memchr(b->p, '\r', b->len);

			tp_src_text(dst, where, sizeof(where));
			log_debug("sent '%.*s' to %s", eol ? (int)(eol - b->p) : 0, b->p, where);
		}
		send_resp(w, dst, b->p, b->len);
	}
	if (x)
		txn_complete(w->txns, x, b->p, b->overflow ? 0 : b->len, loop_now_ms(),
			     dst->proto == TP_UDP ? TXN_TIMER_J_MS : 0);
}

/* The To tag of our responses: derived from the request, so a response
 * rebuilt for a retransmission carries the same tag. */
static sl_t make_to_tag(const struct sip_msg *m, char *buf)
{
	uint64_t h = hash_bytes(m->call_id.p, m->call_id.len);

	h = hash_mix(h, m->from.tag.p, m->from.tag.len);
	h = hash_mix(h, m->via.branch.p, m->via.branch.len);
	snprintf(buf, 17, "%016llx", (unsigned long long)h);
	return sl_make(buf, 16);
}

struct req_ctx {
	struct worker *w;
	const struct sip_msg *m;
	const struct tp_src *src;
	struct tp_src dst;
	struct sip_resp_src rsrc;
	char ip[INET6_ADDRSTRLEN];
	char tag[17];
	sl_t to_tag;
	struct txn *txn;
};

static void ctx_init(struct req_ctx *x, struct worker *w, const struct sip_msg *m,
		     const struct tp_src *src)
{
	memset(x, 0, sizeof(*x));
	x->w = w;
	x->m = m;
	x->src = src;
	reply_dest(m, src, &x->dst);
	tp_addr_text(&src->peer, x->ip, sizeof(x->ip), &x->rsrc.port);
	x->rsrc.ip = x->ip;
	x->to_tag = make_to_tag(m, x->tag);
}

static void reply_simple(struct req_ctx *x, int status, const char *reason, const char *extra)
{
	struct obuf b;

	ob_init(&b, x->w->resp, sizeof(x->w->resp));
	sip_resp_begin(&b, x->m, status, reason, &x->rsrc, x->to_tag);
	if (extra)
		ob_str(&b, extra);
	sip_resp_end(&b);
	finish_txn(x->w, x->txn, &x->dst, &b);
}

/* REGISTER ------------------------------------------------------------------ */

static void commit_done(struct store_req *r)
{
	struct pending *p = container_of(r, struct pending, sreq);

	inbox_push(p->w, &p->node);
}

static struct reg_waiter *park_cb(void *arg, sl_t user)
{
	struct req_ctx *x = arg;
	size_t len = x->m->len;
	struct parked *pk;

	if (user.len > sizeof(pk->user))
		return NULL;
	pk = malloc(sizeof(*pk) + len);
	if (!pk)
		return NULL;
	pk->w = x->w;
	pk->src = *x->src;
	pk->txn = x->txn;
	pk->user_len = user.len;
	memcpy(pk->user, user.p, user.len);
	pk->len = len;
	memcpy(pk->buf, x->m->buf, len);
	pk->node.kind = INBOX_PARKED;
	return &pk->wt;
}

/* Wrong credentials: count them against the source (and the user). */
static void auth_failed_cb(void *arg, sl_t user, sl_t realm)
{
	struct req_ctx *x = arg;

	guard_auth_failed(x->w->srv->guard, (const struct sockaddr *)&x->src->peer, user, realm,
			  loop_now_ms());
}

/* The store has answered: install or discard, respond, wake the waiters. */
static void settle(struct worker *w, struct pending *p)
{
	struct reg_waiter *wt, *next;
	struct obuf b;

	ob_init(&b, w->resp, sizeof(w->resp));
	reg_finish(w->srv->reg, p->stage, p->sreq.result, &b, &wt);
	if (p->sreq.result < 0)
		log_rl(LOG_RL_STORE, "store commit failed (%s): answered 503", strerror(-p->sreq.result));
	else if (p->dst.proto == TP_TCP && p->bound_until)
		tp_bound(&w->tp, &p->dst, p->bound_until);
	finish_txn(w, p->txn, &p->dst, &b);
	for (; wt; wt = next) {
		struct parked *pk = container_of(wt, struct parked, wt);

		next = wt->next;
		inbox_push(pk->w, &pk->node);
	}
}

static void on_committed(struct worker *w, struct pending *p)
{
	settle(w, p);
	free(p);
}

static void do_register(struct req_ctx *x, const struct parked *pk)
{
	struct worker *w = x->w;
	struct server *s = w->srv;
	const struct sip_hdr *ua = sip_hdr_get(x->m, SIP_H_USER_AGENT);
	enum auth_alg algs[AUTH_MAX_ALGS];
	char source[96];
	struct reg_req q = {
		.m = x->m, .src = &x->rsrc, .source = source, .to_tag = x->to_tag,
		.now = time(NULL), .algs = algs, .park = park_cb, .auth_failed = auth_failed_cb, .arg = x,
	};
	struct reg_stage *st = NULL;
	struct pending *p;
	struct obuf b;
	size_t n;

	q.nalgs = cfg_algs_for(s->cfg, ua ? sl_trim(ua->value) : SL_NULL, algs);
	if (pk) {
		q.preauth = true;
		q.preauth_user = sl_make(pk->user, pk->user_len);
	}
	tp_src_text(x->src, source, sizeof(source));
	ob_init(&b, w->resp, sizeof(w->resp));
	switch (reg_save(s->reg, &w->rt, &q, &b, &st)) {
	case REG_REPLY:
		finish_txn(w, x->txn, &x->dst, &b);
		return;
	case REG_PARKED:
		return;
	case REG_COMMIT:
		break;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		/* Answer 503 and wake the waiters as a failed commit would. */
		struct pending failed = { .sreq.result = -ENOMEM, .w = w, .dst = x->dst,
					  .txn = x->txn, .stage = st };

		settle(w, &failed);
		return;
	}
	p->w = w;
	p->dst = x->dst;
	p->txn = x->txn;
	p->stage = st;
	p->bound_until = reg_stage_bound_until(st);
	p->node.kind = INBOX_COMMITTED;
	p->sreq.changes = reg_stage_changes(st, &n);
	p->sreq.nchanges = n;
	p->sreq.done = commit_done;
	store_submit(s->store, &p->sreq);
}

/* Body handling (§8.2.3): a REGISTER's body is ignored unless it says it
 * must be understood (a Content-Encoding we do not know, or a
 * Content-Disposition with handling=required). */
static bool body_must_handle(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	sl_t v;

	if (m->body.len == 0)
		return false;
	h = sip_hdr_get(m, SIP_H_CONTENT_ENCODING);
	if (h && !sl_caseeq_cstr(sl_trim(h->value), "identity"))
		return true;
	h = sip_hdr_get(m, SIP_H_CONTENT_DISPOSITION);
	if (h) {
		long semi = sl_chr(h->value, ';');

		if (semi >= 0 &&
		    sip_param_get(sl_make(h->value.p + semi, h->value.len - (size_t)semi), "handling", &v) == 1 &&
		    sl_caseeq_cstr(v, "required"))
			return true;
	}
	return false;
}

/* Requests ------------------------------------------------------------------- */

#define ALLOW "Allow: REGISTER, OPTIONS\r\n"

static bool require_refused(struct req_ctx *x)
{
	char extra[600];
	struct obuf b;

	ob_init(&b, extra, sizeof(extra) - 3);
	ob_str(&b, "Unsupported: ");
	if (sip_require_list(x->m, &b) == 0)
		return false;
	/* On overflow b.len counts only what was written: a cut list still
	 * says "no". */
	memcpy(extra + b.len, "\r\n", 3);
	reply_simple(x, 420, "Bad Extension", extra);
	return true;
}

static void do_method(struct req_ctx *x)
{
	const struct sip_msg *m = x->m;
	struct sip_uri u;

	if (sip_uri_parse(m->ruri, &u) < 0 || (u.scheme != SIP_SCHEME_SIP && u.scheme != SIP_SCHEME_SIPS)) {
		reply_simple(x, 416, "Unsupported URI Scheme", NULL);
		return;
	}
	/* §8.2.2.3 for methods other than REGISTER, whose check comes in
	 * §10.3's order, after the domain. */
	if (m->mid != SIP_M_REGISTER && require_refused(x))
		return;
	switch (m->mid) {
	case SIP_M_REGISTER:
		if (body_must_handle(m))
			reply_simple(x, 415, "Unsupported Media Type",
				     "Accept: application/sdp\r\nAccept-Encoding: identity\r\n");
		else
			do_register(x, NULL);
		break;
	case SIP_M_OPTIONS:
		reply_simple(x, 200, "OK", ALLOW "Accept: application/sdp\r\nSupported: \r\n");
		break;
	case SIP_M_OTHER:
		/* §21.5.2: a method SIP does not define gets 501; 405 is for
		 * the ones a registrar knows and does not allow. */
		reply_simple(x, 501, "Not Implemented", ALLOW);
		break;
	default:
		reply_simple(x, 405, "Method Not Allowed", ALLOW);
		break;
	}
}

/* Match the transaction first (§17.2.3): retransmissions never run twice. */
static bool txn_absorbed(struct req_ctx *x)
{
	struct worker *w = x->w;
	char key[TXN_KEY_MAX];
	size_t klen;

	if (x->m->mid == SIP_M_ACK)
		return true; /* ACK of a non-2xx final answer ends there */
	if (x->m->mid == SIP_M_CANCEL) {
		/* §9.2: the target has the same branch and another method;
		 * ours are REGISTER and OPTIONS, and INVITE (answered 405). */
		static const sl_t targets[] = { SL("REGISTER"), SL("INVITE"), SL("OPTIONS") };
		bool found = false;

		for (size_t i = 0; i < 3 && !found; i++) {
			klen = txn_key(x->m, targets[i], key);
			found = klen && txn_find(w->txns, key, klen);
		}
		if (found)
			reply_simple(x, 200, "OK", NULL);
		else
			reply_simple(x, 481, "Call/Transaction Does Not Exist", NULL);
		return true;
	}
	klen = txn_key(x->m, SL_NULL, key);
	if (!klen)
		return false;
	x->txn = txn_find(w->txns, key, klen);
	if (x->txn) {
		if (x->txn->state == TXN_COMPLETED && x->txn->resp_len)
			send_resp(w, &x->dst, x->txn->resp, x->txn->resp_len);
		return true; /* or still waiting for the store: absorbed */
	}
	x->txn = txn_add(w->txns, key, klen);
	return false;
}

static void on_parse_error(struct worker *w, const struct sip_msg *m, const struct tp_src *src,
			   const struct sip_perr *err)
{
	char where[96];
	struct req_ctx x;

	tp_src_text(src, where, sizeof(where));
	if (err->status < 0 || !m->is_request || m->mid == SIP_M_ACK) {
		log_rl(LOG_RL_PARSE, "dropped a malformed message from %s: %s", where,
		       err->reason ? err->reason : "unparseable");
		return;
	}
	log_rl(LOG_RL_PARSE, "answered %d to a malformed request from %s: %s", err->status, where,
	       err->reason);
	ctx_init(&x, w, m, src);
	reply_simple(&x, err->status, err->reason, NULL);
}

static void on_message(void *ctx, const char *buf, size_t len, const struct tp_src *src)
{
	struct worker *w = ctx;
	struct sip_msg m;
	struct sip_perr err = { 0, NULL };
	struct req_ctx x;

	/* Before anything costs: over the rate, or banned, is dropped unread. */
	if (guard_check(w->srv->guard, (const struct sockaddr *)&src->peer, loop_now_ms()) != GUARD_PASS)
		return;
	if (src->frame_status) {
		/* The stream could not be framed: answer from the head if it
		 * names where to (the connection closes after). */
		sip_msg_parse(&m, buf, len, true, &err);
		err = (struct sip_perr){ src->frame_status, src->frame_reason };
		on_parse_error(w, &m, src, &err);
		return;
	}
	if (sip_msg_parse(&m, buf, len, src->proto == TP_TCP, &err) < 0) {
		on_parse_error(w, &m, src, &err);
		return;
	}
	if (!m.is_request)
		return; /* a registrar sends no requests: stray responses are dropped */
	ctx_init(&x, w, &m, src);
	if (m.len > w->srv->cfg->max_msg) {
		reply_simple(&x, 513, "Message Too Large", NULL);
		return;
	}
	if (txn_absorbed(&x))
		return;
	do_method(&x);
}

/* A parked REGISTER's turn: run it again, already authenticated. */
static void on_parked(struct worker *w, struct parked *pk)
{
	struct sip_msg m;
	struct sip_perr err;
	struct req_ctx x;

	if (sip_msg_parse(&m, pk->buf, pk->len, pk->src.proto == TP_TCP, &err) == 0) {
		ctx_init(&x, w, &m, &pk->src);
		x.txn = pk->txn;
		do_register(&x, pk);
	}
	free(pk);
}

/* Worker threads ------------------------------------------------------------ */

static void drain_inbox(struct worker *w)
{
	struct inbox_node *n, *next;

	pthread_mutex_lock(&w->inbox_lock);
	n = w->inbox_head;
	w->inbox_head = w->inbox_tail = NULL;
	pthread_mutex_unlock(&w->inbox_lock);
	for (; n; n = next) {
		next = n->next;
		if (n->kind == INBOX_COMMITTED)
			on_committed(w, container_of(n, struct pending, node));
		else
			on_parked(w, container_of(n, struct parked, node));
	}
}

static void on_wake(struct ev *e, uint32_t events)
{
	struct worker *w = e->arg;
	uint64_t v;

	(void)events;
	if (read(e->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_rl(LOG_RL_SEND, "worker %u: eventfd read: %s", w->id, strerror(errno));
	drain_inbox(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t last_tick = 0;

	while (!atomic_load(&w->srv->stop)) {
		int64_t now;

		loop_run_once(&w->loop, 250);
		tp_worker_flush(&w->tp);
		now = loop_now_ms();
		if (now - last_tick >= 250) {
			txn_expire(w->txns, now);
			tp_worker_tick(&w->tp, now);
			last_tick = now;
		}
	}
	return NULL;
}

static bool tcp_gate(void *ctx, const struct sockaddr *peer, bool open)
{
	struct worker *w = ctx;

	if (!open) {
		guard_conn_close(w->srv->guard, peer);
		return true;
	}
	return guard_conn_open(w->srv->guard, peer, loop_now_ms());
}

/* The loop and the listening sockets: done while still privileged. */
static int worker_init(struct server *s, struct worker *w, unsigned id, char *err, size_t errlen)
{
	const struct cfg *c = s->cfg;
	struct tp_limits lim = { .max_msg = c->max_msg, .tcp_max_conns = s->tcp_max,
				 .tcp_open = &s->tcp_open, .tcp_idle_timeout = c->tcp_idle_timeout,
				 .tcp_header_timeout = c->tcp_header_timeout };
	int fd;

	w->srv = s;
	w->id = id;
	pthread_mutex_init(&w->inbox_lock, NULL);
	if (loop_init(&w->loop) < 0)
		goto sys;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		goto sys;
	w->wake = (struct ev){ fd, on_wake, w };
	if (loop_add(&w->loop, &w->wake, EPOLLIN) < 0)
		goto sys;
	tp_worker_init(&w->tp, &w->loop, &lim, on_message, w);
	w->tp.gate = tcp_gate;
	for (size_t i = 0; i < c->nlisten; i++)
		if (tp_worker_listen(&w->tp, &c->listen[i], err, errlen) < 0)
			return -1;
	return 0;
sys:
	snprintf(err, errlen, "cannot set up worker %u: %s", id, strerror(errno ? errno : ENOMEM));
	return -1;
}

/* What needs the store: done once it is open. */
static int worker_attach(struct server *s, struct worker *w, char *err, size_t errlen)
{
	w->txns = txn_table_new(TXN_MAX_PER_WORKER);
	w->rt.auth = s->auth;
	w->rt.reader = store_reader_new(s->store);
	if (!w->txns || !w->rt.reader) {
		snprintf(err, errlen, "cannot set up worker %u: out of memory or store", w->id);
		return -1;
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	tp_worker_free(&w->tp);
	if (w->wake.fd > 0)
		close(w->wake.fd);
	txn_table_free(w->txns);
	if (w->rt.reader)
		store_reader_free(w->rt.reader);
	loop_close(&w->loop);
	pthread_mutex_destroy(&w->inbox_lock);
}

/* Start-up and the main thread's duties -------------------------------------- */

static void log_listening(const struct cfg *c)
{
	char line[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < c->nlisten && off < sizeof(line); i++) {
		const struct tp_listen *l = &c->listen[i];
		bool v6 = l->addr.ss_family == AF_INET6;
		int n = snprintf(line + off, sizeof(line) - off, "%s%s:%s%s%s:%u", i ? " " : "",
				 tp_proto_name(l->proto), v6 ? "[" : "", l->host, v6 ? "]" : "", l->port);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_info("sipreg listening on %s with %u worker%s, store %s", line, c->workers,
		 c->workers == 1 ? "" : "s", c->db);
	if (c->ndomains == 0)
		log_info("no --domain given: serving every domain that has subscribers");
	log_info("protections: rate limit %u requests/s per source%s, ban after %u failed "
		 "authentications in %u s for %u s%s, %u TCP connections per source, %zu trusted network%s",
		 c->guard.rate_limit, c->guard.rate_limit ? "" : " (off)", c->guard.ban_after,
		 c->guard.ban_window, c->guard.ban_time, c->guard.ban_after ? "" : " (off)",
		 c->guard.tcp_per_source, c->guard.ntrusted, c->guard.ntrusted == 1 ? "" : "s");
}

/*
 * The main thread waits for a signal, and once a second drops expired
 * bindings from memory (popping heaps, no scan), checkpoints the store's
 * WAL (off the writer's path), and asks the writer to delete expired rows
 * too (by the expires index, a few dozen inside each commit, so the work
 * spreads evenly over the registrations' own fsyncs).
 */
static void main_loop(struct server *s, const sigset_t *set)
{
	struct timespec one = { 1, 0 };

	for (;;) {
		int sig = sigtimedwait(set, NULL, &one);
		time_t now = time(NULL);

		if (sig == SIGTERM || sig == SIGINT) {
			log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		reg_expire(s->reg, now);
		store_checkpoint(s->store);
		store_purge_request(s->store, now);
	}
}

static void shutdown_workers(struct server *s)
{
	uint64_t one = 1;

	atomic_store(&s->stop, true);
	for (unsigned i = 0; i < s->nworkers; i++)
		if (write(s->workers[i].wake.fd, &one, sizeof(one)) < 0)
			log_warn("cannot wake worker %u", i);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i].thread, NULL);
	/* Let the writer finish what it holds and answer those requests.
	 * Answering one may hand its waiters to another worker's inbox, so
	 * drain until every inbox stays empty; waiters are not run again. */
	store_writer_stop(s->store);
	for (bool any = true; any;) {
		any = false;
		for (unsigned i = 0; i < s->nworkers; i++) {
			struct worker *w = &s->workers[i];
			struct inbox_node *n = w->inbox_head, *next;

			w->inbox_head = w->inbox_tail = NULL;
			for (; n; n = next) {
				any = true;
				next = n->next;
				if (n->kind == INBOX_COMMITTED)
					on_committed(w, container_of(n, struct pending, node));
				else
					free(container_of(n, struct parked, node));
			}
			tp_worker_flush(&w->tp);
		}
	}
}

static struct reg_cfg reg_cfg_of(const struct cfg *c)
{
	struct reg_cfg rc = {
		.min_expires = c->min_expires, .max_expires = c->max_expires,
		.default_expires = c->default_expires, .max_contacts = c->max_contacts,
	};

	for (size_t i = 0; i < c->ndomains; i++)
		rc.domains[rc.ndomains++] = c->domains[i];
	return rc;
}

/*
 * TCP connections need file descriptors: raise the soft limit as far as
 * the hard one allows (root may raise both).  Returns the connections
 * the limit leaves room for.
 */
static unsigned fit_fd_limit(const struct cfg *c)
{
	rlim_t spare = 64 + 16 * (rlim_t)c->workers, want = c->tcp_max_conns + spare;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return c->tcp_max_conns;
	if (rl.rlim_cur < want) {
		struct rlimit up = rl;

		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want && geteuid() == 0)
			up.rlim_max = want;
		up.rlim_cur = up.rlim_max == RLIM_INFINITY || up.rlim_max >= want ? want : up.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur >= want)
		return c->tcp_max_conns;
	log_warn("the open-file limit (%llu) leaves room for %llu TCP connections, not %u: "
		 "raise it (ulimit -n, LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		 rl.rlim_cur > spare + 16 ? (unsigned long long)(rl.rlim_cur - spare) : 16ULL,
		 c->tcp_max_conns);
	return rl.rlim_cur > spare + 16 ? (unsigned)(rl.rlim_cur - spare) : 16;
}

/* --user: once the ports are bound, run as that user for good. */
static int drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (!*user)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		snprintf(err, errlen, "--user %s: sipreg must start as root to change user", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "--user %s: cannot change to it: %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "--user %s: root could be regained; refusing to run", user);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}

/* Bind, drop privileges, then open the store and load it. */
static int start(struct server *s, char *err, size_t errlen)
{
	const struct cfg *c = s->cfg;
	struct reg_cfg rc = reg_cfg_of(c);

	for (size_t i = 0; i < c->nlisten; i++)
		if (tp_check_free(&c->listen[i], err, errlen) < 0)
			return -1;
	s->tcp_max = fit_fd_limit(c);
	s->guard = guard_new(&c->guard, 65536);
	s->workers = calloc(c->workers, sizeof(*s->workers));
	if (!s->guard || !s->workers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < c->workers; i++) {
		s->nworkers = i + 1;
		if (worker_init(s, &s->workers[i], i, err, errlen) < 0)
			return -1;
	}
	if (drop_privileges(c->user, err, errlen) < 0)
		return -1;
	s->store = store_open(c->db, err, errlen);
	if (!s->store)
		return -1;
	s->reg = reg_new(&rc);
	s->auth = auth_new(c->nonce_ttl, 1u << 20);
	if (!s->reg || !s->auth) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (reg_load(s->reg, s->store, time(NULL)) < 0) {
		snprintf(err, errlen, "cannot load bindings from %.200s", c->db);
		return -1;
	}
	if (store_writer_start(s->store) < 0) {
		snprintf(err, errlen, "cannot start the store writer");
		return -1;
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (worker_attach(s, &s->workers[i], err, errlen) < 0)
			return -1;
	return 0;
}

int server_run(const struct cfg *c)
{
	struct server s = { .cfg = c };
	char err[512] = "";
	sigset_t set;
	int status = 1;

	/* Workers inherit a mask with the stop signals blocked; the main
	 * thread takes them with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	hash_seed_init();

	if (start(&s, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	for (unsigned i = 0; i < s.nworkers; i++)
		if (pthread_create(&s.workers[i].thread, NULL, worker_main, &s.workers[i]) != 0) {
			log_err("cannot start worker threads");
			s.nworkers = i;
			shutdown_workers(&s);
			goto out;
		}
	log_listening(c);
	main_loop(&s, &set);
	shutdown_workers(&s);
	status = 0;
out:
	for (unsigned i = 0; i < s.nworkers; i++)
		worker_free(&s.workers[i]);
	free(s.workers);
	reg_free(s.reg);
	auth_free(s.auth);
	guard_free(s.guard);
	if (s.store)
		store_close(s.store);
	log_info("sipreg stopped");
	return status;
}
