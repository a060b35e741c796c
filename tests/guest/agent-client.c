/* Test client of the vmsilo guest agent (protocol 1) over a unix socket (QEMU's end of the
 * org.vmsilo.agent virtio-console port).
 *
 * usage: agent-client [options] SOCKET -- ARGV...
 *   -u USER  -C DIR  -e KEY=VALUE (repeatable)  -t (pty)  -w ROWSxCOLS (initial size)
 *   -W ROWSxCOLS (resize 300 ms after start)  -k SIGNO (send 300 ms after start)
 *   -i (forward stdin, EOF included; else stdin EOF is sent at once)
 *   -n N (run N sessions at once)  -T SECONDS (overall timeout, default 30)
 * Prints the command's stdout/stderr; exits with its status, 128+N for signal N (and prints
 * "agent-client: signal N"), 125 on an agent ERROR, 124 on a timeout, 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../proto/proto.h"

#define MAX_ENV 32
#define MAX_SESSIONS 16

static struct vmsilo_proto_start start = { .cwd = "", .user = "" };
static const char *envs[MAX_ENV];
static int opt_stdin, opt_signal, n_sessions = 1, timeout_s = 30;
static unsigned resize_rows, resize_cols;
static int exited[MAX_SESSIONS + 1], worst_status;
static uint8_t frame[VMSILO_PROTO_MAX_FRAME];

static void on_alarm(int sig) {
        static const char msg[] = "agent-client: timed out\n";

        (void) sig;
        (void) !write(2, msg, sizeof(msg) - 1);
        _exit(124);
}

static void die(const char *what) {
        fprintf(stderr, "agent-client: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void send_all(int fd, const void *p, size_t len) {
        const uint8_t *b = p;

        while (len > 0) {
                ssize_t n = write(fd, b, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        die("write");
                b += n;
                len -= (size_t) n;
        }
}

static int recv_all(int fd, void *p, size_t len) {
        uint8_t *b = p;

        while (len > 0) {
                ssize_t n = read(fd, b, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                b += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Reads one frame into frame[]; returns its header. */
static struct vmsilo_proto_hdr read_frame(int fd) {
        struct vmsilo_proto_hdr h;

        if (recv_all(fd, frame, VMSILO_PROTO_HDR_SIZE) < 0) {
                fprintf(stderr, "agent-client: connection closed\n");
                exit(1);
        }
        if (vmsilo_proto_decode_hdr(frame, VMSILO_PROTO_HDR_SIZE, &h) <= 0 ||
            recv_all(fd, frame + VMSILO_PROTO_HDR_SIZE, h.len) < 0) {
                fprintf(stderr, "agent-client: bad frame\n");
                exit(1);
        }
        return h;
}

static int connect_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        for (int tries = 0;; tries++) {
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        die("socket");
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        return fd;
                close(fd);
                if (tries > 100)
                        die("connect");
                usleep(100000);
        }
}

/* A version 1 host (no credit windows): the smoke test covers a version 2 guest's fallback. */
static void handshake(int fd) {
        struct vmsilo_proto_hello h = { .version = 1,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .ident = "agent-client",
                                        .ident_len = 12 };
        struct vmsilo_proto_hello g;
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        send_all(fd, frame, (size_t) n);
        for (;;) {
                struct vmsilo_proto_hdr hdr = read_frame(fd);

                if (hdr.type != VMSILO_MSG_HELLO)
                        continue;
                if (vmsilo_proto_decode_hello(frame + VMSILO_PROTO_HDR_SIZE, hdr.len, &g) < 0)
                        continue;
                fprintf(stderr, "agent-client: hello version=%u ident=%.*s\n", g.version,
                        (int) g.ident_len, g.ident);
                return;
        }
}

static void send_u32_frame(int fd, uint32_t session, uint8_t type, uint32_t v) {
        uint8_t buf[32];
        int n = vmsilo_proto_encode_u32(buf, sizeof(buf), session, type, v);

        send_all(fd, buf, (size_t) n);
}

static void send_data(int fd, uint32_t session, const void *p, size_t len) {
        static uint8_t buf[VMSILO_PROTO_MAX_FRAME];
        int n = vmsilo_proto_encode_data(buf, sizeof(buf), session, VMSILO_MSG_STDIN, p, len);

        send_all(fd, buf, (size_t) n);
}

static void late_actions(int fd) {
        uint8_t buf[32];

        for (int s = 1; s <= n_sessions; s++) {
                if (opt_signal)
                        send_u32_frame(fd, (uint32_t) s, VMSILO_MSG_SIGNAL, (uint32_t) opt_signal);
                if (resize_rows) {
                        int n = vmsilo_proto_encode_resize(buf, sizeof(buf), (uint32_t) s,
                                                           (uint16_t) resize_rows,
                                                           (uint16_t) resize_cols);
                        send_all(fd, buf, (size_t) n);
                }
        }
}

/* Handles one frame from the agent; returns 1 when every session has ended. */
static int handle_frame(int fd) {
        struct vmsilo_proto_hdr h = read_frame(fd);
        const uint8_t *p = frame + VMSILO_PROTO_HDR_SIZE;
        struct vmsilo_proto_exit e;
        struct vmsilo_proto_error er;
        int status, done = 0;

        if (h.session == 0 || h.session > (uint32_t) n_sessions)
                return 0;
        if (h.type == VMSILO_MSG_STDOUT || h.type == VMSILO_MSG_STDERR) {
                send_all(h.type == VMSILO_MSG_STDOUT ? 1 : 2, p, h.len);
        } else if (h.type == VMSILO_MSG_EXIT && vmsilo_proto_decode_exit(p, h.len, &e) == 0) {
                status = e.kind == VMSILO_EXIT_SIGNAL ? 128 + (int) e.value : (int) e.value;
                if (e.kind == VMSILO_EXIT_SIGNAL)
                        fprintf(stderr, "agent-client: signal %u\n", e.value);
                exited[h.session] = 1;
                if (status > worst_status)
                        worst_status = status;
        } else if (h.type == VMSILO_MSG_ERROR && vmsilo_proto_decode_error(p, h.len, &er) == 0) {
                fprintf(stderr, "agent-client: error %d: %.*s\n", er.error, (int) er.msg_len,
                        er.msg);
                exited[h.session] = 1;
                worst_status = 125;
        }
        for (int s = 1; s <= n_sessions; s++)
                done += exited[s];
        return done == n_sessions;
}

static void forward_stdin(int fd) {
        char buf[4096];
        ssize_t n = read(0, buf, sizeof(buf));

        if (n < 0)
                n = 0;
        for (int s = 1; s <= n_sessions; s++)
                send_data(fd, (uint32_t) s, buf, (size_t) n);
        if (n == 0)
                opt_stdin = 0;
}

static int run(int fd) {
        struct timespec t0;
        int late_done = !opt_signal && !resize_rows;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
                                         { .fd = opt_stdin ? 0 : -1, .events = POLLIN } };
                int r = poll(pfd, 2, late_done ? -1 : 300);

                if (r < 0 && errno != EINTR)
                        die("poll");
                if (r == 0 && !late_done) {
                        late_actions(fd);
                        late_done = 1;
                }
                if (pfd[1].revents)
                        forward_stdin(fd);
                if (pfd[0].revents && handle_frame(fd))
                        return worst_status;
        }
}

static int parse_size(const char *s, unsigned *rows, unsigned *cols) {
        return sscanf(s, "%ux%u", rows, cols) == 2 ? 0 : -1;
}

static void usage(void) {
        fprintf(stderr, "usage: agent-client [-u USER] [-C DIR] [-e K=V] [-t] [-w RxC] "
                        "[-W RxC] [-k SIG] [-i] [-n N] [-T SEC] SOCKET -- ARGV...\n");
        exit(2);
}

static void parse_args(int argc, char **argv) {
        unsigned rows, cols;
        int c;

        while ((c = getopt(argc, argv, "u:C:e:tw:W:k:in:T:")) != -1) {
                switch (c) {
                case 'u':
                        start.user = optarg;
                        break;
                case 'C':
                        start.cwd = optarg;
                        break;
                case 'e':
                        if (start.envc >= MAX_ENV)
                                usage();
                        envs[start.envc++] = optarg;
                        break;
                case 't':
                        start.flags |= VMSILO_START_PTY;
                        break;
                case 'w':
                        if (parse_size(optarg, &rows, &cols) < 0)
                                usage();
                        start.rows = (uint16_t) rows;
                        start.cols = (uint16_t) cols;
                        break;
                case 'W':
                        if (parse_size(optarg, &resize_rows, &resize_cols) < 0)
                                usage();
                        break;
                case 'k':
                        opt_signal = atoi(optarg);
                        break;
                case 'i':
                        opt_stdin = 1;
                        break;
                case 'n':
                        n_sessions = atoi(optarg);
                        break;
                case 'T':
                        timeout_s = atoi(optarg);
                        break;
                default:
                        usage();
                }
        }
        if (argc - optind < 2 || n_sessions < 1 || n_sessions > MAX_SESSIONS)
                usage();
        start.env = envs;
        start.argc = (uint32_t) (argc - optind - 1);
        start.argv = (const char *const *) argv + optind + 1;
}

int main(int argc, char **argv) {
        int fd, n;

        parse_args(argc, argv);
        signal(SIGALRM, on_alarm);
        alarm((unsigned) timeout_s);
        fd = connect_socket(argv[optind]);
        handshake(fd);
        for (int s = 1; s <= n_sessions; s++) {
                n = vmsilo_proto_encode_start(frame, sizeof(frame), (uint32_t) s, &start);
                if (n < 0) {
                        fprintf(stderr, "agent-client: cannot encode start: %s\n", strerror(-n));
                        return 2;
                }
                send_all(fd, frame, (size_t) n);
                if (!opt_stdin)
                        send_data(fd, (uint32_t) s, NULL, 0);
        }
        return run(fd);
}
