/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "util/strv.h"

void strv_done(struct strv *v) {
        for (size_t i = 0; i < v->n; i++)
                free(v->items[i]);
        free(v->items);
        *v = (struct strv){};
}

void strv_clear(struct strv *v) {
        for (size_t i = 0; i < v->n; i++)
                free(v->items[i]);
        v->n = 0;
        if (v->items)
                v->items[0] = NULL;
}

int strv_consume(struct strv *v, char *s) {
        if (!s)
                return -ENOMEM;
        if (v->n + 2 > v->allocated) {
                size_t a = v->allocated ? v->allocated * 2 : 8;
                char **items = realloc(v->items, a * sizeof(char *));

                if (!items) {
                        free(s);
                        return -ENOMEM;
                }
                v->items = items;
                v->allocated = a;
        }
        v->items[v->n++] = s;
        v->items[v->n] = NULL;
        return 0;
}

int strv_push(struct strv *v, const char *s) {
        return strv_consume(v, strdup(s));
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

int strv_pushf(struct strv *v, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(v, s);
}

int strv_extend(struct strv *v, const struct strv *other) {
        int r;

        for (size_t i = 0; i < other->n; i++) {
                r = strv_push(v, other->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int strv_contains(const struct strv *v, const char *s) {
        for (size_t i = 0; i < v->n; i++)
                if (streq(v->items[i], s))
                        return 1;
        return 0;
}

static int shell_safe(const char *s) {
        if (!*s)
                return 0;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-+=/.,:@%",
                            *s))
                        return 0;
        return 1;
}

char *shell_quote(const char *s) {
        size_t n = 3;
        char *q, *p;

        if (shell_safe(s))
                return strdup(s);
        for (const char *c = s; *c; c++)
                n += *c == '\'' ? 4 : 1;
        q = p = malloc(n);
        if (!q)
                return NULL;
        *p++ = '\'';
        for (const char *c = s; *c; c++) {
                if (*c == '\'') {
                        memcpy(p, "'\\''", 4);
                        p += 4;
                } else
                        *p++ = *c;
        }
        *p++ = '\'';
        *p = 0;
        return q;
}

char *strv_join_quoted(const struct strv *v, const char *sep) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < v->n; i++) {
                _cleanup_free_ char *q = shell_quote(v->items[i]);

                if (!q) {
                        fclose(f);
                        free(buf);
                        return NULL;
                }
                fprintf(f, "%s%s", i > 0 ? sep : "", q);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
