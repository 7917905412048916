/* SPDX-License-Identifier: MIT */
#ifndef UVMM_COMMON_LOG_H
#define UVMM_COMMON_LOG_H

/*
 * One logger for the VMM and the vfio-user library. Libraries log and
 * return errors; only the program decides to exit. Each file defines
 * LOG_PREFIX before including this header ("vfio-user", "pvh", ...).
 */

enum log_level {
	LOG_ERR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_program(const char *name);
void log_msg(enum log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifndef LOG_PREFIX
#define LOG_PREFIX NULL
#endif

#define log_err(...) log_msg(LOG_ERR, LOG_PREFIX, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, LOG_PREFIX, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, LOG_PREFIX, __VA_ARGS__)
#define log_debug(...)                                                   \
	do {                                                             \
		if (log_get_level() >= LOG_DEBUG)                        \
			log_msg(LOG_DEBUG, LOG_PREFIX, __VA_ARGS__);     \
	} while (0)
#define log_trace(...)                                                   \
	do {                                                             \
		if (log_get_level() >= LOG_TRACE)                        \
			log_msg(LOG_TRACE, LOG_PREFIX, __VA_ARGS__);     \
	} while (0)

#endif
