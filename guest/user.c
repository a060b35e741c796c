/* User lookup in ROOT/etc/passwd and ROOT/etc/group (no NSS in a static binary). */
#include "user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int user_lookup(const char *root, const char *user, struct user_info *ret) {
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
