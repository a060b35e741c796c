/* vmsilo-init's kernel command line parser (guest/cmdline.c): the standard spellings that
 * vmsilo-core writes, their vmsilo.* aliases, and what is refused. */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

static struct config cfg;

static void parse(const char *cmdline) {
        char *buf = strdup(cmdline);

        free(cfg.cmd);
        memset(&cfg, 0, sizeof(cfg));
        config_parse(&cfg, buf);
        free(buf);
}

static void test_cmdline_hostname_and_mounts(void) {
        parse("console=ttyS0 systemd.hostname=web-1 systemd.mount-extra=data:/mnt/data:virtiofs "
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

static void test_cmdline_network(void) {
        parse("ifname=lan0:52:54:00:AB:cd:EF ip=10.0.0.2:::24::lan0:none "
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

static void test_cmdline_refused(void) {
        parse("ip=10.0.0.2:::33::lan0:none ip=10.0.0.2:::255.0.255.0::lan0:none "
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
        CU_pSuite s;
        unsigned failed;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("guest-cmdline", NULL, NULL);
        CU_add_test(s, "test_cmdline_hostname_and_mounts", test_cmdline_hostname_and_mounts);
        CU_add_test(s, "test_cmdline_network", test_cmdline_network);
        CU_add_test(s, "test_cmdline_refused", test_cmdline_refused);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failed = CU_get_number_of_failures();
        CU_cleanup_registry();
        free(cfg.cmd);
        return failed ? 1 : 0;
}
