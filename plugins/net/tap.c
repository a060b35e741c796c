/* SPDX-License-Identifier: MIT */
/* The net plugin's taps, through the tun driver's ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net.h"

/* The tun device bound to tap `name` with `flags`: the fd, or a negative errno. */
static int tun_bind(const char *tun_path, const char *name, short flags) {
        struct ifreq ifr = { 0 };
        int fd, r;

        if (strlen(name) >= sizeof(ifr.ifr_name))
                return -ENAMETOOLONG;
        fd = open(tun_path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ifr.ifr_flags = flags;
        memcpy(ifr.ifr_name, name, strlen(name));
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/*
 * Creates tap `name` (IFF_TUN_EXCL: never attaches to an existing device), not yet
 * persistent, so that it disappears with the fd until net_tap_persist() is called.
 */
int net_tap_open(const char *tun_path, const char *name, uid_t uid, gid_t gid, int *ret_fd) {
        int fd = tun_bind(tun_path, name,
                          (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL));
        int r;

        if (fd < 0)
                return fd;
        if (ioctl(fd, TUNSETOWNER, (unsigned long) uid) < 0 ||
            ioctl(fd, TUNSETGROUP, (unsigned long) gid) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int net_tap_attach(const char *tun_path, const char *name, int *ret_fd) {
        int fd = tun_bind(tun_path, name, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));

        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int net_tap_persist(int fd, int on) {
        return ioctl(fd, TUNSETPERSIST, (unsigned long) on) < 0 ? -errno : 0;
}
