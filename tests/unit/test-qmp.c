/* SPDX-License-Identifier: MIT */
/* qmp_call(): the reply to our command (a whole line whose top-level key is "return" or
 * "error"), with QEMU's events in between skipped; qmp_reply_status(). */
#include <sys/socket.h>

#include "backend/qmp.h"
#include "testutil.h"

/* A connected pair; `replies` already waits on our end, as QEMU would have sent it. */
static void pair_with(int sv[2], const char *replies) {
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        if (replies)
                REQUIRE(write(sv[1], replies, strlen(replies)) == (ssize_t) strlen(replies));
}

static void test_qmp_call_skips_events(void) {
        static const char cmd[] = "{\"execute\": \"query-status\"}\n";
        _cleanup_free_ char *reply = NULL;
        char sent[128] = "";
        int sv[2];

        pair_with(sv, "{\"timestamp\": {}, \"event\": \"RESUME\", \"data\": {\"return\": 1}}\n"
                      "{\"return\": {\"status\": \"paused\", \"running\": false}}\n");
        ASSERT_INT_EQ(qmp_call(sv[0], cmd, 1000, &reply), 0);
        ASSERT_STREQ(reply, "{\"return\": {\"status\": \"paused\", \"running\": false}}");
        REQUIRE(read(sv[1], sent, sizeof(sent) - 1) > 0);
        ASSERT_STREQ(sent, cmd);
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_call_error(void) {
        _cleanup_free_ char *reply = NULL;
        int sv[2];

        pair_with(sv, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n");
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"cont\"}\n", 1000, &reply), -EIO);
        ASSERT_STREQ(reply, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}");
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_call_reply_in_pieces(void) {
        int sv[2];

        /* a reply that arrives after an unterminated line is complete only at its newline */
        pair_with(sv, "{\"return\": {}");
        REQUIRE(write(sv[1], "}\n", 2) == 2);
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"stop\"}\n", 1000, NULL), 0);
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_call_gone_or_silent(void) {
        int sv[2];

        pair_with(sv, "{\"event\": \"SHUTDOWN\"}\n");
        close(sv[1]);
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"quit\"}\n", 1000, NULL), -EPIPE);
        close(sv[0]);
        pair_with(sv, NULL);
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"quit\"}\n", 50, NULL), -ETIMEDOUT);
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_call_event_with_error_member_is_not_a_failure(void) {
        _cleanup_free_ char *reply = NULL;
        int sv[2];

        /* BLOCK_JOB_ERROR-like events and a "return" nested in data are no reply */
        pair_with(sv, "{\"event\": \"BLOCK_JOB_ERROR\", \"data\": {\"error\": \"x\", "
                      "\"return\": 1}}\n"
                      "{\"event\": \"X\", \"data\": {\"error\": {\"desc\": \"no\"}}}\n"
                      "{\"timestamp\": {\"seconds\": 1}, \"return\": {}}\n");
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"cont\"}\n", 1000, &reply), 0);
        ASSERT_STREQ(reply, "{\"timestamp\": {\"seconds\": 1}, \"return\": {}}");
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_call_skips_garbage_and_overlong_lines(void) {
        _cleanup_free_ char *reply = NULL;
        size_t n = 70000; /* longer than the reader keeps, shorter than the socket buffer */
        char *big = malloc(n + 1);
        int sv[2];

        REQUIRE(big);
        /* a reply-looking start whose line is too long to be read whole */
        memset(big, ' ', n);
        memcpy(big, "{\"return\": ", 11);
        big[n] = '\n';
        pair_with(sv, "not json\n[1, 2]\n");
        REQUIRE(write(sv[1], big, n + 1) == (ssize_t) n + 1);
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"stop\"}\n", 300, NULL), -ETIMEDOUT);
        /* the same again, then a real reply: found after the overlong line */
        REQUIRE(write(sv[1], big, n + 1) == (ssize_t) n + 1);
        REQUIRE(write(sv[1], "{\"return\": {}}\n", 15) == 15);
        ASSERT_INT_EQ(qmp_call(sv[0], "{\"execute\": \"stop\"}\n", 1000, &reply), 0);
        ASSERT_STREQ(reply, "{\"return\": {}}");
        free(big);
        close(sv[0]);
        close(sv[1]);
}

static void test_qmp_reply_status(void) {
        char st[32];

        ASSERT_INT_EQ(qmp_reply_status("{\"return\": {\"running\": true, \"status\": \"running\"}}",
                                       st, sizeof(st)),
                      0);
        ASSERT_STREQ(st, "running");
        /* a status elsewhere (an event's data, the error) is not the reply's */
        ASSERT_INT_EQ(qmp_reply_status("{\"event\": \"X\", \"data\": {\"status\": \"paused\"}}", st,
                                       sizeof(st)),
                      -ENOENT);
        ASSERT_STREQ(st, "");
        ASSERT_INT_EQ(qmp_reply_status("{\"return\": {\"status\": 3}}", st, sizeof(st)), -ENOENT);
        ASSERT_INT_EQ(qmp_reply_status("{\"return\": {}", st, sizeof(st)), -ENOENT);
        ASSERT_INT_EQ(qmp_reply_status(NULL, st, sizeof(st)), -ENOENT);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_qmp_call_skips_events),
                TEST(test_qmp_call_error),
                TEST(test_qmp_call_reply_in_pieces),
                TEST(test_qmp_call_gone_or_silent),
                TEST(test_qmp_call_event_with_error_member_is_not_a_failure),
                TEST(test_qmp_call_skips_garbage_and_overlong_lines),
                TEST(test_qmp_reply_status),
        };

        return RUN_SUITE("qmp", tests);
}
