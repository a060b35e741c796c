/* SPDX-License-Identifier: MIT */
/*
 * vfio: PCI passthrough, as vmsilo's `pciDevices` and `isolatedPciDevices`. A VM names its
 * devices in [vfio LABEL] sections; [vfio] reserve = lists the devices the launcher may take
 * from their host driver and bind to vfio-pci at start (given back at stop). Preflight checks
 * the IOMMU groups (check.c), prepare rebinds reserved devices (bind.c). See vfio.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio.h"

static const char *const iommu_names[] = {
        [VFIO_IOMMU_OFF] = "off",
        [VFIO_IOMMU_VIOMMU] = "viommu",
        [VFIO_IOMMU_COIOMMU] = "coiommu",
        [VFIO_IOMMU_PKVM] = "pkvm-iommu",
};

static int vfio_init(const struct vmsilo_host *host, void **ret_state) {
        struct vfio *v = calloc(1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        v->host = host;
        *ret_state = v;
        return 0;
}

int vfio_is_reserved(const struct vfio *v, const char *bdf) {
        for (size_t i = 0; i < v->n_reserve; i++)
                if (strcmp(v->reserve[i], bdf) == 0)
                        return 1;
        return 0;
}

int vfio_is_passed(const struct vfio *v, const char *bdf) {
        for (size_t i = 0; i < v->n_devs; i++)
                if (v->devs[i].given && strcmp(v->devs[i].bdf, bdf) == 0)
                        return 1;
        return 0;
}

static int reserve_add(struct vfio *v, const char *bdf) {
        char(*n)[PCI_BDF_MAX];

        if (vfio_is_reserved(v, bdf))
                return 0;
        n = realloc(v->reserve, (v->n_reserve + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        v->reserve = n;
        snprintf(v->reserve[v->n_reserve++], PCI_BDF_MAX, "%s", bdf);
        return 0;
}

/* `reserve = A B,C`: a list key; an empty value resets it. */
static int configure_reserve(struct vfio *v, const char *value) {
        const struct vmsilo_host *h = v->host;
        char *copy, *item, *save = NULL;
        char bdf[PCI_BDF_MAX];
        int r = 0;

        if (value[0] == 0) {
                v->n_reserve = 0;
                return 0;
        }
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        for (item = strtok_r(copy, " \t,", &save); item && r >= 0;
             item = strtok_r(NULL, " \t,", &save)) {
                if (pci_parse_bdf(item, bdf) < 0) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "invalid value '%s' for 'reserve' in [vfio]: expected PCI addresses such as 0000:01:00.0 or 01:00.0 (or sysfs paths), separated by spaces or commas",
                               item);
                        r = -EINVAL;
                } else
                        r = reserve_add(v, bdf);
        }
        free(copy);
        return r;
}

static struct vfio_dev *dev_get(struct vfio *v, const char *label) {
        struct vfio_dev *n;

        for (size_t i = 0; i < v->n_devs; i++)
                if (strcmp(v->devs[i].label, label) == 0)
                        return &v->devs[i];
        n = realloc(v->devs, (v->n_devs + 1) * sizeof(*n));
        if (!n)
                return NULL;
        v->devs = n;
        n = &v->devs[v->n_devs];
        *n = (struct vfio_dev){ .label = strdup(label) };
        if (!n->label)
                return NULL;
        v->n_devs++;
        return n;
}

static int configure_device(struct vfio *v, struct vfio_dev *d, const char *value) {
        const struct vmsilo_host *h = v->host;
        char bdf[PCI_BDF_MAX], *given;

        if (pci_parse_bdf(value, bdf) < 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "invalid value '%s' for 'device' in [vfio %s]: expected a PCI address such as 0000:01:00.0 or 01:00.0, or its sysfs path such as /sys/bus/pci/devices/0000:01:00.0",
                       value, d->label);
                return -EINVAL;
        }
        given = strdup(value);
        if (!given)
                return -ENOMEM;
        free(d->given);
        d->given = given;
        d->is_path = value[0] == '/';
        memcpy(d->bdf, bdf, sizeof(bdf));
        return 0;
}

static int configure_named(struct vfio *v, const char *label, const char *key, const char *value) {
        const struct vmsilo_host *h = v->host;
        struct vfio_dev *d;

        if (strcmp(key, "reserve") == 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "'reserve' belongs in [vfio] (without a name), not in [vfio %s]", label);
                return -EINVAL;
        }
        if (strcmp(key, "device") && strcmp(key, "guest-address") && strcmp(key, "iommu"))
                return -ENOENT;
        d = dev_get(v, label);
        if (!d)
                return -ENOMEM;
        if (strcmp(key, "device") == 0)
                return configure_device(v, d, value);
        if (strcmp(key, "guest-address") == 0) {
                if (value[0] == 0) {
                        d->guest_address[0] = 0;
                        return 0;
                }
                if (pci_parse_guest_address(value, d->guest_address) < 0) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "invalid value '%s' for 'guest-address' in [vfio %s]: expected BUS:DEV.FN in hex such as 00:05.0 (bus up to ff, device up to 1f, function up to 7)",
                               value, label);
                        return -EINVAL;
                }
                return 0;
        }
        for (int i = VFIO_IOMMU_OFF; i <= VFIO_IOMMU_PKVM; i++)
                if (strcmp(value, iommu_names[i]) == 0) {
                        d->iommu = i;
                        return 0;
                }
        if (value[0] == 0) {
                d->iommu = VFIO_IOMMU_UNSET;
                return 0;
        }
        h->log(h, VMSILO_LOG_ERROR,
               "invalid value '%s' for 'iommu' in [vfio %s]: expected off, viommu, coiommu or pkvm-iommu",
               value, label);
        return -EINVAL;
}

static int vfio_configure(void *state, const char *instance, const char *key, const char *value) {
        struct vfio *v = state;
        const struct vmsilo_host *h = v->host;

        if (instance)
                return configure_named(v, instance, key, value);
        if (strcmp(key, "reserve") == 0)
                return configure_reserve(v, value);
        if (strcmp(key, "device") == 0 || strcmp(key, "guest-address") == 0 ||
            strcmp(key, "iommu") == 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "'%s' belongs in a named section such as [vfio gpu], one per device, not in [vfio]",
                       key);
                return -EINVAL;
        }
        return -ENOENT;
}

int vfio_verify(struct vfio *v) {
        const struct vmsilo_host *h = v->host;
        int bad = 0;

        if (v->verified)
                return v->verified > 0 ? 0 : -EINVAL;
        for (size_t i = 0; i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];

                if (!d->given) {
                        h->log(h, VMSILO_LOG_ERROR, "[vfio %s] has no 'device ='", d->label);
                        bad++;
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        const struct vfio_dev *e = &v->devs[j];

                        if (e->given && strcmp(e->bdf, d->bdf) == 0) {
                                h->log(h, VMSILO_LOG_ERROR,
                                       "PCI device '%s' is passed twice to this VM: in [vfio %s] and [vfio %s]",
                                       d->bdf, e->label, d->label);
                                bad++;
                        }
                        if (d->guest_address[0] &&
                            strcmp(e->guest_address, d->guest_address) == 0) {
                                h->log(h, VMSILO_LOG_ERROR,
                                       "guest address '%s' is used twice: in [vfio %s] and [vfio %s]",
                                       d->guest_address, e->label, d->label);
                                bad++;
                        }
                }
        }
        v->verified = bad ? -1 : 1;
        return bad ? -EINVAL : 0;
}

static int vfio_preflight(void *state) {
        return vfio_check(state);
}

static int vfio_prepare(void *state) {
        struct vfio *v = state;
        int r;

        r = vfio_verify(v);
        if (r < 0)
                return r;
        return vfio_bind_reserved(v);
}

static int vfio_contribute(void *state) {
        struct vfio *v = state;
        const struct vmsilo_host *h = v->host;
        int r, warned = 0;

        r = vfio_verify(v);
        for (size_t i = 0; r >= 0 && i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];
                char path[64], options[128] = "";
                struct vmsilo_device dev = {
                        .size = sizeof(dev),
                        .type = VMSILO_DEVICE_VFIO,
                        .fd = -1,
                        .path = path,
                };

                /* crosvm runs in the real root: the path never carries --root */
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", d->bdf);
                snprintf(options, sizeof(options), "%s%s%s%s",
                         d->guest_address[0] ? ",guest-address=" : "", d->guest_address,
                         d->iommu ? ",iommu=" : "", d->iommu ? iommu_names[d->iommu] : "");
                if (options[0])
                        dev.options = options + 1;
                if (options[0] && h->vmm(h) == VMSILO_VMM_QEMU && !warned++)
                        h->log(h, VMSILO_LOG_WARNING,
                               "'guest-address' and 'iommu' are crosvm options; the qemu backend ignores them, ignoring");
                r = h->add_device(h, &dev);
        }
        return r;
}

static int vfio_undo(void *state, const char *action) {
        return vfio_undo_action(state, action);
}

static void vfio_teardown(void *state) {
        struct vfio *v = state;

        if (!v)
                return;
        for (size_t i = 0; i < v->n_devs; i++) {
                free(v->devs[i].label);
                free(v->devs[i].given);
        }
        free(v->devs);
        free(v->reserve);
        free(v);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "vfio",
        .version = "0.1.0",
        .init = vfio_init,
        .configure = vfio_configure,
        .preflight = vfio_preflight,
        .prepare = vfio_prepare,
        .contribute = vfio_contribute,
        .undo = vfio_undo,
        .teardown = vfio_teardown,
};
