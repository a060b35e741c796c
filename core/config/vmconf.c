/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>

#include "config/vmconf.h"
#include "util/escape.h"
#include "util/log.h"

enum key_type {
        KEY_BOOL,
        KEY_UINT,
        KEY_STRING,
        KEY_PATH, /* absolute path */
        KEY_LIST, /* accumulates; empty value resets */
        KEY_ENUM,
        KEY_SIZE, /* bytes, with an optional K, M or G suffix (powers of 1024) */
};

struct key_def {
        const char *section;
        const char *key;
        enum key_type type;
        size_t offset;
        const char *const *values; /* KEY_ENUM */
        unsigned long long min, max;
};

static const char *const vmm_values[] = { "crosvm", "qemu", NULL };
static const char *const sched_values[] = { "full", "vm", "off", NULL };
static const char *const accel_values[] = { "auto", "kvm", "tcg", NULL };
static const char *const helper_failure_values[] = { "poweroff", "kill", "keep", NULL };
static const char *const log_values[] = { "off", "error", "warn", "info", "debug", "trace", NULL };

#define K(s, k, t, f) \
        { s, k, t, offsetof(struct vm_config, f), NULL, 0, 0 }
#define KU(s, k, f, lo, hi) \
        { s, k, KEY_UINT, offsetof(struct vm_config, f), NULL, lo, hi }
#define KE(s, k, f, v) \
        { s, k, KEY_ENUM, offsetof(struct vm_config, f), v, 0, 0 }

static const struct key_def keys[] = {
        KU("vm", "memory", memory_mib, 64, 1ULL << 24),
        KU("vm", "cpus", cpus, 1, 512),
        KU("vm", "id", id, 3, 0xfffffffeULL),
        K("vm", "hugepages", KEY_BOOL, hugepages),
        K("vm", "balloon-page-reporting", KEY_BOOL, balloon_page_reporting),
        K("vm", "boost-uclamp", KEY_BOOL, boost_uclamp),
        K("vm", "disable-virtio-intx", KEY_BOOL, disable_virtio_intx),
        K("vm", "no-i8042", KEY_BOOL, no_i8042),
        K("vm", "no-rtc", KEY_BOOL, no_rtc),
        K("vm", "s2idle", KEY_BOOL, s2idle),
        KE("vm", "scheduler-isolation", sched_isolation, sched_values),
        K("vm", "kernel", KEY_PATH, kernel),
        K("vm", "initrd", KEY_PATH, initrd),
        K("vm", "root-disk", KEY_PATH, root_disk),
        K("vm", "root-disk-read-only", KEY_BOOL, root_read_only),
        K("vm", "kernel-params", KEY_LIST, kernel_params),
        K("vm", "auto-shutdown", KEY_BOOL, auto_shutdown),
        KU("vm", "auto-shutdown-after", auto_shutdown_after, 1, 1ULL << 32),
        KE("vm", "vmm", vmm, vmm_values),
        { "vm", "console-log-size", KEY_SIZE, offsetof(struct vm_config, console_log_size), NULL,
          4096, 1ULL << 30 },
        K("vm", "user", KEY_STRING, user),
        K("vm", "allow-root-from-group", KEY_BOOL, allow_root_from_group),
        KE("vm", "on-helper-failure", on_helper_failure, helper_failure_values),
        K("crosvm", "path", KEY_STRING, crosvm_path),
        KE("crosvm", "log-level", crosvm_log_level, log_values),
        K("crosvm", "extra-args", KEY_LIST, crosvm_extra_args),
        K("crosvm", "extra-run-args", KEY_LIST, crosvm_extra_run_args),
        K("qemu", "path", KEY_STRING, qemu_path),
        KE("qemu", "accel", qemu_accel, accel_values),
        K("qemu", "machine", KEY_STRING, qemu_machine),
        K("qemu", "extra-args", KEY_LIST, qemu_extra_args),
        K("exec", "kernel", KEY_PATH, exec_kernel),
        K("exec", "initrd", KEY_PATH, exec_initrd),
        KU("exec", "memory", exec_memory_mib, 64, 1ULL << 24),
        KU("exec", "cpus", exec_cpus, 1, 512),
};

int vm_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > 32 || !isalnum((unsigned char) name[0]) || streq(name, "vms"))
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && name[i] != '-' && name[i] != '_')
                        return 0;
        return 1;
}

int vm_name_check(const char *name) {
        if (vm_name_valid(name))
                return 0;
        return log_error_errno(
                EINVAL,
                "invalid VM name '%s': expected 1 to 32 letters, digits, '-' or '_', starting with a letter or digit",
                name);
}

static int set_string(char **field, const char *v) {
        char *s = strdup(v);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int vm_config_init(struct vm_config *c, const char *name) {
        *c = (struct vm_config){
                .memory_mib = 1024,
                .cpus = 2,
                .hugepages = 1,
                .balloon_page_reporting = 1,
                .boost_uclamp = 1,
                .disable_virtio_intx = 1,
                .no_i8042 = 1,
                .no_rtc = 1,
                .s2idle = 1,
                .sched_isolation = SCHED_ISOLATION_FULL,
                .root_read_only = 1,
                .auto_shutdown_after = 60,
                .exec_memory_mib = 1024,
                .exec_cpus = 2,
                .console_log_size = 1ULL << 20,
        };
        if (set_string(&c->name, name) < 0 || set_string(&c->vmm, "crosvm") < 0 ||
            set_string(&c->user, "user") < 0 || set_string(&c->crosvm_path, "crosvm") < 0 ||
            set_string(&c->crosvm_log_level, "info") < 0 ||
            set_string(&c->qemu_path, "qemu-system-x86_64") < 0 ||
            set_string(&c->qemu_accel, "auto") < 0 || set_string(&c->qemu_machine, "pc") < 0 ||
            set_string(&c->on_helper_failure, "poweroff") < 0)
                return -ENOMEM;
        return 0;
}

void vm_config_done(struct vm_config *c) {
        free(c->name);
        free(c->kernel);
        free(c->initrd);
        free(c->root_disk);
        strv_done(&c->kernel_params);
        free(c->vmm);
        free(c->user);
        free(c->on_helper_failure);
        for (size_t i = 0; i < c->n_disks; i++) {
                free(c->disks[i].name);
                free(c->disks[i].path);
                free(c->disks[i].id);
        }
        free(c->disks);
        free(c->crosvm_path);
        free(c->crosvm_log_level);
        strv_done(&c->crosvm_extra_args);
        strv_done(&c->crosvm_extra_run_args);
        free(c->exec_kernel);
        free(c->exec_initrd);
        free(c->qemu_path);
        free(c->qemu_accel);
        free(c->qemu_machine);
        strv_done(&c->qemu_extra_args);
        *c = (struct vm_config){};
}

int vm_config_owns(const char *section) {
        return streq(section, "vm") || streq(section, "disk") || streq(section, "crosvm") ||
               streq(section, "qemu") || streq(section, "exec");
}

static int apply_enum(const struct key_def *k, void *field, const struct conf_entry *e) {
        for (size_t i = 0; k->values[i]; i++) {
                if (!streq(e->value, k->values[i]))
                        continue;
                if (k->values == sched_values) {
                        *(int *) field = (int) i;
                        return 0;
                }
                return set_string(field, e->value);
        }
        {
                char expected[256] = "";

                for (size_t i = 0; k->values[i]; i++)
                        snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
                                 "%s'%s'", i ? ", " : "", k->values[i]);
                return log_syntax(e->file, e->line,
                                  "invalid value '%s' for '%s' in [%s]: expected %s", e->value,
                                  e->key, e->section, expected);
        }
}

/* "1048576", "512K", "1M", "1G" (powers of 1024). */
static int parse_size(const char *v, unsigned long long *ret) {
        _cleanup_free_ char *digits = strdup(v);
        unsigned long long n, unit = 1;
        size_t len;

        if (!digits)
                return -ENOMEM;
        len = strlen(digits);
        if (len > 0 && strchr("kKmMgG", digits[len - 1])) {
                char u = (char) tolower((unsigned char) digits[len - 1]);

                unit = u == 'k' ? 1ULL << 10 : u == 'm' ? 1ULL << 20 : 1ULL << 30;
                digits[len - 1] = 0;
        }
        if (parse_uint64(digits, &n) < 0 || n > (1ULL << 40))
                return -EINVAL;
        *ret = n * unit;
        return 0;
}

/* Paths reach the VMM's argv: absolute, and without control characters. */
static int bad_path(const struct conf_entry *e, const char *key, const char *section) {
        _cleanup_free_ char *shown = text_escape(e->value, strlen(e->value));

        return log_syntax(e->file, e->line, "invalid value '%s' for '%s' in [%s]: %s",
                          strempty(shown), key, section,
                          has_control_chars(e->value)
                                  ? "control characters are not allowed in a path"
                                  : "expected an absolute path");
}

static int apply_key(const struct key_def *k, struct vm_config *c, const struct conf_entry *e) {
        void *field = (char *) c + k->offset;
        unsigned long long n;

        switch (k->type) {
        case KEY_BOOL:
                if (parse_bool(e->value, field) < 0)
                        return log_syntax(e->file, e->line,
                                          "invalid value '%s' for '%s' in [%s]: expected yes or no",
                                          e->value, e->key, e->section);
                return 0;
        case KEY_UINT:
                if (parse_uint64(e->value, &n) < 0 || n < k->min || n > k->max)
                        return log_syntax(
                                e->file, e->line,
                                "invalid value '%s' for '%s' in [%s]: expected a number from %llu to %llu",
                                e->value, e->key, e->section, k->min, k->max);
                if (k->offset == offsetof(struct vm_config, id))
                        *(uint32_t *) field = (uint32_t) n;
                else
                        *(unsigned long long *) field = n;
                return 0;
        case KEY_PATH:
                if (isempty(e->value) && k->offset != offsetof(struct vm_config, kernel) &&
                    k->offset != offsetof(struct vm_config, exec_kernel)) {
                        /* an empty value removes a default from a global drop-in */
                        free(*(char **) field);
                        *(char **) field = NULL;
                        return 0;
                }
                if (e->value[0] != '/' || has_control_chars(e->value))
                        return bad_path(e, e->key, e->section);
                return set_string(field, e->value);
        case KEY_STRING:
                if (isempty(e->value))
                        return log_syntax(e->file, e->line, "empty value for '%s' in [%s]", e->key,
                                          e->section);
                return set_string(field, e->value);
        case KEY_LIST:
                if (isempty(e->value)) {
                        strv_clear(field);
                        return 0;
                }
                if (strchr(e->value, '\n'))
                        return -EINVAL;
                return strv_push(field, e->value);
        case KEY_ENUM:
                return apply_enum(k, field, e);
        case KEY_SIZE:
                if (parse_size(e->value, &n) < 0 || n < k->min || n > k->max)
                        return log_syntax(
                                e->file, e->line,
                                "invalid value '%s' for '%s' in [%s]: expected a size from 4K to 1G (bytes, or with a K, M or G suffix)",
                                e->value, e->key, e->section);
                *(unsigned long long *) field = n;
                return 0;
        }
        return -EINVAL;
}

static struct vm_disk *disk_get(struct vm_config *c, const struct conf_entry *e) {
        struct vm_disk *d;

        for (size_t i = 0; i < c->n_disks; i++)
                if (streq(c->disks[i].name, e->instance))
                        return &c->disks[i];
        d = realloc(c->disks, (c->n_disks + 1) * sizeof(*d));
        if (!d)
                return NULL;
        c->disks = d;
        d = &c->disks[c->n_disks];
        *d = (struct vm_disk){
                .direct = 1, .packed_queue = 1, .sparse = 1, .file = e->file, .line = e->line
        };
        d->name = strdup(e->instance);
        if (!d->name)
                return NULL;
        c->n_disks++;
        return d;
}

static int disk_id_valid(const char *id) {
        size_t n = strlen(id);

        if (n == 0 || n > 20)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!isgraph((unsigned char) id[i]) || strchr(",[]\"'", id[i]))
                        return 0;
        return 1;
}

static int apply_disk(struct vm_config *c, const struct conf_entry *e) {
        struct vm_disk *d;
        int *flag = NULL;

        if (!e->instance)
                return log_syntax(e->file, e->line, "section [disk] needs a name: [disk NAME]");
        d = disk_get(c, e);
        if (!d)
                return log_oom();
        if (streq(e->key, "path")) {
                if (e->value[0] != '/' || has_control_chars(e->value)) {
                        _cleanup_free_ char *section = strdup_printf("disk %s", e->instance);

                        return section ? bad_path(e, "path", section) : log_oom();
                }
                return set_string(&d->path, e->value);
        }
        if (streq(e->key, "id")) {
                if (!disk_id_valid(e->value))
                        return log_syntax(
                                e->file, e->line,
                                "invalid value '%s' for 'id' in [disk %s]: expected 1 to 20 printable characters without , [ ] or quotes",
                                e->value, e->instance);
                return set_string(&d->id, e->value);
        }
        if (streq(e->key, "read-only"))
                flag = &d->read_only;
        else if (streq(e->key, "direct"))
                flag = &d->direct;
        else if (streq(e->key, "packed-queue"))
                flag = &d->packed_queue;
        else if (streq(e->key, "sparse"))
                flag = &d->sparse;
        if (!flag)
                return log_syntax(
                        e->file, e->line,
                        "unknown key '%s' in [disk %s]: expected path, id, read-only, direct, packed-queue or sparse",
                        e->key, e->instance);
        if (parse_bool(e->value, flag) < 0)
                return log_syntax(e->file, e->line,
                                  "invalid value '%s' for '%s' in [disk %s]: expected yes or no",
                                  e->value, e->key, e->instance);
        return 0;
}

int vm_config_apply(struct vm_config *c, const struct conf_entry *e) {
        if (streq(e->section, "disk"))
                return apply_disk(c, e);
        if (e->instance)
                return log_syntax(e->file, e->line, "section [%s] takes no name, found [%s %s]",
                                  e->section, e->section, e->instance);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                int r;

                if (!streq(keys[i].section, e->section) || !streq(keys[i].key, e->key))
                        continue;
                r = apply_key(&keys[i], c, e);
                if (r == -EINVAL && keys[i].type == KEY_LIST)
                        return log_syntax(e->file, e->line, "invalid value for '%s' in [%s]",
                                          e->key, e->section);
                if (r == -ENOMEM)
                        return log_oom();
                return r;
        }
        return log_syntax(e->file, e->line, "unknown key '%s' in section [%s]", e->key, e->section);
}

static int cmp_disk(const void *a, const void *b) {
        return strcmp(((const struct vm_disk *) a)->name, ((const struct vm_disk *) b)->name);
}

int vm_config_verify(struct vm_config *c) {
        int r = 0;

        if (!c->kernel)
                r = log_error_errno(
                        EINVAL,
                        "VM '%s': no kernel configured: set 'kernel =' in [vm] of vms/%s.conf",
                        c->name, c->name);
        /* "" would mean root to the guest agent: members of the VM's group must never get it
         * by leaving the key empty */
        if (isempty(c->user) || strchr(c->user, ':') || strchr(c->user, '/'))
                r = log_error_errno(EINVAL,
                                    "VM '%s': [vm] user must be a user name or uid of the guest",
                                    c->name);
        for (size_t i = 0; i < c->n_disks; i++)
                if (!c->disks[i].path)
                        r = log_syntax(c->disks[i].file, c->disks[i].line,
                                       "[disk %s] has no 'path ='", c->disks[i].name);
        /* sorted by name: stable disk letters */
        if (c->n_disks > 1)
                qsort(c->disks, c->n_disks, sizeof(*c->disks), cmp_disk);
        return r;
}
