/* SPDX-License-Identifier: MIT */
/* start, the supervisor of a running VM, stop and cleanup. */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/qmp.h"
#include "plugin/vm.h"
#include "run/agentmux.h"
#include "run/clientsock.h"
#include "run/console.h"
#include "run/notify.h"
#include "run/runstate.h"
#include "run/snapshot.h"
#include "run/supervisor.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"
#include "util/state.h"

/* Ends a start that got past taking the lock: undo, remove the run state, release. Returns
 * `r`. */
static int start_abort(struct vm *vm, int lock_fd, int r) {
        _cleanup_free_ char *log = vm_path(vm, VM_VMM_LOG);
        _cleanup_free_ char *state = settings_state_dir(vm->settings, vm->config.name);
        int failures;

        /* the run dir goes; what the VMM said last stays for 'status' */
        if (log && access(log, F_OK) == 0)
                runstate_keep_file(state, RS_LAST_VMM_LOG, log, 65536);
        failures = vm_undo(vm);

        if (failures > 0)
                log_error(
                        "%d change(s) of this start could not be undone; run 'vmsilo-core cleanup %s'",
                        failures, vm->config.name);
        else
                (void) state_remove(vm->runtime_dir, 0);
        safe_close(lock_fd);
        return r;
}

/* Logs an error and keeps it in the VM's state dir, for 'status'. Returns -error. */
static int keep_error(struct vm *vm, int error, const char *fmt, ...) _printf_(3, 4);
static int keep_error(struct vm *vm, int error, const char *fmt, ...) {
        _cleanup_free_ char *state = settings_state_dir(vm->settings, vm->config.name);
        char text[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        runstate_keep_error(state, text);
        return log_error_errno(error, "%s", text);
}

static int vmm_exited(struct vm *vm, int status) {
        _cleanup_free_ char *log = vm_path(vm, VM_VMM_LOG);
        _cleanup_free_ char *raw = log ? file_tail(log, 1500) : NULL, *tail = NULL;

        /* the VMM's output quotes what the guest wrote */
        tail = raw ? text_escape(raw, strlen(raw)) : NULL;
        return keep_error(vm, ECHILD, "%s exited with %s %d before it was up: %s",
                          vm->backend->name, WIFEXITED(status) ? "status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                          strempty(tail));
}

/* Up: the VMM built the machine and runs its vCPUs (QEMU: query-status says running). */
static int wait_up(struct vm *vm, pid_t pid, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        int restoring = vm->snapshot && vm->snapshot->mode == VM_SNAPSHOT_RESTORE;
        int status, up;

        for (;;) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return vmm_exited(vm, status);
                up = vm->backend->is_up(vm->runtime_dir, 1000);
                /* a VM to be restored waits, paused, for its state (QEMU: "inmigrate") */
                if (up == 1 || (up == VMM_UP_INCOMING && restoring)) {
                        /* a VMM that cannot say more may still fail right after its socket */
                        if (!vm->backend->events)
                                sleep_ms(100);
                        if (waitpid(pid, &status, WNOHANG) == pid)
                                return vmm_exited(vm, status);
                        return 0;
                }
                if (now_ms() >= deadline)
                        return keep_error(vm, ETIMEDOUT, "%s did not bring VM '%s' up within %u s",
                                          vm->backend->name, vm->config.name, timeout_s);
                sleep_ms(20);
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
        (void) runstate_write(vm->runtime_dir, "vmm.argv", quoted);
        (void) runstate_write(vm->runtime_dir, "vmm.info", info);
        {
                _cleanup_free_ char *addr = vm->backend->agent_address(vm);

                if (addr)
                        (void) runstate_write(vm->runtime_dir, VM_AGENT_ADDRESS, addr);
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

struct watched_helper {
        pid_t pid;
        unsigned long long start;
        char *label; /* "plugin/name" */
        int gone;
};

struct supervise {
        struct vm *vm;
        pid_t vmm;
        int sigfd;
        struct console *console;
        struct agent_mux *mux;
        struct client_sock *clients; /* group members (clientsock.c) */
        struct qmp_events *events;
        struct watched_helper *helpers;
        size_t n_helpers;
        int helper_failed;
        char io_error[512]; /* the last BLOCK_IO_ERROR that stops the VM */
        unsigned stop_timeout_s;
        uint64_t hard_at, kill_at; /* 0 = not scheduled */
        uint64_t next_ask;         /* the next graceful power-off request, while stopping */
        int status;
};

/* A guest whose helper died may hang in its shutdown (a virtiofs mount that never answers) */
#define HELPER_POWEROFF_WINDOW_MS 10000
#define STOP_ASK_INTERVAL_MS 5000

static void stop_hard(struct supervise *s) {
        (void) s->vm->backend->request_stop(s->vm->backend->binary(s->vm), s->vm->runtime_dir, 1);
        s->kill_at = now_ms() + 5000;
}

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
        if (s->hard_at != 0 || s->kill_at != 0)
                return;
        log_notice("stopping VM '%s'", s->vm->config.name);
        (void) notify_service_manager("STOPPING=1");
        if (s->helper_failed || runstate_exists(s->vm->runtime_dir, RS_PAUSED)) {
                /* the guest cannot finish a clean shutdown: do not wait for it */
                log_notice("VM '%s' cannot shut down cleanly (%s), stopping it hard",
                           s->vm->config.name, s->helper_failed ? "a helper failed" : "paused");
                s->hard_at = now_ms();
                return;
        }
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
                s->hard_at = 0;
        } else if (s->hard_at && now >= s->hard_at && !s->kill_at) {
                log_warning("VM '%s' did not power off within %u s, stopping it hard",
                            s->vm->config.name, s->stop_timeout_s);
                stop_hard(s);
        } else if (s->next_ask && s->hard_at && !s->kill_at && now >= s->next_ask) {
                (void) stop_ask_guest(s);
        }
}

/* The helpers prepare started: every "kill" record of the journal so far. */
static int collect_helpers(struct supervise *s) {
        struct journal_record *recs = NULL;
        size_t n = 0;
        int r = journal_read(s->vm->runtime_dir, &recs, &n);

        if (r < 0)
                return r;
        s->helpers = calloc(n + 1, sizeof(*s->helpers));
        for (size_t i = 0; s->helpers && i < n; i++) {
                if (!streq(recs[i].kind, "kill") || !recs[i].a)
                        continue;
                s->helpers[s->n_helpers] = (struct watched_helper){
                        .pid = (pid_t) atoi(recs[i].a),
                        .start = recs[i].b ? strtoull(recs[i].b, NULL, 10) : 0,
                        .label = TAKE_PTR(recs[i].c),
                };
                s->n_helpers++;
        }
        journal_records_free(recs, n);
        return s->helpers ? 0 : -ENOMEM;
}

static void apply_helper_policy(struct supervise *s) {
        const char *policy = s->vm->config.on_helper_failure, *name = s->vm->config.name;

        if (s->hard_at || s->kill_at)
                return; /* already stopping */
        if (streq(policy, "keep")) {
                log_warning("VM '%s' keeps running without it (on-helper-failure = keep)", name);
                return;
        }
        if (streq(policy, "kill")) {
                log_warning("stopping VM '%s' now (on-helper-failure = kill)", name);
                s->hard_at = now_ms();
                stop_hard(s);
                return;
        }
        log_warning("powering VM '%s' off (on-helper-failure = poweroff)", name);
        (void) s->vm->backend->request_stop(s->vm->backend->binary(s->vm), s->vm->runtime_dir, 0);
        s->hard_at = now_ms() + HELPER_POWEROFF_WINDOW_MS;
}

static void helper_died(struct supervise *s, struct watched_helper *h, int status) {
        _cleanup_free_ char *log = NULL, *raw = NULL, *tail = NULL, *line = NULL;
        char cause[64], file[256];

        h->gone = 1;
        s->helper_failed = 1;
        if (WIFSIGNALED(status))
                snprintf(cause, sizeof(cause), "was killed by signal %d", WTERMSIG(status));
        else
                snprintf(cause, sizeof(cause), "exited with status %d", WEXITSTATUS(status));
        snprintf(file, sizeof(file), "helper-%s.log", strempty(h->label));
        for (char *c = file; *c; c++)
                if (*c == '/')
                        *c = '-';
        log = vm_path(s->vm, file);
        raw = log ? file_tail(log, 500) : NULL;
        /* a helper's log may quote what the guest sent */
        tail = raw ? text_escape(raw, strlen(raw)) : NULL;
        line = strdup_printf("%s\t%d\t%s", strempty(h->label), (int) h->pid, cause);
        if (line)
                (void) runstate_append(s->vm->runtime_dir, RS_HELPER_FAILED, line);
        (void) keep_error(s->vm, ECHILD, "helper '%s' (pid %d) of VM '%s' %s%s%s",
                          strempty(h->label), (int) h->pid, s->vm->config.name, cause,
                          !isempty(tail) ? ": " : "", strempty(tail));
        apply_helper_policy(s);
}

static void check_helpers(struct supervise *s) {
        for (size_t i = 0; i < s->n_helpers; i++) {
                struct watched_helper *h = &s->helpers[i];
                int status;

                if (!h->gone && waitpid(h->pid, &status, WNOHANG) == h->pid)
                        helper_died(s, h, status);
        }
}

/* "disk 'ephemeral'" for QEMU's drive id "disk3" */
static void disk_label(const struct vm *vm, const char *drive, char *buf, size_t size) {
        unsigned long i;

        snprintf(buf, size, "'%s'", drive);
        if (sscanf(drive, "disk%lu", &i) != 1 || i >= vm->desc.n_devices)
                return;
        snprintf(buf, size, "disk '%s'",
                 vm->desc.devices[i].id ? vm->desc.devices[i].id
                                        : strempty(vm->desc.devices[i].path));
}

static void on_event(const struct qmp_event *ev, void *userdata) {
        struct supervise *s = userdata;
        const char *name = s->vm->config.name;

        if (streq(ev->name, "BLOCK_IO_ERROR") && streq(ev->action, "stop")) {
                char disk[128];

                disk_label(s->vm, ev->device, disk, sizeof(disk));
                snprintf(s->io_error, sizeof(s->io_error), "I/O error on %s (%s)", disk,
                         ev->nospace ? "no space" : ev->reason);
        } else if (streq(ev->name, "STOP") && !runstate_exists(s->vm->runtime_dir, RS_PAUSED)) {
                const char *why = s->io_error[0] ? s->io_error : "paused by the VMM";

                (void) runstate_write(s->vm->runtime_dir, RS_PAUSED, why);
                (void) keep_error(
                        s->vm, EIO,
                        "VM '%s' paused: %s; free the space and run 'vmsilo-core resume %s', or stop it",
                        name, why, name);
        } else if (streq(ev->name, "RESUME")) {
                _cleanup_free_ char *path = vm_path(s->vm, RS_PAUSED);

                if (path && unlink(path) == 0)
                        log_notice("VM '%s' resumed", name);
                s->io_error[0] = 0;
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
        check_helpers(s);
        if (waitpid(s->vmm, &status, WNOHANG) == s->vmm) {
                s->status = status;
                return 1;
        }
        return 0;
}

static void supervise_loop(struct supervise *s) {
        for (;;) {
                struct pollfd fds[64] = { { .fd = s->sigfd, .events = POLLIN },
                                          { .fd = qmp_events_fd(s->events), .events = POLLIN } };
                int nc = console_fill_pollfds(s->console, fds + 2, 20);
                int nm = agent_mux_fill_pollfds(s->mux, fds + 2 + nc, 62 - nc);
                int nk = client_sock_fill_pollfds(s->clients, fds + 2 + nc + nm, 62 - nc - nm);
                int n = poll(fds, (nfds_t) (2 + nc + nm + nk), 200);

                if (n < 0 && errno != EINTR)
                        break;
                /* SIGCHLD is in the signalfd: children are looked at when it is readable (and
                 * at each timeout), not at every wake-up of a busy agent channel */
                if ((n <= 0 || fds[0].revents) && on_signal(s))
                        break;
                if (fds[1].revents)
                        (void) qmp_events_read(s->events, on_event, s);
                console_dispatch(s->console, fds + 2, nc);
                console_try_connect(s->console);
                agent_mux_dispatch(s->mux, fds + 2 + nc, nm);
                agent_mux_try_connect(s->mux);
                client_sock_dispatch(s->clients, fds + 2 + nc + nm, nk);
                on_timer(s);
        }
}

static void supervise_done(struct supervise *s) {
        client_sock_free(s->clients);
        console_free(s->console);
        agent_mux_free(s->mux);
        qmp_events_free(s->events);
        safe_close(s->sigfd);
        for (size_t i = 0; i < s->n_helpers; i++)
                free(s->helpers[i].label);
        free(s->helpers);
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

/* Tells the command waiting in daemonize() how the start went: 0, or a positive errno. */
static void notify(int *fd, int r) {
        unsigned char code = (unsigned char) -r;

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

static void vm_is_up(struct supervise *s) {
        char text[32];

        snprintf(text, sizeof(text), "%lld\n", (long long) time(NULL));
        (void) runstate_write(s->vm->runtime_dir, RS_UP, text);
        if (s->vm->backend->events) {
                _cleanup_free_ char *path = vm_path(s->vm, VM_EVENTS_SOCKET);

                s->events = path ? qmp_events_new(path) : NULL;
                if (qmp_events_connect(s->events, 2000) < 0)
                        log_warning("cannot watch the events of VM '%s' (%s): pauses go unnoticed",
                                    s->vm->config.name, strempty(path));
        }
        log_notice("VM '%s' is up (%s pid %d)", s->vm->config.name, s->vm->backend->name,
                   (int) s->vmm);
}

static void vm_ended(struct supervise *s) {
        int st = s->status;

        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                log_notice("VM '%s' stopped (status 0)", s->vm->config.name);
        else if (s->kill_at || s->hard_at)
                log_notice("VM '%s' stopped (%s %d)", s->vm->config.name,
                           WIFEXITED(st) ? "status" : "signal",
                           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        else
                (void) keep_error(s->vm, ECHILD, "the %s of VM '%s' ended by itself with %s %d",
                                  s->vm->backend->name, s->vm->config.name,
                                  WIFEXITED(st) ? "status" : "signal",
                                  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* After the pipeline's checks: prepare, contribute, render, run and supervise. */
static int launch(struct vm *vm, int lock_fd, const struct start_options *o, int notify_fd) {
        struct supervise s = { .vm = vm, .stop_timeout_s = o->stop_timeout_s };
        struct strv argv = {};
        int r, listen_fd, kept_log;

        /* a gone `start` parent or console peer must not kill us before we undo */
        signal(SIGPIPE, SIG_IGN);
        kept_log = keep_supervisor_log(vm);
        s.sigfd = block_signals();
        (void) write_pid_file(vm->runtime_dir, "supervisor.pid", getpid());
        r = s.sigfd < 0 ? s.sigfd : vm_prepare(vm);
        if (r >= 0)
                r = collect_helpers(&s);
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
                supervise_done(&s);
                /* undo before the caller returns, so a failed start leaves nothing */
                /* what failed was said above: the start failed at run time */
                r = start_abort(vm, lock_fd, -EIO);
                if (kept_log)
                        log_error("VM '%s' did not start; see 'vmsilo-core log %s'",
                                  vm->config.name, vm->config.name);
                notify(&notify_fd, r);
                return r;
        }
        vm_is_up(&s);
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

                notify(&notify_fd, 0);
                if (fd >= 0) {
                        (void) dup2(fd, STDOUT_FILENO);
                        (void) dup2(fd, STDERR_FILENO);
                        close(fd);
                }
        }
        supervise_loop(&s);
        r = WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0 ? 0 : -EIO;
        vm_ended(&s);
        supervise_done(&s);
        return start_abort(vm, lock_fd, r);
}

/* the supervisor ended without saying how its start went */
#define NO_WORD 255

static void supervisor_vanished(const char *dir, const char *name) {
        int state = VM_STOPPED;

        /* its helpers and VMM die with it (PDEATHSIG); its host changes stay */
        for (int i = 0; i < 50 && (state = vm_run_state(dir, NULL)) == VM_STARTING; i++)
                sleep_ms(20);
        if (state == VM_NEEDS_CLEANUP)
                log_error(
                        "the supervisor of VM '%s' ended before the VM was up and left host changes behind; run 'vmsilo-core cleanup %s'",
                        name, name);
        else
                log_error("the supervisor of VM '%s' ended before the VM was up", name);
}

/* Another command holds the lock. If it is starting the VM, wait for it: 0 when the VM came
 * up, -EAGAIN when that start ended (try again); if it is stopping it, wait until it has
 * stopped (-EAGAIN). -EBUSY when the VM already runs. */
static int wait_other(const char *dir, const char *name, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) (timeout_s + 60) * 1000;
        int state = vm_run_state(dir, NULL), stopping = runstate_exists(dir, RS_STOPPING);

        if (state != VM_STARTING && !stopping) {
                unsigned long long start = 0;
                pid_t sup = read_pid_file(dir, "supervisor.pid", &start);

                /* a supervisor that was just killed may still hold the lock for a moment */
                if (sup > 0 && process_alive(sup, start))
                        return -EBUSY;
                sleep_ms(100);
                return -EAGAIN;
        }
        log_info("VM '%s' is being %s by another command, waiting", name,
                 stopping ? "stopped" : "started");
        while (now_ms() < deadline) {
                state = vm_run_state(dir, NULL);
                if (!stopping && (state == VM_RUNNING || state == VM_PAUSED))
                        return 0;
                if (state != VM_STARTING && state != VM_RUNNING && state != VM_PAUSED)
                        return -EAGAIN;
                sleep_ms(50);
        }
        return log_error_errno(ETIMEDOUT, "VM '%s' is still being %s by another command", name,
                               stopping ? "stopped" : "started");
}

/* Takes the VM's lock (1, *ret_fd), or waits for another command's start: 0 when that one
 * brought the VM up; -EBUSY when it runs already, -EIO when the lock cannot be had. */
static int lock_for_start(struct vm *vm, const struct start_options *o, int *ret_fd) {
        const char *name = vm->config.name;

        for (int attempt = 0;; attempt++) {
                int fd = state_lock(vm->runtime_dir, vm->settings->uid, vm->settings->gid), r;

                if (fd >= 0) {
                        *ret_fd = fd;
                        return 1;
                }
                if (fd != -EBUSY) {
                        log_lock_error(vm->runtime_dir, fd);
                        return -EIO;
                }
                r = wait_other(vm->runtime_dir, name, o->up_timeout_s);
                if (r == -EBUSY) {
                        log_error("VM '%s' is already running", name);
                        return -EBUSY;
                }
                if (r == 0) {
                        log_notice("VM '%s' is up (started by another command)", name);
                        return 0;
                }
                if (r != -EAGAIN)
                        return -EIO;
                if (attempt >= 3) {
                        log_error("VM '%s' is busy: another command keeps its lock", name);
                        return -EIO;
                }
        }
}

/* Forks the supervisor, before the VM's configuration and plugins are loaded: a fork of the
 * bare command copies a fraction of the page tables, and the waiting parent never maps the
 * plugins at all. 0 in the child (which says how the start went on *ret_notify), in the
 * parent 1 + the child's word (0 when the VM is up, else a positive errno; NO_WORD when it
 * said nothing), negative errno if the fork failed. The child stays in the caller's session
 * until its preflight passed (start_here()): an interrupt before then ends both, before
 * anything on the host changed. */
static int daemonize(int *ret_notify) {
        int pipefd[2];
        unsigned char code = NO_WORD;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "failed to create pipe: %m");
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "failed to fork: %m");
        if (pid > 0) {
                close(pipefd[1]);
                if (read(pipefd[0], &code, 1) != 1)
                        code = NO_WORD; /* said by the caller, who knows the VM */
                close(pipefd[0]);
                return 1 + code; /* parent: > 0 */
        }
        close(pipefd[0]);
        *ret_notify = pipefd[1];
        return 0;
}

int log_lock_error(const char *dir, int r) {
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

/* The start itself, in the supervisor's process (detached when *notify_fd >= 0, which
 * launch() takes over: it says the word from then on). */
static int start_here(const struct settings *s, const char *name, const struct start_options *o,
                      int *notify_fd) {
        int r, lock_fd = -1, failures, fd;
        struct vm vm;

        r = vm_open(&vm, s, name);
        if (r < 0) {
                vm_close(&vm);
                return r;
        }
        r = lock_for_start(&vm, o, &lock_fd);
        if (r <= 0) {
                vm_close(&vm);
                return r;
        }
        if (vm_undo(&vm) > 0) {
                /* keep the journal, so that cleanup can try again */
                log_error(
                        "an earlier run of VM '%s' left changes that could not be undone; fix what is said above and run 'vmsilo-core cleanup %s'",
                        name, name);
                safe_close(lock_fd);
                vm_close(&vm);
                return -EIO;
        }
        (void) state_remove(vm.runtime_dir, 1); /* stale sockets and logs of a crashed run */
        failures = vm_preflight(&vm);
        if (failures > 0) {
                log_error("%d preflight check%s failed for VM '%s', not starting it", failures,
                          failures == 1 ? "" : "s", name);
                r = start_abort(&vm, lock_fd, -ECANCELED);
                vm_close(&vm);
                return r;
        }
        fd = *notify_fd;
        *notify_fd = -1;
        if (fd >= 0)
                (void) setsid(); /* from here on the start no longer belongs to a terminal */
        r = launch(&vm, lock_fd, o, fd);
        vm_close(&vm);
        return r;
}

int vm_start(const struct settings *s, const char *name, const struct start_options *o) {
        int word, r, notify_fd = -1;

        if (o->foreground)
                return start_here(s, name, o, &notify_fd);
        word = daemonize(&notify_fd);
        if (word < 0)
                return -EIO;
        if (word > 0) {
                if (word - 1 != NO_WORD)
                        return -(word - 1);
                {
                        _cleanup_free_ char *dir = settings_runtime_dir(s, name);

                        if (dir)
                                supervisor_vanished(dir, name);
                }
                return -EIO;
        }
        /* the detached supervisor: it never returns into the caller's command; its own exit
         * status only says whether the VM ended well (or why the start failed: the word) */
        r = start_here(s, name, o, &notify_fd);
        notify(&notify_fd, r); /* a start that failed before launch() says it here */
        fflush(NULL);
        _exit(r < 0 ? 1 : 0);
}
