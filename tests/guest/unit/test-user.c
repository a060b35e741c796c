/* SPDX-License-Identifier: MIT */
/* guest/user.c: passwd and group lookup, and its cache, which must never outlive an edit. */
#include <errno.h>
#include <sys/stat.h>

#include "guest-testutil.h"
#include "user.h"

static char root[] = "/tmp/vmsilo-test-user.XXXXXX";

static void write_file(const char *rel, const char *text) {
        char path[512], tmp[520];
        FILE *f;

        snprintf(path, sizeof(path), "%s%s", root, rel);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        f = fopen(tmp, "we");
        REQUIRE(f);
        fputs(text, f);
        REQUIRE(fclose(f) == 0);
        REQUIRE(rename(tmp, path) == 0); /* a new inode, as passwd(1) and useradd do */
}

/* Rewrites a file in place: same inode; size and times as the text makes them. */
static void edit_file(const char *rel, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s%s", root, rel);
        f = fopen(path, "we");
        REQUIRE(f);
        fputs(text, f);
        REQUIRE(fclose(f) == 0);
}

static void test_user_lookup_and_groups(void) {
        struct user_info ui;

        write_file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                  "alice:x:1000:1000::/home/alice:/bin/bash\n");
        write_file("/etc/group", "root:x:0:\nalice:x:1000:\naudio:x:29:alice,bob\n");
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        ASSERT_INT_EQ(ui.uid, 1000);
        ASSERT_INT_EQ(ui.gid, 1000);
        ASSERT_STREQ(ui.home, "/home/alice");
        ASSERT_STREQ(ui.shell, "/bin/bash");
        ASSERT_INT_EQ(ui.n_groups, 2);
        ASSERT_INT_EQ(ui.groups[1], 29);
        REQUIRE(user_lookup(root, "", &ui) == 0);
        ASSERT_STREQ(ui.name, "root");
        ASSERT_INT_EQ(user_lookup(root, "mallory", &ui), -ENOENT);
        REQUIRE(user_lookup(root, "1000", &ui) == 0);
        ASSERT_STREQ(ui.name, "alice");
}

/* The second lookup comes from the cache; every kind of change to either file is seen. */
static void test_user_cache_sees_every_change(void) {
        struct user_info ui;

        write_file("/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/bash\n");
        write_file("/etc/group", "alice:x:1000:\n");
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        ASSERT_INT_EQ(ui.uid, 1000);
        /* replaced (new inode), same size */
        write_file("/etc/passwd", "alice:x:1001:1000::/home/alice:/bin/bash\n");
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        ASSERT_INT_EQ(ui.uid, 1001);
        /* edited in place, same size: the times change (file times tick with the kernel's
         * coarse clock, a few ms: an edit within the same tick as the last lookup, of the
         * same size, is the one change a stat cannot see; passwd tools replace the file) */
        usleep(20000);
        edit_file("/etc/passwd", "alice:x:1002:1000::/home/alice:/bin/bash\n");
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        ASSERT_INT_EQ(ui.uid, 1002);
        /* a group added */
        usleep(20000);
        edit_file("/etc/group", "alice:x:1000:\nvideo:x:44:alice\n");
        REQUIRE(user_lookup(root, "alice", &ui) == 0);
        ASSERT_INT_EQ(ui.n_groups, 2);
        ASSERT_INT_EQ(ui.groups[1], 44);
        /* another user asked for: not the cached one */
        ASSERT_INT_EQ(user_lookup(root, "bob", &ui), -ENOENT);
        /* the user removed */
        write_file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        ASSERT_INT_EQ(user_lookup(root, "alice", &ui), -ENOENT);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_user_lookup_and_groups),
                TEST(test_user_cache_sees_every_change),
        };
        char etc[512], cmd[600];
        int r;

        if (!mkdtemp(root))
                return 1;
        snprintf(etc, sizeof(etc), "%s/etc", root);
        if (mkdir(etc, 0755) < 0)
                return 1;
        r = RUN_SUITE("user", tests);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove '%s'\n", root);
        return r;
}
