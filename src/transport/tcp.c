/*
 * tcp.c - the TCP transport: a SO_REUSEPORT listener per worker, and the
 * worker's connections.  Messages are framed by Content-Length (sip_frame);
 * pipelined messages are handed over one by one, partial ones wait.  Every
 * connection has bounded buffers and two clocks: an idle timeout, which
 * spares connections that carry a live binding (the phone behind a NAT is
 * reachable only through it), and a timeout for completing a started
 * message, against slow senders.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sip/sip.h"
#include "transport/transport.h"
#include "util/log.h"

#define TCP_BUCKETS 4096
#define TCP_OUT_MAX (256 * 1024)
#define TCP_READ_CHUNK 4096
#define TCP_EVICT_QUIET_MS 10000     /* quiet this long: may make room for another */

struct tcp_conn;

/* A queue of connections threaded through one of their link pairs. */
struct conn_link {
	struct tcp_conn *prev, *next;
};

struct conn_queue {
	struct tcp_conn *head, *tail;
	size_t link;                      /* offsetof the conn_link in struct tcp_conn */
};

struct tcp_conn {
	struct ev ev;
	struct tcp_conn *hnext;           /* by id */
	struct conn_link lru;             /* least recently active first */
	struct conn_link part;            /* holding an unfinished message, oldest first */
	struct tcp_state *st;
	uint64_t id;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_cap;
	int64_t last_ms;                  /* last byte received */
	int64_t partial_ms;               /* when the unfinished message began, 0 if none */
	time_t bound_until;
	bool dead;
	bool close_after_write;
	bool gated;                       /* counted by tw->gate: tell it at close */
};

struct tcp_listener {
	struct ev ev;
	struct tcp_state *st;
};

struct tcp_state {
	struct tp_worker *tw;
	struct tcp_listener lis[TP_MAX_LISTEN];
	size_t nlis;
	struct tcp_conn *buckets[TCP_BUCKETS];
	struct conn_queue lru, part;
	struct tcp_conn *dead;            /* freed after the loop iteration */
	size_t nconns;
	uint64_t next_id;
	char *scratch;                    /* reads land here first */
	size_t scratch_cap;
};

static struct conn_link *link_of(const struct conn_queue *q, struct tcp_conn *c)
{
	return (struct conn_link *)((char *)c + q->link);
}

static void q_unlink(struct conn_queue *q, struct tcp_conn *c)
{
	struct conn_link *l = link_of(q, c);

	if (l->prev)
		link_of(q, l->prev)->next = l->next;
	else
		q->head = l->next;
	if (l->next)
		link_of(q, l->next)->prev = l->prev;
	else
		q->tail = l->prev;
	l->prev = l->next = NULL;
}

static void q_push(struct conn_queue *q, struct tcp_conn *c)
{
	struct conn_link *l = link_of(q, c);

	l->prev = q->tail;
	l->next = NULL;
	if (q->tail)
		link_of(q, q->tail)->next = c;
	else
		q->head = c;
	q->tail = c;
}

/*
 * Connections holding the start of a message, in the order they started
 * one: the tick closes those past the header timeout even when they have
 * gone silent, so an unfinished message cannot pin its buffer for the
 * whole idle timeout.
 */
static void partial_set(struct tcp_state *st, struct tcp_conn *c, int64_t since)
{
	if (since && !c->partial_ms)
		q_push(&st->part, c);
	else if (!since && c->partial_ms)
		q_unlink(&st->part, c);
	c->partial_ms = since;
}

static struct tcp_conn *conn_find(struct tcp_state *st, uint64_t id)
{
	struct tcp_conn *c = st->buckets[id % TCP_BUCKETS];

	while (c && c->id != id)
		c = c->hnext;
	return c;
}

/* Close now, free later: the loop may still hold events for it. */
static void conn_close(struct tcp_conn *c)
{
	struct tcp_state *st = c->st;
	struct tcp_conn **pp = &st->buckets[c->id % TCP_BUCKETS];

	if (c->dead)
		return;
	c->dead = true;
	loop_del(st->tw->loop, &c->ev);
	close(c->ev.fd);
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	q_unlink(&st->lru, c);
	partial_set(st, c, 0);
	st->nconns--;
	if (st->tw->lim.tcp_open)
		atomic_fetch_sub(st->tw->lim.tcp_open, 1);
	if (c->gated)
		st->tw->gate(st->tw->ctx, (const struct sockaddr *)&c->peer, false);
	c->lru.next = st->dead;
	st->dead = c;
}

static void reap(struct tcp_state *st)
{
	while (st->dead) {
		struct tcp_conn *c = st->dead;

		st->dead = c->lru.next;
		free(c->in);
		free(c->out);
		free(c);
	}
}

/* Send what the socket takes now: the count sent (maybe short), or -errno. */
static ssize_t send_now(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, p + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		off += (size_t)n;
	}
	return (ssize_t)off;
}

static int conn_flush(struct tcp_conn *c)
{
	ssize_t off = send_now(c->ev.fd, c->out, c->out_len);

	if (off < 0)
		return (int)off;
	memmove(c->out, c->out + off, c->out_len - (size_t)off);
	c->out_len -= (size_t)off;
	if (c->out_len == 0) {
		free(c->out); /* idle connections hold no buffers */
		c->out = NULL;
		c->out_cap = 0;
	}
	loop_mod(c->st->tw->loop, &c->ev, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
	return 0;
}

/* Append to the output queue (for what the socket did not take at once). */
static int conn_queue(struct tcp_conn *c, const char *buf, size_t len)
{
	if (c->out_len + len > TCP_OUT_MAX)
		return -ENOBUFS; /* the peer does not read: give up on it */
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/* Send at once when nothing waits before it: the usual case needs no copy. */
static int conn_write(struct tcp_conn *c, const char *buf, size_t len)
{
	ssize_t off = 0;
	int rc;

	if (c->out_len == 0) {
		off = send_now(c->ev.fd, buf, len);
		if (off < 0)
			return (int)off;
		if ((size_t)off == len)
			return 0;
	}
	rc = conn_queue(c, buf + off, len - (size_t)off);
	if (rc == 0)
		loop_mod(c->st->tw->loop, &c->ev, EPOLLIN | EPOLLOUT);
	return rc;
}

/* Hand every complete message in buf over; returns the bytes used (a
 * partial message at the end is left to the caller). */
static size_t conn_frames(struct tcp_conn *c, const char *buf, size_t len)
{
	struct tp_worker *tw = c->st->tw;
	size_t off = 0;

	while (!c->dead && off < len) {
		size_t skip = 0, msglen = 0;
		struct sip_perr err;
		int rc = sip_frame(buf + off, len - off, tw->lim.max_msg, &skip, &msglen, &err);
		struct tp_src src = { .proto = TP_TCP, .fd = c->ev.fd, .conn_id = c->id,
				      .peer = c->peer, .peer_len = c->peer_len };

		if (rc == 0) {
			/* RFC 5626 keep-alive: a lone CRLFCRLF gets a CRLF. */
			if (skip >= 4 && skip == len - off)
				conn_write(c, "\r\n", 2);
			off += skip;
			break;
		}
		if (rc < 0) {
			/* Let the server answer what it can (400/513), then close. */
			c->close_after_write = true;
			src.frame_status = err.status;
			src.frame_reason = err.reason;
			tw->on_msg(tw->ctx, buf + off + skip, len - off - skip, &src);
			return len;
		}
		tw->on_msg(tw->ctx, buf + off + skip, msglen, &src);
		off += skip + msglen;
	}
	return off;
}

/* Room for 'need' bytes in c->in, up to max + 8 (so that sip_frame sees a
 * message over the limit); -EMSGSIZE beyond. */
static int conn_reserve(struct tcp_conn *c, size_t need, size_t max)
{
	size_t cap = c->in_cap ? c->in_cap : TCP_READ_CHUNK;
	char *p;

	if (need > max + 8)
		return -EMSGSIZE;
	while (cap < need)
		cap *= 2;
	if (cap > max + 8)
		cap = max + 8;
	if (cap <= c->in_cap)
		return 0;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/*
 * With nothing buffered, read into the worker's scratch buffer and frame
 * there: whole messages are handled without a copy or an allocation, and
 * only the start of an unfinished one is kept in the connection.
 */
static void conn_read(struct tcp_conn *c)
{
	struct tcp_state *st = c->st;
	struct tp_worker *tw = st->tw;
	int64_t now = loop_now_ms();

	for (;;) {
		bool scratch = c->in_len == 0;
		char *dst = scratch ? st->scratch : c->in + c->in_len;
		size_t room = scratch ? st->scratch_cap : c->in_cap - c->in_len;
		size_t used;
		ssize_t n;

		if (!scratch && room == 0) {
			if (conn_reserve(c, c->in_len + 1, tw->lim.max_msg) < 0) {
				/* Over the limit: sip_frame says 513 and we close. */
				(void)conn_frames(c, c->in, c->in_len);
				if (!c->dead)
					conn_close(c);
				return;
			}
			continue;
		}
		n = recv(c->ev.fd, dst, room, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			continue;
		}
		c->last_ms = now;
		if (c->partial_ms && now - c->partial_ms > (int64_t)tw->lim.tcp_header_timeout * 1000) {
			log_rl(LOG_RL_TCP, "tcp: closing a connection that took over %us to send one message",
			       tw->lim.tcp_header_timeout);
			conn_close(c);
			return;
		}
		q_unlink(&st->lru, c);
		q_push(&st->lru, c);
		if (scratch) {
			used = conn_frames(c, dst, (size_t)n);
			if (c->dead)
				return;
			if (used < (size_t)n) {
				if (conn_reserve(c, (size_t)n - used, tw->lim.max_msg) < 0) {
					conn_close(c);
					return;
				}
				memcpy(c->in, dst + used, (size_t)n - used);
				c->in_len = (size_t)n - used;
			}
		} else {
			c->in_len += (size_t)n;
			used = conn_frames(c, c->in, c->in_len);
			if (c->dead)
				return;
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			if (c->in_len == 0) {
				free(c->in);
				c->in = NULL;
				c->in_cap = 0;
			}
		}
		partial_set(st, c, c->in_len ? (c->partial_ms ? c->partial_ms : now) : 0);
		if (c->close_after_write && c->out_len == 0) {
			conn_close(c);
			return;
		}
	}
}

static void conn_event(struct ev *e, uint32_t events)
{
	struct tcp_conn *c = e->arg;

	if (c->dead)
		return;
	if (events & EPOLLOUT) {
		if (conn_flush(c) < 0) {
			conn_close(c);
			return;
		}
		if (c->close_after_write && c->out_len == 0) {
			conn_close(c);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

/*
 * When the worker is full, make room by closing the least recently active
 * connection that carries no live binding and has been quiet a while: idle
 * connections cannot lock out new clients.  Looks at a bounded number.
 */
static bool make_room(struct tcp_state *st, int64_t now_ms)
{
	time_t now = time(NULL);
	struct tcp_conn *c = st->lru.head;

	for (int i = 0; c && i < 32; i++, c = c->lru.next) {
		if (now_ms - c->last_ms < TCP_EVICT_QUIET_MS)
			break; /* the rest are more recent still */
		if (c->bound_until <= now && c->out_len == 0) {
			conn_close(c);
			return true;
		}
	}
	return false;
}

/* Take one of the server's connection slots (shared by the workers),
 * making room if they are all taken. */
static bool conn_slot(struct tcp_state *st, int64_t now)
{
	struct tp_limits *lim = &st->tw->lim;

	if (!lim->tcp_open)
		return st->nconns < lim->tcp_max_conns || make_room(st, now);
	if (atomic_fetch_add(lim->tcp_open, 1) < lim->tcp_max_conns)
		return true;
	if (make_room(st, now))
		return true; /* its close gave one back */
	atomic_fetch_sub(lim->tcp_open, 1);
	return false;
}

static void accept_one(struct tcp_state *st, int lfd)
{
	struct tp_worker *tw = st->tw;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int64_t now = loop_now_ms();
	struct tcp_conn *c;
	int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* The source's own limits first: a source over them must not make
	 * the server close someone else's idle connection to make room. */
	if (tw->gate && !tw->gate(tw->ctx, (const struct sockaddr *)&peer, true))
		goto refuse;
	if (!conn_slot(st, now)) {
		log_rl(LOG_RL_TCP, "tcp: connection refused: the limit of %u connections is reached",
		       tw->lim.tcp_max_conns);
		goto ungate;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto unslot;
	c->st = st;
	c->id = ++st->next_id;
	c->peer = peer;
	c->peer_len = plen;
	c->last_ms = now;
	c->gated = tw->gate != NULL;
	c->ev = (struct ev){ fd, conn_event, c };
	if (loop_add(tw->loop, &c->ev, EPOLLIN) < 0) {
		free(c);
		goto unslot;
	}
	c->hnext = st->buckets[c->id % TCP_BUCKETS];
	st->buckets[c->id % TCP_BUCKETS] = c;
	q_push(&st->lru, c);
	st->nconns++;
	return;
unslot:
	if (tw->lim.tcp_open)
		atomic_fetch_sub(tw->lim.tcp_open, 1);
ungate:
	if (tw->gate)
		tw->gate(tw->ctx, (const struct sockaddr *)&peer, false);
refuse:
	close(fd);
}

static void listener_event(struct ev *e, uint32_t events)
{
	struct tcp_listener *l = e->arg;

	(void)events;
	for (int i = 0; i < 64; i++) {
		uint64_t before = l->st->next_id;

		errno = 0;
		accept_one(l->st, e->fd);
		if (l->st->next_id == before && errno == EAGAIN)
			break;
	}
}

static struct tcp_state *tcp_state(struct tp_worker *tw)
{
	struct tcp_state *st = tw->priv[TP_TCP];

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (st) {
			st->tw = tw;
			st->lru.link = offsetof(struct tcp_conn, lru);
			st->part.link = offsetof(struct tcp_conn, part);
			st->scratch_cap = tw->lim.max_msg + 8;
			st->scratch = malloc(st->scratch_cap);
			if (!st->scratch) {
				free(st);
				st = NULL;
			}
		}
		tw->priv[TP_TCP] = st;
	}
	return st;
}

static int tcp_listen(struct tp_worker *tw, const struct tp_listen *l, char *err, size_t errlen)
{
	struct tcp_state *st = tcp_state(tw);
	struct tcp_listener *tl;
	int fd;

	if (!st || st->nlis == TP_MAX_LISTEN) {
		snprintf(err, errlen, "too many TCP listen addresses");
		return -ENOMEM;
	}
	fd = tp_bind_socket(l, SOCK_STREAM);
	if (fd < 0) {
		errno = -fd;
		goto fail;
	}
	tl = &st->lis[st->nlis];
	tl->st = st;
	tl->ev = (struct ev){ fd, listener_event, tl };
	if (listen(fd, 1024) < 0 || loop_add(tw->loop, &tl->ev, EPOLLIN) < 0) {
		close(fd);
		goto fail;
	}
	st->nlis++;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on tcp:%s:%u: %s", l->host, l->port, strerror(errno));
	return -errno;
}

static int tcp_send(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len)
{
	struct tcp_state *st = tw->priv[TP_TCP];
	struct tcp_conn *c = st ? conn_find(st, dst->conn_id) : NULL;
	int rc;

	if (!c || c->dead)
		return -ENOTCONN; /* the client closed: it will retry on a new one */
	rc = conn_write(c, buf, len);
	if (rc < 0)
		conn_close(c);
	else if (c->close_after_write && c->out_len == 0)
		conn_close(c);
	return rc;
}

static void tcp_bound(struct tp_worker *tw, const struct tp_src *src, time_t until)
{
	struct tcp_state *st = tw->priv[TP_TCP];
	struct tcp_conn *c = st ? conn_find(st, src->conn_id) : NULL;

	if (c && until > c->bound_until)
		c->bound_until = until;
}

/*
 * The LRU list is ordered by last activity, so the walk stops at the first
 * connection that is not idle: the cost is the number of idle ones.  An
 * idle connection that carries a live binding goes back to the tail to be
 * looked at again one idle period later; a silent one in the middle of a
 * message is closed (slow senders that keep dripping are caught on read).
 */
static void tcp_tick(struct tp_worker *tw, int64_t now_ms)
{
	struct tcp_state *st = tw->priv[TP_TCP];
	int64_t idle_ms = (int64_t)tw->lim.tcp_idle_timeout * 1000;
	time_t now = time(NULL);
	struct tcp_conn *c;

	reap(st);
	while ((c = st->part.head) && now_ms - c->partial_ms > (int64_t)tw->lim.tcp_header_timeout * 1000) {
		log_rl(LOG_RL_TCP, "tcp: closing a connection that took over %us to send one message",
		       tw->lim.tcp_header_timeout);
		conn_close(c);
	}
	while ((c = st->lru.head) && now_ms - c->last_ms > idle_ms) {
		if (c->partial_ms || c->bound_until <= now) {
			conn_close(c);
			continue;
		}
		c->last_ms = now_ms;
		q_unlink(&st->lru, c);
		q_push(&st->lru, c);
		if (st->lru.head == c)
			break;
	}
	reap(st);
}

static void tcp_free(struct tp_worker *tw)
{
	struct tcp_state *st = tw->priv[TP_TCP];

	while (st->lru.head)
		conn_close(st->lru.head);
	reap(st);
	for (size_t i = 0; i < st->nlis; i++) {
		loop_del(tw->loop, &st->lis[i].ev);
		close(st->lis[i].ev.fd);
	}
	free(st->scratch);
	free(st);
	tw->priv[TP_TCP] = NULL;
}

const struct tp_ops tp_tcp_ops = {
	.proto = TP_TCP,
	.name = "tcp",
	.listen = tcp_listen,
	.send = tcp_send,
	.tick = tcp_tick,
	.bound = tcp_bound,
	.free = tcp_free,
};
