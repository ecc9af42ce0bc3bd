/*
 * log.h - stderr logging with levels, and a rate limiter for events that
 * the network can trigger at will (malformed packets, failed logins): those
 * are logged once per key and window, with a count of what was suppressed.
 */
#ifndef SR_LOG_H
#define SR_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                  \
	do {                                            \
		if (log_get_level() >= LOG_DEBUG)       \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/* Print and exit(1): only at start-up or on a broken invariant. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Rate-limited warning: at most one line per 'key' (a small integer class,
 * e.g. LOG_RL_PARSE) every 10 seconds; the next line reports how many were
 * suppressed.  Thread-safe.
 */
enum log_rl_key { LOG_RL_PARSE = 0, LOG_RL_AUTH, LOG_RL_STORE, LOG_RL_SEND, LOG_RL_TCP, LOG_RL_GUARD,
		LOG_RL__COUNT };
void log_rl(enum log_rl_key key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
