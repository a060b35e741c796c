/* SPDX-License-Identifier: MIT */
/* Plugin keys: the declarative key table of ABI 1.1 (keytab.c), and configure() for the rest. */
#include <stdio.h>

#include "config/keytab.h"
#include "plugin/pluginkeys.h"
#include "plugin/vm.h"
#include "util/escape.h"
#include "util/log.h"

#define PREFIX_MAX 1024

static int entry_error(const struct plugin *p, const struct conf_entry *e, const char *fmt, ...)
        _printf_(3, 4);
static int entry_error(const struct plugin *p, const struct conf_entry *e, const char *fmt, ...) {
        char prefix[PREFIX_MAX];
        va_list ap;

        snprintf(prefix, sizeof(prefix), "%s:%u: %s", e->file, e->line, p->name);
        va_start(ap, fmt);
        (void) log_fullv(LOG_LEVEL_ERR, 0, prefix, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int plugin_keys_init(struct plugin *p) {
        int r = keytab_defaults(p->desc.keys, p->desc.key_size, p->state, 0);

        if (r < 0)
                return log_full(LOG_LEVEL_ERR, r, p->name, "cannot apply the key defaults: %m");
        return 0;
}

/* The struct that holds the keys of [NAME instance]; applies its defaults once. */
static int instance_base(struct plugin *p, const struct conf_entry *e, void **ret) {
        int r;

        p->vm->entry = e;
        p->vm->entry_logged = 0;
        r = p->desc.instance(p->state, e->instance, ret);
        p->vm->entry = NULL;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return p->vm->entry_logged
                               ? -EINVAL
                               : entry_error(p, e, "invalid section name '%s'", e->instance);
        if (strv_contains(&p->instances, e->instance))
                return 0;
        r = keytab_defaults(p->desc.keys, p->desc.key_size, *ret, 1);
        if (r >= 0)
                r = strv_push(&p->instances, e->instance);
        return r < 0 ? log_oom() : 0;
}

static int placement_error(struct plugin *p, const struct vmsilo_key *k,
                           const struct conf_entry *e) {
        if (!(k->flags & VMSILO_KEY_INSTANCE) && !p->desc.instance)
                return entry_error(p, e, "section [%s] takes no name, found '%s'", p->name,
                                   e->instance);
        if (k->flags & VMSILO_KEY_INSTANCE)
                return entry_error(p, e, "'%s' belongs in a named section [%s NAME], not in [%s]",
                                   e->key, p->name, p->name);
        return entry_error(p, e, "'%s' belongs in [%s] (without a name), not in [%s %s]", e->key,
                           p->name, p->name, e->instance);
}

static int apply_key(struct plugin *p, const struct vmsilo_key *k, const struct conf_entry *e) {
        char bad[256], why[512];
        void *base = p->state;
        int r;

        if (!base)
                return entry_error(p, e, "declares keys but init() gave it no state");
        if (!!(k->flags & VMSILO_KEY_INSTANCE) != !!e->instance ||
            (e->instance && !p->desc.instance))
                return placement_error(p, k, e);
        if (e->instance) {
                r = instance_base(p, e, &base);
                if (r < 0)
                        return r;
        }
        r = keytab_store(k, base, e->value, bad, sizeof(bad), why, sizeof(why));
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                /* the value may carry a newline or an escape (exec builds entries in memory) */
                _cleanup_free_ char *shown = text_escape(bad, strlen(bad));

                return entry_error(p, e, "invalid value '%s' for '%s' in [%s%s%s]: %s",
                                   shown ? shown : "?", e->key, p->name, e->instance ? " " : "",
                                   strempty(e->instance), why);
        }
        return 0;
}

/* An ABI 1.0 plugin, or a key outside the table: the plugin's own configure(). */
static int call_configure(struct plugin *p, const struct conf_entry *e) {
        struct vm *vm = p->vm;
        int r;

        if (!p->desc.configure)
                return -ENOENT;
        vm->entry = e;
        vm->entry_logged = 0;
        r = p->desc.configure(p->state, e->instance, e->key, e->value);
        vm->entry = NULL;
        if (r >= 0 || r == -ENOENT)
                return r < 0 ? r : 0;
        if (vm->entry_logged)
                return -EINVAL;
        return log_syntax(e->file, e->line, "invalid value '%s' for '%s' in [%s%s%s]", e->value,
                          e->key, e->section, e->instance ? " " : "", strempty(e->instance));
}

static int plugin_keys_apply_one(struct plugin *p, const struct conf_entry *e) {
        struct vmsilo_key k;
        int r;

        if (keytab_find(p->desc.keys, p->desc.key_size, e->key, !!e->instance, &k))
                return apply_key(p, &k, e);
        if (!p->desc.configure && !p->desc.keys)
                return log_syntax(e->file, e->line, "plugin '%s' takes no keys, found '%s'",
                                  p->name, e->key);
        r = call_configure(p, e);
        if (r == -ENOENT)
                return log_syntax(e->file, e->line, "unknown key '%s' in section [%s%s%s]", e->key,
                                  e->section, e->instance ? " " : "", strempty(e->instance));
        return r;
}

int plugin_keys_apply(struct plugin *p, const struct conf_entry *e) {
        int r = plugin_keys_apply_one(p, e);

        if (r < 0)
                p->config_errors++;
        return r;
}

int plugin_keys_done(struct plugin *p) {
        int r;

        /* cross-key rules over keys that were refused would only repeat the error */
        if (!p->desc.configured || p->config_errors)
                return 0;
        r = p->desc.configured(p->state);
        return r < 0 ? -EINVAL : 0;
}

const struct conf_entry *conf_find_entry(const struct conf *conf, const char *section,
                                         const char *instance, const char *key) {
        const struct conf_entry *found = NULL;

        for (size_t i = 0; i < conf->n; i++) {
                const struct conf_entry *e = &conf->entries[i];

                if (!streq(e->section, section) || !streq_ptr(e->instance, instance))
                        continue;
                if (!key)
                        return e;
                if (streq(e->key, key))
                        found = e;
        }
        return found;
}
