/* SPDX-License-Identifier: MIT */
/* The host table: what the core offers plugins (sdk/vmsilo/plugin.h). */
#include <fcntl.h>
#include <stdio.h>

#include "backend/backend.h"
#include "plugin/helpers.h"
#include "plugin/pluginkeys.h"
#include "plugin/vm.h"
#include "util/log.h"
#include "util/state.h"

static struct plugin *plugin_of(const struct vmsilo_host *h) {
        return h->core;
}

static void host_logv(struct plugin *p, int level, const char *fmt, va_list ap) {
        const struct conf_entry *e = p->vm ? p->vm->entry : NULL;
        char prefix[1024];

        if (e && p->vm->phase == PHASE_CONFIGURE) {
                snprintf(prefix, sizeof(prefix), "%s:%u: %s", e->file, e->line, p->name);
                if (level <= VMSILO_LOG_ERROR)
                        p->vm->entry_logged = 1;
        } else
                snprintf(prefix, sizeof(prefix), "%s", p->name);
        (void) log_fullv(level, 0, prefix, fmt, ap);
}

static void host_log(const struct vmsilo_host *h, int level, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        host_logv(plugin_of(h), level, fmt, ap);
        va_end(ap);
}

static int wrong_phase(struct plugin *p, const char *what, int phase) {
        static const char *const names[] = { "load",       "configure", "preflight", "prepare",
                                             "contribute", "run",       "undo" };

        log_full(LOG_LEVEL_ERR, 0, p->name, "called %s() during %s, which is not allowed", what,
                 names[phase]);
        return -EPERM;
}

static const char *host_vm_name(const struct vmsilo_host *h) {
        return plugin_of(h)->vm->config.name;
}

static uint32_t host_vm_id(const struct vmsilo_host *h) {
        return plugin_of(h)->vm->config.id;
}

static const char *host_runtime_dir(const struct vmsilo_host *h) {
        return plugin_of(h)->vm->runtime_dir;
}

static int host_vmm(const struct vmsilo_host *h) {
        return plugin_of(h)->vm->backend->vmm;
}

static int host_vmm_has(const struct vmsilo_host *h, const char *flag) {
        struct vm *vm = plugin_of(h)->vm;

        if (!flag)
                return -EINVAL;
        return backend_has(vm, flag);
}

static const char *device_type_name(uint32_t type) {
        static const char *const names[] = { "?",    "disk", "net",   "vhost-user",
                                             "vfio", "gpu",  "sound", "shared-dir" };

        return type < ELEMENTSOF(names) ? names[type] : "?";
}

/* The core's copy of what a plugin declared (strings borrowed from `d`). */
static int device_from_plugin(struct plugin *p, const struct vmsilo_device *d,
                              struct vmsilo_device *dev, struct vm_device *v) {
        *dev = (struct vmsilo_device){};
        if (!d || d->size < offsetof(struct vmsilo_device, pci_address) + sizeof(char *))
                return -EINVAL;
        memcpy(dev, d, d->size < sizeof(*dev) ? d->size : sizeof(*dev));
        *v = (struct vm_device){
                .type = dev->type,
                .flags = dev->flags,
                .fd = dev->fd,
                .path = (char *) dev->path,
                .id = (char *) dev->id,
                .name = (char *) dev->name,
                .mac = (char *) dev->mac,
                .kind = (char *) dev->kind,
                .socket = (char *) dev->socket,
                .tag = (char *) dev->tag,
                .options = (char *) dev->options,
                .pci_address = (char *) dev->pci_address,
                .features = dev->features,
                .iommu = dev->iommu,
                .server = (char *) dev->server,
                .app_id = (char *) dev->app_id,
                .helper = (char *) dev->helper,
                .cookie = (char *) dev->cookie,
                .render_node = (char *) dev->render_node,
                .owner = p->name,
        };
        if (dev->type < VMSILO_DEVICE_DISK || dev->type > VMSILO_DEVICE_SHARED_DIR)
                return log_full(LOG_LEVEL_ERR, EINVAL, p->name, "unknown device type %u",
                                dev->type);
        if (((dev->type == VMSILO_DEVICE_DISK || dev->type == VMSILO_DEVICE_VFIO ||
              dev->type == VMSILO_DEVICE_SHARED_DIR) &&
             isempty(dev->path)) ||
            (dev->type == VMSILO_DEVICE_SHARED_DIR && isempty(dev->tag)) ||
            (dev->type == VMSILO_DEVICE_VHOST_USER &&
             (isempty(dev->kind) || isempty(dev->socket))) ||
            (dev->type == VMSILO_DEVICE_NET && dev->fd < 0 && isempty(dev->name)))
                return log_full(LOG_LEVEL_ERR, EINVAL, p->name,
                                "add_device() of type %u without its required fields", dev->type);
        return 0;
}

static int check_device(struct plugin *p, const struct vm_device *v) {
        int r = backend_check_device(p->vm, v);

        if (r == -EOPNOTSUPP)
                return log_full(LOG_LEVEL_ERR, r, p->name,
                                "%s, so the %s backend cannot render the %s device", p->vm->missing,
                                p->vm->backend->name, device_type_name(v->type));
        return r;
}

static int host_check_device(const struct vmsilo_host *h, const struct vmsilo_device *d) {
        struct plugin *p = plugin_of(h);
        struct vmsilo_device dev;
        struct vm_device v;
        int r;

        if (p->vm->phase != PHASE_PREFLIGHT && p->vm->phase != PHASE_CONTRIBUTE)
                return wrong_phase(p, "check_device", p->vm->phase);
        r = device_from_plugin(p, d, &dev, &v);
        if (r < 0)
                return r;
        return check_device(p, &v);
}

static int host_add_device(const struct vmsilo_host *h, const struct vmsilo_device *d) {
        struct plugin *p = plugin_of(h);
        struct vmsilo_device dev;
        struct vm_device v;
        int r;

        if (p->vm->phase != PHASE_CONTRIBUTE)
                return wrong_phase(p, "add_device", p->vm->phase);
        r = device_from_plugin(p, d, &dev, &v);
        if (r < 0)
                return r;
        if (dev.type == VMSILO_DEVICE_GPU)
                for (size_t i = 0; i < p->vm->desc.n_devices; i++)
                        if (p->vm->desc.devices[i].type == VMSILO_DEVICE_GPU)
                                return log_full(
                                        LOG_LEVEL_ERR, EEXIST, p->name,
                                        "a second GPU device (plugin '%s' declared one already); crosvm takes one",
                                        p->vm->desc.devices[i].owner);
        r = check_device(p, &v);
        if (r < 0)
                return r;
        return vm_desc_add_device(&p->vm->desc, &v);
}

static int host_add_kernel_param(const struct vmsilo_host *h, const char *param) {
        struct plugin *p = plugin_of(h);

        if (p->vm->phase != PHASE_CONTRIBUTE)
                return wrong_phase(p, "add_kernel_param", p->vm->phase);
        if (isempty(param) || strpbrk(param, "\n"))
                return -EINVAL;
        return strv_push(&p->vm->desc.kernel_params, param);
}

static int host_add_vmm_arg(const struct vmsilo_host *h, int vmm, const char *arg) {
        struct plugin *p = plugin_of(h);

        if (p->vm->phase != PHASE_CONTRIBUTE)
                return wrong_phase(p, "add_vmm_arg", p->vm->phase);
        if (!arg)
                return -EINVAL;
        if (vmm == VMSILO_VMM_CROSVM)
                return strv_push(&p->vm->desc.crosvm_args, arg);
        if (vmm == VMSILO_VMM_QEMU)
                return strv_push(&p->vm->desc.qemu_args, arg);
        return -EINVAL;
}

static int host_pass_fd(const struct vmsilo_host *h, int fd) {
        struct plugin *p = plugin_of(h);
        int r;

        if (p->vm->phase != PHASE_PREPARE && p->vm->phase != PHASE_CONTRIBUTE) {
                safe_close(fd);
                return wrong_phase(p, "pass_fd", p->vm->phase);
        }
        if (p->vm->dry_run && fd < 0) {
                /* a placeholder number for the plan; the slot holds -1 */
                r = vm_desc_add_fd(&p->vm->desc, -1);
                return r < 0 ? r : 100 + (int) p->vm->desc.n_fds - 1;
        }
        if (fd < 3) {
                safe_close(fd);
                return -EBADF;
        }
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC); /* cleared just before exec */
        r = vm_desc_add_fd(&p->vm->desc, fd);
        return r < 0 ? r : fd;
}

static int host_spawn_helper(const struct vmsilo_host *h, const struct vmsilo_helper *helper) {
        struct plugin *p = plugin_of(h);

        if (p->vm->phase != PHASE_PREPARE)
                return wrong_phase(p, "spawn_helper", p->vm->phase);
        return helper_start(p->vm, p->name, helper);
}

static int host_push_undo(const struct vmsilo_host *h, const char *action) {
        struct plugin *p = plugin_of(h);

        if (p->vm->phase != PHASE_PREPARE)
                return wrong_phase(p, "push_undo", p->vm->phase);
        if (isempty(action))
                return -EINVAL;
        if (p->vm->dry_run)
                return 0;
        return journal_append(p->vm->runtime_dir, "plugin", p->name, action, NULL);
}

static int host_push_unlink(const struct vmsilo_host *h, const char *path) {
        struct plugin *p = plugin_of(h);

        if (p->vm->phase != PHASE_PREPARE)
                return wrong_phase(p, "push_unlink", p->vm->phase);
        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        if (p->vm->dry_run)
                return 0;
        return journal_append(p->vm->runtime_dir, "unlink", path, NULL, NULL);
}

static uint32_t host_vm_uid(const struct vmsilo_host *h) {
        return (uint32_t) plugin_of(h)->vm->settings->uid;
}

static uint32_t host_vm_gid(const struct vmsilo_host *h) {
        return (uint32_t) plugin_of(h)->vm->settings->gid;
}

static char *host_root_path(const struct vmsilo_host *h, const char *path) {
        return confdirs_path(&plugin_of(h)->vm->settings->dirs, path);
}

static int host_dry_run(const struct vmsilo_host *h) {
        return plugin_of(h)->vm->dry_run;
}

static void host_describe(const struct vmsilo_host *h, const char *fmt, ...) {
        struct plugin *p = plugin_of(h);
        char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        if (p->vm->dry_run)
                (void) strv_pushf(&p->vm->desc.steps, "%s: %s", p->name, text);
        else
                log_full(LOG_LEVEL_INFO, 0, p->name, "%s", text);
        free(text);
}

static int host_vmm_can(const struct vmsilo_host *h, const char *capability,
                        const char **ret_missing) {
        struct vm *vm = plugin_of(h)->vm;
        int r;

        if (isempty(capability))
                return -EINVAL;
        r = backend_can(vm, capability);
        if (r == 0 && ret_missing)
                *ret_missing = vm->missing;
        return r;
}

static int host_log_errno(const struct vmsilo_host *h, int level, int error, const char *fmt, ...) {
        struct plugin *p = plugin_of(h);
        va_list ap;

        if (level <= VMSILO_LOG_ERROR && p->vm && p->vm->entry && p->vm->phase == PHASE_CONFIGURE)
                p->vm->entry_logged = 1;
        va_start(ap, fmt);
        if (p->vm && p->vm->entry && p->vm->phase == PHASE_CONFIGURE) {
                char prefix[1024];

                snprintf(prefix, sizeof(prefix), "%s:%u: %s", p->vm->entry->file,
                         p->vm->entry->line, p->name);
                (void) log_fullv(level, error, prefix, fmt, ap);
        } else
                (void) log_fullv(level, error, p->name, fmt, ap);
        va_end(ap);
        return error < 0 ? error : -error;
}

static void host_log_at(const struct vmsilo_host *h, int level, const char *instance,
                        const char *key, const char *fmt, ...) {
        struct plugin *p = plugin_of(h);
        const struct conf_entry *e = conf_find_entry(&p->vm->conf, p->name, instance, key);
        char prefix[1024];
        va_list ap;

        if (!e && key)
                e = conf_find_entry(&p->vm->conf, p->name, instance, NULL);
        if (e)
                snprintf(prefix, sizeof(prefix), "%s:%u: %s", e->file, e->line, p->name);
        else
                snprintf(prefix, sizeof(prefix), "%s", p->name);
        va_start(ap, fmt);
        (void) log_fullv(level, 0, prefix, fmt, ap);
        va_end(ap);
}

static void *host_companion(const struct vmsilo_host *h, const char *file, const char *symbol) {
        return plugin_companion(plugin_of(h), file, symbol);
}

void host_table_init(struct plugin *p, struct vm *vm) {
        p->vm = vm;
        p->host = (struct vmsilo_host){
                .size = sizeof(struct vmsilo_host),
                .abi_minor = VMSILO_PLUGIN_ABI_MINOR,
                .core = p,
                .log = host_log,
                .vm_name = host_vm_name,
                .vm_id = host_vm_id,
                .runtime_dir = host_runtime_dir,
                .vmm = host_vmm,
                .vmm_has = host_vmm_has,
                .add_device = host_add_device,
                .add_kernel_param = host_add_kernel_param,
                .add_vmm_arg = host_add_vmm_arg,
                .pass_fd = host_pass_fd,
                .spawn_helper = host_spawn_helper,
                .push_undo = host_push_undo,
                .push_unlink = host_push_unlink,
                .vm_uid = host_vm_uid,
                .vm_gid = host_vm_gid,
                .root_path = host_root_path,
                .dry_run = host_dry_run,
                .describe = host_describe,
                .vmm_can = host_vmm_can,
                .log_errno = host_log_errno,
                .log_at = host_log_at,
                .check_device = host_check_device,
                .companion = host_companion,
        };
}
