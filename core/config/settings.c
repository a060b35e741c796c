/* SPDX-License-Identifier: MIT */
#include <pwd.h>
#include <stdio.h>

#include "config/settings.h"
#include "util/log.h"

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
        if (uid == 0)
                return strdup("/run/vmsilo");
        if (isempty(xdg))
                return strdup_printf("/run/user/%u/vmsilo", (unsigned) uid);
        return strdup_printf("%s/vmsilo", xdg);
}

/* A user's own VMs: $XDG_CONFIG_HOME/vmsilo (~/.config/vmsilo), above the system's. */
static int user_conf_dirs(struct confdirs *dirs) {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        _cleanup_free_ char *mine = NULL;

        if (!isempty(xdg))
                mine = strdup_printf("%s/vmsilo", xdg);
        else if (!isempty(home))
                mine = strdup_printf("%s/.config/vmsilo", home);
        else
                return confdirs_init(dirs, NULL, NULL);
        return mine ? confdirs_init_with_first(dirs, mine) : -ENOMEM;
}

/* $HOME, or the account's home when it is unset or relative; NULL if there is none. */
static const char *home_dir(uid_t uid) {
        const char *home = getenv("HOME");
        struct passwd *pw;

        if (!isempty(home) && home[0] == '/' && !streq(home, "/"))
                return home;
        pw = getpwuid(uid);
        if (pw && !isempty(pw->pw_dir) && pw->pw_dir[0] == '/' && !streq(pw->pw_dir, "/"))
                return pw->pw_dir;
        return NULL;
}

/* A per-user XDG directory: $VAR/vmsilo, else HOME/fallback/vmsilo; NULL if no home. Never
 * under /tmp, where anyone could have made it first. */
static char *user_dir(uid_t uid, const char *var, const char *fallback) {
        const char *xdg = getenv(var), *home;

        if (!isempty(xdg) && xdg[0] == '/')
                return strdup_printf("%s/vmsilo", xdg);
        home = home_dir(uid);
        if (!home) {
                errno = ENOENT;
                return NULL;
        }
        return strdup_printf("%s/%s/vmsilo", home, fallback);
}

static char *default_system_dir(const char *root, uid_t uid, const char *path, const char *var,
                                const char *fallback, int *oom) {
        char *d;

        if (!isempty(root) && !streq(root, "/"))
                d = strdup_printf("%s%s", root, path);
        else if (uid == 0)
                d = strdup(path);
        else {
                d = user_dir(uid, var, fallback);
                if (!d && errno != ENOMEM)
                        return NULL;
        }
        if (!d)
                *oom = 1;
        return d;
}

int settings_init(struct settings *s, const char *root, const char *plugin_dir,
                  const char *runtime_base) {
        const char *v;
        int r, oom = 0;

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
        } else if (s->uid != 0 && isempty(root))
                r = user_conf_dirs(&s->dirs);
        else
                r = confdirs_init(&s->dirs, root, NULL);
        if (r < 0)
                return r;
        v = first(plugin_dir, getenv("VMSILO_PLUGIN_DIR"));
        s->plugin_dir = strdup(v ? v : VMSILO_PLUGIN_DIR);
        v = first(runtime_base, getenv("VMSILO_RUNTIME_DIR"));
        s->runtime_base = v ? strdup(v) : default_runtime_base(root, s->uid);
        /* where root's VMs run, for a user who reaches them through their client sockets */
        s->system_runtime_base = v ? strdup(v) : default_runtime_base(root, 0);
        v = getenv("VMSILO_CACHE_DIR");
        if (!isempty(v) && !(s->cache_dir = strdup(v)))
                oom = 1;
        else if (isempty(v))
                s->cache_dir = default_system_dir(root, s->uid, "/var/cache/vmsilo",
                                                  "XDG_CACHE_HOME", ".cache", &oom);
        v = getenv("VMSILO_STATE_DIR");
        if (!isempty(v) && !(s->state_dir = strdup(v)))
                oom = 1;
        else if (isempty(v))
                s->state_dir = default_system_dir(root, s->uid, "/var/lib/vmsilo", "XDG_STATE_HOME",
                                                  ".local/state", &oom);
        if (!s->plugin_dir || !s->runtime_base || !s->system_runtime_base || oom)
                return -ENOMEM;
        return 0;
}

void settings_done(struct settings *s) {
        confdirs_done(&s->dirs);
        free(s->plugin_dir);
        free(s->runtime_base);
        free(s->system_runtime_base);
        free(s->cache_dir);
        free(s->state_dir);
}

/* NULL (errno ENOENT) when there is no state dir (a user without a home) */
char *settings_state_dir(const struct settings *s, const char *name) {
        if (!s->state_dir) {
                errno = ENOENT;
                return NULL;
        }
        return strdup_printf("%s/%s", s->state_dir, name);
}

char *settings_runtime_dir(const struct settings *s, const char *name) {
        return strdup_printf("%s/%s", s->runtime_base, name);
}

int settings_clone_with_vm(struct settings *dst, const struct settings *src, const char *name,
                           const struct conf *conf) {
        *dst = (struct settings){ .uid = src->uid, .gid = src->gid };
        dst->dirs.root = strdup(src->dirs.root);
        dst->plugin_dir = strdup(src->plugin_dir);
        dst->runtime_base = strdup(src->runtime_base);
        dst->system_runtime_base = strdup(src->system_runtime_base);
        dst->cache_dir = src->cache_dir ? strdup(src->cache_dir) : NULL;
        dst->state_dir = src->state_dir ? strdup(src->state_dir) : NULL;
        if (!dst->dirs.root || !dst->plugin_dir || !dst->runtime_base ||
            !dst->system_runtime_base || (src->cache_dir && !dst->cache_dir) ||
            (src->state_dir && !dst->state_dir))
                return -ENOMEM;
        dst->inline_vm = name;
        dst->inline_conf = conf;
        return strv_extend(&dst->dirs.dirs, &src->dirs.dirs);
}
