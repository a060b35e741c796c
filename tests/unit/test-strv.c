/* SPDX-License-Identifier: MIT */
/* core/util/strv.c: string vectors and the shell quoting of `print` and of scripts. */
#include <sys/wait.h>

#include "testutil.h"
#include "util/strv.h"

static void test_strv_push_keeps_null_terminated(void) {
        struct strv v = {};
        char buf[] = "copied";

        ASSERT_INT_EQ(strv_push(&v, buf), 0);
        buf[0] = 'X'; /* push copies */
        ASSERT_INT_EQ(strv_consume(&v, strdup("taken")), 0);
        ASSERT_INT_EQ(strv_pushf(&v, "%s=%d", "cpus", 4), 0);
        for (int i = 0; i < 20; i++)
                ASSERT_INT_EQ(strv_pushf(&v, "n%d", i), 0);
        REQUIRE(v.n == 23);
        ASSERT_STREQ(v.items[0], "copied");
        ASSERT_STREQ(v.items[1], "taken");
        ASSERT_STREQ(v.items[2], "cpus=4");
        ASSERT_STREQ(v.items[22], "n19");
        CU_ASSERT_PTR_NULL(v.items[23]);
        ASSERT_INT_EQ(strv_contains(&v, "cpus=4"), 1);
        ASSERT_INT_EQ(strv_contains(&v, "cpus"), 0);
        ASSERT_INT_EQ(strv_consume(&v, NULL), -ENOMEM);
        ASSERT_INT_EQ(v.n, 23);
        strv_done(&v);
        ASSERT_INT_EQ(v.n, 0);
        CU_ASSERT_PTR_NULL(v.items);
        strv_done(&v); /* idempotent */
}

static void test_strv_clear_then_reuse(void) {
        struct strv v = {};

        REQUIRE(strv_push(&v, "a") == 0);
        REQUIRE(strv_push(&v, "b") == 0);
        strv_clear(&v);
        ASSERT_INT_EQ(v.n, 0);
        REQUIRE(v.items);
        CU_ASSERT_PTR_NULL(v.items[0]);
        ASSERT_INT_EQ(strv_contains(&v, "a"), 0);
        REQUIRE(strv_push(&v, "c") == 0);
        REQUIRE(v.n == 1);
        ASSERT_STREQ(v.items[0], "c");
        CU_ASSERT_PTR_NULL(v.items[1]);
        strv_done(&v);

        strv_clear(&v); /* on an empty one */
        ASSERT_INT_EQ(v.n, 0);
}

static void test_strv_extend(void) {
        struct strv a = {}, b = {};

        REQUIRE(strv_push(&a, "1") == 0);
        REQUIRE(strv_push(&b, "2") == 0);
        REQUIRE(strv_push(&b, "3") == 0);
        ASSERT_INT_EQ(strv_extend(&a, &b), 0);
        REQUIRE(a.n == 3);
        ASSERT_STREQ(a.items[0], "1");
        ASSERT_STREQ(a.items[1], "2");
        ASSERT_STREQ(a.items[2], "3");
        CU_ASSERT(a.items[1] != b.items[0]); /* copies */
        ASSERT_INT_EQ(b.n, 2);
        strv_done(&a);
        strv_done(&b);
}

static void assert_quote(const char *in, const char *expected) {
        _cleanup_free_ char *q = shell_quote(in);

        ASSERT_STREQ(q, expected);
}

static void test_strv_shell_quote(void) {
        assert_quote("plain", "plain");
        assert_quote("/usr/bin/crosvm", "/usr/bin/crosvm");
        assert_quote("--mem=1024", "--mem=1024");
        assert_quote("path=/a.img,ro=true", "path=/a.img,ro=true");
        assert_quote("user@host:1%2+3", "user@host:1%2+3");
        assert_quote("", "''");
        assert_quote("a b", "'a b'");
        assert_quote("it's", "'it'\\''s'");
        assert_quote("'", "''\\'''");
        assert_quote("$HOME", "'$HOME'");
        assert_quote("a;b", "'a;b'");
        assert_quote("*", "'*'");
        assert_quote("~", "'~'");
        assert_quote("a\"b", "'a\"b'");
        assert_quote("back\\slash", "'back\\slash'");
        assert_quote("line\nbreak", "'line\nbreak'");
        assert_quote("tab\there", "'tab\there'");
}

static void test_strv_join_quoted(void) {
        struct strv v = {};
        char *s;

        s = strv_join_quoted(&v, " ");
        ASSERT_STREQ(s, "");
        free(s);
        REQUIRE(strv_push(&v, "crosvm") == 0);
        REQUIRE(strv_push(&v, "run") == 0);
        REQUIRE(strv_push(&v, "--params") == 0);
        REQUIRE(strv_push(&v, "console=hvc0 quiet") == 0);
        REQUIRE(strv_push(&v, "") == 0);
        REQUIRE(strv_push(&v, "it's") == 0);
        s = strv_join_quoted(&v, " ");
        ASSERT_STREQ(s, "crosvm run --params 'console=hvc0 quiet' '' 'it'\\''s'");
        free(s);
        s = strv_join_quoted(&v, " \\\n  ");
        ASSERT_STREQ(
                s,
                "crosvm \\\n  run \\\n  --params \\\n  'console=hvc0 quiet' \\\n  '' \\\n  'it'\\''s'");
        free(s);
        strv_done(&v);
}

/* What the quoting is for: sh reads back exactly the argv that was quoted. */
static void test_strv_quoting_roundtrips_through_sh(void) {
        static const char *const args[] = {
                "plain", "",        "a b",         "it's",  "'",  "''", "$HOME",
                "`id`",  "$(id)",   "a\\b",        "\"q\"", "*",  "?",  "[a]",
                "~",     "a;b|c&d", "line\nbreak", "x=y",   "-e", "--", "#hash",
                "!bang", "{a,b}",   "tab\there",   "%s%n",
        };
        _cleanup_free_ char *joined = NULL, *script = NULL, *out = NULL;
        char *expected = NULL;
        size_t len = 0;
        struct strv v = {};
        FILE *f, *e;

        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                REQUIRE(strv_push(&v, args[i]) == 0);
        joined = strv_join_quoted(&v, " ");
        REQUIRE(joined);
        /* one NUL-free line per argument, each between < and > */
        REQUIRE(asprintf(&script, "for a in %s; do printf '<%%s>\\n' \"$a\"; done", joined) > 0);
        {
                char *argv_sh[] = { (char *) "sh", (char *) "-c", script, NULL };
                int pfd[2];
                pid_t pid;

                REQUIRE(pipe(pfd) == 0);
                pid = fork();
                REQUIRE(pid >= 0);
                if (pid == 0) {
                        dup2(pfd[1], STDOUT_FILENO);
                        close(pfd[0]);
                        close(pfd[1]);
                        execvp("sh", argv_sh);
                        _exit(127);
                }
                close(pfd[1]);
                f = fdopen(pfd[0], "r");
                REQUIRE(f);
                {
                        char *buf = NULL;
                        size_t n = 0;
                        FILE *m = open_memstream(&buf, &n);
                        int ch;

                        while ((ch = fgetc(f)) != EOF)
                                fputc(ch, m);
                        fclose(m);
                        out = buf;
                }
                fclose(f);
                {
                        int status;

                        REQUIRE(waitpid(pid, &status, 0) == pid);
                        ASSERT_INT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
                }
        }
        e = open_memstream(&expected, &len);
        REQUIRE(e);
        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                fprintf(e, "<%s>\n", args[i]);
        fclose(e);
        ASSERT_STREQ(out, expected);
        free(expected);
        strv_done(&v);
}

static void test_strv_strdup_printf(void) {
        _cleanup_free_ char *s = strdup_printf("%s/%s.so", "/usr/lib/vmsilo/plugins", "gpu");

        ASSERT_STREQ(s, "/usr/lib/vmsilo/plugins/gpu.so");
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_strv_push_keeps_null_terminated),
                TEST(test_strv_clear_then_reuse),
                TEST(test_strv_extend),
                TEST(test_strv_shell_quote),
                TEST(test_strv_join_quoted),
                TEST(test_strv_quoting_roundtrips_through_sh),
                TEST(test_strv_strdup_printf),
        };

        return RUN_SUITE("strv", tests);
}
