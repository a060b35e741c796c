/* SPDX-License-Identifier: MIT */
/*
 * Prepare and undo of the vfio plugin: a reserved device is moved to vfio-pci with
 * driver_override (override, unbind from the host driver, drivers_probe) and given back at
 * stop. The undo action carries everything it needs, because `cleanup` may run it in a later
 * process after a crash: "rebind BDF OLD-DRIVER|- [OLD-OVERRIDE]".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfio.h"

#define NODE_WAIT_MS 2000

/* Writes `value` to the formatted sysfs path; logs failures. */
static int write_sysfs(struct vfio *v, const char *value, const char *fmt, const char *arg) {
        char *path = pci_path(v->host, fmt, arg);
        int r;

        if (!path)
                return -ENOMEM;
        r = pci_write_attr(path, value[0] ? value : "\n");
        if (r < 0)
                v->host->log(v->host, VMSILO_LOG_ERROR, "failed to write '%s' to '%s': %s",
                             value[0] ? value : "\\n", path, strerror(-r));
        free(path);
        return r;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
}

/* The group's node appears when the kernel (devtmpfs, then udev) has created it. */
static void wait_for_node(struct vfio *v, const char *group) {
        char *node = pci_path(v->host, "/dev/vfio/%s", group);

        for (int waited = 0; node && access(node, F_OK) < 0 && waited < NODE_WAIT_MS; waited += 20)
                sleep_ms(20);
        free(node);
}

static void describe(struct vfio *v, const struct vfio_dev *d, const struct pci_info *info) {
        const struct vmsilo_host *h = v->host;

        if (!info->exists)
                h->describe(h, "bind PCI device '%s' to vfio-pci (the device does not exist now)",
                            d->bdf);
        else if (info->driver[0])
                h->describe(
                        h,
                        "bind PCI device '%s' (IOMMU group %s) to vfio-pci, taking it from '%s' (given back at stop)",
                        d->bdf, info->group[0] ? info->group : "none", info->driver);
        else
                h->describe(
                        h,
                        "bind PCI device '%s' (IOMMU group %s) to vfio-pci (unbound again at stop)",
                        d->bdf, info->group[0] ? info->group : "none");
}

static int bind_one(struct vfio *v, const struct vfio_dev *d, const struct pci_info *info) {
        const struct vmsilo_host *h = v->host;
        char override[PCI_NAME_MAX] = "", action[3 * PCI_NAME_MAX];
        struct pci_info now;
        char *path;
        int r;

        path = pci_path(h, "/sys/bus/pci/devices/%s/driver_override", d->bdf);
        if (!path)
                return -ENOMEM;
        r = pci_read_attr(path, override, sizeof(override));
        free(path);
        if (r < 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "cannot read the driver_override of PCI device '%s': %s", d->bdf,
                       strerror(-r));
                return r;
        }
        if (strcmp(override, "(null)") == 0 || strcmp(override, VFIO_DRIVER) == 0)
                override[0] = 0;
        snprintf(action, sizeof(action), "rebind %s %s%s%s", d->bdf,
                 info->driver[0] ? info->driver : "-", override[0] ? " " : "", override);
        /* journalled before the change: a crash in between leaves nothing unrecorded */
        r = h->push_undo(h, action);
        if (r < 0 || h->dry_run(h))
                return r;
        r = write_sysfs(v, VFIO_DRIVER, "/sys/bus/pci/devices/%s/driver_override", d->bdf);
        if (r >= 0 && info->driver[0])
                r = write_sysfs(v, d->bdf, "/sys/bus/pci/drivers/%s/unbind", info->driver);
        if (r >= 0)
                r = write_sysfs(v, d->bdf, "%s", "/sys/bus/pci/drivers_probe");
        if (r < 0)
                return r;
        r = pci_info_read(h, d->bdf, &now);
        if (r < 0)
                return r;
        if (strcmp(now.driver, VFIO_DRIVER) != 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "failed to bind PCI device '%s' to vfio-pci: it is bound to %s%s%s (see the kernel log)",
                       d->bdf, now.driver[0] ? "'" : "no driver", now.driver,
                       now.driver[0] ? "'" : "");
                return -EIO;
        }
        wait_for_node(v, now.group);
        return vfio_check_group_dev(v, now.group, d->bdf, d->label);
}

int vfio_bind_reserved(struct vfio *v) {
        const struct vmsilo_host *h = v->host;

        for (size_t i = 0; i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];
                struct pci_info info;
                int r;

                if (!vfio_is_reserved(v, d->bdf))
                        continue;
                r = pci_info_read(h, d->bdf, &info);
                if (r < 0)
                        return r;
                if (strcmp(info.driver, VFIO_DRIVER) == 0)
                        continue; /* already there: nothing to change, nothing to undo */
                describe(v, d, &info);
                if (h->dry_run(h) && !info.exists)
                        continue;
                if (!h->dry_run(h) && (!info.exists || !info.group[0])) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "PCI device '%s' of [vfio %s] %s; run 'vmsilo-core check'", d->bdf,
                               d->label, info.exists ? "is in no IOMMU group" : "does not exist");
                        return -ENODEV;
                }
                r = bind_one(v, d, &info);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Gives the device back to `old` ("" = leave it unbound) once vfio-pci let it go. */
static int give_back(struct vfio *v, const char *bdf, const char *old) {
        const struct vmsilo_host *h = v->host;
        struct pci_info now;
        int r;

        char *bind;

        if (!old[0])
                return 0;
        bind = pci_path(h, "/sys/bus/pci/drivers/%s/bind", old);
        if (!bind)
                return -ENOMEM;
        r = pci_write_attr(bind, bdf);
        free(bind);
        if (r < 0) {
                h->log(h, VMSILO_LOG_WARNING,
                       "cannot bind PCI device '%s' to '%s' directly (%s), asking the kernel to probe it",
                       bdf, old, strerror(-r));
                r = write_sysfs(v, bdf, "%s", "/sys/bus/pci/drivers_probe");
        }
        if (r < 0)
                return r;
        r = pci_info_read(h, bdf, &now);
        if (r >= 0 && strcmp(now.driver, old) != 0)
                h->log(h, VMSILO_LOG_WARNING,
                       "PCI device '%s' was bound to '%s' before the VM; now it is bound to %s%s%s",
                       bdf, old, now.driver[0] ? "'" : "no driver", now.driver,
                       now.driver[0] ? "'" : "");
        return r;
}

int vfio_undo_action(struct vfio *v, const char *action) {
        const struct vmsilo_host *h = v->host;
        char bdf[PCI_NAME_MAX], old[PCI_NAME_MAX], override[PCI_NAME_MAX] = "", canon[PCI_BDF_MAX];
        char comm[64];
        struct pci_info now;
        int n, r, pid = 0;

        n = sscanf(action, "rebind %255s %255s %255s", bdf, old, override);
        if (n < 2 || pci_parse_bdf(bdf, canon) < 0 || strcmp(canon, bdf) != 0) {
                h->log(h, VMSILO_LOG_ERROR, "unknown undo action '%s'", action);
                return -EINVAL;
        }
        if (strcmp(old, "-") == 0)
                old[0] = 0;
        r = pci_info_read(h, bdf, &now);
        if (r < 0)
                return r;
        if (!now.exists) {
                h->log(h, VMSILO_LOG_WARNING, "PCI device '%s' is gone, nothing to give back", bdf);
                return 0;
        }
        if (strcmp(now.driver, VFIO_DRIVER) == 0 && now.group[0] &&
            vfio_group_busy(v, now.group, &pid, comm, sizeof(comm)) > 0) {
                char who[128] = "another process";

                if (pid > 0)
                        snprintf(who, sizeof(who), "process %d ('%s')", pid, comm);
                /* unbinding would block in the kernel until the holder lets go */
                h->log(h, VMSILO_LOG_ERROR,
                       "cannot give PCI device '%s' back: its IOMMU group %s is still open in %s; stop it, then run 'vmsilo-core cleanup'",
                       bdf, now.group, who);
                return -EBUSY;
        }
        r = write_sysfs(v, override, "/sys/bus/pci/devices/%s/driver_override", bdf);
        if (r < 0)
                return r;
        if (strcmp(now.driver, VFIO_DRIVER) == 0)
                r = write_sysfs(v, bdf, "/sys/bus/pci/drivers/%s/unbind", VFIO_DRIVER);
        else if (now.driver[0] && strcmp(now.driver, old) != 0) {
                h->log(h, VMSILO_LOG_WARNING,
                       "PCI device '%s' is bound to '%s' now, not vfio-pci: leaving it there", bdf,
                       now.driver);
                return 0;
        } else if (now.driver[0])
                return 0; /* already back */
        if (r < 0)
                return r;
        r = give_back(v, bdf, old);
        if (r >= 0)
                h->log(h, VMSILO_LOG_INFO, "gave PCI device '%s' back to %s%s%s", bdf,
                       old[0] ? "'" : "no driver", old, old[0] ? "'" : "");
        return r;
}
