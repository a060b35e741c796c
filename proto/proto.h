/* SPDX-License-Identifier: MIT */
/* vmsilo guest agent protocol, versions 1 and 2: frame layout and payload codecs.
 *
 * Self-contained C99, no I/O, no allocation: shared by the guest agent and the host.
 * See docs/guest-protocol.md for the semantics of each frame.
 *
 * Every function returns a byte count (>= 0) or a negative errno:
 *   -EMSGSIZE  a length exceeds VMSILO_PROTO_MAX_PAYLOAD or the payload is malformed
 *   -ENOBUFS   the caller's buffer is too small
 *   -E2BIG     (start decode) the caller's string vector is too small
 *   -EINVAL    a bad argument (NULL where data is needed, argc == 0, ...)
 * Buffers are borrowed: nothing is kept after a call returns, except that decoded strings
 * point into the payload the caller passed in.
 */
#ifndef VMSILO_PROTO_PROTO_H
#define VMSILO_PROTO_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The highest version this code speaks; a connection uses the lower of both sides' */
#define VMSILO_PROTO_VERSION 2u
/* Version 2: the initial credit window of each session and direction, in payload bytes */
#define VMSILO_PROTO_WINDOW (1024u * 1024u)
#define VMSILO_PROTO_HDR_SIZE 12u
#define VMSILO_PROTO_MAX_PAYLOAD 65536u
#define VMSILO_PROTO_MAX_FRAME (VMSILO_PROTO_HDR_SIZE + VMSILO_PROTO_MAX_PAYLOAD)
#define VMSILO_PROTO_PORT_NAME "org.vmsilo.agent"
#define VMSILO_PROTO_VSOCK_PORT 5000u

enum vmsilo_proto_type {
        /* both directions */
        VMSILO_MSG_HELLO = 0x01,  /* session 0 */
        VMSILO_MSG_CREDIT = 0x02, /* version 2: u32 more payload bytes the peer may send */
        /* host to guest */
        VMSILO_MSG_START = 0x10,
        VMSILO_MSG_STDIN = 0x11,
        VMSILO_MSG_SIGNAL = 0x12,
        VMSILO_MSG_RESIZE = 0x13,
        VMSILO_MSG_POWEROFF = 0x14, /* session 0, empty: power the guest off cleanly */
        /* guest to host */
        VMSILO_MSG_STARTED = 0x20,
        VMSILO_MSG_STDOUT = 0x21,
        VMSILO_MSG_STDERR = 0x22,
        VMSILO_MSG_EXIT = 0x23,
        VMSILO_MSG_ERROR = 0x24
};

/* Wire header, little-endian: u32 payload length, u32 session id, u8 type, u8 reserved[3]. */
struct vmsilo_proto_hdr {
        uint32_t len;
        uint32_t session;
        uint8_t type;
};

struct vmsilo_proto_hello {
        uint32_t version; /* the highest version the sender speaks */
        uint32_t max_payload;
        uint32_t flags;    /* none defined: send 0, ignore on receipt */
        uint32_t window;   /* version >= 2: the sender's initial credit per session, else 0 */
        const char *ident; /* free text, not NUL-terminated on the wire */
        size_t ident_len;
};

#define VMSILO_START_PTY 0x1u

struct vmsilo_proto_start {
        uint32_t flags; /* VMSILO_START_PTY */
        uint16_t rows;  /* initial window size, pty only */
        uint16_t cols;
        const char *cwd;         /* "" = the user's home directory, else "/" */
        const char *user;        /* "" = root; a name or a decimal uid */
        uint32_t argc;           /* >= 1 */
        const char *const *argv; /* argc strings, passed to execvp() as given */
        uint32_t envc;
        const char *const *env; /* "KEY=VALUE" sets, "KEY" unsets */
};

enum vmsilo_proto_exit_kind {
        VMSILO_EXIT_STATUS = 0, /* value = exit status 0..255 */
        VMSILO_EXIT_SIGNAL = 1  /* value = number of the signal that killed it */
};

struct vmsilo_proto_exit {
        uint32_t kind;
        uint32_t value;
};

struct vmsilo_proto_error {
        int32_t error;   /* positive Linux errno */
        const char *msg; /* free text, not NUL-terminated on the wire */
        size_t msg_len;
};

/* The version a connection uses once the peer's HELLO said peer_version: the lower of
 * both, or 0 when the peer's is unusable (0). */
uint32_t vmsilo_proto_negotiate(uint32_t peer_version);

/* Header. decode_hdr returns VMSILO_PROTO_HDR_SIZE, or 0 when fewer bytes are available,
 * or -EMSGSIZE when the announced length exceeds the limit (hdr is filled in all the same,
 * so a reader may skip the payload). */
int vmsilo_proto_encode_hdr(uint8_t *buf, size_t size, const struct vmsilo_proto_hdr *hdr);
int vmsilo_proto_decode_hdr(const uint8_t *buf, size_t size, struct vmsilo_proto_hdr *hdr);

/* Whole frames: header + payload written to buf; returns the frame size. */
int vmsilo_proto_encode_hello(uint8_t *buf, size_t size, const struct vmsilo_proto_hello *h);
int vmsilo_proto_encode_start(uint8_t *buf, size_t size, uint32_t session,
                              const struct vmsilo_proto_start *s);
int vmsilo_proto_encode_data(uint8_t *buf, size_t size, uint32_t session, uint8_t type,
                             const void *data, size_t len);
int vmsilo_proto_encode_u32(uint8_t *buf, size_t size, uint32_t session, uint8_t type,
                            uint32_t value);
int vmsilo_proto_encode_resize(uint8_t *buf, size_t size, uint32_t session, uint16_t rows,
                               uint16_t cols);
int vmsilo_proto_encode_exit(uint8_t *buf, size_t size, uint32_t session,
                             const struct vmsilo_proto_exit *e);
int vmsilo_proto_encode_error(uint8_t *buf, size_t size, uint32_t session,
                              const struct vmsilo_proto_error *e);

/* Payloads (the bytes after the header). Return 0 on success. */
int vmsilo_proto_decode_hello(const uint8_t *p, size_t len, struct vmsilo_proto_hello *h);
/* strv receives argv (NULL-terminated) then env (NULL-terminated): it needs
 * argc + envc + 2 slots. s->argv and s->env point into strv, the strings into p. */
int vmsilo_proto_decode_start(const uint8_t *p, size_t len, struct vmsilo_proto_start *s,
                              const char **strv, size_t strv_cap);
int vmsilo_proto_decode_u32(const uint8_t *p, size_t len, uint32_t *value);
int vmsilo_proto_decode_resize(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols);
int vmsilo_proto_decode_exit(const uint8_t *p, size_t len, struct vmsilo_proto_exit *e);
int vmsilo_proto_decode_error(const uint8_t *p, size_t len, struct vmsilo_proto_error *e);

#ifdef __cplusplus
}
#endif

#endif
