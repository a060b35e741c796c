/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "config/conf.h"
#include "util/strv.h"

enum sched_isolation {
        SCHED_ISOLATION_FULL,
        SCHED_ISOLATION_VM,
        SCHED_ISOLATION_OFF,
};

/* One [disk NAME] section. */
struct vm_disk {
        char *name;
        char *path;
        char *id;
        int read_only;
        int direct;
        int packed_queue;
        int sparse;
        const char *file; /* where [disk NAME] was first seen, for messages */
        unsigned line;
};

/* The core's own sections: [vm], [disk NAME], [crosvm], [qemu]. Defaults are vmsilo's. */
struct vm_config {
        char *name;
        uint32_t id; /* 0 = derive */

        unsigned long long memory_mib;
        unsigned long long cpus;
        int hugepages;
        int balloon_page_reporting;
        int boost_uclamp;
        int disable_virtio_intx;
        int no_i8042;
        int no_rtc;
        int s2idle;
        int sched_isolation; /* enum sched_isolation */
        char *kernel;
        char *initrd;
        char *root_disk;
        int root_read_only;
        struct strv kernel_params;
        int auto_shutdown;
        unsigned long long auto_shutdown_after;
        char *vmm;                           /* "crosvm" or "qemu" */
        unsigned long long console_log_size; /* bytes of console.log before it is rotated */
        char *user;                          /* the guest user of group members' commands */
        int allow_root_from_group;           /* members may ask for -u root */
        char *on_helper_failure;             /* "poweroff" (default), "kill", "keep" */

        struct vm_disk *disks;
        size_t n_disks;

        char *crosvm_path;
        char *crosvm_log_level;
        struct strv crosvm_extra_args;
        struct strv crosvm_extra_run_args;

        /* [exec]: the throw-away VMs of `vmsilo-core exec` */
        char *exec_kernel;
        char *exec_initrd;
        unsigned long long exec_memory_mib;
        unsigned long long exec_cpus;

        char *qemu_path;
        char *qemu_accel; /* auto, kvm, tcg */
        char *qemu_machine;
        struct strv qemu_extra_args;
};

int vm_config_init(struct vm_config *c, const char *name);
void vm_config_done(struct vm_config *c);

/* 1 if `section` belongs to the core. */
int vm_config_owns(const char *section);

/* Applies one entry of a core section; logs "path:line: ..." and returns -EINVAL on a bad key
 * or value. */
int vm_config_apply(struct vm_config *c, const struct conf_entry *e);

/* Checks that need every entry (required keys, cross-key rules). Logs each problem. */
int vm_config_verify(struct vm_config *c);

/* VM names become paths, socket and tap names: [A-Za-z0-9][A-Za-z0-9_-]{0,31}. */
int vm_name_valid(const char *name);

/* 0 for a valid VM name; else says what a name must be and returns -EINVAL. */
int vm_name_check(const char *name);
