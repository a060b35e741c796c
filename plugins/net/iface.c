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
#include <strings.h>
#include <sys/socket.h>

#include "net.h"

#define ADDRESS_EXPECTED \
        "expected an IPv4 or IPv6 address with a prefix length, such as 10.0.0.2/24 or fd00::2/64"
#define NAMESERVER_EXPECTED "expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1"
#define NAME_EXPECTED "expected 1 to 15 letters, digits, '-', '_' or '.'"

static int invalid(const struct net *n, const char *instance, const char *key, const char *value,
                   const char *why) {
        n->host->log(n->host, VMSILO_LOG_ERROR, "invalid value '%s' for '%s' in [net%s%s]: %s",
                     value, key, instance ? " " : "", instance ? instance : "", why);
        return -EINVAL;
}

static int set_string(char **field, const char *value) {
        char *s = NULL;

        if (value && value[0] && !(s = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int parse_bool(const char *v, int *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
                        *ret = strcasecmp(v, yes[i]) == 0;
                        return 0;
                }
        }
        return -EINVAL;
}

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

static int add_nameserver(const struct net *n, const char *instance, struct net_ip **items,
                          size_t *count, const char *value) {
        struct net_ip ip;

        if (!value[0]) {
                free(*items);
                *items = NULL;
                *count = 0;
                return 0;
        }
        if (net_ip_parse(value, 0, &ip) < 0 || !net_ip_is_unicast(&ip))
                return invalid(n, instance, "nameserver", value, NAMESERVER_EXPECTED);
        return ip_list_add(items, count, &ip);
}

static int add_address(const struct net *n, struct net_iface *it, const char *key,
                       const char *value) {
        int host = strcmp(key, "host-address") == 0;
        struct net_ip **items = host ? &it->host_addresses : &it->addresses;
        size_t *count = host ? &it->n_host_addresses : &it->n_addresses;
        struct net_ip ip;
        char why[256];

        if (!value[0]) {
                free(*items);
                *items = NULL;
                *count = 0;
                return 0;
        }
        if (parse_address(value, &ip, why, sizeof(why)) < 0)
                return invalid(n, it->name, key, value, why);
        return ip_list_add(items, count, &ip);
}

static int add_route(const struct net *n, struct net_iface *it, const char *value) {
        struct net_route r;
        char why[256];

        if (!value[0]) {
                free(it->routes);
                it->routes = NULL;
                it->n_routes = 0;
                return 0;
        }
        if (net_route_parse(value, &r, why, sizeof(why)) < 0)
                return invalid(n, it->name, "route", value, why);
        return route_list_add(&it->routes, &it->n_routes, &r);
}

static int set_name(const struct net *n, struct net_iface *it, const char *key, const char *value,
                    char **field) {
        if (value[0] && !net_ifname_valid(value))
                return invalid(n, it->name, key, value, NAME_EXPECTED);
        return set_string(field, value);
}

/* Scalar keys: an empty value restores the default. */
static int iface_scalar(const struct net *n, struct net_iface *it, const char *key,
                        const char *value) {
        char why[256];

        if (strcmp(key, "tap") == 0)
                return set_name(n, it, key, value, &it->tap);
        if (strcmp(key, "bridge") == 0)
                return set_name(n, it, key, value, &it->bridge);
        if (strcmp(key, "mac") == 0) {
                it->has_mac = 0;
                if (value[0] && net_mac_parse(value, it->mac, why, sizeof(why)) < 0)
                        return invalid(n, it->name, key, value, why);
                it->has_mac = !!value[0];
                return 0;
        }
        if (strcmp(key, "existing-tap") == 0) {
                it->existing = 0;
                if (value[0] && parse_bool(value, &it->existing) < 0)
                        return invalid(n, it->name, key, value, "expected yes or no");
                return 0;
        }
        if (strcmp(key, "dhcp") == 0) {
                it->dhcp = 0;
                if (value[0] && parse_bool(value, &it->dhcp) < 0)
                        return invalid(n, it->name, key, value, "expected yes or no");
                return 0;
        }
        return -ENOENT;
}

int net_iface_configure(struct net *n, struct net_iface *it, const char *key, const char *value) {
        if (strcmp(key, "address") == 0 || strcmp(key, "host-address") == 0)
                return add_address(n, it, key, value);
        if (strcmp(key, "route") == 0)
                return add_route(n, it, value);
        if (strcmp(key, "nameserver") == 0)
                return add_nameserver(n, it->name, &it->nameservers, &it->n_nameservers, value);
        return iface_scalar(n, it, key, value);
}

int net_global_configure(struct net *n, const char *key, const char *value) {
        static const char *const iface_keys[] = {
                "tap", "mac", "dhcp", "address", "route", "host-address", "bridge", "existing-tap"
        };

        if (strcmp(key, "nameserver") == 0)
                return add_nameserver(n, NULL, &n->nameservers, &n->n_nameservers, value);
        for (size_t i = 0; i < sizeof(iface_keys) / sizeof(iface_keys[0]); i++)
                if (strcmp(key, iface_keys[i]) == 0) {
                        n->host->log(
                                n->host, VMSILO_LOG_ERROR,
                                "'%s' belongs in an interface section such as [net eth0], not in [net]",
                                key);
                        return -EINVAL;
                }
        return -ENOENT;
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
                free(it->tap);
                free(it->bridge);
                free(it->addresses);
                free(it->host_addresses);
                free(it->routes);
                free(it->nameservers);
                free(it);
        }
        free(n->ifaces);
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
int net_resolve(struct net *n) {
        const char *vm = n->host->vm_name(n->host);

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
