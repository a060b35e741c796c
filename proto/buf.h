/* SPDX-License-Identifier: MIT */
/* A growable byte queue, on the host and in the guest: bytes [off, len) of data are
 * pending. Callers bound what they queue; buf_flush() gives large buffers back once they
 * are drained, so a burst does not pin its memory. */
#ifndef VMSILO_PROTO_BUF_H
#define VMSILO_PROTO_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
        uint8_t *data;
        size_t off;
        size_t len;
        size_t cap;
};

/* Returns room for n more bytes at the end (NULL on allocation failure); buf_commit()
 * then adds the bytes actually written there. */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
size_t buf_pending(const struct buf *b);
/* Writes pending bytes to a non-blocking fd: the number of bytes written (0 on EAGAIN),
 * or a negative errno on error (EPIPE: SIGPIPE must be ignored). */
int buf_flush(struct buf *b, int fd);
void buf_clear(struct buf *b);
/* Appends one whole protocol frame (proto.h): header, then len bytes of payload. */
int buf_append_frame(struct buf *b, uint32_t session, uint8_t type, const void *payload,
                     size_t len);
/* Appends a frame whose payload is one u32 (CREDIT, SIGNAL, STARTED). */
int buf_append_u32_frame(struct buf *b, uint32_t session, uint8_t type, uint32_t value);
void buf_free(struct buf *b);

#endif
