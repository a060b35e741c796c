/* PID 1 without vmsilo.cmd: starts the agent and the console shell (restarting them),
 * reaps zombies, and powers off on the power button or a termination signal. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "power.h"
#include "../proto/proto.h"
#include "util.h"

#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 16000
#define VSOCK_DRIVER "/sys/bus/virtio/drivers/vmw_vsock_virtio_transport"

/* A supervised child: restarted after it exits, with a growing delay. */
struct child {
        pid_t pid;
        long long started;
        long long next_start; /* 0: start when there is something to start */
        int delay;
};

struct service {
        const struct config *cfg;
        const char *root;
        int sigfd;
        int uevent_fd;
        struct buttons buttons;
        struct child agent;
        struct child shell;
};

static int find_agent_port(char *dev, size_t size) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        int r = -ENODEV;

        if (!d)
                return -ENODEV;
        while (r < 0 && (de = readdir(d))) {
                char path[512], name[128];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                if (read_small_file(path, name, sizeof(name)) < 0 ||
                    strcmp(name, VMSILO_PROTO_PORT_NAME) != 0)
                        continue;
                snprintf(dev, size, "/dev/%s", de->d_name);
                r = access(dev, F_OK) == 0 ? 0 : -ENODEV;
        }
        closedir(d);
        return r;
}

static int have_vsock_device(void) {
        DIR *d = opendir(VSOCK_DRIVER);
        struct dirent *de;
        int found = 0;

        if (!d)
                return 0;
        while (!found && (de = readdir(d)))
                found = strncmp(de->d_name, "virtio", 6) == 0;
        closedir(d);
        return found;
}

static pid_t start_agent(struct service *s) {
        char dev[300];
        char *argv[12] = { "vmsilo-agent", "--root", (char *) s->root };
        int n = 3, port = find_agent_port(dev, sizeof(dev)) == 0;
        int vsock = have_vsock_device();
        pid_t pid;

        if (!port && !vsock)
                return 0;
        if (port) {
                argv[n++] = "--port";
                argv[n++] = dev;
        }
        if (vsock)
                argv[n++] = "--vsock";
        if (s->cfg->debug)
                argv[n++] = "--debug";
        if (s->cfg->agent_version == 1) {
                argv[n++] = "--max-version";
                argv[n++] = "1";
        }
        argv[n] = NULL;
        pid = fork();
        if (pid == 0) {
                reset_signals();
                execv("/proc/self/exe", argv);
                log_msg("failed to execute the agent: %m");
                _exit(127);
        }
        if (pid < 0)
                return -errno;
        log_dbg("agent started as pid %d on '%s'%s", (int) pid, port ? dev : "vsock",
                port && vsock ? " and vsock" : "");
        return pid;
}

static pid_t start_shell(struct service *s) {
        char *argv[] = { "/bin/sh", NULL };

        if (!s->cfg->console_shell)
                return 0;
        return spawn_on_console(s->root, argv);
}

static void supervise(struct service *s, struct child *c, pid_t (*start)(struct service *)) {
        pid_t pid;

        if (c->pid > 0 || now_ms() < c->next_start)
                return;
        pid = start(s);
        if (pid > 0) {
                c->pid = pid;
                c->started = now_ms();
        }
        c->next_start = pid < 0 ? now_ms() + RESTART_MIN_MS : 0;
}

static void child_exited(struct child *c) {
        c->pid = 0;
        /* one that ran for a while starts over with the short delay */
        if (now_ms() - c->started > RESTART_MAX_MS)
                c->delay = 0;
        c->delay = c->delay ? c->delay * 2 : RESTART_MIN_MS;
        if (c->delay > RESTART_MAX_MS)
                c->delay = RESTART_MAX_MS;
        c->next_start = now_ms() + c->delay;
}

static void reap(struct service *s) {
        pid_t pid;

        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
                if (pid == s->agent.pid)
                        child_exited(&s->agent);
                else if (pid == s->shell.pid)
                        child_exited(&s->shell);
        }
}

/* Interactive shells ignore SIGTERM: hang up the console shell's session first. */
static __attribute__((noreturn)) void power_off(struct service *s) {
        if (s->shell.pid > 0)
                kill(-s->shell.pid, SIGHUP);
        system_shutdown(SHUTDOWN_ANNOUNCE, 0);
}

static void handle_signals(struct service *s) {
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                        reap(s);
                else if (si.ssi_signo != SIGHUP)
                        power_off(s);
        }
}

static void drain_uevents(struct service *s) {
        char buf[8192];

        while (recv(s->uevent_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
                ;
        buttons_scan(&s->buttons);
}

static int next_timeout(const struct service *s) {
        const struct child *c[] = { &s->agent, &s->shell };
        long long now = now_ms(), t = -1;

        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                if (c[i]->pid > 0 || c[i]->next_start == 0)
                        continue;
                if (t < 0 || c[i]->next_start - now < t)
                        t = c[i]->next_start > now ? c[i]->next_start - now : 0;
        }
        return (int) t;
}

static void service_poll(struct service *s) {
        struct pollfd pfd[2 + POWER_MAX_BUTTONS];
        int n = 0;

        pfd[n++] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = s->uevent_fd, .events = POLLIN };
        for (int i = 0; i < s->buttons.n; i++)
                pfd[n++] = (struct pollfd){ .fd = s->buttons.fds[i], .events = POLLIN };
        if (poll(pfd, (nfds_t) n, next_timeout(s)) <= 0)
                return;
        if (pfd[0].revents)
                handle_signals(s);
        if (pfd[1].revents)
                drain_uevents(s);
        for (int i = 2; i < n; i++) {
                if (pfd[i].revents && buttons_pressed(pfd[i].fd)) {
                        log_dbg("power button pressed");
                        power_off(s);
                }
        }
}

void service_run(const struct config *cfg, const char *root, int sigfd, int uevent_fd) {
        struct service s = {
                .cfg = cfg,
                .root = root,
                .sigfd = sigfd,
                .uevent_fd = uevent_fd,
        };

        buttons_scan(&s.buttons);
        if (s.buttons.n == 0)
                log_dbg("no power button found");
        for (;;) {
                supervise(&s, &s.agent, start_agent);
                supervise(&s, &s.shell, start_shell);
                service_poll(&s);
        }
}
