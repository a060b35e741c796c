/* SPDX-License-Identifier: MIT */
/* A user on root's VMs: through the VM's client socket and systemd, never its runtime dir. */
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/access.h"
#include "cli/consoleclient.h"
#include "cli/exitcode.h"
#include "run/clientsock.h"
#include "util/log.h"
#include "util/process.h"

int vm_place_find(const struct settings *s, const char *name, struct vm_place *ret) {
        struct strv files = {};
        const char *base;
        struct stat st;

        *ret = (struct vm_place){ .direct = 1 };
        /* a VM whose file the caller does not own is root's (or another's): not theirs */
        if (geteuid() != 0 && confdirs_vm_files(&s->dirs, name, &files) >= 0 && files.n > 0 &&
            stat(files.items[0], &st) == 0 && st.st_uid != geteuid())
                ret->direct = 0;
        strv_done(&files);
        base = ret->direct ? s->runtime_base : s->system_runtime_base;
        ret->dir = strdup_printf("%s/%s", base, name);
        ret->sock = strdup_printf("%s/%s.sock", base, name);
        ret->group = client_sock_group(name);
        return ret->dir && ret->sock && ret->group ? 0 : -ENOMEM;
}

void vm_place_done(struct vm_place *p) {
        free(p->dir);
        free(p->sock);
        free(p->group);
        *p = (struct vm_place){};
}

/* 1 if this process holds `gid` now. */
static int holds_group(gid_t gid) {
        gid_t groups[256];
        int n = getgroups(ELEMENTSOF(groups), groups);

        if (getegid() == gid)
                return 1;
        for (int i = 0; i < n; i++)
                if (groups[i] == gid)
                        return 1;
        return 0;
}

/* 1 if the user's entry in the group database lists `gid` (they may not hold it yet). */
static int listed_in_group(const struct passwd *pw, gid_t gid) {
        gid_t groups[256];
        int n = ELEMENTSOF(groups);

        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                return 0;
        for (int i = 0; i < n; i++)
                if (groups[i] == gid)
                        return 1;
        return 0;
}

/* Says why the caller may not use the VM, and how an administrator changes that. */
static int refuse(const struct vm_place *p, const char *name, int code) {
        struct passwd *pw = getpwuid(getuid());
        struct group *g = getgrnam(p->group);
        const char *me = pw ? pw->pw_name : "USER";

        if (!g)
                log_error("not allowed: VM '%s' is root's, and group '%s', whose members may use "
                          "it, does not exist (an administrator runs 'groupadd --system %s' and "
                          "'usermod -a -G %s %s')",
                          name, p->group, p->group, p->group, me);
        else if (pw && listed_in_group(pw, g->gr_gid))
                log_error("not allowed: VM '%s' is for members of group '%s'; you were added to "
                          "it after you logged in: log in again (or run 'newgrp %s')",
                          name, p->group, p->group);
        else
                log_error("not allowed: VM '%s' is root's; only members of group '%s' may use it "
                          "(an administrator adds you: 'usermod -a -G %s %s', then log in again)",
                          name, p->group, p->group, me);
        return code;
}

static int caller_may_use(const struct vm_place *p) {
        struct group *g = getgrnam(p->group);

        return g && holds_group(g->gr_gid);
}

static int not_listening(int r) {
        return IN_SET(-r, ENOENT, ECONNREFUSED);
}

/* systemctl rather than sd-bus: the same D-Bus call and polkit check, and the job's wait
 * and its error messages, with no library in the core. */
static int start_through_systemd(const char *name) {
        _cleanup_free_ char *unit = strdup_printf("vmsilo@%s.service", name);
        char *argv[] = { (char *) "systemctl", (char *) "start", (char *) "--no-ask-password", unit,
                         NULL };
        int status;
        pid_t pid;

        if (!unit)
                return log_oom(), EXIT_RUNTIME;
        if (access("/run/systemd/system", F_OK) < 0) {
                log_error("VM '%s' is not running, and without systemd only root starts it: ask "
                          "an administrator to run 'vmsilo-core start %s'",
                          name, name);
                return EXIT_DENIED;
        }
        log_info("starting VM '%s' through systemd (%s)", name, unit);
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "failed to fork: %m"), EXIT_RUNTIME;
        if (pid == 0) {
                execvp(argv[0], argv);
                log_error_errno(errno, "failed to execute 'systemctl': %m");
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_error("systemd did not start VM '%s': 'systemctl start %s' failed (see above)",
                          name, unit);
                return EXIT_RUNTIME;
        }
        return EXIT_OK;
}

/* After a start: the socket appears before systemd reports the unit started; allow a bit. */
static int request_retrying(const struct vm_place *p, const char *name, const char *request) {
        uint64_t deadline = now_ms() + 10000;
        int fd;

        while (not_listening(fd = client_sock_request(p->sock, name, request, NULL)) &&
               now_ms() < deadline)
                sleep_ms(100);
        return fd;
}

int member_run(const struct vm_place *p, const char *name, const struct agent_request *req,
               int no_start) {
        int fd, r;

        if (!caller_may_use(p))
                return refuse(p, name, EXIT_NO_STATUS);
        fd = client_sock_request(p->sock, name, "agent", NULL);
        if (not_listening(fd)) {
                if (no_start) {
                        log_error("VM '%s' is not running", name);
                        return EXIT_NO_STATUS;
                }
                r = start_through_systemd(name);
                if (r != EXIT_OK)
                        return EXIT_NO_STATUS;
                fd = request_retrying(p, name, "agent");
        }
        if (fd == -EACCES)
                return refuse(p, name, EXIT_NO_STATUS);
        if (fd < 0)
                return log_error_errno(fd, "VM '%s': cannot reach its supervisor at '%s': %m", name,
                                       p->sock),
                       EXIT_NO_STATUS;
        r = agent_run_fd(name, fd, req);
        return r < 0 ? EXIT_NO_STATUS : r;
}

int member_start(const struct vm_place *p, const char *name) {
        int fd;

        if (!caller_may_use(p))
                return refuse(p, name, EXIT_DENIED);
        fd = client_sock_request(p->sock, name, "status", NULL);
        if (fd >= 0) {
                close(fd);
                log_error("VM '%s' is already running", name);
                return EXIT_RUNNING;
        }
        if (fd == -EACCES)
                return refuse(p, name, EXIT_DENIED);
        return start_through_systemd(name);
}

int member_stop(const struct vm_place *p, const char *name, unsigned timeout_s) {
        _cleanup_close_ int fd = -1;
        uint64_t deadline = now_ms() + (uint64_t) (timeout_s + 45) * 1000;
        char buf[256];

        if (!caller_may_use(p))
                return refuse(p, name, EXIT_DENIED);
        fd = client_sock_request(p->sock, name, "stop", NULL);
        if (not_listening(fd)) {
                log_notice("VM '%s' is not running", name);
                return EXIT_OK;
        }
        if (fd == -EACCES)
                return refuse(p, name, EXIT_DENIED);
        if (fd < 0)
                return EXIT_RUNTIME;
        /* "ok stopped", or EOF, once the supervisor has undone everything and ended */
        while (now_ms() < deadline) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                if (poll(&pfd, 1, 200) > 0 && read(fd, buf, sizeof(buf)) <= 0)
                        break;
        }
        if (now_ms() >= deadline)
                return log_error_errno(ETIMEDOUT, "VM '%s' does not stop", name), EXIT_RUNTIME;
        log_notice("VM '%s' stopped", name);
        return EXIT_OK;
}

int member_console(const struct vm_place *p, const char *name) {
        int fd;

        if (!caller_may_use(p))
                return refuse(p, name, EXIT_DENIED);
        fd = client_sock_request(p->sock, name, "console", NULL);
        if (fd == -EACCES)
                return refuse(p, name, EXIT_DENIED);
        if (not_listening(fd)) {
                log_error("VM '%s' is not running", name);
                return EXIT_NOT_RUNNING;
        }
        if (fd < 0)
                return EXIT_RUNTIME;
        return console_attach_fd(name, fd);
}

const char *member_state(const struct vm_place *p, const char *name) {
        struct stat st;
        int fd;

        if (stat(p->dir, &st) < 0 && errno == ENOENT && stat(p->sock, &st) < 0 && errno == ENOENT)
                return "stopped";
        fd = client_sock_request(p->sock, name, "status", NULL);
        if (fd >= 0) {
                close(fd);
                return "running";
        }
        if (fd == -EACCES || !caller_may_use(p))
                log_notice("VM '%s': cannot tell whether it runs: you are not in group '%s'", name,
                           p->group);
        else
                log_notice("VM '%s': cannot tell whether it runs: it is starting, stopping, or "
                           "its supervisor crashed",
                           name);
        return "unknown";
}
