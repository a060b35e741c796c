/* SPDX-License-Identifier: MIT */
/* qmp_call(): the reply to our command, with QEMU's events in between skipped. */
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

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_qmp_call_skips_events),
                TEST(test_qmp_call_error),
                TEST(test_qmp_call_reply_in_pieces),
                TEST(test_qmp_call_gone_or_silent),
        };

        return RUN_SUITE("qmp", tests);
}
