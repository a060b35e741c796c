/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* One `key = value` assignment as found in a file. */
struct conf_entry {
        char *file;
        unsigned line;
        char *section;  /* "net" of "[net eth0]" */
        char *instance; /* "eth0" of "[net eth0]", or NULL */
        char *key;
        char *value;
        int global; /* from a global conf.d drop-in (set by the pipeline) */
};

/* All assignments of a set of files, in reading order. */
struct conf {
        struct conf_entry *entries;
        size_t n;
        size_t allocated;
};

void conf_done(struct conf *c);

/* Parses one INI file (inih) and appends its assignments. Syntax errors are logged as
 * "path:line: ..." and counted; returns the number of errors (>= 0) or a negative errno. */
int conf_parse_file(struct conf *c, const char *path);

/* Appends one assignment made in memory (never parsed): `section` is "name" or "name instance";
 * `file` and `line` say where it came from in messages. Copies everything. */
int conf_add(struct conf *c, const char *file, unsigned line, const char *section, const char *key,
             const char *value);

/* Parses a string as if it were file `name` (tests). */
int conf_parse_string(struct conf *c, const char *name, const char *text);

/* Boolean and number parsing shared by the core's sections. 0 or -EINVAL. */
int parse_bool(const char *v, int *ret);
int parse_uint64(const char *v, unsigned long long *ret);
