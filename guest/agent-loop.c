/* The agent's poll loop: one pollfd per connection and per open command stdio fd. */
#include "agent-loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "session.h"
#include "util.h"

enum ref_kind { REF_SIGNAL, REF_LISTEN, REF_CONN, REF_OUT, REF_ERR, REF_IN };

struct ref {
        int kind;
        void *ptr;
};

struct pollset {
        struct pollfd *fds;
        struct ref *refs;
        size_t n;
        size_t cap;
};

static int pollset_add(struct pollset *ps, int fd, short events, int kind, void *ptr) {
        if (ps->n == ps->cap) {
                size_t cap = ps->cap ? ps->cap * 2 : 32;
                struct pollfd *fds = realloc(ps->fds, cap * sizeof(*fds));
                struct ref *refs;

                if (!fds)
                        return -ENOMEM;
                ps->fds = fds;
                refs = realloc(ps->refs, cap * sizeof(*refs));
                if (!refs)
                        return -ENOMEM;
                ps->refs = refs;
                ps->cap = cap;
        }
        ps->fds[ps->n] = (struct pollfd){ .fd = fd, .events = events };
        ps->refs[ps->n] = (struct ref){ .kind = kind, .ptr = ptr };
        ps->n++;
        return 0;
}

int conn_stdin_full(struct agent *a, struct conn *c) {
        for (struct session *s = a->sessions; s; s = s->next)
                if (s->conn == c && !s->dead && !s->v2 && buf_pending(&s->inq) > IN_HIGH_WATER)
                        return 1;
        return 0;
}

/* The session's output may be read now. The same for every session, spliced or not, so
 * that one that keeps the queue busy (a pty, small writes) cannot starve the others: while
 * frames wait in the queue, a spliceable session's output is copied behind them. */
static int output_room(struct session *s) {
        return s->conn->up && !conn_splicing(s->conn) &&
               buf_pending(&s->conn->out) < OUT_HIGH_WATER && (!s->v2 || s->out_credit > 0);
}

static int add_sessions(struct agent *a, struct pollset *ps) {
        int r = 0;

        for (struct session *s = a->sessions; s && r == 0; s = s->next) {
                int room = output_room(s);

                if (s->dead)
                        continue;
                if (room && s->out_fd >= 0)
                        r = pollset_add(ps, s->out_fd, POLLIN, REF_OUT, s);
                if (r == 0 && room && s->err_fd >= 0)
                        r = pollset_add(ps, s->err_fd, POLLIN, REF_ERR, s);
                if (r == 0 && s->in_fd >= 0 && buf_pending(&s->inq) > 0)
                        r = pollset_add(ps, s->in_fd, POLLOUT, REF_IN, s);
        }
        return r;
}

static int pollset_build(struct agent *a, struct pollset *ps) {
        int r;

        ps->n = 0;
        r = pollset_add(ps, a->sigfd, POLLIN, REF_SIGNAL, NULL);
        if (r == 0 && a->listen_fd >= 0)
                r = pollset_add(ps, a->listen_fd, POLLIN, REF_LISTEN, NULL);
        for (struct conn *c = a->conns; c && r == 0; c = c->next) {
                short ev = 0;

                if (c->dead || !c->up)
                        continue;
                if (!conn_stdin_full(a, c))
                        ev |= POLLIN;
                if (buf_pending(&c->out) > 0 || conn_splicing(c))
                        ev |= POLLOUT;
                r = pollset_add(ps, c->fd, ev, REF_CONN, c);
        }
        return r < 0 ? r : add_sessions(a, ps);
}

/* A port without a host reports POLLHUP at once: look again every PORT_RETRY_MS. */
static int check_ports(struct agent *a) {
        long long now = now_ms();
        int timeout = -1;

        for (struct conn *c = a->conns; c; c = c->next) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };

                if (c->dead || c->kind != CONN_PORT || c->up)
                        continue;
                if (now >= a->next_port_check) {
                        if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP)) {
                                log_dbg("host connected to the port");
                                c->up = 1;
                                conn_send_hello(c);
                                continue;
                        }
                        a->next_port_check = now + PORT_RETRY_MS;
                }
                timeout = (int) (a->next_port_check - now);
        }
        return timeout;
}

static void handle_signals(struct agent *a) {
        struct signalfd_siginfo si;

        while (read(a->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                        agent_reap(a);
                else
                        a->quit = 1;
        }
}

static void dispatch(struct agent *a, struct pollfd *p, struct ref *ref) {
        struct session *s = ref->ptr;
        struct conn *c = ref->ptr;

        if (!p->revents)
                return;
        switch (ref->kind) {
        case REF_SIGNAL:
                handle_signals(a);
                break;
        case REF_LISTEN:
                agent_accept(a);
                break;
        case REF_CONN:
                if (!c->dead && c->up && (p->revents & POLLOUT))
                        conn_flush(a, c);
                if (!c->dead && c->up && (p->revents & ~POLLOUT))
                        conn_read(a, c);
                break;
        case REF_OUT:
        case REF_ERR:
                if (!s->dead && s->conn->up)
                        session_read_output(a, s, ref->kind == REF_ERR);
                break;
        case REF_IN:
                if (!s->dead)
                        session_pump_stdin(s);
                break;
        }
}

/* A command that exited has usually closed its output: read the EOF now, not after another
 * poll, so that EXIT goes out in this round. */
static void drain_exited(struct agent *a) {
        for (struct session *s = a->sessions; s; s = s->next) {
                if (s->dead || !s->exited || s->exit_drained)
                        continue;
                s->exit_drained = 1; /* once: a background child may keep them open */
                if (s->out_fd >= 0 && output_room(s))
                        session_read_output(a, s, 0);
                if (!s->dead && s->err_fd >= 0 && output_room(s))
                        session_read_output(a, s, 1);
        }
}

int agent_loop(struct agent *a) {
        struct pollset ps = { 0 };
        int r = 0;

        while (!a->quit) {
                int timeout = check_ports(a);

                r = pollset_build(a, &ps);
                if (r < 0)
                        break;
                if (poll(ps.fds, ps.n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                for (size_t i = 0; i < ps.n; i++)
                        dispatch(a, &ps.fds[i], &ps.refs[i]);
                agent_reap(a);
                drain_exited(a);
                agent_sweep(a);
                for (struct conn *c = a->conns; c; c = c->next)
                        conn_flush(a, c);
        }
        free(ps.fds);
        free(ps.refs);
        return r;
}
