/* SPDX-License-Identifier: MIT */
/* proto/framer.c: splitting an untrusted byte stream into frames (host and guest). */
#include <sys/socket.h>

#include "proto/framer.h"
#include "testutil.h"

static size_t put_frame(uint8_t *b, uint32_t session, uint8_t type, const char *data) {
        return (size_t) vmsilo_proto_encode_data(b, VMSILO_PROTO_MAX_FRAME, session, type, data,
                                                 strlen(data));
}

static void test_framer_byte_by_byte(void) {
        static struct framer f;
        uint8_t b[128];
        size_t n = put_frame(b, 7, VMSILO_MSG_STDOUT, "hello");
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        n += put_frame(b + n, 8, VMSILO_MSG_STDERR, "");
        for (size_t i = 0; i < 16; i++) {
                ASSERT_INT_EQ(framer_feed(&f, b + i, 1), 1);
                ASSERT_INT_EQ(framer_next(&f, &h, &p), i == 16 ? 1 : 0);
        }
        ASSERT_INT_EQ(framer_feed(&f, b + 16, 1), 1);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        ASSERT_INT_EQ(h.session, 7);
        ASSERT_INT_EQ(h.len, 5);
        CU_ASSERT(memcmp(p, "hello", 5) == 0);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 0);
        ASSERT_INT_EQ(framer_feed(&f, b + 17, n - 17), n - 17);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        ASSERT_INT_EQ(h.session, 8);
        ASSERT_INT_EQ(h.len, 0); /* an empty frame (EOF) is a frame */
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 0);
}

static void test_framer_holds_one_maximal_frame(void) {
        static struct framer f;
        static uint8_t b[2 * VMSILO_PROTO_MAX_FRAME];
        static char payload[VMSILO_PROTO_MAX_PAYLOAD + 1];
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        size_t n;

        memset(payload, 'z', VMSILO_PROTO_MAX_PAYLOAD);
        n = put_frame(b, 1, VMSILO_MSG_STDIN, payload);
        ASSERT_INT_EQ(n, VMSILO_PROTO_MAX_FRAME);
        n += put_frame(b + n, 2, VMSILO_MSG_STDIN, "x");
        /* it takes what fits: exactly one maximal frame */
        ASSERT_INT_EQ(framer_feed(&f, b, n), VMSILO_PROTO_MAX_FRAME);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        ASSERT_INT_EQ(h.len, VMSILO_PROTO_MAX_PAYLOAD);
        ASSERT_INT_EQ(framer_feed(&f, b + VMSILO_PROTO_MAX_FRAME, 13), 13);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        ASSERT_INT_EQ(h.session, 2);
}

static void test_framer_oversized_is_reported_then_skipped(void) {
        static struct framer f;
        uint8_t hdr[12] = { 0x10, 0, 2, 0, /* len 0x20010 > limit */ 5, 0, 0, 0, 0x11 };
        static uint8_t junk[0x20010];
        uint8_t b[64];
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        size_t off = 0, n;

        ASSERT_INT_EQ(framer_feed(&f, hdr, sizeof(hdr)), sizeof(hdr));
        ASSERT_INT_EQ(framer_next(&f, &h, &p), -EMSGSIZE);
        ASSERT_INT_EQ(h.len, 0x20010);
        ASSERT_INT_EQ(h.session, 5);
        /* the host gives up here; the guest skips the announced bytes as they come */
        framer_skip(&f, &h);
        memset(junk, 0xff, sizeof(junk));
        while (off < sizeof(junk)) {
                n = framer_feed(&f, junk + off, sizeof(junk) - off);
                off += n;
                ASSERT_INT_EQ(framer_next(&f, &h, &p), 0);
        }
        n = put_frame(b, 9, VMSILO_MSG_SIGNAL, "abcd");
        ASSERT_INT_EQ(framer_feed(&f, b, n), n);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        ASSERT_INT_EQ(h.session, 9);
        framer_reset(&f);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 0);
}

static void test_framer_read_from_fd(void) {
        static struct framer f;
        uint8_t b[64];
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int sv[2];
        size_t n = put_frame(b, 3, VMSILO_MSG_STDOUT, "abc");

        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        ASSERT_INT_EQ(framer_read(&f, sv[0]), -EAGAIN);
        REQUIRE(write(sv[1], b, n) == (ssize_t) n);
        ASSERT_INT_EQ(framer_read(&f, sv[0]), (int) n);
        ASSERT_INT_EQ(framer_next(&f, &h, &p), 1);
        CU_ASSERT(memcmp(p, "abc", 3) == 0);
        close(sv[1]);
        ASSERT_INT_EQ(framer_read(&f, sv[0]), 0); /* EOF */
        close(sv[0]);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_framer_byte_by_byte),
                TEST(test_framer_holds_one_maximal_frame),
                TEST(test_framer_oversized_is_reported_then_skipped),
                TEST(test_framer_read_from_fd),
        };

        return RUN_SUITE("framer", tests);
}
