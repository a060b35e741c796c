/* SPDX-License-Identifier: MIT */
/* proto/buf.c: the byte queue of the mux and the guest agent. */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include "proto/buf.h"
#include "testutil.h"

static void test_buf_append_reserve_commit(void) {
        struct buf b = {};
        uint8_t *p;

        ASSERT_INT_EQ(buf_append(&b, "abc", 3), 0);
        p = buf_reserve(&b, 100000);
        REQUIRE(p);
        memcpy(p, "de", 2);
        buf_commit(&b, 2); /* only what was written counts */
        ASSERT_INT_EQ(buf_pending(&b), 5);
        CU_ASSERT(memcmp(b.data + b.off, "abcde", 5) == 0);
        CU_ASSERT(b.cap >= 100003);
        buf_clear(&b);
        ASSERT_INT_EQ(buf_pending(&b), 0);
        buf_free(&b);
        CU_ASSERT_PTR_NULL(b.data);
        buf_free(&b); /* idempotent */
}

static void test_buf_flush_partial_keeps_order(void) {
        struct buf b = {};
        static uint8_t big[1 << 20], got[1 << 20];
        size_t total = 0;
        int sv[2], r;

        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t) (i * 7);
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        REQUIRE(buf_append(&b, big, sizeof(big)) == 0);
        r = buf_flush(&b, sv[0]); /* the socket takes only part of it */
        CU_ASSERT(r > 0 && (size_t) r < sizeof(big));
        ASSERT_INT_EQ(buf_pending(&b), sizeof(big) - (size_t) r);
        ASSERT_INT_EQ(buf_flush(&b, sv[0]), 0); /* still full: EAGAIN is not an error */
        while (total < sizeof(big)) {
                ssize_t n = read(sv[1], got + total, sizeof(got) - total);

                if (n > 0)
                        total += (size_t) n;
                REQUIRE(buf_flush(&b, sv[0]) >= 0);
        }
        CU_ASSERT(memcmp(big, got, sizeof(big)) == 0);
        ASSERT_INT_EQ(buf_pending(&b), 0);
        /* a drained large buffer gives its memory back */
        CU_ASSERT_PTR_NULL(b.data);
        ASSERT_INT_EQ(b.cap, 0);
        close(sv[1]);
        REQUIRE(buf_append(&b, "x", 1) == 0);
        ASSERT_INT_EQ(buf_flush(&b, sv[0]), -EPIPE); /* SIGPIPE is ignored in main() */
        close(sv[0]);
        buf_free(&b);
}

static void test_buf_compacts_instead_of_growing(void) {
        struct buf b = {};
        uint8_t chunk[1000] = { 0 };
        int p[2];

        REQUIRE(pipe2(p, O_NONBLOCK) == 0);
        for (int i = 0; i < 1000; i++) {
                REQUIRE(buf_append(&b, chunk, sizeof(chunk)) == 0);
                REQUIRE(buf_flush(&b, p[1]) >= 0);
                while (read(p[0], chunk, sizeof(chunk)) > 0)
                        ;
        }
        CU_ASSERT(b.cap <= 4096); /* a steady trickle never needs more than one chunk's room */
        close(p[0]);
        close(p[1]);
        buf_free(&b);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_buf_append_reserve_commit),
                TEST(test_buf_flush_partial_keeps_order),
                TEST(test_buf_compacts_instead_of_growing),
        };

        signal(SIGPIPE, SIG_IGN);
        return RUN_SUITE("buf", tests);
}
