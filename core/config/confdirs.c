/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config/confdirs.h"
#include "util/log.h"

static const char *const default_dirs[] = {
        "/etc/vmsilo",
        "/run/vmsilo",
        "/usr/local/lib/vmsilo",
        "/usr/lib/vmsilo",
};

int confdirs_init(struct confdirs *c, const char *root, const struct strv *dirs) {
        int r;

        *c = (struct confdirs){};
        if (isempty(root) || streq(root, "/"))
                root = "";
        c->root = strdup(root);
        if (!c->root)
                return -ENOMEM;
        /* a trailing slash would give "//etc" */
        if (c->root[0] && c->root[strlen(c->root) - 1] == '/')
                c->root[strlen(c->root) - 1] = 0;

        if (dirs && dirs->n > 0) {
                for (size_t i = 0; i < dirs->n; i++) {
                        r = strv_consume(&c->dirs, confdirs_path(c, dirs->items[i]));
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(default_dirs); i++) {
                r = strv_consume(&c->dirs, confdirs_path(c, default_dirs[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

int confdirs_init_with_first(struct confdirs *c, const char *first) {
        struct strv dirs = {};
        int r;

        r = strv_push(&dirs, first);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(default_dirs); i++)
                r = strv_push(&dirs, default_dirs[i]);
        if (r >= 0)
                r = confdirs_init(c, NULL, &dirs);
        strv_done(&dirs);
        return r;
}

void confdirs_done(struct confdirs *c) {
        free(c->root);
        strv_done(&c->dirs);
}

char *confdirs_path(const struct confdirs *c, const char *path) {
        return strdup_printf("%s%s", c->root, path);
}

/* As systemd: whatever the link chain ends in is looked at, so "../dev/null" masks too. */
int conffile_is_masked(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return 0;
        return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int is_regular(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a > b && streq(s + a - b, suffix);
}

static int cmp_basename(const void *a, const void *b) {
        const char *x = strrchr(*(char *const *) a, '/'), *y = strrchr(*(char *const *) b, '/');

        return strcmp(x ? x + 1 : *(char *const *) a, y ? y + 1 : *(char *const *) b);
}

/* Adds the entries of one directory whose names are not yet `seen`. */
static int scan_dir(const char *dir, const char *suffix, struct strv *seen, struct strv *ret) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix))
                        continue;
                if (strv_contains(seen, de->d_name))
                        continue;
                path = strdup_printf("%s/%s", dir, de->d_name);
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                /* a directory, fifo or dangling link is no file: lower ones still count */
                if (!conffile_is_masked(path) && !is_regular(path)) {
                        log_debug("ignoring '%s': not a regular file", path);
                        continue;
                }
                r = strv_push(seen, de->d_name);
                if (r < 0)
                        break;
                if (conffile_is_masked(path)) {
                        log_debug("'%s' is masked", path);
                        continue;
                }
                r = strv_consume(ret, TAKE_PTR(path));
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int dropins_suffix(const struct confdirs *c, const char *subdir, const char *suffix,
                          struct strv *ret) {
        struct strv seen = {}, found = {};
        int r = 0;

        for (size_t i = 0; i < c->dirs.n && r >= 0; i++) {
                _cleanup_free_ char *dir = strdup_printf("%s/%s", c->dirs.items[i], subdir);

                r = dir ? scan_dir(dir, suffix, &seen, &found) : -ENOMEM;
        }
        if (r >= 0 && found.n > 0) {
                qsort(found.items, found.n, sizeof(char *), cmp_basename);
                r = strv_extend(ret, &found);
        }
        strv_done(&seen);
        strv_done(&found);
        return r;
}

int confdirs_dropins(const struct confdirs *c, const char *subdir, struct strv *ret) {
        return dropins_suffix(c, subdir, ".conf", ret);
}

int confdirs_vm_files(const struct confdirs *c, const char *name, struct strv *ret) {
        _cleanup_free_ char *file = strdup_printf("%s.conf", name);
        _cleanup_free_ char *dropin = strdup_printf("vms/%s.conf.d", name);

        if (!file || !dropin)
                return -ENOMEM;
        for (size_t i = 0; i < c->dirs.n; i++) {
                _cleanup_free_ char *path = strdup_printf("%s/vms/%s", c->dirs.items[i], file);
                int r;

                if (!path)
                        return -ENOMEM;
                if (!is_regular(path) && !conffile_is_masked(path))
                        continue;
                if (conffile_is_masked(path))
                        return -ENOENT;
                r = strv_consume(ret, TAKE_PTR(path));
                if (r < 0)
                        return r;
                return confdirs_dropins(c, dropin, ret);
        }
        return -ENOENT;
}

int confdirs_list_vms(const struct confdirs *c, struct strv *ret) {
        struct strv files = {};
        int r;

        r = dropins_suffix(c, "vms", ".conf", &files);
        for (size_t i = 0; r >= 0 && i < files.n; i++) {
                const char *base = strrchr(files.items[i], '/') + 1;

                r = strv_consume(ret, strndup(base, strlen(base) - strlen(".conf")));
        }
        strv_done(&files);
        return r;
}
