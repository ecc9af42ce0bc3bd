/*
 * save.c - processing a REGISTER, RFC 3261 §10.3 steps 1-8 in their order:
 * served domain, Require, authentication, authorisation of the AOR, then the
 * Contact set with expiry, Call-ID/CSeq ordering and the contact limit.
 * The change is staged here and installed by reg_finish() once durable.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registrar/reg_int.h"
#include "util/log.h"

#define AOR_MAX 512
#define UA_MAX 255

static const char OOM[] = "Server Out of Memory";

/* One Contact entry of the request, parsed. */
struct req_contact {
	struct sip_naddr na;
	uint32_t expires;          /* granted, 0 = remove */
};

struct req_contacts {
	struct req_contact c[REG_MAX_CONTACTS_REQ];
	size_t n;
	bool wildcard;
};

/* Served domains --------------------------------------------------------- */

static int domain_served(const struct reg *r, struct reg_thread *t, sl_t host)
{
	int rc;

	if (r->cfg.ndomains == 0) {
		rc = store_domain_exists(t->reader, host);
		return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
	}
	for (size_t i = 0; i < r->cfg.ndomains; i++)
		if (sl_caseeq_cstr(host, r->cfg.domains[i]))
			return 1;
	return 0;
}

/* Authentication --------------------------------------------------------- */

enum { REG_AUTH_NONE = -1, REG_AUTH_STORE = -2 };

static sl_t ha1_for(const struct store_user *u, sl_t algorithm)
{
	enum auth_alg a = AUTH_MD5;

	if (algorithm.len && auth_alg_parse(algorithm, &a) < 0)
		return SL_NULL;
	return sl_cstr(a == AUTH_SHA256 ? u->ha1_sha256 : u->ha1_md5);
}

/*
 * Try every Authorization header for our realm; the first that verifies
 * wins.  Returns an enum auth_result, REG_AUTH_NONE when no usable
 * credentials were offered, REG_AUTH_STORE when the store failed.
 */
static int authenticate(struct reg_thread *t, const struct reg_req *q, sl_t realm, sl_t *user)
{
	const struct sip_msg *m = q->m;
	const struct sip_hdr *h;
	int best = REG_AUTH_NONE;
	sl_t failed = SL_NULL;

	for (h = sip_hdr_get(m, SIP_H_AUTHORIZATION); h; h = sip_hdr_next(m, h)) {
		struct auth_cred c;
		struct store_user u;
		enum auth_result res;
		int rc;

		if (auth_cred_parse(h->value, &c) < 0 || !sl_caseeq_cstr(c.scheme, "Digest") ||
		    !sl_caseeq(c.realm, realm))
			continue;
		rc = store_user_get(t->reader, c.username, realm, &u);
		if (rc < 0 && rc != -ENOENT)
			return REG_AUTH_STORE;
		res = auth_verify(t->auth, &c, m->method, realm,
				  rc == 0 ? ha1_for(&u, c.algorithm) : SL_NULL, q->now);
		if (res == AUTH_OK) {
			sl_t alg = c.algorithm.len ? c.algorithm : SL("MD5");

			log_debug("auth: %.*s@%.*s authenticated with %.*s", (int)c.username.len,
				  c.username.p, (int)realm.len, realm.p, (int)alg.len, alg.p);
			*user = c.username;
			return AUTH_OK;
		}
		if (res == AUTH_FAIL)
			failed = c.username;
		if (best == REG_AUTH_NONE || (best == AUTH_FAIL && res == AUTH_STALE))
			best = (int)res;
	}
	if (best == AUTH_FAIL && q->auth_failed)
		q->auth_failed(q->arg, failed, realm);
	return best;
}

static void reply_challenge(struct reg_thread *t, const struct reg_req *q, sl_t realm, bool stale,
			    struct obuf *resp)
{
	reg_reply_simple(resp, q, 401, "Unauthorized");
	auth_challenge(t->auth, resp, realm, q->algs, q->nalgs, stale, q->now);
	sip_resp_end(resp);
}

/* The To AOR: sip/sips with a user, canonical; user must be the
 * authenticated one (403), domain the Request-URI's (404). */
static int check_aor(const struct reg_req *q, sl_t user, sl_t domain, char *aor, size_t *aorlen,
		     struct obuf *resp)
{
	const struct sip_uri *to = &q->m->to.uri;
	char uname[256];
	int n, un;

	n = sip_aor_canon(to, aor, AOR_MAX);
	if (n < 0) {
		reg_reply_simple(resp, q, 400, "Bad To Address-of-Record");
		goto fail;
	}
	un = sip_unescape(to->user, uname, sizeof(uname));
	if (un < 0 || (size_t)un != user.len || memcmp(uname, user.p, user.len) != 0) {
		reg_reply_simple(resp, q, 403, "Forbidden");
		goto fail;
	}
	if (!sl_caseeq(to->host, domain)) {
		reg_reply_simple(resp, q, 404, "Not Found");
		goto fail;
	}
	*aorlen = (size_t)n;
	return 0;
fail:
	sip_resp_end(resp);
	return -1;
}

/* Contacts ---------------------------------------------------------------- */

/* Expires header: a delta; anything else (a date, garbage) counts as absent. */
static bool header_expires(const struct sip_msg *m, uint32_t *out)
{
	const struct sip_hdr *h = sip_hdr_get(m, SIP_H_EXPIRES);

	return h && sip_delta_parse(sl_trim(h->value), out) == 0;
}

static uint32_t grant(const struct reg *r, const struct sip_msg *m, const struct sip_naddr *na,
		      bool *too_brief)
{
	uint32_t e = r->cfg.default_expires;
	sl_t v;

	if (!(sip_param_get(na->params, "expires", &v) == 1 && sip_delta_parse(v, &e) == 0) &&
	    !header_expires(m, &e))
		e = r->cfg.default_expires;
	if (e == 0)
		return 0;
	/* §10.3 step 7: too brief only below one hour; never raise. */
	if (e < r->cfg.min_expires && e < 3600)
		*too_brief = true;
	return e > r->cfg.max_expires ? r->cfg.max_expires : e;
}

/* A contact is stored and echoed: no NUL or other control bytes in it
 * (line breaks of folding are turned into spaces by contact_text). */
static bool contact_clean(sl_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

static const char *parse_contacts(const struct reg *r, const struct sip_msg *m,
				  struct req_contacts *rc, bool *too_brief)
{
	const struct sip_hdr *h;

	rc->n = 0;
	rc->wildcard = false;
	for (h = sip_hdr_get(m, SIP_H_CONTACT); h; h = sip_hdr_next(m, h)) {
		size_t pos = 0;
		sl_t item;
		int k;

		while ((k = sip_list_next(h->value, &pos, &item)) == 1) {
			struct req_contact *c;
			sl_t qv;
			int q;

			if (item.len == 1 && item.p[0] == '*') {
				rc->wildcard = true;
				continue;
			}
			if (rc->n == REG_MAX_CONTACTS_REQ)
				return "Too Many Contacts";
			if (item.len > REG_MAX_CONTACT_LEN)
				return "Contact Too Long";
			c = &rc->c[rc->n];
			if (!contact_clean(item) || sip_naddr_parse(item, &c->na) < 0)
				return "Bad Contact Header";
			if (sip_param_get(c->na.params, "q", &qv) == 1 && sip_qvalue_parse(qv, &q) < 0)
				return "Bad q Value in Contact";
			c->expires = grant(r, m, &c->na, too_brief);
			rc->n++;
		}
		if (k < 0)
			return "Bad Contact Header";
	}
	if (rc->wildcard) {
		uint32_t e;

		/* §10.3 step 6: "*" only alone and only with Expires: 0. */
		if (rc->n > 0 || m->count[SIP_H_CONTACT] != 1 || !header_expires(m, &e) || e != 0)
			return "Wildcard Contact Needs Expires 0 And No Other Contact";
		*too_brief = false;
	}
	return NULL;
}

/* Every run of CR/LF and the white space around it becomes one space, so
 * that nothing we echo can break a header line. */
static size_t unfold(char *p, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		if (p[i] != '\r' && p[i] != '\n') {
			p[o++] = p[i++];
			continue;
		}
		while (o && (p[o - 1] == ' ' || p[o - 1] == '\t'))
			o--;
		while (i < len && (p[i] == '\r' || p[i] == '\n' || p[i] == ' ' || p[i] == '\t'))
			i++;
		p[o++] = ' ';
	}
	return o;
}

/* The stored form of a contact: as received, unfolded, minus its expires param. */
static size_t contact_text(const struct sip_naddr *na, char *out, size_t cap)
{
	struct obuf b;
	size_t pos = 0;
	sl_t name, val;

	ob_init(&b, out, cap);
	ob_put(&b, na->whole.p, (size_t)(na->params.p && na->params.len ?
					 na->params.p - na->whole.p : (long)na->whole.len));
	while (sip_param_next(na->params, &pos, &name, &val) == 1) {
		if (sl_caseeq_cstr(name, "expires"))
			continue;
		ob_str(&b, ";");
		ob_sl(&b, name);
		if (val.len) {
			ob_str(&b, "=");
			ob_sl(&b, val);
		}
	}
	return b.overflow ? 0 : unfold(out, b.len);
}

/* Staging ------------------------------------------------------------------ */

static void stage_free(struct reg_stage *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nslots; i++)
		if (st->slots[i].act == SLOT_PUT)
			free(st->slots[i].new);
	free(st->resp);
	free(st);
}

static struct reg_stage *stage_new(size_t maxslots)
{
	struct reg_stage *st;
	size_t sz = sizeof(*st) + maxslots * (sizeof(struct reg_slot) + sizeof(struct store_change));

	st = calloc(1, sz);
	if (!st)
		return NULL;
	st->slots = (struct reg_slot *)(st + 1);
	st->changes = (struct store_change *)(st->slots + maxslots);
	return st;
}

static bool slot_live(const struct reg_slot *s)
{
	return s->act == SLOT_PUT || (s->act == SLOT_KEEP && !s->expired);
}

static bool slot_matches(const struct reg_slot *s, const struct sip_uri *u)
{
	const struct reg_binding *b = s->act == SLOT_PUT ? s->new : s->old;
	struct sip_naddr na;

	if (!b || sip_naddr_parse(sl_make(b->contact, b->contact_len), &na) < 0)
		return false;
	return sip_uri_eq(&na.uri, u);
}

struct stage_in {
	struct reg *r;
	const struct reg_req *q;
	const struct req_contacts *rc;
	sl_t ua;
};

/* A binding row for contact c with id, from the request. */
static struct reg_binding *binding_for(const struct stage_in *in, const struct req_contact *c,
				       int64_t id)
{
	char text[REG_MAX_CONTACT_LEN + 1];
	size_t n = contact_text(&c->na, text, sizeof(text));

	if (n == 0)
		return NULL;
	return reg_binding_new(id, sl_make(text, n), in->q->m->call_id, in->q->m->cseq,
			       (int64_t)in->q->now + c->expires, in->q->now,
			       sl_cstr(in->q->source), in->ua);
}

/* Apply one contact to the slots; returns a reason on failure. */
static const char *stage_contact(struct reg_stage *st, const struct stage_in *in,
				 const struct req_contact *c)
{
	const struct sip_msg *m = in->q->m;
	struct reg_slot *s = NULL;

	for (size_t i = 0; i < st->nslots && !s; i++)
		if (st->slots[i].act != SLOT_DEL && slot_matches(&st->slots[i], &c->na.uri))
			s = &st->slots[i];
	if (s && s->old && !s->touched && !s->expired &&
	    sl_eq(m->call_id, sl_make(s->old->call_id, s->old->call_id_len)) &&
	    m->cseq <= s->old->cseq)
		return "CSeq Out of Order";
	if (!s) {
		if (c->expires == 0)
			return NULL; /* removing what is not bound: nothing to do */
		s = &st->slots[st->nslots++];
		memset(s, 0, sizeof(*s));
	}
	if (s->act == SLOT_PUT)
		free(s->new);
	s->new = NULL;
	s->touched = true;
	if (c->expires == 0) {
		s->act = s->old ? SLOT_DEL : SLOT_KEEP;
		if (!s->old)
			s->expired = true; /* added then removed in one request */
		return NULL;
	}
	s->new = binding_for(in, c, s->old ? s->old->id : atomic_fetch_add(&in->r->next_id, 1));
	s->act = s->new ? SLOT_PUT : SLOT_KEEP;
	return s->new ? NULL : OOM;
}

static const char *stage_wildcard(struct reg_stage *st, const struct sip_msg *m)
{
	for (size_t i = 0; i < st->nslots; i++) {
		struct reg_slot *s = &st->slots[i];

		if (s->expired)
			continue;
		if (sl_eq(m->call_id, sl_make(s->old->call_id, s->old->call_id_len)) &&
		    m->cseq <= s->old->cseq)
			return "CSeq Out of Order";
		s->act = SLOT_DEL;
	}
	return NULL;
}

/* Over the limit: replace the least recently refreshed bindings that this
 * request did not name.  A request naming more than the limit is refused. */
static int stage_limit(struct reg_stage *st, unsigned max)
{
	size_t live = 0, mine = 0;

	for (size_t i = 0; i < st->nslots; i++) {
		live += slot_live(&st->slots[i]);
		mine += st->slots[i].act == SLOT_PUT;
	}
	if (mine > max)
		return -1;
	while (live > max) {
		struct reg_slot *oldest = NULL;

		for (size_t i = 0; i < st->nslots; i++) {
			struct reg_slot *s = &st->slots[i];

			if (s->act != SLOT_KEEP || s->expired || !s->old)
				continue;
			if (!oldest || s->old->updated < oldest->old->updated ||
			    (s->old->updated == oldest->old->updated && s->old->id < oldest->old->id))
				oldest = s;
		}
		if (!oldest)
			break;
		oldest->act = SLOT_DEL;
		live--;
	}
	return 0;
}

static void stage_changes(struct reg_stage *st)
{
	for (size_t i = 0; i < st->nslots; i++) {
		struct reg_slot *s = &st->slots[i];
		struct store_change *ch = &st->changes[st->nchanges];

		if (s->act == SLOT_PUT) {
			ch->op = STORE_PUT;
			reg_binding_fill_store(s->new, st->aor, &ch->b);
			if (s->new->expires > st->bound_until)
				st->bound_until = s->new->expires;
			st->nchanges++;
		} else if (s->act == SLOT_DEL && s->old) {
			memset(ch, 0, sizeof(*ch));
			ch->op = STORE_DEL;
			ch->b.id = s->old->id;
			ch->b.aor = st->aor->key;
			st->nchanges++;
		}
	}
}

/* 200 listing the staged set; kept in the stage, with the head's bounds. */
static int stage_reply(struct reg_stage *st, const struct reg_req *q, struct obuf *resp)
{
	reg_reply_simple(resp, q, 200, "OK");
	st->head_start = (size_t)(memchr(resp->p, '\n', resp->len) - (void *)resp->p) + 1;
	st->head_end = resp->len;
	reg_reply_contacts(resp, st->slots, st->nslots, q->now);
	reg_reply_date(resp, q->now);
	sip_resp_end(resp);
	if (resp->overflow)
		return -1;
	if (st->nchanges == 0)
		return 0;
	st->resp = malloc(resp->len);
	if (!st->resp)
		return -1;
	memcpy(st->resp, resp->p, resp->len);
	st->resp_len = resp->len;
	return 0;
}

/*
 * Under the shard lock: snapshot the AOR's bindings into slots, apply the
 * request, and decide.  Returns the rc; on REG_REPLY resp is complete.
 */
static enum reg_rc stage_locked(struct reg_stage *st, const struct stage_in *in, struct obuf *resp)
{
	const struct reg_req *q = in->q;
	const char *why = NULL;

	for (struct reg_binding *b = st->aor->bindings; b; b = b->next) {
		struct reg_slot *s = &st->slots[st->nslots++];

		s->old = b;
		s->expired = b->expires <= q->now;
	}
	if (in->rc->wildcard)
		why = stage_wildcard(st, q->m);
	for (size_t i = 0; i < in->rc->n && !why; i++)
		why = stage_contact(st, in, &in->rc->c[i]);
	if (why) {
		reg_reply_simple(resp, q, why == OOM ? 500 : 400, why);
		goto reply;
	}
	if (stage_limit(st, in->r->cfg.max_contacts) < 0) {
		reg_reply_simple(resp, q, 403, "Too Many Contacts");
		goto reply;
	}
	stage_changes(st);
	if (stage_reply(st, q, resp) < 0) {
		resp->len = 0;
		resp->overflow = false;
		reg_reply_simple(resp, q, 500, "Response Too Large");
		goto reply;
	}
	if (st->nchanges == 0)
		return REG_REPLY;
	st->aor->busy = true;
	return REG_COMMIT;
reply:
	sip_resp_end(resp);
	return REG_REPLY;
}

static enum reg_rc reply(struct obuf *resp, const struct reg_req *q, int status, const char *why)
{
	reg_reply_simple(resp, q, status, why);
	if (status == 503)
		ob_str(resp, "Retry-After: 5\r\n");
	sip_resp_end(resp);
	return REG_REPLY;
}

/* The AOR is busy committing: queue this request behind it. */
static enum reg_rc park(struct reg_aor *a, const struct reg_req *q, sl_t user)
{
	struct reg_waiter *w = q->park ? q->park(q->arg, user) : NULL;

	if (!w)
		return REG_REPLY;
	w->next = NULL;
	if (a->wait_tail)
		a->wait_tail->next = w;
	else
		a->wait_head = w;
	a->wait_tail = w;
	return REG_PARKED;
}

static enum reg_rc save_contacts(struct reg *r, const struct reg_req *q, const char *aor,
				 size_t aorlen, sl_t user, const struct req_contacts *rc,
				 struct obuf *resp, struct reg_stage **stage)
{
	const struct sip_hdr *uah = sip_hdr_get(q->m, SIP_H_USER_AGENT);
	struct stage_in in = { r, q, rc, SL("") };
	struct reg_stage *st = NULL;
	struct reg_shard *sh;
	struct reg_aor *a;
	char ua[UA_MAX];
	uint64_t h;
	enum reg_rc ret;

	/* Stored and printed by `sipreg bindings`: bounded, no control bytes. */
	if (uah) {
		size_t n = uah->value.len < UA_MAX ? uah->value.len : UA_MAX;

		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)uah->value.p[i];

			ua[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		}
		in.ua = sl_make(ua, n);
	}
	sh = reg_shard_of(r, aor, aorlen, &h);
	pthread_mutex_lock(&sh->lock);
	a = reg_aor_get(sh, aor, aorlen, h);
	if (a && a->busy) {
		ret = park(a, q, user);
		pthread_mutex_unlock(&sh->lock);
		if (ret == REG_PARKED)
			return ret;
		goto oom;
	}
	/* A slot per current binding (there may be more than the limit when
	 * it was lowered since they were stored) and per named contact. */
	st = a ? stage_new(a->nbindings + rc->n + 1) : NULL;
	if (!st) {
		if (a)
			reg_aor_maybe_free(sh, a);
		pthread_mutex_unlock(&sh->lock);
		goto oom;
	}
	st->shard = sh;
	st->aor = a;
	ret = stage_locked(st, &in, resp);
	if (ret == REG_REPLY)
		reg_aor_maybe_free(sh, a);
	pthread_mutex_unlock(&sh->lock);
	if (ret == REG_REPLY)
		stage_free(st);
	else
		*stage = st;
	return ret;
oom:
	resp->len = 0;
	resp->overflow = false;
	return reply(resp, q, 503, "Service Unavailable");
}

/* A query (no Contact): list what is bound, change nothing. */
static enum reg_rc query(struct reg *r, const struct reg_req *q, const char *aor, size_t aorlen,
			 struct obuf *resp)
{
	struct reg_slot slots[64];
	struct reg_shard *sh;
	struct reg_aor *a;
	uint64_t h;

	reg_reply_simple(resp, q, 200, "OK");
	sh = reg_shard_of(r, aor, aorlen, &h);
	pthread_mutex_lock(&sh->lock);
	a = reg_aor_find(sh, aor, aorlen, h);
	for (struct reg_binding *b = a ? a->bindings : NULL; b;) {
		size_t n = 0;

		/* In chunks, so the listing needs no allocation. */
		for (; b && n < 64; b = b->next, n++)
			slots[n] = (struct reg_slot){ .old = b };
		reg_reply_contacts(resp, slots, n, q->now);
	}
	pthread_mutex_unlock(&sh->lock);
	reg_reply_date(resp, q->now);
	sip_resp_end(resp);
	return REG_REPLY;
}

/* Steps 1-3: domain, Require, credentials.  On success *user is set. */
static bool admit(struct reg *r, struct reg_thread *t, const struct reg_req *q, sl_t domain,
		  sl_t *user, struct obuf *resp)
{
	char unsup[512];
	struct obuf u;
	int rc;

	rc = domain_served(r, t, domain);
	if (rc <= 0) {
		reply(resp, q, rc < 0 ? 503 : 404, rc < 0 ? "Service Unavailable" : "Not Found");
		return false;
	}
	ob_init(&u, unsup, sizeof(unsup));
	if (sip_require_list(q->m, &u)) {
		reg_reply_simple(resp, q, 420, "Bad Extension");
		ob_str(resp, "Unsupported: ");
		ob_put(resp, unsup, u.len);
		ob_str(resp, "\r\n");
		sip_resp_end(resp);
		return false;
	}
	if (q->preauth) {
		*user = q->preauth_user;
		return true;
	}
	rc = authenticate(t, q, domain, user);
	if (rc == AUTH_OK)
		return true;
	if (rc == REG_AUTH_STORE)
		reply(resp, q, 503, "Service Unavailable");
	else
		reply_challenge(t, q, domain, rc == AUTH_STALE, resp);
	return false;
}

enum reg_rc reg_save(struct reg *r, struct reg_thread *t, const struct reg_req *q,
		     struct obuf *resp, struct reg_stage **stage)
{
	const struct sip_msg *m = q->m;
	struct req_contacts rc;
	struct sip_uri ruri;
	char aor[AOR_MAX], realm[256];
	size_t aorlen;
	sl_t user = SL_NULL;
	const char *why;
	bool too_brief = false;

	*stage = NULL;
	if (sip_uri_parse(m->ruri, &ruri) < 0 || ruri.host.len == 0 || ruri.host.len >= sizeof(realm))
		return reply(resp, q, 400, "Bad Request-URI");
	/* The realm is the domain in lower case: HA1s were made with it,
	 * whatever case a client writes the Request-URI in. */
	for (size_t i = 0; i < ruri.host.len; i++)
		realm[i] = (char)tolower((unsigned char)ruri.host.p[i]);
	if (!admit(r, t, q, sl_make(realm, ruri.host.len), &user, resp))
		return REG_REPLY;
	if (check_aor(q, user, ruri.host, aor, &aorlen, resp) < 0)
		return REG_REPLY;
	why = parse_contacts(r, m, &rc, &too_brief);
	if (why)
		return reply(resp, q, 400, why);
	if (too_brief) {
		reg_reply_simple(resp, q, 423, "Interval Too Brief");
		ob_printf(resp, "Min-Expires: %u\r\n", r->cfg.min_expires);
		sip_resp_end(resp);
		return REG_REPLY;
	}
	if (rc.n == 0 && !rc.wildcard)
		return query(r, q, aor, aorlen, resp);
	return save_contacts(r, q, aor, aorlen, user, &rc, resp, stage);
}

const struct store_change *reg_stage_changes(const struct reg_stage *st, size_t *n)
{
	*n = st->nchanges;
	return st->changes;
}

time_t reg_stage_bound_until(const struct reg_stage *st) { return st->bound_until; }

/* Swap the staged set into the table (the store already has it). */
static void install(struct reg_stage *st)
{
	for (size_t i = 0; i < st->nslots; i++) {
		struct reg_slot *s = &st->slots[i];

		if (s->act == SLOT_KEEP)
			continue;
		/* The old binding may have expired and been purged meanwhile:
		 * only unlink it when it is still in the AOR's list. */
		if (s->old) {
			struct reg_binding *b = st->aor->bindings;

			while (b && b != s->old)
				b = b->next;
			if (b) {
				reg_binding_unlink(st->shard, b);
				free(b);
			}
		}
		if (s->act == SLOT_PUT) {
			reg_binding_link(st->shard, st->aor, s->new);
			s->new = NULL;
			s->act = SLOT_KEEP;
		}
	}
}

static void reply_503(struct reg_stage *st, struct obuf *resp)
{
	ob_str(resp, "SIP/2.0 503 Service Unavailable\r\n");
	ob_put(resp, st->resp + st->head_start, st->head_end - st->head_start);
	ob_str(resp, "Retry-After: 5\r\n");
	sip_resp_end(resp);
}

void reg_finish(struct reg *r, struct reg_stage *st, int result, struct obuf *resp,
		struct reg_waiter **waiters)
{
	struct reg_shard *sh = st->shard;
	struct reg_aor *a = st->aor;

	(void)r;
	pthread_mutex_lock(&sh->lock);
	if (result == 0)
		install(st);
	a->busy = false;
	*waiters = a->wait_head;
	a->wait_head = a->wait_tail = NULL;
	reg_aor_maybe_free(sh, a); /* waiters find or recreate it */
	pthread_mutex_unlock(&sh->lock);
	if (result == 0)
		ob_put(resp, st->resp, st->resp_len);
	else
		reply_503(st, resp);
	stage_free(st);
}
