/* User lookup in ROOT/etc/passwd and ROOT/etc/group (no NSS in a static binary). */
#include "user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* Splits a colon-separated line in place into at most max fields; returns the count. */
static int split_fields(char *line, char **fields, int max) {
        int n = 0;

        line[strcspn(line, "\n")] = '\0';
        fields[n++] = line;
        for (char *p = line; *p && n < max; p++) {
                if (*p == ':') {
                        *p = '\0';
                        fields[n++] = p + 1;
                }
        }
        return n;
}

static int parse_id(const char *s, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v >= 0xffffffffUL)
                return -EINVAL;
        *ret = v;
        return 0;
}

static void copy_str(char *dst, size_t size, const char *src) {
        snprintf(dst, size, "%s", src);
}

/* Finds the passwd entry whose name is name (or whose uid is uid when name is NULL). */
static int passwd_find(const char *root, const char *name, unsigned long uid,
                       struct user_info *ui) {
        char path[4096], *line = NULL, *f[7];
        size_t cap = 0;
        unsigned long u, g;
        FILE *fp;
        int r = -ENOENT;

        if (path_join(path, sizeof(path), root, "/etc/passwd") < 0)
                return -ENAMETOOLONG;
        fp = fopen(path, "re");
        if (!fp)
                return -ENOENT;
        while (r < 0 && getline(&line, &cap, fp) > 0) {
                if (split_fields(line, f, 7) != 7 || parse_id(f[2], &u) < 0 ||
                    parse_id(f[3], &g) < 0)
                        continue;
                if (name ? strcmp(f[0], name) != 0 : u != uid)
                        continue;
                ui->uid = (uid_t) u;
                ui->gid = (gid_t) g;
                copy_str(ui->name, sizeof(ui->name), f[0]);
                copy_str(ui->home, sizeof(ui->home), f[5]);
                copy_str(ui->shell, sizeof(ui->shell), f[6][0] ? f[6] : "/bin/sh");
                r = 0;
        }
        free(line);
        fclose(fp);
        return r;
}

static int list_has(const char *list, const char *name) {
        size_t n = strlen(name);

        for (const char *p = list; *p;) {
                size_t len = strcspn(p, ",");

                if (len == n && strncmp(p, name, n) == 0)
                        return 1;
                p += len;
                if (*p == ',')
                        p++;
        }
        return 0;
}

/* Supplementary groups: the primary one plus every group listing the user. */
static void groups_find(const char *root, struct user_info *ui) {
        char path[4096], *line = NULL, *f[4];
        size_t cap = 0;
        unsigned long g;
        FILE *fp;

        ui->groups[0] = ui->gid;
        ui->n_groups = 1;
        if (path_join(path, sizeof(path), root, "/etc/group") < 0)
                return;
        fp = fopen(path, "re");
        if (!fp)
                return;
        while (ui->n_groups < USER_MAX_GROUPS && getline(&line, &cap, fp) > 0) {
                if (split_fields(line, f, 4) != 4 || parse_id(f[2], &g) < 0)
                        continue;
                if ((gid_t) g != ui->gid && list_has(f[3], ui->name))
                        ui->groups[ui->n_groups++] = (gid_t) g;
        }
        free(line);
        fclose(fp);
}

/* What a file was when the cache was filled: any edit or replacement changes one of these. */
struct file_id {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
        int exists;
};

static void file_id_get(const char *root, const char *file, struct file_id *ret) {
        char path[4096];
        struct stat st;

        memset(ret, 0, sizeof(*ret));
        if (path_join(path, sizeof(path), root, file) < 0 || stat(path, &st) < 0)
                return;
        *ret = (struct file_id){ .dev = st.st_dev,
                                 .ino = st.st_ino,
                                 .size = st.st_size,
                                 .mtime = st.st_mtim,
                                 .ctime = st.st_ctim,
                                 .exists = 1 };
}

static int file_id_eq(const struct file_id *a, const struct file_id *b) {
        return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
               a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
               a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
               a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The last answer, valid while /etc/passwd and /etc/group are what they were: two stat()s
 * instead of reading and parsing both files for every command (under emulation, about
 * 0.4 ms of each `run`). Tools that change them (useradd, passwd, vipw) write a new file and
 * rename it: a new inode. An in-place edit changes the size or the times, which tick with the
 * kernel's coarse clock: only an edit of the same size within a few ms of the last lookup
 * goes unseen, until the next change. */
static struct {
        char root[256], user[64];
        struct file_id passwd, group;
        struct user_info ui;
        int valid;
} cache;

static int lookup_uncached(const char *root, const char *user, struct user_info *ret);

int user_lookup(const char *root, const char *user, struct user_info *ret) {
        struct file_id passwd, group;
        int r;

        file_id_get(root, "/etc/passwd", &passwd);
        file_id_get(root, "/etc/group", &group);
        if (cache.valid && strcmp(cache.root, root) == 0 && strcmp(cache.user, user) == 0 &&
            file_id_eq(&cache.passwd, &passwd) && file_id_eq(&cache.group, &group)) {
                *ret = cache.ui;
                return 0;
        }
        r = lookup_uncached(root, user, ret);
        cache.valid = 0;
        if (r < 0 || strlen(root) >= sizeof(cache.root) || strlen(user) >= sizeof(cache.user))
                return r;
        strcpy(cache.root, root);
        strcpy(cache.user, user);
        cache.passwd = passwd;
        cache.group = group;
        cache.ui = *ret;
        cache.valid = 1;
        return r;
}

static int lookup_uncached(const char *root, const char *user, struct user_info *ret) {
        struct user_info ui = { 0 };
        unsigned long uid;
        int r;

        if (user[0] == '\0')
                user = "root";
        if (parse_id(user, &uid) == 0) {
                r = passwd_find(root, NULL, uid, &ui);
                if (r < 0) {
                        ui.uid = (uid_t) uid;
                        ui.gid = (gid_t) uid;
                        copy_str(ui.name, sizeof(ui.name), user);
                }
        } else {
                r = passwd_find(root, user, 0, &ui);
                if (r < 0 && strcmp(user, "root") != 0)
                        return r;
                if (r < 0)
                        copy_str(ui.name, sizeof(ui.name), "root");
        }
        if (ui.home[0] == '\0')
                copy_str(ui.home, sizeof(ui.home), ui.uid == 0 ? "/root" : "/");
        if (ui.shell[0] == '\0')
                copy_str(ui.shell, sizeof(ui.shell), "/bin/sh");
        groups_find(root, &ui);
        *ret = ui;
        return 0;
}
