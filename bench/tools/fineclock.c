/*
 * fineclock.so - LD_PRELOAD shim for the benchmark's SIPp.
 *
 * SIPp 3.6 reads CLOCK_MONOTONIC_COARSE, which ticks once per jiffy (4 ms on
 * this kernel, HZ=250): every response time it records is then a multiple of
 * 4 ms, too coarse for a registrar that answers in well under a millisecond.
 * This shim maps the coarse clocks to their precise counterparts (vDSO calls
 * too, ~20 ns), so SIPp's rtd values carry microseconds.  Built by bench.py:
 *   cc -O2 -shared -fPIC -o fineclock.so fineclock.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	if (id == CLOCK_MONOTONIC_COARSE)
		id = CLOCK_MONOTONIC;
	else if (id == CLOCK_REALTIME_COARSE)
		id = CLOCK_REALTIME;
	return real(id, ts);
}
