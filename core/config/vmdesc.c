/* SPDX-License-Identifier: MIT */
#include "config/vmdesc.h"

static void device_free_strings(struct vm_device *v) {
        free(v->path);
        free(v->id);
        free(v->name);
        free(v->mac);
        free(v->kind);
        free(v->socket);
        free(v->tag);
        free(v->options);
        free(v->pci_address);
        free(v->server);
        free(v->app_id);
        free(v->helper);
        free(v->cookie);
        free(v->render_node);
        free(v->owner);
}

void vm_desc_done(struct vm_desc *d) {
        for (size_t i = 0; i < d->n_devices; i++)
                device_free_strings(&d->devices[i]);
        free(d->devices);
        strv_done(&d->kernel_params);
        strv_done(&d->crosvm_args);
        strv_done(&d->qemu_args);
        for (size_t i = 0; i < d->n_fds; i++)
                safe_close(d->fds[i]);
        free(d->fds);
        strv_done(&d->steps);
        for (size_t i = 0; i < d->n_helpers; i++) {
                free(d->helpers[i].owner);
                free(d->helpers[i].name);
                strv_done(&d->helpers[i].argv);
        }
        free(d->helpers);
        *d = (struct vm_desc){};
}

static int dup_field(char **dst, const char *src) {
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int vm_desc_add_device(struct vm_desc *d, const struct vm_device *dev) {
        struct vm_device *n = realloc(d->devices, (d->n_devices + 1) * sizeof(*n));
        struct vm_device *v;

        if (!n)
                return -ENOMEM;
        d->devices = n;
        v = &d->devices[d->n_devices];
        *v = (struct vm_device){ .type = dev->type,
                                 .flags = dev->flags,
                                 .fd = dev->fd,
                                 .features = dev->features,
                                 .iommu = dev->iommu };
        if (dup_field(&v->path, dev->path) < 0 || dup_field(&v->id, dev->id) < 0 ||
            dup_field(&v->name, dev->name) < 0 || dup_field(&v->mac, dev->mac) < 0 ||
            dup_field(&v->kind, dev->kind) < 0 || dup_field(&v->socket, dev->socket) < 0 ||
            dup_field(&v->tag, dev->tag) < 0 || dup_field(&v->options, dev->options) < 0 ||
            dup_field(&v->pci_address, dev->pci_address) < 0 ||
            dup_field(&v->server, dev->server) < 0 || dup_field(&v->app_id, dev->app_id) < 0 ||
            dup_field(&v->helper, dev->helper) < 0 || dup_field(&v->cookie, dev->cookie) < 0 ||
            dup_field(&v->render_node, dev->render_node) < 0 ||
            dup_field(&v->owner, dev->owner) < 0) {
                device_free_strings(v);
                return -ENOMEM;
        }
        d->n_devices++;
        return 0;
}

int vm_desc_add_fd(struct vm_desc *d, int fd) {
        int *n = realloc(d->fds, (d->n_fds + 1) * sizeof(int));

        if (!n) {
                safe_close(fd);
                return -ENOMEM;
        }
        d->fds = n;
        d->fds[d->n_fds++] = fd;
        return 0;
}

int vm_desc_add_helper(struct vm_desc *d, const char *owner, const char *name,
                       const char *const *argv) {
        struct vm_helper_plan *n = realloc(d->helpers, (d->n_helpers + 1) * sizeof(*n));
        struct vm_helper_plan *h;
        int r = 0;

        if (!n)
                return -ENOMEM;
        d->helpers = n;
        h = &d->helpers[d->n_helpers];
        *h = (struct vm_helper_plan){ .owner = strdup(owner), .name = strdup(name) };
        for (size_t i = 0; argv[i] && r >= 0; i++)
                r = strv_push(&h->argv, argv[i]);
        if (!h->owner || !h->name || r < 0) {
                free(h->owner);
                free(h->name);
                strv_done(&h->argv);
                return -ENOMEM;
        }
        d->n_helpers++;
        return 0;
}
