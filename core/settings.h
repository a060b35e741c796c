/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "confdirs.h"

/* Where things are, from options, environment and defaults. */
struct settings {
        struct confdirs dirs;
        char *plugin_dir;          /* --plugin-dir, $VMSILO_PLUGIN_DIR, or the built-in one */
        char *runtime_base;        /* --runtime-dir, $VMSILO_RUNTIME_DIR, ROOT/run/vmsilo, ... */
        char *system_runtime_base; /* root's: the same, or ROOT/run/vmsilo for a user */
        char *cache_dir;           /* $VMSILO_CACHE_DIR, ROOT/var/cache/vmsilo, ... */
        uid_t uid;
        gid_t gid;
};

/* Any argument may be NULL for "from the environment or the default". */
int settings_init(struct settings *s, const char *root, const char *plugin_dir,
                  const char *runtime_base);
void settings_done(struct settings *s);

/* A copy of `src` whose configuration directories start with `dir` (not root-prefixed). */
int settings_clone_with_dir(struct settings *dst, const struct settings *src, const char *dir);

/* base/NAME; NULL on OOM. */
char *settings_runtime_dir(const struct settings *s, const char *name);
