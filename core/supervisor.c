/* SPDX-License-Identifier: MIT */
/* start, the supervisor of a running VM, stop and cleanup. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agentmux.h"
#include "backend.h"
#include "clientsock.h"
#include "console.h"
#include "escape.h"
#include "exitcode.h"
#include "log.h"
#include "notify.h"
#include "process.h"
#include "snapshot.h"
#include "socket-util.h"
#include "state.h"
#include "supervisor.h"
#include "vm.h"

int exit_code_for_open(int r) {
        switch (r) {
        case 0:
                return EXIT_OK;
        case -ENOENT:
                return EXIT_NOT_FOUND;
        case -EDOM:
                return EXIT_USAGE;
        case -EINVAL:
        case -ENOEXEC:
                return EXIT_CONFIG;
        default:
                return EXIT_RUNTIME;
        }
}

/* Ends a start that got past taking the lock: undo, remove the run state, release. */
static int start_abort(struct vm *vm, int lock_fd, int code) {
        int failures = vm_undo(vm);

        if (failures > 0)
                log_error(
                        "%d change(s) of this start could not be undone; run 'vmsilo-core cleanup %s'",
                        failures, vm->config.name);
        else
                (void) state_remove(vm->runtime_dir, 0);
        safe_close(lock_fd);
        return code;
}

static int write_text(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        FILE *f;

        if (!path)
                return -ENOMEM;
        f = fopen(path, "we");
        if (!f)
                return negative_errno();
        fputs(text, f);
        return fclose(f) == 0 ? 0 : negative_errno();
}

static char *read_line(const char *dir, const char *name, int line) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        char *buf = NULL;
        size_t cap = 0;
        FILE *f;

        if (!path)
                return NULL;
        f = fopen(path, "re");
        if (!f)
                return NULL;
        for (int i = 0; i <= line; i++)
                if (getline(&buf, &cap, f) < 0) {
                        free(buf);
                        buf = NULL;
                        break;
                }
        fclose(f);
        if (buf)
                buf[strcspn(buf, "\n")] = 0;
        return buf;
}

static int wait_up(struct vm *vm, pid_t pid, unsigned timeout_s) {
        _cleanup_free_ char *sock = vm_path(vm, VM_CONTROL_SOCKET);
        _cleanup_free_ char *log = vm_path(vm, VM_VMM_LOG);
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        struct stat st;
        int status;

        if (!sock || !log)
                return -ENOMEM;
        for (;;) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        _cleanup_free_ char *raw = file_tail(log, 1500), *tail = NULL;

                        /* the VMM's output quotes what the guest wrote */
                        tail = raw ? text_escape(raw, strlen(raw)) : NULL;

                        return log_error_errno(
                                ECHILD, "%s exited with %s %d before it was up: %s",
                                vm->backend->name, WIFEXITED(status) ? "status" : "signal",
                                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                strempty(tail));
                }
                if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
                        return 0;
                if (now_ms() >= deadline)
                        return log_error_errno(
                                ETIMEDOUT, "%s did not create its control socket '%s' within %u s",
                                vm->backend->name, sock, timeout_s);
                sleep_ms(10);
        }
}

static int spawn_vmm(struct vm *vm, struct strv *argv, pid_t *ret_pid) {
        _cleanup_free_ char *log = vm_path(vm, VM_VMM_LOG), *quoted = NULL, *info = NULL;
        _cleanup_free_ char *pid_s = NULL, *start_s = NULL;
        pid_t pid;
        int r;

        quoted = strv_join_quoted(argv, " ");
        info = strdup_printf("%s\n%s\n", vm->backend->name, vm->backend->binary(vm));
        if (!log || !quoted || !info)
                return log_oom();
        (void) write_text(vm->runtime_dir, "vmm.argv", quoted);
        (void) write_text(vm->runtime_dir, "vmm.info", info);
        {
                _cleanup_free_ char *addr = vm->backend->agent_address(vm);

                if (addr)
                        (void) write_text(vm->runtime_dir, VM_AGENT_ADDRESS, addr);
        }
        log_info("starting: %s", quoted);
        pid = process_spawn(argv->items, log, vm->desc.fds, vm->desc.n_fds);
        if (pid < 0)
                return log_error_errno(pid, "failed to start '%s': %m", argv->items[0]);
        for (size_t i = 0; i < vm->desc.n_fds; i++)
                vm->desc.fds[i] = safe_close(vm->desc.fds[i]);
        vm->desc.n_fds = 0;
        pid_s = strdup_printf("%d", (int) pid);
        start_s = strdup_printf("%llu", process_start_time(pid));
        if (!pid_s || !start_s)
                return log_oom();
        r = journal_append(vm->runtime_dir, "kill", pid_s, start_s, vm->backend->name);
        if (r >= 0)
                r = write_pid_file(vm->runtime_dir, "vmm.pid", pid);
        if (r < 0) {
                (void) process_stop(pid, 0, 2000);
                return log_error_errno(r, "failed to record the VMM's pid: %m");
        }
        *ret_pid = pid;
        return 0;
}

struct supervise {
        struct vm *vm;
        pid_t vmm;
        int sigfd;
        struct console *console;
        struct agent_mux *mux;
        struct client_sock *clients; /* group members (clientsock.c) */
        unsigned stop_timeout_s;
        uint64_t hard_at, kill_at; /* 0 = not scheduled */
        uint64_t next_ask;         /* the next graceful power-off request, while stopping */
        int status;
};

#define STOP_ASK_INTERVAL_MS 5000

/* Asks the guest to power off: its agent (POWEROFF, when one said HELLO) and the power
 * button. Repeated every STOP_ASK_INTERVAL_MS until the stop timeout: a booting guest may have
 * neither an agent nor a power button handler yet, and a guest that missed one press may
 * take the next. Returns 0 when either request went out. */
static int stop_ask_guest(struct supervise *s) {
        int a = agent_mux_request_poweroff(s->mux);
        int b = s->vm->backend->request_stop(s->vm->backend->binary(s->vm), s->vm->runtime_dir, 0);

        if (a == 0)
                log_info("asked the guest agent of '%s' to power off", s->vm->config.name);
        s->next_ask = now_ms() + STOP_ASK_INTERVAL_MS;
        return a == 0 || b == 0 ? 0 : b;
}

/* `vmsilo-core stop --timeout S` queues SIGTERM with S (ask_stop): its window wins. */
static void on_stop_signal(struct supervise *s, const struct signalfd_siginfo *si) {
        if (si->ssi_code == SI_QUEUE && si->ssi_int > 0 && si->ssi_int <= 86400)
                s->stop_timeout_s = (unsigned) si->ssi_int;
        if (s->hard_at != 0)
                return;
        log_notice("stopping VM '%s'", s->vm->config.name);
        (void) notify_service_manager("STOPPING=1");
        if (stop_ask_guest(s) < 0)
                log_warning("graceful stop request failed, will stop it hard");
        s->hard_at = now_ms() + (uint64_t) s->stop_timeout_s * 1000;
}

static void on_timer(struct supervise *s) {
        uint64_t now = now_ms();

        if (s->kill_at && now >= s->kill_at) {
                log_warning("VMM (pid %d) still running, killing it", (int) s->vmm);
                (void) kill(s->vmm, SIGKILL);
                s->kill_at = 0;
        } else if (s->hard_at && now >= s->hard_at && !s->kill_at) {
                log_warning("VM '%s' did not power off within %u s, stopping it hard",
                            s->vm->config.name, s->stop_timeout_s);
                (void) s->vm->backend->request_stop(s->vm->backend->binary(s->vm),
                                                    s->vm->runtime_dir, 1);
                s->kill_at = now + 5000;
        } else if (s->hard_at && !s->kill_at && now >= s->next_ask) {
                (void) stop_ask_guest(s);
        }
}

/* Returns 1 when the VMM has exited. */
static int on_signal(struct supervise *s) {
        struct signalfd_siginfo si;
        int status;

        while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP)
                        on_stop_signal(s, &si);
        }
        if (waitpid(s->vmm, &status, WNOHANG) == s->vmm) {
                s->status = status;
                return 1;
        }
        return 0;
}

static void supervise_loop(struct supervise *s) {
        for (;;) {
                struct pollfd fds[64] = { { .fd = s->sigfd, .events = POLLIN } };
                int nc = console_fill_pollfds(s->console, fds + 1, 20);
                int nm = agent_mux_fill_pollfds(s->mux, fds + 1 + nc, 63 - nc);
                int nk = client_sock_fill_pollfds(s->clients, fds + 1 + nc + nm, 63 - nc - nm);

                if (poll(fds, (nfds_t) (1 + nc + nm + nk), 200) < 0 && errno != EINTR)
                        break;
                if (on_signal(s))
                        break;
                console_dispatch(s->console, fds + 1, nc);
                console_try_connect(s->console);
                agent_mux_dispatch(s->mux, fds + 1 + nc, nm);
                agent_mux_try_connect(s->mux);
                client_sock_dispatch(s->clients, fds + 1 + nc + nm, nk);
                on_timer(s);
        }
}

static int block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Where the console log goes: the VM's state dir, which outlives the run (a failed boot can
 * be read after it), else the runtime dir. */
static int console_log_dir(struct vm *vm) {
        const struct settings *s = vm->settings;
        _cleanup_free_ char *dir =
                s->state_dir ? strdup_printf("%s/%s", s->state_dir, vm->config.name) : NULL;
        int fd;

        if (dir) {
                fd = state_keep_dir_open(dir, s->uid, s->gid);
                if (fd >= 0)
                        return fd;
                log_warning_errno(
                        fd,
                        "cannot keep the console log in '%s': %m; it goes to '%s' and is removed at stop",
                        dir, vm->runtime_dir);
        }
        fd = state_dir_open(vm->runtime_dir);
        return fd < 0 ? log_warning_errno(fd, "no console log: %m") : fd;
}

/* The supervisor's log, kept with the console log in the state dir (`vmsilo-core log`).
 * Returns 1 when it is kept. */
static int keep_supervisor_log(struct vm *vm) {
        const struct settings *s = vm->settings;
        _cleanup_free_ char *dir =
                s->state_dir ? strdup_printf("%s/%s", s->state_dir, vm->config.name) : NULL;
        int fd = dir ? state_keep_dir_open(dir, s->uid, s->gid) : -ENOENT;

        if (fd < 0 || log_keep_copy(fd, "supervisor.log", vm->config.console_log_size) < 0)
                return 0;
        return 1;
}

static struct console *setup_console(struct vm *vm, int *ret_listen) {
        _cleanup_free_ char *backend = vm_path(vm, VM_CONSOLE_BACKEND);
        _cleanup_free_ char *clients = vm_path(vm, VM_CONSOLE_SOCKET);
        unsigned long long max = vm->config.console_log_size;

        *ret_listen = -1;
        if (!backend || !clients)
                return NULL;
        (void) journal_append(vm->runtime_dir, "unlink", clients, NULL, NULL);
        (void) journal_append(vm->runtime_dir, "unlink", backend, NULL, NULL);
        if (vm->backend->console_vmm_listens)
                return console_new(-1, backend, clients, console_log_dir(vm), max);
        *ret_listen = unix_listen(backend);
        if (*ret_listen < 0) {
                log_error_errno(*ret_listen, "failed to listen on '%s': %m", backend);
                return NULL;
        }
        return console_new(*ret_listen, NULL, clients, console_log_dir(vm), max);
}

/* VMMs whose agent channel is a virtio-console port get the multiplexer on agent.sock. */
static int setup_agent_mux(struct vm *vm, struct agent_mux **ret) {
        _cleanup_free_ char *guest = vm_path(vm, VM_AGENT_SOCKET);
        _cleanup_free_ char *clients = vm_path(vm, VM_AGENT_MUX_SOCKET);

        *ret = NULL;
        if (!vm->backend->agent_via_port)
                return 0;
        if (!guest || !clients)
                return log_oom();
        (void) journal_append(vm->runtime_dir, "unlink", clients, NULL, NULL);
        (void) journal_append(vm->runtime_dir, "unlink", guest, NULL, NULL);
        *ret = agent_mux_new(guest, clients);
        return *ret ? 0 : -EIO;
}

static void notify(int *fd, unsigned char code) {
        if (*fd < 0)
                return;
        (void) !write(*fd, &code, 1);
        *fd = safe_close(*fd);
}

/* A start for or from a snapshot: the backend must have them; a restore's RAM goes to the
 * VMM with the other fds. */
static int use_snapshot(struct vm *vm, const struct vm_snapshot *snap) {
        int r;

        if (!vm->backend->restore || !vm->backend->save)
                return log_error_errno(EOPNOTSUPP, "%s has no snapshots", vm->backend->name);
        vm->snapshot = snap;
        if (snap->mode != VM_SNAPSHOT_RESTORE)
                return 0;
        r = vm_desc_add_fd(&vm->desc, snap->ram_fd);
        return r < 0 ? r : vm_desc_add_fd(&vm->desc, snap->state_fd);
}

/* After the pipeline's checks: prepare, contribute, render, run and supervise. */
static int launch(struct vm *vm, int lock_fd, const struct start_options *o, int notify_fd) {
        struct supervise s = { .vm = vm, .stop_timeout_s = o->stop_timeout_s };
        struct strv argv = {};
        int r, listen_fd, code, kept_log;

        /* a gone `start` parent or console peer must not kill us before we undo */
        signal(SIGPIPE, SIG_IGN);
        kept_log = keep_supervisor_log(vm);
        s.sigfd = block_signals();
        (void) write_pid_file(vm->runtime_dir, "supervisor.pid", getpid());
        r = s.sigfd < 0 ? s.sigfd : vm_prepare(vm);
        if (r >= 0)
                r = vm_contribute(vm);
        vm->phase = PHASE_RUN;
        if (r >= 0 && o->snapshot)
                r = use_snapshot(vm, o->snapshot);
        if (r >= 0)
                r = vm->backend->render(vm, &argv);
        if (r >= 0) {
                s.console = setup_console(vm, &listen_fd);
                r = s.console ? setup_agent_mux(vm, &s.mux) : -EIO;
        }
        if (r >= 0)
                r = spawn_vmm(vm, &argv, &s.vmm);
        strv_done(&argv);
        if (r >= 0)
                r = wait_up(vm, s.vmm, o->up_timeout_s);
        if (r >= 0 && vm->snapshot && vm->snapshot->mode == VM_SNAPSHOT_RESTORE) {
                /* connected before the load, the guest's agent keeps its host: no reconnect */
                agent_mux_try_connect(s.mux);
                r = vm->backend->restore(vm);
        }
        if (r < 0) {
                console_free(s.console);
                agent_mux_free(s.mux);
                safe_close(s.sigfd);
                /* undo before the caller returns, so a failed start leaves nothing */
                code = start_abort(vm, lock_fd, EXIT_RUNTIME);
                if (kept_log)
                        log_error("VM '%s' did not start; see 'vmsilo-core log %s'",
                                  vm->config.name, vm->config.name);
                notify(&notify_fd, (unsigned char) code);
                return code;
        }
        log_notice("VM '%s' is up (%s pid %d)", vm->config.name, vm->backend->name, (int) s.vmm);
        /* before READY=1: a started unit serves its group at once */
        s.clients = client_sock_new(vm);
        {
                char state[64];

                /* under systemd (Type=notify): the unit is active once the VM is up */
                snprintf(state, sizeof(state), "READY=1\nMAINPID=%d", (int) getpid());
                (void) notify_service_manager(state);
        }
        if (notify_fd >= 0) {
                _cleanup_free_ char *log = vm_path(vm, "supervisor.log");
                int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) : -1;

                notify(&notify_fd, EXIT_OK);
                if (fd >= 0) {
                        (void) dup2(fd, STDOUT_FILENO);
                        (void) dup2(fd, STDERR_FILENO);
                        close(fd);
                }
        }
        supervise_loop(&s);
        code = WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0 ? EXIT_OK : EXIT_RUNTIME;
        log_notice("VM '%s' stopped (%s %d)", vm->config.name,
                   WIFEXITED(s.status) ? "status" : "signal",
                   WIFEXITED(s.status) ? WEXITSTATUS(s.status) : WTERMSIG(s.status));
        client_sock_free(s.clients);
        console_free(s.console);
        agent_mux_free(s.mux);
        safe_close(s.sigfd);
        return start_abort(vm, lock_fd, code);
}

static int daemonize(int *ret_notify) {
        int pipefd[2];
        unsigned char code = EXIT_RUNTIME;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "failed to create pipe: %m");
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "failed to fork: %m");
        if (pid > 0) {
                close(pipefd[1]);
                if (read(pipefd[0], &code, 1) != 1)
                        log_error("the supervisor ended before the VM was up");
                close(pipefd[0]);
                return 1 + code; /* parent: > 0 */
        }
        close(pipefd[0]);
        (void) setsid();
        *ret_notify = pipefd[1];
        return 0;
}

static int log_lock_error(const char *dir, int r) {
        if (IN_SET(-r, EPERM, ENOTDIR))
                return log_error_errno(
                        r,
                        "refusing to use runtime dir '%s': it is a symlink, not a directory, someone else's, or writable by others",
                        dir);
        return log_error_errno(r, "failed to lock '%s': %m", dir);
}

int vm_runtime_dir_check(const char *dir) {
        int fd = state_dir_open(dir);

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return log_lock_error(dir, fd);
        safe_close(fd);
        return 0;
}

int vm_start(const struct settings *s, const char *name, const struct start_options *o) {
        struct vm vm;
        int r, lock_fd, failures, notify_fd = -1, code;

        r = vm_open(&vm, s, name);
        if (r < 0) {
                vm_close(&vm);
                return exit_code_for_open(r);
        }
        lock_fd = state_lock(vm.runtime_dir, s->uid, s->gid);
        if (lock_fd == -EBUSY) {
                log_error("VM '%s' is already running", name);
                vm_close(&vm);
                return EXIT_RUNNING;
        }
        if (lock_fd < 0) {
                log_lock_error(vm.runtime_dir, lock_fd);
                vm_close(&vm);
                return EXIT_RUNTIME;
        }
        if (vm_undo(&vm) > 0) {
                /* keep the journal, so that cleanup can try again */
                log_error(
                        "an earlier run of VM '%s' left changes that could not be undone; fix what is said above and run 'vmsilo-core cleanup %s'",
                        name, name);
                safe_close(lock_fd);
                vm_close(&vm);
                return EXIT_RUNTIME;
        }
        (void) state_remove(vm.runtime_dir, 1); /* stale sockets and logs of a crashed run */
        failures = vm_preflight(&vm);
        if (failures > 0) {
                log_error("%d preflight check%s failed for VM '%s', not starting it", failures,
                          failures == 1 ? "" : "s", name);
                code = start_abort(&vm, lock_fd, EXIT_PREFLIGHT);
                vm_close(&vm);
                return code;
        }
        if (!o->foreground) {
                r = daemonize(&notify_fd);
                if (r < 0)
                        code = start_abort(&vm, lock_fd, EXIT_RUNTIME);
                else if (r > 0) {
                        safe_close(lock_fd); /* the supervisor holds it */
                        code = r - 1;
                }
                if (r != 0) {
                        vm_close(&vm);
                        return code;
                }
                /* the detached supervisor: it never returns into the caller's command */
                code = launch(&vm, lock_fd, o, notify_fd);
                vm_close(&vm);
                fflush(NULL);
                _exit(code);
        }
        code = launch(&vm, lock_fd, o, notify_fd);
        vm_close(&vm);
        return code;
}

static int wait_stopped(const char *dir, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        while (state_is_running(dir) > 0) {
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(20);
        }
        return 0;
}

/* The running VM's backend and binary, as recorded at start (the config may have changed). */
static const struct backend *recorded_backend(const char *dir, char **ret_binary) {
        _cleanup_free_ char *name = read_line(dir, "vmm.info", 0);
        const struct backend *b = name ? backend_find(name) : NULL;

        *ret_binary = b ? read_line(dir, "vmm.info", 1) : NULL;
        return *ret_binary ? b : NULL;
}

/* The supervisor asks the guest to power off again and again (stop_ask_guest); without a
 * live supervisor, the power button is pressed once. */
static int ask_stop(const struct backend *b, const char *binary, const char *dir,
                    unsigned timeout_s) {
        unsigned long long start = 0;
        pid_t sup = read_pid_file(dir, "supervisor.pid", &start);
        union sigval timeout = { .sival_int = (int) timeout_s };

        if (sup > 0 && start != 0 && process_alive(sup, start) &&
            sigqueue(sup, SIGTERM, timeout) == 0)
                return 0;
        return b->request_stop(binary, dir, 0);
}

static int stop_running(const char *name, const char *dir, unsigned timeout_s) {
        _cleanup_free_ char *binary = NULL;
        const struct backend *b = recorded_backend(dir, &binary);
        unsigned long long start = 0;
        pid_t vmm = read_pid_file(dir, "vmm.pid", &start), sup;

        if (!b) {
                /* still starting: the supervisor takes SIGTERM once the VM is up (or its start
                 * fails), presses the power button and undoes everything itself */
                sup = read_pid_file(dir, "supervisor.pid", &start);
                if (sup > 0 && start != 0 && process_alive(sup, start) &&
                    sigqueue(sup, SIGTERM, (union sigval){ .sival_int = (int) timeout_s }) == 0 &&
                    wait_stopped(dir, (timeout_s + 35) * 1000) == 0)
                        return EXIT_OK;
                b = recorded_backend(dir, &binary);
                vmm = read_pid_file(dir, "vmm.pid", &start);
        } else if (ask_stop(b, binary, dir, timeout_s) == 0 &&
                   wait_stopped(dir, timeout_s * 1000) == 0)
                return EXIT_OK;
        log_warning("VM '%s' did not power off within %u s, stopping it hard", name, timeout_s);
        if (b && b->request_stop(binary, dir, 1) == 0 && wait_stopped(dir, 5000) == 0)
                return EXIT_OK;
        if (vmm > 0 && start != 0 && process_alive(vmm, start)) {
                log_warning("killing the VMM of '%s' (pid %d)", name, (int) vmm);
                (void) kill(vmm, SIGKILL);
        }
        if (wait_stopped(dir, 10000) == 0)
                return EXIT_OK;
        sup = read_pid_file(dir, "supervisor.pid", &start);
        if (sup > 0 && start != 0 && process_alive(sup, start)) {
                log_warning("the supervisor of '%s' (pid %d) hangs, killing it", name, (int) sup);
                (void) kill(sup, SIGKILL);
        }
        return wait_stopped(dir, 5000) == 0
                       ? -EAGAIN
                       : log_error_errno(ETIMEDOUT, "VM '%s' does not stop", name);
}

int vm_stop(const struct settings *s, const char *name, unsigned timeout_s) {
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        if (!vm_name_valid(name))
                return log_error_errno(EINVAL, "invalid VM name '%s'", name), EXIT_USAGE;
        dir = settings_runtime_dir(s, name);
        if (!dir)
                return log_oom(), EXIT_RUNTIME;
        if (vm_runtime_dir_check(dir) < 0)
                return EXIT_RUNTIME;
        if (state_is_running(dir) <= 0) {
                if (stat(dir, &st) == 0)
                        return vm_cleanup(s, name);
                log_notice("VM '%s' is not running", name);
                return EXIT_OK;
        }
        r = stop_running(name, dir, timeout_s);
        if (r == -EAGAIN) /* the supervisor was killed: its undo is ours now */
                return vm_cleanup(s, name);
        if (r < 0)
                return EXIT_RUNTIME;
        log_notice("VM '%s' stopped", name);
        return EXIT_OK;
}

int vm_cleanup(const struct settings *s, const char *name) {
        struct vm vm;
        int r, lock_fd, failures;

        r = vm_open(&vm, s, name);
        if (r < 0 && (!vm.runtime_dir || access(vm.runtime_dir, F_OK) < 0)) {
                vm_close(&vm);
                return exit_code_for_open(r);
        }
        if (r < 0)
                log_warning("configuration of '%s' is broken; undoing only what the core recorded",
                            name);
        if (state_is_running(vm.runtime_dir) > 0) {
                log_error("VM '%s' is running; use 'vmsilo-core stop %s'", name, name);
                vm_close(&vm);
                return EXIT_RUNNING;
        }
        lock_fd = state_lock(vm.runtime_dir, s->uid, s->gid);
        if (lock_fd < 0) {
                if (lock_fd != -EBUSY)
                        log_lock_error(vm.runtime_dir, lock_fd);
                vm_close(&vm);
                return lock_fd == -EBUSY ? EXIT_RUNNING : EXIT_RUNTIME;
        }
        failures = vm_undo(&vm);
        if (failures == 0)
                (void) state_remove(vm.runtime_dir, 0);
        safe_close(lock_fd);
        vm_close(&vm);
        if (failures > 0) {
                log_error("%d change(s) of VM '%s' could not be undone", failures, name);
                return EXIT_RUNTIME;
        }
        log_info("VM '%s' cleaned up", name);
        return EXIT_OK;
}

char *vm_agent_address(const char *runtime_dir) {
        return read_line(runtime_dir, VM_AGENT_ADDRESS, 0);
}
