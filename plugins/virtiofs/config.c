/* SPDX-License-Identifier: MIT */
/* The keys of [virtiofs] and [virtiofs NAME], and the validators of their values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "virtiofs.h"

int strv_push(struct strv *v, const char *s) {
        char *c;

        if (v->n + 2 > v->allocated) {
                size_t a = v->allocated ? v->allocated * 2 : 16;
                char **n = realloc(v->items, a * sizeof(*n));

                if (!n)
                        return -ENOMEM;
                v->items = n;
                v->allocated = a;
        }
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        v->items[v->n++] = c;
        v->items[v->n] = NULL;
        return 0;
}

int strv_pushf(struct strv *v, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = strv_push(v, s);
        free(s);
        return r;
}

void strv_free(struct strv *v) {
        for (size_t i = 0; i < v->n; i++)
                free(v->items[i]);
        free(v->items);
        *v = (struct strv){};
}

static int is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Tags travel in QEMU's -device list (',' splits), in crosvm's --shared-dir (':' splits), on
 * the kernel command line (' ' splits) and in vmsilo.mount= (',' splits): a safe charset. */
int tag_valid(const char *tag) {
        size_t n = strlen(tag);

        if (n == 0 || n > TAG_MAX)
                return 0;
        for (const char *p = tag; *p; p++)
                if (!is_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
                        return 0;
        return 1;
}

/* Names end up in socket and log file names and are the default tag and mount point. */
int share_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > SHARE_NAME_MAX || !is_alnum(name[0]))
                return 0;
        return tag_valid(name);
}

/* An absolute guest path without '..' components, in a charset that survives the kernel
 * command line, vmsilo.mount= (',') and systemd.mount-extra= (':'). */
int guest_path_valid(const char *path) {
        size_t n = strlen(path);

        if (n < 2 || n > GUEST_PATH_MAX || path[0] != '/')
                return 0;
        for (const char *p = path; *p; p++)
                if (!is_alnum(*p) && !strchr("/._-+@~", *p))
                        return 0;
        for (const char *p = path; (p = strstr(p, "/..")); p += 3)
                if (p[3] == '/' || p[3] == '\0')
                        return 0;
        return 1;
}

static int parse_u32(const char *s, const char **end) {
        unsigned long long v = 0;
        const char *p = s;

        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (unsigned) (*p - '0');
                if (v > 0xffffffffULL)
                        return -ERANGE;
        }
        *end = p;
        return p == s ? -EINVAL : 0;
}

/* The Rust virtiofsd's --translate-uid/--translate-gid: TYPE:A:B:COUNT (forbid-guest:A:COUNT). */
int idmap_valid(const char *map) {
        static const char *const types[] = { "guest", "host", "squash-guest", "squash-host",
                                             "map" };
        const char *colon = strchr(map, ':'), *p;
        size_t fields = 3, len;

        if (!colon)
                return 0;
        len = (size_t) (colon - map);
        if (len == strlen("forbid-guest") && strncmp(map, "forbid-guest", len) == 0)
                fields = 2;
        else {
                size_t i;

                for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                        if (len == strlen(types[i]) && strncmp(map, types[i], len) == 0)
                                break;
                if (i == sizeof(types) / sizeof(types[0]))
                        return 0;
        }
        p = colon;
        for (size_t i = 0; i < fields; i++) {
                if (*p != ':' || parse_u32(p + 1, &p) < 0)
                        return 0;
        }
        return *p == '\0';
}

static int parse_bool(const char *v, int *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = 1;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = 0;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *share_tag(const struct share *s) {
        return s->tag ? s->tag : s->name;
}

char *share_mount_point(const struct share *s) {
        char *p = NULL;

        if (s->mount_point)
                return strcmp(s->mount_point, "none") == 0 ? NULL : strdup(s->mount_point);
        if (asprintf(&p, "/mnt/%s", s->name) < 0)
                return NULL;
        return p;
}

void share_free(struct share *s) {
        free(s->name);
        free(s->path);
        free(s->tag);
        free(s->mount_point);
        free(s->socket);
        free(s->root);
        strv_free(&s->translate_uid);
        strv_free(&s->translate_gid);
}

static int set_string(char **field, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int bad_value(const struct virtiofs *o, const char *instance, const char *key,
                     const char *value, const char *expected) {
        const struct vmsilo_host *h = o->host;

        h->log(h, VMSILO_LOG_ERROR, "invalid value '%s' for '%s' in [virtiofs%s%s]: expected %s",
               value, key, instance ? " " : "", instance ? instance : "", expected);
        return -EINVAL;
}

static int colon_for_crosvm(const struct virtiofs *o, const struct share *s, const char *path) {
        const struct vmsilo_host *h = o->host;

        if (o->backend != BACKEND_CROSVM || !path || !strchr(path, ':'))
                return 0;
        h->log(h, VMSILO_LOG_ERROR,
               "host path '%s' of share '%s' contains ':', which crosvm's --shared-dir (backend = crosvm) cannot carry: rename the directory or use backend = virtiofsd",
               path, s->name);
        return -EINVAL;
}

/* Host paths reach virtiofsd's argv: a control character (a newline, an escape) in one is a
 * mistake or an attack, never a directory someone meant to share. */
static int has_control_chars(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        return 1;
        return 0;
}

static int bad_host_path(const struct virtiofs *o, const char *instance, const char *key) {
        const struct vmsilo_host *h = o->host;

        h->log(h, VMSILO_LOG_ERROR,
               "invalid value for '%s' in [virtiofs%s%s]: control characters are not allowed in a path",
               key, instance ? " " : "", instance ? instance : "");
        return -EINVAL;
}

static int pick(const char *value, const char *const *words, int n) {
        for (int i = 0; i < n; i++)
                if (strcmp(value, words[i]) == 0)
                        return i;
        return -1;
}

static int configure_global(struct virtiofs *o, const char *key, const char *value) {
        static const char *const flavours[] = { "auto", "c", "rust" };
        static const char *const backends[] = { "virtiofsd", "crosvm" };
        static const char *const sandboxes[] = { "namespace", "chroot", "none" };
        static const char *const params[] = { "", "vmsilo", "systemd", "both" };
        const struct vmsilo_host *h = o->host;
        int i, b;

        if (strcmp(key, "virtiofsd") == 0) {
                if (has_control_chars(value))
                        return bad_host_path(o, NULL, key);
                if (value[0] == '\0' || (value[0] != '/' && strchr(value, '/')))
                        return bad_value(o, NULL, key, value,
                                         "an absolute path or a program name to look up in $PATH");
                return set_string(&o->virtiofsd, value);
        }
        if (strcmp(key, "flavour") == 0) {
                if ((i = pick(value, flavours, 3)) < 0)
                        return bad_value(o, NULL, key, value, "auto, c or rust");
                o->flavour = i;
                return 0;
        }
        if (strcmp(key, "backend") == 0) {
                if ((i = pick(value, backends, 2)) < 0)
                        return bad_value(o, NULL, key, value, "virtiofsd or crosvm");
                o->backend = i;
                for (size_t k = 0; k < o->n_shares; k++)
                        if (colon_for_crosvm(o, &o->shares[k], o->shares[k].path) < 0)
                                return -EINVAL;
                return 0;
        }
        if (strcmp(key, "sandbox") == 0) {
                if ((i = pick(value, sandboxes, 3)) < 0)
                        return bad_value(o, NULL, key, value, "namespace, chroot or none");
                o->sandbox = i;
                return 0;
        }
        if (strcmp(key, "mount-params") == 0) {
                if ((i = pick(value, params, 4)) <= 0)
                        return bad_value(o, NULL, key, value, "vmsilo, systemd or both");
                o->mount_params = i;
                return 0;
        }
        if (strcmp(key, "shared-home") == 0) {
                if (parse_bool(value, &b) == 0) {
                        o->home = b ? HOME_DEFAULT : HOME_OFF;
                        return 0;
                }
                if (value[0] != '/')
                        return bad_value(o, NULL, key, value, "yes, no or an absolute path");
                if (has_control_chars(value))
                        return bad_host_path(o, NULL, key);
                o->home = HOME_PATH;
                return set_string(&o->home_path, value);
        }
        if (strcmp(key, "shared-home-mount-point") == 0) {
                if (!guest_path_valid(value))
                        return bad_value(
                                o, NULL, key, value,
                                "an absolute guest path of letters, digits and / . _ - + @ ~");
                return set_string(&o->home_mount_point, value);
        }
        if (strcmp(key, "path") == 0 || strcmp(key, "tag") == 0 || strcmp(key, "read-only") == 0 ||
            strcmp(key, "cache") == 0 || strcmp(key, "xattr") == 0 ||
            strcmp(key, "posix-acl") == 0 || strcmp(key, "mount-point") == 0 ||
            strcmp(key, "translate-uid") == 0 || strcmp(key, "translate-gid") == 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "'%s' is a key of a share: put it in a [virtiofs NAME] section, one per shared directory",
                       key);
                return -EINVAL;
        }
        return -ENOENT;
}

static struct share *find_share(struct virtiofs *o, const char *name) {
        struct share *n;

        for (size_t i = 0; i < o->n_shares; i++)
                if (strcmp(o->shares[i].name, name) == 0)
                        return &o->shares[i];
        n = realloc(o->shares, (o->n_shares + 1) * sizeof(*n));
        if (!n)
                return NULL;
        o->shares = n;
        n = &o->shares[o->n_shares];
        *n = (struct share){ .name = strdup(name) };
        if (!n->name)
                return NULL;
        o->n_shares++;
        return n;
}

static int configure_idmap(struct virtiofs *o, struct share *s, const char *key, const char *value,
                           struct strv *list) {
        if (value[0] == '\0') {
                strv_free(list);
                return 0;
        }
        if (!idmap_valid(value))
                return bad_value(
                        o, s->name, key, value,
                        "TYPE:FROM:TO:COUNT with TYPE guest, host, squash-guest, squash-host or map, or forbid-guest:FROM:COUNT");
        return strv_push(list, value);
}

static int configure_share_bool(struct virtiofs *o, struct share *s, const char *key,
                                const char *value) {
        int b, *field = strcmp(key, "read-only") == 0 ? &s->read_only
                        : strcmp(key, "xattr") == 0   ? &s->xattr
                                                      : &s->posix_acl;

        if (parse_bool(value, &b) < 0)
                return bad_value(o, s->name, key, value, "yes or no");
        *field = b;
        return 0;
}

static int configure_share(struct virtiofs *o, struct share *s, const char *key,
                           const char *value) {
        static const char *const caches[] = { "auto", "always", "never", "metadata", "none" };
        int i;

        if (strcmp(key, "path") == 0) {
                if (value[0] != '/')
                        return bad_value(o, s->name, key, value,
                                         "an absolute path of a host directory");
                if (has_control_chars(value))
                        return bad_host_path(o, s->name, key);
                if (colon_for_crosvm(o, s, value) < 0)
                        return -EINVAL;
                return set_string(&s->path, value);
        }
        if (strcmp(key, "tag") == 0) {
                if (!tag_valid(value))
                        return bad_value(o, s->name, key, value,
                                         "1 to 36 letters, digits, '.', '_' or '-'");
                return set_string(&s->tag, value);
        }
        if (strcmp(key, "read-only") == 0 || strcmp(key, "xattr") == 0 ||
            strcmp(key, "posix-acl") == 0)
                return configure_share_bool(o, s, key, value);
        if (strcmp(key, "cache") == 0) {
                if ((i = pick(value, caches, 5)) < 0)
                        return bad_value(o, s->name, key, value, "auto, always, never or metadata");
                s->cache = i == 4 ? CACHE_NEVER : i; /* "none": the C virtiofsd's word */
                return 0;
        }
        if (strcmp(key, "mount-point") == 0) {
                if (strcmp(value, "none") != 0 && !guest_path_valid(value))
                        return bad_value(
                                o, s->name, key, value,
                                "none or an absolute guest path of letters, digits and / . _ - + @ ~");
                return set_string(&s->mount_point, value);
        }
        if (strcmp(key, "translate-uid") == 0)
                return configure_idmap(o, s, key, value, &s->translate_uid);
        if (strcmp(key, "translate-gid") == 0)
                return configure_idmap(o, s, key, value, &s->translate_gid);
        return -ENOENT;
}

static int is_global_key(const char *key) {
        static const char *const keys[] = { "virtiofsd",
                                            "flavour",
                                            "backend",
                                            "sandbox",
                                            "mount-params",
                                            "shared-home",
                                            "shared-home-mount-point" };

        return pick(key, keys, sizeof(keys) / sizeof(keys[0])) >= 0;
}

int virtiofs_configure(void *state, const char *instance, const char *key, const char *value) {
        struct virtiofs *o = state;
        const struct vmsilo_host *h = o->host;
        struct share *s;

        if (!instance)
                return configure_global(o, key, value);
        if (!share_name_valid(instance)) {
                h->log(h, VMSILO_LOG_ERROR,
                       "invalid share name '%s' in [virtiofs %s]: expected 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit",
                       instance, instance, SHARE_NAME_MAX);
                return -EINVAL;
        }
        if (is_global_key(key)) {
                h->log(h, VMSILO_LOG_ERROR,
                       "'%s' is a key of the plugin, not of a share: put it in [virtiofs] (without a name)",
                       key);
                return -EINVAL;
        }
        s = find_share(o, instance);
        if (!s)
                return -ENOMEM;
        return configure_share(o, s, key, value);
}
