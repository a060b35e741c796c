/* SPDX-License-Identifier: MIT */
/*
 * Splits a byte stream from an untrusted peer into protocol frames, on the host and in the
 * guest. Never holds more than one maximal frame; a header announcing more than
 * VMSILO_PROTO_MAX_PAYLOAD is reported, and the reader either gives up on the stream (the
 * host) or skips the frame (the guest: framer_skip()).
 */
#ifndef VMSILO_PROTO_FRAMER_H
#define VMSILO_PROTO_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct framer {
        uint8_t buf[VMSILO_PROTO_MAX_FRAME];
        size_t len;    /* bytes in buf */
        size_t used;   /* bytes of buf already handed out as frames */
        uint64_t skip; /* bytes of an oversized frame still to discard */
};

/* Reads what is available from fd into the framer. Returns bytes read, 0 on EOF, -EAGAIN
 * when nothing is available now, or a negative errno. */
int framer_read(struct framer *f, int fd);

/* Appends bytes (tests, fuzzing). Returns how many fit. */
size_t framer_feed(struct framer *f, const uint8_t *data, size_t n);

/* The next complete frame: 1 and ret_hdr, ret_payload (valid until the next framer call),
 * 0 if incomplete, -EMSGSIZE for an oversized frame (ret_hdr is filled; call framer_skip()
 * to go on, else the stream is unusable). */
int framer_next(struct framer *f, struct vmsilo_proto_hdr *ret_hdr, const uint8_t **ret_payload);

/* After -EMSGSIZE: drops that frame's header and, as they arrive, its hdr->len bytes. */
void framer_skip(struct framer *f, const struct vmsilo_proto_hdr *hdr);

/* Forgets everything buffered (a new connection). */
void framer_reset(struct framer *f);

#endif
