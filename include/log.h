/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - the observer's messages to stderr, one line each, with a level.
 * Only main, the loader and the exporter log; modules return error codes.
 * Nothing that came from the wire or from a secret is ever passed here.
 */
#ifndef SBA_LOG_H
#define SBA_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* SBA_LOG_H */
