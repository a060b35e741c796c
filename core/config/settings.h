/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "config/conf.h"
#include "config/confdirs.h"

/* Where things are, from options, environment and defaults. */
struct settings {
        struct confdirs dirs;
        char *plugin_dir;          /* --plugin-dir, $VMSILO_PLUGIN_DIR, or the built-in one */
        char *runtime_base;        /* --runtime-dir, $VMSILO_RUNTIME_DIR, ROOT/run/vmsilo, ... */
        char *system_runtime_base; /* root's: the same, or ROOT/run/vmsilo for a user */
        char *cache_dir;       /* $VMSILO_CACHE_DIR, ROOT/var/cache/vmsilo, ...; NULL: no cache */
        char *state_dir;       /* $VMSILO_STATE_DIR, ROOT/var/lib/vmsilo, $XDG_STATE_HOME/vmsilo */
        const char *inline_vm; /* a VM described in memory (exec), or NULL */
        const struct conf *inline_conf; /* its entries */
        uid_t uid;
        gid_t gid;
};

/* Any argument may be NULL for "from the environment or the default". */
int settings_init(struct settings *s, const char *root, const char *plugin_dir,
                  const char *runtime_base);
void settings_done(struct settings *s);

/* A copy of `src` in which VM `name` is described by `conf` (borrowed: it must outlive the
 * copy), built in memory, instead of by files. `name` is borrowed too. */
int settings_clone_with_vm(struct settings *dst, const struct settings *src, const char *name,
                           const struct conf *conf);

/* state_dir/NAME: what outlives a run (its last error, its VMM's last log); NULL on OOM. */
char *settings_state_dir(const struct settings *s, const char *name);

/* base/NAME; NULL on OOM. */
char *settings_runtime_dir(const struct settings *s, const char *name);
