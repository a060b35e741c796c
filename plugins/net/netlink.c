/* SPDX-License-Identifier: MIT */
/*
 * Host changes of the net plugin: a tap through the tun driver's ioctls, and everything else
 * (alias, bridge port, addresses, up, delete, lookups) through rtnetlink with libnl-route-3,
 * never by running `ip`.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "net.h"

static int nl_to_errno(int err) {
        switch (err < 0 ? -err : err) {
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        default:
                return -EIO;
        }
}

struct nl_sock *net_nl_open(int *ret_error) {
        struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk) {
                *ret_error = -ENOMEM;
                return NULL;
        }
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                *ret_error = nl_to_errno(r);
                nl_socket_free(sk);
                return NULL;
        }
        return sk;
}

void net_nl_close(struct nl_sock *sk) {
        if (sk)
                nl_socket_free(sk);
}

static void link_fill(struct rtnl_link *link, struct net_link *ret) {
        const char *kind = rtnl_link_get_type(link), *alias = rtnl_link_get_ifalias(link);

        memset(ret, 0, sizeof(*ret));
        ret->ifindex = rtnl_link_get_ifindex(link);
        snprintf(ret->kind, sizeof(ret->kind), "%s", kind ? kind : "");
        snprintf(ret->alias, sizeof(ret->alias), "%s", alias ? alias : "");
}

int net_link_get(struct nl_sock *sk, const char *name, struct net_link *ret) {
        struct rtnl_link *link = NULL;
        int r;

        r = rtnl_link_get_kernel(sk, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r);
        link_fill(link, ret);
        rtnl_link_put(link);
        return 0;
}

int net_link_foreach(struct nl_sock *sk, net_link_cb cb, void *userdata) {
        struct nl_cache *cache = NULL;
        struct nl_object *o;
        struct net_link l;
        int r;

        r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
        if (r < 0)
                return nl_to_errno(r);
        for (o = nl_cache_get_first(cache), r = 0; o && r == 0; o = nl_cache_get_next(o)) {
                struct rtnl_link *link = (struct rtnl_link *) o;
                const char *name = rtnl_link_get_name(link);

                link_fill(link, &l);
                r = cb(name ? name : "", &l, userdata);
        }
        nl_cache_free(cache);
        return r;
}

/*
 * Creates tap `name` (IFF_TUN_EXCL: never attaches to an existing device), not yet
 * persistent, so that it disappears with the fd until net_tap_persist() is called.
 */
int net_tap_open(const char *tun_path, const char *name, uid_t uid, gid_t gid, int *ret_fd) {
        struct ifreq ifr = { 0 };
        int fd, r;

        if (strlen(name) >= sizeof(ifr.ifr_name))
                return -ENAMETOOLONG;
        fd = open(tun_path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ifr.ifr_flags = (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
        memcpy(ifr.ifr_name, name, strlen(name));
        if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOWNER, (unsigned long) uid) < 0 ||
            ioctl(fd, TUNSETGROUP, (unsigned long) gid) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int net_tap_attach(const char *tun_path, const char *name, int *ret_fd) {
        struct ifreq ifr = { 0 };
        int fd, r;

        if (strlen(name) >= sizeof(ifr.ifr_name))
                return -ENAMETOOLONG;
        fd = open(tun_path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ifr.ifr_flags = (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
        memcpy(ifr.ifr_name, name, strlen(name));
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int net_tap_persist(int fd, int on) {
        return ioctl(fd, TUNSETPERSIST, (unsigned long) on) < 0 ? -errno : 0;
}

static int link_change(struct nl_sock *sk, int ifindex, struct rtnl_link *change) {
        struct rtnl_link *orig = rtnl_link_alloc();
        int r;

        if (!orig)
                return -ENOMEM;
        rtnl_link_set_ifindex(orig, ifindex);
        r = rtnl_link_change(sk, orig, change, 0);
        rtnl_link_put(orig);
        return r < 0 ? nl_to_errno(r) : 0;
}

int net_link_set_alias(struct nl_sock *sk, int ifindex, const char *alias) {
        struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_ifalias(change, alias);
        r = link_change(sk, ifindex, change);
        rtnl_link_put(change);
        return r;
}

int net_link_set_master(struct nl_sock *sk, int ifindex, int master) {
        struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_master(change, master);
        r = link_change(sk, ifindex, change);
        rtnl_link_put(change);
        return r;
}

int net_link_set_up(struct nl_sock *sk, int ifindex) {
        struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_flags(change, IFF_UP);
        r = link_change(sk, ifindex, change);
        rtnl_link_put(change);
        return r;
}

/* IPv6 addresses skip duplicate address detection: the host side of a tap is ours alone, and
 * a tentative address would not answer the guest for a second or more. */
int net_addr_add(struct nl_sock *sk, int ifindex, const struct net_ip *ip) {
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local;
        int r;

        if (!a)
                return -ENOMEM;
        local = nl_addr_build(ip->family, ip->addr, ip->family == AF_INET ? 4 : 16);
        if (!local) {
                rtnl_addr_put(a);
                return -ENOMEM;
        }
        nl_addr_set_prefixlen(local, (int) ip->prefix);
        rtnl_addr_set_ifindex(a, ifindex);
        r = rtnl_addr_set_local(a, local);
        if (r >= 0) {
                rtnl_addr_set_prefixlen(a, (int) ip->prefix);
                if (ip->family == AF_INET6)
                        rtnl_addr_set_flags(a, IFA_F_NODAD);
                r = rtnl_addr_add(sk, a, 0);
        }
        nl_addr_put(local);
        rtnl_addr_put(a);
        return r < 0 ? nl_to_errno(r) : 0;
}

int net_link_delete(struct nl_sock *sk, int ifindex) {
        struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return -ENOMEM;
        rtnl_link_set_ifindex(link, ifindex);
        r = rtnl_link_delete(sk, link);
        rtnl_link_put(link);
        return r < 0 ? nl_to_errno(r) : 0;
}
