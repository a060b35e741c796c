/* SPDX-License-Identifier: MIT */
/* core/config/keytab.c: the plugin key table (ABI 1.1), as the core and the mock host parse it. */
#include "config/keytab.h"
#include "testutil.h"

struct state {
        int flag, choice, tri;
        unsigned long long n, bytes;
        char *path, *word, *program;
        char **list;
};

static int word_ok(const char *v, char *why, size_t size) {
        if (strcmp(v, "bad") == 0) {
                snprintf(why, size, "'bad' is a bad word");
                return 0;
        }
        return strspn(v, "abcdefghijklmnopqrstuvwxyz") == strlen(v);
}

static const char *const choices[] = { "", "one", "two", NULL };

#define F(f) offsetof(struct state, f)
static const struct vmsilo_key keys[] = {
        { .name = "flag", .type = VMSILO_KEY_BOOL, .offset = F(flag), .def = "yes" },
        { .name = "tri", .type = VMSILO_KEY_BOOL, .flags = VMSILO_KEY_AUTO, .offset = F(tri) },
        { .name = "choice",
          .type = VMSILO_KEY_ENUM,
          .offset = F(choice),
          .values = choices,
          .def = "two" },
        { .name = "n", .type = VMSILO_KEY_UINT, .offset = F(n), .min = 10, .max = 20, .def = "15" },
        { .name = "bytes", .type = VMSILO_KEY_SIZE, .offset = F(bytes), .min = 1 },
        { .name = "path", .type = VMSILO_KEY_PATH, .flags = VMSILO_KEY_EMPTY, .offset = F(path) },
        { .name = "word", .type = VMSILO_KEY_STRING, .offset = F(word), .validate = word_ok },
        { .name = "program", .type = VMSILO_KEY_PROGRAM, .offset = F(program) },
        { .name = "list",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_LIST | VMSILO_KEY_SPLIT,
          .offset = F(list),
          .validate = word_ok },
        { .name = "list",
          .type = VMSILO_KEY_STRING,
          .flags = VMSILO_KEY_INSTANCE,
          .offset = F(word) },
        { .name = NULL },
};

static char bad[256], why[512];

static int store(struct state *s, const char *key, const char *value) {
        struct vmsilo_key k;

        REQUIRE(keytab_find(keys, sizeof(struct vmsilo_key), key, 0, &k));
        bad[0] = why[0] = 0;
        return keytab_store(&k, s, value, bad, sizeof(bad), why, sizeof(why));
}

static void test_keytab_defaults_and_scalars(void) {
        struct state s = { .tri = 7 };

        ASSERT_INT_EQ(keytab_defaults(keys, sizeof(struct vmsilo_key), &s, 0), 0);
        ASSERT_INT_EQ(s.flag, 1);
        ASSERT_INT_EQ(s.choice, 2);
        ASSERT_INT_EQ(s.n, 15);
        ASSERT_INT_EQ(s.tri, 7); /* no default: what init left */
        ASSERT_INT_EQ(store(&s, "flag", "OFF"), 0);
        ASSERT_INT_EQ(s.flag, 0);
        ASSERT_INT_EQ(store(&s, "tri", "auto"), 0);
        ASSERT_INT_EQ(s.tri, -1);
        ASSERT_INT_EQ(store(&s, "choice", ""), 0); /* "" is one of the words */
        ASSERT_INT_EQ(s.choice, 0);
        ASSERT_INT_EQ(store(&s, "bytes", "512M"), 0);
        ASSERT_INT_EQ(s.bytes, 512ULL << 20);
        ASSERT_INT_EQ(store(&s, "path", "/srv"), 0);
        ASSERT_STREQ(s.path, "/srv");
        ASSERT_INT_EQ(store(&s, "path", ""), 0); /* EMPTY: back to the default (none) */
        ASSERT_STREQ(s.path, NULL);
        ASSERT_INT_EQ(store(&s, "program", "virtiofsd"), 0);
        ASSERT_INT_EQ(store(&s, "program", "/usr/bin/virtiofsd"), 0);
        ASSERT_STREQ(s.program, "/usr/bin/virtiofsd");
        vmsilo_keys_free(keys, &s, 0);
        ASSERT_STREQ(s.program, NULL);
}

static void test_keytab_errors_say_what_was_expected(void) {
        struct state s = {};

        ASSERT_INT_EQ(store(&s, "flag", "maybe"), -EINVAL);
        ASSERT_STREQ(why, "expected yes or no");
        ASSERT_INT_EQ(store(&s, "tri", "sometimes"), -EINVAL);
        ASSERT_STREQ(why, "expected auto, yes or no");
        ASSERT_INT_EQ(store(&s, "choice", "three"), -EINVAL);
        ASSERT_STREQ(why, "expected one or two");
        ASSERT_INT_EQ(store(&s, "n", "9"), -EINVAL);
        ASSERT_STREQ(why, "expected a number from 10 to 20");
        ASSERT_INT_EQ(store(&s, "n", "-1"), -EINVAL);
        ASSERT_INT_EQ(store(&s, "n", "12x"), -EINVAL);
        ASSERT_INT_EQ(store(&s, "bytes", "0"), -EINVAL);
        ASSERT_INT_EQ(store(&s, "bytes", "1Q"), -EINVAL);
        ASSERT_INT_EQ(store(&s, "bytes", "99999999999999999999"), -EINVAL);
        ASSERT_STREQ(why, "expected a size such as 512M or 10G");
        ASSERT_INT_EQ(store(&s, "path", "relative"), -EINVAL);
        ASSERT_STREQ(why, "expected an absolute path");
        ASSERT_INT_EQ(store(&s, "program", "bin/x"), -EINVAL);
        ASSERT_INT_EQ(store(&s, "word", ""), -EINVAL);
        ASSERT_INT_EQ(store(&s, "word", "bad"), -EINVAL);
        ASSERT_STREQ(why, "'bad' is a bad word"); /* the validator's own reason */
        ASSERT_STREQ(s.word, NULL);
        vmsilo_keys_free(keys, &s, 0);
}

static void test_keytab_lists(void) {
        struct state s = {};

        ASSERT_INT_EQ(store(&s, "list", "a b,c"), 0);
        ASSERT_INT_EQ(store(&s, "list", "d"), 0);
        REQUIRE(s.list);
        ASSERT_STREQ(s.list[0], "a");
        ASSERT_STREQ(s.list[2], "c");
        ASSERT_STREQ(s.list[3], "d");
        ASSERT_STREQ(s.list[4], NULL);
        /* one bad item: named, and the list stays as it was */
        ASSERT_INT_EQ(store(&s, "list", "e bad"), -EINVAL);
        ASSERT_STREQ(bad, "bad");
        ASSERT_STREQ(s.list[4], NULL);
        ASSERT_INT_EQ(store(&s, "list", ""), 0); /* reset */
        ASSERT_STREQ((const char *) s.list, NULL);
        vmsilo_keys_free(keys, &s, 0);
}

static void test_keytab_find_prefers_the_placement(void) {
        struct vmsilo_key k;

        REQUIRE(keytab_find(keys, sizeof(struct vmsilo_key), "list", 1, &k));
        ASSERT_INT_EQ(k.flags, VMSILO_KEY_INSTANCE);
        REQUIRE(keytab_find(keys, sizeof(struct vmsilo_key), "list", 0, &k));
        ASSERT_INT_EQ(k.flags, VMSILO_KEY_LIST | VMSILO_KEY_SPLIT);
        ASSERT_INT_EQ(keytab_find(keys, sizeof(struct vmsilo_key), "colour", 0, &k), 0);
        /* a table of entries smaller than ABI 1.1's is not read */
        ASSERT_INT_EQ(keytab_find(keys, sizeof(struct vmsilo_key) - 8, "flag", 0, &k), 0);
        ASSERT_INT_EQ(keytab_has_instance_keys(keys, sizeof(struct vmsilo_key)), 1);
}

static void test_keytab_parse_bool(void) {
        ASSERT_INT_EQ(vmsilo_parse_bool("Yes"), 1);
        ASSERT_INT_EQ(vmsilo_parse_bool("TRUE"), 1);
        ASSERT_INT_EQ(vmsilo_parse_bool("1"), 1);
        ASSERT_INT_EQ(vmsilo_parse_bool("off"), 0);
        ASSERT_INT_EQ(vmsilo_parse_bool("0"), 0);
        ASSERT_INT_EQ(vmsilo_parse_bool(""), -1);
        ASSERT_INT_EQ(vmsilo_parse_bool("yess"), -1);
        ASSERT_INT_EQ(vmsilo_parse_bool("\x11"), -1);
        ASSERT_INT_EQ(vmsilo_parse_bool(NULL), -1);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_keytab_defaults_and_scalars),
                TEST(test_keytab_errors_say_what_was_expected),
                TEST(test_keytab_lists),
                TEST(test_keytab_find_prefers_the_placement),
                TEST(test_keytab_parse_bool),
        };

        return RUN_SUITE("keytab", tests);
}
