/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h" /* a sibling: the mock host builds this file on its own */

static const struct vmsilo_key *key_at(const struct vmsilo_key *keys, size_t key_size, size_t i) {
        return (const struct vmsilo_key *) (const void *) ((const char *) keys + i * key_size);
}

int keytab_find(const struct vmsilo_key *keys, size_t key_size, const char *name, int instance,
                struct vmsilo_key *ret) {
        const struct vmsilo_key *found = NULL;

        if (!keys || key_size < KEYTAB_MIN_SIZE)
                return 0;
        for (size_t i = 0; key_at(keys, key_size, i)->name; i++) {
                const struct vmsilo_key *k = key_at(keys, key_size, i);

                if (strcmp(k->name, name) != 0)
                        continue;
                if (!found || !!(k->flags & VMSILO_KEY_INSTANCE) == !!instance)
                        found = k;
        }
        if (found)
                memcpy(ret, found, sizeof(*ret));
        return !!found;
}

int keytab_has_instance_keys(const struct vmsilo_key *keys, size_t key_size) {
        if (!keys || key_size < KEYTAB_MIN_SIZE)
                return 0;
        for (size_t i = 0; key_at(keys, key_size, i)->name; i++)
                if (key_at(keys, key_size, i)->flags & VMSILO_KEY_INSTANCE)
                        return 1;
        return 0;
}

void keytab_expected(const struct vmsilo_key *k, char *buf, size_t size) {
        size_t n = 0, len;

        if (k->expected) {
                snprintf(buf, size, "%s", k->expected);
                return;
        }
        switch (k->type) {
        case VMSILO_KEY_BOOL:
                snprintf(buf, size, "%s",
                         k->flags & VMSILO_KEY_AUTO ? "auto, yes or no" : "yes or no");
                return;
        case VMSILO_KEY_UINT:
                snprintf(buf, size, "a number from %llu to %llu", k->min, k->max ? k->max : ~0ULL);
                return;
        case VMSILO_KEY_SIZE:
                snprintf(buf, size, "a size such as 512M or 10G");
                return;
        case VMSILO_KEY_PATH:
                snprintf(buf, size, "an absolute path");
                return;
        case VMSILO_KEY_PROGRAM:
                snprintf(buf, size, "an absolute path or a program name to look up in $PATH");
                return;
        case VMSILO_KEY_ENUM: {
                /* "a, b or c"; an empty word (the reset) is not listed */
                size_t first = 0;

                buf[0] = 0;
                for (size_t i = 0; k->values && k->values[i]; i++)
                        n = i + 1;
                while (first < n && !k->values[first][0])
                        first++;
                for (size_t i = first; i < n && (len = strlen(buf)) < size; i++)
                        snprintf(buf + len, size - len, "%s%s",
                                 i == first   ? ""
                                 : i + 1 == n ? " or "
                                              : ", ",
                                 k->values[i]);
                return;
        }
        default:
                snprintf(buf, size, "a non-empty value");
        }
}

/* Decimal digits, then (for SIZE) one of K, M, G, T. */
static int parse_number(const char *v, int suffix, unsigned long long *ret) {
        unsigned long long n, mult = 1;
        char *end;

        if (!isdigit((unsigned char) v[0]))
                return -EINVAL;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno)
                return -EINVAL;
        if (suffix && *end) {
                const char *units = "KMGT", *u = strchr(units, *end);

                if (!u || end[1])
                        return -EINVAL;
                for (const char *p = units; p <= u; p++)
                        mult <<= 10;
                end++;
        }
        if (*end || (n && n > ~0ULL / mult))
                return -EINVAL;
        *ret = n * mult;
        return 0;
}

/* A string-typed item: the type's own rule, then the plugin's validator (which may say why
 * in `why`). */
static int string_valid(const struct vmsilo_key *k, const char *v, char *why, size_t whysz) {
        if (!v[0])
                return 0;
        if (k->type == VMSILO_KEY_PATH && v[0] != '/')
                return 0;
        /* paths reach an argv or the kernel command line: a newline or an escape in one is a
         * mistake or an attack, never a file someone meant */
        if (k->type == VMSILO_KEY_PATH || k->type == VMSILO_KEY_PROGRAM)
                for (const unsigned char *c = (const unsigned char *) v; *c; c++)
                        if (*c < 0x20 || *c == 0x7f) {
                                snprintf(why, whysz, "no control characters in a path");
                                return 0;
                        }
        if (k->type == VMSILO_KEY_PROGRAM && v[0] != '/' && strchr(v, '/'))
                return 0;
        return !k->validate || k->validate(v, why, whysz);
}

static int set_string(char **field, const char *v) {
        char *s = strdup(v);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int list_push(char ***field, const char *item) {
        size_t n = 0;
        char **l;

        while (*field && (*field)[n])
                n++;
        l = realloc(*field, (n + 2) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        *field = l;
        l[n] = strdup(item);
        l[n + 1] = NULL;
        return l[n] ? 0 : -ENOMEM;
}

static void list_clear(char ***field) {
        for (char **i = *field; i && *i; i++)
                free(*i);
        free(*field);
        *field = NULL;
}

/* `why` holds the validator's reason, or "" for "expected ..." */
static int invalid(const struct vmsilo_key *k, const char *item, size_t n, char *bad, size_t badsz,
                   char *why, size_t whysz) {
        snprintf(bad, badsz, "%.*s", (int) n, item);
        if (!why[0]) {
                size_t len = (size_t) snprintf(why, whysz, "expected ");

                if (len < whysz)
                        keytab_expected(k, why + len, whysz - len);
        }
        return -EINVAL;
}

static int store_list(const struct vmsilo_key *k, char ***field, const char *value, char *bad,
                      size_t badsz, char *why, size_t whysz) {
        const char *seps = k->flags & VMSILO_KEY_SPLIT ? " \t," : "";
        char *copy, *item, *save = NULL;
        int r = 0;

        if (!value[0]) {
                list_clear(field);
                return 0;
        }
        if (!*seps)
                return string_valid(k, value, why, whysz)
                               ? list_push(field, value)
                               : invalid(k, value, strlen(value), bad, badsz, why, whysz);
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        /* every item first: a bad one leaves the list as it was */
        for (item = strtok_r(copy, seps, &save); item && r == 0; item = strtok_r(NULL, seps, &save))
                if (!string_valid(k, item, why, whysz))
                        r = invalid(k, item, strlen(item), bad, badsz, why, whysz);
        free(copy);
        if (r < 0)
                return r;
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        save = NULL;
        for (item = strtok_r(copy, seps, &save); item && r == 0; item = strtok_r(NULL, seps, &save))
                r = list_push(field, item);
        free(copy);
        return r;
}

static int store_reset(const struct vmsilo_key *k, void *field) {
        if (k->def && k->def[0])
                return keytab_store(k, (char *) field - k->offset, k->def, NULL, 0, NULL, 0);
        switch (k->type) {
        case VMSILO_KEY_BOOL:
        case VMSILO_KEY_ENUM:
                *(int *) field = 0;
                return 0;
        case VMSILO_KEY_UINT:
        case VMSILO_KEY_SIZE:
                *(unsigned long long *) field = 0;
                return 0;
        default:
                free(*(char **) field);
                *(char **) field = NULL;
                return 0;
        }
}

int keytab_store(const struct vmsilo_key *k, void *base, const char *value, char *bad, size_t badsz,
                 char *why, size_t whysz) {
        void *field = (char *) base + k->offset;
        unsigned long long n;
        char dummy[2][2];

        if (!bad || !why) {
                bad = dummy[0];
                why = dummy[1];
                badsz = whysz = sizeof(dummy[0]);
        }
        why[0] = 0;
        if (k->flags & VMSILO_KEY_LIST)
                return store_list(k, field, value, bad, badsz, why, whysz);
        if (!value[0] && (k->flags & VMSILO_KEY_EMPTY))
                return store_reset(k, field);
        switch (k->type) {
        case VMSILO_KEY_BOOL:
                if ((k->flags & VMSILO_KEY_AUTO) && strcmp(value, "auto") == 0) {
                        *(int *) field = -1;
                        return 0;
                }
                if (vmsilo_parse_bool(value) < 0)
                        break;
                *(int *) field = vmsilo_parse_bool(value);
                return 0;
        case VMSILO_KEY_UINT:
        case VMSILO_KEY_SIZE:
                if (parse_number(value, k->type == VMSILO_KEY_SIZE, &n) < 0 || n < k->min ||
                    (k->max && n > k->max) || (k->validate && !k->validate(value, why, whysz)))
                        break;
                *(unsigned long long *) field = n;
                return 0;
        case VMSILO_KEY_ENUM:
                for (int i = 0; k->values && k->values[i]; i++)
                        if (strcmp(value, k->values[i]) == 0) {
                                *(int *) field = i;
                                return 0;
                        }
                break;
        case VMSILO_KEY_STRING:
        case VMSILO_KEY_PATH:
        case VMSILO_KEY_PROGRAM:
                if (!string_valid(k, value, why, whysz))
                        break;
                return set_string(field, value);
        }
        return invalid(k, value, strlen(value), bad, badsz, why, whysz);
}

int keytab_defaults(const struct vmsilo_key *keys, size_t key_size, void *base, int instance) {
        if (!keys || key_size < KEYTAB_MIN_SIZE)
                return 0;
        for (size_t i = 0; key_at(keys, key_size, i)->name; i++) {
                struct vmsilo_key k;
                int r;

                memcpy(&k, key_at(keys, key_size, i), sizeof(k));
                if (!k.def || !!(k.flags & VMSILO_KEY_INSTANCE) != !!instance)
                        continue;
                r = keytab_store(&k, base, k.def, NULL, 0, NULL, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}
