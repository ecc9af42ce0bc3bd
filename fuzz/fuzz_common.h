/*
 * fuzz_common.h - helpers shared by the libFuzzer targets in fuzz/.
 *
 * FUZZ_CHECK is the harness's own oracle: a property the code under test
 * promises (a slice stays inside its buffer, a response we built parses,
 * equality is symmetric ...).  A violation prints what broke and aborts, so
 * libFuzzer records it as a crash like any sanitizer report.  Setting
 * FUZZ_NO_CHECKS=1 in the environment turns the oracles off (sanitizers
 * stay on).  FUZZ_IGNORE_KNOWN=1 is for skipping the cases of already
 * reported, still open bugs (wrap the oracle in "if (!(known &&
 * fuzz_ignore_known()))", name the reproducer in fuzz/regressions/), so a
 * long run can look for new ones; none is open now.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/slice.h"

static inline bool fuzz_checks_on(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("FUZZ_NO_CHECKS");

		on = !(e && *e && strcmp(e, "0") != 0);
	}
	return on;
}

static inline bool fuzz_ignore_known(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("FUZZ_IGNORE_KNOWN");

		on = e && *e && strcmp(e, "0") != 0;
	}
	return on;
}

#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (fuzz_checks_on() && !(cond)) {                                   \
			fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ",      \
				__FILE__, __LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                                \
			fprintf(stderr, "\n");                                       \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* A non-empty slice must lie inside [base, base + len). */
static inline bool fuzz_sl_within(sl_t s, const char *base, size_t len)
{
	if (s.len == 0)
		return true;
	return s.p != NULL && s.p >= base && s.len <= len && (size_t)(s.p - base) <= len - s.len;
}

#define FUZZ_SL_IN(s_, base_, n_)                                                    \
	FUZZ_CHECK(fuzz_sl_within((s_), (base_), (n_)), "slice %s = (%p,%zu) outside (%p,%zu)", \
		   #s_, (const void *)(s_).p, (s_).len, (const void *)(base_), (size_t)(n_))

/*
 * Line structure of a message we send: every CR is followed by LF and every
 * LF preceded by CR (no bare CR or LF a lenient peer could take for a line
 * end).  Returns the offset of the first offender, or -1.
 */
static inline long fuzz_bare_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
			return (long)i;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return (long)i;
	}
	return -1;
}

/* Exact-size heap copy, so ASan sees any read past the end. */
static inline char *fuzz_dup(const void *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	if (!d)
		abort();
	if (n)
		memcpy(d, p, n);
	return d;
}

/* NUL-terminated heap copy (bytes after an embedded NUL are simply unseen). */
static inline char *fuzz_strdup(const void *p, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		abort();
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/* Find needle in hay[0..n). */
static inline const char *fuzz_memmem(const char *hay, size_t n, const char *needle, size_t nl)
{
	if (nl == 0 || n < nl)
		return NULL;
	for (size_t i = 0; i + nl <= n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
			return hay + i;
	return NULL;
}

#endif
