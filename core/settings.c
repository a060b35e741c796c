/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "log.h"
#include "settings.h"

#ifndef VMSILO_PLUGIN_DIR
#define VMSILO_PLUGIN_DIR "/usr/lib/vmsilo/plugins"
#endif

static const char *first(const char *a, const char *b) {
        return !isempty(a) ? a : !isempty(b) ? b : NULL;
}

static char *default_runtime_base(const char *root, uid_t uid) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (!isempty(root) && !streq(root, "/"))
                return strdup_printf("%s/run/vmsilo", root);
        if (uid == 0 || isempty(xdg))
                return strdup("/run/vmsilo");
        return strdup_printf("%s/vmsilo", xdg);
}

static char *default_cache_dir(const char *root, uid_t uid) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

        if (!isempty(root) && !streq(root, "/"))
                return strdup_printf("%s/var/cache/vmsilo", root);
        if (uid == 0)
                return strdup("/var/cache/vmsilo");
        if (!isempty(xdg))
                return strdup_printf("%s/vmsilo", xdg);
        return strdup_printf("%s/.cache/vmsilo", isempty(home) ? "/tmp" : home);
}

static char *default_state_dir(const char *root, uid_t uid) {
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

        if (!isempty(root) && !streq(root, "/"))
                return strdup_printf("%s/var/lib/vmsilo", root);
        if (uid == 0)
                return strdup("/var/lib/vmsilo");
        if (!isempty(xdg))
                return strdup_printf("%s/vmsilo", xdg);
        return strdup_printf("%s/.local/state/vmsilo", isempty(home) ? "/tmp" : home);
}

int settings_init(struct settings *s, const char *root, const char *plugin_dir,
                  const char *runtime_base) {
        const char *v;
        int r;

        *s = (struct settings){ .uid = geteuid(), .gid = getegid() };
        root = first(root, getenv("VMSILO_ROOT"));
        v = getenv("VMSILO_CONF_PATH");
        if (!isempty(v)) {
                /* colon-separated, highest precedence first, under the root */
                struct strv dirs = {};
                _cleanup_free_ char *copy = strdup(v);
                char *save = NULL;

                r = copy ? 0 : -ENOMEM;
                for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && r >= 0;
                     d = strtok_r(NULL, ":", &save))
                        r = strv_push(&dirs, d);
                if (r >= 0)
                        r = confdirs_init(&s->dirs, root, &dirs);
                strv_done(&dirs);
        } else
                r = confdirs_init(&s->dirs, root, NULL);
        if (r < 0)
                return r;
        v = first(plugin_dir, getenv("VMSILO_PLUGIN_DIR"));
        s->plugin_dir = strdup(v ? v : VMSILO_PLUGIN_DIR);
        v = first(runtime_base, getenv("VMSILO_RUNTIME_DIR"));
        s->runtime_base = v ? strdup(v) : default_runtime_base(root, s->uid);
        v = getenv("VMSILO_CACHE_DIR");
        s->cache_dir = !isempty(v) ? strdup(v) : default_cache_dir(root, s->uid);
        v = getenv("VMSILO_STATE_DIR");
        s->state_dir = !isempty(v) ? strdup(v) : default_state_dir(root, s->uid);
        if (!s->plugin_dir || !s->runtime_base || !s->cache_dir || !s->state_dir)
                return -ENOMEM;
        return 0;
}

void settings_done(struct settings *s) {
        confdirs_done(&s->dirs);
        free(s->plugin_dir);
        free(s->runtime_base);
        free(s->cache_dir);
        free(s->state_dir);
}

char *settings_state_dir(const struct settings *s, const char *name) {
        return strdup_printf("%s/%s", s->state_dir, name);
}

char *settings_runtime_dir(const struct settings *s, const char *name) {
        return strdup_printf("%s/%s", s->runtime_base, name);
}

int settings_clone_with_dir(struct settings *dst, const struct settings *src, const char *dir) {
        int r;

        *dst = (struct settings){ .uid = src->uid, .gid = src->gid };
        dst->dirs.root = strdup(src->dirs.root);
        dst->plugin_dir = strdup(src->plugin_dir);
        dst->runtime_base = strdup(src->runtime_base);
        dst->cache_dir = strdup(src->cache_dir);
        dst->state_dir = strdup(src->state_dir);
        if (!dst->dirs.root || !dst->plugin_dir || !dst->runtime_base || !dst->cache_dir ||
            !dst->state_dir)
                return -ENOMEM;
        r = strv_push(&dst->dirs.dirs, dir);
        if (r >= 0)
                r = strv_extend(&dst->dirs.dirs, &src->dirs.dirs);
        return r;
}
