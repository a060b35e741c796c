/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "log.h"
#include "process.h"
#include "qmp.h"
#include "socket-util.h"

/* Reads until a line containing `want` (or an error) arrives. */
static int qmp_expect(int fd, const char *want, uint64_t deadline) {
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
                if (strstr(buf, want))
                        return 0;
        }
}

static int send_str(int fd, const char *s) {
        size_t n = strlen(s);

        return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : negative_errno();
}

int qmp_execute(const char *path, const char *command, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = unix_connect(path, 0);
        char cmd[256];
        int r;

        if (fd < 0)
                return fd;
        r = qmp_expect(fd, "\"QMP\"", deadline);
        if (r >= 0)
                r = send_str(fd, "{\"execute\": \"qmp_capabilities\"}\n");
        if (r >= 0)
                r = qmp_expect(fd, "\"return\"", deadline);
        snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"}\n", command);
        if (r >= 0)
                r = send_str(fd, cmd);
        if (r >= 0)
                r = qmp_expect(fd, "\"return\"", deadline);
        return r;
}

int qmp_open(const char *path, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = unix_connect(path, 0);
        int r;

        if (fd < 0)
                return fd;
        r = qmp_expect(fd, "\"QMP\"", deadline);
        if (r >= 0)
                r = send_str(fd, "{\"execute\": \"qmp_capabilities\"}\n");
        if (r >= 0)
                r = qmp_expect(fd, "\"return\"", deadline);
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
