/* The kernel command line contract of vmsilo-init (see docs/guest-protocol.md). */
#ifndef VMSILO_GUEST_CMDLINE_H
#define VMSILO_GUEST_CMDLINE_H

#include <stddef.h>

#define CMDLINE_MAX_ITEMS 64

enum overlay_kind { OVERLAY_NONE, OVERLAY_TMPFS, OVERLAY_RAW };
enum exit_kind { EXIT_POWEROFF, EXIT_DEBUGEXIT };

struct cfg_ifname {
        char ifname[16];
        char mac[18]; /* lowercase aa:bb:cc:dd:ee:ff */
};

struct cfg_ip {
        char ifname[16];
        char addr[64]; /* ADDR/PREFIX */
        int v6;
};

struct cfg_route {
        char ifname[16];
        char dest[64]; /* DEST/PREFIX or "default" */
        char via[48];  /* may be empty: on-link route */
        int v6;
};

struct cfg_mount {
        char tag[64];
        char path[256];
        int ro;
};

struct config {
        int debug;
        int console_shell;
        char hostname[65];
        struct cfg_ifname ifnames[CMDLINE_MAX_ITEMS];
        size_t n_ifnames;
        struct cfg_ip ips[CMDLINE_MAX_ITEMS];
        size_t n_ips;
        struct cfg_route routes[CMDLINE_MAX_ITEMS];
        size_t n_routes;
        char dhcp[CMDLINE_MAX_ITEMS][16];
        size_t n_dhcp;
        char nameservers[CMDLINE_MAX_ITEMS][48];
        size_t n_nameservers;
        struct cfg_mount mounts[CMDLINE_MAX_ITEMS];
        size_t n_mounts;
        char root[128]; /* root=, "" when absent */
        int root_rw;    /* "rw" on the command line */
        int overlay;
        char overlay_serial[64];
        char *cmd; /* decoded vmsilo.cmd (malloc), or NULL */
        char nonce[128];
        int exit_kind;
        int agent_version; /* vmsilo.agent-version: highest protocol the agent offers, 0 = all */
};

/* Parses a /proc/cmdline string in place (buf is modified).
 * Malformed vmsilo.* parameters are reported on stderr and skipped. */
void config_parse(struct config *cfg, char *buf);

#endif
