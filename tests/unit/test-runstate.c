/* SPDX-License-Identifier: MIT */
/* core/run/runstate.c: what list/status read from a VM's runtime and state dirs. */
#include <sys/wait.h>

#include "run/runstate.h"
#include "testutil.h"
#include "util/state.h"

static char *base;

static char *sub(const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", base, name) < 0)
                abort();
        return p;
}

static int wait_status(void) {
        int st;

        if (wait(&st) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_runstate_states(void) {
        _cleanup_free_ char *dir = NULL;
        char *detail = (char *) 1;
        int fd;

        base = tmpdir_new();
        dir = sub("run/work");
        /* no dir: stopped */
        ASSERT_INT_EQ(vm_run_state(dir, &detail), VM_STOPPED);
        ASSERT_STREQ(detail, NULL);
        /* locked, not up yet: starting */
        fd = state_lock(dir, 0, 0);
        REQUIRE(fd >= 0);
        if (fork() == 0) {
                /* the lock is judged by another process, as list does */
                _exit(vm_run_state(dir, NULL) == VM_STARTING ? 0 : 1);
        }
        ASSERT_INT_EQ(wait_status(), 0);
        write_file(dir, RS_UP, "1700000000\n");
        write_file(dir, RS_HELPER_FAILED, "virtiofs/data\t42\twas killed by signal 9\n");
        if (fork() == 0) {
                _cleanup_free_ char *d = NULL;
                int st = vm_run_state(dir, &d);

                _exit(st == VM_RUNNING &&
                                      testutil_streq_ptr(
                                              d, "helper 'virtiofs/data' was killed by signal 9")
                              ? 0
                              : 1);
        }
        ASSERT_INT_EQ(wait_status(), 0);
        write_file(dir, RS_PAUSED, "I/O error on disk 'ephemeral' (no space)\n");
        if (fork() == 0) {
                _cleanup_free_ char *d = NULL;
                int st = vm_run_state(dir, &d);

                _exit(st == VM_PAUSED && testutil_streq_ptr(
                                                 d, "I/O error on disk 'ephemeral' (no space)")
                              ? 0
                              : 1);
        }
        ASSERT_INT_EQ(wait_status(), 0);
        close(fd);
        /* not locked, a journal left: needs cleanup; an empty one: stopped */
        ASSERT_INT_EQ(journal_append(dir, "unlink", "/x", NULL, NULL), 0);
        ASSERT_INT_EQ(vm_run_state(dir, NULL), VM_NEEDS_CLEANUP);
        ASSERT_STREQ(vm_run_state_name(VM_NEEDS_CLEANUP), "needs cleanup");
        write_file(dir, "journal", "");
        ASSERT_INT_EQ(vm_run_state(dir, NULL), VM_STOPPED);
        tmpdir_remove(base);
}

static void test_runstate_keep_error_bounded(void) {
        _cleanup_free_ char *state = NULL, *text = NULL;
        char line[200];

        base = tmpdir_new();
        state = sub("state/deep/work");
        runstate_keep_error(state, "first\nsecond line");
        text = runstate_read(state, RS_LAST_ERROR);
        REQUIRE(text);
        /* one record per line, the time first */
        ASSERT_INT_EQ(strchr(text, '\n') == NULL, 1);
        ASSERT_INT_EQ(strstr(text, "\tfirst\rsecond line") != NULL, 1);
        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = 0;
        for (int i = 0; i < 200; i++)
                runstate_keep_error(state, line);
        runstate_keep_error(state, "the newest");
        free(text);
        text = runstate_read(state, RS_LAST_ERROR);
        REQUIRE(text);
        ASSERT_INT_EQ(strlen(text) <= 16384, 1);
        ASSERT_INT_EQ(strstr(text, "\tthe newest") != NULL, 1);
        ASSERT_INT_EQ(strstr(text, "first") == NULL, 1);
        tmpdir_remove(base);
}

static void test_runstate_write_replaces(void) {
        _cleanup_free_ char *text = NULL;

        base = tmpdir_new();
        ASSERT_INT_EQ(runstate_write(base, "f", "one\n"), 0);
        ASSERT_INT_EQ(runstate_write(base, "f", "two\n\n"), 0);
        text = runstate_read(base, "f");
        ASSERT_STREQ(text, "two");
        ASSERT_INT_EQ(runstate_exists(base, "f"), 1);
        ASSERT_INT_EQ(runstate_exists(base, ".f.tmp"), 0);
        ASSERT_STREQ(runstate_read(base, "missing"), NULL);
        tmpdir_remove(base);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_runstate_states),
                TEST(test_runstate_keep_error_bounded),
                TEST(test_runstate_write_replaces),
        };

        return RUN_SUITE("runstate", tests);
}
