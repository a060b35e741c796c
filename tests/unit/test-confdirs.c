/* SPDX-License-Identifier: MIT */
/* core/config/confdirs.c: directory precedence, /dev/null masks, drop-in order, VM files. */
#include "config/confdirs.h"
#include "testutil.h"

static char *root;
static struct confdirs dirs;

/* ROOT/rel, for comparing with what confdirs returns */
static char *rpath(const char *rel) {
        char *p;

        if (asprintf(&p, "%s/%s", root, rel) < 0)
                abort();
        return p;
}

static void setup(void) {
        root = tmpdir_new();
        if (confdirs_init(&dirs, root, NULL) < 0)
                abort();
}

static void teardown(void) {
        confdirs_done(&dirs);
        tmpdir_remove(root);
        root = NULL;
}

/* Asserts that `v` holds exactly the ROOT-relative paths `expected` (NULL-terminated). */
static void assert_paths(const struct strv *v, const char *const *expected) {
        size_t n = 0;

        while (expected[n])
                n++;
        if (v->n != n)
                for (size_t i = 0; i < v->n; i++)
                        fprintf(stderr, "  got [%zu] %s\n", i, v->items[i]);
        ASSERT_INT_EQ(v->n, n);
        for (size_t i = 0; i < n && i < v->n; i++) {
                _cleanup_free_ char *p = rpath(expected[i]);

                ASSERT_STREQ(v->items[i], p);
        }
        if (v->n > 0)
                CU_ASSERT_PTR_NULL(v->items[v->n]);
}

static void test_confdirs_default_dirs_under_root(void) {
        static const char *const expected[] = { "etc/vmsilo", "run/vmsilo", "usr/local/lib/vmsilo",
                                                "usr/lib/vmsilo", NULL };
        struct confdirs c;
        _cleanup_free_ char *slashed = NULL;

        setup();
        assert_paths(&dirs.dirs, expected);

        /* a trailing slash on the root does not double up */
        REQUIRE(asprintf(&slashed, "%s/", root) > 0);
        REQUIRE(confdirs_init(&c, slashed, NULL) == 0);
        assert_paths(&c.dirs, expected);
        {
                _cleanup_free_ char *p = confdirs_path(&c, "/sys/class/net");
                _cleanup_free_ char *e = rpath("sys/class/net");

                ASSERT_STREQ(p, e);
        }
        confdirs_done(&c);
        teardown();
}

static void test_confdirs_no_root(void) {
        static const char *const roots[] = { NULL, "", "/" };

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                struct confdirs c;

                REQUIRE(confdirs_init(&c, roots[i], NULL) == 0);
                ASSERT_STREQ(c.root, "");
                REQUIRE(c.dirs.n == 4);
                ASSERT_STREQ(c.dirs.items[0], "/etc/vmsilo");
                ASSERT_STREQ(c.dirs.items[1], "/run/vmsilo");
                ASSERT_STREQ(c.dirs.items[2], "/usr/local/lib/vmsilo");
                ASSERT_STREQ(c.dirs.items[3], "/usr/lib/vmsilo");
                {
                        _cleanup_free_ char *p = confdirs_path(&c, "/dev/kvm");

                        ASSERT_STREQ(p, "/dev/kvm");
                }
                confdirs_done(&c);
        }
}

/* a user's own directory (~/.config/vmsilo) above the system's, which stay as they are */
static void test_confdirs_user_dir_first(void) {
        struct confdirs c;

        REQUIRE(confdirs_init_with_first(&c, "/home/alice/.config/vmsilo") == 0);
        ASSERT_STREQ(c.root, "");
        REQUIRE(c.dirs.n == 5);
        ASSERT_STREQ(c.dirs.items[0], "/home/alice/.config/vmsilo");
        ASSERT_STREQ(c.dirs.items[1], "/etc/vmsilo");
        ASSERT_STREQ(c.dirs.items[4], "/usr/lib/vmsilo");
        confdirs_done(&c);
}

static void test_confdirs_explicit_dirs(void) {
        static const char *const expected[] = { "high", "low", NULL };
        struct strv list = {};
        struct confdirs c;
        struct strv files = {};

        root = tmpdir_new();
        REQUIRE(strv_push(&list, "/high") == 0);
        REQUIRE(strv_push(&list, "/low") == 0);
        REQUIRE(confdirs_init(&c, root, &list) == 0);
        assert_paths(&c.dirs, expected);

        write_file(root, "low/conf.d/a.conf", "");
        write_file(root, "high/conf.d/a.conf", "");
        write_file(root, "etc/vmsilo/conf.d/b.conf", ""); /* not in the list: never read */
        REQUIRE(confdirs_dropins(&c, "conf.d", &files) == 0);
        {
                static const char *const want[] = { "high/conf.d/a.conf", NULL };

                assert_paths(&files, want);
        }
        strv_done(&files);
        strv_done(&list);
        confdirs_done(&c);
        tmpdir_remove(root);
        root = NULL;
}

static void test_confdirs_higher_dir_wins(void) {
        static const char *const expected[] = { "etc/vmsilo/conf.d/10-net.conf",
                                                "run/vmsilo/conf.d/20-gpu.conf", NULL };
        struct strv files = {};

        setup();
        write_file(root, "usr/lib/vmsilo/conf.d/10-net.conf", "[net]\n");
        write_file(root, "usr/local/lib/vmsilo/conf.d/10-net.conf", "[net]\n");
        write_file(root, "etc/vmsilo/conf.d/10-net.conf", "[net]\n");
        write_file(root, "usr/lib/vmsilo/conf.d/20-gpu.conf", "[gpu]\n");
        write_file(root, "run/vmsilo/conf.d/20-gpu.conf", "[gpu]\n");
        REQUIRE(confdirs_dropins(&dirs, "conf.d", &files) == 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_dev_null_masks_lower(void) {
        static const char *const expected[] = { "etc/vmsilo/conf.d/30-keep.conf", NULL };
        struct strv files = {};

        setup();
        write_file(root, "usr/lib/vmsilo/conf.d/20-sound.conf", "[sound]\n");
        write_file(root, "usr/local/lib/vmsilo/conf.d/20-sound.conf", "[sound]\n");
        make_symlink(root, "etc/vmsilo/conf.d/20-sound.conf", "/dev/null");
        /* a mask only hides lower directories: the /etc file wins over a /usr/lib mask */
        write_file(root, "etc/vmsilo/conf.d/30-keep.conf", "[vm]\n");
        make_symlink(root, "usr/lib/vmsilo/conf.d/30-keep.conf", "/dev/null");
        /* a mask with nothing below it is simply nothing */
        make_symlink(root, "run/vmsilo/conf.d/40-none.conf", "/dev/null");
        REQUIRE(confdirs_dropins(&dirs, "conf.d", &files) == 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

/* As systemd: a relative link that ends at /dev/null masks; what is not a regular file is
 * skipped, so the name in a lower directory still counts. */
static void test_confdirs_masks_follow_links_and_skip_non_files(void) {
        static const char *const expected[] = { "usr/lib/vmsilo/conf.d/20-dir.conf",
                                                "usr/lib/vmsilo/conf.d/30-dangling.conf", NULL };
        _cleanup_free_ char *devnull = NULL;
        struct strv files = {};
        char target[64];
        size_t depth = 0;

        setup();
        /* "../../..../dev/null" from ROOT/etc/vmsilo/conf.d, out of the temp root */
        for (const char *c = root; *c; c++)
                depth += *c == '/';
        devnull = strdup("");
        for (size_t i = 0; i < depth + 3; i++) {
                char *n = strdup_printf("%s../", devnull);

                free(devnull);
                devnull = n;
        }
        snprintf(target, sizeof(target), "%sdev/null", devnull);
        write_file(root, "usr/lib/vmsilo/conf.d/10-sound.conf", "[sound]\n");
        make_symlink(root, "etc/vmsilo/conf.d/10-sound.conf", target);
        write_file(root, "usr/lib/vmsilo/conf.d/20-dir.conf", "[vm]\n");
        write_file(root, "etc/vmsilo/conf.d/20-dir.conf/x", "");
        write_file(root, "usr/lib/vmsilo/conf.d/30-dangling.conf", "[vm]\n");
        make_symlink(root, "etc/vmsilo/conf.d/30-dangling.conf", "/nonexistent/x.conf");
        REQUIRE(confdirs_dropins(&dirs, "conf.d", &files) == 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_sorted_by_file_name(void) {
        static const char *const expected[] = {
                "usr/lib/vmsilo/conf.d/05-base.conf", "run/vmsilo/conf.d/10-run.conf",
                "etc/vmsilo/conf.d/50-local.conf",    "usr/local/lib/vmsilo/conf.d/60-x.conf",
                "usr/lib/vmsilo/conf.d/99-last.conf", NULL,
        };
        struct strv files = {};

        setup();
        write_file(root, "etc/vmsilo/conf.d/50-local.conf", "");
        write_file(root, "usr/lib/vmsilo/conf.d/99-last.conf", "");
        write_file(root, "run/vmsilo/conf.d/10-run.conf", "");
        write_file(root, "usr/local/lib/vmsilo/conf.d/60-x.conf", "");
        write_file(root, "usr/lib/vmsilo/conf.d/05-base.conf", "");
        REQUIRE(confdirs_dropins(&dirs, "conf.d", &files) == 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_ignores_other_files(void) {
        static const char *const expected[] = { "etc/vmsilo/conf.d/a.conf", NULL };
        struct strv files = {};

        setup();
        write_file(root, "etc/vmsilo/conf.d/a.conf", "");
        write_file(root, "etc/vmsilo/conf.d/README", "");
        write_file(root, "etc/vmsilo/conf.d/b.conf.bak", "");
        write_file(root, "etc/vmsilo/conf.d/c.conf~", "");
        write_file(root, "etc/vmsilo/conf.d/.hidden.conf", "");
        write_file(root, "etc/vmsilo/conf.d/.conf", "");
        write_file(root, "etc/vmsilo/conf.d/d.CONF", "");
        write_file(root, "usr/lib/vmsilo/conf.d/e.config", "");
        REQUIRE(confdirs_dropins(&dirs, "conf.d", &files) == 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_missing_dirs_are_empty(void) {
        struct strv files = {};

        setup();
        ASSERT_INT_EQ(confdirs_dropins(&dirs, "conf.d", &files), 0);
        ASSERT_INT_EQ(files.n, 0);
        /* appends: what was there stays */
        REQUIRE(strv_push(&files, "keep") == 0);
        write_file(root, "usr/lib/vmsilo/conf.d/a.conf", "");
        ASSERT_INT_EQ(confdirs_dropins(&dirs, "conf.d", &files), 0);
        REQUIRE(files.n == 2);
        ASSERT_STREQ(files.items[0], "keep");
        strv_done(&files);
        teardown();
}

static void test_confdirs_vm_files_order(void) {
        static const char *const expected[] = {
                "usr/lib/vmsilo/vms/work.conf",
                "usr/lib/vmsilo/vms/work.conf.d/10-disk.conf",
                "etc/vmsilo/vms/work.conf.d/20-net.conf",
                "run/vmsilo/vms/work.conf.d/30-gpu.conf",
                NULL,
        };
        struct strv files = {};

        setup();
        write_file(root, "usr/lib/vmsilo/vms/work.conf", "[vm]\n");
        write_file(root, "usr/lib/vmsilo/vms/work.conf.d/10-disk.conf", "");
        write_file(root, "usr/lib/vmsilo/vms/work.conf.d/20-net.conf", "");
        write_file(root, "etc/vmsilo/vms/work.conf.d/20-net.conf", "");
        write_file(root, "run/vmsilo/vms/work.conf.d/30-gpu.conf", "");
        write_file(root, "run/vmsilo/vms/work.conf.d/40-masked.conf", "");
        make_symlink(root, "etc/vmsilo/vms/work.conf.d/40-masked.conf", "/dev/null");
        write_file(root, "etc/vmsilo/vms/work.conf.d/notes.txt", "");
        /* another VM's drop-ins are not ours */
        write_file(root, "etc/vmsilo/vms/other.conf.d/15-x.conf", "");
        ASSERT_INT_EQ(confdirs_vm_files(&dirs, "work", &files), 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_vm_file_higher_dir_wins(void) {
        static const char *const expected[] = { "etc/vmsilo/vms/work.conf", NULL };
        struct strv files = {};

        setup();
        write_file(root, "usr/lib/vmsilo/vms/work.conf", "[vm]\n");
        write_file(root, "etc/vmsilo/vms/work.conf", "[vm]\n");
        ASSERT_INT_EQ(confdirs_vm_files(&dirs, "work", &files), 0);
        assert_paths(&files, expected);
        strv_done(&files);
        teardown();
}

static void test_confdirs_masked_vm_is_enoent(void) {
        struct strv files = {};

        setup();
        write_file(root, "usr/lib/vmsilo/vms/work.conf", "[vm]\n");
        write_file(root, "usr/lib/vmsilo/vms/work.conf.d/10-a.conf", "");
        make_symlink(root, "etc/vmsilo/vms/work.conf", "/dev/null");
        ASSERT_INT_EQ(confdirs_vm_files(&dirs, "work", &files), -ENOENT);
        ASSERT_INT_EQ(files.n, 0);
        strv_done(&files);
        teardown();
}

static void test_confdirs_vm_without_main_file_is_enoent(void) {
        struct strv files = {};

        setup();
        ASSERT_INT_EQ(confdirs_vm_files(&dirs, "work", &files), -ENOENT);
        /* drop-ins alone do not make a VM */
        write_file(root, "etc/vmsilo/vms/work.conf.d/10-a.conf", "");
        ASSERT_INT_EQ(confdirs_vm_files(&dirs, "work", &files), -ENOENT);
        ASSERT_INT_EQ(files.n, 0);
        strv_done(&files);
        teardown();
}

static void test_confdirs_list_vms_sorted(void) {
        struct strv names = {};

        setup();
        write_file(root, "etc/vmsilo/vms/zeta.conf", "");
        write_file(root, "usr/lib/vmsilo/vms/alpha.conf", "");
        write_file(root, "run/vmsilo/vms/mid.conf", "");
        write_file(root, "usr/lib/vmsilo/vms/mid.conf", ""); /* same VM, listed once */
        write_file(root, "usr/lib/vmsilo/vms/gone.conf", "");
        make_symlink(root, "etc/vmsilo/vms/gone.conf", "/dev/null");
        write_file(root, "etc/vmsilo/vms/beta.conf.d/10-x.conf", "");
        write_file(root, "etc/vmsilo/vms/notes.txt", "");
        write_file(root, "etc/vmsilo/vms/old.conf.bak", "");
        ASSERT_INT_EQ(confdirs_list_vms(&dirs, &names), 0);
        REQUIRE(names.n == 3);
        ASSERT_STREQ(names.items[0], "alpha");
        ASSERT_STREQ(names.items[1], "mid");
        ASSERT_STREQ(names.items[2], "zeta");
        strv_done(&names);
        teardown();
}

static void test_confdirs_is_masked(void) {
        _cleanup_free_ char *mask = NULL, *file = NULL, *other = NULL, *missing = NULL;

        setup();
        make_symlink(root, "m.conf", "/dev/null");
        write_file(root, "f.conf", "");
        make_symlink(root, "o.conf", "/dev/zero");
        make_symlink(root, "chain.conf", "m.conf"); /* a link to a mask is a mask */
        mask = rpath("m.conf");
        file = rpath("f.conf");
        other = rpath("o.conf");
        missing = rpath("missing.conf");
        ASSERT_INT_EQ(conffile_is_masked(mask), 1);
        ASSERT_INT_EQ(conffile_is_masked(file), 0);
        ASSERT_INT_EQ(conffile_is_masked(other), 0);
        ASSERT_INT_EQ(conffile_is_masked(missing), 0);
        {
                _cleanup_free_ char *chain = rpath("chain.conf");

                ASSERT_INT_EQ(conffile_is_masked(chain), 1);
        }
        teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_confdirs_default_dirs_under_root),
                TEST(test_confdirs_no_root),
                TEST(test_confdirs_explicit_dirs),
                TEST(test_confdirs_user_dir_first),
                TEST(test_confdirs_higher_dir_wins),
                TEST(test_confdirs_dev_null_masks_lower),
                TEST(test_confdirs_masks_follow_links_and_skip_non_files),
                TEST(test_confdirs_sorted_by_file_name),
                TEST(test_confdirs_ignores_other_files),
                TEST(test_confdirs_missing_dirs_are_empty),
                TEST(test_confdirs_vm_files_order),
                TEST(test_confdirs_vm_file_higher_dir_wins),
                TEST(test_confdirs_masked_vm_is_enoent),
                TEST(test_confdirs_vm_without_main_file_is_enoent),
                TEST(test_confdirs_list_vms_sorted),
                TEST(test_confdirs_is_masked),
        };

        return RUN_SUITE("confdirs", tests);
}
