/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <termios.h>

#include "cli/consoleclient.h"
#include "cli/exitcode.h"
#include "util/log.h"
#include "util/socket-util.h"

#define DETACH_CHAR 0x1d /* Ctrl-] */

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EIO;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* 1 = detach requested, 0 = go on, <0 = stdin gone */
static int from_terminal(int sock) {
        char buf[1024];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        char *esc;

        if (n <= 0)
                return n == 0 ? -ECONNRESET : (errno == EINTR ? 0 : negative_errno());
        esc = memchr(buf, DETACH_CHAR, (size_t) n);
        if (esc)
                n = esc - buf;
        if (n > 0 && write_all(sock, buf, (size_t) n) < 0)
                return -EIO;
        return esc ? 1 : 0;
}

static int relay(int sock) {
        int stdin_open = 1;

        for (;;) {
                struct pollfd fds[2] = {
                        { .fd = sock, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                char buf[8192];
                ssize_t n;
                int r;

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return EXIT_RUNTIME;
                }
                if (fds[0].revents) {
                        n = read(sock, buf, sizeof(buf));
                        if (n <= 0)
                                return -ECONNRESET;
                        (void) write_all(STDOUT_FILENO, buf, (size_t) n);
                }
                if (fds[1].revents) {
                        r = from_terminal(sock);
                        if (r == 1)
                                return 0;
                        if (r < 0)
                                stdin_open = 0; /* keep showing output until the VM closes */
                }
        }
}

int console_attach(const char *vm_name, const char *socket_path) {
        int sock = unix_connect(socket_path, 0);

        if (sock < 0) {
                log_error_errno(sock, "VM '%s' has no console at '%s' (is it running?): %m",
                                vm_name, socket_path);
                return EXIT_NOT_RUNNING;
        }
        return console_attach_fd(vm_name, sock);
}

int console_attach_fd(const char *vm_name, int sock) {
        struct termios saved, raw;
        int tty, r;

        tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
        if (tty) {
                fprintf(stderr, "Connected to the console of '%s'. Escape character is ^]\r\n",
                        vm_name);
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
        }
        signal(SIGPIPE, SIG_IGN);
        r = relay(sock);
        if (tty)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        close(sock);
        if (r == -ECONNRESET) {
                log_notice("the console of '%s' closed (the VM stopped)", vm_name);
                return EXIT_OK;
        }
        return r < 0 ? EXIT_RUNTIME : r;
}
