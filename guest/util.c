/* Small helpers shared by vmsilo-init and its agent mode. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int log_debug_enabled;
const char *log_prefix = "vmsilo-init";

static void log_va(const char *fmt, va_list ap) {
        char line[1024];
        int n;

        n = snprintf(line, sizeof(line), "%s: ", log_prefix);
        if (n < 0 || (size_t) n >= sizeof(line))
                return;
        vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, ap);
        strcat(line, "\n");
        (void) write_all(STDERR_FILENO, line, strlen(line));
}

void log_msg(const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        va_start(ap, fmt);
        log_va(fmt, ap);
        va_end(ap);
        errno = saved;
}

void log_dbg(const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (!log_debug_enabled)
                return;
        va_start(ap, fmt);
        log_va(fmt, ap);
        va_end(ap);
        errno = saved;
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int read_small_file(const char *path, char *buf, size_t size) {
        size_t len = 0;
        int fd, r = 0;

        if (size == 0)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (len < size - 1) {
                ssize_t n = read(fd, buf + len, size - 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        if (r < 0)
                return r;
        while (len > 0 && buf[len - 1] == '\n')
                len--;
        buf[len] = '\0';
        return (int) len;
}

int write_file(const char *path, const char *data, int flags) {
        int fd, r;

        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, strlen(data));
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

int mkdir_p(const char *path, int mode) {
        char buf[4096];
        size_t len = strlen(path);

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;

                *p = '\0';
                if (mkdir(buf, (mode_t) mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = c;
                if (c == '\0')
                        return 0;
        }
}

static pid_t spawn(char *const argv[], int devnull) {
        sigset_t all;
        pid_t pid;

        pid = fork();
        if (pid != 0)
                return pid < 0 ? -errno : pid;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (devnull) {
                int fd = open("/dev/null", O_RDWR);

                setsid();
                if (fd >= 0) {
                        dup2(fd, 0);
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
        }
        execv(argv[0], argv);
        _exit(127);
}

int run_wait(char *const argv[], int quiet) {
        pid_t pid = spawn(argv, quiet);
        int status;

        if (pid < 0)
                return pid;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

pid_t run_background(char *const argv[]) {
        return spawn(argv, 1);
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int percent_decode(char *s) {
        char *out = s;

        for (; *s; s++) {
                int hi, lo;

                if (*s != '%') {
                        *out++ = *s;
                        continue;
                }
                hi = hexval(s[1]);
                lo = hi < 0 ? -1 : hexval(s[2]);
                if (lo < 0 || (hi == 0 && lo == 0))
                        return -EINVAL;
                *out++ = (char) (hi << 4 | lo);
                s += 2;
        }
        *out = '\0';
        return 0;
}

long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int path_join(char *buf, size_t size, const char *root, const char *path) {
        int n;

        if (strcmp(root, "/") == 0)
                root = "";
        n = snprintf(buf, size, "%s%s", root, path);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}
