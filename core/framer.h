/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../guest/proto.h"

/*
 * Splits a byte stream from an untrusted peer into protocol frames. Never holds more than
 * one maximal frame; a header announcing more than VMSILO_PROTO_MAX_PAYLOAD is an error.
 */
struct framer {
        uint8_t buf[VMSILO_PROTO_MAX_FRAME];
        size_t len;  /* bytes in buf */
        size_t used; /* bytes of buf already handed out as frames */
};

/* Reads what is available from fd into the framer. Returns bytes read, 0 on EOF. */
int framer_read(struct framer *f, int fd);

/* Appends bytes (tests, fuzzing). Returns how many fit. */
size_t framer_feed(struct framer *f, const uint8_t *data, size_t n);

/* The next complete frame: 1 and ret_hdr, ret_payload (valid until the next framer call),
 * 0 if incomplete, -EMSGSIZE for an oversized frame (the stream is then unusable). */
int framer_next(struct framer *f, struct vmsilo_proto_hdr *ret_hdr, const uint8_t **ret_payload);
