/* SPDX-License-Identifier: MIT */
/* core/backend/backend.c: crosvm key=value quoting, capability tokens, binaries and probe caching.
 */
#include <dirent.h>

#include "backend/backend.h"
#include "plugin/vm.h"
#include "testutil.h"
#include "vmsilo/plugin.h"

static void assert_kv(const char *in, const char *expected) {
        _cleanup_free_ char *q = kv_quote(in);

        ASSERT_STREQ(q, expected);
}

static void test_backend_kv_quote_safe_values_unchanged(void) {
        assert_kv("abc", "abc");
        assert_kv("/var/lib/vmsilo/root.img", "/var/lib/vmsilo/root.img");
        assert_kv("aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff");
        assert_kv("0000:00:02.0", "0000:00:02.0");
        assert_kv("my-disk_01", "my-disk_01");
}

static void test_backend_kv_quote_escapes(void) {
        assert_kv("a,b", "\"a,b\"");
        assert_kv("a\"b", "\"a\\\"b\"");
        assert_kv("a\\b", "\"a\\\\b\"");
        assert_kv("[x]", "\"[x]\"");
        assert_kv("a[", "\"a[\"");
        assert_kv("a]", "\"a]\"");
        assert_kv("it's", "\"it's\"");
        assert_kv("a b", "\"a b\"");
        assert_kv("a\tb", "\"a\tb\"");
        assert_kv("", "\"\"");
        assert_kv("/home/user/My Files,old", "\"/home/user/My Files,old\"");
        assert_kv("\"\\", "\"\\\"\\\\\"");
}

static void test_backend_text_has_token(void) {
        static const char *const help = "Usage: crosvm run [options]\n"
                                        "  --block  PATH   a disk\n"
                                        "  --block-size N\n"
                                        "  --gpu=[KEY=VALUE,...]\n"
                                        "      stream-non-blocking=BOOL\n"
                                        "  --no-i8042";

        ASSERT_INT_EQ(text_has_token("  --block  PATH", "--block"), 1);
        ASSERT_INT_EQ(text_has_token("--block", "--block"), 1);
        ASSERT_INT_EQ(text_has_token("--block-size", "--block"), 0);
        ASSERT_INT_EQ(text_has_token("--blocks", "--block"), 0);
        ASSERT_INT_EQ(text_has_token("--block_x", "--block"), 0);
        ASSERT_INT_EQ(text_has_token("x--block", "--block"), 0);
        ASSERT_INT_EQ(text_has_token("no--block here", "--block"), 0);
        ASSERT_INT_EQ(text_has_token("", "--block"), 0);
        /* a longer word first does not hide a later exact one */
        ASSERT_INT_EQ(text_has_token("--block-size N, --block PATH", "--block"), 1);
        ASSERT_INT_EQ(text_has_token(help, "--block"), 1);
        ASSERT_INT_EQ(text_has_token(help, "--gpu"), 1);
        ASSERT_INT_EQ(text_has_token(help, "stream-non-blocking"), 1);
        ASSERT_INT_EQ(text_has_token(help, "non-blocking"), 0);
        ASSERT_INT_EQ(text_has_token(help, "--no-i8042"), 1);
        ASSERT_INT_EQ(text_has_token(help, "--no-i804"), 0);
        ASSERT_INT_EQ(text_has_token(help, "--no-rtc"), 0);
}

static void test_backend_find(void) {
        CU_ASSERT(backend_find("crosvm") == &crosvm_backend);
        CU_ASSERT(backend_find("qemu") == &qemu_backend);
        CU_ASSERT_PTR_NULL(backend_find("kvmtool"));
        CU_ASSERT_PTR_NULL(backend_find("Crosvm"));
        ASSERT_STREQ(crosvm_backend.name, "crosvm");
        ASSERT_INT_EQ(crosvm_backend.vmm, VMSILO_VMM_CROSVM);
        ASSERT_STREQ(qemu_backend.name, "qemu");
        ASSERT_INT_EQ(qemu_backend.vmm, VMSILO_VMM_QEMU);
}

static void write_exec(const char *dir, const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *path = NULL;

        write_file(dir, rel, text);
        REQUIRE(asprintf(&path, "%s/%s", dir, rel) > 0);
        REQUIRE(chmod(path, mode) == 0);
}

static void test_backend_find_binary(void) {
        char *dir = tmpdir_new(), *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *search = NULL, *expected = NULL;
        char *found;

        write_exec(dir, "a/tool", "#!/bin/sh\n", 0644); /* not executable: skipped */
        write_exec(dir, "b/tool", "#!/bin/sh\n", 0755);
        REQUIRE(asprintf(&a, "%s/a", dir) > 0);
        REQUIRE(asprintf(&b, "%s/b", dir) > 0);
        REQUIRE(asprintf(&search, "%s/missing:%s:%s", dir, a, b) > 0);
        setenv("PATH", search, 1);

        found = find_binary("tool");
        REQUIRE(asprintf(&expected, "%s/tool", b) > 0);
        ASSERT_STREQ(found, expected);
        free(found);

        errno = 0;
        found = find_binary("no-such-tool");
        CU_ASSERT_PTR_NULL(found);
        ASSERT_INT_EQ(errno, ENOENT);

        /* with a slash: no search, only "is it executable" */
        found = find_binary(expected);
        ASSERT_STREQ(found, expected);
        free(found);
        free(expected);
        REQUIRE(asprintf(&expected, "%s/tool", a) > 0);
        CU_ASSERT_PTR_NULL(find_binary(expected));
        /* a directory of that name in $PATH is not the binary */
        {
                _cleanup_free_ char *c = NULL, *s2 = NULL, *e2 = NULL;

                REQUIRE(asprintf(&c, "%s/c", dir) > 0);
                REQUIRE(mkdir(c, 0755) == 0);
                REQUIRE(asprintf(&e2, "%s/tool", c) > 0);
                REQUIRE(mkdir(e2, 0755) == 0);
                REQUIRE(asprintf(&s2, "%s:%s", c, b) > 0);
                setenv("PATH", s2, 1);
                found = find_binary("tool");
                free(e2);
                REQUIRE(asprintf(&e2, "%s/tool", b) > 0);
                ASSERT_STREQ(found, e2);
                free(found);
        }

        if (old_path)
                setenv("PATH", old_path, 1);
        else
                unsetenv("PATH");
        free(old_path);
        tmpdir_remove(dir);
}

static void test_backend_probe_cached(void) {
        char *dir = tmpdir_new();
        _cleanup_free_ char *bin = NULL, *cache = NULL, *counter = NULL, *script = NULL;
        char *text;

        REQUIRE(asprintf(&bin, "%s/fakevmm", dir) > 0);
        REQUIRE(asprintf(&cache, "%s/cache", dir) > 0);
        REQUIRE(asprintf(&counter, "%s/runs", dir) > 0);
        REQUIRE(asprintf(&script,
                         "#!/bin/sh\necho ran >> '%s'\necho \"usage: $*\"\necho '  --block PATH'\n",
                         counter) > 0);
        write_exec(dir, "fakevmm", script, 0755);
        {
                const char *const argv[] = { bin, "run", "--help", NULL };

                text = probe_cached(cache, bin, argv, NULL);
                ASSERT_STREQ(text, "usage: run --help\n  --block PATH\n");
                free(text);
                /* the second time comes from the cache: the binary does not run again */
                text = probe_cached(cache, bin, argv, NULL);
                ASSERT_STREQ(text, "usage: run --help\n  --block PATH\n");
                free(text);
                {
                        _cleanup_free_ char *runs = read_file(counter);

                        ASSERT_STREQ(runs, "ran\n");
                }
        }
        {
                /* other arguments: another cache entry */
                const char *const argv[] = { bin, "--help", NULL };

                text = probe_cached(cache, bin, argv, NULL);
                ASSERT_STREQ(text, "usage: --help\n  --block PATH\n");
                free(text);
        }
        {
                /* a new binary (other size and mtime) is probed again */
                const char *const argv[] = { bin, "run", "--help", NULL };
                _cleanup_free_ char *runs = NULL;

                free(script);
                REQUIRE(asprintf(
                                &script,
                                "#!/bin/sh\necho ran >> '%s'\necho \"new usage: $*\"\necho '  --gpu'\n",
                                counter) > 0);
                write_exec(dir, "fakevmm", script, 0755);
                text = probe_cached(cache, bin, argv, NULL);
                ASSERT_STREQ(text, "new usage: run --help\n  --gpu\n");
                free(text);
                runs = read_file(counter);
                ASSERT_STREQ(runs, "ran\nran\nran\n");
        }
        {
                /* a changed salt (e.g. QEMU's module directory) is probed again, once */
                const char *const argv[] = { bin, "run", "--help", NULL };
                _cleanup_free_ char *runs = NULL;

                free(probe_cached(cache, bin, argv, "modules=1"));
                free(probe_cached(cache, bin, argv, "modules=1"));
                runs = read_file(counter);
                ASSERT_STREQ(runs, "ran\nran\nran\nran\n");
        }
        tmpdir_remove(dir);
}

/* Counts the files in `dir` whose name starts with `prefix`. */
static int count_files(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
        closedir(d);
        return n;
}

static void test_backend_probe_cache_is_private(void) {
        char *dir = tmpdir_new();
        _cleanup_free_ char *bin = NULL, *cache = NULL, *other = NULL, *link = NULL, *log = NULL;
        char *text;
        struct stat st;

        REQUIRE(asprintf(&bin, "%s/vmm", dir) > 0);
        REQUIRE(asprintf(&cache, "%s/home/.cache/vmsilo", dir) > 0);
        REQUIRE(asprintf(&other, "%s/other", dir) > 0);
        REQUIRE(asprintf(&link, "%s/link", dir) > 0);
        write_exec(dir, "vmm", "#!/bin/sh\necho help\n", 0755);
        const char *const argv[] = { bin, "--help", NULL };

        /* missing parents are made 0700; the entry is a 0600 file; no temp file is left */
        text = probe_cached(cache, bin, argv, NULL);
        ASSERT_STREQ(text, "help\n");
        free(text);
        REQUIRE(stat(cache, &st) == 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0700);
        ASSERT_INT_EQ(count_files(cache, "probe-"), 1);
        ASSERT_INT_EQ(count_files(cache, "."), 2); /* . and .. only */
        {
                DIR *d = opendir(cache);
                struct dirent *de;

                REQUIRE(d);
                while ((de = readdir(d)))
                        if (strncmp(de->d_name, "probe-", 6) == 0) {
                                REQUIRE(fstatat(dirfd(d), de->d_name, &st, 0) == 0);
                                ASSERT_INT_EQ(st.st_mode & 07777, 0600);
                        }
                closedir(d);
        }

        /* a symlink as the cache dir is not written through */
        REQUIRE(mkdir(other, 0700) == 0);
        REQUIRE(symlink(other, link) == 0);
        CAPTURE_LOG(log, text = probe_cached(link, bin, argv, NULL));
        ASSERT_STREQ(text, "help\n");
        free(text);
        ASSERT_INT_EQ(count_files(other, "probe-"), 0);
        ASSERT_INT_EQ(count_files(other, "."), 2);
        tmpdir_remove(dir);
}

static void test_backend_probe_failure(void) {
        char *dir = tmpdir_new();
        _cleanup_free_ char *bin = NULL, *cache = NULL, *missing = NULL;
        char *text;

        REQUIRE(asprintf(&bin, "%s/failing", dir) > 0);
        REQUIRE(asprintf(&cache, "%s/cache", dir) > 0);
        write_exec(dir, "failing", "#!/bin/sh\necho partial\necho 'no such option' >&2\nexit 3\n",
                   0755);
        {
                const char *const argv[] = { bin, "--help", NULL };

                errno = 0;
                text = probe_cached(cache, bin, argv, NULL);
                CU_ASSERT_PTR_NULL(text);
                ASSERT_INT_EQ(errno, ENOEXEC);
                /* the user sees the tool's status and its own words, not "Exec format error" */
                ASSERT_STREQ(probe_failure(), "exited with status 3: no such option");
                /* a failure is not cached */
                errno = 0;
                CU_ASSERT_PTR_NULL(probe_cached(cache, bin, argv, NULL));
                ASSERT_INT_EQ(errno, ENOEXEC);
        }
        REQUIRE(asprintf(&missing, "%s/missing", dir) > 0);
        {
                const char *const argv[] = { missing, "--help", NULL };

                CU_ASSERT_PTR_NULL(probe_cached(cache, missing, argv, NULL));
        }
        tmpdir_remove(dir);
}

static void test_backend_probe_describe_failure(void) {
        char buf[128];

        probe_describe_failure(buf, sizeof(buf), 1, "");
        ASSERT_STREQ(buf, "exited with status 1");
        probe_describe_failure(buf, sizeof(buf), 2, "bad \033[2Jflag\n");
        ASSERT_STREQ(buf, "exited with status 2: bad \\x1b[2Jflag");
        probe_describe_failure(buf, sizeof(buf), 128 + 11, NULL);
        ASSERT_STREQ(buf, "killed by signal 11 (SIGSEGV)");
        probe_describe_failure(buf, sizeof(buf), 128 + 9, "oom\n");
        ASSERT_STREQ(buf, "killed by signal 9 (SIGKILL): oom");
}

/* ---- capabilities by name (plugin.h, vmm_can) and typed devices ---- */

static const char crosvm_upstream_help[] =
        "  --gpu  --gpu-render-server  --wayland-sock  --vhost-user  --shared-dir  --net\n";
static const char crosvm_patched_help[] =
        "  --gpu  --gpu-render-server  --wayland-sock  --wayland-security-context  --vhost-user\n"
        "  --virtio-snd  pulse_socket_path  --net\n";

static int can(struct vm *vm, const char *capability) {
        vm->missing[0] = 0;
        return backend_can(vm, capability);
}

static void test_backend_crosvm_capabilities(void) {
        struct settings st = {};
        struct vm vm = { .settings = &st, .backend = &crosvm_backend };

        vm.probe_top = strdup("crosvm");
        vm.probe_run = strdup(crosvm_upstream_help);
        ASSERT_INT_EQ(can(&vm, "gpu wayland"), 1);
        ASSERT_INT_EQ(can(&vm, "gpu wayland security context"), 0);
        ASSERT_STREQ(vm.missing, "crosvm has no '--wayland-security-context'");
        ASSERT_INT_EQ(can(&vm, "sound pulse backend"), 0);
        ASSERT_STREQ(vm.missing, "crosvm has no PipeWire/Pulse backend for '--virtio-snd'");
        ASSERT_INT_EQ(can(&vm, "vhost-user sound"), 1);
        ASSERT_INT_EQ(can(&vm, "shared dir"), 1);
        ASSERT_INT_EQ(can(&vm, "net tap name"), 1);
        ASSERT_INT_EQ(can(&vm, "teleport"), 0);
        ASSERT_STREQ(vm.missing, "the crosvm backend knows no capability 'teleport'");
        free(vm.probe_run);
        vm.probe_run = strdup(crosvm_patched_help);
        ASSERT_INT_EQ(can(&vm, "gpu wayland security context"), 1);
        ASSERT_INT_EQ(can(&vm, "sound pulse backend"), 1);
        ASSERT_INT_EQ(can(&vm, "shared dir"), 0);
        /* a typed device the backend cannot take: a ',' in the socket of --wayland-sock */
        {
                struct vm_device d = { .type = VMSILO_DEVICE_GPU,
                                       .features =
                                               VMSILO_GPU_WAYLAND | VMSILO_GPU_NO_SECURITY_CONTEXT,
                                       .server = (char *) "/run/a,b/wayland-0" };

                ASSERT_INT_EQ(backend_check_device(&vm, &d), -EOPNOTSUPP);
                ASSERT_STREQ(
                        vm.missing,
                        "the Wayland socket '/run/a,b/wayland-0' contains ',', which crosvm's '--wayland-sock' cannot take; use a path without ','");
                d.features = VMSILO_GPU_WAYLAND; /* the security context quotes it */
                ASSERT_INT_EQ(backend_check_device(&vm, &d), 0);
        }
        free(vm.probe_top);
        free(vm.probe_run);
}

static void test_backend_qemu_capabilities(void) {
        struct settings st = {};
        struct vm vm = { .settings = &st, .backend = &qemu_backend, .accel = "tcg" };
        char *root = tmpdir_new();

        REQUIRE(confdirs_init(&st.dirs, root, NULL) >= 0);
        vm.probe_top = strdup("QEMU emulator version 7.2.0");
        vm.probe_run = strdup("name \"virtio-gpu-pci\"\nname \"intel-hda\"\nname \"hda-duplex\"\n"
                              "name \"hda-output\"\nname \"vhost-user-fs-pci\"\n");
        ASSERT_INT_EQ(can(&vm, "gpu"), 1);
        ASSERT_INT_EQ(can(&vm, "gpu opengl"), 0);
        ASSERT_STREQ(vm.missing, "qemu has no device 'virtio-gpu-gl-pci'");
        ASSERT_INT_EQ(can(&vm, "gpu wayland"), 0);
        ASSERT_STREQ(vm.missing, "the qemu backend has no Wayland cross-domain device");
        ASSERT_INT_EQ(can(&vm, "vhost-user fs"), 1);
        ASSERT_INT_EQ(can(&vm, "net tap name"), 0);
        /* a monolithic QEMU has its PulseAudio audiodev; a modular one needs audio-pa.so */
        ASSERT_INT_EQ(can(&vm, "sound pulse backend"), 1);
        write_file(root, "usr/lib/x86_64-linux-gnu/qemu/audio-alsa.so", "");
        ASSERT_INT_EQ(can(&vm, "sound pulse backend"), 0);
        ASSERT_STREQ(
                vm.missing,
                "qemu has audio modules but not 'audio-pa.so', which the PulseAudio audiodev needs; install it (Debian: qemu-system-gui)");
        write_file(root, "usr/lib/x86_64-linux-gnu/qemu/audio-pa.so", "");
        ASSERT_INT_EQ(can(&vm, "sound pulse backend"), 1);
        /* a device QEMU cannot render is refused, with what it lacks */
        {
                struct vm_device d = { .type = VMSILO_DEVICE_SHARED_DIR,
                                       .path = (char *) "/srv",
                                       .tag = (char *) "srv" };

                ASSERT_INT_EQ(backend_check_device(&vm, &d), -EOPNOTSUPP);
                ASSERT_STREQ(vm.missing, "the qemu backend has no built-in shared directory");
        }
        free(vm.probe_top);
        free(vm.probe_run);
        confdirs_done(&st.dirs);
        tmpdir_remove(root);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_backend_kv_quote_safe_values_unchanged),
                TEST(test_backend_kv_quote_escapes),
                TEST(test_backend_text_has_token),
                TEST(test_backend_find),
                TEST(test_backend_find_binary),
                TEST(test_backend_probe_cached),
                TEST(test_backend_probe_failure),
                TEST(test_backend_probe_describe_failure),
                TEST(test_backend_probe_cache_is_private),
                TEST(test_backend_crosvm_capabilities),
                TEST(test_backend_qemu_capabilities),
        };

        return RUN_SUITE("backend", tests);
}
