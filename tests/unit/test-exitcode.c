/* SPDX-License-Identifier: MIT */
/* core/cli/exitcode.c: the one place errors of the lower layers become exit codes. */
#include <errno.h>

#include "cli/exitcode.h"
#include "testutil.h"

static void test_documented_errors(void) {
        ASSERT_INT_EQ(exit_code(0), EXIT_OK);
        ASSERT_INT_EQ(exit_code(1), EXIT_OK);
        ASSERT_INT_EQ(exit_code(-ENOENT), EXIT_NOT_FOUND);
        ASSERT_INT_EQ(exit_code(-EINVAL), EXIT_CONFIG);
        ASSERT_INT_EQ(exit_code(-ENOEXEC), EXIT_CONFIG);
        ASSERT_INT_EQ(exit_code(-ECANCELED), EXIT_PREFLIGHT);
        ASSERT_INT_EQ(exit_code(-EBUSY), EXIT_RUNNING);
        ASSERT_INT_EQ(exit_code(-ESRCH), EXIT_NOT_RUNNING);
}

static void test_anything_else_is_a_runtime_failure(void) {
        ASSERT_INT_EQ(exit_code(-EIO), EXIT_RUNTIME);
        ASSERT_INT_EQ(exit_code(-ENOMEM), EXIT_RUNTIME);
        ASSERT_INT_EQ(exit_code(-EPERM), EXIT_RUNTIME);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_documented_errors),
                TEST(test_anything_else_is_a_runtime_failure),
        };

        return RUN_SUITE("exitcode", tests);
}
