/* transport.c - address parsing and dispatch to the transport ops tables. */
#include "transport/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct tp_ops *ops[TP__COUNT] = { &tp_udp_ops, &tp_tcp_ops };

const char *tp_proto_name(enum tp_proto p) { return p < TP__COUNT ? ops[p]->name : "?"; }

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int tp_listen_parse(const char *spec, struct tp_listen *out, char *err, size_t errlen)
{
	const char *rest, *colon;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "udp:", 4) == 0)
		out->proto = TP_UDP;
	else if (strncmp(spec, "tcp:", 4) == 0)
		out->proto = TP_TCP;
	else
		goto bad;
	rest = spec + 4;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - rest - 1);
		rest++;
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - rest);
	}
	if (hl == 0 || hl >= TP_HOST_MAX || parse_port(colon + 1, &out->port) < 0)
		goto bad;
	memcpy(out->host, rest, hl);
	out->host[hl] = '\0';
	if (inet_pton(AF_INET, out->host, &((struct sockaddr_in *)&out->addr)->sin_addr) == 1) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&out->addr;

		sa->sin_family = AF_INET;
		sa->sin_port = htons(out->port);
		out->addr_len = sizeof(*sa);
	} else if (inet_pton(AF_INET6, out->host, &((struct sockaddr_in6 *)&out->addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&out->addr;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(out->port);
		out->addr_len = sizeof(*sa);
	} else {
		snprintf(err, errlen, "'%s': host must be an IPv4 or IPv6 address", spec);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "'%s': expected PROTO:HOST:PORT, e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060",
		 spec);
	return -1;
}

void tp_addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, uint16_t *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sa->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(sa->sin6_port);
	} else {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sa->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(sa->sin_port);
	}
}

void tp_src_text(const struct tp_src *src, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;

	tp_addr_text(&src->peer, ip, sizeof(ip), &port);
	if (src->peer.ss_family == AF_INET6)
		snprintf(out, cap, "%s:[%s]:%u", tp_proto_name(src->proto), ip, port);
	else
		snprintf(out, cap, "%s:%s:%u", tp_proto_name(src->proto), ip, port);
}

int tp_worker_init(struct tp_worker *tw, struct loop *l, const struct tp_limits *lim,
		   tp_msg_cb cb, void *ctx)
{
	memset(tw, 0, sizeof(*tw));
	tw->loop = l;
	tw->lim = *lim;
	tw->on_msg = cb;
	tw->ctx = ctx;
	return 0;
}

int tp_worker_listen(struct tp_worker *tw, const struct tp_listen *l, char *err, size_t errlen)
{
	return ops[l->proto]->listen(tw, l, err, errlen);
}

int tp_send(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len)
{
	return dst->proto < TP__COUNT ? ops[dst->proto]->send(tw, dst, buf, len) : -EINVAL;
}

void tp_worker_tick(struct tp_worker *tw, int64_t now_ms)
{
	for (int i = 0; i < TP__COUNT; i++)
		if (tw->priv[i] && ops[i]->tick)
			ops[i]->tick(tw, now_ms);
}

void tp_bound(struct tp_worker *tw, const struct tp_src *src, time_t until)
{
	if (src->proto < TP__COUNT && ops[src->proto]->bound)
		ops[src->proto]->bound(tw, src, until);
}

void tp_worker_flush(struct tp_worker *tw)
{
	for (int i = 0; i < TP__COUNT; i++)
		if (tw->priv[i] && ops[i]->flush)
			ops[i]->flush(tw);
}

void tp_worker_free(struct tp_worker *tw)
{
	for (int i = 0; i < TP__COUNT; i++)
		if (tw->priv[i])
			ops[i]->free(tw);
}

int tp_bind_socket(const struct tp_listen *l, int type)
{
	int fd, one = 1, err;

	fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int tp_check_free(const struct tp_listen *l, char *err, size_t errlen)
{
	int type = l->proto == TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (fd < 0)
		return 0; /* the real bind will report it */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s:%s%s%s:%u: %s%s", tp_proto_name(l->proto),
			 l->addr.ss_family == AF_INET6 ? "[" : "", l->host,
			 l->addr.ss_family == AF_INET6 ? "]" : "", l->port, strerror(errno),
			 errno == EADDRINUSE ? " (is another sipreg or SIP server running?)" : "");
	}
	close(fd);
	return rc;
}
