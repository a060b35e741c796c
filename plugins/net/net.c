/* SPDX-License-Identifier: MIT */
/*
 * net: vmsilo's network interfaces. One tap per `[net IFNAME]` section, owned by the VM's
 * user, optionally in a bridge and with a host-side address; the guest learns its interface
 * names, addresses, routes and nameservers from kernel parameters. See net.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define UNDO_DELTAP "deltap "
#define DRY_RUN_FD_BASE 100

static int net_init(const struct vmsilo_host *host, void **ret_state) {
        struct net *n = calloc(1, sizeof(*n));

        if (!n)
                return -ENOMEM;
        n->host = host;
        *ret_state = n;
        return 0;
}

/* A VMM that cannot open a tap by its name (QEMU, unprivileged) gets the open tap's fd. */
static int wants_fd(const struct vmsilo_host *h) {
        return h->vmm_can(h, "net tap name", NULL) == 0;
}

/* After the last key: the values in their parsed forms. */
static int net_configured(void *state) {
        return net_convert(state);
}

/* The checks across keys run once: in preflight, or in prepare for `print`. */
static int net_validate(struct net *n) {
        int r;

        if (n->checked)
                return n->checked == 1 ? 0 : -EINVAL;
        r = net_resolve(n);
        if (r < 0)
                return r;
        n->checked = net_check(n) > 0 ? 2 : 1;
        return n->checked == 1 ? 0 : -EINVAL;
}

static int net_preflight(void *state) {
        struct net *n = state;
        int r, failures = 0;

        if (n->n_ifaces == 0)
                return 0;
        r = net_validate(n);
        if (r == -EINVAL)
                failures++;
        else if (r < 0)
                return r;
        failures += net_check_host(n);
        return failures > 0 ? -EINVAL : 0;
}

static void describe_iface(const struct net *n, const struct net_iface *it) {
        const struct vmsilo_host *h = n->host;
        char text[64];

        if (it->existing) {
                h->describe(h, "use the existing tap '%s' for [net %s]", it->tap_name, it->name);
                return;
        }
        h->describe(h, "create tap '%s' for [net %s] owned by uid %u gid %u", it->tap_name,
                    it->name, h->vm_uid(h), h->vm_gid(h));
        if (it->bridge)
                h->describe(h, "add tap '%s' to bridge '%s'", it->tap_name, it->bridge);
        for (size_t i = 0; i < it->n_host_addresses; i++) {
                net_ip_format(&it->host_addresses[i], 1, text, sizeof(text));
                h->describe(h, "add address %s to tap '%s'", text, it->tap_name);
        }
}

static int fail_errno(const struct net *n, int r, const char *what, const char *name) {
        n->host->log(n->host, VMSILO_LOG_ERROR, "failed to %s '%s': %s", what, name, strerror(-r));
        return r;
}

struct nl_sock *net_nl_open(struct net *n, int *ret_error) {
        if (!n->nl)
                n->nl = vmsilo_companion(n->host, NET_NETLINK_FILE, NET_NETLINK_SYMBOL);
        if (!n->nl) {
                *ret_error = -ELIBACC; /* the core said why */
                return NULL;
        }
        return n->nl->open(ret_error);
}

void net_nl_close(const struct net *n, struct nl_sock *sk) {
        if (sk)
                n->nl->close(sk);
}

/* A leftover of this VM's earlier run (preflight said so) goes; anything else stays. */
static int remove_stale(const struct net *n, struct nl_sock *sk, const struct net_iface *it) {
        const struct vmsilo_host *h = n->host;
        struct net_link l;
        int r;

        r = n->nl->link_get(sk, it->tap_name, &l);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return fail_errno(n, r, "look up tap", it->tap_name);
        if (net_alias_owner(l.alias, h->vm_name(h), h->vm_uid(h), NULL, 0, NULL, 0) != 1 ||
            strcmp(l.kind, "tun") != 0) {
                h->log(h, VMSILO_LOG_ERROR, "tap name '%s' of [net %s] is taken", it->tap_name,
                       it->name);
                return -EEXIST;
        }
        h->log(h, VMSILO_LOG_INFO, "removing tap '%s' left by an earlier run", it->tap_name);
        r = n->nl->link_delete(sk, l.ifindex);
        return r < 0 && r != -ENODEV ? fail_errno(n, r, "remove tap", it->tap_name) : 0;
}

/* Alias (the ownership mark) before TUNSETPERSIST: a crash in between loses the tap with the
 * fd, so every persistent tap of ours is marked. */
static int make_tap(const struct net *n, struct nl_sock *sk, struct net_iface *it, int *ret_fd,
                    int *ret_ifindex) {
        const struct vmsilo_host *h = n->host;
        char alias[256], *tun = h->root_path(h, "/dev/net/tun");
        struct net_link l;
        int fd = -1, r;

        if (!tun)
                return -ENOMEM;
        r = net_tap_open(tun, it->tap_name, h->vm_uid(h), h->vm_gid(h), &fd);
        free(tun);
        if (r < 0)
                return fail_errno(n, r, "create tap", it->tap_name);
        net_alias(n, it, alias, sizeof(alias));
        r = n->nl->link_get(sk, it->tap_name, &l);
        if (r >= 0)
                r = n->nl->link_set_alias(sk, l.ifindex, alias);
        if (r >= 0)
                r = net_tap_persist(fd, 1);
        if (r < 0) {
                close(fd);
                return fail_errno(n, r, "set up tap", it->tap_name);
        }
        *ret_fd = fd;
        *ret_ifindex = l.ifindex;
        return 0;
}

static int configure_tap(const struct net *n, struct nl_sock *sk, const struct net_iface *it,
                         int ifindex) {
        char text[64];
        struct net_link br;
        int r;

        if (it->bridge) {
                r = n->nl->link_get(sk, it->bridge, &br);
                if (r >= 0)
                        r = n->nl->link_set_master(sk, ifindex, br.ifindex);
                if (r < 0)
                        return fail_errno(n, r, "add the tap to bridge", it->bridge);
        }
        for (size_t i = 0; i < it->n_host_addresses; i++) {
                r = n->nl->addr_add(sk, ifindex, &it->host_addresses[i]);
                if (r < 0) {
                        net_ip_format(&it->host_addresses[i], 1, text, sizeof(text));
                        n->host->log(n->host, VMSILO_LOG_ERROR,
                                     "failed to add address %s to tap '%s': %s", text, it->tap_name,
                                     strerror(-r));
                        return r;
                }
        }
        r = n->nl->link_set_up(sk, ifindex);
        return r < 0 ? fail_errno(n, r, "bring up tap", it->tap_name) : 0;
}

/* A tap someone else made and set up: attach only; nothing to undo. */
static int prepare_existing(struct net *n, struct nl_sock *sk, struct net_iface *it) {
        const struct vmsilo_host *h = n->host;
        char *tun;
        int fd = -1, r;

        if (!wants_fd(h))
                return 0; /* the VMM opens the tap by name */
        if (!sk) {
                it->vmm_fd = DRY_RUN_FD_BASE + (int) it->index;
                return 0;
        }
        tun = h->root_path(h, "/dev/net/tun");
        if (!tun)
                return -ENOMEM;
        r = net_tap_attach(tun, it->tap_name, &fd);
        free(tun);
        if (r < 0)
                return fail_errno(n, r, "attach to tap", it->tap_name);
        it->vmm_fd = h->pass_fd(h, fd);
        return it->vmm_fd < 0 ? fail_errno(n, it->vmm_fd, "pass the fd of tap", it->tap_name) : 0;
}

/* In a dry run (`print`) only the plan: steps, undo, placeholder fds. */
static int prepare_iface(struct net *n, struct nl_sock *sk, struct net_iface *it) {
        const struct vmsilo_host *h = n->host;
        int by_fd = wants_fd(h), fd = -1, ifindex = 0, r;
        char action[64];

        describe_iface(n, it);
        if (it->existing)
                return prepare_existing(n, sk, it);
        r = sk ? remove_stale(n, sk, it) : 0;
        if (r < 0)
                return r;
        snprintf(action, sizeof(action), UNDO_DELTAP "%s", it->tap_name);
        r = h->push_undo(h, action); /* journalled before the tap exists */
        if (r < 0 || !sk) {
                /* The plan's fd number. Not pass_fd(h, -1): the core counts such placeholders
                 * without storing them, and vm_desc_done() then closes fds[] out of bounds. */
                if (r >= 0 && by_fd)
                        it->vmm_fd = DRY_RUN_FD_BASE + (int) it->index;
                return r;
        }
        r = make_tap(n, sk, it, &fd, &ifindex);
        if (r >= 0)
                r = configure_tap(n, sk, it, ifindex);
        if (r < 0 || !by_fd) {
                /* the VMM opens the tap by name, and a single-queue tap takes one opener */
                if (fd >= 0)
                        close(fd);
                return r;
        }
        it->vmm_fd = h->pass_fd(h, fd);
        return it->vmm_fd < 0 ? fail_errno(n, it->vmm_fd, "pass the fd of tap", it->tap_name) : 0;
}

static int net_prepare(void *state) {
        struct net *n = state;
        const struct vmsilo_host *h = n->host;
        struct nl_sock *sk = NULL;
        int r;

        if (n->n_ifaces == 0)
                return 0;
        r = net_validate(n);
        if (r < 0)
                return r;
        if (!h->dry_run(h) && !(sk = net_nl_open(n, &r))) {
                h->log(h, VMSILO_LOG_ERROR, "failed to open a netlink socket: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; r >= 0 && i < n->n_ifaces; i++)
                r = prepare_iface(n, sk, n->ifaces[i]);
        net_nl_close(n, sk);
        return r;
}

static int add_param(const struct vmsilo_host *h, const char *fmt, const char *a, const char *b) {
        char buf[256];

        snprintf(buf, sizeof(buf), fmt, a, b);
        return h->add_kernel_param(h, buf);
}

static int contribute_iface(const struct net *n, const struct net_iface *it) {
        const struct vmsilo_host *h = n->host;
        char text[128];
        int r = 0;

        /* ip=ADDR:PEER:GATEWAY:PREFIX:HOSTNAME:IFNAME:none, each address of the interface;
         * DHCP last: systemd-network-generator keeps the last ip= kind of an interface */
        for (size_t i = 0; r >= 0 && i < it->n_addresses; i++) {
                const struct net_ip *a = &it->addresses[i];
                char addr[64], ip[128];

                net_ip_format(a, 0, addr, sizeof(addr));
                snprintf(ip, sizeof(ip), a->family == AF_INET6 ? "[%s]:::%u" : "%s:::%u", addr,
                         a->prefix);
                r = add_param(h, "ip=%s::%s:none", ip, it->name);
        }
        for (size_t i = 0; r >= 0 && i < it->n_routes; i++) {
                net_route_format_guest(&it->routes[i], it->name, text, sizeof(text));
                r = add_param(h, "rd.route=%s%s", text, "");
        }
        if (r >= 0 && it->dhcp)
                r = add_param(h, "ip=%s:dhcp%s", it->name, "");
        return r;
}

/* [net] nameservers first, then each interface's, in name order; each once. */
static int contribute_nameservers(const struct net *n) {
        struct net_ip *seen = NULL;
        size_t n_seen = 0;
        char text[64];
        int r = 0;

        for (size_t i = 0; r >= 0 && i <= n->n_ifaces; i++) {
                const struct net_ip *list = i == 0 ? n->nameservers : n->ifaces[i - 1]->nameservers;
                size_t count = i == 0 ? n->n_nameservers : n->ifaces[i - 1]->n_nameservers;

                for (size_t j = 0; r >= 0 && j < count; j++) {
                        size_t k = 0;

                        while (k < n_seen && !net_ip_equal(&seen[k], &list[j]))
                                k++;
                        if (k < n_seen)
                                continue;
                        net_ip_format(&list[j], 0, text, sizeof(text));
                        r = add_param(n->host, "nameserver=%s%s", text, "");
                        if (r >= 0) {
                                struct net_ip *m = realloc(seen, (n_seen + 1) * sizeof(*m));

                                if (!m)
                                        r = -ENOMEM;
                                else
                                        (seen = m)[n_seen++] = list[j];
                        }
                }
        }
        free(seen);
        return r;
}

static int net_contribute(void *state) {
        struct net *n = state;
        const struct vmsilo_host *h = n->host;
        int by_fd = wants_fd(h), r;

        r = n->n_ifaces > 0 ? net_validate(n) : 0;
        for (size_t i = 0; r >= 0 && i < n->n_ifaces; i++) {
                const struct net_iface *it = n->ifaces[i];
                struct vmsilo_device d = {
                        .size = sizeof(d),
                        .type = VMSILO_DEVICE_NET,
                        .fd = by_fd ? it->vmm_fd : -1,
                        .name = by_fd ? NULL : it->tap_name,
                        .mac = it->mac_text,
                        .pci_address = it->pci_address,
                };

                r = h->add_device(h, &d);
        }
        for (size_t i = 0; r >= 0 && i < n->n_ifaces; i++)
                r = add_param(h, "ifname=%s:%s", n->ifaces[i]->name, n->ifaces[i]->mac_text);
        for (size_t i = 0; r >= 0 && i < n->n_ifaces; i++)
                r = contribute_iface(n, n->ifaces[i]);
        return r < 0 ? r : contribute_nameservers(n);
}

/* "deltap NAME", also from `cleanup` in a later process: deletes the tap only while it is
 * still marked as this VM's; gone already is success. */
static int net_undo(void *state, const char *action) {
        struct net *n = state;
        const struct vmsilo_host *h = n->host;
        const char *name;
        struct nl_sock *sk;
        struct net_link l;
        int r;

        if (strncmp(action, UNDO_DELTAP, strlen(UNDO_DELTAP)) != 0)
                return -EINVAL;
        name = action + strlen(UNDO_DELTAP);
        sk = net_nl_open(n, &r);
        if (!sk)
                return fail_errno(n, r, "open a netlink socket to remove tap", name);
        r = n->nl->link_get(sk, name, &l);
        if (r >= 0 &&
            (strcmp(l.kind, "tun") != 0 ||
             net_alias_owner(l.alias, h->vm_name(h), h->vm_uid(h), NULL, 0, NULL, 0) != 1)) {
                h->log(h, VMSILO_LOG_WARNING,
                       "not removing '%s': it is no longer a tap of VM '%s', ignoring", name,
                       h->vm_name(h));
                r = 0;
        } else if (r >= 0)
                r = n->nl->link_delete(sk, l.ifindex);
        net_nl_close(n, sk);
        if (r == -ENODEV)
                return 0;
        return r < 0 ? fail_errno(n, r, "remove tap", name) : 0;
}

static void net_teardown(void *state) {
        struct net *n = state;

        if (!n)
                return;
        net_free_ifaces(n);
        free(n);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "net",
        .version = "0.1.0",
        .init = net_init,
        .preflight = net_preflight,
        .prepare = net_prepare,
        .contribute = net_contribute,
        .undo = net_undo,
        .teardown = net_teardown,
        .keys = net_keys,
        .key_size = sizeof(struct vmsilo_key),
        .instance = net_instance,
        .configured = net_configured,
};
