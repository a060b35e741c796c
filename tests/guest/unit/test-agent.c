/* SPDX-License-Identifier: MIT */
/* guest/agent.c: the agent over a socketpair (--fd), protocol 1 and 2: credit windows bound
 * what one session sends and receives, and one stuck session never stops the channel. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../../../proto/framer.h"
#include "agent.h"
#include "guest-testutil.h"

struct peer {
        int fd;
        pid_t agent;
        struct framer in;
        uint32_t guest_window;
};

struct result {
        size_t out; /* STDOUT + STDERR payload bytes */
        char text[256];
        int exited; /* EXIT seen */
        uint32_t kind, value;
        int32_t error; /* errno of an ERROR, 0 if none */
};

static struct peer peer;

static void send_frame(uint32_t session, uint8_t type, const void *p, size_t len) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        int n = vmsilo_proto_encode_data(frame, sizeof(frame), session, type, p, len);

        REQUIRE(n > 0 && write(peer.fd, frame, (size_t) n) == n);
}

static void send_u32(uint32_t session, uint8_t type, uint32_t v) {
        uint8_t le[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16),
                          (uint8_t) (v >> 24) };

        send_frame(session, type, le, 4);
}

/* The next frame within ms: 1, or 0 on a timeout. */
static int next_frame(int ms, struct vmsilo_proto_hdr *h, const uint8_t **p) {
        for (;;) {
                struct pollfd pfd = { .fd = peer.fd, .events = POLLIN };
                int r = framer_next(&peer.in, h, p);

                if (r != 0)
                        return r;
                if (poll(&pfd, 1, ms) <= 0)
                        return 0;
                REQUIRE(framer_read(&peer.in, peer.fd) > 0);
        }
}

/* Collects session's frames until its EXIT or ERROR or ms of silence; credits output when
 * credit is set (protocol 2). */
static void collect(uint32_t session, int ms, int credit, struct result *res) {
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        while (next_frame(ms, &h, &p) > 0) {
                if (h.session != session)
                        continue;
                if (h.type == VMSILO_MSG_STDOUT || h.type == VMSILO_MSG_STDERR) {
                        if (res->out + h.len < sizeof(res->text))
                                memcpy(res->text + res->out, p, h.len);
                        res->out += h.len;
                        if (credit && h.len > 0)
                                send_u32(session, VMSILO_MSG_CREDIT, h.len);
                } else if (h.type == VMSILO_MSG_EXIT) {
                        struct vmsilo_proto_exit e;

                        REQUIRE(vmsilo_proto_decode_exit(p, h.len, &e) == 0);
                        res->exited = 1;
                        res->kind = e.kind;
                        res->value = e.value;
                        return;
                } else if (h.type == VMSILO_MSG_ERROR) {
                        struct vmsilo_proto_error e;

                        REQUIRE(vmsilo_proto_decode_error(p, h.len, &e) == 0);
                        res->error = e.error;
                        return;
                }
        }
}

/* Sends STDIN to session within the credit, picking up CREDIT frames, until none comes
 * for ms (the command stopped reading). Returns how much was sent. */
static size_t fill_stdin(uint32_t session, uint32_t credit, int ms) {
        static uint8_t chunk[65536];
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        size_t sent = 0;

        for (;;) {
                uint32_t more;

                while (credit > 0) {
                        uint32_t n = credit < sizeof(chunk) ? credit : sizeof(chunk);

                        send_frame(session, VMSILO_MSG_STDIN, chunk, n);
                        credit -= n;
                        sent += n;
                }
                if (next_frame(ms, &h, &p) <= 0)
                        return sent;
                if (h.session == session && h.type == VMSILO_MSG_CREDIT &&
                    vmsilo_proto_decode_u32(p, h.len, &more) == 0)
                        credit += more;
        }
}

/* Starts the agent on a socketpair and says HELLO with version and window. */
static void agent_up(uint32_t version, uint32_t window) {
        struct vmsilo_proto_hello h = { .version = version,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .window = window };
        struct vmsilo_proto_hdr hdr;
        const uint8_t *p;
        uint8_t frame[64];
        int sv[2], n;

        memset(&peer, 0, sizeof(peer));
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        peer.agent = fork();
        REQUIRE(peer.agent >= 0);
        if (peer.agent == 0) {
                struct agent_options o = { .root = "/", .fd = sv[1] };

                close(sv[0]);
                _exit(agent_run(&o));
        }
        close(sv[1]);
        peer.fd = sv[0];
        n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);
        REQUIRE(n > 0 && write(peer.fd, frame, (size_t) n) == n);
        /* its unsolicited HELLO, then the answer to ours */
        for (int i = 0; i < 2; i++) {
                struct vmsilo_proto_hello g;

                REQUIRE(next_frame(5000, &hdr, &p) == 1 && hdr.type == VMSILO_MSG_HELLO);
                REQUIRE(vmsilo_proto_decode_hello(p, hdr.len, &g) == 0);
                ASSERT_INT_EQ(g.version, VMSILO_PROTO_VERSION);
                peer.guest_window = g.window;
        }
}

static void agent_down(void) {
        int status;

        close(peer.fd);
        REQUIRE(waitpid(peer.agent, &status, 0) == peer.agent);
        ASSERT_INT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}

static void start(uint32_t session, const char *cmd) {
        const char *argv[] = { "/bin/sh", "-c", cmd };
        struct vmsilo_proto_start st = { .cwd = "/", .user = "", .argc = 3, .argv = argv };
        static uint8_t frame[4096];
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        int n = vmsilo_proto_encode_start(frame, sizeof(frame), session, &st);

        REQUIRE(n > 0 && write(peer.fd, frame, (size_t) n) == n);
        do
                REQUIRE(next_frame(5000, &h, &p) == 1);
        while (h.session != session);
        ASSERT_INT_EQ(h.type, VMSILO_MSG_STARTED);
}

static void test_agent_v2_output_waits_for_credit(void) {
        struct result r = {};

        agent_up(2, 4096);
        ASSERT_INT_EQ(peer.guest_window, VMSILO_PROTO_WINDOW);
        start(1, "head -c 100000 /dev/zero");
        collect(1, 700, 0, &r);
        ASSERT_INT_EQ(r.out, 4096); /* exactly the window, then it waits */
        ASSERT_INT_EQ(r.exited, 0);
        send_u32(1, VMSILO_MSG_CREDIT, 4096);
        collect(1, 700, 0, &r);
        ASSERT_INT_EQ(r.out, 8192);
        send_u32(1, VMSILO_MSG_CREDIT, 1000000);
        collect(1, 5000, 0, &r);
        ASSERT_INT_EQ(r.out, 100000);
        ASSERT_INT_EQ(r.exited, 1);
        ASSERT_INT_EQ(r.value, 0);
        agent_down();
}

static void test_agent_v1_host_gets_everything(void) {
        struct result r = {};

        agent_up(1, 0);
        start(1, "head -c 100000 /dev/zero");
        collect(1, 5000, 0, &r); /* no credit at all */
        ASSERT_INT_EQ(r.out, 100000);
        ASSERT_INT_EQ(r.exited, 1);
        agent_down();
}

static void test_agent_v2_stuck_stdin_does_not_stop_the_channel(void) {
        struct result r1 = {}, r2 = {};
        size_t sent;

        agent_up(2, VMSILO_PROTO_WINDOW);
        start(1, "sleep 30"); /* never reads its stdin */
        sent = fill_stdin(1, peer.guest_window, 500);
        /* the pipe took some, the window the rest: no more */
        CU_ASSERT(sent >= VMSILO_PROTO_WINDOW && sent <= VMSILO_PROTO_WINDOW + (1u << 20));
        /* the whole window is taken; another session is served all the same */
        start(2, "echo hi; exit 3");
        collect(2, 5000, 1, &r2);
        ASSERT_STREQ(r2.text, "hi\n");
        ASSERT_INT_EQ(r2.exited, 1);
        ASSERT_INT_EQ(r2.value, 3);
        /* a byte beyond the window is refused, not queued */
        send_frame(1, VMSILO_MSG_STDIN, "x", 1);
        collect(1, 2000, 1, &r1);
        ASSERT_INT_EQ(r1.error, EPROTO);
        send_u32(1, VMSILO_MSG_SIGNAL, SIGKILL);
        memset(&r1, 0, sizeof(r1));
        collect(1, 5000, 1, &r1);
        ASSERT_INT_EQ(r1.exited, 1);
        ASSERT_INT_EQ(r1.kind, VMSILO_EXIT_SIGNAL);
        ASSERT_INT_EQ(r1.value, SIGKILL);
        agent_down();
}

static void test_agent_v2_stdin_credit_comes_back(void) {
        static uint8_t chunk[32768];
        uint32_t credit, total = 0, want = 1000000;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;
        struct result r = {};

        agent_up(2, VMSILO_PROTO_WINDOW);
        credit = peer.guest_window;
        start(1, "wc -c");
        while (total < want) {
                uint32_t n = want - total < sizeof(chunk) ? want - total : sizeof(chunk);

                if (n > credit)
                        n = credit;
                if (n > 0) {
                        send_frame(1, VMSILO_MSG_STDIN, chunk, n);
                        credit -= n;
                        total += n;
                        continue;
                }
                /* out of credit: it comes back as the command reads */
                REQUIRE(next_frame(5000, &h, &p) == 1);
                if (h.type == VMSILO_MSG_CREDIT) {
                        uint32_t more;

                        REQUIRE(vmsilo_proto_decode_u32(p, h.len, &more) == 0);
                        credit += more;
                }
        }
        send_frame(1, VMSILO_MSG_STDIN, NULL, 0); /* EOF */
        collect(1, 5000, 1, &r);
        ASSERT_STREQ(r.text, "1000000\n");
        ASSERT_INT_EQ(r.exited, 1);
        agent_down();
}

/* FNV-1a over a stream, continued across calls */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ull;
        return h;
}

/* What a command prints on this machine: its hash and length. */
static void local_output(const char *cmd, uint64_t *ret_hash, size_t *ret_len) {
        uint8_t buf[65536];
        FILE *f = popen(cmd, "r");
        size_t n;

        REQUIRE(f != NULL);
        *ret_hash = 0xcbf29ce484222325ull;
        *ret_len = 0;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
                *ret_hash = fnv(*ret_hash, buf, n);
                *ret_len += n;
        }
        pclose(f);
}

/* Large output goes by splice() through the stage pipe: two sessions at once, stdout and
 * stderr, arrive whole, in order, each stream's bytes exactly, and EXIT only after them. */
static void test_agent_v2_large_output_arrives_whole(void) {
        const char *cmd = "seq 1 150000; seq 1 20000 >&2; seq 150001 300000";
        uint64_t want_hash, hash[3][2];
        size_t want_len, len[3][2] = { { 0 } };
        int exited[3] = { 0 };
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        local_output("seq 1 150000; seq 150001 300000", &want_hash, &want_len);
        agent_up(2, VMSILO_PROTO_WINDOW);
        start(1, cmd);
        start(2, cmd);
        for (int s = 1; s <= 2; s++)
                hash[s][0] = hash[s][1] = 0xcbf29ce484222325ull;
        while (!exited[1] || !exited[2]) {
                int err;

                REQUIRE(next_frame(10000, &h, &p) == 1);
                REQUIRE(h.session == 1 || h.session == 2);
                CU_ASSERT(!exited[h.session]);
                if (h.type == VMSILO_MSG_EXIT) {
                        exited[h.session] = 1;
                        continue;
                }
                if (h.type != VMSILO_MSG_STDOUT && h.type != VMSILO_MSG_STDERR)
                        continue;
                err = h.type == VMSILO_MSG_STDERR;
                hash[h.session][err] = fnv(hash[h.session][err], p, h.len);
                len[h.session][err] += h.len;
                if (h.len > 0)
                        send_u32(h.session, VMSILO_MSG_CREDIT, h.len);
        }
        for (int s = 1; s <= 2; s++) {
                ASSERT_INT_EQ(len[s][0], want_len);
                CU_ASSERT(hash[s][0] == want_hash);
                ASSERT_INT_EQ(len[s][1], 108894); /* seq 1 20000 */
        }
        agent_down();
}

/* POWEROFF belongs to session 0 (a real one would power this test machine off: not sent);
 * on a session it is an ERROR, and the agent carries on. */
static void test_agent_poweroff_only_on_session_0(void) {
        struct result res = { 0 };

        agent_up(2, VMSILO_PROTO_WINDOW);
        send_frame(7, VMSILO_MSG_POWEROFF, NULL, 0);
        collect(7, 5000, 0, &res);
        ASSERT_INT_EQ(res.error, EINVAL);
        agent_down();
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_agent_v2_output_waits_for_credit),
                TEST(test_agent_v1_host_gets_everything),
                TEST(test_agent_v2_stuck_stdin_does_not_stop_the_channel),
                TEST(test_agent_v2_stdin_credit_comes_back),
                TEST(test_agent_v2_large_output_arrives_whole),
                TEST(test_agent_poweroff_only_on_session_0),
        };

        signal(SIGPIPE, SIG_IGN);
        return RUN_SUITE("agent", tests);
}
