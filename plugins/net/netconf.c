/* SPDX-License-Identifier: MIT */
/*
 * The values of the net plugin: addresses, routes, MACs and names, parsed and derived without
 * touching the host, so that every bad value is a configuration error and the unit tests need
 * no root.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

static unsigned family_bits(int family) {
        return family == AF_INET ? 32 : 128;
}

/* Only digits, no sign, no leading zero (so "024" is refused), at most max. */
static int parse_prefix(const char *s, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (!s[0] || strlen(s) > 3 || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                v = v * 10 + (unsigned) (*p - '0');
        }
        if (v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* ADDR or ADDR/PREFIX (want_prefix: required, else refused), IPv4 or IPv6. */
int net_ip_parse(const char *s, int want_prefix, struct net_ip *ret) {
        const char *slash = strchr(s, '/');
        char addr[INET6_ADDRSTRLEN];
        struct net_ip ip = { 0 };
        size_t n = slash ? (size_t) (slash - s) : strlen(s);

        if (!!slash != !!want_prefix || n == 0 || n >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, s, n);
        addr[n] = 0;
        if (inet_pton(AF_INET, addr, ip.addr) == 1)
                ip.family = AF_INET;
        else if (inet_pton(AF_INET6, addr, ip.addr) == 1)
                ip.family = AF_INET6;
        else
                return -EINVAL;
        ip.prefix = family_bits(ip.family);
        if (slash && parse_prefix(slash + 1, family_bits(ip.family), &ip.prefix) < 0)
                return -EINVAL;
        *ret = ip;
        return 0;
}

void net_ip_format(const struct net_ip *ip, int with_prefix, char *buf, size_t size) {
        char text[INET6_ADDRSTRLEN] = "?";

        (void) inet_ntop(ip->family, ip->addr, text, sizeof(text));
        if (with_prefix)
                snprintf(buf, size, "%s/%u", text, ip->prefix);
        else
                snprintf(buf, size, "%s", text);
}

static int bits_equal(const unsigned char *a, const unsigned char *b, unsigned bits) {
        unsigned bytes = bits / 8, rest = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return 0;
        return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff00 >> rest) & 0xff) == 0;
}

/* 1 if ip lies in the network net (net's prefix applies). */
int net_ip_contains(const struct net_ip *net, const struct net_ip *ip) {
        return net->family == ip->family && bits_equal(net->addr, ip->addr, net->prefix);
}

int net_ip_equal(const struct net_ip *a, const struct net_ip *b) {
        return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

static void ip_clear_host_bits(struct net_ip *ip) {
        unsigned bits = family_bits(ip->family);

        for (unsigned i = ip->prefix; i < bits; i++)
                ip->addr[i / 8] &= (unsigned char) ~(0x80u >> (i % 8));
}

int net_ip_is_unicast(const struct net_ip *ip) {
        static const unsigned char zero[16];

        if (memcmp(ip->addr, zero, ip->family == AF_INET ? 4 : 16) == 0)
                return 0;
        if (ip->family == AF_INET)
                return ip->addr[0] < 224; /* not multicast, reserved or broadcast */
        return ip->addr[0] != 0xff;
}

int net_ip_is_link_local(const struct net_ip *ip) {
        return ip->family == AF_INET6 && ip->addr[0] == 0xfe && (ip->addr[1] & 0xc0) == 0x80;
}

static const char *family_name(int family) {
        return family == AF_INET ? "IPv4" : "IPv6";
}

static int fail(char *err, size_t errsz, const char *fmt, ...) VMSILO_PRINTF(3, 4);

static int fail(char *err, size_t errsz, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

#define ROUTE_SYNTAX \
        "expected DEST/PREFIX, an address or 'default', optionally followed by 'via GATEWAY', such as '10.1.0.0/16 via 10.0.0.1'"

static int parse_gateway(const char *s, struct net_route *r, char *err, size_t errsz) {
        if (net_ip_parse(s, 0, &r->via) < 0)
                return fail(err, errsz, "gateway '%s' is not an IPv4 or IPv6 address", s);
        if (!net_ip_is_unicast(&r->via))
                return fail(err, errsz, "gateway '%s' is not a unicast address", s);
        r->has_via = 1;
        return 0;
}

/* DEST/PREFIX, DEST (a host route) or "default", then optionally "via GATEWAY". */
int net_route_parse(const char *s, struct net_route *ret, char *err, size_t errsz) {
        char buf[256], *tok[4], *save = NULL, net[64];
        struct net_route r = { 0 };
        struct net_ip exact;
        int n = 0;

        if (strlen(s) >= sizeof(buf))
                return fail(err, errsz, ROUTE_SYNTAX);
        strcpy(buf, s);
        for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                tok[n < 4 ? n++ : 3] = t;
        if ((n != 1 && n != 3) || (n == 3 && strcmp(tok[1], "via") != 0))
                return fail(err, errsz, ROUTE_SYNTAX);
        if (n == 3 && parse_gateway(tok[2], &r, err, errsz) < 0)
                return -EINVAL;
        if (strcmp(tok[0], "default") == 0) {
                if (!r.has_via)
                        return fail(err, errsz, "a default route needs 'via GATEWAY'");
                r.is_default = 1;
                r.dest.family = r.via.family;
                r.dest.prefix = 0;
        } else if (net_ip_parse(tok[0], 1, &r.dest) < 0 && net_ip_parse(tok[0], 0, &r.dest) < 0)
                return fail(
                        err, errsz,
                        "destination '%s' is not a network such as 10.1.0.0/16 or fd00:1::/48, an address or 'default'",
                        tok[0]);
        if (r.has_via && r.via.family != r.dest.family)
                return fail(err, errsz, "destination '%s' is %s but gateway '%s' is %s", tok[0],
                            family_name(r.dest.family), tok[2], family_name(r.via.family));
        exact = r.dest;
        ip_clear_host_bits(&r.dest);
        if (!net_ip_equal(&exact, &r.dest)) {
                net_ip_format(&r.dest, 1, net, sizeof(net));
                return fail(err, errsz, "destination '%s' has host bits set: expected '%s'", tok[0],
                            net);
        }
        *ret = r;
        return 0;
}

void net_route_format(const struct net_route *r, char *buf, size_t size) {
        char dest[64] = "default", via[64] = "";

        if (!r->is_default)
                net_ip_format(&r->dest, 1, dest, sizeof(dest));
        if (r->has_via)
                net_ip_format(&r->via, 0, via, sizeof(via));
        snprintf(buf, size, "%s%s%s", dest, r->has_via ? " via " : "", via);
}

/* The guest's form, rd.route= of systemd-network-generator and dracut: DEST/PREFIX:VIA:IFNAME,
 * IPv6 in brackets ([fd01::/32]:[fd00::1]:eth0). A default route is 0.0.0.0/0 (::/0); an
 * on-link route has the gateway 0.0.0.0 (::), for which the generator writes no Gateway=. */
void net_route_format_guest(const struct net_route *r, const char *ifname, char *buf, size_t size) {
        int v6 = r->dest.family == AF_INET6; /* set for a default route too */
        char dest[64], via[64];

        if (r->is_default)
                snprintf(dest, sizeof(dest), "%s", v6 ? "::/0" : "0.0.0.0/0");
        else
                net_ip_format(&r->dest, 1, dest, sizeof(dest));
        if (r->has_via)
                net_ip_format(&r->via, 0, via, sizeof(via));
        else
                snprintf(via, sizeof(via), "%s", v6 ? "::" : "0.0.0.0");
        if (v6)
                snprintf(buf, size, "[%s]:[%s]:%s", dest, via, ifname);
        else
                snprintf(buf, size, "%s:%s:%s", dest, via, ifname);
}

int net_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errsz) {
        static const uint8_t zero[6];
        uint8_t m[6];

        for (int i = 0; i < 6; i++) {
                const char *o = s + 3 * i;

                if (!isxdigit((unsigned char) o[0]) || !isxdigit((unsigned char) o[1]) ||
                    o[2] != (i < 5 ? ':' : '\0')) {
                        snprintf(
                                err, errsz,
                                "expected six two-digit hex octets separated by ':', such as 02:00:00:00:00:01");
                        return -EINVAL;
                }
                m[i] = (uint8_t) strtoul((char[]){ o[0], o[1], 0 }, NULL, 16);
        }
        if (m[0] & 1) {
                snprintf(
                        err, errsz,
                        "a multicast MAC (lowest bit of the first octet set) cannot be an interface's address");
                return -EINVAL;
        }
        if (memcmp(m, zero, 6) == 0) {
                snprintf(err, errsz, "the all-zero MAC cannot be an interface's address");
                return -EINVAL;
        }
        memcpy(mac, m, 6);
        return 0;
}

void net_mac_format(const uint8_t mac[6], char buf[18]) {
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                 mac[5]);
}

static uint64_t fnv1a64(uint64_t h, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* FNV-1a 64 of "VM\0IFNAME", mixed by splitmix64's finaliser. */
static uint64_t name_hash(const char *vm, const char *ifname) {
        uint64_t h = 0xcbf29ce484222325ULL;

        h = fnv1a64(h, vm, strlen(vm) + 1);
        h = fnv1a64(h, ifname, strlen(ifname));
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        return h ^ (h >> 31);
}

/* Locally administered (bit 1 of the first octet set), unicast (bit 0 clear). */
void net_mac_generate(const char *vm, const char *ifname, uint8_t mac[6]) {
        uint64_t h = name_hash(vm, ifname);

        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t) (h >> (8 * i));
        mac[0] = (uint8_t) ((mac[0] & 0xfc) | 0x02);
}

/* Letters, digits, '-', '_', '.'; 1 to 15 of them; not "." or "..". Stricter than the
 * kernel, so that a name is safe in crosvm's and QEMU's option grammars and on the guest's
 * kernel command line. */
int net_ifname_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > NET_TAP_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return 0;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("-_.", *s))
                        return 0;
        return 1;
}

/* VM-INDEX when it fits in 15 characters; else HEAD-HASH-INDEX, HEAD the start of the VM
 * name and HASH 4 hex digits of the whole name, so that long names sharing a start differ. */
int net_tap_derive(const char *vm, unsigned index, char buf[IFNAMSIZ]) {
        char idx[12], name[64];
        size_t len = strlen(vm), ilen;
        int head;

        ilen = (size_t) snprintf(idx, sizeof(idx), "%u", index);
        if (len + 1 + ilen <= NET_TAP_MAX)
                snprintf(name, sizeof(name), "%s-%s", vm, idx);
        else {
                head = (int) NET_TAP_MAX - 1 - 4 - 1 - (int) ilen;
                if (head < 1)
                        return -ERANGE;
                snprintf(name, sizeof(name), "%.*s-%04x-%s", head, vm,
                         (unsigned) (name_hash(vm, "") & 0xffff), idx);
        }
        if (strlen(name) > NET_TAP_MAX)
                return -ERANGE;
        memcpy(buf, name, strlen(name) + 1);
        return 0;
}

void net_pci_address(unsigned index, char *buf, size_t size) {
        snprintf(buf, size, "00:%02x.0", NET_PCI_FIRST_SLOT + index);
}

void net_alias(const struct net *n, const struct net_iface *it, char *buf, size_t size) {
        const struct vmsilo_host *h = n->host;

        snprintf(buf, size, NET_ALIAS_PREFIX "vm=%s uid=%u if=%s mac=%s", h->vm_name(h),
                 h->vm_uid(h), it->name, it->mac_text);
}

static int alias_field(const char *alias, const char *key, char *buf, size_t size) {
        size_t klen = strlen(key), n;
        const char *p;

        for (p = alias; (p = strstr(p, key)); p += klen)
                if ((p == alias || p[-1] == ' ') && p[klen] == '=')
                        break;
        if (!p)
                return -ENOENT;
        p += klen + 1;
        n = strcspn(p, " ");
        if (n >= size)
                return -ERANGE;
        memcpy(buf, p, n);
        buf[n] = 0;
        return 0;
}

int net_alias_owner(const char *alias, const char *vm, uint32_t uid, char *ret_vm, size_t vmsz,
                    char *ret_mac, size_t macsz) {
        char owner[64] = "", owner_uid[16] = "", want_uid[16];

        if (strncmp(alias, NET_ALIAS_PREFIX, strlen(NET_ALIAS_PREFIX)) != 0 ||
            alias_field(alias, "vm", owner, sizeof(owner)) < 0)
                return -1;
        (void) alias_field(alias, "uid", owner_uid, sizeof(owner_uid));
        if (ret_vm)
                snprintf(ret_vm, vmsz, "%s", owner);
        if (ret_mac && alias_field(alias, "mac", ret_mac, macsz) < 0)
                ret_mac[0] = 0;
        snprintf(want_uid, sizeof(want_uid), "%u", uid);
        return strcmp(owner, vm) == 0 && strcmp(owner_uid, want_uid) == 0;
}
