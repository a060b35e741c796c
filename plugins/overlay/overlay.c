/* SPDX-License-Identifier: MIT */
/*
 * overlay: the ephemeral root overlay of vmsilo. `raw` gives the guest a fresh sparse raw
 * disk (made at every start, deleted at stop) for the upper layer over its read-only root;
 * `tmpfs` only tells the guest to use RAM. See overlay.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <vmsilo/plugin.h>

enum overlay_type { OVERLAY_OFF, OVERLAY_RAW, OVERLAY_TMPFS };

struct overlay {
        const struct vmsilo_host *host;
        int type;
        unsigned long long size; /* bytes */
        char *directory;
        char *path; /* DIRECTORY/NAME-ephemeral.raw */
};

#define DISK_ID "ephemeral"

static const char *const types[] = { "off", "raw", "tmpfs", NULL };

static const struct vmsilo_key overlay_keys[] = {
        { .name = "type",
          .type = VMSILO_KEY_ENUM,
          .offset = offsetof(struct overlay, type),
          .def = "tmpfs",
          .values = types,
          .expected = "raw, tmpfs or off",
          .help = "raw: a fresh sparse disk for the upper layer; tmpfs: RAM; off" },
        { .name = "size",
          .type = VMSILO_KEY_SIZE,
          .offset = offsetof(struct overlay, size),
          .def = "10G",
          .min = 1,
          .help = "the size of the raw disk" },
        { .name = "directory",
          .type = VMSILO_KEY_PATH,
          .offset = offsetof(struct overlay, directory),
          .help = "where the raw disk is made (default: the state directory)" },
        { .name = NULL },
};

static int overlay_init(const struct vmsilo_host *host, void **ret_state) {
        struct overlay *o = calloc(1, sizeof(*o));

        if (!o)
                return -ENOMEM;
        o->host = host;
        *ret_state = o;
        return 0;
}

/* The directory for the raw file: configured, else the state dir under the host's root. */
static int resolve_path(struct overlay *o) {
        const struct vmsilo_host *h = o->host;
        char buf[4096];

        if (o->path)
                return 0;
        if (!o->directory) {
                const char *home = getenv("HOME");

                if (h->vm_uid(h) == 0 || !home)
                        o->directory = h->root_path(h, "/var/lib/vmsilo");
                else {
                        snprintf(buf, sizeof(buf), "%s/.local/state/vmsilo", home);
                        o->directory = strdup(buf);
                }
                if (!o->directory)
                        return -ENOMEM;
        }
        snprintf(buf, sizeof(buf), "%s/%s-ephemeral.raw", o->directory, h->vm_name(h));
        o->path = strdup(buf);
        return o->path ? 0 : -ENOMEM;
}

static int overlay_preflight(void *state) {
        struct overlay *o = state;
        const struct vmsilo_host *h = o->host;
        struct statvfs sv;
        int r;

        if (o->type != OVERLAY_RAW)
                return 0;
        r = resolve_path(o);
        if (r < 0)
                return r;
        if (access(o->directory, F_OK) < 0) {
                /* prepare creates it: its parent must be a writable directory */
                char parent[4096], *slash;

                snprintf(parent, sizeof(parent), "%s", o->directory);
                slash = strrchr(parent, '/');
                if (slash)
                        *(slash == parent ? slash + 1 : slash) = 0;
                if (access(parent, W_OK | X_OK) < 0)
                        return h->log_errno(h, VMSILO_LOG_ERROR, errno,
                                            "cannot create overlay directory '%s': %m",
                                            o->directory);
                return 0;
        }
        if (access(o->directory, W_OK) < 0 || statvfs(o->directory, &sv) < 0)
                return h->log_errno(h, VMSILO_LOG_ERROR, errno,
                                    "overlay directory '%s' is not writable: %m", o->directory);
        if ((unsigned long long) sv.f_bavail * sv.f_frsize < o->size)
                h->log(h, VMSILO_LOG_WARNING,
                       "only %llu MiB free in '%s' for an overlay of up to %llu MiB (the file is sparse, so this only matters if the guest fills it)",
                       (unsigned long long) sv.f_bavail * sv.f_frsize >> 20, o->directory,
                       o->size >> 20);
        return 0;
}

static int overlay_prepare(void *state) {
        struct overlay *o = state;
        const struct vmsilo_host *h = o->host;
        int fd, r;

        if (o->type != OVERLAY_RAW)
                return 0;
        r = resolve_path(o);
        if (r < 0)
                return r;
        h->describe(h, "create sparse overlay disk '%s' of %llu MiB", o->path, o->size >> 20);
        if (h->dry_run(h))
                return 0;
        if (access(o->directory, F_OK) < 0) {
                /* journalled before it exists: a crash in between leaks nothing; undo only
                 * removes it while it is empty */
                r = h->push_unlink(h, o->directory);
                if (r < 0)
                        return r;
                if (mkdir(o->directory, 0750) < 0 && errno != EEXIST)
                        return h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to create '%s': %m",
                                            o->directory);
        }
        r = h->push_unlink(h, o->path); /* journalled first: a crash in between leaks nothing */
        if (r < 0)
                return r;
        (void) unlink(o->path); /* fresh at every start */
        fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to create '%s': %m",
                                    o->path);
        if (ftruncate(fd, (off_t) o->size) < 0) {
                r = h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to size '%s': %m", o->path);
                close(fd);
                return r;
        }
        if (h->vm_uid(h) != 0 && geteuid() == 0)
                (void) !fchown(fd, h->vm_uid(h), h->vm_gid(h));
        close(fd);
        return 0;
}

static int overlay_contribute(void *state) {
        struct overlay *o = state;
        const struct vmsilo_host *h = o->host;
        struct vmsilo_device d = {
                .size = sizeof(d),
                .type = VMSILO_DEVICE_DISK,
                .fd = -1,
                .id = DISK_ID,
        };
        int r;

        if (o->type == OVERLAY_OFF)
                return 0;
        if (o->type == OVERLAY_TMPFS)
                return h->add_kernel_param(h, "vmsilo.overlay=tmpfs");
        d.path = o->path;
        r = h->add_device(h, &d);
        if (r < 0)
                return r;
        return h->add_kernel_param(h, "vmsilo.overlay=raw," DISK_ID);
}

static void overlay_teardown(void *state) {
        struct overlay *o = state;

        if (!o)
                return;
        vmsilo_keys_free(overlay_keys, o, 0);
        free(o->path);
        free(o);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "overlay",
        .version = "0.1.0",
        .init = overlay_init,
        .preflight = overlay_preflight,
        .prepare = overlay_prepare,
        .contribute = overlay_contribute,
        .teardown = overlay_teardown,
        .keys = overlay_keys,
        .key_size = sizeof(struct vmsilo_key),
};
