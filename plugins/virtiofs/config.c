/* SPDX-License-Identifier: MIT */
/* The keys of [virtiofs] and [virtiofs NAME], and the validators of their values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        for (char **v = s->translate_uid_given; v && *v; v++)
                free(*v);
        free(s->translate_uid_given);
        for (char **v = s->translate_gid_given; v && *v; v++)
                free(*v);
        free(s->translate_gid_given);
}

/* ---- the key table: the core parses and stores, configured() derives ---- */

static int tag_ok(const char *v, char *why, size_t size) {
        (void) why;
        (void) size;
        return tag_valid(v);
}

static int guest_path_ok(const char *v, char *why, size_t size) {
        (void) why;
        (void) size;
        return guest_path_valid(v);
}

static int mount_point_ok(const char *v, char *why, size_t size) {
        (void) why;
        (void) size;
        return strcmp(v, "none") == 0 || guest_path_valid(v);
}

static int idmap_ok(const char *v, char *why, size_t size) {
        (void) why;
        (void) size;
        return idmap_valid(v);
}

static int shared_home_ok(const char *v, char *why, size_t size) {
        if (vmsilo_parse_bool(v) >= 0)
                return 1;
        for (const unsigned char *c = (const unsigned char *) v; *c; c++)
                if (*c < 0x20 || *c == 0x7f) { /* the path reaches virtiofsd's argv */
                        snprintf(why, size, "no control characters in a path");
                        return 0;
                }
        return v[0] == '/';
}

static const char *const flavours[] = { "auto", "c", "rust", NULL };
static const char *const backends[] = { "virtiofsd", "crosvm", NULL };
static const char *const sandboxes[] = { "namespace", "chroot", "none", NULL };
static const char *const params[] = { "vmsilo", "systemd", "both", NULL };
/* "none": the C virtiofsd's word for never */
static const char *const caches[] = { "auto", "always", "never", "metadata", "none", NULL };

#define GLOBAL(f) offsetof(struct virtiofs, f)
#define SHARE(f) offsetof(struct share, f)
const struct vmsilo_key virtiofs_keys[] = {
        { .name = "virtiofsd",
          .type = VMSILO_KEY_PROGRAM,
          .offset = GLOBAL(virtiofsd),
          .help = "the virtiofsd to run (default: looked up in $PATH)" },
        { .name = "flavour",
          .type = VMSILO_KEY_ENUM,
          .offset = GLOBAL(flavour),
          .def = "auto",
          .values = flavours,
          .help = "which virtiofsd it is: auto, c or rust" },
        { .name = "backend",
          .type = VMSILO_KEY_ENUM,
          .offset = GLOBAL(backend),
          .def = "virtiofsd",
          .values = backends,
          .help = "virtiofsd per share, or crosvm's own shared directories" },
        { .name = "sandbox",
          .type = VMSILO_KEY_ENUM,
          .offset = GLOBAL(sandbox),
          .def = "namespace",
          .values = sandboxes,
          .help = "virtiofsd's sandbox" },
        { .name = "mount-params",
          .type = VMSILO_KEY_ENUM,
          .offset = GLOBAL(mount_params_index),
          .def = "systemd",
          .values = params,
          .help = "how the guest learns its mounts: vmsilo.mount=, systemd.mount-extra= or both" },
        { .name = "shared-home",
          .type = VMSILO_KEY_STRING,
          .offset = GLOBAL(home_given),
          .validate = shared_home_ok,
          .expected = "yes, no or an absolute path",
          .help = "share the VM's home directory (yes: the default place)" },
        { .name = "shared-home-mount-point",
          .type = VMSILO_KEY_STRING,
          .offset = GLOBAL(home_mount_point),
          .validate = guest_path_ok,
          .expected = "an absolute guest path of letters, digits and / . _ - + @ ~",
          .help = "where the guest mounts the shared home" },
        { .name = "path",
          .type = VMSILO_KEY_PATH,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(path),
          .expected = "an absolute path of a host directory",
          .help = "the host directory" },
        { .name = "tag",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(tag),
          .validate = tag_ok,
          .expected = "1 to 36 letters, digits, '.', '_' or '-'",
          .help = "the virtio-fs tag (default: the share's name)" },
        { .name = "read-only",
          .type = VMSILO_KEY_BOOL,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(read_only),
          .help = "the guest cannot write" },
        { .name = "cache",
          .type = VMSILO_KEY_ENUM,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(cache_index),
          .values = caches,
          .expected = "auto, always, never or metadata",
          .help = "virtiofsd's cache policy" },
        { .name = "xattr",
          .type = VMSILO_KEY_BOOL,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(xattr),
          .help = "extended attributes" },
        { .name = "posix-acl",
          .type = VMSILO_KEY_BOOL,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(posix_acl),
          .help = "POSIX ACLs" },
        { .name = "mount-point",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = SHARE(mount_point),
          .validate = mount_point_ok,
          .expected = "none or an absolute guest path of letters, digits and / . _ - + @ ~",
          .help = "where the guest mounts it (default /mnt/NAME)" },
        { .name = "translate-uid",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE | VMSILO_KEY_LIST,
          .offset = SHARE(translate_uid_given),
          .validate = idmap_ok,
          .expected =
                  "TYPE:FROM:TO:COUNT with TYPE guest, host, squash-guest, squash-host or map, or forbid-guest:FROM:COUNT",
          .help = "a uid mapping of the Rust virtiofsd" },
        { .name = "translate-gid",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE | VMSILO_KEY_LIST,
          .offset = SHARE(translate_gid_given),
          .validate = idmap_ok,
          .expected =
                  "TYPE:FROM:TO:COUNT with TYPE guest, host, squash-guest, squash-host or map, or forbid-guest:FROM:COUNT",
          .help = "a gid mapping of the Rust virtiofsd" },
        { .name = NULL },
};

int virtiofs_instance(void *state, const char *name, void **ret) {
        struct virtiofs *o = state;
        const struct vmsilo_host *h = o->host;
        struct share *n;

        if (!share_name_valid(name)) {
                h->log(h, VMSILO_LOG_ERROR,
                       "invalid share name '%s' in [virtiofs %s]: expected 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit",
                       name, name, SHARE_NAME_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < o->n_shares; i++)
                if (strcmp(o->shares[i].name, name) == 0) {
                        *ret = &o->shares[i];
                        return 0;
                }
        n = realloc(o->shares, (o->n_shares + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        o->shares = n;
        n = &o->shares[o->n_shares];
        *n = (struct share){ .name = strdup(name) };
        if (!n->name)
                return -ENOMEM;
        o->n_shares++;
        *ret = n;
        return 0;
}

static int strv_of(char **given, struct strv *list) {
        int r = 0;

        strv_free(list);
        for (char **v = given; r >= 0 && v && *v; v++)
                r = strv_push(list, *v);
        return r;
}

/* The derived forms of the keys; idempotent, for configured() and for the hooks. */
int virtiofs_convert(struct virtiofs *o) {
        int r = 0, b = o->home_given ? vmsilo_parse_bool(o->home_given) : 0;

        o->mount_params = o->mount_params_index + 1; /* MOUNT_VMSILO, MOUNT_SYSTEMD, both */
        o->home = b > 0 ? HOME_DEFAULT : b == 0 ? HOME_OFF : HOME_PATH;
        free(o->home_path);
        o->home_path = o->home == HOME_PATH ? strdup(o->home_given) : NULL;
        if (o->home == HOME_PATH && !o->home_path)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < o->n_shares; i++) {
                struct share *s = &o->shares[i];

                if (s->is_home)
                        continue;
                s->cache = s->cache_index == 4 ? CACHE_NEVER : s->cache_index;
                r = strv_of(s->translate_uid_given, &s->translate_uid);
                if (r >= 0)
                        r = strv_of(s->translate_gid_given, &s->translate_gid);
        }
        return r;
}

/* crosvm's shared directories cannot carry a ':' in the host path, whichever key came first */
int virtiofs_configured(void *state) {
        struct virtiofs *o = state;
        const struct vmsilo_host *h = o->host;
        int r = virtiofs_convert(o);

        for (size_t i = 0; r >= 0 && i < o->n_shares; i++) {
                const struct share *s = &o->shares[i];

                if (o->backend != BACKEND_CROSVM || !s->path || !strchr(s->path, ':'))
                        continue;
                h->log_at(
                        h, VMSILO_LOG_ERROR, s->name, "path",
                        "host path '%s' of share '%s' contains ':', which crosvm's --shared-dir (backend = crosvm) cannot carry: rename the directory or use backend = virtiofsd",
                        s->path, s->name);
                r = -EINVAL;
        }
        return r;
}
