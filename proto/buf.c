/* SPDX-License-Identifier: MIT */
/* A growable byte queue. */
#include "buf.h"
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t *buf_reserve(struct buf *b, size_t n) {
        size_t need;

        if (b->off > 0 && b->off == b->len)
                b->off = b->len = 0;
        if (b->off > 0 && b->len + n > b->cap) {
                memmove(b->data, b->data + b->off, b->len - b->off);
                b->len -= b->off;
                b->off = 0;
        }
        need = b->len + n;
        if (need > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                uint8_t *p;

                while (cap < need)
                        cap *= 2;
                p = realloc(b->data, cap);
                if (!p)
                        return NULL;
                b->data = p;
                b->cap = cap;
        }
        return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n) {
        b->len += n;
}

int buf_append(struct buf *b, const void *p, size_t n) {
        uint8_t *dst = buf_reserve(b, n);

        if (!dst)
                return -ENOMEM;
        memcpy(dst, p, n);
        buf_commit(b, n);
        return 0;
}

size_t buf_pending(const struct buf *b) {
        return b->len - b->off;
}

/* drained buffers larger than this are freed, so that a burst does not pin its memory */
#define BUF_KEEP (256 * 1024)

int buf_flush(struct buf *b, int fd) {
        size_t written = 0;

        while (buf_pending(b) > 0) {
                ssize_t n = write(fd, b->data + b->off, buf_pending(b));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return -errno;
                b->off += (size_t) n;
                written += (size_t) n;
        }
        if (buf_pending(b) == 0) {
                b->off = b->len = 0;
                if (b->cap > BUF_KEEP)
                        buf_free(b);
        }
        return written > INT32_MAX ? INT32_MAX : (int) written;
}

void buf_clear(struct buf *b) {
        b->off = b->len = 0;
}

void buf_free(struct buf *b) {
        free(b->data);
        b->data = NULL;
        b->off = b->len = b->cap = 0;
}

int buf_append_frame(struct buf *b, uint32_t session, uint8_t type, const void *payload,
                     size_t len) {
        uint8_t *dst;
        int n;

        if (len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        dst = buf_reserve(b, VMSILO_PROTO_HDR_SIZE + len);
        if (!dst)
                return -ENOMEM;
        n = vmsilo_proto_encode_data(dst, VMSILO_PROTO_HDR_SIZE + len, session, type, payload, len);
        if (n < 0)
                return n;
        buf_commit(b, (size_t) n);
        return 0;
}

int buf_append_u32_frame(struct buf *b, uint32_t session, uint8_t type, uint32_t value) {
        uint8_t frame[VMSILO_PROTO_HDR_SIZE + 4];
        int n = vmsilo_proto_encode_u32(frame, sizeof(frame), session, type, value);

        return n < 0 ? n : buf_append(b, frame, (size_t) n);
}
