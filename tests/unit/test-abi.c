/* SPDX-License-Identifier: MIT */
/*
 * sdk/vmsilo/plugin.h: the plugin ABI, pinned. Members are only ever appended; any change to
 * a size or an offset below breaks every built plugin and must come with an ABI bump.
 * The numbers are those of x86_64 (LP64).
 */
#include <sys/wait.h>

/* twice: the include guard must hold */
#include "vmsilo/plugin.h"
#include "vmsilo/plugin.h"

#include "plugin/loader.h"
#include "testutil.h"

#define ASSERT_OFFSET(type, member, off) ASSERT_INT_EQ(offsetof(struct type, member), off)

static void test_abi_version(void) {
        ASSERT_INT_EQ(VMSILO_PLUGIN_ABI_MAJOR, 1);
        ASSERT_INT_EQ(VMSILO_PLUGIN_ABI_MINOR, 2);
        ASSERT_STREQ(VMSILO_PLUGIN_SYMBOL, "vmsilo_plugin_v1");
        /* the smallest descriptor the core accepts is the whole ABI 1.0 descriptor */
        ASSERT_INT_EQ(VMSILO_PLUGIN_MIN_SIZE, 80);
}

static void test_abi_enums(void) {
        ASSERT_INT_EQ(VMSILO_LOG_ERROR, 3);
        ASSERT_INT_EQ(VMSILO_LOG_WARNING, 4);
        ASSERT_INT_EQ(VMSILO_LOG_NOTICE, 5);
        ASSERT_INT_EQ(VMSILO_LOG_INFO, 6);
        ASSERT_INT_EQ(VMSILO_LOG_DEBUG, 7);
        ASSERT_INT_EQ(VMSILO_VMM_CROSVM, 1);
        ASSERT_INT_EQ(VMSILO_VMM_QEMU, 2);
        ASSERT_INT_EQ(VMSILO_DEVICE_DISK, 1);
        ASSERT_INT_EQ(VMSILO_DEVICE_NET, 2);
        ASSERT_INT_EQ(VMSILO_DEVICE_VHOST_USER, 3);
        ASSERT_INT_EQ(VMSILO_DEVICE_VFIO, 4);
        ASSERT_INT_EQ(VMSILO_DEVICE_GPU, 5);
        ASSERT_INT_EQ(VMSILO_DEVICE_SOUND, 6);
        ASSERT_INT_EQ(VMSILO_DEVICE_SHARED_DIR, 7);
        ASSERT_INT_EQ(VMSILO_FS_POSIX_ACL, 1);
        ASSERT_INT_EQ(VMSILO_FS_CACHE_ALWAYS, 2);
        ASSERT_INT_EQ(VMSILO_FS_CACHE_NEVER, 4);
        ASSERT_INT_EQ(VMSILO_DEVICE_RO, 1);
        ASSERT_INT_EQ(VMSILO_DEVICE_ROOT, 2);
        ASSERT_INT_EQ(VMSILO_DEVICE_NO_DIRECT, 4);
        ASSERT_INT_EQ(VMSILO_READY_NONE, 0);
        ASSERT_INT_EQ(VMSILO_READY_SOCKET, 1);
        ASSERT_INT_EQ(VMSILO_READY_FILE, 2);
        /* ABI 1.1 */
        ASSERT_INT_EQ(VMSILO_GPU_WAYLAND, 1);
        ASSERT_INT_EQ(VMSILO_GPU_OPENGL, 2);
        ASSERT_INT_EQ(VMSILO_GPU_VULKAN, 4);
        ASSERT_INT_EQ(VMSILO_GPU_SECURITY_CONTEXT, 8);
        ASSERT_INT_EQ(VMSILO_GPU_NO_SECURITY_CONTEXT, 16);
        ASSERT_INT_EQ(VMSILO_SOUND_PLAYBACK, 1);
        ASSERT_INT_EQ(VMSILO_SOUND_CAPTURE, 2);
        ASSERT_INT_EQ(VMSILO_IOMMU_DEFAULT, 0);
        ASSERT_INT_EQ(VMSILO_IOMMU_OFF, 1);
        ASSERT_INT_EQ(VMSILO_IOMMU_VIOMMU, 2);
        ASSERT_INT_EQ(VMSILO_IOMMU_COIOMMU, 3);
        ASSERT_INT_EQ(VMSILO_IOMMU_PKVM, 4);
        ASSERT_INT_EQ(VMSILO_KEY_BOOL, 1);
        ASSERT_INT_EQ(VMSILO_KEY_UINT, 2);
        ASSERT_INT_EQ(VMSILO_KEY_STRING, 3);
        ASSERT_INT_EQ(VMSILO_KEY_PATH, 4);
        ASSERT_INT_EQ(VMSILO_KEY_PROGRAM, 5);
        ASSERT_INT_EQ(VMSILO_KEY_ENUM, 6);
        ASSERT_INT_EQ(VMSILO_KEY_SIZE, 7);
        ASSERT_INT_EQ(VMSILO_KEY_LIST, 1);
        ASSERT_INT_EQ(VMSILO_KEY_INSTANCE, 2);
        ASSERT_INT_EQ(VMSILO_KEY_EMPTY, 4);
        ASSERT_INT_EQ(VMSILO_KEY_AUTO, 8);
        ASSERT_INT_EQ(VMSILO_KEY_SPLIT, 16);
}

static void test_abi_plugin_layout(void) {
        ASSERT_INT_EQ(sizeof(struct vmsilo_plugin), 112);
        ASSERT_OFFSET(vmsilo_plugin, abi_major, 0);
        ASSERT_OFFSET(vmsilo_plugin, size, 4);
        ASSERT_OFFSET(vmsilo_plugin, name, 8);
        ASSERT_OFFSET(vmsilo_plugin, version, 16);
        ASSERT_OFFSET(vmsilo_plugin, init, 24);
        ASSERT_OFFSET(vmsilo_plugin, configure, 32);
        ASSERT_OFFSET(vmsilo_plugin, preflight, 40);
        ASSERT_OFFSET(vmsilo_plugin, prepare, 48);
        ASSERT_OFFSET(vmsilo_plugin, contribute, 56);
        ASSERT_OFFSET(vmsilo_plugin, undo, 64);
        ASSERT_OFFSET(vmsilo_plugin, teardown, 72);
        /* ABI 1.1 */
        ASSERT_OFFSET(vmsilo_plugin, keys, 80);
        ASSERT_OFFSET(vmsilo_plugin, key_size, 88);
        ASSERT_OFFSET(vmsilo_plugin, instance, 96);
        ASSERT_OFFSET(vmsilo_plugin, configured, 104);
}

static void test_abi_host_layout(void) {
        ASSERT_INT_EQ(sizeof(struct vmsilo_host), 200);
        ASSERT_OFFSET(vmsilo_host, size, 0);
        ASSERT_OFFSET(vmsilo_host, abi_minor, 4);
        ASSERT_OFFSET(vmsilo_host, core, 8);
        ASSERT_OFFSET(vmsilo_host, log, 16);
        ASSERT_OFFSET(vmsilo_host, vm_name, 24);
        ASSERT_OFFSET(vmsilo_host, vm_id, 32);
        ASSERT_OFFSET(vmsilo_host, runtime_dir, 40);
        ASSERT_OFFSET(vmsilo_host, vmm, 48);
        ASSERT_OFFSET(vmsilo_host, vmm_has, 56);
        ASSERT_OFFSET(vmsilo_host, add_device, 64);
        ASSERT_OFFSET(vmsilo_host, add_kernel_param, 72);
        ASSERT_OFFSET(vmsilo_host, add_vmm_arg, 80);
        ASSERT_OFFSET(vmsilo_host, pass_fd, 88);
        ASSERT_OFFSET(vmsilo_host, spawn_helper, 96);
        ASSERT_OFFSET(vmsilo_host, push_undo, 104);
        ASSERT_OFFSET(vmsilo_host, push_unlink, 112);
        ASSERT_OFFSET(vmsilo_host, vm_uid, 120);
        ASSERT_OFFSET(vmsilo_host, vm_gid, 128);
        ASSERT_OFFSET(vmsilo_host, root_path, 136);
        ASSERT_OFFSET(vmsilo_host, dry_run, 144);
        ASSERT_OFFSET(vmsilo_host, describe, 152);
        /* ABI 1.1 */
        ASSERT_OFFSET(vmsilo_host, vmm_can, 160);
        ASSERT_OFFSET(vmsilo_host, log_errno, 168);
        ASSERT_OFFSET(vmsilo_host, log_at, 176);
        ASSERT_OFFSET(vmsilo_host, check_device, 184);
        /* ABI 1.2 */
        ASSERT_OFFSET(vmsilo_host, companion, 192);
}

static void test_abi_device_layout(void) {
        ASSERT_INT_EQ(sizeof(struct vmsilo_device), 136);
        ASSERT_OFFSET(vmsilo_device, size, 0);
        ASSERT_OFFSET(vmsilo_device, type, 4);
        ASSERT_OFFSET(vmsilo_device, flags, 8);
        ASSERT_OFFSET(vmsilo_device, fd, 12);
        ASSERT_OFFSET(vmsilo_device, path, 16);
        ASSERT_OFFSET(vmsilo_device, id, 24);
        ASSERT_OFFSET(vmsilo_device, name, 32);
        ASSERT_OFFSET(vmsilo_device, mac, 40);
        ASSERT_OFFSET(vmsilo_device, kind, 48);
        ASSERT_OFFSET(vmsilo_device, socket, 56);
        ASSERT_OFFSET(vmsilo_device, tag, 64);
        ASSERT_OFFSET(vmsilo_device, options, 72);
        ASSERT_OFFSET(vmsilo_device, pci_address, 80);
        /* ABI 1.1 */
        ASSERT_OFFSET(vmsilo_device, features, 88);
        ASSERT_OFFSET(vmsilo_device, iommu, 92);
        ASSERT_OFFSET(vmsilo_device, server, 96);
        ASSERT_OFFSET(vmsilo_device, app_id, 104);
        ASSERT_OFFSET(vmsilo_device, helper, 112);
        ASSERT_OFFSET(vmsilo_device, cookie, 120);
        ASSERT_OFFSET(vmsilo_device, render_node, 128);
}

static void test_abi_key_layout(void) {
        ASSERT_INT_EQ(sizeof(struct vmsilo_key), 80);
        ASSERT_OFFSET(vmsilo_key, name, 0);
        ASSERT_OFFSET(vmsilo_key, type, 8);
        ASSERT_OFFSET(vmsilo_key, flags, 12);
        ASSERT_OFFSET(vmsilo_key, offset, 16);
        ASSERT_OFFSET(vmsilo_key, def, 24);
        ASSERT_OFFSET(vmsilo_key, values, 32);
        ASSERT_OFFSET(vmsilo_key, min, 40);
        ASSERT_OFFSET(vmsilo_key, max, 48);
        ASSERT_OFFSET(vmsilo_key, validate, 56);
        ASSERT_OFFSET(vmsilo_key, expected, 64);
        ASSERT_OFFSET(vmsilo_key, help, 72);
}

static void test_abi_helper_layout(void) {
        ASSERT_INT_EQ(sizeof(struct vmsilo_helper), 40);
        ASSERT_OFFSET(vmsilo_helper, size, 0);
        ASSERT_OFFSET(vmsilo_helper, ready, 4);
        ASSERT_OFFSET(vmsilo_helper, name, 8);
        ASSERT_OFFSET(vmsilo_helper, argv, 16);
        ASSERT_OFFSET(vmsilo_helper, socket, 24);
        ASSERT_OFFSET(vmsilo_helper, timeout_ms, 32);
}

static void dummy_describe(const struct vmsilo_host *h, const char *fmt, ...) {
        (void) h;
        (void) fmt;
}

/* VMSILO_HOST_HAS() is how a plugin probes for members newer than its host. */
static void test_abi_host_has(void) {
        struct vmsilo_host h = { .size = sizeof(struct vmsilo_host), .describe = dummy_describe };

        CU_ASSERT(VMSILO_HOST_HAS(&h, describe));
        CU_ASSERT(!VMSILO_HOST_HAS(&h, dry_run)); /* NULL member: not supported */
        h.size = offsetof(struct vmsilo_host,
                          describe); /* an older host: describe is past the end */
        CU_ASSERT(!VMSILO_HOST_HAS(&h, describe));
        h.size = offsetof(struct vmsilo_host, describe) + sizeof(void *);
        CU_ASSERT(VMSILO_HOST_HAS(&h, describe));
}

/* ---- C++ plugin authors ---- */

/* Runs `sh -c cmd`; the exit status, or -1. */
static int run_sh(const char *cmd) {
        int status = system(cmd);

        return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* 1 if a C++ compiler and the SDK header (from the repository root) are available. */
static int have_cxx(void) {
        if (access("sdk/vmsilo/plugin.h", R_OK) < 0) {
                fprintf(stderr,
                        " (skipped: sdk/vmsilo/plugin.h not found from the current directory) ");
                return 0;
        }
        if (run_sh("command -v c++ >/dev/null 2>&1") != 0) {
                fprintf(stderr, " (skipped: no c++ compiler) ");
                return 0;
        }
        return 1;
}

static void test_abi_header_compiles_as_cxx(void) {
        char *dir, *cmd;

        if (!have_cxx())
                return;
        dir = tmpdir_new();
        write_file(
                dir, "t.cc",
                "#include <vmsilo/plugin.h>\n"
                "#include <vmsilo/plugin.h>\n"
                "static int f(const struct vmsilo_host *h) { return VMSILO_HOST_HAS(h, describe); }\n"
                "int main() { struct vmsilo_host h = {}; return f(&h) + VMSILO_PLUGIN_ABI_MAJOR - 1; }\n");
        REQUIRE(asprintf(
                        &cmd,
                        "c++ -std=c++11 -Wall -Wextra -Werror -pedantic -Isdk -fsyntax-only %s/t.cc",
                        dir) > 0);
        ASSERT_INT_EQ(run_sh(cmd), 0);
        free(cmd);
        tmpdir_remove(dir);
}

/*
 * Known bug (see the report): in C++, a namespace-scope `const` object has internal linkage,
 * so VMSILO_PLUGIN_DEFINE in a C++ plugin defines a local, name-mangled descriptor
 * (_ZL16vmsilo_plugin_v1; g++ warns "'visibility' attribute ignored") and the core cannot find
 * it. The macro needs `extern "C"` under __cplusplus.
 */
static void test_abi_cxx_plugin_exports_descriptor(void) {
        _cleanup_free_ char *cmd = NULL, *path = NULL, *log = NULL, *cwd = NULL;
        struct plugin_set s = {};
        struct plugin *p;
        char *dir;
        int r;

        if (!have_cxx())
                return;
        cwd = get_current_dir_name();
        REQUIRE(cwd);
        dir = tmpdir_new();
        write_file(
                dir, "cxx.cc",
                "#include <vmsilo/plugin.h>\n"
                "static int cxx_init(const struct vmsilo_host *, void **) { return 0; }\n"
                "VMSILO_PLUGIN_DEFINE = { VMSILO_PLUGIN_ABI_MAJOR, sizeof(struct vmsilo_plugin),\n"
                "                         \"cxx\", \"1\", cxx_init, 0, 0, 0, 0, 0, 0 };\n");
        REQUIRE(asprintf(
                        &cmd,
                        "cd %s && c++ -std=c++11 -shared -fPIC -fvisibility=hidden -I'%s/sdk' -o cxx.so cxx.cc 2>/dev/null",
                        dir, cwd) > 0);
        REQUIRE(run_sh(cmd) == 0);
        REQUIRE(asprintf(&path, "%s/cxx.so", dir) > 0);
        p = calloc(1, sizeof(*p));
        s.items = calloc(1, sizeof(*s.items));
        REQUIRE(p && s.items);
        p->name = strdup("cxx");
        p->path = strdup(path);
        s.items[s.n++] = p;
        CAPTURE_LOG(log, r = plugin_load(p));
        ASSERT_INT_EQ(r, 0);
        ASSERT_STREQ(log, "");
        plugin_set_done(&s);
        tmpdir_remove(dir);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_abi_version),
                TEST(test_abi_enums),
                TEST(test_abi_plugin_layout),
                TEST(test_abi_host_layout),
                TEST(test_abi_device_layout),
                TEST(test_abi_helper_layout),
                TEST(test_abi_key_layout),
                TEST(test_abi_host_has),
                TEST(test_abi_header_compiles_as_cxx),
                TEST(test_abi_cxx_plugin_exports_descriptor),
        };

        return RUN_SUITE("abi", tests);
}
