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
        /* Output frames whose payload moves from a command's pipe to the channel by
         * splice(), not through the agent's memory. Frames (header, then payload) gather in
         * the stage pipe, and one splice() hands all of it to the channel: one virtio buffer
         * and one notification for many frames. The last frame's payload may still be in
         * the command's pipe (src_left bytes of src_fd). Order on the wire: head (a copy,
         * when splice() failed), the stage, then out. The stage always goes to a port whole:
         * a virtio-console port's splice_write mis-sizes its descriptor list when it takes
         * only part of a pipe (Linux 6.1), and a command's pipe may grow meanwhile. */
        struct buf head;
        int stage[2]; /* read and write end, -1 until the first spliced frame */
        uint32_t stage_bytes;
        int src_fd;
        uint32_t src_left;
        int no_splice; /* splice() to this channel failed once: copy */
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
/* A spliced frame is still being written: nothing else may go out before it. */
int conn_splicing(const struct conn *c);
void conn_down(struct agent *a, struct conn *c);
void session_read_output(struct agent *a, struct session *s, int is_err);
/* Its output can go to the channel by splice() (pipes, not a pty). */
int session_may_splice(const struct session *s);
/* Protocol 1: one of the connection's sessions has too much stdin pending to read more. */
int conn_stdin_full(struct agent *a, struct conn *c);
/* Writes a session's pending stdin to the command and credits the host (protocol 2). */
void session_pump_stdin(struct session *s);
void agent_accept(struct agent *a);
void agent_reap(struct agent *a);
void agent_sweep(struct agent *a);
/* Runs until a->quit; returns 0 or a negative errno. */
int agent_loop(struct agent *a);

#endif
