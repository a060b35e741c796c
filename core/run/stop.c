/* SPDX-License-Identifier: MIT */
/* stop, cleanup and resume of a VM, from any command: they work from the run state alone. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "plugin/vm.h"
#include "run/runstate.h"
#include "run/supervisor.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

/* The supervisor this stop is about: once it is gone, so is its run, even if another
 * command has started the VM again since (whose lock we must not wait for). */
static pid_t stop_sup;
static unsigned long long stop_sup_start;

static int wait_stopped(const char *dir, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        while (state_is_running(dir) > 0 &&
               (stop_sup <= 0 || process_alive(stop_sup, stop_sup_start))) {
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(20);
        }
        return 0;
}

/* The running VM's backend and binary, as recorded at start (the config may have changed). */
static const struct backend *recorded_backend(const char *dir, char **ret_binary) {
        _cleanup_free_ char *info = runstate_read(dir, "vmm.info");
        char *nl = info ? strchr(info, '\n') : NULL;
        const struct backend *b;

        *ret_binary = NULL;
        if (!nl)
                return NULL;
        *nl = 0;
        b = backend_find(info);
        if (b)
                *ret_binary = strndup(nl + 1, strcspn(nl + 1, "\n"));
        return *ret_binary ? b : NULL;
}

/* A process stopped by SIGSTOP answers nothing and never exits: continue it. */
static void continue_if_stopped(const char *dir, const char *file, const char *what,
                                const char *name) {
        unsigned long long start = 0;
        pid_t pid = read_pid_file(dir, file, &start);

        if (pid > 0 && start != 0 && process_alive(pid, start) && process_state(pid) == 'T') {
                log_warning("the %s of VM '%s' (pid %d) was stopped by a signal, continuing it",
                            what, name, (int) pid);
                (void) kill(pid, SIGCONT);
        }
}

static int stop_hard(const char *name, const char *dir, const struct backend *b,
                     const char *binary) {
        unsigned long long start = 0;
        pid_t vmm = read_pid_file(dir, "vmm.pid", &start), sup;

        if (b && b->request_stop(binary, dir, 1) == 0 && wait_stopped(dir, 5000) == 0)
                return 0;
        if (vmm > 0 && start != 0 && process_alive(vmm, start)) {
                log_warning("killing the VMM of '%s' (pid %d)", name, (int) vmm);
                (void) kill(vmm, SIGKILL);
        }
        if (wait_stopped(dir, 10000) == 0)
                return 0;
        sup = read_pid_file(dir, "supervisor.pid", &start);
        if (sup > 0 && start != 0 && process_alive(sup, start)) {
                log_warning("the supervisor of '%s' (pid %d) hangs, killing it", name, (int) sup);
                (void) kill(sup, SIGKILL);
        }
        return wait_stopped(dir, 5000) == 0
                       ? -EAGAIN
                       : log_error_errno(ETIMEDOUT, "VM '%s' does not stop", name);
}

/* The supervisor asks the guest to power off again and again (its agent, the power button),
 * within `timeout_s` (queued with SIGTERM); without a live supervisor, the power button is
 * pressed once. */
static int ask_stop(const struct backend *b, const char *binary, const char *dir,
                    unsigned timeout_s) {
        unsigned long long start = 0;
        pid_t sup = read_pid_file(dir, "supervisor.pid", &start);
        union sigval timeout = { .sival_int = (int) timeout_s };

        if (sup > 0 && start != 0 && process_alive(sup, start) &&
            sigqueue(sup, SIGTERM, timeout) == 0)
                return 0;
        return b ? b->request_stop(binary, dir, 0) : -ESRCH;
}

static int stop_running(const char *name, const char *dir, unsigned timeout_s) {
        _cleanup_free_ char *binary = NULL, *paused = NULL, *failed = NULL;
        const struct backend *b;

        (void) runstate_write(dir, RS_STOPPING, "");
        stop_sup = read_pid_file(dir, "supervisor.pid", &stop_sup_start);
        continue_if_stopped(dir, "supervisor.pid", "supervisor", name);
        continue_if_stopped(dir, "vmm.pid", "VMM", name);
        b = recorded_backend(dir, &binary);
        if (!b) {
                /* still starting: the supervisor takes SIGTERM once the VM is up (or its start
                 * fails), presses the power button and undoes everything itself */
                if (ask_stop(NULL, NULL, dir, timeout_s) == 0 &&
                    wait_stopped(dir, (timeout_s + 35) * 1000) == 0)
                        return 0;
                b = recorded_backend(dir, &binary);
                return stop_hard(name, dir, b, binary);
        }
        paused = runstate_read(dir, RS_PAUSED);
        failed = runstate_exists(dir, RS_HELPER_FAILED) ? strdup("a helper failed") : NULL;
        if (paused || failed) {
                /* the guest cannot finish a clean shutdown: do not wait for it */
                log_notice("VM '%s' cannot shut down cleanly (%s), stopping it hard", name,
                           paused ? paused : failed);
                return stop_hard(name, dir, b, binary);
        }
        if (ask_stop(b, binary, dir, timeout_s) == 0 && wait_stopped(dir, timeout_s * 1000) == 0)
                return 0;
        log_warning("VM '%s' did not power off within %u s, stopping it hard", name, timeout_s);
        return stop_hard(name, dir, b, binary);
}

int vm_stop(const struct settings *s, const char *name, unsigned timeout_s) {
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        r = vm_name_check(name);
        if (r < 0)
                return r;
        dir = settings_runtime_dir(s, name);
        if (!dir)
                return log_oom();
        if (vm_runtime_dir_check(dir) < 0)
                return -EIO;
        if (state_is_running(dir) <= 0) {
                if (stat(dir, &st) == 0)
                        return vm_cleanup(s, name);
                log_notice("VM '%s' is not running", name);
                return 0;
        }
        r = stop_running(name, dir, timeout_s);
        if (r < 0 && r != -EAGAIN)
                return -EIO;
        /* the supervisor removes the run dir last; if it is still there, the supervisor died
         * before it finished its undo, which is ours now */
        for (int i = 0; i < 10 && stat(dir, &st) == 0 && state_is_running(dir) <= 0; i++)
                sleep_ms(20);
        if (state_is_running(dir) > 0)
                log_info("VM '%s' was started again by another command", name);
        else if (stat(dir, &st) == 0) {
                if (r != -EAGAIN)
                        log_warning(
                                "the supervisor of VM '%s' ended before it undid everything; finishing its undo",
                                name);
                return vm_cleanup(s, name);
        }
        log_notice("VM '%s' stopped", name);
        return 0;
}

int vm_cleanup(const struct settings *s, const char *name) {
        struct vm vm;
        int r, lock_fd, failures;

        r = vm_open(&vm, s, name);
        if (r < 0 && (!vm.runtime_dir || access(vm.runtime_dir, F_OK) < 0)) {
                vm_close(&vm);
                return r;
        }
        if (r < 0)
                log_warning("configuration of '%s' is broken; undoing only what the core recorded",
                            name);
        if (state_is_running(vm.runtime_dir) > 0) {
                log_error("VM '%s' is running; use 'vmsilo-core stop %s'", name, name);
                vm_close(&vm);
                return -EBUSY;
        }
        lock_fd = state_lock(vm.runtime_dir, s->uid, s->gid);
        if (lock_fd < 0) {
                if (lock_fd != -EBUSY)
                        log_lock_error(vm.runtime_dir, lock_fd);
                vm_close(&vm);
                return lock_fd == -EBUSY ? -EBUSY : -EIO;
        }
        failures = vm_undo(&vm);
        if (failures == 0)
                (void) state_remove(vm.runtime_dir, 0);
        safe_close(lock_fd);
        if (failures > 0) {
                _cleanup_free_ char *left = vm_journal_text(vm.runtime_dir, "; ");

                log_error(
                        "%d change(s) of VM '%s' could not be undone, left: %s; fix what is said above and run 'vmsilo-core cleanup %s' again",
                        failures, name, strempty(left), name);
                vm_close(&vm);
                return -EIO;
        }
        vm_close(&vm);
        log_info("VM '%s' cleaned up", name);
        return 0;
}

int vm_resume(const struct settings *s, const char *name) {
        _cleanup_free_ char *dir = settings_runtime_dir(s, name), *binary = NULL, *why = NULL;
        const struct backend *b;
        int state, r;

        if (!dir)
                return log_oom();
        if (vm_runtime_dir_check(dir) < 0)
                return -EIO;
        state = vm_run_state(dir, &why);
        if (state == VM_RUNNING) {
                log_notice("VM '%s' is not paused", name);
                return 0;
        }
        if (state != VM_PAUSED) {
                log_error("VM '%s' is not running", name);
                return -ESRCH;
        }
        b = recorded_backend(dir, &binary);
        if (!b || !b->resume) {
                log_error("VM '%s' cannot be resumed: its VMM has no resume", name);
                return -EIO;
        }
        r = b->resume(binary, dir);
        if (r < 0) {
                log_error_errno(r, "failed to resume VM '%s': %m", name);
                return -EIO;
        }
        /* the same error pauses it again at once if its cause is still there */
        for (int i = 0; i < 50 && runstate_exists(dir, RS_PAUSED); i++)
                sleep_ms(20);
        sleep_ms(500);
        free(why);
        why = runstate_read(dir, RS_PAUSED);
        if (why) {
                log_error("VM '%s' paused again: %s", name, why);
                return -EIO;
        }
        log_notice("VM '%s' resumed", name);
        return 0;
}

int vm_wait_up(const char *dir, const char *name, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        _cleanup_free_ char *why = NULL;
        int state;

        while ((state = vm_run_state(dir, NULL)) == VM_STARTING && now_ms() < deadline)
                sleep_ms(50);
        if (state == VM_RUNNING)
                return 0;
        if (state == VM_PAUSED) {
                why = runstate_read(dir, RS_PAUSED);
                return log_error_errno(
                        EAGAIN, "VM '%s' is paused: %s; run 'vmsilo-core resume %s' or stop it",
                        name, strempty(why), name);
        }
        if (state == VM_STARTING)
                return log_error_errno(ETIMEDOUT, "VM '%s' did not come up within %u s", name,
                                       timeout_s);
        return log_error_errno(ESRCH, "VM '%s' is not running (%s)", name,
                               vm_run_state_name(state));
}

char *vm_agent_address(const char *runtime_dir) {
        _cleanup_free_ char *text = runstate_read(runtime_dir, VM_AGENT_ADDRESS);

        return text ? strndup(text, strcspn(text, "\n")) : NULL;
}
