/* SPDX-License-Identifier: MIT */
/* vmsilo guest agent protocol: pure encoders and decoders (no I/O, no allocation). */
#include "proto.h"

#include <errno.h>
#include <string.h>

#define START_FIXED 16u
#define HELLO_FIXED 12u
#define HELLO2_FIXED 16u /* version 2 adds the window */

static void put_u16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

static uint16_t get_u16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

uint32_t vmsilo_proto_negotiate(uint32_t peer_version) {
        return peer_version < VMSILO_PROTO_VERSION ? peer_version : VMSILO_PROTO_VERSION;
}

int vmsilo_proto_encode_hdr(uint8_t *buf, size_t size, const struct vmsilo_proto_hdr *hdr) {
        if (!buf || !hdr)
                return -EINVAL;
        if (hdr->len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        if (size < VMSILO_PROTO_HDR_SIZE)
                return -ENOBUFS;
        put_u32(buf, hdr->len);
        put_u32(buf + 4, hdr->session);
        buf[8] = hdr->type;
        buf[9] = buf[10] = buf[11] = 0;
        return VMSILO_PROTO_HDR_SIZE;
}

int vmsilo_proto_decode_hdr(const uint8_t *buf, size_t size, struct vmsilo_proto_hdr *hdr) {
        if (!buf || !hdr)
                return -EINVAL;
        if (size < VMSILO_PROTO_HDR_SIZE)
                return 0;
        hdr->len = get_u32(buf);
        hdr->session = get_u32(buf + 4);
        hdr->type = buf[8];
        if (hdr->len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        return VMSILO_PROTO_HDR_SIZE;
}

/* Writes the header of a frame whose payload is len bytes; checks the whole frame fits. */
static int frame_begin(uint8_t *buf, size_t size, uint32_t session, uint8_t type, size_t len) {
        struct vmsilo_proto_hdr hdr = { .session = session, .type = type };

        if (len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        if (!buf || size < VMSILO_PROTO_HDR_SIZE + len)
                return -ENOBUFS;
        hdr.len = (uint32_t) len;
        return vmsilo_proto_encode_hdr(buf, size, &hdr);
}

int vmsilo_proto_encode_data(uint8_t *buf, size_t size, uint32_t session, uint8_t type,
                             const void *data, size_t len) {
        int r;

        if (len > 0 && !data)
                return -EINVAL;
        r = frame_begin(buf, size, session, type, len);
        if (r < 0)
                return r;
        if (len > 0)
                memcpy(buf + VMSILO_PROTO_HDR_SIZE, data, len);
        return (int) (VMSILO_PROTO_HDR_SIZE + len);
}

int vmsilo_proto_encode_hello(uint8_t *buf, size_t size, const struct vmsilo_proto_hello *h) {
        size_t fixed;
        uint8_t *p;
        int r;

        if (!h || (h->ident_len > 0 && !h->ident))
                return -EINVAL;
        fixed = h->version >= 2 ? HELLO2_FIXED : HELLO_FIXED;
        if (h->ident_len > VMSILO_PROTO_MAX_PAYLOAD - fixed)
                return -EMSGSIZE;
        r = frame_begin(buf, size, 0, VMSILO_MSG_HELLO, fixed + h->ident_len);
        if (r < 0)
                return r;
        p = buf + VMSILO_PROTO_HDR_SIZE;
        put_u32(p, h->version);
        put_u32(p + 4, h->max_payload);
        put_u32(p + 8, h->flags);
        if (h->version >= 2)
                put_u32(p + 12, h->window);
        if (h->ident_len > 0)
                memcpy(p + fixed, h->ident, h->ident_len);
        return (int) (VMSILO_PROTO_HDR_SIZE + fixed + h->ident_len);
}

/* strnlen() without POSIX, so that this file builds as strict C99. */
static size_t bounded_len(const char *s, size_t max) {
        size_t n = 0;

        while (n < max && s[n])
                n++;
        return n;
}

/* Size of the strings of a start payload, or 0 if too big or a pointer is missing. */
static size_t start_strings_size(const struct vmsilo_proto_start *s) {
        size_t total = 0;

        if (!s->cwd || !s->user || !s->argv || (s->envc > 0 && !s->env))
                return 0;
        total += bounded_len(s->cwd, VMSILO_PROTO_MAX_PAYLOAD) + 1;
        total += bounded_len(s->user, VMSILO_PROTO_MAX_PAYLOAD) + 1;
        for (uint32_t i = 0; i < s->argc && total <= VMSILO_PROTO_MAX_PAYLOAD; i++) {
                if (!s->argv[i])
                        return 0;
                total += bounded_len(s->argv[i], VMSILO_PROTO_MAX_PAYLOAD) + 1;
        }
        for (uint32_t i = 0; i < s->envc && total <= VMSILO_PROTO_MAX_PAYLOAD; i++) {
                if (!s->env[i])
                        return 0;
                total += bounded_len(s->env[i], VMSILO_PROTO_MAX_PAYLOAD) + 1;
        }
        return total;
}

static uint8_t *put_str(uint8_t *p, const char *s) {
        size_t n = strlen(s) + 1;

        memcpy(p, s, n);
        return p + n;
}

int vmsilo_proto_encode_start(uint8_t *buf, size_t size, uint32_t session,
                              const struct vmsilo_proto_start *s) {
        size_t strings, len;
        uint8_t *p;
        int r;

        if (!s || s->argc == 0)
                return -EINVAL;
        strings = start_strings_size(s);
        if (strings == 0)
                return -EINVAL;
        if (strings > VMSILO_PROTO_MAX_PAYLOAD - START_FIXED)
                return -EMSGSIZE;
        len = START_FIXED + strings;
        r = frame_begin(buf, size, session, VMSILO_MSG_START, len);
        if (r < 0)
                return r;
        p = buf + VMSILO_PROTO_HDR_SIZE;
        put_u32(p, s->flags);
        put_u16(p + 4, s->rows);
        put_u16(p + 6, s->cols);
        put_u32(p + 8, s->argc);
        put_u32(p + 12, s->envc);
        p = put_str(p + START_FIXED, s->cwd);
        p = put_str(p, s->user);
        for (uint32_t i = 0; i < s->argc; i++)
                p = put_str(p, s->argv[i]);
        for (uint32_t i = 0; i < s->envc; i++)
                p = put_str(p, s->env[i]);
        return (int) (VMSILO_PROTO_HDR_SIZE + len);
}

int vmsilo_proto_encode_u32(uint8_t *buf, size_t size, uint32_t session, uint8_t type,
                            uint32_t value) {
        int r = frame_begin(buf, size, session, type, 4);

        if (r < 0)
                return r;
        put_u32(buf + VMSILO_PROTO_HDR_SIZE, value);
        return VMSILO_PROTO_HDR_SIZE + 4;
}

int vmsilo_proto_encode_resize(uint8_t *buf, size_t size, uint32_t session, uint16_t rows,
                               uint16_t cols) {
        int r = frame_begin(buf, size, session, VMSILO_MSG_RESIZE, 4);

        if (r < 0)
                return r;
        put_u16(buf + VMSILO_PROTO_HDR_SIZE, rows);
        put_u16(buf + VMSILO_PROTO_HDR_SIZE + 2, cols);
        return VMSILO_PROTO_HDR_SIZE + 4;
}

int vmsilo_proto_encode_exit(uint8_t *buf, size_t size, uint32_t session,
                             const struct vmsilo_proto_exit *e) {
        int r;

        if (!e)
                return -EINVAL;
        r = frame_begin(buf, size, session, VMSILO_MSG_EXIT, 8);
        if (r < 0)
                return r;
        put_u32(buf + VMSILO_PROTO_HDR_SIZE, e->kind);
        put_u32(buf + VMSILO_PROTO_HDR_SIZE + 4, e->value);
        return VMSILO_PROTO_HDR_SIZE + 8;
}

int vmsilo_proto_encode_error(uint8_t *buf, size_t size, uint32_t session,
                              const struct vmsilo_proto_error *e) {
        int r;

        if (!e || (e->msg_len > 0 && !e->msg))
                return -EINVAL;
        if (e->msg_len > VMSILO_PROTO_MAX_PAYLOAD - 4)
                return -EMSGSIZE;
        r = frame_begin(buf, size, session, VMSILO_MSG_ERROR, 4 + e->msg_len);
        if (r < 0)
                return r;
        put_u32(buf + VMSILO_PROTO_HDR_SIZE, (uint32_t) e->error);
        if (e->msg_len > 0)
                memcpy(buf + VMSILO_PROTO_HDR_SIZE + 4, e->msg, e->msg_len);
        return (int) (VMSILO_PROTO_HDR_SIZE + 4 + e->msg_len);
}

int vmsilo_proto_decode_hello(const uint8_t *p, size_t len, struct vmsilo_proto_hello *h) {
        if (!p || !h)
                return -EINVAL;
        if (len < HELLO_FIXED || len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        h->version = get_u32(p);
        h->max_payload = get_u32(p + 4);
        h->flags = get_u32(p + 8);
        h->window = 0;
        h->ident = (const char *) p + HELLO_FIXED;
        h->ident_len = len - HELLO_FIXED;
        if (h->version >= 2) {
                if (len < HELLO2_FIXED)
                        return -EMSGSIZE;
                h->window = get_u32(p + 12);
                h->ident = (const char *) p + HELLO2_FIXED;
                h->ident_len = len - HELLO2_FIXED;
        }
        return 0;
}

/* Splits p[0..len) into NUL-terminated strings; each must end inside the buffer and the
 * last one exactly at its end. Returns the count or -EMSGSIZE. */
static int split_strings(const uint8_t *p, size_t len, const char **out, size_t want) {
        size_t n = 0, off = 0;

        while (off < len) {
                const uint8_t *nul = memchr(p + off, 0, len - off);

                if (!nul || n >= want)
                        return -EMSGSIZE;
                out[n++] = (const char *) p + off;
                off = (size_t) (nul - p) + 1;
        }
        return n == want ? (int) n : -EMSGSIZE;
}

int vmsilo_proto_decode_start(const uint8_t *p, size_t len, struct vmsilo_proto_start *s,
                              const char **strv, size_t strv_cap) {
        const char *head[2];
        uint64_t want;
        uint32_t argc, envc;
        int r;

        if (!p || !s || !strv)
                return -EINVAL;
        if (len < START_FIXED + 3 || len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        argc = get_u32(p + 8);
        envc = get_u32(p + 12);
        want = (uint64_t) argc + envc + 2;
        if (argc == 0 || want > len - START_FIXED)
                return -EMSGSIZE;
        if (strv_cap < want)
                return -E2BIG;
        /* cwd and user go first: decode them into head[], then shift argv/env into strv */
        r = split_strings(p + START_FIXED, len - START_FIXED, strv, (size_t) want);
        if (r < 0)
                return r;
        head[0] = strv[0];
        head[1] = strv[1];
        memmove(strv, strv + 2, argc * sizeof(*strv));
        strv[argc] = NULL;
        /* env strings sit at strv[argc + 2 .. argc + 2 + envc): move them down by one */
        memmove(strv + argc + 1, strv + argc + 2, envc * sizeof(*strv));
        strv[argc + 1 + envc] = NULL;
        s->flags = get_u32(p);
        s->rows = get_u16(p + 4);
        s->cols = get_u16(p + 6);
        s->cwd = head[0];
        s->user = head[1];
        s->argc = argc;
        s->argv = strv;
        s->envc = envc;
        s->env = strv + argc + 1;
        return 0;
}

int vmsilo_proto_decode_u32(const uint8_t *p, size_t len, uint32_t *value) {
        if (!p || !value)
                return -EINVAL;
        if (len != 4)
                return -EMSGSIZE;
        *value = get_u32(p);
        return 0;
}

int vmsilo_proto_decode_resize(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols) {
        if (!p || !rows || !cols)
                return -EINVAL;
        if (len != 4)
                return -EMSGSIZE;
        *rows = get_u16(p);
        *cols = get_u16(p + 2);
        return 0;
}

int vmsilo_proto_decode_exit(const uint8_t *p, size_t len, struct vmsilo_proto_exit *e) {
        if (!p || !e)
                return -EINVAL;
        if (len != 8)
                return -EMSGSIZE;
        e->kind = get_u32(p);
        e->value = get_u32(p + 4);
        return 0;
}

int vmsilo_proto_decode_error(const uint8_t *p, size_t len, struct vmsilo_proto_error *e) {
        if (!p || !e)
                return -EINVAL;
        if (len < 4 || len > VMSILO_PROTO_MAX_PAYLOAD)
                return -EMSGSIZE;
        e->error = (int32_t) get_u32(p);
        e->msg = (const char *) p + 4;
        e->msg_len = len - 4;
        return 0;
}
