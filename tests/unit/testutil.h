/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the CUnit test programs (tests/unit/test-*.c). Each program is one suite;
 * everything here is static so that every test program stays self-contained.
 */
#pragma once

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/macro.h"

/* ---- assertions that show what they saw ---- */

static inline int testutil_streq_ptr(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

#define ASSERT_STREQ(actual, expected)                                                             \
        do {                                                                                       \
                const char *a_ = (actual), *e_ = (expected);                                       \
                int ok_ = testutil_streq_ptr(a_, e_);                                              \
                if (!ok_)                                                                          \
                        fprintf(stderr, "\n%s:%d: %s\n  expected: \"%s\"\n  actual:   \"%s\"\n",   \
                                __FILE__, __LINE__, #actual, e_ ? e_ : "(null)",                   \
                                a_ ? a_ : "(null)");                                               \
                CU_assertImplementation(ok_, __LINE__, "ASSERT_STREQ(" #actual ", " #expected ")", \
                                        __FILE__, "", CU_FALSE);                                   \
        } while (0)

#define ASSERT_INT_EQ(actual, expected)                                                            \
        do {                                                                                       \
                long long a_ = (long long) (actual), e_ = (long long) (expected);                  \
                if (a_ != e_)                                                                      \
                        fprintf(stderr, "\n%s:%d: %s\n  expected: %lld\n  actual:   %lld\n",       \
                                __FILE__, __LINE__, #actual, e_, a_);                              \
                CU_assertImplementation(a_ == e_, __LINE__,                                        \
                                        "ASSERT_INT_EQ(" #actual ", " #expected ")", __FILE__, "", \
                                        CU_FALSE);                                                 \
        } while (0)

/* A fatal variant for preconditions whose failure would make the rest crash. */
#define REQUIRE(cond)                                                                             \
        do {                                                                                      \
                int ok_ = !!(cond);                                                               \
                if (!ok_)                                                                         \
                        fprintf(stderr, "\n%s:%d: precondition failed: %s\n", __FILE__, __LINE__, \
                                #cond);                                                           \
                CU_assertImplementation(ok_, __LINE__, "REQUIRE(" #cond ")", __FILE__, "",        \
                                        CU_TRUE);                                                 \
        } while (0)

/* ---- capturing what the core logs ---- */

/*
 * Everything the core logs between capture_start() and capture_end() goes to a memfd instead
 * of stderr. capture_end() returns it as one malloc()ed string ("" when nothing was logged)
 * and points the log back to stderr.
 */
struct capture {
        int fd;
};

static inline void capture_start(struct capture *c) {
        c->fd = memfd_create("vmsilo-test-log", MFD_CLOEXEC);
        if (c->fd < 0) {
                perror("memfd_create");
                abort();
        }
        log_set_fd(c->fd);
}

static inline char *capture_end(struct capture *c) {
        off_t n = lseek(c->fd, 0, SEEK_END);
        char *buf;

        log_set_fd(STDERR_FILENO);
        if (n < 0)
                abort();
        buf = calloc(1, (size_t) n + 1);
        if (!buf || pread(c->fd, buf, (size_t) n, 0) != n)
                abort();
        c->fd = safe_close(c->fd);
        return buf;
}

/* `out` (a char *, freed by the caller) receives what `call` logged. */
#define CAPTURE_LOG(out, call)              \
        do {                                \
                struct capture cap_;        \
                capture_start(&cap_);       \
                call;                       \
                (out) = capture_end(&cap_); \
        } while (0)

/* ---- temporary directory trees ---- */

/* A fresh directory under $TMPDIR (or /tmp); malloc()ed path. */
static inline char *tmpdir_new(void) {
        const char *base = getenv("TMPDIR");
        char *t;

        if (!base || !*base)
                base = "/tmp";
        if (asprintf(&t, "%s/vmsilo-test-XXXXXX", base) < 0)
                abort();
        if (!mkdtemp(t)) {
                perror("mkdtemp");
                abort();
        }
        return t;
}

static inline int testutil_rm_one(const char *path, const struct stat *st _unused_, int flag,
                                  struct FTW *ftw _unused_) {
        if (flag == FTW_DP)
                return rmdir(path) < 0 ? -1 : 0;
        return unlink(path) < 0 ? -1 : 0;
}

/* rm -rf `dir` (never follows symlinks), then frees it. */
static inline void tmpdir_remove(char *dir) {
        if (!dir)
                return;
        (void) nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
}

/* mkdir -p of the directory part of `path`. */
static inline void mkdir_parents_of(const char *path) {
        char *p = strdup(path);

        if (!p)
                abort();
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                        perror(p);
                        abort();
                }
                *s = '/';
        }
        free(p);
}

/* Writes `text` to DIR/REL, creating the parent directories. */
static inline void write_file(const char *dir, const char *rel, const char *text) {
        char *path;
        FILE *f;

        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                abort();
        mkdir_parents_of(path);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                perror(path);
                abort();
        }
        free(path);
}

/* DIR/REL becomes a symlink to `target`. */
static inline void make_symlink(const char *dir, const char *rel, const char *target) {
        char *path;

        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                abort();
        mkdir_parents_of(path);
        if (symlink(target, path) < 0) {
                perror(path);
                abort();
        }
        free(path);
}

/* The whole file as a malloc()ed string, or NULL when it cannot be read. */
static inline char *read_file(const char *path) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = fopen(path, "re"), *m;
        int ch;

        if (!f)
                return NULL;
        m = open_memstream(&buf, &len);
        if (!m)
                abort();
        while ((ch = fgetc(f)) != EOF)
                fputc(ch, m);
        fclose(f);
        if (fclose(m) != 0)
                abort();
        return buf;
}

/* Number of occurrences of `needle` in `haystack`. */
static inline unsigned count_substr(const char *haystack, const char *needle) {
        unsigned n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* ---- the suite runner ---- */

struct test_def {
        const char *name;
        CU_TestFunc func;
        /* A confirmed bug in the core: only run with VMSILO_TEST_KNOWN_BUGS=1 (see the test). */
        int known_bug;
};

#define TEST(f) \
        { #f, f, 0 }
#define KNOWN_BUG(f) \
        { #f, f, 1 }

/* Before each test: a failed REQUIRE() inside CAPTURE_LOG() must not swallow later logs. */
static inline void testutil_before_each(void) {
        log_set_fd(STDERR_FILENO);
}

/* Runs one suite; returns the exit code for main(): 0 if every test passed. */
static inline int run_suite(const char *suite_name, const struct test_def *tests, size_t n) {
        const char *kb = getenv("VMSILO_TEST_KNOWN_BUGS");
        int with_known_bugs = kb && streq(kb, "1");
        unsigned failures;
        CU_pSuite suite;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 2;
        suite = CU_add_suite_with_setup_and_teardown(suite_name, NULL, NULL, testutil_before_each,
                                                     NULL);
        if (!suite)
                return 2;
        for (size_t i = 0; i < n; i++) {
                if (tests[i].known_bug && !with_known_bugs) {
                        fprintf(stderr,
                                "%s: skipping %s (known core bug; VMSILO_TEST_KNOWN_BUGS=1 runs it)\n",
                                suite_name, tests[i].name);
                        continue;
                }
                if (!CU_add_test(suite, tests[i].name, tests[i].func))
                        return 2;
        }
        CU_basic_set_mode(CU_BRM_VERBOSE);
        if (CU_basic_run_tests() != CUE_SUCCESS)
                return 2;
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        return failures > 0 ? 1 : 0;
}

#define RUN_SUITE(name, tests) run_suite((name), (tests), ELEMENTSOF(tests))
