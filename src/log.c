// SPDX-License-Identifier: Apache-2.0
/*
 * log.c - leveled messages to stderr, prefixed with the program name so they
 * stand out from --trace output on stdout.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	int n;
	va_list ap;

	if (level > current_level || level > LOG_DEBUG)
		return;
	/* One write per line: the endpoint thread logs too. */
	n = snprintf(line, sizeof(line), "sba-observer: %s: ", names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fputs(line, stderr);
}
