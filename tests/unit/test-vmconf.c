/* SPDX-License-Identifier: MIT */
/* core/config/vmconf.c: the core's sections [vm], [disk NAME], [crosvm], [qemu]. */
#include "config/vmconf.h"
#include "testutil.h"

#define FILE_NAME "/etc/vmsilo/vms/work.conf"

static struct vm_config cfg;

static void setup(void) {
        if (vm_config_init(&cfg, "work") < 0)
                abort();
}

static void teardown(void) {
        vm_config_done(&cfg);
}

/* Applies one entry at FILE_NAME:line; returns the result, `*ret_log` gets what was logged. */
static int apply_at(unsigned line, const char *section, const char *instance, const char *key,
                    const char *value, char **ret_log) {
        /* the strings are literals: vm_disk.file keeps pointing at the entry's file */
        struct conf_entry e = {
                .file = (char *) FILE_NAME,
                .line = line,
                .section = (char *) section,
                .instance = (char *) instance,
                .key = (char *) key,
                .value = (char *) value,
        };
        char *log;
        int r;

        CAPTURE_LOG(log, r = vm_config_apply(&cfg, &e));
        if (ret_log)
                *ret_log = log;
        else
                free(log);
        return r;
}

/* Applies and asserts success with nothing logged. */
static void apply_ok(const char *section, const char *instance, const char *key,
                     const char *value) {
        _cleanup_free_ char *log = NULL;

        ASSERT_INT_EQ(apply_at(3, section, instance, key, value, &log), 0);
        ASSERT_STREQ(log, "");
}

/* Applies at line 7 and asserts -EINVAL with exactly "vmsilo-core: FILE:7: <message>". */
static void apply_bad(const char *section, const char *instance, const char *key, const char *value,
                      const char *message) {
        _cleanup_free_ char *log = NULL, *expected = NULL;

        ASSERT_INT_EQ(apply_at(7, section, instance, key, value, &log), -EINVAL);
        REQUIRE(asprintf(&expected, "vmsilo-core: " FILE_NAME ":7: %s\n", message) > 0);
        ASSERT_STREQ(log, expected);
}

static void test_vmconf_defaults(void) {
        setup();
        ASSERT_STREQ(cfg.name, "work");
        ASSERT_INT_EQ(cfg.id, 0);
        ASSERT_INT_EQ(cfg.memory_mib, 1024);
        ASSERT_INT_EQ(cfg.cpus, 2);
        ASSERT_INT_EQ(cfg.hugepages, 1);
        ASSERT_INT_EQ(cfg.balloon_page_reporting, 1);
        ASSERT_INT_EQ(cfg.boost_uclamp, 1);
        ASSERT_INT_EQ(cfg.disable_virtio_intx, 1);
        ASSERT_INT_EQ(cfg.no_i8042, 1);
        ASSERT_INT_EQ(cfg.no_rtc, 1);
        ASSERT_INT_EQ(cfg.s2idle, 1);
        ASSERT_INT_EQ(cfg.sched_isolation, SCHED_ISOLATION_FULL);
        ASSERT_STREQ(cfg.kernel, NULL);
        ASSERT_STREQ(cfg.initrd, NULL);
        ASSERT_STREQ(cfg.root_disk, NULL);
        ASSERT_INT_EQ(cfg.root_read_only, 1);
        ASSERT_INT_EQ(cfg.kernel_params.n, 0);
        ASSERT_INT_EQ(cfg.auto_shutdown, 0);
        ASSERT_INT_EQ(cfg.auto_shutdown_after, 60);
        ASSERT_STREQ(cfg.vmm, "crosvm");
        ASSERT_INT_EQ(cfg.n_disks, 0);
        ASSERT_STREQ(cfg.crosvm_path, "crosvm");
        ASSERT_STREQ(cfg.crosvm_log_level, "info");
        ASSERT_STREQ(cfg.qemu_path, "qemu-system-x86_64");
        ASSERT_STREQ(cfg.qemu_accel, "auto");
        ASSERT_STREQ(cfg.qemu_machine, "pc");
        teardown();
}

static void test_vmconf_owns(void) {
        ASSERT_INT_EQ(vm_config_owns("vm"), 1);
        ASSERT_INT_EQ(vm_config_owns("disk"), 1);
        ASSERT_INT_EQ(vm_config_owns("crosvm"), 1);
        ASSERT_INT_EQ(vm_config_owns("qemu"), 1);
        ASSERT_INT_EQ(vm_config_owns("plugin"), 0);
        ASSERT_INT_EQ(vm_config_owns("gpu"), 0);
        ASSERT_INT_EQ(vm_config_owns("VM"), 0);
        ASSERT_INT_EQ(vm_config_owns(""), 0);
}

static void test_vmconf_memory(void) {
        static const char *const bad[] = { "63", "16777217", "0", "1G", "", "-1", " 512", "1e3" };

        setup();
        apply_ok("vm", NULL, "memory", "2048");
        ASSERT_INT_EQ(cfg.memory_mib, 2048);
        apply_ok("vm", NULL, "memory", "64");
        ASSERT_INT_EQ(cfg.memory_mib, 64);
        apply_ok("vm", NULL, "memory", "16777216");
        ASSERT_INT_EQ(cfg.memory_mib, 16777216);
        apply_bad("vm", NULL, "memory", "x",
                  "invalid value 'x' for 'memory' in [vm]: expected a number from 64 to 16777216");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *msg = NULL;

                REQUIRE(asprintf(
                                &msg,
                                "invalid value '%s' for 'memory' in [vm]: expected a number from 64 to 16777216",
                                bad[i]) > 0);
                apply_bad("vm", NULL, "memory", bad[i], msg);
        }
        /* a bad value leaves the last good one */
        ASSERT_INT_EQ(cfg.memory_mib, 16777216);
        teardown();
}

static void test_vmconf_numbers(void) {
        setup();
        apply_ok("vm", NULL, "cpus", "1");
        ASSERT_INT_EQ(cfg.cpus, 1);
        apply_ok("vm", NULL, "cpus", "512");
        ASSERT_INT_EQ(cfg.cpus, 512);
        apply_bad("vm", NULL, "cpus", "0",
                  "invalid value '0' for 'cpus' in [vm]: expected a number from 1 to 512");
        apply_bad("vm", NULL, "cpus", "513",
                  "invalid value '513' for 'cpus' in [vm]: expected a number from 1 to 512");

        apply_ok("vm", NULL, "id", "3");
        ASSERT_INT_EQ(cfg.id, 3);
        apply_ok("vm", NULL, "id", "4294967294");
        CU_ASSERT(cfg.id == 4294967294U);
        apply_bad("vm", NULL, "id", "2",
                  "invalid value '2' for 'id' in [vm]: expected a number from 3 to 4294967294");
        apply_bad(
                "vm", NULL, "id", "4294967295",
                "invalid value '4294967295' for 'id' in [vm]: expected a number from 3 to 4294967294");
        CU_ASSERT(cfg.id == 4294967294U);

        apply_ok("vm", NULL, "auto-shutdown-after", "4294967296");
        CU_ASSERT(cfg.auto_shutdown_after == 4294967296ULL);
        apply_ok("vm", NULL, "auto-shutdown-after", "1");
        ASSERT_INT_EQ(cfg.auto_shutdown_after, 1);
        apply_bad(
                "vm", NULL, "auto-shutdown-after", "0",
                "invalid value '0' for 'auto-shutdown-after' in [vm]: expected a number from 1 to 4294967296");
        apply_bad(
                "vm", NULL, "auto-shutdown-after", "60s",
                "invalid value '60s' for 'auto-shutdown-after' in [vm]: expected a number from 1 to 4294967296");
        teardown();
}

static void test_vmconf_booleans(void) {
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                { "hugepages", offsetof(struct vm_config, hugepages) },
                { "balloon-page-reporting", offsetof(struct vm_config, balloon_page_reporting) },
                { "boost-uclamp", offsetof(struct vm_config, boost_uclamp) },
                { "disable-virtio-intx", offsetof(struct vm_config, disable_virtio_intx) },
                { "no-i8042", offsetof(struct vm_config, no_i8042) },
                { "no-rtc", offsetof(struct vm_config, no_rtc) },
                { "s2idle", offsetof(struct vm_config, s2idle) },
                { "root-disk-read-only", offsetof(struct vm_config, root_read_only) },
                { "auto-shutdown", offsetof(struct vm_config, auto_shutdown) },
        };

        setup();
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                int *field = (int *) ((char *) &cfg + keys[i].offset);
                _cleanup_free_ char *msg = NULL;

                apply_ok("vm", NULL, keys[i].key, "no");
                ASSERT_INT_EQ(*field, 0);
                apply_ok("vm", NULL, keys[i].key, "yes");
                ASSERT_INT_EQ(*field, 1);
                apply_ok("vm", NULL, keys[i].key, "off");
                ASSERT_INT_EQ(*field, 0);
                REQUIRE(asprintf(&msg, "invalid value 'maybe' for '%s' in [vm]: expected yes or no",
                                 keys[i].key) > 0);
                apply_bad("vm", NULL, keys[i].key, "maybe", msg);
                ASSERT_INT_EQ(*field, 0);
        }
        teardown();
}

static void test_vmconf_enums(void) {
        setup();
        apply_ok("vm", NULL, "scheduler-isolation", "vm");
        ASSERT_INT_EQ(cfg.sched_isolation, SCHED_ISOLATION_VM);
        apply_ok("vm", NULL, "scheduler-isolation", "off");
        ASSERT_INT_EQ(cfg.sched_isolation, SCHED_ISOLATION_OFF);
        apply_ok("vm", NULL, "scheduler-isolation", "full");
        ASSERT_INT_EQ(cfg.sched_isolation, SCHED_ISOLATION_FULL);
        apply_bad(
                "vm", NULL, "scheduler-isolation", "none",
                "invalid value 'none' for 'scheduler-isolation' in [vm]: expected 'full', 'vm', 'off'");
        ASSERT_INT_EQ(cfg.sched_isolation, SCHED_ISOLATION_FULL);

        apply_ok("vm", NULL, "vmm", "qemu");
        ASSERT_STREQ(cfg.vmm, "qemu");
        apply_bad("vm", NULL, "vmm", "Qemu",
                  "invalid value 'Qemu' for 'vmm' in [vm]: expected 'crosvm', 'qemu'");
        ASSERT_STREQ(cfg.vmm, "qemu");
        apply_ok("vm", NULL, "vmm", "crosvm");
        ASSERT_STREQ(cfg.vmm, "crosvm");

        apply_ok("crosvm", NULL, "log-level", "debug");
        ASSERT_STREQ(cfg.crosvm_log_level, "debug");
        apply_bad(
                "crosvm", NULL, "log-level", "verbose",
                "invalid value 'verbose' for 'log-level' in [crosvm]: expected 'off', 'error', 'warn', 'info', 'debug', 'trace'");

        apply_ok("qemu", NULL, "accel", "tcg");
        ASSERT_STREQ(cfg.qemu_accel, "tcg");
        apply_bad("qemu", NULL, "accel", "hvf",
                  "invalid value 'hvf' for 'accel' in [qemu]: expected 'auto', 'kvm', 'tcg'");
        ASSERT_STREQ(cfg.qemu_accel, "tcg");
        teardown();
}

static void test_vmconf_paths(void) {
        setup();
        apply_ok("vm", NULL, "kernel", "/var/lib/vmsilo/vmlinuz");
        ASSERT_STREQ(cfg.kernel, "/var/lib/vmsilo/vmlinuz");
        apply_ok("vm", NULL, "kernel", "/boot/other");
        ASSERT_STREQ(cfg.kernel, "/boot/other"); /* last wins */
        apply_ok("vm", NULL, "initrd", "/boot/initrd.img");
        ASSERT_STREQ(cfg.initrd, "/boot/initrd.img");
        apply_ok("vm", NULL, "root-disk", "/var/lib/vmsilo/root.img");
        ASSERT_STREQ(cfg.root_disk, "/var/lib/vmsilo/root.img");
        apply_bad("vm", NULL, "kernel", "vmlinuz",
                  "invalid value 'vmlinuz' for 'kernel' in [vm]: expected an absolute path");
        apply_bad("vm", NULL, "initrd", "./initrd",
                  "invalid value './initrd' for 'initrd' in [vm]: expected an absolute path");
        apply_bad("vm", NULL, "kernel", "",
                  "invalid value '' for 'kernel' in [vm]: expected an absolute path");
        apply_bad(
                "vm", NULL, "kernel", "/boot/k\033[2J",
                "invalid value '/boot/k\\x1b[2J' for 'kernel' in [vm]: control characters are not allowed in a path");
        apply_bad(
                "vm", NULL, "root-disk", "/x\ty",
                "invalid value '/x\\ty' for 'root-disk' in [vm]: control characters are not allowed in a path");
        ASSERT_STREQ(cfg.kernel, "/boot/other");
        ASSERT_STREQ(cfg.root_disk, "/var/lib/vmsilo/root.img");
        /* an empty optional path removes a global default */
        apply_ok("vm", NULL, "root-disk", "");
        CU_ASSERT_PTR_NULL(cfg.root_disk);
        apply_ok("vm", NULL, "initrd", "");
        CU_ASSERT_PTR_NULL(cfg.initrd);
        teardown();
}

static void test_vmconf_console_log_size(void) {
        setup();
        ASSERT_INT_EQ(cfg.console_log_size, 1 << 20);
        apply_ok("vm", NULL, "console-log-size", "65536");
        ASSERT_INT_EQ(cfg.console_log_size, 65536);
        apply_ok("vm", NULL, "console-log-size", "512K");
        ASSERT_INT_EQ(cfg.console_log_size, 512 << 10);
        apply_ok("vm", NULL, "console-log-size", "2m");
        ASSERT_INT_EQ(cfg.console_log_size, 2 << 20);
        apply_ok("vm", NULL, "console-log-size", "1G");
        ASSERT_INT_EQ(cfg.console_log_size, 1 << 30);
        apply_bad(
                "vm", NULL, "console-log-size", "100",
                "invalid value '100' for 'console-log-size' in [vm]: expected a size from 4K to 1G (bytes, or with a K, M or G suffix)");
        apply_bad(
                "vm", NULL, "console-log-size", "2G",
                "invalid value '2G' for 'console-log-size' in [vm]: expected a size from 4K to 1G (bytes, or with a K, M or G suffix)");
        apply_bad(
                "vm", NULL, "console-log-size", "M",
                "invalid value 'M' for 'console-log-size' in [vm]: expected a size from 4K to 1G (bytes, or with a K, M or G suffix)");
        ASSERT_INT_EQ(cfg.console_log_size, 1 << 30);
        teardown();
}

static void test_vmconf_strings(void) {
        setup();
        apply_ok("crosvm", NULL, "path", "/opt/crosvm/bin/crosvm");
        ASSERT_STREQ(cfg.crosvm_path, "/opt/crosvm/bin/crosvm");
        apply_ok("qemu", NULL, "path", "qemu-kvm");
        ASSERT_STREQ(cfg.qemu_path, "qemu-kvm");
        apply_ok("qemu", NULL, "machine", "q35");
        ASSERT_STREQ(cfg.qemu_machine, "q35");
        apply_bad("crosvm", NULL, "path", "", "empty value for 'path' in [crosvm]");
        apply_bad("qemu", NULL, "machine", "", "empty value for 'machine' in [qemu]");
        ASSERT_STREQ(cfg.crosvm_path, "/opt/crosvm/bin/crosvm");
        ASSERT_STREQ(cfg.qemu_machine, "q35");
        teardown();
}

/* [vm] user: what group members' commands run as; never empty (that would mean root) */
static void test_vmconf_user_and_allow_root(void) {
        char *log;
        int r;

        setup();
        ASSERT_STREQ(cfg.user, "user");
        ASSERT_INT_EQ(cfg.allow_root_from_group, 0);
        apply_ok("vm", NULL, "user", "alice");
        ASSERT_STREQ(cfg.user, "alice");
        apply_ok("vm", NULL, "allow-root-from-group", "yes");
        ASSERT_INT_EQ(cfg.allow_root_from_group, 1);
        apply_bad("vm", NULL, "user", "", "empty value for 'user' in [vm]");
        ASSERT_STREQ(cfg.user, "alice");
        apply_ok("vm", NULL, "kernel", "/boot/vmlinuz");
        apply_ok("vm", NULL, "user", "a:b");
        CAPTURE_LOG(log, r = vm_config_verify(&cfg));
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT_STREQ(log, "vmsilo-core: VM 'work': [vm] user must be a user name or uid of the "
                          "guest\n");
        free(log);
        teardown();
}

static void assert_list(const struct strv *v, const char *const *expected, size_t n) {
        ASSERT_INT_EQ(v->n, n);
        for (size_t i = 0; i < n && i < v->n; i++)
                ASSERT_STREQ(v->items[i], expected[i]);
}

static void test_vmconf_lists_accumulate_and_reset(void) {
        static const char *const two[] = { "console=ttyS0", "quiet loglevel=3" };
        static const char *const after[] = { "debug" };

        setup();
        apply_ok("vm", NULL, "kernel-params", "console=ttyS0");
        apply_ok("vm", NULL, "kernel-params", "quiet loglevel=3");
        assert_list(&cfg.kernel_params, two, 2);
        apply_ok("vm", NULL, "kernel-params", "");
        assert_list(&cfg.kernel_params, NULL, 0);
        apply_ok("vm", NULL, "kernel-params", "debug");
        assert_list(&cfg.kernel_params, after, 1);
        CU_ASSERT_PTR_NULL(cfg.kernel_params.items[1]);

        apply_ok("crosvm", NULL, "extra-args", "--no-syslog");
        apply_ok("crosvm", NULL, "extra-run-args", "--disable-sandbox");
        apply_ok("crosvm", NULL, "extra-run-args", "");
        apply_ok("crosvm", NULL, "extra-run-args", "--x");
        apply_ok("qemu", NULL, "extra-args", "-nodefaults");
        {
                static const char *const a[] = { "--no-syslog" }, *const b[] = { "--x" },
                                         *const q[] = { "-nodefaults" };

                assert_list(&cfg.crosvm_extra_args, a, 1);
                assert_list(&cfg.crosvm_extra_run_args, b, 1);
                assert_list(&cfg.qemu_extra_args, q, 1);
        }
        teardown();
}

static void test_vmconf_unknown_key(void) {
        setup();
        apply_bad("vm", NULL, "memroy", "1024", "unknown key 'memroy' in section [vm]");
        /* keys belong to their own section only */
        apply_bad("crosvm", NULL, "memory", "1024", "unknown key 'memory' in section [crosvm]");
        apply_bad("qemu", NULL, "log-level", "info", "unknown key 'log-level' in section [qemu]");
        apply_bad("vm", NULL, "Memory", "1024", "unknown key 'Memory' in section [vm]");
        ASSERT_INT_EQ(cfg.memory_mib, 1024);
        teardown();
}

static void test_vmconf_instance_rejected(void) {
        setup();
        apply_bad("vm", "foo", "memory", "2048", "section [vm] takes no name, found [vm foo]");
        apply_bad("crosvm", "x", "path", "/c", "section [crosvm] takes no name, found [crosvm x]");
        apply_bad("qemu", "y", "machine", "q35", "section [qemu] takes no name, found [qemu y]");
        ASSERT_INT_EQ(cfg.memory_mib, 1024);
        ASSERT_STREQ(cfg.crosvm_path, "crosvm");
        teardown();
}

static void test_vmconf_disk_keys(void) {
        struct vm_disk *d;

        setup();
        apply_ok("disk", "data", "path", "/var/lib/vmsilo/data.img");
        REQUIRE(cfg.n_disks == 1);
        d = &cfg.disks[0];
        ASSERT_STREQ(d->name, "data");
        ASSERT_STREQ(d->path, "/var/lib/vmsilo/data.img");
        ASSERT_STREQ(d->id, NULL);
        /* defaults */
        ASSERT_INT_EQ(d->read_only, 0);
        ASSERT_INT_EQ(d->direct, 1);
        ASSERT_INT_EQ(d->packed_queue, 1);
        ASSERT_INT_EQ(d->sparse, 1);
        ASSERT_STREQ(d->file, FILE_NAME);
        ASSERT_INT_EQ(d->line, 3);

        apply_ok("disk", "data", "id", "data-01");
        apply_ok("disk", "data", "read-only", "yes");
        apply_ok("disk", "data", "direct", "no");
        apply_ok("disk", "data", "packed-queue", "false");
        apply_ok("disk", "data", "sparse", "0");
        REQUIRE(cfg.n_disks == 1);
        d = &cfg.disks[0];
        ASSERT_STREQ(d->id, "data-01");
        ASSERT_INT_EQ(d->read_only, 1);
        ASSERT_INT_EQ(d->direct, 0);
        ASSERT_INT_EQ(d->packed_queue, 0);
        ASSERT_INT_EQ(d->sparse, 0);
        apply_ok("disk", "data", "id", "12345678901234567890"); /* 20 characters */
        ASSERT_STREQ(cfg.disks[0].id, "12345678901234567890");
        teardown();
}

static void test_vmconf_disk_bad_values(void) {
        setup();
        apply_bad("disk", "data", "path", "data.img",
                  "invalid value 'data.img' for 'path' in [disk data]: expected an absolute path");
        apply_bad(
                "disk", "data", "path", "/d\x7f",
                "invalid value '/d\\x7f' for 'path' in [disk data]: control characters are not allowed in a path");
        apply_bad(
                "disk", "data", "id", "123456789012345678901",
                "invalid value '123456789012345678901' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes");
        apply_bad(
                "disk", "data", "id", "a,b",
                "invalid value 'a,b' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes");
        apply_bad(
                "disk", "data", "id", "a\"b",
                "invalid value 'a\"b' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes");
        apply_bad(
                "disk", "data", "id", "a b",
                "invalid value 'a b' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes");
        apply_bad(
                "disk", "data", "id", "",
                "invalid value '' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes");
        apply_bad("disk", "data", "read-only", "ro",
                  "invalid value 'ro' for 'read-only' in [disk data]: expected yes or no");
        apply_bad(
                "disk", "data", "size", "10G",
                "unknown key 'size' in [disk data]: expected path, id, read-only, direct, packed-queue or sparse");
        apply_bad("disk", NULL, "path", "/x.img", "section [disk] needs a name: [disk NAME]");
        REQUIRE(cfg.n_disks == 1);
        ASSERT_STREQ(cfg.disks[0].path, NULL);
        ASSERT_STREQ(cfg.disks[0].id, NULL);
        ASSERT_INT_EQ(cfg.disks[0].read_only, 0);
        teardown();
}

static void test_vmconf_name_valid(void) {
        static const char *const good[] = {
                "a", "Z", "0", "work", "Work-2", "my_vm", "a-", "12345678901234567890123456789012"
        };
        static const char *const bad[] = {
                "",    "-a",   "_a",          "a.b", "a b",
                "a/b", "../x", "caf\xc3\xa9", "a:b", "123456789012345678901234567890123"
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (!vm_name_valid(good[i]))
                        fprintf(stderr, "\nrejected '%s'\n", good[i]);
                ASSERT_INT_EQ(vm_name_valid(good[i]), 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (vm_name_valid(bad[i]))
                        fprintf(stderr, "\naccepted '%s'\n", bad[i]);
                ASSERT_INT_EQ(vm_name_valid(bad[i]), 0);
        }
}

static void test_vmconf_verify_ok(void) {
        char *log;
        int r;

        setup();
        apply_ok("vm", NULL, "kernel", "/boot/vmlinuz");
        apply_ok("disk", "b", "path", "/b.img");
        CAPTURE_LOG(log, r = vm_config_verify(&cfg));
        ASSERT_INT_EQ(r, 0);
        ASSERT_STREQ(log, "");
        free(log);
        teardown();
}

static void test_vmconf_verify_missing_kernel(void) {
        char *log;
        int r;

        setup();
        CAPTURE_LOG(log, r = vm_config_verify(&cfg));
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT_STREQ(log, "vmsilo-core: VM 'work': no kernel configured: set 'kernel =' in [vm] of "
                          "vms/work.conf\n");
        free(log);
        teardown();
}

static void test_vmconf_verify_disk_without_path(void) {
        char *log;
        int r;

        setup();
        apply_ok("vm", NULL, "kernel", "/boot/vmlinuz");
        ASSERT_INT_EQ(apply_at(12, "disk", "data", "read-only", "yes", NULL), 0);
        ASSERT_INT_EQ(apply_at(13, "disk", "data", "id", "x", NULL), 0);
        CAPTURE_LOG(log, r = vm_config_verify(&cfg));
        ASSERT_INT_EQ(r, -EINVAL);
        /* names where the section was first seen */
        ASSERT_STREQ(log, "vmsilo-core: " FILE_NAME ":12: [disk data] has no 'path ='\n");
        free(log);
        teardown();
}

static void test_vmconf_verify_reports_every_problem(void) {
        char *log;
        int r;

        setup();
        ASSERT_INT_EQ(apply_at(20, "disk", "one", "id", "x", NULL), 0);
        ASSERT_INT_EQ(apply_at(30, "disk", "two", "id", "y", NULL), 0);
        CAPTURE_LOG(log, r = vm_config_verify(&cfg));
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT_STREQ(log, "vmsilo-core: VM 'work': no kernel configured: set 'kernel =' in [vm] of "
                          "vms/work.conf\n"
                          "vmsilo-core: " FILE_NAME ":20: [disk one] has no 'path ='\n"
                          "vmsilo-core: " FILE_NAME ":30: [disk two] has no 'path ='\n");
        free(log);
        teardown();
}

static void test_vmconf_disks_sorted_by_name(void) {
        static const char *const names[] = { "zz", "data", "cache", "data2", "aa" };
        static const char *const sorted[] = { "aa", "cache", "data", "data2", "zz" };
        char *log;

        setup();
        apply_ok("vm", NULL, "kernel", "/boot/vmlinuz");
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *path = NULL;

                REQUIRE(asprintf(&path, "/img/%s", names[i]) > 0);
                apply_ok("disk", names[i], "path", path);
        }
        /* a later section of the same name updates the same disk */
        apply_ok("disk", "data", "read-only", "yes");
        REQUIRE(cfg.n_disks == ELEMENTSOF(names));
        CAPTURE_LOG(log, ASSERT_INT_EQ(vm_config_verify(&cfg), 0));
        free(log);
        for (size_t i = 0; i < ELEMENTSOF(sorted); i++) {
                _cleanup_free_ char *path = NULL;

                REQUIRE(asprintf(&path, "/img/%s", sorted[i]) > 0);
                ASSERT_STREQ(cfg.disks[i].name, sorted[i]);
                ASSERT_STREQ(cfg.disks[i].path, path);
                ASSERT_INT_EQ(cfg.disks[i].read_only, streq(sorted[i], "data"));
        }
        teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_vmconf_defaults),
                TEST(test_vmconf_owns),
                TEST(test_vmconf_memory),
                TEST(test_vmconf_numbers),
                TEST(test_vmconf_booleans),
                TEST(test_vmconf_enums),
                TEST(test_vmconf_paths),
                TEST(test_vmconf_console_log_size),
                TEST(test_vmconf_strings),
                TEST(test_vmconf_user_and_allow_root),
                TEST(test_vmconf_lists_accumulate_and_reset),
                TEST(test_vmconf_unknown_key),
                TEST(test_vmconf_instance_rejected),
                TEST(test_vmconf_disk_keys),
                TEST(test_vmconf_disk_bad_values),
                TEST(test_vmconf_name_valid),
                TEST(test_vmconf_verify_ok),
                TEST(test_vmconf_verify_missing_kernel),
                TEST(test_vmconf_verify_disk_without_path),
                TEST(test_vmconf_verify_reports_every_problem),
                TEST(test_vmconf_disks_sorted_by_name),
        };

        return RUN_SUITE("vmconf", tests);
}
