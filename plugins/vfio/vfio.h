/* SPDX-License-Identifier: MIT */
/* The vfio plugin's state, shared by its files (vfio.c, check.c, bind.c). */
#pragma once

#include <stddef.h>

#include "pci.h"

/* One [vfio LABEL] section of the VM. */
struct vfio_dev {
        char *label;
        char *given;                       /* `device =` as written, NULL until set */
        char *guest_address_given;         /* `guest-address =` as written, or NULL */
        int iommu;                         /* enum vmsilo_iommu */
        char bdf[PCI_BDF_MAX];             /* canonical, from `given` (configured()) */
        int is_path;                       /* `given` is a sysfs path */
        char guest_address[PCI_GUEST_MAX]; /* canonical, "" = none */
};

struct vfio {
        const struct vmsilo_host *host;
        struct vfio_dev *devs;
        size_t n_devs;
        char **reserve_given;         /* [vfio] reserve =, as written */
        char (*reserve)[PCI_BDF_MAX]; /* the same, canonical and once each */
        size_t n_reserve;
        int verified; /* 0: not yet, 1: the sections are complete, -1: they are not */
};

#define VFIO_DRIVER "vfio-pci"

/* 1 if `bdf` is listed in `reserve`. */
int vfio_is_reserved(const struct vfio *v, const char *bdf);
/* 1 if `bdf` is passed to this VM. */
int vfio_is_passed(const struct vfio *v, const char *bdf);
/* Checks the sections once (device set, no duplicates); logs each problem the first time.
 * 0 or -EINVAL. */
int vfio_verify(struct vfio *v);

/* check.c: every preflight check; logs one error per problem. 0 or -EINVAL. */
int vfio_check(struct vfio *v);
/* check.c: 0 if /dev/vfio/GROUP can be opened by the VMM's user and is not open elsewhere,
 * else logs why (naming `bdf` and `label`) and returns -errno. */
int vfio_check_group_dev(struct vfio *v, const char *group, const char *bdf, const char *label);

/* check.c: 1 if another process has /dev/vfio/GROUP open (then *ret_pid is its pid, or 0
 * when it cannot be found, and comm its name), 0 if not or unknown, -ENOMEM. */
int vfio_group_busy(struct vfio *v, const char *group, int *ret_pid, char *comm, size_t n);

/* bind.c: binds every reserved device of the VM to vfio-pci, registering undos. */
int vfio_bind_reserved(struct vfio *v);
/* bind.c: one action registered by vfio_bind_reserved(). */
int vfio_undo_action(struct vfio *v, const char *action);
