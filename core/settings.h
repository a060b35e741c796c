/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "confdirs.h"

/* Where things are, from options, environment and defaults. */
struct settings {
        struct confdirs dirs;
        char *plugin_dir;   /* --plugin-dir, $VMSILO_PLUGIN_DIR, or the built-in one */
        char *runtime_base; /* --runtime-dir, $VMSILO_RUNTIME_DIR, ROOT/run/vmsilo, ... */
        char *cache_dir;    /* $VMSILO_CACHE_DIR, ROOT/var/cache/vmsilo, ... */
        char *state_dir;    /* $VMSILO_STATE_DIR, ROOT/var/lib/vmsilo, $XDG_STATE_HOME/vmsilo */
        uid_t uid;
        gid_t gid;
};

/* Any argument may be NULL for "from the environment or the default". */
int settings_init(struct settings *s, const char *root, const char *plugin_dir,
                  const char *runtime_base);
void settings_done(struct settings *s);

/* A copy of `src` whose configuration directories start with `dir` (not root-prefixed). */
int settings_clone_with_dir(struct settings *dst, const struct settings *src, const char *dir);

/* state_dir/NAME: what outlives a run (its last error, its VMM's last log); NULL on OOM. */
char *settings_state_dir(const struct settings *s, const char *name);

/* base/NAME; NULL on OOM. */
char *settings_runtime_dir(const struct settings *s, const char *name);
