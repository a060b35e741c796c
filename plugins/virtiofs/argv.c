/* SPDX-License-Identifier: MIT */
/* The command line of one virtiofsd (C or Rust flavour), and crosvm's own --shared-dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtiofs.h"

/* What the daemon may do as "root" of its user namespace: no device nodes (the kernel
 * refuses them anyway) and no file capabilities (security.capability would otherwise be
 * written for the namespace's root, which is the host's root for root's VMs). */
#define MODCAPS "-mknod:-setfcap"
/* every guest id onto id 0 of the namespace, which is the VM's user on the host */
#define SQUASH_ALL "squash-guest:0:0:4294967295"

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
        char *src = fuse_escape(s->root);
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
        if (r >= 0 && o->probe.has_modcaps) {
                r = strv_push(a, "-o");
                if (r >= 0)
                        r = strv_push(a, "modcaps=" MODCAPS);
        }
        if (r >= 0 && o->probe.has_rlimit) /* virtiofs-launch raised it */
                r = strv_push(a, "--rlimit-nofile=0");
        return r;
}

static int rust_argv(const struct virtiofs *o, const struct share *s, struct strv *a) {
        const struct vmsilo_host *h = o->host;
        int r;

        r = strv_pushf(a, "--socket-path=%s", s->socket);
        if (r >= 0)
                r = strv_pushf(a, "--shared-dir=%s", s->root);
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
        /* virtiofs-launch's namespace has one id, 0 (the VM's user): without translation a
         * guest user other than root could not create files. Not with ACLs (virtiofsd
         * refuses the pair). */
        if (r >= 0 && o->probe.has_translate && !s->posix_acl && s->translate_uid.n == 0)
                r = strv_push(a, "--translate-uid=" SQUASH_ALL);
        if (r >= 0 && o->probe.has_translate && !s->posix_acl && s->translate_gid.n == 0)
                r = strv_push(a, "--translate-gid=" SQUASH_ALL);
        if (r >= 0 && o->probe.has_modcaps)
                r = strv_push(a, "--modcaps=" MODCAPS);
        if (r >= 0 && o->probe.has_rlimit) /* virtiofs-launch raised it */
                r = strv_push(a, "--rlimit-nofile=0");
        return r;
}

/* virtiofs-launch (see launch/virtiofs-launch.c): checks and binds the directory, drops to
 * the VM's user in a user namespace of its own, forbids mknod and set-id bits, then execs
 * the virtiofsd, which exports the bound copy (s->root). */
static int launcher_argv(const struct virtiofs *o, const struct share *s, struct strv *a) {
        const struct vmsilo_host *h = o->host;
        int r;

        r = strv_push(a, o->probe.launcher);
        if (r >= 0)
                r = strv_pushf(a, "--share=%s", s->name);
        if (r >= 0)
                r = strv_pushf(a, "--path=%s", s->path);
        if (r >= 0)
                r = strv_pushf(a, "--vm-uid=%u", h->vm_uid(h));
        if (r >= 0)
                r = strv_pushf(a, "--vm-gid=%u", h->vm_gid(h));
        if (r >= 0)
                r = strv_pushf(a, "--root=%s", s->root);
        if (r >= 0 && s->read_only)
                r = strv_push(a, "--read-only");
        /* the C virtiofsd's lock file goes to a private /run (it could not create it) */
        if (r >= 0 && o->probe.flavour == FLAVOUR_C)
                r = strv_pushf(a, "--private-run=%s", h->runtime_dir(h));
        if (r >= 0)
                r = strv_push(a, "--");
        return r;
}

int virtiofsd_argv(struct virtiofs *o, const struct share *s, struct strv *argv) {
        int r;

        r = launcher_argv(o, s, argv);
        if (r >= 0)
                r = strv_push(argv, o->probe.binary);
        if (r < 0)
                return r;
        return o->probe.flavour == FLAVOUR_RUST ? rust_argv(o, s, argv) : c_argv(o, s, argv);
}
