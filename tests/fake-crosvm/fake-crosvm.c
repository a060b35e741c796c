/* fake-crosvm: a recording stand-in for the crosvm binary, for vmsilo-core's tests.
 *
 * It reads a command line the way crosvm would (google/crosvm at f1e797a6: main.rs's
 * prepare_argh_args, argh 0.1.10, serde_keyvalue, the RunCommand -> Config checks), in one of
 * two flavours (upstream, or the patched vmsilo fork), answers with crosvm's messages and exit
 * codes, records every accepted invocation, and then plays a running VM: a control socket that
 * understands `crosvm stop` and `crosvm powerbtn`, and a serial console that says it booted.
 *
 * Grammar: shared/reference/crosvm-cli.md. Interface (environment variables, record format):
 * README.md next to this file. The option table and key=value schemas are in run-options.h.
 *
 * Build: gcc -Wall -Wextra -Werror -std=gnu11 -O2 -o fake-crosvm tests/fake-crosvm/fake-crosvm.c */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* crosvm's exit codes (main.rs CommandStatus; any other failure is 1) */
#define EXIT_INVALID_ARGS 35
/* the fake itself is misconfigured (bad FAKE_CROSVM_* value, record file not writable) */
#define EXIT_FAKE_BROKEN 2

#define CROSVM_VERSION "0.1.0"
#define MAX_FDS 256
#define KV_MAX_FIELDS 32
#define KV_MAX_CONTENT 16
#define ERR_MAX 4096

enum { FL_UPSTREAM = 1 << 0, FL_PATCHED = 1 << 1, FL_ALL = FL_UPSTREAM | FL_PATCHED };

enum level { LV_OFF, LV_ERROR, LV_WARN, LV_INFO, LV_DEBUG, LV_TRACE };
static const char *const level_names[] = { "OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };

static struct {
        int flavour; /* FL_UPSTREAM or FL_PATCHED */
        const char *argv0;
        const char *log_path; /* FAKE_CROSVM_LOG */
        const char *filter;   /* --log-level, in force once log_ready */
        bool log_ready;       /* crosvm's init_log() point has been passed */
        bool no_timestamps;   /* patched --no-timestamps, in force once log_ready */
        int n_fds;            /* inherited fds > 2, collected before opening anything */
        int fds[MAX_FDS];
        char *fd_targets[MAX_FDS];
} fake = { .flavour = FL_UPSTREAM, .filter = "info" };

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                               */

struct buf {
        char *data;
        size_t len;
        size_t cap;
};

static void buf_add(struct buf *b, const void *p, size_t n) {
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;

                while (b->len + n + 1 > cap)
                        cap *= 2;
                b->data = realloc(b->data, cap);
                if (!b->data)
                        abort();
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...) {
        char *s;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        buf_add(b, s, (size_t) n);
        free(s);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errsz, const char *fmt,
                                                      ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static char *xstrndup(const char *s, size_t n) {
        char *d = strndup(s, n);

        if (!d)
                abort();
        return d;
}

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_valid_len(const unsigned char *s) {
        unsigned char lo = 0x80, hi = 0xbf;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                if (s[0] == 0xe0)
                        lo = 0xa0;
                if (s[0] == 0xed)
                        hi = 0x9f;
                return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                if (s[0] == 0xf0)
                        lo = 0x90;
                if (s[0] == 0xf4)
                        hi = 0x8f;
                return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
                               ? 4
                               : 0;
        }
        return 0;
}

static bool utf8_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                size_t n = utf8_valid_len(p);

                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

/* A JSON string. Valid UTF-8 is copied as is; a byte that is not part of valid UTF-8 becomes
 * \u00XX. The writer never escapes a valid character >= 0x80, so in our records \u0080-\u00ff
 * always stand for one raw byte. */
static void json_string(struct buf *b, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        buf_str(b, "\"");
        while (*p) {
                size_t n = utf8_valid_len(p);

                if (*p == '"' || *p == '\\') {
                        buf_printf(b, "\\%c", *p);
                } else if (*p == '\n') {
                        buf_str(b, "\\n");
                } else if (*p == '\t') {
                        buf_str(b, "\\t");
                } else if (*p == '\r') {
                        buf_str(b, "\\r");
                } else if (*p < 0x20 || *p == 0x7f || n == 0) {
                        buf_printf(b, "\\u%04x", *p);
                        n = 1;
                } else {
                        buf_add(b, p, n);
                }
                p += n ? n : 1;
        }
        buf_str(b, "\"");
}

static void json_argv(struct buf *b, int argc, char **argv) {
        buf_str(b, "[");
        for (int i = 0; i < argc; i++) {
                if (i > 0)
                        buf_str(b, ",");
                json_string(b, argv[i]);
        }
        buf_str(b, "]");
}

/* Rust's `{:?}` of a str: "..." with \" \\ \n \r \t and \u{..} for other controls. */
static void rust_debug_str(struct buf *b, const char *s) {
        buf_str(b, "\"");
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        buf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                        buf_str(b, "\\n");
                else if (*p == '\r')
                        buf_str(b, "\\r");
                else if (*p == '\t')
                        buf_str(b, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        buf_printf(b, "\\u{%x}", *p);
                else
                        buf_add(b, p, 1);
        }
        buf_str(b, "\"");
}

/* ------------------------------------------------------------------------------------------ */
/* logging: crosvm's stderr lines, and the fake's own log (FAKE_CROSVM_LOG)                    */

static enum level parse_level(const char *s, size_t n, bool *ok) {
        *ok = true;
        for (int l = LV_OFF; l <= LV_TRACE; l++)
                if (strlen(level_names[l]) == n && strncasecmp(s, level_names[l], n) == 0)
                        return (enum level) l;
        if (n == 7 && strncasecmp(s, "warning", 7) == 0)
                return LV_WARN;
        *ok = false;
        return LV_OFF;
}

/* env_filter, as crosvm's --log-level: comma-separated `level`, `module` or `module=level`;
 * the directive with the longest module prefix of `module` wins; no directive at all = error. */
static enum level filter_level(const char *filter, const char *module) {
        enum level level = LV_OFF;
        size_t best = 0;
        bool any = false, matched = false;
        const char *p = filter;

        while (*p) {
                const char *end = strchrnul(p, ',');
                const char *eq = memchr(p, '=', (size_t) (end - p));
                const char *name = p;
                size_t name_len = 0;
                enum level l;
                bool ok;

                if (end == p) {
                        p = *end ? end + 1 : end;
                        continue;
                }
                any = true;
                if (eq) {
                        name_len = (size_t) (eq - p);
                        l = parse_level(eq + 1, (size_t) (end - eq - 1), &ok);
                } else {
                        l = parse_level(p, (size_t) (end - p), &ok);
                        if (!ok) {
                                name_len = (size_t) (end - p);
                                l = LV_TRACE;
                                ok = true;
                        }
                }
                if (ok && (name_len == 0 || (strncmp(module, name, name_len) == 0)) &&
                    (!matched || name_len >= best)) {
                        level = l;
                        best = name_len;
                        matched = true;
                }
                p = *end ? end + 1 : end;
        }
        if (!any)
                return LV_ERROR;
        return level;
}

/* One crosvm stderr log line: `[<UTC time> <LEVEL> <module>] <message>` (base/src/syslog.rs).
 * Before crosvm's init_log() every line is printed (the early logger); afterwards --log-level
 * filters them and, in the patched flavour, --no-timestamps drops the time. */
__attribute__((format(printf, 3, 4))) static void crosvm_log(enum level lv, const char *module,
                                                             const char *fmt, ...) {
        char *msg, stamp[64], frac[16];
        struct timespec ts;
        struct tm tm;
        va_list ap;

        if (fake.log_ready && lv > filter_level(fake.filter, module))
                return;
        fflush(stdout); /* Rust's stdout is line-buffered: its lines come first */
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (fake.log_ready && fake.no_timestamps) {
                fprintf(stderr, "[%-5s %s] %s\n", level_names[lv], module, msg);
        } else {
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
                fprintf(stderr, "[%s%s+00:00 %-5s %s] %s\n", stamp, frac, level_names[lv], module,
                        msg);
        }
        fflush(stderr);
        free(msg);
}

__attribute__((format(printf, 1, 2))) static void fake_log(const char *fmt, ...) {
        struct buf b = { 0 };
        char *msg;
        va_list ap;
        int fd;

        if (!fake.log_path)
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        buf_printf(&b, "fake-crosvm[%d]: %s\n", (int) getpid(), msg);
        fd = open(fake.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
                if (write(fd, b.data, b.len) < 0)
                        fprintf(stderr, "fake-crosvm: cannot write '%s': %m\n", fake.log_path);
                close(fd);
        }
        free(msg);
        free(b.data);
}

/* The ERROR line crosvm's main() logs for a failed command, then the exit code. */
static int crosvm_exit_error(const char *what) {
        crosvm_log(LV_ERROR, "crosvm", "exiting with error 1: %s", what);
        return 1;
}

static int crosvm_exit_success(void) {
        crosvm_log(LV_INFO, "crosvm", "exiting with success");
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* serde_keyvalue: key=value strings (crosvm-cli.md §2; serde_keyvalue/src/key_values.rs)      */

enum kv_kind { KV_BOOL, KV_UINT, KV_INT, KV_STRING, KV_ENUM, KV_STRUCT, KV_LIST, KV_RAW };

struct kv_schema;

struct kv_type {
        enum kv_kind kind;
        int bits;                            /* KV_UINT, KV_INT */
        const char *const *variants;         /* KV_ENUM: "name|alias", NULL-terminated */
        const struct kv_schema *schema;      /* KV_STRUCT */
        const struct kv_type *elem;          /* KV_LIST */
        const char *(*check)(const char *s); /* KV_STRING: error text, or NULL if fine */
        const char *help;                    /* value shown in --help */
};

enum { KVF_REQUIRED = 1 << 0 };

struct kv_field {
        const char *name;    /* the name serde reports */
        const char *aliases; /* "a|b", or NULL */
        const struct kv_type *type;
        int flags;
        int flavours;
};

struct kv_schema {
        const char *name;
        const struct kv_field *fields; /* ends with { NULL } */
        bool flatten;                  /* no omitted first key; unknown keys collected */
};

struct kv_value {
        bool set;
        bool b;
        unsigned long long u;
        long long i;
        char *s; /* strings, enum variants (canonical), raw text */
};

enum content_kind { CONTENT_BOOL, CONTENT_INT, CONTENT_STRING, CONTENT_SEQ };

struct kv_content { /* serde's Content for a flattened struct */
        char *key;
        enum content_kind kind;
        char *s;
        long long i;
        bool u64_only; /* did not fit i64 */
};

struct kv_result {
        const struct kv_schema *schema;
        struct kv_value v[KV_MAX_FIELDS];
        struct kv_content content[KV_MAX_CONTENT];
        int n_content;
};

struct kv_parser {
        const char *in;
        const char *p;
        char *err;
        size_t errsz;
};

static int kv_value(struct kv_parser *k, const struct kv_type *t, bool has_equal,
                    struct kv_value *out);
static int kv_struct(struct kv_parser *k, const struct kv_schema *s, bool top,
                     struct kv_result *res);

static int kv_fail_at(struct kv_parser *k, const char *at, const char *what) {
        return fail(k->err, k->errsz, "%s at position %zu", what, (size_t) (at - k->in));
}

static bool kv_at_sep(char c) {
        return c == ',' || c == ']' || c == '\0';
}

static bool ascii_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* any_identifier: [A-Za-z0-9_][A-Za-z0-9_-]* (a digit may come first, for "2d", "9p") */
static size_t kv_ident_len(const char *p) {
        size_t n = 1;

        if (!ascii_alnum(p[0]) && p[0] != '_')
                return 0;
        while (ascii_alnum(p[n]) || p[n] == '_' || p[n] == '-')
                n++;
        return n;
}

static bool field_visible(const struct kv_field *f) {
        return (f->flavours & fake.flavour) != 0;
}

/* Does the '|'-separated name list contain s[0..n)? */
static bool names_contain(const char *names, const char *s, size_t n) {
        while (names && *names) {
                const char *end = strchrnul(names, '|');

                if ((size_t) (end - names) == n && strncmp(names, s, n) == 0)
                        return true;
                names = *end ? end + 1 : end;
        }
        return false;
}

static const struct kv_field *kv_find_field(const struct kv_schema *s, const char *name, size_t n) {
        for (const struct kv_field *f = s->fields; f->name; f++)
                if (field_visible(f) && ((strlen(f->name) == n && strncmp(f->name, name, n) == 0) ||
                                         names_contain(f->aliases, name, n)))
                        return f;
        return NULL;
}

static const struct kv_field *kv_first_field(const struct kv_schema *s) {
        for (const struct kv_field *f = s->fields; f->name; f++)
                if (field_visible(f))
                        return f;
        return NULL;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Append the names of one '|'-list, sorted (serde keeps a field's names in a BTreeSet). */
static void add_sorted_names(const char **names, size_t *n, const char *first, const char *rest) {
        size_t start = *n;
        char *copy;

        if (first)
                names[(*n)++] = first;
        if (rest) {
                copy = strdup(rest);
                if (!copy)
                        abort();
                for (char *tok = strtok(copy, "|"); tok; tok = strtok(NULL, "|"))
                        names[(*n)++] = tok; /* leaked on purpose: a short-lived process */
        }
        qsort(names + start, *n - start, sizeof(*names), cmp_str);
}

/* serde's OneOf: "`a`", "`a` or `b`", "one of `a`, `b`, `c`" */
static void one_of(struct buf *b, const char **names, size_t n) {
        if (n == 1) {
                buf_printf(b, "`%s`", names[0]);
                return;
        }
        if (n == 2) {
                buf_printf(b, "`%s` or `%s`", names[0], names[1]);
                return;
        }
        buf_str(b, "one of ");
        for (size_t i = 0; i < n; i++)
                buf_printf(b, "%s`%s`", i ? ", " : "", names[i]);
}

static int kv_unknown_field(struct kv_parser *k, const struct kv_schema *s, const char *key,
                            size_t key_len) {
        const char *names[128];
        struct buf b = { 0 };
        size_t n = 0;
        int r;

        for (const struct kv_field *f = s->fields; f->name; f++)
                if (field_visible(f))
                        add_sorted_names(names, &n, f->name, f->aliases);
        buf_printf(&b, "unknown field `%.*s`, ", (int) key_len, key);
        if (n == 0)
                buf_str(&b, "there are no fields");
        else {
                buf_str(&b, "expected ");
                one_of(&b, names, n);
        }
        r = fail(k->err, k->errsz, "%s", b.data);
        free(b.data);
        return r;
}

static int kv_confirm_separator(struct kv_parser *k) {
        if (*k->p == ',') {
                k->p++;
                return 0;
        }
        if (*k->p == ']' || *k->p == '\0')
                return 0;
        return kv_fail_at(k, k->p, "expected ','");
}

/* any_number: optional '-', optional 0x/0o/0b, alphanumerics, then a separator (not consumed);
 * the text must then fit the destination (from_str_radix). */
static int kv_number(struct kv_parser *k, int bits, bool is_signed, struct kv_value *out) {
        const char *start = k->p, *q = k->p;
        unsigned long long v = 0, limit;
        bool neg = false;
        unsigned radix = 10;
        size_t n = 0;

        if (*q == '-') {
                neg = true;
                q++;
        }
        if (q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
                radix = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
                q += 2;
        }
        while (ascii_alnum(q[n]))
                n++;
        if (n == 0 || !kv_at_sep(q[n]) || (neg && !is_signed))
                return kv_fail_at(k, start,
                                  "invalid characters for number or number does not "
                                  "fit into its destination type");
        limit = bits == 64 ? (is_signed ? (unsigned long long) INT64_MAX : UINT64_MAX)
                           : (is_signed ? (1ULL << (bits - 1)) - 1 : (1ULL << bits) - 1);
        if (neg)
                limit++;
        for (size_t i = 0; i < n; i++) {
                char c = (char) tolower((unsigned char) q[i]);
                unsigned d = c >= '0' && c <= '9'   ? (unsigned) (c - '0')
                             : c >= 'a' && c <= 'z' ? (unsigned) (c - 'a' + 10)
                                                    : 99;

                if (d >= radix || v > (limit - d) / radix)
                        return kv_fail_at(k, start,
                                          "invalid characters for number or number "
                                          "does not fit into its destination type");
                v = v * radix + d;
        }
        k->p = q + n;
        if (out) {
                out->u = v;
                out->i = neg ? -(long long) (v - 1) - 1 : (long long) v;
        }
        return 0;
}

/* any_string: "..." (escapes \" and \\ only), '...' (no escapes), or unquoted up to , [ ] and
 * without quotes; then a separator must follow. */
static int kv_string(struct kv_parser *k, char **out) {
        const char *start = k->p, *q;
        struct buf b = { 0 };

        buf_str(&b, "");
        if (*start == '"') {
                for (q = start + 1; *q && *q != '"'; q++) {
                        if (*q == '\\') {
                                if (q[1] != '"' && q[1] != '\\')
                                        break;
                                q++;
                        }
                        buf_add(&b, q, 1);
                }
                if (*q != '"') {
                        free(b.data);
                        return kv_fail_at(k, start, "expected a string");
                }
                k->p = q + 1;
        } else if (*start == '\'') {
                q = strchr(start + 1, '\'');
                if (!q) {
                        free(b.data);
                        return kv_fail_at(k, start, "expected a string");
                }
                buf_add(&b, start + 1, (size_t) (q - start - 1));
                k->p = q + 1;
        } else {
                size_t n = strcspn(start, ",\"'[]");

                if (n == 0) {
                        free(b.data);
                        return kv_fail_at(k, start, "expected a string");
                }
                buf_add(&b, start, n);
                k->p = start + n;
        }
        if (!kv_at_sep(*k->p)) {
                free(b.data);
                return kv_fail_at(k, k->p, "\" and ' can only be used in quoted strings");
        }
        if (out)
                *out = b.data;
        else
                free(b.data);
        return 0;
}

/* A value the fake does not look into: up to the next , or ] outside brackets and quotes. */
static int kv_raw(struct kv_parser *k, char **out) {
        const char *start = k->p, *q = k->p;
        int depth = 0;

        for (;;) {
                if (*q == '\0')
                        break;
                if (*q == '"' || *q == '\'') {
                        char quote = *q;
                        const char *s = q++;

                        while (*q && *q != quote)
                                q += (quote == '"' && *q == '\\' && q[1]) ? 2 : 1;
                        if (!*q)
                                return kv_fail_at(k, s, "expected a string");
                        q++;
                        continue;
                }
                if (*q == '[')
                        depth++;
                else if (*q == ']' && depth-- == 0)
                        break;
                else if (*q == ',' && depth == 0)
                        break;
                q++;
        }
        if (depth > 0)
                return kv_fail_at(k, q, "expected ']'");
        k->p = q;
        if (out)
                *out = xstrndup(start, (size_t) (q - start));
        return 0;
}

static int kv_enum(struct kv_parser *k, const struct kv_type *t, struct kv_value *out) {
        size_t n = kv_ident_len(k->p);
        const char *names[64];
        struct buf b = { 0 };
        size_t count = 0;
        int r;

        if (n == 0)
                return kv_fail_at(k, k->p, "expected an identifier");
        for (const char *const *v = t->variants; *v; v++) {
                if (names_contain(*v, k->p, n)) {
                        if (out)
                                out->s = xstrndup(*v, strcspn(*v, "|"));
                        k->p += n;
                        return 0;
                }
        }
        for (const char *const *v = t->variants; *v; v++)
                add_sorted_names(names, &count, NULL, *v);
        buf_printf(&b, "unknown variant `%.*s`, expected ", (int) n, k->p);
        one_of(&b, names, count);
        r = fail(k->err, k->errsz, "%s", b.data);
        free(b.data);
        return r;
}

static int kv_value(struct kv_parser *k, const struct kv_type *t, bool has_equal,
                    struct kv_value *out) {
        const char *e;
        char *s = NULL;
        int r;

        switch (t->kind) {
        case KV_BOOL:
                if (!has_equal) {
                        if (out)
                                out->b = true;
                } else if (strncmp(k->p, "true", 4) == 0) {
                        k->p += 4;
                        if (out)
                                out->b = true;
                } else if (strncmp(k->p, "false", 5) == 0) {
                        k->p += 5;
                        if (out)
                                out->b = false;
                } else {
                        return kv_fail_at(k, k->p, "expected a boolean");
                }
                break;
        case KV_UINT:
        case KV_INT:
                r = kv_number(k, t->bits, t->kind == KV_INT, out);
                if (r < 0)
                        return r;
                break;
        case KV_STRING:
                r = kv_string(k, &s);
                if (r < 0)
                        return r;
                e = t->check ? t->check(s) : NULL;
                if (e) {
                        free(s);
                        return fail(k->err, k->errsz, "%s", e);
                }
                if (out)
                        out->s = s;
                else
                        free(s);
                break;
        case KV_ENUM:
                r = kv_enum(k, t, out);
                if (r < 0)
                        return r;
                break;
        case KV_STRUCT:
                r = kv_struct(k, t->schema, false, NULL);
                if (r < 0)
                        return r;
                break;
        case KV_LIST:
                if (*k->p != '[')
                        return kv_fail_at(k, k->p, "expected '['");
                k->p++;
                while (*k->p != ']' && *k->p != '\0') {
                        r = kv_value(k, t->elem, true, NULL);
                        if (r < 0)
                                return r;
                        r = kv_confirm_separator(k);
                        if (r < 0)
                                return r;
                }
                if (*k->p != ']')
                        return kv_fail_at(k, k->p, "expected ']'");
                k->p++;
                break;
        case KV_RAW:
                r = kv_raw(k, out ? &out->s : NULL);
                if (r < 0)
                        return r;
                break;
        }
        if (out)
                out->set = true;
        return 0;
}

/* serde's deserialize_any for a key the flattened struct does not know (kept for matching the
 * untagged NetParametersMode variants). */
static int kv_content(struct kv_parser *k, bool has_equal, const char *key, size_t key_len,
                      struct kv_result *res) {
        struct kv_content *c;
        struct kv_parser probe;
        struct kv_value v = { 0 };
        char err[64];
        int r;

        if (res->n_content >= KV_MAX_CONTENT)
                return fail(k->err, k->errsz, "fake-crosvm: too many keys");
        c = &res->content[res->n_content++];
        c->key = xstrndup(key, key_len);
        if (kv_at_sep(*k->p)) {
                c->kind = CONTENT_BOOL;
                if (has_equal)
                        return kv_fail_at(k, k->p, "expected a boolean");
                c->i = 1;
                return 0;
        }
        if (*k->p == '[') {
                c->kind = CONTENT_SEQ;
                return kv_raw(k, &c->s);
        }
        probe = (struct kv_parser){ k->in, k->p, err, sizeof(err) };
        if (kv_number(&probe, 64, true, &v) == 0) {
                c->kind = CONTENT_INT;
                c->i = v.i;
                k->p = probe.p;
                return 0;
        }
        probe = (struct kv_parser){ k->in, k->p, err, sizeof(err) };
        if (kv_number(&probe, 64, false, &v) == 0) {
                c->kind = CONTENT_INT;
                c->u64_only = true;
                k->p = probe.p;
                return 0;
        }
        if (strncmp(k->p, "true", 4) == 0 || strncmp(k->p, "false", 5) == 0) {
                c->kind = CONTENT_BOOL;
                c->i = k->p[0] == 't';
                k->p += c->i ? 4 : 5;
                return 0;
        }
        c->kind = CONTENT_STRING;
        r = kv_string(k, &c->s);
        return r;
}

/* deserialize_struct. The top-level struct needs no brackets; a nested one does, except that a
 * nested struct whose fields all have defaults may be given without any value. */
static int kv_struct(struct kv_parser *k, const struct kv_schema *s, bool top,
                     struct kv_result *res) {
        const struct kv_field *implicit = NULL, *f;
        bool seen[KV_MAX_FIELDS] = { false };
        size_t n;
        int r;

        if (!top) {
                if (*k->p != '[') {
                        for (f = s->fields; f->name; f++)
                                if (field_visible(f) && (f->flags & KVF_REQUIRED))
                                        return kv_fail_at(k, k->p, "expected '['");
                        return 0;
                }
                k->p++;
        }

        /* The first field's name may be omitted, unless the leading word is `ident=` or is
         * itself a field name (then it is a boolean flag). */
        if (!s->flatten) {
                n = kv_ident_len(k->p);
                if (n == 0 || (k->p[n] != '=' && !kv_find_field(s, k->p, n)))
                        implicit = kv_first_field(s);
        }

        while (*k->p != '\0' && *k->p != ']') {
                bool has_equal = true;
                const char *key = k->p;

                if (implicit) {
                        f = implicit;
                        implicit = NULL;
                } else {
                        n = kv_ident_len(k->p);
                        if (n == 0)
                                return kv_fail_at(k, k->p, "expected an identifier");
                        f = kv_find_field(s, k->p, n);
                        if (!f && !s->flatten)
                                return kv_unknown_field(k, s, k->p, n);
                        k->p += n;
                        if (*k->p == '=')
                                k->p++;
                        else if (kv_at_sep(*k->p))
                                has_equal = false;
                        else
                                return kv_fail_at(k, k->p, "expected '='");
                        if (!f) {
                                r = kv_content(k, has_equal, key, n, res);
                                if (r < 0)
                                        return r;
                                r = kv_confirm_separator(k);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                }
                if (seen[f - s->fields])
                        return fail(k->err, k->errsz, "duplicate field `%s`", f->name);
                seen[f - s->fields] = true;
                r = kv_value(k, f->type, has_equal, res ? &res->v[f - s->fields] : NULL);
                if (r < 0)
                        return r;
                r = kv_confirm_separator(k);
                if (r < 0)
                        return r;
        }

        if (!top) {
                if (*k->p != ']')
                        return kv_fail_at(k, k->p, "expected ']'");
                k->p++;
        }
        for (f = s->fields; f->name; f++)
                if (field_visible(f) && (f->flags & KVF_REQUIRED) && !seen[f - s->fields])
                        return fail(k->err, k->errsz, "missing field `%s`", f->name);
        return 0;
}

/* from_key_values(): the struct, then nothing may remain. */
static int kv_parse(const char *input, const struct kv_schema *s, struct kv_result *res, char *err,
                    size_t errsz) {
        struct kv_parser k = { input, input, err, errsz };
        int r;

        res->schema = s;
        r = kv_struct(&k, s, true, res);
        if (r < 0)
                return r;
        if (*k.p != '\0')
                return kv_fail_at(&k, k.p, "remaining characters in input");
        return 0;
}

static const struct kv_value *kv_get(const struct kv_result *r, const char *name) {
        if (!r)
                return NULL;
        for (const struct kv_field *f = r->schema->fields; f->name; f++)
                if (strcmp(f->name, name) == 0 && r->v[f - r->schema->fields].set)
                        return &r->v[f - r->schema->fields];
        return NULL;
}

static bool kv_bool(const struct kv_result *r, const char *name, bool def) {
        const struct kv_value *v = kv_get(r, name);

        return v ? v->b : def;
}

static unsigned long long kv_uint(const struct kv_result *r, const char *name,
                                  unsigned long long def) {
        const struct kv_value *v = kv_get(r, name);

        return v ? v->u : def;
}

static const char *kv_str(const struct kv_result *r, const char *name, const char *def) {
        const struct kv_value *v = kv_get(r, name);

        return v ? v->s : def;
}

/* ------------------------------------------------------------------------------------------ */
/* checks of single values inside key=value strings                                            */

/* u32::from_str_radix(s, 16): optional '+', at least one hex digit */
static bool parse_hex_u32(const char *s, size_t n, uint32_t *out) {
        uint64_t v = 0;

        if (n > 0 && s[0] == '+') {
                s++;
                n--;
        }
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return false;
                v = v * 16 + (uint64_t) (isdigit((unsigned char) s[i])
                                                 ? s[i] - '0'
                                                 : tolower((unsigned char) s[i]) - 'a' + 10);
                if (v > UINT32_MAX)
                        return false;
        }
        *out = (uint32_t) v;
        return true;
}

/* resources::PciAddress::from_str: [domain:]bus:device.function, unprefixed hex */
static const char *parse_pci(const char *s, uint32_t *bus, uint32_t *dev, uint32_t *fn) {
        const char *dot = strrchr(s, '.'), *colon, *colon2;
        uint32_t domain = 0;

        if (!dot)
                return "Missing delimiter between Device and Function";
        if (!parse_hex_u32(dot + 1, strlen(dot + 1), fn))
                return "Function failed to parse as hex";
        colon = memrchr(s, ':', (size_t) (dot - s));
        if (!colon)
                return "Missing delimiter between Bus and Device";
        if (!parse_hex_u32(colon + 1, (size_t) (dot - colon - 1), dev))
                return "Device failed to parse as hex";
        colon2 = memrchr(s, ':', (size_t) (colon - s));
        if (!parse_hex_u32(colon2 ? colon2 + 1 : s, (size_t) (colon - (colon2 ? colon2 + 1 : s)),
                           bus))
                return "Bus failed to parse as hex";
        if (colon2 && memchr(s, ':', (size_t) (colon2 - s)))
                return "Too many components in PCI address";
        if (colon2 && !parse_hex_u32(s, (size_t) (colon2 - s), &domain))
                return "Domain failed to parse as hex";
        if (*bus > 0xff)
                return "Bus out of range";
        if (*dev > 0x1f)
                return "Device out of range";
        if (*fn > 0x7)
                return "Function out of range";
        if (domain > 0)
                return "Domain out of range";
        return NULL;
}

static const char *check_pci_address(const char *s) {
        uint32_t bus, dev, fn;

        return parse_pci(s, &bus, &dev, &fn);
}

static const char *check_disk_id(const char *s) {
        return strlen(s) > 20 ? "disk id must be 20 or fewer characters" : NULL;
}

static const char *check_snd_backend(const char *s, bool patched) {
        if (strcmp(s, "null") == 0 || strcmp(s, "file") == 0)
                return NULL;
        if (patched && strcmp(s, "pulse") == 0)
                return NULL;
        return "Backend is not implemented";
}

static const char *check_snd_backend_upstream(const char *s) {
        return check_snd_backend(s, false);
}

static const char *check_snd_backend_patched(const char *s) {
        return check_snd_backend(s, true);
}

/* net_util::MacAddress: six ':'-separated hex octets */
static bool valid_mac(const char *s) {
        for (int i = 0; i < 6; i++) {
                size_t n = strspn(s, "0123456789abcdefABCDEF");

                if (n < 1 || n > 2)
                        return false;
                s += n;
                if (i < 5 && *s++ != ':')
                        return false;
        }
        return *s == '\0';
}

/* std::net::Ipv4Addr: four decimal octets, no leading zeros */
static bool valid_ipv4(const char *s) {
        for (int i = 0; i < 4; i++) {
                size_t n = strspn(s, "0123456789");

                if (n < 1 || n > 3 || (n > 1 && s[0] == '0') || atoi(s) > 255)
                        return false;
                s += n;
                if (i < 3 && *s++ != '.')
                        return false;
        }
        return *s == '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* argh: options of `run`, their values                                                        */

enum opt_kind { OPT_SWITCH, OPT_ONCE, OPT_REPEAT };

struct occurrence;
typedef int (*value_parser)(struct occurrence *occ, char *err, size_t errsz);

struct run_option {
        const char *name; /* long name, without "--" */
        char short_name;  /* 0: none */
        enum opt_kind kind;
        int flavours;
        value_parser parse;             /* NULL for switches */
        const struct kv_schema *schema; /* key=value grammar, for val_kv & co */
        const char *help;
};

struct occurrence {
        const struct run_option *opt;
        const char *spelled; /* as written: "--block" or "-b" */
        const char *value;   /* NULL for switches */
        struct kv_result *kv;
        char *name;             /* --wayland-sock name */
        unsigned long long num; /* integer options */
        long long inum;
        bool flag;    /* --core-scheduling */
        int net_mode; /* --net: 1 tap-name, 2 tap-fd, 3 host-ip */
};

/* Rust's integer FromStr: optional sign, decimal digits only. */
static int parse_rust_int(struct occurrence *occ, int bits, bool is_signed, char *err,
                          size_t errsz) {
        const char *s = occ->value;
        unsigned long long v = 0, limit;
        bool neg = false;

        if (*s == '\0')
                return fail(err, errsz, "cannot parse integer from empty string");
        if (*s == '+' || (*s == '-' && is_signed)) {
                neg = *s == '-';
                s++;
                if (*s == '\0')
                        return fail(err, errsz, "invalid digit found in string");
        }
        limit = bits == 64 ? (is_signed ? (unsigned long long) INT64_MAX : UINT64_MAX)
                           : (is_signed ? (1ULL << (bits - 1)) - 1 : (1ULL << bits) - 1);
        if (neg)
                limit++;
        for (; *s; s++) {
                unsigned d;

                if (*s < '0' || *s > '9')
                        return fail(err, errsz, "invalid digit found in string");
                d = (unsigned) (*s - '0');
                if (v > (limit - d) / 10)
                        return fail(err, errsz,
                                    neg ? "number too small to fit in target type"
                                        : "number too large to fit in target type");
                v = v * 10 + d;
        }
        occ->num = v;
        occ->inum = neg ? -(long long) (v - 1) - 1 : (long long) v;
        return 0;
}

static int val_u8(struct occurrence *occ, char *err, size_t errsz) {
        return parse_rust_int(occ, 8, false, err, errsz);
}

static int val_u16(struct occurrence *occ, char *err, size_t errsz) {
        return parse_rust_int(occ, 16, false, err, errsz);
}

static int val_u64(struct occurrence *occ, char *err, size_t errsz) {
        return parse_rust_int(occ, 64, false, err, errsz);
}

static int val_i32(struct occurrence *occ, char *err, size_t errsz) {
        return parse_rust_int(occ, 32, true, err, errsz);
}

static int val_i64(struct occurrence *occ, char *err, size_t errsz) {
        return parse_rust_int(occ, 64, true, err, errsz);
}

/* PathBuf and String never fail to parse. */
static int val_string(struct occurrence *occ, char *err, size_t errsz) {
        (void) occ;
        (void) err;
        (void) errsz;
        return 0;
}

/* A value whose grammar the fake does not check (see run-options.h). */
static int val_unchecked(struct occurrence *occ, char *err, size_t errsz) {
        return val_string(occ, err, errsz);
}

/* bool::from_str, for --core-scheduling */
static int val_bool(struct occurrence *occ, char *err, size_t errsz) {
        if (strcmp(occ->value, "true") == 0 || strcmp(occ->value, "false") == 0) {
                occ->flag = occ->value[0] == 't';
                return 0;
        }
        return fail(err, errsz, "provided string was not `true` or `false`");
}

static int val_kv(struct occurrence *occ, char *err, size_t errsz) {
        occ->kv = calloc(1, sizeof(*occ->kv));
        if (!occ->kv)
                abort();
        return kv_parse(occ->value, occ->opt->schema, occ->kv, err, errsz);
}

/* SerialParameters, then validate_serial_parameters() (config.rs), still at parse time. */
static int val_serial(struct occurrence *occ, char *err, size_t errsz) {
        const char *hw, *pci;
        unsigned long long num;
        uint32_t bus, dev, fn;
        int r;

        r = val_kv(occ, err, errsz);
        if (r < 0)
                return r;
        hw = kv_str(occ->kv, "hardware", "serial");
        num = kv_uint(occ->kv, "num", 1);
        pci = kv_str(occ->kv, "pci-address", NULL);
        if (kv_bool(occ->kv, "stdin", false) && kv_get(occ->kv, "input"))
                return fail(err, errsz, "Cannot specify both stdin and input options");
        if (num < 1)
                return fail(err, errsz, "invalid value %llu: Serial port num must be at least 1",
                            num);
        if (strcmp(hw, "serial") == 0 && num > 4)
                return fail(err, errsz, "invalid value %llu: Serial port num must be 4 or less",
                            num);
        if (pci && strcmp(hw, "virtio-console") != 0) {
                parse_pci(pci, &bus, &dev, &fn);
                return fail(err, errsz,
                            "invalid value 0000:%02x:%02x.%x: Providing serial PCI "
                            "address is only supported for virtio-console hardware type",
                            bus, dev, fn);
        }
        return 0;
}

/* FixedGpuParameters: GpuParameters, then fixup_gpu_options() (gpu_config.rs). */
static int val_gpu(struct occurrence *occ, char *err, size_t errsz) {
        bool w, h;
        int r;

        r = val_kv(occ, err, errsz);
        if (r < 0)
                return r;
        w = kv_get(occ->kv, "width") != NULL;
        h = kv_get(occ->kv, "height") != NULL;
        if (w || h)
                crosvm_log(LV_WARN, "crosvm::crosvm::gpu_config",
                           "'width' and 'height' in "
                           "'--gpu' are deprecated; please use `displays=[...]`");
        if (w != h)
                return fail(err, errsz,
                            "must include both 'width' and 'height' if either is supplied");
        return 0;
}

/* NetParameters: the known keys are fields, the rest must make exactly one of the untagged
 * NetParametersMode variants (deny_unknown_fields). */
struct net_key {
        const char *name;
        enum { NK_STRING, NK_FD, NK_IP, NK_MAC } type;
        bool required;
};

static const struct net_key net_modes[3][3] = {
        { { "tap-name", NK_STRING, true }, { "mac", NK_MAC, false }, { NULL, 0, false } },
        { { "tap-fd", NK_FD, true }, { "mac", NK_MAC, false }, { NULL, 0, false } },
        { { "host-ip", NK_IP, true }, { "netmask", NK_IP, true }, { "mac", NK_MAC, true } },
};

static bool net_content_fits(const struct kv_content *c, const struct net_key *key) {
        switch (key->type) {
        case NK_STRING:
                return c->kind == CONTENT_STRING;
        case NK_FD:
                return c->kind == CONTENT_INT && !c->u64_only && c->i >= INT32_MIN &&
                       c->i <= INT32_MAX;
        case NK_IP:
                return c->kind == CONTENT_STRING && valid_ipv4(c->s);
        case NK_MAC:
                return c->kind == CONTENT_STRING && valid_mac(c->s);
        }
        return false;
}

static bool net_mode_matches(const struct kv_result *res, const struct net_key *keys) {
        bool seen[3] = { false };

        for (int i = 0; i < res->n_content; i++) {
                const struct kv_content *c = &res->content[i];
                int j;

                for (j = 0; j < 3 && keys[j].name; j++)
                        if (strcmp(keys[j].name, c->key) == 0)
                                break;
                if (j == 3 || !keys[j].name || seen[j] || !net_content_fits(c, &keys[j]))
                        return false;
                seen[j] = true;
        }
        for (int j = 0; j < 3 && keys[j].name; j++)
                if (keys[j].required && !seen[j])
                        return false;
        return true;
}

static int val_net(struct occurrence *occ, char *err, size_t errsz) {
        int r;

        r = val_kv(occ, err, errsz);
        if (r < 0)
                return r;
        for (int m = 0; m < 3; m++) {
                if (net_mode_matches(occ->kv, net_modes[m])) {
                        occ->net_mode = m + 1;
                        return 0;
                }
        }
        return fail(err, errsz,
                    "data did not match any variant of untagged enum "
                    "NetParametersMode");
}

static const struct kv_schema fs_kv;

/* SharedDir::from_str (sys/linux/config.rs); the message is anyhow's outermost context. */
static int val_shared_dir(struct occurrence *occ, char *err, size_t errsz) {
        char *copy = strdup(occ->value), *comp, *src, *tag;
        struct buf fs_opts = { 0 }, fs_debug = { 0 };
        struct kv_result fs = { 0 };
        bool is_fs = false;
        struct stat st;
        int r = 0;

        if (!copy)
                abort();
        buf_str(&fs_opts, "");
        buf_str(&fs_debug, "[");
        /* split(':') keeps empty fields, so walk by hand */
        src = copy;
        tag = strchr(copy, ':');
        if (!tag) {
                r = fail(err, errsz, "missing tag for `shared-dir`");
                goto out;
        }
        *tag++ = '\0';
        comp = strchr(tag, ':');
        if (comp)
                *comp++ = '\0';
        if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode)) {
                r = fail(err, errsz, "source path for `shared-dir` must be a directory");
                goto out;
        }
        while (comp) {
                char *next = strchr(comp, ':'), *eq;

                if (next)
                        *next++ = '\0';
                eq = strchr(comp, '=');
                if (!eq) {
                        r = fail(err, errsz,
                                 "`shared-dir` options must be of the form `kind=value`");
                        goto out;
                }
                if (strncmp(comp, "uid=", 4) == 0 || strncmp(comp, "gid=", 4) == 0) {
                        struct occurrence tmp = { .value = eq + 1 };
                        char ignored[64];

                        if (parse_rust_int(&tmp, 32, false, ignored, sizeof(ignored)) < 0) {
                                r = fail(err, errsz, "failed to parse ugid config");
                                goto out;
                        }
                } else if (strncmp(comp, "uidmap=", 7) == 0 || strncmp(comp, "gidmap=", 7) == 0) {
                        /* plain strings, not checked by crosvm at parse time */
                } else if (strncmp(comp, "type=", 5) == 0) {
                        const char *v = eq + 1;

                        if (strcmp(v, "fs") == 0 || strcmp(v, "FS") == 0) {
                                is_fs = true;
                        } else if (strcmp(v, "9p") == 0 || strcmp(v, "9P") == 0 ||
                                   strcmp(v, "p9") == 0 || strcmp(v, "P9") == 0) {
                                is_fs = false;
                        } else {
                                r = fail(err, errsz, "`type` must be one of `fs` or `9p` but %s",
                                         v);
                                goto out;
                        }
                } else {
                        if (fs_opts.len)
                                buf_str(&fs_opts, ",");
                        buf_str(&fs_opts, comp);
                        if (fs_debug.len > 1)
                                buf_str(&fs_debug, ", ");
                        rust_debug_str(&fs_debug, comp);
                }
                comp = next;
        }
        buf_str(&fs_debug, "]");
        /* p9 options go to the p9 crate's Config parser, which the fake does not check */
        if (is_fs) {
                char kv_err[ERR_MAX];

                if (kv_parse(fs_opts.data, &fs_kv, &fs, kv_err, sizeof(kv_err)) < 0) {
                        r = fail(err, errsz, "failed to parse fs config '%s': %s", fs_debug.data,
                                 kv_err);
                        goto out;
                }
                if (kv_bool(&fs, "ascii_casefold", false) &&
                    kv_uint(&fs, "negative_timeout", 0) != 0) {
                        r = fail(err, errsz,
                                 "'negative_timeout' cannot be used with 'ascii_casefold'");
                        goto out;
                }
        }
out:
        free(copy);
        free(fs_opts.data);
        free(fs_debug.data);
        return r;
}

/* devices::parse_wayland_sock: PATH[,name=NAME] */
static int val_wayland_sock(struct occurrence *occ, char *err, size_t errsz) {
        const char *p = strchr(occ->value, ',');

        occ->name = strdup("");
        while (p) {
                const char *item = p + 1, *end = strchrnul(item, ','), *eq;

                eq = memchr(item, '=', (size_t) (end - item));
                if (!eq)
                        return fail(err, errsz, "option must be of the form `kind=value`: %.*s",
                                    (int) (end - item), item);
                if ((size_t) (eq - item) != 4 || strncmp(item, "name", 4) != 0)
                        return fail(err, errsz, "unrecognized option: %.*s", (int) (eq - item),
                                    item);
                free(occ->name);
                occ->name = xstrndup(eq + 1, (size_t) (end - eq - 1));
                p = *end ? end : NULL;
        }
        return 0;
}

#include "run-options.h"

static bool option_visible(const struct run_option *o) {
        return (o->flavours & fake.flavour) != 0;
}

static const struct run_option *find_run_option(const char *arg) {
        for (const struct run_option *o = run_options; o->name; o++) {
                if (!option_visible(o))
                        continue;
                if (arg[0] == '-' && arg[1] == '-' && strcmp(arg + 2, o->name) == 0)
                        return o;
                if (o->short_name && arg[0] == '-' && arg[1] == o->short_name && arg[2] == '\0')
                        return o;
        }
        return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the command line: prepare_argh_args, the top level, the subcommands                          */

struct args {
        char **v;
        int n;
};

/* main.rs prepare_argh_args(): split "-x=v"/"--x=v" at the first '=', -h -> --help,
 * --host_ip -> --host-ip. */
static void prepare_args(int argc, char **argv, struct args *a) {
        a->v = calloc((size_t) argc * 2 + 1, sizeof(char *));
        a->n = 0;
        if (!a->v)
                abort();
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i], *eq;

                if (strcmp(arg, "--host_ip") == 0) {
                        fprintf(stderr, "`--host_ip` option is deprecated!\n");
                        fprintf(stderr, "Please use `--host-ip` instead\n");
                        a->v[a->n++] = strdup("--host-ip");
                } else if (strcmp(arg, "-h") == 0) {
                        a->v[a->n++] = strdup("--help");
                } else if (strlen(arg) > 1 && arg[0] == '-' && (eq = strchr(arg, '='))) {
                        a->v[a->n++] = xstrndup(arg, (size_t) (eq - arg));
                        a->v[a->n++] = strdup(eq + 1);
                } else {
                        a->v[a->n++] = strdup(arg);
                }
        }
}

struct subcommand {
        const char *name;
        const char *help;
        bool implemented;
};

/* The subcommands of an x86_64 Linux build with the default features. */
static const struct subcommand subcommands[] = {
        { "balloon", "Set balloon size of the crosvm instance to `SIZE` bytes", false },
        { "balloon_stats", "Prints virtio balloon statistics for a `VM_SOCKET`", false },
        { "balloon_ws", "Prints virtio balloon working set for a `VM_SOCKET`", false },
        { "battery", "Modify battery", false },
        { "create_qcow2", "Create Qcow2 image given path and size", false },
        { "device", "Start a device process", false },
        { "disk", "Manage attached virtual disk devices", false },
        { "gpu", "Manage attached virtual GPU device", false },
        { "snd", "Manage attached virtual audio device", false },
        { "make_rt",
          "Enables real-time vcpu priority for crosvm instances started with "
          "`--delay-rt`",
          false },
        { "resume",
          "Resumes the crosvm instance. No-op if already running. When starting "
          "crosvm with `--restore`, this command can be used to wait until the "
          "restore is complete",
          false },
        { "run", "Start a new crosvm instance", true },
        { "stop", "Stops crosvm instances via their control sockets", true },
        { "suspend", "Suspends the crosvm instance", false },
        { "swap", "Enable or disable vmm-swap of the crosvm instance", false },
        { "powerbtn", "Triggers a power button event in the crosvm instance", true },
        { "sleepbtn", "Triggers a sleep button event in the crosvm instance", false },
        { "gpe", "Injects a general-purpose event into the crosvm instance", false },
        { "usb", "Manage attached virtual USB devices.", false },
        { "version", "Show package version.", true },
        { "vfio", "Manage vfio devices", false },
        { "snapshot", "Snapshot commands", false },
        { "devices", "Start one or several jailed device processes.", false },
        { NULL, NULL, false },
};

struct toplevel {
        bool extended_status;
        const char *log_level;
        const char *syslog_tag;
        bool no_syslog;
        bool no_timestamps;
        const char *sub; /* the subcommand word, NULL: none */
        char **sub_args;
        int n_sub_args;
        bool help;
};

enum parse_result { PARSED = 0, PARSED_HELP = 1 };

static int parse_toplevel(const struct args *a, struct toplevel *top, char *err, size_t errsz) {
        bool options_ended = false, log_level_given = false;

        *top = (struct toplevel){ .log_level = "info" };
        for (int i = 0; i < a->n;) {
                const char *arg = a->v[i++];
                const char **slot = NULL;

                if (!options_ended && (strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0)) {
                        top->help = true;
                        continue;
                }
                if (!options_ended && arg[0] == '-') {
                        if (strcmp(arg, "--") == 0) {
                                options_ended = true;
                                continue;
                        }
                        if (top->help)
                                return fail(err, errsz,
                                            "Trailing arguments are not allowed "
                                            "after `help`.");
                        if (strcmp(arg, "--extended-status") == 0) {
                                top->extended_status = true;
                                continue;
                        }
                        if (strcmp(arg, "--no-syslog") == 0) {
                                top->no_syslog = true;
                                continue;
                        }
                        if (fake.flavour == FL_PATCHED && strcmp(arg, "--no-timestamps") == 0) {
                                top->no_timestamps = true;
                                continue;
                        }
                        if (strcmp(arg, "--log-level") == 0)
                                slot = &top->log_level;
                        else if (strcmp(arg, "--syslog-tag") == 0)
                                slot = &top->syslog_tag;
                        else
                                return fail(err, errsz, "Unrecognized argument: %s", arg);
                        if (i >= a->n)
                                return fail(err, errsz, "No value provided for option '%s'.", arg);
                        /* --log-level has a default, but argh still allows it only once */
                        if ((slot == &top->log_level && log_level_given) ||
                            (slot == &top->syslog_tag && top->syslog_tag))
                                return fail(err, errsz,
                                            "Error parsing option '%s' with value "
                                            "'%s': duplicate values provided",
                                            arg, a->v[i]);
                        log_level_given |= slot == &top->log_level;
                        *slot = a->v[i++];
                        continue;
                }
                for (const struct subcommand *s = subcommands; s->name; s++) {
                        if (strcmp(arg, s->name) == 0) {
                                top->sub = s->name;
                                top->sub_args = a->v + i;
                                top->n_sub_args = a->n - i;
                                return PARSED;
                        }
                }
                return fail(err, errsz, "Unrecognized argument: %s", arg);
        }
        if (top->help)
                return PARSED_HELP;
        {
                struct buf b = { 0 };
                int r;

                buf_str(&b, "One of the following subcommands must be present:\n    help");
                for (const struct subcommand *s = subcommands; s->name; s++)
                        buf_printf(&b, "\n    %s", s->name);
                r = fail(err, errsz, "%s", b.data);
                free(b.data);
                return r;
        }
}

struct run_cmd {
        struct occurrence *occ;
        int n_occ;
        const char *kernel;
};

static int parse_run(char **args, int n, bool help, struct run_cmd *run, char *err, size_t errsz) {
        bool options_ended = false;
        int positionals = 0;

        run->occ = calloc((size_t) n + 1, sizeof(*run->occ));
        if (!run->occ)
                abort();
        for (int i = 0; i < n;) {
                const char *arg = args[i++];
                const struct run_option *o;
                struct occurrence *occ;
                char verr[ERR_MAX];

                if (!options_ended && (strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0)) {
                        help = true;
                        continue;
                }
                if (!options_ended && arg[0] == '-') {
                        if (strcmp(arg, "--") == 0) {
                                options_ended = true;
                                continue;
                        }
                        if (help)
                                return fail(err, errsz,
                                            "Trailing arguments are not allowed "
                                            "after `help`.");
                        o = find_run_option(arg);
                        if (!o)
                                return fail(err, errsz, "Unrecognized argument: %s", arg);
                        occ = &run->occ[run->n_occ];
                        *occ = (struct occurrence){ .opt = o, .spelled = arg };
                        if (o->kind != OPT_SWITCH) {
                                if (i >= n)
                                        return fail(err, errsz,
                                                    "No value provided for option "
                                                    "'%s'.",
                                                    arg);
                                occ->value = args[i++];
                                if (o->kind == OPT_ONCE) {
                                        for (int j = 0; j < run->n_occ; j++)
                                                if (run->occ[j].opt == o)
                                                        return fail(err, errsz,
                                                                    "Error parsing option '%s' "
                                                                    "with value '%s': duplicate "
                                                                    "values provided",
                                                                    arg, occ->value);
                                }
                                if (o->parse(occ, verr, sizeof(verr)) < 0)
                                        return fail(err, errsz,
                                                    "Error parsing option '%s' with "
                                                    "value '%s': %s",
                                                    arg, occ->value, verr);
                        }
                        run->n_occ++;
                        continue;
                }
                if (positionals++ > 0)
                        return fail(err, errsz, "Unrecognized argument: %s", arg);
                run->kernel = arg;
        }
        return help ? PARSED_HELP : PARSED;
}

/* stop/powerbtn VM_SOCKET */
static int parse_socket_cmd(char **args, int n, bool help, const char **socket, char *err,
                            size_t errsz) {
        bool options_ended = false;

        *socket = NULL;
        for (int i = 0; i < n;) {
                const char *arg = args[i++];

                if (!options_ended && (strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0)) {
                        help = true;
                        continue;
                }
                if (!options_ended && arg[0] == '-') {
                        if (strcmp(arg, "--") == 0) {
                                options_ended = true;
                                continue;
                        }
                        if (help)
                                return fail(err, errsz,
                                            "Trailing arguments are not allowed "
                                            "after `help`.");
                        return fail(err, errsz, "Unrecognized argument: %s", arg);
                }
                if (*socket)
                        return fail(err, errsz, "Unrecognized argument: %s", arg);
                *socket = arg;
        }
        if (help)
                return PARSED_HELP;
        if (!*socket)
                return fail(err, errsz,
                            "Required positional arguments not provided:\n"
                            "    VM_SOCKET");
        return PARSED;
}

static int parse_no_args(char **args, int n, bool help, char *err, size_t errsz) {
        for (int i = 0; i < n; i++) {
                if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "help") == 0) {
                        help = true;
                        continue;
                }
                if (help && args[i][0] == '-')
                        return fail(err, errsz,
                                    "Trailing arguments are not allowed after "
                                    "`help`.");
                return fail(err, errsz, "Unrecognized argument: %s", args[i]);
        }
        return help ? PARSED_HELP : PARSED;
}

/* ------------------------------------------------------------------------------------------ */
/* help texts (argh's layout: names in column 2, descriptions from column 20, wrap at 80)      */

static void help_entry(const char *name, const char *desc) {
        struct buf line = { 0 };
        char *copy, *save = NULL;

        buf_printf(&line, "  %s", name);
        if (line.len >= 20) {
                printf("%s\n", line.data);
                line.len = 0;
                line.data[0] = '\0';
        }
        copy = strdup(desc);
        if (!copy)
                abort();
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (line.len > 20 && line.len + 1 + strlen(w) > 80) {
                        printf("%s\n", line.data);
                        line.len = 0;
                        line.data[0] = '\0';
                }
                if (line.len < 20) {
                        while (line.len < 20)
                                buf_str(&line, " ");
                } else {
                        buf_str(&line, " ");
                }
                buf_str(&line, w);
        }
        if (line.len)
                printf("%s\n", line.data);
        free(copy);
        free(line.data);
}

static void help_kv_type(struct buf *b, const struct kv_type *t) {
        if (t->kind == KV_ENUM) {
                for (const char *const *v = t->variants; *v; v++)
                        buf_printf(b, "%s%.*s", v == t->variants ? "" : "|", (int) strcspn(*v, "|"),
                                   *v);
        } else {
                buf_str(b, t->help ? t->help : "VALUE");
        }
}

/* The accepted keys of a key=value option, one a line, below its description. */
static void help_keys(const struct run_option *o) {
        const char *indent = "                        ";

        if (o->schema == &net_kv) {
                printf("%stap-name=NAME[,mac=MAC] | tap-fd=FD[,mac=MAC] | "
                       "host-ip=IP,netmask=MASK,mac=MAC\n",
                       indent);
        } else if (o->parse == val_shared_dir) {
                printf("%sSRC_DIR:TAG[:type=p9|fs][:uid=N][:gid=N][:uidmap=MAP][:gidmap=MAP]"
                       "[:fs-key=value...]\n",
                       indent);
        } else if (o->parse == val_wayland_sock) {
                printf("%sPATH[,name=NAME]\n", indent);
        }
        if (!o->schema)
                return;
        for (const struct kv_field *f = o->schema->fields; f->name; f++) {
                struct buf b = { 0 };

                if (!field_visible(f))
                        continue;
                buf_printf(&b, "%s%s=", indent, f->name);
                help_kv_type(&b, f->type);
                if (f->flags & KVF_REQUIRED)
                        buf_str(&b, " (required)");
                if (f == kv_first_field(o->schema) && !o->schema->flatten)
                        buf_str(&b, " (the key may be omitted)");
                printf("%s\n", b.data);
                free(b.data);
        }
}

static void print_run_help(void) {
        printf("Usage: %s run <options> KERNEL\n\n", fake.argv0);
        printf("Start a new crosvm instance\n\n");
        printf("Positional Arguments:\n");
        help_entry("KERNEL", "bzImage of kernel to run");
        printf("\nOptions:\n");
        for (const struct run_option *o = run_options; o->name; o++) {
                struct buf name = { 0 };

                if (!option_visible(o))
                        continue;
                if (o->short_name)
                        buf_printf(&name, "-%c, ", o->short_name);
                buf_printf(&name, "--%s", o->name);
                help_entry(name.data, o->help);
                help_keys(o);
                free(name.data);
        }
        help_entry("--help, help", "display usage information");
}

static void print_top_help(void) {
        printf("Usage: %s [--extended-status] [--log-level <log-level>] [--syslog-tag <TAG>] "
               "[--no-syslog]%s <command> [<args>]\n\n",
               fake.argv0, fake.flavour == FL_PATCHED ? " [--no-timestamps]" : "");
        printf("crosvm\n\nOptions:\n");
        help_entry("--extended-status", "use extended exit status");
        help_entry("--log-level", "specify log level, eg \"off\", \"error\", \"debug,disk=off\", "
                                  "etc");
        help_entry("--syslog-tag", "when logging to syslog, use the provided tag");
        help_entry("--no-syslog", "disable output to syslog");
        if (fake.flavour == FL_PATCHED)
                help_entry("--no-timestamps", "(vmsilo fork) do not prefix log lines on stderr "
                                              "with a timestamp");
        help_entry("--help, help", "display usage information");
        printf("\nCommands:\n");
        for (const struct subcommand *s = subcommands; s->name; s++)
                help_entry(s->name, s->help);
}

static void print_socket_cmd_help(const char *sub) {
        printf("Usage: %s %s <VM_SOCKET>\n\n", fake.argv0, sub);
        for (const struct subcommand *s = subcommands; s->name; s++)
                if (strcmp(s->name, sub) == 0)
                        printf("%s\n\n", s->help);
        printf("Positional Arguments:\n");
        help_entry("VM_SOCKET", "VM Socket path");
        printf("\nOptions:\n");
        help_entry("--help, help", "display usage information");
}

/* ------------------------------------------------------------------------------------------ */
/* RunCommand -> Config: the checks that end in exit 1 (cmdline.rs try_from, validate_config)  */

static struct occurrence *run_first(struct run_cmd *run, const char *name) {
        for (int i = 0; i < run->n_occ; i++)
                if (strcmp(run->occ[i].opt->name, name) == 0)
                        return &run->occ[i];
        return NULL;
}

static int run_count(struct run_cmd *run, const char *name) {
        int n = 0;

        for (int i = 0; i < run->n_occ; i++)
                n += strcmp(run->occ[i].opt->name, name) == 0;
        return n;
}

#define FOR_EACH_OCC(run, occ, optname)                                                   \
        for (struct occurrence *occ = (run)->occ; occ < (run)->occ + (run)->n_occ; occ++) \
                if (strcmp(occ->opt->name, optname) == 0)

static int check_serials(struct run_cmd *run, char *err, size_t errsz) {
        struct occurrence *seen[64];
        int n = 0;

        FOR_EACH_OCC(run, occ, "serial") {
                const char *hw = kv_str(occ->kv, "hardware", "serial");
                unsigned long long num = kv_uint(occ->kv, "num", 1);

                for (int j = 0; j < n; j++)
                        if (strcmp(kv_str(seen[j]->kv, "hardware", "serial"), hw) == 0 &&
                            kv_uint(seen[j]->kv, "num", 1) == num)
                                return fail(err, errsz, "serial hardware %s num %llu", hw, num);
                if (kv_bool(occ->kv, "earlycon", false)) {
                        if (strcmp(hw, "serial") != 0)
                                return fail(err, errsz,
                                            "invalid value %s: earlycon not "
                                            "supported for hardware",
                                            hw);
                        for (int j = 0; j < n; j++)
                                if (kv_bool(seen[j]->kv, "earlycon", false))
                                        return fail(err, errsz,
                                                    "%s device %llu already set as "
                                                    "earlycon",
                                                    kv_str(seen[j]->kv, "hardware", "serial"),
                                                    kv_uint(seen[j]->kv, "num", 1));
                }
                if (kv_bool(occ->kv, "stdin", false))
                        for (int j = 0; j < n; j++)
                                if (kv_bool(seen[j]->kv, "stdin", false))
                                        return fail(err, errsz,
                                                    "%s device %llu already "
                                                    "connected to standard input",
                                                    kv_str(seen[j]->kv, "hardware", "serial"),
                                                    kv_uint(seen[j]->kv, "num", 1));
                if (n < 64)
                        seen[n++] = occ;
        }
        return 0;
}

static int check_disks(struct run_cmd *run, char *err, size_t errsz) {
        int roots = 0;

        if (run_first(run, "root") || run_first(run, "rwroot") || run_first(run, "disk") ||
            run_first(run, "rwdisk"))
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "Deprecated disk flags such as "
                           "--[rw]disk or --[rw]root are passed. Use --block instead.");
        if (run_first(run, "pmem-device") || run_first(run, "rw-pmem-device"))
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "--pmem-device and "
                           "--rw-pmem-device are deprecated. Please use --pmem instead.");
        roots += run_count(run, "root") + run_count(run, "rwroot");
        FOR_EACH_OCC(run, occ, "block")
        roots += kv_bool(occ->kv, "root", false);
        FOR_EACH_OCC(run, occ, "pmem")
        roots += kv_bool(occ->kv, "root", false);
        if (roots > 1)
                return fail(err, errsz, "only one root disk can be specified");
        return 0;
}

static int check_net(struct run_cmd *run, char *err, size_t errsz) {
        struct occurrence *cpus = run_first(run, "cpus"), *vq = run_first(run, "net-vq-pairs");
        struct occurrence *vhost_dev = run_first(run, "vhost-net-device");
        unsigned long long vcpus = cpus ? kv_uint(cpus->kv, "num-cores", 1) : 1;
        const char *vhost_msg = run_first(run, "vhost-net") ? ",vhost-net=true" : "";
        char vq_msg[32] = "";
        bool trio;

        if (vq)
                snprintf(vq_msg, sizeof(vq_msg), ",vq-pairs=%llu", vq->num);
        if (vhost_dev)
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "`--vhost-net-device` is "
                           "deprecated; please use `--net ...,vhost-net=[device=%s]`",
                           vhost_dev->value);
        FOR_EACH_OCC(run, occ, "tap-name")
        crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                   "`--tap-name` is deprecated; "
                   "please use `--net tap-name=%s%s%s`",
                   occ->value, vhost_msg, vq_msg);
        FOR_EACH_OCC(run, occ, "tap-fd")
        crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                   "`--tap-fd` is deprecated; "
                   "please use `--net tap-fd=%s%s%s`",
                   occ->value, vhost_msg, vq_msg);
        trio = run_first(run, "host-ip") || run_first(run, "netmask") || run_first(run, "mac");
        if (trio) {
                if (!run_first(run, "host-ip"))
                        return fail(err, errsz, "`host-ip` missing from network config");
                if (!run_first(run, "netmask"))
                        return fail(err, errsz, "`netmask` missing from network config");
                if (!run_first(run, "mac"))
                        return fail(err, errsz, "`mac` missing from network config");
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "`--host-ip`, `--netmask`, and "
                           "`--mac` are deprecated; please use `--net host-ip=%s,netmask=%s,"
                           "mac=%s%s%s`",
                           run_first(run, "host-ip")->value, run_first(run, "netmask")->value,
                           run_first(run, "mac")->value, vhost_msg, vq_msg);
        }
        FOR_EACH_OCC(run, occ, "net") {
                const struct kv_value *pairs = kv_get(occ->kv, "vq-pairs");

                if (pairs && pairs->u > vcpus)
                        crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                                   "the number of net vq "
                                   "pairs must not exceed the vcpu count, falling back to single "
                                   "queue mode");
                if (kv_bool(occ->kv, "mrg-rxbuf", false) && kv_bool(occ->kv, "packed-queue", false))
                        return fail(err, errsz,
                                    "mrg_rxbuf and packed_queue together is unsupported");
        }
        return 0;
}

static int check_gpu_config(struct run_cmd *run, char *err, size_t errsz) {
        struct occurrence *gpu = run_first(run, "gpu");
        unsigned long long bar, max;

        if (!gpu)
                return 0;
        bar = kv_uint(gpu->kv, "pci-bar-size", 1ULL << 33);
        max = kv_uint(gpu->kv, "max-num-displays", 16);
        if (bar == 0 || (bar & (bar - 1)) != 0)
                return fail(err, errsz, "`pci-bar-size` must be a power of two but is %llu", bar);
        if (max < 1 || max > 16)
                return fail(err, errsz, "`max_num_displays` must be in range [1, 16]");
        return 0;
}

static int run_semantics(struct run_cmd *run, char *err, size_t errsz) {
        static const char *const inputs[] = { "single-touch", "multi-touch", "trackpad",
                                              "mouse",        "keyboard",    "switches",
                                              "rotary",       "evdev",       NULL };
        struct occurrence *cid = run_first(run, "cid");
        int r;

        if (run_first(run, "kvm-device")) {
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "`--kvm-device <PATH>` is "
                           "deprecated; use `--hypervisor kvm[device=<PATH>]` instead");
                if (run_first(run, "hypervisor"))
                        return fail(err, errsz,
                                    "cannot specify both --hypervisor and --kvm-device");
        }
        r = check_serials(run, err, errsz);
        if (r < 0)
                return r;
        r = check_disks(run, err, errsz);
        if (r < 0)
                return r;
        FOR_EACH_OCC(run, occ, "wayland-sock")
        for (struct occurrence *prev = run->occ; prev < occ; prev++)
                if (strcmp(prev->opt->name, "wayland-sock") == 0 &&
                    strcmp(prev->name, occ->name) == 0)
                        return fail(err, errsz,
                                    "wayland socket name already used: "
                                    "'%s'",
                                    occ->name);
        if (run_first(run, "suspended") && run_first(run, "suspended-vcpus"))
                return fail(err, errsz, "cannot specify both --suspended and --suspended-vcpus");
        if (cid && run_first(run, "vsock"))
                return fail(err, errsz,
                            "`cid` and `vsock` cannot be specified together. Use "
                            "`vsock` only.");
        if (cid && run_first(run, "vhost-vsock-device") && run_first(run, "vhost-vsock-fd"))
                return fail(err, errsz,
                            "Only one of vhost-vsock-device vhost-vsock-fd has to "
                            "be specified");
        for (const char *const *in = inputs; *in; in++)
                if (run_first(run, *in))
                        crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                                   "`--%s` is deprecated; "
                                   "please use `--input %s[...]`",
                                   *in, *in);
        if (run_first(run, "split-irqchip")) {
                if (run_first(run, "irqchip"))
                        return fail(err, errsz,
                                    "cannot use `--irqchip` and `--split-irqchip` together");
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "`--split-irqchip` is "
                           "deprecated; please use `--irqchip=split`");
        }
        if (run_count(run, "gpu") > 1)
                return fail(err, errsz, "at most one GPU device can currently be created");
        if (run_first(run, "gpu-display"))
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "'--gpu-display' is deprecated; "
                           "please use `--gpu displays=[...]`");
        r = check_net(run, err, errsz);
        if (r < 0)
                return r;
        if (run_first(run, "pci-start"))
                crosvm_log(LV_WARN, "crosvm::crosvm::cmdline",
                           "`--pci-start` is deprecated; "
                           "use `--pci mem=[start=%s]",
                           run_first(run, "pci-start")->value);
        if (run_first(run, "unmap-guest-memory-on-fork") && !run_first(run, "disable-sandbox"))
                return fail(err, errsz, "--unmap-guest-memory-on-fork requires --disable-sandbox");

        /* validate_config() */
        if (!run->kernel && !run_first(run, "bios"))
                return fail(err, errsz, "Executable is not specified");
        r = check_gpu_config(run, err, errsz);
        if (r < 0)
                return r;
        if (run_first(run, "no-balloon") && run_first(run, "balloon-control"))
                return fail(err, errsz, "'balloon-control' requires enabled balloon");
        if (run_first(run, "no-balloon") && run_first(run, "balloon-page-reporting"))
                return fail(err, errsz, "'balloon_page_reporting' requires enabled balloon");
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* records: FAKE_CROSVM_RECORD (argv, JSON lines) and FAKE_CROSVM_RECORD_FDS                   */

static void collect_inherited_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int self;

        if (!d)
                return;
        self = dirfd(d);
        while ((de = readdir(d)) && fake.n_fds < MAX_FDS) {
                char path[64], target[PATH_MAX];
                ssize_t n;
                int fd;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                fd = atoi(de->d_name);
                if (fd <= 2 || fd == self)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                n = readlink(path, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                fake.fds[fake.n_fds] = fd;
                fake.fd_targets[fake.n_fds++] = strdup(target);
        }
        closedir(d);
        /* readdir order is not sorted */
        for (int i = 1; i < fake.n_fds; i++)
                for (int j = i; j > 0 && fake.fds[j - 1] > fake.fds[j]; j--) {
                        int fd = fake.fds[j];
                        char *t = fake.fd_targets[j];

                        fake.fds[j] = fake.fds[j - 1];
                        fake.fd_targets[j] = fake.fd_targets[j - 1];
                        fake.fds[j - 1] = fd;
                        fake.fd_targets[j - 1] = t;
                }
}

static int append_line(const char *path, const struct buf *line) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        ssize_t n;

        if (fd < 0)
                return -errno;
        flock(fd, LOCK_EX);
        n = write(fd, line->data, line->len);
        close(fd);
        return n == (ssize_t) line->len ? 0 : -EIO;
}

static int record_invocation(int argc, char **argv) {
        const char *path = getenv("FAKE_CROSVM_RECORD");
        const char *fds_path = getenv("FAKE_CROSVM_RECORD_FDS");
        struct buf line = { 0 };
        int r = 0;

        if (path && *path) {
                json_argv(&line, argc, argv);
                buf_str(&line, "\n");
                r = append_line(path, &line);
                if (r < 0) {
                        fprintf(stderr,
                                "fake-crosvm: cannot append to FAKE_CROSVM_RECORD '%s': "
                                "%s\n",
                                path, strerror(-r));
                        goto out;
                }
        }
        if (fds_path && *fds_path) {
                line.len = 0;
                buf_str(&line, "{");
                for (int i = 0; i < fake.n_fds; i++) {
                        buf_printf(&line, "%s\"%d\":", i ? "," : "", fake.fds[i]);
                        json_string(&line, fake.fd_targets[i]);
                }
                buf_str(&line, "}\n");
                r = append_line(fds_path, &line);
                if (r < 0)
                        fprintf(stderr,
                                "fake-crosvm: cannot append to FAKE_CROSVM_RECORD_FDS "
                                "'%s': %s\n",
                                fds_path, strerror(-r));
        }
out:
        free(line.data);
        return r;
}

/* ------------------------------------------------------------------------------------------ */
/* the running VM: serial console, control socket, signals                                     */

struct vm {
        int listen_fd;
        char *unlink_path; /* the socket we bound, removed on exit */
        int serial_fds[16];
        int n_serial;
        int sig_fd;
        int conns[64];
        int n_conns;
        long long powerbtn_deadline; /* now_ms() value, or -1 */
};

static void vm_cleanup(struct vm *vm) {
        if (vm->unlink_path)
                unlink(vm->unlink_path);
        for (int i = 0; i < vm->n_conns; i++)
                close(vm->conns[i]);
        for (int i = 0; i < vm->n_serial; i++)
                close(vm->serial_fds[i]);
}

/* anyhow's `{:?}`: the context, then the cause. */
static int vm_runtime_error(struct vm *vm, const char *context, int errnum) {
        char msg[PATH_MAX + 256];

        snprintf(msg, sizeof(msg), "%s\n\nCaused by:\n    %s (os error %d)", context,
                 strerror(errnum), errnum);
        fake_log("run: runtime failure, exit 1: %s: %s", context, strerror(errnum));
        vm_cleanup(vm);
        return crosvm_exit_error(msg);
}

static int vm_open_serials(struct run_cmd *run, struct vm *vm) {
        static const char booted[] = "fake-crosvm: booted\n";

        FOR_EACH_OCC(run, occ, "serial") {
                const char *type = kv_str(occ->kv, "type", "sink");
                const char *path = kv_str(occ->kv, "path", NULL);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd;

                if (strcmp(type, "unix-stream") == 0) {
                        if (!path)
                                return vm_runtime_error(vm,
                                                        "Serial device type file requires "
                                                        "a path",
                                                        EINVAL);
                        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
                        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                                int e = errno;

                                if (fd >= 0)
                                        close(fd);
                                return vm_runtime_error(vm, "Failed to connect to socket", e);
                        }
                } else if (strcmp(type, "file") == 0) {
                        if (!path)
                                return vm_runtime_error(vm,
                                                        "Serial device type file requires "
                                                        "a path",
                                                        EINVAL);
                        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                        if (fd < 0) {
                                char ctx[PATH_MAX + 64];

                                snprintf(ctx, sizeof(ctx), "Unable to open file '%s'", path);
                                return vm_runtime_error(vm, ctx, errno);
                        }
                } else {
                        continue;
                }
                if (write(fd, booted, sizeof(booted) - 1) < 0)
                        fake_log("serial: write to '%s' failed: %m", path);
                fake_log("serial: %s '%s': wrote \"fake-crosvm: booted\"", type, path);
                if (vm->n_serial < 16)
                        vm->serial_fds[vm->n_serial++] = fd;
                else
                        close(fd);
        }
        return 0;
}

static int vm_open_control(struct run_cmd *run, struct vm *vm) {
        struct occurrence *sock = run_first(run, "socket");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char path[PATH_MAX];
        struct stat st;
        int fd, type = 0, listening = 0;
        socklen_t len = sizeof(type);

        vm->listen_fd = -1;
        if (!sock)
                return 0;
        if (strncmp(sock->value, "/proc/self/fd/", 14) == 0) {
                /* socket activation: adopt an inherited, listening socket */
                fd = atoi(sock->value + 14);
                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                        return vm_runtime_error(vm, "failed to create control server", errno);
                len = sizeof(listening);
                getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
                if (type != SOCK_SEQPACKET || !listening)
                        return vm_runtime_error(vm, "failed to create control server", EINVAL);
                vm->listen_fd = fd;
                fake_log("control: adopted listening fd %d", fd);
                return 0;
        }
        if (stat(sock->value, &st) == 0 && S_ISDIR(st.st_mode))
                snprintf(path, sizeof(path), "%s/crosvm-%d.sock", sock->value, (int) getpid());
        else
                snprintf(path, sizeof(path), "%s", sock->value);
        if (strlen(path) >= sizeof(sa.sun_path))
                return vm_runtime_error(vm, "failed to create control server", ENAMETOOLONG);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return vm_runtime_error(vm, "failed to create control server", errno);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
                int e = errno;

                close(fd);
                return vm_runtime_error(vm, "failed to create control server", e);
        }
        vm->listen_fd = fd;
        vm->unlink_path = strdup(path);
        fake_log("control: listening on '%s'", path);
        return 0;
}

/* One control request. The wire format is crosvm's: a JSON-serialized VmRequest in one
 * seqpacket ("\"Exit\"", "\"Powerbtn\""), answered by a VmResponse ("\"Ok\""). For convenience
 * the plain words `exit` and `powerbtn` are accepted too, answered by `ok`. */
static bool vm_handle_request(struct vm *vm, int conn, const char *msg, size_t len) {
        bool json = len > 0 && msg[0] == '"';
        const char *ok = json ? "\"Ok\"" : "ok";
        const char *reply = ok;
        bool exit_now = false;
        char word[64];

        while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
                len--;
        snprintf(word, sizeof(word), "%.*s", (int) (len < 63 ? len : 63), msg);
        if (strcmp(word, "\"Exit\"") == 0 || strcmp(word, "exit") == 0) {
                exit_now = true;
        } else if (strcmp(word, "\"Powerbtn\"") == 0 || strcmp(word, "powerbtn") == 0) {
                const char *ignore = getenv("FAKE_CROSVM_IGNORE_POWERBTN");
                const char *delay = getenv("FAKE_CROSVM_POWERBTN_DELAY_MS");

                if (ignore && strcmp(ignore, "1") == 0) {
                        fake_log("control: power button ignored by the guest");
                } else if (vm->powerbtn_deadline < 0) {
                        vm->powerbtn_deadline = now_ms() + (delay ? atoll(delay) : 100);
                        fake_log("control: power button, guest shuts down in %lld ms",
                                 delay ? atoll(delay) : 100);
                }
        } else {
                reply = json ? "{\"Err\":95}" : "error: unsupported request";
        }
        fake_log("control: request %s -> %s", word, reply);
        if (send(conn, reply, strlen(reply), MSG_NOSIGNAL) < 0)
                fake_log("control: reply failed: %m");
        return exit_now;
}

static int vm_loop(struct vm *vm) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        vm->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
        vm->powerbtn_deadline = -1;

        for (;;) {
                struct pollfd pfd[2 + 64];
                int n = 0, timeout = -1;

                pfd[n++] = (struct pollfd){ .fd = vm->sig_fd, .events = POLLIN };
                pfd[n++] = (struct pollfd){ .fd = vm->listen_fd, .events = POLLIN };
                for (int i = 0; i < vm->n_conns; i++)
                        pfd[n++] = (struct pollfd){ .fd = vm->conns[i], .events = POLLIN };
                if (vm->powerbtn_deadline >= 0) {
                        long long left = vm->powerbtn_deadline - now_ms();

                        timeout = left < 0 ? 0 : (int) left;
                }
                if (poll(pfd, (nfds_t) n, timeout) < 0 && errno != EINTR)
                        return vm_runtime_error(vm, "failed to wait", errno);
                if (vm->powerbtn_deadline >= 0 && now_ms() >= vm->powerbtn_deadline) {
                        fake_log("exit 0: the guest powered off after the power button");
                        vm_cleanup(vm);
                        return crosvm_exit_success();
                }
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(vm->sig_fd, &si, sizeof(si)) == sizeof(si)) {
                                fake_log("exit 0: signal %s", strsignal((int) si.ssi_signo));
                                vm_cleanup(vm);
                                return crosvm_exit_success();
                        }
                }
                if (vm->listen_fd >= 0 && (pfd[1].revents & POLLIN)) {
                        int c = accept4(vm->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                        if (c >= 0 && vm->n_conns < 64)
                                vm->conns[vm->n_conns++] = c;
                        else if (c >= 0)
                                close(c);
                }
                for (int i = 2; i < n; i++) {
                        char msg[4096];
                        ssize_t len;
                        int conn = pfd[i].fd;

                        if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        len = recv(conn, msg, sizeof(msg), 0);
                        if (len > 0 && vm_handle_request(vm, conn, msg, (size_t) len)) {
                                fake_log("exit 0: stop request");
                                vm_cleanup(vm);
                                return crosvm_exit_success();
                        }
                        if (len <= 0) {
                                close(conn);
                                for (int j = 0; j < vm->n_conns; j++)
                                        if (vm->conns[j] == conn)
                                                vm->conns[j] = vm->conns[--vm->n_conns];
                        }
                }
        }
}

static int vm_run(struct run_cmd *run) {
        struct vm vm = { .listen_fd = -1, .sig_fd = -1 };
        int r;

        r = vm_open_serials(run, &vm);
        if (r != 0)
                return r;
        r = vm_open_control(run, &vm);
        if (r != 0)
                return r;
        return vm_loop(&vm);
}

/* ------------------------------------------------------------------------------------------ */
/* crosvm stop / powerbtn VM_SOCKET                                                             */

static int control_client(const char *sub, const char *socket_path, const char *request) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct buf where = { 0 }, failed = { 0 };
        char reply[4096];
        ssize_t n;
        int fd, e;

        buf_str(&where, "socket at '");
        rust_debug_str(&where, socket_path);
        buf_str(&where, "'");
        buf_printf(&failed, "%s subcommand failed", sub);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (strlen(socket_path) >= sizeof(sa.sun_path)) {
                e = ENAMETOOLONG;
                goto connect_failed;
        }
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                e = errno;
                goto connect_failed;
        }
        if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
                crosvm_log(LV_ERROR, "vm_control::sys::linux",
                           "failed to send request to %s: "
                           "failed to send packet: %s (os error %d)",
                           where.data, strerror(errno), errno);
                goto failed;
        }
        n = recv(fd, reply, sizeof(reply) - 1, 0);
        if (n <= 0) {
                crosvm_log(LV_ERROR, "vm_control::sys::linux",
                           "failed to recv response from "
                           "%s: %s",
                           where.data, n == 0 ? "tube was disconnected" : strerror(errno));
                goto failed;
        }
        reply[n] = '\0';
        close(fd);
        if (strcmp(reply, "\"Ok\"") != 0 && strcmp(reply, "ok") != 0) {
                printf("unexpected response: %s\n", reply);
                fake_log("%s: unexpected response %s, exit 1", sub, reply);
                return crosvm_exit_error(failed.data);
        }
        fake_log("%s: '%s' answered %s, exit 0", sub, socket_path, reply);
        free(where.data);
        free(failed.data);
        return crosvm_exit_success();

connect_failed:
        crosvm_log(LV_ERROR, "vm_control::sys::linux",
                   "failed to connect to %s: %s (os error "
                   "%d)",
                   where.data, strerror(e), e);
failed:
        fake_log("%s: '%s' failed, exit 1", sub, socket_path);
        if (fd >= 0)
                close(fd);
        return crosvm_exit_error(failed.data);
}

/* ------------------------------------------------------------------------------------------ */
/* main                                                                                         */

static int arg_parsing_failed(const char *msg) {
        crosvm_log(LV_ERROR, "crosvm", "arg parsing failed: %s", msg);
        crosvm_log(LV_INFO, "crosvm", "invalid argument");
        fake_log("rejected, exit 35: %s", msg);
        return EXIT_INVALID_ARGS;
}

static int read_env(void) {
        const char *fl = getenv("FAKE_CROSVM_FLAVOUR");

        fake.log_path = getenv("FAKE_CROSVM_LOG");
        if (fake.log_path && !*fake.log_path)
                fake.log_path = NULL;
        if (!fl || !*fl || strcmp(fl, "upstream") == 0) {
                fake.flavour = FL_UPSTREAM;
        } else if (strcmp(fl, "patched") == 0) {
                fake.flavour = FL_PATCHED;
        } else {
                fprintf(stderr,
                        "fake-crosvm: FAKE_CROSVM_FLAVOUR must be 'upstream' or "
                        "'patched', not '%s'\n",
                        fl);
                return -EINVAL;
        }
        return 0;
}

/* Rust's std::env::args() panics on an argument that is not valid Unicode; crosvm's panic hook
 * logs the panic and aborts. */
static void panic_on_invalid_unicode(int argc, char **argv) {
        for (int i = 0; i < argc; i++) {
                struct buf b = { 0 };

                if (utf8_valid(argv[i]))
                        continue;
                json_argv(&b, argc, argv);
                fake_log("argument %d is not valid UTF-8, crosvm would panic: %s", i, b.data);
                crosvm_log(LV_ERROR, "crosvm",
                           "thread 'main' panicked at library/std/src/env.rs:"
                           " called `Result::unwrap()` on an `Err` value: argument %d is not "
                           "valid Unicode",
                           i);
                abort();
        }
}

static int exit_code_from_env(int *code) {
        const char *s = getenv("FAKE_CROSVM_EXIT");
        char *end;
        long v;

        if (!s || !*s)
                return 0;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < 0 || v > 255) {
                fprintf(stderr, "fake-crosvm: FAKE_CROSVM_EXIT must be 0..255, not '%s'\n", s);
                return -EINVAL;
        }
        *code = (int) v;
        return 1;
}

static int cmd_run(int argc, char **argv, struct toplevel *top) {
        struct run_cmd run = { 0 };
        struct occurrence *tag;
        char err[ERR_MAX];
        int code = 0, r;

        r = parse_run(top->sub_args, top->n_sub_args, top->help, &run, err, sizeof(err));
        if (r < 0)
                return arg_parsing_failed(err);
        if (r == PARSED_HELP) {
                print_run_help();
                fake_log("help: run --help (flavour %s)",
                         fake.flavour == FL_PATCHED ? "patched" : "upstream");
                return crosvm_exit_success();
        }
        tag = run_first(&run, "syslog-tag");
        if (tag)
                crosvm_log(LV_WARN, "crosvm",
                           "`crosvm run --syslog-tag` is deprecated; please "
                           "use `crosvm --syslog-tag=\"%s\" run` instead",
                           tag->value);
        r = run_semantics(&run, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "%s\n", err);
                fake_log("run: invalid configuration, exit 1: %s", err);
                return crosvm_exit_error(err);
        }

        /* crosvm's init_log(): from here on --log-level and --no-timestamps apply */
        fake.log_ready = true;
        if (record_invocation(argc, argv) < 0)
                return EXIT_FAKE_BROKEN;
        {
                struct buf b = { 0 };

                json_argv(&b, argc, argv);
                fake_log("run: accepted (flavour %s): %s",
                         fake.flavour == FL_PATCHED ? "patched" : "upstream", b.data);
                free(b.data);
        }
        r = exit_code_from_env(&code);
        if (r < 0)
                return EXIT_FAKE_BROKEN;
        if (r > 0) {
                fake_log("exit %d: FAKE_CROSVM_EXIT", code);
                if (code == 0)
                        return crosvm_exit_success();
                crosvm_log(LV_ERROR, "crosvm",
                           "exiting with error %d: fake-crosvm: "
                           "FAKE_CROSVM_EXIT=%d",
                           code, code);
                return code;
        }
        return vm_run(&run);
}

static int cmd_socket(int argc, char **argv, struct toplevel *top, const char *request) {
        const char *socket_path;
        char err[ERR_MAX];
        int r;

        r = parse_socket_cmd(top->sub_args, top->n_sub_args, top->help, &socket_path, err,
                             sizeof(err));
        if (r < 0)
                return arg_parsing_failed(err);
        if (r == PARSED_HELP) {
                print_socket_cmd_help(top->sub);
                return crosvm_exit_success();
        }
        fake.log_ready = true;
        if (record_invocation(argc, argv) < 0)
                return EXIT_FAKE_BROKEN;
        return control_client(top->sub, socket_path, request);
}

int main(int argc, char **argv) {
        struct toplevel top;
        struct args args;
        char err[ERR_MAX];
        int r;

        collect_inherited_fds();
        signal(SIGPIPE, SIG_IGN);
        fake.argv0 = argc > 0 ? argv[0] : "crosvm";
        if (read_env() < 0)
                return EXIT_FAKE_BROKEN;
        panic_on_invalid_unicode(argc, argv);
        prepare_args(argc, argv, &args);

        r = parse_toplevel(&args, &top, err, sizeof(err));
        if (r < 0)
                return arg_parsing_failed(err);
        if (r == PARSED_HELP) {
                print_top_help();
                fake_log("help: --help (flavour %s)",
                         fake.flavour == FL_PATCHED ? "patched" : "upstream");
                return crosvm_exit_success();
        }
        fake.filter = top.log_level;
        fake.no_timestamps = top.no_timestamps;

        if (strcmp(top.sub, "run") == 0)
                return cmd_run(argc, argv, &top);
        if (strcmp(top.sub, "stop") == 0)
                return cmd_socket(argc, argv, &top, "\"Exit\"");
        if (strcmp(top.sub, "powerbtn") == 0)
                return cmd_socket(argc, argv, &top, "\"Powerbtn\"");
        if (strcmp(top.sub, "version") == 0) {
                r = parse_no_args(top.sub_args, top.n_sub_args, top.help, err, sizeof(err));
                if (r < 0)
                        return arg_parsing_failed(err);
                if (r == PARSED_HELP)
                        printf("Usage: %s version\n\nShow package version.\n\nOptions:\n"
                               "  --help, help      display usage information\n",
                               fake.argv0);
                else
                        printf("crosvm %s\n", CROSVM_VERSION);
                fake.log_ready = true;
                fake_log("version");
                return crosvm_exit_success();
        }
        fprintf(stderr,
                "fake-crosvm: the crosvm subcommand '%s' is not implemented by this "
                "fake\n",
                top.sub);
        fake_log("unimplemented subcommand '%s', exit 1", top.sub);
        return 1;
}
