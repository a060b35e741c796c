/* SPDX-License-Identifier: MIT */
#pragma once

#include "backend/snapshot-plan.h"
#include "config/settings.h"

struct vm;

/* The exec template of the VM description `template_vm` (an exec VM without shares), as
 * opened with `s`: a booted guest whose agent waits for a command, saved. */
struct snapshot_template;

/*
 * Finds the template for `template_vm`, building it (once, under a lock, published by
 * rename) when there is none or it is stale: its key is the kernel, initrd, memory, cpus,
 * machine type, accelerator and VMM binary and version. `*ret` is NULL (and 0 returned)
 * when the VMM cannot snapshot; the reason is in ret_why. Negative errno on failure, with the
 * reason in ret_why (malloc()ed). Logs a notice when it builds, errors only from vm_start().
 */
int snapshot_template_get(const struct settings *s, const char *template_vm, int build,
                          struct snapshot_template **ret, char **ret_why);
struct snapshot_template *snapshot_template_free(struct snapshot_template *t);
/* Removes a template that did not restore, so that the next exec builds a new one. */
void snapshot_template_discard(struct snapshot_template *t);
const char *snapshot_template_dir(const struct snapshot_template *t);

/* A restore plan for vm_start(): a private copy of the template's RAM (an unlinked file on
 * tmpfs, so concurrent restores never share writable memory and nothing is left behind),
 * made by a child process while the VM starts, and the device state opened. Release it
 * with snapshot_restore_plan_done() after vm_start. */
int snapshot_restore_plan(const struct snapshot_template *t, const char *tmp_dir,
                          struct vm_snapshot *ret);
void snapshot_restore_plan_done(struct vm_snapshot *plan);

/* After a restore: connects to the agent at `address`, gives the guest fresh entropy and
 * the host's clock, and mounts each "TAG MOUNTPOINT ro|rw" of `mounts` (NULL-terminated).
 * 0 when the guest did all of it; negative errno (reason in ret_why) otherwise. */
int snapshot_resume_guest(const char *address, char *const *mounts, unsigned timeout_s,
                          char **ret_why);
