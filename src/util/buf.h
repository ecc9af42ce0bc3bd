/*
 * buf.h - bounded output buffer for building responses and SQL values.
 *
 * Writes past the capacity set 'overflow' instead of growing: a response is
 * built into a fixed per-worker buffer, and an overflow is answered with 500
 * rather than by allocating on the hot path.
 */
#ifndef SR_BUF_H
#define SR_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/slice.h"

struct obuf {
	char *p;
	size_t len;
	size_t cap;
	bool overflow;
};

static inline void ob_init(struct obuf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

void ob_put(struct obuf *b, const void *p, size_t n);
void ob_sl(struct obuf *b, sl_t s);
void ob_str(struct obuf *b, const char *s);
void ob_u64(struct obuf *b, unsigned long long v);
void ob_printf(struct obuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline sl_t ob_slice(const struct obuf *b) { return sl_make(b->p, b->len); }

#endif
