/* SPDX-License-Identifier: MIT */
/*
 * Opening a share's directory without following symlinks: one component at a time with
 * O_PATH|O_NOFOLLOW, so that what is checked (type, owner) is what is exported. Used by the
 * plugin's preflight (for the messages) and by virtiofs-launch (which exports the very fd it
 * checked), so it includes libc only.
 */
#include <errno.h>
#include <fcntl.h>
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

int safedir_open(const char *path, int *ret_fd, char **ret_component) {
        const char *p = path;
        int fd, r = 0;

        if (path[0] != '/')
                return -EINVAL;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (*p) {
                size_t n;
                struct stat st;
                int next;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        r = set_component(ret_component, p, n) < 0 ? -ENOMEM : -EINVAL;
                        break;
                }
                {
                        char name[256];

                        if (n >= sizeof(name)) {
                                r = -ENAMETOOLONG;
                                break;
                        }
                        memcpy(name, p, n);
                        name[n] = '\0';
                        next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                }
                if (next < 0 || fstat(next, &st) < 0) {
                        r = -errno;
                        if (next >= 0)
                                close(next);
                        (void) set_component(ret_component, p, n);
                        break;
                }
                close(fd);
                fd = next;
                if (S_ISLNK(st.st_mode)) {
                        r = set_component(ret_component, p, n) < 0 ? -ENOMEM : -ELOOP;
                        break;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = set_component(ret_component, p, n) < 0 ? -ENOMEM : -ENOTDIR;
                        break;
                }
                p += n;
        }
        if (r < 0) {
                close(fd);
                return r;
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
