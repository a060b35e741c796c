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
