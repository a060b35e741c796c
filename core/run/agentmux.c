/* SPDX-License-Identifier: MIT */
/*
 * The agent multiplexer: one connection to the guest agent, any number of `run` clients.
 * Guest session ids are the index in sessions[] + 1; each client names its own sessions.
 *
 * Memory is bounded on every path (the supervisor is root, clients are local users, the
 * guest is untrusted): a client's outgoing queue, what it may have queued towards the
 * guest, its sessions, and (protocol 2) each session's bytes in flight, which the mux
 * credits back to the guest only as that session's client drains them. A client that
 * breaks the protocol or exceeds a bound is dropped with one log line.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto/buf.h"
#include "proto/framer.h"
#include "proto/proto.h"
#include "run/agentmux.h"
#include "util/log.h"
#include "util/socket-util.h"

#define MUX_CLIENTS 32
#define MUX_SESSIONS 256
#define CLIENT_SESSIONS 16 /* sessions per client connection */
#define LATE_HELLOS 4      /* HELLOs tolerated after ours (a client's retries crossing it) */
#define ENDED_IDS 16       /* recently ended session ids per client: late frames are fine */
/* Stop reading a client while this much waits for it (the replies to what it sends). */
#define CLIENT_READ_STOP (256u * 1024)
/* Credit goes back to the guest while the client's queue is below this. */
#define CLIENT_CREDIT_LOW (64u * 1024)
/* A client's queue never exceeds this: CLIENT_SESSIONS windows and some; else it is dropped */
#define CLIENT_OUT_MAX (CLIENT_SESSIONS * MUX_WINDOW + (1u << 20))
/* Stop reading a client while it has this much queued towards the guest. */
#define CLIENT_TO_GUEST_MAX (512u * 1024)
/* Stop reading every client while this much waits for the guest. */
#define GUEST_QUEUE_MAX (2u << 20)
/* Protocol 2: the output credit of each session (what the guest may send before the client
 * drained it), announced in our HELLO. Large enough to cover the scheduling delays of the
 * path (QEMU, this process, the client) on a busy host. */
#define MUX_WINDOW VMSILO_PROTO_WINDOW
/* Protocol 1 (no credit): stop reading the guest while one client has this much waiting. */
#define V1_CLIENT_STALL (1u << 20)

enum hello_state { HELLO_NONE, HELLO_WANTED, HELLO_SENT };

struct client {
        int fd;
        pid_t pid; /* SO_PEERCRED, for the log; 0 if unknown */
        int hello;
        unsigned late_hellos;
        unsigned n_sessions;
        size_t to_guest; /* bytes it queued towards the guest since that queue was last empty */
        uint32_t ended[ENDED_IDS];
        unsigned ended_next;
        struct framer *in;
        struct buf out;
        /* the last frame of out, while data can still be appended to it */
        int merge;
        uint32_t merge_session;
        uint8_t merge_type;
        uint32_t merge_len;
};

#define SESSION_FREE (-1)
#define SESSION_DRAINING (-2) /* its client left; the guest has not ended it yet */

struct session {
        int client; /* index, or SESSION_FREE / SESSION_DRAINING */
        uint32_t client_session;
        uint32_t out_credit; /* protocol 2: output bytes the guest may still send */
        uint32_t owed;       /* output bytes taken from the guest, not yet credited back */
        uint32_t in_credit;  /* stdin bytes the guest accepts (what its client may send) */
};

struct agent_mux {
        char *guest_path;
        int guest;
        int listen;
        int guest_hello;
        uint32_t version;      /* negotiated with the guest */
        uint32_t guest_window; /* version 2: the guest's initial stdin credit */
        struct framer *from_guest;
        struct buf to_guest;
        struct client clients[MUX_CLIENTS];
        struct session sessions[MUX_SESSIONS];
};

static int queue_hello(struct buf *q, uint32_t version, uint32_t window) {
        uint8_t frame[128];
        struct vmsilo_proto_hello h = { .version = version,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .window = window,
                                        .ident = "vmsilo-core mux",
                                        .ident_len = 15 };
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        return n < 0 ? n : buf_append(q, frame, (size_t) n);
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

        cl->fd = safe_close(cl->fd);
        free(cl->in);
        cl->in = NULL;
        buf_free(&cl->out);
        /* its commands lose their host side: hang them up, as a disconnect would */
        for (int s = 0; s < MUX_SESSIONS; s++) {
                if (m->sessions[s].client != c)
                        continue;
                /* not reusable until the guest's EXIT or ERROR: its output is not ours */
                m->sessions[s].client = SESSION_DRAINING;
                if (m->guest >= 0)
                        (void) buf_append_u32_frame(&m->to_guest, (uint32_t) s + 1,
                                                    VMSILO_MSG_SIGNAL, SIGHUP);
        }
}

/* The one line about a client that is dropped. */
static void client_drop(struct agent_mux *m, int c, const char *fmt, ...) _printf_(3, 4);
static void client_drop(struct agent_mux *m, int c, const char *fmt, ...) {
        char why[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        log_warning("agent client (pid %d) dropped: %s", (int) m->clients[c].pid, why);
        client_close(m, c);
}

static void guest_close(struct agent_mux *m) {
        m->guest = safe_close(m->guest);
        m->guest_hello = 0;
        m->version = 0;
        if (m->from_guest)
                framer_reset(m->from_guest);
        buf_free(&m->to_guest);
        /* the guest lost every session: their clients learn it by EOF */
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0)
                        client_close(m, c);
        for (int s = 0; s < MUX_SESSIONS; s++)
                m->sessions[s].client = SESSION_FREE;
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
        (void) queue_hello(&m->to_guest, VMSILO_PROTO_VERSION, MUX_WINDOW);
}

int agent_mux_request_poweroff(struct agent_mux *m) {
        if (!m || m->guest < 0 || !m->guest_hello)
                return -ENOTCONN;
        if (buf_pending(&m->to_guest) >= GUEST_QUEUE_MAX)
                return -ENOBUFS;
        return buf_append_frame(&m->to_guest, 0, VMSILO_MSG_POWEROFF, NULL, 0);
}

size_t agent_mux_memory(const struct agent_mux *m) {
        size_t n;

        if (!m)
                return 0;
        n = sizeof(*m) + m->to_guest.cap + (m->from_guest ? sizeof(struct framer) : 0);
        for (int c = 0; c < MUX_CLIENTS; c++)
                n += m->clients[c].out.cap + (m->clients[c].in ? sizeof(struct framer) : 0);
        return n;
}

static int session_find(struct agent_mux *m, int c, uint32_t client_session) {
        for (int s = 0; s < MUX_SESSIONS; s++)
                if (m->sessions[s].client == c && m->sessions[s].client_session == client_session)
                        return s;
        return -1;
}

static int recently_ended(const struct client *cl, uint32_t id) {
        for (unsigned i = 0; i < ENDED_IDS; i++)
                if (cl->ended[i] == id)
                        return 1;
        return 0;
}

static void session_end(struct agent_mux *m, int s) {
        struct session *se = &m->sessions[s];

        if (se->client >= 0) {
                struct client *cl = &m->clients[se->client];

                cl->ended[cl->ended_next++ % ENDED_IDS] = se->client_session;
                cl->n_sessions--;
        }
        se->client = SESSION_FREE;
}

static void client_error(struct agent_mux *m, int c, uint32_t session, const char *msg) {
        uint8_t frame[256];
        struct vmsilo_proto_error e = { .error = EBUSY, .msg = msg, .msg_len = strlen(msg) };
        int n = vmsilo_proto_encode_error(frame, sizeof(frame), session, &e);

        if (n > 0)
                (void) buf_append(&m->clients[c].out, frame, (size_t) n);
}

static void client_hello(struct agent_mux *m, int c) {
        m->clients[c].hello = HELLO_SENT;
        (void) queue_hello(&m->clients[c].out, m->version, m->version >= 2 ? m->guest_window : 0);
}

/* A client's START: a guest session of its own. Returns the index, or -1 (handled). */
static int client_start(struct agent_mux *m, int c, uint32_t id) {
        struct client *cl = &m->clients[c];

        if (id == 0 || session_find(m, c, id) >= 0)
                return client_drop(m, c, "START for session %u, which is in use or invalid", id),
                       -1;
        if (cl->n_sessions >= CLIENT_SESSIONS)
                return client_drop(m, c, "more than %u sessions", CLIENT_SESSIONS), -1;
        for (int s = 0; s < MUX_SESSIONS; s++)
                if (m->sessions[s].client == SESSION_FREE) {
                        m->sessions[s] = (struct session){
                                .client = c,
                                .client_session = id,
                                .out_credit = MUX_WINDOW,
                                .in_credit = m->guest_window,
                        };
                        cl->n_sessions++;
                        return s;
                }
        client_error(m, c, id, "too many commands running in this VM");
        return -1;
}

/* Checks a client's frame against the protocol; returns the guest session, or -1 when the
 * frame is dropped (the client too, if it broke the protocol). */
static int client_session_of(struct agent_mux *m, int c, const struct vmsilo_proto_hdr *h) {
        struct client *cl = &m->clients[c];
        int s;

        if (cl->hello != HELLO_SENT)
                return client_drop(m, c, "frame type 0x%02x before the handshake", h->type), -1;
        if (h->type == VMSILO_MSG_START)
                return client_start(m, c, h->session);
        if (!IN_SET(h->type, VMSILO_MSG_STDIN, VMSILO_MSG_SIGNAL, VMSILO_MSG_RESIZE,
                    VMSILO_MSG_CREDIT))
                return client_drop(m, c, "unexpected frame type 0x%02x", h->type), -1;
        s = session_find(m, c, h->session);
        if (s < 0 && (h->session == 0 || !recently_ended(cl, h->session)))
                return client_drop(m, c, "frame for session %u, which is not its own", h->session),
                       -1;
        if (s < 0)
                return -1; /* a session that just ended: late input is fine */
        if (h->type == VMSILO_MSG_CREDIT)
                return -1; /* the mux credits the guest itself, as the client drains */
        if (h->type == VMSILO_MSG_STDIN && m->version >= 2) {
                if (h->len > m->sessions[s].in_credit)
                        return client_drop(m, c, "stdin beyond its credit window"), -1;
                m->sessions[s].in_credit -= h->len;
        }
        return s;
}

static void from_client_frame(struct agent_mux *m, int c, const struct vmsilo_proto_hdr *h,
                              const uint8_t *p) {
        struct client *cl = &m->clients[c];
        int s;

        if (h->type == VMSILO_MSG_HELLO) {
                if (cl->hello == HELLO_SENT && ++cl->late_hellos > LATE_HELLOS)
                        client_drop(m, c, "HELLO repeated after the handshake");
                else if (cl->hello != HELLO_SENT && m->guest_hello)
                        client_hello(m, c);
                else if (cl->hello != HELLO_SENT)
                        cl->hello = HELLO_WANTED;
                return;
        }
        s = client_session_of(m, c, h);
        if (s < 0)
                return;
        if (m->guest < 0 ||
            buf_append_frame(&m->to_guest, (uint32_t) s + 1, h->type, p, h->len) < 0) {
                client_close(m, c);
                return;
        }
        cl->to_guest += VMSILO_PROTO_HDR_SIZE + h->len;
}

/* Output for a client: appended to its last frame when that is the same stream and still
 * unsent, so that a trickle of small frames does not cost a header each. */
static int queue_output(struct client *cl, uint32_t session, uint8_t type, const uint8_t *p,
                        uint32_t len) {
        size_t tail = VMSILO_PROTO_HDR_SIZE + (size_t) cl->merge_len;
        int r;

        if (len > 0 && cl->merge && cl->merge_session == session && cl->merge_type == type &&
            buf_pending(&cl->out) >= tail && cl->merge_len + len <= VMSILO_PROTO_MAX_PAYLOAD) {
                struct vmsilo_proto_hdr h = { .len = cl->merge_len + len,
                                              .session = session,
                                              .type = type };
                uint8_t *dst = buf_reserve(&cl->out, len);

                if (!dst)
                        return -ENOMEM;
                memcpy(dst, p, len);
                buf_commit(&cl->out, len);
                (void) vmsilo_proto_encode_hdr(cl->out.data + cl->out.len - tail - len,
                                               VMSILO_PROTO_HDR_SIZE, &h);
                cl->merge_len += len;
                return 0;
        }
        r = buf_append_frame(&cl->out, session, type, p, len);
        cl->merge = r == 0 && len > 0;
        cl->merge_session = session;
        cl->merge_type = type;
        cl->merge_len = len;
        return r;
}

/* A guest frame for a live session: to its client. Returns <0 if the guest broke the
 * protocol. */
static int to_client(struct agent_mux *m, int s, const struct vmsilo_proto_hdr *h,
                     const uint8_t *p) {
        struct session *se = &m->sessions[s];
        struct client *cl;
        uint32_t n;
        int r;

        if (m->version >= 2 && IN_SET(h->type, VMSILO_MSG_STDOUT, VMSILO_MSG_STDERR)) {
                if (h->len > se->out_credit)
                        return -EPROTO;
                se->out_credit -= h->len;
                se->owed += h->len;
        }
        if (h->type == VMSILO_MSG_CREDIT) {
                if (vmsilo_proto_decode_u32(p, h->len, &n) < 0)
                        return -EPROTO;
                se->in_credit = n > UINT32_MAX - se->in_credit ? UINT32_MAX : se->in_credit + n;
        }
        if (se->client < 0)
                return 0; /* draining: nobody to tell */
        cl = &m->clients[se->client];
        if (IN_SET(h->type, VMSILO_MSG_STDOUT, VMSILO_MSG_STDERR))
                r = queue_output(cl, se->client_session, h->type, p, h->len);
        else {
                cl->merge = 0;
                r = buf_append_frame(&cl->out, se->client_session, h->type, p, h->len);
        }
        if (r < 0 || buf_pending(&cl->out) > CLIENT_OUT_MAX)
                client_drop(m, se->client, "more than %u bytes queued for it", CLIENT_OUT_MAX);
        return 0;
}

static int from_guest_hello(struct agent_mux *m, const uint8_t *p, uint32_t len) {
        struct vmsilo_proto_hello hello;

        if (m->guest_hello)
                return 0; /* answers to our HELLOs, or a repeat: the version is settled */
        if (vmsilo_proto_decode_hello(p, len, &hello) < 0 ||
            vmsilo_proto_negotiate(hello.version) == 0)
                return -EPROTO;
        m->guest_hello = 1;
        m->version = vmsilo_proto_negotiate(hello.version);
        m->guest_window = m->version >= 2 ? hello.window : 0;
        /* the guest may have said hello before its port saw ours: say it again, so that it
         * knows our version before any START */
        (void) queue_hello(&m->to_guest, VMSILO_PROTO_VERSION, MUX_WINDOW);
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0 && m->clients[c].hello == HELLO_WANTED)
                        client_hello(m, c);
        return 0;
}

static int from_guest_frame(struct agent_mux *m, const struct vmsilo_proto_hdr *h,
                            const uint8_t *p) {
        struct session *se;
        int r;

        if (h->type == VMSILO_MSG_HELLO)
                return from_guest_hello(m, p, h->len);
        if (!m->guest_hello || h->session == 0 || h->session > MUX_SESSIONS)
                return 0;
        se = &m->sessions[h->session - 1];
        if (se->client == SESSION_FREE)
                return 0;
        r = to_client(m, (int) h->session - 1, h, p);
        if (r >= 0 && IN_SET(h->type, VMSILO_MSG_EXIT, VMSILO_MSG_ERROR))
                session_end(m, (int) h->session - 1);
        return r;
}

static int guest_backlogged(const struct agent_mux *m);

/* Reads per wake-up at most: a burst of output costs one poll, and the clients' queues are
 * written once for all of it. */
#define GUEST_READS 8

/* Returns 1 when more may be waiting, else 0 (nothing now, or the channel closed). */
static int read_guest_once(struct agent_mux *m) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int r = framer_read(m->from_guest, m->guest);

        if (r == -EAGAIN)
                return 0;
        if (r <= 0) {
                log_debug("agent channel closed by the guest");
                guest_close(m);
                return 0;
        }
        while ((r = framer_next(m->from_guest, &h, &p)) > 0)
                if (from_guest_frame(m, &h, p) < 0) {
                        r = -EPROTO;
                        break;
                }
        if (r < 0) {
                log_warning("the guest agent broke the protocol, reconnecting");
                guest_close(m);
                return 0;
        }
        return 1;
}

static void read_guest(struct agent_mux *m) {
        for (int i = 0; i < GUEST_READS && m->guest >= 0 && !guest_backlogged(m); i++)
                if (!read_guest_once(m))
                        return;
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
        if (r < 0 && m->clients[c].fd >= 0)
                client_drop(m, c, "malformed frame");
}

static void accept_client(struct agent_mux *m) {
        int fd = accept4(m->listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct ucred cred = {};
        socklen_t len = sizeof(cred);

        if (fd < 0)
                return;
        (void) getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd < 0) {
                        m->clients[c] = (struct client){ .fd = fd, .pid = cred.pid };
                        m->clients[c].in = calloc(1, sizeof(struct framer));
                        if (!m->clients[c].in)
                                client_close(m, c);
                        return;
                }
        log_warning("agent client (pid %d) refused: %d clients already", (int) cred.pid,
                    MUX_CLIENTS);
        close(fd);
}

/* Protocol 2: output credit goes back to the guest for each session whose client keeps up
 * (or is gone: its output is discarded), in batches of a quarter window. */
static void credit_guest(struct agent_mux *m) {
        if (m->version < 2 || m->guest < 0)
                return;
        for (int s = 0; s < MUX_SESSIONS; s++) {
                struct session *se = &m->sessions[s];

                if (se->client == SESSION_FREE || se->owed < MUX_WINDOW / 4)
                        continue;
                if (se->client >= 0 &&
                    buf_pending(&m->clients[se->client].out) >= CLIENT_CREDIT_LOW)
                        continue;
                if (buf_append_u32_frame(&m->to_guest, (uint32_t) s + 1, VMSILO_MSG_CREDIT,
                                         se->owed) < 0)
                        return;
                se->out_credit += se->owed;
                se->owed = 0;
        }
}

static int guest_backlogged(const struct agent_mux *m) {
        if (m->version >= 2)
                return 0; /* credit bounds each session: never stop reading the guest */
        for (int c = 0; c < MUX_CLIENTS; c++)
                if (m->clients[c].fd >= 0 && buf_pending(&m->clients[c].out) >= V1_CLIENT_STALL)
                        return 1;
        return 0;
}

static int client_readable(const struct agent_mux *m, const struct client *cl) {
        return buf_pending(&m->to_guest) < GUEST_QUEUE_MAX && cl->to_guest < CLIENT_TO_GUEST_MAX &&
               buf_pending(&cl->out) < CLIENT_READ_STOP;
}

/* pollfds: [0] guest, [1] listener, [2..] clients */
int agent_mux_fill_pollfds(struct agent_mux *m, struct pollfd *fds, int max) {
        short guest_events = 0;

        if (!m || max < MUX_CLIENTS + 2)
                return 0;
        if (!guest_backlogged(m))
                guest_events |= POLLIN;
        if (buf_pending(&m->to_guest) > 0)
                guest_events |= POLLOUT;
        fds[0] = (struct pollfd){ .fd = m->guest, .events = guest_events };
        fds[1] = (struct pollfd){ .fd = m->listen, .events = POLLIN };
        for (int c = 0; c < MUX_CLIENTS; c++) {
                struct client *cl = &m->clients[c];
                short ev = client_readable(m, cl) ? POLLIN : 0;

                if (buf_pending(&cl->out) > 0)
                        ev |= POLLOUT;
                fds[2 + c] = (struct pollfd){ .fd = cl->fd, .events = ev };
        }
        return MUX_CLIENTS + 2;
}

static void flush_guest(struct agent_mux *m) {
        if (m->guest < 0)
                return;
        if (buf_flush(&m->to_guest, m->guest) < 0) {
                guest_close(m);
                return;
        }
        if (buf_pending(&m->to_guest) == 0)
                for (int c = 0; c < MUX_CLIENTS; c++)
                        m->clients[c].to_guest = 0;
}

void agent_mux_dispatch(struct agent_mux *m, const struct pollfd *fds, int n) {
        if (!m || n < MUX_CLIENTS + 2)
                return;
        if (m->guest >= 0 && fds[0].fd == m->guest) {
                if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
                        read_guest(m);
                flush_guest(m);
        }
        if (fds[1].revents & POLLIN)
                accept_client(m);
        for (int c = 0; c < MUX_CLIENTS; c++) {
                struct client *cl = &m->clients[c];

                if (cl->fd < 0 || fds[2 + c].fd != cl->fd)
                        continue;
                if (fds[2 + c].revents & (POLLIN | POLLHUP | POLLERR))
                        read_client(m, c);
                if (cl->fd >= 0 && buf_flush(&cl->out, cl->fd) < 0)
                        client_close(m, c);
        }
        credit_guest(m);
        flush_guest(m);
}
