/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/conf.h"
#include "plugin/loader.h"

/* After init: the defaults of the plugin's [NAME] keys. Logs; 0 or negative errno. */
int plugin_keys_init(struct plugin *p);

/* One entry of the plugin's sections: through its key table, else its configure().
 * Logs "path:line: ..."; 0, -EINVAL or -ENOMEM. */
int plugin_keys_apply(struct plugin *p, const struct conf_entry *e);

/* After the last entry: the plugin's configured() hook, unless a key was refused. 0 or
 * -EINVAL. */
int plugin_keys_done(struct plugin *p);

/* "path:line" of the last assignment of `key` in [section instance] of `conf` (key NULL: the
 * first line of that section); NULL if there is none. */
const struct conf_entry *conf_find_entry(const struct conf *conf, const char *section,
                                         const char *instance, const char *key);
