/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * What a VM's supervisor tells the other commands, in files of the runtime dir (state.h has
 * the lock, journal and pid files), and what outlives a run in its state dir.
 */
#define RS_UP "up"                       /* "EPOCH\n": the VM has been up since */
#define RS_PAUSED "paused"               /* why the VMM paused the VM */
#define RS_STOPPING "stopping"           /* a `stop` is under way */
#define RS_HELPER_FAILED "helper-failed" /* "LABEL\tPID\tCAUSE" per helper that died */
#define RS_LAST_ERROR "last-error"       /* state dir: "EPOCH\tTEXT" lines */
#define RS_LAST_VMM_LOG "vmm.log"        /* state dir: the tail of the last run's VMM log */

enum vm_run_state {
        VM_STOPPED,
        VM_STARTING,
        VM_RUNNING,
        VM_PAUSED,
        VM_NEEDS_CLEANUP,
};

/* Replaces `dir/name` with `text` (write to a temp file, rename). */
int runstate_write(const char *dir, const char *name, const char *text);
/* Appends a line. */
int runstate_append(const char *dir, const char *name, const char *line);
int runstate_exists(const char *dir, const char *name);
/* The whole file, trailing newlines stripped, malloc()ed; NULL if missing (errno set). */
char *runstate_read(const char *dir, const char *name);

/* The state of the VM whose runtime dir is `dir`; with ret_detail, a malloc()ed
 * explanation (the pause reason, failed helpers, what is left) or NULL. */
int vm_run_state(const char *dir, char **ret_detail);
const char *vm_run_state_name(int state);

/* Keeps `text` as the VM's last error in its state dir (created if needed). */
void runstate_keep_error(const char *state_dir, const char *text);
/* Keeps the last `max` bytes of the file at `path` as state_dir/name. */
void runstate_keep_file(const char *state_dir, const char *name, const char *path, size_t max);
