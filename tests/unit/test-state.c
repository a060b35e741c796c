/* SPDX-License-Identifier: MIT */
/* core/util/state.c: the run state of one VM: lock, undo journal, pid files, removal. */
#include <sys/wait.h>

#include "testutil.h"
#include "util/process.h"
#include "util/state.h"

static char *base;
static char *dir; /* BASE/run/vmsilo/work, not created */

static void setup(void) {
        base = tmpdir_new();
        if (asprintf(&dir, "%s/run/vmsilo/work", base) < 0)
                abort();
}

static void teardown(void) {
        free(dir);
        dir = NULL;
        tmpdir_remove(base);
        base = NULL;
}

static char *in_dir(const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

/* mkdir -p DIR; true when it exists */
static int mkdir_parents_ok(void) {
        _cleanup_free_ char *child = in_dir("x");

        mkdir_parents_of(child);
        return access(dir, F_OK) == 0;
}

static void test_state_journal_roundtrip(void) {
        struct journal_record *r = NULL;
        size_t n = 42;

        setup();
        REQUIRE(mkdir_parents_ok());
        ASSERT_INT_EQ(journal_append(dir, "unlink", "/run/vmsilo/work/x.sock", NULL, NULL), 0);
        ASSERT_INT_EQ(journal_append(dir, "kill", "1234", "98765", "virtiofsd home"), 0);
        ASSERT_INT_EQ(journal_append(dir, "plugin", "net", "tap\tvmsilo0\nline2 100% %41", NULL),
                      0);
        ASSERT_INT_EQ(journal_append(dir, "plugin", "gpu", "", NULL), 0);
        ASSERT_INT_EQ(journal_read(dir, &r, &n), 0);
        REQUIRE(n == 4);
        /* oldest first, fields exactly as appended */
        ASSERT_STREQ(r[0].kind, "unlink");
        ASSERT_STREQ(r[0].a, "/run/vmsilo/work/x.sock");
        ASSERT_STREQ(r[0].b, NULL);
        ASSERT_STREQ(r[0].c, NULL);
        ASSERT_STREQ(r[1].kind, "kill");
        ASSERT_STREQ(r[1].a, "1234");
        ASSERT_STREQ(r[1].b, "98765");
        ASSERT_STREQ(r[1].c, "virtiofsd home");
        ASSERT_STREQ(r[2].kind, "plugin");
        ASSERT_STREQ(r[2].a, "net");
        ASSERT_STREQ(r[2].b, "tap\tvmsilo0\nline2 100% %41");
        ASSERT_STREQ(r[2].c, NULL);
        ASSERT_STREQ(r[3].a, "gpu");
        ASSERT_STREQ(r[3].b, "");
        journal_records_free(r, n);
        teardown();
}

/* One record per line, tab-separated, so that a crashed run's journal stays readable. */
static void test_state_journal_file_format(void) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct stat st;

        setup();
        REQUIRE(mkdir_parents_ok());
        ASSERT_INT_EQ(journal_append(dir, "plugin", "net", "a\tb\nc%d\x01", NULL), 0);
        ASSERT_INT_EQ(journal_append(dir, "kill", "1", "2", "x"), 0);
        path = in_dir("journal");
        text = read_file(path);
        ASSERT_STREQ(text, "plugin\tnet\ta%09b%0Ac%25d%01\nkill\t1\t2\tx\n");
        REQUIRE(stat(path, &st) == 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);
        teardown();
}

static void test_state_journal_read_missing(void) {
        struct journal_record *r = (void *) 1;
        size_t n = 42;

        setup();
        ASSERT_INT_EQ(journal_read(dir, &r, &n), 0);
        ASSERT_INT_EQ(n, 0);
        CU_ASSERT_PTR_NULL(r);
        /* no dir: appending fails, it does not create the runtime dir */
        ASSERT_INT_EQ(journal_append(dir, "unlink", "/x", NULL, NULL), -ENOENT);
        teardown();
}

static void test_state_lock_creates_dir(void) {
        _cleanup_free_ char *lock = NULL;
        struct stat st;
        int fd;

        setup();
        fd = state_lock(dir, getuid(), getgid());
        CU_ASSERT(fd >= 0);
        REQUIRE(stat(dir, &st) == 0);
        CU_ASSERT(S_ISDIR(st.st_mode));
        ASSERT_INT_EQ(st.st_mode & 07777, 0750);
        lock = in_dir("lock");
        REQUIRE(stat(lock, &st) == 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);
        /* the lock fd must not leak into the VMM or helpers */
        ASSERT_INT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        close(fd);
        teardown();
}

/* A runtime dir or journal that someone else could have written is never acted on. */
static void test_state_untrusted_dirs_refused(void) {
        _cleanup_free_ char *target = NULL, *journal = NULL;
        struct journal_record *r = NULL;
        size_t n = 42;

        setup();
        REQUIRE(mkdir_parents_ok());
        REQUIRE(journal_append(dir, "unlink", "/etc/passwd", NULL, NULL) == 0);
        /* writable by others: neither replayed nor locked */
        REQUIRE(chmod(dir, 0777) == 0);
        ASSERT_INT_EQ(journal_read(dir, &r, &n), -EPERM);
        ASSERT_INT_EQ(n, 0);
        CU_ASSERT_PTR_NULL(r);
        ASSERT_INT_EQ(state_lock(dir, getuid(), getgid()), -EPERM);
        REQUIRE(chmod(dir, 0750) == 0);
        ASSERT_INT_EQ(journal_read(dir, &r, &n), 0);
        ASSERT_INT_EQ(n, 1);
        journal_records_free(r, n);
        /* a journal that others may write */
        journal = in_dir("journal");
        REQUIRE(chmod(journal, 0666) == 0);
        ASSERT_INT_EQ(journal_read(dir, &r, &n), -EPERM);
        REQUIRE(chmod(journal, 0600) == 0);
        /* a symlink to a good dir: not followed */
        REQUIRE(asprintf(&target, "%s/run/vmsilo/link", base) > 0);
        REQUIRE(symlink(dir, target) == 0);
        ASSERT_INT_EQ(journal_read(target, &r, &n), -ENOTDIR);
        ASSERT_INT_EQ(state_lock(target, getuid(), getgid()), -ENOTDIR);
        ASSERT_INT_EQ(state_dir_open(target), -ENOTDIR);
        teardown();
}

static void test_state_keep_dir(void) {
        _cleanup_free_ char *keep = NULL, *link = NULL;
        struct stat st;
        int fd;

        setup();
        REQUIRE(asprintf(&keep, "%s/var/lib/vmsilo/work", base) > 0);
        REQUIRE(asprintf(&link, "%s/var/lib/vmsilo/link", base) > 0);
        fd = state_keep_dir_open(keep, getuid(), getgid());
        CU_ASSERT(fd >= 0);
        close(fd);
        REQUIRE(stat(keep, &st) == 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0700);
        /* an existing dir keeps its mode unless others may write it */
        REQUIRE(chmod(keep, 0755) == 0);
        fd = state_keep_dir_open(keep, getuid(), getgid());
        CU_ASSERT(fd >= 0);
        close(fd);
        REQUIRE(chmod(keep, 0777) == 0);
        ASSERT_INT_EQ(state_keep_dir_open(keep, getuid(), getgid()), -EPERM);
        REQUIRE(chmod(keep, 0700) == 0);
        REQUIRE(symlink(keep, link) == 0);
        ASSERT_INT_EQ(state_keep_dir_open(link, getuid(), getgid()), -ENOTDIR);
        teardown();
}

static void test_state_lock_twice_in_one_process(void) {
        int fd, fd2;

        setup();
        ASSERT_INT_EQ(state_is_running(dir), 0);
        fd = state_lock(dir, getuid(), getgid());
        REQUIRE(fd >= 0);
        /* flock() is per open file description: a second lock in the same process conflicts */
        ASSERT_INT_EQ(state_lock(dir, getuid(), getgid()), -EBUSY);
        ASSERT_INT_EQ(state_is_running(dir), 1);
        /* asking did not take the lock away */
        ASSERT_INT_EQ(state_lock(dir, getuid(), getgid()), -EBUSY);
        close(fd);
        ASSERT_INT_EQ(state_is_running(dir), 0);
        fd2 = state_lock(dir, getuid(), getgid());
        CU_ASSERT(fd2 >= 0);
        close(fd2);
        teardown();
}

static void test_state_lock_held_by_other_process(void) {
        int to_parent[2], to_child[2], status, fd;
        pid_t pid;
        char c;

        setup();
        REQUIRE(pipe(to_parent) == 0 && pipe(to_child) == 0);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
                int lfd = state_lock(dir, getuid(), getgid());

                c = lfd >= 0 ? 'L' : 'E';
                (void) !write(to_parent[1], &c, 1);
                (void) !read(to_child[0], &c, 1);
                _exit(lfd >= 0 ? 0 : 1);
        }
        REQUIRE(read(to_parent[0], &c, 1) == 1);
        ASSERT_INT_EQ(c, 'L');
        ASSERT_INT_EQ(state_is_running(dir), 1);
        ASSERT_INT_EQ(state_lock(dir, getuid(), getgid()), -EBUSY);
        /* the child exits: the kernel releases its lock */
        REQUIRE(write(to_child[1], "x", 1) == 1);
        REQUIRE(waitpid(pid, &status, 0) == pid);
        ASSERT_INT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
        ASSERT_INT_EQ(state_is_running(dir), 0);
        fd = state_lock(dir, getuid(), getgid());
        CU_ASSERT(fd >= 0);
        close(fd);
        close(to_parent[0]);
        close(to_parent[1]);
        close(to_child[0]);
        close(to_child[1]);
        teardown();
}

static void test_state_is_running_without_dir(void) {
        setup();
        ASSERT_INT_EQ(state_is_running(dir), 0);
        ASSERT_INT_EQ(access(dir, F_OK), -1); /* asking creates nothing */
        teardown();
}

static void test_state_remove_keep_lock(void) {
        _cleanup_free_ char *lock = NULL, *journal = NULL, *sock = NULL;
        int fd;

        setup();
        fd = state_lock(dir, getuid(), getgid());
        REQUIRE(fd >= 0);
        REQUIRE(journal_append(dir, "unlink", "/x", NULL, NULL) == 0);
        REQUIRE(write_pid_file(dir, "vmm.pid", getpid()) == 0);
        write_file(dir, "console.log", "boot\n");
        write_file(dir, ".hidden", "");
        ASSERT_INT_EQ(state_remove(dir, 1), 0);
        lock = in_dir("lock");
        journal = in_dir("journal");
        sock = in_dir("console.log");
        ASSERT_INT_EQ(access(lock, F_OK), 0);
        ASSERT_INT_EQ(access(journal, F_OK), -1);
        ASSERT_INT_EQ(access(sock, F_OK), -1);
        {
                _cleanup_free_ char *hidden = in_dir(".hidden"), *pid = in_dir("vmm.pid");

                ASSERT_INT_EQ(access(hidden, F_OK), -1);
                ASSERT_INT_EQ(access(pid, F_OK), -1);
        }
        /* still locked: the caller holds it */
        ASSERT_INT_EQ(state_is_running(dir), 1);
        close(fd);

        ASSERT_INT_EQ(state_remove(dir, 0), 0);
        ASSERT_INT_EQ(access(dir, F_OK), -1);
        /* parent dirs stay */
        {
                _cleanup_free_ char *parent = NULL;

                REQUIRE(asprintf(&parent, "%s/run/vmsilo", base) > 0);
                ASSERT_INT_EQ(access(parent, F_OK), 0);
        }
        /* nothing to remove is fine */
        ASSERT_INT_EQ(state_remove(dir, 0), 0);
        teardown();
}

static void test_state_remove_leaves_subdirectory(void) {
        _cleanup_free_ char *sub = NULL, *expected = NULL, *log = NULL;
        int r;

        setup();
        REQUIRE(mkdir_parents_ok());
        sub = in_dir("share");
        REQUIRE(mkdir(sub, 0755) == 0);
        write_file(dir, "file", "");
        CAPTURE_LOG(log, r = state_remove(dir, 0));
        ASSERT_INT_EQ(r, -ENOTEMPTY);
        REQUIRE(asprintf(&expected, "vmsilo-core: '%s/share' is a directory, leaving it\n", dir) >
                0);
        ASSERT_STREQ(log, expected);
        ASSERT_INT_EQ(access(sub, F_OK), 0);
        {
                _cleanup_free_ char *file = in_dir("file");

                ASSERT_INT_EQ(access(file, F_OK), -1);
        }
        teardown();
}

static void test_state_pid_file_roundtrip(void) {
        _cleanup_free_ char *path = NULL, *text = NULL, *expected = NULL;
        unsigned long long start = 0;
        pid_t me = getpid();

        setup();
        REQUIRE(mkdir_parents_ok());
        ASSERT_INT_EQ(write_pid_file(dir, "vmm.pid", me), 0);
        path = in_dir("vmm.pid");
        text = read_file(path);
        REQUIRE(asprintf(&expected, "%d %llu\n", (int) me, process_start_time(me)) > 0);
        ASSERT_STREQ(text, expected);
        CU_ASSERT(process_start_time(me) > 0);
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), me);
        CU_ASSERT(start == process_start_time(me));
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", NULL), me);
        {
                /* written through a temporary file: nothing else is left behind */
                _cleanup_free_ char *tmp = in_dir(".vmm.pid.tmp");

                ASSERT_INT_EQ(access(tmp, F_OK), -1);
        }
        /* rewriting replaces */
        ASSERT_INT_EQ(write_pid_file(dir, "vmm.pid", 1), 0);
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), 1);
        teardown();
}

static void test_state_pid_file_bad(void) {
        unsigned long long start = 77;

        setup();
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -ENOENT);
        REQUIRE(mkdir_parents_ok());
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -ENOENT);
        write_file(dir, "vmm.pid", "garbage\n");
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -EINVAL);
        write_file(dir, "vmm.pid", "");
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -EINVAL);
        write_file(dir, "vmm.pid", "0 5\n");
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -EINVAL);
        write_file(dir, "vmm.pid", "-5 5\n");
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), -EINVAL);
        ASSERT_INT_EQ(start, 77); /* untouched on failure */
        /* a pid alone (an older format) has start time 0 = unknown */
        write_file(dir, "vmm.pid", "4321\n");
        ASSERT_INT_EQ(read_pid_file(dir, "vmm.pid", &start), 4321);
        ASSERT_INT_EQ(start, 0);
        ASSERT_INT_EQ(write_pid_file(dir, "missing/vmm.pid", 1), -ENOENT);
        teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_state_journal_roundtrip),
                TEST(test_state_journal_file_format),
                TEST(test_state_journal_read_missing),
                TEST(test_state_lock_creates_dir),
                TEST(test_state_untrusted_dirs_refused),
                TEST(test_state_keep_dir),
                TEST(test_state_lock_twice_in_one_process),
                TEST(test_state_lock_held_by_other_process),
                TEST(test_state_is_running_without_dir),
                TEST(test_state_remove_keep_lock),
                TEST(test_state_remove_leaves_subdirectory),
                TEST(test_state_pid_file_roundtrip),
                TEST(test_state_pid_file_bad),
        };

        umask(022); /* the modes asserted below are the core's, not the caller's umask */
        return RUN_SUITE("state", tests);
}
