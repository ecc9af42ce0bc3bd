/* loop.c - epoll event loop. */
#include "util/loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

int loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static int ctl(struct loop *l, int op, struct ev *e, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = e };

	return epoll_ctl(l->epfd, op, e->fd, &ee) < 0 ? -errno : 0;
}

int loop_add(struct loop *l, struct ev *e, uint32_t events) { return ctl(l, EPOLL_CTL_ADD, e, events); }
int loop_mod(struct loop *l, struct ev *e, uint32_t events) { return ctl(l, EPOLL_CTL_MOD, e, events); }

void loop_del(struct loop *l, struct ev *e)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL);
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(l->epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct ev *e = evs[i].data.ptr;

		e->cb(e, evs[i].events);
	}
	return n;
}

int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
