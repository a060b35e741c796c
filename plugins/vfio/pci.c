/* SPDX-License-Identifier: MIT */
/* PCI addresses and the sysfs files of a PCI device, under the host's root. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pci.h"

void (*pci_write_hook)(const char *path, const char *value);

/* 1 to `max` hex digits at *s, value in *ret; advances *s. */
static int hex_field(const char **s, size_t max, unsigned long *ret) {
        size_t n = strspn(*s, "0123456789abcdefABCDEF");
        char buf[16];

        if (n < 1 || n > max)
                return -EINVAL;
        memcpy(buf, *s, n);
        buf[n] = 0;
        *ret = strtoul(buf, NULL, 16);
        *s += n;
        return 0;
}

/* [DOMAIN:]BUS:DEV.FN; domain up to `domain_digits` hex digits. */
static int parse_address(const char *s, size_t domain_digits, unsigned long *domain,
                         unsigned long *bus, unsigned long *dev, unsigned long *fn) {
        unsigned long a, b;
        const char *p = s;

        *domain = 0;
        if (hex_field(&p, domain_digits, &a) < 0 || *p++ != ':')
                return -EINVAL;
        if (hex_field(&p, domain_digits, &b) < 0)
                return -EINVAL;
        if (*p == ':') { /* a was the domain, b the bus */
                p++;
                *domain = a;
                *bus = b;
                if (hex_field(&p, 2, dev) < 0)
                        return -EINVAL;
        } else {
                *bus = a;
                *dev = b;
        }
        if (*p++ != '.' || hex_field(&p, 1, fn) < 0 || *p)
                return -EINVAL;
        if (*bus > 0xff || *dev > 0x1f || *fn > 7)
                return -EINVAL;
        return 0;
}

int pci_parse_bdf(const char *s, char ret[PCI_BDF_MAX]) {
        unsigned long domain, bus, dev, fn;
        char buf[PCI_BDF_MAX];
        const char *last;
        size_t len;

        if (s[0] == '/') {
                len = strlen(s);
                while (len > 1 && s[len - 1] == '/')
                        len--;
                if (strncmp(s, "/sys/", 5) != 0 || strstr(s, "/../") || strstr(s, "/./"))
                        return -EINVAL;
                last = s + len;
                while (last > s && last[-1] != '/')
                        last--;
                if ((size_t) (s + len - last) >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, last, (size_t) (s + len - last));
                buf[s + len - last] = 0;
                /* sysfs names always carry the domain */
                if (strchr(buf, ':') == strrchr(buf, ':'))
                        return -EINVAL;
                s = buf;
        }
        if (parse_address(s, 8, &domain, &bus, &dev, &fn) < 0)
                return -EINVAL;
        snprintf(ret, PCI_BDF_MAX, "%04lx:%02lx:%02lx.%lx", domain, bus, dev, fn);
        return 0;
}

int pci_parse_guest_address(const char *s, char ret[PCI_GUEST_MAX]) {
        unsigned long domain, bus, dev, fn;

        if (parse_address(s, 4, &domain, &bus, &dev, &fn) < 0 || domain != 0)
                return -EINVAL;
        snprintf(ret, PCI_GUEST_MAX, "%02lx:%02lx.%lx", bus, dev, fn);
        return 0;
}

char *pci_path(const struct vmsilo_host *h, const char *fmt, ...) {
        char *rel = NULL, *abs;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&rel, fmt, ap);
        va_end(ap);
        if (r < 0)
                return NULL;
        abs = h->root_path(h, rel);
        free(rel);
        return abs;
}

int pci_read_link_name(const char *path, char *buf, size_t n) {
        char target[4096], *slash;
        ssize_t len;

        len = readlink(path, target, sizeof(target) - 1);
        if (len < 0)
                return -errno;
        target[len] = 0;
        slash = strrchr(target, '/');
        if (strlen(slash ? slash + 1 : target) >= n)
                return -ENAMETOOLONG;
        strcpy(buf, slash ? slash + 1 : target);
        return 0;
}

int pci_read_attr(const char *path, char *buf, size_t n) {
        ssize_t len;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        len = read(fd, buf, n - 1);
        r = len < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return r;
        buf[len] = 0;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        return 0;
}

int pci_write_attr(const char *path, const char *value) {
        size_t len = strlen(value);
        ssize_t w;
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        w = write(fd, value, len);
        if (w < 0)
                r = -errno;
        else if ((size_t) w != len)
                r = -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && pci_write_hook)
                pci_write_hook(path, value);
        return r;
}

/* The link or attribute `name` of the device directory `dir`. */
static int read_in(const char *dir, const char *name, int link, char *buf, size_t n) {
        char *p = NULL;
        int r;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = link ? pci_read_link_name(p, buf, n) : pci_read_attr(p, buf, n);
        free(p);
        if (r < 0)
                buf[0] = 0;
        return r == -ENOMEM ? r : 0;
}

int pci_info_read(const struct vmsilo_host *h, const char *bdf, struct pci_info *ret) {
        char *dir = pci_path(h, "/sys/bus/pci/devices/%s", bdf);
        char class[64];
        int r;

        *ret = (struct pci_info){};
        if (!dir)
                return -ENOMEM;
        ret->exists = access(dir, F_OK) == 0;
        r = ret->exists ? read_in(dir, "driver", 1, ret->driver, sizeof(ret->driver)) : 0;
        if (r >= 0 && ret->exists)
                r = read_in(dir, "iommu_group", 1, ret->group, sizeof(ret->group));
        if (r >= 0 && ret->exists)
                r = read_in(dir, "class", 0, class, sizeof(class));
        if (r >= 0 && ret->exists && class[0])
                ret->class = strtoul(class, NULL, 16);
        free(dir);
        return r;
}

int pci_class_is_bridge(unsigned long class) {
        return (class >> 8) == 0x0604;
}

int pci_usable_by(const char *path, uint32_t uid, uint32_t gid) {
        struct stat st;

        if (uid == geteuid())
                return faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) < 0 ? -errno : 0;
        if (stat(path, &st) < 0)
                return -errno;
        if (uid == 0)
                return 0;
        if (st.st_uid == uid)
                return (st.st_mode & 0600) == 0600 ? 0 : -EACCES;
        if (st.st_gid == gid)
                return (st.st_mode & 0060) == 0060 ? 0 : -EACCES;
        return (st.st_mode & 0006) == 0006 ? 0 : -EACCES;
}
