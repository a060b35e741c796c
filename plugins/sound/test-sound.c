/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the sound plugin against the mock host: the crosvm argv of both flavours
 * (patched: --virtio-snd backend=pulse; upstream: a vhost-user backend helper), the QEMU
 * arguments, every bad value, and the preflight messages that fixtures can produce (no
 * daemon, a daemon that never answers, no backend, QEMU without audio-pa). The checks against
 * a real PipeWire are in tests/e2e/test-sound.sh.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mock-host.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;

static struct mock_host m;
static void *state;
static char dir[] = "/tmp/vmsilo-sound-test.XXXXXX";
static char backend[200], pwsock[200], pulsesock[200], qroot[200], qroot_pa[200];
static char *saved_path;

/* capabilities as the backends answer them: patched crosvm and QEMU join the pulse socket */
static const char *const patched[] = { "sound pulse backend", "vhost-user sound", NULL };
static const char *const upstream[] = { "vhost-user sound", NULL };
static const char *const qemu_devices[] = { "sound pulse backend", NULL };

static void setup(void) {
        mock_host_init(&m);
        m.vm_name = "web";
        m.vmm_caps = patched;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &vmsilo_plugin_v1, &state), 0);
}

static void teardown(void) {
        vmsilo_plugin_v1.teardown(state);
        mock_host_done(&m);
}

static int conf(const char *key, const char *value) {
        return mock_host_configure(&m, &vmsilo_plugin_v1, state, NULL, key, value);
}

static void assert_sound(uint32_t features, const char *server, const char *cookie) {
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_SOUND);
        CU_ASSERT_EQUAL(m.devices[0].features, features);
        CU_ASSERT_PTR_NULL(m.devices[0].options); /* no VMM syntax */
        CU_ASSERT_STRING_EQUAL(m.devices[0].server ? m.devices[0].server : "", server);
        CU_ASSERT_STRING_EQUAL(m.devices[0].cookie ? m.devices[0].cookie : "", cookie);
        CU_ASSERT_EQUAL(m.n_vmm_args, 0);
}

static int logged(const char *fmt, const char *arg) {
        char want[600];

        snprintf(want, sizeof(want), fmt, arg);
        if (!mock_host_logged(&m, want)) {
                fprintf(stderr, "\nnot logged: %s\n", want);
                return 0;
        }
        return 1;
}

static void test_sound_default_is_off(void) {
        setup();
        unsetenv("XDG_RUNTIME_DIR");
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL(m.n_devices + m.n_vmm_args + m.n_helpers + m.n_logs, 0);
        teardown();
}

static void test_sound_patched_crosvm(void) {
        setup();
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/user/1000/pulse/native"), 0);
        CU_ASSERT_EQUAL(conf("pulse-cookie", "/home/u/.config/pulse/cookie"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        assert_sound(VMSILO_SOUND_PLAYBACK, "/run/user/1000/pulse/native",
                     "/home/u/.config/pulse/cookie");
        teardown();

        /* capture on; the path as it is (the backend quotes it for its VMM) */
        setup();
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/a,b/pulse/native"), 0);
        CU_ASSERT_EQUAL(conf("pulse-cookie", "/home/u/.config/pulse/cookie"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        assert_sound(VMSILO_SOUND_PLAYBACK | VMSILO_SOUND_CAPTURE, "/run/a,b/pulse/native",
                     "/home/u/.config/pulse/cookie");
        teardown();
}

static void test_sound_paths_from_environment(void) {
        setup();
        setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
        setenv("HOME", "/home/u", 1);
        unsetenv("XDG_CONFIG_HOME");
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        assert_sound(VMSILO_SOUND_PLAYBACK, "/run/user/1000/pulse/native",
                     "/home/u/.config/pulse/cookie");
        teardown();

        setup();
        setenv("XDG_CONFIG_HOME", "/home/u/cfg", 1);
        CU_ASSERT_EQUAL(conf("capture", "on"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        assert_sound(VMSILO_SOUND_CAPTURE, "/run/user/1000/pulse/native",
                     "/home/u/cfg/pulse/cookie");
        teardown();
        unsetenv("XDG_CONFIG_HOME");

        /* the vhost-user backend finds PipeWire where libpipewire would */
        setup();
        m.vmm_caps = upstream;
        setenv("PIPEWIRE_RUNTIME_DIR", "/run/pw", 1);
        setenv("PIPEWIRE_REMOTE", "pipewire-1", 1);
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", backend), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_helpers, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(
                m.helpers[0],
                " env XDG_RUNTIME_DIR=/run/pw PIPEWIRE_RUNTIME_DIR=/run/pw PIPEWIRE_REMOTE=pipewire-1 "));
        teardown();
        unsetenv("PIPEWIRE_RUNTIME_DIR");
        unsetenv("PIPEWIRE_REMOTE");
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("HOME");
}

static void test_sound_upstream_crosvm_runs_vhost_user_backend(void) {
        char want[600];

        setup();
        m.vmm_caps = upstream;
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", backend), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", "/run/user/1000/pipewire-0"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_helpers, 1);
        snprintf(
                want, sizeof(want),
                "vhost-device-sound: env XDG_RUNTIME_DIR=/run/user/1000 PIPEWIRE_RUNTIME_DIR=/run/user/1000 PIPEWIRE_REMOTE=pipewire-0 %s --socket /run/vmsilo/test/sound.sock --backend pipewire",
                backend);
        CU_ASSERT_STRING_EQUAL(m.helpers[0], want);
        CU_ASSERT_EQUAL(m.helper_ready[0], VMSILO_READY_SOCKET);
        CU_ASSERT_STRING_EQUAL(m.helper_sockets[0], "/run/vmsilo/test/sound.sock");
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_VHOST_USER);
        CU_ASSERT_STRING_EQUAL(m.devices[0].kind, "sound");
        CU_ASSERT_STRING_EQUAL(m.devices[0].socket, "/run/vmsilo/test/sound.sock");
        teardown();

        /* a helper that does not come up fails prepare */
        setup();
        m.vmm_caps = upstream;
        m.spawn_result = -ETIMEDOUT;
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", backend), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", "/run/user/1000/pipewire-0"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), -ETIMEDOUT);
        teardown();

        /* no backend: prepare (also `print`) says what to install */
        setup();
        m.vmm_caps = upstream;
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", "/nonexistent/vhost-device-sound"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), -ENOENT);
        CU_ASSERT(mock_host_logged(
                &m,
                "the vhost-user sound backend '/nonexistent/vhost-device-sound' was not found; install rust-vmm's vhost-device-sound or vmsilo's patched crosvm"));
        teardown();
}

static void test_sound_qemu_device(void) {
        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = qemu_devices;
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", "/run/user/1000/pulse/native"), 0);
        CU_ASSERT_EQUAL(conf("pulse-cookie", "/home/u/.config/pulse/cookie"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.prepare(state), 0);
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.contribute(state), 0);
        assert_sound(VMSILO_SOUND_PLAYBACK, "/run/user/1000/pulse/native",
                     "/home/u/.config/pulse/cookie");
        teardown();
}

static void test_sound_bad_values(void) {
        setup();
        CU_ASSERT_EQUAL(conf("playback", "loud"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'loud' for 'playback' in [sound]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("capture", ""), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value '' for 'capture' in [sound]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("pipewire-socket", "pipewire-0"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'pipewire-0' for 'pipewire-socket' in [sound]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("pulse-socket", "pulse/native"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'pulse/native' for 'pulse-socket' in [sound]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("pulse-cookie", "~/.config/pulse/cookie"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value '~/.config/pulse/cookie' for 'pulse-cookie' in [sound]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("vhost-user-backend", "bin/vhost-device-sound"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'bin/vhost-device-sound' for 'vhost-user-backend' in [sound]: expected an absolute path or a program name to look up in $PATH"));
        CU_ASSERT_EQUAL(conf("vhost-user-backend", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", "vhost-device-sound"), 0);
        CU_ASSERT_EQUAL(conf("check-timeout", "9"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value '9' for 'check-timeout' in [sound]: expected milliseconds from 10 to 60000"));
        CU_ASSERT_EQUAL(conf("check-timeout", "2x"), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "-1"), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "100000"), -EINVAL);
        CU_ASSERT_EQUAL(conf("volume", "11"), -ENOENT);
        CU_ASSERT_EQUAL(mock_host_configure(&m, &vmsilo_plugin_v1, state, "hda", "playback", "yes"),
                        -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "section [sound] takes no name, found 'hda'"));
        teardown();
}

static void test_sound_preflight_no_daemon(void) {
        setup();
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", pulsesock), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        CU_ASSERT(logged(
                "the PipeWire server at '%s' does not answer: No such file or directory; is pipewire running?",
                pwsock));
        CU_ASSERT(logged(
                "pulse socket '%s' does not accept connections: No such file or directory; is pipewire-pulse running?",
                pulsesock));
        teardown();

        /* without XDG_RUNTIME_DIR or keys there is nothing to connect to */
        setup();
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("PIPEWIRE_RUNTIME_DIR");
        unsetenv("PIPEWIRE_REMOTE");
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "no PipeWire socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pipewire-socket' in [sound]"));
        CU_ASSERT(mock_host_logged(
                &m,
                "no pulse socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pulse-socket' in [sound]"));
        teardown();
}

static int listen_on(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CU_ASSERT_FATAL(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        unlink(path);
        CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        CU_ASSERT_EQUAL_FATAL(listen(fd, 4), 0);
        return fd;
}

static void test_sound_preflight_hung_daemon(void) {
        struct timespec a, b;
        int pw, pulse;

        setup();
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", pulsesock), 0);
        CU_ASSERT_EQUAL(conf("check-timeout", "300"), 0);
        pw = listen_on(pwsock); /* accepts into the backlog, never answers */
        pulse = listen_on(pulsesock);
        clock_gettime(CLOCK_MONOTONIC, &a);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        CU_ASSERT(logged("the PipeWire server at '%s' did not answer within 300 ms", pwsock));
        /* the pulse socket accepts, which is all that is checked of it */
        CU_ASSERT(!mock_host_logged(&m, "pulse socket"));
        CU_ASSERT((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 1500);
        close(pw);
        close(pulse);
        unlink(pwsock);
        unlink(pulsesock);
        teardown();
}

static void test_sound_preflight_upstream_crosvm(void) {
        setup();
        m.vmm_caps = upstream;
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", "/nonexistent/vhost-device-sound"), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "the mock VMM cannot do 'sound pulse backend', and the vhost-user sound backend '/nonexistent/vhost-device-sound' was not found; install vmsilo's patched crosvm, or rust-vmm's vhost-device-sound"));
        CU_ASSERT(mock_host_logged(
                &m,
                "'capture = no' cannot be enforced with upstream crosvm: the vhost-user sound backend always offers the guest a capture stream"));
        /* the backend speaks PipeWire itself: the pulse socket is not needed */
        CU_ASSERT(!mock_host_logged(&m, "pulse socket"));
        teardown();

        setup();
        m.vmm_caps = upstream;
        setenv("PATH", "/nonexistent", 1);
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "the vhost-user sound backend 'vhost-device-sound' was not found in $PATH"));
        CU_ASSERT(!mock_host_logged(&m, "cannot be enforced"));
        setenv("PATH", saved_path, 1);
        teardown();

        setup();
        m.vmm_caps = (const char *const[]){ NULL };
        CU_ASSERT_EQUAL(conf("capture", "yes"), 0);
        CU_ASSERT_EQUAL(conf("vhost-user-backend", backend), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "the mock VMM cannot do 'sound pulse backend', and the mock VMM cannot do 'vhost-user sound'; install"));
        CU_ASSERT(!mock_host_logged(&m, "was not found"));
        teardown();
}

/* QEMU's devices and audio modules are the qemu backend's to check (test-backend) */
static void test_sound_preflight_qemu(void) {
        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = qemu_devices;
        CU_ASSERT_EQUAL(conf("playback", "yes"), 0);
        CU_ASSERT_EQUAL(conf("pipewire-socket", pwsock), 0);
        CU_ASSERT_EQUAL(conf("pulse-socket", pulsesock), 0);
        CU_ASSERT_EQUAL(vmsilo_plugin_v1.preflight(state), -EINVAL); /* no PipeWire */
        CU_ASSERT(!mock_host_logged(&m, "mock VMM"));
        CU_ASSERT(mock_host_logged(&m, "does not answer"));
        teardown();
}

static void touch(const char *path, mode_t mode) {
        FILE *f = fopen(path, "w");

        if (f) {
                fputs("#!/bin/sh\n", f);
                fclose(f);
        }
        chmod(path, mode);
}

static void make_fixture(void) {
        char p[400];

        snprintf(backend, sizeof(backend), "%s/vhost-device-sound", dir);
        touch(backend, 0755);
        snprintf(pwsock, sizeof(pwsock), "%s/pipewire-0", dir);
        snprintf(pulsesock, sizeof(pulsesock), "%s/native", dir);
        snprintf(qroot, sizeof(qroot), "%s/q1", dir);
        snprintf(qroot_pa, sizeof(qroot_pa), "%s/q2", dir);
        for (int i = 0; i < 2; i++) {
                const char *r = i ? qroot_pa : qroot;
                const char *parts[] = { "", "/usr", "/usr/lib", "/usr/lib/x86_64-linux-gnu",
                                        "/usr/lib/x86_64-linux-gnu/qemu" };

                for (size_t j = 0; j < 5; j++) {
                        snprintf(p, sizeof(p), "%s%s", r, parts[j]);
                        mkdir(p, 0755);
                }
                snprintf(p, sizeof(p), "%s/usr/lib/x86_64-linux-gnu/qemu/audio-alsa.so", r);
                touch(p, 0644);
        }
        snprintf(p, sizeof(p), "%s/usr/lib/x86_64-linux-gnu/qemu/audio-pa.so", qroot_pa);
        touch(p, 0644);
}

int main(void) {
        char cmd[300];
        CU_pSuite s;
        unsigned failures;
        const char *path = getenv("PATH");

        saved_path = strdup(path ? path : "/usr/bin:/bin");
        if (!mkdtemp(dir) || !saved_path)
                return 1;
        make_fixture();
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("sound", NULL, NULL);
        CU_add_test(s, "test_sound_default_is_off", test_sound_default_is_off);
        CU_add_test(s, "test_sound_patched_crosvm", test_sound_patched_crosvm);
        CU_add_test(s, "test_sound_paths_from_environment", test_sound_paths_from_environment);
        CU_add_test(s, "test_sound_upstream_crosvm_runs_vhost_user_backend",
                    test_sound_upstream_crosvm_runs_vhost_user_backend);
        CU_add_test(s, "test_sound_qemu_device", test_sound_qemu_device);
        CU_add_test(s, "test_sound_bad_values", test_sound_bad_values);
        CU_add_test(s, "test_sound_preflight_no_daemon", test_sound_preflight_no_daemon);
        CU_add_test(s, "test_sound_preflight_hung_daemon", test_sound_preflight_hung_daemon);
        CU_add_test(s, "test_sound_preflight_upstream_crosvm",
                    test_sound_preflight_upstream_crosvm);
        CU_add_test(s, "test_sound_preflight_qemu", test_sound_preflight_qemu);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        free(saved_path);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void) !system(cmd);
        return failures ? 1 : 0;
}
