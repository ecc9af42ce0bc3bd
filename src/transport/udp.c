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

struct udp_sock {
	struct ev ev;
	struct tp_worker *tw;
};

struct udp_state {
	struct udp_sock socks[TP_MAX_LISTEN];
	size_t nsocks;
	char (*bufs)[UDP_BUF];
};

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
	if (!st->bufs) {
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

static int udp_send(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len)
{
	(void)tw;
	for (;;) {
		ssize_t n = sendto(dst->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&dst->peer,
				   dst->peer_len);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static void udp_free(struct tp_worker *tw)
{
	struct udp_state *st = tw->priv[TP_UDP];

	for (size_t i = 0; i < st->nsocks; i++) {
		loop_del(tw->loop, &st->socks[i].ev);
		close(st->socks[i].ev.fd);
	}
	free(st->bufs);
	free(st);
	tw->priv[TP_UDP] = NULL;
}

const struct tp_ops tp_udp_ops = {
	.proto = TP_UDP,
	.name = "udp",
	.listen = udp_listen,
	.send = udp_send,
	.free = udp_free,
};
