/* The kernel command line contract of vmsilo-init. */
#include "cmdline.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define VALUE_MAX 512

struct param {
        const char *name;
        int (*parse)(struct config *cfg, char *value);
};

static int copy_field(char *dst, size_t size, const char *src) {
        size_t n = strlen(src);

        if (n == 0 || n >= size)
                return -EINVAL;
        memcpy(dst, src, n + 1);
        return 0;
}

/* Splits s at commas into at most max parts; returns the count (max + 1 if more). */
static int split_commas(char *s, char **parts, int max) {
        int n = 0;

        for (char *p = s;;) {
                char *comma = strchr(p, ',');

                if (n == max)
                        return max + 1;
                parts[n++] = p;
                if (!comma)
                        return n;
                *comma = '\0';
                p = comma + 1;
        }
}

static int check_ifname(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return -EINVAL;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || isspace((unsigned char) *s))
                        return -EINVAL;
        return 0;
}

/* Returns 4 or 6 for a valid IPv4/IPv6 address, else -EINVAL. */
static int ip_family(const char *s) {
        unsigned char addr[16];

        if (inet_pton(AF_INET, s, addr) == 1)
                return 4;
        if (inet_pton(AF_INET6, s, addr) == 1)
                return 6;
        return -EINVAL;
}

/* ADDR/PREFIX: returns 4 or 6, else -EINVAL. */
static int cidr_family(const char *s) {
        char addr[64], *end;
        const char *slash = strchr(s, '/');
        long prefix;
        int fam;

        if (!slash || (size_t) (slash - s) >= sizeof(addr) || !slash[1])
                return -EINVAL;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = '\0';
        fam = ip_family(addr);
        if (fam < 0)
                return fam;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (errno || *end || prefix < 0 || prefix > (fam == 4 ? 32 : 128))
                return -EINVAL;
        return fam;
}

static int parse_mac(char *dst, const char *s) {
        if (strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 17; i++) {
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                dst[i] = (char) tolower((unsigned char) s[i]);
        }
        dst[17] = '\0';
        return 0;
}

static int p_hostname(struct config *cfg, char *v) {
        for (const char *p = v; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.')
                        return -EINVAL;
        return copy_field(cfg->hostname, sizeof(cfg->hostname), v);
}

static int p_ifname(struct config *cfg, char *v) {
        struct cfg_ifname *it = &cfg->ifnames[cfg->n_ifnames];
        char *f[2];

        if (cfg->n_ifnames >= CMDLINE_MAX_ITEMS || split_commas(v, f, 2) != 2 ||
            check_ifname(f[0]) < 0 || parse_mac(it->mac, f[1]) < 0)
                return -EINVAL;
        copy_field(it->ifname, sizeof(it->ifname), f[0]);
        cfg->n_ifnames++;
        return 0;
}

static int p_ip(struct config *cfg, char *v) {
        struct cfg_ip *it = &cfg->ips[cfg->n_ips];
        char *f[2];
        int fam;

        if (cfg->n_ips >= CMDLINE_MAX_ITEMS || split_commas(v, f, 2) != 2 || check_ifname(f[0]) < 0)
                return -EINVAL;
        fam = cidr_family(f[1]);
        if (fam < 0 || copy_field(it->addr, sizeof(it->addr), f[1]) < 0)
                return -EINVAL;
        copy_field(it->ifname, sizeof(it->ifname), f[0]);
        it->v6 = fam == 6;
        cfg->n_ips++;
        return 0;
}

static int p_route(struct config *cfg, char *v) {
        struct cfg_route *it = &cfg->routes[cfg->n_routes];
        int n, fam_dest = 0, fam_via = 0;
        char *f[3];

        if (cfg->n_routes >= CMDLINE_MAX_ITEMS)
                return -EINVAL;
        n = split_commas(v, f, 3);
        if (n < 2 || n > 3 || check_ifname(f[0]) < 0)
                return -EINVAL;
        if (strcmp(f[1], "default") != 0 && (fam_dest = cidr_family(f[1])) < 0)
                return -EINVAL;
        if (n == 3 && (fam_via = ip_family(f[2])) < 0)
                return -EINVAL;
        if ((fam_dest && fam_via && fam_dest != fam_via) || (!fam_dest && !fam_via))
                return -EINVAL;
        copy_field(it->ifname, sizeof(it->ifname), f[0]);
        if (copy_field(it->dest, sizeof(it->dest), f[1]) < 0)
                return -EINVAL;
        it->via[0] = '\0';
        if (n == 3)
                copy_field(it->via, sizeof(it->via), f[2]);
        it->v6 = (fam_dest ? fam_dest : fam_via) == 6;
        cfg->n_routes++;
        return 0;
}

static int p_dhcp(struct config *cfg, char *v) {
        if (cfg->n_dhcp >= CMDLINE_MAX_ITEMS || check_ifname(v) < 0)
                return -EINVAL;
        return copy_field(cfg->dhcp[cfg->n_dhcp++], sizeof(cfg->dhcp[0]), v);
}

static int p_nameserver(struct config *cfg, char *v) {
        if (cfg->n_nameservers >= CMDLINE_MAX_ITEMS || ip_family(v) < 0)
                return -EINVAL;
        return copy_field(cfg->nameservers[cfg->n_nameservers++], sizeof(cfg->nameservers[0]), v);
}

static int p_mount(struct config *cfg, char *v) {
        struct cfg_mount *it = &cfg->mounts[cfg->n_mounts];
        char *f[3];
        int n;

        if (cfg->n_mounts >= CMDLINE_MAX_ITEMS)
                return -EINVAL;
        n = split_commas(v, f, 3);
        if (n < 2 || n > 3 || (n == 3 && strcmp(f[2], "ro") != 0 && strcmp(f[2], "rw") != 0))
                return -EINVAL;
        if (f[1][0] != '/' || strstr(f[1], "/../") || copy_field(it->tag, 37, f[0]) < 0 ||
            copy_field(it->path, sizeof(it->path), f[1]) < 0)
                return -EINVAL;
        it->ro = n == 3 && strcmp(f[2], "ro") == 0;
        cfg->n_mounts++;
        return 0;
}

static int p_overlay(struct config *cfg, char *v) {
        if (strcmp(v, "tmpfs") == 0) {
                cfg->overlay = OVERLAY_TMPFS;
                return 0;
        }
        if (strncmp(v, "raw,", 4) != 0 || strchr(v + 4, ',') ||
            copy_field(cfg->overlay_serial, sizeof(cfg->overlay_serial), v + 4) < 0)
                return -EINVAL;
        cfg->overlay = OVERLAY_RAW;
        return 0;
}

static int p_cmd(struct config *cfg, char *v) {
        char *cmd = strdup(v);

        if (!cmd)
                return -ENOMEM;
        if (percent_decode(cmd) < 0 || cmd[0] == '\0') {
                free(cmd);
                return -EINVAL;
        }
        free(cfg->cmd);
        cfg->cmd = cmd;
        return 0;
}

static int p_nonce(struct config *cfg, char *v) {
        for (const char *p = v; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return -EINVAL;
        return copy_field(cfg->nonce, sizeof(cfg->nonce), v);
}

static int p_exit(struct config *cfg, char *v) {
        if (strcmp(v, "poweroff") == 0)
                cfg->exit_kind = EXIT_POWEROFF;
        else if (strcmp(v, "debugexit") == 0)
                cfg->exit_kind = EXIT_DEBUGEXIT;
        else
                return -EINVAL;
        return 0;
}

static int p_root(struct config *cfg, char *v) {
        if (strncmp(v, "/dev/", 5) != 0)
                return -EINVAL;
        return copy_field(cfg->root, sizeof(cfg->root), v);
}

/* The standard spellings (systemd-network-generator, dracut.cmdline(7),
 * systemd-fstab-generator(8)), in the subset vmsilo-core emits. */

/* Splits s at ':' into at most max fields; a field in [brackets] (an IPv6 address) may
 * contain ':' and loses its brackets. Returns the count, max + 1 if more, -EINVAL for an
 * unclosed bracket. */
static int split_colons(char *s, char **parts, int max) {
        int n = 0;

        for (char *p = s;;) {
                char *end;

                if (n == max)
                        return max + 1;
                if (*p == '[') {
                        end = strchr(p, ']');
                        if (!end || (end[1] != ':' && end[1] != '\0'))
                                return -EINVAL;
                        *end++ = '\0';
                        parts[n++] = p + 1;
                } else {
                        end = strchr(p, ':');
                        parts[n++] = p;
                        if (!end)
                                return n;
                }
                if (*end == '\0')
                        return n;
                *end = '\0';
                p = end + 1;
        }
}

/* A prefix length, or an IPv4 netmask; empty: a host address. */
static int parse_prefix(const char *s, int fam) {
        struct in_addr mask;
        char *end;
        long n;

        if (s[0] == '\0')
                return fam == 4 ? 32 : 128;
        if (fam == 4 && strchr(s, '.')) {
                uint32_t m;

                if (inet_pton(AF_INET, s, &mask) != 1)
                        return -EINVAL;
                m = ntohl(mask.s_addr);
                if (m & (~m >> 1)) /* not contiguous */
                        return -EINVAL;
                return __builtin_popcount(m);
        }
        errno = 0;
        n = strtol(s, &end, 10);
        if (errno || *end || end == s || n < 0 || n > (fam == 4 ? 32 : 128))
                return -EINVAL;
        return (int) n;
}

static int is_any_address(const char *s) {
        return strcmp(s, "0.0.0.0") == 0 || strcmp(s, "::") == 0;
}

static int add_address(struct config *cfg, const char *ifname, const char *addr, int prefix,
                       int fam) {
        struct cfg_ip *it = &cfg->ips[cfg->n_ips];

        if (cfg->n_ips >= CMDLINE_MAX_ITEMS || check_ifname(ifname) < 0)
                return -EINVAL;
        snprintf(it->addr, sizeof(it->addr), "%s/%d", addr, prefix);
        copy_field(it->ifname, sizeof(it->ifname), ifname);
        it->v6 = fam == 6;
        cfg->n_ips++;
        return 0;
}

/* dest: "default" or ADDR/PREFIX; via: "" for an on-link route; ifname may be "". */
static int add_route(struct config *cfg, const char *ifname, const char *dest, const char *via,
                     int fam) {
        struct cfg_route *it = &cfg->routes[cfg->n_routes];

        if (cfg->n_routes >= CMDLINE_MAX_ITEMS || (ifname[0] && check_ifname(ifname) < 0) ||
            (!ifname[0] && !via[0]))
                return -EINVAL;
        memset(it, 0, sizeof(*it));
        snprintf(it->ifname, sizeof(it->ifname), "%s", ifname);
        if (copy_field(it->dest, sizeof(it->dest), dest) < 0)
                return -EINVAL;
        snprintf(it->via, sizeof(it->via), "%s", via);
        it->v6 = fam == 6;
        cfg->n_routes++;
        return 0;
}

static int add_dhcp(struct config *cfg, const char *ifname) {
        if (cfg->n_dhcp >= CMDLINE_MAX_ITEMS || check_ifname(ifname) < 0)
                return -EINVAL;
        return copy_field(cfg->dhcp[cfg->n_dhcp++], sizeof(cfg->dhcp[0]), ifname);
}

static int is_dhcp_kind(const char *s) {
        return strcmp(s, "dhcp") == 0 || strcmp(s, "on") == 0 || strcmp(s, "any") == 0;
}

/* ip=ADDR:[PEER]:[GW]:[NETMASK]:[HOSTNAME]:IFACE:{none|off|dhcp|on|any}[:...] (IPv6 in
 * brackets), or ip=IFACE:{dhcp|on|any}[:...]. */
static int p_std_ip(struct config *cfg, char *v) {
        char *f[10];
        int n = split_colons(v, f, 10), fam, prefix;

        if (n < 0)
                return -EINVAL;
        if (n < 2)
                return -EOPNOTSUPP; /* ip=dhcp: every interface */
        if (n < 7)
                return is_dhcp_kind(f[1]) ? add_dhcp(cfg, f[0]) : -EOPNOTSUPP;
        if (f[0][0] == '\0')
                return is_dhcp_kind(f[6]) ? add_dhcp(cfg, f[5]) : -EINVAL;
        if (strcmp(f[6], "none") != 0 && strcmp(f[6], "off") != 0)
                return -EOPNOTSUPP;
        fam = ip_family(f[0]);
        if (fam < 0 || (f[2][0] && ip_family(f[2]) != fam))
                return -EINVAL;
        prefix = parse_prefix(f[3], fam);
        if (prefix < 0 || add_address(cfg, f[5], f[0], prefix, fam) < 0)
                return -EINVAL;
        if (f[2][0] && !is_any_address(f[2]))
                return add_route(cfg, f[5], "default", f[2], fam);
        return 0;
}

/* rd.route=NET/PREFIX:GATEWAY[:IFACE]; IPv6 as [NET/PREFIX]:[GATEWAY]; a gateway of 0.0.0.0
 * or :: makes an on-link route (systemd-network-generator then writes no Gateway=). */
static int p_std_route(struct config *cfg, char *v) {
        char *f[4], dest[64];
        int nf = split_colons(v, f, 3), n, fam, fam_via;
        char *slash;

        if (nf < 2 || nf > 3)
                return -EINVAL;
        slash = strchr(f[0], '/');
        if (slash)
                *slash = '\0';
        fam = ip_family(f[0]);
        fam_via = f[1][0] ? ip_family(f[1]) : fam;
        if (fam < 0 || fam_via != fam)
                return -EINVAL;
        n = parse_prefix(slash ? slash + 1 : "", fam);
        if (n < 0 || (slash && slash[1] == '\0'))
                return -EINVAL;
        if (n == 0 && is_any_address(f[0]))
                snprintf(dest, sizeof(dest), "default");
        else
                snprintf(dest, sizeof(dest), "%s/%d", f[0], n);
        return add_route(cfg, nf == 3 ? f[2] : "", dest, is_any_address(f[1]) ? "" : f[1], fam);
}

/* ifname=IFNAME:MAC */
static int p_std_ifname(struct config *cfg, char *v) {
        char *colon = strchr(v, ':');

        if (!colon)
                return -EINVAL;
        *colon = ',';
        return p_ifname(cfg, v);
}

/* systemd.mount-extra=WHAT:WHERE[:FSTYPE[:OPTIONS]]: virtiofs only; "ro" among the options
 * makes it read-only. */
static int p_mount_extra(struct config *cfg, char *v) {
        struct cfg_mount *it = &cfg->mounts[cfg->n_mounts];
        char *f[5], *opt, *save = NULL;
        int n = split_colons(v, f, 4);

        if (n < 2 || n > 4 || cfg->n_mounts >= CMDLINE_MAX_ITEMS)
                return -EINVAL;
        if (n < 3 || strcmp(f[2], "virtiofs") != 0)
                return -EOPNOTSUPP;
        if (f[1][0] != '/' || strstr(f[1], "/../") || copy_field(it->tag, 37, f[0]) < 0 ||
            copy_field(it->path, sizeof(it->path), f[1]) < 0)
                return -EINVAL;
        it->ro = 0;
        for (opt = n == 4 ? strtok_r(f[3], ",", &save) : NULL; opt;
             opt = strtok_r(NULL, ",", &save))
                if (strcmp(opt, "ro") == 0)
                        it->ro = 1;
                else if (strcmp(opt, "rw") == 0)
                        it->ro = 0;
        cfg->n_mounts++;
        return 0;
}

static int p_agent_version(struct config *cfg, char *v) {
        if (strcmp(v, "1") == 0)
                cfg->agent_version = 1;
        else if (strcmp(v, "2") == 0)
                cfg->agent_version = 2;
        else
                return -EINVAL;
        return 0;
}

static const struct param params[] = {
        { "systemd.hostname", p_hostname },
        { "ifname", p_std_ifname },
        { "ip", p_std_ip },
        { "rd.route", p_std_route },
        { "nameserver", p_nameserver },
        { "systemd.mount-extra", p_mount_extra },
        /* the private spellings, kept as aliases */
        { "vmsilo.hostname", p_hostname },
        { "vmsilo.ifname", p_ifname },
        { "vmsilo.ip", p_ip },
        { "vmsilo.route", p_route },
        { "vmsilo.dhcp", p_dhcp },
        { "vmsilo.nameserver", p_nameserver },
        { "vmsilo.mount", p_mount },
        { "vmsilo.overlay", p_overlay },
        { "vmsilo.cmd", p_cmd },
        { "vmsilo.nonce", p_nonce },
        { "vmsilo.exit", p_exit },
        { "vmsilo.agent-version", p_agent_version },
        { "root", p_root },
};

static int parse_flag(struct config *cfg, const char *tok) {
        if (strcmp(tok, "vmsilo.debug") == 0)
                cfg->debug = 1;
        else if (strcmp(tok, "vmsilo.console-shell") == 0)
                cfg->console_shell = 1;
        else if (strcmp(tok, "rw") == 0)
                cfg->root_rw = 1;
        else if (strcmp(tok, "ro") == 0)
                cfg->root_rw = 0;
        else
                return 0;
        return 1;
}

static void parse_token(struct config *cfg, const char *tok) {
        const char *eq = strchr(tok, '=');
        char value[VALUE_MAX * 4];
        int r;

        if (parse_flag(cfg, tok))
                return;
        for (size_t i = 0; i < ELEMENTSOF(params); i++) {
                size_t n = strlen(params[i].name);

                if (!eq || (size_t) (eq - tok) != n || strncmp(tok, params[i].name, n) != 0)
                        continue;
                r = strlen(eq + 1) >= sizeof(value) ? -EINVAL
                                                    : params[i].parse(cfg, strcpy(value, eq + 1));
                if (r == -EOPNOTSUPP)
                        log_msg("ignoring unsupported '%s'", tok);
                else if (r < 0)
                        log_msg("ignoring malformed '%s'", tok);
                return;
        }
        if (strncmp(tok, "vmsilo.", 7) == 0)
                log_msg("ignoring unknown '%s'", tok);
}

/* Splits at whitespace outside double quotes and drops the quotes, like the kernel. */
static char *next_token(char **cursor) {
        char *in = *cursor, *out, *tok;
        int quoted = 0;

        while (isspace((unsigned char) *in))
                in++;
        if (!*in)
                return NULL;
        tok = out = in;
        for (; *in && (quoted || !isspace((unsigned char) *in)); in++) {
                if (*in == '"')
                        quoted = !quoted;
                else
                        *out++ = *in;
        }
        *cursor = *in ? in + 1 : in;
        *out = '\0';
        return tok;
}

void config_parse(struct config *cfg, char *buf) {
        char *cursor = buf, *tok;

        while ((tok = next_token(&cursor)))
                parse_token(cfg, tok);
}
