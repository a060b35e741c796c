/* SPDX-License-Identifier: MIT */
/*
 * virtiofs: host directories shared with the guest over virtio-fs (vmsilo's
 * sharedDirectories and sharedHome). One virtiofsd per share, started before the VMM with its
 * socket in the VM's runtime dir, stopped after it; or crosvm's own --shared-dir. The
 * guest mounts each share from `systemd.mount-extra=TAG:PATH:virtiofs[:ro]`. See virtiofs.md.
 *
 * Sections: [virtiofs] for the plugin's keys, [virtiofs NAME] for one share (the core routes
 * a section to the plugin of the same name, so shares cannot be spelled [share NAME]).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtiofs.h"

static int virtiofs_init(const struct vmsilo_host *host, void **ret_state) {
        struct virtiofs *o = calloc(1, sizeof(*o));

        if (!o)
                return -ENOMEM;
        o->host = host;
        *ret_state = o;
        return 0;
}

/* mkdir -p; the last component 0700, the ones above 0755. */
static int mkdir_parents(const char *path) {
        char *copy = strdup(path);
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; r == 0; p++) {
                int last = *p == '\0';

                if (*p != '/' && !last)
                        continue;
                *p = '\0';
                if (mkdir(copy, last ? 0700 : 0755) < 0 && errno != EEXIST)
                        r = -errno;
                if (last)
                        break;
                *p = '/';
        }
        free(copy);
        return r;
}

/* The shared home persists (it is the VM's data): created when missing, never removed. */
static int make_home(struct virtiofs *o, const struct share *s) {
        const struct vmsilo_host *h = o->host;
        struct stat st;
        int r;

        if (stat(s->path, &st) == 0)
                return 0;
        h->describe(h, "create shared home directory '%s' owned by uid %u gid %u (kept after stop)",
                    s->path, h->vm_uid(h), h->vm_gid(h));
        if (h->dry_run(h))
                return 0;
        r = mkdir_parents(s->path);
        if (r < 0) {
                h->log(h, VMSILO_LOG_ERROR, "failed to create the shared home '%s': %s", s->path,
                       strerror(-r));
                return r;
        }
        if (geteuid() == 0 && h->vm_uid(h) != 0 && chown(s->path, h->vm_uid(h), h->vm_gid(h)) < 0) {
                r = -errno;
                h->log(h, VMSILO_LOG_ERROR, "failed to give the shared home '%s' to uid %u: %s",
                       s->path, h->vm_uid(h), strerror(-r));
                return r;
        }
        return 0;
}

static int set_runtime_path(const struct vmsilo_host *h, char **field, const char *name,
                            const char *suffix) {
        free(*field);
        *field = NULL;
        if (asprintf(field, "%s/virtiofs-%s%s", h->runtime_dir(h), name, suffix) < 0) {
                *field = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int start_virtiofsd(struct virtiofs *o, struct share *s) {
        const struct vmsilo_host *h = o->host;
        struct strv argv = {};
        struct vmsilo_helper helper = {
                .size = sizeof(helper),
                .ready = VMSILO_READY_SOCKET,
                .name = s->name,
        };
        int r;

        r = set_runtime_path(h, &s->socket, s->name, ".sock");
        if (r >= 0)
                r = set_runtime_path(h, &s->root, s->name, ".root");
        if (r >= 0)
                r = virtiofsd_argv(o, s, &argv);
        /* virtiofs-launch creates the (empty) mount point; removed after the virtiofsd stops */
        if (r >= 0)
                r = h->push_unlink(h, s->root);
        if (r >= 0 && o->probe.flavour == FLAVOUR_RUST) {
                /* the Rust virtiofsd writes SOCKET.pid next to its socket */
                char *pid = NULL;

                r = asprintf(&pid, "%s.pid", s->socket) < 0 ? -ENOMEM : h->push_unlink(h, pid);
                free(pid);
        }
        if (r >= 0) {
                helper.argv = (const char *const *) argv.items;
                helper.socket = s->socket;
                r = h->spawn_helper(h, &helper);
        }
        strv_free(&argv);
        return r;
}

static int virtiofs_prepare(void *state) {
        struct virtiofs *o = state;
        int r;

        r = add_home_share(o);
        if (r < 0)
                return r;
        if (backend_check(o) > 0) /* `print` runs no preflight: the argv depends on these */
                return -EINVAL;
        for (size_t i = 0; i < o->n_shares; i++) {
                struct share *s = &o->shares[i];

                r = s->is_home ? make_home(o, s) : 0;
                if (r >= 0 && o->backend == BACKEND_VIRTIOFSD)
                        r = start_virtiofsd(o, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_mount_params(struct virtiofs *o, const struct share *s) {
        const struct vmsilo_host *h = o->host;
        char *where = share_mount_point(s), *p = NULL;
        int r = 0;

        if (!where)
                return s->mount_point ? 0 : -ENOMEM; /* "none" */
        if (o->mount_params & MOUNT_VMSILO) {
                r = asprintf(&p, "vmsilo.mount=%s,%s%s", share_tag(s), where,
                             s->read_only ? ",ro" : "");
                r = r < 0 ? -ENOMEM : h->add_kernel_param(h, p);
                free(p);
        }
        if (r >= 0 && (o->mount_params & MOUNT_SYSTEMD)) {
                r = asprintf(&p, "systemd.mount-extra=%s:%s:virtiofs%s", share_tag(s), where,
                             s->read_only ? ":ro" : "");
                r = r < 0 ? -ENOMEM : h->add_kernel_param(h, p);
                free(p);
        }
        free(where);
        return r;
}

static int add_share(struct virtiofs *o, const struct share *s) {
        const struct vmsilo_host *h = o->host;
        struct vmsilo_device d = {
                .size = sizeof(d),
                .type = VMSILO_DEVICE_VHOST_USER,
                .fd = -1,
                .kind = "fs",
                .socket = s->socket,
                .tag = share_tag(s),
        };

        if (o->backend == BACKEND_CROSVM) { /* the VMM's own virtio-fs server */
                d.type = VMSILO_DEVICE_SHARED_DIR;
                d.kind = d.socket = NULL;
                d.path = s->path;
                d.flags = s->read_only ? VMSILO_DEVICE_RO : 0;
                d.features = (s->posix_acl ? VMSILO_FS_POSIX_ACL : 0) |
                             (s->cache == CACHE_ALWAYS ? VMSILO_FS_CACHE_ALWAYS : 0) |
                             (s->cache == CACHE_NEVER ? VMSILO_FS_CACHE_NEVER : 0);
        }
        return h->add_device(h, &d);
}

static int virtiofs_contribute(void *state) {
        struct virtiofs *o = state;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < o->n_shares; i++) {
                r = add_share(o, &o->shares[i]);
                if (r >= 0)
                        r = add_mount_params(o, &o->shares[i]);
        }
        return r;
}

static void virtiofs_teardown(void *state) {
        struct virtiofs *o = state;

        if (!o)
                return;
        for (size_t i = 0; i < o->n_shares; i++)
                share_free(&o->shares[i]);
        free(o->shares);
        free(o->virtiofsd);
        free(o->home_path);
        free(o->home_mount_point);
        free(o->home_given);
        free(o->probe.binary);
        free(o->probe.launcher);
        free(o);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "virtiofs",
        .version = "0.1.0",
        .init = virtiofs_init,
        .preflight = virtiofs_preflight,
        .prepare = virtiofs_prepare,
        .contribute = virtiofs_contribute,
        .teardown = virtiofs_teardown,
        .keys = virtiofs_keys,
        .key_size = sizeof(struct vmsilo_key),
        .instance = virtiofs_instance,
        .configured = virtiofs_configured,
};
