/* SPDX-License-Identifier: MIT */
/*
 * The crosvm backend: renders what vmsilo's launcher script renders for one VM, spelled as
 * the probed binary (upstream or vmsilo's patched fork) wants it: crosvm's argument grammar
 * is argh plus serde_keyvalue (src/crosvm/cmdline.rs upstream); tests/fake-crosvm enforces it.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "plugin/vm.h"
#include "util/log.h"
#include "util/process.h"
#include "vmsilo/plugin.h"

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
                return log_error_errno(errno, "failed to probe '%s' with 'run --help': %s", bin,
                                       probe_failure());
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

/* Capabilities (plugin.h, vmm_can) as crosvm flags: `flag`, or else `alt`. */
static const struct capability {
        const char *name;
        const char *flag;
        const char *alt;
        const char *missing;
} capabilities[] = {
        { "gpu", "--gpu", NULL, "crosvm has no '--gpu'" },
        { "gpu opengl", "--gpu", NULL, "crosvm has no '--gpu'" },
        { "gpu wayland", "--wayland-security-context", "--wayland-sock",
          "crosvm has neither '--wayland-security-context' nor '--wayland-sock'" },
        { "gpu wayland security context", "--wayland-security-context", NULL,
          "crosvm has no '--wayland-security-context'" },
        { "gpu wayland socket", "--wayland-sock", NULL, "crosvm has no '--wayland-sock'" },
        { "gpu vulkan", "--gpu-render-server", NULL, "crosvm has no '--gpu-render-server'" },
        /* the key only vmsilo's patched crosvm lists for --virtio-snd */
        { "sound pulse backend", "virtio-snd:pulse_socket_path", NULL,
          "crosvm has no PipeWire/Pulse backend for '--virtio-snd'" },
        { "vhost-user sound", "--vhost-user", NULL, "crosvm has no '--vhost-user'" },
        { "vhost-user fs", "--vhost-user", NULL, "crosvm has no '--vhost-user'" },
        /* crosvm reads the tag from the backend; QEMU has it on the device */
        { "vhost-user fs backend tag", "--vhost-user", NULL, "crosvm has no '--vhost-user'" },
        { "shared dir", "--shared-dir", NULL, "crosvm has no '--shared-dir'" },
        { "net tap name", "--net", NULL, "crosvm has no '--net'" },
        { "vfio guest address", "--vfio", NULL, "crosvm has no '--vfio'" },
        { "vfio iommu", "--vfio", NULL, "crosvm has no '--vfio'" },
};

static int crosvm_can(const struct vm *vm, const char *capability, char *missing, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(capabilities); i++) {
                const struct capability *c = &capabilities[i];

                if (!streq(c->name, capability))
                        continue;
                if (crosvm_has(vm, c->flag) || (c->alt && crosvm_has(vm, c->alt)))
                        return 1;
                snprintf(missing, size, "%s", c->missing);
                return 0;
        }
        snprintf(missing, size, "the crosvm backend knows no capability '%s'", capability);
        return 0;
}

/* --wayland-sock takes a plain path, which crosvm splits at ','; --shared-dir splits at ':'
 * and cannot make a share read-only. */
static int crosvm_check(const struct vm *vm, const struct vm_device *d, char *missing,
                        size_t size) {
        if (d->type == VMSILO_DEVICE_SHARED_DIR && (strchr(d->path, ':') || strchr(d->tag, ':'))) {
                snprintf(
                        missing, size,
                        "the shared directory '%s' contains ':', which crosvm's '--shared-dir' cannot carry",
                        d->path);
                return 0;
        }
        if (d->type == VMSILO_DEVICE_SHARED_DIR && (d->flags & VMSILO_DEVICE_RO)) {
                snprintf(missing, size, "crosvm's '--shared-dir' cannot make '%s' read-only",
                         d->path);
                return 0;
        }
        int sock = !(d->features & VMSILO_GPU_NO_SECURITY_CONTEXT) &&
                                   crosvm_has(vm, "--wayland-security-context")
                           ? 0
                           : 1;

        if (d->type != VMSILO_DEVICE_GPU || !(d->features & VMSILO_GPU_WAYLAND) || !sock ||
            !strchr(strempty(d->server), ','))
                return 1;
        snprintf(
                missing, size,
                "the Wayland socket '%s' contains ',', which crosvm's '--wayland-sock' cannot take; use a path without ','",
                d->server);
        return 0;
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

static int render_vfio(const struct vm_device *d, struct strv *argv) {
        static const char *const iommu[] = { "", "off", "viommu", "coiommu", "pkvm-iommu" };
        char rest[128] = "";

        if (d->options)
                return push_kv(argv, "--vfio", NULL, d->path, d->options);
        snprintf(rest, sizeof(rest), "%s%s%s%s", d->pci_address ? ",guest-address=" : "",
                 strempty(d->pci_address), d->iommu ? ",iommu=" : "",
                 d->iommu < ELEMENTSOF(iommu) ? iommu[d->iommu] : "");
        return push_kv(argv, "--vfio", NULL, d->path, rest[0] ? rest + 1 : NULL);
}

static int render_gpu(const struct vm_device *d, struct strv *argv) {
        uint32_t f = d->features;

        if (d->options)
                return strv_pushf(argv, "--gpu=%s", d->options);
        return strv_pushf(
                argv, "--gpu=context-types=%s%s%s%s%s",
                f & VMSILO_GPU_WAYLAND ? "cross-domain" : "",
                f & VMSILO_GPU_WAYLAND && f & VMSILO_GPU_OPENGL ? ":" : "",
                f & VMSILO_GPU_OPENGL ? "virgl2" : "",
                f & (VMSILO_GPU_WAYLAND | VMSILO_GPU_OPENGL) && f & VMSILO_GPU_VULKAN ? ":" : "",
                f & VMSILO_GPU_VULKAN ? "venus" : "");
}

/* The GPU's other flags: the render server, then the compositor socket. */
static int render_gpu_extras(struct vm *vm, const struct vm_device *d, struct strv *argv) {
        _cleanup_free_ char *helper = kv_quote(d->helper), *server = kv_quote(d->server);
        _cleanup_free_ char *app_id = kv_quote(d->app_id);
        int r = 0;

        if (!helper || !server || !app_id)
                return -ENOMEM;
        if (d->features & VMSILO_GPU_VULKAN)
                r = strv_pushf(argv, "--gpu-render-server=path=%s", helper);
        if (r < 0 || !(d->features & VMSILO_GPU_WAYLAND))
                return r;
        if (!(d->features & VMSILO_GPU_NO_SECURITY_CONTEXT) &&
            crosvm_has(vm, "--wayland-security-context"))
                return strv_pushf(argv, "--wayland-security-context=wayland_socket=%s,app_id=%s",
                                  server, app_id);
        /* a plain path: this flag is not key=value; the check refused a ',' in it */
        return strv_pushf(argv, "--wayland-sock=%s", strempty(d->server));
}

/* SRC:TAG:type=fs:KEY=VALUE... (no quoting exists: the check refused a ':') */
static int render_shared_dir(const struct vm_device *d, struct strv *argv) {
        const char *cache = d->features & VMSILO_FS_CACHE_NEVER    ? "never"
                            : d->features & VMSILO_FS_CACHE_ALWAYS ? "always"
                                                                   : "auto";

        return strv_pushf(argv, "--shared-dir=%s:%s:type=fs:cache=%s:posix_acl=%s", d->path, d->tag,
                          cache, d->features & VMSILO_FS_POSIX_ACL ? "true" : "false");
}

static int render_sound(const struct vm_device *d, struct strv *argv) {
        _cleanup_free_ char *server = kv_quote(d->server), *cookie = kv_quote(d->cookie);

        if (d->options)
                return strv_pushf(argv, "--virtio-snd=%s", d->options);
        if (!server || !cookie)
                return -ENOMEM;
        return strv_pushf(
                argv,
                "--virtio-snd=backend=pulse,capture=%s,pulse_socket_path=%s,pulse_cookie_path=%s",
                d->features & VMSILO_SOUND_CAPTURE ? "true" : "false", server, cookie);
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
                return render_vfio(d, argv);
        case VMSILO_DEVICE_GPU:
                return render_gpu(d, argv);
        case VMSILO_DEVICE_SOUND:
                return render_sound(d, argv);
        case VMSILO_DEVICE_SHARED_DIR:
                return 0; /* with the extras, after --socket */
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
        /* where plugins' raw arguments used to go, in declaration order */
        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++)
                if (vm->desc.devices[i].type == VMSILO_DEVICE_GPU && !vm->desc.devices[i].options)
                        r = render_gpu_extras(vm, &vm->desc.devices[i], argv);
                else if (vm->desc.devices[i].type == VMSILO_DEVICE_SHARED_DIR)
                        r = render_shared_dir(&vm->desc.devices[i], argv);
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
        .can = crosvm_can,
        .check = crosvm_check,
        .agent_address = crosvm_agent_address,
        .request_stop = crosvm_request_stop,
        .is_up = crosvm_is_up,
};
