/* slice.c - comparisons and conversions on (ptr, len) slices. */
#include "util/slice.h"


bool sl_eq(sl_t a, sl_t b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII only: SIP tokens and hosts are ASCII, and no locale applies. */
static inline unsigned char lc(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

bool sl_caseeq(sl_t a, sl_t b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (a.p[i] != b.p[i] && lc((unsigned char)a.p[i]) != lc((unsigned char)b.p[i]))
			return false;
	return true;
}

bool sl_caseeq_cstr(sl_t a, const char *s) { return sl_caseeq(a, sl_cstr(s)); }
bool sl_eq_cstr(sl_t a, const char *s) { return sl_eq(a, sl_cstr(s)); }

bool sl_case_prefix(sl_t s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len >= n && sl_caseeq(sl_make(s.p, n), sl_make(prefix, n));
}

static bool is_lws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

sl_t sl_trim(sl_t s)
{
	while (s.len && is_lws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_lws(s.p[s.len - 1]))
		s.len--;
	return s;
}

long sl_chr(sl_t s, char c)
{
	const char *q = s.len ? memchr(s.p, c, s.len) : NULL;
	return q ? (long)(q - s.p) : -1;
}

int sl_to_u64(sl_t s, unsigned maxdigits, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > maxdigits || maxdigits > 19)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return 0;
}

size_t sl_copy(sl_t s, char *dst, size_t cap)
{
	size_t n;

	if (cap == 0)
		return 0;
	n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return n;
}
