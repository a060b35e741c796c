/* SPDX-License-Identifier: MIT */
/* Unit tests of the example plugin against vmsilo-core's mock host (no core needed). */
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
static char dir[] = "/tmp/vmsilo-example-test.XXXXXX";

static void setup(void) {
        mock_host_init(&m);
        m.vm_name = "web";
        m.vm_id = 7;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &vmsilo_plugin_v1, &state), 0);
}

static void teardown(void) {
        vmsilo_plugin_v1.teardown(state);
        mock_host_done(&m);
}

static int conf(const char *key, const char *value) {
        return mock_host_configure(&m, &vmsilo_plugin_v1, state, NULL, key, value);
}

static void test_example_default_contributes_message(void) {
        setup();
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_kernel_params, 1);
        CU_ASSERT_STRING_EQUAL(m.kernel_params[0], "example.message=hello");
        CU_ASSERT_EQUAL(m.n_undos, 0);
        CU_ASSERT_EQUAL(m.n_steps, 0);
        teardown();
}

static void test_example_bad_values_name_the_key(void) {
        setup();
        CU_ASSERT_EQUAL(conf("message", "two words"), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "invalid value 'two words' for 'message' in [example]"));
        CU_ASSERT_EQUAL(conf("stamp-directory", "relative"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "for 'stamp-directory' in [example]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(mock_host_configure(&m, &vmsilo_plugin_v1, state, "x", "message", "hi"),
                        -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "section [example] takes no name, found 'x'"));
        /* a rule across keys: configured() */
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/user/1000/pulse/native"), 0);
        CU_ASSERT_EQUAL(mock_host_configured(&m, &vmsilo_plugin_v1, state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "'pulse-socket' takes effect only with 'sound = yes'"));
        teardown();
}

static void test_example_preflight_fails_on_missing_directory(void) {
        setup();
        CU_ASSERT_EQUAL(conf("stamp-directory", "/nonexistent/vmsilo-example"), 0);
        CU_ASSERT(vmsilo_plugin_v1.preflight(state) < 0);
        CU_ASSERT(mock_host_logged(
                &m, "stamp directory '/nonexistent/vmsilo-example' is not a writable directory"));
        teardown();
}

static void test_example_prepare_journals_before_writing(void) {
        char path[256], want[300];

        setup();
        CU_ASSERT_EQUAL(conf("message", "hi"), 0);
        CU_ASSERT_EQUAL(conf("stamp-directory", dir), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        snprintf(path, sizeof(path), "%s/web.stamp", dir);
        CU_ASSERT_EQUAL(access(path, F_OK), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_undos, 1);
        snprintf(want, sizeof(want), "remove-stamp %s", path);
        CU_ASSERT_STRING_EQUAL(m.undos[0], want);
        /* undo removes it, and a second undo (cleanup after stop) is not an error */
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.undo(state, m.undos[0]), 0);
        CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.undo(state, m.undos[0]), 0);
        teardown();
}

static void test_example_dry_run_changes_nothing(void) {
        char path[256];

        setup();
        m.dry_run = 1;
        CU_ASSERT_EQUAL(conf("stamp-directory", dir), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        snprintf(path, sizeof(path), "%s/web.stamp", dir);
        CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
        CU_ASSERT_EQUAL(m.n_undos, 0);
        CU_ASSERT_EQUAL_FATAL(m.n_steps, 1);
        CU_ASSERT(strstr(m.steps[0], "write stamp file") != NULL);
        teardown();
}

/* A typed device: the plugin says what it is, the backend how its VMM spells it. */
static void test_example_sound_device(void) {
        static const char *const caps[] = { "sound pulse backend", NULL };

        setup();
        m.vmm_caps = caps;
        CU_ASSERT_EQUAL(conf("sound", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/user/1000/pulse/native"), 0);
        CU_ASSERT_EQUAL(mock_host_configured(&m, &vmsilo_plugin_v1, state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_SOUND);
        CU_ASSERT_EQUAL(m.devices[0].features, VMSILO_SOUND_PLAYBACK);
        CU_ASSERT_STRING_EQUAL(m.devices[0].server, "/run/user/1000/pulse/native");
        CU_ASSERT_EQUAL(m.n_vmm_args, 0);
        teardown();

        /* a VMM without it: preflight says what it lacks */
        setup();
        CU_ASSERT_EQUAL(conf("sound", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/user/1000/pulse/native"), 0);
        CU_ASSERT(vmsilo_plugin_v1.preflight(state) < 0);
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot do 'sound pulse backend'"));
        teardown();
}

int main(void) {
        CU_pSuite s;
        int failures;

        if (!mkdtemp(dir))
                return 1;
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("example", NULL, NULL);
        CU_add_test(s, "test_example_default_contributes_message",
                    test_example_default_contributes_message);
        CU_add_test(s, "test_example_bad_values_name_the_key",
                    test_example_bad_values_name_the_key);
        CU_add_test(s, "test_example_preflight_fails_on_missing_directory",
                    test_example_preflight_fails_on_missing_directory);
        CU_add_test(s, "test_example_prepare_journals_before_writing",
                    test_example_prepare_journals_before_writing);
        CU_add_test(s, "test_example_dry_run_changes_nothing",
                    test_example_dry_run_changes_nothing);
        CU_add_test(s, "test_example_sound_device", test_example_sound_device);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = (int) CU_get_number_of_failures();
        CU_cleanup_registry();
        rmdir(dir);
        return failures ? 1 : 0;
}
