/* SPDX-License-Identifier: MIT */
/* Internal interface of the net plugin: values (netconf.c), host changes (netlink.c). */
#pragma once

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vmsilo/plugin.h>

/* At most this many interfaces per VM: their PCI slots are 00:10.0 to 00:1f.0. */
#define NET_MAX_IFACES 16
#define NET_PCI_FIRST_SLOT 0x10
#define NET_TAP_MAX (IFNAMSIZ - 1)
/* IFLA_IFALIAS of every tap the plugin creates starts with this. */
#define NET_ALIAS_PREFIX "vmsilo "

struct net_ip {
        int family; /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        unsigned prefix; /* the full length (32/128) for a plain address */
};

struct net_route {
        int is_default;
        struct net_ip dest; /* network, host bits clear; for default: family only */
        int has_via;
        struct net_ip via;
};

struct net_iface {
        char *name; /* the guest's interface name: the section's instance */

        /* the keys, as the core stored them (net_keys) */
        char *tap; /* `tap =`, or NULL for the derived name */
        char *bridge;
        char *mac_given;
        int dhcp;
        int existing; /* `existing-tap = yes`: the tap is made (and owned) by someone else */
        char **address_given, **host_address_given, **route_given, **nameserver_given;

        /* parsed from the keys by net_resolve() */
        int has_mac;
        uint8_t mac[6];
        struct net_ip *addresses;
        size_t n_addresses;
        struct net_ip *host_addresses;
        size_t n_host_addresses;
        struct net_route *routes;
        size_t n_routes;
        struct net_ip *nameservers;
        size_t n_nameservers;

        /* set by net_resolve() */
        unsigned index; /* position in name order */
        char tap_name[IFNAMSIZ];
        char mac_text[18];
        char pci_address[16];
        int vmm_fd; /* QEMU: the fd number the VMM sees, or -1 */
};

struct net {
        const struct vmsilo_host *host;
        struct net_iface **ifaces;
        size_t n_ifaces;
        char **nameserver_given;    /* [net] nameserver =, as the core stored them */
        struct net_ip *nameservers; /* parsed from nameserver_given by net_resolve() */
        size_t n_nameservers;
        int checked;                  /* 1 once net_check() ran, 2 if it failed */
        const struct net_netlink *nl; /* the companion, once net_nl_open() loaded it */
};

/* netconf.c: parsing and derivation, no host access. Parsers return 0 or -EINVAL and write
 * a reason ("expected ...") to err. */
int net_ip_parse(const char *s, int want_prefix, struct net_ip *ret);
void net_ip_format(const struct net_ip *ip, int with_prefix, char *buf, size_t size);
int net_ip_contains(const struct net_ip *net, const struct net_ip *ip);
int net_ip_equal(const struct net_ip *a, const struct net_ip *b);
int net_ip_is_unicast(const struct net_ip *ip); /* not unspecified, multicast or reserved */
int net_ip_is_link_local(const struct net_ip *ip);
int net_route_parse(const char *s, struct net_route *ret, char *err, size_t errsz);
void net_route_format_guest(const struct net_route *r, const char *ifname, char *buf, size_t size);
int net_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errsz);
void net_mac_format(const uint8_t mac[6], char buf[18]);
void net_mac_generate(const char *vm, const char *ifname, uint8_t mac[6]);
int net_ifname_valid(const char *s);
int net_tap_derive(const char *vm, unsigned index, char buf[IFNAMSIZ]);
void net_pci_address(unsigned index, char *buf, size_t size);
/* "10.1.0.0/16 via 10.0.0.1", as a user writes it. */
void net_route_format(const struct net_route *r, char *buf, size_t size);

/* iface.c: the key table, the interfaces' order, derived values. */
extern const struct vmsilo_key net_keys[];
/* The descriptor's instance(): [net IFNAME], logs a bad name. */
int net_instance(void *state, const char *name, void **ret);
struct net_iface *net_iface_get(struct net *n, const char *name);
/* The parsed forms of the keys (addresses, routes, MACs, nameservers); idempotent. */
int net_convert(struct net *n);
void net_free_ifaces(struct net *n);
int net_resolve(struct net *n);

/* check.c: net_check() the checks across keys, net_check_host() the host's state (read only);
 * each returns the number of failures, every one logged. */
int net_check(struct net *n);
int net_check_host(struct net *n);
/* "vmsilo vm=NAME uid=N if=IFNAME mac=MAC": the marker set on our taps. */
void net_alias(const struct net *n, const struct net_iface *it, char *buf, size_t size);
/* 1 if alias marks a tap of this VM and uid, 0 if of another, -1 if no vmsilo marker; the
 * other VM's name and MAC go to ret_vm/ret_mac when given. */
int net_alias_owner(const char *alias, const char *vm, uint32_t uid, char *ret_vm, size_t vmsz,
                    char *ret_mac, size_t macsz);

/* The companion net/netlink.so (companion/netlink.c, the plugin's only user of
 * libnl-route-3): rtnetlink. Its functions return 0 or a negative errno (libnl's errors
 * mapped to the nearest errno); -ENODEV for no such link. */
struct net_link {
        int ifindex;
        char kind[32]; /* IFLA_INFO_KIND: "tun", "bridge", ... or "" */
        char alias[256];
};

#define NET_NETLINK_FILE "netlink.so"
#define NET_NETLINK_SYMBOL "net_netlink"
struct nl_sock;
typedef int (*net_link_cb)(const char *name, const struct net_link *l, void *userdata);
struct net_netlink {
        struct nl_sock *(*open)(int *ret_error);
        void (*close)(struct nl_sock *sk);
        int (*link_get)(struct nl_sock *sk, const char *name, struct net_link *ret);
        int (*link_foreach)(struct nl_sock *sk, net_link_cb cb, void *userdata);
        int (*link_set_alias)(struct nl_sock *sk, int ifindex, const char *alias);
        int (*link_set_master)(struct nl_sock *sk, int ifindex, int master);
        int (*link_set_up)(struct nl_sock *sk, int ifindex);
        int (*addr_add)(struct nl_sock *sk, int ifindex, const struct net_ip *ip);
        int (*link_delete)(struct nl_sock *sk, int ifindex);
};

/* net.c: a netlink socket, after loading the companion into n->nl on first use (a VM
 * without interfaces never loads libnl); NULL and *ret_error on failure. */
struct nl_sock *net_nl_open(struct net *n, int *ret_error);
void net_nl_close(const struct net *n, struct nl_sock *sk); /* sk may be NULL */

/* tap.c: the tap, through the tun driver's ioctls. */
int net_tap_open(const char *tun_path, const char *name, uid_t uid, gid_t gid, int *ret_fd);
int net_tap_persist(int fd, int on);
/* Attaches to the existing tap `name` (no CAP_NET_ADMIN needed when it is the caller's). */
int net_tap_attach(const char *tun_path, const char *name, int *ret_fd);
