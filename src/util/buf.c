/* buf.c - bounded output buffer. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ob_put(struct obuf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void ob_sl(struct obuf *b, sl_t s) { ob_put(b, s.p, s.len); }
void ob_str(struct obuf *b, const char *s) { ob_put(b, s, strlen(s)); }

void ob_u64(struct obuf *b, unsigned long long v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ob_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}
