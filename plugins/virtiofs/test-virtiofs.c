/* SPDX-License-Identifier: MIT */
/* Unit tests of the virtiofs plugin against the mock host. The virtiofsd binaries are small
 * scripts that answer --help like the C and the Rust virtiofsd do. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock-host.h"
#include "safedir.h"
#include "virtiofs.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;

static struct mock_host m;
static void *state;
static char dir[] = "/tmp/vmsilo-virtiofs-test.XXXXXX";
static char c_bin[256], rust_bin[256], old_rust_bin[256], broken_bin[256], unknown_bin[256];
static char launch_bin[256];
static char src[256], src2[256], file[256];

#define P (&vmsilo_plugin_v1)

/* as crosvm answers: it asks the backend for the tag, and has its own shared directories */
static const char *const crosvm_caps[] = { "vhost-user fs backend tag", "shared dir", NULL };

static void setup(void) {
        mock_host_init(&m);
        m.vm_name = "web";
        m.runtime_dir = "/run/vmsilo/web";
        m.vmm = VMSILO_VMM_QEMU;
        virtiofs_set_launcher(launch_bin);
        CU_ASSERT_EQUAL_FATAL(mock_host_start(&m, P, &state), 0);
}

static void teardown(void) {
        P->teardown(state);
        mock_host_done(&m);
}

/* one key, then the derived values, as the core's configured() would leave them */
static int conf(const char *instance, const char *key, const char *value) {
        int r = mock_host_configure(&m, P, state, instance, key, value);

        return r < 0 ? r : virtiofs_convert(state);
}

/* preflight, prepare and contribute; returns the first failure */
static int run_all(void) {
        int r = P->preflight(state);

        if (r >= 0)
                r = P->prepare(state);
        if (r >= 0)
                r = P->contribute(state);
        return r;
}

static char *params(void) {
        return mock_host_join(m.kernel_params, m.n_kernel_params);
}

static void assert_params(const char *want) {
        char *got = params();

        CU_ASSERT_STRING_EQUAL(got, want);
        if (strcmp(got, want) != 0)
                fprintf(stderr, "\n  kernel params: '%s'\n  expected:      '%s'\n", got, want);
        free(got);
}

static void assert_helper(int i, const char *want) {
        CU_ASSERT_FATAL(i < m.n_helpers);
        CU_ASSERT_STRING_EQUAL(m.helpers[i], want);
        if (strcmp(m.helpers[i], want) != 0)
                fprintf(stderr, "\n  helper:   '%s'\n  expected: '%s'\n", m.helpers[i], want);
}

/* "NAME: virtiofs-launch ... --" for a share of root's VM "web" */
static const char *launch(const char *name, const char *path, const char *extra) {
        static char buf[4][1024];
        static int i;

        i = (i + 1) % 4;
        snprintf(
                buf[i], sizeof(buf[i]),
                "%s: %s --share=%s --path=%s --vm-uid=%u --vm-gid=%u --root=/run/vmsilo/web/virtiofs-%s.root %s--",
                name, launch_bin, name, path, m.uid, m.gid, name, extra);
        return buf[i];
}

static void test_virtiofs_no_shares_does_nothing(void) {
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", broken_bin), 0); /* never run */
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        CU_ASSERT_EQUAL(m.n_devices, 0);
        CU_ASSERT_EQUAL(m.n_kernel_params, 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
}

static void test_virtiofs_c_argv(void) {
        char want[2048];

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(conf("data", "cache", "always"), 0);
        CU_ASSERT_EQUAL(conf("data", "xattr", "yes"), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("docs", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("docs", "cache", "none"), 0);
        CU_ASSERT_EQUAL(conf("docs", "posix-acl", "yes"), 0);
        CU_ASSERT_EQUAL(conf("docs", "tag", "documents"), 0);
        CU_ASSERT_EQUAL(conf("docs", "mount-point", "/srv/docs"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_helpers, 2);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock -o source=/run/vmsilo/web/virtiofs-data.root -o cache=always -o xattr -o sandbox=namespace -o announce_submounts -o modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, "--private-run=/run/vmsilo/web "), c_bin);
        assert_helper(0, want);
        /* read-only: virtiofs-launch binds the directory read-only */
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-docs.sock -o source=/run/vmsilo/web/virtiofs-docs.root -o cache=none -o xattr -o posix_acl -o sandbox=namespace -o announce_submounts -o modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("docs", src2, "--read-only --private-run=/run/vmsilo/web "), c_bin);
        assert_helper(1, want);
        CU_ASSERT_EQUAL(m.helper_ready[0], VMSILO_READY_SOCKET);
        CU_ASSERT_STRING_EQUAL(m.helper_sockets[0], "/run/vmsilo/web/virtiofs-data.sock");
        /* the mount points virtiofs-launch creates are removed after it stops; the C
         * virtiofsd's lock file stays in its private /run */
        CU_ASSERT_EQUAL_FATAL(m.n_unlinks, 2);
        CU_ASSERT_STRING_EQUAL(m.unlinks[0], "/run/vmsilo/web/virtiofs-data.root");
        CU_ASSERT_STRING_EQUAL(m.unlinks[1], "/run/vmsilo/web/virtiofs-docs.root");
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 2);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_VHOST_USER);
        CU_ASSERT_STRING_EQUAL(m.devices[0].kind, "fs");
        CU_ASSERT_STRING_EQUAL(m.devices[0].socket, "/run/vmsilo/web/virtiofs-data.sock");
        CU_ASSERT_STRING_EQUAL(m.devices[0].tag, "data");
        CU_ASSERT_STRING_EQUAL(m.devices[1].tag, "documents");
        assert_params("systemd.mount-extra=data:/mnt/data:virtiofs "
                      "systemd.mount-extra=documents:/srv/docs:virtiofs:ro");
        teardown();
}

static void test_virtiofs_c_escapes_commas(void) {
        char odd[300], want[2048];

        snprintf(odd, sizeof(odd), "%s/a,b\\c", dir);
        mkdir(odd, 0755);
        setup();
        m.runtime_dir = odd; /* the source virtiofsd gets is in the runtime dir */
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("odd", "path", odd), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "odd: %s --share=odd --path=%s --vm-uid=0 --vm-gid=0 --root=%s/virtiofs-odd.root --private-run=%s -- %s --socket-path=%s/virtiofs-odd.sock -o source=%s/a\\,b\\\\c/virtiofs-odd.root -o cache=auto -o no_xattr -o sandbox=namespace -o announce_submounts -o modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch_bin, odd, odd, odd, c_bin, odd, dir);
        assert_helper(0, want);
        teardown();
        rmdir(odd);
}

static void test_virtiofs_rust_argv_crosvm(void) {
        static const char *const flags[] = { "--vhost-user", NULL };
        char want[2048];

        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = crosvm_caps;
        m.vmm_flags = flags;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "sandbox", "chroot"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(conf("data", "tag", "shared.data"), 0);
        CU_ASSERT_EQUAL(conf("data", "cache", "metadata"), 0);
        CU_ASSERT_EQUAL(conf("data", "xattr", "yes"), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "map:1000:1000:1"), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "squash-guest:0:1000:65536"), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-gid", "forbid-guest:0:100"), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("docs", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("docs", "posix-acl", "on"), 0);
        CU_ASSERT_EQUAL(conf("docs", "cache", "never"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL_FATAL(m.n_helpers, 2);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock --shared-dir=/run/vmsilo/web/virtiofs-data.root --tag=shared.data --cache=metadata --sandbox=chroot --announce-submounts --xattr --translate-uid=map:1000:1000:1 --translate-uid=squash-guest:0:1000:65536 --translate-gid=forbid-guest:0:100 --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, ""), rust_bin);
        assert_helper(0, want);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-docs.sock --shared-dir=/run/vmsilo/web/virtiofs-docs.root --tag=docs --cache=never --sandbox=chroot --announce-submounts --posix-acl --readonly --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("docs", src2, "--read-only "), rust_bin);
        assert_helper(1, want);
        /* the mount point and the Rust virtiofsd's SOCKET.pid */
        CU_ASSERT_EQUAL_FATAL(m.n_unlinks, 4);
        CU_ASSERT_STRING_EQUAL(m.unlinks[0], "/run/vmsilo/web/virtiofs-data.root");
        CU_ASSERT_STRING_EQUAL(m.unlinks[1], "/run/vmsilo/web/virtiofs-data.sock.pid");
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 2);
        CU_ASSERT_STRING_EQUAL(m.devices[0].tag, "shared.data");
        CU_ASSERT_STRING_EQUAL(m.devices[1].socket, "/run/vmsilo/web/virtiofs-docs.sock");
        assert_params("systemd.mount-extra=shared.data:/mnt/data:virtiofs "
                      "systemd.mount-extra=docs:/mnt/docs:virtiofs:ro");
        teardown();
}

/* QEMU takes the tag from its -device; QEMU 7.1-8.0 crash on a backend that offers one */
static void test_virtiofs_rust_argv_qemu_has_no_tag(void) {
        char want[2048];

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock --shared-dir=/run/vmsilo/web/virtiofs-data.root --cache=auto --sandbox=namespace --announce-submounts --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295 --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, ""), rust_bin);
        assert_helper(0, want);
        CU_ASSERT_STRING_EQUAL(m.devices[0].tag, "data");
        teardown();
}

/* an old Rust virtiofsd without --readonly: the read-only bind of virtiofs-launch enforces
 * it, for root's VMs and for a user's alike */
static void test_virtiofs_old_rust_read_only(void) {
        char want[2048];

        for (uint32_t uid = 0; uid <= 1000; uid += 1000) {
                setup();
                m.uid = m.gid = uid;
                CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", old_rust_bin), 0);
                CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
                CU_ASSERT_EQUAL(conf("docs", "read-only", "yes"), 0);
                CU_ASSERT_EQUAL(run_all(), 0);
                snprintf(
                        want, sizeof(want),
                        "%s %s --socket-path=/run/vmsilo/web/virtiofs-docs.sock --shared-dir=/run/vmsilo/web/virtiofs-docs.root --cache=auto --sandbox=namespace",
                        launch("docs", src2, "--read-only "), old_rust_bin);
                assert_helper(0, want);
                CU_ASSERT_EQUAL(m.n_logs, 0);
                teardown();
        }
}

static void test_virtiofs_flavour_hook(void) {
        char want[2048];

        /* flavour = c: the C command line whatever --help says */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "flavour", "c"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock -o source=/run/vmsilo/web/virtiofs-data.root -o cache=auto -o no_xattr -o sandbox=namespace -o announce_submounts -o modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, "--private-run=/run/vmsilo/web "), rust_bin);
        assert_helper(0, want);
        teardown();

        /* flavour = rust: trusted to have --tag, so crosvm is fine */
        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", unknown_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "flavour", "rust"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock --shared-dir=/run/vmsilo/web/virtiofs-data.root --tag=data --cache=auto --sandbox=namespace --announce-submounts --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295 --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, ""), unknown_bin);
        assert_helper(0, want);
        teardown();
}

static void test_virtiofs_probe_failures(void) {
        char want[512];

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", unknown_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        snprintf(
                want, sizeof(want),
                "cannot tell from its --help whether '%s' is the C or the Rust virtiofsd: set 'flavour = c' or 'flavour = rust' in [virtiofs]",
                unknown_bin);
        CU_ASSERT(mock_host_logged(&m, want));
        CU_ASSERT(P->prepare(state) < 0); /* `print` fails the same way */
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", broken_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        snprintf(want, sizeof(want),
                 "virtiofsd '%s --help' failed with status 3: broken-virtiofsd: no libfuse here",
                 broken_bin);
        CU_ASSERT(mock_host_logged(&m, want));
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", "/nonexistent/virtiofsd"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "virtiofsd '/nonexistent/virtiofsd' not found or not executable: fix 'virtiofsd =' in [virtiofs]"));
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", "vmsilo-no-such-virtiofsd"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "virtiofsd 'vmsilo-no-such-virtiofsd' not found in $PATH"));
        teardown();
}

static void test_virtiofs_crosvm_needs_a_tag_from_the_backend(void) {
        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "cannot tell crosvm the tags of the shares (crosvm reads them from the backend): install the Rust virtiofsd, or set 'backend = crosvm' in [virtiofs] to use crosvm's own --shared-dir"));
        CU_ASSERT(P->prepare(state) < 0);
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        teardown();

        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = crosvm_caps;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", old_rust_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "has no --tag, so crosvm cannot learn the tags"));
        teardown();
}

static void test_virtiofs_crosvm_backend(void) {
        static const char *const flags[] = { "--shared-dir", NULL };
        char want[512], colon[300];

        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = crosvm_caps;
        m.vmm_flags = flags;
        CU_ASSERT_EQUAL(conf(NULL, "backend", "crosvm"), 0);
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", broken_bin), 0); /* not used */
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(conf("data", "posix-acl", "yes"), 0);
        CU_ASSERT_EQUAL(conf("data", "cache", "none"), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("docs", "tag", "d"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL(m.n_helpers, 0);
        CU_ASSERT_EQUAL(m.n_vmm_args, 0); /* typed devices: the backend writes --shared-dir */
        CU_ASSERT_EQUAL_FATAL(m.n_devices, 2);
        CU_ASSERT_EQUAL(m.devices[0].type, VMSILO_DEVICE_SHARED_DIR);
        CU_ASSERT_STRING_EQUAL(m.devices[0].path, src);
        CU_ASSERT_STRING_EQUAL(m.devices[0].tag, "data");
        CU_ASSERT_EQUAL(m.devices[0].features, VMSILO_FS_POSIX_ACL | VMSILO_FS_CACHE_NEVER);
        CU_ASSERT_EQUAL(m.devices[1].type, VMSILO_DEVICE_SHARED_DIR);
        CU_ASSERT_STRING_EQUAL(m.devices[1].path, src2);
        CU_ASSERT_STRING_EQUAL(m.devices[1].tag, "d");
        CU_ASSERT_EQUAL(m.devices[1].features, 0);
        assert_params(
                "systemd.mount-extra=data:/mnt/data:virtiofs systemd.mount-extra=d:/mnt/docs:virtiofs");
        teardown();

        /* a ':' cannot be carried by --shared-dir: a configuration error, in either order */
        snprintf(colon, sizeof(colon), "%s/a:b", dir);
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "backend", "crosvm"), 0);
        CU_ASSERT_EQUAL(conf("data", "path", colon), 0);
        CU_ASSERT_EQUAL(mock_host_configured(&m, P, state), -EINVAL);
        snprintf(
                want, sizeof(want),
                "host path '%s' of share 'data' contains ':', which crosvm's --shared-dir (backend = crosvm) cannot carry",
                colon);
        CU_ASSERT(mock_host_logged(&m, want));
        teardown();
        setup();
        CU_ASSERT_EQUAL(conf("data", "path", colon), 0);
        CU_ASSERT_EQUAL(conf(NULL, "backend", "crosvm"), 0);
        CU_ASSERT_EQUAL(mock_host_configured(&m, P, state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, want));
        teardown();

        /* no read-only, no QEMU, no crosvm without --shared-dir */
        setup();
        m.vmm = VMSILO_VMM_CROSVM;
        m.vmm_caps = (const char *const[]){ "vhost-user fs backend tag", NULL };
        CU_ASSERT_EQUAL(conf(NULL, "backend", "crosvm"), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("docs", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m,
                                   "'backend = crosvm' in [virtiofs] needs the VMM's own shared "
                                   "directories, but the mock VMM cannot do 'shared dir'"));
        CU_ASSERT(mock_host_logged(
                &m, "share 'docs' is read-only, which crosvm's --shared-dir cannot enforce"));
        teardown();
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "backend", "crosvm"), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src2), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m,
                                   "'backend = crosvm' in [virtiofs] needs the VMM's own shared "
                                   "directories"));
        teardown();
}

static void test_virtiofs_tag_validation(void) {
        static const char *const bad[] = {
                "",     "a b",        "a,b",
                "a:b",  "t\xc3\xa4g", "a/b",
                "a\"b", "a=b",        "0123456789012345678901234567890123456"
        };

        setup();
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CU_ASSERT_EQUAL(conf("data", "tag", bad[i]), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'a,b' for 'tag' in [virtiofs data]: expected 1 to 36 letters, digits, '.', '_' or '-'"));
        CU_ASSERT_EQUAL(conf("data", "tag", "012345678901234567890123456789012345"), 0);
        CU_ASSERT_EQUAL(conf("data", "tag", "My_tag-2.x"), 0);
        teardown();
}

static void test_virtiofs_share_name_validation(void) {
        static const char *const bad[] = { "a b", "-x",  ".hidden",
                                           "a/b", "a,b", "abcdefghijabcdefghijabcdefghijabc" };

        setup();
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CU_ASSERT_EQUAL(conf(bad[i], "path", src), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid share name 'a b' in [virtiofs a b]: expected 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"));
        CU_ASSERT_EQUAL(conf("abcdefghijabcdefghijabcdefghijab", "path", src), 0);
        teardown();
}

static void test_virtiofs_bad_values(void) {
        setup();
        CU_ASSERT_EQUAL(conf("data", "path", "relative/dir"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'relative/dir' for 'path' in [virtiofs data]: expected an absolute path of a host directory"));
        CU_ASSERT_EQUAL(conf("data", "path", "/srv/a\n[qemu]\npath = /tmp/evil"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "for 'path' in [virtiofs data]: no control characters in a path"));
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", "/home/\033[2Ju"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", "/usr/bin/virtiofsd\t-x"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "read-only", "maybe"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'maybe' for 'read-only' in [virtiofs data]: expected yes or no"));
        CU_ASSERT_EQUAL(conf("data", "xattr", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "posix-acl", "2"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "cache", "sometimes"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'sometimes' for 'cache' in [virtiofs data]: expected auto, always, never or metadata"));
        CU_ASSERT_EQUAL(conf("data", "mount-point", "mnt/x"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/../etc"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/.."), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/a b"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/a,b"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/a:b"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value '/mnt/a b' for 'mount-point' in [virtiofs data]: expected none or an absolute guest path of letters, digits and / . _ - + @ ~"));
        CU_ASSERT_EQUAL(conf("data", "mount-point", "/mnt/..x/y.z"), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "map:1000:1000"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "swap:1:2:3"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "map:1:2:99999999999"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "translate-gid", "forbid-guest:1:2:3"), -EINVAL);
        CU_ASSERT_EQUAL(conf("data", "translate-gid", "host:-1:2:3"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'swap:1:2:3' for 'translate-uid' in [virtiofs data]: expected TYPE:FROM:TO:COUNT with TYPE guest, host, squash-guest, squash-host or map, or forbid-guest:FROM:COUNT"));
        CU_ASSERT_EQUAL(conf("data", "colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(conf("data", "virtiofsd", "/x"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "'virtiofsd' belongs in [virtiofs] (without a name), not in [virtiofs data]"));

        CU_ASSERT_EQUAL(conf(NULL, "flavour", "go"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "invalid value 'go' for 'flavour' in [virtiofs]: expected auto, c or rust"));
        CU_ASSERT_EQUAL(conf(NULL, "backend", "qemu"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "sandbox", "jail"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "mount-params", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "mount-params", "fstab"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", "home"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "invalid value 'home' for 'shared-home' in [virtiofs]: expected yes, no or an absolute path"));
        CU_ASSERT_EQUAL(conf(NULL, "shared-home-mount-point", "home/user"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", "bin/virtiofsd"), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", ""), -EINVAL);
        CU_ASSERT_EQUAL(conf(NULL, "colour", "red"), -ENOENT);
        CU_ASSERT_EQUAL(conf(NULL, "path", "/srv"), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "'path' belongs in a named section [virtiofs NAME], not in [virtiofs]"));
        teardown();
}

static void test_virtiofs_list_keys_reset(void) {
        char want[2048];

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "map:0:1000:1"), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", ""), 0);
        CU_ASSERT_EQUAL(conf("data", "translate-uid", "host:1000:0:1"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-data.sock --shared-dir=/run/vmsilo/web/virtiofs-data.root --cache=auto --sandbox=namespace --announce-submounts --translate-uid=host:1000:0:1 --translate-gid=squash-guest:0:0:4294967295 --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("data", src, ""), rust_bin);
        assert_helper(0, want);
        teardown();
}

static void test_virtiofs_duplicates(void) {
        char sub[300];

        /* the same tag twice */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("b", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("b", "tag", "a"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "shares 'a' and 'b' have the same tag 'a': set 'tag =' in one of them"));
        teardown();

        /* one directory read-write twice (once through a path with '/./') */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        snprintf(sub, sizeof(sub), "%s/./", src);
        CU_ASSERT_EQUAL(conf("b", "path", sub), 0);
        CU_ASSERT_EQUAL(conf("b", "mount-point", "/b"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "shares 'a' and 'b' both export '"));
        CU_ASSERT(mock_host_logged(&m, "read-write, which the guest cannot keep coherent"));
        teardown();

        /* once read-only and once read-write is fine; a nested read-write pair only warns */
        snprintf(sub, sizeof(sub), "%s/sub", src);
        mkdir(sub, 0755);
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("b", "path", src), 0);
        CU_ASSERT_EQUAL(conf("b", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("c", "path", sub), 0);
        CU_ASSERT_EQUAL(P->preflight(state), 0);
        CU_ASSERT(mock_host_logged(&m, "shares 'a' ('"));
        CU_ASSERT(mock_host_logged(&m, "overlap and are both read-write"));
        CU_ASSERT_EQUAL(m.log_levels[0], VMSILO_LOG_WARNING);
        teardown();
        rmdir(sub);

        /* two shares mounted at one guest path */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "mount-point", "/srv/x"), 0);
        CU_ASSERT_EQUAL(conf("b", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("b", "mount-point", "/srv/x"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "shares 'a' and 'b' are both mounted at '/srv/x'"));
        teardown();
}

static void test_virtiofs_preflight_sources(void) {
        char want[512];

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", "/nonexistent/dir"), 0);
        CU_ASSERT_EQUAL(conf("b", "path", file), 0);
        CU_ASSERT_EQUAL(conf("c", "tag", "c"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m, "source directory '/nonexistent/dir' of share 'a' does not exist"));
        snprintf(want, sizeof(want), "source '%s' of share 'b' is not a directory", file);
        CU_ASSERT(mock_host_logged(&m, want));
        CU_ASSERT(mock_host_logged(
                &m, "[virtiofs c] has no 'path =': set the host directory to share"));
        teardown();

        /* sockets must fit sun_path */
        setup();
        m.runtime_dir =
                "/run/user/1000/vmsilo/a-rather-long-runtime-directory-name-for-this-vm/web";
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("abcdefghijabcdefghijabcdefghij", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "socket of share 'abcdefghijabcdefghijabcdefghij' would not fit a unix socket path"));
        teardown();
}

static void test_virtiofs_c_limits(void) {
        setup();
        m.uid = m.gid = 1000;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "sandbox", "none"), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "cache", "metadata"), 0);
        CU_ASSERT_EQUAL(conf("a", "translate-uid", "map:0:1000:1"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        /* it runs as the VM's user in a user namespace (virtiofs-launch), root or not */
        CU_ASSERT(!mock_host_logged(&m, "must run as root"));
        CU_ASSERT(mock_host_logged(&m, "' has no 'sandbox = none': use namespace or chroot"));
        CU_ASSERT(mock_host_logged(&m, "share 'a': the C virtiofsd has no 'cache = metadata'"));
        CU_ASSERT(mock_host_logged(&m, "cannot translate uids/gids: install the Rust virtiofsd"));
        teardown();

        /* and the Rust one refuses translation with ACLs */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "posix-acl", "yes"), 0);
        CU_ASSERT_EQUAL(conf("a", "translate-gid", "map:0:1000:1"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "cannot be used with posix-acl = yes"));
        teardown();
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", old_rust_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "translate-gid", "map:0:1000:1"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(&m, "has no --translate-uid: install a newer Rust virtiofsd"));
        teardown();
}

/* the shared home: where it goes, how it is mounted; print (dry run) creates nothing */
static void check_home(uint32_t uid, const char *root, const char *xdg, const char *home,
                       const char *want_path) {
        char want[2048];

        setup();
        m.uid = m.gid = uid;
        m.root = root;
        m.dry_run = 1;
        if (xdg)
                setenv("XDG_DATA_HOME", xdg, 1);
        else
                unsetenv("XDG_DATA_HOME");
        setenv("HOME", home, 1);
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", "yes"), 0);
        CU_ASSERT_EQUAL(P->prepare(state), 0);
        CU_ASSERT_EQUAL(P->contribute(state), 0);
        snprintf(
                want, sizeof(want),
                "%s %s --socket-path=/run/vmsilo/web/virtiofs-home.sock --shared-dir=/run/vmsilo/web/virtiofs-home.root --cache=auto --sandbox=namespace --announce-submounts --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295 --modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch("home", want_path, ""), rust_bin);
        assert_helper(0, want);
        snprintf(want, sizeof(want),
                 "create shared home directory '%s' owned by uid %u gid %u (kept after stop)",
                 want_path, uid, uid);
        CU_ASSERT_EQUAL_FATAL(m.n_steps, 1);
        CU_ASSERT_STRING_EQUAL(m.steps[0], want);
        CU_ASSERT_NOT_EQUAL(access(want_path, F_OK), 0);
        CU_ASSERT_STRING_EQUAL(m.devices[0].tag, "home");
        assert_params("systemd.mount-extra=home:/home/user:virtiofs");
        teardown();
}

static void test_virtiofs_shared_home_paths(void) {
        const char *saved = getenv("HOME");
        char *home = saved ? strdup(saved) : NULL;

        check_home(0, "", NULL, "/root", "/var/lib/vmsilo/web/home");
        check_home(0, "/srv/altroot", "/x/data", "/root", "/srv/altroot/var/lib/vmsilo/web/home");
        check_home(1000, "", NULL, "/nonexistent/u", "/nonexistent/u/.local/share/vmsilo/web/home");
        check_home(1000, "", "/nonexistent/data", "/nonexistent/u",
                   "/nonexistent/data/vmsilo/web/home");
        check_home(1000, "", "relative", "/nonexistent/u",
                   "/nonexistent/u/.local/share/vmsilo/web/home");
        if (home)
                setenv("HOME", home, 1);
        free(home);
        unsetenv("XDG_DATA_HOME");
}

static void test_virtiofs_shared_home_created(void) {
        char base[300], path[300];
        struct stat st;

        snprintf(base, sizeof(base), "%s/homes", dir);
        snprintf(path, sizeof(path), "%s/homes/web/home", dir);
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", path), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home-mount-point", "/home/alice"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
        CU_ASSERT(S_ISDIR(st.st_mode));
        CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
        CU_ASSERT_EQUAL(m.n_steps, 1);
        /* kept: only the mount point of virtiofs-launch is journalled for removal */
        CU_ASSERT_EQUAL_FATAL(m.n_unlinks, 1);
        CU_ASSERT_STRING_EQUAL(m.unlinks[0], "/run/vmsilo/web/virtiofs-home.root");
        assert_params("systemd.mount-extra=home:/home/alice:virtiofs");
        teardown();

        /* an existing home is used as it is */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", path), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL(m.n_steps, 0);
        teardown();
        rmdir(path);
        snprintf(path, sizeof(path), "%s/homes/web", dir);
        rmdir(path);
        rmdir(base);

        /* a home that cannot be created, and a name clash */
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", "/dev/null/vmsilo/home"), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "cannot create the shared home '/dev/null/vmsilo/home': '/dev/null' is not a writable directory"));
        teardown();
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "shared-home", "yes"), 0);
        CU_ASSERT_EQUAL(conf("home", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "share name 'home' is taken by the shared home: rename [virtiofs home] or set 'shared-home = no'"));
        teardown();
}

static void test_virtiofs_kernel_params(void) {
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "mount-params", "both"), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("a", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("b", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("b", "mount-point", "none"), 0);
        CU_ASSERT_EQUAL(conf("c", "path", src2), 0);
        CU_ASSERT_EQUAL(conf("c", "read-only", "yes"), 0);
        CU_ASSERT_EQUAL(conf("c", "mount-point", "/var/lib/c"), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        CU_ASSERT_EQUAL(m.n_devices, 3);
        assert_params("vmsilo.mount=a,/mnt/a,ro systemd.mount-extra=a:/mnt/a:virtiofs:ro "
                      "vmsilo.mount=c,/var/lib/c,ro systemd.mount-extra=c:/var/lib/c:virtiofs:ro");
        teardown();

        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf(NULL, "mount-params", "vmsilo"), 0); /* the old spelling */
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        assert_params("vmsilo.mount=a,/mnt/a");
        teardown();
}

static void test_virtiofs_spawn_failure_propagates(void) {
        setup();
        m.spawn_result = -ECHILD;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("a", "path", src), 0);
        CU_ASSERT_EQUAL(conf("b", "path", src2), 0);
        CU_ASSERT_EQUAL(P->preflight(state), 0);
        CU_ASSERT_EQUAL(P->prepare(state), -ECHILD);
        CU_ASSERT_EQUAL(m.n_helpers, 1); /* stops at the first failure */
        teardown();
}

/* item 8: a share's path is never followed through a symlink */
static void test_virtiofs_symlinked_component_refused(void) {
        char real[300], link[300], path[400], want[1024];

        snprintf(real, sizeof(real), "%s/real", dir);
        snprintf(link, sizeof(link), "%s/link", dir);
        mkdir(real, 0755);
        CU_ASSERT_EQUAL_FATAL(symlink("real", link), 0);
        snprintf(path, sizeof(path), "%s/real/sub", dir);
        mkdir(path, 0755);

        /* in the middle, and as the last component */
        for (int last = 0; last <= 1; last++) {
                snprintf(path, sizeof(path), "%s%s", link, last ? "" : "/sub");
                setup();
                CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
                CU_ASSERT_EQUAL(conf("data", "path", path), 0);
                CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
                snprintf(
                        want, sizeof(want),
                        "share 'data': component 'link' of '%s' is a symlink, which is not followed: set 'path =' to the directory it points to",
                        path);
                CU_ASSERT(mock_host_logged(&m, want));
                teardown();
        }

        /* the resolved path is fine; so are "//" and a trailing "/" */
        snprintf(path, sizeof(path), "%s//real/sub/", dir);
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", path), 0);
        CU_ASSERT_EQUAL(P->preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();

        /* '..' is refused (it could climb out of a checked directory), a file in the middle
         * is named */
        snprintf(path, sizeof(path), "%s/real/../real", dir);
        setup();
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", path), 0);
        snprintf(want, sizeof(want), "%s/sub", file);
        CU_ASSERT_EQUAL(conf("f", "path", want), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        snprintf(
                want, sizeof(want),
                "share 'data': path '%s' has a '.' or '..' component: set 'path =' to the resolved directory",
                path);
        CU_ASSERT(mock_host_logged(&m, want));
        snprintf(
                want, sizeof(want),
                "cannot access source directory '%s/sub' of share 'f' at 'c-virtiofsd': Not a directory",
                file);
        CU_ASSERT(mock_host_logged(&m, want));
        teardown();

        snprintf(path, sizeof(path), "%s/real/sub", dir);
        rmdir(path);
        rmdir(real);
        unlink(link);
}

/* item 8: the directory belongs to the VM's user or root */
static void test_virtiofs_foreign_owner_refused(void) {
        char theirs[300], want[1024];

        if (geteuid() != 0)
                return; /* chown() needs root; `make check` runs as root in CI */
        snprintf(theirs, sizeof(theirs), "%s/theirs", dir);
        mkdir(theirs, 0755);
        CU_ASSERT_EQUAL_FATAL(chown(theirs, 4242, 4242), 0);

        /* root's VM and another user's VM: refused, naming the share, path and owner */
        for (uint32_t uid = 0; uid <= 4343; uid += 4343) {
                setup();
                m.uid = m.gid = uid;
                CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
                CU_ASSERT_EQUAL(conf("data", "path", theirs), 0);
                CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
                snprintf(
                        want, sizeof(want),
                        "share 'data': directory '%s' is owned by '4242' (uid 4242), not by the VM's user '%s' (uid %u) or root: refusing to share it",
                        theirs, uid ? "4343" : "root", uid);
                CU_ASSERT(mock_host_logged(&m, want));
                teardown();
        }

        /* the owner's own VM, and root-owned directories for anyone */
        setup();
        m.uid = m.gid = 4242;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", rust_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", theirs), 0);
        CU_ASSERT_EQUAL(conf("docs", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), 0);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
        rmdir(theirs);
}

static void test_virtiofs_launcher_missing(void) {
        setup();
        virtiofs_set_launcher("/nonexistent/virtiofs-launch");
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(P->preflight(state), -EINVAL);
        CU_ASSERT(mock_host_logged(
                &m,
                "cannot run '/nonexistent/virtiofs-launch', which starts every virtiofsd: No such file or directory (reinstall the virtiofs plugin)"));
        teardown();
}

/* a user's VM: virtiofs-launch gets the user's ids; the C virtiofsd is fine */
static void test_virtiofs_user_vm_argv(void) {
        char want[2048];

        setup();
        m.uid = 1000;
        m.gid = 100;
        CU_ASSERT_EQUAL(conf(NULL, "virtiofsd", c_bin), 0);
        CU_ASSERT_EQUAL(conf("data", "path", src), 0);
        CU_ASSERT_EQUAL(run_all(), 0);
        snprintf(
                want, sizeof(want),
                "data: %s --share=data --path=%s --vm-uid=1000 --vm-gid=100 --root=/run/vmsilo/web/virtiofs-data.root --private-run=/run/vmsilo/web -- %s --socket-path=/run/vmsilo/web/virtiofs-data.sock -o source=/run/vmsilo/web/virtiofs-data.root -o cache=auto -o no_xattr -o sandbox=namespace -o announce_submounts -o modcaps=-mknod:-setfcap --rlimit-nofile=0",
                launch_bin, src, c_bin);
        assert_helper(0, want);
        CU_ASSERT_EQUAL(m.n_logs, 0);
        teardown();
}

static void test_virtiofs_safedir(void) {
        char *component = NULL;
        int fd = -1;

        CU_ASSERT_EQUAL(safedir_open("relative/path", &fd, &component), -EINVAL);
        CU_ASSERT_EQUAL(safedir_open("/", &fd, &component), 0);
        CU_ASSERT(fd >= 0);
        close(fd);
        CU_ASSERT_EQUAL(safedir_open("/nonexistent-vmsilo/x", &fd, &component), -ENOENT);
        CU_ASSERT_STRING_EQUAL(component, "nonexistent-vmsilo");
        CU_ASSERT_EQUAL(safedir_open("/proc/self", &fd, &component), -ELOOP);
        CU_ASSERT_STRING_EQUAL(component, "self");
        free(component);
        CU_ASSERT(safedir_owner_ok(0, 1000));
        CU_ASSERT(safedir_owner_ok(1000, 1000));
        CU_ASSERT(!safedir_owner_ok(1001, 1000));
        component = safedir_user_name(0);
        CU_ASSERT_STRING_EQUAL(component, "root");
        free(component);
        component = safedir_user_name(4242);
        CU_ASSERT_STRING_EQUAL(component, "4242");
        free(component);
}

static void write_script(char *path, size_t size, const char *name, const char *body) {
        FILE *f;

        snprintf(path, size, "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f)
                abort();
        fprintf(f, "#!/bin/sh\n%s", body);
        fclose(f);
        chmod(path, 0755);
}

static void fixtures(void) {
        write_script(
                c_bin, sizeof(c_bin), "c-virtiofsd",
                "echo 'usage: virtiofsd [options]'\n"
                "echo '    -o source=PATH             shared directory tree'\n"
                "echo '    -o modcaps=CAPLIST         Modify the list of capabilities'\n"
                "echo '    --rlimit-nofile=<num>      set maximum number of file descriptors'\n"
                "echo '    --socket-path=PATH         path for the vhost-user socket'\n");
        write_script(
                rust_bin, sizeof(rust_bin), "rust-virtiofsd",
                "echo 'Usage: virtiofsd --shared-dir <SHARED_DIR> --socket-path <SOCKET_PATH> [OPTIONS]'\n"
                "echo '      --shared-dir <SHARED_DIR>'\n"
                "echo '      --tag <TAG>'\n"
                "echo '      --readonly'\n"
                "echo '      --translate-uid <TRANSLATE_UID>'\n"
                "echo '      --announce-submounts  Tell the guest which directories are mount points'\n"
                "echo '      --modcaps <MODCAPS>'\n"
                "echo '      --rlimit-nofile <RLIMIT_NOFILE>'\n");
        write_script(old_rust_bin, sizeof(old_rust_bin), "old-rust-virtiofsd",
                     "echo '      --shared-dir <SHARED_DIR>     Shared directory path'\n"
                     "echo '      --tagged-thing <X>            tagged'\n");
        write_script(broken_bin, sizeof(broken_bin), "broken-virtiofsd",
                     "echo 'broken-virtiofsd: no libfuse here' >&2\nexit 3\n");
        write_script(unknown_bin, sizeof(unknown_bin), "unknown-virtiofsd", "echo hello\n");
        write_script(launch_bin, sizeof(launch_bin), "virtiofs-launch",
                     "[ \"$1\" = --probe ] && shift 2 && exec \"$@\"\nexit 0\n");
        snprintf(src, sizeof(src), "%s/src", dir);
        snprintf(src2, sizeof(src2), "%s/src2", dir);
        snprintf(file, sizeof(file), "%s/c-virtiofsd", dir);
        mkdir(src, 0755);
        mkdir(src2, 0755);
}

static void cleanup_fixtures(void) {
        const char *names[] = {
                c_bin, rust_bin, old_rust_bin, broken_bin, unknown_bin, launch_bin
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                unlink(names[i]);
        rmdir(src);
        rmdir(src2);
        rmdir(dir);
}

int main(void) {
        static const struct {
                const char *name;
                void (*fn)(void);
        } tests[] = {
#define T(x) { #x, x }
                T(test_virtiofs_no_shares_does_nothing),
                T(test_virtiofs_c_argv),
                T(test_virtiofs_c_escapes_commas),
                T(test_virtiofs_rust_argv_crosvm),
                T(test_virtiofs_rust_argv_qemu_has_no_tag),
                T(test_virtiofs_old_rust_read_only),
                T(test_virtiofs_flavour_hook),
                T(test_virtiofs_probe_failures),
                T(test_virtiofs_crosvm_needs_a_tag_from_the_backend),
                T(test_virtiofs_crosvm_backend),
                T(test_virtiofs_tag_validation),
                T(test_virtiofs_share_name_validation),
                T(test_virtiofs_bad_values),
                T(test_virtiofs_list_keys_reset),
                T(test_virtiofs_duplicates),
                T(test_virtiofs_preflight_sources),
                T(test_virtiofs_c_limits),
                T(test_virtiofs_shared_home_paths),
                T(test_virtiofs_shared_home_created),
                T(test_virtiofs_kernel_params),
                T(test_virtiofs_spawn_failure_propagates),
                T(test_virtiofs_symlinked_component_refused),
                T(test_virtiofs_foreign_owner_refused),
                T(test_virtiofs_launcher_missing),
                T(test_virtiofs_user_vm_argv),
                T(test_virtiofs_safedir),
#undef T
        };
        CU_pSuite s;
        unsigned failures;

        if (!mkdtemp(dir))
                return 1;
        fixtures();
        if (CU_initialize_registry() != CUE_SUCCESS)
                return 1;
        s = CU_add_suite("virtiofs", NULL, NULL);
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
                CU_add_test(s, tests[i].name, tests[i].fn);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        cleanup_fixtures();
        return failures ? 1 : 0;
}
