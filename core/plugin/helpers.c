/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "plugin/helpers.h"
#include "plugin/vm.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

static int ready_now(const struct vmsilo_helper *h) {
        struct stat st;

        if (h->ready == VMSILO_READY_NONE)
                return 1;
        if (!h->socket || stat(h->socket, &st) < 0)
                return 0;
        return h->ready == VMSILO_READY_FILE || S_ISSOCK(st.st_mode);
}

static int helper_failed(const char *owner, const char *name, int status, const char *log) {
        _cleanup_free_ char *tail = file_tail(log, 2000);

        if (WIFSIGNALED(status))
                return log_full(LOG_LEVEL_ERR, ECHILD, owner,
                                "helper '%s' was killed by signal %d before it was ready: %s", name,
                                WTERMSIG(status), strempty(tail));
        return log_full(LOG_LEVEL_ERR, ECHILD, owner,
                        "helper '%s' exited with status %d before it was ready: %s", name,
                        WEXITSTATUS(status), strempty(tail));
}

static int wait_ready(const char *owner, const struct vmsilo_helper *h, pid_t pid,
                      const char *log) {
        unsigned timeout = h->timeout_ms ? h->timeout_ms : 5000;
        uint64_t deadline = now_ms() + timeout;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return helper_failed(owner, h->name, status, log);
                if (ready_now(h))
                        return 0;
                if (now_ms() >= deadline) {
                        _cleanup_free_ char *tail = file_tail(log, 1000);

                        return log_full(LOG_LEVEL_ERR, ETIMEDOUT, owner,
                                        "helper '%s' not ready after %u ms (waiting for '%s'): %s",
                                        h->name, timeout, strempty(h->socket), strempty(tail));
                }
                sleep_ms(5);
        }
}

int helper_start(struct vm *vm, const char *owner, const struct vmsilo_helper *helper) {
        struct vmsilo_helper h = {};
        _cleanup_free_ char *log = NULL, *label = NULL, *pid_s = NULL, *start_s = NULL;
        pid_t pid;
        int r;

        if (!helper || helper->size < offsetof(struct vmsilo_helper, timeout_ms) + 4)
                return -EINVAL;
        memcpy(&h, helper, helper->size < sizeof(h) ? helper->size : sizeof(h));
        if (isempty(h.name) || !h.argv || !h.argv[0])
                return log_full(LOG_LEVEL_ERR, EINVAL, owner, "helper without name or argv");
        r = vm_desc_add_helper(&vm->desc, owner, h.name, h.argv);
        if (r < 0 || vm->dry_run)
                return r;

        log = strdup_printf("%s/helper-%s-%s.log", vm->runtime_dir, owner, h.name);
        label = strdup_printf("%s/%s", owner, h.name);
        if (!log || !label)
                return -ENOMEM;
        /* journalled before the process, so undo (newest first) kills, then unlinks */
        r = journal_append(vm->runtime_dir, "unlink", log, NULL, NULL);
        if (r >= 0 && h.socket && h.socket[0] == '/')
                r = journal_append(vm->runtime_dir, "unlink", h.socket, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "failed to journal helper '%s': %m", label);
        pid = process_spawn((char *const *) h.argv, log, NULL, 0);
        if (pid < 0)
                return log_full(LOG_LEVEL_ERR, -pid, owner, "failed to start helper '%s': %m",
                                h.name);
        pid_s = strdup_printf("%d", (int) pid);
        start_s = strdup_printf("%llu", process_start_time(pid));
        if (!pid_s || !start_s)
                return -ENOMEM;
        r = journal_append(vm->runtime_dir, "kill", pid_s, start_s, label);
        if (r < 0) {
                (void) process_stop(pid, 0, 1000);
                return log_error_errno(r, "failed to journal helper '%s': %m", label);
        }
        r = wait_ready(owner, &h, pid, log);
        if (r < 0)
                return r;
        log_full(LOG_LEVEL_INFO, 0, owner, "helper '%s' (pid %d) is ready", h.name, (int) pid);
        return 0;
}
