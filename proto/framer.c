/* SPDX-License-Identifier: MIT */
#include "framer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void compact(struct framer *f) {
        if (f->used == 0)
                return;
        memmove(f->buf, f->buf + f->used, f->len - f->used);
        f->len -= f->used;
        f->used = 0;
}

int framer_read(struct framer *f, int fd) {
        ssize_t n;

        compact(f);
        if (f->len == sizeof(f->buf))
                return -ENOBUFS; /* cannot happen: a full buffer always holds a frame */
        n = read(fd, f->buf + f->len, sizeof(f->buf) - f->len);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
        f->len += (size_t) n;
        return (int) n;
}

size_t framer_feed(struct framer *f, const uint8_t *data, size_t n) {
        compact(f);
        if (n > sizeof(f->buf) - f->len)
                n = sizeof(f->buf) - f->len;
        memcpy(f->buf + f->len, data, n);
        f->len += n;
        return n;
}

int framer_next(struct framer *f, struct vmsilo_proto_hdr *ret_hdr, const uint8_t **ret_payload) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        size_t avail;
        int r;

        if (f->skip > 0) {
                size_t n = f->len - f->used;

                if (n > f->skip)
                        n = (size_t) f->skip;
                f->used += n;
                f->skip -= n;
                if (f->skip > 0)
                        return 0;
        }
        p = f->buf + f->used;
        avail = f->len - f->used;
        r = vmsilo_proto_decode_hdr(p, avail, &h);
        if (r < 0)
                *ret_hdr = h;
        if (r <= 0)
                return r;
        if (avail < VMSILO_PROTO_HDR_SIZE + (size_t) h.len)
                return 0;
        f->used += VMSILO_PROTO_HDR_SIZE + h.len;
        *ret_hdr = h;
        *ret_payload = p + VMSILO_PROTO_HDR_SIZE;
        return 1;
}

void framer_skip(struct framer *f, const struct vmsilo_proto_hdr *hdr) {
        if (f->len - f->used < VMSILO_PROTO_HDR_SIZE)
                return;
        f->used += VMSILO_PROTO_HDR_SIZE;
        f->skip = hdr->len;
}

void framer_reset(struct framer *f) {
        f->len = f->used = 0;
        f->skip = 0;
}
