/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the net plugin against the mock host: values and their error messages, the
 * derived names and MACs, the devices and kernel parameters, the checks across keys. As root,
 * the last tests create real taps in a private network namespace (and a private sysfs).
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "mock-host.h"
#include "net.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;
#define P vmsilo_plugin_v1

static struct mock_host m;
static void *state;

/* as crosvm answers: it opens a tap by its name */
static const char *const crosvm_caps[] = { "net tap name", NULL };

static void setup(const char *vm) {
        mock_host_init(&m);
        m.vm_name = vm;
        m.vmm_caps = crosvm_caps;
        m.uid = 1000;
        m.gid = 1000;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &P, &state), 0);
}

static void teardown(void) {
        P.teardown(state);
        state = NULL;
        mock_host_done(&m);
}

static int conf(const char *instance, const char *key, const char *value) {
        return mock_host_configure(&m, &P, state, instance, key, value);
}

/* The last log line is exactly `text`. */
static int last_log_is(const char *text) {
        if (m.n_logs == 0 || !m.logs[m.n_logs - 1])
                return 0;
        if (strcmp(m.logs[m.n_logs - 1], text) != 0) {
                fprintf(stderr, "\n  got:  %s\n  want: %s\n", m.logs[m.n_logs - 1], text);
                return 0;
        }
        return 1;
}

static int params_are(const char *want) {
        char *got = mock_host_join(m.kernel_params, m.n_kernel_params);
        int ok = got && strcmp(got, want) == 0;

        if (!ok)
                fprintf(stderr, "\n  got:  %s\n  want: %s\n", got ? got : "(null)", want);
        free(got);
        return ok;
}

static void test_net_mac_generation(void) {
        const char *vms[] = { "web", "browser", "banking", "a", "a-very-long-vm-name-of-32-chars" };
        const char *ifs[] = { "eth0", "eth1", "wan", "lan0" };
        uint8_t a[6], b[6], seen[20][6];
        char text[18];
        int k = 0;

        /* pinned: a MAC must not change between versions (DHCP leases, firewall rules) */
        net_mac_generate("web", "eth0", a);
        net_mac_format(a, text);
        CU_ASSERT_STRING_EQUAL(text, "2a:66:60:f0:04:02");
        for (size_t i = 0; i < 5; i++)
                for (size_t j = 0; j < 4; j++) {
                        net_mac_generate(vms[i], ifs[j], a);
                        net_mac_generate(vms[i], ifs[j], b);
                        CU_ASSERT_EQUAL(memcmp(a, b, 6), 0); /* deterministic */
                        CU_ASSERT_EQUAL(a[0] & 0x02, 0x02);  /* locally administered */
                        CU_ASSERT_EQUAL(a[0] & 0x01, 0);     /* unicast */
                        for (int s = 0; s < k; s++)
                                CU_ASSERT_NOT_EQUAL(memcmp(seen[s], a, 6), 0);
                        memcpy(seen[k++], a, 6);
                }
        /* "ab"+"c" and "a"+"bc" hash differently (the VM name is terminated) */
        net_mac_generate("ab", "c", a);
        net_mac_generate("a", "bc", b);
        CU_ASSERT_NOT_EQUAL(memcmp(a, b, 6), 0);
        for (int i = 0; i < 2000; i++) {
                char name[16];

                snprintf(name, sizeof(name), "vm%d", i);
                net_mac_generate(name, "eth0", a);
                CU_ASSERT_EQUAL(a[0] & 0x03, 0x02);
        }
}

static void test_net_tap_name_derivation(void) {
        const char *long1 = "an-extremely-long-vm-name-abcdef"; /* 32, the longest VM name */
        const char *long2 = "an-extremely-long-vm-name-abcdeg";
        char a[IFNAMSIZ], b[IFNAMSIZ], seen[NET_MAX_IFACES][IFNAMSIZ];

        CU_ASSERT_EQUAL(net_tap_derive("web", 0, a), 0);
        CU_ASSERT_STRING_EQUAL(a, "web-0");
        CU_ASSERT_EQUAL(net_tap_derive("web", 15, a), 0);
        CU_ASSERT_STRING_EQUAL(a, "web-15");
        /* exactly 15 characters: kept whole */
        CU_ASSERT_EQUAL(net_tap_derive("thirteen-char", 0, a), 0);
        CU_ASSERT_STRING_EQUAL(a, "thirteen-char-0");
        /* one more: head, hash of the whole name, index */
        CU_ASSERT_EQUAL(net_tap_derive("thirteen-chars", 0, a), 0);
        CU_ASSERT_EQUAL(strlen(a), 15);
        CU_ASSERT_EQUAL(strncmp(a, "thirteen-", 9), 0);
        CU_ASSERT_EQUAL(net_tap_derive(long1, 3, a), 0);
        CU_ASSERT_STRING_EQUAL(a, "an-extre-c7ed-3"); /* pinned */
        CU_ASSERT_EQUAL(net_tap_derive(long1, 12, a), 0);
        CU_ASSERT(strlen(a) <= 15);
        CU_ASSERT_EQUAL(strncmp(a + strlen(a) - 3, "-12", 3), 0);
        /* long names that share their start still differ */
        CU_ASSERT_EQUAL(net_tap_derive(long2, 3, b), 0);
        CU_ASSERT_STRING_NOT_EQUAL(a, b);
        CU_ASSERT_EQUAL(net_tap_derive(long1, 3, a), 0);
        CU_ASSERT_STRING_NOT_EQUAL(a, b);
        /* unique per index, all valid interface names */
        for (unsigned i = 0; i < NET_MAX_IFACES; i++) {
                CU_ASSERT_EQUAL(net_tap_derive(long1, i, seen[i]), 0);
                CU_ASSERT(strlen(seen[i]) <= 15);
                CU_ASSERT(net_ifname_valid(seen[i]));
                for (unsigned j = 0; j < i; j++)
                        CU_ASSERT_STRING_NOT_EQUAL(seen[i], seen[j]);
        }
}

static void check_address(const char *value, const char *why) {
        char want[512];

        CU_ASSERT_EQUAL(conf("eth0", "address", value), -EINVAL);
        snprintf(want, sizeof(want), "invalid value '%s' for 'address' in [net eth0]: %s", value,
                 why);
        CU_ASSERT(last_log_is(want));
}

static void test_net_parse_addresses(void) {
        const char *syntax =
                "expected an IPv4 or IPv6 address with a prefix length, such as 10.0.0.2/24 or fd00::2/64";

        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.0.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", "FD00:0:0::2/64"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.0.0.2/24"), 0); /* kept once */
        check_address("10.0.0.2", syntax);
        check_address("10.0.0.2/33", syntax);
        check_address("10.0.0.2/024", syntax);
        check_address("10.0.0.2/-1", syntax);
        check_address("10.0.0/24", syntax);
        check_address("fd00::2/129", syntax);
        check_address("fe80::1%eth0/64", syntax);
        check_address("host.example/24", syntax);
        check_address("0.0.0.0/8",
                      "expected a unicast address, not an unspecified, multicast or reserved one");
        check_address("224.0.0.1/4",
                      "expected a unicast address, not an unspecified, multicast or reserved one");
        check_address("ff02::1/64",
                      "expected a unicast address, not an unspecified, multicast or reserved one");
        check_address("10.0.0.2/0", "expected a prefix length from 1 to 32");
        check_address("fd00::2/0", "expected a prefix length from 1 to 128");
        CU_ASSERT_EQUAL(conf("eth0", "host-address", "10.0.0.1"), -EINVAL);
        CU_ASSERT(last_log_is(
                "invalid value '10.0.0.1' for 'host-address' in [net eth0]: expected an IPv4 or IPv6 address with a prefix length, such as 10.0.0.2/24 or fd00::2/64"));
        m.dry_run = 1;
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT(params_are("ifname=eth0:2a:66:60:f0:04:02 ip=10.0.0.2:::24::eth0:none "
                             "ip=[fd00::2]:::64::eth0:none"));
        teardown();
}

static void check_route(const char *value, const char *why) {
        char want[512];

        CU_ASSERT_EQUAL(conf("eth0", "route", value), -EINVAL);
        snprintf(want, sizeof(want), "invalid value '%s' for 'route' in [net eth0]: %s", value,
                 why);
        CU_ASSERT(last_log_is(want));
}

static void test_net_parse_routes(void) {
        const char *syntax =
                "expected DEST/PREFIX, an address or 'default', optionally followed by 'via GATEWAY', such as '10.1.0.0/16 via 10.0.0.1'";

        setup("web");
        check_route("via 10.0.0.1", syntax);
        check_route("10.1.0.0/16 10.0.0.1", syntax);
        check_route("10.1.0.0/16 via", syntax);
        check_route("10.1.0.0/16 dev 10.0.0.1", syntax);
        check_route("10.1.0.0/16 via 10.0.0.1 metric", syntax);
        check_route("default", "a default route needs 'via GATEWAY'");
        check_route("10.1.0.0/16 via gateway", "gateway 'gateway' is not an IPv4 or IPv6 address");
        check_route("10.1.0.0/16 via 10.0.0.1/24",
                    "gateway '10.0.0.1/24' is not an IPv4 or IPv6 address");
        check_route("10.1.0.0/16 via 0.0.0.0", "gateway '0.0.0.0' is not a unicast address");
        check_route("10.1.0.0/16 via ff02::1", "gateway 'ff02::1' is not a unicast address");
        check_route("10.1.0.0/16 via fd00::1",
                    "destination '10.1.0.0/16' is IPv4 but gateway 'fd00::1' is IPv6");
        check_route("10.1.2.3/16 via 10.0.0.1",
                    "destination '10.1.2.3/16' has host bits set: expected '10.1.0.0/16'");
        check_route("fd00:1::1/48",
                    "destination 'fd00:1::1/48' has host bits set: expected 'fd00:1::/48'");
        check_route(
                "10.1/16 via 10.0.0.1",
                "destination '10.1/16' is not a network such as 10.1.0.0/16 or fd00:1::/48, an address or 'default'");
        teardown();
}

/* Every route form reaches the guest as rd.route=DEST/PREFIX:VIA:IF (IPv6 in brackets; a
 * default route is 0.0.0.0/0 or ::/0; an on-link one has the gateway 0.0.0.0 or ::). */
static void test_net_route_params(void) {
        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.0.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", "fd00::2/64"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "default via 10.0.0.1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "10.1.0.0/16 via 10.0.0.1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "192.168.7.0/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "192.168.9.9  via\t192.168.7.1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "default via fe80::1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "fd01:0::/32 via fd00::1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "fd01::/32 via fd00::1"), 0); /* the same: once */
        CU_ASSERT_EQUAL(conf("eth0", "mac", "02:00:00:00:00:01"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT(params_are("ifname=eth0:02:00:00:00:00:01 ip=10.0.0.2:::24::eth0:none "
                             "ip=[fd00::2]:::64::eth0:none rd.route=0.0.0.0/0:10.0.0.1:eth0 "
                             "rd.route=10.1.0.0/16:10.0.0.1:eth0 "
                             "rd.route=192.168.7.0/24:0.0.0.0:eth0 "
                             "rd.route=192.168.9.9/32:192.168.7.1:eth0 "
                             "rd.route=[::/0]:[fe80::1]:eth0 "
                             "rd.route=[fd01::/32]:[fd00::1]:eth0"));
        teardown();
}

static void check_value(const char *instance, const char *key, const char *value,
                        const char *want) {
        CU_ASSERT_EQUAL(conf(instance, key, value), -EINVAL);
        CU_ASSERT(last_log_is(want));
}

static void test_net_parse_other_keys(void) {
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "mac", "02:AB:cd:00:00:01"), 0);
        check_value(
                "eth0", "mac", "02:ab:cd:00:00",
                "invalid value '02:ab:cd:00:00' for 'mac' in [net eth0]: expected six two-digit hex octets separated by ':', such as 02:00:00:00:00:01");
        check_value(
                "eth0", "mac", "2:ab:cd:00:00:01",
                "invalid value '2:ab:cd:00:00:01' for 'mac' in [net eth0]: expected six two-digit hex octets separated by ':', such as 02:00:00:00:00:01");
        check_value(
                "eth0", "mac", "02-ab-cd-00-00-01",
                "invalid value '02-ab-cd-00-00-01' for 'mac' in [net eth0]: expected six two-digit hex octets separated by ':', such as 02:00:00:00:00:01");
        check_value(
                "eth0", "mac", "03:00:00:00:00:01",
                "invalid value '03:00:00:00:00:01' for 'mac' in [net eth0]: a multicast MAC (lowest bit of the first octet set) cannot be an interface's address");
        check_value(
                "eth0", "mac", "00:00:00:00:00:00",
                "invalid value '00:00:00:00:00:00' for 'mac' in [net eth0]: the all-zero MAC cannot be an interface's address");
        CU_ASSERT_EQUAL(conf("eth0", "tap", "vm-web_0.a"), 0);
        check_value(
                "eth0", "tap", "sixteen-chars-xx",
                "invalid value 'sixteen-chars-xx' for 'tap' in [net eth0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        check_value(
                "eth0", "tap", "tap%d",
                "invalid value 'tap%d' for 'tap' in [net eth0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        check_value(
                "eth0", "tap", "a,b",
                "invalid value 'a,b' for 'tap' in [net eth0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        check_value(
                "eth0", "tap", "..",
                "invalid value '..' for 'tap' in [net eth0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        check_value(
                "eth0", "bridge", "br 0",
                "invalid value 'br 0' for 'bridge' in [net eth0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "Yes"), 0);
        check_value("eth0", "dhcp", "maybe",
                    "invalid value 'maybe' for 'dhcp' in [net eth0]: expected yes or no");
        CU_ASSERT_EQUAL(conf("eth0", "nameserver", "fd00::53"), 0);
        check_value(
                "eth0", "nameserver", "10.0.0.53/32",
                "invalid value '10.0.0.53/32' for 'nameserver' in [net eth0]: expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1");
        check_value(
                NULL, "nameserver", "dns.example",
                "invalid value 'dns.example' for 'nameserver' in [net]: expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1");
        check_value(
                NULL, "nameserver", "0.0.0.0",
                "invalid value '0.0.0.0' for 'nameserver' in [net]: expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1");
        check_value(NULL, "address", "10.0.0.2/24",
                    "'address' belongs in a named section [net NAME], not in [net]");
        CU_ASSERT_EQUAL(conf(NULL, "colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(conf("eth0", "colour", "red"), -ENOENT);
        check_value(
                "eth/0", "dhcp", "yes",
                "invalid interface name 'eth/0' in [net eth/0]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        check_value(
                "an-interface-name", "dhcp", "yes",
                "invalid interface name 'an-interface-name' in [net an-interface-name]: expected 1 to 15 letters, digits, '-', '_' or '.'");
        teardown();
}

/* An empty value resets a list key, and restores a scalar key's default. */
static void test_net_reset_values(void) {
        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf(NULL, "nameserver", "10.0.0.53"), 0);
        CU_ASSERT_EQUAL(conf(NULL, "nameserver", ""), 0);
        CU_ASSERT_EQUAL(conf(NULL, "nameserver", "10.0.0.54"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.0.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.0.1.2/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", "10.9.0.0/16 via 10.0.1.1"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "route", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "host-address", "10.0.1.1/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "host-address", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "nameserver", "10.0.0.55"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "nameserver", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "mac", "02:00:00:00:00:07"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "mac", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "tap", "mytap"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "tap", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", ""), 0);
        CU_ASSERT_EQUAL(conf("eth0", "bridge", "br0"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "bridge", ""), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_steps, 1);
        CU_ASSERT_STRING_EQUAL(m.steps[0],
                               "create tap 'web-0' for [net eth0] owned by uid 1000 gid 1000");
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT(params_are("ifname=eth0:2a:66:60:f0:04:02 ip=10.0.1.2:::24::eth0:none "
                             "nameserver=10.0.0.54"));
        teardown();
}

/* Interfaces in name order: PCI slots from 00:10.0, tap names by index; the tap by name for
 * crosvm. The plan lists every host change and registers every undo. */
static void test_net_devices_sorted_crosvm(void) {
        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("wan0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(conf("lan0", "address", "10.99.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("lan0", "host-address", "10.99.0.1/24"), 0);
        CU_ASSERT_EQUAL(conf("lan0", "host-address", "fd00:99::1/64"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "tap", "mytap"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "mac", "02:00:00:00:00:01"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "bridge", "br0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_steps, 6);
        if (m.n_steps == 6) {
                CU_ASSERT_STRING_EQUAL(
                        m.steps[0], "create tap 'mytap' for [net eth1] owned by uid 1000 gid 1000");
                CU_ASSERT_STRING_EQUAL(m.steps[1], "add tap 'mytap' to bridge 'br0'");
                CU_ASSERT_STRING_EQUAL(
                        m.steps[2], "create tap 'web-1' for [net lan0] owned by uid 1000 gid 1000");
                CU_ASSERT_STRING_EQUAL(m.steps[3], "add address 10.99.0.1/24 to tap 'web-1'");
                CU_ASSERT_STRING_EQUAL(m.steps[4], "add address fd00:99::1/64 to tap 'web-1'");
                CU_ASSERT_STRING_EQUAL(
                        m.steps[5], "create tap 'web-2' for [net wan0] owned by uid 1000 gid 1000");
        }
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 3);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "deltap mytap");
        CU_ASSERT_STRING_EQUAL(m.undos[1], "deltap web-1");
        CU_ASSERT_STRING_EQUAL(m.undos[2], "deltap web-2");
        CU_ASSERT_EQUAL(m.n_fds, 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 3);
        for (int i = 0; i < 3; i++) {
                char pci[16];

                snprintf(pci, sizeof(pci), "00:%02x.0", 0x10 + i);
                CU_ASSERT_EQUAL(m.devices[i].type, VMSILO_DEVICE_NET);
                CU_ASSERT_EQUAL(m.devices[i].fd, -1);
                CU_ASSERT_STRING_EQUAL(m.devices[i].pci_address, pci);
        }
        CU_ASSERT_STRING_EQUAL(m.devices[0].name, "mytap");
        CU_ASSERT_STRING_EQUAL(m.devices[0].mac, "02:00:00:00:00:01");
        CU_ASSERT_STRING_EQUAL(m.devices[1].name, "web-1");
        CU_ASSERT_STRING_EQUAL(m.devices[2].name, "web-2");
        CU_ASSERT(params_are("ifname=eth1:02:00:00:00:00:01 "
                             "ifname=lan0:12:f1:34:31:65:35 "
                             "ifname=wan0:e2:6e:a3:30:e8:d2 "
                             "ip=10.99.0.2:::24::lan0:none ip=wan0:dhcp"));
        CU_ASSERT_STRING_EQUAL(m.devices[1].mac, "12:f1:34:31:65:35");
        teardown();
}

/* QEMU gets a tap fd (a placeholder number in a plan), no name. */
static void test_net_devices_qemu(void) {
        setup("web");
        m.dry_run = 1;
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = NULL;
        CU_ASSERT_EQUAL(conf("eth1", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 2);
        CU_ASSERT_EQUAL(m.devices[0].fd, 100); /* placeholder numbers in a plan */
        CU_ASSERT_EQUAL(m.devices[1].fd, 101);
        CU_ASSERT_EQUAL(m.n_fds, 0);
        CU_ASSERT_PTR_NULL(m.devices[0].name);
        CU_ASSERT_PTR_NULL(m.devices[1].name);
        CU_ASSERT_STRING_EQUAL(m.devices[0].mac, "2a:66:60:f0:04:02");
        CU_ASSERT(params_are("ifname=eth0:2a:66:60:f0:04:02 "
                             "ifname=eth1:e2:75:38:b8:3d:ed ip=eth0:dhcp "
                             "ip=eth1:dhcp"));
        teardown();
}

/* [net] nameservers first, then each interface's in name order; each address once. */
static void test_net_nameservers(void) {
        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("wan", "nameserver", "10.0.0.53"), 0);
        CU_ASSERT_EQUAL(conf("wan", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(conf(NULL, "nameserver", "fd00::53"), 0);
        CU_ASSERT_EQUAL(conf("lan", "nameserver", "10.0.0.53"), 0);
        CU_ASSERT_EQUAL(conf("lan", "nameserver", "FD00:0::53"), 0);
        CU_ASSERT_EQUAL(conf("lan", "nameserver", "192.168.1.1"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL(m.n_kernel_params, 6);
        if (m.n_kernel_params == 6) {
                char *got = mock_host_join(m.kernel_params + 3, 3);

                CU_ASSERT_STRING_EQUAL(got, "nameserver=fd00::53 nameserver=10.0.0.53 "
                                            "nameserver=192.168.1.1");
                free(got);
        }
        teardown();
}

/* No [net IF] section: nothing is checked, changed or contributed. */
static void test_net_no_interfaces(void) {
        setup("web");
        CU_ASSERT_EQUAL(conf(NULL, "nameserver", "10.0.0.53"), 0);
        CU_ASSERT_EQUAL(mock_host_configured(&m, &P, state), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL(m.n_devices, 0);
        CU_ASSERT_EQUAL(m.n_steps, 0);
        CU_ASSERT_EQUAL(m.n_undos, 0);
        CU_ASSERT(params_are("nameserver=10.0.0.53"));
        teardown();
}

static void test_net_checks_across_keys(void) {
        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("a", "tap", "same"), 0);
        CU_ASSERT_EQUAL(conf("b", "tap", "same"), 0);
        CU_ASSERT_EQUAL(conf("a", "mac", "02:00:00:00:00:01"), 0);
        CU_ASSERT_EQUAL(conf("b", "mac", "02:00:00:00:00:01"), 0);
        CU_ASSERT_EQUAL(conf("a", "address", "10.0.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("b", "address", "10.0.0.2/16"), 0);
        CU_ASSERT_EQUAL(conf("a", "host-address", "10.5.0.1/24"), 0);
        CU_ASSERT_EQUAL(conf("b", "host-address", "10.5.0.1/24"), 0);
        CU_ASSERT_EQUAL(conf("c", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(conf("c", "address", "10.7.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("c", "address", "fd00::2/64"), 0); /* v6 next to DHCP is fine */
        CU_ASSERT_EQUAL(conf("c", "bridge", "br0"), 0);
        CU_ASSERT_EQUAL(conf("c", "host-address", "10.0.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("d", "address", "10.8.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("d", "route", "10.9.0.0/16 via 10.8.1.1"), 0);
        CU_ASSERT_EQUAL(conf("d", "route", "10.10.0.0/16 via 10.11.0.1"), 0);
        CU_ASSERT_EQUAL(conf("d", "route", "10.11.0.0/24"), 0);
        CU_ASSERT_EQUAL(conf("d", "route", "10.12.0.0/16 via 10.11.0.1"), 0); /* after on-link */
        CU_ASSERT_EQUAL(conf("d", "route", "default via fe80::1"), 0);        /* link-local */
        CU_ASSERT_EQUAL(conf("d", "route", "fd09::/64 via fd00::1"), 0);
        CU_ASSERT_EQUAL(conf("c", "route", "10.9.0.0/16 via 10.200.0.1"), 0); /* DHCP: unknown */
        CU_ASSERT_EQUAL(P.prepare(state), -EINVAL);
        CU_ASSERT_EQUAL(m.n_steps, 0);
        CU_ASSERT(mock_host_logged(&m, "[net a] and [net b] have the same tap name 'same'"));
        CU_ASSERT(
                mock_host_logged(&m, "[net a] and [net b] have the same MAC '02:00:00:00:00:01'"));
        CU_ASSERT(mock_host_logged(&m, "[net a] and [net b] have the same address '10.0.0.2'"));
        CU_ASSERT(
                mock_host_logged(&m, "[net a] and [net b] have the same host-address '10.5.0.1'"));
        CU_ASSERT(mock_host_logged(
                &m,
                "[net c] has 'dhcp = yes' and the IPv4 address '10.7.0.2/24': give one or the other"));
        CU_ASSERT(mock_host_logged(
                &m,
                "[net c] has both 'bridge' and 'host-address': a tap in a bridge takes no address, give it to the bridge"));
        CU_ASSERT(mock_host_logged(
                &m, "host-address '10.0.0.2' of [net c] is also the guest's address in [net a]"));
        CU_ASSERT(mock_host_logged(
                &m,
                "route '10.9.0.0/16 via 10.8.1.1' of [net d]: gateway '10.8.1.1' is in no subnet of the interface's addresses or earlier on-link routes"));
        CU_ASSERT(mock_host_logged(
                &m,
                "route '10.10.0.0/16 via 10.11.0.1' of [net d]: gateway '10.11.0.1' is in no subnet"));
        CU_ASSERT(mock_host_logged(
                &m, "route 'fd09::/64 via fd00::1' of [net d]: gateway 'fd00::1' is in no subnet"));
        CU_ASSERT_EQUAL(m.n_logs, 11);
        /* the checks ran once: contribute does not repeat them */
        CU_ASSERT_EQUAL(P.contribute(state), -EINVAL);
        CU_ASSERT_EQUAL(m.n_logs, 11);
        teardown();

        setup("web");
        m.dry_run = 1;
        for (int i = 0; i < NET_MAX_IFACES + 1; i++) {
                char name[8];

                snprintf(name, sizeof(name), "e%02d", i);
                CU_ASSERT_EQUAL(conf(name, "dhcp", "yes"), 0);
        }
        CU_ASSERT_EQUAL(P.prepare(state), -EINVAL);
        CU_ASSERT(last_log_is(
                "VM 'web' has 17 interfaces: at most 16 are supported (PCI slots 00:10.0 to 00:1f.0)"));
        teardown();
}

static void test_net_alias_owner(void) {
        char vm[64], mac[32];

        CU_ASSERT_EQUAL(net_alias_owner("vmsilo vm=web uid=1000 if=eth0 mac=02:00:00:00:00:01",
                                        "web", 1000, vm, sizeof(vm), mac, sizeof(mac)),
                        1);
        CU_ASSERT_STRING_EQUAL(vm, "web");
        CU_ASSERT_STRING_EQUAL(mac, "02:00:00:00:00:01");
        CU_ASSERT_EQUAL(
                net_alias_owner("vmsilo vm=web uid=1000 if=eth0 mac=x", "web", 0, NULL, 0, NULL, 0),
                0);
        CU_ASSERT_EQUAL(
                net_alias_owner("vmsilo vm=webby uid=1000", "web", 1000, vm, sizeof(vm), NULL, 0),
                0);
        CU_ASSERT_STRING_EQUAL(vm, "webby");
        CU_ASSERT_EQUAL(net_alias_owner("my uplink", "web", 1000, NULL, 0, NULL, 0), -1);
        CU_ASSERT_EQUAL(net_alias_owner("", "web", 1000, NULL, 0, NULL, 0), -1);
        CU_ASSERT_EQUAL(net_alias_owner("vmsilo uid=1000", "web", 1000, NULL, 0, NULL, 0), -1);
}

/* ---- as root, in a private network namespace with its own sysfs ---- */

static int in_netns;

static int enter_netns(void) {
        if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
                return 0;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
                return 0;
        return 1;
}

static int skip_unless_netns(void) {
        if (!in_netns)
                fprintf(stderr, "skipped (needs root for a network namespace) ");
        return !in_netns;
}

static int sh(const char *cmd) {
        return system(cmd);
}

static int read_sys(const char *dev, const char *file, char *buf, size_t size) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, file);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, (int) size, f))
                buf[0] = 0;
        fclose(f);
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int link_exists(const char *dev) {
        char path[256];

        snprintf(path, sizeof(path), "/sys/class/net/%s", dev);
        return access(path, F_OK) == 0;
}

/* A line of `ip -o addr show dev DEV` contains text (and also2, if given). */
static int addr_has2(const char *dev, const char *text, const char *also) {
        char cmd[256], line[512];
        int found = 0;
        FILE *p;

        snprintf(cmd, sizeof(cmd), "ip -o addr show dev %s", dev);
        p = popen(cmd, "r");
        if (!p)
                return 0;
        while (fgets(line, sizeof(line), p))
                found |= strstr(line, text) && (!also || strstr(line, also));
        pclose(p);
        return found;
}

static int addr_has(const char *dev, const char *text) {
        return addr_has2(dev, text, NULL);
}

static void test_net_taps_in_netns(void) {
        char buf[256];
        unsigned long flags;

        if (skip_unless_netns())
                return;
        CU_ASSERT_EQUAL_FATAL(sh("ip link add vmsilo-br type bridge"), 0);
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "address", "10.99.0.2/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "host-address", "10.99.0.1/24"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "host-address", "fd00:99::1/64"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "bridge", "vmsilo-br"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_fds, 0); /* crosvm opens the taps by name */

        CU_ASSERT_EQUAL_FATAL(read_sys("web-0", "owner", buf, sizeof(buf)), 0);
        CU_ASSERT_STRING_EQUAL(buf, "1000");
        CU_ASSERT_EQUAL(read_sys("web-0", "group", buf, sizeof(buf)), 0);
        CU_ASSERT_STRING_EQUAL(buf, "1000");
        CU_ASSERT_EQUAL(read_sys("web-0", "tun_flags", buf, sizeof(buf)), 0);
        flags = strtoul(buf, NULL, 16);
        CU_ASSERT_EQUAL(flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_PERSIST),
                        IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_PERSIST);
        CU_ASSERT_EQUAL(read_sys("web-0", "ifalias", buf, sizeof(buf)), 0);
        CU_ASSERT_STRING_EQUAL(buf, "vmsilo vm=web uid=1000 if=eth0 mac=2a:66:60:f0:04:02");
        CU_ASSERT_EQUAL(read_sys("web-0", "flags", buf, sizeof(buf)), 0);
        CU_ASSERT(strtoul(buf, NULL, 16) & IFF_UP);
        CU_ASSERT(addr_has("web-0", "inet 10.99.0.1/24"));
        CU_ASSERT(addr_has("web-0", "inet6 fd00:99::1/64"));
        CU_ASSERT(!addr_has2("web-0", "inet6 fd00:99::1/64", "tentative")); /* no DAD */
        CU_ASSERT_EQUAL(read_sys("web-1", "master/uevent", buf, sizeof(buf)), 0);
        CU_ASSERT_STRING_EQUAL(buf, "DEVTYPE=bridge");
        CU_ASSERT(link_exists("vmsilo-br/brif/web-1"));
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 2);
        CU_ASSERT_STRING_EQUAL(m.undos[0], "deltap web-0");
        CU_ASSERT_STRING_EQUAL(m.undos[1], "deltap web-1");
        teardown();

        /* `cleanup` in a later process: a fresh instance undoes by the journal's words only */
        setup("web");
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-0"), 0);
        CU_ASSERT(!link_exists("web-0"));
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-0"), 0); /* idempotent */
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-1"), 0);
        CU_ASSERT(!link_exists("web-1"));
        CU_ASSERT_EQUAL(P.undo(state, "frobnicate web-1"), -EINVAL);
        /* a name reused by someone else meanwhile is left alone */
        CU_ASSERT_EQUAL_FATAL(sh("ip link add web-0 type bridge"), 0);
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-0"), 0);
        CU_ASSERT(link_exists("web-0"));
        CU_ASSERT(last_log_is("not removing 'web-0': it is no longer a tap of VM 'web', ignoring"));
        teardown();
        CU_ASSERT_EQUAL(sh("ip link del web-0 && ip link del vmsilo-br"), 0);
}

static void test_net_qemu_fd_in_netns(void) {
        struct ifreq ifr = { 0 };

        if (skip_unless_netns())
                return;
        setup("web");
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = NULL;
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_fds, 1);
        CU_ASSERT_EQUAL(ioctl(m.fds[0], TUNGETIFF, &ifr), 0);
        CU_ASSERT_STRING_EQUAL(ifr.ifr_name, "web-0");
        CU_ASSERT_EQUAL(ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
                        IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
        CU_ASSERT_EQUAL(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        CU_ASSERT_EQUAL(P.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].fd, m.fds[0]);
        CU_ASSERT_PTR_NULL(m.devices[0].name);
        /* the undo removes the tap even while the VMM's fd is open */
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-0"), 0);
        CU_ASSERT(!link_exists("web-0"));
        teardown();
}

/* `existing-tap = yes`: a tap an administrator made for the VM's user; attached, never
 * created, configured or removed, and no CAP_NET_ADMIN asked for */
static void test_net_existing_tap_in_netns(void) {
        struct ifreq ifr = { 0 };

        setup("web");
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("eth0", "existing-tap", "yes"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "bridge", "br0"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), -EINVAL);
        CU_ASSERT(last_log_is(
                "[net eth0] has 'existing-tap = yes': it needs 'tap =' (the tap's name), and takes no 'bridge' or 'host-address' (whoever made the tap sets those up)"));
        teardown();
        if (skip_unless_netns())
                return;
        setup("web");
        m.uid = 1001;
        CU_ASSERT_EQUAL(conf("eth0", "tap", "mytap"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "existing-tap", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(last_log_is(
                "tap 'mytap' of [net eth0] does not exist: an administrator creates it for uid 1001 once: 'ip tuntap add mytap mode tap user 1001 vnet_hdr' (and sets it up: addresses, bridge, up)"));
        teardown();
        CU_ASSERT_EQUAL_FATAL(sh("ip tuntap add mytap mode tap user 1002 vnet_hdr"), 0);
        setup("web");
        m.uid = 1001;
        CU_ASSERT_EQUAL(conf("eth0", "tap", "mytap"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "existing-tap", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "tap 'mytap' of [net eth0] is not owned by uid 1001 (its owner: 1002)"));
        teardown();
        setup("web");
        m.uid = 1002;
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = NULL; /* no "net tap name": the VMM gets the tap's fd */
        CU_ASSERT_EQUAL(conf("eth0", "tap", "mytap"), 0);
        CU_ASSERT_EQUAL(conf("eth0", "existing-tap", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_undos, 0);
        CU_ASSERT_EQUAL_FATAL(m.n_fds, 1);
        CU_ASSERT_EQUAL(ioctl(m.fds[0], TUNGETIFF, &ifr), 0);
        CU_ASSERT_STRING_EQUAL(ifr.ifr_name, "mytap");
        teardown();
        CU_ASSERT(link_exists("mytap"));
        CU_ASSERT_EQUAL(sh("ip tuntap del mytap mode tap"), 0);
}

static void test_net_preflight_in_netns(void) {
        if (skip_unless_netns())
                return;
        /* a name taken by an interface vmsilo did not make */
        CU_ASSERT_EQUAL_FATAL(sh("ip link add web-0 type bridge"), 0);
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(last_log_is(
                "tap name 'web-0' of [net eth0] is taken by an existing bridge interface that vmsilo did not create; set 'tap =' in [net eth0] to a free name"));
        teardown();
        CU_ASSERT_EQUAL(sh("ip link del web-0"), 0);

        /* bridges: missing, not a bridge */
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "bridge", "nobr"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "bridge", "lo"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "bridge 'nobr' of [net eth0] does not exist"));
        CU_ASSERT(mock_host_logged(&m,
                                   "'lo' of [net eth1] is not a bridge but an ordinary interface"));
        teardown();

        /* another VM's tap and MAC */
        setup("other");
        CU_ASSERT_EQUAL(conf("eth0", "mac", "02:00:00:00:00:42"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        teardown(); /* no undo: the VM "runs" */
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "mac", "02:00:00:00:00:42"), 0);
        CU_ASSERT_EQUAL(conf("eth1", "tap", "other-0"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "MAC '02:00:00:00:00:42' of [net eth0] is already used by VM 'other' (tap 'other-0'); set 'mac =' in [net eth0]"));
        CU_ASSERT(mock_host_logged(
                &m,
                "tap 'other-0' of [net eth1] is in use by VM 'other'; set 'tap =' in [net eth1] to a free name"));
        /* the same VM name of another user is another VM */
        teardown();
        setup("other");
        m.uid = 1001;
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "tap 'other-0' of [net eth0] is in use by VM 'other'"));
        teardown();
        CU_ASSERT_EQUAL(sh("ip link del other-0"), 0);

        /* a leftover of this VM (its launcher crashed) passes, and prepare replaces it */
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        teardown();
        setup("web");
        CU_ASSERT_EQUAL(conf("eth0", "dhcp", "yes"), 0);
        CU_ASSERT_EQUAL(P.preflight(state), 0);
        CU_ASSERT_EQUAL(P.prepare(state), 0);
        CU_ASSERT(mock_host_logged(&m, "removing tap 'web-0' left by an earlier run"));
        CU_ASSERT(link_exists("web-0"));
        CU_ASSERT_EQUAL(P.undo(state, "deltap web-0"), 0);
        CU_ASSERT(!link_exists("web-0"));
        teardown();
}

int main(void) {
        static const struct {
                const char *name;
                void (*fn)(void);
        } tests[] = {
#define T(x) { #x, x }
                T(test_net_mac_generation),        T(test_net_tap_name_derivation),
                T(test_net_parse_addresses),       T(test_net_parse_routes),
                T(test_net_route_params),          T(test_net_parse_other_keys),
                T(test_net_reset_values),          T(test_net_devices_sorted_crosvm),
                T(test_net_devices_qemu),          T(test_net_nameservers),
                T(test_net_no_interfaces),         T(test_net_checks_across_keys),
                T(test_net_alias_owner),           T(test_net_taps_in_netns),
                T(test_net_qemu_fd_in_netns),      T(test_net_preflight_in_netns),
                T(test_net_existing_tap_in_netns),
#undef T
        };
        unsigned failures;
        CU_pSuite s;

        in_netns = enter_netns();
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("net", NULL, NULL);
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
                CU_add_test(s, tests[i].name, tests[i].fn);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        return failures ? 1 : 0;
}
