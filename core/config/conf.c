/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <ini.h>
#include <stdio.h>

#include "config/conf.h"
#include "util/log.h"
#include "util/strv.h"

/* inih's MAX_SECTION is 50 including the NUL; longer headers are truncated by it */
#define SECTION_MAX 49

struct parse_ctx {
        struct conf *conf;
        const char *path;
        FILE *f;
        const char *text; /* conf_parse_string */
        unsigned line;
        int errors;
        int oom;
        char *held; /* a too-long line's remainder is swallowed */
};

void conf_done(struct conf *c) {
        for (size_t i = 0; i < c->n; i++) {
                struct conf_entry *e = &c->entries[i];

                free(e->file);
                free(e->section);
                free(e->instance);
                free(e->key);
                free(e->value);
        }
        free(c->entries);
        *c = (struct conf){};
}

/* "[ net  eth0 ]" -> "net", "eth0": blanks around and between are not part of the names. */
static int split_section(const char *section, char **ret_name, char **ret_instance) {
        const char *b = section, *e = section + strlen(section), *sp;
        char *name, *instance = NULL;

        while (*b == ' ' || *b == '\t')
                b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        sp = b;
        while (sp < e && *sp != ' ' && *sp != '\t')
                sp++;
        name = strndup(b, (size_t) (sp - b));
        while (sp < e && (*sp == ' ' || *sp == '\t'))
                sp++;
        if (sp < e)
                instance = strndup(sp, (size_t) (e - sp));
        if (!name || (sp < e && !instance)) {
                free(name);
                free(instance);
                return -ENOMEM;
        }
        *ret_name = name;
        *ret_instance = instance;
        return 0;
}

int conf_add(struct conf *c, const char *file, unsigned line, const char *section, const char *key,
             const char *value) {
        struct conf_entry *e;

        if (c->n == c->allocated) {
                size_t a = c->allocated ? c->allocated * 2 : 32;
                struct conf_entry *n = realloc(c->entries, a * sizeof(*n));

                if (!n)
                        return -ENOMEM;
                c->entries = n;
                c->allocated = a;
        }
        e = &c->entries[c->n];
        *e = (struct conf_entry){ .line = line };
        e->file = strdup(file);
        e->key = strdup(key);
        e->value = strdup(value);
        if (!e->file || !e->key || !e->value || split_section(section, &e->section, &e->instance)) {
                free(e->file);
                free(e->key);
                free(e->value);
                return -ENOMEM;
        }
        c->n++;
        return 0;
}

static int conf_append(struct parse_ctx *p, const char *section, const char *key,
                       const char *value) {
        return conf_add(p->conf, p->path, p->line, section, key, value);
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *p = user;

        if (isempty(section)) {
                log_syntax(p->path, p->line, "assignment to '%s' outside of any section", name);
                p->errors++;
                return 1; /* reported here; keep going */
        }
        if (conf_append(p, section, name, value) < 0) {
                p->oom = 1;
                return 0;
        }
        return 1;
}

/* One physical line per call, so p->line is the line inih is looking at. */
static char *reader(char *str, int num, void *stream) {
        struct parse_ctx *p = stream;
        size_t len;

        if (p->f) {
                if (!fgets(str, num, p->f))
                        return NULL;
        } else {
                const char *nl;

                if (!*p->text)
                        return NULL;
                nl = strchr(p->text, '\n');
                len = nl ? (size_t) (nl - p->text + 1) : strlen(p->text);
                if (len > (size_t) num - 1)
                        len = (size_t) num - 1;
                memcpy(str, p->text, len);
                str[len] = 0;
                p->text += len;
        }
        p->line++;
        len = strlen(str);
        if (str[strspn(str, " \t")] == '[' && strcspn(str, "]") > SECTION_MAX) {
                /* inih would cut it silently, merging sections that start alike */
                log_syntax(p->path, p->line, "section header longer than %d characters",
                           SECTION_MAX - 1);
                p->errors++;
                strcpy(str, "#\n");
                return str;
        }
        if (len == (size_t) num - 1 && str[len - 1] != '\n') {
                int ch;

                log_syntax(p->path, p->line, "line longer than %d characters", num - 2);
                p->errors++;
                if (p->f)
                        while ((ch = fgetc(p->f)) != EOF && ch != '\n')
                                ;
                else
                        while (*p->text && *p->text++ != '\n')
                                ;
                strcpy(str, "#\n");
        }
        return str;
}

static int run_parse(struct parse_ctx *p) {
        int r;

        /* Values are taken literally: no inline comments, no continuation lines. */
        ini_allow_inline_comments = 0;
        ini_allow_multiline = 0;
        r = ini_parse_stream(reader, p, handler, p);
        if (p->oom)
                return -ENOMEM;
        if (r > 0) {
                log_syntax(p->path, (unsigned) r,
                           "syntax error: expected '[section]', 'key = value' or a comment");
                p->errors++;
        } else if (r < 0)
                return -ENOMEM;
        return p->errors;
}

int conf_parse_file(struct conf *c, const char *path) {
        struct parse_ctx p = { .conf = c, .path = path };
        int r;

        p.f = fopen(path, "re");
        if (!p.f)
                return log_error_errno(errno, "failed to open '%s': %m", path);
        r = run_parse(&p);
        fclose(p.f);
        return r;
}

int conf_parse_string(struct conf *c, const char *name, const char *text) {
        struct parse_ctx p = { .conf = c, .path = name, .text = text };

        return run_parse(&p);
}

int parse_bool(const char *v, int *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = 1;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = 0;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_uint64(const char *v, unsigned long long *ret) {
        char *end;
        unsigned long long n;

        if (!isdigit((unsigned char) v[0]))
                return -EINVAL;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = n;
        return 0;
}
