/* The guest agent: protocol 1 and 2 (docs/guest-protocol.md) over a virtio-console port,
 * vsock connections, or one inherited stream. Sessions are multiplexed by id per connection;
 * with protocol 2 each session's streams are bounded by credit windows. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent-loop.h"
#include "power.h"
#include "session.h"
#include "util.h"

#define AGENT_IDENT "vmsilo-agent"
#define MAX_SESSIONS 256

static void queue_frame_raw(struct conn *c, const uint8_t *frame, int len) {
        if (len > 0 && c->up)
                (void) buf_append(&c->out, frame, (size_t) len);
}

static uint32_t max_version = VMSILO_PROTO_VERSION;

void conn_send_hello(struct conn *c) {
        struct vmsilo_proto_hello h = {
                .version = max_version,
                .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                .window = VMSILO_PROTO_WINDOW,
                .ident = AGENT_IDENT,
                .ident_len = strlen(AGENT_IDENT),
        };
        uint8_t frame[64];

        queue_frame_raw(c, frame, vmsilo_proto_encode_hello(frame, sizeof(frame), &h));
}

static void conn_send_error(struct conn *c, uint32_t session, int error, const char *fmt, ...) {
        struct vmsilo_proto_error e = { .error = error };
        uint8_t frame[VMSILO_PROTO_HDR_SIZE + 4 + 512];
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        e.msg = msg;
        e.msg_len = strlen(msg);
        queue_frame_raw(c, frame, vmsilo_proto_encode_error(frame, sizeof(frame), session, &e));
}

static void conn_send_u32(struct conn *c, uint32_t session, uint8_t type, uint32_t v) {
        if (c->up)
                (void) buf_append_u32_frame(&c->out, session, type, v);
}

static struct session *session_find(struct agent *a, struct conn *c, uint32_t id) {
        for (struct session *s = a->sessions; s; s = s->next)
                if (!s->dead && s->conn == c && s->id == id)
                        return s;
        return NULL;
}

static int count_sessions(struct agent *a) {
        int n = 0;

        for (struct session *s = a->sessions; s; s = s->next)
                n += !s->dead;
        return n;
}

static void handle_start(struct agent *a, struct conn *c, uint32_t id, const uint8_t *p,
                         size_t len) {
        /* every string takes at least its NUL: a payload never holds more than this */
        static const char *strv[VMSILO_PROTO_MAX_PAYLOAD];
        struct vmsilo_proto_start st;
        struct session *s;
        char err[512];
        int r;

        if (id == 0 || session_find(a, c, id))
                return conn_send_error(c, id, EEXIST, "session %u is in use or invalid", id);
        if (count_sessions(a) >= MAX_SESSIONS)
                return conn_send_error(c, id, EAGAIN, "too many sessions");
        r = vmsilo_proto_decode_start(p, len, &st, strv, ELEMENTSOF(strv));
        if (r < 0)
                return conn_send_error(c, id, -r, "malformed start frame");
        s = calloc(1, sizeof(*s));
        if (!s)
                return conn_send_error(c, id, ENOMEM, "out of memory");
        s->id = id;
        s->conn = c;
        s->in_fd = s->out_fd = s->err_fd = -1;
        s->v2 = c->version >= 2;
        s->out_credit = c->peer_window;
        s->in_allowed = VMSILO_PROTO_WINDOW;
        r = session_spawn(s, &st, a->root, err, sizeof(err));
        if (r < 0) {
                free(s);
                return conn_send_error(c, id, -r, "%s", err);
        }
        log_dbg("session %u: started '%s' as pid %d", id, st.argv[0], (int) s->pid);
        s->next = a->sessions;
        a->sessions = s;
        conn_send_u32(c, id, VMSILO_MSG_STARTED, (uint32_t) s->pid);
}

/* Stdin bytes left the session's queue: give the host that much credit back, in batches. */
static void session_credit_stdin(struct session *s, size_t consumed) {
        if (!s->v2 || consumed == 0)
                return;
        s->in_unacked += (uint32_t) consumed;
        if (s->in_unacked < VMSILO_PROTO_WINDOW / 4)
                return;
        s->in_allowed += s->in_unacked;
        conn_send_u32(s->conn, s->id, VMSILO_MSG_CREDIT, s->in_unacked);
        s->in_unacked = 0;
}

void session_pump_stdin(struct session *s) {
        session_credit_stdin(s, session_write_stdin(s));
}

static void handle_stdin(struct conn *c, struct session *s, const uint8_t *p, uint32_t len) {
        if (len == 0) {
                session_stdin_eof(s);
                return;
        }
        if (s->v2) {
                /* the window bounds what one session may hold: never stop reading the channel */
                if (len > s->in_allowed)
                        return conn_send_error(c, s->id, EPROTO,
                                               "stdin beyond the credit window, dropped");
                s->in_allowed -= len;
        }
        if (s->in_fd < 0 || s->in_eof) {
                session_credit_stdin(s, len); /* nobody reads it: consumed */
                return;
        }
        if (buf_pending(&s->inq) == 0) {
                /* straight from the frame to the command: no copy through the queue */
                ssize_t n = write(s->in_fd, p, len);

                if (n > 0) {
                        p += n;
                        len -= (uint32_t) n;
                        session_credit_stdin(s, (size_t) n);
                }
                if (len == 0)
                        return;
        }
        if (buf_append(&s->inq, p, len) < 0)
                return conn_send_error(c, s->id, ENOMEM, "out of memory");
        session_pump_stdin(s);
}

static void handle_session_frame(struct agent *a, struct conn *c, const struct vmsilo_proto_hdr *h,
                                 const uint8_t *p) {
        struct session *s = session_find(a, c, h->session);
        uint16_t rows, cols;
        uint32_t signo, n;
        int r = 0;

        if (!s)
                return; /* the session ended: late input is not an error */
        switch (h->type) {
        case VMSILO_MSG_STDIN:
                return handle_stdin(c, s, p, h->len);
        case VMSILO_MSG_CREDIT:
                r = vmsilo_proto_decode_u32(p, h->len, &n);
                if (r == 0 && s->v2) /* saturates: a hostile host gains nothing from overflow */
                        s->out_credit =
                                n > UINT32_MAX - s->out_credit ? UINT32_MAX : s->out_credit + n;
                break;
        case VMSILO_MSG_SIGNAL:
                r = vmsilo_proto_decode_u32(p, h->len, &signo);
                if (r == 0)
                        r = session_signal(s, signo);
                break;
        case VMSILO_MSG_RESIZE:
                r = vmsilo_proto_decode_resize(p, h->len, &rows, &cols);
                if (r == 0)
                        r = session_resize(s, rows, cols);
                break;
        }
        if (r < 0 && r != -ESRCH)
                conn_send_error(c, h->session, -r, "frame type 0x%02x failed: %s", h->type,
                                strerror(-r));
}

static void handle_frame(struct agent *a, struct conn *c, const struct vmsilo_proto_hdr *h,
                         const uint8_t *p) {
        struct vmsilo_proto_hello hello;
        int r;

        switch (h->type) {
        case VMSILO_MSG_HELLO:
                /* the host's highest version: use the lower of both (sessions keep theirs) */
                if (vmsilo_proto_decode_hello(p, h->len, &hello) == 0 && hello.version > 0) {
                        c->version = hello.version < max_version ? hello.version : max_version;
                        c->peer_window = c->version >= 2 ? hello.window : 0;
                }
                conn_send_hello(c);
                return;
        case VMSILO_MSG_START:
                handle_start(a, c, h->session, p, h->len);
                return;
        case VMSILO_MSG_POWEROFF:
                r = h->session == 0 ? request_poweroff() : -EINVAL;
                if (r < 0)
                        conn_send_error(c, h->session, -r, "power-off failed: %s", strerror(-r));
                return;
        case VMSILO_MSG_STDIN:
        case VMSILO_MSG_SIGNAL:
        case VMSILO_MSG_RESIZE:
        case VMSILO_MSG_CREDIT:
                handle_session_frame(a, c, h, p);
                return;
        default:
                conn_send_error(c, h->session, EPROTO, "unknown frame type 0x%02x", h->type);
        }
}

/* Consumes every complete frame in c->in; an oversized one gets an ERROR and is skipped. */
static void parse_frames(struct agent *a, struct conn *c) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int r;

        while (c->up && (r = framer_next(&c->in, &h, &p)) != 0) {
                if (r < 0) {
                        conn_send_error(c, h.session, EMSGSIZE,
                                        "frame of %u bytes exceeds the limit", h.len);
                        framer_skip(&c->in, &h);
                        continue;
                }
                handle_frame(a, c, &h, p);
        }
}

static void stage_close(struct conn *c) {
        for (int i = 0; i < 2; i++) {
                if (c->stage[i] >= 0)
                        close(c->stage[i]);
                c->stage[i] = -1;
        }
        c->stage_bytes = 0;
        c->src_left = 0;
}

/* The host went away: its sessions are hung up; a port waits for the next host. */
void conn_down(struct agent *a, struct conn *c) {
        for (struct session *s = a->sessions; s; s = s->next) {
                if (s->conn != c || s->dead)
                        continue;
                session_hangup(s);
                s->dead = 1;
        }
        if (c->up)
                log_dbg("host disconnected");
        c->up = 0;
        c->version = 1;
        c->peer_window = 0;
        framer_reset(&c->in);
        buf_clear(&c->out);
        buf_clear(&c->head);
        stage_close(c); /* it may hold part of a frame */
        if (c->kind == CONN_PORT) {
                a->next_port_check = now_ms() + PORT_RETRY_MS;
                return;
        }
        c->dead = 1;
        if (a->exit_on_close)
                a->quit = 1;
}

/* A port read returns one of the host's buffers (a page): read on until the channel is
 * empty, so that one wake-up takes a burst of frames. */
#define CONN_READS 64

void conn_read(struct agent *a, struct conn *c) {
        for (int i = 0; i < CONN_READS && c->up && !conn_stdin_full(a, c); i++) {
                int r = framer_read(&c->in, c->fd);

                if (r == -EAGAIN)
                        return;
                if (r <= 0) {
                        conn_down(a, c);
                        return;
                }
                parse_frames(a, c);
        }
}

int conn_splicing(const struct conn *c) {
        return buf_pending(&c->head) > 0 || c->stage_bytes > 0 || c->src_left > 0;
}

/* Appends n bytes read from fd to head, zero-padded if fd has fewer (it cannot: only the
 * agent reads these pipes), so that the framing always holds. */
static int head_copy(struct conn *c, int fd, uint32_t n) {
        uint8_t *dst = buf_reserve(&c->head, n);
        ssize_t k = 0;

        if (!dst)
                return -ENOMEM;
        while (fd >= 0 && (uint32_t) k < n) {
                ssize_t r = read(fd, dst + k, n - (size_t) k);

                if (r <= 0)
                        break;
                k += r;
        }
        memset(dst + k, 0, n - (size_t) k);
        buf_commit(&c->head, n);
        return 0;
}

/* splice() to this channel failed: what the stage and the command's pipe hold for it goes
 * out as a copy, in order. */
static int splice_copy_rest(struct conn *c) {
        int r = head_copy(c, c->stage[0], c->stage_bytes);

        if (r == 0)
                r = head_copy(c, c->src_fd, c->src_left);
        c->stage_bytes = c->src_left = 0;
        return r;
}

/* Moves the last frame's payload into the stage, as far as the stage has room. Returns 0,
 * or -EAGAIN when the stage must be sent first. */
static int stage_fill(struct conn *c) {
        ssize_t n = splice(c->src_fd, NULL, c->stage[1], NULL, c->src_left, SPLICE_F_NONBLOCK);

        if (n > 0) {
                c->src_left -= (uint32_t) n;
                c->stage_bytes += (uint32_t) n;
                return 0;
        }
        if (c->stage_bytes > 0)
                return -EAGAIN; /* full: send it, then go on */
        /* the payload is gone from the command's pipe (it cannot be): zeros keep the framing */
        c->src_fd = -1;
        if (head_copy(c, -1, c->src_left) < 0)
                return -ENOMEM;
        c->src_left = 0;
        return 0;
}

/* Writes what the spliced frames still have to send. Returns 0 (also when the channel is
 * full: POLLOUT continues it) or a negative errno when the channel failed. */
static int conn_splice(struct conn *c) {
        int r = buf_flush(&c->head, c->fd);

        while (r >= 0 && buf_pending(&c->head) == 0 && (c->stage_bytes > 0 || c->src_left > 0)) {
                ssize_t n;

                if (c->src_left > 0 && stage_fill(c) == -ENOMEM)
                        return -ENOMEM;
                if (buf_pending(&c->head) > 0) {
                        r = buf_flush(&c->head, c->fd);
                        continue;
                }
                if (c->stage_bytes == 0)
                        continue;
                /* all of the stage, always (see struct conn) */
                n = splice(c->stage[0], NULL, c->fd, NULL, c->stage_bytes,
                           SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0 && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        return -errno;
                if (n > 0) {
                        c->stage_bytes -= (uint32_t) n;
                        continue;
                }
                if (n < 0) {
                        log_dbg("splice() to the channel failed (%m): copying output");
                        c->no_splice = 1;
                }
                r = splice_copy_rest(c);
                if (r == 0)
                        r = buf_flush(&c->head, c->fd);
        }
        return r < 0 ? r : 0;
}

void conn_flush(struct agent *a, struct conn *c) {
        int r = 0;

        if (!c->up)
                return;
        if (conn_splicing(c))
                r = conn_splice(c);
        if (r >= 0 && !conn_splicing(c))
                r = buf_flush(&c->out, c->fd);
        if (r < 0)
                conn_down(a, c);
}

/* Output frames staged from a command's pipe per wake-up at most: the other sessions' turn */
#define SPLICE_FRAMES 16
/* Less output than this waiting goes by read() and write(): a splice costs more calls */
#define SPLICE_MIN 8192
/* The stage holds this many frames of whole pages (one slot per page and header) */
#define STAGE_SIZE (1024 * 1024)

static uint32_t output_room(const struct session *s) {
        return s->v2 && s->out_credit < VMSILO_PROTO_MAX_PAYLOAD ? s->out_credit
                                                                 : VMSILO_PROTO_MAX_PAYLOAD;
}

static int stage_open(struct conn *c) {
        if (c->stage[0] >= 0)
                return 0;
        if (pipe2(c->stage, O_CLOEXEC | O_NONBLOCK) < 0) {
                c->stage[0] = c->stage[1] = -1;
                return -errno;
        }
        (void) fcntl(c->stage[1], F_SETPIPE_SZ, STAGE_SIZE); /* else fewer frames per call */
        return 0;
}

/* Whether frames may be added to the stage now: nothing queued in out (it went first), and
 * the last staged frame is complete. */
static int stage_ready(struct agent *a, struct conn *c) {
        if (buf_pending(&c->out) > 0 || buf_pending(&c->head) > 0 || c->src_left > 0)
                conn_flush(a, c);
        return c->up && !c->no_splice && buf_pending(&c->out) == 0 && buf_pending(&c->head) == 0 &&
               c->src_left == 0;
}

/* Moves a command's output from its pipe to the channel by splice(): frames gather in the
 * stage (header, then the payload moved pipe to pipe), and go out together, never copied
 * through the agent. Returns 1 when it handled the wake-up, 0 when the copying path must
 * (little output, EOF, frames waiting in the queue). */
static int splice_output(struct agent *a, struct session *s, int is_err) {
        struct conn *c = s->conn;
        int fd = is_err ? s->err_fd : s->out_fd;
        int i;

        if (stage_open(c) < 0) {
                c->no_splice = 1;
                return 0;
        }
        for (i = 0; i < SPLICE_FRAMES && stage_ready(a, c) && output_room(s) > 0; i++) {
                struct vmsilo_proto_hdr h = { .session = s->id,
                                              .type = is_err ? VMSILO_MSG_STDERR
                                                             : VMSILO_MSG_STDOUT };
                uint8_t hdr[VMSILO_PROTO_HDR_SIZE];
                int avail;

                if (ioctl(fd, FIONREAD, &avail) < 0 || avail < SPLICE_MIN)
                        break;
                h.len = output_room(s) < (uint32_t) avail ? output_room(s) : (uint32_t) avail;
                (void) vmsilo_proto_encode_hdr(hdr, sizeof(hdr), &h);
                /* a pipe takes a write this small whole, or not at all */
                if (write(c->stage[1], hdr, sizeof(hdr)) != (ssize_t) sizeof(hdr))
                        break;
                c->stage_bytes += sizeof(hdr);
                if (s->v2)
                        s->out_credit -= h.len;
                c->src_fd = fd;
                c->src_left = h.len;
                if (stage_fill(c) == -ENOMEM) {
                        conn_down(a, c);
                        return 1;
                }
        }
        if (conn_splicing(c))
                conn_flush(a, c);
        /* frames still queued (another session's, or copied ones) go out first: copy this
         * output behind them rather than stage it ahead of them */
        return i > 0 || !c->up || conn_splicing(c);
}

int session_may_splice(const struct session *s) {
        return !s->pty && !s->conn->no_splice;
}

/* Reads one chunk of a command's output into a frame; EOF sends an empty frame. */
void session_read_output(struct agent *a, struct session *s, int is_err) {
        int *fd = is_err ? &s->err_fd : &s->out_fd;
        uint8_t type = is_err ? VMSILO_MSG_STDERR : VMSILO_MSG_STDOUT;
        struct vmsilo_proto_hdr h = { .session = s->id, .type = type };
        struct conn *c = s->conn;
        size_t max = VMSILO_PROTO_MAX_PAYLOAD;
        uint8_t *frame;
        ssize_t n;

        if (session_may_splice(s) && splice_output(a, s, is_err))
                return;
        if (s->v2 && s->out_credit < max)
                max = s->out_credit;
        if (max == 0)
                return; /* the host has not consumed what it got: wait for CREDIT */
        frame = buf_reserve(&c->out, VMSILO_PROTO_HDR_SIZE + max);
        if (!frame)
                return;
        n = read(*fd, frame + VMSILO_PROTO_HDR_SIZE, max);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n > 0 && s->v2)
                s->out_credit -= (uint32_t) n;
        if (n <= 0) {
                /* EOF, or EIO from a pty master whose last slave fd closed */
                close(*fd);
                *fd = -1;
                if (s->pty)
                        s->err_fd = -1;
                n = 0;
        }
        h.len = (uint32_t) n;
        (void) vmsilo_proto_encode_hdr(frame, VMSILO_PROTO_HDR_SIZE, &h);
        buf_commit(&c->out, VMSILO_PROTO_HDR_SIZE + (size_t) n);
        if (n == 0 && s->pty) {
                /* a pty has one stream: announce EOF on stderr too */
                (void) buf_append_frame(&c->out, s->id, VMSILO_MSG_STDERR, NULL, 0);
        }
}

/* Sends EXIT once the process is gone and both output streams reached EOF. */
static void session_maybe_finish(struct session *s) {
        struct vmsilo_proto_exit e;
        uint8_t frame[VMSILO_PROTO_HDR_SIZE + 8];

        if (s->dead || !s->exited || s->out_fd >= 0 || s->err_fd >= 0)
                return;
        if (WIFSIGNALED(s->wstatus)) {
                e.kind = VMSILO_EXIT_SIGNAL;
                e.value = (uint32_t) WTERMSIG(s->wstatus);
        } else {
                e.kind = VMSILO_EXIT_STATUS;
                e.value = (uint32_t) WEXITSTATUS(s->wstatus);
        }
        log_dbg("session %u: done (%s %u)", s->id, e.kind ? "signal" : "status", e.value);
        queue_frame_raw(s->conn, frame, vmsilo_proto_encode_exit(frame, sizeof(frame), s->id, &e));
        session_close_fds(s);
        s->dead = 1;
}

void agent_reap(struct agent *a) {
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                for (struct session *s = a->sessions; s; s = s->next) {
                        if (s->pid != pid || s->exited)
                                continue;
                        s->exited = 1;
                        s->wstatus = status;
                }
        }
}

/* Frees dead sessions and connections; sends EXIT for the finished ones. */
void agent_sweep(struct agent *a) {
        struct session **sp = &a->sessions;
        struct conn **cp = &a->conns;

        for (struct session *s = a->sessions; s; s = s->next)
                session_maybe_finish(s);
        while (*sp) {
                struct session *s = *sp;

                if (!s->dead) {
                        sp = &s->next;
                        continue;
                }
                *sp = s->next;
                session_close_fds(s);
                free(s);
        }
        while (*cp) {
                struct conn *c = *cp;

                if (!c->dead) {
                        cp = &c->next;
                        continue;
                }
                *cp = c->next;
                close(c->fd);
                buf_free(&c->out);
                buf_free(&c->head);
                stage_close(c);
                free(c);
        }
}

struct conn *conn_add(struct agent *a, int fd, int kind, int up) {
        struct conn *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->fd = fd;
        c->kind = kind;
        c->up = up;
        c->stage[0] = c->stage[1] = -1;
        c->version = 1;
        c->next = a->conns;
        a->conns = c;
        if (up)
                conn_send_hello(c);
        return c;
}

static int open_vsock(void) {
        struct sockaddr_vm sa = {
                .svm_family = AF_VSOCK,
                .svm_port = VMSILO_PROTO_VSOCK_PORT,
                .svm_cid = VMADDR_CID_ANY,
        };
        int fd;

        fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

void agent_accept(struct agent *a) {
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        if (!conn_add(a, fd, CONN_STREAM, 1))
                close(fd);
        log_dbg("vsock connection accepted");
}

static int agent_open(struct agent *a, const struct agent_options *o) {
        int fd;

        if (o->port) {
                fd = open(o->port, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        log_msg("failed to open '%s': %m", o->port);
                else if (!conn_add(a, fd, CONN_PORT, 0))
                        return -ENOMEM;
        }
        if (o->fd >= 0) {
                if (fcntl(o->fd, F_SETFL, O_NONBLOCK) < 0 ||
                    fcntl(o->fd, F_SETFD, FD_CLOEXEC) < 0 || !conn_add(a, o->fd, CONN_STREAM, 1))
                        return -EBADF;
                a->exit_on_close = 1;
        }
        a->listen_fd = -1;
        if (o->vsock) {
                a->listen_fd = open_vsock();
                if (a->listen_fd < 0)
                        log_dbg("vsock port %u unavailable: %s", VMSILO_PROTO_VSOCK_PORT,
                                strerror(-a->listen_fd));
        }
        if (!a->conns && a->listen_fd < 0)
                return -ENODEV;
        return 0;
}

int agent_run(const struct agent_options *o) {
        struct agent a = { .root = o->root ? o->root : "/" };
        sigset_t mask;
        int r;

        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        a.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (a.sigfd < 0) {
                log_msg("failed to create a signalfd: %m");
                return 1;
        }
        r = agent_open(&a, o);
        if (r < 0) {
                log_msg("no channel to the host: %s", strerror(-r));
                return 1;
        }
        r = agent_loop(&a);
        for (struct conn *c = a.conns; c; c = c->next)
                conn_down(&a, c);
        agent_sweep(&a);
        return r < 0 ? 1 : 0;
}

static void usage(void) {
        fprintf(stderr, "usage: vmsilo-agent [--root DIR] [--port DEVICE] [--vsock] [--fd N] "
                        "[--max-version N] [--debug]\n");
}

int agent_main(int argc, char **argv) {
        struct agent_options o = { .root = "/", .fd = -1 };

        log_prefix = "vmsilo-agent";
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(arg, "--vsock") == 0) {
                        o.vsock = 1;
                } else if (strcmp(arg, "--debug") == 0) {
                        log_debug_enabled = 1;
                } else if (val && strcmp(arg, "--root") == 0) {
                        o.root = argv[++i];
                } else if (val && strcmp(arg, "--port") == 0) {
                        o.port = argv[++i];
                } else if (val && strcmp(arg, "--fd") == 0) {
                        o.fd = atoi(argv[++i]);
                } else if (val && strcmp(arg, "--max-version") == 0 && atoi(val) >= 1 &&
                           atoi(val) <= (int) VMSILO_PROTO_VERSION) {
                        max_version = (uint32_t) atoi(argv[++i]);
                } else {
                        usage();
                        return 2;
                }
        }
        return agent_run(&o);
}
