/* SPDX-License-Identifier: MIT */
/* core/cli/vmlog.c: the last lines of a kept log, printed escaped. */
#include <string.h>

#include "cli/vmlog.h"
#include "testutil.h"

static size_t tail(const char *s, unsigned n) {
        return vmlog_tail_start(s, strlen(s), n);
}

static void test_vmlog_tail_start(void) {
        ASSERT_INT_EQ(tail("a\nb\nc\n", 2), 2);
        ASSERT_INT_EQ(tail("a\nb\nc\n", 3), 0);
        ASSERT_INT_EQ(tail("a\nb\nc\n", 100), 0);
        ASSERT_INT_EQ(tail("a\nb\nc", 1), 4); /* a last line without its newline counts */
        ASSERT_INT_EQ(tail("a\nb\nc\n", 0), 6);
        ASSERT_INT_EQ(tail("", 5), 0);
        ASSERT_INT_EQ(tail("\n\n", 1), 1);
}

static void test_vmlog_print_escaped(void) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char in[] = "boot\r\nx\033]0;pwned\007\n\nlast";

        REQUIRE(f);
        ASSERT_INT_EQ(vmlog_print_escaped(f, in, sizeof(in) - 1), 4);
        fclose(f);
        ASSERT_STREQ(out, "boot\nx\\x1b]0;pwned\\x07\n\nlast\n");
        free(out);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_vmlog_tail_start),
                TEST(test_vmlog_print_escaped),
        };

        return RUN_SUITE("vmlog", tests);
}
