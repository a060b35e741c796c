/* Network configuration from ifname=, ip=, rd.route= (and their vmsilo.* aliases), with
 * busybox ip and udhcpc from the initramfs (PID 1 keeps the initramfs as its root, so they
 * are always there). */
#include "setup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

#define IP "/bin/ip"
#define UDHCPC "/bin/udhcpc"
#define UDHCPC_SCRIPT "/etc/vmsilo/udhcpc.script"

static int run_ip(char *const argv[], const char *what, const char *ifname) {
        int r = run_wait(argv, 0);

        if (r < 0) {
                log_msg("failed to %s on '%s': %s", what, ifname, strerror(-r));
                return r;
        }
        if (r > 0) {
                log_msg("failed to %s on '%s': 'ip' exited with status %d", what, ifname, r);
                return -EIO;
        }
        return 0;
}

static int link_up(const char *ifname) {
        char *argv[] = { IP, "link", "set", "dev", (char *) ifname, "up", NULL };

        return run_ip(argv, "bring up the interface", ifname);
}

/* Finds the interface whose MAC is mac; returns 0 and its name, or -ENODEV. */
static int find_by_mac(const char *mac, char *ret, size_t size) {
        DIR *d = opendir("/sys/class/net");
        struct dirent *de;
        int r = -ENODEV;

        if (!d)
                return -errno;
        while (r < 0 && (de = readdir(d))) {
                char path[512], addr[64];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
                if (read_small_file(path, addr, sizeof(addr)) < 0 || strcasecmp(addr, mac) != 0)
                        continue;
                snprintf(ret, size, "%s", de->d_name);
                r = 0;
        }
        closedir(d);
        return r;
}

static int rename_links(const struct config *cfg) {
        int r = 0;

        for (size_t i = 0; i < cfg->n_ifnames; i++) {
                const struct cfg_ifname *it = &cfg->ifnames[i];
                char cur[256];
                char *argv[] = { IP, "link", "set", "dev", cur, "name", (char *) it->ifname, NULL };

                if (find_by_mac(it->mac, cur, sizeof(cur)) < 0) {
                        log_msg("no interface with MAC '%s' to name '%s'", it->mac, it->ifname);
                        r = -ENODEV;
                        continue;
                }
                if (strcmp(cur, it->ifname) == 0)
                        continue;
                log_dbg("renaming '%s' to '%s'", cur, it->ifname);
                if (run_ip(argv, "rename the interface", cur) < 0)
                        r = -EIO;
        }
        return r;
}

static int add_addresses(const struct config *cfg) {
        int r = 0;

        for (size_t i = 0; i < cfg->n_ips; i++) {
                const struct cfg_ip *it = &cfg->ips[i];
                char *argv[] = { IP,  "addr", "add", (char *) it->addr, "dev", (char *) it->ifname,
                                 NULL };
                char path[256];

                if (it->v6) {
                        /* a VM's address is its own: skip duplicate address detection */
                        snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad",
                                 it->ifname);
                        (void) write_file(path, "0\n", O_TRUNC);
                }
                if (link_up(it->ifname) < 0 || run_ip(argv, "add an address", it->ifname) < 0)
                        r = -EIO;
                else
                        log_dbg("address '%s' on '%s'", it->addr, it->ifname);
        }
        return r;
}

static int add_routes(const struct config *cfg) {
        int r = 0;

        for (size_t i = 0; i < cfg->n_routes; i++) {
                const struct cfg_route *it = &cfg->routes[i];
                char *argv[10] = { IP, it->v6 ? "-6" : "-4", "route", "add", (char *) it->dest };
                int n = 5;

                if (it->via[0]) {
                        argv[n++] = "via";
                        argv[n++] = (char *) it->via;
                }
                if (it->ifname[0]) {
                        argv[n++] = "dev";
                        argv[n++] = (char *) it->ifname;
                }
                argv[n] = NULL;
                if ((it->ifname[0] && link_up(it->ifname) < 0) ||
                    run_ip(argv, "add a route", it->ifname[0] ? it->ifname : it->dest) < 0)
                        r = -EIO;
        }
        return r;
}

static int start_dhcp(const struct config *cfg, const char *root) {
        char resolv[4096];
        int r = 0;

        if (cfg->n_dhcp == 0)
                return 0;
        if (path_join(resolv, sizeof(resolv), root, "/etc/resolv.conf") == 0)
                setenv("VMSILO_RESOLV_CONF", resolv, 1);
        for (size_t i = 0; i < cfg->n_dhcp; i++) {
                char *argv[] = { UDHCPC, "-i", (char *) cfg->dhcp[i], "-q", "-n", "-t",
                                 "5",    "-s", UDHCPC_SCRIPT,         NULL };

                if (link_up(cfg->dhcp[i]) < 0 || run_background(argv) < 0)
                        r = -EIO;
                else
                        log_dbg("dhcp started on '%s'", cfg->dhcp[i]);
        }
        unsetenv("VMSILO_RESOLV_CONF");
        return r;
}

int setup_network(const struct config *cfg, const char *root) {
        int r = 0;

        if (link_up("lo") < 0)
                r = -EIO;
        if (rename_links(cfg) < 0)
                r = -EIO;
        if (add_addresses(cfg) < 0)
                r = -EIO;
        if (add_routes(cfg) < 0)
                r = -EIO;
        if (start_dhcp(cfg, root) < 0)
                r = -EIO;
        return r;
}
