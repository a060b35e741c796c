/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the supervisor's agent multiplexer (core/run/agentmux.c) as a whole, driven
 * from both sides at once over real sockets: a hostile guest on the agent port and three
 * hostile `run` clients on agent.sock, their bytes interleaved as the input says. No input
 * may crash it, leak (LSan), or make it hold more memory than a small multiple of what was
 * sent to it plus fixed buffers.
 *
 * Input: byte 0 chooses the guest's opening (HELLO version 2, version 1, or none); then
 * records [tag][len][len bytes]. tag & 7: 0 guest sends, 1-3 client 0-2 sends, 4 the guest
 * reads, 5 every client reads, 6 client (tag >> 3) % 3 hangs up and a new one connects,
 * 7 nothing. With tag & 0x80 the bytes are [type][session][payload...] and get a valid
 * header, so that the fuzzer reaches deep states quickly. The mux runs after each record.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/proto.h"
#include "run/agentmux.h"
#include "util/log.h"
#include "util/socket-util.h"

#define CLIENTS 3

static char guest_path[128], client_path[128];

static void setup_once(void) {
        static int done;
        static char dir[] = "/tmp/vmsilo-fuzz-mux-XXXXXX";
        int devnull;

        if (done)
                return;
        done = 1;
        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(dir))
                abort();
        snprintf(guest_path, sizeof(guest_path), "%s/guest.sock", dir);
        snprintf(client_path, sizeof(client_path), "%s/agent.sock", dir);
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0)
                log_set_fd(devnull); /* the drop lines are formatted, not shown */
}

static void pump(struct agent_mux *m) {
        for (int i = 0; i < 3; i++) {
                struct pollfd fds[64];
                int n = agent_mux_fill_pollfds(m, fds, 64);

                if (poll(fds, (nfds_t) n, 0) <= 0)
                        return;
                agent_mux_dispatch(m, fds, n);
                agent_mux_try_connect(m);
        }
}

static void drain(int fd) {
        static uint8_t sink[65536];

        if (fd >= 0)
                while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
                        ;
}

static void send_some(int fd, const uint8_t *p, size_t n) {
        if (fd >= 0)
                (void) send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Sends data as is, or (structured) as one well-formed frame. */
static void send_record(int fd, uint8_t tag, const uint8_t *data, size_t n) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        int k;

        if (!(tag & 0x80) || n < 2) {
                send_some(fd, data, n);
                return;
        }
        k = vmsilo_proto_encode_data(frame, sizeof(frame), data[1] % 20, data[0], data + 2, n - 2);
        if (k > 0)
                send_some(fd, frame, (size_t) k);
}

static void guest_opening(int g, uint8_t how) {
        uint8_t frame[64];
        struct vmsilo_proto_hello h = { .version = how % 3 == 0 ? 2 : 1,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .window = VMSILO_PROTO_WINDOW };
        int n;

        if (how % 3 == 2)
                return;
        n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);
        if (n > 0)
                send_some(g, frame, (size_t) n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int listen_fd, g = -1, clients[CLIENTS];
        struct agent_mux *m;
        size_t off = 1;

        if (size < 1)
                return 0;
        setup_once();
        listen_fd = unix_listen(guest_path);
        if (listen_fd < 0)
                abort();
        m = agent_mux_new(guest_path, client_path);
        if (!m)
                abort();
        agent_mux_try_connect(m);
        g = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        for (int c = 0; c < CLIENTS; c++)
                clients[c] = unix_connect(client_path, SOCK_NONBLOCK);
        guest_opening(g, data[0]);
        pump(m);
        while (off + 2 <= size) {
                uint8_t tag = data[off], len = data[off + 1];
                const uint8_t *p = data + off + 2;
                size_t n = len <= size - off - 2 ? len : size - off - 2;
                int c = (tag >> 3) % CLIENTS;

                off += 2 + n;
                switch (tag & 7) {
                case 0:
                        send_record(g, tag, p, n);
                        break;
                case 1:
                case 2:
                case 3:
                        send_record(clients[(tag & 7) - 1], tag, p, n);
                        break;
                case 4:
                        drain(g);
                        break;
                case 5:
                        for (int i = 0; i < CLIENTS; i++)
                                drain(clients[i]);
                        break;
                case 6:
                        safe_close(clients[c]);
                        clients[c] = unix_connect(client_path, SOCK_NONBLOCK);
                        break;
                }
                pump(m);
                /* bounded: fixed buffers plus a small multiple of what was sent */
                if (agent_mux_memory(m) > (4u << 20) + 16 * size)
                        __builtin_trap();
        }
        agent_mux_free(m);
        safe_close(g);
        for (int c = 0; c < CLIENTS; c++)
                safe_close(clients[c]);
        safe_close(listen_fd);
        return 0;
}
