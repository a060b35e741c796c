/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "util/macro.h"

/* A growable NULL-terminated array of malloc()ed strings. */
struct strv {
        char **items;
        size_t n;
        size_t allocated;
};

void strv_done(struct strv *v);
int strv_push(struct strv *v, const char *s); /* copies s */
int strv_consume(struct strv *v, char *s);    /* takes s, also on failure */
int strv_pushf(struct strv *v, const char *fmt, ...) _printf_(2, 3);
int strv_extend(struct strv *v, const struct strv *other);
void strv_clear(struct strv *v);
int strv_contains(const struct strv *v, const char *s);

/* "a b 'c d'" style quoting, for display and for scripts. Returns malloc()ed string. */
char *shell_quote(const char *s);
char *strv_join_quoted(const struct strv *v, const char *sep);

char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
