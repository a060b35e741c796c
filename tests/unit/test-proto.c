/* SPDX-License-Identifier: MIT */
/* proto/proto.c: the frame codecs shared by the host and the guest (protocol 1 and 2). */
#include "proto/proto.h"
#include "testutil.h"

static void test_proto_hdr_roundtrip_and_limits(void) {
        struct vmsilo_proto_hdr h = { .len = 5, .session = 0x01020304, .type = 0x21 }, d;
        uint8_t b[VMSILO_PROTO_HDR_SIZE];
        static const uint8_t wire[] = { 5, 0, 0, 0, 4, 3, 2, 1, 0x21, 0, 0, 0 };

        ASSERT_INT_EQ(vmsilo_proto_encode_hdr(b, sizeof(b), &h), 12);
        CU_ASSERT(memcmp(b, wire, sizeof(wire)) == 0); /* little-endian, reserved 0 */
        ASSERT_INT_EQ(vmsilo_proto_decode_hdr(b, 11, &d), 0);
        ASSERT_INT_EQ(vmsilo_proto_decode_hdr(b, 12, &d), 12);
        ASSERT_INT_EQ(d.len, 5);
        ASSERT_INT_EQ(d.session, 0x01020304);
        ASSERT_INT_EQ(d.type, 0x21);
        h.len = VMSILO_PROTO_MAX_PAYLOAD + 1;
        ASSERT_INT_EQ(vmsilo_proto_encode_hdr(b, sizeof(b), &h), -EMSGSIZE);
        b[0] = 1, b[1] = 0, b[2] = 1, b[3] = 0; /* 65537 */
        ASSERT_INT_EQ(vmsilo_proto_decode_hdr(b, 12, &d), -EMSGSIZE);
        ASSERT_INT_EQ(d.len, 65537); /* filled all the same, so a reader can skip it */
        h.len = 1;
        ASSERT_INT_EQ(vmsilo_proto_encode_hdr(b, 11, &h), -ENOBUFS);
}

static void test_proto_hello_v1_and_v2(void) {
        struct vmsilo_proto_hello h = { .version = 1,
                                        .max_payload = 65536,
                                        .window = 77,
                                        .ident = "id",
                                        .ident_len = 2 },
                                  d;
        uint8_t b[64];
        int n;

        n = vmsilo_proto_encode_hello(b, sizeof(b), &h);
        ASSERT_INT_EQ(n, 12 + 12 + 2); /* version 1: no window on the wire */
        ASSERT_INT_EQ(vmsilo_proto_decode_hello(b + 12, (size_t) n - 12, &d), 0);
        ASSERT_INT_EQ(d.version, 1);
        ASSERT_INT_EQ(d.window, 0);
        ASSERT_INT_EQ(d.ident_len, 2);
        CU_ASSERT(memcmp(d.ident, "id", 2) == 0);
        h.version = 2;
        n = vmsilo_proto_encode_hello(b, sizeof(b), &h);
        ASSERT_INT_EQ(n, 12 + 16 + 2);
        ASSERT_INT_EQ(vmsilo_proto_decode_hello(b + 12, (size_t) n - 12, &d), 0);
        ASSERT_INT_EQ(d.version, 2);
        ASSERT_INT_EQ(d.window, 77);
        ASSERT_INT_EQ(d.ident_len, 2);
        CU_ASSERT(memcmp(d.ident, "id", 2) == 0);
        /* a version 2 HELLO too short for its window is malformed */
        ASSERT_INT_EQ(vmsilo_proto_decode_hello(b + 12, 14, &d), -EMSGSIZE);
        ASSERT_INT_EQ(vmsilo_proto_decode_hello(b + 12, 11, &d), -EMSGSIZE);
}

static void test_proto_negotiate_takes_the_lower(void) {
        ASSERT_INT_EQ(vmsilo_proto_negotiate(0), 0);
        ASSERT_INT_EQ(vmsilo_proto_negotiate(1), 1);
        ASSERT_INT_EQ(vmsilo_proto_negotiate(2), 2);
        ASSERT_INT_EQ(vmsilo_proto_negotiate(99), VMSILO_PROTO_VERSION);
}

static void test_proto_start_roundtrip(void) {
        const char *argv[] = { "sh", "-c", "", "x y" }, *env[] = { "A=1", "B" };
        struct vmsilo_proto_start s = { .flags = VMSILO_START_PTY,
                                        .rows = 24,
                                        .cols = 80,
                                        .cwd = "/tmp",
                                        .user = "",
                                        .argc = 4,
                                        .argv = argv,
                                        .envc = 2,
                                        .env = env },
                                  d;
        static uint8_t b[VMSILO_PROTO_MAX_FRAME];
        const char *strv[8];
        int n = vmsilo_proto_encode_start(b, sizeof(b), 9, &s);

        REQUIRE(n > 12);
        ASSERT_INT_EQ(vmsilo_proto_decode_start(b + 12, (size_t) n - 12, &d, strv, 8), 0);
        ASSERT_INT_EQ(d.flags, VMSILO_START_PTY);
        ASSERT_INT_EQ(d.rows, 24);
        ASSERT_INT_EQ(d.cols, 80);
        ASSERT_STREQ(d.cwd, "/tmp");
        ASSERT_STREQ(d.user, "");
        ASSERT_INT_EQ(d.argc, 4);
        ASSERT_STREQ(d.argv[2], "");
        ASSERT_STREQ(d.argv[3], "x y");
        CU_ASSERT_PTR_NULL(d.argv[4]);
        ASSERT_INT_EQ(d.envc, 2);
        ASSERT_STREQ(d.env[1], "B");
        CU_ASSERT_PTR_NULL(d.env[2]);
        /* the string vector must hold argc + envc + 2 */
        ASSERT_INT_EQ(vmsilo_proto_decode_start(b + 12, (size_t) n - 12, &d, strv, 7), -E2BIG);
        /* a missing NUL, or argc 0, is malformed */
        ASSERT_INT_EQ(vmsilo_proto_decode_start(b + 12, (size_t) n - 13, &d, strv, 8), -EMSGSIZE);
        s.argc = 0;
        ASSERT_INT_EQ(vmsilo_proto_encode_start(b, sizeof(b), 9, &s), -EINVAL);
}

static void test_proto_start_too_big(void) {
        static char big[VMSILO_PROTO_MAX_PAYLOAD];
        const char *argv[] = { big };
        struct vmsilo_proto_start s = { .cwd = "", .user = "", .argc = 1, .argv = argv };
        static uint8_t b[VMSILO_PROTO_MAX_FRAME];

        memset(big, 'a', sizeof(big) - 1);
        ASSERT_INT_EQ(vmsilo_proto_encode_start(b, sizeof(b), 1, &s), -EMSGSIZE);
        big[VMSILO_PROTO_MAX_PAYLOAD - 16 - 3] = 0; /* exactly fills the payload */
        ASSERT_INT_EQ(vmsilo_proto_encode_start(b, sizeof(b), 1, &s), VMSILO_PROTO_MAX_FRAME);
        ASSERT_INT_EQ(vmsilo_proto_encode_start(b, sizeof(b) - 1, 1, &s), -ENOBUFS);
}

static void test_proto_small_payloads(void) {
        struct vmsilo_proto_exit e = { .kind = VMSILO_EXIT_SIGNAL, .value = 9 }, de;
        struct vmsilo_proto_error err = { .error = EPROTO, .msg = "bad", .msg_len = 3 }, derr;
        uint8_t b[64];
        uint16_t rows, cols;
        uint32_t v;

        ASSERT_INT_EQ(vmsilo_proto_encode_u32(b, sizeof(b), 3, VMSILO_MSG_CREDIT, 262144), 16);
        ASSERT_INT_EQ(b[8], VMSILO_MSG_CREDIT);
        ASSERT_INT_EQ(vmsilo_proto_decode_u32(b + 12, 4, &v), 0);
        ASSERT_INT_EQ(v, 262144);
        ASSERT_INT_EQ(vmsilo_proto_decode_u32(b + 12, 5, &v), -EMSGSIZE);
        ASSERT_INT_EQ(vmsilo_proto_encode_resize(b, sizeof(b), 3, 50, 132), 16);
        ASSERT_INT_EQ(vmsilo_proto_decode_resize(b + 12, 4, &rows, &cols), 0);
        ASSERT_INT_EQ(rows, 50);
        ASSERT_INT_EQ(cols, 132);
        ASSERT_INT_EQ(vmsilo_proto_encode_exit(b, sizeof(b), 3, &e), 20);
        ASSERT_INT_EQ(vmsilo_proto_decode_exit(b + 12, 8, &de), 0);
        ASSERT_INT_EQ(de.kind, VMSILO_EXIT_SIGNAL);
        ASSERT_INT_EQ(de.value, 9);
        ASSERT_INT_EQ(vmsilo_proto_encode_error(b, sizeof(b), 3, &err), 19);
        ASSERT_INT_EQ(vmsilo_proto_decode_error(b + 12, 7, &derr), 0);
        ASSERT_INT_EQ(derr.error, EPROTO);
        ASSERT_INT_EQ(derr.msg_len, 3);
        ASSERT_INT_EQ(vmsilo_proto_decode_error(b + 12, 3, &derr), -EMSGSIZE);
        ASSERT_INT_EQ(vmsilo_proto_encode_data(b, sizeof(b), 3, VMSILO_MSG_STDIN, NULL, 0), 12);
        ASSERT_INT_EQ(vmsilo_proto_encode_data(b, sizeof(b), 3, VMSILO_MSG_STDIN, NULL, 1),
                      -EINVAL);
        ASSERT_INT_EQ(vmsilo_proto_encode_data(b, sizeof(b), 3, VMSILO_MSG_STDIN, b, 60), -ENOBUFS);
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_proto_hdr_roundtrip_and_limits),
                TEST(test_proto_hello_v1_and_v2),
                TEST(test_proto_negotiate_takes_the_lower),
                TEST(test_proto_start_roundtrip),
                TEST(test_proto_start_too_big),
                TEST(test_proto_small_payloads),
        };

        return RUN_SUITE("proto", tests);
}
