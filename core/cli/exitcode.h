/* SPDX-License-Identifier: MIT */
#pragma once

/* vmsilo-core's exit codes (documented in vmsilo-core(1) and the README). */
enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1,     /* a runtime failure: prepare, the VMM, a helper */
        EXIT_USAGE = 2,       /* bad command line */
        EXIT_CONFIG = 3,      /* configuration or plugin loading error */
        EXIT_PREFLIGHT = 4,   /* one or more preflight checks failed */
        EXIT_NOT_FOUND = 5,   /* no such VM */
        EXIT_RUNNING = 6,     /* the VM is already running */
        EXIT_NOT_RUNNING = 7, /* the VM is not running (commands that need it running) */
        EXIT_DENIED = 8,      /* not allowed: the VM is root's and the caller not in its group */
};

/* Exit code of `run`/`exec` when there is no status from the guest command (the launcher,
 * the VM or the agent failed); 126/127 and 128+N keep their shell meanings. */
#define EXIT_NO_STATUS 125

/* The exit code for what a function of config/, plugin/ or run/ returned: 0, or the negative
 * errno they document (run/supervisor.h): -ENOENT no such VM, -EINVAL/-ENOEXEC configuration,
 * -ECANCELED preflight, -EBUSY running, -ESRCH not running, else a runtime failure. Only the
 * CLI turns errors into exit codes. */
int exit_code(int r);
