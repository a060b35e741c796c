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

/* "" first: an empty value resets to the VMM's default (VMSILO_IOMMU_DEFAULT) */
static const char *const iommu_names[] = { "", "off", "viommu", "coiommu", "pkvm-iommu", NULL };

static int bdf_valid(const char *v, char *why, size_t why_size) {
        (void) why;
        (void) why_size;
        char bdf[PCI_BDF_MAX];

        return pci_parse_bdf(v, bdf) == 0;
}

static int guest_address_valid(const char *v, char *why, size_t why_size) {
        (void) why;
        (void) why_size;
        char out[PCI_GUEST_MAX];

        return pci_parse_guest_address(v, out) == 0;
}

static const struct vmsilo_key vfio_keys[] = {
        { .name = "reserve",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_LIST | VMSILO_KEY_SPLIT,
          .offset = offsetof(struct vfio, reserve_given),
          .validate = bdf_valid,
          .expected =
                  "PCI addresses such as 0000:01:00.0 or 01:00.0 (or sysfs paths), separated by spaces or commas",
          .help = "devices the launcher may rebind to vfio-pci at start (given back at stop)" },
        { .name = "device",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = offsetof(struct vfio_dev, given),
          .validate = bdf_valid,
          .expected =
                  "a PCI address such as 0000:01:00.0 or 01:00.0, or its sysfs path such as /sys/bus/pci/devices/0000:01:00.0",
          .help = "the PCI device passed to the VM" },
        { .name = "guest-address",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE | VMSILO_KEY_EMPTY,
          .offset = offsetof(struct vfio_dev, guest_address_given),
          .validate = guest_address_valid,
          .expected =
                  "BUS:DEV.FN in hex such as 00:05.0 (bus up to ff, device up to 1f, function up to 7)",
          .help = "where the device appears in the guest" },
        { .name = "iommu",
          .type = VMSILO_KEY_ENUM,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = offsetof(struct vfio_dev, iommu),
          .values = iommu_names,
          .expected = "off, viommu, coiommu or pkvm-iommu",
          .help = "the IOMMU the device sits behind in the guest" },
        { .name = NULL },
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

/* [vfio LABEL]: the device's struct, made on first use */
static int vfio_instance(void *state, const char *label, void **ret) {
        struct vfio *v = state;
        struct vfio_dev *n;

        for (size_t i = 0; i < v->n_devs; i++)
                if (strcmp(v->devs[i].label, label) == 0) {
                        *ret = &v->devs[i];
                        return 0;
                }
        n = realloc(v->devs, (v->n_devs + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        v->devs = n;
        n = &v->devs[v->n_devs];
        *n = (struct vfio_dev){ .label = strdup(label) };
        if (!n->label)
                return -ENOMEM;
        v->n_devs++;
        *ret = n;
        return 0;
}

/* Canonical forms of what the keys hold (the validators accepted them). */
static int canonicalize(struct vfio *v) {
        int r = 0;

        for (char **i = v->reserve_given; r >= 0 && i && *i; i++) {
                char bdf[PCI_BDF_MAX];

                if (pci_parse_bdf(*i, bdf) == 0)
                        r = reserve_add(v, bdf);
        }
        for (size_t i = 0; i < v->n_devs; i++) {
                struct vfio_dev *d = &v->devs[i];

                d->guest_address[0] = 0;
                if (d->guest_address_given)
                        (void) pci_parse_guest_address(d->guest_address_given, d->guest_address);
                if (d->given) {
                        (void) pci_parse_bdf(d->given, d->bdf);
                        d->is_path = d->given[0] == '/';
                }
        }
        return r;
}

/* The sections as a whole: every device named once, each guest address used once. */
static int vfio_configured(void *state) {
        struct vfio *v = state;
        const struct vmsilo_host *h = v->host;
        int bad = 0, r;

        r = canonicalize(v);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];

                if (!d->given) {
                        h->log_at(h, VMSILO_LOG_ERROR, d->label, NULL,
                                  "[vfio %s] has no 'device ='", d->label);
                        bad++;
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        const struct vfio_dev *e = &v->devs[j];

                        if (e->given && strcmp(e->bdf, d->bdf) == 0) {
                                h->log_at(
                                        h, VMSILO_LOG_ERROR, d->label, "device",
                                        "PCI device '%s' is passed twice to this VM: in [vfio %s] and [vfio %s]",
                                        d->bdf, e->label, d->label);
                                bad++;
                        }
                        if (d->guest_address[0] &&
                            strcmp(e->guest_address, d->guest_address) == 0) {
                                h->log_at(
                                        h, VMSILO_LOG_ERROR, d->label, "guest-address",
                                        "guest address '%s' is used twice: in [vfio %s] and [vfio %s]",
                                        d->guest_address, e->label, d->label);
                                bad++;
                        }
                }
        }
        v->verified = bad ? -1 : 1;
        return bad ? -EINVAL : 0;
}

int vfio_verify(struct vfio *v) {
        if (!v->verified)
                (void) vfio_configured(v);
        return v->verified > 0 ? 0 : -EINVAL;
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

/* What the VMM cannot place (a guest address, an IOMMU) is dropped with one warning. */
static void drop_unsupported(struct vfio *v, struct vmsilo_device *dev, int *warned) {
        const struct vmsilo_host *h = v->host;
        const char *missing = NULL;
        char why[256] = "";

        if (dev->pci_address && h->vmm_can(h, "vfio guest address", &missing) == 0) {
                dev->pci_address = NULL;
                snprintf(why, sizeof(why), "%s", missing);
        }
        if (dev->iommu && h->vmm_can(h, "vfio iommu", &missing) == 0) {
                dev->iommu = VMSILO_IOMMU_DEFAULT;
                if (!why[0])
                        snprintf(why, sizeof(why), "%s", missing);
        }
        if (why[0] && !(*warned)++)
                h->log(h, VMSILO_LOG_WARNING,
                       "'guest-address' and 'iommu' cannot be given to this VMM (%s), ignoring",
                       why);
}

static int vfio_contribute(void *state) {
        struct vfio *v = state;
        const struct vmsilo_host *h = v->host;
        int r, warned = 0;

        r = vfio_verify(v);
        for (size_t i = 0; r >= 0 && i < v->n_devs; i++) {
                const struct vfio_dev *d = &v->devs[i];
                char path[64];
                struct vmsilo_device dev = {
                        .size = sizeof(dev),
                        .type = VMSILO_DEVICE_VFIO,
                        .fd = -1,
                        .path = path,
                        .pci_address = d->guest_address[0] ? d->guest_address : NULL,
                        .iommu = (uint32_t) d->iommu,
                };

                /* the VMM runs in the real root: the path never carries --root */
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", d->bdf);
                drop_unsupported(v, &dev, &warned);
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
                vmsilo_keys_free(vfio_keys, &v->devs[i], 1);
        }
        vmsilo_keys_free(vfio_keys, v, 0);
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
        .preflight = vfio_preflight,
        .prepare = vfio_prepare,
        .contribute = vfio_contribute,
        .undo = vfio_undo,
        .teardown = vfio_teardown,
        .keys = vfio_keys,
        .key_size = sizeof(struct vmsilo_key),
        .instance = vfio_instance,
        .configured = vfio_configured,
};
