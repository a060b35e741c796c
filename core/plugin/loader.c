/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config/conf.h"
#include "plugin/loader.h"
#include "util/log.h"
#include "util/strv.h"

struct plugin *plugin_set_find(const struct plugin_set *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->items[i]->name, name))
                        return s->items[i];
        return NULL;
}

static void plugin_free(struct plugin *p) {
        if (!p)
                return;
        if (p->initialized && p->desc.teardown)
                p->desc.teardown(p->state);
        p->initialized = 0;
        for (size_t i = p->n_companions; i > 0; i--)
                dlclose(p->companions[i - 1]);
        free(p->companions);
        if (p->dl)
                dlclose(p->dl);
        free(p->name);
        free(p->path);
        free(p->enabled_by);
        strv_done(&p->instances);
        free(p);
}

void plugin_set_done(struct plugin_set *s) {
        /* reverse order of loading */
        for (size_t i = s->n; i > 0; i--)
                plugin_free(s->items[i - 1]);
        free(s->items);
        *s = (struct plugin_set){};
}

static int plugin_name_valid(const char *name) {
        if (isempty(name) || strlen(name) > 32)
                return 0;
        for (const char *c = name; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", *c))
                        return 0;
        return 1;
}

static struct plugin *plugin_get(struct plugin_set *s, const struct conf_entry *e) {
        struct plugin *p = plugin_set_find(s, e->instance), **items;

        if (p)
                return p;
        p = calloc(1, sizeof(*p));
        items = realloc(s->items, (s->n + 1) * sizeof(*items));
        if (!p || !items) {
                free(p);
                if (items)
                        s->items = items;
                return NULL;
        }
        s->items = items;
        p->enabled = 1;
        p->name = strdup(e->instance);
        if (!p->name) {
                free(p);
                return NULL;
        }
        s->items[s->n++] = p;
        return p;
}

static int apply_plugin_entry(struct plugin_set *s, const struct conf_entry *e) {
        struct plugin *p;

        if (!e->instance || !plugin_name_valid(e->instance))
                return log_syntax(
                        e->file, e->line,
                        "invalid section [plugin%s%s]: expected [plugin NAME], NAME of a-z, 0-9, - and _",
                        e->instance ? " " : "", strempty(e->instance));
        p = plugin_get(s, e);
        if (!p)
                return log_oom();
        if (streq(e->key, "enable")) {
                if (parse_bool(e->value, &p->enabled) < 0)
                        return log_syntax(
                                e->file, e->line,
                                "invalid value '%s' for 'enable' in [plugin %s]: expected yes or no",
                                e->value, e->instance);
                free(p->enabled_by);
                p->enabled_by = strdup_printf("%s:%u", e->file, e->line);
                return p->enabled_by ? 0 : log_oom();
        }
        if (streq(e->key, "path")) {
                if (isempty(e->value))
                        return log_syntax(e->file, e->line, "empty 'path' in [plugin %s]",
                                          e->instance);
                free(p->path);
                p->path = strdup(e->value);
                return p->path ? 0 : log_oom();
        }
        return log_syntax(e->file, e->line,
                          "unknown key '%s' in [plugin %s]: expected enable or path", e->key,
                          e->instance);
}

static int resolve_paths(struct plugin_set *s, const char *plugin_dir) {
        size_t k = 0;

        for (size_t i = 0; i < s->n; i++) {
                struct plugin *p = s->items[i];
                char *path = NULL;

                if (!p->enabled || !p->enabled_by) {
                        plugin_free(p);
                        continue;
                }
                if (!p->path)
                        path = strdup_printf("%s/%s.so", plugin_dir, p->name);
                else if (p->path[0] != '/')
                        path = strdup_printf("%s/%s", plugin_dir, p->path);
                if (p->path && p->path[0] == '/')
                        ;
                else if (!path)
                        return log_oom();
                else {
                        free(p->path);
                        p->path = path;
                }
                s->items[k++] = p;
        }
        s->n = k;
        return 0;
}

int plugin_set_collect(struct plugin_set *s, const struct conf *conf, const char *plugin_dir) {
        int errors = 0, r;

        for (size_t i = 0; i < conf->n; i++) {
                const struct conf_entry *e = &conf->entries[i];

                if (!streq(e->section, "plugin"))
                        continue;
                r = apply_plugin_entry(s, e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        errors++;
        }
        r = resolve_paths(s, plugin_dir);
        return r < 0 ? r : errors;
}

static const char *path_basename(const char *p) {
        const char *s = strrchr(p, '/');

        return s ? s + 1 : p;
}

static int check_descriptor(struct plugin *p, const struct vmsilo_plugin *d) {
        const char *base = path_basename(p->path);
        size_t n = strlen(p->name);

        if (d->abi_major != VMSILO_PLUGIN_ABI_MAJOR)
                return log_error_errno(
                        EPROTO,
                        "plugin '%s': '%s' was built for plugin ABI %u, this vmsilo-core speaks ABI %u; rebuild it against this SDK",
                        p->name, p->path, d->abi_major, VMSILO_PLUGIN_ABI_MAJOR);
        if (d->size < VMSILO_PLUGIN_MIN_SIZE)
                return log_error_errno(
                        EPROTO,
                        "plugin '%s': descriptor in '%s' is %u bytes, ABI %u.0 needs at least %zu; rebuild it against this SDK",
                        p->name, p->path, d->size, VMSILO_PLUGIN_ABI_MAJOR,
                        (size_t) VMSILO_PLUGIN_MIN_SIZE);
        if (!d->name || !streq(d->name, p->name))
                return log_error_errno(
                        EINVAL,
                        "plugin '%s': '%s' calls itself '%s'; the descriptor name, the file name and the section name must match",
                        p->name, p->path, d->name ? d->name : "(null)");
        if (strncmp(base, p->name, n) != 0 || !streq(base + n, ".so"))
                return log_error_errno(EINVAL, "plugin '%s': file '%s' must be named '%s.so'",
                                       p->name, p->path, p->name);
        return 0;
}

static int dlopen_error(struct plugin *p) {
        const char *err = dlerror();

        if (!err)
                err = "unknown error";
        if (strstr(err, "undefined symbol"))
                return log_error_errno(
                        ENOEXEC,
                        "plugin '%s': cannot load '%s': %s; run 'ldd -r %s' to see what is missing",
                        p->name, p->path, err, p->path);
        if (strstr(err, "invalid ELF header") || strstr(err, "file too short") ||
            strstr(err, "only ET_DYN") || strstr(err, "not an ELF"))
                return log_error_errno(ENOEXEC, "plugin '%s': '%s' is not a shared object (%s)",
                                       p->name, p->path, err);
        return log_error_errno(ENOEXEC, "plugin '%s': cannot load '%s': %s", p->name, p->path, err);
}

/* Whether someone other than root and the caller could change what `st` is. A root-owned
 * sticky directory (/tmp) is safe as an ancestor: nobody else can replace what we own in it. */
static int untrusted_owner(const struct stat *st, int is_leaf) {
        /* group write is harmless for root's group and the caller's own (private) group */
        int group_ok = st->st_gid == 0 || st->st_gid == getegid();

        if (st->st_uid != 0 && st->st_uid != geteuid())
                return 1;
        if (!(st->st_mode & S_IWOTH) && (!(st->st_mode & S_IWGRP) || group_ok))
                return 0;
        return is_leaf || !S_ISDIR(st->st_mode) || !(st->st_mode & S_ISVTX) || st->st_uid != 0;
}

/* Plugins are code run by the core (as root for system VMs): the file and every directory
 * above it must be owned by root or the caller, and writable by nobody else. Symlinks are
 * resolved first, so what is checked is what dlopen() maps. */
static int check_trust(struct plugin *p, const char *file) {
        _cleanup_free_ char *real = realpath(file, NULL);
        struct stat st;

        if (!real)
                return log_error_errno(errno, "plugin '%s': cannot open '%s' (enabled by %s): %m",
                                       p->name, file, strempty(p->enabled_by));
        for (int leaf = 1;; leaf = 0) {
                const char *path = *real ? real : "/";

                if (stat(path, &st) < 0)
                        return log_error_errno(errno, "plugin '%s': cannot check '%s': %m", p->name,
                                               path);
                if (leaf && !S_ISREG(st.st_mode))
                        return log_error_errno(ENOEXEC, "plugin '%s': '%s' is not a regular file",
                                               p->name, file);
                if (untrusted_owner(&st, leaf))
                        return log_error_errno(
                                EPERM,
                                "plugin '%s': refusing '%s': '%s' is owned by uid %u with mode "
                                "%04o; plugins and their directories must be owned by root (or "
                                "you) and writable by no one else",
                                p->name, file, path, (unsigned) st.st_uid,
                                (unsigned) (st.st_mode & 07777));
                if (!*real)
                        break;
                *strrchr(real, '/') = 0;
        }
        return 0;
}

int plugin_load(struct plugin *p) {
        const struct vmsilo_plugin *d;
        size_t n;
        int r;

        r = check_trust(p, p->path);
        if (r < 0)
                return r;
        dlerror();
        p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
        if (!p->dl)
                return dlopen_error(p);
        d = dlsym(p->dl, VMSILO_PLUGIN_SYMBOL);
        if (!d)
                return log_error_errno(
                        ENOEXEC, "plugin '%s': '%s' does not export '%s'; is it a vmsilo plugin?",
                        p->name, p->path, VMSILO_PLUGIN_SYMBOL);
        r = check_descriptor(p, d);
        if (r < 0)
                return r;
        n = d->size < sizeof(p->desc) ? d->size : sizeof(p->desc);
        memset(&p->desc, 0, sizeof(p->desc));
        memcpy(&p->desc, d, n);
        return 0;
}

void *plugin_companion(struct plugin *p, const char *file, const char *symbol) {
        _cleanup_free_ char *path = NULL;
        const char *slash = strrchr(p->path, '/');
        size_t len = strlen(file);
        void *dl, *sym, **more;
        const char *err;

        if (strchr(file, '/') || file[0] == '.' || len < 4 || !streq(file + len - 3, ".so")) {
                log_error("plugin '%s': companion '%s' must be a file name ending in '.so'",
                          p->name, file);
                return NULL;
        }
        path = slash ? strdup_printf("%.*s/%s/%s", (int) (slash - p->path), p->path, p->name, file)
                     : strdup_printf("%s/%s", p->name, file);
        if (!path)
                return log_oom(), NULL;
        if (check_trust(p, path) < 0)
                return NULL;
        dlerror();
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                err = dlerror();
                log_error("plugin '%s': cannot load its companion '%s': %s", p->name, path,
                          err ? err : "unknown error");
                return NULL;
        }
        /* dlopen() counts: one dlclose() per call, in plugin_free() */
        more = reallocarray(p->companions, p->n_companions + 1, sizeof(*more));
        if (!more) {
                dlclose(dl);
                return log_oom(), NULL;
        }
        p->companions = more;
        p->companions[p->n_companions++] = dl;
        sym = dlsym(dl, symbol);
        if (!sym)
                log_error("plugin '%s': companion '%s' does not export '%s'; is it this plugin's?",
                          p->name, path, symbol);
        return sym;
}

int plugin_set_load(struct plugin_set *s) {
        int failures = 0;

        for (size_t i = 0; i < s->n; i++) {
                struct plugin *p = s->items[i];

                if (plugin_load(p) < 0) {
                        failures++;
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        struct plugin *o = s->items[j];

                        if (o->dl && o->dl == p->dl) {
                                log_error("plugin '%s': '%s' is already loaded as plugin '%s'",
                                          p->name, p->path, o->name);
                                failures++;
                        }
                }
        }
        return failures;
}
