/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the host side's parser of what a guest sends (proto/framer.c splitting a
 * byte stream into frames, proto/proto.c decoding each payload). The guest is untrusted:
 * no input may crash, overrun or loop.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../proto/framer.h"

static void decode(const struct vmsilo_proto_hdr *h, const uint8_t *p) {
        const char *strv[64];
        struct vmsilo_proto_hello hello;
        struct vmsilo_proto_start start;
        struct vmsilo_proto_exit e;
        struct vmsilo_proto_error err;
        uint32_t v;
        uint16_t rows, cols;

        switch (h->type) {
        case VMSILO_MSG_HELLO:
                if (vmsilo_proto_decode_hello(p, h->len, &hello) == 0 && hello.ident_len > h->len)
                        __builtin_trap();
                break;
        case VMSILO_MSG_START:
                if (vmsilo_proto_decode_start(p, h->len, &start, strv, 64) == 0)
                        for (uint32_t i = 0; i < start.argc; i++)
                                (void) strlen(start.argv[i]);
                break;
        case VMSILO_MSG_EXIT:
                (void) vmsilo_proto_decode_exit(p, h->len, &e);
                break;
        case VMSILO_MSG_ERROR:
                if (vmsilo_proto_decode_error(p, h->len, &err) == 0 && err.msg_len > h->len)
                        __builtin_trap();
                break;
        case VMSILO_MSG_RESIZE:
                (void) vmsilo_proto_decode_resize(p, h->len, &rows, &cols);
                break;
        default:
                (void) vmsilo_proto_decode_u32(p, h->len, &v);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct framer f;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        size_t off = 0;
        int r = 0;

        f.len = f.used = 0;
        /* feed in uneven chunks, as a socket would deliver it */
        while (off < size && r >= 0) {
                size_t chunk = 1 + (data[off] % 97);

                if (chunk > size - off)
                        chunk = size - off;
                off += framer_feed(&f, data + off, chunk);
                while ((r = framer_next(&f, &h, &p)) > 0) {
                        if (h.len > VMSILO_PROTO_MAX_PAYLOAD)
                                __builtin_trap();
                        decode(&h, p);
                }
        }
        return 0;
}
