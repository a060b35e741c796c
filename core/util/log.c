/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static int max_level = LOG_LEVEL_NOTICE;
static int log_fd = STDERR_FILENO;
static unsigned n_errors;

/* The kept copy (log_keep_copy) */
static int copy_dir = -1;
static int copy_fd = -1;
static const char *copy_name;
static unsigned long long copy_size, copy_max;

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

/* NAME becomes NAME.1 (replacing the one before); a new NAME starts empty. */
static void copy_rotate(void) {
        char old[256];

        if (copy_fd >= 0)
                close(copy_fd);
        snprintf(old, sizeof(old), "%s.1", copy_name);
        (void) renameat(copy_dir, copy_name, copy_dir, old);
        copy_fd = openat(copy_dir, copy_name,
                         O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        copy_size = 0;
}

int log_keep_copy(int dir_fd, const char *name, unsigned long long max) {
        if (copy_fd >= 0)
                close(copy_fd);
        if (copy_dir >= 0)
                close(copy_dir);
        copy_fd = -1;
        copy_dir = dir_fd;
        copy_name = name;
        copy_max = max < 4096 ? 4096 : max;
        if (dir_fd < 0)
                return 0;
        copy_rotate(); /* the previous run's log stays as NAME.1 */
        return copy_fd < 0 ? -errno : 0;
}

/* A log read after the fact needs the time of each line. */
static void copy_write(const char *buf, size_t n) {
        char stamp[32];
        struct iovec iov[2] = { { stamp, 0 }, { (void *) buf, n } };
        time_t now = time(NULL);
        struct tm tm;
        ssize_t w;

        if (copy_fd < 0)
                return;
        iov[0].iov_len = gmtime_r(&now, &tm) ? strftime(stamp, sizeof(stamp), "%FT%TZ ", &tm) : 0;
        if (copy_size + iov[0].iov_len + n > copy_max)
                copy_rotate();
        if (copy_fd >= 0 && (w = writev(copy_fd, iov, 2)) > 0)
                copy_size += (unsigned long long) w;
}

int log_fullv(int level, int error, const char *prefix, const char *fmt, va_list ap) {
        char buf[4096];
        int n;

        if (error < 0)
                error = -error;
        if (level <= LOG_LEVEL_ERR)
                n_errors++;
        if (level > max_level && (copy_fd < 0 || level > LOG_LEVEL_INFO))
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
        copy_write(buf, (size_t) n);
        if (level <= max_level)
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
