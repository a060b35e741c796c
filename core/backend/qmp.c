/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "backend/qmp.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"

/* Reads until a line containing `want` (or an error) arrives; the buffer's text up to then
 * in `reply` (at most `size` bytes) when given. */
static int qmp_expect(int fd, const char *want, uint64_t deadline, char *reply, size_t size) {
        char buf[8192];
        size_t len = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ms();
                ssize_t n;

                if (now >= deadline)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) (deadline - now)) <= 0)
                        continue;
                if (len == sizeof(buf) - 1)
                        len = 0; /* events we do not care about */
                n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : negative_errno();
                len += (size_t) n;
                buf[len] = 0;
                if (strstr(buf, "\"error\""))
                        return -EIO;
                if (strstr(buf, want)) {
                        if (reply)
                                snprintf(reply, size, "%s", buf);
                        return 0;
                }
        }
}

static int send_str(int fd, const char *s) {
        size_t n = strlen(s);

        return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : negative_errno();
}

static int qmp_handshake(int fd, uint64_t deadline) {
        int r = qmp_expect(fd, "\"QMP\"", deadline, NULL, 0);

        if (r >= 0)
                r = send_str(fd, "{\"execute\": \"qmp_capabilities\"}\n");
        if (r >= 0)
                r = qmp_expect(fd, "\"return\"", deadline, NULL, 0);
        return r;
}

int qmp_query(const char *path, const char *command, char *reply, size_t size,
              unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = unix_connect(path, 0);
        char cmd[256];
        int r;

        if (fd < 0)
                return fd;
        r = qmp_handshake(fd, deadline);
        snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"}\n", command);
        if (r >= 0)
                r = send_str(fd, cmd);
        if (r >= 0)
                r = qmp_expect(fd, "\"return\"", deadline, reply, size);
        return r;
}

int qmp_open(const char *path, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = unix_connect(path, 0);
        int r;

        if (fd < 0)
                return fd;
        r = qmp_handshake(fd, deadline);
        return r < 0 ? r : TAKE_FD(fd);
}

/* One reply line: 1 = "return", 0 = an event (skipped), -EIO = "error". */
static int qmp_classify(const char *line) {
        if (strncmp(line, "{\"return\"", 9) == 0)
                return 1;
        if (strncmp(line, "{\"error\"", 8) == 0)
                return -EIO;
        return 0;
}

int qmp_call(int fd, const char *json, unsigned timeout_ms, char **ret_reply) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_free_ char *buf = malloc(65536);
        size_t len = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        r = send_str(fd, json);
        while (r >= 0) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char *nl;
                ssize_t n;

                while ((nl = memchr(buf, '\n', len))) {
                        *nl = 0;
                        r = qmp_classify(buf);
                        if (r != 0) {
                                if (ret_reply)
                                        *ret_reply = strdup(buf);
                                return r < 0 ? r : 0;
                        }
                        len -= (size_t) (nl + 1 - buf);
                        memmove(buf, nl + 1, len);
                }
                if (len == 65535)
                        len = 0; /* an event longer than we care about */
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) (deadline - now_ms())) <= 0)
                        continue;
                n = read(fd, buf + len, 65535 - len);
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : negative_errno();
                len += (size_t) n;
        }
        return r;
}

int qmp_execute(const char *path, const char *command, unsigned timeout_ms) {
        return qmp_query(path, command, NULL, 0, timeout_ms);
}

struct qmp_events {
        char *path;
        int fd;
        int ready; /* capabilities negotiated */
        size_t len;
        char buf[16384];
};

struct qmp_events *qmp_events_new(const char *path) {
        struct qmp_events *e = calloc(1, sizeof(*e));

        if (!e)
                return NULL;
        e->fd = -1;
        e->path = strdup(path);
        if (!e->path)
                return qmp_events_free(e);
        return e;
}

struct qmp_events *qmp_events_free(struct qmp_events *e) {
        if (!e)
                return NULL;
        safe_close(e->fd);
        free(e->path);
        free(e);
        return NULL;
}

int qmp_events_connect(struct qmp_events *e, unsigned timeout_ms) {
        int r;

        if (!e || e->fd >= 0)
                return 0;
        e->fd = unix_connect(e->path, 0);
        if (e->fd < 0)
                return e->fd;
        r = qmp_handshake(e->fd, now_ms() + timeout_ms);
        if (r < 0) {
                e->fd = safe_close(e->fd);
                return r;
        }
        e->ready = 1;
        return 0;
}

int qmp_events_fd(const struct qmp_events *e) {
        return e ? e->fd : -1;
}

/* The string value of "key" in one JSON line from QEMU (trusted to be well formed), copied
 * to out; "" if absent. */
static void json_field(const char *line, const char *key, char *out, size_t size) {
        char pat[64];
        const char *p;
        size_t n = 0;

        out[0] = 0;
        snprintf(pat, sizeof(pat), "\"%s\": \"", key);
        p = strstr(line, pat);
        if (!p)
                return;
        for (p += strlen(pat); *p && *p != '"' && n + 1 < size; p++)
                out[n++] = *p == '\\' && p[1] ? *++p : *p;
        out[n] = 0;
}

static void parse_event(const char *line, struct qmp_event *ev) {
        *ev = (struct qmp_event){};
        json_field(line, "event", ev->name, sizeof(ev->name));
        json_field(line, "device", ev->device, sizeof(ev->device));
        if (!ev->device[0])
                json_field(line, "node-name", ev->device, sizeof(ev->device));
        json_field(line, "action", ev->action, sizeof(ev->action));
        json_field(line, "reason", ev->reason, sizeof(ev->reason));
        json_field(line, "operation", ev->operation, sizeof(ev->operation));
        ev->nospace = strstr(line, "\"nospace\": true") != NULL;
}

int qmp_events_read(struct qmp_events *e, void (*cb)(const struct qmp_event *ev, void *userdata),
                    void *userdata) {
        ssize_t n;
        char *nl;

        if (!e || e->fd < 0)
                return 0;
        if (e->len == sizeof(e->buf) - 1)
                e->len = 0; /* a line longer than any event we read */
        n = recv(e->fd, e->buf + e->len, sizeof(e->buf) - 1 - e->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                e->fd = safe_close(e->fd);
                return n == 0 ? -ECONNRESET : negative_errno();
        }
        e->len += (size_t) n;
        e->buf[e->len] = 0;
        while ((nl = strchr(e->buf, '\n'))) {
                struct qmp_event ev;

                *nl = 0;
                if (strstr(e->buf, "\"event\"")) {
                        parse_event(e->buf, &ev);
                        cb(&ev, userdata);
                }
                e->len -= (size_t) (nl + 1 - e->buf);
                memmove(e->buf, nl + 1, e->len + 1);
        }
        return 0;
}
