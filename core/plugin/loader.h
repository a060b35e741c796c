/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/conf.h"
#include "util/strv.h"
#include "vmsilo/plugin.h"

struct vm;

struct plugin {
        char *name;
        char *path;
        char *enabled_by; /* "file:line" of its [plugin NAME] section */
        void *dl;
        void **companions; /* dlopen() handles of plugin_companion(), closed after teardown */
        size_t n_companions;
        struct vmsilo_plugin desc; /* min(size, sizeof) of the plugin's descriptor */
        struct vmsilo_host host;   /* this plugin's host table; host.core = this */
        struct vm *vm;
        void *state;
        int initialized;
        int failed;             /* preflight or prepare failed */
        int enabled;            /* the last enable= of its [plugin NAME] sections, default yes */
        struct strv instances;  /* instances whose key defaults are applied (pluginkeys.c) */
        unsigned config_errors; /* bad keys: configured() is not called */
};

struct plugin_set {
        struct plugin **items;
        size_t n;
};

/*
 * Collects the enabled plugins from the [plugin NAME] sections (keys: enable, path) of
 * `conf`. Relative paths and the default path NAME.so are looked up in `plugin_dir`.
 * Logs "path:line: ..." errors; returns the number of errors or a negative errno.
 */
int plugin_set_collect(struct plugin_set *s, const struct conf *conf, const char *plugin_dir);

/* Loads every plugin (dlopen, descriptor and ABI checks). Logs one line per failure;
 * returns the number of failures. */
int plugin_set_load(struct plugin_set *s);

/* Runs teardown exactly once for every plugin whose init ran, then unloads. */
void plugin_set_done(struct plugin_set *s);

struct plugin *plugin_set_find(const struct plugin_set *s, const char *name);

/* Loads one plugin file; on error logs and returns negative errno. Exposed for tests. */
int plugin_load(struct plugin *p);

/* The host's companion(): `symbol` in NAME/FILE next to the plugin's NAME.so,
 * checked like the plugin and loaded with RTLD_NOW | RTLD_LOCAL; NULL after logging why. */
void *plugin_companion(struct plugin *p, const char *file, const char *symbol);

/* The minimum descriptor size this core accepts (ABI 1.0). */
#define VMSILO_PLUGIN_MIN_SIZE (offsetof(struct vmsilo_plugin, teardown) + sizeof(void (*)(void)))
