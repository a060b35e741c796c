/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "../proto/proto.h"
#include "agentmux.h"
#include "../proto/framer.h"
#include "log.h"
#include "socket-util.h"

#define MUX_CLIENTS 32
#define MUX_SESSIONS 256
#define QUEUE_MAX (4u << 20) /* bytes queued towards one peer before reading stops */

struct queue {
        uint8_t *data;
        size_t len, off, cap;
};

struct client {
        int fd;
        int want_hello;
        struct framer *in;
        struct queue out;
};

#define SESSION_FREE (-1)
#define SESSION_DRAINING (-2) /* its client left; the guest has not ended it yet */

struct session {
        int client; /* index, or SESSION_FREE / SESSION_DRAINING */
        uint32_t client_session;
};

struct agent_mux {
        char *guest_path;
        int guest;
        int listen;
        int guest_hello;
        struct framer *from_guest;
        struct queue to_guest;
        struct client clients[MUX_CLIENTS];
        struct session sessions[MUX_SESSIONS]; /* guest session id = index + 1 */
};

static int queue_push(struct queue *q, const void *data, size_t n) {
        if (q->off > 0 && q->off == q->len)
                q->off = q->len = 0;
        if (q->len + n > q->cap) {
                size_t cap = q->cap ? q->cap : 65536;
                uint8_t *d;

                if (q->off > 0) { /* compact first */
                        memmove(q->data, q->data + q->off, q->len - q->off);
                        q->len -= q->off;
                        q->off = 0;
                }
                while (q->len + n > cap)
                        cap *= 2;
                if (cap != q->cap) {
                        d = realloc(q->data, cap);
                        if (!d)
                                return -ENOMEM;
                        q->data = d;
                        q->cap = cap;
                }
        }
        memcpy(q->data + q->len, data, n);
        q->len += n;
        return 0;
}

static size_t queue_size(const struct queue *q) {
        return q->len - q->off;
}

/* Writes what the peer takes now. <0: the peer is gone. */
static int queue_flush(struct queue *q, int fd) {
        while (queue_size(q) > 0) {
                ssize_t k = send(fd, q->data + q->off, queue_size(q), MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                q->off += (size_t) k;
        }
        return 0;
}

static void queue_done(struct queue *q) {
        free(q->data);
        *q = (struct queue){};
}

/* Queues a frame whose header says `session` with the payload as is. */
static int queue_frame(struct queue *q, const struct vmsilo_proto_hdr *h, uint32_t session,
                       const uint8_t *payload) {
        struct vmsilo_proto_hdr copy = *h;
        uint8_t hdr[VMSILO_PROTO_HDR_SIZE];
        int r;

        copy.session = session;
        r = vmsilo_proto_encode_hdr(hdr, sizeof(hdr), &copy);
        if (r < 0)
                return r;
        r = queue_push(q, hdr, sizeof(hdr));
        return r < 0 ? r : queue_push(q, payload, h->len);
}

static int send_hello(struct queue *q) {
        uint8_t frame[128];
        struct vmsilo_proto_hello h = { .version = VMSILO_PROTO_VERSION,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .ident = "vmsilo-core mux",
                                        .ident_len = 15 };
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        return n < 0 ? n : queue_push(q, frame, (size_t) n);
}

struct agent_mux *agent_mux_new(const char *guest_path, const char *client_path) {
        struct agent_mux *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->guest = -1;
        for (int i = 0; i < MUX_CLIENTS; i++)
                m->clients[i].fd = -1;
        for (int i = 0; i < MUX_SESSIONS; i++)
                m->sessions[i].client = SESSION_FREE;
        m->guest_path = strdup(guest_path);
        m->from_guest = calloc(1, sizeof(struct framer));
        m->listen = unix_listen(client_path);
        if (!m->guest_path || !m->from_guest || m->listen < 0) {
                log_error_errno(m->listen < 0 ? m->listen : -ENOMEM,
                                "failed to set up the agent socket '%s': %m", client_path);
                return agent_mux_free(m);
        }
        return m;
}

static void client_close(struct agent_mux *m, int c) {
        struct client *cl = &m->clients[c];
        uint8_t frame[32];

        cl->fd = safe_close(cl->fd);
        free(cl->in);
        cl->in = NULL;
        queue_done(&cl->out);
        /* its commands lose their host side: hang them up, as a disconnect would */
        for (int s = 0; s < MUX_SESSIONS; s++) {
                int n;

                if (m->sessions[s].client != c)
                        continue;
                /* not reusable until the guest's EXIT or ERROR: its output is not ours */
                m->sessions[s].client = SESSION_DRAINING;
                n = vmsilo_proto_encode_u32(frame, sizeof(frame), (uint32_t) s + 1,
                                            VMSILO_MSG_SIGNAL, SIGHUP);
                if (n > 0 && m->guest >= 0)
                        (void) queue_push(&m->to_guest, frame, (size_t) n);
        }
}

static void guest_close(struct agent_mux *m) {
        m->guest = safe_close(m->guest);
        m->guest_hello = 0;
        if (m->from_guest)
                m->from_guest->len = m->from_guest->used = 0;
        /* a new connection starts with no sessions */
        for (int s = 0; s < MUX_SESSIONS; s++)
                if (m->sessions[s].client == SESSION_DRAINING)
                        m->sessions[s].client = SESSION_FREE;
        queue_done(&m->to_guest);
        /* the guest lost every session: their clients learn it by EOF */
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0)
                        client_close(m, c);
}

struct agent_mux *agent_mux_free(struct agent_mux *m) {
        if (!m)
                return NULL;
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0)
                        client_close(m, c);
        guest_close(m);
        safe_close(m->listen);
        free(m->from_guest);
        free(m->guest_path);
        free(m);
        return NULL;
}

void agent_mux_try_connect(struct agent_mux *m) {
        int fd;

        if (!m || m->guest >= 0)
                return;
        fd = unix_connect(m->guest_path, SOCK_NONBLOCK);
        if (fd < 0)
                return;
        m->guest = fd;
        (void) send_hello(&m->to_guest);
}

static int session_new(struct agent_mux *m, int c, uint32_t client_session) {
        for (int s = 0; s < MUX_SESSIONS; s++)
                if (m->sessions[s].client == SESSION_FREE) {
                        m->sessions[s] = (struct session){ c, client_session };
                        return s;
                }
        return -1;
}

static int session_find(struct agent_mux *m, int c, uint32_t client_session) {
        for (int s = 0; s < MUX_SESSIONS; s++)
                if (m->sessions[s].client == c && m->sessions[s].client_session == client_session)
                        return s;
        return -1;
}

static void client_error(struct agent_mux *m, int c, uint32_t session, const char *msg) {
        static uint8_t frame[512];
        struct vmsilo_proto_error e = { .error = EBUSY, .msg = msg, .msg_len = strlen(msg) };
        int n = vmsilo_proto_encode_error(frame, sizeof(frame), session, &e);

        if (n > 0)
                (void) queue_push(&m->clients[c].out, frame, (size_t) n);
}

static void from_client_frame(struct agent_mux *m, int c, const struct vmsilo_proto_hdr *h,
                              const uint8_t *p) {
        int s;

        if (h->type == VMSILO_MSG_HELLO) {
                if (m->guest_hello)
                        (void) send_hello(&m->clients[c].out);
                else
                        m->clients[c].want_hello = 1;
                return;
        }
        if (h->type == VMSILO_MSG_START) {
                if (session_find(m, c, h->session) >= 0 ||
                    (s = session_new(m, c, h->session)) < 0) {
                        client_error(m, c, h->session, "too many commands running in this VM");
                        return;
                }
        } else if ((s = session_find(m, c, h->session)) < 0)
                return; /* a session that ended */
        if (m->guest < 0 || queue_frame(&m->to_guest, h, (uint32_t) s + 1, p) < 0)
                client_close(m, c);
}

static void from_guest_frame(struct agent_mux *m, const struct vmsilo_proto_hdr *h,
                             const uint8_t *p) {
        struct session *s;
        int c;

        if (h->type == VMSILO_MSG_HELLO) {
                m->guest_hello = 1;
                for (c = 0; c < MUX_CLIENTS; c++)
                        if (m->clients[c].fd >= 0 && m->clients[c].want_hello) {
                                m->clients[c].want_hello = 0;
                                (void) send_hello(&m->clients[c].out);
                        }
                return;
        }
        if (h->session == 0 || h->session > MUX_SESSIONS)
                return;
        s = &m->sessions[h->session - 1];
        if (s->client == SESSION_DRAINING &&
            (h->type == VMSILO_MSG_EXIT || h->type == VMSILO_MSG_ERROR))
                s->client = SESSION_FREE;
        if (s->client < 0)
                return;
        c = s->client;
        if (queue_frame(&m->clients[c].out, h, s->client_session, p) < 0)
                client_close(m, c);
        else if (h->type == VMSILO_MSG_EXIT || h->type == VMSILO_MSG_ERROR)
                s->client = SESSION_FREE;
}

static void read_guest(struct agent_mux *m) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int r = framer_read(m->from_guest, m->guest);

        if (r == -EAGAIN)
                return;
        if (r <= 0) {
                log_debug("agent channel closed by the guest");
                guest_close(m);
                return;
        }
        while ((r = framer_next(m->from_guest, &h, &p)) > 0)
                from_guest_frame(m, &h, p);
        if (r < 0) {
                log_warning("the guest agent sent a malformed frame, reconnecting");
                guest_close(m);
        }
}

static void read_client(struct agent_mux *m, int c) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int r = framer_read(m->clients[c].in, m->clients[c].fd);

        if (r == -EAGAIN)
                return;
        if (r <= 0) {
                client_close(m, c);
                return;
        }
        while (m->clients[c].fd >= 0 && (r = framer_next(m->clients[c].in, &h, &p)) > 0)
                from_client_frame(m, c, &h, p);
        if (r < 0)
                client_close(m, c);
}

static void accept_client(struct agent_mux *m) {
        int fd = accept4(m->listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd < 0) {
                        m->clients[c] = (struct client){ .fd = fd };
                        m->clients[c].in = calloc(1, sizeof(struct framer));
                        if (!m->clients[c].in)
                                client_close(m, c);
                        return;
                }
        close(fd);
}

static int clients_backlogged(const struct agent_mux *m) {
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0 && queue_size(&m->clients[c].out) >= QUEUE_MAX)
                        return 1;
        return 0;
}

/* pollfds: [0] guest, [1] listener, [2..] clients */
int agent_mux_fill_pollfds(struct agent_mux *m, struct pollfd *fds, int max) {
        short guest_events = 0;

        if (!m || max < MUX_CLIENTS + 2)
                return 0;
        if (!clients_backlogged(m))
                guest_events |= POLLIN;
        if (queue_size(&m->to_guest) > 0)
                guest_events |= POLLOUT;
        fds[0] = (struct pollfd){ .fd = m->guest, .events = guest_events };
        fds[1] = (struct pollfd){ .fd = m->listen, .events = POLLIN };
        for (int c = 0; c < MUX_CLIENTS; c++) {
                short ev = queue_size(&m->to_guest) < QUEUE_MAX ? POLLIN : 0;

                if (queue_size(&m->clients[c].out) > 0)
                        ev |= POLLOUT;
                fds[2 + c] = (struct pollfd){ .fd = m->clients[c].fd, .events = ev };
        }
        return MUX_CLIENTS + 2;
}

void agent_mux_dispatch(struct agent_mux *m, const struct pollfd *fds, int n) {
        if (!m || n < MUX_CLIENTS + 2)
                return;
        if (m->guest >= 0 && fds[0].fd == m->guest) {
                if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
                        read_guest(m);
                if (m->guest >= 0 && queue_flush(&m->to_guest, m->guest) < 0)
                        guest_close(m);
        }
        if (fds[1].revents & POLLIN)
                accept_client(m);
        for (int c = 0; c < MUX_CLIENTS; c++) {
                struct client *cl = &m->clients[c];

                if (cl->fd < 0 || fds[2 + c].fd != cl->fd)
                        continue;
                if (fds[2 + c].revents & (POLLIN | POLLHUP | POLLERR))
                        read_client(m, c);
                if (cl->fd >= 0 && queue_flush(&cl->out, cl->fd) < 0)
                        client_close(m, c);
        }
        if (m->guest >= 0 && queue_flush(&m->to_guest, m->guest) < 0)
                guest_close(m);
}
