/* One command started by the agent: its process, its stdio fds, its pending stdin. */
#ifndef VMSILO_GUEST_SESSION_H
#define VMSILO_GUEST_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "../proto/buf.h"
#include "../proto/proto.h"

struct conn;

struct session {
        struct session *next;
        struct conn *conn;
        uint32_t id;
        pid_t pid;
        int in_fd;  /* stdin pipe, or a dup of the pty master; -1 once closed */
        int out_fd; /* stdout pipe or pty master; -1 at EOF */
        int err_fd; /* stderr pipe; -1 at EOF or with a pty */
        int pty;
        int in_eof; /* the host sent EOF: close in_fd once inq is written */
        int exited;
        int wstatus;
        int exit_drained; /* its output was read once right after it exited */
        int dead;         /* to be freed at the end of the loop iteration */
        struct buf inq;
        /* protocol 2 (credit windows; see docs/guest-protocol.md) */
        int v2;
        uint32_t out_credit; /* STDOUT/STDERR bytes the host still accepts */
        uint32_t in_allowed; /* STDIN bytes the host may still send */
        uint32_t in_unacked; /* STDIN bytes consumed but not yet credited back */
};

/* Starts the command described by st, chrooted into root unless root is "/". On failure
 * returns a negative errno and writes a message to err. */
int session_spawn(struct session *s, const struct vmsilo_proto_start *st, const char *root,
                  char *err, size_t err_size);
/* Writes pending stdin; closes in_fd when done after EOF or when the reader is gone.
 * Returns how many queued bytes left the queue (written, or dropped with the reader). */
size_t session_write_stdin(struct session *s);
int session_signal(struct session *s, uint32_t signo);
int session_resize(struct session *s, uint16_t rows, uint16_t cols);
/* Queues stdin EOF: closes the pipe, or sends the pty's EOF character. */
void session_stdin_eof(struct session *s);
/* Ends the session's process group (hang up) and closes every fd. */
void session_hangup(struct session *s);
void session_close_fds(struct session *s);

#endif
