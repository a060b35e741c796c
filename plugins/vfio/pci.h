/* SPDX-License-Identifier: MIT */
/* PCI addresses and the sysfs files of a PCI device, under the host's root. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <vmsilo/plugin.h>

#define PCI_BDF_MAX 24   /* "ffffffff:ff:1f.7" */
#define PCI_GUEST_MAX 16 /* "ff:1f.7" */
#define PCI_NAME_MAX 256 /* a driver name or an IOMMU group number */

/* Parses a host device: "0000:01:00.0", "01:00.0", "1:0.0" (hex, any case) or a sysfs path
 * whose last component is such an address ("/sys/bus/pci/devices/0000:01:00.0"). Writes the
 * canonical form "0000:01:00.0" to ret. 0 or -EINVAL. */
int pci_parse_bdf(const char *s, char ret[PCI_BDF_MAX]);

/* Parses a crosvm guest address "BUS:DEV.FN" (optionally "0000:" in front), writes "01:05.0".
 * 0 or -EINVAL. */
int pci_parse_guest_address(const char *s, char ret[PCI_GUEST_MAX]);

/* The host's root_path() of the formatted path; malloc()ed, NULL on OOM. */
char *pci_path(const struct vmsilo_host *h, const char *fmt, ...) VMSILO_PRINTF(2, 3);

/* What sysfs says about one device. */
struct pci_info {
        int exists;
        char driver[PCI_NAME_MAX]; /* "" when bound to no driver */
        char group[PCI_NAME_MAX];  /* IOMMU group number, "" when none */
        unsigned long class;       /* the `class` file, e.g. 0x060400 */
};

/* Reads `bdf` under the host's root. 0 (also when the device does not exist) or -ENOMEM. */
int pci_info_read(const struct vmsilo_host *h, const char *bdf, struct pci_info *ret);

/* 1 if the class is a PCI-to-PCI bridge (0x0604xx). */
int pci_class_is_bridge(unsigned long class);

/* The last component of a symlink's target into buf; -errno (-ENOENT: no link). */
int pci_read_link_name(const char *path, char *buf, size_t n);

/* A sysfs attribute without its trailing newline; -errno. */
int pci_read_attr(const char *path, char *buf, size_t n);

/* Writes `value` to a sysfs attribute in one write(); 0 or -errno. */
int pci_write_attr(const char *path, const char *value);

/* Test seam: called after every successful pci_write_attr(), so unit tests can play the
 * kernel's part on a fixture tree (move the `driver` link, create /dev/vfio/N). NULL in the
 * plugin. */
extern void (*pci_write_hook)(const char *path, const char *value);

/* 0 if `path` can be opened for reading and writing by uid/gid (the process's own effective
 * ids: faccessat(AT_EACCESS); others: the mode bits), else -errno. */
int pci_usable_by(const char *path, uint32_t uid, uint32_t gid);
