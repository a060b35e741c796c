/* SPDX-License-Identifier: MIT */
/* The per-VM client socket: group members of a VM that root runs (see clientsock.h). Each
 * accepted connection is served by a forked process of its own, so that a slow or hostile
 * client never stalls the supervisor's loop; that process holds no fd but its two sockets. */
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "plugin/vm.h"
#include "proto/framer.h"
#include "proto/proto.h"
#include "run/agent.h"
#include "run/clientsock.h"
#include "run/supervisor.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"
#include "util/state.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define MAX_SERVERS 64
#define MAX_PEER_GROUPS 256
#define REQUEST_TIMEOUT_MS 10000

enum peer_role {
        PEER_REFUSED,
        PEER_MEMBER, /* a member of vmsilo-NAME: the VM's user in the guest */
        PEER_OWNER,  /* root, or the user whose VM this is: as they ask */
};

struct client_sock {
        int listen;
        char *name, *group, *user, *agent_addr, *console;
        int allow_root;
        gid_t gid; /* of the group; (gid_t) -1 if it does not exist */
        pid_t servers[MAX_SERVERS];
};

char *client_sock_group(const char *name) {
        return strdup_printf("vmsilo-%s", name);
}

static char *socket_path(const struct vm *vm) {
        _cleanup_free_ char *base = strdup(vm->runtime_dir);
        char *slash = base ? strrchr(base, '/') : NULL;

        if (!slash)
                return NULL;
        *slash = 0;
        return strdup_printf("%s/%s.sock", base, vm->config.name);
}

/* Group and mode: members of vmsilo-NAME when it exists, else only the owner. */
static int set_access(const char *path, struct client_sock *c) {
        struct group *g = geteuid() == 0 ? getgrnam(c->group) : NULL;

        /* a user's own VM is theirs alone */
        c->gid = g ? g->gr_gid : (gid_t) -1;
        if (!g) {
                log_info("group '%s' does not exist: only %s may use '%s'", c->group,
                         geteuid() == 0 ? "root" : "you", path);
                return chmod(path, 0600) < 0 ? negative_errno() : 0;
        }
        if (chown(path, geteuid(), c->gid) < 0)
                return negative_errno();
        return chmod(path, 0660) < 0 ? negative_errno() : 0;
}

struct client_sock *client_sock_new(struct vm *vm) {
        _cleanup_free_ char *path = socket_path(vm);
        struct client_sock *c = calloc(1, sizeof(*c));
        int r;

        if (!c || !path) {
                free(c);
                return log_oom(), NULL;
        }
        c->name = strdup(vm->config.name);
        c->group = client_sock_group(vm->config.name);
        c->user = strdup(vm->config.user);
        c->agent_addr = vm_agent_address(vm->runtime_dir);
        c->console = vm_path(vm, VM_CONSOLE_SOCKET);
        c->allow_root = vm->config.allow_root_from_group;
        c->listen = -1;
        if (!c->name || !c->group || !c->user || !c->console) {
                log_oom();
                return client_sock_free(c);
        }
        (void) journal_append(vm->runtime_dir, "unlink", path, NULL, NULL);
        c->listen = unix_listen(path);
        r = c->listen < 0 ? c->listen : set_access(path, c);
        if (r < 0) {
                log_error_errno(r, "failed to set up the client socket '%s': %m", path);
                return client_sock_free(c);
        }
        return c;
}

struct client_sock *client_sock_free(struct client_sock *c) {
        if (!c)
                return NULL;
        safe_close(c->listen);
        /* agent and console servers would end at EOF anyway, unless their client does not
         * read; those waiting to report a stop ignore this */
        for (int i = 0; i < MAX_SERVERS; i++)
                if (c->servers[i] > 0)
                        (void) kill(c->servers[i], SIGTERM);
        free(c->name);
        free(c->group);
        free(c->user);
        free(c->agent_addr);
        free(c->console);
        free(c);
        return NULL;
}

int client_sock_fill_pollfds(struct client_sock *c, struct pollfd *fds, int max) {
        if (!c || max < 1)
                return 0;
        fds[0] = (struct pollfd){ .fd = c->listen, .events = POLLIN };
        return 1;
}

static int peer_in_group(int fd, gid_t peer_gid, gid_t gid) {
        gid_t groups[MAX_PEER_GROUPS];
        socklen_t len = sizeof(groups);

        if (gid == (gid_t) -1)
                return 0;
        if (peer_gid == gid)
                return 1;
        /* the groups the peer process holds (not /etc/group: a membership granted since its
         * login does not count until it logs in again, as for the socket's file mode) */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return 0;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == gid)
                        return 1;
        return 0;
}

static enum peer_role peer_role(const struct client_sock *c, int fd, struct ucred *ret) {
        socklen_t len = sizeof(*ret);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret, &len) < 0)
                return PEER_REFUSED;
        if (ret->uid == 0 || ret->uid == geteuid())
                return PEER_OWNER;
        return peer_in_group(fd, ret->gid, c->gid) ? PEER_MEMBER : PEER_REFUSED;
}

static int send_text(int fd, const char *text) {
        size_t n = strlen(text);

        while (n > 0) {
                ssize_t k = send(fd, text, n, MSG_NOSIGNAL);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EIO;
                text += k;
                n -= (size_t) k;
        }
        return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* One line, at most `size - 1` bytes, within the timeout. */
static int read_line(int fd, char *buf, size_t size) {
        uint64_t deadline = now_ms() + REQUEST_TIMEOUT_MS;
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (now_ms() >= deadline || poll(&p, 1, 100) < 0)
                        return -ETIMEDOUT;
                if (!p.revents)
                        continue;
                k = read(fd, buf + n, 1);
                if (k <= 0)
                        return -ECONNRESET;
                if (buf[n] == '\n') {
                        buf[n] = 0;
                        return 0;
                }
                n++;
        }
        return -EMSGSIZE;
}

/* The user a member's START runs as, or NULL (and `why`) when it is not allowed. */
static const char *member_user(const struct client_sock *c, const char *asked, char *why,
                               size_t size) {
        if (isempty(asked) || streq(asked, c->user) || c->allow_root)
                return isempty(asked) ? c->user : asked;
        snprintf(why, size,
                 "members of group '%s' run commands in VM '%s' as '%s' only (not '%s'); "
                 "'allow-root-from-group = yes' in its [vm] section lifts this",
                 c->group, c->name, c->user, asked);
        return NULL;
}

static int refuse_start(int fd, uint32_t session, const char *why) {
        static uint8_t frame[1024];
        struct vmsilo_proto_error e = { .error = EPERM, .msg = why, .msg_len = strlen(why) };
        int n = vmsilo_proto_encode_error(frame, sizeof(frame), session, &e);

        return n < 0 ? n : send_all(fd, frame, (size_t) n);
}

/* A member's START, with its user decided here; other frames pass as they are. */
static int forward_frame(const struct client_sock *c, enum peer_role role, int client, int agent,
                         const struct vmsilo_proto_hdr *h, const uint8_t *p) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        static const char *strv[VMSILO_PROTO_MAX_PAYLOAD + 2];
        uint8_t hdr[VMSILO_PROTO_HDR_SIZE];
        struct vmsilo_proto_start st;
        char why[512];
        int n;

        if (h->type == VMSILO_MSG_START && role == PEER_MEMBER) {
                if (vmsilo_proto_decode_start(p, h->len, &st, strv, ELEMENTSOF(strv)) < 0)
                        return -EPROTO;
                st.user = member_user(c, st.user, why, sizeof(why));
                if (!st.user)
                        return refuse_start(client, h->session, why);
                n = vmsilo_proto_encode_start(frame, sizeof(frame), h->session, &st);
                return n < 0 ? n : send_all(agent, frame, (size_t) n);
        }
        n = vmsilo_proto_encode_hdr(hdr, sizeof(hdr), h);
        if (n < 0 || send_all(agent, hdr, sizeof(hdr)) < 0)
                return -EIO;
        return send_all(agent, p, h->len);
}

/* Copies bytes from `from` to `to`; <= 0 at EOF or error. */
static ssize_t copy_bytes(int from, int to) {
        static uint8_t buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n > 0 && send_all(to, buf, (size_t) n) < 0)
                return -EIO;
        return n;
}

static void serve_stream(const struct client_sock *c, enum peer_role role, int client, int upstream,
                         int frames) {
        static struct framer in;
        struct vmsilo_proto_hdr h;
        const uint8_t *p;

        for (;;) {
                struct pollfd fds[2] = { { .fd = client, .events = POLLIN },
                                         { .fd = upstream, .events = POLLIN } };
                int r;

                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        return;
                if (fds[1].revents && copy_bytes(upstream, client) <= 0)
                        return;
                if (!fds[0].revents)
                        continue;
                if (!frames) {
                        if (copy_bytes(client, upstream) <= 0)
                                return;
                        continue;
                }
                if (framer_read(&in, client) <= 0)
                        return;
                while ((r = framer_next(&in, &h, &p)) > 0)
                        if (forward_frame(c, role, client, upstream, &h, p) < 0)
                                return;
                if (r < 0)
                        return;
        }
}

/* Waits for the supervisor (our parent) to end, i.e. for the VM to be stopped and undone. */
static void wait_parent_gone(pid_t parent) {
        while (getppid() == parent)
                sleep_ms(100);
}

static void serve(const struct client_sock *c, enum peer_role role, int fd) {
        pid_t parent = getppid();
        char req[64];
        int up = -1;

        if (read_line(fd, req, sizeof(req)) < 0)
                return;
        if (streq(req, "status")) {
                (void) send_text(fd, "ok running\n");
                return;
        }
        if (streq(req, "stop")) {
                signal(SIGTERM, SIG_IGN);
                if (kill(parent, SIGTERM) < 0 || send_text(fd, "ok stopping\n") < 0)
                        return;
                wait_parent_gone(parent);
                (void) send_text(fd, "ok stopped\n");
                return;
        }
        if (streq(req, "agent"))
                up = c->agent_addr ? agent_connect(c->agent_addr) : -ENOENT;
        else if (streq(req, "console"))
                up = unix_connect(c->console, 0);
        else {
                (void) send_text(fd, "error unknown request\n");
                return;
        }
        if (up < 0) {
                (void) send_text(fd, "error the VM does not serve this now\n");
                return;
        }
        if (send_text(fd, "ok\n") == 0)
                serve_stream(c, role, fd, up, streq(req, "agent"));
        close(up);
}

static void start_server(struct client_sock *c, int slot, int fd, enum peer_role role) {
        sigset_t none;
        pid_t pid = fork();

        if (pid != 0) {
                c->servers[slot] = pid > 0 ? pid : 0;
                return;
        }
        /* the server process: default signals, no fd of the supervisor's but the client */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        if (dup2(fd, 3) < 0)
                _exit(1);
        (void) close_range(4, ~0U, 0);
        serve(c, role, 3);
        _exit(0);
}

static void accept_client(struct client_sock *c) {
        _cleanup_close_ int fd = accept4(c->listen, NULL, NULL, SOCK_CLOEXEC);
        struct ucred peer = {};
        enum peer_role role;
        char msg[256];

        if (fd < 0)
                return;
        role = peer_role(c, fd, &peer);
        if (role == PEER_REFUSED) {
                log_notice("refused a client (uid %u): not in group '%s'", (unsigned) peer.uid,
                           c->group);
                snprintf(msg, sizeof(msg),
                         "error not allowed: VM '%s' is for root and group '%s'\n", c->name,
                         c->group);
                (void) send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
                return;
        }
        for (int i = 0; i < MAX_SERVERS; i++)
                if (c->servers[i] <= 0) {
                        start_server(c, i, fd, role);
                        return;
                }
        (void) send(fd, "error too many clients\n", 23, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void client_sock_dispatch(struct client_sock *c, const struct pollfd *fds, int n) {
        if (!c || n < 1)
                return;
        for (int i = 0; i < MAX_SERVERS; i++)
                if (c->servers[i] > 0 && waitpid(c->servers[i], NULL, WNOHANG) == c->servers[i])
                        c->servers[i] = 0;
        if (fds[0].fd == c->listen && (fds[0].revents & POLLIN))
                accept_client(c);
}

int client_sock_request(const char *path, const char *vm_name, const char *request,
                        char **ret_reply) {
        _cleanup_close_ int fd = unix_connect(path, 0);
        char line[512];
        int r;

        if (fd < 0)
                return fd;
        r = send_text(fd, request);
        if (r >= 0)
                r = send_text(fd, "\n");
        if (r >= 0)
                r = read_line(fd, line, sizeof(line));
        if (r < 0)
                return log_error_errno(r, "VM '%s': no answer from its supervisor: %m", vm_name);
        if (strncmp(line, "error not allowed", 17) == 0)
                return log_debug_errno(EACCES, "VM '%s': %s", vm_name, line);
        if (strncmp(line, "ok", 2) != 0)
                return log_error_errno(EPROTO, "VM '%s': %s", vm_name,
                                       strncmp(line, "error ", 6) == 0 ? line + 6 : line);
        if (ret_reply) {
                *ret_reply = strdup(line[2] == ' ' ? line + 3 : "");
                if (!*ret_reply)
                        return -ENOMEM;
        }
        return TAKE_FD(fd);
}
