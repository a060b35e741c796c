/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "run/console.h"
#include "util/log.h"
#include "util/socket-util.h"
#include "util/strv.h"

#define MAX_CLIENTS 8

struct console {
        int listen_backend; /* accept the VMM's connection */
        char *connect_path; /* or connect to the VMM's listener */
        int backend;
        int listen_clients;
        int clients[MAX_CLIENTS];
        int log_dir; /* where console.log and console.log.1 are */
        int log_fd;
        unsigned long long log_size; /* of console.log */
        unsigned long long log_max;  /* then it becomes console.log.1 */
};

#define LOG_NAME "console.log"
#define LOG_OLD_NAME "console.log.1"

static int log_open(struct console *c) {
        return openat(c->log_dir, LOG_NAME,
                      O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* A guest that writes without end must not fill the disk: console.log holds at most
 * log_max bytes, then becomes console.log.1 (replacing the one before). */
static void log_rotate(struct console *c) {
        c->log_fd = safe_close(c->log_fd);
        (void) renameat(c->log_dir, LOG_NAME, c->log_dir, LOG_OLD_NAME);
        c->log_fd = log_open(c);
        c->log_size = 0;
}

struct console *console_new(int backend_listen_fd, const char *connect_path,
                            const char *client_socket, int log_dir, unsigned long long log_max) {
        struct console *c = calloc(1, sizeof(*c));

        if (!c) {
                safe_close(backend_listen_fd);
                safe_close(log_dir);
                return NULL;
        }
        c->listen_backend = backend_listen_fd;
        c->backend = -1;
        for (int i = 0; i < MAX_CLIENTS; i++)
                c->clients[i] = -1;
        c->connect_path = connect_path ? strdup(connect_path) : NULL;
        c->listen_clients = unix_listen(client_socket);
        c->log_dir = log_dir;
        c->log_max = log_max;
        c->log_fd = -1;
        if (log_dir >= 0)
                log_rotate(c); /* the previous run's log stays as console.log.1 */
        if (c->listen_clients < 0)
                log_warning_errno(
                        c->listen_clients,
                        "failed to listen on '%s': %m, continuing without console clients",
                        client_socket);
        return c;
}

struct console *console_free(struct console *c) {
        if (!c)
                return NULL;
        safe_close(c->listen_backend);
        safe_close(c->backend);
        safe_close(c->listen_clients);
        for (int i = 0; i < MAX_CLIENTS; i++)
                safe_close(c->clients[i]);
        safe_close(c->log_fd);
        safe_close(c->log_dir);
        free(c->connect_path);
        free(c);
        return NULL;
}

void console_try_connect(struct console *c) {
        int fd;

        if (!c || c->backend >= 0 || !c->connect_path)
                return;
        fd = unix_connect(c->connect_path, 0);
        if (fd >= 0)
                c->backend = fd;
}

int console_fill_pollfds(struct console *c, struct pollfd *fds, int max) {
        int n = 0;

        if (!c || max < MAX_CLIENTS + 2)
                return 0;
        fds[n++] = (struct pollfd){ .fd = c->backend >= 0 ? c->backend : c->listen_backend,
                                    .events = POLLIN };
        fds[n++] = (struct pollfd){ .fd = c->listen_clients, .events = POLLIN };
        for (int i = 0; i < MAX_CLIENTS; i++)
                fds[n++] = (struct pollfd){ .fd = c->clients[i], .events = POLLIN };
        return n;
}

static void write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                buf += k;
                n -= (size_t) k;
        }
}

static void log_write(struct console *c, const char *buf, size_t n) {
        if (c->log_fd < 0)
                return;
        if (n > c->log_max) {
                buf += n - c->log_max;
                n = (size_t) c->log_max;
        }
        if (c->log_size + n > c->log_max)
                log_rotate(c);
        if (c->log_fd < 0)
                return;
        write_all(c->log_fd, buf, n);
        c->log_size += n;
}

static void from_backend(struct console *c) {
        char buf[8192];
        ssize_t n = read(c->backend, buf, sizeof(buf));

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        c->backend = safe_close(c->backend);
                return;
        }
        log_write(c, buf, (size_t) n);
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (c->clients[i] >= 0 &&
                    send(c->clients[i], buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                    errno != EAGAIN)
                        c->clients[i] = safe_close(c->clients[i]);
}

static void from_client(struct console *c, int i) {
        char buf[4096];
        ssize_t n = read(c->clients[i], buf, sizeof(buf));

        if (n <= 0) {
                c->clients[i] = safe_close(c->clients[i]);
                return;
        }
        /* never block the supervisor on a VMM that does not read its console: what does
         * not fit now is dropped, as on a real serial line */
        if (c->backend >= 0)
                (void) send(c->backend, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void accept_client(struct console *c) {
        int fd = accept4(c->listen_clients, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return;
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (c->clients[i] < 0) {
                        c->clients[i] = fd;
                        return;
                }
        close(fd);
}

void console_dispatch(struct console *c, const struct pollfd *fds, int n) {
        if (!c || n < 2)
                return;
        if (fds[0].revents && fds[0].fd == c->backend)
                from_backend(c);
        else if (fds[0].revents && fds[0].fd == c->listen_backend && c->backend < 0) {
                c->backend = accept4(c->listen_backend, NULL, NULL, SOCK_CLOEXEC);
        }
        if (fds[1].revents & POLLIN)
                accept_client(c);
        for (int i = 0; i < MAX_CLIENTS && i + 2 < n; i++)
                if (fds[i + 2].revents && fds[i + 2].fd == c->clients[i])
                        from_client(c, i);
}
