/* SPDX-License-Identifier: MIT */
/* Unit tests of the overlay plugin against the mock host. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock-host.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;

static struct mock_host m;
static void *state;
static char dir[] = "/tmp/vmsilo-overlay-test.XXXXXX";

static void setup(void) {
        mock_host_init(&m);
        m.vm_name = "web";
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &vmsilo_plugin_v1, &state), 0);
}

static void teardown(void) {
        vmsilo_plugin_v1.teardown(state);
        mock_host_done(&m);
}

static int conf(const char *key, const char *value) {
        return mock_host_configure(&m, &vmsilo_plugin_v1, state, NULL, key, value);
}

static void test_overlay_default_is_tmpfs(void) {
        setup();
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL(m.n_devices, 0);
        CU_ASSERT_EQUAL(m.n_kernel_params, 1);
        CU_ASSERT_STRING_EQUAL(m.kernel_params[0], "vmsilo.overlay=tmpfs");
        CU_ASSERT_EQUAL(m.n_unlinks, 0);
        teardown();
}

static void test_overlay_raw_creates_sparse_file(void) {
        char path[256];
        struct stat st;

        setup();
        CU_ASSERT_EQUAL(conf("type", "raw"), 0);
        CU_ASSERT_EQUAL(conf("size", "64M"), 0);
        CU_ASSERT_EQUAL(conf("directory", dir), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        snprintf(path, sizeof(path), "%s/web-ephemeral.raw", dir);
        CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
        CU_ASSERT_EQUAL(st.st_size, 64 << 20);
        CU_ASSERT(st.st_blocks <= 8); /* sparse */
        /* the file's removal is journalled */
        CU_ASSERT_EQUAL_FATAL(m.n_unlinks, 1);
        CU_ASSERT_STRING_EQUAL(m.unlinks[0], path);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_DISK);
        CU_ASSERT_STRING_EQUAL(m.devices[0].path, path);
        CU_ASSERT_STRING_EQUAL(m.devices[0].id, "ephemeral");
        CU_ASSERT_EQUAL(m.devices[0].flags & VMSILO_DEVICE_RO, 0);
        CU_ASSERT_STRING_EQUAL(m.kernel_params[0], "vmsilo.overlay=raw,ephemeral");
        unlink(path);
        teardown();
}

static void test_overlay_dry_run_changes_nothing(void) {
        char path[256];

        setup();
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("type", "raw"), 0);
        CU_ASSERT_EQUAL(conf("directory", dir), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        snprintf(path, sizeof(path), "%s/web-ephemeral.raw", dir);
        CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_steps, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(m.steps[0], "create sparse overlay disk"));
        teardown();
}

static void test_overlay_bad_values(void) {
        setup();
        CU_ASSERT_EQUAL(conf("type", "qcow2"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'qcow2' for 'type' in [overlay]: expected raw, tmpfs or off"));
        CU_ASSERT_EQUAL(conf("size", "10X"), -EINVAL);
        CU_ASSERT_EQUAL(conf("size", "0"), -EINVAL);
        CU_ASSERT_EQUAL(conf("size", "-1G"), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "invalid value '-1G' for 'size' in [overlay]"));
        CU_ASSERT_EQUAL(conf("directory", "relative"), -EINVAL);
        CU_ASSERT_EQUAL(conf("directory", "/var/lib/vm\nsilo"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "for 'directory' in [overlay]: no control characters in a path"));
        CU_ASSERT_EQUAL(conf("colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(mock_host_configure(&m, &vmsilo_plugin_v1, state, "x", "type", "raw"),
                        -EINVAL);
        teardown();
}

static void test_overlay_preflight_unwritable(void) {
        setup();
        CU_ASSERT_EQUAL(conf("type", "raw"), 0);
        CU_ASSERT_EQUAL(conf("directory", "/proc/vmsilo-no/such"), 0);
        CU_ASSERT(vmsilo_plugin_v1.preflight(state) < 0);
        CU_ASSERT(mock_host_logged(&m, "cannot create overlay directory '/proc/vmsilo-no/such'"));
        teardown();
}

int main(void) {
        CU_pSuite s;
        unsigned failures;

        if (!mkdtemp(dir))
                return 1;
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("overlay", NULL, NULL);
        CU_add_test(s, "test_overlay_default_is_tmpfs", test_overlay_default_is_tmpfs);
        CU_add_test(s, "test_overlay_raw_creates_sparse_file",
                    test_overlay_raw_creates_sparse_file);
        CU_add_test(s, "test_overlay_dry_run_changes_nothing",
                    test_overlay_dry_run_changes_nothing);
        CU_add_test(s, "test_overlay_bad_values", test_overlay_bad_values);
        CU_add_test(s, "test_overlay_preflight_unwritable", test_overlay_preflight_unwritable);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        rmdir(dir);
        return failures ? 1 : 0;
}
