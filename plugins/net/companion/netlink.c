/* SPDX-License-Identifier: MIT */
/*
 * The companion net/netlink.so: the net plugin's host changes through rtnetlink with
 * libnl-route-3 (alias, bridge port, addresses, up, delete, lookups), never by running `ip`.
 * The net plugin loads it only for a VM with [net] interfaces (net.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <vmsilo/plugin.h>

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

static struct nl_sock *sock_open(int *ret_error) {
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

static void sock_close(struct nl_sock *sk) {
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

static int link_get(struct nl_sock *sk, const char *name, struct net_link *ret) {
        struct rtnl_link *link = NULL;
        int r;

        r = rtnl_link_get_kernel(sk, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r);
        link_fill(link, ret);
        rtnl_link_put(link);
        return 0;
}

static int link_foreach(struct nl_sock *sk, net_link_cb cb, void *userdata) {
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

static int link_set_alias(struct nl_sock *sk, int ifindex, const char *alias) {
        struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_ifalias(change, alias);
        r = link_change(sk, ifindex, change);
        rtnl_link_put(change);
        return r;
}

static int link_set_master(struct nl_sock *sk, int ifindex, int master) {
        struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_master(change, master);
        r = link_change(sk, ifindex, change);
        rtnl_link_put(change);
        return r;
}

static int link_set_up(struct nl_sock *sk, int ifindex) {
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
static int addr_add(struct nl_sock *sk, int ifindex, const struct net_ip *ip) {
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

static int link_delete(struct nl_sock *sk, int ifindex) {
        struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return -ENOMEM;
        rtnl_link_set_ifindex(link, ifindex);
        r = rtnl_link_delete(sk, link);
        rtnl_link_put(link);
        return r < 0 ? nl_to_errno(r) : 0;
}

VMSILO_EXPORT const struct net_netlink net_netlink = {
        .open = sock_open,
        .close = sock_close,
        .link_get = link_get,
        .link_foreach = link_foreach,
        .link_set_alias = link_set_alias,
        .link_set_master = link_set_master,
        .link_set_up = link_set_up,
        .addr_add = addr_add,
        .link_delete = link_delete,
};
