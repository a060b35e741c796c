/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_LEVEL_NOTICE;
static int log_fd = STDERR_FILENO;
static unsigned n_errors;

unsigned log_error_count(void) {
        return n_errors;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_fd(int fd) {
        log_fd = fd;
}

int log_fullv(int level, int error, const char *prefix, const char *fmt, va_list ap) {
        char buf[4096];
        int n;

        if (error < 0)
                error = -error;
        if (level <= LOG_LEVEL_ERR)
                n_errors++;
        if (level > max_level)
                return -error;

        errno = error;
        n = snprintf(buf, sizeof(buf), "vmsilo-core: %s%s", strempty(prefix), prefix ? ": " : "");
        if (n < 0)
                return -error;
        errno = error; /* %m below */
        vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);
        n = (int) strlen(buf);
        if (n >= (int) sizeof(buf) - 1)
                n = (int) sizeof(buf) - 2;
        buf[n++] = '\n';
        (void) !write(log_fd, buf, (size_t) n);
        return -error;
}

int log_full(int level, int error, const char *prefix, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_fullv(level, error, prefix, fmt, ap);
        va_end(ap);
        return r;
}

int log_oom(void) {
        return log_error_errno(ENOMEM, "out of memory");
}

int log_syntax(const char *path, unsigned line, const char *fmt, ...) {
        char prefix[4096];
        va_list ap;

        /* line 0: a value that was not read from a file (exec's options) */
        if (line > 0)
                snprintf(prefix, sizeof(prefix), "%s:%u", path, line);
        else
                snprintf(prefix, sizeof(prefix), "%s", path);
        va_start(ap, fmt);
        (void) log_fullv(LOG_LEVEL_ERR, 0, prefix, fmt, ap);
        va_end(ap);
        return -EINVAL;
}
