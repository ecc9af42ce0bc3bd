/* log.c - leveled stderr logging and per-class rate limiting. */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level cur_level = LOG_INFO;
static const char *names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level l) { cur_level = l; }
enum log_level log_get_level(void) { return cur_level; }

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

static void vlog(enum log_level l, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, names[l]);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One write per line so lines from several threads never interleave. */
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	if (l > cur_level)
		return;
	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

#define RL_WINDOW 10

static struct {
	time_t last;
	unsigned long suppressed;
} rl[LOG_RL__COUNT];
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;

void log_rl(enum log_rl_key key, const char *fmt, ...)
{
	char line[768];
	unsigned long sup;
	time_t now = time(NULL);
	va_list ap;

	if (LOG_WARN > cur_level || (unsigned)key >= LOG_RL__COUNT)
		return;
	pthread_mutex_lock(&rl_lock);
	if (rl[key].last && now - rl[key].last < RL_WINDOW) {
		rl[key].suppressed++;
		pthread_mutex_unlock(&rl_lock);
		return;
	}
	sup = rl[key].suppressed;
	rl[key].suppressed = 0;
	rl[key].last = now;
	pthread_mutex_unlock(&rl_lock);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (sup)
		log_warn("%s (%lu similar events suppressed in the last %ds)", line, sup, RL_WINDOW);
	else
		log_warn("%s", line);
}
