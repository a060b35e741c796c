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
