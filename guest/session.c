/* One command started by the agent: spawning, stdio, signals, window size. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "user.h"
#include "util.h"

/* a credit window: what one session may have in flight anyway */
#define STDIO_PIPE_SIZE (int) VMSILO_PROTO_WINDOW
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum stage { STAGE_TTY, STAGE_CHROOT, STAGE_USER, STAGE_CWD, STAGE_EXEC };

struct child_error {
        int stage;
        int error;
};

/* The child's side of the stdio plumbing, and the parent's. */
struct plumbing {
        int child[3];
        int parent[3];
        char pts[64];
};

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void plumbing_close(struct plumbing *p) {
        for (int i = 0; i < 3; i++) {
                close_fd(&p->child[i]);
                close_fd(&p->parent[i]);
        }
}

static int open_pty(struct plumbing *p, const struct vmsilo_proto_start *st) {
        struct winsize ws = { .ws_row = st->rows, .ws_col = st->cols };
        int m;

        m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (m < 0)
                return -errno;
        if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, p->pts, sizeof(p->pts)) != 0) {
                int r = -errno;

                close(m);
                return r;
        }
        if (ws.ws_row > 0 && ws.ws_col > 0)
                (void) ioctl(m, TIOCSWINSZ, &ws);
        p->parent[1] = m;
        p->parent[0] = fcntl(m, F_DUPFD_CLOEXEC, 3);
        return p->parent[0] < 0 ? -errno : 0;
}

static int open_pipes(struct plumbing *p) {
        for (int i = 0; i < 3; i++) {
                int fds[2];

                if (pipe2(fds, O_CLOEXEC) < 0)
                        return -errno;
                /* stdin: the child reads fds[0]; stdout/stderr: the child writes fds[1] */
                p->child[i] = i == 0 ? fds[0] : fds[1];
                p->parent[i] = i == 0 ? fds[1] : fds[0];
                if (fcntl(p->parent[i], F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
                /* larger than the default 64 KiB: fewer switches between the command and
                 * the agent, which cost most under emulation; best effort */
                (void) fcntl(fds[0], F_SETPIPE_SZ, STDIO_PIPE_SIZE);
        }
        return 0;
}

static int setup_stdio(struct plumbing *p) {
        if (p->pts[0]) {
                int fd = open(p->pts, O_RDWR);

                if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
                        return -1;
                for (int i = 0; i < 3; i++)
                        if (dup2(fd, i) < 0)
                                return -1;
                if (fd > 2)
                        close(fd);
                return 0;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(p->child[i], i) < 0)
                        return -1;
        return 0;
}

/* The command's environment, built by the agent before the child starts: a vfork()ed child
 * shares the agent's memory and must not allocate. */
struct env {
        char **v; /* NULL-terminated */
        size_t n;
        size_t cap;
};

static void env_free(struct env *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i]);
        free(e->v);
        *e = (struct env){ 0 };
}

/* The index of NAME (name_len bytes) in e, or e->n. */
static size_t env_find(const struct env *e, const char *name, size_t name_len) {
        for (size_t i = 0; i < e->n; i++)
                if (strncmp(e->v[i], name, name_len) == 0 && e->v[i][name_len] == '=')
                        return i;
        return e->n;
}

static void env_unset(struct env *e, const char *name, size_t name_len) {
        size_t i = env_find(e, name, name_len);

        if (i == e->n)
                return;
        free(e->v[i]);
        memmove(e->v + i, e->v + i + 1, (e->n - i) * sizeof(char *)); /* and the NULL */
        e->n--;
}

static int env_set(struct env *e, const char *name, size_t name_len, const char *value) {
        size_t i = env_find(e, name, name_len);
        char *entry;

        if (asprintf(&entry, "%.*s=%s", (int) name_len, name, value) < 0)
                return -ENOMEM;
        if (i < e->n) {
                free(e->v[i]);
                e->v[i] = entry;
                return 0;
        }
        if (e->n + 2 > e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 16;
                char **v = realloc(e->v, cap * sizeof(char *));

                if (!v) {
                        free(entry);
                        return -ENOMEM;
                }
                e->v = v;
                e->cap = cap;
        }
        e->v[e->n++] = entry;
        e->v[e->n] = NULL;
        return 0;
}

/* Sets (KEY=VALUE) or unsets (KEY) one variable; a name of 256 bytes or more, or an empty
 * one, is ignored. */
static int env_apply(struct env *e, const char *entry) {
        const char *eq = strchr(entry, '=');

        if (!eq) {
                env_unset(e, entry, strlen(entry));
                return 0;
        }
        if ((size_t) (eq - entry) >= 256 || eq == entry)
                return 0;
        return env_set(e, entry, (size_t) (eq - entry), eq + 1);
}

#define ENV_SET(e, name, value) env_set(e, name, strlen(name), value)

static int build_env(struct env *e, const struct vmsilo_proto_start *st,
                     const struct user_info *ui) {
        int r = ENV_SET(e, "PATH", DEFAULT_PATH);

        if (r == 0)
                r = ENV_SET(e, "HOME", ui->home);
        if (r == 0)
                r = ENV_SET(e, "USER", ui->name);
        if (r == 0)
                r = ENV_SET(e, "LOGNAME", ui->name);
        if (r == 0)
                r = ENV_SET(e, "SHELL", ui->shell);
        if (r == 0 && (st->flags & VMSILO_START_PTY))
                r = ENV_SET(e, "TERM", "linux");
        for (uint32_t i = 0; r == 0 && i < st->envc; i++)
                r = env_apply(e, st->env[i]);
        return r;
}

/* Runs `path` with /bin/sh, as execvp() does for a file that is not an executable format. */
static void exec_script(const struct vmsilo_proto_start *st, const char *path, char *const *envp) {
        const char *sh_argv[st->argc + 2];

        sh_argv[0] = "sh";
        sh_argv[1] = path;
        for (uint32_t i = 1; i <= st->argc; i++)
                sh_argv[i + 1] = st->argv[i];
        execve("/bin/sh", (char *const *) sh_argv, envp);
}

/* execvp() with the command's own PATH, without allocating (a vfork()ed child). A file
 * that is not an executable format runs with /bin/sh, as execvp() does. */
static void exec_command(const struct vmsilo_proto_start *st, char *const *envp) {
        char *const *argv = (char *const *) st->argv;
        const char *file = st->argv[0], *path = DEFAULT_PATH;
        size_t file_len = strlen(file);
        int error = ENOENT;

        for (char *const *v = envp; *v; v++)
                if (strncmp(*v, "PATH=", 5) == 0)
                        path = *v + 5;
        if (strchr(file, '/')) {
                execve(file, argv, envp);
                if (errno == ENOEXEC)
                        exec_script(st, file, envp);
                error = errno;
        }
        for (const char *dir = path; !strchr(file, '/') && file_len > 0;) {
                const char *end = strchrnul(dir, ':');
                size_t dir_len = end - dir;
                char buf[4096];

                if (dir_len + file_len + 2 <= sizeof(buf)) {
                        if (dir_len == 0) /* an empty entry is the working directory */
                                buf[dir_len++] = '.';
                        else
                                memcpy(buf, dir, dir_len);
                        buf[dir_len] = '/';
                        memcpy(buf + dir_len + 1, file, file_len + 1);
                        execve(buf, argv, envp);
                        if (errno == ENOEXEC)
                                exec_script(st, buf, envp);
                        if (errno == EACCES)
                                error = EACCES;
                        else if (errno != ENOENT && errno != ENOTDIR)
                                error = error == EACCES ? EACCES : errno;
                }
                if (!*end)
                        break;
                dir = end + 1;
        }
        errno = error;
}

static int child_setup(struct plumbing *p, const struct vmsilo_proto_start *st, const char *root,
                       const struct user_info *ui, char *const *envp) {
        if (setup_stdio(p) < 0)
                return STAGE_TTY;
        if (strcmp(root, "/") != 0 && (chroot(root) < 0 || chdir("/") < 0))
                return STAGE_CHROOT;
        if (setgroups((size_t) ui->n_groups, ui->groups) < 0 || setgid(ui->gid) < 0 ||
            setuid(ui->uid) < 0)
                return STAGE_USER;
        if (st->cwd[0]) {
                if (chdir(st->cwd) < 0)
                        return STAGE_CWD;
        } else if (chdir(ui->home) < 0 && chdir("/") < 0) {
                return STAGE_CWD;
        }
        exec_command(st, envp);
        return STAGE_EXEC;
}

/* The signals the agent ignores (SIGPIPE, and what it inherited ignored): the child sets
 * them back to the default, one system call each rather than one per signal, which under
 * emulation cost about a millisecond per command. The agent sets no disposition to SIG_IGN
 * after it starts its first command. */
static sigset_t ignored_signals;
static int ignored_known;

static void find_ignored_signals(void) {
        if (ignored_known)
                return;
        sigemptyset(&ignored_signals);
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;

                if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        sigaddset(&ignored_signals, sig);
        }
        ignored_known = 1;
}

/* Runs in a vfork()ed child: system calls only, nothing that writes the agent's memory
 * beyond its own stack. */
static __attribute__((noreturn)) void child_run(struct plumbing *p, int errfd,
                                                const struct vmsilo_proto_start *st,
                                                const char *root, const struct user_info *ui,
                                                char *const *envp) {
        struct child_error ce;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* handlers do not survive exec; what the agent ignores would */
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&ignored_signals, sig) == 1)
                        signal(sig, SIG_DFL);
        setsid();
        ce.stage = child_setup(p, st, root, ui, envp);
        ce.error = errno;
        (void) write_all(errfd, &ce, sizeof(ce));
        _exit(127);
}

static void format_error(char *err, size_t size, const struct child_error *ce,
                         const struct vmsilo_proto_start *st, const char *root,
                         const struct user_info *ui) {
        const char *e = strerror(ce->error);

        switch (ce->stage) {
        case STAGE_TTY:
                snprintf(err, size, "failed to set up the terminal: %s", e);
                break;
        case STAGE_CHROOT:
                snprintf(err, size, "failed to change root to '%s': %s", root, e);
                break;
        case STAGE_USER:
                snprintf(err, size, "failed to change to user '%s': %s", ui->name, e);
                break;
        case STAGE_CWD:
                snprintf(err, size, "failed to change directory to '%s': %s",
                         st->cwd[0] ? st->cwd : ui->home, e);
                break;
        default:
                snprintf(err, size, "failed to execute '%s': %s", st->argv[0], e);
        }
}

/* The child has exec'd (the error pipe is closed) or reported why it could not. */
static int wait_exec(int errfd, struct child_error *ce) {
        ssize_t n;

        do
                n = read(errfd, ce, sizeof(*ce));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t) sizeof(*ce))
                return ce->error > 0 ? -ce->error : -EIO;
        return 0;
}

/* vfork(): under emulation, copying the agent's page tables and taking its copy-on-write
 * faults afterwards cost more than the whole exec of a small command. */
static int spawn_child(struct session *s, struct plumbing *p, const struct vmsilo_proto_start *st,
                       const char *root, const struct user_info *ui, char *err, size_t err_size) {
        struct child_error ce = { 0 };
        struct env env = { 0 };
        int errp[2], r;
        pid_t pid;

        find_ignored_signals();
        r = build_env(&env, st, ui);
        if (r < 0) {
                env_free(&env);
                snprintf(err, err_size, "out of memory");
                return r;
        }
        if (pipe2(errp, O_CLOEXEC) < 0) {
                env_free(&env);
                return -errno;
        }
        pid = vfork();
        if (pid == 0)
                child_run(p, errp[1], st, root, ui, env.v);
        close(errp[1]);
        env_free(&env);
        if (pid < 0) {
                close(errp[0]);
                snprintf(err, err_size, "failed to fork: %s", strerror(errno));
                return -EAGAIN;
        }
        s->pid = pid;
        r = wait_exec(errp[0], &ce);
        close(errp[0]);
        if (r < 0)
                format_error(err, err_size, &ce, st, root, ui);
        return r;
}

int session_spawn(struct session *s, const struct vmsilo_proto_start *st, const char *root,
                  char *err, size_t err_size) {
        struct plumbing p = { .child = { -1, -1, -1 }, .parent = { -1, -1, -1 } };
        struct user_info ui;
        int r;

        r = user_lookup(root, st->user, &ui);
        if (r < 0) {
                snprintf(err, err_size, "unknown user '%s'", st->user);
                return r;
        }
        s->pty = !!(st->flags & VMSILO_START_PTY);
        r = s->pty ? open_pty(&p, st) : open_pipes(&p);
        if (r < 0) {
                snprintf(err, err_size, "failed to create the command's stdio: %s", strerror(-r));
                plumbing_close(&p);
                return r;
        }
        r = spawn_child(s, &p, st, root, &ui, err, err_size);
        for (int i = 0; i < 3; i++)
                close_fd(&p.child[i]);
        s->in_fd = p.parent[0];
        s->out_fd = p.parent[1];
        s->err_fd = p.parent[2];
        if (r < 0)
                session_close_fds(s);
        return r;
}

size_t session_write_stdin(struct session *s) {
        size_t before = buf_pending(&s->inq);
        int r;

        if (s->in_fd < 0) {
                buf_clear(&s->inq);
                return before;
        }
        r = buf_flush(&s->inq, s->in_fd);
        if (r < 0) {
                /* the reader is gone (EPIPE) or the pty hung up: drop what is left */
                buf_clear(&s->inq);
                close_fd(&s->in_fd);
                return before;
        }
        if (buf_pending(&s->inq) == 0 && s->in_eof && !s->pty)
                close_fd(&s->in_fd);
        return before - buf_pending(&s->inq);
}

void session_stdin_eof(struct session *s) {
        struct termios t;
        uint8_t c;

        if (!s->pty) {
                s->in_eof = 1;
                (void) session_write_stdin(s);
                return;
        }
        /* a terminal has no half-close: send its EOF character, as a typed ^D would */
        c = 4;
        if (s->in_fd >= 0 && tcgetattr(s->in_fd, &t) == 0)
                c = t.c_cc[VEOF];
        (void) buf_append(&s->inq, &c, 1);
        (void) session_write_stdin(s);
}

int session_signal(struct session *s, uint32_t signo) {
        if (signo == 0 || signo >= (uint32_t) NSIG)
                return -EINVAL;
        if (s->exited)
                return -ESRCH;
        if (kill(-s->pid, (int) signo) < 0 && kill(s->pid, (int) signo) < 0)
                return -errno;
        return 0;
}

int session_resize(struct session *s, uint16_t rows, uint16_t cols) {
        struct winsize ws = { .ws_row = rows, .ws_col = cols };

        if (!s->pty)
                return -ENOTTY;
        if (s->out_fd < 0)
                return 0;
        if (ioctl(s->out_fd, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}

void session_close_fds(struct session *s) {
        close_fd(&s->in_fd);
        close_fd(&s->out_fd);
        close_fd(&s->err_fd);
        buf_free(&s->inq);
}

void session_hangup(struct session *s) {
        if (!s->exited && s->pid > 0) {
                kill(-s->pid, SIGHUP);
                kill(-s->pid, SIGCONT);
        }
        session_close_fds(s);
}
