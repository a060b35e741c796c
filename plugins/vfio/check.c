/* SPDX-License-Identifier: MIT */
/*
 * Preflight of the vfio plugin: vmsilo's check_iommu_group and more. Every problem is logged
 * as its own error line naming the device, its section, its IOMMU group and the offending
 * peer with its driver; the hook fails once at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio.h"

#define LOG_ERR(v, ...) (v)->host->log((v)->host, VMSILO_LOG_ERROR, __VA_ARGS__)

static int path_exists(const char *p) {
        return p && access(p, F_OK) == 0;
}

/* 1 if the IOMMU is on: /sys/kernel/iommu_groups has at least one group. */
static int check_iommu(struct vfio *v, int *problems) {
        char *dir = pci_path(v->host, "/sys/kernel/iommu_groups");
        struct dirent *e;
        int groups = 0;
        DIR *d;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.')
                        groups++;
        if (d)
                closedir(d);
        if (groups == 0) {
                LOG_ERR(v,
                        "the IOMMU is not enabled: '%s' %s; enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on",
                        dir, d ? "is empty" : "does not exist");
                (*problems)++;
        }
        free(dir);
        return groups > 0;
}

/* The driver and the container device: once, not per device. */
static void check_driver(struct vfio *v, int *problems) {
        const struct vmsilo_host *h = v->host;
        char *drv = pci_path(h, "/sys/bus/pci/drivers/" VFIO_DRIVER);
        char *container = pci_path(h, "/dev/vfio/vfio");
        int r;

        if (!path_exists(drv)) {
                LOG_ERR(v,
                        "the vfio-pci driver is not loaded: no '%s'; load it (modprobe vfio-pci, or list it in /etc/modules-load.d)",
                        drv ? drv : "?");
                (*problems)++;
        } else if ((r = pci_usable_by(container, h->vm_uid(h), h->vm_gid(h))) < 0) {
                LOG_ERR(v, "'%s' is not readable and writable by uid %u: %s",
                        container ? container : "?", h->vm_uid(h), strerror(-r));
                (*problems)++;
        }
        free(drv);
        free(container);
}

/* The pid and name of a process that has `dev` ("/dev/vfio/N", as the kernel names it) open. */
static int find_holder(struct vfio *v, const char *dev, char *comm, size_t n) {
        char *proc = pci_path(v->host, "/proc");
        struct dirent *e, *f;
        int pid = 0;
        DIR *d, *fds;

        d = proc ? opendir(proc) : NULL;
        while (d && pid == 0 && (e = readdir(d))) {
                char path[PATH_MAX], target[PATH_MAX];
                ssize_t len;

                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "%s/%s/fd", proc, e->d_name);
                fds = opendir(path);
                while (fds && pid == 0 && (f = readdir(fds))) {
                        snprintf(path, sizeof(path), "%s/%s/fd/%s", proc, e->d_name, f->d_name);
                        len = readlink(path, target, sizeof(target) - 1);
                        if (len <= 0)
                                continue;
                        target[len] = 0;
                        if (strcmp(target, dev) == 0)
                                pid = atoi(e->d_name);
                }
                if (fds)
                        closedir(fds);
                if (pid) {
                        snprintf(path, sizeof(path), "%s/%d/comm", proc, pid);
                        if (pci_read_attr(path, comm, n) < 0)
                                snprintf(comm, n, "?");
                }
        }
        if (d)
                closedir(d);
        free(proc);
        return pid;
}

int vfio_group_busy(struct vfio *v, const char *group, int *ret_pid, char *comm, size_t n) {
        char *path = pci_path(v->host, "/dev/vfio/%s", group);
        char dev[PCI_NAME_MAX + 16];
        int fd, busy = 0;

        if (!path)
                return -ENOMEM;
        /* the kernel lets one process at a time open a group: EBUSY means it is in use */
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0)
                close(fd);
        else if (errno == EBUSY) {
                busy = 1;
                snprintf(dev, sizeof(dev), "/dev/vfio/%s", group);
                *ret_pid = find_holder(v, dev, comm, n);
        }
        free(path);
        return busy;
}

int vfio_check_group_dev(struct vfio *v, const char *group, const char *bdf, const char *label) {
        const struct vmsilo_host *h = v->host;
        char *path = pci_path(h, "/dev/vfio/%s", group);
        char comm[64];
        int r, pid = 0;

        if (!path)
                return -ENOMEM;
        r = pci_usable_by(path, h->vm_uid(h), h->vm_gid(h));
        if (r == -ENOENT)
                LOG_ERR(v,
                        "'%s' of IOMMU group %s (PCI device '%s', [vfio %s]) does not exist although the device is bound to vfio-pci",
                        path, group, bdf, label);
        else if (r < 0)
                LOG_ERR(v,
                        "'%s' of IOMMU group %s (PCI device '%s', [vfio %s]) is not readable and writable by uid %u: %s; give the VM's user access (a udev rule for the vfio subsystem)",
                        path, group, bdf, label, h->vm_uid(h), strerror(-r));
        else if (vfio_group_busy(v, group, &pid, comm, sizeof(comm)) > 0) {
                r = -EBUSY;
                if (pid > 0)
                        LOG_ERR(v,
                                "IOMMU group %s of PCI device '%s' ([vfio %s]) is in use: '%s' is open in process %d ('%s'), another VM or program has the device",
                                group, bdf, label, path, pid, comm);
                else
                        LOG_ERR(v,
                                "IOMMU group %s of PCI device '%s' ([vfio %s]) is in use: '%s' is open in another process (another VM or program has the device)",
                                group, bdf, label, path);
        }
        free(path);
        return r;
}

/* A reserved device is rebound at prepare: the launcher must be able to write sysfs. */
static int check_rebind_access(struct vfio *v, const struct vfio_dev *d, const char *driver) {
        char *paths[3] = {
                pci_path(v->host, "/sys/bus/pci/devices/%s/driver_override", d->bdf),
                pci_path(v->host, "/sys/bus/pci/drivers_probe"),
                driver[0] ? pci_path(v->host, "/sys/bus/pci/drivers/%s/unbind", driver) : NULL,
        };
        int r = 0;

        for (size_t i = 0; i < 3 && r == 0; i++) {
                if (!paths[i] && (i < 2 || driver[0]))
                        r = -ENOMEM;
                else if (paths[i] && access(paths[i], W_OK) < 0) {
                        r = -errno;
                        LOG_ERR(v,
                                "cannot bind reserved PCI device '%s' ([vfio %s]) to vfio-pci at start: '%s' is not writable: %s; start the VM as root",
                                d->bdf, d->label, paths[i], strerror(-r));
                }
        }
        for (size_t i = 0; i < 3; i++)
                free(paths[i]);
        return r;
}

/* A device given as a sysfs path must be the device its last component names. */
static int check_given_path(struct vfio *v, const struct vfio_dev *d) {
        char *given = v->host->root_path(v->host, d->given);
        char *bus = pci_path(v->host, "/sys/bus/pci/devices/%s", d->bdf);
        char a[PATH_MAX], b[PATH_MAX];
        int r = 0;

        if (!given || !bus)
                r = -ENOMEM;
        else if (!realpath(given, a)) {
                LOG_ERR(v, "sysfs path '%s' of [vfio %s] does not exist", given, d->label);
                r = -ENOENT;
        } else if (!realpath(bus, b) || strcmp(a, b) != 0) {
                LOG_ERR(v, "sysfs path '%s' of [vfio %s] is not PCI device '%s' ('%s')", given,
                        d->label, d->bdf, bus);
                r = -EINVAL;
        }
        free(given);
        free(bus);
        return r;
}

/* The device itself: present, in a group, bound to vfio-pci or reserved for a rebind. */
static int check_device(struct vfio *v, const struct vfio_dev *d, int iommu_on,
                        struct pci_info *info) {
        char *dir;
        int r;

        r = pci_info_read(v->host, d->bdf, info);
        if (r < 0)
                return r;
        if (d->is_path && check_given_path(v, d) < 0) {
                info->exists = 0; /* no further checks of this device */
                return -EINVAL;
        }
        if (!info->exists) {
                dir = pci_path(v->host, "/sys/bus/pci/devices/%s", d->bdf);
                LOG_ERR(v, "PCI device '%s' of [vfio %s] does not exist: no '%s'", d->bdf, d->label,
                        dir ? dir : "?");
                free(dir);
                return -ENODEV;
        }
        if (!iommu_on)
                return -EOPNOTSUPP; /* reported once by check_iommu() */
        if (!info->group[0]) {
                LOG_ERR(v,
                        "PCI device '%s' of [vfio %s] is in no IOMMU group: the IOMMU does not cover it, so it cannot be passed through",
                        d->bdf, d->label);
                return -ENODEV;
        }
        if (strcmp(info->driver, VFIO_DRIVER) == 0)
                return 0;
        if (vfio_is_reserved(v, d->bdf))
                return check_rebind_access(v, d, info->driver);
        if (info->driver[0])
                LOG_ERR(v,
                        "PCI device '%s' ([vfio %s], IOMMU group %s) is bound to '%s', not vfio-pci: add it to 'reserve' in [vfio] so that it is rebound at start, or bind it to vfio-pci",
                        d->bdf, d->label, info->group, info->driver);
        else
                LOG_ERR(v,
                        "PCI device '%s' ([vfio %s], IOMMU group %s) is bound to no driver, not vfio-pci: add it to 'reserve' in [vfio] so that it is bound at start, or bind it to vfio-pci",
                        d->bdf, d->label, info->group);
        return -EINVAL;
}

/* Every other member of the group: passed too, unbound, on vfio-pci, or a bridge. */
static int check_peers(struct vfio *v, const struct vfio_dev *d, const char *group) {
        char *dir = pci_path(v->host, "/sys/kernel/iommu_groups/%s/devices", group);
        struct pci_info peer;
        struct dirent *e;
        int bad = 0;
        DIR *dd;

        dd = dir ? opendir(dir) : NULL;
        if (!dd) {
                int r = dir ? -errno : -ENOMEM;

                LOG_ERR(v, "cannot list IOMMU group %s of PCI device '%s' ([vfio %s]): '%s': %s",
                        group, d->bdf, d->label, dir ? dir : "?", strerror(-r));
                free(dir);
                return r;
        }
        while ((e = readdir(dd))) {
                if (e->d_name[0] == '.' || strcmp(e->d_name, d->bdf) == 0 ||
                    vfio_is_passed(v, e->d_name))
                        continue;
                if (pci_info_read(v->host, e->d_name, &peer) < 0)
                        continue;
                if (!peer.driver[0] || strcmp(peer.driver, VFIO_DRIVER) == 0 ||
                    pci_class_is_bridge(peer.class))
                        continue;
                LOG_ERR(v,
                        "PCI device '%s' ([vfio %s], IOMMU group %s) shares its group with '%s', which is bound to '%s': pass '%s' to this VM too, unbind it, or bind it to vfio-pci",
                        d->bdf, d->label, group, e->d_name, peer.driver, e->d_name);
                bad++;
        }
        closedir(dd);
        free(dir);
        return bad ? -EINVAL : 0;
}

/* The group's device node and peers, once per group: `first` is the VM's first device in it. */
static int check_group(struct vfio *v, const struct vfio_dev *first, const char *group) {
        char *node = pci_path(v->host, "/dev/vfio/%s", group);
        int r = 0, bound = 0, exists;

        if (!node)
                return -ENOMEM;
        exists = path_exists(node);
        free(node);
        for (size_t i = 0; i < v->n_devs; i++) {
                struct pci_info info;

                if (v->devs[i].given && pci_info_read(v->host, v->devs[i].bdf, &info) == 0 &&
                    strcmp(info.group, group) == 0 && strcmp(info.driver, VFIO_DRIVER) == 0)
                        bound = 1;
        }
        /* a group appears in /dev/vfio when its first device is bound to vfio-pci; for a
         * reserved device that happens at prepare, which checks the node then */
        if (exists || bound)
                r = vfio_check_group_dev(v, group, first->bdf, first->label);
        return check_peers(v, first, group) < 0 || r < 0 ? -EINVAL : 0;
}

/* 1 if an earlier section names the same device (reported by vfio_verify()). */
static int seen_before(const struct vfio *v, size_t i) {
        for (size_t j = 0; j < i; j++)
                if (v->devs[j].given && strcmp(v->devs[j].bdf, v->devs[i].bdf) == 0)
                        return 1;
        return 0;
}

int vfio_check(struct vfio *v) {
        char(*groups)[PCI_NAME_MAX] = NULL;
        size_t n_groups = 0;
        int problems = 0, iommu_on;

        if (v->n_devs == 0)
                return 0;
        if (vfio_verify(v) < 0)
                problems++;
        iommu_on = check_iommu(v, &problems);
        if (iommu_on < 0)
                return iommu_on;
        if (iommu_on)
                check_driver(v, &problems);
        groups = calloc(v->n_devs, sizeof(*groups));
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];
                struct pci_info info;
                size_t g;
                int r;

                if (!d->given || seen_before(v, i))
                        continue;
                r = check_device(v, d, iommu_on, &info);
                if (r == -ENOMEM) {
                        free(groups);
                        return r;
                }
                if (r < 0 && r != -EOPNOTSUPP)
                        problems++;
                if (!iommu_on || !info.exists || !info.group[0])
                        continue;
                for (g = 0; g < n_groups && strcmp(groups[g], info.group); g++)
                        ;
                if (g < n_groups)
                        continue;
                snprintf(groups[n_groups++], PCI_NAME_MAX, "%s", info.group);
                if (check_group(v, d, info.group) < 0)
                        problems++;
        }
        free(groups);
        return problems ? -EINVAL : 0;
}
