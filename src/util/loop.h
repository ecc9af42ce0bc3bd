/*
 * loop.h - a small epoll event loop, one per worker thread.
 *
 * Each watched descriptor has a struct ev whose callback runs when it is
 * ready.  Timers are not kept here: the owner of the loop runs its periodic
 * work (transaction expiry, idle connections) between waits.
 */
#ifndef SR_LOOP_H
#define SR_LOOP_H

#include <stdint.h>

struct ev;
typedef void (*ev_cb)(struct ev *e, uint32_t events);

struct ev {
	int fd;
	ev_cb cb;
	void *arg;
};

struct loop {
	int epfd;
};

int loop_init(struct loop *l);
void loop_close(struct loop *l);
int loop_add(struct loop *l, struct ev *e, uint32_t events);
int loop_mod(struct loop *l, struct ev *e, uint32_t events);
void loop_del(struct loop *l, struct ev *e);
/* Wait up to timeout_ms and dispatch; returns events handled or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);

/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

#endif
