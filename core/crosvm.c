/* SPDX-License-Identifier: MIT */
/*
 * The crosvm backend: renders what vmsilo's launcher script renders for one VM, spelled as
 * the probed binary (upstream or vmsilo's patched fork) wants it: crosvm's argument grammar
 * is argh plus serde_keyvalue (src/crosvm/cmdline.rs upstream); tests/fake-crosvm enforces it.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "../sdk/vmsilo/plugin.h"
#include "backend.h"
#include "log.h"
#include "process.h"
#include "vm.h"

static const char *crosvm_binary(const struct vm *vm) {
        return vm->config.crosvm_path;
}

static int crosvm_probe(struct vm *vm) {
        _cleanup_free_ char *bin = find_binary(vm->config.crosvm_path);
        const char *top[] = { NULL, "--help", NULL };
        const char *run[] = { NULL, "run", "--help", NULL };

        if (!bin)
                return log_error_errno(
                        ENOENT,
                        "crosvm binary '%s' not found%s; install crosvm or set 'path =' in [crosvm]",
                        vm->config.crosvm_path,
                        strchr(vm->config.crosvm_path, '/') ? "" : " in $PATH");
        top[0] = run[0] = bin;
        vm->probe_top = probe_cached(vm->settings->cache_dir, bin, top, NULL);
        if (vm->probe_top)
                vm->probe_run = probe_cached(vm->settings->cache_dir, bin, run, NULL);
        if (!vm->probe_top || !vm->probe_run) {
                free(vm->probe_top);
                vm->probe_top = NULL;
                return log_error_errno(errno, "failed to probe '%s' with 'run --help': %m", bin);
        }
        return 0;
}

/* "--flag" is looked up in both help texts; "serial:key" (a key of a flag) in the run text. */
static int crosvm_has(const struct vm *vm, const char *flag) {
        const char *colon = strchr(flag, ':');

        if (!vm->probe_top)
                return 0;
        if (colon)
                return text_has_token(vm->probe_run, colon + 1);
        return text_has_token(vm->probe_run, flag) || text_has_token(vm->probe_top, flag);
}

struct switch_flag {
        const char *flag;
        size_t offset;
        const char *key;
};

static const struct switch_flag switches[] = {
        { "--hugepages", offsetof(struct vm_config, hugepages), "hugepages" },
        { "--balloon-page-reporting", offsetof(struct vm_config, balloon_page_reporting),
          "balloon-page-reporting" },
        { "--boost-uclamp", offsetof(struct vm_config, boost_uclamp), "boost-uclamp" },
        { "--disable-virtio-intx", offsetof(struct vm_config, disable_virtio_intx),
          "disable-virtio-intx" },
        { "--no-i8042", offsetof(struct vm_config, no_i8042), "no-i8042" },
        { "--no-rtc", offsetof(struct vm_config, no_rtc), "no-rtc" },
        { "--s2idle", offsetof(struct vm_config, s2idle), "s2idle" },
};

static int switch_on(const struct vm *vm, const struct switch_flag *s) {
        return *(const int *) ((const char *) &vm->config + s->offset);
}

static int crosvm_preflight(struct vm *vm) {
        const char *bin = vm->config.crosvm_path;
        int failures = 0;

        for (size_t i = 0; i < ELEMENTSOF(switches); i++)
                if (switch_on(vm, &switches[i]) && !crosvm_has(vm, switches[i].flag)) {
                        log_error(
                                "crosvm '%s' has no '%s': set '%s = no' in [vm] or install a crosvm that has it",
                                bin, switches[i].flag, switches[i].key);
                        failures++;
                }
        if (vm->config.sched_isolation != SCHED_ISOLATION_VM &&
            !crosvm_has(vm, "--core-scheduling")) {
                log_error(
                        "crosvm '%s' has no '--core-scheduling': set 'scheduler-isolation = vm' in [vm] or install crosvm from 2023-06 or later",
                        bin);
                failures++;
        }
        if (vm->config.sched_isolation == SCHED_ISOLATION_VM &&
            !crosvm_has(vm, "--per-vm-core-scheduling")) {
                log_error(
                        "crosvm '%s' has no '--per-vm-core-scheduling': set 'scheduler-isolation = full' or 'off' in [vm]",
                        bin);
                failures++;
        }
        return failures;
}

static int push_kv(struct strv *argv, const char *flag, const char *key, const char *value,
                   const char *rest) {
        _cleanup_free_ char *q = kv_quote(value);

        if (!q)
                return -ENOMEM;
        return strv_pushf(argv, "%s=%s%s%s%s%s", flag, strempty(key), key ? "=" : "", q,
                          rest ? "," : "", strempty(rest));
}

/* Appends ",key=value[,rest]" to the last argv element. */
static int append_kv(struct strv *argv, const char *key, const char *value, const char *rest) {
        _cleanup_free_ char *q = kv_quote(strempty(value));
        char *last = argv->items[argv->n - 1], *n;

        if (!q)
                return -ENOMEM;
        n = strdup_printf("%s,%s=%s%s%s", last, key, q, rest ? "," : "", strempty(rest));
        if (!n)
                return -ENOMEM;
        free(last);
        argv->items[argv->n - 1] = n;
        return 0;
}

static int render_top(struct vm *vm, struct strv *argv) {
        int r;

        r = strv_push(argv, vm->config.crosvm_path);
        if (r >= 0)
                r = strv_pushf(argv, "--log-level=%s", vm->config.crosvm_log_level);
        if (r >= 0 && crosvm_has(vm, "--no-syslog"))
                r = strv_push(argv, "--no-syslog");
        if (r >= 0 && crosvm_has(vm, "--no-timestamps"))
                r = strv_push(argv, "--no-timestamps");
        if (r >= 0)
                r = strv_extend(argv, &vm->config.crosvm_extra_args);
        if (r >= 0)
                r = strv_push(argv, "run");
        return r;
}

static int render_machine(struct vm *vm, struct strv *argv) {
        const struct vm_config *c = &vm->config;
        int r;

        r = strv_pushf(argv, "--name=%s", c->name);
        if (r >= 0)
                r = strv_pushf(argv, "--mem=%llu", c->memory_mib);
        if (r >= 0)
                r = strv_pushf(argv, "--cpus=%llu", c->cpus);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(switches); i++)
                if (switch_on(vm, &switches[i]))
                        r = strv_push(argv, switches[i].flag);
        if (r < 0)
                return r;
        switch (c->sched_isolation) {
        case SCHED_ISOLATION_FULL:
                return strv_push(argv, "--core-scheduling=true");
        case SCHED_ISOLATION_VM:
                return strv_push(argv, "--per-vm-core-scheduling");
        default:
                return strv_push(argv, "--core-scheduling=false");
        }
}

static int render_console(struct vm *vm, struct strv *argv) {
        _cleanup_free_ char *path = vm_path(vm, VM_CONSOLE_BACKEND);
        const char *extra = crosvm_has(vm, "serial:stream-non-blocking")
                                    ? "console,input-unix-stream,stream-non-blocking"
                                    : "console,input-unix-stream";
        _cleanup_free_ char *q = NULL;

        if (!path)
                return -ENOMEM;
        q = kv_quote(path);
        if (!q)
                return -ENOMEM;
        return strv_pushf(argv, "--serial=type=unix-stream,hardware=virtio-console,path=%s,%s", q,
                          extra);
}

static int render_disk(struct vm *vm, const struct vm_device *d, struct strv *argv) {
        int ro = !!(d->flags & VMSILO_DEVICE_RO), root = !!(d->flags & VMSILO_DEVICE_ROOT);
        _cleanup_free_ char *q = kv_quote(d->path), *id = d->id ? kv_quote(d->id) : NULL;
        const char *flag = "--block";
        char extra[64] = "";

        if (!q || (d->id && !id))
                return -ENOMEM;
        if (!crosvm_has(vm, "--block")) /* before 2022-10: the deprecated family */
                flag = root ? (ro ? "--root" : "--rwroot") : (ro ? "--disk" : "--rwdisk");
        else
                snprintf(extra, sizeof(extra), "%s%s", ro ? ",ro=true" : "",
                         root ? ",root=true" : "");
        return strv_pushf(argv, "%s=path=%s%s%s%s%s%s%s%s%s", flag, q, extra,
                          d->flags & VMSILO_DEVICE_NO_PACKED ? "" : ",packed-queue=true",
                          d->flags & VMSILO_DEVICE_NO_DIRECT ? "" : ",direct=true",
                          d->flags & VMSILO_DEVICE_NO_SPARSE ? ",sparse=false" : "",
                          id ? ",id=" : "", strempty(id), d->options ? "," : "",
                          strempty(d->options));
}

static int render_net(const struct vm_device *d, struct strv *argv) {
        _cleanup_free_ char *name = d->name ? kv_quote(d->name) : NULL;
        char mac[64] = "", pci[64] = "";

        if (d->name && !name)
                return -ENOMEM;
        if (d->mac)
                snprintf(mac, sizeof(mac), ",mac=\"%s\"", d->mac);
        if (d->pci_address)
                snprintf(pci, sizeof(pci), ",pci-address=%s", d->pci_address);
        if (d->fd >= 0 && !d->name)
                return strv_pushf(argv, "--net=tap-fd=%d%s%s", d->fd, mac, pci);
        return strv_pushf(argv, "--net=tap-name=%s%s%s", strempty(name), mac, pci);
}

static int render_device(struct vm *vm, const struct vm_device *d, struct strv *argv) {
        switch (d->type) {
        case VMSILO_DEVICE_DISK:
                return render_disk(vm, d, argv);
        case VMSILO_DEVICE_NET:
                return render_net(d, argv);
        case VMSILO_DEVICE_VHOST_USER:
                return push_kv(argv, "--vhost-user", NULL, d->kind, NULL) < 0
                               ? -ENOMEM
                               : append_kv(argv, "socket", d->socket, d->options);
        case VMSILO_DEVICE_VFIO:
                return push_kv(argv, "--vfio", NULL, d->path, d->options);
        case VMSILO_DEVICE_GPU:
                return strv_pushf(argv, "--gpu=%s", strempty(d->options));
        case VMSILO_DEVICE_SOUND:
                return strv_pushf(argv, "--virtio-snd=%s", strempty(d->options));
        }
        return -EINVAL;
}

static int render_devices(struct vm *vm, struct strv *argv, int disks) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++) {
                const struct vm_device *d = &vm->desc.devices[i];

                if ((d->type == VMSILO_DEVICE_DISK) == !!disks)
                        r = render_device(vm, d, argv);
        }
        return r;
}

static int render_params(struct vm *vm, struct strv *argv) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < vm->desc.kernel_params.n; i++) {
                const char *p = vm->desc.kernel_params.items[i];

                if (p[0] == '-')
                        return log_error_errno(
                                EINVAL,
                                "kernel parameter '%s' starts with '-', which crosvm would read as an option",
                                p);
                r = strv_pushf(argv, "--params=%s", p);
        }
        return r;
}

static int crosvm_render(struct vm *vm, struct strv *argv) {
        _cleanup_free_ char *control = vm_path(vm, VM_CONTROL_SOCKET);
        int r;

        if (!control)
                return -ENOMEM;
        r = render_top(vm, argv);
        if (r >= 0)
                r = render_machine(vm, argv);
        if (r >= 0 && vm->config.initrd)
                r = strv_pushf(argv, "--initrd=%s", vm->config.initrd);
        if (r >= 0)
                r = render_console(vm, argv);
        if (r >= 0)
                r = render_devices(vm, argv, 1);
        if (r >= 0)
                r = render_params(vm, argv);
        if (r >= 0)
                r = crosvm_has(vm, "--vsock") ? strv_pushf(argv, "--vsock=cid=%u", vm->config.id)
                                              : strv_pushf(argv, "--cid=%u", vm->config.id);
        if (r >= 0)
                r = render_devices(vm, argv, 0);
        if (r >= 0)
                r = strv_pushf(argv, "--socket=%s", control);
        if (r >= 0)
                r = strv_extend(argv, &vm->desc.crosvm_args);
        if (r >= 0)
                r = strv_extend(argv, &vm->config.crosvm_extra_run_args);
        if (r >= 0)
                r = strv_push(argv, vm->config.kernel);
        return r;
}

static int crosvm_request_stop(const char *binary, const char *runtime_dir, int hard) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        _cleanup_free_ char *out = NULL;
        const char *argv[] = { binary, hard ? "stop" : "powerbtn", sock, NULL };
        int r;

        if (!sock)
                return -ENOMEM;
        r = process_capture((char *const *) argv, &out, 4096, 10000);
        if (r < 0)
                return r;
        return r == 0 ? 0 : -EIO;
}

/* crosvm has no status request its control socket answers in every version: up once the
 * socket exists (it binds it after it parsed and checked its command line). */
static int crosvm_is_up(const char *runtime_dir, unsigned timeout_ms) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        struct stat st;

        (void) timeout_ms;
        if (!sock)
                return -ENOMEM;
        return stat(sock, &st) == 0 && S_ISSOCK(st.st_mode);
}

static char *crosvm_agent_address(const struct vm *vm) {
        return strdup_printf("vsock:%u:%u", vm->config.id, VMSILO_AGENT_VSOCK_PORT);
}

const struct backend crosvm_backend = {
        .name = "crosvm",
        .vmm = VMSILO_VMM_CROSVM,
        .console_vmm_listens = 0,
        .binary = crosvm_binary,
        .probe = crosvm_probe,
        .preflight = crosvm_preflight,
        .render = crosvm_render,
        .has = crosvm_has,
        .agent_address = crosvm_agent_address,
        .request_stop = crosvm_request_stop,
        .is_up = crosvm_is_up,
};
