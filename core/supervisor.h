/* SPDX-License-Identifier: MIT */
#pragma once

#include "settings.h"

struct start_options {
        int foreground;
        unsigned stop_timeout_s; /* graceful stop window on SIGTERM */
        unsigned up_timeout_s;   /* how long the VMM may take to come up */
};

/* `start`: the whole pipeline, then the VMM under a supervisor. Returns an exit code. */
int vm_start(const struct settings *s, const char *name, const struct start_options *o);

/* `stop`: power button, then the VMM's stop, then kill; the supervisor undoes everything
 * (or this process does, if the supervisor is gone). Returns an exit code. */
int vm_stop(const struct settings *s, const char *name, unsigned timeout_s);

/* `cleanup`: undo whatever a crashed run left. Idempotent. Returns an exit code. */
int vm_cleanup(const struct settings *s, const char *name);

/* Maps vm_open()'s errors to exit codes. */
int exit_code_for_open(int r);

/* `resume`: continues a VM its VMM paused (an I/O error). Returns an exit code. */
int vm_resume(const struct settings *s, const char *name);

/* Waits while the VM is starting: 0 once it runs; logs why not (paused, gone, timeout). */
int vm_wait_up(const char *dir, const char *name, unsigned timeout_s);

/* The guest agent address a running VM recorded at start, malloc()ed, or NULL. */
char *vm_agent_address(const char *runtime_dir);
