/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the gpu plugin against the mock host: the crosvm argv of both flavours, the
 * QEMU arguments, every bad value, and the preflight messages, with a fixture root for
 * /dev/dri and a minimal Wayland server (a thread speaking the wire protocol) for the
 * compositor round trip.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
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
static char dir[] = "/tmp/vmsilo-gpu-test.XXXXXX";
static char sock[100], noderoot[200], server[300];

/* capabilities, as the crosvm backend answers them for each flavour */
static const char *const patched[] = { "gpu",         "gpu opengl",
                                       "gpu wayland", "gpu wayland security context",
                                       "gpu vulkan",  NULL };
static const char *const upstream[] = { "gpu", "gpu opengl", "gpu wayland", "gpu vulkan", NULL };

static void setup(void) {
        mock_host_init(&m);
        m.vm_name = "web";
        m.root = noderoot; /* a /dev/dri with a render node */
        m.vmm_caps = upstream;
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, &vmsilo_plugin_v1, &state), 0);
}

static void teardown(void) {
        vmsilo_plugin_v1.teardown(state);
        mock_host_done(&m);
}

static int conf(const char *key, const char *value) {
        return mock_host_configure(&m, &vmsilo_plugin_v1, state, NULL, key, value);
}

static int preflight(void) {
        return vmsilo_plugin_v1.preflight(state);
}

static int contribute(void) {
        return vmsilo_plugin_v1.contribute(state);
}

/* The one GPU device the plugin declared: its features, compositor socket and app id. */
static void assert_gpu(uint32_t features, const char *server_path, const char *app_id) {
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 1);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_GPU);
        CU_ASSERT_EQUAL(m.devices[0].features, features);
        CU_ASSERT_PTR_NULL(m.devices[0].options); /* no VMM syntax */
        CU_ASSERT_EQUAL(m.n_vmm_args, 0);
        if (server_path) {
                CU_ASSERT_STRING_EQUAL(m.devices[0].server ? m.devices[0].server : "", server_path);
        } else {
                CU_ASSERT_PTR_NULL(m.devices[0].server);
        }
        if (app_id) {
                CU_ASSERT_STRING_EQUAL(m.devices[0].app_id ? m.devices[0].app_id : "", app_id);
        }
}

#define W VMSILO_GPU_WAYLAND
#define GL VMSILO_GPU_OPENGL
#define VK VMSILO_GPU_VULKAN

/* ---- a minimal Wayland compositor: answers get_registry + sync on one connection ---- */

struct fake_compositor {
        int listen_fd;
        int security_context; /* announce wp_security_context_manager_v1 */
        pthread_t thread;
};

static void put_u32(uint8_t *buf, size_t *n, uint32_t v) {
        memcpy(buf + *n, &v, 4);
        *n += 4;
}

static void put_global(uint8_t *buf, size_t *n, uint32_t registry, uint32_t name,
                       const char *interface) {
        size_t start = *n, len = strlen(interface) + 1, padded = (len + 3) & ~(size_t) 3;

        put_u32(buf, n, registry);
        put_u32(buf, n, 0); /* size and opcode 0 (global), filled in below */
        put_u32(buf, n, name);
        put_u32(buf, n, (uint32_t) len);
        memset(buf + *n, 0, padded);
        memcpy(buf + *n, interface, len);
        *n += padded;
        put_u32(buf, n, 1);
        {
                uint32_t word = (uint32_t) (*n - start) << 16;

                memcpy(buf + start + 4, &word, 4);
        }
}

static void *compositor_main(void *data) {
        struct fake_compositor *c = data;
        uint32_t registry = 0, callback = 0, msg[3];
        uint8_t out[1024];
        size_t n = 0;
        int fd = accept(c->listen_fd, NULL, NULL);

        if (fd < 0)
                return NULL;
        /* the client sends get_registry (opcode 1) and sync (opcode 0) on wl_display (1) */
        while ((!registry || !callback) && read(fd, msg, sizeof(msg)) == sizeof(msg)) {
                if (msg[0] == 1 && (msg[1] & 0xffff) == 1)
                        registry = msg[2];
                else if (msg[0] == 1 && (msg[1] & 0xffff) == 0)
                        callback = msg[2];
        }
        put_global(out, &n, registry, 1, "wl_compositor");
        put_global(out, &n, registry, 2, "wl_shm");
        if (c->security_context)
                put_global(out, &n, registry, 3, "wp_security_context_manager_v1");
        put_u32(out, &n, callback);
        put_u32(out, &n, 12u << 16); /* wl_callback.done */
        put_u32(out, &n, 1);
        (void) !write(fd, out, n);
        /* wait for the client to hang up */
        while (read(fd, out, sizeof(out)) > 0)
                ;
        close(fd);
        return NULL;
}

static int listen_on(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CU_ASSERT_FATAL(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        unlink(path);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        CU_ASSERT_EQUAL_FATAL(listen(fd, 4), 0);
        return fd;
}

static void compositor_start(struct fake_compositor *c, int security_context) {
        c->listen_fd = listen_on(sock);
        c->security_context = security_context;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&c->thread, NULL, compositor_main, c), 0);
}

static void compositor_stop(struct fake_compositor *c) {
        pthread_join(c->thread, NULL);
        close(c->listen_fd);
        unlink(sock);
}

/* ---- the device ---- */

static void test_gpu_default_is_off(void) {
        setup();
        m.root = dir; /* no render node, no compositor: nothing is checked */
        CU_ASSERT_EQUAL(preflight(), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        CU_ASSERT_EQUAL(m.n_devices, 0);
        CU_ASSERT_EQUAL(m.n_vmm_args, 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
}

static void test_gpu_on(void) {
        setup();
        m.vmm_caps = patched;
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("color", "blue"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/user/1000/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL, "/run/user/1000/wayland-0", "vmsilo:web:blue");
        CU_ASSERT_STRING_EQUAL(m.devices[0].render_node, "/dev/dri/renderD128");
        teardown();
}

static void test_gpu_security_context_choice(void) {
        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("security-context", "no"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/user/1000/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL | VMSILO_GPU_NO_SECURITY_CONTEXT, "/run/user/1000/wayland-0", NULL);
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("security-context", "yes"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/user/1000/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL | VMSILO_GPU_SECURITY_CONTEXT, "/run/user/1000/wayland-0", NULL);
        teardown();
}

static void test_gpu_custom_features(void) {
        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(conf("opengl", "no"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(conf("render-server", "/opt/virgl/virgl_render_server"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(VK, NULL, NULL);
        CU_ASSERT_STRING_EQUAL(m.devices[0].helper, "/opt/virgl/virgl_render_server");
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(conf("app-id", "work,vm"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/a,b/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        /* the values as they are: the backend quotes them for its VMM */
        assert_gpu(W | GL | VK, "/run/a,b/wayland-0", "work,vm");
        CU_ASSERT_STRING_EQUAL(m.devices[0].helper, "/usr/libexec/virgl_render_server");
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("opengl", "off"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/user/1000/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W, "/run/user/1000/wayland-0", "vmsilo:web:gray");
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "false"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(GL, NULL, NULL);
        teardown();
}

static void test_gpu_socket_from_environment(void) {
        setup();
        setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
        unsetenv("WAYLAND_DISPLAY");
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL, "/run/user/1000/wayland-0", NULL);
        teardown();

        setup();
        setenv("WAYLAND_DISPLAY", "wayland-1", 1);
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL, "/run/user/1000/wayland-1", "vmsilo:web:gray");
        teardown();

        setup();
        setenv("WAYLAND_DISPLAY", "/tmp/wl/sock", 1);
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL, "/tmp/wl/sock", NULL);
        teardown();

        /* the key wins over the environment */
        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", "/run/user/1001/wayland-0"), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(W | GL, "/run/user/1001/wayland-0", NULL);
        teardown();
        unsetenv("WAYLAND_DISPLAY");
        unsetenv("XDG_RUNTIME_DIR");
}

static void test_gpu_qemu_opengl(void) {
        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = (const char *const[]){ "gpu", "gpu opengl", NULL };
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(preflight(), 0);
        CU_ASSERT_EQUAL(contribute(), 0);
        assert_gpu(GL, NULL, NULL);
        CU_ASSERT_STRING_EQUAL(m.devices[0].render_node, "/dev/dri/renderD128");
        teardown();
}

/* ---- configuration ---- */

static void test_gpu_bad_values(void) {
        setup();
        CU_ASSERT_EQUAL(conf("mode", "yes"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'yes' for 'mode' in [gpu]: expected off, on or custom"));
        CU_ASSERT_EQUAL(conf("wayland", "maybe"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'maybe' for 'wayland' in [gpu]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("opengl", ""), -EINVAL);
        CU_ASSERT(
                mock_host_logged(&m, "invalid value '' for 'opengl' in [gpu]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("vulkan", "2"), -EINVAL);
        CU_ASSERT(mock_host_logged(&m,
                                   "invalid value '2' for 'vulkan' in [gpu]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("security-context", "always"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'always' for 'security-context' in [gpu]: expected auto, yes or no"));
        CU_ASSERT_EQUAL(conf("render-server", "virgl_render_server"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'virgl_render_server' for 'render-server' in [gpu]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("wayland-socket", "wayland-0"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'wayland-0' for 'wayland-socket' in [gpu]: expected an absolute path"));
        CU_ASSERT_EQUAL(conf("color", "dark red"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'dark red' for 'color' in [gpu]: expected a color name"));
        CU_ASSERT_EQUAL(conf("color", "#12345"), -EINVAL);
        CU_ASSERT_EQUAL(conf("color", "#12g"), -EINVAL);
        CU_ASSERT_EQUAL(conf("color", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf("color", "#ff8800"), 0);
        CU_ASSERT_EQUAL(conf("color", "#f80"), 0);
        CU_ASSERT_EQUAL(conf("app-id", "has space"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'has space' for 'app-id' in [gpu]: expected 1 to 255 printable characters"));
        CU_ASSERT_EQUAL(conf("app-id", "quo\"te"), -EINVAL);
        CU_ASSERT_EQUAL(conf("app-id", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "5"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value '5' for 'check-timeout' in [gpu]: expected milliseconds from 10 to 60000"));
        CU_ASSERT_EQUAL(conf("check-timeout", "-100"), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "1s"), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "60001"), -EINVAL);
        CU_ASSERT_EQUAL(conf("check-timeout", "500"), 0);
        CU_ASSERT_EQUAL(conf("colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(mock_host_configure(&m, &vmsilo_plugin_v1, state, "x", "mode", "on"),
                        -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "section [gpu] takes no name, found 'x'"));
        teardown();
}

/* ---- preflight ---- */

static void test_gpu_preflight_feature_conflicts(void) {
        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(conf("opengl", "no"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "'mode = custom' in [gpu] with wayland, opengl and vulkan all off; enable one or set 'mode = off'"));
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "'vulkan' in [gpu] takes effect only with 'mode = custom' ('mode = on' is wayland and opengl)"));
        CU_ASSERT(
                mock_host_logged(&m, "'wayland' in [gpu] takes effect only with 'mode = custom'"));
        teardown();
}

static void test_gpu_preflight_render_node_and_server(void) {
        char fake_server[300];

        setup();
        m.root = dir; /* empty: no /dev/dri */
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "opengl needs a GPU render node, but there is no /dev/dri/renderD* device"));
        /* the default render server is looked for under the root */
        CU_ASSERT(mock_host_logged(
                &m,
                "vulkan needs the virgl render server, but '/usr/libexec/virgl_render_server' is not executable: No such file or directory"));
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(conf("opengl", "no"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(conf("render-server", "/nonexistent/virgl_render_server"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "vulkan needs the virgl render server, but '/nonexistent/virgl_render_server' is not executable"));
        CU_ASSERT(!mock_host_logged(&m, "render node"));
        teardown();

        /* a render node and an executable server: vulkan passes */
        setup();
        snprintf(fake_server, sizeof(fake_server), "%s/usr/libexec/virgl_render_server", noderoot);
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(preflight(), 0);
        CU_ASSERT_EQUAL(conf("render-server", fake_server), 0);
        CU_ASSERT_EQUAL(preflight(), 0);
        /* a VMM without a Vulkan context */
        m.vmm_caps = (const char *const[]){ "gpu", "gpu opengl", NULL };
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot do 'gpu vulkan', which vulkan needs"));
        teardown();
}

static void test_gpu_preflight_crosvm_flags(void) {
        setup();
        m.vmm_caps = (const char *const[]){ NULL };
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "the mock VMM cannot do 'gpu' (built without its 'gpu' feature)"));
        CU_ASSERT(mock_host_logged(
                &m, "the mock VMM cannot do 'gpu wayland', so Wayland cannot be forwarded"));
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("security-context", "yes"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot do 'gpu wayland security context' "
                                       "('security-context = yes' in [gpu])"));
        teardown();

        /* the device as a whole: the backend's say (a socket path it cannot take) */
        setup();
        m.check_result = -EOPNOTSUPP;
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot render this device"));
        teardown();

        /* no socket at all */
        setup();
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("WAYLAND_DISPLAY");
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "no Wayland socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'wayland-socket' in [gpu]"));
        teardown();
}

static void test_gpu_preflight_compositor(void) {
        struct fake_compositor c;

        /* upstream: a compositor that answers the round trip is enough */
        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        compositor_start(&c, 0);
        CU_ASSERT_EQUAL(preflight(), 0);
        compositor_stop(&c);
        /* it says that the windows are not tagged */
        CU_ASSERT(mock_host_logged(
                &m,
                "the mock VMM cannot do 'gpu wayland security context': the windows of this VM reach the compositor without a security context or an app id"));
        teardown();

        /* patched: the compositor must offer security-context-v1 */
        setup();
        m.vmm_caps = patched;
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        compositor_start(&c, 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        compositor_stop(&c);
        CU_ASSERT(mock_host_logged(
                &m,
                "has no 'wp_security_context_manager_v1', which a Wayland security context needs"));
        compositor_start(&c, 1);
        CU_ASSERT_EQUAL(preflight(), 0);
        compositor_stop(&c);
        teardown();

        /* nothing listens */
        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        {
                char want[400];

                snprintf(
                        want, sizeof(want),
                        "the Wayland compositor socket '%s' does not accept connections: No such file or directory",
                        sock);
                CU_ASSERT(mock_host_logged(&m, want));
        }
        teardown();
}

static void test_gpu_preflight_hung_compositor(void) {
        struct timespec a, b;
        char want[400];
        int fd;

        setup();
        CU_ASSERT_EQUAL(conf("mode", "on"), 0);
        CU_ASSERT_EQUAL(conf("wayland-socket", sock), 0);
        CU_ASSERT_EQUAL(conf("check-timeout", "300"), 0);
        fd = listen_on(sock); /* accepts into the backlog, never answers */
        clock_gettime(CLOCK_MONOTONIC, &a);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        close(fd);
        unlink(sock);
        snprintf(want, sizeof(want),
                 "the Wayland compositor at '%s' did not answer a round trip within 300 ms", sock);
        CU_ASSERT(mock_host_logged(&m, want));
        CU_ASSERT((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 1500);
        teardown();
}

static void test_gpu_qemu_refuses_what_it_lacks(void) {
        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.vmm_caps = (const char *const[]){ "gpu", NULL };
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("vulkan", "yes"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "the mock VMM cannot do 'gpu wayland', so Wayland cannot be forwarded"));
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot do 'gpu vulkan', which vulkan needs"));
        CU_ASSERT(mock_host_logged(&m, "the mock VMM cannot do 'gpu opengl' for opengl"));
        teardown();

        setup();
        m.vmm = VMSILO_VMM_QEMU;
        m.root = dir;
        m.vmm_caps = (const char *const[]){ "gpu", "gpu opengl", NULL };
        CU_ASSERT_EQUAL(conf("mode", "custom"), 0);
        CU_ASSERT_EQUAL(conf("wayland", "no"), 0);
        CU_ASSERT_EQUAL(preflight(), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "opengl needs a GPU render node"));
        teardown();
}

static void make_fixture(void) {
        char path[400];
        FILE *f;

        snprintf(sock, sizeof(sock), "%s/wayland-test", dir);
        snprintf(noderoot, sizeof(noderoot), "%s/root", dir);
        snprintf(path, sizeof(path), "%s/dev", noderoot);
        mkdir(noderoot, 0755);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/dev/dri", noderoot);
        mkdir(path, 0755);
        /* a character device stands in for the render node */
        snprintf(path, sizeof(path), "%s/dev/dri/renderD128", noderoot);
        (void) !symlink("/dev/null", path);
        snprintf(path, sizeof(path), "%s/dev/dri/card0", noderoot);
        (void) !symlink("/dev/null", path);
        snprintf(path, sizeof(path), "%s/usr", noderoot);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/usr/libexec", noderoot);
        mkdir(path, 0755);
        snprintf(server, sizeof(server), "%s/usr/libexec/virgl_render_server", noderoot);
        f = fopen(server, "w");
        if (f) {
                fputs("#!/bin/sh\n", f);
                fclose(f);
        }
        chmod(server, 0755);
}

static void remove_fixture(void) {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void) !system(cmd);
}

int main(void) {
        CU_pSuite s;
        unsigned failures;

        if (!mkdtemp(dir))
                return 1;
        make_fixture();
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("WAYLAND_DISPLAY");
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("gpu", NULL, NULL);
        CU_add_test(s, "test_gpu_default_is_off", test_gpu_default_is_off);
        CU_add_test(s, "test_gpu_on", test_gpu_on);
        CU_add_test(s, "test_gpu_security_context_choice", test_gpu_security_context_choice);
        CU_add_test(s, "test_gpu_custom_features", test_gpu_custom_features);
        CU_add_test(s, "test_gpu_socket_from_environment", test_gpu_socket_from_environment);
        CU_add_test(s, "test_gpu_qemu_opengl", test_gpu_qemu_opengl);
        CU_add_test(s, "test_gpu_bad_values", test_gpu_bad_values);
        CU_add_test(s, "test_gpu_preflight_feature_conflicts",
                    test_gpu_preflight_feature_conflicts);
        CU_add_test(s, "test_gpu_preflight_render_node_and_server",
                    test_gpu_preflight_render_node_and_server);
        CU_add_test(s, "test_gpu_preflight_crosvm_flags", test_gpu_preflight_crosvm_flags);
        CU_add_test(s, "test_gpu_preflight_compositor", test_gpu_preflight_compositor);
        CU_add_test(s, "test_gpu_preflight_hung_compositor", test_gpu_preflight_hung_compositor);
        CU_add_test(s, "test_gpu_qemu_refuses_what_it_lacks", test_gpu_qemu_refuses_what_it_lacks);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        remove_fixture();
        return failures ? 1 : 0;
}
