/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend: renders the same VM description for qemu-system-x86_64, for machines
 * without crosvm (and for our CI, where every part of a start runs for real under TCG).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "../sdk/vmsilo/plugin.h"
#include "backend.h"
#include "kvmprobe.h"
#include "log.h"
#include "process.h"
#include "qmp.h"
#include "vm.h"

/* QEMU's option syntax: a ',' inside a value is written ',,'. Returns a malloc()ed copy. */
static char *qopt(const char *value) {
        size_t n = 1;
        char *q, *o;

        for (const char *c = strempty(value); *c; c++)
                n += *c == ',' ? 2 : 1;
        q = o = malloc(n);
        if (!q)
                return NULL;
        for (const char *c = strempty(value); *c; c++) {
                *o++ = *c;
                if (*c == ',')
                        *o++ = ',';
        }
        *o = 0;
        return q;
}

static const char *qemu_binary(const struct vm *vm) {
        return vm->config.qemu_path;
}

static void choose_accel(struct vm *vm) {
        char reason[256];

        if (!streq(vm->config.qemu_accel, "auto")) {
                vm->accel = streq(vm->config.qemu_accel, "kvm") ? "kvm" : "tcg";
                log_info("qemu: using %s: forced by 'accel = %s' in [qemu]", vm->accel,
                         vm->config.qemu_accel);
                return;
        }
        if (kvm_usable("/dev/kvm", 500, reason, sizeof(reason))) {
                vm->accel = "kvm";
                log_info("qemu: using KVM: %s", reason);
        } else {
                vm->accel = "tcg";
                log_notice("qemu: using TCG (slow): %s", reason);
        }
}

/* QEMU's device list also depends on its installed modules (qemu-system-gui adds audio and
 * display devices): their directory's mtime is part of the probe cache key. */
static void modules_stamp(char *buf, size_t size) {
        static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu",
                                            "/usr/lib64/qemu" };
        struct stat st;

        snprintf(buf, size, "modules=none");
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (stat(dirs[i], &st) == 0) {
                        snprintf(buf, size, "modules=%lld.%09ld", (long long) st.st_mtim.tv_sec,
                                 st.st_mtim.tv_nsec);
                        return;
                }
}

static int qemu_probe(struct vm *vm) {
        _cleanup_free_ char *bin = find_binary(vm->config.qemu_path);
        const char *version[] = { NULL, "--version", NULL };
        const char *devices[] = { NULL, "-device", "help", NULL };
        char salt[64];

        if (!bin)
                return log_error_errno(
                        ENOENT,
                        "qemu binary '%s' not found; install qemu-system-x86 or set 'path =' in [qemu]",
                        vm->config.qemu_path);
        version[0] = devices[0] = bin;
        modules_stamp(salt, sizeof(salt));
        vm->probe_top = probe_cached(vm->settings->cache_dir, bin, version, salt);
        if (vm->probe_top)
                vm->probe_run = probe_cached(vm->settings->cache_dir, bin, devices, salt);
        if (!vm->probe_top || !vm->probe_run) {
                free(vm->probe_top);
                vm->probe_top = NULL;
                return log_error_errno(errno, "failed to probe '%s' with '-device help': %m", bin);
        }
        if (!vm->accel)
                choose_accel(vm);
        return 0;
}

/* Device names, e.g. "vhost-user-fs-pci" ("-device help" lists them as name "..."). */
static int qemu_has(const struct vm *vm, const char *flag) {
        _cleanup_free_ char *quoted = strdup_printf("\"%s\"", flag);

        if (!vm->probe_run || !quoted)
                return 0;
        return strstr(vm->probe_run, quoted) != NULL;
}

static int qemu_preflight(struct vm *vm) {
        static const char *const needed[] = { "virtio-blk-pci", "virtio-net-pci",
                                              "virtio-serial-pci", "vhost-user-fs-pci" };
        int failures = 0;

        for (size_t i = 0; i < ELEMENTSOF(needed); i++)
                if (!qemu_has(vm, needed[i])) {
                        log_error(
                                "qemu '%s' has no device '%s'; install qemu-system-x86 7.2 or later",
                                vm->config.qemu_path, needed[i]);
                        failures++;
                }
        return failures;
}

static int render_disk(const struct vm_device *d, size_t i, struct strv *argv) {
        _cleanup_free_ char *file = qopt(d->path), *serial = qopt(d->id);
        int r;

        if (!file || !serial)
                return -ENOMEM;
        r = strv_pushf(argv, "-drive");
        if (r >= 0)
                r = strv_pushf(
                        argv, "file=%s,format=raw,if=none,id=disk%zu%s,cache=%s,aio=threads%s",
                        file, i, d->flags & VMSILO_DEVICE_RO ? ",readonly=on" : "",
                        d->flags & VMSILO_DEVICE_NO_DIRECT ? "writeback" : "none",
                        d->flags & (VMSILO_DEVICE_NO_SPARSE | VMSILO_DEVICE_RO) ? ""
                                                                                : ",discard=unmap");
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "virtio-blk-pci,drive=disk%zu%s%s", i, d->id ? ",serial=" : "",
                               serial);
        return r;
}

static int render_net(const struct vm_device *d, size_t i, struct strv *argv) {
        int r;

        /* vhost-net only where the host has it (not on this project's CI machines) */
        const char *vhost = access("/dev/vhost-net", R_OK | W_OK) == 0 ? "on" : "off";

        r = strv_push(argv, "-netdev");
        if (r >= 0 && d->fd >= 0 && !d->name)
                r = strv_pushf(argv, "tap,id=net%zu,fd=%d,vhost=%s", i, d->fd, vhost);
        else if (r >= 0)
                r = strv_pushf(argv, "tap,id=net%zu,ifname=%s,script=no,downscript=no,vhost=%s", i,
                               strempty(d->name), vhost);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "virtio-net-pci,netdev=net%zu%s%s", i, d->mac ? ",mac=" : "",
                               strempty(d->mac));
        return r;
}

static int render_vhost_user(const struct vm_device *d, size_t i, struct strv *argv) {
        int r;

        if (!streq_ptr(d->kind, "fs"))
                return log_error_errno(
                        EOPNOTSUPP,
                        "plugin '%s' declared a vhost-user '%s' device; the qemu backend supports only 'fs'",
                        d->owner, strempty(d->kind));
        _cleanup_free_ char *sock = qopt(d->socket), *tag = qopt(d->tag);

        if (!sock || !tag)
                return -ENOMEM;
        r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=vhu%zu,path=%s", i, sock);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "vhost-user-fs-pci,chardev=vhu%zu,tag=%s", i, tag);
        return r;
}

static int render_device(const struct vm_device *d, size_t i, struct strv *argv) {
        const char *bdf;

        switch (d->type) {
        case VMSILO_DEVICE_DISK:
                return render_disk(d, i, argv);
        case VMSILO_DEVICE_NET:
                return render_net(d, i, argv);
        case VMSILO_DEVICE_VHOST_USER:
                return render_vhost_user(d, i, argv);
        case VMSILO_DEVICE_VFIO:
                bdf = strrchr(d->path, '/');
                if (strv_push(argv, "-device") < 0)
                        return -ENOMEM;
                return strv_pushf(argv, "vfio-pci,host=%s", bdf ? bdf + 1 : d->path);
        default:
                return log_error_errno(
                        EOPNOTSUPP,
                        "plugin '%s' declared a %s device, which the qemu backend cannot render; use crosvm",
                        d->owner, d->type == VMSILO_DEVICE_GPU ? "gpu" : "sound");
        }
}

static int render_append(struct vm *vm, struct strv *argv) {
        struct strv params = {};
        char *joined = NULL;
        size_t disk = 0;
        int r = strv_push(&params, "console=ttyS0");

        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++) {
                const struct vm_device *d = &vm->desc.devices[i];

                if (d->type != VMSILO_DEVICE_DISK)
                        continue;
                /* crosvm adds this itself for its root disk */
                if (d->flags & VMSILO_DEVICE_ROOT)
                        r = strv_pushf(&params, "root=/dev/vd%c %s", (char) ('a' + disk),
                                       d->flags & VMSILO_DEVICE_RO ? "ro" : "rw");
                disk++;
        }
        if (r >= 0)
                r = strv_extend(&params, &vm->desc.kernel_params);
        for (size_t i = 0; r >= 0 && i < params.n; i++) {
                char *n = strdup_printf("%s%s%s", strempty(joined), i ? " " : "", params.items[i]);

                free(joined);
                joined = n;
                if (!n)
                        r = -ENOMEM;
        }
        strv_done(&params);
        if (r >= 0)
                r = strv_push(argv, "-append");
        if (r >= 0)
                r = strv_consume(argv, TAKE_PTR(joined));
        free(joined);
        return r;
}

static int render_chardevs(struct vm *vm, struct strv *argv) {
        _cleanup_free_ char *con_path = vm_path(vm, VM_CONSOLE_BACKEND);
        _cleanup_free_ char *agent_path = vm_path(vm, VM_AGENT_SOCKET);
        _cleanup_free_ char *qmp_path = vm_path(vm, VM_CONTROL_SOCKET);
        _cleanup_free_ char *ev_path = vm_path(vm, VM_EVENTS_SOCKET);
        _cleanup_free_ char *con = qopt(con_path), *agent = qopt(agent_path), *qmp = qopt(qmp_path);
        _cleanup_free_ char *ev = qopt(ev_path);
        int r;

        if (!con || !agent || !qmp || !ev)
                return -ENOMEM;
        r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=con0,path=%s,server=on,wait=off", con);
        if (r >= 0)
                r = strv_push(argv, "-serial");
        if (r >= 0)
                r = strv_push(argv, "chardev:con0");
        if (r >= 0)
                r = strv_push(argv, "-qmp");
        if (r >= 0)
                r = strv_pushf(argv, "unix:%s,server=on,wait=off", qmp);
        if (r >= 0)
                r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=qmpev,path=%s,server=on,wait=off", ev);
        if (r >= 0)
                r = strv_push(argv, "-mon");
        if (r >= 0)
                r = strv_push(argv, "chardev=qmpev,mode=control");
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "virtio-serial-pci");
        if (r >= 0)
                r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=agent0,path=%s,server=on,wait=off", agent);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "virtserialport,chardev=agent0,name=org.vmsilo.agent");
        return r;
}

static int qemu_render(struct vm *vm, struct strv *argv) {
        const struct vm_config *c = &vm->config;
        int r;

        r = strv_push(argv, c->qemu_path);
        if (r >= 0)
                r = strv_pushf(argv, "-name");
        if (r >= 0)
                r = strv_pushf(argv, "%s,process=vmsilo-%s", c->name, c->name);
        if (r >= 0)
                r = strv_pushf(argv, "-accel");
        if (r >= 0)
                r = strv_push(argv, vm->accel ? vm->accel : "tcg");
        if (r >= 0)
                r = strv_pushf(argv, "-machine");
        if (r >= 0)
                r = strv_push(argv, c->qemu_machine);
        if (r >= 0)
                r = strv_pushf(argv, "-m");
        if (r >= 0)
                r = strv_pushf(argv, "%lluM", c->memory_mib);
        if (r >= 0)
                r = strv_pushf(argv, "-smp");
        if (r >= 0)
                r = strv_pushf(argv, "%llu", c->cpus);
        {
                static const char *const fixed[] = { "-nodefaults", "-no-user-config", "-display",
                                                     "none", "-no-reboot" };

                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fixed); i++)
                        r = strv_push(argv, fixed[i]);
        }
        /* vhost-user backends need guest RAM they can map */
        if (r >= 0)
                r = strv_push(argv, "-object");
        if (r >= 0)
                r = strv_pushf(argv, "memory-backend-memfd,id=mem,size=%lluM,share=on",
                               c->memory_mib);
        if (r >= 0)
                r = strv_push(argv, "-numa");
        if (r >= 0)
                r = strv_push(argv, "node,memdev=mem");
        if (r >= 0)
                r = render_chardevs(vm, argv);
        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++)
                r = render_device(&vm->desc.devices[i], i, argv);
        if (r >= 0)
                r = strv_push(argv, "-kernel");
        if (r >= 0)
                r = strv_push(argv, c->kernel);
        if (r >= 0 && c->initrd)
                r = strv_push(argv, "-initrd");
        if (r >= 0 && c->initrd)
                r = strv_push(argv, c->initrd);
        if (r >= 0)
                r = render_append(vm, argv);
        if (r >= 0)
                r = strv_extend(argv, &vm->desc.qemu_args);
        if (r >= 0)
                r = strv_extend(argv, &c->qemu_extra_args);
        return r;
}

static int qemu_request_stop(const char *binary, const char *runtime_dir, int hard) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        int r;

        (void) binary;
        if (!sock)
                return -ENOMEM;
        r = qmp_execute(sock, hard ? "quit" : "system_powerdown", 5000);
        if (hard && r == -ECONNRESET)
                return 0; /* quit may close before it answers */
        return r;
}

/* QEMU opens its QMP socket while it parses options, before it builds the machine; its
 * monitor answers only from the main loop, once the vCPUs run. */
static int qemu_is_up(const char *runtime_dir, unsigned timeout_ms) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        char reply[512];

        if (!sock)
                return -ENOMEM;
        if (qmp_query(sock, "query-status", reply, sizeof(reply), timeout_ms) < 0)
                return 0;
        return strstr(reply, "\"running\": true") != NULL;
}

static int qemu_resume(const char *binary, const char *runtime_dir) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);

        (void) binary;
        if (!sock)
                return -ENOMEM;
        return qmp_execute(sock, "cont", 5000);
}

static char *qemu_agent_address(const struct vm *vm) {
        return strdup_printf("unix:%s/%s", vm->runtime_dir, VM_AGENT_MUX_SOCKET);
}

const struct backend qemu_backend = {
        .name = "qemu",
        .vmm = VMSILO_VMM_QEMU,
        .console_vmm_listens = 1,
        .agent_via_port = 1,
        .binary = qemu_binary,
        .probe = qemu_probe,
        .preflight = qemu_preflight,
        .render = qemu_render,
        .has = qemu_has,
        .agent_address = qemu_agent_address,
        .request_stop = qemu_request_stop,
        .is_up = qemu_is_up,
        .resume = qemu_resume,
        .events = 1,
};
