/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <sys/un.h>

#include "util/macro.h"
#include "util/socket-util.h"

static int unix_address(const char *path, struct sockaddr_un *sa, socklen_t *len) {
        size_t n = strlen(path);

        if (n >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, n);
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
}

int socket_connect(int family, int flags, const struct sockaddr *sa, socklen_t len) {
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0), r;

        if (fd < 0)
                return negative_errno();
        if (connect(fd, sa, len) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        return fd;
}

int unix_connect(const char *path, int flags) {
        struct sockaddr_un sa;
        socklen_t len;
        int r = unix_address(path, &sa, &len);

        return r < 0 ? r : socket_connect(AF_UNIX, flags, (struct sockaddr *) &sa, len);
}

int unix_listen(const char *path) {
        struct sockaddr_un sa;
        socklen_t len;
        int fd, r;

        r = unix_address(path, &sa, &len);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 4) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        return fd;
}
