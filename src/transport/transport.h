/*
 * transport.h - how SIP messages enter and leave, whatever the wire.
 *
 * Every transport (UDP and TCP now; TLS and WebSocket later) implements the
 * same ops table.  A transport hands each complete message it receives to
 * the worker's callback, with a struct tp_src that says where it came from;
 * the answer is sent back through tp_send() with that same tp_src, which
 * finds the socket (UDP) or the connection (TCP) it arrived on.
 *
 * Transports are per worker: each worker thread has its own sockets
 * (SO_REUSEPORT) and connections, and touches nothing of another's.
 */
#ifndef SR_TRANSPORT_H
#define SR_TRANSPORT_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "util/loop.h"

enum tp_proto { TP_UDP = 0, TP_TCP, TP__COUNT };

#define TP_HOST_MAX 64
#define TP_MAX_LISTEN 16

/* A listening address, from "udp:127.0.0.1:5060" or "tcp:[::1]:5060". */
struct tp_listen {
	enum tp_proto proto;
	char host[TP_HOST_MAX];
	uint16_t port;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* Where a message came from, and so where its answer goes. */
struct tp_src {
	enum tp_proto proto;
	int fd;                         /* UDP socket it arrived on */
	uint64_t conn_id;               /* TCP connection, 0 for UDP */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	/* Set when a stream could not be framed (400 bad Content-Length, 513
	 * too large): the bytes are the start of that message, handed over
	 * so the server can answer with this status before the close. */
	int frame_status;
	const char *frame_reason;
};

struct tp_limits {
	size_t max_msg;                 /* largest SIP message accepted */
	unsigned tcp_max_conns;         /* in all workers together */
	_Atomic unsigned *tcp_open;     /* shared count of open TCP connections (or NULL: per worker) */
	unsigned tcp_idle_timeout;      /* seconds without traffic before closing */
	unsigned tcp_header_timeout;    /* seconds to complete a started message */
};

struct tp_worker;
typedef void (*tp_msg_cb)(void *ctx, const char *buf, size_t len, const struct tp_src *src);

struct tp_ops {
	enum tp_proto proto;
	const char *name;
	int (*listen)(struct tp_worker *tw, const struct tp_listen *l, char *err, size_t errlen);
	/* May queue: what is queued leaves at the next flush. */
	int (*send)(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len);
	void (*flush)(struct tp_worker *tw);
	void (*tick)(struct tp_worker *tw, int64_t now_ms);
	/* A binding through this source lives until 'until' (TCP keeps it open). */
	void (*bound)(struct tp_worker *tw, const struct tp_src *src, time_t until);
	void (*free)(struct tp_worker *tw);
};

struct tp_worker {
	struct loop *loop;
	tp_msg_cb on_msg;
	void *ctx;
	struct tp_limits lim;
	void *priv[TP__COUNT];          /* each transport's per-worker state */
	/*
	 * Optional: asked before a connection from peer is accepted (open) and
	 * told when an accepted one closes (!open); returning false refuses
	 * it.  The server's per-source limits and bans live behind it.
	 */
	bool (*gate)(void *ctx, const struct sockaddr *peer, bool open);
};

const char *tp_proto_name(enum tp_proto p);
int tp_listen_parse(const char *spec, struct tp_listen *out, char *err, size_t errlen);
/* The peer as text ("127.0.0.1", "::1") and port. */
void tp_addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, uint16_t *port);
/* "udp:127.0.0.1:5062" / "tcp:[::1]:5062" */
void tp_src_text(const struct tp_src *src, char *out, size_t cap);

int tp_worker_init(struct tp_worker *tw, struct loop *l, const struct tp_limits *lim,
		   tp_msg_cb cb, void *ctx);
int tp_worker_listen(struct tp_worker *tw, const struct tp_listen *l, char *err, size_t errlen);
int tp_send(struct tp_worker *tw, const struct tp_src *dst, const char *buf, size_t len);
/* Send what tp_send queued; the worker calls it after each round of events. */
void tp_worker_flush(struct tp_worker *tw);
void tp_worker_tick(struct tp_worker *tw, int64_t now_ms);
void tp_bound(struct tp_worker *tw, const struct tp_src *src, time_t until);
void tp_worker_free(struct tp_worker *tw);

/* For transports: a non-blocking socket of 'type' bound to l, with
 * SO_REUSEPORT (one per worker) and IPV6_V6ONLY.  Returns the fd or -errno. */
int tp_bind_socket(const struct tp_listen *l, int type);

/*
 * Fail with a clear message when another process already listens on l:
 * SO_REUSEPORT would otherwise let a second sipreg share the port
 * silently.  Binds a socket without it, then closes it.
 */
int tp_check_free(const struct tp_listen *l, char *err, size_t errlen);

extern const struct tp_ops tp_udp_ops;
extern const struct tp_ops tp_tcp_ops;

#endif
