/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/* How a start uses a snapshot (the backend reads it through vm->snapshot). */
enum vm_snapshot_mode {
        VM_SNAPSHOT_SAVE = 1, /* boot normally, RAM in ram_path, ready to be saved */
        VM_SNAPSHOT_RESTORE,  /* RAM is the private copy ram_fd, device state in state_path */
};

struct vm_snapshot {
        int mode;               /* enum vm_snapshot_mode */
        const char *ram_path;   /* SAVE: the RAM file the VMM creates */
        int ram_fd;             /* RESTORE: the private RAM copy (see start_options) */
        int state_fd;           /* RESTORE: the device state to load, read by the VMM */
        const char *state_path; /* RESTORE: where state_fd was opened, for messages */
        int ram_ready_fd;       /* RESTORE: 1 byte once ram_fd is complete, EOF if the copy
                                 * failed; -1: complete from the start */
        pid_t copier;           /* RESTORE: the process that copies, 0 if none */
};

/* Waits until the plan's RAM copy is complete: 0, or -EIO if it failed. */
int snapshot_ram_wait(const struct vm_snapshot *plan, unsigned timeout_ms);
