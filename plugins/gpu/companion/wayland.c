/* SPDX-License-Identifier: MIT */
/*
 * A bounded Wayland round trip: the socket is connected non-blocking by hand, handed to
 * libwayland-client, and every wait is a poll() with what is left of the timeout, so a
 * compositor that accepts but never answers cannot hang a preflight.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <wayland-client.h>

#include <vmsilo/plugin.h>

#include "gpu.h"

struct probe_state {
        struct wayland_probe *result;
        int done;
};

static void on_global(void *data, struct wl_registry *registry, uint32_t name,
                      const char *interface, uint32_t version) {
        struct probe_state *s = data;

        (void) registry;
        (void) name;
        (void) version;
        s->result->globals++;
        if (strcmp(interface, "wl_compositor") == 0)
                s->result->has_compositor = 1;
        else if (strcmp(interface, "wp_security_context_manager_v1") == 0)
                s->result->has_security_context = 1;
}

static void on_global_remove(void *data, struct wl_registry *registry, uint32_t name) {
        (void) data;
        (void) registry;
        (void) name;
}

static const struct wl_registry_listener registry_listener = {
        .global = on_global,
        .global_remove = on_global_remove,
};

static void on_done(void *data, struct wl_callback *cb, uint32_t serial) {
        struct probe_state *s = data;

        (void) cb;
        (void) serial;
        s->done = 1;
}

static const struct wl_callback_listener callback_listener = { .done = on_done };

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_socket(const char *path, char *err, size_t errsz) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errsz, "the path is longer than %zu bytes", sizeof(sa.sun_path) - 1);
                return -ENAMETOOLONG;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                snprintf(err, errsz, "socket: %s", strerror(errno));
                return r;
        }
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                /* a full backlog (EAGAIN) is a compositor that does not accept either */
                snprintf(err, errsz, "%s", strerror(errno));
                close(fd);
                return r;
        }
        return fd;
}

/* Reads and dispatches until the sync callback fired, an error, or the deadline. */
static int round_trip(struct wl_display *d, struct probe_state *s, long long deadline, char *err,
                      size_t errsz) {
        struct pollfd p = { .fd = wl_display_get_fd(d), .events = POLLIN };

        while (!s->done) {
                long long left = deadline - now_ms();
                int r;

                while (wl_display_prepare_read(d) != 0)
                        if (wl_display_dispatch_pending(d) < 0)
                                goto failed;
                if (s->done) {
                        wl_display_cancel_read(d);
                        break;
                }
                if (wl_display_flush(d) < 0 && errno != EAGAIN) {
                        wl_display_cancel_read(d);
                        goto failed;
                }
                r = left > 0 ? poll(&p, 1, (int) left) : 0;
                if (r <= 0) {
                        wl_display_cancel_read(d);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0)
                                goto failed;
                        snprintf(err, errsz, "no answer to a round trip");
                        return -ETIMEDOUT;
                }
                if (wl_display_read_events(d) < 0 || wl_display_dispatch_pending(d) < 0)
                        goto failed;
        }
        return 0;
failed : {
        int e = wl_display_get_error(d);

        if (e == 0)
                e = errno ? errno : EPROTO;
        snprintf(err, errsz, "%s", e == EPROTO ? "protocol error" : strerror(e));
        return -e;
}
}

static int wayland_probe(const char *path, unsigned timeout_ms, struct wayland_probe *ret,
                         char *err, size_t errsz) {
        long long deadline = now_ms() + timeout_ms;
        struct wayland_probe result = { 0 };
        struct probe_state s = { .result = &result };
        struct wl_registry *registry;
        struct wl_callback *cb;
        struct wl_display *d;
        int fd, r;

        fd = connect_socket(path, err, errsz);
        if (fd < 0)
                return fd;
        d = wl_display_connect_to_fd(fd); /* owns fd from here on */
        if (!d) {
                r = -errno;
                snprintf(err, errsz, "wl_display_connect_to_fd: %s", strerror(errno));
                close(fd);
                return r < 0 ? r : -EIO;
        }
        registry = wl_display_get_registry(d);
        cb = wl_display_sync(d);
        if (!registry || !cb) {
                snprintf(err, errsz, "out of memory");
                r = -ENOMEM;
        } else {
                wl_registry_add_listener(registry, &registry_listener, &s);
                wl_callback_add_listener(cb, &callback_listener, &s);
                r = round_trip(d, &s, deadline, err, errsz);
        }
        if (cb)
                wl_callback_destroy(cb);
        if (registry)
                wl_registry_destroy(registry);
        wl_display_disconnect(d);
        if (r == 0)
                *ret = result;
        return r;
}

VMSILO_EXPORT const struct gpu_wayland gpu_wayland = { .probe = wayland_probe };
