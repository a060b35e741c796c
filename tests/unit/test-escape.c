/* SPDX-License-Identifier: MIT */
/* core/util/escape.c: guest text made harmless for the user's terminal and logs. */
#include "testutil.h"
#include "util/escape.h"

static void check(const char *in, size_t n, const char *want) {
        _cleanup_free_ char *out = text_escape(in, n);

        ASSERT_STREQ(out, want);
}

static void test_escape_control_bytes(void) {
        check("plain text", 10, "plain text");
        check("x\033]0;pwned\007\nFAKE: log\n", 22, "x\\x1b]0;pwned\\x07\\nFAKE: log");
        check("a\rb\tc\\d", 7, "a\\rb\\tc\\\\d");
        check("del\177", 4, "del\\x7f");
        check("nul\0after", 9, "nul\\x00after");
        check("\n\n", 2, "\\n");
        check("", 0, "");
}

static void test_escape_keeps_utf8_but_not_c1(void) {
        check("caf\xc3\xa9", 5, "caf\xc3\xa9");
        check("csi\xc2\x9b"
              "31m",
              8, "csi\\u009b31m");
        check("nbsp\xc2\xa0", 6, "nbsp\xc2\xa0");
        check("cut\xc2", 4, "cut\xc2");
}

static void test_escape_has_control_chars(void) {
        ASSERT_INT_EQ(has_control_chars("/srv/dir"), 0);
        ASSERT_INT_EQ(has_control_chars("/srv/caf\xc3\xa9"), 0);
        ASSERT_INT_EQ(has_control_chars("dir\n[vm]"), 1);
        ASSERT_INT_EQ(has_control_chars("k\033[2J"), 1);
        ASSERT_INT_EQ(has_control_chars("tab\there"), 1);
        ASSERT_INT_EQ(has_control_chars("del\177"), 1);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_escape_control_bytes),
                TEST(test_escape_keeps_utf8_but_not_c1),
                TEST(test_escape_has_control_chars),
        };

        return RUN_SUITE("escape", tests);
}
