/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util/log.h"
#include "util/process.h"

void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* The fields of /proc/PID/stat after the command name, in buf; NULL if unreadable. */
static const char *proc_stat_fields(pid_t pid, char *buf, size_t size) {
        char path[64];
        const char *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        p = strrchr(buf, ')'); /* comm may contain spaces and ')' */
        return p && p[1] == ' ' ? p + 2 : NULL;
}

unsigned long long process_start_time(pid_t pid) {
        char buf[1024];
        const char *p = proc_stat_fields(pid, buf, sizeof(buf));

        /* p is field 3 (state); the start time is field 22 */
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

char process_state(pid_t pid) {
        char buf[1024];
        const char *p = proc_stat_fields(pid, buf, sizeof(buf));

        return p ? *p : 0;
}

static int is_zombie(pid_t pid) {
        char buf[1024];
        const char *p = proc_stat_fields(pid, buf, sizeof(buf));

        return !p || *p == 'Z' || *p == 'X';
}

int process_alive(pid_t pid, unsigned long long start) {
        if (pid <= 0)
                return 0;
        (void) waitpid(pid, NULL, WNOHANG); /* reap if it is our child */
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return 0;
        if (is_zombie(pid))
                return 0;
        return start == 0 || process_start_time(pid) == start;
}

int process_wait_gone(pid_t pid, unsigned long long start, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                if (!process_alive(pid, start))
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(10);
        }
}

int process_stop(pid_t pid, unsigned long long start, unsigned timeout_ms) {
        if (!process_alive(pid, start))
                return 0;
        (void) kill(pid, SIGTERM);
        if (process_wait_gone(pid, start, timeout_ms) == 0)
                return 0;
        log_debug("process %d ignored SIGTERM for %u ms, killing it", (int) pid, timeout_ms);
        (void) kill(pid, SIGKILL);
        return process_wait_gone(pid, start, 5000);
}

static void child_setup(const char *log_path, const int *keep_fds, size_t n, pid_t parent) {
        int fd;

        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                _exit(127);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                (void) dup2(fd, STDIN_FILENO);
        if (log_path) {
                fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        (void) dup2(fd, STDOUT_FILENO);
                        (void) dup2(fd, STDERR_FILENO);
                }
        }
        for (size_t i = 0; i < n; i++) {
                int flags = fcntl(keep_fds[i], F_GETFD);

                if (flags >= 0)
                        (void) fcntl(keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC);
        }
        /* a handler would run on the parent's memory (vfork) until the exec resets it */
        for (int sig = 1; sig < _NSIG; sig++) {
                struct sigaction sa;

                if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
                    sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
                        signal(sig, SIG_DFL);
        }
        sigset_t all;
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
}

static void write_str(int fd, const char *s) {
        (void) !write(fd, s, strlen(s));
}

/* vfork(): the parent waits until the child has exec'd, and neither copies the page tables
 * of a process that has every plugin and its libraries mapped nor takes the copy-on-write
 * faults after. The child shares our memory until then: it makes system calls only (execvp
 * searches PATH on its stack), and says a failure with write(), not stdio. */
pid_t process_spawn(char *const *argv, const char *log_path, const int *keep_fds, size_t n) {
        pid_t parent = getpid(), pid;

        pid = vfork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                child_setup(log_path, keep_fds, n, parent);
                execvp(argv[0], argv);
                write_str(STDERR_FILENO, "failed to execute '");
                write_str(STDERR_FILENO, argv[0]);
                write_str(STDERR_FILENO, "': ");
                /* strerrordesc_np(): no locale, no allocation in a vfork()ed child */
                write_str(STDERR_FILENO, strerrordesc_np(errno) ?: "unknown error");
                write_str(STDERR_FILENO, "\n");
                _exit(127);
        }
        return pid;
}

static int read_with_deadline(int fd, char *buf, size_t max, uint64_t deadline) {
        size_t len = 0;
        int r;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ms();
                ssize_t k;
                char discard[4096];

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) (deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        continue; /* the deadline check above ends it */
                if (len < max)
                        k = read(fd, buf + len, max - len);
                else
                        k = read(fd, discard, sizeof(discard));
                if (k < 0 && errno != EINTR)
                        return negative_errno();
                if (k == 0)
                        return (int) len;
                if (k > 0 && len < max)
                        len += (size_t) k;
        }
}

/* Up to `max` bytes of what the child wrote to err_fd (a memfd), malloc()ed. */
static char *read_stderr(int err_fd, size_t max) {
        char *buf = calloc(1, max + 1);
        ssize_t n;

        if (!buf || lseek(err_fd, 0, SEEK_SET) < 0)
                return buf;
        n = read(err_fd, buf, max);
        buf[n > 0 ? n : 0] = 0;
        return buf;
}

int process_capture_err(char *const *argv, char **ret_out, size_t max, unsigned timeout_ms,
                        char **ret_err) {
        _cleanup_free_ char *buf = malloc(max + 1);
        _cleanup_close_ int err_fd = ret_err ? memfd_create("stderr", MFD_CLOEXEC) : -1;
        int pipefd[2], status, r;
        pid_t pid;

        if (!buf)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return negative_errno();
        }
        if (pid == 0) {
                (void) dup2(pipefd[1], STDOUT_FILENO);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(err_fd >= 0 ? err_fd : null, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);
        r = read_with_deadline(pipefd[0], buf, max, now_ms() + timeout_ms);
        close(pipefd[0]);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        buf[r] = 0;
        if (waitpid(pid, &status, 0) < 0)
                return negative_errno();
        if (ret_err)
                *ret_err = err_fd >= 0 ? read_stderr(err_fd, 2048) : NULL;
        *ret_out = TAKE_PTR(buf);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int process_capture(char *const *argv, char **ret_out, size_t max, unsigned timeout_ms) {
        return process_capture_err(argv, ret_out, max, timeout_ms, NULL);
}

char *file_tail(const char *path, size_t max) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *buf;
        struct stat st;
        ssize_t n;

        buf = calloc(1, max + 1);
        if (!buf || fd < 0 || fstat(fd, &st) < 0)
                return buf;
        if (st.st_size > (off_t) max)
                (void) lseek(fd, st.st_size - (off_t) max, SEEK_SET);
        n = read(fd, buf, max);
        if (n <= 0)
                return buf;
        buf[n] = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = 0;
        return buf;
}
