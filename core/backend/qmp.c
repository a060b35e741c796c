/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include <json.h>

#include "backend/qmp.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"

/* The longest line we read whole; a longer one (no reply or event we act on is) is skipped. */
#define QMP_LINE_MAX 65536

/* What one line from QEMU is, by its top-level key (QMP sends one JSON object per line). */
enum qmp_kind { QMP_OTHER, QMP_GREETING, QMP_RETURN, QMP_ERROR, QMP_EVENT };

static enum qmp_kind qmp_kind(json_object *o) {
        if (!json_object_is_type(o, json_type_object))
                return QMP_OTHER;
        if (json_object_object_get_ex(o, "return", NULL))
                return QMP_RETURN;
        if (json_object_object_get_ex(o, "error", NULL))
                return QMP_ERROR;
        if (json_object_object_get_ex(o, "event", NULL))
                return QMP_EVENT;
        if (json_object_object_get_ex(o, "QMP", NULL))
                return QMP_GREETING;
        return QMP_OTHER;
}

/* Bytes read from a QMP socket, cut into whole lines. */
struct qmp_lines {
        size_t len;
        int overlong; /* dropping the rest of a line longer than QMP_LINE_MAX */
        char buf[QMP_LINE_MAX];
};

/* The next whole line in `l` that is a JSON object, parsed (the caller puts it), or NULL
 * when no whole line is left; `ret_text` (optional) gets its text, malloc()ed. */
static json_object *qmp_lines_next(struct qmp_lines *l, char **ret_text) {
        char *nl;

        while ((nl = memchr(l->buf, '\n', l->len))) {
                json_object *o = NULL;

                *nl = 0;
                if (!l->overlong)
                        o = json_tokener_parse(l->buf);
                l->overlong = 0;
                if (o && ret_text)
                        *ret_text = strdup(l->buf);
                l->len -= (size_t) (nl + 1 - l->buf);
                memmove(l->buf, nl + 1, l->len);
                if (o && json_object_is_type(o, json_type_object))
                        return o;
                json_object_put(o);
                if (ret_text) {
                        free(*ret_text);
                        *ret_text = NULL;
                }
        }
        if (l->len == sizeof(l->buf)) {
                l->len = 0;
                l->overlong = 1;
        }
        return NULL;
}

/* Reads into `l` what is there, waiting until `deadline` for something. */
static int qmp_lines_fill(int fd, struct qmp_lines *l, uint64_t deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        uint64_t now = now_ms();
        ssize_t n;

        if (now >= deadline)
                return -ETIMEDOUT;
        if (poll(&p, 1, (int) (deadline - now)) <= 0)
                return 0;
        n = read(fd, l->buf + l->len, sizeof(l->buf) - l->len);
        if (n <= 0)
                return n == 0 ? -ECONNRESET : negative_errno();
        l->len += (size_t) n;
        return 0;
}

/* Reads lines until one of kind `want` (0, or -EIO for an "error" line); its text in
 * ret_text (optional, malloc()ed). Events and other lines in between are skipped. */
static int qmp_expect(int fd, struct qmp_lines *l, enum qmp_kind want, uint64_t deadline,
                      char **ret_text) {
        for (;;) {
                _cleanup_free_ char *text = NULL;
                json_object *o = qmp_lines_next(l, &text);
                enum qmp_kind kind;
                int r;

                if (!o) {
                        r = qmp_lines_fill(fd, l, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                kind = qmp_kind(o);
                json_object_put(o);
                if (kind != want && kind != QMP_ERROR)
                        continue;
                if (ret_text)
                        *ret_text = TAKE_PTR(text);
                return kind == QMP_ERROR ? -EIO : 0;
        }
}

static int send_str(int fd, const char *s) {
        size_t n = strlen(s);

        return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : negative_errno();
}

static int qmp_handshake(int fd, struct qmp_lines *l, uint64_t deadline) {
        int r = qmp_expect(fd, l, QMP_GREETING, deadline, NULL);

        if (r >= 0)
                r = send_str(fd, "{\"execute\": \"qmp_capabilities\"}\n");
        if (r >= 0)
                r = qmp_expect(fd, l, QMP_RETURN, deadline, NULL);
        return r;
}

int qmp_open(const char *path, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_free_ struct qmp_lines *l = calloc(1, sizeof(*l));
        _cleanup_close_ int fd = -1;
        int r;

        if (!l)
                return -ENOMEM;
        fd = unix_connect(path, 0);
        if (fd < 0)
                return fd;
        r = qmp_handshake(fd, l, deadline);
        return r < 0 ? r : TAKE_FD(fd);
}

int qmp_query(const char *path, const char *command, char **ret_reply, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = qmp_open(path, timeout_ms);
        char cmd[256];

        if (fd < 0)
                return fd;
        snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"}\n", command);
        return qmp_call(fd, cmd, (unsigned) (deadline > now_ms() ? deadline - now_ms() : 0),
                        ret_reply);
}

int qmp_call(int fd, const char *json, unsigned timeout_ms, char **ret_reply) {
        _cleanup_free_ struct qmp_lines *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        r = send_str(fd, json);
        if (r < 0)
                return r;
        return qmp_expect(fd, l, QMP_RETURN, now_ms() + timeout_ms, ret_reply);
}

int qmp_reply_status(const char *reply, char *status, size_t size) {
        json_object *o = reply ? json_tokener_parse(reply) : NULL, *ret, *st;
        int r = -ENOENT;

        status[0] = 0;
        if (qmp_kind(o) == QMP_RETURN && json_object_object_get_ex(o, "return", &ret) &&
            json_object_object_get_ex(ret, "status", &st) &&
            json_object_is_type(st, json_type_string)) {
                snprintf(status, size, "%s", json_object_get_string(st));
                r = 0;
        }
        json_object_put(o);
        return r;
}

int qmp_execute(const char *path, const char *command, unsigned timeout_ms) {
        return qmp_query(path, command, NULL, timeout_ms);
}

struct qmp_events {
        char *path;
        int fd;
        int ready; /* capabilities negotiated */
        struct qmp_lines lines;
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
        e->lines.len = 0;
        e->lines.overlong = 0;
        r = qmp_handshake(e->fd, &e->lines, now_ms() + timeout_ms);
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

/* The string member `key` of object `o`, copied to out; "" if absent or not a string. */
static void json_field(json_object *o, const char *key, char *out, size_t size) {
        json_object *v;

        out[0] = 0;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                snprintf(out, size, "%s", json_object_get_string(v));
}

/* An event: its top-level "event" and the members of its "data" object. */
static void parse_event(json_object *o, struct qmp_event *ev) {
        json_object *data = NULL, *nospace;

        *ev = (struct qmp_event){};
        json_field(o, "event", ev->name, sizeof(ev->name));
        if (!json_object_object_get_ex(o, "data", &data) ||
            !json_object_is_type(data, json_type_object))
                return;
        json_field(data, "device", ev->device, sizeof(ev->device));
        if (!ev->device[0])
                json_field(data, "node-name", ev->device, sizeof(ev->device));
        json_field(data, "action", ev->action, sizeof(ev->action));
        json_field(data, "reason", ev->reason, sizeof(ev->reason));
        json_field(data, "operation", ev->operation, sizeof(ev->operation));
        ev->nospace = json_object_object_get_ex(data, "nospace", &nospace) &&
                      json_object_is_type(nospace, json_type_boolean) &&
                      json_object_get_boolean(nospace);
}

int qmp_events_read(struct qmp_events *e, void (*cb)(const struct qmp_event *ev, void *userdata),
                    void *userdata) {
        struct qmp_lines *l;
        json_object *o;
        ssize_t n;

        if (!e || e->fd < 0)
                return 0;
        l = &e->lines;
        n = recv(e->fd, l->buf + l->len, sizeof(l->buf) - l->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                e->fd = safe_close(e->fd);
                return n == 0 ? -ECONNRESET : negative_errno();
        }
        l->len += (size_t) n;
        while ((o = qmp_lines_next(l, NULL))) {
                struct qmp_event ev;

                if (qmp_kind(o) == QMP_EVENT) {
                        parse_event(o, &ev);
                        cb(&ev, userdata);
                }
                json_object_put(o);
        }
        return 0;
}
