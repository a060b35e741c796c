/* SPDX-License-Identifier: MIT */
/*
 * Opening a share's directory without following symlinks: one component at a time with
 * O_PATH|O_NOFOLLOW, so that what is checked (type, owner) is what is exported. Used by the
 * plugin's preflight (for the messages) and by virtiofs-launch (which exports the very fd it
 * checked), so it includes libc only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"

static int set_component(char **ret, const char *c, size_t n) {
        if (!ret)
                return 0;
        free(*ret);
        *ret = strndup(c, n);
        return *ret ? 0 : -ENOMEM;
}

/* The component p[0..n) of the directory `dir`: an O_PATH fd of a directory, or -ELOOP
 * (a symlink), -ENOTDIR, -EINVAL ('.', '..') or openat()'s error. */
static int open_component(int dir, const char *p, size_t n) {
        char name[NAME_MAX + 1];
        struct stat st;
        int fd, r;

        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                return -EINVAL;
        if (n > NAME_MAX)
                return -ENAMETOOLONG;
        memcpy(name, p, n);
        name[n] = '\0';
        fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fstat(fd, &st) < 0     ? -errno
            : S_ISLNK(st.st_mode)  ? -ELOOP
            : !S_ISDIR(st.st_mode) ? -ENOTDIR
                                   : 0;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int safedir_open(const char *path, int *ret_fd, char **ret_component) {
        const char *p = path;
        int fd, next;

        if (path[0] != '/')
                return -EINVAL;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                next = open_component(fd, p, n);
                close(fd);
                if (next < 0)
                        return set_component(ret_component, p, n) < 0 ? -ENOMEM : next;
                fd = next;
                p += n;
        }
        *ret_fd = fd;
        return 0;
}

int safedir_owner_ok(uint32_t owner, uint32_t vm_uid) {
        return owner == 0 || owner == vm_uid;
}

char *safedir_user_name(uint32_t uid) {
        char *s = NULL;
        FILE *f = fopen("/etc/passwd", "re");
        char line[1024];

        /* not getpwuid(): no NSS modules in a helper that may run in a namespace */
        while (f && !s && fgets(line, sizeof(line), f)) {
                char *name = line, *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                if (!c2)
                        continue;
                *c1 = '\0';
                if (strtoul(c2 + 1, NULL, 10) == uid && c2[1] >= '0' && c2[1] <= '9')
                        s = strdup(name);
        }
        if (f)
                fclose(f);
        if (!s && asprintf(&s, "%u", uid) < 0)
                s = NULL;
        return s;
}
