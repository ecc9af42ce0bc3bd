/*
 * slice.h - (pointer, length) views into a buffer we do not own.
 *
 * The SIP parser never copies: every header, URI part and parameter is a
 * slice into the datagram or TCP buffer it came in.  A slice is valid as long
 * as that buffer is; nothing here allocates.
 */
#ifndef SR_SLICE_H
#define SR_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
	const char *p;
	size_t len;
} sl_t;

#define SL_NULL ((sl_t){ NULL, 0 })
#define SL(lit) ((sl_t){ (lit), sizeof(lit) - 1 })

static inline sl_t sl_make(const char *p, size_t len) { return (sl_t){ p, len }; }
static inline sl_t sl_cstr(const char *s) { return (sl_t){ s, s ? strlen(s) : 0 }; }
static inline bool sl_empty(sl_t s) { return s.len == 0; }
static inline bool sl_isset(sl_t s) { return s.p != NULL; }

bool sl_eq(sl_t a, sl_t b);
bool sl_caseeq(sl_t a, sl_t b);
bool sl_caseeq_cstr(sl_t a, const char *s);
bool sl_eq_cstr(sl_t a, const char *s);
bool sl_case_prefix(sl_t s, const char *prefix);
/* Trim SP, HT, CR and LF on both ends (CR/LF appear inside folded values). */
sl_t sl_trim(sl_t s);
/* Position of c in s, or -1. */
long sl_chr(sl_t s, char c);
/*
 * Parse an unsigned decimal of at most 'maxdigits' digits covering the whole
 * slice.  Returns 0, or -1 when empty, not a number or too long.  Values are
 * saturated at UINT64_MAX never reached thanks to the digit bound.
 */
int sl_to_u64(sl_t s, unsigned maxdigits, uint64_t *out);
/* Copy into a NUL-terminated buffer; truncates; returns bytes copied. */
size_t sl_copy(sl_t s, char *dst, size_t cap);

#endif
