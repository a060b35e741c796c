/* Agent internals shared by agent.c (protocol) and agent-loop.c (the poll loop). */
#ifndef VMSILO_GUEST_AGENT_LOOP_H
#define VMSILO_GUEST_AGENT_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/buf.h"
#include "../proto/framer.h"
#include "../proto/proto.h"

#define PORT_RETRY_MS 200
/* Back-pressure: stop reading command output while this much waits for the host, and
 * (protocol 1 only: version 2 bounds stdin by its credit window) stop reading the host
 * while one session has this much stdin pending. */
#define OUT_HIGH_WATER (1024 * 1024)
#define IN_HIGH_WATER (1024 * 1024)

enum conn_kind {
        CONN_PORT,  /* virtio-console port: survives host disconnects */
        CONN_STREAM /* vsock or inherited fd: closed at EOF */
};

struct conn {
        struct conn *next;
        int fd;
        int kind;
        int up; /* a host is connected */
        int dead;
        uint32_t version;     /* 1 until the host's HELLO says more */
        uint32_t peer_window; /* version 2: the host's initial credit per session */
        struct buf out;
        struct framer in;
};

struct session;

struct agent {
        const char *root;
        int sigfd;
        int listen_fd;
        int exit_on_close;
        int quit;
        long long next_port_check;
        struct conn *conns;
        struct session *sessions;
};

struct conn *conn_add(struct agent *a, int fd, int kind, int up);
void conn_send_hello(struct conn *c);
void conn_read(struct agent *a, struct conn *c);
void conn_flush(struct agent *a, struct conn *c);
void conn_down(struct agent *a, struct conn *c);
void session_read_output(struct agent *a, struct session *s, int is_err);
/* Writes a session's pending stdin to the command and credits the host (protocol 2). */
void session_pump_stdin(struct session *s);
void agent_accept(struct agent *a);
void agent_reap(struct agent *a);
void agent_sweep(struct agent *a);
/* Runs until a->quit; returns 0 or a negative errno. */
int agent_loop(struct agent *a);

#endif
