/* SPDX-License-Identifier: MIT */
/* The command line of one virtiofsd (C or Rust flavour), and crosvm's own --shared-dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtiofs.h"

/* A read-only share without a virtiofsd that can enforce it (the C one, an old Rust one): a
 * read-only bind mount of the directory on itself, in a mount namespace of virtiofsd's own,
 * which vanishes with it. Non-recursive, so mounts below the directory are not exported. */
#define RO_SCRIPT "mount -o bind,ro -- \"$1\" \"$1\" && shift && exec \"$@\""

static const char *const cache_words[][2] = {
        /* C, Rust (and crosvm) */
        [CACHE_AUTO] = { "auto", "auto" },
        [CACHE_ALWAYS] = { "always", "always" },
        [CACHE_NEVER] = { "none", "never" },
        [CACHE_METADATA] = { "metadata", "metadata" },
};

static const char *const sandbox_words[] = {
        [SANDBOX_NAMESPACE] = "namespace",
        [SANDBOX_CHROOT] = "chroot",
        [SANDBOX_NONE] = "none",
};

/* The C virtiofsd reads -o as a FUSE option list: ',' separates, '\' escapes. */
static char *fuse_escape(const char *s) {
        char *e = malloc(strlen(s) * 2 + 1), *d = e;

        if (!e)
                return NULL;
        for (; *s; s++) {
                if (*s == ',' || *s == '\\')
                        *d++ = '\\';
                *d++ = *s;
        }
        *d = '\0';
        return e;
}

static int c_argv(const struct virtiofs *o, const struct share *s, struct strv *a) {
        char *src = fuse_escape(s->path);
        int r;

        if (!src)
                return -ENOMEM;
        r = strv_pushf(a, "--socket-path=%s", s->socket);
        if (r >= 0)
                r = strv_push(a, "-o");
        if (r >= 0)
                r = strv_pushf(a, "source=%s", src);
        free(src);
        if (r >= 0)
                r = strv_push(a, "-o");
        if (r >= 0)
                r = strv_pushf(a, "cache=%s", cache_words[s->cache][0]);
        if (r >= 0)
                r = strv_push(a, "-o");
        if (r >= 0) /* posix_acl needs xattr */
                r = strv_push(a, s->xattr || s->posix_acl ? "xattr" : "no_xattr");
        if (r >= 0 && s->posix_acl) {
                r = strv_push(a, "-o");
                if (r >= 0)
                        r = strv_push(a, "posix_acl");
        }
        if (r >= 0)
                r = strv_push(a, "-o");
        if (r >= 0)
                r = strv_pushf(a, "sandbox=%s", sandbox_words[o->sandbox]);
        if (r >= 0)
                r = strv_push(a, "-o");
        if (r >= 0)
                r = strv_push(a, "announce_submounts");
        return r;
}

static int rust_argv(const struct virtiofs *o, const struct share *s, struct strv *a) {
        const struct vmsilo_host *h = o->host;
        int r;

        r = strv_pushf(a, "--socket-path=%s", s->socket);
        if (r >= 0)
                r = strv_pushf(a, "--shared-dir=%s", s->path);
        /* only crosvm asks the backend for the tag; QEMU 7.1-8.0 crash on a backend that
         * offers one (the Rust virtiofsd's --help says so), and QEMU has it on the device */
        if (r >= 0 && tag_from_backend(h))
                r = strv_pushf(a, "--tag=%s", share_tag(s));
        if (r >= 0)
                r = strv_pushf(a, "--cache=%s", cache_words[s->cache][1]);
        if (r >= 0)
                r = strv_pushf(a, "--sandbox=%s", sandbox_words[o->sandbox]);
        if (r >= 0 && o->probe.has_announce) /* the default since 1.x; older ones need it */
                r = strv_push(a, "--announce-submounts");
        if (r >= 0 && s->xattr)
                r = strv_push(a, "--xattr");
        if (r >= 0 && s->posix_acl)
                r = strv_push(a, "--posix-acl");
        if (r >= 0 && s->read_only && o->probe.has_readonly)
                r = strv_push(a, "--readonly");
        for (size_t i = 0; r >= 0 && i < s->translate_uid.n; i++)
                r = strv_pushf(a, "--translate-uid=%s", s->translate_uid.items[i]);
        for (size_t i = 0; r >= 0 && i < s->translate_gid.n; i++)
                r = strv_pushf(a, "--translate-gid=%s", s->translate_gid.items[i]);
        return r;
}

/* 1 when a read-only share needs the bind-mount wrapper. */
static int needs_ro_wrapper(const struct virtiofs *o, const struct share *s) {
        return s->read_only && !(o->probe.flavour == FLAVOUR_RUST && o->probe.has_readonly);
}

int virtiofsd_argv(struct virtiofs *o, const struct share *s, struct strv *argv) {
        int r = 0;

        if (needs_ro_wrapper(o, s)) {
                static const char *const pre[] = { "unshare", "--mount", "--propagation",
                                                   "private", "--",      "/bin/sh",
                                                   "-c",      RO_SCRIPT, "vmsilo-virtiofs-ro" };

                for (size_t i = 0; r >= 0 && i < sizeof(pre) / sizeof(pre[0]); i++)
                        r = strv_push(argv, pre[i]);
                if (r >= 0)
                        r = strv_push(argv, s->path);
        }
        if (r >= 0)
                r = strv_push(argv, o->probe.binary);
        if (r < 0)
                return r;
        return o->probe.flavour == FLAVOUR_RUST ? rust_argv(o, s, argv) : c_argv(o, s, argv);
}

char *c_pid_file(const char *socket) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s.pid", C_VIRTIOFSD_PID_DIR, socket) < 0)
                return NULL;
        for (char *c = p + strlen(C_VIRTIOFSD_PID_DIR) + 1; *c; c++)
                if (*c == '/')
                        *c = '.';
        return p;
}
