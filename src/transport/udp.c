/*
 * udp.c - the UDP transport: one SO_REUSEPORT socket per listen address and
 * worker, read in batches with recvmmsg.  The kernel hashes each source to
 * one worker's socket, so a client's retransmissions meet its transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "transport/transport.h"
#include "util/log.h"

#define UDP_BATCH 16
#define UDP_BUF 65536   /* any datagram fits: the size limit is applied later */
#define UDP_OUT_MAX 64           /* answers queued before a sendmmsg */
#define UDP_OUT_BYTES (128 * 1024)

struct udp_sock {
	struct ev ev;
	struct tp_worker *tw;
};

/*
 * Answers are queued and leave together with sendmmsg when the batch that
 * produced them is done (udp_flush): one system call for a batch instead
 * of one per datagram.
 */
struct udp_out {
	struct mmsghdr msgs[UDP_OUT_MAX];
	struct iovec iov[UDP_OUT_MAX];
	struct sockaddr_storage peers[UDP_OUT_MAX];
	int fds[UDP_OUT_MAX];
	unsigned n;
	size_t used;
	char buf[UDP_OUT_BYTES];
};

struct udp_state {
	struct udp_sock socks[TP_MAX_LISTEN];
	size_t nsocks;
	char (*bufs)[UDP_BUF];
	struct udp_out *out;
};

static void udp_flush(struct tp_worker *tw);

static void udp_read(struct ev *e, uint32_t events)
{
	struct udp_sock *s = e->arg;
	struct udp_state *st = s->tw->priv[TP_UDP];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage peers[UDP_BATCH];
	int n;

	(void)events;
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ st->bufs[i], UDP_BUF };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i],
						   .msg_namelen = sizeof(peers[i]),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
		msgs[i].msg_len = 0;
	}
	n = recvmmsg(e->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct tp_src src = { .proto = TP_UDP, .fd = e->fd, .peer_len = msgs[i].msg_hdr.msg_namelen };

		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than any datagram we accept */
		memcpy(&src.peer, &peers[i], sizeof(peers[i]));
		s->tw->on_msg(s->tw->ctx, st->bufs[i], msgs[i].msg_len, &src);
	}
	udp_flush(s->tw);
}

static struct udp_state *udp_state(struct tp_worker *tw)
{
	struct udp_state *st = tw->priv[TP_UDP];

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->bufs = malloc(sizeof(*st->bufs) * UDP_BATCH);
	st->out = calloc(1, sizeof(*st->out));
	if (!st->bufs || !st->out) {
		free(st->bufs);
		free(st->out);
		free(st);
		return NULL;
	}
	tw->priv[TP_UDP] = st;
	return st;
}

static int udp_listen(struct tp_worker *tw, const struct tp_listen *l, char *err, size_t errlen)
{
	struct udp_state *st = udp_state(tw);
	struct udp_sock *s;
	int fd, rcvbuf = 4 << 20;

	if (!st || st->nsocks == TP_MAX_LISTEN) {
		snprintf(err, errlen, "too many UDP listen addresses");
		return -ENOMEM;
	}
	fd = tp_bind_socket(l, SOCK_DGRAM);
	if (fd < 0) {
		errno = -fd;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	s = &st->socks[st->nsocks];
	s->tw = tw;
	s->ev = (struct ev){ fd, udp_read, s };
	if (loop_add(tw->loop, &s->ev, EPOLLIN) < 0) {
		close(fd);
		goto fail;
	}
	st->nsocks++;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on udp:%s:%u: %s", l->host, l->port, strerror(errno));
	return -errno;
}

static int send_now(const struct tp_src *dst, const char *buf, size_t len)
{
	for (;;) {
		ssize_t n = sendto(dst->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&dst->peer,
				   dst->peer_len);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Send the queue: one sendmmsg per run of answers on the same socket. */
static void udp_flush(struct tp_worker *tw)
{
	struct udp_state *st = tw->priv[TP_UDP];
	struct udp_out *o = st ? st->out : NULL;
	unsigned i = 0;

	if (!o || o->n == 0)
		return;
	while (i < o->n) {
		unsigned run = 1;
		int sent;

		while (i + run < o->n && o->fds[i + run] == o->fds[i])
			run++;
		sent = sendmmsg(o->fds[i], &o->msgs[i], run, MSG_DONTWAIT);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0) {
			/* The first one failed (a full socket buffer, an unreachable
			 * peer): drop it, as the network might, and go on. */
			log_rl(LOG_RL_SEND, "udp: an answer was not sent: %s", strerror(errno));
			sent = 1;
		}
		i += (unsigned)sent;
	}
	o->n = 0;
	o->used = 0;
}

static int udp_send(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len)
{
	struct udp_state *st = tw->priv[TP_UDP];
	struct udp_out *o = st ? st->out : NULL;
	unsigned k;

	if (!o || len > UDP_OUT_BYTES / 4)
		return send_now(dst, buf, len);
	if (o->n == UDP_OUT_MAX || o->used + len > UDP_OUT_BYTES)
		udp_flush(tw);
	k = o->n++;
	memcpy(o->buf + o->used, buf, len);
	memcpy(&o->peers[k], &dst->peer, dst->peer_len);
	o->iov[k] = (struct iovec){ o->buf + o->used, len };
	o->msgs[k].msg_hdr = (struct msghdr){ .msg_name = &o->peers[k], .msg_namelen = dst->peer_len,
					      .msg_iov = &o->iov[k], .msg_iovlen = 1 };
	o->fds[k] = dst->fd;
	o->used += len;
	return 0;
}

static void udp_free(struct tp_worker *tw)
{
	struct udp_state *st = tw->priv[TP_UDP];

	udp_flush(tw);
	for (size_t i = 0; i < st->nsocks; i++) {
		loop_del(tw->loop, &st->socks[i].ev);
		close(st->socks[i].ev.fd);
	}
	free(st->bufs);
	free(st->out);
	free(st);
	tw->priv[TP_UDP] = NULL;
}

const struct tp_ops tp_udp_ops = {
	.proto = TP_UDP,
	.name = "udp",
	.listen = udp_listen,
	.send = udp_send,
	.flush = udp_flush,
	.free = udp_free,
};
