/* SPDX-License-Identifier: MIT */
/* The CUnit helpers of the guest's unit tests (tests/guest/unit/), which link the guest's
 * objects rather than the core's: assertions and the suite runner, and capturing stderr
 * (where the guest logs). */
#pragma once

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ASSERT_STREQ(actual, expected)                                                            \
        do {                                                                                      \
                const char *a_ = (actual), *e_ = (expected);                                      \
                int ok_ = a_ && e_ ? strcmp(a_, e_) == 0 : a_ == e_;                              \
                if (!ok_)                                                                         \
                        fprintf(stderr, "\n%s:%d: %s\n  expected: \"%s\"\n  actual:   \"%s\"\n",  \
                                __FILE__, __LINE__, #actual, e_ ? e_ : "(null)",                  \
                                a_ ? a_ : "(null)");                                              \
                CU_assertImplementation(ok_, __LINE__, "ASSERT_STREQ(" #actual ")", __FILE__, "", \
                                        CU_FALSE);                                                \
        } while (0)

#define ASSERT_INT_EQ(actual, expected)                                                      \
        do {                                                                                 \
                long long a_ = (long long) (actual), e_ = (long long) (expected);            \
                if (a_ != e_)                                                                \
                        fprintf(stderr, "\n%s:%d: %s\n  expected: %lld\n  actual:   %lld\n", \
                                __FILE__, __LINE__, #actual, e_, a_);                        \
                CU_assertImplementation(a_ == e_, __LINE__, "ASSERT_INT_EQ(" #actual ")",    \
                                        __FILE__, "", CU_FALSE);                             \
        } while (0)

#define REQUIRE(cond) \
        CU_assertImplementation(!!(cond), __LINE__, "REQUIRE(" #cond ")", __FILE__, "", CU_TRUE)

/* stderr goes to a memfd between the two calls; the end returns it (malloc()ed). */
static inline int stderr_capture_start(void) {
        int saved = dup(STDERR_FILENO), fd = memfd_create("guest-test", MFD_CLOEXEC);

        if (saved < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                abort();
        close(fd);
        return saved;
}

static inline char *stderr_capture_end(int saved) {
        off_t n = lseek(STDERR_FILENO, 0, SEEK_END);
        char *buf = calloc(1, (size_t) (n > 0 ? n : 0) + 1);

        if (n < 0 || !buf || pread(STDERR_FILENO, buf, (size_t) n, 0) != n)
                abort();
        if (dup2(saved, STDERR_FILENO) < 0)
                abort();
        close(saved);
        return buf;
}

struct test_def {
        const char *name;
        CU_TestFunc func;
};

#define TEST(f) \
        { #f, f }

static inline int run_suite(const char *name, const struct test_def *tests, size_t n) {
        unsigned failures;
        CU_pSuite suite;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 2;
        suite = CU_add_suite(name, NULL, NULL);
        if (!suite)
                return 2;
        for (size_t i = 0; i < n; i++)
                if (!CU_add_test(suite, tests[i].name, tests[i].func))
                        return 2;
        CU_basic_set_mode(CU_BRM_VERBOSE);
        if (CU_basic_run_tests() != CUE_SUCCESS)
                return 2;
        failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        return failures > 0 ? 1 : 0;
}

#define RUN_SUITE(name, tests) run_suite((name), (tests), sizeof(tests) / sizeof((tests)[0]))
