/* SPDX-License-Identifier: MIT */
/*
 * The net plugin's checks. net_check(): what one key cannot say alone (duplicates, DHCP next
 * to a static address, a gateway off every subnet). net_check_host(): the host's side, read
 * only: the tun device, the privilege to make taps, tap names, bridges, MACs of running VMs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

#define CAP_NET_ADMIN_BIT 12

static void failure(const struct net *n, int *failures, const char *fmt, ...) VMSILO_PRINTF(3, 4);

static void failure(const struct net *n, int *failures, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        n->host->log(n->host, VMSILO_LOG_ERROR, "%s", buf);
        (*failures)++;
}

static const struct net_ip *find_ip(const struct net_ip *items, size_t n, const struct net_ip *ip) {
        for (size_t i = 0; i < n; i++)
                if (net_ip_equal(&items[i], ip))
                        return &items[i];
        return NULL;
}

/* Tap names, MACs and addresses are each one interface's own. */
static void check_pair(const struct net *n, const struct net_iface *a, const struct net_iface *b,
                       int *failures) {
        char text[64];

        if (strcmp(a->tap_name, b->tap_name) == 0)
                failure(n, failures, "[net %s] and [net %s] have the same tap name '%s'", a->name,
                        b->name, a->tap_name);
        if (memcmp(a->mac, b->mac, 6) == 0)
                failure(n, failures, "[net %s] and [net %s] have the same MAC '%s'", a->name,
                        b->name, a->mac_text);
        for (size_t i = 0; i < a->n_addresses; i++)
                if (find_ip(b->addresses, b->n_addresses, &a->addresses[i])) {
                        net_ip_format(&a->addresses[i], 0, text, sizeof(text));
                        failure(n, failures, "[net %s] and [net %s] have the same address '%s'",
                                a->name, b->name, text);
                }
        for (size_t i = 0; i < a->n_host_addresses; i++)
                if (find_ip(b->host_addresses, b->n_host_addresses, &a->host_addresses[i])) {
                        net_ip_format(&a->host_addresses[i], 0, text, sizeof(text));
                        failure(n, failures,
                                "[net %s] and [net %s] have the same host-address '%s'", a->name,
                                b->name, text);
                }
}

/* A host-side address must not be one the guest uses, on any interface. */
static void check_host_addresses(const struct net *n, const struct net_iface *it, int *failures) {
        char text[64];

        for (size_t i = 0; i < it->n_host_addresses; i++)
                for (size_t j = 0; j < n->n_ifaces; j++) {
                        const struct net_iface *o = n->ifaces[j];

                        if (!find_ip(o->addresses, o->n_addresses, &it->host_addresses[i]))
                                continue;
                        net_ip_format(&it->host_addresses[i], 0, text, sizeof(text));
                        failure(n, failures,
                                "host-address '%s' of [net %s] is also the guest's address in [net %s]",
                                text, it->name, o->name);
                }
}

/* The guest adds `ip route add DEST via GW dev IF`: GW must be on a subnet of IF by then. */
static int gateway_on_link(const struct net_iface *it, size_t route) {
        const struct net_ip *gw = &it->routes[route].via;

        if (net_ip_is_link_local(gw) || (gw->family == AF_INET && it->dhcp))
                return 1;
        for (size_t i = 0; i < it->n_addresses; i++)
                if (net_ip_contains(&it->addresses[i], gw))
                        return 1;
        for (size_t i = 0; i < route; i++)
                if (!it->routes[i].has_via && net_ip_contains(&it->routes[i].dest, gw))
                        return 1;
        return 0;
}

static void check_iface(const struct net *n, const struct net_iface *it, int *failures) {
        char text[128], gw[64];

        for (size_t i = 0; it->dhcp && i < it->n_addresses; i++)
                if (it->addresses[i].family == AF_INET) {
                        net_ip_format(&it->addresses[i], 1, text, sizeof(text));
                        failure(n, failures,
                                "[net %s] has 'dhcp = yes' and the IPv4 address '%s': give one or the other",
                                it->name, text);
                }
        if (it->existing && (!it->tap || it->bridge || it->n_host_addresses > 0))
                failure(n, failures,
                        "[net %s] has 'existing-tap = yes': it needs 'tap =' (the tap's name), and takes no 'bridge' or 'host-address' (whoever made the tap sets those up)",
                        it->name);
        if (it->bridge && it->n_host_addresses > 0)
                failure(n, failures,
                        "[net %s] has both 'bridge' and 'host-address': a tap in a bridge takes no address, give it to the bridge",
                        it->name);
        check_host_addresses(n, it, failures);
        for (size_t i = 0; i < it->n_routes; i++) {
                if (!it->routes[i].has_via || gateway_on_link(it, i))
                        continue;
                net_route_format(&it->routes[i], text, sizeof(text));
                net_ip_format(&it->routes[i].via, 0, gw, sizeof(gw));
                failure(n, failures,
                        "route '%s' of [net %s]: gateway '%s' is in no subnet of the interface's addresses or earlier on-link routes",
                        text, it->name, gw);
        }
}

int net_check(struct net *n) {
        int failures = 0;

        if (n->n_ifaces > NET_MAX_IFACES)
                failure(n, &failures,
                        "VM '%s' has %zu interfaces: at most %d are supported (PCI slots 00:%02x.0 to 00:%02x.0)",
                        n->host->vm_name(n->host), n->n_ifaces, NET_MAX_IFACES, NET_PCI_FIRST_SLOT,
                        NET_PCI_FIRST_SLOT + NET_MAX_IFACES - 1);
        for (size_t i = 0; i < n->n_ifaces; i++) {
                for (size_t j = i + 1; j < n->n_ifaces; j++)
                        check_pair(n, n->ifaces[i], n->ifaces[j], &failures);
                check_iface(n, n->ifaces[i], &failures);
        }
        return failures;
}

/* CAP_NET_ADMIN in the effective set: TUNSETIFF needs it to create a tap. */
static int have_net_admin(void) {
        unsigned long long caps = 0;
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        int found = 0;

        if (!f)
                return -errno;
        while (!found && fgets(line, sizeof(line), f))
                found = sscanf(line, "CapEff: %llx", &caps) == 1;
        fclose(f);
        if (!found)
                return -ENOENT;
        return !!(caps & (1ULL << CAP_NET_ADMIN_BIT));
}

static void check_tun(const struct net *n, int *failures) {
        char *path = n->host->root_path(n->host, "/dev/net/tun");
        int fd, all_existing = 1;

        if (!path) {
                failure(n, failures, "out of memory");
                return;
        }
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == EACCES)
                failure(n, failures,
                        "cannot open '%s': %s; a user's taps need it readable and writable by all (udev's default mode 0666: 'chmod 0666 %s')",
                        path, strerror(errno), path);
        else if (fd < 0)
                failure(n, failures,
                        "cannot open '%s': %s; taps need the tun driver and access to it", path,
                        strerror(errno));
        else
                close(fd);
        free(path);
        for (size_t i = 0; i < n->n_ifaces; i++)
                all_existing = all_existing && n->ifaces[i]->existing;
        if (!all_existing && have_net_admin() == 0)
                failure(n, failures,
                        "creating taps needs CAP_NET_ADMIN, which vmsilo-core does not have: start VM '%s' as root",
                        n->host->vm_name(n->host));
}

/* `existing-tap = yes`: the tap exists and is the VM user's, so no privilege is needed. */
static void check_existing_tap(const struct net *n, const struct net_iface *it, int *failures) {
        const struct vmsilo_host *h = n->host;
        char rel[128], *path;
        unsigned long owner = (unsigned long) -1;
        FILE *f;

        snprintf(rel, sizeof(rel), "/sys/class/net/%s/owner", it->tap_name);
        path = h->root_path(h, rel);
        f = path ? fopen(path, "re") : NULL;
        free(path);
        if (f) {
                if (fscanf(f, "%ld", (long *) &owner) != 1)
                        owner = (unsigned long) -1;
                fclose(f);
        }
        if (!f)
                failure(n, failures,
                        "tap '%s' of [net %s] does not exist: an administrator creates it for uid %u once: 'ip tuntap add %s mode tap user %u vnet_hdr' (and sets it up: addresses, bridge, up)",
                        it->tap_name, it->name, (unsigned) h->vm_uid(h), it->tap_name,
                        (unsigned) h->vm_uid(h));
        else if (owner != (unsigned long) h->vm_uid(h))
                failure(n, failures,
                        "tap '%s' of [net %s] is not owned by uid %u (its owner: %ld): an administrator gives it: 'ip tuntap del %s mode tap; ip tuntap add %s mode tap user %u vnet_hdr'",
                        it->tap_name, it->name, (unsigned) h->vm_uid(h), (long) owner, it->tap_name,
                        it->tap_name, (unsigned) h->vm_uid(h));
}

/* The tap name is free, or a leftover of this VM that prepare replaces. */
static void check_tap(const struct net *n, struct nl_sock *sk, const struct net_iface *it,
                      int *failures) {
        const struct vmsilo_host *h = n->host;
        char owner[64];
        struct net_link l;
        int r;

        r = n->nl->link_get(sk, it->tap_name, &l);
        if (r == -ENODEV)
                return;
        if (r < 0) {
                failure(n, failures, "cannot look up tap '%s' of [net %s]: %s", it->tap_name,
                        it->name, strerror(-r));
                return;
        }
        r = net_alias_owner(l.alias, h->vm_name(h), h->vm_uid(h), owner, sizeof(owner), NULL, 0);
        if (r == 1 && strcmp(l.kind, "tun") == 0) {
                h->log(h, VMSILO_LOG_INFO,
                       "tap '%s' of [net %s] exists already and is this VM's; a start replaces it",
                       it->tap_name, it->name);
                return;
        }
        if (r == 0)
                failure(n, failures,
                        "tap '%s' of [net %s] is in use by VM '%s'; set 'tap =' in [net %s] to a free name",
                        it->tap_name, it->name, owner, it->name);
        else
                failure(n, failures,
                        "tap name '%s' of [net %s] is taken by an existing %s%sinterface that vmsilo did not create; set 'tap =' in [net %s] to a free name",
                        it->tap_name, it->name, l.kind[0] ? l.kind : "", l.kind[0] ? " " : "",
                        it->name);
}

static void check_bridge(const struct net *n, struct nl_sock *sk, const struct net_iface *it,
                         int *failures) {
        struct net_link l;
        int r;

        if (!it->bridge)
                return;
        r = n->nl->link_get(sk, it->bridge, &l);
        if (r == -ENODEV)
                failure(n, failures, "bridge '%s' of [net %s] does not exist", it->bridge,
                        it->name);
        else if (r < 0)
                failure(n, failures, "cannot look up bridge '%s' of [net %s]: %s", it->bridge,
                        it->name, strerror(-r));
        else if (strcmp(l.kind, "bridge") != 0)
                failure(n, failures, "'%s' of [net %s] is not a bridge but a%s %s interface",
                        it->bridge, it->name, l.kind[0] ? "" : "n",
                        l.kind[0] ? l.kind : "ordinary");
}

struct mac_scan {
        const struct net *n;
        int *failures;
};

/* Another VM's tap carries its guest MAC in its alias: two guests must not share one. */
static int scan_mac(const char *name, const struct net_link *l, void *userdata) {
        struct mac_scan *s = userdata;
        const struct vmsilo_host *h = s->n->host;
        char owner[64], mac[32];

        if (net_alias_owner(l->alias, h->vm_name(h), h->vm_uid(h), owner, sizeof(owner), mac,
                            sizeof(mac)) != 0)
                return 0;
        for (size_t i = 0; i < s->n->n_ifaces; i++)
                if (strcmp(s->n->ifaces[i]->mac_text, mac) == 0)
                        failure(s->n, s->failures,
                                "MAC '%s' of [net %s] is already used by VM '%s' (tap '%s'); set 'mac =' in [net %s]",
                                mac, s->n->ifaces[i]->name, owner, name, s->n->ifaces[i]->name);
        return 0;
}

int net_check_host(struct net *n) {
        struct mac_scan scan = { n, NULL };
        struct nl_sock *sk;
        int failures = 0, r;

        check_tun(n, &failures);
        sk = net_nl_open(n, &r);
        if (!sk) {
                failure(n, &failures, "cannot open a netlink socket: %s", strerror(-r));
                return failures;
        }
        for (size_t i = 0; i < n->n_ifaces; i++) {
                if (n->ifaces[i]->existing) {
                        check_existing_tap(n, n->ifaces[i], &failures);
                        continue;
                }
                check_tap(n, sk, n->ifaces[i], &failures);
                check_bridge(n, sk, n->ifaces[i], &failures);
        }
        scan.failures = &failures;
        r = n->nl->link_foreach(sk, scan_mac, &scan);
        if (r < 0)
                failure(n, &failures, "cannot list network interfaces: %s", strerror(-r));
        net_nl_close(n, sk);
        return failures;
}
