/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/conf.h"
#include "config/settings.h"
#include "config/vmconf.h"
#include "config/vmdesc.h"
#include "plugin/loader.h"
#include "util/strv.h"

enum vm_phase {
        PHASE_LOAD,
        PHASE_CONFIGURE,
        PHASE_PREFLIGHT,
        PHASE_PREPARE,
        PHASE_CONTRIBUTE,
        PHASE_RUN,
        PHASE_UNDO,
};

struct backend;
struct vm_snapshot;

/* Everything one command knows about one VM. */
struct vm {
        const struct settings *settings;
        struct vm_config config;
        struct conf conf; /* global drop-ins, then the VM's own files */
        struct plugin_set plugins;
        struct vm_desc desc;
        const struct backend *backend;
        char *runtime_dir;
        char *probe_top;   /* `VMM --help` */
        char *probe_run;   /* `VMM run --help` (crosvm) */
        const char *accel; /* qemu: "kvm" or "tcg", decided by the probe */
        int probe_failed;  /* the VMM binary could not be probed (said once) */
        int dry_run;
        /* NULL, or a start for or from a snapshot (snapshot.h) */
        const struct vm_snapshot *snapshot;
        int phase;                      /* enum vm_phase */
        const struct conf_entry *entry; /* during configure, for path:line */
        int entry_logged;               /* the plugin already said what is wrong with it */
        char missing[512];              /* what vmm_can() last found missing */
};

/* Socket and file names inside the runtime dir. */
#define VM_CONTROL_SOCKET "control.sock"
#define VM_EVENTS_SOCKET "events.sock" /* a second QMP monitor, kept by the supervisor */
#define VM_CONSOLE_BACKEND "console-backend.sock"
#define VM_CONSOLE_SOCKET "console.sock"
#define VM_CONSOLE_LOG "console.log" /* in the state dir (settings.state_dir/NAME) */
#define VM_VMM_LOG "vmm.log"
#define VM_AGENT_SOCKET "agent-backend.sock" /* the VMM's end of the agent port */
#define VM_AGENT_MUX_SOCKET "agent.sock"     /* `run` clients, multiplexed */
#define VM_AGENT_ADDRESS "agent.addr"        /* where `run` reaches the guest agent */
#define VMSILO_AGENT_VSOCK_PORT 5000

/* Reads the configuration of VM `name`, loads and configures its plugins.
 * -ENOENT: no such VM (logged); -EINVAL: config error (logged); -ENOEXEC: plugin error. */
int vm_open(struct vm *vm, const struct settings *s, const char *name);
void vm_close(struct vm *vm);

/* Global configuration only (for `plugins`): loads the enabled plugins, runs nothing. */
int global_open(struct conf *conf, struct plugin_set *plugins, const struct settings *s, int load);

int vm_preflight(struct vm *vm);  /* every check; returns the number of failures */
int vm_prepare(struct vm *vm);    /* on failure, what was done is undone */
int vm_contribute(struct vm *vm); /* core devices, then every plugin's */

/* Undoes the journal of the runtime dir, newest first (also after a crash). Returns the
 * number of records that could not be undone. */
int vm_undo(struct vm *vm);

/* The records of the journal in `dir`, one phrase each ("file '/x'"), joined by `sep`;
 * malloc()ed, NULL if none. */
char *vm_journal_text(const char *dir, const char *sep);

/* "RUNDIR/FILE", NULL on OOM */
char *vm_path(const struct vm *vm, const char *file);

/* Initialises the host table of `p` (host.c). */
void host_table_init(struct plugin *p, struct vm *vm);
