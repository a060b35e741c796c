/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/strv.h"

/*
 * The configuration directories, highest precedence first, each already prefixed with the
 * root (--root / $VMSILO_ROOT). In each: conf.d/ *.conf, vms/NAME.conf, vms/NAME.conf.d/ *.conf.
 */
struct confdirs {
        char *root; /* "" for / */
        struct strv dirs;
};

/* `root` may be NULL or "" for "/"; `dirs` may be NULL for the default list. */
int confdirs_init(struct confdirs *c, const char *root, const struct strv *dirs);
/* The default list with `first` (an absolute path, e.g. ~/.config/vmsilo) above it. */
int confdirs_init_with_first(struct confdirs *c, const char *first);
void confdirs_done(struct confdirs *c);

/* Prefixes `path` with the root. */
char *confdirs_path(const struct confdirs *c, const char *path);

/*
 * The surviving *.conf files of `subdir` (e.g. "conf.d"): for each file name the one in the
 * highest-precedence directory; a symlink to /dev/null masks the name in all lower ones;
 * what is not a regular file (a directory, a dangling link) is skipped.
 * Sorted by file name regardless of directory. Appends full paths to `ret`.
 */
int confdirs_dropins(const struct confdirs *c, const char *subdir, struct strv *ret);

/* The files of VM `name`, in reading order: vms/NAME.conf then vms/NAME.conf.d/ *.conf.
 * Returns -ENOENT when the VM has no (unmasked) vms/NAME.conf. */
int confdirs_vm_files(const struct confdirs *c, const char *name, struct strv *ret);

/* Names of the configured VMs (unmasked vms/NAME.conf), sorted. */
int confdirs_list_vms(const struct confdirs *c, struct strv *ret);

/* 1 if `path` is a mask (a symlink, through any chain, to /dev/null), 0 if not. */
int conffile_is_masked(const char *path);
