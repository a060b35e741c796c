/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/settings.h"

struct start_options {
        int foreground;
        unsigned stop_timeout_s; /* graceful stop window on SIGTERM */
        unsigned up_timeout_s;   /* how long the VMM may take to come up */
        /* NULL, or boot for a snapshot / restore one (snapshot.h). A restore's ram_fd and
         * state_fd are taken over by the supervisor: a daemonized start leaves the caller's
         * copies open, a foreground start consumes them. Any failure of a restore fails the
         * start. */
        const struct vm_snapshot *snapshot;
};

/*
 * What the functions below return, the CLI turns into its exit codes (cli/exitcode.c): 0, or
 * a negative errno after logging why. -ENOENT no such VM, -EINVAL/-ENOEXEC a bad
 * configuration or plugin, -ECANCELED a preflight check failed, -EBUSY the VM runs (start,
 * cleanup), -ESRCH it does not (resume); anything that failed at run time is -EIO.
 */

/* `start`: the whole pipeline, then the VMM under a supervisor. 0 once the VM is up (with
 * `foreground`, once it ended well); also 0 when another command's start brought it up. */
int vm_start(const struct settings *s, const char *name, const struct start_options *o);

/* `stop`: power button, then the VMM's stop, then kill; the supervisor undoes everything
 * (or this process does, if the supervisor is gone). A VM that is not running is not an
 * error. */
int vm_stop(const struct settings *s, const char *name, unsigned timeout_s);

/* `cleanup`: undo whatever a crashed run left. Idempotent. */
int vm_cleanup(const struct settings *s, const char *name);

/* 0 if `dir` is missing or may be trusted (state_dir_open()), else says why and returns a
 * negative errno: what a runtime dir says (pids, sockets, the agent's address) is acted on
 * only when it is the caller's or root's. */
int vm_runtime_dir_check(const char *dir);

/* Logs why the runtime dir `dir` could not be locked (r: a negative errno); returns r. */
int log_lock_error(const char *dir, int r);

/* `resume`: continues a VM its VMM paused (an I/O error). */
int vm_resume(const struct settings *s, const char *name);

/* Waits while the VM is starting: 0 once it runs; logs why not (paused, gone, timeout). */
int vm_wait_up(const char *dir, const char *name, unsigned timeout_s);

/* The guest agent address a running VM recorded at start, malloc()ed, or NULL. */
char *vm_agent_address(const char *runtime_dir);
