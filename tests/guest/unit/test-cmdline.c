/* SPDX-License-Identifier: MIT */
/* guest/cmdline.c: the kernel command line contract of vmsilo-init (docs/guest-protocol.md). */
#include "cmdline.h"
#include "guest-testutil.h"

static struct config cfg;

/* Parses a copy of line into cfg (fresh); returns what was logged (malloc()ed). */
static char *parse(const char *line) {
        char *copy = strdup(line);
        int saved;

        REQUIRE(copy);
        free(cfg.cmd);
        memset(&cfg, 0, sizeof(cfg));
        saved = stderr_capture_start();
        config_parse(&cfg, copy);
        free(copy);
        return stderr_capture_end(saved);
}

static void test_cmdline_quotes_and_kernel_params(void) {
        char *log = parse("console=ttyS0 quiet panic=-1 vmsilo.hostname=\"my-vm\" ro "
                          "root=/dev/vda vmsilo.debug");

        ASSERT_STREQ(log, "");
        ASSERT_STREQ(cfg.hostname, "my-vm");
        ASSERT_STREQ(cfg.root, "/dev/vda");
        ASSERT_INT_EQ(cfg.root_rw, 0);
        ASSERT_INT_EQ(cfg.debug, 1);
        free(log);
        log = parse("root=/dev/vdb rw");
        ASSERT_INT_EQ(cfg.root_rw, 1);
        free(log);
}

static void test_cmdline_network_items(void) {
        char *log = parse("vmsilo.ifname=lan0,52:54:00:AB:cd:EF vmsilo.ip=lan0,10.0.2.15/24 "
                          "vmsilo.ip=lan0,fd00::15/64 vmsilo.route=lan0,default,10.0.2.2 "
                          "vmsilo.route=lan0,fd01::/64,fd00::1 vmsilo.route=lan0,10.9.0.0/16 "
                          "vmsilo.dhcp=eth1 vmsilo.nameserver=10.0.2.3");

        ASSERT_STREQ(log, "");
        ASSERT_INT_EQ(cfg.n_ifnames, 1);
        ASSERT_STREQ(cfg.ifnames[0].mac, "52:54:00:ab:cd:ef");
        ASSERT_INT_EQ(cfg.n_ips, 2);
        ASSERT_INT_EQ(cfg.ips[1].v6, 1);
        ASSERT_INT_EQ(cfg.n_routes, 3);
        ASSERT_STREQ(cfg.routes[0].dest, "default");
        ASSERT_STREQ(cfg.routes[0].via, "10.0.2.2");
        ASSERT_INT_EQ(cfg.routes[1].v6, 1);
        ASSERT_STREQ(cfg.routes[2].via, ""); /* on-link */
        ASSERT_INT_EQ(cfg.n_dhcp, 1);
        ASSERT_STREQ(cfg.nameservers[0], "10.0.2.3");
        free(log);
}

static void test_cmdline_malformed_and_unknown_are_reported(void) {
        char *log = parse("vmsilo.ip=bogus vmsilo.route=lan0,10.0.0.0/8,fd00::1 "
                          "vmsilo.hostname=bad_name vmsilo.frobnicate=1 vmsilo.agent-version=3 "
                          "unrelated=1");

        ASSERT_STREQ(log, "vmsilo-init: ignoring malformed 'vmsilo.ip=bogus'\n"
                          "vmsilo-init: ignoring malformed 'vmsilo.route=lan0,10.0.0.0/8,fd00::1'\n"
                          "vmsilo-init: ignoring malformed 'vmsilo.hostname=bad_name'\n"
                          "vmsilo-init: ignoring unknown 'vmsilo.frobnicate=1'\n"
                          "vmsilo-init: ignoring malformed 'vmsilo.agent-version=3'\n");
        ASSERT_INT_EQ(cfg.n_ips, 0);
        ASSERT_INT_EQ(cfg.n_routes, 0);
        ASSERT_STREQ(cfg.hostname, "");
        ASSERT_INT_EQ(cfg.agent_version, 0);
        free(log);
}

static void test_cmdline_cmd_mounts_overlay_exit(void) {
        char *log = parse("vmsilo.cmd=echo%20%22hi%22%3B%20exit%2042 vmsilo.nonce=n0nce "
                          "vmsilo.mount=share,/mnt/share,ro vmsilo.mount=home,/home "
                          "vmsilo.overlay=raw,eph vmsilo.exit=debugexit vmsilo.agent-version=1");

        ASSERT_STREQ(log, "");
        ASSERT_STREQ(cfg.cmd, "echo \"hi\"; exit 42");
        ASSERT_STREQ(cfg.nonce, "n0nce");
        ASSERT_INT_EQ(cfg.n_mounts, 2);
        ASSERT_INT_EQ(cfg.mounts[0].ro, 1);
        ASSERT_INT_EQ(cfg.mounts[1].ro, 0);
        ASSERT_INT_EQ(cfg.overlay, OVERLAY_RAW);
        ASSERT_STREQ(cfg.overlay_serial, "eph");
        ASSERT_INT_EQ(cfg.exit_kind, EXIT_DEBUGEXIT);
        ASSERT_INT_EQ(cfg.agent_version, 1);
        free(log);
        log = parse("vmsilo.cmd=a%00b vmsilo.mount=share,relative");
        CU_ASSERT_PTR_NULL(cfg.cmd); /* %00 is refused */
        ASSERT_INT_EQ(cfg.n_mounts, 0);
        free(log);
}

static void test_cmdline_keeps_64_items(void) {
        char line[8192] = "";
        char *log;

        for (int i = 0; i < 70; i++) {
                char item[64];

                snprintf(item, sizeof(item), "vmsilo.dhcp=eth%d ", i);
                strcat(line, item);
        }
        log = parse(line);
        ASSERT_INT_EQ(cfg.n_dhcp, CMDLINE_MAX_ITEMS);
        ASSERT_STREQ(cfg.dhcp[63], "eth63");
        free(log);
        free(cfg.cmd);
}

/* The standard spellings that vmsilo-core writes (ip=, rd.route=, ifname=, nameserver=,
 * systemd.hostname=, systemd.mount-extra=), their vmsilo.* aliases, and what is refused. */
static void parse_std(const char *line) {
        free(parse(line));
}

static void test_cmdline_std_hostname_and_mounts(void) {
        parse_std(
                "console=ttyS0 systemd.hostname=web-1 systemd.mount-extra=data:/mnt/data:virtiofs "
                "\"systemd.mount-extra=docs:/srv/docs:virtiofs:ro,nofail\" "
                "systemd.mount-extra=/dev/vdb:/var:ext4 vmsilo.mount=home,/home/user,ro");
        CU_ASSERT_STRING_EQUAL(cfg.hostname, "web-1");
        CU_ASSERT_EQUAL_FATAL(cfg.n_mounts, 3); /* ext4 is not ours */
        CU_ASSERT_STRING_EQUAL(cfg.mounts[0].tag, "data");
        CU_ASSERT_STRING_EQUAL(cfg.mounts[0].path, "/mnt/data");
        CU_ASSERT_EQUAL(cfg.mounts[0].ro, 0);
        CU_ASSERT_STRING_EQUAL(cfg.mounts[1].path, "/srv/docs");
        CU_ASSERT_EQUAL(cfg.mounts[1].ro, 1);
        CU_ASSERT_STRING_EQUAL(cfg.mounts[2].tag, "home");
        CU_ASSERT_EQUAL(cfg.mounts[2].ro, 1);
}

static void test_cmdline_std_network(void) {
        parse_std("ifname=lan0:52:54:00:AB:cd:EF ip=10.0.0.2:::24::lan0:none "
                  "ip=[fd00::2]:::64::lan0:none ip=10.1.0.2::10.1.0.1:255.255.0.0::wan0:off "
                  "rd.route=10.97.0.0/16:10.0.0.1:lan0 rd.route=192.168.7.0/24:0.0.0.0:lan0 "
                  "rd.route=[fd01::/32]:[fd00::1]:lan0 rd.route=[::/0]:[fe80::1]:lan0 "
                  "rd.route=0.0.0.0/0:10.0.0.1 ip=dhcp0:dhcp nameserver=10.0.0.53 "
                  "vmsilo.ip=old0,10.9.0.2/24");
        CU_ASSERT_EQUAL_FATAL(cfg.n_ifnames, 1);
        CU_ASSERT_STRING_EQUAL(cfg.ifnames[0].ifname, "lan0");
        CU_ASSERT_STRING_EQUAL(cfg.ifnames[0].mac, "52:54:00:ab:cd:ef");
        CU_ASSERT_EQUAL_FATAL(cfg.n_ips, 4);
        CU_ASSERT_STRING_EQUAL(cfg.ips[0].addr, "10.0.0.2/24");
        CU_ASSERT_STRING_EQUAL(cfg.ips[1].addr, "fd00::2/64");
        CU_ASSERT_EQUAL(cfg.ips[1].v6, 1);
        CU_ASSERT_STRING_EQUAL(cfg.ips[2].addr, "10.1.0.2/16");
        CU_ASSERT_STRING_EQUAL(cfg.ips[2].ifname, "wan0");
        CU_ASSERT_STRING_EQUAL(cfg.ips[3].ifname, "old0");
        CU_ASSERT_EQUAL_FATAL(cfg.n_routes, 6);
        /* the ip= gateway: a default route */
        CU_ASSERT_STRING_EQUAL(cfg.routes[0].dest, "default");
        CU_ASSERT_STRING_EQUAL(cfg.routes[0].via, "10.1.0.1");
        CU_ASSERT_STRING_EQUAL(cfg.routes[0].ifname, "wan0");
        CU_ASSERT_STRING_EQUAL(cfg.routes[1].dest, "10.97.0.0/16");
        CU_ASSERT_STRING_EQUAL(cfg.routes[1].via, "10.0.0.1");
        CU_ASSERT_STRING_EQUAL(cfg.routes[2].dest, "192.168.7.0/24");
        CU_ASSERT_STRING_EQUAL(cfg.routes[2].via, ""); /* on-link */
        CU_ASSERT_STRING_EQUAL(cfg.routes[3].dest, "fd01::/32");
        CU_ASSERT_EQUAL(cfg.routes[3].v6, 1);
        CU_ASSERT_STRING_EQUAL(cfg.routes[4].dest, "default");
        CU_ASSERT_STRING_EQUAL(cfg.routes[4].via, "fe80::1");
        CU_ASSERT_STRING_EQUAL(cfg.routes[5].ifname, ""); /* no interface: no dev */
        CU_ASSERT_EQUAL_FATAL(cfg.n_dhcp, 1);
        CU_ASSERT_STRING_EQUAL(cfg.dhcp[0], "dhcp0");
        CU_ASSERT_EQUAL_FATAL(cfg.n_nameservers, 1);
        CU_ASSERT_STRING_EQUAL(cfg.nameservers[0], "10.0.0.53");
}

static void test_cmdline_std_refused(void) {
        parse_std("ip=10.0.0.2:::33::lan0:none ip=10.0.0.2:::255.0.255.0::lan0:none "
                  "ip=[fd00::2:::64::lan0:none ip=10.0.0.2:::24::lan0:dhcp6 ip=dhcp "
                  "ip=10.0.0.2::fd00::1:24::lan0:none rd.route=10.0.0.0/8:fd00::1:lan0 "
                  "rd.route=10.0.0.0/8:0.0.0.0 ifname=lan0 ifname=lan0:52:54 "
                  "systemd.mount-extra=data:relative:virtiofs systemd.hostname=a_b");
        CU_ASSERT_EQUAL(cfg.n_ips, 0);
        CU_ASSERT_EQUAL(cfg.n_routes, 0);
        CU_ASSERT_EQUAL(cfg.n_ifnames, 0);
        CU_ASSERT_EQUAL(cfg.n_mounts, 0);
        CU_ASSERT_STRING_EQUAL(cfg.hostname, "");
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_cmdline_quotes_and_kernel_params),
                TEST(test_cmdline_network_items),
                TEST(test_cmdline_malformed_and_unknown_are_reported),
                TEST(test_cmdline_cmd_mounts_overlay_exit),
                TEST(test_cmdline_keeps_64_items),
                TEST(test_cmdline_std_hostname_and_mounts),
                TEST(test_cmdline_std_network),
                TEST(test_cmdline_std_refused),
        };

        return RUN_SUITE("cmdline", tests);
}
