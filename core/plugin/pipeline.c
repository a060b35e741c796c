/* SPDX-License-Identifier: MIT */
/* configure -> preflight -> prepare -> contribute, for one VM. */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "backend/backend.h"
#include "plugin/pluginkeys.h"
#include "plugin/vm.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

char *vm_path(const struct vm *vm, const char *file) {
        return strdup_printf("%s/%s", vm->runtime_dir, file);
}

static int read_files(struct conf *conf, const struct strv *files) {
        int errors = 0;

        for (size_t i = 0; i < files->n; i++) {
                int r = conf_parse_file(conf, files->items[i]);

                if (r < 0)
                        return r;
                errors += r;
        }
        return errors;
}

int global_open(struct conf *conf, struct plugin_set *plugins, const struct settings *s, int load) {
        struct strv files = {};
        int r, errors;

        r = confdirs_dropins(&s->dirs, "conf.d", &files);
        if (r < 0) {
                strv_done(&files);
                return log_error_errno(r, "failed to list configuration files: %m");
        }
        errors = read_files(conf, &files);
        strv_done(&files);
        if (errors < 0)
                return errors;
        r = plugin_set_collect(plugins, conf, s->plugin_dir);
        if (r < 0)
                return r;
        errors += r;
        if (errors > 0)
                return -EINVAL;
        if (load && plugin_set_load(plugins) > 0)
                return -ENOEXEC;
        return 0;
}

/* Derived id: 3 + the VM's index among all configured VM names, as vmsilo assigns them. */
static int assign_id(struct vm *vm) {
        struct strv names = {};
        int r;

        if (vm->config.id != 0)
                return 0;
        r = confdirs_list_vms(&vm->settings->dirs, &names);
        for (size_t i = 0; r >= 0 && i < names.n; i++)
                if (streq(names.items[i], vm->config.name))
                        vm->config.id = 3 + (uint32_t) i;
        strv_done(&names);
        if (r >= 0 && vm->config.id == 0)
                vm->config.id = 3;
        return r;
}

static int route_entry(struct vm *vm, const struct conf_entry *e) {
        struct plugin *p;

        if (streq(e->section, "plugin"))
                return e->global
                               ? 0
                               : log_syntax(
                                         e->file, e->line,
                                         "[plugin %s] belongs in a conf.d drop-in: plugins are enabled for all VMs",
                                         strempty(e->instance));
        if (vm_config_owns(e->section))
                return vm_config_apply(&vm->config, e);
        p = plugin_set_find(&vm->plugins, e->section);
        if (!p)
                return log_syntax(
                        e->file, e->line,
                        "section [%s%s%s] belongs to no enabled plugin; enable it with [plugin %s] enable = yes, or remove the section",
                        e->section, e->instance ? " " : "", strempty(e->instance), e->section);
        return plugin_keys_apply(p, e);
}

static int init_plugins(struct vm *vm) {
        int failures = 0;

        for (size_t i = 0; i < vm->plugins.n; i++) {
                struct plugin *p = vm->plugins.items[i];
                int r;

                host_table_init(p, vm);
                if (!p->desc.init) {
                        p->initialized = 1;
                        continue;
                }
                r = p->desc.init(&p->host, &p->state);
                if (r < 0) {
                        log_full(LOG_LEVEL_ERR, r, p->name, "init failed: %m");
                        failures++;
                        continue;
                }
                p->initialized = 1;
                if (plugin_keys_init(p) < 0)
                        failures++;
        }
        return failures;
}

static int check_runtime_dir(struct vm *vm) {
        struct sockaddr_un sa;
        size_t n = strlen(vm->runtime_dir) + 1 + strlen(VM_CONSOLE_BACKEND);

        if (n >= sizeof(sa.sun_path))
                return log_error_errno(
                        ENAMETOOLONG,
                        "runtime dir '%s' is too long for socket paths (at most %zu bytes); use a shorter --runtime-dir",
                        vm->runtime_dir, sizeof(sa.sun_path) - 2 - strlen(VM_CONSOLE_BACKEND));
        return 0;
}

/* A VM described in memory (exec): the global drop-ins, then its entries as they are. */
static int vm_read_inline(struct vm *vm) {
        const struct conf *c = vm->settings->inline_conf;
        int r;

        r = global_open(&vm->conf, &vm->plugins, vm->settings, 1);
        if (r < 0)
                return r;
        for (size_t i = 0; i < vm->conf.n; i++)
                vm->conf.entries[i].global = 1;
        for (size_t i = 0; i < c->n; i++) {
                const struct conf_entry *e = &c->entries[i];
                _cleanup_free_ char *section = strdup_printf(
                        "%s%s%s", e->section, e->instance ? " " : "", strempty(e->instance));

                r = section ? conf_add(&vm->conf, e->file, e->line, section, e->key, e->value)
                            : -ENOMEM;
                if (r < 0)
                        return log_oom();
        }
        return 0;
}

static int vm_read_config(struct vm *vm, const char *name) {
        struct strv files = {};
        int r, errors;

        if (vm->settings->inline_vm && streq(vm->settings->inline_vm, name))
                return vm_read_inline(vm);
        r = confdirs_vm_files(&vm->settings->dirs, name, &files);
        if (r == -ENOENT) {
                strv_done(&files);
                return log_error_errno(ENOENT, "VM '%s' not found: no vms/%s.conf in %s", name,
                                       name, vm->settings->dirs.dirs.items[0]);
        }
        if (r >= 0)
                r = global_open(&vm->conf, &vm->plugins, vm->settings, 1);
        if (r < 0) {
                strv_done(&files);
                return r;
        }
        for (size_t i = 0; i < vm->conf.n; i++)
                vm->conf.entries[i].global = 1;
        errors = read_files(&vm->conf, &files);
        strv_done(&files);
        if (errors < 0)
                return errors;
        return errors > 0 ? -EINVAL : 0;
}

/* A writable root disk under the overlay plugin's throw-away layer would lose every write at
 * stop, silently: a configuration error that names the key to set. The plugin's own default
 * is a tmpfs overlay, so only an explicit `type = off` leaves the root disk as it is. */
static int check_root_overlay(const struct vm *vm) {
        const struct conf_entry *rw = NULL;
        const char *type = "tmpfs";

        if (!vm->config.root_disk || vm->config.root_read_only ||
            !plugin_set_find(&vm->plugins, "overlay"))
                return 0;
        for (size_t i = 0; i < vm->conf.n; i++) {
                const struct conf_entry *e = &vm->conf.entries[i];

                if (e->instance)
                        continue;
                if (streq(e->section, "vm") && streq(e->key, "root-disk-read-only"))
                        rw = e;
                else if (streq(e->section, "overlay") && streq(e->key, "type"))
                        type = isempty(e->value) ? "tmpfs" : e->value;
        }
        if (streq(type, "off") || !rw)
                return 0;
        return log_syntax(
                rw->file, rw->line,
                "'root-disk-read-only = no', but plugin 'overlay' puts a %s layer over the root disk and every write is lost at stop; set 'type = off' in [overlay] to write to the disk, or 'root-disk-read-only = yes'",
                type);
}

int vm_open(struct vm *vm, const struct settings *s, const char *name) {
        int r, errors = 0;

        *vm = (struct vm){ .settings = s, .phase = PHASE_LOAD };
        r = vm_name_check(name);
        if (r < 0)
                return r;
        r = vm_config_init(&vm->config, name);
        if (r < 0)
                return log_oom();
        vm->backend = backend_find(vm->config.vmm); /* the default, until [vm] vmm= is read */
        vm->runtime_dir = settings_runtime_dir(s, name);
        if (!vm->runtime_dir)
                return log_oom();
        r = vm_read_config(vm, name);
        if (r < 0)
                return r;
        if (init_plugins(vm) > 0)
                return -ENOEXEC;
        vm->phase = PHASE_CONFIGURE;
        for (size_t i = 0; i < vm->conf.n; i++) {
                r = route_entry(vm, &vm->conf.entries[i]);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        errors++;
        }
        for (size_t i = 0; i < vm->plugins.n; i++)
                if (plugin_keys_done(vm->plugins.items[i]) < 0)
                        errors++;
        if (vm_config_verify(&vm->config) < 0)
                errors++;
        if (errors == 0 && check_root_overlay(vm) < 0)
                errors++;
        vm->backend = backend_find(vm->config.vmm);
        if (errors > 0)
                return -EINVAL;
        r = assign_id(vm);
        if (r < 0)
                return log_error_errno(r, "failed to list VMs: %m");
        return check_runtime_dir(vm);
}

void vm_close(struct vm *vm) {
        plugin_set_done(&vm->plugins);
        conf_done(&vm->conf);
        vm_config_done(&vm->config);
        vm_desc_done(&vm->desc);
        free(vm->runtime_dir);
        free(vm->probe_top);
        free(vm->probe_run);
        *vm = (struct vm){};
}

static int check_file(const char *what, const char *path) {
        if (access(path, R_OK) < 0)
                return log_error_errno(errno, "%s '%s' is not readable: %m", what, path);
        return 0;
}

static int core_preflight(struct vm *vm) {
        const struct vm_config *c = &vm->config;
        int failures = 0;

        if (check_file("kernel", c->kernel) < 0)
                failures++;
        if (c->initrd && check_file("initrd", c->initrd) < 0)
                failures++;
        if (c->root_disk && check_file("root disk", c->root_disk) < 0)
                failures++;
        for (size_t i = 0; i < c->n_disks; i++)
                if (check_file("disk", c->disks[i].path) < 0)
                        failures++;
        if (!vm->probe_top && (vm->probe_failed || vm->backend->probe(vm) < 0)) {
                vm->probe_failed = 1;
                return failures + 1;
        }
        return failures + vm->backend->preflight(vm);
}

int vm_preflight(struct vm *vm) {
        unsigned errors = log_error_count();
        int failures;

        vm->phase = PHASE_PREFLIGHT;
        failures = core_preflight(vm);
        for (size_t i = 0; i < vm->plugins.n; i++) {
                struct plugin *p = vm->plugins.items[i];
                int r;

                if (!p->desc.preflight)
                        continue;
                r = p->desc.preflight(p->state);
                if (r < 0) {
                        p->failed = 1;
                        failures++;
                        log_full(LOG_LEVEL_DEBUG, r, p->name, "preflight failed: %m");
                }
        }
        /* a plugin may report several problems at once: count what was said */
        if (failures > 0 && log_error_count() - errors > (unsigned) failures)
                failures = (int) (log_error_count() - errors);
        return failures;
}

int vm_prepare(struct vm *vm) {
        vm->phase = PHASE_PREPARE;
        for (size_t i = 0; i < vm->plugins.n; i++) {
                struct plugin *p = vm->plugins.items[i];
                int r;

                if (!p->desc.prepare)
                        continue;
                r = p->desc.prepare(p->state);
                if (r < 0) {
                        p->failed = 1;
                        return log_full(LOG_LEVEL_ERR, r, p->name, "prepare failed: %m");
                }
        }
        return 0;
}

static int add_core_disk(struct vm *vm, const char *path, uint32_t flags, const char *id) {
        struct vm_device d = { .type = VMSILO_DEVICE_DISK,
                               .flags = flags,
                               .fd = -1,
                               .path = (char *) path,
                               .id = (char *) id,
                               .owner = "core" };

        return vm_desc_add_device(&vm->desc, &d);
}

static int core_contribute(struct vm *vm) {
        const struct vm_config *c = &vm->config;
        int r = 0;

        if (c->root_disk)
                r = add_core_disk(vm, c->root_disk,
                                  VMSILO_DEVICE_ROOT | (c->root_read_only ? VMSILO_DEVICE_RO : 0),
                                  NULL);
        for (size_t i = 0; r >= 0 && i < c->n_disks; i++) {
                const struct vm_disk *d = &c->disks[i];

                r = add_core_disk(vm, d->path,
                                  (d->read_only ? VMSILO_DEVICE_RO : 0) |
                                          (d->direct ? 0 : VMSILO_DEVICE_NO_DIRECT) |
                                          (d->packed_queue ? 0 : VMSILO_DEVICE_NO_PACKED) |
                                          (d->sparse ? 0 : VMSILO_DEVICE_NO_SPARSE),
                                  d->id);
        }
        if (r >= 0) {
                /* VM names may have '_', host names may not */
                char host[64];

                snprintf(host, sizeof(host), "%s", c->name);
                for (char *p = host; *p; p++)
                        if (*p == '_')
                                *p = '-';
                r = strv_pushf(&vm->desc.kernel_params, "systemd.hostname=%s", host);
        }
        return r;
}

/* x86 kernels keep COMMAND_LINE_SIZE (2048) bytes of it and drop the rest silently; leave
 * room for what the VMM adds (root=, console=). */
#define KERNEL_CMDLINE_MAX 1900

static int check_cmdline_length(struct vm *vm) {
        size_t len = 0;

        for (size_t i = 0; i < vm->desc.kernel_params.n; i++)
                len += strlen(vm->desc.kernel_params.items[i]) + 1;
        if (len > KERNEL_CMDLINE_MAX)
                return log_error_errno(
                        E2BIG,
                        "VM '%s': the kernel command line would be %zu bytes, the kernel keeps about %d; fewer interfaces, addresses, shares or kernel-params",
                        vm->config.name, len, KERNEL_CMDLINE_MAX);
        return 0;
}

int vm_contribute(struct vm *vm) {
        const struct vm_config *c = &vm->config;
        int r;

        vm->phase = PHASE_CONTRIBUTE;
        r = core_contribute(vm);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < vm->plugins.n; i++) {
                struct plugin *p = vm->plugins.items[i];

                if (!p->desc.contribute)
                        continue;
                r = p->desc.contribute(p->state);
                if (r < 0)
                        return log_full(LOG_LEVEL_ERR, r, p->name, "contribute failed: %m");
        }
        if (c->auto_shutdown) {
                r = strv_push(&vm->desc.kernel_params, "autoShutdown.enable=1");
                if (r >= 0)
                        r = strv_pushf(&vm->desc.kernel_params, "autoShutdown.after=%llu",
                                       c->auto_shutdown_after);
        }
        if (r >= 0)
                r = strv_extend(&vm->desc.kernel_params, &c->kernel_params);
        if (r < 0)
                return log_oom();
        return check_cmdline_length(vm);
}

/* unlink(), or rmdir() for a directory; the error said is the one of the call that fits */
static int remove_path(const char *path) {
        if (unlink(path) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return negative_errno();
        if (rmdir(path) == 0 || errno == ENOENT)
                return 0;
        if (errno == ENOTEMPTY || errno == EEXIST) {
                /* others keep files there now: it is no longer ours alone */
                log_debug("leaving directory '%s': it is not empty", path);
                return 0;
        }
        return errno == ENOTDIR ? -EPERM : negative_errno();
}

static int undo_record(struct vm *vm, const struct journal_record *rec) {
        if (streq(rec->kind, "unlink")) {
                int r = rec->a ? remove_path(rec->a) : 0;

                if (r < 0)
                        return log_warning_errno(r, "failed to remove '%s': %m", rec->a);
                return 0;
        }
        if (streq(rec->kind, "kill")) {
                pid_t pid = rec->a ? (pid_t) atoi(rec->a) : 0;
                unsigned long long start = rec->b ? strtoull(rec->b, NULL, 10) : 0;

                if (pid > 0 && start == 0) {
                        /* pids are reused: without its start time it may be anyone's now */
                        log_notice(
                                "journal names '%s' (pid %d) without a start time, not killing it",
                                strempty(rec->c), (int) pid);
                        return 0;
                }
                if (pid > 0 && process_stop(pid, start, 5000) < 0)
                        return log_warning_errno(ETIMEDOUT, "failed to stop '%s' (pid %d)",
                                                 strempty(rec->c), (int) pid);
                return 0;
        }
        if (streq(rec->kind, "plugin")) {
                struct plugin *p = plugin_set_find(&vm->plugins, strempty(rec->a));
                int r;

                if (!p || !p->initialized || !p->desc.undo)
                        return log_warning_errno(
                                ENOENT, "cannot undo '%s' of plugin '%s': plugin not loaded",
                                strempty(rec->b), strempty(rec->a));
                r = p->desc.undo(p->state, strempty(rec->b));
                if (r < 0)
                        return log_full(LOG_LEVEL_WARNING, r, p->name, "undo '%s' failed: %m",
                                        strempty(rec->b));
                return 0;
        }
        return log_warning_errno(EINVAL, "unknown journal record '%s', ignoring", rec->kind);
}

int vm_undo(struct vm *vm) {
        struct journal_record *recs = NULL;
        _cleanup_free_ int *failed = NULL;
        size_t n = 0, k = 0;
        int failures = 0, r, saved = vm->phase;

        r = journal_read(vm->runtime_dir, &recs, &n);
        if (IN_SET(-r, EPERM, ENOTDIR)) {
                log_error(
                        "not replaying the journal in '%s': it is not a directory and file of yours (or root's) that only its owner can write",
                        vm->runtime_dir);
                return 1;
        }
        if (r < 0) {
                log_error_errno(r, "failed to read journal in '%s': %m", vm->runtime_dir);
                return 1;
        }
        failed = calloc(n + 1, sizeof(int));
        if (!failed) {
                journal_records_free(recs, n);
                (void) log_oom();
                return 1; /* a failure: nothing may be removed as if it were undone */
        }
        vm->phase = PHASE_UNDO;
        for (size_t i = n; i > 0; i--)
                if (undo_record(vm, &recs[i - 1]) < 0) {
                        failed[i - 1] = 1;
                        failures++;
                }
        vm->phase = saved;
        if (failures == 0) {
                _cleanup_free_ char *path = vm_path(vm, "journal");

                if (path)
                        (void) unlink(path);
        } else {
                /* what is left, in order, for the next cleanup and for 'status' */
                for (size_t i = 0; i < n; i++)
                        if (failed[i]) {
                                struct journal_record t = recs[k];

                                recs[k++] = recs[i];
                                recs[i] = t;
                        }
                (void) journal_keep(vm->runtime_dir, recs, k);
        }
        journal_records_free(recs, n);
        return failures;
}

char *vm_journal_text(const char *dir, const char *sep) {
        struct journal_record *recs = NULL;
        size_t n = 0;
        char *out = NULL;

        if (journal_read(dir, &recs, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const struct journal_record *rec = &recs[i];
                char *item, *joined;

                if (streq(rec->kind, "unlink"))
                        item = strdup_printf("file '%s'", strempty(rec->a));
                else if (streq(rec->kind, "kill"))
                        item = strdup_printf("process '%s' (pid %s)", strempty(rec->c),
                                             strempty(rec->a));
                else if (streq(rec->kind, "plugin"))
                        item = strdup_printf("%s '%s'", strempty(rec->a), strempty(rec->b));
                else
                        item = strdup_printf("%s '%s'", rec->kind, strempty(rec->a));
                joined = item ? strdup_printf("%s%s%s", strempty(out), out ? sep : "", item) : NULL;
                free(item);
                free(out);
                out = joined;
                if (!out)
                        break;
        }
        journal_records_free(recs, n);
        return out;
}
