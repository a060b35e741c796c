/* SPDX-License-Identifier: MIT */
/* core/cli/access.c: where a VM runs for the caller (root's VMs through their client socket). */
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/access.h"
#include "testutil.h"

static char *root;
static struct settings s;

static void setup(void) {
        /* settings_init() reads these (a package build inherits a test's): say all here */
        unsetenv("VMSILO_ROOT");
        unsetenv("VMSILO_CONF_PATH");
        unsetenv("VMSILO_RUNTIME_DIR");
        unsetenv("VMSILO_CACHE_DIR");
        unsetenv("VMSILO_STATE_DIR");
        root = tmpdir_new();
        REQUIRE(chmod(root, 0755) == 0);
        write_file(root, "etc/vmsilo/vms/work.conf", "[vm]\n");
        REQUIRE(chmod(root, 0755) == 0);
        REQUIRE(settings_init(&s, root, "/nonexistent", NULL) == 0);
        /* a user's own run-state base, to tell it from root's */
        free(s.runtime_base);
        s.runtime_base = strdup("/run/user/65534/vmsilo");
}

static void teardown(void) {
        settings_done(&s);
        tmpdir_remove(root);
}

static void test_access_root_uses_the_runtime_dir(void) {
        struct vm_place p;

        setup();
        REQUIRE(vm_place_find(&s, "work", &p) == 0);
        ASSERT_INT_EQ(p.direct, 1);
        ASSERT_STREQ(p.dir, "/run/user/65534/vmsilo/work");
        ASSERT_STREQ(p.group, "vmsilo-work");
        vm_place_done(&p);
        teardown();
}

/* a user on a VM whose file root owns: root's run state and client socket */
static void test_access_user_on_roots_vm(void) {
        _cleanup_free_ char *dir = NULL, *sock = NULL, *file = NULL;
        struct vm_place p;
        int r, reachable;

        setup();
        dir = strdup_printf("%s/run/vmsilo/work", root);
        sock = strdup_printf("%s/run/vmsilo/work.sock", root);
        file = strdup_printf("%s/etc/vmsilo/vms/work.conf", root);
        REQUIRE(seteuid(65534) == 0);
        reachable = faccessat(AT_FDCWD, file, F_OK, AT_EACCESS) == 0;
        r = vm_place_find(&s, "work", &p);
        REQUIRE(seteuid(0) == 0);
        REQUIRE(r == 0);
        if (!reachable) {
                /* $TMPDIR inside a dir only root may enter (a package build): the user sees
                 * no configuration at all, there is nothing to tell apart */
                fprintf(stderr, "(skipped: uid 65534 cannot reach '%s')\n", file);
                vm_place_done(&p);
                teardown();
                return;
        }
        ASSERT_INT_EQ(p.direct, 0);
        ASSERT_STREQ(p.dir, dir);
        ASSERT_STREQ(p.sock, sock);
        vm_place_done(&p);
        /* the user's own file: their own run state */
        REQUIRE(chown(file, 65534, 0) == 0);
        REQUIRE(seteuid(65534) == 0);
        r = vm_place_find(&s, "work", &p);
        REQUIRE(seteuid(0) == 0);
        REQUIRE(r == 0);
        ASSERT_INT_EQ(p.direct, 1);
        ASSERT_STREQ(p.dir, "/run/user/65534/vmsilo/work");
        vm_place_done(&p);
        teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_access_root_uses_the_runtime_dir),
                TEST(test_access_user_on_roots_vm),
        };

        if (geteuid() != 0) {
                printf("test-access: skipped (needs root to act as another user)\n");
                return 0;
        }
        return RUN_SUITE("access", tests);
}
