/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "util/strv.h"

/* A device as a plugin (or the core) declared it; the backends render it. */
struct vm_device {
        uint32_t type; /* enum vmsilo_device_type */
        uint32_t flags;
        int fd;
        char *path;
        char *id;
        char *name;
        char *mac;
        char *kind;
        char *socket;
        char *tag;
        char *options;
        char *pci_address;
        uint32_t features; /* GPU, SOUND: VMSILO_GPU_*, VMSILO_SOUND_* (ABI 1.1) */
        uint32_t iommu;    /* VFIO: enum vmsilo_iommu */
        char *server;
        char *app_id;
        char *helper;
        char *cookie;
        char *render_node;
        char *owner; /* plugin name, or "core" */
};

/* A helper as the plan shows it. */
struct vm_helper_plan {
        char *owner;
        char *name;
        struct strv argv;
};

/* What the pipeline assembled for the backend: devices, kernel params, raw args, fds. */
struct vm_desc {
        struct vm_device *devices;
        size_t n_devices;
        struct strv kernel_params;
        struct strv crosvm_args;
        struct strv qemu_args;
        int *fds; /* owned; CLOEXEC until exec */
        size_t n_fds;
        struct strv steps; /* privileged steps, "owner: text" */
        struct vm_helper_plan *helpers;
        size_t n_helpers;
};

void vm_desc_done(struct vm_desc *d);
int vm_desc_add_device(struct vm_desc *d, const struct vm_device *dev); /* copies */
int vm_desc_add_fd(struct vm_desc *d, int fd);                          /* consumes */
int vm_desc_add_helper(struct vm_desc *d, const char *owner, const char *name,
                       const char *const *argv);
