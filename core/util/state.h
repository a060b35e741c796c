/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/*
 * Run state of one VM, in its runtime dir: `lock` (held by the supervisor while the VM runs),
 * `journal` (what prepare changed, one line per change, so that every change can be undone
 * by a later `stop`/`cleanup` even after a crash), `supervisor.pid`, `vmm.pid`, logs, sockets.
 */

/* Opens a runtime dir that may be trusted: a directory (not a symlink), owned by the caller
 * or root, not writable by group or others. Returns the fd, -ENOENT, -ENOTDIR (a symlink or
 * not a directory), -EPERM (someone else's, or writable by others). */
int state_dir_open(const char *dir);

/* Creates the runtime dir if needed (mode 0750, owned by uid/gid) and takes its lock; an
 * existing dir must pass state_dir_open(). Returns the lock fd, -EBUSY if the VM is running,
 * -ENOTDIR/-EPERM for a dir that is not to be trusted, or another negative errno. */
/* mkdir -p: the missing parents with `parent_mode`, `path` itself with `mode`; an existing
 * directory is not an error. */
int mkdir_parents(const char *path, mode_t parent_mode, mode_t mode);

int state_lock(const char *dir, uid_t uid, gid_t gid);

/* Opens (creating it and missing parents 0700) a VM's state dir, which outlives its runs
 * (the last console log): a directory, not a symlink, owned by the caller or uid and not
 * writable by others. Returns the fd, -ENOTDIR (a symlink), -EPERM (someone else's), ... */
int state_keep_dir_open(const char *dir, uid_t uid, gid_t gid);

/* 1 if the lock is held by a live process, 0 if not (or no dir). */
int state_is_running(const char *dir);

/* Appends a record and fsyncs. Fields are escaped; record kinds:
 *   "unlink" PATH | "kill" PID START NAME | "plugin" NAME ACTION */
int journal_append(const char *dir, const char *kind, const char *a, const char *b, const char *c);

/* One journal record. */
struct journal_record {
        char *kind;
        char *a, *b, *c;
};

/* Reads all records, oldest first; none if there is no journal. -ENOTDIR/-EPERM (nothing
 * read) when the dir or the journal is not to be trusted (see state_dir_open()). */
int journal_read(const char *dir, struct journal_record **ret, size_t *ret_n);
/* Replaces the journal with `recs` (what could not be undone), atomically. */
int journal_keep(const char *dir, const struct journal_record *recs, size_t n);
void journal_records_free(struct journal_record *r, size_t n);

/* Removes the runtime dir's files, then the dir. With `keep_lock`, the lock file (which the
 * caller holds) and the dir stay. */
int state_remove(const char *dir, int keep_lock);

int write_pid_file(const char *dir, const char *name, pid_t pid);
/* Reads a pid file: returns the pid, and the start time that was recorded with it. */
pid_t read_pid_file(const char *dir, const char *name, unsigned long long *ret_start);
