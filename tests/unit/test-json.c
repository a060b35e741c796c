/* SPDX-License-Identifier: MIT */
/* core/util/json.c: the JSON strings of `plugins --json`, `list --json` and `print --json`. */
#include "testutil.h"
#include "util/json.h"

static char *json_of(const char *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        json_string(f, s);
        fclose(f);
        return buf;
}

static void assert_json(const char *in, const char *expected) {
        _cleanup_free_ char *out = json_of(in);

        ASSERT_STREQ(out, expected);
}

static void test_json_string_plain(void) {
        assert_json("work", "\"work\"");
        assert_json("", "\"\"");
        assert_json(NULL, "\"\"");
        assert_json("/run/vmsilo/work", "\"/run/vmsilo/work\"");
        assert_json("a b/c'd", "\"a b/c'd\"");
}

static void test_json_string_escapes(void) {
        assert_json("a\"b", "\"a\\\"b\"");
        assert_json("a\\b", "\"a\\\\b\"");
        assert_json("line\nbreak", "\"line\\nbreak\"");
        assert_json("tab\there", "\"tab\\there\"");
        assert_json("\x01", "\"\\u0001\"");
        assert_json("cr\r", "\"cr\\u000d\"");
        assert_json("\x1f", "\"\\u001f\"");
        assert_json("\x7f", "\"\\u007f\"");
}

/*
 * Known bug (see the report): bytes >= 0x80 become \u00XX one by one, so UTF-8 text such as
 * a path "/home/josé" reads back as "/home/josÃ©". Valid UTF-8 may pass through as is, or
 * become the \u escape of its code point.
 */
static void test_json_string_utf8(void) {
        _cleanup_free_ char *out = json_of("/home/jos\xc3\xa9");

        if (!streq(out, "\"/home/jos\xc3\xa9\"") && !streq(out, "\"/home/jos\\u00e9\""))
                fprintf(stderr, "\njson_string(\"/home/jos\\xc3\\xa9\") = %s\n", out);
        CU_ASSERT(streq(out, "\"/home/jos\xc3\xa9\"") || streq(out, "\"/home/jos\\u00e9\""));
}

static void test_json_strv(void) {
        struct strv v = {};
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        REQUIRE(f);
        json_strv(f, &v);
        fputc(' ', f);
        REQUIRE(strv_push(&v, "crosvm") == 0);
        REQUIRE(strv_push(&v, "--params") == 0);
        REQUIRE(strv_push(&v, "a \"b\"") == 0);
        json_strv(f, &v);
        fclose(f);
        ASSERT_STREQ(buf, "[] [\"crosvm\", \"--params\", \"a \\\"b\\\"\"]");
        free(buf);
        strv_done(&v);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_json_string_plain),
                TEST(test_json_string_escapes),
                TEST(test_json_string_utf8),
                TEST(test_json_strv),
        };

        return RUN_SUITE("json", tests);
}
