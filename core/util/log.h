/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdarg.h>

#include "util/macro.h"

enum {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

void log_set_max_level(int level);
int log_get_max_level(void);

/* Where lines go: stderr (default) or an fd (the supervisor's log file). */
void log_set_fd(int fd);

/* Also keeps every line up to info level in `name` under dir_fd (consumed; -1 stops), mode
 * 0600, at most `max` bytes: then it becomes `name`.1, as does the file of the run before.
 * `name` is borrowed for as long as the copy is kept. */
int log_keep_copy(int dir_fd, const char *name, unsigned long long max);

/* Writes "vmsilo-core: [prefix: ]message\n"; `error` sets %m. Returns -abs(error). */
int log_fullv(int level, int error, const char *prefix, const char *fmt, va_list ap);
int log_full(int level, int error, const char *prefix, const char *fmt, ...) _printf_(4, 5);

#define log_error_errno(e, ...) log_full(LOG_LEVEL_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_LEVEL_WARNING, (e), NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full(LOG_LEVEL_DEBUG, (e), NULL, __VA_ARGS__)
#define log_error(...) (void) log_full(LOG_LEVEL_ERR, 0, NULL, __VA_ARGS__)
#define log_warning(...) (void) log_full(LOG_LEVEL_WARNING, 0, NULL, __VA_ARGS__)
#define log_notice(...) (void) log_full(LOG_LEVEL_NOTICE, 0, NULL, __VA_ARGS__)
#define log_info(...) (void) log_full(LOG_LEVEL_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...) (void) log_full(LOG_LEVEL_DEBUG, 0, NULL, __VA_ARGS__)

/* Config errors: "path:line: message"; returns -EINVAL. */
int log_syntax(const char *path, unsigned line, const char *fmt, ...) _printf_(3, 4);

int log_oom(void);

/* How many error-level messages were logged so far (printed or not). */
unsigned log_error_count(void);
