/* SPDX-License-Identifier: MIT */
/*
 * The interfaces of one VM: the keys of [net] and [net IFNAME], the interfaces' order (by
 * name, which fixes their PCI slots and tap names), and the checks that need more than one
 * key (they run in preflight, and in prepare when `print` skips preflight).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

#define ADDRESS_EXPECTED \
        "expected an IPv4 or IPv6 address with a prefix length, such as 10.0.0.2/24 or fd00::2/64"
#define NAMESERVER_EXPECTED "expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1"
#define NAME_EXPECTED "1 to 15 letters, digits, '-', '_' or '.'"

/* List keys accumulate; an entry given twice is kept once. */
static int ip_list_add(struct net_ip **items, size_t *n, const struct net_ip *ip) {
        struct net_ip *m;

        for (size_t i = 0; i < *n; i++)
                if (net_ip_equal(&(*items)[i], ip) && (*items)[i].prefix == ip->prefix)
                        return 0;
        m = realloc(*items, (*n + 1) * sizeof(*m));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = *ip;
        *items = m;
        return 0;
}

static int route_list_add(struct net_route **items, size_t *n, const struct net_route *r) {
        struct net_route *m;

        for (size_t i = 0; i < *n; i++)
                if (memcmp(&(*items)[i], r, sizeof(*r)) == 0)
                        return 0;
        m = realloc(*items, (*n + 1) * sizeof(*m));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = *r;
        *items = m;
        return 0;
}

static int parse_address(const char *value, struct net_ip *ret, char *why, size_t size) {
        if (net_ip_parse(value, 1, ret) < 0) {
                snprintf(why, size, ADDRESS_EXPECTED);
                return -EINVAL;
        }
        if (!net_ip_is_unicast(ret)) {
                snprintf(
                        why, size,
                        "expected a unicast address, not an unspecified, multicast or reserved one");
                return -EINVAL;
        }
        if (ret->prefix == 0) {
                snprintf(why, size, "expected a prefix length from 1 to %u",
                         ret->family == AF_INET ? 32 : 128);
                return -EINVAL;
        }
        return 0;
}

static int parse_nameserver(const char *value, struct net_ip *ret, char *why, size_t size) {
        if (net_ip_parse(value, 0, ret) < 0 || !net_ip_is_unicast(ret)) {
                snprintf(why, size, NAMESERVER_EXPECTED);
                return -EINVAL;
        }
        return 0;
}

/* ---- the key table: the core parses, these validators say why a value is bad ---- */

static int address_valid(const char *v, char *why, size_t size) {
        struct net_ip ip;

        return parse_address(v, &ip, why, size) == 0;
}

static int nameserver_valid(const char *v, char *why, size_t size) {
        struct net_ip ip;

        return parse_nameserver(v, &ip, why, size) == 0;
}

static int route_valid(const char *v, char *why, size_t size) {
        struct net_route r;

        return net_route_parse(v, &r, why, size) == 0;
}

static int mac_valid(const char *v, char *why, size_t size) {
        uint8_t mac[6];

        return net_mac_parse(v, mac, why, size) == 0;
}

static int name_valid(const char *v, char *why, size_t size) {
        (void) why;
        (void) size;
        return net_ifname_valid(v);
}

#define IFACE(f) offsetof(struct net_iface, f)
#define LIST_IN_IFACE (VMSILO_KEY_LIST | VMSILO_KEY_INSTANCE)
#define SCALAR_IN_IFACE (VMSILO_KEY_INSTANCE | VMSILO_KEY_EMPTY)
const struct vmsilo_key net_keys[] = {
        { .name = "nameserver",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_LIST,
          .offset = offsetof(struct net, nameserver_given),
          .validate = nameserver_valid,
          .help = "a nameserver of every interface" },
        { .name = "nameserver",
          .type = VMSILO_KEY_STRING,
          .flags = LIST_IN_IFACE,
          .offset = IFACE(nameserver_given),
          .validate = nameserver_valid,
          .help = "a nameserver of this interface" },
        { .name = "address",
          .type = VMSILO_KEY_STRING,
          .flags = LIST_IN_IFACE,
          .offset = IFACE(address_given),
          .validate = address_valid,
          .help = "the guest's address with its prefix length" },
        { .name = "host-address",
          .type = VMSILO_KEY_STRING,
          .flags = LIST_IN_IFACE,
          .offset = IFACE(host_address_given),
          .validate = address_valid,
          .help = "the host's address on the tap" },
        { .name = "route",
          .type = VMSILO_KEY_STRING,
          .flags = LIST_IN_IFACE,
          .offset = IFACE(route_given),
          .validate = route_valid,
          .help = "DEST/PREFIX or default, optionally via GATEWAY" },
        { .name = "tap",
          .type = VMSILO_KEY_STRING,
          .flags = SCALAR_IN_IFACE,
          .offset = IFACE(tap),
          .validate = name_valid,
          .expected = NAME_EXPECTED,
          .help = "the tap's name" },
        { .name = "bridge",
          .type = VMSILO_KEY_STRING,
          .flags = SCALAR_IN_IFACE,
          .offset = IFACE(bridge),
          .validate = name_valid,
          .expected = NAME_EXPECTED,
          .help = "a bridge the tap joins" },
        { .name = "mac",
          .type = VMSILO_KEY_STRING,
          .flags = SCALAR_IN_IFACE,
          .offset = IFACE(mac_given),
          .validate = mac_valid,
          .help = "the guest's MAC" },
        { .name = "dhcp",
          .type = VMSILO_KEY_BOOL,
          .flags = SCALAR_IN_IFACE,
          .offset = IFACE(dhcp),
          .help = "the guest asks for its address" },
        { .name = "existing-tap",
          .type = VMSILO_KEY_BOOL,
          .flags = SCALAR_IN_IFACE,
          .offset = IFACE(existing),
          .help = "use the tap named by 'tap =', made and owned by someone else" },
        { .name = NULL },
};

static int ips_of(char **given, int nameserver, struct net_ip **items, size_t *n) {
        char why[256];
        int r = 0;

        free(*items);
        *items = NULL;
        *n = 0;
        for (char **v = given; r >= 0 && v && *v; v++) {
                struct net_ip ip;

                if ((nameserver ? parse_nameserver(*v, &ip, why, sizeof(why))
                                : parse_address(*v, &ip, why, sizeof(why))) == 0)
                        r = ip_list_add(items, n, &ip);
        }
        return r;
}

/* The parsed forms of what the key table stored (every value was validated). */
static int iface_convert(struct net_iface *it) {
        char why[256];
        int r;

        r = ips_of(it->address_given, 0, &it->addresses, &it->n_addresses);
        if (r >= 0)
                r = ips_of(it->host_address_given, 0, &it->host_addresses, &it->n_host_addresses);
        if (r >= 0)
                r = ips_of(it->nameserver_given, 1, &it->nameservers, &it->n_nameservers);
        free(it->routes);
        it->routes = NULL;
        it->n_routes = 0;
        for (char **v = it->route_given; r >= 0 && v && *v; v++) {
                struct net_route route;

                if (net_route_parse(*v, &route, why, sizeof(why)) == 0)
                        r = route_list_add(&it->routes, &it->n_routes, &route);
        }
        it->has_mac = it->mac_given && net_mac_parse(it->mac_given, it->mac, why, sizeof(why)) == 0;
        return r;
}

int net_instance(void *state, const char *name, void **ret) {
        struct net *n = state;
        struct net_iface *it;

        if (!net_ifname_valid(name)) {
                n->host->log(
                        n->host, VMSILO_LOG_ERROR,
                        "invalid interface name '%s' in [net %s]: expected 1 to 15 letters, digits, '-', '_' or '.'",
                        name, name);
                return -EINVAL;
        }
        it = net_iface_get(n, name);
        if (!it)
                return -ENOMEM;
        *ret = it;
        return 0;
}

struct net_iface *net_iface_get(struct net *n, const char *name) {
        struct net_iface *it, **m;

        for (size_t i = 0; i < n->n_ifaces; i++)
                if (strcmp(n->ifaces[i]->name, name) == 0)
                        return n->ifaces[i];
        m = realloc(n->ifaces, (n->n_ifaces + 1) * sizeof(*m));
        if (!m)
                return NULL;
        n->ifaces = m;
        it = calloc(1, sizeof(*it));
        if (!it || !(it->name = strdup(name))) {
                free(it);
                return NULL;
        }
        it->vmm_fd = -1;
        n->ifaces[n->n_ifaces++] = it;
        return it;
}

void net_free_ifaces(struct net *n) {
        for (size_t i = 0; i < n->n_ifaces; i++) {
                struct net_iface *it = n->ifaces[i];

                free(it->name);
                vmsilo_keys_free(net_keys, it, 1);
                free(it->addresses);
                free(it->host_addresses);
                free(it->routes);
                free(it->nameservers);
                free(it);
        }
        free(n->ifaces);
        vmsilo_keys_free(net_keys, n, 0);
        free(n->nameservers);
        n->ifaces = NULL;
        n->nameservers = NULL;
        n->n_ifaces = n->n_nameservers = 0;
}

static int by_name(const void *a, const void *b) {
        return strcmp((*(struct net_iface *const *) a)->name,
                      (*(struct net_iface *const *) b)->name);
}

/* Sorts the interfaces by name (byte order) and derives what was not configured. */
int net_convert(struct net *n) {
        int r = ips_of(n->nameserver_given, 1, &n->nameservers, &n->n_nameservers);

        for (size_t i = 0; r >= 0 && i < n->n_ifaces; i++)
                r = iface_convert(n->ifaces[i]);
        return r;
}

int net_resolve(struct net *n) {
        const char *vm = n->host->vm_name(n->host);
        int r;

        r = net_convert(n);
        if (r < 0)
                return r;

        qsort(n->ifaces, n->n_ifaces, sizeof(*n->ifaces), by_name);
        for (size_t i = 0; i < n->n_ifaces; i++) {
                struct net_iface *it = n->ifaces[i];

                it->index = (unsigned) i;
                if (it->tap)
                        snprintf(it->tap_name, sizeof(it->tap_name), "%s", it->tap);
                else if (net_tap_derive(vm, it->index, it->tap_name) < 0)
                        return -ERANGE;
                if (!it->has_mac)
                        net_mac_generate(vm, it->name, it->mac);
                net_mac_format(it->mac, it->mac_text);
                it->pci_address[0] = 0;
                if (i < NET_MAX_IFACES)
                        net_pci_address(it->index, it->pci_address, sizeof(it->pci_address));
        }
        return 0;
}
