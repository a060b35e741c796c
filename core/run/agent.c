/* SPDX-License-Identifier: MIT */
/* The host side of the guest agent protocol: `vmsilo-core run`. The guest is untrusted:
 * every frame is bounded by VMSILO_PROTO_MAX_PAYLOAD and checked before use. */
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>

#include "proto/framer.h"
#include "proto/proto.h"
#include "run/agent.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"

struct run_state {
        const char *vm;
        int sock;
        int sigfd;
        int stdin_open;
        uint32_t session;
        int hello;
        int started;
        int status;        /* -1 until EXIT */
        int refused;       /* the agent sent ERROR (said already) */
        int forwarded;     /* the first terminating signal, forwarded to the command */
        uint64_t deadline; /* no EXIT by then after forwarding it: give up (0: none) */
        int ended_by;      /* the signal that ends this client without a status */
        int timed_out;
        int start_sent;
        uint32_t version;      /* negotiated in the handshake */
        uint32_t stdin_credit; /* version 2: STDIN bytes the guest accepts now */
        uint32_t out_unacked;  /* version 2: output written here, not yet credited back */
        struct framer in;
        struct termios saved;
        int raw;
};

int agent_connect(const char *address) {
        if (strncmp(address, "unix:", 5) == 0)
                return unix_connect(address + 5, 0);
        if (strncmp(address, "vsock:", 6) == 0) {
                struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
                unsigned cid, port;

                if (sscanf(address + 6, "%u:%u", &cid, &port) != 2)
                        return -EINVAL;
                sa.svm_cid = cid;
                sa.svm_port = port;
                return socket_connect(AF_VSOCK, 0, (struct sockaddr *) &sa, sizeof(sa));
        }
        return -EINVAL;
}

/* The agent may not listen yet (a VM that was just started): retry until the timeout. */
static int connect_retrying(const char *address, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;

        for (;;) {
                int fd = agent_connect(address);

                if (fd >= 0 || now_ms() >= deadline ||
                    !IN_SET(-fd, ECONNREFUSED, ENOENT, ECONNRESET, ETIMEDOUT, ENODEV, EHOSTUNREACH))
                        return fd;
                sleep_ms(200);
        }
}

static void on_signal(struct run_state *s);
static void on_signal_before_start(struct run_state *s);
static int until_deadline(struct run_state *s);

/* Sends all of buf. While the peer does not read (a frozen guest), signals are still handled:
 * -EINTR when one ends this client. */
static int send_all(struct run_state *s, const uint8_t *buf, size_t n) {
        while (n > 0) {
                ssize_t k = send(s->sock, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k < 0 && errno == EAGAIN) {
                        struct pollfd p[2] = { { .fd = s->sock, .events = POLLOUT },
                                               { .fd = s->sigfd, .events = POLLIN } };

                        if (poll(p, s->sigfd >= 0 ? 2 : 1, until_deadline(s)) < 0 && errno != EINTR)
                                return negative_errno();
                        if (p[1].revents && s->start_sent)
                                on_signal(s);
                        else if (p[1].revents)
                                on_signal_before_start(s);
                        if (s->ended_by)
                                return -EINTR;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

static int send_hello(struct run_state *s) {
        uint8_t frame[128];
        struct vmsilo_proto_hello h = { .version = VMSILO_PROTO_VERSION,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .window = VMSILO_PROTO_WINDOW,
                                        .ident = "vmsilo-core",
                                        .ident_len = 11 };
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        return n < 0 ? n : send_all(s, frame, (size_t) n);
}

static int send_start(struct run_state *s, const struct agent_request *req) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        struct vmsilo_proto_start st = { .cwd = strempty(req->cwd), .user = strempty(req->user) };
        struct winsize ws = {};
        int n;

        while (req->argv[st.argc])
                st.argc++;
        st.argv = (const char *const *) req->argv;
        st.envc = req->env ? (uint32_t) req->env->n : 0;
        st.env = req->env ? (const char *const *) req->env->items : NULL;
        if (req->pty) {
                st.flags |= VMSILO_START_PTY;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                        st.rows = ws.ws_row;
                        st.cols = ws.ws_col;
                }
        }
        n = vmsilo_proto_encode_start(frame, sizeof(frame), s->session, &st);
        if (n < 0)
                return log_error_errno(n, "command too large for one frame (%u bytes at most)",
                                       VMSILO_PROTO_MAX_PAYLOAD);
        return send_all(s, frame, (size_t) n);
}

static void write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                p += k;
                n -= (size_t) k;
        }
}

/* The guest's words, escaped: it must not drive the terminal or fake a log line. */
static void log_guest_error(const struct run_state *s, const struct vmsilo_proto_error *err) {
        _cleanup_free_ char *text = text_escape(err->msg, err->msg_len > 512 ? 512 : err->msg_len);

        log_error("VM '%s': %s", s->vm, text ? text : "(out of memory)");
}

static int send_u32(struct run_state *s, uint8_t type, uint32_t v) {
        uint8_t frame[32];
        int n = vmsilo_proto_encode_u32(frame, sizeof(frame), s->session, type, v);

        return n < 0 ? n : send_all(s, frame, (size_t) n);
}

/* Version 2: what we wrote out is credited back to the guest in batches. */
static void consumed_output(struct run_state *s, uint32_t n) {
        if (s->version < 2)
                return;
        s->out_unacked += n;
        if (s->out_unacked < VMSILO_PROTO_WINDOW / 4)
                return;
        (void) send_u32(s, VMSILO_MSG_CREDIT, s->out_unacked);
        s->out_unacked = 0;
}

/* One frame from the guest. Returns 1 when the command is over. */
static int on_frame(struct run_state *s, const struct vmsilo_proto_hdr *h, const uint8_t *p) {
        struct vmsilo_proto_exit e;
        struct vmsilo_proto_error err;
        struct vmsilo_proto_hello hello;
        uint32_t credit;

        if (h->type == VMSILO_MSG_HELLO) {
                if (vmsilo_proto_decode_hello(p, h->len, &hello) < 0 ||
                    vmsilo_proto_negotiate(hello.version) == 0)
                        return log_error_errno(
                                       EPROTO,
                                       "VM '%s': the guest agent speaks another protocol version",
                                       s->vm),
                               1;
                if (!s->hello) { /* later HELLOs answer our retries: nothing changes */
                        s->version = vmsilo_proto_negotiate(hello.version);
                        s->stdin_credit = s->version >= 2 ? hello.window : 0;
                }
                s->hello = 1;
                return 0;
        }
        if (h->session != s->session)
                return 0; /* another client's session */
        switch (h->type) {
        case VMSILO_MSG_STARTED:
                s->started = 1;
                return 0;
        case VMSILO_MSG_STDOUT:
                write_all(STDOUT_FILENO, p, h->len);
                consumed_output(s, h->len);
                return 0;
        case VMSILO_MSG_STDERR:
                write_all(STDERR_FILENO, p, h->len);
                consumed_output(s, h->len);
                return 0;
        case VMSILO_MSG_CREDIT:
                if (vmsilo_proto_decode_u32(p, h->len, &credit) == 0 && s->version >= 2)
                        s->stdin_credit = credit > UINT32_MAX - s->stdin_credit
                                                  ? UINT32_MAX
                                                  : s->stdin_credit + credit;
                return 0;
        case VMSILO_MSG_EXIT:
                if (vmsilo_proto_decode_exit(p, h->len, &e) < 0 || e.value > 255)
                        return log_error_errno(EPROTO,
                                               "VM '%s': malformed exit frame from the guest",
                                               s->vm),
                               1;
                s->status = e.kind == VMSILO_EXIT_SIGNAL ? 128 + (int) e.value : (int) e.value;
                return 1;
        case VMSILO_MSG_ERROR:
                if (vmsilo_proto_decode_error(p, h->len, &err) < 0)
                        err = (struct vmsilo_proto_error){ .msg = "?", .msg_len = 1 };
                log_guest_error(s, &err);
                s->refused = 1;
                return 1;
        default:
                return 0; /* unknown types are skipped (forward compatibility) */
        }
}

static int on_socket(struct run_state *s) {
        struct vmsilo_proto_hdr h;
        const uint8_t *payload;
        int r;

        r = framer_read(&s->in, s->sock);
        if (r <= 0)
                return r == 0 ? -ECONNRESET : r;
        while ((r = framer_next(&s->in, &h, &payload)) > 0)
                if (on_frame(s, &h, payload))
                        return 1;
        if (r < 0)
                return log_error_errno(r, "VM '%s': the guest sent a malformed frame", s->vm);
        return 0;
}

static int on_stdin(struct run_state *s) {
        /* whole frames: every hop down to the guest's pipe costs per frame */
        static uint8_t buf[VMSILO_PROTO_MAX_PAYLOAD], frame[VMSILO_PROTO_MAX_FRAME];
        size_t max =
                s->version >= 2 && s->stdin_credit < sizeof(buf) ? s->stdin_credit : sizeof(buf);
        ssize_t n = read(STDIN_FILENO, buf, max);
        int k;

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0)
                s->stdin_open = 0; /* an empty STDIN frame is EOF */
        else if (s->version >= 2)
                s->stdin_credit -= (uint32_t) n; /* never more than the guest allowed */
        k = vmsilo_proto_encode_data(frame, sizeof(frame), s->session, VMSILO_MSG_STDIN, buf,
                                     n > 0 ? (size_t) n : 0);
        return k < 0 ? k : send_all(s, frame, (size_t) k);
}

/* How long a command may take to end after a forwarded signal before `run` stops waiting. */
#define SIGNAL_ANSWER_MS 5000

static void on_resize(struct run_state *s) {
        struct winsize ws;
        uint8_t frame[32];
        int n;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        n = vmsilo_proto_encode_resize(frame, sizeof(frame), s->session, ws.ws_row, ws.ws_col);
        if (n > 0) /* dropped if the guest does not read: the next resize says it again */
                (void) send(s->sock, frame, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The first terminating signal goes to the command; a second one ends this client, so that
 * an unresponsive guest never holds the user's terminal. */
static void on_terminating_signal(struct run_state *s, int sig) {
        uint8_t frame[32];
        int n;

        if (s->forwarded) {
                s->ended_by = sig;
                return;
        }
        s->forwarded = sig;
        s->deadline = now_ms() + SIGNAL_ANSWER_MS;
        n = vmsilo_proto_encode_u32(frame, sizeof(frame), s->session, VMSILO_MSG_SIGNAL,
                                    (uint32_t) sig);
        /* never block on a guest that does not read */
        if (n > 0)
                (void) send(s->sock, frame, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void on_signal(struct run_state *s) {
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGWINCH)
                        on_resize(s);
                else
                        on_terminating_signal(s, (int) si.ssi_signo);
        }
}

/* Before the command runs there is nothing to forward to: any signal ends the client. */
static void on_signal_before_start(struct run_state *s) {
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
                if (si.ssi_signo != SIGWINCH)
                        s->ended_by = (int) si.ssi_signo;
}

/* The poll timeout until the deadline (-1: none); marks a passed deadline. */
static int until_deadline(struct run_state *s) {
        uint64_t now = now_ms();

        if (!s->deadline)
                return -1;
        if (now >= s->deadline) {
                s->ended_by = s->forwarded;
                s->timed_out = 1;
                return 0;
        }
        return (int) (s->deadline - now);
}

/* Why this client ends without the command's status; the exit code is 128+N of the signal. */
static int ended_locally(const struct run_state *s) {
        if (s->timed_out)
                log_error(
                        "VM '%s': no exit status within %d s after forwarding SIG%s; leaving the command to the guest",
                        s->vm, SIGNAL_ANSWER_MS / 1000, sigabbrev_np(s->forwarded));
        else if (s->forwarded)
                log_error("VM '%s': second signal (SIG%s); leaving the command to the guest", s->vm,
                          sigabbrev_np(s->ended_by));
        else
                log_error("VM '%s': interrupted (SIG%s) before the command started", s->vm,
                          sigabbrev_np(s->ended_by));
        return 128 + s->ended_by;
}

static int handshake(struct run_state *s, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000, next_hello = 0;

        while (!s->hello) {
                struct pollfd p[2] = { { .fd = s->sock, .events = POLLIN },
                                       { .fd = s->sigfd, .events = POLLIN } };
                int r;

                if (now_ms() >= deadline)
                        return log_error_errno(
                                ETIMEDOUT, "VM '%s': the guest agent did not answer within %u s",
                                s->vm, timeout_s);
                /* the port may not be open in the guest yet: say hello until it answers */
                if (now_ms() >= next_hello) {
                        r = send_hello(s);
                        if (r < 0)
                                return log_error_errno(r, "VM '%s': agent connection lost: %m",
                                                       s->vm);
                        next_hello = now_ms() + 500;
                }
                if (poll(p, 2, 100) > 0 && p[1].revents) {
                        on_signal_before_start(s);
                        if (s->ended_by)
                                return -EINTR;
                }
                if (p[0].revents) {
                        r = on_socket(s);
                        if (r < 0)
                                return log_error_errno(r, "VM '%s': agent connection lost: %m",
                                                       s->vm);
                        if (r > 0)
                                return -EPROTO;
                }
        }
        /* its HELLO may have crossed ours (a port that opened late): say it once more, so
         * that the agent knows our version before the START */
        return send_hello(s);
}

static void restore_terminal(struct run_state *s) {
        if (s->raw)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &s->saved);
        s->raw = 0;
}

static int set_raw(struct run_state *s) {
        struct termios t;

        if (!isatty(STDIN_FILENO))
                return 0; /* a pty in the guest, but nothing local to put in raw mode */
        if (tcgetattr(STDIN_FILENO, &s->saved) < 0)
                return log_error_errno(errno, "cannot read the terminal's settings: %m");
        t = s->saved;
        cfmakeraw(&t);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
                return log_error_errno(errno, "failed to set the terminal to raw mode: %m");
        s->raw = 1;
        return 0;
}

static int block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int pump(struct run_state *s) {
        for (;;) {
                struct pollfd fds[3] = {
                        { .fd = s->sock, .events = POLLIN },
                        { .fd = s->sigfd, .events = POLLIN },
                        /* version 2: stdin waits for credit rather than queueing in the guest */
                        { .fd = s->stdin_open && (s->version < 2 || s->stdin_credit > 0)
                                        ? STDIN_FILENO
                                        : -1,
                          .events = POLLIN },
                };
                int r;

                if (poll(fds, 3, until_deadline(s)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (s->ended_by)
                        return -EINTR;
                if (fds[0].revents) {
                        r = on_socket(s);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
                if (fds[1].revents)
                        on_signal(s);
                if (s->ended_by)
                        return -EINTR;
                if (fds[2].revents && on_stdin(s) < 0)
                        return -ECONNRESET;
        }
}

int agent_run(const char *vm_name, const char *address, const struct agent_request *req) {
        int fd = connect_retrying(address, req->connect_timeout_s);

        if (fd < 0)
                return log_error_errno(fd, "VM '%s': cannot reach the guest agent at '%s': %m",
                                       vm_name, address);
        return agent_run_fd(vm_name, fd, req);
}

int agent_run_fd(const char *vm_name, int fd, const struct agent_request *req) {
        struct run_state s = { .vm = vm_name,
                               .sock = fd,
                               .stdin_open = 1,
                               .status = -1,
                               .session = (uint32_t) getpid() };
        int r;

        s.sigfd = block_signals();
        r = s.sigfd < 0 ? s.sigfd : handshake(&s, req->connect_timeout_s);
        if (r >= 0)
                r = send_start(&s, req);
        s.start_sent = r >= 0;
        if (r >= 0 && req->pty)
                r = set_raw(&s);
        if (r >= 0)
                r = pump(&s);
        restore_terminal(&s);
        safe_close(s.sock);
        safe_close(s.sigfd);
        if (s.status >= 0)
                return s.status;
        if (s.ended_by)
                return ended_locally(&s);
        if ((r == -ECONNRESET || r == 0) && !s.refused)
                log_error("VM '%s' went away while running the command: no exit status", vm_name);
        return r < 0 ? r : -ECONNRESET;
}
