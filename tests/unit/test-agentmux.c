/* SPDX-License-Identifier: MIT */
/* core/run/agentmux.c: the supervisor's agent multiplexer between a (fake) guest and clients,
 * over real sockets: a client that stops reading only stalls its own session, protocol
 * breakers are dropped with one log line, version 1 guests get version 1. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "proto/framer.h"
#include "run/agentmux.h"
#include "testutil.h"
#include "util/socket-util.h"

struct end {
        int fd;
        struct framer in;
};

static char *dir, guest_path[256], client_path[256];
static struct agent_mux *mux;
static struct end guest;
static int listen_fd;
static int attacking; /* sends may fail: the mux drops the attacker part way */

static void pump(void) {
        for (int i = 0; i < 4; i++) {
                struct pollfd fds[64];
                int n = agent_mux_fill_pollfds(mux, fds, 64);

                if (poll(fds, (nfds_t) n, 10) <= 0)
                        return;
                agent_mux_dispatch(mux, fds, n);
        }
}

static void send_frame(int fd, uint32_t session, uint8_t type, const void *p, size_t len) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        int n = vmsilo_proto_encode_data(frame, sizeof(frame), session, type, p, len);
        ssize_t k;

        REQUIRE(n > 0);
        for (size_t off = 0; off < (size_t) n; off += (size_t) k) {
                k = send(fd, frame + off, (size_t) n - off, MSG_NOSIGNAL);
                if (k < 0 && errno == EAGAIN) {
                        pump();
                        k = 0;
                        continue;
                }
                if (k < 0 && attacking)
                        return;
                REQUIRE(k > 0);
        }
}

/* The stdin window of the test's guest: its own choice, smaller than the mux's queue limits,
 * so that a stdin flood beyond it reaches the mux */
#define GUEST_WINDOW (256u * 1024u)

static void send_hello(int fd, uint32_t version) {
        struct vmsilo_proto_hello h = { .version = version,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .window = GUEST_WINDOW };
        uint8_t frame[64];
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        REQUIRE(n > 0);
        send_frame(fd, 0, VMSILO_MSG_HELLO, frame + 12, (size_t) n - 12);
}

static void send_start(int fd, uint32_t session) {
        const char *argv[] = { "true" };
        struct vmsilo_proto_start st = { .cwd = "", .user = "", .argc = 1, .argv = argv };
        uint8_t frame[128];
        int n = vmsilo_proto_encode_start(frame, sizeof(frame), session, &st);

        REQUIRE(n > 0);
        send_frame(fd, session, VMSILO_MSG_START, frame + 12, (size_t) n - 12);
}

/* The next frame at e (pumping the mux meanwhile): 1, 0 when none came, -1 at EOF. */
static int next(struct end *e, struct vmsilo_proto_hdr *h, const uint8_t **p) {
        for (int i = 0; i < 50; i++) {
                int r = framer_next(&e->in, h, p);

                if (r != 0)
                        return r;
                pump();
                r = framer_read(&e->in, e->fd);
                if (r == 0)
                        return -1;
        }
        return 0;
}

/* The next frame of a type at e, skipping others. */
static int expect_type(struct end *e, uint8_t type, struct vmsilo_proto_hdr *h, const uint8_t **p) {
        int r;

        while ((r = next(e, h, p)) > 0)
                if (h->type == type)
                        return 1;
        return r;
}

static void setup(uint32_t guest_version) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        dir = tmpdir_new();
        snprintf(guest_path, sizeof(guest_path), "%s/guest.sock", dir);
        snprintf(client_path, sizeof(client_path), "%s/agent.sock", dir);
        listen_fd = unix_listen(guest_path);
        REQUIRE(listen_fd >= 0);
        mux = agent_mux_new(guest_path, client_path);
        REQUIRE(mux);
        agent_mux_try_connect(mux);
        memset(&guest, 0, sizeof(guest));
        guest.fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        REQUIRE(guest.fd >= 0);
        REQUIRE(expect_type(&guest, VMSILO_MSG_HELLO, &h, &p) == 1);
        send_hello(guest.fd, guest_version);
        pump();
}

static void teardown(void) {
        mux = agent_mux_free(mux);
        safe_close(guest.fd);
        safe_close(listen_fd);
        tmpdir_remove(dir);
}

/* A client that said HELLO and got the mux's; *version is what the mux told it. */
static void client_up(struct end *c, uint32_t *version) {
        struct vmsilo_proto_hello g;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        memset(c, 0, sizeof(*c));
        c->fd = unix_connect(client_path, SOCK_NONBLOCK);
        REQUIRE(c->fd >= 0);
        send_hello(c->fd, VMSILO_PROTO_VERSION);
        REQUIRE(expect_type(c, VMSILO_MSG_HELLO, &h, &p) == 1);
        REQUIRE(vmsilo_proto_decode_hello(p, h.len, &g) == 0);
        *version = g.version;
}

/* The guest session id the mux gave to the next START. */
static uint32_t guest_start(void) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        REQUIRE(expect_type(&guest, VMSILO_MSG_START, &h, &p) == 1);
        return h.session;
}

static void test_agentmux_slow_client_stalls_only_its_session(void) {
        static uint8_t chunk[65536];
        struct end a, b;
        uint32_t va, vb, ga, gb, credit_a = VMSILO_PROTO_WINDOW, credit_b = VMSILO_PROTO_WINDOW;
        size_t to_a = 0, got_b = 0, want_b = 4u << 20;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        setup(2);
        client_up(&a, &va);
        client_up(&b, &vb);
        ASSERT_INT_EQ(va, 2);
        send_start(a.fd, 7);
        ga = guest_start();
        send_start(b.fd, 7); /* ids are per client */
        gb = guest_start();
        CU_ASSERT(ga != gb);
        /* the guest sends what credit allows to both; only b reads */
        for (int iter = 0; got_b < want_b; iter++) {
                uint32_t n;

                REQUIRE(iter < 5000);
                if (credit_a > 0) {
                        n = credit_a < sizeof(chunk) ? credit_a : sizeof(chunk);
                        send_frame(guest.fd, ga, VMSILO_MSG_STDOUT, chunk, n);
                        credit_a -= n;
                        to_a += n;
                }
                if (credit_b > 0) {
                        n = credit_b < sizeof(chunk) ? credit_b : sizeof(chunk);
                        send_frame(guest.fd, gb, VMSILO_MSG_STDOUT, chunk, n);
                        credit_b -= n;
                }
                pump();
                while (framer_read(&b.in, b.fd) > 0)
                        while (framer_next(&b.in, &h, &p) > 0)
                                got_b += h.type == VMSILO_MSG_STDOUT ? h.len : 0;
                pump();
                while (framer_read(&guest.in, guest.fd) > 0)
                        while (framer_next(&guest.in, &h, &p) > 0) {
                                uint32_t more;

                                if (h.type != VMSILO_MSG_CREDIT ||
                                    vmsilo_proto_decode_u32(p, h.len, &more) < 0)
                                        continue;
                                if (h.session == ga)
                                        credit_a += more;
                                else if (h.session == gb)
                                        credit_b += more;
                        }
        }
        /* a's output stopped at its window plus what its socket holds */
        CU_ASSERT(to_a < (4u << 20));
        CU_ASSERT(agent_mux_memory(mux) < 2 * VMSILO_PROTO_WINDOW + (1u << 20));
        /* b still gets its exit status */
        send_frame(guest.fd, gb, VMSILO_MSG_EXIT, "\0\0\0\0\x05\0\0\0", 8);
        REQUIRE(expect_type(&b, VMSILO_MSG_EXIT, &h, &p) == 1);
        ASSERT_INT_EQ(h.session, 7);
        ASSERT_INT_EQ(p[4], 5);
        close(a.fd);
        close(b.fd);
        pump();
        /* a's command is hung up */
        REQUIRE(expect_type(&guest, VMSILO_MSG_SIGNAL, &h, &p) == 1);
        ASSERT_INT_EQ(h.session, ga);
        teardown();
}

/* Sends what breaks the protocol; the client must be dropped with one log line. */
static void expect_drop(const char *what, void (*attack)(int fd), const char *reason) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        struct capture cap;
        struct end c;
        uint32_t v;
        char *log;
        int r;

        client_up(&c, &v);
        capture_start(&cap);
        attacking = 1;
        attack(c.fd);
        attacking = 0;
        while ((r = next(&c, &h, &p)) > 0)
                ;
        log = capture_end(&cap);
        if (r != -1)
                fprintf(stderr, "\n%s: not dropped\n", what);
        CU_ASSERT(r == -1);
        ASSERT_INT_EQ(count_substr(log, "agent client (pid "), 1);
        if (!strstr(log, reason))
                fprintf(stderr, "\n%s: log is '%s'\n", what, log);
        CU_ASSERT(strstr(log, reason) != NULL);
        free(log);
        close(c.fd);
}

static void attack_hellos(int fd) {
        for (int i = 0; i < 100; i++)
                send_hello(fd, 2);
}

static void attack_same_start(int fd) {
        send_start(fd, 3);
        send_start(fd, 3);
}

static void attack_many_starts(int fd) {
        for (uint32_t i = 1; i <= 40; i++)
                send_start(fd, i);
}

static void attack_foreign_session(int fd) {
        send_frame(fd, 12345, VMSILO_MSG_SIGNAL, "\x09\0\0\0", 4);
}

static void attack_stdin_flood(int fd) {
        static uint8_t chunk[65536];

        send_start(fd, 1);
        for (int i = 0; i < 5; i++)
                send_frame(fd, 1, VMSILO_MSG_STDIN, chunk, sizeof(chunk));
}

static void attack_guest_frame_type(int fd) {
        send_frame(fd, 0, VMSILO_MSG_EXIT, "\0\0\0\0\0\0\0\0", 8);
}

static void test_agentmux_drops_protocol_breakers(void) {
        setup(2);
        expect_drop("hellos", attack_hellos, "HELLO repeated after the handshake");
        expect_drop("same start", attack_same_start, "START for session 3, which is in use");
        expect_drop("many starts", attack_many_starts, "more than 16 sessions");
        expect_drop("foreign", attack_foreign_session, "session 12345, which is not its own");
        expect_drop("stdin", attack_stdin_flood, "stdin beyond its credit window");
        expect_drop("type", attack_guest_frame_type, "unexpected frame type 0x23");
        /* a well-behaved client is served afterwards */
        {
                struct end c;
                uint32_t v;

                client_up(&c, &v);
                ASSERT_INT_EQ(v, 2);
                close(c.fd);
        }
        teardown();
}

static void test_agentmux_v1_guest_gets_v1(void) {
        struct vmsilo_proto_hello g;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        struct end c;

        setup(1);
        memset(&c, 0, sizeof(c));
        c.fd = unix_connect(client_path, SOCK_NONBLOCK);
        REQUIRE(c.fd >= 0);
        send_hello(c.fd, VMSILO_PROTO_VERSION);
        REQUIRE(expect_type(&c, VMSILO_MSG_HELLO, &h, &p) == 1);
        REQUIRE(vmsilo_proto_decode_hello(p, h.len, &g) == 0);
        ASSERT_INT_EQ(g.version, 1);
        ASSERT_INT_EQ(g.window, 0);
        /* no credit: stdin far beyond a window is forwarded */
        send_start(c.fd, 1);
        (void) guest_start();
        for (int i = 0; i < 8; i++)
                send_frame(c.fd, 1, VMSILO_MSG_STDIN, "x", 1);
        for (int i = 0; i < 8; i++)
                REQUIRE(expect_type(&guest, VMSILO_MSG_STDIN, &h, &p) == 1);
        close(c.fd);
        teardown();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_agentmux_slow_client_stalls_only_its_session),
                TEST(test_agentmux_drops_protocol_breakers),
                TEST(test_agentmux_v1_guest_gets_v1),
        };

        signal(SIGPIPE, SIG_IGN);
        return RUN_SUITE("agentmux", tests);
}
